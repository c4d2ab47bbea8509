"""What the dated-history benchmarks share: feature builds of the same data with a history table and without it."""

from __future__ import annotations

import json
import os
import resource
import time

import pandas as pd


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def with_and_without(tables: dict, table: str, repeats: int, context: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build every monthly snapshot (build_dataset) and one scoring date (build_features) from ``tables`` with the
    history ``table`` and without it, alternating ``repeats`` times (so the machine's load falls on both); print one
    JSON line per build (``context`` first) and return the last feature matrices, (with, without)."""
    from retention_ml.features import build_dataset, build_features

    without = {k: v for k, v in tables.items() if k != table}
    months = pd.to_datetime(tables["caseload_history"]["month"])
    dates = pd.date_range(months.min() + pd.DateOffset(months=1), months.max() + pd.DateOffset(months=1), freq="MS")
    results = {}
    for rep in range(repeats):
        for label, t in (("without", without), ("with", tables)):
            c0, w0 = _cpu(), time.perf_counter()
            ds = build_dataset(t, dates)
            c1, w1 = _cpu(), time.perf_counter()
            one = build_features(t, [dates[-13]])
            c2, w2 = _cpu(), time.perf_counter()
            results[label] = ds.X
            print(json.dumps({table: label, "repeat": rep, **context, "history_rows": len(t.get(table, [])),
                              "snapshots": len(ds.X), "build_cpu_s": round(c1 - c0, 2), "build_s": round(w1 - w0, 2),
                              "one_date_people": len(one.X), "one_date_cpu_s": round(c2 - c1, 3),
                              "one_date_s": round(w2 - w1, 3), "load_1m": round(os.getloadavg()[0], 2)}), flush=True)
    return results["with"], results["without"]
