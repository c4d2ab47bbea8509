"""``neutralise_formulas`` checks every text cell in one pass and gives what the column-by-column check gave:
the same cells prefixed, in text, mixed and string-typed columns, and numbers, booleans and missing cells alone.

The reference below is the column-by-column computation as it stood (kept here only as the oracle).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.reports.risk_list import FORMULA_START, neutralise_formulas


def _reference(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows
    for col in rows.columns:
        if pd.api.types.infer_dtype(rows[col], skipna=True) not in ("string", "mixed"):
            continue
        risky = rows[col].str.startswith(FORMULA_START, na=False).to_numpy(bool)
        if not risky.any():
            continue
        if out is rows:
            out = rows.copy()
        values = out[col].astype(object).to_numpy(copy=True)
        values[risky] = ("'" + out[col][risky].astype(str)).to_numpy()
        out[col] = values
    return out


def _frame(seed: int, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(["Ann", "=1+1", "+44 7700", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "a=b", "", "x-y"], dtype=object)
    pick = lambda: words[rng.integers(0, len(words), n)]   # noqa: E731
    mixed = pick()
    mixed[rng.random(n) < 0.3] = True                       # booleans among text: a "mixed" column
    with_missing = pick()
    with_missing[rng.random(n) < 0.3] = None
    return pd.DataFrame({
        "rank": np.arange(1, n + 1), "risk": rng.random(n), "worker_id": pd.array(pick(), dtype="string"),
        "reason_1": pick(), "mixed": mixed, "missing": with_missing, "uncertain": rng.random(n) < 0.5,
        "months": pd.array(rng.integers(0, 90, n), dtype="Int64"), "clean": np.array(["text"] * n, dtype=object),
    })


@pytest.mark.parametrize("seed", range(6))
def test_one_pass_equals_column_by_column(seed):
    rows = _frame(seed)
    before = rows.copy()
    got, expected = neutralise_formulas(rows), _reference(rows)
    pd.testing.assert_frame_equal(got, expected)
    assert got.to_csv(index=False) == expected.to_csv(index=False)
    pd.testing.assert_frame_equal(rows, before)   # the caller's rows as they were
    # the fixture reaches the cases: cells prefixed in text, string-typed, mixed and gappy columns
    for col in ("worker_id", "reason_1", "mixed", "missing"):
        assert got[col].astype(str).str.startswith("'").any(), col


def test_nothing_to_neutralise_returns_the_rows_themselves():
    rows = _frame(1).assign(worker_id="W1", reason_1="text", mixed="text", missing=None)
    assert neutralise_formulas(rows) is rows
    assert neutralise_formulas(_frame(2).iloc[:0]).empty
    only_numbers = pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan]})
    assert neutralise_formulas(only_numbers) is only_numbers
