"""A part-timer's reasons name their hours from the FTE the scores carry, not only from the caseload features:
"median rent ... is 108% of their estimated take-home pay" read as impossible for someone on half time, and the
caseload features know the hours only for someone with cases recorded."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

AS_OF = pd.Timestamp("2022-07-01")


@pytest.fixture(scope="module")
def no_cases_dir(sim_dir, tmp_path_factory):
    """sim_dir where the part-timers in post at AS_OF have no caseload recorded in the year before it (as for
    someone who holds no cases), so the caseload features cannot give their hours."""
    from retention_ml.io import read_tables

    tables = read_tables(sim_dir)
    workers = tables["workers"]
    part = workers.loc[(workers["start_date"] < AS_OF) & (workers["end_date"].isna() | (workers["end_date"] >= AS_OF))
                       & (workers["fte"] < 1.0), "worker_id"]
    data = tmp_path_factory.mktemp("part_time") / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    ch = tables["caseload_history"]
    months = pd.to_datetime(ch["month"].astype(str))
    keep = ~(ch["worker_id"].isin(part) & (months >= AS_OF - pd.DateOffset(months=12)))
    for f in data.glob("caseload_history.*"):
        f.unlink()
    ch.loc[keep].to_csv(data / "caseload_history.csv", index=False)
    return data, set(part)


def test_a_part_timers_rent_reason_names_their_hours_without_a_caseload(sim_model, no_cases_dir, tmp_path):
    from retention_ml.scoring import score

    data, part = no_cases_dir
    result, _ = sim_model
    s = score(f"runs:/{result.run_id}/model", data, AS_OF, tmp_path / "sc", find_previous_scoring=False).scores
    reasons = s.melt(id_vars=["worker_id", "fte", "caseload_current"], value_vars=["reason_1", "reason_2", "reason_3"],
                     value_name="reason").dropna(subset=["reason"])
    rent = reasons[reasons["reason"].str.startswith("median rent in their home area")]
    part_rent = rent[rent["fte"] < 0.995]

    assert len(part_rent) and part_rent["caseload_current"].isna().all()
    hours = (part_rent["fte"] * 100).round().astype(int).astype(str) + "% of full-time hours"
    assert all(h in r for h, r in zip(hours, part_rent["reason"])), part_rent["reason"].tolist()
    assert not rent.loc[rent["fte"] >= 0.995, "reason"].str.contains("full-time hours").any()


def test_explain_words_a_part_timers_reasons_as_the_lists_do(sim_model, no_cases_dir, tmp_path):
    """The person's own view (explain --worker) shows the words the lists used: the same hours."""
    from retention_ml.commands.explain import compute
    from retention_ml.scoring import score

    data, part = no_cases_dir
    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    s = score(ref, data, AS_OF, tmp_path / "sc", find_previous_scoring=False).scores
    hours = s["reason_1"].fillna("").str.contains("of full-time hours") & s["worker_id"].isin(part)
    worker = s.loc[hours, "worker_id"].iloc[0]
    table = compute(ref, data, AS_OF.date(), worker).table
    assert table["list_reason_1"].iloc[0] == s.loc[s["worker_id"] == worker, "reason_1"].iloc[0]
