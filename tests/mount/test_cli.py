"""Bad input stops `repofs` before it daemonizes, with a one-line reason and a
non-zero exit, and leaves no process or mount behind."""
import os
import subprocess
import tempfile

import pytest

from conftest import S3, free_port, is_mounted


def processes_mentioning(text):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def run_repofs(s3, spec, mountpoint, options, env_overrides=None):
    env = s3.env()
    env.update(env_overrides or {})
    return subprocess.run([s3.bin, spec, mountpoint, "-o", options], env=env,
                          capture_output=True, timeout=60)


@pytest.fixture
def mnt():
    d = tempfile.mkdtemp(prefix="repofs-bad-")
    yield d
    if is_mounted(d):
        subprocess.run(["fusermount3", "-u", d])
    os.rmdir(d)


def check_failed(p, mountpoint, expected):
    err = p.stderr.decode()
    assert p.returncode != 0
    assert expected in err, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("repofs: ")
    assert not is_mounted(mountpoint)
    assert processes_mentioning(mountpoint) == []


def test_missing_bucket(s3, mnt):
    p = run_repofs(s3, "no-such-bucket-repofs", mnt, s3.opts)
    check_failed(p, mnt, "NoSuchBucket")


def test_wrong_secret(s3, mnt):
    p = run_repofs(s3, s3.bucket, mnt, s3.opts, {"AWS_SECRET_ACCESS_KEY": "wrong-secret-value"})
    check_failed(p, mnt, "SignatureDoesNotMatch")
    assert "wrong-secret-value" not in p.stderr.decode()


def test_unreachable_endpoint(s3, mnt):
    port = free_port()
    p = run_repofs(s3, s3.bucket, mnt, "endpoint=http://127.0.0.1:%d,path_style,connect_timeout=2" % port)
    check_failed(p, mnt, "127.0.0.1:%d" % port)


def test_unknown_option(s3, mnt):
    p = run_repofs(s3, s3.bucket, mnt, s3.opts + ",no_such_option=1")
    check_failed(p, mnt, "unknown option 'no_such_option'")


def test_missing_mountpoint(s3, mnt):
    missing = os.path.join(mnt, "does-not-exist")
    p = run_repofs(s3, s3.bucket, missing, s3.opts)
    check_failed(p, missing, "No such file or directory")


def test_missing_arguments(s3):
    p = subprocess.run([s3.bin, s3.bucket], capture_output=True, timeout=30)
    assert p.returncode == 2
    assert b"usage:" in p.stderr


def test_no_credentials(s3, mnt, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "HOME": str(tmp_path),
           "AWS_EC2_METADATA_DISABLED": "true"}
    p = subprocess.run([s3.bin, s3.bucket, mnt, "-o", s3.opts],
                       env={k: v for k, v in {**s3.env(), **env}.items() if v != ""},
                       capture_output=True, timeout=60)
    check_failed(p, mnt, "credentials")


def test_help_and_version(s3):
    p = subprocess.run([s3.bin, "--help"], capture_output=True, timeout=30)
    assert p.returncode == 0
    for option in ["endpoint=", "metadata_ttl=", "attr_source=", "readahead_max=", "allow_other"]:
        assert option.encode() in p.stdout
    p = subprocess.run([s3.bin, "--version"], capture_output=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith(b"repofs ")


def test_daemonized_mount_serves_and_sigterm_unmounts(s3, prefix, mnt):
    s3.put(prefix + "hello.txt", b"hello\n")
    p = run_repofs(s3, "%s:/%s" % (s3.bucket, prefix), mnt, s3.opts)
    assert p.returncode == 0, p.stderr
    try:
        assert is_mounted(mnt)
        with open(os.path.join(mnt, "hello.txt"), "rb") as f:
            assert f.read() == b"hello\n"
        pids = processes_mentioning(mnt)
        assert len(pids) == 1
        os.kill(pids[0], 15)
        for _ in range(200):
            if not is_mounted(mnt) and not processes_mentioning(mnt):
                break
            __import__("time").sleep(0.05)
        assert not is_mounted(mnt)
        assert processes_mentioning(mnt) == []
    finally:
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", mnt])
