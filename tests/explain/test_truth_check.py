"""Explanations against a known truth (synthetic truth frames; the simulator's reader is not needed here)."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.drivers import profile_drivers, reason_drivers
from retention_ml.simulate.truth_check import decomposition_table, dominant_table, row_spearman, truth_agreement

CODES = reason_drivers()


def _setup(n_workers=40, seed=0):
    rng = np.random.default_rng(seed)
    months = pd.to_datetime(["2024-01-01", "2024-02-01"])
    keys = pd.DataFrame({"worker_id": [f"W{i:02d}" for i in range(n_workers)] * 2, "as_of": np.repeat(months, n_workers)})
    truth = rng.uniform(0, 1, (len(keys), len(CODES)))
    decomposition = pd.DataFrame(truth, columns=[f"p_{c}" for c in CODES]).assign(
        worker_id=keys["worker_id"], month=keys["as_of"], p_personal=0.3
    )
    return keys, truth, decomposition


def _profile(matrix):
    cols = profile_drivers()
    out = pd.DataFrame(0.0, index=range(len(matrix)), columns=cols)
    out[CODES] = matrix
    return out


def test_perfect_explanations_score_one():
    keys, truth, decomposition = _setup()
    y = pd.Series(1.0, index=keys.index)
    wide = decomposition_table({"monthly": decomposition})
    report = truth_agreement(_profile(truth), keys, y, wide, n_boot=100)
    assert report["n_leavers"] == 40
    assert report["top1"]["value"] == 1.0 and report["top3"]["value"] == 1.0
    assert report["spearman_mean"] == pytest.approx(1.0) and report["spearman_median"] == pytest.approx(1.0)


def test_reversed_explanations_score_minus_one_and_miss():
    keys, truth, decomposition = _setup()
    y = pd.Series(1.0, index=keys.index)
    report = truth_agreement(_profile(-truth), keys, y, decomposition_table(decomposition), n_boot=100)
    assert report["spearman_mean"] == pytest.approx(-1.0)
    assert report["top1"]["value"] == 0.0 and report["top3"]["value"] == 0.0


def test_dominant_table_wins_and_last_snapshot_is_used():
    keys, truth, decomposition = _setup(n_workers=10)
    y = pd.Series(1.0, index=keys.index)
    profile = _profile(np.zeros_like(truth))
    profile.loc[10:, "commute"] = 1.0  # last snapshots say commute; first ones say nothing
    dominant = dominant_table({"leavers": pd.DataFrame({"worker_id": [f"W{i:02d}" for i in range(10)], "true_dominant_driver": ["commute"] * 6 + ["pay"] * 4})})
    report = truth_agreement(profile, keys, y, decomposition_table(decomposition), dominant=dominant, n_boot=50)
    assert report["top1"]["value"] == pytest.approx(0.6)


def test_top_decile_counts_only_high_risk_leavers():
    keys, truth, decomposition = _setup(n_workers=100)
    y = pd.Series(1.0, index=keys.index)
    risk = np.tile(np.arange(100) / 100, 2)  # workers W90..W99 are the top decile in each month
    profile = _profile(truth)
    profile.loc[np.arange(100, 190), CODES] = -truth[100:190]  # wrong everywhere except the top decile
    report = truth_agreement(profile, keys, y, decomposition_table(decomposition), risk=risk, n_boot=50)
    assert report["top_decile"]["n"] == 10
    assert report["top_decile"]["top1"]["value"] == 1.0
    assert report["top1"]["value"] == pytest.approx(0.1)


def test_long_format_truth_is_pivoted():
    long = pd.DataFrame(
        {"worker_id": ["A"] * 3, "month": pd.to_datetime(["2024-01-01"] * 3), "driver": ["pay", "commute", "personal"], "contribution": [0.1, 0.3, 0.2]}
    )
    wide = decomposition_table({"x": long})
    assert wide.loc[0, "commute"] == 0.3 and wide.loc[0, "pay"] == 0.1 and wide.loc[0, "housing_cost"] == 0.0


def test_row_spearman_handles_ties_and_constant_rows():
    a = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    b = np.array([[10.0, 20.0, 30.0], [3.0, 2.0, 1.0]])
    rho = row_spearman(a, b)
    assert rho[0] == pytest.approx(1.0) and np.isnan(rho[1])


def test_truth_without_decomposition_is_a_clear_error():
    with pytest.raises(ValueError, match="decomposition"):
        decomposition_table({"x": pd.DataFrame({"worker_id": ["A"], "month": ["2024-01-01"]})})


def test_raw_decomposition_with_other_datetime_unit_and_int_ids_is_accepted():
    keys, truth, decomposition = _setup(n_workers=8)
    raw = pd.DataFrame(truth, columns=CODES).assign(worker_id=keys["worker_id"], month=keys["as_of"].astype("datetime64[us]"))
    report = truth_agreement(_profile(truth), keys, pd.Series(1.0, index=keys.index), raw, n_boot=20)
    assert report["n_snapshots_with_truth"] == len(keys)
    assert report["spearman_median"] == pytest.approx(1.0)


def test_simulator_layout_contrib_columns_and_true_driver():
    keys, truth, _ = _setup(n_workers=6)
    worker_months = pd.DataFrame(truth, columns=[f"contrib_{c}" for c in CODES]).assign(
        worker_id=keys["worker_id"], month=keys["as_of"], p_leave=0.01, base_logit=-4.0, contrib_personal=0.2
    )
    leavers = pd.DataFrame({"worker_id": [f"W{i:02d}" for i in range(6)], "true_driver": ["pay", "pay", "commute", None, "personal", "pay"]})
    truth_frames = {"worker_months": worker_months, "leavers": leavers}
    wide = decomposition_table(truth_frames)
    assert list(wide.columns) == ["worker_id", "month", *CODES]
    dominant = dominant_table(truth_frames)
    assert dominant.set_index("worker_id")["dominant_driver"].to_dict() == {"W00": "pay", "W01": "pay", "W02": "commute", "W04": "personal", "W05": "pay"}
    profile = _profile(np.zeros_like(truth))
    profile["pay"] = 1.0
    report = truth_agreement(profile, keys, pd.Series(1.0, index=keys.index), wide, dominant=dominant, n_boot=20)
    assert report["n_leavers"] == 5 and report["top1"]["value"] == pytest.approx(3 / 5)
    assert report["dominant_in_visible_drivers"] == pytest.approx(4 / 5)


@pytest.mark.parametrize("as_of_day", [1, 15])
def test_last_month_reference_ranks_the_truth_of_the_month_before_the_snapshot(as_of_day):
    # Snapshots in February (on the 1st or mid-month): the features end at January, so the last-month
    # reference must rank January's truth, which here is what every leaver left for.
    keys, truth, decomposition = _setup(n_workers=60, seed=3)
    keys.loc[60:, "as_of"] = pd.Timestamp(2024, 2, as_of_day)
    y = pd.Series(1.0, index=keys.index)
    january = truth[:60]
    dominant = pd.DataFrame({"worker_id": keys["worker_id"][:60], "dominant_driver": np.asarray(CODES)[january.argmax(axis=1)]})
    report = truth_agreement(_profile(truth), keys, y, decomposition_table(decomposition), dominant=dominant, n_boot=20)
    assert report["oracle_last_month"]["top1"]["value"] == 1.0
    # the at-snapshot reference ranks February's (independent) truth, so it mostly misses
    assert report["oracle"]["top1"]["value"] < 0.5
    assert report["oracle"]["top1"]["value"] == pytest.approx(report["top1"]["value"])


def test_no_leavers_gives_empty_rates_not_an_error():
    keys, truth, decomposition = _setup(n_workers=20)
    y = pd.Series(0.0, index=keys.index)
    report = truth_agreement(_profile(truth), keys, y, decomposition_table(decomposition), risk=np.zeros(len(keys)), n_boot=10)
    assert report["n_leavers"] == 0
    for block in (report["oracle"], report["oracle_last_month"], report["top_decile"]["oracle_last_month"]):
        assert block["n"] == 0 and block["top1"]["value"] is None
