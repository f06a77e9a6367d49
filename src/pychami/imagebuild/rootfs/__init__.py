"""Package-manager backends that fill an image root without a container engine."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pychami.core.errors import ConfigError
from pychami.imagebuild.config import ImageConfig
from pychami.imagebuild.progress import Reporter


class RootfsBackend(Protocol):
    """Installs packages into a root directory."""

    name: str

    def base_key(self, cfg: ImageConfig) -> dict[str, object] | None:
        """Inputs of a cacheable scratch base (None: this backend builds scratch images in the layer)."""

    def bootstrap(self, cfg: ImageConfig, target: Path, reporter: Reporter) -> None:
        """Create the scratch base in the empty directory ``target``."""

    def apply(self, cfg: ImageConfig, root: Path, reporter: Reporter, *, scratch: bool) -> None:
        """repos -> modules -> package_groups -> packages -> remove_packages, into the mounted ``root``."""


def backend_for(cfg: ImageConfig, cache_dir: Path) -> RootfsBackend:
    """The backend of ``options.pkg_manager``."""
    pm = cfg.options.pkg_manager
    if pm == "apt":
        from pychami.imagebuild.rootfs.apt import AptBackend  # noqa: PLC0415

        return AptBackend(cache_dir)
    if pm == "dnf":
        from pychami.imagebuild.rootfs.dnf import DnfBackend  # noqa: PLC0415

        return DnfBackend(cache_dir)
    raise ConfigError(f"options.pkg_manager: {pm!r} is not supported by pychami (use apt or dnf)")
