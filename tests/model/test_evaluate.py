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
        if metric != "ece":   # ECE is read against its chance level; its interval can miss it (tests/model/test_ece_chance.py)
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


def _snapshots(teams: dict[str, int], dates: int = 1, **groups) -> pd.DataFrame:
    """Snapshot keys: ``teams`` = {team_id: people}, every person at each of ``dates`` dates; ``groups`` =
    {column: {team_id: value}} (service, area)."""
    rows = pd.DataFrame([(f"{t}-{i}", t) for t, n in teams.items() for i in range(n)], columns=["worker_id", "team_id"])
    rows = pd.concat([rows.assign(date=d) for d in range(dates)], ignore_index=True)
    for column, of_team in groups.items():
        rows[column] = rows["team_id"].map(of_team)
    return rows


def test_expected_vs_observed_counts_people_not_snapshot_rows():
    # a team of 4 people at 3 dates has 12 snapshot rows; it is still a team of 4 and stays out.
    # (Five one-person teams seen at one date are withheld on either count, so the whole window's withheld
    # teams hold 5+ people either way and complementary suppression plays no part here.)
    keys = pd.concat([_snapshots({"big": 6, "small": 4, "other": 5}, dates=3),
                      _snapshots({f"x{i}": 1 for i in range(5)})], ignore_index=True)
    y = np.zeros(len(keys))
    y[(keys["worker_id"] == "big-0").to_numpy()] = 1  # one person leaving, labelled 1 at all three dates
    y[(keys["worker_id"] == "big-1").to_numpy() & (keys["date"] == 2).to_numpy()] = 1  # another, at the last date only
    out = {t["team_id"]: t for t in expected_vs_observed(keys, y, np.full(len(keys), 0.1), nested=())}
    assert set(out) == {"big", "other"}
    assert out["big"] == {"team_id": "big", "people": 6, "n": 18, "expected": 1.8, "observed": 4, "leavers": 2}
    assert out["other"]["people"] == 5 and out["other"]["leavers"] == 0


def test_expected_vs_observed_withholds_a_team_that_a_service_total_would_reveal():
    # The demo's care_leavers T00007 (4 people) was its service row minus its shown teams. Service
    # "care" withholds T07 (4 people): its smallest shown team (T08, 9 people) is withheld too. Service
    # "safe" withholds T02 and T03 (3 + 3 = 6 people), which cannot be differenced down to fewer than 5.
    service = {"T07": "care", "T08": "care", "T09": "care", "T01": "safe", "T02": "safe", "T03": "safe", "T04": "safe"}
    keys = _snapshots({"T07": 4, "T08": 9, "T09": 12, "T01": 20, "T02": 3, "T03": 3, "T04": 8}, service=service)
    y = (keys.index % 4 == 0).astype(float)
    risk = np.linspace(0.05, 0.5, len(keys))
    shown = {t["team_id"] for t in expected_vs_observed(keys, y, risk)}
    assert shown == {"T09", "T01", "T04"}
    # Whatever a reader subtracts, each service's withheld teams hold at least 5 people.
    hidden = keys[~keys["team_id"].isin(shown)]
    assert hidden.groupby("service")["worker_id"].nunique().min() >= 5
    # Without the service column nothing says which teams sum to a published row: only the whole window
    # (4 + 3 + 3 people withheld) is differenced, and it holds 10.
    assert {t["team_id"] for t in expected_vs_observed(keys.drop(columns="service"), y, risk)} == {"T08", "T09", "T01", "T04"}


def test_complementary_suppression_covers_areas_and_the_whole_window():
    # Areas cut across services. T2 (2 people) is withheld; service b then withholds its smallest shown
    # team T3 (7); area east still withholds only T2's 2 people, so its smallest shown team T1 (10) goes too.
    keys = _snapshots({"T1": 10, "T2": 2, "T3": 7, "T4": 30, "T5": 12},
                      service={"T1": "a", "T2": "b", "T3": "b", "T4": "a", "T5": "b"},
                      area={"T1": "east", "T2": "east", "T3": "west", "T4": "west", "T5": "east"})
    shown = {t["team_id"] for t in expected_vs_observed(keys, np.zeros(len(keys)), np.zeros(len(keys)))}
    hidden = keys[~keys["team_id"].isin(shown)]
    for level in ("service", "area"):
        people = hidden.groupby(level)["worker_id"].nunique()
        assert ((people == 0) | (people >= 5)).all(), level
    assert shown == {"T4", "T5"}
    only_window = _snapshots({"A": 6, "B": 4})  # no nesting columns: B (4) would be the whole window minus A
    assert expected_vs_observed(only_window, np.zeros(10), np.zeros(10)) == []


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


def test_expected_vs_observed_gives_expected_leavers_as_a_list_shows_them():
    """To 3 decimals the expected leavers of a named team pick its members' audit rows out of their area and
    service (they are the one set with that size, leavers and sum of risks); a list shows 1 decimal."""
    keys = _snapshots({"A": 6, "B": 7})
    risk = np.linspace(0.011, 0.337, len(keys))
    out = {t["team_id"]: t["expected"] for t in expected_vs_observed(keys, np.zeros(len(keys)), risk, nested=())}
    sums = pd.Series(risk).groupby(keys["team_id"].to_numpy()).sum()
    assert out == {team: round(float(total), 1) for team, total in sums.items()}
    assert all(round(float(total), 3) != round(float(total), 1) for total in sums)   # the fixture can tell
