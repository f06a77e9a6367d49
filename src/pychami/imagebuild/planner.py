"""A config turned into the ordered steps of a build (printed by ``image-build --plan``).

The order is upstream's: parent -> repos -> modules -> package_groups -> packages -> remove_packages ->
copyfiles -> cmds (-> ansible for ansible layers) -> layer -> publish. Publishing uploads the boot
artifacts before it makes registry tags visible (see :mod:`pychami.imagebuild.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pychami.imagebuild.config import ImageConfig


class Kind(StrEnum):
    """What a step does (the builder dispatches on it)."""

    PARENT = "parent"
    MOUNT = "mount"
    PACKAGES = "packages"
    COPYFILES = "copyfiles"
    CMDS = "cmds"
    ANSIBLE = "ansible"
    LAYER = "layer"
    SQUASHFS = "squashfs"
    PUBLISH = "publish"


@dataclass(frozen=True)
class Step:
    """One step: its kind, a one-line title and detail lines for the plan."""

    kind: Kind
    title: str
    details: tuple[str, ...] = field(default_factory=tuple)
    #: Skipped when the layer comes from the cache.
    layer_work: bool = False


def _parent_step(cfg: ImageConfig) -> Step:
    o = cfg.options
    if o.parent != "scratch":
        opts = " ".join(o.registry_opts_pull)
        return Step(Kind.PARENT, f"pull parent {o.parent}" + (f" ({opts})" if opts else ""))
    if o.pkg_manager == "apt":
        repo = cfg.repos[0]
        comps = ",".join(repo.components or ["main"])
        return Step(
            Kind.PARENT,
            f"scratch base: debootstrap --variant=minbase {repo.suite} ({comps}) from {repo.url} [cached]",
        )
    return Step(Kind.PARENT, f"scratch: empty root, {o.pkg_manager} --installroot")


def plan(cfg: ImageConfig) -> list[Step]:
    """The steps a build of ``cfg`` runs, in order."""
    o = cfg.options
    pm = o.pkg_manager or "the parent's"
    steps = [
        _parent_step(cfg),
        Step(Kind.MOUNT, "mount overlay (parent below, new layer above)", layer_work=True),
    ]
    details: list[str] = []
    for repo in cfg.repos:
        extra = f" {repo.suite} {' '.join(repo.components or ['main'])}" if repo.suite else ""
        details.append(f"repo {repo.alias}: {repo.url}{extra}" + (f" (gpg {repo.gpg})" if repo.gpg else ""))
    for verb, names in cfg.modules.items():
        details.append(f"module {verb}: {' '.join(names)}")
    if cfg.package_groups:
        details.append(f"package groups: {', '.join(cfg.package_groups)}")
    if cfg.packages:
        details.append(f"packages: {' '.join(cfg.packages)}")
    if cfg.remove_packages:
        details.append(f"remove packages: {' '.join(cfg.remove_packages)}")
    if details:
        steps.append(Step(Kind.PACKAGES, f"{pm}: repos and packages", tuple(details), layer_work=True))
    if cfg.copyfiles:
        lines = tuple(
            f"{c.src} -> {c.dest}" + (f" {' '.join(c.opts)}" if c.opts else "") for c in cfg.copyfiles
        )
        steps.append(Step(Kind.COPYFILES, f"copy {len(cfg.copyfiles)} file(s)", lines, layer_work=True))
    if cfg.cmds:
        lines = tuple(f"[{c.loglevel}] {c.cmd}" for c in cfg.cmds)
        steps.append(Step(Kind.CMDS, f"run {len(cfg.cmds)} command(s) in the chroot", lines, layer_work=True))
    if o.layer_type == "ansible":
        lines = (f"groups: {', '.join(o.groups) or 'all'}", *(f"playbook {p}" for p in o.playbooks))
        steps.append(Step(Kind.ANSIBLE, "ansible-playbook -c chroot", lines, layer_work=True))
    steps.append(Step(Kind.LAYER, f"commit layer {o.name} (overlay upper dir -> OCI layer, whiteouts)"))
    if o.publish_s3 or (o.publish_local and not o.publish_s3):
        comp = o.squashfs_compression + (
            f" level {o.squashfs_compression_level}" if o.squashfs_compression_level else ""
        )
        when = "" if o.publish_s3 else " (if the image has a kernel)"
        steps.append(Step(Kind.SQUASHFS, f"mksquashfs ({comp}) + kernel and initramfs{when}"))
    targets = []
    if o.publish_s3:
        targets.append(f"s3 {o.publish_s3} bucket {o.s3_bucket} prefix {o.s3_prefix!r}")
    elif o.publish_local:
        targets.append(f"local object store bucket {o.s3_bucket} prefix {o.s3_prefix!r}")
    if o.publish_registry:
        for tag in o.publish_tags:
            targets.append(f"registry {o.publish_registry}/{o.name}:{tag}")
    if o.publish_local:
        targets.append(f"local image store {o.name}:{', '.join(o.publish_tags)}")
    if targets:
        steps.append(Step(Kind.PUBLISH, "publish", tuple(targets)))
    return steps


def render(cfg: ImageConfig, steps: list[Step]) -> str:
    """The plan as text."""
    o = cfg.options
    lines = [
        f"image {o.name} (layer_type {o.layer_type}, parent {o.parent}, tags {', '.join(o.publish_tags)})"
    ]
    for i, step in enumerate(steps, 1):
        lines.append(f"{i:2d}. {step.title}")
        lines.extend(f"      {d}" for d in step.details)
    if not cfg.publishes:
        lines.append(
            "warning: no publish option set (publish_local, publish_registry, publish_s3): nothing is stored"
        )
    return "\n".join(lines)
