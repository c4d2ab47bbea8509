"""The card's spread of base rates and flagged shares between groups, read against chance: among hundreds of small
areas some land near 0% and some far above by chance alone, so a board reading "59.6% against 0.0% flagged" is told
whether each end, and how many groups, sit further from the whole window's share than chance puts a group of its
size (a funnel; the gate's Bonferroni rule over the groups compared; a person's rows at several dates together)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.fairness import NO_SHARE_CHANCE, audit_fairness, audit_from_record, audit_record, share_chance
from retention_ml.reports.model_card import _gap_rows, _protected_flagging, _spread_chance


def _rows(dates: int = 1) -> pd.DataFrame:
    """Area A: 30 people, none in the top 10% (3 expected if flagging ignored the area: chance). B: 400 people, the
    whole top 10% (83 rows: 80 at 50% and 3 ties at 10%), 60 left. C: 400 people, none flagged (40 expected if
    flagging ignored the area: far beyond chance), 20 left."""
    risk = np.r_[np.full(30, 0.05), np.where(np.arange(400) < 80, 0.5, 0.1), np.full(400, 0.04)]
    label = np.r_[np.zeros(30), (np.arange(400) < 60).astype(float), (np.arange(400) < 20).astype(float)]
    one = pd.DataFrame({"person": [f"P{i}" for i in range(830)], "area": ["A"] * 30 + ["B"] * 400 + ["C"] * 400,
                        "sex": ["f", "m"] * 415, "risk": risk, "label": label})
    return pd.concat([one.assign(as_of=pd.Timestamp(2023, 1 + 3 * d, 1)) for d in range(dates)], ignore_index=True)


def test_each_groups_share_is_read_against_the_whole_windows_at_its_size():
    audit = audit_fairness(_rows(), factors=["area"])
    flagged = share_chance(audit, "flagged_share", 0.05).set_index("group")
    assert flagged.loc["A", "value"] == 0 and not flagged.loc["A", "beyond"]      # 30 people: 0 of 3 is chance
    assert flagged.loc["C", "value"] == 0 and flagged.loc["C", "beyond"]          # 400: 0 of 40 is not
    assert flagged.loc["B", "beyond"] and flagged.loc["B", "value"] > flagged.loc["B", "high"]
    whole = audit.overall["flagged"] / audit.overall["rows"]
    assert np.isclose(flagged.loc["A", "se"], np.sqrt(whole * (1 - whole) / 30))


def test_largest_gap_ends_of_base_rate_and_flagged_share_say_chance():
    gaps = {g["metric"]: g for g in _gap_rows(audit_fairness(_rows(), factors=["area"]), 0.05)}
    assert gaps["Share flagged in top 10%"]["high"] == "B (20.8%; beyond chance)"
    assert gaps["Share flagged in top 10%"]["low"] == "A (0.0%; within chance)"
    assert gaps["Base rate"]["low"] == "A (0.0%; within chance)"


def test_the_flagged_spread_is_worded_for_a_board():
    audit = audit_fairness(_rows(), factors=["area"])
    text = _spread_chance(audit, audit.worst("flagged_share", shown_only=True), 0.05)
    assert "B's 20.8% is beyond chance for its 400 people" in text
    assert "A's 0.0% is within chance for its 30 people" in text
    assert "Of the 3 area groups shown, 1 is flagged more often than the whole window's" in text
    assert "and 1 less often" in text


def test_protected_characteristics_shares_are_marked():
    text = _protected_flagging(audit_fairness(_rows(), factors=["sex"]), 0.05)
    assert "within chance" in text and "Glossary: Beyond chance" in text


def test_several_dates_count_a_persons_rows_together():
    """4 dates of the same 830 people: the range is that of 830 people, not of 3,320 independent rows."""
    one, four = (share_chance(audit_fairness(_rows(d), factors=["area"]), "flagged_share", 0.05).set_index("group")
                 for d in (1, 4))
    assert np.allclose(four["se"], one["se"])


def test_a_record_logged_before_says_what_is_missing():
    rows = _rows(4)
    record = audit_record(audit_fairness(rows, factors=["area"]), rows)
    assert share_chance(audit_from_record(record), "flagged_share", 0.05) is not None
    for g in record["groups"]:       # as an earlier version logged it
        g.pop("effective_people", None)
    record["columns"].remove("effective_people")
    old = audit_from_record(record)
    assert share_chance(old, "flagged_share", 0.05) is None
    assert _spread_chance(old, old.worst("flagged_share", shown_only=True), 0.05).startswith(
        NO_SHARE_CHANCE.format(what="shares flagged")[:1].upper() + NO_SHARE_CHANCE.format(what="shares flagged")[1:])
    old_sex = audit_record(audit_fairness(rows, factors=["sex"]), rows)
    for g in old_sex["groups"]:
        g.pop("effective_people", None)
    old_sex["columns"].remove("effective_people")
    assert "lacks the figure it needs" in _protected_flagging(audit_from_record(old_sex), 0.05)
    # one row per person: the people are the independent units, so an old single-date record is still read
    one = _rows(1)
    record = audit_record(audit_fairness(one, factors=["area"]), one)
    for g in record["groups"]:
        g.pop("effective_people", None)
    record["columns"].remove("effective_people")
    assert share_chance(audit_from_record(record), "flagged_share", 0.05) is not None


def test_a_protected_group_flagged_beyond_chance_but_not_leaving_more_is_named():
    """Sex m: every flagged row (the top 10%) and no more leavers than f: a union representative's first question."""
    rows = _rows()
    rows["sex"] = np.where(rows["area"].eq("B") & (np.arange(len(rows)) % 4 != 0), "m", "f")
    rows["label"] = 0.0
    rows.loc[rows.index % 10 == 0, "label"] = 1.0            # 10% leave in every group alike
    text = _protected_flagging(audit_fairness(rows, factors=["sex"]), 0.05)
    assert "while not leaving more often beyond chance: sex m (" in text
    assert "sex f (" not in text.split("while not leaving")[1]
