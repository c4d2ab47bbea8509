"""``retention-ml validate``: check a folder of HR extracts against data_schema/ and list every problem."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from retention_ml.commands import fail

HELP = """Check every table in DATA_DIR against the schemas in data_schema/ and report every problem in one pass.

For each problem: file, row (1-based data record; the header and blank lines are not counted; for a workbook also the Excel row, the number at the sheet's edge: "3 (Excel row 4)", and excel_row in --json), column, the offending value and the rule in plain words. Missing required tables or columns, a column named twice in a header, a header repeated between data rows (files joined), a totals row under the data (a CSV or a workbook), unreadable files, wrong types, dates outside 1900-2100, unparseable dates, values outside allowed lists or ranges, end before start, duplicate keys, rows pointing at unknown workers/teams/areas, dates after --as-of, non-UTF-8, ragged (every bad line is listed) and empty files are errors; a caseload month with no row, or caseload rows standing apart from the rest after such a gap (a mistyped year would move the end of the data), are errors too; unknown columns are warnings, and so is a table with no rows for a council's workers (its features would be missing, or 0, for all of them), a last caseload month holding under half the usual rows, an exit interview of a spell with no end_date, or, with --as-of, a monthly table not refreshed for a council. What an export writes another way but can be read only one way (Windows-1252 text, padded headers and ids, DD/MM/YYYY dates with a day above 12, dates with the month's name and a four-digit year (03-May-2021), a time of day after a date, £38,192.00, code labels such as Fixed Term) is read, with a warning naming the reading. Optional tables not given are named after the tables read. Each message names the fix. A problem found on more than 5 rows of one file and column (ids that look like payroll numbers, a month column written DD/MM/YYYY) is printed once: its count, its first rows and the first row's message; --json lists every record. Nothing is written into DATA_DIR.

Exit codes: 0 valid (warnings allowed), 1 problems found, 2 could not run (no such folder, or no table file in it).

\b
Examples:
  retention-ml validate data_schema/examples/council_small
  retention-ml validate extracts/2025-07 --as-of 2025-07-01
  retention-ml validate extracts/2025-07 --json > problems.json
  retention-ml validate extracts/2025-07 --max-errors 50
"""


def register(app: typer.Typer) -> None:
    app.command("validate", help=HELP)(validate)


def validate(
    data_dir: Path = typer.Argument(..., help="Folder with <table>.csv, <table>.xlsx or <table>.parquet files."),
    as_of: str = typer.Option(None, "--as-of", help="Dates after this day (YYYY-MM-DD) are errors, e.g. 2025-07-01. Default: no check."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON (ok, counts, rows per table, every failure)."),
    max_errors: int = typer.Option(200, "--max-errors", min=1, help="List at most this many problems (all checks still run)."),
) -> None:
    from rich.console import Console
    from rich.table import Table

    from retention_ml.io import find_table_file
    from retention_ml.schema import load_schemas
    from retention_ml.validation import misnamed_files, validate_dir

    console = Console(stderr=False)
    err = Console(stderr=True)
    if as_of is not None:
        try:
            as_of = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date (expected YYYY-MM-DD)", 2, json_out=json_out)
    try:
        with err.status(f"Validating {data_dir} ..."):
            # the text folds a problem repeated on many rows into one message, counted over every record; JSON
            # lists the records themselves, at most --max-errors of them
            report = validate_dir(data_dir, as_of=as_of, max_errors=max_errors if json_out else None)
    except (FileNotFoundError, NotADirectoryError, PermissionError) as exc:
        fail(f"cannot validate: {exc}", 2, json_out=json_out)

    if not any(find_table_file(data_dir, name) for name in load_schemas()):
        # Not one table file: almost certainly the wrong folder, so "could not run" rather than "problems found".
        message = f"no table files in {data_dir}: expected files such as workers.csv, teams.csv or caseload_history.parquet"
        misnamed = misnamed_files(data_dir)
        if misnamed:
            message += f"; found {', '.join(misnamed)}, but only <table>.csv (UTF-8, comma-separated), <table>.xlsx (Excel workbook) or <table>.parquet are read, names in lower case"
        fail(f"cannot validate: {message}", 2, json_out=json_out)
    if json_out:
        typer.echo(report.to_json(indent=2))
        raise typer.Exit(0 if report.ok else 1)

    console.print(f"Tables read from {data_dir}:")
    read = Table(show_edge=False)
    read.add_column("table")
    read.add_column("rows", justify="right")
    for name, n in report.tables.items():
        read.add_row(name, f"{n:,}")
    console.print(read)
    absent = not_given(report)
    if absent:
        console.print(f"Optional tables not given: {', '.join(absent)}. The features they feed are left out, never "
                      "invented (the model card and explain say \"not measured\"); if your systems hold them, export "
                      "them (retention-ml schema show <table>).", highlight=False, soft_wrap=True)
    print_problems(console, report, limit=max_errors)
    console.print(next_step(report), highlight=False, soft_wrap=True)   # not broken at 80 columns: the command pastes
    raise typer.Exit(0 if report.ok else 1)


def not_given(report) -> list[str]:
    """The optional tables with no file in the folder validated (a table given but unreadable is reported as such)."""
    from retention_ml.io import table_files
    from retention_ml.schema import load_schemas

    return [name for name, schema in load_schemas().items()
            if not schema.required and name not in report.tables and not table_files(Path(report.data_dir), name)]


def next_step(report) -> str:
    """What to do after reading the report: where each flagged table's columns are explained and how files are
    written when there are errors, or the command that uses the data when there are none."""
    from retention_ml.schema import load_schemas, schema_dir

    if report.ok:
        return (f"Next: retention-ml train experiments/council_default.toml --set data.path={report.data_dir} "
                "(warnings above, if any, say what was read another way or is missing).")
    tables = [t for t in dict.fromkeys(report.errors["table"]) if t in load_schemas()]
    show = "; ".join(f"retention-ml schema show {t}" for t in tables)
    return (f"Next: fix the files named above and validate again. What each column must hold: {show}; how to "
            f"write dates, numbers, codes and files from Excel: 'Writing the files' in {schema_dir() / 'README.md'}.")


def _cell(value, fmt=str) -> str:
    """Text for a table cell; missing values (None, NaN, pd.NA) are blank."""
    import pandas as pd

    return "" if value is None or pd.isna(value) else fmt(value)


NARROW = 120   # terminal columns below which problems are printed one a line rather than as a table


def print_problems(console, report, limit: int | None = 50) -> None:
    """Print the report's problem table (at most ``limit`` rows), the counts per table and rule, and the headline.

    Shared by ``validate``, ``train`` and ``explain`` so invalid data is reported the same way everywhere. On a
    terminal narrower than :data:`NARROW` each problem is one line (its message names file, row and column).
    """
    from rich.markup import escape

    from retention_ml.validation import SHOWN_ROWS

    # piped or logged (rich's 80 columns) a problem is one line of the log, whole for grep, and a command or path
    # pastes; a terminal wraps the line for show
    whole = not console.is_terminal
    if not report.failures.empty:
        listing = report.grouped()   # a problem repeated on many rows of a file and column: one message
        if console.width < NARROW:
            # A seven-column table folds each message into a column a few letters wide: one problem a line instead.
            for rec in listing.head(limit).itertuples(index=False):
                colour = "red" if rec.severity == "error" else "yellow"
                console.print(f"[{colour}]{rec.severity}[/{colour}] ({rec.rule}) {escape(str(rec.message))}", highlight=False,
                              soft_wrap=whole)
        else:
            console.print(problem_table(listing, limit))
        total = sum(report.totals())   # every record found, also when the report holds fewer
        if limit is not None and len(listing) > limit:
            console.print(f"... and {int(listing['count'].iloc[limit:].sum()):,} more; `retention-ml validate {report.data_dir} "
                          f"--json --max-errors {total}` lists them all.", soft_wrap=True)
        elif (listing["count"] > 1).any():
            console.print(f"A problem found on more than {SHOWN_ROWS} rows of a file and column is shown once, with its "
                          f"count and first rows; `retention-ml validate {report.data_dir} --json --max-errors {total}` "
                          "lists every row.", soft_wrap=True)
        summary = report.summary()
        console.print("Counts: " + "; ".join(f"{r.table} {r.rule} ({r.severity}): {r.count}" for r in summary.itertuples()),
                      soft_wrap=whole)
    colour = "green" if report.ok else "red"
    console.print(f"[{colour}]{report.headline()}[/{colour}]", soft_wrap=True)   # it names the folder


def problem_table(listing, limit: int | None = None):
    """The problems to print (``ValidationReport.grouped()``) as a rich table: severity, file, row, column, rule,
    value, message; a problem found on many rows shows its first row and how many more."""
    from rich.table import Table

    problems = Table(title="Problems", show_lines=False)
    for col in ("severity", "file", "row", "column", "rule", "value", "message"):
        problems.add_column(col, overflow="fold")
    for rec in listing.head(limit).itertuples(index=False):
        colour = "red" if rec.severity == "error" else "yellow"
        problems.add_row(
            f"[{colour}]{rec.severity}[/{colour}]",
            str(rec.file),
            _row_cell(rec) + (f" and {rec.count - 1:,} more" if rec.count > 1 and _cell(rec.row) else ""),
            _cell(rec.column),
            rec.rule,
            _cell(rec.value, lambda v: str(v)[:40]),
            rec.message,
        )
    return problems


def _row_cell(rec) -> str:
    """The row column's text: the data record, and for a workbook the row Excel shows, as the message names it
    ("3 (Excel row 4)"), so the two numbers cannot be taken for each other."""
    from retention_ml.io import EXCEL

    row = _cell(rec.row, lambda r: f"{int(r):,}")
    if row and str(rec.file).endswith(EXCEL) and _cell(rec.line):
        return f"{row} (Excel row {int(rec.line):,})"
    return row
