"""caseload_history's months: its last month sets the end of the data, so a mistyped year (2022-06 for 2021-06) or a
month missing from the export is named by validate, not trained on (where everyone in post up to the false end
counted as a stayer)."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.validation import DataValidationError, read_validated, validate_dir

runner = CliRunner()


def _caseload(data: Path) -> pd.DataFrame:
    return pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)


def test_a_mistyped_year_in_one_caseload_row_is_an_error_naming_the_row(tmp_path, example_copy):
    data = example_copy(tmp_path)
    rows = _caseload(data)
    last = pd.to_datetime(rows["month"]).max()
    stray = (last + pd.DateOffset(years=1)).strftime("%Y-%m-%d")
    rows.loc[4, "month"] = stray
    rows.to_csv(data / "caseload_history.csv", index=False)

    errors = validate_dir(data).errors
    gap = errors[errors["rule"] == "month_gap"]
    assert gap[["table", "row", "column", "value"]].values.tolist() == [["caseload_history", 5, "month", stray[:7]]]
    assert "stands apart" in gap["message"].iat[0] and "stayers" in gap["message"].iat[0]
    with pytest.raises(DataValidationError):
        read_validated(data)

    result = runner.invoke(app, ["validate", str(data), "--json"])
    assert result.exit_code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["failures"] if f["severity"] == "error"] == ["month_gap"]


def test_a_month_missing_from_the_caseload_export_is_one_error_naming_it(tmp_path, example_copy):
    data = example_copy(tmp_path)
    rows = _caseload(data)
    rows[rows["month"] != "2024-05-01"].to_csv(data / "caseload_history.csv", index=False)

    errors = validate_dir(data).errors
    gap = errors[errors["rule"] == "month_gap"]
    assert len(gap) == 1 and gap["row"].isna().all()
    assert "no row for 2024-05" in gap["message"].iat[0]


def test_a_last_caseload_month_with_a_few_rows_is_a_warning(tmp_path, sim_dir):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    caseload = pd.read_parquet(data / "caseload_history.parquet")
    last = caseload["month"].max()
    one_on = caseload.index[caseload["month"] == last - pd.DateOffset(months=1)][0]
    caseload.loc[one_on, "month"] = last + pd.DateOffset(months=1)   # a typo one month on: no gap, a thin month
    caseload.to_parquet(data / "caseload_history.parquet")

    report = validate_dir(data)
    thin = report.warnings[report.warnings["rule"] == "thin_last_month"]
    assert thin["row"].tolist() == [one_on + 1]
    assert report.ok   # a warning: scoring reads nothing from the month of its date on


def test_whole_months_of_valid_extracts_raise_nothing(sim_dir, example_copy, tmp_path):
    for data in (sim_dir, example_copy(tmp_path)):
        failures = pd.concat([validate_dir(data).errors, validate_dir(data).warnings])
        assert not failures["rule"].isin(["month_gap", "thin_last_month"]).any()
