"""The one lever rule: a reason's lever is its driver's first lever in data_schema/drivers.yaml, chosen in
retention_ml.explain.drivers.reason_levers and nowhere else.

Three rules used to live side by side (reasons joined all of a driver's levers with "; ", scoring took the
first lever of each reason's driver, the lists guessed the first levers of the profile's top drivers), so
``explain`` and the lists offered different levers for the same reason, and a list could show a lever for
a driver that was no reason at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.explain.drivers import reason_levers
from retention_ml.explain.reasons import reason_table
from retention_ml.features import feature_catalogue
from retention_ml.schema import load_drivers

REPO = Path(__file__).resolve().parents[2]
# where the taxonomy's levers may be read: the rule itself, the taxonomy's loader, and the data dictionary
# (which documents every lever of every driver, not the one shown beside a reason)
MAY_READ_LEVERS = {"retention_ml/explain/drivers.py", "retention_ml/schema.py", "retention_ml/data_dictionary.py"}


def test_levers_are_read_from_the_taxonomy_only_by_the_one_rule():
    reads = []
    for path in sorted((REPO / "retention_ml").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in MAY_READ_LEVERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reads += [f"{rel}:{node.lineno}" for node in ast.walk(tree)
                  if (isinstance(node, ast.Attribute) and node.attr == "levers")
                  or (isinstance(node, ast.Name) and node.id == "driver_levers")
                  or (isinstance(node, ast.alias) and node.name == "driver_levers")]
    assert not reads, "levers read outside explain.drivers.reason_levers:\n" + "\n".join(reads)


def test_the_rule_is_the_drivers_first_lever_and_none_without_a_reason():
    first = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    codes = ["commute", None, "other", "caseload_workload", np.nan]
    assert reason_levers(codes).tolist() == [first["commute"], None, None, first["caseload_workload"], None]


def test_reasons_carry_one_lever_each_the_same_one_a_list_shows():
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"commute_minutes": [70.0, 20.0], "housing_price_to_salary": [11.0, 4.0]})
    values = pd.DataFrame({"commute_minutes": [0.6, -0.3], "housing_price_to_salary": [0.4, -0.2]})
    profile = pd.DataFrame({drivers["commute_minutes"]: [0.6, -0.3], drivers["housing_price_to_salary"]: [0.4, -0.2]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=2)
    first = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    assert table.loc[0, "lever_1"] == first["commute"] and table.loc[0, "lever_2"] == first["housing_cost"]
    assert "; " not in table.loc[0, "lever_1"]
    assert table.loc[1, ["reason_1", "lever_1", "lever_2"]].isna().all()   # nothing raises risk: no lever either
