"""Small cells in the service overview: the most common driver is an aggregate over a team's medium- and
high-band people, so it follows the floor over those people, and the service total's driver cannot be differenced
down to fewer than the floor of them (complementary suppression, as for the teams' own figures)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.commands.rank import rank_scores
from retention_ml.disclosure import MIN_PEOPLE, WITHHELD, fewer_than
from retention_ml.reports.service_overview import TOTAL_LABEL

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _frame(teams: dict[str, int], services: dict[str, str], high: dict[str, int], seed: int = 11) -> pd.DataFrame:
    """Each team's first person is its manager (not on its list); the next ``high[team]`` listed people are in the
    high band led by pay, everyone else in the low band."""
    frame = scores_frame.synthetic_scores(teams, seed=seed, managers={t: f"MGR{t}" for t in teams}, prefix="WX")
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    frame["service"] = frame["team_id"].map(services)
    drivers = [c for c in frame.columns if c.startswith("driver_")]
    frame[drivers] = 0.0
    frame["risk"] = 0.05
    position = frame.groupby("team_id").cumcount()   # 0 is the manager
    flagged = (position >= 1) & (position <= frame["team_id"].map(high))
    frame.loc[flagged, "risk"] = 0.5
    frame.loc[flagged, "driver_pay"] = 0.6
    frame["risk_low"], frame["risk_high"] = frame["risk"] - 0.01, frame["risk"] + 0.01
    return frame


def _overview(tmp_path, frame, service: str) -> pd.DataFrame:
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    return pd.read_csv(tmp_path / "lists" / f"service_overview_C01_{service}.csv", comment="#",
                       dtype={"team_id": str}).set_index("team_id")


def test_a_teams_driver_is_withheld_when_the_total_minus_it_gives_away_three_people(tmp_path):
    """SA lists 12 (8 high, led by pay), SB lists 8 (3 high, led by pay): both teams show their figures. The total
    names pay for 11 people; shown beside it, SA's "pay, 8" would tell the head of service that SB's 3 high-band
    people are led by pay, an aggregate over 3 people. So SA's driver is withheld too, the total's is kept."""
    frame = _frame({"SA": 13, "SB": 9, "EH": 8}, {"SA": "sg", "SB": "sg", "EH": "eh"}, {"SA": 8, "SB": 3, "EH": 0})
    table = _overview(tmp_path, frame, "sg")
    assert table.loc[["SA", "SB"], "people"].tolist() == [12, 8]        # the teams' own figures are still shown
    # SB's 3 high read "fewer than 5"; SA's 8 high beside its 4 low (12 listed) would give the 4: withheld
    assert table.loc[["SA", "SB"], "high"].tolist() == [WITHHELD, fewer_than()]
    assert (table.loc[TOTAL_LABEL, "main_driver"], table.loc[TOTAL_LABEL, "main_driver_people"]) == ("Pay", 11)
    assert table.loc[["SA", "SB"], ["main_driver", "main_driver_people"]].isna().all().all()


def test_a_teams_driver_stays_when_the_rest_hold_enough_people(tmp_path):
    """SB's 5 high-band people pass the floor on their own: both teams show their driver (nothing to difference)."""
    frame = _frame({"SA": 13, "SB": 9, "EH": 8}, {"SA": "sg", "SB": "sg", "EH": "eh"}, {"SA": 8, "SB": 5, "EH": 0})
    table = _overview(tmp_path, frame, "sg")
    assert table.loc[["SA", "SB"], "main_driver"].tolist() == ["Pay", "Pay"]
    assert table.loc[["SA", "SB"], "main_driver_people"].tolist() == [8, 5]


def test_drivers_withheld_never_cover_fewer_than_the_floor(tmp_path):
    """Many services of random teams and high-band counts: wherever the total shows a driver, the medium- and
    high-band people of the teams not showing one are none or at least the floor."""
    rng = np.random.default_rng(4)
    teams = {f"T{i:02d}": int(n) for i, n in enumerate(rng.integers(4, 16, 36))}
    services = {t: f"svc{i % 6}" for i, t in enumerate(teams)}
    high = {t: int(rng.integers(0, n)) for t, n in teams.items()}
    frame = _frame(teams, services, high)
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    checked = 0
    for path in sorted((tmp_path / "lists").glob("service_overview_*.csv")):
        table = pd.read_csv(path, comment="#", dtype={"team_id": str}).set_index("team_id")
        if pd.isna(table.loc[TOTAL_LABEL, "main_driver"]):
            continue
        here = table.index.drop(TOTAL_LABEL)
        hidden = sum(high[t] for t in here if pd.isna(table.loc[t, "main_driver"]))
        assert hidden == 0 or hidden >= MIN_PEOPLE, (path.name, hidden)
        checked += 1
    assert checked >= 3
