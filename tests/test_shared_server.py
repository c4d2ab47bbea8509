"""The whole workflow against a real MLflow tracking server, as a council's analyst points the tool at a shared one.

A `mlflow server` is started as a subprocess on a free port with proxied artifacts (`--artifacts-destination`), so
the client sees `mlflow-artifacts:/` URIs and has no access to the server's disk: anything that opened a run's
artifacts by a local path, or wrote a store, lock or cache next to the working folder, fails or shows here. One
small council model is trained through the command line with MLFLOW_TRACKING_URI set, then listed, loaded by its
registry URI, scored, ranked, carded, promoted, explained and truth-checked; the IBM flat experiment is trained with
the experiment file's own tracking_uri instead of the variable. A server that cannot start fails the module (its
log is printed): MLflow is a dependency, so a missing or broken server is a broken environment, never a skip.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

REPO = Path(__file__).resolve().parents[1]
COUNCIL = REPO / "experiments" / "council_default.toml"
IBM = REPO / "experiments" / "ibm_hr.toml"
# conftest's SIM_MODEL_OVERRIDES and IBM_MODEL_OVERRIDES (tests are imported by path, not as a package)
FAST = ["evaluation.n_boot=20", "model.n_bootstrap=4", "evaluation.explain=false"]
IBM_FAST = ["tuning.trials=0", "evaluation.n_boot=20", "model.n_bootstrap=2"]
MODEL = "retention-ml-turnover"
AS_OF = "2022-12-01"   # conftest's sim_dir holds 2019-01 to 2022-12
# Lets a gate on a 2-council test window pass, so that a real promote moves the alias on the server; the card is
# written with the same file, as the gate requires.
LENIENT = """min_test_leavers = 1
max_test_auc_interval = 2.0
require_card = true
require_beats_baselines = false
max_ece = 1.0
max_calibration_ratio = 100.0
max_group_roc_auc_shortfall = 1.0
max_group_calibration_gap = 1.0
group_family_alpha = 0.05
min_group = 20
"""
LOCAL_STORE = ("mlflow.db", "mlruns", "mlartifacts")   # what an embedded store would have written
runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mlflow_binary() -> str | None:
    beside = Path(sys.executable).with_name("mlflow")
    return str(beside) if beside.is_file() else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``(uri, server folder)`` of a running MLflow server; stopped (its whole process group) after the module."""
    binary = _mlflow_binary()
    if binary is None:   # mlflow is a dependency: `make test` installs its command beside the interpreter
        pytest.fail(f"no mlflow command beside {sys.executable}: the environment lacks MLflow's server")
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [binary, "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,   # its workers die with it
        env={k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"})
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120   # the start takes about 13 s on 2 busy cores
        while True:
            if proc.poll() is not None:
                reason = (root / "server.log").read_text(errors="replace")[-2000:]
                print(f"mlflow server exited with {proc.returncode}:\n{reason}")
                pytest.fail(f"the mlflow server could not start (exit {proc.returncode}); its log is printed above")
            try:
                with urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the mlflow server did not answer {uri}/health within 120 s: "
                            + (root / "server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield uri, root
    finally:
        _stop_group(proc)
        log.close()


def _stop_group(proc) -> None:
    """SIGTERM to the server's process group, then SIGKILL to whatever of it is left (its job consumers can
    outlive the main process by seconds), so no server process survives the module."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.5)


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory, server):
    """The analyst's working folder (not the server's), as the current folder with MLFLOW_TRACKING_URI set."""
    folder = tmp_path_factory.mktemp("analyst")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("MLFLOW_TRACKING_URI", server[0])
        yield folder


def _ok(res, codes=(0,)):
    assert res.exit_code in codes, res.output
    return res


@pytest.fixture(scope="module")
def trained(client_dir, sim_dir):
    """One council model trained through `train --json` into the server: (run id, the JSON answer)."""
    res = _ok(runner.invoke(app, ["train", str(COUNCIL), "--set", f"data.path={sim_dir}",
                                  *[a for o in FAST for a in ("--set", o)], "--json"]))
    answer = json.loads(res.stdout)   # stdout is the JSON alone (MLflow's run links kept off it)
    return answer["run_id"], answer


def _server_client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_the_run_and_its_model_are_on_the_server_not_in_the_working_folder(server, client_dir, trained):
    uri, root = server
    run_id, answer = trained
    run = _server_client(uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")   # proxied: the client never sees the server's disk
    assert list(root.glob(f"artifacts/*/{run_id}/artifacts/model_object/turnover_model.joblib"))
    version = _server_client(uri).get_model_version_by_alias(MODEL, "candidate")
    assert version.run_id == run_id and version.version == answer["model_version"]
    assert not [name for name in LOCAL_STORE if (client_dir / name).exists()]


def test_runs_lists_the_servers_run(client_dir, trained):
    res = _ok(runner.invoke(app, ["runs", "--experiment", "council_default", "--json"]))
    rows = {r["run_id"]: r for r in json.loads(res.stdout)}
    assert rows[trained[0]]["status"] == "FINISHED" and "@candidate" in rows[trained[0]]["registered"]


def test_scores_match_the_model_loaded_by_its_registry_uri(server, client_dir, sim_dir, sim_tables, trained):
    """`score` and a client that has only the URI and `mlflow.pyfunc.load_model` give the same risks."""
    from retention_ml.features import build_features

    _ok(runner.invoke(app, ["score", "--model", f"models:/{MODEL}@candidate", "--data", str(sim_dir),
                            "--as-of", AS_OF, "--out", "scores"]))
    scores = pd.read_parquet(client_dir / "scores" / "scores.parquet")
    ds = build_features(sim_tables, [pd.Timestamp(AS_OF)])
    elsewhere = client_dir.parent / "pyfunc_client"
    elsewhere.mkdir()
    ds.X.to_parquet(elsewhere / "X.parquet")
    script = ("import sys, json, mlflow, pandas as pd; m = mlflow.pyfunc.load_model(sys.argv[1]); "
              "X = pd.read_parquet('X.parquet')[m.metadata.get_input_schema().input_names()]; "
              "print(json.dumps(m.predict(X).tolist()))")
    done = subprocess.run([sys.executable, "-c", script, f"models:/{MODEL}@candidate"], cwd=elsewhere,
                          env={**os.environ, "MLFLOW_TRACKING_URI": server[0]}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = ds.keys[["worker_id"]].assign(pyfunc=json.loads(done.stdout.strip().splitlines()[-1]))
    both = scores[["worker_id", "risk"]].merge(loaded, on="worker_id", validate="one_to_one")
    assert len(both) == len(scores) > 0
    np.testing.assert_allclose(both["pyfunc"], both["risk"], rtol=1e-9)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["X.parquet"]   # the load left nothing beside it
    res = _ok(runner.invoke(app, ["rank", "--scores", "scores", "--all", "--format", "csv", "--out", "lists"]))
    assert list((client_dir / "lists").glob("risk_list_*.csv")), res.output


def test_card_and_promotion_write_to_the_servers_run_and_registry(server, client_dir, trained, tmp_path):
    uri, _ = server
    run_id = trained[0]
    _ok(runner.invoke(app, ["card", "--run", run_id, "--out", "card"]))
    assert (client_dir / "card" / "model_card.html").is_file()
    assert any(a.path == "model_card" for a in _server_client(uri).list_artifacts(run_id))
    _ok(runner.invoke(app, ["promote", run_id, "--dry-run", "--json"]), codes=(0, 1))
    assert _alias(uri, "champion") is None   # a dry run changes nothing
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(LENIENT, encoding="utf-8")
    _ok(runner.invoke(app, ["card", "--run", run_id, "--out", "card_lenient", "--thresholds", str(lenient)]))
    promoted = json.loads(_ok(runner.invoke(app, ["promote", run_id, "--thresholds", str(lenient), "--json"])).stdout)
    assert promoted["promoted"] is True
    assert _alias(uri, "champion").run_id == run_id


def _alias(uri, alias):
    from mlflow.exceptions import MlflowException

    try:
        return _server_client(uri).get_model_version_by_alias(MODEL, alias)
    except MlflowException:
        return None


def test_explain_and_truth_check_read_the_servers_run(server, client_dir, sim_dir, trained):
    run_id = trained[0]
    _ok(runner.invoke(app, ["explain", "--run", run_id, "--data", str(sim_dir), "--as-of", AS_OF,
                            "--out", "explained.csv"]))
    assert len(pd.read_csv(client_dir / "explained.csv", comment="#")) > 0
    _ok(runner.invoke(app, ["truth-check", "--run", run_id, "--data", str(sim_dir), "--n-boot", "20", "--json"]),
        codes=(0, 1))   # 1: logged, but a bar missed, which a 2-council model may
    assert any(a.path == "explanations/truth.json"
               for a in _server_client(server[0]).list_artifacts(run_id, "explanations"))
    assert not [name for name in LOCAL_STORE if (client_dir / name).exists()]


def test_the_experiment_files_tracking_uri_sends_the_ibm_run_to_the_server(server, client_dir, monkeypatch, tmp_path):
    uri, _ = server
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    text = IBM.read_text(encoding="utf-8").replace('name = "ibm_hr"\n', f'name = "ibm_hr"\ntracking_uri = "{uri}"\n', 1)
    assert f'tracking_uri = "{uri}"' in text
    experiment = tmp_path / "ibm_shared.toml"
    experiment.write_text(text, encoding="utf-8")
    data = REPO / "retention_ml" / "data" / "ibm_hr_attrition.csv"
    res = _ok(runner.invoke(app, ["train", str(experiment), "--set", f"data.path={data}",
                                  *[a for o in IBM_FAST for a in ("--set", o)], "--json"]))
    run_id = json.loads(res.stdout)["run_id"]
    assert _server_client(uri).get_run(run_id).data.tags["retention_ml.kind"] == "flat"
    assert not [name for name in LOCAL_STORE if (client_dir / name).exists()]


def test_a_server_lost_mid_run_is_said_naming_the_run_left_unfinished(server, client_dir, sim_dir, trained,
                                                                     monkeypatch):
    """The server stops answering while the model is being logged (here: the client is pointed at a closed port,
    which is what a stopped server looks like to it): exit 2 naming the run, no alias moved, `runs` marks it."""
    import mlflow

    from retention_ml import tracking

    uri, _ = server
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{s.getsockname()[1]}"   # closed once the block ends
    real_log = tracking.log_turnover_model

    def server_stops(*args, **kwargs):
        mlflow.set_tracking_uri(gone)
        mlflow.set_registry_uri(gone)
        return real_log(*args, **kwargs)

    monkeypatch.setattr(tracking, "log_turnover_model", server_stops)
    before = _alias(uri, "candidate").version
    started = time.monotonic()
    res = runner.invoke(app, ["train", str(COUNCIL), "--set", f"data.path={sim_dir}",
                              *[a for o in FAST for a in ("--set", o)], "--set", "seed=3", "--json"])
    print(f"lost server said after {time.monotonic() - started:.1f} s")
    assert res.exit_code == 2, res.output
    error = json.loads(res.stdout)["error"]
    assert "stopped answering while run" in error and "Traceback" not in error and "HTTPConnectionPool" not in error
    run_id = error.split("while run ")[1].split()[0]
    assert _server_client(uri).get_run(run_id).info.status == "RUNNING"   # nobody could tell the server
    assert _alias(uri, "candidate").version == before
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)   # mlflow.set_tracking_uri(gone) had set it to the closed port
    listed = runner.invoke(app, ["runs", "--experiment", "council_default"])
    assert listed.exit_code == 0, listed.output
    assert "RUNNING: a train still at work" in listed.output
    assert not [name for name in LOCAL_STORE if (client_dir / name).exists()]
