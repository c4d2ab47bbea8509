"""Exit interviews and the true leaving driver of each leaver.

Stated reasons are drawn from the leaver's own driver decomposition with noise:
a softmax over the positive contributions (so the dominant driver is the most
likely answer, not the only one) and a share who say "personal" whatever the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.simulate.hazard import HAZARD_DRIVERS

__all__ = ["true_drivers", "stated_reasons", "COMMENTS"]

COMMENTS = {
    "caseload_workload": "Caseload was too high to do the work properly.",
    "work_life_balance": "The hours were taking over my life.",
    "pay": "Agency work pays much more.",
    "career_progression": "No route to progress here.",
    "supervision_management": "Supervision was rare and rushed.",
    "commute": "The journey to the office was too long.",
    "housing_cost": "Cannot afford to live near work.",
    "team_instability": "Too many colleagues left.",
    "personal": "Family reasons.",
    "retirement": "Retiring.",
}


def true_drivers(contrib: np.ndarray) -> np.ndarray:
    """Index of the largest positive contribution per row (personal when none is positive)."""
    best = contrib.argmax(axis=1)
    none = contrib.max(axis=1) <= 0
    return np.where(none, HAZARD_DRIVERS.index("personal"), best)


def stated_reasons(rng: np.random.Generator, contrib: np.ndarray, *, temperature: float = 0.35,
                   say_personal: float = 0.08, other_threshold: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Primary reason (driver code) and other reasons (``;``-joined codes or None) for each leaver row."""
    n = len(contrib)
    pos = np.where(contrib > 0, contrib, -np.inf)
    gumbel = -np.log(-np.log(rng.random(contrib.shape)))
    score = np.where(np.isfinite(pos), pos / temperature + gumbel, -np.inf)
    primary = np.where(np.isfinite(score).any(axis=1), score.argmax(axis=1), HAZARD_DRIVERS.index("personal"))
    primary = np.where(rng.random(n) < say_personal, HAZARD_DRIVERS.index("personal"), primary)
    order = np.argsort(-contrib, axis=1, kind="stable")
    k = rng.integers(0, 3, n)
    ranked = np.take_along_axis(contrib, order, axis=1)
    keep = (ranked > other_threshold) & (order != primary[:, None])
    keep &= np.cumsum(keep, axis=1) <= k[:, None]
    names = np.array(HAZARD_DRIVERS, dtype=object)
    joined = np.full(n, "", dtype=object)
    for j in range(contrib.shape[1]):  # loop over ranks (9), not over people
        joined = joined + np.where(keep[:, j], ";" + names[order[:, j]], "")
    others = pd.Series(joined, dtype=object).str[1:]
    return names[primary], others.where(others != "", None).to_numpy(dtype=object)
