"""The persistent block cache on a real mount against RGW: remounts read with
zero GETs (the daemon's own request counters, logged at unmount), the cache
stays within cache_size, a changed object is read back new, and with RGW
stopped (SIGSTOP, then killed) nginx keeps serving cached files byte-exact
while uncached ones fail quickly; after RGW is back everything is normal."""
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import env, sha256

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def drop_caches():
    """Drops the page cache so reads reach the daemon (root only)."""
    subprocess.run(["sync"], check=True)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    except OSError as e:
        pytest.fail("cannot drop the page cache (%s): these tests run as root" % e)


def unmount(m):
    """Unmounts `m` and returns its log (the daemon logs its S3 request
    counts at unmount)."""
    subprocess.run(["fusermount3", "-u", m.dir], capture_output=True, timeout=60)
    m.proc.wait(timeout=60)
    return m.logtext()


def requests(log):
    lines = [l for l in log.splitlines() if "S3 requests:" in l]
    assert lines, "no request counts in the log:\n" + log
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1].split("S3 requests:")[1])}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cache_bytes(s3, cache_dir):
    p = subprocess.run([s3.bin, "cache", "stats", "-o", "cache_dir=%s" % cache_dir],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    m = re.search(r"\((\d+) bytes", p.stdout)
    assert m, p.stdout
    return int(m.group(1))


def test_remount_reads_with_zero_gets(s3, prefix, mount_factory, tmp_path):
    big = os.urandom(20 * MIB + 5)
    small = os.urandom(1000)
    s3.put(prefix + "big.bin", big)
    s3.put(prefix + "d/small.txt", small)
    opts = "cache_dir=%s" % (tmp_path / "cache")
    m = mount_factory(prefix, opts)
    assert sha256(read(m.path("big.bin"))) == sha256(big)
    assert read(m.path("d/small.txt")) == small
    first = requests(unmount(m))
    assert first.get("GetObject", 0) >= 2, first

    drop_caches()
    m = mount_factory(prefix, opts)
    assert sha256(read(m.path("big.bin"))) == sha256(big)
    assert read(m.path("d/small.txt")) == small
    again = requests(unmount(m))
    assert again.get("GetObject", 0) == 0, again


def test_remount_ls_l_is_one_list_pass_without_heads(s3, prefix, mount_factory, tmp_path):
    """After a remount, `ls -l` of a directory seen before needs its LIST pass
    and the HEAD of its marker only: the entries' s3fs metadata comes from the
    cache by version, and the directory is known to be one from the mount's
    listing of the root (no probe of its name)."""
    names = ["pkg-%03d.deb" % i for i in range(300)]
    for n in names[:3]:
        s3.put(prefix + "pool/" + n, n.encode())
    # The rest through the mount: faster than 297 CLI processes, same objects.
    opts = "cache_dir=%s" % (tmp_path / "cache")
    m = mount_factory(prefix, opts)
    for n in names[3:]:
        with open(m.path("pool/" + n), "wb") as f:
            f.write(n.encode())
    unmount(m)
    m = mount_factory(prefix, opts)
    first = subprocess.run(["ls", "-l", m.path("pool")], capture_output=True, text=True,
                           timeout=120)
    unmount(m)

    drop_caches()
    m = mount_factory(prefix, opts)
    p = subprocess.run(["ls", "-l", m.path("pool")], capture_output=True, text=True, timeout=120)
    again = requests(unmount(m))
    assert p.returncode == 0 and p.stdout == first.stdout
    assert len(p.stdout.splitlines()) == 301
    assert again.get("HeadObject", 0) == 1, again  # the marker "pool/"
    assert again.get("ListObjects", 0) <= 2, again  # the root (mount check), one page


def test_cache_stays_within_cache_size(s3, prefix, mount_factory, tmp_path):
    limit = 16 * MIB
    cache_dir = tmp_path / "cache"
    blobs = {"f%d.bin" % i: os.urandom(limit) for i in range(3)}
    for name, data in blobs.items():
        s3.put(prefix + name, data)
    m = mount_factory(prefix, "cache_dir=%s,cache_size=%d" % (cache_dir, limit))
    for name, data in blobs.items():
        assert sha256(read(m.path(name))) == sha256(data)
        assert cache_bytes(s3, cache_dir) <= limit  # stats work while mounted
    # Everything read again, now partly from S3 (evicted), byte-exact.
    drop_caches()
    for name, data in blobs.items():
        assert sha256(read(m.path(name))) == sha256(data)
    unmount(m)
    assert 0 < cache_bytes(s3, cache_dir) <= limit
    data_bytes = sum(os.stat(os.path.join(dp, f)).st_blocks * 512
                     for dp, _, fs in os.walk(cache_dir) for f in fs
                     if not f.endswith(".mdb"))
    assert data_bytes <= limit + MIB, data_bytes


def test_changed_object_is_read_new(s3, prefix, mount_factory, tmp_path):
    old = os.urandom(3 * MIB)
    new = os.urandom(3 * MIB)  # same size, other bytes, other ETag
    s3.put(prefix + "f.bin", old)
    opts = "cache_dir=%s,metadata_ttl=1s,negative_ttl=1s" % (tmp_path / "cache")
    m = mount_factory(prefix, opts)
    assert read(m.path("f.bin")) == old
    s3.put(prefix + "f.bin", new)
    time.sleep(1.5)
    drop_caches()
    assert read(m.path("f.bin")) == new
    unmount(m)
    # After a remount the cache holds both versions; only the new one is
    # served, and from the cache.
    drop_caches()
    m = mount_factory(prefix, opts)
    assert read(m.path("f.bin")) == new
    assert requests(unmount(m)).get("GetObject", 0) == 0


def fetch(url, timeout=60):
    """(status, body, seconds); status None when the transfer broke."""
    t = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except Exception:  # connection reset / incomplete read mid-body
        status, body = None, b""
    return status, body, time.monotonic() - t


@pytest.fixture
def rgw():
    """The test RGW's radosgw pid and a restart that always runs."""
    rgw_dir = env("REPOFS_TEST_RGW_DIR")
    with open(os.path.join(rgw_dir, "run", "client.rgw.a.pid")) as f:
        pid = int(f.read().strip())
    yield pid
    subprocess.run([os.path.join(ROOT, "scripts", "rgw"), "restart-rgw", rgw_dir],
                   check=True, capture_output=True, timeout=120)


def test_outage_serves_cached_and_fails_uncached_fast(s3, prefix, mount_factory,
                                                       nginx_factory, tmp_path, rgw):
    cached = os.urandom(3 * MIB + 7)
    uncached = os.urandom(2 * MIB)
    s3.put(prefix + "repo/cached.deb", cached)
    s3.put(prefix + "repo/uncached.deb", uncached)
    m = mount_factory(prefix, "cache_dir=%s,metadata_ttl=1s,negative_ttl=1s,"
                              "low_speed_time=2s,connect_timeout=2s,max_retries=1"
                      % (tmp_path / "cache"))
    n = nginx_factory(m.path())
    status, body, _ = fetch(n.url("repo/cached.deb"))
    assert status == 200 and body == cached
    status, body, _ = fetch(n.url("repo/"))  # the listing names both files
    assert status == 200 and b"uncached.deb" in body

    os.kill(rgw, signal.SIGSTOP)  # hangs every request
    try:
        time.sleep(1.5)  # past metadata_ttl: every answer needs S3 now
        drop_caches()
        for _ in range(3):
            status, body, secs = fetch(n.url("repo/cached.deb"))
            assert status == 200 and body == cached, (status, len(body), secs)
            assert secs < 20, secs
        status, body, secs = fetch(n.url("repo/uncached.deb"))
        assert not (status == 200 and body == uncached)
        assert secs < 10, secs
    finally:
        os.kill(rgw, signal.SIGCONT)
    os.kill(rgw, signal.SIGKILL)  # now refused outright
    time.sleep(1.5)
    drop_caches()
    status, body, secs = fetch(n.url("repo/cached.deb"))
    assert status == 200 and body == cached and secs < 10, (status, secs)
    status, body, secs = fetch(n.url("repo/uncached.deb"))
    assert not (status == 200 and body == uncached) and secs < 10, (status, secs)

    subprocess.run([os.path.join(ROOT, "scripts", "rgw"), "restart-rgw",
                    env("REPOFS_TEST_RGW_DIR")], check=True, capture_output=True, timeout=120)
    # Back to normal: the uncached file and a new object are served (the
    # breaker lets a probe through within its back-off interval).
    fresh = os.urandom(5000)
    s3.put(prefix + "repo/new.deb", fresh)
    deadline = time.monotonic() + 60
    while True:
        ok = [fetch(n.url("repo/uncached.deb"))[:2] == (200, uncached),
              fetch(n.url("repo/new.deb"))[:2] == (200, fresh)]
        if all(ok):
            break
        assert time.monotonic() < deadline, "not back to normal after RGW returned: %s" % ok
        time.sleep(1)
    log = m.logtext()
    assert "S3 failing" in log and "beyond its TTL" in log, log
