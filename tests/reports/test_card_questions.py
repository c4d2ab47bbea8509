"""What the group tables cannot show, and the questions the readers should put before use: the card explained each
fairness figure but never what the figures as a whole leave open (groups by two characteristics at once, a label
that may carry unfair treatment, what managers do with a list), nor what a board, a data protection officer and a
union should ask that no figure answers. The run's own open points lead the questions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_questions_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _section(md: str, heading: str) -> str:
    return md.split(f"{heading}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


@pytest.fixture(scope="module")
def card(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import build_card, render_html, render_markdown

    with scratch_store(tmp_path_factory.mktemp("questions")):
        built = build_card(fake.make_fake_run(kind="good"))
        yield {"md": render_markdown(built), "html": render_html(built)}


def test_the_tables_say_what_they_cannot_show_with_the_runs_factors_and_window(card):
    from retention_ml.fairness import FACTOR_LABELS, audit_fairness

    text = _section(card["md"], "### What these tables cannot show")
    factors = list(dict.fromkeys(audit_fairness(fake.fake_predictions()).table["factor"]))
    assert ("Groups are compared one characteristic at a time ("
            + ", ".join(FACTOR_LABELS[f].lower() for f in factors) + ")") in text
    metrics = fake.fake_metrics(fake.fake_predictions())
    dates = metrics["windows"]["test"]
    assert f"the test window ({dates[0]} to {dates[-1]}) only" in text
    assert "a fair calibration is not a fair workplace" in text
    assert "whether the conversations offered" in text
    assert 'A "not known" group mixes people' in text  # the fake run's sex has a not_known group


def test_the_questions_lead_with_the_runs_own_open_points(card):
    from retention_ml.fairness import audit_fairness

    table = audit_fairness(fake.fake_predictions()).table
    open_groups = int((table["withheld"].astype(bool) | table["status"].ne("ok")).sum())
    assert open_groups > 0
    text = _section(card["md"], "## Questions to ask before use")
    items = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert items[0].startswith(f"{open_groups} of the {len(table)} groups audited are withheld or too few to assess")
    assert items[1].startswith("No two groups by sex could be compared")
    assert any("DPIA" in i for i in items) and any("object to their entry" in i for i in items)
    assert 'href="#questions"' in card["html"] and "What these tables cannot show" in card["html"]
