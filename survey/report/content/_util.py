"""Small helpers shared by the content modules (HTML bundles, table ids, estimate tables)."""
from __future__ import annotations

import html
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..format import PublishedTable, fmt_ci, style_table
from ..display import HTML as H

__all__ = ["Bundle", "H", "esc", "prefix", "est_cells", "publish_estimates", "holm", "no_design", "est_sheet",
           "est_mask", "EST_FORMATS", "WEIGHTED", "memoized", "levels_present", "one_level_note"]


class Bundle:
    """Several displayable parts (headings, tables, charts) shown in order by one cell."""

    def __init__(self, parts: Iterable[Any] = ()) -> None:
        self.parts = [p for p in parts if p is not None]

    def add(self, part: Any) -> Any:
        if part is not None:
            self.parts.append(part)
        return part

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for p in self.parts:
            display(p)

    def _repr_html_(self) -> str:  # outside IPython (doctests, tests): the HTML parts only
        return "".join(p._repr_html_() for p in self.parts if hasattr(p, "_repr_html_"))

    def __repr__(self) -> str:  # one short line per part (never a whole DataFrame)
        from ..display import part_repr

        return "\n".join(part_repr(p) for p in self.parts)


def memoized(ctx: Any, key: tuple, compute: Any) -> Any:
    """``ctx.memo(key, compute)`` (computed once per notebook:
    :meth:`survey.report.context.ReportContext.memo`); a context without a memo (a stand-in
    in a test) computes every time.

    Examples
    --------
    >>> import types
    >>> memoized(types.SimpleNamespace(), ("k",), lambda: 3)
    3
    """
    memo = getattr(ctx, "memo", None)
    return compute() if memo is None else memo(key, compute)


def esc(x: Any) -> str:
    return html.escape(str(x))


def prefix(ctx: Any) -> str:
    """Table-id prefix of a notebook: Q (quality), T (survey_report), S otherwise."""
    return {"quality": "Q", "survey_report": "T"}.get(ctx.notebook, "S")


def no_design(ctx: Any) -> H | None:
    """A visible box when the wave could not be prepared (no design), else None."""
    if ctx.prepared is not None:
        return None
    msg = ctx.prepare_error or ctx.load_error or "未提供问卷或数据（参数 questionnaire / data）"
    return H(f'<div class="no-data">无法完成清理与加权：{esc(msg)}</div>')


def est_cells(frame: pd.DataFrame, *, proportion: bool, min_cell: int,
              scale: float = 1.0) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Formatted ``estimate (ci)`` strings and the suppressed / unreliable masks of a tidy
    estimate frame (flag columns of :func:`survey.tables.add_flags` are added when absent)."""
    from ...tables import add_flags

    f = frame
    if "flag" not in f.columns or "suppress" not in f.columns:
        if "n_cell" not in f.columns:
            f = f.assign(n_cell=f["n"])
        f = add_flags(f, min_cell=min_cell)
    supp = (f["n_cell"].to_numpy() < min_cell) & (f["n_cell"].to_numpy() > 0) | f["suppress"].to_numpy(bool)
    txt = [fmt_ci(e * scale, lo * scale, hi * scale, proportion=proportion)
           for e, lo, hi in zip(f["estimate"], f["ci_low"], f["ci_high"])]
    return (pd.Series(txt, index=f.index), pd.Series(supp, index=f.index),
            pd.Series(f["flag"].to_numpy(bool) & ~supp, index=f.index))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (family-wise error rate): the report's one rule,
    :func:`survey.multiplicity.adjust_pvalues`.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    from ...multiplicity import adjust_pvalues

    return adjust_pvalues(p, "holm")


def publish_estimates(ctx: Any, table: pd.DataFrame, table_id: str, title: str, *,
                      supp: pd.DataFrame | None = None, unrel: pd.DataFrame | None = None,
                      notes: list[str] | None = None, formats: dict[str, str] | None = None,
                      index: bool = True, **sheet: Any) -> PublishedTable:
    """style_table + publish with the notebook's min_cell in the footnote (*sheet*: the Excel
    keywords of :func:`~survey.report.format.style_table` — ``sheet``, ``sheet_suppressed``,
    ``sheet_formats``, ``weighting``, ``multiplicity``)."""
    from ..context import publish

    mc = int(ctx.params.get("min_cell", 10))
    fm = {c: "text" for c in table.columns if table[c].dtype == object or pd.api.types.is_string_dtype(table[c])}
    fm.update(formats or {})
    t = style_table(table, table_id, title=title, formats=fm, suppressed=supp, unreliable=unrel,
                    notes=list(notes or []), min_cell=mc, index=index, **sheet)
    return publish(t, ctx)


#: the notes-row wording of design-weighted estimates
WEIGHTED = "加权估计（基础权重按分层与站点抽样概率，并按总体边际校准）；标准误与置信区间按分层整群设计计算"


def est_sheet(labels: dict[str, Any], est: pd.DataFrame, scale: Any = 1.0, *,
              level: float = 0.95) -> pd.DataFrame:
    """The Excel numbers of a tidy estimate frame: label columns, then 估计值, 标准误,
    置信区间下限, 置信区间上限, 样本量 (values × *scale*; a percentage is on the 0–100 scale).

    Examples
    --------
    >>> e = pd.DataFrame({"estimate": [0.5], "se": [0.01], "ci_low": [0.48], "ci_high": [0.52], "n": [300]})
    >>> est_sheet({"指标": ["是"]}, e, 100.0).to_dict("records")
    [{'指标': '是', '估计值': 50.0, '标准误': 1.0, '置信区间下限': 48.0, '置信区间上限': 52.0, '样本量': 300.0}]
    """
    sc = np.asarray(scale, dtype=float)
    out = pd.DataFrame({k: list(v) for k, v in labels.items()})
    out["估计值"] = est["estimate"].to_numpy(float) * sc
    out["标准误"] = (est["se"].to_numpy(float) * sc) if "se" in est.columns else np.nan
    out["置信区间下限"] = est["ci_low"].to_numpy(float) * sc
    out["置信区间上限"] = est["ci_high"].to_numpy(float) * sc
    out["样本量"] = est["n"].to_numpy(float)
    return out


def est_mask(sheet: pd.DataFrame, supp: Any) -> pd.DataFrame:
    """Suppression of an :func:`est_sheet`: the estimate, its standard error and limits of each
    suppressed row (the sample size stays, as on the page)."""
    m = np.asarray(supp, dtype=bool)
    return pd.DataFrame({c: m for c in ("估计值", "标准误", "置信区间下限", "置信区间上限")}, index=sheet.index)


#: number formats of :func:`est_sheet` columns
EST_FORMATS = {"估计值": "est", "标准误": "est", "置信区间下限": "est", "置信区间上限": "est", "样本量": "count"}


def levels_present(ctx: Any, group: str) -> list[str]:
    """The levels of *group* held by at least one of the report's respondents (weight > 0; a
    regional report: of the region), in the data's order.  A group with fewer than two has
    nothing to compare: its subgroup table and tests are left out with a sentence saying why
    (:func:`one_level_note`).

    Examples
    --------
    >>> import types
    >>> ctx = types.SimpleNamespace(sample_frame=lambda: pd.DataFrame({"g": ["a", "a", None]}))
    >>> levels_present(ctx, "g")
    ['a']
    """
    f = ctx.sample_frame()
    if f is None or group not in f.columns:
        return []
    return [str(v) for v in pd.unique(f[group].dropna())]


def one_level_note(ctx: Any, group: str, what: str) -> str:
    """The sentence shown instead of a table or test by a group with one level (HTML).

    Examples
    --------
    >>> import types
    >>> ctx = types.SimpleNamespace(questionnaire=None, sample_frame=lambda: pd.DataFrame({"g": ["甲"]}))
    >>> one_level_note(ctx, "g", "表 T4.5")
    '<p class="no-data">按g：本报告的受访者都属于同一类别（甲），没有可比较的组别，表 T4.5 未列出。</p>'
    """
    return f'<p class="no-data">{esc(one_level_text(ctx, group, what))}</p>'


def one_level_table(ctx: Any, group: str, table_id: str) -> str:
    """:func:`one_level_note` in place of table *table_id*, which is recorded as not published
    (:func:`~survey.report.publish_absent`), so the workbook's contents list it with the reason."""
    from ..context import publish_absent

    publish_absent(table_id, one_level_text(ctx, group, "本表"), ctx)
    return one_level_note(ctx, group, f"表 {table_id}")


def one_level_text(ctx: Any, group: str, what: str) -> str:
    """:func:`one_level_note`'s sentence as plain text (the workbook's contents sheet)."""
    from ...labels import short_label

    q = ctx.questionnaire
    lab = short_label(q, group) if q is not None and group in q else str(group)
    lv = levels_present(ctx, group)
    which = f"（{'、'.join(lv)}）" if lv else ""
    return (f"按{lab}：本报告的受访者都属于同一类别{which}，没有可比较的组别，"
            f"{what}{' ' if what[-1:].isascii() else ''}未列出。")
