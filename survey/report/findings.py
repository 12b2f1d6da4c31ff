"""主要发现: the executive summary at the top of ``index.html`` and of the survey report.

Every sentence is generated from a statistic a page of the report already tests and
publishes, and links to that table.  The guardrails:

* a difference or a change is stated only when it survives the page's multiplicity rule
  (:mod:`survey.multiplicity`: Holm within the table's family — T5.1, PP4, PP8 — or, for the
  survey report's 值得关注的差异, the Bonferroni bound over every pairwise comparison that could
  have been chosen, the rule that list is published under), and always with its confidence
  interval ("（95%置信区间 …）");
* the word 显著 is never used (it reads as "large" to a lay reader); a surviving change smaller
  than the minimum detectable effect (80% power) is called 小幅 and said to need confirming;
* a change that does not survive is either left out or written "未检测到变化（变化 x，95%置信区间 …）";
* suppressed or unreliable cells never appear; no question id or English, only the
  questionnaire's wording.

Each notebook computes its own findings (:func:`survey_findings`, :func:`painpoint_findings`,
:func:`trend_findings`: plain frames, one row per sentence) and :func:`save_findings` writes
them to ``<output_dir>/.findings/<notebook>.json``; the runner reads them all
(:func:`collect_findings`) and puts them at the top of ``index.html`` (:func:`findings_html`),
so nothing is prepared or estimated twice.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"indicator": ["h"], "label": ["周工作时间（小时）"], "kind": ["mean"],
...                   "est_2023": [48.9], "est_2024": [47.1], "change": [-1.8], "se": [0.1],
...                   "ci_low": [-2.0], "ci_high": [-1.6], "p": [1e-9], "p_adj": [1e-9],
...                   "significant": [True], "footnote": [""]})
>>> t.attrs["compared"] = ["2023", "2024"]
>>> trend_findings(t)["text"].iloc[0]
'与2023年相比，周工作时间下降 1.80 小时（95%置信区间 -2.00 至 -1.60；经多重比较校正后有统计学意义）。'
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..labels import wave_name
from .format import ci_digits, fmt_num

__all__ = ["COLUMNS", "FINDINGS_DIRNAME", "survey_findings", "painpoint_findings", "policy_verdict_phrase", "trend_findings",
           "save_findings", "collect_findings", "findings_html", "index_findings", "section_findings",
           "findings_table", "write_findings_table", "FINDINGS_SHEET"]

#: One row per sentence.
COLUMNS = ["page", "table", "kind", "text", "estimate", "ci_low", "ci_high", "p_adj"]
#: Folder under the report's output folder holding each notebook's findings (removed by the runner).
FINDINGS_DIRNAME = ".findings"
_POWER = 0.8
#: The workbook sheet of the findings (first after the contents).
FINDINGS_SHEET = "主要发现"
_PAGES = {"survey_report": "调查报告", "painpoints": "急难愁盼", "trends": "变化趋势"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def _lvl(level: float) -> str:
    return f"{level * 100:.0f}%置信区间"


def _strip_unit(label: str, unit: str) -> str:
    """"周工作时间（小时）" → "周工作时间" when the unit is said after the number."""
    for suf in (f"（{unit}）", f"({unit})"):
        if unit and label.endswith(suf):
            return label[: -len(suf)]
    return label


def _mde(change: float, ci_high: float, se: float) -> float:
    """Minimum detectable change (two-sided test at the CI's level, 80% power):
    ``(t + z_0.8) × se``, with ``t`` read off the interval (half-width / se)."""
    return float(ci_high - change) + float(stats.norm.ppf(_POWER)) * float(se)


# ------------------------------------------------------------------------------ trends (T5.1)
def trend_findings(tab: Any, *, table: str = "T5.1", page: str = "trends",
                   level: float = 0.95, top: int = 2) -> pd.DataFrame:
    """Sentences from :func:`survey.trends.trend_table` (the rows of T5.1, one Holm family).

    Up to *top* changes that survive Holm (``significant``), largest standardised change first,
    each with its interval; a surviving change smaller than its minimum detectable change is
    called 小幅 and said to need the next wave; one sentence counts the rest and names the
    indicators with no detectable change (no numbers).
    """
    if hasattr(tab, "indicators") and hasattr(tab, "harmonization"):  # the trends page's StackedWaves
        from ..trends import trend_table

        tab = trend_table(tab, level=level)
    if not isinstance(tab, pd.DataFrame) or not len(tab):  # e.g. NoTrends: no earlier wave
        return _frame([])
    a, b = tab.attrs.get("compared", ["上一轮", "本轮"])
    rows = []
    sig = tab[tab["significant"].to_numpy(bool)].copy()
    sig["_z"] = (sig["change"] / sig["se"]).abs()
    sig = sig.sort_values("_z", ascending=False)
    for r in sig.head(top).itertuples():
        pct = r.kind == "proportion"
        sc = 100.0 if pct else 1.0
        dg = 1 if pct else ci_digits(r.ci_low, r.ci_high, min_digits=2)
        unit = "个百分点" if pct else ""
        label = str(r.label)
        label = label.rstrip("‡")
        if not pct:
            m = re.search(r"（(\d+(?:\.\d+)?)[–-](\d+(?:\.\d+)?)）$", label)
            if m:  # a scale score: "总体工作满意度（1–5）" → "总体工作满意度（1–5 分）" … "0.196 分"
                unit, label = "分", label[: m.start()] + f"（{m.group(1)}–{m.group(2)} 分）"
            for u in ("小时", "天", "分钟", "分", "项", "次", "元", "万元"):
                if label.endswith(f"（{u}）"):
                    unit, label = u, _strip_unit(label, u)
                    break
        word = "上升" if r.change > 0 else "下降"
        small = abs(r.change) < _mde(r.change, r.ci_high, r.se)
        txt = (f"与{wave_name(a)}相比，{label}{'小幅' if small else ''}{word} {fmt_num(abs(r.change) * sc, dg)}"
               f"{' ' + unit if unit else ''}"
               f"（{_lvl(level)} {fmt_num(r.ci_low * sc, dg)} 至 {fmt_num(r.ci_high * sc, dg)}；"
               "经多重比较校正后有统计学意义"
               + ("，但小于本次数据可稳定检出的最小变化，有待下一轮数据确认" if small else "") + "）。")
        rows.append({"page": page, "table": table, "kind": "change", "text": txt,
                     "estimate": r.change * sc, "ci_low": r.ci_low * sc, "ci_high": r.ci_high * sc,
                     "p_adj": r.p_adj})
    rest = len(sig) - min(len(sig), top)
    none = [str(x).rstrip("‡") for x in tab.loc[~tab["significant"].to_numpy(bool), "label"]]
    if rest or none:
        parts = []
        if rest:
            parts.append(f"另有 {rest} 项指标的变化经校正后亦有统计学意义")
        if none:
            parts.append("、".join(none) + "经多重比较校正后未检测到变化")
        rows.append({"page": page, "table": table, "kind": "no_change", "text": "；".join(parts) + "。",
                     "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_adj": np.nan})
    return _frame(rows)


# ------------------------------------------------------------------------------ painpoints (PP*)
def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _pp(x: float) -> str:
    return fmt_num(x * 100, 1)


def policy_verdict_phrase(r: Any, level: float = 0.95) -> str:
    """One measure's verdict on one target item, in the wording every page and the 专报 share.

    *r* is a row of ``PolicyBrief.policies`` (``item, verdict, verdict_zh, before_wave,
    after_wave, change_target, change_target_low, change_target_high, mde_target``).

    Examples
    --------
    >>> import types
    >>> r = types.SimpleNamespace(item="住房困难", verdict="no detectable change", verdict_zh="未检测到变化",
    ...     before_wave="2023", after_wave="2024", change_target=0.01, change_target_low=-0.01,
    ...     change_target_high=0.03, mde_target=0.029)
    >>> policy_verdict_phrase(r)
    '“住房困难”未检测到变化（2023→2024年，目标群体变化 +1.0 个百分点，95%置信区间 -1.0 至 3.0；可检出的最小变化约 2.9 个百分点）'
    """
    L = _lvl(level)
    wv = (f"{r.before_wave}→{wave_name(r.after_wave)}，" if isinstance(getattr(r, "before_wave", None), str)
          else "")
    ci = f"{L} {_pp(r.change_target_low)} 至 {_pp(r.change_target_high)}"
    if r.verdict in ("improved", "worse"):
        return (f"“{r.item}”{r.verdict_zh}（{wv}目标群体变化 "
                f"{fmt_num(r.change_target * 100, 1, sign=True)} 个百分点，{ci}）")
    if r.verdict == "no detectable change":
        return (f"“{r.item}”未检测到变化（{wv}目标群体变化 "
                f"{fmt_num(r.change_target * 100, 1, sign=True)} 个百分点，{ci}；"
                f"可检出的最小变化约 {_pp(r.mde_target)} 个百分点）")
    if r.verdict == "insufficient data":
        return f"“{r.item}”目标群体样本不足，不作判断"
    return f"“{r.item}”未评估"


def painpoint_findings(brief: Any, *, page: str = "painpoints", top: int = 3,
                       max_groups: int | None = None) -> pd.DataFrame:
    """Sentences from the 急难愁盼 brief (:class:`~survey.painpoints.PolicyBrief`).

    The leading *top* items (PP1, unsuppressed) with their intervals; the *max_groups* largest
    group differences surviving the page's Holm family (PP4); the changes since the previous
    wave surviving Holm (PP8), else "未检测到变化" with the leading items' changes and
    intervals; each measure's verdict item by item with the compared waves, interval and
    minimum detectable change (PP9).  *max_groups* defaults to 1, or 3 for a wave with no
    earlier wave (no change or policy sentences then take the room).
    """
    s = getattr(brief, "summary", None)
    if not isinstance(s, pd.DataFrame) or not len(s):
        return _frame([])
    level = float(getattr(brief, "level", 0.95))
    L = _lvl(level)
    names = dict(getattr(brief, "names", None) or {})
    rows: list[dict] = []
    ok = s[~s["suppressed"].to_numpy(bool)].sort_values("rank")
    lead = ok.head(top)
    if len(lead):
        parts = [f"“{r.item}”（{_pct(r.pct_top)}，{L} {_pct(r.pct_top_low)}–{_pct(r.pct_top_high)}）"
                 for r in lead.itertuples()]
        txt = ("科技工作者最急需解决的问题中，被选入前三位比例最高的是" + parts[0]
               + ("，其次是" + "、".join(parts[1:]) if len(parts) > 1 else "") + "。")
        r0 = lead.iloc[0]
        rows.append({"page": page, "table": "PP1", "kind": "painpoint", "text": txt,
                     "estimate": r0["pct_top"] * 100, "ci_low": r0["pct_top_low"] * 100,
                     "ci_high": r0["pct_top_high"] * 100, "p_adj": np.nan})
    if max_groups is None:
        max_groups = 1 if isinstance(getattr(brief, "changes", None), pd.DataFrame) else 3
    d = getattr(brief, "differences", None)
    if isinstance(d, pd.DataFrame) and len(d) and "significant" in d.columns:
        sig = d[d["significant"].to_numpy(bool) & ~d["suppressed"].to_numpy(bool)
                & (d["diff"].to_numpy(float) > 0)]
        for r in sig.sort_values("diff", ascending=False).head(max_groups).itertuples():
            g = names.get(str(r.variable), "")
            who = f"{g}为“{r.level}”的科技工作者" if g else f"“{r.level}”群体"
            rows.append({"page": page, "table": "PP4", "kind": "difference",
                         "text": f"{who}选择“{r.item}”的比例为 {_pct(r.est_group)}，比其他人（{_pct(r.est_rest)}）"
                                 f"高 {_pp(r.diff)} 个百分点（{L} {_pp(r.ci_low)} 至 {_pp(r.ci_high)}；"
                                 "经多重比较校正后有统计学意义）。",
                         "estimate": r.diff * 100, "ci_low": r.ci_low * 100, "ci_high": r.ci_high * 100,
                         "p_adj": r.p_adj})
    c = getattr(brief, "changes", None)
    prev = getattr(brief, "previous_wave", None)
    if isinstance(c, pd.DataFrame) and len(c):
        live = c[~c["suppressed"].to_numpy(bool)]
        sig = live[live["significant"].to_numpy(bool)]
        for r in sig.itertuples():
            small = abs(r.change) < float(r.mde)
            word = "上升" if r.change > 0 else "下降"
            rows.append({"page": page, "table": "PP8", "kind": "change",
                         "text": f"与{wave_name(prev)}相比，选择“{r.item}”的比例{'小幅' if small else ''}{word} "
                                 f"{_pp(abs(r.change))} 个百分点（{L} {_pp(r.ci_low)} 至 {_pp(r.ci_high)}；"
                                 "经多重比较校正后有统计学意义"
                                 + (f"，但小于本次数据可稳定检出的最小变化 {_pp(r.mde)} 个百分点，有待下一轮数据确认"
                                    if small else "") + "）。",
                         "estimate": r.change * 100, "ci_low": r.ci_low * 100, "ci_high": r.ci_high * 100,
                         "p_adj": r.p_adj})
        flat = live[~live["significant"].to_numpy(bool) & live["item"].isin(list(lead["item"]))]
        if len(flat):
            parts = [f"“{r.item}”（变化 {fmt_num(r.change * 100, 1, sign=True)} 个百分点，"
                     f"{L} {_pp(r.ci_low)} 至 {_pp(r.ci_high)}）" for r in flat.itertuples()]
            rows.append({"page": page, "table": "PP8", "kind": "no_change",
                         "text": f"与{wave_name(prev)}相比，" + "、".join(parts) + "的选择比例经多重比较校正后未检测到变化。",
                         "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_adj": np.nan})
    ev = getattr(brief, "policies", None)
    if isinstance(ev, pd.DataFrame) and len(ev):
        for pol, g in ev.groupby("policy", sort=False):
            parts = [policy_verdict_phrase(r, level) for r in g.itertuples()]
            office = str(g["office"].iloc[0]) if "office" in g.columns else ""
            rows.append({"page": page, "table": "PP9", "kind": "policy",
                         "text": f"政策措施“{pol}”" + (f"（{office}）" if office else "") + "："
                                 + "；".join(parts) + "。",
                         "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_adj": np.nan})
    return _frame(rows)


# ------------------------------------------------------------------------------ survey report (T3, T4)
def _indicator_rows(ctx: Any, qids: list[str], page: str, level: float) -> list[dict]:
    """One sentence per question: a mean with its interval, or a single-choice question's most
    chosen answer with its share (unsuppressed, reliable cells only), linked to its T3 table."""
    from .content._util import est_cells, prefix
    from .content.indicators import indicator_digits, indicator_estimates, indicator_questions
    from .content.quality import short_label

    q = ctx.questionnaire
    mods = list(indicator_questions(q, ctx.design.data.columns).items())
    where = {x.id: k for k, (_, xs) in enumerate(mods, start=1) for x in xs}
    mc = int(ctx.params.get("min_cell", 10))
    rows = []
    for qid in qids:
        if qid not in where:
            continue
        est = indicator_estimates(ctx, [qid])
        if not isinstance(est, pd.DataFrame) or not len(est):
            continue
        _, supp, unrel = est_cells(est, proportion=False, min_cell=mc)
        dig = indicator_digits(est)
        est = est.assign(_bad=supp.to_numpy(bool) | unrel.to_numpy(bool), _dg=dig)
        est = est[~est["_bad"]]
        if not len(est):
            continue
        lab = short_label(q, qid)
        tid = f"{prefix(ctx)}3.{where[qid]}"
        kinds = set(est["kind"])
        if kinds == {"mean"}:
            r = est.iloc[0]
            unit = str(r["unit"] or "")
            u = "" if unit in ("", "%") else f" {unit}"
            val = f"{fmt_num(r['estimate'], r['_dg'])}{'%' if unit == '%' else u}"
            txt = (f"“{_strip_unit(lab, unit)}”的平均值为 {val}（{_lvl(level)} {fmt_num(r['ci_low'], r['_dg'])}–"
                   f"{fmt_num(r['ci_high'], r['_dg'])}）。")
            e, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
        elif kinds == {"pct"} and q[qid].type == "single":
            r = est.sort_values("estimate", ascending=False).iloc[0]
            txt = (f"对“{lab}”，回答“{r['item']}”的最多，占 {r['estimate'] * 100:.1f}%"
                   f"（{_lvl(level)} {r['ci_low'] * 100:.1f}%–{r['ci_high'] * 100:.1f}%）。")
            e, lo, hi = r["estimate"] * 100, r["ci_low"] * 100, r["ci_high"] * 100
        else:
            continue
        rows.append({"page": page, "table": tid, "kind": "indicator", "text": txt, "estimate": e,
                     "ci_low": lo, "ci_high": hi, "p_adj": np.nan})
    return rows


def survey_findings(ctx: Any, *, page: str = "survey_report", indicators: int = 1,
                    differences: int = 1) -> pd.DataFrame:
    """Sentences from the survey report's own tables.

    The questionnaire's roles choose the indicators: ``report.outcome`` first, then up to
    *indicators* of ``report.key_indicators`` (else the mean-type questions — numeric,
    duration — in questionnaire order), each with its interval (table T3.k).  Then the
    *differences* largest group differences of 值得关注的差异 that pass that list's rule
    (:func:`~survey.report.content.indicators.mean_differences`: Bonferroni over every pairwise
    comparison that could have been chosen), each with its interval (table T4.k of its group).
    """
    from .content._util import prefix
    from .content.indicators import indicator_questions, mean_differences, subgroup_estimates, subgroup_groups

    if ctx.prepared is None:
        return _frame([])
    q = ctx.questionnaire
    level = float(ctx.params.get("confidence", 0.95))
    roles = q.report
    cols = ctx.design.data.columns
    mods = indicator_questions(q, cols)
    present = [x for xs in mods.values() for x in xs]
    chosen = [x.id for x in present if roles.key_indicators is not None and x.id in roles.key_indicators]
    if roles.key_indicators is None:
        chosen = [x.id for x in present if x.type in ("numeric", "duration")]
    qids = ([roles.outcome] if roles.outcome is not None else []) + [x for x in chosen if x != roles.outcome][:indicators]
    rows = _indicator_rows(ctx, qids, page, level)
    groups = subgroup_groups(ctx)
    if groups and differences:
        ests = [subgroup_estimates(ctx, g) for g in groups]
        D = mean_differences(ctx, ests)
        D = D[D["significant"].to_numpy(bool)].sort_values(["rel", "p"], ascending=[False, True])
        D = D.drop_duplicates("variable").head(differences)  # one sentence per indicator
        tid = {g: f"{prefix(ctx)}4.{k}" for k, g in enumerate(groups, start=1)}
        from .content.quality import short_label

        for r in D.itertuples():
            unit = str(r.unit or "")
            u = " 个百分点" if unit == "%" else (f" {unit}" if unit else "")
            v = "%" if unit == "%" else (f" {unit}" if unit else "")
            dg = int(r.digits)
            lab = _strip_unit(str(r.label), unit)
            txt = (f"按{short_label(q, r.group)}比较，“{lab}”以“{r.high}”最高（{fmt_num(r.est_high, dg)}{v}），"
                   f"“{r.low}”最低（{fmt_num(r.est_low, dg)}{v}），相差 {fmt_num(r.diff, dg)}{u}"
                   f"（{_lvl(level)} {fmt_num(r.ci_low, dg)} 至 {fmt_num(r.ci_high, dg)}；经多重比较校正后有统计学意义）。")
            rows.append({"page": page, "table": tid[r.group], "kind": "difference", "text": txt,
                         "estimate": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_adj": r.p * r.m})
    return _frame(rows)


# ------------------------------------------------------------------------------ storage and HTML
def save_findings(ctx: Any, frame: pd.DataFrame) -> Path | None:
    """Write *frame* to ``<output_dir>/.findings/<notebook>.json`` for the index page.

    Examples
    --------
    >>> import tempfile, types
    >>> ctx = types.SimpleNamespace(params={"output_dir": tempfile.mkdtemp()}, notebook="trends")
    >>> save_findings(ctx, _frame([])).name
    'trends.json'
    >>> collect_findings(ctx.params["output_dir"], ["trends"]).shape
    (0, 8)
    >>> save_findings(ctx, _frame([])).name
    'trends.json'
    """
    out = Path(ctx.params.get("output_dir") or "reports") / FINDINGS_DIRNAME
    out.mkdir(parents=True, exist_ok=True)
    p = out / f"{ctx.notebook}.json"
    recs = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
            for r in frame[COLUMNS].to_dict("records")]
    p.write_text(json.dumps(recs, ensure_ascii=False, default=float), encoding="utf-8")
    return p


def collect_findings(output_dir: str | Path, notebooks: list[str]) -> pd.DataFrame:
    """The findings the notebooks saved (:func:`save_findings`), in report order."""
    d = Path(output_dir) / FINDINGS_DIRNAME
    frames = []
    for nb in notebooks:
        p = d / f"{nb}.json"
        if p.is_file():
            frames.append(pd.DataFrame(json.loads(p.read_text(encoding="utf-8")), columns=COLUMNS))
    return pd.concat(frames, ignore_index=True) if frames else _frame([])


def findings_html(frame: pd.DataFrame, *, here: str | None = None, heading: str = "主要发现",
                  intro: str = "") -> str:
    """An ordered list of the sentences, each followed by a link to its table
    (``painpoints.html#PP4``; on the page *here* itself just ``#PP4``).

    Examples
    --------
    >>> f = _frame([{"page": "trends", "table": "T5.1", "kind": "x", "text": "甲。"}])
    >>> 'href="trends.html#T5.1"' in findings_html(f)
    True
    """
    if not len(frame):
        return ""
    items = []
    for r in frame.itertuples():
        href = f"#{r.table}" if r.page == here else f"{r.page}.html#{r.table}"
        items.append(f'<li>{html.escape(str(r.text))} <a class="finding-link" href="{html.escape(href)}">'
                     f"见表 {html.escape(str(r.table))}</a></li>")
    head = f'<h2 id="findings">{html.escape(heading)}</h2>' if heading else ""
    return (f'{head}{f"<p>{html.escape(intro)}</p>" if intro else ""}'
            f'<ol class="findings">{"".join(items)}</ol>')


def section_findings(ctx: Any) -> Any:
    """The survey report's 主要发现 (its first section): :func:`survey_findings`, shown with
    links to the tables below and saved for the index page."""
    from .content._util import H, no_design

    nd = no_design(ctx)
    if nd is not None:
        return nd
    f = survey_findings(ctx, indicators=2, differences=3)
    # the index takes the outcome, one indicator and the largest difference (8–12 sentences in all)
    save_findings(ctx, pd.concat([f[f["kind"] == "indicator"].head(2), f[f["kind"] == "difference"].head(1)]))
    note = ("以下各条均来自本报告中已检验的统计量：差异只列出经多重比较校正后仍有统计学意义的，并给出置信区间。"
            "急难愁盼、政策成效与各轮变化的主要发现见报告首页。")
    if not len(f):
        return H(f"<p>{html.escape(note)}</p><p>本报告没有可列出的主要发现。</p>")
    return H(findings_html(f, here=ctx.notebook, heading="", intro=note))


def index_findings(output_dir: str | Path, notebooks: list[str]) -> str:
    """The 主要发现 block of ``index.html``: every notebook's saved findings, in report order
    ("" when none was saved, e.g. a run of the quality notebook only)."""
    f = collect_findings(output_dir, notebooks)
    if not len(f):
        return ""
    return findings_html(f, intro="以下各条均来自报告中已检验的统计量：差异与变化只列出经多重比较校正后仍有统计学意义的，"
                                  "并给出未校正的逐项置信区间；“未检测到变化”表示校正后不能排除抽样误差。点击“见表”查看所依据的表格。")


def findings_table(frame: pd.DataFrame):
    """The findings as a table for ``tables.xlsx`` (sheet 主要发现): the sentence, its page and
    table, and the numbers it states (estimate, interval, adjusted p) stored as numbers.

    Examples
    --------
    >>> f = _frame([{"page": "trends", "table": "T5.1", "kind": "change", "text": "甲。",
    ...              "estimate": -1.8, "ci_low": -2.0, "ci_high": -1.6, "p_adj": 1e-6}])
    >>> t = findings_table(f)
    >>> t.sheet_title, t.to_record()["sheet"]["data"][0][4:]
    ('主要发现', [-1.8, -2.0, -1.6, 1e-06])
    """
    import dataclasses

    from .format import style_table

    f = frame.reset_index(drop=True)
    num = {c: pd.to_numeric(f[c], errors="coerce").to_numpy(float) for c in ("estimate", "ci_low", "ci_high", "p_adj")}
    show = pd.DataFrame({"主要发现": f["text"].astype(str).to_numpy(), "所依据的表": f["table"].astype(str).to_numpy()},
                        index=pd.Index(np.arange(1, len(f) + 1), name="序号"))
    sheet = pd.DataFrame({"序号": np.arange(1, len(f) + 1), "主要发现": f["text"].astype(str).to_numpy(),
                          "所在报告": [_PAGES.get(str(p), str(p)) for p in f["page"]],
                          "所依据的表": f["table"].astype(str).to_numpy(),
                          "估计值": num["estimate"], "置信区间下限": num["ci_low"], "置信区间上限": num["ci_high"],
                          "校正后p值": num["p_adj"]})
    t = style_table(show, "F1", title="主要发现", formats={"主要发现": "text", "所依据的表": "text"},
                    notes=["估计值与置信区间的单位见句中（比例与变化以百分点计，均值以题目的单位计）；"
                           "未列数值的句子只作说明（如未检测到变化的指标）。"],
                    sheet=sheet, sheet_formats={"序号": "int", "估计值": "est", "置信区间下限": "est",
                                                "置信区间上限": "est", "校正后p值": "pvalue"},
                    multiplicity="差异与变化只列出按所在表的规则（Holm，值得关注的差异为 Bonferroni）校正后仍有统计学意义的",
                    weighting="加权估计（同所依据的表）")
    return dataclasses.replace(t, sheet_title=FINDINGS_SHEET)


def write_findings_table(tables_root: str | Path, frame: pd.DataFrame, folder: str = "findings") -> Path | None:
    """Write :func:`findings_table` where the workbook collects tables
    (``<tables_root>/<folder>/001_F1.json``); None when there are no findings."""
    if not len(frame):
        return None
    rec = findings_table(frame).to_record()
    rec["notebook"] = folder
    d = Path(tables_root) / folder
    d.mkdir(parents=True, exist_ok=True)
    p = d / "001_F1.json"
    p.write_text(json.dumps(rec, ensure_ascii=False, indent=0, default=str), encoding="utf-8")
    return p
