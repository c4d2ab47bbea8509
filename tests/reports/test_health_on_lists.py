"""Lists built from data with sickness absence (health data) carry no sickness figure in any cell of any format,
while the person's own explanation (``explain --worker``, a subject access request) quotes their days."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.scoring import score

LIST_WORDING = "recent sickness absence suggests strain on life outside work"


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells = []

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def _cells(path) -> list[str]:
    """Every text cell of a list: CSV fields and '#' lines, every sheet's cells, every HTML text node."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        return [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        parser = _Cells()
        parser.feed(text)
        return parser.cells
    comments = [line for line in text.splitlines() if line.startswith("#")]
    table = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    return comments + list(table.columns) + [v for v in table.to_numpy().ravel() if v]


def _sickness_with_figure(cell: str) -> bool:
    return "sickness" in cell.lower() and bool(re.search(r"\d", cell))


# One council, 60 months, seed 11: its model's work-life balance reasons are led by sickness absence for some of
# the people (the tests below need such rows in the medium/high and the low band); the session's shared model has
# none. Seed 42 (the demo's) gave such a model until internal moves stopped losing people (session 17); with that
# simulator seeds 42 and 1-10 give none, 11 and 12 do.
SIM = {"councils": 1, "start": "2019-01", "months": 60, "seed": 11}
AS_OF = "2024-01-01"
FAST = ["evaluation.n_boot=20", "model.n_bootstrap=3", "evaluation.explain=false"]


@pytest.fixture(scope="module")
def scored_and_listed(tmp_path_factory, train_in_store, scratch_store):
    from retention_ml.commands.demo import EXPERIMENT
    from retention_ml.simulate import simulate

    root = tmp_path_factory.mktemp("health")
    simulate(root / "data", **SIM)
    run = train_in_store(root, EXPERIMENT, [f"data.path={root / 'data'}", *FAST], simulated=True)
    with scratch_store(root):
        frame = score(f"runs:/{run.result.run_id}/model", root / "data", AS_OF, root / "scores",
                      find_previous_scoring=False).scores
        res = CliRunner().invoke(app, ["rank", "--scores", str(root / "scores"), "--all", "--format", "csv,xlsx,html",
                                       "--out", str(root / "lists"), "--json"])
        assert res.exit_code == 0, res.output
        assert "health data" not in res.stderr   # a scoring of this version: no warning
        yield run.result, frame, sorted((root / "lists").iterdir()), root / "data"


def test_no_list_cell_quotes_sickness_in_any_format(scored_and_listed):
    _, _, files, _ = scored_and_listed
    assert {p.suffix for p in files} == {".csv", ".xlsx", ".html"}
    cells = {p.name: _cells(p) for p in files}
    leaks = [(name, c) for name, found in cells.items() for c in found if _sickness_with_figure(c)]
    assert not leaks, leaks[:5]
    # not vacuous: sickness does lead reasons on these lists, in the health-free words
    worded = {p.suffix for p in files if LIST_WORDING in cells[p.name]}
    assert worded == {".csv", ".xlsx", ".html"}
    # and every list, with or without such a reason, says how to read one (so the line itself reveals nothing)
    from retention_ml.reports.risk_list import HEALTH_LINE

    assert all(any(HEALTH_LINE in c for c in found) for found in cells.values())


def test_the_person_sees_their_days_and_the_same_risk_and_levers(scored_and_listed):
    result, frame, _, data = scored_and_listed
    mask = frame[["reason_1", "reason_2", "reason_3"]].eq(LIST_WORDING).any(axis=1) & ~frame["leaving_date_recorded"]
    person = frame.loc[mask & frame["band"].ne("low")].iloc[0]   # a low-band row's lists leave it off (below)
    res = CliRunner().invoke(app, ["explain", "--run", f"runs:/{result.run_id}/model", "--data", str(data),
                                   "--as-of", AS_OF, "--worker", str(person["worker_id"]), "--json"])
    assert res.exit_code == 0, res.output
    record = json.loads(res.stdout)
    texts = [r["reason"] for r in record["reasons"]]
    assert any(re.fullmatch(r"[\d.]+ days? of sickness absence in the last (6|12) complete months", t) for t in texts), texts
    assert LIST_WORDING not in texts
    # and what the lists said instead, beside the reason it replaced
    assert [r["on_lists"] for r in record["reasons"] if "sickness" in r["reason"]] == [LIST_WORDING]
    assert all("on_lists" not in r for r in record["reasons"] if "sickness" not in r["reason"])
    # the words differ, nothing else: same risk, same reasons' drivers (so the same levers, in the same order)
    assert record["risk"] == pytest.approx(float(person["risk"]))
    assert [r["lever"] for r in record["reasons"]] == [person[f"lever_{i}"] for i in (1, 2, 3) if person[f"lever_{i}"]]


def test_the_card_names_the_health_inputs_and_what_lists_withhold(scored_and_listed, tmp_path):
    from retention_ml.reports.model_card import write_card

    result, _, _, _ = scored_and_listed
    md = write_card(result.run_id, tmp_path / "card", log=False)["markdown"].read_text(encoding="utf-8")
    line = next(line for line in md.splitlines() if "**health data**" in line)
    assert ("health-data inputs: sickness days in the last 6 complete months; sickness days in the last 12 "
            "complete months.") in line
    assert f'("{LIST_WORDING}"): never a number of days, a date or a duration' in line
    assert "`retention-ml explain --worker`" in line


def test_a_card_without_health_inputs_says_so():
    from retention_ml.reports.model_card import _health_inputs, _health_text

    unmeasured = pd.DataFrame({"feature": ["caseload_current", "absence_days_6m"], "meaning": ["Open cases", "Sickness days"],
                               "measured": [True, False]})
    assert _health_inputs(unmeasured) == []   # the absence table was not supplied: no health data was used
    assert _health_text([]).startswith("None of this model's inputs is health data")
    assert _health_text(None).startswith("No feature catalogue was logged")


def test_rank_warns_on_a_scoring_from_before_health_data_was_withheld(scored_and_listed, tmp_path):
    """Older scorings hold the reasons as they were worded then ('recent sickness absence recorded (last 12
    months)', earlier the days), and rank copies reason words as scored: it says to score again."""
    import shutil

    result, _, files, _ = scored_and_listed
    scores = tmp_path / "scores"
    shutil.copytree(files[0].parent.parent / "scores", scores)
    meta = json.loads((scores / "score_meta.json").read_text(encoding="utf-8"))
    assert meta.pop("health_data_in_reasons") == "withheld"
    (scores / "score_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    res = CliRunner().invoke(app, ["rank", "--scores", str(scores), "--all", "--format", "csv", "--out", str(tmp_path / "lists")])
    assert res.exit_code == 0, res.output
    assert "sickness absence (health data)" in res.stderr and "score the data again" in res.stderr


def test_low_band_rows_carry_no_health_reason_while_medium_and_high_rows_still_can(scored_and_listed):
    """Data minimisation: on the low band the list suggests no conversation, so the health inference is left off."""
    _, frame, files, _ = scored_and_listed
    rows = pd.concat([pd.read_csv(p, comment="#", dtype=str, keep_default_na=False) for p in files if p.suffix == ".csv"])
    health = rows[["reason_1", "reason_2", "reason_3"]].eq(LIST_WORDING).any(axis=1)
    assert not health[rows["band"].eq("low")].any()
    assert health[rows["band"].isin(["medium", "high"])].any()
    # not vacuous: the scores hold the wording for low-band people too (the lists take it off)
    scored = frame.loc[~frame["leaving_date_recorded"]]
    low = set(rows.loc[rows["band"].eq("low"), "worker_id"])
    assert scored.loc[scored["worker_id"].isin(low), ["reason_1", "reason_2", "reason_3"]].eq(LIST_WORDING).any(axis=None)


def test_the_person_in_the_low_band_is_told_the_lists_left_their_health_reason_off(scored_and_listed):
    """A subject access request is told what the lists showed: for a low-band row, not the health reason."""
    from retention_ml.reports.risk_list import LEFT_OFF_LINE

    result, frame, _, data = scored_and_listed
    mask = frame[["reason_1", "reason_2", "reason_3"]].eq(LIST_WORDING).any(axis=1) & ~frame["leaving_date_recorded"]
    person = frame.loc[mask & frame["band"].eq("low")].iloc[0]
    res = CliRunner().invoke(app, ["explain", "--run", f"runs:/{result.run_id}/model", "--data", str(data),
                                   "--as-of", AS_OF, "--worker", str(person["worker_id"]), "--json"])
    assert res.exit_code == 0, res.output
    record = json.loads(res.stdout)
    assert record["band"] == "low"
    assert [r["on_lists"] for r in record["reasons"] if "sickness" in r["reason"]] == [LEFT_OFF_LINE]
    assert any(re.fullmatch(r"[\d.]+ days? of sickness absence in the last (6|12) complete months", r["reason"])
               for r in record["reasons"])   # the person's own view still quotes their days


def test_the_person_in_the_low_band_is_told_the_lists_showed_no_lever_beside_their_reasons(scored_and_listed):
    """A subject access request is told what the lists showed: a low-band row's reasons without their levers
    (risk_list.NO_LEVER_BAND); a medium or high row's levers as they are."""
    from retention_ml.reports.risk_list import NO_LEVER_LINE

    result, frame, _, data = scored_and_listed
    listed = frame.loc[~frame["leaving_date_recorded"] & frame["lever_1"].ne("")]
    for band, expected in (("low", NO_LEVER_LINE), ("medium", None)):
        person = listed.loc[listed["band"].eq(band)].iloc[0]
        res = CliRunner().invoke(app, ["explain", "--run", f"runs:/{result.run_id}/model", "--data", str(data),
                                       "--as-of", AS_OF, "--worker", str(person["worker_id"]), "--json"])
        assert res.exit_code == 0, res.output
        record = json.loads(res.stdout)
        assert record["band"] == band and record["reasons"][0]["lever"] == person["lever_1"]
        assert [r.get("lever_on_lists") for r in record["reasons"] if r["lever"]][:1] == [expected]
