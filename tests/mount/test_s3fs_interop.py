"""Interoperability with Debian's s3fs-fuse on the same bucket (issue 6, "Done
when": files written by s3fs show the same mode, uid, gid and mtime in
repofs, and the other way round; DESIGN.md tenet 3).

One side writes (content, chmod, chown as root, touch -d with a fixed mtime,
symlink, mkdir) and unmounts; the other side is mounted fresh on the same
prefix and must show the same bytes and attributes. What the writer stored
is also printed from the raw object headers (`repofs s3 stat`) when a
comparison fails.

s3fs comes from scripts/packages.txt; without it these tests skip with the
reason printed.
"""
import calendar
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import env, is_mounted

MIB = 1 << 20
FIXED = calendar.timegm((2021, 3, 4, 5, 6, 7))  # touch -d '2021-03-04 05:06:07 UTC'
OTHER = calendar.timegm((2019, 12, 31, 23, 59, 58))

# name -> (content, mode, owner or None, mtime or None)
FILES = {
    "f.txt": (b"hello from the writer\n", 0o640, (1234, 5678), FIXED),
    "plain.bin": (b"\x00\x01\x02" * 1000, 0o644, None, OTHER),
    "exec.sh": (b"#!/bin/sh\necho hi\n", 0o755, (0, 5678), FIXED + 1),
    "sub/dir/deep.txt": (b"deep\n", 0o600, (1234, 0), FIXED + 2),
    # Above s3fs's multipart threshold (10 MiB) and repofs's part size.
    "big.bin": (bytes(range(256)) * (12 * MIB // 256 + 3), 0o644, (1234, 5678), FIXED + 3),
}
SYMLINKS = {"link": "f.txt", "sub/uplink": "../exec.sh"}
DIRS = {"made": (0o750, (1234, 5678))}


class S3fs:
    def __init__(self, bucket, prefix):
        self.dir = tempfile.mkdtemp(prefix="s3fs-mnt-")
        self.work = tempfile.mkdtemp(prefix="s3fs-work-")
        self.passwd = os.path.join(self.work, "passwd")
        fd = os.open(self.passwd, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("%s:%s\n" % (env("REPOFS_TEST_ACCESS_KEY"),
                                   env("REPOFS_TEST_SECRET_KEY"))).encode())
        os.close(fd)
        self.log = open(os.path.join(self.work, "log"), "w+")
        spec = "%s:/%s" % (bucket, prefix.rstrip("/"))
        self.proc = subprocess.Popen(
            ["s3fs", spec, self.dir, "-f", "-o", "passwd_file=" + self.passwd,
             "-o", "url=" + env("REPOFS_TEST_ENDPOINT"), "-o", "use_path_request_style",
             "-o", "endpoint=" + os.environ.get("REPOFS_TEST_REGION", "us-east-1"),
             "-o", "sigv4"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not is_mounted(self.dir):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise AssertionError("s3fs did not mount: " + self.logtext())
            time.sleep(0.05)

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-3000:]

    def path(self, rel=""):
        return os.path.join(self.dir, rel)

    def stop(self):
        for args in (["fusermount3", "-u", self.dir], ["fusermount3", "-u", "-z", self.dir]):
            if is_mounted(self.dir):
                subprocess.run(args, capture_output=True, timeout=120)
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=60)  # s3fs uploads what is pending first
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not is_mounted(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture
def s3fs_factory(s3):
    if shutil.which("s3fs") is None:
        print("SKIP reason: s3fs is not installed (scripts/packages.txt lists it)")
        pytest.skip("s3fs is not installed (scripts/packages.txt lists it)")
    mounts = []

    def make(prefix):
        m = S3fs(s3.bucket, prefix)
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        unmount(m)


def unmount(m):
    """Unmounts a repofs Mount of mount_factory (which still cleans up)."""
    for args in (["fusermount3", "-u", m.dir], ["fusermount3", "-u", "-z", m.dir]):
        if is_mounted(m.dir):
            subprocess.run(args, capture_output=True, timeout=120)
    m.proc.wait(timeout=60)


def write_tree(root):
    for rel, (data, mode, owner, mtime) in FILES.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        if owner:
            os.chown(p, *owner)
        if mtime is not None:
            # touch -d: utimensat with both times, as a user would.
            subprocess.run(["touch", "-d", "@%d" % mtime, p], check=True, timeout=60)
    for rel, target in SYMLINKS.items():
        os.symlink(target, os.path.join(root, rel))
    for rel, (mode, owner) in DIRS.items():
        p = os.path.join(root, rel)
        os.mkdir(p)
        os.chmod(p, mode)
        os.chown(p, *owner)


def attrs(root, rel):
    st = os.lstat(os.path.join(root, rel))
    return {"type": stat.S_IFMT(st.st_mode), "mode": oct(stat.S_IMODE(st.st_mode)),
            "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime),
            "size": st.st_size if stat.S_ISREG(st.st_mode) else None}


def expected(rel):
    data, mode, owner, mtime = FILES[rel]
    return {"type": stat.S_IFREG, "mode": oct(mode), "uid": owner[0] if owner else 0,
            "gid": owner[1] if owner else 0, "mtime": mtime, "size": len(data)}


def raw_headers(s3, prefix, rel):
    p = s3.run("stat", "%s/%s%s" % (s3.bucket, prefix, rel), check=False)
    return (p.stdout + p.stderr).decode(errors="replace")


def check_tree(reader, writer_view, s3, prefix, who):
    """Files (bytes, mode, uid, gid, mtime) and symlinks as the reader sees
    them, against what was set and what the writer itself shows after a
    fresh mount."""
    problems = []
    for rel, (data, _, _, _) in FILES.items():
        got = attrs(reader, rel)
        want = expected(rel)
        if writer_view is not None:
            assert attrs(writer_view, rel) == want, (
                "the writer itself shows %s as %s, want %s" % (rel, attrs(writer_view, rel), want))
        if got != want:
            problems.append("%s: %s shows %s, want %s\n    stored headers:\n%s" % (
                rel, who, got, want, "\n".join("      " + line for line in
                                               raw_headers(s3, prefix, rel).splitlines())))
        with open(os.path.join(reader, rel), "rb") as f:
            if f.read() != data:
                problems.append("%s: content differs" % rel)
    for rel, target in SYMLINKS.items():
        p = os.path.join(reader, rel)
        if not os.path.islink(p):
            problems.append("%s: not a symlink in %s (%s)" % (rel, who, attrs(reader, rel)))
        elif os.readlink(p) != target:
            problems.append("%s: readlink %r, want %r" % (rel, os.readlink(p), target))
    assert not problems, "\n".join(problems)


def check_dirs(reader, who):
    problems = []
    for rel, (mode, owner) in DIRS.items():
        got = attrs(reader, rel)
        want = {"type": stat.S_IFDIR, "mode": oct(mode), "uid": owner[0], "gid": owner[1]}
        got = {k: got[k] for k in want}
        if got != want:
            problems.append("%s/: %s shows %s, want %s" % (rel, who, got, want))
    assert not problems, "\n".join(problems)


def test_s3fs_writes_repofs_reads(s3, prefix, s3fs_factory, mount_factory):
    w = s3fs_factory(prefix)
    write_tree(w.path())
    w.stop()
    view = s3fs_factory(prefix)  # what s3fs itself persisted
    m = mount_factory(prefix)
    try:
        check_tree(m.path(), view.path(), s3, prefix, "repofs")
    except AssertionError as e:
        raise AssertionError("%s\nrepofs log tail:\n%s" % (e, m.logtext()[-2000:])) from None


def test_repofs_writes_s3fs_reads(s3, prefix, s3fs_factory, mount_factory):
    m = mount_factory(prefix)
    write_tree(m.path())
    check_tree(m.path(), None, s3, prefix, "repofs (the writer)")
    unmount(m)
    view = mount_factory(prefix)
    r = s3fs_factory(prefix)
    check_tree(r.path(), view.path(), s3, prefix, "s3fs")


def test_directory_written_by_s3fs_shows_its_mode_and_owner_in_repofs(s3, prefix, s3fs_factory,
                                                                      mount_factory):
    """mkdir + chmod + chown of a directory: s3fs keeps them on the `dir/`
    marker object (x-amz-meta-mode/uid/gid); repofs must show them."""
    w = s3fs_factory(prefix)
    write_tree(w.path())
    w.stop()
    check_dirs(s3fs_factory(prefix).path(), "s3fs (the writer, fresh mount)")
    m = mount_factory(prefix)
    try:
        check_dirs(m.path(), "repofs")
    except AssertionError as e:
        raise AssertionError("%s\n    stored headers of made/:\n%s" % (
            e, raw_headers(s3, prefix, "made/"))) from None


def test_directory_written_by_repofs_shows_its_mode_and_owner_in_s3fs(s3, prefix, s3fs_factory,
                                                                      mount_factory):
    m = mount_factory(prefix)
    write_tree(m.path())
    check_dirs(m.path(), "repofs (the writer)")
    unmount(m)
    problems = []
    for who, root in (("repofs (fresh mount)", mount_factory(prefix).path()),
                      ("s3fs", s3fs_factory(prefix).path())):
        try:
            check_dirs(root, who)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "%s\n    stored headers of made/:\n%s" % (
        "\n".join(problems), raw_headers(s3, prefix, "made/"))
