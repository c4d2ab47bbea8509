"""Reading a data folder given as Excel workbooks against the same folder as CSV/Parquet.

Writes every table of ``--data`` as ``<table>.xlsx`` into ``--work`` (typed as an HR system's Excel export types
it: dates as date cells, numbers as numbers, ids and codes as text; the same conversion as
tests/validation/test_workbooks.py), then times, in this process, ``read_tables`` and ``read_validated`` on both
folders (median of ``--repeat`` after one warm-up), checks the tables are identical, and prints the figures with
the folders' sizes and the machine load.

Usage
-----
    .venv/bin/python benchmarks/bench_read_xlsx.py --data demo-output/data --work /tmp/bench_read_xlsx [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.io import read_tables  # noqa: E402
from retention_ml.validation import read_validated  # noqa: E402

# the tests' converter, loaded by path (benchmarks cannot import tests): one definition of "a folder as workbooks"
_spec = importlib.util.spec_from_file_location("workbook_files", Path(__file__).resolve().parents[1] / "tests" / "validation" / "workbook_files.py")
_workbooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_workbooks)
as_workbooks = _workbooks.as_workbooks


def timed(fn, folder: Path, repeat: int) -> float:
    fn(folder)   # warm-up: imports, schema loading
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn(folder)
        times.append(time.process_time() - start)
    return statistics.median(times)


def size(folder: Path) -> str:
    files = [p for p in folder.iterdir() if p.is_file()]
    return f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB in {len(files)} files"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    xlsx = as_workbooks(args.data, args.work / "xlsx")
    print(f"converted in {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.1f}")
    rows = sum(len(f) for f in read_tables(args.data).values())
    print(f"data: {args.data} ({size(args.data)}, {rows:,} rows); workbooks: {size(xlsx)}")
    for name, fn in (("read_tables", read_tables), ("read_validated", read_validated)):
        base, book = timed(fn, args.data, args.repeat), timed(fn, xlsx, args.repeat)
        print(f"{name:15s} CPU s (median of {args.repeat}): csv/parquet {base:.2f}  xlsx {book:.2f}  ({book / base:.1f}x)")
    a, b = read_validated(args.data), read_validated(xlsx)
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table])
    print(f"tables identical: {len(a)} of {len(a)}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
