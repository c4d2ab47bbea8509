"""``retention-ml rank``: the scoring folder is checked before use, and one call's lists change all together or not at all."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

TEAMS = {"TEAMA": 8, "TEAMB": 6}


def _scores(as_of="2024-01-01", seed=5) -> pd.DataFrame:
    """A small scores frame with the columns retention-ml score writes."""
    return scores_frame.synthetic_scores(TEAMS, seed=seed, as_of=as_of, managers={"TEAMA": "MGRA", "TEAMB": "MGRB"},
                                         prefix="WQ")


def _folder(tmp_path, *, as_of="2024-01-01", meta_as_of=None) -> object:
    d = tmp_path / "scores"
    d.mkdir(exist_ok=True)
    _scores(as_of).to_parquet(d / "scores.parquet", index=False)
    (d / "score_meta.json").write_text(json.dumps({"as_of": meta_as_of or as_of, "model_ref": "models:/x@champion",
                                                   "n_workers": sum(TEAMS.values())}))
    return d


def _rank(d, out, *extra):
    return CliRunner().invoke(app, ["rank", "--scores", str(d), "--all", "--out", str(out), *extra])


def test_a_clean_folder_ranks(tmp_path):
    res = _rank(_folder(tmp_path), tmp_path / "lists", "--json")
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["files"]) == 3 * len(TEAMS)


def test_meta_from_another_scoring_is_refused_naming_both_dates(tmp_path):
    """Parquet of 2024-02-01 beside meta of 2024-01-01 (what an interrupted older scoring left): no lists, exit 2."""
    d = _folder(tmp_path, as_of="2024-02-01", meta_as_of="2024-01-01")
    res = _rank(d, tmp_path / "lists")
    assert res.exit_code == 2, res.output
    assert "score_meta.json" in res.stderr and "2024-01-01" in res.stderr and "2024-02-01" in res.stderr
    assert not (tmp_path / "lists").exists() or not any((tmp_path / "lists").iterdir())


def test_truncated_parquet_is_a_clear_error_naming_the_file(tmp_path):
    d = _folder(tmp_path)
    data = (d / "scores.parquet").read_bytes()
    (d / "scores.parquet").write_bytes(data[: len(data) // 2])
    res = _rank(d, tmp_path / "lists")
    assert res.exit_code == 2, res.output
    assert "scores.parquet" in res.stderr and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_broken_meta_is_a_clear_error_naming_the_file(tmp_path):
    d = _folder(tmp_path)
    (d / "score_meta.json").write_text('{"as_of": "2024-01-01", "model_ref": ')
    res = _rank(d, tmp_path / "lists")
    assert res.exit_code == 2, res.output
    assert "score_meta.json" in res.stderr and "not valid JSON" in res.stderr
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_a_failed_write_leaves_every_earlier_list_as_it_was(tmp_path, monkeypatch):
    """The html of the last team fails (disk full): no csv/xlsx of this call replaces the earlier lists."""
    import retention_ml.reports.html as html

    d = _folder(tmp_path)
    out = tmp_path / "lists"
    assert _rank(d, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _folder(tmp_path, as_of="2024-02-01")  # a new scoring in the same folder
    real = html.write_html
    calls = []

    def full_disk(lists, meta, path):
        calls.append(path)
        if len(calls) == len(TEAMS):
            raise OSError(28, "No space left on device")
        return real(lists, meta, path)

    monkeypatch.setattr(html, "write_html", full_disk)
    res = _rank(d, out)
    assert res.exit_code == 2, res.output
    assert "No space left" in res.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no temporaries left behind


def test_lists_from_an_unapproved_model_warn(tmp_path):
    d = _folder(tmp_path)
    meta = json.loads((d / "score_meta.json").read_text())
    meta["approval"] = {"status": "not approved", "detail": "The scored model (run r1) is not the champion."}
    (d / "score_meta.json").write_text(json.dumps(meta))
    res = _rank(d, tmp_path / "lists", "--json")
    assert res.exit_code == 0, res.output
    assert "NOT APPROVED" in res.stderr and "run r1" in res.stderr
    assert len(json.loads(res.stdout)["files"]) == 3 * len(TEAMS)
    meta["approval"] = {"status": "approved", "detail": "Version 3 is the champion."}
    (d / "score_meta.json").write_text(json.dumps(meta))
    assert "NOT APPROVED" not in _rank(d, tmp_path / "lists").stderr


def _folder_with_managers(tmp_path, *, service=True):
    """TEAMA's and TEAMB's managers sit in the team they manage; the scores carry the service unless told not to."""
    d = _folder(tmp_path)
    frame = pd.read_parquet(d / "scores.parquet")
    first = frame.groupby("team_id").head(1).index
    frame.loc[first, "worker_id"] = frame.loc[first, "manager_id"]
    if service:
        frame["service"] = frame["team_id"].map({"TEAMA": "safeguarding", "TEAMB": "early_help"})
    frame.to_parquet(d / "scores.parquet", index=False)
    return d


def test_service_lists_its_team_managers_and_is_exclusive_with_other_scopes(tmp_path):
    d = _folder_with_managers(tmp_path)
    run = lambda *a: CliRunner().invoke(app, ["rank", "--scores", str(d), "--out", str(tmp_path / "l"), *a])  # noqa: E731
    res = run("--service", "safeguarding", "--json")
    assert res.exit_code == 0, res.output
    assert [p.rsplit("/", 1)[1] for p in json.loads(res.stdout)["files"]] == [
        f"{stem}.{f}" for stem in ("risk_list_service_C01_safeguarding_team_managers", "service_overview_C01_safeguarding")
        for f in ("csv", "xlsx", "html")]
    res = run("--service", "fostering_adoption")
    assert res.exit_code == 1 and "no scored team manager in service fostering_adoption" in res.stderr
    assert "early_help, safeguarding" in res.stderr  # what there is to list
    for other in (["--all"], ["--team", "TEAMA"], ["--manager", "MGRA"]):
        res = run("--service", "safeguarding", *other)
        assert res.exit_code == 2 and "exactly one of" in res.output, other


def test_managers_with_no_service_to_be_found_stop_rank_all(tmp_path):
    """Scores without a service column and no data folder: --all must not drop the managers silently."""
    res = _rank(_folder_with_managers(tmp_path, service=False), tmp_path / "lists")
    assert res.exit_code == 2, res.output
    assert "no service column" in res.stderr and "--data" in res.stderr
    assert not (tmp_path / "lists").exists() or not any((tmp_path / "lists").iterdir())


def test_help_explains_service_lists():
    text = " ".join(CliRunner().invoke(app, ["rank", "--help"]).output.split())
    assert "--service" in text and "head of service" in text and "exactly one list" in text


# -- an interrupted call leaves nothing behind (S10-X F4) ---------

KILL_MID_WRITE = """
import os, signal, sys
import retention_ml.reports.html as html
real, calls = html.write_html, []
def write_then_terminated(lists, meta, path):
    calls.append(path)
    if len(calls) == 2:   # half-way: one team's set staged, the next under way, as a scheduler's timeout strikes
        os.kill(os.getpid(), signal.SIGTERM)
    return real(lists, meta, path)
html.write_html = write_then_terminated
from retention_ml.cli import app
app(["rank", "--scores", sys.argv[1], "--all", "--out", sys.argv[2]])
"""


def test_sigterm_half_way_leaves_the_lists_folder_as_it_was(tmp_path):
    """SIGTERM (kill, a scheduler's timeout) used to leave hundreds of hidden per-person list temporaries."""
    import subprocess
    import sys

    d = _folder(tmp_path)
    out = tmp_path / "lists"
    assert _rank(d, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _folder(tmp_path, as_of="2024-02-01")   # a new scoring, so a half-written call would show
    run = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, str(d), str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 128 + 15, run.stderr   # an exit, not a death by signal: clean-up ran
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before   # no temporaries, nothing half-replaced


def test_a_staging_folder_of_a_call_killed_outright_is_removed_by_the_next_call(tmp_path):
    """SIGKILL or a power cut skip every clean-up: the next call into OUT removes that call's folder, and
    leaves alone the folder of a call still running."""
    import os
    import subprocess
    import sys

    from retention_ml.io import STAGING_PREFIX

    d, out = _folder(tmp_path), tmp_path / "lists"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = out / f"{STAGING_PREFIX}{int(gone.stdout)}-abc"
    running = out / f"{STAGING_PREFIX}{os.getppid()}-def"   # pytest's parent process: alive
    for folder in (dead, running):
        folder.mkdir(parents=True)
        (folder / "1_risk_list_team_TEAMA.csv").write_text("worker ids and bands")
    assert _rank(d, out).exit_code == 0
    assert not dead.exists() and running.exists()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == [running.name]


def test_help_says_what_each_lever_is_and_how_formula_text_is_kept():
    text = " ".join(CliRunner().invoke(app, ["rank", "--help"]).output.replace("│", " ").split())
    assert ("each beside one suggested lever (its driver's first lever in data_schema/drivers.yaml, or its lever for "
            "the person's group") in text
    assert "names the scoring it compares with" in text and "opens like a spreadsheet formula" in text


def test_a_team_or_manager_that_is_not_scored_is_refused_naming_those_that_are(tmp_path):
    # help examples show ids like T03 and W000123; a new user's real ids look different, so say what there is
    d = _folder(tmp_path)
    for flag, wrong, known in (("--team", "T03", "TEAMA, TEAMB"), ("--manager", "W000123", "MGRA, MGRB")):
        res = CliRunner().invoke(app, ["rank", "--scores", str(d), flag, wrong, "--out", str(tmp_path / "l")])
        assert res.exit_code == 1 and wrong in res.stderr, res.output
        assert known in res.stderr, res.stderr
    assert not (tmp_path / "l").exists() or not any((tmp_path / "l").iterdir())


def test_all_counts_its_files_by_kind_and_leaves_the_paths_to_json(tmp_path):
    # Nationally --all writes about 22,000 files: one path per line buried everything else it said.
    d, out = _folder(tmp_path), tmp_path / "lists"
    res = _rank(d, out)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines == [f"wrote {3 * len(TEAMS)} files to {out} (csv, html, xlsx):",
                     f"  {len(TEAMS)} team lists, one per team", "each file's path: --json"]
    files = json.loads(_rank(d, tmp_path / "again", "--json").stdout)["files"]
    assert sorted(Path(f).name for f in files) == sorted(p.name for p in out.iterdir() if p.name.startswith("risk_list"))
    single = CliRunner().invoke(app, ["rank", "--scores", str(d), "--team", "TEAMA", "--out", str(tmp_path / "one")])
    assert single.stdout.splitlines() == [str(tmp_path / "one" / f"risk_list_team_TEAMA.{f}") for f in ("csv", "xlsx", "html")]
