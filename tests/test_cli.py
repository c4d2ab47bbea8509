"""The command line: discoverable subcommands, a version flag, and help that teaches."""

import subprocess
import sys

from typer.testing import CliRunner

from retention_ml import __version__
from retention_ml.cli import app

runner = CliRunner()


def test_version_flag_prints_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_says_predictions_are_not_decisions():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "never a decision" in " ".join(result.output.split())


def test_python_dash_m_entry_point_works():
    done = subprocess.run([sys.executable, "-m", "retention_ml", "--version"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout
