"""Ranked risk lists for team managers: bands, uncertainty, levers, team summaries, scoping.

A list is a prompt for a supportive conversation, never a decision about anyone. Everything
here works on a scores frame as written by ``retention-ml score`` (:mod:`retention_ml.scoring`).

Example
-------
>>> cfg = load_band_config()
>>> lists = build_risk_lists(scores, config=cfg, teams=["T01"])   # doctest: +SKIP
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.disclosure import MIN_PEOPLE
from retention_ml.schema import AGENCY

PURPOSE_LINE = (
    "This list is a prompt for a supportive conversation with each person, "
    "not a decision about anyone. It estimates who may be thinking of leaving and why; "
    "it can be wrong, and it must never be used for selection (redundancy included), discipline or performance decisions."
)

# Heads every other file people read with per-person risks or reasons (scores, explain output) and the
# card's JSON: the lists say it in PURPOSE_LINE, these files in this one line (io.write_table's ``note``).
# Names the uses it forbids, as PURPOSE_LINE does: the scores and explanations files travel without the list's lines.
NOT_A_DECISION = ("This model's predictions support a conversation with each person; they never decide anything about "
                  "anyone and must never be used for selection (redundancy included), discipline or performance decisions.")

MANAGER_LINE = (
    "A team's manager is not listed in their own team's list, nor counted in its team figures: "
    "their conversation belongs to their own manager or head of service."
)

NOT_APPROVED_LINE = (
    "NOT APPROVED: this model has not passed the promotion gate; for trial use only, "
    "not for conversations with staff; the lines below describe how an approved list is used."
)
APPROVAL_UNKNOWN_LINE = (
    "APPROVAL UNKNOWN: this scoring does not record whether its model passed the promotion gate "
    "(it was scored before approval was recorded); check that the model is the registry's champion "
    "before using this list with staff."
)

# Written into every list (all formats), whether or not anyone in it was left out, so the line itself
# never tells a reader that someone in a small team is leaving.
LEAVING_LINE = (
    "People whose leaving date is already recorded in the HR extract are not listed: a retention "
    "conversation is no longer the point, and their handover is a matter for whoever manages them."
)

# Written into every list (all formats), whether or not a reason in it comes from sickness absence, so the
# line itself says nothing about anyone. Those reasons name no figures (retention_ml.explain.reasons, withheld).
HEALTH_LINE = (
    "A reason drawn from sickness absence gives no figures on purpose: absence is health data and can be linked "
    "to a disability. Talk about workload and support; never question anyone about their health or absence "
    "because of this list, and never use it in absence management. Rows in the low band, where no conversation "
    "is suggested, carry no such reason."
)
# The lever cell beside a reason whose action the row already offers beside an earlier reason.
SAME_ACTION_LEVER = "Same as an earlier lever in this row: one action for both reasons"

# The band whose rows carry no health-derived reason (drop_health_reasons): data minimisation, since the
# list suggests no conversation there and the health inference would serve no purpose.
NO_HEALTH_BAND = "low"
# The band whose rows carry no lever (_prepare_rows): its reasons are shown, but a list suggests nothing beyond usual
# supervision there (band_meaning_text), so "Relocation or housing support" beside a low-band row no longer
# contradicts the list's own header.
NO_LEVER_BAND = "low"
# What the person's own view (explain --worker) says the lists showed in place of a lever on a low-band row.
NO_LEVER_LINE = "no lever beside this reason: in the low band the lists suggest nothing beyond usual supervision"
# What the person's own view (explain --worker) says the lists showed in place of such a reason on a low-band row.
LEFT_OFF_LINE = "left off: in the low band the lists carry no reason drawn from health data"

# Column of the scores (retention-ml score) marking a worker in post at the as-of date whose end_date is
# already recorded. Scores keep them (risk, reasons) for evaluation; lists leave them out.
LEAVING_FLAG = "leaving_date_recorded"

RISK_BANDS = ("low", "medium", "high")

# No aggregate for a group under retention_ml.disclosure.MIN_PEOPLE people. A bands file may raise
# the floor, never lower it (load_band_config refuses that).
MIN_GROUP = MIN_PEOPLE
# The shipped bands file is the one place the defaults are written: BandConfig() takes them from it, and so
# does any key a council's own bands file leaves out.
BANDS_FILE = Path(__file__).resolve().parent.parent / "risk_bands.toml"
SHIPPED = tomllib.loads(BANDS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class BandConfig:
    """Band cut-offs and display choices (from retention_ml/risk_bands.toml).

    Parameters
    ----------
    medium, high : float
        Probability cut-offs: low < medium <= medium band < high <= high band.
    show_probability : bool
        Whether lists show the probability and interval (default False: band, reasons, levers only).
    interval_level : float
        Level of the per-person interval used for the uncertain mark.
    summary_level : float
        Level of the expected-leavers interval in team summaries.
    min_group : int
        No aggregate for a group smaller than this (people).
    cutoff_months : int
        The horizon the cut-offs are stated for (12: probabilities of leaving within a year).
        :meth:`for_horizon` turns them into a scoring's horizon.
    """

    medium: float = float(SHIPPED["bands"]["medium"])
    high: float = float(SHIPPED["bands"]["high"])
    show_probability: bool = bool(SHIPPED["display"]["show_probability"])
    interval_level: float = float(SHIPPED["uncertainty"]["interval_level"])
    summary_level: float = float(SHIPPED["summary"]["interval_level"])
    min_group: int = int(SHIPPED["summary"]["min_group"])
    cutoff_months: int = int(SHIPPED["bands"]["horizon_months"])
    source: str = field(default="built-in", compare=False)
    # (medium, high, months) as the bands file states them, when for_horizon scaled them
    scaled_from: tuple | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        return asdict(self)

    def for_horizon(self, horizon_months: int | None) -> BandConfig:
        """The cut-offs for risks of leaving within ``horizon_months`` (None: unchanged, horizon unknown).

        A 6-month risk is smaller than a 12-month one for the same person, so annual cut-offs would put
        nearly everyone in "low". Each cut-off is scaled as the turnover target is
        (:func:`scale_to_horizon`): the chance of leaving within H months at the steady monthly rate that
        the cut-off gives over ``cutoff_months``. The result states its own horizon (``cutoff_months``).
        """
        if horizon_months is None or int(horizon_months) == self.cutoff_months:
            return self
        h = int(horizon_months)
        return replace(self, medium=scale_to_horizon(self.medium, h, per_months=self.cutoff_months),
                       high=scale_to_horizon(self.high, h, per_months=self.cutoff_months), cutoff_months=h,
                       scaled_from=self.scaled_from or (self.medium, self.high, self.cutoff_months))

    def cutoffs_record(self) -> dict:
        """The cut-offs as lists and score_meta record them: values used, their horizon, and how they were made."""
        out = {"medium": round(self.medium, 4), "high": round(self.high, 4), "horizon_months": self.cutoff_months}
        if self.scaled_from is not None:
            m, h, months = self.scaled_from
            out["scaled_from"] = {"medium": m, "high": h, "horizon_months": months,
                                  "rule": f"1 - (1 - cut-off) ** ({self.cutoff_months} / {months})"}
        return out


def scale_to_horizon(p: float, horizon_months: int, *, per_months: int = 12) -> float:
    """The probability of leaving within ``horizon_months`` at the steady monthly rate that gives ``p``
    within ``per_months``: 1 - (1 - p) ** (H / per_months). The one conversion of an annual rate (band
    cut-offs, the turnover target) to a scoring's horizon.

    >>> round(scale_to_horizon(0.15, 6), 4)
    0.078
    """
    return 1.0 - (1.0 - float(p)) ** (int(horizon_months) / float(per_months))


def default_config_path() -> Path:
    return BANDS_FILE


def load_band_config(path: str | Path | None = None) -> BandConfig:
    """Read band cut-offs and display choices from a TOML file (default: retention_ml/risk_bands.toml)."""
    path = Path(path) if path is not None else default_config_path()
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    # a key the file leaves out takes the shipped value
    bands, display, unc, summ = ({**SHIPPED[s], **raw.get(s, {})} for s in ("bands", "display", "uncertainty", "summary"))
    cfg = BandConfig(
        medium=float(bands["medium"]),
        high=float(bands["high"]),
        show_probability=bool(display["show_probability"]),
        interval_level=float(unc["interval_level"]),
        summary_level=float(summ["interval_level"]),
        min_group=int(summ["min_group"]),
        cutoff_months=int(bands["horizon_months"]),
        source=str(path),
    )
    if not 0 < cfg.medium < cfg.high < 1:
        raise ValueError(f"{path}: [bands] needs 0 < medium < high < 1, got medium={cfg.medium}, high={cfg.high}")
    if cfg.cutoff_months < 1:
        raise ValueError(f"{path}: [bands] horizon_months = {cfg.cutoff_months}; the months the cut-offs are stated "
                         "for must be a whole number of at least 1 (12 for yearly probabilities)")
    if cfg.min_group < MIN_GROUP:
        # The floor is the project's rule, not a setting: below it a team's figures describe too few people
        # (with one person, "expected leavers" is their own probability, which show_probability may hide).
        raise ValueError(f"{path}: [summary] min_group = {cfg.min_group} is below {MIN_GROUP} (rule: no aggregate "
                         f"for a group under {MIN_GROUP} people; a council may raise the floor, not lower it)")
    return cfg


def assign_bands(risk, *, config: BandConfig) -> np.ndarray:
    """Band per probability: 'low' below ``medium``, 'high' at or above ``high``, else 'medium'."""
    r = np.asarray(risk, dtype=float)
    idx = np.searchsorted([config.medium, config.high], r, side="right")
    return np.asarray(RISK_BANDS, dtype=object)[idx]


def straddles_band(risk_low, risk_high, *, config: BandConfig) -> np.ndarray:
    """True where the interval [low, high] crosses a band cut-off (the band could be another one)."""
    lo, hi = np.asarray(risk_low, dtype=float), np.asarray(risk_high, dtype=float)
    cuts = np.array([config.medium, config.high])
    crosses = (lo[:, None] < cuts[None, :]) & (hi[:, None] >= cuts[None, :])
    return crosses.any(axis=1)


def poisson_binomial_pmf(p) -> np.ndarray:
    """Exact distribution of the number of events among independent Bernoulli(p_i) (Poisson-binomial).

    Uses the discrete Fourier transform of the probability generating function, vectorised over people
    (no normal approximation). Returns an array of length n + 1: P(K = k), k = 0..n.
    """
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    n = p.size
    if n == 0:
        return np.ones(1)
    w = np.exp(2j * np.pi * np.arange(n + 1) / (n + 1))
    # Work on the log scale so large teams do not underflow the product.
    terms = 1.0 - p[None, :] + p[None, :] * w[:, None]
    phi = np.exp(np.log(terms).sum(axis=1))
    pmf = np.real(np.fft.fft(phi)) / (n + 1)
    pmf = np.clip(pmf, 0.0, None)
    return pmf / pmf.sum()


def expected_leavers_interval(p, *, level: float = 0.8) -> tuple[float, int, int]:
    """Expected count and equal-tailed ``level`` interval (integers) of leavers from individual risks.

    Example
    -------
    Two people at 50%: P(0 leave) = 0.25, P(1) = 0.5, P(2) = 0.25, so the middle 50% runs from 0 to 1
    (the lower 25% tail ends at 0, the upper one starts at 2):

    >>> expected_leavers_interval([0.5, 0.5], level=0.5)
    (1.0, 0, 1)
    """
    p = np.asarray(p, dtype=float)
    pmf = poisson_binomial_pmf(p)
    cdf = np.cumsum(pmf)
    tail = (1.0 - level) / 2.0
    low = int(np.searchsorted(cdf, tail - 1e-12, side="left"))
    high = int(np.searchsorted(cdf, 1.0 - tail - 1e-12, side="left"))
    return float(p.sum()), low, min(high, p.size)


def select_teams(scores: pd.DataFrame, *, team: list[str] | None = None, manager: str | None = None) -> list[str]:
    """Teams in scope: the named team(s), or every team the manager manages. Raises if none match."""
    if team:
        known = set(scores["team_id"].astype(str))
        missing = [t for t in team if t not in known]
        if missing:
            raise KeyError(f"no scored workers in team(s) {', '.join(missing)}")
        return sorted(set(team))
    if manager is not None:
        teams = sorted(set(scores.loc[scores["manager_id"].astype(str) == str(manager), "team_id"].astype(str)))
        if not teams:
            raise KeyError(f"manager {manager} manages no scored team")
        return teams
    return sorted(set(scores["team_id"].astype(str)))


#: the change cell of every row when the previous scoring was by another model (see model_changed)
MODEL_CHANGED_CHANGE = "not compared: new model"


def model_changed(meta: dict) -> bool:
    """True when the scoring's previous one (score_meta's ``previous_run_id``) was made by another model than its
    own ``run_id``: a band change then mixes what changed for the person with what changed in the model, which a
    manager cannot tell apart, so the lists show none (:func:`change_line` says why)."""
    before, now = meta.get("previous_run_id"), meta.get("run_id")
    return bool(meta.get("previous_as_of")) and bool(before) and bool(now) and str(before) != str(now)


def _change(scores: pd.DataFrame, config: BandConfig, *, new_model: bool = False) -> pd.Series:
    # score writes risk_previous only when it compared with an earlier scoring; within it, a missing value is
    # someone not in that scoring, even when the rows given here (one new team, one service) are all such people
    if new_model:   # older scorings carried the other model's risk: never shown as a person's change
        return pd.Series(MODEL_CHANGED_CHANGE, index=scores.index, dtype=object)
    if "risk_previous" not in scores:
        return pd.Series("no previous scoring", index=scores.index, dtype=object)
    prev = scores["risk_previous"].astype(float)
    prev_band = pd.Series(assign_bands(prev.fillna(0.0), config=config), index=scores.index)
    rank = {b: i for i, b in enumerate(RISK_BANDS)}
    now_r, prev_r = scores["band"].map(rank), prev_band.map(rank)
    text = np.select(
        [prev.isna(), now_r > prev_r, now_r < prev_r],
        ["new since last scoring", "up from " + prev_band, "down from " + prev_band],
        default="same band",
    )
    text = pd.Series(text, index=scores.index, dtype=object)
    if config.show_probability:
        delta = ((scores["risk"] - prev) * 100).round(0)
        # a change that rounds to no points says nothing the band does not ("same band", not "(+0 points)")
        text = text.where(prev.isna() | (delta == 0), text + " (" + delta.map(lambda d: f"{d:+.0f}") + " points)")
    return text


@dataclass
class TeamList:
    """One ranked list and its summary: one team's (already scoped to it), or a service's team managers."""

    team_id: str
    rows: pd.DataFrame
    summary: dict
    heading: str = ""   # what the list is called where people read it; a team's list: "Team <team_id>"

    def title(self) -> str:
        return self.heading or f"Team {self.team_id}"


def _manager_status(scoped_team: pd.DataFrame) -> str:
    """'excluded' (the team's manager is scored, so taken off the list), 'none recorded', or 'not in team'."""
    mgr = scoped_team["manager_id"] if "manager_id" in scoped_team else pd.Series(dtype=object)
    if len(scoped_team) and mgr.isna().all():
        return "none recorded"
    return "excluded" if team_manager_rows(scoped_team).any() else "not in team"


def leaving_rows(scores: pd.DataFrame) -> np.ndarray:
    """True where the scores mark a recorded leaving date (scorings made before the mark: nobody)."""
    if LEAVING_FLAG not in scores:
        return np.zeros(len(scores), dtype=bool)
    return scores[LEAVING_FLAG].eq(True).to_numpy(bool)


def _team_summary(team_id: str, team: pd.DataFrame, config: BandConfig, *, manager: str) -> dict:
    """Figures for the people listed (the team's manager is not among them, see MANAGER_LINE)."""
    out = {**_group_summary(team_id, team, config, listed="people"), "manager": manager}
    if out["people"] is None:
        out["note"] = f"No team figures: fewer than {config.min_group} people listed."
        return out
    if "target_turnover" in team and team["target_turnover"].notna().any():
        # an annual rate: summary_text turns it into leavers over the scoring's horizon (target_leavers)
        out["target_turnover"] = float(team["target_turnover"].dropna().iloc[0])
        out.update(_own_staff_summary(team, config))
    out.update(_caseload_summary(team, config))
    if "caseload_cap" in team and team["caseload_cap"].notna().any():
        out["caseload_cap"] = float(team["caseload_cap"].dropna().iloc[0])
    return out


def _own_staff_summary(team: pd.DataFrame, config: BandConfig) -> dict:
    """The council's own staff among the people listed (permanent and fixed-term: everyone but agency workers)
    and their expected leavers, for the target line (:func:`summary_text`); {} when the scores carry no
    employment type for everyone listed (scorings before it was carried).

    Own staff and agency workers both of the floor or more (or no agency worker): otherwise the own-staff
    figures, taken from the whole list's, would give the other group's expected leavers for fewer than
    ``min_group`` people, so they are withheld (``own_staff`` None) and the line compares everyone listed.
    """
    if "employment_type" not in team or team["employment_type"].isna().any():
        return {}
    own = team["employment_type"].astype(str).ne(AGENCY).to_numpy(bool)
    n_own, n_agency = int(own.sum()), int((~own).sum())
    if n_own < config.min_group or 0 < n_agency < config.min_group:
        return {"own_staff": None, "own_staff_floor": config.min_group}
    return {"own_staff": n_own, "own_expected_leavers": round(float(team["risk"].to_numpy(float)[own].sum()), 1)}


#: what a turnover target counts, beside expected leavers that count everyone listed leaving by their own choice
TARGET_COUNTS = ("the expected leavers count everyone listed leaving of their own choice; a turnover target counts "
                 "the council's own staff, not agency workers, leaving for any reason, as the DfE does")
#: what stays unlike once both sides count the own staff listed
TARGET_REASON = "the target counts leaving for any reason, the expected leavers leaving by choice"
#: the same, where the own staff are too few (or agency workers too few) to be counted apart from everyone listed
TARGET_EVERYONE = "the target counts own staff leaving for any reason, the expected leavers everyone leaving by choice"


def target_leavers(target_turnover: float, people: int, horizon_months: int) -> float:
    """Leavers the annual turnover target allows among ``people`` over ``horizon_months`` (unrounded).

    Each listed risk is a probability of leaving within the horizon, and the expected leavers are their sum
    over the people listed now (nobody replaces them in the count). The like-for-like target is then the
    same kind of figure: the probability of leaving within H months that a yearly leaving share t gives at
    a steady monthly rate, 1 - (1 - t) ** (H / 12), per person, times the people listed. At H = 12 it is
    t * people exactly; below a year it is a little above t * H / 12, which is the rate with leavers
    replaced and their replacements leaving too, not what the expected leavers count.

    >>> round(target_leavers(0.12, 9, 6), 2)
    0.56
    """
    return people * scale_to_horizon(target_turnover, horizon_months)


def _caseload_summary(team: pd.DataFrame, config: BandConfig) -> dict:
    """Mean caseload of case-holding staff (caseload_current > 0), per FTE when the scores carry ``fte``.

    Staff holding no cases (managers, people just starting) would pull the mean under the cap that only
    case-holders work to. Per FTE is total cases / total FTE of the case-holders, the workforce statistics'
    definition. Fewer than ``min_group`` case-holders: no mean (it would be an aggregate of a small group).
    """
    if "caseload_current" not in team or team["caseload_current"].notna().sum() == 0:
        return {}
    cases = team["caseload_current"].astype(float)
    holders = cases > 0
    if int(holders.sum()) < config.min_group:
        return {"caseload_holders": None, "min_group": config.min_group}
    out = {"caseload_holders": int(holders.sum())}
    fte = team["fte"].astype(float) if "fte" in team else None
    if fte is not None and fte[holders].notna().all() and (fte[holders] > 0).all():
        out["mean_caseload_per_fte"] = round(float(cases[holders].sum() / fte[holders].sum()), 1)
    else:
        out["mean_caseload"] = round(float(cases[holders].mean()), 1)
    return out


# What people read in Excel and HTML headers. The CSV keeps the raw names (for machines) and says what
# they mean in a '#' line (COLUMN_MEANINGS).
COLUMN_LABELS = {
    "rank": "Rank", "worker_id": "Worker (pseudonymous id)", "display_name": "Name", "role": "Role",
    "team_id": "Team", "months_in_post": "Months in post", "band": "Risk band", "change": "Change since last scoring",
    "risk": "Probability of leaving", "risk_low": "Probability, interval low", "risk_high": "Probability, interval high",
    "uncertain": "Band uncertain",
    **{f"reason_{i}": f"Reason {i}" for i in (1, 2, 3)}, **{f"lever_{i}": f"Suggested lever {i}" for i in (1, 2, 3)},
}
COLUMN_MEANINGS = {
    "rank": "1 for the highest risk in the team", "worker_id": "pseudonymous worker id", "display_name": "name",
    "role": "job role code", "team_id": "team id", "months_in_post": "whole months in this post",
    "band": "risk band low/medium/high", "change": "band change since the last scoring",
    "risk": "probability of leaving", "risk_low": "low end of its interval", "risk_high": "high end of its interval",
    "uncertain": "True when the person's band could as well be the next one up or down (their interval crosses a band cut-off)",
    "reason_1": "reasons raising the risk, strongest first (reason_2, reason_3 likewise)",
    "lever_1": "suggested lever for reason_1 (lever_2, lever_3 likewise; none in the low band)",
}


# The probability columns (shown only when the council chooses): a chance is read with its period, and in percent.
PROBABILITY_COLUMNS = ("risk", "risk_low", "risk_high")
PERCENT_DECIMALS = 1   # 14.9% is low beside a 15% cut-off; rounded to 15% it would read as medium


def column_label(col: str, horizon_months: int | None = None) -> str:
    """Human header for a list column (Excel, HTML); a probability's header names its period when known."""
    label = COLUMN_LABELS.get(col, col.replace("_", " ").capitalize())
    if col in PROBABILITY_COLUMNS and horizon_months is not None:
        label += f" ({_period(horizon_months).removeprefix('in the ')})"
    return label


def percent_cells(values) -> list[str]:
    """Probabilities as a list reads them (HTML): 0.173 -> "17.3%"; a missing one stays empty."""
    return ["" if pd.isna(v) else f"{float(v) * 100:.{PERCENT_DECIMALS}f}%" for v in values]


def display_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows as people read them (Excel, HTML): role codes with spaces ('team manager'); headers unchanged."""
    out = rows.copy()
    if "role" in out:
        out["role"] = out["role"].astype(object).where(out["role"].isna(), out["role"].astype(str).str.replace("_", " "))
    return out


def csv_columns_line(columns, *, managers_list: bool = False, horizon_months: int | None = None) -> str:
    """One line saying what the CSV's raw column names mean (rank counts within a service's managers there)."""
    meanings = {**COLUMN_MEANINGS, **({"rank": "1 for the highest risk among the service's team managers",
                                        "team_id": "the team the person manages"} if managers_list else {})}
    # the CSV keeps probabilities as numbers for machines: say their scale and period
    meanings["risk"] = f"probability of leaving {_period(horizon_months)}, from 0 to 1 (0.15 is 15%)"
    shown = [f"{c} = {meanings[c]}" for c in columns if c in meanings]
    return "columns: " + "; ".join(shown)


def list_columns(*, config: BandConfig, names: bool) -> list[str]:
    cols = ["rank", "worker_id"] + (["display_name"] if names else []) + ["role", "team_id", "months_in_post", "band", "change"]
    if config.show_probability:
        cols += ["risk", "risk_low", "risk_high"]
    # each lever beside its reason: the manager reads what is raising the risk and what could help together
    return cols + ["uncertain", "reason_1", "lever_1", "reason_2", "lever_2", "reason_3", "lever_3"]


def team_manager_rows(scores: pd.DataFrame) -> pd.Series:
    """True where the row is a team's manager (worker_id equals the row's team manager_id).

    These rows leave their own team's list (MANAGER_LINE) and are listed for their head of service
    (:func:`build_service_manager_list`).
    """
    mgr = scores["manager_id"]
    return pd.Series(mgr.notna().to_numpy(bool) & (scores["worker_id"].astype(str) == mgr.astype(str)).to_numpy(bool),
                     index=scores.index)


def _prepare_rows(scoped: pd.DataFrame, config: BandConfig, names: bool,
                  new_model: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Bands, uncertain mark, change, reasons and levers as the lists show them; returns (rows, columns).
    ``new_model``: the previous scoring was by another model (:func:`model_changed`), so no change is shown."""
    scoped = scoped.copy()
    scoped["band"] = assign_bands(scoped["risk"], config=config)
    scoped["uncertain"] = straddles_band(scoped["risk_low"], scoped["risk_high"], config=config)
    scoped["change"] = _change(scoped, config, new_model=new_model)
    # Levers are shown as the scoring stored them, each beside its reason (explain.drivers.reason_levers);
    # a scoring without them shows none: a lever guessed from the profile could sit beside another reason.
    lever_cols = [f"lever_{i}" for i in (1, 2, 3)]
    stored = all(c in scoped for c in lever_cols)
    for c in ["reason_1", "reason_2", "reason_3", *lever_cols]:
        if c not in scoped:
            scoped[c] = ""
        scoped[c] = scoped[c].astype(object).where(scoped[c].notna(), "")
    scoped = drop_health_reasons(scoped)
    if stored:
        # a reason with no lever stored is one whose action is already offered beside an earlier reason
        # (reason_levers offers an action once per row): an empty cell would read as "nothing to suggest"
        reasons = scoped[["reason_1", "reason_2", "reason_3"]].to_numpy(dtype=object)
        levers = scoped[lever_cols].to_numpy(dtype=object)
        covered = (reasons != "") & (levers == "")
        if covered.any():
            levers[covered] = SAME_ACTION_LEVER
        # the band text says a low band suggests nothing beyond usual supervision (band_meaning_text): its rows
        # keep their reasons, which the manager can check, but suggest no action beside them
        levers[scoped["band"].to_numpy() == NO_LEVER_BAND] = ""
        scoped[lever_cols] = levers
    names = names and "display_name" in scoped
    # whole months in post: fractions of a month add nothing to a conversation
    scoped["months_in_post"] = np.floor(scoped["months_in_post"].astype(float)).astype("Int64")
    if config.show_probability:
        scoped[["risk", "risk_low", "risk_high"]] = scoped[["risk", "risk_low", "risk_high"]].astype(float).round(3)
    return scoped, list_columns(config=config, names=names)


def drop_health_reasons(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (with ``band``, reasons and levers as lists show them, "" for an empty slot) without the
    health-derived reasons of :data:`NO_HEALTH_BAND` rows (see HEALTH_LINE); each such reason leaves with its
    lever, and the row's other reasons move up in their order, so no gap hints that one was taken out.

    A reason is health-derived when its words are a withheld wording
    (:func:`retention_ml.explain.reasons.withheld_reason_texts`, driven by the ``health`` flag in data_schema/).
    """
    from retention_ml.explain.reasons import withheld_reason_texts

    reasons, levers = [f"reason_{i}" for i in (1, 2, 3)], [f"lever_{i}" for i in (1, 2, 3)]
    text = rows[reasons].to_numpy(dtype=object)
    drop = (rows["band"].to_numpy() == NO_HEALTH_BAND)[:, None] & np.isin(text, list(withheld_reason_texts()))
    if not drop.any():
        return rows
    order = np.argsort(drop, axis=1, kind="stable")   # kept slots first, in their order; dropped ones last
    moved = np.take_along_axis(drop, order, axis=1)
    out = rows.copy()
    for cols in (reasons, levers):
        values = np.take_along_axis(rows[cols].to_numpy(dtype=object), order, axis=1)
        values[moved] = ""
        out[cols] = values
    return out


def build_risk_lists(scores: pd.DataFrame, *, config: BandConfig, teams: list[str], names: bool = False,
                     new_model: bool = False) -> list[TeamList]:
    """One ranked list per team in ``teams`` (riskiest first), each holding only that team's rows.

    Bands and the uncertain mark are recomputed from the config so a council's cut-offs apply at ranking
    time. Names appear only when ``names`` is true and the scores carry ``display_name``. ``new_model``: the
    scoring's previous one was by another model (:func:`model_changed`), so no row shows a change.
    """
    in_scope = scores.loc[scores["team_id"].astype(str).isin(teams)]
    # A manager cannot hold a supportive conversation with themselves: their row leaves their team's list.
    # Nor is anyone whose leaving date is recorded a prompt for a retention conversation (LEAVING_LINE).
    listed = ~team_manager_rows(in_scope).to_numpy(bool) & ~leaving_rows(in_scope)
    scoped, cols = _prepare_rows(in_scope.loc[listed], config, names, new_model)
    scoped = scoped.sort_values(["team_id", "risk", "worker_id"], ascending=[True, False, True], kind="stable")
    scoped["rank"] = scoped.groupby("team_id").cumcount() + 1
    out = []
    # row positions per team, found once (a filter per team would be O(teams x rows) for `rank --all`)
    listed_at = scoped.groupby(scoped["team_id"].astype(str), sort=False).indices
    scope_at = in_scope.groupby(in_scope["team_id"].astype(str), sort=False).indices
    for team_id in sorted(scope_at):
        team = scoped.iloc[listed_at.get(team_id, [])]
        manager = _manager_status(in_scope.iloc[scope_at[team_id]])
        out.append(TeamList(team_id=team_id, rows=team[cols].reset_index(drop=True),
                            summary=_team_summary(team_id, team, config, manager=manager)))
    return out


def service_label(service: str) -> str:
    """A service code as people read it ('children_in_care' -> 'children in care')."""
    return str(service).replace("_", " ")


def service_manager_line(service: str, council: str | None = None) -> str:
    """The banner line of a service's team-manager list: who is listed and for whom."""
    where = f" in council {council}" if council else ""
    return (f"These are the team managers of the {service_label(service)} service{where}, listed for their head of "
            "service. A team manager is not listed in their own team's list: their supportive conversation "
            "belongs to their own manager or head of service.")


def build_service_manager_list(scores: pd.DataFrame, *, config: BandConfig, service: str, council: str | None = None,
                               service_of=None, names: bool = False, new_model: bool = False) -> list[TeamList]:
    """One ranked list (riskiest first) of the team managers of one service, for its head of service.

    A team manager is a row whose worker_id is their team's manager_id. ``service_of`` maps team_id to
    service (default: the scores' own ``service`` column); ``council`` narrows to one council (a head of
    service serves one council). Team members are never in this list; figures cover the managers listed
    and none are shown for fewer than ``config.min_group`` of them. Raises KeyError when no team manager
    of that service is scored.
    """
    return build_service_manager_lists(scores, config=config, services=[(council, service)], service_of=service_of,
                                       names=names, new_model=new_model)[(council, service)]


def build_service_manager_lists(scores: pd.DataFrame, *, config: BandConfig, services, service_of=None,
                                names: bool = False, new_model: bool = False) -> dict[tuple, list[TeamList]]:
    """:func:`build_service_manager_list` for every (council, service) of ``services`` (council None: every
    council's), in one pass: the team managers' rows are prepared together (bands, reasons and levers are per
    row) and cut per service, rather than the whole scoring being filtered once per service (940 times at
    national size). Returns {(council, service): lists}; raises KeyError for a service with no team manager scored.
    """
    managers = team_manager_rows(scores).to_numpy(bool)
    teams = scores["team_id"].astype(str)
    service_col = (scores["service"].astype(str) if service_of is None else teams.map(service_of)).to_numpy(object)
    council_col = scores["council_id"].astype(str).to_numpy(object)
    scored = set(zip(council_col[managers], service_col[managers]))
    scored |= {(None, s) for _, s in scored}   # council None: a service's team managers in every council
    listed = managers & ~leaving_rows(scores)
    rows, cols = _prepare_rows(scores.loc[listed], config, names, new_model)
    at = pd.Series(np.arange(len(rows))).groupby([council_col[listed], service_col[listed]], sort=False).indices
    for (_, s), positions in list(at.items()):
        at[(None, s)] = np.sort(np.concatenate([at.get((None, s), np.empty(0, np.int64)), positions]))
    out = {}
    for council, service in services:
        key = (None if council is None else str(council), str(service))
        if key not in scored:
            where = f" of council {council}" if council is not None else ""
            raise KeyError(f"no scored team manager in service {service}{where}")
        out[(council, service)] = _service_manager_list(rows.iloc[at.get(key, np.empty(0, np.int64))], cols, config,
                                                        service, council)
    return out


def _service_manager_list(rows: pd.DataFrame, cols: list[str], config: BandConfig, service: str,
                          council: str | None) -> list[TeamList]:
    """The team managers' list of one service from their prepared rows (in scoring order)."""
    rows = rows.sort_values(["risk", "worker_id"], ascending=[False, True], kind="stable")
    rows["rank"] = np.arange(1, len(rows) + 1)
    title = "Team managers"   # also the Excel sheet's name (31 characters at most)
    heading = f"Team managers of the {service_label(service)} service" + (f" (council {council})" if council else "")
    return [TeamList(team_id=title, rows=rows[cols].reset_index(drop=True),
                     summary=_group_summary(title, rows, config, listed="team managers"), heading=heading)]


def _group_summary(label: str, rows: pd.DataFrame, config: BandConfig, *, listed: str) -> dict:
    """Figures for a list that is not one team (a service's team managers): people and expected leavers only.

    Team caps and targets differ between the managers' teams, so none are summed here.
    """
    n = len(rows)
    out: dict = {"team_id": label, "people": n if n >= config.min_group else None, "listed": listed}
    if n < config.min_group:
        out["note"] = f"No figures: fewer than {config.min_group} {listed} listed."
        return out
    expected, lo, hi = expected_leavers_interval(rows["risk"].to_numpy(float), level=config.summary_level)
    out.update(expected_leavers=round(expected, 1), expected_low=lo, expected_high=hi,
               interval_level=config.summary_level)
    return out


def list_metadata(scores_meta: dict, *, config: BandConfig, teams: list[str], service: str | None = None,
                  council: str | None = None, head_of: tuple[str, str] | None = None) -> dict:
    """Metadata recorded with a list: only fields safe for the teams in scope (no council-wide counts).

    With ``service`` the list is that service's team managers, for their head of service: the manager
    rule line says so. With ``head_of`` = (council, service) the list holds that service's teams with no
    manager recorded, for the same head of service (:func:`banner_lines` names them). No wall-clock time,
    so the same scores and config give byte-identical lists.
    """
    keep = {k: scores_meta[k] for k in ("as_of", "previous_as_of", "previous_run_id", "model_ref", "run_id",
                                        "horizon_months", "approval")
            if k in scores_meta}
    if head_of is not None:
        scope = {"list": "no manager recorded", "council": head_of[0], "service": head_of[1]}
    else:
        scope = {} if service is None else {"list": "team managers", "service": service,
                                            **({"council": council} if council is not None else {})}
    if isinstance(scores_meta.get("population"), dict):   # who the model scores; no council-wide count of the others
        keep["population"] = {k: scores_meta["population"][k] for k in ("agency", "scored") if k in scores_meta["population"]}
    return {
        **keep,
        **scope,
        "teams": list(teams),
        "purpose": PURPOSE_LINE,
        "manager_rule": MANAGER_LINE if service is None else service_manager_line(service, council),
        "shows_probability": config.show_probability,
        "band_cutoffs": config.cutoffs_record(),
        "uncertain_rule": f"per-person {config.interval_level:.0%} interval crosses a band cut-off",
    }


def percent(p: float) -> str:
    """A probability as people read it on a list: 0.15 -> "15%", 0.078 -> "7.8%" (three figures at most)."""
    return f"{float(p) * 100:.3g}%"


def _band_ranges(cut: dict) -> dict[str, str]:
    """Each band's range in percent, with the edges as assign_bands draws them (a cut-off opens the band above)."""
    m, h = percent(cut.get("medium")), percent(cut.get("high"))
    return {"low": f"under {m}", "medium": f"{m} to under {h}", "high": f"{h} or more"}


def band_cutoffs_text(meta: dict) -> str:
    """The band cut-offs as people read them, in percent, with the horizon they are probabilities for."""
    cut = meta.get("band_cutoffs") or {}
    months = cut.get("horizon_months")
    within = f" (probability of leaving within {months} months)" if months else ""
    ranges = _band_ranges(cut)
    text = "Bands" + within + ": " + ", ".join(f"{band} {ranges[band]}" for band in RISK_BANDS)
    src = cut.get("scaled_from")
    if src:
        text += (f"; the bands file's {src['horizon_months']}-month cut-offs {percent(src['medium'])} and "
                 f"{percent(src['high'])} scaled to the model's {months}-month horizon")
    return text + "."


def band_meaning_text(meta: dict, *, heading: str = "What a band asks of you") -> str:
    """What a band asks of the person reading the list, in words they act on: what the risk is a chance of and
    over what horizon, what medium and high suggest (a conversation, using the levers) and what a band never is.

    The one text every list format (and the person's own view, explain --worker, under its own ``heading``)
    reads. It states no policy beyond the tool's purpose: the council decides what follows a conversation,
    never the list.
    """
    cut = meta.get("band_cutoffs") or {}
    months = meta.get("horizon_months")
    ranges = _band_ranges(cut)
    return (f"{heading}: the band is the model's estimate of the chance that the person leaves of "
            f"their own choice {_period(months)} (high: {ranges['high']}; medium: {ranges['medium']}; low: "
            f"{ranges['low']}). High and medium suggest offering them a supportive conversation about what would "
            "help them stay, starting from the reasons and suggested levers; what they say counts for more than "
            "the list. Low suggests nothing beyond usual supervision, so the lists show its reasons without suggested "
            "levers. A band is not a judgement of anyone's work "
            "or commitment: it is never a performance, capability or disciplinary matter, and decides nothing "
            "about the person.")


def uncertain_text(meta: dict) -> str:
    """What the "Band uncertain" mark tells a manager, and the rule behind it (list metadata's uncertain_rule)."""
    return (f"\"Band uncertain\" marks a person whose band could as well be the next one up or down (the "
            f"{meta.get('uncertain_rule', 'per-person interval crosses a band cut-off')}): read their band as approximate.")


def approval_line(meta: dict) -> tuple[str, str]:
    """The approval status as (kind, text): 'alert' unless the scoring records the model as approved.

    ``meta["approval"]`` is written by ``retention-ml score``: {"status": "approved" | "not approved",
    "detail": sentence}. Scorings made before it was recorded (or with any other status) read
    "approval unknown", also as an alert: a list must never look approved when nobody checked.
    """
    approval = meta.get("approval") or {}
    status, detail = approval.get("status"), str(approval.get("detail", "")).strip()
    if status == "approved":
        return "note", f"Approved: {detail}" if detail else "Approved: the model passed the promotion gate."
    if status == "not approved":
        return "alert", f"{NOT_APPROVED_LINE} {detail}".strip()
    return "alert", APPROVAL_UNKNOWN_LINE


def no_manager_line(teams: list[str], *, whole_list: bool, service: str | None = None, council: str | None = None) -> str:
    """Who reads the list of teams with no manager recorded: their head of service, named by service (and
    council) when the list is one service's, as the demo writes them (a head of service serves one council)."""
    which = f"team {teams[0]}" if len(teams) == 1 else "teams " + ", ".join(teams)
    whom = "this list is" if whole_list else "their part of this list is"
    head = "the head of service"
    if service is not None:
        head = f"the head of the {service_label(service)} service" + (f" in council {council}" if council else "")
    return (f"No manager is recorded for {which}: {whom} for {head}, and it lists everyone in post in "
            + ("the team." if len(teams) == 1 else "each team."))


def change_line(previous_as_of: str | None, *, new_model: bool = False) -> str:
    """What "Change since last scoring" compares with, as people read it (score_meta's previous_as_of); with
    ``new_model`` (:func:`model_changed`) why no change is shown."""
    if not previous_as_of:
        return ("Change since last scoring: no earlier scoring of these data was found, so there is nothing to "
                "compare with this time.")
    if new_model:
        return (f"Change since last scoring is not shown this time: the scoring of {previous_as_of} was made with an "
                "earlier model, and the model has since been updated, so a change of band would mix what changed for "
                "the person with what changed in the model. Read each band as it stands; the change returns with the "
                "next scoring by this model. " + model_change_line(previous_as_of))

    return (f"Change since last scoring compares each person's band with the scoring of {previous_as_of}. "
            "\"New since last scoring\" is someone not in that scoring: they joined, or moved into this team "
            "(a move starts a new record in the HR extract). People who left since then are not listed.")


def model_change_line(previous_as_of: str) -> str:
    """Why figures after a change of model (:func:`model_changed`) are not set against earlier ones: said on the
    lists (with :func:`change_line`) and on the service overviews a head of service or a board compares month on
    month."""
    return (f"The bands and figures here come from the updated model and are not comparable with those of lists and "
            f"overviews of {previous_as_of} and before: a rise or fall against them can be the model's, not the "
            "workforce's.")


def banner_lines(meta: dict, lists: list[TeamList] = ()) -> list[tuple[str, str]]:
    """The lines that head every list format, most important first, as (kind, text).

    kind is 'alert' (must be seen before anything else: model not approved), 'purpose' (what the list
    is for) or 'note' (how to read it); every writer shows them all, alerts most prominently.
    With ``lists``, teams with no manager recorded are named after the manager rule, as being for the
    head of service (a list with no manager to give it to must still say whose it is).
    """
    lines = [approval_line(meta), ("purpose", PURPOSE_LINE)]
    if meta.get("band_cutoffs"):
        lines.append(("note", band_meaning_text(meta)))
    lines += [("note", meta.get("manager_rule", MANAGER_LINE)), ("note", LEAVING_LINE), ("note", HEALTH_LINE)]
    lines.append(("note", change_line(meta.get("previous_as_of"), new_model=model_changed(meta))))
    population = meta.get("population") or {}
    if population.get("agency") in ("exclude", "only"):   # people outside the model's population are in no list
        lines.append(("note", f"This model scores {population['scored']}; they are in no list."))
    unmanaged = [tl.team_id for tl in lists if tl.summary.get("manager") == "none recorded"]
    if unmanaged and meta.get("list") != "team managers":
        lines.append(("note", no_manager_line(unmanaged, whole_list=len(unmanaged) == len(lists),
                                              service=meta.get("service"), council=meta.get("council"))))
    return lines


def _period(horizon_months: int | None) -> str:
    if horizon_months is None:
        return "within the model's horizon (not recorded with this scoring)"
    n = int(horizon_months)
    return f"in the next {n} months" if n != 1 else "in the next month"


def summary_text(summary: dict, horizon_months: int | None = None) -> str:
    """One-line plain-language team summary (figures cover the people listed, not the team's manager).

    ``horizon_months`` (from the scoring's metadata) names the period the expected leavers cover.
    """
    manager = {"excluded": "The team manager is not listed or counted here.",
               "none recorded": "No manager is recorded for this team: its list is for the head of service."}.get(summary.get("manager", ""), "")
    if summary.get("people") is None:
        return " ".join(x for x in (summary.get("note", ""), manager) if x)
    parts = [
        f"{summary['people']} {summary.get('listed', 'people')} listed. Expected leavers {_period(horizon_months)}: {summary['expected_leavers']} "
        f"({summary['interval_level']:.0%} interval {summary['expected_low']}-{summary['expected_high']})"
    ]
    # The target is annual; beside leavers over a horizon it is shown for that same horizon, and not at all
    # when the horizon is not recorded (an annual count beside "the model's horizon" would be compared anyway).
    if "target_turnover" in summary and horizon_months is not None:
        parts.append(_target_part(summary, int(horizon_months)))
    holders = f"case-holding staff ({summary.get('caseload_holders')} with open cases)"
    cap = summary.get("caseload_cap")
    if "mean_caseload_per_fte" in summary:
        # total cases / total FTE of the case-holders: the same unit as the cap, which is per full-time post
        against = f" against a cap of {cap:g} per full-time post" if cap is not None else ""
        parts.append(f"caseload per full-time post of {holders} {summary['mean_caseload_per_fte']}{against}")
    elif "mean_caseload" in summary:
        # no FTE in the scores: a per-person mean, which part-timers pull below a per-post figure
        against = (f" (the cap of {cap:g} is per full-time post; this scoring records no FTE to compare it with)"
                   if cap is not None else "")
        parts.append(f"mean caseload per person of {holders} {summary['mean_caseload']}{against}")
    elif "caseload_holders" in summary:
        parts.append(f"no mean caseload: fewer than {summary['min_group']} staff with open cases")
    return "; ".join(parts) + "." + (f" {manager}" if manager else "")


def _target_part(summary: dict, months: int) -> str:
    """The target line: the annual target over the horizon beside the expected leavers it is compared with."""
    period = f"{months} months" if months != 1 else "1 month"
    head = f"target turnover {summary['target_turnover']:.0%} a year = "
    own = summary.get("own_staff")
    if own is not None:
        # Like for like where the scores allow: a turnover target counts the council's own staff (the DfE rate),
        # so it is applied to the own staff listed, per person as the expected leavers count people (the DfE rate
        # is per FTE; per person they differ only where part-timers leave at another rate), and set beside the
        # expected leavers among those same people. What stays unlike is said: the model's leaving is by choice.
        allowed = round(target_leavers(summary["target_turnover"], own, months), 1)
        return (f"{head}{allowed} leavers in {period} among the {own} own staff listed (not agency workers), against "
                f"{summary['own_expected_leavers']} expected to leave among them ({TARGET_REASON})")
    # No employment type, or own staff or agency workers too few to count apart: the target over everyone listed.
    allowed = round(target_leavers(summary["target_turnover"], summary["people"], months), 1)
    if "own_staff" in summary:
        return (f"{head}{allowed} leavers in {period} if applied to everyone listed, agency workers too (fewer than "
                f"{summary['own_staff_floor']} own staff or agency workers to count apart; {TARGET_EVERYONE})")
    return f"{head}{allowed} leavers in {period} if applied to everyone listed ({TARGET_COUNTS})"


# A cell a spreadsheet would run: text from the HR extract (a name, an id) opening with one of these is read as a
# formula when the CSV is opened in Excel or LibreOffice ("=HYPERLINK(...)" sends the row to a web site).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with every text cell that opens like a formula prefixed with ``'`` (the OWASP CSV rule),
    so a spreadsheet shows it as text; numbers, booleans and other text are unchanged."""
    text = [col for col in rows.columns if pd.api.types.infer_dtype(rows[col], skipna=True) in ("string", "mixed")]
    if not text or not len(rows):
        return rows
    # every text cell checked in one pass: a check per column cost rank --all a pandas call per column of 7,000 files
    cells = rows[text].to_numpy(dtype=object)
    risky = pd.Series(cells.ravel()).str.startswith(FORMULA_START, na=False).to_numpy(bool).reshape(cells.shape)
    # almost no list has such a cell: copying and assigning regardless cost rank --all half its time at national
    # size (6,000 files)
    if not risky.any():
        return rows
    out = rows.copy()
    for j, col in enumerate(text):
        if risky[:, j].any():
            values = out[col].astype(object).to_numpy(copy=True)
            values[risky[:, j]] = ("'" + out[col][risky[:, j]].astype(str)).to_numpy()
            out[col] = values
    return out


# What ends the '#' lines above a CSV's table: a blank line. A spreadsheet opening the CSV splits each '#' line at
# its commas into cells; touching the header, they joined the table's block, so Excel's filter and sort took the
# first '#' line for the header and sorted the other lines in among the people. pandas skips the blank line.
NOTES_END = "\n\n"


def write_csv(lists: list[TeamList], meta: dict, path: str | Path) -> Path:
    """Write the lists as one CSV: '#' lines on top (purpose, choices, team summaries), then the rows."""
    import json

    from retention_ml.io import atomic_path

    path = Path(path)
    header = [f"# {text}" for _, text in banner_lines(meta, lists)]
    header += [f"# list settings: {json.dumps(meta, default=str)}"]
    header += [f"# {csv_columns_line(lists[0].rows.columns if lists else [], managers_list=meta.get('list') == 'team managers', horizon_months=meta.get('horizon_months'))}"]
    header += [f"# {tl.heading or 'team ' + tl.team_id}: {summary_text(tl.summary, meta.get('horizon_months'))}"
               for tl in lists]
    rows = neutralise_formulas(pd.concat([tl.rows for tl in lists], ignore_index=True))
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(header) + NOTES_END)
            rows.to_csv(fh, index=False, lineterminator="\n")
    return path
