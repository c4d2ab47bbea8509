"""`retention-ml train` piped (CI logs, `| tee`): the metrics table keeps each cell on one line."""

import re
from pathlib import Path

from retention_ml.commands.train import _print
from retention_ml.experiment import load_experiment

REPO = Path(__file__).resolve().parents[2]


def test_a_piped_metrics_table_keeps_each_interval_on_one_line(ibm_model, capsys):
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml", overrides=["evaluation.n_boot=20"])   # as ibm_model
    _print(ibm_model.result, exp)
    out = capsys.readouterr().out   # captured: not a terminal, as in a CI log
    rows = {line.split()[1]: line for line in out.splitlines() if re.match(r"^\W\s+(roc_auc|brier|ece)\s", line)}
    assert set(rows) == {"roc_auc", "brier", "ece"}, out
    auc = ibm_model.result.metrics["models"]["lightgbm"]["roc_auc"]
    assert f"{auc['value']:.3f} [{auc['low']:.3f}, {auc['high']:.3f}]" in rows["roc_auc"]
    assert re.search(r"\d\.\d{3} \(chance \d\.\d{3}\)", rows["ece"])
    # every interval closes on the line it opens on: no "0.725 [0.717," with "0.734]" beneath
    assert not [line for line in out.splitlines() if line.count("[") != line.count("]")], out
