"""Validate a folder of HR extracts against the declarative schemas in ``data_schema/``.

Every problem is collected in one pass, never only the first: for each table
the validator checks the file can be read (present, not empty, UTF-8, well
formed CSV), its header (missing required columns are errors, unknown columns
warnings), that each value parses as its declared type, then runs a pandera
``DataFrameSchema`` built from the table's :class:`~retention_ml.schema.TableSchema`
(nullability, allowed values including ``;``-separated lists, min/max, dates
not after ``as_of``, unique primary key) with ``lazy=True``, and finally the
declared row checks (for example ``end_date >= start_date``), foreign keys
across tables and, as warnings, rows dated outside their worker's spell
(tables declaring ``within_spell``). All checks are vectorised over the whole table.
A value that failed its own check (empty, or would not parse) is left out of the
key, row and cross-table checks: one problem, one record. Messages add the fix
declared in the schema (``hints:`` per rule, on a table or a column), a near
match for a missing column ("Worker ID" for worker_id), and one ``date_format``
record when a date column is mostly written DD/MM/YYYY.

Each problem becomes one record with ``severity`` (``error`` or ``warning``),
``table``, ``file``, ``row`` (1-based data record: the header and blank lines
not counted; empty for file- or column-level problems), ``line`` (line of a CSV
file, header is line 1; given only when it is certain: the file has one line per
record, or the parser names the line of a bad row or byte; empty for Parquet),
``column``,
``rule``, ``value`` and a plain-words ``message``.

Example
-------
>>> from retention_ml.validation import validate_dir
>>> report = validate_dir("data_schema/examples/council_small", as_of="2025-07-01")  # doctest: +SKIP
>>> report.ok                                                                        # doctest: +SKIP
True
>>> report.raise_for_errors()   # raises DataValidationError when a problem was found  # doctest: +SKIP

Training, scoring and explaining call :func:`read_validated` so bad data stops them with a
:class:`DataValidationError` whose ``report`` lists every problem; it reads each file once, typing the
tables validation read exactly as :func:`retention_ml.io.read_tables` would.
"""

from __future__ import annotations

import io
import json
import operator
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from retention_ml import io as tables_io
from retention_ml.io import BOOLEAN_WORDS, EXCEL_ERRORS, SUFFIXES, find_table_file, parse_boolean, to_float
from retention_ml.schema import ColumnSpec, TableSchema, load_schemas

__all__ = [
    "DataValidationError",
    "FAILURE_COLUMNS",
    "SHOWN_ROWS",
    "group_failures",
    "ValidationReport",
    "build_pandera_schema",
    "read_validated",
    "read_validated_readings",
    "forgiving_readings",
    "identifying_id_warnings",
    "IDENTIFYING_ID_RULES",
    "FORGIVING_RULES",
    "validate_dir",
    "validate_frames",
    "coverage_gaps",
    "MISSING_MARKERS",
]

FAILURE_COLUMNS = ["severity", "table", "file", "row", "line", "column", "rule", "value", "message"]

# A table with a row every month (``every_month: true``: caseload, housing costs, agency rates) whose latest row for a council is
# more than this many months before the as-of date was not refreshed: its rolling windows read old or no values.
# Three, not one: a council's last month can be late from its case system without anything being wrong.
STALE_MONTHS = 3

# Rows after a gap in a table declared every_month are named one by one up to this many (a mistyped year or two);
# more than that is a block of months the export holds apart from the rest, named once.
STRAY_ROWS = 20
# The last month of a table with a row per worker and month is thin when it holds fewer rows than this share of
# the median month of the year before it; only checked when that median is at least THIN_MIN_ROWS, so a team of
# a few people losing one is never "thin".
THIN_SHARE = 0.5
THIN_MIN_ROWS = 20
# A leaving date more than this many months after the last caseload month is a warning: notice periods run to
# three months, so a date a year or more ahead is more likely a mistyped year than a resignation already given.
FAR_AHEAD_MONTHS = 12

# Plain-words rule names used in records and documented in data_schema/README.md.
RULES = {
    "missing_table": "a required table has no file",
    "empty_file": "the file has no header or no data rows",
    "encoding": "the file is not UTF-8 text: an error, or a warning when it is plainly Windows-1252 (Excel's 'CSV (Comma delimited)') and was read as that",
    "csv_format": "the file is not well-formed CSV",
    "parquet_format": "the file cannot be read as Parquet",
    "unreadable": "the file cannot be opened (no permission, or a folder with a table's name)",
    "missing_column": "a required column is absent",
    "unknown_column": "a column the schema does not declare (warning)",
    "column_name": "a header that is a declared column's name but for case, spaces or punctuation ('Start Date ', 'WORKER_ID'); read as that column (warning)",
    "duplicate_column": "the header names a column twice; only the first is read (a warning when the schema does not declare it)",
    "unknown_file": "a data file that is no declared table (warning)",
    "duplicate_file": "a table given both as CSV and Parquet: Parquet is used (warning); a table given as an Excel workbook and in another format: an error naming both",
    "xlsx_format": "an Excel workbook that cannot be read, holds several sheets with values and none named after the table, has merged header cells, or ends in a totals row",
    "xlsx_cell": "an Excel date cell in a column that is not a date (an id or code Excel turned into a date), a number in a text column shown through its number format as other text (1 shown as T001) or rounded, an empty cell of merged cells, or a cell showing Excel's error for a failed formula (#N/A), naming the cell",
    "xlsx_formula": "a formula cell saved without its value (a workbook written by a program and never saved in Excel), naming the cell",
    "leading_zeros": "in a workbook's text column (an id, a code), whole numbers formatted with zeros alone ('00000') to show leading zeros: read as Excel shows them, 123 as 00123 (warning, one per column)",
    "hidden_rows": "a workbook's data rows hidden in Excel (by a filter or by hand): read like every other row, since hiding a row does not leave it out of the file (warning, one per sheet, naming the Excel rows)",
    "hidden_columns": "a workbook's columns that are read but hidden in Excel: read like every other column, since hiding a column does not leave it out of the file (warning, one per sheet, naming the columns)",
    "excel_error": "a text value that is Excel's error for a failed formula ('#N/A', '#REF!'): a lookup or formula that failed before the export, never an id, code or name; one error per value, read as empty",
    "type": "a value does not parse as the column's type (or is a number too large to hold)",
    "date_format": "a column's dates are written DD/MM/YYYY: a warning when they were read day first (every value D/M/YYYY, D.M.YYYY or D-M-YYYY, a day above 12 in one, no month above 12); otherwise an error, one per column beside each value's type error, since 01/02/2024 reads either way; also a warning when every date is written with the month's name and a four-digit year (03-May-2021) and was read as such",
    "date_time": "dates written with a time of day other than midnight ('2021-03-31 23:30'): each read as the day written, the time (and any time zone) left out, so it never moves a date to another day, month or snapshot (warning, one per column); a midnight time is the date itself",
    "date_range": "a date before 1900-01-01 or after 2100-12-31 (placeholders such as 9999-12-31 included)",
    "not_null": "a value is missing where the column requires one",
    "empty_row": "a row with every field empty between data rows (one record, instead of one per required column)",
    "repeated_header": "a data row whose every field is its column's name (two exports pasted or files joined, each with its header): one record for the row, instead of one per column",
    "totals_row": "the last data row of a CSV opens with 'Total' (or 'Grand total', 'Sum'): a report's sums saved under the data, one record for the row, instead of one per column it breaks (a workbook's totals row is xlsx_format)",
    "spreadsheet_residue": "empty rows after the last data row, or empty columns with no header name, as spreadsheets save them: left out (warning)",
    "allowed": "a value outside the column's allowed values",
    "number_format": "numbers written with a pound sign or commas grouping thousands ('£38,192.00'): read as plain numbers when every such value in the column is written that way (warning, one per column)",
    "id_spaces": "an id or key value (worker_id, team_id, area, ...) with spaces before or after it: read without them, in every table alike (warning, one per column)",
    "code_spelling": "a value that is an allowed code but for case, spaces around it or spaces and '-' for '_' ('Fixed Term'): read as that code (warning, one per column)",
    "min": "a value below the column's minimum",
    "max": "a value above the column's maximum",
    "not_after_as_of": "a date after the as-of date",
    "duplicate_key": "a primary key repeated",
    "row_check": "a comparison between two columns of the row fails",
    "name_in_id": "an id holds the same row's name (display_name); ids must be pseudonymous codes (values not shown)",
    "name_like_id": "an id looks like a person's name: letters either side of a space (warning; value not shown)",
    "number_like_id": "a worker id of digits alone, as HR and payroll systems number their staff; ids must be pseudonymous codes, never payroll or staff numbers (warning; value not shown)",
    "ni_number_like_id": "a worker id in the form of a National Insurance number (two letters, six digits, a letter A to D); ids must be pseudonymous codes (warning; value not shown)",
    "path_characters": "an id holds \"/\", \"\\\" or \"..\": files named after it get a cleaned name (warning)",
    "foreign_key": "a value with no matching row in the referenced table",
    "month_gap": "a table with a row per worker and month (caseload_history) with no row at all for a month between its first and last month: a month missing from the export (one error naming the months), or rows that stand apart after such a gap, as a mistyped year does (one error per row, up to " + str(STRAY_ROWS) + " rows)",
    "thin_last_month": "the last month of a table with a row per worker and month (caseload_history) holds fewer than half the rows of the months before it: a month exported before it was complete, or a mistyped month; the end of the data is read from that month, so training would count the people in post up to it as stayers (warning: scoring reads nothing from its own month on)",
    "council_ends_early": "a council's caseload_history ends before the other councils' in a pooled extract: the end of the data is read from the last month of all of them, so training would count that council's people in post after its own last month as stayers, whether or not they left (warning)",
    "leaving_far_ahead": f"a workers end_date more than {FAR_AHEAD_MONTHS} months after the last caseload month: a mistyped year? Such a person is scored but left out of every list (leaving_date_recorded) (warning)",
    "interview_without_leaving": "an exit interview for a spell with no end_date in workers (left out of the exit-interview alignment, which reads leavers only; after a rehire the interview belongs to the old spell), or dated before the spell's start (warning)",
    "outside_spell": "a worker's row dated in a month before the spell's start month or after its end month (warning)",
    "no_recent_rows": f"with --as-of, a table declared every_month whose latest row for a council is more than {STALE_MONTHS} months before it: the features it feeds read old values or none (warning)",
    "history_disagrees": "a team's latest team_history value for a column is not the value teams holds as current, or a worker's latest fte_history row not workers.fte: one of the two is out of date (warning)",
    "history_starts_late": "a team's first team_history value for a column is dated after the first caseload month, or a worker's first fte_history row after the later of the spell's start and the first caseload month: snapshots before it read the current value in teams or workers (warning)",
    "no_rows_for_council": "a table given, but with no rows for a council's workers (before --as-of, for those in post then): the features it feeds are missing, or 0 for counts, for all of them (warning)",
}

# Names shorter than this (letters and digits) are not looked for inside ids: two-letter fragments (AL, JO) occur
# in ordinary codes, so they would stop good data.
MIN_NAME_CHARS = 3


def _alnum(values: pd.Series) -> np.ndarray:
    """Letters and digits only, lower case, missing as '' (so 'Jane.KHAN_3' reads 'janekhan3')."""
    text = values.astype("string").str.lower().str.replace(r"[\W_]+", "", regex=True)
    return np.asarray(text.to_numpy(dtype=object, na_value=""), dtype=str)


def _not_contains(left: pd.Series, right: pd.Series) -> pd.Series:
    """True where ``left`` does not hold ``right`` (letters and digits compared, case ignored), vectorised."""
    a, b = _alnum(left), _alnum(right)
    long_enough = np.strings.str_len(b) >= MIN_NAME_CHARS
    holds = (np.strings.find(a, b) >= 0) & (long_enough | ((a == b) & (b != "")))
    return pd.Series(~holds, index=left.index)


_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq, "!=": operator.ne,
        "not_contains": _not_contains}
_OP_TEXT = {"not_contains": "holds this row's"}
_TYPE_WORDS = {
    "integer": "a whole number",
    "float": "a number",
    "boolean": "true or false (" + "/".join(BOOLEAN_WORDS) + ")",
    "date": "a date (YYYY-MM-DD)",
    "month": "a month (YYYY-MM-01 or YYYY-MM)",
    "string": "text",
}
# Plausible dates for HR records; also keeps placeholders (9999-12-31, 0001-01-01) out of datetime64[ns],
# which cannot hold them.
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-12-31"))
_INT64_LIMIT = 2.0**63  # the first float past int64; larger whole numbers cannot be held as integers
_DTYPES = {"integer": "Int64", "float": "float64", "boolean": "boolean", "date": "datetime64[ns]", "month": "datetime64[ns]"}


class DataValidationError(ValueError):
    """Input data broke its schema; ``.report`` holds every problem found.

    Raised by :meth:`ValidationReport.raise_for_errors`, for scoring and training
    to stop before they use bad data.
    """

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.headline())


@dataclass
class ValidationReport:
    """Every problem found in one data folder, one record per problem.

    Attributes
    ----------
    failures : DataFrame
        Columns :data:`FAILURE_COLUMNS`; errors first, then by table and row.
    tables : dict
        Table name -> number of data rows read (tables that could be read).
    data_dir : str
        The folder validated.
    as_of : Timestamp or None
        Dates after this day are errors for columns declared ``not_after_as_of``.
    truncated : bool
        True when ``max_errors`` cut the list short.
    counts : DataFrame or None
        Problems counted by table, rule and severity over everything found, before any cut
        (what :meth:`summary` returns); None means count ``failures``.
    """

    failures: pd.DataFrame
    tables: dict[str, int] = field(default_factory=dict)
    data_dir: str = ""
    as_of: pd.Timestamp | None = None
    truncated: bool = False
    counts: pd.DataFrame | None = None

    @property
    def errors(self) -> pd.DataFrame:
        return self.failures[self.failures["severity"] == "error"]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.failures[self.failures["severity"] == "warning"]

    @property
    def ok(self) -> bool:
        """True when no errors were found (warnings allowed)."""
        return self.errors.empty

    def totals(self) -> tuple[int, int]:
        """(errors, warnings) found, all of them, also when the list was cut to ``max_errors``."""
        summary = self.summary()
        by = summary.groupby("severity")["count"].sum() if len(summary) else pd.Series(dtype="int64")
        return int(by.get("error", 0)), int(by.get("warning", 0))

    def headline(self) -> str:
        n_err, n_warn = self.totals()
        state = "valid" if self.ok else "NOT valid"
        listed = f" (first {len(self.failures)} listed)" if self.truncated else ""
        return f"{self.data_dir}: {state}: {n_err} error(s), {n_warn} warning(s) in {len(self.tables)} table(s) read{listed}"

    def summary(self) -> pd.DataFrame:
        """Problems counted by table, rule and severity (one row each), largest first; complete even when cut."""
        return self.counts if self.counts is not None else count_failures(self.failures)

    def to_dict(self) -> dict:
        """The report as plain data; each failure record also holds ``excel_row``: for a workbook the row Excel shows
        (its ``line``: data row r is Excel row r + 1), for other files None."""
        records = self.failures.astype(object).where(self.failures.notna(), None).to_dict(orient="records")
        for record in records:
            record["excel_row"] = record["line"] if str(record["file"]).endswith(tables_io.EXCEL) else None
        return {
            "data_dir": self.data_dir,
            "as_of": None if self.as_of is None else self.as_of.date().isoformat(),
            "ok": self.ok,
            "n_errors": self.totals()[0],
            "n_warnings": self.totals()[1],
            "truncated": self.truncated,
            "n_listed": int(len(self.failures)),
            "counts": self.summary().to_dict(orient="records"),
            "tables": dict(self.tables),
            "failures": records,
        }

    def to_json(self, **kwargs) -> str:
        """The report as JSON: ``ok``, counts, rows per table and every failure record."""
        return json.dumps(self.to_dict(), default=str, **kwargs)

    def raise_for_errors(self) -> None:
        """Raise :class:`DataValidationError` when the data has errors."""
        if not self.ok:
            raise DataValidationError(self)

    def grouped(self) -> pd.DataFrame:
        """The problems to print: :attr:`failures` with each problem repeated on many rows folded into one record
        (:func:`group_failures`), and ``count``, the records each stands for."""
        return group_failures(self.failures)

    def __str__(self) -> str:
        lines = [self.headline()]
        listing = self.grouped()
        for rec in listing.head(20).itertuples(index=False):
            lines.append(f"  {rec.severity}: {rec.message}")
        if len(listing) > 20:
            lines.append(f"  ... and {int(listing['count'].iloc[20:].sum())} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------- records

_GROUP_KEY = ["severity", "table", "file", "column", "rule"]


def group_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """``failures`` (:data:`FAILURE_COLUMNS`) with each problem of one file, column and rule found on more than
    :data:`SHOWN_ROWS` records folded into its first record, and a ``count`` column (the records each stands for).

    A folded record's message says how many rows, names the first :data:`SHOWN_ROWS` (rows as every message
    numbers them: data records, the header not counted; a workbook's Excel rows beside them) and quotes the first
    record's message, which holds its value and the fix. Payroll numbers as ids or a month column written
    DD/MM/YYYY broke one rule on every row, and a 30,000-row file printed 30,000 lines before the counts. A few
    records of one rule are kept one each, with their own values. Records stay in order of their first record.

    >>> failures = pd.DataFrame({"severity": "error", "table": "t", "file": "t.csv", "row": range(1, 8), "line": range(2, 9),
    ...                          "column": "month", "rule": "type", "value": "01/05/2021", "message": "t row 1: month is ..."})
    >>> group_failures(failures)[["row", "count", "message"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'row': 1, 'count': 7, 'message': 't.csv column month: the same problem on 7 rows (rows 1, 2, 3, 4, 5 and 2 more);
      the first: t row 1: month is ...'}]
    """
    if failures.empty:
        return failures.assign(count=pd.Series(dtype="int64"))
    keys = failures[_GROUP_KEY].astype(object).where(failures[_GROUP_KEY].notna(), "")   # a file's own problems: no column
    groups = keys.groupby(_GROUP_KEY, sort=False)
    size, order = groups["rule"].transform("size").to_numpy(), groups.cumcount().to_numpy()
    many = size > SHOWN_ROWS
    out = failures[~many | (order == 0)].assign(count=np.where(many, size, 1)[~many | (order == 0)])
    if not many.any():
        return out.reset_index(drop=True)
    shown = many & (order < SHOWN_ROWS)
    # groups in order of their first record, as the folded records of ``out`` are: one message per group
    places = failures[shown].groupby([keys.loc[shown, k] for k in _GROUP_KEY], sort=False).agg(
        rows=("row", list), lines=("line", list), values=("value", list))
    folded = out.index[out["count"].to_numpy() > 1]
    out.loc[folded, "message"] = [_folded_message(out.loc[i], rows, lines, values) for i, rows, lines, values
                                  in zip(folded, places["rows"], places["lines"], places["values"])]
    return out.reset_index(drop=True)


def _folded_message(first: pd.Series, rows: list, lines: list, values: list) -> str:
    """``<file> column <column>: the same problem on N rows (rows 1, 2, 3, 4, 5 and N - 5 more); the first: ...``;
    records of no row or line (a council a table has no rows for) are named by their values when they have them."""
    n, more = int(first["count"]), int(first["count"]) - len(rows)
    if all(pd.notna(r) for r in rows):
        unit, shown = "rows", ", ".join(f"{int(r):,}" for r in rows)
        if str(first["file"]).endswith(tables_io.EXCEL) and all(pd.notna(x) for x in lines):
            shown += " (Excel rows " + ", ".join(f"{int(x):,}" for x in lines) + ")"
    elif all(pd.notna(x) for x in lines):
        unit, shown = "lines", ", ".join(f"{int(x):,}" for x in lines)
    else:
        unit, shown = "records", ", ".join(str(v) for v in values) if all(pd.notna(v) for v in values) else ""
    where = f" ({'' if unit == 'records' else unit + ' '}{shown} and {more:,} more)" if shown else ""
    column = f" column {first['column']}" if pd.notna(first["column"]) and first["column"] != "" else ""
    return f"{first['file']}{column}: the same problem on {n:,} {unit}{where}; the first: {first['message']}"


def _records(table: str, file: str, *, rows=None, column=None, rule: str, values=None, messages, severity="error", exact_lines=True, line=None) -> pd.DataFrame:
    """Failure records as a frame; ``rows`` are 0-based positions (None for file/column-level problems).

    ``exact_lines``: data row r is on file line r + 1 (a CSV file with one line per record); otherwise
    ``line`` is left empty. ``line`` gives the line of a file-level problem when the parser knows it (bad bytes, ragged row).
    """
    if rows is None:
        n = 1 if isinstance(messages, str) else len(messages)
        row = pd.array([pd.NA] * n, dtype="Int64")
    else:
        row = pd.array(np.asarray(rows, dtype="int64") + 1, dtype="Int64")
        n = len(row)
    if line is not None:
        line = pd.array([line] * n, dtype="Int64")
    else:
        line = (row + 1) if exact_lines else pd.array([pd.NA] * n, dtype="Int64")
    return pd.DataFrame(
        {
            "severity": severity,
            "table": table,
            "file": file,
            "row": row,
            "line": line,
            "column": column,
            "rule": rule,
            "value": pd.Series(values if values is not None else [None] * n, dtype=object).to_numpy() if n else [],
            "message": messages if not isinstance(messages, str) else [messages] * n,
        },
        index=range(n),
    )


def _fmt(values: pd.Series) -> pd.Series:
    """Values as short text for messages (dates as ISO dates)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype(object).fillna("(empty)")
    return values.astype(object).where(values.notna(), "(empty)").astype(str)


def _where(table: str, rows: np.ndarray) -> pd.Series:
    return pd.Series([f"{table} row "] * len(rows), dtype=object) + pd.Series(np.asarray(rows) + 1).map("{:,}".format).astype(object)


# --------------------------------------------------------------------------- reading


@dataclass
class _Raw:
    table: str
    file: str
    frame: pd.DataFrame | None
    exact_lines: bool  # a CSV file whose data row r is on line r + 1 (no blank lines, no line breaks inside values)
    failures: list[pd.DataFrame]
    row_map: np.ndarray | None = None  # 0-based data record of each frame row, when ragged rows were left out
    # The table as retention_ml.io's reader sees it, when ``frame`` differs from that (a Parquet file's own
    # index, a repeated column pandas renamed): typing this gives what read_tables returns, without a second read.
    as_read: pd.DataFrame | None = None


def _decode_problem(data: bytes) -> tuple[str, int] | None:
    """Plain-words description of why ``data`` is not UTF-8 and the line it is on, or None when it is UTF-8."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4]
        hint = ""
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            hint = " The file starts with a UTF-16 byte-order mark (Excel 'Unicode text'); save it as 'CSV UTF-8'."
        else:
            try:
                guess = bad[:1].decode("cp1252")
                hint = f" The byte looks like Windows-1252/Latin-1 ({guess!r}); save the file as 'CSV UTF-8'."
            except UnicodeDecodeError:
                pass
        return f"not valid UTF-8: byte {bad[:1]!r} at byte offset {exc.start:,} (line {line:,}).{hint}", line


_SKIPPED = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


def _ragged_records(table: str, file: str, found: np.ndarray) -> pd.DataFrame:
    """One csv_format record per line whose field count differs from the header's; ``found`` rows are
    (line, expected, saw), in line order."""
    lines, expected, saw = found[:, 0], found[:, 1], found[:, 2]
    hint = np.where(saw > expected, "; check for an unquoted comma", "; check for a missing comma or a row split over two lines")
    text = (pd.Series([f"{file} line "] * len(lines), dtype=object) + pd.Series(lines).map("{:,}".format)
            + " has " + pd.Series(saw).astype(str) + " fields but the header has " + pd.Series(expected).astype(str) + hint)
    out = _records(table, file, rule="csv_format", messages=text.tolist())
    out["line"] = pd.array(lines, dtype="Int64")
    return out


def _short_lines(data: bytes, frame: pd.DataFrame) -> np.ndarray:
    """(line, expected, saw) of every line with fewer fields than the header, for a file with one line per record.

    pandas fills a short row with missing values and says nothing, so a row cut short (or a ';' line in a ','
    file) would be reported as empty required values. Fields are counted on the bytes, vectorised: a comma
    separates fields only outside double quotes (quote parity; an escaped "" toggles twice).
    """
    last = frame.iloc[:, -1] if frame.shape[1] else pd.Series(dtype=object)
    if frame.shape[1] < 2 or not last.isna().any():
        return np.empty((0, 3), dtype="int64")  # a short row always leaves the last column empty
    b = np.frombuffer(data, dtype=np.uint8)
    outside = np.bitwise_xor.accumulate((b == ord('"')).view(np.uint8)) == 0
    ends = np.flatnonzero(b == ord("\n"))
    if len(b) and b[-1] != ord("\n"):
        ends = np.append(ends, len(b))
    starts = np.r_[0, ends[:-1] + 1]
    commas = np.searchsorted(ends, np.flatnonzero((b == ord(",")) & outside))
    fields = np.bincount(commas, minlength=len(ends)) + 1
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (b[np.maximum(ends - 1, 0)] == ord("\r")))  # pandas skips blank lines
    lines = np.flatnonzero(~blank) + 1
    fields = fields[~blank]
    expected = fields[0]
    short = np.flatnonzero(fields < expected)
    return np.column_stack([lines[short], np.full(len(short), expected), fields[short]]).astype("int64")


def _one_line_per_record(data: bytes, n_records: int) -> bool:
    """True when the file has exactly one line per record (header included), so data row r is on line r + 1.

    Blank lines and line breaks inside quoted values both add lines without adding records.
    """
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return n_lines == n_records + 1


_HEADER_SEARCH_LINES = 20   # how far down a report title or export note can push the header


def _header_below(table: str, data: bytes, first_line: list) -> int | None:
    """The line (2 or later) holding the table's header when line 1 holds none of its column names, or None.

    Report exports often open with a title or a run note ("HR extract run 01/12/2022"); the header then sits
    lower and every column reads as missing. A line counts as the header when it names at least half of the
    table's required columns (compared like :func:`_header_key`: case, spaces and punctuation ignored).
    """
    wanted = {_header_key(c.name) for c in load_schemas()[table].columns if c.required}
    if wanted & {_header_key(h) for h in first_line}:
        return None
    text = data.decode("utf-8", errors="replace").splitlines()[1:_HEADER_SEARCH_LINES]
    for number, line in enumerate(text, start=2):
        fields = {_header_key(f.strip().strip('"')) for f in line.split(",")}
        if len(wanted & fields) * 2 >= len(wanted):
            return number
    return None


def _read_csv(table: str, path: Path, data: bytes) -> _Raw:
    raw = _read_csv_rows(table, path, data)
    if raw.frame is None:
        return raw
    below = _header_below(table, data, list(raw.frame.columns))
    if below is not None:
        # The rows cannot be numbered or typed against a header they do not sit under: report this one fix.
        return _Raw(table, raw.file, None, True, [_records(table, raw.file, rule="csv_format", line=1, messages=(
            f"{raw.file}: the header is on line {below}, not line 1: delete the {below - 1} line(s) above it "
            "(a report title or export note) so the file starts with the column names"))])
    header = pd.read_csv(io.BytesIO(data), header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0].tolist()
    return _without_residue(_repeated_header(raw, header))


def _repeated_header(raw: _Raw, header: list) -> _Raw:
    """``raw`` reading only the first of a repeated header name, with one ``duplicate_column`` record per name."""
    # Blank header fields are spreadsheet residue when their column is empty (left out below), not a repeated name.
    repeated = pd.Series(header).duplicated(keep="first").to_numpy() & (pd.Series(header).str.strip() != "").to_numpy()
    if not repeated.any() or len(header) != raw.frame.shape[1]:
        return raw
    # pandas renames a repeated name ('role' -> 'role.1'), which would read as an unknown column and hide the cause.
    out = []
    for name in dict.fromkeys(h for h, r in zip(header, repeated) if r):
        at = [str(i + 1) for i, h in enumerate(header) if h == name]
        out.append(_records(raw.table, raw.file, column=name, rule="duplicate_column", line=1, messages=(
            f"{raw.file} line 1: the header names column {name} {len(at)} times (fields {', '.join(at)}); each "
            f"column must be named once: rename the extra column to what it holds, or delete it (only field {at[0]} is read)")))
    raw.as_read = raw.frame
    raw.frame = raw.frame.loc[:, ~repeated]
    raw.failures = out + raw.failures
    return raw


def _without_residue(raw: _Raw) -> _Raw:
    """``raw`` without the empty rows and unnamed empty columns a spreadsheet saves after the data
    (:func:`retention_ml.io.spreadsheet_residue`), and one ``spreadsheet_residue`` warning saying what was left out."""
    rows, columns = tables_io.spreadsheet_residue(raw.frame)
    if not rows and not columns:
        return raw
    raw.frame = raw.frame.iloc[: len(raw.frame) - rows].drop(columns=columns)
    if raw.as_read is not None:
        raw.as_read = tables_io.drop_spreadsheet_residue(raw.as_read)
    if raw.row_map is not None:
        raw.row_map = raw.row_map[: len(raw.frame)]
    what = " and ".join(x for x in (f"{rows:,} empty row(s) after the last data row" if rows else "",
                                    f"{len(columns):,} empty column(s) with no header name" if columns else "") if x)
    raw.failures = raw.failures + [_records(raw.table, raw.file, rule="spreadsheet_residue", severity="warning", exact_lines=raw.exact_lines,
                                            messages=f"{raw.file}: {what} left out (cells a spreadsheet saves as bare commas); "
                                                     "delete them in the export to make this warning go away")]
    return raw


def _read_csv_rows(table: str, path: Path, data: bytes) -> _Raw:
    file = path.name
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # Rows with too many fields are skipped with a warning naming each line, so every one is reported.
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", on_bad_lines="warn")
    except pd.errors.ParserError as exc:  # e.g. an unclosed quote
        return _Raw(table, file, None, True, [_records(table, file, rule="csv_format", messages=f"{file}: not well-formed CSV: {str(exc).strip()}")])
    if frame.shape[1] == 1 and len(data) > 0:
        sep = next((c for c in (";", "\t", "|") if c in str(frame.columns[0])), None)
        if sep is not None:
            # One header field holding the separator: the other checks would only list every column as missing.
            shown = "tab" if sep == "\t" else f"'{sep}'"
            return _Raw(table, file, None, True, [_records(table, file, rule="csv_format", line=1,
                        messages=f"{file} looks {shown}-separated (its header is one field: {str(frame.columns[0])[:60]!r}); save it as comma-separated CSV UTF-8")])
    skipped = "".join(str(w.message) for w in caught if issubclass(w.category, pd.errors.ParserWarning))
    # Lines with too many fields were skipped (pandas warns, naming each); (line, expected, saw) per line.
    long = np.array(_SKIPPED.findall(skipped), dtype="int64").reshape(-1, 3)
    n_records = len(frame) + len(long)
    exact = _one_line_per_record(data, n_records)
    short = _short_lines(data, frame) if exact else np.empty((0, 3), dtype="int64")
    if not len(long) and not len(short):
        return _Raw(table, file, frame, exact, [])
    found = np.concatenate([long, short])
    found = found[np.argsort(found[:, 0], kind="stable")]
    ragged = _ragged_records(table, file, found)
    if not exact:
        # Which record a skipped line was is unknown, so row numbers of the rest would be wrong: check the rest later.
        return _Raw(table, file, None, True, [ragged])
    # One line per record: line L is data record L - 2, so the remaining rows keep their own numbers.
    kept_by_pandas = np.setdiff1d(np.arange(n_records), long[:, 0] - 2)
    frame = frame.drop(index=frame.index[np.searchsorted(kept_by_pandas, short[:, 0] - 2)]).reset_index(drop=True)
    row_map = np.setdiff1d(np.arange(n_records), found[:, 0] - 2)
    return _Raw(table, file, frame, True, [ragged], row_map=row_map)


def _read_xlsx(table: str, path: Path) -> _Raw:
    """``table`` from a workbook (:func:`retention_ml.io.read_workbook`): every cell as text, data row r on Excel
    row r + 2 as on a CSV's line r + 2, so every later check and its row and line numbers are the CSV's."""
    file = path.name
    try:
        book = tables_io.read_workbook(path, table, load_schemas()[table])
    except Exception as exc:  # not a zip, a password-protected workbook (an OLE file), a damaged part ...
        return _Raw(table, file, None, True, [_records(table, file, rule="xlsx_format", messages=(
            f"{file}: cannot read it as an Excel workbook ({type(exc).__name__}: {exc}); save it from Excel as "
            "'Excel Workbook (*.xlsx)', without a password, or as 'CSV UTF-8'"))])
    failures = [_records(table, file, rule=p.rule, column=p.column, line=1 if p.row is None and p.cell else None,
                         rows=None if p.row is None else [p.row], values=[p.cell], messages=[p.message],
                         severity=p.severity)
                for p in book.problems.itertuples()]
    if book.frame is None:
        if not failures:
            failures = [_records(table, file, rule="empty_file", messages=f"{file}: no sheet holds any value: expected a header row and data rows")]
        return _Raw(table, file, None, True, failures)
    below = _sheet_header_below(table, book.frame)
    if below is not None:
        # As for a CSV: rows cannot be numbered or typed against a header they do not sit under; this one fix.
        return _Raw(table, file, None, True, [_records(table, file, rule="xlsx_format", line=1, messages=(
            f"{file}: the header is on Excel row {below}, not row 1: delete the {below - 1} row(s) above it "
            f"(a report title or export note) so the sheet ({book.sheet}) starts with the column names"))])
    return _repeated_header(_Raw(table, file, book.frame, True, failures), book.header)


def _sheet_header_below(table: str, frame: pd.DataFrame) -> int | None:
    """The Excel row (2 or later) holding the table's header when row 1 holds none of its column names, or None;
    :func:`_header_below`'s rule on a sheet's cells."""
    wanted = {_header_key(c.name) for c in load_schemas()[table].columns if c.required}
    if wanted & {_header_key(h) for h in frame.columns}:
        return None
    for i, values in enumerate(frame.head(_HEADER_SEARCH_LINES - 1).itertuples(index=False)):
        if len(wanted & {_header_key(v) for v in values if v is not None}) * 2 >= len(wanted):
            return i + 2
    return None


def _read_file(table: str, path: Path) -> _Raw:
    file = path.name
    if path.suffix == tables_io.EXCEL:
        return _read_xlsx(table, path)
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            return _Raw(table, file, None, False, [_records(table, file, rule="parquet_format", messages=f"{file}: cannot read Parquet file: {exc}", exact_lines=False)])
        # Copy-on-write: the renumbered frame shares its columns with the one kept as read.
        return _Raw(table, file, frame.reset_index(drop=True), False, [], as_read=frame)
    try:
        data = path.read_bytes()
    except OSError as exc:  # permission denied, a folder named like a table ...
        reason = exc.strerror or type(exc).__name__
        return _Raw(table, file, None, True, [_records(table, file, rule="unreadable", messages=f"{file} cannot be read: {reason}")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark is allowed (Excel writes one)
    if not data or data.isspace():
        return _Raw(table, file, None, True, [_records(table, file, rule="empty_file", messages=f"{file} is empty: expected a header line and data rows")])
    problem = _decode_problem(data)
    if problem:
        decoded = tables_io.windows_1252(data)
        if decoded is None:
            text, line = problem
            return _Raw(table, file, None, True, [_records(table, file, rule="encoding", messages=f"{file}: {text}{_mixed_hint(data)}", line=line)])
        raw = _read_csv(table, path, decoded.encode("utf-8"))   # same lines, so rows and lines keep their numbers
        raw.failures.insert(0, _windows_1252_note(table, file, data, decoded))
        return raw
    return _read_csv(table, path, data)


def _mixed_hint(data: bytes) -> str:
    """When a file that is not UTF-8 also holds UTF-8 characters, say where: two encodings mixed, nothing guessed."""
    found = tables_io._UTF8_CHAR.search(data)
    if found is None or b"\x00" in data:
        return ""
    line = data.count(b"\n", 0, found.start()) + 1
    return (f" It also holds UTF-8 text ({found.group().decode('utf-8')!r} on line {line:,}), so two encodings are mixed "
            "(exports pasted together?) and neither reading is safe: save each part as 'CSV UTF-8' before combining.")


def _windows_1252_note(table: str, file: str, data: bytes, decoded: str) -> pd.DataFrame:
    """The ``encoding`` warning for a file read as Windows-1252: how many lines it touched, the first, and the
    characters it gave (characters only: a value may be a name), so a misreading is seen."""
    b = np.frombuffer(data, dtype=np.uint8)
    lines = np.unique(np.searchsorted(np.flatnonzero(b == ord("\n")), np.flatnonzero(b >= 0x80)) + 1)
    chars = sorted({c for c in decoded if ord(c) > 127})
    shown = " ".join(chars[:12]) + (" ..." if len(chars) > 12 else "")
    return _records(table, file, rule="encoding", severity="warning", line=int(lines[0]), values=[shown], messages=(
        f"{file} is not UTF-8 and was read as Windows-1252 (what Excel's 'CSV (Comma delimited)' writes): "
        f"{len(lines):,} line(s) hold characters outside ASCII, the first on line {int(lines[0]):,}, read as {shown}; "
        "if any of these is wrong the file is in another encoding: save it as 'CSV UTF-8' (which also makes this warning go away)"))


# --------------------------------------------------------------------------- parsing


def _isin(values: pd.Series, reference: pd.Series) -> np.ndarray:
    """``values.isin(reference)`` as a bool array; Arrow's hash lookup for text (pandas' is slow on Arrow strings)."""
    if pd.api.types.is_string_dtype(values.dtype) and pd.api.types.is_string_dtype(reference.dtype):
        found = pc.is_in(pyarrow.array(values.astype("string"), from_pandas=True),
                         value_set=pyarrow.array(reference.astype("string").dropna().unique(), from_pandas=True))
        return found.to_numpy(zero_copy_only=False).astype(bool)
    return values.isin(reference.dropna().unique()).fillna(False).to_numpy(dtype=bool)


def _parse_column(raw: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """``raw`` cast to the declared type, the positions of values that would not parse, and of dates outside :data:`DATE_RANGE`.

    Both kinds of bad value become missing in the typed column, so later checks see only sound values.
    """
    kind = spec.type
    outside = np.array([], dtype="int64")
    if kind in ("date", "month"):
        if pd.api.types.is_datetime64_any_dtype(raw):
            typed = raw   # without a time zone or a time of day (retention_ml.io.dates_without_time)
        else:
            text = raw.astype("string")
            typed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        # Compared at the parsed resolution (seconds or microseconds), before the cast to nanoseconds overflows.
        far = (typed < DATE_RANGE[0]) | (typed > DATE_RANGE[1])
        outside = np.flatnonzero(far.to_numpy(dtype=bool, na_value=False))
        typed = typed.mask(far)
        if kind == "month":
            typed = typed.dt.to_period("M").dt.to_timestamp()
        typed = typed.astype("datetime64[ns]")
    elif kind in ("integer", "float"):
        if pd.api.types.is_bool_dtype(raw):
            raw = raw.astype("string")
        num = to_float(raw, errors="coerce")
        num = num.mask(~np.isfinite(num))  # 'inf' is no count or amount
        if kind == "integer":
            fractional = num.notna() & ((num % 1 != 0) | (num.abs() >= _INT64_LIMIT))
            num = num.mask(fractional)
            typed = num.astype("Int64")
        else:
            typed = num
    elif kind == "boolean":
        typed = parse_boolean(raw)  # the same vocabulary reading uses
    else:
        typed = raw.astype("string")
    bad = raw.notna().to_numpy() & typed.isna().to_numpy()
    bad[outside] = False
    return typed, np.flatnonzero(bad), outside


# --------------------------------------------------------------------------- pandera


def _list_allowed_check(allowed: tuple[str, ...], sep: str):
    allowed_set = list(allowed)

    def check(s: pd.Series) -> pd.Series:
        tokens = s.astype("string").str.split(sep).explode().str.strip()
        ok_token = tokens.isin(allowed_set) | (tokens == "")
        return ok_token.groupby(level=0).all().reindex(s.index, fill_value=True)

    return check


def build_pandera_schema(schema: TableSchema, *, as_of: pd.Timestamp | None = None, columns: list[str] | None = None) -> pa.DataFrameSchema:
    """A pandera ``DataFrameSchema`` for the typed frame of ``schema``'s table.

    Each check's ``error`` is our rule name (``allowed``, ``min``, ``max``,
    ``not_after_as_of``), so failures map back to plain words. ``columns``
    limits the schema to the columns present (missing ones are reported separately).

    Example
    -------
    >>> from retention_ml.schema import load_schemas
    >>> s = build_pandera_schema(load_schemas()["teams"])
    >>> sorted(s.columns)[:2]
    ['area', 'caseload_cap']
    """
    present = set(columns) if columns is not None else set(schema.column_names)
    cols: dict[str, pa.Column] = {}
    for spec in schema.columns:
        if spec.name not in present:
            continue
        checks = []
        allowed = spec.allowed_values()
        if allowed is not None:
            if spec.list_separator:
                checks.append(pa.Check(_list_allowed_check(allowed, spec.list_separator), error="allowed"))
            else:
                checks.append(pa.Check.isin(list(allowed), error="allowed"))
        if spec.min is not None:
            checks.append(pa.Check.ge(spec.min, error="min"))
        if spec.max is not None:
            checks.append(pa.Check.le(spec.max, error="max"))
        if spec.not_after_as_of and as_of is not None:
            checks.append(pa.Check.le(as_of, error="not_after_as_of"))
        cols[spec.name] = pa.Column(_DTYPES.get(spec.type), checks=checks, nullable=spec.nullable, required=False)
    key = [k for k in schema.primary_key if k in present]
    return pa.DataFrameSchema(
        cols,
        name=schema.name,
        unique=key if len(key) == len(schema.primary_key) else None,
        report_duplicates="exclude_first",
        strict=False,
    )


def _pandera_failures(raw: _Raw, schema: TableSchema, typed: pd.DataFrame, as_of, unparsed: dict[str, np.ndarray]) -> list[pd.DataFrame]:
    try:
        build_pandera_schema(schema, as_of=as_of, columns=list(typed.columns)).validate(typed, lazy=True)
        return []
    except SchemaErrors as exc:
        fc = exc.failure_cases
    out: list[pd.DataFrame] = []
    table, file = raw.table, raw.file
    # Column-level failures (no row) cannot come from values we typed ourselves; keep them visible anyway.
    for rec in fc[fc["index"].isna()].itertuples(index=False):
        out.append(_records(table, file, column=rec.column, rule="type", exact_lines=raw.exact_lines,
                            messages=f"{file}: column {rec.column} failed pandera check {rec.check} ({rec.failure_case})"))
    fc = fc[fc["index"].notna()].copy()
    fc["index"] = fc["index"].astype("int64")
    is_key = fc["check"].str.contains("uniqueness", regex=False)
    out += _duplicate_key_records(raw, schema, typed, fc.loc[is_key, "index"].to_numpy())
    fc = fc[~is_key]
    for (column, check), grp in fc.groupby(["column", "check"], sort=False):
        spec = schema.column(column)
        rows = grp["index"].to_numpy()
        where = _where(table, rows)
        if check == "not_nullable":
            # A value that would not parse is already reported as a type error; the null here is ours.
            rows = np.setdiff1d(rows, unparsed.get(column, np.array([], dtype="int64")))
            if rows.size == 0:
                continue
            rule, values = "not_null", [None] * rows.size
            msgs = _where(table, rows) + ": " + column + " is empty; a value is required" + _hint(spec.hints, rule)
        else:
            rule = check if check in RULES else "type"
            cells = typed.loc[rows, column]
            values = _fmt(cells).reset_index(drop=True)
            shown = ("'" + values + "'") if spec.type == "string" else values
            text = pd.Series(_rule_text(rule, spec, as_of), index=values.index, dtype=object)
            if rule == "allowed" and spec.list_separator:
                text = _unknown_codes(cells, spec).reset_index(drop=True) + text
            elif rule == "allowed":
                text = text + _export_advice(values, spec)
            msgs = where + ": " + column + " is " + shown.astype(object) + text + _hint(spec.hints, rule)
            values = values.tolist()
        out.append(_records(table, file, rows=rows, column=column, rule=rule, values=values, messages=msgs.tolist(), exact_lines=raw.exact_lines))
    return out


def _duplicate_key_records(raw: _Raw, schema: TableSchema, typed: pd.DataFrame, reported: np.ndarray) -> list[pd.DataFrame]:
    """duplicate_key records for the rows pandera found repeating an earlier key, each naming that earlier row.

    Rows with a key value missing are left out: the value is empty or would not parse, which is reported
    already (a DD/MM/YYYY month column would otherwise make every worker's rows "duplicates" of each other).
    """
    key_cols = schema.primary_key
    complete = typed[key_cols].notna().all(axis=1).to_numpy()
    rows = np.unique(reported)
    rows = rows[complete[rows]]
    if rows.size == 0:
        return []
    table, file = raw.table, raw.file
    # Every row of a repeated key, its key's first row and how many rows share the key (vectorised groupby).
    same = typed.loc[complete, key_cols]
    same = same[same.duplicated(keep=False)]
    position = pd.Series(same.index.to_numpy(), index=same.index)
    groups = position.groupby([same[c] for c in key_cols], sort=False)
    first, size = groups.transform("min").loc[rows].to_numpy(), groups.transform("size").loc[rows].to_numpy()
    record = raw.row_map[first] if raw.row_map is not None else first  # rows numbered as records of the file
    others = pd.Series(np.where(size > 2, " and " + pd.Series(size - 2).astype(str) + " other row(s)", ""), dtype=object)
    key_text = typed.loc[rows, key_cols].pipe(lambda k: k.apply(_fmt)).agg(", ".join, axis=1) if len(key_cols) > 1 else _fmt(typed.loc[rows, key_cols[0]])
    key_text = key_text.reset_index(drop=True)
    # A row repeating its key's first row in every column is a copy (an export appended twice, a join that repeated
    # rows): deleting it is the fix, which a row with other values does not tell.
    later, earlier = typed.loc[rows].reset_index(drop=True), typed.loc[first].reset_index(drop=True)
    # as "boolean" with NA as False: a nullable column's value against an empty cell compares NA, which all() skips
    copy = ((later == earlier).astype("boolean").fillna(False) | (later.isna() & earlier.isna())).all(axis=1).to_numpy(dtype=bool)
    copied = pd.Series(np.where(copy, "; every value repeats that row (an export appended twice, or a join that "
                                      "repeated rows): delete the repeated rows", _hint(schema.hints, "duplicate_key")), dtype=object)
    msgs = (_where(table, rows) + f": duplicate primary key ({', '.join(key_cols)}) = " + key_text.astype(object)
            + ", also on row " + pd.Series(record + 1).map("{:,}".format).astype(object) + others
            + "; each key must appear once" + copied)
    return [_records(table, file, rows=rows, column=", ".join(key_cols), rule="duplicate_key", values=key_text.tolist(), messages=msgs.tolist(), exact_lines=raw.exact_lines)]


def _unknown_codes(cells: pd.Series, spec: ColumnSpec) -> pd.Series:
    """For list columns: which of each cell's codes are not allowed, as "; 'x' is not allowed" text."""
    tokens = cells.astype("string").str.split(spec.list_separator).explode().str.strip()
    bad = tokens[~tokens.isin(list(spec.allowed_values())) & (tokens != "")]
    named = ("'" + bad.astype(object) + "'").groupby(level=0).agg(", ".join).reindex(cells.index, fill_value="")
    return ("; " + named + " not allowed").astype(object)


def _rule_text(rule: str, spec: ColumnSpec, as_of) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    if rule == "min":
        return "; must be 0 or more" if spec.min == 0 else f"; must be {spec.min:g}{unit} or more"
    if rule == "max":
        return f"; must be {spec.max:g}{unit} or less"
    if rule == "not_after_as_of":
        return f"; must not be after the as-of date {as_of.date().isoformat()}"
    if rule == "allowed":
        allowed = ", ".join(spec.allowed_values() or ())
        listed = f" (codes separated by '{spec.list_separator}')" if spec.list_separator else ""
        return f"; must be one of{listed}: {allowed}"
    return "; " + RULES.get(rule, rule)


def _hint(hints: Mapping[str, str], rule: str) -> str:
    """The schema's advice for ``rule`` (declared as ``hints:`` on the table or column) as a message tail, or ''."""
    text = hints.get(rule)
    return f"; {' '.join(str(text).split())}" if text else ""


# How exports write "no value" (Excel, HR and case systems); validation reads only an empty cell as missing, so
# these are named in the message rather than guessed at.
MISSING_MARKERS = ("n/a", "na", "#n/a", "n.a.", "-", "--", "null", "none", "nil", "nan", "?", "unknown")
_NOT_KNOWN = "not_known"   # the code the protected-characteristic columns take for "not recorded"
_THOUSANDS = r"^\s*[-+]?\d{1,3}(,\d{3})+(\.\d+)?\s*$"
_DECIMAL_COMMA = r"^\s*[-+]?\d+,\d{1,2}\s*$"


_code_key = tables_io.code_key   # the reader's own comparison: a label it reads as a code is never "did you mean" here


def _export_advice(values: pd.Series, spec: ColumnSpec, *, known: pd.Series | None = None) -> pd.Series:
    """For each rejected value (as text), the fix when it is a known export habit, as a message tail ('' when none).

    Named, never repaired: a marker such as 'N/A', a thousands separator, a space around a code or a code in
    another case each has one plain fix at the source, and guessing would read some values wrong silently.
    ``known`` is the referenced table's values (foreign keys), otherwise the column's allowed values are used.
    """
    text = values.astype("string").reset_index(drop=True)
    advice = pd.Series("", index=text.index, dtype=object)
    stripped = text.str.strip()
    marker = stripped.str.lower().isin(MISSING_MARKERS).fillna(False).to_numpy(dtype=bool)
    empty_fix = ("leave the cell empty when there is no value" if spec.nullable
                 else "this column needs a value in every row")
    if _NOT_KNOWN in (spec.allowed_values() or ()):
        empty_fix = f"write '{_NOT_KNOWN}' when it is not recorded"
    advice[marker] = "; '" + stripped[marker].astype(object) + f"' is not read as missing: {empty_fix}"
    if spec.type in ("integer", "float"):
        thousands = text.str.match(_THOUSANDS).fillna(False).to_numpy(dtype=bool) & ~marker
        advice[thousands] = "; write numbers without thousands separators (" + stripped[thousands].str.replace(",", "").astype(object) + ")"
        comma = text.str.match(_DECIMAL_COMMA).fillna(False).to_numpy(dtype=bool) & ~thousands & ~marker
        advice[comma] = "; write decimals with a full stop (" + stripped[comma].str.replace(",", ".").astype(object) + ")"
        sign = text.str.contains(r"[£$€%]", regex=True).fillna(False).to_numpy(dtype=bool) & ~marker
        advice[sign] = "; write the number alone, without a currency or % sign"
        return advice
    if spec.type in ("date", "month"):
        return advice.where(marker, _day_number_advice(stripped) + _named_month_advice(stripped, spec.type == "month"))
    codes = known if known is not None else pd.Series(spec.allowed_values() or (), dtype="string")
    codes = codes.dropna().astype("string").drop_duplicates()
    by_key = pd.Series(codes.to_numpy(), index=_code_key(codes).to_numpy()).groupby(level=0).first()
    near = _code_key(text).map(by_key)
    near_ok = (near.notna() & (near != text)).fillna(False).to_numpy(dtype=bool) & ~marker
    spaced = (stripped != text).fillna(False).to_numpy(dtype=bool) & ~marker
    advice[spaced] = "; it has a space before or after it: remove the spaces (values are compared exactly)"
    only_case = near_ok & ~(spaced & (near == stripped).fillna(False).to_numpy(dtype=bool))
    advice[only_case] = ("; did you mean '" + near[only_case].astype(object)
                         + "'? values must be written exactly as listed (case, spaces and '_' included)")
    # Excel reads a code of digits as a number: it drops leading zeros ('007' -> '7') and writes long ones in
    # scientific notation ('1.23457E+11'). Both are fixed by formatting the column as Text before saving.
    digits = codes[codes.str.fullmatch(r"\d+").fillna(False)]
    unpadded = pd.Series(digits.to_numpy(), index=digits.str.lstrip("0").to_numpy()).groupby(level=0).first()
    padded = stripped.astype(object).map(unpadded.astype(object))
    lost = (text.str.fullmatch(r"\d+").fillna(False) & padded.notna() & (padded != stripped).fillna(False)).to_numpy(dtype=bool) & (advice == "").to_numpy()
    advice[lost] = ("; did you mean '" + padded[lost].astype(object) + "'? Excel drops leading zeros: format the "
                    "column as Text before saving")
    scientific = text.str.fullmatch(r"\s*\d(\.\d+)?[eE]\+\d+\s*").fillna(False).to_numpy(dtype=bool) & (advice == "").to_numpy()
    advice[scientific] = "; Excel wrote this code as a number in scientific notation: format the column as Text before saving"
    return advice


# Excel keeps a date as the number of days since 1899-12-30 and shows that number where the cell is formatted as
# General or Text (a date column reformatted, or exported from one): 42430 is 2016-03-01. The day numbers of the
# dates the schemas accept (1900-01-01 to 2100-12-31, DATE_RANGE) are 2 to 73,415; 61 (1900-03-01) on they are exact.
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Anchored: the whole value is the number, never the year inside 'Jan 2024' or '2021/05/03'.
_DAY_NUMBER = r"^\s*(\d{1,5})(?:\.0+)?\s*$"


def _day_number_advice(text: pd.Series) -> pd.Series:
    """For each rejected date value that is an Excel day number, what it is as a date and the fix ('' otherwise):
    named, never read as a date, since 20240701 or a count typed in the wrong column is a number as well."""
    days = pd.to_numeric(text.str.extract(_DAY_NUMBER, expand=False), errors="coerce")
    days = days.where((days >= 61) & (days <= 73415))   # before day 61 Excel counts a 29 February 1900 that was not
    dates = (_EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).dt.strftime("%Y-%m-%d")
    return ("; " + text.astype(object) + " is how Excel stores the date " + dates.astype(object) + " (a day number, "
            "shown where a date column is formatted as General or Text): format the column as a date (Format Cells > "
            "Custom > yyyy-mm-dd) so the dates show, and save again").where(days.notna(), "").astype(object)


# A date with the month's name that cannot be read as written: a two-digit year, or no day ('May 2021' in a date column).
_NAMED_MONTH_SHORT = r"^\s*(\d{1,2})?(?:st|nd|rd|th)?[\s/.\-]*([A-Za-z]+)\.?[\s/.,\-]*(\d{2}|\d{4})\s*$"


def _named_month_advice(text: pd.Series, month: bool) -> pd.Series:
    """For each rejected date value written with the month's name, why it is not read and the fix ('' otherwise):
    a two-digit year could be 1921 or 2021 (and 'May-21' the 21st of May), a date without its day could be any day."""
    parts = text.str.extract(_NAMED_MONTH_SHORT)
    named = parts[1].str.lower().isin(list(tables_io.MONTH_NAMES)).to_numpy(dtype=bool, na_value=False)
    short = (parts[2].str.len() == 2).to_numpy(dtype=bool, na_value=False)
    dayless = parts[0].isna().to_numpy() & (not month)
    why = np.where(short, "its year has two digits (19.. or 20..?)", np.where(dayless, "it has no day", ""))
    fix = ("; written with the month's name, but " + pd.Series(why, index=text.index, dtype=object) + ": export the "
           "dates in full, or format the column in Excel as Format Cells > Custom > yyyy-mm-dd and save again")
    return fix.where(named & (short | dayless), "").astype(object)


# Day, month and year separated by '/', '.' or '-' (what Excel writes for a UK or US locale), maybe with a time.
_DMY = r"^\s*(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*$"


def _date_format_records(raw: _Raw, spec: ColumnSpec, shown: pd.Series) -> list[pd.DataFrame]:
    """One column-level ``date_format`` record when most values of a date column that would not parse (two at
    least: a pattern, not one slip) are written day-first (or month-first), naming an example, its reading and
    the fix; the per-value type records stay (every failure is reported), this one says what they share.
    """
    parts = shown.astype("string").str.extract(_DMY)
    matched = parts[0].notna().to_numpy()
    if matched.sum() < 2 or matched.sum() * 2 <= len(shown):
        return []
    first, second = parts.loc[matched, 0].astype(int), parts.loc[matched, 2].astype(int)
    # A first part above 12 can only be a day; a second part above 12 only a day (US order). Ambiguous: UK order.
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    order = "MM/DD/YYYY" if month_first and not day_first else "DD/MM/YYYY"
    # The example shows the order when a value can (a day above 12), else the first one.
    clear = np.flatnonzero(((second if month_first and not day_first else first) > 12).to_numpy())
    j = int(clear[0]) if clear.size else 0
    i = int(np.flatnonzero(matched)[j])
    year = int(parts.iat[i, 3]) + (2000 if len(parts.iat[i, 3]) == 2 else 0)
    wanted = "YYYY-MM-DD" if spec.type == "date" else "YYYY-MM-01 (or YYYY-MM)"
    # A meaning is named only when the column shows its order; otherwise both readings, so none is taken as read.
    readings = [f"{year:04d}-{m:02d}-{d:02d}" for d, m in ((first.iloc[j], second.iloc[j]), (second.iloc[j], first.iloc[j]))
                if 1 <= m <= 12 and 1 <= d <= 31]
    if day_first and month_first:
        reading = "the column holds both orders (a day above 12 first in some values, second in others), so no value can be read"
    elif clear.size:
        reading = f"meaning {readings[0]}" if readings else "not a date either way"   # the order shown leaves one reading
    else:
        reading = (f"{readings[0]} or {readings[1]}: no value has a day above 12 to tell which, so none is read"
                   if len(readings) == 2 and readings[0] != readings[1] else f"meaning {readings[0]}" if readings else "not a date either way")
    msg = (f"{raw.file} column {spec.name}: {matched.sum():,} of the {len(shown):,} values that are not dates look like {order} "
           f"(e.g. '{shown.iat[i]}': {reading}); dates must be written {wanted}: convert the column, e.g. in Excel "
           "select it, Format Cells > Custom > yyyy-mm-dd, then save again as CSV UTF-8")
    return [_records(raw.table, raw.file, column=spec.name, rule="date_format", values=[shown.iat[i]], messages=msg, exact_lines=raw.exact_lines)]


def _day_first_note(raw: _Raw, spec: ColumnSpec, example: str, n: int) -> pd.DataFrame:
    """The ``date_format`` warning for a column read day-first (:func:`retention_ml.io.day_first_dates`)."""
    day, month, year = (int(x) for x in re.split(r"[/.\-]", example.split()[0]))
    return _records(raw.table, raw.file, column=spec.name, rule="date_format", severity="warning", values=[example],
                    exact_lines=raw.exact_lines, messages=(
        f"{raw.file} column {spec.name}: its {n:,} dates are written DD/MM/YYYY and were read day first: "
        f"'{example}' can only mean {year:04d}-{month:02d}-{day:02d}, and no value reads as month first; write "
        "YYYY-MM-DD to make this warning go away (in Excel: Format Cells > Custom > yyyy-mm-dd)"))


def _named_month_note(raw: _Raw, spec: ColumnSpec, example: str, read: pd.Series, n: int) -> pd.DataFrame:
    """The ``date_format`` warning for a column read from the month's name (:func:`retention_ml.io.named_month_dates`)."""
    first = str(read.dropna().iloc[0])
    return _records(raw.table, raw.file, column=spec.name, rule="date_format", severity="warning", values=[example],
                    exact_lines=raw.exact_lines, messages=(
        f"{raw.file} column {spec.name}: its {n:,} dates are written with the month's name and were read as such: "
        f"'{example}' as {first}; write YYYY-MM-DD to make this warning go away (in Excel: Format Cells > Custom > yyyy-mm-dd)"))


def _time_note(raw: _Raw, spec: ColumnSpec, written: pd.Series, read: pd.Series, timed: np.ndarray) -> pd.DataFrame:
    """The ``date_time`` warning for a column whose dates carry a time of day (:func:`retention_ml.io.dates_without_time`)."""
    first = int(timed[0])
    example = _fmt(written.iloc[[first]]).iat[0] if not pd.api.types.is_datetime64_any_dtype(written) \
        else str(written.iat[first])
    day = pd.Timestamp(read.iat[first]).date().isoformat()
    return _records(raw.table, raw.file, column=spec.name, rule="date_time", severity="warning", values=[example],
                    exact_lines=raw.exact_lines, messages=(
        f"{raw.file} column {spec.name}: {timed.size:,} date(s) carry a time of day (first on row {first + 1:,}: "
        f"'{example}', read as {day}); each is read as the day written, without its time, so a time never moves a "
        "date to another day, month or snapshot; if the system converted its times to another time zone (UTC), "
        "export the dates as it shows them; write YYYY-MM-DD to make this warning go away"))


def _number_note(raw: _Raw, spec: ColumnSpec, example: str, n: int) -> pd.DataFrame:
    """The ``number_format`` warning for a column whose '£1,234.00' values were read as numbers (:func:`retention_ml.io.plain_numbers`)."""
    plain = tables_io.plain_numbers(pd.Series([example], dtype="string"))[0].iat[0]
    return _records(raw.table, raw.file, column=spec.name, rule="number_format", severity="warning", values=[example],
                    exact_lines=raw.exact_lines, messages=(
        f"{raw.file} column {spec.name}: {n:,} value(s) written with a pound sign or thousands separators were read "
        f"as plain numbers (e.g. '{example}' as {plain}); write numbers alone (55000.50) to make this warning go away"))


def _codes_note(raw: _Raw, spec: ColumnSpec, written: pd.Series, meant: dict) -> pd.DataFrame:
    """The ``code_spelling`` warning for a column whose labels were read as codes (:func:`retention_ml.io.read_codes`)."""
    counts = written.value_counts()
    shown = ", ".join(f"{k!r} as {v} ({int(counts.get(k, 0)):,} row(s))" for k, v in meant.items())
    return _records(raw.table, raw.file, column=spec.name, rule="code_spelling", severity="warning", values=[", ".join(map(repr, meant))],
                    exact_lines=raw.exact_lines, messages=(
        f"{raw.file} column {spec.name}: values read as the code they differ from only in case, spaces or '-': {shown}; "
        "write the codes as listed (retention-ml schema show " + raw.table + ") to make this warning go away"))


# --------------------------------------------------------------------------- cross-row and cross-table


def _id_spaces_note(raw: _Raw, spec: ColumnSpec, written: pd.Series, read: pd.Series) -> pd.DataFrame:
    changed = (written.astype("string") != read.astype("string")).to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero(changed)
    msg = (f"{raw.file} column {spec.name}: {rows.size:,} value(s) with spaces before or after them were read without "
           f"the spaces (first on row {rows[0] + 1:,}), since ids are compared exactly across tables; take the "
           "spaces off in the export (a database's fixed-width text column pads them) to make this warning go away")
    return _records(raw.table, raw.file, column=spec.name, rule="id_spaces", severity="warning", messages=msg,
                    exact_lines=raw.exact_lines)


def _row_check_failures(raw: _Raw, schema: TableSchema, typed: pd.DataFrame, flagged: dict[str, np.ndarray]) -> list[pd.DataFrame]:
    """Declared comparisons; rows where either value already failed its own column check are skipped (one problem, one record)."""
    out = []
    for chk in schema.row_checks:
        if chk.column not in typed or chk.other not in typed:
            continue
        left, right = typed[chk.column], typed[chk.other]
        both = left.notna() & right.notna()
        broken = both & ~_OPS[chk.op](left.where(both), right.where(both)).fillna(True).astype(bool)
        for col in (chk.column, chk.other):
            if col in flagged:
                broken.iloc[flagged[col]] = False
        if chk.allow_other and "employment_type" in typed:
            broken &= ~typed["employment_type"].isin(list(chk.allow_other)).fillna(False).astype(bool)
        rows = np.flatnonzero(broken.to_numpy())
        if rows.size == 0:
            continue
        if schema.column(chk.column).personal or schema.column(chk.other).personal:
            # A personal value (a name) is never copied into the report, nor a value found to hold it.
            values = [None] * rows.size
            msgs = (_where(raw.table, rows) + f": {chk.column} {_OP_TEXT.get(chk.op, chk.op)} {chk.other} "
                    f"(values not shown: personal data); {chk.message}")
        else:
            lv, rv = _fmt(left.iloc[rows]).reset_index(drop=True), _fmt(right.iloc[rows]).reset_index(drop=True)
            values = (chk.column + "=" + lv + ", " + chk.other + "=" + rv).astype(object).tolist()
            msgs = _where(raw.table, rows) + ": " + chk.column + " is " + lv + " and " + chk.other + " is " + rv + "; " + chk.message
        out.append(_records(raw.table, raw.file, rows=rows, column=chk.column, rule=chk.rule, values=values, messages=msgs.tolist(), exact_lines=raw.exact_lines))
    return out


def _pattern_warnings(raw: _Raw, schema: TableSchema, typed: pd.DataFrame, flagged: dict[str, np.ndarray]) -> list[pd.DataFrame]:
    """Declared ``warn_if_matches`` patterns (RE2, matched by Arrow over the whole column): one warning per match.

    The value is not copied into the report: it may be a person's name.
    """
    out = []
    for spec, warn in ((spec, warn) for spec in schema.columns for warn in spec.warn_if_matches):
        if spec.name not in typed:
            continue
        text = pyarrow.array(typed[spec.name].astype("string"), from_pandas=True)
        hit = pc.match_substring_regex(text, warn.pattern).fill_null(False).to_numpy(zero_copy_only=False)
        rows = np.setdiff1d(np.flatnonzero(hit), flagged.get(spec.name, np.array([], dtype="int64")))
        if rows.size == 0:
            continue
        msgs = _where(raw.table, rows) + f": {spec.name} {warn.message} (value not shown)"
        out.append(_records(raw.table, raw.file, rows=rows, column=spec.name, rule=warn.rule, severity="warning",
                            messages=msgs.tolist(), exact_lines=raw.exact_lines))
    return out


def _foreign_key_failures(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame], schemas: Mapping[str, TableSchema]) -> list[pd.DataFrame]:
    out = []
    for name, frame in typed.items():
        for fk in schemas[name].foreign_keys:
            column = fk.columns[0]
            parent, where = typed.get(fk.table), fk.table
            if parent is None and fk.table not in raws and fk.table in schemas and schemas[fk.table].default_rows:
                # An optional table not given stands for its declared default rows (the default pay bands).
                parent = schemas[fk.table].default_frame()
                where = f"{fk.table} ({fk.table}.csv is not given, so its default applies: {', '.join(parent[fk.column].astype(str))})"
            if column not in frame or parent is None or fk.column not in parent:
                continue  # the missing table/column is reported on its own
            if fk.table in raws and raws[fk.table].row_map is not None:
                continue  # the parent's ragged rows were left out, so its keys are incomplete
            values = frame[column]
            broken = values.notna().to_numpy() & ~_isin(values, parent[fk.column])
            rows = np.flatnonzero(broken)
            if rows.size == 0:
                continue
            shown = _fmt(values.iloc[rows]).reset_index(drop=True)
            msgs = (_where(name, rows) + f": {column} is '" + shown + f"'; no such {fk.column} in {where}"
                    + _export_advice(shown, schemas[name].column(column), known=parent[fk.column]) + (f"; {fk.hint}" if fk.hint else ""))
            out.append(_records(name, raws[name].file, rows=rows, column=column, rule="foreign_key", values=shown.tolist(), messages=msgs.tolist(), exact_lines=raws[name].exact_lines))
    return out


_SPELL_ADVICE = ("rows belong to the spell they fall in: after a team move or a rehire give them the new spell's "
                 "worker_id, and leave out months before the start or after the end")


def _spell_failures(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame], schemas: Mapping[str, TableSchema]) -> list[pd.DataFrame]:
    """outside_spell warnings: rows of a table declaring ``within_spell`` dated in a month before the month their
    worker's spell starts or after the month it ends. Calendar months, also for day dates: a mid-month start or
    leaving date keeps its month, and monthly systems date a month's row (a supervision, a count) loosely.

    Vectorised: each row's worker is looked up once (Arrow hash lookup) and its dates compared as arrays. Rows
    whose worker or date is missing or did not parse, and workers whose id is repeated (which spell?), are left
    out: those are reported already.
    """
    workers = typed.get("workers")
    if workers is None or not {"worker_id", "start_date", "end_date"} <= set(workers.columns):
        return []
    ids = workers["worker_id"]
    spells = workers[ids.notna() & ~ids.duplicated(keep=False)]
    lookup = pyarrow.array(spells["worker_id"].astype("string"), from_pandas=True)
    # The spell as [first day of its start month, first day of the month after its end month), in ns, so the
    # long tables' dates are compared as they are (no per-row conversion to months).
    first_day = spells["start_date"].to_numpy("datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]")
    after_end = (spells["end_date"].to_numpy("datetime64[ns]").astype("datetime64[M]") + 1).astype("datetime64[ns]")
    out = []
    for name, frame in typed.items():
        column = schemas[name].within_spell
        if column is None or column not in frame or "worker_id" not in frame:
            continue
        at = pc.index_in(pyarrow.array(frame["worker_id"].astype("string"), from_pandas=True), value_set=lookup)
        at = at.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
        known = at >= 0
        when = frame[column].to_numpy("datetime64[ns]")
        with np.errstate(invalid="ignore"):  # NaT compares False: a missing date or open spell is never outside
            broken = known & ((when < first_day[np.maximum(at, 0)]) | (when >= after_end[np.maximum(at, 0)]))
        rows = np.flatnonzero(broken)
        if rows.size == 0:
            continue
        shown = _fmt(frame[column].iloc[rows]).reset_index(drop=True)
        if schemas[name].column(column).type == "month":
            shown = shown.str.slice(0, 7)
        spell = spells.iloc[at[rows]]
        first, last = _fmt(spell["start_date"]).reset_index(drop=True), _fmt(spell["end_date"]).reset_index(drop=True)
        last = last.where(last != "(empty)", "in post")
        worker = frame["worker_id"].iloc[rows].astype(object).reset_index(drop=True)
        msgs = (_where(name, rows) + f": {column} " + shown.astype(object) + " is outside the spell of worker " + worker
                + " (" + first.astype(object) + " to " + last.astype(object) + "); " + _SPELL_ADVICE + _hint(schemas[name].hints, "outside_spell"))
        out.append(_records(name, raws[name].file, rows=rows, column=column, rule="outside_spell", severity="warning",
                            values=shown.tolist(), messages=msgs.tolist(), exact_lines=raws[name].exact_lines))
    return out


def _end_note(table: str) -> str:
    """Why a false last month matters, for the table the end of the data is read from (labels.data_end_from)."""
    if table != "caseload_history":
        return ""
    return ("; the end of the data is read from the last caseload month, so training would count the people in post "
            "up to it as stayers, none of them having a recorded leaving date yet")


def _month_coverage_failures(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame], schemas: Mapping[str, TableSchema]) -> list[pd.DataFrame]:
    """month_gap errors and thin_last_month warnings on the tables declared ``every_month`` with a row per worker
    and month (caseload_history).

    Such a table holds every month from its first to its last, so a month with no row at all between them is a month
    missing from the export, and a few rows after such a gap are a mistyped year (2022-06 for 2021-06). Either way
    caseload_history's last month sets the end of the data, and the snapshots up to a false end label everyone in post
    a stayer: one mistyped row of 14,279 gave a run whose test window held no leaver. A table with a row per worker
    and month whose last month holds under half the rows of the months before it (a month exported before it was
    complete, or a typo one month on) moves the end the same way; a warning only, since scoring reads nothing from
    the month of its date on and an extract pulled mid-month may hold that month in part. Vectorised: rows counted
    per month once.
    """
    out = []
    for name, frame in typed.items():
        schema = schemas[name]
        date = _date_key(schema, frame)
        if not schema.every_month or date is None or "worker_id" not in schema.primary_key:
            continue  # housing costs and agency rates are read as the latest before a date: a yearly figure serves
        month = frame[date].to_numpy("datetime64[ns]").astype("datetime64[M]")
        known = ~np.isnat(month)
        if not known.any():
            continue
        present, counts = np.unique(month[known], return_counts=True)
        step = np.diff(present).astype("int64")
        if (step > 1).any():
            out += _gap_records(name, raws[name], date, month, present, counts, step)
        elif len(present) > 1:
            out += _thin_last_records(name, raws[name], date, month, present, counts)
    return out


def _gap_records(name: str, raw: _Raw, column: str, month: np.ndarray, present: np.ndarray, counts: np.ndarray,
                 step: np.ndarray) -> list[pd.DataFrame]:
    """The months missing, once per gap; or, for the runs of months apart from the largest that hold at most
    :data:`STRAY_ROWS` rows, each row, saying which run of months it stands apart from."""
    run = np.concatenate([[0], np.cumsum(step > 1)])   # run of consecutive months each present month belongs to
    rows_per_run = np.bincount(run, weights=counts).astype("int64")
    main = int(rows_per_run.argmax())
    first, last = present[run == main][[0, -1]]
    main_text = f"the {int((run == main).sum())} months {first} to {last} holding {rows_per_run[main]:,} rows"
    out = []
    stray = np.flatnonzero((rows_per_run <= STRAY_ROWS) & (np.arange(len(rows_per_run)) != main))
    if stray.size:
        rows = np.flatnonzero(np.isin(month, present[np.isin(run, stray)]))
        shown = pd.Series(month[rows].astype(str), dtype=object)
        msgs = (_where(name, rows) + f": {column} " + shown + f" stands apart from {main_text}, with no row for the "
                f"months between: a mistyped year or month? Correct it or leave the row out" + _end_note(name))
        out.append(_records(name, raw.file, rows=rows, column=column, rule="month_gap", values=shown.tolist(),
                            messages=msgs.tolist(), exact_lines=raw.exact_lines))
    kept = np.isin(run, stray, invert=True)
    if (np.diff(present[kept]).astype("int64") > 1).any():
        inside = np.arange(present[kept][0], present[kept][-1] + 1)
        missing = inside[~np.isin(inside, present)]
        listed = ", ".join(missing[:6].astype(str)) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        out.append(_records(name, raw.file, column=column, rule="month_gap", values=[listed], exact_lines=raw.exact_lines,
                            messages=f"{raw.file} has no row for {listed}, between its first month {inside[0]} and its "
                                     f"last {inside[-1]}: the table needs a row for every month; export the missing "
                                     f"month(s), or check that the right months were selected"))
    return out


def _thin_last_records(name: str, raw: _Raw, column: str, month: np.ndarray, present: np.ndarray, counts: np.ndarray) -> list[pd.DataFrame]:
    usual = float(np.median(counts[:-1][-12:]))
    if usual < THIN_MIN_ROWS or counts[-1] >= THIN_SHARE * usual:
        return []
    rows = np.flatnonzero(month == present[-1]) if counts[-1] <= STRAY_ROWS else None
    what = (f"{raw.file}'s last month, {present[-1]}, holds {counts[-1]:,} row(s) against a median of {usual:,.0f} "
            f"a month in the year before it: a month exported before it was complete, or a mistyped month? Leave "
            f"that month out of the export, or correct the rows" + _end_note(name))
    if rows is None:
        return [_records(name, raw.file, column=column, rule="thin_last_month", values=[str(present[-1])], messages=what,
                         severity="warning", exact_lines=raw.exact_lines)]
    msgs = (_where(name, rows) + f": {column} {present[-1]}: " + what)
    return [_records(name, raw.file, rows=rows, column=column, rule="thin_last_month", values=[str(present[-1])] * len(rows),
                     messages=msgs.tolist(), severity="warning", exact_lines=raw.exact_lines)]


def _interview_warnings(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """interview_without_leaving warnings: exit interviews of spells with no leaving date, or dated before the spell
    began. Nothing reads such a row (the exit-interview alignment reads leavers' rows only), so an interview filed
    under a rehired person's new spell, or under a mistyped id that happens to exist, was dropped unseen."""
    interviews, workers = typed.get("exit_interviews"), typed.get("workers")
    if interviews is None or workers is None or not {"worker_id", "start_date", "end_date"} <= set(workers.columns) \
            or "worker_id" not in interviews:
        return []
    spells = workers[workers["worker_id"].notna() & ~workers["worker_id"].duplicated(keep=False)].set_index("worker_id")
    ids = interviews["worker_id"].astype(object)
    known = ids.isin(spells.index).to_numpy()
    end = ids.map(spells["end_date"]).to_numpy("datetime64[ns]")
    start = ids.map(spells["start_date"]).to_numpy("datetime64[ns]")
    when = (interviews["interview_date"].to_numpy("datetime64[ns]") if "interview_date" in interviews
            else np.full(len(interviews), np.datetime64("NaT"), dtype="datetime64[ns]"))
    with np.errstate(invalid="ignore"):
        open_spell, early = known & np.isnat(end), known & ~np.isnat(end) & (when < start)
    rows = np.flatnonzero(open_spell | early)
    if rows.size == 0:
        return []
    worker = ids.iloc[rows].reset_index(drop=True)
    began = _fmt(pd.Series(start[rows])).to_numpy(dtype=str)
    why = pd.Series(np.where(
        open_spell[rows],
        " has no end_date in workers; an exit interview belongs to a leaver's ended spell (after a rehire, the old "
        "spell's worker_id): check the worker_id, or give the spell its end_date and leaving_reason; until then the "
        "interview is left out of the exit-interview alignment, which reads leavers only",
        " began after this interview (start_date " + began + "): a mistyped interview_date or worker_id?"), dtype=object)
    msgs = _where("exit_interviews", rows) + ": worker_id " + worker + "'s spell" + why
    raw = raws["exit_interviews"]
    return [_records("exit_interviews", raw.file, rows=rows, column="worker_id", rule="interview_without_leaving",
                     severity="warning", values=worker.tolist(), messages=msgs.tolist(), exact_lines=raw.exact_lines)]


def _council_end_warnings(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """council_ends_early warnings: in an extract pooling several councils, one whose caseload months end before the
    others' while people are still in post there (no end_date). A council exported earlier than the rest has no
    leaving recorded after its pull date, yet the snapshots run to the pooled end: its late leavers would be labelled
    stayers. One record per council (file-level, column month)."""
    caseload, workers, teams = typed.get("caseload_history"), typed.get("workers"), typed.get("teams")
    if caseload is None or workers is None or teams is None or not {"team_id", "council_id"} <= set(teams.columns) \
            or not {"worker_id", "team_id", "end_date"} <= set(workers.columns) \
            or not {"worker_id", "month"} <= set(caseload.columns):
        return []
    council = workers.drop_duplicates("worker_id").set_index("worker_id")["team_id"].map(
        teams.drop_duplicates("team_id").set_index("team_id")["council_id"])
    last = caseload.assign(council=caseload["worker_id"].map(council)).groupby("council")["month"].max().dropna()
    open_spells = workers.loc[workers["end_date"].isna(), "worker_id"].map(council).value_counts()
    end = last.max()
    early = last[(last < end) & last.index.isin(open_spells.index)]
    if early.empty:
        return []
    raw = raws["caseload_history"]
    months = ((end.year - early.dt.year) * 12 + end.month - early.dt.month).astype(int)
    msgs = [f"{raw.file}: council {c}'s last month is {m:%Y-%m}, {n} month(s) before the data's last month {end:%Y-%m}, "
            f"with {int(open_spells[c]):,} people still in post there: the end of the data is the last month of all "
            f"councils, so training counts them as stayers after {m:%Y-%m} whether or not they left. Export {c}'s "
            f"tables to the same month as the others', or train the councils apart"
            for c, m, n in zip(early.index, early, months)]
    return [_records("caseload_history", raw.file, column="month", rule="council_ends_early", severity="warning",
                     values=[f"{m:%Y-%m}" for m in early], messages=msgs, exact_lines=raw.exact_lines)]


def _far_ahead_warnings(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """leaving_far_ahead warnings: workers whose end_date lies more than :data:`FAR_AHEAD_MONTHS` after the last
    caseload month. A leaving date already recorded keeps a person off every list, so 2030 typed for 2020 took a
    worker in post out of their manager's list without a word."""
    workers, caseload = typed.get("workers"), typed.get("caseload_history")
    if workers is None or caseload is None or "end_date" not in workers or "month" not in caseload or caseload["month"].isna().all():
        return []
    last = caseload["month"].max().to_period("M")
    limit = (last + 1 + FAR_AHEAD_MONTHS).to_timestamp()
    end = workers["end_date"]
    rows = np.flatnonzero((end >= limit).to_numpy(dtype=bool, na_value=False))
    if rows.size == 0:
        return []
    shown = _fmt(end.iloc[rows]).reset_index(drop=True)
    msgs = (_where("workers", rows) + ": end_date is " + shown + f", more than {FAR_AHEAD_MONTHS} months after the last "
            f"caseload month ({last}): a mistyped year? A leaving date already recorded keeps the person off every list "
            "(scored, flagged leaving_date_recorded), as it does a fixed-term contract's planned end; correct it, or leave it "
            "empty while they are in post")
    raw = raws["workers"]
    return [_records("workers", raw.file, rows=rows, column="end_date", rule="leaving_far_ahead", severity="warning",
                     values=shown.tolist(), messages=msgs.tolist(), exact_lines=raw.exact_lines)]


#: the teams columns team_history dates (data_schema/tables/team_history.yaml)
TEAM_HISTORY_COLUMNS = ("caseload_cap", "establishment_fte", "manager_id")


def _team_history_warnings(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """history_disagrees and history_starts_late warnings on team_history, per team and column it gives values for.

    teams holds the current values and team_history the changes, so a team's latest change should be the value in
    teams; and before a team's first change every snapshot reads teams' current value, so the first row should be
    dated by the first caseload month (the value in force then). One groupby per column, on a small table.
    """
    hist, teams = typed.get("team_history"), typed.get("teams")
    if hist is None or teams is None or not len(hist) or not {"team_id", "effective_date"} <= set(hist) \
            or "team_id" not in teams:
        return []   # a missing table or key column is reported on its own
    file, exact = raws["team_history"].file, raws["team_history"].exact_lines
    current = teams.dropna(subset=["team_id"]).drop_duplicates("team_id").set_index("team_id")
    cases = typed.get("caseload_history")
    first_month = cases["month"].min() if cases is not None and "month" in cases and len(cases) else pd.Timestamp.max
    pos = pd.Series(np.arange(len(hist)), index=hist.index)
    out, late = [], []
    for column in TEAM_HISTORY_COLUMNS:
        if column not in hist or column not in current:
            continue
        given = hist[hist[column].notna() & hist["team_id"].isin(current.index) & hist["effective_date"].notna()]
        if given.empty:
            continue
        by_team = given.sort_values("effective_date", kind="stable").groupby("team_id", sort=False)
        last = given.loc[by_team.tail(1).index]
        now = last["team_id"].map(current[column])
        differs = (now.isna() | (last[column].astype(object) != now.astype(object))).to_numpy(dtype=bool)
        if differs.any():
            rows, bad, cur = pos[last.index[differs]].to_numpy(), last[differs], now[differs]
            msgs = (_where("team_history", rows) + f": {column} " + _fmt(bad[column]).to_numpy(dtype=object)
                    + " from " + _fmt(bad["effective_date"]).to_numpy(dtype=object) + " is team " + bad["team_id"].astype(str).to_numpy(dtype=object)
                    + f"'s latest change, but teams holds {column} " + _fmt(cur).to_numpy(dtype=object)
                    + "; snapshots after that date read this row's value: give the current value in teams, or add the change that led to it")
            out.append(_records("team_history", file, rows=rows, column=column, rule="history_disagrees", severity="warning",
                                values=_fmt(bad[column]).tolist(), messages=msgs.tolist(), exact_lines=exact))
        first = given.loc[by_team.head(1).index]
        late.append(first[(first["effective_date"] > first_month).to_numpy(dtype=bool)].assign(_column=column))
    late = pd.concat(late) if late else pd.DataFrame()
    if len(late):   # one record per row, naming every column it is the first value of
        named = late.groupby(pos[late.index].to_numpy(), sort=True).agg(
            team=("team_id", "first"), date=("effective_date", "first"), columns=("_column", ", ".join))
        rows = named.index.to_numpy()
        shown = _fmt(named["date"]).to_numpy(dtype=object)
        msgs = (_where("team_history", rows) + ": effective_date " + shown + " is team " + named["team"].astype(str).to_numpy(dtype=object)
                + "'s first change of " + named["columns"].to_numpy(dtype=object) + " in team_history, after the first caseload "
                + f"month {first_month:%Y-%m}: snapshots before it read teams' current value; add a row dated "
                + f"{first_month:%Y-%m-%d} or earlier with the value in force then")
        out.append(_records("team_history", file, rows=rows, column="effective_date", rule="history_starts_late",
                            severity="warning", values=shown.tolist(), messages=msgs.tolist(), exact_lines=exact))
    return out


def _fte_history_warnings(raws: dict[str, _Raw], typed: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    """history_disagrees and history_starts_late warnings on fte_history, per worker, as team_history's per team.

    workers.fte holds the current hours and fte_history the changes, so a worker's latest change should be
    workers.fte; and before a worker's first change every snapshot reads workers.fte, so the first row should be
    dated by the start of the spell (or of the data, when the spell started earlier). One groupby, no loop.
    """
    hist, workers = typed.get("fte_history"), typed.get("workers")
    if hist is None or workers is None or not len(hist) or not {"worker_id", "effective_date", "fte"} <= set(hist) \
            or not {"worker_id", "fte", "start_date"} <= set(workers):
        return []   # a missing table or key column is reported on its own
    file, exact = raws["fte_history"].file, raws["fte_history"].exact_lines
    current = workers.dropna(subset=["worker_id"]).drop_duplicates("worker_id").set_index("worker_id")
    pos = pd.Series(np.arange(len(hist)), index=hist.index)
    given = hist[hist["fte"].notna() & hist["worker_id"].isin(current.index) & hist["effective_date"].notna()]
    if given.empty:
        return []
    by_worker = given.sort_values("effective_date", kind="stable").groupby("worker_id", sort=False)
    out = []
    last = given.loc[by_worker.tail(1).index]
    now = last["worker_id"].map(current["fte"]).astype("float64")
    differs = (now.isna() | ~np.isclose(last["fte"].astype("float64"), now, rtol=0, atol=1e-9)).to_numpy(dtype=bool)
    if differs.any():
        rows, bad, cur = pos[last.index[differs]].to_numpy(), last[differs], now[differs]
        msgs = (_where("fte_history", rows) + ": fte " + _fmt(bad["fte"]).to_numpy(dtype=object)
                + " from " + _fmt(bad["effective_date"]).to_numpy(dtype=object) + " is worker " + bad["worker_id"].astype(str).to_numpy(dtype=object)
                + "'s latest change, but workers holds fte " + _fmt(cur).to_numpy(dtype=object)
                + "; snapshots after that date read this row's value: give the current hours in workers, or add the change that led to them")
        out.append(_records("fte_history", file, rows=rows, column="fte", rule="history_disagrees", severity="warning",
                            values=_fmt(bad["fte"]).tolist(), messages=msgs.tolist(), exact_lines=exact))
    cases = typed.get("caseload_history")
    first_month = cases["month"].min() if cases is not None and "month" in cases and len(cases) else pd.NaT
    first = given.loc[by_worker.head(1).index]
    start = first["worker_id"].map(current["start_date"])
    due = start if pd.isna(first_month) else start.where(start > first_month, first_month)   # NaT start: never late
    late = (first["effective_date"] > due).to_numpy(dtype=bool)
    if late.any():
        rows, bad, when = pos[first.index[late]].to_numpy(), first[late], due[late]
        shown = _fmt(bad["effective_date"])
        msgs = (_where("fte_history", rows) + ": effective_date " + shown.to_numpy(dtype=object) + " is worker "
                + bad["worker_id"].astype(str).to_numpy(dtype=object) + "'s first change in fte_history, after "
                + np.where(when.to_numpy() == start[late].to_numpy(), "the start of the spell ", "the first caseload month's day ")
                + _fmt(when).to_numpy(dtype=object) + ": snapshots before it read workers.fte, today's hours; add a row dated "
                + _fmt(when).to_numpy(dtype=object) + " with the hours in force then")
        out.append(_records("fte_history", file, rows=rows, column="effective_date", rule="history_starts_late",
                            severity="warning", values=shown.tolist(), messages=msgs.tolist(), exact_lines=exact))
    return out


# --------------------------------------------------------------------------- one table


def _flagged_rows(parts: list[pd.DataFrame]) -> dict[str, np.ndarray]:
    """0-based rows per column that already have a value-level failure."""
    cells = [p.loc[p["row"].notna(), ["column", "row"]] for p in parts if not p.empty]
    if not cells:
        return {}
    cells = pd.concat(cells)
    return {col: (grp["row"].to_numpy(dtype="int64") - 1) for col, grp in cells.groupby("column")}


_header_key = tables_io.header_key   # the reader's own comparison, so validation and reading agree on a header


def _read_headers_as_declared(raw: _Raw, schema: TableSchema) -> list[pd.DataFrame]:
    """Rename the headers the reader reads as a declared column (:func:`retention_ml.io.match_headers`) in
    ``raw`` itself, so every check and :func:`read_validated` see the declared names; one warning per file (one fix)."""
    renamed = tables_io.match_headers(raw.frame.columns, schema.column_names)
    if not renamed:
        return []
    raw.frame = raw.frame.rename(columns=renamed)
    if raw.as_read is not None:
        raw.as_read = raw.as_read.rename(columns=renamed)
    shown = ", ".join(f"{str(old)!r} as {new}" for old, new in renamed.items())
    return [_records(raw.table, raw.file, column=", ".join(renamed.values()), rule="column_name", severity="warning",
                     line=1 if raw.exact_lines else None, exact_lines=raw.exact_lines, values=[", ".join(map(repr, renamed))],
                     messages=f"{raw.file}: {len(renamed)} header(s) read as the declared column they differ from only in "
                              f"case, spaces or punctuation: {shown}; rename them in the export to make this warning go away")]


def _cells_not_read(raw: _Raw) -> dict[str, np.ndarray]:
    """0-based rows per column of the cells the reader reported and read as empty (a workbook's formula saved
    without its value, a date cell in an id column): each is one problem, not also "is empty; a value is required"."""
    named = [p[p["row"].notna() & p["rule"].isin(_CELL_RULES) & p["severity"].eq("error")] for p in raw.failures if not p.empty]
    named = [p for p in named if not p.empty]
    if not named:
        return {}
    cells = pd.concat(named)
    return {col: np.unique(grp["row"].to_numpy(dtype="int64") - 1) for col, grp in cells.groupby("column")}


_CELL_RULES = ("xlsx_cell", "xlsx_formula")   # a workbook's cells the reader names, and reads as empty


def _excel_errors(raw: _Raw, spec: ColumnSpec, column: pd.Series) -> tuple[pd.Series, pd.DataFrame | None]:
    """A text column's values that are Excel's error for a failed formula ('#N/A' from a lookup with no match), read
    as empty, and one record each. As text they would pass as one more council or area, or fail later as an unknown
    id with no hint of the cause; a workbook's own error cells are named by the reader and are already empty here."""
    shown = column.astype("string").str.strip()
    hit = shown.isin(list(EXCEL_ERRORS)).to_numpy(dtype=bool, na_value=False)
    if not hit.any():
        return column, None
    rows = np.flatnonzero(hit)
    values = shown.iloc[rows].astype(object)
    msgs = (_where(raw.table, rows) + f": {spec.name} is '" + values.reset_index(drop=True) + "', Excel's error for a "
            "formula that failed (usually " + values.map(EXCEL_ERRORS).reset_index(drop=True) + "): correct the formula "
            "or type the value in the spreadsheet, then export again")
    record = _records(raw.table, raw.file, rows=rows, column=spec.name, rule="excel_error", values=values.tolist(),
                      messages=msgs.tolist(), exact_lines=raw.exact_lines)
    return column.mask(hit), record


def _near_columns(schema: TableSchema, header) -> dict[str, str]:
    """Declared columns absent from ``header`` -> the header name that differs only in case, spaces or punctuation."""
    present = set(header)
    spelled = {}
    for name in header:
        if name not in schema.column_names:
            spelled.setdefault(_header_key(name), str(name))
    return {c: spelled[_header_key(c)] for c in schema.column_names if c not in present and _header_key(c) in spelled}


def _similar_columns(schema: TableSchema, header, taken) -> dict[str, str]:
    """Declared columns absent from ``header`` -> an undeclared header spelled much like it ('establishment' for
    establishment_fte, 'caseload_cap_' aside) or one of the names the column declares it is also called
    ('contract_type' for employment_type), beyond :func:`_near_columns`' exact matches (``taken``: those).

    An optional column under another name is otherwise read as missing without an error, its features dropped."""
    import difflib

    unknown = {_header_key(h): str(h) for h in header if h not in schema.column_names and str(h) not in taken.values()}
    found = {}
    for c in schema.column_names:
        if c in set(header) or c in taken:
            continue
        left = [k for k in unknown if unknown[k] not in found.values()]
        close = difflib.get_close_matches(_header_key(c), left, n=1, cutoff=0.8)
        named = [k for k in left if k in {_header_key(a) for a in schema.column(c).also_called}]
        if close or named:
            found[c] = unknown[(close or named)[0]]
    return found


def _totals_rows(frame: pd.DataFrame) -> np.ndarray:
    """The last row's position when its first value is a totals label (:func:`retention_ml.io.is_totals_label`), else
    none. A workbook's totals row never gets here: the workbook reader leaves it out and reports it."""
    if len(frame) < 2:
        return np.array([], dtype="int64")
    given = frame.iloc[-1].dropna()
    return np.array([len(frame) - 1] if len(given) and tables_io.is_totals_label(given.iloc[0]) else [], dtype="int64")


def _header_rows(frame: pd.DataFrame) -> np.ndarray:
    """0-based rows that repeat the header: every value given is its column's name (compared as headers are, so
    'WORKER ID' and a joined file's byte-order mark match), two at least and half the columns or more.

    Exports pasted together, or files joined (``copy /b``), each bring their header; read as data it failed every
    column's type or allowed values and named none of that cause. Only rows whose first named column opens with that
    column's first word are compared (one Arrow scan), so a table without such rows costs no more."""
    named = [c for c in frame.columns if re.match(r"[A-Za-z0-9]", str(c)) and not str(c).startswith("Unnamed: ")]
    word = re.match(r"[A-Za-z0-9]+", str(named[0])).group() if len(named) >= 2 else None
    if word is None:
        return np.array([], dtype="int64")
    try:
        arr = pyarrow.array(frame[named[0]], from_pandas=True)
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):   # an object column of mixed Python types
        arr = pyarrow.array(frame[named[0]].astype("string"), from_pandas=True)
    if not (pyarrow.types.is_string(arr.type) or pyarrow.types.is_large_string(arr.type)):
        return np.array([], dtype="int64")
    # Lower-cased as ASCII and trimmed of spaces and a joined file's byte-order mark, then a prefix: a fraction of
    # what a case-blind search costs (19 against 140 ms on 2.6 million ids).
    opens = pc.starts_with(pc.utf8_ltrim(pc.ascii_lower(arr), characters=" \ufeff"), word.lower())
    rows = np.flatnonzero(pc.fill_null(opens, False).to_numpy(zero_copy_only=False))
    if not rows.size:
        return rows
    cells = frame.iloc[rows]
    given = cells.notna().to_numpy()
    named_as_column = np.column_stack([
        (cells[c].astype("string").str.lower().str.replace(r"[^0-9a-z]", "", regex=True) == _header_key(c)).to_numpy(dtype=bool, na_value=False)
        for c in frame.columns])
    matches = named_as_column.sum(axis=1)
    return rows[(matches == given.sum(axis=1)) & (matches >= max(2, (frame.shape[1] + 1) // 2))]


def _check_table(raw: _Raw, schema: TableSchema, as_of) -> tuple[pd.DataFrame | None, list[pd.DataFrame]]:
    out = list(raw.failures)
    if raw.frame is None:
        return None, out
    out += _read_headers_as_declared(raw, schema)
    frame = raw.frame
    table, file = raw.table, raw.file
    declared = set(schema.column_names)
    for part in out:   # a repeated column the schema does not declare is ignored anyway: a warning
        if not part.empty and part["rule"].iat[0] == "duplicate_column" and part["column"].iat[0] not in declared:
            part["severity"] = "warning"
    near = _near_columns(schema, frame.columns)
    missing = [c.name for c in schema.columns if c.required and c.name not in frame.columns]
    similar = _similar_columns(schema, frame.columns, near)
    for col in missing:
        hint = (f"; found {near[col]}: rename it to {col} (names are case-sensitive and use underscores)" if col in near
                else f"; found {similar[col]}: if it holds {col}, rename it to {col}" if col in similar else "")
        out.append(_records(table, file, column=col, rule="missing_column", messages=f"{file}: required column {col} is missing{hint}", exact_lines=raw.exact_lines))
    meant = {found: col for col, found in near.items()}
    like = {found: col for col, found in similar.items()}
    optional = {c.name for c in schema.columns if not c.required}
    for col in frame.columns:
        if col not in declared:
            hint = (f"; did you mean {meant[col]}? rename it to {meant[col]} (names are case-sensitive and use underscores)" if col in meant
                    else f"; did you mean {like[col]}? if it holds that, rename it to {like[col]}"
                         + (f" (an optional column: without it, what needs {like[col]} is left out, not an error)"
                            if like[col] in optional else "") if col in like else "")
            out.append(
                _records(table, file, column=str(col), rule="unknown_column", severity="warning", exact_lines=raw.exact_lines,
                         messages=f"{file}: column {col} is not in the {table} schema and will be ignored{hint}")
            )
    if len(frame) == 0:
        # A header-only optional table is plausible (no sessions recorded); a required one is not.
        severity = "error" if schema.required else "warning"
        out.append(_records(table, file, rule="empty_file", severity=severity, messages=f"{file} has a header but no data rows", exact_lines=raw.exact_lines))
        return None, out
    typed = {}
    unparsed = _cells_not_read(raw)
    headers = _header_rows(frame)
    if headers.size:
        out.append(_records(table, file, rows=headers, rule="repeated_header", exact_lines=raw.exact_lines, messages=(
            _where(table, headers) + ": repeats the header (every field is its column's name), as when two exports are "
            "pasted together or files joined: delete the row, and check that the rows after it are not a second copy "
            "of rows before it").tolist()))
    totals = _totals_rows(frame)
    if totals.size:
        out.append(_records(table, file, rows=totals, rule="totals_row", exact_lines=raw.exact_lines, messages=(
            _where(table, totals) + f": is a totals row ({str(frame.iloc[totals[0]].dropna().iloc[0]).strip()!r} first), "
            "not data: delete it so only the data rows are read").tolist()))
    skipped = np.concatenate([headers, totals])   # reported once each; their cells are left out of every check
    if skipped.size:
        frame = frame.mask(np.isin(np.arange(len(frame)), skipped)[:, None] & np.ones(frame.shape, dtype=bool))
    for spec in schema.columns:
        if spec.name not in frame.columns:
            continue
        column = frame[spec.name]
        if spec.type in ("date", "month"):
            column, named = tables_io.named_month_dates(tables_io.unpadded_dates(column), month=spec.type == "month")
            if named is not None:
                out.append(_named_month_note(raw, spec, named, column, int(column.notna().sum())))
            column, example = tables_io.day_first_dates(column)
            if example is not None:
                out.append(_day_first_note(raw, spec, example, int(column.notna().sum())))
            column, timed = tables_io.dates_without_time(column)
            if timed.size:
                out.append(_time_note(raw, spec, frame[spec.name], column, timed))
        elif spec.type in ("integer", "float"):
            column, example = tables_io.plain_numbers(column)
            if example is not None:
                changed = int((column.astype("string") != frame[spec.name].astype("string")).sum())
                out.append(_number_note(raw, spec, example, changed))
        if spec.type == "string":
            column, failed = _excel_errors(raw, spec, column)
            if failed is not None:
                out.append(failed)
                unparsed[spec.name] = np.union1d(unparsed.get(spec.name, np.array([], dtype="int64")), failed["row"].to_numpy(dtype="int64") - 1)
        if spec.name in schema.id_columns:
            column, example = tables_io.unpadded_ids(column)
            if example is not None:
                out.append(_id_spaces_note(raw, spec, frame[spec.name], column))
        if spec.type == "string" and not spec.list_separator:
            column, meant = tables_io.read_codes(column, spec.allowed_values())
            if meant:
                out.append(_codes_note(raw, spec, frame[spec.name], meant))
        typed[spec.name], bad, outside = _parse_column(column, spec)
        if bad.size:
            shown = frame[spec.name].iloc[bad].astype(str).reset_index(drop=True)
            msgs = _where(table, bad) + f": {spec.name} is '" + shown.astype(object) + f"'; must be {_TYPE_WORDS[spec.type]}"
            if spec.type == "integer":
                huge = (to_float(frame[spec.name].iloc[bad], errors="coerce").abs() >= _INT64_LIMIT).to_numpy()
                msgs = msgs.where(~huge, msgs + f" below {_INT64_LIMIT:.3g}")
            msgs = msgs + _export_advice(shown, spec) + _hint(spec.hints, "type")
            out.append(_records(table, file, rows=bad, column=spec.name, rule="type", values=shown.tolist(), messages=msgs.tolist(), exact_lines=raw.exact_lines))
            if spec.type in ("date", "month"):
                out += _date_format_records(raw, spec, shown)
        if outside.size:
            shown = _fmt(frame[spec.name].iloc[outside]).reset_index(drop=True) if pd.api.types.is_datetime64_any_dtype(frame[spec.name]) else frame[spec.name].iloc[outside].astype(str).reset_index(drop=True)
            low, high = (d.date().isoformat() for d in DATE_RANGE)
            msgs = _where(table, outside) + f": {spec.name} is '" + shown.astype(object) + f"'; must be a date from {low} to {high} (leave it empty when there is no date)"
            out.append(_records(table, file, rows=outside, column=spec.name, rule="date_range", values=shown.tolist(), messages=msgs.tolist(), exact_lines=raw.exact_lines))
        if bad.size or outside.size:
            unparsed[spec.name] = np.union1d(bad, outside)
    blank = np.setdiff1d(np.flatnonzero(frame.isna().all(axis=1).to_numpy()), skipped)
    if skipped.size:
        unparsed = {c: np.union1d(unparsed.get(c, np.array([], dtype="int64")), skipped) for c in frame.columns}
    if blank.size:
        # One record for a row with no values at all (a spreadsheet's empty rows below the data), not one
        # "is empty; a value is required" per required column.
        out.append(_records(table, file, rows=blank, rule="empty_row", exact_lines=raw.exact_lines, messages=(
            _where(table, blank) + ": every field is empty; delete the row (spreadsheets often save empty rows "
            "below the data as lines of commas)").tolist()))
        unparsed = {c: np.union1d(unparsed.get(c, np.array([], dtype="int64")), blank) for c in frame.columns}
    typed_frame = pd.DataFrame(typed, index=frame.index)
    out += _pandera_failures(raw, schema, typed_frame, as_of, unparsed)
    out += _row_check_failures(raw, schema, typed_frame, _flagged_rows(out))
    # After the row checks: an id already reported as holding the row's name needs no second record.
    out += _pattern_warnings(raw, schema, typed_frame, _flagged_rows(out))
    return typed_frame, out


# --------------------------------------------------------------------------- entry points


def count_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """Failures counted by table, rule and severity (one row each), errors first, largest first."""
    if failures.empty:
        return pd.DataFrame(columns=["table", "rule", "severity", "count"])
    return (
        failures.groupby(["table", "rule", "severity"], dropna=False)
        .size()
        .rename("count")
        .reset_index()
        .sort_values(["severity", "count"], ascending=[True, False], ignore_index=True)
    )


def _finish(parts: list[pd.DataFrame], tables: dict[str, int], data_dir: str, as_of, max_errors: int | None) -> ValidationReport:
    parts = [p for p in parts if not p.empty]
    failures = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    failures = failures[FAILURE_COLUMNS]
    failures["row"] = failures["row"].astype("Int64")
    failures["line"] = failures["line"].astype("Int64")
    order = failures["severity"].map({"error": 0, "warning": 1})
    failures = failures.assign(_o=order).sort_values(["_o", "table", "row"], kind="stable", na_position="first").drop(columns="_o").reset_index(drop=True)
    truncated, counts = False, count_failures(failures)
    if max_errors is not None and len(failures) > max_errors:
        failures, truncated = failures.head(max_errors).reset_index(drop=True), True
    return ValidationReport(failures=failures, tables=tables, data_dir=data_dir, as_of=as_of, truncated=truncated,
                            counts=counts)


def _as_of(as_of) -> pd.Timestamp | None:
    return None if as_of is None else pd.Timestamp(as_of).normalize()


def validate_dir(data_dir: str | Path, *, as_of=None, max_errors: int | None = None) -> ValidationReport:
    """Validate every table file in ``data_dir`` against ``data_schema/``; never writes into ``data_dir``.

    Parameters
    ----------
    data_dir : path
        Folder holding ``<table>.csv``, ``<table>.xlsx`` or ``<table>.parquet`` files.
    as_of : date-like, optional
        Dates after this day are errors in columns declared ``not_after_as_of``;
        None skips that check.
    max_errors : int, optional
        Keep at most this many records in the report (all checks still run).

    Returns
    -------
    ValidationReport

    Raises
    ------
    FileNotFoundError
        When ``data_dir`` is not a folder (nothing could be read).
    """
    return _validate_dir(data_dir, as_of=as_of, max_errors=max_errors)[0]


def _validate_dir(data_dir: str | Path, *, as_of, max_errors: int | None,
                  warnings_if_valid: bool = True) -> tuple[ValidationReport, dict[str, _Raw]]:
    """:func:`validate_dir`'s report and the tables it read (by table), so a caller need not read them again.

    ``warnings_if_valid``: see :func:`_validate_raws`."""
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():   # FileNotFoundError still: every caller handles that one
        raise FileNotFoundError(f"{data_dir}: is a file, not a folder; give the folder that holds the extract's "
                                f"tables ({data_dir.parent})")
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir}: no such folder")
    as_of = _as_of(as_of)
    schemas = load_schemas()
    parts: list[pd.DataFrame] = []
    raws: dict[str, _Raw] = {}
    for name, schema in schemas.items():
        path = find_table_file(data_dir, name)
        if path is None:
            if schema.required:
                parts.append(_records(name, f"{name}.csv", rule="missing_table", messages=f"required table {name} is missing: expected {name}.csv, {name}.xlsx or {name}.parquet in {data_dir}" + _other_format_hint(data_dir, name)))
            continue
        both = tables_io.two_formats(data_dir, name)
        if both:
            parts.append(_records(name, " and ".join(p.name for p in both), rule="duplicate_file",
                                  messages=tables_io.two_formats_message(both)))
            continue
        raws[name] = _read_file(name, path)
        if path.suffix == ".parquet" and path.with_suffix(".csv").exists():
            parts.append(_records(name, f"{name}.csv", rule="duplicate_file", severity="warning",
                                  messages=f"{name} is given as {name}.csv and {name}.parquet; {name}.parquet is used and {name}.csv ignored"))
    for path in sorted(data_dir.iterdir()):
        if path.suffix in SUFFIXES and path.stem not in schemas and not path.name.startswith("~$"):
            # ('~$workers.xlsx' is the owner file Excel keeps beside a workbook while it is open: not data.)
            why = _stray_file_hint(data_dir, path, schemas)
            parts.append(_records(path.stem, path.name, rule="unknown_file", severity="warning", exact_lines=path.suffix == ".csv",
                                  messages=f"{path.name} is not a table of the schema ({', '.join(schemas)}) and is ignored{why}"))
    return _validate_raws(raws, schemas, parts, str(data_dir), as_of, max_errors, warnings_if_valid=warnings_if_valid), raws


def misnamed_files(data_dir: str | Path, tables=None) -> list[str]:
    """Files that look like a table in another format or spelling (teams.xlsx, Workers.CSV) and are therefore not read."""
    tables = set(load_schemas()) if tables is None else {tables} if isinstance(tables, str) else set(tables)
    # Against the table's own lower-case name: 'Teams.csv', the likeliest spelling, differs only in its stem.
    return sorted(p.name for p in Path(data_dir).iterdir()
                  if p.stem.lower() in tables and p.name not in (f"{p.stem.lower()}{suffix}" for suffix in SUFFIXES))


def _stray_file_hint(data_dir: Path, path: Path, tables) -> str:
    """The fix for a table-like file that is not read: rename it (a wrong case, or one file under a dated name) or
    combine it with its other parts."""
    if path.stem.lower() in tables:
        return f"; names are case-sensitive: rename it {path.stem.lower()}{path.suffix.lower()}"
    whole = _part_of(path.stem, tables)
    if not whole:
        return ""
    if len(_parts(data_dir, whole)) == 1:
        return f"; it looks like table {whole} under another name: rename it {whole}{path.suffix.lower()}"
    return (f"; it looks like part of table {whole}: one file per table is read, so combine the parts into one "
            f"{whole}.csv (one header line) or {whole}.parquet")


def _parts(data_dir: Path, table: str) -> list[str]:
    """Files named as a part of ``table`` ('caseload_history_2024.csv'), sorted."""
    return sorted(p.name for p in Path(data_dir).iterdir() if p.suffix.lower() in SUFFIXES and _part_of(p.stem, [table]) == table)


def _part_of(stem: str, tables) -> str | None:
    """The table a file name is a part of ('caseload_history_2024', 'Workers (2)' -> caseload_history, workers), or None."""
    lowered = stem.lower()
    found = [t for t in tables if lowered.startswith(t) and len(lowered) > len(t) and not lowered[len(t)].isalpha()]
    return max(found, key=len) if found else None


def _other_format_hint(data_dir: Path, table: str) -> str:
    """When the table is there under another format or spelling (teams.xlsx, Teams.CSV), or in parts, say so."""
    found = misnamed_files(data_dir, table)
    pieces = _parts(data_dir, table)
    if len(pieces) == 1 and not found:   # one whole table under a dated or decorated name: renaming is the fix
        return (f"; found {pieces[0]}: the table is read only from a file named exactly {table}.csv, {table}.xlsx or "
                f"{table}.parquet, so rename it {table}{Path(pieces[0]).suffix.lower()}")
    if pieces and not found:
        return (f"; found {', '.join(pieces)}: one file per table is read, so combine them into one {table}.csv "
                f"(one header line), {table}.xlsx (one sheet) or {table}.parquet")
    if not found:
        return ""
    return (f"; found {', '.join(found)}, but only {table}.csv (UTF-8, comma-separated), {table}.xlsx (Excel workbook) "
            f"or {table}.parquet are read (names are case-sensitive): "
            + "; ".join(f"rename {name} to {table}{Path(name).suffix.lower()}" if Path(name).suffix.lower() in SUFFIXES
                        else f"save {name} in one of those formats" for name in found)
            + "".join(_OTHER_WORKBOOKS.get(Path(name).suffix.lower(), "").format(name=name, table=table) for name in found))


# Workbooks Excel saves in a format not read, and the one step that turns each into a table that is.
_OTHER_WORKBOOKS = {
    ".xls": "; {name} is the older Excel format (Excel 97-2003): open it in Excel and use File > Save As > "
            "'Excel Workbook (*.xlsx)' as {table}.xlsx",
    ".xlsm": "; {name} is a macro-enabled workbook: open it in Excel and use File > Save As > 'Excel Workbook "
             "(*.xlsx)' as {table}.xlsx (the macros are not needed to read the table)",
    ".xlsb": "; {name} is a binary workbook: open it in Excel and use File > Save As > 'Excel Workbook (*.xlsx)' "
             "as {table}.xlsx",
}


def read_validated(data_dir: str | Path, *, as_of=None, tables=None) -> dict[str, pd.DataFrame]:
    """Validate ``data_dir`` and return its tables as :func:`retention_ml.io.read_tables` types them.

    For training, scoring and explaining: stop with :class:`DataValidationError` (whose
    ``report`` lists every problem) rather than model bad data. Each file is read once: the
    tables validation read are typed by :func:`retention_ml.io.coerce_types`, the reader's own
    typing, so the result equals ``read_tables(data_dir, tables)``. The report raised is
    :func:`validate_dir`'s; on valid data its warnings are never shown, so the slowest of them
    (councils a table holds no rows for: scoring works them out at its own date) are skipped.
    :func:`read_validated_readings` also returns what was read another way (for the audit trail).

    Example
    -------
    >>> frames = read_validated("data_schema/examples/council_small", as_of="2025-07-01")  # doctest: +SKIP
    """
    return read_validated_readings(data_dir, as_of=as_of, tables=tables)[0]


# The warnings that say a value was read other than as written (an encoding, a header, a date order, a code label, a
# pound sign, a spreadsheet's empty cells), or read though the analyst may believe it left out (a workbook's hidden
# rows and columns). Training and scoring record them so an audit can see what was coerced or read unseen.
FORGIVING_RULES = ("encoding", "column_name", "date_format", "date_time", "code_spelling", "id_spaces", "number_format", "spreadsheet_residue",
                   "leading_zeros", "hidden_rows", "hidden_columns")


# The warnings that an id may identify its person (a name, a payroll number). `train` and `score` validate but
# showed no warning on valid data, so an extract fed straight to them, as a scheduled job does, carried payroll
# numbers into every scores file and list unnoticed: they keep these with the readings, one record per file,
# column and rule (the rows counted, no value), and print them.
IDENTIFYING_ID_RULES = ("name_like_id", "number_like_id", "ni_number_like_id")
# Warnings that move what training counts: the end of the data is read from the last caseload month, so a thin
# one (a stray or mistyped row), or a pooled council exported earlier than the rest, makes people in post a stayer. `train` validates without printing
# warnings, so it keeps these with the readings and prints them; `score` only keeps them (an extract pulled
# mid-month holds part of the current month, which scoring never reads).
DATA_END_RULES = ("thin_last_month", "council_ends_early")
SHOWN_ROWS = 5   # rows named in one record standing for many (an identifying-id reading, a problem repeated on many rows)


def forgiving_readings(report: ValidationReport) -> dict[str, list[dict]]:
    """File -> the :data:`FORGIVING_RULES` and :data:`DATA_END_RULES` warnings of ``report`` on it (rule, column,
    value, message; a thin month's few stray rows each), then one
    record per column and :data:`IDENTIFYING_ID_RULES` rule (value None, the rows counted), files sorted.

    Small by construction (one record per file or column, never per row): what a run's or a scoring's record keeps.

    >>> forgiving_readings(validate_dir("data_schema/examples/council_small"))  # doctest: +SKIP
    {}
    """
    found = report.warnings[report.warnings["rule"].isin((*FORGIVING_RULES, *DATA_END_RULES))]
    out: dict[str, list[dict]] = {}
    for row in found.sort_values(["file", "rule"], kind="stable").itertuples():
        out.setdefault(row.file, []).append({"rule": row.rule, "column": None if pd.isna(row.column) else row.column,
                                             "value": None if pd.isna(row.value) else str(row.value), "message": row.message})
    ids = report.warnings[report.warnings["rule"].isin(IDENTIFYING_ID_RULES)]
    for (file, column, rule), group in ids.groupby(["file", "column", "rule"], sort=True):
        out.setdefault(file, []).append({"rule": rule, "column": column, "value": None,
                                         "message": _identifying_message(file, column, rule, group["row"])})
    return out


def _identifying_message(file: str, column: str, rule: str, rows: pd.Series) -> str:
    """``workers.csv: 2 rows of worker_id (rows 3, 9): <the rule> ...``: counted and named, never a value."""
    shown = ", ".join(f"{int(r):,}" for r in rows.head(SHOWN_ROWS))
    more = f" and {len(rows) - SHOWN_ROWS:,} more" if len(rows) > SHOWN_ROWS else ""
    return (f"{file}: {len(rows):,} row(s) of {column} (rows {shown}{more}), rule {rule}: {RULES[rule]}; "
            f"`retention-ml validate --json` lists every row")


def identifying_id_warnings(readings: Mapping[str, list[dict]] | None) -> list[str]:
    """The :data:`IDENTIFYING_ID_RULES` messages of a run's or a scoring's readings (:func:`forgiving_readings`)."""
    return [r["message"] for records in (readings or {}).values() for r in records if r["rule"] in IDENTIFYING_ID_RULES]


def data_end_warnings(readings: Mapping[str, list[dict]] | None) -> list[str]:
    """The :data:`DATA_END_RULES` messages of a run's readings (:func:`forgiving_readings`)."""
    return [r["message"] for records in (readings or {}).values() for r in records if r["rule"] in DATA_END_RULES]


def read_validated_readings(data_dir: str | Path, *, as_of=None, tables=None) -> tuple[dict[str, pd.DataFrame], dict[str, list[dict]]]:
    """:func:`read_validated`'s tables and :func:`forgiving_readings` of the same read (no second read)."""
    report, raws = _validate_dir(data_dir, as_of=as_of, max_errors=None, warnings_if_valid=False)
    report.raise_for_errors()
    schemas = load_schemas()
    out: dict[str, pd.DataFrame] = {}
    for name in (list(tables) if tables is not None else list(schemas)):
        raw = raws.pop(name, None)   # popped: each raw table is freed once typed, so memory stays as low as a fresh read
        if raw is None or raw.frame is None:
            # Not read by validation (absent, or a name the schema lacks): the reader says so as it always has.
            out.update(tables_io.read_tables(data_dir, [name]))
            continue
        out[name] = tables_io.coerce_types(raw.as_read if raw.as_read is not None else raw.frame, schemas[name])
    raw = None   # the last raw table, and any not asked for, freed too
    raws.clear()
    # The raw text columns lived in Arrow's memory pool, which keeps freed memory for reuse; the commands that
    # read this way go on to build features with NumPy, so hand it back (measured: ~0.13 GB at national size).
    pyarrow.default_memory_pool().release_unused()
    return out, forgiving_readings(report)


def validate_frames(frames: Mapping[str, pd.DataFrame], *, as_of=None, max_errors: int | None = None, source: str = "<frames>") -> ValidationReport:
    """Validate tables already in memory (for example from :func:`retention_ml.io.read_tables`).

    Rows are numbered by position; ``file`` is ``<table>`` and ``line`` is empty.
    """
    as_of = _as_of(as_of)
    schemas = load_schemas()
    parts = [
        _records(name, name, rule="missing_table", messages=f"required table {name} is missing", exact_lines=False)
        for name, s in schemas.items()
        if s.required and name not in frames
    ]
    raws = {name: _Raw(name, name, f.reset_index(drop=True), False, []) for name, f in frames.items() if name in schemas}
    return _validate_raws(raws, schemas, parts, source, as_of, max_errors)


def _renumber(part: pd.DataFrame, raws: dict[str, _Raw]) -> pd.DataFrame:
    """Rows of a table read without its ragged lines, numbered as data records of the whole file (and their lines)."""
    if part.empty:
        return part
    raw = raws.get(part["table"].iat[0])
    if raw is None or raw.row_map is None or part["row"].isna().all():
        return part
    has_row = part["row"].notna().to_numpy()
    part = part.copy()
    rows = raw.row_map[part.loc[has_row, "row"].to_numpy(dtype="int64") - 1] + 1
    part.loc[has_row, "row"] = rows
    part.loc[has_row, "line"] = rows + 1
    part["message"] = _renumber_messages(part, has_row, raw.table)
    return part


def _renumber_messages(part: pd.DataFrame, has_row: np.ndarray, table: str) -> pd.Series:
    """Messages start "<table> row N:"; N is rewritten to the record number."""
    messages = part["message"].astype(object).copy()
    prefix = re.compile(rf"^{re.escape(table)} row [\d,]+:")
    new = _where(table, part.loc[has_row, "row"].to_numpy(dtype="int64") - 1) + ":"
    messages.loc[has_row] = [prefix.sub(head, m, count=1) for head, m in zip(new, messages.loc[has_row])]
    return messages


def _has_error(parts: list[pd.DataFrame]) -> bool:
    return any(not p.empty and p["severity"].eq("error").any() for p in parts)


def _validate_raws(raws, schemas, parts, source, as_of, max_errors, *, warnings_if_valid: bool = True) -> ValidationReport:
    """The report on ``raws``. ``warnings_if_valid=False``: the coverage warnings (the slowest check, and never an
    error) are only worked out when there is an error, so a caller that only stops on errors skips them on valid data;
    a report with an error is the same either way."""
    typed: dict[str, pd.DataFrame] = {}
    tables: dict[str, int] = {}
    for name, raw in raws.items():
        frame, failures = _check_table(raw, schemas[name], as_of)
        parts += failures
        if raw.frame is not None:
            tables[name] = len(raw.frame)
        if frame is not None:
            typed[name] = frame
    parts += _foreign_key_failures(raws, typed, schemas)
    parts += _spell_failures(raws, typed, schemas)
    parts += _month_coverage_failures(raws, typed, schemas)
    parts += _interview_warnings(raws, typed)
    parts += _far_ahead_warnings(raws, typed)
    parts += _council_end_warnings(raws, typed)
    parts += _team_history_warnings(raws, typed)
    parts += _fte_history_warnings(raws, typed)
    # A header-only table was not typed (nothing to check) but is still a table given with no rows for anyone.
    given = {**{n: r.frame for n, r in raws.items() if r.frame is not None and len(r.frame) == 0}, **typed}
    if warnings_if_valid or _has_error(parts):
        parts.append(coverage_gaps(given, as_of=as_of, files={n: r.file for n, r in raws.items()}))
    parts = [_excel_rows(_renumber(p, raws)) for p in parts]
    return _finish(parts, tables, source, as_of, max_errors)


def _excel_rows(part: pd.DataFrame) -> pd.DataFrame:
    """Messages on a workbook's rows also name the row Excel shows ("teams row 4 (Excel row 5): ..."): ``row``
    counts data rows as for a CSV, but an analyst looks the problem up by the number at the sheet's edge."""
    if part.empty or not str(part["file"].iat[0]).endswith(tables_io.EXCEL) or part["row"].isna().all():
        return part
    table = part["table"].iat[0]
    has_row = part["row"].notna().to_numpy() & part["line"].notna().to_numpy()
    part = part.copy()
    prefix = re.compile(rf"^({re.escape(table)} row [\d,]+):")
    lines = part.loc[has_row, "line"].to_numpy(dtype="int64")
    part.loc[has_row, "message"] = [prefix.sub(rf"\1 (Excel row {line:,}):", m, count=1)
                                    for line, m in zip(lines, part.loc[has_row, "message"])]
    return part


# --------------------------------------------------------------------------- coverage by council


def _features_by_table() -> dict[str, list[str]]:
    """Table -> the features computed from it, from the feature families' own declaration (``input_tables``).

    Imported here, not at module level: the feature catalogue is the one place that says which feature reads
    which table, and validation needs only that list, never the features themselves.
    """
    from retention_ml.features import FAMILIES

    out: dict[str, list[str]] = {}
    for family in FAMILIES.values():
        for feature, tables in family.input_tables().items():
            for table in tables:
                out.setdefault(table, []).append(feature)
    return out


def _in_post(workers: pd.DataFrame, as_of) -> pd.Series:
    """True for spells in post on ``as_of`` (all spells when ``as_of`` is None)."""
    if as_of is None:
        return pd.Series(True, index=workers.index)
    start = pd.to_datetime(workers["start_date"])
    end = pd.to_datetime(workers["end_date"]) if "end_date" in workers else pd.Series(pd.NaT, index=workers.index)
    return ((start <= as_of) & (end.isna() | (end >= as_of))).fillna(False).astype(bool)


def _date_key(schema: TableSchema, frame: pd.DataFrame) -> str | None:
    """The date column of the table's primary key (month, period, date, effective_date), or None."""
    dated = [c for c in schema.primary_key if c in frame and schema.column(c).type in ("date", "month")]
    return dated[0] if dated else None


def _dated_before(frame: pd.DataFrame, schema: TableSchema, as_of) -> pd.DataFrame:
    """Rows of ``frame`` dated before ``as_of`` (by the date in its primary key), or all rows without one."""
    dated = _date_key(schema, frame)
    if as_of is None or dated is None or len(frame) == 0:
        return frame
    return frame[(pd.to_datetime(frame[dated]) < as_of).fillna(False).to_numpy(dtype=bool)]


def coverage_gaps(frames: Mapping[str, pd.DataFrame], *, as_of=None, files: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``no_rows_for_council`` warnings: a table given that holds no row for a council's workers.

    A feature computed from such a table is missing for every worker of that council, or 0 where it counts
    rows (supervision sessions in the last 3 months: "no supervision", a false fact), and nobody is told. Each record names the table, the
    council, how many of its workers are affected and the features left empty. With ``as_of`` (scoring, or
    ``validate --as-of``) only the council's workers in post on that day count, and only rows dated before
    it, since the features at ``as_of`` read nothing later.

    Tables are tied to councils by ``worker_id`` (through ``workers.team_id`` and ``teams.council_id``), by
    ``council_id``, or by the workers' columns that reference them (``home_area`` -> ``housing_costs``).
    Tables no feature reads (``exit_interviews``) and the tables that define councils (``workers``,
    ``teams``) are not checked. Vectorised: one lookup per table.

    Parameters
    ----------
    frames : mapping of DataFrame
        Tables as :func:`retention_ml.io.read_tables` returns them (or as validation typed them).
    as_of : date-like, optional
    files : mapping, optional
        Table -> file name for the records (default ``<table>.csv``).

    Returns
    -------
    DataFrame
        Failure records (:data:`FAILURE_COLUMNS`), empty when every council has rows in every table given.

    Example
    -------
    >>> gaps = coverage_gaps(read_tables("extracts/2025-07"), as_of="2025-07-01")   # doctest: +SKIP
    >>> gaps["message"].tolist()                                                     # doctest: +SKIP
    ['supervision has no rows for council C001 ...']
    """
    as_of = _as_of(as_of)
    files = dict(files or {})
    workers, teams = frames.get("workers"), frames.get("teams")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
    if workers is None or teams is None or not {"worker_id", "team_id"} <= set(workers) or not {"team_id", "council_id"} <= set(teams):
        return empty
    schemas = load_schemas()
    council_of_team = teams.dropna(subset=["team_id"]).drop_duplicates("team_id").set_index("team_id")["council_id"]
    staff = workers.assign(_council=workers["team_id"].map(council_of_team))
    staff = staff[staff["_council"].notna() & _in_post(staff, as_of).to_numpy()]
    if staff.empty:
        return empty
    headcount = staff.groupby("_council").size()
    features = _features_by_table()
    parts = []
    for name, frame in frames.items():
        if name in ("workers", "teams") or name not in features or name not in schemas:
            continue
        rows = _dated_before(frame, schemas[name], as_of)
        date = _date_key(schemas[name], rows)
        latest, key = _latest_by_council(name, rows, staff, date)
        if key is None:
            continue
        file = files.get(name, f"{name}.csv")
        gaps = headcount[~headcount.index.isin(latest.index)]
        if not gaps.empty:
            parts.append(_coverage_records(name, file, key, gaps, features[name], as_of))
        if as_of is not None and date is not None and schemas[name].every_month:
            old = latest[latest < as_of.to_period("M").to_timestamp() - pd.DateOffset(months=STALE_MONTHS)]
            if not old.empty:
                parts.append(_stale_records(name, file, key, old, headcount, features[name], as_of))
    return pd.concat(parts, ignore_index=True) if parts else empty


def _latest_by_council(name: str, rows: pd.DataFrame, staff: pd.DataFrame, date: str | None) -> tuple[pd.Series, str | None]:
    """Council -> the latest date of ``rows`` for it (councils without rows left out), and the column that ties
    the table to councils (None: no tie). Grouped by the table's own key first: thousands of ids, not millions of rows."""
    when = rows[date] if date is not None else pd.Series(pd.Timestamp(0), index=rows.index)
    if "worker_id" in rows:
        by_id = when.groupby(rows["worker_id"].astype(object), sort=False).max()
        council = staff.drop_duplicates("worker_id").set_index("worker_id")["_council"]
        by_id = by_id[_isin(pd.Series(by_id.index, dtype=object), staff["worker_id"].astype(object))]
        return by_id.groupby(by_id.index.map(council)).max(), "worker_id"
    if "council_id" in rows:
        return when.groupby(rows["council_id"].astype(object), sort=False).max(), "council_id"
    refs = [(fk.columns[0], fk.column) for fk in load_schemas()["workers"].foreign_keys if fk.table == name]
    refs = [(col, ref) for col, ref in refs if col in staff and ref in rows]
    if not refs:
        return pd.Series(dtype="datetime64[ns]"), None
    if rows.empty:
        return pd.Series(dtype="datetime64[ns]"), refs[0][1]
    latest = []
    for col, ref in refs:
        by_area = when.groupby(rows[ref].astype(object), sort=False).max()
        latest.append(staff[col].astype(object).map(by_area).groupby(staff["_council"]).max().dropna())
    return pd.concat(latest).groupby(level=0).max(), refs[0][1]


def _stale_records(name: str, file: str, key: str, old: pd.Series, headcount: pd.Series, features: list[str], as_of) -> pd.DataFrame:
    shown = ", ".join(features[:6]) + (f" and {len(features) - 6} more" if len(features) > 6 else "")
    councils = pd.Series(old.index.astype(str), dtype=object)
    last = pd.Series(pd.to_datetime(old.to_numpy()).strftime("%Y-%m"), dtype=object)
    gap = pd.Series(((as_of.year - pd.to_datetime(old.to_numpy()).year) * 12 + as_of.month - pd.to_datetime(old.to_numpy()).month), dtype="int64")
    n = pd.Series(headcount.reindex(old.index).fillna(0).astype(int).to_numpy()).map("{:,}".format).astype(object)
    msgs = (f"{name}'s latest row for council " + councils + " is " + last + ", " + gap.astype(str)
            + f" months before {as_of.date().isoformat()} (" + n + f" worker(s) in post then): the features it feeds "
            f"({shown}) read old values or none for them; check that {file} was exported up to the month before "
            f"{as_of.date().isoformat()} for this council")
    return _records(name, file, column=key, rule="no_recent_rows", severity="warning", values=last.tolist(), messages=msgs.tolist())


def _coverage_records(name: str, file: str, key: str, gaps: pd.Series, features: list[str], as_of) -> pd.DataFrame:
    when = f" before {as_of.date().isoformat()}" if as_of is not None else ""
    who = f"worker(s) in post on {as_of.date().isoformat()}" if as_of is not None else "worker(s)"
    shown = ", ".join(features[:6]) + (f" and {len(features) - 6} more" if len(features) > 6 else "")
    councils = pd.Series(gaps.index.astype(str), dtype=object)
    msgs = (f"{name} has no rows{when} for council " + councils + " (" + pd.Series(gaps.to_numpy()).map("{:,}".format).astype(object)
            + f" {who}): the features it feeds ({shown}) will be missing for all of them, or 0 where a feature "
            f"counts rows, which the model reads as a fact; check that the export behind {file} includes this council's teams and add its rows")
    return _records(name, file, column=key, rule="no_rows_for_council", severity="warning",
                    values=councils.tolist(), messages=msgs.tolist())
