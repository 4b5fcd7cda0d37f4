"""examples/ works as shipped: the nginx server blocks pass `nginx -t`, the
publish scripts are valid bash, and the apt, PyPI and RPM publish scripts
(with the reprepro setup of examples/reprepro) publish into a real repofs
mount, checked by reading the objects back from S3.

Maven's publish script (mvn deploy:deploy-file) is exercised by the
end-to-end Maven tests, which set up an offline Maven; here only its syntax.
"""
import glob
import pathlib
import os
import shutil
import subprocess


import debrepo
from conftest import free_port
from tools import need, run

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")


def test_nginx_server_blocks_pass_nginx_t(tmp_path):
    need("nginx")
    blocks = [os.path.join(EXAMPLES, "nginx-repofs.conf")] + sorted(
        glob.glob(os.path.join(EXAMPLES, "nginx", "*.conf")))
    assert len(blocks) == 5, blocks
    port = free_port()
    for path in blocks:
        with open(path) as f:
            text = f.read()
        # The settings WORKFLOWS.md asks for, in every server block.
        for setting in ("sendfile on;", "aio threads;", "sendfile_max_chunk 512k;",
                        "directio off;", "open_file_cache off;", "autoindex_format html;"):
            assert setting in text, "%s lacks %s" % (path, setting)
        assert "listen 80;" in text
        (tmp_path / (os.path.basename(path) + ".srv")).write_text(
            text.replace("listen 80;", "listen 127.0.0.1:%d;" % port))
    d = str(tmp_path)
    (tmp_path / "nginx.conf").write_text("""
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  include %(d)s/*.srv;
}
""" % {"d": d})
    p = subprocess.run(["nginx", "-t", "-p", d, "-c", d + "/nginx.conf"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and "test is successful" in p.stderr, p.stderr


def test_publish_scripts_are_valid_bash():
    scripts = sorted(glob.glob(os.path.join(EXAMPLES, "publish", "*.sh")))
    assert [os.path.basename(s) for s in scripts] == ["apt.sh", "maven.sh", "pypi.sh", "rpm.sh"]
    for script in scripts:
        assert os.access(script, os.X_OK), script
        run(["bash", "-n", script])


def script_env(mnt, **extra):
    e = dict(os.environ)
    e["MNT"] = mnt
    e.update(extra)
    return e


def test_pypi_publish_into_mount(s3, prefix, mount_factory, tmp_path):
    m = mount_factory(prefix)
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / "Foo.Bar_baz-1.0-py3-none-any.whl"
    sdist = dist / "Foo.Bar-baz-0.9.tar.gz"
    wheel.write_bytes(b"PK wheel bytes\n" * 1000)
    sdist.write_bytes(b"\x1f\x8b sdist bytes\n" * 1000)
    script = os.path.join(EXAMPLES, "publish", "pypi.sh")
    run([script, str(wheel), str(sdist)], env=script_env(m.dir))
    # PEP 503 normalized directory; the bytes are in S3.
    base = prefix + "pypi/simple/foo-bar-baz/"
    assert s3.get(base + wheel.name) == wheel.read_bytes()
    assert s3.get(base + sdist.name) == sdist.read_bytes()
    # Publishing the same file again is a no-op; different bytes are refused.
    run([script, str(wheel)], env=script_env(m.dir))
    wheel.write_bytes(b"other bytes\n")
    p = subprocess.run([script, str(wheel)], env=script_env(m.dir), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode != 0 and "refusing" in p.stderr
    assert s3.get(base + wheel.name) == b"PK wheel bytes\n" * 1000


def make_deb(tmp_path, name, version):
    return pathlib.Path(debrepo.make_deb(tmp_path, name, version))


def test_apt_publish_with_example_reprepro_conf(s3, prefix, mount_factory, tmp_path):
    need("reprepro")
    m = mount_factory(prefix)
    state = tmp_path / "state"
    shutil.copytree(os.path.join(EXAMPLES, "reprepro", "conf"), state / "conf")
    # Unsigned for the test (signing is the end-to-end apt test's business).
    dist = (state / "conf/distributions").read_text()
    assert "SignWith:" in dist
    (state / "conf/distributions").write_text(
        "".join(l for l in dist.splitlines(True) if not l.startswith("SignWith:")))
    script = os.path.join(EXAMPLES, "publish", "apt.sh")
    env = script_env(m.dir, STATE=str(state))
    run([script, str(make_deb(tmp_path, "hello-repofs", "1.0"))], env=env)
    newer = make_deb(tmp_path, "hello-repofs", "1.1")
    run([script, str(newer)], env=env)
    # Only dists/ and pool/ went to the mount; db/ stayed in the local state.
    assert sorted(os.listdir(m.path("debian"))) == ["dists", "pool"]
    assert os.path.isdir(state / "db")
    pool = prefix + "debian/pool/main/h/hello-repofs/"
    assert s3.get(pool + newer.name) == newer.read_bytes()
    assert not os.path.exists(m.path("debian/pool/main/h/hello-repofs/hello-repofs_1.0_all.deb"))
    packages = s3.get(prefix + "debian/dists/bookworm/main/binary-amd64/Packages").decode()
    assert "Package: hello-repofs\n" in packages and "Version: 1.1\n" in packages
    assert "Version: 1.0\n" not in packages


def test_rpm_publish_into_mount(s3, prefix, mount_factory, tmp_path):
    need("rpmbuild")
    need("createrepo_c")
    spec = tmp_path / "hello.spec"
    spec.write_text("Name: hello-repofs\nVersion: 1.0\nRelease: 1\nSummary: test\n"
                    "License: MIT\nBuildArch: noarch\n%description\ntest\n%files\n")
    run(["rpmbuild", "-bb", "--define", "_topdir %s" % (tmp_path / "top"), str(spec)])
    rpm = glob.glob(str(tmp_path / "top/RPMS/noarch/*.rpm"))
    assert len(rpm) == 1
    m = mount_factory(prefix)
    run([os.path.join(EXAMPLES, "publish", "rpm.sh"), rpm[0]],
        env=script_env(m.dir, REPO="rpm/el9"))
    with open(rpm[0], "rb") as f:
        assert s3.get(prefix + "rpm/el9/Packages/" + os.path.basename(rpm[0])) == f.read()
    repomd = s3.get(prefix + "rpm/el9/repodata/repomd.xml").decode()
    assert "primary" in repomd
    # Every metadata file repomd.xml names is there (the repodata/ rename
    # moved all of them).
    names = sorted(os.listdir(m.path("rpm/el9/repodata")))
    for line in repomd.split('href="')[1:]:
        href = line.split('"', 1)[0]
        assert href.startswith("repodata/") and href[len("repodata/"):] in names, href
    assert not os.path.exists(m.path("rpm/el9/.repodata"))
