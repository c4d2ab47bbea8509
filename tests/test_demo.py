"""End to end: `retention-ml demo` on a small simulation writes every manager's list, each scoped to their teams."""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "data_schema" / "examples" / "council_small"
ID = re.compile(r"\b(?:W\d{7}|T\d{5})\b")


def _ids_in(path):
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    else:
        text = path.read_text(encoding="utf-8")
    return set(ID.findall(text + " " + path.name))


def test_demo_end_to_end_lists_are_scoped(tmp_path):
    from retention_ml.commands.demo import run_demo

    import retention_ml.validation as validation

    mp = pytest.MonkeyPatch()
    before = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    validated = []
    check = validation._validate_dir
    try:
        mp.chdir(tmp_path)
        mp.setattr(validation, "_validate_dir", lambda data, **kw: validated.append(Path(data)) or check(data, **kw))
        summary = run_demo(tmp_path / "demo", councils=1, seed=5, months=48,
                           overrides=("evaluation.n_boot=20", "model.n_bootstrap=3"), say=lambda *_: None)
    finally:
        mp.undo()
    # the data are validated once, in the demo's validate stage; training and both scorings take what it read
    assert validated == [tmp_path / "demo" / "data"]
    # the demo's store is not left as every later test's default (a test then passed only after this one)
    assert {key: os.environ.get(key) for key in before} == before
    assert json.loads((tmp_path / "demo" / "demo_summary.json").read_text())["run_id"] == summary["run_id"]
    assert summary["model_ref"].endswith("@champion" if summary["gate_passed"] else "@candidate")
    scores = pd.read_parquet(f"{summary['scores']}/scores.parquet")
    assert scores.risk_previous.notna().mean() > 0.8  # the month before was scored and carried
    lists = tmp_path / "demo" / "lists"
    managers = sorted(scores.manager_id.dropna().unique())
    services = summary["service_manager_lists"]
    n_sets = len(managers) + len(services) + len(summary["no_manager_lists"]) + len(summary["service_overviews"])
    assert summary["n_lists"] == 3 * n_sets == len(list(lists.iterdir())) and services
    # one overview per service scored, naming nobody
    assert sorted(summary["service_overviews"]) == sorted(f"service_overview_{c}_{s}" for c, s in
                                                          set(zip(scores.council_id, scores.service)))
    # everyone scored is in exactly one list; each team manager in their service's list, for the head of service
    csvs = {f.name: pd.read_csv(f, skiprows=sum(line.startswith("#") for line in f.read_text(encoding="utf-8").splitlines()))
            for f in lists.glob("risk_list_*.csv")}
    listed = pd.concat(csvs.values()).worker_id
    assert listed.is_unique and set(listed) == set(scores.worker_id)
    heads = scores[scores.worker_id == scores.manager_id]
    in_service_lists = pd.concat(csvs[s["stem"] + ".csv"] for s in services)
    assert set(in_service_lists.worker_id) == set(heads.worker_id)
    # teams with no manager recorded: one list per (council, service), holding only that service's teams
    no_manager = scores[scores.manager_id.isna()]
    assert sorted(t for s in summary["no_manager_lists"] for t in s["teams"]) == sorted(no_manager.team_id.unique())
    for s in summary["no_manager_lists"]:
        rows = csvs[s["stem"] + ".csv"].merge(scores[["worker_id", "council_id", "service"]], on="worker_id")
        assert set(zip(rows.council_id, rows.service)) == {(s["council"], s["service"])}
    all_ids = set(scores.worker_id) | set(scores.team_id) | set(scores.manager_id)
    for m in managers:
        own = scores[scores.manager_id == m]
        allowed = set(own.worker_id) | set(own.team_id) | {m}
        for fmt in ("csv", "xlsx", "html"):
            f = lists / f"risk_list_manager_{m}.{fmt}"
            found = _ids_in(f) & all_ids
            assert found - allowed == set(), f"{f.name} leaks {sorted(found - allowed)[:5]}"
            assert set(own.worker_id) - {m} <= found  # and the manager's own people are all there
            assert m not in found  # but not the manager: nobody holds a supportive conversation with themselves
    # the embedded store lives under the output folder, never in the working directory
    assert summary["tracking_uri"] == f"sqlite:///{tmp_path / 'demo' / 'mlflow.db'}" and (tmp_path / "demo" / "mlflow.db").exists()
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlartifacts").exists()


def test_demo_stops_on_invalid_data_before_training(tmp_path, monkeypatch):
    """Validated once, and as strictly: data that break a rule stop the demo at its validate stage, every problem
    named, before a run is trained or anything is scored."""
    import retention_ml.simulate
    import retention_ml.training
    from retention_ml.commands.demo import run_demo
    from retention_ml.validation import DataValidationError

    def broken_simulation(out, **_):
        shutil.copytree(EXAMPLE, out, ignore=shutil.ignore_patterns("*.py", "*.md"))
        workers = (Path(out) / "workers.csv").read_text(encoding="utf-8").splitlines()
        workers[1] = workers[1].replace(workers[1].split(",")[0], "", 1)   # a worker with no id
        (Path(out) / "workers.csv").write_text("\n".join(workers) + "\n", encoding="utf-8")

    monkeypatch.setattr(retention_ml.simulate, "simulate", broken_simulation)
    monkeypatch.setattr(retention_ml.training, "train_experiment", lambda *a, **k: pytest.fail("trained on invalid data"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataValidationError, match="NOT valid") as stopped:
        run_demo(tmp_path / "demo", say=lambda *_: None)
    failures = stopped.value.report.failures
    assert ((failures["table"] == "workers") & (failures["column"] == "worker_id") & (failures["row"] == 1)).any()
    assert not (tmp_path / "demo" / "scores").exists() and not (tmp_path / "demo" / "lists").exists()


def _working_folder(root: Path) -> Path:
    """A folder laid out as the README's commands lay one out: a tracking store, an extract, scores and lists."""
    (root / "data").mkdir(parents=True)
    (root / "data" / "README_extract.txt").write_text("my notes", encoding="utf-8")
    (root / "scores" / "2023-12").mkdir(parents=True)
    (root / "lists").mkdir()
    (root / "mlflow.db").write_bytes(b"not the demo's store")
    return root


def test_demo_refuses_a_folder_it_did_not_write_and_deletes_nothing(tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    work = _working_folder(tmp_path / "work")
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    done = CliRunner().invoke(app, ["demo", "--out", str(work)])
    assert done.exit_code == 2, done.output
    assert "not an earlier demo output" in done.output and "--force" in done.output and "mlflow.db" in done.output
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before
    assert (work / "mlflow.db").read_bytes() == b"not the demo's store"


def test_demo_clears_only_its_own_products_in_its_own_folder_or_with_force(tmp_path):
    from retention_ml.commands.demo import MARKER, _fresh

    work = _working_folder(tmp_path / "work")
    (work / "notes.txt").write_text("keep me", encoding="utf-8")
    _fresh(work, force=True)
    assert sorted(p.name for p in work.iterdir()) == sorted([MARKER, "notes.txt"])
    # now the demo's own folder: a re-run clears its products without --force, and still keeps other files
    (work / "lists").mkdir()
    (work / "mlflow.db").write_bytes(b"demo store")
    _fresh(work)
    assert sorted(p.name for p in work.iterdir()) == sorted([MARKER, "notes.txt"])
    _fresh(tmp_path / "new")   # a new folder is the demo's from the start
    assert (tmp_path / "new" / MARKER).exists()


def _demo_folder_with_runs(out: Path, monkeypatch, users_runs: int) -> list[str]:
    """A demo's folder whose store holds the demo's run and ``users_runs`` more; the run ids, the demo's first."""
    import mlflow

    from retention_ml.commands.demo import _fresh

    _fresh(out)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{out / 'mlflow.db'}")
    mlflow.set_tracking_uri(f"sqlite:///{out / 'mlflow.db'}")
    mlflow.set_experiment("council_default")
    ids = []
    for _ in range(1 + users_runs):
        with mlflow.start_run() as run:
            ids.append(run.info.run_id)
    (out / "demo_summary.json").write_text(json.dumps({"run_id": ids[0]}), encoding="utf-8")
    return ids


def test_demo_refuses_to_rerun_over_runs_its_user_trained_into_its_store(tmp_path, monkeypatch):
    # The demo tells its user to export MLFLOW_TRACKING_URI at its store; a `train` in that shell lands there,
    # and a re-run of the demo used to delete that run with the store, without a word.
    from typer.testing import CliRunner

    from retention_ml.cli import app
    from retention_ml.commands.demo import MARKER, _fresh

    monkeypatch.chdir(tmp_path)
    own = tmp_path / "only-the-demos"
    _demo_folder_with_runs(own, monkeypatch, users_runs=0)
    _fresh(own)   # only the demo's own run in its store: cleared as before
    assert sorted(p.name for p in own.iterdir()) == [MARKER]

    out = tmp_path / "demo-output"
    users_run = _demo_folder_with_runs(out, monkeypatch, users_runs=1)[1]
    store = (out / "mlflow.db").read_bytes()
    done = CliRunner().invoke(app, ["demo", "--out", str(out)], env={"COLUMNS": "200"})
    assert done.exit_code == 2, done.output
    assert f"1 run(s) the demo did not train ({users_run[:8]}" in done.output
    assert "--force" in done.output and "DemoFolderError" not in done.output
    assert (out / "mlflow.db").read_bytes() == store and (out / "demo_summary.json").exists()


def _closing_screen(monkeypatch, tmp_path):
    """What `retention-ml demo` prints at the end on an 80-column terminal (the demo itself stubbed)."""
    from typer.testing import CliRunner

    from retention_ml.cli import app

    long = tmp_path / ('a-long-folder-name-' * 3)   # longer than one 80-column line
    uri = f"sqlite:///{long}/mlflow.db"
    summary = {"total_s": 1.0, "data": f"{long}/data", "scores": f"{long}/scores/2024-01-01", "lists": f"{long}/lists",
               "tracking_uri": uri, "model_ref": "m", "model_card": {"html": f"{long}/model_card/model_card.html"},
               "n_lists": 0, "managers": 0, "service_manager_lists": [], "no_manager_lists": [],
               "browse": f"mlflow ui --backend-store-uri {uri}"}

    def run_demo(*args, say, **kwargs):
        say(f"[simulate] 1 council(s), 60 months from 2019-01, seed 42 -> {long}/data")
        return summary

    monkeypatch.setattr("retention_ml.commands.demo.run_demo", run_demo)
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    return res.output.splitlines(), uri


def test_demo_prints_each_path_whole_on_its_line(monkeypatch, tmp_path):
    # piped or logged (`make demo | tee demo.log`) the output is 80 columns wide: a path broken there does not paste
    lines, uri = _closing_screen(monkeypatch, tmp_path)
    long = uri.removeprefix("sqlite:///").removesuffix("/mlflow.db")
    assert f"[simulate] 1 council(s), 60 months from 2019-01, seed 42 -> {long}/data" in lines
    for key, path in (("data", f"{long}/data"), ("scores", f"{long}/scores/2024-01-01"),
                      ("model card", f"{long}/model_card/model_card.html")):
        assert f"  {key:13s} {path}" in lines


def test_demo_says_how_to_open_its_store_in_lines_that_paste(monkeypatch, tmp_path):
    lines, uri = _closing_screen(monkeypatch, tmp_path)
    # each command whole on one line, however long the path: a wrapped command does not paste
    assert f"  mlflow ui --backend-store-uri {uri}" in lines
    assert f"  export MLFLOW_TRACKING_URI={uri}" in lines


def test_demo_names_the_mlflow_beside_its_python_when_none_is_on_path(monkeypatch):
    import sys

    from retention_ml.commands.demo import _mlflow_program

    monkeypatch.setattr("shutil.which", lambda name: None)   # make demo: .venv/bin/retention-ml, venv not active
    assert _mlflow_program() == str(Path(sys.executable).parent / "mlflow")
    monkeypatch.setattr("shutil.which", lambda name: f"/somewhere/bin/{name}")
    assert _mlflow_program() == "mlflow"
