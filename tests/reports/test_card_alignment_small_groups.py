"""The model card reads alignment.json records that withhold small groups, and says so.

Rates withheld for fewer than 5 leavers are null in the record: the card prints "withheld (small groups)" and the record's own
note that small groups are withheld; a record logged before withholding existed carries no note, and the card
then warns that its alignment file may hold small counts instead of claiming they are withheld.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_s9fd_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _demo_like_alignment() -> dict:
    """15 interviewed leavers, each reason given by 0-3 of them (the review's demo): most numbers withheld."""
    from retention_ml.explain.alignment import exit_interview_alignment
    from retention_ml.explain.drivers import profile_drivers

    stated = (["caseload_workload"] * 2 + ["work_life_balance"] * 2 + ["career_progression"] * 3
              + ["supervision_management", "commute", "team_instability"] + ["housing_cost"] * 3 + ["personal"] * 2)
    cols = profile_drivers()
    values = np.random.default_rng(0).normal(0, 1, (len(stated), len(cols)))
    values[:, cols.index("career_progression")] = 10.0
    keys = pd.DataFrame({"worker_id": [f"W{i}" for i in range(15)], "as_of": pd.Timestamp("2024-01-01")})
    interviews = pd.DataFrame({"worker_id": keys["worker_id"], "primary_reason": stated})
    return exit_interview_alignment(pd.DataFrame(values, columns=cols), keys, pd.Series(np.ones(15)), interviews,
                                    n_boot=50)


@pytest.fixture(scope="module")
def cards(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("cards")
    with scratch_store(root) as mp:
        old = fake.make_fake_run(kind="good")  # the fake record predates the note
        record = _demo_like_alignment()
        mp.setattr(fake, "fake_alignment", lambda: record)
        new = fake.make_fake_run(kind="good")
        yield {name: write_card(run, root / name, log=False)["markdown"].read_text(encoding="utf-8")
               for name, run in (("old", old), ("new", new))} | {"record": record}


def test_card_says_small_groups_are_withheld_and_prints_no_withheld_number(cards):
    md, record = cards["new"], cards["record"]
    assert record["small_groups"] in md
    assert "null" not in md.lower()   # a board reads words, not JSON's
    assert "logged before small groups were withheld" not in md
    row = next(line for line in md.splitlines() if line.startswith("| Global baseline"))
    assert "| withheld (small groups) |" in row  # global top 1 = 3 / 15 leavers would give career_progression's count
    assert "| Chance | withheld (small groups) | withheld (small groups) |" in md  # chance gives the count of reasons the model cannot see (2)


def test_card_of_an_older_record_does_not_claim_withholding(cards):
    assert "logged before small groups were withheld" in cards["old"]
    assert "fewer than 5 leavers show no count" not in cards["old"]
