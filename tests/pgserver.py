"""A throwaway PostgreSQL cluster for the test session, from the installed server binaries."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg


def _bindir() -> Path | None:
    if os.environ.get("PYCHAMI_PG_BINDIR"):
        return Path(os.environ["PYCHAMI_PG_BINDIR"])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    base = Path("/usr/lib/postgresql")
    versions = sorted(base.glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_cluster(*, durable: bool = False, unix_socket: bool = False) -> Iterator[str]:
    """Yield a superuser URL of a fresh cluster on a loopback port; remove it afterwards.

    PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` system user.
    ``durable``: fsync and synchronous commit on, as in production (tests run without them, for speed).
    ``unix_socket``: the URL names the cluster's Unix socket, reachable from other network namespaces.
    """
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    run_as: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="pychami-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(workdir, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = workdir / "data"
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(workdir / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    if unix_socket:
        url = f"postgresql://postgres@/postgres?host={workdir}&port={port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with psycopg.connect(url, connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
            env=env,
        )
        shutil.rmtree(workdir, ignore_errors=True)
