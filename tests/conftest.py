"""Shared fixtures for the whole test suite (owned by the simulator; names and arguments are stable).

- ``sim_dir``: a small simulated data set (2 councils, 48 months from 2019-01, seed 7) written once
  per session into a temporary folder, truth included under ``_truth/``.
- ``sim_tables``: ``read_tables(sim_dir)``, every input table typed by its schema.
- ``scratch_store``: opens an embedded MLflow store in a folder for a module's runs.

Tests must not modify either; copy first if you need to break something.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

SIM_ARGS = {"councils": 2, "start": "2019-01", "months": 48, "seed": 7}


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
def scratch_store():
    """``with scratch_store(root) as mp:`` an embedded MLflow store in ``root`` (tracking URI set, working
    directory there) until the block ends; ``mp`` is the MonkeyPatch, for anything else the block changes."""
    from retention_ml import tracking

    @contextmanager
    def open_store(root):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
            mp.chdir(root)
            tracking.configure()
            yield mp

    return open_store


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
