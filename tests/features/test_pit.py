"""The point-in-time helpers against plain pandas references (merge_asof, per-key loops) on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features._pit import MonthGrid, asof_last, count_before, encode


def _events(rng, n=400):
    # few keys and few distinct days, so same-day ties and NaT / missing keys all occur
    days = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    ev = pd.DataFrame({"k": rng.choice(["a", "b", "c", "d", None], n).astype(object), "t": days,
                       "v": rng.normal(size=n), "w": rng.random(n)})
    ev.loc[rng.random(n) < 0.05, "t"] = pd.NaT
    return ev


def _queries(rng, n=300):
    t = pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(-5, 70, n), unit="D")
    q = pd.DataFrame({"k": pd.array(rng.choice(["a", "b", "c", "e"], n), dtype="str"), "as_of": t},
                     index=rng.permutation(n) + 1000)
    assert q["k"].notna().all()
    return q


@pytest.mark.parametrize("seed", range(5))
def test_asof_last_is_merge_asof(seed):
    rng = np.random.default_rng(seed)
    ev, q = _events(rng), _queries(rng)
    got = asof_last(q, ev, by="k", on="t", cols=["v"])
    # reference: latest event strictly before as_of, the last of same-day ties in input order
    e = ev.dropna(subset=["t", "k"]).reset_index(drop=True)
    want_v, want_t = [], []
    for k, t in zip(q["k"], q["as_of"]):
        m = e[(e["k"] == k) & (e["t"] < t)]
        m = m[m["t"] == m["t"].max()] if len(m) else m
        want_v.append(m["v"].iloc[-1] if len(m) else np.nan)
        want_t.append(m["t"].iloc[-1] if len(m) else pd.NaT)
    np.testing.assert_array_equal(got["v"].to_numpy(), np.array(want_v, dtype="float64"))
    np.testing.assert_array_equal(got["t"].to_numpy(), pd.to_datetime(pd.Series(want_t)).to_numpy())
    assert got.index.equals(q.index)


@pytest.mark.parametrize("seed", range(5))
def test_count_before_is_a_filtered_sum(seed):
    rng = np.random.default_rng(seed)
    ev, q = _events(rng), _queries(rng)
    got = count_before(q, ev, by="k", on="t", query_dates=q["as_of"], weight="w")
    want = [ev.loc[(ev["k"] == k) & (ev["t"] < t), "w"].sum() for k, t in zip(q["k"], q["as_of"])]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    n = count_before(q, ev, by="k", on="t", query_dates=q["as_of"])
    np.testing.assert_array_equal(n, [((ev["k"] == k) & (ev["t"] < t)).sum() for k, t in zip(q["k"], q["as_of"])])


def test_month_grid_windows_and_duplicate_rows():
    rows = pd.DataFrame({"k": ["a", "a", "a", "a", "b"],
                         "m": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-02-01", "2023-04-01", "2023-03-01"]),
                         "x": [1.0, 2.0, 5.0, 7.0, 3.0]})
    q = pd.DataFrame({"k": ["a", "a", "b", "z"], "as_of": pd.to_datetime(["2023-03-01", "2023-05-15", "2023-03-01",
                                                                         "2023-05-01"])})
    g = MonthGrid(rows, by="k", month="m", cols=["x"], queries=q)
    # a duplicate (key, month) row: the last one wins (5, not 2); March of "a" has no row (skipped)
    np.testing.assert_array_equal(g.rolling("x", 1, "last"), [5.0, 7.0, np.nan, np.nan])
    np.testing.assert_array_equal(g.rolling("x", 3, "sum"), [6.0, 12.0, np.nan, np.nan])
    np.testing.assert_array_equal(g.rolling("x", 12, "max"), [5.0, 7.0, np.nan, np.nan])


def test_encode_reuses_only_the_same_arrow_column():
    keys = np.array(["a", "b", "c"], dtype=object)
    s = pd.Series(["c", "a", None, "x"], dtype="str")
    np.testing.assert_array_equal(encode(s, keys), [2, 0, -1, -1])
    np.testing.assert_array_equal(encode(s, keys), [2, 0, -1, -1])          # cached dictionary, same answer
    s2 = s.copy()
    s2.iloc[0] = "b"                                                         # a changed column is re-encoded
    np.testing.assert_array_equal(encode(s2, keys), [1, 0, -1, -1])
    np.testing.assert_array_equal(encode(s.astype(object), keys), [2, 0, -1, -1])
    np.testing.assert_array_equal(encode(pd.Series([3, 1, 9]), np.array([1, 2, 3])), [2, 0, -1])


def test_month_grid_one_date_equals_the_same_rows_of_a_many_date_build():
    # Scoring asks for one date (few grid rows, evaluated alone); training asks for many (every grid row is
    # evaluated). A person's features at a date must be bit-identical either way, fractional values and gaps too.
    rng = np.random.default_rng(3)
    keys = [f"k{i:03d}" for i in range(60)]
    rows = pd.DataFrame({"k": rng.choice(keys, 4000),
                         "m": pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 60, 4000) * 31, unit="D"),
                         "x": np.where(rng.random(4000) < 0.1, np.nan, rng.random(4000) * 37.3)})
    rows["m"] = rows["m"].dt.to_period("M").dt.to_timestamp()
    # people who started recently: their windows reach back before their first month (the key's grid start)
    new = pd.DataFrame({"k": np.repeat([f"n{i}" for i in range(5)], 5),
                        "m": np.tile(pd.date_range("2023-08-01", periods=5, freq="MS"), 5), "x": rng.random(25) * 9.1})
    rows = pd.concat([rows, new], ignore_index=True)
    keys += [f"n{i}" for i in range(5)]
    last = pd.Timestamp("2024-01-01")
    one = pd.DataFrame({"k": keys + ["nobody"], "as_of": last})
    many = pd.concat([one, *(pd.DataFrame({"k": keys, "as_of": d}) for d in pd.date_range("2019-03-01", last, freq="MS"))],
                     ignore_index=True)
    g1 = MonthGrid(rows, by="k", month="m", cols=["x"], queries=one)
    gm = MonthGrid(rows, by="k", month="m", cols=["x"], queries=many)
    assert len(g1._at) < len(gm._at)   # the two ways of evaluating are both exercised
    for how, window in [("last", 1), ("sum", 6), ("mean", 3), ("mean", 12), ("max", 12), ("slope", 6)]:
        np.testing.assert_array_equal(g1.rolling("x", window, how), gm.rolling("x", window, how)[:len(one)])
    np.testing.assert_array_equal(g1.rolling_shift("x", 12), gm.rolling_shift("x", 12)[:len(one)])


def test_slots_read_are_every_slot_a_window_ending_at_a_query_reads():
    # a value per grid slot (a cap in force that month) is computed only at slots_read(window): blanking every
    # other slot must leave every window of up to that many months unchanged, and a full build reads them all
    rng = np.random.default_rng(5)
    keys = [f"k{i:02d}" for i in range(30)]
    rows = pd.DataFrame({"k": rng.choice(keys, 1500), "x": (rng.random(1500) < 0.4).astype(float),
                         "m": pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 60, 1500) * 31, unit="D")})
    rows["m"] = rows["m"].dt.to_period("M").dt.to_timestamp()
    one = pd.DataFrame({"k": keys[:20] + ["nobody"], "as_of": [pd.Timestamp("2023-06-01")] * 10
                        + [pd.Timestamp("2019-04-15")] * 5 + [pd.Timestamp("2024-01-01")] * 6})
    g = MonthGrid(rows, by="k", month="m", cols=["x"], queries=one)
    read = g.slots_read(12)
    assert 0 < len(read) < len(g.key_code) and np.all(np.diff(read) > 0)
    full = {w: g.rolling("x", w, "sum") for w in (1, 6, 12)}
    blank = np.full(len(g.key_code), np.nan)
    blank[read] = g.grid["x"][read]
    g.grid["x"] = blank
    for w, expected in full.items():
        np.testing.assert_array_equal(g.rolling("x", w, "sum"), expected)
    g.grid["x"][read[g.grid["x"][read] == 1][0]] = np.nan   # the test bites: a slot read moves a window
    assert not np.array_equal(g.rolling("x", 12, "sum"), full[12], equal_nan=True)
    many = pd.DataFrame({"k": np.repeat(keys, 60), "as_of": np.tile(pd.date_range("2019-02-01", periods=60, freq="MS"), 30)})
    assert MonthGrid(rows, by="k", month="m", cols=["x"], queries=many).slots_read(12) is None
