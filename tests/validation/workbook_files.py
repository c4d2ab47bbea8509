"""A data folder written as Excel workbooks, typed as an HR system's export types them: shared by the workbook tests
and benchmarks/bench_read_xlsx.py (one definition; benchmarks load it by path, as they cannot import tests)."""

from pathlib import Path

import pandas as pd

from retention_ml.io import find_table_file
from retention_ml.schema import load_schemas


def as_workbooks(src: Path, dst: Path, *, headers: dict | None = None) -> Path:
    """Every table of ``src`` as ``dst/<table>.xlsx``, typed as an HR system's Excel export types it: dates as date
    cells and numbers as numbers where they parse, everything else (ids, codes, bad values) as text cells."""
    dst.mkdir(parents=True, exist_ok=True)
    for name, schema in load_schemas().items():
        path = find_table_file(src, name)
        if path is None:
            continue
        frame = (pd.read_parquet(path) if path.suffix == ".parquet"
                 else pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]))
        for spec in schema.columns:
            if spec.name not in frame or frame[spec.name].dtype != object:
                continue
            text = frame[spec.name]
            parsed = (pd.to_datetime(text, errors="coerce", format="ISO8601") if spec.type in ("date", "month")
                      else pd.to_numeric(text, errors="coerce") if spec.type in ("integer", "float") else None)
            if parsed is not None:
                cells = text.astype(object).copy()
                cells[parsed.notna()] = parsed[parsed.notna()].astype(object)
                frame[spec.name] = cells
        frame = frame.rename(columns=(headers or {}).get(name, {}))
        frame.to_excel(dst / f"{name}.xlsx", index=False, sheet_name=name, engine="openpyxl")
    return dst
