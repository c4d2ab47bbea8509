"""Commute family: minutes, distance, mode and recent change, from the latest commute record before as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, snapshot_frame
from retention_ml.features._pit import asof_last
from retention_ml.schema import load_schemas

C = "commute"
MODES = tuple(load_schemas()["commute"].column("mode").allowed_values() or ())


class CommuteFeatures(FeatureFamily):
    """Commute features from ``commute`` (dated events; effective_date < as_of). Absent table -> NaN.

    Examples
    --------
    >>> CommuteFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "commute"
    required_tables = ("commute",)
    specs = (
        FeatureSpec("commute_minutes", "One-way commute time", "minutes", C),
        FeatureSpec("commute_km", "One-way commute distance", "km", C),
        *(FeatureSpec(f"commute_mode_{m}", f"Main commute mode is {m.replace('_', ' ')} (1) or not (0)", "0/1", C)
          for m in MODES),
        FeatureSpec("commute_change_minutes_12m", "Commute minutes now minus 12 months ago (0 if unchanged)",
                    "minutes", C),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        c = self.tables["commute"].copy()
        c["_mode"] = pd.Categorical(c["mode"].astype(object), categories=list(MODES)).codes.astype("float64")
        c.loc[c["_mode"] < 0, "_mode"] = np.nan
        cols = ["commute_minutes", "distance_km", "_mode"]
        now = asof_last(s, c, by="worker_id", on="effective_date", cols=cols)
        before = asof_last(s.assign(as_of=s["as_of"] - pd.DateOffset(months=12)), c, by="worker_id",
                           on="effective_date", cols=["commute_minutes"])
        out = pd.DataFrame(index=s.index)
        out["commute_minutes"] = now["commute_minutes"].to_numpy()
        out["commute_km"] = now["distance_km"].to_numpy()
        mode = now["_mode"].to_numpy()
        for i, m in enumerate(MODES):
            out[f"commute_mode_{m}"] = np.where(np.isnan(mode), np.nan, (mode == i).astype("float64"))
        # no record 12 months ago: the earliest known commute is the baseline (change since then)
        base = before["commute_minutes"].fillna(self._first(s, c)).to_numpy()
        out["commute_change_minutes_12m"] = out["commute_minutes"].to_numpy() - base
        return out

    @staticmethod
    def _first(s, c):
        first = c.sort_values("effective_date", kind="stable").drop_duplicates("worker_id")
        return s["worker_id"].map(first.set_index("worker_id")["commute_minutes"]).astype("float64")
