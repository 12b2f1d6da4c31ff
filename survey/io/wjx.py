"""问卷星 (wjx.cn) Excel exports: reader for both layouts and a writer that produces them.

Layouts: ``按序号`` (``layout="code"``: option codes, one 0/1 column per multi-select option,
one rank column per ranking option with ``-2`` = not chosen, ``-3`` = logic skip) and ``按文本``
(``layout="text"``: labels, ``┋``-joined multi-select, ``→``-joined ranking, ``(跳过)`` /
``(空)``, inline ``其他〖…〗``).  Headers are ``N、题干``; multi/rank option columns
``N、题干(选项1)``, ``N(选项k)``; matrix blocks ``N、题干—行1`` followed by bare row labels
(what :func:`write_wjx` writes) or by numbered ``N、行k`` (what real 按文本 exports show; the
reader takes both, see :func:`survey.io.headers.split_header`).
"""
from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReadError
from ..questionnaire import Questionnaire
from ..validation import Options, check
from ._codes import codes_of
from ._core import RawTable

__all__ = ["read_wjx_raw", "write_wjx", "wjx_filename", "OTHER_HEADER"]

OTHER_HEADER = "(其他（请补充）:)"
_SKIP, _BLANK = "(跳过)", "(空)"


def wjx_filename(q: Questionnaire, layout: str = "code", n: int = 0, *, survey_id: int = 100000) -> str:
    """The file name 问卷星 gives an export, e.g. ``100000_按序号_标题_15000_15000.xlsx``.

    Examples
    --------
    >>> from survey.questionnaire import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w", "title": "T"}, "questions": [
    ...     {"id": "a", "text": "A", "type": "text"}]})
    >>> wjx_filename(q, "text", 12)
    '100000_按文本_T_12_12.xlsx'
    """
    kind = {"code": "按序号", "text": "按文本"}[layout]
    return f"{survey_id}_{kind}_{q.title}_{n}_{n}.xlsx"


def layout_from_name(path: str | Path) -> str:
    name = Path(path).name
    if "按序号" in name:
        return "code"
    if "按文本" in name:
        return "text"
    return "unknown"


def read_wjx_raw(path: str | Path, *, sheet: str | int | None = None) -> RawTable:
    """Read a 问卷星 .xlsx into a :class:`RawTable` (duplicate headers kept as they are)."""
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{p}: file not found")
    from ._xlsx import read_xlsx_rows
    formulas: list[str] = []
    try:
        rows = read_xlsx_rows(p, sheet, formulas=formulas)
    except Exception:  # noqa: BLE001 - anything unusual: let openpyxl read it (or say why not)
        rows = _openpyxl_rows(p, sheet)
    if formulas:
        import warnings
        from ..errors import ReadWarning
        warnings.warn(f"{p}: {len(formulas)} cell(s) hold a formula without a computed value "
                      f"({', '.join(formulas[:6])}{' …' if len(formulas) > 6 else ''}); they "
                      "are read as blank — open and save the file in Excel, or export it again",
                      ReadWarning, stacklevel=3)
    # drop fully empty trailing rows/columns
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    if not rows:
        raise ReadError(f"{p}: the sheet is empty; export the answers again")
    header = list(rows[0])
    while header and header[-1] is None:
        header.pop()
    width = len(header)
    if width == 0:
        raise ReadError(f"{p}: the first row holds no column headers")
    body = rows[1:]
    while body and not any(v is not None and not (isinstance(v, str) and not v.strip())
                           for v in body[-1][:width]):
        body.pop()
    if body:
        arr = np.empty((len(body), width), dtype=object)
        for i, r in enumerate(body):
            r = r[:width]
            arr[i, : len(r)] = r
        cols = [arr[:, j] for j in range(width)]
    else:
        cols = [np.empty(0, dtype=object) for _ in range(width)]
    headers = ["" if h is None else str(h).strip() for h in header]
    return RawTable(headers=headers, cols=cols, file=str(p), kind="wjx",
                    layout=layout_from_name(p))


# what a damaged .xlsx makes zipfile / zlib / the XML parser / openpyxl raise (seen by
# flipping bytes: NotImplementedError = a compression method byte changed, IndexError from
# openpyxl's reader on a mangled sheet)
_DAMAGED = (zipfile.BadZipFile, zlib.error, ParseError, KeyError, EOFError, OSError, ValueError,
            NotImplementedError, IndexError)


def _openpyxl_rows(p: Path, sheet: str | int | None) -> list:
    import openpyxl
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except _DAMAGED as e:
        why = (str(e).splitlines() or [""])[0][:120]
        raise ReadError(f"{p}: not a readable .xlsx file ({type(e).__name__}: {why}); the file is "
                        "truncated or not an Excel workbook — download the export again") from None
    try:
        try:
            ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet or 0]
        except (KeyError, IndexError):
            raise ReadError(f"{p}: no worksheet {sheet!r}; sheets are {wb.sheetnames}") from None
        try:
            return [list(r) for r in ws.iter_rows(values_only=True)]
        except _DAMAGED as e:
            raise ReadError(f"{p}: the workbook is damaged ({type(e).__name__}); download the "
                            "export again") from None
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------------------------
def _fmt_seconds(s: float) -> str:
    s = int(round(s))
    m, sec = divmod(s, 60)
    h, m = divmod(m, 60)
    if h:
        return f"{h}小时{m}分{sec}秒"
    return f"{m}分{sec}秒" if m else f"{sec}秒"


def _skipped(frame: pd.DataFrame, q: Questionnaire, qid: str) -> np.ndarray:
    try:
        return ~q.evaluate_ask_if(qid, frame).to_numpy(dtype=bool)
    except Exception:  # noqa: BLE001 - frame lacks the columns: treat NA as blank
        return np.zeros(len(frame), dtype=bool)


def _na_cell(layout: str, skipped: np.ndarray, numeric_code: bool) -> np.ndarray:
    if numeric_code and layout == "code":
        return np.where(skipped, -3, None).astype(object)
    return np.where(skipped, _SKIP, _BLANK if layout == "text" else None).astype(object)


def _wjx_columns(frame: pd.DataFrame, q: Questionnaire, layout: str
                 ) -> tuple[list[str], list[np.ndarray]]:
    n = len(frame)
    heads: list[str] = []
    cols: list[np.ndarray] = []

    def add(h: str, v: np.ndarray) -> None:
        heads.append(h)
        cols.append(v)

    if "rid" in frame:
        add("序号", frame["rid"].astype(object).to_numpy())
    else:
        add("序号", np.arange(1, n + 1, dtype=object))
    if "submitted_at" in frame:
        ts = pd.to_datetime(frame["submitted_at"])
        add("提交答卷时间", ts.dt.strftime("%Y/%m/%d %H:%M:%S").astype(object)
            .where(ts.notna(), None).to_numpy())
    if "duration_s" in frame:
        d = pd.to_numeric(frame["duration_s"], errors="coerce")
        add("所用时间", np.array([None if np.isnan(x) else f"{int(round(x))}秒" for x in d],
                             dtype=object))
    for meta, head in (("source", "来源"), ("source_detail", "来源详情"), ("ip", "来自IP")):
        if meta in frame:
            add(head, frame[meta].astype(object).where(frame[meta].notna(), None).to_numpy())

    for N, qu in enumerate(q.questions, start=1):
        cols_q = qu.columns
        main = [c for c in cols_q if not c.endswith("_other")]
        if not all(c in frame.columns for c in main):
            continue
        skipped = _skipped(frame, q, qu.id)
        head = f"{N}、{qu.text}"
        other = (frame[f"{qu.id}_other"].astype(object).where(frame[f"{qu.id}_other"].notna(), None)
                 .to_numpy() if qu.other is not None and f"{qu.id}_other" in frame else
                 np.full(n, None, dtype=object))
        t = qu.type
        if t == "single":
            codes = codes_of(frame[qu.id].rename(qu.id), qu)
            na = codes < 0
            if layout == "code":
                v = codes.astype(object)
                v[na] = _na_cell(layout, skipped, True)[na]
                add(head, v)
                if qu.other is not None:
                    add(f"{N}、{OTHER_HEADER}", np.where(codes == qu.other, other, None))
            else:
                labs = np.array(list(qu.labels.values()) + [None], dtype=object)
                order = {c: i for i, c in enumerate(qu.labels)}
                v = labs[np.array([order.get(c, len(order)) for c in codes], dtype=np.int64)]
                if qu.other is not None:
                    has = (codes == qu.other) & pd.notna(other)
                    olab = qu.labels[qu.other]
                    v[has] = np.array([f"{olab}〖{t_}〗" for t_ in other[has]], dtype=object)
                v[na] = _na_cell(layout, skipped, False)[na]
                add(head, v)
        elif t in ("multi", "rank"):
            opts = list(qu.options)
            mat = np.column_stack([frame[f"{qu.id}_{c}"].astype("Float64").fillna(0).to_numpy(dtype=float)
                                   for c in opts]) if opts else np.zeros((n, 0))
            answered = np.column_stack([frame[f"{qu.id}_{c}"].notna().to_numpy()
                                        for c in opts]).any(axis=1)
            if layout == "code":
                for j, c in enumerate(opts):
                    h = f"{head}({qu.options[c]})" if j == 0 else f"{N}({qu.options[c]})"
                    if t == "multi":
                        v = mat[:, j].astype(np.int64).astype(object)
                    else:
                        v = np.where(mat[:, j] > 0, mat[:, j].astype(np.int64), -2).astype(object)
                    v[~answered] = _na_cell(layout, skipped, True)[~answered]
                    add(h, v)
                if qu.other is not None:
                    chosen_o = mat[:, opts.index(qu.other)] > 0
                    add(f"{N}、{OTHER_HEADER}", np.where(chosen_o, other, None))
            else:
                sep = "┋" if t == "multi" else "→"
                labels = [qu.options[c] for c in opts]
                if qu.other is not None:
                    oj = opts.index(qu.other)
                v = np.empty(n, dtype=object)
                for i in range(n):  # string assembly; vectorising this gains little
                    if not answered[i]:
                        continue
                    row = mat[i]
                    idx = np.flatnonzero(row > 0)
                    if t == "rank":
                        idx = idx[np.argsort(row[idx], kind="stable")]
                    parts = []
                    for j in idx:
                        lab = labels[j]
                        if qu.other is not None and j == oj and other[i] is not None:
                            lab = f"{lab}〖{other[i]}〗"
                        parts.append(lab)
                    v[i] = sep.join(parts)
                v[~answered] = _na_cell(layout, skipped, False)[~answered]
                add(head, v)
        elif t in ("matrix", "likert"):
            labs = qu.labels
            for j, (r, rtext) in enumerate(qu.rows.items()):
                s = frame[f"{qu.id}_{r}"].astype("Float64")
                na = s.isna().to_numpy()
                codes = s.fillna(-1).to_numpy(dtype=float).astype(np.int64)
                if layout == "code":
                    v = codes.astype(object)
                else:
                    v = np.array([labs.get(c, str(c)) for c in codes], dtype=object)
                v[na] = _na_cell(layout, skipped, True)[na]
                add(f"{head}—{rtext}" if j == 0 else rtext, v)
        else:
            s = frame[qu.id]
            na = s.isna().to_numpy()
            if t == "numeric":
                f = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                v = np.array([int(x) if np.isfinite(x) and float(x).is_integer() else x for x in f],
                             dtype=object)
            elif t == "duration":
                f = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
                v = (np.array([None if np.isnan(x) else _fmt_seconds(x) for x in f], dtype=object)
                     if layout == "text" else
                     np.array([None if np.isnan(x) else int(x) if float(x).is_integer() else x
                               for x in f], dtype=object))
            elif t == "date":
                ts = pd.to_datetime(s, errors="coerce")
                fmt = "%Y-%m-%d" if (ts.dropna().dt.normalize() == ts.dropna()).all() else \
                    "%Y-%m-%d %H:%M:%S"
                v = ts.dt.strftime(fmt).astype(object).where(ts.notna(), None).to_numpy()
            else:
                v = s.astype(object).where(s.notna(), None).to_numpy()
            v = v.astype(object)
            v[na] = _na_cell(layout, skipped, False)[na]
            add(head, v)
    return heads, cols


def write_wjx(frame: pd.DataFrame, q: Questionnaire, path: str | Path, layout: str = "code") -> Path:
    """Write an analysis frame as a 问卷星 Excel export (``按序号`` or ``按文本`` layout).

    Parameters
    ----------
    frame : DataFrame
        An analysis frame (columns as :meth:`Questionnaire.columns`), optionally with the PII
        questions' columns and raw metadata ``rid``, ``submitted_at``, ``duration_s``,
        ``source``, ``source_detail``, ``ip``.  Questions whose columns are absent are left out.
        NA cells become ``(跳过)``/``-3`` where ``ask_if`` says the question was skipped, else
        ``(空)`` (text layout) or an empty cell (code layout).
    q : Questionnaire
    path : path-like
        Target ``.xlsx`` (see :func:`wjx_filename` for 问卷星's naming).
    layout : {"code", "text"}
        ``"code"`` = 按序号, ``"text"`` = 按文本.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from survey.questionnaire import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> f = pd.DataFrame({"sex": pd.Categorical(["男", "女"], categories=list(q.labels("sex").values()))})
    >>> p = write_wjx(f, q, pathlib.Path(tempfile.mkdtemp()) / "x_按文本_w_2_2.xlsx", layout="text")
    >>> p.suffix
    '.xlsx'
    """
    import openpyxl
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"write_wjx: frame must be the analysis DataFrame, not {type(frame).__name__}")
    check("write_wjx", "layout", layout, Options(("code", "text")), error=ReadError)
    heads, cols = _wjx_columns(frame, q, layout)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    ws.append(heads)
    n = len(frame)
    if n:
        from openpyxl.cell import WriteOnlyCell
        mat = np.empty((n, len(cols)), dtype=object)
        for j, c in enumerate(cols):
            mat[:, j] = c
            # text that starts with "=" must stay text, not become a formula
            for i in np.flatnonzero([isinstance(v, str) and v.startswith("=") for v in c]):
                cell = WriteOnlyCell(ws, value=c[i])
                cell.data_type = "s"
                mat[i, j] = cell
        from openpyxl.utils.exceptions import IllegalCharacterError
        for i, row in enumerate(mat.tolist()):
            try:
                ws.append(row)
            except IllegalCharacterError:
                j = next(j for j, v in enumerate(row) if isinstance(v, str)
                         and openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.search(v))
                raise ReadError(f"{p}: column {heads[j]!r}, row {i + 1} holds a control character "
                                "that Excel cannot store; remove it (or write_sav instead)") from None
    wb.save(p)
    return p
