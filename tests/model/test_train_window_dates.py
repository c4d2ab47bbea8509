"""`train` prints the snapshot dates each window spans, so a training window of one date is seen (then a shorter
snapshots.frequency_months changes nothing, and two runs differing only there come out identical)."""

from __future__ import annotations


def test_the_rows_line_names_each_windows_dates(sim_model, sim_dir, capsys):
    from retention_ml.commands.demo import EXPERIMENT
    from retention_ml.commands.train import _print
    from retention_ml.experiment import load_experiment

    result, _ = sim_model
    exp = load_experiment(EXPERIMENT, overrides=[f"data.path={sim_dir}"])
    _print(result, exp)
    out = capsys.readouterr().out
    # piped, the output is 80 columns wide: the line that names the run stays whole (grep, paste)
    assert (f"run {result.run_id}; registered version {result.model_version} (alias 'candidate') of "
            f"'{exp['registered_model']}'") in out.splitlines()
    text = " ".join(out.split())
    windows, counts = result.metrics["windows"], result.metrics["counts"]
    for window in ("train", "valid", "test"):
        first, last = windows[window][0], windows[window][-1]
        dates = f"at {first}" if first == last else f"from {first} to {last}"
        assert f"{window} {counts[window]['n']} ({counts[window]['positives']}) {dates}" in text, text
    # the session's 48-month simulation: its 12-month horizon leaves the training window one date
    assert windows["train"][0] == windows["train"][-1]
