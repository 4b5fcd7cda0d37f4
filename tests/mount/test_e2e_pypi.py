"""End-to-end PEP 503 "simple" Python index on a repofs mount, served by nginx.

Real tools all the way, offline: Debian's pip builds wheels
(`pip wheel --no-build-isolation --no-deps --no-index`) and setuptools builds
sdists of a project whose name needs PEP 503 normalization ("Repofs_Demo.pkg"
-> simple/repofs-demo-pkg/), versions 1.0 and 1.1, each carrying ~300 KB of
incompressible package data (so every file spans several FUSE reads).

examples/publish/pypi.sh copies them into $MNT/pypi/simple/<normalized name>/
(1.0 first, 1.1 later while nginx is already serving: the new version must
show up through the same mount), and a second run of the script on the same
files must find them published (it compares them through the mount). The
objects in S3 are checked to be the built bytes. nginx serves $MNT/pypi with
the location blocks of examples/nginx/pypi.conf (html autoindex = the index
page). An isolated pip (no config, no cache, no version check) then runs
`pip download --no-deps --index-url http://127.0.0.1:PORT/simple/` with
differently spelled project names: the newest version (the wheel), a pinned
older one (==1.0), and sdists with `--no-binary :all:` (newest and pinned);
every downloaded file is byte-identical to the one built.
"""
import hashlib
import os
import re

from tools import fetch, need, read_bytes, run

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")
PYTHON = "/usr/bin/python3"  # Debian's python: its pip, setuptools and wheel
PROJECT = "Repofs_Demo.pkg"
NORMALIZED = "repofs-demo-pkg"


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pip_env():
    """An isolated pip: no config files, no PIP_* settings from outside, no
    prompts, no user site."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    e.update(PIP_CONFIG_FILE="/dev/null", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    return e


def pip(*args, cwd=None):
    return run([PYTHON, "-m", "pip", *args, "--no-cache-dir", "--disable-pip-version-check"],
               env=pip_env(), cwd=cwd)


def build_dists(workdir, version):
    """Builds the wheel and the sdist of PROJECT VERSION offline; returns
    their paths (wheel, sdist)."""
    src = os.path.join(str(workdir), "src-" + version)
    pkg = os.path.join(src, "repofs_demo")
    os.makedirs(pkg)
    with open(os.path.join(src, "setup.py"), "w") as f:
        f.write("from setuptools import setup\n"
                "setup(name=%r, version=%r, packages=['repofs_demo'],\n"
                "      package_data={'repofs_demo': ['blob.bin']})\n" % (PROJECT, version))
    with open(os.path.join(src, "MANIFEST.in"), "w") as f:
        f.write("include repofs_demo/blob.bin\n")
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("VERSION = %r\n" % version)
    with open(os.path.join(pkg, "blob.bin"), "wb") as f:
        f.write(os.urandom(300_000))
    dist = os.path.join(str(workdir), "dist")
    pip("wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", dist, src)
    run([PYTHON, "setup.py", "-q", "sdist", "-d", dist], cwd=src)
    wheel = os.path.join(dist, "%s-%s-py3-none-any.whl" % (PROJECT, version))
    sdist = os.path.join(dist, "%s-%s.tar.gz" % (PROJECT, version))
    for path in (wheel, sdist):
        assert os.path.isfile(path), sorted(os.listdir(dist))
        assert os.path.getsize(path) > 300_000, path  # the blob is inside
    return wheel, sdist


def pypi_conf_locations():
    """The location blocks of examples/nginx/pypi.conf (from the first
    `location` to the server block's closing brace)."""
    with open(os.path.join(EXAMPLES, "nginx", "pypi.conf")) as f:
        text = f.read()
    body = text[text.index("    location "):text.rindex("}")]
    assert "location /simple/" in body and "autoindex_format html;" in body
    return body


def publish(mnt, *files):
    return run([os.path.join(EXAMPLES, "publish", "pypi.sh"), *files],
               env=dict(os.environ, MNT=mnt))


def download(index, requirement, dest, *extra):
    """pip download REQUIREMENT from INDEX into the empty DEST; returns the
    one file name there."""
    os.makedirs(dest)
    pip("download", "--no-deps", "--no-build-isolation", "--index-url", index,
        "-d", dest, *extra, requirement)
    got = os.listdir(dest)
    assert len(got) == 1, got
    return os.path.join(dest, got[0])


def index_hrefs(url):
    status, headers, body = fetch(url)
    assert status == 200 and headers.get("Content-Type", "").startswith("text/html"), headers
    return set(re.findall(r'<a href="([^"]+)"', body.decode()))


def test_pip_downloads_through_nginx_from_simple_index_on_mount(s3, prefix, mount_factory,
                                                                nginx_factory, tmp_path):
    need("nginx")
    assert pep503(PROJECT) == NORMALIZED
    wheel10, sdist10 = build_dists(tmp_path, "1.0")
    wheel11, sdist11 = build_dists(tmp_path, "1.1")
    built = {os.path.basename(p): read_bytes(p) for p in (wheel10, sdist10, wheel11, sdist11)}
    assert len({hashlib.sha256(b).hexdigest() for b in built.values()}) == 4

    m = mount_factory(prefix)
    project_dir = m.path("pypi/simple/" + NORMALIZED)

    # 1.0 published through the example script, into the normalized directory.
    out = publish(m.dir, wheel10, sdist10)
    for path in (wheel10, sdist10):
        name = os.path.basename(path)
        assert "published %s/%s" % (project_dir, name) in out, out
        assert read_bytes(os.path.join(project_dir, name)) == built[name]
    assert sorted(os.listdir(m.path("pypi/simple"))) == [NORMALIZED]

    nginx = nginx_factory(m.path("pypi"), pypi_conf_locations())
    index = nginx.url("/simple/")
    assert NORMALIZED + "/" in index_hrefs(index)
    status, headers, _ = fetch(index + NORMALIZED + "/")
    assert status == 200 and headers.get("Cache-Control") == "max-age=60", headers  # pypi.conf

    got = download(index, PROJECT, str(tmp_path / "dl-first"))
    assert os.path.basename(got) == os.path.basename(wheel10)
    assert read_bytes(got) == built[os.path.basename(wheel10)]

    # 1.1 published later, while nginx serves: visible at once on the mount.
    out = publish(m.dir, wheel11, sdist11)
    assert out.count("published %s/" % project_dir) == 2, out
    assert index_hrefs(index + NORMALIZED + "/") >= set(built), "index lacks a file"
    # Publishing the same files again: the script compares them on the mount.
    out = publish(m.dir, wheel10, sdist10, wheel11, sdist11)
    assert out.count("already published") == 4, out
    for name, data in built.items():
        assert s3.get("%spypi/simple/%s/%s" % (prefix, NORMALIZED, name)) == data, name

    cases = [  # (requirement as a user spells it, extra pip options, expected file)
        ("repofs-demo-pkg", [], wheel11),
        ("Repofs.Demo_Pkg==1.0", [], wheel10),
        ("REPOFS_DEMO.PKG", ["--no-binary", ":all:"], sdist11),
        ("repofs_demo-pkg==1.0", ["--no-binary", ":all:"], sdist10),
    ]
    for i, (requirement, extra, expected) in enumerate(cases):
        got = download(index, requirement, str(tmp_path / ("dl%d" % i)), *extra)
        name = os.path.basename(expected)
        assert os.path.basename(got) == name, (requirement, extra, got)
        assert read_bytes(got) == built[name], "%s differs from what was built" % name
        # And the mount serves the same bytes that S3 holds.
        assert read_bytes(os.path.join(project_dir, name)) == built[name]
