"""Point-in-time join helpers: the only place features look at time.

Every helper answers "what was known strictly before ``as_of``":

* monthly rows (``month`` = first day of the month they describe) are usable iff the month is complete, i.e.
  ``month < first day of as_of's month`` (on the 1st that is ``month < as_of``; mid-month, the current month's
  row is not complete yet);
* dated events are usable iff ``date < as_of``.

All helpers are vectorised over every (key, as_of) pair at once: keys become integer codes (Arrow hashing,
once per table), and "latest event before t" is one ``searchsorted`` over (key code, time rank) integers, so
no helper merges string keys or loops over workers in Python.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def ns(values) -> np.ndarray:
    """Datetimes as datetime64[ns] (pandas 3 may hand us other resolutions)."""
    if isinstance(values, np.ndarray) and values.dtype == "datetime64[ns]":
        return values
    return pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[ns]")


def month_index(dates) -> np.ndarray:
    """Integer month number (year * 12 + month - 1) of each date as float64; NaT -> NaN."""
    d = ns(dates)
    m = d.astype("datetime64[M]")
    out = m.astype("int64").astype("float64") + 1970 * 12
    out[np.isnat(d)] = np.nan
    return out


def month_start(as_of) -> np.ndarray:
    """First day of each date's month (datetime64[ns]): a monthly row is usable iff its month is before this."""
    return ns(as_of).astype("datetime64[M]").astype("datetime64[ns]")


def last_known_month(as_of) -> np.ndarray:
    """Index of the last month whose row is usable at ``as_of`` (month < first day of as_of's month).

    For ``as_of`` on the 1st this is the previous month; for mid-month ``as_of`` the previous month
    too, because the current month's row is not complete until the next month starts.
    """
    return month_index(as_of) - 1


# ---------------------------------------------------------------- key codes
def _arrow(values) -> pa.Array:
    if isinstance(values, pd.Series):
        values = values.array
    arr = getattr(values, "_pa_array", None)
    if arr is not None:
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pa.array(np.asarray(values, dtype=object), from_pandas=True)


def sorted_keys(values) -> np.ndarray:
    """Sorted distinct non-missing keys (object array), the code book for :func:`encode`."""
    try:
        u = pc.unique(_arrow(values)).drop_null()
        return np.asarray(u.take(pc.sort_indices(u)).to_pylist(), dtype=object)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return np.asarray(sorted(pd.unique(pd.Series(values).dropna())), dtype=object)


def encode(values, keys: np.ndarray) -> np.ndarray:
    """Position of each value in ``keys`` (int64), -1 when absent or missing.

    The values are dictionary-encoded first (each distinct value hashed once), then only the distinct values
    are looked up in ``keys``. For Arrow-backed columns (immutable) that dictionary is reused across calls,
    so the snapshot ids that every feature family encodes are hashed once per build, not once per family.
    """
    if len(keys) == 0:
        return np.full(len(values), -1, dtype="int64")
    try:
        indices, dictionary = _dictionary(values)
        ks = pa.array(keys, from_pandas=True)
        if dictionary.type != ks.type:
            if not (_stringy(dictionary.type) and _stringy(ks.type)):
                raise pa.ArrowInvalid("key types differ")
            ks = ks.cast(dictionary.type)
        per_value = pc.index_in(dictionary, value_set=ks).fill_null(-1).to_numpy(zero_copy_only=False)
        per_value = np.append(per_value.astype("int64"), -1)          # slot -1: missing values
        return per_value[indices]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Index(keys).get_indexer(pd.Series(values).astype(object).to_numpy()).astype("int64")


#: (weak reference to an Arrow array, its dictionary encoding) for the last few Arrow columns encoded;
#: weak, so a column that is gone is neither kept alive nor mistaken for a new one at the same address
_DICT_CACHE: list[tuple[weakref.ref, np.ndarray, pa.Array]] = []


def _dictionary(values) -> tuple[np.ndarray, pa.Array]:
    """(index of each value in the dictionary, -1 for missing; dictionary of distinct values)."""
    src = values.array if isinstance(values, pd.Series) else values
    chunked = getattr(src, "_pa_array", None)
    if chunked is not None:
        _DICT_CACHE[:] = [e for e in _DICT_CACHE if e[0]() is not None]
        for ref, idx, dic in _DICT_CACHE:
            if ref() is chunked:   # the same immutable Arrow object: the same content
                return idx, dic
    d = pc.dictionary_encode(_arrow(values))
    idx = d.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    if chunked is not None:
        _DICT_CACHE.insert(0, (weakref.ref(chunked), idx, d.dictionary))
        del _DICT_CACHE[3:]
    return idx, d.dictionary


def _stringy(t) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


class EventIndex:
    """Dated events sorted by (key code, time) for "latest event strictly before t" lookups.

    ``codes`` are integer key codes (-1 = unknown key, dropped); ``times`` the event dates. Ties keep the
    input order, so the latest of several same-day events is the last one given.
    """

    def __init__(self, codes: np.ndarray, times):
        codes = np.asarray(codes, dtype="int64")
        t = ns(times)
        ok = (codes >= 0) & ~np.isnat(t)
        self.rows = np.flatnonzero(ok)
        ti = t[ok].view("int64")
        self.utimes = np.unique(ti)
        rank = np.searchsorted(self.utimes, ti)
        self._width = len(self.utimes) + 1
        comp = codes[ok].astype("int64") * self._width + rank
        order = np.argsort(comp, kind="stable")
        self.rows = self.rows[order]          # positions in the input, sorted by (code, time)
        self.codes = codes[ok][order]
        self._comp = comp[order]

    def last_before(self, q_codes: np.ndarray, q_times) -> np.ndarray:
        """Position (in the sorted events) of the latest event with the same code and time < q_time, else -1."""
        qt = ns(q_times)
        q_codes = np.asarray(q_codes, dtype="int64")
        q_rank = np.searchsorted(self.utimes, qt.view("int64"), side="left")   # event times < q_time
        pos = np.searchsorted(self._comp, q_codes * self._width + q_rank, side="left") - 1
        hit = (pos >= 0) & (q_codes >= 0) & ~np.isnat(qt)
        hit[hit] = self.codes[pos[hit]] == q_codes[hit]
        return np.where(hit, pos, -1)

    def take(self, values: np.ndarray, q_codes: np.ndarray, q_times, fill=np.nan) -> np.ndarray:
        """``values`` (aligned to the input events) of the latest event before each query."""
        pos = self.last_before(q_codes, q_times)
        out = np.full(len(pos), fill, dtype=np.result_type(values.dtype, np.asarray(fill).dtype))
        hit = pos >= 0
        out[hit] = values[self.rows[pos[hit]]]
        return out

    def cumulative(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Running total per key in (code, time) order, aligned to the sorted events (for counting)."""
        w = np.ones(len(self.rows)) if weights is None else np.asarray(weights, dtype="float64")[self.rows]
        return pd.Series(w).groupby(self.codes, sort=False).cumsum().to_numpy(dtype="float64")

    def count_before(self, q_codes: np.ndarray, q_times, cum: np.ndarray) -> np.ndarray:
        pos = self.last_before(q_codes, q_times)
        res = np.zeros(len(pos))
        hit = pos >= 0
        res[hit] = cum[pos[hit]]
        return np.nan_to_num(res, nan=0.0)   # a key whose latest weight was missing counts 0 (as before)


def _codes_for(queries_keys, events_keys):
    keys = sorted_keys(events_keys)
    return encode(events_keys, keys), encode(queries_keys, keys)


def asof_last(queries: pd.DataFrame, events: pd.DataFrame, *, by: str, on: str, cols: list[str],
              query_on: str = "as_of") -> pd.DataFrame:
    """Latest event strictly before each query date (``events[on] < queries[query_on]``).

    The one-call convenience (it builds the :class:`EventIndex` each time); the families build the index once
    per table and call :func:`asof_take`, which this wraps, so this is what the point-in-time tests exercise.

    Returns a frame aligned to ``queries`` (same index) holding ``cols`` and ``<on>`` of the matched event
    (NaN / NaT when none).
    """
    ev_codes, q_codes = _codes_for(queries[by], events[by])
    ix = EventIndex(ev_codes, events[on])
    return asof_take(ix, events, on=on, cols=cols, q_codes=q_codes, q_times=queries[query_on],
                     index=queries.index)


def asof_take(ix: EventIndex, events: pd.DataFrame, *, on: str, cols: list[str], q_codes, q_times,
              index=None) -> pd.DataFrame:
    """:func:`asof_last` on an :class:`EventIndex` already built (shared across calls on one table)."""
    pos = ix.last_before(q_codes, q_times)
    hit = pos >= 0
    src = ix.rows[pos[hit]]
    out = {}
    for c in cols:
        v = np.full(len(pos), np.nan)
        v[hit] = events[c].to_numpy(dtype="float64", na_value=np.nan)[src]
        out[c] = v
    t = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
    t[hit] = ns(events[on])[src]
    out[on] = t
    return pd.DataFrame(out, index=index)


def count_before(queries: pd.DataFrame, events: pd.DataFrame, *, by: str, on: str, query_dates,
                 weight: str | None = None) -> np.ndarray:
    """Number (or weighted sum) of events per ``by`` key dated strictly before each query date."""
    ev_codes, q_codes = _codes_for(queries[by], events[by])
    ix = EventIndex(ev_codes, events[on])
    cum = ix.cumulative(events[weight].to_numpy(dtype="float64") if weight else None)
    return ix.count_before(q_codes, query_dates, cum)


class MonthGrid:
    """Monthly rows of one table laid on a contiguous per-key month grid, for rolling windows.

    The grid for a key runs from its first row's month to the later of its last row and the last month
    needed by the queries, so a fixed-size row window on the grid is exactly a calendar-month window.
    Months without a row are NaN (never invented). Windows end at the last month usable at as_of.
    Keys are laid out in sorted order; a row's grid position is arithmetic on (key code, month), no merge.
    """

    def __init__(self, rows: pd.DataFrame, *, by: str, month: str, cols: list[str], queries: pd.DataFrame):
        m_all = month_index(rows[month])
        keys = sorted_keys(rows[by][~np.isnan(m_all)])
        code = encode(rows[by], keys)
        ok = (code >= 0) & ~np.isnan(m_all)
        code, m = code[ok], m_all[ok].astype("int64")
        q_code = encode(queries[by], keys)
        q_m = last_known_month(queries["as_of"])
        k = len(keys)
        first = np.full(k, np.iinfo("int64").max)
        np.minimum.at(first, code, m) if len(code) else None
        last = np.full(k, np.iinfo("int64").min)
        np.maximum.at(last, code, m) if len(code) else None
        qv = (q_code >= 0) & ~np.isnan(q_m)
        np.maximum.at(last, q_code[qv], q_m[qv].astype("int64"))
        n = np.clip(last - first + 1, 1, None)
        start = np.cumsum(n) - n
        size = int(n.sum())
        # one grid slot per (key, month); duplicate rows: the last one wins (as before)
        pos = start[code] + (m - first[code])
        if len(pos) and np.bincount(pos, minlength=size).max() > 1:
            rev = len(pos) - 1 - np.unique(pos[::-1], return_index=True)[1]
        else:   # no duplicate (key, month) rows: every row keeps its slot, no sort needed
            rev = np.arange(len(pos))
        src = np.flatnonzero(ok)[rev]
        self.grid: dict[str, np.ndarray] = {}
        for c in cols:
            v = np.full(size, np.nan)
            v[pos[rev]] = rows[c].to_numpy(dtype="float64", na_value=np.nan)[src]
            self.grid[c] = v
        self.keys = keys
        self.row_code = np.full(len(ok), -1, dtype="int64")
        self.row_code[ok] = code                      # key code of each input row (-1: dropped)
        self.key_code = np.repeat(np.arange(k), n)    # key code of each grid slot
        self._first_month = first
        self._group_start = np.repeat(start, n)
        qpos = np.full(len(q_code), -1, dtype="int64")
        qm = np.where(qv, np.nan_to_num(q_m, nan=0), 0).astype("int64")
        inside = qv.copy()
        inside[qv] = qm[qv] >= first[q_code[qv]]
        qpos[inside] = start[q_code[inside]] + qm[inside] - first[q_code[inside]]
        # Windows are evaluated at ``_at`` only, the grid rows the queries read (ascending, so reads are
        # sequential), then fanned out to the queries. One scoring date reads one row per person, a tiny part of
        # the history; a training build reads most rows, and then every row is evaluated, saving the sort.
        self._hit = qpos >= 0
        q = qpos[self._hit]
        if 4 * len(q) >= size:
            self._at, self._at_inverse, self._at_start = np.arange(size), q, self._group_start
        else:
            self._at, self._at_inverse = np.unique(q, return_inverse=True)
            self._at_start = self._group_start[self._at]       # first grid row of each one's key

    def slot_months(self) -> np.ndarray:
        """Month index (:func:`month_index`) of every grid slot, for values that change over the months."""
        return self._first_month[self.key_code] + np.arange(len(self.key_code)) - self._group_start

    def slots_read(self, window: int) -> np.ndarray | None:
        """Grid slots (ascending) that a window of up to ``window`` months ending at a query's row reads, or None
        when that is every slot (a training build).

        A value computed per slot (a cap in force that month) is needed only there: :meth:`rolling` takes window
        differences at the queries' rows, so a slot outside every window never changes a result. One scoring
        date reads 12 months per person of a history that can span years.
        """
        size = len(self.key_code)
        if len(self._at) == size:
            return None
        lo = np.maximum(self._at - window + 1, self._at_start)
        edges = np.zeros(size + 1, dtype=np.int64)
        np.add.at(edges, lo, 1)
        np.add.at(edges, self._at + 1, -1)
        return np.flatnonzero(np.cumsum(edges[:-1]) > 0)

    def _window_sum(self, v: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count of non-NaN values in the ``window`` grid rows ending at each grid row of ``_at`` (same key only).

        Cumulative sums over the whole contiguous grid replace a per-key rolling loop; the differences are taken
        only at the rows asked for (the queries'), since every other grid row's window is never read.
        """
        at = self._at
        lo = np.maximum(at - window, self._at_start - 1) + 1   # first row index inside the window
        ok = ~np.isnan(v)
        cs = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
        cn = np.concatenate([[0], np.cumsum(ok)])
        return cs[at + 1] - cs[lo], cn[at + 1] - cn[lo]

    def _back(self, v: np.ndarray, months: int) -> np.ndarray:
        """``v`` ``months`` grid rows before each grid row of ``_at``, NaN where that is before the key's first month."""
        back = self._at - months
        return np.where(back >= self._at_start, v[np.maximum(back, 0)], np.nan)

    def rolling(self, col: str, window: int, how: str) -> np.ndarray:
        """Rolling ``how`` (mean/max/sum/slope/last) of ``col`` over the ``window`` months before as_of.

        Months without a row are skipped; a window with no row at all gives NaN.
        """
        v = self.grid[col]
        if how == "last":
            vals = v[self._at]
        elif how == "slope":
            vals = self._slope(v, window)
        elif how in ("sum", "mean"):
            s, n = self._window_sum(v, window)
            with np.errstate(invalid="ignore", divide="ignore"):
                vals = np.where(n > 0, s if how == "sum" else s / np.maximum(n, 1), np.nan)
        elif how == "max":
            vals = v[self._at]
            for o in range(1, window):
                vals = np.fmax(vals, self._back(v, o))
        else:
            raise ValueError(f"MonthGrid.rolling: unknown how={how!r}")
        return self._at_queries(vals)

    def rolling_shift(self, col: str, months: int) -> np.ndarray:
        """Value ``months`` months before the last usable month (NaN when that month has no row)."""
        return self._at_queries(self._back(self.grid[col], months))

    def _slope(self, y: np.ndarray, window: int) -> np.ndarray:
        # least-squares slope on x = grid position within the window; NaN months are skipped
        x = np.arange(len(y), dtype="float64") - self._group_start
        ok = ~np.isnan(y)
        n = self._window_sum(np.where(ok, 1.0, np.nan), window)[0]
        sx = self._window_sum(np.where(ok, x, np.nan), window)[0]
        sy = self._window_sum(y, window)[0]
        sxy = self._window_sum(x * y, window)[0]
        sxx = self._window_sum(np.where(ok, x * x, np.nan), window)[0]
        den = n * sxx - sx ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((n >= 2) & (den > 0), (n * sxy - sx * sy) / den, np.nan)

    def _at_queries(self, vals: np.ndarray) -> np.ndarray:
        """Per query: the value in ``vals`` (one per row of ``_at``) of its grid row, NaN when it has none."""
        out = np.full(len(self._hit), np.nan)
        out[self._hit] = vals[self._at_inverse.ravel()]
        return out
