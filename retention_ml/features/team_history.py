"""Team facts (caseload cap, establishment, manager) as they stood at given dates.

``teams`` holds the current values and the optional ``team_history`` the changes (data_schema/tables/team_history.yaml
states the rule). Per column, the value at a date ``t`` is the one in the team's latest history row dated strictly
before ``t`` with a value in that column, else the value in ``teams``: the point-in-time rule of every dated table
(``_pit``), so a change dated on a snapshot's as_of is read from the next snapshot on.

Without ``team_history`` (or without a value in a column) every date reads ``teams``: the same numbers as before
the table existed. Lookups are one ``searchsorted`` over all (team, date) queries at once.
"""

from __future__ import annotations

import numpy as np

from retention_ml.features._pit import EventIndex, encode

__all__ = ["TeamValues", "month_after"]


class TeamValues:
    """The values of ``teams`` columns per team code at given dates, ``team_history`` applied.

    Parameters
    ----------
    tables : dict of DataFrame
        ``teams`` and, when given, ``team_history`` (``read_tables``).
    book : ndarray
        The caller's team code book (sorted distinct team ids); queries pass positions in it (-1 unknown).

    Examples
    --------
    >>> tv = TeamValues(tables, book)                                   # doctest: +SKIP
    >>> tv.at("caseload_cap", team_codes, snapshots["as_of"])           # doctest: +SKIP
    """

    def __init__(self, tables: dict, book: np.ndarray):
        self.book = book
        self._teams = tables["teams"].drop_duplicates("team_id")
        self._team_code = encode(self._teams["team_id"], book)
        hist = tables.get("team_history")
        self._hist = hist if hist is not None and len(hist) else None
        self._hist_code = encode(self._hist["team_id"], book) if self._hist is not None else None
        self._index: dict[str, EventIndex] = {}

    def current(self, column: str) -> np.ndarray:
        """``teams[column]`` as float64 per code of the book (NaN for a team not in ``teams``)."""
        out = np.full(len(self.book), np.nan)
        if column not in self._teams:
            return out
        ok = self._team_code >= 0
        out[self._team_code[ok]] = self._teams[column].to_numpy(dtype="float64", na_value=np.nan)[ok]
        return out

    def at(self, column: str, codes: np.ndarray, times) -> np.ndarray:
        """Numeric ``column`` per query (team code, date) as float64: history before the date, else ``teams``.

        ``times`` may be a callable returning the dates; it is called only when the history changes ``column``
        (so a caller without history never builds per-row dates).
        """
        codes = np.asarray(codes, dtype="int64")
        cur = self.current(column)
        out = np.where(codes >= 0, cur[np.maximum(codes, 0)], np.nan)
        ix = self._history_index(column)
        if ix is None:
            return out
        pos = ix.last_before(codes, times() if callable(times) else times)
        hit = pos >= 0
        out[hit] = self._hist[column].to_numpy(dtype="float64", na_value=np.nan)[ix.rows[pos[hit]]]
        return out

    def labels_at(self, column: str, codes: np.ndarray, times) -> tuple[np.ndarray, np.ndarray]:
        """For a text column (``manager_id``): (queries a history row decides, that row's value per such query).

        Queries outside the first array keep the value in ``teams``, which the caller has already taken.
        """
        codes = np.asarray(codes, dtype="int64")
        ix = self._history_index(column)
        if ix is None:
            return np.zeros(len(codes), dtype=bool), np.empty(0, dtype=object)
        pos = ix.last_before(codes, times() if callable(times) else times)
        hit = pos >= 0
        values = self._hist[column].to_numpy(dtype=object, na_value=None)[ix.rows[pos[hit]]]
        return hit, values

    def _history_index(self, column: str) -> EventIndex | None:
        if self._hist is None or column not in self._hist:
            return None
        if column not in self._index:
            has = self._hist[column].notna().to_numpy(dtype=bool)
            if not has.any():
                return None
            self._index[column] = EventIndex(np.where(has, self._hist_code, -1), self._hist["effective_date"])
        return self._index[column]


def month_after(month_idx: np.ndarray) -> np.ndarray:
    """First day of the month after each month index (``_pit.month_index``) as datetime64[ns].

    A monthly row for month m describes its end, so the team value it is compared with is the one in force on
    the last day of m: a change dated before the first day of m + 1.
    """
    m = np.asarray(month_idx, dtype="int64") + 1 - 1970 * 12
    return m.astype("datetime64[M]").astype("datetime64[ns]")
