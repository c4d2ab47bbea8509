"""``retention-ml schema``: what the input tables must look like (from data_schema/), and the data dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import typer

schema_app = typer.Typer(
    help=(
        "The input tables the toolkit reads, as declared in data_schema/.\n\n"
        "\b\nExamples:\n"
        "  retention-ml schema show            # all tables\n"
        "  retention-ml schema show workers    # one table's columns\n"
        "  retention-ml schema template extract/   # header-only CSVs to fill in\n"
        "  retention-ml schema docs            # rewrite data_schema/README.md\n"
        "  retention-ml schema docs --check    # exit 1 if it is stale"
    ),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")


@schema_app.command("show")
def show(
    table: str = typer.Argument(None, help="A table name, e.g. workers; omit to list all tables."),
    json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List the tables, or the columns of one table (type, required, empty allowed, allowed values, unit).

    \b
    Examples:
      retention-ml schema show                   # all tables
      retention-ml schema show workers           # one table's columns
      retention-ml schema show teams --json      # the same as JSON
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from retention_ml.commands.validate import NARROW
    from retention_ml.data_dictionary import allowed_text as _values
    from retention_ml.schema import load_schemas, schema_version

    schemas = load_schemas()
    console = Console()
    if table is None:
        rows = [{"table": t.name, "required": t.required, "version": t.version, "primary_key": t.primary_key,
                 "description": t.description} for t in schemas.values()]
        if json_out:
            typer.echo(json.dumps({"schema_version": schema_version(), "tables": rows}, indent=2))
            return
        out = Table(title=f"Input tables (schema {schema_version()})")
        for col in ("table", "required", "primary key", "description"):
            out.add_column(col, overflow="fold")
        for r in rows:
            out.add_row(*(escape(v) for v in (r["table"], "yes" if r["required"] else "no", ", ".join(r["primary_key"]), r["description"])))
        console.print(out)
        return
    if table not in schemas:
        Console(stderr=True).print(f"[red]no table {table!r}; tables are: {', '.join(schemas)}[/red]")
        raise typer.Exit(2)
    t = schemas[table]
    cols = [{"column": c.name, "type": c.type, "required": c.required, "nullable": c.nullable, "values": _values(c).replace("`", ""),
             "unit": c.unit, "protected": c.protected, "personal": c.personal, "description": c.description} for c in t.columns]
    if json_out:
        typer.echo(json.dumps({"table": t.name, "version": t.version, "primary_key": t.primary_key, "columns": cols}, indent=2))
        return
    title = f"{t.name} (version {t.version}; key {', '.join(t.primary_key)})"
    if console.width < NARROW:
        # Seven columns fold each description a few letters wide on a laptop terminal: one block per column instead.
        console.print(title, highlight=False)
        for c in cols:
            flag = " [protected]" if c["protected"] else " [personal]" if c["personal"] else ""
            facts = [c["type"], "required" if c["required"] else "optional column",
                     "may be empty" if c["nullable"] else "never empty"]
            facts += [f"values: {c['values']}"] if c["values"] else []
            facts += [f"unit: {c['unit']}"] if c["unit"] else []
            console.print(f"\n{c['column']}: {'; '.join(facts)}", highlight=False, markup=False)
            console.print(f"    {c['description']}{flag}", highlight=False, markup=False)
        return
    out = Table(title=title)
    for col in ("column", "type", "required", "empty ok", "allowed / range", "unit", "description"):
        out.add_column(col, overflow="fold")
    for c in cols:
        flag = " [protected]" if c["protected"] else " [personal]" if c["personal"] else ""
        # Escaped: a declared pattern such as [/\\] is text, not rich markup (it made `schema show teams` crash).
        out.add_row(*(escape(v) for v in (c["column"], c["type"], "yes" if c["required"] else "no",
                                          "yes" if c["nullable"] else "no", c["values"], c["unit"] or "",
                                          c["description"] + flag)))
    console.print(out)


@schema_app.command("docs")
def docs(check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when data_schema/README.md is stale.")) -> None:
    """Regenerate the data dictionary data_schema/README.md from the schema files.

    Exit codes: 0 written or up to date, 1 stale (with --check).

    \b
    Examples:
      retention-ml schema docs            # rewrite data_schema/README.md
      retention-ml schema docs --check    # exit 1 if it is stale (for CI)
    """
    from retention_ml.data_dictionary import dictionary_path, is_stale, write_data_dictionary

    if check:
        stale = is_stale()
        typer.echo(f"{dictionary_path()}: {'stale; run retention-ml schema docs' if stale else 'up to date'}")
        raise typer.Exit(1 if stale else 0)
    typer.echo(f"wrote {write_data_dictionary()}")


@schema_app.command("template")
def template(
    out: Path = typer.Argument(..., help="Folder to write <table>.csv files into (created if needed)."),
    force: bool = typer.Option(False, "--force", help="Overwrite table files already in OUT."),
    json_out: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
) -> None:
    """Write one header-only CSV per input table into OUT: the exact column names, in order, to fill from exports.

    Each file is UTF-8 and comma-separated with the header line only. Fill the rows from the HR and
    case-management exports (meanings, types and allowed values: data_schema/README.md or `schema show TABLE`),
    delete the files of optional tables you do not have, then run `retention-ml validate OUT`. Existing table
    files in OUT are never overwritten without --force.

    Exit codes: 0 written, 2 could not write (OUT is a file, or holds table files and no --force).

    \b
    Examples:
      retention-ml schema template extract/
      retention-ml schema template extract/ --force --json
    """
    import pandas as pd

    from retention_ml.commands import fail
    from retention_ml.io import atomic_path, find_table_file, out_folder_problem
    from retention_ml.schema import load_schemas

    problem = out_folder_problem(out)
    if problem:
        fail(f"{out}: {problem}", 2, json_out=json_out)
    schemas = load_schemas()
    present = [p.name for p in (find_table_file(out, t) for t in schemas) if p is not None] if out.is_dir() else []
    if present and not force:
        fail(f"{out} already holds {', '.join(present)}; nothing written (add --force to overwrite them with empty templates)",
             2, json_out=json_out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas.items():
        target = out / f"{name}.csv"
        with atomic_path(target) as tmp:
            # csv quoting rules for the header, written by the same writer every table file is read back with
            pd.DataFrame(columns=schema.column_names).to_csv(tmp, index=False, lineterminator="\n")
        written.append(target)
    optional = [n for n, s in schemas.items() if not s.required]
    if json_out:
        typer.echo(json.dumps({"ok": True, "out": str(out), "written": [str(p) for p in written], "optional": optional}, indent=2))
        return
    typer.echo(f"wrote {len(written)} header-only tables to {out}. Fill them from your exports; delete the optional "
               f"ones you do not have ({', '.join(optional)}); then run: retention-ml validate {out}")
