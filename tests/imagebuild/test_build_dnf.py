"""The dnf path for real: a tiny noarch RPM built with rpmbuild, a repo made with createrepo_c, a scratch
image installed with dnf --installroot, then published to the registry, S3 and the local stores."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.imagebuild.conftest import Servers, image_build_here

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SPEC = """\
Name: pychami-fakeos
Version: 1.0
Release: 1
Summary: A fake OS for the image-builder tests
License: MIT
BuildArch: noarch
%description
Kernel, initramfs and os-release placeholders.
%install
mkdir -p %{buildroot}/boot %{buildroot}/lib/modules/9.9.9-test %{buildroot}/etc
echo kernel > %{buildroot}/boot/vmlinuz-9.9.9-test
echo initrd > %{buildroot}/boot/initramfs-9.9.9-test.img
printf 'ID="rocky"\\nVERSION_ID="9.9"\\n' > %{buildroot}/etc/os-release
%files
/boot/vmlinuz-9.9.9-test
/boot/initramfs-9.9.9-test.img
/lib/modules/9.9.9-test
/etc/os-release
"""


@pytest.fixture(scope="module")
def rpm_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A local yum repo holding one noarch package."""
    tmp = tmp_path_factory.mktemp("rpm")
    (tmp / "fake.spec").write_text(SPEC)
    subprocess.run(
        ["rpmbuild", "--define", f"_topdir {tmp}/top", "-bb", str(tmp / "fake.spec")],
        capture_output=True,
        check=True,
    )
    repo = tmp / "repo"
    repo.mkdir()
    for rpm in (tmp / "top" / "RPMS" / "noarch").glob("*.rpm"):
        rpm.rename(repo / rpm.name)
    subprocess.run(["createrepo_c", "-q", str(repo)], check=True)
    return repo


def test_dnf_scratch_image_published_everywhere(
    rpm_repo: Path, servers: Servers, build_cache: Path, tmp_path: Path
) -> None:
    """dnf --installroot from a local repo; registry tags, S3 keys and the local stores all appear."""
    host = servers.registry.host
    cfg = {
        "options": {
            "layer_type": "base",
            "name": "fake-rocky",
            "publish_tags": ["9.9", "latest"],
            "pkg_manager": "dnf",
            "gpgcheck": False,
            "publish_local": True,
            "publish_registry": f"{host}/demo",
            "registry_opts_push": ["--tls-verify=false"],
            "publish_s3": servers.s3.endpoint,
            "s3_prefix": "fake/",
            "s3_bucket": "boot-images",
            "squashfs_compression": "gzip",
        },
        "repos": [{"alias": "local", "url": f"file://{rpm_repo}"}],
        "packages": ["pychami-fakeos"],
        "copyfiles": [{"src": "motd", "dest": "/etc/motd", "opts": ["--chmod=0600"]}],
    }
    (tmp_path / "motd").write_text("welcome\n")
    (tmp_path / "fake.yaml").write_text(yaml.safe_dump(cfg))
    data = tmp_path / "data"
    run = image_build_here(tmp_path / "fake.yaml", build_cache, data, servers, "--log-level", "DEBUG")
    assert run.rc == 0, run.out
    assert "Installed:" in run.out  # --log-level DEBUG streams dnf's own output
    tags = json.loads(
        subprocess.run(
            ["skopeo", "list-tags", "--tls-verify=false", f"docker://{host}/demo/fake-rocky"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert sorted(tags["Tags"]) == ["9.9", "latest"]
    listing = servers.s3.s3cmd("ls", "-r", "s3://boot-images/")
    keys = sorted(line.split()[-1].removeprefix("s3://boot-images/") for line in listing.splitlines() if line)
    assert [k for k in keys if "fake" in k] == [
        "efi-images/fake/initramfs-9.9.9-test.img",
        "efi-images/fake/vmlinuz-9.9.9-test",
        "fake/rocky9.9-fake-rocky-9.9",
        "fake/rocky9.9-fake-rocky-latest",
    ]
    sq = tmp_path / "fake.sqfs"
    servers.s3.s3cmd("get", "s3://boot-images/fake/rocky9.9-fake-rocky-9.9", str(sq))
    files = subprocess.run(["unsquashfs", "-lln", str(sq)], capture_output=True, text=True, check=True).stdout
    assert "squashfs-root/lib/modules/9.9.9-test" in files
    motd = next(line for line in files.splitlines() if line.endswith("/etc/motd"))
    assert motd.startswith("-rw-------")
    info = subprocess.run(["unsquashfs", "-s", str(sq)], capture_output=True, text=True, check=True).stdout
    assert "Compression gzip" in info
    # local stores: OCI layout readable by skopeo, boot artifacts under the data dir
    inspect = json.loads(
        subprocess.run(
            ["skopeo", "inspect", f"oci:{data}/images:fake-rocky:9.9"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert inspect["Labels"]["org.openchami.image.packages"] == "pychami-fakeos"
    # with publish_s3 set, boot artifacts go to S3 only, not to the local object store
    assert not (data / "objects").exists()
