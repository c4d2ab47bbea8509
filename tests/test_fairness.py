"""Group audit: numbers agree with an independent computation, small groups carry no number, gaps
skip them; protected characteristics are never model inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from retention_ml.fairness import (
    MIN_GROUP,
    MISSING_COLUMNS,
    TOO_FEW,
    TOO_FEW_LEAVERS,
    WITHHELD,
    audit_fairness,
    flag_top_share,
    protected_columns,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def predictions():
    """Area North (300 people, well calibrated), South (300, risk halved), Tiny (10 people, extreme)."""
    rng = np.random.default_rng(7)
    n = 610
    area = np.array(["North"] * 300 + ["South"] * 300 + ["Tiny"] * 10)
    p = rng.uniform(0.02, 0.6, n)
    label = (rng.random(n) < p).astype(float)
    risk = np.where(area == "South", p / 2, p)
    risk[area == "Tiny"] = 0.99
    label[area == "Tiny"] = 0.0
    return pd.DataFrame({"worker_id": [f"W{i}" for i in range(n)], "area": area, "label": label, "risk": risk,
                         "sex": rng.choice(["female", "male"], n)})


def test_flag_top_share_flags_exactly_the_top_tenth():
    risk = np.array([0.5, 0.5, 0.5, 0.1, 0.2, 0.3, 0.4, 0.05, 0.01, 0.02, 0.9])
    flags = flag_top_share(risk, 0.10)
    assert flags.sum() == 2 and flags[10] and flags[0]  # ceil(1.1) = 2; ties broken by position


def test_group_numbers_match_an_independent_computation(predictions):
    audit = audit_fairness(predictions, factors=["area"])
    north = audit.table.set_index("group").loc["North"]
    rows = predictions[predictions["area"] == "North"]
    assert north["people"] == 300 and north["status"] == "ok"
    assert north["base_rate"] == pytest.approx(rows["label"].mean())
    assert north["roc_auc"] == pytest.approx(roc_auc_score(rows["label"], rows["risk"]))
    assert north["calibration_ratio"] == pytest.approx(rows["label"].sum() / rows["risk"].sum())
    assert north["calibration_difference"] == pytest.approx(rows["label"].mean() - rows["risk"].mean())
    top = predictions["risk"] >= np.sort(predictions["risk"])[::-1][int(np.ceil(0.1 * len(predictions))) - 1]
    assert north["flagged_share"] == pytest.approx(top[predictions["area"] == "North"].mean())
    south = audit.table.set_index("group").loc["South"]
    assert south["calibration_ratio"] > 1.7  # risk halved: about twice as many leave as predicted


def test_small_group_has_no_number_and_is_left_out_of_gaps(predictions):
    audit = audit_fairness(predictions, factors=["area"])
    tiny = audit.table.set_index("group").loc["Tiny"]
    assert tiny["status"] == TOO_FEW
    numbers = tiny.drop(["factor", "status", "roc_auc_note", "withheld"])
    assert numbers.isna().all()
    summary = audit.summary().set_index("group")
    assert (summary.loc["Tiny"].drop(["factor", "status"]) == TOO_FEW).all()
    # 10 people = total - North - South: the smallest shown group is withheld from display too
    withheld = audit.table.loc[audit.table["withheld"].astype(bool), "group"].tolist()
    assert withheld == ["North"]  # North and South tie at 300: the first is withheld
    assert (summary.loc["North"].drop(["factor"]) == WITHHELD).all()
    assert audit.shown["group"].tolist() == ["South"]
    assert set(audit.shown_gaps()["groups"]) == {1}
    gaps = audit.gaps.set_index("metric")
    assert "Tiny" not in set(gaps["max_group"]) | set(gaps["min_group"])
    by = audit.table.set_index("group")
    assert gaps.loc["calibration_difference", "gap"] == pytest.approx(
        abs(by.loc["North", "calibration_difference"] - by.loc["South", "calibration_difference"]))
    worst = audit.group_shortfalls().set_index("group")["calibration_gap"].idxmax()
    assert worst == "South"  # the gate's view keeps withheld groups


def test_roc_auc_needs_five_leavers_and_missing_values_are_a_group(predictions):
    data = predictions[predictions["area"] != "Tiny"].copy()
    data["disability"] = "no"
    data.loc[data.index[:40], "disability"] = "yes"
    data.loc[data.index[:40], "label"] = [1.0] * 3 + [0.0] * 37
    data.loc[data.index[40:70], "disability"] = None
    data.loc[data.index[70:75], "label"] = np.nan  # censored rows are ignored
    audit = audit_fairness(data, factors=["disability"])
    table = audit.table.set_index("group")
    assert np.isnan(table.loc["yes", "roc_auc"]) and table.loc["yes", "roc_auc_note"] == TOO_FEW_LEAVERS
    assert table.loc["yes", "base_rate"] == pytest.approx(3 / 40)
    assert table.loc["not_recorded", "people"] == 30
    assert audit.overall["rows"] == len(data) - 5


def test_bootstrap_intervals_bracket_the_estimate(predictions):
    audit = audit_fairness(predictions, factors=["sex"], n_boot=10, random_state=1)
    for row in audit.table.to_dict("records"):
        assert row["roc_auc_low"] <= row["roc_auc"] <= row["roc_auc_high"]
        assert row["base_rate_low"] < row["base_rate_high"]


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="label, risk"):
        audit_fairness(pd.DataFrame({"worker_id": [1]}))
    assert "{columns}" in MISSING_COLUMNS


def test_min_group_is_the_project_rule():
    assert MIN_GROUP == 20


# -- protected characteristics are never model inputs ---------------------------------------------
def test_schema_declares_the_protected_columns_the_audit_uses():
    from retention_ml.fairness import AUDIT_FACTORS
    from retention_ml.training import PROTECTED_KEYS

    protected = protected_columns()
    assert {"sex", "age_band", "ethnicity_group", "disability"} <= set(protected)
    assert set(PROTECTED_KEYS) <= set(protected) and set(protected) <= set(AUDIT_FACTORS)


def test_trained_model_never_sees_protected_columns(ibm_model):
    """A real TurnoverModel trained by H4's pipeline (IBM HR flat extract): no protected column is an input."""
    from retention_ml.experiment import load_experiment

    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml")
    result = ibm_model.result
    inputs = set(result.model.feature_names_in_)
    forbidden = set(protected_columns()) | set(exp["flat"]["protected"])
    assert inputs and not (inputs & forbidden)
    # and no one-hot expansion of them either (e.g. Gender_Male)
    assert not [c for c in inputs if any(c.startswith(f"{p}_") for p in forbidden)]
    # the audit columns do travel with the predictions, for the audit only
    assert set(exp["flat"]["protected"]) <= set(result.predictions.columns)


def test_feature_catalogue_has_no_protected_column():
    from retention_ml.features import feature_catalogue

    features = set(feature_catalogue()["feature"])
    forbidden = set(protected_columns())
    assert features and not (features & forbidden)
    assert not [f for f in features if any(f.startswith(f"{p}_") for p in forbidden)]


def test_a_group_where_fewer_than_5_people_left_is_withheld_with_its_complement():
    """The demo council's card printed 'disability yes: 25 people, 1 observed leaver': whoever knows who left that
    year learns that person's disability. Leavers (or stayers) under MIN_PEOPLE withhold the group, and the next
    group too while the hidden groups' leavers add up to 1-4 (the window's total leavers are published)."""
    from retention_ml.fairness import audit_fairness

    n = 300
    disability = np.array(["no"] * 250 + ["yes"] * 25 + ["not_known"] * 25)
    label = np.zeros(n)
    label[:20] = 1          # 20 of "no" left
    label[250] = 1          # 1 of "yes" left
    stayers = np.array(["a"] * 100 + ["b"] * 100 + ["c"] * 100)
    label_b = label.copy()
    label_b[100:198] = 1    # group b: 98 of 100 left, so 2 stayed
    risk = np.linspace(0.05, 0.5, n)
    frame = pd.DataFrame({"worker_id": [f"W{i:03d}" for i in range(n)], "label": label, "risk": risk,
                          "disability": disability})
    table = audit_fairness(frame).table.set_index("group")
    # yes: 1 leaver; then the hidden total is 1, so the shown group with the fewest leavers (no: 20) goes too;
    # not_known (nobody left) stays shown: withholding it would hide no leaver
    assert table["withheld"].to_dict() == {"no": True, "not_known": False, "yes": True}
    shown = audit_fairness(frame).shown
    assert set(shown["group"]) == {"not_known"}
    other = pd.DataFrame({"worker_id": frame["worker_id"], "label": label_b, "risk": risk, "team_type": stayers})
    audit = audit_fairness(other, factors=["team_type"])
    assert bool(audit.table.set_index("group").loc["b", "withheld"])  # 2 stayers: under MIN_PEOPLE
