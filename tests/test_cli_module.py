"""`python -m retention_ml.cli` is the command line too: before, it imported the module, printed nothing and
exited 0, so a scheduler calling it that way recorded success and got no lists."""

import subprocess
import sys


def test_python_m_retention_ml_cli_runs_the_commands():
    ok = subprocess.run([sys.executable, "-m", "retention_ml.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "simulate" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "retention_ml.cli", "score", "--no-such-option"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2
