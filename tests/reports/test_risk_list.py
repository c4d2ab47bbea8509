"""Risk lists: bands, uncertainty, Poisson-binomial team intervals, levers from drivers.yaml, scoping, formats."""

from __future__ import annotations

from html import unescape
import itertools
import json
import re
import shutil
import subprocess
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from retention_ml.reports.risk_list import (
    APPROVAL_UNKNOWN_LINE,
    MANAGER_LINE,
    NOT_APPROVED_LINE,
    PURPOSE_LINE,
    SAME_ACTION_LEVER,
    BandConfig,
    assign_bands,
    banner_lines,
    build_risk_lists,
    build_service_manager_list,
    expected_leavers_interval,
    list_metadata,
    load_band_config,
    poisson_binomial_pmf,
    straddles_band,
    summary_text,
)
from retention_ml.schema import driver_codes

TEAMS = {"TEAMALPHA": 9, "TEAMBRAVO": 7, "TEAMCHARLIE": 6, "TEAMDELTA": 3}  # DELTA is under the 5-person floor
MANAGERS = {"TEAMALPHA": "MGRX101", "TEAMBRAVO": "MGRX101", "TEAMCHARLIE": "MGRX202", "TEAMDELTA": "MGRX303"}


def make_scores(seed: int = 3, *, previous: bool = True) -> pd.DataFrame:
    """A realistic scores frame (what retention-ml score writes)."""
    rng = np.random.default_rng(seed)
    team = np.repeat(list(TEAMS), list(TEAMS.values()))
    n = team.size
    risk = rng.beta(2, 8, n)
    width = rng.uniform(0.01, 0.12, n)
    codes = list(dict.fromkeys([*driver_codes(model_visible=True), "other"]))
    drivers = pd.DataFrame(rng.normal(0, 0.4, (n, len(codes))), columns=[f"driver_{c}" for c in codes])
    frame = pd.DataFrame({
        "worker_id": [f"WKR{9000 + i}" for i in range(n)],
        "display_name": [f"Person Name{chr(65 + i % 26)}{i:02d}" for i in range(n)],
        "team_id": team,
        "council_id": "C01",
        "manager_id": pd.Series(team).map(MANAGERS).to_numpy(),
        "role": rng.choice(["social_worker", "senior_practitioner", "nqsw"], n),
        "months_in_post": rng.integers(1, 120, n),
        "as_of": pd.Timestamp("2024-01-01"),
        "risk": risk,
        "risk_low": np.clip(risk - width, 0, 1),
        "risk_high": np.clip(risk + width, 0, 1),
        "reason_1": "Caseload of 24 is above the team cap of 20",
        "reason_2": "Commute of 70 minutes",
        "reason_3": "",
        "caseload_current": rng.integers(10, 28, n).astype(float),
        "caseload_cap": 20.0,
        "target_turnover": 0.10,
        "model_ref": "models:/retention-ml-turnover@champion",
        "run_id": "abc123",
    })
    frame = pd.concat([frame, drivers], axis=1)
    if previous:
        prev = np.clip(risk + rng.normal(0, 0.1, n), 0.01, 0.99)
        prev[0] = np.nan  # a new starter since last time
        frame["risk_previous"] = prev
    return frame


def with_managers_in_team(frame: pd.DataFrame) -> pd.DataFrame:
    """As in real data, a team's manager is a member of the team they manage (zero caseload).

    MGRX101 manages ALPHA and BRAVO and sits in ALPHA; MGRX202 sits in CHARLIE; MGRX303 in DELTA.
    """
    frame = frame.copy()
    for team in ("TEAMALPHA", "TEAMCHARLIE", "TEAMDELTA"):
        i = frame.index[frame.team_id == team][0]
        frame.loc[i, ["worker_id", "role", "caseload_current"]] = [MANAGERS[team], "team_manager", 0.0]
    return frame


SERVICES = {"TEAMALPHA": "safeguarding", "TEAMBRAVO": "safeguarding", "TEAMCHARLIE": "children_in_care",
            "TEAMDELTA": "children_in_care"}


def with_service(frame: pd.DataFrame) -> pd.DataFrame:
    """The scores with a service column (teams.csv's service of each team)."""
    return frame.assign(service=frame["team_id"].map(SERVICES))


def write_scores(tmp_path, frame, **meta):
    d = tmp_path / "scores"
    d.mkdir()
    frame.to_parquet(d / "scores.parquet", index=False)
    (d / "score_meta.json").write_text(json.dumps({"as_of": "2024-01-01", "model_ref": "models:/x@champion",
                                                   "n_workers": len(frame), "teams": sorted(TEAMS),
                                                   "health_data_in_reasons": "withheld", **meta}))
    return d


NOT_APPROVED = {"status": "not approved",
                "detail": "The scored model (run r1) is not the champion of retention-ml-turnover (no model has "
                          "passed the promotion gate yet): treat the lists as a preview."}
APPROVED = {"status": "approved", "detail": "Version 3 of retention-ml-turnover is the registry's champion."}


def test_list_metadata_keeps_approval_only_when_the_scoring_has_it():
    cfg = BandConfig()
    assert list_metadata({"as_of": "2024-01-01", "approval": NOT_APPROVED}, config=cfg, teams=["T"])["approval"] == NOT_APPROVED
    assert "approval" not in list_metadata({"as_of": "2024-01-01"}, config=cfg, teams=["T"])


@pytest.mark.parametrize("approval, shown, absent", [
    (NOT_APPROVED, [NOT_APPROVED_LINE, NOT_APPROVED["detail"]], [APPROVAL_UNKNOWN_LINE, "Approved:"]),
    (None, [APPROVAL_UNKNOWN_LINE], [NOT_APPROVED_LINE, "Approved:"]),  # older scorings: no approval recorded
    (APPROVED, ["Approved: " + APPROVED["detail"]], [NOT_APPROVED_LINE, APPROVAL_UNKNOWN_LINE]),
])
def test_approval_status_heads_every_format(tmp_path, approval, shown, absent):
    import openpyxl

    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores(), **({"approval": approval} if approval else {}))
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"])
    texts = {name: unescape(text) for name, text in _file_texts(tmp_path / "l").items()}
    assert len(texts) == 3
    for name, text in texts.items():
        assert all(x in text for x in shown), name
        assert not any(x in text for x in absent), name
    # most prominent: the first line of the CSV, cell A1 of every sheet, and the first thing in the HTML page
    first = (tmp_path / "l" / "risk_list_team_TEAMALPHA.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# " + shown[0])
    ws = openpyxl.load_workbook(tmp_path / "l" / "risk_list_team_TEAMALPHA.xlsx")["TEAMALPHA"]
    assert ws.cell(1, 1).value.startswith(shown[0])
    page = texts["risk_list_team_TEAMALPHA.html"]
    body = page.split("<h1>", 1)[1]
    assert body.index(shown[0]) < body.index(PURPOSE_LINE)
    if approval is None or approval["status"] != "approved":
        assert 'role="alert"' in page and ws.cell(1, 1).font.b and ws.cell(1, 1).fill.fgColor.rgb.endswith("B00020")
    else:
        assert 'role="alert"' not in page


def test_bands_follow_config_cutoffs():
    cfg = BandConfig(medium=0.2, high=0.5)
    assert list(assign_bands([0.0, 0.199, 0.2, 0.49, 0.5, 0.99], config=cfg)) == ["low", "low", "medium", "medium", "high", "high"]
    assert list(straddles_band([0.1, 0.21, 0.45, 0.1], [0.19, 0.3, 0.55, 0.6], config=cfg)) == [False, False, True, True]


def test_default_config_shows_band_only():
    cfg = load_band_config()
    assert cfg.show_probability is False and 0 < cfg.medium < cfg.high < 1


def test_bad_cutoffs_are_named(tmp_path):
    p = tmp_path / "b.toml"
    p.write_text("[bands]\nmedium = 0.5\nhigh = 0.2\n")
    with pytest.raises(ValueError, match="medium < high"):
        load_band_config(p)


def test_poisson_binomial_matches_enumeration():
    p = np.array([0.1, 0.5, 0.8, 0.33, 0.05])
    brute = np.zeros(6)
    for outcome in itertools.product([0, 1], repeat=5):
        o = np.array(outcome)
        brute[o.sum()] += np.prod(np.where(o == 1, p, 1 - p))
    np.testing.assert_allclose(poisson_binomial_pmf(p), brute, atol=1e-12)


def test_poisson_binomial_large_team_is_a_distribution():
    p = np.random.default_rng(0).uniform(0, 0.4, 400)
    pmf = poisson_binomial_pmf(p)
    assert pmf.min() >= 0 and pmf.sum() == pytest.approx(1)
    assert (np.arange(401) * pmf).sum() == pytest.approx(p.sum(), rel=1e-9)


def test_expected_leaver_interval_covers_simulated_count_about_80_percent():
    """Across many seeds and teams, the 80% interval covers the simulated number of leavers ~80% of the time."""
    rng = np.random.default_rng(11)
    hits, trials = 0, 0
    for _ in range(400):
        p = rng.beta(2, 9, rng.integers(5, 40))
        _, lo, hi = expected_leavers_interval(p, level=0.8)
        counts = (rng.random((10, p.size)) < p).sum(axis=1)
        hits += int(((counts >= lo) & (counts <= hi)).sum())
        trials += counts.size
    coverage = hits / trials
    # discrete counts: an equal-tailed interval covers at least 80%, rarely much more than 90%
    assert 0.78 <= coverage <= 0.95, coverage


def test_lists_show_the_levers_the_scoring_stored_beside_their_reasons():
    # A lever is the one stored beside its reason (explain.drivers.reason_levers); none is made up from the
    # driver profile, whose strongest driver may be no reason at all (below the reason floor, or caseload
    # for someone holding no cases).
    scores = make_scores()
    scores["driver_commute"] = 5.0   # every profile's strongest driver
    plain = build_risk_lists(scores, config=load_band_config(), teams=sorted(TEAMS))
    assert all((tl.rows[["lever_1", "lever_2", "lever_3"]] == "").all().all() for tl in plain)
    scores["lever_1"], scores["lever_2"], scores["lever_3"] = "Review caseload against the team cap", "", None
    stored = pd.concat([tl.rows for tl in build_risk_lists(scores, config=load_band_config(), teams=sorted(TEAMS))])
    conversation = stored.loc[stored["band"] != "low"]
    assert len(conversation) and (conversation["lever_1"] == "Review caseload against the team cap").all()
    assert (stored["lever_3"] == "").all()   # no reason, no lever
    # a reason stored with no lever: its action is offered beside an earlier reason (one action per row), and
    # the list says so rather than leave a cell a manager reads as "nothing to suggest"
    assert (conversation["lever_2"] == SAME_ACTION_LEVER).all()
    assert not any(tl.rows.isin([SAME_ACTION_LEVER]).any(axis=None) for tl in plain)   # a scoring without levers: none


def test_low_band_rows_keep_their_reasons_but_suggest_no_lever_as_the_band_text_says(tmp_path):
    """The band text says a low band suggests nothing beyond usual supervision: "Relocation or housing support"
    beside a low-band row said otherwise (35,242 of the 53,505 levers on the national lists at 2024-01-01 were on low-band rows).
    Team lists and the head of service's list of team managers alike (every format: test_health_low_band)."""
    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import band_meaning_text

    scores = with_service(with_managers_in_team(make_scores()))
    scores["lever_1"], scores["lever_2"], scores["lever_3"] = "Key-worker housing schemes", "", ""
    config = load_band_config()
    rows = pd.concat([*(tl.rows for tl in build_risk_lists(scores, config=config, teams=sorted(TEAMS))),
                      *(tl.rows for tl in build_service_manager_list(scores, config=config, service="safeguarding"))])
    low, other = rows.loc[rows["band"] == "low"], rows.loc[rows["band"] != "low"]
    assert len(low) and len(other)
    assert (low["reason_1"] != "").all() and (low[["lever_1", "lever_2", "lever_3"]] == "").all(axis=None)
    assert (other["lever_1"] == "Key-worker housing schemes").all() and (other["lever_2"] == SAME_ACTION_LEVER).all()
    assert "show its reasons without suggested levers" in band_meaning_text(list_metadata({}, config=config, teams=[]))
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"], formats=("csv",))
    table = pd.read_csv(tmp_path / "l" / "risk_list_team_TEAMALPHA.csv", comment="#", dtype=str, keep_default_na=False)
    assert (table.loc[table["band"] == "low", "lever_1"] == "").all()
    assert (table.loc[table["band"] != "low", "lever_1"] == "Key-worker housing schemes").all()


def test_lists_ranked_and_summarised_per_team():
    scores = make_scores()
    cfg = load_band_config()
    lists = build_risk_lists(scores, config=cfg, teams=sorted(TEAMS))
    assert [tl.team_id for tl in lists] == sorted(TEAMS)
    alpha = lists[0]
    ranked = scores[scores.team_id == "TEAMALPHA"].sort_values("risk", ascending=False)
    assert list(alpha.rows.worker_id) == list(ranked.worker_id)
    assert "risk" not in alpha.rows and "display_name" not in alpha.rows
    e, lo, hi = expected_leavers_interval(ranked.risk, level=0.8)
    assert alpha.summary["expected_leavers"] == round(e, 1) and (alpha.summary["expected_low"], alpha.summary["expected_high"]) == (lo, hi)
    assert alpha.summary["target_turnover"] == 0.10 and alpha.summary["caseload_cap"] == 20
    assert "target turnover 10% a year = 0.9 leavers in 12 months" in summary_text(alpha.summary, 12)
    delta = next(tl for tl in lists if tl.team_id == "TEAMDELTA")
    assert delta.summary["people"] is None and "expected_leavers" not in delta.summary
    changes = set(pd.concat([tl.rows for tl in lists]).change)
    assert "new since last scoring" in changes and changes & {"same band"} and any(c.startswith("up from") or c.startswith("down from") for c in changes)


def test_a_new_team_reads_new_since_last_scoring_whether_ranked_alone_or_with_all():
    # everyone in TEAMALPHA joined since the last scoring (a new team): each is "new", not "no previous
    # scoring", and rank --team gives the same words as rank --all
    scores = make_scores()
    scores.loc[scores.team_id == "TEAMALPHA", "risk_previous"] = np.nan
    cfg = load_band_config()
    alone = build_risk_lists(scores, config=cfg, teams=["TEAMALPHA"])[0]
    with_all = next(tl for tl in build_risk_lists(scores, config=cfg, teams=sorted(TEAMS)) if tl.team_id == "TEAMALPHA")
    assert set(alone.rows.change) == set(with_all.rows.change) == {"new since last scoring"}
    first = make_scores(previous=False)   # a first scoring: nothing to compare with
    assert set(build_risk_lists(first, config=cfg, teams=["TEAMALPHA"])[0].rows.change) == {"no previous scoring"}


def test_team_manager_is_not_in_their_own_teams_list_nor_its_figures():
    scores = with_managers_in_team(make_scores())
    lists = {tl.team_id: tl for tl in build_risk_lists(scores, config=BandConfig(show_probability=True), teams=sorted(TEAMS))}
    for team, tl in lists.items():
        members = scores[scores.team_id == team]
        staff = members[members.worker_id != MANAGERS[team]]
        assert MANAGERS[team] not in set(tl.rows.worker_id)
        assert list(tl.rows.worker_id) == list(staff.sort_values("risk", ascending=False).worker_id)
        assert list(tl.rows["rank"]) == list(range(1, len(staff) + 1))
    alpha = lists["TEAMALPHA"]
    assert alpha.summary["people"] == 8 and alpha.summary["manager"] == "excluded"
    staff = scores[(scores.team_id == "TEAMALPHA") & (scores.worker_id != "MGRX101")]
    assert alpha.summary["expected_leavers"] == round(staff.risk.sum(), 1)  # the manager's risk is not counted
    assert "target turnover 10% a year = 0.8 leavers in 12 months" in summary_text(alpha.summary, 12)  # 8 listed
    assert "team manager is not listed or counted" in summary_text(alpha.summary)
    assert lists["TEAMBRAVO"].summary["manager"] == "not in team" and len(lists["TEAMBRAVO"].rows) == 7
    # DELTA: 3 people, 2 once its manager is off the list; still no figures for a group under 5
    assert lists["TEAMDELTA"].summary["people"] is None and len(lists["TEAMDELTA"].rows) == 2


def test_mean_caseload_counts_case_holding_staff_only():
    scores = make_scores()
    alpha = scores.team_id == "TEAMALPHA"
    # a new starter with no cases yet and a manager of another team sitting in ALPHA: neither holds cases
    scores.loc[scores.index[alpha][:2], "caseload_current"] = 0.0
    tl = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]
    holders = scores.loc[alpha & (scores.caseload_current > 0), "caseload_current"]
    assert tl.summary["mean_caseload"] == round(holders.mean(), 1) and tl.summary["caseload_holders"] == 7
    text = summary_text(tl.summary)
    assert (f"mean caseload per person of case-holding staff (7 with open cases) {round(holders.mean(), 1)} "
            "(the cap of 20 is per full-time post; this scoring records no FTE to compare it with)") in text
    # with FTE in the scores: total cases / total FTE of the case-holders, against the full-time cap
    scores["fte"] = np.where(np.arange(len(scores)) % 2, 0.5, 1.0)
    tl = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]
    fte = scores.loc[holders.index, "fte"]
    assert tl.summary["mean_caseload_per_fte"] == round(holders.sum() / fte.sum(), 1) and "mean_caseload" not in tl.summary
    assert (f"caseload per full-time post of case-holding staff (7 with open cases) {round(holders.sum() / fte.sum(), 1)} "
            "against a cap of 20 per full-time post") in summary_text(tl.summary)
    # fewer than 5 case-holders: no mean (no aggregate of a group under 5), and the summary says why
    scores.loc[scores.index[alpha][:5], "caseload_current"] = 0.0
    tl = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]
    assert "mean_caseload" not in tl.summary and "mean_caseload_per_fte" not in tl.summary
    assert "no mean caseload: fewer than 5 staff with open cases" in summary_text(tl.summary)


def test_team_with_no_manager_recorded_keeps_everyone():
    scores = make_scores()
    scores["manager_id"] = scores["manager_id"].where(scores.team_id != "TEAMCHARLIE", None)
    tl = build_risk_lists(scores, config=BandConfig(), teams=["TEAMCHARLIE"])[0]
    assert len(tl.rows) == 6 and tl.summary["manager"] == "none recorded"
    assert "No manager is recorded" in summary_text(tl.summary)


def test_manager_rule_heads_every_format_and_manager_row_is_absent(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_managers_in_team(make_scores())
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "m", manager="MGRX101")
    texts = _file_texts(tmp_path / "m")
    assert len(texts) == 3
    for name, text in texts.items():
        assert MANAGER_LINE in unescape(text), name
        assert "MGRX101" not in text.replace("risk_list_manager_MGRX101", ""), name  # only in the file name
    csv = _read_list_csv(tmp_path / "m" / "risk_list_manager_MGRX101.csv")
    assert len(csv) == 9 - 1 + 7


def test_expected_leavers_name_the_horizon_in_months(tmp_path):
    from retention_ml.commands.rank import rank_scores

    alpha = build_risk_lists(make_scores(), config=BandConfig(), teams=["TEAMALPHA"])[0]
    assert "Expected leavers in the next 12 months:" in summary_text(alpha.summary, 12)
    assert "not recorded" in summary_text(alpha.summary)  # a scoring without horizon_months does not guess
    d = write_scores(tmp_path, make_scores(), horizon_months=6)
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"])
    for name, text in _file_texts(tmp_path / "l").items():
        assert "Expected leavers in the next 6 months:" in text and "in the horizon" not in text, name


def test_target_turnover_is_shown_for_the_lists_horizon_not_a_year(tmp_path):
    """The annual target beside 6-month expected leavers is converted to 6 months; no horizon, no target."""
    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import target_leavers

    scores = make_scores().assign(target_turnover=0.12)
    alpha = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]  # 9 people
    six = 9 * (1 - 0.88 ** 0.5)  # 0.557: the chance of leaving within 6 months at 12% a year, times 9
    assert target_leavers(0.12, 9, 6) == pytest.approx(six) and target_leavers(0.12, 9, 12) == pytest.approx(0.12 * 9)
    assert "target turnover 12% a year = 0.6 leavers in 6 months" in summary_text(alpha.summary, 6)
    assert "target turnover 12% a year = 1.1 leavers in 12 months" in summary_text(alpha.summary, 12)
    assert "target" not in summary_text(alpha.summary)  # horizon not recorded: no target to compare with
    d = write_scores(tmp_path, scores, horizon_months=6)
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"])
    for name, text in _file_texts(tmp_path / "l").items():
        assert "target turnover 12% a year = 0.6 leavers in 6 months" in text and "= 1.1 leavers" not in text, name


def test_caseload_with_fte_is_per_full_time_post_like_the_cap():
    """Scores with ``fte`` (as score writes them): total cases / total FTE of case-holders, said per full-time post."""
    scores = make_scores().loc[lambda f: f.team_id == "TEAMALPHA"].reset_index(drop=True)
    scores["caseload_current"] = [0.0, 10, 10, 10, 10, 10, 20, 20, 20]   # the first holds no cases (a new starter)
    scores["fte"] = [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    tl = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]
    # 110 cases over 5.5 FTE = 20 per full-time post (a per-person mean would say 13.75, under the cap of 20)
    assert tl.summary["mean_caseload_per_fte"] == 20.0 and tl.summary["caseload_holders"] == 8
    text = summary_text(tl.summary, 12)
    assert "caseload per full-time post of case-holding staff (8 with open cases) 20.0 against a cap of 20 per full-time post" in text
    assert "13.8" not in text and "per FTE" not in text


def test_unapproved_list_lines_read_together():
    lines = banner_lines(list_metadata({"approval": NOT_APPROVED}, config=BandConfig(), teams=["T"]))
    assert lines[0][1].startswith("NOT APPROVED") and lines[1][1] == PURPOSE_LINE
    # the alert says the purpose line that follows describes an approved list, so the two do not contradict
    assert "not for conversations with staff; the lines below describe how an approved list is used." in lines[0][1]


def test_a_list_of_a_team_with_no_manager_says_it_is_for_the_head_of_service(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_managers_in_team(make_scores())
    scores.loc[scores.team_id == "TEAMBRAVO", "manager_id"] = None
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "l", team=["TEAMBRAVO"])
    rank_scores(d, tmp_path / "m", team=["TEAMALPHA"])
    line = "No manager is recorded for team TEAMBRAVO: this list is for the head of service"
    for name, text in _file_texts(tmp_path / "l").items():
        assert line in unescape(text), name
    for name, text in _file_texts(tmp_path / "m").items():  # a managed team's list says nothing of the kind
        assert "for the head of service" not in text.replace(MANAGER_LINE, ""), name
    # a set mixing both names the unmanaged team only
    tls = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA", "TEAMBRAVO"])
    notes = [t for _, t in banner_lines({}, tls)]
    assert notes[-1].startswith("No manager is recorded for team TEAMBRAVO: their part of this list is for the head of service")


def test_change_with_probabilities_drops_zero_points():
    scores = make_scores().loc[lambda f: f.team_id == "TEAMBRAVO"].reset_index(drop=True)
    scores["risk"] = [0.05, 0.06, 0.07, 0.20, 0.22, 0.40, 0.45]
    scores["risk_previous"] = [0.05, 0.064, 0.02, 0.20, 0.10, 0.40, 0.446]  # 0, -0.4, +5, 0, +12 (band up), 0, +0.4
    rows = build_risk_lists(scores, config=BandConfig(show_probability=True), teams=["TEAMBRAVO"])[0].rows
    change = dict(zip(rows.risk, rows.change))
    assert change[0.05] == change[0.06] == change[0.2] == change[0.4] == change[0.45] == "same band"
    assert change[0.07] == "same band (+5 points)" and change[0.22] == "up from low (+12 points)"


def test_show_probability_and_names_are_opt_in():
    scores = make_scores()
    lists = build_risk_lists(scores, config=BandConfig(show_probability=True), teams=["TEAMBRAVO"], names=True)
    rows = lists[0].rows
    assert {"risk", "risk_low", "risk_high", "display_name"} <= set(rows.columns)
    assert rows.uncertain.tolist() == list(straddles_band(rows.risk_low, rows.risk_high, config=BandConfig()))


def _read_list_csv(path):
    """The rows of a list CSV below its '#' header lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return pd.read_csv(path, skiprows=sum(1 for line in lines if line.startswith("#")))


def _file_texts(folder):
    """Every output as text: csv/html directly; xlsx as its unzipped XML parts; plus the file names."""
    out = {}
    for f in folder.rglob("*"):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                out[f.name] = f.name + "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif f.is_file():
            out[f.name] = f.name + f.read_text(encoding="utf-8")
    return out


def _assert_scoped(texts, scores, allowed_teams):
    others = scores[~scores.team_id.isin(allowed_teams)]
    forbidden = set(others.team_id) | set(others.worker_id) | set(others.display_name)
    forbidden |= set(others.manager_id) - set(scores.loc[scores.team_id.isin(allowed_teams), "manager_id"])
    for name, text in texts.items():
        leaked = sorted(x for x in forbidden if x in text)
        assert not leaked, f"{name} leaks {leaked[:5]}"
        assert "council" not in text.lower() or "n_workers" not in text  # no council-wide counts copied in


def test_rank_all_writes_one_scoped_file_set_per_team(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = make_scores()
    d = write_scores(tmp_path, scores)
    files = rank_scores(d, tmp_path / "lists", all_teams=True, names=True)
    assert len(files) == 3 * len(TEAMS)
    for team in TEAMS:
        folder = tmp_path / "lists"
        texts = {k: v for k, v in _file_texts(folder).items() if f"_{team}." in k}
        assert len(texts) == 3
        _assert_scoped(texts, scores, [team])
        # the team's own people are there, and the purpose line heads every format
        own = scores[scores.team_id == team]
        for text in texts.values():
            assert all(w in text for w in own.worker_id)
            assert PURPOSE_LINE[:60] in text


def test_rank_manager_scope_cli(tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    scores = make_scores()
    d = write_scores(tmp_path, scores)
    out = tmp_path / "mgr"
    res = CliRunner().invoke(app, ["rank", "--scores", str(d), "--manager", "MGRX101", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    files = json.loads(res.output)["files"]
    assert len(files) == 3
    _assert_scoped(_file_texts(out), scores, ["TEAMALPHA", "TEAMBRAVO"])
    csv = _read_list_csv(out / "risk_list_manager_MGRX101.csv")
    assert set(csv.team_id) == {"TEAMALPHA", "TEAMBRAVO"} and "risk" not in csv
    res = CliRunner().invoke(app, ["rank", "--scores", str(d), "--manager", "NOBODY", "--out", str(out)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)   # a crash would also give 1
    assert "NOBODY" in res.output


def test_demo_rank_stage_lists_teams_without_a_manager_for_the_head_of_service(tmp_path):
    from retention_ml.commands.demo import rank_every_manager

    scores = with_service(with_managers_in_team(make_scores()))
    scores["manager_id"] = scores["manager_id"].where(scores.team_id != "TEAMCHARLIE", None)  # MGRX202 left
    d = write_scores(tmp_path, scores)
    said = []
    files, managers, unmanaged, services = rank_every_manager(d, tmp_path / "lists", say=said.append)
    assert managers == ["MGRX101", "MGRX303"] and unmanaged == [("C01", "children_in_care", ["TEAMCHARLIE"])]
    assert services == [("C01", "children_in_care"), ("C01", "safeguarding")]
    stem = "risk_list_service_C01_children_in_care_no_manager_recorded"
    assert sorted(p.name for p in files) == sorted(
        f"{s}.{f}" for s in ("risk_list_manager_MGRX101", "risk_list_manager_MGRX303", stem,
                             "risk_list_service_C01_safeguarding_team_managers",
                             "risk_list_service_C01_children_in_care_team_managers",
                             "service_overview_C01_children_in_care", "service_overview_C01_safeguarding")
        for f in ("csv", "xlsx", "html"))
    assert any("2 team managers listed for their heads of service" in line for line in said)
    # everyone scored is in exactly one list: managers' lists + service lists of managers + the no-manager list
    listed = pd.concat([_read_list_csv(f) for f in files if f.suffix == ".csv" and f.name.startswith("risk_list_")]).worker_id
    assert listed.is_unique and set(listed) == set(scores.worker_id)
    assert any("TEAMCHARLIE" in line and stem in line for line in said)
    texts = {k: v for k, v in _file_texts(tmp_path / "lists").items() if k.startswith(stem)}
    _assert_scoped(texts, scores, ["TEAMCHARLIE"])
    charlie = scores[scores.team_id == "TEAMCHARLIE"]
    for name, text in texts.items():
        assert all(w in text for w in charlie.worker_id), name  # everyone, MGRX202's old row included
        assert "No manager is recorded for this team" in text, name
        assert ("No manager is recorded for team TEAMCHARLIE: this list is for the head of the children in care "
                "service in council C01") in unescape(text), name


def test_demo_never_mixes_services_or_councils_in_a_no_manager_list(tmp_path):
    """Teams with no manager recorded get one list per (council, service), each for that head of service only."""
    from retention_ml.commands.demo import rank_every_manager

    scores = with_service(with_managers_in_team(make_scores()))
    scores.loc[scores.team_id == "TEAMDELTA", "council_id"] = "C02"  # children in care in another council
    gone = scores.team_id.isin(["TEAMBRAVO", "TEAMCHARLIE", "TEAMDELTA"])  # safeguarding C01, children in care C01, C02
    scores["manager_id"] = scores["manager_id"].where(~gone, None)
    d = write_scores(tmp_path, scores)
    files, _, unmanaged, _ = rank_every_manager(d, tmp_path / "lists", say=lambda *_: None)
    assert unmanaged == [("C01", "children_in_care", ["TEAMCHARLIE"]), ("C01", "safeguarding", ["TEAMBRAVO"]),
                         ("C02", "children_in_care", ["TEAMDELTA"])]
    listed = pd.concat([_read_list_csv(f) for f in files if f.suffix == ".csv" and f.name.startswith("risk_list_")]).worker_id
    assert listed.is_unique and set(listed) == set(scores.worker_id)
    texts = _file_texts(tmp_path / "lists")
    for council, service, teams in unmanaged:
        stem = f"risk_list_service_{council}_{service}_no_manager_recorded"
        own = {k: v for k, v in texts.items() if k.startswith(stem + ".")}
        assert len(own) == 3, stem
        _assert_scoped(own, scores, teams)   # no worker or team of another service or council
        head = (f"this list is for the head of the {service.replace('_', ' ')} service in council {council}")
        for name, text in own.items():
            assert head in unescape(text), name
    assert not any(k.startswith("risk_list_no_manager_recorded") for k in texts)


def test_xlsx_has_frozen_header_filters_and_band_colours(tmp_path):
    import openpyxl

    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores())
    rank_scores(d, tmp_path / "x", team=["TEAMALPHA"], formats=["xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "x" / "risk_list_team_TEAMALPHA.xlsx")["TEAMALPHA"]
    header_row = int(ws.freeze_panes[1:]) - 1  # the frozen panes end just below the column headers
    assert ws.auto_filter.ref.startswith(f"A{header_row}")
    assert PURPOSE_LINE in [ws.cell(r, 1).value for r in range(1, header_row)]
    assert len(ws.conditional_formatting) >= 1
    header = [c.value for c in ws[header_row]]
    assert header[:3] == ["Rank", "Worker (pseudonymous id)", "Role"]
    assert {"Months in post", "Reason 1", "Suggested lever 1", "Band uncertain"} <= set(header)
    assert header.index("Suggested lever 1") == header.index("Reason 1") + 1   # each lever beside its reason
    assert header.index("Suggested lever 2") == header.index("Reason 2") + 1
    last = int(ws.auto_filter.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))   # the table's last row
    roles = {ws.cell(r, 3).value for r in range(header_row + 1, last + 1)}
    assert "senior practitioner" in roles and not any("_" in r for r in roles)
    assert {ws.cell(r, header.index("Band uncertain") + 1).value for r in range(header_row + 1, last + 1)} <= {"yes", "no"}
    # every heading line (above the header) and note (under the table) sits in one merged, wrapped cell from
    # column A, about a screen wide (>= 80 characters), and its row is tall enough for the wrapped lines
    merged = {m.min_row: m for m in ws.merged_cells.ranges}
    assert [r for r in sorted(merged) if r < header_row] == list(range(1, header_row))
    assert all(r > last + 1 for r in merged if r > header_row)
    for r, m in merged.items():
        width = sum(ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width for j in range(1, m.max_col + 1))
        text = ws.cell(r, 1).value
        assert m.min_col == 1 and m.max_row == r and width >= 80 and ws.cell(r, 1).alignment.wrap_text
        lines = -(-len(text) // int(width))
        assert (ws.row_dimensions[r].height or 15) >= 14 * lines, (r, text, width)


def test_html_is_self_contained(tmp_path):
    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores())
    rank_scores(d, tmp_path / "h", team=["TEAMCHARLIE"], formats=["html"])
    html = (tmp_path / "h" / "risk_list_team_TEAMCHARLIE.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html and "<link" not in html
    assert '<th scope="col">' in html and "<caption>" in html
    heads = re.findall(r'<th scope="col">([^<]+)</th>', html)
    assert heads[:3] == ["Rank", "Worker (pseudonymous id)", "Role"] and "Suggested lever 1" in heads
    assert "worker_id" not in heads and not any("_" in h for h in heads)
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert "senior practitioner" in cells or "social worker" in cells
    assert not {"senior_practitioner", "social_worker"} & set(cells)


def test_csv_keeps_raw_column_names_and_says_what_they_mean(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = make_scores()
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "c", team=["TEAMALPHA"], formats=["csv"])
    path = tmp_path / "c" / "risk_list_team_TEAMALPHA.csv"
    csv = _read_list_csv(path)
    assert list(csv.columns[:3]) == ["rank", "worker_id", "role"]
    assert set(csv.role) <= set(scores.role)  # codes, as in the scores
    columns_line = next(line for line in path.read_text().splitlines() if line.startswith("# columns:"))
    assert "worker_id = pseudonymous worker id" in columns_line and "uncertain = True when" in columns_line


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not on PATH (make browser installs it): rendered-HTML check needs it")
def test_html_renders_in_headless_chromium(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = make_scores()
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "h", team=["TEAMALPHA"], formats=["html"])
    page = tmp_path / "h" / "risk_list_team_TEAMALPHA.html"
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert dom.returncode == 0, dom.stderr[-2000:]

    body = dom.stdout.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rendered_ids = re.findall(r'<th scope="row">([^<]+)</th>', body)
    bands = re.findall(r'<td class="band-(\w+)">(\w+)</td>', body)
    ranked = scores[scores.team_id == "TEAMALPHA"].sort_values("risk", ascending=False)
    assert rendered_ids == list(ranked.worker_id)
    assert bands and all(cls == text and text in {"low", "medium", "high"} for cls, text in bands)
    assert len(bands) == len(ranked)


def test_same_scores_give_identical_lists(tmp_path):
    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores())
    a = rank_scores(d, tmp_path / "a", team=["TEAMBRAVO"])
    time.sleep(1.1)  # Excel stores its creation time in whole seconds: a clock-based one would differ
    b = rank_scores(d, tmp_path / "b", team=["TEAMBRAVO"])
    assert len(a) == 3
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


# --- team managers, listed for their head of service -------------------------------------------------------------

def _csv_rows(folder):
    """Every CSV list in ``folder`` as {file name: rows} (not the service overviews: they list nobody)."""
    return {f.name: _read_list_csv(f) for f in sorted(folder.glob("risk_list_*.csv"))}


def test_team_managers_are_in_their_service_list_and_nowhere_else(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_service(with_managers_in_team(make_scores()))
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "lists", all_teams=True)
    rows = _csv_rows(tmp_path / "lists")
    where = {m: sorted(name for name, r in rows.items() if m in set(r.worker_id)) for m in MANAGERS.values()}
    assert where == {"MGRX101": ["risk_list_service_C01_safeguarding_team_managers.csv"],
                     "MGRX202": ["risk_list_service_C01_children_in_care_team_managers.csv"],
                     "MGRX303": ["risk_list_service_C01_children_in_care_team_managers.csv"]}
    for m in MANAGERS.values():  # nor in any manager's list
        rank_scores(d, tmp_path / "m", manager=m)
    assert not any(set(MANAGERS.values()) & set(r.worker_id) for r in _csv_rows(tmp_path / "m").values())


def test_a_service_list_holds_only_that_services_team_managers(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_service(with_managers_in_team(make_scores()))
    d = write_scores(tmp_path, scores, horizon_months=12)
    files = rank_scores(d, tmp_path / "s", service="children_in_care", names=True)
    stem = "risk_list_service_C01_children_in_care_team_managers"
    assert sorted(p.name for p in files) == [f"{s}.{f}" for s in (stem, "service_overview_C01_children_in_care")
                                             for f in ("csv", "html", "xlsx")]
    csv = _read_list_csv(tmp_path / "s" / f"{stem}.csv")
    mgr = scores[scores.worker_id.isin(["MGRX202", "MGRX303"])].sort_values("risk", ascending=False)
    assert list(csv.worker_id) == list(mgr.worker_id) and list(csv["rank"]) == [1, 2]  # riskiest first
    assert set(csv.team_id) == {"TEAMCHARLIE", "TEAMDELTA"}  # the team each manages
    assert list(csv.columns) == ["rank", "worker_id", "display_name", "role", "team_id", "months_in_post", "band",
                                 "change", "uncertain", "reason_1", "lever_1", "reason_2", "lever_2", "reason_3", "lever_3"]
    members = scores[~scores.worker_id.isin(["MGRX202", "MGRX303"])]
    forbidden = set(members.worker_id) | set(members.display_name) | {"MGRX101", "TEAMALPHA", "TEAMBRAVO"}
    line = "These are the team managers of the children in care service in council C01, listed for their head of service."
    for name, text in _file_texts(tmp_path / "s").items():
        text = unescape(text)
        assert not sorted(x for x in forbidden if x in text), name  # no team member, no other service
        if name.startswith("service_overview_"):   # team figures only: not even the managers are named
            assert not any(w in text for w in mgr.worker_id) and PURPOSE_LINE in text, name
            continue
        assert line in text and PURPOSE_LINE in text and APPROVAL_UNKNOWN_LINE in text, name
        assert all(w in text for w in mgr.worker_id) and "reason" in text.lower(), name
        assert MANAGER_LINE not in text, name  # the team lists' rule line is replaced, not repeated
    assert "rank = 1 for the highest risk among the service's team managers" in (tmp_path / "s" / f"{stem}.csv").read_text()


def test_fewer_than_five_team_managers_get_no_aggregate():
    base = make_scores()
    for n, shown in ((4, False), (5, True)):
        # n teams of one service, each with its manager sitting in it
        frames = []
        for i in range(n):
            team = base[base.team_id == "TEAMALPHA"].assign(team_id=f"TEAMS{i}", manager_id=f"MGRS{i}")
            team["worker_id"] = [f"MGRS{i}"] + [f"W{i}X{j}" for j in range(1, len(team))]
            frames.append(team)
        scores = pd.concat(frames, ignore_index=True).assign(service="safeguarding")
        tl = build_service_manager_list(scores, config=BandConfig(), service="safeguarding")[0]
        assert list(tl.rows.worker_id) == list(scores[scores.worker_id.str.startswith("MGRS")]
                                               .sort_values("risk", ascending=False).worker_id)
        text = summary_text(tl.summary, 12)
        if shown:
            mgr = scores[scores.worker_id.str.startswith("MGRS")]
            assert tl.summary["people"] == 5 and tl.summary["expected_leavers"] == round(mgr.risk.sum(), 1)
            assert text.startswith("5 team managers listed. Expected leavers in the next 12 months:")
        else:
            assert tl.summary["people"] is None and "expected_leavers" not in tl.summary
            assert text == "No figures: fewer than 5 team managers listed."


def test_rank_all_covers_everyone_scored_exactly_once(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_service(with_managers_in_team(make_scores()))
    scores.loc[scores.team_id == "TEAMBRAVO", "manager_id"] = None  # a team with no manager recorded keeps everyone
    d = write_scores(tmp_path, scores)
    files = rank_scores(d, tmp_path / "lists", all_teams=True)
    assert len(files) == 3 * (len(TEAMS) + 2 + 2)  # every team, the two services' team managers and overviews
    listed = pd.concat(_csv_rows(tmp_path / "lists").values()).worker_id
    assert listed.is_unique and set(listed) == set(scores.worker_id)


def test_rank_all_lists_teams_with_no_manager_for_their_head_of_service_as_the_demo_does(tmp_path):
    """A team with no manager recorded has nobody to send its own list to: rank --all writes its people into the
    service's no-manager list for the head of that service, byte for byte the file the demo writes, and logs it
    as for the head of service (before: a team list logged for "none recorded", which the demo never wrote)."""
    from retention_ml.commands.demo import rank_every_manager
    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.distribution import read_log

    scores = with_service(with_managers_in_team(make_scores()))
    scores.loc[scores.team_id == "TEAMDELTA", "council_id"] = "C02"
    # two teams of one service (children in care, C01 and C02 apart) and one of another lose their manager
    gone = scores.team_id.isin(["TEAMBRAVO", "TEAMCHARLIE", "TEAMDELTA"])
    scores["manager_id"] = scores["manager_id"].where(~gone, None)
    d = write_scores(tmp_path, scores)
    files = rank_scores(d, tmp_path / "all", all_teams=True)
    _, _, unmanaged, _ = rank_every_manager(d, tmp_path / "demo", say=lambda *_: None)
    stems = [f"risk_list_service_{c}_{s}_no_manager_recorded" for c, s, _ in unmanaged]
    assert len(stems) == 3
    for stem in stems:
        for f in ("csv", "xlsx", "html"):
            assert (tmp_path / "all" / f"{stem}.{f}").read_bytes() == (tmp_path / "demo" / f"{stem}.{f}").read_bytes()
    names = {p.name for p in files}
    assert not any(f"risk_list_team_{t}." in n for t in ("TEAMBRAVO", "TEAMCHARLIE", "TEAMDELTA") for n in names)
    listed = pd.concat(_csv_rows(tmp_path / "all").values()).worker_id
    assert listed.is_unique and set(listed) == set(scores.worker_id)   # still everyone, once
    log = read_log(d / "distribution_log.csv")
    mine = log.loc[log["list"].astype(str).str.endswith("_no_manager_recorded")]
    assert len(mine) == 6 and set(mine["recipient"]) == {"head of service"}   # three sets, by --all and the demo
    assert not (log["recipient"] == "none recorded").any()


def test_rank_all_needs_the_services_of_teams_with_no_manager(tmp_path):
    """Without services the head of service a manager-less team's list is for is unknown: stop, name the fix."""
    from retention_ml.commands.rank import ScoringFolderError, rank_scores

    scores = make_scores()
    scores["manager_id"] = scores["manager_id"].where(scores.team_id != "TEAMBRAVO", None)
    d = write_scores(tmp_path, scores)
    with pytest.raises(ScoringFolderError, match="--data DIR"):
        rank_scores(d, tmp_path / "lists", all_teams=True)
    assert not (tmp_path / "lists").exists() or not any((tmp_path / "lists").glob("risk_list_*"))


def test_service_comes_from_the_teams_table_when_the_scores_carry_none(tmp_path):
    from retention_ml.commands.rank import rank_scores

    scores = with_managers_in_team(make_scores())
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"team_id": list(TEAMS), "council_id": "C01", "area": "North", "manager_id": [MANAGERS[t] for t in TEAMS],
                  "service": [SERVICES[t] for t in TEAMS], "caseload_cap": 20, "target_turnover": 0.1}
                 ).to_csv(data / "teams.csv", index=False)
    d = write_scores(tmp_path, scores, data_dir=str(data))
    files = rank_scores(d, tmp_path / "lists", service="safeguarding")
    assert [p.name for p in files][0] == "risk_list_service_C01_safeguarding_team_managers.csv"
    assert list(_read_list_csv(files[0]).worker_id) == ["MGRX101"]


def test_same_scores_give_identical_service_lists(tmp_path):
    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, with_service(with_managers_in_team(make_scores())))
    a = rank_scores(d, tmp_path / "a", all_teams=True)
    time.sleep(1.1)  # Excel stores its creation time in whole seconds: a clock-based one would differ
    b = rank_scores(d, tmp_path / "b", all_teams=True)
    assert sum("_team_managers." in p.name for p in a) == 6
    assert [p.name for p in a] == [p.name for p in b]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


# -- recorded leaving dates and band cut-offs per horizon ----------------------

def test_people_with_a_recorded_leaving_date_are_in_no_list_and_in_no_team_figure(tmp_path):
    """Scores keep them (flagged); every list leaves them out and says so without naming or counting them."""
    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import LEAVING_FLAG, LEAVING_LINE
    from retention_ml.reports.service_overview import SCOPE_LINE

    scores = with_managers_in_team(make_scores()).assign(service="safeguarding")
    scores[LEAVING_FLAG] = False
    alpha = scores.index[(scores.team_id == "TEAMALPHA") & (scores.worker_id != "MGRX101")]
    leaving = scores.loc[alpha[:2], "worker_id"].tolist()
    # the riskiest person of the team is one of them: the list must not offer them to the manager
    scores.loc[alpha[0], "risk"] = 0.95
    scores.loc[alpha[:2], LEAVING_FLAG] = True
    scores.loc[scores.worker_id == "MGRX202", LEAVING_FLAG] = True   # a leaving team manager: not in the managers' list
    before = build_risk_lists(scores.assign(**{LEAVING_FLAG: False}), config=BandConfig(), teams=["TEAMALPHA"])[0]
    after = build_risk_lists(scores, config=BandConfig(), teams=["TEAMALPHA"])[0]
    assert not set(leaving) & set(after.rows.worker_id) and len(after.rows) == len(before.rows) - 2
    assert after.summary["people"] == before.summary["people"] - 2
    kept = scores.loc[scores.worker_id.isin(after.rows.worker_id), "risk"]
    assert after.summary["expected_leavers"] == round(kept.sum(), 1)
    assert after.summary["manager"] == before.summary["manager"] == "excluded"   # the manager rule is unchanged
    d = write_scores(tmp_path, scores)
    rank_scores(d, tmp_path / "all", all_teams=True)
    texts = _file_texts(tmp_path / "all")
    assert texts
    for name, text in texts.items():
        assert not any(w in text for w in leaving + ["MGRX202"]), name
        # a service overview names nobody; it says whom its team figures leave out
        assert (SCOPE_LINE if name.startswith("service_overview_") else LEAVING_LINE) in unescape(text), name


def test_band_cutoffs_follow_the_scorings_horizon(tmp_path):
    """Annual cut-offs turned into a 6-month model's: 1 - (1 - c) ** (6 / 12); a 12-month scoring keeps them."""
    from retention_ml.commands.rank import rank_scores

    cfg = load_band_config()
    six = cfg.for_horizon(6)
    assert six.medium == pytest.approx(1 - (1 - cfg.medium) ** 0.5) and six.high == pytest.approx(1 - (1 - cfg.high) ** 0.5)
    assert cfg.for_horizon(12) == cfg and cfg.for_horizon(None) == cfg and six.for_horizon(6) == six
    scores = make_scores(previous=False).loc[lambda f: f.team_id == "TEAMALPHA"].reset_index(drop=True)
    risks = [0.05, 0.10, 0.12, 0.15, 0.20, 0.25, 0.31, 0.02, 0.09]   # 6-month-sized risks
    scores["risk"], scores["risk_low"], scores["risk_high"] = risks, risks, risks
    for months, medium, high in ((6, 0.0780, 0.1633), (12, 0.15, 0.30)):
        d = tmp_path / f"h{months}"
        d.mkdir()
        write_scores(d, scores, horizon_months=months)
        rank_scores(d / "scores", d / "lists", team=["TEAMALPHA"], formats=["csv", "html", "xlsx"])
        csv = (d / "lists" / "risk_list_team_TEAMALPHA.csv").read_text(encoding="utf-8")
        settings = json.loads(next(l for l in csv.splitlines() if l.startswith("# list settings: "))[len("# list settings: "):])
        assert settings["band_cutoffs"]["horizon_months"] == months
        assert settings["band_cutoffs"]["medium"] == pytest.approx(medium, abs=1e-4)
        assert settings["band_cutoffs"]["high"] == pytest.approx(high, abs=1e-4)
        rows = pd.read_csv(d / "lists" / "risk_list_team_TEAMALPHA.csv", comment="#")
        got = dict(zip(rows.worker_id, rows.band))
        want = assign_bands(risks, config=BandConfig(medium=medium, high=high))
        assert [got[w] for w in scores.worker_id] == list(want)
        html = unescape((d / "lists" / "risk_list_team_TEAMALPHA.html").read_text(encoding="utf-8"))
        assert f"probability of leaving within {months} months" in html
        assert ("the bands file's 12-month cut-offs 15% and 30% scaled to the model's 6-month horizon" in html) == (months == 6)
        # percentages with the edges assign_bands draws: 0.15 is medium, so low is "under" it
        ranges = ("low under 7.8%, medium 7.8% to under 16.3%, high 16.3% or more" if months == 6
                  else "low under 15%, medium 15% to under 30%, high 30% or more")
        assert ranges in html
    # at 6 months the same risks are not all low (the reviewer's case: everyone "low" under annual cut-offs)
    assert set(assign_bands(risks, config=load_band_config().for_horizon(6))) == {"low", "medium", "high"}


def test_all_teams_built_in_one_pass_equal_each_team_built_alone(tmp_path):
    """`rank --all` builds every team's list in one pass: each file equals that team's own `--team` set."""
    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import LEAVING_FLAG

    scores = with_service(with_managers_in_team(make_scores()))
    scores[LEAVING_FLAG] = scores.index % 5 == 1
    scores.loc[scores.team_id == "TEAMBRAVO", "manager_id"] = None
    d = write_scores(tmp_path, scores, horizon_months=6)
    rank_scores(d, tmp_path / "all", all_teams=True)
    for team in set(TEAMS) - {"TEAMBRAVO"}:
        rank_scores(d, tmp_path / team, team=[team])
        for f in (tmp_path / team).iterdir():
            assert f.read_bytes() == (tmp_path / "all" / f.name).read_bytes(), f.name
    # the team with no manager recorded is in its service's list for the head of service, built alone here
    from retention_ml.commands.rank import no_manager_stem, read_scoring, write_lists

    stem = no_manager_stem("C01", "safeguarding")
    alone = write_lists(*read_scoring(d), out_dir=tmp_path / "alone", teams=["TEAMBRAVO"], stem=stem,
                        formats=["csv", "xlsx", "html"], config=BandConfig(), names=False, head_of=("C01", "safeguarding"))
    assert len(alone) == 3
    for f in alone:
        assert f.read_bytes() == (tmp_path / "all" / f.name).read_bytes(), f.name


def test_every_list_says_which_scoring_the_change_compares_with(tmp_path):
    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores(), previous_as_of="2023-12-01")
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"], formats=["csv", "html"])
    for f in ("csv", "html"):
        text = unescape((tmp_path / "l" / f"risk_list_team_TEAMALPHA.{f}").read_text())
        assert "compares each person's band with the scoring of 2023-12-01" in text, f
    (tmp_path / "first").mkdir()
    first = write_scores(tmp_path / "first", make_scores(previous=False))
    rank_scores(first, tmp_path / "f", team=["TEAMALPHA"], formats=["csv"])
    assert "no earlier scoring of these data was found" in (tmp_path / "f" / "risk_list_team_TEAMALPHA.csv").read_text()


def test_xlsx_freezes_only_what_is_read_before_any_row_and_puts_the_other_notes_under_the_table(tmp_path):
    """Every row above the header stays on screen in Excel: with every heading line there (up to 408 points on
    the demo's lists of a model not approved) the frozen rows filled a laptop's window and no row could be
    scrolled into view."""
    import openpyxl

    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import HEALTH_LINE, LEAVING_LINE, MANAGER_LINE, NOT_APPROVED_LINE

    # as score words it for the demo's model
    detail = ("The scored model (run 365ee3da119c4930ba748d964e88b116) is not the champion of retention-ml-turnover "
              "(no model has passed the promotion gate yet), so it is not the model the promotion gate approved: "
              "treat the lists as a preview and do not share them with managers.")
    d = write_scores(tmp_path, make_scores(), approval={"status": "not approved", "detail": detail},
                     previous_as_of="2023-12-01")
    rank_scores(d, tmp_path / "x", team=["TEAMALPHA"], formats=["xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "x" / "risk_list_team_TEAMALPHA.xlsx")["TEAMALPHA"]
    header_row = int(ws.freeze_panes[1:]) - 1
    frozen = [str(ws.cell(r, 1).value) for r in range(1, header_row)]
    assert frozen[0].startswith(NOT_APPROVED_LINE) and frozen[1] == PURPOSE_LINE and HEALTH_LINE in frozen
    assert "people listed" in frozen[-2] and "under the table" in frozen[-1]   # the team's summary, then where the notes are
    assert not {MANAGER_LINE, LEAVING_LINE} & set(frozen)
    below = [str(ws.cell(r, 1).value) for r in range(header_row + 1, ws.max_row + 1)]
    assert {MANAGER_LINE, LEAVING_LINE} <= set(below)
    assert any(t.startswith("Change since last scoring") for t in below) and any(t.startswith("Shows probability") for t in below)
    assert sum(ws.row_dimensions[r].height or 15 for r in range(1, header_row + 1)) < 300   # points; the demo's lists: 408 before, 259 after


def test_every_format_says_what_band_uncertain_means_for_the_reader(tmp_path):
    """A manager reads "Band uncertain: yes", not "per-person 80% interval crosses a band cut-off": every format
    says the band could as well be the next one and is to be read as approximate, with the rule beside it."""
    import openpyxl

    from retention_ml.commands.rank import rank_scores

    d = write_scores(tmp_path, make_scores())
    rank_scores(d, tmp_path / "u", team=["TEAMALPHA"], formats=["csv", "xlsx", "html"])
    stem = tmp_path / "u" / "risk_list_team_TEAMALPHA"
    book = openpyxl.load_workbook(stem.with_suffix(".xlsx")).worksheets[0]
    texts = {"csv": stem.with_suffix(".csv").read_text(), "html": unescape(stem.with_suffix(".html").read_text()),
             "xlsx": " ".join(str(v) for row in book.iter_rows(values_only=True) for v in row if v is not None)}
    for fmt, text in texts.items():
        assert "could as well be the next one up or down" in text, fmt
        assert "interval crosses a band cut-off" in text, fmt   # the rule, for whoever checks it
    assert "read their band as approximate" in texts["html"] and "read their band as approximate" in texts["xlsx"]


def test_every_list_format_says_what_a_band_asks_of_the_manager(tmp_path):
    """What the risk is a chance of, over what horizon, that medium and high suggest a conversation with the
    levers and that a band is never a performance or disciplinary matter: one text, in CSV, HTML and Excel
    (a note under the table and a comment on the band's header, since notes under a long table go unread)."""
    import openpyxl

    from retention_ml.commands.rank import rank_scores
    from retention_ml.reports.risk_list import band_meaning_text

    d = write_scores(tmp_path, make_scores(), horizon_months=6)
    rank_scores(d, tmp_path / "l", team=["TEAMALPHA"])
    csv = (tmp_path / "l" / "risk_list_team_TEAMALPHA.csv").read_text(encoding="utf-8")
    settings = json.loads(next(l for l in csv.splitlines() if l.startswith("# list settings: "))[len("# list settings: "):])
    text = band_meaning_text(settings)
    for words in ("leaves of their own choice in the next 6 months", "high: 16.3% or more", "medium: 7.8% to under 16.3%",
                  "low: under 7.8%", "supportive conversation", "suggested levers",
                  "never a performance, capability or disciplinary matter", "decides nothing about the person"):
        assert words in text, words
    assert f"# {text}" in csv.splitlines()
    html = unescape((tmp_path / "l" / "risk_list_team_TEAMALPHA.html").read_text(encoding="utf-8"))
    assert f'<p class="note" role="note">{text}</p>' in html
    ws = openpyxl.load_workbook(tmp_path / "l" / "risk_list_team_TEAMALPHA.xlsx")["TEAMALPHA"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert text in cells
    header = cells["Risk band"]
    assert header.comment is not None and header.comment.text == text


def test_demo_rank_stage_builds_every_list_in_one_pass_and_writes_what_rank_manager_writes(tmp_path, monkeypatch):
    """The demo's rank stage is ``rank --all``'s one pass (lists built once for every team, one staging), set out
    per manager: each manager's files byte for byte what ``rank --manager`` writes on its own (the old per-manager
    path), the service and no-manager lists and the overviews byte for byte ``rank --all``'s. Before, the demo
    called rank_scores once per manager: the scoring read and the lists built 45 times on the demo."""
    import retention_ml.reports.risk_list as risk_list
    from retention_ml.commands.demo import rank_every_manager
    from retention_ml.commands.rank import rank_scores

    scores = with_service(with_managers_in_team(make_scores()))
    scores["manager_id"] = scores["manager_id"].where(scores.team_id != "TEAMCHARLIE", None)   # one team unmanaged
    d = write_scores(tmp_path, scores)
    builds = []
    real = risk_list.build_risk_lists
    monkeypatch.setattr(risk_list, "build_risk_lists", lambda *a, **k: builds.append(k["teams"]) or real(*a, **k))
    files, managers, _, _ = rank_every_manager(d, tmp_path / "demo", say=lambda *_: None)
    assert builds == [sorted(TEAMS)]   # one pass over every team, the overviews' figures included
    monkeypatch.setattr(risk_list, "build_risk_lists", real)
    assert managers == ["MGRX101", "MGRX303"]
    for m in managers:
        rank_scores(d, tmp_path / "one", manager=m)
    rank_scores(d, tmp_path / "all", all_teams=True)
    demo = {p.name: p.read_bytes() for p in files}
    alone = {p.name: p.read_bytes() for p in (tmp_path / "one").iterdir()}
    assert set(alone) == {f"risk_list_manager_{m}.{f}" for m in managers for f in ("csv", "xlsx", "html")}
    assert all(demo[n] == b for n, b in alone.items())
    rest = {p.name: p.read_bytes() for p in (tmp_path / "all").iterdir() if not p.name.startswith("risk_list_team_")}
    assert set(demo) == set(alone) | set(rest) and all(demo[n] == b for n, b in rest.items())


def test_rank_given_the_folder_of_all_scorings_names_the_scorings_in_it(tmp_path):
    # The README scores into scores/2025-07; `rank --scores scores` said only "scores/scores.parquet not found
    # (run retention-ml score first)", though the scoring was one folder down.
    from retention_ml.commands.rank import ScoringFolderError, read_scoring

    for month in ("2024-01", "2024-04"):
        (tmp_path / "scores" / month).mkdir(parents=True)
        pd.DataFrame({"worker_id": ["W1"]}).to_parquet(tmp_path / "scores" / month / "scores.parquet")
    with pytest.raises(ScoringFolderError) as refused:
        read_scoring(tmp_path / "scores")
    assert (f"is a folder of scorings ({tmp_path}/scores/2024-01, {tmp_path}/scores/2024-04): give one of them as "
            f"--scores, e.g. --scores {tmp_path}/scores/2024-04") in str(refused.value)
    with pytest.raises(ScoringFolderError) as empty:
        read_scoring(tmp_path / "nothing")
    assert "folder of scorings" not in str(empty.value)


def test_the_target_line_says_what_the_target_and_the_expected_leavers_each_count():
    """"Expected leavers ...: 1.4; target turnover 10% a year = 1.1 leavers" read as like for like, while the
    expected leavers count everyone listed (agency workers too) leaving of their own choice and a turnover target
    the council's own staff leaving for any reason (the DfE rate): the line says both, in every list and overview."""
    lists = build_risk_lists(make_scores(), config=load_band_config(), teams=sorted(TEAMS))
    text = summary_text(lists[0].summary, 12)
    assert ("target turnover 10% a year = 0.9 leavers in 12 months if applied to everyone listed (the expected "
            "leavers count everyone listed leaving of their own choice; a turnover target counts the council's own "
            "staff, not agency workers, leaving for any reason, as the DfE does)") in text
    from retention_ml.reports.service_overview import COLUMNS, expected_line

    assert "not like for like" in expected_line({"horizon_months": 12}) and "for any reason" in expected_line({"horizon_months": 12})
    assert "applied to everyone scored" in COLUMNS["target_leavers"][1]



def test_the_target_line_compares_the_target_with_the_own_staff_listed():
    """A turnover target counts the council's own staff (DfE): with employment types in the scores, the line applies
    it to the own staff listed and sets it beside their expected leavers, not everyone's; the all-listed expected
    leavers stay where they were."""
    from retention_ml.reports.risk_list import target_leavers

    scores = make_scores()
    team = scores["team_id"].to_numpy()
    kind = np.where(team == "TEAMALPHA", "permanent", "fixed_term").astype(object)
    alpha = np.flatnonzero(team == "TEAMALPHA")
    kind[alpha[:3]] = "agency"   # ALPHA: 9 listed, 3 of them agency workers; BRAVO: 7 own staff (fixed term)
    scores["employment_type"] = kind
    lists = {tl.team_id: tl for tl in build_risk_lists(scores, config=load_band_config(), teams=sorted(TEAMS))}

    bravo_text = summary_text(lists["TEAMBRAVO"].summary, 12)
    own = scores[scores["team_id"] == "TEAMBRAVO"]
    allowed = round(target_leavers(0.10, len(own), 12), 1)
    expected = round(float(own["risk"].sum()), 1)
    assert (f"target turnover 10% a year = {allowed} leavers in 12 months among the 7 own staff listed (not agency "
            f"workers), against {expected} expected to leave among them (the target counts leaving for any reason, "
            "the expected leavers leaving by choice)") in bravo_text
    assert bravo_text.startswith(f"7 people listed. Expected leavers in the next 12 months: {expected} ")
    assert "applied to everyone listed" not in bravo_text

    # 6 own staff and 3 agency workers: the own staff's figures taken from the list's would be the 3 agency workers'
    alpha_text = summary_text(lists["TEAMALPHA"].summary, 12)
    assert "own staff listed" not in alpha_text and "expected to leave among them" not in alpha_text
    assert ("= 0.9 leavers in 12 months if applied to everyone listed, agency workers too (fewer than 5 own staff "
            "or agency workers to count apart; the target counts own staff leaving for any reason, the expected "
            "leavers everyone leaving by choice)") in alpha_text


@pytest.mark.parametrize("n_agency, apart", [(0, True), (4, False), (5, True), (11, True), (12, False), (16, False)])
def test_own_staff_are_counted_apart_only_with_5_or_more_of_them_and_none_or_5_agency_workers(n_agency, apart):
    """A team of 16 listed (ALPHA and BRAVO as one): own staff are counted apart with 5 or more of them and no
    agency worker or 5 or more (the 5-person floor, MIN_PEOPLE, for the group the list's figures minus theirs give)."""
    scores = make_scores().assign(team_id="TEAMALPHA").iloc[:16]
    kind = np.array(["permanent"] * 16, dtype=object)
    kind[:n_agency] = "agency"
    summary = build_risk_lists(scores.assign(employment_type=kind), config=load_band_config(), teams=["TEAMALPHA"])[0].summary
    text = summary_text(summary, 12)
    assert ("own staff listed" in text) is apart, text
    assert ("own_expected_leavers" in summary) is apart
    if apart:
        assert f"among the {16 - n_agency} own staff listed" in text


def test_no_list_shows_a_band_change_across_a_change_of_model(tmp_path):
    """The first scoring by a newly promoted model compared with the last one by the old model: a person's "up
    from medium" then mixes any change in their situation with the change of model (on three simulated councils,
    6 months into a year of monthly scorings, a mid-year retrain moved 13.4% of the people listed between bands
    against 2.6-9.3% a month with one model), which the manager cannot tell apart. Every list says why no change is
    shown; with the same model the change is shown as before."""
    from retention_ml.commands.rank import rank_scores

    scores = make_scores().assign(run_id="run-new")
    for name, previous_run in (("same", "run-new"), ("changed", "run-old")):
        (tmp_path / name).mkdir()
        d = write_scores(tmp_path / name, scores, run_id="run-new", previous_as_of="2023-12-01",
                         previous_run_id=previous_run)
        rank_scores(d, tmp_path / name / "lists", all_teams=True, formats=["csv", "html"])
    for f in ("csv", "html"):
        same = unescape((tmp_path / "same" / "lists" / f"risk_list_team_TEAMALPHA.{f}").read_text())
        assert "compares each person's band with the scoring of 2023-12-01" in same and "up from" in same, f
        for path in (tmp_path / "changed" / "lists").glob(f"risk_list_*.{f}"):
            text = unescape(path.read_text())
            assert "up from" not in text and "down from" not in text and "same band" not in text, path.name
            assert "scoring of 2023-12-01 was made with an earlier model" in text, path.name
    rows = pd.read_csv(tmp_path / "changed" / "lists" / "risk_list_team_TEAMALPHA.csv", comment="#")
    assert set(rows["change"]) == {"not compared: new model"}
