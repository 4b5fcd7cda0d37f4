"""scripts/quickstart, the README's first command, does the main job end to end:
its own RGW, a mount, a signed apt repository and a wheel published into the
mount, nginx serving it, apt-get and pip checking it; the apt line and pip
command it prints work; running it again reuses what runs; `stop` leaves no
mount, nginx or RGW behind.

It builds in the build directory of REPOFS_BIN (already built by scripts/test,
so the build step is a no-op) and keeps its state in a temporary directory.
"""
import os
import re
import subprocess
import tempfile
import urllib.request

import pytest

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "quickstart")


def build_dir_of(binary):
    rel = os.path.relpath(os.path.realpath(binary), ROOT)
    suffix = os.path.join("src", "daemon", "repofs")
    if rel.startswith("..") or not rel.endswith(suffix):
        pytest.fail("REPOFS_BIN=%s is not ROOT/BUILDDIR/%s: the quickstart test builds in "
                    "that directory" % (binary, suffix))
    return rel[:-len(suffix)].rstrip("/")


def mounts_under(path):
    with open("/proc/self/mounts") as f:
        return [l.split()[1] for l in f if l.split()[1].startswith(path)]


def test_quickstart_publishes_and_serves(tmp_path):
    state = tempfile.mkdtemp(prefix="repofs-qs-", dir="/var/tmp")
    env = dict(os.environ, REPOFS_QUICKSTART_DIR=state,
               REPOFS_BUILDDIR=build_dir_of(os.environ["REPOFS_BIN"]))

    def quickstart(*args, timeout=900):
        return subprocess.run([SCRIPT] + list(args), env=env, capture_output=True, text=True,
                              timeout=timeout)

    try:
        p = quickstart()
        assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
        out = p.stdout + p.stderr
        assert "apt: hello-repofs_1.0_all.deb downloaded, identical" in out
        assert "pip: hello_repofs-1.0-py3-none-any.whl downloaded, identical" in out
        deb_line = re.search(r"^\s*(deb \[signed-by=(\S+)\] (http://127\.0\.0\.1:\d+/debian) "
                             r"bookworm main)$", out, re.M)
        pip_cmd = re.search(r"pip download --index-url (http://127\.0\.0\.1:\d+/pypi/simple/) "
                            r"hello-repofs", out)
        assert deb_line and pip_cmd, out[-3000:]
        assert os.path.isfile(deb_line.group(2))
        assert [m for m in mounts_under(state) if m.endswith("/mnt")]

        # The printed apt line works for a client of our own (isolated apt config).
        import debrepo
        apt = debrepo.AptClient(tmp_path / "apt", deb_line.group(3), keyring=deb_line.group(2))
        apt.update()
        debs = apt.download("hello-repofs")
        with open(debs[0], "rb") as a, open(os.path.join(state, "mnt/debian/pool/main/h/"
                                                         "hello-repofs", os.path.basename(debs[0])),
                                            "rb") as b:
            assert a.read() == b.read()
        # The pip index page nginx serves from the mount lists the wheel.
        with urllib.request.urlopen(pip_cmd.group(1) + "hello-repofs/", timeout=30) as r:
            assert b"hello_repofs-1.0-py3-none-any.whl" in r.read()

        # Again: everything is reused, nothing is published twice.
        p = quickstart()
        assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
        out = p.stdout + p.stderr
        for reused in ("Local S3 (Ceph RGW) already running", "Bucket already mounted",
                       "hello-repofs 1.0 already published", "nginx already serving"):
            assert reused in out, reused
    finally:
        p = quickstart("stop", timeout=300)
        stop_out = p.stdout + p.stderr
    assert p.returncode == 0, stop_out
    assert mounts_under(state) == []
    assert not os.path.exists(state)
