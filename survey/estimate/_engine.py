"""The shared machinery of the estimators (private to :mod:`survey.estimate`).

Input checks (variables, ``by=`` domains, missing values, options), the ratio-estimator core
(:func:`_core`: estimates, variances, deffs and counts for ``q`` variables x ``D`` domains in one
vectorised pass on the variance core :mod:`survey.variance`), the (cluster x domain) cell-sum
path, degrees of freedom by domain, and the assembly of the :class:`~survey.estimates.Estimates`.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import EstimationError, MissingValueError, ReliabilityWarning
from ..estimates import Estimates
from ..validation import check_level
from ..variance import (degf_domains, psu_totals, ratio_influence, replicate_var_diag, stage_totals_by,
                        replicate_vcov, vcov_from_psu_totals)

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------
def _as_list(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    if isinstance(x, (Mapping, bytes)) or not hasattr(x, "__iter__"):
        raise TypeError(f"expected a column name or a list of column names, got {type(x).__name__} "
                        f"{x!r}")
    return list(x)


def _check_options(fn: str, level: Any, df: Any, deff: Any) -> None:
    """Refuse option values that would otherwise be silently ignored or give NaN everywhere."""
    check_level(fn, level)
    if df is not None and (isinstance(df, bool) or not isinstance(df, (int, float, np.number))
                           or not df > 0):
        raise EstimationError(f"{fn}: df={df!r} must be a positive number (numpy.inf for a normal "
                              "reference) or None for the design's degrees of freedom")
    if deff not in (True, False, "replace") or isinstance(deff, (int, float)) and not isinstance(deff, bool):
        raise EstimationError(f"{fn}: deff={deff!r} must be True (SRS without replacement), "
                              "'replace' (with replacement) or False")


def _check_empty(res: dict, fn: str, names: Sequence[str], levels: pd.DataFrame | None) -> None:
    """Empty domains (zero weighted denominator): an error for the whole sample, a warning
    naming the domains (their rows stay NaN) with ``by=``; ``res`` arrays are (D, q)."""
    empty = ~(res["denom"] != 0)  # also NaN
    if not empty.any():
        return
    what = ("has a zero denominator total (no respondents, or the denominator sums to 0)"
            if fn == "ratio" else "has no respondents with a non-zero weight")
    for j in np.flatnonzero(empty.any(axis=0)):
        if levels is None:
            raise EstimationError(
                f"{fn}: variable {names[j]!r} {what} (after subsetting and dropping missing "
                "values); check the variable, the subset mask and na_rm")
        doms = [", ".join(f"{c}={levels[c].iloc[i]}" for c in levels.columns)
                for i in np.flatnonzero(empty[:, j])]
        warnings.warn(f"{fn}: variable {names[j]!r} {what} in domain(s) "
                      f"{doms[:5]}{' …' if len(doms) > 5 else ''}; their rows are NaN",
                      ReliabilityWarning, stacklevel=3)


def _numeric(design: SurveyDesign, var: str, fn: str) -> np.ndarray:
    if var not in design.columns:
        raise EstimationError(f"{fn}: variable {var!r} is not in the design's data")
    s = design.column(var)
    if isinstance(s.dtype, pd.CategoricalDtype):
        raise EstimationError(
            f"{fn}: variable {var!r} is categorical; use design.proportion({var!r}) for its "
            "category shares (or convert it to numbers first)"
        )
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        raise EstimationError(
            f"{fn}: variable {var!r} has dtype {s.dtype}, not numeric; convert it or use proportion()"
        )
    if s.dtype == np.float64:  # the column itself (read-only view), no copy
        v = s.to_numpy().view()
        v.setflags(write=False)
        return v
    return s.to_numpy(dtype=float, na_value=np.nan)


def _stack(cols: Sequence[np.ndarray]) -> np.ndarray:
    """``(n, q)`` matrix of the columns in Fortran order: each column stays contiguous (one
    plain copy per column, no strided scatter), which the per-column cell sums read."""
    return np.array(cols, dtype=float).T


def _domains(design: SurveyDesign, by: Any, na_rm: bool, fn: str):
    """Domain codes (n,), number of domains, level table (or None)."""
    sub = design.domain_mask
    if by is None or (not isinstance(by, str) and len(by) == 0):
        dom = np.zeros(design.n_rows, dtype=np.int64) if sub is None else np.where(sub, 0, -1)
        return dom, 1, None
    dom, levels = design.domain_index(by)
    inside = np.ones(design.n_rows, dtype=bool) if sub is None else sub
    nmiss = int(((dom < 0) & inside).sum())
    if nmiss and not na_rm:
        raise MissingValueError(
            f"{fn}: by variable(s) {_as_list(by)} have {nmiss} missing values; pass na_rm=True "
            "to leave those respondents out of every domain, or recode them"
        )
    if sub is not None:
        dom = np.where(sub, dom, -1)
        used = np.unique(dom[dom >= 0])
        remap = np.full(len(levels), -1)
        remap[used] = np.arange(len(used))
        dom = np.where(dom >= 0, remap[np.maximum(dom, 0)], -1)
        levels = levels.iloc[used].reset_index(drop=True)
    return dom, len(levels), levels


def _check_missing(Y: np.ndarray, dom: np.ndarray, names: Sequence[str], na_rm: bool, fn: str):
    """Raise on missing values inside the domains (unless na_rm); return the (n, q) validity
    mask, or ``None`` when nothing inside the domains is missing (the fast path)."""
    nan = np.isnan(Y)
    if not nan.any():
        return None
    rows = dom >= 0
    miss = nan & rows[:, None]
    counts = miss.sum(axis=0)
    if not counts.any():
        return None
    if not na_rm:
        j = int(np.flatnonzero(counts)[0])
        raise MissingValueError(
            f"{fn}: variable {names[j]!r} has {int(counts[j])} missing values; pass na_rm=True to "
            "drop them (as R's na.rm=TRUE) or impute them first"
        )
    return ~nan & rows[:, None]


# ----------------------------------------------------------------------------------------------
# the core: ratio estimators for q variables x D domains
# ----------------------------------------------------------------------------------------------
def _core(design: SurveyDesign, Y: np.ndarray, X: np.ndarray | None, valid: np.ndarray,
          dom: np.ndarray, D: int, kind: str, deff_kind: Any = True) -> dict:
    """Estimates, variances, deffs and counts as (D, q) arrays.

    kind: "mean" (X is None), "ratio" or "total".  ``valid`` (n, q) marks rows that are in a
    domain and have no missing value for that column.
    """
    if valid is None and X is None and kind in ("mean", "total"):
        cols = [Y[:, j] for j in range(Y.shape[1])]
        if _cells_ok(design, cols):
            return _core_cells(design, cols, dom, D, kind, deff_kind)
    n, q = Y.shape
    w = design.full_weights
    rows = dom >= 0
    dcode = np.where(rows, dom, 0)
    M = sp.csr_matrix((np.ones(int(rows.sum())), (dcode[rows], np.flatnonzero(rows))), shape=(D, n))
    # fast path (valid is None): no missing values inside the domains -> shared counts
    nomiss = valid is None
    if nomiss:
        Y0 = np.where(rows[:, None], Y, 0.0) if np.isnan(Y).any() else Y
        X0 = None if X is None else (np.where(rows[:, None], X, 0.0) if np.isnan(X).any() else X)
        base = np.column_stack([w, (w != 0).astype(float), np.ones(n)])
        cnt = np.asarray(M @ base)  # (D, 3)
        Nhat = np.repeat(cnt[:, [0]], q, axis=1)
        nobs = np.repeat(cnt[:, [1]], q, axis=1)
        nrows = np.repeat(cnt[:, [2]], q, axis=1)
    else:
        vf = valid.astype(float)
        Y0 = np.where(valid, Y, 0.0)
        X0 = None if X is None else np.where(valid, X, 0.0)
        Nhat = np.asarray(M @ (w[:, None] * vf))
        nobs = np.asarray(M @ (vf * (w != 0)[:, None]))
        nrows = np.asarray(M @ vf)
    wY = w[:, None] * Y0
    if kind == "total":
        Ysum = np.asarray(M @ wY)
        est, Xsum = Ysum, Nhat
        resid = Y0
        denom = None
    else:  # the ratio linearisation (a mean is a ratio with x = 1)
        est, Xsum, resid = ratio_influence(Y, X, w, dom, D, valid)
        denom = Xsum

    rep = design.replicates
    if rep is None:
        x = w[:, None] * resid if kind != "total" else wY
        if design.calibrations:
            # (n, D*q) influence values (sparse: one domain per row), their calibrated PSU
            # totals in cell space; all strata present (as R)
            idx = np.flatnonzero(rows)
            cols = dcode[idx][:, None] * q + np.arange(q)[None, :]
            Xs = sp.csr_matrix((x[idx].ravel(), (np.repeat(idx, q), cols.ravel())), shape=(n, D * q))
            Ts = psu_totals(design, Xs)
            Ps = [None] * len(Ts)
        else:
            Ts, Ps = stage_totals_by(design, x, dom, D, None if nomiss else valid)
        with np.errstate(divide="ignore", invalid="ignore"):  # empty domains: NaN, checked later
            if denom is not None:
                scale = 1.0 / denom.ravel()
                Ts = [T * scale[None, :] for T in Ts]
            stages, lonely = design.stages, design.lonely_psu
            var = vcov_from_psu_totals(stages, Ts, Ps, lonely, diag_only=True).reshape(D, q)

        def cov() -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return vcov_from_psu_totals(stages, Ts, Ps, lonely)
    else:
        Wall = np.column_stack([w, rep.W])
        idx = np.flatnonzero(rows if nomiss else valid.any(axis=1))
        ii = np.repeat(idx, q)
        jj = (dcode[idx][:, None] * q + np.arange(q)[None, :]).ravel()

        def spmat(vals: np.ndarray) -> sp.csr_matrix:
            return sp.csr_matrix((vals[idx].ravel(), (ii, jj)), shape=(n, D * q))

        Yr = np.asarray(spmat(Y0).T @ Wall)  # (D*q, 1+R)
        if kind == "total":
            th = Yr
        else:
            Xv = (np.ones((n, q)) if nomiss else valid.astype(float)) if X0 is None else X0
            Xr = np.asarray(spmat(Xv).T @ Wall)
            with np.errstate(divide="ignore", invalid="ignore"):
                th = Yr / Xr
        theta, thetas = th[:, 0], th[:, 1:].T
        thetas = np.where(np.isnan(thetas) & np.isnan(theta)[None, :], 0.0, thetas)
        var = replicate_var_diag(rep, theta, thetas).reshape(D, q)
        nobs = nrows  # R's replicate deff counts rows (length(pweights))

        def cov() -> np.ndarray:
            return replicate_vcov(rep, theta, thetas)

    # deff (R's deff=TRUE: SRS without replacement; "replace": with replacement):
    # vsrs = svyvar(r) N^2 / n [(N - n) / N], r = resid / denom (for a mean: (y - ybar) / N)
    with np.errstate(divide="ignore", invalid="ignore"):
        m2 = np.asarray(M @ ((x if rep is None else w[:, None] * resid) * resid)) / Nhat
        if kind == "total":
            m1 = Ysum / Nhat
        else:
            m1 = 0.0  # sum_i w_i r_i = Y - R X = 0 exactly
            m2 = m2 / (denom * denom)
        svyvar = (m2 - m1 * m1) * nobs / (nobs - 1.0)
        deff = _deff(var, svyvar, Nhat, nobs, deff_kind)
    return {"est": est, "var": var, "deff": deff, "n": nrows,
            "nrows": nrows, "Nhat": Nhat, "denom": Xsum, "cov": cov}


def _deff(var: np.ndarray, svyvar: np.ndarray, Nhat: np.ndarray, nobs: np.ndarray,
          deff_kind: Any) -> np.ndarray:
    """Design effect as R's ``deff=``: the variance over that of a simple random sample of the
    same size, ``svyvar N^2 / n`` (``"replace"``) or with the finite-population factor
    ``(N - n) / N`` (``True``; NaN when N < n); NaN when ``deff_kind`` is False.  Call under
    ``np.errstate(divide="ignore", invalid="ignore")``."""
    if deff_kind is False:
        return np.full_like(var, np.nan)
    vsrs = svyvar * Nhat ** 2 / nobs
    if deff_kind != "replace":
        vsrs = np.where(Nhat < nobs, np.nan, vsrs * (Nhat - nobs) / Nhat)
    return var / vsrs


def _cells_ok(design: SurveyDesign, cols: Sequence[np.ndarray]) -> bool:
    """Whether :func:`_core_cells` applies: linearisation without calibrations, every value
    finite (a sum per column; an overflowing sum only sends the data to the general path)."""
    if design.replicates is not None or design.calibrations:
        return False
    with np.errstate(all="ignore"):
        return all(np.isfinite(c.sum()) for c in cols)


def _estimate_columns(design: SurveyDesign, names: Sequence[str], dom: np.ndarray, D: int,
                      na_rm: bool, fn: str, kind: str, deff: Any) -> tuple[dict, Any]:
    """``(_core result, valid)`` for numeric columns: straight from the data's columns (no
    ``n x q`` copy) when :func:`_core_cells` applies, else through the general :func:`_core`."""
    cols = [_numeric(design, v, fn) for v in names]
    if _cells_ok(design, cols):
        return _core_cells(design, cols, dom, D, kind, deff), None
    Y = _stack(cols)
    valid = _check_missing(Y, dom, names, na_rm, fn)
    return _core(design, Y, None, valid, dom, D, kind, deff), valid


def _core_cells(design: SurveyDesign, Y: Sequence[np.ndarray], dom: np.ndarray, D: int,
                kind: str, deff_kind: Any) -> dict:
    """:func:`_core` for means and totals of a linearisation design without calibrations
    and without missing values: the same numbers from (cluster x domain) cell sums.  ``Y`` is
    the list of the ``q`` variables' columns.

    Everything the estimator, the variance and the deff need is linear in three cell sums per
    variable -- ``sum w z`` per (cluster, domain) at every variance stage, ``sum w z^2`` per
    domain and ``sum w`` per cell -- with ``z = y - c`` shifted by the column mean ``c`` (so the
    second moment does not cancel).  They come from one ``np.bincount`` per variable and
    stage over the design's cached cluster codes; no ``n x q`` temporaries, no sparse products.
    PSU totals of the influence values are then ``sum w z - (est - c) sum w`` per cell,
    exactly the totals :func:`survey.variance.stage_totals_by` forms row by row.
    """
    q = len(Y)
    w = design.full_weights
    n = len(w)
    rows = dom >= 0
    allrows = bool(rows.all())
    dcode = dom if allrows else np.where(rows, dom, 0)
    wr = w if allrows else np.where(rows, w, 0.0)  # rows outside every domain weigh nothing
    Nhat1 = np.bincount(dcode, weights=wr, minlength=D)
    nobs1 = np.bincount(dcode, weights=(wr != 0).astype(float), minlength=D)
    nrows1 = np.bincount(dcode[rows] if not allrows else dcode, minlength=D).astype(float)
    stages = design.stages[: design.var_stages]
    keys = [s.cl * D + dcode for s in stages]
    Sw = [np.bincount(k, weights=wr, minlength=s.n_cl * D) for k, s in zip(keys, stages)]
    C1 = [np.empty((s.n_cl * D, q)) for s in stages]
    S2 = np.empty((D, q))
    shift = np.empty(q)
    z, wz = np.empty(n), np.empty(n)  # reused buffers: no fresh pages per column
    for j in range(q):
        y = Y[j]
        c = float(y.mean())
        np.subtract(y, c, out=z)
        np.multiply(wr, z, out=wz)
        for k, s, C in zip(keys, stages, C1):
            C[:, j] = np.bincount(k, weights=wz, minlength=s.n_cl * D)
        S2[:, j] = np.bincount(dcode, weights=np.multiply(wz, z, out=z), minlength=D)
        shift[j] = c
    Nhat = np.repeat(Nhat1[:, None], q, axis=1)
    nobs = np.repeat(nobs1[:, None], q, axis=1)
    nrows = np.repeat(nrows1[:, None], q, axis=1)
    Zsum = C1[0].reshape(stages[0].n_cl, D, q).sum(axis=0)  # (D, q) sum w z per domain
    Ysum = Zsum + shift[None, :] * Nhat
    with np.errstate(divide="ignore", invalid="ignore"):
        g = Zsum / Nhat  # domain mean of z (= est - c)
        # sum_i w_i (y_i - ybar_d)^2 / N_d, the centred second moment of R's svyvar
        cm2 = (S2 - Nhat * g * g) / Nhat
        est = Ysum / Nhat if kind == "mean" else Ysum
        T3s = []
        for s, C, S in zip(stages, C1, Sw):
            C3 = C.reshape(s.n_cl, D, q)
            S3 = S.reshape(s.n_cl, D)[:, :, None]
            T3s.append(C3 - g[None] * S3 if kind == "mean" else C3 + shift[None, None, :] * S3)
        # a domain whose spread is tiny next to its distance from the shift would lose digits
        # in the differences above: such columns are redone exactly as _core does, with the
        # residuals y - ybar_d formed row by row
        lost = ((cm2 <= 1e-4 * S2 / Nhat) & (S2 > 0) & (Nhat > 0)).any(axis=0)
    for j in np.flatnonzero(lost):
        y = Y[j]
        wy = wr * y
        ysum = np.bincount(dcode, weights=wy, minlength=D)
        with np.errstate(divide="ignore", invalid="ignore"):
            e = ysum / Nhat1
        r = y - e[dcode]
        x = wr * r
        cm2[:, j] = np.bincount(dcode, weights=x * r, minlength=D) / Nhat1
        est[:, j] = e if kind == "mean" else ysum
        for k, s, T3 in zip(keys, stages, T3s):
            T3[:, :, j] = np.bincount(k, weights=x if kind == "mean" else wy,
                                      minlength=s.n_cl * D).reshape(s.n_cl, D)
    with np.errstate(divide="ignore", invalid="ignore"):
        Ts = [T3.reshape(s.n_cl, D * q) for s, T3 in zip(stages, T3s)]
        if kind == "mean":
            scale = 1.0 / Nhat.ravel()
            Ts = [T * scale[None, :] for T in Ts]
    Ps = []
    for s in stages:
        if design.lonely_psu in ("fail", "average") or (s.npsu == 1).any():
            P1 = np.bincount((s.st * D + dcode)[rows], minlength=s.n_st * D) > 0
            Ps.append(np.repeat(P1.reshape(s.n_st, D), q, axis=1))
        else:
            Ps.append(None)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = vcov_from_psu_totals(stages, Ts, Ps, design.lonely_psu, diag_only=True).reshape(D, q)
        # deff as in _core: svyvar = (m2 - m1^2) n / (n - 1) with m2 - m1^2 the centred moment
        svyvar = (cm2 if kind == "total" else cm2 / (Nhat * Nhat)) * nobs / (nobs - 1.0)
        deff = _deff(var, svyvar, Nhat, nobs, deff_kind)

    def cov() -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return vcov_from_psu_totals(stages, Ts, Ps, design.lonely_psu)

    return {"est": est, "var": var, "deff": deff, "n": nrows,
            "nrows": nrows, "Nhat": Nhat, "denom": Nhat, "cov": cov}


def _df_by(design: SurveyDesign, dom: np.ndarray, D: int, valid: np.ndarray | None, df: Any,
           q: int) -> np.ndarray:
    """(D, q) degrees of freedom: user value, or R's degf of each domain (complete cases)."""
    if df is not None:
        return np.full((D, q), float(df))
    base = degf_domains(design, dom, D)
    out = np.repeat(base[:, None], q, axis=1)
    if valid is None:
        return out
    outside = dom < 0
    for j in range(q):  # only variables with missing values in a domain need their own df
        if (valid[:, j] | outside).all():
            continue
        out[:, j] = degf_domains(design, np.where(valid[:, j], dom, -1), D)
    return out


def _result(res: dict, df: np.ndarray, level: float, ident: dict, statistic: str,
            min_cell: int, ci_method: str = "wald") -> Estimates:
    """The :class:`Estimates` of (D, q) result arrays, in variable-major order (q, D); the
    covariance (domain-major from the engine) is formed and permuted only when asked for."""
    D, q = res["est"].shape
    perm = (np.arange(D)[None, :] * q + np.arange(q)[:, None]).ravel()
    cov_dm = res["cov"]

    def cov() -> np.ndarray:
        return cov_dm()[np.ix_(perm, perm)]

    return Estimates(res["est"].T.ravel(), cov, var=res["var"].T.ravel(), df=df.T.ravel(),
                     labels=pd.DataFrame(ident), statistic=statistic, n=res["n"].T.ravel(),
                     deff=res["deff"].T.ravel(), ci_method=ci_method, level=level,
                     min_cell=min_cell)


def _out(e: Estimates, return_estimates: bool) -> Estimates | pd.DataFrame:
    return e if return_estimates else e.frame()


def _ident(names: Sequence[str], D: int, levels: pd.DataFrame | None, q_major: bool = True,
           extra: dict | None = None) -> dict:
    """Identifier columns for results laid out as (variable-major, domain-minor) rows."""
    q = len(names)
    ident: dict[str, Any] = {"variable": np.repeat(np.asarray(names, dtype=object), D)}
    if extra:
        for k, v in extra.items():
            ident[k] = np.repeat(np.asarray(v, dtype=object), D)
    if levels is not None:
        for c in levels.columns:
            col = levels[c]
            vals = col.take(np.tile(np.arange(D), q)) if hasattr(col, "take") else np.tile(col, q)
            ident[c] = pd.Series(vals).reset_index(drop=True) if not isinstance(vals, pd.Categorical) else vals
    return ident


def _check_kwargs(fn: str, kwargs: dict) -> None:
    if kwargs:
        raise TypeError(f"{fn}() got unexpected keyword argument(s): {', '.join(kwargs)}")
