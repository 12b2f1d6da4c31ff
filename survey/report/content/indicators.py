"""Key indicators (module by module, driven by the questionnaire), subgroup comparisons and the
methods text of the published report.

Which indicator a question gives depends on its type only:

=========  ==================================================================
numeric    weighted mean (unit from the questionnaire)
duration   weighted mean, in the questionnaire's unit (分钟/小时; data are seconds)
single     weighted % of each answer
likert     per item: mean score and top-2-box %
matrix     per item: % of each scale answer
multi      % of answerers choosing each option
=========  ==================================================================

Design variables (station, stratum), the subgroup/weighting variables (their weighted
distribution is the population's, shown in the sample section), PII, free text, dates and
ranking questions (the 急难愁盼 notebook) are not indicators.

Examples
--------
>>> indicator_kind("numeric"), indicator_kind("rank")
('mean', None)
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from ..format import ci_digits, fmt_ci, fmt_count, fmt_num
from ...estimate import PUBLISHED_CI_RULE
from ...comparisons import batch_contrasts, batch_rao_scott
from ...multiplicity import RULE_ZH, rule_note
from ._util import (EST_FORMATS, WEIGHTED, Bundle, H, esc, est_cells, est_mask, est_sheet, holm, levels_present,
                    memoized, no_design, one_level_note, one_level_table, prefix, publish_estimates)
from .quality import short_label

__all__ = ["indicator_kind", "indicator_questions", "module_estimates", "key_indicators", "subgroups",
           "methods", "indicator_digits", "mean_min_digits", "indicators_note", "indicator_estimates",
           "publish_indicators", "subgroup_groups", "subgroup_estimates", "publish_subgroups",
           "subgroup_tests", "publish_subgroup_tests", "notable_differences", "mean_differences",
           "levels_present", "one_level_note"]

_KINDS = {"numeric": "mean", "duration": "mean", "single": "pct", "likert": "likert", "matrix": "matrix",
          "multi": "pct"}
_DUR_SCALE = {"分钟": 1 / 60, "小时": 1 / 3600, "天": 1 / 86400}


def indicator_kind(qtype: str) -> str | None:
    """The kind of indicator a question type gives (None: not an indicator)."""
    return _KINDS.get(qtype)


def _skip_ids(q: Any) -> set[str]:
    ds = q.design
    s = {getattr(ds, "psu", None), getattr(ds, "strata", None)}
    s |= set(getattr(ds, "groups", None) or []) | set(getattr(ds, "weighting", None) or [])
    return {x for x in s if x}


def indicator_questions(q: Any, data_columns: Any = None) -> "OrderedDict[str, list]":
    """Questions that carry indicators, grouped by module in questionnaire order: the
    questionnaire's ``report.key_indicators`` when declared, else every indicator question."""
    skip = _skip_ids(q)
    chosen = getattr(getattr(q, "report", None), "key_indicators", None)
    cols = set(data_columns) if data_columns is not None else None
    mods: OrderedDict[str, list] = OrderedDict()
    for x in q:
        if chosen is not None:
            if x.id not in chosen:
                continue
        elif x.id in skip or getattr(x, "pii", False) or indicator_kind(x.type) is None:
            continue
        if cols is not None and not set(q.columns(x.id)) <= cols:
            continue
        mods.setdefault(x.module or "其他", []).append(x)
    return mods


def _group_modules(q: Any, questions: list, data_columns: Any = None) -> "OrderedDict[str, list]":
    """*questions* (indicator types only, present in the data) grouped by module, in order."""
    cols = set(data_columns) if data_columns is not None else None
    mods: OrderedDict[str, list] = OrderedDict()
    for x in questions:
        if indicator_kind(x.type) is None or (cols is not None and not set(q.columns(x.id)) <= cols):
            continue
        mods.setdefault(x.module or "其他", []).append(x)
    return mods


def _unit_scale(x: Any) -> tuple[str, float]:
    unit = getattr(x, "unit", None) or ""
    if x.type == "duration":
        return (unit or "秒"), _DUR_SCALE.get(unit, 1.0)
    return unit, 1.0


def _answered(design: Any) -> np.ndarray:
    return np.asarray(design.weights) > 0


def _published_ci(f: pd.DataFrame, level: float) -> pd.DataFrame:
    """The ``kind == "pct"`` rows of a tables.multi/likert frame with the report's interval rule
    (:data:`survey.estimate.PUBLISHED_CI_RULE`: logit, Korn–Graubard for small n_eff)."""
    from ...estimate import proportion_ci

    pct = (f["kind"] == "pct").to_numpy()
    return proportion_ci(f, "published", level=level, rows=pct) if pct.any() else f


def module_estimates(design: Any, q: Any, questions: list, *, level: float = 0.95,
                     min_cell: int = 10) -> pd.DataFrame:
    """Tidy indicators of some questions: one row per (question, item) with ``label, item, kind
    (pct|mean), unit, group, estimate, ci_low, ci_high, se, n, n_cell, suppress, flag``."""
    from ...tables import add_flags

    rows = []
    live = _answered(design)
    for x in questions:
        k = indicator_kind(x.type)
        lab = short_label(q, x.id)
        if k == "mean":
            unit, sc = _unit_scale(x)
            f = design.mean(x.id, na_rm=True, level=level)
            f = f.assign(n_cell=f["n"], item="", kind="mean", unit=unit, group=f"num:{x.id}")
            for c in ("estimate", "se", "ci_low", "ci_high"):
                f[c] = f[c] * sc
        elif x.type == "single":
            f = design.proportion(x.id, na_rm=True, level=level, ci_method="published")
            vc = design.data.loc[live, x.id].value_counts()
            f = f.assign(item=f["level"].astype(str), kind="pct", unit="%", group="pct",
                         n_cell=[int(vc.get(v, 0)) for v in f["level"]])
        elif x.type == "multi":
            f = design.multi(x.id, level=level, min_cell=min_cell)
            f = f[f["measure"] == "pct"].assign(item=lambda d: d["option"].astype(str), kind="pct", unit="%",
                                                group="pct")
        elif x.type == "likert":
            f = design.likert(x.id, level=level, min_cell=min_cell)
            rev = set(getattr(x, "reversed", ()) or ())
            sc = list((x.scale or {}).keys())
            span = f"{min(sc)}–{max(sc)}分" if sc else "分"
            top = "、".join(str(v) for v in list((x.scale or {}).values())[-2:])
            mean = f[f["measure"] == "mean"].assign(kind="mean", unit=span, group=f"likert:{x.id}")
            mean["item"] = [f"{il}：均值" + ("（反向题）" if it in rev else "") for il, it in zip(mean["item_label"], mean["item"])]
            tb = f[f["measure"] == "top_box"].assign(kind="pct", unit="%", group="pct")
            tb["item"] = [f"{il}：{top}(%)" for il in tb["item_label"]]
            mean.attrs, tb.attrs = {}, {}
            f = pd.concat([mean, tb], ignore_index=True)
        elif x.type == "matrix":
            f = design.likert(x.id, level=level, min_cell=min_cell)
            f = f[f["measure"] == "dist"].assign(kind="pct", unit="%", group="pct")
            f["item"] = [f"{il}：{vl}" for il, vl in zip(f["item_label"], f["value_label"])]
        else:  # pragma: no cover - filtered by indicator_questions
            continue
        if x.type in ("multi", "likert", "matrix"):  # shares from tables.*: the published interval
            f = _published_ci(f, level)
        f = f.assign(qid=x.id, label=lab, sensitive=bool(getattr(x, "sensitive", None)))
        if "flag" not in f.columns:
            f = add_flags(f, min_cell=min_cell)
        f = f.copy()
        f.attrs = {}  # estimator metadata (arrays) would make concat compare them
        rows.append(f[["qid", "label", "item", "kind", "unit", "group", "sensitive", "estimate", "se", "ci_low",
                       "ci_high", "n", "n_cell", "cv", "suppress", "flag"]])
    if not rows:
        return pd.DataFrame(columns=["qid", "label", "item", "kind", "unit", "group", "estimate"])
    out = pd.concat(rows, ignore_index=True)
    out["suppress"] = out["suppress"].astype(bool) | ((out["n_cell"] > 0) & (out["n_cell"] < min_cell))
    return out


def mean_min_digits(unit: str, kind: str = "mean") -> int:
    """Fewest decimals of a mean: two for a score on a short scale (``1–5分``, ``分``), one
    otherwise (hours, days, yuan); percentages always one."""
    if kind == "pct":
        return 1
    return 2 if str(unit).endswith("分") else 1


def indicator_digits(est: pd.DataFrame) -> list[int]:
    """Decimals per row of a :func:`module_estimates` frame: percentages one; means chosen per
    indicator (question, or likert item group) by :func:`~survey.report.format.ci_digits` so the
    interval shows at least two significant digits (two at least for scale scores).

    Examples
    --------
    >>> e = pd.DataFrame({"group": ["pct", "likert:a", "likert:a"], "kind": ["pct", "mean", "mean"],
    ...                   "unit": ["%", "1–5分", "1–5分"], "ci_low": [.4, 3.01, 3.2], "ci_high": [.5, 3.07, 3.6]})
    >>> indicator_digits(e)
    [1, 3, 3]
    """
    out = []
    cache: dict[str, int] = {}
    for g, kd, unit in zip(est["group"], est["kind"], est["unit"]):
        if kd == "pct":
            out.append(1)
            continue
        if g not in cache:
            m = (est["group"] == g).to_numpy()
            cache[g] = ci_digits(est.loc[m, "ci_low"].to_numpy(float), est.loc[m, "ci_high"].to_numpy(float),
                                 min_digits=mean_min_digits(unit))
        out.append(cache[g])
    return out


def _chart_label(label: str, item: str, width: int = 28) -> str:
    """``question：item`` within *width* characters: the item (what tells the rows apart) is
    kept whole, the repeated question text is shortened first.

    Examples
    --------
    >>> _chart_label("是否同意以下关于科技评价的说法", "人才称号与资源分配挂钩过紧：同意、非常同意")
    '是否同意以…：人才称号与资源分配挂钩过紧：同意、非常同意'
    >>> _chart_label("上一年度（2023年）的个人税前总收入（含绩效、奖金）", "10万-15万元")
    '上一年度（2023年）的个人税前总收…：10万-15万元'
    """
    label, item = str(label), str(item or "")
    if not item:
        return label if len(label) <= width else label[:width - 1] + "…"
    if len(item) >= width - 6:
        return item if len(item) <= width else item[:width - 1] + "…"
    room = width - len(item) - 1
    short = label if len(label) <= room else label[:room - 1] + "…"
    return f"{short}：{item}"


def _module_chart(est: pd.DataFrame, title: str):
    """Dot-and-whisker chart: one panel for the percentages, one per mean scale."""
    from ..context import FigureOutput
    from ..theme import PALETTE, label_rows, new_figure

    e = est[~est["suppress"]]
    groups = list(OrderedDict.fromkeys(e["group"]))
    groups = (["pct"] if "pct" in groups else []) + [g for g in groups if g != "pct"]
    if not groups:
        return None
    sizes = [int((e["group"] == g).sum()) for g in groups]
    h = 0.26 * sum(sizes) + 0.9 * len(groups) + 0.6
    fig, axes = new_figure(7.5, min(max(h, 2.5), 22), nrows=len(groups), squeeze=False,
                           gridspec_kw={"height_ratios": [s + 1.2 for s in sizes]})
    for ax, g in zip(axes[:, 0], groups):
        d = e[e["group"] == g].iloc[::-1]
        sc = 100.0 if g == "pct" else 1.0
        y = np.arange(len(d))
        est_, lo, hi = d["estimate"].to_numpy(float) * sc, d["ci_low"].to_numpy(float) * sc, d["ci_high"].to_numpy(float) * sc
        ax.errorbar(est_, y, xerr=[est_ - lo, hi - est_], fmt="none", ecolor=PALETTE[0], elinewidth=1.2, capsize=2)
        rel = ~d["flag"].to_numpy(bool)
        ax.scatter(est_[rel], y[rel], color=PALETTE[0], zorder=3, s=18)
        ax.scatter(est_[~rel], y[~rel], facecolor="white", edgecolor=PALETTE[3], zorder=3, s=18)
        labels = [(_chart_label(lb, it) if g == "pct" and it else _chart_label(it or lb, ""))
                  for lb, it in zip(d["label"], d["item"])]
        label_rows(ax, y, labels, fontsize=8)  # as y tick labels, without a Tick per row
        span = float(np.nanmax(hi) - np.nanmin(lo)) if len(d) else 0.0
        if len(d) and np.isfinite(span):  # room around the intervals: a lone CI never fills the axis
            pad = max(0.6 * span, 0.05 * abs(float(np.nanmean(est_))), 1e-9)
            left = np.nanmin(lo) - pad
            ax.set_xlim(max(left, 0.0) if np.nanmin(lo) >= 0 else left, np.nanmax(hi) + pad)
        unit = d["unit"].iloc[0]
        ax.set_xlabel("加权百分比（%），横线为 95% 置信区间" if g == "pct" else f"均值（{unit}），横线为 95% 置信区间",
                      fontsize=8)
        ax.set_ylim(-0.7, len(d) - 0.3)
        ax.yaxis.set_label_coords(0.0, 0.5)  # no y label: placing it measured the rows again
    axes[0, 0].set_title(title, y=1.0)  # where matplotlib puts it after measuring the rows once more
    fig.tight_layout()
    return FigureOutput(fig)  # drawn once, cropped


def indicators_note(ctx: Any) -> Any:
    """The paragraph that opens 主要指标: what the estimates are and how each type is summarised."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    q = ctx.questionnaire
    lvl = float(ctx.params.get("confidence", 0.95))
    skipped = [x.id for x in q if x.type == "rank"]
    return H(f"<p>以下为加权估计，括号内为 {lvl * 100:.0f}% 置信区间（已考虑分层与整群抽样及校准）。"
             "数值题报告均值；单选题报告各选项的百分比；量表题报告均值与最高两档的百分比；多选题报告选择各选项的百分比。"
             + (f"排序题（{esc('、'.join(short_label(q, i) for i in skipped))}）见“急难愁盼”分报告。" if skipped else "")
             + "</p>")


def indicator_estimates(ctx: Any, questions: list[str]) -> Any:
    """Weighted indicators of *questions* (ids): the tidy frame of :func:`module_estimates`
    (one row per question and category/item, estimate with CI, n, flags); the box saying why
    when the wave has no design.  Questions absent from the data are left out."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    q = ctx.questionnaire
    missing = [x for x in questions if x not in q]
    if missing:
        from ...errors import ReportError

        raise ReportError(f"主要指标: {missing} are not questions of {q.path or 'the questionnaire'}")
    mods = _group_modules(q, [q[x] for x in questions], ctx.design.data.columns)
    qs = [x for xs in mods.values() for x in xs]
    lvl, mc = float(ctx.params.get("confidence", 0.95)), int(ctx.params.get("min_cell", 10))
    if not qs:
        return module_estimates(ctx.design, q, qs, level=lvl, min_cell=mc)
    # one question at a time, computed once per notebook (主要发现 and the module tables share them)
    parts = [memoized(ctx, ("indicator", x.id, lvl, mc),
                      lambda x=x: module_estimates(ctx.design, q, [x], level=lvl, min_cell=mc)) for x in qs]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def publish_indicators(est: Any, table_id: str, module: str, ctx: Any) -> Any:
    """Publish the estimates of one module (:func:`indicator_estimates`) as table *table_id*
    under the heading *module*, with its dot-and-whisker chart."""
    if not isinstance(est, pd.DataFrame):
        return est  # the no-design box
    if est.empty:
        return H(f'<div class="no-data">{esc(module)}：本模块的题目不在本轮数据中，没有可估计的指标。</div>')
    mc = int(ctx.params.get("min_cell", 10))
    lvl = float(ctx.params.get("confidence", 0.95))
    out = Bundle()
    out.add(H(f"<h3>{esc(table_id.rsplit('.', 1)[-1])}. {esc(module)}</h3>"))
    txt, supp, unrel = est_cells(est, proportion=False, min_cell=mc)
    dig = indicator_digits(est)
    txt = pd.Series([fmt_ci(e * (100 if kd == "pct" else 1), lo * (100 if kd == "pct" else 1),
                            hi * (100 if kd == "pct" else 1), proportion=False, digits=dg)
                     for e, lo, hi, kd, dg in zip(est["estimate"], est["ci_low"], est["ci_high"], est["kind"],
                                                  dig)])
    tab = pd.DataFrame({"估计值 (95% CI)": txt.to_numpy(object), "单位": est["unit"].to_numpy(object),
                        "样本量": est["n"].to_numpy(float)},
                       index=pd.MultiIndex.from_arrays([est["label"].to_numpy(object), est["item"].to_numpy(object)],
                                                       names=["指标", "类别/条目"]))
    tab.columns = [f"估计值 ({lvl * 100:.0f}% CI)", "单位", "样本量"]
    sm = pd.DataFrame(False, index=tab.index, columns=tab.columns)
    um = sm.copy()
    sm.iloc[:, 0] = supp.to_numpy()
    sm.iloc[:, 2] = est["n"].to_numpy(float) < mc  # a base below the minimum cell is itself a small count
    um.iloc[:, 0] = unrel.to_numpy()
    notes = ["加权估计；样本量为该题有效回答的未加权人数。"]
    if est["sensitive"].any():
        notes.append("健康信息属于敏感个人信息，仅以汇总结果发布。")
    sheet = est_sheet({"指标": est["label"], "类别/条目": est["item"], "单位": est["unit"]}, est,
                      np.where(est["kind"].to_numpy() == "pct", 100.0, 1.0))
    sheet["估计不稳定"] = np.where(unrel.to_numpy(bool), "是", "")
    out.add(publish_estimates(ctx, tab, table_id, f"主要指标：{module}", supp=sm, unrel=um,
                              formats={"样本量": "count"}, notes=notes, sheet=sheet,
                              sheet_suppressed=est_mask(sheet, supp).assign(
                                  样本量=est["n"].to_numpy(float) < mc),  # as on the page
                              sheet_formats=EST_FORMATS, weighting=WEIGHTED))
    fig = _module_chart(est, f"{module}：主要指标（加权）")
    if fig is not None:
        ctx.figures += 1
        out.add(fig)
    return out


def key_indicators(ctx: Any, questions: list[str] | None = None, *, number: int | None = None) -> Any:
    """主要指标: per questionnaire module a heading, a table (estimate with CI, n) and a chart.

    *questions* (ids) restricts the section to those questions (grouped by module, in
    questionnaire order); *number* is then the number of its first table (``T3.<number>``)
    and the explanatory paragraph is shown only for number 1.  The notebooks call the parts
    (:func:`indicators_note`, :func:`indicator_estimates`, :func:`publish_indicators`) one
    module per cell."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    q = ctx.questionnaire
    mods = indicator_questions(q, ctx.design.data.columns)
    if questions is not None:
        missing = [x for x in questions if x not in q]
        if missing:
            from ...errors import ReportError

            raise ReportError(f"主要指标: {missing} are not questions of {q.path or 'the questionnaire'}")
        mods = _group_modules(q, [x for x in q if x.id in set(questions)], ctx.design.data.columns)
    first = number or 1
    out = Bundle()
    if first == 1:
        out.add(indicators_note(ctx))
    for k, (mod, qs) in enumerate(mods.items(), start=first):
        est = indicator_estimates(ctx, [x.id for x in qs])
        if est.empty:
            continue
        out.add(publish_indicators(est, f"{prefix(ctx)}3.{k}", mod, ctx))
    return out


# --------------------------------------------------------------------------------- subgroups
def _mean_columns(d: Any, q: Any) -> list[tuple[str, str, str, float, Any]]:
    """(column, label, unit, scale, question) for every mean-type indicator column."""
    out = []
    for mod, qs in indicator_questions(q, d.columns).items():
        for x in qs:
            if x.type in ("numeric", "duration"):
                unit, sc = _unit_scale(x)
                out.append((x.id, short_label(q, x.id), unit, sc, x))
            elif x.type == "likert":
                sc_codes = set((x.scale or {}).keys())
                for col, (rid, rtxt) in zip(q.columns(x.id), (x.rows or {}).items()):
                    v = pd.to_numeric(d.column(col), errors="coerce").dropna()
                    if sc_codes and not set(v.unique()) <= sc_codes:
                        continue  # missing codes left: not a clean score
                    out.append((col, f"{short_label(q, x.id)}：{rtxt}", "分", 1.0, x))
    return out


def _pairs(L: int) -> int:
    return L * (L - 1) // 2


def subgroup_groups(ctx: Any, groups: list[str] | None = None) -> list[str]:
    """The group variables of 分组比较: *groups*, else the questionnaire's ``design.groups``
    present in the data; never the sampling station (:func:`~survey.report.disclosure.check_no_station`)."""
    from ..disclosure import check_no_station

    q = ctx.questionnaire
    if groups is None:
        groups = [g for g in (q.design.groups or []) if g in ctx.design.data.columns]
    groups = list(groups)
    check_no_station(groups, getattr(q.design, "psu", None))
    return groups


def subgroup_estimates(ctx: Any, group: str) -> Any:
    """Every mean indicator (numeric/duration questions, likert items) by the levels of *group*:
    the tidy frame of :meth:`~survey.design.SurveyDesign.mean` (one row per indicator and level:
    ``variable``, the level column *group*, ``estimate``, ``ci_low``, ``ci_high``, ``n`` …) plus
    ``text`` (the published cell, estimate with CI), ``suppressed`` (below the minimum cell, or a
    level the report hides everywhere: ``ctx.hidden_levels``) and ``unreliable``.  A group with
    one level among the report's respondents (:func:`levels_present`) gives an empty frame
    (``attrs["one_level"]``): :func:`publish_subgroups` says why instead of a table.  ``attrs``
    hold what :func:`publish_subgroups` and :func:`notable_differences` need (the group, its
    levels in order, each indicator's label/unit/scale and decimals); the box saying why when
    the wave has no design."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    d = ctx.design
    q = ctx.questionnaire
    if group not in d.data.columns:
        from ...errors import ReportError

        raise ReportError(f"分组比较: group variable {group!r} is not a column of the wave's data; "
                          f"choose one of design.groups in {q.path or 'the questionnaire'}")
    subgroup_groups(ctx, [group])  # the station is never a published group
    mc = int(ctx.params.get("min_cell", 10))
    lvl = float(ctx.params.get("confidence", 0.95))
    # computed once per notebook: 主要发现 and the T4 tables (and 值得关注的差异) share it
    f = memoized(ctx, ("subgroup_estimates", group, lvl, mc), lambda: _subgroup_estimates(ctx, group, lvl, mc))
    if f.attrs.get("one_level"):
        return f
    # a level hidden in the sample tables (too few respondents, or protecting one) is hidden
    # here too, whole column: else its count follows by subtraction from their total
    hid = ctx.hidden_levels(group) if hasattr(ctx, "hidden_levels") else set()
    f["suppressed"] = f["suppressed"].to_numpy(bool) | f[group].astype(str).isin(hid).to_numpy()
    f.attrs["hidden"] = set(map(str, hid))
    return f


def _subgroup_estimates(ctx: Any, g: str, lvl: float, mc: int) -> pd.DataFrame:
    d = ctx.design
    q = ctx.questionnaire
    if len(levels_present(ctx, g)) < 2:  # nothing to compare (a province's report by province)
        f = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("estimate", float), ("se", float), ("ci_low", float), ("ci_high", float), ("deff", float),
            ("n", int), ("n_eff", float), ("variable", str), (g, str), ("small_n", bool), ("n_cell", int),
            ("text", str), ("suppressed", bool), ("unreliable", bool))})
        f.attrs = {"group": g, "levels": levels_present(ctx, g), "hidden": set(), "columns": [], "info": {},
                   "digits": {}, "level": lvl, "one_level": True}
        return f
    means = _mean_columns(d, q)
    cols = [c for c, *_ in means]
    info = {c: (lab, unit, sc) for c, lab, unit, sc, _ in means}
    f = d.mean(cols, by=g, na_rm=True, level=lvl)
    f = f.assign(n_cell=f["n"])
    txt, supp, unrel = est_cells(f, proportion=False, min_cell=mc)
    var_, lo_, hi_ = f["variable"].to_numpy(object), f["ci_low"].to_numpy(float), f["ci_high"].to_numpy(float)
    dig = {v: ci_digits(lo_[var_ == v] * info[v][2], hi_[var_ == v] * info[v][2], min_digits=mean_min_digits(info[v][1]))
           for v in cols}  # the decimals each indicator's intervals need (arrays: no .loc per indicator)
    levels = [lv for lv in pd.unique(f[g]) if pd.notna(lv)]
    if isinstance(d.data[g].dtype, pd.CategoricalDtype):  # every level, so that a column's
        levels = list(d.data[g].cat.categories)            # presence tells nothing
    f = f.assign(text=[fmt_ci(e * info[v][2], lo * info[v][2], hi * info[v][2], proportion=False,
                              digits=dig[v])
                       for e, lo, hi, v in zip(f["estimate"], f["ci_low"], f["ci_high"], f["variable"])],
                 suppressed=supp.to_numpy(bool), unreliable=unrel.to_numpy())
    f.attrs = {"group": g, "levels": levels, "hidden": set(), "columns": cols,
               "info": info, "digits": dig, "level": lvl}
    return f


def _kept(est: pd.DataFrame) -> list[str]:
    """The indicators of a :func:`subgroup_estimates` frame, in questionnaire order (an analyst
    may have dropped rows: ``t[t["variable"] != "q5_hours"]``)."""
    have = set(est["variable"])
    return [c for c in est.attrs["columns"] if c in have]


def publish_subgroups(est: Any, table_id: str, ctx: Any) -> Any:
    """Publish :func:`subgroup_estimates` as table *table_id* (indicators × levels of the group,
    with a row of respondent counts); a level hidden by the report is hidden whole column.
    Only the indicators left in *est* are shown (an edited frame publishes fewer rows)."""
    if not isinstance(est, pd.DataFrame):
        return est  # the no-design box
    d = ctx.design
    q = ctx.questionnaire
    mc = int(ctx.params.get("min_cell", 10))
    a = est.attrs
    g, levels, info, lvl = a["group"], a["levels"], a["info"], a["level"]
    cols = _kept(est)
    glab = short_label(q, g)
    if a.get("one_level"):  # one level: a table of it would only repeat the report's totals
        return Bundle([H(f"<h3>按{esc(glab)}</h3>"), H(one_level_table(ctx, g, table_id))])  # 目录 lists it
    f = est
    wide = f.pivot(index="variable", columns=g, values="text").reindex(index=cols, columns=levels)
    sm = f.pivot(index="variable", columns=g, values="suppressed").reindex(index=cols, columns=levels).fillna(True).astype(bool)
    um = f.pivot(index="variable", columns=g, values="unreliable").reindex(index=cols, columns=levels).fillna(False).astype(bool)
    nrow = d.data.loc[_answered(d), g].value_counts().reindex(levels).fillna(0).astype(int)
    wide.index = [info[c][0] if not info[c][1] or info[c][0].endswith(f"（{info[c][1]}）")
                  else f"{info[c][0]}（{info[c][1]}）" for c in cols]
    sm.index = um.index = wide.index
    wide.columns = sm.columns = um.columns = [str(c) for c in levels]
    head = pd.DataFrame([[fmt_count(v) for v in nrow]], index=["样本量（人）"], columns=wide.columns)
    gone = np.array([str(c) in a["hidden"] for c in wide.columns], bool)
    hs = pd.DataFrame([[v < mc or x for v, x in zip(nrow, gone)]], index=head.index, columns=wide.columns)
    sm = sm | pd.DataFrame(np.repeat(gone[None, :], len(sm), axis=0), index=sm.index, columns=sm.columns)
    tab = pd.concat([head, wide.astype(object)])
    tab.index.name = "指标"
    # the Excel numbers: one row per indicator × group, in the page's order
    lf = f[f["variable"].isin(cols) & f[g].isin(levels)].copy()
    lf["_r"] = lf["variable"].map({c: i for i, c in enumerate(cols)})
    lf["_c"] = lf[g].map({lv: i for i, lv in enumerate(levels)})
    lf = lf.sort_values(["_r", "_c"], kind="stable")
    sc = lf["variable"].map(lambda v: info[v][2]).to_numpy(float)
    gsize = nrow.reindex(lf[g]).to_numpy(float)
    sheet = est_sheet({"指标": lf["variable"].map(lambda v: info[v][0]), "单位": lf["variable"].map(lambda v: info[v][1]),
                       glab: lf[g].astype(str)}, lf.assign(n=gsize), sc)
    sheet = sheet.rename(columns={"样本量": "该组样本量（人）"})
    sheet["估计不稳定"] = np.where(lf["unreliable"].to_numpy(bool), "是", "")
    smask = est_mask(sheet, lf["suppressed"].to_numpy(bool))
    smask["该组样本量（人）"] = (gsize < mc) | lf[g].astype(str).isin(a["hidden"]).to_numpy()  # as the page's 样本量 row
    out = Bundle()
    out.add(H(f"<h3>按{esc(glab)}</h3>"))
    out.add(publish_estimates(ctx, tab, table_id, f"主要指标分{glab}（均值及 {lvl * 100:.0f}% CI）",
                              supp=pd.concat([hs, sm]), unrel=pd.concat([hs & False, um]),
                              notes=["量表条目为 1–5 分均值（分值越高越同意/越频繁）。"],
                              sheet=sheet, sheet_suppressed=smask, weighting=WEIGHTED,
                              sheet_formats={**{c: k for c, k in EST_FORMATS.items() if c != "样本量"},
                                             "该组样本量（人）": "count"}))
    return out


def subgroup_tests(ctx: Any, groups: list[str] | None = None) -> Any:
    """Rao–Scott tests of every single-choice indicator by each of *groups* (default: the
    questionnaire's design.groups), Holm-adjusted together: one row per question and group
    (``qid``, ``group``, ``F``, ``p``, ``p_holm``, ``cell`` = the published text).  The
    基本情况-type modules (which hold the groups themselves) are left out.  Empty frame when
    there is nothing to test; the box saying why when the wave has no design."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    d = ctx.design
    q = ctx.questionnaire
    groups = subgroup_groups(ctx, groups)
    gmods = {q[g].module for g in groups if g in q}
    singles = [x for mod, qs in indicator_questions(q, d.data.columns).items() if mod not in gmods
               for x in qs if x.type == "single"]
    # a group with one level among the report's respondents (a province's own report by
    # province) has nothing to test: left out (publish_subgroup_tests says so)
    one = [g for g in groups if len(levels_present(ctx, g)) < 2]
    groups = [g for g in groups if g not in one]
    qids = tuple(x.id for x in singles)
    tests = []  # one covariance call per group variable
    for g in groups:
        tests += memoized(ctx, ("rao_scott", g, qids), lambda g=g: batch_rao_scott(d, g, list(qids)))
    T = pd.DataFrame(tests, columns=None if tests else ["qid", "group", "F", "p"])
    if len(T):
        T["p_holm"] = holm(T["p"].to_numpy())
        T["cell"] = [f"F={f:.1f}, p{_pfmt(p)}, 校正后p{_pfmt(ph)}" + ("†" if ph < 0.05 else "")
                     for f, p, ph in zip(T["F"], T["p"], T["p_holm"])]
    T.attrs = {"groups": groups, "questions": [x.id for x in singles], "one_level": one}
    return T


def _tests_small(ctx: Any) -> bool:
    """No test is published on fewer respondents than a published cell (a small region's report)."""
    return len(ctx.sample_frame()) < int(ctx.params.get("min_cell", 10))


def publish_subgroup_tests(T: Any, table_id: str, ctx: Any) -> Any:
    """Publish :func:`subgroup_tests` as table *table_id* (questions × groups); nothing when
    there was nothing to test."""
    if not isinstance(T, pd.DataFrame):
        return T  # the no-design box
    if not len(T):
        return Bundle()
    q = ctx.questionnaire
    groups = T.attrs["groups"]
    wide = T.pivot(index="qid", columns="group", values="cell").reindex(
        index=T.attrs["questions"], columns=groups)
    wide.index = [short_label(q, i) for i in wide.index]
    wide.columns = [short_label(q, g) for g in groups]
    wide.index.name = "题目"
    out = Bundle()
    out.add(H("<h3>分类指标的分组差异检验（Rao–Scott）</h3>"))
    for g in T.attrs.get("one_level", []):
        out.add(H(one_level_note(ctx, g, "其检验")))
    few = pd.DataFrame(_tests_small(ctx), index=wide.index, columns=wide.columns)
    tsheet = pd.DataFrame({"题目": [short_label(q, i) for i in T["qid"]],
                           "分组变量": [short_label(q, g) for g in T["group"]],
                           "F值": T["F"].to_numpy(float), "p值": T["p"].to_numpy(float),
                           "Holm校正后p值": T["p_holm"].to_numpy(float),
                           "校正后显著（†）": np.where(T["p_holm"].to_numpy(float) < 0.05, "†", "")})
    if few.to_numpy().any():  # suppressed on the page: blank in the sheet too
        tsheet[["F值", "p值", "Holm校正后p值"]] = np.nan
        tsheet["校正后显著（†）"] = ""
    out.add(publish_estimates(ctx, wide.fillna(""), table_id,
                              "单选题回答分布与分组变量的独立性检验（Rao–Scott 二阶校正 F 检验）",
                              supp=few,
                              sheet=tsheet, sheet_formats={"F值": "float2", "p值": "pvalue", "Holm校正后p值": "pvalue"},
                              weighting="加权（Rao–Scott 二阶校正考虑分层整群设计）",
                              multiplicity=f"按 Holm 法在本表全部 {len(T)} 项检验（一个检验族）内校正，† 表示校正后 p < 0.05",
                              notes=[rule_note(len(T)) + "校正后p 为 Holm 校正后的 p 值。",
                                     "各题各选项的加权百分比见“主要指标”。"]))
    return out


def mean_differences(ctx: Any, estimates: list[Any]) -> pd.DataFrame:
    """The tested mean differences behind 值得关注的差异 (the page's rule, also used by 主要发现).

    For each group and mean indicator of *estimates* (the :func:`subgroup_estimates` frames)
    the highest and lowest reliable, unsuppressed levels are contrasted; the family is every
    pairwise comparison that could have been chosen (across all the frames), so a contrast is
    ``significant`` when its p is below the Bonferroni bound ``(1 − level) / m`` (the first
    step of Holm; the comparisons not computed have no p-value).  One row per contrast:
    ``group, variable, label, unit, scale, high, low, est_high, est_low, diff, ci_low, ci_high``
    (in the indicator's unit), ``p, m, alpha, significant, rel`` (difference relative to the
    lower level) and ``digits`` (decimals the page uses).  ``attrs["m"]`` is the family size.
    """
    cols = ["group", "variable", "label", "unit", "scale", "high", "low", "est_high", "est_low", "diff",
            "ci_low", "ci_high", "p", "m", "alpha", "significant", "rel", "digits"]
    d = ctx.design
    lvl = float(ctx.params.get("confidence", 0.95))
    estimates = [e for e in estimates if isinstance(e, pd.DataFrame)]
    digits: dict[str, int] = {}  # decimals per indicator (the most any group table needed)
    info: dict[str, tuple] = {}
    cand = []  # (group, col, hi_level, lo_level, L, hi_est, lo_est)
    for f in estimates:
        a = f.attrs
        g = a["group"]
        info.update(a["info"])
        digits.update({v: max(digits.get(v, 0), dg) for v, dg in a["digits"].items()})
        ok = ~f["suppressed"].to_numpy(bool) & ~f["unreliable"].to_numpy(bool)  # arrays, not a frame per indicator
        var, lev, est = f["variable"].to_numpy(object)[ok], f[g].to_numpy(object)[ok], f["estimate"].to_numpy(float)[ok]
        for c in _kept(f):
            r_ = np.flatnonzero(var == c)
            if len(r_) >= 2:  # the highest and lowest level (the first of ties, as idxmax)
                hi_, lo_ = r_[np.nanargmax(est[r_])], r_[np.nanargmin(est[r_])]
                cand.append((g, c, lev[hi_], lev[lo_], len(a["levels"]), float(est[hi_]), float(est[lo_])))
    m = sum(_pairs(c[4]) for c in cand)
    rows = []
    if m:
        alpha = (1 - lvl) / m
        for g in dict.fromkeys(c[0] for c in cand):
            cg = [c for c in cand if c[0] == g]
            pairs = [(c, a, b) for _, c, a, b, *_ in cg]
            res = memoized(ctx, ("contrasts", g, tuple(pairs), lvl),  # 主要发现 and 值得关注的差异
                           lambda: batch_contrasts(d, g, pairs, level=lvl))
            for (_, c, a, b, L, ea, eb), (r_est, r_lo, r_hi, pv) in zip(cg, zip(*(
                    res[k].to_numpy(float) for k in ("estimate", "ci_low", "ci_high", "p")))):
                lab, unit, sc = info[c]
                diff, lo, hi, pv = float(r_est) * sc, float(r_lo) * sc, float(r_hi) * sc, float(pv)
                dg = max(digits.get(c, 1), ci_digits(lo, hi, min_digits=mean_min_digits(unit)))
                rows.append((g, c, lab, unit, sc, a, b, ea * sc, eb * sc, diff, lo, hi, pv, m, alpha,
                             bool(pv < alpha), abs(diff) / max(abs(eb * sc), 1e-9), dg))
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["m"] = m
    return out


def notable_differences(ctx: Any, estimates: list[Any], tests: Any = None, max_statements: int = 15) -> Any:
    """值得关注的差异: statements on the group differences of *estimates* (the
    :func:`subgroup_estimates` frames) and *tests* (:func:`subgroup_tests`).

    For each group and mean indicator the highest and lowest reliable, unsuppressed levels are
    compared (:func:`mean_differences`); significance is Bonferroni over every pairwise
    comparison that could have been chosen (across all the frames), largest relative
    differences first; then the single-choice questions whose Rao–Scott test stays significant
    after Holm."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    q = ctx.questionnaire
    lvl = float(ctx.params.get("confidence", 0.95))
    notable = []
    if isinstance(tests, pd.DataFrame) and len(tests) and not _tests_small(ctx):
        T = tests
        for _, r in T[T["p_holm"] < 0.05].sort_values("p").iterrows():
            notable.append((r["p"], esc(f"「{short_label(q, r['qid'])}」的回答分布在不同{short_label(q, r['group'])}之间差异显著"
                                    f"（Rao–Scott F={r['F']:.1f}，p{_pfmt(r['p'])}，Holm 校正后仍显著）。")))
    D = mean_differences(ctx, estimates)
    m = D.attrs["m"]
    stmts = []
    for r in D[D["significant"]].itertuples():
        u = "个百分点" if r.unit == "%" else r.unit
        dg = r.digits
        stmts.append((r.p, r.rel,
                      f"「{esc(r.label)}」：{esc(r.high)}（{fmt_num(r.est_high, dg)}{esc(r.unit)}）比{esc(r.low)}"
                      f"（{fmt_num(r.est_low, dg)}{esc(r.unit)}）高 {fmt_num(r.diff, dg)}{esc(u)}"
                      f"（{lvl * 100:.0f}% CI {fmt_num(r.ci_low, dg)}–{fmt_num(r.ci_high, dg)}）。"))
    stmts.sort(key=lambda s: (-s[1], s[0]))
    items = [s[2] for s in stmts[:max_statements]] + [s[1] for s in sorted(notable)[:max_statements]]
    out = Bundle()
    out.add(H("<h3>值得关注的差异</h3>"))
    if items:
        out.add(H(f"<p>均值差异：每个分组变量下比较估计值最高与最低的类别；为控制多重比较，显著性按全部 {m} 个可能的两两比较作 "
                  f"Bonferroni 校正（p &lt; {(1 - lvl):.2f}/{m}），区间为未校正的 {lvl * 100:.0f}% 置信区间。"
                  "不可靠或隐去的类别不参与比较。按相对差异大小排序，最多列出 "
                  f"{max_statements} 条。</p><ul>" + "".join(f"<li>{s}</li>" for s in items) + "</ul>"))
    else:
        out.add(H("<p>经多重比较校正后，未发现显著的分组差异。</p>"))
    return out


def subgroups(ctx: Any, groups: list[str] | None = None, max_statements: int = 15) -> Any:
    """分组比较: mean indicators by each key group (with CIs), Rao–Scott tests of the single-choice
    questions, and a list of notable differences (Bonferroni over all pairwise comparisons).

    The notebooks call the parts one table per cell: :func:`subgroup_estimates` then
    :func:`publish_subgroups` (``T4.k``) for each group, :func:`subgroup_tests` then
    :func:`publish_subgroup_tests`, and :func:`notable_differences`."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    groups = subgroup_groups(ctx, groups)
    px = prefix(ctx)
    out = Bundle()
    ests = []
    for k, g in enumerate(groups, start=1):
        ests.append(subgroup_estimates(ctx, g))
        out.add(publish_subgroups(ests[-1], f"{px}4.{k}", ctx))
    T = subgroup_tests(ctx, groups)
    out.add(publish_subgroup_tests(T, f"{px}4.{len(groups) + 1}", ctx))
    out.add(notable_differences(ctx, ests, T, max_statements))
    return out


def _pfmt(p: float) -> str:
    """``<0.001`` or ``=0.012`` after a "p" (the report's one formatter, :func:`~survey.report.format.fmt_p`)."""
    from ..format import fmt_p

    t = fmt_p(p)
    return t if t.startswith("<") else f"={t}"


# --------------------------------------------------------------------------------- methods
def methods(ctx: Any) -> H:
    """方法说明: design, weighting, variance estimation, suppression rules, sources of margins."""
    p = ctx.params
    conf = float(p.get("confidence", 0.95)) * 100
    mc = int(p.get("min_cell", 10))
    q = ctx.questionnaire
    items = []
    if q is not None:
        ds = q.design
        items.append(f"<li><b>调查对象</b>：{esc(q.wave.get('population', '') if isinstance(getattr(q, 'wave', None), dict) else '')}</li>"
                     if isinstance(getattr(q, "wave", None), dict) and q.wave.get("population") else "")
        if ctx.prepared is not None:
            d = ctx.prepared.design
            items.append(f"<li><b>抽样设计</b>：以调查站点为初级抽样单元（整群），按{esc(short_label(q, ds.strata)) if ds.strata in q else esc(ds.strata)}分层；"
                         f"清理后保留 {d.n:,} 名受访者，来自 {d.n_psu:,} 个站点、{d.n_strata:,} 个层；自由度 {d.df:,}（站点数 − 层数）。"
                         "站点按类型与地区选取并在单位内抽样，不是完全的概率样本，因此需要按总体边际加权。</li>")
        else:
            items.append(f"<li><b>抽样设计</b>：以调查站点为初级抽样单元，按"
                         f"{esc(short_label(q, ds.strata)) if ds.strata in q else esc(ds.strata)}分层。</li>")
    if ctx.prepared is not None:
        r = getattr(ctx.prepared.design, "weighting_report", None)
        base = ("基础权重为站点入样概率倒数乘以站点规模与站点保留样本量之比" if ctx.prepared.stations is not None
                else "基础权重均为 1")
        if r is not None:
            src = r.sources_frame()
            srcs = "；".join(f"{esc(short_label(q, m) if '×' not in m else ' × '.join(short_label(q, v.strip()) for v in m.split('×')))}："
                            f"{esc(pb)}（{esc(y)}）{esc(tb)}" for m, pb, y, tb in
                            zip(src["margin"], src["publication"], src["year"], src["table"]))
            items.append(f"<li><b>加权</b>：{base}；再用迭代比例调整校准到总体边际。总体边际来源：{srcs}。"
                         "各来源总数不一致时按比例统一到控制总数（差异见质量报告）。</li>")
        else:
            items.append(f"<li><b>加权</b>：{base}；未提供总体边际，未做校准。</li>")
        cr = ctx.prepared.clean
        items.append(f"<li><b>数据清理</b>：读入 {int(cr.n_raw):,} 份，剔除 {len(cr.dropped):,} 份（重复提交、作答过快、直线作答等），"
                     f"保留 {int(cr.n_clean):,} 份；不知道/拒答与超范围值按缺失处理，各题以有效回答为分母。</li>")
    items.append(f"<li><b>方差估计</b>：泰勒线性化，考虑分层、站点整群与校准（对校准残差估计方差）；"
                 f"只有一个站点的层按总体均值中心化；均值的置信区间为 {conf:.0f}% t 区间，自由度为站点数减层数"
                 f"。{esc(PUBLISHED_CI_RULE)}百分比的区间因此不对称。"
                 "表中以“估计值 (下限–上限)”表示。</li>")
    items.append(f"<li><b>数据披露控制</b>：未加权人数少于 {mc} 人的单元格以“—”隐去；计数表另做互补隐去，防止由合计推算；"
                 "不发布按调查站点（单个单位）的表格；报告不含姓名、电话、身份证号、邮箱、IP 等个人信息。</li>")
    items.append("<li><b>可靠性标记</b>：样本量小于 30、有效样本量小于 30 或变异系数大于 30% 的估计以“*”标注，仅供参考。</li>")
    items.append(f"<li><b>{esc(RULE_ZH.split('：', 1)[0])}</b>：{esc(RULE_ZH.split('：', 1)[1])}"
                 "本页的 Rao–Scott 检验表、急难愁盼页的分组差异与变化表、变化趋势页的主要指标变化表均按此规则。"
                 "“值得关注的差异”只检验每个指标估计值最高与最低的一对类别，其族为全部可能的两两比较，"
                 "未计算的比较无 p 值，因此按 Bonferroni 界（Holm 法的第一步）判断。</li>")
    items.append("<li><b>指标定义</b>：量表题均值按 1–5 分计算；“最高两档”为量表最高两个选项的合计百分比；多选题百分比的分母为回答该题的人数。</li>")
    return H("<ul>" + "".join(i for i in items if i) + "</ul>")
