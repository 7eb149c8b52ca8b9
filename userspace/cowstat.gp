# SPDX-License-Identifier: GPL-2.0
#
# cowstat.gp: plot `cowstat --csv` output with gnuplot.
#
#   sudo cowstat --csv 0.5 20 >cowstat.csv
#   gnuplot -e "csv='cowstat.csv'; out='cowstat.svg'" cowstat.gp
#
# Top: the pool's used pages and the shown views' resident and shared
# pages (gauges); bottom: faults, COW copies and demand allocations per
# interval (the first row, counters since load, is left out).  The CSV must
# be in pages (no -k/-m): the columns are found by their header names.
if (!exists("csv")) csv = "cowstat.csv"
if (!exists("out")) out = "cowstat.svg"

set terminal svg size 800,600 dynamic noenhanced font "monospace,11"
set output out
set datafile separator comma
set key outside right top
set multiplot layout 2,1 title "cowstat --csv: ".csv
set grid
set ylabel "pages"
plot csv using "elapsed":"pool_used_pages" title "pool_used_pages" with steps lw 2, \
     ""  using "elapsed":"resident_pages" title "resident_pages" with steps lw 2, \
     ""  using "elapsed":"shared_pages" title "shared_pages" with steps lw 2
set xlabel "seconds"
set ylabel "events per interval"
plot csv every ::1 using "elapsed":"faults" title "faults" with impulses lw 3, \
     ""  every ::1 using "elapsed":"cow_copies" title "cow_copies" with points pt 7, \
     ""  every ::1 using "elapsed":"demand_allocs" title "demand_allocs" with points pt 5
unset multiplot
