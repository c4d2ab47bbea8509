"""The service overview's most common driver counts, per person, the driver of the reason the lists show first:
read from the stored driver profile with the reasons' own rule, which lives in one module only."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.reports.service_overview import lead_drivers

REPO = Path(__file__).resolve().parents[2]


# -- the lead driver is the first reason's driver --------------------------------------------------------------------
def test_lead_driver_is_the_driver_reason_table_gives_the_first_reason():
    """Hand-made SHAP values over features of four drivers: the overview reads the stored profile (driver_<code>)
    and must name, per person, the driver of the reason the lists show first (none where no driver passes the
    reasons' threshold, and never the caseload driver for someone holding no cases)."""
    from retention_ml.explain.drivers import group_by_driver
    from retention_ml.explain.reasons import reason_table
    from retention_ml.features import feature_catalogue

    catalogue = feature_catalogue()
    rng = np.random.default_rng(7)
    n = 400
    features = {"caseload_current": "caseload_workload", "caseload_mean_3m": "caseload_workload",
                "commute_minutes": "commute", "housing_rent_to_pay": "housing_cost", "pay_gap_to_agency": "pay"}
    features = {f: d for f, d in features.items() if f in set(catalogue["feature"])}
    values = pd.DataFrame(rng.normal(0, 0.12, (n, len(features))), columns=list(features))
    values.iloc[::9] = values.iloc[::9].abs() * 0.1   # rows with nothing above the threshold
    values.iloc[1::11] = 0.0
    values.iloc[1::11, [0, 2]] = 0.3                    # caseload and commute tie: the taxonomy's order decides
    X = pd.DataFrame(rng.uniform(1, 30, (n, len(features))), columns=list(features))
    X.loc[X.index % 4 == 0, "caseload_current"] = 0.0   # holds no cases: no caseload reason
    drivers = pd.Series(features)
    profile = group_by_driver(values, drivers)
    reasons = reason_table(values, profile, X, None, catalogue, drivers, k=1)
    scores = pd.concat([profile.add_prefix("driver_"), X], axis=1)
    got = lead_drivers(scores)
    assert got.isna().any() and got.notna().any()
    first = reasons["reason_driver_1"]
    assert got.tolist() == first.astype(object).where(first.notna(), None).tolist()
    assert {"caseload_workload", "commute"} <= set(got.iloc[1::11])   # each wins a tie, by whether cases are held


def test_the_reasons_driver_rule_is_applied_only_in_explain_reasons():
    """The rule (requires, the threshold) is read in one module; a second copy drifts from the lists' reasons."""
    copies = []
    for path in sorted((REPO / "retention_ml").rglob("*.py")):
        if path == REPO / "retention_ml" / "explain" / "reasons.py":
            continue
        names = {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, (ast.Name, ast.Attribute))}
        names |= {a.name for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(n, ast.ImportFrom) for a in n.names}
        copies += [f"{path.relative_to(REPO)}: {name}" for name in ("load_requirements", "MIN_REASON_VALUE") if name in names]
    assert not copies, "the reasons' driver rule read outside retention_ml/explain/reasons.py:\n" + "\n".join(copies)
