"""Sickness absence is health data (UK GDPR Article 9), declared once by the ``health`` flag in data_schema.

Lists (``health="withhold"``, what scoring writes) name the driver in health-free words with no figure, date
or duration; the person's own view and the analyst's file (``health="show"``) quote the days.
"""

import dataclasses
import re

import pandas as pd
import pytest

from retention_ml.explain import reasons as reasons_module
from retention_ml.explain.reasons import health_features, load_withheld, reason_table
from retention_ml.features import feature_catalogue
from retention_ml.schema import load_drivers, load_schemas

ABSENCE = [f for f in feature_catalogue()["feature"] if f.startswith("absence")]
LIST_WORDING = "recent sickness absence suggests strain on life outside work"


def _table(feature, days, *, health, shap=0.8):
    """reason_table for people whose only upward driver is ``feature``'s, with ``days`` as its value."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    days = pd.Series(days, dtype="float64")
    X = pd.DataFrame({feature: days, "tenure_months": 30.0})
    values = pd.DataFrame({feature: shap, "tenure_months": -0.1}, index=X.index)
    profile = pd.DataFrame({drivers[feature]: shap, drivers["tenure_months"]: -0.1}, index=X.index)
    return reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1, health=health)


def test_the_health_features_are_those_read_from_a_flagged_column():
    assert {"absence_days_6m", "absence_days_12m"} <= set(ABSENCE)
    assert health_features() == frozenset(ABSENCE)
    assert [c.name for c in load_schemas()["absence"].columns if c.health] == ["sickness_days"]


def test_the_flag_not_a_list_of_names_decides(monkeypatch):
    """Flag commute's minutes as health data and its reasons are withheld; clear absence's and days show."""
    schemas = load_schemas()
    flip = {
        "commute": dataclasses.replace(schemas["commute"], columns=tuple(
            dataclasses.replace(c, health=c.name == "commute_minutes") for c in schemas["commute"].columns)),
        "absence": dataclasses.replace(schemas["absence"], columns=tuple(
            dataclasses.replace(c, health=False) for c in schemas["absence"].columns)),
    }
    assert any(c.name == "commute_minutes" for c in schemas["commute"].columns)
    monkeypatch.setattr("retention_ml.schema.load_schemas", lambda: {**schemas, **flip})
    assert "commute_minutes" in health_features() and not set(ABSENCE) & health_features()
    commute = _table("commute_minutes", [75.0], health="withhold")
    assert commute.loc[0, "reason_1"] == "Commute (from health records, which lists do not show)"
    assert _table("absence_days_12m", [66.0], health="withhold").loc[0, "reason_1"].startswith("66 days")


@pytest.mark.parametrize("feature", ABSENCE)
def test_a_list_reason_from_absence_holds_no_figure(feature):
    days = [66.0, 37.0, 3.0, 0.5, 0.25, 0.0]
    table = _table(feature, days, health="withhold")
    for value, text in zip(days, table["reason_1"]):
        assert not re.search(r"\d", text), (value, text)   # no days, dates or window length
    assert list(table["reason_1"]) == [LIST_WORDING] * 4 + ["Work-life balance (from health records, which lists do not show)"] * 2


@pytest.mark.parametrize("feature", ABSENCE)
def test_the_own_view_quotes_the_days(feature):
    window = re.search(r"_(\d+)m$", feature).group(1)
    table = _table(feature, [66.0, 1.0, 2.5, 0.25], health="show")
    assert list(table["reason_1"]) == [
        f"66 days of sickness absence in the last {window} complete months",
        f"1 day of sickness absence in the last {window} complete months",
        f"2.5 days of sickness absence in the last {window} complete months",
        f"little or no sickness absence in the last {window} complete months (0.2 days)",
    ]


def test_withholding_changes_the_words_only():
    """Same driver, feature, value and lever either way: the model's inputs and the reasons' choice are unchanged."""
    shown, withheld = (_table("absence_days_12m", [66.0, 70.0], health=h) for h in ("show", "withhold"))
    pd.testing.assert_frame_equal(shown.drop(columns="reason_1"), withheld.drop(columns="reason_1"))
    driver = withheld.loc[0, "reason_driver_1"]
    assert (withheld["lever_1"] == next(d.levers[0] for d in load_drivers() if d.code == driver)).all()


def test_a_withheld_wording_with_a_field_is_refused(tmp_path):
    path = tmp_path / "reasons.yaml"
    path.write_text('templates: {}\nwithheld:\n  absence_days_6m: "{absence_days_6m:num1} days off"\n')
    with pytest.raises(ValueError, match="health data is named, never quoted"):
        load_withheld(path)


def test_an_unknown_health_mode_is_refused():
    with pytest.raises(ValueError, match="one of"):
        _table("absence_days_6m", [3.0], health="hide")


def test_the_withheld_wording_of_every_health_feature_is_packaged():
    """Each health feature has a worded list reason for recent absence (the fallback is for new features)."""
    wordings = load_withheld()
    for feature in health_features():
        found, _ = reasons_module.templates_for(feature, wordings)
        assert found and all(not re.search(r"\d|\{", t.text) for t in found), feature
