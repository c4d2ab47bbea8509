"""A protected characteristic whose groups the audit could not compare (every group, or all but one, withheld or
under the fairness floor) is said plainly, in the summary and among the ethical considerations: the demo's card
showed only "withheld" and "too few" rows for sex and said nothing else, while its summary read "used only to
check fairness" as if that check had been made."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_uncompared_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _considerations(predictions):
    from retention_ml.fairness import audit_fairness
    from retention_ml.promotion import load_thresholds
    from retention_ml.reports.model_card import _considerations as considerations

    return considerations(fake.fake_metrics(predictions), audit_fairness(predictions), None, None,
                          load_thresholds(), simulated=True)


def _shown_groups(predictions, factor: str) -> int:
    from retention_ml.fairness import audit_fairness

    shown = audit_fairness(predictions).shown
    return int(shown["factor"].eq(factor).sum())


def test_a_protected_characteristic_with_fewer_than_two_groups_shown_is_named_as_unchecked():
    preds = fake.fake_predictions()
    # sex: "not known" has 8 people (too few), so its complement, the smaller of female and male, is withheld
    assert _shown_groups(preds, "sex") == 1 and _shown_groups(preds, "disability") == 2
    note = next(n for n in _considerations(preds) if n.startswith("Nothing in this card shows"))
    assert note.startswith("Nothing in this card shows how the model treats people by sex: no two groups could be "
                           "compared")
    assert "disability" not in note and "area" not in note  # area is no protected characteristic
    assert note.endswith("fair by it.")

    # disability "yes" cut to 12 people: too few, and "no" is then withheld as its complement
    few = preds.copy()
    yes = few["worker_id"].isin(few["worker_id"].drop_duplicates().iloc[:12])
    few["disability"] = few["disability"].where(~yes, "yes").where(yes, "no")
    assert _shown_groups(few, "disability") == 0
    note = next(n for n in _considerations(few) if n.startswith("Nothing in this card shows"))
    assert "people by sex or disability:" in note and note.endswith("fair by them.")


def test_every_group_compared_says_nothing():
    preds = fake.fake_predictions()
    preds["sex"] = preds["sex"].replace("not_known", "female")
    assert _shown_groups(preds, "sex") == 2
    assert not [n for n in _considerations(preds) if n.startswith("Nothing in this card shows")]


def test_the_summary_says_it_where_the_protected_characteristics_are_first_mentioned(tmp_path, scratch_store):
    from retention_ml.reports.model_card import build_card, render_html, render_markdown

    with scratch_store(tmp_path):
        card = build_card(fake.make_fake_run(kind="good"))
        md, html = render_markdown(card), render_html(card)
    brief = " ".join(md.split("## In brief\n", 1)[1].split("\n## ", 1)[0].split())
    who = brief.split("**Who is affected:**", 1)[1].split("**It must not be used**", 1)[0]
    assert "**Nothing in this card shows how the model treats people by sex: no two groups could be compared" in who
    assert "Nothing in this card shows how the model treats people by sex" in html
