"""The beeswarm plot of a run whose optional table is missing (a feature with no value at all) raises no warning."""

import warnings

import numpy as np
import pandas as pd

from retention_ml.explain.explanation import Explanation
from retention_ml.explain.logging import write_beeswarm


def test_all_missing_feature_draws_without_numpy_warning(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"caseload_current": rng.normal(18, 4, 60), "absence_days_12m": np.full(60, np.nan)})
    values = pd.DataFrame({"caseload_current": rng.normal(0, 0.3, 60), "absence_days_12m": np.zeros(60)})
    exp = Explanation(values=values, base_value=-2.0, drivers=pd.Series({"caseload_current": "caseload_workload",
                                                                         "absence_days_12m": "work_life_balance"}),
                      catalogue=pd.DataFrame(columns=["feature", "meaning", "unit", "driver", "family"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # numpy's "All-NaN slice encountered" becomes a failure
        path = write_beeswarm(exp, X, tmp_path / "beeswarm.png")
    assert path.stat().st_size > 0
