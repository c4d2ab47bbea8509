"""Small cells inside a shown team's row of the service overview: the medium and high band counts and the people
sharing the most common driver are counts of sub-groups of a team. The head of service does not hold a managed
team's list, so a count of 1 to 4 (or one worked out from the team's people or from the service total less the
teams' counts) would be an aggregate over fewer than 5 people they cannot see: it reads "fewer than 5" or
"withheld" instead. The lists' rows are unchanged."""

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

SMALL = fewer_than(MIN_PEOPLE)


def _frame(teams: dict[str, int], bands: dict[str, tuple[int, int]], drivers: dict[str, list[str]] | None = None,
           seed: int = 3) -> pd.DataFrame:
    """One service "sg" (and a team "EH" in another); each team's first person is its manager (not on its list);
    ``bands[team]`` = (medium, high): the next people listed are in the high band, then the medium band, everyone
    else low. ``drivers[team]``: per flagged person (high first) the driver leading their risk (default pay)."""
    frame = scores_frame.synthetic_scores(teams, seed=seed, managers={t: f"MGR{t}" for t in teams}, prefix="WX")
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    frame["service"] = np.where(frame["team_id"].eq("EH"), "eh", "sg")
    codes = [c for c in frame.columns if c.startswith("driver_")]
    frame[codes] = 0.0
    frame["risk"] = 0.05
    position = frame.groupby("team_id").cumcount().to_numpy()   # 0 is the manager
    medium = frame["team_id"].map({t: m for t, (m, _) in bands.items()}).to_numpy()
    high = frame["team_id"].map({t: h for t, (_, h) in bands.items()}).to_numpy()
    is_high = (position >= 1) & (position <= high)
    is_medium = (position > high) & (position <= high + medium)
    frame.loc[is_high, "risk"] = 0.5
    frame.loc[is_medium, "risk"] = 0.2
    lead = np.array(["pay"] * len(frame), dtype=object)
    for team, codes_of in (drivers or {}).items():
        rows = np.flatnonzero(frame["team_id"].eq(team).to_numpy() & (is_high | is_medium))
        lead[rows[:len(codes_of)]] = codes_of
    flagged = is_high | is_medium
    for code in set(lead[flagged]):
        frame.loc[flagged & (lead == code), f"driver_{code}"] = 0.6
    frame["risk_low"], frame["risk_high"] = frame["risk"] - 0.01, frame["risk"] + 0.01
    return frame


def _rank(tmp_path, frame):
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    return tmp_path / "lists"


def _overview(lists: Path) -> pd.DataFrame:
    return pd.read_csv(lists / "service_overview_C01_sg.csv", comment="#", dtype=str).set_index("team_id")


def test_band_counts_of_one_to_four_read_fewer_than_five(tmp_path):
    """SA lists 12: 6 medium, 2 high; SB lists 10: 5 medium, 5 high. SA's 2 high-band people are a count of 2 the
    head of service cannot see on any list: it reads "fewer than 5"; SA's 6 medium and SB's counts stay."""
    frame = _frame({"SA": 13, "SB": 11, "EH": 8}, {"SA": (6, 2), "SB": (5, 5), "EH": (0, 0)})
    table = _overview(_rank(tmp_path, frame))
    assert table.loc["SA", "people"] == "12" and table.loc["SB", "people"] == "10"
    assert table.loc["SA", "high"] == SMALL
    assert table.loc["SA", "medium"] == "6"
    assert table.loc["SB", ["medium", "high"]].tolist() == ["5", "5"]


def test_the_total_cannot_give_back_a_withheld_band_count(tmp_path):
    """SA's 2 high-band people read "fewer than 5", SB shows 5: the total's 7 high less SB's 5 would give SA's 2, so
    the total's high count is withheld too (and the note says why); its medium count (every team's shown) stays."""
    frame = _frame({"SA": 13, "SB": 11, "EH": 8}, {"SA": (6, 2), "SB": (5, 5), "EH": (0, 0)})
    table = _overview(_rank(tmp_path, frame))
    total = table.loc[TOTAL_LABEL]
    assert total["high"] != "7" and not str(total["high"]).isdigit()
    assert total["medium"] == "11"
    assert "total" in str(total["note"]).lower()


def test_a_count_worked_out_from_the_teams_people_is_withheld(tmp_path):
    """SC lists 12: 5 medium, 5 high, so 2 low; with both counts shown, 12 - 5 - 5 tells the head of service that
    2 people are in the low band. One of the two counts is withheld, and no band count of the row is under 5."""
    frame = _frame({"SA": 13, "SC": 13, "EH": 8}, {"SA": (6, 6), "SC": (5, 5), "EH": (0, 0)})
    table = _overview(_rank(tmp_path, frame))
    sc = table.loc["SC"]
    shown = [int(v) for v in sc[["medium", "high"]] if str(v).isdigit()]
    assert len(shown) < 2
    assert int(sc["people"]) - sum(shown) >= MIN_PEOPLE


def test_a_driver_shared_by_fewer_than_five_is_not_named(tmp_path):
    """SA lists 12 with 6 flagged: 3 led by pay, 2 by housing, 1 by caseload. "Pay, 3 people" is an aggregate over
    3 people: the team's driver is not named and its people read "fewer than 5". SB's 6 led by pay stay."""
    frame = _frame({"SA": 13, "SB": 13, "EH": 8}, {"SA": (6, 0), "SB": (6, 0), "EH": (0, 0)},
                   drivers={"SA": ["pay"] * 3 + ["housing_cost"] * 2 + ["caseload_workload"]})
    table = _overview(_rank(tmp_path, frame))
    assert pd.isna(table.loc["SA", "main_driver"]) and table.loc["SA", "main_driver_people"] == SMALL
    assert table.loc["SB", ["main_driver", "main_driver_people"]].tolist() == ["Pay", "6"]
    # the total's pay (9) less SB's 6 would give SA's 3 led by pay: withheld
    assert not str(table.loc[TOTAL_LABEL, "main_driver_people"]).isdigit()


def test_the_lists_rows_are_unchanged(tmp_path):
    """Only the overview's aggregates change: the team list keeps every row, band and order."""
    frame = _frame({"SA": 13, "SB": 11, "EH": 8}, {"SA": (6, 2), "SB": (5, 5), "EH": (0, 0)})
    lists = _rank(tmp_path, frame)
    rows = pd.read_csv(lists / "risk_list_team_SA.csv", comment="#", dtype=str)
    assert rows["band"].value_counts().to_dict() == {"low": 4, "medium": 6, "high": 2}


def test_no_small_count_in_any_random_overview(tmp_path):
    """Many services of random teams and bands: no overview cell (team or total) counts 1 to 4 people, no team row's
    counts leave 1 to 4 people in the other bands, and no service total less its teams' counts shown gives 1 to 4."""
    rng = np.random.default_rng(7)
    teams = {f"T{i:02d}": int(n) for i, n in enumerate(rng.integers(6, 20, 48))}
    bands = {}
    for t, n in teams.items():
        high = int(rng.integers(0, n // 2))
        bands[t] = (int(rng.integers(0, n - 1 - high)), high)
    frame = _frame(teams, bands)
    frame["service"] = frame["team_id"].map({t: f"svc{i % 8}" for i, t in enumerate(teams)})
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    checked = 0
    for path in sorted((tmp_path / "lists").glob("service_overview_*.csv")):
        table = pd.read_csv(path, comment="#", dtype=str).set_index("team_id")
        num = table[["people", "medium", "high", "main_driver_people"]].apply(pd.to_numeric, errors="coerce")
        cells = num[["medium", "high", "main_driver_people"]].to_numpy()
        assert not ((cells >= 1) & (cells < MIN_PEOPLE)).any(), path.name
        both = num["medium"].notna() & num["high"].notna() & num["people"].notna()
        rest = (num["people"] - num["medium"] - num["high"])[both]
        assert not ((rest >= 1) & (rest < MIN_PEOPLE)).any(), path.name
        teams_here = num.drop(index=TOTAL_LABEL)
        for col in ("medium", "high"):
            if pd.notna(num.loc[TOTAL_LABEL, col]):
                left = num.loc[TOTAL_LABEL, col] - teams_here[col].sum()
                assert left == 0 or left >= MIN_PEOPLE, (path.name, col, left)
                checked += 1
    assert checked >= 4


def test_the_people_led_by_other_drivers_cannot_be_counted(tmp_path):
    """SA lists 12: 7 medium (6 led by pay, 1 by housing), 0 high. "Pay, 6" beside 7 medium and 0 high would tell
    the head of service that 1 of them is led by something else: the driver is still named, its people withheld."""
    frame = _frame({"SA": 13, "SB": 13, "EH": 8}, {"SA": (7, 0), "SB": (6, 0), "EH": (0, 0)},
                   drivers={"SA": ["pay"] * 6 + ["housing_cost"]})
    table = _overview(_rank(tmp_path, frame))
    assert table.loc["SA", ["medium", "high"]].tolist() == ["7", "0"]
    assert table.loc["SA", "main_driver"] == "Pay" and table.loc["SA", "main_driver_people"] == WITHHELD
    assert table.loc["SB", ["main_driver", "main_driver_people"]].tolist() == ["Pay", "6"]   # all 6 led by pay
    for _, row in table.iterrows():   # nowhere do the counts shown leave 1 to 4 people led by other drivers
        counts = pd.to_numeric(row[["medium", "high", "main_driver_people"]], errors="coerce")
        if counts.notna().all():
            assert not 0 < counts["medium"] + counts["high"] - counts["main_driver_people"] < MIN_PEOPLE, row.name


def _counts_fitting(row, cuts=(0.15, 0.30)) -> dict[str, set[int]]:
    """Brute force: every (medium, high) count a reader of the row could hold true, from its people, its expected
    leavers (shown to 0.1) and what each band's cell reads, knowing each band's risks lie between its cut-offs."""
    people, expected = int(row["people"]), float(row["expected_leavers"])
    ranges = {}
    for col in ("medium", "high"):
        text = str(row[col])
        ranges[col] = (range(1, MIN_PEOPLE) if text == SMALL else range(people + 1) if text == WITHHELD
                       else range(int(text), int(text) + 1))
    fits = {"medium": set(), "high": set()}
    for m in ranges["medium"]:
        for h in ranges["high"]:
            low = people - m - h
            if low < 0:
                continue
            least, most = cuts[0] * m + cuts[1] * h, cuts[1] * m + h + cuts[0] * low
            if least <= expected + 0.05 and most >= expected - 0.05:
                fits["medium"].add(m)
                fits["high"].add(h)
    return fits


def test_expected_leavers_cannot_pin_a_withheld_band_count(tmp_path):
    """SP lists 5: one person in the high band (45%) and four at 1%, so 0.5 expected leavers. A high-band person adds
    at least 30% to the expected leavers, so beside 0.5 a high count of "fewer than 5" can only be 1: the head of
    service learns that exactly one of the team is in the high band (on the national scoring of 2024-01-01, 1 of
    the 463 teams whose high count read "fewer than 5"). It reads "withheld" instead, which 0.5 leaves at 0 or 1;
    the team's list keeps its rows, and no row of the overview has a hidden band count only one value fits."""
    frame = _frame({"SA": 13, "SB": 11, "SP": 6, "EH": 8}, {"SA": (6, 2), "SB": (5, 5), "SP": (0, 1), "EH": (0, 0)})
    sp = frame["team_id"].eq("SP") & frame["worker_id"].ne("MGRSP")
    frame.loc[sp, "risk"] = np.where(frame.loc[sp, "risk"].to_numpy() > 0.3, 0.45, 0.01)
    frame["risk_low"], frame["risk_high"] = frame["risk"] - 0.005, frame["risk"] + 0.005
    lists = _rank(tmp_path, frame)
    table = _overview(lists)
    assert table.loc["SP", ["people", "expected_leavers", "medium"]].tolist() == ["5", "0.5", "0"]
    assert table.loc["SP", "high"] == WITHHELD and "withheld" in str(table.loc["SP", "note"]).lower()
    assert _hidden_counts_left_open(table, "SP overview") > 0
    rows = pd.read_csv(lists / "risk_list_team_SP.csv", comment="#", dtype=str)
    assert rows["band"].value_counts().to_dict() == {"low": 4, "high": 1}


def _hidden_counts_left_open(table: pd.DataFrame, where: str) -> int:
    """How many band counts of ``table`` read "fewer than 5" or "withheld", asserting that at least two counts fit
    each one (the brute force above)."""
    hidden = 0
    for team, row in table.iterrows():
        if pd.isna(row["people"]):
            continue
        fits = _counts_fitting(row)
        for col in ("medium", "high"):
            if str(row[col]) in (SMALL, WITHHELD):
                hidden += 1
                assert len(fits[col]) > 1, (where, team, col, fits[col])
    return hidden


def test_no_random_overview_has_a_band_count_its_expected_leavers_pin(tmp_path):
    """Many small teams with risks spread within each band, low ones near 0: wherever a band count reads "fewer than
    5" or "withheld", at least two counts fit the row's expected leavers (the brute force above)."""
    rng = np.random.default_rng(11)
    teams = {f"T{i:02d}": int(n) for i, n in enumerate(rng.integers(6, 11, 60))}
    bands = {t: (int(rng.integers(0, 3)), int(rng.integers(0, 3))) for t in teams}
    frame = _frame(teams, bands)
    frame["service"] = frame["team_id"].map({t: f"svc{i % 6}" for i, t in enumerate(teams)})
    risk = frame["risk"].to_numpy()
    frame["risk"] = np.where(risk > 0.3, rng.uniform(0.30, 0.6, len(frame)),
                             np.where(risk > 0.15, rng.uniform(0.15, 0.30, len(frame)), rng.uniform(0.0, 0.03, len(frame))))
    frame["risk_low"], frame["risk_high"] = frame["risk"] - 0.005, frame["risk"] + 0.005
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    hidden = sum(_hidden_counts_left_open(pd.read_csv(path, comment="#", dtype=str).set_index("team_id"), path.name)
                 for path in sorted((tmp_path / "lists").glob("service_overview_*.csv")))
    assert hidden >= 20
