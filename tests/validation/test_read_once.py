"""Validated reading reads each file once and returns exactly what the table reader would.

Scoring, explaining and training validate the data folder and then build features from it. Reading the files a
second time for the features cost about a tenth of a national scoring; the tables validation read are typed
with the reader's own typing instead, so the result must equal ``read_tables`` frame for frame.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from retention_ml import io as tables_io
from retention_ml import validation
from retention_ml.io import read_tables
from retention_ml.validation import DataValidationError, read_validated, validate_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"


@pytest.fixture
def file_reads(monkeypatch):
    """Counts, by file name, every read of a table file by validation and by the table reader."""
    reads: Counter = Counter()
    read_file, read_raw = validation._read_file, tables_io._read_raw

    def counted_read_file(table, path):
        reads[Path(path).name] += 1
        return read_file(table, path)

    def counted_read_raw(path, *args):
        reads[Path(path).name] += 1
        return read_raw(path, *args)

    monkeypatch.setattr(validation, "_read_file", counted_read_file)
    monkeypatch.setattr(tables_io, "_read_raw", counted_read_raw)
    return reads


def _assert_same_tables(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name in expected:
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)


def test_read_validated_reads_each_file_once(file_reads):
    frames = read_validated(EXAMPLE)
    assert frames and file_reads and set(file_reads.values()) == {1}, file_reads


def test_read_validated_equals_the_table_reader_on_simulated_data(sim_dir):
    # the simulator writes both CSV and Parquet tables
    _assert_same_tables(read_validated(sim_dir), read_tables(sim_dir))
    _assert_same_tables(read_validated(sim_dir, tables=["workers", "teams"]), read_tables(sim_dir, ["workers", "teams"]))


def test_read_validated_equals_the_table_reader_on_awkward_but_valid_files(tmp_path):
    """Files whose raw frame in validation differs from the reader's: a Parquet file with its own index, a CSV
    with a byte-order mark, a repeated column the schema does not declare (a warning), a header-only optional table."""
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    workers = read_tables(data, ["workers"])["workers"]
    (data / "workers.csv").unlink()
    workers.set_index(workers.index + 100).to_parquet(data / "workers.parquet")   # pandas keeps the index
    pd.read_csv(data / "teams.csv", dtype=str).to_csv(data / "teams.csv", index=False, encoding="utf-8-sig")
    caseload = (data / "caseload_history.csv").read_text(encoding="utf-8").splitlines()
    caseload = [f"{line},{'note' if i == 0 else 'x'},{'note' if i == 0 else 'y'}" for i, line in enumerate(caseload)]
    (data / "caseload_history.csv").write_text("\n".join(caseload) + "\n", encoding="utf-8")
    optional = next(name for name, s in validation.load_schemas().items()
                    if not s.required and (data / f"{name}.csv").exists())
    header = (data / f"{optional}.csv").read_text(encoding="utf-8").splitlines()[0]
    (data / f"{optional}.csv").write_text(header + "\n", encoding="utf-8")
    report = validate_dir(data)
    assert report.ok and "duplicate_column" in set(report.warnings["rule"]), report.failures
    assert pd.read_parquet(data / "workers.parquet").index[0] == 100   # the file keeps its own index
    _assert_same_tables(read_validated(data), read_tables(data))


def test_invalid_data_raises_the_same_report_as_validate_dir_and_reads_once(tmp_path, file_reads):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    frame = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    frame.loc[2, "open_cases"] = "-3"
    frame.to_csv(data / "caseload_history.csv", index=False)
    (data / "teams.csv").write_bytes("team_id,name\nT1,Caf\xe9\n".encode("cp1252"))
    with pytest.raises(DataValidationError) as caught:
        read_validated(data)
    assert set(file_reads.values()) == {1}
    pd.testing.assert_frame_equal(caught.value.report.failures, validate_dir(data).failures)


def test_training_reads_each_file_once(sim_dir, file_reads):
    from retention_ml.training import read_data

    _assert_same_tables(read_data(sim_dir), read_tables(sim_dir))
    file_reads.clear()
    read_data(sim_dir)
    assert file_reads and set(file_reads.values()) == {1}, file_reads


def test_scoring_and_explaining_read_each_file_once(sim_model, sim_dir, tmp_path, file_reads):
    from retention_ml.commands import explain as explain_command
    from retention_ml.scoring import score

    result, _ = sim_model
    score(result.run_id, sim_dir, "2022-07-01", tmp_path / "scores", find_previous_scoring=False)
    assert file_reads and set(file_reads.values()) == {1}, file_reads
    file_reads.clear()
    explain_command.compute(result.run_id, sim_dir, pd.Timestamp("2022-07-01").date(), None)
    assert file_reads and set(file_reads.values()) == {1}, file_reads


def _without_supervision_for_one_council(sim_dir: Path, data: Path) -> str:
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    teams, workers = read_tables(data, ["teams", "workers"]).values()
    council = sorted(teams["council_id"].unique())[-1]
    gone = workers.loc[workers["team_id"].isin(teams.loc[teams["council_id"] == council, "team_id"]), "worker_id"]
    supervision = pd.read_parquet(data / "supervision.parquet")
    supervision[~supervision["worker_id"].isin(gone)].to_parquet(data / "supervision.parquet", index=False)
    return council


def test_coverage_warnings_are_skipped_on_valid_data_and_kept_in_a_report_with_errors(sim_dir, tmp_path, monkeypatch):
    """read_validated never shows warnings on valid data, so their slowest check (councils a table holds no rows
    for) is not worked out then; a report with an error still carries them, as validate_dir's does."""
    data = tmp_path / "data"
    council = _without_supervision_for_one_council(sim_dir, data)
    calls = []
    coverage = validation.coverage_gaps
    monkeypatch.setattr(validation, "coverage_gaps", lambda *a, **k: calls.append(1) or coverage(*a, **k))
    assert "no_rows_for_council" in set(validate_dir(data).warnings["rule"])
    calls.clear()
    _assert_same_tables(read_validated(data), read_tables(data))
    assert calls == []
    teams = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    teams.loc[0, "caseload_cap"] = "-5"
    teams.to_csv(data / "teams.csv", index=False)
    with pytest.raises(DataValidationError) as caught:
        read_validated(data)
    report = caught.value.report
    assert council in " ".join(report.warnings.loc[report.warnings["rule"] == "no_rows_for_council", "message"])
    pd.testing.assert_frame_equal(report.failures, validate_dir(data).failures)
    pd.testing.assert_frame_equal(report.counts, validate_dir(data).counts)
