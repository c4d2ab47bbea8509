"""Output file names built from ids: an id with "/" or "../" never makes a sub-folder, a file outside --out, or a crash."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.io import safe_name
from retention_ml.reports.xlsx import SHEET_MAX, sheet_names
from retention_ml.schema import driver_codes

# Ids a council's HR system can hold and validate accepts (team_id has no pattern): a "/" inside, a path
# that climbs out of the output folder, and one that cleans to the same text as the first.
TEAMS = {"CP/North": 6, "../../escaped": 6, "CP:North": 5}
MANAGERS = {"CP/North": "../mgr/one", "../../escaped": "MGR2", "CP:North": "MGR3"}
COUNCIL = "../C/01"


def _scores() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    team = np.repeat(list(TEAMS), list(TEAMS.values()))
    n = team.size
    risk = rng.beta(2, 8, n)
    codes = list(dict.fromkeys([*driver_codes(model_visible=True), "other"]))
    frame = pd.DataFrame({
        "worker_id": [f"WF{100 + i}" for i in range(n)], "team_id": team, "council_id": COUNCIL,
        "manager_id": pd.Series(team).map(MANAGERS).to_numpy(), "role": "social_worker",
        "service": "safeguarding", "months_in_post": rng.integers(1, 100, n), "as_of": pd.Timestamp("2024-01-01"),
        "risk": risk, "risk_low": np.clip(risk - 0.05, 0, 1), "risk_high": np.clip(risk + 0.05, 0, 1),
        "reason_1": "Caseload of 24 is above the team cap of 20", "reason_2": "", "reason_3": "",
        "caseload_current": 20.0, "caseload_cap": 20.0, "target_turnover": 0.1,
        "model_ref": "models:/x@champion", "run_id": "r1",
    })
    # The manager of "CP/North" sits in that team, so --all also writes a service list named after the council.
    frame.loc[0, ["worker_id", "role", "caseload_current"]] = ["../mgr/one", "team_manager", 0.0]
    drivers = pd.DataFrame(rng.normal(0, 0.4, (n, len(codes))), columns=[f"driver_{c}" for c in codes])
    return pd.concat([frame, drivers], axis=1)


@pytest.fixture()
def scoring(tmp_path):
    d = tmp_path / "work" / "scores"
    d.mkdir(parents=True)
    _scores().to_parquet(d / "scores.parquet", index=False)
    (d / "score_meta.json").write_text(json.dumps({"as_of": "2024-01-01", "model_ref": "models:/x@champion"}))
    return d


def _files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def _rank(scores, out, *scope):
    return CliRunner().invoke(app, ["rank", "--scores", str(scores), *scope, "--out", str(out), "--json"])


def test_ids_with_path_characters_stay_inside_out_in_every_format(scoring, tmp_path):
    out = tmp_path / "work" / "a" / "b" / "lists"
    before = set(_files(tmp_path))
    res = _rank(scoring, out, "--all")
    assert res.exit_code == 0, res.output
    written = [p for p in _files(tmp_path) if p not in before]
    # 3 team sets + 1 service set (the team manager's), 3 formats each, all directly in --out: no escape, no sub-folder.
    assert len(written) == 4 * 3
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
