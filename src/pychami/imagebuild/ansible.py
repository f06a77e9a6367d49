"""``layer_type: ansible``: the playbooks run against the image root with ansible's chroot connection.

The root is put in an inventory under every group of ``options.groups`` (``all`` when none), with
``ansible_connection=community.general.chroot``; ``options.inventory`` is passed as an extra inventory
and ``options.vars`` as extra vars. Needs ``ansible-playbook`` and the community.general collection
(Debian package ``ansible``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from pychami.core.errors import ConfigError
from pychami.imagebuild.chroot import chroot_mounts, no_daemons
from pychami.imagebuild.config import ImageConfig
from pychami.imagebuild.progress import run


def run_playbooks(cfg: ImageConfig, root: Path, base_dir: Path) -> None:
    """ansible-playbook each playbook (in order) against ``root``."""
    if not shutil.which("ansible-playbook"):
        raise ConfigError("layer_type ansible needs ansible-playbook (apt-get install ansible)")
    o = cfg.options
    with tempfile.TemporaryDirectory(prefix="pychami-ansible-") as tmp:
        inv = Path(tmp) / "inventory.ini"
        host = f"{root} ansible_connection=community.general.chroot"
        lines = []
        for group in o.groups or ["all"]:
            lines += ([f"[{group}]"] if group != "all" else []) + [host]
        inv.write_text("\n".join(lines) + "\n")
        extra = Path(tmp) / "vars.json"
        extra.write_text(json.dumps(o.vars))
        argv = ["ansible-playbook", "-i", str(inv)]
        if o.inventory:
            argv += ["-i", str(base_dir / o.inventory)]
        argv += ["-e", f"@{extra}"]
        if o.ansible_verbosity:
            argv.append("-" + "v" * o.ansible_verbosity)
        env = {
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
        }
        with chroot_mounts(root), no_daemons(root):
            for playbook in o.playbooks:
                run(
                    [*argv, str(base_dir / playbook)],
                    env=env,
                    output_level="INFO",
                    what=f"playbook {playbook}",
                )
