"""Building blocks the report notebooks call (one or two per code cell).

Notebooks call :func:`survey.report.validate` first, then ``ctx = report.setup(P)``
(:mod:`survey.report.context`); every ``section_*`` function takes that context and returns
something that displays (HTML, a figure, a :class:`~survey.report.format.PublishedTable`).  The
statistics of the longer sections live in :mod:`survey.report.content`.

Examples
--------
>>> from survey.report import setup, validate
>>> ctx = setup(validate(notebook="quality"), notebook="quality")
>>> "无法完成清理与加权" in section_weighting(ctx)._repr_html_()
True
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from .context import FigureOutput, ReportContext, publish, report_title, sample_sizes
from .disclosure import check_no_station, suppress_table
from .display import HTML as _HTML
from .format import style_table

__all__ = [
    "indicator_estimates", "publish_indicators", "section_indicators_note", "title_block",
    "section_intake", "section_quality", "section_cleaning", "section_sample",
    "section_weighting", "section_key_indicators", "section_subgroups", "section_methods",
    "read_summary", "subgroup_estimates", "publish_subgroups", "subgroup_tests",
    "publish_subgroup_tests", "notable_differences", "section_checklist", "Folded", "METHODS_HOME",
]


def title_block(ctx: ReportContext) -> _HTML:
    """The report's title line (wave title, region, sample sizes: 读取 and 有效样本).

    Examples
    --------
    >>> from survey.report import setup, validate
    >>> "demo" in repr(title_block(setup(validate(notebook="quality"), notebook="quality")))
    True
    """
    p = ctx.params
    title = report_title(p, ctx.questionnaire)
    bits = [f"调查轮次：{p.get('wave')}"]
    if p.get("region"):
        bits.append(f"地区：{p.get('region')}")
    n_read, n_kept = sample_sizes(ctx)
    mc = int(p.get("min_cell", 10))
    if p.get("region") and n_kept is not None and n_kept < mc:  # the region's own count is a small cell
        bits.append(f"有效样本：少于 {mc} 人（数据披露控制：各表数值隐去）")
    elif n_kept is not None:
        bits.append(f"有效样本：{n_kept:,} 人（读取 {n_read:,} 份问卷，清理后保留）"
                    if n_read is not None else f"有效样本：{n_kept:,} 人")
    elif n_read is not None:
        bits.append(f"读取：{n_read:,} 份问卷（未完成清理）")
    return _HTML(f'<p class="report-subtitle">{html.escape(str(title))} · '
                 + " · ".join(html.escape(b) for b in bits) + "</p>")


def _no_data(ctx: ReportContext) -> _HTML | None:
    if ctx.data is not None:
        return None
    msg = ctx.load_error or "未提供数据（参数 data）"
    return _HTML(f'<div class="no-data">无数据：{html.escape(msg)}</div>')


def _part_html(p: Any) -> str:
    """HTML of one displayable part: a bundle's parts in order, a table or HTML block, a chart
    as an embedded PNG (as nbconvert embeds it)."""
    import base64

    if hasattr(p, "parts") and not hasattr(p, "table_id"):
        return "".join(_part_html(x) for x in p.parts)
    if hasattr(p, "_repr_html_"):
        return p._repr_html_()
    if hasattr(p, "_repr_png_"):
        return (f'<img alt="图表" src="data:image/png;base64,'
                f'{base64.b64encode(p._repr_png_()).decode("ascii")}">')
    return f"<p>{html.escape(repr(p))}</p>"


class Folded:
    """Parts of a cell's output with the long ones folded into a ``<details>`` block (closed:
    one line on the page, opened by a click; a link to a table inside opens it; printed open).

    ``parts`` stay the published objects (tables, charts), so code reading a cell's result is
    unaffected; ``fold(part)`` says which parts go into the block, ``drop(part)`` which are
    not shown at all (a heading the summary line replaces).

    Examples
    --------
    >>> f = Folded([_HTML("<p>表</p>"), _HTML("<p>图</p>")], "图：展开",
    ...            fold=lambda p: "图" in p.s)
    >>> f._repr_html_()
    '<p>表</p><details class="fold"><summary>图：展开</summary><p>图</p></details>'
    """

    def __init__(self, parts: Any, summary: str, *, fold: Any, drop: Any = None) -> None:
        self.parts = list(parts)
        self.summary = summary
        self._fold, self._drop = fold, drop or (lambda p: False)

    def _repr_html_(self) -> str:
        shown = [_part_html(p) for p in self.parts if not self._drop(p) and not self._fold(p)]
        hidden = [_part_html(p) for p in self.parts if not self._drop(p) and self._fold(p)]
        box = (f'<details class="fold"><summary>{self.summary}</summary>{"".join(hidden)}</details>'
               if hidden else "")
        return "".join(shown) + box

    def __repr__(self) -> str:  # one short line per part (never a whole DataFrame)
        from .display import part_repr

        return "\n".join(part_repr(p) for p in self.parts)


def _is_heading(p: Any) -> bool:
    return isinstance(p, _HTML) and p.s.lstrip().startswith("<h")


def _is_chart(p: Any) -> bool:
    return hasattr(p, "_repr_png_") and not hasattr(p, "_repr_html_")


def _tables(out: Any) -> list:
    return [p for p in getattr(out, "parts", []) if hasattr(p, "table_id")]


def _hint(*bits: str) -> str:
    return f'<span class="fold-hint">（{html.escape("；".join(b for b in bits if b))}）</span>'


# --------------------------------------------------------------------------- real sections
_LAYOUTS = {"code": "选项编码（按序号）", "text": "选项文字（按文本）"}
_FORMATS = {".sav": "SPSS 数据文件", ".zsav": "SPSS 数据文件", ".dta": "Stata 数据文件",
            ".xlsx": "Excel 工作簿（问卷星导出）", ".xls": "Excel 工作簿（问卷星导出）",
            ".csv": "CSV 文本文件", ".parquet": "Parquet 数据文件", ".feather": "Feather 数据文件"}


def _names(ids: Any, q: Any, limit: int = 8) -> str:
    """Question ids as their short Chinese labels, at most *limit* (then “等 N 项”)."""
    from .content.quality import short_label

    ids = list(ids)
    other = {"ip": "IP 地址", "rid": "记录编号"}
    labs = [short_label(q, i) if q is not None and i in q else other.get(str(i), str(i)) for i in ids[:limit]]
    more = f" 等 {len(ids)} 项" if len(ids) > limit else ""
    return "、".join(labs) + more


def read_summary(report: Any, q: Any = None) -> list[tuple[str, str]]:
    """A reader's report (:class:`survey.io.ReadReport`) as (label, plain Chinese) rows: file
    name (never its folder), layout, respondents, columns mapped/unmapped, questions absent.

    Examples
    --------
    >>> from survey.io._core import ReadReport
    >>> r = ReadReport(file="/tmp/x/调查.sav", layout="code", n_rows=3, mapped={"a": "sex"},
    ...                questions_matched=1, questions_total=2, absent=["age"])
    >>> dict(read_summary(r))["数据文件"]
    '调查.sav（SPSS 数据文件，选项编码（按序号））'
    """
    f = Path(str(getattr(report, "file", "") or ""))
    kind = _FORMATS.get(f.suffix.lower(), f.suffix.lstrip(".").upper() or "数据文件")
    lay = _LAYOUTS.get(str(getattr(report, "layout", "")), str(getattr(report, "layout", "") or ""))
    enc = getattr(report, "encoding", None)
    desc = "，".join(x for x in (kind, lay, f"编码 {enc}" if enc else "") if x)
    rows = [("数据文件", f"{f.name}（{desc}）")]
    n = int(getattr(report, "n_rows", 0) or 0)
    rows.append(("读取问卷", f"{n:,} 份" + ("（导出文件无可用编号，已生成记录编号）"
                                           if getattr(report, "rid_created", False) else "")))
    mapped, unmapped = getattr(report, "mapped", {}) or {}, list(getattr(report, "unmapped", []) or [])
    qm, qt = int(getattr(report, "questions_matched", 0) or 0), int(getattr(report, "questions_total", 0) or 0)
    rows.append(("题目匹配", f"问卷 {qt} 题中匹配 {qm} 题，来自导出文件的 {len(mapped):,} 列"))
    rows.append(("未匹配的列", f"{len(unmapped)} 列" + (f"：{'、'.join(map(str, unmapped[:8]))}"
                                                     + (" 等" if len(unmapped) > 8 else "") if unmapped else "（无）")))
    absent = list(getattr(report, "absent", []) or [])
    partial = dict(getattr(report, "partial", {}) or {})
    txt = f"{len(absent)} 题" + (f"：{_names(absent, q)}" if absent else "（无）")
    if partial:
        txt += f"；{len(partial)} 题缺少部分列：{_names(partial, q)}"
    rows.append(("问卷有而数据中缺少的题目", txt))
    pii = list(getattr(report, "pii_columns", []) or [])
    if pii:
        rows.append(("个人信息", f"{len(pii)} 项（{_names(pii, q)}）已与分析数据分离，不进入报告"))
    inv = dict(getattr(report, "invalid", {}) or {})
    if inv:
        rows.append(("无法识别的取值", "；".join(f"{_names([k], q)} {int(v):,} 个" for k, v in list(inv.items())[:8])
                     + ("等" if len(inv) > 8 else "") + "（已置为缺失）"))
    return rows


def section_intake(ctx: ReportContext) -> _HTML:
    """数据接收: which file was read (name only), its layout, respondents read and kept,
    columns mapped/unmapped, questions absent, PII separated."""
    nd = _no_data(ctx)
    if nd is not None:
        return nd
    d = ctx.data
    q = ctx.questionnaire
    n_read, n_kept = sample_sizes(ctx)
    mc = int(ctx.params.get("min_cell", 10))
    region = ctx.params.get("region")
    if ctx.read_report is not None:
        rows = read_summary(ctx.read_report, q)
        if region is not None and n_read is not None:  # the file's count, then the region's
            whole = int(getattr(ctx.read_report, "n_rows", 0) or 0)
            mine = f"少于 {mc} 份" if n_read < mc else f"{n_read:,} 份"
            rows = [(k, f"{mine}（{region}；整份文件 {whole:,} 份）" if k == "读取问卷" else v)
                    for k, v in rows]
    else:
        name = Path(str(ctx.params.get("data") or "")).name
        small = ctx.params.get("region") and len(d) < int(ctx.params.get("min_cell", 10))
        rows = [("数据文件", name or "（未知）"),
                ("读取问卷", f"少于 {int(ctx.params.get('min_cell', 10))} 份" if small else f"{len(d):,} 份")]
    if ctx.params.get("region") and n_kept is not None and n_kept < mc:  # a small region's count
        rows.insert(2, ("有效样本", f"少于 {mc} 人（数据披露控制：各表数值隐去）"))
    elif n_kept is not None:
        rows.insert(2, ("有效样本", f"{n_kept:,} 人（清理后保留，见“数据清理”）"))
    rows.append(("分析变量", f"{d.shape[1]:,} 列" + (f"（问卷 {len(q):,} 题）" if q is not None else "")))
    body = "".join(f'<tr><th style="white-space:nowrap;text-align:left;vertical-align:top">{html.escape(k)}</th>'
                   f"<td>{html.escape(v)}</td></tr>" for k, v in rows)
    from .content.quality import regional_scope

    return _HTML(f'<table class="kv">{body}</table>' + regional_scope(ctx, "intake"))


def section_quality(ctx: ReportContext, top: int = 15):
    """数据质量: item nonresponse among the respondents asked (chart of the ``top`` worst items,
    :func:`~survey.report.content.quality.asked_nonresponse`), labelled with the questionnaire's
    wording.  Structural blanks (unchosen rank/multi options, unticked "其他（请注明）" text
    fields, skipped questions, voluntary free text) are not nonresponse and are left out."""
    nd = _no_data(ctx)
    if nd is not None:
        return nd
    from .content.quality import asked_nonresponse, column_label, question_label
    from .theme import new_figure

    if ctx.questionnaire is None:
        return _HTML('<p class="no-data">没有问卷定义，无法区分题目无应答与结构性空白，未作此图。</p>')
    inr = asked_nonresponse(ctx.data, ctx.questionnaire)
    inr = inr[inr["rate"] > 0].head(top)[::-1]
    if not len(inr):
        return _HTML("<p>读取的问卷中，各题在应回答者中均无无应答。</p>")
    miss = pd.Series(inr["rate"].to_numpy(float) * 100, index=inr["item"].to_numpy())
    labels = [question_label(ctx.questionnaire, str(i), 26) if i == qid
              else column_label(ctx.questionnaire, str(i), width=26)
              for i, qid in zip(inr["item"], inr["question"])]
    fig, ax = new_figure(7.0, max(2.5, 0.28 * len(miss) + 1))
    ax.barh(range(len(miss)), miss.to_numpy())
    ax.set_yticks(range(len(miss)), labels, fontsize=8)
    ax.set_xlim(0, max(10.0, min(100.0, float(miss.max()) * 1.2)))
    ax.set_xlabel("题目无应答比例（%，基数为应回答该题的问卷，读取的全部问卷）\n"
                  "不计结构性空白：排序/多选题未选的选项、“其他”说明栏、逻辑跳过；开放题自愿填写，不计入")
    ax.set_title("题目无应答比例最高的题目")
    fig.tight_layout()
    ctx.figures += 1
    return FigureOutput(fig)  # drawn once, cropped


def section_sample(ctx: ReportContext, groups: list[str] | None = None):
    """样本概况: unweighted respondents by each key group, with disclosure control.

    Publishes one table ``Q1.<k>`` (quality) / ``T1.<k>`` per group variable (counts and %; cells under ``min_cell``
    suppressed, with complementary suppression against the total).
    """
    nd = _no_data(ctx)
    if nd is not None:
        return nd
    frame = ctx.sample_frame()  # the cleaned respondents (of the region)
    if groups is None:
        groups = list(ctx.questionnaire.design.groups) if ctx.questionnaire is not None else []
        groups = [g for g in groups if g in frame.columns]
    check_no_station(groups, getattr(getattr(ctx.questionnaire, "design", None), "psu", None))
    mc = int(ctx.params.get("min_cell", 10))
    region, region_var = ctx.params.get("region"), ctx.params.get("region_var")
    out = []
    for k, g in enumerate(groups, start=1):
        vc = frame[g].value_counts(sort=False, dropna=False)
        only_region = region is not None and g == region_var
        if only_region:
            # a regional report's respondents are all of its region: the other regions' empty
            # rows would be suppressed zeros that hide the region's own count, a blank table
            vc = vc[vc > 0]
        vc.index = [("（缺失）" if pd.isna(i) else str(i)) for i in vc.index]
        s = suppress_table(vc.to_frame("人数"), mc, margins="cols")
        counts = s.counts
        tab = pd.DataFrame({"人数": counts["人数"],
                            "比例(%)": counts["人数"] / max(int(counts["人数"].iloc[-1]), 1)})
        hid = s.mask["人数"] | s.mask.index.isin(sorted(ctx.hidden_levels(g)))  # the same levels everywhere
        mask = pd.DataFrame({"人数": hid, "比例(%)": hid})
        label = ctx.questionnaire[g].text if ctx.questionnaire is not None and g in ctx.questionnaire else g
        prefix = {"quality": "Q", "survey_report": "T"}.get(ctx.notebook, "S")
        t = style_table(tab, f"{prefix}1.{k}", title=f"样本构成：{label}", formats={"人数": "count", "比例(%)": "pct"},
                        suppressed=mask, min_cell=mc, weighting="未加权（样本人数及其构成比例）",
                        notes=["未加权人数" + ("（清理后保留的受访者）。" if ctx.prepared is not None else "。")]
                        + ([f"本报告只含{region}的受访者，其他类别不列出。"] if only_region else []))
        out.append(publish(t, ctx))
    if not out:
        return _HTML('<div class="no-data">问卷未声明分组变量（design.groups）。</div>')
    if ctx.notebook == "survey_report":
        # shown once, on the quality page (Q1.k: the same counts); published here for the workbook
        ids = [t.table_id for t in out]
        qids = [f"Q{i[1:]}" for i in ids]
        rng = lambda x: x[0] if len(x) == 1 else f"{x[0]}–{x[-1]}"  # noqa: E731
        by = "、".join(html.escape(short) for short in _group_names(ctx, groups))
        return _HTML(f'<p class="see-also">样本构成（按{by}的未加权人数及比例）见'
                     f'<a href="quality.html#{qids[0]}">《数据接收与质量》表 {rng(qids)}</a>；'
                     f"同样的数字亦在 tables.xlsx 表 {rng(ids)}。</p>")
    # small tables side by side (a grid), not one narrow column down the page
    return _HTML('<div class="table-grid" style="display:flex;flex-wrap:wrap;gap:0 2em;'
                 'align-items:flex-start">'
                 + "".join(f'<div style="min-width:15em">{t.to_html()}</div>' for t in out) + "</div>")


def _group_names(ctx: ReportContext, groups: list[str]) -> list[str]:
    from .content.quality import short_label

    q = ctx.questionnaire
    return [short_label(q, g) if q is not None and g in q else str(g) for g in groups]


#: the page holding the full 方法说明 (every other page links to it: ``survey_report.html#methods``)
METHODS_HOME = "survey_report"


def section_methods(ctx: ReportContext):
    """方法说明: design, weighting, variance estimation, suppression rules, sources of margins.

    Written out in full once, on the survey report (:data:`METHODS_HOME`); the other pages
    show one line linking to it.

    Examples
    --------
    >>> from survey.report import setup, validate
    >>> "survey_report.html#methods" in section_methods(setup(validate(notebook="quality"),
    ...                                                       notebook="quality"))._repr_html_()
    True
    """
    from .content.indicators import methods

    if ctx.notebook != METHODS_HOME:
        return _HTML(f'<p class="see-also">抽样设计、加权、方差估计、数据披露控制、可靠性标记与多重比较规则见'
                     f'<a href="{METHODS_HOME}.html#methods">《调查报告》方法说明</a>。</p>')
    return _HTML(f'<div id="methods">{methods(ctx)._repr_html_()}</div>')


# --------------------------------------------------------------------------- statistics sections
def section_cleaning(ctx: ReportContext):
    """数据清理: rules with counts, n_raw = n_clean + dropped, log excerpt (rid and rule only),
    item nonresponse by question and reason (see :mod:`survey.report.content.quality`)."""
    from .content.quality import cleaning

    return cleaning(ctx)


def section_weighting(ctx: ReportContext):
    """加权: full diagnostics in the quality notebook, the methods paragraph elsewhere."""
    from .content.quality import weighting, weighting_short

    return weighting(ctx) if ctx.notebook == "quality" else weighting_short(ctx)


def section_key_indicators(ctx: ReportContext, questions: list[str] | None = None, *,
                           number: int | None = None):
    """主要指标: each questionnaire module's indicators, weighted, with CIs, a table and a chart
    per module (see :mod:`survey.report.content.indicators`); *questions* (ids) restricts it to
    those questions, *number* numbers its first table (``T3.<number>``)."""
    from .content.indicators import key_indicators

    return key_indicators(ctx, questions, number=number)


def section_indicators_note(ctx: ReportContext):
    """The paragraph opening 主要指标 (what the estimates are)."""
    from .content.indicators import indicators_note

    return indicators_note(ctx)


def indicator_estimates(ctx: ReportContext, questions: list[str]):
    """Weighted indicators of the questions *questions* (ids), one row per category/item, with
    CIs (see :func:`survey.report.content.indicators.indicator_estimates`)."""
    from .content import indicators

    return indicators.indicator_estimates(ctx, questions)


def publish_indicators(est: Any, table_id: str, module: str, ctx: ReportContext):
    """Publish :func:`indicator_estimates` as table *table_id* headed *module*, with its chart."""
    from .content import indicators

    out = indicators.publish_indicators(est, table_id, module, ctx)
    if not any(_is_chart(p) for p in getattr(out, "parts", [])):
        return out
    lvl = float(ctx.params.get("confidence", 0.95)) * 100
    return Folded(out.parts, f"图 {html.escape(table_id)}：{html.escape(module)}各指标的估计值及 {lvl:.0f}% 置信区间"
                  + _hint("与上表数字相同，点击展开"), fold=_is_chart)


def section_subgroups(ctx: ReportContext, groups: list[str] | None = None):
    """分组比较: indicators by the questionnaire's design.groups with CIs, Rao–Scott tests and
    the notable differences (multiple-comparison aware)."""
    from .content.indicators import subgroups

    return subgroups(ctx, groups)


def subgroup_estimates(ctx: ReportContext, group: str):
    """Every mean indicator by the levels of *group*, with CIs and the cells' suppression (see
    :func:`survey.report.content.indicators.subgroup_estimates`)."""
    from .content import indicators

    return indicators.subgroup_estimates(ctx, group)


def publish_subgroups(est: Any, table_id: str, ctx: ReportContext):
    """Publish :func:`subgroup_estimates` as table *table_id* (indicators × the group's levels)."""
    from .content import indicators

    out = indicators.publish_subgroups(est, table_id, ctx)
    tabs = _tables(out)
    if not tabs:
        return out
    t = tabs[0]
    size = f"{len(t.display) - 1} 项指标 × {t.display.shape[1]} 组"  # less the 样本量 row
    return Folded(out.parts, f"<b>{html.escape(t.table_id)}</b> {html.escape(t.title)}"
                  + _hint(size, "点击展开", f"完整表格亦见 tables.xlsx 表 {t.table_id}"),
                  fold=lambda p: hasattr(p, "table_id"), drop=_is_heading)


def subgroup_tests(ctx: ReportContext, groups: list[str] | None = None):
    """Rao–Scott tests of the single-choice indicators by each of *groups*, Holm-adjusted
    together (see :func:`survey.report.content.indicators.subgroup_tests`)."""
    from .content import indicators

    return indicators.subgroup_tests(ctx, groups)


def publish_subgroup_tests(tests: Any, table_id: str, ctx: ReportContext):
    """Publish :func:`subgroup_tests` as table *table_id* (questions × groups)."""
    from .content import indicators

    out = indicators.publish_subgroup_tests(tests, table_id, ctx)
    tabs = _tables(out)
    if not tabs:
        return out
    t = tabs[0]
    n = len(tests) if isinstance(tests, pd.DataFrame) else 0
    sig = int((pd.to_numeric(tests["p_holm"], errors="coerce") < 0.05).sum()) if n and "p_holm" in tests else None
    what = f"共 {n} 项检验" + (f"，Holm 校正后 {sig} 项 p < 0.05（见下文“值得关注的差异”）"
                              if sig is not None and not t.suppressed.to_numpy().any() else "")
    return Folded(out.parts, f"<b>{html.escape(t.table_id)}</b> {html.escape(t.title)}"
                  + _hint(what, "点击展开", f"完整表格亦见 tables.xlsx 表 {t.table_id}"),
                  fold=lambda p: hasattr(p, "table_id"), drop=_is_heading)


def notable_differences(ctx: ReportContext, estimates: list[Any], tests: Any = None):
    """值得关注的差异 among the :func:`subgroup_estimates` frames *estimates* and the
    :func:`subgroup_tests` *tests* (multiple-comparison aware)."""
    from .content import indicators

    return indicators.notable_differences(ctx, estimates, tests)


def section_checklist(brief: Any, ctx: Any = None, *, top: int = 5, title: str | None = None):
    """Publish the 清单 (``PP10``), write ``专报.docx`` into the report folder, show both.

    Returns the HTML of the section (the table, and a link to the Word file); a report without
    data shows why instead (and writes no Word file).
    """
    from ..io.safe import writing
    from ..painpoints.checklist import problem_list
    from .checklist import CHECKLIST_ID, DOCX_NAME, checklist_table
    from .context import current_context
    from .docx import write_docx

    if not hasattr(brief, "summary"):  # EmptyBrief: no data
        return brief.publish(CHECKLIST_ID, ctx)
    c = current_context(ctx)
    cl = problem_list(brief, top=top)
    t = publish(checklist_table(cl, level=brief.level, min_cell=brief.min_cell), c)
    out = Path(c.params.get("output_dir") or ".") / DOCX_NAME
    ttl = title or report_title(c.params, c.questionnaire)
    with writing(out):
        write_docx(brief, out, checklist=cl, title=ttl)
    link = (f'<p class="download">可报送领导的 Word 专报（含主要发现、清单、图表与方法说明）：'
            f'<a href="{html.escape(DOCX_NAME)}">{html.escape(DOCX_NAME)}</a></p>')
    return _HTML(t.to_html() + link)
