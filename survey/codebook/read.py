"""Step 1 of a draft: read an export into a uniform column table (:class:`Table`) and group its
headers into questions (:func:`group_headers`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ReadError
from ._common import (CONT_HDR, MANGLED, NUM_HDR, OLD_HDR, OTHER_TEXT_HDR, OTHER_WORD,
                      meta_header_names, norm)

__all__ = ["Group", "Part", "Table", "group_headers", "read_table"]


# ---------------------------------------------------------------------------------------------
# reading: a uniform column table
# ---------------------------------------------------------------------------------------------
@dataclass
class Table:
    headers: list[str]
    cols: list[np.ndarray]
    file: str
    kind: str                                   # wjx | sav | csv
    layout: str = "unknown"                     # code | text | unknown
    names: list[str] | None = None              # SPSS variable names
    value_labels: list[dict[int, str] | None] | None = None
    user_missing: list[list[float]] | None = None
    is_date: list[bool] | None = None


def read_table(path: Path) -> Table:
    if not path.exists():
        raise ReadError(f"{path}: file not found; pass the raw export (问卷星 .xlsx, .sav, .dta, .csv)")
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        from ..io.wjx import layout_from_name, read_wjx_raw
        raw = read_wjx_raw(path)
        return Table(raw.headers, raw.cols, str(path), "wjx", layout_from_name(path))
    if ext == ".csv":
        from ..io.csvio import read_csv_raw
        raw = read_csv_raw(path)
        from ..io.wjx import layout_from_name
        return Table(raw.headers, raw.cols, str(path), "csv", layout_from_name(path))
    if ext in (".sav", ".zsav", ".dta"):
        return _read_stat(path)
    raise ReadError(f"{path}: unknown file type {ext!r}; draft from a 问卷星 .xlsx/.csv export or "
                    "an SPSS .sav/.zsav / Stata .dta file")


def _read_stat(path: Path) -> Table:
    import pyreadstat
    reader = pyreadstat.read_dta if path.suffix.lower() == ".dta" else pyreadstat.read_sav
    df = meta = None
    last: Exception | None = None
    for enc in (None, "GB18030"):
        try:
            df, meta = reader(str(path), user_missing=True, apply_value_formats=False, encoding=enc)
            break
        except Exception as e:  # pyreadstat's own error classes
            last = e
    if df is None:
        raise ReadError(f"{path}: pyreadstat cannot read this file ({last}); re-export it from "
                        "问卷星/SPSS, or draft from the Excel 按序号 + 按文本 exports instead")
    names = [str(c) for c in df.columns]
    labels = list(meta.column_labels or [None] * len(names))
    headers = [str(lab).strip() if lab else n for n, lab in zip(names, labels)]
    vl = meta.variable_value_labels or {}
    miss_r = getattr(meta, "missing_ranges", None) or {}
    miss_u = getattr(meta, "missing_user_values", None) or {}
    vlabels, umiss, is_date, cols = [], [], [], []
    for n in names:
        lab = vl.get(n)
        vlabels.append({int(k): str(v) for k, v in lab.items()
                        if isinstance(k, (int, float)) and float(k).is_integer()} if lab else None)
        um: list[float] = []
        for r in miss_r.get(n, []) or []:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, (int, float)) and lo == hi:
                um.append(float(lo))
            elif isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi - lo <= 20:
                um.extend(float(x) for x in range(int(lo), int(hi) + 1))
        um.extend(float(x) for x in miss_u.get(n, []) or [] if isinstance(x, (int, float)))
        umiss.append(sorted(set(um)))
        s = df[n]
        is_date.append(bool(pd.api.types.is_datetime64_any_dtype(s.dtype)))
        cols.append(s.astype(object).where(s.notna(), None).to_numpy(dtype=object))
    return Table(headers, cols, str(path), "sav", "code", names=names, value_labels=vlabels,
                  user_missing=umiss, is_date=is_date)


# ---------------------------------------------------------------------------------------------
# header grouping
# ---------------------------------------------------------------------------------------------
@dataclass
class Part:
    col: int
    role: str            # value | option | row | other
    label: str = ""      # option / row label
    name: str | None = None   # SPSS variable name


@dataclass
class Group:
    number: int | None
    text: str
    kind: str            # plain | options | matrix
    parts: list[Part] = field(default_factory=list)
    header: str = ""


def _split_paren(rest: str) -> tuple[str, str] | None:
    """``'题干(选项(a))'`` -> ``('题干', '选项(a)')``: the last balanced ASCII/全角 group."""
    rest = rest.rstrip()
    if not rest.endswith((")", "）")):
        return None
    depth = 0
    for i in range(len(rest) - 1, -1, -1):
        ch = rest[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（":
            depth -= 1
            if depth == 0:
                return rest[:i], rest[i + 1:-1]
    return None


def _split_dash(rest: str) -> tuple[str, str] | None:
    m = re.match(r"^(.*?[^—])—(?!—)(.+)$", rest, re.S)
    if m and m.group(1).strip() and m.group(2).strip():
        return m.group(1), m.group(2)
    return None


def _is_other_text_label(s: str) -> bool:
    return bool(OTHER_WORD.search(s)) and bool(OTHER_TEXT_HDR.search(s) or s.strip().startswith(("(", "（")))


def group_headers(t: Table) -> tuple[list[Group], dict[int, str]]:
    meta_names = meta_header_names()
    groups: list[Group] = []
    meta: dict[int, str] = {}
    cur: Group | None = None
    headers = t.headers
    nh = len(headers)

    def peek_same(j: int, n: int) -> bool:
        if j + 1 >= nh:
            return False
        h = headers[j + 1]
        m = NUM_HDR.match(h) or OLD_HDR.match(h) or CONT_HDR.match(h)
        return bool(m) and int(m.group(1)) == n

    for j, h in enumerate(headers):
        h = "" if h is None else str(h).strip()
        name = t.names[j] if t.names else None
        hn = norm(h)
        if hn in meta_names or (name and norm(name) in meta_names and not NUM_HDR.match(h)):
            meta[j] = meta_names.get(hn) or meta_names[norm(name)]
            cur = None
            continue
        m = NUM_HDR.match(h) or OLD_HDR.match(h)
        mc = CONT_HDR.match(h) if not m else None
        if mc and cur is not None and cur.number == int(mc.group(1)):
            lab = mc.group(2)
            if cur.kind == "plain":
                cur.kind = "options"
            cur.parts.append(Part(j, "option", lab, name))
            continue
        if m:
            n, rest = int(m.group(1)), m.group(2).strip()
            if cur is not None and cur.number == n:
                # a further column of question n: option, matrix row or "please specify"
                suffix = rest[len(cur.text):] if cur.text and rest.startswith(cur.text) else rest
                suffix = suffix.strip()
                par = _split_paren(suffix) if suffix.startswith(("(", "（")) else None
                # in an option block every "(label)" is an option column; one holding text
                # instead of 0/1 is the "please specify" column (decided from the values)
                if _is_other_text_label(suffix) and not (cur.kind == "options" and par):
                    cur.parts.append(Part(j, "other", suffix, name))
                elif suffix.startswith("—") and len(suffix) > 1:
                    cur.kind = "matrix"
                    cur.parts.append(Part(j, "row", suffix[1:].strip(), name))
                elif par is not None and par[0] == "" and cur.kind in ("options", "plain"):
                    cur.kind = "options"
                    cur.parts.append(Part(j, "option", par[1], name))
                elif cur.kind == "matrix":
                    cur.parts.append(Part(j, "row", suffix, name))
                else:
                    cur.parts.append(Part(j, "other", suffix, name))
                continue
            # a new question
            par = _split_paren(rest)
            dash = _split_dash(rest)
            same_next = peek_same(j, n)
            if par is not None and par[0].strip() and same_next and not dash:
                cur = Group(n, par[0].strip(), "options", [Part(j, "option", par[1], name)], h)
            elif par is not None and not par[0].strip() and same_next:
                # older exports: 第N题(选项) on every option column, without the question text
                cur = Group(n, f"第{n}题", "options", [Part(j, "option", par[1], name)], h)
            elif dash is not None:
                cur = Group(n, dash[0].strip(), "matrix", [Part(j, "row", dash[1].strip(), name)], h)
            else:
                cur = Group(n, rest, "plain", [Part(j, "value", "", name)], h)
            groups.append(cur)
            continue
        if cur is not None and cur.kind == "matrix" and h:
            mm = MANGLED.match(h)
            lab = mm.group(1) if mm and mm.group(1) in {p.label for p in cur.parts} else h
            cur.parts.append(Part(j, "row", lab, name))
            continue
        # a column without 问卷星 numbering: its own question (SPSS names, hand-made CSVs)
        cur = Group(None, h or (name or f"列{j + 1}"), "plain", [Part(j, "value", "", name)], h)
        groups.append(cur)
        cur = None
    # a "matrix" of one row whose header merely contains a dash is a plain question
    for g in groups:
        if g.kind == "matrix" and len([p for p in g.parts if p.role == "row"]) == 1 and g.number is not None:
            g.kind = "plain"
            first = g.parts[0]
            g.text = NUM_HDR.match(g.header).group(2).strip() if NUM_HDR.match(g.header) else g.header
            first.role, first.label = "value", ""
    return groups, meta


