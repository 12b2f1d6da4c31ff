"""Replicate weights (R's ``svrepdesign`` and ``as.svrepdesign``): building the structure.

:func:`make_replicates` takes given replicate weights (R's ``svrepdesign``: scale and rscales
defaults per type); :func:`replicate_multipliers` builds PSU multipliers for the jackknife
(``jk1``, ``jkn``) and the bootstrap (R's ``jknweights`` / ``bootweights``);
:func:`replicate_design` is the body of :meth:`survey.SurveyDesign.replicate` (R's
``as.svrepdesign``).  The variance from replicates (``svrVar``) is in :mod:`survey.variance`
(:func:`~survey.variance.replicate_vcov`), which holds the :class:`~survey.variance.Replicates`
record; this module depends on it, never the other way.

Examples
--------
>>> import numpy as np
>>> from survey.variance import build_stages
>>> s0 = build_stages(4, [np.array([1, 1, 2, 3])], [], [])[0][0]
>>> rep = replicate_design(s0, np.ones(4), "jk1", stratified=False, fpc=False, lonely="fail")
>>> rep.W.shape, rep.degf
((4, 3), 2)
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .errors import DesignError, SurveyWarning
from .validation import Integer, Options, check
from .variance import REPLICATE_TYPES, Replicates, Stage, build_stages, rank  # build_stages: doctests

__all__ = ["make_replicates", "replicate_multipliers", "replicate_design"]


def _jkn_multipliers(s0: Stage, fpc_f: np.ndarray | None, lonely: str):
    """R's ``jknweights`` (compressed: one row per PSU)."""
    C, H = s0.n_cl, s0.n_st
    cols, rscales = [], []
    nstrat = H
    skipped = 0
    for h in range(H):
        members = np.flatnonzero(s0.cl_stratum == h)
        nh = len(members)
        f = 1.0 if fpc_f is None else float(fpc_f[h])
        if nh == 1 and f != 0:
            if lonely == "fail":
                raise DesignError(
                    f"replicate: stratum {s0.st_label[h]!r} has only one PSU; choose another "
                    "lonely_psu option"
                )
            if lonely in ("remove", "certainty", "average"):
                skipped += 1
                continue
            col = np.where(s0.cl_stratum == h, 0.0, nstrat / (nstrat - 1.0))
            cols.append(col)
            rscales.append((nstrat - 1.0) / nstrat)
            continue
        for j in members:
            col = np.ones(C)
            col[members] = nh / (nh - 1.0) if nh > 1 else 1.0
            col[j] = 0.0
            cols.append(col)
            rscales.append(f * (nh - 1.0) / nh)
    if not cols:
        raise DesignError("replicate: all strata were exhaustively sampled (no variance)")
    scale = 1.0
    if skipped and lonely == "average":
        scale = C / len(cols)
    return np.column_stack(cols), np.array(rscales), scale


def _boot_multipliers(s0: Stage, R: int, rng: np.random.Generator, popsize: np.ndarray | None):
    """R's ``bootweights``: per stratum draw n_h PSUs with replacement; multiplier = count."""
    C, H = s0.n_cl, s0.n_st
    mult = np.zeros((C, R))
    order = np.argsort(s0.cl_stratum, kind="stable")
    st_sorted = s0.cl_stratum[order]
    starts = np.searchsorted(st_sorted, np.arange(H))
    nh = s0.npsu.astype(np.int64)
    if popsize is None:
        # draw positions within stratum for every (PSU slot, replicate) at once
        u = rng.random((C, R))
        pos = np.floor(u * nh[st_sorted][:, None]).astype(np.int64)
        target = order[starts[st_sorted][:, None] + pos]  # (C, R) chosen PSU index
        key = target * R + np.arange(R)[None, :]
        mult = np.bincount(key.ravel(), minlength=C * R).reshape(C, R).astype(float)
    else:
        for h in range(H):
            members = order[starts[h]: starts[h] + nh[h]]
            Nh = int(round(popsize[h]))
            pool = np.resize(members, Nh)
            for r in range(R):  # per stratum and replicate: construction only
                chosen = rng.choice(pool, size=nh[h], replace=False)
                mult[:, r] += np.bincount(chosen, minlength=C)
    psu_per_strata = 1.0 / np.mean(1.0 / nh)
    scale = psu_per_strata / ((psu_per_strata - 1.0) * (R - 1.0))
    return mult, scale


def make_replicates(W: np.ndarray, w: np.ndarray, rep_type: str | None, scale: float | None,
                    rscales: Any, mse: bool, combined: bool, rho: float | None) -> Replicates:
    """Replicate-weight structure as R's ``svrepdesign``: scale and rscales defaults per type,
    ``W`` multiplied by the sampling weights unless ``combined``, df = rank(W) - 1.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 2.0], [2, 0], [1, 1]])
    >>> r = make_replicates(W, np.ones(3), "jk1", None, None, False, True, None)
    >>> r.scale, r.degf
    (0.5, 1)
    """
    n = len(w)
    W = np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != n:
        raise DesignError(f"SurveyDesign: repweights must be n x R (n={n}), got {W.shape}")
    if np.isnan(W).any():
        raise DesignError("SurveyDesign: missing values are not allowed in repweights")
    R = W.shape[1]
    if rep_type is None:
        raise DesignError("SurveyDesign: give rep_type= ('jk1', 'jkn', 'bootstrap', 'brr', 'fay', 'other')")
    t = rep_type.lower()
    if t not in REPLICATE_TYPES:
        raise DesignError(f"SurveyDesign: rep_type={rep_type!r} is not one of {REPLICATE_TYPES}")
    if not combined:
        W = W * w[:, None]
    if rscales is not None:
        rs = np.broadcast_to(np.asarray(rscales, dtype=float), (R,)).copy()
    else:
        rs = None
    if t == "brr":
        if scale is not None:
            raise DesignError("SurveyDesign: rep_type='brr' fixes scale=1/R; do not pass scale=")
        scale = 1.0 / R
    elif t == "fay":
        if rho is None:
            raise DesignError("SurveyDesign: rep_type='fay' needs rho=")
        scale = 1.0 / (R * (1.0 - rho) ** 2)
    elif t == "bootstrap":
        scale = 1.0 / (R - 1.0) if scale is None else scale
    elif t == "jk1":
        scale = (R - 1.0) / R if scale is None else scale
    elif t == "jkn":
        if rs is None:
            raise DesignError("SurveyDesign: rep_type='jkn' with combined weights needs rscales= "
                              "((n_h - 1)/n_h for each replicate), as R")
    if rs is None:
        rs = np.ones(R)
    if scale is None:
        scale = 1.0
    degf = rank(W) - 1
    return Replicates(W, float(scale), rs, bool(mse), t, int(degf))


def replicate_multipliers(s0: Stage, method: str, *, stratified: bool, fpc: bool, lonely: str,
                          replicates: int = 50, rng: np.random.Generator | None = None,
                          ) -> tuple[np.ndarray, np.ndarray, float]:
    """PSU multipliers (``C x R``), rscales and scale of R's ``as.svrepdesign`` types.

    ``method`` is ``"jk1"`` (unstratified), ``"jkn"`` (stratified) or ``"bootstrap"``
    (``replicates`` draws from ``rng``); ``fpc`` uses the first stage's population sizes.

    Examples
    --------
    >>> import numpy as np
    >>> s0 = build_stages(4, [np.array([1, 1, 2, 3])], [], [])[0][0]
    >>> m, rs, scale = replicate_multipliers(s0, "jk1", stratified=False, fpc=False, lonely="fail")
    >>> m.tolist(), round(scale, 4)
    ([[0.0, 1.5, 1.5], [1.5, 0.0, 1.5], [1.5, 1.5, 0.0]], 0.6667)
    """
    C = s0.n_cl
    fpc_f = (s0.popsize - s0.npsu) / s0.popsize if fpc else None  # (H,) fraction not sampled
    if method == "jk1":
        if stratified:
            raise DesignError("replicate: jk1 is for unstratified designs; use 'jkn'")
        mult = np.full((C, C), C / (C - 1.0))
        np.fill_diagonal(mult, 0.0)
        f = 1.0 if fpc_f is None else float(fpc_f[0])
        return mult, np.ones(C), f * (C - 1) / C
    if method == "jkn":
        if not stratified:
            raise DesignError("replicate: jkn needs a stratified design; use 'jk1' or 'bootstrap'")
        return _jkn_multipliers(s0, fpc_f, lonely)
    if method == "bootstrap":
        rng = np.random.default_rng() if rng is None else rng
        mult, scale = _boot_multipliers(s0, replicates, rng, s0.popsize if fpc else None)
        return mult, np.ones(replicates), scale
    raise DesignError(f"replicate: method {method!r} is not one of 'jk1', 'jkn', 'bootstrap', 'auto'")


def replicate_plan(s0: Stage, n: int, method: str = "auto", replicates: int = 50, *,
                   stratified: bool, fpc: bool, lonely: str, multistage_fpc: bool = False,
                   seed: int | np.random.Generator | None = None,
                   mse: bool = False) -> tuple[np.ndarray, Replicates]:
    """The replicate structure of a linearisation design without its ``n x R`` weights: the PSU
    multipliers (``C x R``, small) and a :class:`Replicates` with an empty ``W`` (``n x 0``), so
    a caller can form ``w[:, None] * mult[s0.cl]`` a block of columns at a time.

    Parameters
    ----------
    s0 : Stage
        The design's first stage (``design.stages[0]``).
    n : int
        Number of rows of the design.
    method, replicates, seed, mse
        As :meth:`survey.SurveyDesign.replicate` (``auto``: ``jkn`` when ``stratified``).
    stratified, fpc, lonely
        Whether the design has strata, a first-stage fpc, and its lonely-PSU rule.
    multistage_fpc : bool
        The design has fpcs after the first stage (dropped, with a warning, as R).

    Returns
    -------
    (numpy.ndarray, Replicates)

    Examples
    --------
    >>> import numpy as np
    >>> s0 = build_stages(6, [np.array([1, 1, 2, 2, 3, 3])], [], [])[0][0]
    >>> mult, r = replicate_plan(s0, 6, "jk1", stratified=False, fpc=False, lonely="fail")
    >>> mult.shape, r.W.shape, r.type
    ((3, 3), (6, 0), 'jk1')
    """
    method = str(method).lower()
    check("replicate", "replicates", replicates, Integer(2, example=200), error=DesignError)
    check("replicate", "method", method, Options(("auto", "jk1", "jkn", "bootstrap")),
          error=DesignError)
    if method == "auto":
        method = "jkn" if stratified else "jk1"
    if multistage_fpc:
        warnings.warn("replicate: finite population corrections after the first stage "
                      "are dropped (as R)", SurveyWarning, stacklevel=3)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mult, rscales, scale = replicate_multipliers(
        s0, method, stratified=stratified, fpc=fpc, lonely=lonely, replicates=replicates, rng=rng)
    degf = rank(mult) - 1
    return mult, Replicates(np.zeros((n, 0)), float(scale), np.asarray(rscales, float), bool(mse),
                            method, int(degf))


def replicate_design(s0: Stage, weights: np.ndarray, method: str = "auto", replicates: int = 50, *,
                     stratified: bool, fpc: bool, lonely: str, multistage_fpc: bool = False,
                     seed: int | np.random.Generator | None = None, mse: bool = False) -> Replicates:
    """Replicate weights of a linearisation design (R's ``as.svrepdesign``): the weights times
    each replicate's PSU multipliers (:func:`replicate_plan`).

    Parameters
    ----------
    s0 : Stage
        The design's first stage (``design.stages[0]``).
    weights : array, shape (n,)
        The full-sample weights (multiplied by each replicate's PSU multipliers).
    method, replicates, seed, mse, stratified, fpc, lonely, multistage_fpc
        As :func:`replicate_plan`.

    Returns
    -------
    Replicates

    Examples
    --------
    >>> import numpy as np
    >>> s0 = build_stages(6, [np.array([1, 1, 2, 2, 3, 3])], [], [])[0][0]
    >>> r = replicate_design(s0, np.ones(6), "bootstrap", 20, stratified=False, fpc=False,
    ...                      lonely="fail", seed=1)
    >>> r.W.shape, r.type
    ((6, 20), 'bootstrap')
    """
    mult, rep = replicate_plan(s0, len(weights), method, replicates, stratified=stratified, fpc=fpc,
                               lonely=lonely, multistage_fpc=multistage_fpc, seed=seed, mse=mse)
    W = np.asarray(weights)[:, None] * mult[s0.cl]
    return Replicates(W, rep.scale, rep.rscales, rep.mse, rep.type, rep.degf)
