"""Evaluation: metrics against hand-checked values, worker bootstrap, baselines, team table, plot."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from retention_ml.evaluate import (
    beats_baselines,
    calibration_plot,
    ece,
    evaluate_models,
    expected_vs_observed,
    logistic_baseline,
    point_metrics,
    team_base_rate,
)


def test_point_metrics_on_a_hand_checked_example():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], float)
    p = np.array([0.9, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2])
    m = point_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert m["precision_top10"] == 1.0  # top 10% = the single 0.9 row, a leaver
    assert m["recall_top10"] == 0.5


def test_ece_is_zero_when_calibrated_per_bin_and_large_when_not():
    p = np.repeat([0.1, 0.5], 100)
    y = np.concatenate([np.r_[np.ones(10), np.zeros(90)], np.r_[np.ones(50), np.zeros(50)]])
    assert ece(y, p, bins=2) == pytest.approx(0.0, abs=1e-12)
    assert ece(y, np.full(200, 0.9), bins=2) == pytest.approx(0.6)


def test_bootstrap_intervals_bracket_point_and_resample_workers():
    rng = np.random.default_rng(0)
    n = 3000
    p = rng.random(n)
    y = (rng.random(n) < p).astype(float)
    workers = np.repeat(np.arange(n // 3), 3)
    rec = evaluate_models({"lightgbm": p, "flat": np.full(n, y.mean())}, y, workers=workers, n_boot=60)
    for metric, interval in rec["lightgbm"].items():
        assert interval["low"] <= interval["value"] <= interval["high"], metric
    assert rec["lightgbm"]["roc_auc"]["high"] - rec["lightgbm"]["roc_auc"]["low"] > 0.005
    # A worker's snapshots move together: 30 workers with 100 identical snapshots each carry far less
    # information than 3000 independent rows, and the worker bootstrap must show it.
    py = np.repeat(p[:30], 100), np.repeat(y[:30], 100)
    rows = evaluate_models({"lightgbm": py[0]}, py[1], workers=np.arange(n), n_boot=60)
    clustered = evaluate_models({"lightgbm": py[0]}, py[1], workers=np.repeat(np.arange(30), 100), n_boot=60)
    width = lambda r: r["lightgbm"]["brier"]["high"] - r["lightgbm"]["brier"]["low"]
    assert width(clustered) > 3 * width(rows)


def test_beats_baselines_needs_both_auc_and_ap():
    iv = lambda v: {"value": v, "low": v, "high": v}
    models = {"lightgbm": {"roc_auc": iv(0.8), "average_precision": iv(0.3)},
              "logistic": {"roc_auc": iv(0.7), "average_precision": iv(0.4)},
              "team_base_rate": {"roc_auc": iv(0.6), "average_precision": iv(0.2)}}
    assert beats_baselines(models) == {"logistic": False, "team_base_rate": True}


def test_team_base_rate_shrinks_and_falls_back_to_overall():
    teams = ["a"] * 20 + ["b"] * 20
    y = np.r_[np.ones(10), np.zeros(10), np.zeros(20)]
    rate = team_base_rate(teams, y, ["a", "b", "new"])
    overall = 0.25
    assert rate[0] == pytest.approx((10 + 20 * overall) / 40)
    assert rate[1] == pytest.approx((0 + 20 * overall) / 40)
    assert rate[2] == pytest.approx(overall)


def test_logistic_baseline_handles_missing_values():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0] * 10, "b": [0.0, 1.0, np.nan, 1.0] * 10})
    y = np.array([0, 1, 0, 1] * 10)
    assert logistic_baseline().fit(X, y).predict_proba(X).shape == (40, 2)


def test_expected_vs_observed_omits_small_teams():
    teams = ["a"] * 6 + ["b"] * 4
    out = expected_vs_observed(teams, [1, 0, 0, 1, 0, 0, 1, 1, 0, 0], [0.5] * 10)
    assert out == [{"team_id": "a", "n": 6, "expected": 3.0, "observed": 2}]


def test_calibration_plot_writes_png(tmp_path):
    rng = np.random.default_rng(1)
    p = rng.random(500)
    calibration_plot((rng.random(500) < p).astype(float), {"m": p}, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_baseline_note_names_only_the_metric_that_loses():
    from retention_ml.training import baseline_note

    models = {"lightgbm": {"roc_auc": {"value": 0.630}, "average_precision": {"value": 0.359}},
              "logistic": {"roc_auc": {"value": 0.636}, "average_precision": {"value": 0.331}}}
    note = baseline_note(models, "logistic")
    assert "ROC-AUC 0.630 vs 0.636" in note and "average precision" not in note
