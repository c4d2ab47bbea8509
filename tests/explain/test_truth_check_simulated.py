"""The truth check and exit-interview alignment on the simulator's real output (shared ``sim_dir`` fixture).

The "explanation" here is an oracle built from the truth itself, so the
figures must be perfect where they can be and must beat the baselines: a check
that the two modules read the simulator's layout and line up its rows.
"""

import types

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.alignment import exit_interview_alignment
from retention_ml.explain.drivers import profile_drivers, reason_drivers
from retention_ml.simulate.truth import read_truth
from retention_ml.simulate.truth_check import truth_checker


@pytest.fixture(scope="module")
def oracle(sim_dir):
    truth = read_truth(sim_dir)
    wm = truth["worker_months"]
    leavers = truth["leavers"]
    codes = reason_drivers()
    voluntary = leavers.loc[leavers["voluntary"].astype(bool), ["worker_id", "end_date"]]
    keys = wm[["worker_id", "month"]].rename(columns={"month": "as_of"}).reset_index(drop=True)
    end = keys.merge(voluntary, on="worker_id", how="left")["end_date"]
    y = ((end >= keys["as_of"]) & (end < keys["as_of"] + pd.DateOffset(months=12))).astype(float)
    profile = pd.DataFrame(0.0, index=keys.index, columns=profile_drivers())
    profile[codes] = wm[[f"contrib_{c}" for c in codes]].to_numpy()
    explanation = types.SimpleNamespace(by_driver=lambda: profile, risk=lambda: pd.Series(np.zeros(len(keys))))
    return explanation, keys, y, profile


def test_truth_check_reads_the_simulator_and_oracle_ranks_perfectly(sim_dir, oracle):
    explanation, keys, y, _ = oracle
    report = truth_checker(sim_dir, n_boot=50)(explanation, keys, y)
    assert report["n_leavers"] > 20
    assert report["n_snapshots_with_truth"] == len(keys)
    assert report["spearman_median"] == pytest.approx(1.0)
    # The last snapshot is the first day of the leaving month, whose contributions define the true driver,
    # so the oracle's top driver is the true one whenever that is a driver the model can see.
    assert report["top1"]["value"] == pytest.approx(report["dominant_in_visible_drivers"], abs=0.02)


def test_alignment_on_simulated_exit_interviews_oracle_beats_chance(sim_tables, oracle):
    _, keys, y, profile = oracle
    report = exit_interview_alignment(profile, keys, y, sim_tables["exit_interviews"], n_boot=50)
    assert report["n_with_interview"] > 10
    assert report["top3"]["value"] > report["chance"]["top3"]
    assert 0 <= report["share_personal"] < 1
