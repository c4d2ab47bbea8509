"""``retention-ml simulate``: writes the tables, --json summary, --report, and exit code 2 for a bad scenario."""

import json

from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()


def test_simulate_json_summary(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), "--councils", "1", "--months", "13", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"]["workers"] > 0
    assert (tmp_path / "d" / "workers.parquet").exists()
    assert (tmp_path / "d" / "_truth" / "leavers.parquet").exists()


def test_simulate_report_prints_calibration(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), "--councils", "3", "--months", "24", "--start", "2019-07", "--report", "--json"])
    assert result.exit_code == 0, result.output
    cal = json.loads(result.output)["calibration"]
    assert {r["metric"] for r in cal["table"]} == {"turnover", "agency", "vacancy", "caseload", "absence"}
    assert {r["year"] for r in cal["table"]} == {2020}


def test_bad_scenario_exits_2_naming_the_key(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text("retention_pay = 1500\n")
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), "--scenario", str(bad), "--json"])
    assert result.exit_code == 2
    assert "retention_pay" in json.loads(result.output)["error"]
    assert not (tmp_path / "d").exists()


SMALL = ["--councils", "1", "--months", "13", "--seed", "2"]


def _snapshot(folder):
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_of_other_data_is_refused_without_force(tmp_path):
    """Real extracts must not be overwritten by a simulation typed into the wrong folder."""
    real = tmp_path / "extracts"
    real.mkdir()
    (real / "workers.csv").write_text("worker_id,team_id\nREAL1,T1\n")
    (real / "notes.txt").write_text("keep me")
    before = _snapshot(real)
    result = runner.invoke(app, ["simulate", "--out", str(real), *SMALL, "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert str(real) in error and "--force" in error
    assert _snapshot(real) == before
    # --force replaces the input tables (the stale csv of a table now written as parquet goes too), keeps other files
    result = runner.invoke(app, ["simulate", "--out", str(real), *SMALL, "--force", "--json"])
    assert result.exit_code == 0, result.output
    assert (real / "workers.parquet").exists() and not (real / "workers.csv").exists()
    assert (real / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["extracts"]  # no staging folder left beside it


def test_an_earlier_simulation_is_replaced_without_force(tmp_path):
    out = tmp_path / "sim"
    assert runner.invoke(app, ["simulate", "--out", str(out), *SMALL]).exit_code == 0
    (out / "my_notes.md").write_text("mine")
    first = _snapshot(out)
    result = runner.invoke(app, ["simulate", "--out", str(out), "--councils", "1", "--months", "13", "--seed", "3"])
    assert result.exit_code == 0, result.output
    second = _snapshot(out)
    assert set(second) == set(first) and second["workers.parquet"] != first["workers.parquet"]
    assert second["my_notes.md"] == b"mine"


def test_a_failed_write_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    """Disk full half-way: exit 2 with a message, no traceback, and the earlier simulation intact (no mix)."""
    import retention_ml.simulate.writer as writer

    out = tmp_path / "sim"
    assert runner.invoke(app, ["simulate", "--out", str(out), *SMALL]).exit_code == 0
    before = _snapshot(out)
    real_write, calls = writer.write_table, []

    def full_disk(frame, path):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real_write(frame, path)

    monkeypatch.setattr(writer, "write_table", full_disk)
    result = runner.invoke(app, ["simulate", "--out", str(out), "--councils", "1", "--months", "13", "--seed", "3", "--json"])
    assert result.exit_code == 2, result.output
    assert "No space left" in json.loads(result.stdout)["error"]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["sim"]


def test_a_start_outside_the_calibration_years_is_warned_about_not_refused(tmp_path):
    from retention_ml.simulate.config import NATIONAL

    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), *SMALL, "--start", "2010-01", "--json"])
    assert result.exit_code == 0, result.output
    (warning,) = json.loads(result.stdout)["warnings"]
    # 13 months from January 2010 reach the reporting years to September 2010 and 2011
    assert "reporting years 2010-2011" in warning and f"calibration covers ({min(NATIONAL)}-{max(NATIONAL)})" in warning
    assert "warning: --start 2010-01 --months 13" in " ".join(result.stderr.split())
    assert (tmp_path / "d" / "workers.parquet").exists()


def test_a_start_inside_the_calibration_years_has_no_warning(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), *SMALL, "--start", "2019-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == [] and "warning" not in result.stderr


def test_a_start_that_is_not_a_month_is_named_as_the_option(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "d"), *SMALL, "--start", "2019-13", "--json"])
    assert result.exit_code == 2
    assert "--start '2019-13' is not a month (YYYY-MM" in json.loads(result.stdout)["error"]
    assert not (tmp_path / "d").exists()


def test_the_written_line_keeps_its_paths_whole_when_piped(tmp_path):
    # CliRunner's output is not a terminal, as with `simulate ... | tee log`: rich then wraps at 80 columns
    out = tmp_path / ("a_folder_name_long_enough_to_pass_eighty_columns_" * 2) / "sim"
    result = runner.invoke(app, ["simulate", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("Wrote ") and f"truth in {out / '_truth'}" in line for line in result.output.splitlines())
