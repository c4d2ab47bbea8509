"""The model card as evaluators read it before a model is used: statements the run's numbers support, and
nothing the numbers contradict left unsaid (risks too high on average while ECE passes; a baseline "beaten"
within its interval). Numbers are recomputed here from the predictions and metrics the tests log."""

from __future__ import annotations

import re

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
    logistic["ece"] = fake._ece(0.06)
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
    # what the model does add, measured: its ECE is within chance where the baseline's is beyond it
    assert ("within chance of right (expected calibration error 0.015 (chance 0.030)) and the logistic regression's "
            "are off beyond chance (0.060 (chance 0.030))") in note
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


@pytest.mark.parametrize(("gap", "se", "compared"), [(0.188, 0.083, 454), (0.188, 0.03, 454), (0.15, 0.05, 3),
                                                     (0.08, 0.01, 10)])
def test_a_worst_group_is_read_as_the_gate_reads_it_never_contradicting_a_pass(gap, se, compared):
    import pandas as pd

    from retention_ml.promotion import _evidence_check, chance_z
    from retention_ml.reports.model_card import _against_gate

    text = _against_gate(gap, se, 0.10, compared, 0.05)
    # the gate on the same group, among `compared` groups the others of which are perfect
    groups = pd.DataFrame({"factor": "area", "group": [f"G{i}" for i in range(compared)],
                           "gap": [gap] + [0.0] * (compared - 1), "se": se, "withheld": False})
    failed = not _evidence_check("group_calibration", groups, "gap", "se", 0.10, 0.05, "gap", "").passed
    assert ("the gate fails the model on it" in text) is failed
    if gap <= 0.10:
        assert text == ", within the gate threshold"
    elif not failed:
        assert "so the gate does not fail the model on it" in text
        assert f"the gap is {gap / se:.1f} standard errors; with {compared} groups compared, beyond chance starts " \
               f"at {chance_z(0.05, compared):.1f}" in text


def test_protected_characteristics_are_read_one_by_one_and_many_small_groups_are_counted_not_listed():
    from retention_ml.fairness import audit_fairness, flag_top_share

    preds = fake.fake_predictions()
    preds["area"] = [f"A{i % 40:02d}" for i in range(len(preds) // 2)] * 2  # 40 areas of 15 people: too few each
    notes = _considerations(preds, fake.fake_metrics(preds))
    note = next(n for n in notes if n.startswith("By protected characteristic"))
    flagged = flag_top_share(preds["risk"].to_numpy())
    described = 0
    # each share carries its chance reading (tests/reports/test_card_share_chance.py); the figures are read without it
    marks = len(re.findall(r", (?:within|beyond) chance", note))
    note = re.sub(r", (?:within|beyond) chance", "", note)
    for factor, words in (("sex", "sex"), ("age_band", "age band"), ("ethnicity_group", "ethnicity group"),
                          ("disability", "disability")):
        shown = audit_fairness(preds).shown
        groups = shown.loc[shown["factor"].eq(factor), "group"]
        if len(groups) < 2:  # a withheld group (sex: the complement of 8 "not known") is never described
            assert f"{words}: " not in note
            continue
        share = preds.assign(f=flagged).groupby(factor)["f"].mean()[groups]
        left = preds.groupby(factor)["label"].mean()
        hi, lo = share.idxmax(), share.idxmin()
        described += 1
        assert (f"{words}: {hi.replace('_', '-')} {100 * share[hi]:.1f}% ({100 * left[hi]:.1f}% left), "
                f"{lo.replace('_', '-')} {100 * share[lo]:.1f}% ({100 * left[lo]:.1f}% left)") in note
    assert "not known" not in note  # sex: 8 people, too few: never a number
    assert described >= 3 and note.count("% left)") == 2 * described and marks == 4 * described
    # the all-factor "largest flagged gap" is not said a second time for a protected characteristic
    assert not [n for n in notes if n.startswith(("Who gets flagged differs most by sex", "Who gets flagged differs "
                                                  "most by age", "Who gets flagged differs most by ethnicity",
                                                  "Who gets flagged differs most by disability"))]
    few = next(n for n in notes if n.startswith("Too few people to assess"))
    assert "area: 40 groups (named in fairness.csv)" in few and "A00" not in few


@pytest.fixture(scope="module")
def approval_cards(tmp_path_factory, scratch_store):
    """The good fake run's card before and after `promote`, and a failing run's card."""
    from retention_ml.promotion import promote
    from retention_ml.reports.model_card import build_card, render_html, render_markdown, write_card

    root = tmp_path_factory.mktemp("approval")
    with scratch_store(root):
        good, loses = fake.make_fake_run(kind="good"), fake.make_fake_run(kind="loses_to_logistic")
        before = build_card(good)
        write_card(good, root / "card")
        assert promote(good).promoted
        after = build_card(good)
        from retention_ml.promotion import PROMOTED_BY_TAG

        version = tracking.client().get_model_version(tracking.DEFAULT_MODEL_NAME, "1")
        yield {"before": render_markdown(before), "before_html": render_html(before),
               "after": render_markdown(after), "loses": render_markdown(build_card(loses)),
               "promoted_by": version.tags.get(PROMOTED_BY_TAG)}


def test_the_card_shows_its_approval_as_the_registry_holds_it_and_a_sign_off_for_people(approval_cards):
    before = _section(approval_cards["before"], "Approval")
    assert "**Promotion gate** when this card was written (without its own check that a card exists): passes every check" in before
    assert "**Registry** when this card was written: **NOT APPROVED**. This model (run" in before
    assert "no model has passed the promotion gate yet" in before
    assert "| Governance board | | | |" in before and "| Data protection officer (DPIA reference) | | | |" in before
    after = _section(approval_cards["after"], "Approval")
    assert "**Registry** when this card was written: **APPROVED**. Version 1 of retention-ml-turnover is the registry's champion now" in after
    assert "Champion since 20" in after and "under the shipped promotion thresholds" in after
    import getpass

    assert f"(promoted by {getpass.getuser()})" in after  # who approved, as promote recorded it
    assert approval_cards["promoted_by"] == getpass.getuser()
    loses = _section(approval_cards["loses"], "Approval")
    assert "fails: beats both baselines" in loses and "**NOT APPROVED**" in loses
    assert 'id="approval"' in approval_cards["before_html"] and 'id="sign-off"' in approval_cards["before_html"]


def test_a_worker_can_read_how_to_see_correct_and_challenge_their_entry_with_options_that_exist(approval_cards):
    import re

    import typer

    from retention_ml.cli import app

    entry = _section(approval_cards["before"], "A worker's own entry: seeing and challenging it")
    for words in ("subject access request, UK GDPR Article 15", "right to rectification, Article 16",
                  "object to the processing (Article 21)", "Information Commissioner's Office"):
        assert words in entry
    command = re.search(r"`(retention-ml explain [^`]+)`", entry).group(1)
    explain = typer.main.get_command(app).commands["explain"]
    options = {o for p in explain.params for o in p.opts}
    named = re.findall(r"(--[a-z-]+)", command)
    assert {"--worker", "--inputs", "--lists-log"} <= set(named) and set(named) <= options


def test_a_protected_characteristics_flagging_gap_is_said_once():
    preds = fake.fake_predictions()
    young = preds["age_band"].eq("25_29")
    preds.loc[young, "risk"] = (preds.loc[young, "risk"] * 3).clip(upper=0.99)  # the young flagged far more often
    notes = _considerations(preds, fake.fake_metrics(preds))
    assert "age band: 25-29 " in next(n for n in notes if n.startswith("By protected characteristic"))
    assert not [n for n in notes if n.startswith("Who gets flagged differs most")]
    # an other factor's largest gap is still said on its own
    preds = fake.fake_predictions()
    assert [n for n in _considerations(preds, fake.fake_metrics(preds))
            if n.startswith("Who gets flagged differs most by employment type")]


def test_the_censoring_report_says_which_window_each_date_fed_and_that_gap_dates_fed_none(tmp_path, scratch_store):
    import pandas as pd

    from retention_ml.reports.model_card import GAP_DATE, build_card, render_markdown

    with scratch_store(tmp_path):
        run = fake.make_fake_run(kind="good")
        windows = tracking.load_json_artifact(run, "evaluation/metrics.json")["windows"]
        # train 2021-01-01..2022-06-01, valid 2022-07-01..2022-12-01, test 2024-01-01..2024-02-01
        dates = {"2021-01-01": "training", "2022-06-01": "training", "2022-07-01": "validation",
                 "2023-06-01": GAP_DATE, "2024-02-01": "test"}
        assert windows["valid"] == ["2022-07-01", "2022-12-01"]
        report = tmp_path / "censoring_report.csv"
        pd.DataFrame({"as_of": list(dates), "reason": "labelled", "n": 600, "horizon_months": 12}).to_csv(report, index=False)
        tracking.log_artifact_file(run, report)
        md = render_markdown(build_card(run))
    table = md.split("| Snapshot date | Outcome | Snapshots | Horizon (months) | Used in window |", 1)[1]
    for date, window in dates.items():
        assert f"| {date} | labelled | 600 | 12 | {window} |" in table
