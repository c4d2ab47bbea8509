"""The one reader of a simulated data set's ground truth (``<data_dir>/_truth/``).

Modelling, feature, explanation and report code never read the truth; only
evaluation code (benchmarks, ``retention_ml.simulate.truth_check`` and the
``retention-ml truth-check`` command) calls this.

Tables: ``worker_months`` (true monthly probability ``p_leave``, ``base_logit``
and the raw additive decomposition ``contrib_<driver>``), ``leavers``
(``true_driver``: largest raw contribution; ``dominant_driver``: largest
contribution relative to everyone in post that month) and, from data written
by this version on, ``driver_means`` (per month, the mean of each
``contrib_<driver>`` over the workers in post). See :mod:`retention_ml.simulate.exits`
for why the relative decomposition is the one to compare explanations with.

Example
-------
>>> truth = read_truth("sim/")                       # doctest: +SKIP
>>> sorted(truth)                                     # doctest: +SKIP
['driver_means', 'leavers', 'worker_months']
>>> rel = relative_decomposition(truth)               # worker_id, month, one column per driver  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from retention_ml.simulate.hazard import HAZARD_DRIVERS

__all__ = ["TRUTH_DIR", "read_truth", "relative_decomposition"]

TRUTH_DIR = "_truth"
REQUIRED = ("worker_months", "leavers")
OPTIONAL = ("driver_means",)


def read_truth(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read the truth tables from ``data_dir/_truth`` (FileNotFoundError naming what is missing).

    ``worker_months`` and ``leavers`` are required; ``driver_means`` is read when present.
    """
    folder = Path(data_dir) / TRUTH_DIR
    out = {}
    for name in REQUIRED + OPTIONAL:
        path = folder / f"{name}.parquet"
        if not path.exists():
            if name in OPTIONAL:
                continue
            raise FileNotFoundError(f"{path}: simulator truth not found (was {data_dir} written by `retention-ml simulate`?)")
        frame = pd.read_parquet(path)
        for col in ("month", "end_date"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        out[name] = frame
    return out


def relative_decomposition(truth: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``worker_id, month, <driver>...``: each raw contribution minus its mean over everyone in post that month.

    The exact Shapley values of the true additive logit with the month's workforce
    as background. Uses ``driver_means`` when the truth has it, else recomputes the
    means from ``worker_months`` (identical: one row per worker in post per month).
    """
    wm = truth["worker_months"]
    cols = [f"contrib_{d}" for d in HAZARD_DRIVERS]
    means = truth.get("driver_means")
    if means is None:
        means = wm.groupby("month", as_index=False)[cols].mean()
    aligned = wm[["month"]].merge(means[["month", *cols]], on="month", how="left")
    out = pd.DataFrame(wm[cols].to_numpy() - aligned[cols].to_numpy(), columns=list(HAZARD_DRIVERS), index=wm.index)
    out.insert(0, "month", wm["month"].to_numpy())
    out.insert(0, "worker_id", wm["worker_id"].astype(str).to_numpy())
    return out
