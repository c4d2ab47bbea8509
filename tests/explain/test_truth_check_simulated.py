"""The truth check and exit-interview alignment on the simulator's real output (shared ``sim_dir`` fixture).

The "explanation" here is an oracle built from the truth itself (the true
relative decomposition in each month), so the figures must be perfect where
they can be and must beat the baselines: a check that the modules read the
simulator's layout, line up its rows and use the documented definitions.
"""

import types

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.alignment import exit_interview_alignment
from retention_ml.explain.drivers import profile_drivers, reason_drivers
from retention_ml.simulate.hazard import HAZARD_DRIVERS
from retention_ml.simulate.truth import read_truth, relative_decomposition
from retention_ml.simulate.truth_check import truth_checker


@pytest.fixture(scope="module")
def truth(sim_dir):
    return read_truth(sim_dir)


def _oracle(truth, *, at_leaving: bool):
    """Rows = every worker-month; label 1 when a voluntary leave follows within 12 months; profile = the truth."""
    wm = truth["worker_months"]
    rel = relative_decomposition(truth)
    leavers = truth["leavers"]
    codes = reason_drivers()
    voluntary = leavers.loc[leavers["voluntary"].astype(bool), ["worker_id", "end_date"]]
    keys = wm[["worker_id", "month"]].rename(columns={"month": "as_of"}).reset_index(drop=True)
    end = keys.merge(voluntary, on="worker_id", how="left")["end_date"]
    y = ((end >= keys["as_of"]) & (end < keys["as_of"] + pd.DateOffset(months=12))).astype(float)
    profile = pd.DataFrame(0.0, index=keys.index, columns=profile_drivers())
    source = rel
    if at_leaving:  # every row of a leaver carries the leaving month's truth
        month = end.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        lookup = keys.assign(month=month.where(y == 1, keys["as_of"]))[["worker_id", "month"]]
        source = lookup.merge(rel, on=["worker_id", "month"], how="left")
    profile[codes] = source[codes].to_numpy()
    risk = pd.Series(wm["p_leave"].to_numpy())
    explanation = types.SimpleNamespace(by_driver=lambda: profile, risk=lambda: risk)
    return explanation, keys, y, profile


def test_driver_means_are_the_month_averages_and_relative_values_centre_on_zero(truth):
    wm, means = truth["worker_months"], truth["driver_means"]
    cols = [f"contrib_{d}" for d in HAZARD_DRIVERS]
    recomputed = wm.groupby("month")[cols].mean().reset_index()
    merged = means.merge(recomputed, on="month", suffixes=("", "_re"))
    np.testing.assert_allclose(merged[cols].to_numpy(), merged[[c + "_re" for c in cols]].to_numpy(), atol=1e-9)
    assert (merged["n_in_post"].to_numpy() == wm.groupby("month").size().to_numpy()).all()
    rel = relative_decomposition(truth)
    assert np.abs(rel.groupby("month")[list(HAZARD_DRIVERS)].mean().to_numpy()).max() < 1e-9


def test_dominant_driver_is_the_largest_relative_contribution_in_the_leaving_month(truth):
    leavers = truth["leavers"]
    vol = leavers[leavers["voluntary"].astype(bool)].copy()
    vol["month"] = vol["end_date"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    rows = vol.merge(relative_decomposition(truth), on=["worker_id", "month"])
    assert len(rows) > 20
    rel = rows[list(HAZARD_DRIVERS)].to_numpy()
    expected = np.where(rel.max(axis=1) > 0, np.array(HAZARD_DRIVERS)[rel.argmax(axis=1)], "personal")
    assert (rows["dominant_driver"].to_numpy() == expected).all()
    # the raw definition is kept beside and differs for some leavers (different zero points)
    assert (rows["dominant_driver"] != rows["true_driver"]).any()


def test_truth_check_reads_the_simulator_and_the_snapshot_oracle_ranks_perfectly(sim_dir, truth):
    explanation, keys, y, _ = _oracle(truth, at_leaving=False)
    report = truth_checker(sim_dir, n_boot=50)(explanation, keys, y)
    assert report["n_leavers"] > 20
    assert report["n_snapshots_with_truth"] == len(keys)
    assert report["spearman_median"] == pytest.approx(1.0)
    assert report["headline"] == "leaving_month" and "true_decomposition" in report["definitions"]
    # The true decomposition at the snapshot *is* this explanation, so it agrees with the at-snapshot truth
    # whenever that truth is a driver the model can see.
    snap = report["at_snapshot"]
    assert snap["top1"]["value"] == pytest.approx(snap["share_visible"])
    assert snap["visible"]["top1"]["value"] == 1.0
    # and the oracle block (truth at the snapshot ranked against the leaving month) equals the headline
    assert report["oracle"]["top1"]["value"] == pytest.approx(report["top1"]["value"])
    assert 0.0 < report["oracle_auc"]["oracle_roc_auc"] <= 1.0
    assert report["oracle_auc"]["model_roc_auc"] == pytest.approx(report["oracle_auc"]["oracle_roc_auc"])  # risk = p_leave


def test_leaving_month_oracle_hits_every_visible_dominant_driver(sim_dir, truth):
    explanation, keys, y, _ = _oracle(truth, at_leaving=True)
    report = truth_checker(sim_dir, n_boot=50)(explanation, keys, y)
    assert report["leaving_month"]["visible"]["top1"]["value"] == 1.0
    assert report["top1"]["value"] == pytest.approx(report["dominant_in_visible_drivers"])
    assert report["top_decile"]["n"] > 0


def test_alignment_on_simulated_exit_interviews_oracle_beats_chance_and_global(sim_tables, truth):
    _, keys, y, profile = _oracle(truth, at_leaving=True)
    report = exit_interview_alignment(profile, keys, y, sim_tables["exit_interviews"], n_boot=50)
    assert report["n_with_interview"] > 10
    assert report["top3"]["value"] > report["chance"]["top3"]
    assert report["top3"]["value"] > report["global"]["top3"]["value"]
    assert 0 <= report["share_personal"] < 1
