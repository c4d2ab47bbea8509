"""Housing family: local rent and house prices (home area) against the worker's pay."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup
from retention_ml.features._pit import EventIndex, MonthGrid, asof_take, ns
from retention_ml.features.fte_history import FteValues

H = "housing_cost"
#: take-home pay estimated as this share of gross (income tax, NI, pension); a stated approximation
TAKE_HOME_SHARE = 0.75


class HousingFeatures(FeatureFamily):
    """Housing features from ``housing_costs`` (monthly by area, period < as_of) and ``pay_history``.

    Pay is the salary in force at as_of for the contracted hours in force then (``fte_history`` when given,
    else ``workers.fte``).

    Parameters
    ----------
    tables : dict of DataFrame
    take_home_share : float
        Take-home pay as a share of gross pay (default 0.75), used for ``housing_rent_to_pay``.

    Examples
    --------
    >>> HousingFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "housing"
    required_tables = ("housing_costs", "workers", "pay_history")
    specs = (
        FeatureSpec("housing_rent_to_pay", "Median monthly rent in the home area / estimated monthly take-home pay",
                    "ratio", H, direction=1),
        FeatureSpec("housing_price_to_salary", "Median house price in the home area / gross annual pay", "ratio", H, direction=1),
        FeatureSpec("housing_cost_growth_12m", "Fractional growth of median rent in the home area over 12 months",
                    "fraction", H, direction=1),
    )

    def __init__(self, tables=None, *, take_home_share=TAKE_HOME_SHARE):
        self.tables = tables
        self.take_home_share = take_home_share

    def fit(self, X, y=None):
        if not 0 < float(self.take_home_share) <= 1:
            raise ValueError(f"HousingFeatures: take_home_share={self.take_home_share} (rule: 0 < share <= 1)")
        return super().fit(X, y)

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        as_of = ns(X["as_of"])
        q = pd.DataFrame({"area": wl.at(wl.W["home_area"].astype(object).to_numpy(), None), "as_of": as_of})
        g = MonthGrid(self.tables_["housing_costs"], by="area", month="period",
                      cols=["median_monthly_rent", "median_house_price"], queries=q)
        rent = g.rolling("median_monthly_rent", 1, "last")
        price = g.rolling("median_house_price", 1, "last")
        # rent 12 months before the last usable month: first value of a 13-month window ending there
        rent_12 = g.rolling_shift("median_monthly_rent", 12)
        pay_t = self.tables_["pay_history"]
        ix = EventIndex(wl.event_codes(pay_t["worker_id"]), pay_t["effective_date"])
        pay = asof_take(ix, pay_t, on="effective_date", q_codes=wl.codes, q_times=as_of,
                        cols=["annual_salary", "market_supplement", "retention_payment"])
        fte = FteValues(self.tables_, wl).at(wl.codes, as_of)
        gross = ((pay["annual_salary"] * fte) + pay["market_supplement"].fillna(0)
                 + pay["retention_payment"].fillna(0)).to_numpy()
        out = pd.DataFrame(index=np.arange(len(X)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out["housing_rent_to_pay"] = np.where(gross > 0, rent / (gross * self.take_home_share / 12), np.nan)
            out["housing_price_to_salary"] = np.where(gross > 0, price / gross, np.nan)
            out["housing_cost_growth_12m"] = np.where(rent_12 > 0, rent / rent_12 - 1, np.nan)
        return out
