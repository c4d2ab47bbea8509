"""``score`` and ``explain`` at national size, each data file read once, against a checkout that read it twice.

Both commands validate the data folder and then build features from it. They used to read every file twice
(validation's read, then ``read_tables``) and worked out the coverage warnings twice (in validation, where
nothing showed them on valid data, and at the scoring date); ``read_validated`` now types the tables validation
read and leaves those warnings to a report with an error. This runs
the real commands as a user does (one process each, imports included) with this checkout and, given
``--before DIR`` (a checkout of the older code, e.g. ``git worktree add /tmp/before <commit>``), with that one,
alternating the two so both see the same machine load, and prints wall, CPU (user + system) and peak RSS of
each run (the figures ``/usr/bin/time -v`` gives), then whether the outputs are identical: scores.parquet
frame-equal (``scored_at`` aside) and the explanations file frame-equal.

Also prints, in this process, how long validating alone, reading alone (the second read that is gone) and
``read_validated`` take on the data.

Usage (the store is only read; timings on a shared machine are noisy, the load is printed beside them)
-----
    MLFLOW_TRACKING_URI=sqlite:////path/mlflow.db flock /tmp/national.lock \\
      .venv/bin/python benchmarks/bench_read_once.py --data NATIONAL_DIR --run RUN_ID --as-of 2025-01-01 \\
      --before /tmp/before --work /tmp/bench_read_once [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _measured import measured_child  # noqa: E402


def commands(data: str, run: str, as_of: str, out: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "retention_ml"]
    return {
        "score": [*cli, "score", "--model", f"runs:/{run}/model", "--data", data, "--as-of", as_of,
                  "--out", str(out / "scores")],
        "explain": [*cli, "explain", "--run", run, "--data", data, "--as-of", as_of, "--out", str(out / "explanations.parquet")],
    }


def run_one(tree: Path, name: str, cmd: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{name}.log", "wb") as log:
        # cwd = the checkout: `python -m` puts the working folder first on the path
        return measured_child(cmd, cwd=tree, env=env, stdout=log, stderr=log)


def same_outputs(a: Path, b: Path) -> dict:
    scores_a = pd.read_parquet(a / "scores" / "scores.parquet")
    scores_b = pd.read_parquet(b / "scores" / "scores.parquet")
    expl_a, expl_b = pd.read_parquet(a / "explanations.parquet"), pd.read_parquet(b / "explanations.parquet")
    out = {}
    for name, left, right in (("scores", scores_a, scores_b), ("explanations", expl_a, expl_b)):
        try:
            pd.testing.assert_frame_equal(left, right, check_exact=True)
            out[name] = f"identical ({len(left):,} rows)"
        except AssertionError as exc:
            out[name] = f"DIFFERENT: {str(exc).splitlines()[0]}"
    meta = [json.loads((p / "scores" / "score_meta.json").read_text()) for p in (a, b)]
    for m in meta:
        m.pop("scored_at", None)
        m.pop("previous", None)
    out["score_meta"] = "identical (scored_at aside)" if meta[0] == meta[1] else "DIFFERENT"
    return out


def in_process(data: str) -> dict:
    """In this process, after a warm-up validation: validating alone, reading alone, and read_validated."""
    from retention_ml.io import read_tables
    from retention_ml.validation import read_validated, validate_dir

    validate_dir(data)   # imports and first-call costs out of the figures
    out = {}
    for name, step in (("validate_dir_s", lambda: validate_dir(data)), ("read_tables_s", lambda: read_tables(data)),
                       ("read_validated_s", lambda: read_validated(data))):
        start = time.perf_counter()
        step()
        out[name] = round(time.perf_counter() - start, 1)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--run", required=True, help="run id in MLFLOW_TRACKING_URI's store")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--work", type=Path, help="folder for the outputs (default: a new temporary folder)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args(argv)
    if "MLFLOW_TRACKING_URI" not in os.environ:
        parser.error("set MLFLOW_TRACKING_URI to the store holding --run (it is only read)")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_read_once-"))
    trees = {"after": HERE.parent, **({"before": args.before.resolve()} if args.before else {})}
    figures = []
    for rep in range(args.repeat):
        for command in ("score", "explain"):
            for label, tree in (trees.items() if rep % 2 == 0 else reversed(list(trees.items()))):
                out = work / label
                cmd = commands(args.data, args.run, args.as_of, out)[command]
                row = {"command": command, "code": label, "repeat": rep + 1, **run_one(tree, command, cmd, out)}
                figures.append(row)
                print(json.dumps(row), flush=True)
    table = pd.DataFrame(figures)
    print(table.groupby(["command", "code"])[["wall_s", "cpu_s", "peak_rss_gb"]].median().to_string())
    if "before" in trees and (table["returncode"] == 0).all():
        print(json.dumps(same_outputs(work / "before", work / "after"), indent=2))
    if not args.skip_in_process:
        print(json.dumps({"in_process": in_process(args.data)}))


if __name__ == "__main__":
    main()
