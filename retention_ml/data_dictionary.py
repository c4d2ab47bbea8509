"""The data dictionary (``data_schema/README.md``), generated from the schema files.

The dictionary is derived, never hand-edited: tables, columns, types, units,
allowed values, keys, protected/personal flags, the driver taxonomy with its
levers, and the validation rules. A test fails when the committed file is stale.

Regenerate after changing anything in ``data_schema/``::

    python -m retention_ml.data_dictionary          # rewrite data_schema/README.md
    python -m retention_ml.data_dictionary --check  # exit 1 when it is stale

Example
-------
>>> from retention_ml.data_dictionary import render_data_dictionary
>>> "## Table `workers`" in render_data_dictionary()
True
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from retention_ml.io import BOOLEAN_WORDS, atomic_path
from retention_ml.explain.spells import LEVER_CONTEXT
from retention_ml.schema import ColumnSpec, TableSchema, lever_groups, load_drivers, load_schemas, schema_dir, schema_version

__all__ = ["dictionary_path", "is_stale", "render_data_dictionary", "write_data_dictionary"]

_TYPE_TEXT = {
    "string": "text",
    "integer": "whole number",
    "float": "number",
    # the words the reader accepts, from the one vocabulary (any case)
    "boolean": "true/false (" + " / ".join(
        "|".join(w for w, v in BOOLEAN_WORDS.items() if v is flag) for flag in (True, False)) + ")",
    "date": "date `YYYY-MM-DD`",
    "month": "month `YYYY-MM-01` (or `YYYY-MM`)",
}


def dictionary_path() -> Path:
    """Where the generated dictionary lives: ``data_schema/README.md``."""
    return schema_dir() / "README.md"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def allowed_text(spec: ColumnSpec) -> str:
    """Allowed values, range and as-of rule of a column, in words (as the dictionary shows them)."""
    return _values(spec)


def _values(spec: ColumnSpec) -> str:
    parts = []
    allowed = spec.allowed_values()
    if allowed is not None:
        codes = ", ".join(f"`{v}`" for v in allowed)
        source = f" (from `{spec.allowed_from}`)" if spec.allowed_from else ""
        listed = f"list separated by `{spec.list_separator}` of: " if spec.list_separator else ""
        parts.append(f"{listed}{codes}{source}")
    if spec.min is not None and spec.max is not None:
        parts.append(f"{spec.min:g} to {spec.max:g}")
    elif spec.min is not None:
        parts.append(f"≥ {spec.min:g}")
    elif spec.max is not None:
        parts.append(f"≤ {spec.max:g}")
    if spec.not_after_as_of:
        parts.append("not after as-of")
    for warn in spec.warn_if_matches:
        parts.append(f"warning `{warn.rule}` if it matches `{warn.pattern}` (RE2)")
    return "; ".join(parts)


def _flags(spec: ColumnSpec) -> str:
    flags = []
    if spec.protected:
        flags.append("**protected** (fairness audits only, never a model input)")
    if spec.personal:
        flags.append("**personal** (never shown unless asked)")
    if spec.health:
        flags.append("**health data** (special category: lists name the driver, never the values)")
    return "; ".join(flags)


def _table_section(t: TableSchema, schemas: dict[str, TableSchema]) -> list[str]:
    out = [
        f"## Table `{t.name}`",
        "",
        t.description,
        "",
        f"- File: `{t.name}.csv` or `{t.name}.parquet`; {'**required**' if t.required else 'optional'}; schema version {t.version}.",
        f"- Primary key: {', '.join(f'`{k}`' for k in t.primary_key)} (each key once).",
    ]
    for fk in t.foreign_keys:
        out.append(f"- Foreign key: {', '.join(f'`{c}`' for c in fk.columns)} → `{fk.table}.{fk.column}`.")
    if t.default_rows:
        rows = "; ".join(", ".join(f"{k} {'(empty)' if v is None else v}" for k, v in r.items()) for r in t.default_rows)
        out.append(f"- When the file is not given, these rows apply: {rows}.")
    for chk in t.row_checks:
        exempt = f" (except {', '.join(chk.allow_other)})" if chk.allow_other else ""
        rule = f" (rule `{chk.rule}`)" if chk.rule != "row_check" else ""
        out.append(f"- Row check{rule}: `{chk.column} {chk.op} {chk.other}`{exempt}: {chk.message}.")
    if t.within_spell:
        out.append(f"- Within spell: `{t.within_spell}` falls in the worker's spell (`workers.start_date` to `end_date`, by calendar month); rows outside are warnings (`outside_spell`).")
    if t.every_month:
        from retention_ml.validation import STALE_MONTHS

        out.append(f"- Every month: a row for each month; with an as-of date, a council whose latest row is more than "
                   f"{STALE_MONTHS} months before it is a warning (`no_recent_rows`).")
    for rule, hint in t.hints.items():
        out.append(f"- On `{rule}`: {' '.join(hint.split())}.")
    out += [
        "",
        "| column | type | required | empty allowed | allowed values / range | unit | flags | description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in t.columns:
        out.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    f"`{c.name}`",
                    _TYPE_TEXT[c.type],
                    "yes" if c.required else "no",
                    "yes" if c.nullable else "no",
                    _values(c),
                    c.unit or "",
                    _flags(c),
                    c.description + "".join(f" On `{rule}`: {' '.join(hint.split())}." for rule, hint in c.hints.items())
                    + (f" Exports may call it {', '.join(f'`{a}`' for a in c.also_called)}: rename the header "
                       "(validate names it)." if c.also_called else ""),
                )
            )
            + " |"
        )
    out.append("")
    return out


def _drivers_section() -> list[str]:
    out = [
        "## Driver taxonomy (`drivers.yaml`)",
        "",
        "One list shared by exit-interview reason codes, the simulator's ground truth, the feature catalogue and grouped "
        "explanations. `exit reason`: may be given as an exit-interview reason. `model visible`: the model can see it in the data. "
        "`levers`: beside a reason, a list shows the first; a person in a group (lever_groups: "
        + ", ".join(f"{group.replace('_', ' ')} = {rule.rule()}" for group, rule in lever_groups().items())
        + ") gets their group's lever instead where the driver has one. The features a group names are the feature "
        "catalogue's, except these, worked out when scoring from `workers` and each team's manager "
        "(`retention_ml.explain.spells`, `retention_ml.explain.readers`) and never a model input: "
        + "; ".join(f"`{c}`: {meaning}" for c, meaning in LEVER_CONTEXT.items()) + ".",
        "",
        "| code | label | exit reason | model visible | description | levers |",
        "|---|---|---|---|---|---|",
    ]
    for d in load_drivers():
        levers = "<br>".join([*d.levers, *(f"for {group.replace('_', ' ')}: {text}" for group, texts in d.group_levers for text in texts)]) or "—"
        out.append(
            "| "
            + " | ".join(_cell(x) for x in (f"`{d.code}`", d.label, "yes" if d.exit_reason else "no", "yes" if d.model_visible else "no", d.description, levers))
            + " |"
        )
    out.append("")
    return out


def _writing_section(schemas: dict[str, TableSchema]) -> list[str]:
    """How the files must be written: what exports get wrong, each with the form that is read."""
    from retention_ml.validation import MISSING_MARKERS

    markers = ", ".join(f"`{m.upper()}`" for m in MISSING_MARKERS)
    codes = [c.name for c in schemas["workers"].columns if c.allowed][:2]
    words = " / ".join("|".join(w for w, v in BOOLEAN_WORDS.items() if v is flag) for flag in (True, False))
    return [
        "## Writing the files",
        "",
        "What HR and case-management exports often get wrong, and the form that is read. `retention-ml validate` "
        "names each of these in its messages. What can be read only one way (an Excel encoding, a padded header, "
        "day-first dates with a day above 12) is read, and each reading is a warning naming it (`train` and `score` "
        "keep these readings, by file, in the run's `data_readings.json` and in `score_meta.json`, so an audit sees "
        "what was read another way); nothing else is "
        "repaired or guessed, because a guess can read a value wrongly without a word. "
        "`retention-ml schema template DIR` writes one header-only CSV per table to start from.",
        "",
        "- **One file per table**, named exactly `<table>.csv`, `<table>.xlsx` or `<table>.parquet` (lower case) in "
        "one folder. A table exported in parts (by year, by council) is combined into one file with one header line "
        "first. A table given twice with one copy a workbook (`workers.csv` and `workers.xlsx`) is refused, naming "
        "both: which is meant cannot be told. (`workers.csv` beside `workers.parquet`: the Parquet file is read, with "
        "a warning.)",
        "- **Excel workbooks** (`.xlsx`; not the older `.xls`): one table per workbook. The sheet read is the one named "
        "after the table (`workers`, any case), else the only sheet holding values; several sheets with values and "
        "none named so are refused, naming them (a hidden sheet named as hidden). The header is row 1 (a title above it is refused, naming the row "
        "the header is on), and problems name the Excel row as a CSV's line (data row 1 is Excel row 2). Every cell is read as the text it shows, so every rule below applies "
        "unchanged: ids typed as text keep their leading zeros. In a text column (an id, a code) a whole number "
        "shown with leading zeros by a number format of zeros alone (`00000`, `000000`: Excel shows `00123`, the "
        "cell holds 123) is read as Excel shows it, `00123`, with one warning per column (`leading_zeros`, kept "
        "with the other readings); no other number format is read as shown: in a text column a number whose format "
        "shows other text (`\"T\"000`, `000-000`), or shows it rounded or with a minus (12.6 as `00013`), is an "
        "error naming the cell, and in a number column a format only displays the number (`018` is 18, `#,##0` "
        "and `0.00` likewise). Format id columns as Text and none of this arises. Excel date cells are read as ISO "
        "dates, and a date cell in a column that is not a date (an id or code Excel turned into a date) is an error "
        "naming the cell; formulas are read by the value Excel saved with them, and a formula saved without one (a "
        "workbook written by a program and never saved in Excel) is an error naming the cell, and so is a cell "
        "showing Excel's error for a failed formula (`#N/A` from a lookup with no match, `#REF!`), which read as "
        "text would pass as one more id or council. A cell an error names "
        "is read as empty and reported once, by that error (not again as a missing value or an unknown id). Merged "
        "cells are refused: in the header (a name over several columns) as one error, below it one error per cell "
        "other than the first (Excel shows the first cell's value across them; the others hold nothing). A totals "
        "row as the last row (`Total` as its first value: an Excel table's Total Row) is one error naming it, and "
        "is not read as data. Rows hidden in Excel (by a filter, or by hand) are read like every other row: hiding "
        "or filtering a row does not leave it out of the file; one warning per sheet (`hidden_rows`, kept with the "
        "other readings) names their Excel rows, so delete the rows that should not be read; hidden columns that are "
        "read get the same treatment (`hidden_columns`). "
        "Formatted but empty rows and columns after the data are left out without a warning: Excel shows nothing there.",
        "- **CSV**: comma-separated, UTF-8 (a byte-order mark is fine). Windows-1252 (\"ANSI\", what Excel's *CSV "
        "(Comma delimited)* writes) is read when the file is plainly that, with a warning (`encoding`) naming the "
        "characters it gave; UTF-16 (*Unicode text*) and a file mixing two encodings are refused. The first line is "
        "the header. Column order does not matter. Column names are as listed below (lower case, underscores), each "
        "once; a header differing only in case, spaces or punctuation (`Worker ID`, ` START_DATE `) is read as that "
        "column with a warning (`column_name`), and columns the schema does not declare are ignored with a warning. "
        "Empty rows after the last data row and empty columns with no header name are left out with a warning "
        "(`spreadsheet_residue`).",
        f"- **Missing values are empty cells.** {markers} and the like are values, not gaps: they fail their "
        "column's type or allowed values. A row whose every field is empty, between data rows, is an error of its own (`empty_row`).",
        "- **Dates** are `YYYY-MM-DD` (a midnight time after it, `2024-01-31 00:00:00`, is fine). A date written "
        "with another time (`2021-03-31 23:30`, `2021-03-31T23:30:00Z`, or a Parquet timestamp) is read as the day "
        "written, the time and any time zone left out, so a time never moves a date to another day, month or "
        "snapshot; one warning per column (`date_time`, kept with the other readings) names the count and the first "
        "row. A column written "
        "`DD/MM/YYYY` is read day first only when its values show the order: every value D/M/YYYY (or D.M.YYYY, D-M-YYYY), one "
        "with a day above 12, none with a month above 12 (warning `date_format` naming that value). Otherwise it is "
        "refused, never guessed (03/04/2024 reads either way), and validate names the column. A whole number "
        "where a date belongs (`42430`: how Excel stores a date, shown where a date column is formatted as General "
        "or Text) is refused too, and its error names the date it stands for (2016-03-01) and the fix: format the "
        "column as a date in Excel before saving. A column whose every date is written with the month's name and "
        "a four-digit year (`03-May-2021`, `3 May 2021`; in a month column `May 2021`) is read as such, with a "
        "warning (`date_format`); a two-digit year (`03-May-21`: 1921 or 2021?) or a date without its day is refused, "
        "saying so. Spaces around a date are left out, and a date of spaces alone is empty. **Months** are "
        "`YYYY-MM-01` or `YYYY-MM`; any other day in the month stands for that month.",
        "- **Numbers** use a full stop for decimals and no thousands separators, currency or % signs "
        "(`55000.50`). A column whose values with a comma or a pound sign are all written `£55,000.50` or "
        "`254,200` (commas grouping thousands) is read as plain numbers, with a warning (`number_format`); a "
        "decimal comma (`57750,5`) anywhere in the column leaves every such value an error, since `1,234` could "
        "then be 1.234. % signs are refused.",
        f"- **Codes** ({', '.join(f'`{c}`' for c in codes)}, ...) are written as listed: lower case, underscores. "
        "A label that differs only in case, spaces around it or spaces and '-' for '_' (`Fixed Term`, `FEMALE`) is "
        "read as its code, with a warning per column (`code_spelling`). **Ids** are compared exactly, case and "
        "'_' included (`t01` is not team `T01`), but spaces around an id or key value (`T01 `, as a database's "
        "fixed-width column pads it) are taken off in every table alike, with a warning per column (`id_spaces`); "
        "two ids alike but for such spaces are then one id (a `duplicate_key` error in the table they key).",
        f"- **true/false** columns take {words} (any case).",
        "- **caseload_history holds every month** from its first to its last: its last month is where the data "
        "end, and training counts the people in post up to the end as stayers unless a leaving date says otherwise. "
        "A month with no row at all, or a few rows standing apart after such a gap (a mistyped year, 2022-06 for "
        "2021-06), is an error naming the months or rows (`month_gap`); a last month holding under half the rows of "
        "the months before it (exported part-way, or a typo one month on) is a warning (`thin_last_month`).",
        "- **Exit interviews belong to ended spells.** An interview under a worker_id with no end_date (a rehire's "
        "new spell) is read by nothing, and one dated before its spell began is likely mistyped: both are warnings "
        "(`interview_without_leaving`).",
        "- **Every council in the extract has rows in every table given.** A table with no rows for a council "
        "leaves the features it feeds missing for all its workers, or 0 where a feature counts rows (no supervision "
        "session in 3 months, a false fact) "
        "(warning `no_rows_for_council`, naming the table, the council and the features).",
        "",
    ]


def _rules_section() -> list[str]:
    from retention_ml.validation import RULES

    out = [
        "## Validation rules (`retention-ml validate`)",
        "",
        "Each problem is reported with file, row (1-based data record: the header and blank lines are not counted), "
        "line (the CSV file line, given only when certain: the file has one line per record, or the parser names the line), "
        "column, value, rule and a message. `retention-ml validate DIR --json` gives every field.",
        "",
        "| rule | meaning |",
        "|---|---|",
    ]
    out += [f"| `{rule}` | {_cell(text)} |" for rule, text in RULES.items()]
    out.append("")
    return out


def render_data_dictionary() -> str:
    """The data dictionary as Markdown, built from the schema files."""
    schemas = load_schemas()
    out = [
        "# Data dictionary",
        "",
        "<!-- Generated by `python -m retention_ml.data_dictionary` from data_schema/tables/*.yaml and drivers.yaml. "
        "Do not edit by hand; a test fails when this file is stale. -->",
        "",
        f"Input schema version `{schema_version()}` (logged with every trained model): the sum of the table versions "
        "and a hash of what decides how an extract is read (columns, types, allowed values, ranges, keys, row checks, "
        "patterns, drivers' codes), not of descriptions, hints or other names, whose edits keep it. Input files are CSV (UTF-8, with or without a byte-order mark) "
        "or Parquet, one file per table in one folder. Dates are `YYYY-MM-DD`; months are the month's first day. "
        "Worker ids are pseudonymous spell ids, never names or payroll numbers. "
        "Check a folder with `retention-ml validate DIR --as-of YYYY-MM-DD`; a valid example is in `examples/council_small/`.",
        "",
        "| table | required | version | primary key | description |",
        "|---|---|---|---|---|",
    ]
    for t in schemas.values():
        out.append(
            f"| [`{t.name}`](#table-{t.name}) | {'yes' if t.required else 'no'} | {t.version} | "
            f"{', '.join(t.primary_key)} | {_cell(t.description)} |"
        )
    out.append("")
    for t in schemas.values():
        out += _table_section(t, schemas)
    out += _writing_section(schemas)
    out += _drivers_section()
    out += _rules_section()
    return "\n".join(out)


def write_data_dictionary(path: str | Path | None = None) -> Path:
    """Write the dictionary (atomically) to ``path`` (default ``data_schema/README.md``)."""
    path = Path(path) if path is not None else dictionary_path()
    with atomic_path(path) as tmp:
        tmp.write_text(render_data_dictionary(), encoding="utf-8")
    return path


def is_stale(path: str | Path | None = None) -> bool:
    """True when the file at ``path`` differs from what the schema files generate now."""
    path = Path(path) if path is not None else dictionary_path()
    return not path.exists() or path.read_text(encoding="utf-8") != render_data_dictionary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retention_ml.data_dictionary", description="Generate data_schema/README.md from the schema files.")
    parser.add_argument("--check", action="store_true", help="exit 1 when data_schema/README.md is stale; write nothing")
    parser.add_argument("--output", type=Path, default=None, help="write here instead of data_schema/README.md")
    args = parser.parse_args(argv)
    if args.check:
        stale = is_stale(args.output)
        print(f"{args.output or dictionary_path()}: {'stale; run python -m retention_ml.data_dictionary' if stale else 'up to date'}")
        return 1 if stale else 0
    print(f"wrote {write_data_dictionary(args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
