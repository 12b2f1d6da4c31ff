"""Feedback into policy: did the targeted pain points change after a measure?

The register ``questionnaires/policies.yml`` lists the measures (name, date, office, targeted
items and groups).  Which waves a verdict compares (:func:`policy_waves`): *before* is the last
wave fielded before the measure took effect (its fieldwork ended before the measure's date; or
the register's ``before:``), *after* is the wave being reported; :func:`evaluate_register`
evaluates a whole register that way and says which waves each verdict compares.
For each measure and targeted item, :func:`evaluate_policies` compares the
wave before with the wave after (independent samples): the change overall, in the targeted
group and in the other respondents, and the difference in change (targeted − others, a
difference-in-differences), each with a CI; the verdict is read off the targeted group's change
and says how large a change the data could have detected (minimum detectable effect at 80 %
power, two-sided test at the CI's level).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ParameterError, QuestionnaireError
from ..privacy import disclosure_mask
from ..validation import check_level
from ..variance import tcrit
from ._core import mask_for, rank_items
from .waves import independent, wave_estimates

__all__ = ["Policy", "load_policies", "evaluate_policies", "evaluate_register", "policy_waves",
           "wave_fieldwork", "policy_status", "mde", "VERDICTS"]

VERDICTS = ("improved", "no detectable change", "worse")
VERDICT_ZH = {"improved": "改善", "no detectable change": "未检测到变化", "worse": "恶化"}


@dataclass(frozen=True)
class Policy:
    """One measure of the register."""

    name: str
    date: _dt.date
    office: str
    question: str | None  # None: the wave's pain-point question (report.painpoints)
    items: tuple[str, ...]
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expected: str = "decrease"
    before: str | None = None
    after: str | None = None
    note: str = ""

    def group_text(self, names: Mapping[str, str] | None = None) -> str:
        """The targeted groups in words; *names* maps a group variable to its name (e.g. from
        the questionnaire's wording), else the variable id is shown.

        Examples
        --------
        >>> import datetime as dt
        >>> Policy("m", dt.date(2024, 1, 1), "o", None, ("a",),
        ...        groups={"unit_type": ("科研机构", "高等院校")}).group_text({"unit_type": "单位类型"})
        '单位类型：科研机构、高等院校'
        """
        if not self.groups:
            return "全体"
        names = names or {}
        return "；".join(f"{names.get(k, k)}：{'、'.join(v)}" for k, v in self.groups.items())


def load_policies(path: str | Path = "questionnaires/policies.yml") -> list[Policy]:
    """Read the register of measures.

    Examples
    --------
    >>> ps = load_policies("questionnaires/policies.yml")   # doctest: +SKIP
    >>> ps[0].name                                          # doctest: +SKIP
    '科研减负专项行动'
    """
    from .._yaml import read_yaml

    p, raw, _ = read_yaml(path, error=QuestionnaireError, what="policy register",
                          hint="see questionnaires/policies.yml for the format")
    out, seen = [], set()
    for i, m in enumerate(raw.get("measures") or []):
        miss = [k for k in ("name", "date", "office", "items") if k not in m]
        if miss:
            raise QuestionnaireError(f"{p}: measure #{i + 1} lacks {miss}")
        if m["name"] in seen:
            raise QuestionnaireError(f"{p}: measure name {m['name']!r} appears twice")
        seen.add(m["name"])
        if not isinstance(m["office"], str) or not m["office"].strip():
            raise QuestionnaireError(f"{p}: measure {m['name']!r}: office {m['office']!r} is not a name; "
                                     "give the responsible office as text (e.g. office: 市科学技术局 政策法规处)")
        d = m["date"]
        if not isinstance(d, _dt.date):
            try:
                d = _dt.date.fromisoformat(str(d))
            except ValueError:
                raise QuestionnaireError(f"{p}: measure {m['name']!r}: date {d!r} is not YYYY-MM-DD") from None
        exp = m.get("expected", "decrease")
        if exp not in ("decrease", "increase"):
            raise QuestionnaireError(f"{p}: measure {m['name']!r}: expected must be decrease/increase")
        groups = {str(k): tuple(str(x) for x in ([v] if isinstance(v, str) else v))
                  for k, v in (m.get("groups") or {}).items()}
        out.append(Policy(str(m["name"]), d, str(m["office"]),
                          None if m.get("question") is None else str(m["question"]),
                          tuple(str(x) for x in m["items"]), groups, exp,
                          None if m.get("before") is None else str(m["before"]),
                          None if m.get("after") is None else str(m["after"]), str(m.get("note", ""))))
    return out


def mde(se: float | np.ndarray, df: float = np.inf, *, level: float = 0.95, power: float = 0.8):
    """Minimum detectable effect of a two-sided test: ``(t_{1−α/2, df} + z_power) × se``.

    Examples
    --------
    >>> round(float(mde(1.0)), 3)
    2.802
    """
    check_level("mde", level, error=ParameterError)
    return (float(tcrit(level, df)) + stats.norm.ppf(power)) * np.asarray(se, float)


def _verdict(lo: float, hi: float, expected: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no detectable change"
    down, up = hi < 0, lo > 0
    if expected == "increase":
        down, up = up, down
    return "improved" if down else ("worse" if up else "no detectable change")


def evaluate_policies(design_before: Any, design_after: Any, policies: Sequence[Policy] | str | Path,
                      *, questionnaire: Any = None, questionnaire_after: Any = None,
                      measure: str = "pct_top", level: float = 0.95, power: float = 0.8,
                      min_cell: int = 10, question: str | None = None) -> pd.DataFrame:
    """Change of each measure's targeted items between the wave before and the wave after.

    Parameters
    ----------
    design_before, design_after : SurveyDesign
        Independent samples of the two waves.
    policies : list of Policy, or the path of policies.yml
    questionnaire, questionnaire_after : Questionnaire, optional
        Resolve the pain-point columns and labels (items are matched by label across waves).
    measure : {"pct_top", "pct_first", "score"}
    level, power : float
        CI level; power of the minimum detectable effect.
    min_cell : int
        A targeted group smaller than this in either wave: no verdict ("insufficient data").

    Returns
    -------
    DataFrame
        One row per (measure, item): ``policy, office, date, item, group, before_all, after_all,
        change_all(+_low/_high), before_target, after_target, change_target, se_target,
        change_target_low/high, p_target, mde_target, change_other(+_low/_high), did, did_low,
        did_high, p_did, verdict, verdict_zh, statement``.  Changes are in proportion points
        (0.05 = 5 percentage points) for shares.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> def wave(p, seed):
    ...     r = np.random.default_rng(seed)
    ...     g = r.choice(["y", "o"], 2000)
    ...     c = r.random(2000) < np.where(g == "y", p, 0.3)
    ...     return SurveyDesign(pd.DataFrame({"g": g, "p_1": pd.array(np.where(c, 1, 2), dtype="Int64"),
    ...                                       "p_2": pd.array(np.where(c, 2, 1), dtype="Int64")}))
    >>> pol = [Policy("m", __import__("datetime").date(2024, 1, 1), "office", "p", ("1",), {"g": ("y",)})]
    >>> ev = evaluate_policies(wave(0.5, 1), wave(0.3, 2), pol, measure="pct_first")
    >>> ev["verdict"].tolist()
    ['improved']
    """
    if isinstance(policies, (str, Path)):
        policies = load_policies(policies)
    qa = questionnaire_after or questionnaire
    rows = []
    check_level("evaluate_policies", level, error=ParameterError)
    df = float(min(design_before.df, design_after.df))
    from ..labels import group_names

    for pol in policies:
        gn = group_names(qa, list(pol.groups)) if qa is not None else {}
        qid = pol.question or question
        if qid is None:
            raise ParameterError(f"policy {pol.name!r} names no question: add 'question:' to the measure "
                                 "or pass question= (the wave's report.painpoints)")
        ib = rank_items(design_before, qid, questionnaire=questionnaire)
        ia = rank_items(design_after, qid, questionnaire=qa)
        unknown = [x for x in pol.items if x not in ib.labels or x not in ia.labels]
        if unknown:
            raise ParameterError(f"policy {pol.name!r}: items {unknown} are not options of "
                                 f"{qid!r} in both waves (options: {ia.labels})")
        ests = []
        for d, it in ((design_before, ib), (design_after, ia)):
            tg = mask_for(d, pol.groups)
            allm = np.ones(len(d.data), bool)  # every row: a domain (region) is in the weights
            ests.append(wave_estimates(d, it, measure, [allm, tg, ~tg], level))
        both = independent(*ests)
        Kb = len(ib.labels)
        for item in pol.items:
            # elements (all, target, other) of each wave; changes after − before, and the
            # difference-in-differences (target − other) of the changes: contrasts
            jb, ja = ib.labels.index(item), ia.labels.index(item)
            ixb = np.array([jb, Kb + jb, 2 * Kb + jb])
            ixa = 3 * Kb + np.array([ja, len(ia.labels) + ja, 2 * len(ia.labels) + ja])
            Lm = np.zeros((4, len(both)))
            Lm[np.arange(3), ixb], Lm[np.arange(3), ixa] = -1.0, 1.0
            Lm[3] = Lm[1] - Lm[2]
            c = both.contrast(Lm)
            ci, tt = c.conf_int(level), c.test()
            rb, ra = both.estimate[ixb], both.estimate[ixa]
            nb, na = both.n[ixb], both.n[ixa]
            ch, se, p = c.estimate[:3], c.se[:3], tt["p"].to_numpy(float)[:3]
            did, p_did = float(c.estimate[3]), float(tt["p"].iloc[3])
            lo, hi = ci[:3, 0], ci[:3, 1]
            m = float(mde(se[1], df, level=level, power=power))
            small = bool(disclosure_mask(min(nb[1], na[1]), None, min_cell))
            verdict = "insufficient data" if small else _verdict(lo[1], hi[1], pol.expected)
            did_lo, did_hi = float(ci[3, 0]), float(ci[3, 1])
            attributable = _verdict(did_lo, did_hi, pol.expected)
            pct = measure != "score"
            u = 100 if pct else 1
            unit = "个百分点" if pct else "分"
            if small:
                stmt = f"{pol.name} / {item}：目标群体样本不足（少于 {min_cell} 人），不作判断。"
            else:
                stmt = (f"{pol.name} / {item}：目标群体（{pol.group_text(gn)}）中选择比例变化 "
                        f"{ch[1] * u:+.1f} {unit}（{level:.0%} CI {lo[1] * u:+.1f} 至 {hi[1] * u:+.1f}），"
                        f"判断：{VERDICT_ZH[verdict]}。本次数据在 80% 把握度下可检测到的最小变化约为 "
                        f"±{m * u:.1f} {unit}。")
                if pol.groups:
                    stmt += ("与其他群体相比变化更明显（差中差 "
                             f"{did * u:+.1f} {unit}，CI {did_lo * u:+.1f} 至 {did_hi * u:+.1f}）。"
                             if attributable == verdict and verdict != "no detectable change" else
                             f"与其他群体的变化差异（差中差 {did * u:+.1f} {unit}，CI {did_lo * u:+.1f} 至 "
                             f"{did_hi * u:+.1f}）{'不显著' if attributable == 'no detectable change' else '显著'}。")
            rows.append({
                "policy": pol.name, "office": pol.office, "date": pol.date.isoformat(),
                "item": item, "group": pol.group_text(gn), "expected": pol.expected,
                "before_all": rb[0], "after_all": ra[0], "change_all": ch[0],
                "change_all_low": lo[0], "change_all_high": hi[0], "p_all": p[0],
                "before_target": rb[1], "after_target": ra[1], "change_target": ch[1],
                "se_target": se[1], "change_target_low": lo[1], "change_target_high": hi[1],
                "p_target": p[1], "mde_target": m,
                "change_other": ch[2], "change_other_low": lo[2], "change_other_high": hi[2],
                "did": did, "did_low": did_lo, "did_high": did_hi, "p_did": p_did,
                "n_target_before": int(nb[1]), "n_target_after": int(na[1]),
                "verdict": verdict, "verdict_zh": VERDICT_ZH.get(verdict, "样本不足"),
                "did_verdict": attributable, "statement": stmt, "measure": measure,
            })
    return pd.DataFrame(rows)


def policy_status(evaluation: pd.DataFrame) -> pd.DataFrame:
    """One line per measure, summarised item by item.

    ``status`` is the common verdict when every targeted item has the same one, else each item
    with its own verdict (a measure is never summarised by its first item alone); ``waves`` says
    which waves the verdicts compare (``2023→2025``) when the evaluation records them.

    Examples
    --------
    >>> e = pd.DataFrame({"policy": ["a", "a"], "office": ["o", "o"], "date": ["2024-01-01"] * 2,
    ...                   "item": ["x", "y"], "group": ["全体"] * 2, "verdict_zh": ["改善", "未检测到变化"],
    ...                   "verdict": ["improved", "no detectable change"], "statement": ["s1", "s2"]})
    >>> policy_status(e)["status"].tolist()
    ['x：改善；y：未检测到变化']
    >>> policy_status(e.assign(verdict_zh="改善"))["status"].tolist()
    ['改善（2 项均是）']
    """
    rows = []
    for name, g in evaluation.groupby("policy", sort=False):
        first = g.iloc[0]
        per_item = "；".join(f"{r.item}：{r.verdict_zh}" for r in g.itertuples())
        verdicts = g["verdict_zh"].unique()
        if len(verdicts) > 1:
            status = per_item
        elif verdicts[0] == "未评估":  # the reason (no wave before the measure ...) is the statement
            status = "未评估（" + str(first["statement"]).split("：", 1)[-1].rstrip("。") + "）"
        else:
            status = verdicts[0] if len(g) == 1 else f"{verdicts[0]}（{len(g)} 项均是）"
        waves = ""
        if "before_wave" in g.columns and pd.notna(first.get("before_wave")):
            waves = f"{first['before_wave']}→{first['after_wave']}"
        rows.append({"policy": name, "office": first["office"], "date": first["date"],
                     "group": first["group"], "waves": waves, "status": status,
                     "all_items": per_item, "statement": " ".join(g["statement"])})
    return pd.DataFrame(rows)


def wave_fieldwork(questionnaire: Any) -> tuple[_dt.date | None, _dt.date | None]:
    """``(start, end)`` of a wave's fieldwork (``wave.fieldwork`` of its questionnaire), or Nones.

    Examples
    --------
    >>> wave_fieldwork(None)
    (None, None)
    """
    fw = (getattr(questionnaire, "wave", None) or {}).get("fieldwork") if questionnaire is not None else None
    if not isinstance(fw, Mapping):
        return None, None
    def day(x: Any) -> _dt.date | None:
        if x is None:
            return None
        if isinstance(x, _dt.datetime):
            return x.date()
        return x if isinstance(x, _dt.date) else _dt.date.fromisoformat(str(x)[:10])
    return day(fw.get("start")), day(fw.get("end"))


def policy_waves(policy: Policy, fieldwork: Mapping[str, tuple[Any, Any]], current: str
                 ) -> tuple[str | None, str]:
    """The wave a measure's verdict compares the *current* (reported) wave with, and why not.

    *before* is the register's ``before:`` wave when given, else the last wave whose fieldwork
    ended before the measure took effect (``policy.date``); the *after* wave is always
    *current*.  ``fieldwork`` maps every wave id (earlier waves and *current*, oldest first) to
    its fieldwork ``(start, end)`` (:func:`wave_fieldwork`).  Without fieldwork dates for the
    earlier waves, the last earlier wave is taken (and the reason says so).

    Returns
    -------
    (before, reason)
        ``before`` is None when there is no verdict to give; ``reason`` is a Chinese sentence
        (empty when the choice needs no comment).

    Examples
    --------
    >>> import datetime as dt
    >>> fw = {"2023": (dt.date(2023, 5, 8), dt.date(2023, 6, 30)),
    ...       "2024": (dt.date(2024, 5, 6), dt.date(2024, 6, 28)),
    ...       "2025": (dt.date(2025, 5, 5), dt.date(2025, 6, 27))}
    >>> pol = Policy("减负", dt.date(2023, 9, 1), "office", "pain", ("x",))
    >>> policy_waves(pol, fw, "2025")       # not 2024: that wave was already after the measure
    ('2023', '')
    >>> policy_waves(pol, fw, "2023")[0] is None
    True
    """
    ids = [str(w) for w in fieldwork]
    current = str(current)
    earlier = ids[:ids.index(current)] if current in ids else ids
    start_cur = fieldwork.get(current, (None, None))[0]
    if start_cur is not None and start_cur < policy.date:
        return None, (f"本轮调查（{current}）开始于政策实施（{policy.date.isoformat()}）之前，"
                      "尚不能评估。")
    if policy.before is not None:
        if policy.before not in earlier:
            return None, (f"登记的实施前波次 {policy.before} 不在本报告比较的往期调查"
                          f"（{'、'.join(earlier) or '无'}）之中，未评估。")
        return policy.before, ""
    if not earlier:
        return None, "没有政策实施前的往期调查，未评估。"
    ends = {w: fieldwork[w][1] for w in earlier}
    if any(e is None for e in ends.values()):
        return earlier[-1], f"往期调查未记录调查时间，按顺序取上一轮（{earlier[-1]}）作为实施前。"
    before = [w for w in earlier if ends[w] < policy.date]
    if not before:
        return None, (f"往期调查都在政策实施（{policy.date.isoformat()}）之后进行，"
                      "没有实施前的数据，未评估。")
    return max(before, key=lambda w: ends[w]), ""


def evaluate_register(design_after: Any, policies: Sequence[Policy] | str | Path,
                      waves: Mapping[str, tuple[Any, Any]], *, current: str,
                      questionnaire_after: Any = None,
                      fieldwork: Mapping[str, tuple[Any, Any]] | None = None,
                      **kwargs: Any) -> pd.DataFrame:
    """Evaluate every measure of a register against the right earlier wave.

    Each measure compares the wave before it took effect (:func:`policy_waves`) with the
    current wave *current* (``design_after``), by :func:`evaluate_policies`; the rows gain
    ``before_wave`` and ``after_wave`` and the statement names the two waves.  A measure with
    no wave to compare has one row per item with verdict ``not evaluated`` (未评估) and the
    reason as its statement.

    Parameters
    ----------
    design_after : SurveyDesign
        The current wave.
    policies : list of Policy, or the path of policies.yml
    waves : mapping wave id -> (SurveyDesign, Questionnaire)
        The earlier waves, oldest first.
    current : str
        The current wave's id.
    questionnaire_after : Questionnaire, optional
    fieldwork : mapping wave id -> (start, end), optional
        Default: from the questionnaires (:func:`wave_fieldwork`), earlier waves then current.
    **kwargs
        Passed to :func:`evaluate_policies` (``measure``, ``level``, ``power``, ``min_cell``).

    Examples
    --------
    >>> import datetime as dt, numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> def wave(p, seed):
    ...     c = np.random.default_rng(seed).random(2000) < p
    ...     return SurveyDesign(pd.DataFrame({"p_1": pd.array(np.where(c, 1, 2), dtype="Int64"),
    ...                                       "p_2": pd.array(np.where(c, 2, 1), dtype="Int64")}))
    >>> d23, d24, d25 = wave(0.5, 1), wave(0.3, 2), wave(0.3, 3)
    >>> fw = {"2023": (dt.date(2023, 5, 1), dt.date(2023, 6, 30)),
    ...       "2024": (dt.date(2024, 5, 1), dt.date(2024, 6, 30)),
    ...       "2025": (dt.date(2025, 5, 1), dt.date(2025, 6, 30))}
    >>> pol = [Policy("m", dt.date(2023, 9, 1), "office", "p", ("1",))]
    >>> ev = evaluate_register(d25, pol, {"2023": (d23, None), "2024": (d24, None)},
    ...                        current="2025", fieldwork=fw, measure="pct_first")
    >>> ev[["before_wave", "after_wave", "verdict"]].values.tolist()
    [['2023', '2025', 'improved']]
    """
    if isinstance(policies, (str, Path)):
        policies = load_policies(policies)
    if fieldwork is None:
        fieldwork = {str(w): wave_fieldwork(q) for w, (_, q) in waves.items()}
        fieldwork[str(current)] = wave_fieldwork(questionnaire_after)
    parts: list[pd.DataFrame] = []
    from ..labels import group_names

    for pol in policies:
        before, reason = policy_waves(pol, fieldwork, current)
        if before is None:
            parts.append(pd.DataFrame({
                "policy": pol.name, "office": pol.office, "date": pol.date.isoformat(),
                "item": list(pol.items),
                "group": pol.group_text(group_names(questionnaire_after, list(pol.groups))
                                        if questionnaire_after is not None else None),
                "expected": pol.expected,
                "verdict": "not evaluated", "verdict_zh": "未评估",
                "statement": [f"{pol.name} / {item}：{reason}" for item in pol.items],
                "before_wave": None, "after_wave": str(current)}))
            continue
        d_b, q_b = waves[before]
        ev = evaluate_policies(d_b, design_after, [pol], questionnaire=q_b,
                               questionnaire_after=questionnaire_after, **kwargs)
        ev["before_wave"], ev["after_wave"] = str(before), str(current)
        ev["statement"] = [f"【{before}→{current}】{s}" + (f"（{reason}）" if reason else "")
                           for s in ev["statement"]]
        parts.append(ev)
    if not parts:
        return pd.DataFrame(columns=_EVAL_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    for c in _EVAL_COLUMNS:  # a register with no evaluable measure still has every column
        if c not in out.columns:
            out[c] = np.nan
    return out


#: The columns of :func:`evaluate_policies` (plus the waves of :func:`evaluate_register`).
_EVAL_COLUMNS = ["policy", "office", "date", "item", "group", "expected", "before_all", "after_all",
                 "change_all", "change_all_low", "change_all_high", "p_all", "before_target",
                 "after_target", "change_target", "se_target", "change_target_low",
                 "change_target_high", "p_target", "mde_target", "change_other", "change_other_low",
                 "change_other_high", "did", "did_low", "did_high", "p_did", "n_target_before",
                 "n_target_after", "verdict", "verdict_zh", "did_verdict", "statement", "measure",
                 "before_wave", "after_wave"]
