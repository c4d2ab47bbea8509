"""Pay family: band, salary, supplements, gap to the agency alternative, time since the last pay rise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup, months_between
from retention_ml.features._pit import EventIndex, asof_take, encode, month_start, ns, sorted_keys
from retention_ml.schema import load_schemas

P = "pay"
WORKING_DAYS = 220


class PayFeatures(FeatureFamily):
    """Pay features from the latest ``pay_history`` row effective strictly before as_of.

    Parameters
    ----------
    tables : dict of DataFrame
        Needs ``pay_history`` and ``workers``; ``pay_bands`` (band, rank) ranks the council's own bands, and
        without it the default bands declared in ``data_schema/tables/pay_bands.yaml`` apply.
    band_order : tuple of str, optional
        Pay bands from lowest to highest, overriding the data's ranks; ``pay_band_rank`` is the 1-based
        position. Bands not ranked (AGENCY, or not listed) get NaN.

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
        FeatureSpec("pay_supplement", "Market or high-pressure supplement", "GBP/yr", P, direction=-1),
        FeatureSpec("pay_retention_payment", "Annual retention payment", "GBP/yr", P, direction=-1),
        FeatureSpec("pay_agency_gap", "Agency day rate x 220 / own total pay - 1 (council, last known month)",
                    "fraction", P, direction=1, tables=("agency_rates", "teams")),
        FeatureSpec("months_since_pay_rise", "Months since the salary last went up (or the first pay record)",
                    "months", P, direction=1),
    )

    def __init__(self, tables=None, *, band_order=None):
        self.tables = tables
        self.band_order = band_order

    def fit(self, X, y=None):
        if self.band_order is not None and (not self.band_order or len(set(self.band_order)) != len(self.band_order)):
            raise ValueError("PayFeatures: band_order must be a non-empty sequence of distinct band names")
        return super().fit(X, y)

    def _band_ranks(self) -> pd.Series:
        """Rank per band name: ``band_order`` if given, else the data's ``pay_bands``, else the schema's default."""
        if self.band_order is not None:
            return pd.Series(np.arange(1, len(self.band_order) + 1, dtype="float64"), index=list(self.band_order))
        bands = self.tables_.get("pay_bands")
        if bands is None:
            bands = load_schemas()["pay_bands"].default_frame()
        return pd.Series(pd.to_numeric(bands["rank"], errors="coerce").to_numpy(dtype="float64"),
                         index=bands["pay_band"].astype(str).to_numpy())

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        as_of = ns(X["as_of"])
        pay = self.tables_["pay_history"]
        cols = ["spinal_point", "annual_salary", "market_supplement", "retention_payment", "_band"]
        p = pay.assign(_band=pay["pay_band"].map(self._band_ranks()).astype("float64"))
        codes = wl.event_codes(p["worker_id"])
        ix = EventIndex(codes, p["effective_date"])
        last = asof_take(ix, p, on="effective_date", cols=cols, q_codes=wl.codes, q_times=as_of)
        out = pd.DataFrame(index=np.arange(len(X)))
        out["pay_band_rank"] = last["_band"].to_numpy()
        out["pay_spinal_point"] = last["spinal_point"].to_numpy()
        out["pay_salary_fte"] = last["annual_salary"].to_numpy()
        out["pay_supplement"] = last["market_supplement"].to_numpy()
        out["pay_retention_payment"] = last["retention_payment"].to_numpy()
        total = (last["annual_salary"] + last["market_supplement"].fillna(0) + last["retention_payment"].fillna(0))
        out["pay_agency_gap"] = self._agency_gap(wl, as_of, total.to_numpy())
        out["months_since_pay_rise"] = self._since_rise(wl, as_of, p, codes)
        return out

    def _agency_gap(self, wl, as_of, total):
        rates = self.tables_.get("agency_rates")
        if rates is None or "teams" not in self.tables_:
            return np.full(len(as_of), np.nan)
        teams = self.tables_["teams"].drop_duplicates("team_id")
        book = sorted_keys(rates["council_id"])
        # council of each worker (through the team), coded against the rates' councils; per worker, then indexed
        team_row = encode(wl.W["team_id"], teams["team_id"].to_numpy(dtype=object))
        council = encode(teams["council_id"], book)
        q = wl.at(np.where(team_row >= 0, council[np.maximum(team_row, 0)], -1), -1)
        # monthly row for period M is usable once M is complete: M < first day of as_of's month
        ix = EventIndex(encode(rates["council_id"], book), rates["period"])
        r = asof_take(ix, rates, on="period", cols=["day_rate"], q_codes=q, q_times=month_start(as_of))["day_rate"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, r * WORKING_DAYS / total - 1.0, np.nan)

    @staticmethod
    def _since_rise(wl, as_of, p, codes):
        t = ns(p["effective_date"])
        order = np.lexsort((np.where(np.isnat(t), np.iinfo("int64").max, t.view("int64")), codes))  # NaT last
        c = codes[order]
        sal = p["annual_salary"].to_numpy(dtype="float64", na_value=np.nan)[order]
        prev = np.where(np.r_[False, c[1:] == c[:-1]], np.r_[np.nan, sal[:-1]], np.nan)
        rise = np.isnan(prev) | (sal > prev)
        ix = EventIndex(c[rise], t[order][rise])
        last = asof_take(ix, pd.DataFrame({"effective_date": t[order][rise]}), on="effective_date", cols=[],
                         q_codes=wl.codes, q_times=as_of)
        return months_between(as_of, last["effective_date"])
