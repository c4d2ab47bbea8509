"""The simulator writes valid tables in the input schema, reproducibly, with consistent truth."""

import hashlib

import numpy as np
import pandas as pd

from retention_ml.schema import load_schemas
from retention_ml.simulate import simulate
from retention_ml.simulate.hazard import HAZARD_DRIVERS
from retention_ml.simulate.truth import read_truth
from retention_ml.validation import validate_dir


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_table_written_with_schema_columns(sim_dir, sim_tables):
    schemas = load_schemas()
    # team_history only when a scenario changes caps or establishment part-way (tests/simulate/test_team_history.py);
    # fte_history never: the simulator keeps each worker's FTE constant, so workers.fte is right at every date
    assert set(sim_tables) == set(schemas) - {"team_history", "fte_history"}
    for name, frame in sim_tables.items():
        assert list(frame.columns) == schemas[name].column_names, name
        assert len(frame) > 0, name


def test_output_passes_validation(sim_dir):
    report = validate_dir(sim_dir)
    assert report.ok, report


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    simulate(tmp_path / "a", councils=1, months=14, seed=3)
    simulate(tmp_path / "b", councils=1, months=14, seed=3)
    simulate(tmp_path / "c", councils=1, months=14, seed=4)
    a, b, c = (_digest(tmp_path / x) for x in "abc")
    assert a == b
    assert "_truth/worker_months.parquet" in a
    assert a["workers.parquet"] != c["workers.parquet"]


def test_truth_decomposition_adds_up(sim_dir, sim_tables):
    truth = read_truth(sim_dir)
    wm = truth["worker_months"]
    logit = wm["base_logit"] + wm[[f"contrib_{d}" for d in HAZARD_DRIVERS]].sum(axis=1)
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), wm["p_leave"], rtol=1e-9)
    # one truth row per caseload row (every worker-month in post)
    keys = sim_tables["caseload_history"][["worker_id", "month"]]
    assert len(wm) == len(keys)
    assert wm[["worker_id", "month"]].merge(keys, how="inner").shape[0] == len(keys)


def test_leavers_match_workers_and_true_driver_is_largest_positive(sim_dir, sim_tables):
    truth = read_truth(sim_dir)
    leavers, wm = truth["leavers"], truth["worker_months"]
    ended = sim_tables["workers"].dropna(subset=["end_date"])
    assert set(leavers["worker_id"]) == set(ended["worker_id"])
    merged = leavers.merge(ended[["worker_id", "end_date", "leaving_reason"]], on="worker_id", suffixes=("", "_hr"))
    assert (merged["end_date"] == merged["end_date_hr"]).all()
    assert (merged["leaving_reason"] == merged["leaving_reason_hr"]).all()
    vol = leavers[leavers["voluntary"]].copy()
    assert len(vol) > 20
    vol["month"] = vol["end_date"].dt.to_period("M").dt.to_timestamp()
    rows = vol.merge(wm, on=["worker_id", "month"])
    contrib = rows[[f"contrib_{d}" for d in HAZARD_DRIVERS]].to_numpy()
    best = np.array(HAZARD_DRIVERS)[contrib.argmax(axis=1)]
    expected = np.where(contrib.max(axis=1) > 0, best, "personal")
    assert (rows["true_driver"].to_numpy() == expected).all()
    assert not leavers.loc[~leavers["voluntary"], "true_driver"].notna().any()


def test_exit_interviews_only_for_leavers_and_about_two_thirds(sim_tables):
    workers, exits = sim_tables["workers"], sim_tables["exit_interviews"]
    resigned = workers[(workers["leaving_reason"] == "resignation") & (workers["employment_type"] != "agency")]
    assert set(exits["worker_id"]) <= set(workers.dropna(subset=["end_date"])["worker_id"])
    share = exits["worker_id"].isin(resigned["worker_id"]).sum() / len(resigned)
    assert 0.5 < share < 0.8
    ends = exits.merge(workers[["worker_id", "end_date"]], on="worker_id")
    assert (ends["interview_date"] <= ends["end_date"]).all()


def test_pay_bands_rank_the_simulated_bands_on_the_ladder(sim_tables):
    # The simulator's band index (SW1, SP, AP, TM, PA) is not a ladder: a personal adviser is the lowest band.
    ranks = sim_tables["pay_bands"].set_index("pay_band")["rank"]
    assert ranks["PA"] < ranks["SW1"] < ranks["SP"] < ranks["AP"] < ranks["TM"] and pd.isna(ranks["AGENCY"])
    assert set(sim_tables["pay_history"]["pay_band"]) <= set(ranks.index)
