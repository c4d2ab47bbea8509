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

Exit codes: 0 ok, 1 nothing to list (unknown team or manager), 2 could not run (no scores).

\b
Examples:
  retention-ml rank --scores scores/2025-07 --all --out lists/
  retention-ml rank --scores scores/2025-07 --manager W000123 --format html --out lists/
  retention-ml rank --scores scores/2025-07 --team T03 --format csv,xlsx --out lists/ --names
"""

FORMATS = ("csv", "xlsx", "html")


def register(app: typer.Typer) -> None:
    app.command("rank", help=HELP)(rank)


def write_lists(scores, meta: dict, *, out_dir: Path, teams: list[str], stem: str, formats, config, names: bool) -> list[Path]:
    """Build and write one scoped set of lists; returns the files written."""
    from retention_ml.reports.html import write_html
    from retention_ml.reports.risk_list import build_risk_lists, list_metadata, write_csv
    from retention_ml.reports.xlsx import write_xlsx

    lists = build_risk_lists(scores, config=config, teams=teams, names=names)
    list_meta = list_metadata(meta, config=config, teams=teams)
    writers = {"csv": write_csv, "xlsx": write_xlsx, "html": write_html}
    return [writers[f](lists, list_meta, out_dir / f"{stem}.{f}") for f in formats]


def rank_scores(scores_dir: Path, out_dir: Path, *, team=None, manager=None, all_teams=False, formats=FORMATS,
                names=False, bands: Path | None = None) -> list[Path]:
    """Library entry point used by the command and by ``retention-ml demo``."""
    import pandas as pd

    from retention_ml.reports.risk_list import load_band_config, select_teams

    scores = pd.read_parquet(Path(scores_dir) / "scores.parquet")
    meta_path = Path(scores_dir) / "score_meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    config = load_band_config(bands)
    written: list[Path] = []
    if all_teams:
        for t in select_teams(scores):
            written += write_lists(scores, meta, out_dir=out_dir, teams=[t], stem=f"risk_list_team_{t}",
                                   formats=formats, config=config, names=names)
    elif manager is not None:
        teams = select_teams(scores, manager=manager)
        written += write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=f"risk_list_manager_{manager}",
                               formats=formats, config=config, names=names)
    else:
        teams = select_teams(scores, team=team)
        written += write_lists(scores, meta, out_dir=out_dir, teams=teams, stem="risk_list_team_" + "_".join(teams),
                               formats=formats, config=config, names=names)
    return written


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
    if not (scores / "scores.parquet").exists():
        typer.echo(f"error: {scores / 'scores.parquet'} not found (run retention-ml score first)", err=True)
        raise typer.Exit(2)
    try:
        written = rank_scores(scores, out, team=team, manager=manager, all_teams=all_teams, formats=formats,
                              names=names, bands=bands)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(1)
    if json_out:
        typer.echo(json.dumps({"files": [str(p) for p in written]}))
    else:
        for p in written:
            typer.echo(str(p))
