"""Ratios of weighted totals as :class:`~survey.estimates.Estimates`, and batched comparisons.

:func:`ratio_estimates` is the one entry point for "many ratios ``sum w y / sum w a`` with their
joint covariance": the influence values come from :func:`survey.variance.ratio_influence` and go
to :func:`survey.variance.vcov_totals` in one call (replicate designs: the replicate formula).
:func:`ratio_blocks` is the same linearisation when only diagonal blocks of that covariance are
wanted and the numerators and denominators are combinations of a sparse basis (one-hot cells,
group indicators): the influence values' PSU totals are the basis' PSU totals times a small
matrix, so neither the dense ``n x m`` influence matrix nor the ``m x m`` covariance is formed.
Everything built on them is a contrast or a test of the result:

* :func:`batch_contrasts` -- many differences of domain means ``mean(y | g=a) − mean(y | g=b)``
  from one call (the subgroup comparisons of the report; each pair's 2 x 2 block);
* :func:`batch_rao_scott` -- Rao–Scott tests of independence of one group variable and many
  single-choice questions, the cell proportions of all of them from one call (each question's
  block; :func:`survey.tables.rao_scott` does the test).

The pain-point analyses (:mod:`survey.painpoints`) use :func:`ratio_estimates` for their item
shares, group-vs-rest differences and wave changes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

import scipy.sparse as sp

from .estimates import Estimates
from .variance import (psu_totals, ratio_influence, replicate_estimates, replicate_vcov, stratum_presence,
                       vcov_from_psu_totals, vcov_totals)

__all__ = ["ratio_estimates", "ratio_blocks", "batch_contrasts", "batch_rao_scott"]

#: PSU totals held at once by :func:`ratio_blocks` (clusters x columns, floats): the columns
#: are processed in chunks of whole blocks below this size.
CHUNK_CELLS = 4_000_000


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


def ratio_blocks(design: Any, Z: Any, num: Any, den: Any, blocks: Sequence[np.ndarray], *,
                 present: np.ndarray | None = None,
                 present_of: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Ratios of linear combinations of the columns of ``Z`` and the diagonal blocks of their
    covariance, without the ``n x m`` influence matrix nor the ``m x m`` covariance.

    Ratio ``j`` is ``T(Z num_j') / T(Z den_j')`` (``T`` the weighted total).  Its influence
    values ``(Z num_j' - r_j Z den_j') / T(Z den_j')`` are ``Z b_j'`` with ``B = (num - r den) /
    T_den`` (zero rows for an empty denominator, as :func:`ratio_estimates`), and PSU totals are
    linear (through calibration too: :func:`survey.variance.psu_totals`), so the PSU totals of
    the influence values are those of ``Z`` (sparse) times ``B'``.  Each block's covariance then
    goes through :func:`survey.variance.vcov_from_psu_totals` with the lonely-PSU presence of
    :func:`survey.variance.stratum_presence` -- the numbers of :func:`ratio_estimates` on the
    dense ``Z num'`` and ``Z den'``, block by block.  Replicate designs recompute the ratios
    under every replicate weight (``W' Z``, then the same combinations) and take the blocks of
    :func:`survey.variance.replicate_vcov`.

    Parameters
    ----------
    design : SurveyDesign
    Z : array or sparse matrix, shape (n, b)
        Basis columns per row (zero outside each domain), e.g. one-hot cell indicators.
    num, den : array or sparse matrix, shape (m, b)
        Coefficients of the numerator and denominator of each ratio on the basis.
    blocks : sequence of int arrays
        Ratios whose joint covariance is wanted (each a block of the result).
    present : bool array, shape (n,) or (n, P), optional
        Domains of the lonely-PSU rules (as :func:`ratio_estimates`); linearisation only.
    present_of : int array, shape (m,), optional
        Column of ``present`` that is ratio ``j``'s domain (default column 0).

    Returns
    -------
    (estimate, covs)
        The ``m`` ratios (NaN for an empty denominator) and one covariance matrix per block.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"c": [1, 2, 3, 4]}), psu="c")
    >>> Z = np.array([[1.0, 1], [0, 1], [1, 1], [1, 1]])      # an indicator and "answered"
    >>> r, (V,) = ratio_blocks(d, Z, np.array([[1.0, 0]]), np.array([[0.0, 1]]), [np.array([0])])
    >>> float(r[0]), round(float(np.sqrt(V[0, 0])), 4)        # ratio_estimates' docstring example
    (0.75, 0.25)
    """
    w = np.asarray(design.weights, float)
    Zc = sp.csc_matrix(Z, dtype=float)
    num = sp.csr_matrix(num, dtype=float)
    den = sp.csr_matrix(den, dtype=float)
    Tz = Zc.T @ w
    Tn, Ta = num @ Tz, den @ Tz
    with np.errstate(divide="ignore", invalid="ignore"):
        r = Tn / Ta
    blocks = [np.asarray(b, dtype=np.intp) for b in blocks]
    if design.is_replicate:
        def fn(W: np.ndarray) -> np.ndarray:
            TW = np.asarray(Zc.T @ W).T  # (1 + R) x b
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(num @ TW.T).T / np.asarray(den @ TW.T).T
        theta, thetas = replicate_estimates(design, fn)
        thetas = np.where(np.isnan(thetas) & np.isnan(theta)[None, :], 0.0, thetas)
        return r, replicate_vcov(design.replicates, np.nan_to_num(theta), thetas, blocks=blocks)
    bad = ~(Ta > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(bad, 0.0, 1.0 / Ta)
        B = sp.diags(inv) @ (num - sp.diags(np.where(bad, 0.0, r)) @ den)
    B = sp.csr_matrix(B)
    stages = design.stages[: design.var_stages]
    lonely = design.lonely_psu
    Ps = stratum_presence(design, present)
    if Ps[0] is not None:
        pcol = np.zeros(len(r), np.intp) if present_of is None else np.asarray(present_of, np.intp)
    if lonely == "fail":
        # the error the one dense call would raise (the first stratum, stage by stage, with a
        # lonely PSU in any column's domain), before any chunk could raise a later one
        used = None if Ps[0] is None else np.unique(np.concatenate([pcol[b] for b in blocks] or [pcol[:0]]))
        vcov_from_psu_totals(stages, [np.zeros((s.n_cl, 1)) for s in stages],
                             [None if P is None else P[:, used].any(axis=1, keepdims=True) for P in Ps],
                             lonely, diag_only=True)
    ncl = max(s.n_cl for s in stages)
    Wz = sp.diags(w) @ Zc
    covs: list[np.ndarray] = []
    k = 0
    seen = np.zeros(B.shape[1], bool)
    while k < len(blocks):
        # whole blocks while the PSU totals of their basis columns and ratios stay in budget
        stop, nrow, ncol = k, 0, 0
        seen[:] = False
        while stop < len(blocks):
            bc = B[blocks[stop]].indices
            new = np.unique(bc[~seen[bc]])
            if stop > k and ncl * (nrow + len(blocks[stop]) + ncol + len(new)) > CHUNK_CELLS:
                break
            seen[new] = True
            nrow, ncol, stop = nrow + len(blocks[stop]), ncol + len(new), stop + 1
        rows = np.concatenate(blocks[k:stop])
        cols = np.flatnonzero(seen)
        Bc = B[rows][:, cols]
        Ts = [np.asarray(Bc @ T.T).T for T in psu_totals(design, Wz[:, cols])]
        local, at = [], 0
        for b in blocks[k:stop]:
            local.append(slice(at, at + len(b)))
            at += len(b)
        covs += vcov_from_psu_totals(stages, Ts, [None if P is None else P[:, pcol[rows]] for P in Ps],
                                     lonely, blocks=local)
        k = stop
    return r, covs


def _finite_df(design: Any) -> float:
    """The design df, or the normal reference (``inf``) when it is not positive."""
    df = float(design.df)
    return df if df > 0 else np.inf


def batch_contrasts(design: Any, g: str, pairs: Sequence[tuple[str, Any, Any]],
                    level: float = 0.95) -> pd.DataFrame:
    """Differences of domain means ``mean(col | g=a) − mean(col | g=b)`` for many pairs.

    The ``2 × len(pairs)`` domain means are one :func:`ratio_blocks` call on a sparse basis
    (each column and its "answered" indicator split by group), forming only each pair's 2 × 2
    covariance; the differences are contrasts of them (:meth:`Estimates.contrast`), tested on
    the design's df.  A respondent counts where *col* is a finite number and the weight is positive.

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
    G = len(pos)
    # sparse basis: per column, y and "answered" split by group level (columns 2 (c G + l) and
    # 2 (c G + l) + 1); each pair's two means are ratios of them, its 2 x 2 block all it needs
    ycols = list(dict.fromkeys(col for col, _, _ in pairs))
    ri, ci, vals = [], [], []
    for c, col in enumerate(ycols):
        y = pd.to_numeric(design.data[col], errors="coerce").to_numpy(float)
        rows = np.flatnonzero(np.isfinite(y) & live & (gc >= 0))
        at = 2 * (c * G + gc[rows].astype(np.intp))
        ri += [rows, rows]
        ci += [at, at + 1]
        vals += [y[rows], np.ones(len(rows))]
    Z = sp.csc_matrix((np.concatenate(vals), (np.concatenate(ri), np.concatenate(ci))),
                      shape=(n, 2 * len(ycols) * G))
    cix = {col: c for c, col in enumerate(ycols)}
    at = np.array([2 * (cix[col] * G + pos[lv]) for col, a, b in pairs for lv in (a, b)], dtype=np.intp)
    one = np.ones(2 * m)
    num = sp.csr_matrix((one, (np.arange(2 * m), at)), shape=(2 * m, Z.shape[1]))
    den = sp.csr_matrix((one, (np.arange(2 * m), at + 1)), shape=(2 * m, Z.shape[1]))
    r, covs = ratio_blocks(design, Z, num, den, np.arange(2 * m).reshape(m, 2))
    V = np.zeros((2 * m, 2 * m))  # block diagonal: the contrasts below read only their blocks
    for k, B in enumerate(covs):
        V[2 * k:2 * k + 2, 2 * k:2 * k + 2] = B
    return _pair_differences(Estimates(r, V, df=_finite_df(design), statistic="ratio", level=level),
                            level, float(design.df))


def _pair_differences(e: Estimates, level: float, df: float) -> pd.DataFrame:
    """``e[2k] − e[2k+1]`` for each pair *k* of the means in *e*: ``estimate, se, ci_low,
    ci_high, t, p`` (at *level*, on the contrasts' df) and the design's *df*, one row per pair
    (the frame of :func:`batch_contrasts`)."""
    m = len(e.estimate) // 2
    L = np.zeros((m, 2 * m))
    L[np.arange(m), 2 * np.arange(m)] = 1.0
    L[np.arange(m), 2 * np.arange(m) + 1] = -1.0
    c = e.contrast(L)
    ci = c.conf_int(level)
    tt = c.test()
    return pd.DataFrame({"estimate": c.estimate, "se": c.se, "ci_low": ci[:, 0], "ci_high": ci[:, 1],
                         "t": tt["t"].to_numpy(float), "p": tt["p"].to_numpy(float), "df": df})


def batch_rao_scott(design: Any, g: str, qids: Sequence[str]) -> list[dict]:
    """Rao–Scott second-order (F) tests of independence of *g* and each single-choice question
    (R ``svychisq`` semantics, as :func:`survey.tables.crosstab`'s ``test``).

    The cell proportions of every question (cells ``g × answer`` among respondents with both,
    a positive weight) are one :func:`ratio_blocks` call on the sparse one-hot cells: only each
    question's own block of the covariance is formed, and it goes to
    :func:`survey.tables.rao_scott` (levels present only, as R).

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
    # basis: every question's one-hot cells g x answer, then every question's "has both" column
    heads, cells, rows_, counts = [], [], [], []
    oks = []
    for qid in qids:
        qc, qlev = design.domain_index(qid)
        C = len(qlev)
        ok = live & (gc >= 0) & (qc >= 0)
        idx = np.flatnonzero(ok)
        cell = gc[idx].astype(np.int64) * C + qc[idx]
        heads.append((qid, C))
        counts.append(np.bincount(cell, minlength=L * C))
        rows_.append(idx)
        cells.append(cell)
        oks.append(ok)
    if not heads:
        return []
    K = np.array([L * C for _, C in heads], dtype=np.intp)
    off = np.concatenate([[0], np.cumsum(K)])
    m, Q = int(off[-1]), len(heads)
    data_rows = np.concatenate(rows_ + [np.flatnonzero(o) for o in oks])
    data_cols = np.concatenate([c + off[j] for j, c in enumerate(cells)]
                               + [np.full(int(o.sum()), m + j) for j, o in enumerate(oks)])
    Z = sp.csc_matrix((np.ones(len(data_rows)), (data_rows, data_cols)), shape=(n, m + Q))
    # cell shares p_c = T_c / T_ok: numerator the cell, denominator its question's column
    num = sp.csr_matrix((np.ones(m), (np.arange(m), np.arange(m))), shape=(m, m + Q))
    den = sp.csr_matrix((np.ones(m), (np.arange(m), m + np.repeat(np.arange(Q), K))), shape=(m, m + Q))
    est, covs = ratio_blocks(design, Z, num, den, [np.arange(off[j], off[j + 1]) for j in range(Q)])
    out = []
    for j, ((qid, C), cnt) in enumerate(zip(heads, counts)):
        cnt = cnt.reshape(L, C)
        ur, uc = np.flatnonzero(cnt.sum(1) > 0), np.flatnonzero(cnt.sum(0) > 0)
        if len(ur) < 2 or len(uc) < 2:
            continue
        sel = (ur[:, None] * C + uc[None, :]).ravel()
        p = est[off[j]:off[j + 1]][sel]
        Vp = covs[j][np.ix_(sel, sel)]
        r = rao_scott(p.reshape(len(ur), len(uc)), Vp, float(design.df), N=float(live.sum()))["F"]
        out.append({"qid": qid, "group": g, "F": r.statistic, "ndf": r.ndf, "ddf": r.ddf, "p": r.p})
    return out
