#!/usr/bin/python3
"""bench/cache/report.py: the markdown report of bench/cache_path.

  report.py RESULTS.tsv META.tsv [--docs BENCHMARKS.md]

RESULTS.tsv has one row per value: measure, key (round, "fill" or "-"),
metric, value, unit. META.tsv has key<TAB>value lines (date, command,
machine, ...). Prints the report; with --docs, replaces the text between
`<!-- block-cache:begin -->` and `<!-- block-cache:end -->` of BENCHMARKS.md
(appended at the end if missing), keeping a hand-written block between
`<!-- block-cache:notes:begin -->` and `<!-- block-cache:notes:end -->`.
The file is re-read right before writing: other sections of it are written
by other benchmarks, possibly at the same time.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import benchreport  # noqa: E402
from benchreport import med, num, row  # noqa: E402

# The body ends with a blank line already: nothing between it and the notes.
SECTION = benchreport.DocsSection("block-cache", "Block cache", "bench/cache_path", sep="")


def fmt(x, digits=1, suffix=""):
    return benchreport.fmt(x, digits, suffix, sep=digits == 0)


def load(path):
    """The rows of RESULTS.tsv, blank lines left out, padded to five fields."""
    return [r + [""] * (5 - len(r)) for r in benchreport.read_rows(path, skip_blank=True)]


class Report(benchreport.Markdown):
    def __init__(self, rows, meta):
        super().__init__()
        self.rows = rows
        self.m = meta

    def get(self, measure, key, metric, default=None):
        for r in self.rows:
            if r[0] == measure and r[1] == key and r[2] == metric:
                return r[3]
        return default

    def rounds(self, measure):
        keys = []
        for r in self.rows:
            if r[0] == measure and r[1].isdigit() and r[1] not in keys:
                keys.append(r[1])
        return keys

    def header(self):
        m = self.m
        self.out(benchreport.generated_line(m, "bench/cache_path"))
        self.out()
        self.out(f"- Command: `{m.get('command', '?')}`")
        self.out(benchreport.machine_line(m))
        self.out(f"- S3: Ceph RGW {m.get('rgw', '?')}. repofs {m.get('repofs', '?')}.")
        self.out(f"- Sizes: {m.get('sizes', '?')}. Cache dirs and local copies on "
                 f"{m.get('disk', '?')} (the same filesystem), one cache dir per mount.")
        self.out("- Every ratio is paired: the baseline run comes right before the measured "
                 "one, in each round; the headline is the median of the per-round ratios.")
        self.out()

    def seq(self):
        rs = self.rounds("seq")
        if not rs:
            return
        self.intro("### cache-seq: sequential read of a cached object after a remount",
                   "`dd bs=1M` of the object through a fresh mount whose cache dir already holds "
                   "it (a previous mount with the same `cache_dir` read it once), after "
                   "`echo 3 > /proc/sys/vm/drop_caches`, vs `dd bs=1M` of the same file on local "
                   "disk after drop_caches. Target >= 0.8x. Content compared with `cmp` after "
                   "each cached read. S3 requests from the daemon's unmount line. \"Same mount "
                   "again\": drop_caches and the same `dd` in that mount once more, when the "
                   "daemon already knows the blocks' checksums are good (not part of the ratio). "
                   "READs: the FUSE READ requests that reached the daemon in that mount (both "
                   "reads; 0 when the kernel read the cache file itself through FUSE passthrough).")
        self.table(["round", "local disk MiB/s", "cached MiB/s", "ratio",
                    "same mount again (diagnostic)", "READs", "S3 requests of the cached mount"],
                   "lrrrrrl")
        for k in rs:
            self.out(row(k, fmt(num(self.get("seq", k, "local_mibs"))),
                         fmt(num(self.get("seq", k, "cache_mibs"))),
                         fmt(num(self.get("seq", k, "ratio")), 2, "x"),
                         fmt(num(self.get("seq", k, "reread_mibs"))),
                         self.get("seq", k, "fuse_reads", "?"),
                         self.get("seq", k, "s3", self.get("seq", k, "status", "?"))))
        ratio = med(self.get("seq", k, "ratio") for k in rs)
        gets = [self.get("seq", k, "getobject", "?") for k in rs]
        self.out()
        self.out(f"**cache-seq: {fmt(ratio, 2, 'x')} local disk** (median of {len(rs)} paired "
                 f"rounds; medians {fmt(med(self.get('seq', k, 'cache_mibs') for k in rs))} vs "
                 f"{fmt(med(self.get('seq', k, 'local_mibs') for k in rs))} MiB/s); GetObject "
                 f"of the cached reads: {', '.join(gets)}.")
        self.out()
        self.out(f"The filling read (empty cache dir, from S3): "
                 f"{fmt(num(self.get('seq', 'fill', 'mibs')))} MiB/s; S3 requests "
                 f"{self.get('seq', 'fill', 's3', '?')}. `repofs cache stats` afterwards: "
                 f"`{self.get('seq', 'fill', 'cache_stats', '?')}`.")
        self.out()

    def ls(self):
        rs = self.rounds("ls")
        if not rs:
            return
        self.intro("### cache-ls: `ls -l` of a big directory after a remount with a warm cache "
                   "dir",
                   "A previous mount with the same `cache_dir` ran `ls -l` on the directory "
                   "(default `attr_source=head`); each round is a fresh mount after drop_caches, "
                   "compared with a raw ListObjectsV2 paging (1000 keys per page, one keep-alive "
                   "connection, Python client) right before it. Wanted: one LIST pass and no "
                   "HEAD. S3 requests from the daemon's unmount line.")
        loc = any(self.get("ls", k, "local_secs") for k in rs)
        self.table(["round", "raw LIST s", "`ls -l` s", "ratio", "ListObjects", "HeadObject",
                    "GetObject", "all S3 requests"]
                   + (["`ls -l` of local copies s (diagnostic)"] if loc else []),
                   "lrrrrrrl" + ("r" if loc else ""))
        for k in rs:
            g = lambda metric, d="?": self.get("ls", k, metric, d)  # noqa: E731
            self.out(row(k, fmt(num(g("list_secs")), 3), fmt(num(g("secs")), 3),
                         fmt(num(g("ratio")), 2, "x"), g("listobjects"), g("headobject"),
                         g("getobject"), g("s3", g("status")),
                         *([fmt(num(g("local_secs")), 3)] if loc else [])))
        self.out(f"| empty cache (the filling mount) | "
                 f"{fmt(num(self.get('ls', 'fill', 'list_secs')), 3)} | "
                 f"{fmt(num(self.get('ls', 'fill', 'secs')), 3)} | "
                 f"{fmt(self.ratio('ls', 'fill', 'secs', 'list_secs'), 2, 'x')} | | | | "
                 f"{self.get('ls', 'fill', 's3', '?')} |" + (" |" if loc else ""))
        self.out()
        ratio = med(self.get("ls", k, "ratio") for k in rs)
        self.out(f"**cache-ls: {fmt(ratio, 2, 'x')} the raw LIST** (median of {len(rs)} paired "
                 f"rounds); ListObjects {', '.join(self.get('ls', k, 'listobjects', '?') for k in rs)}, "
                 f"HeadObject {', '.join(self.get('ls', k, 'headobject', '?') for k in rs)}.")
        self.out()

    def ratio(self, measure, key, a, b):
        x, y = num(self.get(measure, key, a)), num(self.get(measure, key, b))
        return x / y if x is not None and y else None

    def serve(self):
        kinds = [k for k in ("rw", "ro") if self.rounds(f"serve_{k}") or
                 any(r[0] == f"serve_{k}" for r in self.rows)]
        if not kinds:
            return
        self.intro("### Warm nginx serving: block cache on (default) vs `no_cache`",
                   "The two mounts of a pair (`no_cache`, and the default with its own cache "
                   "dir) are up side by side, one nginx each (the read-path configuration: "
                   "`sendfile on; aio threads; sendfile_max_chunk 512k; open_file_cache off`); "
                   "per file and round: a body check, then wrk on local disk, on the no_cache "
                   "mount, on the cached mount, back to back. Target: cached >= no_cache "
                   "(within noise).")
        self.table(["mount", "file", "local req/s", "no_cache req/s", "cache req/s",
                    "cache / no_cache", "per-round ratios", "cache / local"], "llrrrrlr")
        for kind in kinds:
            m = f"serve_{kind}"
            for f in ("1m", "4k"):
                ks = sorted({r[1] for r in self.rows if r[0] == m and r[1].endswith("/" + f)})
                if not ks:
                    continue
                lo = med(self.get(m, k, "local_rps") for k in ks)
                no = med(self.get(m, k, "nocache_rps") for k in ks)
                ca = med(self.get(m, k, "cache_rps") for k in ks)
                rat = med(self.get(m, k, "ratio") for k in ks)
                per = " ".join(fmt(num(self.get(m, k, "ratio")), 2) for k in ks)
                cl = med((num(self.get(m, k, "cache_rps")) or 0) / num(self.get(m, k, "local_rps"))
                         for k in ks if num(self.get(m, k, "local_rps")))
                name = "read-write" if kind == "rw" else "`ro` (FUSE no-open)"
                size = "1 MiB" if f == "1m" else "4 KiB"
                self.out(row(name, size, fmt(lo, 0), fmt(no, 0), fmt(ca, 0),
                             f"**{fmt(rat, 2, 'x')}**", per, fmt(cl, 2, "x")))
        self.out()
        for kind in kinds:
            m = f"serve_{kind}"
            s3 = "; ".join(f"round {k}: no_cache {self.get(m, k, 's3_nocache', '?')}, cache "
                           f"{self.get(m, k, 's3_cache', '?')}" for k in self.rounds(m))
            if s3:
                self.out(f"S3 requests of the {kind} mounts (whole mount: body checks, "
                         f"warm-ups and runs): {s3}.")
                self.out()

    def markdown(self):
        self.header()
        self.seq()
        self.ls()
        self.serve()
        loads = [f"{r[0]} {r[3]}" for r in self.rows if r[1] == "-" and r[2] == "load_start"]
        if loads:
            self.out(benchreport.load_line(loads))
            self.out()
        return self.text()


def main(argv):
    res_path, meta_path, opts = benchreport.cli(argv, __doc__)
    rows = load(res_path)
    SECTION.emit(Report(rows, benchreport.read_meta(meta_path)).markdown(), opts)


if __name__ == "__main__":
    main(sys.argv)
