"""``python -m pychami.cli.ochami``."""

from pychami.cli.ochami.main import main

main()
