"""The 急难愁盼 page: charts, tables with Chinese headers, HTML and the workbook of a
:class:`~survey.painpoints.PolicyBrief`, and the brief a report shows (:func:`brief_for_report`).

The statistics are the brief's (:func:`survey.painpoints.build_brief`); this module only lays
them out.  :class:`BriefReport` wraps a brief: its frames and key findings are the brief's own
(``B.summary``, ``B.key_findings()``), and it adds ``B.publish``, ``B.figure``, ``B.tables()``,
``B.to_html()`` and ``B.to_excel()``.  Charts use the report theme
(:func:`survey.report.theme.new_figure`: shipped CJK font).

Examples
--------
>>> EmptyBrief("未提供数据").publish("PP1")._repr_html_()
'<div class="no-data">无数据：未提供数据</div>'
"""
from __future__ import annotations

import base64
import contextlib
import html
import io
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ...errors import ParameterError, ReportError
from ...multiplicity import rule_note
from ...painpoints.brief import REPLICATE_METHOD_ZH, PolicyBrief, build_brief, lexicon_folders, significant_changes
from ...painpoints.text import load_lexicon
from ..context import FigureOutput, publish, publish_absent
from ..display import HTML as _Html
from ..format import fmt_p, fmt_pct, style_table
from ..theme import BRIEF_DPI, blank_figure, fit_to_content, new_figure
from .priority import place_labels, priority_caption

__all__ = ["BriefReport", "EmptyBrief", "brief_for_report", "plot_ranked", "plot_group_heatmap",
           "plot_priority", "plot_changes", "place_labels", "priority_caption", "NO_PAINPOINTS", "EFFECT_SCALE_ZH", "FAMILY_ZH"]


# ----------------------------------------------------------------------------------------------
# charts
# ----------------------------------------------------------------------------------------------

#: a pain-point table with more rows than this is shown folded (its caption as one line; the
#: ranking PP1 and the 清单 PP10 always open): PP3/PP4 list every group level
FOLD_ROWS = 20


def _fig(w: float, h: float):
    return new_figure(w, h)


def plot_ranked(summary: pd.DataFrame, measure: str = "pct_top", *, title: str | None = None,
                top: int | None = None):
    """Horizontal bars of a :func:`summarize` table with CIs (suppressed rows left out).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = pd.DataFrame({"item": ["住房困难"], "pct_top": [0.3], "pct_top_low": [0.25],
    ...                   "pct_top_high": [0.35], "suppressed": [False]})
    >>> type(plot_ranked(s)).__name__
    'Figure'
    """
    s = summary[~summary.get("suppressed", False)].sort_values(measure, ascending=True)
    if top:
        s = s.tail(top)
    pct = measure != "score"
    u = 100 if pct else 1
    fig, ax = _fig(7.0, 0.32 * len(s) + 1.2)
    est = s[measure].to_numpy() * u
    err = np.vstack([est - s[f"{measure}_low"].to_numpy() * u, s[f"{measure}_high"].to_numpy() * u - est])
    ax.barh(s["item"], est, xerr=err, color="#0072B2", ecolor="#333333", capsize=2)
    ax.set_xlabel({"pct_top": "选择该项的比例（%，任一位次）", "pct_first": "排在第一位的比例（%）",
                   "score": "位次加权得分"}[measure])
    ax.set_title(title or "急难愁盼问题（95% 置信区间）")
    fig.tight_layout()
    return fig


def _wrap_label(s: str, width: int = 8) -> str:
    """Break a long item label for a column heading after a slash or before an opening bracket
    (Chinese has no spaces to break at)."""
    s = str(s)
    if len(s) <= width:
        return s
    for br in ("(", "（"):
        if br in s and s.index(br) > 0:
            head, tail = s.split(br, 1)
            return head + "\n" + br + tail
    if "/" in s.strip("/"):
        head, tail = s.split("/", 1)
        return head + "/\n" + tail
    return s


def plot_group_heatmap(diffs: pd.DataFrame, *, variables: Sequence[str] | None = None,
                       title: str | None = None, items: Sequence[str] | None = None,
                       width: float = 7.2, names: Mapping[str, str] | None = None):
    """Heatmap of each group's share (rows = groups, columns = items) from
    :func:`group_differences`; ``*`` and a frame mark a significant difference from everyone
    else after the stated correction, suppressed cells stay blank.

    Readable at report width: one panel per group variable (its name on the left, the levels
    as row labels), 10-point cell numbers, white numbers on dark cells, wrapped item labels and
    the colour scale below the chart.  ``items`` orders (and may restrict) the columns, e.g.
    the overall ranking of :func:`summarize`; ``width`` is the figure width in inches (7.2 in
    at the report's 110 dpi, with the row labels, fills the page's ~840-pixel text column);
    ``names`` maps each group variable to the name shown (:func:`group_names`).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> d = pd.DataFrame({"variable": ["sex"] * 2, "level": ["男", "女"], "item": ["住房困难"] * 2,
    ...                   "est_group": [0.2, 0.3], "significant": [False, True], "suppressed": [False, False],
    ...                   "correction": ["Holm"] * 2})
    >>> type(plot_group_heatmap(d)).__name__
    'Figure'
    """
    import matplotlib.colors as mcolors
    from matplotlib.patches import Rectangle

    d = diffs if variables is None else diffs[diffs["variable"].isin(variables)]
    cols = list(dict.fromkeys(d["item"])) if items is None else [i for i in items if i in set(d["item"])]
    vars_ = list(dict.fromkeys(d["variable"]))
    V_all = d["est_group"].to_numpy(float)[~d["suppressed"].to_numpy(bool)] * 100
    vmax = float(np.nanmax(V_all)) if np.isfinite(V_all).any() else 1.0
    norm = mcolors.Normalize(vmin=0.0, vmax=max(vmax, 1.0))
    cmap = _cmap("YlOrRd")
    nrows = [d.loc[d["variable"] == v, "level"].nunique() for v in vars_]
    row_h = 0.34
    head_h = 1.25 + 0.16 * max((_wrap_label(c).count("\n") for c in cols), default=0)
    fig = blank_figure(width, head_h + 0.55 + row_h * sum(nrows) + 0.12 * len(vars_))
    gs = fig.add_gridspec(len(vars_) + 1, 1, height_ratios=[*nrows, 0.9], hspace=0.15)
    im = None
    axes = []
    col_index = pd.Index(cols)
    for k, (var, nr) in enumerate(zip(vars_, nrows)):
        ax = fig.add_subplot(gs[k])
        axes.append(ax)
        dv = d[d["variable"] == var]
        rows = list(dict.fromkeys(dv["level"]))
        # the level × item grid (first row of each cell, as pivot_table(aggfunc="first")):
        # missing cells are suppressed and not significant
        first = dv[dv["item"].isin(cols)].drop_duplicates(["level", "item"])
        i_ = pd.Index(rows).get_indexer(first["level"])
        j_ = col_index.get_indexer(first["item"])
        V = np.full((len(rows), len(cols)), np.nan)
        V[i_, j_] = first["est_group"].to_numpy(float) * 100
        hide = np.ones(V.shape, bool)
        hide[i_, j_] = first["suppressed"].fillna(True).to_numpy(bool)
        V[hide] = np.nan
        sig = np.zeros(V.shape, bool)
        sig[i_, j_] = first["significant"].fillna(False).to_numpy(bool)
        im = ax.imshow(V, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_yticks(range(len(rows)), [str(r) for r in rows], fontsize=10)
        ax.set_ylabel((names or {}).get(var, var), fontsize=10.5, rotation=0, ha="right", va="center",
                      labelpad=10)
        ax.grid(False)
        # white lines between the cells (where minor-tick gridlines were: same lines, without
        # a tick and two labels made for each of them)
        ax.vlines(np.arange(len(cols) + 1) - 0.5, -0.5, len(rows) - 0.5, color="white", linewidth=1.0,
                  zorder=0.5)
        ax.hlines(np.arange(len(rows) + 1) - 0.5, -0.5, len(cols) - 0.5, color="white", linewidth=1.0,
                  zorder=0.5)
        ax.set_xlim(-0.5, len(cols) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.tick_params(which="major", length=0)
        if k == 0:
            ax.xaxis.tick_top()
            ax.set_xticks(range(len(cols)), [_wrap_label(c) for c in cols], rotation=90,
                          fontsize=9.5, va="bottom", ha="center", linespacing=1.0)
        else:  # no ticks at all (they had no length and empty labels: a tick made for nothing)
            ax.set_xticks([])
        for i in range(V.shape[0]):
            for j in range(V.shape[1]):
                if np.isfinite(V[i, j]):
                    dark = norm(V[i, j]) > 0.62
                    # inside its cell: left out of the crop's measuring (fit_to_content)
                    ax.text(j, i, f"{V[i, j]:.0f}" + ("†" if sig[i, j] else ""), ha="center",
                            va="center", fontsize=10, color="white" if dark else "#222222",
                            in_layout=False)
                    if sig[i, j]:
                        ax.add_patch(Rectangle((j - 0.44, i - 0.40), 0.88, 0.80, fill=False,
                                               edgecolor="#1f1f1f", linewidth=1.1, in_layout=False))
    cax = fig.add_subplot(gs[-1])
    cax.set_visible(False)
    if im is not None:
        pos = cax.get_position()
        bar = fig.add_axes([pos.x0 + pos.width * 0.25, pos.y0 + pos.height * 0.35, pos.width * 0.5,
                            pos.height * 0.3])
        fig.colorbar(im, cax=bar, orientation="horizontal", label="选择比例（%）")
    fig.align_ylabels(axes)
    corr = str(d["correction"].iloc[0]) if len(d) else ""
    fig.suptitle(title or f"分组选择比例（%）\n† 加框：与其他人差异显著（{corr}）；空白：样本不足",
                 fontsize=10.5, y=1.0, va="bottom", linespacing=1.5)
    # the title, the row names and the item labels lie outside the grid: the figure grows
    # to hold them (as a tight crop would, but measuring only those labels)
    return fit_to_content(fig)


def _cmap(name: str):
    import matplotlib

    return matplotlib.colormaps[name]


def plot_priority(pm: pd.DataFrame, *, title: str | None = None):
    """The priority matrix: prevalence × severity with quadrant lines.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> pm = pd.DataFrame({"item": ["住房困难", "收入待遇偏低"], "prevalence": [0.3, 0.5],
    ...                    "severity": [0.4, 0.2], "suppressed": [False, False], "quadrant": ["少数严重", "广泛关注"]})
    >>> type(plot_priority(pm)).__name__
    'Figure'
    """
    p = pm[~pm["suppressed"]]
    fig, ax = _fig(7.5, 5.5)
    colours = {"优先解决": "#D55E00", "广泛关注": "#E69F00", "少数严重": "#CC79A7", "持续观察": "#56B4E9"}
    for q, g in p.groupby("quadrant", sort=False):
        ax.scatter(g["prevalence"] * 100, g["severity"] * 100, s=40, color=colours.get(q, "#000000"), label=q)
    xs = pm.attrs.get("split_prevalence", float(p["prevalence"].median()))
    ys = pm.attrs.get("split_severity", float(p["severity"].median()))
    ax.axvline(xs * 100, color="#777777", lw=0.8, ls="--")
    ax.axhline(ys * 100, color="#777777", lw=0.8, ls="--")
    ax.set_xlabel("选择比例（%，前三位任一）")
    ax.set_ylabel("困扰“严重/非常严重”的比例（%）")
    ax.legend(fontsize=8, loc="best")
    how = "中位数" if pm.attrs.get("split", "median") == "median" else "平均值"
    ax.set_title(title or f"优先级矩阵（普遍程度 × 严重程度，虚线为各项{how}）")
    fig.tight_layout()
    place_labels(ax, (p["prevalence"] * 100).to_numpy(float), (p["severity"] * 100).to_numpy(float),
                 p["item"].astype(str).tolist(), fontsize=7)
    return fig


def plot_changes(changes: pd.DataFrame, *, highlight: Sequence[str] = (), title: str | None = None):
    """Change since the last wave per item (points, with CIs); targeted items highlighted.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> c = pd.DataFrame({"item": ["住房困难"], "change": [0.01], "ci_low": [-0.01], "ci_high": [0.03],
    ...                   "suppressed": [False]})
    >>> type(plot_changes(c)).__name__
    'Figure'
    """
    c = changes[~changes["suppressed"]].sort_values("change")
    fig, ax = _fig(7.0, 0.32 * len(c) + 1.2)
    y = np.arange(len(c))
    col = np.where(c["item"].isin(list(highlight)), "#D55E00", "#0072B2")
    ax.hlines(y, c["ci_low"] * 100, c["ci_high"] * 100, color=col, lw=2)
    ax.scatter(c["change"] * 100, y, color=col, zorder=3)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, c["item"])
    ax.set_xlabel("变化（百分点，本轮 − 上轮，95% 置信区间）")
    ax.set_title(title or "与上一轮相比的变化（橙色：政策针对的问题）")
    fig.tight_layout()
    return fig


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _pfmt(p: float) -> str:
    """A p-value for a table: three decimals, ``<0.001`` below; empty when not tested
    (the report's one p-value formatter, :func:`survey.report.format.fmt_p`)."""
    return fmt_p(p)


#: effect scales and model families of the driver analysis in words (PP6's note)
EFFECT_SCALE_ZH = {"odds ratio": "优势比", "log odds": "对数优势比", "difference in mean": "均值差",
                   "mean difference": "均值差"}
FAMILY_ZH = {"binomial": "逻辑回归", "quasibinomial": "逻辑回归（拟二项）",
             "gaussian": "线性回归", "poisson": "泊松回归", "quasipoisson": "泊松回归（拟泊松）"}


# ----------------------------------------------------------------------------------------------
# the brief on the page
# ----------------------------------------------------------------------------------------------
_SAME = object()  # BriefReport.publish without a frame: the brief's own


class BriefReport:
    """A :class:`~survey.painpoints.PolicyBrief` as the report shows it.

    Every attribute of the brief (its frames, ``key_findings()``, ``FRAMES`` ...) is read
    through, so a notebook cell can show the frame it publishes (``t = B.summary``) and
    publish it (``B.publish("PP1", ctx, t)``).

    Examples
    --------
    >>> s = pd.DataFrame({"item": ["住房困难"], "rank": [1], "pct_top": [0.4], "pct_top_low": [0.35],
    ...                   "pct_top_high": [0.45], "pct_first": [0.2], "score": [1.0], "n": [500],
    ...                   "suppressed": [False]})
    >>> b = PolicyBrief(wave="2024", previous_wave=None, summary=s, uncertainty=pd.DataFrame(),
    ...                 top_groups=pd.DataFrame(), differences=pd.DataFrame())
    >>> B = BriefReport(b)
    >>> B.summary is b.summary, B.wave, B.TITLES["PP3"]
    (True, '2024', '各群体排名前三的问题')
    """

    def __init__(self, brief: PolicyBrief) -> None:
        self.brief = brief
        self._published: list[Any] | None = None  # published(): built once per brief

    def __getattr__(self, name: str) -> Any:
        if name == "brief":  # not yet set (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.brief, name)


    # ---------------------------------------------------------------- tables
    def tables(self) -> dict[str, pd.DataFrame]:
        """Display-ready tables (Chinese headers), keyed by table id, for HTML and the workbook."""
        t: dict[str, pd.DataFrame] = {}
        s = self.summary
        t["PP1"] = pd.DataFrame({
            "位次": s["rank"], "问题": s["item"], "选择比例": s["pct_top"],
            "95%CI下限": s["pct_top_low"], "95%CI上限": s["pct_top_high"],
            "首选比例": s["pct_first"], "位次加权得分": s["score"], "样本量": s["n"]}).set_index("位次")
        u = self.uncertainty
        t["PP2"] = pd.DataFrame({"问题": u["item"], "位次": u["rank"],
                                 "位次区间": [f"{a}–{b}" for a, b in zip(u["rank_low"], u["rank_high"])],
                                 "位列第一的概率": u["p_first"], f"位列前{int(u['top'].iloc[0])}的概率": u["p_top"]}
                                ).set_index("问题")
        g = self.top_groups
        tg = g.assign(分组=[f"{self.group_name(v)}：{l}" for v, l in zip(g["variable"], g["level"])])
        t["PP3"] = tg.pivot_table(index="分组", columns="rank", values="item", aggfunc="first", sort=False) \
            .rename(columns=lambda r: f"第{r}位")
        d = self.differences
        ds = d[d["significant"]].sort_values("p_adj")
        t["PP4"] = pd.DataFrame({"分组": [f"{self.group_name(v)}：{l}" for v, l in zip(ds["variable"], ds["level"])],
                                 "问题": ds["item"], "该组": ds["est_group"], "其他人": ds["est_rest"],
                                 "差异": ds["diff"], "校正后p值": [_pfmt(x) for x in ds["p_adj"]]}
                                ).set_index(["分组", "问题"])  # the row is named, not numbered 0, 1, 2
        if self.priority is not None:
            p = self.priority
            t["PP5"] = pd.DataFrame({"问题": p["item"], "选择比例": p["prevalence"],
                                     "严重比例": p["severity"], "象限": p["quadrant"],
                                     "配对题目": p["paired_with"]}).set_index("问题")
        if self.drivers is not None:
            dr = self.drivers[self.drivers["item"].notna()]
            t["PP6"] = pd.DataFrame({"问题": dr["item"], "效应": dr["effect"], "95%CI下限": dr["effect_low"],
                                     "95%CI上限": dr["effect_high"], "p值": dr["p"]}).set_index("问题")
        if self.text is not None:
            th = self.text["themes"]
            t["PP7"] = pd.DataFrame({"类别": th["label"], "文本条数": th["n_texts"],
                                     "占填写者比例": th["pct_of_writers"]}).set_index("类别")
        if self.changes is not None:
            c = self.changes
            sig = c.index.isin(significant_changes(c).index)
            t["PP8"] = pd.DataFrame({"问题": c["item"], f"{self.previous_wave}": c["before"],
                                     f"{self.wave}": c["after"],
                                     "变化": [fmt_pct(v) + ("†" if s_ else "") for v, s_ in zip(c["change"], sig)],
                                     "95%CI下限": c["ci_low"], "95%CI上限": c["ci_high"],
                                     "p值": [_pfmt(x) for x in c["p"]],
                                     "校正后p值": [_pfmt(x) for x in c["p_adj"]],
                                     "最小可检测变化": c["mde"]}).set_index("问题")
        if self.policies is not None and len(self.policies):
            e = self.policies
            cmp_ = [f"{b} → {a}" if isinstance(b, str) else "—" for b, a in  # a line may break
                    zip(e.get("before_wave", pd.Series([None] * len(e))),
                        e.get("after_wave", pd.Series([None] * len(e))))]
            t["PP9"] = pd.DataFrame({"政策": e["policy"], "责任部门": e["office"], "实施日期": e["date"],
                                     "比较波次": cmp_,
                                     "针对问题": e["item"], "针对群体": self.target_groups(e),
                                     "目标群体变化": e["change_target"], "CI下限": e["change_target_low"],
                                     "CI上限": e["change_target_high"], "最小可检测变化": e["mde_target"],
                                     "其他群体变化": e["change_other"], "差中差": e["did"],
                                     "判断": e["verdict_zh"]}).set_index(["政策", "针对问题"])
        return t

    TITLES = {"PP1": "急难愁盼问题：选择比例、首选比例与位次加权得分", "PP2": "排序的不确定性（重复抽样）",
              "PP3": "各群体排名前三的问题", "PP4": "与其他人差异显著的群体（多重比较校正后）",
              "PP5": "优先级矩阵", "PP6": "急难愁盼与总体满意度（调整后效应）", "PP7": "开放题主题归类",
              "PP8": "与上一轮相比的变化", "PP9": "政策措施效果评估"}
    FORMATS = {"选择比例": "pct", "95%CI下限": "pct", "95%CI上限": "pct", "首选比例": "pct",
               "位次加权得分": "float2", "样本量": "count", "位列第一的概率": "pct", "该组": "pct",
               "其他人": "pct", "差异": "pct", "校正后p值": "text", "严重比例": "pct", "效应": "float2",
               "p值": "pvalue", "文本条数": "count", "占填写者比例": "pct", "变化": "pct",
               "最小可检测变化": "pct", "目标群体变化": "pct", "CI下限": "pct", "CI上限": "pct",
               "其他群体变化": "pct", "差中差": "pct"}

    def published(self) -> list[Any]:
        """The tables as :class:`survey.report.PublishedTable` (disclosure masks applied); built
        once per brief (every ``B.publish`` cell reads one of them)."""
        if self._published is None:
            self._published = self._build_published()
        return list(self._published)

    def _build_published(self) -> list[Any]:
        out = []
        for tid, df in self.tables().items():
            fm = {c: self.FORMATS.get(str(c), "pct" if str(c).startswith("位列前") or str(c) in
                                      (self.wave, self.previous_wave) else "text")
                  for c in df.columns}
            if tid == "PP6":
                fm.update({"95%CI下限": "float2", "95%CI上限": "float2"})
            if tid == "PP8":
                fm.update({"p值": "text", "变化": "text"})
            notes = []
            if tid == "PP2" and len(self.uncertainty):
                u = self.uncertainty
                R = int(u["replicates"].iloc[0])
                how = REPLICATE_METHOD_ZH.get(str(u["method"].iloc[0]), str(u["method"].iloc[0]))
                notes.append(f"概率为 {R} 次重复抽样（{how}）中的比例；蒙特卡罗误差"
                             f"（标准误）不超过 {50 / np.sqrt(R):.1f} 个百分点（概率为 50% 时最大），"
                             f"在 95% 附近约 {100 * np.sqrt(0.95 * 0.05 / R):.1f} 个百分点。")
            if tid == "PP8" and self.changes is not None:
                notes.append(rule_note(int((~self.changes["suppressed"]).sum()), 1 - self.level)
                             + "变化为百分点（本轮 − 上轮）。")
            if tid == "PP4" and len(self.differences):
                notes.append(f"多重比较校正：{self.differences['correction'].iloc[0]}。")
            if tid == "PP6" and self.drivers is not None:
                r = self.drivers.iloc[0]
                out_name, covs = self.driver_model or (str(r["outcome"]), [])
                notes.append(f"模型：{out_name} ~ 各问题是否入选" + (f" + {'、'.join(covs)}" if covs else "")
                             + f"；{FAMILY_ZH.get(str(r['family']), str(r['family']))}，效应尺度："
                             f"{EFFECT_SCALE_ZH.get(str(r['effect_scale']), str(r['effect_scale']))}，"
                             f"n = {int(r['n'])}。")
                ref = self.drivers.attrs.get("reference")
                if ref:
                    notes.append(f"每位受访者都选了同样多的问题，效应是相对于参照项“{ref}”（选择最少的一项）的差异。")
            if tid == "PP7" and self.text is not None:
                sm = self.text["summary"].iloc[0]
                notes.append(f"填写开放题 {int(sm['n_writers'])} 人，归入已有类别 {int(sm['n_matched'])} 人，"
                             f"未归类 {int(sm['n_unmatched'])} 人。")
            mask = self._mask(tid, df)
            sheet, sfm = self._sheet(tid, df, fm)
            if sheet is not None:  # the sheet's numbers of a suppressed row are blank, as on the page
                hide = mask.to_numpy(bool).any(axis=1)
                num = [c for c in sheet.columns if sfm.get(str(c), "text") != "text"]
                if hide.any() and num:
                    sheet = sheet.astype({c: float for c in num})
                    sheet.loc[hide, num] = np.nan
            out.append(style_table(df, tid, title=self.TITLES[tid], formats=fm, min_cell=self.min_cell,
                                   notes=notes, suppressed=mask, sheet=sheet, sheet_formats=sfm,
                                   weighting="" if tid == "PP7" else
                                   "加权估计（设计权重按总体边际校准）；置信区间按分层整群设计计算"))
        return out

    def _sheet(self, tid: str, df: pd.DataFrame, fm: dict[str, str]) -> tuple[pd.DataFrame | None, dict[str, str]]:
        """The Excel numbers of tables whose page cells are text (ranks ``1–3``, ``p<0.001``,
        ``+1.2†``): the underlying values, blank where the page shows none."""
        if tid not in ("PP2", "PP4", "PP8"):
            return None, {}
        sh = df.reset_index() if any(n is not None for n in df.index.names) else df.reset_index(drop=True)
        sfm = {str(c): ("pct100" if fm.get(c) == "pct" else fm.get(c, "text")) for c in sh.columns}
        for c in sh.columns:
            if fm.get(c) == "pct":
                sh[c] = pd.to_numeric(sh[c], errors="coerce") * 100.0
        if tid == "PP2":
            u = self.uncertainty
            at = list(sh.columns).index("位次区间")
            sh = sh.drop(columns="位次区间")
            sh.insert(at, "位次区间下限", u["rank_low"].to_numpy(float))
            sh.insert(at + 1, "位次区间上限", u["rank_high"].to_numpy(float))
            sfm.pop("位次区间")
            sfm.update({"位次": "int", "位次区间下限": "int", "位次区间上限": "int"})
        if tid == "PP4":
            ds = self.differences[self.differences["significant"]].sort_values("p_adj")
            sh["校正后p值"] = ds["p_adj"].to_numpy(float)
            sfm["校正后p值"] = "pvalue"
        if tid == "PP8":
            c = self.changes
            blank = df["变化"].isin(["", "—"]).to_numpy() | df["变化"].isna().to_numpy()
            sh["变化"] = np.where(blank, np.nan, c["change"].to_numpy(float) * 100.0)
            sh.insert(list(sh.columns).index("变化") + 1, "校正后显著（†）",
                      np.where(df["变化"].astype(str).str.endswith("†").to_numpy(), "†", ""))
            sh["p值"] = np.where(blank, np.nan, c["p"].to_numpy(float))
            sh["校正后p值"] = np.where(blank, np.nan, c["p_adj"].to_numpy(float))
            sfm.update({"变化": "pct100", "校正后显著（†）": "text", "p值": "pvalue", "校正后p值": "pvalue"})
            ren = {str(w): f"{w}轮选择比例" for w in (self.previous_wave, self.wave) if str(w) in sh.columns}
            sh = sh.rename(columns=ren)
            sfm = {ren.get(k, k): v for k, v in sfm.items()}
        return sh, sfm

    def _mask(self, tid: str, df: pd.DataFrame) -> pd.DataFrame:
        """Suppressed cells of table *tid*: each row whose estimate is suppressed (the one rule of
        :func:`survey.privacy.disclosure_mask`, and the groups a report hides everywhere) is
        hidden whole — its numbers, and for the group tables the items named."""
        rows = np.zeros(len(df), bool)
        s = self.summary
        if tid == "PP1":
            rows = s["suppressed"].to_numpy(bool)
        elif tid == "PP2":
            supp = dict(zip(s["item"], s["suppressed"]))
            rows = np.array([supp.get(i, True) for i in df.index], bool)
        elif tid == "PP3":
            g = self.top_groups
            lab = [f"{self.group_name(v)}：{l}" for v, l in zip(g["variable"], g["level"])]
            hid = {k for k, x in zip(lab, g["suppressed"]) if x}
            rows = np.array([i in hid for i in df.index], bool)
        elif tid == "PP5" and self.priority is not None:
            rows = self.priority["suppressed"].to_numpy(bool)
        elif tid == "PP7" and self.text is not None:
            rows = self.text["themes"]["suppressed"].to_numpy(bool)
        elif tid == "PP8" and self.changes is not None:
            rows = self.changes["suppressed"].to_numpy(bool)
        m = pd.DataFrame(np.repeat(rows[:, None], df.shape[1], axis=1), index=df.index,
                         columns=df.columns)
        keep = [c for c in ("问题", "类别") if c in df.columns]  # the item's name is not a count
        if tid in ("PP1", "PP2", "PP5", "PP7", "PP8"):
            m[keep] = False
        return m

    # ---------------------------------------------------------------- figures
    def _item_order(self) -> list[str]:
        """Items by overall rank (the order of the ranked chart and PP1)."""
        return self.summary.sort_values("rank")["item"].tolist()

    def figures(self) -> dict[str, Any]:
        """Ranked bars, subgroup heatmap, priority matrix and change chart (matplotlib figures)."""
        f = {"ranked": plot_ranked(self.summary),
             "heatmap": plot_group_heatmap(self.differences, items=self._item_order(), names=self.names)}
        if self.priority is not None:
            f["priority"] = plot_priority(self.priority)
        if self.changes is not None:
            hl = [] if self.policies is None or not len(self.policies) else list(self.policies["item"])
            f["changes"] = plot_changes(self.changes, highlight=hl)
        return f

    def figure(self, name: str):
        """One chart, rendered once (for the notebook: a :class:`survey.report.FigureOutput`)."""
        makers = {"ranked": lambda: plot_ranked(self.summary),
                  "heatmap": lambda: plot_group_heatmap(self.differences, items=self._item_order(),
                                                        names=self.names),
                  "priority": lambda: plot_priority(self.priority),
                  "changes": lambda: plot_changes(self.changes, highlight=list(self.policies["item"])
                                                  if self.policies is not None else [])}
        if name not in makers:
            raise ParameterError(f"figure {name!r}: choose one of {list(makers)}")
        if (name == "changes" and self.changes is None) or (name == "priority" and self.priority is None):
            return self._absent("PP8" if name == "changes" else "PP5")
        fig = makers[name]()
        if name == "changes":
            # the Word 专报 shows this chart too (checklist_charts): drawn once, at the 专报's
            # resolution, and shown here at the page's size
            out = FigureOutput(fig, dpi=BRIEF_DPI)
            self.__dict__.setdefault("shown_charts", {})[name] = out.png
        else:  # the heatmap crops itself (its labels lie outside its grid); the others are cropped here
            out = FigureOutput(fig, tight=name != "heatmap")
        if name == "priority":  # the quadrants need words: what they mean, why the top item lands where it does
            from ._util import Bundle

            cap = priority_caption(self.priority, self.level)
            return Bundle([out, _Html(f'<figcaption class="figure-caption">{cap}</figcaption>') if cap else None])
        return out

    def _absent(self, table_id: str, *, blank: bool = False) -> "_Html":
        """The sentence shown instead of a table or chart the brief does not have (*blank*: the
        sentence was already shown by the cell before)."""
        return _Html("" if blank else f'<p class="no-data">{html.escape(self._absent_reason(table_id))}</p>')

    def _absent_reason(self, table_id: str) -> str:
        """Why the brief has no table or chart *table_id* (a plain sentence)."""
        return self.absent.get(table_id) or {("PP8", True): "本轮调查之前没有可比较的往期调查，不报告与上一轮相比的变化。",
                ("PP9", True): "本轮调查之前没有可比较的往期调查，无法评估政策实施前后的变化。",
                ("PP9", False): "未提供政策登记（policies.yml）或登记的政策不涉及本题，未评估政策效果。",
                }.get((table_id, self.previous_wave is None), "本轮问卷缺少此分析所需的题目或关键词表，未作此项分析。")

    def findings_html(self) -> "_Html":
        return _Html("<ul class=\"brief\">" + "".join(f"<li>{html.escape(x)}</li>" for x in self.key_findings())
                     + "</ul>" + "".join(f"<p class=\"note\">{html.escape(n)}</p>" for n in self.notes))

    def policy_html(self) -> "_Html":
        if self.policies is None or not len(self.policies):
            return self._absent("PP9", blank=True)  # the PP9 cell before says why
        return _Html("<ul class=\"policy\">" + "".join(
            f"<li>{html.escape(s)}</li>" for s in self.policies["statement"]) + "</ul>")

    def quotes_html(self) -> "_Html":
        if self.text is None:
            return _Html("")
        q = self.text["quotes"]
        un = self.text["unmatched"]
        parts = [f"<p>示例意见（已去除个人信息；仅来自不少于 {self.min_cell} 条的类别）：</p><ul>"]
        parts += [f"<li>【{html.escape(r.label)}】“{html.escape(r.quote)}”</li>" for r in q.itertuples()]
        parts.append("</ul>")
        if len(un):
            parts.append("<p>未归入已有类别的高频词：" + "、".join(
                f"{html.escape(r.theme)}（{int(r.n_texts)}）" for r in un.itertuples()) + "</p>")
        return _Html("".join(parts))

    def table(self, table_id: str):
        """One published table by id (``PP1`` … ``PP9``)."""
        pubs = {p.table_id: p for p in self.published()}
        if table_id not in pubs:
            raise ParameterError(f"table {table_id!r}: the brief has {sorted(pubs)}")
        return pubs[table_id]


    def publish(self, table_id: str, ctx: Any = None, frame: Any = _SAME):
        """Publish one table into the report's workbook registry and return it for display
        (a table the brief does not have — e.g. the change without an earlier wave — is a
        sentence saying why).

        *frame* is the tidy result the table is made of (:attr:`FRAMES`: ``B.summary`` for
        PP1, ``B.uncertainty`` for PP2 …), so a notebook cell shows what it publishes and may
        publish an edited copy (e.g. fewer rows); left out, the brief's own frame.  The other
        frames (and so the masks, notes and multiple-comparison families) stay the brief's.

        Examples
        --------
        >>> # t = B.summary            # painpoints.summarize
        >>> # B.publish("PP1", ctx, t)
        """
        if frame is not _SAME and table_id in self.FRAMES and frame is getattr(self.brief, self.FRAMES[table_id][0]):
            frame = _SAME  # the brief's own frame (``t = B.summary``): its tables are already built
        if frame is not _SAME:
            if table_id not in self.FRAMES:
                raise ParameterError(f"table {table_id!r}: a frame can be given for {sorted(self.FRAMES)}")
            import dataclasses

            return BriefReport(dataclasses.replace(self.brief, **{self.FRAMES[table_id][0]: frame})).publish(table_id, ctx)
        if table_id in self.TITLES and table_id not in {p.table_id for p in self.published()}:
            with contextlib.suppress(ReportError):  # no report rendered (a brief on its own): no 目录
                publish_absent(table_id, self._absent_reason(table_id), ctx)  # listed in the 目录
            # the chart cell before the change table already says why
            return self._absent(table_id, blank=table_id == "PP8" and self.changes is None)
        t = self.table(table_id)
        if table_id not in ("PP1", "PP10") and len(t.display) > FOLD_ROWS:
            import dataclasses

            t = dataclasses.replace(t, folded=True)  # a long detail table: one line, opened by a click
        return publish(t, ctx)

    def to_html(self, *, title: str = "急难愁盼与政策评估简报") -> str:
        """A standalone HTML brief (tables + PNG charts embedded)."""
        from ..fonts import font_face_css

        body = [f"<h1>{html.escape(title)}</h1>", "<h2>要点</h2>", self.findings_html()._repr_html_()]
        figs = self.figures()
        pubs = {p.table_id: p for p in self.published()}
        order = [("排序", "ranked", ["PP1", "PP2"]), ("分组", "heatmap", ["PP3", "PP4"]),
                 ("严重程度", "priority", ["PP5", "PP6"]), ("开放题", None, ["PP7"]),
                 ("变化", "changes", ["PP8"]), ("政策", None, ["PP9"])]
        for head, fig, tids in order:
            body.append(f"<h2>{head}</h2>")
            if fig and fig in figs:
                body.append(f'<img alt="{fig}" src="data:image/png;base64,{_png(figs.pop(fig))}">')
            for t in tids:
                if t in pubs:
                    body.append(pubs[t].to_html())
            if head == "开放题":
                body.append(self.quotes_html()._repr_html_())
            if head == "政策":
                body.append(self.policy_html()._repr_html_())
        import matplotlib.pyplot as plt

        for f in figs.values():  # not shown: closed, not drawn
            plt.close(f)
        text = "".join(body)
        try:
            css = font_face_css(html.unescape(text))
        except Exception:  # pragma: no cover - font subsetting is optional for the brief
            css = ""
        return (f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
                f"</title><style>{css}</style></head><body>{text}</body></html>")

    def to_excel(self, path: str | Path) -> Path:
        """Write every table to one workbook sheet each, laid out as the report's ``tables.xlsx``
        (:func:`survey.report.workbook.write_sheet`: notes row, Chinese headers, numbers as
        numbers, suppressed cells empty)."""
        from openpyxl import Workbook

        from ...io.safe import harden_workbook
        from ..workbook import write_sheet

        p = Path(path)
        wb = Workbook()
        wb.remove(wb.active)
        for pub in self.published():
            write_sheet(wb.create_sheet(pub.table_id), pub.to_record())
        harden_workbook(wb)
        wb.save(p)
        return p



def _find(name: str, candidates: Sequence[Path]) -> Path | None:
    for c in candidates:
        if (c / name).is_file():
            return c / name
    return None


class EmptyBrief:
    """Stand-in when the report has no data (every section shows "无数据") or the wave declares
    no pain-point question (every section says so)."""

    def __init__(self, reason: str, prefix: str = "无数据：") -> None:
        self.reason, self.prefix = reason, prefix

    def _nodata(self, *args: Any, **kwargs: Any) -> _Html:
        return _Html(f'<div class="no-data">{html.escape(self.prefix + self.reason)}</div>')

    figure = publish = findings_html = policy_html = quotes_html = _nodata
    # the frames the notebook cells hand to publish (none: every cell shows the reason)
    summary = uncertainty = top_groups = differences = priority = drivers = text = changes = policies = None


def _hidden_for(ctx: Any) -> dict[str, Any]:
    """The group levels the report hides in every table (see ``ReportContext.hidden_levels``)."""
    fn = getattr(ctx, "hidden_levels", None)
    if fn is None:
        return {}
    q = getattr(ctx.prepared, "questionnaire", None) or getattr(ctx.design, "questionnaire", None)
    groups = getattr(getattr(q, "design", None), "groups", None) or ()
    return {g: fn(g) for g in groups if g in ctx.design.data.columns}


#: What the painpoints page says when the wave declares no pain-point question.
NO_PAINPOINTS = ("问卷未声明急难愁盼题（questionnaire.yml 的 report.painpoints），本分报告的急难愁盼排序、分组比较、"
                 "严重程度、开放题、变化与政策评价各节均未作。")


def brief_for_report(ctx: Any, *, qid: str | None = None) -> BriefReport | EmptyBrief:
    """The brief the painpoints notebook shows.

    The current wave is the report's prepared design (:func:`survey.pipeline.prepare_wave`:
    the same cleaning and calibrated weights as the survey report, restricted to ``region`` as
    a domain); the previous wave is the last of ``previous_waves``, prepared the same way from
    its own inputs.  Policies come from the ``policies`` parameter (default ``policies.yml``
    beside the questionnaire folders, else the repository's); the keyword lexicon from the
    wave's questionnaire folder.  Without an earlier wave the brief has no change or policy
    section (those cells say so).  The pain-point question is *qid*, else the questionnaire's
    ``report.painpoints``; without one every section says that it was left out and why.

    Examples
    --------
    >>> # B = report.brief_for_report(ctx)
    """
    from .data import cross_wave_file

    P = ctx.params
    wave = str(P.get("wave", ""))
    min_cell, level = int(P.get("min_cell", 10)), float(P.get("confidence", 0.95))
    if ctx.prepared is None:
        return EmptyBrief(ctx.prepare_error or ctx.load_error or "未提供数据（参数 data）")
    cur = ctx.prepared
    q = cur.questionnaire
    qid = qid or q.report.painpoints
    if qid is None:
        return EmptyBrief(NO_PAINPOINTS, prefix="本节未作：")
    lex = _find("painpoint_lexicon.yml", lexicon_folders(P))
    prev = list(ctx.previous.values())[-1:] if P.get("previous_waves") else []
    before = prev[0] if prev else None
    d_before = before.design if before is not None else None
    region, var = P.get("region"), P.get("region_var")

    regional: dict[int, Any] = {}  # id(design) -> its region (the last earlier wave is asked twice)

    def _same_region(d: Any) -> Any:
        """The report's region within an earlier wave's design (None when nobody is in it)."""
        if d is None or region is None:
            return d
        if id(d) not in regional:
            inr = (d.column(var).astype(str) == str(region)).to_numpy() if var in d.columns else np.zeros(len(d.data), bool)
            regional[id(d)] = d.subset(inr, compact=True) if inr.any() else None
        return regional[id(d)]

    d_before = _same_region(d_before)
    if d_before is None:
        before = None
    # the register even without an earlier wave: the 清单 marks unclaimed items (待认领)
    pol = cross_wave_file(P, "policies")
    # every earlier wave is a candidate "before" for a measure (the one fielded before it)
    earlier = None
    if prev and before is not None:
        earlier = {str(w.wave): (_same_region(w.design), w.questionnaire) for w in ctx.previous.values()}
        earlier = {k: v for k, v in earlier.items() if v[0] is not None}
    b = build_brief(ctx.design, qid, questionnaire=q,
                    design_before=d_before,
                    questionnaire_before=before.questionnaire if before is not None else None,
                    policies=pol, lexicon=load_lexicon(lex, q) if lex else None, wave=cur.wave,
                    previous_wave=before.wave if before is not None else None,
                    min_cell=min_cell, level=level, earlier_waves=earlier, hidden=_hidden_for(ctx))
    how = ("以站点抽样概率计算基础权重，再按本轮总体边际加权调整" if cur.targets is not None
           else "以站点抽样概率计算基础权重" if cur.stations is not None else "未加权（等权）")
    if not P.get("previous_waves"):  # none named: say so, and how when the project holds earlier waves
        from .data import no_previous_reason

        b.absent.setdefault("PP8", no_previous_reason(P, "不报告与上一轮相比的变化"))
        b.absent.setdefault("PP9", no_previous_reason(P, "无法评估政策实施前后的变化"))
    b.notes.append(f"数据与权重与本轮调查报告相同（同一清理规则与权重：{how}"
                   + ("；往期数据按其自身总体边际加权" if before is not None else "")
                   + "）；方差按分层整群（站点）设计估计。")
    return BriefReport(b)
