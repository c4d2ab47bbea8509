"""Reading input tables (CSV, Parquet or Excel workbooks) with the types their schemas declare, and writing files atomically.

``read_tables`` is the one way the rest of the package loads input data. Types:
``date`` and ``month`` columns become ``datetime64[ns]`` (months normalised to
their first day), ``integer`` becomes ``int64`` (``Int64`` when nullable),
``float`` becomes ``float64``, ``boolean`` becomes ``boolean`` and ``string``
stays text. Validation with full error reports lives in
``retention_ml.validation``; this module assumes the data is valid.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from retention_ml.schema import TableSchema, load_schemas

__all__ = ["BOOLEAN_WORDS", "EXCEL", "atomic_path", "find_table_file", "table_files", "two_formats", "two_formats_message", "parse_boolean", "read_tables", "coerce_types", "to_float", "write_table"]

SUFFIXES = (".parquet", ".csv", ".xlsx")
EXCEL = ".xlsx"   # one table per workbook; see read_workbook

# The one vocabulary for boolean columns (case and surrounding spaces ignored). Validation accepts
# exactly these words and reading maps exactly these, so a value that passes validation is never read as missing.
BOOLEAN_WORDS: dict[str, bool] = {
    "true": True, "t": True, "yes": True, "y": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "0": False,
}


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``data_dir`` (``<table>.parquet``, ``.csv`` or ``.xlsx``, in that order), or None.

    :func:`table_files` lists them all: a table given twice, one of them a workbook, is refused by the readers."""
    found = table_files(data_dir, table)
    return found[0] if found else None


def table_files(data_dir: Path, table: str) -> list[Path]:
    """Every file of ``data_dir`` named for ``table`` in a format read (``SUFFIXES`` order)."""
    return [p for p in (Path(data_dir) / f"{table}{suffix}" for suffix in SUFFIXES) if p.exists()]


def two_formats(data_dir: Path, table: str) -> list[Path] | None:
    """The files of ``table`` when it is given twice and one is a workbook (``workers.csv`` and ``workers.xlsx``),
    else None. CSV beside Parquet keeps its older reading (Parquet used, a warning); a workbook beside either is
    refused, since an analyst saving an export as a workbook as well would otherwise have one copy silently ignored."""
    found = table_files(data_dir, table)
    return found if len(found) > 1 and any(p.suffix == EXCEL for p in found) else None


def two_formats_message(files: list[Path]) -> str:
    names = " and ".join(p.name for p in files)
    return (f"{files[0].stem} is given as {names}: one file per table is read, and which copy is meant cannot be "
            f"told: delete or move all but one")


# File names built from data values (team, manager, council, service ids) keep only these characters:
# a "/" or "../" in an id must never make a sub-folder or a file outside the output folder.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_SAFE_NAME_MAX = 60   # characters kept of a cleaned id, so a file name stays well under the 255-byte limit


def safe_name(value) -> str:
    """``value`` as one safe part of a file name: unchanged when it is letters, digits, ``_`` and ``-`` only.

    Otherwise each run of other characters becomes ``_`` and a short hash of the original is appended, so
    two ids that clean to the same text (``CP/North``, ``CP:North``) still get different files. The one
    rule for every output file named after an id; the file itself records the real id.

    >>> safe_name("T03")
    'T03'
    >>> safe_name("../../escaped")
    'escaped-75a5a428'
    """
    text = str(value)
    if _SAFE_NAME.fullmatch(text) and len(text) <= _SAFE_NAME_MAX:
        return text
    cleaned = _UNSAFE_RUN.sub("_", text).strip("_")[:_SAFE_NAME_MAX] or "id"
    return f"{cleaned}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


__all__ += ["safe_name"]


def out_folder_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be (or become) an output folder, or None when it can; the caller names ``path``.

    Checked before a command's work (scoring, a model card), so a wrong ``--out`` stops it at once instead of
    after minutes: ``path`` is an existing file, or the nearest existing folder on its way is a file or
    cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        return "is a file, not a folder"
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not existing.is_dir():
        return f"cannot be made: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot be made: {existing} cannot be written (no permission)"
    return None


__all__ += ["out_folder_problem", "header_key", "match_headers", "windows_1252"]


def header_key(name) -> str:
    """A column name reduced to lower-case letters and digits: 'Worker ID', ' Start_Date ', 'startDate' -> 'workerid', 'startdate'."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def match_headers(header: Iterable, declared: Iterable[str]) -> dict:
    """Header names that are a declared column but for case, spaces or punctuation -> that column.

    Only unambiguous matches: the declared name is not in the header already, and no other header reduces
    to it (``'Worker ID'`` and ``'WORKER_ID'`` side by side name neither). Exports capitalise and pad headers
    ('Start Date ', 'WORKER_ID'); reading them as what they plainly are spares a rename in every export,
    and validation reports each one (rule ``column_name``).

    >>> match_headers([" worker_id", "Start Date", "fte"], ["worker_id", "start_date", "fte"])
    {' worker_id': 'worker_id', 'Start Date': 'start_date'}
    """
    header = list(header)
    by_key = {header_key(c): c for c in declared}
    present = set(header)
    wanted: dict = {}
    for name in header:
        target = by_key.get(header_key(name))
        if name not in by_key.values() and target is not None and target not in present:
            wanted.setdefault(target, []).append(name)
    return {names[0]: target for target, names in wanted.items() if len(names) == 1}


# A valid UTF-8 multi-byte character (2, 3 or 4 bytes). In a file that is not UTF-8 as a whole, one of these means
# two encodings mixed (exports pasted together): Windows-1252 would turn its 'é' into 'Ã©', so nothing is guessed.
_UTF8_CHAR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def windows_1252(data: bytes) -> str | None:
    """``data`` decoded as Windows-1252 when that is plainly what it is, else None.

    Excel's "CSV (Comma delimited)" on an English Windows writes Windows-1252, so a council's first extract
    often is: every byte must be defined in Windows-1252, and the file must be not UTF-8, hold no NUL byte
    (UTF-16, "Unicode text") and no UTF-8 character (two encodings mixed). Validation reports the reading
    (rule ``encoding``, a warning) with the characters it gave, so a wrong one is seen.

    >>> windows_1252("Ren\u00e9e".encode("cp1252"))
    'Renée'
    >>> windows_1252("Ren\u00e9e".encode("cp1252") + "Zo\u00eb".encode("utf-8")) is None
    True
    """
    if b"\x00" in data or _UTF8_CHAR.search(data):
        return None
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:   # a byte Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
        return None


_UNNAMED = re.compile(r"Unnamed: \d+(\.\d+)?|\s*")   # how pandas names a header field left blank


def spreadsheet_residue(frame: pd.DataFrame) -> tuple[int, list]:
    """(empty rows after the last row holding a value, columns with a blank header and no value) of a CSV table.

    Spreadsheets save cells that were once formatted as lines and fields of bare commas below and right of
    the data; nothing in them, and nothing after them, so leaving them out reads nothing wrongly. An empty row
    between data rows is not residue: validation reports it (``empty_row``).

    >>> spreadsheet_residue(pd.DataFrame({"a": ["x", None, None], "Unnamed: 1": [None, None, None]}))
    (2, ['Unnamed: 1'])
    """
    empty = frame.isna()
    columns = [c for c in frame.columns if _UNNAMED.fullmatch(str(c)) and empty[c].all()]
    filled = np.flatnonzero(~empty.drop(columns=columns).all(axis=1).to_numpy())
    return len(frame) - (int(filled[-1]) + 1 if filled.size else 0), columns


def drop_spreadsheet_residue(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without :func:`spreadsheet_residue`'s rows and columns."""
    rows, columns = spreadsheet_residue(frame)
    return frame.iloc[: len(frame) - rows].drop(columns=columns) if rows or columns else frame


__all__ += ["spreadsheet_residue", "drop_spreadsheet_residue"]


# --------------------------------------------------------------------------- Excel workbooks

# A formula element in a sheet's XML (any namespace prefix): only a sheet holding one is read a second time to find
# formulas saved without their value, so a workbook of plain values costs one read.
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


@dataclass
class Workbook:
    """One table read from an Excel workbook by :func:`read_workbook`.

    ``frame``: every cell as text (None when empty), headers from row 1; data row r is Excel row r + 2, as a CSV's
    line r + 2. ``header``: the header cells as written (before pandas-style renaming of a repeated name).
    ``problems``: one row per cell that cannot be read as the analyst meant, and one per column read other than
    as stored (columns ``rule``, ``severity`` (``error``, or ``warning`` for a reading), ``row`` (0-based data row,
    or None), ``column``, ``cell``, ``message``). ``sheet``: the sheet read. ``frame`` is None when no sheet could
    be chosen or every sheet is empty (``problems`` then says which).
    """

    frame: pd.DataFrame | None
    header: list
    problems: pd.DataFrame
    sheet: str | None


_PROBLEM_COLUMNS = ["rule", "severity", "row", "column", "cell", "message"]


def _problems(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=_PROBLEM_COLUMNS, dtype=object)   # object: a row stays an int or None
    return frame.assign(severity=frame["severity"].where(frame["severity"].notna(), "error"))


def _choose_sheet(book, table: str, file: str):
    """(the worksheet holding ``table``, or None, and a problem when there is no single one).

    A sheet named after the table (``workers``, ``Workers``) is read whatever else the workbook holds; otherwise the
    one sheet holding any value. Several sheets with values and none named after the table are refused, naming
    them: which one is the table cannot be told, and reading the first would silently drop the others."""
    sheets = [ws for ws in book.worksheets if hasattr(ws, "iter_rows")]   # chart sheets hold no cells
    named = [ws for ws in sheets if header_key(ws.title) == header_key(table)]
    if len(named) == 1:
        return named[0], None
    filled = [ws for ws in sheets if any(v is not None for row in ws.iter_rows(values_only=True) for v in row)]
    if len(filled) == 1:
        return filled[0], None
    if not filled:
        return None, None
    names = ", ".join(repr(ws.title) + _HIDDEN.get(getattr(ws, "sheet_state", "visible"), "") for ws in filled)
    unhide = ("; a hidden sheet has no tab until shown: right-click any sheet tab > Unhide"
              if any(getattr(ws, "sheet_state", "visible") != "visible" for ws in filled) else "")
    return None, {"rule": "xlsx_format", "row": None, "column": None, "cell": None, "message": (
        f"{file} has {len(filled)} sheets holding values ({names}) and none named {table}: one table per workbook is "
        f"read, so name the sheet that holds the table {table}, or delete the other sheets (save each table as its own "
        f"file){unhide}")}


# A sheet the analyst cannot see among the tabs ('veryHidden': shown only from the VBA editor) is named as such.
_HIDDEN = {"hidden": " (hidden)", "veryHidden": " (very hidden: shown only from Excel's VBA editor)"}


def _mangled(header: list[str]) -> list[str]:
    """Header names with a repeated one numbered as pandas numbers it in a CSV ('role', 'role.1')."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def _cells_as_text(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """A column of openpyxl cell values as the text a CSV export of it would hold, and which cells were dates.

    Text stays as typed (leading zeros kept); a whole number is written without '.0'; True/False as true/false;
    date cells as ISO dates (with the time when it is not midnight), so the date rules apply unchanged."""
    kind = col.map(type)
    out = col.astype(object).copy()
    dated = kind.isin([datetime.datetime, datetime.date]).to_numpy()
    if dated.any():
        stamps = pd.to_datetime(col[dated].astype(object))
        midnight = (stamps == stamps.dt.normalize()).to_numpy()
        out[dated] = np.where(midnight, stamps.dt.strftime("%Y-%m-%d"), stamps.dt.strftime("%Y-%m-%d %H:%M:%S"))
    numbers = kind.isin([int, float]).to_numpy()
    if numbers.any():
        values = col[numbers].astype("float64")
        whole = (values == np.floor(values)).to_numpy() & (values.abs() < 2 ** 53).to_numpy()
        out[numbers] = np.where(whole, col[numbers].map(lambda v: str(int(v))), col[numbers].map(repr))
    flags = (kind == bool).to_numpy()
    if flags.any():
        out[flags] = np.where(col[flags].astype(bool), "true", "false")
    other = ~(dated | numbers | flags | (kind == str).to_numpy() | col.isna().to_numpy())
    if other.any():   # times, durations: as Python writes them, for validation to judge
        out[other] = col[other].map(str)
    out[(kind == str).to_numpy() & (col == "").to_numpy()] = None   # an empty text cell is empty, as in a CSV
    return out.where(out.notna(), None), dated


def _cell(column: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column + 1)}{row}"


def _declared(name, schema: TableSchema | None) -> tuple[str | None, str | None]:
    """(the declared column a sheet header names, but for case, spaces or punctuation, and its type), or (None, None)."""
    spec = None if schema is None else next((c for c in schema.columns if header_key(c.name) == header_key(name)), None)
    return (None, None) if spec is None else (spec.name, spec.type)


def _date_cell_problems(frame: pd.DataFrame, dated: dict, schema: TableSchema | None, file: str) -> list[dict]:
    """A date cell in a declared column that is not a date (an id Excel turned into a date, '1-3' as 1 March)."""
    if schema is None:
        return []
    out = []
    for position, name in enumerate(frame.columns):
        key, kind = _declared(name, schema)
        if key is None or kind in ("date", "month") or not dated[name].any():
            continue
        for row in np.flatnonzero(dated[name])[:_CELLS_NAMED]:
            out.append({"rule": "xlsx_cell", "row": int(row), "column": key, "cell": _cell(position, row + 2), "message": (
                f"{file} cell {_cell(position, row + 2)} (column {key}) is an Excel date ({frame[name].iat[row]}), but "
                f"{key} is not a date: Excel turned what was typed into a date; format the column as Text and type "
                "the value again")})
    return out


_CELLS_NAMED = 1000   # per column: a whole column of date cells is one fix, not a million records

# The number formats read as Excel shows them: zeros alone, two or more ('00000'), which pad a whole number to that
# many digits (an id 00123 typed as a number and formatted to show its zeros). Every other format shows the number
# itself (General, '0', '#,##0', '0.00': read as the number) or other text than the number, which is not read.
_ZERO_PADDING = re.compile(r"0{2,}")
# A format showing a number as other text: quoted or escaped literal text ('"T"000', '\W0000'), or padding zeros
# combined with anything else ('000-000', '00000_)'). In a text column (an id, a code) Excel shows what is not stored.
_SHOWN_AS_OTHER_TEXT = re.compile(r'"|\\|0{2,}')


def _format_reading(fmt) -> str | None:
    """How a numeric cell with number format ``fmt`` is read in a text column: 'padded' (as shown, leading zeros
    kept), 'not_shown' (the format shows other text than the number: a problem), or None (as the number)."""
    from openpyxl.styles import is_date_format

    if not isinstance(fmt, str) or fmt == "General" or is_date_format(fmt):
        return None
    if _ZERO_PADDING.fullmatch(fmt):
        return "padded"
    return "not_shown" if _SHOWN_AS_OTHER_TEXT.search(fmt.split(";")[0].split(".")[0]) else None


def _shown_numbers(values: pd.Series, formats: pd.Series, text: pd.Series, position: int, column: str,
                   file: str) -> tuple[pd.Series, list[dict]]:
    """``text`` (a text column's cells as text) with whole numbers under a zero-padding format ('00000') written as
    Excel shows them (123 as '00123'), a warning when that changed a value (one per column, rule ``leading_zeros``),
    and an error naming each numeric cell whose format shows what cannot be read safely: another format showing
    other text ('"T"000') or a padded number that is not whole and at least 0 (Excel rounds 12.6 to '00013')."""
    numbers = values.map(type).isin([int, float]).to_numpy()
    if not numbers.any():
        return text, []
    reading = formats[numbers].map(_format_reading)
    if reading.isna().all():
        return text, []
    cells = values[numbers]
    number = cells.astype("float64")
    padded = (reading == "padded").to_numpy()
    whole = ((number >= 0) & (number == np.floor(number)) & (number < 2 ** 53)).to_numpy()
    text = text.copy()
    changed = np.zeros(len(cells), dtype=bool)
    good = padded & whole
    if good.any():
        digits = cells[good].map(lambda v: str(int(v)))
        widths = formats[numbers][good].str.len()
        shown = pd.Series([d.zfill(w) for d, w in zip(digits, widths)], index=digits.index, dtype=object)
        text.loc[shown.index] = shown
        changed[good] = (shown != digits).to_numpy()
    out = []
    if changed.any():
        first = np.flatnonzero(changed)[0]
        row, fmt = int(np.flatnonzero(numbers)[first]), formats[numbers].iat[first]
        cell = _cell(position, row + 2)
        out.append({"rule": "leading_zeros", "severity": "warning", "row": None, "column": column, "cell": cell,
                    "message": (f"{file}: {int(changed.sum()):,} number cell(s) of column {column} shown with leading "
                                f"zeros by a number format of zeros ({fmt!r}) were read as Excel shows them ({cell}: "
                                f"{cells.iat[first]!r} as {text.iat[row]!r}); format the column as Text, with the ids "
                                "typed as they read, to make this warning go away")})
    unsafe = ~padded & (reading == "not_shown").to_numpy() | padded & ~whole
    for i in np.flatnonzero(unsafe)[:_CELLS_NAMED]:
        row, fmt = int(np.flatnonzero(numbers)[i]), formats[numbers].iat[i]
        cell = _cell(position, row + 2)
        why = ("which shows other text than the number stored; only a format of zeros alone ('00000') is read as shown"
               if not padded[i] else "which shows it rounded, or with a minus; only a whole number of 0 or more is read with its zeros")
        out.append({"rule": "xlsx_cell", "row": row, "column": column, "cell": cell, "message": (
            f"{file} cell {cell} (column {column}) holds the number {cells.iat[i]!r} with the number format {fmt!r}, "
            f"{why}: format the column as Text and type the value as it should read")})
    return text, out


def _sheet_xml(path: Path, ws) -> bytes:
    """The sheet's own XML, searched for what the read-only reader does not give: formulas and merged cells."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(ws._worksheet_path)


_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(xml: bytes) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(reference, (first column, first row, last column, last row), 1-based) of each range of merged cells."""
    from openpyxl.utils.cell import range_boundaries

    return [(ref.decode(), range_boundaries(ref.decode())) for ref in _MERGED.findall(xml)]


def _merged_header_problem(merged, header: list, schema: TableSchema | None, file: str) -> dict | None:
    """One problem when header cells (row 1) holding the table's column names are merged: a name over several
    columns leaves the others without one, so nothing below can be matched to a column. A merged title above the
    header is left to the header-row check, which names the row the header is on."""
    refs = [ref for ref, (_, top, _, _) in merged if top == 1]
    named = schema is None or any(_declared(h, schema)[0] for h in header if h)
    if not refs or not named:
        return None
    return {"rule": "xlsx_format", "row": None, "column": None, "cell": refs[0], "message": (
        f"{file}: header cells {', '.join(refs)} are merged: Excel shows one name over several columns, and the "
        "columns after the first have none, so their values cannot be matched to a column; unmerge them (select "
        "them > Home > Merge & Center) and give each column its own name in row 1")}


# What Excel shows in a cell whose formula failed, and the usual cause, for the message. Workbook cells and CSV
# values alike (a CSV saved from Excel holds the text '#N/A'): validation names both.
EXCEL_ERRORS = {
    "#N/A": "a lookup found no match", "#REF!": "it refers to cells since deleted", "#VALUE!": "a value of the wrong kind",
    "#DIV/0!": "a division by zero", "#NAME?": "an unknown function or name", "#NUM!": "an impossible number",
    "#NULL!": "ranges that do not meet", "#SPILL!": "its results have no room", "#CALC!": "a calculation Excel cannot do",
    "#GETTING_DATA": "data still loading when saved",
}


def _error_cell_problems(frame: pd.DataFrame, names: list[str], file: str) -> list[dict]:
    """A cell showing an Excel error (#N/A from a lookup with no match, #REF!): read as text it would pass as an id,
    a council or an area ('#N/A' as one more council), so each is a problem naming the cell and the cause."""
    out = []
    for position, (name, column) in enumerate(zip(frame.columns, names)):
        shown = frame[name]
        for row in np.flatnonzero(shown.isin(list(EXCEL_ERRORS)).to_numpy())[:_CELLS_NAMED]:
            value, cell = shown.iat[row], _cell(position, row + 2)
            out.append({"rule": "xlsx_cell", "row": int(row), "column": column, "cell": cell, "message": (
                f"{file} cell {cell} (column {column}) shows Excel's error {value} (a formula that failed: usually "
                f"{EXCEL_ERRORS[value]}): correct the formula or type the value, and save again")})
    return out


# The first text of a table's totals row, as Excel's Total Row and report exports write it.
_TOTALS = re.compile(r"\s*(grand\s+)?(totals?|sum)\s*:?\s*", re.IGNORECASE)


def is_totals_label(value) -> bool:
    """True for the label a totals row opens with ('Total', 'Grand total:', 'SUM'): no worker, team or month is so
    called, so a last row that opens with it holds sums, not data (in a workbook or a CSV alike)."""
    return isinstance(value, str) and _TOTALS.fullmatch(value) is not None


__all__ += ["is_totals_label"]


def _totals_row(rows: list[tuple], file: str) -> dict | None:
    """A problem when the last row is a totals row ('Total' as its first value: a table's Total Row, a report's
    sum): no worker, team or month is called Total, and its sums would be read as one more row of data, giving an
    error per column. The row is then not read, so it is reported once."""
    if len(rows) < 3:
        return None
    column, first = next(((c, v) for c, v in enumerate(rows[-1]) if v is not None), (None, None))
    if not is_totals_label(first):
        return None
    cell = _cell(column, len(rows))
    return {"rule": "xlsx_format", "row": len(rows) - 2, "column": None, "cell": cell, "message": (
        f"{file} Excel row {len(rows)} is a totals row ({first.strip()!r} in {cell}), not data: delete it (for an "
        "Excel table: Table Design > untick Total Row) so only the data rows are read")}


_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_ROW_NUMBER = re.compile(rb'\br="([0-9]+)"')
_FILTER_SET = re.compile(rb"<(?:\w+:)?filterColumn[\s>/]")   # an autofilter with a criterion: rows it hides
_HIDDEN_ROWS_SHOWN = 10


def _hidden_rows_warning(xml: bytes, rows: list[tuple], file: str, sheet: str) -> dict | None:
    """One warning when data rows holding values are hidden (by the sheet's filter, or by hand), naming their Excel
    rows (the first few and how many). They are read: the file is the data. But an analyst who filtered the sheet
    before saving believes those rows are left out, and nothing on screen says otherwise."""
    if b"hidden=" not in xml:
        return None
    numbers = (int(m.group(1)) for tag in _HIDDEN_ROW.findall(xml) if (m := _ROW_NUMBER.search(tag)))
    hidden = sorted({r for r in numbers if 2 <= r <= len(rows) and any(v is not None for v in rows[r - 1])})
    if not hidden:
        return None
    shown = ", ".join(map(str, hidden[:_HIDDEN_ROWS_SHOWN])) + (
        f" and {len(hidden) - _HIDDEN_ROWS_SHOWN} more" if len(hidden) > _HIDDEN_ROWS_SHOWN else "")
    how = "by the sheet's filter or by hand" if _FILTER_SET.search(xml) else "by hand or in a collapsed group (no filter is set)"
    return {"rule": "hidden_rows", "severity": "warning", "row": None, "column": None, "cell": None, "message": (
        f"{file} sheet {sheet}: {len(hidden)} data row(s) hidden in Excel {how} were read like every other row, "
        f"Excel row(s) {shown}: hiding or filtering a row does not leave it out of the file. If they should not be "
        "read, delete them (select the rows > right-click > Delete) and save; otherwise show them (Data > Clear, "
        "or select all > right-click a row number > Unhide) to make this warning go away")}


_HIDDEN_COL = re.compile(rb'<(?:\w+:)?col\s[^>]*?\bhidden="(?:1|true)"[^>]*>')
_COL_MIN, _COL_MAX = re.compile(rb'\bmin="([0-9]+)"'), re.compile(rb'\bmax="([0-9]+)"')


def _hidden_columns_warning(xml: bytes, read: list[str | None], file: str, sheet: str) -> dict | None:
    """One warning naming the columns that are read (``read``: the column's name, None where it is not read) but
    hidden in Excel. As with hidden rows, the file is the data: an analyst who hid a column (a name, a protected
    characteristic) may believe it left out, and nothing on screen says otherwise."""
    if b"hidden=" not in xml:
        return None
    from openpyxl.utils import get_column_letter

    spans = [(int(lo.group(1)), int(hi.group(1))) for tag in _HIDDEN_COL.findall(xml)
             if (lo := _COL_MIN.search(tag)) and (hi := _COL_MAX.search(tag))]
    hidden = [f"{name} (Excel column {get_column_letter(i + 1)})" for i, name in enumerate(read)
              if name is not None and any(lo <= i + 1 <= hi for lo, hi in spans)]
    if not hidden:
        return None
    return {"rule": "hidden_columns", "severity": "warning", "row": None, "column": None, "cell": None, "message": (
        f"{file} sheet {sheet}: {len(hidden)} column(s) hidden in Excel were read like every other column: "
        f"{', '.join(hidden)}; hiding a column does not leave it out of the file. If one should not be read, delete "
        "it (select the column > right-click > Delete) and save; otherwise show it (select all > right-click a column "
        "letter > Unhide) to make this warning go away")}


def _merged_data_problems(merged, n_rows: int, width: int, names: list[str], file: str) -> list[dict]:
    """A problem per cell of merged cells below the header other than the first: Excel shows the first cell's value
    across them all (a team id merged down its workers' rows), but the other cells hold nothing."""
    out = []
    covered = ((ref, top, left, row, col) for ref, (left, top, right, bottom) in merged if top >= 2
               for row in range(top, min(bottom, n_rows) + 1) for col in range(left, min(right, width) + 1)
               if (row, col) != (top, left))
    for ref, top, left, row, col in itertools.islice(covered, _CELLS_NAMED):   # a merged block is one fix
        cell = _cell(col - 1, row)
        out.append({"rule": "xlsx_cell", "row": row - 2, "column": names[col - 1], "cell": cell, "message": (
            f"{file} cell {cell} (column {names[col - 1]}) is part of the merged cells {ref}: Excel shows "
            f"{ref.split(':')[0]}'s value across them, but {cell} holds nothing; unmerge them (Home > Merge & "
            "Center) and fill every cell")})
    return out


def _formulas_without_values(path: Path, ws, xml: bytes, values: list[tuple], names: list[str], file: str) -> list[dict]:
    """Formula cells saved without their value (written by a program, never opened and saved in Excel); ``names``:
    each column's name in the problems (the declared column a header names, else the header)."""
    if not _FORMULA_TAG.search(xml):
        return []
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    try:
        _sized_by_cells([book[ws.title]])
        out = []
        for r, (formulas, cached) in enumerate(zip(book[ws.title].iter_rows(values_only=True), values)):
            for c, formula in enumerate(formulas):
                if isinstance(formula, str) and formula.startswith("=") and (c >= len(cached) or cached[c] is None):
                    out.append({"rule": "xlsx_formula", "row": r - 1 if r else None, "cell": _cell(c, r + 1),
                                "column": names[c] if r and c < len(names) else None,
                                "message": f"{file} cell {_cell(c, r + 1)} holds a formula ({formula[:40]}) saved without "
                                           "its value: open the workbook in Excel and save it, or paste the column as values"})
        return out
    finally:
        book.close()


def _sized_by_cells(sheets) -> None:
    """Read each sheet by the cells it holds, not the size it declares: a sheet whose declared size reaches Excel's
    last column or row (a cell formatted there, whole rows formatted) would otherwise be read as that many empty
    cells in every row (measured: 653 rows took 15 s and 540 MB with one formatted cell in column XFD)."""
    for ws in sheets:
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()


def _sheet_values(ws) -> list[tuple]:
    """The sheet's cell values, row by row, up to the last row holding a value, each row as wide as the widest
    row's last value: empty cells after a row's last value, and empty rows after the last row holding one
    (formatted but empty: Excel shows nothing there), are not kept."""
    values, last = [], 0
    for cells in ws.iter_rows(values_only=True):
        n = len(cells)
        while n and cells[n - 1] is None:
            n -= 1
        values.append(tuple(cells[:n]) if n < len(cells) else tuple(cells))   # a missing row comes as []
        last = len(values) if n else last
    del values[last:]
    width = max((len(r) for r in values), default=0)
    pad = [(None,) * k for k in range(width + 1)]
    return [r if len(r) == width else r + pad[width - len(r)] for r in values]


def _number_formats(ws, columns: list[int], n_rows: int) -> dict[int, pd.Series]:
    """Each data cell's number format (None for a cell never written) in the 0-based ``columns`` of the sheet's
    first ``n_rows`` rows: a second pass over the sheet, made only for text columns holding numbers, so a workbook
    whose ids are text costs one read."""
    lo, hi = min(columns) + 1, max(columns) + 1
    found: dict[int, list] = {c: [] for c in columns}
    for row in ws.iter_rows(min_row=2, max_row=n_rows, min_col=lo, max_col=hi):
        for c in columns:
            found[c].append(row[c + 1 - lo].number_format)
    return {c: pd.Series(v, dtype=object) for c, v in found.items()}


def _empty_problem_cells(frame: pd.DataFrame, problems: list[dict]) -> None:
    """Empty, in ``frame``, each cell an error names: it was not read as meant, and is reported once, by that error
    (not again as empty, as no such id, or against another column)."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    for p in problems:
        if p["rule"] in ("xlsx_cell", "xlsx_formula") and p.get("severity", "error") == "error" and p.get("row") is not None:
            letters, _ = coordinate_from_string(p["cell"])
            frame.iat[p["row"], column_index_from_string(letters) - 1] = None


def read_workbook(path: str | Path, table: str, schema: TableSchema | None = None) -> Workbook:
    """``table`` from the Excel workbook ``path``: one sheet, every cell as text, header in row 1.

    The sheet is the one named after the table, else the only sheet holding values (several and none named so:
    a problem, nothing read). Cells are read as the analyst sees them, never typed by the reader: text as typed
    (``007`` keeps its zeros), formulas by the value Excel saved with them (one saved without a value is a problem
    naming the cell), date cells as ISO dates so the date rules apply unchanged (a date cell in a declared column
    that is not a date is a problem naming the cell). In a text column (an id, a code), a whole number formatted
    with zeros alone ('00000') is read as Excel shows it (123 as ``00123``; a warning per column), and a number
    another format shows as other text ('"T"000') is a problem naming the cell; a cell a problem names is read
    as empty, so it is reported once. Empty header cells are named as pandas names them in a CSV
    (``Unnamed: 3``); rows and columns formatted but empty after the data are left out (Excel shows nothing there).

    Memory: openpyxl holds the sheet's cells as Python objects while reading (about 10x the CSV's size), and an
    Excel sheet holds at most 1,048,576 rows: a national caseload history is for CSV or Parquet.
    """
    from openpyxl import load_workbook

    path = Path(path)
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        _sized_by_cells(book.worksheets)
        ws, problem = _choose_sheet(book, table, path.name)
        if ws is None:
            return Workbook(None, [], _problems([problem] if problem else []), None)
        rows = _sheet_values(ws)
        if not rows:
            return Workbook(None, [], _problems([]), ws.title)
        totals = _totals_row(rows, path.name)
        if totals:
            rows = rows[:-1]
        width = len(rows[0])
        header = [None if v is None else str(v) for v in rows[0]]
        names = _mangled([f"Unnamed: {i}" if h is None or h == "" else h for i, h in enumerate(header)])
        raw = pd.DataFrame(rows[1:], columns=range(width), dtype=object)   # object: None stays None, 7 stays 7
        declared = [_declared(name, schema) for name in names]
        # Only a text column's numbers can be shown as other than the number (a number column's format only
        # displays it: 018 is 18); undeclared columns are not read, unless no schema says which are.
        shown = [i for i, (_, kind) in enumerate(declared) if (kind == "string" or schema is None)
                 and raw[i].map(type).isin([int, float]).any()]
        formats = _number_formats(ws, shown, len(rows)) if shown else {}
    finally:
        book.close()
    xml = _sheet_xml(path, ws)
    merged = _merged_ranges(xml)
    problem = _merged_header_problem(merged, header, schema, path.name)
    if problem:
        return Workbook(None, [], _problems([problem]), ws.title)
    column_names = [key or name for (key, _), name in zip(declared, names)]
    text, dated, problems = {}, {}, [totals] if totals else []
    for i, name in enumerate(names):
        text[name], dated[name] = _cells_as_text(raw[i])
        if i in formats:
            text[name], found = _shown_numbers(raw[i], formats[i], text[name], i, declared[i][0] or name, path.name)
            problems += found
    frame = pd.DataFrame(text, columns=names)
    problems += _date_cell_problems(frame, dated, schema, path.name)
    problems += _error_cell_problems(frame, column_names, path.name)
    problems += _formulas_without_values(path, ws, xml, rows, column_names, path.name)
    # Undeclared columns are not read (unless no schema says which are), so hiding them says nothing.
    read = [key or (name if schema is None else None) for (key, _), name in zip(declared, names)]
    hidden = [_hidden_rows_warning(xml, rows, path.name, ws.title),
              _hidden_columns_warning(xml, read, path.name, ws.title)]
    del xml
    problems += _merged_data_problems(merged, len(rows), width, column_names, path.name)
    problems += [h for h in hidden if h]
    _empty_problem_cells(frame, problems)
    # Cells formatted but empty below and right of the data are invisible in Excel (a CSV saves them as bare
    # commas, and validation warns): left out without a word.
    frame = drop_spreadsheet_residue(frame)
    header = [h or "" for h, name in zip(header, names) if name in frame.columns]
    return Workbook(frame, header, _problems(problems), ws.title)


__all__ += ["Workbook", "read_workbook"]


def _read_raw(path: Path, schema: TableSchema | None = None) -> pd.DataFrame:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == EXCEL:
        book = read_workbook(path, path.stem, schema)
        errors = book.problems[book.problems["severity"] == "error"]
        if len(errors):
            raise ValueError(f"{path}: {errors['message'].iat[0]} (retention-ml validate lists every problem)")
        if book.frame is None:
            raise ValueError(f"{path}: no sheet holds any value")
        frame = drop_spreadsheet_residue(book.frame)
    else:
        try:
            # utf-8-sig strips a byte-order mark when there is one.
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = windows_1252(path.read_bytes())
            if text is None:
                raise
            frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
        frame = drop_spreadsheet_residue(frame)
    if schema is not None:
        frame = frame.rename(columns=match_headers(frame.columns, schema.column_names))
    return frame


def to_float(col: pd.Series, *, errors: str = "raise") -> pd.Series:
    """Numbers from text (or numbers) as float64; ``errors="coerce"`` turns unparseable values into NaN.

    Arrow's cast is ~40x faster than ``pd.to_numeric`` on valid text, so it is
    tried first; only a column with a bad value takes the slower path.
    """
    if pd.api.types.is_string_dtype(col.dtype):
        try:
            arr = pc.cast(pyarrow.array(col, from_pandas=True), pyarrow.float64())
            return pd.Series(arr.to_numpy(zero_copy_only=False), index=col.index, dtype="float64")
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError, TypeError):
            pass
    return pd.to_numeric(col, errors=errors).astype("float64")


def parse_boolean(col: pd.Series) -> pd.Series:
    """``col`` as pandas ``boolean``: words of :data:`BOOLEAN_WORDS` (any case) become True/False, anything else missing."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype("boolean")
    lowered = col.astype("string").str.strip().str.lower()
    return lowered.map(BOOLEAN_WORDS).astype("boolean")


def _text_holds(col: pd.Series, *marks: str) -> bool:
    """True when a text column has a value holding one of ``marks`` (plain substrings), scanned by Arrow without
    copying the column: the forgiving readings below cost valid data a scan (0.01 s per million values and
    mark), never a copy or a regular expression. False for columns of other types."""
    if not (pd.api.types.is_string_dtype(col.dtype) or col.dtype == object) or col.isna().all():
        return False
    try:
        arr = pyarrow.array(col, from_pandas=True)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):   # an object column of mixed Python types
        arr = pyarrow.array(col.astype("string"), from_pandas=True)
    if not pyarrow.types.is_string(arr.type) and not pyarrow.types.is_large_string(arr.type):
        return False
    return any(pc.any(pc.match_substring(arr, mark)).as_py() for mark in marks)


def unpadded_dates(col: pd.Series) -> pd.Series:
    """``col`` (text) with spaces around its dates taken off, and a value of spaces alone read as empty.

    A fixed-width database export pads its date fields ('2021-05-03  ') and writes a date it does not hold as
    spaces; neither means anything but the date, or no date, so both are read as such. A column without a
    space is only scanned (:func:`_text_holds`).

    >>> unpadded_dates(pd.Series([" 2021-05-03 ", "   ", None, "2021-05-04"])).tolist()
    ['2021-05-03', None, None, '2021-05-04']
    """
    if not _text_holds(col, " "):
        return col
    stripped = col.astype("string").str.strip()
    return stripped.astype(object).where(stripped.notna() & (stripped != ""), None)


__all__ += ["unpadded_dates"]


# A month's English name or its first three letters ('Sept' too), lower case -> its number.
MONTH_NAMES: dict[str, int] = {
    **{m.lower(): i for i, m in enumerate(calendar.month_name) if m},
    **{m.lower(): i for i, m in enumerate(calendar.month_abbr) if m},
    "sept": 9,
}
# A date written with the month's name: an optional day (maybe '3rd'), the name, a year of four digits (what an
# Oracle-based HR system's DD-MON-YYYY and Excel's d-mmm-yyyy or mmm yyyy write), maybe a time.
_NAMED_MONTH = (r"^\s*(?:(\d{1,2})(?:st|nd|rd|th)?[\s/.\-]*)?([A-Za-z]+)\.?[\s/.,\-]*(\d{4})"
                r"((?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)\s*$")


def named_month_dates(col: pd.Series, *, month: bool) -> tuple[pd.Series, str | None]:
    """``col`` with dates written with the month's name ('03-May-2021', '3 May 2021', 'May 2021' in a month
    column) rewritten as YYYY-MM-DD, and the first value (None, and ``col`` unchanged, when the column is not
    plainly written so).

    Plainly: every value given is a month's name with a four-digit year, and a day unless the column holds months
    (``month``; its values then read as the month's first day). A name leaves no order to guess; a two-digit year
    (1921 or 2021) or a date without its day is left as written, for validation to report. A column whose first
    value holds no letter is not scanned.

    >>> named_month_dates(pd.Series(["03-May-2021", "21 September 2019", None]), month=False)[0].tolist()
    ['2021-05-03', '2019-09-21', None]
    >>> named_month_dates(pd.Series(["03-May-21"]), month=False)[1] is None
    True
    """
    given = col.notna().to_numpy()
    if not given.any() or not (pd.api.types.is_string_dtype(col.dtype) or col.dtype == object):
        return col, None
    if not re.search(r"[A-Za-z]", str(col.iloc[int(given.argmax())])):
        return col, None   # one column, one format: a first value without a letter means no name is written
    parts = col.astype("string").str.extract(_NAMED_MONTH)
    number = parts[1].str.lower().map(MONTH_NAMES)
    read = (parts[2].notna() & number.notna() & (parts[0].notna() | month)).to_numpy(dtype=bool, na_value=False)
    if read.sum() != given.sum():
        return col, None
    day = parts[0].fillna("1").str.zfill(2)
    iso = parts[2] + "-" + number.astype("Int64").astype("string").str.zfill(2) + "-" + day + parts[3].fillna("")
    return iso.astype(object).where(given, None).set_axis(col.index), str(col[given].iloc[0]).strip()


__all__ += ["MONTH_NAMES", "named_month_dates"]


# Day, month and a four-digit year separated by '/', '.' or '-' (what Excel and HR systems write for a UK
# locale), maybe with a time. An ISO date (four digits first) never matches.
_DAY_MONTH_YEAR = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})((?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)\s*$"
_DAY_DASH = re.compile(r"\s*\d{1,2}-")   # a first value opening so: the column may be DD-MM-YYYY


def _dashed_day_first(col: pd.Series) -> bool:
    """True when the first value given opens with a day and a '-' (13-05-2015): every value of an ISO column holds a
    '-' too, so only this one value is looked at before the column is scanned (one column, one format)."""
    given = col.notna().to_numpy()
    return bool(given.any()) and _DAY_DASH.match(str(col.iloc[int(given.argmax())])) is not None


def day_first_dates(col: pd.Series) -> tuple[pd.Series, str | None]:
    """``col`` with its DD/MM/YYYY dates rewritten as YYYY-MM-DD when the column plainly is day-first, and a
    value that shows it (None, and ``col`` unchanged, when it is not).

    Plainly day-first: every value given is written D/M/YYYY (or with '.' or '-'), at least one has a first part
    above 12 (only a day can be: '23/01/2021') and none a second part above 12 (a month-first value). One
    column, one format, as an export writes it; a column where no day passes 12 ('01/02/2024') could be read
    either way and is left alone, so validation reports it as not a date. Vectorised; a column of ISO dates
    is only scanned.

    >>> day_first_dates(pd.Series(["23/01/2021", "08/03/2018", None]))[0].tolist()
    ['2021-01-23', '2018-03-08', None]
    >>> day_first_dates(pd.Series(["01/02/2024", "03/04/2024"]))[1] is None
    True
    """
    if not (_text_holds(col, "/", ".") or _dashed_day_first(col)):
        return col, None
    parts = col.astype("string").str.extract(_DAY_MONTH_YEAR)
    given = col.notna().to_numpy()
    if parts[0].notna().to_numpy().sum() != given.sum():
        return col, None   # another format in the column as well: not one export's format
    day_only = (pd.to_numeric(parts[0]) > 12).to_numpy(dtype=bool, na_value=False)
    if not day_only.any() or (pd.to_numeric(parts[1]) > 12).any():
        return col, None
    iso = parts[2] + "-" + parts[1].str.zfill(2) + "-" + parts[0].str.zfill(2) + parts[3].fillna("")
    example = col[day_only].iloc[0]
    return iso.astype(object).where(given, None).set_axis(col.index), str(example).strip()


__all__ += ["day_first_dates"]


# An ISO date followed by a time of day, maybe with seconds, their fraction and a time zone (how HR systems and
# Excel export a date-time field: '2021-03-31 23:30', '2021-03-31T23:30:00Z', '2021-03-31T00:30:00+01:00').
_DATE_AND_TIME = r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$"
_MIDNIGHT = r"^0?0:00(?::00(?:\.0+)?)?$"
_NS_PER_DAY = 86_400 * 10**9


def dates_without_time(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``col`` (text, or timestamps from Parquet) with the time of day taken off its dates, and the positions of
    the values whose time was not midnight.

    A date counts whole days: 'start 2021-03-31 23:30' started on 31 March, so the time must not move it past a
    month's end or a snapshot (a change dated on a snapshot's date counts from the next one). The day is the one
    written; a time zone is not converted (midnight in British Summer Time written in UTC would move the date
    back a day). Text is scanned only when a value holds ':'.

    >>> col, timed = dates_without_time(pd.Series(["2021-03-31 23:30", "2021-04-01", "2021-04-02T00:00:00Z"]))
    >>> col.tolist(), timed.tolist()
    (['2021-03-31', '2021-04-01', '2021-04-02'], [0])
    """
    if pd.api.types.is_datetime64_any_dtype(col):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_localize(None)   # the local date and time as written, not converted to UTC
        # nanoseconds into the day, on the integers: a clean column costs one pass, no normalised copy
        ns = col.to_numpy(dtype="datetime64[ns]").view("int64")
        timed = np.flatnonzero((ns % _NS_PER_DAY != 0) & col.notna().to_numpy())
        return (col.dt.normalize() if timed.size else col), timed
    if not _text_holds(col, ":"):
        return col, np.array([], dtype="int64")
    parts = col.astype("string").str.extract(_DATE_AND_TIME)
    dated = parts[0].notna().to_numpy()
    timed = dated & ~parts[1].str.match(_MIDNIGHT).to_numpy(dtype=bool, na_value=False)
    out = col.astype(object).copy()
    out[dated] = parts.loc[dated, 0].astype(object)
    return out, np.flatnonzero(timed)


__all__ += ["dates_without_time"]


def code_key(values: pd.Series) -> pd.Series:
    """Codes reduced for comparison: lower case, runs of spaces, '-' and '_' as one '_' ('Fixed Term ' -> 'fixed_term')."""
    return values.astype("string").str.strip().str.lower().str.replace(r"[\s_\-]+", "_", regex=True)


def read_codes(col: pd.Series, allowed) -> tuple[pd.Series, dict]:
    """``col`` with each value that is an ``allowed`` code but for case, spaces around it, or spaces and '-'
    for '_' replaced by that code, and ``{value as written: code}`` for those.

    HR systems export display labels ('Permanent', 'Fixed Term', 'Female'); the codes are a closed list and no
    two reduce alike, so each such label is one code. Anything else is left as written (validation reports
    it). Works on the distinct values, so a long column costs one ``unique``.

    >>> read_codes(pd.Series(["Permanent", "fixed term", "agency", "volunteer"]), ["permanent", "agency", "fixed_term"])[1]
    {'Permanent': 'permanent', 'fixed term': 'fixed_term'}
    """
    if allowed is None or col.isna().all():
        return col, {}
    codes = pd.Series(list(allowed), dtype="string")
    by_key = dict(zip(code_key(codes), codes))
    distinct = pd.Series(col.dropna().unique()).astype("string")
    distinct = distinct[~distinct.isin(codes)]
    meant = dict(zip(distinct, code_key(distinct).map(by_key)))
    mapping = {str(k): str(v) for k, v in meant.items() if pd.notna(v)}
    if not mapping:
        return col, {}
    return col.astype(object).replace(mapping), mapping


__all__ += ["code_key", "read_codes"]


# A number as a UK export writes it: maybe a minus and a pound sign, digits grouped in threes by commas, decimals.
_UK_NUMBER = r"^\s*(-?)\s*£?\s*(-?)\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*$"


def plain_numbers(col: pd.Series) -> tuple[pd.Series, str | None]:
    """``col`` with values written with a pound sign or thousands separators ('£38,192.00', '254,200') as plain
    numbers ('38192.00', '254200'), and the first such value (None, and ``col`` unchanged, when there is none
    or the column is not plainly written that way).

    Plainly: every value holding ',' or '£' is a number grouped in threes (a '£' in front allowed). One value
    that is not (a decimal comma, '57750,5') leaves the whole column as written, for validation to report:
    then '1,234' in it could be 1.234. A column of plain numbers is only scanned.

    >>> plain_numbers(pd.Series(["£38,192.00", "1,234", "12.5"]))[0].tolist()
    ['38192.00', '1234', '12.5']
    >>> plain_numbers(pd.Series(["1,234", "57750,5"]))[1] is None
    True
    """
    if not _text_holds(col, ",", "£"):
        return col, None
    text = col.astype("string")
    marked = text.str.contains(r"[,£]", regex=True).to_numpy(dtype=bool, na_value=False)
    parts = text[marked].str.extract(_UK_NUMBER)
    if parts[2].isna().any():
        return col, None
    minus = ((parts[0] == "-") | (parts[1] == "-")).to_numpy(dtype=bool, na_value=False)
    plain = np.where(minus, "-", "") + (parts[2].str.replace(",", "", regex=False) + parts[3].fillna("")).to_numpy(dtype=object)
    out = col.astype(object).copy()
    out[marked] = plain
    return out, str(text[marked].iloc[0]).strip()


__all__ += ["plain_numbers"]


def unpadded_ids(col: pd.Series) -> tuple[pd.Series, str | None]:
    """``col`` with spaces around its values taken off, and the first value so written (None, and ``col``
    unchanged, when there is none).

    Database exports pad fixed-width text columns ('W0000001  '), and spreadsheet cells keep a space typed
    after a value; an id is compared exactly, so one padded table made every row of every table pointing at it
    a foreign-key error whose hint was to add the spaces there. No id means anything by a space around it.
    Works on the distinct values, so a long column costs one ``unique``.

    >>> col, first = unpadded_ids(pd.Series(["W001 ", " W002", "W003"]))
    >>> col.tolist(), first
    (['W001', 'W002', 'W003'], 'W001 ')
    """
    if col.isna().all() or not (pd.api.types.is_string_dtype(col) or col.dtype == object):
        return col, None
    distinct = pd.Series(col.dropna().unique()).astype("string")
    padded = distinct[distinct != distinct.str.strip()]
    if padded.empty:
        return col, None
    mapping = {str(v): str(v).strip() for v in padded}
    return col.astype(object).replace(mapping), str(padded.iloc[0])


__all__ += ["unpadded_ids"]


def coerce_types(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Cast the columns of ``frame`` that ``schema`` declares to their declared types."""
    out = frame.copy()
    for spec in schema.columns:
        if spec.name not in out:
            continue
        col = out[spec.name]
        if spec.type in ("date", "month"):
            col = named_month_dates(unpadded_dates(col), month=spec.type == "month")[0]
            col = dates_without_time(day_first_dates(col)[0])[0]
            col = pd.to_datetime(col, format="mixed" if col.dtype == object or pd.api.types.is_string_dtype(col) else None)
            if spec.type == "month":
                col = col.dt.to_period("M").dt.to_timestamp()
            out[spec.name] = col.astype("datetime64[ns]")
        elif spec.type == "integer":
            col = plain_numbers(col)[0]
            num = pd.to_numeric(col) if pd.api.types.is_numeric_dtype(col) else to_float(col)
            out[spec.name] = num.astype("Int64") if spec.nullable or num.isna().any() else num.astype("int64")
        elif spec.type == "float":
            out[spec.name] = to_float(plain_numbers(col)[0])
        elif spec.type == "boolean":
            out[spec.name] = parse_boolean(col)
        else:
            if spec.name in schema.id_columns:
                col = unpadded_ids(col)[0]
            if not spec.list_separator:
                col = read_codes(col, spec.allowed_values())[0]
            out[spec.name] = col.astype("string").astype(object).where(col.notna(), None)
    return out


def read_tables(data_dir: str | Path, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read every present table of ``data_dir`` (or only ``tables``), typed by its schema.

    Tables whose file is absent are left out of the result; a missing required
    table raises ``FileNotFoundError`` naming it.

    Example
    -------
    >>> frames = read_tables("data_schema/examples/council_small")  # doctest: +SKIP
    >>> frames["workers"].dtypes["start_date"]                       # doctest: +SKIP
    dtype('<M8[ns]')
    """
    schemas = load_schemas()
    names = list(tables) if tables is not None else list(schemas)
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        path = find_table_file(Path(data_dir), name)
        if path is None:
            if schemas[name].required:
                raise FileNotFoundError(f"{data_dir}: required table {name!r} not found (expected {name}.csv, {name}.xlsx or {name}.parquet)")
            continue
        both = two_formats(Path(data_dir), name)
        if both:
            raise ValueError(f"{data_dir}: {two_formats_message(both)}")
        out[name] = coerce_types(_read_raw(path, schemas[name]), schemas[name])
    return out


def temp_beside(target: str | Path, suffix: str) -> Path:
    """A new empty file beside ``target`` (its folder created), with the permissions a plain new file gets.

    mkstemp makes the file private (0600), and a rename keeps that: a list a manager's team shares
    would become readable by its writer only.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


@contextmanager
def atomic_path(target: str | Path):
    """Yield a temporary path beside ``target``; on success move it into place, on error remove it.

    Readers never see a half-written file.
    """
    tmp = temp_beside(target, ".tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


NOTE_KEY = b"note"   # Parquet file metadata key of write_table's ``note``


def write_table(frame: pd.DataFrame, path: str | Path, *, note: str | None = None) -> Path:
    """Write ``frame`` to ``path`` (``.csv`` or ``.parquet``) atomically. Dates are written as ISO dates.

    ``note`` is one line people must read with the rows (files of per-person risks say that predictions
    never decide anything): a CSV opens with it as a '#' line, as the risk lists do (read the file back
    with ``pd.read_csv(path, comment="#")``); a Parquet file keeps it in its metadata under :data:`NOTE_KEY`.
    """
    path = Path(path)
    note = None if note is None else " ".join(str(note).split())   # a '#' line ends at the first line break
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet" and note is None:
            frame.to_parquet(tmp, index=False)
        elif path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pyarrow.Table.from_pandas(frame, preserve_index=False)
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), NOTE_KEY: note.encode("utf-8")})
            pq.write_table(table, tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                if note is not None:
                    fh.write(f"# {note}\n")
                frame.to_csv(fh, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    return path


class StagedFiles:
    """Several output files that must change together: write each to :meth:`path`, then :meth:`commit`.

    Each temporary sits beside its target (same folder, so the move is a rename) and ends in the target's
    suffix (writers that choose a format by suffix still work). Nothing is moved until every file is
    written, so a failure half-way (disk full) leaves the previous set of files intact and mutually
    consistent. Use through :func:`staged_files`.
    """

    def __init__(self) -> None:
        self.targets: list[Path] = []
        self._temps: list[Path] = []

    def path(self, target: str | Path) -> Path:
        """A new temporary path for ``target`` (created empty; the caller writes it)."""
        target = Path(target)
        tmp = temp_beside(target, f".tmp{target.suffix}")
        self.targets.append(target)
        self._temps.append(tmp)
        return tmp

    def commit(self) -> list[Path]:
        for tmp, target in zip(self._temps, self.targets):
            os.replace(tmp, target)
        self._temps = []
        return list(self.targets)

    def discard(self) -> None:
        for tmp in self._temps:
            tmp.unlink(missing_ok=True)
        self._temps = []


@contextmanager
def staged_files():
    """Yield a :class:`StagedFiles`; on success move every file into place, on error remove the temporaries.

    Example
    -------
    >>> with staged_files() as stage:                           # doctest: +SKIP
    ...     write_table(frame, stage.path("out/scores.parquet"))
    ...     stage.path("out/meta.json").write_text("{}")
    """
    with _committed(StagedFiles()) as stage:
        yield stage


@contextmanager
def _committed(stage):
    """Yield ``stage``; commit it when the block ends normally, discard it on any exception (Ctrl-C included)."""
    try:
        yield stage
        stage.commit()
    except BaseException:
        stage.discard()
        raise


STAGING_PREFIX = ".retention-ml-staging-"   # + "<pid>-<random>": one hidden folder per rank call, inside OUT


class StagingFolder:
    """Every file of one call, written into one hidden folder inside OUT, then moved into place together.

    One folder rather than a temporary beside each target, so an interrupted call leaves one thing behind,
    never hundreds of hidden per-person lists among the real ones: :meth:`discard` removes it on any exit
    Python sees (an error, Ctrl-C, and SIGTERM through :func:`terminate_as_exit`), and a call killed outright
    (SIGKILL, power cut) leaves it to the next call into OUT, which removes the folders of processes no longer
    running (:func:`remove_stale_staging`; the pid is in the name). Same interface as :class:`StagedFiles`.
    """

    def __init__(self, out_dir: Path) -> None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(out_dir)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
        self.targets: list[Path] = []

    def path(self, target: str | Path) -> Path:
        """Where to write ``target`` now (inside the staging folder, same suffix: writers choose by it)."""
        self.targets.append(Path(target))
        return self.folder / f"{len(self.targets)}_{Path(target).name}"

    def commit(self) -> list[Path]:
        for i, target in enumerate(self.targets, 1):   # same file system (inside OUT): each move is a rename
            os.replace(self.folder / f"{i}_{target.name}", target)
        self.discard()
        return list(self.targets)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's process: running
        return True
    return True


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Remove staging folders in ``out_dir`` left by calls whose process is gone; returns those removed.

    A folder whose process still runs is another call at work and is left alone.
    """
    removed = []
    for folder in Path(out_dir).glob(f"{STAGING_PREFIX}*"):
        pid = folder.name[len(STAGING_PREFIX):].split("-")[0]
        if folder.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


@contextmanager
def folder_lock(folder: Path):
    """Hold an exclusive lock on ``folder`` while inside (waits for another holder; a folder lock leaves no file
    behind). Where the system has no ``flock`` (Windows) nothing is locked."""
    try:
        import fcntl
    except ImportError:
        fcntl = None
    fd = os.open(Path(folder), os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # closing releases the lock


@contextmanager
def staging_folder(out_dir: Path):
    """Yield a :class:`StagingFolder` in ``out_dir``; on success move every file into place, else remove it."""
    with _committed(StagingFolder(out_dir)) as stage:
        yield stage


__all__ += ["STAGING_PREFIX", "StagedFiles", "StagingFolder", "folder_lock", "remove_stale_staging", "staged_files",
            "staging_folder"]
