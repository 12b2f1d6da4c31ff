"""Ratios of weighted totals as :class:`~survey.estimates.Estimates`, and batched comparisons.

:func:`ratio_estimates` is the one entry point for "many ratios ``sum w y / sum w a`` with their
joint covariance": the influence values come from :func:`survey.variance.ratio_influence` and go
to :func:`survey.variance.vcov_totals` in one call (replicate designs: the replicate formula).
Everything built on it is a contrast or a test of the result:

* :func:`batch_contrasts` -- many differences of domain means ``mean(y | g=a) − mean(y | g=b)``
  from one covariance (the subgroup comparisons of the report);
* :func:`batch_rao_scott` -- Rao–Scott tests of independence of one group variable and many
  single-choice questions, the cell proportions of all of them from one covariance
  (:func:`survey.tables.rao_scott` does the test).

The pain-point analyses (:mod:`survey.painpoints`) use :func:`ratio_estimates` for their item
shares, group-vs-rest differences and wave changes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .estimates import Estimates
from .variance import ratio_influence, replicate_estimates, replicate_vcov, vcov_totals

__all__ = ["ratio_estimates", "batch_contrasts", "batch_rao_scott"]


def ratio_estimates(design: Any, Y: np.ndarray, A: np.ndarray, *, present: np.ndarray | None = None,
                    df: Any = None, level: float = 0.95, n: Any = None) -> Estimates:
    """Ratios ``sum w Y_j / sum w A_j`` with their joint design covariance.

    Parameters
    ----------
    design : SurveyDesign
    Y, A : array, shape (n, m)
        Numerators and denominators per row (zero outside each ratio's domain).
    present : bool array, shape (n, m), optional
        Rows of each ratio's domain for the lonely-PSU rules (see
        :func:`survey.variance.vcov_totals`); linearisation designs only.
    df : float or array, optional
        Degrees of freedom (default the design's).
    level : float
        Default confidence level of the result.
    n : array, optional
        Respondents behind each ratio.

    Returns
    -------
    Estimates
        ``m`` elements; a ratio with no denominator is NaN (and has zero variance).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"c": [1, 2, 3, 4]}), psu="c")
    >>> e = ratio_estimates(d, np.array([[1.0], [0], [1], [1]]), np.ones((4, 1)))
    >>> float(e.estimate[0]), round(float(e.se[0]), 4)
    (0.75, 0.25)
    """
    Y = np.asarray(Y, float)
    A = np.asarray(A, float)
    dfv = float(design.df) if df is None else df
    w = np.asarray(design.weights, float)
    if design.is_replicate:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (w @ Y) / (w @ A)

        def fn(W: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (W.T @ Y) / (W.T @ A)
        theta, thetas = replicate_estimates(design, fn)
        thetas = np.where(np.isnan(thetas) & np.isnan(theta)[None, :], 0.0, thetas)
        V = replicate_vcov(design.replicates, np.nan_to_num(theta), thetas)
        return Estimates(r, V, df=dfv, n=n, statistic="ratio", level=level)
    r, Ta, U = ratio_influence(Y, A, w, np.zeros(len(w), np.int64), 1)
    r, Ta = r[0], Ta[0]
    # influence values resid / T_a (in place: U is a fresh array); no denominator: zero
    bad = ~(Ta > 0)
    if bad.any():
        U[:, bad] = 0.0
    with np.errstate(divide="ignore"):
        U *= np.where(bad, 0.0, 1.0 / Ta)
    return Estimates(r, vcov_totals(design, U, present), df=dfv, n=n, statistic="ratio", level=level)


def _finite_df(design: Any) -> float:
    """The design df, or the normal reference (``inf``) when it is not positive."""
    df = float(design.df)
    return df if df > 0 else np.inf


def batch_contrasts(design: Any, g: str, pairs: Sequence[tuple[str, Any, Any]],
                    level: float = 0.95) -> pd.DataFrame:
    """Differences of domain means ``mean(col | g=a) − mean(col | g=b)`` for many pairs.

    The ``2 × len(pairs)`` domain means are one :func:`ratio_estimates` call (one covariance);
    the differences are contrasts of them (:meth:`Estimates.contrast`), tested on the design's
    df.  A respondent counts where *col* is a finite number and the weight is positive.

    Parameters
    ----------
    design : SurveyDesign
    g : str
        The group variable.
    pairs : sequence of (column, level a, level b)
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``estimate, se, ci_low, ci_high, t, p, df`` per pair (in order).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"g": list("aabbab"), "y": [1.0, 2, 4, 6, 3, 5], "c": range(6)})
    >>> r = batch_contrasts(SurveyDesign(df, psu="c"), "g", [("y", "b", "a")])
    >>> float(r["estimate"].iloc[0])
    3.0
    """
    cols = ["estimate", "se", "ci_low", "ci_high", "t", "p", "df"]
    if not pairs:
        return pd.DataFrame(columns=cols)
    live = np.asarray(design.weights) > 0
    gc, glev = design.domain_index(g)
    pos = {v: i for i, v in enumerate(glev[g])}
    n, m = len(gc), len(pairs)
    Y, A = np.zeros((n, 2 * m)), np.zeros((n, 2 * m))
    for k, (col, a, b) in enumerate(pairs):
        y = pd.to_numeric(design.data[col], errors="coerce").to_numpy(float)
        ok = np.isfinite(y) & live
        y0 = np.where(ok, y, 0.0)
        for j, lv in enumerate((a, b)):
            ind = ok & (gc == pos[lv])
            A[:, 2 * k + j] = ind
            Y[:, 2 * k + j] = y0 * ind
    e = ratio_estimates(design, Y, A, df=_finite_df(design), level=level)
    L = np.zeros((m, 2 * m))
    L[np.arange(m), 2 * np.arange(m)] = 1.0
    L[np.arange(m), 2 * np.arange(m) + 1] = -1.0
    c = e.contrast(L)
    ci = c.conf_int(level)
    tt = c.test()
    return pd.DataFrame({"estimate": c.estimate, "se": c.se, "ci_low": ci[:, 0], "ci_high": ci[:, 1],
                         "t": tt["t"].to_numpy(float), "p": tt["p"].to_numpy(float),
                         "df": float(design.df)})[cols]


def batch_rao_scott(design: Any, g: str, qids: Sequence[str]) -> list[dict]:
    """Rao–Scott second-order (F) tests of independence of *g* and each single-choice question
    (R ``svychisq`` semantics, as :func:`survey.tables.crosstab`'s ``test``).

    The cell proportions of every question (cells ``g × answer`` among respondents with both,
    a positive weight) are one :func:`ratio_estimates` call; each question's block of the
    covariance goes to :func:`survey.tables.rao_scott` (levels present only, as R).

    Returns
    -------
    list of dict
        ``qid, group, F, ndf, ddf, p`` per question that has two or more rows and columns.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(0)
    >>> g = rng.choice(["a", "b"], 400)
    >>> q = np.where(rng.random(400) < np.where(g == "a", 0.7, 0.3), "yes", "no")
    >>> d = SurveyDesign(pd.DataFrame({"g": g, "q": q, "c": np.arange(400) // 4}), psu="c")
    >>> batch_rao_scott(d, "g", ["q"])[0]["p"] < 0.001
    True
    """
    from .tables import rao_scott

    live = np.asarray(design.weights) > 0
    gc, glev = design.domain_index(g)
    L = len(glev)
    n = len(gc)
    blocks, Zs, As = [], [], []
    for qid in qids:
        qc, qlev = design.domain_index(qid)
        C = len(qlev)
        ok = live & (gc >= 0) & (qc >= 0)
        cell = np.where(ok, gc * C + qc, -1)
        Z = np.zeros((n, L * C))
        idx = np.flatnonzero(ok)
        Z[idx, cell[idx]] = 1.0
        blocks.append((qid, C, np.bincount(cell[idx], minlength=L * C)))
        Zs.append(Z)
        As.append(np.repeat(ok[:, None].astype(float), L * C, axis=1))
    if not blocks:
        return []
    # cell shares p_c = T_c / T_ok of every question, their covariance from one call
    e = ratio_estimates(design, np.hstack(Zs), np.hstack(As))
    V = e.cov
    out = []
    start = 0
    for qid, C, cnt in blocks:
        K = L * C
        sl = slice(start, start + K)
        start += K
        cnt = cnt.reshape(L, C)
        ur, uc = np.flatnonzero(cnt.sum(1) > 0), np.flatnonzero(cnt.sum(0) > 0)
        if len(ur) < 2 or len(uc) < 2:
            continue
        sel = (ur[:, None] * C + uc[None, :]).ravel()
        p = e.estimate[sl][sel]
        Vp = V[sl, sl][np.ix_(sel, sel)]
        r = rao_scott(p.reshape(len(ur), len(uc)), Vp, float(design.df), N=float(live.sum()))["F"]
        out.append({"qid": qid, "group": g, "F": r.statistic, "ndf": r.ndf, "ddf": r.ddf, "p": r.p})
    return out
