"""Reasons in words: the person's own values, only upward drivers, levers from the taxonomy."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain import explain
from retention_ml.explain.reasons import load_templates, reason_table, render_feature_reasons
from retention_ml.schema import load_drivers


def test_caseload_reason_uses_the_persons_values(catalogue):
    frame = pd.DataFrame({"caseload_current": [27.0], "caseload_cap": [20.0], "caseload_over_cap_months_6m": [5.0]})
    text = render_feature_reasons("caseload_current", frame, load_templates(), catalogue)
    assert text.item() == "caseload 27 against a team cap of 20; over the cap in 5 of the last 6 months"


def test_housing_reason_with_growth(catalogue):
    frame = pd.DataFrame({"housing_rent_to_pay": [0.46, 0.31], "housing_cost_growth_12m": [0.12, -0.02]})
    text = render_feature_reasons("housing_rent_to_pay", frame, load_templates(), catalogue)
    assert text.tolist() == [
        "median rent in their home area is 46% of their estimated take-home pay, up 12% in a year",
        "median rent in their home area is 31% of their estimated take-home pay",   # a fall argues against it
    ]


def test_a_change_beside_another_features_reason_is_said_only_when_it_adds_to_it(catalogue):
    # "commute of 54 minutes each way, 48 minutes shorter than a year ago": 133 commute reasons on the national
    # lists at 2024-01-01 named an improvement as part of the strain (and 36 rent reasons "down 1% in a year")
    frame = pd.DataFrame({"commute_minutes": [54.0, 54.0], "commute_change_minutes_12m": [-48.0, 20.0],
                          "housing_rent_to_pay": [0.6, 0.6], "housing_cost_growth_12m": [-0.01, 0.05]})
    commute = render_feature_reasons("commute_minutes", frame, load_templates(), catalogue)
    assert commute.tolist() == ["commute of 54 minutes each way", "commute of 54 minutes each way, 20 minutes longer than a year ago"]
    housing = render_feature_reasons("housing_rent_to_pay", frame, load_templates(), catalogue)
    assert housing.tolist() == ["median rent in their home area is 60% of their estimated take-home pay",
                                "median rent in their home area is 60% of their estimated take-home pay, up 5% in a year"]
    # the change that is itself the reason keeps its sign
    change = render_feature_reasons("commute_change_minutes_12m", frame, load_templates(), catalogue)
    assert change.iloc[0] == "commute 48 minutes shorter than a year ago (now 54 minutes)"


def test_house_price_reason_names_the_home_area_and_the_persons_own_pay(catalogue):
    # The feature is the home area's median price over the person's pay for their hours plus supplements
    # (demo W0000562: 0.5 FTE on GBP 57,753 with a GBP 3,000 supplement, price GBP 270,300 -> 8.5); "times
    # salary in this area" read as 4.7 against the salary their manager knows, and "this area" as the office.
    frame = pd.DataFrame({"housing_price_to_salary": [270_300 / (57_753 * 0.5 + 3_000)]})
    text = render_feature_reasons("housing_price_to_salary", frame, load_templates(), catalogue).item()
    assert text == "house prices in their home area are 8.5 times their yearly pay (for their hours, supplements included)"


def test_a_change_too_small_to_show_is_left_out(catalogue):
    frame = pd.DataFrame({"commute_minutes": [57.0, 57.0], "commute_change_minutes_12m": [0.2, 12.0],
                          "housing_rent_to_pay": [0.46, 0.46], "housing_cost_growth_12m": [0.004, 0.0]})
    commute = render_feature_reasons("commute_minutes", frame, load_templates(), catalogue)
    assert commute.tolist() == ["commute of 57 minutes each way", "commute of 57 minutes each way, 12 minutes longer than a year ago"]
    housing = render_feature_reasons("housing_rent_to_pay", frame, load_templates(), catalogue)
    assert housing.tolist() == ["median rent in their home area is 46% of their estimated take-home pay"] * 2


def test_missing_value_falls_back_to_a_shorter_template(catalogue):
    frame = pd.DataFrame({"caseload_current": [27.0, 18.0], "caseload_cap": [np.nan, 20.0]})
    text = render_feature_reasons("caseload_current", frame, load_templates(), catalogue)
    assert text.tolist() == ["caseload of 27 cases", "caseload 18 against a team cap of 20"]
    assert not text.str.contains("nan").any()


def test_feature_without_template_uses_catalogue_meaning(catalogue):
    frame = pd.DataFrame({"mystery_feature": [1.25]})
    cat = pd.concat([catalogue, pd.DataFrame({"feature": ["mystery_feature"], "meaning": ["Mystery"], "unit": ["widgets"], "driver": ["other"], "family": ["x"]})])
    assert render_feature_reasons("mystery_feature", frame, load_templates(), cat).item() == "Mystery: 1.2 widgets"


def test_glob_template_names_the_suffix(catalogue):
    frame = pd.DataFrame({"commute_mode_car": [1.0], "commute_minutes": [40.0]})
    assert render_feature_reasons("commute_mode_car", frame, load_templates(), catalogue).item() == "commutes by car (40 minutes)"


def test_one_hot_reason_says_what_the_person_is_not_when_the_value_is_zero(catalogue):
    # Someone whose risk is raised by *not* commuting by car must not read "commutes by car"
    # (the bug this guards against).
    frame = pd.DataFrame({"commute_mode_car": [0.0, 1.0], "commute_minutes": [40.0, 25.0]})
    text = render_feature_reasons("commute_mode_car", frame, load_templates(), catalogue).tolist()
    assert text == ["does not commute by car (40 minutes)", "commutes by car (25 minutes)"]
    frame = pd.DataFrame({"employment_permanent": [0.0], "employment_type": ["fixed_term"]})
    text = render_feature_reasons("employment_permanent", frame, load_templates(), catalogue).item()
    assert text == "employment type is not permanent (it is fixed term)"
    frame = pd.DataFrame({"asye": [0.0, 1.0]})
    assert render_feature_reasons("asye", frame, load_templates(), catalogue).str.startswith("not in").tolist() == [True, False]


def test_reason_table_one_hot_rows_never_claim_a_mode_the_person_lacks(catalogue):
    # Hand-made SHAP values: commute_mode_car = 0 pushes risk up for everyone.
    X = pd.DataFrame({"commute_mode_car": [0.0, 0.0], "commute_minutes": [30.0, 55.0]})
    values = pd.DataFrame({"commute_mode_car": [0.4, 0.2], "commute_minutes": [-0.1, 0.1]})
    drivers = pd.Series({"commute_mode_car": "commute", "commute_minutes": "commute"})
    from retention_ml.explain.drivers import group_by_driver
    from retention_ml.explain.reasons import reason_table

    context = pd.DataFrame({"role": ["social_worker", "personal_adviser"], "months_in_post": [30, 40]})
    table = reason_table(values, group_by_driver(values, drivers), X, context, catalogue, drivers, k=1)
    assert table["reason_1"].tolist() == ["does not commute by car (30 minutes)", "does not commute by car (55 minutes)"]


def test_reasons_only_for_drivers_pushing_risk_up(model, frame, catalogue, context):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    table = exp.reasons(X, context, k=3)
    profile = exp.by_driver()
    for i in (1, 2, 3):
        has = table[f"reason_{i}"].notna()
        assert has.any()
        drivers = table.loc[has, f"reason_driver_{i}"]
        values = profile.to_numpy()[np.flatnonzero(has), profile.columns.get_indexer(drivers)]
        assert (values > 0).all()
        np.testing.assert_allclose(values, table.loc[has, f"reason_value_{i}"].to_numpy())
        assert not drivers.eq("other").any()
    # Rows whose risk is pushed down everywhere get no reason at all.
    no_up = (profile.drop(columns="other") <= 0).all(axis=1)
    assert table.loc[no_up, "reason_1"].isna().all()
    # Slots are filled in order of contribution.
    both = table["reason_value_2"].notna()
    assert (table.loc[both, "reason_value_1"] >= table.loc[both, "reason_value_2"]).all()


def test_reason_text_matches_the_row_and_levers_come_from_the_taxonomy(model, frame, catalogue, context):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    table = exp.reasons(X, context, k=3)
    # a full-timer's: a part-timer's reason names the cap for their hours first (test_reason_wordings)
    rows = np.flatnonzero(table["reason_feature_1"].eq("caseload_current").to_numpy() & X["caseload_cap"].notna().to_numpy()
                          & X["fte"].eq(1.0).to_numpy())
    assert len(rows) > 0
    r = rows[0]
    assert table["reason_1"].iloc[r].startswith(f"caseload {round(X['caseload_current'].iloc[r])} against a team cap of {round(X['caseload_cap'].iloc[r])}")
    # the one lever rule: each reason's lever is its driver's first lever in drivers.yaml; no reason, no lever;
    # a career reason of someone in the first year of the post: the new-in-post group's lever; in the second
    # year, the second-year group's
    first = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    settle = {d.code: dict(d.group_levers)["new_in_post"][0] for d in load_drivers() if "new_in_post" in dict(d.group_levers)}
    second = {d.code: dict(d.group_levers)["second_year_in_post"][0] for d in load_drivers()
              if "second_year_in_post" in dict(d.group_levers)}
    has = table["reason_1"].notna()
    assert has.any() and table.loc[~has, "lever_1"].isna().all()
    tenure = X["tenure_months"].to_numpy()
    new = has & (tenure < 12) & table["reason_driver_1"].isin(settle)
    later = has & (tenure >= 12) & (tenure < 24) & table["reason_driver_1"].isin(second)
    rest = has & ~new & ~later
    assert new.any() and later.any()
    assert (table.loc[rest, "lever_1"] == table.loc[rest, "reason_driver_1"].map(first)).all()
    assert (table.loc[new, "lever_1"] == table.loc[new, "reason_driver_1"].map(settle)).all()
    assert (table.loc[later, "lever_1"] == table.loc[later, "reason_driver_1"].map(second)).all()


def test_reasons_need_the_explained_rows(model, frame, catalogue):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    with pytest.raises(ValueError, match="same rows"):
        exp.reasons(X.iloc[:10])


def test_every_template_kind_is_known():
    # load_templates validates kinds; a typo in reasons.yaml fails here.
    assert "caseload_current" in load_templates()


def test_context_columns_fill_templates(catalogue):
    frame = pd.DataFrame({"asye": [1.0, 1.0], "months_in_post": [14, None]})
    text = render_feature_reasons("asye", frame, load_templates(), catalogue)
    asye = "started in the assessed and supported year in employment (ASYE) as newly qualified"
    assert text.tolist() == [asye + ", 14 months in post", asye]


def test_an_asye_reason_never_says_the_person_is_in_the_asye_once_the_year_is_over(catalogue):
    # asye records how the post began (workers.asye), not that the year is still running: "in the assessed and
    # supported year in employment (ASYE), 20 months in post" (161 reasons on the national lists at 2024-01-01, all
    # 19 to 22 months in post) was untrue of the person.
    frame = pd.DataFrame({"asye": [1.0, 1.0], "months_in_post": [20.4, 5.0]})
    for text in render_feature_reasons("asye", frame, load_templates(), catalogue):
        assert not text.startswith("in the assessed and supported year") and "started in" in text


def test_explained_reasons_state_the_persons_own_value(model, frame, catalogue, context):
    X, _ = frame
    table = explain(model, X, catalogue=catalogue).reasons(X, context, k=3)
    tenure = table["reason_feature_1"].eq("tenure_months") | table["reason_feature_2"].eq("tenure_months")
    assert tenure.any()
    r = int(np.flatnonzero(tenure.to_numpy())[0])
    texts = [table[f"reason_{i}"].iloc[r] for i in (1, 2, 3)]
    months = int(np.floor(X["tenure_months"].iloc[r]))
    shown = f"{months} months" if months < 24 else f"{months // 12} years" if months < 120 else "more than 10 years"
    assert f"{shown} in this post" in " ".join(t for t in texts if pd.notna(t))


def _table(X, values, drivers, catalogue, **kw):
    from retention_ml.explain.drivers import group_by_driver
    from retention_ml.explain.reasons import reason_table

    context = pd.DataFrame({"role": ["social_worker"] * len(X), "months_in_post": [30] * len(X),
                            "employment_type": ["agency"] * len(X)})
    return reason_table(values, group_by_driver(values, drivers), X, context, catalogue, drivers, k=1, **kw)


def test_a_recorded_value_words_the_reason_before_a_missing_one(catalogue):
    # Agency worker: no spinal point (its missing value pushes pay up most), salary recorded and also
    # pushing up. Row 2: nothing recorded pushes up, so the missing spinal point words it.
    X = pd.DataFrame({"pay_spinal_point": [np.nan, np.nan], "pay_salary_fte": [70400.0, 70400.0]})
    values = pd.DataFrame({"pay_spinal_point": [0.5, 0.5], "pay_salary_fte": [0.1, -0.1]})
    drivers = pd.Series({"pay_spinal_point": "pay", "pay_salary_fte": "pay"})
    table = _table(X, values, drivers, catalogue)
    assert table["reason_feature_1"].tolist() == ["pay_salary_fte", "pay_spinal_point"]
    assert table["reason_1"].tolist() == [
        "agency worker on a day rate of GBP 320 (GBP 70,400 a year full-time), not on the council's pay scale",
        "not on the council's pay scale (employment type: agency)",
    ]
    # The driver's value is still the whole driver's push, not the wording feature's.
    np.testing.assert_allclose(table["reason_value_1"], [0.6, 0.4])


def test_a_missing_value_without_a_template_says_not_recorded(catalogue):
    frame = pd.DataFrame({"caseload_trend_6m": [np.nan]})
    text = render_feature_reasons("caseload_trend_6m", frame, load_templates(), catalogue).item()
    assert text.endswith(": not recorded") and "nan" not in text and "unknown" not in text


def test_pushes_below_the_minimum_are_nobodys_reason(catalogue):
    from retention_ml.explain.reasons import MIN_REASON_VALUE

    X = pd.DataFrame({"commute_minutes": [60.0, 60.0, 60.0]})
    values = pd.DataFrame({"commute_minutes": [MIN_REASON_VALUE / 2, MIN_REASON_VALUE, 0.3]})
    drivers = pd.Series({"commute_minutes": "commute"})
    table = _table(X, values, drivers, catalogue)
    assert table["reason_1"].isna().tolist() == [True, False, False]
    assert table["lever_1"].isna().tolist() == [True, False, False]
    assert _table(X, values, drivers, catalogue, min_value=0.0)["reason_1"].notna().all()


def test_one_of_a_thing_is_singular_and_a_trend_says_its_direction(catalogue):
    frame = pd.DataFrame({"months_since_supervision": [1.0, 3.0], "caseload_trend_6m": [-2.6, 0.02],
                          "caseload_current": [9.0, 0.0], "supervision_sessions_3m": [1.0, 2.0]})
    render = lambda f: render_feature_reasons(f, frame, load_templates(), catalogue).tolist()   # noqa: E731
    assert render("months_since_supervision") == ["1 month since the last supervision", "3 months since the last supervision"]
    assert render("supervision_sessions_3m")[0] == "1 supervision session in the last 3 months"
    assert render("caseload_trend_6m") == ["caseload falling by 2.6 cases a month over the last 6 months (now 9)",
                                           "caseload steady over the last 6 months (now 0)"]


def test_no_caseload_reason_for_someone_who_holds_no_cases(catalogue):
    # A team manager (no cases) whose caseload driver pushes risk up most gets the next driver as the reason.
    X = pd.DataFrame({"caseload_current": [0.0, 12.0], "caseload_cap": [16.0, 16.0], "commute_minutes": [50.0, 50.0]})
    values = pd.DataFrame({"caseload_current": [0.0, 0.0], "caseload_cap": [0.5, 0.5], "commute_minutes": [0.2, 0.2]})
    drivers = pd.Series({"caseload_current": "caseload_workload", "caseload_cap": "caseload_workload",
                         "commute_minutes": "commute"})
    table = _table(X, values, drivers, catalogue)
    assert table["reason_driver_1"].tolist() == ["commute", "caseload_workload"]
    assert "Review caseload" not in str(table["lever_1"].iloc[0])


def test_months_are_counted_as_the_lists_count_them(catalogue):
    # The lists show whole months in post (23.9 -> 23); the reason on the same row must not say 24, nor 6 years
    # for 71.9 months. A spell restarts at an internal move or a return, so it is never time "with the council".
    frame = pd.DataFrame({"tenure_months": [23.9, 71.9, 0.5, 1.2], "months_in_post": [23.9, 71.9, 0.5, 1.2]})
    assert render_feature_reasons("tenure_months", frame, load_templates(), catalogue).tolist() == [
        "23 months in this post", "5 years in this post", "less than a month in this post", "1 month in this post"]
    # under one complete month (the lists' 0): "0 months" read to a new starter's manager as a data error
    frame = pd.DataFrame({"months_since_qualified": [0.4], "months_since_progression": [0.0]})
    assert render_feature_reasons("months_since_qualified", frame, load_templates(), catalogue).tolist() == [
        "qualified less than a month ago"]


def test_months_over_the_cap_say_the_caseload_in_brackets_is_todays(catalogue):
    # over the cap in past months, back under it now: "(caseload 16, cap 20)" read as contradicting the reason
    frame = pd.DataFrame({"caseload_over_cap_months_6m": [4.0], "caseload_current": [16.0], "caseload_cap": [20.0]})
    assert render_feature_reasons("caseload_over_cap_months_6m", frame, load_templates(), catalogue).tolist() == [
        "over the caseload cap in 4 of the last 6 months (caseload now 16, cap 20)"]


def test_long_durations_read_in_years_and_stop_at_ten(catalogue):
    # "qualified 226 months ago" is slow to read, and to the month a proxy for age on a manager's list
    frame = pd.DataFrame({"months_since_qualified": [226.0, 119.9, 30.0]})
    assert render_feature_reasons("months_since_qualified", frame, load_templates(), catalogue).tolist() == [
        "qualified more than 10 years ago", "qualified 9 years ago", "qualified 2 years ago"]


def test_over_cap_reasons_name_the_cap_for_a_part_timers_hours(catalogue):
    # The over-cap months count against team cap x FTE. A 0.5 FTE worker with 10 cases under a team cap of 16
    # is over their cap of 8; "over the caseload cap ... (caseload 10, cap 16)" read as under it.
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"caseload_over_cap_months_6m": [4.0, 4.0], "caseload_current": [10.0, 18.0],
                      "caseload_cap": [16.0, 16.0], "caseload_to_cap": [10 / 8, 18 / 16]})
    values = pd.DataFrame({"caseload_over_cap_months_6m": [0.5, 0.5], "caseload_current": [0.0, 0.0],
                           "caseload_cap": [0.0, 0.0], "caseload_to_cap": [0.0, 0.0]})
    profile = pd.DataFrame({drivers["caseload_over_cap_months_6m"]: [0.5, 0.5]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert table["reason_1"].tolist() == [
        "over the caseload cap for their hours in 4 of the last 6 months (caseload now 10, cap 8 for their hours; "
        "team cap 16 per full-time post)",
        "over the caseload cap in 4 of the last 6 months (caseload now 18, cap 16)",   # full-time: the team cap is theirs
    ]


@pytest.mark.parametrize("lead, expected", [
    ("caseload_cap", ["caseload 9 is 129% of their cap of 7 for their hours (team cap 14 per full-time post): the "
                      "lower a cap, the more each case counts against it",
                      "caseload 9, rising by 1.5 cases a month over the last 6 months, against the team's cap of 14 "
                      "per full-time post"]),
    ("caseload_mean_3m", ["caseload averaged 8.7 over the last 3 months against a cap of 7 for their hours (team cap 14 "
                          "per full-time post)", "caseload averaged 8.7 over the last 3 months against a team cap of 14"]),
    ("caseload_mean_6m", ["caseload averaged 8.2 over the last 6 months against a cap of 7 for their hours (team cap 14 "
                          "per full-time post)", "caseload averaged 8.2 over the last 6 months against a team cap of 14"]),
    ("caseload_max_12m", ["caseload peaked at 11 in the last 12 months against a cap of 7 for their hours (team cap 14 "
                          "per full-time post)", "caseload peaked at 11 in the last 12 months against a team cap of 14"]),
    ("caseload_to_cap", ["caseload 9 is 129% of their cap of 7 for their hours (team cap 14 per full-time post)",
                         "caseload 9, rising by 1.5 cases a month over the last 6 months, against the team's cap of "
                         "14 per full-time post"]),
])
def test_every_caseload_reason_naming_the_team_cap_names_a_part_timers_own_cap(lead, expected):
    # 0.5 FTE with 9 cases under a team cap of 14 is over their cap of 7: "team caseload cap of 14 (own caseload 9)"
    # read as under it, beside "reallocate cases" (35 such reasons on the national lists at 2024-01-01).
    # Row 2 works full time (9 of 14, under it and never over it in a year, rising): the team cap is theirs.
    from retention_ml.features import feature_catalogue

    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"caseload_current": [9.0, 9.0], "caseload_cap": [14.0, 14.0], "caseload_to_cap": [9 / 7, 9 / 14],
                      "caseload_mean_3m": [8.7, 8.7], "caseload_mean_6m": [8.2, 8.2], "caseload_max_12m": [11.0, 11.0],
                      "caseload_over_cap_months_12m": [5.0, 0.0], "caseload_trend_6m": [0.0, 1.5]})
    values = pd.DataFrame(0.0, index=X.index, columns=X.columns)
    values[lead] = 0.5
    profile = pd.DataFrame({"caseload_workload": [0.5, 0.5]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert table["reason_1"].tolist() == expected


def test_a_qualification_reason_says_how_long_in_post_and_a_missing_one_is_not_the_catalogues_nan_words():
    """A settling-in lever beside "qualified 5 years ago" alone did not say why; "Months since social work
    qualification (NaN if unqualified): not recorded" (18 reasons on the national lists) read as a data dump."""
    from retention_ml.features import feature_catalogue

    catalogue = feature_catalogue()
    frame = pd.DataFrame({"months_since_qualified": [65.6, np.nan, np.nan], "tenure_months": [16.2, 30.0, 30.0],
                          "role": ["social_worker", "family_practitioner", None]})
    text = render_feature_reasons("months_since_qualified", frame, load_templates(), catalogue)
    assert text.tolist() == ["qualified 5 years ago, 16 months in this post",
                             "no social work qualification recorded (role: family practitioner)",
                             "no social work qualification recorded"]


def test_team_turnover_is_worded_as_a_rate_so_more_leavers_than_the_team_holds_reads_as_possible(catalogue):
    # the DfE's turnover: own staff FTE who left over own staff FTE in post now; 6 FTE gone from a team of 5 FTE
    # is 120%, not "120% of the team left"; agency ends and moves to another team are not in it, so it says whose
    frame = pd.DataFrame({"team_leavers_rate_12m": [6 / 5, 0.44]})
    text = render_feature_reasons("team_leavers_rate_12m", frame, load_templates(), catalogue).tolist()
    whose = "(the council's own staff who left it, against those in post now, by FTE)"
    assert text == [f"team turnover of 120% in the last 12 months {whose}",
                    f"team turnover of 44% in the last 12 months {whose}"]


def test_team_agency_share_is_worded_as_a_share_of_the_hours_not_of_the_people(catalogue):
    # the DfE's agency rate: agency FTE over all FTE in post; a half-time locum in a team of 3 full-timers is
    # 0.5 / 3.5 = 14% of the hours, where "14% of the team are agency staff" would miscount the people
    frame = pd.DataFrame({"team_agency_share": [0.5 / 3.5]})
    text = render_feature_reasons("team_agency_share", frame, load_templates(), catalogue).tolist()
    assert text == ["agency staff hold 14% of the team's hours in post (FTE)"]


def test_a_progression_reason_never_claims_a_progression_that_did_not_happen():
    """months_since_progression counts from the start of the post when there was none in it: "5 years since the
    last progression or promotion" for an agency worker 5 years in post and never promoted (319 of 355 such
    reasons on the national lists) claimed one."""
    from retention_ml.features import feature_catalogue

    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"months_since_progression": [60.2, 26.0, 40.0], "tenure_months": [60.2, 70.0, np.nan]})
    values = pd.DataFrame({"months_since_progression": [0.3] * 3, "tenure_months": [-0.1] * 3})
    profile = pd.DataFrame({drivers["months_since_progression"]: [0.2] * 3})
    context = pd.DataFrame({"role": ["social_worker", "senior_practitioner", "social_worker"]})
    table = reason_table(values, profile, X, context, catalogue, drivers.reindex(values.columns), k=1)
    assert table["reason_1"].tolist() == [
        "no progression or promotion in 5 years in this post (role: social worker)",
        "2 years since the last progression or promotion (role: senior practitioner)",
        "3 years since the last progression or promotion, or since starting in this post",   # time in post unknown
    ]
