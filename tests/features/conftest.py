"""Fixtures for feature tests: tiny hand-made tables (built in tiny_data.py) where values are computed by hand.

``tiny_data`` (the module) and ``tiny_tables`` live in tests/conftest.py: tests/test_leakage.py uses them too.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def snaps_jan(tiny_data):
    """All three workers at 2024-01-01."""
    return tiny_data.make_snaps_jan()
