"""Counts quoted in the comments of the driver taxonomy and the reason templates say what they were measured on.

Session 16's comments quoted counts "on the national lists at 2024-01-01" of a simulator that changed in session 17:
a maintainer could not tell which data a count described, nor that it no longer held. A file that quotes such
counts names the national simulation (seed and session) and run they were measured on, and every count in it
is dated to the lists it was measured on (no bare "nationally")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FILES = [REPO / "data_schema" / "drivers.yaml", REPO / "retention_ml" / "explain" / "reasons.yaml"]
PROVENANCE = re.compile(r"measured on the national simulation seed \d+\s*#?\s*of session \d+ \(.*?run ([0-9a-f]{8})", re.S)


def _comments(path: Path) -> str:
    """The file's comments, joined into one text (a sentence may run over several comment lines)."""
    return " ".join(line.split("#", 1)[1].strip() for line in path.read_text(encoding="utf-8").splitlines()
                    if "#" in line and not line.lstrip().startswith(("- \"", "- {")))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_counts_on_the_national_lists_name_what_they_were_measured_on(path):
    text = _comments(path)
    assert "on the national lists at 2024-01-01" in text   # the file quotes such counts
    named = PROVENANCE.search(" ".join(path.read_text(encoding="utf-8").split()))
    assert named, f"{path.name} quotes counts on the national lists without naming the simulation and run they were measured on"
    assert not re.search(r"\bnationally\)", text), f"{path.name}: a count quoted 'nationally' without the lists' date"
    other = set(re.findall(r"\brun ([0-9a-f]{8})\b", text)) - {named.group(1)}
    assert not other, f"{path.name}: counts from another run than the one named ({sorted(other)})"
