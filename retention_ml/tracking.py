"""Everything that talks to MLflow: the tracking store, run artifacts and the model registry.

This is the only module that imports ``mlflow``; the rest of the package asks
it for what it needs, so the MLflow version can move without touching
features, explanations or reports.

The default store is embedded, so nothing needs a server: a SQLite database
``mlflow.db`` and an artifact folder ``mlartifacts/`` in the working directory
(``mlflow ui --backend-store-uri sqlite:///mlflow.db`` shows the runs).
``MLFLOW_TRACKING_URI`` or an explicit URI (an experiment file's
``tracking_uri``) points it at a shared server instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

import mlflow
from mlflow.tracking import MlflowClient

__all__ = [
    "DEFAULT_MODEL_NAME",
    "tracking_uri",
    "configure",
    "client",
    "get_or_create_experiment",
    "resolve_run_id",
    "download_artifact",
    "load_json_artifact",
    "load_table_artifact",
    "log_artifact_file",
    "log_json",
    "set_run_tag",
    "run_tags",
    "list_artifacts",
    "model_version_for_run",
    "set_alias",
    "alias_version",
]

DEFAULT_MODEL_NAME = "retention-ml-turnover"
ARTIFACT_FOLDER = "mlartifacts"


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


def configure(uri: str | None = None) -> str:
    """Point MLflow (tracking and registry) at ``tracking_uri(uri)`` and return that URI."""
    resolved = tracking_uri(uri)
    if resolved.startswith("sqlite:///"):
        Path(resolved.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def client() -> MlflowClient:
    """An ``MlflowClient`` on the configured store (configure first)."""
    return MlflowClient(tracking_uri=mlflow.get_tracking_uri(), registry_uri=mlflow.get_registry_uri())


def get_or_create_experiment(name: str) -> str:
    """The id of MLflow experiment ``name``, created with the embedded artifact folder when new."""
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return mlflow.create_experiment(name, artifact_location=_default_artifact_root(mlflow.get_tracking_uri()))


def resolve_run_id(ref: str) -> str:
    """A run id from ``ref``: a run id, ``runs:/<id>/...``, or ``models:/<name>@<alias>`` / ``models:/<name>/<version>``."""
    if ref.startswith("runs:/"):
        return ref.removeprefix("runs:/").split("/", 1)[0]
    if ref.startswith("models:/"):
        body = ref.removeprefix("models:/")
        if "@" in body:
            name, alias = body.split("@", 1)
            return client().get_model_version_by_alias(name, alias).run_id
        name, version = body.rsplit("/", 1)
        return client().get_model_version(name, version).run_id
    client().get_run(ref)  # raises a clear MlflowException when the run does not exist
    return ref


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


def log_json(run_id: str, data: dict, artifact_path: str) -> None:
    """Log ``data`` as the JSON artifact ``artifact_path`` (for example ``evaluation/metrics.json``)."""
    folder, _, name = artifact_path.rpartition("/")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        local.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
        log_artifact_file(run_id, local, folder or None)


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
    from mlflow.exceptions import MlflowException

    try:
        return client().get_model_version_by_alias(name or DEFAULT_MODEL_NAME, alias)
    except MlflowException:
        return None
