"""Fixtures for tests on a real repofs FUSE mount against a real S3 (Ceph RGW).

The environment comes from scripts/rgw (REPOFS_TEST_ENDPOINT, _ACCESS_KEY,
_SECRET_KEY, _REGION, _BUCKET, _BUCKET2) and scripts/test (REPOFS_BIN: the
repofs binary to test). Missing environment is a failure, not a skip: these
tests exist to run against a real S3. Only a machine without /dev/fuse skips,
with the reason printed.

Every mount made here is unmounted with `fusermount3 -u` in a finalizer, also
when the test fails; every process started here is stopped by its pid.
"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

REQUIRED_ENV = ["REPOFS_TEST_ENDPOINT", "REPOFS_TEST_ACCESS_KEY", "REPOFS_TEST_SECRET_KEY",
                "REPOFS_TEST_BUCKET", "REPOFS_BIN"]


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through scripts/test (it starts RGW and builds repofs)")
    return value


@pytest.fixture(scope="session", autouse=True)
def _require_fuse():
    if not os.path.exists("/dev/fuse"):
        pytest.skip("this machine has no /dev/fuse: FUSE mount tests cannot run")
    for name in REQUIRED_ENV:
        env(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class S3:
    """The bucket, driven through `repofs s3` (the same client as the mount)."""

    def __init__(self, bucket=None):
        self.bucket = bucket or env("REPOFS_TEST_BUCKET")
        self.bin = env("REPOFS_BIN")
        self.opts = "endpoint=%s,region=%s,path_style" % (
            env("REPOFS_TEST_ENDPOINT"), os.environ.get("REPOFS_TEST_REGION", "us-east-1"))

    def env(self):
        e = dict(os.environ)
        e["AWS_ACCESS_KEY_ID"] = env("REPOFS_TEST_ACCESS_KEY")
        e["AWS_SECRET_ACCESS_KEY"] = env("REPOFS_TEST_SECRET_KEY")
        e.pop("AWS_SESSION_TOKEN", None)
        e.pop("AWS_PROFILE", None)
        return e

    def run(self, *args, check=True, input=None):
        p = subprocess.run([self.bin, "s3", "-o", self.opts, *args], env=self.env(),
                           input=input, capture_output=True, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError("repofs s3 %s failed: %s" % (args, p.stderr.decode(errors="replace")))
        return p

    def put(self, key, data):
        self.run("put", "-", "%s/%s" % (self.bucket, key), input=data)

    def put_file(self, key, path):
        self.run("put", path, "%s/%s" % (self.bucket, key))

    def get(self, key):
        return self.run("get", "%s/%s" % (self.bucket, key), "-").stdout

    def rm(self, *keys):
        self.run("rm", *["%s/%s" % (self.bucket, k) for k in keys])


@pytest.fixture(scope="session")
def s3():
    return S3()


@pytest.fixture
def prefix():
    """A fresh key prefix per test, so tests never see each other's objects."""
    return "t-%s/" % uuid.uuid4().hex[:12]


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


class Mount:
    """A repofs daemon in the foreground (-f), mounted at a temporary dir."""

    def __init__(self, s3, prefix, options="", bucket=None):
        self.s3 = s3
        self.bucket = bucket or s3.bucket
        self.prefix = prefix
        self.dir = tempfile.mkdtemp(prefix="repofs-mnt-")
        self.options = options
        # Every mount gets its own block cache dir (a cache dir is locked by
        # one mount) unless the test chose one (cache_dir=...) or none.
        self.own_cache = None
        if "cache_dir=" not in options and "no_cache" not in options:
            self.own_cache = tempfile.mkdtemp(prefix="repofs-cache-")
            self.options = ",".join(o for o in (options, "cache_dir=" + self.own_cache) if o)
        self.proc = None
        self.log = tempfile.NamedTemporaryFile(prefix="repofs-log-", suffix=".txt", delete=False)

    def spec(self):
        return "%s:/%s" % (self.bucket, self.prefix) if self.prefix else self.bucket

    def start(self):
        opts = self.s3.opts + (",%s" % self.options if self.options else "")
        self.proc = subprocess.Popen([self.s3.bin, self.spec(), self.dir, "-f", "-o", opts],
                                     env=self.s3.env(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("repofs exited with %s: %s" % (self.proc.returncode, self.logtext()))
            if is_mounted(self.dir):
                return self
            time.sleep(0.05)
        raise AssertionError("mount did not appear within 30 s: " + self.logtext())

    def logtext(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]

    def path(self, rel=""):
        return os.path.join(self.dir, rel)

    def stop(self):
        if is_mounted(self.dir):
            subprocess.run(["fusermount3", "-u", self.dir], capture_output=True, timeout=60)
            if is_mounted(self.dir):
                subprocess.run(["fusermount3", "-u", "-z", self.dir], capture_output=True, timeout=60)
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not is_mounted(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        if self.own_cache:
            shutil.rmtree(self.own_cache, ignore_errors=True)
        os.unlink(self.log.name)


@pytest.fixture
def mount_factory(s3):
    mounts = []

    def make(prefix, options="", bucket=None):
        m = Mount(s3, prefix, options, bucket).start()
        mounts.append(m)
        return m

    yield make
    for m in mounts:
        m.stop()


class Nginx:
    """nginx serving a directory with the settings WORKFLOWS.md recommends."""

    def __init__(self, root, extra=""):
        self.dir = tempfile.mkdtemp(prefix="repofs-nginx-")
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""
user root;
worker_processes 2;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 1024; }
thread_pool default threads=16 max_queue=65536;
http {
  access_log off;
  client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
    sendfile on; aio threads; sendfile_max_chunk 512k; directio off; open_file_cache off;
    autoindex on; autoindex_format html;
    %(extra)s
  }
}
""" % {"d": self.dir, "port": self.port, "root": root, "extra": extra})
        subprocess.run(["nginx", "-c", conf, "-p", self.dir], check=True, capture_output=True, timeout=30)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start")

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def stop(self):
        try:
            with open(os.path.join(self.dir, "nginx.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def nginx_factory():
    servers = []

    def make(root, extra=""):
        n = Nginx(root, extra)
        servers.append(n)
        return n

    yield make
    for n in servers:
        n.stop()
