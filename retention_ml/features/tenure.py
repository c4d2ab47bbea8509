"""Tenure family: time in post, since qualifying, ASYE, since last progression; role and contract one-hots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, months_between, snapshot_frame
from retention_ml.features._pit import asof_last
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
                    "months", C),
        FeatureSpec("fte", "Contracted full-time equivalent", "FTE", "other"),
        *(FeatureSpec(f"role_{v}", f"Role is {v.replace('_', ' ')} (1) or not (0)", "0/1", C) for v in _allowed("role")),
        *(FeatureSpec(f"employment_{v}", f"Employment type is {v.replace('_', ' ')} (1) or not (0)", "0/1", "other")
          for v in _allowed("employment_type")),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        w = self.tables["workers"].drop_duplicates("worker_id").set_index("worker_id")
        start = s["worker_id"].map(w["start_date"])
        qual = s["worker_id"].map(w["qualified_date"])
        out = pd.DataFrame(index=s.index)
        # start/qualified dates are used only when strictly before as_of (future ones are unknown)
        ten = months_between(s["as_of"], start)
        out["tenure_months"] = np.where(start < s["as_of"], ten, np.nan)
        mq = months_between(s["as_of"], qual)
        out["months_since_qualified"] = np.where(qual < s["as_of"], mq, np.nan)
        asye = s["worker_id"].map(w["asye"]).astype("float64").to_numpy()
        out["asye"] = asye
        out["nqsw_first_2y"] = np.where(np.isnan(out["tenure_months"]), np.nan,
                                        ((asye == 1) & (out["tenure_months"] < 24)).astype("float64"))
        last = self._last_progression(s)
        since = np.where(last.notna(), months_between(s["as_of"], last), ten)
        out["months_since_progression"] = np.where(start < s["as_of"], since, np.nan)
        out["fte"] = s["worker_id"].map(w["fte"]).astype("float64").to_numpy()
        role = s["worker_id"].map(w["role"]).astype(object)
        for v in _allowed("role"):
            out[f"role_{v}"] = (role == v).astype("float64").to_numpy()
        emp = s["worker_id"].map(w["employment_type"]).astype(object)
        for v in _allowed("employment_type"):
            out[f"employment_{v}"] = (emp == v).astype("float64").to_numpy()
        return out

    def _last_progression(self, s: pd.DataFrame) -> pd.Series:
        pay = self.tables.get("pay_history")
        if pay is None or pay.empty:
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        p = pay.sort_values(["worker_id", "effective_date"], kind="stable")
        prev_band = p.groupby("worker_id")["pay_band"].shift()
        prev_sp = p.groupby("worker_id")["spinal_point"].shift().astype("float64")
        sp = p["spinal_point"].astype("float64")
        rise = (prev_band.notna() & (p["pay_band"] != prev_band)) | (prev_sp.notna() & (sp > prev_sp))
        ev = p.loc[rise.fillna(False).to_numpy(), ["worker_id", "effective_date"]].assign(one=1.0)
        return asof_last(s, ev, by="worker_id", on="effective_date", cols=["one"])["effective_date"]
