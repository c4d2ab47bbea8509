"""``retention-ml find-worker``: every output file that holds one person's pseudonymous id (read only)."""

from __future__ import annotations

from pathlib import Path

import typer

from retention_ml.commands import JsonOption, answer, fail

HELP = """List every output file under the folders given that holds one person's pseudonymous worker id: scoring folders (scores.parquet, scores.csv, distribution_log.csv), lists and service overviews, explanation files (explain --out). Read only.

For a data protection officer: the files to look at for an erasure or rectification request, or for a subject access request (with explain --worker), and what each file is. An id is found as a whole word (W0000123 is not found in W00001230) in CSV, HTML, JSON, Markdown, text, Parquet and Excel files; a file that cannot be read is named, as it may hold the id too. A numeric id can also match a number in a file: check what is found.

Nothing is changed or removed: a scoring folder that lists were cut from is the record of who was shown what (its distribution_log.csv), and removing a person's rows from it would leave lists on record that no scores explain. README, "Keeping and removing outputs", says what each output is for and how long it is needed. Copies outside the folders given (lists saved or sent on, the extracts, the MLflow store) are searched only when given.

Exit codes: 0 searched (found or not), 2 a folder or file that is not there.

\b
Examples:
  retention-ml find-worker W0000123 scores/ lists/
  retention-ml find-worker W0000123 scores/ lists/ explanations-2025-07-01.csv --json
"""


def register(app: typer.Typer) -> None:
    @app.command("find-worker", help=HELP)
    def find_worker_command(
        worker: str = typer.Argument(..., help="Pseudonymous worker id, exactly as the lists show it."),
        paths: list[Path] = typer.Argument(..., help="Folders (searched through) or files: scorings, lists, "
                                                     "explanation files."),
        as_json: JsonOption = False,
    ) -> None:
        from rich.console import Console

        from retention_ml.person_files import files_holding

        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            fail(f"find-worker: not found: {', '.join(missing)}", 2, json_out=as_json, style=None)
        found = files_holding(worker, paths)
        record = {"worker_id": worker, "searched": [str(p) for p in paths], "files_searched": found.searched,
                  "files": found.files, "unreadable": found.unreadable, "changed": "nothing (read only)"}
        if as_json:
            answer(record, indent=2)
            return
        out = Console(soft_wrap=True)   # whole paths, to paste
        if found.files:
            out.print(f"{worker} is in {len(found.files)} of the {found.searched} files searched:", markup=False)
        else:
            out.print(f"{worker} is in none of the {found.searched} files searched.", markup=False)
        for f in found.files:
            when = f", scoring of {f['as_of']}" if f.get("as_of") else ""
            out.print(f" - {f['path']}: {f['kind']}{when}; {f['mentions']} mention(s)", markup=False)
        for f in found.unreadable:
            out.print(f"could not be read (it may hold the id; check it by hand): {f['path']} ({f['why']})",
                      markup=False)
        out.print("Nothing was changed. Copies outside these folders are not searched.", markup=False)
