"""Where ``rank --all``'s memory goes: resident size (now and peak) at each phase of one in-process call.

Wraps the steps of :func:`retention_ml.commands.rank.rank_scores` (reading the scoring, building every team's list,
every service's team-manager list, writing the sets, the overviews, the log) and prints one line per phase, and one
every ``--every`` sets written, so memory that grows while the sets are written shows as a slope. The scoring folder
is copied first (``rank`` appends to its distribution_log.csv).

    .venv/bin/python benchmarks/bench_rank_memory.py --work /tmp/bench_rank_memory            # small synthetic scoring
    flock /tmp/national.lock .venv/bin/python benchmarks/bench_rank_memory.py --scores SCORES_DIR --work /tmp/brm
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

_PAGE = os.sysconf("SC_PAGE_SIZE")
_T0 = time.perf_counter()


def mark(label: str) -> None:
    with open("/proc/self/statm") as fh:
        now = int(fh.read().split()[1]) * _PAGE / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"{time.perf_counter() - _T0:7.1f} s  resident {now:7.1f} MB  peak {peak:7.1f} MB  {label}", flush=True)


def watch(owner, name: str, every: int | None = None) -> None:
    """Replace ``owner.name`` by a wrapper that marks before and after the calls shown (all, or the first and
    every ``every``-th)."""
    real, calls = getattr(owner, name), [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        shown = every is None or calls[0] == 1 or calls[0] % every == 0
        if shown:
            mark(f"before {name} #{calls[0]}")
        out = real(*args, **kwargs)
        if shown:
            mark(f"after {name} #{calls[0]}")
        return out

    setattr(owner, name, wrapper)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scores", type=Path, help="scoring folder (retention-ml score --out); default: a small "
                        "synthetic one (bench_rank_all.synthetic_scoring)")
    parser.add_argument("--work", type=Path, help="folder for the copy and the lists (default: a temporary folder)")
    parser.add_argument("--every", type=int, default=1000, help="mark every this many sets written")
    args = parser.parse_args(argv)
    import retention_ml.commands.rank as rank
    import retention_ml.reports.risk_list as risk_list
    from bench_rank_all import synthetic_scoring
    from retention_ml.reports.distribution import DistributionLog

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_rank_memory-"))
    shutil.rmtree(work / "scores", ignore_errors=True)
    shutil.rmtree(work / "lists", ignore_errors=True)
    source = args.scores or synthetic_scoring(work / "synthetic_scores")
    shutil.copytree(source, work / "scores", ignore=shutil.ignore_patterns("distribution_log.csv*"))
    for owner, name in ((rank, "read_scoring"), (risk_list, "build_risk_lists"),
                        (risk_list, "build_service_manager_lists"), (rank, "write_overviews"), (DistributionLog, "write")):
        watch(owner, name)
    if hasattr(rank, "build_overviews"):
        watch(rank, "build_overviews")
    watch(rank, "write_lists", every=args.every)
    mark("start")
    files = rank.rank_scores(work / "scores", work / "lists", all_teams=True)
    mark(f"end: {len(files):,} files")


if __name__ == "__main__":
    main()
