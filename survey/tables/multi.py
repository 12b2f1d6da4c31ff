"""Question-aware summaries of multi-select, ranked and Likert/matrix questions.

Flow: each function resolves the question's columns (a question id via the design's
questionnaire, or explicit columns), builds per by-group the matrix ``Z`` of indicators and
scores with their "answered" denominators, and hands it to the shared ratio linearisation
(:func:`survey.tables._core.run_groups` -> :class:`~survey.estimates.Estimates` ->
:func:`~survey.tables.add_flags`).  :func:`rank_weights` (the points of rank 1..k) is public:
the pain-point analyses score ranks with it too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..validation import Integer, check
from ._core import check_scale, question_block, run_groups

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["multi", "ranked", "likert", "rank_weights"]


def multi(d: "SurveyDesign", question: str | Sequence[str], *, by: str | Sequence[str] | None = None,
          level: float = 0.95, min_n: int = 30, max_cv: float = 0.3,
          min_n_eff: float | None = 30, min_cell: int = 10, questionnaire: Any = None) -> pd.DataFrame:
    """Multi-select question: % of respondents choosing each option, share of all mentions,
    mean number chosen, each with SE/CI, deff and flags.

    Respondents with every option column missing did not answer and are left out of the
    denominator (a domain of answerers: the full design is kept).  A missing option among
    answered ones counts as not chosen.

    Parameters
    ----------
    d : SurveyDesign
    question : str or list of str
        A ``multi`` question id of the design's questionnaire (columns ``{id}_{code}``), or the
        explicit boolean / 0-1 option columns.
    by : str or list of str, optional
        Domains.
    level, min_n, max_cv, min_n_eff, min_cell
        Confidence level and flag thresholds (:func:`add_flags`).
    questionnaire : Questionnaire, optional
        Resolves a question id when the design carries no questionnaire.

    Returns
    -------
    DataFrame
        One row per (by-group, option, measure), ``measure`` in ``pct`` (share of answerers
        choosing the option), ``share`` (the option's share of all mentions); plus one row per
        by-group with ``measure == "mean_chosen"`` and ``option`` ``"(all)"``.  Columns
        ``estimate, se, ci_low, ci_high, deff, n, n_eff, n_cell, question, option, code,
        measure`` (+ by columns, ``df``, flags).  ``pct`` equals
        ``SurveyDesign.mean`` of the option indicator over answerers.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"q_1": pd.array([True, False, True, None], dtype="boolean"),
    ...                    "q_2": pd.array([True, True, False, None], dtype="boolean")})
    >>> out = SurveyDesign(df).multi(["q_1", "q_2"])
    >>> out.loc[out.measure == "pct", "estimate"].round(3).tolist()
    [0.667, 0.667]
    """
    what = "multi"
    v, flags, name, cols, codes, labels, _, B = question_block(
        d, what, question, ("multi",), questionnaire, level, (min_n, max_cv, min_n_eff, min_cell))
    answered = ~np.isnan(B).all(axis=1)
    X = np.nan_to_num(B, nan=0.0)
    if ((X != 0) & (X != 1)).any():
        raise EstimationError(f"{what}: option columns of {name!r} must be boolean or 0/1")
    K = len(cols)

    def build(mask):
        a = (answered & mask).astype(float)
        Z = np.column_stack([X * a[:, None], a, X.sum(axis=1) * a])
        kk = np.arange(K)
        num = np.concatenate([kk, kk, [K + 1]])
        den = np.concatenate([np.full(K, K), np.full(K, K + 1), [K]])
        base = np.full(2 * K + 1, K)
        ids = pd.DataFrame({"question": name,
                            "option": labels + labels + ["(all)"],
                            "code": [*codes, *codes, None],
                            "measure": ["pct"] * K + ["share"] * K + ["mean_chosen"]})
        return Z, num, den, base, ids, a > 0

    return run_groups(v, by, what, build, level,
                       flags)

def rank_weights(weights: Any, k: int, what: str,
                  error: type[Exception] = EstimationError) -> np.ndarray:
    """Points of rank 1..k for :func:`ranked`'s ``score`` (index 0, "not ranked", scores 0).

    The pain-point analyses (:mod:`survey.painpoints`) score ranks with this function too and
    raise their own ``ParameterError`` through ``error``.

    Parameters
    ----------
    weights : sequence of k numbers, mapping {rank: points} or None
        Points of rank 1, 2, ..., k; ``None``: ``k - rank + 1`` (first = k points).  A mapping
        may leave ranks at 0.
    k : int
        The top-k cut-off.
    what : str
        The calling function (named in error messages).
    error : exception class, default EstimationError

    Returns
    -------
    numpy.ndarray, shape (k + 1,)

    Examples
    --------
    >>> rank_weights(None, 3, "ranked").tolist()
    [0.0, 3.0, 2.0, 1.0]
    >>> rank_weights({1: 5}, 2, "ranked").tolist()
    [0.0, 5.0, 0.0]
    """
    if weights is None:
        return np.concatenate([[0.0], np.arange(k, 0, -1, dtype=float)])
    if isinstance(weights, Mapping):
        bad = [r for r in weights if not (isinstance(r, (int, np.integer)) and 1 <= r <= k)]
        if bad:
            raise error(f"{what}: weights keys {bad} are not ranks 1..{k}")
        out = np.zeros(k + 1)
        for r, v in weights.items():
            out[int(r)] = float(v)
        return out
    v = np.asarray(weights, dtype=float).ravel()
    if len(v) != k:
        raise error(f"{what}: weights has {len(v)} values but k={k}; give one weight per rank "
                    "(first, second, ...), e.g. weights=[3, 2, 1]")
    return np.concatenate([[0.0], v])

def ranked(d: "SurveyDesign", question: str | Sequence[str], k: int | None = None, *,
           weights: Sequence[float] | Mapping[int, float] | None = None,
           by: str | Sequence[str] | None = None, level: float = 0.95, min_n: int = 30,
           max_cv: float = 0.3, min_n_eff: float | None = 30, min_cell: int = 10, questionnaire: Any = None) -> pd.DataFrame:
    """Ranked (top-k) question: % ranking each option first, % placing it in the top k, and a
    position-weighted score, with SE/CI, deff and flags.

    Rank columns hold 1..k (NA = not chosen); respondents with every column missing did not
    answer and are left out of the denominator (domain of answerers).

    Parameters
    ----------
    d : SurveyDesign
    question : str or list of str
        A ``rank`` question id (columns ``{id}_{code}``) or the explicit rank columns.
    k : int, optional
        Top-k cut-off; default the question's ``k`` or the largest rank observed.
    weights : sequence or mapping, optional
        Score of rank 1, 2, ..., k; default ``k - rank + 1`` (first = k points).  A mapping
        ``{rank: weight}`` may leave ranks at 0.
    by, level, min_n, max_cv, min_n_eff, min_cell
        Domains, confidence level and flag thresholds.
    questionnaire : Questionnaire, optional
        Resolves a question id when the design carries no questionnaire.

    Returns
    -------
    DataFrame
        One row per (by-group, option, measure) with ``measure`` in ``pct_first``,
        ``pct_top`` (ranked within the top ``k``) and ``score`` (mean points per answerer).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"r_1": pd.array([1, 2, None, 1], dtype="Int64"),
    ...                    "r_2": pd.array([2, 1, None, None], dtype="Int64")})
    >>> out = SurveyDesign(df).ranked(["r_1", "r_2"], k=2)
    >>> out.loc[out.measure == "score", "estimate"].round(3).tolist()   # (2+1+2)/3, (1+2)/3
    [1.667, 1.0]
    """
    what = "ranked"
    v, flags, name, cols, codes, labels, qq, R = question_block(
        d, what, question, ("rank",), questionnaire, level, (min_n, max_cv, min_n_eff, min_cell))
    answered = ~np.isnan(R).all(axis=1)
    if k is None:
        k = qq.k if qq is not None and qq.k else int(np.nanmax(R)) if answered.any() else 1
    check(what, "k", k, Integer(1, example=3))
    fin = R[~np.isnan(R)]
    if ((fin < 1) | (fin != np.round(fin))).any():
        raise EstimationError(f"{what}: rank columns of {name!r} must hold ranks 1, 2, ... (NA = "
                              "not chosen); recode export values such as -2 to NA first")
    sc = rank_weights(weights, int(k), what)
    Ri = np.nan_to_num(R, nan=0.0).astype(np.int64)
    first = (Ri == 1).astype(float)
    top = ((Ri >= 1) & (Ri <= k)).astype(float)
    score = np.where(top > 0, sc[np.clip(Ri, 0, k)], 0.0)
    K = len(cols)

    def build(mask):
        a = (answered & mask).astype(float)
        Z = np.column_stack([first * a[:, None], top * a[:, None], score * a[:, None], a])
        num = np.arange(3 * K)
        den = np.full(3 * K, 3 * K)
        ids = pd.DataFrame({"question": name, "option": labels * 3, "code": codes * 3,
                            "measure": ["pct_first"] * K + ["pct_top"] * K + ["score"] * K})
        return Z, num, den, den.copy(), ids, a > 0

    out = run_groups(v, by, what, build, level, flags)
    out["k"] = int(k)
    return out

def _scale_codes(qq: Any, scale: Sequence[Any] | Mapping | None, V: np.ndarray,
                 what: str) -> tuple[list, list[str]]:
    if scale is not None:
        if isinstance(scale, Mapping):
            return list(scale), [str(v) for v in scale.values()]
        return list(scale), [str(v) for v in scale]
    if qq is not None and qq.scale:
        return list(qq.scale), [str(v) for v in qq.scale.values()]
    vals = np.unique(V[~np.isnan(V)])
    return [int(v) if float(v).is_integer() else float(v) for v in vals], [
        str(int(v)) if float(v).is_integer() else str(v) for v in vals]

def likert(d: "SurveyDesign", question: str | Sequence[str], *, top: int = 2, bottom: int = 2,
           scale: Sequence[Any] | Mapping | None = None, by: str | Sequence[str] | None = None,
           level: float = 0.95, min_n: int = 30, max_cv: float = 0.3,
           min_n_eff: float | None = 30, min_cell: int = 10, questionnaire: Any = None) -> pd.DataFrame:
    """Matrix / Likert block: per row the distribution over the scale, the mean, top-box and
    bottom-box shares, each with SE/CI, deff and flags.

    Each row (item) has its own denominator: respondents with a valid scale code on that item
    (codes outside the scale, e.g. the missing codes 98/99, count as not answered).

    Parameters
    ----------
    d : SurveyDesign
    question : str or list of str
        A ``likert``/``matrix`` question id (columns ``{id}_{rowid}``) or explicit columns.
    top, bottom : int
        Number of highest / lowest scale codes in the top-box / bottom-box (default 2).
    scale : sequence of codes or mapping code -> label, optional
        The ordered scale; default the question's ``scale`` or the codes observed.  An explicit
        scale must cover every answer code other than missing codes (the question's, default
        98/99) and negative codes; otherwise :class:`~survey.errors.EstimationError`.
    by, level, min_n, max_cv, min_n_eff, min_cell
        Domains, confidence level and flag thresholds.
    questionnaire : Questionnaire, optional
        Resolves a question id when the design carries no questionnaire.

    Returns
    -------
    DataFrame
        One row per (by-group, item, measure[, scale level]); ``measure`` in ``dist`` (with
        ``value`` / ``value_label``), ``mean``, ``top_box``, ``bottom_box``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"q_r1": pd.array([1, 4, 5, 99], dtype="Int64"),
    ...                    "q_r2": pd.array([2, 2, 3, 4], dtype="Int64")})
    >>> out = SurveyDesign(df).likert(["q_r1", "q_r2"], scale=[1, 2, 3, 4, 5])
    >>> out.loc[out.measure == "top_box", "estimate"].round(3).tolist()
    [0.667, 0.25]
    """
    what = "likert"
    v, flags, name, cols, codes, labels, qq, V = question_block(
        d, what, question, ("likert", "matrix"), questionnaire, level, (min_n, max_cv, min_n_eff, min_cell))
    scodes, slabels = _scale_codes(qq, scale, V, what)
    sv = np.asarray(scodes, dtype=float)
    if scale is not None:
        check_scale(V, cols, sv, qq, what)
    L, J = len(sv), len(cols)
    if not (0 <= top <= L and 0 <= bottom <= L):
        raise EstimationError(f"{what}: top={top}/bottom={bottom} exceed the {L}-point scale")
    valid = np.isin(V, sv)
    Vv = np.where(valid, V, 0.0)
    order = np.sort(sv)
    topset, botset = order[L - top:], order[:bottom]

    def build(mask):
        m = mask[:, None] & valid
        mf = m.astype(float)
        lev = [(Vv == s) & m for s in sv]                       # L × (n, J)
        Z = np.column_stack([np.column_stack(lev).astype(float),       # l*J + j
                             Vv * mf,                                   # L*J + j
                             (np.isin(Vv, topset) & m).astype(float),   # (L+1)*J + j
                             (np.isin(Vv, botset) & m).astype(float),   # (L+2)*J + j
                             mf])                                       # (L+3)*J + j
        jj = np.arange(J)
        num = np.concatenate([l * J + jj for l in range(L)] + [L * J + jj, (L + 1) * J + jj,
                                                                 (L + 2) * J + jj])
        den = np.tile((L + 3) * J + jj, L + 3)
        ids = pd.DataFrame({
            "question": name,
            "item": np.tile(np.asarray(codes, dtype=object), L + 3),
            "item_label": np.tile(np.asarray(labels, dtype=object), L + 3),
            "measure": ["dist"] * (L * J) + ["mean"] * J + ["top_box"] * J + ["bottom_box"] * J,
            "value": [scodes[l] for l in range(L) for _ in range(J)] + [None] * (3 * J),
            "value_label": [slabels[l] for l in range(L) for _ in range(J)] + [None] * (3 * J),
        })
        return Z, num, den, den.copy(), ids, m.any(axis=1)

    return run_groups(v, by, what, build, level, flags)
