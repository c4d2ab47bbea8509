"""Pay family: band, salary, supplements, gap to the agency alternative, time since the last pay rise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, months_between, snapshot_frame
from retention_ml.features._pit import asof_last

P = "pay"
#: band order (lowest first); bands not listed (e.g. AGENCY) get NaN rank
DEFAULT_BAND_ORDER = ("PA", "SW1", "SW2", "SW3", "SP", "AP", "TM")
WORKING_DAYS = 220


class PayFeatures(FeatureFamily):
    """Pay features from the latest ``pay_history`` row effective strictly before as_of.

    Parameters
    ----------
    tables : dict of DataFrame
    band_order : tuple of str
        Pay bands from lowest to highest; ``pay_band_rank`` is the 1-based position.

    Examples
    --------
    >>> PayFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "pay"
    required_tables = ("pay_history", "workers")
    specs = (
        FeatureSpec("pay_band_rank", "Rank of the pay band (1 = lowest; NaN for agency/unknown)", "rank", P),
        FeatureSpec("pay_spinal_point", "Spinal column point", "point", P),
        FeatureSpec("pay_salary_fte", "Basic salary for a full-time post", "GBP/yr", P),
        FeatureSpec("pay_supplement", "Market or high-pressure supplement", "GBP/yr", P),
        FeatureSpec("pay_retention_payment", "Annual retention payment", "GBP/yr", P),
        FeatureSpec("pay_agency_gap", "Agency day rate x 220 / own total pay - 1 (council, last known month)",
                    "fraction", P),
        FeatureSpec("months_since_pay_rise", "Months since the salary last went up (or the first pay record)",
                    "months", P),
    )

    def __init__(self, tables=None, *, band_order=DEFAULT_BAND_ORDER):
        self.tables = tables
        self.band_order = band_order

    def fit(self, X, y=None):
        if not self.band_order or len(set(self.band_order)) != len(self.band_order):
            raise ValueError("PayFeatures: band_order must be a non-empty sequence of distinct band names")
        return super().fit(X, y)

    def _compute(self, X):
        s = snapshot_frame(X)
        pay = self.tables["pay_history"]
        cols = ["spinal_point", "annual_salary", "market_supplement", "retention_payment", "_band"]
        order = {b: i + 1 for i, b in enumerate(self.band_order)}
        p = pay.assign(_band=pay["pay_band"].map(order).astype("float64"))
        last = asof_last(s, p, by="worker_id", on="effective_date", cols=cols)
        out = pd.DataFrame(index=s.index)
        out["pay_band_rank"] = last["_band"].to_numpy()
        out["pay_spinal_point"] = last["spinal_point"].to_numpy()
        out["pay_salary_fte"] = last["annual_salary"].to_numpy()
        out["pay_supplement"] = last["market_supplement"].to_numpy()
        out["pay_retention_payment"] = last["retention_payment"].to_numpy()
        total = (last["annual_salary"] + last["market_supplement"].fillna(0) + last["retention_payment"].fillna(0))
        out["pay_agency_gap"] = self._agency_gap(s, total.to_numpy())
        out["months_since_pay_rise"] = self._since_rise(s, p)
        return out

    def _agency_gap(self, s, total):
        rates = self.tables.get("agency_rates")
        if rates is None or "teams" not in self.tables:
            return np.full(len(s), np.nan)
        wt = self.tables["workers"].drop_duplicates("worker_id").set_index("worker_id")["team_id"]
        council = s["worker_id"].map(wt).map(self.tables["teams"].set_index("team_id")["council_id"])
        q = pd.DataFrame({"council_id": council.astype(object).to_numpy(), "as_of": s["as_of"].to_numpy()})
        # monthly row for period M is usable iff M < as_of
        r = asof_last(q, rates, by="council_id", on="period", cols=["day_rate"])["day_rate"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, r * WORKING_DAYS / total - 1.0, np.nan)

    @staticmethod
    def _since_rise(s, p):
        p = p.sort_values(["worker_id", "effective_date"], kind="stable")
        prev = p.groupby("worker_id")["annual_salary"].shift()
        ev = p.loc[(prev.isna() | (p["annual_salary"] > prev)).to_numpy(), ["worker_id", "effective_date"]]
        last = asof_last(s, ev.assign(one=1.0), by="worker_id", on="effective_date", cols=["one"])
        return months_between(s["as_of"], last["effective_date"])
