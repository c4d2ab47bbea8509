"""Flat extracts: column-name rules (protected characteristics, their proxies, identifiers) and protected
columns grouped so that every one of them is audited."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.experiment import ExperimentError, experiment_from_dict, load_experiment
from retention_ml.flat import (AGE_BAND_EDGES, band_labels, flat_frame, identifier_looking, load_flat,
                               protected_looking)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ibm():
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml")
    return exp["flat"], pd.read_csv(exp["data"]["path"])


def _refusal(frame, mapping) -> str:
    with pytest.raises(ValueError) as info:
        flat_frame(frame, mapping)
    return str(info.value)


def test_reviewers_compounds_and_proxies_are_refused(ibm):
    # year of birth, a female flag, an age group and a title entered the model (YearBorn was its top
    # feature) once Age, Gender and MaritalStatus were dropped and flat.protected emptied.
    mapping, frame = ibm
    f = frame.copy()
    f["YearBorn"] = 2024 - f["Age"]
    f["IsFemale"] = (f["Gender"] == "Female").astype(int)
    f["agegroup"] = (f["Age"] // 10) * 10
    f["Title"] = np.where(f["Gender"] == "Male", "Mr", np.where(f["MaritalStatus"] == "Married", "Mrs", "Ms"))
    f = f.drop(columns=["Age", "Gender", "MaritalStatus"])
    flagged = {**mapping, "protected": [], "categorical": ["Title", *mapping["categorical"]]}
    message = _refusal(f, flagged)
    for col, rule, matched in (("YearBorn", "age", "born"), ("IsFemale", "sex", "female"),
                               ("agegroup", "age", "age"), ("Title", "sex", "title")):
        assert f"column '{col}' looks like a protected characteristic" in message
        assert f"(rule: {rule}, matched '{matched}')" in message
        # both ways out: declare or drop it, or clear it in one line
        assert f'flat.not_protected = ["{col}"]' in message
    assert message.count("flat.protected (audited for fairness only) or flat.drop") == 4
    # declared protected (and Title no longer categorical: one role per column), they are audit columns and no
    # model input
    declared = {**flagged, "protected": ["YearBorn", "IsFemale", "agegroup", "Title"],
                "categorical": mapping["categorical"], "bands": {"YearBorn": [1960, 1980]}}
    ds = flat_frame(f, declared)
    assert not [c for c in ds.X.columns if c.split("_")[0] in {"YearBorn", "IsFemale", "agegroup", "Title"}]


@pytest.mark.parametrize("name", [
    "YearBorn", "YOB", "year_of_birth", "DOB", "agegroup", "AgeBand", "Over18", "Under25", "Aged65Plus", "ManagerAge",
    "RetirementEligible", "IsFemale", "Female", "Male", "gendercode", "Sex", "Title", "Salutation", "Pronouns",
    "PaternityLeave", "MaritalStatus", "married", "SpouseWorksHere", "CivilPartner", "Pregnant", "MaternityLeaveDays",
    "BAME", "ethnicorigin", "Race", "Nationality", "disabilitystatus", "Handicap", "Impairment", "HealthCondition",
    "ReasonableAdjustments", "Religion", "FaithGroup", "SexualOrientation",
])
def test_protected_stems_are_caught_inside_names(name):
    assert protected_looking([name]) == [name]


@pytest.mark.parametrize("name", ["YearsWithCurrManager", "AgencyWorker", "JobTitle", "AverageCaseload", "Stage",
                                  "MonthlyIncome", "OverTime", "EngagementScore", "RelationshipSatisfaction"])
def test_words_that_only_contain_a_stem_are_not_flagged(name):
    assert protected_looking([name]) == []


def test_ibm_columns_flagged_are_exactly_the_declared_ones(ibm):
    # The shipped experiment needs no clearing: every flagged IBM column is declared or dropped.
    mapping, frame = ibm
    assert set(protected_looking(frame.columns)) == {"Age", "Gender", "MaritalStatus", "Over18"}
    assert set(protected_looking(frame.columns)) <= {*mapping["protected"], *mapping["drop"]}
    assert identifier_looking(frame.columns) == ["EmployeeNumber"] == [mapping["id"]]
    assert not mapping["not_protected"] and not mapping["not_id"]


def test_a_false_positive_is_one_line_to_clear():
    frame = pd.DataFrame({"left": ["Yes", "No", "No", "No"], "HealthAndSafetyTraining": [1.0, 0.0, 1.0, 1.0]})
    message = _refusal(frame, {"label": "left"})
    assert "'HealthAndSafetyTraining'" in message and "(rule: disability or health, matched 'health')" in message
    ds = flat_frame(frame, {"label": "left", "not_protected": ["HealthAndSafetyTraining"]})
    assert list(ds.X.columns) == ["HealthAndSafetyTraining"]
    # a clearing line for a column no rule flags is refused, so the list stays the analyst's checked exceptions
    frame["Grade"] = [1.0, 2.0, 3.0, 1.0]
    with pytest.raises(ValueError, match=r"flat.not_protected lists \['Grade'\], which no rule flags"):
        flat_frame(frame, {"label": "left", "not_protected": ["HealthAndSafetyTraining", "Grade"]})


@pytest.mark.parametrize("name", ["Gender", "Sex", "Age", "DateOfBirth", "Ethnicity", "Race", "DisabilityStatus",
                                  "MaritalStatus", "Religion", "SexualOrientation", "Pregnant"])
def test_a_characteristic_itself_cannot_be_cleared(name):
    # a proxy ("HealthAndSafetyTraining", "Title") may be cleared; a column named for the characteristic may not,
    # or the card's "no protected characteristic among the inputs" would rest on the analyst's word alone
    frame = pd.DataFrame({"left": ["Yes", "No", "No", "No"], name: [1.0, 0.0, 1.0, 1.0]})
    message = _refusal(frame, {"label": "left", "not_protected": [name]})
    assert f"flat.not_protected cannot clear '{name}'" in message and "flat.protected" in message


def test_a_proxy_can_still_be_cleared():
    frame = pd.DataFrame({"left": ["Yes", "No", "No", "No"], "JobTitle2": [1.0, 0.0, 1.0, 1.0],
                          "RetirementSchemeOptIn": [1.0, 0.0, 0.0, 1.0]})
    ds = flat_frame(frame, {"label": "left", "not_protected": ["RetirementSchemeOptIn"]})
    assert "RetirementSchemeOptIn" in ds.X.columns


@pytest.mark.parametrize("name", ["EmployeeNumber", "StaffID", "EmployeeId", "TeamID", "staff_no", "StaffNo", "EmpNo",
                                  "PayrollRef", "Payroll", "person_ref", "UUID", "NINumber"])
def test_identifier_names_are_caught(name):
    assert identifier_looking([name]) == [name]


@pytest.mark.parametrize("name", ["Hybrid", "Paid", "NumCompaniesWorked", "EmployeeCount", "CovidLeave", "Idle"])
def test_words_that_only_contain_id_are_not_identifiers(name):
    assert identifier_looking([name]) == []


def test_an_employee_number_not_declared_as_id_is_refused(ibm):
    # without flat.id the employee number (hiring order: tenure, age) became a numeric feature.
    mapping, frame = ibm
    no_id = {k: v for k, v in mapping.items() if k != "id"}
    for name in ("EmployeeNumber", "StaffID"):
        message = _refusal(frame.rename(columns={"EmployeeNumber": name}), no_id)
        assert f"column '{name}' looks like an identifier" in message
        assert "name it as flat.id or list it in flat.drop" in message and f'flat.not_id = ["{name}"]' in message
    dropped = flat_frame(frame, {**no_id, "drop": [*mapping["drop"], "EmployeeNumber"]})
    assert "EmployeeNumber" not in dropped.X.columns
    cleared = flat_frame(frame.rename(columns={"EmployeeNumber": "StaffID"}), {**no_id, "not_id": ["StaffID"]})
    assert "StaffID" in cleared.X.columns  # the analyst's explicit, visible choice


def test_experiment_keys_for_clearing_and_bands_are_validated():
    base = {"name": "x", "kind": "flat", "data": {"path": "x.csv"}}
    exp = experiment_from_dict({**base, "flat": {"label": "left", "not_protected": ["Stage"], "not_id": ["Paid"],
                                                 "bands": {"Age": [25, 30, 40]}}})
    assert exp["flat"]["not_protected"] == ["Stage"] and exp["flat"]["bands"] == {"Age": [25, 30, 40]}
    with pytest.raises(ExperimentError, match=r"'flat.not_protected' and 'flat.protected' both name \['Age'\]"):
        experiment_from_dict({**base, "flat": {"label": "left", "protected": ["Age"], "not_protected": ["Age"]}})
    with pytest.raises(ExperimentError, match=r"'flat.not_id' and 'flat.id' both name \['EmpNo'\]"):
        experiment_from_dict({**base, "flat": {"label": "left", "id": "EmpNo", "not_id": ["EmpNo"]}})
    for bad in ([30, 25], [], [25.5], ["25"]):
        with pytest.raises(ExperimentError, match=r"'flat.bands.Age' must be a list of increasing integers"):
            experiment_from_dict({**base, "flat": {"label": "left", "protected": ["Age"], "bands": {"Age": bad}}})


def test_age_is_audited_in_the_council_age_bands(ibm):
    # Age (43 values) was silently left out of the audit. Fixed bands, the council data's age_band.
    from retention_ml.fairness import audit_factors
    from retention_ml.schema import load_schemas

    schema_bands = list(load_schemas()["workers"].column("age_band").allowed_values())
    assert band_labels(AGE_BAND_EDGES) + ["not_known"] == schema_bands
    mapping, frame = ibm
    ds = flat_frame(frame, mapping)
    expected = pd.cut(frame["Age"], [0, 25, 30, 40, 50, 60, 200], right=False, labels=schema_bands[:-1]).astype(str)
    assert (ds.keys["Age"] == expected).all()
    assert set(ds.keys["Age"]) <= set(schema_bands)
    keys = ds.keys.assign(label=ds.y, risk=0.1)
    assert set(mapping["protected"]) <= set(audit_factors(keys))


def test_every_protected_column_must_be_auditable():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"left": np.r_[["Yes"] * 10, ["No"] * 30], "YearBorn": rng.integers(1960, 2000, 40),
                          "Age": rng.integers(20, 65, 40), "Nationality": [f"n{i % 15}" for i in range(40)],
                          "pay": rng.normal(size=40)})
    mapping = {"label": "left", "protected": ["YearBorn", "Age"], "drop": ["Nationality"]}
    with pytest.raises(ValueError, match=r"'YearBorn' is numeric with \d+ values(.|\n)*flat.bands.YearBorn = \[...\]"):
        flat_frame(frame, mapping)
    ds = flat_frame(frame, {**mapping, "bands": {"YearBorn": [1970, 1980, 1990]}})
    assert set(ds.keys["YearBorn"]) <= {"under_1970", "1970_1979", "1980_1989", "1990_plus"}
    assert set(ds.keys["Age"]) <= set(band_labels(AGE_BAND_EDGES))
    # a column named for age that does not hold ages in years is not cut into age bands by default
    with pytest.raises(ValueError, match="named for age but holds values from 1960"):
        flat_frame(frame.assign(Age=frame["YearBorn"]),
                   {**mapping, "protected": ["Age"], "drop": ["YearBorn", "Nationality"]})
    # text with more groups than the audit compares must be recoded, not audited as 15 slivers or skipped
    with pytest.raises(ValueError, match=r"'Nationality' has 15 values(.|\n)*recode it into fewer groups"):
        flat_frame(frame, {"label": "left", "protected": ["Nationality"], "drop": ["YearBorn", "Age"]})
    # missing ages are their own group, as in the council data
    with_missing = frame.assign(Age=frame["Age"].astype(float).where(frame.index % 7 > 0))
    only_age = {**mapping, "protected": ["Age"], "drop": ["YearBorn", "Nationality"]}
    assert "not_known" in set(flat_frame(with_missing, only_age).keys["Age"])


def test_load_flat_of_the_shipped_experiment_still_maps(ibm):
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml")
    ds = load_flat(exp["data"]["path"], exp["flat"])
    assert "EmployeeNumber" not in ds.X.columns and not {"Age", "Gender", "MaritalStatus"} & set(ds.X.columns)
