"""The true leaving hazard: logit(p_month) = base + sum of driver contributions.

Each contribution is a function of what the worker experiences (caseload against
the cap with memory, sickness, pay against the agency alternative, tenure and
progression, supervision, commute, rent against pay, colleagues leaving and agency
share, and an unobserved personal part). No protected characteristic enters.
"""

from __future__ import annotations

import numpy as np

from retention_ml.schema import driver_codes, schema_dir

__all__ = ["HAZARD_DRIVERS", "contributions", "year_effect"]

# The nine drivers of the voluntary-leaving hazard: every exit-reason driver except retirement.
HAZARD_DRIVERS = tuple(d for d in driver_codes(exit_reason=True) if d != "retirement")


def year_effect(report_year: np.ndarray, national: dict) -> np.ndarray:
    """Logit shift so the national turnover trend follows the DfE series (ratio to 15%)."""
    keys = np.array(sorted(national))
    vals = np.array([national[k]["turnover"] for k in keys])
    idx = np.clip(np.asarray(report_year) - keys[0], 0, len(keys) - 1)
    return np.log(vals[idx] / 15.0)


def _by_driver(s: dict) -> dict[str, np.ndarray]:
    """Each hazard driver's contribution, keyed by its code in ``data_schema/drivers.yaml``.

    Keyed by code, not column position, so reordering drivers.yaml cannot credit one driver's
    effect to another (the truth check would then score correct explanations as wrong).
    """
    strain = s["load_ratio"] > 1.1
    early = s["tenure"] < 24
    return {
        "caseload_workload": np.clip(1.0 * (s["load_ratio"] - 0.65), -0.3, 1.0) + 0.035 * s["over_cap_12m"],
        "work_life_balance": 0.06 * np.minimum(s["absence_3m"], 20) + 0.3 * strain - 0.05,
        "pay": np.where(s["agency"], -0.3, np.clip(1.4 * (s["agency_gap"] - 0.7), -0.6, 1.0)),
        "career_progression": np.where(early, 0.45 + 0.3 * s["asye"], -0.1)
        + np.clip(0.015 * (s["since_progression"] - 36), 0, 0.6),
        # agency staff are not supervised by the council
        "supervision_management": np.where(s["agency"], 0.0, 0.14 * np.clip(s["since_supervision"] - 1, 0, 8) - 0.05),
        "commute": np.clip(0.016 * (s["commute"] - 35), -0.2, 1.2),
        "housing_cost": np.clip(1.5 * (s["rent_share"] - 0.45) + 2.5 * s["rent_growth"], -0.4, 1.0),
        "team_instability": np.clip(2.0 * s["team_left_3m"] + 0.4 * (s["team_agency"] - 0.15), -0.3, 1.2),
        "personal": s["frailty"] + 2.0 * s["life_event"],
    }


def contributions(s: dict) -> np.ndarray:
    """Driver contributions (n workers x len(HAZARD_DRIVERS), logit scale), columns in HAZARD_DRIVERS order.

    Keys of ``s``: load_ratio (open cases / (cap * fte)), over_cap_12m (months), absence_3m (days),
    agency_gap (agency annual pay / own total pay - 1), tenure (months), asye (bool),
    since_progression (months), since_supervision (months), commute (minutes),
    rent_share (rent / take-home pay), rent_growth (12-month fraction), team_left_3m (leavers / posts),
    team_agency (share), frailty, life_event (bool), agency (bool).

    Raises ValueError when drivers.yaml declares a hazard driver the simulator has no formula for,
    or drops one it has (either would leave the true hazard silently wrong).

    >>> s = {k: np.zeros(1) for k in ("load_ratio", "over_cap_12m", "absence_3m", "agency_gap", "tenure",
    ...      "since_progression", "since_supervision", "rent_share", "rent_growth", "team_left_3m", "team_agency",
    ...      "frailty")} | {"asye": np.zeros(1, bool), "life_event": np.zeros(1, bool), "agency": np.zeros(1, bool),
    ...      "commute": np.array([110.0])}
    >>> round(float(contributions(s)[0, HAZARD_DRIVERS.index("commute")]), 2)
    1.2
    """
    by_driver = _by_driver(s)
    missing, unknown = set(HAZARD_DRIVERS) - set(by_driver), set(by_driver) - set(HAZARD_DRIVERS)
    if missing or unknown:
        raise ValueError(
            f"{schema_dir() / 'drivers.yaml'}: exit-reason drivers (except retirement) must be exactly the ones "
            f"the simulator's hazard has a formula for (rule: retention_ml/simulate/hazard.py _by_driver); "
            f"no formula for {sorted(missing)}, formula for undeclared {sorted(unknown)}"
        )
    return np.stack([np.asarray(by_driver[d], dtype="float64") for d in HAZARD_DRIVERS], axis=1)
