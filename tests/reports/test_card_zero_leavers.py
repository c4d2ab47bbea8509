"""Groups in which no one left, in the card's fairness tables: a ratio of 0 is what nobody leaving gives whatever the
risks, and in a group of 20-30 people at a few per cent risk it is common. The cell says so and whether it is beyond
chance (the gate's rule), and the largest-gap table marks each end of a calibration gap the same way, so a board does
not read the spread of hundreds of small areas' noise as the model's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.fairness import audit_fairness
from retention_ml.reports.model_card import _fairness_rows, _gap_rows


def _rows() -> pd.DataFrame:
    """Area A: 30 people at 4%, nobody left (1.2 expected: chance). Area B: 400 at 10%, 40 left. Area C: 400 at 10%,
    nobody left (40 expected: far beyond chance)."""
    risk = np.r_[np.full(30, 0.04), np.full(400, 0.10), np.full(400, 0.10)]
    label = np.r_[np.zeros(30), (np.arange(400) < 40).astype(float), np.zeros(400)]
    area = ["A"] * 30 + ["B"] * 400 + ["C"] * 400
    return pd.DataFrame({"person": [f"P{i}" for i in range(len(risk))], "area": area, "risk": risk, "label": label})


def test_a_group_with_no_leaver_reads_against_chance():
    rows = {r["group"]: r for r in _fairness_rows(audit_fairness(_rows(), factors=["area"]), 0.05)["area"]}
    assert rows["A"]["calibration_ratio"] == "0.00 (no one left, 1.2 expected: within chance)"
    assert rows["C"]["calibration_ratio"] == "0.00 (no one left, 40.0 expected: beyond chance)"
    assert rows["B"]["calibration_ratio"] == "1.00"          # a group with leavers: the ratio alone, as before


def test_largest_gap_ends_say_whether_each_group_is_beyond_chance():
    gaps = {g["metric"]: g for g in _gap_rows(audit_fairness(_rows(), factors=["area"]), 0.05)}
    ratio = gaps["Calibration ratio (observed / predicted)"]
    assert (ratio["high"], ratio["low"]) == ("B (1.00; within chance)", "A (0.00; within chance)")
    difference = gaps["Calibration difference (observed - predicted rate)"]
    assert difference["low"] == "C (-10.0 pp; beyond chance)"
    # a base rate is read against the whole window's (tests/reports/test_card_share_chance.py)
    assert gaps["Base rate"]["high"] == "B (10.0%; beyond chance)"
