"""What every benchmark prints beside its figures: wall and CPU time, peak memory and the machine's load."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable


def measured(run: Callable[[], dict]) -> dict:
    """``run()``'s result with ``wall_s``, ``cpu_s``, ``peak_rss_gb`` and ``machine`` (cores, 1-minute load) added.

    The machines are shared and noisy: CPU time and the load say how far a wall time can be trusted.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()
    out["wall_s"] = round(time.perf_counter() - wall, 1)
    out["cpu_s"] = round(time.process_time() - cpu, 1)
    out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    out["machine"] = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.2f}"
    return out


def measured_child(cmd: list[str], **popen) -> dict:
    """Run ``cmd`` as a child process: its ``returncode``, ``wall_s``, ``cpu_s`` (user + system), ``peak_rss_gb`` and
    ``machine``, the same figures as :func:`measured` (and as ``/usr/bin/time -v``), for that one child.

    A command run in its own process is measured from a cold start (imports included), as a user runs it, and
    two versions of the code can be measured side by side in one benchmark run (same machine load).
    """
    import subprocess

    wall = time.perf_counter()
    child = subprocess.Popen(cmd, **popen)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"returncode": child.returncode, "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_gb": round(usage.ru_maxrss / 2**20, 2),
            "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.2f}"}


def add_checkout_options(parser) -> None:
    """The options of a benchmark that runs this checkout against another: ``--before``, ``--work``, ``--repeat``."""
    from pathlib import Path

    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--work", type=Path, help="folder for the outputs (default: a new temporary folder)")
    parser.add_argument("--repeat", type=int, default=1)


def work_folder(args, prefix: str):
    """``--work``, or a new temporary folder named after the benchmark; created either way."""
    import tempfile
    from pathlib import Path

    work = args.work or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    return work


def compare_checkouts(after, before, repeat: int, run_one: Callable, same_outputs: Callable[[], dict]):
    """Run this checkout (``after``) and another (``before``, optional) ``repeat`` times each, alternating which goes
    first, so a change in the machine's load falls on both; print each run's figures, the medians, and, when both
    ran cleanly, ``same_outputs()`` (whether the two wrote the same files).

    ``run_one(label, tree)`` runs one checkout and returns :func:`measured_child`'s figures (``returncode`` ...).
    """
    import json

    import pandas as pd

    trees = {"after": after, **({"before": before.resolve()} if before else {})}
    figures = []
    for rep in range(repeat):
        for label, tree in (trees.items() if rep % 2 == 0 else reversed(list(trees.items()))):
            figures.append({"code": label, "repeat": rep + 1, **run_one(label, tree)})
            print(json.dumps(figures[-1]), flush=True)
    table = pd.DataFrame(figures)
    print(table.groupby("code")[["wall_s", "cpu_s", "peak_rss_gb"]].median().to_string())
    if before and (table["returncode"] == 0).all():
        print(json.dumps(same_outputs(), indent=2))
    return table
