"""Building blocks the report notebooks call (one or two per code cell).

``setup`` validates nothing by itself: notebooks call :func:`survey.report.validate` first, then
``ctx = report.setup(P)``; every ``section_*`` function takes that context and returns something
that displays (HTML, a figure, a :class:`~survey.report.format.PublishedTable`).

Sections marked **待实现** are placeholders until the statistics modules land (estimation,
cleaning, weighting, tables, painpoints, trends); each says so visibly in the report.

Examples
--------
>>> from survey.report import sections, validate
>>> ctx = sections.setup(validate(notebook="quality"), notebook="quality")
>>> "无法完成清理与加权" in sections.section_weighting(ctx)._repr_html_()
True
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..errors import ReportError
from .disclosure import check_no_station, hidden_levels, suppress_table
from .display import HTML as _HTML
from .format import PublishedTable, style_table

__all__ = [
    "ReportContext", "Placeholder", "setup", "require_inputs", "publish", "indicator_estimates",
    "publish_indicators", "section_indicators_note", "title_block", "placeholder",
    "section_intake", "section_quality", "section_cleaning", "section_sample",
    "section_weighting", "section_key_indicators", "section_subgroups", "section_methods",
    "section_painpoints", "section_policy", "section_trends", "PLACEHOLDER_SECTIONS",
    "TABLES_DIRNAME", "FigureOutput", "report_title", "sample_sizes", "read_summary",
    "subgroup_estimates", "publish_subgroups", "subgroup_tests", "publish_subgroup_tests",
    "notable_differences",
]

TABLES_DIRNAME = ".tables"
#: Sections that are still placeholders (to be replaced as the statistics modules land).
PLACEHOLDER_SECTIONS = ("section_painpoints", "section_policy", "section_trends")


class Placeholder:
    """Visible "待实现" box for a section whose statistics are not implemented yet."""

    def __init__(self, what: str, detail: str = "") -> None:
        self.what, self.detail = what, detail

    def _repr_html_(self) -> str:
        d = f"<br><small>{html.escape(self.detail)}</small>" if self.detail else ""
        return f'<div class="placeholder">待实现：{html.escape(self.what)}{d}</div>'

    def __repr__(self) -> str:
        return f"待实现：{self.what}"


def placeholder(what: str, detail: str = "") -> Placeholder:
    """A "待实现" box (see :class:`Placeholder`).

    Examples
    --------
    >>> placeholder("加权").__repr__()
    '待实现：加权'
    """
    return Placeholder(what, detail)


class FigureOutput:
    """A finished chart: rendered once to PNG (deterministic, no metadata) and closed.

    Returning this instead of the matplotlib figure avoids the inline backend showing the chart
    twice and keeps open figures from piling up.
    """

    def __init__(self, fig: Any, *, dpi: int | None = None) -> None:
        import io

        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
        plt.close(fig)
        self.png = buf.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"<图表 PNG {len(self.png):,} 字节>"


@dataclass
class ReportContext:
    """What the sections of one notebook share: parameters, inputs, the table registry."""

    params: Mapping[str, Any]
    notebook: str
    questionnaire: Any = None
    data: pd.DataFrame | None = None
    read_report: Any = None
    load_error: str | None = None
    tables: list[PublishedTable] = field(default_factory=list)
    figures: int = 0
    prepared: Any = None
    prepare_error: str | None = None
    _previous: Any = field(default=None, repr=False)
    _hidden: dict = field(default_factory=dict, repr=False)

    def sample_frame(self) -> pd.DataFrame | None:
        """The respondents the report describes: the cleaned ones of the region (weight > 0),
        else the data as read."""
        if self.prepared is not None:
            dsg = self.design
            return dsg.data.loc[dsg.weights > 0]
        return self.data

    def hidden_levels(self, var: str) -> set[str]:
        """Levels of group *var* hidden in every table of this report (fewer than ``min_cell``
        respondents, or hidden to protect such a level against subtraction from the total; see
        :func:`survey.report.disclosure.hidden_levels`)."""
        if var not in self._hidden:
            f = self.sample_frame()
            mc = int(self.params.get("min_cell", 10))
            self._hidden[var] = (hidden_levels(f[var], mc) if f is not None and var in f.columns
                                 else set())
        return self._hidden[var]

    @property
    def previous(self) -> dict[str, Any]:
        """The earlier waves (``previous_waves``) prepared like this one: wave id ->
        :class:`~survey.pipeline.PreparedWave`, oldest first (``{}`` when none are named).

        Raises
        ------
        ReportError
            An earlier wave's inputs cannot be found (names where it looked).
        """
        if self._previous is None:
            from .content.data import prepare_previous

            self._previous = prepare_previous(self.params)
        return self._previous

    @property
    def design(self) -> Any:
        """The weighted design (restricted to ``region`` as a domain), or None."""
        if self.prepared is None:
            return None
        d = self.prepared.design
        region = self.params.get("region")
        if region is not None:
            var = _region_var(self.params)
            d = d.subset((d.data[var].astype(str) == region).to_numpy())
        return d

    @property
    def tables_dir(self) -> Path:
        return Path(self.params.get("output_dir", "reports")) / TABLES_DIRNAME / self.notebook


_CURRENT: list[ReportContext] = []


def _region_var(params: Mapping[str, Any]) -> str:
    """The question holding the regions of a regional report (``region_var``; ``--by`` sets it)."""
    var = params.get("region_var")
    if not var:
        raise ReportError(f"region {params.get('region')!r}: name the question that holds the regions "
                          "with the region_var parameter (e.g. -p region_var=<question id>)")
    return str(var)


def _read_data(path: Path, stage: str, q: Any) -> tuple[pd.DataFrame, Any]:
    suf = path.suffix.lower()
    if stage == "clean" or suf in (".parquet", ".csv", ".feather"):
        if suf == ".parquet":
            return pd.read_parquet(path), None
        if suf == ".feather":
            return pd.read_feather(path), None
        if suf == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig"), None
    try:
        from ..io import read_export  # type: ignore[attr-defined]
    except ImportError:
        raise ReportError(f"cannot read {path}: the raw-export readers (survey.io.read_export) "
                          "are not available yet; pass a cleaned .parquet/.csv with data_stage='clean'") from None
    res = read_export(path, q)
    return res.data, getattr(res, "report", None)


def require_inputs(params: Mapping[str, Any]) -> None:
    """Stop a notebook run with its default parameters at once, saying what to set, instead of
    rendering every section as "无数据".

    Raises
    ------
    ParameterError
        ``questionnaire`` or ``data`` is not set (names both and how to set them).

    Examples
    --------
    >>> require_inputs({"wave": "2025", "questionnaire": "q.yml", "data": "x.xlsx"})
    >>> require_inputs({"wave": "2025", "questionnaire": None, "data": None})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    survey.errors.ParameterError: 未设置参数 questionnaire、data...
    """
    from ..errors import ParameterError

    missing = [k for k in ("questionnaire", "data") if not params.get(k)]
    if missing:
        w = params.get("wave") or "<轮次>"
        raise ParameterError(
            f"未设置参数 {'、'.join(missing)}：本笔记本需要一轮调查的问卷（questionnaire.yml）与原始导出文件。"
            f"在命令行运行 `survey report --wave {w}`（自动设置全部参数），或在第一个代码单元（参数）中设置，例如 "
            f"questionnaire = 'questionnaires/{w}/questionnaire.yml'，data = 'data/{w}/<导出文件>.xlsx'。"
            f" (parameters {', '.join(missing)} are not set; run `survey report --wave {w}` or set them "
            "in the parameters cell)")


def setup(params: Mapping[str, Any], *, notebook: str | None = None) -> ReportContext:
    """Apply the plot theme, load the questionnaire and the data, start the table registry.

    Input problems do not stop the notebook here: they are shown by :func:`section_intake`
    (a run with missing data still renders every section as "无数据").

    Examples
    --------
    >>> from survey.report import validate
    >>> ctx = setup(validate(notebook="quality"), notebook="quality")
    >>> ctx.data is None
    True
    """
    from .theme import use_theme

    use_theme()
    nb = notebook or getattr(params, "notebook", None) or "report"
    ctx = ReportContext(params=params, notebook=nb)
    qpath = params.get("questionnaire")
    try:
        if qpath:
            from ..questionnaire import Questionnaire

            ctx.questionnaire = Questionnaire.load(qpath)
        dpath = params.get("data")
        if dpath:
            p = Path(dpath)
            if not p.is_file():
                raise ReportError(f"data file {p} does not exist; check the 'data' parameter")
            if ctx.questionnaire is not None:
                _prepare_ctx(ctx)
            if ctx.prepared is not None and ctx.prepared.read is not None:
                ctx.data, ctx.read_report = ctx.prepared.read.data, ctx.prepared.read.report
            else:
                ctx.data, ctx.read_report = _read_data(p, params.get("data_stage", "raw"), ctx.questionnaire)
            region = params.get("region")
            if region is not None and ctx.data is not None:
                var = _region_var(params)
                if var not in ctx.data.columns:
                    raise ReportError(f"region filter: column {var!r} not in the data; set region_var")
                ctx.data = ctx.data.loc[ctx.data[var].astype(str) == region].reset_index(drop=True)
    except Exception as e:  # shown in the report, see section_intake
        from ..errors import SurveyError

        if not isinstance(e, (SurveyError, OSError, ValueError)):
            raise
        ctx.load_error = f"{type(e).__name__}: {e}"
    _CURRENT[:] = [ctx]
    return ctx


def _prepare_ctx(ctx: ReportContext) -> None:
    """Read → clean → weight (cached; see :mod:`survey.report.content.data`); errors are kept
    for the sections that need the design, the others still run on the raw data."""
    from ..errors import SurveyError
    from .content.data import prepare

    try:
        ctx.prepared = prepare(ctx.params, ctx.questionnaire)
    except (SurveyError, OSError, ValueError, KeyError) as e:
        ctx.prepare_error = f"{type(e).__name__}: {e}"


def _ctx(ctx: ReportContext | None) -> ReportContext:
    if ctx is not None:
        return ctx
    if not _CURRENT:
        raise ReportError("call report.setup(P) before publishing tables")
    return _CURRENT[0]


def publish(table: PublishedTable, ctx: ReportContext | None = None) -> PublishedTable:
    """Register a styled table for the Excel workbook and return it for display.

    The table is written as JSON to ``<output_dir>/.tables/<notebook>/NNN_<id>.json``; the
    runner gathers these into ``tables.xlsx`` (one sheet per table) after the run.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from survey.report import validate, style_table
    >>> d = tempfile.mkdtemp()
    >>> ctx = setup(validate(notebook="quality", output_dir=d), notebook="quality")
    >>> _ = publish(style_table(pd.DataFrame({"人数": [3]}), "T9"), ctx)
    >>> sorted(p.name for p in ctx.tables_dir.iterdir())
    ['001_T9.json']
    """
    c = _ctx(ctx)
    if any(t.table_id == table.table_id for t in c.tables):
        raise ReportError(f"notebook {c.notebook!r}: table id {table.table_id!r} published twice; "
                          "give each table its own id")
    c.tables.append(table)
    d = c.tables_dir
    d.mkdir(parents=True, exist_ok=True)
    rec = table.to_record()
    rec["notebook"] = c.notebook
    (d / f"{len(c.tables):03d}_{table.table_id}.json").write_text(
        json.dumps(rec, ensure_ascii=False, indent=0, default=str), encoding="utf-8")
    return table


def report_title(params: Mapping[str, Any], questionnaire: Any = None) -> str:
    """The survey's title for page headings: the ``title`` parameter, else the questionnaire's
    wave title (``wave.title``), else ``<wave> 科技工作者状况调查``.

    Examples
    --------
    >>> report_title({"wave": "2024", "title": None})
    '2024 科技工作者状况调查'
    >>> report_title({"wave": "x", "questionnaire": "questionnaires/demo-2024/questionnaire.yml"})
    '2024年示例市科技工作者状况调查（演示数据）'
    """
    if params.get("title"):
        return str(params["title"])
    q = questionnaire
    if q is None and params.get("questionnaire"):
        try:
            from ..questionnaire import Questionnaire

            q = Questionnaire.load(params["questionnaire"])
        except Exception:  # noqa: BLE001 - a title never stops a report; the setup cell reports it
            q = None
    if q is not None:
        return str(q.title)
    return f"{params.get('wave')} 科技工作者状况调查"


def sample_sizes(ctx: ReportContext) -> tuple[int | None, int | None]:
    """(读取的记录数, 清理后保留的有效样本量) of the report (of the region, if any); None where
    not known.

    Examples
    --------
    >>> from survey.report import validate
    >>> sample_sizes(setup(validate(notebook="quality"), notebook="quality"))
    (None, None)
    """
    n_read = len(ctx.data) if ctx.data is not None else None
    n_kept = None
    if ctx.prepared is not None:
        d = ctx.design
        n_kept = int((d.weights > 0).sum())
    return n_read, n_kept


def title_block(ctx: ReportContext) -> _HTML:
    """The report's title line (wave title, region, sample sizes: 读取 and 有效样本).

    Examples
    --------
    >>> from survey.report import validate
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
    if ctx.read_report is not None:
        rows = read_summary(ctx.read_report, q)
    else:
        name = Path(str(ctx.params.get("data") or "")).name
        small = ctx.params.get("region") and len(d) < int(ctx.params.get("min_cell", 10))
        rows = [("数据文件", name or "（未知）"),
                ("读取问卷", f"少于 {int(ctx.params.get('min_cell', 10))} 份" if small else f"{len(d):,} 份")]
    n_read, n_kept = sample_sizes(ctx)
    mc = int(ctx.params.get("min_cell", 10))
    if ctx.params.get("region") and n_kept is not None and n_kept < mc:  # a small region's count
        rows.insert(2, ("有效样本", f"少于 {mc} 人（数据披露控制：各表数值隐去）"))
    elif n_kept is not None:
        rows.insert(2, ("有效样本", f"{n_kept:,} 人（清理后保留，见“数据清理”）"))
    rows.append(("分析变量", f"{d.shape[1]:,} 列" + (f"（问卷 {len(q):,} 题）" if q is not None else "")))
    body = "".join(f'<tr><th style="white-space:nowrap;text-align:left;vertical-align:top">{html.escape(k)}</th>'
                   f"<td>{html.escape(v)}</td></tr>" for k, v in rows)
    return _HTML(f'<table class="kv">{body}</table>')


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
    return FigureOutput(fig)


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
    out = []
    for k, g in enumerate(groups, start=1):
        vc = frame[g].value_counts(sort=False, dropna=False)
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
                        notes=["未加权人数" + ("（清理后保留的受访者）。" if ctx.prepared is not None else "。")])
        out.append(publish(t, ctx))
    if not out:
        return _HTML('<div class="no-data">问卷未声明分组变量（design.groups）。</div>')
    # small tables side by side (a grid), not one narrow column down the page
    return _HTML('<div class="table-grid" style="display:flex;flex-wrap:wrap;gap:0 2em;'
                 'align-items:flex-start">'
                 + "".join(f'<div style="min-width:15em">{t.to_html()}</div>' for t in out) + "</div>")


def section_methods(ctx: ReportContext):
    """方法说明: design, weighting, variance estimation, suppression rules, sources of margins."""
    from .content.indicators import methods

    return methods(ctx)


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

    return indicators.publish_indicators(est, table_id, module, ctx)


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

    return indicators.publish_subgroups(est, table_id, ctx)


def subgroup_tests(ctx: ReportContext, groups: list[str] | None = None):
    """Rao–Scott tests of the single-choice indicators by each of *groups*, Holm-adjusted
    together (see :func:`survey.report.content.indicators.subgroup_tests`)."""
    from .content import indicators

    return indicators.subgroup_tests(ctx, groups)


def publish_subgroup_tests(tests: Any, table_id: str, ctx: ReportContext):
    """Publish :func:`subgroup_tests` as table *table_id* (questions × groups)."""
    from .content import indicators

    return indicators.publish_subgroup_tests(tests, table_id, ctx)


def notable_differences(ctx: ReportContext, estimates: list[Any], tests: Any = None):
    """值得关注的差异 among the :func:`subgroup_estimates` frames *estimates* and the
    :func:`subgroup_tests` *tests* (multiple-comparison aware)."""
    from .content import indicators

    return indicators.notable_differences(ctx, estimates, tests)


# --------------------------------------------------------------------------- placeholders
def section_painpoints(ctx: ReportContext) -> Placeholder:
    """急难愁盼 — placeholder until survey.painpoints lands."""
    return placeholder("急难愁盼：前三项选择比例、首选比例与位次加权得分", "将由 survey.painpoints 提供")


def section_policy(ctx: ReportContext) -> Placeholder:
    """政策评价 — placeholder until survey.painpoints lands."""
    return placeholder("政策知晓度与效果评价", "将由 survey.painpoints 提供")


def section_trends(ctx: ReportContext) -> Placeholder:
    """变化趋势 — placeholder until survey.trends lands."""
    waves = ctx.params.get("previous_waves") or []
    return placeholder("与往期调查的比较", f"将由 survey.trends 提供；对比轮次：{', '.join(waves) or '（未指定）'}")
