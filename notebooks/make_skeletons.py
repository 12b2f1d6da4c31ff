"""Generate the report notebooks — the single source of all four (stable cell ids).

Usage: ``python notebooks/make_skeletons.py [name ...]`` regenerates the named notebooks only
(default: all).  Never edit the ``.ipynb`` files by hand: change the cell lists here and rerun.
Every notebook declares the parameters of its schema (:func:`survey.report.params.defaults`,
so papermill injects the same names the runner validates); every code cell calls library
functions only (no logic in notebooks).
"""
import hashlib
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from survey.report.params import NOTEBOOK_TITLES, defaults

HERE = Path(__file__).resolve().parent

INTRO = {
    "quality": "本报告记录原始数据的接收、读取与质量检查结果，以及样本的基本构成。",
    "survey_report": "本报告给出主要指标的加权估计、分组比较及方法说明。",
    "painpoints": "本报告分析科技工作者“急难愁盼”问题及相关政策评价。",
    "trends": "本报告比较本轮调查与往期调查的变化。",
}

SETUP = ("from survey import report\n"
         "P = report.validate(globals(), notebook={nb!r})\n"
         "ctx = report.setup(P, notebook={nb!r})\n"
         "report.title_block(ctx)")

# Each notebook body: ("md", text) or ("code", source), between the setup cell and the methods /
# provenance cells that close every notebook.
def _sections(pairs):
    out = []
    for title, fn in pairs:
        out += [("md", f"## {title}"), ("code", f"report.{fn}(ctx)")]
    return out


BODY = {
    "quality": _sections([("数据接收", "section_intake"), ("数据质量", "section_quality"),
                          ("数据清理", "section_cleaning"), ("样本概况", "section_sample"),
                          ("加权", "section_weighting")]),
    "survey_report": _sections([("样本概况", "section_sample"), ("加权", "section_weighting"),
                                ("主要指标", "section_key_indicators"), ("分组比较", "section_subgroups")]),
    "painpoints": [
        ("md", "## 要点"),
        ("code", "from survey import painpoints\nB = painpoints.brief_for_report(ctx)\nB.findings_html()"),
        ("md", "## 急难愁盼排序\n\n选择比例（前三位任一）、首选比例与位次加权得分（第一位 3 分、第二位 2 分、"
               "第三位 1 分），均为设计加权估计及 95% 置信区间；排序的不确定性来自重复抽样（bootstrap）。"),
        ("code", 'B.figure("ranked")'),
        ("code", 'B.publish("PP1", ctx)'),
        ("code", 'B.publish("PP2", ctx)'),
        ("md", "## 分组比较\n\n各群体排名前三的问题，以及与其他人相比差异显著的群体（已作多重比较校正，见表注）。"),
        ("code", 'B.figure("heatmap")'),
        ("code", 'B.publish("PP3", ctx)'),
        ("code", 'B.publish("PP4", ctx)'),
        ("md", "## 严重程度与影响因素"),
        ("code", 'B.figure("priority")'),
        ("code", 'B.publish("PP5", ctx)'),
        ("code", 'B.publish("PP6", ctx)'),
        ("md", "## 开放题意见"),
        ("code", 'B.publish("PP7", ctx)'),
        ("code", "B.quotes_html()"),
        ("md", "## 与上一轮相比的变化"),
        ("code", 'B.figure("changes")'),
        ("code", 'B.publish("PP8", ctx)'),
        ("md", "## 政策评价"),
        ("code", 'B.publish("PP9", ctx)'),
        ("code", "B.policy_html()"),
        ("md", "## 急难愁盼问题清单\n\n问题—措施—成效：排名前列的问题、受影响最大的群体（多重比较校正后）、"
               "与上一轮相比的变化、对应的政策措施与责任部门、措施实施以来的成效；尚无措施的问题标为“待认领”。"
               "同一内容的 Word 专报见页内链接。"),
        ("code", "from survey.report import checklist\nchecklist.section_checklist(B, ctx)"),
    ],
    "trends": [
        ("md", "## 变化趋势"),  # how the waves are compared: the headline table's notes
        ("code", "from survey import trends\nS = trends.report_inputs(ctx)\n"
                 "trends.headline_table(S, level=P.confidence, ctx=ctx)"),
        # sub-headings come with their chart/table (none when there is no earlier wave)
        ("code", 'trends.plot_trends(S, level=P.confidence, heading="各指标各轮估计值（小多图）")'),
        ("code", 'trends.not_comparable_table(S, ctx=ctx, heading="无法跨轮比较的指标及原因")'),
    ],
}


def cid(nb, k):
    return hashlib.sha1(f"{nb}-{k}".encode()).hexdigest()[:8]


def build(nb: str) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(f"# {NOTEBOOK_TITLES[nb]}\n\n{INTRO[nb]}")]
    src = "# 参数（papermill 会在此单元之后注入实际参数）\n" + "\n".join(
        f"{k} = {v!r}" for k, v in defaults(nb).items())
    cells.append(new_code_cell(src, metadata={"tags": ["parameters"]}))
    cells.append(new_code_cell(SETUP.format(nb=nb)))
    for kind, text in BODY[nb]:
        cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    cells += [new_markdown_cell("## 方法说明"), new_code_cell("report.section_methods(ctx)"),
              new_markdown_cell("## 数据来源与可重复性"), new_code_cell("report.provenance(P)")]
    for k, c in enumerate(cells):
        c.id = cid(nb, k)
    n = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(n)
    return n


if __name__ == "__main__":
    only = sys.argv[1:] or list(BODY)
    unknown = sorted(set(only) - set(BODY))
    if unknown:
        sys.exit(f"unknown notebook(s) {unknown}; choose from {list(BODY)}")
    for nb in only:
        nbformat.write(build(nb), HERE / f"{nb}.ipynb")
        print("wrote", nb)
