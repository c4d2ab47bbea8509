"""A tracking URI that cannot work is "could not run" (exit 2) with a message that says what to do, and nothing is
created: not by a train that cannot start, not by a command that only looks a run up (S10-A F8, F16; S10-X F7)."""

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

REPO = Path(__file__).resolve().parents[1]
IBM = str(REPO / "experiments" / "ibm_hr.toml")
COUNCIL = str(REPO / "experiments" / "council_default.toml")
runner = CliRunner()


@pytest.fixture()
def empty_cwd(tmp_path, monkeypatch):
    """An empty working folder and the default store (./mlflow.db), as an analyst in the wrong folder has."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json_error(res) -> str:
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)   # no traceback
    return json.loads(res.stdout)["error"]


def test_train_that_cannot_start_creates_no_store(empty_cwd, tmp_path):
    missing = _json_error(runner.invoke(app, ["train", IBM, "--set", f"data.path={tmp_path}/nope.csv", "--json"]))
    assert "nope.csv" in missing
    no_folder = _json_error(runner.invoke(app, ["train", COUNCIL, "--set", f"data.path={tmp_path}/nothing", "--json"]))
    assert "is not a folder of tables" in no_folder
    assert list(empty_cwd.iterdir()) == []


def test_train_on_invalid_data_creates_no_store(empty_cwd):
    res = runner.invoke(app, ["train", COUNCIL, "--set", f"data.path={REPO / 'tests/fixtures/broken/duplicate_key'}",
                              "--json"])
    assert res.exit_code == 1, res.output   # a problem found in the data: nothing trained, nothing tracked
    assert not (empty_cwd / "mlflow.db").exists() and not (empty_cwd / "mlartifacts").exists()


def test_train_with_a_store_folder_that_does_not_exist(empty_cwd, tmp_path):
    uri = f"sqlite:///{tmp_path}/no/such/folder/mlflow.db"
    error = _json_error(runner.invoke(app, ["train", IBM, "--set", f"tracking_uri={uri}", "--json"]))
    assert uri in error and "does not exist" in error
    assert not (tmp_path / "no").exists()


def test_train_with_a_plain_folder_as_tracking_uri_says_how_to_fix_it(empty_cwd, tmp_path):
    error = _json_error(runner.invoke(app, ["train", IBM, "--set", f"tracking_uri={tmp_path / 'mlruns'}", "--json"]))
    assert "sqlite:///" in error and "migrate-filestore" in error


def _closed_port() -> int:
    with socket.socket() as s:   # a port nothing listens on: bound, then released
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_could_not_run_naming_it(empty_cwd, monkeypatch):
    uri = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    error = _json_error(runner.invoke(app, ["runs", "--json"]))
    assert f"cannot reach the tracking server {uri}" in error
    train_error = _json_error(runner.invoke(app, ["train", IBM, "--json"]))
    assert f"cannot reach the tracking server {uri}" in train_error
    assert list(empty_cwd.iterdir()) == []


@pytest.fixture()
def other_web_service():
    """``http://127.0.0.1:PORT`` of a web server that is not MLflow's (a proxy without the path prefix, another
    service on the port): every request gets an HTML "not found" page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotMlflow(BaseHTTPRequestHandler):
        def _page(self):
            body = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _page

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), NotMlflow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_web_server_that_is_not_mlflow_is_could_not_run_in_seconds(empty_cwd, monkeypatch, other_web_service, sim_dir):
    """It answers, so the connect check passed it: `runs` then printed its HTML page, `score` said no model was
    registered, and `train` read the data and built the features before failing on it."""
    uri = other_web_service
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    said = f"the tracking server {uri} answers, but not as an MLflow tracking server (HTTP 404"
    for command in (["runs", "--json"], ["score", "--model", "models:/retention-ml-turnover@champion", "--data",
                                         str(sim_dir), "--as-of", "2022-06-01", "--out", "scores", "--json"]):
        error = _json_error(runner.invoke(app, command))
        assert said in error and "<html" not in error.lower(), command
    calls = []
    monkeypatch.setattr("retention_ml.training._prepare_snapshots", lambda *a, **k: calls.append(a))
    error = _json_error(runner.invoke(app, ["train", COUNCIL, "--set", f"data.path={sim_dir}", "--json"]))
    assert said in error and calls == []   # refused before any data were read into features
    assert list(empty_cwd.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["promote", "0123abcd", "--json"],
    ["card", "--run", "0123abcd", "--no-log", "--json"],
    ["explain", "--run", "0123abcd", "--data", "{sim}", "--as-of", "2021-01-01", "--worker", "W0000001"],
    ["truth-check", "--run", "0123abcd", "--data", "{sim}"],
    ["score", "--model", "0123abcd", "--data", "{sim}", "--as-of", "2021-01-01", "--out", "scored"],
])
def test_looking_a_run_up_never_creates_a_store(empty_cwd, sim_dir, command):
    res = runner.invoke(app, [c.format(sim=sim_dir) for c in command])
    assert res.exit_code == 2, res.output
    assert "no tracking store at" in res.output
    assert not (empty_cwd / "mlflow.db").exists()


def test_a_run_id_the_store_does_not_hold_names_the_store_and_how_to_point_at_another(tmp_path, monkeypatch):
    # A run id from the demo's store used in a shell pointing at another: MLflow's "Run with id=... not found",
    # passed on as "MlflowException: ...", named neither the store searched nor what to change.
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    # a store with a run in it; the client, not mlflow.start_run, so no experiment set by an earlier test is used
    client = mlflow.MlflowClient(uri)
    client.set_terminated(client.create_run(client.create_experiment("another")).info.run_id)
    elsewhere = "0123456789abcdef0123456789abcdef"
    card = _json_error(runner.invoke(app, ["card", "--run", elsewhere, "--out", str(tmp_path / "card"), "--json"]))
    example = str(REPO / "data_schema" / "examples" / "council_small")
    score = _json_error(runner.invoke(app, ["score", "--model", f"runs:/{elsewhere}/model", "--data", example,
                                            "--as-of", "2024-01-01", "--out", str(tmp_path / "s"), "--json"]))
    for message in (card, score):
        assert f"{elsewhere} is not a run of the tracking store {uri}" in message, message
        assert "retention-ml runs" in message and "MLFLOW_TRACKING_URI" in message and "MlflowException" not in message


def test_a_data_path_typo_or_a_file_is_named_with_its_fix_not_an_exception_class(empty_cwd, tmp_path):
    typo = _json_error(runner.invoke(app, ["train", COUNCIL, "--set", f"data.path={tmp_path}/extract", "--json"]))
    assert f"data.path {tmp_path}/extract is not a folder of tables; no such folder: check the path" in typo
    (tmp_path / "workers.csv").write_text("worker_id\n", encoding="utf-8")
    a_file = _json_error(runner.invoke(app, ["train", COUNCIL, "--set", f"data.path={tmp_path}/workers.csv", "--json"]))
    assert "is not a folder of tables; it is a file: give the folder that holds it" in a_file
    assert "FileNotFoundError" not in typo + a_file
    assert sorted(p.name for p in empty_cwd.iterdir()) == ["workers.csv"]   # no store created
