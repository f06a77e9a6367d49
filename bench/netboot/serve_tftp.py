"""pychami's TFTP server alone (for tftp_bench.py inside a netns). usage: serve_tftp.py ROOT HOST"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from pychami.core.logs import configure_logging
from pychami.netboot.events import ListEvents
from pychami.netboot.tftp.server import TftpServer


class NullEvents(ListEvents):
    def record(self, stage: str, source: str, **_: object) -> None:  # type: ignore[override]
        return None


async def main() -> None:
    configure_logging("WARNING", "console")
    server = TftpServer(Path(sys.argv[1]), NullEvents(), host=sys.argv[2], port=69)
    await server.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(main())
