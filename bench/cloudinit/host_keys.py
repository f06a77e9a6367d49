"""CPU per phone-home write: host-key upserts in transactions of 1 and of 50 rows (SQLite, a fresh data
directory), as the group-commit writer issues them.

    .venv/bin/python -m bench.cloudinit.host_keys [--rows 1,50] [--transactions 1000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from pychami.cloudinit.models import HostKeys
from pychami.cloudinit.repository import CloudInitRepository
from pychami.core.settings import load_settings
from pychami.server import open_database, upgrade_schema


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1,50", help="rows per transaction, comma-separated")
    parser.add_argument("--transactions", type=int, default=1000, help="transactions of one row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hostkeys-") as tmp:
        db = open_database(load_settings(data_dir=Path(tmp)))
        upgrade_schema(db)
        repo = CloudInitRepository()
        keys = HostKeys(pub_key_ed25519="ssh-ed25519 AAAA", hostname="n", fqdn="n.c", instance_id="i")
        print("| rows per transaction | transactions | CPU ms per transaction | wall ms per transaction |")
        print("|---:|---:|---:|---:|")
        for size in (int(r) for r in args.rows.split(",")):
            count = max(10, args.transactions // size)
            wall, used = time.perf_counter(), cpu()
            for t in range(count):
                with db.transaction() as conn:
                    repo.put_many_host_keys(conn, [(f"x{t}n{j}", "10.0.0.1", keys) for j in range(size)])
            wall, used = time.perf_counter() - wall, cpu() - used
            print(f"| {size} | {count} | {used / count * 1e3:.3f} | {wall / count * 1e3:.3f} |")
        db.dispose()


if __name__ == "__main__":
    main()
