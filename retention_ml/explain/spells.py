"""How a person's spell in post began, for the levers beside their reasons (never a model input).

A spell starts again at an internal move (``workers``: one row per spell in a team), so the time in post of
someone who moved between two teams of a council reads like a newcomer's. The levers need the difference:
relocation support is for someone who came to the council, never for a move between its teams, whose home
stays where it was. The extract holds no person id across spells; a move is read the way an HR analyst pairs
spells: a spell ending with ``internal_move`` and one starting the next day in the same council with the same
qualification date (no protected characteristic is read). The home area is not compared: ``workers.home_area`` is
the latest, and a home move during the new spell left 142 of the 2,555 moves of the national simulation (seed 0)
unpaired when it was; without it each of the 2,555 pairs with exactly one next spell. The office area is compared
(:func:`moved_within_area`): a move between two teams of one office needs an induction to the team, not the area.
An extract holds each spell's office area as last recorded: a team whose office moved after the scoring date reads
as where it is now.

Example
-------
>>> keys.assign(joined_from_outside=joined_from_outside(keys, tables))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.explain.readers import READER_COLUMNS, reader_columns

__all__ = ["LEVER_CONTEXT", "LEVER_CONTEXT_COLUMNS", "joined_from_outside", "lever_context", "moved_within_area"]

_MOVE = "internal_move"
_PERSON = ["council_id", "qualified_date"]   # what a move carries over to the next spell
_NEEDED = {"worker_id", "team_id", "start_date", "end_date", "leaving_reason", *_PERSON[1:]}
_AREA = "office_area"

# How each spell began, with its meaning (the data dictionary's words).
SPELL_COLUMNS = {
    "joined_from_outside": "1 where the person's post began by joining the council, 0 where it began with a move "
                           "between its teams",
    "moved_within_area": "1 where the person's post began with a move from another of the council's teams in the "
                         "same office area (workers.office_area of both spells), 0 where it began by joining the "
                         "council or with a move from another area",
}


# Columns scoring and explain pass beside the features for the lever groups of drivers.yaml (not model inputs), with
# their meaning: how the spell began (here) and who reads the row (retention_ml.explain.readers).
LEVER_CONTEXT = {**SPELL_COLUMNS, **READER_COLUMNS}
LEVER_CONTEXT_COLUMNS = tuple(LEVER_CONTEXT)


def _moves(tables: dict, *, area: bool = False) -> pd.DataFrame | None:
    """The spells that began with an internal move: ``worker_id`` of the new spell, with ``from_area`` (the earlier
    spell's office area) when ``area``; one row per earlier spell it pairs with. None where the extract cannot tell
    (no ``workers`` columns for it, no ``teams.council_id``, or with ``area`` no ``workers.office_area``)."""
    workers, teams = tables.get("workers"), tables.get("teams")
    needed = _NEEDED | ({_AREA} if area else set())
    if workers is None or teams is None or not needed <= set(workers.columns) or "council_id" not in teams:
        return None
    council = teams.drop_duplicates("team_id").set_index("team_id")["council_id"]
    w = workers.drop_duplicates("worker_id").assign(council_id=lambda d: d["team_id"].map(council))
    start, end = pd.to_datetime(w["start_date"]), pd.to_datetime(w["end_date"])
    w = w.assign(start_date=start, qualified_date=pd.to_datetime(w["qualified_date"]))
    moved = w.loc[w["leaving_reason"].astype(object).eq(_MOVE).to_numpy() & end.notna().to_numpy()]
    next_start = (pd.to_datetime(moved["end_date"]) + pd.Timedelta(days=1)).rename("start_date")
    carried = [moved[_PERSON], next_start] + ([moved[_AREA].rename("from_area")] if area else [])
    ends = pd.concat(carried, axis=1).drop_duplicates()
    # pandas matches missing keys with each other: two unqualified spells pair on their (empty) qualification date
    return w[["worker_id", "start_date", *_PERSON, *([_AREA] if area else [])]].merge(
        ends, on=["start_date", *_PERSON], how="inner")


def joined_from_outside(keys: pd.DataFrame, tables: dict) -> np.ndarray:
    """Per row of ``keys`` (``worker_id``): 1.0 where the person's spell began by joining the council, 0.0 where
    it began with a move from another of its teams, NaN where the extract cannot tell (no ``workers`` columns
    for it, or no ``teams.council_id``).

    The earlier spell ended the day before this one started, so it is known whenever this spell is (no later
    fact is read).
    """
    pairs = _moves(tables)
    if pairs is None:
        return np.full(len(keys), np.nan)
    mover = keys["worker_id"].isin(pairs["worker_id"]).to_numpy()
    known = keys["worker_id"].isin(tables["workers"]["worker_id"]).to_numpy()
    return np.where(known, np.where(mover, 0.0, 1.0), np.nan)


def moved_within_area(keys: pd.DataFrame, tables: dict) -> np.ndarray:
    """Per row of ``keys`` (``worker_id``): 1.0 where the person's spell began with a move from another of the
    council's teams whose office area (``workers.office_area``) is this spell's, 0.0 where it began by joining the
    council or with a move from another area, NaN where the extract cannot tell (as :func:`joined_from_outside`,
    or no office areas, or a spell paired with earlier spells of two areas).

    A settling-in lever's "induction to the area" is for someone new to it: after a move between two teams of one
    office the induction is to the team. Both office areas are those of the spells, known when this one began.
    """
    pairs = _moves(tables, area=True)
    if pairs is None:
        return np.full(len(keys), np.nan)
    same = pairs["from_area"].astype(object).eq(pairs[_AREA].astype(object)) & pairs[_AREA].notna()
    by_spell = same.groupby(pairs["worker_id"].to_numpy()).agg(["all", "any"])
    # a new spell paired with earlier spells of two areas is not said to be either
    within = pd.Series(np.where(by_spell["all"], 1.0, np.where(by_spell["any"], np.nan, 0.0)), index=by_spell.index)
    known = keys["worker_id"].isin(tables["workers"]["worker_id"]).to_numpy()
    # a joiner (no earlier spell) is 0; a spell paired with two areas stays NaN
    moved = keys["worker_id"].isin(within.index).to_numpy()
    return np.where(known, np.where(moved, keys["worker_id"].map(within).to_numpy(float), 0.0), np.nan)


def lever_context(keys: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """``keys`` with :data:`LEVER_CONTEXT_COLUMNS`, as scoring and ``explain`` pass them to the reasons' levers."""
    readers = reader_columns(keys)
    return keys.assign(joined_from_outside=joined_from_outside(keys, tables),
                       moved_within_area=moved_within_area(keys, tables),
                       **{c: readers[c].to_numpy() for c in readers.columns})
