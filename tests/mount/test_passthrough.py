"""FUSE passthrough of files the block cache holds whole, on a real mount
against RGW: after a clean remount the kernel reads a cached file from the
cache's data file itself (the daemon sees no READ, S3 no GET, and the bytes
are exact), a data file changed behind the cache's back is checked and not
passed through, a writer of a file that a passthrough reader holds open
succeeds (the reader keeps the old bytes), and `no_passthrough` turns it off.

Passthrough needs Linux 6.9+ and root (CAP_SYS_ADMIN for the backing-file
ioctl): without them the tests skip with the reason."""
import glob
import os
import re

import pytest

from conftest import sha256
from test_cache import drop_caches, read, requests, unmount

MIB = 1 << 20


def fuse_reads(log):
    lines = [l for l in log.splitlines() if "FUSE requests:" in l]
    assert lines, "no FUSE request counts in the log:\n" + log
    m = re.search(r"\bread=(\d+)", lines[-1])
    return int(m.group(1)) if m else 0


def need_passthrough(log):
    if "kernel does not offer it" in log:
        pytest.skip("the kernel does not offer FUSE passthrough (Linux 6.9+ needed)")
    if "FUSE passthrough is off" in log:
        pytest.skip("FUSE passthrough refused: " +
                    [l for l in log.splitlines() if "passthrough is off" in l][0])


@pytest.fixture
def cached(s3, prefix, mount_factory, tmp_path):
    """A 12 MiB + 5 object read through two mounts of one cache dir: the
    first fills the cache, the second checks every block (and stamps them at
    its clean unmount). Returns (body, mount options)."""
    body = os.urandom(12 * MIB + 5)
    s3.put(prefix + "pt/big.bin", body)
    opts = "cache_dir=%s,log_level=debug" % (tmp_path / "cache")
    for _ in range(2):
        m = mount_factory(prefix, opts)
        assert sha256(read(m.path("pt/big.bin"))) == sha256(body)
        log = unmount(m)
        need_passthrough(log)
    return body, opts


def test_remount_reads_a_cached_file_without_the_daemon(cached, prefix, mount_factory):
    body, opts = cached
    drop_caches()
    m = mount_factory(prefix, opts)
    assert sha256(read(m.path("pt/big.bin"))) == sha256(body)
    with open(m.path("pt/big.bin"), "rb") as f:  # random offsets too
        for off in (0, 5, MIB - 1, 7 * MIB + 3, len(body) - 10):
            f.seek(off)
            assert f.read(4096) == body[off:off + 4096]
    log = unmount(m)
    need_passthrough(log)
    assert fuse_reads(log) == 0, log
    assert requests(log).get("GetObject", 0) == 0


def test_changed_data_file_is_checked_not_passed_through(cached, prefix, mount_factory,
                                                         tmp_path):
    body, opts = cached
    files = glob.glob(str(tmp_path / "cache" / "data" / "*" / "*"))
    assert len(files) == 1, files
    with open(files[0], "r+b") as f:  # one flipped byte in block 3
        f.seek(3 * MIB + 17)
        c = f.read(1)
        f.seek(3 * MIB + 17)
        f.write(bytes([c[0] ^ 0x40]))
    drop_caches()
    m = mount_factory(prefix, opts)
    assert sha256(read(m.path("pt/big.bin"))) == sha256(body)
    log = unmount(m)
    assert fuse_reads(log) > 0, log
    assert requests(log).get("GetObject", 0) >= 1, log  # the bad block again


def test_writer_while_a_passthrough_reader_is_open(cached, prefix, mount_factory, s3):
    body, opts = cached
    m = mount_factory(prefix, opts)
    path = m.path("pt/big.bin")
    ino_before = os.stat(path).st_ino
    with open(path, "rb") as reader:
        assert reader.read(MIB) == body[:MIB]
        with open(path, "wb") as writer:  # O_TRUNC over the open reader
            writer.write(b"new content\n")
        assert reader.read() == body[MIB:]  # the old version, whole
    assert read(path) == b"new content\n"
    assert os.stat(path).st_ino != ino_before
    log = unmount(m)
    assert s3.get(prefix + "pt/big.bin") == b"new content\n"
    need_passthrough(log)


def test_no_passthrough_option_reads_through_the_daemon(cached, prefix, mount_factory):
    body, opts = cached
    drop_caches()
    m = mount_factory(prefix, opts + ",no_passthrough")
    assert sha256(read(m.path("pt/big.bin"))) == sha256(body)
    log = unmount(m)
    assert fuse_reads(log) > 0, log
    assert requests(log).get("GetObject", 0) == 0
