#!/usr/bin/python3
"""bench/publish/report.py: the markdown report of bench/publish_path.

  report.py RESULTS.tsv META.tsv                  -> markdown on stdout
  report.py RESULTS.tsv META.tsv --docs FILE.md   -> replaces the section
        between <!-- publish-path:begin --> and <!-- publish-path:end --> of
        FILE.md (appended if missing), keeping the hand-written notes block
        (<!-- publish-path:notes:begin/end -->); FILE.md is re-read right
        before it is replaced, other sections are left as they are.

RESULTS.tsv rows: measure, source, round, metric, value (see bench/publish_path).
Every ratio is paired: computed within a round (each round measures every
source back to back), then the median over the rounds is shown.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import benchreport  # noqa: E402
from benchreport import bold_if, fmt, med, num, row, times as fx  # noqa: E402

SECTION = benchreport.DocsSection("publish-path", "Publish and serve an apt repository",
                                  "bench/publish_path")
PUB = [("local", "local disk (ext4)"), ("repofs", "repofs"), ("s3fs", "s3fs 1.90"),
       ("rclone", "rclone mount --vfs-cache-mode writes")]
SERVE = [("local", "local disk (a copy of the repofs-published tree)"),
         ("repofs-cold", "repofs, cold (fresh mount, empty block cache)"),
         ("repofs-warm", "repofs, warm (same mount, second client)"),
         ("s3fs-cold", "s3fs, cold (fresh mount)"), ("s3fs-warm", "s3fs, warm (same mount)"),
         ("rclone-cold", "rclone (writes), cold"), ("rclone-warm", "rclone (writes), warm")]


def load(path):
    """{(measure, source, metric): {round: value}}"""
    res = {}
    for p in benchreport.read_rows(path):
        if len(p) == 5:
            res.setdefault((p[0], p[1], p[3]), {})[p[2]] = p[4]
    return res


class Report(benchreport.Markdown):
    def __init__(self, res, meta):
        super().__init__()
        self.r, self.m = res, meta

    def get(self, measure, src, metric):
        return self.r.get((measure, src, metric), {})

    def median(self, measure, src, metric):
        return med(self.get(measure, src, metric).values())

    def paired(self, measure, a, b, metric):
        """Median over rounds of a's value / b's value in the same round."""
        va, vb = self.get(measure, a, metric), self.get(measure, b, metric)
        q = [num(va[k]) / num(vb[k]) for k in va if k in vb and num(va[k]) and num(vb[k])]
        return statistics.median(q) if q else None

    def runs(self, measure, src, metric):
        v = self.get(measure, src, metric)
        return " ".join("%.2f" % num(v[k]) for k in sorted(v, key=int) if num(v[k]) is not None)

    def failed(self, measure, src):
        f = self.get(measure, src, "failed")
        return "; ".join("round %s: %s" % (k, f[k]) for k in sorted(f, key=int))

    def requests(self, measure, src):
        """The request-count lines of repofs's log, grouped by the rounds that had them."""
        rq = self.get(measure, src, "requests")
        groups = {}
        for k in sorted(rq, key=int):
            groups.setdefault(rq[k], []).append(k)
        return "; ".join("%s %s: %s" % ("rounds" if len(r) > 1 else "round", ",".join(r), v)
                         for v, r in groups.items() if v)

    def seen(self, measure, src):
        return any(k[0] == measure and k[1] == src for k in self.r)

    def header(self):
        m = self.m
        self.out(benchreport.run_line(m))
        self.out("Load average: %s.%s" % (m.get("load", "?"), m.get("loadnote", "")))
        self.out("Ceph RGW (%s) on the same cores; repofs %s; %s; %s; reprepro %s; apt %s; %s." % (
            m.get("rgw", "?"), m.get("repofs", "?"), m.get("s3fs", "?"), m.get("rclone", "?"),
            m.get("reprepro", "?"), m.get("apt", "?"), m.get("nginx", "?")))
        self.out("Data: %s. Medians over the rounds; every ratio is paired (taken within a "
                 "round, where every target is measured back to back, then the median over "
                 "the rounds)." % m.get("sizes", "?"))
        self.out()

    def publish(self):
        if not any(k[0] == "publish" for k in self.r):
            return
        self.intro("#### 1. Publish: one `reprepro -b STATE --outdir TARGET/debian includedeb "
                   "bookworm` of all packages (signed)",
                   "Fresh reprepro state (local disk) and a fresh target (new key prefix, new "
                   "mount) per round. *published* = until reprepro returned **and** S3 held "
                   "every file of the local publish (same names, same sizes; checked by "
                   "listing right after reprepro returned, then every 0.2 s); for repofs and "
                   "s3fs the data is in S3 when close() returns; rclone uploads after close(), "
                   "by default 5 s after it (`--vfs-write-back 5s`).")
        self.table(["target", "published, median s", "reprepro returned, median s",
                    "time vs local disk", "runs, published (s)"], "lrrrl")
        for src, name in PUB:
            if not self.seen("publish", src):
                continue
            s = self.median("publish", src, "secs")
            if s is None:
                self.out(row(name, "failed: %s" % self.failed("publish", src), width=5))
                continue
            ratio = fx(self.paired("publish", src, "local", "secs"))
            self.out(row(name, bold_if(src == "repofs", fmt(s)),
                         fmt(self.median("publish", src, "reprepro_secs")), ratio,
                         self.runs("publish", src, "secs")))
            if self.failed("publish", src):
                self.out(row("(%s failures)" % src, self.failed("publish", src), width=5))
        sp = self.paired("publish", "s3fs", "repofs", "secs")
        if sp is not None:
            self.out()
            self.out("repofs vs s3fs: s3fs time / repofs time = **%s** (paired median)." % fx(sp))
        rq = self.requests("publish", "repofs")
        if rq:
            self.out()
            self.out("S3 requests of the repofs publish mount (its log at unmount): %s." % rq)
        self.out()

    def serve(self):
        if not any(k[0] == "serve" for k in self.r):
            return
        self.intro("#### 2. Serve: `apt-get update` + `apt-get install --download-only` of all "
                   "packages through nginx",
                   "Same nginx configuration for every source (`sendfile on; aio threads; "
                   "sendfile_max_chunk 512k; directio off; open_file_cache off;`, 2 workers); a "
                   "fresh isolated apt client (empty lists and archives, `signed-by` the "
                   "throwaway key) per fetch; every downloaded .deb checked byte for byte "
                   "against the published one (a mismatch aborts the benchmark).")
        self.table(["served from", "update, median s", "download, median s", "total, median s",
                    "total vs local disk", "runs, total (s)"], "lrrrrl")
        for src, name in SERVE:
            if not self.seen("serve", src):
                continue
            t = self.median("serve", src, "total_secs")
            if t is None:
                self.out(row(name, "failed: %s" % self.failed("serve", src), width=6))
                continue
            ratio = fx(self.paired("serve", src, "local", "total_secs"))
            self.out(row(name, fmt(self.median("serve", src, "update_secs")),
                         fmt(self.median("serve", src, "download_secs")),
                         bold_if(src.startswith("repofs"), fmt(t)), ratio,
                         self.runs("serve", src, "total_secs")))
        for mode in ("cold", "warm"):
            sp = self.paired("serve", "s3fs-" + mode, "repofs-" + mode, "total_secs")
            if sp is not None:
                self.out()
                self.out("repofs vs s3fs, %s: s3fs time / repofs time = %s." % (mode, fx(sp)))
        rq = self.requests("serve", "repofs-warm")
        if rq:
            self.out()
            self.out("S3 requests of the repofs serving mount, cold + warm together: %s." % rq)
        self.out()

    def markdown(self):
        self.header()
        self.publish()
        self.serve()
        return self.text()


def main(argv):
    res_path, meta_path, opts = benchreport.cli(argv, __doc__)
    meta = benchreport.read_meta(meta_path)
    SECTION.emit(Report(load(res_path), meta).markdown(), opts)


if __name__ == "__main__":
    main(sys.argv)
