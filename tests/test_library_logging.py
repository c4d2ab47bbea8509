"""MLflow's housekeeping stays out of the commands' output; its warnings, and everything when asked for, do not."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAST = ["evaluation.n_boot=20", "model.n_bootstrap=4", "evaluation.explain=false"]   # as conftest's sim model


def test_train_prints_no_mlflow_info_lines_but_its_own_result(sim_dir, tmp_path):
    # a fresh process, as a user runs it: MLflow configures its loggers when imported
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_LOGGING_LEVEL", "MLFLOW_TRACKING_URI")}
    env["PYTHONPATH"] = str(REPO)
    sets = [arg for o in [f"data.path={sim_dir}", *FAST] for arg in ("--set", o)]
    done = subprocess.run([sys.executable, "-m", "retention_ml.cli", "train",
                           str(REPO / "experiments" / "council_default.toml"), *sets],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    for noise in (" INFO mlflow", "Creating initial MLflow database tables", "Validating input example",
                  "Successfully registered model", "Created version"):
        assert noise not in done.stderr, done.stderr
    assert "registered version 1" in " ".join(done.stdout.split())


def test_mlflow_logging_level_set_by_the_user_is_kept(monkeypatch):
    from retention_ml import tracking

    monkeypatch.setattr(logging.getLogger("mlflow"), "level", logging.INFO)
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "INFO")
    tracking.quiet_library_logging()
    assert logging.getLogger("mlflow").level == logging.INFO
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL")
    tracking.quiet_library_logging()
    assert logging.getLogger("mlflow").level == logging.WARNING
    assert os.environ["MLFLOW_LOGGING_LEVEL"] == "WARNING"


def test_registry_prints_are_held_back_but_mlflow_warnings_still_show(monkeypatch, capsys):
    from mlflow.utils.logging_utils import eprint

    from retention_ml.tracking import _registry_prints_at_log_level

    logger = logging.getLogger("mlflow.tracking._model_registry.fluent")
    monkeypatch.setattr(logging.getLogger("mlflow"), "level", logging.WARNING)
    with _registry_prints_at_log_level():
        eprint("Successfully registered model 'x'.")
        logger.info("an info line")
        logger.warning("a real warning")
    err = capsys.readouterr().err
    assert "a real warning" in err and "Successfully registered" not in err and "an info line" not in err
    eprint("after the block")   # MLflow's stream is on again
    assert "after the block" in capsys.readouterr().err
    monkeypatch.setattr(logging.getLogger("mlflow"), "level", logging.INFO)   # MLFLOW_LOGGING_LEVEL=INFO
    with _registry_prints_at_log_level():
        eprint("Created version '2' of model 'x'.")
    assert "Created version '2'" in capsys.readouterr().err


def test_importing_the_package_leaves_the_callers_logging_alone():
    # a notebook or pipeline that imports the toolkit keeps MLflow's INFO lines: only the command line lowers them
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_LOGGING_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    code = ("import logging, os; import retention_ml.tracking, retention_ml.training; "
            "print(logging.getLogger('mlflow').getEffectiveLevel(), os.environ.get('MLFLOW_LOGGING_LEVEL'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(logging.INFO), "None"]
