"""`rank --scores scores` (the folder of all scorings): the example it gives is the latest scoring by date."""

from __future__ import annotations

import json

import pandas as pd
import pytest


def test_the_example_scoring_is_the_latest_by_date_not_by_name(tmp_path):
    from retention_ml.commands.rank import ScoringFolderError, read_scoring

    # "six-month-2023-12" sorts last by name but was scored first
    for name, as_of in (("2024-01", "2024-01-01"), ("2024-04", "2024-04-01"), ("six-month-2023-12", "2023-12-01")):
        (tmp_path / "scores" / name).mkdir(parents=True)
        pd.DataFrame({"worker_id": ["W1"]}).to_parquet(tmp_path / "scores" / name / "scores.parquet")
        (tmp_path / "scores" / name / "score_meta.json").write_text(json.dumps({"as_of": as_of, "horizon_months": 12}))
    with pytest.raises(ScoringFolderError) as refused:
        read_scoring(tmp_path / "scores")
    said = str(refused.value)
    s = tmp_path / "scores"
    assert (f"({s}/six-month-2023-12 (2023-12-01), {s}/2024-01 (2024-01-01), {s}/2024-04 (2024-04-01)): give one of "
            f"them as --scores, e.g. --scores {s}/2024-04 (the latest)") in said
