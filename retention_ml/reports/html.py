"""Self-contained HTML risk lists (jinja2; inline CSS, no scripts, no external requests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from retention_ml.reports.risk_list import (PROBABILITY_COLUMNS, PURPOSE_LINE, TeamList, band_cutoffs_text, banner_lines,
                                            column_label, display_rows, percent_cells, summary_text, uncertain_text)


@lru_cache(maxsize=None)
def _template(name: str = "risk_list.html.j2"):
    """A template of templates/, compiled once per process: `rank --all` renders thousands of files with each."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    return env.get_template(name)


def render_html(lists: list[TeamList], meta: dict) -> str:
    """Render the scoped lists as one accessible, printable HTML page."""
    view = [
        {
            "team_id": tl.team_id,
            "title": tl.title(),
            "summary_text": summary_text(tl.summary, meta.get("horizon_months")),
            "columns": list(tl.rows.columns),
            "labels": {c: column_label(c, meta.get("horizon_months")) for c in tl.rows.columns},
            "records": display_rows(tl.rows).assign(
                uncertain=tl.rows["uncertain"].map({True: "uncertain", False: ""}),
                **{c: percent_cells(tl.rows[c]) for c in PROBABILITY_COLUMNS if c in tl.rows}).to_dict("records"),
        }
        for tl in lists
    ]
    return _template().render(lists=view, meta=meta, purpose=PURPOSE_LINE, banner=banner_lines(meta, lists),
                              bands_text=band_cutoffs_text(meta), uncertain_text=uncertain_text(meta), teams=[tl.heading or tl.team_id for tl in lists])


def write_html(lists: list[TeamList], meta: dict, path: str | Path) -> Path:
    from retention_ml.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render_html(lists, meta), encoding="utf-8")
    return path


def render_overview(overview, meta: dict) -> str:
    """Render a :class:`~retention_ml.reports.service_overview.ServiceOverview` as one self-contained page."""
    from retention_ml.reports.service_overview import COLUMNS, TOTAL_LABEL, display_table, overview_lines

    table = display_table(overview.table)
    return _template("service_overview.html.j2").render(title=overview.title(), meta=meta, banner=overview_lines(meta),
                                       columns=list(table.columns), labels={c: COLUMNS[c][0] for c in table.columns},
                                       records=table.to_dict("records"), total_label=TOTAL_LABEL)
