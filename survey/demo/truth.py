"""True population values of the key indicators (the answer key for later issues).

:func:`truth` computes, from the answers of *everyone* in the synthetic population, the value of
each key indicator overall, by every key group (sex, age_group, title, unit_type, district,
education) and by title × unit_type, for each wave, plus the wave-to-wave change.

Indicators (``kind`` = mean or proportion; shares are in [0, 1]):

=========================  ===========================================================
hours                      mean weekly hours
research_share             mean % of time on research
training_days              mean training days
sleep_hours                mean nightly sleep (h)
burnout_score              mean of the six burnout items (r6 reversed), 1–5
burnout_high               share with burnout_score >= 3.5
sat_overall_mean           mean of sat_overall (1–5)
sat_satisfied              share 比较满意/非常满意
leave_share                share 可能会/肯定会 leave
has_project_share          share with a current project
income_20w_plus            share with income >= 20万 (harmonised across the two band sets)
aware_jianfu               share aware of 科研减负专项行动
pain_top3.<option>         share ranking the option in their top 3
pain_first.<option>        share ranking it first
pain_score.<option>        mean position score (3 for rank 1, 2, 1, 0 not chosen)
=========================  ===========================================================

Truth refers to the *valid true answers* (no missing codes, no dirt) of *everyone* in the
population: what a perfect cleaning, weighting and estimation pipeline would estimate without
sampling error.  The sampling frame is the whole population (every person works in an
institution that can be a station, and every stratum has selected stations), so truth and the
analysed frame refer to the same people.  :func:`frame_indicators` computes the same per-person
values from an analysis frame (labels, missing codes 98/99 → not in the base), which is what an
analyst estimates: ``frame_indicators(wave.clean, q, wave)`` on the demo respondents equals
:func:`indicator_values` on their population answers (tested).

:data:`KEY_INDICATORS` are the headline indicators; :data:`STORY_INDICATORS` are those for which
weighting is promised to recover the truth — the key indicators minus the declared residual
MNAR ones (:data:`survey.demo.effects.MNAR`: ``leave_share``).

Examples
--------
>>> from survey.demo import truth
>>> t = truth("2023", seed=1)
>>> row = t[(t.indicator == "hours") & (t.group == "overall")]
>>> 45 < float(row["value"].iloc[0]) < 52
True
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import ParameterError
from . import effects as E
from . import spec as S
from .population import population_answers, population_for
from .setting import CITY, Setting

__all__ = ["truth", "indicator_values", "frame_indicators", "KEY_INDICATORS", "STORY_INDICATORS"]

KEY_INDICATORS = ["hours", "research_share", "burnout_score", "sat_overall_mean", "sat_satisfied",
                  "leave_share", "has_project_share", "income_20w_plus", "aware_jianfu"]
# the key indicators weighting recovers (the declared MNAR ones are left out, explicitly)
STORY_INDICATORS = [k for k in KEY_INDICATORS if k not in E.MNAR]


def indicator_values(ans: pd.DataFrame, wave: str) -> dict[str, tuple[str, np.ndarray]]:
    """Per-person indicator values (NaN = not in the indicator's base) from answer codes.

    Works on population answers (:func:`population_answers`) — code columns as there.
    ``wave`` is the calendar year (``"2023"``/``"2024"``).

    Examples
    --------
    >>> from survey.demo.population import make_population, population_answers
    >>> v = indicator_values(population_answers(make_population(1), "2023"), "2023")
    >>> v["leave_share"][0]
    'proportion'
    """
    out: dict[str, tuple[str, np.ndarray]] = {}
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    for c in ("hours", "research_share", "training_days", "sleep_hours"):
        out[c] = ("mean", f(ans[c]))
    b = np.column_stack([ans[f"burnout_r{i}"] for i in range(1, 6)] + [6 - ans["burnout_r6"]])
    score = b.mean(axis=1)
    out["burnout_score"] = ("mean", score)
    out["burnout_high"] = ("proportion", f(score >= 3.5))
    out["sat_overall_mean"] = ("mean", f(ans["sat_overall"]))
    out["sat_satisfied"] = ("proportion", f(ans["sat_overall"] >= 4))
    out["leave_share"] = ("proportion", f(ans["leave_intent"] >= 3))
    out["has_project_share"] = ("proportion", f(ans["has_project"] == 1))
    cut = 3 if wave == "2023" else 4
    out["income_20w_plus"] = ("proportion", f(ans["income"] >= cut))
    out["aware_jianfu"] = ("proportion", f(ans["policy_aware_1"]))
    for j, lab in enumerate(S.PAIN):
        r = ans[f"pain_{j + 1}"].to_numpy()
        out[f"pain_top3.{lab}"] = ("proportion", f(r > 0))
        out[f"pain_first.{lab}"] = ("proportion", f(r == 1))
        out[f"pain_score.{lab}"] = ("mean", f(np.where(r > 0, 4 - r, 0)))
    return out


def frame_indicators(frame: pd.DataFrame, questionnaire, wave: str,
                     indicators: list[str] | None = None) -> pd.DataFrame:
    """Per-respondent indicator values from an analysis frame, with the definitions of :func:`truth`.

    Single-choice answers are mapped from labels back to codes with ``questionnaire.labels``;
    missing codes (不知道/拒答, 98/99, or a question's own) and codes outside a likert scale are
    NaN — never numbers.  ``burnout_score`` needs all six items (r6 reversed), as in
    :func:`indicator_values` and ``SurveyDesign.scale_score``.  Shares are 0/1 (NaN outside the
    base), so ``SurveyDesign.mean`` of a column estimates the indicator.

    Parameters
    ----------
    frame : DataFrame
        An analysis frame of a demo wave (``DemoWave.clean``, or a cleaned export).
    questionnaire : Questionnaire
        The wave's questionnaire.
    wave : {"2023", "2024"} or a national wave id (``"national-2024"``)
    indicators : list of str, optional
        Default :data:`KEY_INDICATORS`.

    Returns
    -------
    DataFrame
        One float column per indicator, aligned with ``frame``.

    Examples
    --------
    >>> from survey.demo import build_wave
    >>> w = build_wave("2024", 1)
    >>> v = frame_indicators(w.clean, w.questionnaire, "2024")
    >>> list(v.columns) == KEY_INDICATORS, bool(v["leave_share"].isin([0, 1]).all())
    (True, True)
    """
    wave = str(wave)
    wave = wave[len("national-"):] if wave.startswith("national-") else wave
    if wave not in S.WAVES:
        raise ParameterError(f"frame_indicators(wave={wave!r}): use one of {S.WAVES} "
                             "(or national-2023/national-2024)")
    names = list(KEY_INDICATORS if indicators is None else indicators)
    unknown = [n for n in names if n not in KEY_INDICATORS]
    if unknown:
        raise ParameterError(f"frame_indicators: unknown indicator(s) {unknown}; use some of "
                             f"{KEY_INDICATORS}")
    q = questionnaire

    def need(col: str) -> pd.Series:
        if col not in frame.columns:
            raise ParameterError(f"frame_indicators: column {col!r} is not in the frame; pass "
                                 f"an analysis frame of the demo-{wave} questionnaire")
        return frame[col]

    def code(qid: str) -> np.ndarray:
        valid = {lab: c for c, lab in q.labels(qid).items() if c not in (q[qid].missing or {})}
        s = need(qid)
        return s.astype(object).map(valid).to_numpy(dtype=float)  # other labels/NA -> NaN

    def item(col: str, scale) -> np.ndarray:
        x = pd.to_numeric(need(col), errors="coerce").to_numpy(dtype=float)
        return np.where(np.isin(x, list(scale)), x, np.nan)

    def share(cond: np.ndarray, base: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(base), np.nan, cond.astype(float))

    out: dict[str, np.ndarray] = {}
    for n in names:
        if n in ("hours", "research_share"):
            out[n] = pd.to_numeric(need(n), errors="coerce").to_numpy(dtype=float)
        elif n == "burnout_score":
            sc = q["burnout"].scale
            hi = max(sc) + min(sc)
            b = np.column_stack([item(f"burnout_r{i}", sc) for i in range(1, 6)]
                                + [hi - item("burnout_r6", sc)])
            out[n] = b.mean(axis=1)          # NaN unless all six items are valid
        elif n in ("sat_overall_mean", "sat_satisfied"):
            s = code("sat_overall")
            out[n] = s if n == "sat_overall_mean" else share(s >= 4, s)
        elif n == "leave_share":
            s = code("leave_intent")
            out[n] = share(s >= 3, s)
        elif n == "has_project_share":
            s = code("has_project")
            out[n] = share(s == 1, s)
        elif n == "income_20w_plus":
            s = code("income")
            out[n] = share(s >= (3 if wave == "2023" else 4), s)
        elif n == "aware_jianfu":
            s = need("policy_aware_1").astype("boolean")
            out[n] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.DataFrame(out, index=frame.index)


@lru_cache(maxsize=8)
def _truth_wave(wave: str, seed: int, setting: Setting = CITY) -> pd.DataFrame:
    pop = population_for(seed, setting)
    ans = population_answers(pop, wave)
    vals = indicator_values(ans, setting.year(wave))
    levels = S.group_levels(None if setting == CITY else setting)
    P = pop.people
    groupings: list[tuple[str, np.ndarray, list[str]]] = [("overall", np.zeros(len(P), int), ["全体"])]
    for g, lv in levels.items():
        groupings.append((g, P[g].to_numpy().astype(int), lv))
    tu = P["title"].to_numpy().astype(int) * len(S.UNIT_TYPES) + P["unit_type"].to_numpy()
    groupings.append(("title×unit_type", tu, [f"{t}×{u}" for t in S.TITLES for u in S.UNIT_TYPES]))
    rows = []
    for name, (kind, y) in vals.items():
        ok = ~np.isnan(y)
        for g, codes, lv in groupings:
            L = len(lv)
            cnt = np.bincount(codes[ok], minlength=L)
            tot = np.bincount(codes[ok], weights=y[ok], minlength=L)
            with np.errstate(invalid="ignore", divide="ignore"):
                v = tot / cnt
            rows.append(pd.DataFrame({"wave": wave, "indicator": name, "kind": kind, "group": g,
                                      "level": lv, "value": v, "n_pop": cnt}))
    return pd.concat(rows, ignore_index=True)


def truth(wave: str | None = None, seed: int = 2024, setting: Setting | None = None) -> pd.DataFrame:
    """Tidy table of the true population values of the key indicators.

    Parameters
    ----------
    wave : {"2023", "2024", "change"} or None
        One wave, the 2024 − 2023 changes (``wave == "2024-2023"``, ``kind == "change"``), or
        (None) all of them.
    seed : int
        The demo seed (must match the one the data were generated with).
    setting : Setting, optional
        The city (default) or the national demo; national waves are ``national-2023`` /
        ``national-2024`` (the change keeps the label ``2024-2023``), the region group is
        ``region`` (the province).

    Returns
    -------
    DataFrame
        Columns ``wave, indicator, kind, group, level, value, n_pop``; ``group == "overall"``
        has the single level ``全体``.

    Examples
    --------
    >>> t = truth("change", seed=1)
    >>> d = t[(t.indicator == "hours") & (t.group == "overall")]["value"].iloc[0]
    >>> bool(-2.0 < d < -1.0)
    True
    """
    sett = setting or CITY
    ws = sett.waves
    if wave is not None and str(wave) not in (*ws, "change", "2024-2023"):
        raise ParameterError(f"truth(wave={wave!r}): use {', '.join(map(repr, ws))}, 'change' or None")
    tw = (lambda w, s: _truth_wave(w, s)) if sett == CITY else \
        (lambda w, s: _truth_wave(w, s, sett))
    if wave is not None and str(wave) in ws:
        return tw(str(wave), int(seed)).copy()
    a, b = tw(ws[0], int(seed)), tw(ws[1], int(seed))
    ch = b.copy()
    ch["wave"] = "2024-2023"
    ch["value"] = b["value"].to_numpy() - a["value"].to_numpy()
    ch["kind"] = "change"
    ch["n_pop"] = b["n_pop"].to_numpy()
    if wave is not None:
        return ch.reset_index(drop=True)
    return pd.concat([a, b, ch], ignore_index=True)
