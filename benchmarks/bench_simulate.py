"""Benchmark the workforce simulator: wall time, CPU time and peak memory at 1x, 2x and 4x size.

Sizes are in councils (150 = national size, about 36,000 FTE in post), 72 months. Each size runs in
a fresh subprocess so peak memory (ru_maxrss) is that run's alone. Writes into a temporary folder.
Timings on a shared machine are noisy; report the machine and load with the figures.

Usage:
    .venv/bin/python benchmarks/bench_simulate.py                 # 150, 300, 600 councils
    .venv/bin/python benchmarks/bench_simulate.py --sizes 1 150   # one council, national
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, resource, sys, tempfile, time
from retention_ml.simulate import run
from retention_ml.simulate.writer import write_all
councils, months = int(sys.argv[1]), int(sys.argv[2])
t0 = time.perf_counter()
c0 = time.process_time()
tables, truth, sim = run(councils=councils, months=months, seed=0)
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    write_all(tables, truth, d)
t2 = time.perf_counter()
cpu = time.process_time() - c0
wm = tables["caseload_history"]
fte = tables["workers"].query("end_date.isna()")["fte"].sum()
print(json.dumps({"councils": councils, "months": months, "simulate_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2),
                  "total_s": round(t2 - t0, 2), "cpu_s": round(cpu, 2), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "worker_spells": len(tables["workers"]), "worker_months": len(wm), "fte_in_post_at_end": round(float(fte), 1)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 300, 600], help="council counts to run")
    parser.add_argument("--months", type=int, default=72)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'councils':>8} {'months':>6} {'sim s':>7} {'write s':>7} {'total s':>7} {'CPU s':>7} {'peak MB':>8} {'spells':>8} {'worker-months':>13} {'FTE at end':>10}")
    for size in args.sizes:
        out = subprocess.run([sys.executable, "-c", CHILD, str(size), str(args.months)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['councils']:>8} {r['months']:>6} {r['simulate_s']:>7} {r['write_s']:>7} {r['total_s']:>7} {r['cpu_s']:>7} {r['peak_mb']:>8} "
              f"{r['worker_spells']:>8} {r['worker_months']:>13} {r['fte_in_post_at_end']:>10}", flush=True)


if __name__ == "__main__":
    main()
