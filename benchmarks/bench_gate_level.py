"""How often does the gate's calibration-in-the-large check fail a model, by test-window size: the bar alone vs the
bar beyond chance.

Draws risks around a 15% leaver rate (log-odds normal, sd 0.8, as ``bench_gate_ece.py``), one row per person, and
outcomes from true chances that are the risks themselves (``1.00``: perfectly calibrated, every failure is a false
alarm) or the risks times a factor (``0.91`` = 1 / 1.1: the risks 10% too high; ``1.25``: the risks too low by a
quarter; with the shipped bar 1.2 a 10% shift is inside it, so failing it is not wanted either). For each size and
factor it prints, over ``--reps`` samples, the mean observed / expected ratio and the share the check fails under
the bar alone (ratio outside ``1 / max_calibration_ratio`` .. ``max_calibration_ratio``) and under the gate's rule
(outside the bar AND beyond chance: ``promotion._level_check`` on
``evaluate.calibration_in_the_large``, the computation whose standard error training logs for the gate).

Usage
-----
    .venv/bin/python benchmarks/bench_gate_level.py
    .venv/bin/python benchmarks/bench_gate_level.py --sizes 270,368 --factors 1,0.8
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.evaluate import calibration_in_the_large  # noqa: E402
from retention_ml.promotion import _level_check, load_thresholds  # noqa: E402


def one(n: int, factor: float, seed: int, bar: float, alpha: float) -> dict:
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(logit(0.15), 0.8, n))
    y = (rng.random(n) < np.minimum(p * factor, 1.0)).astype(float)
    level = calibration_in_the_large(p, y, workers=np.arange(n), alpha=alpha)
    return {"ratio": level["ratio"], "bar": not (1 / bar <= level["ratio"] <= bar),
            "gate": not _level_check(level, bar).passed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="270,1000,10000", help="rows (one per person) per sample")
    parser.add_argument("--factors", default="1,0.9091,1.1,0.8,1.25",
                        help="true chance / risk (1: calibrated; under 1: risks too high)")
    parser.add_argument("--reps", type=int, default=400)
    args = parser.parse_args()
    thresholds = load_thresholds()
    bar, alpha = thresholds["max_calibration_ratio"], thresholds["group_family_alpha"]
    print(f"max_calibration_ratio {bar} (fails outside {1 / bar:.3f}..{bar}), alpha {alpha}, {args.reps} samples")
    print(f"{'rows':>6} {'truth/risk':>10} {'mean obs/exp':>12} {'fail: bar alone':>16} {'fail: gate':>11}")
    for n in map(int, args.sizes.split(",")):
        for factor in map(float, args.factors.split(",")):
            rs = [one(n, factor, seed, bar, alpha) for seed in range(args.reps)]
            mean = lambda key: float(np.mean([r[key] for r in rs]))   # noqa: E731
            print(f"{n:>6} {factor:>10.3f} {mean('ratio'):>12.3f} {mean('bar'):>16.1%} {mean('gate'):>11.1%}",
                  flush=True)


if __name__ == "__main__":
    main()
