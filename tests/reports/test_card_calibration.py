"""How the card reads ECE: beside its chance level, never with a bootstrap range, and never "poorly calibrated" on
a gap that risks exactly right would show on as few people (calibration review S15)."""

import re

from retention_ml.reports.model_card import _ece_note, _metric_cell

WITHIN = {"value": 0.071, "chance": 0.07, "chance_high": 0.104, "p_value": 0.52, "undefined": 0}
BEYOND = {"value": 0.071, "chance": 0.02, "chance_high": 0.028, "p_value": 0.005, "undefined": 0}


def test_ece_is_shown_with_its_chance_level_and_an_older_run_without_its_interval():
    assert _metric_cell("ece", WITHIN) == "0.071 (chance 0.104)"
    # logged before chance levels: the percentile interval sat above the truth and could leave out its value
    assert _metric_cell("ece", {"value": 0.0343, "low": 0.0404, "high": 0.0768}) == "0.034"
    assert _metric_cell("brier", {"value": 0.098, "low": 0.076, "high": 0.122}) == "0.098 (0.076 to 0.122)"


def test_an_ece_over_the_gate_within_chance_says_the_window_cannot_tell():
    note = _ece_note(WITHIN, 0.05)
    assert note.startswith("Calibration cannot be judged on this test window: expected calibration error 0.071 "
                           "exceeds the gate's 0.050, but risks exactly right would reach 0.104")
    assert "poorly calibrated" not in note and "the gate fails an ECE over its bar only beyond chance, so not this one" in note


def test_an_ece_over_the_gate_beyond_chance_is_poor_calibration():
    note = _ece_note(BEYOND, 0.05)
    assert note.startswith("Risks are poorly calibrated overall: expected calibration error 0.071 exceeds the gate's "
                           "0.050, beyond chance (risks exactly right reach 0.028 95 times in 100)")
    assert _ece_note({**BEYOND, "value": 0.04}, 0.05) is None
    # a run logged before chance levels: the old statement, no verdict on chance
    old = _ece_note({"value": 0.071, "low": 0.06, "high": 0.09}, 0.05)
    assert old.startswith("Risks are poorly calibrated overall") and "chance" not in old


def _team_checks(inside: int, teams: int, low: float) -> dict:
    day = {"as_of": "2023-01-01", "level": 0.8, "teams": teams, "withheld": 9, "inside": inside,
           "coverage": inside / teams, "coverage_low": low, "coverage_high": 1.0, "implied_coverage": 0.96,
           "below": 0, "above": 0, "implied_below": 0.0, "implied_above": 2.0, "mean_expected": 0.71,
           "mean_observed": 0.39, "over": {"expected": 1.3, "observed": 0}, "under": {"expected": 0.4, "observed": 1}}
    return {"level": 0.8, "min_people": 5, "dates": [day]}


def test_team_ranges_that_held_on_few_teams_say_how_few_is_within_chance():
    """The demo's card read "for about 100 in every 100 teams here" on 38 teams, all inside, with a "95% interval
    100% to 100%": a certainty 38 teams cannot give. It now says how low the share may be (Wilson, 38 of 38: 91%)."""
    from retention_ml.reports.model_card import team_check_verdict

    verdict = team_check_verdict(_team_checks(38, 38, 0.9082), 12)
    assert ("for about 100 in every 100 teams here (the fewest at any test date; on 38 teams, as few as 91 in every "
            "100 is within chance)") in verdict
    # risks too high per team: the reader is told what the considerations' silence means, not sent to look
    assert "Whether that is beyond chance is under Ethical considerations" not in verdict
    assert "when it does not, the gap is within chance" in verdict


def test_risks_too_high_on_average_are_judged_per_person_not_per_snapshot():
    """250 people in post at 4 test dates, every risk 20%: 1,000 rows expect 200 leaving rows and 165 were. Counted
    as 1,000 independent rows the gap is 2.8 standard errors ("beyond chance"); a person's 4 rows move together
    (one who leaves is labelled leaving at each date before), so it is 1.4: within chance, and no caveat."""
    import pandas as pd

    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _overall_level_note

    left = [1.0] * 41 + [0.0] * 209    # 41 people leave: 164 rows, plus one more below
    rows = pd.DataFrame({"person": [f"P{i}" for i in range(250) for _ in range(4)], "risk": 0.2,
                         "label": [y for y in left for _ in range(4)]})
    rows.loc[rows.index[-1], "label"] = 1.0
    metrics = {"counts": {"test": {"n": 1000, "positives": 165}}}
    # the audit's whole-window figures, as training logs them
    assert _overall_level_note(metrics, audit_fairness(rows, factors=[]), 0.05) is None
    one_each = rows.assign(person=[f"P{i}" for i in range(1000)])
    assert _overall_level_note(metrics, audit_fairness(one_each, factors=[]), 0.05).startswith(
        "Risks are too high on average")


def test_the_brief_answers_whether_risks_read_as_chances():
    """An evaluator's first question about the percentages had no answer in the card's In brief."""
    from retention_ml.reports.model_card import _chances_brief

    ov = {"rows": 368, "people": 368, "positives": 59, "mean_risk": 0.1685}
    within = _chances_brief({"value": 0.0343, "chance": 0.032, "chance_high": 0.0493, "p_value": 0.39}, ov, "people")
    assert within.startswith("**Risks as chances:** over the test window the risks added up to 62 leavers and 59 left.")
    assert "about 3.4 pp on average" in within and "within what chance gives on 368 people" in within
    # the gap and its chance level side by side in one unit, pp (a reader compared "3.4 pp" with "0.049")
    assert "(up to 4.9 pp 95 times in 100)" in within
    beyond = _chances_brief({"value": 0.013, "chance": 0.0039, "chance_high": 0.0056, "p_value": 0.005}, ov, "people")
    assert "about 1.3 pp on average" in beyond
    assert "more than chance gives on 368 people (exactly right risks reach 0.6 pp 95 times in 100)" in beyond
    assert not re.search(r"\b0\.\d{3}\b", within + beyond)  # no ECE left as a bare decimal beside the pp
    assert "chance level was" in _chances_brief({"value": 0.04, "low": 0.05, "high": 0.08}, ov, "people")
