"""The scenario's three Debian layers built for real (debootstrap + apt in a chroot), pushed to a real
registry and S3 server, and checked with real clients (skopeo, s3cmd, unsquashfs). Also: a parent pulled by
a later build, a warm rebuild from the cache, an ansible layer, and interrupted builds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pychami.imagebuild.chroot import mounts_under
from tests.imagebuild.conftest import BuildRun, Servers, image_build, scenario_config

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@dataclass
class DebianBuilds:
    """The three scenario builds of this module."""

    runs: dict[str, BuildRun]
    cache: Path
    data: Path
    configs: Path
    servers: Servers


#: The scenario's package lists, trimmed so that the three real builds stay within the CI budget
#: (the cloud kernel has fewer modules, so its initramfs is built faster; python3 instead of cloud-init
#: keeps ansible usable). bench/imagebuild builds the full lists.
PACKAGES = {
    "debian-base": ["linux-image-cloud-amd64", "live-boot", "systemd-sysv", "python3", "sudo", "ifupdown"],
    "debian-compute": ["vim-tiny", "tcpdump", "traceroute"],
    "debian-debug": ["passwd"],
}


@pytest.fixture(scope="module")
def debian(servers: Servers, build_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> DebianBuilds:
    """debian-base -> compute-base -> compute-debug, in order, each a real `image-build` run."""
    tmp = tmp_path_factory.mktemp("ib-debian")
    runs = {}
    for name in ("debian-base", "debian-compute", "debian-debug"):
        cfg = scenario_config(name, servers, tmp / "configs", packages=PACKAGES[name])
        run = image_build(cfg, build_cache, tmp / "data", servers)
        assert run.rc == 0, f"{name} failed:\n{run.out}"
        runs[name] = run
    return DebianBuilds(runs, build_cache, tmp / "data", tmp / "configs", servers)


def skopeo(*args: str) -> str:
    res = subprocess.run(["skopeo", *args], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_registry_lists_the_layers(debian: DebianBuilds) -> None:
    """Checkpoint 2: skopeo list-tags shows demo/debian-base:12 and demo/compute-base:12."""
    host = debian.servers.registry.host
    for repo in ("demo/debian-base", "demo/compute-base"):
        tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{host}/{repo}"))
        assert tags["Repository"] == f"{host}/{repo}"
        assert tags["Tags"] == ["12"]


def test_image_labels_and_layers(debian: DebianBuilds) -> None:
    """skopeo inspect: org.openchami.image.* labels, and compute-base stacks one layer on its parent."""
    host = debian.servers.registry.host
    base = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{host}/demo/debian-base:12"))
    compute = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{host}/demo/compute-base:12"))
    labels = compute["Labels"]
    assert labels["org.openchami.image.name"] == "compute-base"
    assert labels["org.openchami.image.type"] == "base"
    assert labels["org.openchami.image.parent"] == f"{host}/demo/debian-base:12"
    assert labels["org.openchami.image.package-manager"] == "apt"
    assert labels["org.openchami.image.tags"] == "12"
    assert "vim-tiny" in labels["org.openchami.image.packages"].split(",")
    assert "org.openchami.image.build-date" in labels
    assert base["Labels"]["org.openchami.image.repositories"] == "debian"
    assert compute["Layers"][: len(base["Layers"])] == base["Layers"]
    assert len(compute["Layers"]) == len(base["Layers"]) + 1


def test_s3_has_upstream_object_names(debian: DebianBuilds) -> None:
    """Checkpoint 2: s3cmd ls -Hr lists both SquashFS images and both kernels/initramfs."""
    listing = debian.servers.s3.s3cmd("ls", "-Hr", "s3://boot-images/")
    keys = [line.split()[-1].removeprefix("s3://boot-images/") for line in listing.splitlines() if line]
    assert "compute/base/debian12-compute-base-12" in keys
    assert "compute/debug/debian12-compute-debug-12" in keys
    for layer in ("base", "debug"):
        kernels = [k for k in keys if k.startswith(f"efi-images/compute/{layer}/vmlinuz-")]
        assert len(kernels) == 1, keys
        kver = kernels[0].rsplit("vmlinuz-", 1)[1]
        assert kver.endswith("-amd64")
        assert f"efi-images/compute/{layer}/initramfs-{kver}.img" in keys
    assert len(keys) == 6


def test_debug_squashfs_content(debian: DebianBuilds, tmp_path: Path) -> None:
    """unsquashfs: the debug layer's testuser is in /etc/passwd and the parents' packages are present."""
    sq = tmp_path / "debug.sqfs"
    debian.servers.s3.s3cmd("get", "s3://boot-images/compute/debug/debian12-compute-debug-12", str(sq))
    listing = subprocess.run(["unsquashfs", "-l", str(sq)], capture_output=True, text=True, check=True).stdout
    files = {line.removeprefix("squashfs-root/") for line in listing.splitlines()}
    for path in (
        "usr/bin/vim.tiny",
        "usr/bin/tcpdump",
        "usr/bin/traceroute.db",
        "usr/sbin/useradd",
        "usr/bin/sudo",
    ):
        assert path in files, path
    assert any(f.startswith("usr/lib/live/boot") for f in files)
    assert "home/testuser" in files
    passwd = subprocess.run(
        ["unsquashfs", "-cat", str(sq), "etc/passwd"], capture_output=True, text=True, check=True
    ).stdout
    assert any(line.startswith("testuser:") for line in passwd.splitlines())
    assert not any(f.startswith(("proc/", "sys/", "dev/")) for f in files)


def test_parents_were_pulled_from_the_registry(debian: DebianBuilds) -> None:
    """compute-base pulled debian-base and compute-debug pulled compute-base over the registry API."""
    host = debian.servers.registry.host
    assert f"pulling {host}/demo/debian-base:12" in debian.runs["debian-compute"].out
    assert f"pulling {host}/demo/compute-base:12" in debian.runs["debian-debug"].out
    assert "Pushing" in debian.runs["debian-debug"].out


def test_warm_rebuild_reuses_the_layer(debian: DebianBuilds) -> None:
    """Same config + same parent layers: the layer comes from the cache and the published image is equal."""
    host = debian.servers.registry.host
    before = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{host}/demo/compute-base:12"))
    # Rebuilding the parent gives it a new manifest (build-date label) but the same layers ...
    base = image_build(debian.configs / "debian-base.yaml", debian.cache, debian.data, debian.servers)
    assert base.rc == 0, base.out
    assert "(cached layer)" in base.out
    # ... so the child is still a cache hit
    run = image_build(debian.configs / "debian-compute.yaml", debian.cache, debian.data, debian.servers)
    assert run.rc == 0, run.out
    assert "(cached layer)" in run.out
    assert "[cached]" in run.out
    assert "unchanged http" in run.out  # the S3 objects are identical: nothing is uploaded again
    assert "Pushing" not in run.out
    after = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{host}/demo/compute-base:12"))
    assert after["Layers"] == before["Layers"]


def test_ansible_layer_on_the_base(debian: DebianBuilds, tmp_path: Path) -> None:
    """layer_type ansible runs a playbook in the chroot; the result lands in the local image store."""
    host = debian.servers.registry.host
    (tmp_path / "site.yml").write_text(
        "- hosts: compute\n  gather_facts: false\n  tasks:\n"
        "    - copy: {dest: /etc/pychami-ansible, content: '{{ greeting }}'}\n"
    )
    cfg = {
        "options": {
            "layer_type": "ansible",
            "name": "compute-ansible",
            "parent": f"{host}/demo/debian-base:12",
            "registry_opts_pull": ["--tls-verify=false"],
            "groups": ["compute"],
            "playbooks": "site.yml",
            "vars": {"greeting": "hello from ansible"},
            "publish_local": True,
        }
    }
    (tmp_path / "ansible.yaml").write_text(yaml.safe_dump(cfg))
    data = tmp_path / "data"
    run = image_build(tmp_path / "ansible.yaml", debian.cache, data, None)
    assert run.rc == 0, run.out
    out = tmp_path / "oci"
    skopeo("copy", f"oci:{data}/images:compute-ansible:latest", f"dir:{out}")
    manifest = json.loads((out / "manifest.json").read_text())
    top = out / manifest["layers"][-1]["digest"].split(":", 1)[1]
    listing = subprocess.run(
        ["tar", "-xzOf", str(top), "etc/pychami-ansible"], capture_output=True, text=True, check=True
    )
    assert listing.stdout == "hello from ansible"
    # the local object store got the boot artifacts too (the base has a kernel)
    objects = sorted(
        p.relative_to(data / "objects").as_posix() for p in (data / "objects").rglob("*") if p.is_file()
    )
    assert "boot-images/debian12-compute-ansible-latest" in objects


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_build_leaves_no_mounts_and_publishes_nothing(
    debian: DebianBuilds, tmp_path: Path, sig: signal.Signals
) -> None:
    """A build stopped during a command unmounts /proc /sys /dev and the overlay, and publishes nothing."""
    host = debian.servers.registry.host
    name = f"interrupted-{sig.name.lower()}"
    cfg = {
        "options": {
            "layer_type": "base",
            "name": name,
            "pkg_manager": "apt",
            "parent": f"{host}/demo/debian-base:12",
            "registry_opts_pull": ["--tls-verify=false"],
            "publish_registry": f"{host}/demo",
            "registry_opts_push": ["--tls-verify=false"],
            "publish_s3": debian.servers.s3.endpoint,
            "s3_prefix": f"{name}/",
        },
        "cmds": [{"cmd": "touch /started; sleep 300"}],
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    exe = Path(sys.executable).parent / "image-build"
    env = {
        "S3_ACCESS": debian.servers.s3.access,
        "S3_SECRET": debian.servers.s3.secret,
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen(
        [str(exe), "--config", str(tmp_path / "c.yaml"), "--cache-dir", str(debian.cache),
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    work = debian.cache / "work"
    try:
        deadline = time.monotonic() + 180
        while not list(work.glob(f"{name}-*/merged/started")):
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the build never reached its command"
            time.sleep(0.2)
        assert mounts_under(work)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out.decode()
    assert "Error: interrupted" in out.decode()
    assert mounts_under(debian.cache) == []
    assert list(work.glob(f"{name}-*")) == []
    listing = debian.servers.s3.s3cmd("ls", "-r", "s3://boot-images/")
    assert f"{name}/" not in listing
    tags = subprocess.run(
        ["skopeo", "list-tags", "--tls-verify=false", f"docker://{host}/demo/{name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert tags.returncode != 0 or json.loads(tags.stdout)["Tags"] == []
