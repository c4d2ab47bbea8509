"""What the simulated months bring from outside the teams: the calendar, demand, housing costs and agency rates.

Every path is drawn once, before the first month, as a (months x councils) or (months x areas) array, so the
monthly engine only indexes it. The draws use the run's generator in a fixed order (calendar, demand, housing,
agency rates): the same seed gives the same paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retention_ml.simulate.config import NATIONAL, Scenario
from retention_ml.simulate.councils import World
from retention_ml.simulate.pay import AGENCY_DAYS, pay_index, salary

__all__ = ["Calendar", "Housing", "agency_day_rates", "calendar", "demand_paths", "housing_paths", "months_after",
           "national"]

AGENCY_SHARES_CASES = 1.05  # agency-only posts hold cases too: demand per post is raised by their share
SEASON_AMPLITUDE = 0.05     # caseload demand swings +-5% over the year


@dataclass(frozen=True)
class Calendar:
    """The simulated months, one entry per month.

    ``months``: month starts (datetime64[D]); ``years``: calendar year; ``mnum``: month of the year, 1-12;
    ``report_year``: the DfE reporting year the month counts towards (the year ending 30 September, so
    October to December count towards the next calendar year).
    """

    months: np.ndarray
    years: np.ndarray
    mnum: np.ndarray
    report_year: np.ndarray

    def __len__(self) -> int:
        return len(self.months)


def calendar(start: np.datetime64, n_months: int) -> Calendar:
    """The ``n_months`` months from ``start`` (a month start, datetime64[D])."""
    months = np.array([np.datetime64(start, "M") + i for i in range(n_months)]).astype("datetime64[D]")
    years = months.astype("datetime64[Y]").astype(int) + 1970
    mnum = months.astype("datetime64[M]").astype(int) % 12 + 1
    return Calendar(months=months, years=years, mnum=mnum, report_year=years + (mnum >= 10))


def months_after(start: np.datetime64, month: str) -> int:
    """Index of ``month`` (YYYY-MM) in a run starting at ``start``: 0 for the first month, negative before it."""
    return int((np.datetime64(month, "M") - np.datetime64(start, "M")).astype(int))


def national(report_year: np.ndarray, key: str) -> np.ndarray:
    """The DfE national figure ``key`` (``vacancy``: %, ``caseload``: cases per FTE) for each reporting year,
    years outside the table taking its nearest year (2017 or 2026)."""
    return np.array([NATIONAL[min(max(y, 2017), 2026)][key] for y in report_year])


def _rise_and_fade(elapsed: np.ndarray) -> np.ndarray:
    """Shape of a referral shock by months since it began: 0 before, a linear rise to 1 over 6 months, then
    an exponential fade with an 18-month time constant."""
    return np.where(elapsed < 0, 0, np.where(elapsed < 6, elapsed / 6, np.exp(-(elapsed - 6) / 18)))


def _random_shocks(rng: np.random.Generator, n_months: int, n_c: int) -> np.ndarray:
    """Referral shocks, (months x councils) as a share of demand: a quarter of councils get one at a random
    month, mostly +10-40%, one in twenty +80%."""
    has = rng.random(n_c) < 0.25
    s_at = rng.integers(0, max(1, n_months - 6), n_c)
    size = rng.uniform(0.1, 0.4, n_c) * (rng.random(n_c) < 0.95) + 0.8 * (rng.random(n_c) < 0.05)
    shape = _rise_and_fade(np.arange(n_months)[:, None] - s_at[None, :])
    return np.zeros((n_months, n_c)) + np.where(has, size, 0)[None, :] * shape


def _scenario_shock(shock: np.ndarray, scenario: Scenario, start: np.datetime64) -> None:
    """Add the scenario's referral shock (share of demand, from ``shock_start``) to the first
    ``shock_councils`` councils of ``shock`` (months x councils), in place."""
    if not (scenario.referral_shock and scenario.shock_start):
        return
    n_months, n_c = shock.shape
    shp = _rise_and_fade(np.arange(n_months) - months_after(start, scenario.shock_start))
    k = min(scenario.shock_councils, n_c)
    shock[:, :k] += scenario.referral_shock * shp[:, None]


def demand_paths(rng: np.random.Generator, world: World, scenario: Scenario, cal: Calendar,
                 start: np.datetime64) -> np.ndarray:
    """Cases per post, (months x councils): the national caseload of the reporting year x season x the
    council's demand pressure x a slow random drift (0.6% a month) x referral shocks (random and scenario).

    ``start``: the first month (datetime64), to place the scenario's ``shock_start``.
    """
    n_months, n_c = len(cal), world.n_councils
    season = 1 + SEASON_AMPLITUDE * np.sin(2 * np.pi * (cal.mnum - 1) / 12)
    drift = np.exp(np.cumsum(rng.normal(0, 0.006, (n_months, n_c)), axis=0))
    shock = _random_shocks(rng, n_months, n_c)
    _scenario_shock(shock, scenario, start)
    nat_case = national(cal.report_year, "caseload")
    return (nat_case[:, None] * season[:, None] * world.council_demand[None, :] * drift * (1 + shock)
            * AGENCY_SHARES_CASES)


@dataclass(frozen=True)
class Housing:
    """Housing costs by month and area: ``rent`` (GBP per month) and ``price`` (GBP), both (months x areas);
    ``growth_year`` (years from the first x areas): each year's annual growth, a fraction."""

    rent: np.ndarray
    price: np.ndarray
    growth_year: np.ndarray


def housing_paths(rng: np.random.Generator, world: World, cal: Calendar) -> Housing:
    """Rent and price paths by area. Growth comes in hot years (10-17%; far likelier in areas whose trend
    is above 7%) rather than compounding for ever; other years 3.5% +- 1.5% (clipped to -2..8%), with 0.3%
    monthly noise."""
    n_months, n_a = len(cal), len(world.area_council)
    yrs = cal.years - cal.years[0]
    hot_year = rng.random((yrs.max() + 1, n_a)) < np.where(world.area_growth > 0.07, 0.35, 0.05)
    g_year = np.where(hot_year, rng.uniform(0.10, 0.17, hot_year.shape),
                      np.clip(rng.normal(0.035, 0.015, hot_year.shape), -0.02, 0.08))
    g_month = (1 + g_year[yrs]) ** (1 / 12) - 1
    noise = rng.normal(0, 0.003, (n_months, n_a))
    h_index = np.exp(np.cumsum(np.log1p(g_month + noise), axis=0))
    return Housing(rent=world.area_rent0[None, :] * h_index, price=world.area_price0[None, :] * h_index,
                   growth_year=g_year)


def agency_day_rates(rng: np.random.Generator, n_c: int, cal: Calendar) -> np.ndarray:
    """Agency day rate (GBP per day), (months x councils): 1.5-2.0 x the daily rate of a mid-band worker
    (each council its own premium), following the pay awards, with 1% monthly noise; whole pounds."""
    c_premium = rng.uniform(1.5, 2.0, n_c)
    mid_daily = salary(27, 1.0) / AGENCY_DAYS
    pidx = pay_index(cal.years, cal.mnum)
    return np.round(mid_daily * pidx[:, None] * c_premium[None, :] * (1 + rng.normal(0, 0.01, (len(cal), n_c))), 0)
