"""Wrong paths are named as what they are, and checked before the work: --bands, --out, validate on a file, schema help."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.io import out_folder_problem


def _run(*args):
    return CliRunner().invoke(app, list(map(str, args)))


def _never(*args, **kwargs):
    raise AssertionError("the work started although --out could never be written")


def test_out_folder_problem_names_what_is_wrong(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert out_folder_problem(tmp_path) is None
    assert out_folder_problem(tmp_path / "new" / "deeper") is None          # made when written
    assert out_folder_problem(afile) == "is a file, not a folder"
    assert out_folder_problem(afile / "sub") == f"cannot be made: {afile} is a file, not a folder"


def test_a_missing_bands_file_is_named_not_reported_as_a_write_failure(tmp_path):
    res = _run("rank", "--scores", tmp_path, "--all", "--out", tmp_path / "lists", "--bands", tmp_path / "nope.toml")
    assert res.exit_code == 2
    said = " ".join(res.output.split())
    assert f"--bands {tmp_path / 'nope.toml'}: no such file" in said and "could not write" not in said
    assert not (tmp_path / "lists").exists()


def test_score_refuses_a_file_as_out_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr("retention_ml.scoring.score", _never)
    (tmp_path / "afile").write_text("x")
    res = _run("score", "--model", "runs:/abc/model", "--data", tmp_path, "--as-of", "2024-01-01",
               "--out", tmp_path / "afile")
    assert res.exit_code == 2, res.output
    assert f"--out {tmp_path / 'afile'}: is a file, not a folder" in " ".join(res.output.split())   # rich wraps lines


def test_card_refuses_a_file_as_out_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr("retention_ml.reports.model_card.build_card", _never)
    # no tracking store anywhere: --out is judged before the store, whatever ran before or wherever pytest runs
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    res = _run("card", "--run", "abc123", "--out", tmp_path / "afile", "--no-log", "--json")
    assert res.exit_code == 2, res.output
    answer = json.loads(res.stdout)
    assert answer["written"] is False and f"--out {tmp_path / 'afile'}: is a file, not a folder" in answer["error"]


def test_card_writes_into_model_card_by_default_as_the_demo_does(tmp_path, monkeypatch):
    from pathlib import Path

    from retention_ml.commands.demo import PRODUCTS

    written = {}
    monkeypatch.setattr("retention_ml.tracking.configure", lambda *a, **k: None)   # no store needed to see where
    monkeypatch.setattr("retention_ml.reports.model_card.build_card", lambda run, **kw: run)
    monkeypatch.setattr("retention_ml.reports.model_card.save_card",
                        lambda built, out, log: written.setdefault("out", out) and {"markdown": out / "model_card.md",
                                                                                   "html": out / "model_card.html"})
    monkeypatch.chdir(tmp_path)
    res = _run("card", "--run", "abc123", "--no-log")
    assert res.exit_code == 0, res.output
    # one folder name for a card, whether `card` or `demo` wrote it (the demo's card is in OUT/model_card/)
    assert written["out"] == Path("model_card") and "model_card" in PRODUCTS


def test_validate_on_a_file_says_it_is_a_file(tmp_path):
    table = tmp_path / "workers.parquet"
    table.write_bytes(b"PAR1")
    res = _run("validate", table, "--json")
    assert res.exit_code == 2
    error = json.loads(res.stdout)["error"]
    assert "is a file, not a folder" in error and str(tmp_path) in error and "no such folder" not in error


@pytest.mark.parametrize("command, example", [("show", "retention-ml schema show workers"),
                                              ("docs", "retention-ml schema docs --check")])
def test_schema_subcommands_teach_with_examples(command, example):
    res = _run("schema", command, "--help")
    assert res.exit_code == 0 and "Examples:" in res.output and example in res.output


def _no_data_read(*args, **kwargs):
    raise AssertionError("the extract was read although no model could be loaded")


@pytest.mark.parametrize("command", ["score", "explain"])
def test_a_missing_store_is_said_before_the_extract_is_read(command, tmp_path, monkeypatch, sim_dir):
    # on national data the read costs 12 s and 1.4 GB before "no tracking store"
    monkeypatch.setattr("retention_ml.validation.read_validated_readings", _no_data_read)
    monkeypatch.setattr("retention_ml.commands.explain._tables", _no_data_read)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)   # no mlflow.db here
    ref = "models:/retention-ml-turnover@champion"
    args = (["score", "--model", ref, "--out", tmp_path / "s"] if command == "score" else
            ["explain", "--run", ref, "--worker", "W0000001"])
    res = _run(*args, "--data", sim_dir, "--as-of", "2022-07-01")
    assert res.exit_code == 2, res.output
    said = " ".join(res.output.split())
    assert f"no tracking store at {tmp_path / 'mlflow.db'}" in said and "AssertionError" not in said


def test_explain_refuses_an_out_it_cannot_write_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr("retention_ml.commands.explain.compute", _never)
    res = _run("explain", "--run", "runs:/abc/model", "--data", tmp_path, "--as-of", "2024-01-01",
               "--out", tmp_path / "everyone.xlsx")
    assert res.exit_code == 2, res.output
    assert f"--out {tmp_path / 'everyone.xlsx'}: use a .csv or .parquet file" in " ".join(res.output.split())
