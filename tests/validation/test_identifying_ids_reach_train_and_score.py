"""`train` and `score` say when worker ids look like payroll numbers (or names), as `validate` does.

Both validate the extract but showed no warning on valid data, so a scheduled monthly job that never runs
`validate` put payroll numbers into every scores file and list unnoticed. The run's data_readings.json and the
scoring's score_meta.json keep one record per file, column and rule (rows counted, no value), and both commands
print it (train: WARNING and --json "warnings"; score: on stderr, also with --json). `train` says in the same way when
the last caseload month is too thin to be the end of the data (a stray row: everyone in post up to it a stayer), or
when one council of a pooled extract ends its months before the others (its people a stayer after its own end).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.commands.demo import EXPERIMENT

runner = CliRunner()
ID_COLUMNS = ("worker_id", "manager_id")


def _with_number_ids(source: Path, target: Path) -> Path:
    """A copy of ``source`` (no _truth: read as a council's own extract) whose worker ids are digits alone
    (W0000123 -> 90000123), renamed alike in every table."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("_truth"))
    for path in [*target.glob("*.csv"), *target.glob("*.parquet")]:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
        hit = [c for c in ID_COLUMNS if c in frame]
        if not hit:
            continue
        for col in hit:
            frame[col] = frame[col].str.replace(r"^W", "9", regex=True)
        frame.to_parquet(path, index=False) if path.suffix == ".parquet" else frame.to_csv(path, index=False)
    return target


def _train(data: Path) -> dict:
    """`train --json`'s record of a quick run of the demo experiment on ``data`` (in the current store)."""
    trained = runner.invoke(app, ["train", str(EXPERIMENT), "--set", f"data.path={data}", "--set",
                                  "evaluation.n_boot=20", "--set", "model.n_bootstrap=0", "--set",
                                  "evaluation.explain=false", "--json"])
    assert trained.exit_code == 0, trained.output
    return json.loads(trained.stdout)


def _printed(result, rule: str) -> list[str]:
    """The warning lines ``result`` printed on stderr that name ``rule`` ("": every warning line)."""
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ") and rule in line]


def test_train_and_score_warn_of_payroll_like_ids_without_showing_one(sim_dir, tmp_path, scratch_store):
    data = _with_number_ids(sim_dir, tmp_path / "numbers")
    n_workers = len(pd.read_parquet(data / "workers.parquet") if (data / "workers.parquet").exists()
                    else pd.read_csv(data / "workers.csv"))
    (tmp_path / "store").mkdir()
    with scratch_store(tmp_path / "store"):
        record = _train(data)
        scored = runner.invoke(app, ["score", "--model", f"runs:/{record['run_id']}/model", "--data", str(data),
                                     "--as-of", "2022-07-01", "--out", str(tmp_path / "scores"), "--json"])
    assert scored.exit_code == 0, scored.output
    said = [w for w in record["warnings"] if "number_like_id" in w]
    assert len(said) == 1 and f"{n_workers:,} row(s) of worker_id" in said[0] and "workers." in said[0]
    meta = json.loads(scored.stdout)
    (kept,) = [r for records in meta["data_readings"].values() for r in records if r["rule"] == "number_like_id"]
    assert kept["column"] == "worker_id" and kept["value"] is None
    assert _printed(scored, "number_like_id")
    first = str(pd.read_parquet(data / "workers.parquet")["worker_id"].iloc[0]) if (data / "workers.parquet").exists() \
        else None
    assert first is None or (first not in said[0] and first not in json.dumps(kept))


def test_explain_warns_of_payroll_like_ids_as_score_does(sim_dir, tmp_path, scratch_store):
    """`explain` read the extract without saying what `score` says: a subject access answer or an analyst's file
    of everyone's reasons carried payroll numbers unnoticed."""
    data = _with_number_ids(sim_dir, tmp_path / "numbers")
    (tmp_path / "store").mkdir()
    with scratch_store(tmp_path / "store"):
        run_id = _train(data)["run_id"]
        workers = pd.read_parquet(data / "workers.parquet") if (data / "workers.parquet").exists() \
            else pd.read_csv(data / "workers.csv", dtype=str)
        base = ["explain", "--run", run_id, "--data", str(data), "--as-of", "2022-07-01", "--json"]
        everyone = runner.invoke(app, [*base, "--out", str(tmp_path / "everyone.csv")])
        assert everyone.exit_code == 0, everyone.output
        in_post = pd.read_csv(tmp_path / "everyone.csv", comment="#", dtype=str)["worker_id"].iloc[0]
        one = runner.invoke(app, [*base, "--worker", in_post])
    assert one.exit_code == 0, one.output
    for result in (everyone, one):
        said = [w for w in json.loads(result.stdout)["warnings"] if "number_like_id" in w]
        assert len(said) == 1 and f"{len(workers):,} row(s) of worker_id" in said[0]
        assert in_post not in said[0]
        assert _printed(result, "number_like_id")


def test_explain_on_pseudonymous_ids_warns_of_nothing(sim_dir, tmp_path, scratch_store):
    """The warning comes from the ids, not from explain: the simulator's W-codes give none."""
    data = tmp_path / "sim"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    (tmp_path / "store").mkdir()
    with scratch_store(tmp_path / "store"):
        run_id = _train(data)["run_id"]
        result = runner.invoke(app, ["explain", "--run", run_id, "--data", str(data), "--as-of", "2022-07-01",
                                     "--out", str(tmp_path / "everyone.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == []
    assert not _printed(result, "")


def _with_stray_month(source: Path, target: Path) -> tuple[Path, str]:
    """A copy of ``source`` (no _truth) with one caseload row, of someone still in post, copied into the month
    after the last: the stray row an export with a mistyped month gives."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("_truth"))
    path = next(p for p in target.iterdir() if p.stem == "caseload_history")
    rows = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype=str, keep_default_na=False)
    month = pd.to_datetime(rows["month"])
    workers = pd.read_parquet(target / "workers.parquet") if (target / "workers.parquet").exists() \
        else pd.read_csv(target / "workers.csv")
    staying = set(workers.loc[workers["end_date"].isna(), "worker_id"].astype(str))
    last = rows.loc[(month == month.max()).to_numpy() & rows["worker_id"].astype(str).isin(staying).to_numpy()].head(1).copy()
    stray = month.max() + pd.DateOffset(months=1)
    last["month"] = stray if path.suffix == ".parquet" else stray.strftime("%Y-%m-%d")
    rows = pd.concat([rows, last], ignore_index=True)
    rows.to_parquet(path, index=False) if path.suffix == ".parquet" else rows.to_csv(path, index=False)
    return target, stray.strftime("%Y-%m")


def test_train_warns_when_the_last_caseload_month_is_a_stray_row(sim_dir, tmp_path, scratch_store):
    data, stray = _with_stray_month(sim_dir, tmp_path / "stray")
    (tmp_path / "store").mkdir()
    with scratch_store(tmp_path / "store"):
        record = _train(data)
        clean = _train(sim_dir)
    said = [w for w in record["warnings"] if "row(s) against a median" in w]
    assert len(said) == 1 and stray in said[0] and "holds 1 row(s)" in said[0], record["warnings"]
    assert not [w for w in clean["warnings"] if "last month" in w]


def test_a_council_whose_months_end_before_the_others_is_named_by_validate_and_train(sim_dir, tmp_path, scratch_store):
    data = tmp_path / "pooled"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    teams = pd.read_csv(data / "teams.csv", dtype=str)
    early = sorted(teams["council_id"].unique())[0]
    workers = pd.read_parquet(data / "workers.parquet")
    theirs = workers["team_id"].map(teams.set_index("team_id")["council_id"]).eq(early)
    rows = pd.read_parquet(data / "caseload_history.parquet")
    end = rows["month"].max()
    cut = end - pd.DateOffset(months=2)   # exported two months before the other council
    rows = rows[~(rows["worker_id"].isin(workers.loc[theirs, "worker_id"]) & (rows["month"] > cut))]
    rows.to_parquet(data / "caseload_history.parquet", index=False)

    checked = runner.invoke(app, ["validate", str(data), "--json"])
    named = [f for f in json.loads(checked.stdout)["failures"] if f["rule"] == "council_ends_early"]
    assert [(f["severity"], f["table"], f["column"], f["value"]) for f in named] == \
        [("warning", "caseload_history", "month", f"{cut:%Y-%m}")]
    assert early in named[0]["message"] and f"{end:%Y-%m}" in named[0]["message"]
    (tmp_path / "store").mkdir()
    with scratch_store(tmp_path / "store"):
        record = _train(data)
    assert [w for w in record["warnings"] if f"council {early}'s last month is {cut:%Y-%m}" in w]
