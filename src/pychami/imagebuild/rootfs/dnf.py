"""``pkg_manager: dnf``: the host's dnf with ``--installroot`` for scratch, dnf inside the chroot otherwise.

Scratch: repos are given on the command line (``--repofrompath``) with a private dnf.conf and
``reposdir`` pointing nowhere, so the host's repos never leak in; GPG keys are imported with
``rpm --root``. With a parent, each repo becomes ``/etc/yum.repos.d/<alias>.repo`` in the image (what
``dnf config-manager --save --add-repo`` writes upstream) and dnf runs inside the chroot.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pychami.core.errors import ConfigError
from pychami.imagebuild.chroot import chroot_mounts, no_daemons
from pychami.imagebuild.config import ImageConfig
from pychami.imagebuild.progress import Reporter, run


class DnfBackend:
    """RPM distributions (Rocky, Alma, Fedora ...)."""

    name = "dnf"

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir

    def base_key(self, cfg: ImageConfig) -> dict[str, object] | None:
        """dnf installs a scratch image straight into the layer: no separate base."""
        return None

    def bootstrap(self, cfg: ImageConfig, target: Path, reporter: Reporter) -> None:
        """Nothing: the scratch root starts empty."""
        target.mkdir(parents=True, exist_ok=True)

    def _env(self, cfg: ImageConfig) -> dict[str, str]:
        env = {"LC_ALL": "C.UTF-8"}
        if cfg.options.proxy:
            env.update(http_proxy=cfg.options.proxy, https_proxy=cfg.options.proxy)
        return env

    def _steps(self, cfg: ImageConfig) -> list[tuple[str, list[str]]]:
        steps: list[tuple[str, list[str]]] = []
        for verb, names in cfg.modules.items():
            if names:
                steps.append((f"dnf module {verb}", ["module", verb, "-y", *names]))
        if cfg.package_groups:
            steps.append(("dnf groupinstall", ["groupinstall", "-y", *cfg.package_groups]))
        if cfg.packages:
            steps.append(("dnf install", ["install", "-y", *cfg.packages]))
        if cfg.remove_packages:
            steps.append(("dnf remove", ["remove", "-y", *cfg.remove_packages]))
        return steps

    def apply(self, cfg: ImageConfig, root: Path, reporter: Reporter, *, scratch: bool) -> None:
        """Run the dnf steps in upstream's order."""
        if scratch:
            self._apply_installroot(cfg, root, reporter)
        else:
            self._apply_chroot(cfg, root, reporter)

    def _apply_installroot(self, cfg: ImageConfig, root: Path, reporter: Reporter) -> None:
        if not shutil.which("dnf"):
            raise ConfigError("pkg_manager dnf needs dnf on the build host (apt-get install dnf)")
        gpg = "1" if cfg.options.gpgcheck else "0"
        with tempfile.TemporaryDirectory(prefix="pychami-dnf-") as tmp:
            conf = Path(tmp) / "dnf.conf"
            conf.write_text(
                f"[main]\ngpgcheck={gpg}\nreposdir={tmp}/none\ninstall_weak_deps=True\n"
                f"cachedir={self.cache_dir}/dnf\nkeepcache=False\n"
            )
            if cfg.options.gpgcheck:
                for repo in cfg.repos:
                    if repo.gpg:
                        run(["rpm", "--root", str(root), "--import", repo.gpg], what="rpm --import")
            base = [
                "dnf",
                f"--installroot={root}",
                f"--config={conf}",
                "--releasever=/",
                "--setopt=tsflags=nodocs",
            ]
            if not cfg.options.gpgcheck:
                base.append("--nogpgcheck")
            for repo in cfg.repos:
                base += [f"--repofrompath={repo.alias},{repo.url}", f"--repo={repo.alias}"]
                if repo.priority is not None:
                    base.append(f"--setopt={repo.alias}.priority={repo.priority}")
            for what, args in self._steps(cfg):
                reporter.info(f"{what} {' '.join(a for a in args[1:] if not a.startswith('-'))}")
                run([*base, *args], env=self._env(cfg), what=what)
            run([*base, "clean", "all"], env=self._env(cfg), what="dnf clean", check=False)

    def _apply_chroot(self, cfg: ImageConfig, root: Path, reporter: Reporter) -> None:
        repos_d = root / "etc" / "yum.repos.d"
        for repo in cfg.repos:
            repos_d.mkdir(parents=True, exist_ok=True)
            lines = [f"[{repo.alias}]", f"name={repo.alias}", f"baseurl={repo.url}", "enabled=1"]
            lines.append(f"gpgcheck={1 if cfg.options.gpgcheck and repo.gpg else 0}")
            if repo.gpg:
                lines.append(f"gpgkey={repo.gpg}")
            if repo.priority is not None:
                lines.append(f"priority={repo.priority}")
            (repos_d / f"{repo.alias}.repo").write_text("\n".join(lines) + "\n")
        with chroot_mounts(root), no_daemons(root):
            for what, args in self._steps(cfg):
                reporter.info(f"{what} {' '.join(a for a in args[1:] if not a.startswith('-'))}")
                run(["chroot", str(root), "dnf", *args], env=self._env(cfg), what=what)
            run(
                ["chroot", str(root), "dnf", "clean", "all"],
                env=self._env(cfg),
                what="dnf clean",
                check=False,
            )
