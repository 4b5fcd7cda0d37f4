#!/usr/bin/python3
"""bench/write/closewait.py: how long close() waits after a large sequential write.

  closewait.py PATH MIB [--chunk-kib 1024] [--seed N]

Creates PATH (O_WRONLY|O_CREAT|O_TRUNC), writes MIB MiB of pseudo-random
bytes in write() calls of --chunk-kib KiB, then close(). Prints one line:

  write_s=<first write to last write return> close_s=<last write return to
  close return> total_s=<open to close return> mibs=<MiB / total_s> bytes=<N>

With streaming multipart upload, close_s is the time to send the parts that
were still pending plus CompleteMultipartUpload; a filesystem that uploads
only at close waits for the whole file there.

The data is an 8 MiB random block (from --seed) with each chunk's first
8 bytes replaced by its index, so no two chunks are equal; generating it
costs nothing inside the timed loop.
"""
import argparse
import os
import random
import struct
import sys
import time


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("mib", type=int)
    p.add_argument("--chunk-kib", type=int, default=1024)
    p.add_argument("--seed", type=int, default=20261125)
    a = p.parse_args(argv)
    chunk = a.chunk_kib * 1024
    total = a.mib << 20
    block = bytearray(random.Random(a.seed).randbytes(8 << 20))
    nchunks = (total + chunk - 1) // chunk
    t_open = time.perf_counter()
    fd = os.open(a.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t_first = time.perf_counter()
    written = 0
    for i in range(nchunks):
        n = min(chunk, total - written)
        start = (i * chunk) % len(block)
        if start + n > len(block):
            start = 0
        buf = bytearray(block[start:start + n])
        buf[:8] = struct.pack("<Q", i)
        mv = memoryview(buf)
        while mv:
            k = os.write(fd, mv)
            mv = mv[k:]
        written += n
    t_last = time.perf_counter()
    os.close(fd)
    t_close = time.perf_counter()
    print("write_s=%.4f close_s=%.4f total_s=%.4f mibs=%.1f bytes=%d" % (
        t_last - t_first, t_close - t_last, t_close - t_open,
        a.mib / (t_close - t_open), written))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
