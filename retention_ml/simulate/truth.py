"""The one reader of a simulated data set's ground truth (``<data_dir>/_truth/``).

Modelling, feature, explanation and report code never read the truth; only
evaluation code (benchmarks, ``retention_ml.simulate.truth_check``) calls this.

Example
-------
>>> truth = read_truth("sim/")                       # doctest: +SKIP
>>> sorted(truth)                                     # doctest: +SKIP
['leavers', 'worker_months']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["TRUTH_DIR", "read_truth"]

TRUTH_DIR = "_truth"


def read_truth(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read ``worker_months`` and ``leavers`` from ``data_dir/_truth`` (FileNotFoundError naming what is missing)."""
    folder = Path(data_dir) / TRUTH_DIR
    out = {}
    for name in ("worker_months", "leavers"):
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path}: simulator truth not found (was {data_dir} written by `retention-ml simulate`?)")
        frame = pd.read_parquet(path)
        for col in ("month", "end_date"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        out[name] = frame
    return out
