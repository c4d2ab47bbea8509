"""The card's note on withheld groups says the rule the audit applies: a group in which 1 to 4 people left (or
stayed) is withheld, one in which nobody left is shown. The note said "fewer than 5 people in the group left",
while the national card's area table showed groups with 0 leavers (C035-South: 30 people, 0 left), so a data
protection officer read the table as breaking the card's own rule."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_withheld_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def test_the_withheld_note_states_the_rule_the_audit_applies():
    from retention_ml.fairness import audit_fairness
    from retention_ml.promotion import load_thresholds
    from retention_ml.reports.model_card import _considerations

    preds = fake.fake_predictions()
    people = preds["worker_id"].drop_duplicates()
    nobody, two = people.iloc[:30], people.iloc[30:60]
    preds.loc[preds["worker_id"].isin(nobody), ["area", "label"]] = ["Nobody", 0.0]
    preds.loc[preds["worker_id"].isin(two), ["area", "label"]] = ["Two", 0.0]
    preds.loc[preds["worker_id"].isin(two.iloc[:2]), "label"] = 1.0  # both rows of two people: 2 leavers
    audit = audit_fairness(preds)
    area = audit.table[audit.table["factor"].eq("area")].set_index("group")
    assert not area.loc["Nobody", "withheld"] and area.loc["Nobody", "observed"] == 0  # 0 left: shown
    assert area.loc["Two", "withheld"]  # 2 left: withheld

    notes = _considerations(fake.fake_metrics(preds), audit, None, None, load_thresholds(), simulated=True)
    note = next(n for n in notes if n.startswith("Withheld because"))
    assert note.startswith("Withheld because 1 to 4 people in the group left (or stayed)")
    assert "Two" in note.split("area: ", 1)[1] and "Nobody" not in note
    assert note.endswith("A group in which nobody left (or nobody stayed) is shown: its 0 is about no one person.")
