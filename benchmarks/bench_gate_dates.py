"""How often does the gate's calibration-by-date check fail a model, by people per test date: risks exactly right at
every date, and risks that drift so that only the latest date (nearest deployment) is off.

Draws risks around a 15% leaver rate (log-odds normal, sd 0.8, as ``bench_gate_level.py``) for the same people at
``--dates`` test dates, one row per person at each. Outcomes come from true chances that are the risks themselves at
every date but the latest, where they are the risks times a factor (``1.00``: perfectly calibrated, every failure is
a false alarm; ``0.80``: the latest date's risks a quarter too high, outside the shipped bar 1.2; ``0.91``: 10% too
high, inside it). For each size and factor it prints, over ``--reps`` samples, the share failed by the whole-window
check (``promotion._level_check``) and by the by-date check (``promotion._dates_check`` on
``promotion.date_levels`` of ``evaluate.calibration_by_date``: outside the bar AND beyond chance, Bonferroni over the
dates). Outcomes at different dates are drawn independently; a real person's labels at nearby dates move together,
which leaves each date's own count, and so the by-date check, as it is here.

Usage
-----
    .venv/bin/python benchmarks/bench_gate_dates.py
    .venv/bin/python benchmarks/bench_gate_dates.py --sizes 270,1000 --factors 1,0.8 --dates 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.evaluate import calibration_by_date, calibration_in_the_large  # noqa: E402
from retention_ml.promotion import _dates_check, _level_check, date_levels, load_thresholds  # noqa: E402


def one(n: int, dates: int, factor: float, seed: int, bar: float, alpha: float) -> dict:
    rng = np.random.default_rng(seed)
    p = np.tile(expit(rng.normal(logit(0.15), 0.8, n)), dates)
    truth = p.copy()
    truth[-n:] = np.minimum(p[-n:] * factor, 1.0)
    y = (rng.random(n * dates) < truth).astype(float)
    workers, when = np.tile(np.arange(n), dates), np.repeat(np.arange(dates), n)
    day = np.datetime64("2023-01-01") + 91 * when
    whole = calibration_in_the_large(p, y, workers=workers, alpha=alpha)
    levels = date_levels({"calibration_by_date": calibration_by_date(p, y, workers=workers, dates=day)}, None, alpha)
    return {"whole": not _level_check(whole, bar).passed, "dates": not _dates_check(levels, bar).passed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="270,1000,10000", help="people (one row each) per test date")
    parser.add_argument("--dates", type=int, default=4, help="test dates (the same people at each)")
    parser.add_argument("--factors", default="1,0.9091,0.8",
                        help="true chance / risk at the latest date (1: calibrated; under 1: risks too high)")
    parser.add_argument("--reps", type=int, default=400)
    args = parser.parse_args()
    thresholds = load_thresholds()
    bar, alpha = thresholds["max_calibration_ratio"], thresholds["group_family_alpha"]
    print(f"max_calibration_ratio {bar}, alpha {alpha}, {args.dates} test dates, {args.reps} samples")
    print(f"{'people/date':>11} {'latest truth/risk':>17} {'fail: whole window':>19} {'fail: by date':>14}")
    for n in map(int, args.sizes.split(",")):
        for factor in map(float, args.factors.split(",")):
            rs = [one(n, args.dates, factor, seed, bar, alpha) for seed in range(args.reps)]
            share = lambda key: float(np.mean([r[key] for r in rs]))   # noqa: E731
            print(f"{n:>11} {factor:>17.3f} {share('whole'):>19.1%} {share('dates'):>14.1%}", flush=True)


if __name__ == "__main__":
    main()
