"""How often does the gate's ECE check fail a model, by test-window size: the bar alone vs the bar beyond chance.

Draws risks around a 15% leaver rate (log-odds normal, sd 0.8, as ``bench_ece_chance.py``) and outcomes from the
true chances: the risks themselves (``--shift 0``: perfectly calibrated, every failure is a false one) or the risks
moved on the log-odds scale (risks too low: a failure is a right one). For each size it prints, over ``--reps``
samples, the mean plug-in ECE and the share the check fails under the old rule (``max_ece`` alone) and under the
gate's rule (over ``max_ece`` and beyond chance: ``promotion._ece_check`` on what training logs).

Usage
-----
    .venv/bin/python benchmarks/bench_gate_ece.py
    .venv/bin/python benchmarks/bench_gate_ece.py --sizes 270,368 --shift 0.5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.evaluate import _chance_level, ece, ece_chance  # noqa: E402
from retention_ml.promotion import _ece_check, load_thresholds  # noqa: E402


def one(n: int, shift: float, seed: int, n_draws: int, max_ece: float) -> dict:
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(logit(0.15), 0.8, n))
    y = (rng.random(n) < expit(logit(p) + shift)).astype(float)
    figures = _chance_level(ece(y, p), ece_chance(p, workers=np.arange(n), n_draws=n_draws, random_state=seed))
    check = _ece_check({"models": {"lightgbm": {"ece": figures}}}, max_ece)
    return {"value": figures["value"], "old": figures["value"] > max_ece, "new": not check.passed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="270,368,600,1000,2000", help="rows (one per person) per sample")
    parser.add_argument("--shift", type=float, default=0.0, help="true log-odds minus the risks' (0: calibrated)")
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--n-draws", type=int, default=200, help="chance-level draws (training logs n_boot of them)")
    args = parser.parse_args()
    max_ece = load_thresholds()["max_ece"]
    print(f"shift {args.shift:+.2f}, max_ece {max_ece}, {args.reps} samples, {args.n_draws} chance draws")
    print(f"{'rows':>6} {'mean ECE':>8} {'fail: bar alone':>16} {'fail: gate':>11}")
    for n in map(int, args.sizes.split(",")):
        rs = [one(n, args.shift, seed, args.n_draws, max_ece) for seed in range(args.reps)]
        mean = lambda key: float(np.mean([r[key] for r in rs]))   # noqa: E731
        print(f"{n:>6} {mean('value'):>8.4f} {mean('old'):>16.1%} {mean('new'):>11.1%}", flush=True)


if __name__ == "__main__":
    main()
