"""The lists' team figures checked on the test window: coverage of the lists' own interval on hand-checked
teams, teams under 5 never checked (nor worked out by subtraction), one summary per date, the lists' function."""

import numpy as np
import pandas as pd

from retention_ml.evaluate import team_interval_checks


def _team(name: str, risk: float, size: int, left: int, as_of: str = "2024-01-01") -> pd.DataFrame:
    return pd.DataFrame({"as_of": as_of, "team": name, "person": [f"{name}-{i}" for i in range(size)],
                         "label": [1.0] * left + [0.0] * (size - left), "risk": risk})


def _hand_checked() -> pd.DataFrame:
    """Ten teams of 5 at 20%: expected 1, 80% range 0 to 2 (P(K<=0) = 0.33, P(K<=1) = 0.74, P(K<=2) = 0.94);
    their leavers 0, 1, 2, 0, 1, 2, 3, 0, 1, 5: eight inside, two above. One team of 5 at 60%: expected 3, range
    2 to 4 (P(K<=1) = 0.09, P(K<=3) = 0.66, P(K<=4) = 0.92); none left: below, the largest over-prediction."""
    left = [0, 1, 2, 0, 1, 2, 3, 0, 1, 5]
    return pd.concat([*[_team(f"G{i}", 0.2, 5, k) for i, k in enumerate(left)], _team("G10", 0.6, 5, 0)], ignore_index=True)


def test_coverage_on_teams_with_a_known_answer():
    (day,) = team_interval_checks(_hand_checked(), level=0.8)
    assert (day["as_of"], day["teams"], day["withheld"]) == ("2024-01-01", 11, 0)
    assert (day["inside"], day["above"], day["below"]) == (8, 2, 1)
    assert day["coverage"] == 8 / 11
    assert day["coverage_low"] <= 8 / 11 <= day["coverage_high"] and day["coverage_low"] < day["coverage_high"]
    assert np.isclose(day["mean_expected"], (10 * 1.0 + 3.0) / 11)
    assert np.isclose(day["mean_observed"], (sum([0, 1, 2, 0, 1, 2, 3, 0, 1, 5]) + 0) / 11)
    # what the risks imply: P(K > 2) = 0.05792 for each team at 20%; P(K < 2) = 0.08704, P(K > 4) = 0.07776 at 60%
    assert np.isclose(day["implied_above"], 10 * 0.05792 + 0.07776) and np.isclose(day["implied_below"], 0.08704)
    assert np.isclose(day["implied_coverage"], 1 - (10 * 0.05792 + 0.07776 + 0.08704) / 11)
    assert day["over"] == {"expected": 3.0, "observed": 0}
    assert day["under"] == {"expected": 1.0, "observed": 5}
    # the same rows give the same figures (the card recomputes them from the run's artifacts)
    assert team_interval_checks(_hand_checked(), level=0.8) == [day]


def test_the_interval_is_the_lists_own_function(monkeypatch):
    """Patching the lists' interval changes the check: it is the function the lists call, not a copy."""
    from retention_ml.reports import risk_list

    monkeypatch.setattr(risk_list, "expected_leavers_interval", lambda p, *, level: (float(np.sum(p)), 0, 0))
    (day,) = team_interval_checks(_hand_checked(), level=0.8)
    assert day["inside"] == 4   # only the four teams where nobody left are inside a range of 0 to 0


def test_teams_under_five_are_never_checked_nor_left_to_subtraction():
    rows = _hand_checked()
    small = _team("S", 0.2, 4, 4)   # 4 of 4 left: far above any range, and never counted
    (day,) = team_interval_checks(pd.concat([rows, small]), level=0.8)
    # a single withheld team of 4 could be worked out from the window's total: the smallest checked team goes too
    assert day["withheld"] == 2 and day["teams"] == 10
    two_small = pd.concat([rows, small, _team("S2", 0.2, 3, 0)])
    (day,) = team_interval_checks(two_small, level=0.8)
    assert (day["teams"], day["withheld"], day["inside"], day["above"]) == (11, 2, 8, 2)   # as without them


def test_one_summary_per_test_date_and_a_date_without_teams():
    later = _team("G0", 0.2, 5, 4, as_of="2024-04-01")   # above its range; the only team at that date
    alone = _team("G1", 0.2, 3, 0, as_of="2024-07-01")
    days = team_interval_checks(pd.concat([_hand_checked(), later, alone]), level=0.8)
    assert [d["as_of"] for d in days] == ["2024-01-01", "2024-04-01", "2024-07-01"]
    assert (days[1]["teams"], days[1]["above"], days[1]["coverage"]) == (1, 1, 0.0)
    assert days[2] == {"as_of": "2024-07-01", "level": 0.8, "teams": 0, "withheld": 1}


def test_ids_serve_as_well_as_the_logged_pseudonyms():
    rows = _hand_checked().rename(columns={"team": "team_id", "person": "worker_id"})
    assert team_interval_checks(rows, level=0.8) == team_interval_checks(_hand_checked(), level=0.8)


def test_every_team_inside_still_has_a_range_below_100_percent():
    """Calibration review S15: 38 of 38 teams inside read "100%, 95% interval 100% to 100%" on the demo's card:
    resampling teams that were all inside can only give all inside. The Wilson score interval for 12 of 12 is
    75.8% to 100%."""
    rows = pd.concat([_team(f"G{i}", 0.2, 5, i % 3) for i in range(12)], ignore_index=True)   # 0-2 left: inside
    (day,) = team_interval_checks(rows, level=0.8)
    assert (day["inside"], day["coverage"], day["coverage_high"]) == (12, 1.0, 1.0)
    assert np.isclose(day["coverage_low"], 0.7575, atol=1e-4)
