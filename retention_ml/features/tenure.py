"""Tenure family: time in post, since qualifying, ASYE, since last progression; contract one-hots.

Role is deliberately not a feature. A person's grade is carried once, by ``pay_band_rank``
(pay), and their stage of career by tenure, qualification and progression. Role indicators
duplicated both under career_progression: on national simulated data (seed 0) the model split on
``role_social_worker`` first and credited career progression with risk that the truth puts on pay
and housing cost, so the top-risk decile's true driver was its first reason for 21% of leavers;
without role indicators 50%, at slightly higher ROC-AUC (benchmarks/bench_explain.py).

Contracted FTE is not a feature either. It matters to leaving through caseload against a
pro-rata cap and rent against take-home pay, and both ratios already carry it
(``caseload_to_cap``, ``housing_rent_to_pay``). As a raw input in "other" (which every
driver's trees may use) the model routed part of those drivers' effects through it: on
national simulated data, seeds 0 and 3, dropping it raised top-decile leavers' first-reason
agreement with the true driver by 4 and 5 points at the same ROC-AUC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup, months_between
from retention_ml.features._pit import EventIndex, asof_take, ns
from retention_ml.schema import load_schemas

C = "career_progression"


def _allowed(column: str) -> tuple[str, ...]:
    return tuple(load_schemas()["workers"].column(column).allowed_values() or ())


class TenureFeatures(FeatureFamily):
    """Tenure features from ``workers`` (start/qualified dates known before as_of) and ``pay_history``.

    Examples
    --------
    >>> TenureFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "tenure"
    required_tables = ("workers",)
    specs = (
        FeatureSpec("tenure_months", "Months since the start of this spell in the team", "months", C),
        FeatureSpec("months_since_qualified", "Months since social work qualification (NaN if unqualified)", "months", C),
        FeatureSpec("asye", "Started as a newly qualified social worker in the ASYE (1) or not (0)", "0/1", C),
        FeatureSpec("nqsw_first_2y", "Started in the ASYE and within the first 24 months of the spell", "0/1", C),
        FeatureSpec("months_since_progression", "Months since the last band or spinal point rise (or spell start)",
                    "months", C, direction=1),
        *(FeatureSpec(f"employment_{v}", f"Employment type is {v.replace('_', ' ')} (1) or not (0)", "0/1", "other")
          for v in _allowed("employment_type")),
    )

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        as_of = ns(X["as_of"])
        start = wl.dates("start_date")
        qual = wl.dates("qualified_date")
        out = pd.DataFrame(index=np.arange(len(X)))
        # start/qualified dates are used only when strictly before as_of (future ones are unknown)
        ten = months_between(as_of, start)
        out["tenure_months"] = np.where(start < as_of, ten, np.nan)
        mq = months_between(as_of, qual)
        out["months_since_qualified"] = np.where(qual < as_of, mq, np.nan)
        asye = wl.num("asye")
        out["asye"] = asye
        out["nqsw_first_2y"] = np.where(np.isnan(out["tenure_months"]), np.nan,
                                        ((asye == 1) & (out["tenure_months"] < 24)).astype("float64"))
        last = self._last_progression(wl, as_of)
        since = np.where(~np.isnat(last), months_between(as_of, last), ten)
        out["months_since_progression"] = np.where(start < as_of, since, np.nan)
        # one-hots compared once per worker, then indexed per snapshot
        emp = wl.W["employment_type"].astype(object).to_numpy()
        for v in _allowed("employment_type"):
            out[f"employment_{v}"] = wl.at(emp == v, False).astype("float64")
        return out

    def _last_progression(self, wl: WorkerLookup, as_of: np.ndarray) -> np.ndarray:
        pay = self.tables_.get("pay_history")
        if pay is None or pay.empty:
            return np.full(len(as_of), np.datetime64("NaT"), dtype="datetime64[ns]")
        ev = progression_events(pay, wl.event_codes(pay["worker_id"]))
        ix = EventIndex(ev["code"], ev["effective_date"])
        return asof_take(ix, ev, on="effective_date", cols=[], q_codes=wl.codes, q_times=as_of)["effective_date"] \
            .to_numpy()


def progression_events(pay: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Pay rows where the band changed or the spinal point rose against the worker's previous row.

    Rows are ordered by (worker, effective_date) stably, undated rows last, as a per-worker history;
    ``code`` = worker code.
    """
    t = ns(pay["effective_date"])
    order = np.lexsort((np.where(np.isnat(t), np.iinfo("int64").max, t.view("int64")), codes))  # NaT last
    p = pay.iloc[order]
    c = codes[order]
    same = np.r_[False, c[1:] == c[:-1]]                   # previous row is the same worker's
    band = p["pay_band"].astype(object).to_numpy()
    prev_band = np.r_[[None], band[:-1]]
    sp = p["spinal_point"].to_numpy(dtype="float64", na_value=np.nan)
    prev_sp = np.r_[np.nan, sp[:-1]]
    prev_band_known = same & pd.notna(prev_band)
    with np.errstate(invalid="ignore"):
        rise = (prev_band_known & (band != prev_band)) | (same & ~np.isnan(prev_sp) & (sp > prev_sp))
    return pd.DataFrame({"code": c[rise], "effective_date": ns(p["effective_date"])[rise]})
