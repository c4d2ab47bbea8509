"""Excel risk lists (XlsxWriter): one sheet per team, header frozen, filters on, band coloured, widths set."""

from __future__ import annotations

import datetime
import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.reports.risk_list import (HEALTH_LINE, PERCENT_DECIMALS, PROBABILITY_COLUMNS, PURPOSE_LINE, TeamList,
                                            band_cutoffs_text, band_meaning_text, banner_lines, column_label,
                                            display_rows, summary_text, uncertain_text)

BAND_COLOURS = {"high": "#F4B6B6", "medium": "#FCE4A8", "low": "#CFE8CF"}


def _settings_line(meta: dict) -> str:
    return (f"Shows probability: {'yes' if meta['shows_probability'] else 'no (band only)'}; "
            f"{band_cutoffs_text(meta)[:-1]}; "
            f"as of {meta.get('as_of', '')}; model {meta.get('model_ref', '')}. {uncertain_text(meta)}")


def _created(meta: dict) -> datetime.datetime:
    """The workbook's creation time: the scoring's as_of date (1 January 2000 when it has none)."""
    try:
        return datetime.datetime.fromisoformat(str(meta["as_of"])[:10])
    except (KeyError, ValueError):
        return datetime.datetime(2000, 1, 1)


def _widths(rows, labels: list[str]) -> list[int]:
    """Column widths in characters: the longer of header and values, plus a margin, between 8 and 60."""
    longest = np.zeros(len(rows.columns), dtype=np.int64)
    if len(rows):
        # every cell's length in one pass (a pandas call per column cost rank --all a few seconds over 7,000 files);
        # a missing cell counts as empty, as no value is shorter than the 6-character floor anyway
        text = rows.astype(str).to_numpy(dtype=object)
        text[pd.isna(text)] = ""
        longest = np.strings.str_len(text.astype(np.str_)).max(axis=0)
    return [min(max(len(label), int(n), 6) + 2, 60) for label, n in zip(labels, longest)]


# Excel refuses these characters in a sheet name, a name longer than 31 characters, a leading or trailing
# apostrophe, and two sheets whose names differ only in case.
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_MAX = 31


def sheet_names(ids) -> list[str]:
    """One valid, distinct sheet name per team id: the id itself when Excel allows it.

    A forbidden character becomes ``_`` and a short hash of the id is appended (``CP/North`` ->
    ``CP_North-<hash>``), as is done when a shortened id would repeat another's; the sheet's settings
    line still names the real id.
    """
    names, used = [], set()
    for value in ids:
        text = str(value)
        name = _SHEET_BAD.sub("_", text).strip("'")[:SHEET_MAX] or "team"
        if name != text[:SHEET_MAX] or name.lower() in used:
            name = f"{name[:SHEET_MAX - 9]}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
        used.add(name.lower())
        names.append(name)
    return names


BANNER_CHARS = 110  # about one screen: heading lines wrap within it instead of running off to the right


def _banner_last_column(widths: list[int]) -> int:
    """Last column of the heading lines' merged cells: the table's width, at most about one screen."""
    total = 0
    for j, w in enumerate(widths):
        total += w
        if total >= BANNER_CHARS:
            return j
    return max(len(widths) - 1, 0)


def _line_height(text: str, width_chars: int, *, points: float) -> float:
    """Row height (points) that shows ``text`` wrapped in a merged cell ``width_chars`` wide.

    Excel does not grow merged rows to fit, so the height is set from the wrapped line count.
    """
    lines = max(1, math.ceil(len(text) * 1.1 / max(width_chars, 1)))
    return round(lines * points * 1.35, 1)


# Excel keeps every row above the header frozen on screen: with all the heading lines there (the demo's lists:
# up to 408 points, 544 pixels, for a model not approved; 357 points for an approved one) the frozen rows filled
# a laptop's window (about 450 pixels of grid at 1366 x 768) and no person's row could be scrolled into view. Above the header stay the lines to read before any row (approval,
# purpose, how to read a sickness absence reason) and the team's summary; the others are notes under the table.
NOTES_POINTER = "Notes on reading this list are under the table."
OVERVIEW_NOTES_POINTER = "Notes on reading this overview are under the table."
NOTES_HEADING = "How to read this list"
OVERVIEW_NOTES_HEADING = "How to read this overview"


def split_banner(lines: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(lines kept above the header, lines written under the table) of :func:`banner_lines`' lines."""
    top = [(k, t) for i, (k, t) in enumerate(lines) if i == 0 or k in ("alert", "purpose") or t == HEALTH_LINE]
    return top, [line for line in lines if line not in top]


def _write_lines(ws, first_row: int, lines, *, last_col: int, width: int, styles: dict, points: dict) -> None:
    """Each line in one wrapped cell merged across the banner's width, its row tall enough for the wrapped text."""
    for r, (kind, text) in enumerate(lines, start=first_row):
        if last_col:
            ws.merge_range(r, 0, r, last_col, text, styles[kind])
        else:
            ws.write(r, 0, text, styles[kind])
        ws.set_row(r, _line_height(text, width, points=points.get(kind, 11)))


def write_xlsx(lists: list[TeamList], meta: dict, path: str | Path) -> Path:
    """Write one sheet per team (scoped lists only): above the frozen header the approval, purpose and health
    lines and the team's summary (:func:`split_banner`); under the table the other banner lines and settings.

    Each of those lines is merged across the table's width, at most about one screen (wrapped, row height
    set), so it reads in full without scrolling;
    column headers are human labels and role codes read with spaces.
    """
    import xlsxwriter

    from retention_ml.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        # in_memory: XlsxWriter otherwise writes and deletes a temporary file per sheet part, which at
        # `rank --all` scale (thousands of small workbooks) costs more than the lists themselves.
        # Every cell is written as the value it holds: text opening with "=" (a name or id from the HR extract)
        # stays text, never a formula Excel runs, and a text that looks like a web address is no link.
        wb = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True, "in_memory": True,
                                            "strings_to_formulas": False, "strings_to_urls": False})
        # The creation time is the scoring date, not the clock, so the same scores give a byte-identical file.
        wb.set_properties({"title": "Risk list", "comments": PURPOSE_LINE, "created": _created(meta)})
        base = {"text_wrap": True, "valign": "top"}
        styles = {
            "purpose": wb.add_format({**base, "bold": True}),
            "heading": wb.add_format({**base, "bold": True, "font_size": 12}),
            "note": wb.add_format(base),
            "alert": wb.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": "#B00020", "font_size": 12}),
        }
        points = {"alert": 12, "heading": 12}
        head = wb.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1, "text_wrap": True, "valign": "top"})
        cell = wb.add_format(base)
        percent = wb.add_format({**base, "num_format": "0." + "0" * PERCENT_DECIMALS + "%"})
        fmts = {b: wb.add_format({"bg_color": c}) for b, c in BAND_COLOURS.items()}
        for tl, sheet in zip(lists, sheet_names(tl.team_id for tl in lists)):
            ws = wb.add_worksheet(sheet)
            rows = display_rows(tl.rows)
            labels = [column_label(c, meta.get("horizon_months")) for c in rows.columns]
            widths = _widths(rows, labels)
            for j, w in enumerate(widths):
                ws.set_column(j, j, w)
            last_col = _banner_last_column(widths)
            banner_width = sum(widths[: last_col + 1])
            summary = summary_text(tl.summary, meta.get("horizon_months"))
            top, notes = split_banner(banner_lines(meta, lists))
            top = [*top, ("note", summary), ("note", NOTES_POINTER)]
            notes = [("heading", NOTES_HEADING), *notes, ("note", _settings_line(meta))]
            lines = {"last_col": last_col, "width": banner_width, "styles": styles, "points": points}
            _write_lines(ws, 0, top, **lines)
            first = len(top)
            ws.write_row(first, 0, labels, head)
            _write_lines(ws, first + len(rows) + 2, notes, **lines)
            for i, rec in enumerate(rows.itertuples(index=False), start=first + 1):
                # wrapped: a reason or lever longer than its column (60 characters at most) reads in full
                ws.write_row(i, 0, [v if not isinstance(v, bool) else ("yes" if v else "no") for v in rec], cell)
            for j, col in enumerate(rows.columns):   # numbers, so they sort as numbers, read in percent
                if col in PROBABILITY_COLUMNS:
                    ws.write_column(first + 1, j, rows[col].tolist(), percent)
            bcol = list(rows.columns).index("band")
            # what a band asks of the reader, on the header itself: the notes under a long table go unread
            ws.write_comment(first, bcol, band_meaning_text(meta), {"x_scale": 4, "y_scale": 3})
            if len(rows):
                for band, fmt in fmts.items():
                    ws.conditional_format(first + 1, bcol, first + len(rows), bcol,
                                          {"type": "cell", "criteria": "==", "value": f'"{band}"', "format": fmt})
            ws.freeze_panes(first + 1, 0)
            ws.autofilter(first, 0, first + max(len(rows), 1), len(rows.columns) - 1)
            _print_on_a4(ws, header_row=first)
        wb.close()
    return path


A4 = 9   # Excel's paper size code


def _print_on_a4(ws, *, header_row: int) -> None:
    """Printed, the sheet is A4 landscape, one page wide (as many long as it takes) with the header on every page:
    Excel's default printed the columns of reasons and levers on pages of their own, away from the people."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)


def write_table_sheet(rows, labels: list[str], lines: list[tuple[str, str]], meta: dict, path: str | Path, *,
                      title: str) -> Path:
    """One sheet holding a table that is not a list of people (a service overview), ``rows`` as given.

    Of ``lines`` (approval first, as :func:`banner_lines` gives them) the alert and purpose lines stay above the
    frozen header, the others are notes under the table (frozen rows must leave room for the table, see
    :func:`split_banner`)."""
    import xlsxwriter

    from retention_ml.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True, "in_memory": True,
                                            "strings_to_formulas": False, "strings_to_urls": False})
        wb.set_properties({"title": title, "comments": PURPOSE_LINE, "created": _created(meta)})
        base = {"text_wrap": True, "valign": "top"}
        styles = {"purpose": wb.add_format({**base, "bold": True}), "note": wb.add_format(base),
                  "heading": wb.add_format({**base, "bold": True, "font_size": 12}),
                  "alert": wb.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": "#B00020",
                                          "font_size": 12})}
        ws = wb.add_worksheet("Service overview")
        widths = [min(w, 30) for w in _widths(rows, labels)]
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        last_col = _banner_last_column(widths)
        top = [("heading", title), *[x for x in lines if x[0] in ("alert", "purpose")], ("note", OVERVIEW_NOTES_POINTER)]
        notes = [("heading", OVERVIEW_NOTES_HEADING), *[x for x in lines if x[0] not in ("alert", "purpose")]]
        fit = {"last_col": last_col, "width": sum(widths[: last_col + 1]), "styles": styles,
               "points": {"alert": 12, "heading": 12}}
        _write_lines(ws, 0, top, **fit)
        first = len(top)
        _write_lines(ws, first + len(rows) + 2, notes, **fit)
        ws.write_row(first, 0, labels, wb.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1,
                                                      "text_wrap": True, "valign": "top"}))
        cell = wb.add_format(base)
        for i, rec in enumerate(rows.itertuples(index=False), start=first + 1):
            ws.write_row(i, 0, list(rec), cell)
        ws.freeze_panes(first + 1, 0)
        ws.autofilter(first, 0, first + max(len(rows), 1), len(labels) - 1)
        _print_on_a4(ws, header_row=first)
        wb.close()
    return path
