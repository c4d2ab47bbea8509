"""``rank --all`` into last month's folder: lists this call did not write are named (and with --prune removed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.schema import driver_codes


def _scoring(root, name, teams: dict[str, int], as_of: str):
    rng = np.random.default_rng(3)
    team = np.repeat(list(teams), list(teams.values()))
    n = team.size
    risk = rng.beta(2, 8, n)
    codes = list(dict.fromkeys([*driver_codes(model_visible=True), "other"]))
    frame = pd.DataFrame({
        "worker_id": [f"WS{100 + i}" for i in range(n)], "team_id": team, "council_id": "C01",
        "manager_id": [f"M{t}" for t in team], "role": "social_worker", "months_in_post": 12,
        "as_of": pd.Timestamp(as_of), "risk": risk, "risk_low": risk / 2, "risk_high": np.clip(risk * 2, 0, 1),
        "reason_1": "Caseload of 24 is above the team cap of 20", "reason_2": "", "reason_3": "",
        "caseload_current": 20.0, "caseload_cap": 20.0, "target_turnover": 0.1,
        "model_ref": "models:/x@champion", "run_id": "r1",
    })
    frame = pd.concat([frame, pd.DataFrame(rng.normal(0, 0.4, (n, len(codes))),
                                           columns=[f"driver_{c}" for c in codes])], axis=1)
    d = root / name
    d.mkdir()
    frame.to_parquet(d / "scores.parquet", index=False)
    (d / "score_meta.json").write_text(json.dumps({"as_of": as_of, "model_ref": "models:/x@champion"}))
    return d


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
