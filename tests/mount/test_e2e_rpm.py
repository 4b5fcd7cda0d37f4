"""End-to-end RPM (dnf) repository on a repofs mount, served by nginx.

Real tools all the way: rpmbuild makes noarch packages offline (hello-repofs
1.0 and 1.1, other-repofs 2.0, each with an incompressible payload), they are
copied into the mount and published with createrepo_c in three ways:

1. plain `createrepo_c` (its sqlite databases are built inside the mount's
   temporary .repodata/ and then renamed to repodata/),
2. `createrepo_c --update --local-sqlite -v`, which must reuse the metadata of
   the unchanged 1.0 package ("CACHE HIT": its size and mtime on the mount did
   not change) and read the new one,
3. examples/publish/rpm.sh (cp + createrepo_c --update --local-sqlite).

nginx serves the tree with the location blocks of examples/nginx/rpm.conf.
After every publish, repomd.xml as served is checked against the files nginx
serves (checksum, size, open-checksum and open-size of every metadata file),
and primary.xml against the served packages (sha256 and size). dnf 4 (an
isolated --installroot: its config, cache, logs, history and rpmdb stay in a
temporary directory; no system repositories) then downloads through nginx
with `dnf download --destdir` (dnf-plugins-core): the newest version and a
pinned older one, byte-identical to what rpmbuild made.
"""
import bz2
import glob
import gzip
import hashlib
import os
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET

from tools import fetch, need, read_bytes, run

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")
REPO_NS = "{http://linux.duke.edu/metadata/repo}"
COMMON_NS = "{http://linux.duke.edu/metadata/common}"


def build_rpm(workdir, name, version, payload_bytes=200_000):
    """rpmbuild -bb of a minimal noarch package with PAYLOAD_BYTES of random
    data in /usr/share/NAME/payload; returns the .rpm path."""
    top = os.path.join(str(workdir), "rpmbuild")
    spec = os.path.join(str(workdir), "%s-%s.spec" % (name, version))
    with open(spec, "w") as f:
        f.write("Name: %(n)s\nVersion: %(v)s\nRelease: 1\nSummary: repofs e2e test\n"
                "License: MIT\nBuildArch: noarch\n%%description\nrepofs end-to-end test\n"
                "%%install\nmkdir -p %%{buildroot}/usr/share/%(n)s\n"
                "head -c %(b)d /dev/urandom > %%{buildroot}/usr/share/%(n)s/payload\n"
                "%%files\n/usr/share/%(n)s/payload\n" % {"n": name, "v": version,
                                                         "b": payload_bytes})
    run(["rpmbuild", "-bb", "--define", "_topdir " + top, spec])
    path = os.path.join(top, "RPMS/noarch/%s-%s-1.noarch.rpm" % (name, version))
    assert os.path.isfile(path), os.listdir(os.path.join(top, "RPMS/noarch"))
    return path


def rpm_conf_locations():
    """The location blocks of examples/nginx/rpm.conf (from the first
    `location` to the server block's closing brace)."""
    with open(os.path.join(EXAMPLES, "nginx", "rpm.conf")) as f:
        text = f.read()
    body = text[text.index("    location "):text.rindex("}")]
    assert "repomd" in body and "autoindex on;" in body
    return body


class Dnf:
    """dnf with everything in an own --installroot (config, cache, logs,
    history, rpmdb) and one repository `t` at BASEURL, gpgcheck off."""

    def __init__(self, workdir, baseurl):
        self.dir = os.path.join(str(workdir), "dnf")
        self.root = os.path.join(self.dir, "root")
        os.makedirs(self.root)
        self.conf = os.path.join(self.dir, "dnf.conf")
        with open(self.conf, "w") as f:
            # cachedir/logdir/persistdir are taken inside the installroot.
            f.write("[main]\ncachedir=/var/cache/dnf\nlogdir=/var/log\n"
                    "persistdir=/var/lib/dnf\nreposdir=/dev/null\ngpgcheck=0\n"
                    "install_weak_deps=0\nkeepcache=0\nmetadata_expire=0\n")
        self.baseurl = baseurl

    def download(self, spec, destdir):
        """Resolves SPEC (a name or NAME-VERSION) against fresh metadata and
        downloads it to DESTDIR; returns the .rpm files there."""
        os.makedirs(destdir, exist_ok=True)
        run(["dnf", "-y", "--config=" + self.conf, "--installroot=" + self.root,
             "--releasever=1", "--setopt=reposdir=/dev/null",
             "--repofrompath=t," + self.baseurl, "--repo=t", "--setopt=t.gpgcheck=0",
             "--refresh", "download", "--destdir", destdir, spec])
        return sorted(glob.glob(os.path.join(destdir, "*.rpm")))


def check_served_repodata(base_url):
    """repomd.xml as served names metadata files whose served bytes have the
    named checksum and size (and open-checksum/open-size once decompressed);
    returns {package file name: (sha256, size)} from primary.xml."""
    status, headers, repomd = fetch(base_url + "repodata/repomd.xml")
    assert status == 200
    # examples/nginx/rpm.conf: repomd.xml is revalidated every time.
    assert headers.get("Cache-Control") == "no-cache", headers
    root = ET.fromstring(repomd)
    served = {}
    for data in root.findall(REPO_NS + "data"):
        kind = data.get("type")
        href = data.find(REPO_NS + "location").get("href")
        checksum = data.find(REPO_NS + "checksum")
        assert checksum.get("type") == "sha256", (kind, checksum.get("type"))
        status, _, body = fetch(base_url + href)
        assert status == 200, href
        assert hashlib.sha256(body).hexdigest() == checksum.text, "%s: checksum" % href
        assert len(body) == int(data.find(REPO_NS + "size").text), "%s: size" % href
        opened = {".gz": gzip.decompress, ".bz2": bz2.decompress}[os.path.splitext(href)[1]](body)
        assert hashlib.sha256(opened).hexdigest() == data.find(REPO_NS + "open-checksum").text
        assert len(opened) == int(data.find(REPO_NS + "open-size").text)
        served[kind] = opened
    assert {"primary", "filelists", "other", "primary_db"} <= set(served), sorted(served)
    packages = {}
    for pkg in ET.fromstring(served["primary"]).findall(COMMON_NS + "package"):
        href = pkg.find(COMMON_NS + "location").get("href")
        digest = pkg.find(COMMON_NS + "checksum").text
        size = int(pkg.find(COMMON_NS + "size").get("package"))
        status, _, body = fetch(base_url + href)
        assert status == 200, href
        assert (hashlib.sha256(body).hexdigest(), len(body)) == (digest, size), href
        packages[os.path.basename(href)] = (digest, size)
    return packages, served["primary_db"]


def sqlite_packages(db_bytes, workdir):
    """(name, version) rows of a served primary.sqlite."""
    path = os.path.join(str(workdir), "primary.sqlite")
    with open(path, "wb") as f:
        f.write(db_bytes)
    with sqlite3.connect(path) as db:
        rows = sorted(db.execute("SELECT name, version FROM packages"))
    os.unlink(path)
    return rows


def digest_of(path):
    data = read_bytes(path)
    return hashlib.sha256(data).hexdigest(), len(data)


def test_dnf_downloads_through_nginx_from_createrepo_on_mount(prefix, mount_factory,
                                                               nginx_factory, tmp_path):
    for tool in ("rpmbuild", "createrepo_c", "dnf", "nginx"):
        need(tool)
    build = tmp_path / "build"
    build.mkdir()
    hello10 = build_rpm(build, "hello-repofs", "1.0")
    hello11 = build_rpm(build, "hello-repofs", "1.1")
    other20 = build_rpm(build, "other-repofs", "2.0", payload_bytes=1_500_000)

    m = mount_factory(prefix)
    repo = m.path("rpm")
    os.makedirs(os.path.join(repo, "Packages"))
    nginx = nginx_factory(repo, rpm_conf_locations())
    base = nginx.url("/")
    dnf = Dnf(tmp_path, base)

    # 1. Plain createrepo_c: sqlite databases built on the mount.
    shutil.copy(hello10, os.path.join(repo, "Packages"))
    run(["createrepo_c", repo])
    assert not os.path.exists(os.path.join(repo, ".repodata"))
    packages, primary_db = check_served_repodata(base)
    assert packages == {os.path.basename(hello10): digest_of(hello10)}
    assert sqlite_packages(primary_db, tmp_path) == [("hello-repofs", "1.0")]
    got = dnf.download("hello-repofs", str(tmp_path / "dl1"))
    assert [os.path.basename(p) for p in got] == [os.path.basename(hello10)]
    assert read_bytes(got[0]) == read_bytes(hello10)

    # 2. --update: the unchanged package's metadata is reused (its size and
    # mtime on the mount are what createrepo_c recorded), the new one is read.
    shutil.copy(hello11, os.path.join(repo, "Packages"))
    out = run(["createrepo_c", "--update", "--local-sqlite", "-v", repo])
    assert "CACHE HIT %s" % os.path.basename(hello10) in out, out[-3000:]
    assert "CACHE HIT %s" % os.path.basename(hello11) not in out
    packages, primary_db = check_served_repodata(base)
    assert packages == {os.path.basename(p): digest_of(p) for p in (hello10, hello11)}
    assert sqlite_packages(primary_db, tmp_path) == [("hello-repofs", "1.0"),
                                                    ("hello-repofs", "1.1")]
    # Old repodata.old.* directories are gone, only repomd.xml + named files.
    assert not [n for n in os.listdir(repo) if n.startswith(("repodata.old", ".repodata"))]

    # 3. examples/publish/rpm.sh.
    run([os.path.join(EXAMPLES, "publish", "rpm.sh"), other20],
        env=dict(os.environ, MNT=m.dir, REPO="rpm"))
    packages, primary_db = check_served_repodata(base)
    assert packages == {os.path.basename(p): digest_of(p) for p in (hello10, hello11, other20)}
    names = sorted(os.listdir(os.path.join(repo, "repodata")))
    assert len(names) == 7 and "repomd.xml" in names, names

    # dnf through nginx: the newest version, a pinned older one, another
    # package, all byte-identical to what rpmbuild made.
    got = dnf.download("hello-repofs", str(tmp_path / "dl2"))
    assert [os.path.basename(p) for p in got] == [os.path.basename(hello11)]
    assert read_bytes(got[0]) == read_bytes(hello11)
    got = dnf.download("hello-repofs-1.0", str(tmp_path / "dl3"))
    assert [os.path.basename(p) for p in got] == [os.path.basename(hello10)]
    assert read_bytes(got[0]) == read_bytes(hello10)
    got = dnf.download("other-repofs", str(tmp_path / "dl4"))
    assert [os.path.basename(p) for p in got] == [os.path.basename(other20)]
    assert read_bytes(got[0]) == read_bytes(other20)
    # dnf kept its state in the installroot.
    assert glob.glob(os.path.join(dnf.root, "var/cache/dnf/t-*/repodata/repomd.xml"))
    # What dnf cached as repomd.xml is what the mount holds.
    cached = glob.glob(os.path.join(dnf.root, "var/cache/dnf/t-*/repodata/repomd.xml"))[0]
    assert read_bytes(cached) == read_bytes(os.path.join(repo, "repodata/repomd.xml"))
    assert re.search(rb"<revision>\d+</revision>", read_bytes(cached))
