"""``rank --all`` lets each team's list go once its set is written (what it keeps nationally: see
benchmarks/bench_rank_all.py), with the same files."""

from __future__ import annotations

import gc
import importlib.util
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _scoring(folder: Path) -> Path:
    sizes = {f"T{i:03d}": n for i, n in enumerate([7, 3, 12, 9, 6, 15])}
    frame = scores_frame.synthetic_scores(sizes, seed=4, council="C01", prefix="W")
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]      # each manager sits in their team
    frame.loc[frame["team_id"] == "T005", "manager_id"] = None          # and one team has none recorded
    frame["service"] = frame["team_id"].map(lambda t: f"service_{int(t[1:]) % 2}")
    frame["risk"] = np.random.default_rng(4).beta(2, 5, len(frame))
    return scores_frame.write_scoring(folder, frame, horizon_months=12)


def test_rank_all_lets_each_team_list_go_once_written_and_writes_the_same_files(tmp_path, monkeypatch):
    # A list frame keeps a (weak) reference from every view the writers take of it while it lives; holding every
    # team's to the end of the call grew rank --all by 137 MB nationally while it wrote the sets. By the time the overviews are written,
    # every team list has been let go (their figures were taken first), and nothing written changes.
    import retention_ml.commands.rank as rank
    import retention_ml.reports.risk_list as risk_list

    scores = _scoring(tmp_path / "a")
    alive, real_build = [], risk_list.build_risk_lists

    def build(*args, **kwargs):
        out = real_build(*args, **kwargs)
        alive.extend(weakref.ref(tl.rows) for tl in out)
        return out

    held = []
    real_write = rank.write_overviews

    def write_overviews(*args, **kwargs):
        gc.collect()
        held.append(sum(r() is not None for r in alive))
        return real_write(*args, **kwargs)

    monkeypatch.setattr(risk_list, "build_risk_lists", build)
    monkeypatch.setattr(rank, "write_overviews", write_overviews)
    files = rank.rank_scores(scores, tmp_path / "lists", all_teams=True)
    assert len(alive) == 6 and held == [0]
    monkeypatch.undo()
    # each team's list as the --team path builds and writes it on its own: byte for byte the one-pass file
    names = {p.name for p in files}
    for team in ("T000", "T001", "T002", "T003", "T004"):
        alone = rank.rank_scores(scores, tmp_path / "alone", team=[team])
        assert {p.name for p in alone} <= names
        for p in alone:
            assert p.read_bytes() == (tmp_path / "lists" / p.name).read_bytes(), p.name
    assert any(n.startswith("service_overview_") for n in names) and any("no_manager_recorded" in n for n in names)


def test_a_team_listed_for_two_managers_is_let_go_only_after_both_sets(tmp_path):
    # a team whose rows name two managers (a change recorded mid-scoring, co-managers) is in each one's set when
    # the sets are per manager (the demo): its list must outlive the first set
    from retention_ml.commands.rank import rank_scores

    scores_dir = _scoring(tmp_path / "a")
    frame = pd.read_parquet(scores_dir / "scores.parquet")
    two = frame.index[frame["team_id"] == "T002"][-1]
    frame.loc[two, "manager_id"] = "MT000"   # the manager of T000 too
    frame.to_parquet(scores_dir / "scores.parquet", index=False)
    files = rank_scores(scores_dir, tmp_path / "lists", all_teams=True, per_manager=True)
    for manager in ("MT000", "MT002"):
        alone = rank_scores(scores_dir, tmp_path / manager, manager=manager)
        for p in alone:
            assert p.read_bytes() == (tmp_path / "lists" / p.name).read_bytes(), p.name
    assert "risk_list_manager_MT000.csv" in {p.name for p in files}
