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
