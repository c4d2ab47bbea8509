"""The model card as a governance board reads it: a first section in plain words (verdict, what the model does,
how good in natural frequencies, who is affected, what it must not be used for), windows counted in people who
left as well as leaving snapshots. Numbers are recomputed here from the run's logged predictions."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

from retention_ml import tracking

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_board_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _relog_metrics(run_id: str, **changes) -> dict:
    """Re-log the run's metrics.json with ``changes`` applied (top-level keys), as a newer training writes it."""
    metrics = tracking.load_json_artifact(run_id, "evaluation/metrics.json") | changes
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.json"
        path.write_text(json.dumps(metrics), encoding="utf-8")
        tracking.log_artifact_file(run_id, path, "evaluation")
    return metrics


@pytest.fixture(scope="module")
def runs(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import build_card, render_markdown

    root = tmp_path_factory.mktemp("board")
    with scratch_store(root):
        good = fake.make_fake_run(kind="good")
        loses = fake.make_fake_run(kind="loses_to_logistic")
        counts = tracking.load_json_artifact(good, "evaluation/metrics.json")["counts"]
        preds = tracking.load_table_artifact(good, "evaluation/test_predictions.parquet")
        leavers = {"train": 610, "valid": 150,
                   "test": int(preds.loc[preds["label"] == 1, "worker_id"].nunique())}
        _relog_metrics(good, counts={w: c | {"leavers": leavers[w]} for w, c in counts.items()})
        yield {"good": good, "preds": preds, "leavers": leavers,
               "good_md": render_markdown(build_card(good)), "loses_md": render_markdown(build_card(loses))}


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_windows_count_people_who_left_apart_from_leaving_snapshots(runs):
    md = runs["good_md"]
    counts = tracking.load_json_artifact(runs["good"], "evaluation/metrics.json")["counts"]
    assert "| Window | Snapshot dates | Snapshots | Snapshots followed by leaving | People | People who left | Base rate |" in md
    train, test = counts["train"], counts["test"]
    assert f"| Training | 2021-01-01 to 2022-06-01 | {train['n']} | {train['positives']} | {train['workers']} | 610 |" in md
    assert test["positives"] > runs["leavers"]["test"]  # two snapshots per person: the two counts differ
    assert f"| {test['positives']} | {test['workers']} | {runs['leavers']['test']} |" in md
    # a run logged before people who left were counted says so instead of inventing a number
    older = _section(runs["loses_md"], "Evaluation and training data")
    assert "| not recorded |" in older
