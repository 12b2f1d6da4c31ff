"""The variance core: influence values -> PSU totals -> stratified covariance (R's ``svyrecvar``).

Free functions below every estimator (R ``survey``'s R/multistage.R and ``svrVar``).  The module
depends on numpy and scipy (and pandas' hash factoriser for non-integer ids); it knows nothing of
questionnaires, tables or reports.

Layout
------
* **Stage structure** -- :func:`build_stages` factorises strata and cluster ids once into
  :class:`Stage` records (dense codes, PSUs per stratum, population sizes, nesting); an
  unclustered design (PSU = respondent) uses the row numbers as codes (no factorisation).
  :class:`Replicates` holds replicate weights; :mod:`survey.replicates` builds them (R's
  ``svrepdesign`` / ``as.svrepdesign``).
* **Linearisation variance** -- :func:`vcov_totals` (covariance of weighted totals of ``z``),
  :func:`stage_totals_by` (PSU totals split by domain) and :func:`vcov_from_psu_totals`
  (R's ``multistage``/``onestage``/``onestrat`` with lonely-PSU rules and FPC).
* **Replicate variance** -- :func:`replicate_estimates`, :func:`replicate_vcov` (``svrVar``).
* **Degrees of freedom** -- :func:`degf` and :func:`degf_domains` (R's ``degf``), :func:`tcrit`.
* **Ratio linearisation** -- :func:`ratio_influence`: ``R = Y / X`` by domain and the influence
  values ``(y - R x) / X`` whose totals give the variance (R's ``svyratio``).

The design-level functions take any object with the read-only attributes of
:class:`survey.SurveyDesign` listed in :data:`DESIGN_ATTRIBUTES`: ``n_rows`` (rows of the data),
``weights`` (zero outside a subset's domain), ``full_weights`` (ignoring the subset), ``domain_mask`` (bool array or None), ``stages``,
``var_stages``, ``lonely_psu``, ``calibrations``, ``calibration_space`` (``(chain, rows, cache)``:
the calibrations in cell space, :class:`survey.calspace.CalibrationChain`, and the full design's
rows a compact domain holds) and ``replicates`` (a :class:`Replicates` or None).

Examples
--------
>>> import numpy as np
>>> from survey.variance import build_stages, vcov_from_psu_totals, tcrit
>>> st = build_stages(4, [np.array([1, 1, 2, 2])], [], [], False)[0]
>>> T = np.array([[1.0], [3.0]])             # PSU totals of one variable
>>> round(float(vcov_from_psu_totals(st, [T], [None], "fail")[0, 0]), 10)
4.0
>>> round(float(tcrit(0.95, 10)), 4)
2.2281
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from .errors import DesignError, EstimationError, SurveyWarning
from .validation import check_level

__all__ = [
    "DESIGN_ATTRIBUTES", "LONELY_PSU_OPTIONS", "REPLICATE_TYPES", "Stage", "Replicates", "codes", "combine_codes",
    "indicator", "n_present", "rank", "build_stages",
    "vcov_totals", "stratum_presence", "residualize", "psu_totals", "stage_totals_by", "vcov_from_psu_totals",
    "replicate_estimates",
    "replicate_vcov", "replicate_var_diag", "degf", "degf_domains", "tcrit", "ratio_influence",
]

LONELY_PSU_OPTIONS = ("fail", "remove", "adjust", "average", "certainty")
REPLICATE_TYPES = ("jk1", "jkn", "bootstrap", "brr", "fay", "other")
DESIGN_ATTRIBUTES = ("n_rows", "weights", "full_weights", "domain_mask", "stages", "var_stages", "lonely_psu",
                     "calibrations", "calibration_space", "replicates")


def codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (0..k-1, sorted order of values) and the unique values.

    Integer ids spanning a range not much wider than the data (station numbers, respondent
    ids) are coded with one ``bincount`` pass instead of a hash factorise and a sort.
    """
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu" and arr.ndim == 1 and len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * len(arr) + 1024:
            off = (arr - lo).astype(np.intp, copy=False)
            present = np.bincount(off, minlength=hi - lo + 1) > 0
            lut = np.cumsum(present) - 1
            return lut[off].astype(np.int64, copy=False), (np.flatnonzero(present) + lo).astype(arr.dtype)
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def combine_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes (0..k-1, sorted) of the interaction of two code vectors (O(n): bincount or hash)."""
    return codes(a.astype(np.int64) * (int(b.max()) + 1 if len(b) else 1) + b)[0]


def n_present(codes: np.ndarray, k: int) -> int:
    """Number of distinct values among dense codes ``0..k-1`` (one bincount, no hashing)."""
    return int(np.count_nonzero(np.bincount(codes, minlength=k)))


def indicator(codes: np.ndarray, k: int, n: int, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse ``k x n`` matrix with a one in (codes[i], i); ``rows`` restricts the columns used."""
    if rows is None:
        cols = np.arange(n)
        r = codes
    else:
        cols = np.flatnonzero(rows)
        r = codes[cols]
    return sp.csr_matrix((np.ones(len(cols)), (r, cols)), shape=(k, n))


@dataclass(frozen=True)
class Stage:
    """One sampling stage: cluster and stratum codes (nested in earlier stages)."""

    cl: np.ndarray  # (n,) cluster code, unique across the whole design
    st: np.ndarray  # (n,) stratum code
    n_cl: int
    n_st: int
    cl_stratum: np.ndarray  # (C,) stratum of each cluster
    npsu: np.ndarray  # (H,) number of clusters in stratum (full design)
    popsize: np.ndarray  # (H,) population number of clusters (inf without fpc)
    st_parent: np.ndarray  # (H,) cluster code of the enclosing unit at the previous stage (0 at stage 1)
    n_parent: int
    cl_mult: np.ndarray  # (C,) product over earlier stages of n_h / N_h
    st_label: np.ndarray  # (H,) printable stratum label
    _ind: dict  # cache of sparse indicator matrices

    def cl_indicator(self, n: int) -> sp.csr_matrix:
        m = self._ind.get("cl")
        if m is None:
            m = self._ind["cl"] = indicator(self.cl, self.n_cl, n)
        return m

    def st_indicator(self, n: int) -> sp.csr_matrix:
        m = self._ind.get("st")
        if m is None:
            m = self._ind["st"] = indicator(self.st, self.n_st, n)
        return m


@dataclass(frozen=True)
class Replicates:
    """Replicate (analysis) weights and R's ``svrVar`` multipliers."""

    W: np.ndarray  # (n, R) analysis (combined) replicate weights
    scale: float
    rscales: np.ndarray  # (R,)
    mse: bool
    type: str
    degf: int


# ----------------------------------------------------------------------------------------------
# stage structure
# ----------------------------------------------------------------------------------------------
def build_stages(n: int, psu: Sequence[Any], strata: Sequence[Any], fpc: Sequence[Any],
                 nest: bool = False, *, names: dict | None = None) -> tuple[list[Stage], list]:
    """Factorise the sampling structure once (R's ``svydesign`` ids/strata/fpc handling).

    Parameters
    ----------
    n : int
        Number of rows.
    psu, strata, fpc : sequences of 1-D arrays (or Series)
        Cluster ids per stage (empty: every row is its own PSU -- no factorisation), stratum
        ids per stage, population sizes or sampling fractions per stage.
    nest : bool
        Cluster ids are unique only within strata (R's ``nest=TRUE``).
    names : dict, optional
        ``{"psu": [...], "strata": [...], "fpc": [...]}`` column names for error messages.

    Returns
    -------
    (stages, popsize_rows)
        One :class:`Stage` per stage, and per stage the population size of each row's stratum
        (``None`` without fpc).

    Examples
    --------
    >>> import numpy as np
    >>> s = build_stages(6, [np.array([1, 1, 2, 2, 3, 3])], [np.array([1, 1, 1, 1, 2, 2])], [], False)[0][0]
    >>> s.n_cl, s.n_st, s.npsu.tolist()
    (3, 2, [2.0, 1.0])
    """
    names = names or {}
    psu_cols = list(names.get("psu") or [f"psu[{i}]" for i in range(len(psu))])
    strata_cols = list(names.get("strata") or [f"strata[{i}]" for i in range(len(strata))])
    fpc_cols = list(names.get("fpc") or [f"fpc[{i}]" for i in range(len(fpc))])
    data = {**dict(zip(psu_cols, psu)), **dict(zip(strata_cols, strata)), **dict(zip(fpc_cols, fpc))}
    nstage = max(1, len(psu_cols))
    if fpc_cols and len(fpc_cols) != nstage:
        raise DesignError(
            f"SurveyDesign: fpc= has {len(fpc_cols)} column(s) but the design has {nstage} "
            "stage(s); give one fpc column per stage (as R)"
        )
    if len(strata_cols) > nstage:
        raise DesignError(
            f"SurveyDesign: strata= has {len(strata_cols)} columns but psu= only {nstage} stages"
        )
    # raw ids
    ids, id_labels = [], []
    if not psu_cols:
        ids.append(np.arange(n, dtype=np.int64))
        id_labels.append(None)  # row numbers: never needed (a row sits in one stratum)
    def coded(c: str, role: str, hint: str) -> tuple[np.ndarray, np.ndarray]:
        na = pd.isna(data[c])
        if na.any():
            raise DesignError(f"SurveyDesign: {role} column {c!r} has {int(na.sum())} missing values{hint}")
        return codes(data[c])

    for c in psu_cols:
        code, lab = coded(c, "psu", "; every respondent needs a cluster id")
        ids.append(code)
        id_labels.append(lab)
    strat, strat_labels = [], []
    for c in strata_cols:
        code, lab = coded(c, "strata", "")
        strat.append(code)
        strat_labels.append(lab.astype(str))
    if not strat:
        strat = [np.zeros(n, dtype=np.int64)]
        strat_labels = [np.array(["1"])]
    # R: ids[, i] <- interaction(ids[, 1:i])
    raw_first = ids[0]
    for i in range(1, nstage):
        ids[i] = combine_codes(ids[i - 1], ids[i])
    if nest and strata_cols:
        for i in range(nstage if psu_cols else 0):  # row numbers are unique already
            s = strat[0]
            for j in range(1, min(i + 1, len(strat))):
                s = combine_codes(s, strat[j])
            ids[i] = combine_codes(s, ids[i])
    # every code vector is dense (0..k-1, all present): counts come from the maximum
    if int(ids[0].max()) == 0 and not (nest and strata_cols):
        raise DesignError("SurveyDesign: the design has only one primary sampling unit")
    if strata_cols and not nest and psu_cols:  # a per-row PSU cannot straddle strata
        # each PSU must sit in one stratum
        first_st = strat[0][_first_index(ids[0], int(ids[0].max()) + 1)]
        clash = strat[0] != first_st[ids[0]]
        if clash.any():
            bad = int(ids[0][np.flatnonzero(clash)[0]])
            lab = id_labels[0][raw_first[np.flatnonzero(ids[0] == bad)[0]]]
            strata_of = np.unique(strat[0][ids[0] == bad])
            raise DesignError(
                f"SurveyDesign: PSU {lab!r} (column {psu_cols[0]!r}) appears in "
                f"{len(strata_of)} strata ({', '.join(strat_labels[0][strata_of][:5])}); "
                "PSU ids that repeat across strata are only allowed with nest=True"
            )
    # fpc values
    fpc_raw = []
    for c in fpc_cols:
        try:
            v = pd.to_numeric(pd.Series(data[c]), errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise DesignError(f"SurveyDesign: fpc column {c!r} is not numeric") from None
        if np.isnan(v).any():
            raise DesignError(
                f"SurveyDesign: fpc column {c!r} has {int(np.isnan(v).sum())} missing values"
            )
        if (v <= 0).any():
            raise DesignError(f"SurveyDesign: fpc column {c!r} has values <= 0")
        fpc_raw.append(v)
    if fpc_raw:
        allv = np.concatenate(fpc_raw)
        anybig = bool((allv > 1).any())
        if anybig and not (allv >= 1).all():
            raise DesignError(
                "SurveyDesign: fpc columns mix population sizes (> 1) and sampling fractions "
                f"(< 1) in {fpc_cols}; use one kind for every stage (as R)"
            )
        is_popsize = anybig
    stages, popsize_rows = [], []
    prev_mult_rows = np.ones(n) if nstage > 1 else None
    for i in range(nstage):
        if i == 0:
            st = strat[0]
            st_label = strat_labels[0]
        else:
            s_src = strat[min(i, len(strat) - 1)]
            st = combine_codes(ids[i - 1], s_src)  # R: interaction(strata[, i], ids[, i - 1])
            H = int(st.max()) + 1
            first = _first_index(st, H)
            prev_lab = np.asarray(stages[-1].cl)[first]
            if len(strata_cols) > i:
                st_label = np.array([f"unit {a + 1} / {strat_labels[i][b]}"
                                     for a, b in zip(prev_lab, s_src[first])])
            else:
                st_label = np.array([f"unit {a + 1}" for a in prev_lab])
        cl = ids[i]  # dense already (codes / combine_codes / arange): no second factorise
        C, H = int(cl.max()) + 1, int(st.max()) + 1
        cl_stratum = np.zeros(C, dtype=np.int64)
        if H > 1:  # one stratum: every cluster is in stratum 0 already
            cl_stratum[cl] = st
        npsu = (np.bincount(cl_stratum, minlength=H).astype(float) if H > 1
                else np.array([float(C)]))
        st_parent = np.zeros(H, dtype=np.int64)
        if i > 0:
            st_parent = stages[-1].cl[_first_index(st, H)]
        n_parent = 1 if i == 0 else stages[-1].n_cl
        if fpc_raw:
            v = fpc_raw[i]
            H_first = _first_index(st, H)
            per = v[H_first]
            if not np.allclose(v, per[st], rtol=1e-12, atol=0):
                bad = int(np.flatnonzero(~np.isclose(v, per[st], rtol=1e-12, atol=0))[0])
                raise DesignError(
                    f"SurveyDesign: fpc column {fpc_cols[i]!r} varies within stratum "
                    f"{st_label[st[bad]]!r} at stage {i + 1}; it must be constant per stratum"
                )
            pop = per if is_popsize else npsu / per
            if (pop < npsu - 1e-9).any():
                bad = int(np.flatnonzero(pop < npsu - 1e-9)[0])
                raise DesignError(
                    f"SurveyDesign: fpc column {fpc_cols[i]!r} implies more than 100% sampling "
                    f"in stratum {st_label[bad]!r} at stage {i + 1} (population {pop[bad]:g}, "
                    f"sample {npsu[bad]:g} units)"
                )
        else:
            pop = np.full(H, np.inf)
        if i == 0:  # nothing sampled before the first stage
            cl_mult = np.ones(C)
        else:
            cl_mult = np.zeros(C)
            cl_mult[cl] = prev_mult_rows
        stages.append(Stage(cl, st, C, H, cl_stratum, npsu, pop, st_parent, n_parent,
                             cl_mult, np.asarray(st_label), {}))
        # per-row population sizes only feed weights derived from the fpc
        popsize_rows.append(pop[st] if fpc_raw else None)
        if i + 1 < nstage:
            prev_mult_rows = prev_mult_rows * (npsu / pop)[st]
    return stages, popsize_rows


def _first_index(codes: np.ndarray, k: int) -> np.ndarray:
    first = np.full(k, -1, dtype=np.int64)
    idx = np.arange(len(codes))
    first[codes[::-1]] = idx[::-1]
    return first


def rank(M: np.ndarray, tol: float = 1e-5) -> int:
    """Numerical rank (R's ``qr(., tol=1e-5)$rank`` in practice), via the Gram matrix for tall M."""
    M = np.asarray(M, dtype=float)
    if M.size == 0:
        return 0
    if M.shape[0] > M.shape[1]:
        G = M.T @ M
        ev = np.clip(np.linalg.eigvalsh(G), 0, None)
        s = np.sqrt(ev[::-1])
    else:
        s = np.linalg.svd(M, compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int((s > tol * s[0]).sum())


# ----------------------------------------------------------------------------------------------
# linearisation variance (R's svyrecvar)
# ----------------------------------------------------------------------------------------------
def residualize(design: Any, x: np.ndarray) -> np.ndarray:
    """Apply the design's calibrations in order (R's ``postStrata`` list in ``svyrecvar``).

    The reference for :func:`psu_totals`, for full-row designs only: a compact domain's
    residuals reach rows it does not hold."""
    if design.calibrations and getattr(design, "calibration_space", (None, None))[1] is not None:
        raise DesignError("residualize: a compact domain holds only its rows; use psu_totals "
                          "(or subset without compact=True)")
    for cal in design.calibrations:
        x = np.asarray(cal.residualize(x), dtype=float)
    return x


def psu_totals(design: Any, x: Any) -> list[np.ndarray]:
    """PSU totals ``C_s r(x)`` of the (calibration-residualised) weighted values ``x``
    (``n_rows x p``, dense or sparse) at every variance stage, dense ``clusters x p``.

    Calibrations are applied in cell space (:class:`survey.calspace.CalibrationChain`): the
    same totals as summing :func:`residualize` by PSU, without an ``n x p`` residual matrix.
    """
    stages = design.stages[: design.var_stages]
    n = design.n_rows
    if not design.calibrations:
        return [np.asarray(s.cl_indicator(n) @ x) if not sp.issparse(x) else (s.cl_indicator(n) @ x).toarray()
                for s in stages]
    chain, rows, cache = design.calibration_space
    return chain.psu_totals(x, stages, rows, cache)


def vcov_totals(design: Any, z: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Covariance matrix of the weighted totals ``sum_i w_i z_i`` (R's ``svyrecvar(w * z, ...)``).

    Parameters
    ----------
    design : SurveyDesign (or any object with :data:`DESIGN_ATTRIBUTES`)
    z : array, shape (n,) or (n, p)
        Per-respondent values over the full data (zero outside a domain); the weights are
        applied here.  Calibrated designs residualise ``w z`` first.
    present : bool array, shape (n,) or (n, p), optional
        Rows that belong to each column's domain (lonely-PSU semantics, as R's row-dropping
        ``subset``); default: the subset's domain, or every row.

    Returns
    -------
    numpy.ndarray, shape (p, p)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"c": [1, 1, 2, 2], "y": [1.0, 2, 3, 4]}), psu="c")
    >>> vcov_totals(d, d.data["y"].to_numpy()).round(10).tolist()
    [[16.0]]
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n = design.n_rows
    if z.shape[0] != n:
        raise EstimationError(f"vcov_totals: z has {z.shape[0]} rows, the design {n}")
    w = design.weights
    rep = design.replicates
    dm = design.domain_mask
    if rep is not None:
        tot = np.column_stack([w, rep.W if dm is None else rep.W * dm[:, None]]).T @ z
        return replicate_vcov(rep, tot[0], tot[1:])
    x = w[:, None] * z
    stages = design.stages[: design.var_stages]
    Ts = psu_totals(design, x)
    Ps = stratum_presence(design, present)
    if Ps[0] is not None and Ps[0].shape[1] == 1 and x.shape[1] > 1:
        Ps = [np.repeat(P, x.shape[1], axis=1) for P in Ps]
    return vcov_from_psu_totals(stages, Ts, Ps, design.lonely_psu)


def stratum_presence(design: Any, present: np.ndarray | None = None) -> list:
    """Per variance stage, the ``H_s x q`` bool presence of each stratum in the ``q`` columns
    of ``present`` (``n_rows`` or ``n_rows x q`` rows of each domain), or ``None`` per stage
    (every stratum present): the lonely-PSU domain rule of :func:`vcov_totals`.

    A calibrated design keeps every stratum (R: no lonely-PSU presence after calibration);
    without ``present`` a subset's domain counts (``design.domain_mask``), else every row.
    """
    stages = design.stages[: design.var_stages]
    if design.calibrations:
        present = None
    elif present is None:
        present = design.domain_mask
    if present is None:
        return [None] * len(stages)
    pr = np.asarray(present, dtype=float)
    if pr.ndim == 1:
        pr = pr[:, None]
    return [(s.st_indicator(design.n_rows) @ pr) > 0 for s in stages]


def stage_totals_by(design: Any, x: np.ndarray, dom: np.ndarray, D: int,
                    valid: np.ndarray | None) -> tuple[list, list]:
    """PSU totals of ``x`` (``n x q``, already weighted) split by domain (columns ordered
    domain-major: ``d*q + v``) and the stratum presence of each (domain, variable) column, for
    every variance stage; ``dom`` codes rows ``0..D-1`` (``-1`` = in no domain)."""
    n = design.n_rows
    q = x.shape[1]
    rows = dom >= 0
    lonely = design.lonely_psu
    Ts, Ps = [], []
    for s in design.stages[: design.var_stages]:
        key = s.cl * D + np.where(rows, dom, 0)
        A = indicator(key, s.n_cl * D, n, rows)
        Ts.append(np.asarray(A @ x).reshape(s.n_cl, D * q))
        if lonely in ("fail", "average") or (s.npsu == 1).any():
            skey = s.st * D + np.where(rows, dom, 0)
            B = indicator(skey, s.n_st * D, n, rows)
            if valid is None:  # presence shared by every variable of a domain
                P1 = (np.asarray(B @ np.ones(n)) > 0).reshape(s.n_st, D)
                Ps.append(np.repeat(P1, q, axis=1))
            else:
                Ps.append((np.asarray(B @ valid.astype(float)) > 0).reshape(s.n_st, D * q))
        else:
            Ps.append(None)
    return Ts, Ps


def vcov_from_psu_totals(stages: Sequence[Stage], Ts: list, Ps: list, lonely: str,
                         diag_only: bool = False,
                         blocks: Sequence[Any] | None = None) -> np.ndarray | list[np.ndarray]:
    """R's ``multistage``/``onestage``/``onestrat`` given PSU totals per stage.

    ``Ts[s]``: ``C_s x p`` cluster totals of the weighted (residualised) values at stage ``s``;
    ``Ps[s]``: ``H_s x p`` bool presence of each stratum per column, or ``None`` (all present).
    PSU totals are centred within strata and scaled by ``f_h n_h / (n_h - 1)`` (``f_h`` the
    fraction not sampled); later stages enter with the product of earlier ``n_h / N_h``.
    ``lonely`` is one of :data:`LONELY_PSU_OPTIONS`.  With ``diag_only`` only the variances;
    with ``blocks`` (a sequence of column index arrays or slices) only those diagonal blocks
    of the covariance, as a list (each column's variance term depends on its own column and
    presence only, so a block equals the same block of the full matrix).
    """
    p = Ts[0].shape[1]
    if blocks is not None:
        V = [np.zeros((len(range(p)[b]),) * 2) if isinstance(b, slice) else np.zeros((len(b), len(b)))
             for b in blocks]
    else:
        V = np.zeros(p) if diag_only else np.zeros((p, p))
    for si, (s, T, P) in enumerate(zip(stages, Ts, Ps)):
        npsu = s.npsu
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(s.popsize), 1.0, (s.popsize - npsu) / s.popsize)
        is_lonely = npsu == 1
        census = f < 1e-7
        # stratum means of the cluster totals (padding to npsu is implicit: every PSU is kept)
        Sst = indicator(s.cl_stratum, s.n_st, s.n_cl)
        means = np.asarray(Sst @ T) / npsu[:, None]
        centre = means
        if lonely == "adjust" and is_lonely.any():
            centre = means.copy()
            centre[is_lonely] = 0.0
        Tc = T - centre[s.cl_stratum]
        with np.errstate(divide="ignore", invalid="ignore"):
            a_st = np.where(is_lonely, f, f * npsu / (npsu - 1.0))
        a_st = np.where(census, 0.0, a_st)
        lonely_live = is_lonely & ~census
        if lonely_live.any():
            if lonely == "fail":
                live = lonely_live if P is None else lonely_live & P.any(axis=1)
                if live.any():
                    h = int(np.flatnonzero(live)[0])
                    raise DesignError(
                        f"Stratum {str(s.st_label[h])!r} has only one PSU at stage {si + 1}; "
                        "choose lonely_psu='adjust', 'average', 'remove' or 'certainty' "
                        "(or merge strata)"
                    )
            if lonely in ("remove", "certainty", "average"):
                a_st = np.where(is_lonely, 0.0, a_st)
        scale_c = a_st[s.cl_stratum] * s.cl_mult
        if lonely == "average" and lonely_live.any():
            # factor nstrat/nokstrat per (parent unit, column), over strata present
            Pm = np.ones((s.n_st, p), dtype=bool) if P is None else P
            G = indicator(s.st_parent, s.n_parent, s.n_st)
            nstrat = np.asarray(G @ Pm.astype(float))
            nok = np.asarray(G @ (Pm & ~lonely_live[:, None]).astype(float))
            with np.errstate(divide="ignore", invalid="ignore"):
                fac = nstrat / nok
                fac = np.where(nstrat == 0, 1.0, fac)
                # every stratum lonely: 0 * inf, NaN as R (nstrat / nokstrat with nokstrat 0)
                Y = Tc * np.sqrt(scale_c[:, None] * fac[s.st_parent[s.cl_stratum]])
        else:
            Y = Tc * np.sqrt(scale_c)[:, None]
        if blocks is not None:
            for k, b in enumerate(blocks):
                Yb = Y[:, b]
                V[k] += Yb.T @ Yb
        elif diag_only:
            V = V + np.einsum("ij,ij->j", Y, Y)
        else:
            V = V + Y.T @ Y
    return V


# ----------------------------------------------------------------------------------------------
# replicate variance (R's svrVar)
# ----------------------------------------------------------------------------------------------
def replicate_estimates(design: Any, fn: Callable[[np.ndarray], np.ndarray],
                        vectorised: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a statistic under the full-sample and every replicate weight.

    ``fn(W)`` receives ``n x (1 + R)`` weights (column 0 = full sample; zero outside a subset's
    domain) and returns ``(1 + R) x p``; with ``vectorised=False`` it receives one weight vector
    at a time and returns ``p`` values.  Returns ``(theta, thetas)`` (``p`` and ``R x p``).
    """
    rep = design.replicates
    if rep is None:
        raise DesignError("replicate_estimates: the design has no replicate weights; build them "
                          "with design.replicate(...) or design.replicate_weighting(...)")
    W = np.column_stack([np.asarray(design.weights), rep.W])
    dm = design.domain_mask
    if dm is not None:
        W[:, 1:] *= dm[:, None]
    if vectorised:
        out = np.asarray(fn(W), dtype=float)
        if out.ndim == 1:
            out = out[:, None]
    else:
        out = np.array([np.atleast_1d(fn(W[:, j])) for j in range(W.shape[1])], dtype=float)
    return out[0], out[1:]


def replicate_vcov(rep: Replicates, theta: np.ndarray, thetas: np.ndarray,
                   blocks: Sequence[Any] | None = None) -> np.ndarray | list[np.ndarray]:
    """R's ``svrVar``: ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'`` with ``c`` the
    replicate mean, or ``theta`` when ``rep.mse``; replicates giving NaN are dropped (warning).
    With ``blocks`` (column index arrays or slices) only those diagonal blocks, as a list (a
    replicate giving NaN in any column is dropped from every block, as from the full matrix).

    Examples
    --------
    >>> import numpy as np
    >>> rep = Replicates(np.ones((2, 3)), 1.0, np.ones(3), False, "other", 2)
    >>> replicate_vcov(rep, np.array([1.0]), np.array([[0.0], [1.0], [2.0]])).tolist()
    [[2.0]]
    """
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim == 1:
        thetas = thetas[:, None]
    rs = rep.rscales
    ok = ~np.isnan(thetas).any(axis=1)
    if not ok.all():
        warnings.warn(f"{int((~ok).sum())} replicates gave NA results and were discarded",
                      SurveyWarning, stacklevel=3)
        thetas, rs = thetas[ok], rs[ok]
    centre = np.asarray(theta, float) if rep.mse else thetas[rs > 0].mean(axis=0)
    dev = (thetas - centre) * np.sqrt(rs)[:, None]
    if blocks is not None:
        return [rep.scale * (dev[:, b].T @ dev[:, b]) for b in blocks]
    return rep.scale * (dev.T @ dev)


def replicate_var_diag(rep: Replicates, theta: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """The diagonal of :func:`replicate_vcov` without forming the matrix (no NaN dropping)."""
    rs = rep.rscales
    centre = theta if rep.mse else thetas[rs > 0].mean(axis=0)
    return rep.scale * ((thetas - centre) ** 2 * rs[:, None]).sum(axis=0)


# ----------------------------------------------------------------------------------------------
# degrees of freedom and t quantiles
# ----------------------------------------------------------------------------------------------
def degf(design: Any, rows: np.ndarray | None = None) -> int:
    """R's ``degf``: ``#PSU - #strata`` among rows with a non-zero weight (and in ``rows``);
    replicate designs: rank of the replicate weights (of ``rows``) minus one."""
    rep = design.replicates
    if rep is not None:
        return rep.degf if rows is None else rank(rep.W[rows]) - 1
    w = design.full_weights  # the subset's domain enters only through ``rows``
    inset = w != 0 if rows is None else (w != 0) & rows
    s0 = design.stages[0]
    return n_present(s0.cl[inset], s0.n_cl) - n_present(s0.st[inset], s0.n_st)


def degf_domains(design: Any, dom: np.ndarray, D: int) -> np.ndarray:
    """Degrees of freedom of each domain (codes ``0..D-1``; ``-1`` = none), vectorised."""
    rep = design.replicates
    if rep is not None:
        return np.array([rank(rep.W[dom == d]) - 1 for d in range(D)], dtype=float)
    s0 = design.stages[0]
    inset = (design.full_weights != 0) & (dom >= 0)
    ncl = (np.bincount(s0.cl[inset] * D + dom[inset], minlength=s0.n_cl * D) > 0)
    nst = (np.bincount(s0.st[inset] * D + dom[inset], minlength=s0.n_st * D) > 0)
    return (ncl.reshape(s0.n_cl, D).sum(axis=0) - nst.reshape(s0.n_st, D).sum(axis=0)).astype(float)


def tcrit(level: float, df: Any) -> np.ndarray:
    """Two-sided critical value for confidence ``level``: Student t with ``df`` degrees of
    freedom (normal for ``inf``; NaN for ``df <= 0``), elementwise over ``df``.

    Examples
    --------
    >>> tcrit(0.95, [float("inf"), 0]).round(4).tolist()
    [1.96, nan]
    """
    check_level("tcrit", level)
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        t = np.where(np.isinf(df), stats.norm.ppf(0.5 + level / 2),
                     stats.t.ppf(0.5 + level / 2, np.maximum(df, 1e-300)))
    return np.where(df > 0, t, np.nan)


# ----------------------------------------------------------------------------------------------
# ratio linearisation
# ----------------------------------------------------------------------------------------------
def ratio_influence(Y: np.ndarray, X: np.ndarray | None, w: np.ndarray, dom: np.ndarray, D: int,
                    valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratios ``R_dv = sum w y / sum w x`` by domain and their residuals ``y - R x``.

    ``Y``, ``X`` are ``n x q`` (``X=None``: a mean, ``x = 1``); ``dom`` codes the rows
    (``-1``: in no domain); ``valid`` (``n x q``) marks complete cases.  Returns
    ``(R, X_total, resid)`` with ``R``, ``X_total`` of shape ``(D, q)`` and ``resid`` ``n x q``
    (zero outside a domain or the complete cases).  The influence values of ``R`` are
    ``resid / X_total[dom]`` (R's ``svyratio``); their weighted totals give the variance.

    Examples
    --------
    >>> import numpy as np
    >>> R, X, r = ratio_influence(np.array([[1.0], [3.0]]), None, np.ones(2), np.zeros(2, int), 1)
    >>> R.tolist(), X.tolist(), r.ravel().tolist()
    ([[2.0]], [[2.0]], [-1.0, 1.0])
    """
    n, q = Y.shape
    rows = dom >= 0
    if D == 1 and valid is None and rows.all() and not np.isnan(Y).any() \
            and (X is None or not np.isnan(X).any()):
        # one domain of every row (ratios of column totals): dense products, no gather
        Ysum = (w @ Y)[None, :]
        Xsum = np.full((1, q), w.sum()) if X is None else (w @ X)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            est = Ysum / Xsum
        return est, Xsum, (Y - est) if X is None else (Y - est * X)
    dcode = np.where(rows, dom, 0)
    M = sp.csr_matrix((np.ones(int(rows.sum())), (dcode[rows], np.flatnonzero(rows))), shape=(D, n))
    if valid is None:
        Y0 = np.where(rows[:, None], Y, 0.0) if np.isnan(Y).any() else Y
        X0 = None if X is None else (np.where(rows[:, None], X, 0.0) if np.isnan(X).any() else X)
        Xsum = (np.repeat(np.asarray(M @ w)[:, None], q, axis=1) if X0 is None
                else np.asarray(M @ (w[:, None] * X0)))
    else:
        Y0 = np.where(valid, Y, 0.0)
        X0 = None if X is None else np.where(valid, X, 0.0)
        Xsum = (np.asarray(M @ (w[:, None] * valid)) if X0 is None
                else np.asarray(M @ (w[:, None] * X0)))
    Ysum = np.asarray(M @ (w[:, None] * Y0))
    with np.errstate(divide="ignore", invalid="ignore"):
        est = Ysum / Xsum
        e = est[dcode]
        resid = Y0 - (e if X0 is None else e * X0)
    if valid is not None:
        resid = np.where(valid, resid, 0.0)
    return est, Xsum, resid
