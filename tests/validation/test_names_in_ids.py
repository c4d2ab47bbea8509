"""Names used as worker ids are caught by validation: the schema's own rule, declared in workers.yaml.

workers.worker_id is "never a name or payroll number". Declared checks: a row check ``worker_id not_contains
display_name`` (rule ``name_in_id``, an error: training and scoring stop) and ``warn_if_matches`` on
workers.worker_id and teams.manager_id (rule ``name_like_id``, a warning: letters either side of a space). The
report names file, row, line, column and rule and never copies the name into the report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.schema import load_schemas
from retention_ml.validation import DataValidationError, read_validated, validate_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"
# example id -> (id used instead, display_name given)
RENAMED = {
    "W002": ("Priya Shah", "P. Shah"),   # looks like a name, does not hold its display_name: warning (and in teams)
    "W004": ("jane.khan", "Jane Khan"),  # holds the name, punctuation and case aside: error
    "W005": ("Amir Wood 7", "Someone Else"),  # looks like a name: warning
    "W006": ("WAL006", "Al"),            # a two-letter name inside an ordinary code: nothing
    "W007": ("Li", "Li"),                # equals the name: error
    "W008": ("Sam Lee", "Sam Lee"),      # equals the name and looks like one: one record, the error
}
NAME_WORDS = ("Priya", "Shah", "Khan", "Amir", "Wood", "Sam Lee", "Someone")


def _named_copy(tmp_path: Path) -> Path:
    data = tmp_path / "named"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    ids = {old: new for old, (new, _) in RENAMED.items()}
    for path in data.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("worker_id", "manager_id"):
            if col in frame:
                frame[col] = frame[col].replace(ids)
        if path.stem == "workers":
            names = {new: name for new, name in RENAMED.values()}
            frame.insert(1, "display_name", frame["worker_id"].map(names).fillna(""))
        frame.to_csv(path, index=False)
    return data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return validate_dir(_named_copy(tmp_path_factory.mktemp("ids")), as_of="2025-07-01")


def _rows(report, rule, severity, table="workers"):
    f = report.failures
    f = f[(f["rule"] == rule) & (f["severity"] == severity) & (f["table"] == table)]
    return f


def test_an_id_holding_the_rows_name_is_an_error_naming_file_row_column_and_rule(report):
    errors = _rows(report, "name_in_id", "error")
    example_rows = pd.read_csv(EXAMPLE / "workers.csv", dtype=str)["worker_id"]
    expected = sorted(int(np.flatnonzero(example_rows == k)[0]) + 1 for k in ("W004", "W007", "W008"))
    assert len(expected) == 3 and errors["row"].tolist() == expected
    assert set(errors["file"]) == {"workers.csv"} and set(errors["column"]) == {"worker_id"}
    assert (errors["line"] == errors["row"] + 1).all()
    assert errors["message"].str.contains("display_name").all()
    assert report.errors["rule"].eq("name_in_id").all()  # ids renamed consistently: nothing else is wrong
    assert not report.ok


def test_an_id_that_looks_like_a_name_is_a_warning_in_workers_and_teams(report):
    example = pd.read_csv(EXAMPLE / "workers.csv", dtype=str)["worker_id"]
    warned = _rows(report, "name_like_id", "warning")
    assert warned["row"].tolist() == sorted(int(np.flatnonzero(example == k)[0]) + 1 for k in ("W002", "W005"))
    teams = pd.read_csv(EXAMPLE / "teams.csv", dtype=str)
    managed = sorted(int(i) + 1 for i in np.flatnonzero(teams["manager_id"] == "W002"))
    t = _rows(report, "name_like_id", "warning", table="teams")
    assert managed and t["row"].tolist() == managed and set(t["column"]) == {"manager_id"}
    assert set(t["file"]) == {"teams.csv"}


def test_the_report_never_copies_a_name(report):
    records = report.failures[report.failures["rule"].isin(["name_in_id", "name_like_id"])]
    assert records["value"].isna().all()
    text = report.to_json() + str(report)
    assert not [w for w in NAME_WORDS if w in text]


def test_training_and_scoring_stop_on_names_as_ids(tmp_path):
    with pytest.raises(DataValidationError, match="error"):
        read_validated(_named_copy(tmp_path), as_of="2025-07-01")


def test_pseudonymous_ids_and_short_names_pass(tmp_path):
    """The shipped example (no display_name) and codes holding a two-letter name raise nothing new."""
    report = validate_dir(EXAMPLE, as_of="2025-07-01")
    assert report.ok and report.warnings.empty


def test_rules_are_declared_in_the_schema_not_in_code():
    workers, teams = load_schemas()["workers"], load_schemas()["teams"]
    assert any(c.op == "not_contains" and (c.column, c.other, c.rule) == ("worker_id", "display_name", "name_in_id")
               for c in workers.row_checks)
    for spec in (workers.column("worker_id"), teams.column("manager_id")):
        assert "name_like_id" in [w.rule for w in spec.warn_if_matches]
