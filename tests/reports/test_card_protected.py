"""The model card names the protected characteristics its audit covers, and any it could not audit with the
reason (a flat extract's Age was silently left out while the card said age was audited)."""

import numpy as np
import pandas as pd
import pytest



def _predictions(age) -> pd.DataFrame:
    n = len(age)
    rng = np.random.default_rng(1)
    return pd.DataFrame({"worker_id": [f"W{i:06d}" for i in range(n)], "team_id": "all",
                         "label": (np.arange(n) % 4 == 0).astype(float), "risk": rng.uniform(0.05, 0.5, n),
                         "Gender": np.where(np.arange(n) % 2, "Female", "Male"), "Age": age})


def test_an_ungrouped_protected_column_is_named_as_not_audited_never_dropped_silently():
    from retention_ml.fairness import audit_fairness

    raw = audit_fairness(_predictions(np.arange(200) % 43 + 18))  # a run whose Age reached the audit ungrouped
    assert set(raw.table["factor"]) == {"Gender"}
    assert raw.not_audited == {"Age": "43 distinct values, more than the 12 groups the audit compares (not grouped "
                                      "into bands in this run)"}
    banded = audit_fairness(_predictions(np.where(np.arange(200) % 2, "30_39", "40_49")))
    assert set(banded.table["factor"]) == {"Gender", "Age"} and banded.not_audited == {}


def test_the_card_sentence_names_what_was_and_was_not_audited():
    from retention_ml.reports.model_card import _protected_sentence

    text = _protected_sentence({"protected_audited": ["Gender", "MaritalStatus"],
                                "not_audited": {"Age": "43 distinct values"}})
    assert text.startswith("Protected characteristics audited here: Gender, MaritalStatus;")
    assert "Not audited: Age (43 distinct values)." in text
    assert "age" not in text.split("Not audited")[0].lower()  # no claim that age was audited


@pytest.fixture(scope="module")
def ibm_run(tmp_path_factory, scratch_store, ibm_model):
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("ibm_card")
    with scratch_store(ibm_model.root):
        result = ibm_model.result
        md = write_card(result.run_id, root / "card", log=False)["markdown"].read_text(encoding="utf-8")
        from retention_ml.promotion import run_checks

        checks = run_checks(result.run_id, _thresholds() | {"require_card": False})
        yield {"result": result, "md": md, "checks": checks}


def _thresholds() -> dict:
    from retention_ml.promotion import load_thresholds

    return load_thresholds()


def test_ibm_card_audits_age_in_bands_and_says_so(ibm_run):
    md = ibm_run["md"]
    assert "Protected characteristics audited here: Age, Gender, MaritalStatus;" in md
    assert "Not audited" not in md
    assert "### Age" in md
    age = md.split("### Age", 1)[1].split("###", 1)[0]
    assert "| 30-39 |" in age and "| 40-49 |" in age  # the council data's age bands, not 43 single years
    # the logged predictions carry the band, not the age in years
    assert set(ibm_run["result"].predictions["Age"]) <= {"under_25", "25_29", "30_39", "40_49", "50_59", "60_plus"}


def test_the_promotion_gate_group_checks_see_age(ibm_run):
    # the gate reads the run's logged audit (evaluation/fairness_audit.json), a flat extract's own columns too
    from retention_ml.fairness import logged_audit

    audit, rows = logged_audit(ibm_run["result"].run_id, min_group=_thresholds()["min_group"])
    assert rows is None
    assert "Age" in set(audit.group_shortfalls()["factor"]) and audit.not_audited == {}
    group_details = " ".join(c.detail for c in ibm_run["checks"] if c.name.startswith("group_"))
    assert "worst group" in group_details


def test_a_flat_card_says_where_calibration_was_fitted_and_offers_no_lists(ibm_run):
    # Reviewer S10-A F12: a flat-extract card said calibration was fitted "on the validation window" (there is
    # none: cross-fitting) and promised team managers their lists from a model that cannot score anyone.
    calibration = ibm_run["md"].split("| Calibration |", 1)[1].split("\n", 1)[0]
    md = " ".join(ibm_run["md"].split())
    assert "fitted on the 5-fold cross-fitting" in calibration and "on the 5-fold cross-fitting (" in calibration
    assert "validation window" not in calibration
    assert "| Validation window | none: the trees and the calibration were chosen by cross-fitting" in md
    assert "cannot score anyone" in md and "gives team managers and heads of service no lists" in md
    assert "This model makes no lists" in md
    assert "A team manager gets" not in md and "who get the list of their own team" not in md
    assert "The reasons on the lists come from SHAP values" not in md and "No per-person explanations" in md
    n = ibm_run["result"].metrics["counts"]["test"]["n"]
    assert f"Test window: {n} rows of" in md
