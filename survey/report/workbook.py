"""Every published table in one Excel workbook (one sheet per table, Chinese headers).

The notebooks register tables with :func:`survey.report.publish`, which writes one JSON record
per table under ``<output_dir>/.tables/<notebook>/``.  :func:`write_workbook` gathers them in
report order into ``tables.xlsx``: a first sheet ``目录`` (contents) and one sheet per table named
after its id, suppressed cells as ``—``, footnotes under the table.  Document properties carry a
fixed timestamp so the file's content does not depend on the time of the run.

Examples
--------
>>> import tempfile, json, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / "quality").mkdir()
>>> rec = {"id": "T1.1", "title": "性别", "notebook": "quality", "index_name": [""],
...        "index": [["男"], ["女"]], "columns": ["人数"], "formats": {"人数": "count"},
...        "data": [[12], ["—"]], "unreliable": [[False], [False]], "notes": [], "show_index": True}
>>> _ = (d / "quality" / "001_T1.1.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
>>> out = write_workbook(d, d / "tables.xlsx", notebooks=["quality"])
>>> import openpyxl; openpyxl.load_workbook(out).sheetnames
['目录', 'T1.1']
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ReportError
from ..io.safe import harden_workbook

__all__ = ["collect_tables", "write_workbook", "sheet_name"]

_BAD = re.compile(r"[\[\]:*?/\\]")
_NUMFMT = {"count": "#,##0", "int": "#,##0", "pct": "0.0", "pct100": "0.0", "mean": "#,##0.0",
           "float2": "0.00"}
_FIXED_TIME = _dt.datetime(2000, 1, 1)


def sheet_name(table_id: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, no ``[]:*?/\\``).

    Examples
    --------
    >>> sheet_name("T1.1", set()), sheet_name("T1.1", {"T1.1"})
    ('T1.1', 'T1.1 (2)')
    """
    base = _BAD.sub("_", table_id)[:31] or "table"
    name, k = base, 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f" ({k})"
        name = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(name)
    return name


def collect_tables(tables_root: str | Path, notebooks: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Table records under *tables_root*, in notebook order then publication order.

    Examples
    --------
    >>> collect_tables("/nonexistent")
    []
    """
    root = Path(tables_root)
    if not root.is_dir():
        return []
    dirs = [root / n for n in notebooks] if notebooks else sorted(p for p in root.iterdir() if p.is_dir())
    out = []
    for d in dirs:
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.json")):
            try:
                out.append(json.loads(f.read_text(encoding="utf-8")))
            except (OSError, json.JSONDecodeError) as e:
                raise ReportError(f"published table {f} is unreadable ({e}); rerun the notebook") from None
    return out


def write_workbook(tables_root: str | Path, path: str | Path, *, notebooks: Sequence[str] | None = None,
                   notebook_titles: dict[str, str] | None = None, title: str = "调查报告表格") -> Path:
    """Write all published tables into one ``.xlsx`` (one sheet per table).

    Parameters
    ----------
    tables_root : path
        The ``.tables`` folder the notebooks wrote to.
    path : path
        Output workbook.
    notebooks : sequence of str, optional
        Notebook order (default: alphabetical folders).
    notebook_titles : dict, optional
        Chinese notebook titles for the contents sheet.
    title : str
        Heading of the contents sheet.

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    recs = collect_tables(tables_root, notebooks)
    wb = Workbook()
    toc = wb.active
    toc.title = "目录"
    toc.append([title])
    toc["A1"].font = Font(bold=True, size=13)
    toc.append(["表号", "标题", "所属报告", "工作表"])
    for c in toc[2]:
        c.font = Font(bold=True)
    used: set[str] = {"目录"}
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F2F4F7")
    for rec in recs:
        name = sheet_name(rec.get("sheet") or rec["id"], used)
        nbt = (notebook_titles or {}).get(rec.get("notebook", ""), rec.get("notebook", ""))
        toc.append([rec["id"], rec.get("title", ""), nbt, name])
        toc.cell(row=toc.max_row, column=4).hyperlink = f"#'{name}'!A1"
        ws = wb.create_sheet(name)
        ws.append([f"{rec['id']}  {rec.get('title', '')}"])
        ws["A1"].font = Font(bold=True, size=12)
        nidx = len(rec["index"][0]) if (rec["index"] and rec.get("show_index", True)) else 0
        idx_names = (rec.get("index_name") or [""] * nidx)[:nidx]
        ws.append([*idx_names, *rec["columns"]])
        for c in ws[2]:
            c.font = bold
            c.fill = head_fill
            c.alignment = Alignment(horizontal="center", wrap_text=True)
        for ix, row, unrel in zip(rec["index"], rec["data"], rec.get("unreliable", [])):
            ws.append([*(ix[:nidx]), *row])
            r = ws.max_row
            for j, col in enumerate(rec["columns"]):
                cell = ws.cell(row=r, column=nidx + j + 1)
                fmt = _NUMFMT.get(rec.get("formats", {}).get(col, ""))
                if fmt and isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
                if cell.value == "—":
                    cell.alignment = Alignment(horizontal="center")
                if unrel and j < len(unrel) and unrel[j] and cell.value not in (None, "—"):
                    cell.font = Font(italic=True)
        for note in rec.get("notes", []):
            ws.append([note])
        ws.freeze_panes = ws.cell(row=3, column=nidx + 1)
        for j in range(1, nidx + len(rec["columns"]) + 1):
            ws.column_dimensions[ws.cell(row=2, column=j).column_letter].width = 14 if j > nidx else 18
    toc.column_dimensions["A"].width = 10
    toc.column_dimensions["B"].width = 48
    toc.column_dimensions["C"].width = 18
    harden_workbook(wb)  # labels and free text quoted in tables never run as formulas
    wb.properties.creator = "survey"
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
