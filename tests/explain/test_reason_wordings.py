"""Reason words that were true but not understood: a low team caseload cap, rent against a part-timer's
take-home pay, and a vacancy rate that counts agency cover as vacant."""

import numpy as np
import pytest
import pandas as pd

from retention_ml.explain.reasons import reason_table
from retention_ml.features import feature_catalogue


def _reasons(feature: str, X: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.Series:
    """Each row's first reason when ``feature`` alone pushes its risk up; ``context``: what scoring passes beside X."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    values = pd.DataFrame({feature: [0.4] * len(X)})
    profile = pd.DataFrame({drivers[feature]: [0.4] * len(X)})
    return reason_table(values, profile, X, context, catalogue, drivers.reindex(values.columns), k=1)["reason_1"]


def test_a_low_cap_reason_says_how_much_of_the_cap_the_caseload_fills_and_why_a_low_cap_matters():
    """"team caseload cap of 16 (own caseload 15)" (1,615 reasons on the national lists at 2024-01-01) did not
    say why a low cap raises the risk: the caseload fills more of a lower cap."""
    # full-time at the cap, part-time (0.5 FTE: own cap 8) over it, no caseload ratio recorded
    X = pd.DataFrame({"caseload_cap": [16.0, 16.0, 16.0], "caseload_current": [16.0, 9.0, 15.0],
                      "caseload_to_cap": [16 / 16, 9 / 8, np.nan]})
    got = _reasons("caseload_cap", X).tolist()
    why = "the lower a cap, the more each case counts against it"
    assert got[0] == f"caseload 16 is 100% of the team's cap of 16 per full-time post: {why}"
    assert got[1] == (f"caseload 9 is 112% of their cap of 8 for their hours (team cap 16 per full-time post): {why}")
    assert got[2] == "team caseload cap of 16 (own caseload 15)"


def test_a_caseload_reason_for_someone_under_their_cap_says_when_they_were_over_it_never_a_share_under_100():
    """"caseload 10 is 62% of the team's cap of 16 per full-time post: the lower a cap, the more each case counts
    against it" read as "no problem here" (1,456 of 2,571 such reasons on the national team lists at 2024-01-01
    were under 100%). Most of those people were over the cap in the last 12 months: that is said, with the peak."""
    # full-time under the cap, over it in 5 months; 0.5 FTE (own cap 8) under it, over it in 2; full-time, rising
    X = pd.DataFrame({"caseload_cap": [16.0] * 3, "caseload_current": [10.0, 6.0, 12.0],
                      "caseload_to_cap": [10 / 16, 6 / 8, 12 / 16], "caseload_over_cap_months_12m": [5.0, 2.0, 0.0],
                      "caseload_max_12m": [21.0, 11.0, 12.0], "caseload_trend_6m": [-0.5, 0.0, 1.24]})
    for lead in ("caseload_cap", "caseload_to_cap"):
        got = _reasons(lead, X).tolist()
        assert got == [
            "caseload 10 now, under the team's cap of 16 per full-time post, but over it in 5 of the last 12 months "
            "(peak 21)",
            "caseload 6 now, under their cap of 8 for their hours (team cap 16 per full-time post), but over it in 2 "
            "of the last 12 months (peak 11)",
            "caseload 12, rising by 1.2 cases a month over the last 6 months, against the team's cap of 16 per "
            "full-time post"], lead
        assert not any("%" in text for text in got)


def test_a_caseload_under_the_cap_never_over_it_in_a_year_and_not_rising_is_no_reason_and_the_next_driver_leads():
    """The model raises the risk of everyone in a team with a low cap: for someone under it, never over it in a
    year and with a caseload not rising, nothing true of the person can be said (233 caseload reasons on the
    national lists at 2024-01-01), so it is not offered and their next driver's reason takes the slot."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    # under and quiet; at the cap; under now, over in a past month; under, rising; quiet but holding no history
    X = pd.DataFrame({"caseload_cap": [16.0] * 4, "caseload_current": [10.0, 16.0, 10.0, 10.0],
                      "caseload_to_cap": [10 / 16, 1.0, 10 / 16, 10 / 16],
                      "caseload_over_cap_months_12m": [0.0, 0.0, 1.0, 0.0], "caseload_max_12m": [12.0, 16.0, 17.0, 10.0],
                      "caseload_trend_6m": [0.0, 0.0, 0.0, 0.6], "commute_minutes": [50.0] * 4})
    values = pd.DataFrame({"caseload_cap": [0.4] * 4, "commute_minutes": [0.2] * 4})
    profile = pd.DataFrame({"caseload_workload": [0.4] * 4, "commute": [0.2] * 4})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=2)
    assert table["reason_driver_1"].tolist() == ["commute", "caseload_workload", "caseload_workload", "caseload_workload"]
    assert table["reason_1"].iloc[0] == "commute of 50 minutes each way"
    assert table["reason_2"].isna().iloc[0] and table["lever_2"].isna().iloc[0]   # no caseload lever either
    assert table["reason_driver_2"].tolist()[1:] == ["commute"] * 3


def test_a_part_timers_rent_reason_names_their_hours_and_the_rent_against_full_time_take_home_pay():
    """"median rent ... is 124% of their estimated take-home pay" was true for a part-timer (pay for their
    hours) and read as impossible: their words name the hours and the full-time figure."""
    salary, supplement, retention = 40_000.0, 2_000.0, 0.0
    rent = 1_500.0
    take_home = lambda fte: (salary * fte + supplement + retention) * 0.75 / 12   # features/housing.py
    # 0.5 FTE, full-time, 0.5 FTE holding no cases (hours not known to the reasons)
    X = pd.DataFrame({"housing_rent_to_pay": [rent / take_home(0.5), rent / take_home(1.0), rent / take_home(0.5)],
                      "housing_cost_growth_12m": [0.06, 0.06, 0.06],
                      "caseload_current": [8.0, 16.0, 0.0], "caseload_cap": [16.0, 16.0, 16.0],
                      "caseload_to_cap": [1.0, 1.0, 0.0], "pay_salary_fte": [salary] * 3,
                      "pay_supplement": [supplement] * 3, "pay_retention_payment": [retention] * 3})
    got = _reasons("housing_rent_to_pay", X).tolist()
    assert round(rent / take_home(0.5), 2) == 1.09 and round(rent / take_home(1.0), 2) == 0.57
    assert got[0] == ("median rent in their home area is 109% of their estimated take-home pay on 50% of full-time "
                      "hours (57% of full-time take-home pay), up 6% in a year")
    assert got[1] == "median rent in their home area is 57% of their estimated take-home pay, up 6% in a year"
    assert got[2] == "median rent in their home area is 109% of their estimated take-home pay, up 6% in a year"
    growth = _reasons("housing_cost_growth_12m", X).tolist()
    assert growth[0] == ("rents in their home area up 6% in a year (rent is 109% of their estimated take-home pay on "
                         "50% of full-time hours, 57% of full-time take-home pay)")
    assert growth[1] == "rents in their home area up 6% in a year (rent is 57% of their estimated take-home pay)"


def test_a_vacancy_reason_says_how_much_of_the_teams_work_agency_staff_hold():
    """The agency rate never leads a team reason (the model gives it at most 0.0065 on the log-odds scale
    nationally), and "18% of the team's funded posts are vacant or covered by agency staff" did not say which:
    the vacancy reason names the agency rate beside it, where it is recorded."""
    X = pd.DataFrame({"team_vacancy_rate": [0.18, 0.18, 0.18], "team_agency_share": [0.09, 0.0, np.nan]})
    got = _reasons("team_vacancy_rate", X).tolist()
    vacant = "18% of the team's funded posts are vacant or covered by agency staff"
    assert got == [f"{vacant} (agency staff hold 9% of the team's hours in post)",
                   f"{vacant} (agency staff hold 0% of the team's hours in post)", vacant]


def test_a_part_timers_hours_come_from_the_recorded_fte_where_the_scores_carry_it():
    """The caseload features give the hours only for someone holding cases: with the recorded FTE in the
    context (as scoring and explain pass it), a part-timer with no cases gets their hours too, a full-timer keeps
    the full-time words, and without it the caseload's hours are read as before."""
    salary, rent = 40_000.0, 1_500.0
    take_home = lambda fte: salary * fte * 0.75 / 12   # features/housing.py, no supplement or retention payment
    # 0.5 FTE with no cases; full-time with no cases; 0.6 FTE with no FTE recorded (hours from the caseload)
    X = pd.DataFrame({"housing_rent_to_pay": [rent / take_home(0.5), rent / take_home(1.0), rent / take_home(0.6)],
                      "caseload_current": [0.0, 0.0, 6.0], "caseload_cap": [16.0, 16.0, 20.0],
                      "caseload_to_cap": [0.0, 0.0, 0.5], "pay_salary_fte": [salary] * 3,
                      "pay_supplement": [0.0] * 3, "pay_retention_payment": [0.0] * 3})
    got = _reasons("housing_rent_to_pay", X, pd.DataFrame({"fte": [0.5, 1.0, np.nan]})).tolist()
    assert got == ["median rent in their home area is 120% of their estimated take-home pay on 50% of full-time "
                   "hours (60% of full-time take-home pay)",
                   "median rent in their home area is 60% of their estimated take-home pay",
                   "median rent in their home area is 100% of their estimated take-home pay on 60% of full-time "
                   "hours (60% of full-time take-home pay)"]



def test_an_offer_condition_that_is_not_a_feature_bound_is_refused_naming_the_file_and_driver(tmp_path):
    from retention_ml.explain.reasons import load_offer_conditions

    path = tmp_path / "reasons.yaml"
    path.write_text("requires_one_of:\n  caseload_workload:\n    - {feature: caseload_to_cap, over: 1}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"reasons.yaml: requires_one_of 'caseload_workload' has the condition"):
        load_offer_conditions(path)
    path.write_text("requires_one_of:\n  caseload_workload: caseload_to_cap\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rule: a list of conditions"):
        load_offer_conditions(path)


def test_the_offer_rule_names_features_of_the_catalogue():
    from retention_ml.explain.reasons import offer_rule_features

    assert set(offer_rule_features()) <= set(feature_catalogue()["feature"])
