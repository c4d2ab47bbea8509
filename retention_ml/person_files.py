"""Every output file that holds one person's pseudonymous worker id: the first step of an erasure, rectification
or subject access request, and of removing outputs a council no longer keeps.

The tool writes a person's id into scoring folders (``scores.parquet``, ``scores.csv``, ``distribution_log.csv``),
the lists ``rank`` writes, and explanation files (``explain --out``). A data protection officer needs to know
which of the files kept hold the person before deciding what to keep, correct or remove; this only reads.

An id is found as a whole word (``W0000123`` is not found inside ``W00001230``, nor ``123`` inside ``0.123``) in
the text of CSV, HTML, JSON, Markdown and text files, in every text cell of Parquet files, and in the text of
Excel workbooks (each distinct text of a workbook counts once).

Example
-------
>>> found = files_holding("W0000123", [Path("scores"), Path("lists")])   # doctest: +SKIP
>>> [(f["path"], f["kind"]) for f in found.files]                       # doctest: +SKIP
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TEXT_SUFFIXES = (".csv", ".html", ".json", ".md", ".txt")
SUFFIXES = (*TEXT_SUFFIXES, ".parquet", ".xlsx")

# What each output file is, by its name (the names score, rank and explain write), for whoever decides on it.
KINDS = (
    (re.compile(r"^scores\.(parquet|csv)$"), "scoring: everyone's risk, band and reasons at one date"),
    (re.compile(r"^distribution_log\.csv$"), "distribution log: which list held whose row, and for whom"),
    (re.compile(r"^risk_list_"), "list for a manager or head of service"),
    (re.compile(r"^service_overview_"), "service overview"),
    (re.compile(r"^explanations"), "explanation file (quotes health data)"),
)
OTHER_KIND = "other file"


@dataclass
class Found:
    """What :func:`files_holding` gives: the files holding the id (``files``: path, kind, the scoring date of
    their scoring folder where there is one, mentions), how many files were searched, and those that could not be
    read (path, why): they may hold the id too."""

    files: list[dict] = field(default_factory=list)
    searched: int = 0
    unreadable: list[dict] = field(default_factory=list)


def id_pattern(worker_id: str) -> str:
    """The id as a whole word: not inside a longer id or a number (a trailing full stop ends a sentence)."""
    return rf"(?<![0-9A-Za-z_.]){re.escape(str(worker_id))}(?![0-9A-Za-z_])(?!\.[0-9])"


def kind_of(path: Path) -> str:
    return next((kind for name, kind in KINDS if name.search(path.name)), OTHER_KIND)


def _mentions(path: Path, pattern: re.Pattern) -> int:
    """Times the id occurs in the file (raises OSError or ValueError when it cannot be read)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pd.read_parquet(path)
        text = table.select_dtypes(include=["object", "string", "category"])
        # each column's cells as one text, a cell a line: Python's re (lookbehind) in one call per column
        return sum(len(pattern.findall("\n".join(map(str, text[c].dropna().to_numpy(dtype=object)))))
                   for c in text.columns)
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as book:   # a workbook's texts sit in its XML parts
                return sum(len(pattern.findall(book.read(n).decode("utf-8", "replace")))
                           for n in book.namelist() if n.endswith(".xml"))
        except zipfile.BadZipFile as exc:
            raise ValueError(f"not an Excel workbook ({exc})") from exc
    return len(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))


def _files(paths: list[Path]) -> list[Path]:
    out = []
    for path in paths:
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        out += [p for p in found if p.suffix.lower() in SUFFIXES]
    return sorted(set(out))


def files_holding(worker_id: str, paths: list[Path]) -> Found:
    """Every file under ``paths`` (files or folders, searched through) that holds ``worker_id``; only reads."""
    from retention_ml.scoring import read_meta

    pattern = re.compile(id_pattern(worker_id))
    found = Found()
    dates: dict[Path, str | None] = {}
    for path in _files([Path(p) for p in paths]):
        found.searched += 1
        try:
            mentions = _mentions(path, pattern)
        except (OSError, ValueError) as exc:   # pyarrow's errors are ValueErrors (ArrowInvalid) or OSErrors
            found.unreadable.append({"path": str(path), "why": f"{type(exc).__name__}: {exc}"})
            continue
        if mentions:
            if path.parent not in dates:   # a scoring folder says its date; lists and others have none
                dates[path.parent] = (read_meta(path.parent) or {}).get("as_of")
            found.files.append({"path": str(path), "kind": kind_of(path), "as_of": dates[path.parent],
                                "mentions": mentions})
    return found
