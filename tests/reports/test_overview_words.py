"""What the service overview says about itself must hold for the overview it heads.

Its band counts said "they say how many, never who", but a team whose listed people are all in one band (914 of
the 2,544 teams showing figures in the national overviews at 2024-01-01, 912 of them all low) tells its head of
service each person's band; and "Each team's manager has the team's own list" is not so for a team with no
manager recorded, whose list is the head of service's.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from retention_ml.commands.rank import rank_scores

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _notes(path: Path) -> str:
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("# "))


def test_the_overview_says_what_its_band_counts_tell_where_a_team_is_all_in_one_band(tmp_path):
    teams = {"SA": 8, "SB": 8, "SC": 7}
    frame = scores_frame.synthetic_scores(teams, seed=3, managers={"SA": "MSA", "SB": "MSB", "SC": None}, prefix="WX")
    frame["service"] = "safeguarding"
    frame["target_turnover"] = 0.12
    low = frame["team_id"].eq("SA")   # everyone on team SA's list in the low band
    frame.loc[low, ["risk", "risk_low", "risk_high"]] = [0.05, 0.04, 0.06]
    folder = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(folder, tmp_path / "lists", all_teams=True, formats=("csv",))
    path = tmp_path / "lists" / "service_overview_C01_safeguarding.csv"
    table = pd.read_csv(path, comment="#", dtype={"team_id": str}).set_index("team_id")
    assert pd.to_numeric(table.loc["SA", ["medium", "high"]]).sum() == 0 and table.loc["SA", "people"] == 8   # all low, shown
    notes = _notes(path)
    assert "never who" not in notes
    assert "all in one band" in notes and "each one's band" in notes
    # team SC has no manager recorded: its list is the head of service's, as the overview says
    assert (tmp_path / "lists" / "risk_list_service_C01_safeguarding_no_manager_recorded.csv").exists()
    assert "no manager recorded" in notes


def test_a_head_of_service_list_does_not_leave_a_handover_to_a_manager_it_has_not(tmp_path):
    """The leaving line said a leaver's "handover is a matter for the manager": on the team managers' list the
    leaver is the manager, and a team with no manager recorded has none; the reader is the head of service."""
    teams = {"SA": 6, "SC": 6}
    frame = scores_frame.synthetic_scores(teams, seed=4, managers={"SA": "WX100", "SC": None}, prefix="WX")
    frame["service"] = "safeguarding"
    folder = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(folder, tmp_path / "lists", all_teams=True, formats=("csv",))
    lists = sorted((tmp_path / "lists").glob("risk_list_*.csv"))
    assert {p.name for p in lists} >= {"risk_list_service_C01_safeguarding_team_managers.csv",
                                       "risk_list_service_C01_safeguarding_no_manager_recorded.csv"}
    for path in lists:
        notes = _notes(path)
        assert "handover" in notes and "a matter for the manager" not in notes, path.name


def test_the_overview_calls_its_people_column_the_people_listed_which_it_counts(tmp_path):
    """The column said "People scored", but it counts the team's list: its manager (scored, listed for the head of
    service) and anyone whose leaving date is recorded are scored and not in it."""
    teams = {"SA": 8}
    frame = scores_frame.synthetic_scores(teams, seed=5, managers={"SA": "WX100"}, prefix="WX")
    frame["service"] = "safeguarding"
    folder = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(folder, tmp_path / "lists", all_teams=True, formats=("csv", "html"))
    table = pd.read_csv(tmp_path / "lists" / "service_overview_C01_safeguarding.csv", comment="#",
                        dtype={"team_id": str}).set_index("team_id")
    team_list = pd.read_csv(tmp_path / "lists" / "risk_list_team_SA.csv", comment="#")
    assert table.loc["SA", "people"] == len(team_list) < int(frame["team_id"].eq("SA").sum())
    html = (tmp_path / "lists" / "service_overview_C01_safeguarding.html").read_text(encoding="utf-8")
    assert "People listed" in html and "People scored" not in html
