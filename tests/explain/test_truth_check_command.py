"""``retention-ml truth-check`` end to end: train on the shared simulated data, check the run, log truth.json.

The model is the session's one on ``sim_dir`` (2 councils x 48 months; ``sim_model`` in tests/conftest.py).
"""

import json
import shutil

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(sim_model):
    """The session's model on ``sim_dir`` (tests/conftest.py), its store open for this module."""
    return sim_model[0]


def test_truth_check_logs_the_record_to_the_run(trained, sim_dir):
    from retention_ml import tracking

    result = runner.invoke(app, ["truth-check", "--run", trained.run_id, "--data", str(sim_dir), "--n-boot", "20", "--json"])
    report = json.loads(result.stdout)
    met = all(b["met"] for b in report["bars"].values())
    assert result.exit_code == (0 if met else 1), result.output
    # the truth record's keys, and the test window the run was evaluated on
    assert {"n_leavers", "top1", "top3", "spearman_mean", "spearman_median"} <= set(report)
    metrics = tracking.load_json_artifact(trained.run_id, "evaluation/metrics.json")
    assert report["test_window"] == metrics["windows"]["test"]
    assert report["n_snapshots"] == metrics["counts"]["test"]["n"]
    assert report["n_leavers"] == metrics["counts"]["test"]["positives"]  # one test date: one snapshot per leaver
    assert report["oracle_auc"]["model_roc_auc"] == pytest.approx(metrics["models"]["lightgbm"]["roc_auc"]["value"])
    logged = tracking.load_json_artifact(trained.run_id, "explanations/truth.json")
    assert logged["top3"] == report["top3"] and logged["definitions"] == report["definitions"]
    assert tracking.run_tags(trained.run_id)["retention_ml.truth_check"] == "logged"


def test_truth_check_refuses_data_the_run_was_not_trained_on(trained, sim_dir, tmp_path):
    other = tmp_path / "data"
    shutil.copytree(sim_dir, other)
    with open(other / "teams.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    result = runner.invoke(app, ["truth-check", "--run", trained.run_id, "--data", str(other), "--no-log"])
    assert result.exit_code == 2
    assert "fingerprint" in result.output


def test_truth_check_help_teaches():
    result = runner.invoke(app, ["truth-check", "--help"])
    assert result.exit_code == 0 and "retention-ml truth-check --run" in result.output


def test_truth_check_table_shows_both_references_for_everyone_and_the_top_decile(trained, sim_dir):
    result = runner.invoke(app, ["truth-check", "--run", trained.run_id, "--data", str(sim_dir), "--n-boot", "20", "--no-log"],
                           env={"COLUMNS": "200"})  # rich wraps long labels at the default 80
    assert result.exit_code in (0, 1), result.output
    for label, rows in (("leaving month", 6), ("snapshot month", 4), ("truth, snapshot month", 2), ("truth, last known month", 2)):
        assert result.output.count(label) == rows, label  # as many for all leavers as for the top risk decile


def test_a_piped_truth_check_keeps_each_line_and_cell_whole(trained, sim_dir, capsys):
    """Piped (CI logs, `| tee`) rich laid out at 80 columns: "test \nwindow" and "reference: \ntruth, last \nknown
    month" came out over several lines (/tmp/me/s17/run0/truth.out)."""
    from retention_ml.commands.truth_check import print_report

    done = runner.invoke(app, ["truth-check", "--run", trained.run_id, "--data", str(sim_dir), "--n-boot", "20",
                               "--no-log", "--json"])
    report = json.loads(done.stdout)
    capsys.readouterr()
    print_report(report)
    lines = capsys.readouterr().out.splitlines()   # captured: not a terminal
    window = f"test window {report['test_window'][0]} to {report['test_window'][1]}, {report['n_snapshots']:,} snapshots"
    assert [line for line in lines if window in line and line.startswith("Explanations against the truth")]
    assert sum("reference: truth, last known month" in line for line in lines) == 2   # everyone, top risk decile
    assert sum("top risk decile" in line for line in lines) == 4


def test_reason_rankers_benchmark_scores_the_leavers_the_truth_check_scored(trained, sim_dir, monkeypatch):
    # benchmarks/bench_reason_rankers.py backs the README's statement that the last-month truth is a
    # reference, not a limit; it must rank exactly the leavers the truth check ranked.
    import importlib.util
    from pathlib import Path

    from retention_ml import tracking

    runner.invoke(app, ["truth-check", "--run", trained.run_id, "--data", str(sim_dir), "--n-boot", "20"])
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reason_rankers.py"
    monkeypatch.syspath_prepend(str(path.parent))   # as `python benchmarks/bench_reason_rankers.py` has it
    spec = importlib.util.spec_from_file_location("bench_reason_rankers", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.compare(trained.run_id, sim_dir)
    decile = tracking.load_json_artifact(trained.run_id, "explanations/truth.json")["top_decile"]
    assert out["top_decile_leavers"] == decile["n"] > 0
    assert out["rankers"]["model (SHAP contributions; run's truth.json)"]["top3"] == decile["top3"]
    assert out["training_rows"]["truth_labelled"] > out["top_decile_leavers"]
    for rates in out["rankers"].values():
        for block in (rates["top1"], rates["top3"]):
            assert block["value"] is None or 0.0 <= block["low"] <= block["value"] <= block["high"] <= 1.0
