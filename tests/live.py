"""A real ``pychami serve`` process on a free loopback port, for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue_token(data: Path, *scopes: str) -> str:
    """A 2-hour token (default scope admin) from the local issuer of the server using ``data``."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pychami.cli.pychami",
            "token",
            "create",
            "--data-dir",
            str(data),
            "--sub",
            "bench",
            *[a for s in scopes or ("admin",) for a in ("--scope", s)],
            "--ttl",
            "2h",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


class Server:
    """A running ``pychami serve`` subprocess."""

    def __init__(self, proc: subprocess.Popen[bytes], base: str, data: Path, log: Path) -> None:
        self.proc = proc
        self.base = base
        self.data = data
        self.log = log
        """The server's stdout and stderr."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def token(self, *scopes: str) -> str:
        return issue_token(self.data, *scopes)


def _healthy(url: str, netns: str | None) -> bool:
    """GET ``url`` (from inside ``netns`` when given); True on 200."""

    def probe() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    if netns is None:
        return probe()
    from tests.netboot.netns import entered

    # setns(2) is per thread: probe from a short-lived thread so this one stays where it is.
    result: list[bool] = []

    def run() -> None:
        with entered(netns):
            result.append(probe())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return bool(result and result[0])


@contextmanager
def pychami_server(
    data: Path,
    db: str | None = None,
    extra: Sequence[str] = (),
    *,
    listen: str | None = None,
    netns: str | None = None,
    log_level: str = "WARNING",
) -> Iterator[Server]:
    """Start ``pychami serve`` (on a free loopback port, or ``listen``; inside ``netns`` when given)."""
    listen = listen or f"127.0.0.1:{free_port()}"
    port = int(listen.rsplit(":", 1)[1])
    cmd = [
        *(["ip", "netns", "exec", netns] if netns else []),
        sys.executable,
        "-m",
        "pychami.cli.pychami",
        "serve",
        "--listen",
        listen,
        "--data-dir",
        str(data),
        "--log-level",
        log_level,
        *extra,
    ]
    if db:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pychami.cli.pychami",
                "db",
                "upgrade",
                "--db",
                db,
                "--data-dir",
                str(data),
            ],
            check=True,
            capture_output=True,
        )
        cmd += ["--db", db]
    log = (data.parent / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    base = f"http://{listen}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if _healthy(f"{base}/healthz", netns):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                log.flush()
                raise RuntimeError(
                    f"server did not start ({log.name}):\n{Path(log.name).read_text()[-4000:]}"
                )
            time.sleep(0.2)
        yield Server(proc, base, data, Path(log.name))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
