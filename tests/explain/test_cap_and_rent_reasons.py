"""The words of reasons that were true but not understood: a low team caseload cap."""

import numpy as np
import pandas as pd

from retention_ml.explain.reasons import reason_table
from retention_ml.features import feature_catalogue


def _reasons(feature: str, X: pd.DataFrame) -> pd.Series:
    catalogue = feature_catalogue()
    drivers = catalogue.set_index("feature")["driver"]
    values = pd.DataFrame({feature: [0.4] * len(X)})
    profile = pd.DataFrame({drivers[feature]: [0.4] * len(X)})
    return reason_table(values, profile, X, None, catalogue, drivers.reindex(values.columns), k=1)["reason_1"]


def test_a_low_cap_reason_says_how_much_of_the_cap_the_caseload_fills_and_why_a_low_cap_matters():
    """"team caseload cap of 16 (own caseload 15)" (1,615 reasons on the national lists at 2024-01-01) did not
    say why a low cap raises the risk: the caseload fills more of a lower cap."""
    # full-time, part-time (0.5 FTE: own cap 8), no caseload ratio recorded
    X = pd.DataFrame({"caseload_cap": [16.0, 16.0, 16.0], "caseload_current": [15.0, 7.0, 15.0],
                      "caseload_to_cap": [15 / 16, 7 / 8, np.nan]})
    got = _reasons("caseload_cap", X).tolist()
    why = "the lower a cap, the more each case counts against it"
    assert got[0] == f"caseload 15 is 94% of the team's cap of 16 per full-time post: {why}"
    assert got[1] == (f"caseload 7 is 88% of their cap of 8 for their hours (team cap 16 per full-time post): {why}")
    assert got[2] == "team caseload cap of 16 (own caseload 15)"
