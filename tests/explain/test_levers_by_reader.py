"""A lever is read by someone: the team manager for their team's people, the head of service for team managers and
for the people of a team with no manager recorded (risk_list.MANAGER_LINE). A lever naming its reader ("Team
stability plan with the head of service", read by the head of service) tells them to meet themselves; and a
settling-in lever offering "induction to the area" to someone who moved between two teams of one area offered
an area they already know."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.drivers import reason_levers
from retention_ml.explain.spells import lever_context
from retention_ml.schema import load_drivers

# who reads each row below: a team manager's own row, a member of their team, a member of a team with no manager
KEYS = pd.DataFrame({"worker_id": ["TM1", "W1", "W2"], "manager_id": ["TM1", "TM1", None]})
READER = ["head of service", "team manager", "head of service"]
# words that name each reader as the one the lever is to be done by or with
NAMES = {"head of service": ("head of service", "their manager"),
         "team manager": ("the manager", "their manager", "team manager")}


def _reachable(code: str, people: pd.DataFrame) -> list[list[str]]:
    """Per row of ``people``: every lever its reason of driver ``code`` can get, first lever first (the next one
    is offered when the earlier ones are already offered beside earlier reasons)."""
    out = [[] for _ in range(len(people))]
    shown = []
    for _ in range(5):
        got = reason_levers([code] * len(people), people, shown=shown)
        if all(g is None for g in got):
            break
        for i, g in enumerate(got):
            if g is not None:
                out[i].append(g)
        shown.append(got)
    return out


def test_lever_context_tells_who_reads_each_row_from_the_keys():
    people = lever_context(KEYS, {})   # no workers table: how the spells began is unknown, the readers are not
    assert people["manages_the_team"].tolist() == [1.0, 0.0, 0.0]
    assert people["team_without_manager"].tolist() == [0.0, 0.0, 1.0]
    assert people["joined_from_outside"].isna().all()


def test_the_team_stability_lever_names_the_head_of_service_only_to_a_team_manager():
    """7 levers on the 18 medium- or high-band rows of team managers on their heads of service's lists, and 15 on
    those of teams with no manager recorded, read "Team stability plan with the head of service" (national lists
    at 2024-01-01)."""
    got = reason_levers(["team_instability"] * 3, lever_context(KEYS, {})).tolist()
    assert got[1] == "Team stability plan with the head of service"   # a member's lever, read by their manager
    assert "head of service" not in got[0] and "head of service" not in got[2]
    assert "their team" in got[0] and got[0].endswith("with them")   # the team manager's own team, planned with them
    assert "no manager recorded" in got[2]
    # without the keys' manager (a caller that cannot tell the reader), the driver's first lever as before
    assert reason_levers(["team_instability"], pd.DataFrame({"x": [1.0]})).tolist() == [got[1]]


@pytest.mark.parametrize("code", [d.code for d in load_drivers() if d.levers])
def test_no_lever_a_row_can_get_names_the_person_reading_it(code):
    people = lever_context(KEYS, {}).assign(tenure_months=5.0, caseload_current=10.0, employment_agency=0.0,
                                            nqsw_first_2y=0.0)
    for reader, levers in zip(READER, _reachable(code, people)):
        named = [lever for lever in levers for role in NAMES[reader] if role in lever.lower()]
        assert not named, f"{code}: read by the {reader}: {named}"


def _spells(office_new: str) -> dict:
    d = pd.Timestamp
    q = d("2010-07-01")
    workers = pd.DataFrame({
        "worker_id": ["OLD1", "NEW1", "OLD2", "NEW2", "JOIN"],
        "team_id": ["A1", "A2", "A1", "A3", "A2"],
        "start_date": [d("2015-01-05"), d("2023-03-01"), d("2016-01-05"), d("2023-05-01"), d("2023-06-01")],
        "end_date": [d("2023-02-28"), pd.NaT, d("2023-04-30"), pd.NaT, pd.NaT],
        "leaving_reason": ["internal_move", None, "internal_move", None, None],
        "qualified_date": [q, q, pd.NaT, pd.NaT, q],
        "office_area": ["X", "X", "X", office_new, "X"],
    })
    teams = pd.DataFrame({"team_id": ["A1", "A2", "A3"], "council_id": ["CA", "CA", "CA"]})
    return {"workers": workers, "teams": teams}


def test_a_move_between_teams_of_one_office_area_is_told_from_a_move_to_another_area():
    from retention_ml.explain.spells import moved_within_area

    keys = pd.DataFrame({"worker_id": ["NEW1", "NEW2", "JOIN", "UNKNOWN"]})
    np.testing.assert_array_equal(moved_within_area(keys, _spells("Y")), [1.0, 0.0, 0.0, np.nan])
    np.testing.assert_array_equal(moved_within_area(keys, _spells("X")), [1.0, 1.0, 0.0, np.nan])
    # an extract without office areas cannot tell
    tables = _spells("Y")
    tables["workers"] = tables["workers"].drop(columns="office_area")
    assert np.isnan(moved_within_area(keys, tables)).all()


def test_a_new_spell_paired_with_earlier_spells_of_two_areas_is_said_to_be_neither():
    """Two spells ending in an internal move on one day, in one council, with one qualification date (two
    unqualified people, say) both pair with the next day's new spell: from one area and another, the move is not
    known to be within the area, so no team induction is offered in place of the area's."""
    from retention_ml.explain.spells import moved_within_area

    tables = _spells("X")
    w = tables["workers"]
    other = w[w["worker_id"] == "OLD2"].assign(worker_id="OLD3", office_area="Z")   # same end day, another area
    tables["workers"] = pd.concat([w, other], ignore_index=True)
    keys = pd.DataFrame({"worker_id": ["NEW1", "NEW2"]})
    got = moved_within_area(keys, tables)
    assert got[0] == 1.0 and np.isnan(got[1])


def test_someone_who_moved_team_within_their_area_is_inducted_to_the_team_not_the_area():
    """149 settling-in levers on medium- or high-band rows of the national lists at 2024-01-01 offered "induction
    to the area" to people whose post began with a move between the council's teams; where both teams are in one
    office area the induction is to the team. A move to another area, and a joiner, keep the area's induction."""
    career = {d.code: d for d in load_drivers()}["career_progression"]
    groups = dict(career.group_levers)
    keys = pd.DataFrame({"worker_id": ["NEW1", "NEW2", "JOIN", "NEW1", "NEW2"], "manager_id": ["M"] * 5})
    people = lever_context(keys, _spells("Y")).assign(
        tenure_months=5.0, caseload_current=[10.0, 10.0, 10.0, 0.0, 0.0], nqsw_first_2y=0.0, employment_agency=0.0)
    got = reason_levers(["career_progression"] * 5, people).tolist()
    assert got[1] == got[2] == groups["new_in_post"][0] and got[4] == groups["new_in_post_without_cases"][0]
    for lever in (got[0], got[3]):
        assert "area" not in lever and "team" in lever
    assert "protected caseload" in got[0] and "caseload" not in got[3]   # holding no cases: none to protect
    # past the first year the second year's lever, as for everyone
    later = reason_levers(["career_progression"], people.iloc[:1].assign(tenure_months=15.0)).tolist()
    assert later == [groups["second_year_in_post"][0]]
