"""Fixtures for feature tests: tiny hand-made tables (built in tiny_data.py) where values are computed by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def load_tiny():
    """Import tiny_data.py by path (tests/ is not a package); also used by tests/test_leakage.py."""
    spec = importlib.util.spec_from_file_location("tiny_data", Path(__file__).with_name("tiny_data.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def tiny_tables():
    return load_tiny().make_tiny_tables()


@pytest.fixture
def snaps_jan():
    """All three workers at 2024-01-01."""
    return load_tiny().make_snaps_jan()
