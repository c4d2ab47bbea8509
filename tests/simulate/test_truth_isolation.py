"""No modelling, feature, explanation or report code reads the simulator's truth (README: the simulator; retention_ml.simulate.truth)."""

import re
from pathlib import Path

import retention_ml

PACKAGE = Path(retention_ml.__file__).resolve().parent
# the simulator's own command, the demo (which simulates data first) and the truth check (simulator-side
# evaluation of a run's explanations; it reads the truth only through retention_ml.simulate) may import the simulator;
# so may the train command, which runs that same check on simulated data after the model is fitted and logged
ALLOWED = {PACKAGE / "commands" / name for name in ("demo.py", "simulate.py", "truth_check.py", "train.py")}
PATTERN = re.compile(r"_truth|retention_ml\.simulate\b|from\s+\.+simulate|import\s+simulate\b")


def offending_files(root: Path = PACKAGE, allowed=ALLOWED) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "simulate") or path in allowed:
            continue
        if PATTERN.search(path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(root)))
    return found


def test_only_the_simulator_reads_the_truth():
    assert offending_files() == []


def test_scan_would_catch_a_reader(tmp_path):
    (tmp_path / "simulate").mkdir()
    (tmp_path / "simulate" / "truth.py").write_text("TRUTH = '_truth'\n")
    (tmp_path / "features.py").write_text("from retention_ml.simulate.truth import read_truth\n")
    (tmp_path / "labels.py").write_text("p = data_dir / '_truth' / 'leavers.parquet'\n")
    (tmp_path / "clean.py").write_text("x = 1\n")
    assert offending_files(tmp_path) == ["features.py", "labels.py"]
