"""Excel risk lists (XlsxWriter): one sheet per team, header frozen, filters on, band coloured, widths set."""

from __future__ import annotations

from pathlib import Path

from retention_ml.reports.risk_list import PURPOSE_LINE, TeamList, banner_lines, summary_text

BAND_COLOURS = {"high": "#F4B6B6", "medium": "#FCE4A8", "low": "#CFE8CF"}


def _settings_line(meta: dict) -> str:
    return (f"Shows probability: {'yes' if meta['shows_probability'] else 'no (band only)'}; "
            f"band cut-offs medium {meta['band_cutoffs']['medium']}, high {meta['band_cutoffs']['high']}; "
            f"uncertain = {meta['uncertain_rule']}; as of {meta.get('as_of', '')}; model {meta.get('model_ref', '')}")


def write_xlsx(lists: list[TeamList], meta: dict, path: str | Path) -> Path:
    """Write one sheet per team (scoped lists only); the banner lines and settings head every sheet."""
    import xlsxwriter

    from retention_ml.io import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True})
        wb.set_properties({"title": "Risk list", "comments": PURPOSE_LINE})
        styles = {
            "purpose": wb.add_format({"bold": True, "text_wrap": True}),
            "note": wb.add_format({"text_wrap": True}),
            "alert": wb.add_format({"bold": True, "text_wrap": True, "font_color": "#FFFFFF", "bg_color": "#B00020",
                                    "font_size": 12}),
        }
        head = wb.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1})
        fmts = {b: wb.add_format({"bg_color": c}) for b, c in BAND_COLOURS.items()}
        for tl in lists:
            ws = wb.add_worksheet(tl.team_id[:31])
            top = [*banner_lines(meta), ("note", summary_text(tl.summary)), ("note", _settings_line(meta))]
            for r, (kind, text) in enumerate(top):
                ws.write(r, 0, text, styles[kind])
            first = len(top) + 1
            rows = tl.rows
            for j, col in enumerate(rows.columns):
                ws.write(first, j, col, head)
                width = max(len(col), int(rows[col].astype(str).str.len().max() if len(rows) else 0))
                ws.set_column(j, j, min(max(width + 2, 8), 60))
            for i, rec in enumerate(rows.itertuples(index=False), start=first + 1):
                ws.write_row(i, 0, [v if not isinstance(v, bool) else ("yes" if v else "no") for v in rec])
            if len(rows):
                bcol = list(rows.columns).index("band")
                for band, fmt in fmts.items():
                    ws.conditional_format(first + 1, bcol, first + len(rows), bcol,
                                          {"type": "cell", "criteria": "==", "value": f'"{band}"', "format": fmt})
            ws.freeze_panes(first + 1, 0)
            ws.autofilter(first, 0, first + max(len(rows), 1), len(rows.columns) - 1)
        wb.close()
    return path
