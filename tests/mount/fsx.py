#!/usr/bin/python3
"""fsx-style random-operation data-integrity checker (after xfstests' ltp/fsx.c).

Drives one file under test and a reference file on local disk with the same
seeded random operations and compares them after every read:

  write     pwrite of random bytes at a random offset and length (offsets past
            EOF leave holes); in append mode a write() at EOF instead
  bigwrite  a sequential run of 1 MiB writes (large files only: exercises
            streaming multipart upload followed by random writes)
  read      pread at a random offset and length, compared with the reference
            (a short read that is not at EOF is a mismatch)
  mapread   mmap(PROT_READ, MAP_SHARED) of a random range through the same
            file descriptor, compared with the reference
  truncate  ftruncate up or down to a random size
  fsync     fsync(fd)
  reopen    close (on repofs: commit to S3), verify the whole committed file
            through a separate O_RDONLY open, optionally call a
            `verify_committed(expected_bytes)` hook (e.g. a GET from S3; every
            `verify_every`-th close and always after the last), then
            reopen O_RDWR, O_RDWR|O_TRUNC (reference emptied) or
            O_RDWR|O_APPEND; happens every `reopen_min..reopen_max` ops

After every modifying op the size seen through fstat() must equal the
reference size. On a mismatch it raises FsxMismatch whose message holds the
seed, the op number, the offset of the first differing byte, both sides'
bytes around it and the tail of the op log: enough to replay with
`fsx.py --seed S --ops N DIR`.

The file I/O goes through an `Io` object so tests can inject faults
(see CorruptingIo / LazyTruncateIo, used by the checker's own self-test).

Command line (for manual runs, e.g. against another FUSE filesystem):
  fsx.py DIR [--seed S] [--ops N] [--maxlen BYTES] [--name NAME]
"""
import argparse
import collections
import mmap
import os
import random
import sys
import tempfile
import time

MIB = 1 << 20
PAGE = mmap.PAGESIZE


class FsxMismatch(AssertionError):
    pass


class Io:
    """Plain os.* calls; subclasses inject faults."""

    def open(self, path, flags):
        return os.open(path, flags, 0o644)

    def close(self, fd):
        os.close(fd)

    def pwrite(self, fd, data, off):
        return os.pwrite(fd, data, off)

    def write(self, fd, data):
        return os.write(fd, data)

    def pread(self, fd, n, off):
        return os.pread(fd, n, off)

    def ftruncate(self, fd, size):
        os.ftruncate(fd, size)

    def fsync(self, fd):
        os.fsync(fd)

    def size(self, fd):
        return os.fstat(fd).st_size

    def mapread(self, fd, off, n):
        start = off - off % PAGE
        with mmap.mmap(fd, n + (off - start), flags=mmap.MAP_SHARED, prot=mmap.PROT_READ,
                       offset=start) as m:
            return m[off - start:off - start + n]


class CorruptingIo(Io):
    """Flips one byte of every `nth` pwrite (a checker self-test)."""

    def __init__(self, nth):
        self.nth, self.count = nth, 0

    def pwrite(self, fd, data, off):
        self.count += 1
        if self.count % self.nth == 0 and data:
            data = bytearray(data)
            data[len(data) // 2] ^= 0x5A
            data = bytes(data)
        return os.pwrite(fd, data, off)


class LazyTruncateIo(Io):
    """Ignores truncates down (the s3fs 1.90 bug fsx finds at op 14)."""

    def ftruncate(self, fd, size):
        if size >= os.fstat(fd).st_size:
            os.ftruncate(fd, size)


def _first_diff(a, b):
    n = min(len(a), len(b))
    lo, hi = 0, n
    if a[:n] == b[:n]:
        return n
    # Binary search on equal prefixes (cheap for MiB-sized buffers).
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    for i in range(lo, hi):
        if a[i] != b[i]:
            return i
    return hi


class Fsx:
    def __init__(self, path, seed, ops, maxlen=MIB, io=None, ref_dir=None,
                 reopen_min=50, reopen_max=200, max_oplen=None, verify_committed=None,
                 verify_every=1, log_tail=40, deadline=None):
        self.path = path
        self.seed = seed
        self.nops = ops
        self.maxlen = maxlen
        self.io = io or Io()
        self.rng = random.Random(seed)
        self.reopen_min, self.reopen_max = reopen_min, reopen_max
        self.max_oplen = max_oplen or max(1, maxlen // 4)
        self.verify_committed = verify_committed
        self.verify_every = max(1, verify_every)
        self.commits = 0
        self.deadline = deadline
        self.log = collections.deque(maxlen=log_tail)
        self.opno = 0
        self.counts = collections.Counter()
        self.ref_tmp = tempfile.TemporaryDirectory(prefix="fsx-ref-", dir=ref_dir)
        self.ref_path = os.path.join(self.ref_tmp.name, "ref")
        self.ref = os.open(self.ref_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.fd = None
        self.append = False

    # ------------------------------------------------------------ reporting
    def fail(self, what, off=None, got=None, want=None, base=0):
        lines = ["fsx: %s" % what,
                 "fsx: seed %d, op %d of %d, file %s (maxlen %d)" % (
                     self.seed, self.opno, self.nops, self.path, self.maxlen)]
        if got is not None and want is not None:
            d = _first_diff(got, want)
            lines.append("fsx: first differing byte at file offset %d (0x%x); got %d bytes, "
                         "want %d" % (base + d, base + d, len(got), len(want)))
            lines.append("fsx:   got  %s" % got[max(0, d - 8):d + 24].hex(" "))
            lines.append("fsx:   want %s" % want[max(0, d - 8):d + 24].hex(" "))
        elif off is not None:
            lines.append("fsx: at offset %d" % off)
        lines.append("fsx: last %d ops (replay: fsx.py --seed %d --ops %d):" % (
            len(self.log), self.seed, self.opno))
        lines.extend("  " + entry for entry in self.log)
        raise FsxMismatch("\n".join(lines)) from None

    def note(self, text):
        self.log.append("%6d %s" % (self.opno, text))

    # ------------------------------------------------------------ reference
    def ref_size(self):
        return os.fstat(self.ref).st_size

    def ref_read(self, off, n):
        return os.pread(self.ref, n, off)

    def ref_all(self):
        return self.ref_read(0, self.ref_size())

    # ------------------------------------------------------------ ops
    def check_size(self, what):
        try:
            got = self.io.size(self.fd)
        except OSError as e:
            self.fail("%s: fstat failed: %s" % (what, e))
        if got != self.ref_size():
            self.fail("%s: size is %d, want %d" % (what, got, self.ref_size()))

    def call(self, what, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            self.fail("%s failed: %s" % (what, e))

    def op_write(self):
        n = self.oplen()
        data = self.rng.randbytes(n)
        if self.append:
            off = self.ref_size()
            n = min(n, self.maxlen - off)
            if n <= 0:
                self.note("append skipped (size %d is maxlen)" % off)
                return
            data = data[:n]
            self.note("write (append) %d bytes at EOF %d" % (n, off))
            got = self.call("write", self.io.write, self.fd, data)
        else:
            off = self.rng.randrange(self.maxlen)
            n = min(n, self.maxlen - off)
            data = data[:n]
            self.note("pwrite %d bytes at %d (size %d)" % (n, off, self.ref_size()))
            got = self.call("pwrite", self.io.pwrite, self.fd, data, off)
        if got != len(data):
            self.fail("short write: %d of %d" % (got, len(data)))
        os.pwrite(self.ref, data, off)
        self.check_size("after write")

    def op_bigwrite(self):
        off = self.rng.randrange(0, max(1, self.maxlen // 4)) & ~(4095)
        n = min(self.maxlen - off, self.rng.randrange(6 * MIB, 12 * MIB))
        self.note("bigwrite %d bytes at %d in 1 MiB writes (size %d)" % (n, off, self.ref_size()))
        if self.append:
            off = self.ref_size()
            n = min(n, max(0, self.maxlen - off))
        pos = 0
        while pos < n:
            chunk = self.rng.randbytes(min(MIB, n - pos))
            if self.append:
                got = self.call("write", self.io.write, self.fd, chunk)
            else:
                got = self.call("pwrite", self.io.pwrite, self.fd, chunk, off + pos)
            if got != len(chunk):
                self.fail("short write: %d of %d" % (got, len(chunk)))
            os.pwrite(self.ref, chunk, off + pos)
            pos += len(chunk)
        self.check_size("after bigwrite")

    def op_read(self):
        size = self.ref_size()
        off = self.rng.randrange(max(1, size + size // 8 + 1))
        n = self.oplen()
        self.note("pread %d bytes at %d (size %d)" % (n, off, size))
        got = self.call("pread", self.io.pread, self.fd, n, off)
        want = self.ref_read(off, n)
        if got != want:
            self.fail("pread %d bytes at %d: data differs" % (n, off), got=got, want=want, base=off)

    def op_mapread(self):
        size = self.ref_size()
        if size == 0:
            self.note("mapread skipped (size 0)")
            return
        off = self.rng.randrange(size)
        n = min(self.oplen(), size - off)
        self.note("mapread %d bytes at %d (size %d)" % (n, off, size))
        got = self.call("mmap read", self.io.mapread, self.fd, off, n)
        want = self.ref_read(off, n)
        if got != want:
            self.fail("mmap read %d bytes at %d: data differs" % (n, off), got=got, want=want,
                      base=off)

    def op_truncate(self):
        size = self.ref_size()
        if self.rng.random() < 0.5:
            new = self.rng.randrange(size + 1)  # down (or same)
        else:
            new = self.rng.randrange(size, self.maxlen + 1)  # up: a hole at the end
        self.note("ftruncate %d -> %d" % (size, new))
        self.call("ftruncate", self.io.ftruncate, self.fd, new)
        os.ftruncate(self.ref, new)
        self.check_size("after ftruncate")

    def op_fsync(self):
        self.note("fsync (size %d)" % self.ref_size())
        self.call("fsync", self.io.fsync, self.fd)

    def verify_whole(self, what):
        want = self.ref_all()
        try:
            fd = self.io.open(self.path, os.O_RDONLY)
        except OSError as e:
            self.fail("%s: open O_RDONLY failed: %s" % (what, e))
        try:
            st = os.fstat(fd).st_size
            if st != len(want):
                self.fail("%s: size %d, want %d" % (what, st, len(want)))
            chunks, pos = [], 0
            while pos < len(want) + 1:  # one read past EOF must return 0 bytes
                b = self.call("read", self.io.pread, fd, 4 * MIB, pos)
                if not b:
                    break
                chunks.append(b)
                pos += len(b)
            got = b"".join(chunks)
        finally:
            self.io.close(fd)
        if got != want:
            self.fail("%s: content differs" % what, got=got, want=want)

    def op_reopen(self, first=False):
        flags = os.O_RDWR
        r = self.rng.random()
        kind = "O_RDWR"
        if not first:
            size = self.ref_size()
            self.note("close (commit, size %d)" % size)
            self.call("close", self.io.close, self.fd)
            self.fd = None
            self.verify_whole("after close: a new open")
            self.commits += 1
            if self.verify_committed is not None and self.commits % self.verify_every == 0:
                want = self.ref_all()
                try:
                    self.verify_committed(want)
                except AssertionError as e:
                    self.fail("after close: committed object differs: %s" % e)
        if first:
            flags |= os.O_CREAT | os.O_TRUNC
            kind = "O_RDWR|O_CREAT|O_TRUNC"
        elif r < 0.1:
            flags |= os.O_TRUNC
            kind = "O_RDWR|O_TRUNC"
        elif r < 0.25:
            flags |= os.O_APPEND
            kind = "O_RDWR|O_APPEND"
        self.note("open %s" % kind)
        self.fd = self.call("open " + kind, self.io.open, self.path, flags)
        self.append = bool(flags & os.O_APPEND)
        if flags & os.O_TRUNC:
            os.ftruncate(self.ref, 0)
        self.check_size("after open " + kind)

    def oplen(self):
        # Mostly small, sometimes large: fsx's distribution is uniform; a
        # skew to small ops gives more ops per second and more boundaries.
        r = self.rng.random()
        if r < 0.6:
            return self.rng.randrange(1, min(self.max_oplen, 4096) + 1)
        if r < 0.9:
            return self.rng.randrange(1, min(self.max_oplen, 65536) + 1)
        return self.rng.randrange(1, self.max_oplen + 1)

    def run(self):
        ops = [(self.op_write, 30), (self.op_read, 25), (self.op_mapread, 10),
               (self.op_truncate, 10), (self.op_fsync, 2)]
        if self.maxlen >= 16 * MIB:
            ops.append((self.op_bigwrite, 2))
        fns = [f for f, _ in ops]
        weights = [w for _, w in ops]
        self.opno = 1
        self.op_reopen(first=True)
        self.counts["open"] += 1
        next_reopen = self.rng.randint(self.reopen_min, self.reopen_max)
        while self.opno < self.nops:
            self.opno += 1
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.fail("time budget exhausted (the checker is too slow, not a data error)")
            next_reopen -= 1
            if next_reopen <= 0:
                self.op_reopen()
                self.counts["reopen"] += 1
                next_reopen = self.rng.randint(self.reopen_min, self.reopen_max)
                continue
            fn = self.rng.choices(fns, weights)[0]
            fn()
            self.counts[fn.__name__[3:]] += 1
        self.note("final close")
        self.call("close", self.io.close, self.fd)
        self.fd = None
        self.verify_whole("after the final close: a new open")
        if self.verify_committed is not None:
            try:
                self.verify_committed(self.ref_all())
            except AssertionError as e:
                self.fail("after the final close: committed object differs: %s" % e)
        return self.counts

    def close(self):
        if self.fd is not None:
            try:
                self.io.close(self.fd)
            except OSError:
                pass
            self.fd = None
        os.close(self.ref)
        self.ref_tmp.cleanup()


def run_fsx(path, seed, ops, **kw):
    f = Fsx(path, seed, ops, **kw)
    try:
        return f.run()
    finally:
        f.close()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ops", type=int, default=10000)
    p.add_argument("--maxlen", type=int, default=MIB)
    p.add_argument("--name", default=None)
    a = p.parse_args(argv)
    path = os.path.join(a.dir, a.name or "fsx-%d.bin" % a.seed)
    t = time.monotonic()
    try:
        counts = run_fsx(path, a.seed, a.ops, maxlen=a.maxlen)
    except FsxMismatch as e:
        print(e, file=sys.stderr)
        return 1
    print("fsx: seed %d: %d ops OK in %.1f s (%s)" % (
        a.seed, a.ops, time.monotonic() - t, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
