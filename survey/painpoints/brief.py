"""The policy brief: everything the 急难愁盼 page reports, as tidy frames — top pain points
overall and per group, rank uncertainty, group differences, priority, drivers, open text,
changes since the last wave and the verdict on each policy measure — plus the plain-language
key findings.

:func:`build_brief` runs the analyses once and collects a :class:`PolicyBrief`.  How the brief
is shown (tables with Chinese headers, charts, HTML, the workbook) lives in the report:
:class:`survey.report.content.painpoints.BriefReport`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..labels import column_label, group_names, short_label, wave_name
from ._core import by_list, group_stats, rank_items
from .drivers import driver_covariates, drivers
from .groups import differences_frame, top_frame
from .summary import priority_matrix, rank_uncertainty, summarize
from .waves import wave_change
from .policy import Policy, evaluate_register, load_policies, policy_status
from .text import Lexicon, load_lexicon, open_text

__all__ = ["PolicyBrief", "build_brief", "demo_designs", "significant_changes", "lexicon_folders",
           "REPLICATE_METHOD_ZH"]

REPO = Path(__file__).resolve().parents[2]

#: replicate methods of :func:`rank_uncertainty` as the report names them
REPLICATE_METHOD_ZH = {"bootstrap": "自助法", "jackknife": "刀切法", "brr": "平衡半样本法"}


def significant_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """The published changes that survive the report's multiplicity rule: not suppressed and
    significant after Holm (``wave_change``'s ``significant``).  A suppressed item never counts,
    whatever its interval.

    Examples
    --------
    >>> c = pd.DataFrame({"item": ["a", "b"], "suppressed": [True, False],
    ...                   "significant": [True, False], "ci_low": [0.01, -0.02], "ci_high": [0.05, 0.01]})
    >>> significant_changes(c)["item"].tolist()
    []
    """
    if "significant" not in changes.columns:  # a frame from before the rule: adjust here
        from ..multiplicity import holm_significant

        p = np.where(changes["suppressed"].to_numpy(bool), np.nan, changes["p"].to_numpy(float))
        changes = changes.assign(significant=holm_significant(p)[1])
    keep = ~changes["suppressed"].to_numpy(bool) & changes["significant"].to_numpy(bool)
    return changes[keep]



def _levels_answering(design: Any, it: Any, var: Any) -> int:
    """How many levels of group *var* hold an answerer of the question in the design's domain."""
    from ._core import group_codes

    codes, _ = group_codes(design, var)
    w = np.asarray(design.weights, float)
    dom = design.domain
    a = it.answered & (w > 0) & (codes >= 0)
    if dom is not None:
        a &= np.asarray(dom, bool)
    return int(len(np.unique(codes[a])))


# ----------------------------------------------------------------------------------------------
# the brief
# ----------------------------------------------------------------------------------------------
@dataclass
class PolicyBrief:
    """Everything the painpoints section reports (tidy frames) plus rendering helpers."""

    wave: str
    previous_wave: str | None
    summary: pd.DataFrame
    uncertainty: pd.DataFrame
    top_groups: pd.DataFrame
    differences: pd.DataFrame
    priority: pd.DataFrame | None = None
    drivers: pd.DataFrame | None = None
    text: dict[str, pd.DataFrame] | None = None
    changes: pd.DataFrame | None = None
    policies: pd.DataFrame | None = None
    min_cell: int = 10
    level: float = 0.95
    notes: list[str] = field(default_factory=list)
    #: group variable -> its Chinese name (from the questionnaire)
    names: dict[str, str] = field(default_factory=dict)
    #: table id -> why the brief has no such table (a sentence in Chinese, shown in its place)
    absent: dict[str, str] = field(default_factory=dict)
    #: the outcome and covariates of the driver analysis, as Chinese names (table PP6's note)
    driver_model: tuple[str, list[str]] | None = None

    def group_name(self, var: Any) -> str:
        """The Chinese name of group variable *var* (:attr:`names`; the id itself when unknown)."""
        return self.names.get(str(var), str(var))

    def target_groups(self, e: pd.DataFrame) -> list[str]:
        """PP9's 针对群体 in the questionnaire's words (``单位类型：科研机构、高等院校``): from the
        register's measures and :attr:`names` when known, else the evaluation's own text."""
        pols = {p.name: p for p in (self.register or [])}
        return [pols[n].group_text(self.names) if n in pols else str(g)
                for n, g in zip(e["policy"], e["group"])]
    #: the pain-point question id and the policy register (every measure, evaluated or not:
    #: :func:`~survey.painpoints.checklist.problem_list` marks items no measure targets 待认领)
    question: str | None = None
    register: list[Policy] | None = None

    # ---------------------------------------------------------------- text
    def key_findings(self) -> list[str]:
        """Plain-language bullet points (Chinese)."""
        out = []
        s = self.summary[~self.summary["suppressed"]]
        if not len(s):
            return [f"回答此题的人数少于 {self.min_cell} 人，结果隐去（数据披露控制）。"]
        top3 = s.nsmallest(3, "rank")
        out.append("最突出的急难愁盼问题：" + "、".join(
            f"{r.item}（{r.pct_top * 100:.1f}%）" for r in top3.itertuples()) + "。")
        u = self.uncertainty
        sure = u[(u["p_top"] >= 0.95) & u["item"].isin(set(s["item"]))]["item"].tolist()
        if sure:
            how = REPLICATE_METHOD_ZH.get(str(u["method"].iloc[0]), str(u["method"].iloc[0]))
            out.append(f"在重复抽样（{how}，{int(u['replicates'].iloc[0])} 次）中稳定位列前 "
                       f"{int(u['top'].iloc[0])} 的：" + "、".join(sure) + "。")
        d = self.differences
        sig = d[d["significant"] & (d["diff"] > 0)].nlargest(6, "diff")
        if len(sig):
            out.append("明显高于其他人的群体（" + str(d["correction"].iloc[0]) + "）：" + "；".join(
                f"{self.group_name(r.variable)}“{r.level}”的“{r.item}”"
                f"（{r.est_group * 100:.0f}% 对 {r.est_rest * 100:.0f}%）" for r in sig.itertuples()) + "。")
        if self.changes is not None:
            c = significant_changes(self.changes)
            if len(c):
                out.append(f"与{wave_name(self.previous_wave)}相比有统计学意义的变化（Holm 校正后）：" + "；".join(
                    f"{r.item} {r.change * 100:+.1f} 个百分点" for r in c.itertuples()) + "。")
            else:
                out.append(f"与{wave_name(self.previous_wave)}相比，各项均未检测到显著变化（Holm 校正后）。")
        if self.policies is not None and len(self.policies):
            for r in policy_status(self.policies).itertuples():
                cmp_ = f"，{r.waves}" if r.waves else ""
                out.append(f"政策“{r.policy}”（{r.office}{cmp_}）：{r.status}。")
        return out

    #: table id -> the attribute (tidy frame) it is made of, and the analysis that made it
    FRAMES = {"PP1": ("summary", "summarize"), "PP2": ("uncertainty", "rank_uncertainty"),
              "PP3": ("top_groups", "top_by_group"), "PP4": ("differences", "group_differences"),
              "PP5": ("priority", "priority_matrix"), "PP6": ("drivers", "drivers"),
              "PP7": ("text", "open_text"), "PP8": ("changes", "wave_change"),
              "PP9": ("policies", "evaluate_register")}


def build_brief(design: Any, qid: str, *, questionnaire: Any = None, design_before: Any = None,
                questionnaire_before: Any = None, policies: Sequence[Policy] | str | Path | None = None,
                lexicon: Lexicon | str | Path | None = None, by: Sequence[str] | None = None,
                outcome: str | None = None, positive: Sequence[Any] | None = None,
                covariates: Sequence[str] | None = None,
                correction: str = "holm", wave: str = "", previous_wave: str | None = None,
                min_cell: int = 10, level: float = 0.95, replicates: int = 200,
                seed: int = 0, earlier_waves: dict[str, tuple[Any, Any]] | None = None,
                hidden: dict[str, Any] | None = None) -> PolicyBrief:
    """Run every analysis of the issue on one wave (and the previous one) and collect the brief.

    The change table compares with ``design_before`` (the previous wave).  Each policy measure
    is judged on the wave before it took effect against this wave
    (:func:`~survey.painpoints.policy.evaluate_register`): ``earlier_waves`` (wave id ->
    (design, questionnaire), oldest first) are the candidates, by default only the previous wave.

    ``design`` may be a domain (a region's report: ``design.subset``); every estimate then
    keeps the full design.  ``hidden`` (``{group variable: levels}``) names the groups a report
    hides in every table (:meth:`survey.report.sections.ReportContext.hidden_levels`); they are
    suppressed in the group tables here too.  When fewer than ``min_cell`` respondents answered
    the question, every table is suppressed and the analyses that need more data (priority,
    drivers, open text, changes, policies) are left out, with a note saying so.

    The questions come from the arguments or, where an argument is left out, from the
    questionnaire: ``by`` = ``design.groups``; ``outcome`` = ``report.outcome``; ``covariates``
    = ``report.drivers`` (else ``design.groups``).  A section whose inputs are missing is left
    out and :attr:`PolicyBrief.absent` says why (shown in its place in the report).

    Examples
    --------
    >>> # brief = build_brief(d24, "q7_needs", questionnaire=q24, design_before=d23,
    >>> #                     questionnaire_before=q23, policies="questionnaires/policies.yml",
    >>> #                     lexicon="questionnaires/2024")
    """
    roles = getattr(questionnaire, "report", None)
    if outcome is None and roles is not None:
        outcome = roles.outcome
    if isinstance(lexicon, (str, Path)):
        lexicon = load_lexicon(lexicon, questionnaire)
    cols = design.data.columns
    s = summarize(design, qid, questionnaire=questionnaire, level=level, min_cell=min_cell)
    notes: list[str] = []
    n_ans = int(s["n"].max()) if len(s) else 0
    small = n_ans < min_cell
    if small:
        notes.append(f"本范围内回答此题的人数少于最小单元格 {min_cell} 人："
                     "各表数值均以“—”隐去，不作优先级、影响因素、开放题、变化与政策分析。")
    u = rank_uncertainty(design, qid, questionnaire=questionnaire, replicates=replicates, seed=seed,
                         level=level)
    # one pass per by-variable serves both the groups' top items and the group tests
    it = rank_items(design, qid, questionnaire=questionnaire)
    by_cols = by_list(design, by, questionnaire)
    # a group with one level among the answerers (a province's own report by province) has no
    # "everyone else" to compare with and its top items are PP1's: left out, said in a note
    one = [v for v in by_cols if _levels_answering(design, it, v) < 2]
    if one and len(one) < len(by_cols):
        by_cols = [v for v in by_cols if v not in one]
        for v in one:
            lab = short_label(questionnaire, v) if questionnaire is not None and isinstance(v, str) else str(v)
            notes.append(f"按{lab}：本范围内回答此题的受访者都属于同一类别，没有可比较的组别，未作分组比较。")
    gs = [group_stats(design, it, var, "pct_top", level) for var in by_cols]
    tg = top_frame(design, it, by_cols, gs, 3, level, min_cell, hidden)
    gd = differences_frame(gs, float(design.df), "pct_top", correction, 0.05, level, min_cell,
                           hidden)
    absent: dict[str, str] = {}
    names = group_names(questionnaire, [v for v in by_cols if isinstance(v, str)])
    pm = None
    if small:
        return PolicyBrief(wave=str(wave), previous_wave=previous_wave, summary=s, uncertainty=u,
                           top_groups=tg, differences=gd, min_cell=min_cell, level=level,
                           notes=notes, names=names, absent=absent)
    lex_missing = "本轮问卷文件夹中没有急难愁盼关键词表（painpoint_lexicon.yml）"
    if lexicon is not None and lexicon.question != qid:
        absent["PP5"] = absent["PP7"] = (f"关键词表（{Path(lexicon.path).name}）针对的不是本轮的急难愁盼题"
                                         "（question: 与 questionnaire.yml 的 report.painpoints 不一致），"
                                         "未作严重程度与开放题分析。")
        lexicon = None
    if lexicon is not None and lexicon.severity.get("column") in cols:
        sv = lexicon.severity
        pm = priority_matrix(design, qid, sv["column"], sv.get("severe", [4, 5]),
                             among=sv.get("among", "first"), pairs=lexicon.pairs or None,
                             questionnaire=questionnaire, level=level, min_cell=min_cell)
        if questionnaire is not None and "paired_with" in pm.columns:  # a column -> its wording
            pm["paired_with"] = [column_label(questionnaire, c) if isinstance(c, str) and c else c
                                 for c in pm["paired_with"]]
    elif "PP5" not in absent:
        absent["PP5"] = (f"{lex_missing}，未作严重程度（优先级矩阵）分析。" if lexicon is None else
                         "关键词表未声明严重程度题（severity: column），或该题不在本轮数据中，未作优先级矩阵分析。")
    dr = None
    model = None
    if outcome is not None and outcome in cols:
        cov = list(covariates) if covariates is not None else driver_covariates(questionnaire, cols)
        try:
            dr = drivers(design, qid, outcome, questionnaire=questionnaire, positive=positive,
                         level=level, covariates=cov)
            model = (short_label(questionnaire, outcome) if questionnaire is not None else outcome,
                     [short_label(questionnaire, c) if questionnaire is not None else c for c in cov])
        except EstimationError as e:  # e.g. a small region: fewer respondents than coefficients
            notes.append(f"未做影响因素分析（PP6）：样本不足以拟合模型（{e}）。")
    else:
        absent["PP6"] = ("问卷未声明总体满意度题（questionnaire.yml 的 report.outcome），未作急难愁盼与满意度的"
                         "影响因素分析。" if outcome is None else
                         "总体满意度题（report.outcome）不在本轮数据中，未作影响因素分析。")
    tx = None
    if lexicon is not None and lexicon.text_question in cols:
        tx = open_text(design, lexicon, min_cell=min_cell, seed=seed)
    elif "PP7" not in absent:
        absent["PP7"] = (f"{lex_missing}，未对开放题意见归类。" if lexicon is None else
                         "关键词表未指明开放题（text_question），或该题不在本轮数据中，未对开放题意见归类。")
    ch = ev = None
    reg = None
    if policies is not None:
        reg = load_policies(policies) if isinstance(policies, (str, Path)) else list(policies)
    if design_before is not None:
        ch = wave_change(design_before, design, qid, questionnaire=questionnaire_before,
                         questionnaire_after=questionnaire, level=level, min_cell=min_cell)
        if policies is not None:
            pols = reg
            earlier = earlier_waves or {str(previous_wave or "上一轮"): (design_before, questionnaire_before)}
            ev = evaluate_register(design, pols, earlier, current=str(wave or "本轮"),
                                   questionnaire_after=questionnaire, level=level, min_cell=min_cell,
                                   question=qid)
    return PolicyBrief(wave=str(wave), previous_wave=previous_wave, summary=s, uncertainty=u,
                       top_groups=tg, differences=gd, priority=pm, drivers=dr, text=tx, changes=ch,
                       policies=ev, min_cell=min_cell, level=level, notes=notes, names=names,
                       absent=absent, driver_model=model, question=qid, register=reg)


# ----------------------------------------------------------------------------------------------
# demo and report wiring
# ----------------------------------------------------------------------------------------------
def demo_designs(seed: int | None = None, *, waves: Sequence[str] = ("2023", "2024"),
                 station_fraction: float | None = None) -> dict[str, tuple[Any, Any]]:
    """Demo waves as ``{wave: (SurveyDesign, Questionnaire)}`` with the station base weights.

    The clean analysis frames of :func:`survey.demo.build_wave` (true answers, before dirt)
    with base weights ``1/π_station × size/completes`` from the station register; strata and
    PSUs as sampled.  ``station_fraction`` keeps a random share of the stations in each stratum
    (at least two) — a smaller, quicker sample for tests.

    Examples
    --------
    >>> d = demo_designs(1, waves=("2023",), station_fraction=0.3)   # doctest: +SKIP
    """
    from ..demo import DEFAULT_SEED, build_wave
    from ..design import SurveyDesign

    seed = DEFAULT_SEED if seed is None else int(seed)
    out = {}
    for w in waves:
        wv = build_wave(str(w), seed)
        df = wv.clean.merge(wv.stations[["station", "base_weight"]], on="station", how="left")
        if station_fraction is not None:
            st = wv.stations[["station", "stratum_code"]]
            rng = np.random.default_rng([seed, int(w)])
            keep = []
            for _, g in st.groupby("stratum_code"):
                m = max(2, int(round(len(g) * station_fraction)))
                keep += list(rng.choice(g["station"].to_numpy(), min(m, len(g)), replace=False))
            df = df[df["station"].isin(keep)].reset_index(drop=True)
        ds = wv.questionnaire.design
        d = SurveyDesign(df, weights="base_weight", strata=ds.strata, psu=ds.psu, lonely_psu="adjust")
        out[str(w)] = (d, wv.questionnaire)
    return out


def lexicon_folders(params: Any) -> list[Path]:
    """Where a wave's ``painpoint_lexicon.yml`` is looked for, in order: the questionnaire's
    folder, ``questionnaires/<wave>/`` of the current folder, then the repository's."""
    wave = str(params.get("wave", ""))
    qdir = Path(params["questionnaire"]).parent if params.get("questionnaire") else None
    return [x for x in (qdir, Path("questionnaires") / wave, REPO / "questionnaires" / wave)
            if x is not None]
