"""The scores carry each person's employment type, so a list can set its turnover target (the council's own staff,
as the DfE counts it) beside the expected leavers of the own staff listed (risk_list._own_staff_summary)."""

from __future__ import annotations


def test_scores_carry_each_persons_employment_type(sim_model, sim_dir, tmp_path):
    from retention_ml.io import read_tables
    from retention_ml.scoring import score

    result, _ = sim_model
    s = score(f"runs:/{result.run_id}/model", sim_dir, "2022-07-01", tmp_path / "s", find_previous_scoring=False).scores
    workers = read_tables(sim_dir)["workers"].drop_duplicates("worker_id").set_index("worker_id")
    assert s["employment_type"].notna().all()
    assert (s["employment_type"].astype(str) == s["worker_id"].map(workers["employment_type"]).astype(str)).all()
    assert s["employment_type"].astype(str).eq("agency").any()   # the simulation has agency workers to set apart
