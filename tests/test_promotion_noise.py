"""The gate's group checks judge evidence, not noise: with hundreds of small groups (national areas) the
true probabilities themselves must pass, and a group that is really wrong must still fail."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.fairness import audit_fairness, auc_standard_error
from retention_ml.promotion import _group_checks, load_thresholds


def _national_like(seed: int = 0, areas: int = 300, people: int = 30) -> pd.DataFrame:
    """Two snapshots a person, risk = the true probability, many areas of a few dozen people."""
    rng = np.random.default_rng(seed)
    n = areas * people
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-1.8 + 0.9 * x)))
    rows = pd.DataFrame({"worker_id": np.tile(np.arange(n), 2), "area": np.tile(np.repeat([f"A{i:03d}" for i in range(areas)], people), 2),
                         "risk": np.tile(p, 2)})
    rows["label"] = (rng.random(len(rows)) < rows["risk"]).astype(float)
    return rows


def test_true_probabilities_pass_with_hundreds_of_small_groups():
    audit = audit_fairness(_national_like(), factors=["area"])
    thresholds = load_thresholds()
    groups = audit.group_shortfalls()
    # On point estimates alone some area is far over each threshold by chance ...
    assert (groups["roc_auc_shortfall"] > thresholds["max_group_roc_auc_shortfall"]).sum() >= 5
    assert (groups["calibration_gap"] > thresholds["max_group_calibration_gap"]).sum() >= 1
    # ... but none beyond its noise, so the model that knows the truth passes, and the detail says why
    checks = {c.name: c for c in _group_checks(audit, thresholds)}
    assert checks["group_roc_auc"].passed and checks["group_calibration"].passed
    assert "within chance" in checks["group_roc_auc"].detail


def test_a_group_that_is_really_wrong_still_fails():
    rows = _national_like(seed=2, areas=20, people=100)
    bad = rows["area"].eq("A007")
    rows.loc[bad, "risk"] = np.minimum(rows.loc[bad, "risk"] * 3, 0.99)   # tripled: the group's level is wrong
    checks = {c.name: c for c in _group_checks(audit_fairness(rows, factors=["area"]), load_thresholds())}
    assert not checks["group_calibration"].passed
    assert "beyond chance: area=A007" in checks["group_calibration"].detail


def test_auc_standard_error_matches_hanley_mcneil():
    # Hanley and McNeil (1982), table: AUC 0.8 with 50 and 50 cases gives a standard error of about 0.044
    assert abs(float(auc_standard_error(0.8, 50, 50)) - 0.0439) < 0.001
    assert auc_standard_error(0.7, 5, 45) > auc_standard_error(0.7, 50, 450)
