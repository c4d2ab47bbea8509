"""Every --json answer carries "ok", true exactly when the command exits 0.

A failure said {"ok": false, ...} (commands.fail) but a success of score, rank, explain, card, promote, simulate,
truth-check and demo had no "ok" at all, so a monthly job's `retention-ml score ... --json | jq -e .ok` stopped
on a scoring that had worked. runs --json is a list of runs and keeps that shape.
"""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()


def _answer(argv: list[str]) -> tuple[dict, int]:
    done = runner.invoke(app, [*argv, "--json"])
    assert done.exit_code in (0, 1), done.output
    return json.loads(done.stdout), done.exit_code


def test_a_monthly_jobs_json_answers_say_ok_as_their_exit_code_does(sim_model, sim_dir, tmp_path):
    result, _root = sim_model
    as_of = "2022-07-01"   # inside the simulated data (2019-01 to 2022-12)
    model = f"runs:/{result.run_id}/model"
    answers = {
        "score": _answer(["score", "--model", model, "--data", str(sim_dir), "--as-of", as_of,
                          "--out", str(tmp_path / "scores")]),
        "rank": _answer(["rank", "--scores", str(tmp_path / "scores"), "--all", "--format", "csv",
                         "--out", str(tmp_path / "lists")]),
        "promote": _answer(["promote", result.run_id, "--dry-run"]),   # refused (too few leavers): ok false, exit 1
        "card": _answer(["card", "--run", result.run_id, "--out", str(tmp_path / "card"), "--no-log"]),
        "simulate": _answer(["simulate", "--councils", "1", "--months", "24", "--out", str(tmp_path / "sim")]),
    }
    worker = pd.read_parquet(tmp_path / "scores" / "scores.parquet")["worker_id"].iloc[0]
    answers["explain"] = _answer(["explain", "--run", model, "--data", str(sim_dir), "--as-of", as_of,
                                  "--worker", worker])
    for command, (record, code) in answers.items():
        assert record.get("ok") is (code == 0), (command, code, sorted(record))
    assert answers["score"][0]["ok"] and answers["explain"][0]["worker_id"] == worker
