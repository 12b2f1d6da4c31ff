"""Every published table in one Excel workbook (one sheet per table, Chinese headers).

The notebooks register tables with :func:`survey.report.publish`, which writes one JSON record
per table under ``<output_dir>/.tables/<notebook>/``.  :func:`write_workbook` gathers them in
report order into ``tables.xlsx``: a first sheet ``目录`` (contents) and one sheet per table named
after its id.  Document properties carry a fixed timestamp so the file's content does not depend
on the time of the run.

Every table sheet is laid out for computing (:func:`write_sheet`):

* row 1 the table id and title; row 2 the notes row ``说明：`` — how the numbers are weighted,
  which cells disclosure control left empty and why, and the multiplicity rule where the table
  marks ``†`` (Holm within the table's family of tests);
* row 3 one row of Chinese headers (frozen), then the data: numbers stored as numbers, with an
  estimate, its standard error, confidence limits and sample size in columns of their own
  (``估计值``, ``标准误``, ``置信区间下限``, ``置信区间上限``, ``样本量``) wherever the page shows
  ``45.2 (43.1–47.3)``; display precision comes from number formats, never from rounding;
* suppressed cells are empty — never the number the page suppressed; no pandas index columns;
* the table's footnotes under the data; column widths fitted to the contents.

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
>>> import openpyxl; wb = openpyxl.load_workbook(out); wb.sheetnames
['目录', 'T1.1']
>>> [c.value for c in wb["T1.1"][3]], wb["T1.1"]["B5"].value, wb["T1.1"].freeze_panes
(['类别', '人数'], None, 'A4')
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

__all__ = ["collect_tables", "write_workbook", "write_sheet", "sheet_name", "sheet_rows", "notes_row"]

_BAD = re.compile(r"[\[\]:*?/\\]")
_NUMFMT = {"count": "#,##0", "int": "#,##0", "pct": "0.0", "pct100": "0.0", "mean": "#,##0.0",
           "float2": "0.00", "est": "#,##0.0##", "pvalue": "0.000"}
_SUPP = "—"
_HEADER_ROW = 3
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


def sheet_rows(rec: dict[str, Any]) -> tuple[list[str], list[list[Any]], dict[str, str]]:
    """(headers, rows, format kind per header) of a table record for its Excel sheet.

    The record's ``sheet`` (numbers, written by :meth:`PublishedTable.to_record
    <survey.report.format.PublishedTable.to_record>`) when present; an older record without it
    falls back to its published values with ``—`` written as an empty cell, a default
    ``0, 1, 2`` index left out and an unnamed label column headed ``类别``.

    Examples
    --------
    >>> rec = {"index_name": [""], "index": [[0], [1]], "columns": ["人数"], "data": [[3], ["—"]],
    ...        "formats": {"人数": "count"}}
    >>> sheet_rows(rec)
    (['人数'], [[3], [None]], {'人数': 'count'})
    """
    sh = rec.get("sheet")
    if sh:
        return list(sh["columns"]), [list(r) for r in sh["data"]], dict(sh.get("formats", {}))
    idx = rec.get("index") or []
    nidx = len(idx[0]) if (idx and rec.get("show_index", True)) else 0
    names = [str(n or "") for n in (rec.get("index_name") or [""] * nidx)[:nidx]]
    if nidx == 1 and not names[0] and [i[0] for i in idx] == list(range(len(idx))):
        nidx, names = 0, []  # a default pandas index: no column of row numbers
    names = [n or ("类别" if nidx == 1 else f"类别{k + 1}") for k, n in enumerate(names)]
    fm = {n: "text" for n in names}
    fm.update({c: rec.get("formats", {}).get(c, "text") for c in rec["columns"]})
    rows = [[*(ix[:nidx]), *[None if v == _SUPP else v for v in row]] for ix, row in zip(idx, rec["data"])]
    return [*names, *rec["columns"]], rows, fm


def _has_tests(rec: dict[str, Any], headers: Sequence[str]) -> bool:
    cells = [v for r in rec.get("data", []) for v in r if isinstance(v, str)]
    return (any("†" in v for v in cells) or any("†" in n for n in rec.get("notes", []))
            or any(("校正" in h and "p" in h.lower()) for h in headers))


def notes_row(rec: dict[str, Any], headers: Sequence[str] = ()) -> str:
    """The sheet's notes row: weighting, suppression and multiplicity of one table record.

    Examples
    --------
    >>> notes_row({"weighting": "加权估计", "n_suppressed": 2, "min_cell": 10, "notes": []})
    '说明：加权：加权估计。隐去：2 个单元格按数据披露控制隐去（样本量不足 10 人，或为防止由合计推算），留空，不是零。多重比较：本表不含显著性检验。'
    """
    w = (rec.get("weighting") or "").rstrip("。") or "见表下注释及报告“方法说明”"
    n = rec.get("n_suppressed")
    if n is None:  # an older record: count the published marks
        n = sum(v == _SUPP for r in rec.get("data", []) for v in r)
    if n:
        k = f" {rec['min_cell']} 人" if rec.get("min_cell") else "规定人数"
        s = f"{n} 个单元格按数据披露控制隐去（样本量不足{k}，或为防止由合计推算），留空，不是零"
    else:
        s = "本表无隐去的单元格"
    m = (rec.get("multiplicity") or "").rstrip("。")
    if not m and _has_tests(rec, headers):
        rule = next((x for x in rec.get("notes", []) if "†" in x or "校正" in x), "")
        m = re.sub(r"^多重比较校正[：:]\s*", "", rule).rstrip("。") or "† 表示按 Holm 法在本表的检验族内作多重比较校正后 p < 0.05"
    if not m:
        m = "本表不含显著性检验"
    return f"说明：加权：{w}。隐去：{s}。多重比较：{m}。"


def _width(v: Any, kind: str) -> int:
    if v is None:
        return 0
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return len(f"{v:,.3f}") if kind in ("est", "float2", "pvalue") else len(f"{v:,.1f}")
    t = str(v)
    if t.isascii():
        return len(t)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in t)


def _styled(cell: Any, key: Any, style: Any, apply: Any) -> None:
    """Give *cell* the style registered under *key* in *style* (a dict per workbook): the first
    cell of a kind is styled by *apply* (openpyxl registers its font, fill, number format ... in
    the workbook), every later one copies that cell's style ids.  Registering a style hashes
    and compares openpyxl style objects, a third of the workbook's time when done per cell;
    the saved file is the same (the same ids)."""
    from copy import copy

    ids = style.get(key)
    if ids is None:
        apply(cell)
        style[key] = copy(cell._style)
    else:
        cell._style = copy(ids)


def write_sheet(ws: Any, rec: dict[str, Any]) -> None:
    """Lay one table record out on an openpyxl worksheet (see the module docstring).

    Call :func:`survey.io.safe.harden_workbook` on the workbook before saving (text that
    looks like a formula is quoted).
    """
    from openpyxl.styles import Alignment, Font, PatternFill

    headers, rows, fm = sheet_rows(rec)
    # style ids of this workbook by kind of cell (see _styled); kept on the workbook object
    style = ws.parent.__dict__.setdefault("_survey_styles", {})

    def header(c: Any) -> None:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="F2F4F7")
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    ws.append([f"{rec['id']}  {rec.get('title', '')}"])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([notes_row(rec, headers)])
    ws["A2"].font = Font(color="555555")
    ws.append(headers)
    for c in ws[_HEADER_ROW]:
        _styled(c, "header", style, header)
    widths = [_width(h, "text") for h in headers]
    fmts = [_NUMFMT.get(fm.get(h, "")) for h in headers]
    kinds = [fm.get(h, "") for h in headers]
    r = _HEADER_ROW
    for row in rows:
        ws.append(row)
        r += 1
        for j, (fmt, kind) in enumerate(zip(fmts, kinds)):
            v = row[j] if j < len(row) else None
            if fmt and isinstance(v, (int, float)) and not isinstance(v, bool):
                _styled(ws.cell(row=r, column=j + 1), fmt, style,
                        lambda c, fmt=fmt: setattr(c, "number_format", fmt))
            widths[j] = max(widths[j], _width(v, kind))
    if rec.get("notes"):
        ws.append([])
        for note in rec["notes"]:
            ws.append([note])
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"
    for j, wdt in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=_HEADER_ROW, column=j).column_letter].width = min(max(wdt + 2, 8), 60)


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
    from openpyxl.styles import Font

    recs = collect_tables(tables_root, notebooks)
    wb = Workbook()
    toc = wb.active
    toc.title = "目录"
    toc.append([title])
    toc["A1"].font = Font(bold=True, size=13)
    toc.append(["说明：每张表一个工作表；第 2 行为该表的说明（加权、隐去、多重比较），第 3 行为表头；"
                "数值以数字存储，隐去的单元格留空。"])
    toc.append(["表号", "标题", "所属报告", "工作表"])
    for c in toc[3]:
        c.font = Font(bold=True)
    used: set[str] = {"目录"}
    for rec in recs:
        nbt = (notebook_titles or {}).get(rec.get("notebook", ""), rec.get("notebook", ""))
        if "absent" in rec:  # a numbered table this report does not have: the reason, no sheet
            toc.append([rec["id"], f"（未列出）{rec['absent']}", nbt, ""])
            continue
        name = sheet_name(rec.get("sheet_title") or rec["id"], used)
        toc.append([rec["id"], rec.get("title", ""), nbt, name])
        toc.cell(row=toc.max_row, column=4).hyperlink = f"#'{name}'!A1"
        write_sheet(wb.create_sheet(name), rec)
    toc.freeze_panes = "A4"
    toc.column_dimensions["A"].width = 10
    toc.column_dimensions["B"].width = 60
    toc.column_dimensions["C"].width = 18
    toc.column_dimensions["D"].width = 12
    harden_workbook(wb)  # labels and free text quoted in tables never run as formulas
    wb.properties.creator = "survey"
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _save(wb, out)
    return out


def _save(wb: Any, out: Path) -> None:
    """Write *wb* to *out* keeping its fixed timestamp: ``Workbook.save`` stamps the document's
    "modified" property with the time of saving, so two renders of the same tables differed in
    ``docProps/core.xml``; openpyxl's writer is used directly instead."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    ExcelWriter(wb, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
