"""Failures nobody foresaw exit 2 ("could not run"), never 1 ("problem found"); a new store survives two commands at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from retention_ml import cli


def _boom(*args, **kwargs):
    raise RuntimeError("disk controller on fire\nsecond line of detail")


def _main(monkeypatch, capsys, *args):
    monkeypatch.setattr("retention_ml.commands.rank.rank_scores", _boom)
    monkeypatch.setattr(sys, "argv", ["retention-ml", "rank", "--scores", "s", "--all", "--out", "l", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code, capsys.readouterr()


def test_an_unexpected_error_is_exit_2_with_one_line(monkeypatch, capsys):
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, out = _main(monkeypatch, capsys)
    assert code == 2
    assert out.err.strip().splitlines() == [
        f"error: could not run: RuntimeError: disk controller on fire (set {cli.DEBUG_ENV}=1 to see the traceback)"]
    assert out.out == ""


def test_the_traceback_is_shown_only_when_asked(monkeypatch, capsys):
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    code, out = _main(monkeypatch, capsys)
    assert code == 2 and "Traceback (most recent call last)" in out.err and "_boom" in out.err


def test_an_unexpected_error_under_json_prints_a_json_error(monkeypatch, capsys):
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, out = _main(monkeypatch, capsys, "--json")
    assert code == 2
    assert json.loads(out.out) == {"ok": False, "error": "could not run: RuntimeError: disk controller on fire",
                                   "exit_code": 2}


# Each process imports everything first, says it is ready, waits for "go", then opens the new store and
# creates the same experiment, as two `retention-ml train` runs started together on a new folder do.
_OPEN_STORE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from retention_ml import tracking
    folder, me = Path(sys.argv[1]), sys.argv[2]
    (folder / f"ready{me}").touch()
    while not (folder / "go").exists():
        time.sleep(0.005)
    tracking.configure(f"sqlite:///{folder / 'store' / 'mlflow.db'}")
    print(tracking.get_or_create_experiment("together"))
    tracking.client().search_registered_models(max_results=1)
""")


def test_commands_starting_together_on_a_new_store_all_run(tmp_path):
    """Without the lock MLflow's table creation races: 2 or 3 of 4 such processes died in each of 3 tries."""
    (tmp_path / "store").mkdir()
    n = 3
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_STORE, str(tmp_path), str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(n)]
    try:
        # A hang guard, not a timing assertion: start them together once all have imported MLflow.
        while not all((tmp_path / f"ready{i}").exists() for i in range(n)) and all(p.poll() is None for p in procs):
            time.sleep(0.05)
        (tmp_path / "go").touch()
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            p.kill()
    codes = [p.returncode for p in procs]
    assert codes == [0] * n, [err.strip().splitlines()[-1:] for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1   # one experiment, the same id for all
    assert not [p for p in (tmp_path / "store").iterdir() if p.name not in ("mlflow.db",)]   # no lock file left
