"""An fstab line mounts with `mount MOUNTPOINT` (through mount.repofs) and
unmounts with `umount`. Uses mount(8)'s --fstab to read a private fstab file
instead of editing /etc/fstab."""
import os
import subprocess
import time

import pytest

from conftest import env, is_mounted


@pytest.fixture
def mount_helper(s3):
    """mount(8) looks for /sbin/mount.repofs; point it at the binary under test."""
    target = "/sbin/mount.repofs"
    created = False
    if not os.path.lexists(target):
        os.symlink(os.path.realpath(s3.bin), target)
        created = True
    elif os.path.realpath(target) != os.path.realpath(s3.bin) and os.path.islink(target):
        pytest.fail("/sbin/mount.repofs points elsewhere (%s)" % os.path.realpath(target))
    yield target
    if created:
        os.unlink(target)


def test_fstab_mount_and_umount(s3, prefix, mount_helper, tmp_path):
    s3.put(prefix + "InRelease", b"fstab works\n")
    mnt = tmp_path / "srv-repo"
    mnt.mkdir()
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
        env("REPOFS_TEST_ACCESS_KEY"), env("REPOFS_TEST_SECRET_KEY")))
    creds.chmod(0o600)
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# repofs test fstab\n"
        "%s:/%s %s repofs _netdev,nofail,allow_other,x-systemd.requires=network-online.target,"
        "%s,credentials_file=%s 0 0\n" % (s3.bucket, prefix.rstrip("/"), mnt, s3.opts, creds))
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    try:
        p = subprocess.run(["mount", "--fstab", str(fstab), str(mnt)], env=clean_env,
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert is_mounted(mnt)
        with open(mnt / "InRelease", "rb") as f:
            assert f.read() == b"fstab works\n"
        with open("/proc/self/mounts") as f:
            line = [l for l in f if l.split()[1] == str(mnt)][0]
        assert line.split()[2] == "fuse.repofs"
        p = subprocess.run(["umount", str(mnt)], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert not is_mounted(mnt)
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", str(mnt)])
        time.sleep(0.1)
