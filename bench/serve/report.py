#!/usr/bin/python3
"""bench/serve/report.py: turns the results of bench/read_path into Markdown
(stdout), and optionally writes them into docs/BENCHMARKS.md and a PNG chart.

  report.py RESULTS.tsv META.tsv [--docs BENCHMARKS.md --chart OUT.png --workdir DIR]

RESULTS.tsv rows: measure, source, metric, value, unit (as bench/read_path
records them). META.tsv rows: key, value.

In BENCHMARKS.md only the text between `<!-- read-path:begin -->` and
`<!-- read-path:end -->` is replaced (the markers are appended at the end of
the file if missing). A block between `<!-- read-path:notes:begin -->` and
`<!-- read-path:notes:end -->` inside it (hand-written observations) is kept.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import benchreport  # noqa: E402
from benchreport import num, ratio as rat, row  # noqa: E402

SECTION = benchreport.DocsSection("read-path", "Read path", "bench/read_path")
SOURCES = ["local", "repofs", "repofs-list", "repofs-ro", "s3fs", "s3fs-cache", "rclone-off", "rclone-full"]
LABEL = {
    "local": "local disk (ext4)",
    "repofs": "repofs (attr_source=head)",
    "repofs-list": "repofs (attr_source=list)",
    "repofs-ro": "repofs (ro: no-open mode)",
    "s3fs": "s3fs",
    "s3fs-cache": "s3fs use_cache+kernel_cache",
    "rclone-off": "rclone --vfs-cache-mode off",
    "rclone-full": "rclone --vfs-cache-mode full",
    "curl": "curl signed GET",
    "rawlist": "raw ListObjectsV2 (1000/page)",
}
SHORT = {
    "local": "local", "repofs": "repofs", "repofs-list": "repofs\\nlist", "repofs-ro": "repofs\\nro",
    "s3fs": "s3fs", "s3fs-cache": "s3fs\\ncache", "rclone-off": "rclone\\noff",
    "rclone-full": "rclone\\nfull",
}


def fmt(x, digits=0):
    return benchreport.fmt(x, digits, sep=True)


class Report(benchreport.Markdown):
    def __init__(self, res, meta):
        super().__init__()
        self.r = res
        self.m = meta

    def get(self, measure, src, metric):
        return self.r.get((measure, src, metric))

    def val(self, measure, src, metric):
        return num(self.get(measure, src, metric))

    def status(self, measure, src):
        s = self.get(measure, src, "status")
        return f"failed ({s})" if s else "not run"

    def present(self, measure):
        return [s for s in SOURCES if any(k[0] == measure and k[1] == s for k in self.r)]

    def header(self):
        m = self.m
        self.out(benchreport.generated_line(m, m.get("command", "bench/read_path")))
        self.out()
        self.out(benchreport.machine_line(m))
        self.out(f"- S3: Ceph RGW {m.get('rgw', '?')}. Every server on 127.0.0.1.")
        self.out(f"- repofs {m.get('repofs', '?')}; s3fs {m.get('s3fs', '?')}; "
                 f"{m.get('rclone', '?')}; {m.get('nginx', '?')}; wrk {m.get('wrk', '?')}; "
                 f"curl {m.get('curl', '?')}.")
        self.out(f"- Sizes: {m.get('sizes', '?')}.")
        loads = [(k[1], v) for k, v in self.r.items() if k[0] == "load"]
        if loads:
            self.out("- " + benchreport.load_line(f"{k} {v}" for k, v in loads))
        self.out("- Same configuration for every source: nginx `sendfile on; aio threads; "
                 "sendfile_max_chunk 512k; directio off; open_file_cache off;` (user root, "
                 "2 workers); s3fs and rclone with the options of /work/shared/TEST-BACKEND.md; "
                 "repofs with defaults plus `endpoint=...,path_style` and an empty "
                 "`cache_dir` per mount (every repofs mount starts with no cached blocks "
                 "or metadata; `bench/cache_path` measures remounts over a warm cache).")
        self.out()

    def serve_ratio(self, f, s):
        """req/s of S over its paired local-disk run."""
        v = self.val(f"serve_{f}", s, "rps")
        b = self.val(f"serve_{f}", s, "local_rps") if s != "local" else v
        return v, b

    def serve(self):
        srcs = self.present("serve_1m") or self.present("serve_4k")
        if not srcs:
            return
        self.intro("### 1. Warm nginx serving (wrk -t2 -c16, after a warm-up pass)",
                   "Target: repofs >= 0.9x local disk. Each source's wrk run comes right after a "
                   "wrk run on local disk (same nginx config, second instance) and is compared "
                   "with it: the machine is shared and its load varies. Body size and content "
                   "checked with curl before the runs; wrk errors and bytes per response checked "
                   "too.")
        self.table(["source", "1 MiB req/s", "paired local", "vs local", "4 KiB req/s",
                    "paired local", "vs local", "daemon max RSS while serving"], "lrrrrrrr")
        for s in srcs:
            cells = []
            for f in ("1m", "4k"):
                v, b = self.serve_ratio(f, s)
                cells += [fmt(v) if v is not None else self.status(f"serve_{f}", s),
                          fmt(b), rat(v, b)]
            rss = max([x for x in (self.val("serve_1m", s, "rss_kb"),
                                   self.val("serve_4k", s, "rss_kb")) if x] or [0])
            self.out(row(LABEL[s], *cells, f"{rss / 1024:.0f} MB" if rss else "-"))
        for f, name in (("1m", "1 MiB"), ("4k", "4 KiB")):
            runs = [self.val(f"serve_{f}", s, "local_rps") for s in srcs]
            runs = [x for x in runs + [self.val(f"serve_{f}", "local", "rps")] if x is not None]
            if len(runs) > 1:
                self.out(f"\nLocal disk, {name}: {len(runs)} runs over the benchmark, "
                         f"{fmt(min(runs))} to {fmt(max(runs))} req/s (the spread is the noise "
                         "of the shared machine).")
        notes = [(s, f, self.get(f"serve_{f}", s, "note")) for s in srcs for f in ("1m", "4k")
                 if self.get(f"serve_{f}", s, "note")]
        for s, f, n in notes:
            self.out(f"\n{LABEL[s]}, {f}: {n}")
        self.out()

    def cold(self):
        srcs = self.present("cold")
        if not srcs:
            return
        self.intro("### 2. Cold sequential read (drop_caches, fresh mount, `dd bs=1M`)",
                   "Target: repofs >= 0.9x the throughput of a raw signed curl GET of the same "
                   "object. Each run is paired with a curl GET right before it (the machine is "
                   "shared and its load varies); a source is compared with the median of its own "
                   "curl runs.")
        self.table(["source", "MiB/s (median)", "paired curl MiB/s", "vs curl", "runs (MiB/s)",
                    "curl runs"], "lrrrll")
        for s in srcs:
            v = self.val("cold", s, "mibs")
            c = self.val("cold", s, "curl_mibs")
            self.out(row(LABEL[s], fmt(v, 1) if v is not None else self.status("cold", s),
                         fmt(c, 1), rat(v, c), self.get("cold", s, "runs") or "",
                         self.get("cold", s, "curl_runs") or ""))
        self.out()

    def ls(self):
        srcs = self.present("ls")
        if not srcs:
            return
        self.intro("### 3. `ls -l` of a directory of many objects (fresh mount)",
                   "Target: repofs <= 2x the raw ListObjectsV2 paging (1000 keys per page, one "
                   "keep-alive connection), and faster than s3fs and rclone. Each run is paired "
                   "with a raw LIST right before it.")
        self.table(["source", "seconds (median)", "paired raw LIST (s)", "vs raw LIST",
                    "runs (s)", "daemon RSS after"], "lrrrlr")
        for s in srcs:
            v = self.val("ls", s, "secs")
            b = self.val("ls", s, "list_secs")
            rss = self.val("ls", s, "rss_kb")
            self.out(row(LABEL[s], f"{v:.3f}" if v is not None else self.status("ls", s),
                         f"{b:.3f}" if b is not None else "n/a", rat(v, b),
                         self.get("ls", s, "runs") or "",
                         f"{rss / 1024:.0f} MB" if rss else "-"))
        self.out()

    def stat(self):
        srcs = self.present("stat")
        if not srcs:
            return
        self.intro("### 4. First `stat` of one name in a big vs a small directory (fresh mount "
                   "each)",
                   "Target: within 20% (ratio <= 1.2x). Times in milliseconds, medians over "
                   "several names in the middle of the directory, one fresh mount per stat.")
        self.table(["source", "among many (ms)", "among 100 (ms)", "ratio",
                    "runs many / few (ms)"], "lrrrl")
        for s in srcs:
            a = self.val("stat", s, "secs_many")
            b = self.val("stat", s, "secs_few")
            runs = lambda k: " ".join(f"{float(x) * 1000:.1f}" for x in (self.get("stat", s, k) or "").split())
            if a is None or b is None:
                self.out(row(LABEL[s], self.status("stat", s), width=5))
                continue
            self.out(row(LABEL[s], f"{a * 1000:.1f}", f"{b * 1000:.1f}", rat(a, b),
                         f"{runs('runs_many')} / {runs('runs_few')}"))
        self.out()

    def rss(self):
        srcs = [s for s in ("repofs", "repofs-list") if any(k[0] == "rss" and k[1] == s for k in self.r)]
        if not srcs:
            return
        self.intro("### 5. repofs daemon memory (target < 100 MB)",
                   "`ls -l` on a fresh mount (so every inode is known), then nginx serving the "
                   "1 MiB file with wrk on the same mount. S3 requests counted from the daemon's "
                   "`log_level=debug` lines.")
        self.table(["source", "RSS at start", "`ls -l` of the big directory",
                    "S3 requests of the `ls -l`", "RSS after it", "VmHWM after it",
                    "max RSS while serving 1 MiB", "VmHWM at the end"], "lrrlrrrr")
        mb = lambda v: f"{v / 1024:.0f} MB" if v is not None else "n/a"
        for s in srcs:
            if self.get("rss", s, "after_ls_kb") is None:
                self.out(row(LABEL[s], self.status("rss", s), width=8))
                continue
            t = self.val("rss", s, "ls_secs")
            n = self.get("rss", s, "ls_entries")
            self.out(row(LABEL[s], mb(self.val("rss", s, "start_kb")), f"{t:.1f} s, {n} entries",
                         self.get("rss", s, "ls_s3") or "",
                         *(mb(self.val("rss", s, k)) for k in
                           ("after_ls_kb", "after_ls_hwm_kb", "serve_max_kb", "serve_hwm_kb"))))
        self.out()

    def counts(self):
        rows = [k[1] for k in self.r if k[0] == "counts" and k[2] == "fuse"]
        if not rows:
            return
        self.out("### Request counts (repofs -d, fresh mount per scenario)")
        self.out()
        self.table(["scenario", "FUSE requests", "S3 requests"], "lll")
        for w in rows:
            self.out(row(w, self.get("counts", w, "fuse"), self.get("counts", w, "s3")))
        self.out()

    def markdown(self, chart=None):
        self.header()
        if chart:
            self.out(f"![read-path benchmarks]({chart})")
            self.out()
        self.serve()
        self.cold()
        self.ls()
        self.stat()
        self.rss()
        self.counts()
        return self.text().rstrip() + "\n"

    def chart(self, workdir, out):
        """Writes the gnuplot data files and renders bench/serve/chart.gp."""

        def r(a, b):
            return f"{a / b:.4f}" if a is not None and b else "NaN"

        def ms(v):
            return f"{v * 1000:.3f}" if v is not None else "NaN"

        files = {
            "serve.dat": [f'"{SHORT[s]}" {r(*self.serve_ratio("1m", s))} '
                          f'{r(*self.serve_ratio("4k", s))}'
                          for s in SOURCES if s != "local" and (self.present("serve_1m") or [])
                          and s in self.present("serve_1m")],
            "cold.dat": [f'"{SHORT[s]}" {r(self.val("cold", s, "mibs"), self.val("cold", s, "curl_mibs"))}'
                         for s in self.present("cold")],
            "ls.dat": [f'"{SHORT[s]}" {r(self.val("ls", s, "secs"), self.val("ls", s, "list_secs"))}'
                       for s in self.present("ls") if s != "local"],
            "stat.dat": [f'"{SHORT[s]}" {ms(self.val("stat", s, "secs_few"))} '
                         f'{ms(self.val("stat", s, "secs_many"))}'
                         for s in self.present("stat")],
        }
        has = []
        for name, rows in files.items():
            with open(os.path.join(workdir, name), "w") as f:
                f.write("\n".join(rows or ['"none" NaN NaN']) + "\n")
            ok = any(x not in ("NaN",) for row in rows for x in row.rsplit('"', 1)[1].split())
            has.append(f"has_{name[:-4]}={1 if ok else 0}; ")
        many = self.m.get("sizes", "")
        mm = re.search(r"stat dirs=(\d+)/(\d+)", many)
        lm = re.search(r"ls dir=(\d+)", many)
        gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chart.gp")
        subprocess.run(["gnuplot", "-e",
                        "".join(has) + f"datadir='{workdir}'; out='{out}'; "
                        f"many='{mm.group(1) if mm else '?'}'; few='{mm.group(2) if mm else '?'}'; "
                        f"lsn='{lm.group(1) if lm else '?'}'; "
                        f"subtitle='{self.m.get('date', '')}, {self.m.get('machine', '').split(',')[0]}'",
                        gp], check=True)


def main(argv):
    res_path, meta_path, opts = benchreport.cli(argv, __doc__)
    res = benchreport.load_values(res_path, strict=False, first_wins=True)
    rep = Report(res, benchreport.read_meta(meta_path))
    if "--docs" in opts:
        docs = opts["--docs"]
        chart = opts.get("--chart")
        rel = os.path.relpath(chart, os.path.dirname(os.path.abspath(docs))) if chart else None
        body = rep.markdown(rel)
        if chart:
            rep.chart(opts.get("--workdir", "/tmp"), chart)
        SECTION.update(docs, body)
    else:
        sys.stdout.write(rep.markdown())


if __name__ == "__main__":
    main(sys.argv)
