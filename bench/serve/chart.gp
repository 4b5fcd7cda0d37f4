# bench/serve/chart.gp: the read-path chart of bench/read_path (2x2 panels).
# Called by bench/serve/report.py with -e "datadir='...'; out='...';
# many='...'; few='...'; lsn='...'; subtitle='...'; has_serve=0|1; has_cold=..;
# has_ls=..; has_stat=.."; reads serve.dat, cold.dat, ls.dat, stat.dat
# (label value [value]) from datadir.
set terminal pngcairo size 1400,1000 font "DejaVu Sans,10" noenhanced
set output out
set multiplot layout 2,2 title "repofs read path vs peers on Ceph RGW (".subtitle.")" font ",13"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set xtics nomirror font ",9"
set bmargin 4
set datafile missing "NaN"

empty(t) = sprintf("set title '%s'; unset logscale y; unset ylabel; set xrange [0:1]; set yrange [0:1]; set label 1 'not measured in this run' at 0.5,0.5 center; plot NaN notitle; unset label 1; set xrange [*:*]", t)

t1 = "1. nginx serving, warm: req/s relative to local disk (higher is better)"
if (has_serve) {
  set title t1
  set logscale y
  set yrange [0.005:2]
  set ylabel "x local disk"
  plot datadir."/serve.dat" using 2:xtic(1) title "1 MiB" lc rgb "#1f77b4", \
       "" using 3 title "4 KiB" lc rgb "#ff7f0e", \
       0.9 with lines dt 2 lc rgb "#d62728" title "target 0.9x"
} else { eval empty(t1) }

t2 = "2. cold sequential read: throughput relative to a paired curl GET (higher is better)"
if (has_cold) {
  set title t2
  unset logscale y
  set yrange [0:*]
  set ylabel "x curl"
  plot datadir."/cold.dat" using 2:xtic(1) title "dd bs=1M after drop_caches" lc rgb "#2ca02c", \
       0.9 with lines dt 2 lc rgb "#d62728" title "target 0.9x"
} else { eval empty(t2) }

t3 = "3. ls -l of ".lsn." objects, fresh mount: time relative to raw LIST (lower is better)"
if (has_ls) {
  set title t3
  set logscale y
  set yrange [0.5:*]
  set ylabel "x raw ListObjectsV2"
  set key top left
  plot datadir."/ls.dat" using 2:xtic(1) title "ls -l" lc rgb "#9467bd", \
       2 with lines dt 2 lc rgb "#d62728" title "target 2x"
} else { eval empty(t3) }

t4 = "4. first stat of one name, fresh mount (lower is better)"
if (has_stat) {
  set title t4
  set logscale y
  set yrange [*:*]
  set ylabel "milliseconds"
  set key top left
  plot datadir."/stat.dat" using 2:xtic(1) title "among ".few lc rgb "#8c564b", \
       "" using 3 title "among ".many lc rgb "#e377c2"
} else { eval empty(t4) }
unset multiplot
