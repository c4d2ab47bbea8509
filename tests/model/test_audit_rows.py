"""The logged test predictions are audit rows no list joins to: no worker or team id, no team key, a run-local
person pseudonym, rows in value order; the fairness audit of them is the audit of the worker-keyed predictions."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.disclosure import AUDIT_RISK_DECIMALS
from retention_ml.fairness import FLAGGED, audit_fairness
from retention_ml.training import audit_rows


@pytest.fixture()
def predictions():
    """Worker-keyed test predictions as training holds them in memory: 60 workers at 2 dates."""
    rng = np.random.default_rng(4)
    n, dates = 60, ["2023-01-01", "2023-04-01"]
    frame = pd.DataFrame({"worker_id": [f"W{i:07d}" for i in range(n)] * 2, "as_of": pd.to_datetime(np.repeat(dates, n)),
                          "team_id": [f"T{i % 7:05d}" for i in range(n)] * 2, "council_id": "C001",
                          "area": [f"C001-{'North' if i % 2 else 'South'}" for i in range(n)] * 2,
                          "service": [("care_leavers", "safeguarding", "early_help")[i % 3] for i in range(n)] * 2,
                          "employment_type": "permanent", "sex": list(rng.choice(["female", "male"], n)) * 2,
                          "age_band": list(rng.choice(["30_39", "40_49"], n)) * 2, "ethnicity_group": "white",
                          "disability": list(rng.choice(["yes", "no"], n)) * 2})
    frame["label"] = (rng.random(len(frame)) < 0.2).astype(float)
    frame["risk"] = np.round(rng.random(len(frame)), 6)
    return frame


def test_no_id_column_and_a_pseudonym_no_list_holds(predictions):
    rows = audit_rows(predictions)
    assert rows.columns.tolist() == ["person", "as_of", "area", "service", "employment_type", "sex", "age_band",
                                     "ethnicity_group", "disability", "label", "risk", FLAGGED]
    assert not set(rows["person"]) & set(predictions["worker_id"])
    # One pseudonym per person, the same at both dates (the audit counts people), however the rows are ordered.
    assert rows["person"].nunique() == predictions["worker_id"].nunique() == 60
    assert rows.groupby("person").size().eq(2).all()
    # Rows are in value order (date, then risk), not in worker-id order.
    rounded = predictions.assign(risk=predictions["risk"].round(AUDIT_RISK_DECIMALS))
    assert rows[["as_of", "risk"]].equals(rounded.sort_values(["as_of", "risk"])[["as_of", "risk"]].reset_index(drop=True))
    # Every worker-keyed row is there, by value (its risk rounded).
    values = [c for c in rows.columns if c not in ("person", FLAGGED)]
    pd.testing.assert_frame_equal(rows[values].sort_values(values, ignore_index=True),
                                  rounded[values].sort_values(values, ignore_index=True))


def test_a_new_pseudonym_every_run_and_the_same_audit(predictions):
    a, b = audit_rows(predictions), audit_rows(predictions)
    assert not a["person"].equals(b["person"])  # fresh numbering: not recomputable from one run to the next
    pseudonyms = ["person"]
    pd.testing.assert_frame_equal(a.drop(columns=pseudonyms), b.drop(columns=pseudonyms))
    # Renaming every worker id (another council's numbering) changes nothing but, at most, the pseudonyms.
    renamed = predictions.assign(worker_id=predictions["worker_id"].str.replace("W", "X"))
    pd.testing.assert_frame_equal(audit_rows(renamed).drop(columns=pseudonyms), a.drop(columns=pseudonyms))
    # The audit of the logged rows is the audit of the worker-keyed predictions (people counted by pseudonym), up
    # to the rounding of the risks; who is in the top 10% is decided before rounding, so flagged shares are exact.
    expected = audit_fairness(predictions.sort_values(["as_of", "risk"]), min_group=5)
    for rows in (a, b):
        audit = audit_fairness(rows, min_group=5)
        pd.testing.assert_frame_equal(audit.table, expected.table, check_exact=False, atol=0.01)
        pd.testing.assert_series_equal(audit.table["flagged_share"], expected.table["flagged_share"])
        assert audit.overall == pytest.approx(expected.overall, abs=0.01)
        assert {k: audit.overall[k] for k in ("flagged", "flagged_positives", "people", "rows")} == \
            {k: expected.overall[k] for k in ("flagged", "flagged_positives", "people", "rows")}


def test_a_flat_extracts_own_protected_columns_are_kept(predictions):
    flat = predictions[["worker_id", "team_id", "label", "risk"]].assign(Gender=predictions["sex"], Department="Sales")
    rows = audit_rows(flat, ["Gender"])
    assert rows.columns.tolist() == ["person", "Gender", "label", "risk", FLAGGED]
    assert audit_fairness(rows, min_group=5).table["factor"].unique().tolist() == ["Gender"]


def test_a_logged_risk_is_not_the_number_a_scores_file_holds(predictions):
    """A scores file for a test date holds each worker's risk at full precision: were the logged risk that same
    number, the row (and its protected characteristics) would join back to the worker id by value."""
    rows = audit_rows(predictions)
    assert predictions["risk"].round(AUDIT_RISK_DECIMALS).ne(predictions["risk"]).all()   # the fixture can tell
    assert rows.merge(predictions[["as_of", "worker_id", "risk"]], on=["as_of", "risk"]).empty
    assert (rows["risk"] - rows["risk"].round(AUDIT_RISK_DECIMALS)).abs().max() < 1e-12


def test_rounding_ties_never_decide_the_top_ten_percent():
    """Risks that all round to the same three decimals, with the leavers a hair above the stayers: the logged
    flag keeps the full-precision top 10% (all leavers), whatever order the tied rows are logged in."""
    n = 200
    label = (np.arange(n) % 10 == 0).astype(float)   # 20 leavers
    risk = 0.3001 + label * 0.0003 + np.arange(n) * 1e-7
    frame = pd.DataFrame({"worker_id": [f"W{i:04d}" for i in range(n)], "as_of": pd.Timestamp("2023-01-01"),
                          "sex": np.where(np.arange(n) % 2, "female", "male"), "label": label, "risk": risk})
    rows = audit_rows(frame)
    assert rows["risk"].nunique() == 1
    full, logged = audit_fairness(frame, min_group=5), audit_fairness(rows, min_group=5)
    assert logged.overall["flagged_positives"] == full.overall["flagged_positives"] == 20
    pd.testing.assert_series_equal(logged.table["flagged_share"], full.table["flagged_share"])
