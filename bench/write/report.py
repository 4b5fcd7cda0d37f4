#!/usr/bin/python3
"""bench/write/report.py: the markdown report of bench/write_path.

  report.py RESULTS.tsv META.tsv                  -> markdown on stdout
  report.py RESULTS.tsv META.tsv --docs FILE.md   -> replaces the section
        between <!-- write-path:begin --> and <!-- write-path:end --> of
        FILE.md (appended if missing), keeping the hand-written notes block
        (<!-- write-path:notes:begin/end -->)

RESULTS.tsv rows: measure, source, metric, value, unit (see bench/write_path).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import benchreport  # noqa: E402
from benchreport import bold_if, fmt, num, ratio as rat, row  # noqa: E402

SECTION = benchreport.DocsSection("write-path", "Write path", "bench/write_path")
NAMES = {"aws": "`/usr/bin/aws s3 cp`", "repofs": "repofs", "s3fs": "s3fs 1.90",
         "rclone": "rclone mount (vfs-cache-mode off)"}
SOURCES = ["repofs", "s3fs", "rclone"]


class Report(benchreport.Markdown):
    def __init__(self, res, meta):
        super().__init__()
        self.r, self.m = res, meta

    def val(self, measure, src, metric):
        return num(self.r.get((measure, src, metric)))

    def raw(self, measure, src, metric):
        return self.r.get((measure, src, metric), "")

    def present(self, measure):
        return any(k[0] == measure for k in self.r)

    def sources(self, measure):
        return [s for s in SOURCES if any(k[:2] == (measure, s) for k in self.r)]

    def failed(self, measure, src, width):
        """Writes a "failed" row for SRC if it failed; True if so."""
        if self.raw(measure, src, "status") != "failed":
            return False
        self.out(row(NAMES[src], "failed", width=width))
        return True

    def header(self):
        m = self.m
        self.out(benchreport.run_line(m))
        self.out("Load average: %s. Ceph RGW (%s) on the same cores. repofs %s. %s; %s; %s." % (
            m.get("load", "?"), m.get("rgw", "?"), m.get("repofs", "?"), m.get("aws", "?"),
            ("s3fs " + m.get("s3fs", "?")), m.get("rclone", "?")))
        self.out("Sizes: %s. Every copy ran on a fresh mount; its time ends when the command "
                 "returns (close() returned, so the data is in S3 for every source here), and "
                 "S3 was checked afterwards for the right key count and bytes. Medians of the "
                 "rounds; ratios are from this one run." % m.get("sizes", "?"))
        self.out()

    def big(self):
        if not self.present("big"):
            return
        mb = self.m.get("sizes", "").split("big=")[-1].split(" ")[0] or "?"
        base = self.val("big", "aws", "mibs")
        self.out("#### cp of a %s MiB file into the mount (target: repofs >= 0.9x aws s3 cp)" % mb)
        self.out()
        self.table(["tool", "median s", "MiB/s", "vs aws s3 cp", "runs (s)"], "lrrrl")
        self.out(row(NAMES["aws"], fmt(self.val("big", "aws", "secs")), fmt(base, 1), "1.00x",
                     self.raw("big", "aws", "runs")))
        for s in self.sources("big"):
            if s == "aws" or self.failed("big", s, 5):
                continue
            mibs = self.val("big", s, "mibs")
            self.out(row(NAMES[s], fmt(self.val("big", s, "secs")), fmt(mibs, 1),
                         bold_if(s == "repofs", rat(mibs, base)), self.raw("big", s, "runs")))
        self.out()

    def small(self):
        if not self.present("small"):
            return
        n = self.m.get("sizes", "").split("small=")[-1].split(" ")[0] or "?"
        s3fs = self.val("small", "s3fs", "secs")
        aws = self.val("small", "aws", "secs")
        self.out("#### cp -r of %s x 4 KiB files into the mount (target: repofs >= 2x faster "
                 "than s3fs)" % n)
        self.out()
        self.table(["tool", "median s", "files/s", "s3fs time / this", "aws time / this",
                    "runs (s)"], "lrrrrl")
        try:
            count = int(n.replace(",", ""))
        except ValueError:
            count = None
        for s in ["aws"] + self.sources("small"):
            if s != "aws" and s not in SOURCES or self.failed("small", s, 6):
                continue
            secs = self.val("small", s, "secs")
            fps = count / secs if count and secs else None
            self.out(row(NAMES[s] + (" --recursive" if s == "aws" else ""), fmt(secs),
                         fmt(fps, 0), bold_if(s == "repofs", rat(s3fs, secs)), rat(aws, secs),
                         self.raw("small", s, "runs")))
        self.out()

    def closewait(self):
        if not self.present("closewait"):
            return
        mb = self.m.get("sizes", "").split("big=")[-1].split(" ")[0] or "?"
        self.out("#### %s MiB sequential write: seconds from the last write() to the close() "
                 "return (target: only the last parts are left to send)" % mb)
        self.out()
        self.table(["tool", "close() wait, median s", "write + close, median s", "MiB/s",
                    "close waits (s)"], "lrrrl")
        for s in self.sources("closewait"):
            if self.failed("closewait", s, 5):
                continue
            c = self.val("closewait", s, "close_secs")
            t = self.val("closewait", s, "total_secs")
            try:
                mibs = float(mb) / t if t else None
            except ValueError:
                mibs = None
            self.out(row(NAMES[s], bold_if(s == "repofs", fmt(c, 3)), fmt(t), fmt(mibs, 1),
                         self.raw("closewait", s, "close_runs")))
        self.out()

    def markdown(self):
        self.header()
        self.big()
        self.small()
        self.closewait()
        return self.text()


def main(argv):
    res_path, meta_path, opts = benchreport.cli(argv, __doc__)
    res = benchreport.load_values(res_path)
    SECTION.emit(Report(res, benchreport.read_meta(meta_path)).markdown(), opts)


if __name__ == "__main__":
    main(sys.argv)
