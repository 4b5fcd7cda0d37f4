#!/usr/bin/python3
"""bench/publish/pub.py: the timed steps of bench/publish_path.

Uses tests/mount/debrepo.py (make_deb, SigningKey, Reprepro, AptClient) and
bench/serve/s3tool.py (SigV4 listing) through sys.path. S3 endpoint and keys
come from the environment (REPOFS_TEST_*), never from the command line.

  pub.py gen GENDIR N SEED
        N .debs pbench-NNN_1.0-1_all.deb (50-200 KiB payload, sizes from SEED)
        in GENDIR/debs, GENDIR/manifest.tsv (file, size, sha256) and a
        throwaway signing key (GENDIR/key.tsv: GNUPGHOME, fingerprint, keyring)
  pub.py publish GENDIR STATE OUTDIR [--expect TREE --bucket B --prefix P --wait S]
        `reprepro -b STATE --outdir OUTDIR includedeb bookworm` of every .deb,
        timed; with --expect, then polls S3 until B/P holds the files of TREE
        (same names; same sizes except the Release files) for at most S
        seconds. Prints `reprepro_s=X in_s3_s=Y files=N`.
  pub.py compare GENDIR A B
        A and B hold the same files, byte for byte, except the signed/dated
        dists/*/{Release,InRelease,Release.gpg}; pool .debs equal the inputs.
  pub.py fetch GENDIR URL WORKDIR
        fresh isolated apt client: `apt-get update`, then `apt-get install
        --download-only` of all N packages, each timed; every downloaded .deb
        must equal its input byte for byte. Prints `update_s=X download_s=Y`.
  pub.py dropkey GENDIR     stops the key's gpg-agent, removes its GNUPGHOME

Exit status: 0 ok, 1 failure (tool failed, timeout), 3 wrong bytes (the
benchmark is invalid: bench/publish_path aborts).
"""
import hashlib
import os
import random
import subprocess
import sys
import time
import types
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "mount"))
sys.path.insert(0, os.path.join(ROOT, "bench", "serve"))
import debrepo  # noqa: E402

CODENAME = "bookworm"
VARYING = ("Release", "InRelease", "Release.gpg")  # dated and signed per publish
WRONG_BYTES = 3


def fail(msg, code=1):
    sys.stderr.write("pub.py: %s\n" % msg)
    sys.exit(code)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(gendir):
    """{file name: (size, sha256)} of the input .debs."""
    out = {}
    with open(os.path.join(gendir, "manifest.tsv")) as f:
        for line in f:
            name, size, digest = line.split()
            out[name] = (int(size), digest)
    return out


def key(gendir):
    with open(os.path.join(gendir, "key.tsv")) as f:
        home, fpr, keyring = f.read().split()
    return types.SimpleNamespace(home=home, fingerprint=fpr, keyring=keyring,
                                 env=dict(os.environ, GNUPGHOME=home))


def debs(gendir):
    d = os.path.join(gendir, "debs")
    return [os.path.join(d, n) for n in sorted(manifest(gendir))]


def cmd_gen(gendir, n, seed):
    d = os.path.join(gendir, "debs")
    os.makedirs(d, exist_ok=True)
    r = random.Random(seed)
    rows = []
    for i in range(n):
        size = r.randrange(50 << 10, 200 << 10)
        path = debrepo.make_deb(d, "pbench-%03d" % i, "1.0-1", payload_bytes=size)
        rows.append("%s\t%d\t%s\n" % (os.path.basename(path), os.path.getsize(path), sha256(path)))
    with open(os.path.join(gendir, "manifest.tsv"), "w") as f:
        f.writelines(rows)
    k = debrepo.SigningKey()
    with open(os.path.join(gendir, "key.tsv"), "w") as f:
        f.write("%s\t%s\t%s\n" % (k.home, k.fingerprint, k.keyring))
    total = sum(int(x.split("\t")[1]) for x in rows)
    print("debs=%d bytes=%d" % (n, total))


def cmd_dropkey(gendir):
    k = key(gendir)
    subprocess.run(["gpgconf", "--kill", "all"], env=k.env, capture_output=True, timeout=30)
    if os.path.basename(k.home).startswith("gpg-"):
        subprocess.run(["rm", "-rf", "--one-file-system", k.home], timeout=60)


def tree(top):
    """{relative path: size} of the regular files under TOP."""
    out = {}
    for d, _, files in os.walk(top):
        for n in files:
            p = os.path.join(d, n)
            out[os.path.relpath(p, top)] = os.path.getsize(p)
    return out


def s3_files(conn, bucket, prefix):
    """{key minus PREFIX: size}, directory markers (keys ending in /) left out."""
    import s3tool
    ns = s3tool.S3NS
    out, token = {}, None
    for _ in range(1000):  # bound: 10^6 keys
        q = [("list-type", "2"), ("max-keys", "1000"), ("prefix", prefix)]
        if token:
            q.append(("continuation-token", token))
        st, data = conn.request("GET", "/" + bucket, q)
        s3tool.check(st, data, "ListObjectsV2")
        root = ET.fromstring(data)
        for c in root.iter(ns + "Contents"):
            k = c.findtext(ns + "Key")
            if not k.endswith("/"):
                out[k[len(prefix):]] = int(c.findtext(ns + "Size"))
        if root.findtext(ns + "IsTruncated") != "true":
            return out
        token = root.findtext(ns + "NextContinuationToken")
    return out


def differences(want, got):
    """Names missing/extra/of another size between two {name: size} maps."""
    bad = ["missing " + n for n in sorted(set(want) - set(got))]
    bad += ["extra " + n for n in sorted(set(got) - set(want))]
    bad += ["size %s: %d, want %d" % (n, got[n], want[n]) for n in sorted(set(want) & set(got))
            if got[n] != want[n] and os.path.basename(n) not in VARYING]
    return bad


def cmd_publish(gendir, state, outdir, opts):
    files = debs(gendir)
    os.makedirs(outdir, exist_ok=True)  # the target exists before the clock starts
    rep = debrepo.Reprepro(state, outdir, key=key(gendir), codename=CODENAME)
    want = conn = None
    if "--expect" in opts:  # everything for the S3 check is ready before the clock starts
        import s3tool
        want = tree(opts["--expect"])
        conn = s3tool.Conn(s3tool.Signer())
    t0 = time.monotonic()
    try:
        rep.includedeb(*files)
    except (AssertionError, subprocess.TimeoutExpired) as e:
        fail("reprepro failed after %.1f s: %s" % (time.monotonic() - t0, str(e)[-1500:]))
    t_rep = time.monotonic() - t0
    t_s3, n = t_rep, len(tree(outdir)) if want is None else len(want)
    if want is not None:
        # in_s3_s: reprepro's time if the first check right after it passes
        # (the data was in S3 when it returned), else the start of the
        # first passing check.
        deadline = t0 + t_rep + float(opts.get("--wait", "300"))
        for i in range(100000):  # bound: the deadline
            t_poll = time.monotonic() - t0
            bad = differences(want, s3_files(conn, opts["--bucket"], opts["--prefix"]))
            if bad and os.environ.get("PUB_DEBUG"):
                sys.stderr.write("poll %.3f: %s\n" % (t_poll, "; ".join(bad[:8])))
            if not bad:
                t_s3 = t_rep if i == 0 else t_poll
                break
            if time.monotonic() > deadline:
                fail("S3 under %s does not match the local publish after %s s: %s" % (
                    opts["--prefix"], opts.get("--wait", "300"), "; ".join(bad[:8])))
            time.sleep(0.2)
    print("reprepro_s=%.4f in_s3_s=%.4f files=%d" % (t_rep, t_s3, n))


def cmd_compare(gendir, a, b):
    ta, tb = tree(a), tree(b)
    bad = differences(ta, tb)
    for name in sorted(set(ta) & set(tb)):
        if os.path.basename(name) in VARYING:
            continue
        if sha256(os.path.join(a, name)) != sha256(os.path.join(b, name)):
            bad.append("content of " + name)
    want = manifest(gendir)
    pool = {os.path.basename(n): n for n in tb if n.startswith("pool/")}
    for name, (_, digest) in want.items():
        if name not in pool:
            bad.append("no pool file for " + name)
        elif sha256(os.path.join(b, pool[name])) != digest:
            bad.append("pool file %s differs from the input .deb" % name)
    if bad:
        fail("%s and %s differ: %s" % (a, b, "; ".join(bad[:10])), WRONG_BYTES)
    print("files=%d" % len(tb))


def cmd_fetch(gendir, url, workdir):
    want = manifest(gendir)
    apt = debrepo.AptClient(workdir, url, keyring=key(gendir).keyring, codename=CODENAME)
    pkgs = [n.split("_", 1)[0] for n in sorted(want)]
    t0 = time.monotonic()
    try:
        apt.update()
        t1 = time.monotonic()
        got = apt.download(*pkgs)
        t2 = time.monotonic()
    except (AssertionError, subprocess.TimeoutExpired) as e:
        text = str(e)
        wrong = any(s in text for s in ("Hash Sum mismatch", "BADSIG", "unexpected size",
                                        "NOSPLIT", "Clearsigned file isn't valid"))
        fail("apt-get from %s failed after %.1f s%s: %s" % (
            url, time.monotonic() - t0, " (WRONG BYTES)" if wrong else "", text[-1500:]),
            WRONG_BYTES if wrong else 1)
    names = {os.path.basename(p): p for p in got}
    bad = ["not downloaded: " + n for n in sorted(set(want) - set(names))]
    bad += ["unexpected: " + n for n in sorted(set(names) - set(want))]
    for n in sorted(set(want) & set(names)):
        if os.path.getsize(names[n]) != want[n][0] or sha256(names[n]) != want[n][1]:
            bad.append("%s differs from the published .deb" % n)
    if bad:
        fail("downloads from %s are wrong: %s" % (url, "; ".join(bad[:10])), WRONG_BYTES)
    print("update_s=%.4f download_s=%.4f debs=%d" % (t1 - t0, t2 - t1, len(names)))


def main(argv):
    if len(argv) < 3:
        fail(__doc__.strip(), 2)
    cmd, args = argv[1], argv[2:]
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and
           (i == 0 or not args[i - 1].startswith("--"))]
    opts = dict(zip(args[len(pos)::2], args[len(pos) + 1::2]))
    if cmd == "gen" and len(pos) == 3:
        cmd_gen(pos[0], int(pos[1]), int(pos[2]))
    elif cmd == "publish" and len(pos) == 3:
        cmd_publish(pos[0], pos[1], pos[2], opts)
    elif cmd == "compare" and len(pos) == 3:
        cmd_compare(*pos)
    elif cmd == "fetch" and len(pos) == 3:
        cmd_fetch(*pos)
    elif cmd == "dropkey" and len(pos) == 1:
        cmd_dropkey(pos[0])
    else:
        fail("bad arguments; see the docstring", 2)


if __name__ == "__main__":
    main(sys.argv)
