"""`retention-ml explain`: one person's profile in words, or everyone's to a file.

Model loading and feature building belong to other modules; here they are
replaced by the explain tests' stand-in model and frame so the command itself
is tested.
"""

import json
import sys
import types

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.explain.drivers import reason_levers
from retention_ml.cli import app
from retention_ml.reports.risk_list import NOT_A_DECISION
from retention_ml.scoring import run_outcomes_until

runner = CliRunner()


@pytest.fixture
def wired(monkeypatch, tmp_path, model, frame, catalogue, context):
    from retention_ml import tracking

    X, _ = frame
    keys = context.assign(as_of=pd.Timestamp("2025-01-01"), council_id="C1", manager_id="M1")
    dataset = types.SimpleNamespace(X=X, keys=keys, catalogue=catalogue)
    monkeypatch.setattr(tracking, "configure", lambda uri=None, for_reading=False: "sqlite:///unused")
    monkeypatch.setattr(tracking, "load_turnover_model", lambda ref: (model, "run123"), raising=False)
    monkeypatch.setattr(tracking, "load_table_artifact", lambda run_id, path: catalogue)
    try:
        import retention_ml.features as features
    except ImportError:
        features = types.ModuleType("retention_ml.features")
        monkeypatch.setitem(sys.modules, "retention_ml.features", features)
    monkeypatch.setattr(features, "build_features", lambda tables, dates, families=None: dataset, raising=False)
    monkeypatch.setattr("retention_ml.io.read_tables", lambda data_dir, tables=None: {})
    monkeypatch.setattr("retention_ml.validation.read_validated_readings", lambda data_dir, **kwargs: ({}, {}))  # explain validates its input first
    monkeypatch.setattr("retention_ml.scoring.run_horizon_months", lambda run_id: None)  # no store here
    monkeypatch.setattr("retention_ml.scoring.run_outcomes_until", lambda run_id: None)
    monkeypatch.setattr("retention_ml.scoring.run_population", lambda run_id: None)
    monkeypatch.setattr("retention_ml.scoring.model_approval",  # no registry here: approved unless a test says not
                        lambda run_id: {"status": "approved", "detail": "the champion."})
    # --data . is this folder; the tests' --out files go to tmp_path, outside it (explain refuses the data folder)
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path / "data")
    return X, keys


def test_one_person_json_has_reasons_with_own_values(wired):
    X, keys = wired
    # Pick someone whose caseload is above the cap so a caseload reason is likely and checkable.
    idx = int(((X["caseload_current"] - X["caseload_cap"]) >= 8).to_numpy().nonzero()[0][0])
    wid = keys["worker_id"].iloc[idx]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["worker_id"] == wid
    assert {d["driver"] for d in record["drivers"]} >= {"caseload_workload", "other"}
    assert record["reasons"], "someone far over the cap has at least one reason"
    caseload = [r for r in record["reasons"] if r["driver"] == "caseload_workload"]
    assert caseload and f"caseload {round(X['caseload_current'].iloc[idx])}" in caseload[0]["reason"]
    # the lever beside each reason is the one the lists show for it (explain.drivers.reason_levers)
    # (for this person: their features say which lever group they are in)
    person = X.iloc[[idx] * len(record["reasons"])].reset_index(drop=True)
    assert [r["lever"] for r in record["reasons"]] == reason_levers([r["driver"] for r in record["reasons"]], person).tolist()
    assert record["note"] == NOT_A_DECISION


def test_one_person_printed_with_one_lever_per_reason(wired):
    X, keys = wired
    wid = keys["worker_id"].iloc[int(((X["caseload_current"] - X["caseload_cap"]) >= 8).to_numpy().nonzero()[0][0])]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid])
    assert result.exit_code == 0, result.output
    lever_lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith("Lever")]
    assert lever_lines and all(line.startswith("Lever: ") and "; " not in line for line in lever_lines)


def test_one_person_printed_readably(wired):
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid])
    assert result.exit_code == 0, result.output
    assert wid in result.output and "Driver profile" in result.output and "Caseload and workload" in result.output


def test_one_person_risk_names_the_runs_horizon_in_months(wired, monkeypatch):
    """A 6-month model's risk reads 'within the next 6 months'; a run without the param says so, not 'the horizon'."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Risk of leaving within the model's horizon (not recorded with its run):" in result.output
    monkeypatch.setattr("retention_ml.scoring.run_horizon_months", lambda run_id: 6 if run_id == "run123" else None)
    result = runner.invoke(app, args)
    assert "Risk of leaving within the next 6 months:" in result.output and "within the horizon" not in result.output
    assert json.loads(runner.invoke(app, [*args, "--json"]).stdout)["horizon_months"] == 6


def test_team_help_says_the_output_is_the_whole_team_with_its_manager():
    import re

    result = runner.invoke(app, ["explain", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    text = re.sub(r"[\s│]+", " ", result.output)
    assert "its manager included" in text and "manager's output holds only their own team" not in text


def test_everyone_to_a_file(wired, tmp_path):
    X, keys = wired
    out = tmp_path / "all.csv"
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, comment="#")   # the first line is the not-a-decision statement
    assert len(table) == len(X)
    assert {"worker_id", "risk", "driver_caseload_workload", "driver_other", "reason_1", "lever_1"} <= set(table.columns)
    assert json.loads(result.stdout)["rows"] == len(X)


@pytest.mark.parametrize("args", [[], ["--worker", "W0"], ["--team", "T2"]], ids=["everyone", "worker", "team"])
def test_every_out_file_says_predictions_never_decide(wired, tmp_path, args):
    """Files of per-person reasons get forwarded: each carries the statement, not only the terminal."""
    import pyarrow.parquet as pq

    from retention_ml.io import NOTE_KEY

    X, keys = wired
    args = [a if a != "W0" else str(keys["worker_id"].iloc[0]) for a in args]
    base = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", *args]
    csv, parquet = tmp_path / "e.csv", tmp_path / "e.parquet"
    for out in (csv, parquet):
        result = runner.invoke(app, [*base, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert csv.read_text(encoding="utf-8").splitlines()[0] == f"# {NOT_A_DECISION}"
    assert pq.read_schema(parquet).metadata[NOTE_KEY].decode("utf-8") == NOT_A_DECISION
    # and both still read back as the same rows and columns
    back, table = pd.read_csv(csv, comment="#"), pd.read_parquet(parquet)
    assert list(back.columns) == list(table.columns) and list(back.worker_id) == list(table.worker_id)
    assert back["risk"].to_numpy() == pytest.approx(table["risk"].to_numpy())


def test_one_person_is_measured_from_everyone_in_post(wired, tmp_path):
    """A person's profile is the same whether asked alone or with everyone (the reference is everyone at the date)."""
    X, keys = wired
    out = tmp_path / "all.parquet"
    assert runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--out", str(out)]).exit_code == 0
    table = pd.read_parquet(out)
    assert abs(table["driver_caseload_workload"].mean()) < 1e-9
    wid = keys["worker_id"].iloc[7]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid, "--json"])
    record = json.loads(result.stdout)
    alone = {d["driver"]: d["shap"] for d in record["drivers"]}
    with_all = table.loc[table["worker_id"] == wid].iloc[0]
    for driver, value in alone.items():
        assert value == pytest.approx(with_all[f"driver_{driver}"], abs=1e-9), driver
    assert "same date" in record["reference"]


def test_unknown_worker_exits_2(wired):
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", "NOPE"])
    assert result.exit_code == 2
    assert "NOPE" in result.output


def test_bad_date_exits_2(wired):
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "soon"])
    assert result.exit_code == 2


def test_team_filter_keeps_only_that_team(wired, tmp_path):
    X, keys = wired
    out = tmp_path / "team.parquet"
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--team", "T2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert len(table) == int((keys["team_id"] == "T2").sum()) and set(table["team_id"]) == {"T2"}


def test_model_loaded_from_an_mlflow_run(monkeypatch, tmp_path, model, frame, catalogue, context):
    """The real loading path: the model object and catalogue logged to a run in a tmp store."""
    import joblib

    from retention_ml import tracking

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracking.configure()
    run_id = tracking.client().create_run(tracking.get_or_create_experiment("explain-cli")).info.run_id
    folder, _, name = tracking.MODEL_OBJECT_PATH.rpartition("/")
    joblib.dump(model, tmp_path / name)
    tracking.log_artifact_file(run_id, tmp_path / name, folder or None)
    catalogue.to_csv(tmp_path / "feature_catalogue.csv", index=False)
    tracking.log_artifact_file(run_id, tmp_path / "feature_catalogue.csv")
    tracking.client().log_param(run_id, "label.horizon_months", "6")  # as training logs it

    X, _ = frame
    keys = context.assign(as_of=pd.Timestamp("2025-01-01"))
    try:
        import retention_ml.features as features
    except ImportError:
        features = types.ModuleType("retention_ml.features")
        monkeypatch.setitem(sys.modules, "retention_ml.features", features)
    monkeypatch.setattr(features, "build_features", lambda tables, dates, families=None: types.SimpleNamespace(X=X, keys=keys, catalogue=None), raising=False)
    monkeypatch.setattr("retention_ml.io.read_tables", lambda data_dir, tables=None: {})
    monkeypatch.setattr("retention_ml.validation.read_validated_readings", lambda data_dir, **kwargs: ({}, {}))  # explain validates its input first
    wid = keys["worker_id"].iloc[5]
    result = runner.invoke(app, ["explain", "--run", run_id, "--data", ".", "--as-of", "2025-01-01", "--worker", wid, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)  # progress and MLflow messages go to stderr
    assert record["run_id"] == run_id
    assert record["risk"] == pytest.approx(float(model.predict_proba(X.iloc[[5]])[0, 1]))
    assert record["horizon_months"] == 6  # read from the run's logged label.horizon_months


def test_reasons_are_worded_from_every_key_as_scoring_words_them(wired, tmp_path, monkeypatch):
    # Scoring words reasons with all the keys (employment type: "... employment type: agency"); explain
    # must give the same words, while its file keeps only its key columns.
    import retention_ml.explain.explanation as explanation

    X, keys = wired
    keys["employment_type"] = "agency"
    seen = {}
    real = explanation.reason_table

    def spy(values, profile, X, context, *args, **kwargs):
        seen["context"] = list(context.columns)
        return real(values, profile, X, context, *args, **kwargs)

    monkeypatch.setattr(explanation, "reason_table", spy)
    out = tmp_path / "all.csv"
    assert runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--out", str(out)]).exit_code == 0
    assert "employment_type" in seen["context"]
    assert "employment_type" not in pd.read_csv(out, comment="#").columns


def test_a_date_the_features_refuse_is_exit_2_with_the_reason(wired, monkeypatch):
    import retention_ml.features as features

    def refuse(tables, dates, families=None):
        raise ValueError("as-of 2030-01-01 is after the data ends: the last caseload_history month is 2023-12")

    monkeypatch.setattr(features, "build_features", refuse)
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2030-01-01", "--worker", "W00001"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "after the data ends" in result.output


def test_a_team_with_no_manager_is_null_in_json_not_the_string_nan(wired):
    """A missing manager_id is JSON null, not the string "nan"."""
    X, keys = wired
    keys["manager_id"] = None   # the stand-in data set holds this same frame: no team has a manager recorded
    wid = keys["worker_id"].iloc[3]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["manager_id"] is None and record["worker_id"] == wid and record["as_of"] == "2025-01-01"


@pytest.mark.parametrize("flag,wrong", [("--worker", "W000123"), ("--team", "T03")])
def test_a_worker_or_team_not_in_post_is_refused_naming_some_that_are(wired, flag, wrong, tmp_path):
    # help examples show W000123 and T03; a new user's ids look different, so the error says what there is
    X, keys = wired
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", flag, wrong,
                                 "--out", str(tmp_path / "e.csv")])
    assert result.exit_code == 2 and wrong in result.output
    column = "worker_id" if flag == "--worker" else "team_id"
    assert sorted(set(keys[column].astype(str)))[0] in " ".join(result.output.split())

NOT_APPROVED = {"status": "not approved", "detail": "Run run123 is not the champion."}


@pytest.mark.parametrize("args", [[], ["--json"]])
def test_one_person_from_an_unapproved_model_says_so_first(wired, monkeypatch, args):
    """@candidate explains a model the gate never passed: the person's profile says so, as the lists do."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    monkeypatch.setattr("retention_ml.scoring.model_approval", lambda run_id: NOT_APPROVED)
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid, *args])
    assert result.exit_code == 0, result.output
    if args:
        record = json.loads(result.stdout)
        assert record["approved"] is False and record["approval"].startswith("NOT APPROVED")
        assert "Run run123 is not the champion." in record["approval"]
    else:
        assert result.output.lstrip().startswith("NOT APPROVED")


def test_one_person_from_the_approved_model_carries_no_alert(wired):
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid]
    assert "NOT APPROVED" not in runner.invoke(app, args).output
    assert json.loads(runner.invoke(app, [*args, "--json"]).stdout)["approved"] is True


def test_a_file_from_an_unapproved_model_says_so_in_its_first_line(wired, monkeypatch, tmp_path):
    monkeypatch.setattr("retention_ml.scoring.model_approval", lambda run_id: NOT_APPROVED)
    out = tmp_path / "all.csv"
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    first = out.read_text().splitlines()[0]
    assert first.startswith("# NOT APPROVED") and NOT_A_DECISION in first
    assert json.loads(result.stdout)["approved"] is False


def test_one_person_shows_the_band_the_lists_show_and_who_reads_it(wired, tmp_path):
    """A subject access request asks what the tool says and to whom: the band and reader are those of the lists."""
    from retention_ml.reports.risk_list import assign_bands, load_band_config

    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid]
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert record["band"] == assign_bands([record["risk"]], config=load_band_config())[0]
    assert record["listed_for"] == "their team manager (M1)"
    assert record["shown_to_manager_as"] == "band only (the probability is not shown)"
    printed = runner.invoke(app, args).output
    assert f"In the lists: band {record['band']}" in " ".join(printed.split())
    # what the band asked of the manager, in the lists' own words (one text: risk_list.band_meaning_text)
    body = record["band_meaning"].split(": ", 1)[1]
    assert record["band_meaning"].startswith("What the band asks of the manager who reads the list: ")
    assert "never a performance, capability or disciplinary matter" in body and body in " ".join(printed.split())
    from retention_ml.reports.risk_list import band_meaning_text
    assert band_meaning_text({"band_cutoffs": record["cutoffs"], "horizon_months": record["horizon_months"]}
                             ).split(": ", 1)[1] == body
    # the bands file the lists were ranked with decides the band: cut-offs below everyone put them all in "high"
    strict = tmp_path / "bands.toml"
    strict.write_text("[bands]\nmedium = 0.0001\nhigh = 0.0002\n")
    assert json.loads(runner.invoke(app, [*args, "--bands", str(strict), "--json"]).stdout)["band"] == "high"


def test_who_reads_a_person_follows_the_list_rules():
    from retention_ml.commands.explain import list_reader

    assert list_reader("W1", "M1") == "their team manager (M1)"
    assert list_reader("M1", "M1").startswith("the head of service (team managers")
    assert list_reader("W1", None).startswith("the head of service (the team has no manager")
    assert list_reader("W1", "M1", leaving=True).startswith("nobody")


def test_a_person_whose_leaving_date_is_recorded_is_read_by_nobody(wired, monkeypatch):
    """As in the lists (risk_list.LEAVING_LINE): a recorded leaving date keeps the person off every list."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    workers = pd.DataFrame({"worker_id": keys["worker_id"],
                            "end_date": [pd.Timestamp("2025-03-31")] + [pd.NaT] * (len(keys) - 1)})
    monkeypatch.setattr("retention_ml.validation.read_validated_readings", lambda data_dir, **kwargs: ({"workers": workers}, {}))
    monkeypatch.setattr("retention_ml.scoring.check_trained_tables", lambda *args: None)
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--json", "--worker"]
    assert json.loads(runner.invoke(app, [*args, wid]).stdout)["listed_for"].startswith("nobody")
    other = keys["worker_id"].iloc[1]
    assert json.loads(runner.invoke(app, [*args, other]).stdout)["listed_for"] == "their team manager (M1)"


@pytest.mark.parametrize("line", ["NOT_A_DECISION", "PURPOSE_LINE"])
def test_every_file_about_people_names_the_uses_it_forbids(line):
    """Scores and explanation files travel without a list's lines: their one note names redundancy selection,
    discipline and performance as forbidden uses, not only 'never decides' (which a reader may take as advisory)."""
    from retention_ml.reports import risk_list

    text = getattr(risk_list, line)
    assert "selection (redundancy included)" in text and "discipline" in text and "performance" in text


def test_one_person_json_holds_every_input_the_model_used_about_them(wired):
    """A subject access request is owed the data processed: the person's whole feature row, in the catalogue's words."""
    X, keys = wired
    idx = 3
    wid = keys["worker_id"].iloc[idx]
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid]
    inputs = json.loads(runner.invoke(app, [*args, "--json"]).stdout)["inputs"]
    assert [i["feature"] for i in inputs] == list(X.columns)
    assert [i["value"] for i in inputs] == pytest.approx(X.iloc[idx].astype(float).tolist())
    by_feature = {i["feature"]: i for i in inputs}
    assert by_feature["caseload_current"]["meaning"] == "meaning of caseload_current"
    assert by_feature["mystery_feature"]["driver"] == "other"   # not in the catalogue: named, never dropped
    assert "Data the model used about this person" not in runner.invoke(app, args).output
    assert "Data the model used about this person" in runner.invoke(app, [*args, "--inputs"]).output


def _log_with(folder, lines):
    from retention_ml.reports.distribution import LOG_COLUMNS, LOG_NAME

    folder.mkdir()
    rows = [{c: "" for c in LOG_COLUMNS} | line for line in lines]
    pd.DataFrame(rows, columns=list(LOG_COLUMNS)).to_csv(folder / LOG_NAME, index=False)


def test_one_person_with_lists_names_every_list_that_held_their_row(wired, tmp_path):
    X, keys = wired
    wid, other = keys["worker_id"].iloc[0], keys["worker_id"].iloc[1]
    _log_with(tmp_path / "scores-2025-01", [
        {"written_at": "2025-01-02T09:00:00Z", "as_of": "2025-01-01", "list": "risk_list_team_T1",
         "recipient": "M7", "approval": "approved", "worker_ids": f"{other} {wid}"},
        {"written_at": "2025-01-02T09:00:00Z", "as_of": "2025-01-01", "list": "risk_list_team_T2",
         "recipient": "M8", "approval": "approved", "worker_ids": f"{other} {wid}0"},   # a longer id is not theirs
    ])
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid,
            "--lists-log", str(tmp_path)]   # a folder of scorings: every log under it
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert [(s["list"], s["recipient"]) for s in record["sent_in"]] == [("risk_list_team_T1", "M7")]
    printed = runner.invoke(app, args)
    assert printed.exit_code == 0, printed.output
    assert "risk_list_team_T1" in printed.output and "risk_list_team_T2" not in printed.output


def test_a_lists_log_folder_without_a_log_is_refused_before_any_work(wired, tmp_path):
    X, keys = wired
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01",
                                 "--worker", keys["worker_id"].iloc[0], "--lists-log", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "distribution_log.csv" in result.output


def test_a_worker_id_typed_in_another_case_is_refused_naming_the_id_in_post(wired):
    # A subject access request's id copied from a letter in lower case: "not in post" alone sent the analyst
    # to check whether the person had left.
    _, keys = wired
    wid = keys["worker_id"].iloc[0]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01",
                                 "--worker", f" {wid.lower()}", "--json"])
    assert result.exit_code == 2, result.output
    assert f"did you mean {wid}? ids are matched exactly, case included" in json.loads(result.stdout)["error"]
    result = runner.invoke(app, ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01",
                                 "--worker", "X9", "--json"])
    assert result.exit_code == 2 and "did you mean" not in json.loads(result.stdout)["error"]


@pytest.mark.parametrize("profile, says", [
    ([("pay", -0.09), ("other", 0.2)], "No driver pushes this person's risk above the average."),
    ([("commute", 0.034), ("pay", -0.09)], "not by enough: Commute (+0.034)"),
    ([("caseload_workload", 0.30), ("commute", 0.01)], "no words: Caseload and workload (+0.300)"),
])
def test_a_person_without_reasons_is_told_why_truly(profile, says):
    """'No driver pushes risk above the average' was printed beside a driver at +0.034: below the least a reason
    needs, not absent. The line now says which of the three it is, naming the largest driver pushing risk up."""
    from retention_ml.explain.reasons import no_reason_line
    from retention_ml.explain.reasons import MIN_REASON_VALUE
    from retention_ml.schema import load_drivers

    labels = {d.code: d.label for d in load_drivers()}
    line = no_reason_line([{"driver": c, "label": labels.get(c, c), "shap": v} for c, v in profile])
    if says.startswith("No driver"):
        assert line == says
        return
    kind, largest = says.split(": ")
    assert largest in line and "above the average" not in line
    if kind == "not by enough":
        assert f"at least {MIN_REASON_VALUE:+.2f}" in line
    else:
        assert "can be worded" in line


def _scoring_with(folder, *, as_of, run_id, risks: dict, lines):
    """A scoring folder as score and rank leave it: scores, meta and the distribution log of its lists."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    _log_with(folder, [{"as_of": as_of, "approval": "approved", **line} for line in lines])
    pd.DataFrame({"worker_id": list(risks), "risk": list(risks.values())}).to_parquet(folder / "scores.parquet")
    (folder / "score_meta.json").write_text(json.dumps({"as_of": as_of, "run_id": run_id, "horizon_months": 12}))


def test_lists_log_says_the_band_each_list_showed_and_when_another_model_made_those_lists(wired, tmp_path):
    """A subject access request a year on: the lists of January were made by the model then in use, and the
    model explained now (the champion since a retrain) gives other risks. Without a word, the person read the
    new model's band as what their manager was shown: on three simulated councils, 89 of the 660 people listed
    in a month would have been told a band their list never showed. Each list line now carries the band that
    list showed and the model that scored it, and an alert says when the lists of the explained date came from
    another model than the one explained."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    _scoring_with(tmp_path / "log" / "2024-12", as_of="2024-12-01", run_id="run-old", risks={wid: 0.40},
                  lines=[{"written_at": "2024-12-02T09:00:00Z", "list": "risk_list_team_T1", "recipient": "M7",
                          "worker_ids": wid}])
    _scoring_with(tmp_path / "log" / "2025-01", as_of="2025-01-01", run_id="run-old", risks={wid: 0.10},
                  lines=[{"written_at": "2025-01-02T09:00:00Z", "list": "risk_list_team_T1", "recipient": "M7",
                          "worker_ids": wid}])
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid,
            "--lists-log", str(tmp_path / "log")]
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert [(s["as_of"], s["band_shown"], s["run_id"]) for s in record["sent_in"]] == [
        ("2024-12-01", "high", "run-old"), ("2025-01-01", "low", "run-old")]
    assert "run-old" in record["lists_model_note"] and "run123" in record["lists_model_note"]
    printed = " ".join(runner.invoke(app, args).output.split())
    assert "not what the lists of 2025-01-01 showed" in printed
    # the same model made the lists: no alert
    meta = tmp_path / "log" / "2025-01" / "score_meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "run_id": "run123"}))
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert record["lists_model_note"] is None and record["sent_in"][1]["run_id"] == "run123"


def _run_with_windows(monkeypatch, **params):
    """The store answers the explained run's logged parameters (its windows and horizon), as train logs them."""
    from retention_ml import tracking

    run = types.SimpleNamespace(data=types.SimpleNamespace(params=params))
    monkeypatch.setattr(tracking, "client", lambda: types.SimpleNamespace(get_run=lambda run_id: run))
    monkeypatch.setattr("retention_ml.scoring.run_outcomes_until", run_outcomes_until)   # read from those


def test_a_past_date_explained_by_a_model_built_since_says_so_without_the_lists_log(wired, monkeypatch, tmp_path):
    """A subject access request for last January, answered without --lists-log by today's champion: the model was
    built from leaving outcomes up to July, so January's lists came from an earlier model, and the band printed
    "In the lists" was one the person's list may never have shown. The explanation now says it is a fresh one by
    a model built since, and how to get what the lists showed; a model built before the date carries no alert."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid]
    _run_with_windows(monkeypatch, **{"window.train": "2023-01-01 to 2023-10-01", "window.valid": "2024-01-01",
                                      "window.test": "2024-07-01", "label.horizon_months": "12"})
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    note = record["lists_model_note"]
    assert note and "run123" in note and "2025-07-01" in note and "--lists-log" in note
    printed = " ".join(runner.invoke(app, args).output.split())
    assert "not what the lists of 2025-01-01 showed" in printed
    assert printed.index("not what the lists") < printed.index("Risk of leaving")   # read before the band
    # the lists log says that date was scored again with this model and those lists cut: nothing to alert
    _scoring_with(tmp_path / "log" / "2025-01", as_of="2025-01-01", run_id="run123", risks={wid: 0.10},
                  lines=[{"written_at": "2025-08-02T09:00:00Z", "list": "risk_list_team_T1", "recipient": "M7",
                          "worker_ids": wid}])
    record = json.loads(runner.invoke(app, [*args, "--lists-log", str(tmp_path / "log"), "--json"]).stdout)
    assert record["lists_model_note"] is None
    # a model built from outcomes up to the explained date made that date's lists, as far as it can tell
    _run_with_windows(monkeypatch, **{"window.test": "2023-12-01", "label.horizon_months": "12"})
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert record.get("lists_model_note") is None
    # without --lists-log, the band is this model's: the person is told how to see what each list showed
    assert "--lists-log" in record["lists_note"]
    assert "--lists-log" in " ".join(runner.invoke(app, args).output.split())


def test_a_scoring_folder_kept_without_its_scores_still_lists_each_list(wired, tmp_path):
    """README's keeping advice: a council may keep a scoring folder's distribution log and meta longer than its
    scores. The lists are still named, whom each was for and the model that scored it, and the band is said to be
    no longer there rather than guessed from the model explained now."""
    X, keys = wired
    wid = keys["worker_id"].iloc[0]
    folder = tmp_path / "log" / "2025-01"
    _scoring_with(folder, as_of="2025-01-01", run_id="run123", risks={wid: 0.40},
                  lines=[{"written_at": "2025-01-02T09:00:00Z", "list": "risk_list_team_T1", "recipient": "M7",
                          "worker_ids": wid}])
    (folder / "scores.parquet").unlink()
    args = ["explain", "--run", "r", "--data", ".", "--as-of", "2025-01-01", "--worker", wid,
            "--lists-log", str(tmp_path / "log")]
    record = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert [(s["list"], s["recipient"], s["band_shown"], s["run_id"]) for s in record["sent_in"]] == [
        ("risk_list_team_T1", "M7", None, "run123")]
    assert "band not found (scores no longer there)" in " ".join(runner.invoke(app, args).output.split())
