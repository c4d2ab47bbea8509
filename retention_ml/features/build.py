"""Single entry point: tables + as-of dates -> snapshot keys, features X, labels y (training) or X only (scoring)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.compute as pc

from retention_ml.features._base import WorkerLookup, months_between, valid_drivers
from retention_ml.features._pit import encode, sorted_keys
from retention_ml.features.team_history import TeamValues
from retention_ml.features.absence_supervision import AbsenceFeatures, SupervisionFeatures
from retention_ml.features.caseload import CaseloadFeatures
from retention_ml.features.commute import CommuteFeatures
from retention_ml.features.housing import HousingFeatures
from retention_ml.features.pay import PayFeatures
from retention_ml.features.team import TeamFeatures
from retention_ml.features.tenure import TenureFeatures
from retention_ml.labels import LabelConfig, censoring_report, data_end_from, in_population, make_labels
from retention_ml.snapshots import make_snapshots

#: family name -> transformer class, in column order of X
FAMILIES: dict[str, type] = {
    "caseload": CaseloadFeatures,
    "tenure": TenureFeatures,
    "pay": PayFeatures,
    "commute": CommuteFeatures,
    "housing": HousingFeatures,
    "team": TeamFeatures,
    "absence": AbsenceFeatures,
    "supervision": SupervisionFeatures,
}

SNAPSHOT_KEY_COLUMNS = ["worker_id", "as_of", "team_id", "council_id", "area", "service", "role", "employment_type",
               "months_in_post", "manager_id"]


@dataclass
class SnapshotDataset:
    """Snapshot-by-feature matrix with keys, labels and the catalogue (rows aligned across fields)."""

    keys: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series | None = None
    censored: pd.Series | None = None
    catalogue: pd.DataFrame = field(default_factory=pd.DataFrame)
    censoring_report: pd.DataFrame = field(default_factory=pd.DataFrame)
    label_config: LabelConfig | None = None

    def __len__(self) -> int:
        return len(self.X)

    def summary(self) -> str:
        n = len(self.X)
        if self.y is None:
            return f"SnapshotDataset: {n} snapshots x {self.X.shape[1]} features (unlabelled)"
        pos = int(np.nansum(self.y.to_numpy()))
        return (f"SnapshotDataset: {n} snapshots x {self.X.shape[1]} features; {int(self.censored.sum())} censored; "
                f"{pos} positives (horizon {self.label_config.horizon_months} months)")


def _families(families) -> list[str]:
    names = list(FAMILIES) if families is None else list(families)
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown {unknown} (rule: one of {list(FAMILIES)})")
    return names


def feature_catalogue(families=None) -> pd.DataFrame:
    """Catalogue of every feature (feature, meaning, unit, driver, family), generated from the family classes."""
    cat = pd.concat([FAMILIES[f].catalogue() for f in _families(families)], ignore_index=True)
    bad = set(cat["driver"]) - valid_drivers()
    if bad:  # pragma: no cover - guarded by a test
        raise ValueError(f"feature catalogue: driver(s) {sorted(bad)} not in drivers.yaml")
    return cat


def _keys(snaps: pd.DataFrame, tables: dict) -> pd.DataFrame:
    wl = WorkerLookup(tables["workers"], snaps["worker_id"])
    t = tables["teams"].drop_duplicates("team_id")
    team_row = encode(snaps["team_id"], t["team_id"].to_numpy(dtype=object))
    k = snaps[["worker_id", "as_of", "team_id"]].copy()
    for c in ("council_id", "area", "service", "manager_id"):
        k[c] = _take_str(t[c], team_row, k["team_id"], t.set_index("team_id")) if c in t else None
    k["manager_id"] = _manager_at(k, tables)
    w_row = np.where((wl.codes >= 0) & (wl.codes < wl.n_workers), wl.codes, -1)
    for c in ("role", "employment_type"):
        k[c] = _take_str(wl.W[c], w_row, k["worker_id"], wl.W.set_index("worker_id"))
    k["months_in_post"] = months_between(k["as_of"], wl.dates("start_date")).astype("float32")
    return k[SNAPSHOT_KEY_COLUMNS]


def _manager_at(k: pd.DataFrame, tables: dict) -> pd.Series:
    """The team's manager at each snapshot's as_of: ``team_history`` rows dated before it, else ``teams``.

    A manager's list is their team on the scoring date, so this is the one place the keys' manager is decided.
    """
    book = sorted_keys(k["team_id"])
    decided, values = TeamValues(tables, book).labels_at("manager_id", encode(k["team_id"], book), k["as_of"])
    if not decided.any():
        return k["manager_id"]
    out = k["manager_id"].astype(object).to_numpy(copy=True)
    out[decided] = values
    return pd.Series(out, index=k.index, dtype=k["manager_id"].dtype if k["manager_id"].dtype != object else object)


def _take_str(values: pd.Series, rows: np.ndarray, keys: pd.Series, table: pd.DataFrame) -> pd.Series:
    """``values[rows]`` (-1 -> missing) as a pandas string column, gathered in Arrow (no per-row Python strings).

    Columns that are not text fall back to ``keys.map`` so the result's dtype is what a map gives.
    """
    arr = pa.array(values.to_numpy(dtype=object), from_pandas=True)
    if not pa.types.is_string(arr.type):
        return keys.map(table[values.name])
    taken = pc.take(arr.cast(pa.large_string()), pa.array(rows, mask=rows < 0))
    return pd.Series(taken, dtype="str", index=keys.index)


def _features(snaps: pd.DataFrame, tables: dict, names: list[str]) -> pd.DataFrame:
    parts = [FAMILIES[f](tables=tables).fit(snaps).transform(snaps) for f in names]
    X = pd.concat(parts, axis=1)
    return X.reset_index(drop=True)


def build_features(tables: dict, as_of_dates, families=None) -> SnapshotDataset:
    """Keys and features for every worker in post at each as_of (scoring path; no labels).

    Examples
    --------
    >>> ds = build_features(read_tables("data"), ["2025-01-01"])  # doctest: +SKIP
    """
    names = _families(families)
    _check_within_data(tables, as_of_dates)
    snaps = make_snapshots(tables["workers"], as_of_dates)
    return SnapshotDataset(keys=_keys(snaps, tables).reset_index(drop=True), X=_features(snaps, tables, names),
                           catalogue=feature_catalogue(names))


def _check_within_data(tables: dict, as_of_dates) -> None:
    """Refuse a date outside the data: its features would read months nobody has recorded (yet) as empty."""
    end = data_end_from(tables)
    dates = pd.to_datetime(pd.Series(list(as_of_dates)))
    first = pd.to_datetime(tables["caseload_history"]["month"]).min()
    # Features read the complete months before as-of's month, so mid-January with data from January has none.
    early = [d for d in dates if d.to_period("M").to_timestamp() <= first]
    if early:
        raise ValueError(f"as-of {early[0].date()} is before the data has a complete month: the first caseload_history "
                         f"month is {first.strftime('%Y-%m')}, so the earliest date that can be scored is "
                         f"{(first.to_period('M') + 1).to_timestamp().date()} (features use the complete months before "
                         "the as-of date)")
    late = [d for d in dates if d.to_period("M").to_timestamp() > end]
    if late:
        last = (end.to_period("M") - 1).strftime("%Y-%m")
        raise ValueError(f"as-of {late[0].date()} is after the data ends: the last caseload_history month is {last}, "
                         f"so the latest date that can be scored is in {end.strftime('%Y-%m')} (features use the complete "
                         "months before the as-of date's month)")


def build_dataset(tables: dict, as_of_dates, *, label_config: LabelConfig = LabelConfig(), families=None,
                  data_end=None) -> SnapshotDataset:
    """Keys, features, labels and censoring report for training/evaluation.

    Snapshots outside the population (``label_config.agency``) are dropped; censored snapshots stay in the
    frame with ``y`` NaN and ``censored`` True, so callers drop them before fitting (they are never 0).

    Parameters
    ----------
    tables : dict of DataFrame (``read_tables``)
    as_of_dates : sequence of dates (month starts by default)
    label_config : LabelConfig
    families : list of family names or None (all)
    data_end : date, optional
        Exclusive end of the data; default last caseload month + 1 month.

    Examples
    --------
    >>> ds = build_dataset(tables, month_starts("2020-01", "2023-12"), label_config=LabelConfig(horizon_months=6))  # doctest: +SKIP
    >>> ds.X[~ds.censored], ds.y[~ds.censored]  # doctest: +SKIP
    """
    names = _families(families)
    end = data_end_from(tables) if data_end is None else pd.Timestamp(data_end)
    snaps = make_snapshots(tables["workers"], as_of_dates)
    labels = make_labels(snaps, tables["workers"], config=label_config, data_end=end)
    pop = in_population(snaps, tables["workers"], label_config)
    report = censoring_report(snaps, labels, config=label_config, population=pop)
    snaps = snaps.loc[pop].reset_index(drop=True)
    labels = labels.loc[pop].reset_index(drop=True)
    return SnapshotDataset(
        keys=_keys(snaps, tables).reset_index(drop=True), X=_features(snaps, tables, names),
        y=labels["label"].rename("label"), censored=labels["censored"].rename("censored"),
        catalogue=feature_catalogue(names), censoring_report=report, label_config=label_config)
