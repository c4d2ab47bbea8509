"""Simulation settings: the scenario (policy knobs and shocks) and national calibration targets.

A scenario is a TOML file whose keys override :class:`Scenario` fields; an
unknown key is an error naming it, so a typo never silently does nothing.

Example
-------
>>> s = Scenario.from_dict({"caseload_cap": 15, "policy_start": "2022-04"})
>>> s.caseload_cap
15
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NATIONAL", "YEAR_FIT", "Scenario", "ScenarioError", "is_month", "load_scenario", "uncalibrated_years_warning",
           "year_fit_arrays"]

# National figures from the DfE "Children's social work workforce" indicators
# (years to 30 September; OGL v3). Turnover drives the year effect on the
# leaving hazard; caseload drives demand per case-holding FTE; the council median vacancy
# rate sets how hard it is to hire that year (recruitment market).
NATIONAL = {
    2017: {"turnover": 13.4, "caseload": 17.7, "vacancy": 15.1},
    2018: {"turnover": 15.1, "caseload": 17.4, "vacancy": 12.8},
    2019: {"turnover": 15.0, "caseload": 16.9, "vacancy": 13.95},
    2020: {"turnover": 13.5, "caseload": 16.3, "vacancy": 13.4},
    2021: {"turnover": 15.4, "caseload": 16.3, "vacancy": 14.55},
    2022: {"turnover": 17.2, "caseload": 16.6, "vacancy": 18.75},
    2023: {"turnover": 15.9, "caseload": 16.0, "vacancy": 17.5},
    2024: {"turnover": 13.9, "caseload": 15.5, "vacancy": 17.2},
    2025: {"turnover": 11.8, "caseload": 15.2, "vacancy": 14.4},
    2026: {"turnover": 11.8, "caseload": 15.2, "vacancy": 14.4},
}

# Fitted national market per reporting year, on top of the DfE-derived settings above:
# ``hazard`` is added to the logit of the leaving hazard (labour-market pull beyond the
# turnover ratio), ``hire`` multiplies every council's monthly hiring probability (recruitment
# market), ``agency`` multiplies every council's monthly chance of agency cover for a vacant post
# (agency market), ``absence`` multiplies the monthly chance of a sickness spell (sickness rose after
# 2021). They are national, the same for every council and person, and are fitted by
# :func:`retention_ml.simulate.calibration.fit_year_market` so that the council *medians* of
# turnover, vacancy, agency and absence follow the DfE medians year by year; the spread between
# councils comes from the councils' own traits, never from these. Years outside the
# fitted range use the nearest fitted year. Values below: 3 rounds at 150 councils x 72 months from
# 2019-01, medians averaged over seeds 0-2, refitted from the earlier values when internal moves stopped
# losing people (a mover without a post to go to now stays); the last round's medians were within 0.52 pp
# of the DfE turnover medians, 0.65 pp of vacancy, 0.84 pp of agency and 0.05 pp of absence (the remaining
# wobble is the sampling noise of a 150-council median, about 0.5-1 pp for vacancy and agency).
YEAR_FIT = {
    2019: {"hazard": 0.0209, "hire": 0.9058, "agency": 1.5448, "absence": 0.947},
    2020: {"hazard": 0.0209, "hire": 0.9058, "agency": 1.5448, "absence": 0.947},
    2021: {"hazard": 0.034, "hire": 0.8402, "agency": 0.8139, "absence": 1.0403},
    2022: {"hazard": 0.0856, "hire": 0.7769, "agency": 0.6393, "absence": 1.0449},
    2023: {"hazard": 0.0794, "hire": 0.9253, "agency": 0.9548, "absence": 1.1045},
    2024: {"hazard": 0.094, "hire": 0.799, "agency": 0.6889, "absence": 1.0681},
}


def year_fit_arrays(report_year, fit: dict | None = None) -> dict:
    """Per-month arrays (hazard shift, hire, agency and absence factors) for an array of reporting years."""
    import numpy as np

    fit = YEAR_FIT if fit is None else fit
    keys = np.array(sorted(fit))
    idx = np.clip(np.asarray(report_year) - keys[0], 0, len(keys) - 1)
    return {name: np.array([fit[k][name] for k in keys])[idx] for name in ("hazard", "hire", "agency", "absence")}


def uncalibrated_years_warning(start: str, months: int) -> str | None:
    """Why a run from ``start`` (YYYY-MM) for ``months`` is not calibrated, or None when it is.

    A reporting year (to 30 September) outside :data:`NATIONAL` silently takes the nearest year's national
    figures, so a run of 2005 or 2035 looks as plausible as one of 2022: say which years are extrapolated.

    >>> uncalibrated_years_warning("2019-01", 72) is None
    True
    >>> uncalibrated_years_warning("2015-10", 24)[:66]
    'the run covers reporting years 2016 (to 30 September), outside the'
    """
    import numpy as np

    month = np.datetime64(start, "M") + np.arange(months)
    year = month.astype("datetime64[Y]").astype(int) + 1970
    report_year = year + (month.astype(int) % 12 >= 9)   # October onwards counts towards next September
    low, high = min(NATIONAL), max(NATIONAL)
    outside = np.unique(report_year[(report_year < low) | (report_year > high)])
    if not len(outside):
        return None
    runs = np.split(outside, np.flatnonzero(np.diff(outside) > 1) + 1)   # before and after the table apart
    years = ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return (f"the run covers reporting years {years} (to 30 September), outside the years the calibration covers "
            f"({low}-{high}); those months reuse the nearest covered year's national turnover, caseload and vacancy, "
            "so they are an extrapolation, not calibrated")


class ScenarioError(ValueError):
    """A scenario file that cannot be used (unknown key, wrong type, a value out of range, a month outside
    the run)."""


def is_month(value) -> bool:
    """Whether ``value`` is a month written ``YYYY-MM``."""
    return (isinstance(value, str) and len(value) == 7 and value[4] == "-" and value[:4].isdigit()
            and value[5:].isdigit() and 1 <= int(value[5:]) <= 12)


@dataclass(frozen=True)
class Scenario:
    """Policy knobs and shocks applied from ``policy_start`` (a month, ``YYYY-MM``).

    Parameters
    ----------
    caseload_cap : int or None
        Council-wide caseload promise (cases per FTE) for every team, within the range of
        ``teams.caseload_cap`` in data_schema (1-60); None keeps caps by team type.
    retention_payment : float
        Annual retention payment (GBP/yr, 0 or more) paid to every permanent social worker from ``policy_start``.
    market_supplement : float
        Extra supplement (GBP/yr, 0 or more) for high-pressure teams (referral and assessment, safeguarding).
    extra_posts_share : float
        Funded extra posts as a share of establishment (0 to 1; 0.1 = 10% more posts) from ``policy_start``.
    referral_shock : float
        Size of an extra demand shock (above -1; 0.5 = half as many cases again) starting at ``shock_start``,
        which it needs.
    shock_start : str or None
        Month (``YYYY-MM``, not after the last simulated month) the referral shock starts; it builds over
        6 months and fades over 18.
    shock_councils : int
        Number of councils (the first ones, 1 or more) hit by the referral shock.
    policy_start : str or None
        First month (``YYYY-MM``, one of the simulated months) the policy knobs apply; None means from the
        start.
    hazard_scale : float
        Multiplier (0 or more) on all driver contributions (sensitivity analysis).
    """

    caseload_cap: int | None = None
    retention_payment: float = 0.0
    market_supplement: float = 0.0
    extra_posts_share: float = 0.0
    referral_shock: float = 0.0
    shock_start: str | None = None
    shock_councils: int = 1
    policy_start: str | None = None
    hazard_scale: float = 1.0

    def __post_init__(self):
        problems = self.value_problems()
        if problems:
            raise ScenarioError("; ".join(problems))

    def value_problems(self) -> list[str]:
        """Every rule the values break on their own, each naming the key, the value and the rule.

        A value that would simulate nonsense (a negative caseload cap, a negative leaving hazard scale) or
        data the validator refuses, or a knob that silently does nothing (a shock with no start), is a
        problem: the scenario is refused rather than run.
        """
        from retention_ml.schema import load_schemas

        cap = load_schemas()["teams"].column("caseload_cap")
        problems = []
        if self.caseload_cap is not None and not cap.min <= self.caseload_cap <= cap.max:
            problems.append(f"key 'caseload_cap' is {self.caseload_cap}; it must be {cap.min:g} to {cap.max:g} "
                            f"({cap.unit}, the range of teams.caseload_cap in data_schema)")
        for key in ("retention_payment", "market_supplement"):
            if getattr(self, key) < 0:
                problems.append(f"key {key!r} is {getattr(self, key):g}; it must be 0 or more (GBP/yr)")
        if not 0 <= self.extra_posts_share <= 1:
            problems.append(f"key 'extra_posts_share' is {self.extra_posts_share:g}; it must be 0 to 1 "
                            "(a share of the establishment: 0.1 = 10% more posts)")
        if self.referral_shock <= -1:
            problems.append(f"key 'referral_shock' is {self.referral_shock:g}; it must be above -1 "
                            "(a share of demand added: -1 would leave no cases)")
        if self.referral_shock and self.shock_start is None:
            problems.append("key 'referral_shock' is set but 'shock_start' is not: the shock would never happen "
                            "(give the month it begins, YYYY-MM)")
        if self.shock_councils < 1:
            problems.append(f"key 'shock_councils' is {self.shock_councils}; it must be 1 or more")
        if self.hazard_scale < 0:
            problems.append(f"key 'hazard_scale' is {self.hazard_scale:g}; it must be 0 or more "
                            "(a multiplier on every driver's contribution)")
        for key in ("policy_start", "shock_start"):
            value = getattr(self, key)
            if value is not None and not is_month(value):
                problems.append(f"key {key!r} is {value!r}; it must be a month written YYYY-MM")
        return problems

    def check_window(self, start: str, months: int) -> None:
        """Refuse months outside a run of ``months`` months from ``start`` (``YYYY-MM``) where the scenario
        would silently do nothing or half of something: a policy starting after the last month (never
        applied) or before the first (its pay rows and team caps would not show it; leave ``policy_start``
        out for a policy in force from the start), a shock starting after the last month."""
        import numpy as np

        first = np.datetime64(start, "M")
        last = first + (months - 1)
        problems = []
        if self.policy_start is not None and not first <= np.datetime64(self.policy_start, "M") <= last:
            hint = " (leave it out for a policy in force from the start)" if np.datetime64(self.policy_start, "M") < first else ""
            problems.append(f"key 'policy_start' is {self.policy_start}, outside the simulated months {first} to "
                            f"{last}{hint}")
        if self.shock_start is not None and np.datetime64(self.shock_start, "M") > last:
            problems.append(f"key 'shock_start' is {self.shock_start}, after the last simulated month {last}: "
                            "the shock would never happen")
        if problems:
            raise ScenarioError("scenario: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, raw: dict, *, source: str = "<scenario>") -> "Scenario":
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise ScenarioError(f"{source}: unknown scenario key {unknown[0]!r} (known: {', '.join(sorted(names))})")
        values = {}
        for key, value in raw.items():
            default = getattr(cls, key)
            if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if key in ("caseload_cap",) and value is not None and not isinstance(value, int):
                raise ScenarioError(f"{source}: key {key!r} must be an integer, got {value!r}")
            if isinstance(default, (int, float)) and not isinstance(default, bool) and key != "caseload_cap" and not isinstance(value, (int, float)):
                raise ScenarioError(f"{source}: key {key!r} must be a number, got {value!r}")
            values[key] = value
        try:
            return cls(**values)
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: {exc}") from None


def load_scenario(path: str | Path | None) -> Scenario:
    """Read a TOML scenario file (None -> defaults). Keys may sit at top level or under ``[scenario]``."""
    if path is None:
        return Scenario()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from exc
    if set(raw) == {"scenario"}:
        raw = raw["scenario"]
    return Scenario.from_dict(raw, source=str(path))
