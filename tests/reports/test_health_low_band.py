"""Data minimisation on the lists: a low-band row (no conversation suggested) carries no health-derived reason
in any format, its other reasons keep their order; medium and high rows are unchanged; the health line says so."""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.explain.reasons import withheld_reason_texts
from retention_ml.reports.risk_list import HEALTH_LINE, assign_bands, load_band_config

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

HEALTH = sorted(withheld_reason_texts())   # from the health flag in data_schema/, not typed here
REASONS = ["reason_1", "reason_2", "reason_3"]


class _Rows(HTMLParser):
    """Text of each table row's cells (th and td) of an HTML list."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _rows(path: Path) -> list[list[str]]:
    """Each person's row (worker id, band, every cell as text) of a list file, any format."""
    if path.suffix == ".csv":
        table = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
        return table.to_numpy().tolist()
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        start = next(i for i, row in enumerate(cells) if "Risk band" in row)
        end = next((i for i in range(start + 1, len(cells)) if not any(cells[i])), len(cells))   # notes follow
        return cells[start + 1:end]
    parser = _Rows()
    parser.feed(path.read_text(encoding="utf-8"))
    return [row for row in parser.rows if row and row[0] != "Rank"]


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    root = tmp_path_factory.mktemp("lowband")
    frame = scores_frame.synthetic_scores({"T1": 30}, seed=11)
    bands = assign_bands(frame["risk"], config=load_band_config())
    assert {"low", "medium"} <= set(bands)   # both kinds of row are there to check
    # every row: a health-derived reason between two others (and one in the first slot for half of them)
    first = frame.index % 2 == 0
    frame["reason_1"] = frame["reason_1"].where(~first, HEALTH[0])
    frame["reason_2"] = HEALTH[-1]
    frame["reason_3"] = "commute of 50 minutes each way"
    for i, lever in enumerate(["lever A", "lever B", "lever C"], start=1):
        frame[f"lever_{i}"] = lever
    scores = scores_frame.write_scoring(root / "scores", frame)
    res = CliRunner().invoke(app, ["rank", "--scores", str(scores), "--team", "T1", "--format", "csv,xlsx,html",
                                   "--out", str(root / "lists")])
    assert res.exit_code == 0, res.output
    return frame.assign(band=bands).set_index("worker_id"), sorted((root / "lists").glob("risk_list_*"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".html"])
def test_no_low_band_row_carries_a_health_reason_and_the_others_stay_in_order(listed, suffix):
    frame, files = listed
    rows = _rows(next(p for p in files if p.suffix == suffix))
    assert len(rows) == len(frame)
    for row in rows:
        person = frame.loc[next(c for c in row if c in frame.index)]
        shown = [c for c in row if c]
        if person["band"] == "low":
            assert not set(HEALTH) & set(shown), row
            kept = [r for r in person[REASONS] if r and r not in HEALTH]
            # the other reasons, in their order, from the first slot on; no lever (a low band suggests nothing
            # beyond usual supervision, risk_list.NO_LEVER_BAND)
            assert [c for c in shown if c in kept or c.startswith("lever ")] == kept
        else:   # medium and high rows: every reason and lever as scored
            assert [c for c in shown if c in set(person[REASONS]) or c.startswith("lever ")] == [
                x for i in (1, 2, 3) for x in (person[f"reason_{i}"], person[f"lever_{i}"])]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".html"])
def test_the_health_line_says_low_band_rows_carry_no_such_reason(listed, suffix):
    _, files = listed
    path = next(p for p in files if p.suffix == suffix)
    if suffix == ".xlsx":
        text = " ".join(str(v) for row in openpyxl.load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True)
                        for v in row if v is not None)
    else:
        text = path.read_text(encoding="utf-8").replace("&#39;", "'")
    assert HEALTH_LINE in text
    assert "low band" in HEALTH_LINE and "no such reason" in HEALTH_LINE
