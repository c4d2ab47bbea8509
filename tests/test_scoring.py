"""Scoring: validation first, same features as training, contract columns, intervals, levers, previous risk."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

CONTRACT_COLUMNS = ["worker_id", "team_id", "council_id", "service", "manager_id", "role", "months_in_post", "as_of", "risk",
                    "risk_low", "risk_high", "band", "uncertain", "reason_1", "reason_2", "reason_3",
                    "lever_1", "lever_2", "lever_3", "model_ref", "run_id"]


def test_invalid_data_stops_with_the_validators_report_and_writes_nothing(sim_model, sim_dir, tmp_path):
    from retention_ml.cli import app

    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    teams = pd.read_csv(data / "teams.csv")
    teams.drop(columns=["caseload_cap"]).to_csv(data / "teams.csv", index=False)
    out = tmp_path / "scores"
    # the model is found first (a missing store or alias is said before an extract is read: test_early_checks),
    # then validation stops the run before any feature or file
    res = CliRunner().invoke(app, ["score", "--model", sim_model[0].run_id, "--data", str(data),
                                   "--as-of", "2022-01-01", "--out", str(out), "--json"])
    assert res.exit_code == 1, res.output
    report = json.loads(res.output)
    assert not report["ok"] and "caseload_cap" in res.output
    assert not out.exists()


def test_scores_follow_the_contract_and_the_model(sim_model, sim_dir, tmp_path):
    from retention_ml.features import build_features
    from retention_ml.io import read_tables
    from retention_ml.schema import load_drivers
    from retention_ml.scoring import score

    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    as_of = pd.Timestamp("2022-07-01")
    first = score(ref, sim_dir, as_of - pd.DateOffset(months=6), tmp_path / "s" / "2022-01")
    second = score(ref, sim_dir, as_of, tmp_path / "s" / "2022-07", display_names=True)
    s = pd.read_parquet(tmp_path / "s" / "2022-07" / "scores.parquet")
    assert set(CONTRACT_COLUMNS) <= set(s.columns)
    # FTE travels with the scores: the team cap is per full-time post, so summaries compare like with like
    from retention_ml.io import read_tables as _read

    fte = _read(sim_dir)["workers"].set_index("worker_id")["fte"]
    np.testing.assert_allclose(s["fte"].to_numpy(), s["worker_id"].map(fte).to_numpy())
    assert any(c.startswith("driver_") for c in s.columns)
    # same feature code as training: risks equal the model on build_features at that date
    ds = build_features(read_tables(sim_dir), [as_of])
    np.testing.assert_allclose(s["risk"].to_numpy(), result.model.predict_proba(ds.X)[:, 1], rtol=1e-9)
    assert (s.risk_low <= s.risk + 1e-12).all() and (s.risk <= s.risk_high + 1e-12).all()
    assert (s.risk_high > s.risk_low).any()  # a real bootstrap interval, not the point
    # reasons are measured from the average person scored that day: driver columns average zero over everyone
    drivers = s[[c for c in s.columns if c.startswith("driver_")]]
    assert np.abs(drivers.mean()).max() < 1e-9 and drivers.abs().to_numpy().max() > 0.01
    levers = {lv for d in load_drivers() for lv in (*d.levers, *(t for _, texts in d.group_levers for t in texts))} | {""}
    assert set(s[["lever_1", "lever_2", "lever_3"]].stack()) <= levers
    # the earlier sibling scoring is found and carried for "change since last"
    prev = first.scores.set_index("worker_id")["risk"]
    both = s[s.worker_id.isin(prev.index)]
    assert len(both) > 0 and np.allclose(both.risk_previous, both.worker_id.map(prev))
    assert second.meta["previous"].endswith("2022-01")
    # names are kept only in the parquet when asked, never in the csv
    csv_path = tmp_path / "s" / "2022-07" / "scores.csv"
    from_csv = pd.read_csv(csv_path, comment="#")
    assert "display_name" in s and "display_name" not in from_csv.columns
    # both files carry the statement that the risks never decide anything (csv: first '#' line; parquet: metadata)
    import pyarrow.parquet as pq

    from retention_ml.io import NOTE_KEY
    from retention_ml.reports.risk_list import NOT_A_DECISION

    assert csv_path.read_text(encoding="utf-8").splitlines()[0] == f"# {NOT_A_DECISION}"
    assert pq.read_schema(tmp_path / "s" / "2022-07" / "scores.parquet").metadata[NOTE_KEY].decode() == NOT_A_DECISION
    assert list(from_csv.worker_id) == list(s.worker_id) and len(from_csv.columns) == len(s.columns) - 1
    assert json.loads((tmp_path / "s" / "2022-07" / "score_meta.json").read_text())["run_id"] == result.run_id


def test_approval_is_recorded_and_a_refused_model_is_scored_with_a_warning(sim_model, sim_dir, tmp_path):
    """Approved only while alias champion points at the scored run's version; anything else warns but still scores."""
    from retention_ml import tracking
    from retention_ml.cli import app
    from retention_ml.scoring import score

    result, _ = sim_model
    name = tracking.DEFAULT_MODEL_NAME
    version = tracking.model_version_for_run(result.run_id, name)
    assert tracking.alias_version("champion", name) is None  # training sets only "candidate"
    # the demo's case: the gate has not approved anything, the candidate is scored anyway (exit 0) with a warning
    res = CliRunner().invoke(app, ["score", "--model", f"models:/{name}@candidate", "--data", str(sim_dir),
                                   "--as-of", "2022-07-01", "--out", str(tmp_path / "cand"), "--json"])
    assert res.exit_code == 0, res.output
    answer = json.loads(res.stdout)
    assert answer["approval"]["status"] == "not approved"
    assert "NOT APPROVED" in res.stderr and "promotion gate" in res.stderr
    scored = pd.read_parquet(tmp_path / "cand" / "scores.parquet")   # the band counts the printout summarises
    assert answer["bands_by_council"] == {c: {b: int((g["band"] == b).sum()) for b in ("low", "medium", "high")}
                                          for c, g in scored.groupby("council_id")}
    meta = json.loads((tmp_path / "cand" / "score_meta.json").read_text())
    assert meta["approval"]["status"] == "not approved" and "no model has passed" in meta["approval"]["detail"]
    assert (tmp_path / "cand" / "scores.parquet").exists()
    # champion set by hand (as anyone can in the MLflow UI), without the gate's pass: not approved
    from retention_ml.promotion import GATE_PASSED, GATE_TAG

    tracking.set_alias("champion", version.version, name)
    by_hand = score(f"models:/{name}@champion", sim_dir, "2022-07-01", tmp_path / "hand", find_previous_scoring=False)
    assert by_hand.meta["approval"]["status"] == "not approved" and "never passed" in by_hand.meta["approval"]["detail"]
    # once promote has passed this version and moved champion to it, the model is approved however it is named
    tracking.client().set_model_version_tag(name, str(version.version), GATE_TAG, GATE_PASSED)
    try:
        for ref in (f"models:/{name}@champion", f"runs:/{result.run_id}/model", f"models:/{name}@candidate"):
            approval = score(ref, sim_dir, "2022-07-01", tmp_path / "ok", find_previous_scoring=False).meta["approval"]
            assert approval["status"] == "approved", (ref, approval)
            assert f"Version {version.version}" in approval["detail"]
        res = CliRunner().invoke(app, ["score", "--model", f"models:/{name}@champion", "--data", str(sim_dir),
                                       "--as-of", "2022-07-01", "--out", str(tmp_path / "ok")])
        assert res.exit_code == 0 and "NOT APPROVED" not in res.output
    finally:
        tracking.client().delete_registered_model_alias(name, "champion")
    # champion moved elsewhere (here: removed) -> the lists made afterwards are not approved again
    approval = score(f"runs:/{result.run_id}/model", sim_dir, "2022-07-01", tmp_path / "later",
                     find_previous_scoring=False).meta["approval"]
    assert approval["status"] == "not approved"


def test_a_failed_scoring_leaves_the_previous_set_intact(sim_model, sim_dir, tmp_path, monkeypatch):
    """Disk full after scores.parquet while re-scoring the date (after a data fix): the folder keeps the earlier
    parquet, csv and meta, all of one scoring."""
    from retention_ml.scoring import score

    result, _ = sim_model
    out = tmp_path / "s"
    score(f"runs:/{result.run_id}/model", sim_dir, "2022-01-01", out, find_previous_scoring=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)  # the parquet is written first, then the csv fails
    with pytest.raises(OSError, match="No space"):
        score(f"runs:/{result.run_id}/model", sim_dir, "2022-01-01", out, find_previous_scoring=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing replaced, no temporaries left


@pytest.mark.parametrize("bad", ["2021-13-01", "2021-02-30", "July"])
def test_an_impossible_as_of_is_a_bad_option_exit_2(sim_dir, tmp_path, bad):
    from retention_ml.cli import app

    res = CliRunner().invoke(app, ["score", "--model", "models:/nope@champion", "--data", str(sim_dir),
                                   "--as-of", bad, "--out", str(tmp_path / "s")])
    assert res.exit_code == 2, res.output
    assert "--as-of" in res.output and bad in res.output
    assert not (tmp_path / "s").exists()


def test_the_horizon_is_the_runs_own_never_assumed(sim_model, sim_dir, tmp_path):
    # A 6-month model must never be read as "the next 12 months": the horizon comes from the run's label.
    import mlflow

    from retention_ml import tracking
    from retention_ml.scoring import run_horizon_months, score

    result, _ = sim_model
    meta = score(f"runs:/{result.run_id}/model", sim_dir, pd.Timestamp("2022-07-01"), tmp_path / "s").meta
    assert meta["horizon_months"] == 12 == run_horizon_months(result.run_id)
    with tracking.start_run("horizon-check") as run:
        tracking.log_params(run.info.run_id, {"label": {"horizon_months": 6}})
    with tracking.start_run("horizon-check") as bare:
        pass
    assert run_horizon_months(run.info.run_id) == 6 and run_horizon_months(bare.info.run_id) is None
    assert run_horizon_months("no-such-run") is None
    assert mlflow.active_run() is None


def test_a_date_after_the_data_ends_could_not_run_exit_2(sim_model, sim_dir, tmp_path):
    from retention_ml.cli import app

    result, _ = sim_model
    res = CliRunner().invoke(app, ["score", "--model", f"runs:/{result.run_id}/model", "--data", str(sim_dir),
                                   "--as-of", "2099-01-01", "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "after the data ends" in res.output and not (tmp_path / "s").exists()


def test_previous_must_be_an_earlier_scoring_of_the_same_horizon(tmp_path):
    # "change since last scoring" compared with a scoring three months in the future, or of another horizon.
    from retention_ml.scoring import check_previous, survey_previous

    def scoring(name, as_of, horizon):
        (tmp_path / name).mkdir()
        (tmp_path / name / "score_meta.json").write_text(json.dumps({"as_of": as_of, "horizon_months": horizon}))
        return tmp_path / name

    later, six, earlier = scoring("2022-10", "2022-10-01", 12), scoring("2022-04", "2022-04-01", 6), scoring("2022-01", "2022-01-01", 12)
    as_of = pd.Timestamp("2022-07-01")
    with pytest.raises(ValueError, match="scored at 2022-10-01, not before 2022-07-01"):
        check_previous(later, as_of, 12)
    with pytest.raises(ValueError, match="6-month horizon and this model's is 12 months"):
        check_previous(six, as_of, 12)
    assert check_previous(earlier, as_of, 12) == pd.Timestamp("2022-01-01")
    # the automatic choice skips the 6-month scoring although it is the latest earlier one
    assert survey_previous(tmp_path / "2022-07", as_of, 12).candidates[0] == earlier.resolve()
    assert survey_previous(tmp_path / "2022-07", as_of, 6).candidates[0] == six.resolve()


# -- recorded leaving dates, bands per horizon, no champion ---------

def test_a_recorded_leaving_date_is_flagged_and_nothing_else_changes(sim_model, sim_dir, tmp_path):
    """People in post whose end_date is already in the extract: scored as before, flagged, counted in the meta.

    The flag is not a feature: with every end_date blanked the risks are identical (point in time untouched).
    """
    from retention_ml.io import read_tables
    from retention_ml.reports.risk_list import LEAVING_FLAG
    from retention_ml.scoring import score

    result, _ = sim_model
    ref, as_of = f"runs:/{result.run_id}/model", "2022-07-01"
    got = score(ref, sim_dir, as_of, tmp_path / "s", find_previous_scoring=False)
    workers = read_tables(sim_dir)["workers"].set_index("worker_id")
    recorded = got.scores["worker_id"].map(workers["end_date"]).notna().to_numpy()
    assert recorded.any() and not recorded.all()   # the simulated extract runs past the date: some are leaving
    assert (got.scores[LEAVING_FLAG].to_numpy() == recorded).all()
    assert got.meta["leaving_date_recorded"] == int(recorded.sum())
    assert got.scores.loc[recorded, "risk"].notna().all()   # kept with their risk, for evaluation
    blank = tmp_path / "blank"
    shutil.copytree(sim_dir, blank, ignore=shutil.ignore_patterns("_truth"))
    w = pd.read_parquet(blank / "workers.parquet")
    in_post = w.worker_id.isin(got.scores.worker_id)
    w.loc[in_post, ["end_date", "leaving_reason"]] = None
    w.to_parquet(blank / "workers.parquet", index=False)
    same = score(ref, blank, as_of, tmp_path / "b", find_previous_scoring=False)
    assert not same.scores[LEAVING_FLAG].any() and same.meta["leaving_date_recorded"] == 0
    pd.testing.assert_series_equal(same.scores.set_index("worker_id")["risk"],
                                   got.scores.set_index("worker_id")["risk"])


def test_scores_are_banded_with_cutoffs_for_the_models_horizon(sim_model, sim_dir, tmp_path, monkeypatch):
    from retention_ml import scoring
    from retention_ml.reports.risk_list import assign_bands, load_band_config

    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    twelve = scoring.score(ref, sim_dir, "2022-07-01", tmp_path / "12", find_previous_scoring=False)
    assert twelve.meta["band_cutoffs"] == {"medium": 0.15, "high": 0.3, "horizon_months": 12}
    assert (twelve.scores["band"].to_numpy() == assign_bands(twelve.scores["risk"], config=load_band_config())).all()
    monkeypatch.setattr(scoring, "run_horizon_months", lambda run_id: 6)
    six = scoring.score(ref, sim_dir, "2022-07-01", tmp_path / "6", find_previous_scoring=False)
    assert six.meta["band_cutoffs"]["horizon_months"] == 6
    assert six.meta["band_cutoffs"]["medium"] == pytest.approx(0.0780, abs=1e-4)
    cfg6 = load_band_config().for_horizon(6)
    assert (six.scores["band"].to_numpy() == assign_bands(six.scores["risk"], config=cfg6)).all()
    assert (six.scores["band"] != "low").sum() > (twelve.scores["band"] != "low").sum()


def test_no_champion_says_nothing_passed_the_gate_and_offers_the_candidate(sim_model, sim_dir, tmp_path):
    from retention_ml import tracking
    from retention_ml.cli import app

    result, _ = sim_model
    name = tracking.DEFAULT_MODEL_NAME
    assert tracking.alias_version("champion", name) is None
    runner = CliRunner()
    res = runner.invoke(app, ["score", "--model", f"models:/{name}@champion", "--data", str(sim_dir),
                              "--as-of", "2022-07-01", "--out", str(tmp_path / "s")])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert f"no model of {name} has passed the promotion gate" in text and "alias champion is not set" in text
    assert f"models:/{name}@candidate" in text and "NOT APPROVED" in text and result.run_id in text
    assert not (tmp_path / "s").exists()
    res = runner.invoke(app, ["explain", "--run", f"models:/{name}@champion", "--data", str(sim_dir),
                              "--as-of", "2022-07-01", "--worker", "W0000001"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and f"no model of {name} has passed the promotion gate" in text, res.output
    assert f"models:/{name}@candidate" in text


# -- the data must hold what the model was trained with (S10-X F3) ---------

def test_data_without_a_table_the_model_was_trained_with_is_refused_naming_tables_and_features(sim_model, sim_dir, tmp_path):
    """A model that learnt from commute and absence is not scored (or explained) on data lacking them: exit 2.

    Scoring anyway would leave those features missing for everyone and route everyone down the model's
    "missing" branches, a different model in effect, with no word said.
    """
    from retention_ml.cli import app
    from retention_ml.scoring import missing_trained_tables, present_tables, run_catalogue

    result, _ = sim_model
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth", "commute.*", "absence.*", "agency_rates.*"))
    runner = CliRunner()
    res = runner.invoke(app, ["score", "--model", result.run_id, "--data", str(data), "--as-of", "2022-07-01",
                              "--out", str(tmp_path / "s")])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "trained with table(s) this folder lacks" in text and str(data) in text
    assert "commute (feeds commute_minutes" in text and "absence (feeds absence_days_6m" in text
    assert "agency_rates (feeds pay_agency_gap)" in text   # an optional table one feature of a family reads
    assert not (tmp_path / "s").exists()
    res = runner.invoke(app, ["explain", "--run", result.run_id, "--data", str(data), "--as-of", "2022-07-01",
                              "--worker", "W0000001"])
    assert res.exit_code == 2 and "commute (feeds commute_minutes" in " ".join(res.output.split()), res.output
    # the rule reads the run's record: a table the training rows held no value of is not required
    catalogue = run_catalogue(result.run_id)
    assert catalogue is not None and catalogue["measured"].astype(str).eq("True").any()
    unmeasured = catalogue.assign(measured=catalogue["measured"].where(~catalogue["family"].eq("commute"), False))
    assert set(missing_trained_tables(catalogue, present_tables(data))) == {"absence", "agency_rates", "commute"}
    assert set(missing_trained_tables(unmeasured, present_tables(data))) == {"absence", "agency_rates"}
    assert missing_trained_tables(catalogue, present_tables(sim_dir)) == {}


# -- only the population the model was trained on is scored (S10-A F9) ---------

def test_the_population_the_model_was_trained_on_is_the_one_scored_and_listed(sim_model, sim_dir, tmp_path, monkeypatch):
    """population.agency = exclude: no agency worker gets a risk; "only": nobody else does; both say so."""
    from retention_ml import scoring, tracking
    from retention_ml.commands.rank import rank_scores
    from retention_ml.io import read_tables

    result, _ = sim_model
    ref, as_of = result.run_id, "2022-07-01"
    everyone = scoring.score(ref, sim_dir, as_of, tmp_path / "all", find_previous_scoring=False)
    assert everyone.meta["population"]["agency"] == "flag" and everyone.meta["population"]["left_out"] == 0
    kind = read_tables(sim_dir)["workers"].set_index("worker_id")["employment_type"].astype(str)
    agency = everyone.scores["worker_id"].map(kind).eq("agency").to_numpy()
    assert 0 < agency.sum() < len(agency)   # the fixture data hold both kinds
    risk = everyone.scores.set_index("worker_id")["risk"]
    for mode, kept in (("exclude", ~agency), ("only", agency)):
        monkeypatch.setattr(scoring, "run_population", lambda run_id, mode=mode: mode)
        got = scoring.score(ref, sim_dir, as_of, tmp_path / mode, find_previous_scoring=False)
        assert sorted(got.scores["worker_id"]) == sorted(everyone.scores.loc[kept, "worker_id"])
        pd.testing.assert_series_equal(got.scores.set_index("worker_id")["risk"], risk.loc[got.scores["worker_id"]])
        meta = json.loads((tmp_path / mode / "score_meta.json").read_text())
        assert meta["population"] == {"agency": mode, "scored": scoring.POPULATION_TEXT[mode],
                                      "left_out": int((~kept).sum())}
    # the lists say whom the model scores (no council-wide count of the others)
    team = str(got.scores["team_id"].iloc[0])
    rank_scores(tmp_path / "only", tmp_path / "lists", team=[team], formats=["csv"])
    head = [line for line in (tmp_path / "lists" / f"risk_list_team_{team}.csv").read_text().splitlines()
            if line.startswith("#")]
    assert f"# This model scores {scoring.POPULATION_TEXT['only']}; they are in no list." in head
    settings = json.loads(next(line for line in head if line.startswith("# list settings: "))[len("# list settings: "):])
    assert settings["population"] == {"agency": "only", "scored": scoring.POPULATION_TEXT["only"]}
    # read from the run's parameters, under the experiment key or the older label.agency
    with tracking.start_run("population-check") as new:
        tracking.log_params(new.info.run_id, {"population": {"agency": "exclude"}})
    with tracking.start_run("population-check") as old:
        tracking.log_params(old.info.run_id, {"label": {"agency": "only"}})
    monkeypatch.undo()
    assert scoring.run_population(new.info.run_id) == "exclude" and scoring.run_population(old.info.run_id) == "only"
    assert scoring.run_population(result.run_id) == "flag" and scoring.run_population("no-such-run") is None


# -- "previous risk" only from a scoring of the same data (S10-X F1) ---------

def test_previous_risk_comes_only_from_a_scoring_of_the_same_people(sim_model, sim_dir, tmp_path):
    """Simulated ids (like many HR systems' pseudonyms) restart per extract: W0000005 of another council's
    extract is someone else. Such a scoring beside OUT is passed over with a note; given as --previous, exit 2."""
    from retention_ml.cli import app
    from retention_ml.scoring import score
    from retention_ml.simulate import simulate

    result, _ = sim_model
    other = tmp_path / "other_data"
    simulate(other, councils=1, start="2019-01", months=48, seed=99)
    ref, out = result.run_id, tmp_path / "s"
    theirs = score(ref, other, "2022-06-01", out / "other_2022-06", find_previous_scoring=False)
    ours = score(ref, sim_dir, "2022-07-01", out / "2022-07")
    shared = ours.scores["worker_id"].isin(theirs.scores["worker_id"])
    assert shared.sum() > 20   # the ids collide, the people do not
    assert ours.meta["previous"] is None and "risk_previous" not in ours.scores
    assert "other_2022-06" in ours.meta["previous_note"] and "of other data" in ours.meta["previous_note"]
    # an earlier scoring of the same data is found although the other one is more recent
    mine = score(ref, sim_dir, "2022-01-01", out / "2022-01", find_previous_scoring=False)
    again = score(ref, sim_dir, "2022-07-01", out / "2022-07")
    assert again.meta["previous"] == str((out / "2022-01").resolve())
    assert "passed over" in again.meta["previous_note"] and "other_2022-06" in again.meta["previous_note"]
    prev = mine.scores.set_index("worker_id")["risk"]
    carried = again.scores["worker_id"].isin(prev.index)
    assert carried.sum() > 20 and again.scores.loc[carried, "risk_previous"].notna().all()
    np.testing.assert_allclose(again.scores.loc[carried, "risk_previous"], again.scores.loc[carried, "worker_id"].map(prev))
    # named explicitly, the other data's scoring is refused before anything is written
    res = CliRunner().invoke(app, ["score", "--model", ref, "--data", str(sim_dir), "--as-of", "2022-07-01",
                                   "--out", str(tmp_path / "t"), "--previous", str(out / "other_2022-06")])
    assert res.exit_code == 2, res.output
    assert "is a scoring of other data" in " ".join(res.output.split()) and not (tmp_path / "t").exists()


def test_an_id_that_names_someone_else_carries_no_previous_risk():
    # one person re-hired under a reused id (another start date) or in another council is not "the same"
    from retention_ml.scoring import same_people

    now = pd.DataFrame({"worker_id": ["W1", "W2", "W3", "W4"], "council_id": ["C1", "C1", "C1", "C1"],
                        "as_of": pd.Timestamp("2022-07-01"), "months_in_post": [24.0, 12.0, 6.0, 30.0]})
    before = pd.DataFrame({"worker_id": ["W1", "W2", "W3"], "council_id": ["C1", "C2", "C1"],
                           "as_of": pd.Timestamp("2022-01-01"),
                           "months_in_post": [24.0 - 181 / 30.4375, 12.0 - 181 / 30.4375, 40.0]})
    assert same_people(now, before).tolist() == [True, False, False, False]


# -- nothing is written into the data folder (S10-X F6) ---------

def test_an_output_inside_the_data_folder_is_refused_and_the_extract_is_untouched(sim_model, sim_dir, tmp_path, monkeypatch):
    """explain --out DATA/workers.parquet replaced the HR extract's workers table; score/rank --out DATA mixed
    outputs into it. Each is exit 2 before any work, and every input file is byte-identical afterwards."""
    import hashlib

    from retention_ml.cli import app

    result, _ = sim_model
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    runner, ref = CliRunner(), result.run_id
    common = ["--data", str(data), "--as-of", "2022-07-01"]
    calls = [["explain", "--run", ref, *common, "--out", str(data / "workers.parquet")],
             ["explain", "--run", ref, *common, "--worker", "W0000001", "--out", str(data / "w.csv")],
             ["score", "--model", ref, *common, "--out", str(data)],
             ["score", "--model", ref, *common, "--out", str(data / "scores" / "2022-07")]]
    for args in calls:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "inside the data folder" in " ".join(res.output.split()), (args, res.output)
    monkeypatch.chdir(data)   # explain's default file (explanations-<as-of>.csv) lands in the working folder
    res = runner.invoke(app, ["explain", "--run", ref, "--data", ".", "--as-of", "2022-07-01"])
    assert res.exit_code == 2 and "inside the data folder" in " ".join(res.output.split()), res.output
    monkeypatch.chdir(tmp_path)
    # rank: the data folder the scoring records (or --data) is refused as --out too
    assert runner.invoke(app, ["score", "--model", ref, *common, "--out", str(tmp_path / "s")]).exit_code == 0
    res = runner.invoke(app, ["rank", "--scores", str(tmp_path / "s"), "--all", "--out", str(data / "lists")])
    assert res.exit_code == 2 and "inside the data folder" in " ".join(res.output.split()), res.output
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()} == before


def test_explain_keeps_to_the_models_population_as_score_does(sim_model, sim_dir, tmp_path, monkeypatch):
    """An agency-excluded model explains no agency worker, and its reasons are measured from the same people
    score measures them from, so explain and the lists agree."""
    from retention_ml import scoring
    from retention_ml.commands import explain as explain_command
    from retention_ml.io import read_tables

    result, _ = sim_model
    as_of = pd.Timestamp("2022-07-01").date()
    kind = read_tables(sim_dir)["workers"].set_index("worker_id")["employment_type"].astype(str)
    everyone = scoring.score(result.run_id, sim_dir, str(as_of), tmp_path / "all", find_previous_scoring=False)
    in_post = everyone.scores["worker_id"]
    agency_worker = str(in_post[in_post.map(kind).eq("agency")].iloc[0])
    monkeypatch.setattr(scoring, "run_population", lambda run_id: "exclude")
    table = explain_command.compute(result.run_id, sim_dir, as_of, None).table
    assert len(table) and not table["worker_id"].map(kind).eq("agency").any()
    scored = scoring.score(result.run_id, sim_dir, str(as_of), tmp_path / "s", find_previous_scoring=False)
    assert sorted(table["worker_id"]) == sorted(scored.scores["worker_id"])
    with pytest.raises(explain_command.CommandError, match="outside the model's population"):
        explain_command.compute(result.run_id, sim_dir, as_of, agency_worker)


def test_a_council_without_supervision_rows_is_scored_with_a_warning_naming_it(sim_model, sim_dir, tmp_path):
    """Its supervision features would read "no supervision" for everyone there: scored, and said (score_meta.json)."""
    from retention_ml.scoring import score

    result, _ = sim_model
    ref, as_of = f"runs:/{result.run_id}/model", "2022-07-01"
    assert score(ref, sim_dir, as_of, tmp_path / "full", find_previous_scoring=False).meta["data_warnings"] == []
    thin = tmp_path / "thin"
    shutil.copytree(sim_dir, thin, ignore=shutil.ignore_patterns("_truth"))
    teams = pd.read_csv(thin / "teams.csv", dtype=str)
    workers = pd.read_parquet(thin / "workers.parquet")
    council = sorted(teams["council_id"].unique())[-1]
    gone = set(workers.loc[workers["team_id"].isin(teams.loc[teams["council_id"] == council, "team_id"]), "worker_id"])
    supervision = pd.read_parquet(thin / "supervision.parquet")
    supervision[~supervision["worker_id"].isin(gone)].to_parquet(thin / "supervision.parquet", index=False)
    warnings = score(ref, thin, as_of, tmp_path / "thin_scores", find_previous_scoring=False).meta["data_warnings"]
    assert len(warnings) == 1 and "supervision" in warnings[0] and council in warnings[0], warnings


def test_scores_carry_the_features_the_reasons_offer_rule_reads_so_the_overview_applies_the_same_rule(sim_model, sim_dir,
                                                                                                   tmp_path):
    """A caseload reason is offered only where the person is at or over their cap, was over it in the last 12
    months or has a rising caseload (reasons.yaml requires_one_of); the service overview reads the lead driver
    from stored scores, so they hold those features, and it names a driver exactly where the list has a reason."""
    from retention_ml.explain.reasons import offer_rule_features
    from retention_ml.reports.service_overview import lead_drivers
    from retention_ml.scoring import score

    result, _ = sim_model
    score(f"runs:/{result.run_id}/model", sim_dir, pd.Timestamp("2022-07-01"), tmp_path / "s")
    s = pd.read_parquet(tmp_path / "s" / "scores.parquet")
    assert {"caseload_current", "caseload_to_cap", "caseload_over_cap_months_12m", "caseload_trend_6m"} <= \
        set(offer_rule_features()) <= set(s.columns)
    assert lead_drivers(s).notna().tolist() == s["reason_1"].notna().tolist()


def test_scoring_and_explain_tell_the_levers_how_each_post_began(sim_model, sim_dir, tmp_path, monkeypatch):
    """Relocation support is for someone who joined the council, not for a move between its teams
    (drivers.yaml joined_council_this_year): scoring and explain pass how each spell began to the lever rule, and
    the scores do not store it."""
    from retention_ml.commands.explain import compute
    from retention_ml.explain import reasons
    from retention_ml.explain.spells import LEVER_CONTEXT_COLUMNS, joined_from_outside
    from retention_ml.io import read_tables
    from retention_ml.scoring import score

    seen = []
    real = reasons.reason_levers

    def spy(codes, people=None, **kw):
        seen.append(people)
        return real(codes, people, **kw)

    monkeypatch.setattr(reasons, "reason_levers", spy)
    result, _ = sim_model
    as_of = pd.Timestamp("2022-07-01")
    score(f"runs:/{result.run_id}/model", sim_dir, as_of, tmp_path / "s")
    s = pd.read_parquet(tmp_path / "s" / "scores.parquet")
    tables = read_tables(sim_dir)
    expected = joined_from_outside(s[["worker_id"]], tables)
    assert (expected == 0).any() and (expected == 1).any()   # movers and joiners both scored
    assert seen and all("joined_from_outside" in p.columns for p in seen)
    np.testing.assert_array_equal(seen[0]["joined_from_outside"].to_numpy(), expected)
    assert "joined_from_outside" not in s.columns
    # who reads each row (a team manager's: their head of service), for the levers that name a role, likewise
    assert all(set(LEVER_CONTEXT_COLUMNS) <= set(p.columns) for p in seen)
    assert not set(LEVER_CONTEXT_COLUMNS) & set(s.columns)
    np.testing.assert_array_equal(seen[0]["manages_the_team"].to_numpy(),
                                  (s["worker_id"] == s["manager_id"]).to_numpy(float))
    seen.clear()
    mover = s.loc[expected == 0, "worker_id"].iloc[0]
    compute(f"runs:/{result.run_id}/model", sim_dir, as_of.date(), worker=mover)
    assert seen and all((p["joined_from_outside"] == 0).all() for p in seen)
    assert all(set(LEVER_CONTEXT_COLUMNS) <= set(p.columns) for p in seen)
    assert seen[0]["manages_the_team"].notna().all()   # explain's keys carry the manager too
