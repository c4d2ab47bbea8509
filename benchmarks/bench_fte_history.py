"""Benchmark the cost of fte_history in feature building: the same simulated data with and without it.

The simulator keeps each worker's FTE constant, so this adds a history: a third of the spells longer than two
months change their hours once, on a random day inside the spell (half of them moved to the first of that
month, the snapshots' dates), to 0.5, 0.6, 0.8 or 1.0; the history also gives the hours at the spell's start,
and workers.fte is set to the latest (today's) hours, as an HR extract holds them. Then builds the full monthly
snapshot matrix (build_dataset) and one scoring date (build_features) with the table and without it,
alternating ``--repeats`` times in one process (tables read once). Prints one JSON line per build: CPU seconds
(user + system), wall seconds, snapshots and the history rows; then the features the history changed. Timings
on the shared 2-core machine are noisy; compare the alternating pairs, and report the load with the figures.

2026-11-24, load 5-6 (other agents): 3 councils, 48 months (28,118 snapshots, 626 history rows), 3 alternating
pairs: build_dataset 0.17, 0.16, 0.16 s CPU without, 0.19, 0.19, 0.17 with; one date (582 people) 0.127, 0.104,
0.120 without, 0.108, 0.108, 0.108 with. 40 councils, 72 months (730,371 snapshots, 15,940 history rows), 2 pairs:
build_dataset 2.39, 2.66 s CPU without, 3.00, 2.46 with; one date (10,139 people) 0.65, 0.78 without, 0.72, 0.71
with. National (--data on the 150-council simulation, 2,738,378 snapshots, 58,364 history rows), 2 pairs:
build_dataset 14.9, 16.4 s CPU without, 14.6, 15.1 with; one date (37,920 people) 3.55, 3.59 without, 5.03, 4.05
with: up to 1.5 s more for one date (the monthly caps and hours were looked up for every month of the caseload
grid). Since they are looked up only in the 12 months a date's windows read (MonthGrid.slots_read), build_features
at five national dates (2025-01-01, 2024-12-01, 2023-12-01, 2022-07-01, 2024-12-15; load 5-8, one process per
code, run one after the other): before, 3.05, 3.28, 3.83, 3.19, 3.53 s CPU with the history and 3.35, 3.10, 3.25,
2.90, 3.03 without; after, 2.83, 2.70, 3.00, 2.96, 2.97 with and 2.65, 2.94, 2.94, 3.23, 2.86 without; features
and keys hash-identical before and after, with and without the history. No cost beyond the noise for training. Features the history changes (share of national snapshots): caseload_to_cap
7.9%, caseload_over_cap_months_6m 7.6%, _12m 9.5%, housing_rent_to_pay and housing_price_to_salary 9.1%,
team_vacancy_rate 49.4% (any colleague's change moves it). Without a history table the national data give
byte-identical keys, X and y (build_dataset over all 72 months) and X and keys at four scoring dates before and
after the change.

Usage:
    .venv/bin/python benchmarks/bench_fte_history.py                    # 3 councils, 48 months
    .venv/bin/python benchmarks/bench_fte_history.py --councils 40 --months 72
    flock /tmp/national.lock .venv/bin/python benchmarks/bench_fte_history.py --data NATIONAL_FOLDER --repeats 1
"""

from __future__ import annotations

import argparse
import json
import tempfile

import numpy as np
import pandas as pd

from _history_tables import with_and_without



def with_fte_history(tables: dict, *, share: float = 1 / 3, seed: int = 0) -> dict:
    """``tables`` with an ``fte_history`` of one change for ``share`` of the spells (see the module docstring)."""
    rng = np.random.default_rng(seed)
    w = tables["workers"].copy()
    last = pd.to_datetime(tables["caseload_history"]["month"]).max()
    start = pd.to_datetime(w["start_date"])
    span = (pd.to_datetime(w["end_date"]).fillna(last) - start).dt.days.to_numpy()
    pick = (rng.random(len(w)) < share) & (span > 60)
    when = start[pick] + pd.to_timedelta((rng.random(pick.sum()) * span[pick]).astype("int64"), unit="D")
    first = when.dt.to_period("M").dt.to_timestamp()
    when = when.where((rng.random(len(when)) < 0.5) | (first <= start[pick]), first)
    new = rng.choice([0.5, 0.6, 0.8, 1.0], pick.sum())
    ids = w.loc[pick, "worker_id"].to_numpy(dtype=object)
    hist = pd.DataFrame({"worker_id": np.concatenate([ids, ids]),
                         "effective_date": np.concatenate([start[pick].to_numpy(), when.to_numpy()]),
                         "fte": np.concatenate([w.loc[pick, "fte"].to_numpy(dtype="float64"), new])})
    w.loc[pick, "fte"] = new
    return dict(tables, workers=w, fte_history=hist.astype({"worker_id": object}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--councils", type=int, default=3)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", help="read this data folder instead of simulating (e.g. a national simulation)")
    args = parser.parse_args()
    from retention_ml.io import read_tables
    from retention_ml.simulate import simulate

    if args.data:
        tables = with_fte_history(read_tables(args.data))
    else:
        with tempfile.TemporaryDirectory() as d:
            simulate(d + "/data", councils=args.councils, months=args.months, seed=0)
            tables = with_fte_history(read_tables(d + "/data"))
    a, b = with_and_without(tables, "fte_history", args.repeats, {"data": args.data or f"{args.councils} councils"})
    differs = (a != b) & ~(a.isna() & b.isna())
    changed = {c: round(float(differs[c].mean()), 4) for c in a if differs[c].any()}
    print(json.dumps({"features_changed_by_history (share of snapshots)": changed}))


if __name__ == "__main__":
    main()
