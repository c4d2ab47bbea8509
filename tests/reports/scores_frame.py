"""A small synthetic scoring, with the columns ``retention-ml score`` writes, for the list and rank tests.

Not a test module (no ``test_`` prefix); test modules load it by path, as tests/ is not a package.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.schema import driver_codes


def synthetic_scores(teams: dict[str, int], *, seed: int = 5, as_of: str = "2024-01-01", council: str = "C01",
                     managers: dict[str, str] | None = None, prefix: str = "W", **columns) -> pd.DataFrame:
    """``teams`` maps team id -> people; ``managers`` team id -> manager id (default ``M<team>``); ``columns``
    adds constant columns (e.g. ``service``). Risks, months in post and driver values are seeded random."""
    rng = np.random.default_rng(seed)
    team = np.repeat(list(teams), list(teams.values()))
    n = team.size
    risk = rng.beta(2, 8, n)
    codes = list(dict.fromkeys([*driver_codes(model_visible=True), "other"]))
    frame = pd.DataFrame({
        "worker_id": [f"{prefix}{100 + i}" for i in range(n)], "team_id": team, "council_id": council,
        "manager_id": pd.Series(team).map(managers or {t: f"M{t}" for t in teams}).to_numpy(),
        "role": "social_worker", **columns, "months_in_post": rng.integers(1, 100, n), "as_of": pd.Timestamp(as_of),
        "risk": risk, "risk_low": np.clip(risk - 0.05, 0, 1), "risk_high": np.clip(risk + 0.05, 0, 1),
        "reason_1": "Caseload of 24 is above the team cap of 20", "reason_2": "", "reason_3": "",
        "caseload_current": 20.0, "caseload_cap": 20.0, "target_turnover": 0.1,
        "model_ref": "models:/x@champion", "run_id": "r1",
    })
    drivers = pd.DataFrame(rng.normal(0, 0.4, (n, len(codes))), columns=[f"driver_{c}" for c in codes])
    return pd.concat([frame, drivers], axis=1)


def write_scoring(folder: Path, frame: pd.DataFrame, **meta) -> Path:
    """``folder`` as ``score`` leaves it: scores.parquet and score_meta.json (as_of from the frame, then ``meta``)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "scores.parquet", index=False)
    as_of = str(pd.Timestamp(frame["as_of"].iloc[0]).date())
    (folder / "score_meta.json").write_text(json.dumps({"as_of": as_of, "model_ref": "models:/x@champion",
                                                        "health_data_in_reasons": "withheld", **meta}))
    return folder

