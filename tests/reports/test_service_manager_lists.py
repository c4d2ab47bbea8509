"""Every service's team-manager list in one pass (``build_service_manager_lists``) equals the list built a service
at a time, as ``rank`` did before: same people, order, ranks, bands, reasons, levers, summary and heading.

The reference below is the per-service computation as it stood (kept here only as the oracle).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.reports.risk_list import (BandConfig, _group_summary, _prepare_rows, build_service_manager_list,
                                            build_service_manager_lists, leaving_rows, service_label,
                                            team_manager_rows)

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _reference(scores, *, config, service, council=None, service_of=None):
    teams = scores["team_id"].astype(str)
    service_col = scores["service"].astype(str) if service_of is None else teams.map(service_of)
    keep = team_manager_rows(scores) & (service_col == str(service))
    if council is not None:
        keep &= scores["council_id"].astype(str) == str(council)
    if not keep.any():
        raise KeyError(service)
    rows, cols = _prepare_rows(scores.loc[keep.to_numpy(bool) & ~leaving_rows(scores)], config, False)
    rows = rows.sort_values(["risk", "worker_id"], ascending=[False, True], kind="stable")
    rows["rank"] = np.arange(1, len(rows) + 1)
    heading = f"Team managers of the {service_label(service)} service" + (f" (council {council})" if council else "")
    return rows[cols].reset_index(drop=True), _group_summary("Team managers", rows, config, listed="team managers"), heading


def _scoring(seed: int = 3) -> tuple[pd.DataFrame, dict]:
    """Three councils of 60 teams in five services; each team's manager scored in it, some managers leaving (one
    service's only manager in a council among them), ties in risk, and risks spread over the bands."""
    rng = np.random.default_rng(seed)
    frames = []
    for c in range(3):
        sizes = {f"T{c}{i:02d}": int(n) for i, n in enumerate(rng.integers(2, 6, 60))}
        frames.append(scores_frame.synthetic_scores(sizes, seed=seed + c, council=f"C{c}", prefix=f"W{c}"))
    frame = pd.concat(frames, ignore_index=True)
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    service_of = {t: f"svc{int(t[2:]) % 5}" for t in frame["team_id"].unique()}
    service_of["T100"] = "lonely"   # council C1's only 'lonely' team: its manager is leaving
    frame["risk"] = np.round(rng.beta(2, 4, len(frame)), 2)   # rounded: ties between managers
    frame["risk_previous"] = np.where(rng.random(len(frame)) < 0.5, frame["risk"] * 0.8, np.nan)
    frame["leaving_date_recorded"] = (rng.random(len(frame)) < 0.1) | (frame["team_id"] == "T100")
    return frame, service_of


@pytest.mark.parametrize("horizon", [12, 6])
def test_one_pass_equals_a_service_at_a_time(horizon):
    scores, service_of = _scoring()
    config = BandConfig().for_horizon(horizon)
    services = sorted({(c, s) for c in ("C0", "C1", "C2") for s in (*{f"svc{i}" for i in range(5)}, "lonely")
                       if c == "C1" or s != "lonely"})
    services += [(None, "svc2")]   # every council's
    built = build_service_manager_lists(scores, config=config, services=services, service_of=service_of)
    assert list(built) == services
    for council, service in services:
        rows, summary, heading = _reference(scores, config=config, service=service, council=council,
                                            service_of=service_of)
        [got] = built[(council, service)]
        # an empty list's columns may be typed as text or as objects: no file shows the difference
        pd.testing.assert_frame_equal(got.rows, rows, check_dtype=len(rows) > 0)
        assert got.rows.to_csv(index=False) == rows.to_csv(index=False)
        assert (got.summary, got.heading) == (summary, heading)
        assert build_service_manager_list(scores, config=config, service=service, council=council,
                                          service_of=service_of)[0].rows.to_csv() == rows.to_csv()
    assert built[("C1", "lonely")][0].rows.empty   # its one manager is leaving: listed nowhere, the list says so
    assert built[(None, "svc2")][0].rows["rank"].tolist() == list(range(1, 1 + len(built[(None, "svc2")][0].rows)))


def test_a_service_with_no_team_manager_scored_is_refused():
    scores, service_of = _scoring()
    with pytest.raises(KeyError, match="no scored team manager in service lonely of council C0"):
        build_service_manager_lists(scores, config=BandConfig(), services=[("C0", "svc1"), ("C0", "lonely")],
                                    service_of=service_of)
    scores["service"] = scores["team_id"].map(service_of)   # the scores' own column when no mapping is given
    [got] = build_service_manager_list(scores, config=BandConfig(), service="svc3", council="C2")
    pd.testing.assert_frame_equal(got.rows, _reference(scores, config=BandConfig(), service="svc3", council="C2")[0])
