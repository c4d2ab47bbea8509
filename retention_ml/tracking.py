"""Everything that talks to MLflow: the tracking store, run artifacts and the model registry.

This is the only module that imports ``mlflow`` (besides ``pyfunc_model.py``, the
script MLflow itself runs to load a logged model); the rest of the package asks
it for what it needs, MLflow's exception included (:data:`MlflowException`), so
the MLflow version can move without touching features, explanations or reports.

The default store is embedded, so nothing needs a server: a SQLite database
``mlflow.db`` and an artifact folder ``mlartifacts/`` in the working directory
(``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs).
``MLFLOW_TRACKING_URI`` or an explicit URI (an experiment file's
``tracking_uri``) points it at a shared server instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from retention_ml import artifacts

# MLflow logs its housekeeping at INFO on stderr ("Creating initial MLflow database tables...", "Validating input
# example against model signature"), between the commands' own progress and results. Its documented switch is
# MLFLOW_LOGGING_LEVEL, read once when mlflow is imported: unless the user set it, the command line lowers its
# loggers to WARNING (mlflow may have been imported first), so MLflow's warnings and errors still show and
# MLFLOW_LOGGING_LEVEL=INFO brings the rest back. Only the command line does this: importing the package in a
# notebook or a pipeline leaves the caller's logging alone.
LOGGING_LEVEL_ENV = "MLFLOW_LOGGING_LEVEL"
QUIET_LEVEL = "WARNING"


# Against a tracking server MLflow writes "View run ... at: URL" lines to stdout when a run ends, where a command's
# --json answer goes (`train --json` printed them before its JSON, which no parser reads); `train` prints the
# run's page itself (:func:`run_page`). MLflow's documented switch, set by the command line unless the user set it.
SUPPRESS_URL_ENV = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"


def quiet_library_logging() -> None:
    """Lower MLflow's INFO chatter to WARNING unless ``MLFLOW_LOGGING_LEVEL`` says otherwise, and keep its run
    links off stdout (see above)."""
    os.environ.setdefault(SUPPRESS_URL_ENV, "true")
    if os.environ.get(LOGGING_LEVEL_ENV):
        return
    os.environ[LOGGING_LEVEL_ENV] = QUIET_LEVEL   # child processes MLflow starts (model environments) too
    logging.getLogger("mlflow").setLevel(QUIET_LEVEL)

__all__ = [
    "DEFAULT_MODEL_NAME",
    "RUN_NOTE_TAG",
    "tracking_uri",
    "configure",
    "check_store",
    "TrackingStoreError",
    "lost_server",
    "MlflowException",
    "client",
    "run_page",
    "get_or_create_experiment",
    "resolve_run_id",
    "NoSuchRun",
    "download_artifact",
    "load_json_artifact",
    "load_table_artifact",
    "log_artifact_file",
    "log_json",
    "HEADLINE_METRICS",
    "set_run_tag",
    "run_tags",
    "list_artifacts",
    "model_version_for_run",
    "set_alias",
    "alias_version",
    "NoSuchAlias",
]

DEFAULT_MODEL_NAME = "retention-ml-turnover"
ARTIFACT_FOLDER = "mlartifacts"
# The tag MLflow's UI shows as a run's description (its "Description" box on the run page).
RUN_NOTE_TAG = "mlflow.note.content"


def tracking_uri(override: str | None = None) -> str:
    """The tracking URI to use: ``override``, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///<cwd>/mlflow.db``."""
    if override:
        return override
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _default_artifact_root(uri: str) -> str | None:
    # Only an embedded SQLite store gets a sibling artifact folder; a server decides its own.
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / ARTIFACT_FOLDER).resolve().as_uri()
    return None


class TrackingStoreError(OSError):
    """The tracking URI cannot work (no store to read, a folder that cannot hold one, an unreachable server):
    the commands' "could not run" (exit 2). The message names the URI and what to do."""


# MLflow retries a failing HTTP request with exponential backoff for minutes by default; a CLI that cannot reach
# its server should say so in seconds. A few retries stay for a busy server's transient errors. Set by us only
# when the user has not set them.
HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
CONNECT_TIMEOUT_SECONDS = 5


def check_store(uri: str, *, for_reading: bool = False) -> None:
    """Raise :class:`TrackingStoreError` when ``uri`` cannot work, before anything is created or trained.

    - ``sqlite:///PATH``: reading needs the file (looking never creates an empty store where the user expected
      theirs); writing needs PATH's folder to exist and be writable.
    - a plain folder or ``file:`` URI: MLflow 3's file store is read-only legacy; say how to move to SQLite.
    - ``http(s)://``: one TCP connect with a short timeout, so a wrong host or port fails in seconds.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if for_reading and not path.is_file():
            raise TrackingStoreError(f"no tracking store at {path} (tracking URI {uri}): train a model first "
                                     "(retention-ml train EXPERIMENT) or point --tracking-uri (or MLFLOW_TRACKING_URI) at the store")
        if not path.parent.is_dir():
            raise TrackingStoreError(f"tracking URI {uri}: the folder {path.parent} does not exist; create it or "
                                     "point MLFLOW_TRACKING_URI (or the experiment's tracking_uri) at an existing one")
        if not os.access(path if path.exists() else path.parent, os.W_OK) and not for_reading:
            raise TrackingStoreError(f"tracking URI {uri}: {path if path.exists() else path.parent} is not writable; "
                                     "choose a store you can write to")
    elif parts.scheme in ("", "file") or (len(parts.scheme) == 1 and uri[1:3] == ":\\"):   # a folder (or C:\...)
        raise TrackingStoreError(f"tracking URI {uri} is a folder (MLflow's file store, read-only legacy in MLflow 3): "
                                 "use sqlite:///<folder>/mlflow.db, or move old runs with `mlflow migrate-filestore`")
    elif parts.scheme in ("http", "https"):
        _check_server(uri, parts)


def _check_server(uri: str, parts) -> None:
    """A server that does not answer, or answers but not as MLflow's API does, is refused in seconds."""
    import socket

    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        raise TrackingStoreError(f"cannot reach the tracking server {uri} ({parts.hostname}:{port}: "
                                 f"{exc.strerror or type(exc).__name__}); check MLFLOW_TRACKING_URI (or the "
                                 "experiment's tracking_uri) and that the server is running") from exc
    _check_api(uri)


def _check_api(uri: str) -> None:
    """One read-only call to MLflow's API: another service on the port (or a missing path prefix, or a login the
    client lacks) was otherwise found only after the data were read and the features built, and said as a page of
    HTML, or as "no model is registered" by the commands that look a model up."""
    for key, value in HTTP_SETTINGS.items():   # before the first request: MLflow's default retries take minutes
        os.environ.setdefault(key, value)
    try:
        MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments(max_results=1)
    except Exception as exc:   # MlflowException with the status, or a body that is not MLflow's JSON
        status = re.search(r"error code (\d+)", str(exc))
        said = f"HTTP {status.group(1)}" if status else type(exc).__name__
        raise TrackingStoreError(
            f"the tracking server {uri} answers, but not as an MLflow tracking server ({said} to MLflow's API): check "
            "the URI's host, port and path (a server behind a proxy may need its path prefix) and, for a server that "
            "needs a login, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)") from exc


def lost_server(run_id: str | None, exc: Exception) -> TrackingStoreError | None:
    """What to say when logging run ``run_id`` failed because its tracking server stopped answering, or None (an
    embedded store, no run started yet, or a server that still answers: then ``exc`` is the problem, said as is).

    An embedded store marks such a run FAILED; a server that is gone cannot be told, so the run stays RUNNING there
    (``retention-ml runs`` marks it unfinished) and MLflow's own error was a long connection-pool trace.
    """
    uri = mlflow.get_tracking_uri()
    if run_id is None or not uri.startswith(("http://", "https://")):
        return None
    try:
        check_store(uri)
    except TrackingStoreError:
        cause = re.search(r"\[Errno -?\d+\] ([^\"')]+)", str(exc))
        return TrackingStoreError(
            f"the tracking server {uri} stopped answering while run {run_id} was being logged "
            f"({cause.group(1) if cause else type(exc).__name__}): the run is left unfinished there, and the alias "
            f"{CANDIDATE_ALIAS} still names the model it named before (a version this run registered before the "
            "server stopped has no alias). Nothing was written locally. Train again once the server answers; the "
            "unfinished run can be deleted in the MLflow UI")
    return None


def configure(uri: str | None = None, *, for_reading: bool = False) -> str:
    """Point MLflow (tracking and registry) at ``tracking_uri(uri)`` and return that URI.

    Checks the store first (:func:`check_store`; ``for_reading`` for commands that only look up runs or models,
    which must find an existing store) and raises :class:`TrackingStoreError` when it cannot work.
    """
    resolved = tracking_uri(uri)
    # MLflow draws a tqdm bar for every artifact download; our commands draw their own progress.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    check_store(resolved, for_reading=for_reading)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    if resolved.startswith("sqlite:///"):
        _create_sqlite_store(resolved)
    return resolved


def _create_sqlite_store(uri: str) -> None:
    """Create (or just open) an embedded store's tables while holding a lock on its folder.

    MLflow creates a new SQLite store's tables on first use without a lock, so two commands starting
    together on a new store (two trains) both run the migrations and one dies ("table alembic_version
    already exists"). Here the first creates the tables and the others wait, then find them made; on an
    existing store this only opens it (MLflow keeps the opened store for the rest of the command).
    """
    from retention_ml.io import folder_lock

    with folder_lock(Path(uri.removeprefix("sqlite:///")).parent):
        probe = MlflowClient(tracking_uri=uri, registry_uri=uri)
        probe.search_experiments(max_results=1)          # the tracking tables
        probe.search_registered_models(max_results=1)    # the registry's (same database, created on its first use)


def run_page(run_id: str) -> str | None:
    """The run's page on a tracking server (``http(s)://host/#/experiments/<id>/runs/<run>``); None for an embedded store."""
    uri = mlflow.get_tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return None
    experiment_id = client().get_run(run_id).info.experiment_id
    return f"{uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def client() -> MlflowClient:
    """An ``MlflowClient`` on the configured store (configure first)."""
    return MlflowClient(tracking_uri=mlflow.get_tracking_uri(), registry_uri=mlflow.get_registry_uri())


def get_or_create_experiment(name: str) -> str:
    """The id of MLflow experiment ``name``, created with the embedded artifact folder when new."""
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    try:
        return mlflow.create_experiment(name, artifact_location=_default_artifact_root(mlflow.get_tracking_uri()))
    except MlflowException:
        # Another command created it since the look-up above (two trains starting together): use theirs.
        existing = mlflow.get_experiment_by_name(name)
        if existing is None:
            raise
        return existing.experiment_id


def resolve_run_id(ref: str) -> str:
    """A run id from ``ref``: a run id, ``runs:/<id>/...``, or ``models:/<name>@<alias>`` / ``models:/<name>/<version>``."""
    if ref.startswith("runs:/"):
        return _existing_run(ref.removeprefix("runs:/").split("/", 1)[0])
    if ref.startswith("models:/"):
        body = ref.removeprefix("models:/")
        if "@" in body:
            name, alias = body.split("@", 1)
            return client().get_model_version_by_alias(name, alias).run_id
        name, version = body.rsplit("/", 1)
        return client().get_model_version(name, version).run_id
    if re.fullmatch(r"[0-9a-f]{4,31}", ref):   # a prefix, as `retention-ml runs` shows run ids
        return _run_id_from_prefix(ref)
    return _existing_run(ref)


class NoSuchRun(ValueError):
    """A run id the tracking store does not hold; the message names the store and how to point at another."""


def _existing_run(run_id: str) -> str:
    """``run_id`` when the store holds it; else :class:`NoSuchRun`. MLflow's own 'Run with id=... not found' named
    no store, and the usual cause is a shell pointing at another one (the demo's, or none set)."""
    try:
        client().get_run(run_id)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise NoSuchRun(f"{run_id} is not a run of the tracking store {mlflow.get_tracking_uri()}: `retention-ml runs` "
                        "lists its runs; a run trained into another store (the demo's is demo-output/mlflow.db) needs "
                        "MLFLOW_TRACKING_URI pointing at that store") from exc
    return run_id


def _run_id_from_prefix(prefix: str) -> str:
    """The one run whose id starts with ``prefix`` (in any experiment of the store)."""
    ids = [e.experiment_id for e in client().search_experiments()]
    runs = mlflow.search_runs(experiment_ids=ids, output_format="list") if ids else []
    found = sorted({r.info.run_id for r in runs if r.info.run_id.startswith(prefix)})
    if not found:   # more of the id cannot help: the run is in another store, or the id is mistyped
        raise NoSuchRun(f"run id prefix {prefix!r} matches no run in {mlflow.get_tracking_uri()}: `retention-ml runs` "
                        "lists its runs; a run trained into another store (the demo's is demo-output/mlflow.db) needs "
                        "MLFLOW_TRACKING_URI pointing at that store")
    if len(found) > 1:
        raise ValueError(f"run id prefix {prefix!r} matches {len(found)} runs ({', '.join(f[:12] for f in found[:5])}) "
                         f"in {mlflow.get_tracking_uri()}; give more of the id")
    return found[0]


def download_artifact(run_id: str, path: str, dst_dir: str | Path) -> Path:
    """Download the artifact ``path`` of run ``run_id`` into ``dst_dir`` and return its local path."""
    Path(dst_dir).mkdir(parents=True, exist_ok=True)
    return Path(client().download_artifacts(run_id, path, str(dst_dir)))


def load_json_artifact(run_id: str, path: str) -> dict:
    """Read a JSON artifact of a run."""
    with tempfile.TemporaryDirectory() as tmp:
        return json.loads(download_artifact(run_id, path, tmp).read_text(encoding="utf-8"))


def load_table_artifact(run_id: str, path: str) -> pd.DataFrame:
    """Read a CSV or Parquet artifact of a run into a DataFrame."""
    with tempfile.TemporaryDirectory() as tmp:
        local = download_artifact(run_id, path, tmp)
        return pd.read_parquet(local) if local.suffix == ".parquet" else pd.read_csv(local)


def log_artifact_file(run_id: str, local_path: str | Path, artifact_dir: str | None = None) -> None:
    """Log the file ``local_path`` to run ``run_id`` under ``artifact_dir`` (no active run needed)."""
    client().log_artifact(run_id, str(local_path), artifact_dir)


# The headline figures of a run's JSON records that are also run metrics, so `retention-ml runs` and MLflow's
# compare view set variants side by side on how well they explain, not only on how well they rank:
# artifact -> metric name -> path of keys to the value inside the record.
HEADLINE_METRICS = {
    artifacts.TRUTH: {
        "truth.top_decile_top1": ("top_decile", "top1", "value"),   # the bars (simulated data only)
        "truth.top_decile_top3": ("top_decile", "top3", "value"),
        "truth.top1": ("top1", "value"),
        "truth.top3": ("top3", "value"),
    },
    artifacts.ALIGNMENT: {
        "alignment.top1": ("top1", "value"),
        "alignment.top3": ("top3", "value"),
        "alignment.top3_vs_global": ("difference_vs_global", "top3", "value"),
    },
}


def headline_metrics(data: dict, artifact_path: str) -> dict[str, float]:
    """The :data:`HEADLINE_METRICS` of record ``data`` logged as ``artifact_path`` (those it holds as numbers)."""
    out = {}
    for metric, path in HEADLINE_METRICS.get(artifact_path, {}).items():
        value = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[metric] = value
    return out


def log_json(run_id: str, data: dict, artifact_path: str) -> None:
    """Log ``data`` as the JSON artifact ``artifact_path`` (for example ``evaluation/metrics.json``), and its
    :data:`HEADLINE_METRICS` (truth check, exit-interview alignment) as run metrics."""
    folder, _, name = artifact_path.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        local.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
        log_artifact_file(run_id, local, folder or None)
    headline = headline_metrics(data, artifact_path)
    if headline:
        log_metrics(run_id, headline)


def set_run_tag(run_id: str, key: str, value: str) -> None:
    client().set_tag(run_id, key, value)


def run_tags(run_id: str) -> dict[str, str]:
    return dict(client().get_run(run_id).data.tags)


def list_artifacts(run_id: str, path: str | None = None) -> list[str]:
    """Paths of the artifacts directly under ``path`` in a run."""
    return [info.path for info in client().list_artifacts(run_id, path)]


def model_version_for_run(run_id: str, name: str | None = None):
    """The newest registered version of model ``name`` logged by run ``run_id``, or None."""
    versions = client().search_model_versions(f"name = '{name or DEFAULT_MODEL_NAME}' and run_id = '{run_id}'")
    return max(versions, key=lambda v: int(v.version), default=None)


def set_alias(alias: str, version: str | int, name: str | None = None) -> None:
    """Point registry alias ``alias`` (for example ``champion``) of model ``name`` at ``version``."""
    client().set_registered_model_alias(name or DEFAULT_MODEL_NAME, alias, str(version))


def alias_version(alias: str, name: str | None = None):
    """The model version behind ``alias``, or None when the alias (or model) does not exist."""
    try:
        return client().get_model_version_by_alias(name or DEFAULT_MODEL_NAME, alias)
    except MlflowException:
        return None


# -- training runs and the turnover model (H4) ---------------------------------------------------
MODEL_NAME_IN_RUN = "model"
MODEL_OBJECT_PATH = "model_object/turnover_model.joblib"
CANDIDATE_ALIAS = "candidate"

__all__ += [
    "MODEL_OBJECT_PATH",
    "CANDIDATE_ALIAS",
    "start_run",
    "log_params",
    "flatten",
    "log_metrics",
    "log_turnover_model",
    "load_turnover_model",
    "search_runs",
]


def start_run(experiment_name: str, *, run_name: str | None = None, tags: dict | None = None):
    """Context manager: an active MLflow run in experiment ``experiment_name`` (created when new)."""
    return mlflow.start_run(experiment_id=get_or_create_experiment(experiment_name), run_name=run_name, tags=tags)


def _flatten(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value
    return out


def flatten(nested: dict) -> dict:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: MLflow's flat names for nested settings (parameters, metrics)."""
    return _flatten("", nested, {})


def log_params(run_id: str, params: dict) -> None:
    """Log nested ``params`` as flat ``section.key`` parameters (values longer than MLflow allows are cut)."""
    from mlflow.entities import Param

    flat = _flatten("", params, {})
    client().log_batch(run_id, params=[Param(k, str(v)[:6000]) for k, v in sorted(flat.items())])


def log_metrics(run_id: str, metrics: dict[str, float]) -> None:
    """Log finite float metrics in one batch (NaN metrics are skipped: MLflow shows them badly)."""
    import math
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    rows = [Metric(k, float(v), now, 0) for k, v in sorted(metrics.items()) if v is not None and math.isfinite(float(v))]
    client().log_batch(run_id, metrics=rows)


# The pyfunc is logged as models-from-code: MLflow runs this script at load time, so nothing is pickled.
PYFUNC_SCRIPT = Path(__file__).with_name("pyfunc_model.py")


def _package_copy(dst: Path) -> Path:
    """A copy of the ``retention_ml`` package (without byte code) under ``dst``, for the model's ``code_paths``.

    The model artifact is a pickled TurnoverModel, readable only where ``retention_ml.model`` imports; the
    package is on no index, so the logged model carries it and stays loadable from its own requirements.
    The whole package rather than ``model.py`` alone: MLflow puts the copy first on ``sys.path``, so in a
    process that loads the model before importing ``retention_ml`` every later ``retention_ml.*`` import
    comes from the copy too.
    """
    import shutil

    return Path(shutil.copytree(PYFUNC_SCRIPT.parent, dst / PYFUNC_SCRIPT.parent.name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc")))


def _requirements() -> list[str]:
    """What loading the pyfunc imports (the script and ``retention_ml.model``); the package itself is in ``code``."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "joblib")]


def _synthetic_example(X: pd.DataFrame) -> pd.DataFrame:
    """One made-up input row for the registry: each column's median over all of ``X``.

    The input example is readable by everyone with access to the registry, so it must not be
    anyone's record (a worker's salary, sickness days ...). Fewer than 5 rows give an empty
    row rather than an aggregate of too few people.
    """
    X = X.astype("float64")
    row = X.median() if len(X) >= 5 else pd.Series(np.nan, index=X.columns)
    return row.to_frame().T.reset_index(drop=True)


def registry_kind_conflict(name: str, kind: str) -> str | None:
    """Why a ``kind`` model (``snapshots`` or ``flat``) must not be registered as ``name``, or None.

    A flat-extract model cannot score snapshot data, and registering one under a name whose
    aliases managers' scoring uses would take the alias ``candidate`` from the right model.
    """
    versions = client().search_model_versions(f"name = '{name}'")
    newest = max(versions, key=lambda v: int(v.version), default=None)
    if newest is None or not newest.run_id:
        return None
    try:
        tags = run_tags(newest.run_id)
    except Exception:   # the run was deleted: nothing to compare against
        return None
    other = tags.get(artifacts.KIND_TAG)
    if other is None or other == kind:
        return None
    return (f"registered model {name!r} holds {other} models (newest: version {newest.version}, experiment "
            f"{tags.get(artifacts.EXPERIMENT_TAG, '?')!r}); a {kind} model would take its aliases. "
            "Set registered_model in the experiment file to a name of its own.")


def log_turnover_model(run_id: str, model, X_example: pd.DataFrame, *, registered_model: str | None = None,
                       alias: str = CANDIDATE_ALIAS):
    """Log ``model`` to run ``run_id`` as pyfunc ``model`` (with signature), register it, set ``alias``.

    The pyfunc is models-from-code (:mod:`retention_ml.pyfunc_model`) and carries a copy of this package,
    so ``models:/<name>@<alias>`` loads in a fresh environment built from the model's own
    ``requirements.txt`` (and under ``mlflow models serve``). The fitted object is also logged as the run artifact ``model_object/turnover_model.joblib`` so
    :func:`load_turnover_model` gives back the :class:`~retention_ml.model.TurnoverModel` itself
    (explanations need ``booster_`` and ``calibration_``). Returns the new model version.
    """
    import joblib
    from mlflow.models import infer_signature

    name = registered_model or DEFAULT_MODEL_NAME
    example = _synthetic_example(X_example.loc[:, list(model.feature_names_in_)])
    signature = infer_signature(example, model.predict_proba(example)[:, 1])
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(MODEL_OBJECT_PATH).name
        joblib.dump(model, local)
        package = _package_copy(Path(tmp) / "code")
        log_artifact_file(run_id, local, str(Path(MODEL_OBJECT_PATH).parent))
        active = mlflow.active_run()
        ctx = mlflow.start_run(run_id=run_id) if active is None or active.info.run_id != run_id else nullcontext()
        with ctx:
            info = mlflow.pyfunc.log_model(
                name=MODEL_NAME_IN_RUN,
                python_model=str(PYFUNC_SCRIPT),
                code_paths=[str(package)],
                artifacts={"turnover_model": str(local)},
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(),
            )
    with _registry_prints_at_log_level():
        version = mlflow.register_model(info.model_uri, name)
    set_alias(alias, version.version, name)
    return version


@contextmanager
def _registry_prints_at_log_level():
    """Keep MLflow's registry prints ("Successfully registered model ...", "Created version '1' ...") off stderr
    unless its log level lets INFO through; its warnings and errors still reach stderr.

    MLflow writes those lines with ``eprint`` to its own event stream, not through its logger, so
    MLFLOW_LOGGING_LEVEL does not reach them; ``mlflow.utils.logging_utils.disable_logging`` is MLflow's switch for
    that stream. The stream also carries its logger's records, so while it is off they go to stderr directly.
    `train` prints the version it registered itself.
    """
    from mlflow.utils import logging_utils

    logger = logging.getLogger("mlflow")
    if logger.getEffectiveLevel() <= logging.INFO:
        yield
        return
    direct = logging.StreamHandler(sys.stderr)
    direct.setFormatter(logging.Formatter(logging_utils.LOGGING_LINE_FORMAT, logging_utils.LOGGING_DATETIME_FORMAT))
    was_enabled = logging_utils.MLFLOW_LOGGING_STREAM.enabled
    logger.addHandler(direct)
    logging_utils.disable_logging()
    try:
        yield
    finally:
        logger.removeHandler(direct)
        logging_utils.MLFLOW_LOGGING_STREAM.enabled = was_enabled


class NoSuchAlias(LookupError):
    """``models:/<name>@<alias>`` names an alias the registry does not hold (for champion: nothing passed the gate)."""


def _missing_alias_message(name: str, alias: str) -> str:
    """Why ``models:/name@alias`` cannot be loaded, and what to do instead."""
    try:
        versions = client().search_model_versions(f"name = '{name}'")
    except Exception:   # no such registered model (or the store cannot be asked): say what we know
        versions = []
    if not versions:
        return (f"no model is registered under the name {name} in {mlflow.get_tracking_uri()}: train one "
                f"(retention-ml train registers it) or point MLFLOW_TRACKING_URI at the store that holds it")
    latest = max(versions, key=lambda v: int(v.version))
    where = f"the latest registered version is {latest.version} (run {latest.run_id})"
    if alias != "champion":
        return f"{name} has no alias {alias!r} ({where}); give models:/{name}/<version>, a run id or another alias"
    # promote moves champion only when every check passes and records nothing else on a refusal
    return (f"no model of {name} has passed the promotion gate: the alias champion is not set ({where}, not "
            f"approved; `retention-ml promote {latest.run_id[:8]}` lists the checks it fails). Managers' lists need "
            f"an approved model. To preview lists marked NOT APPROVED, use models:/{name}@candidate instead")


def load_turnover_model(ref: str):
    """``(TurnoverModel, run_id)`` for a run id, ``runs:/<id>/...`` or ``models:/<name>@<alias>`` (or ``/<version>``).

    Raises :class:`NoSuchAlias` with what to do instead when the alias is not set (an unset champion is the
    normal state of a council whose models the promotion gate refused).
    """
    import joblib

    if ref.startswith("models:/") and "@" in ref:
        name, alias = ref.removeprefix("models:/").split("@", 1)
        if alias_version(alias, name) is None:
            raise NoSuchAlias(_missing_alias_message(name, alias))
    run_id = resolve_run_id(ref)
    with tempfile.TemporaryDirectory() as tmp:
        model = joblib.load(download_artifact(run_id, MODEL_OBJECT_PATH, tmp))
    return model, run_id


def search_runs(experiment_name: str | None = None) -> pd.DataFrame:
    """All runs (of one MLflow experiment, or of every experiment), newest first, as MLflow's DataFrame."""
    if experiment_name is not None:
        exp = mlflow.get_experiment_by_name(experiment_name)
        if exp is None:
            return pd.DataFrame()
        ids = [exp.experiment_id]
    else:
        ids = [e.experiment_id for e in client().search_experiments()]
    if not ids:
        return pd.DataFrame()
    return mlflow.search_runs(experiment_ids=ids, order_by=["attributes.start_time DESC"])
