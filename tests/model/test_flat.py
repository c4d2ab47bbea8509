"""Flat one-row-per-employee extracts: the IBM HR mapping, protected columns kept out of X, clear errors."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.experiment import load_experiment
from retention_ml.flat import flat_frame, flat_split, load_flat

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ibm():
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml")
    return exp, load_flat(exp["data"]["path"], exp["flat"])


def test_ibm_extract_maps_to_features_labels_and_keys(ibm):
    exp, ds = ibm
    assert len(ds.X) == len(ds.y) == len(ds.keys) == 1470
    assert int(ds.y.sum()) == 237  # Attrition == "Yes"
    assert (ds.X.dtypes == "float64").all()
    assert "OverTime_Yes" in ds.X.columns and "EmployeeNumber" not in ds.X.columns
    for col in ("Age", "Gender", "MaritalStatus"):
        assert col in ds.keys.columns
        assert not [c for c in ds.X.columns if c == col or c.startswith(col + "_")]
    assert ds.keys.worker_id.str.match(r"^W\d{6}$").all()  # pseudonymous, not the employee number


def test_catalogue_drivers_come_from_the_mapping(ibm):
    _, ds = ibm
    cat = ds.catalogue.set_index("feature")
    assert list(cat.index) == list(ds.X.columns)
    assert cat.loc["OverTime_Yes", "driver"] == "work_life_balance"
    assert cat.loc["MonthlyIncome", "driver"] == "pay"
    assert cat.loc["NumCompaniesWorked", "driver"] == "other"


def test_unknown_column_and_driver_and_text_are_errors():
    frame = pd.DataFrame({"left": ["Yes", "No", "No"], "grade": ["a", "b", "a"], "pay": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="not in the file"):
        flat_frame(frame, {"label": "left", "drop": ["nope"]})
    with pytest.raises(ValueError, match="unknown driver"):
        flat_frame(frame, {"label": "left", "categorical": ["grade"], "drivers": {"pay": "salary"}})
    with pytest.raises(ValueError, match=r"\['grade'\] are text"):
        flat_frame(frame, {"label": "left"})


def test_a_protected_column_not_declared_protected_is_refused(ibm):
    # The reviewer's case: MaritalStatus left out of flat.protected and Gender put in flat.categorical
    # made Age the model's top feature, with no warning.
    exp, _ = ibm
    frame = pd.read_csv(exp["data"]["path"])
    mapping = {**exp["flat"], "protected": ["MaritalStatus"], "categorical": [*exp["flat"]["categorical"], "Gender"]}
    with pytest.raises(ValueError, match=r"column 'Age' looks like a protected characteristic(.|\n)*column 'Gender'"):
        flat_frame(frame, mapping)
    dropped = {**exp["flat"], "protected": ["MaritalStatus"], "drop": [*exp["flat"]["drop"], "Age", "Gender"]}
    assert not {"Age", "Gender"} & set(flat_frame(frame, dropped).X.columns)


def test_flat_split_is_stratified_and_disjoint():
    y = np.r_[np.ones(100), np.zeros(400)]
    m = flat_split(y, valid_fraction=0.2, test_fraction=0.25, random_state=0)
    assert (m["train"].astype(int) + m["valid"] + m["test"] == 1).all()
    for part in m.values():
        assert y[part].mean() == pytest.approx(0.2, abs=0.02)


@pytest.mark.parametrize("with_id", [True, False])
def test_row_order_of_the_file_does_not_change_the_data_set(ibm, tmp_path, with_id):
    # Splits and folds are drawn over row positions: the same records in another order must give the same rows.
    exp, _ = ibm
    mapping = dict(exp["flat"])
    if not with_id:
        mapping["drop"] = [*mapping.get("drop", []), mapping.pop("id")]
    frame = pd.read_csv(exp["data"]["path"])
    frame.sample(frac=1, random_state=3).to_csv(tmp_path / "shuffled.csv", index=False)
    frame.to_csv(tmp_path / "original.csv", index=False)
    a, b = load_flat(tmp_path / "original.csv", mapping), load_flat(tmp_path / "shuffled.csv", mapping)
    pd.testing.assert_frame_equal(a.X, b.X)
    pd.testing.assert_series_equal(a.y, b.y)
    pd.testing.assert_frame_equal(a.keys, b.keys)


@pytest.mark.parametrize("key, extra, column, held_by", [
    ("drivers", {"drivers": {"Gender": "personal"}}, "Gender", "protected"),
    ("categorical", {"categorical": ["Department", "Gender"]}, "Gender", "protected"),
    ("drivers", {"drivers": {"EmployeeNumber": "career_progression"}}, "EmployeeNumber", "id"),
    ("drivers", {"drivers": {"Attrition": "other"}}, "Attrition", "label"),
    ("drivers", {"drivers": {"StandardHours": "work_life_balance"}}, "StandardHours", "drop"),
])
def test_a_column_kept_out_of_the_model_cannot_also_be_given_a_features_role(ibm, key, extra, column, held_by):
    # The analyst's case: flat.drivers.Sex = "personal" beside flat.protected = ["Sex"] trained without a word, and
    # the logged experiment file told the board that Sex was a model input.
    exp, _ = ibm
    frame = pd.read_csv(exp["data"]["path"])
    mapping = {**exp["flat"], key: {**exp["flat"][key], **extra[key]} if key == "drivers" else extra[key]}
    with pytest.raises(ValueError, match=rf"column '{column}' is named in flat\.{key} \(a feature's role\), but "
                                         rf"flat\.{held_by} keeps it out of the model"):
        flat_frame(frame, mapping)
