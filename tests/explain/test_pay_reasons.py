"""Pay reasons: a salary beside the person's own pay facts at the date, so a manager can tell whether it is low.

"on spinal point 44, salary GBP 66,975 a year" compared the pay with nothing: the same words for someone
whom agency work at their council would pay 84% more and for someone it would pay 2% more.
"""

import numpy as np
import pandas as pd

from retention_ml.explain.reasons import reason_table
from retention_ml.features import feature_catalogue


def _pay_reasons(X: pd.DataFrame, lead: str, context: pd.DataFrame | None = None) -> pd.Series:
    """The first reason of each row of ``X`` when the pay driver, led by ``lead``, is its only upward driver."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    values = pd.DataFrame(0.0, index=X.index, columns=[c for c in X.columns if c in drivers.index])
    values[lead] = 0.3
    profile = pd.DataFrame({drivers[lead]: [0.3] * len(X)}, index=X.index)
    table = reason_table(values, profile, X, context, catalogue, drivers.reindex(values.columns), k=1)
    assert (table["reason_driver_1"] == "pay").all()
    return table["reason_1"]


PAY = {"pay_spinal_point": [22.0, 44.0, 23.0], "pay_salary_fte": [38_904.0, 66_975.0, 39_876.0],
       "pay_supplement": [0.0, 3_000.0, 2_000.0], "pay_retention_payment": [0.0, 0.0, 1_500.0],
       "pay_agency_gap": [0.8435, 0.0249, -0.031], "months_since_pay_rise": [9.03, 30.2, 14.0],
       "employment_agency": [0.0, 0.0, 0.0]}


def test_a_spinal_point_reason_says_what_is_added_what_agency_work_pays_and_how_long_since_a_rise():
    reasons = _pay_reasons(pd.DataFrame(PAY), "pay_spinal_point")
    assert reasons.tolist() == [
        "on spinal point 22: full-time salary GBP 38,904 a year with no market supplement or retention payment; "
        "agency work at this council pays 84% more; no pay rise for 9 months",
        "on spinal point 44: full-time salary GBP 66,975 a year with a market supplement of GBP 3,000 and no "
        "retention payment; agency work at this council pays 2% more; no pay rise for 2 years",
        "on spinal point 23: full-time salary GBP 39,876 a year with a market supplement of GBP 2,000 and a "
        "retention payment of GBP 1,500; agency work at this council pays 3% less; no pay rise for 14 months",
    ]


def test_the_agency_gap_reason_names_the_pay_it_is_measured_against():
    reasons = _pay_reasons(pd.DataFrame(PAY), "pay_agency_gap")
    assert reasons.iloc[0] == ("agency work at this council pays 84% more than their full-time pay: salary GBP 38,904 "
                               "a year with no market supplement or retention payment")
    assert reasons.iloc[2].startswith("agency work at this council pays 3% less than")   # never "-3% more"


# An agency worker's pay_salary_fte is their day rate x 220 (pay_history.annual_salary), so pay_agency_gap is the
# council's typical agency day rate against their own, minus 1: GBP 360 a day against GBP 362 now, GBP 300 against
# 330, GBP 400 against 380.
AGENCY = {"pay_spinal_point": [np.nan] * 3, "pay_salary_fte": [79_200.0, 66_000.0, 88_000.0],
          "pay_supplement": [0.0] * 3, "pay_retention_payment": [0.0] * 3,
          "pay_agency_gap": [2 / 360, 0.1, -0.05], "months_since_pay_rise": [4.2, 30.0, 1.5],
          "employment_agency": [1.0] * 3, "tenure_months": [4.2, 30.0, 63.0], "months_since_progression": [4.2, 30.0, 63.0]}


def test_an_agency_workers_pay_reason_is_their_day_rate_off_the_councils_pay_scale_never_a_salary():
    # "salary GBP 79,200 a year (full-time equivalent; employment type: agency)" called a day rate a salary
    # and compared it with nothing (2,394 reasons on the national lists at 2024-01-01)
    X = pd.DataFrame(AGENCY)
    expected = [
        "agency worker on a day rate of GBP 360 (GBP 79,200 a year full-time), not on the council's pay scale",
        "agency worker on a day rate of GBP 300 (GBP 66,000 a year full-time), not on the council's pay scale",
        "agency worker on a day rate of GBP 400 (GBP 88,000 a year full-time), not on the council's pay scale",
    ]
    for lead in ("pay_salary_fte", "pay_agency_gap", "pay_supplement", "pay_retention_payment"):
        reasons = _pay_reasons(X, lead)
        assert reasons.tolist() == expected, lead
        assert not reasons.str.contains("salary|supplement|retention|than their full-time pay").any()
    assert _pay_reasons(X, "months_since_pay_rise").tolist()[1] == (
        "agency worker on a day rate of GBP 300, unchanged for 2 years, not on the council's pay scale")


def test_an_agency_workers_pay_reason_does_not_quote_the_councils_agency_rate_which_lowers_their_risk():
    # "the typical agency day rate at this council is now about the same (GBP 349)": about the same as what, and
    # why a reason? In the model the agency gap lowers every agency worker's risk (SHAP -0.17 on average on the
    # national lists at 2024-01-01), so a comparison with it is no part of their pay reason.
    X = pd.DataFrame(AGENCY)
    for lead in ("pay_salary_fte", "pay_agency_gap", "months_since_pay_rise"):
        reasons = _pay_reasons(X, lead)
        assert not reasons.str.contains("typical|about the same|more|less|GBP 362|GBP 330|GBP 380").any(), lead


def test_an_agency_worker_is_known_by_the_contexts_employment_type_too_and_without_agency_rates_keeps_the_day_rate():
    X = pd.DataFrame(AGENCY).drop(columns="employment_agency")
    X["pay_agency_gap"] = np.nan                      # no agency_rates table
    context = pd.DataFrame({"employment_type": ["agency", "agency", "permanent"]})
    reasons = _pay_reasons(X, "pay_salary_fte", context)
    assert reasons.tolist()[:2] == [
        "agency worker on a day rate of GBP 360 (GBP 79,200 a year full-time), not on the council's pay scale",
        "agency worker on a day rate of GBP 300 (GBP 66,000 a year full-time), not on the council's pay scale"]
    assert not reasons.iloc[2].startswith("agency worker")   # a permanent worker keeps the salary words
    assert not reasons.str.contains("nan").any()


def test_an_agency_worker_is_not_told_of_a_progression_or_promotion_the_council_never_offers_them():
    # "no progression or promotion in 5 years in this post (role: social worker)": 372 agency workers'
    # reasons on the national lists at 2024-01-01, read as a progression withheld; agency staff have no grades
    X = pd.DataFrame(AGENCY)
    X.loc[2, "employment_agency"] = 0.0
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    values = pd.DataFrame(0.0, index=X.index, columns=[c for c in X.columns if c in drivers.index])
    values["months_since_progression"] = 0.3
    profile = pd.DataFrame({"career_progression": [0.3] * len(X)}, index=X.index)
    context = pd.DataFrame({"role": ["social_worker"] * 3})
    table = reason_table(values, profile, X, context, catalogue, drivers.reindex(values.columns), k=1)
    assert table["reason_1"].tolist() == [
        "4 months in this post as an agency worker, with no progression route (agency staff are not on the "
        "council's grades)",
        "2 years in this post as an agency worker, with no progression route (agency staff are not on the "
        "council's grades)",
        "no progression or promotion in 5 years in this post (role: social worker)",
    ]
    # the lever beside it is the agency group's: a permanent post, with its progression
    assert table["lever_1"].iloc[0].startswith("Discuss a permanent post")


def test_an_agency_worker_is_not_told_they_lack_a_supplement_they_are_not_eligible_for():
    X = pd.DataFrame({**{k: v[:1] for k, v in PAY.items()}, "employment_agency": [1.0]})
    X["pay_spinal_point"] = np.nan
    context = pd.DataFrame({"employment_type": ["agency"]})
    for lead in ("pay_agency_gap", "pay_salary_fte", "pay_supplement"):
        reason = _pay_reasons(X, lead, context).item()
        assert "supplement" not in reason and reason.startswith("agency worker on a day rate of GBP 177 ")


def test_a_missing_agency_rate_or_pay_record_falls_back_to_shorter_words_never_nan():
    X = pd.DataFrame(PAY)
    X["pay_agency_gap"] = np.nan                      # no agency_rates table
    X.loc[1, "months_since_pay_rise"] = np.nan
    X.loc[2, "pay_retention_payment"] = np.nan        # not recorded: nothing said about additions
    reasons = _pay_reasons(X, "pay_spinal_point")
    assert reasons.tolist() == [
        "on spinal point 22: full-time salary GBP 38,904 a year with no market supplement or retention payment; "
        "no pay rise for 9 months",
        "on spinal point 44: full-time salary GBP 66,975 a year with a market supplement of GBP 3,000 and no "
        "retention payment",
        "on spinal point 23, salary GBP 39,876 a year (full-time equivalent)",
    ]
    assert not reasons.str.contains("nan").any()


def test_no_supplement_is_said_as_none_not_as_gbp_0():
    reasons = _pay_reasons(pd.DataFrame(PAY), "pay_supplement")
    assert reasons.iloc[0] == ("no market supplement (full-time salary GBP 38,904 a year; agency work at this council "
                               "pays 84% more)")
    assert reasons.iloc[1] == "market supplement GBP 3,000 a year"
    assert _pay_reasons(pd.DataFrame(PAY), "pay_retention_payment").iloc[0].startswith("no retention payment (")


def test_someone_with_no_social_work_qualification_is_told_what_agencies_pay_a_qualified_social_worker():
    """The council's agency day rate is a qualified social worker's (agency_rates.day_rate): "agency work at this
    council pays 93% more than their full-time pay" was untrue of an unqualified personal adviser (947 such reasons
    on the national lists at 2024-01-01). A qualified person's words stay as they were; so do they where the
    qualification is not among the features."""
    X = pd.DataFrame(PAY).assign(months_since_qualified=[np.nan, 80.0, np.nan])
    for lead in ("pay_agency_gap", "pay_spinal_point", "pay_supplement"):
        reasons = _pay_reasons(X, lead)
        assert "agencies here pay a qualified social worker 84% more" in reasons.iloc[0], reasons.iloc[0]
        assert "agency work at this council" not in reasons.iloc[0]
        assert reasons.iloc[1] == _pay_reasons(pd.DataFrame(PAY), lead).iloc[1]   # qualified: as before
    assert _pay_reasons(X, "pay_agency_gap").iloc[2].startswith("agencies here pay a qualified social worker 3% less than")
    assert _pay_reasons(pd.DataFrame(PAY), "pay_agency_gap").iloc[0].startswith("agency work at this council pays 84% more")
