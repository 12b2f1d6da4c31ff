"""The trends page: the stacked waves a report compares, the headline table of changes, the
small-multiple chart and the list of indicators that cannot be compared.

The statistics come from :mod:`survey.trends` (:func:`~survey.trends.trend_table`,
:func:`~survey.trends.wave_estimates`); this module only gathers the waves of a report and lays the
numbers out.  The notebook calls these through :mod:`survey.report` (``report.trend_inputs(ctx)``,
``report.headline_table(S, ctx=ctx)`` ...).

Examples
--------
>>> NoTrends("本轮之前没有可比较的调查。")
本轮之前没有可比较的调查。
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...errors import EstimationError, HarmonizationError
from ...labels import wave_name, wave_span
from ...multiplicity import rule_note
from ...trends import (Harmonization, Indicator, StackedWaves, load_for_waves, not_comparable,
                       stack_waves, trend_table, wave_estimates)
from ..context import FigureOutput, publish
from ..format import NOTE_MARK, ci_digits, fmt_num, fmt_p, style_table
from ..theme import PALETTE, use_theme
from ._util import Bundle, H, esc

__all__ = ["NoTrends", "trend_inputs", "headline_table", "not_comparable_table", "plot_trends"]


class NoTrends:
    """What the trends report shows when there is nothing to compare (the first wave, a wave
    without data, a region with too few respondents): a plain sentence instead of tables and charts.

    Examples
    --------
    >>> NoTrends("本轮之前没有可比较的调查。")
    本轮之前没有可比较的调查。
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.waves: list[str] = []

    def _repr_html_(self) -> str:
        import html

        return f'<div class="no-data">{html.escape(self.reason)}</div>'

    def __repr__(self) -> str:
        return self.reason


class _Blank:
    def _repr_html_(self) -> str:
        return ""

    def __repr__(self) -> str:
        return ""




def trend_inputs(ctx: Any, *, harmonization: str | Path | None = None) -> "StackedWaves | NoTrends":
    """The stacked waves the trends report shows: this wave and its ``previous_waves``.

    Every wave comes from :func:`survey.pipeline.prepare_wave` (the report's prepared cache;
    earlier waves from their own inputs, each calibrated to its own margins), so the numbers
    equal those of each wave's survey report.  The waves are keyed by their questionnaires' wave
    ids, which must be the ids of ``harmonization.yml`` (default: beside the questionnaire
    folders, else the repository's).

    Parameters
    ----------
    ctx : ReportContext
        From :func:`survey.report.setup` (or a parameter mapping, prepared here).
    harmonization : path, optional
        Overrides the ``harmonization`` parameter.

    Returns
    -------
    StackedWaves, or NoTrends
        NoTrends (a sentence) when there is no earlier wave, no data, or a region too small
        to publish.  In a regional report (``region``), every estimate is the region's domain
        of the whole waves (:meth:`~survey.trends.StackedWaves.within`).

    Examples
    --------
    >>> trend_inputs({"wave": "x"}).reason  # doctest: +ELLIPSIS
    '本轮调查之前没有...'
    """
    from .data import cross_wave_file, prepare, prepare_previous

    params = getattr(ctx, "params", ctx)
    prev_ids = list(params.get("previous_waves") or [])
    if not prev_ids:
        from .data import no_previous_reason

        return NoTrends(no_previous_reason(params, "本节不报告变化趋势"))
    if hasattr(ctx, "params"):
        if ctx.prepared is None:
            return NoTrends("无数据：" + (ctx.prepare_error or ctx.load_error or "未提供数据（参数 data）"))
        current = ctx.prepared
        previous = ctx.previous
    else:
        current = prepare(params)
        previous = prepare_previous(params)
    waves = [*previous.values(), current]
    ids = [w.wave for w in waves]
    if len(set(ids)) < len(ids):
        raise HarmonizationError(f"trends report: the waves {list(previous) + [params.get('wave')]} "
                                 f"have questionnaire wave ids {ids}; each wave needs its own id")
    hp = Path(harmonization) if harmonization else cross_wave_file(params, "harmonization")
    if hp is None:
        raise HarmonizationError("trends report: no harmonization.yml (beside the questionnaire folders "
                                 "or in the repository); write one or set the harmonization parameter")
    h = load_for_waves(hp, {w.wave: w.questionnaire for w in waves})
    order = {w: k for k, w in enumerate(h.waves)}
    waves.sort(key=lambda w: order[w.wave])
    region = params.get("region")
    if region is None:
        return stack_waves({w.wave: w.design for w in waves}, h)
    return _regional(params, waves, h, str(region), source=hp)


def _regional(params: Any, waves: list, h: Any, region: str,
              source: Path | None = None) -> "StackedWaves | NoTrends":
    """A regional report's trends: the waves stacked whole, every estimate the region's domain
    (:meth:`~survey.trends.StackedWaves.within`); an indicator any wave's region answered with
    fewer than ``min_cell`` respondents is left out (named in T5.1's notes), and a region with
    fewer than ``min_cell`` respondents in a wave has no trends page (disclosure control)."""
    var = str(params.get("region_var") or "")
    mc = int(params.get("min_cell", 10))
    lacking = [w.wave for w in waves if var not in w.design.columns]
    if lacking:
        return NoTrends(f"往期调查（{'、'.join(map(str, lacking))}）的数据中没有地区变量 {var}，"
                        "无法按地区比较各轮变化；请参阅全样本报告的变化趋势。")
    S = _stacked_once(waves, h, var, source)
    try:
        R = S.within(var, region)
    except EstimationError:
        return NoTrends(f"各轮调查中都没有{region}的受访者，不报告各轮变化。")
    inside = R.domain_mask() & (S.data["_weight"].to_numpy(float) > 0)
    counts = {w: int(inside[r].sum()) for w, r in S.rows.items()}
    none = [w for w, k in counts.items() if k == 0]
    if none:  # e.g. the region spelled otherwise in an earlier wave's data
        return NoTrends(f"{'、'.join(none)} 轮调查中没有{var}为“{region}”的受访者（请核对各轮该变量的取值），"
                        "无法比较各轮变化。")
    if min(counts.values()) < mc:
        return NoTrends(f"{region}在部分轮次的受访者少于 {mc} 人，不报告各轮变化（数据披露控制）。")
    return withhold_small(R, mc)


#: the last whole-wave stack of a process: a fan-out kernel renders region after region of the
#: same prepared waves, and each region is a view of it (:meth:`StackedWaves.within`)
_LAST_STACK: list = []


def _stacked_once(waves: list, h: Any, var: str, source: Path | None) -> "StackedWaves":
    """The waves stacked whole, reused while the prepared designs (the same objects), the
    harmonization file (path and modification time) and the region variable are the same."""
    designs = tuple(w.design for w in waves)
    sig = None if source is None else (str(source), Path(source).stat().st_mtime_ns, var)
    if sig is not None and _LAST_STACK:
        (old_designs, old_sig), S = _LAST_STACK[0]
        if old_sig == sig and len(old_designs) == len(designs) \
                and all(a is b for a, b in zip(old_designs, designs)):
            return S
    S = stack_waves({w.wave: w.design for w in waves}, h, keep=[var])
    if sig is not None:
        _LAST_STACK[:] = [((designs, sig), S)]
    return S


def withhold_small(S: "StackedWaves", min_cell: int) -> "StackedWaves":
    """*S* without the indicators some wave answered with fewer than *min_cell* respondents
    (in *S*'s domain), which are named in :attr:`~survey.trends.StackedWaves.withheld` (by
    label) for T5.1's notes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> from survey.trends import stack_waves
    >>> df = pd.DataFrame({"y": [1.0] * 12, "z": [1.0] * 3 + [np.nan] * 9, "c": np.arange(12) // 2})
    >>> S = withhold_small(stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df, psu="c")},
    ...                                indicators=["y", "z"]), 10)
    >>> S.indicators, S.withheld
    (['y'], ['z'])
    """
    import copy

    from ...trends import wave_estimates

    S, h = copy.copy(S), S.harmonization
    few = [i for i in S.indicators if int(wave_estimates(S, i)["n"].min()) < min_cell]
    S.indicators = [i for i in S.indicators if i not in few]
    S.withheld = [*S.withheld, *(h.indicator(i).label if h is not None else i for i in few)]
    return S


def _scale_range(meta: "Indicator | None") -> tuple[float, float] | None:
    """(min, max) of a scored scale indicator (``scores:`` or a label like ``（1–5）``), else None."""
    import re

    if meta is None:
        return None
    if meta.scores:
        v = [float(x) for x in meta.scores.values()]
        return min(v), max(v)
    m = re.search(r"[（(]\s*(\d+(?:\.\d+)?)\s*[–\-~～至]\s*(\d+(?:\.\d+)?)\s*(?:分)?\s*[）)]", meta.label)
    return (float(m.group(1)), float(m.group(2))) if m else None


def _unit_note(meta: "Indicator | None", kind: str) -> str:
    """How a reader should read the numbers of an indicator (its scale / unit)."""
    if kind == "proportion":
        return "百分比（%），变化为百分点"
    r = _scale_range(meta)
    if r is not None:
        return f"均值，{r[0]:g}–{r[1]:g} 分量表"
    return "均值"


def _digits_for(kind: str, meta: "Indicator | None", lo: Any, hi: Any) -> int:
    """Decimals of an indicator: percentages one; means enough that the change's CI shows two
    significant digits (at least two for a scored scale)."""
    if kind == "proportion":
        return 1
    return ci_digits(lo, hi, min_digits=2 if _scale_range(meta) is not None else 1)


def headline_table(stacked: "StackedWaves | NoTrends", *, table_id: str = "T5.1", level: float = 0.95,
                   ctx: Any = None):
    """Styled headline table of changes (a :class:`~survey.report.PublishedTable`); published
    into the report's workbook when *ctx* (a report context) is given.  A :class:`NoTrends`
    is returned as it is (its sentence is the section).

    Decimals are chosen per indicator (percentages one; means so that the interval of the change
    shows at least two significant digits, scale scores at least two); a change significant
    after Holm over the table's rows (:mod:`survey.multiplicity`) carries ``†``; the raw and
    adjusted p-values are shown.

    Examples
    --------
    >>> t = headline_table(trend_inputs())  # doctest: +SKIP
    """

    if isinstance(stacked, NoTrends):
        return stacked
    h = stacked.harmonization
    tab = trend_table(stacked, level=level)
    a, b = tab.attrs["compared"]
    # an indicator with a footnote (wording or coding changed) is marked ‡, as in the chart
    show = pd.DataFrame(index=pd.Index([f"{lab}{NOTE_MARK}" if fn else str(lab) for lab, fn in
                                        zip(tab["label"], tab["footnote"])], name="指标"))
    scale = np.where(tab["kind"] == "proportion", 100.0, 1.0)
    metas = [h.indicator(i) if h is not None else None for i in tab["indicator"]]
    dig = [_digits_for(k, m, lo, hi) for k, m, lo, hi in
           zip(tab["kind"], metas, tab["ci_low"] * scale, tab["ci_high"] * scale)]
    show["口径"] = [_unit_note(m, k) for m, k in zip(metas, tab["kind"])]
    for w in stacked.waves:
        show[wave_name(w)] = [fmt_num(v * sc, dg) for v, sc, dg in zip(tab[f"est_{w}"], scale, dig)]
    mark = "†"
    show["变化"] = [fmt_num(c * sc, dg, sign=True) + (mark if sig else "")
                  for c, sc, dg, sig in zip(tab["change"], scale, dig, tab["significant"])]
    ci = f"{int(round(level * 100))}%置信区间"
    show[ci] = [f"{fmt_num(lo * sc, dg)} 至 {fmt_num(hi * sc, dg)}" for lo, hi, sc, dg in
                zip(tab["ci_low"], tab["ci_high"], scale, dig)]
    show["p值"] = [fmt_p(p) for p in tab["p"]]
    show["校正后p值"] = [fmt_p(p) for p in tab["p_adj"]]
    fm = {c: "text" for c in show.columns}
    notes = [rule_note(int(np.isfinite(tab["p"].to_numpy(float)).sum()), 1 - level)
             + f"{ci}为未校正的逐项区间。",
             f"变化 = {wave_name(b)} − {wave_name(a)}；比例类指标以百分点表示，均值类以原单位或量表分值表示；标准误按各轮独立样本、"
             "各自的分层与站点（并按各轮自身总体边际校准）计算。",
             "各轮数据分别清理、按各自的总体边际加权（与各轮调查报告相同），按统一口径（harmonization.yml）"
             "重新编码后比较。"]
    for lab, fn in zip(tab["label"], tab["footnote"]):
        if fn:
            notes.append(f"{lab}{NOTE_MARK}：{fn}")
    if stacked.panel_psus:
        notes.append(f"{len(stacked.panel_psus)} 个站点在两轮中作为同一抽样单元（面板），其协方差已计入。")
    if stacked.domain is not None:
        notes.append(f"本表为{stacked.domain[1]}受访者的估计（各轮整体设计中的子总体估计）；多重比较校正在本表各行之内。"
                     + (f"某轮回答人数少于最小单元格的指标未列出：{'、'.join(stacked.withheld)}。"
                        if stacked.withheld else ""))
    # the Excel numbers: estimates, change and its interval at full precision (percent / units)
    sheet = pd.DataFrame({"指标": tab["label"].tolist(), "口径": show["口径"].tolist()})
    for w in stacked.waves:
        sheet[f"{wave_name(w)}估计值"] = tab[f"est_{w}"].to_numpy(float) * scale
        if f"se_{w}" in tab.columns:
            sheet[f"{wave_name(w)}标准误"] = tab[f"se_{w}"].to_numpy(float) * scale
    sheet["变化"] = tab["change"].to_numpy(float) * scale
    if "se" in tab.columns:
        sheet["变化的标准误"] = tab["se"].to_numpy(float) * scale
    sheet["置信区间下限"] = tab["ci_low"].to_numpy(float) * scale
    sheet["置信区间上限"] = tab["ci_high"].to_numpy(float) * scale
    sheet["p值"] = tab["p"].to_numpy(float)
    sheet["校正后p值"] = tab["p_adj"].to_numpy(float)
    sheet["校正后显著（†）"] = np.where(tab["significant"].to_numpy(bool), mark, "")
    sfm = {c: "est" for c in sheet.columns if c not in ("指标", "口径", "校正后显著（†）")}
    sfm.update({"p值": "pvalue", "校正后p值": "pvalue"})
    t = style_table(show, table_id, title=f"主要指标的变化（{wave_span(a, b)}）", formats=fm, notes=notes,
                    sheet=sheet, sheet_formats=sfm,
                    weighting="各轮分别加权（按各自的总体边际校准）；标准误按各轮的分层与站点设计计算")
    return publish(t, ctx) if ctx is not None else t


def _question_text(h: "Harmonization", qid: str) -> str:
    """The wording of a harmonised question (latest wave), shortened for a table."""
    import re

    hq = h.questions.get(qid) if h is not None else None
    texts = [t for t in (hq.wording.values() if hq is not None else []) if t]
    if not texts:
        return qid
    t = re.sub(r"^您(的|目前的|所在|目前|对)?", "", str(texts[-1]).strip()).rstrip("？?。:： ")
    return t if len(t) <= 30 else t[:29] + "…"


def _heading(text: str | None, body: Any) -> Any:
    if not text:
        return body
    return Bundle([H(f"<h3>{esc(text)}</h3>"), body])


def not_comparable_table(harmonization: "Harmonization | StackedWaves | NoTrends", *,
                         table_id: str = "T5.2", ctx: Any = None, heading: str | None = None):
    """Styled list of indicators that could not be compared, and why (published when *ctx* is
    given; nothing for :class:`NoTrends`).  The question is shown by its wording, not its id;
    *heading* (an ``<h3>``) is shown above the table only when there is one.

    Examples
    --------
    >>> t = not_comparable_table(Harmonization.load("questionnaires/harmonization.yml"))  # doctest: +SKIP
    """
    if isinstance(harmonization, NoTrends):
        return _Blank()
    h = harmonization.harmonization if isinstance(harmonization, StackedWaves) else harmonization
    nc = not_comparable(harmonization)
    if not len(nc):
        return _heading(heading, H("<p>harmonization.yml 中的全部指标均可跨轮比较。</p>"))
    show = pd.DataFrame({"指标": nc["label"].tolist(),
                         "问题": [_question_text(h, x) for x in nc["question"]],
                         "原因": nc["reason"].tolist()})
    t = style_table(show, table_id, title="无法跨轮比较的指标", index=False,
                    formats={"指标": "text", "问题": "text", "原因": "text"})
    return _heading(heading, publish(t, ctx) if ctx is not None else t)


def plot_trends(stacked: StackedWaves, indicators: Sequence[str] | None = None, *,
                level: float = 0.95, ncols: int = 3, figure: bool = False, heading: str | None = None):
    """Small multiples: one panel per indicator, the wave estimates with confidence intervals.

    The y-axis starts at a meaningful baseline (0 for percentages and amounts, the lowest score
    of a scale) so that small changes are not magnified; each panel states its scale and the
    change with its confidence interval.

    Returns a :class:`~survey.report.FigureOutput` (rendered once, closed; under an ``<h3>``
    *heading* when given), or the matplotlib figure with ``figure=True``.

    Examples
    --------
    >>> fig = plot_trends(trend_inputs(), figure=True)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if isinstance(stacked, NoTrends):
        return _Blank()
    use_theme()
    inds = list(stacked.indicators if indicators is None else indicators)
    h = stacked.harmonization
    k = len(inds)
    nc = max(1, min(ncols, k))
    nr = int(np.ceil(k / nc))
    fig, axes = plt.subplots(nr, nc, figsize=(3.3 * nc, 2.9 * nr), squeeze=False)
    waves = stacked.waves
    x = np.arange(len(waves))
    # significance as in the headline table: Holm over every indicator of the stacked waves
    tab = trend_table(stacked, level=level).set_index("indicator")
    for ax, ind in zip(axes.ravel(), inds):
        v = wave_estimates(stacked, ind, level=level)
        meta = h.indicator(ind) if h is not None else None
        prop = bool(meta and meta.kind == "proportion")
        f = 100.0 if prop else 1.0
        est = v["estimate"].to_numpy() * f
        lo, hi = v["ci_low"].to_numpy() * f, v["ci_high"].to_numpy() * f
        ch = tab.loc[[ind]]
        sig = bool(ch["significant"].iloc[0])
        col = PALETTE[3] if sig else PALETTE[0]
        c, clo, chi = (float(ch[n].iloc[0]) * f for n in ("change", "ci_low", "ci_high"))
        dg = _digits_for("proportion" if prop else "mean", meta, clo, chi)
        ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o-", color=col, capsize=3)
        for xi, e in zip(x, est):
            ax.annotate(fmt_num(e, dg), (xi, e), textcoords="offset points", xytext=(0, 7),
                        fontsize=8, ha="center", va="bottom", color="#333333")
        ax.set_xticks(x, [f"{w}" for w in waves])
        rng = _scale_range(meta)
        top = float(np.nanmax(hi))
        if prop:  # baseline 0, room above; never beyond 100
            y0, y1 = 0.0, min(100.0, max(top * 1.25, 10.0))
            unit = "%"
        elif rng is not None:  # the whole scale
            y0, y1 = rng
            unit = f"{rng[0]:g}–{rng[1]:g} 分"
        else:  # amounts: baseline 0
            y0, y1 = min(0.0, float(np.nanmin(lo))), top * 1.25
            unit = "均值"
        ax.set_ylim(y0, y1)
        title = (meta.label if meta else ind)
        if meta and meta.footnotes:
            title += f" {NOTE_MARK}"  # not "*": on every page "*" means an unreliable estimate
        ax.set_title(title, fontsize=10)
        u = "个百分点" if prop else ""
        ax.text(0.5, 0.04, f"变化 {fmt_num(c, dg, sign=True)}{u}（{fmt_num(clo, dg)} 至 {fmt_num(chi, dg)}）"
                + ("†" if sig else ""), transform=ax.transAxes, ha="center", va="bottom", fontsize=8,
                color=col)
        ax.set_ylabel(unit, fontsize=8)
        ax.margins(x=0.3)
    for ax in axes.ravel()[k:]:
        ax.set_visible(False)
    fig.suptitle(f"各轮估计值与 {int(level * 100)}% 置信区间（纵轴从 0 或量表最低分开始；"
                 f"橙色与 †：Holm 校正后变化显著；{NOTE_MARK}：口径或题目措辞有变化，见表注）", fontsize=10)
    fig.tight_layout()
    if figure:
        return fig
    return _heading(heading, FigureOutput(fig))  # drawn once, cropped
