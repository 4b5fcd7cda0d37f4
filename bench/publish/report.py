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

TAG = "publish-path"
BEGIN, END = "<!-- %s:begin -->" % TAG, "<!-- %s:end -->" % TAG
NBEGIN, NEND = "<!-- %s:notes:begin -->" % TAG, "<!-- %s:notes:end -->" % TAG
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
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 5:
                res.setdefault((p[0], p[1], p[3]), {})[p[2]] = p[4]
    return res


def num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def med(values):
    v = [x for x in (num(y) for y in values) if x is not None]
    return statistics.median(v) if v else None


def fmt(x, digits=2):
    return "n/a" if x is None else "%.*f" % (digits, x)


def fx(x):
    return "n/a" if x is None else "%.2fx" % x


class Report:
    def __init__(self, res, meta):
        self.r, self.m, self.lines = res, meta, []

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

    def out(self, s=""):
        self.lines.append(s)

    def header(self):
        m = self.m
        self.out("Run %s with `%s` on %s." % (m.get("date", "?"), m.get("command", "?"),
                                             m.get("machine", "?")))
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
        self.out("#### 1. Publish: one `reprepro -b STATE --outdir TARGET/debian includedeb "
                 "bookworm` of all packages (signed)")
        self.out()
        self.out("Fresh reprepro state (local disk) and a fresh target (new key prefix, new "
                 "mount) per round. *published* = until reprepro returned **and** S3 held "
                 "every file of the local publish (same names, same sizes; checked by "
                 "listing right after reprepro returned, then every 0.2 s); for repofs and "
                 "s3fs the data is in S3 when close() returns; rclone uploads after close(), "
                 "by default 5 s after it (`--vfs-write-back 5s`).")
        self.out()
        self.out("| target | published, median s | reprepro returned, median s | "
                 "time vs local disk | runs, published (s) |")
        self.out("|---|---:|---:|---:|---|")
        for src, name in PUB:
            if not self.seen("publish", src):
                continue
            s = self.median("publish", src, "secs")
            if s is None:
                self.out("| %s | failed: %s | | | |" % (name, self.failed("publish", src)))
                continue
            ratio = fx(self.paired("publish", src, "local", "secs"))
            self.out("| %s | %s | %s | %s | %s |" % (
                name, ("**%s**" if src == "repofs" else "%s") % fmt(s),
                fmt(self.median("publish", src, "reprepro_secs")), ratio,
                self.runs("publish", src, "secs")))
            if self.failed("publish", src):
                self.out("| (%s failures) | %s | | | |" % (src, self.failed("publish", src)))
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
        self.out("#### 2. Serve: `apt-get update` + `apt-get install --download-only` of all "
                 "packages through nginx")
        self.out()
        self.out("Same nginx configuration for every source (`sendfile on; aio threads; "
                 "sendfile_max_chunk 512k; directio off; open_file_cache off;`, 2 workers); a "
                 "fresh isolated apt client (empty lists and archives, `signed-by` the "
                 "throwaway key) per fetch; every downloaded .deb checked byte for byte "
                 "against the published one (a mismatch aborts the benchmark).")
        self.out()
        self.out("| served from | update, median s | download, median s | total, median s | "
                 "total vs local disk | runs, total (s) |")
        self.out("|---|---:|---:|---:|---:|---|")
        for src, name in SERVE:
            if not self.seen("serve", src):
                continue
            t = self.median("serve", src, "total_secs")
            if t is None:
                self.out("| %s | failed: %s | | | | |" % (name, self.failed("serve", src)))
                continue
            ratio = fx(self.paired("serve", src, "local", "total_secs"))
            self.out("| %s | %s | %s | %s | %s | %s |" % (
                name, fmt(self.median("serve", src, "update_secs")),
                fmt(self.median("serve", src, "download_secs")),
                ("**%s**" if src.startswith("repofs") else "%s") % fmt(t), ratio,
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
        return "\n".join(self.lines) + "\n"


def update_docs(path, body, tries=5):
    """Replaces this section of PATH (re-read right before writing)."""
    old = open(path).read() if os.path.exists(path) else ""
    notes = NBEGIN + "\n" + NEND
    if BEGIN in old and END in old:
        pre, rest = old.split(BEGIN, 1)
        section, post = rest.split(END, 1)
        if NBEGIN in section and NEND in section:
            notes = NBEGIN + section.split(NBEGIN, 1)[1].split(NEND, 1)[0] + NEND
    else:
        pre = old if not old or old.endswith("\n") else old + "\n"
        pre += "\n" if pre else ""
        post = "\n"
    section = (BEGIN + "\n## Publish and serve an apt repository (`bench/publish_path`)\n\n"
               "This section is generated by `bench/publish_path`; only the notes block is "
               "written by hand.\n\n" + body + "\n#### Notes\n\n" + notes + "\n" + END)
    tmp = path + ".%s.tmp" % TAG
    with open(tmp, "w") as f:
        f.write(pre + section + post)
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
    meta = {}
    with open(argv[2]) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    body = Report(load(argv[1]), meta).markdown()
    opts = dict(zip(argv[3::2], argv[4::2]))
    if "--docs" in opts:
        update_docs(opts["--docs"], body)
    else:
        sys.stdout.write(body)


if __name__ == "__main__":
    main(sys.argv)
