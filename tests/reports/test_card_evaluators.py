"""The model card as evaluators read it before a model is used: statements the run's numbers support, and
nothing the numbers contradict left unsaid (risks too high on average while ECE passes; a baseline "beaten"
within its interval). Numbers are recomputed here from the predictions and metrics the tests log."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

from retention_ml import tracking

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_evaluator_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _considerations(predictions, metrics):
    from retention_ml.fairness import audit_fairness
    from retention_ml.promotion import load_thresholds
    from retention_ml.reports.model_card import _considerations as considerations

    return considerations(metrics, audit_fairness(predictions), None, None, load_thresholds(), simulated=True)


def test_risks_too_high_on_average_are_said_with_the_runs_numbers_and_the_drift_between_windows():
    preds = fake.fake_predictions()
    right = _considerations(preds, fake.fake_metrics(preds))
    assert not [n for n in right if "on average, beyond chance" in n]  # the true probabilities: within chance

    high = preds.assign(risk=(preds["risk"] * 1.3).clip(upper=0.99))
    metrics = fake.fake_metrics(high)
    notes = [n for n in _considerations(high, metrics) if "on average, beyond chance" in n]
    assert len(notes) == 1
    note = notes[0]
    expected, observed = high["risk"].sum(), int(high["label"].sum())
    assert note.startswith("Risks are too high on average")
    assert f"expected {expected:,.0f} leavers and {observed:,} left" in note
    assert f"observed / predicted {observed / expected:.2f}" in note
    assert f"for every 100 leavers it expected, about {round(100 * observed / expected)} left" in note
    c = metrics["counts"]
    rates = [f"{100 * c[w]['positives'] / c[w]['n']:.1f}% in the {name} window"
             for w, name in (("train", "training"), ("valid", "validation"), ("test", "test"))]
    assert ", ".join(rates) in note

    low = preds.assign(risk=preds["risk"] * 0.7)
    note = next(n for n in _considerations(low, fake.fake_metrics(low)) if "on average, beyond chance" in n)
    assert note.startswith("Risks are too low on average")


def _narrow(metrics: dict) -> dict:
    """The logistic baseline a hair under the model on both ranking metrics: still "beaten", intervals overlapping."""
    mine, logistic = metrics["models"]["lightgbm"], metrics["models"]["logistic"]
    for key in ("roc_auc", "average_precision"):
        logistic[key] = fake._interval(mine[key]["value"] - 0.002)
    logistic["ece"] = fake._interval(0.06)
    return metrics


def test_a_baseline_beaten_only_within_the_intervals_is_said_so_not_just_beaten():
    from retention_ml.promotion import _baseline_check

    preds = fake.fake_predictions()
    clear = fake.fake_metrics(preds)
    assert not [n for n in _considerations(preds, clear) if "only narrowly" in n]
    assert "cannot tell them apart" not in _baseline_check(clear).detail

    metrics = _narrow(fake.fake_metrics(preds))
    note = next(n for n in _considerations(preds, metrics) if "only narrowly" in n)
    mine, logistic = metrics["models"]["lightgbm"], metrics["models"]["logistic"]
    assert note.startswith("The model beats the logistic regression baseline only narrowly")
    assert (f"ROC-AUC {mine['roc_auc']['value']:.3f} ({mine['roc_auc']['low']:.3f} to {mine['roc_auc']['high']:.3f}) "
            f"against {logistic['roc_auc']['value']:.3f}") in note
    assert "cannot tell the two apart" in note
    # what the model does add, measured: its calibration interval lies below the baseline's
    assert "better calibrated (expected calibration error 0.015" in note
    check = _baseline_check(metrics)
    assert check.passed  # the gate's rule is unchanged: only its reading is added
    assert "logistic: beaten" in check.detail and "95% intervals overlap on both" in check.detail
    assert "team_base_rate: beaten (" in check.detail and check.detail.count("intervals overlap") == 1


@pytest.fixture(scope="module")
def narrow_card(tmp_path_factory, scratch_store):
    """A fake run whose logistic baseline is a hair under the model, rendered as the card."""
    from retention_ml.reports.model_card import build_card, render_markdown

    with scratch_store(tmp_path_factory.mktemp("evaluators")):
        run = fake.make_fake_run(kind="good")
        metrics = _narrow(tracking.load_json_artifact(run, "evaluation/metrics.json"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "metrics.json"
            path.write_text(json.dumps(metrics), encoding="utf-8")
            tracking.log_artifact_file(run, path, "evaluation")
        yield {"md": render_markdown(build_card(run)), "metrics": metrics}


def _section(md: str, heading: str) -> str:
    return " ".join(md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0].split())


def test_the_summary_compares_with_both_simpler_rules_and_the_metrics_line_qualifies_a_narrow_win(narrow_card):
    brief = _section(narrow_card["md"], "In brief")
    logistic = narrow_card["metrics"]["models"]["logistic"]["precision_top10"]["value"]
    team = narrow_card["metrics"]["models"]["team_base_rate"]["precision_top10"]["value"]
    assert (f"against about {round(100 * logistic)} in every 100 for a plain logistic regression on the same inputs "
            f"and about {round(100 * team)} in every 100 for the simpler rule") in brief
    metrics = _section(narrow_card["md"], "Factors and metrics")
    assert ("Baseline: logistic regression: **yes** (only on the point estimates: the 95% intervals overlap"
            in metrics)
    assert "Baseline: team base rate: **yes**." in metrics
    assert "only narrowly" in _section(narrow_card["md"], "Ethical considerations")
