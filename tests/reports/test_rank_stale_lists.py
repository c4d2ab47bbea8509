"""``rank --all`` into last month's folder: lists this call did not write are named (and with --prune removed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from typer.testing import CliRunner

from retention_ml.cli import app

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _scoring(root, name, teams: dict[str, int], as_of: str):
    return scores_frame.write_scoring(root / name, scores_frame.synthetic_scores(teams, seed=3, as_of=as_of, prefix="WS"))


def _rank(scores, out, *extra):
    return CliRunner().invoke(app, ["rank", "--scores", str(scores), "--out", str(out), "--format", "csv,html", *extra])


def test_lists_of_teams_no_longer_scored_are_named_then_pruned(tmp_path):
    lists = tmp_path / "lists"
    december = _scoring(tmp_path, "dec", {"TMERGED": 6, "TSTAYS": 6}, "2023-12-01")
    january = _scoring(tmp_path, "jan", {"TSTAYS": 7}, "2024-01-01")
    assert _rank(december, lists, "--all").exit_code == 0
    assert _rank(lists.parent / "dec", tmp_path / "other", "--team", "TMERGED").exit_code == 0   # another folder: untouched
    gone = [lists / "risk_list_team_TMERGED.csv", lists / "risk_list_team_TMERGED.html"]

    res = _rank(january, lists, "--all", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["stale"] == [str(p) for p in gone]
    warning = " ".join(res.stderr.split())
    assert "2 list file(s)" in warning and "risk_list_team_TMERGED.csv" in warning and "--prune" in warning
    assert all(p.exists() for p in gone)   # a warning only: nothing deleted unasked

    res = _rank(january, lists, "--all", "--prune", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["removed"] == [str(p) for p in gone]
    assert sorted(p.name for p in lists.iterdir()) == ["risk_list_team_TSTAYS.csv", "risk_list_team_TSTAYS.html"]
    assert (tmp_path / "other" / "risk_list_team_TMERGED.csv").exists()


def test_a_complete_folder_gets_no_warning_and_prune_needs_all(tmp_path):
    scoring = _scoring(tmp_path, "s", {"TA": 6, "TB": 6}, "2024-01-01")
    _rank(scoring, tmp_path / "lists", "--all")
    res = _rank(scoring, tmp_path / "lists", "--all", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["stale"] == [] and "WARNING: " not in res.stderr.replace(
        "WARNING: these lists come from a model NOT APPROVED", "")
    res = _rank(scoring, tmp_path / "lists", "--team", "TA", "--prune")
    assert res.exit_code == 2 and "--prune goes with --all only" in " ".join(res.output.split())


def test_the_overview_of_a_service_no_longer_scored_is_named_then_pruned(tmp_path):
    """A service whose teams all merged into another: its overview would read as this month's, so it goes too."""
    lists = tmp_path / "lists"
    dec = scores_frame.synthetic_scores({"TOLD": 6, "TSTAYS": 6}, seed=3, as_of="2023-12-01", prefix="WS")
    dec["service"] = dec["team_id"].map({"TOLD": "early_help", "TSTAYS": "safeguarding"})
    jan = scores_frame.synthetic_scores({"TSTAYS": 7}, seed=3, as_of="2024-01-01", prefix="WS", service="safeguarding")
    assert _rank(scores_frame.write_scoring(tmp_path / "dec", dec), lists, "--all").exit_code == 0
    gone = [lists / "service_overview_C01_early_help.csv", lists / "service_overview_C01_early_help.html"]
    assert all(p.exists() for p in gone)
    january = scores_frame.write_scoring(tmp_path / "jan", jan)
    res = _rank(january, lists, "--all", "--json")
    assert res.exit_code == 0, res.output
    assert set(map(str, gone)) <= set(json.loads(res.stdout)["stale"])
    assert _rank(january, lists, "--all", "--prune").exit_code == 0
    assert not any(p.exists() for p in gone) and (lists / "service_overview_C01_safeguarding.csv").exists()
