"""Pay: spinal column salaries, grades, national pay awards and agency day rates.

Salaries follow a local-government-like spinal column (about GBP 36k at point
25 in 2019) uprated by the national pay award each April. Agency day rates sit
50-100% above the permanent daily rate of a mid-band social worker (domain.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PAY_BANDS", "ROLES", "AGENCY_DAYS", "pay_index", "salary"]

ROLES = ("social_worker", "senior_practitioner", "advanced_practitioner", "team_manager", "personal_adviser")
# band label and spinal range per role (same order as ROLES)
PAY_BANDS = ("SW1", "SP", "AP", "TM", "PA")
BAND_LOW = np.array([22, 30, 34, 38, 17])
BAND_HIGH = np.array([30, 34, 38, 44, 23])
AGENCY_DAYS = 220
# April pay awards (fraction), national; index is the cumulative product
AWARDS = {2017: 0.01, 2018: 0.02, 2019: 0.02, 2020: 0.0275, 2021: 0.0175, 2022: 0.05, 2023: 0.055,
          2024: 0.04, 2025: 0.032, 2026: 0.03}


def pay_index(year: np.ndarray | int, month: np.ndarray | int) -> np.ndarray:
    """Scale factor of the pay column in a month (1.0 from April 2019)."""
    year = np.asarray(year)
    month = np.asarray(month)
    eff = year - (month < 4)  # award year in force
    keys = np.array(sorted(AWARDS))
    cum = np.cumprod([1 + AWARDS[k] for k in keys])
    base = cum[keys == 2019][0]
    return cum[np.clip(eff - keys[0], 0, len(keys) - 1)] / base


def salary(spinal_point: np.ndarray, index: np.ndarray | float) -> np.ndarray:
    """Full-time annual salary (GBP) at a spinal point under a pay index; rounded to pounds."""
    return np.round(20_000.0 * 1.025 ** (np.asarray(spinal_point) - 1) * index, 0)
