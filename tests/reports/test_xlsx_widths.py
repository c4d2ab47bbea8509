"""Excel column widths from every cell in one pass: the widths the column-by-column measure gave, and no crash
on a column with nothing in it (a team whose names the extract does not hold, listed with --names)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from retention_ml.commands.rank import rank_scores
from retention_ml.reports.risk_list import display_rows
from retention_ml.reports.xlsx import _widths

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _reference(rows: pd.DataFrame, labels: list[str]) -> list[int]:
    """The column-by-column measure as it stood (the oracle; it could not measure a column with no value)."""
    longest = [int(rows[c].astype(str).str.len().max()) if len(rows) else 0 for c in rows.columns]
    return [min(max(len(label), n, 6) + 2, 60) for label, n in zip(labels, longest)]


@pytest.mark.parametrize("seed", range(5))
def test_widths_equal_the_column_by_column_measure(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    words = np.array(["a", "caseload 27 against a team cap of 20; over the cap in 5 of the last 6 months", "W0001",
                      "medium", "Same as an earlier lever in this row: one action for both reasons" * 2, ""], dtype=object)
    rows = pd.DataFrame({
        "rank": np.arange(1, n + 1), "worker_id": pd.array(words[rng.integers(0, 6, n)], dtype="string"),
        "months_in_post": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 300, n)), dtype="Int64"),
        "risk": np.round(rng.random(n), 3), "uncertain": rng.random(n) < 0.5,
        "reason_1": words[rng.integers(0, 6, n)], "role": np.where(rng.random(n) < 0.5, "social_worker", "team_manager"),
    })
    rows.loc[0, "reason_1"] = None   # a gap among values
    shown = display_rows(rows)
    labels = [str(c) for c in shown.columns]
    assert _widths(shown, labels) == _reference(shown, labels)
    assert _widths(shown.iloc[:0], labels) == _reference(shown.iloc[:0], labels)


def test_names_missing_for_a_whole_team_are_listed_with_names_not_refused(tmp_path):
    """rank --all --names stopped ("cannot convert float NaN to integer", exit 2, no list written) when the
    extract held no display_name for anyone in one team: the Excel writer could not measure an empty column."""
    frame = scores_frame.synthetic_scores({"T1": 6, "T2": 6}, seed=4, service="safeguarding")
    frame["display_name"] = ["Ann Example"] * 6 + [None] * 6
    d = scores_frame.write_scoring(tmp_path / "s", frame)
    files = rank_scores(d, tmp_path / "out", all_teams=True, names=True)
    assert tmp_path / "out" / "risk_list_team_T2.xlsx" in files
    sheet = openpyxl.load_workbook(tmp_path / "out" / "risk_list_team_T2.xlsx").active
    header = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "Rank")
    assert "Name" in header
