"""Leakage guard: features at as_of must not change when everything from as_of onwards is hidden or altered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features import FAMILIES, build_dataset, build_features, feature_catalogue
from retention_ml.features._base import FeatureFamily, FeatureSpec, snapshot_frame
from retention_ml.labels import LabelConfig
from retention_ml.schema import load_schemas

#: (table, date column, kind) -- kind "month" rows are known from the next month; "event" from the next day
TIME_COLUMNS = {"caseload_history": "month", "absence": "month", "housing_costs": "period", "agency_rates": "period",
                "pay_history": "effective_date", "commute": "effective_date", "supervision": "date",
                "exit_interviews": "interview_date", "team_history": "effective_date", "fte_history": "effective_date"}
MONTHLY = {"caseload_history", "absence", "housing_costs", "agency_rates"}


def truncate(tables: dict, t: pd.Timestamp, *, mode: str = "delete", seed: int = 0) -> dict:
    """What was knowable at t: rows dated on/after t deleted (or perturbed), own future leaving hidden."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, df in tables.items():
        col = TIME_COLUMNS.get(name)
        if col is None or col not in df:
            out[name] = df.copy()
            continue
        # A monthly row is unknown until its month is over: mid-month, the current month's row is future too.
        cutoff = t.to_period("M").to_timestamp() if name in MONTHLY else t
        future = pd.to_datetime(df[col]) >= cutoff
        if mode == "delete":
            out[name] = df.loc[~future].copy()
        else:
            d = df.copy()
            for c in d.columns:
                if pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(d[c]):
                    vals = d[c].astype("float64") * rng.uniform(0.3, 3.0, len(d))
                    d[c] = d[c].astype("float64").where(~future.to_numpy(), vals.round())
            out[name] = d
    w = out["workers"]
    future_end = (pd.to_datetime(w["end_date"]) >= t).fillna(False).to_numpy()
    w.loc[future_end, "end_date"] = pd.NaT
    w.loc[future_end, "leaving_reason"] = None
    if "left_voluntarily" in w:
        w.loc[future_end, "left_voluntarily"] = pd.NA
    if mode == "delete":
        w = w.loc[~(pd.to_datetime(w["start_date"]) >= t).to_numpy()]
    out["workers"] = w
    return out


def guard(tables: dict, dates, families) -> list[str]:
    """Feature columns that differ between full and truncated tables at any of ``dates``."""
    bad = set()
    for i, t in enumerate(pd.to_datetime(dates)):
        full = build_features(tables, [t], families=families)
        for mode in ("delete", "perturb"):
            cut = build_features(truncate(tables, t, mode=mode, seed=i), [t], families=families)
            pd.testing.assert_frame_equal(full.keys[["worker_id", "as_of"]], cut.keys[["worker_id", "as_of"]])
            a, b = full.X.to_numpy(dtype="float64"), cut.X.to_numpy(dtype="float64")
            diff = ~((a == b) | (np.isnan(a) & np.isnan(b)))
            bad |= set(full.X.columns[diff.any(axis=0)])
    return sorted(bad)


def _dates(tables, n=4, seed=0):
    months = pd.to_datetime(tables["caseload_history"]["month"])
    grid = pd.date_range(months.min() + pd.DateOffset(months=3), months.max(), freq="MS")
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(grid, size=min(n, len(grid)), replace=False))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_no_leak_tiny(tiny_tables, family):
    # mid-month dates: the month under way is not complete, so its monthly rows (caseload, agency rates) are unknown
    assert guard(tiny_tables, ["2023-10-01", "2024-01-01", "2024-01-15", "2024-02-15", "2024-03-01"], [family]) == []


@pytest.mark.parametrize("family", list(FAMILIES))
def test_no_leak_simulated(sim_tables, family):
    assert guard(sim_tables, _dates(sim_tables, n=3, seed=hash(family) % 1000), [family]) == []


@pytest.fixture(scope="module")
def policy_tables():
    """A small simulation whose caps and establishment change part-way (so it has a team_history)."""
    from retention_ml.simulate import Scenario, run

    scenario = Scenario.from_dict({"policy_start": "2020-07", "caseload_cap": 15, "extra_posts_share": 0.1})
    tables, _, _ = run(councils=2, start="2019-01", months=36, seed=5, scenario=scenario)
    assert "team_history" in tables
    return tables


@pytest.mark.parametrize("family", ["caseload", "team"])
def test_no_leak_with_team_history(policy_tables, family):
    # the change's own date, the days either side of it, and a mid-month date after it
    dates = ["2020-06-01", "2020-07-01", "2020-07-02", "2020-08-01", "2021-03-15"]
    assert guard(policy_tables, dates, [family]) == []


def test_team_history_changes_features_only_after_its_date(policy_tables):
    # the guard above would also pass if the history were ignored: it must be read, from the day after its date
    without = {k: v for k, v in policy_tables.items() if k != "team_history"}   # every date: today's cap of 15
    fams = ["caseload", "team"]
    before = build_features(policy_tables, ["2020-07-01"], families=fams).X
    assert (before["caseload_cap"] != 15).mean() > 0.5             # the caps by team type, the change not yet known
    old = build_features(without, ["2020-07-01"], families=fams).X
    assert (old["caseload_cap"] == 15).all()
    assert not np.allclose(before["team_vacancy_rate"], old["team_vacancy_rate"], equal_nan=True)  # no extra posts yet
    after = build_features(policy_tables, ["2020-08-01"], families=fams).X
    now = build_features(without, ["2020-08-01"], families=fams).X
    assert (after["caseload_cap"] == 15).all()
    pd.testing.assert_series_equal(after["team_vacancy_rate"], now["team_vacancy_rate"])
    # months before the change were over the caps of their own time, not today's
    assert not after["caseload_over_cap_months_12m"].equals(now["caseload_over_cap_months_12m"])


def test_every_dated_table_is_truncated():
    # a dated table the guard does not cut would pass it whatever the features read from it
    dated = {name for name, s in load_schemas().items() if any(c.not_after_as_of for c in s.columns)}
    assert dated - {"workers"} == set(TIME_COLUMNS)   # workers' dates are cut by truncate itself


@pytest.fixture(scope="module")
def fte_tables(sim_tables):
    """sim_tables with contract changes: a third of the spells change hours once, inside the spell, and
    workers.fte holds the latest (today's) hours; the history also gives the hours at the start."""
    rng = np.random.default_rng(11)
    w = sim_tables["workers"].copy()
    months = pd.to_datetime(sim_tables["caseload_history"]["month"])
    start = pd.to_datetime(w["start_date"])
    end = pd.to_datetime(w["end_date"]).fillna(months.max())
    span = (end - start).dt.days.to_numpy()
    pick = (rng.random(len(w)) < 1 / 3) & (span > 60)
    when = start[pick] + pd.to_timedelta((rng.random(pick.sum()) * span[pick]).astype("int64"), unit="D")
    # half dated on a month's first day, the snapshots' dates: a change dated on as_of must wait for the next one
    first = when.dt.to_period("M").dt.to_timestamp()
    when = when.where((rng.random(len(when)) < 0.5) | (first <= start[pick]), first)
    new = rng.choice([0.5, 0.6, 0.8, 1.0], pick.sum())
    ids = w.loc[pick, "worker_id"].to_numpy()
    hist = pd.DataFrame({"worker_id": np.concatenate([ids, ids]),
                         "effective_date": np.concatenate([start[pick].to_numpy(), when.to_numpy()]),
                         "fte": np.concatenate([w.loc[pick, "fte"].to_numpy(dtype="float64"), new])})
    w.loc[pick, "fte"] = new
    return dict(sim_tables, workers=w, fte_history=hist.astype({"worker_id": object}))


@pytest.mark.parametrize("family", ["caseload", "housing", "team"])
def test_no_leak_with_fte_history(fte_tables, family):
    assert guard(fte_tables, _dates(fte_tables, n=3, seed=7) + [pd.Timestamp("2021-03-15")], [family]) == []


def test_fte_history_is_read(fte_tables):
    # the guard above would also pass if the history were ignored: it changes the features it feeds
    without = {k: v for k, v in fte_tables.items() if k != "fte_history"}
    fams = ["caseload", "housing", "team"]
    a, b = build_features(fte_tables, ["2021-01-01"], families=fams).X, build_features(without, ["2021-01-01"], families=fams).X
    changed = {c for c in a if not a[c].equals(b[c])}
    assert {"caseload_to_cap", "housing_rent_to_pay", "team_vacancy_rate", "team_agency_share"} <= changed
    assert changed <= {"caseload_to_cap", "caseload_over_cap_months_6m", "caseload_over_cap_months_12m",
                       "housing_rent_to_pay", "housing_price_to_salary", "team_vacancy_rate",
                       "team_leavers_rate_12m", "team_agency_share"}   # the DfE rates count FTE in force


class LeakyFeatures(FeatureFamily):
    """Deliberately leaky: months until the worker's own end_date (future information)."""

    family = "leaky"
    required_tables = ("workers",)
    specs = (FeatureSpec("leaky_months_to_end", "planted leak", "months", "other"),)

    def _compute(self, X):
        s = snapshot_frame(X)
        end = s["worker_id"].map(self.tables["workers"].set_index("worker_id")["end_date"])
        return pd.DataFrame({"leaky_months_to_end": (end - s["as_of"]).dt.days.to_numpy(dtype="float64")})


class LeakyCaseload(FeatureFamily):
    """Deliberately leaky: uses the caseload row of the as_of month itself (month <= as_of)."""

    family = "leaky2"
    required_tables = ("caseload_history",)
    specs = (FeatureSpec("leaky_same_month", "planted leak", "cases", "other"),)

    def _compute(self, X):
        s = snapshot_frame(X)
        ch = self.tables["caseload_history"]
        m = s.merge(ch.rename(columns={"month": "as_of"}), on=["worker_id", "as_of"], how="left")
        return pd.DataFrame({"leaky_same_month": m["open_cases"].to_numpy(dtype="float64")})


@pytest.mark.parametrize("cls", [LeakyFeatures, LeakyCaseload])
def test_guard_catches_planted_leak(tiny_tables, monkeypatch, cls):
    monkeypatch.setitem(FAMILIES, cls.family, cls)
    assert guard(tiny_tables, ["2024-01-01", "2024-02-01"], [cls.family]) == [cls.specs[0].name]


def test_future_canary_never_appears(tiny_tables):
    t = {k: v.copy() for k, v in tiny_tables.items()}
    ch = t["caseload_history"]
    ch["future_canary"] = 1.0
    extra = ch.iloc[[0]].assign(month=pd.Timestamp("2030-01-01"), open_cases=999, future_canary=1e9)
    t["caseload_history"] = pd.concat([ch, extra], ignore_index=True)
    a = build_features(tiny_tables, ["2024-01-01", "2024-02-01"]).X
    b = build_features(t, ["2024-01-01", "2024-02-01"]).X
    assert not any("canary" in c for c in b.columns)
    pd.testing.assert_frame_equal(a, b)


def test_protected_and_ids_never_in_X_or_keys(sim_tables):
    ds = build_dataset(sim_tables, pd.date_range("2020-01-01", periods=3, freq="MS"))
    protected = {c for s in load_schemas().values() for c in s.protected_columns}
    assert protected and not protected & set(ds.X.columns) and not protected & set(ds.keys.columns)
    forbidden = {"worker_id", "team_id", "council_id", "manager_id", "as_of", "area", "service", "role",
                 "employment_type", "home_area", "office_area", "start_date", "end_date", "leaving_reason"}
    assert not forbidden & set(ds.X.columns)
    assert all(pd.api.types.is_float_dtype(d) for d in ds.X.dtypes)


def test_labels_never_enter_features(tiny_tables):
    # flipping every leaving reason / voluntary flag changes labels but not one feature
    t = {k: v.copy() for k, v in tiny_tables.items()}
    t["workers"]["leaving_reason"] = "retirement"
    dates = pd.date_range("2023-10-01", periods=4, freq="MS")
    cfg = LabelConfig(horizon_months=3)
    a, b = build_dataset(tiny_tables, dates, label_config=cfg), build_dataset(t, dates, label_config=cfg)
    assert not a.y.equals(b.y)
    pd.testing.assert_frame_equal(a.X, b.X)


def test_scoring_equals_training_X(sim_tables):
    dates = pd.date_range("2020-06-01", periods=4, freq="MS")
    ds = build_dataset(sim_tables, dates)
    sc = build_features(sim_tables, dates)
    pd.testing.assert_frame_equal(ds.X, sc.X)
    pd.testing.assert_frame_equal(ds.keys, sc.keys)


def test_catalogue_complete():
    cat = feature_catalogue()
    assert cat["feature"].is_unique and set(cat["family"]) == set(FAMILIES)
    assert cat[["meaning", "unit", "driver"]].ne("").all().all()
