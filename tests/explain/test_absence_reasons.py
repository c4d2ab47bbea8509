"""Sickness absence is health data (UK GDPR Article 9): reasons say it is recorded, never how many days."""

import re

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.reasons import load_templates, reason_table, render_feature_reasons
from retention_ml.features import feature_catalogue
from retention_ml.schema import load_drivers

ABSENCE = [f for f in feature_catalogue()["feature"] if f.startswith("absence")]


def test_there_are_absence_features_to_check():
    assert {"absence_days_6m", "absence_days_12m"} <= set(ABSENCE)


@pytest.mark.parametrize("feature", ABSENCE)
def test_absence_reasons_never_state_the_day_count(feature):
    catalogue = feature_catalogue()
    days = pd.Series([66.0, 37.0, 3.0, 0.5, 0.25, 0.0, np.nan])
    texts = render_feature_reasons(feature, pd.DataFrame({feature: days}), load_templates(), catalogue)
    window = re.search(r"_(\d+)m$", feature).group(1)
    for value, text in zip(days, texts):
        # no figure of the person's in the words: the only number is the window's length
        assert set(re.findall(r"\d+(?:\.\d+)?", text)) <= {window}, (value, text)
        assert "day" not in text, (value, text)
    assert list(texts) == [f"recent sickness absence recorded (last {window} months)"] * 4 + \
        [f"little or no sickness absence recorded in the last {window} months"] * 2 + \
        [f"no sickness absence record for the last {window} months"]


def test_a_list_reason_from_absence_keeps_its_driver_and_levers():
    """The reason's wording changes, not what the model says nor the levers offered for it."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"absence_days_12m": [66.0, 70.0], "tenure_months": [30.0, 40.0]})
    values = pd.DataFrame({"absence_days_12m": [0.8, 0.6], "tenure_months": [-0.1, 0.2]})
    driver = drivers["absence_days_12m"]
    profile = pd.DataFrame({driver: [0.8, 0.6], drivers["tenure_months"]: [-0.1, 0.2]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert list(table["reason_driver_1"]) == [driver, driver]
    assert list(table["reason_1"]) == ["recent sickness absence recorded (last 12 months)"] * 2
    first = next(d.levers[0] for d in load_drivers() if d.code == driver)
    assert (table["lever_1"] == first).all()
