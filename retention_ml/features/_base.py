"""Common base for feature families (scikit-learn transformers over a snapshots frame)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from retention_ml.features._pit import encode, sorted_keys
from retention_ml.schema import driver_codes


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: name, one-line meaning, unit, driver code (drivers.yaml or "other") and risk direction.

    ``direction`` is the domain's prior on how leaving risk moves with the value, all else
    equal: +1 never lower when the value rises (more cases, a longer commute, rent taking
    more of pay), -1 never higher (more supervision, a retention payment), 0 no prior (tenure,
    whose risk is highest early and again late). The model can be held to it
    (``model.constraints``), so a reason never reads "caseload 30" as lowering risk.

    ``tables`` are optional tables this one feature reads beyond its family's ``required_tables``
    (without them the feature is missing): scoring refuses a model trained with them on data without them.
    """

    name: str
    meaning: str
    unit: str
    driver: str
    direction: int = 0
    tables: tuple[str, ...] = ()


class FeatureFamily(TransformerMixin, BaseEstimator):
    """Base transformer: ``fit(snapshots)`` validates; ``transform(snapshots)`` returns that family's features.

    The rows a family transforms are snapshots (worker_id, as_of); the HR tables it looks values up in are a
    parameter, like a lookup table, because a scikit-learn Pipeline passes only ``X`` (and ``y``) along its
    steps. ``fit`` keeps them as ``tables_`` and ``transform`` reads only the fitted state, so ``set_params``
    after ``fit`` changes nothing until the next ``fit``.

    Parameters
    ----------
    tables : dict of DataFrame
        Input tables typed by ``retention_ml.io.read_tables``. ``required_tables`` are the ones a family
        reads: when one is absent (an optional table such as ``absence``) the family's features are all
        missing, never invented, and the model card and ``explain`` say "not measured".
    """

    family: str = ""
    specs: tuple[FeatureSpec, ...] = ()
    required_tables: tuple[str, ...] = ()

    def __init__(self, tables=None):
        self.tables = tables

    def fit(self, X, y=None):
        if self.tables is None or not isinstance(self.tables, dict):
            raise ValueError(f"{type(self).__name__}: tables must be a dict of DataFrames (read_tables)")
        self._check_snapshots(X)
        self.tables_ = self.tables
        self.available_ = all(t in self.tables_ for t in self.required_tables)
        self.feature_names_out_ = np.array(self._names(), dtype=object)
        return self

    def _names(self) -> list[str]:
        return [s.name for s in self.specs]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    @staticmethod
    def _check_snapshots(X) -> None:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("snapshots must be a DataFrame with columns worker_id, as_of")
        missing = {"worker_id", "as_of"} - set(X.columns)
        if missing:
            raise ValueError(f"snapshots: missing column(s) {sorted(missing)} (rule: snapshots need worker_id, as_of)")

    def transform(self, X):
        check_is_fitted(self, "feature_names_out_")
        self._check_snapshots(X)
        if not self.available_:
            # a missing optional table leaves its features missing, never invented
            return pd.DataFrame(np.nan, index=X.index, columns=self._names(), dtype="float32")
        out = self._compute(X)
        return out[self._names()].astype("float32").set_index(X.index)

    def _compute(self, X: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def input_tables(cls) -> dict[str, tuple[str, ...]]:
        """Feature name -> every table it is computed from (the family's required tables and its own)."""
        return {s.name: tuple(dict.fromkeys(cls.required_tables + s.tables)) for s in cls.specs}

    @classmethod
    def catalogue(cls) -> pd.DataFrame:
        rows = [{"feature": s.name, "meaning": s.meaning, "unit": s.unit, "driver": s.driver, "family": cls.family,
                 "direction": s.direction} for s in cls.specs]
        return pd.DataFrame(rows, columns=["feature", "meaning", "unit", "driver", "family", "direction"])


def valid_drivers() -> set[str]:
    return set(driver_codes()) | {"other"}


def months_between(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """Whole-and-fractional months from ``earlier`` to ``later`` (days / 30.4375)."""
    d = (pd.to_datetime(later).to_numpy() - pd.to_datetime(earlier).to_numpy()) / np.timedelta64(1, "D")
    return d.astype("float64") / 30.4375


class WorkerLookup:
    """Each snapshot's row in ``workers`` (first row per worker_id), found once by integer code.

    Replaces per-column ``snapshots.worker_id.map(workers[col])`` (a string hash per call and column) with one
    Arrow hash lookup and then plain array indexing. ``codes`` number the snapshot workers in a code book of
    the workers table's ids followed by any snapshot ids not in it (those have no attributes, NaN/NaT).
    """

    def __init__(self, workers: pd.DataFrame, worker_ids):
        self.W = workers.drop_duplicates("worker_id").reset_index(drop=True)
        ids = self.W["worker_id"].to_numpy(dtype=object)
        codes = encode(worker_ids, ids)
        missing = codes < 0
        if missing.any():   # snapshot workers absent from the table: give them codes of their own
            extra = sorted_keys(pd.Series(worker_ids)[missing])
            ids = np.concatenate([ids, extra])
            codes = encode(worker_ids, ids)
        self.book = ids
        self.codes = codes
        self.n_workers = len(self.W)

    def _rows(self):
        hit = (self.codes >= 0) & (self.codes < self.n_workers)
        return hit, np.where(hit, self.codes, 0)

    def num(self, col: str) -> np.ndarray:
        """``workers[col]`` as float64 per snapshot (NaN when unknown)."""
        return self.at(self.W[col].to_numpy(dtype="float64", na_value=np.nan))

    def dates(self, col: str) -> np.ndarray:
        return self.at(pd.to_datetime(self.W[col]).to_numpy().astype("datetime64[ns]"), np.datetime64("NaT"))

    def at(self, per_worker: np.ndarray, fill=np.nan) -> np.ndarray:
        """Index an array aligned to ``self.W`` rows by snapshot; ``fill`` for unknown workers."""
        hit, rows = self._rows()
        out = per_worker[rows]
        if not hit.all():
            out = out.astype(np.result_type(out.dtype, np.asarray(fill).dtype)) if out.dtype == bool else out
            out[~hit] = fill
        return out

    def event_codes(self, ids) -> np.ndarray:
        """Codes of another table's worker ids in this code book (-1 when not a snapshot's or table's worker)."""
        return encode(ids, self.book)


def snapshot_frame(X: pd.DataFrame) -> pd.DataFrame:
    """worker_id / as_of of a snapshot frame with a clean RangeIndex.

    No built-in family uses it (they read ``worker_id``/``as_of`` from the snapshots directly); it is a
    convenience for a custom family written outside the package, and the leakage tests' probe families use it.
    """
    return pd.DataFrame({"worker_id": X["worker_id"].astype(object).to_numpy(),
                         "as_of": pd.to_datetime(X["as_of"]).to_numpy()})
