"""Where a training run keeps what it logs, and the run tags other commands read: one name for each.

Training writes these artifacts, explanation logging and ``truth-check`` add to them, and the model card,
the promotion gate and the benchmarks read them. Every one of them takes the path from here, so a writer and
its readers cannot disagree by a typo: a card reading a misspelt path would silently show "not measured", and
the gate would refuse a model whose card was written.

Paths are inside the MLflow run (forward slashes, as MLflow names artifacts).

Example
-------
>>> from retention_ml import artifacts
>>> artifacts.METRICS_JSON
'evaluation/metrics.json'
>>> artifacts.file_name(artifacts.METRICS_JSON), artifacts.folder(artifacts.METRICS_JSON)
('metrics.json', 'evaluation')
"""

from __future__ import annotations

from posixpath import basename, dirname

__all__ = [
    "FEATURE_CATALOGUE", "CENSORING_REPORT", "DATA_READINGS", "DATA_READINGS_KEY",
    "EVALUATION_DIR", "METRICS_JSON", "FAIRNESS_AUDIT", "TEST_PREDICTIONS", "CALIBRATION_PLOT", "FEATURE_IMPORTANCE",
    "EXPLANATIONS_DIR", "GLOBAL_IMPORTANCE", "DRIVER_IMPORTANCE", "BEESWARM", "ALIGNMENT", "TRUTH",
    "CARD_DIR", "CARD", "CARD_HTML", "CARD_FAIRNESS",
    "CARD_TAG", "TRUTH_CHECK_TAG", "SIMULATED_TAG", "KIND_TAG", "EXPERIMENT_TAG", "DATA_FINGERPRINT_TAG",
    "GIT_COMMIT_TAG",
    "file_name", "folder",
]

# run root: what the run was trained from
FEATURE_CATALOGUE = "feature_catalogue.csv"
CENSORING_REPORT = "censoring_report.csv"
# what validation read other than as written (Windows-1252, headers, day-first dates, code labels, pounds and
# thousands, spreadsheet residue), by file: {} when nothing was; score_meta.json keeps the same under this key
DATA_READINGS = "data_readings.json"
DATA_READINGS_KEY = "data_readings"

# test-window evaluation (written by training)
EVALUATION_DIR = "evaluation"
METRICS_JSON = f"{EVALUATION_DIR}/metrics.json"
# the fairness audit's aggregates, what the card and the gate read (retention_ml.fairness.audit_record): no row
# about a person. Runs trained before it logged TEST_PREDICTIONS instead, one row per test snapshot with the
# person's protected characteristics; the card and the gate still read those, and the card asks to delete them.
FAIRNESS_AUDIT = f"{EVALUATION_DIR}/fairness_audit.json"
TEST_PREDICTIONS = f"{EVALUATION_DIR}/test_predictions.parquet"
CALIBRATION_PLOT = f"{EVALUATION_DIR}/calibration.png"
FEATURE_IMPORTANCE = f"{EVALUATION_DIR}/feature_importance.csv"

# explanations (explanation logging; truth.json also by truth-check on simulated data)
EXPLANATIONS_DIR = "explanations"
GLOBAL_IMPORTANCE = f"{EXPLANATIONS_DIR}/global_importance.csv"
DRIVER_IMPORTANCE = f"{EXPLANATIONS_DIR}/driver_importance.csv"
BEESWARM = f"{EXPLANATIONS_DIR}/beeswarm.png"
ALIGNMENT = f"{EXPLANATIONS_DIR}/alignment.json"
TRUTH = f"{EXPLANATIONS_DIR}/truth.json"

# the model card (written by `retention-ml card`, required by the promotion gate)
CARD_DIR = "model_card"
CARD = f"{CARD_DIR}/model_card.md"
CARD_HTML = f"{CARD_DIR}/model_card.html"
CARD_FAIRNESS = f"{CARD_DIR}/fairness.csv"

# run tags read by a command other than the one that sets them
CARD_TAG = "retention_ml.card"
TRUTH_CHECK_TAG = "retention_ml.truth_check"
SIMULATED_TAG = "retention_ml.simulated"
KIND_TAG = "retention_ml.kind"
EXPERIMENT_TAG = "retention_ml.experiment"
DATA_FINGERPRINT_TAG = "retention_ml.data_fingerprint"
GIT_COMMIT_TAG = "retention_ml.git_commit"   # the code that trained (``<sha>-dirty`` with local changes); `runs` shows it


def file_name(path: str) -> str:
    """The file name of a run artifact path (``"evaluation/metrics.json"`` -> ``"metrics.json"``)."""
    return basename(path)


def folder(path: str) -> str | None:
    """The run folder an artifact is logged into (``None`` for the run root), as ``log_artifact_file`` takes it."""
    return dirname(path) or None
