"""``retention-ml rank``: ranked risk lists (CSV, Excel, HTML) scoped to a team, a manager, each team, or a service's team managers."""

from __future__ import annotations

import json
import signal
from contextlib import contextmanager
from pathlib import Path

import typer

from retention_ml.commands import answer, fail

HELP = """Turn a scoring (retention-ml score) into ranked lists: riskiest first,
with band, change since last scoring (the list names the scoring it compares
with), top three reasons each beside one suggested lever (its driver's first
lever in data_schema/drivers.yaml, or its lever for the person's group: agency,
newly qualified, new in post, under their caseload cap ...), no action twice in a row (a later reason
gets its driver's next lever or, with none left, a cell saying an earlier lever
covers it), and a summary (expected leavers with an 80% interval). On low-band rows, where no conversation is suggested, reasons
drawn from health data (sickness absence) are left out. Text from the extract that opens like a spreadsheet formula is kept
as text in the CSV (a leading ') and the Excel file.

Scoping is strict. --team or --manager: one set of files holding only those
team(s). A team's manager is never in their own team's list (nobody holds a
supportive conversation with themselves); team managers are listed for their
head of service instead: --service SERVICE writes, per council, one set
(risk_list_service_<council>_<service>_team_managers.*) holding only the team
managers of that service's teams, nobody else. --all: one set per team, each
holding only that team, plus one per service with a team manager scored, so
everyone scored is in exactly one list (people already leaving: none, see
below). A team with no manager recorded has nobody to receive its own list:
with --all its people are listed, per council and service, for that head of
service (risk_list_service_<council>_<service>_no_manager_recorded.*, each team
in its own section with its own figures, never a team of another service), as
retention-ml demo lists them. Give exactly one of the four.

With --all and --service, each council's service also gets a service overview
for its head of service (service_overview_<council>_<service>.*): one row per
team with the figures of the team's own list (people listed, expected leavers
over the horizon with the 80% interval, that share against the team's annual
target_turnover put on the same horizon as 1 - (1 - t) ** (H / 12) per person,
people in the medium and high bands, their most common driver, caseload against
the cap) and the service total; no person's row, id or reason. A team of fewer
than 5 listed shows no figures, and further teams are withheld where needed so
that none can be worked out from the total by subtraction. Without the teams'
services (no service column, no teams table) --all writes the lists alone and
says so.

People whose leaving date is already recorded (flagged leaving_date_recorded
by score) are in no list: a retention conversation is no longer the point.
Every list says so, without naming or counting them. Band cut-offs are the
yearly ones of the bands file scaled to the scoring's horizon
(1 - (1 - c) ** (H / 12)); every list records the cut-offs it used.

With --all, lists already in --out that this call did not write (teams or
services of an earlier scoring no longer scored) are named in a warning;
--prune deletes them once the new lists are in place. The folder is kept
(not a dated sub-folder per scoring) so the paths managers are sent stay the
same every month.

Every call appends one line per list set to distribution_log.csv in the
--scores folder: when, model, approval, the files, the teams, who the set is
for (the teams' manager ids, or "head of service") and the pseudonymous ids
of the people in it: the record a data protection officer needs to say who
was sent a person's row (retention-ml explain --worker ID --lists-log). It is
kept with the scoring, never among the lists managers are sent, and lands
right after the lists (a call that fails adds no line). Calls from one
scoring wait for each other so no line is lost.

File names hold ids as they are when made of letters, digits, _ and -
only; any other character (CP/North, ../x) is replaced and a short hash of
the id appended (risk_list_team_CP_North-<hash>.csv), so no id makes a
sub-folder or a file outside --out. The list itself records the real id.

A team's service comes from the scores' service column or, when the scores
carry none, from teams.csv in the data folder score_meta.json records (or
--data DIR). Names appear only with --names and only if the data carried
display_name. Whether probabilities are shown is set in
retention_ml/risk_bands.toml (default: band only) or --bands FILE.

Every file of one call is written into one hidden staging folder in OUT
(.retention-ml-staging-<pid>-...) and moved into place only when all are
written; on an error, Ctrl-C or SIGTERM the folder is removed, and one left by
a call killed outright is removed by the next call into OUT. The scoring
folder is checked first: an unreadable scores.parquet or score_meta.json, or a score_meta.json whose as_of differs
from the scores' (files of two different scorings), stops the command naming
the file.

Exit codes: 0 ok, 1 nothing to list (unknown team or manager, no team of the
service scored), 2 could not run (no scores, unreadable or mismatched
scoring files, teams' services not found, a scoring folder it cannot write
its distribution_log.csv to or one there that is not a log, lists could not
be written). Lists from a scoring whose model the promotion gate did not approve
(score_meta.json "approval") are written, with a warning printed.

\b
Examples:
  retention-ml rank --scores scores/2025-07 --all --out lists/
  retention-ml rank --scores scores/2025-08 --all --out lists/ --prune
  retention-ml rank --scores scores/2025-07 --manager W0000123 --format html --out lists/
  retention-ml rank --scores scores/2025-07 --team T00003 --format csv,xlsx --out lists/ --names
  retention-ml rank --scores scores/2025-07 --service safeguarding --out lists/
"""

FORMATS = ("csv", "xlsx", "html")
# What every file rank writes is named from (risk_list_* lists people; service_overview_* only team figures).
STEM_PREFIXES = ("risk_list_", "service_overview_")


# The root --help's command list shows this; the full first paragraph (700+ characters) filled a screen there.
SHORT_HELP = ("Turn a scoring into ranked lists, riskiest first, with band, top three reasons and levers: one per team "
              "or manager, one per head of service, and service overviews (CSV, Excel, HTML).")


def register(app: typer.Typer) -> None:
    app.command("rank", help=HELP, short_help=SHORT_HELP)(rank)


class ScoringFolderError(Exception):
    """The scoring folder cannot be used: a file is missing, unreadable, or the files disagree (exit 2)."""


def write_lists(scores, meta: dict, *, out_dir: Path, teams: list[str] | None = None, stem: str, formats, config,
                names: bool, service: tuple[str, str] | None = None, service_of=None, head_of: tuple[str, str] | None = None,
                stage=None, lists=None, log=None) -> list[Path]:
    """Build one scoped set of lists and write it to ``stage`` (a :class:`retention_ml.io.StagedFiles`).

    The set holds ``teams`` (team lists), or with ``service`` = (council, service) that service's team
    managers for their head of service (``service_of`` maps team_id to service, see :func:`services_of_teams`).
    ``head_of`` = (council, service) marks a set of ``teams`` with no manager recorded as that head of
    service's (see :func:`no_manager_plan`).
    Without ``stage`` the set is written on its own: every format to a temporary, then all moved into place.
    ``lists`` are the set's lists when already built (``rank --all`` builds every team's in one pass, and every
    service's team managers' in another).
    With ``log`` (a :class:`retention_ml.reports.distribution.DistributionLog`) the set is recorded in it. Returns the target files.
    """
    import pandas as pd

    from retention_ml.io import staged_files
    from retention_ml.reports.html import write_html
    from retention_ml.reports.risk_list import (build_risk_lists, build_service_manager_list, list_metadata,
                                                model_changed, write_csv)
    from retention_ml.reports.xlsx import write_xlsx

    # The bands file states annual cut-offs; a 6-month model's risks are read against 6-month ones.
    config = config.for_horizon(meta.get("horizon_months"))
    if stage is None:
        with staged_files() as own:
            write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=stem, formats=formats, config=config,
                        names=names, service=service, service_of=service_of, head_of=head_of, stage=own, lists=lists,
                        log=log)
        return own.targets
    new_model = model_changed(meta)
    if service is None:
        if lists is None:
            lists = build_risk_lists(scores, config=config, teams=teams, names=names, new_model=new_model)
        list_meta = list_metadata(meta, config=config, teams=teams, head_of=head_of)
    else:
        council, code = service
        if lists is None:
            lists = build_service_manager_list(scores, config=config, service=code, council=council,
                                               service_of=service_of, names=names, new_model=new_model)
        listed = sorted(set(lists[0].rows["team_id"].astype(str)))
        list_meta = list_metadata(meta, config=config, teams=listed, service=code, council=council)
    writers = {"csv": write_csv, "xlsx": write_xlsx, "html": write_html}
    targets = [out_dir / f"{stem}.{f}" for f in formats]
    for f, target in zip(formats, targets):
        writers[f](lists, list_meta, stage.path(target))
    if log is not None:
        log.add(stem=stem, files=targets, list_meta=list_meta, scores=scores,
                rows=pd.concat([tl.rows for tl in lists], ignore_index=True))
    return targets


def _scorings_below(folder) -> str:
    """'; scores is a folder of scorings (scores/2024-01, ...): give one of them as --scores' when ``folder`` holds
    scorings (the README's scores/) rather than being one, else ''."""
    from retention_ml.scoring import scorings_in

    folder = Path(folder)
    dated = [(p, f"{p} ({when.date()})") for p, when in scorings_in(folder) if (p / "scores.parquet").is_file()]
    # a scoring without a readable score_meta.json has no date: named first, by name
    undated = sorted({p.parent for p in folder.glob("*/scores.parquet")} - {p for p, _ in dated}) if folder.is_dir() else []
    found = [(p, str(p)) for p in undated] + dated   # latest scoring date last, whatever the folders' names
    if not found:
        return ""
    shown = ", ".join(text for _, text in found[-3:]) + (f" and {len(found) - 3} earlier" if len(found) > 3 else "")
    latest = " (the latest)" if dated else ""
    return f"; {folder} is a folder of scorings ({shown}): give one of them as --scores, e.g. --scores {found[-1][0]}{latest}"


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
        raise ScoringFolderError(f"{parquet} not found (run retention-ml score first){_scorings_below(scores_dir)}")
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
    if meta.get("previous") and not meta.get("previous_run_id"):   # a scoring written before it was recorded
        from retention_ml.scoring import previous_run_id

        meta["previous_run_id"] = previous_run_id(meta)
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


def service_stem(council: str, service: str) -> str:
    """File stem of a service's team-manager list (one per council: a head of service serves one council)."""
    from retention_ml.io import safe_name

    return f"risk_list_service_{safe_name(council)}_{safe_name(service)}_team_managers"


def no_manager_stem(council: str, service: str) -> str:
    """File stem of a service's list of teams with no manager recorded, beside its team managers' list."""
    from retention_ml.io import safe_name

    return f"risk_list_service_{safe_name(council)}_{safe_name(service)}_no_manager_recorded"


def team_stem(teams: list[str]) -> str:
    """File stem of a set of team lists (``--team``, one per team with ``--all``)."""
    from retention_ml.io import safe_name

    return "risk_list_team_" + "_".join(map(safe_name, teams))


# What each kind of file set is, by the start or end of its stem (the stems above), in the order a summary reads.
_SET_KINDS = (("team lists, one per team", lambda s: s.startswith("risk_list_team_")),
              ("manager lists", lambda s: s.startswith("risk_list_manager_")),
              ("team managers' lists, one per council and service, for the head of service",
               lambda s: s.endswith("_team_managers")),
              ("lists of teams with no manager recorded, one per council and service, for the head of service",
               lambda s: s.endswith("_no_manager_recorded")),
              ("service overviews (team figures, no person), one per council and service",
               lambda s: s.startswith("service_overview_")))


def written_summary(written: list[Path], out: Path) -> list[str]:
    """Lines saying how many sets of each kind were written where, and in which formats (instead of every path).

    >>> written_summary([Path("l/risk_list_team_T1.csv"), Path("l/risk_list_team_T1.html")], Path("l"))[0]
    'wrote 2 files to l (csv, html):'
    """
    stems = sorted({p.stem for p in written})
    formats = ", ".join(sorted({p.suffix.lstrip(".") for p in written}))
    lines = [f"wrote {len(written):,} files to {out} ({formats}):"]
    for label, is_kind in _SET_KINDS:
        n = sum(map(is_kind, stems))
        if n:
            lines.append(f"  {n:,} {label}")
    return lines + ["each file's path: --json"]


def manager_stem(manager: str) -> str:
    """File stem of the lists of the teams one manager manages (``--manager``)."""
    from retention_ml.io import safe_name

    return f"risk_list_manager_{safe_name(manager)}"


def manager_plan(scores) -> list[tuple[list[str], str]]:
    """(teams, stem) per manager recorded, sorted by manager id: the teams each manages (as ``--manager`` selects
    them) and their set's file stem. One grouping over the scoring, not one filter per manager."""
    rows = scores.loc[scores["manager_id"].notna().to_numpy(bool), ["manager_id", "team_id"]].astype(str)
    pairs = rows.drop_duplicates()
    return [(sorted(g["team_id"]), manager_stem(m)) for m, g in pairs.groupby("manager_id", sort=True)]


def no_manager_plan(scores, service_of: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    """(council, service, teams) of the teams with no manager recorded: one entry per (council, service), sorted.

    Each is one list for that service's head of service: teams of different services or councils never
    share a list (a head of service sees only their own service).
    """
    import pandas as pd

    rows = scores.loc[scores["manager_id"].isna().to_numpy(bool)]
    teams = pd.DataFrame({"council": rows["council_id"].astype(str), "team": rows["team_id"].astype(str)})
    teams["service"] = teams["team"].map(service_of)
    teams = teams.drop_duplicates().sort_values(["council", "service", "team"])
    return [(c, s, list(g["team"])) for (c, s), g in teams.groupby(["council", "service"], sort=True)]


def services_of_teams(scores, meta: dict, *, data: Path | None = None) -> dict[str, str]:
    """team_id -> service for every team in the scores.

    From the scores' own ``service`` column when they carry it; otherwise from teams.csv (or .parquet) in
    ``data`` or the data folder score_meta.json records. Raises :class:`ScoringFolderError` when neither
    gives every scored team a service.
    """
    teams = scores["team_id"].astype(str)
    if "service" in scores and scores["service"].notna().all():
        return dict(zip(teams, scores["service"].astype(str)))
    from retention_ml.io import read_tables

    folder = Path(data) if data is not None else (Path(meta["data_dir"]) if meta.get("data_dir") else None)
    if folder is None:
        raise ScoringFolderError("the scores carry no service column and score_meta.json names no data folder: "
                                 "give --data DIR (the folder holding teams.csv) to list team managers by service")
    try:
        table = read_tables(folder, ["teams"])["teams"]
    except (FileNotFoundError, OSError, ValueError, KeyError) as exc:
        raise ScoringFolderError(f"the scores carry no service column and the teams table in {folder} cannot be "
                                 f"read ({exc}); give --data DIR (the folder holding teams.csv)") from exc
    known = dict(zip(table["team_id"].astype(str), table["service"].astype(str)))
    missing = sorted(set(teams) - set(known))
    if missing:
        raise ScoringFolderError(f"{folder}: team(s) {', '.join(missing[:10])} of the scores are not in the teams "
                                 "table, so their managers' service is unknown; give --data DIR with the data scored")
    return {t: known[t] for t in sorted(set(teams))}


def overview_plan(scores, service_of: dict[str, str], *, service: str | None = None) -> list[tuple[str, str, list[str]]]:
    """(council, service, teams) of every scored team, one entry per council's service (only ``service`` when
    given), sorted: one service overview each, for that service's head of service."""
    import pandas as pd

    teams = pd.DataFrame({"council": scores["council_id"].astype(str), "team": scores["team_id"].astype(str)})
    teams = teams.drop_duplicates()
    teams["service"] = teams["team"].map(service_of)
    if service is not None:
        teams = teams.loc[teams["service"] == str(service)]
    teams = teams.sort_values(["council", "service", "team"])
    return [(c, s, list(g["team"])) for (c, s), g in teams.groupby(["council", "service"], sort=True)]


def build_overviews(scores, meta: dict, plan, built: dict, *, config) -> list:
    """The service overview of each (council, service, teams) of ``plan``, from the teams' lists in ``built``
    (team_id -> TeamList: their summaries are the overview's figures), every service's figures in one pass."""
    from retention_ml.reports.service_overview import build_service_overviews, lead_drivers

    if not plan:
        return []
    # each person's lead driver once, vectorised over the scoring
    scores = scores.assign(lead_driver=lead_drivers(scores).to_numpy())
    return build_service_overviews(plan, built, scores, config=config.for_horizon(meta.get("horizon_months")),
                                   horizon_months=meta.get("horizon_months"))


def write_overviews(scores, meta: dict, plan, overviews: list, *, out_dir: Path, formats, config, stage, log,
                    advance=lambda: None) -> list[Path]:
    """Write the service overview of each (council, service, teams) of ``plan`` (``overviews``, from
    :func:`build_overviews`) to ``stage``, each set recorded in ``log``."""
    import pandas as pd

    from retention_ml.reports.service_overview import WRITERS, overview_metadata, overview_stem

    config = config.for_horizon(meta.get("horizon_months"))
    nobody = scores.iloc[:0]   # one frame for every line: the log works out the scoring's managers once per frame
    targets = []
    for (council, code, teams), overview in zip(plan, overviews):
        list_meta = overview_metadata(meta, overview, config=config)
        stem = overview_stem(council, code)
        files = [out_dir / f"{stem}.{f}" for f in formats]
        for f, target in zip(formats, files):
            WRITERS[f](overview, list_meta, stage.path(target))
        if log is not None:   # no person's row: the log's line names nobody
            log.add(stem=stem, files=files, list_meta=list_meta, scores=nobody,
                    rows=pd.DataFrame({"worker_id": pd.Series(dtype=str)}))
        targets += files
        advance()
    return targets


def service_plan(scores, service_of: dict[str, str], *, service: str | None = None,
                 overviews: bool = False) -> list[tuple[str, str]]:
    """(council, service) pairs with at least one team manager scored, sorted; only ``service`` when given.

    Raises KeyError (nothing to list) when ``service`` has no team manager scored, unless ``overviews``
    (the service's overview is still written for its head of service).
    """
    from retention_ml.reports.risk_list import team_manager_rows

    mgr = scores.loc[team_manager_rows(scores).to_numpy(bool)]
    pairs = sorted(set(zip(mgr["council_id"].astype(str), mgr["team_id"].astype(str).map(service_of))))
    if service is None:
        return pairs
    chosen = [p for p in pairs if p[1] == service]
    if not chosen and not overviews:
        have = sorted({s for _, s in pairs})
        raise KeyError(f"no scored team manager in service {service} (services with team managers scored: "
                       f"{', '.join(have) or 'none'})")
    return chosen


@contextmanager
def terminate_as_exit():
    """While inside, SIGTERM (a scheduler's timeout, `kill`, a closed session) raises SystemExit(143).

    Python's default for SIGTERM is to die at once, skipping every clean-up; as an exception it unwinds like
    Ctrl-C does, so the staging folder is removed and the lists folder is left as it was.
    """
    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, _exit)
    except ValueError:   # not the main thread: a killed call's folder is removed by the next call instead
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _progress(total: int, *, show: bool):
    """A rich progress bar (stderr) over the list sets being written; yields the function that advances it."""
    if not show or total < 2:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("writing list sets"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("lists", total=total)
        yield lambda: bar.advance(task)


def _selected(scores, *, team=None, manager=None) -> list[str]:
    """The teams in scope; an id that matches nothing is refused naming some that would (ids are easy to mistype)."""
    from retention_ml.reports.risk_list import select_teams

    try:
        return select_teams(scores, team=team, manager=manager)
    except KeyError as exc:
        column, kind = ("team_id", "teams") if team else ("manager_id", "managers")
        known = sorted(set(scores[column].dropna().astype(str)))
        shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
        raise KeyError(f"{exc.args[0]} ({kind} scored: {shown or 'none'})") from None


def rank_scores(scores_dir: Path, out_dir: Path, *, team=None, manager=None, all_teams=False, service=None,
                formats=FORMATS, names=False, bands: Path | None = None, data: Path | None = None,
                progress: bool = False, per_manager: bool = False) -> list[Path]:
    """Library entry point used by the command and by ``retention-ml demo``.

    ``service`` writes that service's team managers (one set per council); ``all_teams`` writes every team
    and every service with a team manager scored. With ``per_manager`` (and ``all_teams``) the teams' lists
    are one set per manager (the teams they manage, ``risk_list_manager_<id>``, as ``--manager`` writes each)
    instead of one per team: what ``retention-ml demo`` writes, in the same single pass. Every file of the call (all teams, all formats) is written
    to a temporary and moved into place only when all are written: a failure leaves the lists folder as it was.
    Each set is recorded in the scoring folder's distribution log (:mod:`retention_ml.reports.distribution`),
    moved into place right after the lists. Returns the list files.
    """
    from collections import Counter

    from retention_ml.io import folder_lock, staged_files, staging_folder
    from retention_ml.reports.distribution import DistributionLog
    from retention_ml.reports.risk_list import (build_risk_lists, build_service_manager_lists, load_band_config,
                                                model_changed, select_teams, team_manager_rows)
    from retention_ml.scoring import refuse_output_in_data

    scores, meta = read_scoring(scores_dir)
    for folder in {str(f) for f in (data, meta.get("data_dir")) if f}:   # the data folder is only ever read
        refuse_output_in_data(out_dir, folder)
    config = load_band_config(bands)
    plan, services, service_of, overviews, unmanaged = [], [], None, [], []
    # team managers' lists and lists of teams with no manager recorded go to a head of service, named by service
    headless = scores["manager_id"].isna().any()
    if all_teams or service is not None:
        if service is not None or team_manager_rows(scores).any() or (all_teams and headless):
            service_of = services_of_teams(scores, meta, data=data)
        else:   # services are needed only for the overviews here: without them --all writes the lists alone
            try:
                service_of = services_of_teams(scores, meta, data=data)
            except ScoringFolderError:
                service_of = None
        if service_of is not None:
            overviews = overview_plan(scores, service_of, service=service)
            services = service_plan(scores, service_of, service=service, overviews=bool(overviews))
    if all_teams:
        # a team with no manager recorded has nobody to send its own list to: its people are listed for the
        # head of its service, per council and service, as the demo lists them (no_manager_plan)
        unmanaged = no_manager_plan(scores, service_of) if headless else []
        left = {t for _, _, ts in unmanaged for t in ts}
        plan = manager_plan(scores) if per_manager else [([t], team_stem([t])) for t in select_teams(scores)
                                                         if t not in left]
    elif manager is not None:
        plan = [(_selected(scores, manager=manager), manager_stem(manager))]
    elif service is None:
        teams = _selected(scores, team=team)
        plan = [(teams, team_stem(teams))]
    # --all: every team's list is built in one pass (ranks, bands, levers and reasons are per row, so one
    # pass gives each team exactly its own list; per-team passes cost a fixed pandas overhead 6,000 times
    # at national size). Service sets get only the team managers' rows.
    built = {}
    if all_teams or overviews:
        wanted = select_teams(scores) if all_teams else sorted({t for _, _, ts in overviews for t in ts})
        built = {tl.team_id: tl for tl in build_risk_lists(scores, config=config.for_horizon(meta.get("horizon_months")),
                                                            teams=wanted, names=names, new_model=model_changed(meta))}
    managers = scores.loc[team_manager_rows(scores).to_numpy(bool)] if services else scores
    manager_lists = build_service_manager_lists(managers, config=config.for_horizon(meta.get("horizon_months")),
                                                services=services, service_of=service_of, names=names,
                                                new_model=model_changed(meta)) if services else {}
    # the overviews' figures come from the team lists: built before those are written and let go one set at a
    # time (a list frame keeps a weak reference from every view the writers take of it while it lives: held to
    # the end, the national run grew by 137 MB over its 6,000 team sets)
    overview_tables = build_overviews(scores, meta, overviews, built, config=config)
    # how many sets still to write use each team's list (a team is in one set, but a team whose rows name two
    # managers is in each one's set under per_manager)
    uses = Counter(t for teams, _ in plan for t in teams) + Counter(t for _, _, ts in unmanaged for t in ts)

    def done_with(teams):
        for t in teams if all_teams else ():
            uses[t] -= 1
            if not uses[t]:
                del built[t]

    # one call at a time per scoring: two calls reading its log together would each drop the other's lines.
    # The log is staged outside the lists' staging and moved into place after them: a failed call adds no line.
    with folder_lock(scores_dir), staged_files() as log_stage:
        log = DistributionLog(scores_dir)   # read before any work: a damaged log stops the call, nothing written
        with staging_folder(out_dir) as stage, _progress(len(plan) + len(unmanaged) + len(services) + len(overviews),
                                                         show=progress) as advance:
            for teams, stem in plan:
                write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=stem, formats=formats, config=config,
                            names=names, stage=stage, lists=[built[t] for t in teams] if all_teams else None,
                            log=log)
                done_with(teams)
                advance()
            for council, code, teams in unmanaged:
                write_lists(scores, meta, out_dir=out_dir, teams=teams, stem=no_manager_stem(council, code),
                            formats=formats, config=config, names=names, head_of=(council, code), stage=stage,
                            lists=[built[t] for t in teams], log=log)
                done_with(teams)
                advance()
            for council, code in services:
                write_lists(managers, meta, out_dir=out_dir, stem=service_stem(council, code), formats=formats,
                            config=config, names=names, service=(council, code), service_of=service_of, stage=stage,
                            lists=manager_lists.pop((council, code)), log=log)
                advance()
            write_overviews(scores, meta, overviews, overview_tables, out_dir=out_dir, formats=formats, config=config,
                            stage=stage, log=log, advance=advance)
            log.write(log_stage)
    return stage.targets


def stale_lists(out_dir: Path, written: list[Path]) -> list[Path]:
    """The lists in ``out_dir`` that ``rank --all`` did not just write, sorted.

    ``--all`` writes every scored team's and service's lists and overviews, so any other ``risk_list_*`` or
    ``service_overview_*`` file there is from an earlier scoring (a merged or renamed team, a manager who left,
    a service no longer scored) and would read as current.
    """
    done = {Path(p).resolve() for p in written}
    return sorted(p for f in FORMATS for prefix in STEM_PREFIXES for p in Path(out_dir).glob(f"{prefix}*.{f}")
                  if p.resolve() not in done)


def _settle_stale(out: Path, written: list[Path], all_teams: bool, prune: bool) -> dict[str, list[str]]:
    """After ``rank --all``: name (stderr) or with ``prune`` delete the lists it did not write; the --json entry."""
    if not all_teams:
        return {}
    stale = stale_lists(out, written)
    for p in stale if prune else []:
        p.unlink(missing_ok=True)
    _say_stale(stale, out, pruned=prune)
    return {("removed" if prune else "stale"): [str(p) for p in stale]}


def _say_stale(stale: list[Path], out: Path, *, pruned: bool) -> None:
    if not stale:
        return
    shown = ", ".join(p.name for p in stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
    if pruned:
        typer.echo(f"removed {len(stale)} list file(s) this call did not write from {out}: {shown}", err=True)
        return
    typer.secho(f"WARNING: {len(stale)} list file(s) in {out} were not written by this call (teams or services not in "
                f"this scoring, so from an earlier one): {shown}. Managers could read them as current: remove them "
                "before sharing the folder, or run again with --prune.", err=True, fg="yellow")


def _path_problem(bands: Path | None, out: Path, scores: Path) -> str | None:
    """What is wrong with --bands, --scores or --out, checked before any work (inside the writing, a missing
    --bands read as "could not write the lists"), or None."""
    import os

    from retention_ml.io import out_folder_problem

    if bands is not None and not bands.is_file():
        return f"--bands {bands}: {'not a file' if bands.exists() else 'no such file'}"
    if scores.is_dir() and not os.access(scores, os.W_OK):
        return (f"--scores {scores}: not writable, and rank records every list it writes there "
                "(distribution_log.csv, the record of who was sent whose row)")
    problem = out_folder_problem(out)
    return f"--out {out}: {problem}" if problem else None


def rank(
    scores: Path = typer.Option(..., "--scores", help="Folder written by retention-ml score (scores.parquet, score_meta.json)."),
    team: list[str] = typer.Option(None, "--team", help="Team id (repeatable); one set of files for these teams."),
    manager: str = typer.Option(None, "--manager", help="Manager's worker id: one set of files for the teams they manage."),
    all_teams: bool = typer.Option(False, "--all", help="One set of files per team, each holding only that team, and one "
                                   "per service with team managers (see --service): everyone scored, once; and "
                                   "each service's overview (team figures, no person)."),
    service: str = typer.Option(None, "--service", help="Service code (e.g. safeguarding): one set of files per council "
                                "listing only that service's team managers, and the service's overview (one row per team, "
                                "no person), for their head of service."),
    fmt: str = typer.Option("csv,xlsx,html", "--format", help="Comma-separated: csv, xlsx, html."),
    out: Path = typer.Option(..., "--out", help="Folder for the lists."),
    names: bool = typer.Option(False, "--names", help="Add display_name (only if the data carried it)."),
    bands: Path = typer.Option(None, "--bands", help="Band config TOML (default retention_ml/risk_bands.toml)."),
    data: Path = typer.Option(None, "--data", help="Data folder with teams.csv, for the teams' services when the scores "
                              "carry none (default: the data folder score_meta.json records)."),
    prune: bool = typer.Option(False, "--prune", help="With --all: after the new lists are in place, delete the "
                               "risk_list_* and service_overview_* files in --out this call did not write (teams and services of an earlier "
                               "scoring that are no longer scored)."),
    json_out: bool = typer.Option(False, "--json", help="Print the files written as JSON (with --all, the only output "
                                  "naming each file: the text output counts them by kind)."),
) -> None:
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise typer.BadParameter(f"unknown format(s) {bad}; choose from {', '.join(FORMATS)}", param_hint="--format")
    if sum([bool(team), manager is not None, all_teams, service is not None]) != 1:
        raise typer.BadParameter("give exactly one of --team, --manager, --service or --all")
    if prune and not all_teams:   # only --all writes a complete set; other scopes share the folder with other calls
        raise typer.BadParameter("--prune goes with --all only", param_hint="--prune")
    if problem := _path_problem(bands, out, scores):
        fail(f"error: {problem}; no list was changed", 2, json_out=json_out, style=None)
    try:
        with terminate_as_exit():
            written = rank_scores(scores, out, team=team, manager=manager, all_teams=all_teams, service=service,
                                  formats=formats, names=names, bands=bands, data=data, progress=True)
    except KeyError as exc:
        fail(f"error: {exc.args[0]}", 1, json_out=json_out, style=None)
    except ScoringFolderError as exc:
        fail(f"error: {exc}", 2, json_out=json_out, style=None)
    except ValueError as exc:  # a --bands file that breaks a rule, --out inside the data folder: nothing written
        fail(f"error: {exc}", 2, json_out=json_out, style=None)
    except OSError as exc:  # disk full, no permission: nothing was moved into place
        fail(f"error: could not write the lists to {out}: {exc}; no list was changed", 2, json_out=json_out, style=None)
    from retention_ml.reports.distribution import LOG_NAME

    log = scores / LOG_NAME
    if json_out:
        answer({"files": [str(p) for p in written], "distribution_log": str(log),
                **_settle_stale(out, written, all_teams, prune)})
    else:
        # --all writes thousands of files nationally: a person reads what was written, a script takes --json
        for line in (written_summary(written, out) if all_teams else map(str, written)):
            typer.echo(line)
        typer.echo(f"recorded in {log} (who each list is for and whose rows it holds: for analysts and the DPO, "
                   "never managers)", err=True)
        _settle_stale(out, written, all_teams, prune)
    if all_teams and not any(p.name.startswith("service_overview_") for p in written):
        typer.echo("note: no service overview was written: the scores carry no service column and no teams table "
                   "was found to give each team's service (give --data DIR, the folder holding teams.csv).", err=True)
    from retention_ml.explain.reasons import HEALTH_META_KEY, HEALTH_META_VALUE

    meta = read_scoring(scores)[1]
    if meta.get(HEALTH_META_KEY) != HEALTH_META_VALUE:
        typer.secho(f"WARNING: {scores} was scored by a version that worded sickness absence (health data) with "
                    "figures or a period in its reasons, and the lists copy them: score the data again with this "
                    "version before the lists go to anyone.", err=True, fg="red", bold=True)
    approval = meta.get("approval") or {}
    if approval.get("status") == "not approved":  # scorings before approval was recorded carry none: no claim
        typer.secho(f"WARNING: these lists come from a model NOT APPROVED by the promotion gate. {approval.get('detail', '')}",
                    err=True, fg="red", bold=True)
