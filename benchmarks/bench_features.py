"""Benchmark build_dataset (all feature families + labels) at national size: wall time and peak memory.

Sizes are in councils (150 = national size, about 36,000 FTE in post), 72 monthly snapshots. For each size the
simulator writes the tables once (child process 1, not timed here), then a fresh child process reads them and
builds the full monthly snapshot matrix; build_s is its wall time and build_cpu_s its CPU (user + system) time;
then it builds the features of everyone in post at one date a year before the data ends, as ``score`` does
(one_date_s, one_date_cpu_s); peak memory is that child's ru_maxrss (includes reading the tables).
Timings on the shared 2-core machine are noisy; report the load with the figures.

2026-11-23, MonthGrid windows evaluated only at the grid rows the queries read (commit "features: MonthGrid
evaluates rolling windows only ..."), ``--sizes 40`` run 4 times each alternating the code before and after,
at load average 6-9 (CPU s; wall time was mostly waiting): one date (10,139 people) 0.98, 1.02, 1.17, 0.95
before, 0.81, 0.74, 0.94, 1.02 after (mean 1.03 -> 0.88); 72 dates 3.3, 3.1, 3.5, 3.1 before, 3.6, 3.2,
3.7, 3.7 after (mean 3.25 -> 3.55, within this load's noise: the caseload, absence and housing families
alone measured 1.32 -> 1.36 over 6 alternating runs). Features identical before and after.
National size (seed 0, 2,738,378 snapshots; 38,020 people at 2024-12-01), same session, alternating
old/new twice at load 5 falling to 2: one date 4.34, 4.11 -> 2.95, 3.08 s CPU (1.4x); 72 dates 14.14,
13.38 -> 13.37, 13.24 s CPU; keys, X, labels and censoring report identical. ``--sizes 150`` after the
change at load 1.9: build 14.2 s wall (14.2 s CPU), one date 2.82 s, peak 2.60 GB.

Usage:
    .venv/bin/python benchmarks/bench_features.py                 # 150, 300, 600 councils (1x, 2x, 4x)
    .venv/bin/python benchmarks/bench_features.py --sizes 150     # national size only
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

SIM = r"""
import sys
from retention_ml.simulate import simulate
simulate(sys.argv[1], councils=int(sys.argv[2]), months=int(sys.argv[3]), seed=0)
"""

BUILD = r"""
import json, os, resource, sys, time
import pandas as pd
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
from retention_ml.io import read_tables
from retention_ml.features import build_dataset, build_features
t0 = time.perf_counter()
tables = read_tables(sys.argv[1])
t1, c1 = time.perf_counter(), cpu()
months = pd.to_datetime(tables["caseload_history"]["month"])
dates = pd.date_range(months.min() + pd.DateOffset(months=1), months.max() + pd.DateOffset(months=1), freq="MS")
ds = build_dataset(tables, dates)
t2, c2 = time.perf_counter(), cpu()
one = build_features(tables, [dates[-13]])   # what `score` builds: everyone in post at one date
t3, c3 = time.perf_counter(), cpu()
print(json.dumps({"councils": int(sys.argv[2]), "snapshot_dates": len(dates), "worker_months": len(tables["caseload_history"]),
                  "snapshots": len(ds.X), "features": ds.X.shape[1], "censored": int(ds.censored.sum()),
                  "read_s": round(t1 - t0, 1), "build_s": round(t2 - t1, 1), "build_cpu_s": round(c2 - c1, 1),
                  "one_date_people": len(one.X), "one_date_s": round(t3 - t2, 2), "one_date_cpu_s": round(c3 - c2, 2),
                  "X_mb": round(ds.X.memory_usage(deep=True).sum() / 2**20, 1),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "cores": os.cpu_count(), "load_1m_after": round(os.getloadavg()[0], 2)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 300, 600], help="councils per run")
    parser.add_argument("--months", type=int, default=72)
    args = parser.parse_args()
    for councils in args.sizes:
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, "-c", SIM, d + "/data", str(councils), str(args.months)], check=True)
            out = subprocess.run([sys.executable, "-c", BUILD, d + "/data", str(councils)], check=True,
                                 capture_output=True, text=True)
            print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
