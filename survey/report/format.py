"""Styling of published tables: number formats, suppression marks, fixed ids, footnotes.

A published table is a :class:`PublishedTable`: the numbers (``data``, Chinese headers), the
masks of suppressed and unreliable cells, a fixed ``table_id`` and footnotes.  It renders as a
pandas ``Styler`` with a fixed uuid (deterministic HTML) and is collected for the Excel workbook.

Formats (``formats={column: kind}``):

=========  =====================  ==========================================
kind        example                meaning
=========  =====================  ==========================================
``count``   ``12,345``             thousands separators
``pct``     ``45.2``               proportion (0–1) shown as a percentage, one decimal
``pct100``  ``45.2``               already a percentage
``mean``    ``47.3``               one decimal
``float2``  ``3.04``               two decimals
``est``     ``3.554``              an estimate: one to three decimals
``pvalue``  ``0.012``, ``<0.001``  a p-value
``text``    as is                  e.g. a pre-formatted CI ``45.2 (43.1–47.3)`` (:func:`fmt_ci`)
=========  =====================  ==========================================

Suppressed cells show ``—`` and unreliable ones get a ``*``; each adds its footnote.  One
meaning per symbol on every page (:data:`SYMBOL_LEGEND`): ``*`` unreliable only, ``†``
significant after the multiple-comparison correction, ``‡`` wording/coding changed (see the
note); a table whose cells or row labels carry ``†``/``‡`` gets the legend line unless a note
already starts with it.  p-values are written by :func:`fmt_p` everywhere (``pvalue`` kind).

Examples
--------
>>> import pandas as pd
>>> from survey.report.format import style_table, fmt_ci
>>> fmt_ci(0.452, 0.431, 0.473)
'45.2 (43.1–47.3)'
>>> t = style_table(pd.DataFrame({"人数": [1234, 5], "比例(%)": [0.452, 0.01]}, index=["男", "女"]),
...                 "T1", title="性别", formats={"人数": "count", "比例(%)": "pct"},
...                 suppressed=pd.DataFrame({"人数": [False, True], "比例(%)": [False, True]},
...                                         index=["男", "女"]))
>>> t.display.loc["女"].tolist()
['—', '—']
>>> 'id="T_T1"' in t._repr_html_()
True
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ReportError

__all__ = [
    "SUPPRESSED",
    "CI_CELL",
    "UNRELIABLE",
    "PublishedTable",
    "style_table",
    "fmt_count",
    "fmt_pct",
    "fmt_mean",
    "fmt_ci",
    "fmt_num",
    "ci_digits",
    "format_value",
    "fmt_p",
    "SIGNIFICANT",
    "NOTE_MARK",
    "SYMBOL_LEGEND",
]

SUPPRESSED = "—"
UNRELIABLE = "*"
#: one meaning per symbol on every page: ``*`` only ever marks an unreliable estimate
SIGNIFICANT = "†"  # significant after the report's multiple-comparison correction
NOTE_MARK = "‡"  # see the footnote (e.g. the question's wording changed between waves)
SYMBOL_LEGEND = {
    UNRELIABLE: "样本量小于 30 或变异系数大于 30%，估计不稳定，仅供参考",
    SIGNIFICANT: "多重比较校正后差异显著",
    NOTE_MARK: "口径或题目措辞有变化，见注",
}
_KINDS = ("count", "pct", "pct100", "mean", "text", "int", "float2", "est", "pvalue")
_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


#: a cell holding an estimate and its interval (``45.2 (43.1–47.3)``, maybe marked ``*``):
#: classed ``ci`` so the page keeps it on one line (see :data:`survey.report.html.CSS`)
CI_CELL = r"\(-?[\d.,]+–-?[\d.,]+\)"


def _isna(x: Any) -> bool:
    try:
        return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))
    except TypeError:  # pragma: no cover
        return False


def fmt_count(x: Any) -> str:
    """``12345`` → ``'12,345'`` (weighted counts are rounded).

    Examples
    --------
    >>> fmt_count(12345.4), fmt_count(None)
    ('12,345', '')
    """
    return "" if _isna(x) else f"{round(float(x)):,}"


def fmt_pct(x: Any, digits: int = 1, *, proportion: bool = True) -> str:
    """A proportion as a percentage with one decimal: ``0.4521`` → ``'45.2'``.

    Examples
    --------
    >>> fmt_pct(0.4521), fmt_pct(45.21, proportion=False)
    ('45.2', '45.2')
    """
    if _isna(x):
        return ""
    v = float(x) * (100.0 if proportion else 1.0)
    return _no_neg_zero(f"{v:.{digits}f}")


def _no_neg_zero(s: str) -> str:
    """``'-0.00'`` → ``'0.00'`` (a rounded zero never carries a sign)."""
    return s[1:] if s.startswith("-") and not s.strip("-0.,") else s


def fmt_mean(x: Any, digits: int = 1) -> str:
    """A mean with *digits* decimals (thousands separators for large values; never ``-0.0``).

    Examples
    --------
    >>> fmt_mean(47.25), fmt_mean(12345.67), fmt_mean(-0.04), fmt_mean(3.0412, 2)
    ('47.2', '12,345.7', '0.0', '3.04')
    """
    return "" if _isna(x) else _no_neg_zero(f"{float(x):,.{digits}f}")


def fmt_num(x: Any, digits: int = 1, *, sign: bool = False) -> str:
    """A number with *digits* decimals, never ``-0.0``; ``sign=True`` writes ``+`` before a
    positive value (changes).

    Examples
    --------
    >>> fmt_num(0.034, 2, sign=True), fmt_num(-0.004, 2, sign=True), fmt_num(-0.031, 2)
    ('+0.03', '0.00', '-0.03')
    """
    if _isna(x):
        return ""
    s = _no_neg_zero(f"{float(x):,.{digits}f}")
    if sign and not s.startswith("-") and s.strip("0.,"):
        s = "+" + s
    return s


def ci_digits(lo: Any, hi: Any, *, min_digits: int = 1, max_digits: int = 3) -> int:
    """Decimals that make a confidence interval informative: enough that its width
    ``hi - lo`` shows at least two significant digits (between *min_digits* and *max_digits*).

    Pass arrays to choose one number of decimals for a whole indicator (the widest need wins,
    so every row of the indicator reads alike).

    Examples
    --------
    >>> ci_digits(3.01, 3.07, min_digits=2)   # width 0.06: 0.060 needs three decimals
    3
    >>> ci_digits(45.1, 47.3)                 # width 2.2: one decimal
    1
    >>> ci_digits([3.4, 3.2], [3.6, 3.5], min_digits=2)
    2
    """
    import numpy as np

    w = np.atleast_1d(np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float))
    w = w[np.isfinite(w) & (w > 0)]
    if not len(w):
        return min_digits
    need = int(np.ceil(-np.log10(float(w.min())) + 1 - 1e-9))
    return int(min(max(need, min_digits), max_digits))


def fmt_ci(est: Any, lo: Any, hi: Any, *, proportion: bool = True, digits: int = 1) -> str:
    """Estimate with its confidence interval: ``'45.2 (43.1–47.3)'`` (en dash, no spaces).

    Examples
    --------
    >>> fmt_ci(47.31, 46.02, 48.6, proportion=False)
    '47.3 (46.0–48.6)'
    >>> fmt_ci(3.012, 2.981, 3.043, proportion=False, digits=2)
    '3.01 (2.98–3.04)'
    """
    if _isna(est):
        return ""
    f = (lambda v: fmt_pct(v, digits)) if proportion else (lambda v: fmt_mean(v, digits))
    if _isna(lo) or _isna(hi):
        return f(est)
    return f"{f(est)} ({f(lo)}–{f(hi)})"


def fmt_p(p: Any) -> str:
    """A p-value as every page prints it: three decimals, ``<0.001`` below 0.001, empty when
    not tested (missing or not finite).

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.0123), fmt_p(0.5), fmt_p(float("nan")), fmt_p(None)
    ('<0.001', '0.012', '0.500', '', '')
    """
    if _isna(p) or not math.isfinite(float(p)):
        return ""
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def format_value(x: Any, kind: str) -> str:
    """Format one value by kind (see the module table).

    Examples
    --------
    >>> format_value(0.1234, "pct"), format_value(3, "count"), format_value("a", "text")
    ('12.3', '3', 'a')
    """
    if kind == "count" or kind == "int":
        return fmt_count(x)
    if kind == "pct":
        return fmt_pct(x)
    if kind == "pct100":
        return fmt_pct(x, proportion=False)
    if kind == "mean":
        return fmt_mean(x)
    if kind == "float2":
        return fmt_mean(x, 2)
    if kind == "est":
        if _isna(x):
            return ""
        return fmt_mean(x, 1) if float(fmt_mean(x, 3).replace(",", "")) == float(fmt_mean(x, 1).replace(",", "")) \
            else fmt_mean(x, 3).rstrip("0")
    if kind == "pvalue":
        return fmt_p(x)
    if kind == "text":
        return "" if _isna(x) else str(x)
    raise ReportError(f"unknown table format {kind!r}; use one of {', '.join(_KINDS)}")


def _guess_kind(s: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(s.dtype):
        return "count"
    if pd.api.types.is_float_dtype(s.dtype):
        return "mean"
    return "text"


def _mask_like(m: pd.DataFrame | None, data: pd.DataFrame, name: str) -> pd.DataFrame:
    if m is None:
        return pd.DataFrame(False, index=data.index, columns=data.columns)
    if not isinstance(m, pd.DataFrame) or m.shape != data.shape:
        raise ReportError(f"the {name} mask must be a DataFrame shaped like the table {data.shape}")
    return m.reindex(index=data.index, columns=data.columns).fillna(False).astype(bool)


def _flatten_index(disp: pd.DataFrame, classes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Row-label levels as leading columns; an outer label repeated on consecutive rows is
    shown on its first row only."""
    idx = disp.index
    names = [str(n) if n is not None else "" for n in idx.names]
    for k, n in enumerate(names):  # headings must be unique and not clash with the columns
        while n in disp.columns or names[:k].count(n):
            n += " "
        names[k] = n
    lead = {}
    prev: tuple = ()
    cols: list[list[str]] = [[] for _ in range(idx.nlevels)]
    for t in idx:
        t = tuple("" if _isna(v) else str(v) for v in t)
        same = True
        for k, v in enumerate(t):
            same = same and k < len(prev) and prev[k] == v and k < idx.nlevels - 1
            cols[k].append("" if same else v)
        prev = t
    for k, n in enumerate(names):
        lead[n] = cols[k]
    flat = pd.concat([pd.DataFrame(lead, dtype=object), disp.reset_index(drop=True)], axis=1)
    cl = pd.concat([pd.DataFrame("", index=range(len(disp)), columns=names),
                    classes.reset_index(drop=True)], axis=1)
    return flat, cl


#: A table of this many columns or more (row labels included) is set "wide": smaller type,
#: headings over 4 characters wrap (PP9 and the 清单 scrolled sideways at 13 columns).
WIDE_COLUMNS = 10


@dataclass
class PublishedTable:
    """A styled, disclosure-checked table (renders in notebooks; collected for Excel)."""

    table_id: str
    title: str
    data: pd.DataFrame
    display: pd.DataFrame
    suppressed: pd.DataFrame
    unreliable: pd.DataFrame
    formats: dict[str, str]
    notes: list[str] = field(default_factory=list)
    index: bool = True
    #: the workbook sheet's name when it is not the table id (e.g. ``急难愁盼问题清单``)
    sheet_title: str | None = None
    #: the numbers for the Excel sheet when the page shows formatted text (``45.2 (43.1–47.3)``):
    #: a flat frame (labels as ordinary columns, Chinese headers such as 估计值/标准误/置信区间下限/
    #: 置信区间上限/样本量), suppressed values already blank (NaN); see :func:`style_table`
    sheet: pd.DataFrame | None = None
    #: number format kind per column of :attr:`sheet` (as ``formats``)
    sheet_formats: dict[str, str] = field(default_factory=dict)
    #: cells of :attr:`sheet` blanked by disclosure control
    sheet_suppressed: int = 0
    #: how the numbers are weighted (the sheet's notes row); empty: said in the notes
    weighting: str = ""
    #: the multiplicity rule of the table's tests (the sheet's notes row); empty: no tests
    multiplicity: str = ""
    #: the smallest publishable cell (quoted in the sheet's notes row)
    min_cell: int | None = None
    #: shown folded on the page: a ``<details>`` block whose one-line summary is the caption
    #: (a long detail table; every number stays in tables.xlsx; a link to the table opens it)
    folded: bool = False

    def __repr__(self) -> str:
        """One line (IPython computes the plain text of every output; the page shows the HTML):
        the id, the caption and the size, not the frames.

        Examples
        --------
        >>> style_table(pd.DataFrame({"人数": [3, 4]}), "T9", title="样本")
        <表 T9 样本：2 行 × 1 列>
        """
        r, c = self.display.shape
        return f"<表 {self.table_id} {self.title}：{r} 行 × {c} 列{'（折叠）' if self.folded else ''}>"

    @property
    def styler(self):
        """The pandas ``Styler`` (fixed uuid ``T_<table_id>``; suppressed cells classed)."""
        # the cell classes as one object array (masks and a regex per cell, no frame operations)
        cl = np.full(self.display.shape, "", dtype=object)
        cl[self.suppressed.to_numpy(bool)] = "suppressed"
        cl[self.unreliable.to_numpy(bool)] = "unreliable"
        # an estimate with its interval, "48.75 (48.45–49.05)", stays on one line (class ci)
        has_ci = re.compile(CI_CELL).search
        ci = np.array([has_ci(str(v)) is not None for v in self.display.to_numpy(object).ravel()],
                      bool).reshape(cl.shape)
        cl[ci] = [f"{x} ci".strip() for x in cl[ci]]
        classes = pd.DataFrame(cl, index=self.display.index, columns=self.display.columns, dtype=object)
        from pandas.io.formats.style import Styler

        disp = self.display
        formats = dict(self.formats)
        show_index = self.index
        if show_index and disp.index.nlevels > 1 and disp.columns.nlevels == 1:
            # one header row: the row labels become leading text columns (a repeated outer label
            # is written once, as a rowspan would), instead of pandas' second header row of
            # index names above an empty row of column headings
            disp, classes = _flatten_index(disp, classes)
            for c in disp.columns[:self.display.index.nlevels]:
                formats[c] = "text"
            show_index = False
        one_name = (show_index and disp.index.nlevels == 1 and disp.index.name is not None
                    and disp.columns.nlevels == 1)
        if one_name:  # the index name in the header row, not in a row of its own
            disp = disp.copy()
            disp.columns = disp.columns.rename(disp.index.name)
            classes.columns = disp.columns
        # many columns (the policy tables, the 清单): a smaller type and headings that wrap, so
        # the table fits the page instead of scrolling sideways; row labels that are numbers
        # (位次) need no room for words
        ncol = len(disp.columns) + (disp.index.nlevels if show_index else 0)
        wide = ncol >= WIDE_COLUMNS
        kind = "survey-table wide" if wide else "survey-table"
        if show_index and disp.index.nlevels == 1 and pd.api.types.is_numeric_dtype(disp.index.dtype):
            kind += " numidx"
        # every cell, label and heading is text, never markup: respondents' words, category
        # labels and "<0.001" are escaped (pandas' Styler writes them raw by default)
        st = (Styler(disp, uuid=self.table_id, cell_ids=False, escape="html")
              .format_index(escape="html", axis=0).format_index(escape="html", axis=1)
              .format_index_names(escape="html", axis=0).format_index_names(escape="html", axis=1)
              .set_caption(html.escape(f"{self.table_id}  {self.title}"))
              .set_td_classes(classes)
              .set_table_attributes(f'class="{kind}"'))
        if one_name:
            st = st.hide(axis="index", names=True)
        rules: dict[Any, list[dict[str, str]]] = {}
        for c in disp.columns:
            r = []
            if formats.get(c, "text") == "text":  # words read from the left, numbers right
                r.append({"selector": "td", "props": "text-align:left;min-width:4em"})  # not 2 characters a line
            if len(str(c)) <= (4 if wide else 8):  # short headings on one line (not one character per line)
                r.append({"selector": "th", "props": "white-space:nowrap"})
            if r:
                rules[c] = r
        if rules and disp.columns.is_unique:
            st = st.set_table_styles(rules, overwrite=False)
        if not show_index:
            st = st.hide(axis="index")
        return st

    def to_html(self) -> str:
        """HTML: the table (``id="T_<table_id>"``) followed by its footnotes."""
        body = self.styler.to_html()
        # the id in the Styler's CSS selectors: a table id such as "T2.1" needs its dot escaped
        esc = re.sub(r"([^A-Za-z0-9_-])", r"\\\1", self.table_id)
        if esc != self.table_id:
            body = body.replace(f"#T_{self.table_id} ", f"#T_{esc} ")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        foot = f'<ol class="table-notes">{notes}</ol>' if notes else ""
        tid = html.escape(self.table_id)  # id: the target of links such as "见表 T4.3" (#T4.3)
        out = f'<div class="survey-table-wrap" id="{tid}" data-table-id="{tid}">{body}{foot}</div>'
        if self.folded:
            out = (f'<details class="fold"><summary><b>{tid}</b> {html.escape(self.title)}'
                   f'<span class="fold-hint">（共 {len(self.display)} 行；点击展开；'
                   f"完整表格亦见 tables.xlsx 表 {tid}）</span></summary>{out}</details>")
        return out

    def _repr_html_(self) -> str:
        return self.to_html()

    def excel_frame(self) -> pd.DataFrame:
        """Values for Excel: numbers (percentages ×100), ``—`` where suppressed, ``*`` noted."""
        out = pd.DataFrame(index=self.data.index, columns=self.data.columns, dtype=object)
        for c in self.data.columns:
            kind = self.formats.get(c, "text")
            col = self.data[c]
            if kind == "pct":
                vals = col.astype("float64").mul(100).round(1)
            elif kind in ("pct100", "mean"):
                vals = col.astype("float64").round(1)
            elif kind in ("count", "int"):
                vals = col.astype("float64").round(0)
            else:
                vals = col.astype(object)
            out[c] = vals.astype(object).where(~self.suppressed[c], SUPPRESSED)
        return out

    def sheet_frame(self) -> tuple[pd.DataFrame, dict[str, str], int]:
        """The numbers for the Excel sheet: (flat frame, format kind per column, suppressed cells).

        :attr:`sheet` when given.  Otherwise the table itself: the row labels become leading
        columns (an unnamed label column is headed ``类别``; a default 0, 1, 2 … index is left
        out), proportions are ×100, nothing is rounded (the sheet's number formats round the
        display), and suppressed cells are ``NaN`` (an empty cell — never the suppressed number).

        Examples
        --------
        >>> t = style_table(pd.DataFrame({"人数": [12, 3], "比例(%)": [0.8, 0.2]}, index=["男", "女"]), "T1",
        ...                 formats={"比例(%)": "pct"},
        ...                 suppressed=pd.DataFrame({"人数": [False, True], "比例(%)": [False, True]},
        ...                                         index=["男", "女"]))
        >>> f, fm, n = t.sheet_frame()
        >>> f.to_dict("list"), fm["比例(%)"], n
        ({'类别': ['男', '女'], '人数': [12.0, nan], '比例(%)': [80.0, nan]}, 'pct100', 2)
        """
        if self.sheet is not None:
            fm = {str(c): self.sheet_formats.get(c, _guess_kind(self.sheet[c])) for c in self.sheet.columns}
            return self.sheet.reset_index(drop=True), fm, int(self.sheet_suppressed)
        out: dict[str, Any] = {}
        fm: dict[str, str] = {}
        idx = self.data.index
        default_index = (idx.nlevels == 1 and idx.name is None and isinstance(idx, pd.RangeIndex))
        if self.index and not default_index:
            for k in range(idx.nlevels):
                n = idx.names[k]
                name = str(n) if n not in (None, "") else ("类别" if idx.nlevels == 1 else f"类别{k + 1}")
                while name in self.data.columns or name in out:
                    name += " "
                lv = idx.get_level_values(k)
                if pd.api.types.is_numeric_dtype(lv.dtype) and not pd.api.types.is_bool_dtype(lv.dtype):
                    out[name] = lv.to_numpy(dtype="float64", na_value=float("nan"))  # e.g. 位次: a number
                    fm[name] = "int" if pd.api.types.is_integer_dtype(lv.dtype) else "mean"
                else:
                    out[name] = [None if _isna(v) else str(v) for v in lv]
                    fm[name] = "text"
        for c in self.data.columns:
            kind = self.formats.get(c, "text")
            col = self.data[c].reset_index(drop=True)
            if kind in ("pct", "pct100", "mean", "count", "int", "float2"):
                vals = pd.to_numeric(col, errors="coerce").astype("float64")
                if kind == "pct":
                    vals, kind = vals * 100.0, "pct100"
            else:
                vals = col.astype(object)
            out[str(c)] = vals.where(~self.suppressed[c].reset_index(drop=True).to_numpy(bool))
            fm[str(c)] = kind
        return pd.DataFrame(out), fm, int(self.suppressed.to_numpy().sum())

    def to_record(self) -> dict[str, Any]:
        """A JSON-able record (what the workbook builder reads).

        Besides the published values (``data``, ``—`` where suppressed) the record carries
        ``sheet``: the numbers for Excel — :attr:`sheet` when given, else the table's own numbers
        at full precision (percentages ×100), label columns first, suppressed cells ``None`` —
        and the notes-row facts ``weighting``, ``multiplicity``, ``min_cell`` and ``n_suppressed``.
        """
        ex = self.excel_frame()
        def plain(v: Any) -> Any:
            if _isna(v):
                return None
            if hasattr(v, "item"):
                return v.item()
            return v
        sh, sfm, nsupp = self.sheet_frame()
        return {
            "sheet": {"columns": [str(c) for c in sh.columns],
                      "formats": {str(k): v for k, v in sfm.items()},
                      "data": [[plain(v) for v in row] for row in sh.itertuples(index=False)]},
            "weighting": self.weighting,
            "multiplicity": self.multiplicity,
            "min_cell": self.min_cell,
            "n_suppressed": nsupp,
            "id": self.table_id,
            "title": self.title,
            "index_name": [str(n) if n is not None else "" for n in ex.index.names],
            "index": [[plain(x) for x in (i if isinstance(i, tuple) else (i,))] for i in ex.index],
            "columns": [str(c) for c in ex.columns],
            "formats": {str(k): v for k, v in self.formats.items()},
            "data": [[plain(v) for v in row] for row in ex.itertuples(index=False)],
            "unreliable": self.unreliable.to_numpy().tolist(),
            "notes": list(self.notes),
            "show_index": self.index,
            **({"sheet_title": self.sheet_title} if self.sheet_title else {}),
        }


def style_table(data: pd.DataFrame, table_id: str, *, title: str = "",
                formats: Mapping[str, str] | None = None,
                suppressed: pd.DataFrame | None = None,
                unreliable: pd.DataFrame | None = None,
                notes: Sequence[str] = (), min_cell: int | None = None,
                index: bool = True, sheet: pd.DataFrame | None = None,
                sheet_suppressed: pd.DataFrame | pd.Series | None = None,
                sheet_formats: Mapping[str, str] | None = None,
                weighting: str = "", multiplicity: str = "") -> PublishedTable:
    """Build a :class:`PublishedTable` from numbers and disclosure masks.

    Parameters
    ----------
    data : DataFrame
        The numbers, with Chinese row/column labels as they should be published.
    table_id : str
        Fixed, unique id (``[A-Za-z][A-Za-z0-9_.-]*``, e.g. ``"T2.1"``): the HTML id and the sheet.
    title : str
        Caption (Chinese).
    formats : mapping column -> kind
        See the module docstring; columns not given are guessed from the dtype.
    suppressed, unreliable : DataFrame of bool, optional
        Masks shaped like ``data`` (from :mod:`survey.report.disclosure`).
    notes : sequence of str
        Extra footnotes (source, question wording ...).
    min_cell : int, optional
        Quoted in the suppression footnote.
    index : bool
        Show the row labels.
    sheet : DataFrame, optional
        The numbers behind a table whose page shows formatted text (``45.2 (43.1–47.3)``,
        ``F=3.1, p=0.02``): a flat frame (labels as ordinary columns; Chinese headers such as
        ``估计值``, ``标准误``, ``置信区间下限``, ``置信区间上限``, ``样本量``) written to the Excel
        sheet instead of the page values.
    sheet_suppressed : DataFrame or Series of bool, optional
        Disclosure decisions for *sheet* (cells, or whole rows): those numbers are blanked —
        the sheet never holds a number the page suppressed.
    sheet_formats : mapping column -> kind, optional
        Number formats of *sheet* (guessed from the dtype otherwise).
    weighting : str
        How the numbers are weighted (the Excel notes row).
    multiplicity : str
        The multiplicity rule when the table marks significance (the Excel notes row).

    Examples
    --------
    >>> t = style_table(pd.DataFrame({"人数": [12345]}), "T0", formats={"人数": "count"})
    >>> t.display.iloc[0, 0]
    '12,345'
    >>> n = pd.DataFrame({"估计值": [45.2, 3.0], "样本量": [300, 4]})
    >>> t = style_table(pd.DataFrame({"比例": ["45.2 (43.1–47.3)", "—"]}), "T0", sheet=n,
    ...                 sheet_suppressed=pd.Series([False, True]))
    >>> t.sheet_frame()[0]["估计值"].tolist(), t.sheet_frame()[2]
    ([45.2, nan], 2)
    """
    if not isinstance(data, pd.DataFrame):
        raise ReportError(f"table {table_id!r}: expected a DataFrame, got {type(data).__name__}")
    if not isinstance(table_id, str) or not _ID_RE.match(table_id):
        raise ReportError(f"table id {table_id!r} must match [A-Za-z][A-Za-z0-9_.-]* (e.g. 'T2.1')")
    if data.columns.duplicated().any():
        raise ReportError(f"table {table_id!r}: duplicated column labels {list(data.columns[data.columns.duplicated()])}")
    fmts = {c: _guess_kind(data[c]) for c in data.columns}
    for c, k in (formats or {}).items():
        if c not in data.columns:
            raise ReportError(f"table {table_id!r}: format given for unknown column {c!r}; "
                              f"columns are {list(data.columns)}")
        if k not in _KINDS:
            raise ReportError(f"table {table_id!r}: unknown format {k!r} for column {c!r}; "
                              f"use one of {', '.join(_KINDS)}")
        fmts[c] = k
    supp = _mask_like(suppressed, data, "suppressed")
    unrel = _mask_like(unreliable, data, "unreliable") & ~supp
    # the cells as text, then the marks, in one object array (not a frame operation per mark)
    cells = np.empty(data.shape, dtype=object)
    for j, c in enumerate(data.columns):
        cells[:, j] = [format_value(v, fmts[c]) for v in data[c].tolist()]
    cells[supp.to_numpy(bool)] = SUPPRESSED
    u_ = unrel.to_numpy(bool)
    cells[u_] = [f"{x}{UNRELIABLE}" for x in cells[u_]]
    disp = pd.DataFrame(cells, index=data.index, columns=data.columns, dtype=object)
    all_notes: list[str] = []
    if supp.to_numpy().any():
        k = f"{min_cell} " if min_cell else ""
        all_notes.append(f"“{SUPPRESSED}”：样本量不足 {k}人，或为防止由合计推算而隐去（数据披露控制）。")
    if unrel.to_numpy().any():
        all_notes.append(f"“{UNRELIABLE}”：{SYMBOL_LEGEND[UNRELIABLE]}。")
    all_notes.extend(notes)
    for sym in (SIGNIFICANT, NOTE_MARK):  # a symbol in a cell gets its legend line, once
        used = (any(sym in str(x) for x in cells.ravel().tolist())
                or any(sym in str(v) for lvl in range(data.index.nlevels)
                       for v in data.index.get_level_values(lvl)))
        if used and not any(n.startswith((sym, f"“{sym}”")) for n in all_notes):  # unless a note explains it
            all_notes.append(f"“{sym}”：{SYMBOL_LEGEND[sym]}。")
    sh, sh_fm, sh_n = None, {}, 0
    if sheet is not None:
        sh, sh_fm, sh_n = _sheet(sheet, sheet_suppressed, sheet_formats, table_id)
    return PublishedTable(table_id=table_id, title=title, data=data, display=disp,
                          suppressed=supp, unreliable=unrel, formats=fmts, notes=all_notes,
                          index=index, sheet=sh, sheet_formats=sh_fm, sheet_suppressed=sh_n,
                          weighting=weighting, multiplicity=multiplicity, min_cell=min_cell)


def _sheet(sheet: pd.DataFrame, suppressed: pd.DataFrame | pd.Series | None,
           formats: Mapping[str, str] | None, table_id: str) -> tuple[pd.DataFrame, dict[str, str], int]:
    """The Excel numbers of a table: numeric columns blanked where disclosure control says so."""
    if not isinstance(sheet, pd.DataFrame) or sheet.columns.duplicated().any():
        raise ReportError(f"table {table_id!r}: the sheet must be a DataFrame with unique column labels")
    sh = sheet.reset_index(drop=True).copy()
    fm = {str(c): _guess_kind(sh[c]) for c in sh.columns}
    for c, k in (formats or {}).items():
        if c not in sh.columns or k not in _KINDS:
            raise ReportError(f"table {table_id!r}: sheet format {k!r} for column {c!r} "
                              f"(columns {list(sh.columns)}, kinds {', '.join(_KINDS)})")
        fm[str(c)] = k
    num = [c for c in sh.columns if fm[str(c)] != "text"]
    if suppressed is None:
        return sh, fm, 0
    if isinstance(suppressed, pd.Series):
        if len(suppressed) != len(sh):
            raise ReportError(f"table {table_id!r}: sheet_suppressed has {len(suppressed)} rows, the sheet {len(sh)}")
        m = pd.DataFrame({c: suppressed.to_numpy(bool) for c in num}, index=sh.index)
    else:
        if suppressed.shape[0] != len(sh):
            raise ReportError(f"table {table_id!r}: sheet_suppressed has {suppressed.shape[0]} rows, the sheet {len(sh)}")
        m = suppressed.reset_index(drop=True).reindex(columns=num, fill_value=False).astype(bool)
    for c in num:
        sh[c] = pd.to_numeric(sh[c], errors="coerce").astype("float64").mask(m[c].to_numpy(bool))
    return sh, fm, int(m.to_numpy().sum())
