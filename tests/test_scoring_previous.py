"""Which earlier scoring "change since last scoring" compares with, and why every other folder beside OUT was
passed over (score --previous left out)."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner


def _scoring(root, name, as_of, horizon=12, run_id="run-a", scored_at="2025-01-01T00:00:00+00:00"):
    (root / name).mkdir()
    meta = {"as_of": as_of, "horizon_months": horizon, "run_id": run_id, "scored_at": scored_at}
    (root / name / "score_meta.json").write_text(json.dumps(meta))
    return (root / name).resolve()


def test_the_survey_orders_candidates_and_says_why_the_rest_were_passed_over(tmp_path):
    from retention_ml.scoring import survey_previous

    (tmp_path / "lists").mkdir()   # rank's output beside the scorings: not a scoring
    later = _scoring(tmp_path, "2022-10", "2022-10-01")
    six = _scoring(tmp_path, "2022-06-six", "2022-06-01", horizon=6)
    older = _scoring(tmp_path, "2022-03", "2022-03-01")
    # two scorings of one date: the one by another model sorts after (by name, as the search did before) and
    # was scored after the one by this model
    ours = _scoring(tmp_path, "2022-06-a", "2022-06-01", run_id="run-a", scored_at="2025-01-01T00:00:00+00:00")
    theirs = _scoring(tmp_path, "2022-06-b", "2022-06-01", run_id="run-b", scored_at="2025-02-01T00:00:00+00:00")
    as_of = pd.Timestamp("2022-07-01")

    survey = survey_previous(tmp_path / "2022-07", as_of, 12, run_id="run-a")
    assert survey.candidates == [ours, theirs, older]
    why = {folder.name: reason for folder, reason in survey.passed_over}
    assert why == {"lists": "not a scoring (no readable score_meta.json)",
                   later.name: "scored at 2022-10-01, not before 2022-07-01",
                   six.name: "a 6-month horizon, this model's is 12 months: the risks answer another question"}
    # scoring with the other model: its own scoring of that date comes first
    assert survey_previous(tmp_path / "2022-07", as_of, 12, run_id="run-b").candidates == [theirs, ours, older]
    # neither model's (a new model): the one scored last
    assert survey_previous(tmp_path / "2022-07", as_of, 12, run_id="run-c").candidates[0] == theirs
    # a scoring written before score_meta.json recorded the horizon
    legacy = _scoring(tmp_path, "2022-05-legacy", "2022-05-01", horizon=None)
    why = dict(survey_previous(tmp_path / "2022-07", as_of, 12, run_id="run-a").passed_over)
    assert why[legacy] == "no horizon recorded, this model's is 12 months: the risks answer another question"


def test_the_reasons_for_candidates_not_taken(tmp_path):
    from retention_ml.scoring import _choose_previous, survey_previous

    ours = _scoring(tmp_path, "2022-06-a", "2022-06-01", run_id="run-a")
    theirs = _scoring(tmp_path, "2022-06-b", "2022-06-01", run_id="run-b", scored_at="2025-02-01T00:00:00+00:00")
    older = _scoring(tmp_path, "2022-03", "2022-03-01")
    keys = pd.DataFrame({"worker_id": ["W1"], "council_id": ["C1"], "as_of": [pd.Timestamp("2022-07-01")],
                         "months_in_post": [12.0]})
    # none holds a readable scores.parquet: each is "not comparable", none taken, and the reason names the file
    survey = survey_previous(tmp_path / "2022-07", pd.Timestamp("2022-07-01"), 12, run_id="run-a")
    folder, _, record = _choose_previous(keys, survey, explicit=False, horizon=12, run_id="run-a")
    assert folder is None and record["previous_why"] is None
    whys = {p["folder"]: p["why"] for p in record["previous_passed_over"]}
    assert all(whys[str(f)].startswith(f"not comparable: {f / 'scores.parquet'} cannot be compared")
               for f in (ours, theirs, older))
    # the same person in each: ours is taken, theirs (same date, another model) and the older one are said why not
    for f in (ours, theirs, older):
        keys.assign(risk=0.1).to_parquet(f / "scores.parquet")
    folder, _, record = _choose_previous(keys, survey, explicit=False, horizon=12, run_id="run-a")
    assert folder == ours and record["previous_why"].startswith("the latest earlier scoring of the same data")
    whys = {p["folder"]: p["why"] for p in record["previous_passed_over"]}
    assert whys == {str(theirs): "of the same date as the one taken (2022-06-a) but by another model (run run-b); "
                                 "the one taken is by this model",
                    str(older): "older than the one taken (2022-06-a, scored at 2022-06-01)"}
    # scoring with a third model: the one scored last is taken, and the change is said to hold the model's change
    survey = survey_previous(tmp_path / "2022-07", pd.Timestamp("2022-07-01"), 12, run_id="run-c")
    folder, _, record = _choose_previous(keys, survey, explicit=False, horizon=12, run_id="run-c")
    assert folder == theirs and "scored with another model (run run-b)" in record["previous_why"]
    assert {p["folder"]: p["why"] for p in record["previous_passed_over"]}[str(ours)] == (
        "of the same date as the one taken (2022-06-b), which was scored after it")


def test_score_says_which_previous_it_took_and_why_the_others_were_passed_over(sim_model, sim_dir, tmp_path):
    from retention_ml.cli import app
    from retention_ml.scoring import score

    result, _ = sim_model
    out = tmp_path / "scores"
    first = score(result.run_id, sim_dir, "2022-01-01", out / "2022-01")
    assert first.meta["previous"] is None and first.meta["previous_passed_over"] == []
    score(result.run_id, sim_dir, "2022-04-01", out / "2022-04")
    (out / "lists").mkdir()
    res = CliRunner().invoke(app, ["score", "--model", result.run_id, "--data", str(sim_dir), "--as-of", "2022-07-01",
                                   "--out", str(out / "2022-07")])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "2022-07" / "score_meta.json").read_text())
    assert meta["previous"] == str((out / "2022-04").resolve())
    assert meta["previous_why"] == "the latest earlier scoring of the same data and 12-month horizon beside this one"
    assert {(p["folder"].rsplit("/", 1)[-1], p["why"]) for p in meta["previous_passed_over"]} == {
        ("2022-01", "older than the one taken (2022-04, scored at 2022-04-01)"),
        ("lists", "not a scoring (no readable score_meta.json)")}
    text = " ".join(res.output.split())
    assert f"change since last scoring: against {(out / '2022-04').resolve()} (scored at 2022-04-01)" in text
    assert "older than the one taken (2022-04" in text and "passed over: lists" in text


def test_a_scoring_after_a_change_of_model_carries_no_previous_risk(sim_model, sim_dir, tmp_path):
    """Compared with a scoring by another model, a person's previous risk would put the change of model into
    their "change since last scoring": score records that model (previous_run_id) and carries no risk; rank
    reads the record, also of a scoring written before it was kept (from the previous folder's meta)."""
    from retention_ml.commands.rank import read_scoring
    from retention_ml.reports.risk_list import model_changed
    from retention_ml.scoring import score

    result, _ = sim_model
    out = tmp_path / "scores"
    score(result.run_id, sim_dir, "2022-01-01", out / "2022-01")
    same = score(result.run_id, sim_dir, "2022-04-01", out / "2022-04")
    assert same.meta["previous_run_id"] == result.run_id and same.scores["risk_previous"].notna().any()
    assert not model_changed(read_scoring(out / "2022-04")[1])
    meta_path = out / "2022-04" / "score_meta.json"   # as if an earlier model had scored 2022-04
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "run_id": "an-earlier-run"}))
    after = score(result.run_id, sim_dir, "2022-07-01", out / "2022-07")
    assert after.meta["previous_as_of"] == "2022-04-01" and after.meta["previous_run_id"] == "an-earlier-run"
    assert "risk_previous" not in after.scores
    assert "risk_previous" not in pd.read_parquet(out / "2022-07" / "scores.parquet").columns
    assert model_changed(read_scoring(out / "2022-07")[1])
    # a scoring written before previous_run_id was recorded: read from the previous folder
    meta_path = out / "2022-07" / "score_meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["previous_run_id"]
    meta_path.write_text(json.dumps(meta))
    assert read_scoring(out / "2022-07")[1]["previous_run_id"] == "an-earlier-run"
