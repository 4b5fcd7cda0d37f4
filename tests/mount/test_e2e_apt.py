"""End to end: a Debian repository published by reprepro onto a real repofs
mount (real RGW), served by nginx from the mount, consumed by a real apt-get.

test_debian_publish_update_remove: reprepro (state on local disk, --outdir on
the mount, signed with a throwaway key) runs includedeb, a newer version
replacing an older one, remove and export. After every step apt-get update
through nginx with signed-by accepts the repository, the InRelease nginx
serves is the one apt stored and verifies with gpgv, and every SHA256 it
lists matches the index file nginx serves. apt-get install --download-only
gets .debs byte-identical to the published ones, and the newer version after
it is published. An update with nothing changed gets 304 for InRelease (nginx
access log) and "Hit:" from apt. Resume: Range + If-Range with the served
Last-Modified gets 206 and the exact slice, a different date gets 200 and the
full body, and apt itself resumes a partial download with a 206. remove prunes
pool/main/o/<pkg> from the mount and from S3 and drops it from Packages.

test_promotion_is_server_side_copy: `cp staging/x.deb stable/` within one
mount (coreutils uses copy_file_range) becomes a server-side CopyObject: the
daemon's own unmount counters show a copy and no GetObject, PutObject or
UploadPart; the copy reads back byte-exact through a new mount and nginx.
"""
import email.utils
import glob
import os
import re
import subprocess
import time

import pytest

from conftest import sha256
from debrepo import AptClient, Reprepro, SigningKey, make_deb
from test_cache import requests as s3_requests, unmount
from tools import fetch, read_bytes as read

MIB = 1 << 20
CODENAME = "bookworm"


@pytest.fixture
def signing_key():
    key = SigningKey()
    yield key
    key.close()


def s3_keys(s3, key_prefix):
    """Every key under KEY_PREFIX (ls -r: the key is the last column)."""
    out = s3.run("ls", "-r", "%s/%s" % (s3.bucket, key_prefix)).stdout.decode()
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


class AccessLog:
    """nginx's access log (combined format); new() returns the request lines
    ("GET /path HTTP/1.1" STATUS) written since the last call."""

    def __init__(self, path):
        self.path, self.offset = str(path), 0

    def directive(self):
        return "access_log %s;" % self.path

    def new(self):
        with open(self.path) as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        return [(m.group(1), int(m.group(2)))
                for m in re.finditer(r'"(\w+ \S+) HTTP/[\d.]+" (\d{3}) ', text)]


def statuses(requests, path):
    return [status for req, status in requests if req == "GET " + path]


def parse_sha256(release):
    """{path: (sha256, size)} from the SHA256 section of a Release/InRelease."""
    entries, section = {}, False
    for line in release.splitlines():
        if not line.startswith(" "):
            section = line.startswith("SHA256:")
            continue
        if section:
            digest, size, path = line.split()
            entries[path] = (digest, int(size))
    return entries


def parse_packages(text):
    """{package: stanza dict} from a Packages file."""
    packages = {}
    for stanza in text.strip().split("\n\n"):
        if not stanza.strip():
            continue
        fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                      if ": " in line and not line.startswith(" "))
        packages[fields["Package"]] = fields
    return packages


def next_second(m):
    """Waits until the clock is past the second of the current InRelease's
    mtime. HTTP dates have 1 s resolution: an InRelease replaced within the
    same second is answered 304 to apt's If-Modified-Since (by nginx as by
    any server), so every publication apt must see starts a second later."""
    path = m.path("debian/dists/%s/InRelease" % CODENAME)
    delay = int(os.stat(path).st_mtime) + 1 - time.time()
    assert delay < 2, "InRelease mtime is in the future: %.1f s" % delay
    if delay > 0:
        time.sleep(delay)


def check_repository(nginx, apt, key):
    """The InRelease nginx serves is the one apt accepted, verifies with the
    key, and every SHA256 it lists matches what nginx serves. Returns the
    packages of main/binary-amd64/Packages."""
    base = "debian/dists/%s/" % CODENAME
    status, _, inrelease = fetch(nginx.url(base + "InRelease"))
    assert status == 200
    stored = glob.glob(os.path.join(apt.dir, "lists", "*_dists_%s_InRelease" % CODENAME))
    assert len(stored) == 1, os.listdir(os.path.join(apt.dir, "lists"))
    assert read(stored[0]) == inrelease, "nginx serves an InRelease apt did not get"
    p = subprocess.run(["gpgv", "--keyring", key.keyring], input=inrelease,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    entries = parse_sha256(inrelease.decode())
    assert "main/binary-amd64/Packages" in entries, entries
    for path, (digest, size) in entries.items():
        status, _, body = fetch(nginx.url(base + path))
        assert status == 200, path
        assert (sha256(body), len(body)) == (digest, size), "InRelease does not match " + path
    _, _, packages = fetch(nginx.url(base + "main/binary-amd64/Packages"))
    return parse_packages(packages.decode())


def check_range_requests(nginx, path):
    """Range + If-Range with the served Last-Modified: 206 and the exact
    slice; If-Range with another date: 200 and the full body."""
    status, headers, full = fetch(nginx.url(path))
    assert status == 200 and len(full) > 8192
    last_modified = headers["Last-Modified"]
    for first, last in ((1000, 5095), (len(full) // 2, None)):
        spec = "bytes=%d-%s" % (first, "" if last is None else last)
        status, headers, body = fetch(nginx.url(path), {"Range": spec, "If-Range": last_modified})
        end = len(full) if last is None else last + 1
        assert status == 206, (spec, status)
        assert headers["Content-Range"] == "bytes %d-%d/%d" % (first, end - 1, len(full))
        assert body == full[first:end], spec
    other = email.utils.formatdate(email.utils.parsedate_to_datetime(last_modified).timestamp()
                                   - 3600, usegmt=True)
    status, _, body = fetch(nginx.url(path), {"Range": "bytes=1000-5095", "If-Range": other})
    assert status == 200 and body == full, "If-Range with another date must send the whole file"
    return full, last_modified


def apt_resume(apt, log, package, full, last_modified, url_path):
    """apt-get resumes a half-downloaded .deb in archives/partial (Range from
    its size, If-Range from its mtime): nginx answers 206, the result is exact."""
    apt.clear_archives()
    partial = os.path.join(apt.dir, "cache/archives/partial", os.path.basename(url_path))
    with open(partial, "wb") as f:
        f.write(full[:len(full) // 2])
    mtime = email.utils.parsedate_to_datetime(last_modified).timestamp()
    os.utime(partial, (mtime, mtime))
    log.new()
    debs = apt.download(package)
    assert [os.path.basename(d) for d in debs] == [os.path.basename(url_path)]
    assert read(debs[0]) == full
    assert statuses(log.new(), "/" + url_path) == [206]


def test_debian_publish_update_remove(s3, prefix, mount_factory, nginx_factory, tmp_path,
                                      signing_key):
    work = tmp_path / "debs"
    work.mkdir()
    hello1 = make_deb(work, "hello", "1.0", payload_bytes=256 * 1024)
    other1 = make_deb(work, "other", "1.0")
    hello2 = make_deb(work, "hello", "2.0", payload_bytes=256 * 1024)
    m = mount_factory(prefix)
    repo = Reprepro(tmp_path / "state", m.path("debian"), signing_key, codename=CODENAME)
    log = AccessLog(tmp_path / "access.log")
    n = nginx_factory(m.path(), extra=log.directive())
    apt = AptClient(tmp_path / "apt", n.url("debian"), signing_key.keyring, codename=CODENAME)
    inrelease = "/debian/dists/%s/InRelease" % CODENAME

    # First publication: both packages, downloaded byte-identical.
    repo.includedeb(hello1, other1)
    apt.update()
    packages = check_repository(n, apt, signing_key)
    assert {p: packages[p]["Version"] for p in packages} == {"hello": "1.0", "other": "1.0"}
    debs = apt.download("hello", "other")
    assert [os.path.basename(d) for d in debs] == ["hello_1.0_all.deb", "other_1.0_all.deb"]
    for got, published in zip(debs, (hello1, other1)):
        pool = m.path("debian/" + packages[os.path.basename(published).split("_")[0]]["Filename"])
        assert sha256(read(got)) == sha256(read(published)) == sha256(read(pool))

    # Nothing changed: InRelease revalidates with 304, apt says Hit.
    log.new()
    out = apt.update()
    assert re.search(r"^Hit:\d+ \S+ %s InRelease" % CODENAME, out, re.M), out
    assert statuses(log.new(), inrelease) == [304]

    # Resume: If-Range with the served Last-Modified by hand, then by apt.
    hello1_path = "debian/" + packages["hello"]["Filename"]
    full, last_modified = check_range_requests(n, hello1_path)
    assert full == read(hello1)
    apt_resume(apt, log, "hello", full, last_modified, hello1_path)

    # A newer version replaces the older one.
    next_second(m)
    repo.includedeb(hello2)
    log.new()
    out = apt.update()
    assert re.search(r"^Get:\d+ \S+ %s InRelease" % CODENAME, out, re.M), out
    assert statuses(log.new(), inrelease) == [200]
    packages = check_repository(n, apt, signing_key)
    assert packages["hello"]["Version"] == "2.0"
    apt.clear_archives()
    debs = apt.download("hello")
    assert [os.path.basename(d) for d in debs] == ["hello_2.0_all.deb"]
    assert sha256(read(debs[0])) == sha256(read(hello2))
    assert not os.path.exists(m.path(hello1_path)), "the replaced version stays in the pool"
    assert "%sdebian/pool/main/h/hello/hello_2.0_all.deb" % prefix in s3_keys(
        s3, prefix + "debian/pool/main/h/hello/")
    assert not [k for k in s3_keys(s3, prefix + "debian/pool/main/h/") if "hello_1.0" in k]

    # remove: reprepro prunes pool/main/o/other and then the empty
    # pool/main/o (rmdir until ENOTEMPTY), on the mount and in S3.
    assert os.path.isdir(m.path("debian/pool/main/o/other"))
    next_second(m)
    repo.remove("other")
    assert not os.path.exists(m.path("debian/pool/main/o/other"))
    assert not os.path.exists(m.path("debian/pool/main/o"))
    assert sorted(os.listdir(m.path("debian/pool/main"))) == ["h"]
    assert s3_keys(s3, prefix + "debian/pool/main/o") == []
    apt.update()
    packages = check_repository(n, apt, signing_key)
    assert sorted(packages) == ["hello"]
    p = subprocess.run(apt.argv("install", "--download-only", "other"),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "Unable to locate package other" in p.stdout + p.stderr

    # export rewrites every index; apt accepts the result again.
    next_second(m)
    repo("export")
    apt.update()
    assert sorted(check_repository(n, apt, signing_key)) == ["hello"]


def test_promotion_is_server_side_copy(s3, prefix, mount_factory, nginx_factory, tmp_path):
    deb = make_deb(tmp_path, "bigpkg", "1.0", payload_bytes=20 * MIB)
    name = os.path.basename(deb)
    data = read(deb)
    # Staging content and both directories come from S3 directly, so the
    # promoting mount's counters hold nothing but the promotion.
    s3.put(prefix + "staging/", b"")
    s3.put(prefix + "stable/", b"")
    s3.put_file(prefix + "staging/" + name, deb)

    m = mount_factory(prefix)
    subprocess.run(["cp", m.path("staging/" + name), m.path("stable/")], check=True, timeout=120)
    counts = s3_requests(unmount(m))
    copies = counts.get("CopyObject", 0) + counts.get("UploadPartCopy", 0)
    assert copies >= 1, counts
    # No request carried the object's bytes through the daemon.
    for op in ("GetObject", "PutObject", "UploadPart"):
        assert counts.get(op, 0) == 0, (op, counts)

    m2 = mount_factory(prefix)
    n = nginx_factory(m2.path())
    promoted = m2.path("stable/" + name)
    assert os.stat(promoted).st_size == len(data)
    assert sha256(read(promoted)) == sha256(data)
    status, headers, body = fetch(n.url("stable/" + name))
    assert status == 200 and int(headers["Content-Length"]) == len(data)
    assert sha256(body) == sha256(data)
    assert sha256(read(m2.path("staging/" + name))) == sha256(data)
