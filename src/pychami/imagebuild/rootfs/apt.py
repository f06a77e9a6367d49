"""``pkg_manager: apt``: debootstrap (minbase) for a scratch base, apt-get inside the chroot for the rest.

The scratch base is only ``debootstrap --variant=minbase`` of the first repo, so it is cached by
(mirror, suite, components, arch) and reused whatever the package list; the packages are installed with
apt-get, which (unlike debootstrap) resolves virtual packages. Downloaded .debs are kept in the cache
directory (bind-mounted on /var/cache/apt/archives) so they never land in a layer.
"""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

import httpx

from pychami.core.errors import ConfigError
from pychami.imagebuild.chroot import bind, chroot_mounts, no_daemons, release_all
from pychami.imagebuild.config import ImageConfig, Repo
from pychami.imagebuild.progress import Reporter, run

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def _components(repo: Repo) -> list[str]:
    return repo.components or ["main"]


class AptBackend:
    """Debian and derivatives."""

    name = "apt"

    def __init__(self, cache_dir: Path) -> None:
        self.archives = cache_dir / "apt-archives"

    def _env(self, cfg: ImageConfig) -> dict[str, str]:
        env = {
            "DEBIAN_FRONTEND": "noninteractive",
            "LC_ALL": "C.UTF-8",
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        }
        if cfg.options.proxy:
            env.update(http_proxy=cfg.options.proxy, https_proxy=cfg.options.proxy)
        return env

    def base_key(self, cfg: ImageConfig) -> dict[str, object] | None:
        """A scratch base depends on the first repo and the architecture only."""
        repo = cfg.repos[0]
        return {
            "tool": "debootstrap",
            "variant": "minbase",
            "url": repo.url,
            "suite": repo.suite,
            "components": _components(repo),
            "arch": ARCH,
            "gpgcheck": cfg.options.gpgcheck,
        }

    def bootstrap(self, cfg: ImageConfig, target: Path, reporter: Reporter) -> None:
        """``debootstrap --variant=minbase`` into ``target``, then drop its apt lists and sources."""
        if not shutil.which("debootstrap"):
            raise ConfigError(
                "pkg_manager apt with parent scratch needs debootstrap (apt-get install debootstrap)"
            )
        repo = cfg.repos[0]
        self.archives.mkdir(parents=True, exist_ok=True)
        argv = [
            "debootstrap",
            "--variant=minbase",
            f"--arch={ARCH}",
            f"--components={','.join(_components(repo))}",
            f"--cache-dir={self.archives}",
        ]
        if not cfg.options.gpgcheck:
            argv.append("--no-check-gpg")
        argv += [str(repo.suite), str(target), repo.url]
        reporter.info(f"debootstrap {repo.suite} from {repo.url}")
        try:
            run(argv, env=self._env(cfg), what="debootstrap")
        finally:
            release_all(target)  # debootstrap mounts /proc and /sys in the target itself
        (target / "etc" / "apt" / "sources.list").unlink(missing_ok=True)
        # debootstrap copies the build host's resolver and name into the target: not part of an image
        (target / "etc" / "resolv.conf").unlink(missing_ok=True)
        (target / "etc" / "hostname").write_text("localhost\n")
        for p in (target / "var" / "lib" / "apt" / "lists").glob("*"):
            if p.is_file() and p.name != "lock":
                p.unlink()
        for p in (target / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            p.unlink()

    def _write_repos(self, cfg: ImageConfig, root: Path) -> None:
        sources = root / "etc" / "apt" / "sources.list.d"
        keyrings = root / "etc" / "apt" / "keyrings"
        sources.mkdir(parents=True, exist_ok=True)
        for repo in cfg.repos:
            opts = []
            if repo.gpg:
                keyrings.mkdir(parents=True, exist_ok=True)
                key = keyrings / f"{repo.alias}.asc"
                if repo.gpg.startswith(("http://", "https://")):
                    key.write_bytes(httpx.get(repo.gpg, timeout=30, follow_redirects=True).content)
                else:
                    shutil.copyfile(repo.gpg, key)
                opts.append(f"signed-by=/etc/apt/keyrings/{repo.alias}.asc")
            elif not cfg.options.gpgcheck:
                opts.append("trusted=yes")
            bracket = f"[{' '.join(opts)}] " if opts else ""
            line = f"deb {bracket}{repo.url} {repo.suite} {' '.join(_components(repo))}\n"
            (sources / f"{repo.alias}.list").write_text(line)
            if repo.priority is not None:
                pref = root / "etc" / "apt" / "preferences.d" / f"{repo.alias}.pref"
                pref.parent.mkdir(parents=True, exist_ok=True)
                host = repo.url.split("://", 1)[-1].split("/", 1)[0]
                pref.write_text(f"Package: *\nPin: origin {host}\nPin-Priority: {repo.priority}\n")

    def apply(self, cfg: ImageConfig, root: Path, reporter: Reporter, *, scratch: bool) -> None:
        """apt-get update / install / purge inside the chroot."""
        if not (cfg.repos or cfg.packages or cfg.remove_packages):
            return
        self._write_repos(cfg, root)
        self.archives.mkdir(parents=True, exist_ok=True)
        (self.archives / "partial").mkdir(exist_ok=True)
        env = self._env(cfg)
        chroot = ["chroot", str(root)]
        apt = ["apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"]
        with chroot_mounts(root), no_daemons(root), bind(self.archives, root / "var/cache/apt/archives"):
            run([*chroot, *apt, "update"], env=env, what="apt-get update")
            if cfg.packages:
                reporter.info(f"installing {len(cfg.packages)} packages: {' '.join(cfg.packages)}")
                run(
                    [*chroot, *apt, "install", "--no-install-recommends", *cfg.packages],
                    env=env,
                    what="apt-get install",
                )
            if cfg.remove_packages:
                reporter.info(f"removing {' '.join(cfg.remove_packages)}")
                run([*chroot, *apt, "purge", *cfg.remove_packages], env=env, what="apt-get purge")
                run([*chroot, *apt, "autoremove", "--purge"], env=env, what="apt-get autoremove")
        for p in (root / "var" / "lib" / "apt" / "lists").glob("*"):
            if p.is_file() and p.name != "lock":
                p.unlink()
