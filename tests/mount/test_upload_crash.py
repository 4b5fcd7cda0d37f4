"""A daemon killed in the middle of a streaming upload leaves no partial
object; the multipart upload it left is aborted at the next mount of its
cache dir (upload journal), and `repofs s3 abort-uploads` aborts the rest."""
import os
import re
import signal
import subprocess
import time

from conftest import env

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pending_uploads(prefix):
    """Keys of unfinished multipart uploads under `prefix` (raw S3 call)."""
    p = subprocess.run([os.path.join(ROOT, "scripts", "s3curl"), "GET",
                        "/%s?prefix=%s&uploads=" % (env("REPOFS_TEST_BUCKET"), prefix.rstrip("/") + "%2F")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return re.findall(r"<Key>([^<]*)</Key>", p.stdout)


def test_killed_mid_upload_leaves_nothing_and_next_mount_aborts(s3, prefix, mount_factory, tmp_path):
    cache = tmp_path / "cache"
    opts = "cache_dir=%s,upload_part_size=5M,upload_parallelism=2,log_level=debug" % cache
    m = mount_factory(prefix, opts)
    f = open(m.path("big.bin"), "wb")
    chunk = os.urandom(MIB)
    try:
        # Sequential writes stream parts; wait until a part is uploaded (from
        # the daemon's debug log: no fork here, a forked child's exec would
        # close a copy of `f`, and every close is a FLUSH, which commits).
        deadline = time.monotonic() + 60
        written = 0
        while "UploadPart" not in m.logtext():
            assert time.monotonic() < deadline, "no multipart upload started after %d MiB: %s" % (written, m.logtext())
            if written < 40:
                f.write(chunk)
                f.flush()
                written += 1
            else:
                time.sleep(0.2)
        m.proc.send_signal(signal.SIGKILL)
        m.proc.wait(timeout=30)
    finally:
        try:
            f.close()  # fails: the daemon is gone
        except OSError:
            pass
        subprocess.run(["fusermount3", "-u", "-z", m.dir], capture_output=True, timeout=60)
    # No partial object is visible.
    listed = s3.run("ls", "%s/%s" % (s3.bucket, prefix)).stdout.decode()
    assert "big.bin" not in listed, listed
    assert pending_uploads(prefix) == ["%sbig.bin" % prefix]

    m2 = mount_factory(prefix, opts)
    deadline = time.monotonic() + 30
    while pending_uploads(prefix):
        assert time.monotonic() < deadline, "journaled upload not aborted: " + m2.logtext()
        time.sleep(0.2)
    assert "aborted 1 multipart upload" in m2.logtext()
    assert not os.path.exists(m2.path("big.bin"))


def test_abort_uploads_command(s3, prefix):
    out = s3.run("abort-uploads", "%s/%s" % (s3.bucket, prefix), "bogus", check=False)
    assert out.returncode != 0 and b"bad duration" in out.stderr
    # An upload started by someone else (here: by hand) is aborted by age 0.
    p = subprocess.run([os.path.join(ROOT, "scripts", "s3curl"), "POST",
                        "/%s/%sorphan.bin?uploads=" % (env("REPOFS_TEST_BUCKET"), prefix)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert pending_uploads(prefix) == [prefix + "orphan.bin"]
    out = s3.run("abort-uploads", "%s/%s" % (s3.bucket, prefix), "1h")
    assert pending_uploads(prefix) == [prefix + "orphan.bin"]  # too young
    out = s3.run("abort-uploads", "%s/%s" % (s3.bucket, prefix), "0")
    assert b"aborted " + (prefix + "orphan.bin").encode() in out.stdout
    assert pending_uploads(prefix) == []
