"""The logged test predictions are audit rows no list joins to: no worker or team id, run-local
pseudonyms, rows in value order; the fairness audit of them is the audit of the worker-keyed predictions."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.fairness import audit_fairness
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
    assert rows.columns.tolist() == ["person", "team", "as_of", "area", "service", "employment_type", "sex", "age_band",
                                     "ethnicity_group", "disability", "label", "risk"]
    assert not set(rows["person"]) & set(predictions["worker_id"])
    # One pseudonym per person, the same at both dates (the audit counts people), however the rows are ordered.
    assert rows["person"].nunique() == predictions["worker_id"].nunique() == 60
    assert rows.groupby("person").size().eq(2).all()
    # One team pseudonym per team, no team id, and a person's rows keep their team's (the card's team check groups on it).
    assert not set(rows["team"]) & set(predictions["team_id"])
    assert rows["team"].nunique() == predictions["team_id"].nunique() == 7
    assert rows.groupby("person")["team"].nunique().eq(1).all()
    assert sorted(rows.groupby("team")["person"].nunique()) == sorted(predictions.groupby("team_id")["worker_id"].nunique())
    # Rows are in value order (date, then risk), not in worker-id order.
    assert rows[["as_of", "risk"]].equals(predictions.sort_values(["as_of", "risk"])[["as_of", "risk"]].reset_index(drop=True))
    # Every worker-keyed row is there, by value.
    values = [c for c in rows.columns if c not in ("person", "team")]
    key = predictions.sort_values(["as_of", "risk"])[values].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows[values], key)


def test_a_new_pseudonym_every_run_and_the_same_audit(predictions):
    a, b = audit_rows(predictions), audit_rows(predictions)
    assert not a["person"].equals(b["person"])  # fresh numbering: not recomputable from one run to the next
    pseudonyms = ["person", "team"]
    pd.testing.assert_frame_equal(a.drop(columns=pseudonyms), b.drop(columns=pseudonyms))
    # Renaming every worker id (another council's numbering) changes nothing but, at most, the pseudonyms.
    renamed = predictions.assign(worker_id=predictions["worker_id"].str.replace("W", "X"))
    pd.testing.assert_frame_equal(audit_rows(renamed).drop(columns=pseudonyms), a.drop(columns=pseudonyms))
    # The audit of the logged rows is the audit of the worker-keyed predictions (people counted by pseudonym).
    for rows in (a, b):
        audit = audit_fairness(rows, min_group=5)
        expected = audit_fairness(predictions.sort_values(["as_of", "risk"]), min_group=5)
        pd.testing.assert_frame_equal(audit.table, expected.table)
        assert audit.overall == expected.overall


def test_a_flat_extracts_own_protected_columns_are_kept(predictions):
    flat = predictions[["worker_id", "team_id", "label", "risk"]].assign(Gender=predictions["sex"], Department="Sales")
    rows = audit_rows(flat, ["Gender"])
    assert rows.columns.tolist() == ["person", "team", "Gender", "label", "risk"]
    assert rows.drop(columns="team").pipe(lambda r: audit_fairness(r, min_group=5).table["factor"].unique().tolist()) == \
        audit_fairness(rows, min_group=5).table["factor"].unique().tolist()  # the team pseudonym is never audited
