"""Throughput of ``retention-ml rank --all`` (``retention_ml.commands.rank.rank_scores``): list sets per second.

Reads a scoring folder written by ``retention-ml score`` (scores.parquet, score_meta.json), keeps the first
``--teams`` teams (all of them with 0) in a temporary scoring folder, and writes every team's list set plus
every service's team-manager set in the chosen formats, as ``rank --all`` does. Prints the number of sets,
files, rows, wall and CPU seconds, sets per second and peak memory. Timings are wall-clock on a shared
machine and noisy; run national-size scorings under ``flock /tmp/national.lock``.

    .venv/bin/python benchmarks/bench_rank.py --scores scores/2024-01 [--teams 600] [--format csv,xlsx,html]

A national scoring (150 councils, ~38,000 people) holds about 6,300 teams.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from retention_ml.commands.rank import rank_scores


def subset_scoring(scores_dir: Path, teams: int, dst: Path) -> int:
    """Copy the scoring to ``dst`` keeping the first ``teams`` teams (sorted ids; 0 = all). Returns rows kept."""
    scores = pd.read_parquet(scores_dir / "scores.parquet")
    if teams:
        keep = sorted(scores["team_id"].astype(str).unique())[:teams]
        scores = scores.loc[scores["team_id"].astype(str).isin(keep)]
    dst.mkdir(parents=True, exist_ok=True)
    scores.to_parquet(dst / "scores.parquet", index=False)
    shutil.copy(scores_dir / "score_meta.json", dst / "score_meta.json")
    return len(scores)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scores", type=Path, required=True, help="scoring folder (retention-ml score --out)")
    ap.add_argument("--teams", type=int, default=600, help="first N teams of the scoring (0 = all)")
    ap.add_argument("--format", default="csv,xlsx,html")
    args = ap.parse_args()
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    with tempfile.TemporaryDirectory(prefix="bench_rank_") as tmp:
        scoring = Path(tmp) / "scores"
        rows = subset_scoring(args.scores, args.teams, scoring)
        t0, c0 = time.perf_counter(), time.process_time()
        files = rank_scores(scoring, Path(tmp) / "lists", all_teams=True, formats=formats)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    sets = len(files) // len(formats)
    out = {"rows": rows, "teams": int(args.teams) or "all", "formats": formats, "sets": sets, "files": len(files),
           "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "sets_per_s_wall": round(sets / wall, 1),
           "sets_per_s_cpu": round(sets / cpu, 1), "ms_cpu_per_set": round(1000 * cpu / sets, 1),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
