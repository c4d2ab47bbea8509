"""Team and council ids with path characters validate (a warning, declared in teams.yaml), since rank cleans file names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from retention_ml.validation import validate_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"


def _with_ids(tmp_path: Path, teams: dict[str, str], council: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    for path in data.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "team_id" in frame:
            frame["team_id"] = frame["team_id"].replace(teams)
        if "council_id" in frame:
            frame["council_id"] = council
        frame.to_csv(path, index=False)
    return data


def test_ids_with_path_characters_are_a_warning_naming_row_and_column(tmp_path):
    first, second, third = pd.read_csv(EXAMPLE / "teams.csv", dtype=str)["team_id"][:3]
    data = _with_ids(tmp_path, {first: "CP/North", second: "../../up", third: "T.03"}, council="LA..x")
    report = validate_dir(data, as_of="2025-07-01")
    assert report.ok, str(report)   # a warning only: the data can still be used
    f = report.failures[report.failures["rule"] == "path_characters"]
    assert set(f["severity"]) == {"warning"} and set(f["table"]) == {"teams"}
    teams = pd.read_csv(data / "teams.csv", dtype=str)
    # data rows 1 and 2 of teams.csv (file lines 2 and 3) hold "CP/North" and "../../up"; "T.03" (one dot) is fine
    assert sorted(f.loc[f["column"] == "team_id", "line"]) == [2, 3]
    assert len(f[f["column"] == "council_id"]) == len(teams)
    assert all("CP/North" not in m for m in f["message"])   # as for name-like ids, the value is not copied

