"""magellan CLI over plain-HTTP fake BMCs: crawl, list --cache-info, collect -O, config file, progress."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from pychami.cli.magellan import main
from tests.discovery.fakebmc import FakeBMC, load_tree, serving


def test_crawl_prints_systems_managers_and_skipped() -> None:
    """crawl URI reads one BMC and reports its skipped items on stderr."""
    with serving(FakeBMC("127.0.0.141", load_tree("hpe_ilo"), auth=("admin", "pw"))) as bmc:
        res = CliRunner().invoke(main, ["crawl", bmc.base_url, "-u", "admin", "-p", "pw", "-F", "yaml"])
    assert res.exit_code == 0, res.stderr
    doc = yaml.safe_load(res.stdout)
    assert doc["systems"][0]["model"] == "ProLiant DL360 Gen10"
    assert doc["managers"][0]["ethernet_interfaces"][0]["mac"] == "94:40:c9:ab:cd:ef"
    assert "skipped /redfish/v1/Systems/1/: system has no EthernetInterfaces" in res.stderr


def test_crawl_with_wrong_credentials_is_one_error_line() -> None:
    """A refused crawl ends with 'Error: <host>: ... rejected the credentials' and exit 1, no traceback."""
    with serving(FakeBMC("127.0.0.142", load_tree("hpe_ilo"), auth=("admin", "pw"))) as bmc:
        res = CliRunner().invoke(main, ["crawl", bmc.base_url, "-u", "admin", "-p", "bad"])
    assert res.exit_code == 1
    # Systems and Managers are crawled concurrently: whichever is refused first is reported.
    pattern = rf"Error: {re.escape(bmc.base_url)}: GET /redfish/v1/(Systems|Managers)/: HTTP 401"
    assert re.match(pattern, res.stderr)
    assert res.stderr.count("\n") == 1


def test_scan_collect_to_a_directory_with_config_file_and_progress(tmp_path: Path) -> None:
    """-c config.yaml options apply, --progress leaves stdout alone, -O writes one file per BMC."""
    config = tmp_path / "magellan.yaml"
    config.write_text(yaml.safe_dump({"cache": str(tmp_path / "assets.db"), "timeout": 2}))
    runner = CliRunner()
    with (
        serving(FakeBMC("127.0.0.143", load_tree("dell_idrac"), auth=("admin", "pw"))) as dell,
        serving(FakeBMC("127.0.0.144", load_tree("hpe_ilo"), auth=("admin", "pw"))) as hpe,
    ):
        hosts = [dell.base_url, hpe.base_url]
        scan = runner.invoke(main, ["-c", str(config), "--progress", "scan", *hosts])
        assert scan.exit_code == 0, scan.stderr
        assert len(json.loads(scan.stdout)) == 2
        info = runner.invoke(main, ["-c", str(config), "list", "--cache-info", "-F", "json"])
        assert json.loads(info.stdout) == {"path": str(tmp_path / "assets.db"), "assets": 2, "collected": 0}
        out = tmp_path / "out"
        res = runner.invoke(
            main,
            [
                "-c",
                str(config),
                "--progress",
                "collect",
                "-u",
                "admin",
                "-p",
                "pw",
                "-O",
                str(out),
                "-F",
                "yaml",
            ],
        )
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    files = sorted(p.name for p in out.iterdir())
    assert files == ["x4064c0s127b143.yaml", "x4064c0s127b144.yaml"]
    assert yaml.safe_load((out / files[0]).read_text())["MACAddr"] == "b0:7b:25:aa:00:01"
    info = runner.invoke(main, ["-c", str(config), "list", "--cache-info"])
    assert info.stdout.strip().endswith("assets=2 collected=2")


def test_entry_point_runs_as_a_subprocess() -> None:
    """The installed console script answers --help and exits 2 with a usage error on a bad flag."""
    magellan = Path(sys.executable).parent / "magellan"
    ok = subprocess.run([magellan, "scan", "--help"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0
    assert "--subnet-mask" in ok.stdout
    bad = subprocess.run([magellan, "scan", "--port", "0"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "Invalid value for '--port'" in bad.stderr
