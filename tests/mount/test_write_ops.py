"""Write path on a real mount against RGW, syscall by syscall (issue: POSIX
write path): exact results and errnos, close() durability, open files that
are unlinked or replaced, mtime carried by rename."""
import ctypes
import errno
import os
import stat
import subprocess
import sys

import pytest

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
AT_FDCWD = -100

libc = ctypes.CDLL(None, use_errno=True)


def renameat2(old, new, flags):
    rc = libc.renameat2(AT_FDCWD, os.fsencode(old), AT_FDCWD, os.fsencode(new),
                        ctypes.c_uint(flags))
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def s3_exists(s3, key):
    return s3.run("stat", "%s/%s" % (s3.bucket, key), check=False).returncode == 0


class LateStat:
    """Asks S3 whether a key exists from a process started BEFORE a file is
    opened: a fork after the open would inherit the descriptor, and its
    close (at exec) is a close() of the file, which commits it."""

    def __init__(self, s3, key):
        code = ("import subprocess, sys\n"
                "sys.stdin.readline()\n"
                "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
                "print(r.returncode, flush=True)\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, s3.bin, "s3", "-o", s3.opts, "stat",
             "%s/%s" % (s3.bucket, key)],
            env=s3.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def exists(self):
        out, _ = self.proc.communicate("go\n", timeout=60)
        return out.strip() == "0"


def errno_of(fn, *args):
    with pytest.raises(OSError) as info:
        fn(*args)
    return info.value.errno


def pattern(size, seed=0):
    return bytes((i * 7 + i // 4096 + seed) % 251 for i in range(size))


def write_file(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode=0o644):
    fd = os.open(path, flags, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def read_all(fd, chunk=65536):
    out = bytearray()
    for _ in range(1 << 20):
        b = os.read(fd, chunk)
        if not b:
            break
        out += b
    return bytes(out)


def test_create_write_close_is_durable_with_metadata(s3, prefix, mount_factory):
    m = mount_factory(prefix)
    data = pattern(3 * 1024 * 1024 + 11)
    late = LateStat(s3, prefix + "new.bin")
    fd = os.open(m.path("new.bin"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(fd, data[:1000])
    os.write(fd, data[1000:])
    assert not late.exists(), "nothing visible before close()"
    os.close(fd)
    assert s3.get(prefix + "new.bin") == data, "in S3 right after close()"
    st = os.stat(m.path("new.bin"))
    assert st.st_size == len(data)
    assert stat.S_IMODE(st.st_mode) == 0o640
    with open(m.path("new.bin"), "rb") as f:
        assert f.read() == data
    # fsync also commits.
    late = LateStat(s3, prefix + "synced")
    fd = os.open(m.path("synced"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"fsynced")
    os.fsync(fd)
    assert late.exists(), "fsync() commits"
    os.close(fd)
    assert s3.get(prefix + "synced") == b"fsynced"
    # An empty file exists after close().
    write_file(m.path("empty"), b"")
    assert s3_exists(s3, prefix + "empty")
    assert os.path.getsize(m.path("empty")) == 0


def test_o_excl_append_trunc_and_read_back(s3, prefix, mount_factory):
    s3.put(prefix + "exists", b"old")
    m = mount_factory(prefix)
    assert errno_of(os.open, m.path("exists"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644) == errno.EEXIST
    fd = os.open(m.path("exists"), os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"+more")
    os.close(fd)
    assert s3.get(prefix + "exists") == b"old+more"
    # Shell `>`: O_TRUNC rewrite.
    write_file(m.path("exists"), b"new")
    assert s3.get(prefix + "exists") == b"new"
    with open(m.path("exists"), "rb") as f:
        assert f.read() == b"new"
    # Random writes and ftruncate up and down on an existing object, O_RDWR.
    s3.put(prefix + "rw", b"0123456789")
    fd = os.open(m.path("rw"), os.O_RDWR)
    assert os.pread(fd, 4, 2) == b"2345"
    os.pwrite(fd, b"xy", 4)
    os.ftruncate(fd, 8)
    assert os.fstat(fd).st_size == 8
    os.ftruncate(fd, 12)
    assert os.pread(fd, 100, 0) == b"0123xy67\0\0\0\0"
    os.close(fd)
    assert s3.get(prefix + "rw") == b"0123xy67\0\0\0\0"
    os.truncate(m.path("rw"), 3)
    assert s3.get(prefix + "rw") == b"012"
    assert os.path.getsize(m.path("rw")) == 3


def test_unlinked_open_file_stays_readable(s3, prefix, mount_factory):
    data = pattern(2 * 1024 * 1024, 3)
    s3.put(prefix + "pool/a.deb", data)
    m = mount_factory(prefix)
    fd = os.open(m.path("pool/a.deb"), os.O_RDONLY)
    assert os.read(fd, 100) == data[:100]
    os.unlink(m.path("pool/a.deb"))
    assert not os.path.exists(m.path("pool/a.deb"))
    assert not s3_exists(s3, prefix + "pool/a.deb")
    assert errno_of(os.unlink, m.path("pool/a.deb")) == errno.ENOENT
    os.lseek(fd, 0, os.SEEK_SET)
    assert read_all(fd) == data, "complete through the open handle"
    os.close(fd)


def test_reader_keeps_old_content_across_trunc_rewrite_and_rename(s3, prefix, mount_factory):
    old = pattern(1024 * 1024 + 5, 1)
    new = pattern(700 * 1024, 2)
    s3.put(prefix + "dists/Packages", old)
    s3.put(prefix + "dists/Release", old)
    m = mount_factory(prefix)
    # O_TRUNC rewrite (Maven) while a reader holds the file open.
    reader = os.open(m.path("dists/Packages"), os.O_RDONLY)
    assert os.read(reader, 4096) == old[:4096]
    write_file(m.path("dists/Packages"), new)
    rest = read_all(reader)
    os.close(reader)
    assert old[:4096] + rest == old, "the reader reads the complete old content"
    with open(m.path("dists/Packages"), "rb") as f:
        assert f.read() == new, "an open after the commit reads the new content"
    assert s3.get(prefix + "dists/Packages") == new
    # Replacement by rename (reprepro, rsync).
    reader = os.open(m.path("dists/Release"), os.O_RDONLY)
    before = os.fstat(reader).st_ino
    assert os.read(reader, 10) == old[:10]
    write_file(m.path("dists/.Release.new"), new)
    os.rename(m.path("dists/.Release.new"), m.path("dists/Release"))
    assert old[:10] + read_all(reader) == old
    os.close(reader)
    assert os.stat(m.path("dists/Release")).st_ino != before
    with open(m.path("dists/Release"), "rb") as f:
        assert f.read() == new
    assert not os.path.exists(m.path("dists/.Release.new"))


def test_rename_preserves_mtime_and_honors_flags(s3, prefix, mount_factory):
    m = mount_factory(prefix)
    # rsync: write a temp file, set its mtime, rename it over the target.
    write_file(m.path("target"), b"old target")
    write_file(m.path(".target.XXXXXX"), b"synced content")
    os.utime(m.path(".target.XXXXXX"), ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    os.chmod(m.path(".target.XXXXXX"), 0o600)
    os.rename(m.path(".target.XXXXXX"), m.path("target"))
    st = os.stat(m.path("target"))
    assert st.st_mtime_ns == 1_600_000_000_123_456_789
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert s3.get(prefix + "target") == b"synced content"
    assert not s3_exists(s3, prefix + ".target.XXXXXX")
    # A fresh mount sees the same mtime (stored in x-amz-meta-mtime).
    m2 = mount_factory(prefix)
    assert os.stat(m2.path("target")).st_mtime_ns == 1_600_000_000_123_456_789

    write_file(m.path("a"), b"a")
    write_file(m.path("b"), b"b")
    assert errno_of(renameat2, m.path("a"), m.path("b"), RENAME_NOREPLACE) == errno.EEXIST
    assert errno_of(renameat2, m.path("a"), m.path("b"), RENAME_EXCHANGE) == errno.EINVAL
    renameat2(m.path("a"), m.path("c"), RENAME_NOREPLACE)
    assert s3.get(prefix + "c") == b"a"
    assert not os.path.exists(m.path("a"))
    # Rename of a file still open for writing: it lands under the new name.
    fd = os.open(m.path("partial"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"written before rename")
    os.rename(m.path("partial"), m.path("final"))
    os.write(fd, b", and after")
    os.close(fd)
    assert s3.get(prefix + "final") == b"written before rename, and after"
    assert not s3_exists(s3, prefix + "partial")


def test_mkdir_rmdir_and_directory_rename(s3, prefix, mount_factory):
    s3.put(prefix + "pool/main/h/hello/hello_1.deb", b"deb")
    m = mount_factory(prefix)
    os.mkdir(m.path("newdir"), 0o750)
    assert s3_exists(s3, prefix + "newdir/")
    assert errno_of(os.mkdir, m.path("newdir")) == errno.EEXIST
    assert errno_of(os.mkdir, m.path("missing/sub")) == errno.ENOENT
    assert errno_of(os.rmdir, m.path("pool/main/h")) == errno.ENOTEMPTY
    assert errno_of(os.rmdir, m.path("pool/main/h/hello")) == errno.ENOTEMPTY
    assert errno_of(os.rmdir, m.path("pool/main/h/hello/hello_1.deb")) == errno.ENOTDIR
    assert errno_of(os.rmdir, m.path("nope")) == errno.ENOENT
    os.unlink(m.path("pool/main/h/hello/hello_1.deb"))
    os.rmdir(m.path("pool/main/h/hello"))
    os.rmdir(m.path("newdir"))
    assert not s3_exists(s3, prefix + "newdir/")
    assert not os.path.exists(m.path("newdir"))
    # Directory rename: every key below moves.
    os.makedirs(m.path("src/sub"))
    write_file(m.path("src/one"), b"1")
    write_file(m.path("src/sub/two"), b"2")
    os.rename(m.path("src"), m.path("dst"))
    assert sorted(os.listdir(m.path("dst"))) == ["one", "sub"]
    with open(m.path("dst/sub/two"), "rb") as f:
        assert f.read() == b"2"
    assert s3.get(prefix + "dst/sub/two") == b"2"
    assert not os.path.exists(m.path("src"))
    assert not s3_exists(s3, prefix + "src/one")


def test_symlink_link_xattr_statfs(s3, prefix, mount_factory):
    m = mount_factory(prefix)
    write_file(m.path("file"), b"content")
    os.symlink("file", m.path("link"))
    assert os.readlink(m.path("link")) == "file"
    assert stat.S_ISLNK(os.lstat(m.path("link")).st_mode)
    with open(m.path("link"), "rb") as f:
        assert f.read() == b"content"
    assert s3.get(prefix + "link") == b"file"
    assert errno_of(os.symlink, "x", m.path("link")) == errno.EEXIST
    assert errno_of(os.link, m.path("file"), m.path("hard")) == errno.EPERM
    assert errno_of(os.setxattr, m.path("file"), "user.x", b"1") == errno.ENOTSUP
    assert errno_of(os.getxattr, m.path("file"), "security.capability") in (errno.ENOTSUP, errno.ENODATA)
    assert errno_of(os.listxattr, m.path("file")) == errno.ENOTSUP
    assert errno_of(os.removexattr, m.path("file"), "user.x") == errno.ENOTSUP
    vfs = os.statvfs(m.path())
    assert vfs.f_bavail * vfs.f_frsize >= 1 << 50
    assert vfs.f_namemax == 255


def test_chmod_chown_utimens_are_s3fs_metadata(s3, prefix, mount_factory):
    s3.put(prefix + "f", b"body")
    m = mount_factory(prefix)
    os.chmod(m.path("f"), 0o751)
    os.utime(m.path("f"), (1_500_000_000, 1_500_000_000))
    os.chown(m.path("f"), 4321, 8765)
    m2 = mount_factory(prefix)
    st = os.stat(m2.path("f"))
    assert stat.S_IMODE(st.st_mode) == 0o751
    assert st.st_mtime == 1_500_000_000
    assert (st.st_uid, st.st_gid) == (4321, 8765)
    assert s3.get(prefix + "f") == b"body"


def test_copy_file_range_whole_file_and_fallback(s3, prefix, mount_factory):
    data = pattern(5 * 1024 * 1024 + 3, 5)
    s3.put(prefix + "stable/pkg.deb", data)
    m = mount_factory(prefix)
    os.mkdir(m.path("testing"))
    src = os.open(m.path("stable/pkg.deb"), os.O_RDONLY)
    dst = os.open(m.path("testing/pkg.deb"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    n = os.copy_file_range(src, dst, 1 << 30, 0, 0)
    assert n == len(data)
    assert os.copy_file_range(src, dst, 1 << 30, len(data), len(data)) == 0
    os.close(dst)
    os.close(src)
    assert s3.get(prefix + "testing/pkg.deb") == data
    with open(m.path("testing/pkg.deb"), "rb") as f:
        assert f.read() == data
    # A partial range falls back to an ordinary copy.
    src = os.open(m.path("stable/pkg.deb"), os.O_RDONLY)
    dst = os.open(m.path("part"), os.O_WRONLY | os.O_CREAT, 0o644)
    assert os.copy_file_range(src, dst, 1000, 10, 0) == 1000
    os.close(dst)
    os.close(src)
    assert s3.get(prefix + "part") == data[10:1010]


def test_read_only_mount_refuses_writes(s3, prefix, mount_factory):
    s3.put(prefix + "f", b"x")
    m = mount_factory(prefix, "ro")
    assert errno_of(os.open, m.path("f"), os.O_WRONLY) == errno.EROFS
    assert errno_of(os.mkdir, m.path("d")) == errno.EROFS
    assert errno_of(os.unlink, m.path("f")) == errno.EROFS
    assert s3.get(prefix + "f") == b"x"
