"""Run the pychami server for the BSS benchmark as ``pychami serve`` runs it (uvloop + httptools with
the node lane, no access log), with ``--workers`` processes.

``PYCHAMI_*`` settings come from the environment (data dir, database, advertise URL).
"""

from __future__ import annotations

import argparse

from pychami.core.logs import configure_logging
from pychami.core.settings import load_settings
from pychami.server import serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = load_settings(log_level="WARNING", listen=f"127.0.0.1:{args.port}", workers=args.workers)
    configure_logging(settings.log_level, settings.log_format)
    serve(settings)


if __name__ == "__main__":
    main()
