"""``retention-ml rank``: per-team ranked risk lists (CSV, Excel, HTML) scoped to a team, a manager, or each team."""

from __future__ import annotations

import json
from pathlib import Path

import typer

HELP = """Turn a scoring (retention-ml score) into ranked lists for managers: riskiest first, with band, change since last
scoring, top three reasons and suggested levers, and a team summary (expected leavers with an 80% interval).

Scoping is strict: with --team or --manager one set of files holds only those team(s); with --all every team gets its
own files, each holding only that team. Names appear only with --names and only if the data carried display_name.
Whether probabilities are shown is set in retention_ml/risk_bands.toml (default: band only) or --bands FILE.

Every file of one call is written to a temporary first and moved into place only when all are written.
The scoring folder is checked first: an unreadable scores.parquet or score_meta.json, or a score_meta.json whose as_of
differs from the scores' (files of two different scorings), stops the command naming the file.

Exit codes: 0 ok, 1 nothing to list (unknown team or manager), 2 could not run (no scores, unreadable or mismatched
scoring files, lists could not be written). Lists from a scoring whose model the promotion gate did not approve
(score_meta.json "approval") are written, with a warning printed.

\b
Examples:
  retention-ml rank --scores scores/2025-07 --all --out lists/
  retention-ml rank --scores scores/2025-07 --manager W000123 --format html --out lists/
  retention-ml rank --scores scores/2025-07 --team T03 --format csv,xlsx --out lists/ --names
"""

FORMATS = ("csv", "xlsx", "html")


def register(app: typer.Typer) -> None:
    app.command("rank", help=HELP)(rank)


class ScoringFolderError(Exception):
    """The scoring folder cannot be used: a file is missing, unreadable, or the files disagree (exit 2)."""


def write_lists(scores, meta: dict, *, out_dir: Path, teams: list[str], stem: str, formats, config, names: bool,
                stage=None) -> list[Path]:
    """Build one scoped set of lists and write it to ``stage`` (a :class:`retention_ml.io.StagedFiles`).

    Without ``stage`` the set is written on its own: every format to a temporary, then all moved into place.
    Returns the target files.
    """
    from retention_ml.io import staged_files
    from retention_ml.reports.html import write_html
    from retention_ml.reports.risk_list import build_risk_lists, list_metadata, write_csv
    from retention_ml.reports.xlsx import write_xlsx

    if stage is None:
        with staged_files() as own:
            write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=stem, formats=formats, config=config,
                        names=names, stage=own)
        return own.targets
    lists = build_risk_lists(scores, config=config, teams=teams, names=names)
    list_meta = list_metadata(meta, config=config, teams=teams)
    writers = {"csv": write_csv, "xlsx": write_xlsx, "html": write_html}
    targets = [out_dir / f"{stem}.{f}" for f in formats]
    for f, target in zip(formats, targets):
        writers[f](lists, list_meta, stage.path(target))
    return targets


def read_scoring(scores_dir: Path):
    """``(scores, meta)`` of a scoring folder, checked to belong together.

    Raises :class:`ScoringFolderError` naming the file when scores.parquet is missing or unreadable,
    score_meta.json is not valid JSON, or the meta's as_of differs from the scores' as_of column (the
    sign of a scoring interrupted half-way by an older version, or of files copied together by hand).
    """
    import pandas as pd
    import pyarrow

    parquet = Path(scores_dir) / "scores.parquet"
    meta_path = Path(scores_dir) / "score_meta.json"
    if not parquet.exists():
        raise ScoringFolderError(f"{parquet} not found (run retention-ml score first)")
    try:
        scores = pd.read_parquet(parquet)
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        raise ScoringFolderError(f"{parquet} cannot be read as Parquet ({type(exc).__name__}: {exc}); the file is "
                                 "truncated or damaged: run retention-ml score again") from exc
    meta = {}
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ScoringFolderError(f"{meta_path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                                     "run retention-ml score again") from exc
        except (UnicodeDecodeError, OSError) as exc:
            raise ScoringFolderError(f"{meta_path} cannot be read ({exc}); run retention-ml score again") from exc
        if not isinstance(meta, dict):
            raise ScoringFolderError(f"{meta_path} must hold a JSON object, not {type(meta).__name__}")
    _check_same_as_of(scores, meta, parquet, meta_path)
    return scores, meta


def _check_same_as_of(scores, meta: dict, parquet: Path, meta_path: Path) -> None:
    import pandas as pd

    if "as_of" not in meta or "as_of" not in scores:
        return
    try:
        said = pd.Timestamp(meta["as_of"]).normalize()
    except (ValueError, TypeError) as exc:
        raise ScoringFolderError(f"{meta_path}: as_of {meta['as_of']!r} is not a date") from exc
    held = pd.to_datetime(scores["as_of"]).dt.normalize().dropna().unique()
    if len(held) != 1 or pd.Timestamp(held[0]) != said:
        dates = ", ".join(str(pd.Timestamp(d).date()) for d in sorted(held)) or "no date"
        raise ScoringFolderError(f"{meta_path} says as_of {said.date()} but {parquet} holds scores at {dates}: the "
                                 "folder mixes files of different scorings; run retention-ml score again")


def rank_scores(scores_dir: Path, out_dir: Path, *, team=None, manager=None, all_teams=False, formats=FORMATS,
                names=False, bands: Path | None = None) -> list[Path]:
    """Library entry point used by the command and by ``retention-ml demo``.

    Every file of the call (all teams, all formats) is written to a temporary and moved into place only
    when all are written: a failure leaves the lists folder as it was.
    """
    from retention_ml.io import staged_files
    from retention_ml.reports.risk_list import load_band_config, select_teams

    scores, meta = read_scoring(scores_dir)
    config = load_band_config(bands)
    if all_teams:
        plan = [([t], f"risk_list_team_{t}") for t in select_teams(scores)]
    elif manager is not None:
        plan = [(select_teams(scores, manager=manager), f"risk_list_manager_{manager}")]
    else:
        teams = select_teams(scores, team=team)
        plan = [(teams, "risk_list_team_" + "_".join(teams))]
    with staged_files() as stage:
        for teams, stem in plan:
            write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=stem, formats=formats, config=config,
                        names=names, stage=stage)
    return stage.targets


def rank(
    scores: Path = typer.Option(..., "--scores", help="Folder written by retention-ml score (scores.parquet, score_meta.json)."),
    team: list[str] = typer.Option(None, "--team", help="Team id (repeatable); one set of files for these teams."),
    manager: str = typer.Option(None, "--manager", help="Manager's worker id: one set of files for the teams they manage."),
    all_teams: bool = typer.Option(False, "--all", help="One set of files per team, each holding only that team."),
    fmt: str = typer.Option("csv,xlsx,html", "--format", help="Comma-separated: csv, xlsx, html."),
    out: Path = typer.Option(..., "--out", help="Folder for the lists."),
    names: bool = typer.Option(False, "--names", help="Add display_name (only if the data carried it)."),
    bands: Path = typer.Option(None, "--bands", help="Band config TOML (default retention_ml/risk_bands.toml)."),
    json_out: bool = typer.Option(False, "--json", help="Print the files written as JSON."),
) -> None:
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise typer.BadParameter(f"unknown format(s) {bad}; choose from {', '.join(FORMATS)}", param_hint="--format")
    if sum([bool(team), manager is not None, all_teams]) != 1:
        raise typer.BadParameter("give exactly one of --team, --manager or --all")
    try:
        written = rank_scores(scores, out, team=team, manager=manager, all_teams=all_teams, formats=formats,
                              names=names, bands=bands)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(1)
    except ScoringFolderError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    except OSError as exc:  # disk full, no permission: nothing was moved into place
        typer.echo(f"error: could not write the lists to {out}: {exc}; no list was changed", err=True)
        raise typer.Exit(2)
    if json_out:
        typer.echo(json.dumps({"files": [str(p) for p in written]}))
    else:
        for p in written:
            typer.echo(str(p))
    approval = read_scoring(scores)[1].get("approval") or {}
    if approval.get("status") == "not approved":  # scorings before approval was recorded carry none: no claim
        typer.secho(f"WARNING: these lists come from a model NOT APPROVED by the promotion gate. {approval.get('detail', '')}",
                    err=True, fg="red", bold=True)
