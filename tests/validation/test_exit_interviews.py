"""Exit interviews are leavers' words: one filed under a spell that has not ended (a rehire's new spell, a mistyped id
that happens to exist) or dated before the spell began is named, since nothing reads it and nobody was told."""

import pandas as pd

from retention_ml.validation import validate_dir


def _spoil(data, change) -> None:
    workers = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    interviews = pd.read_csv(data / "exit_interviews.csv", dtype=str, keep_default_na=False)
    change(workers, interviews).to_csv(data / "exit_interviews.csv", index=False)


def _warned(data) -> pd.DataFrame:
    report = validate_dir(data)
    assert report.ok
    return report.warnings[report.warnings["rule"] == "interview_without_leaving"]


def test_an_interview_for_someone_still_in_post_is_a_warning_naming_the_row(tmp_path, example_copy):
    data = example_copy(tmp_path)

    def in_post(workers, interviews):
        interviews.loc[0, "worker_id"] = workers.loc[workers["end_date"] == "", "worker_id"].iat[0]
        return interviews
    _spoil(data, in_post)
    warned = _warned(data)
    assert warned[["table", "row", "column"]].values.tolist() == [["exit_interviews", 1, "worker_id"]]
    assert "has no end_date" in warned["message"].iat[0] and "left out of the exit-interview alignment" in warned["message"].iat[0]


def test_an_interview_before_the_spell_began_is_a_warning(tmp_path, example_copy):
    data = example_copy(tmp_path)

    def early(workers, interviews):
        interviews.loc[0, "interview_date"] = "1990-01-01"
        return interviews
    _spoil(data, early)
    warned = _warned(data)
    assert warned["row"].tolist() == [1] and "began after this interview" in warned["message"].iat[0]


def test_leavers_interviews_raise_no_such_warning(tmp_path, example_copy, sim_dir):
    for data in (example_copy(tmp_path), sim_dir):
        assert _warned(data).empty
