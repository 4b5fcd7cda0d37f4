"""The Debian package: packaging/build-deb builds a .deb whose repofs mounts
through an fstab line (mount(8) -> /sbin/mount.repofs), serves a file
byte-exact and unmounts with umount.

Where the package goes:
- REPOFS_TEST_INSTALL_DEB=1 (scripts/test sets it when CI=true; CI machines
  are throwaway): `dpkg -i`, the packaged /sbin/mount.repofs and
  /usr/bin/repofs are used as installed, and the package is removed again at
  the end if it was not installed before.
- otherwise (shared development machines): `dpkg-deb -x` into a temporary
  root, and /sbin/mount.repofs is temporarily linked to that root's
  usr/bin/repofs (mount(8) only looks for helpers in /sbin), as
  test_fstab.py does.

The .deb is built once per test session (a full release compile at nice 19,
-j2). REPOFS_TEST_DEB=PATH uses an already built .deb instead. Only a
machine without dpkg-buildpackage skips, with the reason printed.
"""
import gzip
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import env, is_mounted

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
HELPER = "/sbin/mount.repofs"


@pytest.fixture(scope="session")
def deb(tmp_path_factory):
    prebuilt = os.environ.get("REPOFS_TEST_DEB")
    if prebuilt:
        assert os.path.isfile(prebuilt), "REPOFS_TEST_DEB=%s does not exist" % prebuilt
        return prebuilt
    if not shutil.which("dpkg-buildpackage"):
        reason = "dpkg-buildpackage is missing (not a Debian build machine): .deb not built"
        print("test_package: skipped: " + reason, file=sys.stderr)
        pytest.skip(reason)
    # Missing debhelper or fakeroot is a failure: scripts/packages.txt lists them.
    out = tmp_path_factory.mktemp("deb")
    t0 = time.time()
    p = subprocess.run([os.path.join(ROOT, "packaging", "build-deb"), "-j", "2", str(out)],
                       capture_output=True, text=True, timeout=3 * 3600)
    assert p.returncode == 0, "packaging/build-deb failed:\n" + (p.stdout + p.stderr)[-6000:]
    path = p.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), p.stdout
    print("test_package: built %s in %.0f s" % (os.path.basename(path), time.time() - t0),
          file=sys.stderr)
    return path


def deb_listing(deb):
    """{path: (type char, link target)} from dpkg-deb -c."""
    out = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True,
                         text=True).stdout
    entries = {}
    for line in out.splitlines():
        fields = line.split(None, 5)
        name = fields[5]
        target = None
        if " -> " in name:
            name, target = name.split(" -> ", 1)
        entries[name.lstrip(".")] = (fields[0][0], target)
    return entries


def test_deb_contents(deb, tmp_path):
    files = deb_listing(deb)
    assert files["/usr/bin/repofs"][0] == "-"
    kind, target = files["/sbin/mount.repofs"]
    assert kind == "l" and os.path.normpath(os.path.join("/sbin", target)) == "/usr/bin/repofs"
    assert files["/usr/share/man/man8/repofs.8.gz"][0] == "-"
    kind, target = files["/usr/share/man/man8/mount.repofs.8.gz"]
    assert kind == "l" and target == "repofs.8.gz"
    for example in ("README", "srv-repo.mount", "srv-repo.automount", "fstab",
                    "nginx-repofs.conf", "nginx/apt.conf", "nginx/pypi.conf", "nginx/maven.conf",
                    "nginx/rpm.conf",
                    "reprepro/conf/distributions", "reprepro/conf/options",
                    "publish/apt.sh", "publish/pypi.sh", "publish/maven.sh", "publish/rpm.sh"):
        assert "/usr/share/doc/repofs/examples/" + example in files, example
    # Nothing from the build tree, tests or benchmarks.
    assert not [f for f in files if "gtest" in f or "bench" in f or "s3_get_put" in f]

    fields = subprocess.run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"],
                            check=True, capture_output=True, text=True).stdout
    assert "Package: repofs" in fields
    depends = fields.split("Depends:", 1)[1]
    for lib in ("fuse3", "libfuse3-3", "libcurl4", "libssl3", "liblmdb0", "libpugixml1v5"):
        assert lib in depends, "%s not in Depends: %s" % (lib, depends)

    # The man page is docs/repofs.8, and the binary is a release build that runs.
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True, timeout=120)
    with gzip.open(root / "usr/share/man/man8/repofs.8.gz", "rb") as f:
        with open(os.path.join(ROOT, "docs", "repofs.8"), "rb") as g:
            assert f.read() == g.read()
    p = subprocess.run([str(root / "usr/bin/repofs"), "--version"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith("repofs "), p.stdout + p.stderr


def package_status(name):
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", name],
                       capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else ""


@pytest.fixture
def packaged_repofs(deb, tmp_path):
    """The packaged repofs binary, with /sbin/mount.repofs leading to it."""
    if os.environ.get("REPOFS_TEST_INSTALL_DEB") == "1":
        was_installed = package_status("repofs") == "installed"
        p = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert package_status("repofs") == "installed"
        assert os.path.realpath(HELPER) == "/usr/bin/repofs"
        yield "/usr/bin/repofs"
        if not was_installed:
            p = subprocess.run(["dpkg", "-r", "repofs"], capture_output=True, text=True,
                               timeout=300)
            assert p.returncode == 0, p.stdout + p.stderr
        return

    root = tmp_path / "pkgroot"
    subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True, timeout=120)
    binary = str(root / "usr/bin/repofs")
    # The package's helper is a link to /usr/bin/repofs: put the same link in
    # /sbin, leading to the extracted binary instead.
    packaged_target = os.readlink(root / "sbin/mount.repofs")
    assert os.path.normpath(os.path.join("/sbin", packaged_target)) == "/usr/bin/repofs"
    created = False
    if not os.path.lexists(HELPER):
        os.symlink(binary, HELPER)
        created = True
    elif os.path.realpath(HELPER) != os.path.realpath(binary):
        pytest.fail("%s exists and leads to %s: remove it or set REPOFS_TEST_INSTALL_DEB=1" % (
            HELPER, os.path.realpath(HELPER)))
    try:
        yield binary
    finally:
        if created:
            os.unlink(HELPER)


def daemon_exe(mnt):
    """The executable of the process serving mnt (its command line names mnt)."""
    for pid in os.listdir("/proc")[:100000]:
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
            if str(mnt).encode() in args:
                return os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
    return None


def test_deb_mounts_through_fstab(s3, prefix, packaged_repofs, tmp_path):
    data = bytes(range(256)) * 4099 + b"packaged repofs\n"  # ~1 MiB, not block aligned
    s3.put(prefix + "pool/main/h/hello/hello_1.0_all.deb", data)
    mnt = tmp_path / "srv-repo"
    mnt.mkdir()
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (
        env("REPOFS_TEST_ACCESS_KEY"), env("REPOFS_TEST_SECRET_KEY")))
    creds.chmod(0o600)
    cache = tmp_path / "cache"
    fstab = tmp_path / "fstab"
    # The web-host line of examples/fstab, pointed at the test endpoint.
    fstab.write_text("%s:/%s %s repofs _netdev,nofail,ro,allow_other,%s,credentials_file=%s,"
                     "cache_dir=%s 0 0\n" % (s3.bucket, prefix.rstrip("/"), mnt, s3.opts, creds,
                                             cache))
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    try:
        p = subprocess.run(["mount", "--fstab", str(fstab), str(mnt)], env=clean_env,
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert is_mounted(mnt)
        with open("/proc/self/mounts") as f:
            line = [l for l in f if l.split()[1] == str(mnt)][0]
        assert line.split()[2] == "fuse.repofs"
        assert "ro" in line.split()[3].split(",")
        # The daemon serving it is the packaged binary.
        exe = daemon_exe(mnt)
        assert exe is not None and os.path.realpath(exe) == os.path.realpath(packaged_repofs), exe
        with open(mnt / "pool/main/h/hello/hello_1.0_all.deb", "rb") as f:
            assert f.read() == data
        p = subprocess.run(["umount", str(mnt)], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert not is_mounted(mnt)
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", str(mnt)], capture_output=True)
        s3.rm(prefix + "pool/main/h/hello/hello_1.0_all.deb")


def test_rpm_spec_parses_and_matches_meson_version():
    # Only a parse here; `packaging/rpm/check-spec --build` also runs rpmbuild
    # (a second full compile, left out of the test run).
    if shutil.which("rpmspec") is None:
        pytest.fail("rpmspec is not installed (the rpm package; scripts/packages.txt lists it)")
    p = subprocess.run([os.path.join(ROOT, "packaging", "rpm", "check-spec")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "parses" in p.stdout
