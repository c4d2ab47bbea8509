"""What real HR and case-management exports do to a CSV, and the message that tells the engineer the fix."""

import shutil
from pathlib import Path

import pandas as pd

from retention_ml.validation import validate_dir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"


def _example_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return data


def _rename_header(data: Path, table: str, old: str, new: str) -> None:
    path = data / f"{table}.csv"
    head, _, rest = path.read_text(encoding="utf-8").partition("\n")
    path.write_text(",".join(new if h == old else h for h in head.split(",")) + "\n" + rest, encoding="utf-8")


def test_a_declared_column_named_twice_is_one_error_naming_both_fields(tmp_path):
    # pandas renames the second 'role' to 'role.1': the engineer used to read "column role.1 is not in the schema".
    data = _example_copy(tmp_path)
    _rename_header(data, "workers", "disability", "role")
    report = validate_dir(data)
    dup = report.errors[report.errors["rule"] == "duplicate_column"]
    assert dup[["file", "line", "column"]].values.tolist() == [["workers.csv", 1, "role"]]
    assert "fields 3, 17" in dup["message"].iat[0] and "only field 3 is read" in dup["message"].iat[0]
    assert "role.1" not in report.failures["column"].astype(str).tolist()
    assert "role.1" not in report.failures["message"].str.cat()


def test_an_undeclared_column_named_twice_is_a_warning(tmp_path):
    data = _example_copy(tmp_path)
    frame = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    frame["notes"], frame["notes2"] = "a", "b"
    frame.to_csv(data / "teams.csv", index=False)
    _rename_header(data, "teams", "notes2", "notes")
    report = validate_dir(data)
    assert report.ok
    assert report.warnings.loc[report.warnings["rule"] == "duplicate_column", "column"].tolist() == ["notes"]
