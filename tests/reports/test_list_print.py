"""The HTML lists and service overviews print on A4: a council prints them, and a table wider than the page is
either cut at the right edge or shrunk by the browser to an unreadable size."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from retention_ml.commands.rank import rank_scores

_spec = importlib.util.spec_from_file_location("scores_frame", Path(__file__).with_name("scores_frame.py"))
scores_frame = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scores_frame)

CHROMIUM = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="chromium is not on PATH (make browser installs it): print layout needs a browser")

# A4 landscape less 10 mm margins: 277 mm at 96 CSS pixels to the inch
A4_LANDSCAPE_PRINTABLE_PX = 277 / 25.4 * 96
REASONS = ("caseload 24 against a cap of 20 per full-time post; over the cap in 5 of the last 6 months",
           "median rent in their home area is 54% of their estimated take-home pay, up 10% in a year",
           "commute of 63 minutes each way, 28 minutes longer than a year ago")


def _chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    done = subprocess.run([*base, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _print_width(page: Path, tmp_path) -> float:
    """The narrowest the page's tables can be laid out under its print rules (CSS pixels).

    The print rules are applied on screen in a window narrower than any table, so each table is laid out at its
    min-content width: the width the printed page must hold (headless chromium emulates no print media for a
    layout it can report)."""
    html = page.read_text(encoding="utf-8")
    rules = re.search(r"@media print \{(.*)\}\s*</style>", html, re.S)
    probe = ("<script>window.onload=function(){document.body.setAttribute('data-width',"
             "Math.max.apply(null,[].map.call(document.querySelectorAll('table'),function(t){return t.scrollWidth})))}"
             "</script>")
    copy = tmp_path / f"print_{page.name}"
    copy.write_text(html.replace("</style>", (rules.group(1) if rules else "") + "\n</style>" + probe), encoding="utf-8")
    dom = _chromium(tmp_path, "--window-size=500,800", "--dump-dom", copy.as_uri()).stdout
    return float(re.search(r'data-width="([\d.]+)"', dom).group(1))


def _page_size(page: Path, tmp_path) -> tuple[float, float]:
    """Width and height (points) of the PDF chromium prints the page to."""
    pdf = tmp_path / f"{page.stem}.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes()))
    assert len(boxes) == 1, boxes
    w, h = boxes.pop()
    return float(w), float(h)


@pytest.fixture(params=["permanent", "two agency"])
def lists(tmp_path, request):
    frame = scores_frame.synthetic_scores({"TA": 9, "TB": 7}, seed=3, service="safeguarding",
                                          managers={"TA": "MA", "TB": "MB"})
    for i, reason in enumerate(REASONS, start=1):
        frame[f"reason_{i}"] = reason
    frame["employment_type"] = "permanent"   # own staff counted apart: the overview's own-staff columns print too
    if request.param == "two agency":   # TB's own staff cannot be counted apart: its row's note says why
        frame.loc[frame.index[frame["team_id"] == "TB"][-2:], "employment_type"] = "agency"
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True, formats=["html"])
    return tmp_path / "lists"


@CHROMIUM
@pytest.mark.parametrize("name", ["risk_list_team_TA.html", "service_overview_C01_safeguarding.html"])
def test_html_prints_on_a4_landscape_without_shrinking(lists, tmp_path, name):
    page = lists / name
    width, height = _page_size(page, tmp_path)
    assert (round(width), round(height)) == (842, 595)   # A4 landscape, not the browser's Letter portrait
    assert _print_width(page, tmp_path) <= A4_LANDSCAPE_PRINTABLE_PX


def _current_region(path: Path) -> list[list[str]]:
    """The block of rows a spreadsheet takes for the table when a data cell is selected (Excel's current region:
    bounded by empty rows), the CSV read as a spreadsheet reads it, each line split at its commas."""
    import csv

    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    last = len(rows) - 1   # a person's row: the file ends with the table
    first = last
    while first > 0 and any(cell.strip() for cell in rows[first - 1]):
        first -= 1
    return rows[first:]


@pytest.mark.parametrize("name", ["risk_list_team_TA.csv", "service_overview_C01_safeguarding.csv"])
def test_a_csv_opened_in_a_spreadsheet_filters_and_sorts_only_its_table(tmp_path, name):
    """The '#' lines above the table are split at their commas into cells; joined to the table's block, Excel's
    filter and sort took the first of them for the header and sorted the others in among the rows."""
    import pandas as pd

    frame = scores_frame.synthetic_scores({"TA": 9, "TB": 7}, seed=3, service="safeguarding")
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True, formats=["csv"])
    path = tmp_path / "lists" / name
    region = _current_region(path)
    table = pd.read_csv(path, comment="#")
    assert region[0] == list(table.columns)   # the header heads the block: no '#' line in it
    assert len(region) == len(table) + 1


@pytest.mark.parametrize("name", ["risk_list_team_TA.xlsx", "service_overview_C01_safeguarding.xlsx"])
def test_excel_sheets_print_on_a4_landscape_one_page_wide_with_the_header_on_every_page(tmp_path, name):
    import openpyxl

    frame = scores_frame.synthetic_scores({"TA": 9, "TB": 7}, seed=3, service="safeguarding")
    d = scores_frame.write_scoring(tmp_path / "scores", frame, horizon_months=12)
    rank_scores(d, tmp_path / "lists", all_teams=True, formats=["xlsx"])
    ws = openpyxl.load_workbook(tmp_path / "lists" / name).worksheets[0]
    header = next(r[0].row for r in ws.iter_rows() if r[0].value in ("Rank", "Team"))
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) and ws.page_setup.orientation == "landscape"
    fit = ws.sheet_properties.pageSetUpPr
    assert fit is not None and fit.fitToPage
    assert int(ws.page_setup.fitToWidth or 1) == 1   # absent is 1, the file format's default: one page wide
    assert int(ws.page_setup.fitToHeight) == 0   # as many pages long as the list takes
    assert ws.print_title_rows.replace("$", "") == f"{header}:{header}"   # the header row repeats on each page
