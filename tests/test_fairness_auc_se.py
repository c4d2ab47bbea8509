"""A group's ROC-AUC standard error on a window of several test dates is read from people, their rows together
(Obuchowski's clustered estimator), so the gate's "beyond chance" for a group's ranking matches how far the ROC-AUC
moves when people, not rows, are drawn again; one row per person keeps Hanley and McNeil, as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from retention_ml.fairness import audit_fairness, auc_standard_error, clustered_auc_standard_error


def _window(dates: int, *, people: int = 150, seed: int = 3) -> pd.DataFrame:
    """``people`` in one area at ``dates`` test dates: one outcome each, a risk that moves from date to date."""
    rng = np.random.default_rng(seed)
    base = rng.normal(-2.0, 1.0, people)
    left = (rng.random(people) < 1 / (1 + np.exp(-base))).astype(float)
    return pd.concat([pd.DataFrame({"person": np.arange(people), "area": "A", "label": left,
                                    "risk": 1 / (1 + np.exp(-(base + rng.normal(0.0, 1.0, people)))), "as_of": d})
                      for d in range(dates)], ignore_index=True)


def _people_bootstrap_sd(rows: pd.DataFrame, draws: int = 1000) -> float:
    """Spread of the rows' ROC-AUC when people are drawn again (Poisson weights per person, all their rows alike)."""
    rng = np.random.default_rng(0)
    person = rows["person"].to_numpy()
    weights = rng.poisson(1.0, (draws, person.max() + 1))[:, person]
    return float(np.std([roc_auc_score(rows["label"], rows["risk"], sample_weight=w) for w in weights]))


def test_several_dates_the_standard_error_is_the_spread_over_people():
    rows = _window(4)
    audit = audit_fairness(rows, factors=["area"])
    group = audit.table.iloc[0].copy()
    group["roc_auc_se"] = audit.group_shortfalls()["roc_auc_se"].iloc[0]   # what the gate and the record read
    target = _people_bootstrap_sd(rows)
    assert abs(group["roc_auc_se"] / target - 1) < 0.15, (group["roc_auc_se"], target)
    # Hanley and McNeil on the people who left and stayed misses it here by a third (0.067 against 0.049)
    hanley = float(auc_standard_error(group["roc_auc"], group["leaving_people"], group["staying_people"]))
    assert abs(hanley / target - 1) > 0.3


def test_the_gate_reads_the_logged_figure():
    audit = audit_fairness(_window(4), factors=["area"])
    assert audit.group_shortfalls()["roc_auc_se"].iloc[0] == audit.table["roc_auc_se"].iloc[0]


def test_one_row_per_person_keeps_hanley_and_mcneil():
    """A single test date (the default, the national run, the demo): every figure and verdict as before."""
    rows = _window(1)
    audit = audit_fairness(rows, factors=["area"])
    group = audit.table.iloc[0]
    assert audit.group_shortfalls()["roc_auc_se"].iloc[0] == auc_standard_error(group["roc_auc"], group["leaving_people"], group["staying_people"])


def test_clustered_estimator_groups_by_factor_and_person():
    rows = pd.concat([_window(4, seed=1).assign(area="A"), _window(4, seed=2).assign(area="B", person=lambda f: f["person"] + 1000)],
                     ignore_index=True)
    both = clustered_auc_standard_error(rows["risk"], rows["label"], workers=rows["person"], by=rows["area"])
    alone = clustered_auc_standard_error(rows["risk"][rows["area"] == "B"], rows["label"][rows["area"] == "B"],
                                         workers=rows["person"][rows["area"] == "B"], by=rows["area"][rows["area"] == "B"])
    assert np.isclose(both["B"], alone["B"], rtol=1e-12)
    # rows counted as people: narrower than the people's own spread
    as_rows = clustered_auc_standard_error(rows["risk"], rows["label"], workers=np.arange(len(rows)), by=rows["area"])
    assert (as_rows < 0.8 * both).all()


def test_the_gate_says_when_a_runs_logged_standard_errors_predate_counting_people():
    from retention_ml.fairness import audit_from_record, audit_record
    from retention_ml.promotion import _group_checks, load_thresholds

    rows = _window(4).assign(area=lambda f: np.where(f["person"] < 75, "A", "B"))
    record = audit_record(audit_fairness(rows, factors=["area"]), rows)
    thresholds = load_thresholds()
    assert "an earlier version of retention-ml" not in _group_checks(audit_from_record(record), thresholds)[0].detail
    for g in record["groups"]:       # as an earlier version logged it
        g.pop("effective_people", None)
    record["columns"].remove("effective_people")
    assert "an earlier version of retention-ml" in _group_checks(audit_from_record(record), thresholds)[0].detail
    one = _window(1).assign(area=lambda f: np.where(f["person"] < 75, "A", "B"))
    record = audit_record(audit_fairness(one, factors=["area"]), one)
    for g in record["groups"]:       # one row per person: Hanley and McNeil then as now, nothing to say
        g.pop("effective_people", None)
    record["columns"].remove("effective_people")
    assert "an earlier version of retention-ml" not in _group_checks(audit_from_record(record), thresholds)[0].detail
