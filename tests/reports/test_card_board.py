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


def test_the_card_opens_with_a_plain_summary_whose_numbers_are_the_runs(runs):
    md = runs["good_md"]
    assert md.index("## In brief") < md.index("## Model details")
    brief = " ".join(_section(md, "In brief").split())
    preds = runs["preds"]
    n = len(preds)
    flagged = preds["risk"].rank(method="first", ascending=False) <= -(-n // 10)
    hits, left = int(preds.loc[flagged, "label"].sum()), int(preds["label"].sum())
    assert f"{n} snapshots (one person at one date)" in brief  # two test dates per person in the fake run
    assert f"{left} of them were followed by leaving within 12 months, about {round(100 * left / n)} in every 100" in brief
    assert (f"Of the {int(flagged.sum())} the model put in its top 10% (the top of a list), {hits} left: "
            f"about {round(100 * hits / flagged.sum())} in every 100") in brief
    assert f"The other {left - hits} who left were further down the list" in brief
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(preds["label"], preds["risk"])
    assert f"the higher risk {round(100 * auc)} times in 100 (50 would be a coin toss)" in brief
    assert f"{preds['worker_id'].nunique()} people in the test window" in brief
    assert "never decides" in brief and "must not be used" in brief
    # the good fake run passes every check the card can judge, but nobody has promoted it
    assert "passes every check of the promotion gate" in brief and "NOT APPROVED" in brief


def test_a_refused_model_says_so_first_with_the_failed_check_in_words(runs):
    brief = " ".join(_section(runs["loses_md"], "In brief").split())
    assert brief.startswith("- **Verdict: the model does NOT pass the promotion gate (failed: beats both baselines)")
    assert "must not be used for managers' lists" in brief


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
