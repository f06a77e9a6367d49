"""Runs a plan: parent -> overlay -> packages/copyfiles/cmds/ansible -> layer -> squashfs -> publish.

Publishing order (all-or-nothing as far as the targets allow): blobs to the registry (invisible until a
manifest names them) -> boot artifacts to the object store (SquashFS last, see ``publish``) -> registry
manifests, one per tag -> the local image store. If a manifest push fails, the boot artifacts of this
build are deleted again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pychami.core.errors import ConfigError, NotFound
from pychami.core.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from pychami.imagebuild import chroot
from pychami.imagebuild.ansible import run_playbooks
from pychami.imagebuild.cache import BuildCache, digest_of
from pychami.imagebuild.config import ImageConfig
from pychami.imagebuild.oci import (
    MT_CONFIG,
    MT_MANIFEST,
    Descriptor,
    Image,
    ImageError,
    Layer,
    OciLayout,
    make_config,
    make_manifest,
    sha256_file,
    write_layer,
)
from pychami.imagebuild.planner import Kind, Step, plan
from pychami.imagebuild.progress import Reporter, run
from pychami.imagebuild.publish import Artifacts, boot_keys, find_boot_files, os_release_id, publish
from pychami.imagebuild.registry import Reference, RegistryClient, RegistryOptions
from pychami.imagebuild.rootfs import RootfsBackend, backend_for
from pychami.imagebuild.squashfs import make_squashfs

log = logging.getLogger("pychami.imagebuild")


@dataclass
class BuildEnv:
    """Where a build keeps things and what it may use."""

    cache_dir: Path
    data_dir: Path
    config_dir: Path
    reporter: Reporter
    s3_access: str | None = None
    s3_secret: str | None = None
    use_cache: bool = True


@dataclass
class BuildResult:
    """What a build produced."""

    manifest_digest: str
    layer: Layer
    cached: bool
    registry_refs: list[str] = field(default_factory=list)
    object_keys: list[str] = field(default_factory=list)
    local_refs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Parent:
    image: Image | None  # None for scratch
    lower: Path | None  # None until unpacked
    base_layers: list[Layer]  # layers below ours that are not the parent image's (a cached base)
    identity: Any


def local_images(data_dir: Path) -> OciLayout:
    """pychami's local image store (an OCI layout, refs ``name:tag``)."""
    return OciLayout(data_dir / "images")


def local_objects(data_dir: Path, bucket: str) -> LocalObjectStore:
    """pychami's local object store (served under ``/boot-images/``)."""
    return LocalObjectStore(data_dir / "objects", bucket)


def _walk(path: Path) -> list[Path]:
    return [path, *sorted(path.rglob("*"))] if path.is_dir() else [path]


def _image_id(root: Path, db: str, name: str) -> int:
    """A user/group id from the image's /etc/passwd or /etc/group (numbers pass through)."""
    if name.isdigit():
        return int(name)
    table = root / "etc" / db
    if table.is_file():
        for line in table.read_text().splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == name:
                return int(fields[2])
    raise ConfigError(f"copyfiles: {name!r} is not in the image's /etc/{db}")


def _chown(root: Path, dest: Path, spec: str) -> None:
    user, _, group = spec.partition(":")
    uid = _image_id(root, "passwd", user)
    gid = _image_id(root, "group", group) if group else uid
    for p in _walk(dest):
        os.chown(p, uid, gid, follow_symlinks=False)


def _chmod(dest: Path, spec: str) -> None:
    if not re.fullmatch(r"[0-7]{3,4}", spec):
        raise ConfigError(f"copyfiles: --chmod={spec} must be an octal mode such as 0644")
    for p in _walk(dest):
        if not p.is_symlink():
            p.chmod(int(spec, 8))


class Builder:
    """One build of one config."""

    def __init__(self, cfg: ImageConfig, env: BuildEnv) -> None:
        self.cfg = cfg
        self.env = env
        self.o = cfg.options
        self.reporter = env.reporter
        self.cache = BuildCache(env.cache_dir)
        self.steps = plan(cfg)
        if self.o.publish_s3 and not (env.s3_access and env.s3_secret):
            raise ConfigError("options.publish_s3: set S3_ACCESS and S3_SECRET in the environment")
        self.push_opts = RegistryOptions.parse(self.o.registry_opts_push, "registry_opts_push")
        self.pull_opts = RegistryOptions.parse(self.o.registry_opts_pull, "registry_opts_pull")
        if self.o.publish_registry:
            Reference.parse(f"{self.o.publish_registry}/{self.o.name}")
        self.backend: RootfsBackend | None = (
            backend_for(cfg, env.cache_dir) if self.o.layer_type == "base" else None
        )
        if not cfg.publishes:
            log.warning(
                "no publish option set (publish_local, publish_registry, publish_s3): nothing is stored"
            )

    # -- steps -------------------------------------------------------------------------------------------

    def _parent(self, work: Path) -> _Parent:
        o = self.o
        if o.parent == "scratch":
            assert self.backend is not None
            inputs = self.backend.base_key(self.cfg)
            if inputs is None:
                empty = work / "empty"
                empty.mkdir()
                return _Parent(None, empty, [], "scratch")
            key = digest_of(inputs)
            hit = self.cache.base(key) if self.env.use_cache else None
            if hit:
                self.reporter.info(f"reusing cached base {key[:12]}")
                return _Parent(None, hit[0], [hit[1]], {"base": key})
            tmp = self.cache.base_tmp(key)
            self.backend.bootstrap(self.cfg, tmp, self.reporter)
            size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file() and not p.is_symlink())
            with self.reporter.bar("base layer", size) as advance:
                layer = write_layer(tmp, self.cache.blobs, from_overlay=False, progress=advance)
            root = self.cache.put_base(key, tmp, layer, inputs)
            return _Parent(None, root, [layer], {"base": key})
        image = self._resolve_parent(o.parent)
        # The layers' content, not the manifest digest: a rebuilt parent with the same layers (only a new
        # build-date label) keeps its children cached.
        return _Parent(image, None, [], {"diff_ids": [layer.diff_id for layer in image.layers]})

    def _lower(self, parent: _Parent) -> Path:
        """The parent's root directory (unpacked on first use, then cached by digest)."""
        if parent.lower is None:
            assert parent.image is not None
            with self.reporter.bar("unpacking parent", None) as advance:
                parent.lower = self.cache.rootfs(parent.image, advance)
        return parent.lower

    def _resolve_parent(self, parent: str) -> Image:
        blobs = self.cache.blobs
        if parent.startswith("oci:"):
            path, _, ref = parent[4:].partition(":")
            layout = OciLayout(Path(path))
            image = layout.resolve(ref or None)
            self._import(layout, image)
            self.reporter.info(f"parent {parent} = {image.digest}")
            return image
        store = local_images(self.env.data_dir)
        if parent in store.refs():
            image = store.resolve(parent)
            self._import(store, image)
            self.reporter.info(f"parent {parent} from the local image store = {image.digest}")
            return image
        remote = Reference.parse(parent)
        with RegistryClient(remote.host, self.pull_opts) as client:
            _, manifest, _ = client.manifest(remote.repository, remote.tag)
            total = sum(int(d["size"]) for d in manifest.get("layers", []))
            self.reporter.info(
                f"pulling {remote} ({len(manifest.get('layers', []))} layers, {total / 1e6:.1f} MB)"
            )
            with self.reporter.bar(f"pulling {remote}", total) as advance:
                image = client.pull(remote, blobs, advance)
        self.reporter.info(f"parent {remote} = {image.digest}")
        return image

    def _import(self, layout: OciLayout, image: Image) -> None:
        digests = [image.digest, image.manifest["config"]["digest"]]
        digests += [layer.descriptor.digest for layer in image.layers]
        for d in digests:
            self.cache.link_blob(layout.blobs, self.cache.blobs, d)

    def _layer_key(self, parent: _Parent) -> str:
        cfg, o = self.cfg, self.o

        def file_hash(p: Path) -> str:
            if p.is_dir():
                return digest_of(
                    sorted((str(f.relative_to(p)), sha256_file(f)) for f in p.rglob("*") if f.is_file())
                )
            return sha256_file(p) if p.exists() else "missing"

        inputs = {
            "v": 1,
            "parent": parent.identity,
            "layer_type": o.layer_type,
            "pkg_manager": o.pkg_manager,
            "gpgcheck": o.gpgcheck,
            "proxy": o.proxy,
            "repos": [r.model_dump() for r in cfg.repos],
            "modules": cfg.modules,
            "package_groups": cfg.package_groups,
            "packages": cfg.packages,
            "remove_packages": cfg.remove_packages,
            "copyfiles": [
                (c.src, c.dest, c.opts, file_hash(self.env.config_dir / c.src)) for c in cfg.copyfiles
            ],
            "cmds": [c.cmd for c in cfg.cmds],
        }
        if o.layer_type == "ansible":
            inputs["ansible"] = {
                "groups": o.groups,
                "playbooks": [(p, file_hash(self.env.config_dir / p)) for p in o.playbooks],
                "inventory": o.inventory and file_hash(self.env.config_dir / o.inventory),
                "vars": o.vars,
            }
        return digest_of(inputs)

    def _copyfiles(self, root: Path) -> None:
        for c in self.cfg.copyfiles:
            src = self.env.config_dir / c.src
            if not src.exists():
                raise ConfigError(f"copyfiles: source {c.src!r} does not exist (relative to the config file)")
            dest = root / c.dest.lstrip("/")
            if src.is_dir():
                shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
            else:
                if c.dest.endswith("/") or dest.is_dir():
                    dest = dest / src.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
            inside = "/" + str(dest.relative_to(root))
            for opt in c.opts:
                name, _, value = opt.partition("=")
                if name == "--chown":
                    _chown(root, dest, value)
                else:
                    _chmod(dest, value)
            self.reporter.info(f"copied {c.src} -> {inside}")

    def _cmds(self, root: Path) -> None:
        shell = (
            "/bin/bash" if (root / "bin" / "bash").exists() or (root / "usr/bin/bash").exists() else "/bin/sh"
        )
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}
        env["DEBIAN_FRONTEND"] = "noninteractive"
        if self.o.proxy:
            env.update(http_proxy=self.o.proxy, https_proxy=self.o.proxy)
        with chroot.chroot_mounts(root), chroot.no_daemons(root):
            for c in self.cfg.cmds:
                self.reporter.info(f"$ {c.cmd}")
                run(["chroot", str(root), shell, "-c", c.cmd], env=env, output_level=c.loglevel, what=c.cmd)

    def _labels(self) -> dict[str, str]:
        o, cfg = self.o, self.cfg
        labels = {
            "org.openchami.image.name": o.name,
            "org.openchami.image.type": o.layer_type,
            "org.openchami.image.parent": o.parent,
            "org.openchami.image.tags": ",".join(o.publish_tags),
            "org.openchami.image.build-date": datetime.now().isoformat(),
        }
        if o.pkg_manager:
            labels["org.openchami.image.package-manager"] = o.pkg_manager
        if cfg.repos:
            labels["org.openchami.image.repositories"] = ",".join(r.alias for r in cfg.repos)
        if cfg.packages:
            labels["org.openchami.image.packages"] = ",".join(cfg.packages)
        if cfg.package_groups:
            labels["org.openchami.image.package-groups"] = ",".join(cfg.package_groups)
        labels.update(o.labels)
        return labels

    def _squash(self, root: Path, dest: Path) -> Artifacts:
        """Squash ``root`` and copy its kernel/initramfs into ``dest`` (the squash cache)."""
        tmp = dest.with_name(dest.name + ".tmp")
        chroot.remove_tree(tmp)
        tmp.mkdir(parents=True)
        boot = find_boot_files(root)
        os_id = os_release_id(root)
        shutil.copyfile(boot.kernel, tmp / f"vmlinuz-{boot.kver}")
        shutil.copyfile(boot.initramfs, tmp / f"initramfs-{boot.kver}.img")
        size = make_squashfs(
            root,
            tmp / "rootfs.squashfs",
            self.reporter,
            self.o.squashfs_compression,
            self.o.squashfs_compression_level,
        )
        (tmp / "meta.txt").write_text(f"{boot.kver}\n{os_id}\n")
        chroot.remove_tree(dest)
        tmp.rename(dest)
        self.reporter.info(f"squashfs {size / 1e6:.1f} MB, kernel {boot.kver}, os {os_id}")
        return self._artifacts(dest)

    def _maybe_squash(self, root: Path, dest: Path) -> Artifacts | None:
        """Squash for S3 always; for the local object store only when the image has a kernel."""
        if not self.o.publish_s3:
            try:
                find_boot_files(root)
            except ImageError as exc:
                self.reporter.info(f"no boot artifacts for the local object store: {exc}")
                return None
        return self._squash(root, dest)

    @staticmethod
    def _artifacts(dest: Path) -> Artifacts:
        kver, os_id = (dest / "meta.txt").read_text().split()
        return Artifacts(
            kver, dest / f"vmlinuz-{kver}", dest / f"initramfs-{kver}.img", dest / "rootfs.squashfs", os_id
        )

    def _object_store(self) -> ObjectStore | None:
        o = self.o
        if o.publish_s3:
            assert self.env.s3_access
            assert self.env.s3_secret
            return S3ObjectStore(o.publish_s3, o.s3_bucket, self.env.s3_access, self.env.s3_secret)
        if o.publish_local:
            return local_objects(self.env.data_dir, o.s3_bucket)
        return None

    # -- the build ---------------------------------------------------------------------------------------

    def run(self) -> BuildResult:
        """Build and publish; every mount and the work directory are gone when this returns or raises."""
        with self.cache.locked():
            work = self.cache.workdir(self.o.name)
            try:
                return self._run(work)
            finally:
                chroot.release_all(work)
                chroot.remove_tree(work)

    def _step(self, step: Step, suffix: str = "") -> Any:
        return self.reporter.step(step.title + suffix)

    def _run(self, work: Path) -> BuildResult:
        r, o = self.reporter, self.o
        r.start(len(self.steps))
        by_kind = {s.kind: s for s in self.steps}
        with self._step(by_kind[Kind.PARENT]):
            parent = self._parent(work)
        key = self._layer_key(parent)
        squash_wanted = Kind.SQUASHFS in by_kind
        squash_dir = self.cache.squash_dir(key, o.squashfs_compression, o.squashfs_compression_level)
        layer = self.cache.layer(key) if self.env.use_cache else None
        cached = layer is not None
        artifacts: Artifacts | None = None
        if layer is not None:
            for s in self.steps:
                if s.layer_work:
                    with self._step(s, " [cached]"):
                        pass
            with self._step(by_kind[Kind.LAYER], " [cached]"):
                r.info(f"reusing layer {layer.descriptor.digest} (config and parent unchanged)")
            if squash_wanted:
                with self._step(by_kind[Kind.SQUASHFS]):
                    if (squash_dir / "meta.txt").is_file():
                        r.info("reusing cached squashfs")
                        artifacts = self._artifacts(squash_dir)
                    else:
                        full = work / "full"
                        self.cache.copy_tree(self._lower(parent), full)
                        from pychami.imagebuild.oci import unpack_layer  # noqa: PLC0415

                        unpack_layer(self.cache.blobs.path(layer.descriptor.digest), full)
                        artifacts = self._maybe_squash(full, squash_dir)
        else:
            with ExitStack() as stack:
                with self._step(by_kind[Kind.MOUNT]):
                    root = stack.enter_context(
                        chroot.overlay(self._lower(parent), work / "upper", work / "ovwork", work / "merged")
                    )
                for s in self.steps:
                    if s.kind == Kind.PACKAGES:
                        with self._step(s):
                            assert self.backend is not None
                            self.backend.apply(self.cfg, root, r, scratch=o.parent == "scratch")
                    elif s.kind == Kind.COPYFILES:
                        with self._step(s):
                            self._copyfiles(root)
                    elif s.kind == Kind.CMDS:
                        with self._step(s):
                            self._cmds(root)
                    elif s.kind == Kind.ANSIBLE:
                        with self._step(s):
                            run_playbooks(self.cfg, root, self.env.config_dir)
                with self._step(by_kind[Kind.LAYER]):
                    upper = work / "upper"
                    size = sum(p.lstat().st_size for p in upper.rglob("*"))
                    with r.bar("layer", size) as advance:
                        layer = write_layer(upper, self.cache.blobs, from_overlay=True, progress=advance)
                    self.cache.put_layer(key, layer)
                    r.info(f"layer {layer.descriptor.digest} ({layer.descriptor.size / 1e6:.1f} MB gzip)")
                if squash_wanted:
                    with self._step(by_kind[Kind.SQUASHFS]):
                        artifacts = self._maybe_squash(root, squash_dir)
        result = BuildResult("", layer, cached)
        manifest_raw = self._image(parent, layer)
        result.manifest_digest = "sha256:" + hashlib.sha256(manifest_raw).hexdigest()
        if Kind.PUBLISH in by_kind:
            with self._step(by_kind[Kind.PUBLISH]):
                self._publish(manifest_raw, artifacts, result)
        result.timings = dict(r.timings)
        return result

    def _image(self, parent: _Parent, layer: Layer) -> bytes:
        layers = [*parent.base_layers, layer]
        config_raw = make_config(parent.image, layers, self._labels(), f"pychami image-build {self.o.name}")
        config_digest = self.cache.blobs.put_bytes(config_raw)
        all_layers = [*(parent.image.layers if parent.image else []), *layers]
        manifest_raw = make_manifest(
            Descriptor(MT_CONFIG, config_digest, len(config_raw)), [x.descriptor for x in all_layers], {}
        )
        self.cache.blobs.put_bytes(manifest_raw)
        return manifest_raw

    def _publish(self, manifest_raw: bytes, artifacts: Artifacts | None, result: BuildResult) -> None:
        import json  # noqa: PLC0415

        o, r = self.o, self.reporter
        manifest = json.loads(manifest_raw)
        blobs = [manifest["config"]["digest"], *(d["digest"] for d in manifest["layers"])]
        client: RegistryClient | None = None
        target: Reference | None = None
        store = self._object_store()
        uploaded: list[str] = []
        try:
            if o.publish_registry:
                target = Reference.parse(f"{o.publish_registry}/{o.name}")
                client = RegistryClient(target.host, self.push_opts)
                total = sum(self.cache.blobs.path(d).stat().st_size for d in blobs)
                with r.bar(f"pushing blobs to {target.host}", total) as advance:
                    for d in blobs:
                        client.push_blob(target.repository, d, self.cache.blobs.path(d), advance)
            if store is not None and (artifacts is not None or o.publish_s3):
                if artifacts is None:
                    raise NotFound("no boot artifacts were made")
                keys = boot_keys(o.s3_prefix, o.name, o.publish_tags, artifacts)
                uploaded = publish(store, keys, r)
                result.object_keys = uploaded
            if client is not None and target is not None:
                for tag in o.publish_tags:
                    log.info("pushing layer %s to %s/%s:%s", o.name, o.publish_registry, o.name, tag)
                    client.push_manifest(target.repository, tag, manifest_raw, MT_MANIFEST)
                    result.registry_refs.append(f"{target.host}/{target.repository}:{tag}")
                    r.info(f"pushed {target.host}/{target.repository}:{tag}")
        except BaseException:
            if store is not None:
                for key in uploaded:
                    try:
                        store.delete(key)
                    except Exception as exc:
                        log.error("could not delete %s: %s", key, exc)
            raise
        finally:
            if client is not None:
                client.close()
        if o.publish_local:
            layout = local_images(self.env.data_dir)
            for d in [result.manifest_digest, *blobs]:
                self.cache.link_blob(self.cache.blobs, layout.blobs, d)
            for tag in o.publish_tags:
                layout.tag(f"{o.name}:{tag}", result.manifest_digest, len(manifest_raw))
                result.local_refs.append(f"{o.name}:{tag}")
                r.info(f"stored {o.name}:{tag} in the local image store {layout.root}")
