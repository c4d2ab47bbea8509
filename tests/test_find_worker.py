"""`retention-ml find-worker`: every output file that holds one person's pseudonymous id, for a data protection
officer's erasure, rectification or subject access request, found in what score, rank and explain write, and
nothing changed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.commands.rank import rank_scores

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).parent / "reports" / "scores_frame.py")
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

runner = CliRunner()


def _outputs(tmp_path: Path):
    """A month's outputs as score, rank (csv, xlsx, html) and explain --out leave them, and a folder of other files."""
    frame = scores_frame.synthetic_scores({"TA": 8, "TB": 8}, service="safeguarding")
    scoring = scores_frame.write_scoring(tmp_path / "scores" / "2024-01", frame, horizon_months=12)
    frame.to_csv(scoring / "scores.csv", index=False)   # score's spreadsheet copy
    rank_scores(scoring, tmp_path / "lists", all_teams=True, formats=("csv", "xlsx", "html"))
    wid = str(frame.loc[frame["team_id"].eq("TA"), "worker_id"].iloc[1])
    explained = tmp_path / "explanations-2024-01-01.parquet"
    frame[["worker_id", "team_id", "reason_1"]].to_parquet(explained)
    (tmp_path / "notes").mkdir()
    # a longer id, the id inside a word and inside a number: none of them is the person
    (tmp_path / "notes" / "other.csv").write_text(f"id,value\n{wid}0,x\nx{wid},0.{wid[1:]}\n")
    (tmp_path / "notes" / "broken.parquet").write_bytes(b"not a parquet file")
    return wid, [tmp_path / "scores", tmp_path / "lists", explained, tmp_path / "notes"]


def test_every_output_holding_a_person_is_found_and_nothing_is_changed(tmp_path):
    wid, paths = _outputs(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["find-worker", wid, *map(str, paths), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    found = {Path(f["path"]).name: f for f in record["files"]}
    assert set(found) == {"scores.parquet", "scores.csv", "distribution_log.csv", "risk_list_team_TA.csv",
                          "risk_list_team_TA.xlsx", "risk_list_team_TA.html", "explanations-2024-01-01.parquet"}
    assert found["scores.parquet"]["as_of"] == "2024-01-01" and found["risk_list_team_TA.csv"]["as_of"] is None
    assert found["distribution_log.csv"]["kind"].startswith("distribution log")
    assert all(f["mentions"] >= 1 for f in found.values())
    assert [Path(f["path"]).name for f in record["unreadable"]] == ["broken.parquet"]   # it may hold the id
    assert record["files_searched"] > len(found)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before   # read only
    printed = " ".join(runner.invoke(app, ["find-worker", wid, *map(str, paths)]).output.split())
    assert "risk_list_team_TA.xlsx" in printed and "broken.parquet" in printed and "Nothing was changed" in printed


def test_someone_in_no_file_and_a_missing_folder(tmp_path):
    wid, paths = _outputs(tmp_path)
    record = json.loads(runner.invoke(app, ["find-worker", "W9999999", *map(str, paths), "--json"]).stdout)
    assert record["files"] == [] and record["files_searched"] > 0
    result = runner.invoke(app, ["find-worker", wid, str(tmp_path / "nowhere"), "--json"])
    assert result.exit_code == 2 and "nowhere" in json.loads(result.stdout)["error"]


def test_the_card_tells_a_board_how_a_persons_files_are_found():
    """The card's own-entry section is what a board and the unions read about rectification and erasure: it names
    the command that finds a person's files, and says the tool rewrites no past scoring."""
    from retention_ml.reports.model_card import _own_entry

    correct = next(item for item in _own_entry(False) if item.startswith("**Correct it.**"))
    assert "retention-ml find-worker <their id>" in correct and "not rewritten" in correct
