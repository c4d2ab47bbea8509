"""Flat extracts: the outcome column holds only the two declared values, one row per employee, and no feature
records the outcome (a column filled in when or after someone leaves)."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.flat import LEAK_AUC, flat_frame, load_flat, single_column_auc

MAPPING = {"label": "Left", "id": "StaffRef", "categorical": ["Team"]}


def _extract(n=200, leavers=30, seed=0) -> pd.DataFrame:
    """A small extract in file order that is NOT id order (so file rows and sorted positions differ)."""
    rng = np.random.default_rng(seed)
    left = np.r_[np.ones(leavers, bool), np.zeros(n - leavers, bool)]
    rng.shuffle(left)
    return pd.DataFrame({"StaffRef": [f"S{i:04d}" for i in rng.permutation(n)],
                         "Team": rng.choice(["Front door", "Children in care", "Safeguarding"], n),
                         "Caseload": rng.integers(10, 30, n), "Salary": rng.normal(40000, 4000, n).round(),
                         "Left": np.where(left, "Yes", "No")})


def _refusal(tmp_path, frame, mapping=MAPPING) -> str:
    frame.to_csv(tmp_path / "extract.csv", index=False)
    with pytest.raises(ValueError) as info:
        load_flat(tmp_path / "extract.csv", mapping)
    return str(info.value)


# -- the outcome column (reviewer S10-A F4) ----------------------------------------------------------
def test_a_blank_outcome_is_refused_with_its_file_rows_not_trained_as_stayed(tmp_path):
    frame = _extract()
    frame.loc[[4, 17], "Left"] = ""  # file rows 5 and 18: the reviewer's blanks trained as "stayed"
    message = _refusal(tmp_path, frame)
    assert "column 'Left' (flat.label, the outcome)" in message
    assert "flat.positive = 'Yes'" in message and "flat.negative = 'No'" in message
    assert "blank on 2 row(s): 5, 18" in message


def test_another_spelling_of_the_outcome_is_refused_with_counts(tmp_path):
    frame = _extract()
    rows = frame.index[frame["Left"] == "Yes"][:3]
    frame.loc[rows, "Left"] = "yes"
    message = _refusal(tmp_path, frame)
    assert f"'yes' on 3 row(s): {', '.join(str(r + 1) for r in rows)}" in message
    assert "'No' 170, 'Yes' 27, 'yes' 3" in message


def test_declared_outcome_values_are_read_as_written(tmp_path):
    frame = _extract()
    frame["Left"] = np.where(frame["Left"] == "Yes", "Leaver", "Stayer")
    frame.to_csv(tmp_path / "extract.csv", index=False)
    ds = load_flat(tmp_path / "extract.csv", {**MAPPING, "positive": "Leaver", "negative": "Stayer"})
    assert ds.y.sum() == 30 and len(ds.y) == 200
    # a 1/0 column with a blank cell is read as floats: "1.0" must still match "1", and the blank is refused
    frame["Left"] = np.where(frame["Left"] == "Leaver", 1.0, 0.0)
    ok = flat_frame(frame, {**MAPPING, "positive": "1", "negative": "0"})
    assert ok.y.sum() == 30
    frame.loc[7, "Left"] = np.nan
    with pytest.raises(ValueError, match=r"blank on 1 row\(s\): 8"):
        flat_frame(frame, {**MAPPING, "positive": "1", "negative": "0"})


# -- one row per employee (reviewer S10-A F5) --------------------------------------------------------
def test_a_repeated_or_blank_id_is_refused_with_its_rows(tmp_path):
    frame = _extract()
    doubled = pd.concat([frame, frame.iloc[[3]]], ignore_index=True)  # row 4 again as row 201
    message = _refusal(tmp_path, doubled)
    assert f"'{frame.loc[3, 'StaffRef']}' on rows 4, 201" in message and "flat.id" in message
    frame.loc[9, "StaffRef"] = None
    assert "blank on 1 row(s): 10" in _refusal(tmp_path, frame)


# -- outcome columns (reviewer S10-A F18) ------------------------------------------------------------
def _leaky(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A column filled in only for leavers (a notice period, a leaving reason), blank for everyone else."""
    rng = np.random.default_rng(1)
    return frame.assign(**{name: np.where(frame["Left"] == "Yes", rng.integers(20, 90, len(frame)), np.nan)})


def test_a_column_filled_only_for_leavers_is_refused_whatever_its_name():
    frame = _leaky(_extract(), "Flag7")  # a name no rule flags: the data rule must
    with pytest.raises(ValueError) as info:
        flat_frame(frame, MAPPING)
    message = str(info.value)
    assert "column 'Flag7': alone it separates leavers from stayers with ROC-AUC 1.000" in message
    assert "blank for 0% of leavers and 100% of stayers" in message
    assert 'flat.drop' in message and 'flat.not_outcome = ["Flag7"]' in message
    assert "Flag7" not in flat_frame(frame, {**MAPPING, "drop": ["Flag7"]}).X.columns
    # cleared by the analyst (known before anyone leaves), it is a feature
    assert "Flag7" in flat_frame(frame, {**MAPPING, "not_outcome": ["Flag7"]}).X.columns


def test_a_text_leaving_reason_is_refused_by_its_value_and_its_name():
    frame = _extract()
    frame["LeavingReason"] = np.where(frame["Left"] == "Yes", "Resigned", "")
    with pytest.raises(ValueError, match=r"column 'LeavingReason': its name looks like an outcome(.|\n)*matched "
                                         r"'leaving'\) and alone it separates leavers from stayers with ROC-AUC 1.000"):
        flat_frame(frame, {**MAPPING, "categorical": ["Team", "LeavingReason"]})


def test_an_outcome_name_is_refused_even_when_its_values_say_nothing():
    frame = _extract().assign(NoticePeriodWeeks=4)  # contractual, known in advance: the analyst clears it
    with pytest.raises(ValueError, match=r"column 'NoticePeriodWeeks': its name looks like an outcome .*"
                                         r"matched 'notice'\): list it in flat.drop"):
        flat_frame(frame, MAPPING)
    assert "NoticePeriodWeeks" in flat_frame(frame, {**MAPPING, "not_outcome": ["NoticePeriodWeeks"]}).X.columns
    with pytest.raises(ValueError, match=r"flat.not_outcome lists \['Salary'\], which no rule flags"):
        flat_frame(frame, {**MAPPING, "not_outcome": ["NoticePeriodWeeks", "Salary"]})


def test_the_data_rule_waits_for_ten_leavers_and_stays_below_its_threshold_on_honest_columns():
    # With 5 leavers a column of noise can reach the threshold by chance: the data rule does not apply.
    small = _leaky(_extract(leavers=5), "Flag7")
    assert "Flag7" in flat_frame(small, MAPPING).X.columns
    # Text with a value per person is scored by its best single value, not a learnt encoding: near 0.5.
    frame = _extract()
    scores = single_column_auc(frame[["StaffRef", "Caseload", "Team"]], (frame["Left"] == "Yes").astype(float))
    assert scores["auc"].max() < 0.7 < LEAK_AUC


def test_blank_is_scored_apart_from_every_value():
    # blank for leavers only, values on both sides of zero for stayers: blank must rank below (or above) all
    # values, not be filled with a number that sits among them
    y = pd.Series(np.r_[np.ones(20), np.zeros(80)])
    column = pd.DataFrame({"Flag": np.r_[np.full(20, np.nan), np.linspace(-5, 5, 80)]})
    assert single_column_auc(column, y).loc["Flag", "auc"] == pytest.approx(1.0)
    assert single_column_auc(column, y).loc["Flag", "blank_leavers"] == 1.0


def test_the_two_outcome_values_must_differ():
    from retention_ml.experiment import ExperimentError, experiment_from_dict

    with pytest.raises(ExperimentError, match="'flat.positive' and 'flat.negative' are both 'Yes'"):
        experiment_from_dict({"name": "x", "kind": "flat", "data": {"path": "x.csv"},
                              "flat": {"label": "Left", "positive": "Yes", "negative": "Yes"}})


def test_a_column_is_either_cleared_as_no_outcome_or_dropped():
    from retention_ml.experiment import ExperimentError, experiment_from_dict

    with pytest.raises(ExperimentError, match=r"'flat.not_outcome' and 'flat.drop' both name \['NoticeDays'\]"):
        experiment_from_dict({"name": "x", "kind": "flat", "data": {"path": "x.csv"},
                              "flat": {"label": "Left", "drop": ["NoticeDays"], "not_outcome": ["NoticeDays"]}})
