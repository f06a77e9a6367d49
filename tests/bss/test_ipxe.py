"""The pure iPXE renderer: parameter assembly rules in isolation."""

from __future__ import annotations

import pytest

from pychami.bss.ipxe import BootConfig, ScriptOptions, assemble_params, bootif, known_script, unknown_script

DS = "nocloud-net;s=http://h/cloud-init/"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (BootConfig("k", "", ""), "xname=x1 nid=7 ds=" + DS),
        # Upstream keeps the space it put before xname=, so empty params give a double space.
        (BootConfig("k", "i", ""), "initrd=initrd  xname=x1 nid=7 ds=" + DS),
        (BootConfig("k", "i", "a initrd=old b"), "initrd=initrd a  b xname=x1 nid=7 ds=" + DS),
        (BootConfig("k", "i", "a rd.initrd=old"), "initrd=initrd a  xname=x1 nid=7 ds=" + DS),
        (BootConfig("k", "", "a initrd=old"), "a initrd=old xname=x1 nid=7 ds=" + DS),
        (BootConfig("k", "i", "nid=3 ds=other xname=y"), "initrd=initrd nid=3 ds=other xname=y"),
    ],
)
def test_assemble_params(config: BootConfig, expected: str) -> None:
    """Appends only missing keys, swaps the first initrd token for initrd=initrd only with an initrd."""
    assert assemble_params(config, xname="x1", nid="7", boot_mac=None, datasource=DS) == expected


def test_initrd_token_last_does_not_fail() -> None:
    """An initrd token at the very end (where upstream would index past the string) is removed."""
    config = BootConfig("k", "i", "ds=x initrd=old")
    assert assemble_params(config, xname="", nid="", boot_mac=None, datasource=DS) == "initrd=initrd ds=x"


def test_bootif_and_empty_values() -> None:
    """BOOTIF is 01- plus the hyphenated lower-case MAC; empty xname/nid are not appended."""
    assert bootif("52:54:00:BE:EF:01") == "01-52-54-00-be-ef-01"
    got = assemble_params(BootConfig("k"), xname="", nid="", boot_mac="52:54:00:be:ef:01", datasource="")
    assert got == "BOOTIF=01-52-54-00-be-ef-01"


def test_scripts_end_with_newline_and_use_options() -> None:
    """Known and unknown scripts use the configured delays and chain URL."""
    opts = ScriptOptions(chain_url="https://gw/apis/bss", retry_delay=3, unknown_delay=4, datasource=DS)
    known = known_script(
        BootConfig("http://k"), xname="x1", nid="1", boot_mac=None, chain_key="name=x1", retry=0, options=opts
    )
    assert known.endswith("sleep 3\nchain https://gw/apis/bss/boot/v1/bootscript?name=x1&retry=1\n")
    assert unknown_script("nid=5", 10, opts) == (
        "#!ipxe\nsleep 4\nchain https://gw/apis/bss/boot/v1/bootscript?nid=5&arch=${buildarch}&ts=10\n"
    )
