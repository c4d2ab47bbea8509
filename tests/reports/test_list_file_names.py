"""Output file names built from ids: an id with "/" or "../" never makes a sub-folder, a file outside --out, or a crash."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.io import safe_name
from retention_ml.reports.xlsx import SHEET_MAX, sheet_names

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

# Ids a council's HR system can hold and validate accepts (team_id has no pattern): a "/" inside, a path
# that climbs out of the output folder, and one that cleans to the same text as the first.
TEAMS = {"CP/North": 6, "../../escaped": 6, "CP:North": 5}
MANAGERS = {"CP/North": "../mgr/one", "../../escaped": "MGR2", "CP:North": "MGR3"}
COUNCIL = "../C/01"


def _scores() -> pd.DataFrame:
    frame = scores_frame.synthetic_scores(TEAMS, seed=11, council=COUNCIL, managers=MANAGERS, prefix="WF",
                                          service="safeguarding")
    # The manager of "CP/North" sits in that team, so --all also writes a service list named after the council.
    frame.loc[0, ["worker_id", "role", "caseload_current"]] = ["../mgr/one", "team_manager", 0.0]
    return frame


@pytest.fixture()
def scoring(tmp_path):
    return scores_frame.write_scoring(tmp_path / "work" / "scores", _scores())


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def _rank(scores, out, *scope):
    return CliRunner().invoke(app, ["rank", "--scores", str(scores), *scope, "--out", str(out), "--json"])


def test_ids_with_path_characters_stay_inside_out_in_every_format(scoring, tmp_path):
    out = tmp_path / "work" / "a" / "b" / "lists"
    before = set(_files(tmp_path))
    res = _rank(scoring, out, "--all")
    assert res.exit_code == 0, res.output
    written = [p for p in _files(tmp_path) if p not in before and p != scoring / "distribution_log.csv"]
    # 3 team sets + 1 service set (the team manager's) + the service's overview, 3 formats each, all directly in
    # --out: no escape, no sub-folder.
    assert len(written) == 5 * 3
    assert all(p.parent == out for p in written), [str(p) for p in written]
    assert sorted(map(str, written)) == sorted(json.loads(res.stdout)["files"])
    # Each team has its own files: "CP/North" and "CP:North" clean to the same text but must not overwrite each other.
    csvs = [p for p in written if p.suffix == ".csv" and p.name.startswith("risk_list_team_")]
    teams = [pd.read_csv(p, comment="#")["team_id"].unique().tolist() for p in csvs]
    assert sorted(t for ts in teams for t in ts) == sorted(TEAMS)
    assert all(len(ts) == 1 for ts in teams)


def test_manager_and_team_scopes_with_path_characters_stay_inside_out(scoring, tmp_path):
    out = tmp_path / "lists"
    for scope in (["--manager", "../mgr/one"], ["--team", "../../escaped", "--team", "CP/North"]):
        res = _rank(scoring, out, *scope)
        assert res.exit_code == 0, res.output
    assert {p.parent for p in _files(tmp_path / "work")} == {scoring}   # nothing landed beside the scores
    files = _files(out)
    assert len(files) == 2 * 3 and {p.parent for p in files} == {out}, [str(p) for p in files]   # no sub-folder


def test_safe_name_keeps_plain_ids_and_separates_the_rest():
    assert safe_name("T03") == "T03" and safe_name("W0000001") == "W0000001"   # the usual ids: files named as before
    odd = ["CP/North", "CP:North", "../../escaped", "..", "a\\b", "Équipe 1", "x" * 300]
    cleaned = [safe_name(v) for v in odd]
    assert len(set(cleaned)) == len(odd)
    assert all(c and not c.startswith(".") and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in c)
               for c in cleaned), cleaned
    assert all(len(c) <= 80 for c in cleaned)


def test_sheet_names_are_valid_and_distinct():
    ids = ["CP/North", "CP:North", "T[1]", "'quoted'", "TEAMA", "teama", "L" * 40, "L" * 31 + "x"]
    names = sheet_names(ids)
    assert names[4] == "TEAMA"                      # an id Excel accepts is the sheet name
    assert len({n.lower() for n in names}) == len(ids)
    assert all(0 < len(n) <= SHEET_MAX and not set(n) & set("[]:*?/\\") and n[0] != "'" and n[-1] != "'"
               for n in names), names
