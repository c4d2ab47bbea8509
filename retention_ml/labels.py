"""Labels: voluntary leaving within a horizon after each snapshot, with right-censoring.

Agency workers
--------------
Agency workers leave on different clocks (assignments end) and for different reasons. ``LabelConfig.agency``:

* ``"flag"`` (default): keep them; ``keys.employment_type`` and the ``employment_agency`` feature mark them so
  metrics can be reported separately for permanent and agency staff.
* ``"exclude"``: drop agency snapshots from the population (permanent and fixed-term only).
* ``"only"``: agency snapshots only (a separate agency model).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from retention_ml.schema import AGENCY

AGENCY_MODES = ("flag", "exclude", "only")


@dataclass(frozen=True)
class LabelConfig:
    """How labels are made.

    Parameters
    ----------
    horizon_months : int
        Leaving with end_date in [as_of, as_of + horizon_months) is positive (3, 6 or 12; any positive int works).
    positive_reasons : tuple of str
        Leaving reasons that always count as voluntary.
    voluntary_if_flagged : tuple of str
        Reasons that count only when ``left_voluntarily`` is true (HR's judgement).
    agency : {"flag", "exclude", "only"}
        Agency handling, see module docstring.
    """

    horizon_months: int = 12
    positive_reasons: tuple[str, ...] = ("resignation",)
    voluntary_if_flagged: tuple[str, ...] = ("end_of_contract", "other")
    agency: str = "flag"

    def __post_init__(self):
        if not isinstance(self.horizon_months, (int, np.integer)) or self.horizon_months < 1:
            raise ValueError(f"LabelConfig.horizon_months: {self.horizon_months!r} (rule: positive whole months)")
        if self.agency not in AGENCY_MODES:
            raise ValueError(f"LabelConfig.agency: {self.agency!r} (rule: one of {AGENCY_MODES})")
        object.__setattr__(self, "positive_reasons", tuple(self.positive_reasons))
        object.__setattr__(self, "voluntary_if_flagged", tuple(self.voluntary_if_flagged))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["positive_reasons"] = list(self.positive_reasons)
        d["voluntary_if_flagged"] = list(self.voluntary_if_flagged)
        return d


def data_end_from(tables: dict) -> pd.Timestamp:
    """End of the data (exclusive): the last month covered by caseload_history + 1 month."""
    last = pd.to_datetime(tables["caseload_history"]["month"]).max()
    return (last.to_period("M") + 1).to_timestamp()


def in_population(snapshots: pd.DataFrame, workers: pd.DataFrame, config: LabelConfig) -> np.ndarray:
    """Boolean mask of snapshots in the modelled population under ``config.agency``."""
    w, rows = _worker_rows(snapshots, workers)
    agency = _at(w["employment_type"].astype(object).to_numpy() == AGENCY, rows, False)
    if config.agency == "exclude":
        return ~agency
    if config.agency == "only":
        return agency
    return np.ones(len(snapshots), dtype=bool)


def _worker_rows(snapshots: pd.DataFrame, workers: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """First ``workers`` row per worker_id, and each snapshot's row in it (-1 when absent): one hash lookup."""
    from retention_ml.features._pit import encode  # here, not at the top: features imports this module

    w = workers.drop_duplicates("worker_id").reset_index(drop=True)
    return w, encode(snapshots["worker_id"], w["worker_id"].to_numpy(dtype=object))


def _at(per_worker: np.ndarray, rows: np.ndarray, fill):
    out = per_worker[np.maximum(rows, 0)]
    out[rows < 0] = fill
    return out


def make_labels(snapshots: pd.DataFrame, workers: pd.DataFrame, *, config: LabelConfig = LabelConfig(),
                data_end) -> pd.DataFrame:
    """Label each snapshot: 1.0 voluntary leave in [as_of, as_of + h), 0.0 otherwise, NaN if right-censored.

    A snapshot is censored when ``as_of + h months > data_end`` (its horizon runs past the data); it is never 0.

    Returns
    -------
    DataFrame (same index as ``snapshots``) with ``label`` (float) and ``censored`` (bool).

    Examples
    --------
    >>> make_labels(snaps, tables["workers"], config=LabelConfig(horizon_months=6), data_end="2025-01-01")  # doctest: +SKIP
    """
    w, rows = _worker_rows(snapshots, workers)
    as_of = pd.to_datetime(snapshots["as_of"]).reset_index(drop=True)
    horizon_end = as_of + pd.DateOffset(months=int(config.horizon_months))
    end = pd.Series(_at(pd.to_datetime(w["end_date"]).to_numpy().astype("datetime64[ns]"), rows, np.datetime64("NaT")))
    reason = w["leaving_reason"].astype(object)
    # per worker first (tens of thousands), then indexed per snapshot (millions)
    flagged = (w["left_voluntarily"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "left_voluntarily" in w
               else np.zeros(len(w), dtype=bool))
    voluntary_w = reason.isin(config.positive_reasons).to_numpy() | (
        reason.isin(config.voluntary_if_flagged).to_numpy() & flagged)
    voluntary = _at(voluntary_w, rows, False)
    leaves = (end >= as_of) & (end < horizon_end)
    censored = (horizon_end > pd.Timestamp(data_end)).to_numpy()
    label = (leaves.to_numpy() & voluntary).astype("float64")
    label[censored] = np.nan
    return pd.DataFrame({"label": label, "censored": censored}, index=snapshots.index)


def censoring_report(snapshots: pd.DataFrame, labels: pd.DataFrame, *, config: LabelConfig = LabelConfig(),
                     data_end=None, population: np.ndarray | None = None) -> pd.DataFrame:
    """Per as_of: snapshots, kept, and how many were dropped by reason (censored / outside population).

    Columns: as_of, reason, n (one row per as_of and reason with n > 0), where reason is
    ``labelled`` (kept), ``horizon_past_data_end`` or ``agency_<mode>`` (outside the population).
    """
    pop = np.ones(len(snapshots), dtype=bool) if population is None else np.asarray(population, dtype=bool)
    cens = labels["censored"].to_numpy(dtype=bool)
    # reason codes 0/1/2 are in the names' sort order, so (as_of, code) counts come out sorted as before
    names = np.array([f"agency_{config.agency}", "horizon_past_data_end", "labelled"], dtype=object)
    code = np.where(~pop, 0, np.where(cens, 1, 2))
    dates, d_code = np.unique(pd.to_datetime(snapshots["as_of"]).to_numpy(), return_inverse=True)
    n = np.bincount(d_code.ravel() * 3 + code, minlength=3 * len(dates))
    nz = np.flatnonzero(n)
    rep = pd.DataFrame({"as_of": dates[nz // 3], "reason": pd.array(names[nz % 3], dtype="str"),
                        "n": n[nz].astype("int64")})
    rep["horizon_months"] = int(config.horizon_months)
    return rep
