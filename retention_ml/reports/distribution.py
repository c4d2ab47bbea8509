"""The distribution log: which list set held whose rows, and for whom, across every ``rank`` call.

A data protection officer must be able to show who was sent a person's risk (UK GDPR accountability), and a
worker asking "who has seen my row?" deserves an answer; the lists folder alone cannot give it, since ``rank``
replaces the lists every scoring. So every ``rank`` call appends one line per list set it writes to
``distribution_log.csv`` in the scoring folder the lists were cut from. There, not among the lists: the lists
folder is what managers are sent or pointed at, and the log names everyone; the scoring folder already holds
everyone's risk and is the analyst's. The log is moved into place right after the lists (a call that fails
adds no line). Each line holds:

- when and from what: ``written_at`` (UTC), ``as_of``, ``model_ref``, ``approval``;
- the set: ``list`` (file stem), ``files`` (with the lists folder), ``scope`` (team, team managers, no manager
  recorded, service overview), ``council``, ``service``, ``teams``;
- for whom: ``recipient`` (the teams' manager ids; "head of service" for a service's team managers; "none
  recorded" for a team without a manager);
- whose rows: ``people`` and ``worker_ids`` (space-separated, as the list shows them: pseudonymous ids, never
  names, even with ``--names``); a service overview holds team figures and no person's row, so 0 and none.

Example::

    >>> log = read_log(Path("scores/2025-07/distribution_log.csv"))     # doctest: +SKIP
    >>> lists_holding(log, "W0000123")                                   # doctest: +SKIP
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd

LOG_NAME = "distribution_log.csv"
LOG_COLUMNS = ("written_at", "as_of", "model_ref", "approval", "list", "files", "scope", "council", "service",
               "teams", "recipient", "people", "worker_ids")


class DistributionLogError(ValueError):
    """The folder's distribution log cannot be read as one (damaged or edited by hand): nothing is written."""


def log_row(*, stem: str, files: list[Path], list_meta: dict, rows: pd.DataFrame, managers: dict[str, list[str]],
            written_at: str) -> dict:
    """One log line for a list set: ``rows`` are the people it lists, ``managers`` each team's manager ids
    (:func:`team_managers`)."""
    teams = [str(t) for t in list_meta.get("teams", [])]
    return {
        "written_at": written_at,
        "as_of": str(list_meta.get("as_of", ""))[:10],
        "model_ref": list_meta.get("model_ref", ""),
        "approval": (list_meta.get("approval") or {}).get("status", "unknown"),
        "list": stem,
        "files": " ".join(str(p) for p in files),
        "scope": list_meta.get("list", "team"),
        "council": list_meta.get("council", ""),
        "service": list_meta.get("service", ""),
        "teams": " ".join(teams),
        "recipient": _recipient(list_meta, managers, teams),
        "people": len(rows),
        "worker_ids": " ".join(sorted(rows["worker_id"].astype(str))) if "worker_id" in rows else "",
    }


def _recipient(list_meta: dict, managers: dict[str, list[str]], teams: list[str]) -> str:
    if list_meta.get("list") in ("team managers", "no manager recorded", "service overview"):
        return "head of service"
    return " ".join(sorted({m for t in teams for m in managers.get(t, [])})) or "none recorded"


def team_managers(scores: pd.DataFrame) -> dict[str, list[str]]:
    """Team id -> its manager ids in ``scores`` (none recorded: no entry), worked out once per scoring rather than
    once per list set (``rank --all`` writes thousands)."""
    if "manager_id" not in scores:
        return {}
    pairs = scores[["team_id", "manager_id"]].dropna().astype(str).drop_duplicates()
    return pairs.groupby("team_id")["manager_id"].agg(sorted).to_dict()


def now_utc() -> str:
    """The log's timestamp: UTC to the second (the log records when, unlike the lists, which are reproducible)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_log(path: Path) -> pd.DataFrame:
    """The log at ``path`` (empty when there is none yet); raises :class:`DistributionLogError` naming the file
    and what is wrong when it is not a distribution log, so a damaged one is never overwritten."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    try:
        log = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DistributionLogError(f"{path}: cannot be read as CSV ({exc}); move it away (it is the record of "
                                   "earlier lists: keep it) and run again") from exc
    if tuple(log.columns) != LOG_COLUMNS:
        raise DistributionLogError(f"{path}: header is {', '.join(map(str, log.columns))}, not the distribution "
                                   f"log's ({', '.join(LOG_COLUMNS)}); move it away (keep it) and run again")
    return log


class DistributionLog:
    """The log of one ``rank`` call from the scoring in ``scores_dir``: the earlier lines, read (and checked)
    before any list is written, plus one line per set this call writes, all with the call's one timestamp."""

    def __init__(self, scores_dir: Path) -> None:
        self.path = Path(scores_dir) / LOG_NAME
        self.previous = read_log(self.path)
        self.written_at = now_utc()
        self.rows: list[dict] = []
        self._managers, self._managers_of = {}, None

    def add(self, *, scores: pd.DataFrame, **fields) -> None:
        """Record a list set cut from ``scores`` (other keyword arguments: those of :func:`log_row` but
        ``managers`` and ``written_at``)."""
        if self._managers_of is not scores:   # the same scoring frame for every set of a call, as a rule
            self._managers, self._managers_of = team_managers(scores), scores
        self.rows.append(log_row(**fields, managers=self._managers, written_at=self.written_at))

    def write(self, stage) -> None:
        """Write earlier and new lines to ``stage`` (a :class:`retention_ml.io.StagedFiles`, committed by the
        caller once the lists are in place)."""
        from retention_ml.reports.risk_list import neutralise_formulas

        # ids come from the HR extract; the DPO opens this file in a spreadsheet too
        new = neutralise_formulas(pd.DataFrame(self.rows, columns=list(LOG_COLUMNS)).astype(str))
        log = pd.concat([self.previous, new], ignore_index=True)
        log.to_csv(stage.path(self.path), index=False, lineterminator="\n")


def lists_holding(log: pd.DataFrame, worker_id: str) -> list[dict]:
    """The log's list sets that held ``worker_id``'s row, oldest first: when, scoring date, list, for whom."""
    import re

    held = log["worker_ids"].str.contains(rf"(?:^| ){re.escape(str(worker_id))}(?: |$)", regex=True)
    keep = ["written_at", "as_of", "list", "recipient", "approval"] + (["scoring"] if "scoring" in log else [])
    return log.loc[held.to_numpy(bool), keep].to_dict(orient="records")


def read_logs(path: Path) -> pd.DataFrame:
    """Every distribution log at ``path``: the file itself, or every ``distribution_log.csv`` under a folder
    (a folder of scorings), each line with the ``scoring`` folder its log lies in (the scores its lists were
    cut from, and the model that scored them)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob(LOG_NAME))
    if not files:
        raise DistributionLogError(f"{path}: no {LOG_NAME} there (retention-ml rank writes one into each scoring "
                                   "folder it makes lists from)")
    logs = [read_log(f).assign(scoring=str(f.parent)) for f in files]
    return pd.concat(logs, ignore_index=True).sort_values("written_at", kind="stable")
