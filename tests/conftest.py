"""Shared fixtures for the whole test suite (owned by the simulator; names and arguments are stable).

- ``sim_dir``: a small simulated data set (2 councils, 48 months from 2019-01, seed 7) written once
  per session into a temporary folder, truth included under ``_truth/``.
- ``sim_tables``: ``read_tables(sim_dir)``, every input table typed by its schema.
- ``scratch_store``: opens an embedded MLflow store in a folder for a module's runs.
- ``tiny_data``, ``tiny_tables``: the hand-made tables of tests/features/tiny_data.py (values computed by hand),
  fresh for each test.
- ``train_in_store``: trains an experiment into a store of its own (the helper the model fixtures share).
- ``sim_model``: a small model trained once per session on ``sim_dir`` by the demo experiment
  (council_default.toml, ``SIM_MODEL_OVERRIDES``), tagged simulated; a module using it has that store open.
- ``ibm_model``: the IBM HR flat experiment (experiments/ibm_hr.toml, ``IBM_MODEL_OVERRIDES``) trained once
  per session; open its store with ``scratch_store(ibm_model.root)`` to read the run.

Tests must not modify the data; copy first if you need to break something. Tests may add runs and tags to
the trained models' stores but must not delete the runs; an alias set in the ``sim_model`` store is removed
again (test_scoring checks that training set no champion there).
"""

from __future__ import annotations

import types
from contextlib import contextmanager
from pathlib import Path

import pytest

SIM_ARGS = {"councils": 2, "start": "2019-01", "months": 48, "seed": 7}
REPO = Path(__file__).resolve().parents[1]
# Fast settings: few bootstrap draws (intervals exist, narrowly estimated), no explanations, no tuning.
SIM_MODEL_OVERRIDES = ["evaluation.n_boot=20", "model.n_bootstrap=4", "evaluation.explain=false"]
IBM_MODEL_OVERRIDES = ["tuning.trials=0", "evaluation.n_boot=20", "model.n_bootstrap=2"]


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory):
    """Folder with a small simulated data set (see ``SIM_ARGS``); builds in about a second."""
    from retention_ml.simulate import simulate

    out = tmp_path_factory.mktemp("sim") / "data"
    simulate(out, **SIM_ARGS)
    return out


@pytest.fixture(scope="session")
def sim_tables(sim_dir):
    """``read_tables(sim_dir)``: dict of typed DataFrames (treat as read-only)."""
    from retention_ml.io import read_tables

    return read_tables(sim_dir)


@pytest.fixture(scope="session")
def tiny_data():
    """tests/features/tiny_data.py as a module, imported by path (tests/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_data", Path(__file__).parent / "features" / "tiny_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_tables(tiny_data):
    """The hand-made tables of tests/features/tiny_data.py, built afresh for each test."""
    return tiny_data.make_tiny_tables()


@pytest.fixture(scope="session")
def scratch_store():
    """``with scratch_store(root) as mp:`` an embedded MLflow store in ``root`` (tracking URI set, working
    directory there) until the block ends; ``mp`` is the MonkeyPatch, for anything else the block changes."""
    from retention_ml import tracking

    import mlflow

    @contextmanager
    def open_store(root):
        # MLflow keeps its URIs in process globals that the MonkeyPatch does not see: put them back on the
        # way out, so a store opened inside another module's store leaves that one in use.
        before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        try:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
                mp.chdir(root)
                tracking.configure()
                yield mp
        finally:
            mlflow.set_tracking_uri(before[0])
            mlflow.set_registry_uri(before[1])

    return open_store


@pytest.fixture(scope="session")
def train_in_store(scratch_store):
    """``train_in_store(root, experiment, overrides, simulated=False)``: train the experiment file with the
    ``--set``-style ``overrides`` into an embedded store in ``root``, logged; returns
    ``SimpleNamespace(result=TrainResult, root=root)``."""
    from retention_ml.experiment import load_experiment
    from retention_ml.training import train_experiment

    def train(root, experiment, overrides, *, simulated=False):
        with scratch_store(root):
            result = train_experiment(load_experiment(experiment, overrides=list(overrides)), simulated=simulated)
        return types.SimpleNamespace(result=result, root=root)

    return train


@pytest.fixture(scope="session")
def sim_model_run(sim_dir, tmp_path_factory, train_in_store):
    """The session's one model on ``sim_dir`` (see ``sim_model``), trained on first use."""
    from retention_ml.commands.demo import EXPERIMENT

    # tagged simulated, as `retention-ml train` tags a simulate output folder (truth-check needs it)
    return train_in_store(tmp_path_factory.mktemp("sim_model"), EXPERIMENT,
                          [f"data.path={sim_dir}", *SIM_MODEL_OVERRIDES], simulated=True)


@pytest.fixture(scope="module")
def sim_model(sim_model_run, scratch_store):
    """``(result, root)``: the session's model on ``sim_dir`` (TrainResult) and its store's folder, with that
    store open (tracking URI set, working directory there) for the whole module."""
    with scratch_store(sim_model_run.root):
        yield sim_model_run.result, sim_model_run.root


@pytest.fixture(scope="session")
def ibm_model(tmp_path_factory, train_in_store):
    """``SimpleNamespace(result, root)``: the IBM HR flat experiment trained once per session into its own
    store (not open: use ``scratch_store(ibm_model.root)``)."""
    return train_in_store(tmp_path_factory.mktemp("ibm_model"), REPO / "experiments" / "ibm_hr.toml",
                          IBM_MODEL_OVERRIDES)


def pytest_collection_modifyitems(config, items):
    """Leave out docstring examples that are all ``# doctest: +SKIP``.

    Those illustrate a call that needs a trained model or a data folder; they are not tests, and reporting
    each as a skipped test would hide a real skip among thirty. Every example that can run still runs.
    """
    import doctest

    from _pytest.doctest import DoctestItem

    def illustration(item) -> bool:
        examples = item.dtest.examples if isinstance(item, DoctestItem) else []
        return bool(examples) and all(ex.options.get(doctest.SKIP) for ex in examples)

    dropped = [item for item in items if illustration(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not illustration(item)]
