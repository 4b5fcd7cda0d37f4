"""Read path on a real mount: namespace mapping, byte-exact contents,
attribute agreement, replaced objects (issue: mount and serve, read path)."""
import os
import random
import time

import pytest

from conftest import sha256


def put_tree(s3, prefix, keys):
    for key, data in keys.items():
        s3.put(prefix + key, data)


def test_tree_markerless_dirs_unusual_keys_conflicts_and_invalid_keys(s3, prefix, mount_factory):
    keys = {
        "top.txt": b"top\n",
        "a/b/c/deep.txt": b"deep\n",
        "a/b/mid.txt": b"mid\n",
        "dir with space/file name.txt": b"space\n",
        "unicod\u00e9/\u00f1and\u00fa.txt".encode().decode(): b"unicode\n",
        "plus+sign.txt": b"plus\n",
        "percent%41.txt": b"percent\n",
        "tilde~.txt": b"tilde\n",
        "conflict": b"i am a file and a dir\n",
        "conflict/inner.txt": b"inner\n",
        "bad//double.txt": b"hidden\n",
        "dots/../escape.txt": b"hidden\n",
        "dots/./self.txt": b"hidden\n",
        "dots/ok.txt": b"ok\n",
        ("long/" + "x" * 256): b"hidden\n",
    }
    put_tree(s3, prefix, keys)
    m = mount_factory(prefix)
    assert sorted(os.listdir(m.path())) == sorted(
        ["top.txt", "a", "dir with space", "unicod\u00e9", "plus+sign.txt", "percent%41.txt",
         "tilde~.txt", "conflict", "bad", "dots", "long"])
    assert os.listdir(m.path("a")) == ["b"]
    assert sorted(os.listdir(m.path("a/b"))) == ["c", "mid.txt"]
    assert os.path.isdir(m.path("a/b/c"))
    with open(m.path("a/b/c/deep.txt"), "rb") as f:
        assert f.read() == b"deep\n"
    with open(m.path("dir with space/file name.txt"), "rb") as f:
        assert f.read() == b"space\n"
    with open(m.path("unicod\u00e9/\u00f1and\u00fa.txt"), "rb") as f:
        assert f.read() == b"unicode\n"
    for name, data in [("plus+sign.txt", b"plus\n"), ("percent%41.txt", b"percent\n"),
                       ("tilde~.txt", b"tilde\n")]:
        with open(m.path(name), "rb") as f:
            assert f.read() == data
    # An object "conflict" and keys under "conflict/": it is a directory.
    assert os.path.isdir(m.path("conflict"))
    assert os.listdir(m.path("conflict")) == ["inner.txt"]
    # Keys that cannot be names are not shown, and the listing is not confused.
    assert os.listdir(m.path("bad")) == []
    assert os.listdir(m.path("dots")) == ["ok.txt"]
    assert os.listdir(m.path("long")) == []
    assert not os.path.exists(m.path("escape.txt"))
    assert not os.path.exists(m.path("a/b/c/nothing"))


SIZES = [0, 1, 128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1, 8 * 1024 * 1024 + 3]


def test_contents_byte_exact_for_edge_sizes(s3, prefix, mount_factory, tmp_path):
    rng = random.Random(7)
    blobs = {}
    for size in SIZES:
        blobs["f%d" % size] = rng.randbytes(size)
        s3.put(prefix + "f%d" % size, blobs["f%d" % size])
    m = mount_factory(prefix)
    for name, data in blobs.items():
        assert os.stat(m.path(name)).st_size == len(data)
        with open(m.path(name), "rb") as f:
            got = f.read()
        assert len(got) == len(data) and sha256(got) == sha256(data), name


def test_300mib_sequential_and_random_preads(s3, prefix, mount_factory, tmp_path):
    rng = random.Random(300)
    size = 300 * 1024 * 1024
    src = tmp_path / "big"
    block = rng.randbytes(1024 * 1024)
    with open(src, "wb") as f:
        for i in range(300):
            f.write(block[i:] + block[:i])  # distinct 1 MiB blocks
    data = src.read_bytes()
    s3.put_file(prefix + "big.bin", str(src))
    m = mount_factory(prefix)
    path = m.path("big.bin")
    assert os.stat(path).st_size == size
    with open(path, "rb") as f:
        h = __import__("hashlib").sha256()
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    assert h.hexdigest() == sha256(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(200):
            off = rng.randrange(0, size)
            length = rng.choice([1, 17, 4096, 65536, 131073, 1 << 20])
            got = os.pread(fd, length, off)
            assert got == data[off:off + length], (off, length)
    finally:
        os.close(fd)


def test_readdir_and_stat_agree(s3, prefix, mount_factory):
    for i in range(20):
        s3.put(prefix + "d/file%02d" % i, b"x" * i)
    s3.put(prefix + "d/sub/inner", b"inner")
    m = mount_factory(prefix)
    entries = {e.name: (e.inode(), e.stat(follow_symlinks=False)) for e in os.scandir(m.path("d"))}
    assert len(entries) == 21
    for name, (ino, st_from_dir) in entries.items():
        st = os.lstat(m.path("d/" + name))
        assert st.st_ino == ino == st_from_dir.st_ino
        assert st.st_size == st_from_dir.st_size
        assert st.st_mtime == st_from_dir.st_mtime
        assert st.st_mode == st_from_dir.st_mode
    assert os.lstat(m.path("d/file07")).st_size == 7


def test_replaced_object_gets_new_inode_after_ttl(s3, prefix, mount_factory):
    s3.put(prefix + "r.txt", b"version one\n")
    m = mount_factory(prefix, "metadata_ttl=1s,negative_ttl=1s")
    st1 = os.stat(m.path("r.txt"))
    with open(m.path("r.txt"), "rb") as f:
        assert f.read() == b"version one\n"
    s3.put(prefix + "r.txt", b"version two, longer\n")
    time.sleep(1.5)
    st2 = os.stat(m.path("r.txt"))
    assert st2.st_ino != st1.st_ino
    assert st2.st_size == len(b"version two, longer\n")
    with open(m.path("r.txt"), "rb") as f:
        assert f.read() == b"version two, longer\n"
    # A new name appears after the negative TTL.
    assert not os.path.exists(m.path("late.txt"))
    s3.put(prefix + "late.txt", b"late")
    time.sleep(1.5)
    assert os.path.exists(m.path("late.txt"))


def test_reader_of_old_version_never_gets_mixed_bytes(s3, prefix, mount_factory):
    rng = random.Random(11)
    old = rng.randbytes(48 * 1024 * 1024)
    new = rng.randbytes(48 * 1024 * 1024)
    s3.put(prefix + "v.bin", old)
    m = mount_factory(prefix, "metadata_ttl=1s,readahead_max=2M,readahead_initial=1M")
    got = bytearray()
    with open(m.path("v.bin"), "rb", buffering=0) as f:
        got += f.read(1 << 20)
        s3.put(prefix + "v.bin", new)
        try:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                got += chunk
        except OSError as e:
            assert e.errno == 5  # EIO: the pinned version is gone
    # Whatever was returned is a prefix of the OLD version: never new bytes.
    assert bytes(got) == old[:len(got)]
    time.sleep(1.5)
    with open(m.path("v.bin"), "rb") as f:
        assert sha256(f.read()) == sha256(new)
