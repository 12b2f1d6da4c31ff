"""The 急难愁盼问题清单 on the painpoints page, in ``tables.xlsx`` and in the Word 专报.

The numbers come from :func:`survey.painpoints.checklist.problem_list` (analysis); this module
only lays them out:

* :func:`checklist_table` — the published table ``PP10`` (sheet ``急难愁盼问题清单`` of
  ``tables.xlsx``; shares and CIs stay numeric there);
* :func:`checklist_charts` — the two or three charts of the 专报 (leading items with CIs;
  change since the previous wave; each measure's change in its targeted group with the
  minimum detectable effect);
* :func:`survey.report.section_checklist` (in :mod:`survey.report.sections`) — the page
  section: publishes the table, writes ``专报.docx`` (:mod:`survey.report.docx`) beside the
  HTML pages and links it.

Examples
--------
>>> import pandas as pd
>>> from survey.painpoints.checklist import CHECKLIST_COLUMNS
>>> cl = pd.DataFrame([[1, "住房困难", True, 0.4, 0.35, 0.45, 500, "", 0, None, None, None, None,
...                     False, "无往期数据", "待认领", "待认领", "待认领", "待认领", "", None, "待认领"]],
...                   columns=CHECKLIST_COLUMNS)
>>> checklist_table(cl).sheet_title
'急难愁盼问题清单'
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["checklist_table", "checklist_display", "checklist_charts",
           "CHECKLIST_ID", "CHECKLIST_SHEET", "CHECKLIST_TITLE", "DOCX_NAME"]

CHECKLIST_ID = "PP10"
CHECKLIST_SHEET = "急难愁盼问题清单"
CHECKLIST_TITLE = "急难愁盼问题清单（问题—措施—成效）"
#: The Word file the painpoints notebook writes into the report folder.
DOCX_NAME = "专报.docx"


def checklist_display(cl: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """The 清单 with Chinese headings as text (the Word table and the page):
    位次, 问题, 选择比例（95% CI）, 受影响最大的群体, 较上轮变化, 对应措施, 责任部门, 成效.

    Examples
    --------
    >>> from survey.painpoints.checklist import CHECKLIST_COLUMNS
    >>> cl = pd.DataFrame([[1, "住房困难", True, 0.4, 0.35, 0.45, 500, "", 0, None, None, None, None,
    ...                     False, "无往期数据", "待认领", "待认领", "待认领", "待认领", "", None, "待认领"]],
    ...                   columns=CHECKLIST_COLUMNS)
    >>> list(checklist_display(cl).astype(object).iloc[0])
    [1, '住房困难', '40.0%（35.0%–45.0%）', '—', '无往期数据', '待认领', '待认领', '待认领']
    """
    ci = f"{level:.0%} CI"
    return pd.DataFrame({
        "位次": [int(x) for x in cl["rank"]],
        "问题": cl["item"].tolist(),
        f"选择比例（{ci}）": [f"{p * 100:.1f}%（{lo * 100:.1f}%–{hi * 100:.1f}%）"
                           for p, lo, hi in zip(cl["pct"], cl["pct_low"], cl["pct_high"])],
        "受影响最大的群体": [g if g else "—" for g in cl["groups"]],
        "较上轮变化": cl["trend"].tolist(),
        "对应措施": cl["measures"].tolist(),
        "责任部门": cl["offices"].tolist(),
        "成效": cl["verdict_detail"].tolist(),
    })


def checklist_table(cl: pd.DataFrame, *, level: float = 0.95, min_cell: int | None = None,
                    notes: list[str] | None = None):
    """The 清单 as the published table ``PP10`` (sheet ``急难愁盼问题清单``).

    Shares, CI bounds, the change and the minimum detectable effect are numbers (percent in
    the workbook); groups, trend, measures, offices and verdicts are text.
    """
    from .format import style_table

    ci = f"{level:.0%}CI"
    data = pd.DataFrame({
        "位次": cl["rank"].astype("int64").to_numpy(),
        "问题": cl["item"].astype(str).to_numpy(),
        "选择比例": cl["pct"].astype(float).to_numpy(),
        f"{ci}下限": cl["pct_low"].astype(float).to_numpy(),
        f"{ci}上限": cl["pct_high"].astype(float).to_numpy(),
        "受影响最大的群体": [g if g else "—" for g in cl["groups"]],
        "较上轮变化": cl["trend"].astype(str).to_numpy(),
        "对应措施": cl["measures"].astype(str).to_numpy(),
        "责任部门": cl["offices"].astype(str).to_numpy(),
        "成效": cl["verdict"].astype(str).to_numpy(),
        "比较波次": [w if w else "—" for w in cl["waves"]],
        "最小可检测变化": cl["mde"].astype(float).to_numpy(),
        "成效说明": cl["verdict_detail"].astype(str).to_numpy(),
    }).set_index("位次")
    fm = {"选择比例": "pct", f"{ci}下限": "pct", f"{ci}上限": "pct", "最小可检测变化": "pct"}
    fm.update({c: "text" for c in data.columns if c not in fm})
    all_notes = ["受影响最大的群体：与其他人相比选择比例更高、且经多重比较校正（Holm）后差异仍有统计学意义的群体；"
                 "较上轮变化：仅当经 Holm 校正后有统计学意义时标出方向与幅度。",
                 "成效：政策实施前最后一轮调查与本轮相比，目标群体选择比例的变化；最小可检测变化为 80% 把握度下"
                 "本次数据能检测到的最小变化（百分点）。“待认领”：尚无政策措施针对该问题。",
                 *(notes or [])]
    t = style_table(data, CHECKLIST_ID, title=CHECKLIST_TITLE, formats=fm, min_cell=min_cell,
                    notes=all_notes)
    t.sheet_title = CHECKLIST_SHEET
    return t


# ----------------------------------------------------------------------------------------------
# charts
# ----------------------------------------------------------------------------------------------
def _fig(w: float, h: float):
    from .theme import new_figure

    return new_figure(w, h)


def plot_leading(cl: pd.DataFrame, *, level: float = 0.95):
    """Bars of the 清单's items (share choosing each, with CIs); unclaimed items in orange.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> cl = pd.DataFrame({"item": ["住房困难"], "pct": [0.3], "pct_low": [0.25], "pct_high": [0.35],
    ...                    "status": ["待认领"], "rank": [1]})
    >>> type(plot_leading(cl)).__name__
    'Figure'
    """
    from ..painpoints.checklist import UNCLAIMED

    c = cl.sort_values("rank", ascending=False)
    fig, ax = _fig(6.3, 0.42 * len(c) + 1.3)
    est = c["pct"].to_numpy(float) * 100
    err = np.vstack([est - c["pct_low"].to_numpy(float) * 100, c["pct_high"].to_numpy(float) * 100 - est])
    col = np.where(c["status"].to_numpy() == UNCLAIMED, "#E69F00", "#0072B2")
    ax.barh(c["item"], est, xerr=err, color=col, ecolor="#333333", capsize=2)
    ax.set_xlabel(f"选择该项的比例（%，{level:.0%} 置信区间）")
    ax.set_title("急难愁盼问题（橙色：尚无对应措施，待认领）", fontsize=10.5)
    fig.tight_layout()
    return fig


def plot_policy_effects(evaluation: pd.DataFrame, *, level: float = 0.95):
    """Each measure's change in its targeted group (points with CIs) and the minimum
    detectable effect (grey band, ±MDE around zero), one row per measure and item.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> e = pd.DataFrame({"policy": ["减负"], "item": ["报销"], "change_target": [-0.05],
    ...                   "change_target_low": [-0.08], "change_target_high": [-0.02],
    ...                   "mde_target": [0.03], "verdict_zh": ["改善"]})
    >>> type(plot_policy_effects(e)).__name__
    'Figure'
    """
    e = evaluation.reset_index(drop=True)
    fig, ax = _fig(6.3, 0.55 * len(e) + 1.4)
    y = np.arange(len(e))[::-1]
    colours = {"改善": "#009E73", "恶化": "#D55E00"}
    for yi, r in zip(y, e.itertuples()):
        m = float(r.mde_target) * 100
        ax.fill_betweenx([yi - 0.3, yi + 0.3], -m, m, color="#DDDDDD", lw=0)
        c = colours.get(str(r.verdict_zh), "#555555")
        ax.hlines(yi, r.change_target_low * 100, r.change_target_high * 100, color=c, lw=2)
        ax.scatter([r.change_target * 100], [yi], color=c, zorder=3)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [f"{r.policy}\n{r.item}（{r.verdict_zh}）" for r in e.itertuples()], fontsize=8.5)
    ax.set_xlabel(f"目标群体选择比例的变化（百分点，{level:.0%} 置信区间；灰带：可检测的最小变化）")
    ax.set_title("政策措施实施前后的变化", fontsize=10.5)
    fig.tight_layout()
    return fig


def checklist_charts(brief: Any, cl: pd.DataFrame) -> list[tuple[str, Any]]:
    """The 专报's charts as ``(caption, figure)``: the 清单's items; the change since the
    previous wave (when there is one); the measures' effects (when any was evaluated); for a
    first wave (neither), the 清单 items' shares by group instead, so there are always two
    when the brief has group comparisons.

    A chart the page already drew for the 专报 (the change chart of
    :meth:`survey.report.content.painpoints.BriefReport.figure`, rendered at
    :data:`~survey.report.theme.BRIEF_DPI`) comes as its PNG bytes instead of a figure."""
    from .content.painpoints import plot_changes

    shown = getattr(brief, "shown_charts", None) or {}
    out = [("图1 急难愁盼问题的选择比例", plot_leading(cl, level=brief.level))]
    if brief.changes is not None and (~brief.changes["suppressed"]).any():
        hl = [] if brief.policies is None or not len(brief.policies) else list(brief.policies["item"])
        out.append((f"图{len(out) + 1} 与上一轮（{brief.previous_wave}）相比的变化",
                     shown["changes"] if "changes" in shown else plot_changes(brief.changes, highlight=hl)))
    ev = brief.policies
    if ev is not None and len(ev):
        ev = ev[ev["verdict"].isin(["improved", "no detectable change", "worse"])]
        if len(ev):
            out.append((f"图{len(out) + 1} 政策措施实施前后目标群体的变化",
                        plot_policy_effects(ev, level=brief.level)))
    d = brief.differences
    if len(out) < 2 and len(d) and d["item"].isin(list(cl["item"])).any():
        # a first wave (nothing to compare yet): the groups of the 清单's items instead
        from .content.painpoints import plot_group_heatmap

        out.append((f"图{len(out) + 1} 清单中各问题的分组选择比例",
                    plot_group_heatmap(d[d["item"].isin(list(cl["item"]))], items=list(cl["item"]))))
    return out
