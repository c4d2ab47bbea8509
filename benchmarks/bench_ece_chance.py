"""Is the test-window ECE an honest figure on small windows? Plug-in bias, the old bootstrap interval, the chance level.

Draws risks around a 15% leaver rate (log-odds normal, sd 0.8) and outcomes from the true chances: the risks
themselves (``--shift 0``: perfectly calibrated, true ECE 0) or the risks moved on the log-odds scale (risks too
low). For each size it prints, over ``--reps`` samples: the true binned ECE, the mean plug-in ECE (its bias), how
often the 95% percentile bootstrap interval over workers (what runs logged before session 15) left out its own
value and covered the truth, the mean chance level (95th percentile of ECE with outcomes drawn from the risks:
``retention_ml.evaluate.ece_chance``) and how often the ECE was called beyond chance (p < 0.05): the false-alarm
rate when calibrated, the power when not. ``--per-worker K`` gives each worker K rows that share one outcome.

Usage
-----
    .venv/bin/python benchmarks/bench_ece_chance.py
    .venv/bin/python benchmarks/bench_ece_chance.py --sizes 368 --reps 200 --shift 0.3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.evaluate import _chance_level, _worker_weights, ece, ece_chance  # noqa: E402


def one(n_workers: int, per_worker: int, shift: float, seed: int, n_boot: int) -> dict:
    rng = np.random.default_rng(seed)
    workers = np.repeat(np.arange(n_workers), per_worker)
    p = expit(rng.normal(logit(0.15), 0.8, n_workers * per_worker))
    truth = expit(logit(p) + shift)
    y = (rng.random(n_workers)[workers] < truth).astype(float)
    # what evaluate_models logs for ECE (its other metrics are left out: they cost 10 times as much here)
    rec = _chance_level(ece(y, p), ece_chance(p, workers=workers, n_draws=n_boot, random_state=seed))
    boots = [ece(y, p, weights=w) for w in _worker_weights(workers, n_boot, seed)]
    low, high = np.percentile(boots, [2.5, 97.5])
    order = np.argsort(p, kind="stable")
    bins = np.empty(len(p), int)
    bins[order] = np.minimum((np.arange(len(p)) + 0.5) / len(p) * 10, 10 - 1e-9).astype(int)
    true = np.abs(np.bincount(bins, truth - p, 10)).sum() / len(p)
    return {"true": true, "value": rec["value"], "outside": not low <= rec["value"] <= high,
            "covers": low <= true <= high, "chance_high": rec["chance_high"], "beyond": rec["p_value"] < 0.05}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="150,368,600,2000,10000", help="workers per sample, comma-separated")
    parser.add_argument("--shift", type=float, default=0.0, help="true log-odds minus the risks' (0: calibrated)")
    parser.add_argument("--per-worker", type=int, default=1)
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--n-boot", type=int, default=200)
    args = parser.parse_args()
    print(f"shift {args.shift:+.2f}, {args.per_worker} row(s) per worker, {args.reps} samples, {args.n_boot} draws")
    print(f"{'rows':>7} {'true ECE':>8} {'plug-in':>8} {'old: out':>9} {'old: cov':>9} {'chance95':>9} {'beyond':>7}")
    for n in map(int, args.sizes.split(",")):
        rs = [one(n, args.per_worker, args.shift, seed, args.n_boot) for seed in range(args.reps)]
        mean = lambda key: float(np.mean([r[key] for r in rs]))   # noqa: E731
        print(f"{n * args.per_worker:>7} {mean('true'):>8.4f} {mean('value'):>8.4f} {mean('outside'):>9.0%} "
              f"{mean('covers'):>9.0%} {mean('chance_high'):>9.4f} {mean('beyond'):>7.1%}", flush=True)


if __name__ == "__main__":
    main()
