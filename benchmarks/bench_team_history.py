"""Benchmark the cost of team_history in feature building: the same scenario data with and without it.

Simulates a scenario that changes caps and establishment part-way (so the simulator writes team_history), then
builds the full monthly snapshot matrix (build_dataset) and one scoring date (build_features) with the table and
without it, alternating ``--repeats`` times in one process (tables read once). Prints one JSON line per build:
CPU seconds (user + system), wall seconds, snapshots and the history rows. Timings on the shared 2-core machine
are noisy; compare the alternating pairs, and report the load with the figures.

2026-11-24, scenario caseload_cap 15 + extra_posts_share 0.1 from the middle month, load 5-6 (other agents):
3 councils, 48 months (29,101 snapshots, 168 history rows), 3 alternating pairs: build_dataset 0.28, 0.28, 0.25
s CPU without, 0.28, 0.27, 0.26 with; one date (623 people) 0.164, 0.183, 0.162 without, 0.185, 0.168, 0.156
with. 40 councils, 72 months (761,692 snapshots, 2,834 history rows), 2 pairs: build_dataset 2.93, 3.00 s CPU
without, 3.11, 2.67 with; one date (11,011 people) 0.77, 0.79 without, 0.90, 0.83 with. No cost beyond the
noise. Features the history changes: caseload_cap, caseload_to_cap, caseload_over_cap_months_6m/12m,
team_vacancy_rate. Without a history table the default national data (150 councils, 2,738,378 snapshots)
give byte-identical keys and X before and after the change.

Usage:
    .venv/bin/python benchmarks/bench_team_history.py                    # 3 councils, 48 months
    .venv/bin/python benchmarks/bench_team_history.py --councils 40 --months 72
"""

from __future__ import annotations

import argparse
import json
import tempfile

import pandas as pd

from _history_tables import with_and_without



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--councils", type=int, default=3)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from retention_ml.io import read_tables
    from retention_ml.simulate import Scenario, simulate

    policy = (pd.Period("2019-01", "M") + args.months // 2).strftime("%Y-%m")
    scenario = Scenario.from_dict({"policy_start": policy, "caseload_cap": 15, "extra_posts_share": 0.1})
    with tempfile.TemporaryDirectory() as d:
        simulate(d + "/data", councils=args.councils, months=args.months, seed=0, scenario=scenario)
        tables = read_tables(d + "/data")
    a, b = with_and_without(tables, "team_history", args.repeats, {"councils": args.councils})
    changed = [c for c in a if not a[c].equals(b[c])]
    print(json.dumps({"features_changed_by_history": changed}))


if __name__ == "__main__":
    main()
