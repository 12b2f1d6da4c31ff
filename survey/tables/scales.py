"""Scale scores of Likert/matrix items: the design-based mean score with Cronbach's alpha.

Flow: resolve the items (a question id or explicit columns), reverse-code, keep respondents
with at least ``min_items`` valid items, then the mean score per by-group is a ratio of totals
through the shared linearisation (:func:`survey.tables._core.run_groups`); alpha is computed on
the complete rows of each group (textbook and design-weighted).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..validation import Options, check
from ._core import check_scale, groups, question_block, run_groups

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["cronbach_alpha", "ScaleScore", "scale_score"]


def cronbach_alpha(items: np.ndarray | pd.DataFrame, weights: np.ndarray | None = None) -> float:
    """Cronbach's alpha ``k/(k-1) (1 - sum var(item) / var(sum))`` on complete rows.

    Parameters
    ----------
    items : array (n, k) or DataFrame
        Item scores (already reverse-coded where needed); rows with any missing item are
        dropped.
    weights : array (n,), optional
        Sampling weights for weighted (co)variances; ``None`` gives the textbook value.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 5, 4]], dtype=float)
    >>> round(cronbach_alpha(x), 4)
    0.9286
    """
    X = np.asarray(items, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2:
        raise EstimationError("cronbach_alpha: needs an n × k matrix with at least 2 items")
    ok = ~np.isnan(X).any(axis=1)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=float)
    ok &= w > 0
    X, w = X[ok], w[ok]
    if len(X) < 2:
        return float("nan")
    k = X.shape[1]
    C = np.cov(X, rowvar=False, aweights=w)
    tot = C.sum()
    return float(k / (k - 1) * (1 - np.trace(C) / tot)) if tot > 0 else float("nan")


@dataclass
class ScaleScore:
    """A summed or mean scale score (see :func:`scale_score`).

    Attributes
    ----------
    frame : DataFrame
        The design-based mean of the score per by-group (``estimate, se, ...``) with
        ``alpha`` (textbook, unweighted) and ``alpha_weighted`` of the group's complete rows.
    scores : Series
        Per-respondent score (NaN where not computed), aligned with the design's data.
    alpha, alpha_weighted : float
        Cronbach's alpha over all complete respondents (unweighted / design-weighted).
    items, reverse : list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 4, 4, 5], "c": [5, 4, 3, 2, 2]})
    >>> s = SurveyDesign(df).scale_score(["a", "b", "c"], reverse=["c"], scale=[1, 2, 3, 4, 5])
    >>> s.scores.round(3).tolist()
    [1.333, 2.0, 3.333, 4.0, 4.667]
    >>> round(float(s.frame["estimate"].iloc[0]), 3)
    3.067
    """

    frame: pd.DataFrame
    scores: pd.Series
    alpha: float
    alpha_weighted: float
    items: list[str]
    reverse: list[str]
    method: str

    def to_frame(self) -> pd.DataFrame:
        """The estimate frame (a copy).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> s = SurveyDesign(pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 3, 4]})).scale_score(["a", "b"])
        >>> float(s.to_frame()["estimate"].iloc[0])
        2.625
        """
        return self.frame.copy()

    def __repr__(self) -> str:
        return (f"ScaleScore({self.method} of {len(self.items)} items, alpha={self.alpha:.3f}, "
                f"mean={self.frame['estimate'].iloc[0]:.4g})")


def scale_score(d: "SurveyDesign", items: str | Sequence[str], *,
                reverse: Sequence[str] | None = None, method: str = "mean",
                scale: Sequence[float] | None = None, min_items: int | None = None,
                by: str | Sequence[str] | None = None, level: float = 0.95, min_n: int = 30,
                max_cv: float = 0.3, min_n_eff: float | None = 30,
                min_cell: int = 10, questionnaire: Any = None) -> ScaleScore:
    """Summed or mean score over items, with Cronbach's alpha and the design-based mean score.

    Parameters
    ----------
    d : SurveyDesign
    items : str or list of str
        A ``likert``/``matrix`` question id (its row columns; its ``reversed`` rows are reversed
        unless ``reverse=`` is given) or explicit item columns.
    reverse : list of str, optional
        Items to reverse-code, ``x -> (lo + hi) - x`` with ``lo/hi`` the scale's ends.  Names may
        be column names or (for a question) row ids.
    method : {"mean", "sum"}
        Mean of the answered items, or their sum (prorated to all items when ``min_items`` lets
        some be missing).
    scale : sequence of numbers, optional
        Valid codes (default: the question's scale, else the codes observed); missing codes
        (the question's, default 98/99) and negative codes count as missing, any other code
        outside an explicit scale is an :class:`~survey.errors.EstimationError`.
    min_items : int, optional
        Respondents need at least this many valid items (default: all).
    by, level, min_n, max_cv, min_n_eff, min_cell
        Domains, confidence level and flag thresholds.
    questionnaire : Questionnaire, optional
        Resolves a question id when the design carries no questionnaire.

    Returns
    -------
    ScaleScore

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 4, 4, 5], "c": [5, 4, 3, 2, 2]})
    >>> s = SurveyDesign(df).scale_score(["a", "b", "c"], reverse=["c"], scale=[1, 2, 3, 4, 5])
    >>> s.scores.round(3).tolist()
    [1.333, 2.0, 3.333, 4.0, 4.667]
    >>> round(s.alpha, 3)
    0.977
    """
    what = "scale_score"
    check(what, "method", method, Options(("mean", "sum")))
    v, flags, name, cols, codes, labels, qq, V = question_block(
        d, what, items, ("likert", "matrix"), questionnaire, level, (min_n, max_cv, min_n_eff, min_cell))
    if reverse is None:
        rev = [f"{qq.id}_{r}" for r in qq.reversed] if qq is not None else []
    else:
        rev = []
        for r in reverse:
            c = r if r in cols else (f"{qq.id}_{r}" if qq is not None else r)
            if c not in cols:
                raise EstimationError(f"{what}: reverse item {r!r} is not one of the items {cols}")
            rev.append(c)
    if scale is not None:
        sv = np.asarray(list(scale), dtype=float)
        check_scale(V, cols, sv, qq, what)
    elif qq is not None and qq.scale:
        sv = np.asarray(list(qq.scale), dtype=float)
    else:
        sv = np.unique(V[~np.isnan(V)])
    valid = np.isin(V, sv)
    V = np.where(valid, V, np.nan)
    lo, hi = float(sv.min()), float(sv.max())
    for c in rev:
        j = cols.index(c)
        V[:, j] = lo + hi - V[:, j]
    k = len(cols)
    need = k if min_items is None else int(min_items)
    if not 1 <= need <= k:
        raise EstimationError(f"{what}: min_items={min_items} must be between 1 and {k}")
    nvalid = valid.sum(axis=1)
    ok = nvalid >= need
    Vok = np.where(ok[:, None], V, np.nan)
    cnt = (~np.isnan(Vok)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.nansum(Vok, axis=1) / cnt
    score = mean_score if method == "mean" else mean_score * k
    score = np.where(ok, score, np.nan)
    w_all = v.w

    def build(mask):
        a = (ok & mask).astype(float)
        Z = np.column_stack([np.nan_to_num(score) * a, a])
        ids = pd.DataFrame({"scale": [name], "measure": [method]})
        return Z, np.array([0]), np.array([1]), np.array([1]), ids, a > 0

    frame = run_groups(v, by, what, build, level, flags)
    by_cols, _, masks = groups(v, by, what)
    frame["alpha"] = [cronbach_alpha(V[m & (w_all > 0)]) for m in masks]
    frame["alpha_weighted"] = [cronbach_alpha(V[m], w_all[m]) for m in masks]
    full = np.ones(v.n, dtype=bool) if v.dom is None else v.dom
    return ScaleScore(frame=frame, scores=pd.Series(score, index=v.design.data.index, name=name),
                      alpha=cronbach_alpha(V[full & (w_all > 0)]),
                      alpha_weighted=cronbach_alpha(V[full], w_all[full]),
                      items=cols, reverse=rev, method=method)
