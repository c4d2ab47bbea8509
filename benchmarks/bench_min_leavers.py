"""How wide is the test-window ROC-AUC interval for a given number of test leavers? (the gate's min_test_leavers)

Simulates councils of several sizes (``retention-ml simulate``), trains the default experiment on each
(``train_experiment(log=False)``: the same split, model, baselines and 200-draw worker bootstrap as
``retention-ml train``), and prints per run: people and leavers in the test window, LightGBM's
ROC-AUC with its 95% interval and the interval's width. ``--test-periods`` adds runs whose test window
spans more snapshot dates (more leavers from the same data).

Usage
-----
    .venv/bin/python benchmarks/bench_min_leavers.py --out /tmp/bench_leavers --councils 1,2,4,8 --seeds 1,2
    .venv/bin/python benchmarks/bench_min_leavers.py --out /tmp/bench_leavers --councils 1 --seeds 3 --months 36 --horizon 6

Each training takes 10-60 s on a 2-core machine; the figures depend on the simulator's seed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.experiment import load_experiment  # noqa: E402
from retention_ml.training import train_experiment  # noqa: E402

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "council_default.toml"


def one(data: Path, horizon: int, test_periods: int, frequency: int) -> dict:
    exp = load_experiment(EXPERIMENT, overrides=[f"data.path='{data}'", f"label.horizon_months={horizon}",
                                                 f"split.test_periods={test_periods}",
                                                 f"snapshots.frequency_months={frequency}"])
    res = train_experiment(exp, log=False)
    test = res.predictions
    auc = res.metrics["models"]["lightgbm"]["roc_auc"]
    return {"people": test["worker_id"].nunique(), "leavers": test.loc[test["label"] == 1, "worker_id"].nunique(),
            "rows": len(test), "positives": int(test["label"].sum()), "auc": auc["value"], "low": auc["low"],
            "high": auc["high"], "width": auc["high"] - auc["low"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--councils", default="1,2,4,8")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--months", type=int, default=72)
    ap.add_argument("--start", default="2019-01")
    ap.add_argument("--horizon", type=int, default=12)
    ap.add_argument("--test-periods", default="1", help="comma list of test_periods values to run per dataset")
    ap.add_argument("--frequency", type=int, default=3)
    args = ap.parse_args()
    bin_ = Path(sys.executable).parent / "retention-ml"
    print(f"{'councils':>8} {'seed':>4} {'periods':>7} {'people':>6} {'leavers':>7} {'rows':>6} {'pos':>5} "
          f"{'roc_auc':>7} {'low':>6} {'high':>6} {'width':>6}", flush=True)
    for c in map(int, args.councils.split(",")):
        for s in map(int, args.seeds.split(",")):
            data = args.out / f"c{c}_s{s}_m{args.months}"
            if not (data / "_truth").exists():
                subprocess.run([str(bin_), "simulate", "--out", str(data), "--councils", str(c), "--months",
                                str(args.months), "--start", args.start, "--seed", str(s)], check=True,
                               stdout=subprocess.DEVNULL)
            for tp in map(int, args.test_periods.split(",")):
                try:
                    r = one(data, args.horizon, tp, args.frequency)
                except ValueError as exc:
                    print(f"{c:>8} {s:>4} {tp:>7} could not train: {exc}", flush=True)
                    continue
                print(f"{c:>8} {s:>4} {tp:>7} {r['people']:>6} {r['leavers']:>7} {r['rows']:>6} {r['positives']:>5} "
                      f"{r['auc']:>7.3f} {r['low']:>6.3f} {r['high']:>6.3f} {r['width']:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
