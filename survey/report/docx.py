"""The Word 专报 (``专报.docx``): a short brief a 科协 can send to leadership.

:func:`write_docx` lays out one :class:`~survey.painpoints.PolicyBrief` as title, 主要发现
(sentences generated from the same tested statistics as the page: only differences and changes
that survive the Holm correction are called out, each with its CI; nothing non-significant is
called 显著), the 急难愁盼问题清单 (:func:`survey.painpoints.checklist.problem_list`), two or
three charts (PNG, drawn with the shipped CJK font) and a paragraph on methods — no code, no
variable ids.

Fonts cannot be embedded reliably in .docx, so every style and run names fonts that Word and WPS
have on Chinese systems: 宋体 (SimSun) for the body, 黑体 (SimHei) for headings, set as the East
Asian font (``w:eastAsia``) with Times New Roman for Latin text; theme fonts are removed so the
explicit names win.  The document's timestamps are fixed, so the file depends only on the data.

Examples
--------
>>> # write_docx(brief, "reports/2024/专报.docx", title="2024年某市科技工作者状况调查")
"""
from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["write_docx", "main_findings", "methods_text", "BODY_FONT", "HEADING_FONT", "LATIN_FONT"]

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
_FIXED_TIME = _dt.datetime(2000, 1, 1)


def _pp(x: float) -> str:
    return f"{x * 100:+.1f}".replace("-", "−")


def _pct_ci(p: float, lo: float, hi: float) -> str:
    return f"{p * 100:.1f}%，95% CI {lo * 100:.1f}%–{hi * 100:.1f}%"


def main_findings(brief: Any, cl: pd.DataFrame, *, group_names: dict[str, str] | None = None) -> list[str]:
    """The 主要发现: a few sentences from the brief's tested statistics.

    Leading items with their CIs; groups whose difference survives the brief's correction;
    changes since the previous wave significant after Holm (else "未检测到变化"); each measure's
    verdict with the compared waves and the minimum detectable effect; unclaimed items.

    Examples
    --------
    >>> from survey.painpoints import PolicyBrief
    >>> from survey.painpoints.checklist import problem_list
    >>> s = pd.DataFrame({"item": ["住房困难"], "rank": [1], "pct_top": [0.4], "pct_top_low": [0.35],
    ...                   "pct_top_high": [0.45], "n": [500], "suppressed": [False]})
    >>> d = pd.DataFrame(columns=["variable", "level", "item", "est_group", "est_rest", "diff",
    ...                           "significant", "suppressed", "p_adj", "ci_low", "ci_high"])
    >>> b = PolicyBrief(wave="2024", previous_wave=None, summary=s, uncertainty=pd.DataFrame(),
    ...                 top_groups=pd.DataFrame(), differences=d)
    >>> main_findings(b, problem_list(b, top=1))[0]
    '本轮调查中最突出的急难愁盼问题依次为：住房困难（40.0%，95% CI 35.0%–45.0%）。'
    """
    from ..painpoints.checklist import UNCLAIMED
    from .findings import policy_verdict_phrase

    names = dict(getattr(brief, "names", None) or {} if group_names is None else group_names)
    lvl = f"{brief.level:.0%}"
    lead = cl[cl["leading"].to_numpy(bool)]
    if not len(lead):  # e.g. a small region: every item suppressed
        return [f"本范围内回答此题的人数少于最小单元格（{brief.min_cell} 人），不列出急难愁盼问题及其比例。"]
    out = ["本轮调查中最突出的急难愁盼问题依次为：" + "、".join(
        f"{r.item}（{_pct_ci(r.pct, r.pct_low, r.pct_high)}）".replace("95%", lvl) for r in lead.itertuples()) + "。"]
    d = brief.differences
    if len(d):
        sig = d[d["significant"].to_numpy(bool) & ~d["suppressed"].to_numpy(bool)
                & (d["diff"].to_numpy(float) > 0) & d["item"].isin(list(lead["item"]))]
        sig = sig.sort_values("diff", ascending=False).head(4)
        corr = str(d["correction"].iloc[0]) if "correction" in d.columns else "Holm 校正"
        if len(sig):
            out.append("这些问题在部分群体中明显更突出（与其他人相比，经 " + corr.split("（")[0]
                       + "后差异仍有统计学意义）：" + "；".join(
                           f"{names.get(r.variable, r.variable)}为“{r.level}”者选择“{r.item}”的比例为 "
                           f"{r.est_group * 100:.0f}%，其他人为 {r.est_rest * 100:.0f}%（差 {r.diff * 100:.1f} 个百分点，"
                           f"{lvl} CI {r.ci_low * 100:.1f} 至 {r.ci_high * 100:.1f}）" for r in sig.itertuples()) + "。")
        else:
            out.append("经多重比较校正后，未发现在某一群体中明显更突出的前列问题。")
    if brief.changes is not None:
        c = cl[cl["change_significant"].astype(bool)]
        if len(c):
            out.append(f"与上一轮（{brief.previous_wave}）相比，经 Holm 多重比较校正后有统计学意义的变化："
                       + "；".join(f"“{r.item}”{r.trend}" for r in c.itertuples())
                       + "；清单中其余问题未检测到变化。")
        else:
            out.append(f"与上一轮（{brief.previous_wave}）相比，清单中各问题经 Holm 多重比较校正后均未检测到变化。")
    ev = brief.policies
    if ev is not None and len(ev):
        for pol, g in ev.groupby("policy", sort=False):
            office = str(g["office"].iloc[0])
            parts = [policy_verdict_phrase(r, brief.level) for r in g.itertuples()]
            out.append(f"措施“{pol}”（责任部门：{office}）：" + "；".join(parts) + "。")
    un = lead[lead["status"] == UNCLAIMED]
    if len(un):
        out.append(f"前 {len(lead)} 项问题中有 {len(un)} 项尚无对应措施（待认领）：" + "、".join(un["item"])
                   + "，建议明确牵头部门。")
    return out


def methods_text(brief: Any, cl: pd.DataFrame) -> str:
    """The methods paragraph (sample, weights, variance, CIs, multiplicity, MDE, disclosure).

    Examples
    --------
    >>> from survey.painpoints import PolicyBrief
    >>> s = pd.DataFrame({"item": ["a"], "rank": [1], "pct_top": [0.4], "pct_top_low": [0.35],
    ...                   "pct_top_high": [0.45], "n": [500], "suppressed": [False]})
    >>> b = PolicyBrief(wave="2024", previous_wave=None, summary=s, uncertainty=pd.DataFrame(),
    ...                 top_groups=pd.DataFrame(), differences=pd.DataFrame())
    >>> "500" in methods_text(b, pd.DataFrame())
    True
    """
    s = brief.summary
    n = int(s["n"].max()) if len(s) else 0
    lvl = f"{brief.level:.0%}"
    parts = [f"本专报基于本轮调查中回答急难愁盼问题的 {n:,} 名科技工作者（每人最多选择并排序三项）。"
             f"选择比例为设计加权估计，并给出 {lvl} 置信区间。"]
    # the report's brief says how the weights were built (and how the variance is estimated)
    parts += [str(x) for x in brief.notes] or ["方差按分层整群（调查站点）抽样设计估计。"]
    d = brief.differences
    if len(d) and "correction" in d.columns:
        parts.append(f"群体比较为各群体与其他所有人的比较，采用 {d['correction'].iloc[0]}；"
                     "只有校正后仍有统计学意义的差异列为“受影响最大的群体”。")
    if brief.changes is not None:
        parts.append(f"与上一轮（{brief.previous_wave}）的比较把两轮视为独立样本，对各问题的变化作 Holm 多重比较校正，"
                     "只有校正后仍有统计学意义的变化标出方向与幅度。")
    parts.append("政策成效比较措施实施前最后一轮调查与本轮调查中目标群体的选择比例："
                 f"变化的 {lvl} 置信区间全部低于零判为“改善”，全部高于零判为“恶化”，否则为“未检测到变化”；"
                 "“可检测的最小变化”为 80% 把握度下本次样本能检测到的最小变化，未检测到变化不等于没有效果。")
    parts.append(f"样本量不足 {brief.min_cell} 人的问题、群体和变化不予发布（数据披露控制），也不列入清单。")
    return "".join(parts)


# ----------------------------------------------------------------------------------------------
# Word layout
# ----------------------------------------------------------------------------------------------
def _set_fonts(rpr_parent: Any, east: str, *, latin: str = LATIN_FONT) -> None:
    """Name the Latin and East Asian fonts on a style's or run's ``w:rPr`` (theme fonts removed)."""
    from docx.oxml.ns import qn

    rpr = rpr_parent.get_or_add_rPr()
    rf = rpr.find(qn("w:rFonts"))
    if rf is None:
        rf = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, rf)
    for a in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rf.attrib.pop(qn(a), None)
    rf.set(qn("w:ascii"), latin)
    rf.set(qn("w:hAnsi"), latin)
    rf.set(qn("w:eastAsia"), east)
    rf.set(qn("w:cs"), latin)


def _style_fonts(doc: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    # document defaults (what any style without its own fonts falls back to)
    rpr_default = doc.styles.element.find(qn("w:docDefaults"))
    if rpr_default is not None:
        rpd = rpr_default.find(qn("w:rPrDefault"))
        if rpd is not None and rpd.find(qn("w:rPr")) is not None:
            class _P:
                def get_or_add_rPr(self_inner):
                    return rpd.find(qn("w:rPr"))
            _set_fonts(_P(), BODY_FONT)
    for st in doc.styles:
        if st.type not in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.TABLE):
            continue
        head = st.name.startswith("Heading") or st.name in ("Title", "Subtitle")
        _set_fonts(st.element, HEADING_FONT if head else BODY_FONT)
        if head and st.type == WD_STYLE_TYPE.PARAGRAPH:
            st.font.color.rgb = RGBColor(0, 0, 0)
    doc.styles["Normal"].font.size = Pt(12)
    doc.styles["Title"].font.size = Pt(20)
    doc.styles["Heading 1"].font.size = Pt(15)


def _run(par: Any, text: str, *, east: str = BODY_FONT, bold: bool = False, size: float | None = None):
    from docx.shared import Pt

    r = par.add_run(text)
    _set_fonts(r._element, east)
    r.bold = bold or None
    if size:
        r.font.size = Pt(size)
    return r


def _heading(doc: Any, text: str, level: int = 1):
    h = doc.add_paragraph(style="Title" if level == 0 else f"Heading {level}")
    _run(h, text, east=HEADING_FONT)
    return h


def _png(fig: Any) -> io.BytesIO:
    """A chart of the 专报 as PNG at :data:`~survey.report.theme.BRIEF_DPI`: a figure is cropped
    (measured at that resolution) and drawn once; PNG bytes (a chart the page already drew at
    that resolution) are taken as they are."""
    from .theme import BRIEF_DPI, figure_png

    if isinstance(fig, bytes):
        return io.BytesIO(fig)
    return io.BytesIO(figure_png(fig, dpi=BRIEF_DPI))


def _repeat_header(row: Any) -> None:
    from docx.oxml.ns import qn

    trpr = row._tr.get_or_add_trPr()
    el = trpr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"})
    trpr.append(el)


def write_docx(brief: Any, path: str | Path, *, checklist: pd.DataFrame | None = None,
               title: str | None = None, top: int = 5) -> Path:
    """Write the 专报 (.docx) of a brief.

    Parameters
    ----------
    brief : PolicyBrief
    path : path
        The Word file to write (``专报.docx`` in the report folder).
    checklist : DataFrame, optional
        :func:`~survey.painpoints.checklist.problem_list` of the brief (computed when omitted).
    title : str, optional
        The survey's title (e.g. ``2024年某市科技工作者状况调查``); the document's title is
        "<title>：急难愁盼问题清单与政策成效专报".
    top : int
        Leading items when the checklist is computed here.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> # write_docx(brief, "专报.docx", title="2024年示例市科技工作者状况调查")
    """
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    from ..painpoints.checklist import problem_list
    from .checklist import checklist_charts, checklist_display

    cl = problem_list(brief, top=top) if checklist is None else checklist
    doc = docx.Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    _style_fonts(doc)
    full = f"{title}：急难愁盼问题清单与政策成效专报" if title else "科技工作者急难愁盼问题清单与政策成效专报"
    t = _heading(doc, full, 0)
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(sub, f"本轮调查：{brief.wave}" + (f"；比较的往期调查：{brief.previous_wave}" if brief.previous_wave else ""),
         size=10.5)

    _heading(doc, "一、主要发现", 1)
    for s in main_findings(brief, cl):
        p = doc.add_paragraph(style="List Bullet")
        _run(p, s)

    _heading(doc, "二、急难愁盼问题清单", 1)
    disp = checklist_display(cl, level=brief.level)
    tab = doc.add_table(rows=1, cols=len(disp.columns))
    tab.style = doc.styles["Table Grid"]
    tab.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = [1.0, 2.4, 2.6, 3.2, 2.2, 2.2, 2.2, 4.0]
    for j, c in enumerate(disp.columns):
        cell = tab.rows[0].cells[j]
        cell.paragraphs[0].text = ""
        _run(cell.paragraphs[0], str(c), east=HEADING_FONT, bold=True, size=9)
    _repeat_header(tab.rows[0])
    for row in disp.itertuples(index=False):
        cells = tab.add_row().cells
        for j, v in enumerate(row):
            _run(cells[j].paragraphs[0], str(v), size=9)
    for j, w in enumerate(widths[:len(disp.columns)]):
        for r in tab.rows:
            r.cells[j].width = Cm(w)
    note = doc.add_paragraph()
    _run(note, "注：受影响最大的群体仅列经多重比较校正后差异仍有统计学意义者；较上轮变化仅在校正后有统计学意义时标出；"
               "“待认领”表示尚无政策措施针对该问题。", size=9)

    _heading(doc, "三、图表", 1)
    for cap, fig in checklist_charts(brief, cl):
        doc.add_picture(_png(fig), width=Cm(15.5))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        c = doc.add_paragraph()
        c.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(c, cap, east=HEADING_FONT, size=10.5)

    _heading(doc, "四、方法说明", 1)
    _run(doc.add_paragraph(), methods_text(brief, cl))
    for p in doc.paragraphs:
        p.paragraph_format.space_after = Pt(4)

    cp = doc.core_properties
    cp.title = full
    cp.author = cp.last_modified_by = "survey"
    cp.created = cp.modified = _FIXED_TIME
    cp.revision = 1
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out
