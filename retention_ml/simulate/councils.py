"""The simulated world that does not change with people: councils, areas, teams and their posts.

Council size follows the national spread of in-post FTE (DfE: 10th/50th/90th
percentile about 100/180/390 FTE); each council gets its own labour-market
pressure, hiring speed, agency habit, demand pressure and sickness culture,
which is what spreads council turnover, vacancy and agency rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

__all__ = ["SERVICES", "CAPS", "World", "build_world"]

SERVICES = ("referral_assessment", "safeguarding", "children_in_care", "care_leavers",
            "fostering_adoption", "disabled_children", "early_help")
# Share of posts by service and default caseload cap (cases per FTE) by team type (domain.md).
SERVICE_SHARE = np.array([0.24, 0.28, 0.20, 0.09, 0.07, 0.07, 0.05])
CAPS = np.array([22, 18, 18, 20, 16, 16, 20])
SIZE_EFFECT = 0.10  # logit of the leaving hazard per log-unit of council size (negative: bigger keeps staff)
# Monthly chance a vacant post gets agency cover: lognormal across councils, median 0.5. A wide spread
# (sd 1.2 on the log scale, few councils at the 0.95 ceiling) gives councils that rarely use agency
# staff (DfE 10th percentile of agency rate 3-6%) beside ones that cover nearly every vacancy.
AGENCY_MEDIAN, AGENCY_SD = 0.5, 1.2
# Council demand per post: lognormal sd 0.13 (with drift and shocks on top; vacant posts' cases only
# half shared out, workforce.SPILL) puts the 10th-90th spread of caseload per case-holding FTE within
# about 10% of the DfE one.
DEMAND_SD = 0.13


@dataclass
class World:
    """Arrays describing councils (c), areas (a), teams (t) and posts (slots, s)."""

    council_size: np.ndarray       # target in-post FTE
    council_offset: np.ndarray     # logit shift of the leaving hazard
    council_hire: np.ndarray       # monthly probability a vacant post is filled by a permanent hire
    council_agency: np.ndarray     # monthly probability a vacant post gets agency cover
    council_demand: np.ndarray     # demand pressure (1 = national)
    council_absence: np.ndarray    # sickness propensity multiplier
    council_retention: np.ndarray  # GBP/yr retention payment policy
    council_supplement: np.ndarray # GBP/yr supplement for high-pressure teams
    area_council: np.ndarray
    area_rent0: np.ndarray
    area_price0: np.ndarray
    area_growth: np.ndarray        # annual growth of rent and prices
    team_council: np.ndarray
    team_area: np.ndarray
    team_service: np.ndarray       # index into SERVICES
    team_cap: np.ndarray
    team_supervision: np.ndarray   # monthly probability of a supervision session
    team_target: np.ndarray
    slot_team: np.ndarray
    slot_fte: np.ndarray
    slot_manager: np.ndarray       # bool: the team manager's post

    @property
    def n_councils(self) -> int:
        return len(self.council_size)


def stratified_normal(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    """n normal draws, one from each of n equal-probability strata, in random order (Latin hypercube).

    The councils of England are a population, not a sample: stratifying makes the
    spread of council traits the same whatever the seed (a plain random draw of 150
    moves a council-level median by about 0.1 sd from seed to seed, enough to decide
    the calibration bars), while each council's trait stays random.
    """
    return mean + sd * ndtri((rng.permutation(n) + rng.random(n)) / n)


def build_world(rng: np.random.Generator, n_councils: int, *, caseload_cap: int | None = None) -> World:
    """Draw councils, areas and teams. Vectorised over councils/teams; sizes in FTE."""
    size = np.clip(np.exp(stratified_normal(rng, np.log(215), 0.55, n_councils)), 40, 1200)
    # larger councils keep staff better (DfE 2020-24: Spearman correlation of in-post FTE with turnover
    # -0.15 to -0.43, with vacancy and agency rates -0.1 to -0.37), so national turnover sits at or below
    # the council median as in the DfE file. Only the council's own part of the offset slows hiring
    # (tying hiring to size too made small councils spiral: turnover 90th percentile 5 pp above DfE).
    own = stratified_normal(rng, 0.0, 0.05, n_councils)
    offset = own - SIZE_EFFECT * (np.log(size) - np.log(215))
    hire = np.clip(np.exp(stratified_normal(rng, np.log(0.17), 0.55, n_councils) - 2.0 * own), 0.04, 0.6)
    agency = np.clip(np.exp(stratified_normal(rng, np.log(AGENCY_MEDIAN), AGENCY_SD, n_councils)), 0.01, 0.95)
    demand = np.exp(stratified_normal(rng, 0.0, DEMAND_SD, n_councils))
    absence = np.exp(stratified_normal(rng, 0.0, 0.42, n_councils))
    retention = np.where(rng.random(n_councils) < 0.3, rng.choice([1000.0, 1500.0, 2000.0, 3000.0], n_councils), 0.0)
    supplement = np.where(rng.random(n_councils) < 0.35, rng.choice([1500.0, 2000.0, 3000.0], n_councils), 0.0)

    n_areas = rng.integers(2, 5, n_councils)
    area_council = np.repeat(np.arange(n_councils), n_areas)
    n_a = len(area_council)
    hot = rng.random(n_a) < 0.2
    growth = np.where(hot, rng.uniform(0.08, 0.17, n_a), rng.uniform(0.0, 0.06, n_a))  # hot areas: hot years are likelier
    level = np.exp(rng.normal(0.0, 0.35, n_a))
    rent0 = np.clip(850 * level * np.where(hot, 1.25, 1.0), 450, 4000)
    price0 = np.clip(230_000 * level ** 1.3 * np.where(hot, 1.3, 1.0), 80_000, 1_500_000)

    # posts: team of about 8 posts (1 manager + workers); number of teams from council size
    n_teams = np.maximum(len(SERVICES) // 2, np.round(size / (7.5 * 0.93)).astype(int))
    team_council = np.repeat(np.arange(n_councils), n_teams)
    n_t = len(team_council)
    first_area = np.concatenate([[0], np.cumsum(n_areas)[:-1]])
    team_area = first_area[team_council] + (rng.random(n_t) * n_areas[team_council]).astype(int)
    team_service = rng.choice(len(SERVICES), n_t, p=SERVICE_SHARE)
    team_cap = CAPS[team_service] + rng.integers(-2, 3, n_t)
    if caseload_cap is not None:
        team_cap = np.full(n_t, int(caseload_cap))
    team_sup = np.clip(rng.beta(6, 2, n_t), 0.25, 0.98)
    team_target = rng.choice([0.10, 0.12, 0.15], n_t)
    team_posts = np.clip(rng.poisson(7.0, n_t), 4, 14)
    slot_team = np.repeat(np.arange(n_t), team_posts)
    first_slot = np.concatenate([[0], np.cumsum(team_posts)[:-1]])
    slot_manager = np.zeros(len(slot_team), bool)
    slot_manager[first_slot] = True
    slot_fte = np.where(rng.random(len(slot_team)) < 0.82, 1.0, rng.choice([0.5, 0.6, 0.8], len(slot_team)))
    slot_fte[slot_manager] = 1.0
    return World(size, offset, hire, agency, demand, absence, retention, supplement,
                 area_council, rent0, price0, growth,
                 team_council, team_area, team_service, team_cap, team_sup, team_target,
                 slot_team, slot_fte, slot_manager)
