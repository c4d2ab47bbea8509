"""Commute family: minutes, distance, mode and recent change, from the latest commute record before as_of."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup
from retention_ml.features._pit import EventIndex, asof_take, ns
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
        FeatureSpec("commute_minutes", "One-way commute time", "minutes", C, direction=1),
        FeatureSpec("commute_km", "One-way commute distance", "km", C, direction=1),
        *(FeatureSpec(f"commute_mode_{m}", f"Main commute mode is {m.replace('_', ' ')} (1) or not (0)", "0/1", C)
          for m in MODES),
        FeatureSpec("commute_change_minutes_12m", "Commute minutes now minus 12 months ago (0 if unchanged)",
                    "minutes", C, direction=1),
    )

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        as_of = pd.Series(ns(X["as_of"]))
        c = self.tables_["commute"].copy()
        c["_mode"] = pd.Categorical(c["mode"].astype(object), categories=list(MODES)).codes.astype("float64")
        c.loc[c["_mode"] < 0, "_mode"] = np.nan
        cols = ["commute_minutes", "distance_km", "_mode"]
        codes = wl.event_codes(c["worker_id"])
        ix = EventIndex(codes, c["effective_date"])   # one index, two look-ups (now and 12 months ago)
        now = asof_take(ix, c, on="effective_date", cols=cols, q_codes=wl.codes, q_times=as_of)
        before = asof_take(ix, c, on="effective_date", cols=["commute_minutes"], q_codes=wl.codes,
                           q_times=as_of - pd.DateOffset(months=12))
        out = pd.DataFrame(index=np.arange(len(X)))
        out["commute_minutes"] = now["commute_minutes"].to_numpy()
        out["commute_km"] = now["distance_km"].to_numpy()
        mode = now["_mode"].to_numpy()
        for i, m in enumerate(MODES):
            out[f"commute_mode_{m}"] = np.where(np.isnan(mode), np.nan, (mode == i).astype("float64"))
        # no record 12 months ago: the earliest known commute is the baseline (change since then)
        prev = before["commute_minutes"].to_numpy()
        base = np.where(np.isnan(prev), self._first(c, codes, wl), prev)
        out["commute_change_minutes_12m"] = out["commute_minutes"].to_numpy() - base
        return out

    @staticmethod
    def _first(c, codes, wl):
        # each worker's earliest commute record (stable on ties), per snapshot
        order = np.argsort(ns(c["effective_date"]), kind="stable")
        first = np.full(len(wl.book), np.nan)
        co = codes[order]
        ok = co >= 0
        u, idx = np.unique(co[ok], return_index=True)
        first[u] = c["commute_minutes"].to_numpy(dtype="float64", na_value=np.nan)[order][ok][idx]
        return np.where(wl.codes >= 0, first[np.maximum(wl.codes, 0)], np.nan)
