#!/usr/bin/python3
"""bench/serve/s3tool.py: the S3 side of bench/read_path.

A small SigV4 (UNSIGNED-PAYLOAD, path-style) client on the standard library
only (/usr/bin/python3 has hashlib/hmac; PyPI is not reachable here). It
creates the benchmark data set reproducibly from a seed, uploads it with N
parallel keep-alive connections, counts what is already there, and times the
raw ListObjectsV2 paging that `ls -l` on a mount is compared against.

Credentials and endpoint come from the environment (REPOFS_TEST_ENDPOINT,
REPOFS_TEST_ACCESS_KEY, REPOFS_TEST_SECRET_KEY, REPOFS_TEST_REGION), never from
the command line.

  s3tool.py mkbucket BUCKET
  s3tool.py count BUCKET PREFIX            -> number of keys, total bytes
  s3tool.py populate BUCKET PREFIX N SEED [--conns 32] [--deadline S]
        N tiny objects PREFIX/f000000.. (0..199 bytes, content from SEED)
  s3tool.py putfile BUCKET KEY FILE        (one PUT, streamed from FILE)
  s3tool.py listtime BUCKET PREFIX RUNS    -> seconds per full paging run
  s3tool.py gen FILE SIZE SEED             (write SIZE seeded bytes to FILE)
  s3tool.py tinybody NAME SEED             (the body populate gives NAME)
"""

import datetime
import hashlib
import hmac
import http.client
import os
import queue
import random
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        sys.exit(f"s3tool: {name} is not set (source the env file of scripts/rgw)")
    return v


class Signer:
    def __init__(self):
        ep = urllib.parse.urlsplit(env("REPOFS_TEST_ENDPOINT"))
        if ep.scheme != "http":
            sys.exit("s3tool: only http:// endpoints (the local RGW) are supported")
        self.host = ep.hostname
        self.port = ep.port or 80
        self.hosthdr = ep.netloc
        self.ak = env("REPOFS_TEST_ACCESS_KEY")
        self.sk = env("REPOFS_TEST_SECRET_KEY")
        self.region = env("REPOFS_TEST_REGION", "us-east-1")

    def headers(self, method, path, query, extra=None):
        """Signed headers for METHOD PATH?QUERY (path already URI-encoded)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        amzdate = now.strftime("%Y%m%dT%H%M%SZ")
        day = amzdate[:8]
        hdrs = {"host": self.hosthdr, "x-amz-date": amzdate,
                "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
        for k, v in (extra or {}).items():
            hdrs[k.lower()] = str(v)
        names = sorted(hdrs)
        canon_q = "&".join(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
            for k, v in sorted(query))
        creq = "\n".join([method, path, canon_q,
                          "".join(f"{n}:{hdrs[n].strip()}\n" for n in names),
                          ";".join(names), "UNSIGNED-PAYLOAD"])
        scope = f"{day}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        key = ("AWS4" + self.sk).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        hdrs["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={sig}")
        del hdrs["host"]  # http.client sends it
        return hdrs, canon_q


class Conn:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, signer, timeout=60):
        self.s = signer
        self.timeout = timeout
        self.c = None

    def request(self, method, path, query=(), body=None, extra=None):
        hdrs, q = self.s.headers(method, path, query, extra)
        url = path + ("?" + q if q else "")
        for attempt in range(4):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(self.s.host, self.s.port, blocksize=1 << 20,
                                                        timeout=self.timeout)
                if hasattr(body, "seek"):
                    body.seek(0)
                self.c.request(method, url, body=body, headers=hdrs)
                r = self.c.getresponse()
                data = r.read()
                if r.status >= 500 and attempt < 3:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.c is not None:
                    self.c.close()
                self.c = None
                if attempt == 3:
                    raise
                time.sleep(0.2 * (attempt + 1))
                hdrs, q = self.s.headers(method, path, query, extra)
        raise RuntimeError("unreachable")


def qkey(bucket, key):
    return "/" + bucket + "/" + urllib.parse.quote(key, safe="/-_.~")


def check(status, data, what):
    if status >= 300:
        sys.exit(f"s3tool: {what}: HTTP {status}: {data[:300]!r}")


def list_pages(conn, bucket, prefix, delimiter=None):
    """Yields (keys_in_page, bytes_in_page) per ListObjectsV2 page of 1000."""
    token = None
    for _ in range(100000):  # bound: 10^8 keys
        q = [("list-type", "2"), ("max-keys", "1000"), ("prefix", prefix)]
        if delimiter:
            q.append(("delimiter", delimiter))
        if token:
            q.append(("continuation-token", token))
        st, data = conn.request("GET", "/" + bucket, q)
        check(st, data, "ListObjectsV2")
        root = ET.fromstring(data)
        n = 0
        size = 0
        for c in root.iter(S3NS + "Contents"):
            n += 1
            size += int(c.find(S3NS + "Size").text)
        yield n, size
        if root.findtext(S3NS + "IsTruncated") != "true":
            return
        token = root.findtext(S3NS + "NextContinuationToken")


def tiny_body(name, seed):
    r = random.Random(f"{seed}/{name}")
    n = r.randrange(200)
    line = f"{name} seed={seed}\n".encode()
    return (line * (n // len(line) + 1))[:n]


def cmd_mkbucket(bucket):
    c = Conn(Signer())
    st, data = c.request("PUT", "/" + bucket)
    if st >= 300 and b"BucketAlreadyOwnedByYou" not in data:
        check(st, data, "CreateBucket")


def cmd_count(bucket, prefix):
    c = Conn(Signer())
    st, data = c.request("HEAD", "/" + bucket)
    if st == 404:
        print("0 0")
        return
    n = size = 0
    for pn, ps in list_pages(c, bucket, prefix):
        n += pn
        size += ps
    print(n, size)


def cmd_populate(bucket, prefix, count, seed, conns=32, deadline=900.0):
    signer = Signer()
    work = queue.Queue()
    for i in range(count):
        work.put(f"{prefix}f{i:06d}")
    end = time.monotonic() + deadline
    errors = []
    done = [0]
    lock = threading.Lock()

    def worker():
        c = Conn(signer)
        while time.monotonic() < end:
            try:
                key = work.get_nowait()
            except queue.Empty:
                return
            body = tiny_body(key.rsplit("/", 1)[-1], seed)
            try:
                st, data = c.request("PUT", qkey(bucket, key), body=body,
                                     extra={"content-length": len(body)})
            except Exception as e:  # noqa: BLE001 - reported below
                st, data = 0, str(e).encode()
            with lock:
                if st >= 300 or st == 0:
                    errors.append(f"{key}: {st} {data[:200]!r}")
                else:
                    done[0] += 1
            if len(errors) > 20:
                return

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, end - time.monotonic()) + 5)
    dt = time.monotonic() - t0
    print(f"s3tool: {done[0]}/{count} PUTs in {dt:.1f}s "
          f"({done[0] / max(dt, 1e-9):.0f}/s, {conns} connections)", file=sys.stderr)
    if errors:
        sys.exit("s3tool: PUT errors:\n" + "\n".join(errors[:10]))
    if done[0] != count:
        sys.exit(f"s3tool: deadline of {deadline:.0f}s passed after {done[0]} PUTs")


def cmd_putfile(bucket, key, path):
    c = Conn(Signer(), timeout=300)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        st, data = c.request("PUT", qkey(bucket, key), body=f,
                             extra={"content-length": size})
    check(st, data, f"PUT {key}")


def cmd_listtime(bucket, prefix, runs):
    """Prints, per run, seconds for a full ListObjectsV2 paging (1000 per page)
    on one fresh keep-alive connection, and the key count."""
    signer = Signer()
    for _ in range(runs):
        c = Conn(signer)
        t0 = time.perf_counter()
        n = sum(pn for pn, _ in list_pages(c, bucket, prefix, delimiter="/"))
        dt = time.perf_counter() - t0
        print(f"{dt:.4f} {n}")


def cmd_gen(path, size, seed):
    r = random.Random(f"{seed}/{os.path.basename(path)}")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 16 << 20)
            f.write(r.randbytes(n))
            left -= n
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, a = argv[1], argv[2:]
    if cmd == "mkbucket" and len(a) == 1:
        cmd_mkbucket(a[0])
    elif cmd == "count" and len(a) == 2:
        cmd_count(a[0], a[1])
    elif cmd == "populate" and len(a) >= 4:
        opts = dict(zip(a[4::2], a[5::2]))
        cmd_populate(a[0], a[1], int(a[2]), a[3],
                     int(opts.get("--conns", 32)), float(opts.get("--deadline", 900)))
    elif cmd == "putfile" and len(a) == 3:
        cmd_putfile(*a)
    elif cmd == "listtime" and len(a) == 3:
        cmd_listtime(a[0], a[1], int(a[2]))
    elif cmd == "gen" and len(a) == 3:
        cmd_gen(a[0], int(a[1]), a[2])
    elif cmd == "tinybody" and len(a) == 2:
        sys.stdout.buffer.write(tiny_body(a[0], a[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
