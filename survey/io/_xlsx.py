"""A lean streaming .xlsx cell reader (values only) — faster than openpyxl for big exports.

It reads the first (or a named) worksheet with :func:`xml.etree.ElementTree.iterparse`,
resolving shared strings, inline strings, booleans, numbers and date-formatted numbers (via
the cell styles).  Formulas give their cached value.  Anything it does not understand raises
``ValueError``/``KeyError`` and the caller falls back to openpyxl.
"""
from __future__ import annotations

import datetime as _dt
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["read_xlsx_rows"]

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PNS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DATE_IDS = set(range(14, 23)) | {45, 46, 47}
_COL = re.compile(r"^([A-Z]+)")
_EPOCH = _dt.datetime(1899, 12, 30)


def _col_index(ref: str) -> int:
    m = _COL.match(ref)
    if not m:
        raise ValueError(f"bad cell reference {ref!r}")
    n = 0
    for ch in m.group(1):
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _text(el: ET.Element) -> str:
    # <si> / <is>: plain <t> or rich-text runs <r><t>; phonetic <rPh> is skipped
    out = []
    for child in el:
        if child.tag == f"{_NS}t":
            out.append(child.text or "")
        elif child.tag == f"{_NS}r":
            t = child.find(f"{_NS}t")
            if t is not None:
                out.append(t.text or "")
    return "".join(out)


def _sheet_path(z: zipfile.ZipFile, sheet: str | int | None) -> str:
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    sheets = wb.find(f"{_NS}sheets")
    if sheets is None or not len(sheets):
        raise KeyError("workbook has no sheets")
    if isinstance(sheet, str):
        el = next((s for s in sheets if s.get("name") == sheet), None)
        if el is None:
            raise KeyError(f"no sheet named {sheet!r}")
    else:
        el = sheets[sheet or 0]
    rid = el.get(f"{_RNS}id")
    rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    target = next(r.get("Target") for r in rels if r.get("Id") == rid)
    target = target.lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def _date_styles(z: zipfile.ZipFile) -> set[int]:
    try:
        st = ET.fromstring(z.read("xl/styles.xml"))
    except KeyError:
        return set()
    custom = set()
    fmts = st.find(f"{_NS}numFmts")
    if fmts is not None:
        for f in fmts:
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", f.get("formatCode", "")).lower()
            if re.search(r"[ymdhs]", code) and "general" not in code:
                custom.add(int(f.get("numFmtId")))
    xfs = st.find(f"{_NS}cellXfs")
    out = set()
    if xfs is not None:
        for i, xf in enumerate(xfs):
            nid = int(xf.get("numFmtId", "0"))
            if nid in _DATE_IDS or nid in custom:
                out.add(i)
    return out


def read_xlsx_rows(path: str | Path, sheet: str | int | None = None, *,
                   formulas: list[str] | None = None) -> list[list[Any]]:
    """All rows of a worksheet as lists of Python values (None for empty cells).

    ``formulas``, when given, receives the references of formula cells that carry no
    computed value (they read as None: a workbook written by a script, never opened in Excel).
    """
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for _, el in ET.iterparse(z.open("xl/sharedStrings.xml"), events=("end",)):
                if el.tag == f"{_NS}si":
                    shared.append(_text(el))
                    el.clear()
        dates = _date_styles(z)
        rows: list[list[Any]] = []
        tag_c, tag_row, tag_v, tag_is = f"{_NS}c", f"{_NS}row", f"{_NS}v", f"{_NS}is"
        tag_f = f"{_NS}f"
        cur: list[Any] = []
        with z.open(_sheet_path(z, sheet)) as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                tag = el.tag
                if tag == tag_c:
                    t = el.get("t")
                    ref = el.get("r")
                    j = _col_index(ref) if ref else len(cur)
                    if t == "inlineStr":
                        is_ = el.find(tag_is)
                        val: Any = _text(is_) if is_ is not None else None
                    else:
                        v = el.find(tag_v)
                        raw = v.text if v is not None else None
                        if raw is None:
                            val = None
                            if formulas is not None and el.find(tag_f) is not None:
                                formulas.append(ref or f"row {len(rows) + 1}")
                        elif t == "s":
                            val = shared[int(raw)]
                        elif t in ("str", "e"):
                            val = raw
                        elif t == "b":
                            val = raw == "1"
                        else:
                            f = float(raw)
                            s = el.get("s")
                            if s is not None and int(s) in dates:
                                # to the millisecond, as Excel shows it (a float day
                                # fraction would give 11:33:59.999999 for 11:34:00)
                                val = _EPOCH + _dt.timedelta(milliseconds=round(f * 86_400_000))
                            elif f.is_integer() and "." not in raw and "E" not in raw.upper():
                                val = int(raw)
                            else:
                                val = f
                    if j >= len(cur):
                        cur.extend([None] * (j - len(cur) + 1))
                    cur[j] = val
                    el.clear()
                elif tag == tag_row:
                    r = el.get("r")
                    if r is not None:
                        while len(rows) < int(r) - 1:
                            rows.append([])
                    rows.append(cur)
                    cur = []
                    el.clear()
    return rows
