"""A council's first real extract: what Excel and HR systems do to a file that is still unambiguous is read,
and said; what is ambiguous stays an error naming the fix."""

import shutil
from pathlib import Path

import pandas as pd

from retention_ml.io import read_tables
from retention_ml.validation import read_validated, validate_dir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"


def _example_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return data


def _set_header(data: Path, table: str, header: list[str]) -> None:
    path = data / f"{table}.csv"
    _, _, rest = path.read_text(encoding="utf-8").partition("\n")
    path.write_text(",".join(header) + "\n" + rest, encoding="utf-8")


def test_headers_in_another_case_or_padded_are_read_as_the_declared_columns_and_reported(tmp_path):
    data = _example_copy(tmp_path)
    original = read_tables(data)["workers"]
    header = list(pd.read_csv(data / "workers.csv", nrows=0).columns)
    exported = [f" {h.replace('_', ' ').title()} " if i % 2 else h.upper() for i, h in enumerate(header)]
    _set_header(data, "workers", exported)
    report = validate_dir(data)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "column_name"]
    assert notes[["file", "line"]].values.tolist() == [["workers.csv", 1]]
    assert "'WORKER_ID' as worker_id" in notes["message"].iat[0] and "' Team Id ' as team_id" in notes["message"].iat[0]
    # Training and scoring read the same columns as from a clean header, whichever reader they use.
    pd.testing.assert_frame_equal(read_validated(data)["workers"], original)
    pd.testing.assert_frame_equal(read_tables(data)["workers"], original)


def test_two_headers_that_could_be_the_same_column_are_not_guessed(tmp_path):
    data = _example_copy(tmp_path)
    header = list(pd.read_csv(data / "teams.csv", nrows=0).columns)
    frame = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    frame.columns = ["Team ID" if h == "team_id" else h for h in header]
    frame["TEAM_ID"] = frame["Team ID"]
    frame.to_csv(data / "teams.csv", index=False)
    report = validate_dir(data)
    missing = report.errors[report.errors["rule"] == "missing_column"]
    assert missing["column"].tolist() == ["team_id"]
    assert "column_name" not in report.failures["rule"].tolist()
