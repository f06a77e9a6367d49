"""Run the pychami app for the BSS benchmark: uvicorn with uvloop + httptools, no access log.

``PYCHAMI_*`` settings come from the environment (data dir, database, advertise URL), so several
workers can build the same app through the factory.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from pychami.core.logs import configure_logging
from pychami.core.settings import load_settings
from pychami.server import create_app


def factory() -> FastAPI:
    settings = load_settings(log_level="WARNING")
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, migrate_schema=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "bench.bss.serve:factory",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        log_config=None,
    )


if __name__ == "__main__":
    main()
