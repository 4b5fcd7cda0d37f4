"""Random-operation data integrity on a real mount (issue 6, "Done when": an
fsx-style checker runs >= 20,000 operations over several seeds, no mismatch).

The checker (tests/mount/fsx.py) applies the same seeded writes, pwrites past
EOF, ftruncates up and down, fsyncs and close/reopen cycles (O_RDWR, O_TRUNC,
O_APPEND) to a file on the mount and to a reference file on local disk, and
compares every pread and mmap read. Every close commits to S3: the whole file
is then read back through a new open, and every few commits (and after the
last) fetched from S3 itself with `repofs s3 get`.

The checker is first validated on a local directory: it passes there and it
catches an injected corrupt byte and an ignored truncate-down (the bug s3fs
1.90 shows at op 14).

REPOFS_FSX_SCALE=N multiplies the op counts (a longer soak run by hand).
"""
import os
import time

import pytest

import fsx

MIB = 1 << 20
SCALE = float(os.environ.get("REPOFS_FSX_SCALE", "1"))

# (seed, max file size, ops): 20,000 ops in all. The 16 MiB seed makes
# sequential 1 MiB write runs of 6-12 MiB (streaming multipart parts) and
# then random writes and truncates into the same file.
SEEDS = [
    (61001, 256 * 1024, 6000),
    (61002, 1 * MIB, 6000),
    (61003, 4 * MIB, 6000),
    (61004, 16 * MIB, 2000),
]
TOTAL_OPS = sum(n for _, _, n in SEEDS)
REOPEN = (30, 150)          # ops between close/reopen: ~200 commits in all
SEED_BUDGET_S = 600         # a hang or a pathologically slow mount fails, not CI's timeout


def test_seed_table_covers_twenty_thousand_ops():
    assert TOTAL_OPS >= 20000
    assert len(SEEDS) >= 3


# ------------------------------------------------------------ self-test
def test_checker_passes_on_local_disk(tmp_path):
    counts = fsx.run_fsx(str(tmp_path / "f"), 7, 3000, maxlen=MIB,
                         reopen_min=REOPEN[0], reopen_max=REOPEN[1])
    # Every kind of op ran.
    for op in ("write", "read", "mapread", "truncate", "fsync", "reopen"):
        assert counts[op] > 0, counts
    counts = fsx.run_fsx(str(tmp_path / "g"), 8, 400, maxlen=16 * MIB,
                         reopen_min=REOPEN[0], reopen_max=REOPEN[1])
    assert counts["bigwrite"] > 0, counts


def test_checker_catches_a_corrupted_byte(tmp_path):
    with pytest.raises(fsx.FsxMismatch) as e:
        fsx.run_fsx(str(tmp_path / "f"), 7, 3000, maxlen=MIB, io=fsx.CorruptingIo(nth=25),
                    reopen_min=REOPEN[0], reopen_max=REOPEN[1])
    msg = str(e.value)
    assert "seed 7, op " in msg
    assert "first differing byte at file offset" in msg
    assert "last " in msg and "pwrite" in msg  # the op log tail


def test_checker_catches_an_ignored_truncate_down(tmp_path):
    with pytest.raises(fsx.FsxMismatch) as e:
        fsx.run_fsx(str(tmp_path / "f"), 7, 3000, maxlen=MIB, io=fsx.LazyTruncateIo(),
                    reopen_min=REOPEN[0], reopen_max=REOPEN[1])
    assert "after ftruncate: size is" in str(e.value)


def test_checker_catches_a_commit_that_differs(tmp_path):
    # The S3 hook: a "committed object" that lost its last byte.
    def bad_commit(want):
        got = want[:-1] if want else b"x"
        assert got == want, "object has %d bytes, want %d" % (len(got), len(want))

    with pytest.raises(fsx.FsxMismatch) as e:
        fsx.run_fsx(str(tmp_path / "f"), 9, 1000, maxlen=MIB, verify_committed=bad_commit,
                    reopen_min=REOPEN[0], reopen_max=REOPEN[1])
    assert "committed object differs" in str(e.value)


# ------------------------------------------------------------ the mount
@pytest.mark.parametrize("seed,maxlen,ops", SEEDS, ids=["seed%d-%dK" % (s, m // 1024)
                                                        for s, m, _ in SEEDS])
def test_fsx_on_mount(s3, prefix, mount_factory, tmp_path, seed, maxlen, ops):
    m = mount_factory(prefix)
    name = "fsx-%d.bin" % seed
    key = prefix + name

    def committed(want):
        got = s3.get(key)
        if got != want:
            d = fsx._first_diff(got, want)
            raise AssertionError("S3 object %s: %d bytes, want %d; first difference at %d"
                                 % (key, len(got), len(want), d))

    ops = int(ops * SCALE)
    t = time.monotonic()
    try:
        counts = fsx.run_fsx(m.path(name), seed, ops, maxlen=maxlen, ref_dir=str(tmp_path),
                             reopen_min=REOPEN[0], reopen_max=REOPEN[1],
                             verify_committed=committed, verify_every=5,
                             deadline=time.monotonic() + SEED_BUDGET_S * SCALE)
    except fsx.FsxMismatch as e:
        pytest.fail("%s\nrepofs log tail:\n%s" % (e, m.logtext()[-2000:]), pytrace=False)
    print("fsx seed %d on the mount: %d ops in %.1f s, %d commits (%s)" % (
        seed, ops, time.monotonic() - t, counts["reopen"] + 1,
        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    assert counts["reopen"] >= ops // REOPEN[1] - 1
    # RGW's memstore lives in RAM and the whole suite shares it.
    os.unlink(m.path(name))
