"""What a council's monthly routine costs: ``score`` then ``rank --all`` at consecutive month starts, as an analyst
runs them (one process each, imports included), with the disk each scoring folder keeps and the lists folder.

A scoring folder is never replaced once lists are cut from it (its distribution_log.csv is the record of who was
sent whose row), so a year of them, kept as long as the council's retention schedule says, is twelve; the lists folder is replaced every month (``--prune``). Prints,
per month, the wall and CPU time and peak memory of each command, the machine's load, and the size of each file.

Small (a few seconds a month)::

    retention-ml simulate --councils 3 --months 60 --seed 5 --out DATA
    retention-ml train experiments/council_default.toml --set data.path=DATA
    .venv/bin/python benchmarks/bench_monthly_year.py --model models:/retention-ml-turnover@candidate \\
        --data DATA --first 2023-01 --months 3 --work /tmp/bench_year

National size: the same on `retention-ml simulate --councils 150 --months 72 --seed 0` and its trained run, under
``flock /tmp/national.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measured import measured_child, work_folder  # noqa: E402


def folder_kb(folder: Path) -> dict[str, int]:
    """Size in kB of each file directly in ``folder`` and of the whole folder (``total``, every file under it)."""
    files = {p.name: p.stat().st_size // 1024 for p in sorted(folder.iterdir()) if p.is_file()}
    return {**files, "total": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model reference as score takes it")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--first", required=True, help="first month scored, YYYY-MM (scored at its 1st)")
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument("--formats", default="csv,xlsx,html")
    parser.add_argument("--work", type=Path, help="folder for scorings and lists (default: a new temporary folder)")
    args = parser.parse_args()
    work = work_folder(args, "bench_monthly_year_")
    cli = [sys.executable, "-m", "retention_ml"]
    for month in pd.period_range(args.first, periods=args.months, freq="M"):
        folder = work / "scores" / str(month)
        as_of = str(month.to_timestamp().date())
        scored = measured_child([*cli, "score", "--model", args.model, "--data", str(args.data), "--as-of", as_of,
                                 "--out", str(folder)], stdout=-3)
        ranked = measured_child([*cli, "rank", "--scores", str(folder), "--all", "--format", args.formats,
                                 "--out", str(work / "lists"), "--prune"], stdout=-3)
        print(f"{as_of}: score {scored}")
        print(f"{as_of}: rank --all {ranked}")
        print(f"{as_of}: scoring folder kB {folder_kb(folder)}; lists folder kB {folder_kb(work / 'lists')['total']} "
              f"({sum(1 for _ in (work / 'lists').iterdir())} files)")


if __name__ == "__main__":
    main()
