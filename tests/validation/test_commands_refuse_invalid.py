"""train and explain validate their input before any work (explain after finding its model): invalid data gives the
validator's problem table and exit 1, never a model or a file."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"
EXPERIMENT = ROOT / "experiments" / "council_default.toml"
runner = CliRunner()


def invoke(args, **kwargs):
    """Run the CLI; a crash (any exception but the command's own exit) fails the test."""
    result = runner.invoke(app, args, **kwargs)
    assert result.exception is None or isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}\n{result.output}"
    return result


@pytest.fixture
def invalid_data(tmp_path, monkeypatch) -> Path:
    """The example set with three problems in two tables (a bad date, an unknown role, a negative count)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    workers = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    workers.loc[2, "start_date"] = "2021-02-31"
    workers.loc[4, "role"] = "wizard"
    workers.to_csv(data / "workers.csv", index=False)
    caseload = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    caseload.loc[3, ["open_cases", "child_protection_cases", "court_cases", "children_in_care_cases"]] = ["-3", "0", "0", "0"]
    caseload.to_csv(data / "caseload_history.csv", index=False)
    return data


WANT = [("workers.csv", 3, "start_date", "type"), ("workers.csv", 5, "role", "allowed"), ("caseload_history.csv", 4, "open_cases", "min")]


def test_train_on_invalid_data_lists_every_problem_and_exits_1(invalid_data):
    result = invoke(["train", str(EXPERIMENT), "--set", f"data.path={invalid_data}"], env={"COLUMNS": "250"})
    assert result.exit_code == 1, result.output
    assert "nothing was trained" in result.output
    for text in ("workers row 3: start_date is '2021-02-31'", "workers row 5: role is 'wizard'", "caseload_history row 4: open_cases is -3"):
        assert text in result.output
    assert "NOT valid: 3 error(s)" in result.output


def test_train_json_on_invalid_data_is_the_validators_report(invalid_data):
    result = invoke(["train", str(EXPERIMENT), "--set", f"data.path={invalid_data}", "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert sorted((f["file"], f["row"], f["column"], f["rule"]) for f in payload["failures"]) == sorted(WANT)


def test_explain_on_invalid_data_lists_every_problem_writes_nothing_and_exits_1(invalid_data, tmp_path, sim_model,
                                                                              monkeypatch):
    # The model is found first (a missing one is said before an extract is read: tests/test_early_checks.py),
    # then validation refuses the data before any feature or file.
    result_, root = sim_model
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    out = tmp_path / "explanations.csv"
    args = ["explain", "--run", result_.run_id, "--data", str(invalid_data), "--as-of", "2025-01-01", "--out", str(out)]
    result = invoke(args, env={"COLUMNS": "250"})
    assert result.exit_code == 1, result.output
    assert "caseload_history row 4: open_cases is -3; must be 0 or more" in result.output
    assert "workers row 3: start_date is '2021-02-31'" in result.output
    assert not out.exists()
    payload = json.loads(invoke([*args, "--json"]).stdout)
    assert sorted((f["file"], f["row"], f["column"], f["rule"]) for f in payload["failures"]) == sorted(WANT)


def test_explain_on_valid_data_still_fails_only_for_the_missing_model(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    from retention_ml import tracking

    tracking.configure()
    tracking.get_or_create_experiment("store-without-the-model")   # a store exists (explain never creates one)
    result = invoke(["explain", "--run", "models:/no-such-model@champion", "--data", str(EXAMPLE), "--as-of", "2025-01-01"])
    assert result.exit_code == 2 and "could not load model" in result.output
