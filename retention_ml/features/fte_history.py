"""Contracted hours (FTE) as they stood at given dates.

``workers.fte`` holds the current value and the optional ``fte_history`` the changes (data_schema/tables/
fte_history.yaml states the rule). The FTE at a date ``t`` is the one in the worker's latest history row dated
strictly before ``t``, else ``workers.fte``: the point-in-time rule of every dated table (``_pit``), as
``team_history`` reads team facts, so a change dated on a snapshot's as_of is read from the next snapshot on.

Without ``fte_history`` every date reads ``workers.fte``: the same numbers as before the table existed. Lookups
are one ``searchsorted`` over all (worker, date) queries at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import WorkerLookup
from retention_ml.features._pit import EventIndex, ns

__all__ = ["FteValues"]


class FteValues:
    """``workers.fte`` per worker code of a :class:`WorkerLookup` at given dates, ``fte_history`` applied.

    Parameters
    ----------
    tables : dict of DataFrame
        ``workers`` and, when given, ``fte_history`` (``read_tables``).
    wl : WorkerLookup
        The caller's lookup; queries pass codes in its book (``wl.codes``, or a workers-table row; -1 unknown).

    Examples
    --------
    >>> fv = FteValues(tables, WorkerLookup(tables["workers"], snaps["worker_id"]))   # doctest: +SKIP
    >>> fv.at(fv.wl.codes, snaps["as_of"])                                             # doctest: +SKIP
    """

    def __init__(self, tables: dict, wl: WorkerLookup):
        self.wl = wl
        current = wl.W["fte"].to_numpy(dtype="float64", na_value=np.nan) if "fte" in wl.W else np.full(wl.n_workers, np.nan)
        self._current = np.append(current, np.full(len(wl.book) - wl.n_workers, np.nan))   # codes past the table: NaN
        hist = tables.get("fte_history")
        self.history = hist if hist is not None and len(hist) and "fte" in hist else None
        self._index = None

    def current(self, codes: np.ndarray) -> np.ndarray:
        """``workers.fte`` per code (NaN for -1 or a worker not in the table)."""
        codes = np.asarray(codes, dtype="int64")
        return np.where(codes >= 0, self._current[np.maximum(codes, 0)], np.nan)

    def at(self, codes: np.ndarray, times) -> np.ndarray:
        """FTE per query (worker code, date) as float64: the history row in force before the date, else workers.fte.

        ``times`` may be a callable returning the dates; it is called only when there is a history (so a caller
        without one never builds per-row dates).
        """
        out = self.current(codes)
        ix = self._history_index()
        if ix is None:
            return out
        pos = ix.last_before(np.asarray(codes, dtype="int64"), times() if callable(times) else times)
        hit = pos >= 0
        out[hit] = self.history["fte"].to_numpy(dtype="float64", na_value=np.nan)[ix.rows[pos[hit]]]
        return out

    def changes(self) -> pd.DataFrame:
        """Each history row that changes a worker's FTE, as a step: workers-table ``row``, ``date`` (the row's
        effective_date) and ``delta`` (its FTE minus the one in force just before it, workers.fte before the first).

        Summing ``delta`` over the steps dated before ``t`` onto ``workers.fte`` gives the FTE at ``t``; this is
        how a team's in-post FTE (a running total over dated events) follows contract changes. Empty without a
        history. Rows of one worker on one date: the last one given counts, as in :meth:`at`.
        """
        ix = self._history_index()
        if ix is None:
            return pd.DataFrame({"row": np.empty(0, "int64"), "date": np.empty(0, "datetime64[ns]"),
                                 "delta": np.empty(0, "float64")})
        rows = ix.rows                                 # sorted by (worker, date), ties in input order
        codes = ix.codes
        dates = ns(self.history["effective_date"])[rows]
        fte = self.history["fte"].to_numpy(dtype="float64", na_value=np.nan)[rows]
        # a same-day row followed by another for the same worker is superseded: keep the last of each (worker, date)
        last = np.ones(len(rows), dtype=bool)
        last[:-1] = (codes[1:] != codes[:-1]) | (dates[1:] != dates[:-1])
        codes, dates, fte = codes[last], dates[last], fte[last]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = codes[1:] != codes[:-1]
        before = np.where(first, self._current[codes], np.roll(fte, 1))
        keep = codes < self.wl.n_workers               # workers with a row in the table (a spell to count)
        return pd.DataFrame({"row": codes[keep], "date": dates[keep], "delta": (fte - before)[keep]})

    def _history_index(self) -> EventIndex | None:
        if self.history is None:
            return None
        if self._index is None:
            self._index = EventIndex(self.wl.event_codes(self.history["worker_id"]), self.history["effective_date"])
        return self._index
