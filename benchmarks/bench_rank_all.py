"""``retention-ml rank --all`` with this checkout against another (``--before``): wall, CPU, peak memory, and
whether every file written is byte-identical.

Runs the real command as a user does (one process each, imports included; the figures ``/usr/bin/time -v``
gives), alternating the two checkouts so both see the same machine load, each on its own copy of the scoring
folder (``rank`` appends to the scoring's distribution_log.csv). Then compares every list and overview file
byte for byte (a checksum listing), and the distribution logs with ``written_at`` (the call's clock time) and
the lists folder's path masked.

Without ``--scores`` it makes a small synthetic scoring (``tests/reports/scores_frame.py``: 3 councils, 120
teams in 6 services) and runs in seconds. National size (150 councils, ~6,000 teams, ~960 service overviews):
score a national simulation (`retention-ml simulate --councils 150 --months 72 --seed 0`) first, then

    .venv/bin/python benchmarks/bench_rank_all.py --scores SCORES_DIR \\
        --before /tmp/before --work /tmp/bench_rank_all [--repeat 2]

(``--before``: a checkout of the older code, e.g. ``git worktree add /tmp/before main``.)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _measured import add_checkout_options, compare_checkouts, measured_child, work_folder  # noqa: E402


def synthetic_scoring(folder: Path, *, councils: int = 3, teams: int = 40, seed: int = 1) -> Path:
    """A small scoring folder as ``score`` writes one: teams of 1 to 19 people (some under the floor), each with
    its manager in it, in six services, with targets and caseloads."""
    spec = importlib.util.spec_from_file_location("scores_frame", HERE.parent / "tests" / "reports" / "scores_frame.py")
    scores_frame = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scores_frame)
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(councils):
        sizes = {f"T{c}{i:03d}": int(n) for i, n in enumerate(rng.integers(1, 20, teams))}
        frames.append(scores_frame.synthetic_scores(sizes, seed=seed + c, council=f"C{c:02d}", prefix=f"W{c}"))
    frame = pd.concat(frames, ignore_index=True)
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    frame["service"] = frame["team_id"].map(lambda t: f"service_{int(t[2:]) % 6}")
    frame["risk"] = rng.beta(2, 5, len(frame))
    return scores_frame.write_scoring(folder, frame, horizon_months=12)


def run_one(tree: Path, scores: Path, lists: Path, log: Path) -> dict:
    cmd = [sys.executable, "-m", "retention_ml", "rank", "--scores", str(scores), "--all", "--out", str(lists)]
    with open(log, "wb") as fh:
        # cwd = the checkout: `python -m` puts the working folder first on the path
        return measured_child(cmd, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, stdout=fh, stderr=fh)


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def same_outputs(a: Path, b: Path) -> dict:
    """Every list file byte-identical, and the distribution logs identical but for the call's time and folder."""
    sums = [checksums(a / "lists"), checksums(b / "lists")]
    differ = sorted(n for n in set(sums[0]) | set(sums[1]) if sums[0].get(n) != sums[1].get(n))
    logs = []
    for p in (a, b):
        log = pd.read_csv(p / "scores" / "distribution_log.csv", dtype=str, keep_default_na=False)
        logs.append(log.drop(columns="written_at").assign(files=log["files"].str.replace(str(p / "lists"), "LISTS",
                                                                                          regex=False)))
    return {"files": len(sums[0]), "byte_identical": not differ, "differing": differ[:10],
            "distribution_log": "identical (written_at and folder aside)" if logs[0].equals(logs[1]) else "DIFFERENT"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scores", "--data", type=Path, help="scoring folder (retention-ml score --out); default: a "
                        "small synthetic one")
    add_checkout_options(parser)
    args = parser.parse_args(argv)
    work = work_folder(args, "bench_rank_all-")
    source = args.scores or synthetic_scoring(work / "synthetic_scores")

    def one(label: str, tree: Path) -> dict:
        out = work / label
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(source, out / "scores", ignore=shutil.ignore_patterns("distribution_log.csv*"))
        return run_one(tree, out / "scores", out / "lists", out / "rank.log")

    compare_checkouts(HERE.parent, args.before, args.repeat, one, lambda: same_outputs(work / "before", work / "after"))


if __name__ == "__main__":
    main()
