"""rank records who each list set is for and whose rows it holds, in the scoring folder's distribution_log.csv.

The DPO must be able to answer "who was sent my row?" after the lists folder has been replaced by later
scorings; the log keeps every call's lines, lands with the lists or not at all, never holds names, and is
never put among the lists managers are sent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.commands.rank import rank_scores
from retention_ml.reports.distribution import LOG_COLUMNS, LOG_NAME, read_log

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


@pytest.fixture
def scoring(tmp_path):
    # W100 manages T1 (and sits in it), so T1's list leaves them out and the service set lists them
    frame = scores_frame.synthetic_scores({"T1": 6, "T2": 7}, managers={"T1": "W100", "T2": "MT2"},
                                          service="safeguarding")
    frame["display_name"] = [f"Person {i}" for i in range(len(frame))]
    return scores_frame.write_scoring(tmp_path / "s", frame)


def _list_ids(path: Path) -> list[str]:
    return sorted(pd.read_csv(path, comment="#", dtype=str)["worker_id"])


def test_each_set_names_its_recipient_and_exactly_the_people_it_lists(scoring, tmp_path):
    out = tmp_path / "lists"
    rank_scores(scoring, out, all_teams=True, formats=["csv"], names=True)
    log = read_log(scoring / LOG_NAME).set_index("list")
    assert sorted(log.index) == ["risk_list_service_C01_safeguarding_team_managers", "risk_list_team_T1",
                                 "risk_list_team_T2", "service_overview_C01_safeguarding"]
    assert log.loc["risk_list_team_T1", "recipient"] == "W100"
    assert log.loc["risk_list_team_T2", "recipient"] == "MT2"
    assert log.loc["risk_list_service_C01_safeguarding_team_managers", "recipient"] == "head of service"
    # the overview holds team figures and nobody's row: for the head of service, naming no one
    assert log.loc["service_overview_C01_safeguarding", ["recipient", "people", "worker_ids"]].tolist() == [
        "head of service", "0", ""]
    for stem, line in log.drop(index="service_overview_C01_safeguarding").iterrows():
        assert line["worker_ids"].split() == _list_ids(out / f"{stem}.csv")
        assert int(line["people"]) == len(line["worker_ids"].split())
    assert "W100" not in log.loc["risk_list_team_T1", "worker_ids"].split()   # the manager's own row: not theirs
    assert not log.apply(lambda col: col.str.contains("Person")).any().any()  # ids only, even with --names
    assert log["written_at"].nunique() == 1 and set(log["as_of"]) == {"2024-01-01"}
    assert not (out / LOG_NAME).exists()   # never among the lists


def test_later_calls_append_and_keep_every_earlier_line(scoring, tmp_path):
    out = tmp_path / "lists"
    rank_scores(scoring, out, all_teams=True, formats=["csv"])
    first = read_log(scoring / LOG_NAME)
    rank_scores(scoring, out, team=["T2"], formats=["html"])
    log = read_log(scoring / LOG_NAME)
    assert len(log) == len(first) + 1
    pd.testing.assert_frame_equal(log.iloc[: len(first)], first)
    assert log.iloc[-1]["list"] == "risk_list_team_T2"
    assert log.iloc[-1]["files"] == str(out / "risk_list_team_T2.html")


def test_a_failed_call_adds_no_line(scoring, tmp_path, monkeypatch):
    out = tmp_path / "lists"
    rank_scores(scoring, out, all_teams=True, formats=["csv"])
    before = (scoring / LOG_NAME).read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("retention_ml.reports.html.write_html", disk_full)
    with pytest.raises(OSError):
        rank_scores(scoring, out, all_teams=True, formats=["csv", "html"])
    assert (scoring / LOG_NAME).read_bytes() == before   # no list was sent, so none is recorded


def test_a_damaged_log_stops_the_call_before_anything_is_written(scoring, tmp_path):
    out = tmp_path / "lists"
    (scoring / LOG_NAME).write_text("who,when\nsomeone,today\n")
    res = CliRunner().invoke(app, ["rank", "--scores", str(scoring), "--all", "--out", str(out)])
    assert res.exit_code == 2
    assert LOG_NAME in res.output and "header" in res.output
    assert not out.exists() or not list(out.iterdir())
    assert (scoring / LOG_NAME).read_text() == "who,when\nsomeone,today\n"


def test_a_scoring_folder_rank_cannot_record_in_is_refused_before_any_work(scoring, tmp_path, monkeypatch):
    out = tmp_path / "lists"
    # chmod cannot provoke it where the tests run as root, so the folder is reported read-only
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == scoring and mode == os.W_OK
                        else real_access(p, mode))
    res = CliRunner().invoke(app, ["rank", "--scores", str(scoring), "--all", "--out", str(out)])
    assert res.exit_code == 2 and "--scores" in res.output and LOG_NAME in res.output
    assert not out.exists() or not list(out.iterdir())


def test_two_calls_into_one_folder_at_once_both_keep_their_lines(scoring, tmp_path):
    out = tmp_path / "lists"
    errors = []

    def run(team):
        try:
            rank_scores(scoring, out, team=[team], formats=["csv"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in ("T1", "T2", "T1", "T2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(read_log(scoring / LOG_NAME)["list"]) == ["risk_list_team_T1"] * 2 + ["risk_list_team_T2"] * 2


def test_the_command_names_the_log_and_it_has_the_documented_columns(scoring, tmp_path):
    out = tmp_path / "lists"
    res = CliRunner().invoke(app, ["rank", "--scores", str(scoring), "--team", "T1", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert tuple(pd.read_csv(scoring / LOG_NAME).columns) == LOG_COLUMNS
    assert json.loads(res.stdout)["distribution_log"] == str(scoring / LOG_NAME)
