"""``retention-ml demo`` with this checkout against another (``--before``): wall, CPU, peak memory, the demo's own
stage timings, and whether the two outputs are the same.

Runs the real command (one process each, imports included), alternating the two checkouts so both see the same
machine load, each into its own folder. Then compares every file the demo writes but the MLflow store
(``mlflow.db``, ``mlartifacts/``: run ids are random), Excel files member by member and Parquet files as
tables, with what legitimately differs masked: each output's run id and folder, clock times (ISO and
"YYYY-MM-DD HH:MM UTC"), the card's git commit line and the summary's timings.

    .venv/bin/python benchmarks/bench_demo.py --before /tmp/before --work /tmp/bench_demo [--repeat 2]

(``--before``: a checkout of the older code, e.g. ``git worktree add /tmp/before main``.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measured import add_checkout_options, compare_checkouts, measured_child, work_folder  # noqa: E402

CLOCK = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z| UTC)?")
COMMIT = re.compile(rb"(?<![0-9a-f])[0-9a-f]{40}(-dirty)?(?![0-9a-f])")   # the card's git commit (md table and html)


def run_one(tree: Path, out: Path, log: Path) -> dict:
    cmd = [sys.executable, "-m", "retention_ml", "demo", "--out", str(out), "--json"]
    with open(log, "wb") as fh:
        return measured_child(cmd, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, stdout=fh, stderr=fh)


def _masked(summary: dict, out: Path, data: bytes) -> bytes:
    data = data.replace(summary["run_id"].encode(), b"RUN").replace(str(out).encode(), b"OUT")
    return COMMIT.sub(b"COMMIT", CLOCK.sub(b"CLOCK", data))


def _content(summary: dict, out: Path, path: Path):
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return {n: _masked(summary, out, z.read(n)) for n in sorted(z.namelist())}
    if path.suffix == ".parquet":
        return _masked(summary, out, pd.read_parquet(path).to_csv(index=False).encode())
    if path.name == "demo_summary.json":
        return {k: v for k, v in json.loads(_masked(summary, out, path.read_bytes())).items()
                if k not in ("timings_s", "total_s")}
    return _masked(summary, out, path.read_bytes())


def same_outputs(a: Path, b: Path) -> dict:
    summaries = [json.loads((p / "demo_summary.json").read_text(encoding="utf-8")) for p in (a, b)]
    files = [sorted(f.relative_to(p) for f in p.rglob("*") if f.is_file() and "mlartifacts" not in f.parts
                    and f.name != "mlflow.db") for p in (a, b)]
    if files[0] != files[1]:
        return {"same_files": False, "only_in_one": sorted(map(str, set(files[0]) ^ set(files[1])))[:10]}
    differ = [str(f) for f in files[0] if _content(summaries[0], a, a / f) != _content(summaries[1], b, b / f)]
    return {"files": len(files[0]), "identical_but_run_id_clock_and_commit": not differ, "differing": differ[:10]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_checkout_options(parser)
    args = parser.parse_args(argv)
    work = work_folder(args, "bench_demo-")
    def one(label: str, tree: Path) -> dict:
        out = work / label
        shutil.rmtree(out, ignore_errors=True)
        row = run_one(tree, out, work / f"{label}.log")
        if row["returncode"] == 0:
            summary = json.loads((out / "demo_summary.json").read_text(encoding="utf-8"))
            row.update(stages_s=summary["timings_s"], demo_total_s=summary["total_s"])
        return row

    compare_checkouts(HERE.parent, args.before, args.repeat, one, lambda: same_outputs(work / "before", work / "after"))

if __name__ == "__main__":
    main()
