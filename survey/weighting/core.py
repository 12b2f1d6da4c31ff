"""Array-level weighting algorithms (no SurveyDesign needed).

* :class:`CellTable` — respondents collapsed once to the cells of the margin variables
  (one pass: category codes, a mixed-radix cell id, ``np.bincount``).  Raking and categorical
  calibration run on the cell table (a few hundred cells), then expand once.
* :func:`ipf` — iterative proportional fitting on the cell table, for one weight vector or a
  matrix of replicate weights at once (``scipy.sparse`` aggregation).
* :func:`grake` — R ``survey:::grake`` (Newton / generalised raking with ``MASS::ginv``,
  step halving, the same stopping rule) for calfun ``linear``/``raking``/``logit`` with bounds,
  and :func:`grake_batch`, the same vectorised over replicate-weight columns.
* :func:`trim_weights` — caps with redistribution (R ``trimWeights`` semantics for
  ``redistribute="equal"``).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"sex": ["m", "m", "f", "f"], "age": ["y", "o", "y", "o"]})
>>> from survey.weighting.targets import parse_margins
>>> ms = parse_margins({"sex": {"m": 6, "f": 4}, "age": {"y": 5, "o": 5}})
>>> ct = CellTable(df, ms)
>>> f, trace, ok = ipf(ct.cell_totals(np.ones(4)), ct, epsilon=1e-12)
>>> w = f[ct.cell]
>>> round(float(w[:2].sum()), 8), ok
(6.0, True)
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import TargetMismatchError, WeightingError
from ..validation import Options, check
from .targets import Margin

__all__ = ["CellTable", "ipf", "grake", "grake_batch", "CALFUNS", "trim_weights",
           "model_matrix", "check_bounds"]

_EPS = np.finfo(float).eps


# ---------------------------------------------------------------------------------------------
# level matching and the cell table
# ---------------------------------------------------------------------------------------------
def _codes_for(col: pd.Series, levels: list[str], var: str,
               collapse: Mapping | None, weights: np.ndarray | None) -> np.ndarray:
    """Map a column to indices of ``levels`` (one pass); mismatches are loud errors."""
    if col.isna().any():
        k = int(col.isna().sum())
        raise TargetMismatchError(
            f"weighting variable {var!r} has {k} missing value(s); impute them, drop those "
            "respondents, or give the missing answers a level that has a population total")
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in col.cat.categories]
        raw_codes = col.cat.codes.to_numpy()
    else:
        raw_codes, uniq = pd.factorize(col.astype(str), sort=False)
        cats = [str(c) for c in uniq]
    rule = (collapse or {}).get(var) or {}
    back = {str(o): str(n) for n, olds in rule.items() for o in olds}
    cats = [back.get(c, c) for c in cats]
    pos = {lev: i for i, lev in enumerate(levels)}
    lut = np.array([pos.get(c, -1) for c in cats] + [-1], dtype=np.int64)
    codes = lut[raw_codes]
    if (codes < 0).any():
        present = np.bincount(raw_codes[codes < 0], minlength=len(cats))
        missing = sorted({cats[i] for i in np.flatnonzero(present)})
        raise TargetMismatchError(
            f"weighting variable {var!r}: sample level(s) {missing} have no population "
            f"target (target levels: {levels}). Options: collapse levels (declare "
            f"'collapse: {{{var}: {{new level: [old levels]}}}}' in population.yml or pass "
            f"collapse=), or drop the margin")
    return codes


def _fast_cells(data: pd.DataFrame, variables: Sequence[str], levels: Mapping[str, list[str]],
                strides: Mapping[str, int], collapse: Mapping | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(cell, full_id, counts)`` as :class:`CellTable` defines them, when every margin
    variable is categorical, in a few in-place integer passes: the respondents' cells are first
    numbered by their raw category codes (mixed radix, no lookups per respondent), and only the
    cells that occur -- a few hundred -- are mapped to target levels.  Returns ``None`` when a
    variable is not categorical, the raw cell space is too large, or some respondent is missing
    or matches no target level, so that the general path raises its precise error."""
    cols = [data[v] for v in variables]
    if not cols or not all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols):
        return None
    n = len(cols[0])
    sizes = [len(c.cat.categories) + 1 for c in cols]  # + 1: code -1 (missing)
    raw_radix = math.prod(sizes)
    if n == 0 or raw_radix > max(4 * n, 1 << 22):
        return None
    raw = np.array(cols[0].cat.codes.to_numpy(), dtype=np.int64)
    for col, m in zip(cols[1:], sizes[1:]):
        raw *= m
        raw += col.cat.codes.to_numpy()
    offset, r = 0, 1
    for m in reversed(sizes):
        offset += r
        r *= m
    raw += offset  # every digit shifted by one: code -1 -> 0
    counts_raw = np.bincount(raw, minlength=raw_radix)
    used = np.flatnonzero(counts_raw)
    level_id = np.zeros(len(used), dtype=np.int64)
    rem = used.copy()
    for v, col, m in zip(reversed(variables), reversed(cols), reversed(sizes)):
        digit = rem % m - 1
        rem //= m
        rule = (collapse or {}).get(v) or {}
        back = {str(o): str(nw) for nw, olds in rule.items() for o in olds}
        pos = {lev: i for i, lev in enumerate(levels[v])}
        lut = np.array([pos.get(back.get(str(c), str(c)), -1) for c in col.cat.categories]
                       + [-1], dtype=np.int64)  # the last entry serves digit -1 (missing)
        idx = lut[digit]
        if (idx < 0).any():
            return None
        level_id += idx * strides[v]
    full, compact = np.unique(level_id, return_inverse=True)
    to_cell = np.zeros(raw_radix, dtype=np.int64)
    to_cell[used] = compact
    counts = np.bincount(compact, weights=counts_raw[used], minlength=len(full))
    return to_cell[raw], full, counts.astype(np.int64)


class CellTable:
    """Respondents collapsed to the cells of the categorical margin variables.

    Attributes
    ----------
    cell : ndarray (n,)
        Compact cell index of each respondent.
    n_cells : int
    margin_index : list of ndarray (n_cells,)
        For each categorical margin, the index of its level (cross cell) for every cell.
    targets : list of ndarray
        Target totals per margin level, in the order of ``margin_levels``.
    """

    def __init__(self, data: pd.DataFrame, margins: Sequence[Margin],
                 collapse: Mapping | None = None, weights: np.ndarray | None = None) -> None:
        self.margins = [m for m in margins if not m.numeric]
        variables: list[str] = []
        levels: dict[str, list[str]] = {}
        for m in self.margins:
            for j, v in enumerate(m.variables):
                if v not in data.columns:
                    raise TargetMismatchError(
                        f"weighting variable {v!r} is not a column of the data; columns are "
                        f"{list(data.columns)[:20]}...")
                if v not in levels:
                    variables.append(v)
                    levels[v] = []
                for lev in m.totals:
                    if lev[j] not in levels[v]:
                        levels[v].append(lev[j])
        self.variables = variables
        self.levels = levels
        n = len(data)
        self.n = n
        radix = 1
        strides = {}
        for v in reversed(variables):
            strides[v] = radix
            radix *= len(levels[v])
        self.strides = strides
        fast = _fast_cells(data, variables, levels, strides, collapse)
        if fast is not None:
            self.cell, self.full_id, self.counts = fast
        else:  # general path; also raises the precise mismatch errors
            cell = np.zeros(n, dtype=np.int64)
            for v in reversed(variables):
                codes = _codes_for(data[v], levels[v], v, collapse, weights)
                cell += codes * strides[v]
            if radix <= max(4 * n, 1 << 22):
                counts = np.bincount(cell, minlength=radix)
                full = np.flatnonzero(counts)
                lut = np.full(radix, -1, dtype=np.int64)
                lut[full] = np.arange(len(full))
                self.cell = lut[cell]
                self.full_id = full
                self.counts = counts[full]
            else:
                full, inv, counts = np.unique(cell, return_inverse=True, return_counts=True)
                self.cell, self.full_id, self.counts = inv, full, counts
        self.n_cells = len(self.full_id)
        # per-variable level index of each cell
        self.cell_levels = {v: (self.full_id // strides[v]) % len(levels[v]) for v in variables}
        self.margin_index: list[np.ndarray] = []
        self.margin_levels: list[list[tuple[str, ...]]] = []
        self.targets: list[np.ndarray] = []
        self._agg: list[sp.csr_matrix] = []
        for m in self.margins:
            sizes = [len(levels[v]) for v in m.variables]
            idx = np.zeros(self.n_cells, dtype=np.int64)
            for v, s in zip(m.variables, sizes):
                idx = idx * s + self.cell_levels[v]
            ncross = int(np.prod(sizes))
            all_levels = list(_product([levels[v] for v in m.variables]))
            tgt = np.array([m.totals.get(lev, np.nan) for lev in all_levels])
            present = np.bincount(idx, minlength=ncross) > 0
            # sample cells of a cross without a target (not given, or given as zero)
            miss_t = present & ~(np.nan_to_num(tgt, nan=0.0) > 0)
            if miss_t.any():
                bad = [all_levels[i] for i in np.flatnonzero(miss_t)]
                raise TargetMismatchError(
                    f"margin {m.label}: sample cell(s) {_fmt(bad)} have no (or a zero) "
                    "population total. Options: collapse levels (declare 'collapse:' in "
                    "population.yml or pass collapse=), or drop the margin")
            miss_s = (~present) & (np.nan_to_num(tgt, nan=0.0) > 0)
            if miss_s.any():
                bad = [all_levels[i] for i in np.flatnonzero(miss_s)]
                raise TargetMismatchError(
                    f"margin {m.label}: population level(s) {_fmt(bad)} have no respondents in "
                    "the sample. Options: collapse levels (declare 'collapse:' in "
                    "population.yml or pass collapse=), or drop the margin")
            self.margin_index.append(idx)
            self.margin_levels.append(all_levels)
            self.targets.append(np.nan_to_num(tgt, nan=0.0))
            self._agg.append(sp.csr_matrix((np.ones(self.n_cells), (idx, np.arange(self.n_cells))),
                                           shape=(ncross, self.n_cells)))
        self._expand = None

    def cell_totals(self, w: np.ndarray) -> np.ndarray:
        """Sum weights (n,) or replicate weights (n, R) by cell."""
        if w.ndim == 1:
            return np.bincount(self.cell, weights=w, minlength=self.n_cells)
        if self._expand is None:
            self._expand = sp.csr_matrix((np.ones(self.n), (self.cell, np.arange(self.n))),
                                         shape=(self.n_cells, self.n))
        return np.asarray(self._expand @ w)

    def margin_totals(self, k: int, t: np.ndarray) -> np.ndarray:
        if t.ndim == 1:
            return np.bincount(self.margin_index[k], weights=t,
                               minlength=len(self.margin_levels[k]))
        return np.asarray(self._agg[k] @ t)

    def indicator_matrix(self, drop_first: bool = True, intercept: bool = True) -> tuple[
            np.ndarray, list[str], np.ndarray]:
        """Cell-level model matrix (R treatment coding) and the matching population vector."""
        cols, names, pop = [], [], []
        total = float(self.targets[0].sum()) if self.targets else 0.0
        if intercept and self.margins:
            cols.append(np.ones(self.n_cells))
            names.append("(Intercept)")
            pop.append(total)
        for k, m in enumerate(self.margins):
            levs = self.margin_levels[k]
            keep = [i for i, t in enumerate(self.targets[k]) if t > 0]
            for i in keep[1 if drop_first else 0:]:
                cols.append((self.margin_index[k] == i).astype(float))
                names.append(m.label + "=" + "/".join(levs[i]))
                pop.append(float(self.targets[k][i]))
        mm = np.column_stack(cols) if cols else np.zeros((self.n_cells, 0))
        return mm, names, np.array(pop)


def _product(lists: list[list[str]]):
    if not lists:
        yield ()
        return
    for a in lists[0]:
        for rest in _product(lists[1:]):
            yield (a,) + rest


def _fmt(levels: list[tuple[str, ...]]) -> str:
    return "[" + ", ".join("/".join(x) for x in levels[:12]) + (" ...]" if len(levels) > 12
                                                                 else "]")


# ---------------------------------------------------------------------------------------------
# iterative proportional fitting on the cell table
# ---------------------------------------------------------------------------------------------
def ipf(t0: np.ndarray, ct: CellTable, epsilon: float = 1e-10, maxit: int = 100,
        ) -> tuple[np.ndarray, list[float], bool]:
    """Rake cell totals ``t0`` (C,) or (C, R) to the margins of ``ct``.

    Returns the adjusted cell totals, the trace of the maximum relative margin error after each
    sweep, and whether ``epsilon`` was reached within ``maxit`` sweeps.  With ``(C, R)`` totals
    (replicate columns) each column stops at its own convergence, so a column's result does
    not depend on the other columns raked with it (replicates raked in blocks equal replicates
    raked all at once).
    """
    if np.ndim(t0) == 2:
        return _ipf_columns(t0, ct, epsilon, maxit)
    t = np.array(t0, dtype=float, copy=True)
    trace: list[float] = []
    targets = [tg if t.ndim == 1 else tg[:, None] for tg in ct.targets]

    def max_err(t):
        e = 0.0
        for k, tg in enumerate(targets):
            ach = ct.margin_totals(k, t)
            pos = (tg > 0) if t.ndim == 1 else np.broadcast_to(tg > 0, ach.shape)
            if pos.any():
                e = max(e, float(np.max(np.abs(ach[pos] / np.broadcast_to(tg, ach.shape)[pos]
                                               - 1.0))))
        return e

    err = max_err(t)
    trace.append(err)
    if err < epsilon:
        return t, trace, True
    for _ in range(maxit):
        for k, tg in enumerate(targets):
            ach = ct.margin_totals(k, t)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(ach > 0, tg / ach, 0.0)
            t = t * r[ct.margin_index[k]]
        err = max_err(t)
        trace.append(err)
        if not math.isfinite(err):
            return t, trace, False
        if err < epsilon:
            return t, trace, True
    return t, trace, False


def _ipf_columns(t0: np.ndarray, ct: CellTable, epsilon: float, maxit: int,
                 ) -> tuple[np.ndarray, list[float], bool]:
    """:func:`ipf` for ``(C, R)`` totals: converged (or non-finite) columns are frozen."""
    t = np.array(t0, dtype=float, copy=True)
    pos = [tg > 0 for tg in ct.targets]

    def col_err(t: np.ndarray) -> np.ndarray:  # (R,) max relative margin error per column
        e = np.zeros(t.shape[1])
        for k, tg in enumerate(ct.targets):
            if pos[k].any():
                ach = ct.margin_totals(k, t)[pos[k]]
                e = np.maximum(e, np.max(np.abs(ach / tg[pos[k]][:, None] - 1.0), axis=0))
        return e

    err = col_err(t)
    trace = [float(err.max()) if err.size else 0.0]
    active = ~(err < epsilon) & np.isfinite(err)
    for _ in range(maxit):
        if not active.any():
            break
        a = np.flatnonzero(active)
        ta = t[:, a]
        for k, tg in enumerate(ct.targets):
            ach = ct.margin_totals(k, ta)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(ach > 0, tg[:, None] / ach, 0.0)
            ta = ta * r[ct.margin_index[k]]
        t[:, a] = ta
        e = col_err(ta)
        err[a] = e
        active[a] = ~(e < epsilon) & np.isfinite(e)
        trace.append(float(err.max()))
    return t, trace, bool(np.all(err < epsilon))


# ---------------------------------------------------------------------------------------------
# generalised raking: R survey:::grake
# ---------------------------------------------------------------------------------------------
def _lin_F(u, L, U):
    return np.minimum(np.maximum(u + 1, L), U) - 1


def _lin_dF(u, L, U):
    return ((u < U - 1) & (u > L - 1)).astype(float)


def _rak_F(u, L, U):
    with np.errstate(over="ignore"):
        return np.minimum(np.maximum(np.exp(u), L), U) - 1


def _rak_dF(u, L, U):
    # R's cal.raking$dF tests the bounds on u (not exp(u)); kept for identical iterations.
    with np.errstate(over="ignore"):
        return np.where((u < U - 1) & (u > L - 1), np.exp(u), 0.0)


def _logit_F(u, L, U):
    A = (U - L) / ((U - 1) * (1 - L))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(A * u)
        return (L * (U - 1) + U * (1 - L) * e) / (U - 1 + (1 - L) * e) - 1


def _logit_dF(u, L, U):
    A = (U - L) / ((U - 1) * (1 - L))
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(A * u)
        den = U - 1 + (1 - L) * e
        return U * (1 - L) * e * A / den - ((L * (U - 1) + U * (1 - L) * e) * ((1 - L) * e * A)
                                            ) / den ** 2


CALFUNS: dict[str, tuple[Callable, Callable]] = {
    "linear": (_lin_F, _lin_dF), "raking": (_rak_F, _rak_dF), "logit": (_logit_F, _logit_dF)}


def check_bounds(calfun: str, bounds: Any, fn: str = "calibrate") -> tuple[float, float]:
    """Validate ``calfun`` and ``bounds`` (a pair ``(lower, upper)`` on the g-weights) of ``fn``."""
    check(fn, "calfun", calfun, Options(tuple(CALFUNS)), error=WeightingError)
    if bounds is None:
        L, U = -np.inf, np.inf
    else:
        if isinstance(bounds, Mapping):
            bad = set(bounds) - {"lower", "upper"}
            if bad:
                raise WeightingError(f"bounds: unknown key(s) {sorted(bad)}; use lower/upper")
            bounds = (bounds.get("lower", -np.inf), bounds.get("upper", np.inf))
        try:
            L, U = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise WeightingError(f"bounds={bounds!r}: give a pair (lower, upper) of g-weight "
                                 "bounds, e.g. (0.5, 2.0)") from None
    if not (L <= 1 <= U) or L == U:
        raise WeightingError(f"bounds=({L}, {U}): need lower <= 1 <= upper (g = 1 means the "
                             "weight is unchanged)")
    if calfun == "logit" and not (math.isfinite(L) and math.isfinite(U)):
        raise WeightingError("calfun='logit' needs finite bounds, e.g. bounds=(0.5, 2.0)")
    if calfun == "logit" and (L == 1 or U == 1):
        raise WeightingError("calfun='logit' needs lower < 1 < upper")
    return L, U


def _ginv(T: np.ndarray) -> np.ndarray:
    return np.linalg.pinv(T, rcond=256 * _EPS)


def grake(mm: np.ndarray, ww: np.ndarray, calfun: str, population: np.ndarray,
          bounds: tuple[float, float] = (-np.inf, np.inf), epsilon: float = 1e-7,
          maxit: int = 50, variance: np.ndarray | None = None,
          eta: np.ndarray | None = None) -> dict:
    """R's ``survey:::grake``: g-weights with ``colSums(mm * ww * g) == population``.

    Returns a dict with ``g``, ``eta``, ``iterations``, ``trace`` (max relative misfit per
    iteration), ``failed`` (achieved eps or None), ``scale`` (SOMETHRESHOLD rescaling).
    """
    F, dF = CALFUNS[calfun]
    L, U = bounds
    mm = np.asarray(mm, float)
    ww = np.asarray(ww, float)
    population = np.asarray(population, float)
    sample_total = mm.T @ ww
    sigma2 = np.ones(len(mm)) if variance is None else (
        np.asarray(variance, float) if np.ndim(variance) == 1 and len(variance) == len(mm)
        else mm @ np.asarray(variance, float))
    eta = np.zeros(mm.shape[1]) if eta is None else np.asarray(eta, float)
    xeta = mm @ eta / sigma2
    it = 1
    with np.errstate(divide="ignore"):
        scales = population / sample_total
    scale = None
    if scales.size and np.min(scales) > 20:
        scale = float(np.mean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
    s = np.sqrt(sigma2)
    trace = []
    failed = None
    while True:
        deriv = dF(xeta, L, U)
        T = (mm * (ww / s * deriv)[:, None]).T @ (mm / s[:, None])
        misfit = population - sample_total - mm.T @ (ww * F(xeta, L, U))
        deta = _ginv(T) @ misfit
        eta = eta + deta
        xeta = mm @ eta / sigma2
        g = 1 + F(xeta, L, U)
        deriv = dF(xeta, L, U)
        while it < maxit and not (np.all(np.isfinite(g)) and np.all(np.isfinite(deriv))):
            it += 1
            deta = deta / 2
            eta = eta - deta
            xeta = mm @ eta / sigma2
            g = 1 + F(xeta, L, U)
            deriv = dF(xeta, L, U)
        misfit = population - sample_total - mm.T @ (ww * F(xeta, L, U))
        rel = np.abs(misfit) / (1 + np.abs(population))
        trace.append(float(np.max(rel)) if rel.size else 0.0)
        if np.all(rel < epsilon):
            break
        it += 1
        if it > maxit:
            failed = float(np.max(rel))
            break
    g = 1 + F(xeta, L, U)
    if scale is not None:
        g = g * scale
    return {"g": g, "eta": eta, "iterations": it, "trace": trace, "failed": failed,
            "scale": scale}


def grake_batch(mm: np.ndarray, WW: np.ndarray, calfun: str, population: np.ndarray,
                bounds: tuple[float, float] = (-np.inf, np.inf), epsilon: float = 1e-7,
                maxit: int = 50, variance: np.ndarray | None = None) -> dict:
    """:func:`grake` for every column of ``WW`` (n, R) at once (as R's calibrate.svyrep.design).

    Each column iterates until its own convergence (converged columns are frozen).
    """
    F, dF = CALFUNS[calfun]
    L, U = bounds
    mm = np.asarray(mm, float)
    WW = np.asarray(WW, float)
    n, p = mm.shape
    R = WW.shape[1]
    pop = np.asarray(population, float)[:, None]
    ST = mm.T @ WW                                             # p x R
    sigma2 = np.ones(n) if variance is None else np.asarray(variance, float)
    s = np.sqrt(sigma2)
    with np.errstate(divide="ignore"):
        scales = pop / ST
    scale = np.ones(R)
    resc = np.min(scales, axis=0) > 20
    scale[resc] = np.mean(scales[:, resc], axis=0)
    WW = WW * scale
    ST = ST * scale
    eta = np.zeros((p, R))
    xeta = np.zeros((n, R))
    active = np.ones(R, dtype=bool)
    failed = np.zeros(R, dtype=bool)
    it = np.ones(R, dtype=int)
    ms = mm / s[:, None]
    outer = (ms[:, :, None] * ms[:, None, :]).reshape(n, p * p)
    while active.any():
        a = np.flatnonzero(active)
        deriv = dF(xeta[:, a], L, U)
        Wd = WW[:, a] / s[:, None] * deriv                     # n x a
        T = (outer.T @ Wd).T.reshape(len(a), p, p)            # BLAS: (p*p x n) @ (n x a)
        misfit = pop - ST[:, a] - mm.T @ (WW[:, a] * F(xeta[:, a], L, U))
        deta = np.einsum("apq,qa->pa", _ginv(T), misfit)
        eta[:, a] += deta
        xeta[:, a] = mm @ eta[:, a] / sigma2[:, None]
        for j_, j in enumerate(a):  # rare: step halving where g or its derivative overflowed
            g = 1 + F(xeta[:, j], L, U)
            d = dF(xeta[:, j], L, U)
            dj = deta[:, j_]
            while it[j] < maxit and not (np.all(np.isfinite(g)) and np.all(np.isfinite(d))):
                it[j] += 1
                dj = dj / 2
                eta[:, j] -= dj
                xeta[:, j] = mm @ eta[:, j] / sigma2
                g = 1 + F(xeta[:, j], L, U)
                d = dF(xeta[:, j], L, U)
        misfit = pop - ST[:, a] - mm.T @ (WW[:, a] * F(xeta[:, a], L, U))
        ok = np.all(np.abs(misfit) / (1 + np.abs(pop)) < epsilon, axis=0)
        active[a[ok]] = False
        it[a[~ok]] += 1
        over = a[~ok][it[a[~ok]] > maxit]
        failed[over] = True
        active[over] = False
    G = (1 + F(xeta, L, U)) * scale
    return {"g": G, "failed": failed, "iterations": it}


def model_matrix(data: pd.DataFrame, ct: CellTable | None, numeric: Sequence[Margin]
                 ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Respondent-level model matrix (R treatment coding) and its population vector."""
    if ct is not None and ct.margins:
        mmc, names, pop = ct.indicator_matrix()
        mm = mmc[ct.cell]
    else:
        mm, names, pop = np.zeros((len(data), 0)), [], np.zeros(0)
    cols = [mm]
    for m in numeric:
        v = m.variables[0]
        if v not in data.columns:
            raise TargetMismatchError(f"calibration variable {v!r} is not a column of the data")
        x = pd.to_numeric(data[v], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(x).any():
            raise TargetMismatchError(
                f"calibration variable {v!r} has {int(np.isnan(x).sum())} missing or "
                "non-numeric value(s); impute them or drop those respondents")
        cols.append(x[:, None])
        names.append(v)
        pop = np.append(pop, m.numeric_total)
    return np.column_stack(cols), names, np.asarray(pop, float)


# ---------------------------------------------------------------------------------------------
# trimming
# ---------------------------------------------------------------------------------------------
def trim_weights(w: np.ndarray, upper: float = np.inf, lower: float = -np.inf,
                 redistribute: str = "proportional", strict: bool = True,
                 maxit: int = 100) -> tuple[np.ndarray, int]:
    """Cap weights at ``[lower, upper]`` and give the trimmed mass to the untrimmed units.

    ``redistribute="equal"`` adds the same amount to every untrimmed unit (R ``trimWeights``);
    ``"proportional"`` scales the untrimmed weights.  ``strict=True`` repeats until no weight
    is outside the caps (R ``strict=TRUE``).  Returns the new weights (same total) and the
    number of passes.

    Examples
    --------
    >>> w, k = trim_weights(np.array([1.0, 1, 1, 7]), upper=4)
    >>> w.round(3).tolist(), float(w.sum())
    ([2.0, 2.0, 2.0, 4.0], 10.0)
    """
    check("trim_weights", "redistribute", redistribute, Options(("proportional", "equal")),
          error=WeightingError)
    if not lower < upper:
        raise WeightingError(f"trimming caps lower={lower} >= upper={upper}")
    w = np.asarray(w, float).copy()
    passes = 0
    for passes in range(1, maxit + 1):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w, passes - 1
        new = np.clip(w, lower, upper)
        mass = float(np.sum(w - new))
        inside = ~outside
        if not inside.any():
            raise WeightingError("trimming: every weight is outside the caps; loosen them")
        if redistribute == "equal":
            new[inside] += mass / inside.sum()
        else:
            new[inside] *= 1 + mass / new[inside].sum()
        w = new
        if not strict:
            return w, passes
    return w, passes
