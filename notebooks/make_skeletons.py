"""Generate the report notebook skeletons (kept in sync by hand; stable cell ids).

Usage: ``python notebooks/make_skeletons.py [name ...]`` regenerates the named notebooks only
(default: all); other authors' notebooks are left untouched when names are given.
"""
import hashlib, sys
import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell
from survey.report.params import defaults, NOTEBOOK_TITLES

INTRO = {
    "quality": "本报告记录原始数据的接收、读取与质量检查结果，以及样本的基本构成。",
    "survey_report": "本报告给出主要指标的加权估计、分组比较及方法说明。",
    "painpoints": "本报告分析科技工作者“急难愁盼”问题及相关政策评价。",
    "trends": "本报告比较本轮调查与往期调查的变化。",
}
SECTIONS = {
    "quality": [("数据接收", "section_intake"), ("数据质量", "section_quality"),
                ("数据清理", "section_cleaning"), ("样本概况", "section_sample"),
                ("加权", "section_weighting")],
    "survey_report": [("样本概况", "section_sample"), ("加权", "section_weighting"),
                      ("主要指标", "section_key_indicators"), ("分组比较", "section_subgroups")],
    "painpoints": [("急难愁盼", "section_painpoints"), ("政策评价", "section_policy")],
    "trends": [("变化趋势", "section_trends")],
}

def cid(nb, k):
    return hashlib.sha1(f"{nb}-{k}".encode()).hexdigest()[:8]

ONLY = set(sys.argv[1:]) or set(SECTIONS)
for nb, secs in SECTIONS.items():
    if nb not in ONLY:
        continue
    cells = []
    cells.append(new_markdown_cell(f"# {NOTEBOOK_TITLES[nb]}\n\n{INTRO[nb]}"))
    d = defaults(nb)
    src = "# 参数（papermill 会在此单元之后注入实际参数）\n" + "\n".join(f"{k} = {v!r}" for k, v in d.items())
    cells.append(new_code_cell(src, metadata={"tags": ["parameters"]}))
    cells.append(new_code_cell(
        "from survey import report\n"
        f"P = report.validate(globals(), notebook={nb!r})\n"
        f"ctx = report.setup(P, notebook={nb!r})\n"
        "report.title_block(ctx)"))
    for title, fn in secs:
        cells.append(new_markdown_cell(f"## {title}"))
        cells.append(new_code_cell(f"report.{fn}(ctx)"))
    cells.append(new_markdown_cell("## 方法说明"))
    cells.append(new_code_cell("report.section_methods(ctx)"))
    cells.append(new_markdown_cell("## 数据来源与可重复性"))
    cells.append(new_code_cell("report.provenance(P)"))
    for k, c in enumerate(cells):
        c.id = cid(nb, k)
    n = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(n)
    nbformat.write(n, f"notebooks/{nb}.ipynb")
    print("wrote", nb)
