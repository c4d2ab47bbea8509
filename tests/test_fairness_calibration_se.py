"""A group's calibration standard error counts a person's rows together (several test dates move as one person),
so the gate does not fail a group on snapshots counted as if they were independent people."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.evaluate import leavers_standard_error
from retention_ml.fairness import audit_fairness, calibration_standard_error
from retention_ml.promotion import _group_checks, load_thresholds


def _people(area: str, n: int, leavers: int, risk: float, dates: int) -> pd.DataFrame:
    """``n`` people of ``area`` at ``dates`` test dates; a leaver is labelled leaving at every date, as the
    12-month label does for someone who leaves soon after the first."""
    people = pd.DataFrame({"person": [f"{area}{i:03d}" for i in range(n)], "area": area,
                           "label": (np.arange(n) < leavers).astype(float), "risk": risk})
    return pd.concat([people.assign(as_of=pd.Timestamp(2024, 1 + 3 * d, 1)) for d in range(dates)], ignore_index=True)


def _window(dates: int) -> pd.DataFrame:
    # South: 10 of 30 left against a risk of 20%, a gap of 0.133 (over the 0.10 bar): 1.83 standard errors per
    # person, 3.65 if its 120 rows were 120 people
    return pd.concat([_people("North", 100, 20, 0.2, dates), _people("South", 30, 10, 0.2, dates)], ignore_index=True)


def test_a_groups_standard_error_counts_a_persons_rows_together():
    rows = _window(4)
    shortfalls = audit_fairness(rows, factors=["area"]).group_shortfalls().set_index("group")
    south = rows[rows["area"] == "South"]
    assert np.isclose(shortfalls.loc["South", "calibration_se"],
                      leavers_standard_error(south["risk"], workers=south["person"]) / len(south))
    # four rows that move together: twice the standard error of 120 independent rows
    assert np.isclose(shortfalls.loc["South", "calibration_se"], 2 * np.sqrt(0.2 * 0.8 / 120))


def test_the_gate_does_not_fail_a_group_on_snapshots_counted_as_people():
    thresholds = load_thresholds()
    audit = audit_fairness(_window(4), factors=["area"], min_group=thresholds["min_group"])
    check = _group_checks(audit, thresholds)[1]
    assert check.name == "group_calibration" and check.passed, check.detail
    assert "over threshold within chance" in check.detail and "area=South" in check.detail


def test_one_row_per_person_is_judged_exactly_as_before():
    """A single test date (the default, the national run): the binomial at the group's mean risk, unchanged."""
    rows = _window(1)
    rows["risk"] = np.random.default_rng(0).uniform(0.05, 0.5, len(rows))
    shortfalls = audit_fairness(rows, factors=["area"]).group_shortfalls().set_index("group")
    for area, group in rows.groupby("area"):
        assert np.isclose(shortfalls.loc[area, "calibration_se"], calibration_standard_error(group["risk"].mean(), len(group)),
                          rtol=1e-12, atol=0)


def test_a_groups_roc_auc_standard_error_on_one_date_is_hanley_and_mcneil_on_its_people():
    """Several dates: tests/test_fairness_auc_se.py (the spread over people, their rows together)."""
    from retention_ml.fairness import auc_standard_error

    rows = _window(4)
    rows["risk"] = np.random.default_rng(1).uniform(0.05, 0.5, len(rows)) + 0.2 * rows["label"]
    one_date = audit_fairness(_window(1).assign(risk=rows["risk"][:130].to_numpy()), factors=["area"])
    single = one_date.group_shortfalls().set_index("group").loc["North"]
    assert single["roc_auc_se"] == auc_standard_error(single["roc_auc"], 20, 80)


def test_a_group_needs_five_people_who_left_for_a_roc_auc_not_five_snapshots():
    # 3 people of 30 left, seen at 4 test dates: 12 leaving rows, 3 outcomes
    rows = pd.concat([_people("North", 100, 20, 0.2, 4), _people("South", 30, 3, 0.2, 4)], ignore_index=True)
    rows["risk"] = np.random.default_rng(2).uniform(0.05, 0.5, len(rows))
    table = audit_fairness(rows, factors=["area"]).table.set_index("group")
    assert np.isnan(table.loc["South", "roc_auc"]) and table.loc["South", "roc_auc_note"] == "too few leavers to assess ROC-AUC"
    assert not np.isnan(table.loc["North", "roc_auc"])
