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

BEGIN, END = "<!-- write-path:begin -->", "<!-- write-path:end -->"
NBEGIN, NEND = "<!-- write-path:notes:begin -->", "<!-- write-path:notes:end -->"
NAMES = {"aws": "`/usr/bin/aws s3 cp`", "repofs": "repofs", "s3fs": "s3fs 1.90",
         "rclone": "rclone mount (vfs-cache-mode off)"}
SOURCES = ["repofs", "s3fs", "rclone"]


def load(path):
    res = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5:
                res[(parts[0], parts[1], parts[2])] = parts[3]
    return res


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def fmt(x, digits=2):
    return "n/a" if x is None else ("%.*f" % (digits, x))


def rat(a, b):
    return "n/a" if a is None or b is None or b == 0 else "%.2fx" % (a / b)


class Report:
    def __init__(self, res, meta):
        self.r, self.m = res, meta
        self.lines = []

    def val(self, measure, src, metric):
        return num(self.r.get((measure, src, metric)))

    def raw(self, measure, src, metric):
        return self.r.get((measure, src, metric), "")

    def present(self, measure):
        return any(k[0] == measure for k in self.r)

    def sources(self, measure):
        return [s for s in SOURCES if any(k[:2] == (measure, s) for k in self.r)]

    def out(self, s=""):
        self.lines.append(s)

    def header(self):
        m = self.m
        self.out("Run %s with `%s` on %s." % (m.get("date", "?"), m.get("command", "?"),
                                             m.get("machine", "?")))
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
        self.out("| tool | median s | MiB/s | vs aws s3 cp | runs (s) |")
        self.out("|---|---:|---:|---:|---|")
        self.out("| %s | %s | %s | 1.00x | %s |" % (NAMES["aws"], fmt(self.val("big", "aws", "secs")),
                                                  fmt(base, 1), self.raw("big", "aws", "runs")))
        for s in self.sources("big"):
            if s == "aws":
                continue
            if self.raw("big", s, "status") == "failed":
                self.out("| %s | failed | | | |" % NAMES[s])
                continue
            mibs = self.val("big", s, "mibs")
            ratio = rat(mibs, base)
            if s == "repofs":
                ratio = "**%s**" % ratio
            self.out("| %s | %s | %s | %s | %s |" % (NAMES[s], fmt(self.val("big", s, "secs")),
                                                    fmt(mibs, 1), ratio, self.raw("big", s, "runs")))
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
        self.out("| tool | median s | files/s | s3fs time / this | aws time / this | runs (s) |")
        self.out("|---|---:|---:|---:|---:|---|")
        try:
            count = int(n.replace(",", ""))
        except ValueError:
            count = None
        for s in ["aws"] + self.sources("small"):
            if s != "aws" and s not in SOURCES:
                continue
            if self.raw("small", s, "status") == "failed":
                self.out("| %s | failed | | | | |" % NAMES[s])
                continue
            secs = self.val("small", s, "secs")
            fps = count / secs if count and secs else None
            vs = rat(s3fs, secs)
            if s == "repofs":
                vs = "**%s**" % vs
            self.out("| %s | %s | %s | %s | %s | %s |" % (
                NAMES[s] + (" --recursive" if s == "aws" else ""), fmt(secs), fmt(fps, 0), vs,
                rat(aws, secs), self.raw("small", s, "runs")))
        self.out()

    def closewait(self):
        if not self.present("closewait"):
            return
        mb = self.m.get("sizes", "").split("big=")[-1].split(" ")[0] or "?"
        self.out("#### %s MiB sequential write: seconds from the last write() to the close() "
                 "return (target: only the last parts are left to send)" % mb)
        self.out()
        self.out("| tool | close() wait, median s | write + close, median s | MiB/s | "
                 "close waits (s) |")
        self.out("|---|---:|---:|---:|---|")
        for s in self.sources("closewait"):
            if self.raw("closewait", s, "status") == "failed":
                self.out("| %s | failed | | | |" % NAMES[s])
                continue
            c = self.val("closewait", s, "close_secs")
            t = self.val("closewait", s, "total_secs")
            try:
                mibs = float(mb) / t if t else None
            except ValueError:
                mibs = None
            self.out("| %s | %s | %s | %s | %s |" % (
                NAMES[s], ("**%s**" if s == "repofs" else "%s") % fmt(c, 3), fmt(t), fmt(mibs, 1),
                self.raw("closewait", s, "close_runs")))
        self.out()

    def markdown(self):
        self.header()
        self.big()
        self.small()
        self.closewait()
        return "\n".join(self.lines) + "\n"


def update_docs(path, body, tries=5):
    """Replaces the write-path section of PATH (re-read right before writing)."""
    old = open(path).read() if os.path.exists(path) else ""
    notes = ""
    if BEGIN in old and END in old:
        pre, rest = old.split(BEGIN, 1)
        section, post = rest.split(END, 1)
        if NBEGIN in section and NEND in section:
            notes = NBEGIN + section.split(NBEGIN, 1)[1].split(NEND, 1)[0] + NEND
    else:
        pre = old
        if pre and not pre.endswith("\n"):
            pre += "\n"
        if pre:
            pre += "\n"
        post = "\n"
    if not notes:
        notes = NBEGIN + "\n" + NEND
    section = (BEGIN + "\n## Write path (`bench/write_path`)\n\n"
               "This section is generated by `bench/write_path`; only the notes block is "
               "written by hand.\n\n" + body + "\n#### Notes\n\n" + notes + "\n" + END)
    text = pre + section + post
    tmp = path + ".write-path.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    cur = open(path).read() if os.path.exists(path) else ""
    if cur != old:  # someone else wrote another section meanwhile: redo
        os.unlink(tmp)
        if tries <= 0:
            sys.exit("report: %s keeps changing; not written" % path)
        return update_docs(path, body, tries - 1)
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    res = load(argv[1])
    meta = {}
    with open(argv[2]) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    opts = dict(zip(argv[3::2], argv[4::2]))
    body = Report(res, meta).markdown()
    if "--docs" in opts:
        update_docs(opts["--docs"], body)
    else:
        sys.stdout.write(body)


if __name__ == "__main__":
    main(sys.argv)
