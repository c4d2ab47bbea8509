"""Simulated data: which driver ranking finds the driver people leave for? The model's SHAP ranking against others.

Issue 6 measures explanations against each leaver's *true dominant driver in the
month they left*. The explanation ranks drivers by their SHAP contribution to the
12-month risk at the leaver's last snapshot. This script asks how much of the gap to
the bars (top-risk-decile leavers: top 3 >= 80%, top 1 >= 60%) is the ranking rule
rather than the data, by scoring other rankings of the same leavers from the same
recorded features:

- ``truth-trained``: a LightGBM multiclass model fitted on the *training window*'s
  label-1 snapshots with the simulator's leaving-month dominant driver as the label,
  ranking drivers by predicted probability. It uses the truth as a training label, so
  it is a diagnostic of what the recorded features can say about the leaving-month
  driver, never something the toolkit could ship (on real data there is no truth).
- ``exit-interview-trained``: the same, with the primary reason of the training
  window's exit interviews as the label: what a council could build from its own
  records.
- ``truth frequency``: everyone gets the same ranking, by how often each driver was
  dominant among the training window's leavers.

Beside them, read from the run's ``explanations/truth.json`` (the same leavers):
the model's own ranking, and the simulator's true decomposition in the last month
recorded before the snapshot. The ranking of the leaving-month driver is not the same
question as the ranking of contributions to risk: the leaving month is selected for a
spike in the hazard, so drivers that jump from month to month (sickness, strain)
dominate it more often than their share of expected risk says.

The truth is read through ``retention_ml.simulate`` (evaluation code only); the
multiclass models are scratch models for this comparison and are not logged.

Usage:
  MLFLOW_TRACKING_URI=... .venv/bin/python benchmarks/bench_reason_rankers.py --run RUN_ID --data DIR [--json]

DIR must be the simulated folder the run was trained on (its data fingerprint is checked).
National size (150 councils): about 30 s and 2.5 GB on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from _measured import measured

from retention_ml import artifacts, tracking
from retention_ml.experiment import load_experiment
from retention_ml.fairness import logged_test_window
from retention_ml.explain.alignment import bootstrap_interval, top_hits
from retention_ml.explain.drivers import reason_drivers
from retention_ml.simulate.truth import read_truth
from retention_ml.simulate.truth_check import PERSONAL, _ranked, dominant_table, leaver_snapshots
from retention_ml.training import _prepare_snapshots, data_fingerprint

# Fixed, untuned settings: the point is the ranking rule, not squeezing the scratch model.
MULTICLASS = dict(objective="multiclass", learning_rate=0.05, num_leaves=15, min_child_samples=50, subsample=0.8,
                  subsample_freq=1, colsample_bytree=0.8, verbose=-1, num_threads=2, deterministic=True)
ROUNDS = 400


def _rates(order: np.ndarray, true: np.ndarray) -> dict:
    """top1/top3 hit rates (95% bootstrap intervals) of rankings ``order`` (rows x drivers) against ``true``,
    and how often each driver is among a ranking's first three."""
    top1, top3 = top_hits(order, true)
    named = pd.Series(order[:, :3].ravel()).value_counts() / len(order)
    return {"top1": bootstrap_interval(top1), "top3": bootstrap_interval(top3), "share_named_in_top3": named.round(3).to_dict()}


def _multiclass_order(X_train: pd.DataFrame, labels: pd.Series, X_test: pd.DataFrame, codes: list[str], seed: int) -> np.ndarray:
    """Drivers per test row ordered by a multiclass model's probability (``personal`` can be learnt, never named)."""
    classes = codes + [PERSONAL]
    known = labels.isin(classes).to_numpy()
    target = labels[known].map({c: i for i, c in enumerate(classes)}).to_numpy()
    booster = lgb.train({**MULTICLASS, "num_class": len(classes), "seed": seed}, lgb.Dataset(X_train.loc[known], target), ROUNDS)
    return _ranked(booster.predict(X_test)[:, : len(codes)], codes)


def compare(run: str, data_dir: Path) -> dict:
    run_id = tracking.resolve_run_id(run)
    if tracking.run_tags(run_id).get(artifacts.DATA_FINGERPRINT_TAG) != data_fingerprint(data_dir):
        raise SystemExit(f"{data_dir} is not the data run {run_id} was trained on (data fingerprint differs)")
    with tempfile.TemporaryDirectory() as tmp:
        experiment = tracking.download_artifact(run_id, "experiment.toml", tmp)
        exp = load_experiment(experiment, overrides=[f"data.path={data_dir}"])
    truth_record = tracking.load_json_artifact(run_id, artifacts.TRUTH)
    tested = logged_test_window(run_id)   # dates, rows and leaving rows (runs log no row per person)
    prepared = _prepare_snapshots(exp, lambda step: print(f"  .. {step}", file=sys.stderr, flush=True))
    keys = prepared.keys.assign(worker_id=lambda f: f["worker_id"].astype(str),
                                as_of=lambda f: pd.to_datetime(f["as_of"]).astype("datetime64[ns]"))

    truth = read_truth(data_dir)["leavers"]
    dominant = dominant_table(truth.loc[truth["voluntary"].astype(bool)], "dominant_driver")
    interviews = pd.read_csv(data_dir / "exit_interviews.csv", dtype={"worker_id": str})
    stated = interviews.drop_duplicates("worker_id", keep="last").set_index("worker_id")["primary_reason"]

    # Training rows: every label-1 snapshot of the training window (the ranker never sees validation or test).
    train = keys.loc[prepared.masks["train"] & (prepared.y.to_numpy() == 1), ["worker_id"]]
    X_train = prepared.X.loc[train.index]
    leaving_driver = train["worker_id"].map(dominant.set_index("worker_id")["dominant_driver"])
    stated_reason = train["worker_id"].map(stated)

    # Test rows: the run's own test snapshots and risks, leavers chosen exactly as the truth check chooses them.
    # (The run logs no test row per person: the test snapshots are the rebuilt test window, and their
    # risks the run's model's, as the truth check takes them.)
    rows = np.flatnonzero(prepared.masks["test"])
    if len(rows) != tested["rows"] or prepared.y.iloc[rows].sum() != tested["leaving_rows"]:
        raise SystemExit(f"rebuilt {len(rows)} test snapshots from {data_dir}, the run evaluated {tested['rows']} (features or labels changed?)")
    model, _ = tracking.load_turnover_model(run_id)
    risk = model.predict_proba(prepared.X.iloc[rows])[:, 1]
    leavers = leaver_snapshots(keys.iloc[rows], prepared.y.iloc[rows], risk).merge(dominant, on="worker_id", how="inner")
    leavers = leavers.loc[leavers["decile_top"].to_numpy(dtype=bool)]
    X_test = prepared.X.loc[rows[leavers["row"].to_numpy()]]
    true = leavers["dominant_driver"].to_numpy(dtype=object)

    codes = reason_drivers()
    frequency = leaving_driver.value_counts().reindex(codes).fillna(0).sort_values(ascending=False, kind="stable").index
    decile = truth_record["top_decile"]
    return {
        "run_id": run_id,
        "top_decile_leavers": int(len(leavers)),
        "top_decile_leavers_in_truth_record": decile["n"],
        "training_rows": {"truth_labelled": int(leaving_driver.notna().sum()), "with_exit_interview": int(stated_reason.notna().sum())},
        "rankers": {
            "model (SHAP contributions; run's truth.json)": {"top1": decile["top1"], "top3": decile["top3"]},
            "true decomposition, last recorded month (run's truth.json)": {k: decile["oracle_last_month"][k] for k in ("top1", "top3")},
            "truth-trained multiclass (diagnostic)": _rates(_multiclass_order(X_train, leaving_driver, X_test, codes, exp["seed"]), true),
            "exit-interview-trained multiclass": _rates(_multiclass_order(X_train, stated_reason, X_test, codes, exp["seed"]), true),
            "truth frequency (same ranking for all)": _rates(np.tile(np.asarray(frequency, dtype=object), (len(true), 1)), true),
        },
        "leaving_month_mix": pd.Series(true).value_counts(normalize=True).round(3).to_dict(),
    }


def _pct(block: dict) -> str:
    if block.get("value") is None:
        return "n/a"
    return f"{100 * block['value']:.1f}% ({100 * block['low']:.1f}-{100 * block['high']:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run id (or models:/ URI) of a run trained on simulated data")
    parser.add_argument("--data", required=True, type=Path, help="the simulated folder the run was trained on")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    out = measured(lambda: compare(args.run, args.data))
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return
    print(f"Run {out['run_id']}: {out['top_decile_leavers']} top-risk-decile leavers "
          f"(truth record: {out['top_decile_leavers_in_truth_record']}), against the driver dominant in the leaving month")
    print(f"{'Ranking':62s} {'Top 1':>22s} {'Top 3':>22s}")
    for name, rates in out["rankers"].items():
        print(f"{name:62s} {_pct(rates['top1']):>22s} {_pct(rates['top3']):>22s}")
    for name, rates in out["rankers"].items():
        if "share_named_in_top3" in rates:
            print(f"Named in the first three by {name}: {rates['share_named_in_top3']}")
    print(f"Leaving-month mix: {out['leaving_month_mix']}")
    print(f"Training rows: {out['training_rows']}; {out['wall_s']} s wall, {out['cpu_s']} s CPU, "
          f"peak {out['peak_rss_gb']} GB; {out['machine']}")


if __name__ == "__main__":
    main()
