"""The report notebooks, generated from a wave's questionnaire and its ``report:`` roles.

Every notebook has one shape: a title, the parameters cell, the setup cell
(``from survey import report``; ``P = report.validate(...)``; ``ctx = report.setup(P, ...)``), then
one call of :mod:`survey.report` per cell (``report.section_xxx(ctx)``, or an analysis and its
publication; the 急难愁盼 and trends pages first build their inputs once, ``B =
report.brief_for_report(ctx)`` / ``S = report.trend_inputs(ctx)``), 方法说明, and provenance last.
No cell imports anything but the setup cell.

Every notebook declares the parameters of its schema (:func:`survey.report.params.defaults`, so
papermill injects the same names the runner validates) and holds no logic: each table cell makes
one analysis call and publishes its result.  Given a questionnaire, the cells name what they
estimate — the questions of each module's indicator table, each subgroup, the pain-point
question — so an analyst reading or adapting a notebook sees (and may edit) exactly that, e.g.::

    # 工作负荷：每周平均工作时长、入职以来获得过哪些支持
    est = report.indicator_estimates(ctx, ['q5_hours', 'q6_support'])
    report.publish_indicators(est, "T3.2", '工作负荷', ctx)

    t_q2_age = report.subgroup_estimates(ctx, 'q2_age')
    report.publish_subgroups(t_q2_age, "T4.2", ctx)

The 急难愁盼 page computes its analyses once (``B = report.brief_for_report(ctx, ...)``: one
multiple-comparison family and one suppression for all its tables); each table cell then shows
the frame it publishes, named after its analysis (``t = B.summary`` then ``B.publish('PP1', ctx, t)``).

Without a questionnaire the cells take everything from the questionnaire at run time.
``notebooks/*.ipynb`` in the repository are :func:`build` for the demo's questionnaire
(``notebooks/make_skeletons.py``); ``survey report`` generates each wave's own unless the wave
has an adapted copy in ``questionnaires/<wave>/notebooks/`` (see docs/new_wave.md).

Examples
--------
>>> nb = build("quality")
>>> nb.metadata.kernelspec.display_name
'Python (survey)'
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .params import NOTEBOOK_TITLES, defaults

__all__ = ["build", "write", "BODIES", "INTRO"]

INTRO = {
    "quality": "本报告记录原始数据的接收、读取与质量检查结果，以及样本的基本构成。",
    "survey_report": "本报告给出主要指标的加权估计、分组比较及方法说明。",
    "painpoints": "本报告分析科技工作者“急难愁盼”问题及相关政策评价。",
    "trends": "本报告比较本轮调查与往期调查的变化。",
}

SETUP = ("from survey import report\n"
         "P = report.validate(globals(), notebook={nb!r})\n"
         "report.require_inputs(P)  # run with `survey report --wave <id>`, or set questionnaire/data above\n"
         "ctx = report.setup(P, notebook={nb!r})\n"
         "report.title_block(ctx)")


def _one_line(text: Any) -> str:
    """Text for a comment line of a generated cell: every run of whitespace (a newline too) one
    space, so a questionnaire's wording can never end the comment and run as code."""
    return " ".join(str(text).split())


def _label(q: Any, qid: str) -> str:
    """A question's short label for a comment line (:func:`_one_line`)."""
    from .content.quality import short_label

    return _one_line(short_label(q, qid))


def _sections(pairs):
    out = []
    for title, fn in pairs:
        out += [("md", f"## {title}"), ("code", f"report.{fn}(ctx)")]
    return out


def _survey_report(q: Any) -> list[tuple[str, str]]:
    body = _sections([("主要发现", "section_findings"), ("样本概况", "section_sample"),
                      ("加权", "section_weighting")])
    body.append(("md", "## 主要指标"))
    if q is None:
        body.append(("code", "report.section_key_indicators(ctx)"))
    else:
        from .content.indicators import indicator_questions
        body.append(("code", "report.section_indicators_note(ctx)"))
        for k, (mod, qs) in enumerate(indicator_questions(q).items(), start=1):
            what = "、".join(_label(q, x.id) for x in qs)
            ids = ", ".join(repr(x.id) for x in qs)
            body.append(("code", f"# {_one_line(mod)}：{what}\n"
                                 f"est = report.indicator_estimates(ctx, [{ids}])\n"
                                 f"report.publish_indicators(est, \"T3.{k}\", {mod!r}, ctx)"))
    body.append(("md", "## 分组比较\n\n各分组的均值表与检验表较长，默认折叠（点击表名展开，打印时展开）；"
                       "表中数字亦在 tables.xlsx 的同名表中。值得关注的差异列在最后。"))
    if q is None:
        body.append(("code", "report.section_subgroups(ctx)"))
    else:
        groups = list(q.design.groups)
        names = [f"t_{g}" if g.isidentifier() else f"t{k}" for k, g in enumerate(groups, start=1)]
        for k, (g, v) in enumerate(zip(groups, names), start=1):
            body.append(("code", f"# 按{_label(q, g)}：各均值指标（数值题、量表条目）的加权均值及 CI"
                                 f"（分组来自 questionnaire.yml 的 design.groups）\n"
                                 f"{v} = report.subgroup_estimates(ctx, {g!r})\n"
                                 f"report.publish_subgroups({v}, \"T4.{k}\", ctx)"))
        body.append(("code", "# 单选题回答分布与各分组变量的独立性检验（Rao–Scott），Holm 校正\n"
                             f"tests = report.subgroup_tests(ctx, {groups!r})\n"
                             f"report.publish_subgroup_tests(tests, \"T4.{len(groups) + 1}\", ctx)"))
        body.append(("code", "# 值得关注的差异：上面各表最高与最低类别之差（Bonferroni 校正）及显著的检验\n"
                             f"report.notable_differences(ctx, [{', '.join(names)}], tests)"))
    return body


def _pp(tid: str) -> str:
    """The cell of pain-point table *tid*: the brief's frame it is made of (named after the
    analysis that made it), then its publication."""
    from ..painpoints.brief import PolicyBrief
    from .content.painpoints import BriefReport

    attr, fn = PolicyBrief.FRAMES[tid]
    return (f"# {tid} {BriefReport.TITLES[tid]}（painpoints.{fn} 的结果）\n"
            f"t = B.{attr}\n"
            f"B.publish({tid!r}, ctx, t)")


def _painpoints(q: Any) -> list[tuple[str, str]]:
    if q is None:
        call = "B = report.brief_for_report(ctx)"
    else:
        r = q.report
        if r.painpoints is None:
            call = "B = report.brief_for_report(ctx)  # 问卷未声明 report.painpoints：各节说明未作的原因"
        else:
            lines = [f"# 急难愁盼题：{_label(q, r.painpoints)}（report.painpoints）"]
            lines.append(f"# 分组：{'、'.join(_label(q, g) for g in q.design.groups) or '（无）'}（design.groups）")
            if r.outcome is not None:
                drv = list(r.drivers or q.design.groups)
                lines.append(f"# 影响因素：{_label(q, r.outcome)} ~ 各问题是否入选"
                             + (f" + {'、'.join(_label(q, c) for c in drv)}" if drv else "")
                             + "（report.outcome / report.drivers）")
            call = "\n".join(lines) + f"\nB = report.brief_for_report(ctx, qid={r.painpoints!r})"
    return [
        ("md", "## 要点"),
        ("code", "# 本页各表的分析一次算出（同一套多重比较校正与小单元格隐去），下面每个单元格发布其中一个结果\n"
                 + call + "\nB.findings_html()"),
        ("md", "## 急难愁盼排序\n\n选择比例（前三位任一）、首选比例与位次加权得分（第一位 k 分、第二位 k−1 分……，"
               "k 为可选位数），均为设计加权估计及 95% 置信区间；排序的不确定性来自重复抽样（自助法）。"),
        ("code", 'B.figure("ranked")'),
        ("code", _pp("PP1")),
        ("code", _pp("PP2")),
        ("md", "## 分组比较\n\n各群体排名前三的问题，以及与其他人相比差异显著的群体（已作多重比较校正，见表注）。"),
        ("code", 'B.figure("heatmap")'),
        ("code", _pp("PP3")),
        ("code", _pp("PP4")),
        ("md", "## 严重程度与影响因素"),
        ("code", 'B.figure("priority")'),
        ("code", _pp("PP5")),
        ("code", _pp("PP6")),
        ("md", "## 开放题意见"),
        ("code", _pp("PP7")),
        ("code", "B.quotes_html()"),
        ("md", "## 与上一轮相比的变化"),
        ("code", 'B.figure("changes")'),
        ("code", _pp("PP8")),
        ("md", "## 政策评价"),
        ("code", _pp("PP9")),
        ("code", "B.policy_html()"),
        ("md", "## 急难愁盼问题清单\n\n问题—措施—成效：排名前列的问题、受影响最大的群体（多重比较校正后）、"
               "与上一轮相比的变化、对应的政策措施与责任部门、措施实施以来的成效；尚无措施的问题标为“待认领”。"
               "同一内容的 Word 专报见页内链接。"),
        ("code", "report.section_checklist(B, ctx)"),
        ("code", "# 首页“主要发现”：本页已检验的统计量（前列问题、校正后的分组差异与变化、政策成效）\n"
                 "_ = report.save_findings(ctx, report.painpoint_findings(B))"),
    ]


def _quality(q: Any) -> list[tuple[str, str]]:
    return _sections([("数据接收", "section_intake"), ("数据质量", "section_quality"),
                      ("数据清理", "section_cleaning"), ("样本概况", "section_sample"),
                      ("加权", "section_weighting")])


def _trends(q: Any) -> list[tuple[str, str]]:
    return [
        ("md", "## 变化趋势"),  # how the waves are compared: the headline table's notes
        ("code", "# 指标与跨轮对应关系：questionnaires/harmonization.yml\n"
                 "S = report.trend_inputs(ctx)\n"
                 "report.headline_table(S, level=P.confidence, ctx=ctx)"),
        # sub-headings come with their chart/table (none when there is no earlier wave)
        ("code", 'report.plot_trends(S, level=P.confidence, heading="各指标各轮估计值（小多图）")'),
        ("code", 'report.not_comparable_table(S, ctx=ctx, heading="无法跨轮比较的指标及原因")'),
        ("code", "# 首页“主要发现”：上表中经 Holm 校正后仍有统计学意义的变化\n"
                 "_ = report.save_findings(ctx, report.trend_findings(S, level=P.confidence))"),
    ]


#: notebook name -> cell list maker (questionnaire or None -> [("md"|"code", text)])
BODIES = {"quality": _quality, "survey_report": _survey_report, "painpoints": _painpoints,
          "trends": _trends}


def _cid(nb: str, k: int) -> str:
    return hashlib.sha1(f"{nb}-{k}".encode()).hexdigest()[:8]


def build(nb: str, questionnaire: Any = None):
    """The notebook *nb* (stable cell ids), for *questionnaire* (a
    :class:`~survey.questionnaire.Questionnaire`; None: everything decided at run time)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    if nb not in BODIES:
        from ..errors import ReportError

        raise ReportError(f"unknown notebook {nb!r}; choose from {list(BODIES)}")
    cells = [new_markdown_cell(f"# {NOTEBOOK_TITLES[nb]}\n\n{INTRO[nb]}")]
    src = "# 参数（papermill 会在此单元之后注入实际参数）\n" + "\n".join(
        f"{k} = {v!r}" for k, v in defaults(nb).items())
    cells.append(new_code_cell(src, metadata={"tags": ["parameters"]}))
    cells.append(new_code_cell(SETUP.format(nb=nb)))
    for kind, text in BODIES[nb](questionnaire):
        cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    cells += [new_markdown_cell("## 方法说明"), new_code_cell("report.section_methods(ctx)"),
              new_markdown_cell("## 数据来源与可重复性"), new_code_cell("report.provenance(P)")]
    for k, c in enumerate(cells):
        c.id = _cid(nb, k)
    meta = {"kernelspec": {"name": "survey", "display_name": "Python (survey)", "language": "python"},
            "language_info": {"name": "python"}}
    if questionnaire is not None:
        meta["survey"] = {"generated_for": str(questionnaire.id)}
    n = new_notebook(cells=cells, metadata=meta)
    nbformat.validate(n)
    return n


def write(folder: str | Path, names: Any = None, questionnaire: Any = None) -> list[Path]:
    """Write the notebooks *names* (default: all) built for *questionnaire* into *folder*."""
    import nbformat

    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for nb in (names or list(BODIES)):
        p = d / f"{nb}.ipynb"
        nbformat.write(build(nb, questionnaire), p)
        out.append(p)
    return out
