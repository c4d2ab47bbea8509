"""Piped or logged (rich's 80 columns), the line naming what a command wrote keeps its paths whole, so a path in a
CI log pastes: `card` said "model card written: card/model_card.md and card/model_card.html (logged to the \\nrun)"
(/tmp/me/s17/run0/card.out), and a longer folder broke inside a path."""

from __future__ import annotations

from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()   # its output is not a terminal: rich lays out at 80 columns, as in a pipe


def _lines_holding(output: str, *parts: str) -> list[str]:
    return [line for line in output.splitlines() if all(p in line for p in parts)]


def test_card_names_both_files_on_one_line(sim_model, tmp_path):
    result, _root = sim_model
    out = tmp_path / "a_folder_name_long_enough_to_cross_eighty_columns" / "card"
    done = runner.invoke(app, ["card", "--run", result.run_id, "--out", str(out), "--no-log"])
    assert done.exit_code == 0, done.output
    assert _lines_holding(done.stdout, "model card written:", str(out / "model_card.md"), str(out / "model_card.html"))


def test_explain_out_names_its_file_on_one_line(sim_model, sim_dir, tmp_path):
    result, _root = sim_model
    target = tmp_path / "a_folder_name_long_enough_to_cross_eighty_columns" / "explanations.csv"
    done = runner.invoke(app, ["explain", "--run", f"runs:/{result.run_id}/model", "--data", str(sim_dir),
                               "--as-of", "2022-07-01", "--out", str(target)])
    assert done.exit_code == 0, done.output
    assert _lines_holding(done.stdout, "Wrote explanations for", f" to {target}.")
