"""The card's "Team figures on the lists, checked on the test window": recomputed from the run's logged rows,
no team named, teams under 5 never shown, said as not checked for a run whose rows hold no team key, and what
coverage below the level means for a manager in words."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from retention_ml import artifacts, tracking

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_teamcal_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _section(md: str) -> str:
    from retention_ml.reports.model_card import TEAM_CHECK_TITLE

    return md.split(f"## {TEAM_CHECK_TITLE}")[1].split("\n## ")[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, scratch_store, request):
    """A fake run whose logged rows carry team ids, and one whose rows hold no team key (as runs logged before)."""
    root = tmp_path_factory.mktemp("teamcal")
    with scratch_store(root):
        with_teams = fake.make_fake_run(kind="good")
        original = fake.fake_predictions
        fake.fake_predictions = lambda **kw: original(**kw).drop(columns="team_id")
        try:
            without = fake.make_fake_run(kind="good", experiment="older")
            # risks a third of the truth: most teams have more leavers than their range
            fake.fake_predictions = lambda **kw: original(**kw).assign(risk=lambda f: f["risk"] / 3)
            too_low = fake.make_fake_run(kind="good", experiment="too-low")
        finally:
            fake.fake_predictions = original
        yield {"teams": with_teams, "older": without, "too_low": too_low}


def test_the_section_is_recomputed_from_the_runs_rows(runs):
    from retention_ml.evaluate import team_interval_checks
    from retention_ml.reports.model_card import build_card, render_html, render_markdown

    card = build_card(runs["teams"])
    rows = tracking.load_table_artifact(runs["teams"], artifacts.TEST_PREDICTIONS)
    checks = card.context["team_checks"]
    assert checks["level"] == 0.8 and checks["min_people"] == 5
    assert checks["dates"] == team_interval_checks(rows, level=0.8, min_people=5)
    md = render_markdown(card)
    section = _section(md)
    table = [line for line in section.splitlines() if line.startswith("| 20")]
    assert [line.split("|")[1].strip() for line in table] == ["2024-01-01", "2024-02-01"]
    for line, day in zip(table, checks["dates"]):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == str(day["teams"]) and day["teams"] > 0
        assert cells[2].startswith(f"{day['inside']} ({round(100 * day['coverage'])}%")
        assert cells[2].endswith(f"the risks imply {round(100 * day['implied_coverage'])}%)")
        assert cells[3] == f"{day['below']} (the risks imply {day['implied_below']:.0f})"
        assert cells[4] == f"{day['above']} (the risks imply {day['implied_above']:.0f})"
    # no team is named: neither an id from the data nor a pseudonym
    assert not re.search(r"\bT\d+\b", section) and not re.search(r"\bG\d+\b", section)
    assert "Team figures on the lists" in render_html(card)


def test_an_older_run_without_team_key_says_why_not(runs):
    from retention_ml.reports.model_card import NO_TEAM_KEY, build_card, render_markdown

    rows = tracking.load_table_artifact(runs["older"], artifacts.TEST_PREDICTIONS)
    assert "team_id" not in rows.columns and "team" not in rows.columns
    section = _section(render_markdown(build_card(runs["older"])))
    assert section.strip() == NO_TEAM_KEY
    assert "|" not in section


def _checks(coverage: float, low: float, high: float, implied: float = 0.85) -> dict:
    day = {"as_of": "2024-01-01", "level": 0.8, "teams": 40, "withheld": 3, "inside": round(40 * coverage),
           "coverage": coverage, "coverage_low": low, "coverage_high": high, "implied_coverage": implied,
           "below": 2, "above": 10, "implied_below": 2.5, "implied_above": 3.5,
           "mean_expected": 1.2, "mean_observed": 1.5, "over": {"expected": 3.0, "observed": 0},
           "under": {"expected": 1.0, "observed": 6}}
    return {"level": 0.8, "min_people": 5, "dates": [day]}


def test_coverage_below_the_level_is_said_for_a_manager():
    from retention_ml.reports.model_card import team_check_verdict

    narrow = team_check_verdict(_checks(0.6, 0.45, 0.75), 12)
    assert "too narrow" in narrow and "about 40 in every 100 teams rather than about 20 in every 100" in narrow
    assert "more leavers than the range" in narrow
    chance = team_check_verdict(_checks(0.75, 0.6, 0.88), 12)
    assert "within what chance gives" in chance and "too narrow" in chance   # "not shown to be too narrow"
    held = team_check_verdict(_checks(0.85, 0.72, 0.95), 12)
    assert "can read the range" in held and "too narrow" not in held and "clusters" not in held
    assert "for about 85 in every 100 teams here" in held
    # above 80% but below what the risks imply beyond chance: said, with the counts
    clustered = team_check_verdict(_checks(0.85, 0.83, 0.87, implied=0.93), 12)
    assert "can read the range" in clustered and "(93% at 2024-01-01)" in clustered
    assert "10 teams had more leavers than their range where the risks imply 4" in clustered


def test_a_run_with_only_small_teams_says_so():
    from retention_ml.reports.model_card import team_check_verdict

    checks = {"level": 0.8, "min_people": 5, "dates": [{"as_of": "2024-01-01", "level": 0.8, "teams": 0, "withheld": 4}]}
    assert team_check_verdict(checks, 12).startswith("No team had 5 or more people")


def test_ranges_too_narrow_on_a_run_are_a_caution_and_said_for_a_manager(runs):
    from retention_ml.reports.model_card import TEAM_CHECK_TITLE, build_card, render_markdown

    card = build_card(runs["too_low"])
    days = card.context["team_checks"]["dates"]
    assert all(d["coverage_high"] < 0.8 and d["above"] > d["below"] for d in days)
    md = render_markdown(card)
    assert "**The team ranges on the lists are too narrow.**" in _section(md)
    assert "most often with more leavers than the range" in _section(md)
    assert any(TEAM_CHECK_TITLE in note and "too narrow" in note for note in card.context["considerations"])
    # the well-calibrated run has no such caution
    assert not any(TEAM_CHECK_TITLE in note for note in build_card(runs["teams"]).context["considerations"])


def test_risks_too_high_are_pointed_out_even_when_coverage_holds():
    from retention_ml.reports.model_card import team_check_verdict

    checks = _checks(0.97, 0.93, 1.0)
    checks["dates"][0].update(mean_expected=0.87, mean_observed=0.38)
    verdict = team_check_verdict(checks, 12)
    assert "can read the range" in verdict
    assert "expected 0.87 leavers per team on average and 0.38 left (for every 100 expected, about 44 left)" in verdict
    assert "Coverage hardly shows" not in team_check_verdict(_checks(0.97, 0.93, 1.0), 12)   # 1.2 expected, 1.5 left
