"""Every service overview in one pass (``build_service_overviews``) equals the overview computed a service at a
time, as ``rank`` did before, cell for cell: withheld teams, complementary suppression, the most common driver,
totals and targets.

The reference below is the per-service computation as it stood (kept here only as the oracle: the package has
one computation).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.commands.rank import overview_plan
from retention_ml.reports.risk_list import BandConfig, _group_summary, build_risk_lists, scale_to_horizon, target_leavers
from retention_ml.reports.service_overview import (COLUMNS, COUNT_COLUMNS, CASELOAD_TOTAL_WITHHELD, TARGET_TOTAL_WITHHELD,
                                                   TOTAL_LABEL,
                                                   _driver_labels, _withhold_small_cells,
                                                   build_service_overview, build_service_overviews, display_table,
                                                   lead_drivers)

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)



# -- the per-service reference -------------------------------------------------------------------------------------
def _ref_people(lists, scores):
    rows = pd.concat([tl.rows[["team_id", "worker_id", "band"]] for tl in lists], ignore_index=True)
    rows = rows.astype({"team_id": str, "worker_id": str})
    target = scores["target_turnover"] if "target_turnover" in scores else pd.Series(np.nan, index=scores.index)
    keys = pd.DataFrame({"team_id": scores["team_id"].astype(str).to_numpy(),
                         "worker_id": scores["worker_id"].astype(str).to_numpy(),
                         "risk": scores["risk"].astype(float).to_numpy(), "target": target.astype(float).to_numpy(),
                         "lead": lead_drivers(scores).to_numpy()})
    for name in ("caseload_current", "fte"):
        if name in scores:
            keys[name] = scores[name].astype(float).to_numpy()
    return rows.merge(keys.drop_duplicates(["team_id", "worker_id"]), on=["team_id", "worker_id"], how="left",
                      validate="one_to_one")


def _ref_main_driver(people, floor):
    flagged = people.loc[people["band"].isin(("medium", "high"))]
    if len(flagged) < floor:
        return {}
    counts = flagged["lead"].dropna().value_counts()
    if counts.empty:
        return {}
    order = {code: i for i, code in enumerate(_driver_labels())}
    best = sorted(counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))[0]
    return {"main_driver": _driver_labels().get(best[0], best[0]), "main_driver_people": int(best[1])}


def _ref_figures(summary, people, horizon_months, floor):
    row = {k: summary[k] for k in ("people", "expected_leavers", "expected_low", "expected_high")}
    row["expected_share"] = round(summary["expected_leavers"] / summary["people"], 3)
    if "target_turnover" in summary and horizon_months is not None:
        row["target_turnover"] = summary["target_turnover"]
        row["target_share"] = round(scale_to_horizon(summary["target_turnover"], int(horizon_months)), 3)
        row["target_leavers"] = round(target_leavers(summary["target_turnover"], summary["people"], int(horizon_months)), 1)
        row["against_target"] = round(summary["expected_leavers"] - row["target_leavers"], 1)
    band = people["band"].value_counts()
    row.update(medium=int(band.get("medium", 0)), high=int(band.get("high", 0)), **_ref_main_driver(people, floor))
    row.update({k: summary[k] for k in ("mean_caseload_per_fte", "mean_caseload", "caseload_cap") if k in summary})
    if "mean_caseload_per_fte" in row:
        row["caseload_per_fte"] = row.pop("mean_caseload_per_fte")
    return row


def _ref_shown(people, lists, floor):
    from retention_ml.disclosure import complementary_suppression

    size = people.groupby("team_id")["worker_id"].nunique()
    shown = pd.Series({tl.team_id: tl.summary.get("people") is not None for tl in lists}).reindex(size.index)
    shown = shown.fillna(False).astype(bool)
    hidden = int(size[~shown].sum())
    if hidden == 0 or hidden >= floor:
        return shown
    return complementary_suppression(people.assign(service=""), shown, ["service"], floor)


def _ref_drivers(people, shown, floor):
    """Teams whose driver shows: shown, with the floor of medium- and high-band people, and the rest of those
    people none or the floor (the total's driver less the teams' cannot give away fewer)."""
    from retention_ml.disclosure import complementary_suppression

    flagged = people.loc[people["band"].isin(("medium", "high"))]
    size = flagged.groupby("team_id")["worker_id"].nunique()
    own = pd.Series({t: bool(shown.get(t, False)) and n >= floor for t, n in size.items()}, dtype=bool)
    hidden = int(size[~own.reindex(size.index).to_numpy()].sum()) if len(size) else 0
    if hidden == 0 or hidden >= floor:
        return own
    return complementary_suppression(flagged.assign(service=""), own, ["service"], floor)


def _ref_caseload(people, figured, floor):
    """The total's caseload over the service's staff with open cases, unless the teams showing no caseload
    (``figured``: those that do) hold some but fewer than ``floor`` of them."""
    if "caseload_current" not in people:
        return {}
    holders = people.loc[people["caseload_current"] > 0]
    rest = int((~holders["team_id"].isin(figured)).sum())
    if 0 < rest < floor:
        return {"note": CASELOAD_TOTAL_WITHHELD.format(floor=floor)}
    if len(holders) < floor:
        return {}
    if "fte" in holders and (holders["fte"] > 0).all():
        return {"caseload_per_fte": round(float(holders["caseload_current"].sum() / holders["fte"].sum()), 1)}
    return {"mean_caseload": round(float(holders["caseload_current"].mean()), 1)}


def _ref_total(people, config, horizon_months, shown, figured=()):
    summary = _group_summary(TOTAL_LABEL, people, config, listed="people")
    if summary["people"] is None:
        return {"team_id": TOTAL_LABEL, "note": f"No figures: fewer than {config.min_group} people scored."}
    row = {"team_id": TOTAL_LABEL, **_ref_figures(summary, people, None, config.min_group)}
    caseload = _ref_caseload(people, set(figured), config.min_group)
    # the withheld teams' people at each target: the total's target less the teams' shown would give them
    hidden = people.loc[~people["team_id"].map(shown).fillna(False).astype(bool)].groupby("target").size()
    split = ((hidden > 0) & (hidden < config.min_group)).any()
    if horizon_months is not None and people["target"].notna().all() and split:
        row["note"] = TARGET_TOTAL_WITHHELD.format(floor=config.min_group)
    elif horizon_months is not None and people["target"].notna().all():
        per_team = people.groupby(["team_id", "target"]).size()
        allowed = sum(target_leavers(t, n, int(horizon_months)) for (_, t), n in per_team.items())
        row.update(target_leavers=round(allowed, 1), against_target=round(summary["expected_leavers"] - allowed, 1))
    if "note" in caseload:   # after the target's reason
        row["note"] = f"{row['note']} {caseload['note']}" if "note" in row else caseload["note"]
    row.update({k: v for k, v in caseload.items() if k != "note"})
    return row


def _ref_overview(lists, scores, config, horizon_months) -> pd.DataFrame:
    floor = config.min_group
    people = _ref_people(lists, scores)
    shown = _ref_shown(people, lists, floor)
    by_team = dict(tuple(people.groupby("team_id", sort=False)))
    rows = []
    for tl in sorted(lists, key=lambda t: t.team_id):
        if tl.summary.get("people") is None:
            rows.append({"team_id": tl.team_id, "note": f"No figures: fewer than {floor} people on the team's list."})
        elif not shown.get(tl.team_id, False):
            rows.append({"team_id": tl.team_id, "note": "No figures: withheld so that a smaller team's figures cannot "
                         "be worked out from the service total."})
        else:
            rows.append({"team_id": tl.team_id, **_ref_figures(tl.summary, by_team[tl.team_id], horizon_months, floor)})
    drivers = _ref_drivers(people, shown, floor)
    for row in rows:
        if not drivers.get(row["team_id"], False):
            row.pop("main_driver", None), row.pop("main_driver_people", None)
    figured = [r["team_id"] for r in rows if "caseload_per_fte" in r or "mean_caseload" in r]
    rows.append(_ref_total(people, config, horizon_months, shown, figured))
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return table.astype({c: "Int64" for c in COUNT_COLUMNS if c in table.columns})


def _cells(table: pd.DataFrame, config: BandConfig) -> pd.DataFrame:
    """The one service's table with its small cells withheld, as the package does after every other figure (the
    rule itself is tested in test_overview_band_cells.py; here the one pass is compared, not the rule)."""
    return _withhold_small_cells(table, np.zeros(len(table), dtype=np.int64), config.min_group,
                                 (config.medium, config.high))


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal cell for cell, and written alike: the CSV and what Excel and HTML show (an all-empty column may be
    typed as text or as numbers, which no file shows)."""
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got.to_csv(index=False) == expected.to_csv(index=False)
    assert display_table(got).to_csv(index=False) == display_table(expected).to_csv(index=False)


# -- fixtures --------------------------------------------------------------------------------------------------------
def _scoring(seed: int, n_teams: int = 40, councils=("C01", "C02", "C03")) -> tuple[pd.DataFrame, dict]:
    """Teams of 1 to 13 people across councils and six services (so some services hold one team, some teams are
    under the floor, and some services need a further team withheld), each team with its manager in it, one team
    with no manager recorded, some people already leaving, targets missing in one service and no caseload in
    another, and risks high enough that most teams have medium and high bands."""
    rng = np.random.default_rng(seed)
    frames, service_of = [], {}
    for c, council in enumerate(councils):
        sizes = {f"T{c}{i:02d}": int(n) for i, n in enumerate(rng.integers(1, 14, n_teams // len(councils)))}
        frame = scores_frame.synthetic_scores(sizes, seed=seed + c, council=council,
                                              managers={t: f"M{t}" for t in sizes}, prefix=f"W{c}")
        frames.append(frame)
        service_of.update({t: f"svc{rng.integers(0, 6)}" for t in sizes})
    frame = pd.concat(frames, ignore_index=True)
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    frame.loc[frame["team_id"] == frame["team_id"].iloc[-1], "manager_id"] = None
    frame["risk"] = rng.beta(2, 4, len(frame))
    frame["service"] = frame["team_id"].map(service_of)
    frame["target_turnover"] = frame["team_id"].map(lambda t: 0.08 + 0.01 * (int(t[-2:]) % 7))
    frame.loc[frame["service"] == "svc1", "target_turnover"] = np.nan
    frame.loc[frame["service"] == "svc2", "caseload_current"] = np.nan
    frame["fte"] = np.where(rng.random(len(frame)) < 0.2, 0.6, 1.0)
    frame["leaving_date_recorded"] = rng.random(len(frame)) < 0.05
    drivers = [c for c in frame.columns if c.startswith("driver_")]
    frame[drivers] = rng.normal(0, 0.3, (len(frame), len(drivers)))
    frame.loc[rng.random(len(frame)) < 0.3, "caseload_current"] = 0.0   # no caseload reason for these
    return frame, service_of


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("horizon", [12, 6, None])
def test_one_pass_equals_a_service_at_a_time(seed, horizon):
    scores, service_of = _scoring(seed)
    config = BandConfig().for_horizon(horizon)
    plan = overview_plan(scores, service_of)
    built = {tl.team_id: tl for tl in build_risk_lists(scores, config=config, teams=sorted(service_of))}
    rows_of = scores.groupby([scores["council_id"].astype(str), scores["team_id"].astype(str)], sort=False).indices
    overviews = build_service_overviews(plan, built, scores, config=config, horizon_months=horizon)
    assert len(overviews) == len(plan)
    withheld_by_rule = 0
    for (council, service, teams), overview in zip(plan, overviews):
        at = [i for t in teams for i in rows_of.get((council, t), ())]
        expected = _cells(_ref_overview([built[t] for t in teams], scores.iloc[at], config, horizon), config)
        assert (overview.council, overview.service, overview.teams) == (council, service, teams)
        _same(overview.table, expected)
        withheld_by_rule += int(overview.table["note"].fillna("").str.contains("withheld so that").sum())
    # the fixtures reach the cases that matter: complementary suppression, and teams under the floor
    assert withheld_by_rule > 0
    assert any(o.table["note"].fillna("").str.contains("fewer than").any() for o in overviews)
    assert any(o.table["main_driver"].notna().any() for o in overviews)
    # totals with a caseload, and totals whose caseload less the teams' would be that of too few
    assert any(pd.notna(o.table.iloc[-1]["caseload_per_fte"]) for o in overviews)
    assert any(o.table["note"].fillna("").str.contains("No caseload for the service").any() for o in overviews)
    if horizon is not None:   # and totals whose target the withheld teams' targets would split
        assert any(o.table["note"].fillna("").str.startswith("No target leavers for the service").any()
                   for o in overviews)


def test_one_service_alone_equals_its_overview_among_all():
    scores, service_of = _scoring(4)
    config = BandConfig()
    plan = overview_plan(scores, service_of)
    built = {tl.team_id: tl for tl in build_risk_lists(scores, config=config, teams=sorted(service_of))}
    together = build_service_overviews(plan, built, scores, config=config, horizon_months=12)
    for (council, service, teams), overview in zip(plan, together):
        alone = build_service_overview([built[t] for t in reversed(teams)], scores, config=config, council=council,
                                       service=service, horizon_months=12)
        _same(alone.table, overview.table)


# -- own staff: the per-service reference ----------------------------------------------------------------------------
OWN = ["own_staff", "own_expected_leavers", "own_target_leavers", "own_against_target"]


def _ref_own(expected: pd.DataFrame, lists, scores, config, horizon_months) -> pd.DataFrame:
    """``expected`` (the reference without own staff) with a team's own-staff figures where its list counts them
    apart, the total's where no subtraction gives fewer than the floor, and the notes saying why not."""
    floor, table = config.min_group, expected.copy().astype({c: object for c in ["note", *OWN]})
    kind = scores.drop_duplicates(["team_id", "worker_id"]).set_index(["team_id", "worker_id"])["employment_type"]
    people = _ref_people(lists, scores)
    people["own"] = [kind[(t, w)] != "agency" for t, w in zip(people.team_id, people.worker_id)]
    split = []
    for tl in lists:
        at = table.index[table.team_id == tl.team_id][0]
        if pd.isna(table.at[at, "people"]) or pd.isna(table.at[at, "target_leavers"]):
            continue
        if tl.summary.get("own_staff") is None:
            table.at[at, "note"] = (f"No own-staff figures: fewer than {floor} own staff or agency workers to count "
                                    "apart (as on the team's list), so the target is set beside everyone scored only.")
            continue
        split.append(tl.team_id)
        own = round(tl.summary["own_staff"] * scale_to_horizon(tl.summary["target_turnover"], horizon_months), 1)
        table.loc[at, OWN] = [tl.summary["own_staff"], tl.summary["own_expected_leavers"], own,
                              round(tl.summary["own_expected_leavers"] - own, 1)]
    total = table.index[-1]
    if pd.isna(table.at[total, "people"]) or horizon_months is None or people["target"].isna().any():
        return table.astype({c: "Int64" for c in ("own_staff",)})
    rest = people.loc[~people.team_id.isin(split)]
    n_own = int(people.own.sum())
    counts = [n_own, len(people) - n_own]
    for _, group in rest.groupby("target"):
        counts += [int(group.own.sum()), int((~group.own).sum())]
    if n_own < floor or any(0 < n < floor for n in counts[1:]):
        before = table.at[total, "note"]   # the total's target may be withheld too: that reason comes first
        table.at[total, "note"] = ((f"{before} " if isinstance(before, str) else "") +
                                   f"No own-staff figures for the service: some but fewer than {floor} own staff or "
                                   "agency workers are in the service, or in its teams without own-staff figures at "
                                   "one target turnover, and the service's own-staff figures less the teams' shown "
                                   "would give theirs.")
    else:
        own = people.loc[people.own]
        e = round(float(own.risk.sum()), 1)
        t = round(sum(scale_to_horizon(x, horizon_months) * n for x, n in own.groupby("target").size().items()), 1)
        table.loc[total, OWN] = [n_own, e, t, round(e - t, 1)]
    return table.astype({c: "Int64" for c in ("own_staff",)})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("horizon", [12, 6, None])
def test_own_staff_in_one_pass_equal_a_service_at_a_time(seed, horizon):
    """With an employment type (a third of teams with no agency worker, the rest with a random share), every
    overview's own-staff figures and notes equal a per-service computation; the fixtures reach totals shown,
    totals withheld by the targets, and teams whose own staff cannot be counted apart."""
    scores, service_of = _scoring(seed)
    rng = np.random.default_rng(seed)
    share = scores["team_id"].map({t: (0.0 if rng.random() < 0.33 else rng.uniform(0.1, 0.6)) for t in service_of})
    scores["employment_type"] = np.where(rng.random(len(scores)) < share, "agency", "permanent")
    # two targets (the fixture's seven leave few totals to show): 10% for most teams, 15% for every third
    two = scores["team_id"].map(lambda t: 0.15 if int(t[-2:]) % 3 == 0 else 0.10)
    scores["target_turnover"] = two.where(scores["target_turnover"].notna())
    config = BandConfig().for_horizon(horizon)
    plan = overview_plan(scores, service_of)
    built = {tl.team_id: tl for tl in build_risk_lists(scores, config=config, teams=sorted(service_of))}
    rows_of = scores.groupby([scores["council_id"].astype(str), scores["team_id"].astype(str)], sort=False).indices
    overviews = build_service_overviews(plan, built, scores, config=config, horizon_months=horizon)
    notes = []
    for (council, service, teams), overview in zip(plan, overviews):
        at = [i for t in teams for i in rows_of.get((council, t), ())]
        lists = [built[t] for t in teams]
        expected = _cells(_ref_own(_ref_overview(lists, scores.iloc[at], config, horizon), lists, scores.iloc[at],
                                   config, horizon), config)
        _same(overview.table, expected)
        notes += list(overview.table["note"].dropna())
        if horizon is not None:
            assert overview.own_staff_total == (scores.iloc[at]["target_turnover"].notna().all() and len(at) > 0)
    if horizon is not None:
        assert any(pd.notna(o.table.iloc[-1]["own_staff"]) for o in overviews)
        assert any(n.startswith("No own-staff figures for the service") for n in notes)
        assert any(n.startswith("No own-staff figures: fewer than") for n in notes)
