"""The true leaving hazard: logit(p_month) = base + sum of driver contributions.

Each contribution is a function of what the worker experiences (caseload against
the cap with memory, sickness, pay against the agency alternative, tenure and
progression, supervision, commute, rent against pay, colleagues leaving and agency
share, and an unobserved personal part). No protected characteristic enters.
"""

from __future__ import annotations

import numpy as np

from retention_ml.schema import driver_codes

__all__ = ["HAZARD_DRIVERS", "contributions", "year_effect"]

# The nine drivers of the voluntary-leaving hazard: every exit-reason driver except retirement.
HAZARD_DRIVERS = tuple(d for d in driver_codes(exit_reason=True) if d != "retirement")


def year_effect(report_year: np.ndarray, national: dict) -> np.ndarray:
    """Logit shift so the national turnover trend follows the DfE series (ratio to 15%)."""
    keys = np.array(sorted(national))
    vals = np.array([national[k]["turnover"] for k in keys])
    idx = np.clip(np.asarray(report_year) - keys[0], 0, len(keys) - 1)
    return np.log(vals[idx] / 15.0)


def contributions(s: dict) -> np.ndarray:
    """Driver contributions (n workers x 9, logit scale) from a dict of per-worker state arrays.

    Keys of ``s``: load_ratio (open cases / (cap * fte)), over_cap_12m (months), absence_3m (days),
    agency_gap (agency annual pay / own total pay - 1), tenure (months), asye (bool),
    since_progression (months), since_supervision (months), commute (minutes),
    rent_share (rent / take-home pay), rent_growth (12-month fraction), team_left_3m (leavers / posts),
    team_agency (share), frailty, life_event (bool), agency (bool).
    """
    n = len(s["load_ratio"])
    out = np.empty((n, len(HAZARD_DRIVERS)))
    strain = s["load_ratio"] > 1.1
    out[:, 0] = np.clip(1.0 * (s["load_ratio"] - 0.65), -0.3, 1.0) + 0.035 * s["over_cap_12m"]
    out[:, 1] = 0.06 * np.minimum(s["absence_3m"], 20) + 0.3 * strain - 0.05
    out[:, 2] = np.where(s["agency"], -0.3, np.clip(1.4 * (s["agency_gap"] - 0.7), -0.6, 1.0))
    early = s["tenure"] < 24
    out[:, 3] = np.where(early, 0.45 + 0.3 * s["asye"], -0.1) + np.clip(0.015 * (s["since_progression"] - 36), 0, 0.6)
    out[:, 4] = np.where(s["agency"], 0.0, 0.14 * np.clip(s["since_supervision"] - 1, 0, 8) - 0.05)  # agency staff are not supervised by the council
    out[:, 5] = np.clip(0.016 * (s["commute"] - 35), -0.2, 1.2)
    out[:, 6] = np.clip(1.5 * (s["rent_share"] - 0.45) + 2.5 * s["rent_growth"], -0.4, 1.0)
    out[:, 7] = np.clip(2.0 * s["team_left_3m"] + 0.4 * (s["team_agency"] - 0.15), -0.3, 1.2)
    out[:, 8] = s["frailty"] + 2.0 * s["life_event"]
    return out
