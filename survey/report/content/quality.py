"""Cleaning and weighting diagnostics (the analysts' quality report; short weighting text for
the published report).

Examples
--------
>>> RULE_LABELS["speeders"]
'作答过快'
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...labels import column_label, question_label, short_label
from ..disclosure import suppress_table
from ..format import fmt_count
from ._util import Bundle, H, esc, no_design, prefix, publish_estimates

__all__ = ["RULE_LABELS", "REASON_LABELS", "short_label", "column_label", "question_label", "fmt_convergence",
           "cleaning", "weighting", "weighting_short", "asked_nonresponse", "NOT_APPLICABLE"]

#: calibration methods (``WeightingReport.method``) as the report names them
CALIBRATION_ZH = {"rake": "迭代比例调整", "raking": "迭代比例调整", "linear": "线性校准", "logit": "有界 logit 校准"}

RULE_LABELS = {
    "missing_codes": "缺失编码（不知道/拒答）置空", "out_of_range": "超出有效范围", "rank_invalid": "排序题无效",
    "multi_cap": "多选超过上限", "other_empty": "“其他”未填写", "skip_logic": "违反跳转逻辑",
    "junk_text": "无意义文本", "duplicate_id": "重复编号", "duplicate_answers": "重复提交（答案相同）",
    "duplicate_contact": "重复提交（同一联系方式）", "speeders": "作答过快", "attention": "注意力检测未通过",
    "straightlining": "矩阵题直线作答", "reversed_items": "反向题矛盾作答", "checks": "自定义核查",
    "total": "合计",
}
REASON_LABELS = {"skipped": "逻辑跳过", "blank": "未作答", "not_chosen": "未选择", "dont_know": "不知道",
                 "refused": "拒答", "missing_code": "缺失编码", "invalid": "无效值", "out_of_range": "超出范围"}
ACTION_LABELS = {"drop": "剔除记录", "blank": "置空", "flag": "标记"}


def fmt_convergence(converged: bool, max_rel_error: float, iterations: int | None = None) -> str:
    """Raking convergence in plain words (no scientific notation).

    Examples
    --------
    >>> fmt_convergence(True, 4.9e-11, 7)
    '已收敛（迭代 7 次；各边际最大相对误差 < 0.0001%）'
    >>> fmt_convergence(False, 0.0123)
    '未收敛（各边际最大相对误差 1.23%）'
    """
    it = f"迭代 {int(iterations)} 次；" if iterations is not None else ""
    return f"{'已收敛' if converged else '未收敛'}（{it}各边际最大相对误差 {_rel_pct(max_rel_error)}）"


def _rel_pct(v: Any) -> str:
    """A relative error as a percentage a reader can read: ``< 0.0001%`` when tiny."""
    try:
        x = abs(float(v)) * 100
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(x):
        return "—"
    if x < 1e-4:
        return "< 0.0001%"
    if x < 0.01:
        return f"{x:.4f}%"
    return f"{x:.2f}%"


def _margin_label(q: Any, m: str) -> str:
    return " × ".join(short_label(q, v.strip()) for v in str(m).split("×"))


# --------------------------------------------------------------------------------- cleaning
#: Mark of a table cell that cannot occur (a nonresponse reason the question cannot have):
#: distinct from a zero ("0") and from a suppressed count ("—").
NOT_APPLICABLE = "／"


def _reason_possible(q: Any, qid: str, reason: str) -> bool:
    """Can respondents be missing on question *qid* for *reason* (a missing-frame reason)?

    Missing-code reasons need a code with that label; rule reasons need the feature the rule
    checks (a range, a cap, an ``ask_if`` ...).  Unknown reasons count as possible.

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...   {"id": "h", "text": "H", "type": "numeric", "range": [0, 112], "missing_codes": {}},
    ...   {"id": "s", "text": "S", "type": "single", "options": {1: "a"}, "missing_codes": {99: "拒答"}}]})
    >>> _reason_possible(q, "h", "refused"), _reason_possible(q, "s", "refused"), _reason_possible(q, "h", "blank")
    (False, True, True)
    """
    from ...io.missing import CODED_REASONS, reason_for_label

    try:
        qu = q[qid]
    except (KeyError, TypeError, AttributeError):
        return True
    if reason in CODED_REASONS:
        return reason in {reason_for_label(lab) for lab in (qu.missing or {}).values()}
    rules = {"missing_codes": bool(qu.missing), "out_of_range": qu.range is not None,
             "rank_invalid": qu.type == "rank", "not_chosen": qu.type in ("multi", "rank"),
             "multi_cap": qu.type == "multi" and qu.max_choices is not None,
             "skipped": qu.ask_if is not None, "skip_logic": qu.ask_if is not None,
             "other_empty": qu.other is not None,
             "straightlining": qu.type in ("matrix", "likert"),
             "reversed_items": qu.type == "likert" and bool(qu.reversed)}
    return bool(rules.get(reason, True))


def asked_nonresponse(frame: pd.DataFrame, q: Any) -> pd.DataFrame:
    """Item nonresponse among the respondents who were asked, per item (not per column).

    An item is a question for ``multi``/``rank`` (unanswered = every option column empty) and a
    column otherwise (a ``single``/``numeric``/... question, one row of a matrix).  The base is
    the respondents the question's ``ask_if`` selects; missing is an empty cell or a missing
    code (不知道/拒答, still a value before cleaning).  Structural blanks are not nonresponse and
    are left out: unchosen rank/multi options, the "其他（请注明）" text fields (``*_other``),
    cells of respondents not asked, and free-text (``text``) questions, which are voluntary.

    Returns
    -------
    DataFrame
        ``item, question, n_asked, n_missing, rate`` (rate = n_missing / n_asked), sorted by
        rate, highest first.

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...   {"id": "a", "text": "A", "type": "single", "options": {1: "是", 2: "否"}},
    ...   {"id": "r", "text": "R", "type": "rank", "k": 1, "options": {1: "x", 2: "y", 3: "z"}},
    ...   {"id": "b", "text": "B", "type": "numeric", "ask_if": "a == 1"}]})
    >>> f = pd.DataFrame({"a": pd.Categorical(["是", "否", "是", "是"], categories=["是", "否"]),
    ...                   "r_1": pd.array([1, None, None, None], dtype="Int64"),
    ...                   "r_2": pd.array([None, 1, None, None], dtype="Int64"),
    ...                   "r_3": pd.array([None, None, 1, None], dtype="Int64"),
    ...                   "b": [3.0, None, None, 2.0]})
    >>> asked_nonresponse(f, q).set_index("item")[["n_asked", "n_missing"]].to_dict("index")
    {'b': {'n_asked': 3, 'n_missing': 1}, 'r': {'n_asked': 4, 'n_missing': 1}, 'a': {'n_asked': 4, 'n_missing': 0}}
    """
    from ...errors import QuestionnaireError

    rows = []
    for qu in q.questions:
        if qu.type == "text" or getattr(qu, "pii", False):
            continue
        cols = [c for c in q.columns(qu.id) if c in frame.columns and not c.endswith("_other")]
        if not cols:
            continue
        try:
            asked = q.evaluate_ask_if(qu.id, frame).to_numpy(dtype=bool)
        except QuestionnaireError:  # the condition's questions are absent: everyone was asked
            asked = np.ones(len(frame), dtype=bool)
        codes = dict(getattr(qu, "missing", {}) or {})
        units = [(qu.id, cols)] if qu.type in ("multi", "rank") else [(c, [c]) for c in cols]
        for item, ucols in units:
            miss = np.ones(len(frame), dtype=bool)
            for c in ucols:
                s = frame[c]
                m = s.isna().to_numpy(dtype=bool, copy=True)
                if codes and qu.type not in ("multi", "rank"):
                    vals = list(codes.values()) if isinstance(s.dtype, pd.CategoricalDtype) or \
                        pd.api.types.is_string_dtype(s.dtype) else list(codes)
                    m |= s.isin(vals).to_numpy(dtype=bool)
                miss &= m
            n_asked = int(asked.sum())
            n_miss = int((miss & asked).sum())
            rows.append({"item": item, "question": qu.id, "n_asked": n_asked, "n_missing": n_miss,
                         "rate": n_miss / n_asked if n_asked else np.nan})
    out = pd.DataFrame(rows, columns=["item", "question", "n_asked", "n_missing", "rate"])
    return out.sort_values("rate", ascending=False, kind="stable").reset_index(drop=True)


def cleaning(ctx: Any, log_examples: int = 3) -> Any:
    """数据清理: rules with counts, the accounting line, log excerpts (rid and rule only), item
    nonresponse by question and reason, and a chart of the worst items."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    from ..context import FigureOutput
    from ..theme import new_figure

    cr = ctx.prepared.clean
    q = ctx.questionnaire
    px = prefix(ctx)
    mc = int(ctx.params.get("min_cell", 10))
    out = Bundle()
    if regional_scope(ctx, "cleaning"):
        out.add(H(regional_scope(ctx, "cleaning")))
    n_raw, n_clean = int(cr.n_raw), int(cr.n_clean)
    n_drop = int(len(cr.dropped))
    ok = n_raw == n_clean + n_drop
    out.add(H(f'<p class="accounting"><b>核算：</b>读入 {fmt_count(n_raw)} 份 = 保留 {fmt_count(n_clean)} 份 '
              f'+ 剔除 {fmt_count(n_drop)} 份 {"✓" if ok else "✗ 不相等，请检查清理日志"}</p>'))
    s = cr.summary().copy()
    s.index = [RULE_LABELS.get(str(i), str(i)) for i in s.index]
    tab = pd.DataFrame({
        "启用": np.where(s["enabled"].astype(bool), "是", "否"),
        "剔除记录": s["dropped"].astype(int), "置空单元格": s["blanked"].astype(int),
        "标记": s["flagged"].astype(int), "涉及人数": s["respondents"].astype(int)}, index=s.index)
    tab.index.name = "清理规则"
    out.add(publish_estimates(ctx, tab, f"{px}2.1", "清理规则与处理数量", formats={
        "剔除记录": "count", "置空单元格": "count", "标记": "count", "涉及人数": "count"},
        notes=["一条记录可能触及多条规则；“剔除记录”按首次剔除的规则计数。",
               "质量报告供分析人员在发布前核查，计数不做小单元格隐去。"],
        weighting="未加权（清理处理的记录与单元格计数）"))
    # log excerpt: first few rows per rule, rid and rule only (no values, no free text)
    log = cr.log
    if len(log):
        ex = (log.sort_values(["rule", "rid"], kind="stable").groupby("rule", sort=False).head(log_examples))
        exf = pd.DataFrame({"记录编号": ex["rid"].astype(str).to_numpy(),
                            "规则": [RULE_LABELS.get(r, r) for r in ex["rule"]],
                            "处理": [ACTION_LABELS.get(a, a) for a in ex["action"]]})
        out.add(publish_estimates(ctx, exf, f"{px}2.2", f"清理日志摘录（每条规则前 {log_examples} 条）",
                                  index=False, notes=["仅列记录编号与规则；原值、联系方式与文本不出现在报告中。",
                                                      "完整日志见清理输出目录（clean_log.csv，仅供分析人员）。"],
                                  weighting="不适用（清理日志条目）"))
    # item nonresponse
    inr = cr.item_nonresponse()
    if len(inr):
        piv = inr.pivot_table(index="question", columns="reason", values="n_respondents", aggfunc="sum",
                              fill_value=0, sort=False)
        asked = inr.groupby("question", sort=False)["n_asked"].max().reindex(piv.index)
        # a reason that cannot occur for the question (拒答 for a numeric without that code) is
        # neither a zero nor a suppressed count: it gets its own mark
        possible = pd.DataFrame({c: [_reason_possible(q, i, c) for i in piv.index] for c in piv.columns},
                                index=piv.index) | (piv > 0)
        piv.columns = [REASON_LABELS.get(c, c) for c in piv.columns]
        possible.columns = piv.columns
        # the row total is published in effect (rate × base), so protect it as a margin; a
        # reason nobody gave discloses nothing about anyone (zeros stay)
        supp = suppress_table(piv, mc, margins="rows", zeros=False)
        counts = piv.astype(int)
        rate = counts.sum(axis=1) / asked.replace(0, np.nan)
        tab = pd.DataFrame({c: np.where(possible[c].to_numpy(bool), [fmt_count(v) for v in counts[c]],
                                        NOT_APPLICABLE) for c in counts.columns}, index=counts.index,
                           dtype=object)
        tab.index = [question_label(q, i) for i in tab.index]
        tab["应答人数基数"] = asked.to_numpy().astype(int)
        tab["缺失率(%)"] = rate.to_numpy()
        mask = pd.DataFrame(False, index=tab.index, columns=tab.columns)
        mask.iloc[:, :counts.shape[1]] = (supp.mask.iloc[:len(counts), :counts.shape[1]].to_numpy()
                                          & possible.to_numpy(bool))
        mask["缺失率(%)"] = supp.mask.iloc[:len(counts), counts.shape[1]].to_numpy()
        mask["应答人数基数"] = asked.to_numpy() < mc
        tab.index.name = "题目"
        fm = {c: "text" for c in counts.columns}
        fm.update({"应答人数基数": "count", "缺失率(%)": "pct"})
        notes = ["基数为应回答该题的保留样本（跳转逻辑之外）。",
                 f"1 至 {mc - 1} 人的单元格隐去（“—”）；“0”为确无此原因。"]
        if not possible.to_numpy(bool).all():
            notes.append(f"“{NOT_APPLICABLE}”：该题不可能出现此原因（如数值题没有“拒答”编码），"
                         "不是零，也不是隐去（Excel 表中留空）。")
        # the Excel numbers: counts as numbers, an impossible reason empty, suppressed counts empty
        sheet = pd.DataFrame({"题目": list(tab.index)})
        for c in counts.columns:
            sheet[c] = np.where(possible[c].to_numpy(bool), counts[c].to_numpy(float), np.nan)
        sheet["应答人数基数"] = asked.to_numpy(float)
        sheet["缺失率(%)"] = rate.to_numpy(float) * 100
        out.add(publish_estimates(ctx, tab, f"{px}2.3", "题目无应答（按原因）", formats=fm, supp=mask,
                                  notes=notes, weighting="未加权（受访者人数）", sheet=sheet,
                                  sheet_suppressed=mask.reset_index(drop=True),
                                  sheet_formats={**{c: "count" for c in counts.columns},
                                                 "应答人数基数": "count", "缺失率(%)": "pct100"}))
        top = rate.sort_values(ascending=False).head(15)[::-1] * 100
        fig, ax = new_figure(7.0, max(2.5, 0.3 * len(top) + 1))
        ax.barh(range(len(top)), top.to_numpy(), color="#0072B2")
        ax.set_yticks(range(len(top)), [question_label(q, i, 22) for i in top.index], fontsize=8)
        ax.set_xlabel("题目无应答率（%）")
        ax.set_title("题目无应答率最高的题目（清理后）")
        fig.tight_layout()
        ctx.figures += 1
        out.add(FigureOutput(fig))  # drawn once, cropped
    return out


# --------------------------------------------------------------------------------- weighting
def _acc(r: Any, name: str) -> Any:
    """A WeightingReport accessor, whether a property or a method."""
    v = getattr(r, name)
    return v() if callable(v) else v


def regional_scope(ctx: Any, section: str) -> str:
    """In a regional report, the sentence that says a section describes the whole wave.

    The export is read, cleaned and weighted once for all regions; a regional report restricts
    the estimates to its region (a domain of the whole design), but the receipt, cleaning and
    weighting it documents are the whole wave's.  *section* is ``"intake"``, ``"cleaning"`` or
    ``"weighting"``; outside a regional report the text is empty.

    Examples
    --------
    >>> class C: params = {"region": "河南省"}
    >>> regional_scope(C(), "weighting")[17:47]
    '权重在整轮调查（全部地区）上校准，本节为整轮的结果；本报告的'
    >>> class N: params = {}
    >>> regional_scope(N(), "cleaning")
    ''
    """
    region = ctx.params.get("region")
    if region is None:
        return ""
    r = esc(str(region))
    if section == "intake":
        txt = (f"本报告为{r}的地区报告：数据文件、题目匹配、个人信息各项为整份导出文件（全部地区）的读取结果；"
               f"读取问卷与有效样本为{r}的受访者。")
    elif section == "cleaning":
        txt = (f"清理在整轮调查（全部地区）上进行，本节各表为整轮的结果；"
               f"{r}的受访者是清理后保留者中的一部分（人数见页首与“样本概况”）。")
    elif section == "weighting":
        txt = (f"权重在整轮调查（全部地区）上校准，本节为整轮的结果；本报告的估计是{r}受访者在整轮设计中的"
               "子总体（域）估计，标准误按整轮的分层与站点计算。")
    else:
        raise ValueError(f"regional_scope: unknown section {section!r}; use intake, cleaning or weighting")
    return f'<p class="scope">{txt}</p>'


def _report(ctx: Any):
    return getattr(ctx.prepared.design, "weighting_report", None)


def _base_text(ctx: Any) -> str:
    st = ctx.prepared.stations
    if st is not None:
        return ("基础权重 = 1 / 站点入样概率 × 站点规模 / 站点保留样本量（调查站点登记册，"
                f"{len(st):,} 个站点）")
    return "基础权重：所有受访者相同（未提供站点登记册）"


def weighting(ctx: Any) -> Any:
    """加权 (quality notebook): targets and sources with the total discrepancy, convergence,
    achieved vs target margins, weight distribution, Kish deff / effective n, sample vs
    population composition, ASMD before/after, and a diagnostic chart."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    r = _report(ctx)
    q = ctx.questionnaire
    px = prefix(ctx)
    mc = int(ctx.params.get("min_cell", 10))
    out = Bundle()
    if r is not None and regional_scope(ctx, "weighting"):
        out.add(H(regional_scope(ctx, "weighting")))
    if r is None:
        out.add(H(f"<p>{esc(_base_text(ctx))}。未提供总体边际（population.yml），未做校准。</p>"))
        return out
    ws = _acc(r, 'weights_summary')
    after = ws.loc["after"]
    before = ws.loc["before"]
    out.add(H(
        "<ul>"
        f"<li>{esc(_base_text(ctx))}。</li>"
        f"<li>校准方法：{esc(CALIBRATION_ZH.get(str(r.method), str(r.method)))}，"
        f"{'' if r.converged else '<b>'}{esc(fmt_convergence(bool(r.converged), r.max_rel_error, r.iterations))}"
        f"{'' if r.converged else '</b>'}。</li>"
        f"<li>Kish 设计效应（权重变异）：校准前 {float(before['kish_deff']):.3f}，校准后 {float(after['kish_deff']):.3f}；"
        f"有效样本量 {fmt_count(after['effective_n'])}（样本量 {fmt_count(after['n'])}）。</li>"
        f"<li>权重范围 {float(after['min']):.2f}–{float(after['max']):.2f}（最大/最小 {float(after['max_min_ratio']):.1f}），"
        f"权重和 {fmt_count(after['sum'])}。</li></ul>"))
    # targets and sources with the discrepancy
    disc = _acc(r, 'discrepancy_table')
    used = set(_acc(r, 'sources_frame')["margin"]) if len(_acc(r, 'sources_frame')) else set()
    t1 = pd.DataFrame({
        "来源": disc["source"].astype(str).to_numpy(),
        "边际合计": disc["total"].to_numpy(float),
        "控制总数": disc["control_total"].to_numpy(float),
        "差异(%)": disc["rel_diff"].to_numpy(float),
        "用于校准": ["是" if m in used else "否（由交叉边际隐含）" for m in disc["margin"]]},
        index=[_margin_label(q, m) for m in disc["margin"]])
    t1.index.name = "总体边际"
    out.add(publish_estimates(ctx, t1, f"{px}3.1", "校准目标及其来源（各来源合计与控制总数的差异）",
                              formats={"边际合计": "count", "控制总数": "count", "差异(%)": "pct"},
                              notes=["各来源总数不一致时，按比例缩放到控制总数后再校准。",
                                     "一维边际若可由交叉边际推出，则不单独使用。"],
                              weighting="不适用（外部统计的总体合计）"))
    # achieved vs target, composition
    mt = _acc(r, 'margin_table')
    comp = _acc(r, 'composition')
    key = ["margin", "level"]
    m = mt.merge(comp, on=key, how="left")
    # the sample counts by level sum to the sample size (published): hide a small level and
    # its protecting partner — the same levels every table of the report hides (a regional
    # report shows the whole wave's weighting here: this table's own suppression)
    supp_n = m["n"].to_numpy() < mc
    frame = ctx.sample_frame() if hasattr(ctx, "sample_frame") else None
    for mg in pd.unique(m["margin"]):
        sel = (m["margin"] == mg).to_numpy()
        if frame is not None and not ctx.params.get("region") and str(mg) in frame.columns:
            hid = ctx.hidden_levels(str(mg))
        else:
            ns = pd.Series(m.loc[sel, "n"].to_numpy(float), index=m.loc[sel, "level"].astype(str))
            s_ = suppress_table(ns.to_frame("n"), mc, margins="cols")
            hid = set(s_.mask["n"].iloc[:len(ns)].index[s_.mask["n"].iloc[:len(ns)].to_numpy(bool)])
        supp_n[sel] |= m.loc[sel, "level"].astype(str).isin(hid).to_numpy()
    t2 = pd.DataFrame({
        "样本人数": m["n"].to_numpy(float), "目标": m["target"].to_numpy(float),
        "校准后": m["achieved"].to_numpy(float), "相对误差": m["rel_error"].map(_rel_pct).to_numpy(object),
        "总体(%)": m["population_pct"].to_numpy(float) / 100, "样本未加权(%)": m["unweighted_pct"].to_numpy(float) / 100,
        "基础权重(%)": m["weighted_before_pct"].to_numpy(float) / 100, "校准后(%)": m["weighted_after_pct"].to_numpy(float) / 100},
        index=pd.MultiIndex.from_arrays([[_margin_label(q, x) for x in m["margin"]], m["level"].astype(str)],
                                        names=["边际", "类别"]))
    mask = pd.DataFrame(False, index=t2.index, columns=t2.columns)
    mask["样本人数"] = supp_n
    mask["样本未加权(%)"] = supp_n
    t2n = t2.reset_index()
    t2n["相对误差"] = m["rel_error"].astype(float).abs().to_numpy() * 100
    t2n = t2n.rename(columns={"相对误差": "相对误差(%)"})
    pcts = ["总体(%)", "样本未加权(%)", "基础权重(%)", "校准后(%)"]
    t2n[pcts] = t2n[pcts] * 100
    out.add(publish_estimates(ctx, t2, f"{px}3.2", "校准目标与达成情况；样本与总体构成", supp=mask,
                              formats={"样本人数": "count", "目标": "count", "校准后": "count",
                                       "总体(%)": "pct", "样本未加权(%)": "pct", "基础权重(%)": "pct",
                                       "校准后(%)": "pct"},
                              sheet=t2n, sheet_suppressed=mask.reset_index(drop=True),
                              sheet_formats={"样本人数": "count", "目标": "count", "校准后": "count",
                                             "相对误差(%)": "est", **{c: "pct100" for c in pcts}},
                              weighting="样本人数与样本未加权(%)未加权；目标为总体合计；基础权重(%)、校准后与校准后(%)为加权合计"))
    # weight distribution
    cols = ["n", "sum", "min", "p01", "p05", "p25", "median", "p75", "p95", "p99", "max", "max_min_ratio", "cv",
            "kish_deff", "effective_n"]
    names = ["样本量", "权重和", "最小值", "P1", "P5", "P25", "中位数", "P75", "P95", "P99", "最大值", "最大/最小",
             "变异系数", "Kish 设计效应", "有效样本量"]
    t3 = ws[[c for c in cols if c in ws.columns]].T
    t3.index = [names[cols.index(c)] for c in t3.index]
    t3.columns = ["基础权重" if c == "before" else "校准后权重" if c == "after" else str(c) for c in t3.columns]
    t3n = t3.astype(float).rename_axis("统计量").reset_index()
    t3 = t3.map(lambda v: f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}")
    t3.index.name = "统计量"
    out.add(publish_estimates(ctx, t3, f"{px}3.3", "权重分布与 Kish 设计效应", sheet=t3n,
                              sheet_formats={c: "float2" for c in t3n.columns[1:]},
                              weighting="本表描述权重本身（基础权重与校准后权重），数值未再加权"))
    # ASMD
    a = _acc(r, 'asmd')
    t4 = pd.DataFrame({"未加权样本": a["asmd_unweighted"].to_numpy(float), "基础权重": a["asmd_before"].to_numpy(float),
                       "校准后": a["asmd_after"].to_numpy(float)},
                      index=[_margin_label(q, v) for v in a["variable"]])
    t4n = t4.rename_axis("变量").reset_index()
    t4 = t4.map(lambda v: f"{v:.3f}")
    t4.index.name = "变量"
    out.add(publish_estimates(ctx, t4, f"{px}3.4", "标准化均值差绝对值（ASMD）：样本与总体的差距",
                              notes=["ASMD > 0.1 通常视为明显失衡；校准变量校准后应接近 0。"], sheet=t4n,
                              sheet_formats={c: "est" for c in t4n.columns[1:]},
                              weighting="分别按未加权、基础权重与校准后权重计算"))
    ctx.figures += 1
    out.add(_weighting_chart(r, q))
    return out


def _weighting_chart(r: Any, q: Any) -> Any:
    """The weighting diagnostic chart (weights histogram, ASMD, convergence) of the weighting
    report *r*: the whole wave's, the same on every regional page, so drawn once per process
    (keyed by the report object itself, the questionnaire's hash for the labels and the
    theme's settings; a re-prepared wave is another object and is drawn afresh)."""
    import matplotlib as mpl

    from ..._wavecache import memo_get, memo_put
    from ..context import FigureOutput
    from ..theme import PALETTE, new_figure

    theme = tuple(repr(mpl.rcParams[k]) for k in ("figure.dpi", "savefig.dpi", "font.family",
                                                   "font.sans-serif", "font.size"))
    key = (id(r), getattr(q, "hash", None), theme)
    hit = memo_get("weighting_chart", key)
    if hit is not None and hit[0] is r:  # the very same report object, still alive
        return hit[1]
    a = _acc(r, 'asmd')
    fig, (ax1, ax2, ax3) = new_figure(10.0, 3.4, ncols=3)
    wb, wa = np.asarray(r.weights_before, float), np.asarray(r.weights_after, float)
    bins = np.logspace(np.log10(max(min(wb.min(), wa.min()), 1e-6)), np.log10(max(wb.max(), wa.max())), 40)
    ax1.hist(wb, bins=bins, alpha=0.55, label="基础权重", color=PALETTE[1])
    ax1.hist(wa, bins=bins, alpha=0.55, label="校准后", color=PALETTE[0])
    ax1.set_xscale("log")
    ax1.set_title("权重分布（对数刻度）")
    ax1.set_xlabel("权重")
    ax1.legend(fontsize=8)
    lab = [_margin_label(q, v)[:10] for v in a["variable"]]
    y = np.arange(len(lab))
    ax2.scatter(a["asmd_unweighted"], y, marker="o", label="未加权", color=PALETTE[3])
    ax2.scatter(a["asmd_before"], y, marker="s", label="基础权重", color=PALETTE[1])
    ax2.scatter(a["asmd_after"], y, marker="D", label="校准后", color=PALETTE[0])
    ax2.axvline(0.1, color="grey", lw=0.8, ls="--")
    ax2.set_yticks(y, lab)
    ax2.set_title("ASMD")
    ax2.legend(fontsize=8)
    tr = np.asarray(r.trace_values, float)
    if len(tr):
        ax3.semilogy(np.arange(1, len(tr) + 1), np.maximum(tr, 1e-16), marker=".", color=PALETTE[0])
    ax3.set_title("收敛过程")
    ax3.set_xlabel("迭代次数")
    ax3.set_ylabel("最大相对边际误差")
    fig.tight_layout()
    png = FigureOutput(fig)  # drawn once, cropped
    memo_put("weighting_chart", key, (r, png), limit=4)  # holds the report object: keep few
    return png


def weighting_short(ctx: Any) -> Any:
    """加权 (survey_report): the methods paragraph and the sources of the margins."""
    nd = no_design(ctx)
    if nd is not None:
        return nd
    r = _report(ctx)
    q = ctx.questionnaire
    px = prefix(ctx)
    out = Bundle()
    if r is None:
        out.add(H(f"<p>{esc(_base_text(ctx))}。本轮未提供总体边际，估计仅使用基础权重。</p>"))
        return out
    if regional_scope(ctx, "weighting"):
        out.add(H(regional_scope(ctx, "weighting")))
    ws = _acc(r, 'weights_summary').loc["after"]
    src = _acc(r, 'sources_frame')
    vars_ = "、".join(_margin_label(q, m) for m in src["margin"])
    ctl = _acc(r, 'discrepancy_table')["control_total"].iloc[0] if len(_acc(r, 'discrepancy_table')) else float(ws["sum"])
    out.add(H(
        f"<p>{esc(_base_text(ctx))}；再按{esc(vars_)}的总体分布进行迭代比例调整，使加权后的样本构成与总体一致，"
        f"权重合计为总体规模 {fmt_count(ctl)} 人。各来源的总数略有出入，已按比例统一到控制总数。"
        f"校准后权重的 Kish 设计效应为 {float(ws['kish_deff']):.2f}，相当于 {fmt_count(ws['effective_n'])} 人的简单随机样本"
        f"（整群抽样带来的设计效应另计，已体现在各指标的置信区间中）。</p>"))
    t = pd.DataFrame({"来源": [f"{p}（{y}）{tb}" for p, y, tb in zip(src["publication"], src["year"], src["table"])]},
                     index=[_margin_label(q, m) for m in src["margin"]])
    t.index.name = "校准变量"
    out.add(publish_estimates(ctx, t, f"{px}2.1", "加权所用总体边际及其来源",
                              weighting="不适用（校准所用总体边际的来源清单）"))
    return out
