"""Throughput of ``retention_ml.validation.validate_dir`` on national-size data.

Builds a large VALID data set by tiling the hand-checked example set
(data_schema/examples/council_small): each copy gets its own worker, team and
council ids, and copies are spread over four 18-month periods so the data
spans 72 months. The default 13,750 copies give about 2.6 million caseload
rows (36,000 workers x 72 months) and 190,000 worker spells, then validates it
as CSV and as Parquet and prints rows per second. Timings are wall-clock on a
shared machine and noisy.

    .venv/bin/python benchmarks/bench_validate.py [--copies 13750] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.io import read_tables, write_table
from retention_ml.schema import load_schemas
from retention_ml.validation import validate_dir

EXAMPLE = Path(__file__).resolve().parents[1] / "data_schema" / "examples" / "council_small"
ID_COLUMNS = {"worker_id", "team_id", "manager_id", "council_id"}
PERIODS = 4  # time shifts of 18 months each -> 72 months


def tile(copies: int) -> dict[str, pd.DataFrame]:
    """``copies`` renamed, time-shifted copies of every example table (vectorised with numpy repeat)."""
    frames = read_tables(EXAMPLE)
    schemas = load_schemas()
    copy_no = np.arange(copies)
    shift = (copy_no % PERIODS) * 18  # months
    out = {}
    for name, frame in frames.items():
        spec = schemas[name]
        if name == "housing_costs":
            # One set of areas shared by everyone, extended over the 72 months.
            parts = [frame.assign(period=frame["period"] + pd.DateOffset(months=18 * s)) for s in range(PERIODS)]
            out[name] = pd.concat(parts, ignore_index=True)
            continue
        if name == "pay_bands":
            out[name] = frame  # one pay ladder for everyone (a lookup, not per council)
            continue
        n = len(frame)
        big = frame.iloc[np.tile(np.arange(n), copies)].reset_index(drop=True)
        rep = np.repeat(copy_no, n)
        suffix = pd.Series(rep).map("_{:05d}".format)
        for col in ID_COLUMNS & set(big.columns):
            big[col] = (big[col].astype("string") + suffix.astype("string")).where(big[col].notna())
        months = pd.Series(np.repeat(shift, n))
        for col in (c.name for c in spec.columns if c.type in ("date", "month") and c.name in big.columns):
            # Shift by whole months keeping the day of month (numpy month arithmetic; NaT stays NaT).
            base = big[col].to_numpy(dtype="datetime64[ns]")
            month = base.astype("datetime64[M]")
            shifted = (month + months.to_numpy()).astype("datetime64[ns]") + (base - month.astype("datetime64[ns]"))
            big[col] = pd.Series(shifted, index=big.index)
        out[name] = big
    return out


def run(copies: int, keep: Path | None) -> None:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="bench_validate_") as tmp:
            _run(copies, Path(tmp))
    else:
        _run(copies, keep)
        print(f"data kept in {keep}")


def _run(copies: int, folder: Path) -> None:
    t0 = time.perf_counter()
    frames = tile(copies)
    for fmt in ("csv", "parquet"):
        sub = folder / fmt
        sub.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            write_table(frame, sub / f"{name}.{fmt}")
    rows = sum(len(f) for f in frames.values())
    print(f"built {copies:,} copies in {time.perf_counter() - t0:.1f} s: {rows:,} rows "
          f"(caseload_history {len(frames['caseload_history']):,}, workers {len(frames['workers']):,})")
    for fmt in ("csv", "parquet"):
        _time(folder / fmt, rows, fmt)
    # The same data with 1% of caseload rows broken (negative counts): the cost of collecting many failures.
    caseload = frames["caseload_history"].copy()
    broken = np.arange(0, len(caseload), 100)
    caseload.loc[broken, "open_cases"] = -1
    caseload.loc[broken, ["child_protection_cases", "court_cases"]] = 0
    write_table(caseload, folder / "parquet" / "caseload_history.parquet")
    _time(folder / "parquet", rows, f"parquet with {broken.size:,} faults")


def _time(folder: Path, rows: int, label: str) -> None:
    t = time.perf_counter()
    report = validate_dir(folder, as_of="2032-01-01")
    secs = time.perf_counter() - t
    status = "valid" if report.ok else f"NOT valid: {len(report.errors):,} errors"
    print(f"validate {label:30s}: {secs:6.1f} s  {rows / secs:12,.0f} rows/s  {status}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=13_750)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    run(args.copies, args.keep)
