"""Service overview for a head of service: one row per team of one council's service, and no person's row.

A head of service plans across teams (caseload relief, a retention payment, recruitment): which teams are
likely to lose most people over the model's horizon, against each team's target turnover. Every figure of a
team is the summary already on that team's list (:func:`retention_ml.reports.risk_list.build_risk_lists`, the
one computation of expected leavers and their interval), so the overview and the managers' lists never
disagree. Disclosure (:mod:`retention_ml.disclosure`): a team under the floor shows no figures, and because the
overview also gives the service total, shown teams are withheld too until the withheld teams together hold at
least the floor (complementary suppression, the model card's rule in :mod:`retention_ml.evaluate`), so no
small team is the difference between the total and the rest. The total's figures that sum each team's target over
its people (target leavers over everyone scored, over the own staff) and its caseload are withheld too where the
total less the teams shown would give those of 1 to floor - 1 people (:func:`_split_by_target`,
:func:`_caseload_split`).

Example
-------
>>> lists = build_risk_lists(scores, config=cfg, teams=service_teams)           # doctest: +SKIP
>>> ov = build_service_overview(lists, scores, config=cfg, council="C001", service="safeguarding",
...                             horizon_months=12)                                # doctest: +SKIP
>>> write_overview_csv(ov, meta, "lists/service_overview_C001_safeguarding.csv")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.disclosure import (MIN_PEOPLE, WITHHELD, complement_in_row, complementary_suppression, fewer_than,
                                     pinned, pinned_by_sum, small_counts)
from retention_ml.reports.risk_list import (HEALTH_LINE, NOTES_END, PURPOSE_LINE, TARGET_COUNTS, TARGET_REASON,
                                            BandConfig, TeamList, _caseload_summary, _group_summary, _period, approval_line, band_cutoffs_text, band_meaning_text, list_metadata,
                                            model_change_line, model_changed, neutralise_formulas, scale_to_horizon, service_label, target_leavers)

__all__ = ["OVERVIEW_LIST", "ServiceOverview", "build_service_overview", "build_service_overviews", "lead_drivers",
           "overview_stem",
           "write_overview_csv", "write_overview_html", "write_overview_xlsx"]

# The scope recorded in the overview's settings and in the distribution log.
OVERVIEW_LIST = "service overview"
TOTAL_LABEL = "Service total"

NO_PERSON_LINE = ("This overview holds no person's row: one row per team of the service, for planning across teams "
                  "(caseload relief, a retention payment, recruitment). Each team's manager has the team's own list; "
                  "the lists of teams with no manager recorded are the head of service's.")
SCOPE_LINE = ("A team's figures are those of its list: they count neither the team's manager (listed for the head of "
              "service on the service's team-manager list) nor anyone whose leaving date is already recorded.")
DRIVER_LINE = ("Most common driver: among the team's medium- and high-band people, the driver (data_schema/drivers.yaml) "
               "raising a person's risk most, the one their first reason is about; named only where at least {floor} "
               "of them share it, and withheld from a team too where the service total's driver less the drivers "
               "shown would describe fewer than {floor} people. The band counts are a breakdown of a team of {floor} "
               "or more: a count of 1 to {last} people reads \"fewer than {floor}\", and a count that would give one "
               "away (a team's people less its counts shown, its band counts less the driver's people, the service "
               "total less the teams' counts, or a count the expected leavers leave one value only) reads "
               "\"withheld\". They say how many, not who, except for a team whose people listed are all in one band "
               "(all low, most often): then they tell each one's band. They are shown to the head of service, who "
               "manages the service's people, for planning; a conversation with a person starts from their "
               "manager's list.")
OWN_TOTAL_WITHHELD = ("No own-staff figures for the service: some but fewer than {floor} own staff or agency workers "
                      "are in the service, or in its teams without own-staff figures at one target turnover, and the "
                      "service's own-staff figures less the teams' shown would give theirs.")
# withheld only where the teams without figures sit at two or more targets (at one, they hold none or the floor)
TARGET_TOTAL_WITHHELD = ("No target leavers for the service: its teams without figures have different target "
                         "turnovers, with some but fewer than {floor} people at one of them, so the service's target "
                         "less the teams' shown would tell how many people that is.")
CASELOAD_TOTAL_WITHHELD = ("No caseload for the service: its teams showing no caseload hold some but fewer than "
                           "{floor} staff with open cases, so the service's caseload less the teams' shown would "
                           "give theirs.")
BANDS_WITHHELD = ("A band count reads 'withheld' where it would give away a count of fewer than {floor} people: "
                  "in a team, those left in the low band once its people listed less the counts shown are taken, or "
                  "the count itself where the expected leavers leave it one value only (each high-band person adds at "
                  "least the high cut-off to them); in the service total, the total less the teams' counts shown.")
DRIVER_TOTAL_WITHHELD = ("People with the service's driver withheld: less the teams' counts shown, it would give "
                         "fewer than {floor} people in the other teams.")
DRIVER_OTHERS_WITHHELD = ("People with that driver withheld: less the medium and high band counts shown, it would "
                          "give the fewer than {floor} people led by other drivers.")
OWN_TEAM_WITHHELD = ("No own-staff figures: fewer than {floor} own staff or agency workers to count apart (as on the "
                     "team's list), so the target is set beside everyone scored only.")
OWN_TOTAL_RULE = ("the own staff of all its teams, where they are at least {floor}, its agency workers none or at least "
                  "{floor}, and the teams without own-staff figures hold, at each target turnover, none or at least "
                  "{floor} own staff and none or at least {floor} agency workers, so that no team's few can be worked out "
                  "by subtraction")

# Columns in order, with what people read (Excel, HTML) and what the raw CSV name means.
COLUMNS = {
    "team_id": ("Team", "team id (the service total in the last row)"),
    "people": ("People listed", "people on the team's list"),
    "expected_leavers": ("Expected leavers", "sum of the people's probabilities of leaving over the horizon"),
    "expected_low": ("Interval low", "low end of the expected leavers' interval"),
    "expected_high": ("Interval high", "high end of the expected leavers' interval"),
    "expected_share": ("Expected share leaving", "expected leavers / people scored"),
    "target_turnover": ("Target turnover a year", "the team's annual target turnover (teams table)"),
    "target_share": ("Target share over horizon", "the annual target scaled to the horizon"),
    "target_leavers": ("Target leavers", "people scored x target share over the horizon (the target counts own "
                       "staff leaving for any reason; here it is applied to everyone scored)"),
    "against_target": ("Expected minus target leavers", "above 0: more expected to leave of their own choice than the "
                       "target allows everyone scored; not like for like (see the expected leavers note)"),
    "own_staff": ("Own staff scored", "the council's own staff (permanent, fixed term) among the people scored; "
                  "shown where they and the agency workers scored are each none or at least the floor"),
    "own_expected_leavers": ("Expected own-staff leavers", "sum of the own staff's probabilities of leaving over the horizon"),
    "own_target_leavers": ("Target leavers among own staff", "own staff scored x target share over the horizon (the "
                           "target counts own staff, as here, leaving for any reason)"),
    "own_against_target": ("Own staff: expected minus target", "above 0: more own staff expected to leave of their own "
                           "choice than the target allows them for any reason"),
    "medium": ("Medium band", "people in the medium band ('fewer than' the floor or 'withheld': see the notes)"),
    "high": ("High band", "people in the high band ('fewer than' the floor or 'withheld': see the notes)"),
    "main_driver": ("Most common driver", "most common driver among medium- and high-band people, where at least the "
                    "floor share it"),
    "main_driver_people": ("People with that driver", "medium- and high-band people whose main driver it is "
                           "('fewer than' the floor or 'withheld': see the notes)"),
    "caseload_per_fte": ("Caseload per full-time post", "cases / FTE of staff holding cases"),
    "mean_caseload": ("Mean caseload per person", "mean cases of staff holding cases (when the scoring has no FTE)"),
    "caseload_cap": ("Caseload cap", "the team's cap per full-time post"),
    "note": ("Note", "why a team's figures, or some of its counts, are not shown"),
}
SHARE_COLUMNS = ("expected_share", "target_turnover", "target_share")
COUNT_COLUMNS = ("people", "own_staff", "expected_low", "expected_high", "medium", "high", "main_driver_people")


@dataclass
class ServiceOverview:
    """One council's service: a row per team (``table``, the service total last) and its list settings."""

    council: str
    service: str
    table: pd.DataFrame
    teams: list[str]
    # the scores carry everyone's employment type and target: the total may carry own-staff figures (and says so)
    own_staff_total: bool = False

    def title(self) -> str:
        return f"Service overview: {service_label(self.service)} service, council {self.council}"


def overview_stem(council: str, service: str) -> str:
    """File stem of a service's overview, beside the service's lists."""
    from retention_ml.io import safe_name

    return f"service_overview_{safe_name(council)}_{safe_name(service)}"


@lru_cache(maxsize=1)
def _driver_labels() -> dict[str, str]:
    from retention_ml.schema import load_drivers

    return {d.code: d.label for d in load_drivers()}


def lead_drivers(scores: pd.DataFrame) -> pd.Series:
    """Per scored row, the driver code its first reason is about, or None (no reason).

    Scores store each reason's words, not its driver: this reads the stored driver profile (``driver_<code>``)
    with the reasons' own rule (:func:`retention_ml.explain.reasons.first_reason_drivers`).
    """
    from retention_ml.explain.drivers import profile_drivers
    from retention_ml.explain.reasons import first_reason_drivers

    codes = [c for c in profile_drivers() if f"driver_{c}" in scores]
    profile = scores.loc[:, [f"driver_{c}" for c in codes]].set_axis(codes, axis=1)
    return pd.Series(first_reason_drivers(profile, scores), index=scores.index, dtype=object)


def _listed_people(plan: list[tuple[str, str, list[str]]], built: dict[str, TeamList],
                   scores: pd.DataFrame) -> pd.DataFrame:
    """Everyone on the team lists of ``plan``, service after service (``svc``: the position in ``plan``), each
    team's rows in list order: team_id, worker_id and band from the list, risk, target and lead driver from
    ``scores`` (the person's row in the service's council)."""
    parts = [(i, council, built[t]) for i, (council, _, teams) in enumerate(plan) for t in teams]
    lengths = np.fromiter((len(tl.rows) for _, _, tl in parts), dtype=np.int64, count=len(parts))

    def column(name):
        return np.concatenate([tl.rows[name].to_numpy(dtype=object) for _, _, tl in parts] or [np.empty(0, object)])

    rows = pd.DataFrame({"svc": np.repeat([i for i, _, _ in parts], lengths).astype(np.int64),
                         "council": np.repeat(np.asarray([c for _, c, _ in parts], dtype=object), lengths),
                         "team_id": column("team_id"), "worker_id": column("worker_id"), "band": column("band")})
    rows = rows.astype({"council": str, "team_id": str, "worker_id": str})
    target = scores["target_turnover"] if "target_turnover" in scores else pd.Series(np.nan, index=scores.index)
    keys = pd.DataFrame({"council": scores["council_id"].astype(str).to_numpy(),
                         "team_id": scores["team_id"].astype(str).to_numpy(),
                         "worker_id": scores["worker_id"].astype(str).to_numpy(),
                         "risk": scores["risk"].astype(float).to_numpy(),
                         "target": target.astype(float).to_numpy(),
                         "lead": (scores["lead_driver"] if "lead_driver" in scores else lead_drivers(scores)).to_numpy(),
                         "own": _own_flags(scores)})
    for name in ("caseload_current", "fte"):   # the total's caseload, as a list's (risk_list._caseload_summary)
        if name in scores:
            keys[name] = scores[name].astype(float).to_numpy()
    keys = keys.drop_duplicates(["council", "team_id", "worker_id"])
    # a row is matched with its person where its (service's) council holds it; a service's list never draws on another's
    return rows.merge(keys, on=["council", "team_id", "worker_id"], how="left", validate="one_to_one")


def _own_flags(scores: pd.DataFrame) -> np.ndarray:
    """Per scored row: 1.0 for the council's own staff, 0.0 for an agency worker, NaN where the scores carry no
    employment type (scorings before it was carried: no own-staff figure anywhere, as on the lists)."""
    from retention_ml.schema import AGENCY

    if "employment_type" not in scores:
        return np.full(len(scores), np.nan)
    kind = scores["employment_type"]
    return np.where(kind.isna().to_numpy(), np.nan, kind.astype(str).ne(AGENCY).to_numpy(float))


def _band_figures(people: pd.DataFrame, by: list[str], floor: int) -> pd.DataFrame:
    """Per group of ``by``: people in the medium and high bands, and the most common lead driver among them
    (its label and people) where at least ``floor`` of them; one grouping over every service's people."""
    band = people["band"].to_numpy()
    flags = pd.DataFrame({"medium": band == "medium", "high": band == "high"}).set_axis(people.index)
    out = flags.groupby([people[c] for c in by], sort=False).sum().astype(int)
    flagged = people.loc[flags["medium"].to_numpy() | flags["high"].to_numpy()]
    enough = flagged.groupby(by, sort=False).size() >= floor
    counts = flagged.dropna(subset=["lead"]).groupby([*by, "lead"], sort=False).size().rename("n").reset_index()
    order = {code: i for i, code in enumerate(_driver_labels())}
    counts["order"] = counts["lead"].map(order).fillna(len(order))
    # the commonest; a tie goes to the taxonomy's order
    best = counts.sort_values([*by, "n", "order"], ascending=[*([True] * len(by)), False, True], kind="stable")
    best = best.drop_duplicates(by).set_index(by)
    best = best.loc[enough.reindex(best.index, fill_value=False).to_numpy(bool)]
    out["main_driver"] = best["lead"].map(lambda code: _driver_labels().get(code, code))
    out["main_driver_people"] = best["n"]
    return out


def _figures(summary: dict, bands: dict, horizon_months: int | None) -> dict:
    """A shown team's (or the total's) row from its list summary and its ``bands`` (:func:`_band_figures`' row):
    expected leavers, target, bands, most common driver, caseload."""
    row = {k: summary[k] for k in ("people", "expected_leavers", "expected_low", "expected_high")}
    row["expected_share"] = round(summary["expected_leavers"] / summary["people"], 3)
    if "target_turnover" in summary and horizon_months is not None:
        row["target_turnover"] = summary["target_turnover"]
        row["target_share"] = round(scale_to_horizon(summary["target_turnover"], int(horizon_months)), 3)
        row["target_leavers"] = round(target_leavers(summary["target_turnover"], summary["people"], int(horizon_months)), 1)
        row["against_target"] = round(summary["expected_leavers"] - row["target_leavers"], 1)
        if summary.get("own_staff") is not None:
            # the like-for-like comparison, where the team's list makes it (risk_list._own_staff_summary: own staff
            # and agency workers each none or at least the floor); the total's need more (_service_own_staff), as
            # its own-staff figures less the teams shown could give a team's few agency workers'
            own = round(target_leavers(summary["target_turnover"], summary["own_staff"], int(horizon_months)), 1)
            row.update(own_staff=summary["own_staff"], own_expected_leavers=summary["own_expected_leavers"],
                       own_target_leavers=own, own_against_target=round(summary["own_expected_leavers"] - own, 1))
    row.update(medium=int(bands.get("medium", 0)), high=int(bands.get("high", 0)))
    if isinstance(bands.get("main_driver"), str):
        row.update(main_driver=bands["main_driver"], main_driver_people=int(bands["main_driver_people"]))
    row.update({k: summary[k] for k in ("mean_caseload_per_fte", "mean_caseload", "caseload_cap") if k in summary})
    if "mean_caseload_per_fte" in row:
        row["caseload_per_fte"] = row.pop("mean_caseload_per_fte")
    return row


def _shown_teams(people: pd.DataFrame, built: dict[str, TeamList], floor: int) -> set[tuple[int, str]]:
    """(svc, team_id) of the teams with anyone listed whose figures can be shown beside their service's total."""
    # the card's rule for expected-vs-observed per team, with each service total as the one published group
    size = people.groupby(["svc", "team_id"], sort=False)["worker_id"].nunique()
    own = np.fromiter((built[t].summary.get("people") is not None for t in size.index.get_level_values("team_id")),
                      dtype=bool, count=len(size))
    return _complemented(people, size, own, floor)


def _shown_drivers(people: pd.DataFrame, shown: set[tuple[int, str]], floor: int) -> set[tuple[int, str]]:
    """(svc, team_id) of the shown teams whose most common driver can be shown beside their service total's.

    The driver is an aggregate over a team's medium- and high-band people, a sub-group of the team: it needs
    ``floor`` of them, and because the total gives the service's driver and its people too, the teams whose
    driver is not shown must together hold none or at least ``floor`` such people (complementary suppression,
    as for the teams' own figures), so that no team's few are the total's driver minus the teams shown."""
    flagged = people.loc[people["band"].isin(["medium", "high"]).to_numpy()]
    size = flagged.groupby(["svc", "team_id"], sort=False)["worker_id"].nunique()
    own = (np.fromiter(((svc, team) in shown for svc, team in size.index), dtype=bool, count=len(size))
           & (size >= floor).to_numpy())
    return _complemented(flagged, size, own, floor)


def _complemented(people: pd.DataFrame, size: pd.Series, own: np.ndarray, floor: int) -> set[tuple[int, str]]:
    """(svc, team_id) of ``size``'s teams (people counted per svc and team) that pass on their own (``own``) and
    stay shown once each service's withheld teams together hold none or at least ``floor`` of ``people``."""
    hidden = pd.Series(np.where(own, 0, size.to_numpy()), index=size.index).groupby(level="svc").sum()
    # only where a subtraction could single someone out does the rule change anything
    short = hidden.index[(hidden > 0) & (hidden < floor)]
    keep = ~size.index.get_level_values("svc").isin(short)
    shown = {key for key, ok in zip(size.index[keep], own[keep]) if ok}
    if len(short):
        # one call for every such service, each a group of its own; a team is keyed by its service's position
        # before its id, so ties between a service's teams still break on the id
        rows = people.loc[people["svc"].isin(short).to_numpy()]
        frame = pd.DataFrame({"team_id": rows["svc"].astype(str) + "/" + rows["team_id"], "svc": rows["svc"],
                              "worker_id": rows["worker_id"]})
        teams = size.index[~keep]
        keys = [f"{svc}/{team}" for svc, team in teams]
        passed = complementary_suppression(frame, pd.Series(own[~keep], index=keys), ["svc"], floor)
        shown |= {team for team, key in zip(teams, keys) if passed[key]}
    return shown


def _service_own_staff(people: pd.DataFrame, split: set[tuple[int, str]], floor: int,
                       horizon_months: int | None) -> dict[int, dict]:
    """Per svc whose scores carry everyone's employment type and target: the own-staff figures of its total row
    (own staff, their expected leavers, the target over them, the difference), or the note saying why not.

    The service's own staff and their expected leavers, less those of the teams showing own-staff figures
    (``split``), give the own staff of the other teams, and the total less both gives those teams' agency
    workers: so, besides the service's own staff being at least ``floor`` and its agency workers none or at
    least ``floor`` (a team's rule), the teams without own-staff figures must together hold none or at least
    ``floor`` own staff and none or at least ``floor`` agency workers. Counted per target turnover: the total's
    own-staff target is each team's target times its own staff, so where those teams' targets differ (a head
    of service knows them), the target less the teams shown, beside their own staff, splits them by target.
    """
    if horizon_months is None or people.empty:
        return {}
    known = people[["own", "target"]].notna().all(axis=1).groupby(people["svc"]).all()
    rows = people.loc[people["svc"].map(known).to_numpy(bool)]
    if rows.empty:
        return {}
    own = rows["own"].to_numpy(float)
    # the share over the horizon once per target turnover (few), then per person
    share = {t: scale_to_horizon(t, int(horizon_months)) for t in rows["target"].unique()}
    per = pd.DataFrame({"svc": rows["svc"].to_numpy(), "target": rows["target"].to_numpy(float), "own": own,
                        "agency": 1.0 - own, "expected": rows["risk"].to_numpy(float) * own,
                        "allowed": own * rows["target"].map(share).to_numpy(float)})
    service = per.groupby("svc")[["own", "agency", "expected", "allowed"]].sum()
    unsafe = (service["own"] < floor) | ((service["agency"] > 0) & (service["agency"] < floor))
    unsafe |= _split_by_target(per, rows["team_id"].to_numpy(), split, ["own", "agency"], floor).reindex(
        service.index, fill_value=False)
    out = {}
    for svc, fig in service.iterrows():
        if unsafe[svc]:
            out[svc] = {"note": OWN_TOTAL_WITHHELD.format(floor=floor)}
            continue
        expected, allowed = round(fig["expected"], 1), round(fig["allowed"], 1)
        out[svc] = {"own_staff": int(fig["own"]), "own_expected_leavers": expected, "own_target_leavers": allowed,
                    "own_against_target": round(expected - allowed, 1)}
    return out


def _split_by_target(per: pd.DataFrame, team_ids: np.ndarray, figured: set[tuple[int, str]], counts: list[str],
                     floor: int) -> pd.Series:
    """Per svc of ``per`` (one row per person: ``svc``, ``target`` and the 0/1 ``counts`` columns): True where the
    people of the teams outside ``figured`` (those showing no such figures of their own) hold, at one target
    turnover, some but fewer than ``floor`` of a ``counts`` group.

    The one rule for every figure of the service total that sums a per-team target over people (the target
    leavers over everyone scored, those over the own staff): the total less the teams shown gives the others'
    head count and their target leavers, and a head of service knows each team's target turnover, so where
    those teams sit at two targets the two equations give the head count at each (more targets: whole numbers
    narrow it down). Any such group of 1 to ``floor`` - 1 withholds the figure, whether or not its
    equations pin it down."""
    team = pd.MultiIndex.from_arrays([per["svc"].to_numpy(), team_ids])
    rest = per.loc[~team.isin(list(figured))]
    groups = rest.groupby(["svc", "target"])[counts].sum()
    return ((groups > 0) & (groups < floor)).any(axis=1).groupby(level="svc").any()


def _target_split(people: pd.DataFrame, shown: set[tuple[int, str]], floor: int) -> set[int]:
    """svc whose total may not show its target leavers over everyone scored: the teams withheld hold, at one
    target turnover, some but fewer than ``floor`` people (:func:`_split_by_target`, the own-staff total's rule)."""
    per = pd.DataFrame({"svc": people["svc"].to_numpy(), "target": people["target"].to_numpy(float),
                        "people": np.ones(len(people))})
    split = _split_by_target(per, people["team_id"].to_numpy(), shown, ["people"], floor)
    return set(split.index[split.to_numpy(bool)])


def _caseload_split(people: pd.DataFrame, figured: set[tuple[int, str]], floor: int) -> set[int]:
    """svc whose total may not show a caseload: the teams showing none (``figured``: those that do) hold some
    but fewer than ``floor`` staff with open cases. The total's cases and FTE less the teams' shown (a head of
    service may know each team's FTE) give those staff's caseload, a figure about too few people."""
    if "caseload_current" not in people:
        return set()
    holders = pd.Series((people["caseload_current"] > 0).to_numpy(float), index=people.index)
    team = pd.MultiIndex.from_arrays([people["svc"].to_numpy(), people["team_id"].to_numpy()])
    rest = holders.loc[~team.isin(list(figured))].groupby(people["svc"]).sum()
    return set(rest.index[((rest > 0) & (rest < floor)).to_numpy()])


def _total(people: pd.DataFrame, bands: dict, targets, config: BandConfig, horizon_months: int | None,
           *, target_split: bool = False, caseload_split: bool = False) -> dict:
    """The service's row: the same summary as a list's, over everyone on the service's team lists (``people``);
    ``targets()`` gives the service's people per (team_id, target); ``target_split``: the total's target less the
    teams' shown would split the withheld teams' few by target (:func:`_target_split`), ``caseload_split``: its
    caseload less the teams' shown would be that of too few (:func:`_caseload_split`), so neither is shown."""
    summary = _group_summary(TOTAL_LABEL, people, config, listed="people")
    if summary["people"] is None:
        return {"team_id": TOTAL_LABEL, "note": f"No figures: fewer than {config.min_group} people scored."}
    notes = []
    if caseload_split:
        notes.append(CASELOAD_TOTAL_WITHHELD.format(floor=config.min_group))
    else:   # the service's case-holders as a team's: per full-time post, none when fewer than the floor
        summary.update(_caseload_summary(people, config))
    row = {"team_id": TOTAL_LABEL, **_figures(summary, bands, None)}
    if horizon_months is not None and people["target"].notna().all() and target_split:
        notes.insert(0, TARGET_TOTAL_WITHHELD.format(floor=config.min_group))
    # targets differ between teams: the total target is the sum of each team's, so only with every person's
    elif horizon_months is not None and people["target"].notna().all():
        allowed = sum(target_leavers(t, n, int(horizon_months)) for (_, t), n in targets().items())
        row.update(target_leavers=round(allowed, 1), against_target=round(summary["expected_leavers"] - allowed, 1))
    if notes:
        row["note"] = " ".join(notes)
    return row


def _withhold_small_cells(table: pd.DataFrame, svc: np.ndarray, floor: int, cuts: tuple[float, float]) -> pd.DataFrame:
    """``table`` (every service's rows, ``svc`` their service, each total last) with the counts of sub-groups of a
    team or service that a head of service could not otherwise see withheld: the medium and high band counts and
    the people sharing the most common driver.

    The head of service gets no row of a managed team's people, so a count of 1 to ``floor`` - 1 of them reads
    "fewer than" the floor (and a driver shared by so few is not named); a count that would give one away reads
    "withheld": in a row, where its people less the band counts shown leave 1 to ``floor`` - 1 in the low band
    (:func:`~retention_ml.disclosure.complement_in_row`), and in the service total, where the total less the
    teams' counts shown is such a count or pins the teams' "fewer than" cells (:func:`~retention_ml.disclosure.pinned`);
    the people sharing the driver, where the band counts shown less them leave 1 to ``floor`` - 1 led by others.
    A "fewer than" count reads "withheld" too where the row's expected leavers leave it one value only
    (:func:`~retention_ml.disclosure.pinned_by_sum`, ``cuts``: the medium and high cut-offs): each high-band person
    adds at least the high cut-off, so 0.5 expected leavers beside a "fewer than 5" high count says it is 1.
    Withheld (0 to the row's people), such a count keeps at least two values in a row of ``floor`` or more, and
    the later steps only withhold more, which never narrows a count down.
    """
    total = table["team_id"].eq(TOTAL_LABEL).to_numpy()
    people = table["people"].to_numpy(dtype=float, na_value=np.nan)
    bands = table[["medium", "high"]].to_numpy(dtype=float, na_value=np.nan)
    small = small_counts(bands, floor)
    withheld = complement_in_row(np.where(small, np.nan, bands), people, floor)
    # each count as a reader has it: shown (lo == hi), "fewer than" or withheld; expected leavers are shown to 0.1
    lo = np.where(small, 1.0, np.where(withheld, 0.0, bands))
    hi = np.where(small, floor - 1.0, np.where(withheld, people[:, None], bands))
    expected = table["expected_leavers"].to_numpy(dtype=float, na_value=np.nan)
    by_sum = small & pinned_by_sum(lo, hi, people, expected, cuts, rounding=0.05)
    small &= ~by_sum
    withheld |= by_sum
    hidden = small | withheld | np.isnan(bands)
    withheld |= _total_gives_away(bands, ~hidden, small, total, svc, floor)

    count = table["main_driver_people"].to_numpy(dtype=float, na_value=np.nan)
    lead = table["main_driver"].to_numpy(dtype=object)
    few = small_counts(count, floor)
    # with both band counts shown, those flagged less the driver's people are the people led by other drivers
    flagged = np.where(small | withheld, np.nan, bands).sum(axis=1)
    others = small_counts(flagged - count, floor) & ~few
    service_lead = pd.Series(lead[total], index=svc[total]).reindex(svc).to_numpy(dtype=object)
    # the total's driver count less the teams' counts of the same driver: the others' people led by it
    same = ~total & ~few & ~others & (lead == service_lead) & ~np.isnan(count)
    total_driver = _total_gives_away(count[:, None], same[:, None], few[:, None], total, svc, floor)[:, 0] | (total & others)

    out = table.astype({"medium": object, "high": object, "main_driver_people": object, "main_driver": object,
                        "note": object})
    out = out.where(out.notna(), np.nan)   # one kind of empty cell (not pd.NA beside NaN) in the text columns
    for j, col in enumerate(("medium", "high")):
        out.loc[small[:, j], col] = fewer_than(floor)
        out.loc[withheld[:, j], col] = WITHHELD
    out.loc[few, ["main_driver", "main_driver_people"]] = [np.nan, fewer_than(floor)]
    out.loc[total_driver | others, "main_driver_people"] = WITHHELD
    bands_note = np.where(withheld.any(axis=1), BANDS_WITHHELD.format(floor=floor), "")
    driver_note = np.where(total_driver & ~others, DRIVER_TOTAL_WITHHELD.format(floor=floor),
                           np.where(others, DRIVER_OTHERS_WITHHELD.format(floor=floor), ""))
    notes = (out["note"].fillna("").astype(str) + " " + bands_note + " " + driver_note).str.split().str.join(" ")
    out["note"] = notes.where(notes.ne(""), np.nan)   # the notes already there come first
    return out


def _total_gives_away(values: np.ndarray, shown: np.ndarray, small: np.ndarray, total: np.ndarray, svc: np.ndarray,
                      floor: int) -> np.ndarray:
    """Per cell of ``values`` (rows: every service's teams and totals; columns: counts), True on a service total's
    count that, less the teams' counts ``shown`` that it sums, gives a small count away
    (:func:`~retention_ml.disclosure.pinned`, with the teams' ``small`` cells read as "fewer than" the floor)."""
    teams = ~total[:, None]
    team_sum = pd.DataFrame(np.where(shown & teams, values, 0.0)).groupby(svc).sum()
    cells = pd.DataFrame((small & teams).astype(float)).groupby(svc).sum()
    rest = values[total] - team_sum.loc[svc[total]].to_numpy()
    out = np.zeros(values.shape, dtype=bool)
    out[total] = pinned(rest, cells.loc[svc[total]].to_numpy(), floor) & ~np.isnan(values[total]) & ~small[total]
    return out


def build_service_overviews(plan: list[tuple[str, str, list[str]]], built: dict[str, TeamList], scores: pd.DataFrame,
                            *, config: BandConfig, horizon_months: int | None) -> list[ServiceOverview]:
    """One overview per (council, service, teams) of ``plan`` (``teams`` sorted), from the teams' lists in ``built``
    (team_id -> :class:`TeamList`, as :func:`~retention_ml.reports.risk_list.build_risk_lists` built them with
    ``config``).

    ``scores`` (the scoring the lists were cut from; a ``lead_driver`` column, when present, saves working it out
    again) gives each listed person's risk, for the service totals, and lead driver. No worker id, name or reason
    reaches a table. Every team's figures come from one grouping over all the services' people (a service at a
    time cost a fixed pandas overhead per service, 962 times at national size).
    """
    floor = config.min_group
    people = _listed_people(plan, built, scores)
    shown = _shown_teams(people, built, floor)
    team_bands = _band_figures(people, ["svc", "team_id"], floor)
    drivers_shown = _shown_drivers(people, shown, floor)
    withheld = ~team_bands.index.isin(list(drivers_shown))
    team_bands.loc[withheld, ["main_driver", "main_driver_people"]] = np.nan
    team_bands = team_bands.to_dict("index")
    service_bands = _band_figures(people, ["svc"], floor).to_dict("index")
    targets = people.groupby(["svc", "team_id", "target"]).size()
    rows_of = people.groupby("svc", sort=False).indices
    split = {(i, team) for i, team in shown if built[team].summary.get("own_staff") is not None}
    service_own = _service_own_staff(people, split, floor, horizon_months)
    target_split = _target_split(people, shown, floor)
    with_caseload = {(i, team) for i, team in shown
                     if {"mean_caseload_per_fte", "mean_caseload"} & built[team].summary.keys()}
    caseload_split = _caseload_split(people, with_caseload, floor)
    rows, at = [], []
    for i, (council, service, teams) in enumerate(plan):
        for team in teams:
            tl = built[team]
            if tl.summary.get("people") is None:
                row = {"team_id": team, "note": f"No figures: fewer than {floor} people on the team's list."}
            elif (i, team) not in shown:
                row = {"team_id": team, "note": "No figures: withheld so that a smaller team's figures cannot "
                       "be worked out from the service total."}
            else:
                row = {"team_id": team, **_figures(tl.summary, team_bands.get((i, team), {}), horizon_months)}
                if "own_staff" in tl.summary and tl.summary["own_staff"] is None and "target_leavers" in row:
                    # the list's target line says why it compares everyone; the row says it too, or the empty
                    # own-staff cells beside a team's figures read as a gap in the data
                    row["note"] = OWN_TEAM_WITHHELD.format(floor=floor)
            rows.append(row)
            at.append(i)
        total = _total(people.iloc[rows_of.get(i, [])], service_bands.get(i, {}), lambda i=i: targets.loc[i],
                       config, horizon_months, target_split=i in target_split,
                       caseload_split=i in caseload_split)
        if "people" in total and i in service_own:   # the total is shown: its like-for-like line, or why not
            notes = [n for n in (total.get("note"), service_own[i].get("note")) if n]   # both withheld: both reasons
            total.update(service_own[i])
            if notes:
                total["note"] = " ".join(notes)
        rows.append(total)
        at.append(i)
    # the same columns in every overview, whatever its teams show, so a machine reads them all alike
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    # counts stay whole numbers beside the withheld teams' empty cells (not 9.0)
    table = table.astype({c: "Int64" for c in COUNT_COLUMNS})
    table = _withhold_small_cells(table, np.asarray(at), floor, (config.medium, config.high))
    parts = pd.Series(np.arange(len(at))).groupby(np.asarray(at)).indices
    return [ServiceOverview(council=str(council), service=str(service),
                            table=table.iloc[parts[i]].reset_index(drop=True), teams=list(teams),
                            own_staff_total=i in service_own)
            for i, (council, service, teams) in enumerate(plan)]


def build_service_overview(lists: list[TeamList], scores: pd.DataFrame, *, config: BandConfig, council: str,
                           service: str, horizon_months: int | None) -> ServiceOverview:
    """The overview of one council's service from its teams' lists (``lists``: one :class:`TeamList` per team);
    :func:`build_service_overviews` for one service."""
    teams = sorted(tl.team_id for tl in lists)
    return build_service_overviews([(str(council), str(service), teams)], {tl.team_id: tl for tl in lists}, scores,
                                   config=config, horizon_months=horizon_months)[0]


def overview_metadata(scores_meta: dict, overview: ServiceOverview, *, config: BandConfig) -> dict:
    """The overview's settings (the lists' fields safe for the service, without the per-person rules)."""
    meta = list_metadata(scores_meta, config=config, teams=overview.teams)
    for key in ("manager_rule", "uncertain_rule", "shows_probability"):
        meta.pop(key, None)
    meta = {**meta, "list": OVERVIEW_LIST, "council": overview.council, "service": overview.service,
            "interval_level": config.summary_level, "min_group": config.min_group}
    if overview.own_staff_total:   # only then: an overview of a scoring without employment types reads as before
        meta["own_staff_total"] = OWN_TOTAL_RULE.format(floor=config.min_group)
    return meta


def expected_line(meta: dict) -> str:
    """What the expected figures mean, in one sentence (and how the target is put on the same horizon)."""
    months, level = meta.get("horizon_months"), float(meta.get("interval_level", 0.8))
    text = (f"Expected leavers {_period(months)} is the sum of each person's probability of leaving in that time: "
            f"how many people the model expects a team to lose on average, not who; the number who leave falls in "
            f"the {level:.0%} interval {round(level * 10):.0f} times in 10 when the probabilities are right.")
    if months is not None:
        text += (f" A team's annual target turnover t is put on the same {int(months)}-month horizon as "
                 f"1 - (1 - t) ** ({int(months)} / 12) per person (the chance of leaving within {int(months)} months "
                 "at a steady monthly rate), times the people scored. The two are not like for like: " + TARGET_COUNTS + ". "
                 f"The own-staff columns are: the target times the own staff scored, beside their expected leavers (a "
                 f"team's, where its own staff and agency workers are each none or at least "
                 f"{meta.get('min_group', MIN_PEOPLE)}; ")
        if meta.get("own_staff_total"):
            text += f"the service total's, {meta['own_staff_total']}; "
        text += f"{TARGET_REASON})."
    return text


def withheld_line(meta: dict) -> str:
    floor = meta.get("min_group", MIN_PEOPLE)
    return (f"A team with fewer than {floor} people on its list shows no figures; where the teams withheld would "
            f"together hold fewer than {floor} people, the smallest shown team is withheld too, so that no team's "
            "figures are the difference between the service total and the teams shown.")


def overview_lines(meta: dict) -> list[tuple[str, str]]:
    """The lines heading every overview format, as (kind, text): approval first, as on the lists."""
    floor = meta.get("min_group", MIN_PEOPLE)
    # a head of service or a board sets this month's overview against last month's: after a retrain, read first
    changed = [("alert", model_change_line(meta["previous_as_of"]))] if model_changed(meta) else []
    return [approval_line(meta), *changed, ("purpose", PURPOSE_LINE), ("note", NO_PERSON_LINE),
            ("note", expected_line(meta)), ("note", SCOPE_LINE), ("note", withheld_line(meta)),
            ("note", DRIVER_LINE.format(floor=floor, last=floor - 1)),
            # work-life balance draws on sickness absence (health data): the lists' caution holds for a team's driver too
            ("note", HEALTH_LINE), ("note", band_cutoffs_text(meta)),
            # the counts of medium and high are conversations a team's manager is asked to offer, not cases
            ("note", band_meaning_text(meta, heading="What a band asks of the team's manager"))]


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as people read it: shares as percentages, empty cells blank."""
    out = table.astype(object).where(table.notna().to_numpy(), "")
    for col in SHARE_COLUMNS:
        if col in out:
            out[col] = [f"{v:.1%}" if v != "" else "" for v in out[col]]
    return out


def write_overview_csv(overview: ServiceOverview, meta: dict, path: str | Path) -> Path:
    """'#' lines on top (approval, purpose, how to read it, settings, column meanings), then one row per team."""
    from retention_ml.io import atomic_path

    path = Path(path)
    header = [f"# {text}" for _, text in overview_lines(meta)]
    header += [f"# overview settings: {json.dumps(meta, default=str)}",
               "# columns: " + "; ".join(f"{c} = {COLUMNS[c][1]}" for c in overview.table.columns)]
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(header) + NOTES_END)
            neutralise_formulas(overview.table).to_csv(fh, index=False, lineterminator="\n")
    return path


def write_overview_html(overview: ServiceOverview, meta: dict, path: str | Path) -> Path:
    from retention_ml.io import atomic_path
    from retention_ml.reports.html import render_overview

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render_overview(overview, meta), encoding="utf-8")
    return path


def write_overview_xlsx(overview: ServiceOverview, meta: dict, path: str | Path) -> Path:
    from retention_ml.reports.xlsx import write_table_sheet

    return write_table_sheet(display_table(overview.table), [COLUMNS[c][0] for c in overview.table.columns],
                             overview_lines(meta), meta, path, title=overview.title())


WRITERS = {"csv": write_overview_csv, "xlsx": write_overview_xlsx, "html": write_overview_html}
