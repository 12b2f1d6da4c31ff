"""Test helper: write a small .xlsx from rows with openpyxl directly (never the package's writers)."""
from __future__ import annotations

from pathlib import Path

import openpyxl


def write_rows(path: Path, rows: list[list]) -> Path:
    """*rows* (the first is the header) as the only sheet of a new workbook at *path*."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
