"""Benchmark explanations: SHAP speed at national size, and (with a run and simulated data) the issue's bars.

Speed (always): a LightGBM model on national-size synthetic features with the
CONTRACTS section 9 names, 40,000 snapshots explained by
  (a) LightGBM's own TreeSHAP, ``Booster.predict(pred_contrib=True)`` (what ``explain`` uses),
  (b) ``shap.TreeExplainer(booster)`` with the default (path-dependent) algorithm, construction included,
  (c) shap's own C++ TreeSHAP (the path shap takes for models without native contributions), on a subset,
and the whole ``explain`` + driver profile + reasons for 36,000 people.

Quality (``--data SIM_DIR --run RUN``): explains the run's test window on the
simulated data, computes exit-interview alignment and the truth check, and
prints them against the issue's bars. Needs the features, model and simulator
packages.

Usage
-----
    .venv/bin/python benchmarks/bench_explain.py                      # speed only
    .venv/bin/python benchmarks/bench_explain.py --data sim/ --run RUN --json out.json

Timings are wall-clock on a shared machine (others' jobs run at the same time): noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FEATURES = {
    "caseload_workload": [
        "caseload_current", "caseload_mean_3m", "caseload_mean_6m", "caseload_mean_12m", "caseload_max_12m",
        "caseload_trend_6m", "caseload_cap", "caseload_over_cap_months_6m", "caseload_over_cap_months_12m",
        "caseload_cp_share", "caseload_court_share", "caseload_new_allocations_3m", "caseload_vs_team_mean",
    ],
    "career_progression": ["tenure_months", "months_since_qualified", "asye", "months_since_progression",
                           "role_social_worker", "role_senior_practitioner"],
    "pay": ["pay_band_rank", "pay_spinal_point", "pay_salary_fte", "pay_supplement", "pay_retention_payment",
            "pay_agency_gap", "months_since_pay_rise"],
    "commute": ["commute_minutes", "commute_km", "commute_mode_car", "commute_mode_public", "commute_change_minutes_12m"],
    "housing_cost": ["housing_rent_to_pay", "housing_price_to_salary", "housing_cost_growth_12m"],
    "team_instability": ["team_leavers_rate_12m", "team_colleagues_left_3m", "team_agency_share", "team_vacancy_rate", "team_size"],
    "work_life_balance": ["absence_days_6m"],
    "supervision_management": ["supervision_sessions_3m", "months_since_supervision"],
    "other": ["fte", "employment_permanent", "employment_agency"],
}


class _Model:
    """Calibrated-LightGBM stand-in with the TurnoverModel attributes explain() uses."""

    def __init__(self, booster, a=0.9, b=-0.2):
        self.booster_ = booster
        self.calibration_ = (a, b)
        self.feature_names_in_ = np.asarray(booster.feature_name(), dtype=object)


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cols = [f for fs in FEATURES.values() for f in fs]
    X = pd.DataFrame(rng.normal(size=(n, len(cols))), columns=cols)
    X["caseload_current"] = rng.integers(5, 35, n)
    X["caseload_cap"] = rng.choice([15, 20, 25], n)
    X["caseload_over_cap_months_6m"] = rng.integers(0, 7, n)
    X["housing_rent_to_pay"] = rng.uniform(0.2, 0.6, n)
    X["housing_cost_growth_12m"] = rng.normal(0.05, 0.05, n)
    X["commute_minutes"] = rng.uniform(5, 100, n)
    X["tenure_months"] = rng.exponential(40, n)
    X["pay_retention_payment"] = rng.choice([0, 1500], n)
    X.loc[rng.random(n) < 0.03, "caseload_cap"] = np.nan
    logit = (
        -2.2 + 0.12 * (X["caseload_current"] - X["caseload_cap"].fillna(20)) + 3 * (X["housing_rent_to_pay"] - 0.4)
        + 0.015 * (X["commute_minutes"] - 50) - 0.01 * X["tenure_months"] + 0.3 * X["team_leavers_rate_12m"]
        + 0.3 * X["pay_agency_gap"] + 0.2 * X["absence_days_6m"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    catalogue = pd.DataFrame(
        [(f, f.replace("_", " "), "", d, f.split("_")[0]) for d, fs in FEATURES.items() for f in fs],
        columns=["feature", "meaning", "unit", "driver", "family"],
    )
    return X.astype(float), y, catalogue


def _best(fn, repeat: int = 2) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def speed(rows: int, trees: int, leaves: int, seed: int) -> dict:
    import lightgbm as lgb
    import shap

    from retention_ml.explain import explain

    X_train, y_train, catalogue = synthetic(100_000, seed)
    t = time.perf_counter()
    booster = lgb.train(
        {"objective": "binary", "num_leaves": leaves, "learning_rate": 0.05, "min_data_in_leaf": 50,
         "feature_fraction": 0.8, "verbose": -1, "seed": seed, "deterministic": True},
        lgb.Dataset(X_train, label=y_train), num_boost_round=trees,
    )
    train_s = time.perf_counter() - t
    model = _Model(booster)
    X, _, _ = synthetic(rows, seed + 1)
    matrix = X.to_numpy()

    t_lgb, contrib = _best(lambda: booster.predict(matrix, pred_contrib=True))

    def _shap_default():
        explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
        return explainer, explainer(X)

    t_shap, (explainer, shap_exp) = _best(_shap_default)
    t_build, _ = _best(lambda: shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent"))
    max_diff = float(np.abs(shap_exp.values - contrib[:, :-1]).max())

    # shap's own C++ TreeSHAP: the path it takes when a model has no native contributions.
    sub = X.iloc[: min(5000, rows)]
    own = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
    own.model.model_type = "internal"  # measurement only: forces shap's C extension
    t_own, own_values = _best(lambda: own.shap_values(sub, check_additivity=False), repeat=1)
    own_diff = float(np.abs(np.asarray(own_values) - contrib[: len(sub), :-1]).max())

    people = X.iloc[: min(36_000, rows)]
    keys = pd.DataFrame({"worker_id": [f"W{i:06d}" for i in range(len(people))], "months_in_post": 12})
    t_values, exp = _best(lambda: explain(model, people, catalogue=catalogue), repeat=1)
    t_profile, _ = _best(exp.by_driver, repeat=1)
    t_reasons, reasons = _best(lambda: exp.reasons(people, keys, k=3), repeat=1)
    per_k = lambda s, n: round(1000 * s / n, 4)
    return {
        "rows": rows, "features": X.shape[1], "trees": booster.num_trees(), "num_leaves": leaves,
        "train_seconds": round(train_s, 2),
        "lightgbm_pred_contrib_seconds": round(t_lgb, 3), "lightgbm_per_1000_rows": per_k(t_lgb, rows),
        "shap_tree_explainer_seconds": round(t_shap, 3), "shap_tree_explainer_per_1000_rows": per_k(t_shap, rows),
        "shap_explainer_construction_seconds": round(t_build, 3),
        "ratio_shap_to_lightgbm": round(t_shap / t_lgb, 2),
        "max_abs_difference_shap_vs_lightgbm": max_diff,
        "shap_own_cext_rows": len(sub), "shap_own_cext_seconds": round(t_own, 3),
        "shap_own_cext_per_1000_rows": per_k(t_own, len(sub)),
        "max_abs_difference_shap_own_vs_lightgbm": own_diff,
        "explain_people": len(people), "explain_values_seconds": round(t_values, 3),
        "driver_profile_seconds": round(t_profile, 3), "reasons_seconds": round(t_reasons, 3),
        "reasons_filled_share": float(reasons["reason_1"].notna().mean()),
        "bar_40000_in_15s": bool(t_lgb * 40_000 / rows <= 15),
    }


def toy_truth(rows: int, trees: int, leaves: int, seed: int, n_boot: int) -> dict:
    """End-to-end check of alignment and truth code on a toy world with known drivers (NOT the issue's bars).

    The synthetic logit is a sum of per-driver terms; each term, centred, is
    the true decomposition; a leaver's true dominant driver is the largest
    term; exit interviews state it 60% of the time, another visible driver
    20%, "personal" 20%.
    """
    import lightgbm as lgb

    from retention_ml.explain import explain
    from retention_ml.explain.alignment import exit_interview_alignment
    from retention_ml.explain.drivers import reason_drivers
    from retention_ml.simulate.truth_check import truth_agreement

    def terms(X):
        t = pd.DataFrame(0.0, index=X.index, columns=reason_drivers())
        t["caseload_workload"] = 0.12 * (X["caseload_current"] - X["caseload_cap"].fillna(20))
        t["housing_cost"] = 3 * (X["housing_rent_to_pay"] - 0.4)
        t["commute"] = 0.015 * (X["commute_minutes"] - 50)
        t["career_progression"] = -0.01 * X["tenure_months"]
        t["team_instability"] = 0.3 * X["team_leavers_rate_12m"]
        t["pay"] = 0.3 * X["pay_agency_gap"]
        t["work_life_balance"] = 0.2 * X["absence_days_6m"]
        return t - t.mean()

    X_train, y_train, catalogue = synthetic(100_000, seed)
    booster = lgb.train(
        {"objective": "binary", "num_leaves": leaves, "learning_rate": 0.05, "min_data_in_leaf": 50, "verbose": -1,
         "seed": seed, "deterministic": True},
        lgb.Dataset(X_train, label=y_train), num_boost_round=trees,
    )
    X, y, _ = synthetic(rows, seed + 2)
    rng = np.random.default_rng(seed + 3)
    truth = terms(X)
    keys = pd.DataFrame({"worker_id": [f"W{i:06d}" for i in range(rows)], "as_of": pd.Timestamp("2025-01-01")})
    exp = explain(_Model(booster), X, catalogue=catalogue)
    dominant = pd.Series(np.asarray(truth.columns)[truth.to_numpy().argmax(axis=1)])
    draw = rng.random(rows)
    other = pd.Series(rng.choice(truth.columns, rows))
    stated = dominant.where(draw < 0.6, other.where(draw < 0.8, "personal"))
    interviews = pd.DataFrame({"worker_id": keys["worker_id"], "primary_reason": stated})
    decomposition = truth.assign(worker_id=keys["worker_id"], month=keys["as_of"])
    y = pd.Series(y)
    return {
        "rows": rows, "trees": trees, "leaves": leaves,
        "alignment": exit_interview_alignment(exp.by_driver(), keys, y, interviews, n_boot=n_boot),
        "truth": truth_agreement(exp.by_driver(), keys, y, decomposition,
                                 dominant=pd.DataFrame({"worker_id": keys["worker_id"], "dominant_driver": dominant}),
                                 risk=exp.risk().to_numpy(), n_boot=n_boot),
    }


def quality(data: Path, run: str, n_boot: int) -> dict:
    """Alignment and truth on the run's test window of simulated data (needs H2, H3, H4 code)."""
    from retention_ml import tracking
    from retention_ml.explain import explain
    from retention_ml.explain.alignment import exit_interview_alignment
    from retention_ml.features import build_dataset
    from retention_ml.io import read_tables
    from retention_ml.labels import LabelConfig
    from retention_ml.simulate.truth_check import truth_checker

    tracking.configure()
    model, run_id = tracking.load_turnover_model(run)
    metrics = tracking.load_json_artifact(run_id, "evaluation/metrics.json")
    start, end = metrics["windows"]["test"]
    as_of = list(pd.date_range(start, end, freq="MS"))
    tables = read_tables(data)
    t = time.perf_counter()
    label = metrics.get("label") or {"horizon_months": metrics.get("horizon_months", 12)}
    label = {k: tuple(v) if isinstance(v, list) else v for k, v in label.items()}
    ds = build_dataset(tables, as_of, label_config=LabelConfig(**label))
    features_s = time.perf_counter() - t
    try:
        catalogue = tracking.load_table_artifact(run_id, "feature_catalogue.csv")
    except Exception:
        catalogue = ds.catalogue
    t = time.perf_counter()
    exp = explain(model, ds.X, catalogue=catalogue)
    explain_s = time.perf_counter() - t
    alignment = exit_interview_alignment(exp.by_driver(), ds.keys, ds.y, tables.get("exit_interviews", pd.DataFrame(columns=["worker_id", "primary_reason"])), n_boot=n_boot)
    truth = truth_checker(data, n_boot=n_boot)(exp, ds.keys, ds.y)
    decile = truth.get("top_decile", {})
    bars = {
        "truth_top3_top_decile>=0.80": (decile.get("top3") or {}).get("value"),
        "truth_top1_top_decile>=0.60": (decile.get("top1") or {}).get("value"),
        "exit_top3_minus_global>=0.10": alignment["difference_vs_global"]["top3"]["value"],
    }
    passed = {
        "truth_top3_top_decile>=0.80": bars["truth_top3_top_decile>=0.80"] is not None and bars["truth_top3_top_decile>=0.80"] >= 0.80,
        "truth_top1_top_decile>=0.60": bars["truth_top1_top_decile>=0.60"] is not None and bars["truth_top1_top_decile>=0.60"] >= 0.60,
        "exit_top3_minus_global>=0.10": bars["exit_top3_minus_global>=0.10"] is not None and bars["exit_top3_minus_global>=0.10"] >= 0.10,
    }
    return {"run_id": run_id, "test_snapshots": len(ds.X), "features_seconds": round(features_s, 2),
            "explain_seconds": round(explain_s, 2), "alignment": alignment, "truth": truth, "bars": bars, "passed": passed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--trees", type=int, default=400)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--run")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--toy-truth", action="store_true", help="End-to-end alignment/truth check on a toy world (not the bars).")
    parser.add_argument("--json", type=Path, help="Also write the results to this JSON file.")
    args = parser.parse_args(argv)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}}
    if not args.skip_speed:
        out["speed"] = speed(args.rows, args.trees, args.leaves, args.seed)
        print(json.dumps(out["speed"], indent=2))
    if args.toy_truth:
        toy = toy_truth(min(args.rows, 36_000), args.trees, args.leaves, args.seed, args.n_boot)
        out["toy_truth"] = toy
        a, t = toy["alignment"], toy["truth"]
        print(json.dumps({
            "toy_exit_top1": a["top1"], "toy_exit_top3": a["top3"], "toy_global_top3": a["global"]["top3"],
            "toy_exit_top3_minus_global": a["difference_vs_global"]["top3"], "toy_chance": a["chance"],
            "toy_share_personal": a["share_personal"],
            "toy_truth_top1": t["top1"], "toy_truth_top3": t["top3"], "toy_truth_top_decile": t.get("top_decile"),
            "toy_spearman_mean": t["spearman_mean"], "toy_spearman_median": t["spearman_median"],
        }, indent=2))
    if args.data and args.run:
        out["quality"] = quality(args.data, args.run, args.n_boot)
        print(json.dumps({k: out["quality"][k] for k in ("test_snapshots", "bars", "passed", "explain_seconds")}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
