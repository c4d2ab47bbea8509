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


def test_an_agency_worker_is_not_told_they_lack_a_supplement_they_are_not_eligible_for():
    X = pd.DataFrame({**{k: v[:1] for k, v in PAY.items()}, "employment_agency": [1.0]})
    X["pay_spinal_point"] = np.nan
    context = pd.DataFrame({"employment_type": ["agency"]})
    reason = _pay_reasons(X, "pay_agency_gap", context).item()
    assert reason == "agency work at this council pays 84% more than their full-time pay of GBP 38,904 a year"
    reason = _pay_reasons(X, "pay_salary_fte", context).item()
    assert "supplement" not in reason and reason.startswith("salary GBP 38,904 a year")


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
