"""Who reads a person's row on the lists, for the levers that name a role (never a model input).

A team manager reads their team's list; a team manager's own row is on their head of service's list, and so are
the people of a team with no manager recorded (:data:`retention_ml.reports.risk_list.MANAGER_LINE`). A lever
written for the team manager ("Team stability plan with the head of service") read by the head of service names
its reader, so ``drivers.yaml`` gives those two groups their own words (lever groups ``team_manager`` and
``team_without_manager``). Read from the keys' ``manager_id``: the manager in force at the scoring date.

Example
-------
>>> reader_columns(pd.DataFrame({"worker_id": ["M1", "W1", "W2"], "manager_id": ["M1", "M1", None]}))
   manages_the_team  team_without_manager
0               1.0                   0.0
1               0.0                   0.0
2               0.0                   1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["READER_COLUMNS", "reader_columns"]

# Columns scoring and explain pass beside the features for the lever groups of drivers.yaml, with their meaning.
READER_COLUMNS = {
    "manages_the_team": "1 where the person is their team's manager (their row is read by their head of service), "
                        "0 where not",
    "team_without_manager": "1 where the person's team has no manager recorded (its people are read by the head of "
                            "service), 0 where it has one",
}


def reader_columns(keys: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``keys`` (``worker_id``, ``manager_id``): :data:`READER_COLUMNS` (NaN for both where the keys
    carry no ``manager_id``: the reader is not known, and the driver's own levers apply)."""
    from retention_ml.reports.risk_list import team_manager_rows

    if "manager_id" not in keys:
        return pd.DataFrame({c: np.full(len(keys), np.nan) for c in READER_COLUMNS}, index=keys.index)
    return pd.DataFrame({"manages_the_team": team_manager_rows(keys).to_numpy(float),
                         "team_without_manager": keys["manager_id"].isna().to_numpy(float)}, index=keys.index)
