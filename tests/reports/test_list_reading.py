"""How a manager reads the figures on a list: a probability with its period and in percent, numbers that sort
as numbers in Excel."""

from __future__ import annotations

import importlib.util
from html import unescape
from pathlib import Path

import openpyxl
import pandas as pd

from retention_ml.commands.rank import rank_scores

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)


def _lists(tmp_path, *, months=6):
    frame = scores_frame.synthetic_scores({"TA": 8}, seed=3)
    frame.loc[0, ["risk", "risk_low", "risk_high"]] = [0.149, 0.101, 0.2]   # 14.9%: rounded to 15% it would read as another band
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=months)
    bands = tmp_path / "bands.toml"
    bands.write_text("[display]\nshow_probability = true\n")
    rank_scores(d, tmp_path / "lists", team=["TA"], bands=bands)
    return frame, tmp_path / "lists"


def test_shown_probabilities_name_their_period_and_read_in_percent(tmp_path):
    """A council that shows probabilities showed "Probability of leaving" as 0.149: no period, no unit."""
    frame, lists = _lists(tmp_path)
    html = unescape((lists / "risk_list_team_TA.html").read_text(encoding="utf-8"))
    assert '<th scope="col">Probability of leaving (next 6 months)</th>' in html
    assert "<td>14.9%</td>" in html and "<td>10.1%</td>" in html and "<td>0.149</td>" not in html
    ws = openpyxl.load_workbook(lists / "risk_list_team_TA.xlsx")["TA"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Rank")
    col = [c.value for c in header].index("Probability of leaving (next 6 months)")
    cells = [r[col] for r in ws.iter_rows(min_row=header[0].row + 1, max_row=header[0].row + len(frame))]
    assert all(isinstance(c.value, float) for c in cells)   # numbers: the filter sorts them as numbers
    assert {c.number_format for c in cells} == {"0.0%"} and 0.149 in [c.value for c in cells]
    csv = (lists / "risk_list_team_TA.csv").read_text(encoding="utf-8")
    assert "risk = probability of leaving in the next 6 months, from 0 to 1 (0.15 is 15%)" in csv
    assert 0.149 in pd.read_csv(lists / "risk_list_team_TA.csv", comment="#")["risk"].tolist()   # machines: unchanged
