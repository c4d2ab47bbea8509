"""How a person's spell in post began, for the levers beside their reasons (never a model input).

A spell starts again at an internal move (``workers``: one row per spell in a team), so the time in post of
someone who moved between two teams of a council reads like a newcomer's. The levers need the difference:
relocation support is for someone who came to the council, never for a move between its teams, whose home
stays where it was. The extract holds no person id across spells; a move is read the way an HR analyst pairs
spells: a spell ending with ``internal_move`` and one starting the next day in the same council with the same
qualification date (no protected characteristic is read). The home area is not compared: ``workers.home_area`` is
the latest, and a home move during the new spell left 142 of the 2,555 moves of the national simulation (seed 0)
unpaired when it was; without it each of the 2,555 pairs with exactly one next spell.

Example
-------
>>> keys.assign(joined_from_outside=joined_from_outside(keys, tables))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["LEVER_CONTEXT_COLUMNS", "joined_from_outside", "lever_context"]

# Columns scoring and explain pass beside the features for the lever groups of drivers.yaml (not model inputs).
LEVER_CONTEXT_COLUMNS = ("joined_from_outside",)

_MOVE = "internal_move"
_PERSON = ["council_id", "qualified_date"]   # what a move carries over to the next spell
_NEEDED = {"worker_id", "team_id", "start_date", "end_date", "leaving_reason", *_PERSON[1:]}


def joined_from_outside(keys: pd.DataFrame, tables: dict) -> np.ndarray:
    """Per row of ``keys`` (``worker_id``): 1.0 where the person's spell began by joining the council, 0.0 where
    it began with a move from another of its teams, NaN where the extract cannot tell (no ``workers`` columns
    for it, or no ``teams.council_id``).

    The earlier spell ended the day before this one started, so it is known whenever this spell is (no later
    fact is read).
    """
    workers, teams = tables.get("workers"), tables.get("teams")
    if workers is None or teams is None or not _NEEDED <= set(workers.columns) or "council_id" not in teams:
        return np.full(len(keys), np.nan)
    council = teams.drop_duplicates("team_id").set_index("team_id")["council_id"]
    w = workers.drop_duplicates("worker_id").assign(council_id=lambda d: d["team_id"].map(council))
    start, end = pd.to_datetime(w["start_date"]), pd.to_datetime(w["end_date"])
    w = w.assign(start_date=start, qualified_date=pd.to_datetime(w["qualified_date"]))
    moved = w.loc[w["leaving_reason"].astype(object).eq(_MOVE).to_numpy() & end.notna().to_numpy()]
    next_start = (pd.to_datetime(moved["end_date"]) + pd.Timedelta(days=1)).rename("start_date")
    ends = pd.concat([moved[_PERSON], next_start], axis=1).drop_duplicates()
    # pandas matches missing keys with each other: two unqualified spells pair on their (empty) qualification date
    pairs = w[["worker_id", "start_date", *_PERSON]].merge(ends, on=["start_date", *_PERSON], how="inner")
    mover = keys["worker_id"].isin(pairs["worker_id"]).to_numpy()
    known = keys["worker_id"].isin(w["worker_id"]).to_numpy()
    return np.where(known, np.where(mover, 0.0, 1.0), np.nan)


def lever_context(keys: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """``keys`` with :data:`LEVER_CONTEXT_COLUMNS`, as scoring and ``explain`` pass them to the reasons' levers."""
    return keys.assign(joined_from_outside=joined_from_outside(keys, tables))
