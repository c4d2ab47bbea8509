"""A scoring folder keeps one date's scores, and the scores lists were sent from are never replaced."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app


def _score(run_id, sim_dir, as_of, out):
    return CliRunner().invoke(app, ["score", "--model", f"runs:/{run_id}/model", "--data", str(sim_dir),
                                    "--as-of", as_of, "--out", str(out)])


def test_another_dates_scoring_is_refused_and_the_first_kept(sim_model, sim_dir, tmp_path):
    result, _ = sim_model
    out = tmp_path / "scores" / "2022-01"
    assert _score(result.run_id, sim_dir, "2022-01-01", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = _score(result.run_id, sim_dir, "2022-07-01", out)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "holds the scoring of 2022-01-01" in text and "2022-07-01" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the same date again (after correcting the data) is still allowed, and replaces it
    assert _score(result.run_id, sim_dir, "2022-01-01", out).exit_code == 0


def test_scores_that_lists_were_sent_from_are_never_replaced(sim_model, sim_dir, tmp_path):
    from retention_ml.reports.distribution import LOG_NAME

    result, _ = sim_model
    out = tmp_path / "scores" / "2022-01"
    assert _score(result.run_id, sim_dir, "2022-01-01", out).exit_code == 0
    lists = CliRunner().invoke(app, ["rank", "--all", "--scores", str(out), "--data", str(sim_dir),
                                     "--out", str(tmp_path / "lists")])
    assert lists.exit_code == 0, lists.output
    assert (out / LOG_NAME).exists()
    scores = pd.read_parquet(out / "scores.parquet")
    res = _score(result.run_id, sim_dir, "2022-01-01", out)
    assert res.exit_code == 2, res.output
    assert LOG_NAME in res.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "scores.parquet"), scores)
