"""iPXE boot scripts as BSS writes them: a pure renderer (no I/O, no clock, no lookups).

The caller resolves the node and its boot configuration; these functions only assemble text, following
the rules of upstream BSS (compat spec §2.4):

1. start with the stored ``params``;
2. append `` xname=<ID>``, `` nid=<NID>``, `` BOOTIF=01-<mac>`` (only when the request named a MAC) and
   `` ds=<datasource>``, each unless a token starting with that key is already present;
3. with an initrd: drop the first token containing ``initrd`` and put ``initrd=initrd`` first;
4. no ``initrd`` line without an initrd; the retry chain counts up without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BOOTSCRIPT_PATH = "/boot/v1/bootscript"


@dataclass(frozen=True, slots=True)
class BootConfig:
    """What a node boots: kernel and initrd URLs and the kernel command line."""

    kernel: str
    initrd: str = ""
    params: str = ""


@dataclass(frozen=True, slots=True)
class ScriptOptions:
    """Deployment settings that appear in scripts."""

    #: Base URL the ``chain`` lines point at (``<proto>://<server><gw-uri>``), without a trailing slash.
    chain_url: str
    #: Seconds a node waits before asking again after a failed boot.
    retry_delay: int = 30
    #: Seconds an unknown node waits before asking again.
    unknown_delay: int = 10
    #: Value appended as ``ds=<datasource>`` unless the params already carry a ``ds=``.
    datasource: str = ""


def param_exists(params: str, key: str) -> bool:
    """True when a space-separated token of ``params`` starts with ``key`` (e.g. ``"xname="``)."""
    # Same as testing every token of params.split(" "), without building the list (hot path).
    return params.startswith(key) or f" {key}" in params


def check_param(params: str, key: str, value: str) -> str:
    """Append `` <key><value>`` unless ``value`` is empty or a token starting with ``key`` exists."""
    if value and not param_exists(params, key):
        return f"{params} {key}{value}"
    return params


def bootif(mac: str) -> str:
    """The ``BOOTIF`` value dracut expects for an Ethernet MAC: ``01-aa-bb-cc-dd-ee-ff``."""
    return "01-" + mac.lower().replace(":", "-")


def _drop_initrd_token(params: str) -> str:
    start = params.find("initrd")
    if start < 0:
        return params
    token_start = params.rfind(" ", 0, start) + 1
    end = params.find(" ", start)
    if end < 0:
        end = len(params)
    # The surrounding spaces stay, as upstream leaves them; only the ends are trimmed later.
    return params[:token_start] + params[end:]


def assemble_params(
    config: BootConfig, *, xname: str, nid: str, boot_mac: str | None, datasource: str
) -> str:
    """The kernel command line of a known node, exactly as it follows the kernel URL."""
    params = config.params
    params = check_param(params, "xname=", xname)
    params = check_param(params, "nid=", nid)
    if boot_mac:
        params = check_param(params, "BOOTIF=", bootif(boot_mac))
    # Upstream appends ds= even when its address is empty, so the prefix alone is never empty.
    params = check_param(params, "ds=", datasource)
    if config.initrd:
        params = "initrd=initrd " + _drop_initrd_token(params)
    return params.strip(" ")


def chain_line(options: ScriptOptions, query: str) -> str:
    return f"chain {options.chain_url}{BOOTSCRIPT_PATH}?{query}"


def known_script_head(
    config: BootConfig,
    *,
    xname: str,
    nid: str,
    boot_mac: str | None,
    chain_key: str,
    options: ScriptOptions,
) -> str:
    """A known node's script up to the retry number: ``head + str(retry + 1) + "\\n"`` is the script.

    Everything but the retry counter depends only on the node and its configuration, so callers can
    keep the head and answer each request with one concatenation.
    """
    params = assemble_params(config, xname=xname, nid=nid, boot_mac=boot_mac, datasource=options.datasource)
    lines = ["#!ipxe", f"kernel --name kernel {config.kernel} {params} || goto boot_retry"]
    if config.initrd:
        lines.append(f"initrd --name initrd {config.initrd} || goto boot_retry")
    lines += [
        "boot || goto boot_retry",
        ":boot_retry",
        f"sleep {options.retry_delay}",
        chain_line(options, f"{chain_key}&retry="),
    ]
    return "\n".join(lines)


def known_script(
    config: BootConfig,
    *,
    xname: str,
    nid: str,
    boot_mac: str | None,
    chain_key: str,
    retry: int,
    options: ScriptOptions,
) -> str:
    """The boot script of a known node; ``chain_key`` is ``mac=<mac>`` or ``name=<xname>``."""
    head = known_script_head(
        config, xname=xname, nid=nid, boot_mac=boot_mac, chain_key=chain_key, options=options
    )
    return f"{head}{retry + 1}\n"


def unknown_script(chain_key: str, ts: int, options: ScriptOptions) -> str:
    """The script of a node BSS cannot boot yet: wait, then ask again reporting the architecture."""
    return (
        "\n".join(
            [
                "#!ipxe",
                f"sleep {options.unknown_delay}",
                chain_line(options, f"{chain_key}&arch=${{buildarch}}&ts={ts}"),
            ]
        )
        + "\n"
    )


def boot_json(
    config: BootConfig, *, xname: str, nid: str, boot_mac: str | None, datasource: str
) -> dict[str, Any]:
    """The ``json=1`` form of a known node's boot data."""
    params = assemble_params(config, xname=xname, nid=nid, boot_mac=boot_mac, datasource=datasource)
    return {
        "params": f"kernel {params}",
        "kernel": {"path": config.kernel},
        "initrd": {"path": config.initrd},
    }


def response_body(script: str) -> bytes:
    """Upstream writes the script followed by one more newline."""
    return (script + "\n").encode("utf-8")
