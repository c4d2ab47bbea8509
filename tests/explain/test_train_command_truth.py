"""``retention-ml train`` on simulated data logs the truth check to the run; on data without a truth it says why not."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()
FAST = ["--set", "evaluation.n_boot=20", "--set", "model.n_bootstrap=0", "--set", "evaluation.explain=false"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    from retention_ml import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    tracking.configure()
    return tracking


def _train(data_dir):
    from retention_ml.commands.demo import EXPERIMENT

    result = runner.invoke(app, ["train", str(EXPERIMENT), "--set", f"data.path={data_dir}", *FAST, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_train_logs_truth_on_simulated_data(store, sim_dir):
    out = _train(sim_dir)
    assert out["truth_check"]["logged"] is True
    logged = store.load_json_artifact(out["run_id"], "explanations/truth.json")
    assert logged["run_id"] == out["run_id"] and logged["bars"] == out["truth_check"]["bars"]
    assert store.run_tags(out["run_id"])["retention_ml.truth_check"] == "logged"


def test_a_folder_without_simulator_output_is_real_data(store, sim_dir, tmp_path):
    # council_default.toml on a real extract (no _truth/) once tagged the run simulated, and the card
    # told evaluators "Trained and tested on simulated data". Simulated is now read from the folder.
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    out = _train(data)
    tags = store.run_tags(out["run_id"])
    assert tags["retention_ml.simulated"] == "false" and "retention_ml.truth_check" not in tags
    assert out["simulated"] is False and out["truth_check"] is None


def test_simulated_folder_without_its_truth_tables_says_why_no_check(store, sim_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("*.parquet"))  # keeps _truth/README.md
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"), dirs_exist_ok=True)
    out = _train(data)
    assert out["simulated"] is True
    assert out["truth_check"]["logged"] is False and "truth" in out["truth_check"]["reason"]
    assert store.run_tags(out["run_id"])["retention_ml.simulated"] == "true"


def test_printout_names_the_test_window_as_dates(store, sim_dir):
    import re

    from retention_ml.commands.demo import EXPERIMENT

    result = runner.invoke(app, ["train", str(EXPERIMENT), "--set", f"data.path={sim_dir}", *FAST])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Simulated data: yes" in text  # the card's row, from the same fact
    assert re.search(r"test window \d{4}-\d{2}-\d{2}( to \d{4}-\d{2}-\d{2})?, 95% intervals", text), text[:300]
