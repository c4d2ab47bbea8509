"""Reason words that were true but not understood: a low team caseload cap, rent against a part-timer's
take-home pay, and a vacancy rate that counts agency cover as vacant."""

import numpy as np
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
    # full-time, part-time (0.5 FTE: own cap 8), no caseload ratio recorded
    X = pd.DataFrame({"caseload_cap": [16.0, 16.0, 16.0], "caseload_current": [15.0, 7.0, 15.0],
                      "caseload_to_cap": [15 / 16, 7 / 8, np.nan]})
    got = _reasons("caseload_cap", X).tolist()
    why = "the lower a cap, the more each case counts against it"
    assert got[0] == f"caseload 15 is 94% of the team's cap of 16 per full-time post: {why}"
    assert got[1] == (f"caseload 7 is 88% of their cap of 8 for their hours (team cap 16 per full-time post): {why}")
    assert got[2] == "team caseload cap of 16 (own caseload 15)"


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

