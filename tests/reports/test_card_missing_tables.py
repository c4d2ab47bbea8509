"""Optional tables not supplied: a driver with no data is "not measured", never "0.000 =
moves no one's risk", in the card and in explain; no exit interviews gives one sentence, not a table of n/a
and a 0.0% chance. Also the card's bootstrap progress."""

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()
FAST = ["evaluation.n_boot=20", "model.n_bootstrap=0"]


@pytest.fixture(scope="module")
def bare_run(sim_dir, tmp_path_factory, train_in_store, scratch_store):
    """A run trained on the simulated council without its absence and exit_interviews tables (both optional)."""
    from retention_ml.commands.demo import EXPERIMENT

    root = tmp_path_factory.mktemp("bare")
    data = root / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth", "absence.*", "exit_interviews.*"))
    trained = train_in_store(root, EXPERIMENT, [f"data.path={data}", *FAST])
    with scratch_store(root):
        yield trained.result.run_id, data


def _drivers_table(md: str) -> dict[str, str]:
    block = md.split("All drivers, by how much")[1].split("\n\n")[1]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()[2:]]
    return {label: value for label, value in rows}


def test_the_catalogue_records_which_features_had_data(bare_run):
    from retention_ml import tracking

    cat = tracking.load_table_artifact(bare_run[0], "feature_catalogue.csv")
    measured = cat.set_index("feature")["measured"].astype(bool)
    assert not measured[cat["family"].eq("absence").to_numpy()].any()
    assert measured[cat["family"].eq("caseload").to_numpy()].all()


def test_card_says_not_measured_and_no_exit_interviews(bare_run, tmp_path):
    from retention_ml.reports.model_card import NO_INTERVIEWS, build_card, render_markdown

    md = render_markdown(build_card(bare_run[0]))
    drivers = _drivers_table(md)
    assert drivers["Work-life balance"] == "not measured (no values from the absence table)"
    assert list(drivers)[-1] == "Work-life balance"  # after every measured driver, never ranked as 0.000
    assert re.fullmatch(r"\d\.\d{3}", drivers["Caseload and workload"])
    data_section = md.split("## Evaluation and training data")[1].split("##")[0]
    assert "Drivers not measured" in data_section and "Work-life balance (no values from the absence table)" in data_section
    # F14: one sentence, no alignment table, no chance row, no "n/a of the time"
    assert md.count(NO_INTERVIEWS) == 1
    assert "| Chance |" not in md and "Model's per-person drivers" not in md
    assert "n/a of the time" not in md and "Only 0 leavers" not in md


def test_explain_leaves_an_unmeasured_driver_out_of_the_profile(bare_run):
    import pandas as pd

    run_id, data = bare_run
    workers = pd.read_parquet(data / "workers.parquet") if (data / "workers.parquet").exists() else pd.read_csv(data / "workers.csv")
    as_of = "2022-01-01"
    wid = workers.loc[(pd.to_datetime(workers["start_date"]) < as_of)
                      & ~(pd.to_datetime(workers["end_date"]) < as_of), "worker_id"].iloc[0]
    result = runner.invoke(app, ["explain", "--run", run_id, "--data", str(data), "--as-of", as_of, "--worker", wid, "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    shown = {d["driver"] for d in record["drivers"]}
    assert "work_life_balance" not in shown and "caseload_workload" in shown
    assert record["not_measured"] == [{"driver": "work_life_balance", "label": "Work-life balance",
                                       "why": "no values from the absence table"}]
    assert "work_life_balance" not in {r["driver"] for r in record["reasons"]}


def test_card_bootstrap_reports_its_resamples(bare_run, tmp_path, scratch_store):
    """Per-group bootstrap intervals resample the test rows: an older run that logged them gets them, with its
    progress counted; a run that logs the audit's aggregates only is refused with the reason (exit 2)."""
    import importlib.util
    from pathlib import Path

    from retention_ml.reports.model_card import build_card

    spec = importlib.util.spec_from_file_location("_bootstrap_fake_runs", Path(__file__).parents[1] / "test_promotion.py")
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)

    (tmp_path / "older").mkdir()
    with scratch_store(tmp_path / "older"):
        older = fake.make_fake_run(kind="good")
        seen = []
        card = build_card(older, n_boot=2, boot_progress=lambda done, total: seen.append((done, total)))
        factors = len(card.context["fairness"])
        assert factors >= 3 and seen == [(2 * (i + 1), 2 * factors) for i in range(factors)]
        result = runner.invoke(app, ["card", "--run", older, "--n-boot", "2", "--no-log", "--out", str(tmp_path / "o")])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["card", "--run", bare_run[0], "--n-boot", "0", "--no-log", "--out", str(tmp_path / "0")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["card", "--run", bare_run[0], "--n-boot", "2", "--no-log", "--out", str(tmp_path / "2")])
    assert result.exit_code == 2 and "bootstrap intervals (--n-boot) need the test rows" in " ".join(result.output.split())


def test_card_help_says_what_the_bootstrap_costs():
    result = runner.invoke(app, ["card", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    text = " ".join(result.output.split())
    assert "11 s of CPU" in text and "--n-boot 50 takes about 10 minutes" in text and "progress bar" in text
    assert "took 24 s wall, 18 s CPU with --n-boot 50" in text
