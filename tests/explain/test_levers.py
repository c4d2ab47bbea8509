"""The one lever rule: a reason's lever is its driver's first lever in data_schema/drivers.yaml, chosen in
retention_ml.explain.drivers.reason_levers and nowhere else.

Three rules used to live side by side (reasons joined all of a driver's levers with "; ", scoring took the
first lever of each reason's driver, the lists guessed the first levers of the profile's top drivers), so
``explain`` and the lists offered different levers for the same reason, and a list could show a lever for
a driver that was no reason at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.explain.drivers import reason_levers
from retention_ml.explain.reasons import reason_table
from retention_ml.explain.spells import LEVER_CONTEXT_COLUMNS
from retention_ml.features import feature_catalogue
from retention_ml.schema import load_drivers

REPO = Path(__file__).resolve().parents[2]
# where the taxonomy's levers may be read: the rule itself, the taxonomy's loader, and the data dictionary
# (which documents every lever of every driver, not the one shown beside a reason)
MAY_READ_LEVERS = {"retention_ml/explain/drivers.py", "retention_ml/schema.py", "retention_ml/data_dictionary.py"}


def test_levers_are_read_from_the_taxonomy_only_by_the_one_rule():
    reads = []
    for path in sorted((REPO / "retention_ml").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in MAY_READ_LEVERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reads += [f"{rel}:{node.lineno}" for node in ast.walk(tree)
                  if (isinstance(node, ast.Attribute) and node.attr == "levers")
                  or (isinstance(node, ast.Name) and node.id == "driver_levers")
                  or (isinstance(node, ast.alias) and node.name == "driver_levers")]
    assert not reads, "levers read outside explain.drivers.reason_levers:\n" + "\n".join(reads)


def test_the_rule_is_the_drivers_first_lever_and_none_without_a_reason():
    first = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    codes = ["commute", None, "other", "caseload_workload", np.nan]
    assert reason_levers(codes).tolist() == [first["commute"], None, None, first["caseload_workload"], None]


def test_reasons_carry_one_lever_each_the_same_one_a_list_shows():
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"commute_minutes": [70.0, 20.0], "housing_price_to_salary": [11.0, 4.0]})
    values = pd.DataFrame({"commute_minutes": [0.6, -0.3], "housing_price_to_salary": [0.4, -0.2]})
    profile = pd.DataFrame({drivers["commute_minutes"]: [0.6, -0.3], drivers["housing_price_to_salary"]: [0.4, -0.2]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=2)
    first = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    assert table.loc[0, "lever_1"] == first["commute"] and table.loc[0, "lever_2"] == first["housing_cost"]
    assert "; " not in table.loc[0, "lever_1"]
    assert table.loc[1, ["reason_1", "lever_1", "lever_2"]].isna().all()   # nothing raises risk: no lever either


def test_a_group_gets_its_lever_where_the_driver_has_one_and_the_first_group_wins():
    """An agency worker is not eligible for a retention payment, and ASYE support is for the newly qualified:
    beside their reason they get their group's lever (drivers.yaml group_levers); everyone else the first."""
    drivers = {d.code: d for d in load_drivers()}
    pay, career = dict(drivers["pay"].group_levers), dict(drivers["career_progression"].group_levers)
    people = pd.DataFrame({"employment_agency": [1, 0, 0, 1, 1], "nqsw_first_2y": [0, 0, 1, 1, 0]})
    codes = ["pay", "pay", "career_progression", "career_progression", "commute"]
    assert reason_levers(codes, people).tolist() == [
        pay["agency"][0], drivers["pay"].levers[0], career["newly_qualified"][0], career["agency"][0],   # agency is tried first
        drivers["commute"].levers[0],                                                          # commute has no group lever
    ]
    assert reason_levers(codes).tolist() == [drivers[c].levers[0] for c in codes]   # without the people: the first


def test_lever_groups_name_features_of_the_catalogue_and_levers_are_not_repeated_across_drivers():
    from retention_ml.schema import lever_groups

    # a feature, or a column scoring and explain pass beside the features for the levers alone (explain.spells)
    allowed = set(feature_catalogue()["feature"]) | set(LEVER_CONTEXT_COLUMNS)
    assert {f for rule in lever_groups().values() for f in rule.features} <= allowed
    firsts = [d.levers[0] for d in load_drivers() if d.levers]
    assert len(set(firsts)) == len(firsts)
    # two reasons of one person never offer the same action twice in other words (flexible working: commute's)
    assert sum("flexible" in lever.lower() for lever in firsts) <= 1


def test_reasons_give_an_agency_worker_the_agency_lever():
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"pay_agency_gap": [0.9, 0.9], "employment_agency": [1.0, 0.0]})
    values = pd.DataFrame({"pay_agency_gap": [0.5, 0.5]})
    profile = pd.DataFrame({drivers["pay_agency_gap"]: [0.5, 0.5]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    pay = next(d for d in load_drivers() if d.code == drivers["pay_agency_gap"])
    assert table["lever_1"].tolist() == [dict(pay.group_levers)["agency"][0], pay.levers[0]]


def test_an_agency_workers_housing_reason_offers_a_permanent_post_not_council_relocation_support():
    # Relocation and housing support come with a council post, not an agency engagement: 524 agency workers'
    # housing reasons on the national lists at 2024-01-01 offered it. A permanent worker keeps it.
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    X = pd.DataFrame({"housing_rent_to_pay": [0.7, 0.7], "employment_agency": [1.0, 0.0]})
    values = pd.DataFrame({"housing_rent_to_pay": [0.5, 0.5]})
    profile = pd.DataFrame({"housing_cost": [0.5, 0.5]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    housing = next(d for d in load_drivers() if d.code == "housing_cost")
    assert table["lever_1"].tolist() == [
        "Discuss a permanent post with its pay, progression, support and a development plan", housing.levers[0]]
    # offered once a row: beside an earlier agency reason it is not repeated, and no council support is offered
    assert reason_levers(["pay", "housing_cost"], pd.DataFrame({"employment_agency": [1.0, 1.0]}),
                         shown=[np.array([None, "Discuss a permanent post with its pay, progression, support and a "
                                                "development plan"], dtype=object)]).tolist()[1] is None


def _all_levers() -> list[tuple[str, str]]:
    """(driver, lever) for every lever a driver offers: its own and its groups'."""
    return [(d.code, lever) for d in load_drivers() for lever in (*d.levers, *(t for texts in dict(d.group_levers).values() for t in texts))]


def test_the_same_action_is_written_once_so_drivers_offering_it_share_its_text():
    """Two levers whose first four words agree are the same action in other words ("Flexible or hybrid
    working to cut commuting days" beside "Flexible or hybrid working pattern"): they must be one text,
    declared in drivers.yaml's shared_levers, for a row to offer the action once."""
    import yaml

    from retention_ml.schema import schema_dir

    shared = set((yaml.safe_load((schema_dir() / "drivers.yaml").read_text(encoding="utf-8")).get("shared_levers") or {}).values())
    texts = {lever for _, lever in _all_levers()}
    opening = {}
    for lever in sorted(texts):
        opening.setdefault(" ".join(lever.lower().split()[:4]), []).append(lever)
    assert not [same for same in opening.values() if len(same) > 1]
    # a text offered by two drivers comes from shared_levers (written once), never typed twice
    by_text = {}
    for code, lever in _all_levers():
        by_text.setdefault(lever, set()).add(code)
    assert {lever for lever, codes in by_text.items() if len(codes) > 1} <= shared
    assert shared, "no shared action: the rule below would go untested"


def test_a_row_offers_each_action_once_beside_the_first_reason_it_answers():
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    pay, career = drivers["pay_agency_gap"], drivers["months_since_progression"]
    # an agency worker and a permanent one, both with a pay reason then a career reason
    X = pd.DataFrame({"pay_agency_gap": [0.9, 0.9], "months_since_progression": [60.0, 60.0],
                      "employment_agency": [1.0, 0.0]})
    values = pd.DataFrame({"pay_agency_gap": [0.5, 0.5], "months_since_progression": [0.3, 0.3]})
    profile = pd.DataFrame({pay: [0.5, 0.5], career: [0.3, 0.3]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=2)
    taxonomy = {d.code: d for d in load_drivers()}
    permanent = dict(taxonomy[pay].group_levers)["agency"][0]
    assert permanent == dict(taxonomy[career].group_levers)["agency"][0]   # one action for both drivers
    assert table.loc[0, "lever_1"] == permanent and pd.isna(table.loc[0, "lever_2"])   # offered once
    assert table.loc[0, "reason_2"]   # the reason itself stays
    assert table.loc[1, ["lever_1", "lever_2"]].tolist() == [taxonomy[pay].levers[0], taxonomy[career].levers[0]]


def test_a_reason_whose_first_lever_is_offered_gets_its_drivers_next_one():
    taxonomy = {d.code: d for d in load_drivers()}
    shared = next((a, b) for a in taxonomy.values() for b in taxonomy.values()
                  if a.code != b.code and a.levers and len(b.levers) > 1 and a.levers[0] in b.levers[1:])
    first, second = shared   # commute's flexible working is also work-life balance's second lever
    offered = np.array([first.levers[0], None], dtype=object)
    got = reason_levers([second.code, second.code], shown=[offered]).tolist()
    assert got == [second.levers[0], second.levers[0]]   # its own first lever is not offered yet: unchanged
    offered = np.array([second.levers[0], "something else"], dtype=object)
    assert reason_levers([second.code, second.code], shown=[offered]).tolist() == [second.levers[1], second.levers[0]]


def test_an_experienced_joiner_whose_short_time_in_post_is_the_reason_is_settled_in_not_handed_a_development_plan():
    """"7 months in this post" beside "A development plan with CPD days ..." (1,914 first reasons on the national
    lists at 2024-01-01, nearly every career lever) answered years without progression, not a joiner's first
    months: anyone in the first two years of the post outside the ASYE gets the settling-in lever."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    career = {d.code: d for d in load_drivers()}[drivers["tenure_months"]]
    groups = dict(career.group_levers)
    # experienced joiner, newly qualified, long-serving, agency joiner, tenure not recorded
    X = pd.DataFrame({"tenure_months": [7.0, 7.0, 70.0, 7.0, np.nan], "nqsw_first_2y": [0.0, 1.0, 0.0, 0.0, 0.0],
                      "employment_agency": [0.0, 0.0, 0.0, 1.0, 0.0]})
    values = pd.DataFrame({"tenure_months": [0.4] * 5})
    profile = pd.DataFrame({career.code: [0.4] * 5})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert table["lever_1"].tolist() == [groups["new_in_post"][0], groups["newly_qualified"][0], career.levers[0],
                                         groups["agency"][0], career.levers[0]]
    assert "settling-in" in groups["new_in_post"][0] and table.loc[0, "reason_1"] == "7 months in this post"


def test_a_lever_group_is_features_that_are_1_or_below_or_above_a_number_and_anything_else_is_refused(tmp_path, monkeypatch):
    import pytest
    import yaml

    from retention_ml import schema

    raw = yaml.safe_load((schema.schema_dir() / "drivers.yaml").read_text(encoding="utf-8"))
    assert schema.lever_groups()["new_in_post"] == schema.LeverGroup((schema.LeverCondition("tenure_months", below=12.0),))
    assert schema.lever_groups()["agency"] == schema.LeverGroup((schema.LeverCondition("employment_agency"),))
    assert schema.lever_groups()["paid_supplement_and_retention"] == schema.LeverGroup(
        (schema.LeverCondition("pay_supplement", above=0.0), schema.LeverCondition("pay_retention_payment", above=0.0)))
    raw["lever_groups"]["new_in_post"] = {"feature": "tenure_months", "under": 24}
    (tmp_path / "drivers.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setattr(schema, "schema_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"lever group 'new_in_post' has the condition .*below"):
        schema.lever_groups()


def test_someone_paid_a_supplement_or_a_retention_payment_is_not_told_to_check_eligibility_for_it():
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    pay = {d.code: d for d in load_drivers()}[drivers["pay_agency_gap"]]
    # both, supplement only, retention payment only, neither, both but an agency worker (the agency lever first)
    X = pd.DataFrame({"pay_agency_gap": [0.6] * 5, "pay_salary_fte": [39_876.0] * 5,
                      "pay_supplement": [3_000.0, 3_000.0, 0.0, 0.0, 3_000.0],
                      "pay_retention_payment": [1_500.0, 0.0, 1_500.0, 0.0, 1_500.0],
                      "employment_agency": [0.0, 0.0, 0.0, 0.0, 1.0]})
    values = pd.DataFrame({"pay_agency_gap": [0.4] * 5})
    profile = pd.DataFrame({pay.code: [0.4] * 5})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    groups = dict(pay.group_levers)
    assert groups["paid_supplement_and_retention"] == ("Review spinal point progression",) == (pay.levers[1],)
    # paid one of the two: the lever names the one they lack, not "the retention payment or a market supplement"
    assert table["lever_1"].tolist() == [pay.levers[1], groups["paid_supplement"][0], groups["paid_retention"][0],
                                         pay.levers[0], groups["agency"][0]]
    assert "a market supplement of GBP 3,000 and a retention payment of GBP 1,500" in table.loc[0, "reason_1"]
    assert "no retention payment" in table.loc[1, "reason_1"] and "no market supplement" in table.loc[2, "reason_1"]
    assert table.loc[1, "lever_1"] == "Check their eligibility for the retention payment"
    assert table.loc[2, "lever_1"] == "Check eligibility for a market supplement"


def test_someone_under_their_cap_is_offered_business_support_not_a_reallocation_against_the_cap():
    """"team caseload cap of 16 (own caseload 14)" beside "Review caseload against the team cap and reallocate
    cases": for a person under the cap there is nothing to reallocate against it."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    caseload = {d.code: d for d in load_drivers()}[drivers["caseload_cap"]]
    # under the cap, over it, no cap recorded
    X = pd.DataFrame({"caseload_cap": [16.0, 16.0, np.nan], "caseload_current": [14.0, 19.0, 14.0],
                      "caseload_to_cap": [14 / 16, 19 / 16, np.nan]})
    values = pd.DataFrame({"caseload_cap": [0.4] * 3})
    profile = pd.DataFrame({caseload.code: [0.4] * 3})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert dict(caseload.group_levers)["under_cap"][0] == caseload.levers[1]
    assert table["lever_1"].tolist() == [caseload.levers[1], caseload.levers[0], caseload.levers[0]]


def test_an_agency_workers_pay_reason_after_the_permanent_post_was_offered_gets_the_groups_next_lever():
    """An agency worker whose career reason came first was offered the permanent post there, and their pay
    reason then had no lever (1,593 pay reasons on the national lists at 2024-01-01): a group's levers are a list,
    and a row gets the first of them not offered yet; a driver with one group lever still gets none."""
    taxonomy = {d.code: d for d in load_drivers()}
    agency_pay = dict(taxonomy["pay"].group_levers)["agency"]
    permanent = agency_pay[0]
    assert len(agency_pay) == 2 and "engagement" in agency_pay[1]
    people = pd.DataFrame({"employment_agency": [1.0, 1.0, 1.0, 0.0]})
    shown = [np.array([permanent, None, permanent, permanent], dtype=object)]
    got = reason_levers(["pay", "pay", "housing_cost", "pay"], people, shown=shown).tolist()
    assert got == [agency_pay[1], permanent, None, taxonomy["pay"].levers[0]]


def test_a_group_lever_that_is_neither_text_nor_a_list_of_texts_is_refused(tmp_path, monkeypatch):
    import pytest
    import yaml

    from retention_ml import schema

    raw = yaml.safe_load((schema.schema_dir() / "drivers.yaml").read_text(encoding="utf-8"))
    pay = next(d for d in raw["drivers"] if d["code"] == "pay")
    pay["group_levers"]["agency"] = ["Discuss a permanent post", 3]
    (tmp_path / "drivers.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setattr(schema, "schema_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"group_levers 'agency' is .*rule: a lever's text, or a list of them"):
        schema.load_drivers()


def test_an_agency_worker_new_in_post_whose_permanent_post_was_offered_is_settled_in_beside_the_short_time():
    """"3 months in this post" of an agency worker had no lever once the permanent post was offered beside their
    pay reason (1,208 career reasons on the national lists at 2024-01-01): the settling-in review is next; an
    agency worker long in post still gets none, and the permanent post stays first."""
    career = {d.code: d for d in load_drivers()}["career_progression"]
    groups = dict(career.group_levers)
    permanent, settle = groups["agency"][0], groups["new_in_post"][0]
    assert groups["agency_new_in_post"] == (permanent, settle)
    people = pd.DataFrame({"employment_agency": [1.0, 1.0, 1.0, 0.0], "tenure_months": [3.0, 40.0, 3.0, 3.0],
                           "nqsw_first_2y": [0.0, 0.0, 0.0, 0.0]})
    shown = [np.array([permanent, permanent, None, None], dtype=object)]
    assert reason_levers(["career_progression"] * 4, people, shown=shown).tolist() == [settle, None, permanent, settle]
    # their pay reason keeps the agency group's levers
    assert reason_levers(["pay"], people.iloc[:1]).tolist() == [permanent]


def test_a_part_timer_over_their_own_cap_is_sent_to_that_cap_not_the_team_cap():
    """0.5 FTE with 14 cases under a team cap of 18 is over their cap of 9; "Review caseload against the team cap
    and reallocate cases" sent their manager to 18, with nothing to reallocate (782 part-timers' levers on the
    national lists at 2024-01-01). The lever beside the reason names the cap the reason is measured against."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    # part-time over their own cap (under the team's); full-time over the team cap
    X = pd.DataFrame({"caseload_over_cap_months_6m": [5.0, 5.0], "caseload_current": [14.0, 21.0],
                      "caseload_cap": [18.0, 18.0], "caseload_to_cap": [14 / 9, 21 / 18]})
    values = pd.DataFrame({"caseload_over_cap_months_6m": [0.4, 0.4]})
    profile = pd.DataFrame({drivers["caseload_over_cap_months_6m"]: [0.4, 0.4]})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert "cap 9 for their hours" in table.loc[0, "reason_1"] and "cap 18)" in table.loc[1, "reason_1"]
    for lever in table["lever_1"]:
        assert "pro rata for part-time hours" in lever and "against the team cap" not in lever


def test_someone_new_in_post_who_holds_no_cases_is_not_offered_a_protected_caseload():
    """A team manager 7 months in post was offered "a settling-in review ... and a protected caseload while they
    learn it" (490 of the settling-in levers on the national lists at 2024-01-01 were beside people with no open
    cases): they get the settling-in review without it; a case-holder keeps the protected caseload."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    career = {d.code: d for d in load_drivers()}[drivers["tenure_months"]]
    groups = dict(career.group_levers)
    # no cases, holding cases, caseload not recorded (the caseload cannot be said to be none)
    X = pd.DataFrame({"tenure_months": [7.0, 7.0, 7.0], "caseload_current": [0.0, 12.0, np.nan],
                      "nqsw_first_2y": [0.0, 0.0, 0.0], "employment_agency": [0.0, 0.0, 0.0]})
    values = pd.DataFrame({"tenure_months": [0.4] * 3})
    profile = pd.DataFrame({career.code: [0.4] * 3})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert "caseload" in groups["new_in_post"][0]
    assert table["lever_1"].tolist() == [groups["new_in_post_without_cases"][0], groups["new_in_post"][0],
                                         groups["new_in_post"][0]]
    assert "settling-in review" in table.loc[0, "lever_1"] and "caseload" not in table.loc[0, "lever_1"]


def test_a_newly_qualified_worker_past_the_asye_year_is_not_offered_asye_support():
    """"14 months in this post" beside "ASYE support with a protected caseload and CPD days" offered a year that
    is over (657 of the ASYE levers on the national lists at 2024-01-01): past 12 months in post a newly qualified
    worker gets the second-year support; in the year, ASYE support."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    career = {d.code: d for d in load_drivers()}[drivers["tenure_months"]]
    groups = dict(career.group_levers)
    X = pd.DataFrame({"tenure_months": [14.0, 7.0], "nqsw_first_2y": [1.0, 1.0], "employment_agency": [0.0, 0.0],
                      "caseload_current": [12.0, 10.0]})
    values = pd.DataFrame({"tenure_months": [0.4] * 2})
    profile = pd.DataFrame({career.code: [0.4] * 2})
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert table["lever_1"].tolist() == [groups["newly_qualified_after_asye"][0], groups["newly_qualified"][0]]
    assert "ASYE support" not in table.loc[0, "lever_1"] and table.loc[1, "lever_1"].startswith("ASYE support")


def test_an_agency_worker_new_in_post_who_holds_no_cases_is_not_offered_a_protected_caseload_either():
    """A locum team manager new in post: the permanent post first, then (once it is offered beside another reason)
    the settling-in review without the protected caseload (9 agency team managers nationally at 2024-01-01)."""
    career = {d.code: d for d in load_drivers()}["career_progression"]
    groups = dict(career.group_levers)
    permanent, without_cases = groups["agency"][0], groups["new_in_post_without_cases"][0]
    people = pd.DataFrame({"employment_agency": [1.0, 1.0, 1.0], "tenure_months": [5.0, 5.0, 5.0],
                           "caseload_current": [0.0, 0.0, 12.0], "nqsw_first_2y": [0.0, 0.0, 0.0]})
    shown = [np.array([permanent, None, permanent], dtype=object)]
    got = reason_levers(["career_progression"] * 3, people, shown=shown).tolist()
    assert got == [without_cases, permanent, groups["new_in_post"][0]]
    assert "caseload" not in without_cases


def test_relocation_support_is_offered_to_the_newly_arrived_and_key_worker_housing_to_settled_staff():
    """"Relocation or housing support" beside the housing reason of someone 20 years in post (168 such on the
    national team lists at 2024-01-01): relocation help is for people moving in for the post, in its first year
    (not 20 months in), and never for a move between the council's teams, whose time in post starts again."""
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    # joined 6 months ago, 20 months ago, 23 years ago; moved team 6 months ago; time in post or how the post
    # began not recorded
    X = pd.DataFrame({"housing_rent_to_pay": [0.7] * 6, "tenure_months": [6.0, 20.0, 280.0, 6.0, np.nan, 6.0]})
    context = pd.DataFrame({"joined_from_outside": [1.0, 1.0, 1.0, 0.0, 1.0, np.nan]})
    values = pd.DataFrame({"housing_rent_to_pay": [0.5] * 6})
    profile = pd.DataFrame({"housing_cost": [0.5] * 6})
    table = reason_table(values, profile, X, context, catalogue, drivers.reindex(values.columns), k=1)
    assert table["lever_1"].tolist() == ["Relocation or housing support"] + ["Key-worker housing schemes"] * 5
    # without the column (a caller that cannot tell how a post began) nobody is offered relocation
    table = reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)
    assert table["lever_1"].tolist() == ["Key-worker housing schemes"] * 6


def test_an_internal_move_is_told_from_joining_the_council_by_pairing_spells_as_an_hr_analyst_would():
    """A spell starting the day after a spell of the same council ended with internal_move, with the same
    qualification date, began with a move (also when the person has since moved home: workers.home_area is the
    latest); any other spell began by joining (no protected characteristic read)."""
    from retention_ml.explain.spells import joined_from_outside

    d = pd.Timestamp
    q = d("2010-07-01")
    workers = pd.DataFrame({
        "worker_id": ["OLD1", "NEW1", "OTHERCOUNCIL", "OTHERQUAL", "LATER", "NOTMOVED", "JOIN", "OLD2", "NEW2"],
        "team_id": ["A1", "A2", "B1", "A2", "A2", "A2", "A2", "A1", "A2"],
        "start_date": [d("2015-01-05"), d("2023-03-01"), d("2023-03-01"), d("2023-03-01"), d("2023-03-02"),
                       d("2023-06-01"), d("2023-06-01"), d("2016-01-05"), d("2023-05-01")],
        "end_date": [d("2023-02-28"), pd.NaT, pd.NaT, pd.NaT, pd.NaT, pd.NaT, pd.NaT, d("2023-04-30"), pd.NaT],
        "leaving_reason": ["internal_move", None, None, None, None, "resignation", None, "internal_move", None],
        "home_area": ["H1", "H7", "H1", "H1", "H1", "H1", "H1", "H3", "H3"],   # NEW1 has moved home since
        "qualified_date": [q, q, q, d("2011-07-01"), q, q, q, pd.NaT, pd.NaT],   # OLD2/NEW2: unqualified
    })
    workers.loc[workers["worker_id"] == "NOTMOVED", "end_date"] = d("2023-05-31")   # resigned, not moved
    teams = pd.DataFrame({"team_id": ["A1", "A2", "B1"], "council_id": ["CA", "CA", "CB"]})
    keys = pd.DataFrame({"worker_id": ["NEW1", "OTHERCOUNCIL", "OTHERQUAL", "LATER", "JOIN", "NEW2", "UNKNOWN"]})
    got = joined_from_outside(keys, {"workers": workers, "teams": teams})
    np.testing.assert_array_equal(got, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0, np.nan])
    # an extract without the teams' councils cannot tell
    assert np.isnan(joined_from_outside(keys, {"workers": workers, "teams": teams.drop(columns="council_id")})).all()


def test_settling_in_ends_with_the_first_year_in_post_and_the_second_year_has_its_own_lever():
    """"A settling-in review, with induction to the area ..." beside "20 months in this post" offered an induction
    long past: as with the ASYE's year, settling in is the first year's lever, the second year's is a review of
    the first with a development plan (for someone holding no cases too), and from two years on the driver's own."""
    career = {d.code: d for d in load_drivers()}["career_progression"]
    groups = dict(career.group_levers)
    people = pd.DataFrame({"tenure_months": [5.0, 11.9, 12.0, 20.0, 20.0, 30.0],
                           "caseload_current": [10.0, 10.0, 10.0, 10.0, 0.0, 10.0],
                           "nqsw_first_2y": [0.0] * 6, "employment_agency": [0.0] * 6})
    got = reason_levers(["career_progression"] * 6, people).tolist()
    second = groups["second_year_in_post"][0]
    assert got == [groups["new_in_post"][0], groups["new_in_post"][0], second, second, second, career.levers[0]]
    assert "settling-in" not in second and "first year" in second
