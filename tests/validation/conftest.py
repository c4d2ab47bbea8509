"""Shared set-up for the validation tests."""

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"


@pytest.fixture
def example_copy():
    """``example_copy(folder, name="data")``: a writable copy of the example data set (tables only) at folder/name,
    for tests that spoil one table and check what validation or the readers say."""
    def copy(folder: Path, name: str = "data") -> Path:
        data = Path(folder) / name
        shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
        return data
    return copy
