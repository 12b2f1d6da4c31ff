"""The 急难愁盼问题清单: the 问题—措施—成效 loop of one wave, as one tidy frame.

:func:`problem_list` reads a :class:`~survey.painpoints.PolicyBrief` (the tested statistics the
painpoints page shows) and returns one row per leading pain item: its rank and share (with CI),
the groups it hits hardest (only differences that survive the brief's multiplicity correction),
its change since the previous wave (marked only when significant after Holm), the measures of the
policy register aimed at it with their responsible offices, and each measure's verdict since it
took effect (改善 / 未检测到变化 / 恶化, with the compared waves and the minimum detectable
effect).  Items no measure targets are marked ``待认领`` (unclaimed).

Nothing here is recomputed: every number comes from the brief, so the 清单, the page and the
Word 专报 (:mod:`survey.report.docx`) never disagree.  Suppressed items (small cells), groups and
changes never appear.  Presentation (Chinese headings, Word, workbook sheet) lives in
:mod:`survey.report.checklist`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..validation import Integer, check

__all__ = ["problem_list", "UNCLAIMED", "CHECKLIST_COLUMNS"]

#: Marker of a leading item that no measure of the register targets.
UNCLAIMED = "待认领"

#: The columns of :func:`problem_list`, in order.
CHECKLIST_COLUMNS = [
    "rank", "item", "leading", "pct", "pct_low", "pct_high", "n", "groups", "n_groups",
    "change", "change_low", "change_high", "change_p_adj", "change_significant", "trend",
    "measures", "offices", "verdict", "verdict_detail", "waves", "mde", "status"]


def _group_label(var: str, names: Mapping[str, str]) -> str:
    return str(names.get(var, var))


def _policy_groups(groups: Any, names: Mapping[str, str]) -> str:
    """``{"unit_type": ("科研机构", "高等院校")}`` -> ``单位类型：科研机构/高等院校`` (全体 if empty)."""
    if not groups:
        return "全体"
    return "；".join(f"{_group_label(k, names)}：{'/'.join(map(str, v))}" for k, v in groups.items())


def _pp(x: float) -> str:
    """Signed percentage points with one decimal (``+1.2``), a true minus sign."""
    return f"{x * 100:+.1f}".replace("-", "−")


def problem_list(brief: Any, *, top: int = 5, include_targeted: bool = True,
                 max_groups: int = 3, group_names: Mapping[str, str] | None = None,
                 register: Sequence[Any] | None = None) -> pd.DataFrame:
    """The 急难愁盼问题清单 of a brief: one row per leading pain item.

    Parameters
    ----------
    brief : PolicyBrief
        From :func:`~survey.painpoints.build_brief` (its ``summary``, ``differences``,
        ``changes`` and ``policies`` frames; its ``register`` and ``question`` when set).
    top : int
        The leading items: the ``top`` published (not suppressed) items by rank of the share
        choosing them (any position).
    include_targeted : bool
        Also list items outside the top that a measure of the register targets (``leading``
        is False for them), so every measure's verdict is in the 清单.
    max_groups : int
        At most this many groups per item (largest differences first).
    group_names : mapping variable -> Chinese name, optional
        Default: the brief's names (the questionnaire's wording of each group question).
    register : list of Policy, optional
        The measures (default ``brief.register``; else the measures of ``brief.policies``).

    Returns
    -------
    DataFrame
        Columns :data:`CHECKLIST_COLUMNS`: ``rank, item, leading, pct, pct_low, pct_high, n``
        (share choosing the item and its CI, proportions); ``groups`` (text: the groups whose
        share is higher than everyone else's after the correction, with both shares) and
        ``n_groups``; ``change, change_low, change_high, change_p_adj, change_significant``
        (vs the previous wave; NaN without one) and ``trend`` (上升/下降 with the CI only when
        significant after Holm, else 未检测到变化); ``measures``, ``offices`` (``；``-joined;
        ``待认领`` when no measure targets the item); ``verdict`` (改善 / 未检测到变化 / 恶化 /
        样本不足 / 未评估, one per measure), ``verdict_detail`` (verdict with the compared
        waves, the targeted group's change and CI and the minimum detectable effect),
        ``waves`` (``2023→2024``), ``mde`` (of the first measure, proportion) and ``status``
        (``已有措施`` or ``待认领``).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey.painpoints import PolicyBrief
    >>> s = pd.DataFrame({"item": ["住房困难", "收入待遇偏低"], "rank": [1, 2], "pct_top": [0.4, 0.3],
    ...                   "pct_top_low": [0.35, 0.25], "pct_top_high": [0.45, 0.35], "n": [500, 500],
    ...                   "suppressed": [False, False]})
    >>> d = pd.DataFrame({"variable": ["age_group"], "level": ["29岁及以下"], "item": ["住房困难"],
    ...                   "est_group": [0.6], "est_rest": [0.3], "diff": [0.3], "significant": [True],
    ...                   "suppressed": [False], "p_adj": [0.001]})
    >>> b = PolicyBrief(wave="2024", previous_wave=None, summary=s, uncertainty=pd.DataFrame(),
    ...                 top_groups=pd.DataFrame(), differences=d, names={"age_group": "年龄组"})
    >>> cl = problem_list(b, top=2)
    >>> cl[["item", "groups", "status"]].values.tolist()
    [['住房困难', '年龄组“29岁及以下”（60% 对 30%）', '待认领'], ['收入待遇偏低', '', '待认领']]
    """

    check("problem_list", "top", top, Integer(1, example=10), error=ParameterError)
    names = dict(getattr(brief, "names", None) or {} if group_names is None else group_names)
    s = brief.summary
    pub = s[~s["suppressed"].to_numpy(bool)].sort_values("rank")
    question = getattr(brief, "question", None)
    reg = register if register is not None else getattr(brief, "register", None)
    if reg is not None:
        reg = [p for p in reg if question is None or str(p.question) == str(question)]
    ev = brief.policies
    if ev is not None and len(ev):
        ev = ev[ev["policy"].isin([p.name for p in reg])] if reg is not None else ev
    targeted: dict[str, list[Any]] = {}
    if reg is not None:
        for p in reg:
            for it in p.items:
                targeted.setdefault(str(it), []).append(p)
    elif ev is not None and len(ev):
        for r in ev.itertuples():  # no register: the evaluated measures stand for it
            targeted.setdefault(str(r.item), []).append(r)
    lead = pub.head(int(top))
    rows_ = pub[pub["item"].isin(lead["item"]) | (include_targeted & pub["item"].isin(list(targeted)))]

    d = brief.differences
    sig = d[d["significant"].to_numpy(bool) & ~d["suppressed"].to_numpy(bool)
            & (d["diff"].to_numpy(float) > 0)] if len(d) else d
    ch = brief.changes
    out = []
    for r in rows_.itertuples():
        item = str(r.item)
        g = sig[sig["item"].astype(str) == item].sort_values("diff", ascending=False).head(int(max_groups)) \
            if len(sig) else sig
        groups = "；".join(f"{_group_label(x.variable, names)}“{x.level}”（{x.est_group * 100:.0f}% 对 "
                          f"{x.est_rest * 100:.0f}%）" for x in g.itertuples())
        # change since the previous wave (only published, significant-after-Holm changes marked)
        c_est = c_lo = c_hi = c_p = np.nan
        c_sig = False
        trend = "无往期数据"
        if ch is not None:
            c = ch[ch["item"].astype(str) == item]
            if not len(c):
                trend = "往期无此项"
            elif bool(c["suppressed"].iloc[0]):
                trend = "样本不足"
            else:
                c0 = c.iloc[0]
                c_est, c_lo, c_hi = float(c0["change"]), float(c0["ci_low"]), float(c0["ci_high"])
                c_p = float(c0["p_adj"]) if "p_adj" in c.columns else np.nan
                c_sig = bool(c0["significant"]) if "significant" in c.columns else False
                if c_sig:
                    trend = (f"{'上升' if c_est > 0 else '下降'} {abs(c_est) * 100:.1f} 个百分点"
                             f"（{brief.level:.0%} CI {_pp(c_lo)} 至 {_pp(c_hi)}）")
                else:
                    trend = "未检测到变化"
        # the measures aimed at it and their verdicts
        pols = targeted.get(item, [])
        measures = "；".join(dict.fromkeys(str(getattr(p, "name", getattr(p, "policy", ""))) for p in pols))
        offices = "；".join(dict.fromkeys(str(p.office) for p in pols))
        verdicts, details, waves, mdes = [], [], [], []
        for p in pols:
            pname = str(getattr(p, "name", getattr(p, "policy", "")))
            e = ev[(ev["policy"] == pname) & (ev["item"].astype(str) == item)] if ev is not None and len(ev) else None
            if e is None or not len(e):
                why = ("无政策实施前的往期调查" if brief.previous_wave is None else "未评估")
                verdicts.append("未评估")
                details.append(f"{pname}：未评估（{why}）")
                continue
            e0 = e.iloc[0]
            vz = str(e0["verdict_zh"])
            verdicts.append(vz)
            bw, aw = e0.get("before_wave"), e0.get("after_wave")
            wv = f"{bw}→{aw}" if isinstance(bw, str) and bw else ""
            waves.append(f"{bw} → {aw}" if wv else "")  # the column: a line may break at the arrow
            if e0["verdict"] in ("improved", "no detectable change", "worse"):
                m = float(e0["mde_target"])
                mdes.append(m)
                grp = _policy_groups(getattr(p, "groups", None), names) if hasattr(p, "groups") else "目标群体"
                details.append(f"{pname}：{vz}（{wv}，目标群体（{grp}）变化 {_pp(float(e0['change_target']))} 个百分点，"
                               f"{brief.level:.0%} CI {_pp(float(e0['change_target_low']))} 至 "
                               f"{_pp(float(e0['change_target_high']))}；可检测的最小变化 ±{m * 100:.1f} 个百分点）")
            elif e0["verdict"] == "insufficient data":
                details.append(f"{pname}：样本不足（{wv}，目标群体少于 {brief.min_cell} 人）")
            else:
                reason = str(e0.get("statement", "")).split("：", 1)[-1].rstrip("。")
                details.append(f"{pname}：未评估（{reason}）")
        claimed = bool(pols)
        out.append({
            "rank": int(r.rank), "item": item, "leading": item in set(lead["item"]),
            "pct": float(r.pct_top), "pct_low": float(r.pct_top_low), "pct_high": float(r.pct_top_high),
            "n": int(r.n), "groups": groups, "n_groups": int(len(g)),
            "change": c_est, "change_low": c_lo, "change_high": c_hi, "change_p_adj": c_p,
            "change_significant": c_sig, "trend": trend,
            "measures": measures if claimed else UNCLAIMED, "offices": offices if claimed else UNCLAIMED,
            "verdict": "；".join(verdicts) if claimed else UNCLAIMED,
            "verdict_detail": "；".join(details) if claimed else UNCLAIMED,
            "waves": "；".join(dict.fromkeys(w for w in waves if w)),
            "mde": mdes[0] if mdes else np.nan,
            "status": "已有措施" if claimed else UNCLAIMED})
    return pd.DataFrame(out, columns=CHECKLIST_COLUMNS)
