"""Report tables under the survey design: crosstabs with Rao–Scott tests, multi-select, ranked,
Likert blocks, scale scores, contrasts of domain estimates, and reliability flags.

Every estimate here is a *ratio of weighted totals* ``T_a / T_b`` (a plain total when there is no
denominator): a cell percentage, a row percentage, the share of respondents choosing an option, a
mean score.  So one mechanism serves all of them:

1. build an ``n × m`` matrix ``Z`` of per-respondent values whose weighted column sums are the
   totals needed (indicator of a cell, of "answered the question", a score, ...), zero outside
   the domain (a domain keeps the full design, as R's ``subset`` does);
2. linearisation designs: ``V_T = survey.variance.vcov_totals(design, Z)`` and the delta method
   ``V = J V_T J'`` (exactly R's linearisation of a ratio, because the variance engine is linear
   in ``Z``); replicate designs: the ratios are recomputed under every replicate weight column
   and combined with the design's replicate variance formula (as R's ``svyrepdesign`` does);
3. the output frame: ``estimate, se, ci_low, ci_high, deff, n, n_cell, n_eff, cv`` plus
   identifiers and the reliability flags of :func:`add_flags`.

The Rao–Scott tests follow R's ``svychisq`` (``survey`` 4.1.1) line by line: the second-order
``F`` (default), the first-order ``Chisq``, and the ``Wald``/``adjWald`` tests.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from survey.tables import add_flags
>>> f = pd.DataFrame({"estimate": [0.5, 0.02], "se": [0.05, 0.01], "n": [400, 12],
...                   "n_eff": [200.0, 6.0]})
>>> add_flags(f)[["flag_n", "flag_cv", "flag_n_eff", "suppress"]].values.tolist()
[[False, False, False, False], [True, True, True, False]]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DesignError, EstimationError, ReliabilityWarning, SurveyWarning  # noqa: F401
from .privacy import disclosure_mask
from .variance import degf as design_degf, degf_domains, replicate_vcov, tcrit, vcov_totals

if TYPE_CHECKING:  # pragma: no cover
    from .design import SurveyDesign

__all__ = [
    "add_flags",
    "crosstab",
    "CrossTab",
    "rao_scott",
    "RaoScottResult",
    "multi",
    "ranked",
    "likert",
    "scale_score",
    "ScaleScore",
    "cronbach_alpha",
    "contrast",
    "FLAG_DEFAULTS",
]

#: Documented defaults of the reliability flags (see :func:`add_flags`).
FLAG_DEFAULTS: dict[str, float] = {"min_n": 30, "max_cv": 0.3, "min_n_eff": 30, "min_cell": 10}


# ----------------------------------------------------------------------------------------------
# reliability flags
# ----------------------------------------------------------------------------------------------
def add_flags(frame: pd.DataFrame, min_n: int = 30, max_cv: float = 0.3,
              min_n_eff: float | None = 30, min_cell: int = 10) -> pd.DataFrame:
    """Add reliability and disclosure flag columns to an estimate frame.

    Parameters
    ----------
    frame : DataFrame
        An estimator's output with ``estimate``, ``se`` and ``n`` (unweighted respondents in the
        base of the estimate); optional ``n_cell`` (unweighted respondents in the numerator, e.g.
        the cell of a crosstab; defaults to ``n``) and ``n_eff`` (effective sample size).
    min_n : int, default 30
        ``flag_n`` is set when the unweighted base ``n`` is below ``min_n``.
    max_cv : float, default 0.3
        ``flag_cv`` is set when the coefficient of variation ``se / |estimate|`` exceeds it
        (also when the estimate is 0 with a positive SE).
    min_n_eff : float or None, default 30
        ``flag_n_eff`` is set when ``n_eff`` is below it; ``None`` disables the flag.
    min_cell : int, default 10
        ``suppress`` (the disclosure rule, :func:`survey.privacy.disclosure_mask`) is set when
        the unweighted base ``n`` is below ``min_cell`` (a small domain, e.g. 3 respondents with
        one title) or the cell count ``n_cell`` is above 0 and below ``min_cell``.

    Returns
    -------
    DataFrame
        A copy with ``cv, flag_n, flag_cv, flag_n_eff, suppress`` and ``flag`` (any of the
        reliability flags) added or overwritten.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"estimate": [10.0], "se": [4.0], "n": [8], "n_eff": [5.0]})
    >>> add_flags(f, min_n=5, min_cell=5).loc[0, ["flag_cv", "suppress"]].tolist()
    [True, False]
    """
    for k in ("estimate", "se", "n"):
        if k not in frame.columns:
            raise EstimationError(f"add_flags: the frame has no {k!r} column; pass an estimator's "
                                  "output (estimate, se, n, ...)")
    if not (min_n >= 0 and max_cv > 0 and min_cell >= 0):
        raise EstimationError(f"add_flags: thresholds must be non-negative (min_n={min_n}, "
                              f"max_cv={max_cv}, min_cell={min_cell})")
    cell = frame["n_cell"].to_numpy(dtype=float) if "n_cell" in frame.columns else None
    ne = frame["n_eff"].to_numpy(dtype=float) if "n_eff" in frame.columns else None
    cols = _flag_arrays(frame["estimate"].to_numpy(dtype=float), frame["se"].to_numpy(dtype=float),
                        frame["n"].to_numpy(dtype=float), cell, ne, min_n, max_cv, min_n_eff,
                        min_cell)
    out = frame.copy()
    for k, v in cols.items():
        out[k] = v
    return out


def _flag_arrays(est: np.ndarray, se: np.ndarray, n: np.ndarray, cell: np.ndarray | None,
                 n_eff: np.ndarray | None, min_n: float, max_cv: float,
                 min_n_eff: float | None, min_cell: float) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, se / np.abs(est), np.where(se > 0, np.inf, 0.0))
    flag_n = n < min_n
    flag_cv = np.nan_to_num(cv, nan=0.0) > max_cv
    if min_n_eff is not None and n_eff is not None:
        flag_ne = np.nan_to_num(n_eff, nan=np.inf) < min_n_eff
    else:
        flag_ne = np.zeros(len(est), dtype=bool)
    return {"cv": cv, "flag_n": flag_n, "flag_cv": flag_cv, "flag_n_eff": flag_ne,
            "suppress": disclosure_mask(n, cell, min_cell), "flag": flag_n | flag_cv | flag_ne}


# ----------------------------------------------------------------------------------------------
# the variance backend: what this module needs from a SurveyDesign
# ----------------------------------------------------------------------------------------------
@dataclass
class _Backend:
    """Thin view of a design: weights, the variance engine and the design degrees of freedom."""

    data: pd.DataFrame
    w: np.ndarray
    dom: np.ndarray | None                                   # the design's own domain (subset)
    vcov: Callable[..., np.ndarray] | None                   # linearisation engine (z, present)
    degf: Callable[[np.ndarray | None], float]               # design df of a domain mask
    rep_w: np.ndarray | None = None                          # n × R analysis replicate weights
    rep_var: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None   # (R×k, k) -> k×k
    questionnaire: Any = None
    design: Any = None
    degf_codes: Callable[[np.ndarray, int], np.ndarray] | None = None   # df of domains 0..D-1
    ci: Callable[[np.ndarray, np.ndarray, float, float], tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def n(self) -> int:
        return len(self.w)

    @property
    def replicate(self) -> bool:
        return self.rep_w is not None


def _backend(d: Any) -> _Backend:
    """Build the backend from a :class:`~survey.design.SurveyDesign` (or pass a backend through)."""
    if isinstance(d, _Backend):
        return d
    from . import design as _design  # noqa: F401  (lazy: a later stage reaches back only here)

    return d._tables_backend() if hasattr(d, "_tables_backend") else _backend_from_design(d)


def _backend_from_design(d: Any) -> _Backend:
    """Adapter over :class:`~survey.design.SurveyDesign` (weights, ``survey.variance``, replicates)."""
    for attr in ("weights", "stages", "replicates", "data"):
        if not hasattr(d, attr):
            raise DesignError(f"tables: expected a SurveyDesign, got {type(d).__name__} "
                              f"(no {attr!r}); build one with survey.SurveyDesign(...)")
    dom = d.domain
    data = d._data if hasattr(d, "_data") else d.data

    def degf(mask: np.ndarray | None) -> float:
        if mask is None:
            return float(design_degf(d, dom))
        return float(design_degf(d, mask if dom is None else (mask & dom)))

    rep = bool(getattr(d, "is_replicate", False))
    return _Backend(
        data=data, w=np.asarray(d.weights, dtype=float), dom=dom,
        vcov=lambda z, present=None: vcov_totals(d, z, present),
        degf=degf,
        rep_w=np.asarray(d.repweights, dtype=float) if rep else None,
        rep_var=(lambda thetas, theta: replicate_vcov(d.replicates, theta, thetas)) if rep else None,
        questionnaire=getattr(d, "questionnaire", None), design=d,
        degf_codes=(lambda codes, D: degf_domains(
            d, codes if dom is None else np.where(dom, codes, -1), D))
        if hasattr(d, "stages") else None,
    )


# ----------------------------------------------------------------------------------------------
# ratios of totals: estimates, covariance, deff
# ----------------------------------------------------------------------------------------------
@dataclass
class _Ratios:
    est: np.ndarray
    cov: np.ndarray
    n: np.ndarray
    n_cell: np.ndarray
    deff: np.ndarray
    df: np.ndarray


def _ratios(bk: _Backend, Z: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray,
            group_of: np.ndarray | None = None, group_masks: Sequence[np.ndarray] | None = None,
            cell: np.ndarray | None = None, present: np.ndarray | None = None,
            A: np.ndarray | None = None, exclusive: bool = False) -> _Ratios:
    """Estimates ``T[num]/T[den]`` (``den < 0``: the total ``T[num]``) with their covariance.

    ``base`` names, per output, the indicator column of ``Z`` that defines its domain (for ``n``,
    deff); ``cell`` (defaults to ``num``) the column whose non-zero rows are the unweighted cell.
    ``group_of``/``group_masks`` give the by-group of each output for its design df.
    With ``A`` given, ``Z`` is a basis and the columns indexed by num/den/base are those of
    ``Z @ A.T`` (e.g. margins are sums of cells): the variance engine only sees the basis,
    ``V_T = A V_basis A'``.  ``exclusive`` says the basis columns are 0/1 indicators of
    disjoint sets (crosstab cells), so the moments need no dense products.
    """
    w = bk.w
    Z = np.asarray(Z, dtype=float)
    num = np.asarray(num, dtype=np.intp)
    den = np.asarray(den, dtype=np.intp)
    base = np.asarray(base, dtype=np.intp)
    cell = num if cell is None else np.asarray(cell, dtype=np.intp)
    Tb = w @ Z
    T = Tb if A is None else A @ Tb
    k, m = len(num), len(T)
    has_den = den >= 0
    a = T[num]
    b = np.where(has_den, T[np.where(has_den, den, 0)], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = a / b
    # Jacobian of the outputs with respect to the totals
    J = np.zeros((k, m))
    rows = np.arange(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.add.at(J, (rows, num), 1.0 / b)
        np.add.at(J, (rows[has_den], den[has_den]), -est[has_den] / b[has_den])
    if bk.replicate:
        Tr = bk.rep_w.T @ Z                         # R × m
        if A is not None:
            Tr = Tr @ A.T
        ar = Tr[:, num]
        br = np.where(has_den, Tr[:, np.where(has_den, den, 0)], 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            est_r = ar / br
        bad = ~np.isfinite(est)              # empty cells: no estimate, no variance
        est_r = np.where(bad[None, :], 0.0, est_r)
        cov = bk.rep_var(est_r, np.where(bad, 0.0, est))
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
    else:
        VT = bk.vcov(Z, present)
        if A is not None:
            VT = A @ VT @ A.T
        Jf = np.nan_to_num(J)
        cov = Jf @ VT @ Jf.T
        bad = ~np.isfinite(est)
        cov[bad, :] = np.nan
        cov[:, bad] = np.nan
    if exclusive and A is not None:
        cntb = np.count_nonzero(Z, axis=0).astype(float)
        cnt = A @ cntb
        M2 = (A * Tb) @ A.T                         # Z_b' W Z_b is diag(T_b) for 0/1 disjoint
    else:
        if A is not None:
            Z = Z @ A.T
        cnt = np.count_nonzero(Z, axis=0).astype(float)
        M2 = (Z * w[:, None]).T @ Z
    # counts and the SRS (without replacement) variance of the same ratio, for deff, from
    # column moments of Z: U = Z[num] - R Z[den] over the base domain (num and den are zero
    # outside the base, which is a 0/1 indicator column), as R's svymean(deff = TRUE).
    n = cnt[base]
    n_cell = cnt[cell]
    dd = np.where(has_den, den, 0)
    R = np.where(has_den, est, 0.0)
    sw = T[base]
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = (a - R * np.where(has_den, T[dd], 0.0)) / sw
        m2 = (M2[num, num] - 2 * R * M2[num, dd] + R ** 2 * M2[dd, dd]) / sw
        s2 = (m2 - mu ** 2) * n / (n - 1)
        vsrs = sw ** 2 * s2 / n / b ** 2
        vsrs = np.where(sw < n, np.nan, vsrs * (sw - n) / sw)
        deff = np.diag(cov) / vsrs
    if group_of is None or group_masks is None:
        dfv = np.full(k, float(bk.degf(None)))
    elif isinstance(group_masks, tuple):           # (codes, D): vectorised domain df
        dfv = _degf_many(bk, *group_masks)[np.asarray(group_of)]
    else:
        dfs = np.array([float(bk.degf(mk)) for mk in group_masks])
        dfv = dfs[np.asarray(group_of)]
    return _Ratios(est=est, cov=cov, n=n, n_cell=n_cell, deff=deff, df=dfv)


def _tcrit(level: float, df: np.ndarray) -> np.ndarray:
    """t critical values on the design df (normal for infinite df), as survey.estimate."""
    if not 0 < level < 1:
        raise EstimationError(f"level={level!r} must be between 0 and 1 (e.g. 0.95)")
    return tcrit(level, df)


def _degf_many(bk: _Backend, codes: np.ndarray, D: int) -> np.ndarray:
    """Design df of domains ``codes == 0..D-1`` (``-1`` = in none)."""
    if bk.degf_codes is not None:
        return np.asarray(bk.degf_codes(codes, D), dtype=float)
    return np.array([float(bk.degf(codes == g)) for g in range(D)])


def _ci(bk: _Backend, est: np.ndarray, se: np.ndarray, df: np.ndarray,
        level: float) -> tuple[np.ndarray, np.ndarray]:
    if bk.ci is not None:
        return bk.ci(est, se, df, level)
    t = _tcrit(level, df)
    return est - t * se, est + t * se


def _frame(bk: _Backend, r: _Ratios, ids: pd.DataFrame, level: float,
           flags: Mapping[str, Any]) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(r.cov), 0, None))
    se = np.where(np.isnan(np.diag(r.cov)), np.nan, se)
    lo, hi = _ci(bk, r.est, se, r.df, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = r.n / r.deff
    n = r.n.astype(np.int64)
    cols: dict[str, Any] = {"estimate": r.est, "se": se, "ci_low": lo, "ci_high": hi,
                            "deff": r.deff, "n": n, "n_eff": n_eff,
                            "n_cell": r.n_cell.astype(np.int64)}
    if isinstance(ids, pd.DataFrame):
        ids = {c: ids[c] for c in ids.columns}
    for c, v in ids.items():
        cols[c] = v.to_numpy() if isinstance(v, pd.Series) and not isinstance(
            v.dtype, pd.CategoricalDtype) else (v.array if isinstance(v, pd.Series) else v)
    cols["df"] = r.df
    cols.update(_flag_arrays(r.est, se, n.astype(float), r.n_cell, n_eff, **flags))
    return pd.DataFrame(cols)


def _flag_args(min_n: int, max_cv: float, min_n_eff: float | None, min_cell: int) -> dict:
    for name, v in (("min_n", min_n), ("max_cv", max_cv), ("min_n_eff", min_n_eff),
                    ("min_cell", min_cell)):
        if v is None and name == "min_n_eff":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not v >= 0:
            raise EstimationError(f"{name}={v!r} must be a non-negative number (a reliability "
                                  "flag threshold, see survey.tables.add_flags)")
    return {"min_n": min_n, "max_cv": max_cv, "min_n_eff": min_n_eff, "min_cell": min_cell}


# ----------------------------------------------------------------------------------------------
# columns and groups
# ----------------------------------------------------------------------------------------------
def _column(bk: _Backend, name: str, what: str) -> pd.Series:
    if not isinstance(name, str) or name not in bk.data.columns:
        raise DesignError(f"{what}: column {name!r} is not in the design's data; available "
                          f"columns include {list(bk.data.columns)[:12]}")
    return bk.data[name]


def _codes(s: pd.Series, what: str) -> tuple[np.ndarray, list]:
    """Integer codes (−1 = missing) and the level labels of a categorical-like column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        c = s.cat
        return c.codes.to_numpy(dtype=np.intp), list(c.categories)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        vals = s.dropna().unique()
        if len(vals) > 100:
            raise DesignError(f"{what}: column {s.name!r} has {len(vals)} distinct values; a "
                              "crosstab needs a categorical variable (cut it into groups first)")
    codes, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniq)


def _warn_by_missing(what: str, cols: list[str], n: int) -> None:
    """Respondents without a by= value fall out of every group: say so (never silently)."""
    if n:
        warnings.warn(f"{what}: {n} respondent(s) have no value of by={cols} and are left out "
                      "of every group (the overall figures still include them); recode them to "
                      "keep them", SurveyWarning, stacklevel=4)


def _groups(bk: _Backend, by: str | Sequence[str] | None,
            what: str) -> tuple[list[str], pd.DataFrame, list[np.ndarray]]:
    """By-groups as (by column names, one row of labels per group, boolean masks)."""
    full = np.ones(bk.n, dtype=bool) if bk.dom is None else np.asarray(bk.dom, dtype=bool)
    if by is None:
        return [], pd.DataFrame(index=[0]), [full]
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        return [], pd.DataFrame(index=[0]), [full]
    for c in cols:
        _column(bk, c, what)
    if bk.design is not None and hasattr(bk.design, "domain_index"):
        codes, levels = bk.design.domain_index(cols)
        _warn_by_missing(what, cols, int((full & (np.asarray(codes) < 0)).sum()))
        codes = np.where(full, codes, -1)
        present = np.unique(codes[codes >= 0])
        masks = [codes == g for g in present]
        return cols, levels.iloc[present].reset_index(drop=True), masks
    codes = []
    levels = []
    for c in cols:
        cc, lv = _codes(_column(bk, c, what), f"{what} by=")
        codes.append(cc)
        levels.append(lv)
    combo = np.stack(codes, axis=1)
    ok = (combo >= 0).all(axis=1) & full
    _warn_by_missing(what, cols, int((full & ~ok).sum()))
    uniq, inv = np.unique(combo[ok], axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    labels = pd.DataFrame({c: [levels[j][u[j]] for u in uniq] for j, c in enumerate(cols)})
    masks = []
    idx_ok = np.flatnonzero(ok)
    for g in range(len(uniq)):
        mk = np.zeros(bk.n, dtype=bool)
        mk[idx_ok[inv == g]] = True
        masks.append(mk)
    for j, c in enumerate(cols):
        s = bk.data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            labels[c] = pd.Categorical(labels[c], categories=s.cat.categories)
    return cols, labels, masks


# ----------------------------------------------------------------------------------------------
# Rao–Scott tests (R: survey:::svychisq.survey.design)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaoScottResult:
    """A design-based test of independence in a two-way table.

    ``statistic`` is the F (Rao–Scott second order, Wald) or the Pearson X² (``"Chisq"``);
    ``ndf``/``ddf`` its degrees of freedom (``ddf`` is NaN for ``"Chisq"``); ``p`` its p-value.
    """

    method: str
    statistic: float
    ndf: float
    ddf: float
    p: float

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "statistic": self.statistic, "ndf": self.ndf,
                "ddf": self.ddf, "p": self.p}


def _interaction_contrasts(nr: int, nc: int) -> np.ndarray:
    """R's ``Cmat``: interaction dummies residualised on the main-effects design (row-major)."""
    ri, ci = np.divmod(np.arange(nr * nc), nc)
    X1 = np.column_stack([np.ones(nr * nc)] + [(ri == i).astype(float) for i in range(1, nr)]
                         + [(ci == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((ri == i) & (ci == j)).astype(float)
                           for j in range(1, nc) for i in range(1, nr)])
    beta, *_ = np.linalg.lstsq(X1, X12, rcond=None)
    return X12 - X1 @ beta


def rao_scott(p: np.ndarray, V: np.ndarray, df: float, N: float = 1.0) -> dict[str, RaoScottResult]:
    """Rao–Scott first- and second-order corrected Pearson tests of a two-way table.

    Follows R's ``svychisq`` (``statistic = "F"`` and ``"Chisq"``) exactly.

    Parameters
    ----------
    p : array (nr, nc)
        Estimated cell proportions (summing to 1); rows/columns that are entirely empty must be
        dropped first (R uses the levels present).
    V : array (nr*nc, nr*nc)
        Design covariance of ``p.ravel()`` (row-major cell order).
    df : float
        Design degrees of freedom (number of PSUs minus number of strata).
    N : float
        Sample size the Pearson X² is scaled to (R: rows of the design); it cancels in the
        F statistic and in both p-values.

    Returns
    -------
    dict
        ``{"F": RaoScottResult, "Chisq": RaoScottResult}``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.3, 0.2], [0.2, 0.3]])
    >>> v = p.ravel()
    >>> V = (np.diag(v) - np.outer(v, v)) / 100          # simple random sampling, n = 100
    >>> r = rao_scott(p, V, df=99, N=100)
    >>> round(r["Chisq"].statistic, 3), round(r["F"].statistic, 3)   # X² = 4, deff = 1
    (4.0, 4.0)
    """
    p = np.asarray(p, dtype=float)
    nr, nc = p.shape
    if nr < 2 or nc < 2:
        nan = float("nan")
        return {s: RaoScottResult(s, nan, nan, nan, nan) for s in ("F", "Chisq")}
    pv = p.ravel()
    rs, cs = p.sum(axis=1), p.sum(axis=0)
    expct = np.outer(rs, cs)
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(N * np.sum((p - expct) ** 2 / expct))
    C = _interaction_contrasts(nr, nc)
    idv = np.where(pv == 0, 0.0, 1.0 / np.where(pv == 0, 1.0, pv))
    denom = (C.T * idv) @ C / N
    numr = (C.T * idv) @ V @ (idv[:, None] * C)
    try:
        Delta = np.linalg.solve(denom, numr)
    except np.linalg.LinAlgError:
        Delta = np.full(denom.shape, np.nan)
    tr = float(np.trace(Delta))
    d0 = tr ** 2 / float(np.trace(Delta @ Delta))
    F = x2 / tr
    pF = float(stats.f.sf(F, d0, d0 * df)) if np.isfinite(F) and df > 0 else float("nan")
    kdf = Delta.shape[0]
    pC = float(stats.chi2.sf(x2 / (tr / kdf), kdf)) if np.isfinite(x2) else float("nan")
    return {"F": RaoScottResult("F", F, d0, d0 * df, pF),
            "Chisq": RaoScottResult("Chisq", x2, float(kdf), float("nan"), pC)}


def _wald(T: np.ndarray, VT: np.ndarray, df: float) -> dict[str, RaoScottResult]:
    """R's ``Wald`` and ``adjWald`` tests from cell totals ``T`` (nr, nc) and their covariance."""
    nr, nc = T.shape
    use = np.array([i * nc + j for j in range(1, nc) for i in range(1, nr)], dtype=np.intp)

    def resid(Tm: np.ndarray) -> np.ndarray:             # (..., nr, nc) -> (..., len(use))
        R = Tm.sum(axis=-1)
        Cc = Tm.sum(axis=-2)
        Nn = R.sum(axis=-1)
        Y = Tm - R[..., :, None] * Cc[..., None, :] / Nn[..., None, None]
        return Y.reshape(Y.shape[:-2] + (nr * nc,))[..., use]

    Y = resid(T)
    R, Cc, Nn = T.sum(1), T.sum(0), T.sum()
    ri, ci = np.divmod(np.arange(nr * nc), nc)
    J = (np.eye(nr * nc)
         - (np.equal.outer(ri, ri) * Cc[ci][:, None] + np.equal.outer(ci, ci) * R[ri][:, None]) / Nn
         + (R[ri] * Cc[ci])[:, None] / Nn ** 2)
    J = J[use]
    VY = J @ VT @ J.T
    try:
        w = float(Y @ np.linalg.solve(VY, Y))
    except np.linalg.LinAlgError:
        w = float("nan")
    ndf = float((nr - 1) * (nc - 1))
    wald = w / ndf
    adj_ddf = df - ndf + 1
    adj = w * adj_ddf / (ndf * df)
    return {"Wald": RaoScottResult("Wald", wald, ndf, float(df), float(stats.f.sf(wald, ndf, df))),
            "adjWald": RaoScottResult("adjWald", adj, ndf, float(adj_ddf),
                                      float(stats.f.sf(adj, ndf, adj_ddf)))}


# ----------------------------------------------------------------------------------------------
# crosstab
# ----------------------------------------------------------------------------------------------
_MEASURES = ("count", "pct", "row_pct", "col_pct")
_TEST_COLS = ["statistic", "ndf", "ddf", "p", "method"]


@dataclass
class CrossTab:
    """A design-based two-way table (see :func:`crosstab`).

    Attributes
    ----------
    frame : DataFrame
        Long layout, one row per (by-group, row level, column level, measure) with ``measure`` in
        ``count`` (weighted count), ``pct`` (share of the table), ``row_pct`` (share within the
        row), ``col_pct`` (share within the column); ``estimate, se, ci_low, ci_high, deff, n,
        n_cell, n_eff, cv`` and the flags of :func:`add_flags`.  Percentages are proportions
        (0–1).
    test : DataFrame
        Rao–Scott second-order F (R's ``svychisq`` default) per by-group:
        ``statistic, ndf, ddf, p, method``.
    chisq : DataFrame
        The first-order corrected Pearson X² (R's ``statistic = "Chisq"``).
    wald : DataFrame
        R's ``Wald`` and ``adjWald`` tests.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"sex": pd.Categorical(list("男男女女男女") * 10, ["男", "女"]),
    ...                    "title": pd.Categorical(list("高中中初高初") * 10, ["高", "中", "初"])})
    >>> t = SurveyDesign(df).crosstab("sex", "title")
    >>> t.row_pct[["sex", "title", "estimate", "n_cell"]].head(3).round(3)
      sex title  estimate  n_cell
    0   男     高     0.667      20
    1   男     中     0.333      10
    2   男     初     0.000       0
    >>> float(t.counts["estimate"].sum()), bool(t.test["p"].iloc[0] < 0.001)
    (60.0, True)
    """

    row: str
    col: str
    by: list[str]
    frame: pd.DataFrame
    test: pd.DataFrame
    chisq: pd.DataFrame
    wald: pd.DataFrame = field(repr=False)

    def _measure(self, m: str) -> pd.DataFrame:
        return self.frame[self.frame["measure"] == m].reset_index(drop=True)

    @property
    def counts(self) -> pd.DataFrame:
        """Weighted counts with SE/CI."""
        return self._measure("count")

    @property
    def pct(self) -> pd.DataFrame:
        """Cell proportions of the whole table with SE/CI."""
        return self._measure("pct")

    @property
    def row_pct(self) -> pd.DataFrame:
        """Proportions within each row with SE/CI."""
        return self._measure("row_pct")

    @property
    def col_pct(self) -> pd.DataFrame:
        """Proportions within each column with SE/CI."""
        return self._measure("col_pct")

    def table(self, measure: str = "row_pct", value: str = "estimate") -> pd.DataFrame:
        """Wide table: rows × columns of one measure's ``value`` (by-groups stacked in the index).

        Parameters
        ----------
        measure : {"row_pct", "col_pct", "pct", "count"}, default "row_pct"
            Which measure of :attr:`frame` to spread.
        value : str, default "estimate"
            Any column of the long frame (``se``, ``ci_low``, ``n_cell``, ``flag`` ...).

        Returns
        -------
        pandas.DataFrame
            Indexed by the by-groups and the row levels, one column per column level.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"sex": pd.Categorical(list("男男女女男女") * 10, ["男", "女"]),
        ...                    "title": pd.Categorical(list("高中中初高初") * 10, ["高", "中", "初"])})
        >>> SurveyDesign(df).crosstab("sex", "title").table("col_pct").round(3)  # doctest: +NORMALIZE_WHITESPACE
        title    高    中    初
        sex
        男      1.0  0.5  0.0
        女      0.0  0.5  1.0
        """
        if measure not in _MEASURES:
            raise EstimationError(f"CrossTab.table: measure {measure!r} is not one of {_MEASURES}")
        f = self._measure(measure)
        if value not in f.columns:
            raise EstimationError(f"CrossTab.table: value {value!r} is not a column of the frame")
        return f.pivot_table(index=[*self.by, self.row], columns=self.col, values=value,
                             observed=False, sort=False, dropna=False, aggfunc="first")

    def to_frame(self) -> pd.DataFrame:
        """The long frame (a copy): every measure, one row per cell and measure.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"a": list("xyxy") * 10, "b": list("uuvv") * 10})
        >>> sorted(SurveyDesign(df).crosstab("a", "b").to_frame()["measure"].unique())
        ['col_pct', 'count', 'pct', 'row_pct']
        """
        return self.frame.copy()

    def __repr__(self) -> str:
        t = self.test
        ps = ", ".join(f"p={p:.3g}" for p in t["p"].head(3))
        return (f"CrossTab({self.row} × {self.col}" + (f" by {self.by}" if self.by else "")
                + f"; Rao–Scott F: {ps})")


def crosstab(d: "SurveyDesign", row: str, col: str, *, by: str | Sequence[str] | None = None,
             level: float = 0.95, min_n: int = 30, max_cv: float = 0.3,
             min_n_eff: float | None = 30, min_cell: int = 10) -> CrossTab:
    """Weighted two-way table with SEs/CIs and Rao–Scott tests of independence.

    Respondents missing either variable are left out (a domain: the full design is kept, as R's
    ``svychisq(..., na.rm = TRUE)`` does).  Levels are the categories of a categorical column
    (all of them, empty ones give zero counts) or the sorted distinct values otherwise; the
    tests use the levels present, as R does.

    Parameters
    ----------
    d : SurveyDesign
    row, col : str
        Column names of the two variables.
    by : str or list of str, optional
        Separate tables (and tests) for each group; each group is a domain of the full design.
    level : float
        Confidence level of the intervals.
    min_n, max_cv, min_n_eff, min_cell
        Thresholds of the reliability flags, see :func:`add_flags`.

    Returns
    -------
    CrossTab

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"sex": rng.choice(["男", "女"], 400), "title": rng.choice(["高", "中", "初"], 400),
    ...                    "w": rng.uniform(1, 3, 400)})
    >>> t = SurveyDesign(df, weights="w").crosstab("sex", "title")
    >>> t.test[["statistic", "ndf", "ddf", "p"]].shape
    (1, 4)
    >>> round(float(t.row_pct.groupby("sex")["estimate"].sum().iloc[0]), 6)
    1.0
    """
    what = "crosstab"
    if row == col:
        raise EstimationError(f"crosstab: row and col are both {row!r}; pass two different columns")
    bk = _backend(d)
    rcodes, rlev = _codes(_column(bk, row, what), f"{what} row")
    ccodes, clev = _codes(_column(bk, col, what), f"{what} col")
    for role, name, codes, lev, other in (("row", row, rcodes, rlev, col), ("col", col, ccodes, clev, row)):
        present = np.unique(codes[codes >= 0])
        if len(present) < 2:
            raise EstimationError(
                f"crosstab: {role} variable {name!r} has {len(present)} level(s) in the data "
                f"({[lev[i] for i in present]}); a crosstab needs at least two; for one variable "
                f"use design.proportion({other!r})")
    by_cols, labels, masks = _groups(bk, by, what)
    if row in by_cols or col in by_cols:
        raise EstimationError(f"crosstab: by={by_cols} repeats the row/col variable; drop it from by")
    nr, nc = len(rlev), len(clev)
    K = nr * nc
    flags = _flag_args(min_n, max_cv, min_n_eff, min_cell)
    frames, tests, chis, walds = [], [], [], []
    ri, ci = np.divmod(np.arange(K), nc)
    rdtype = pd.CategoricalDtype(rlev)
    cdtype = pd.CategoricalDtype(clev)
    measure_col = np.repeat(np.array(_MEASURES, dtype=object), K)
    A = np.vstack([np.eye(K), (ri[None, :] == np.arange(nr)[:, None]).astype(float),
                   (ci[None, :] == np.arange(nc)[:, None]).astype(float), np.ones((1, K))])
    for g, mask in enumerate(masks):
        ok = mask & (rcodes >= 0) & (ccodes >= 0)
        idx = np.flatnonzero(ok)
        cellc = rcodes[idx] * nc + ccodes[idx]
        # basis: K cell indicators; totals of [cells, nr row margins, nc column margins, all]
        # are A @ (cell totals)
        Z = np.zeros((bk.n, K))
        Z[idx, cellc] = 1.0
        kk = np.arange(K)
        allc = np.full(K, K + nr + nc)
        num = np.concatenate([kk, kk, kk, kk])
        den = np.concatenate([np.full(K, -1), allc, K + ri, K + nr + ci])
        base = np.concatenate([allc, allc, K + ri, K + nr + ci])
        # design df per output: the table's respondents, the row's, the column's (as
        # SurveyDesign.proportion(..., by=) gives for row / column percentages)
        rowdom = np.where(ok, rcodes, -1)
        coldom = np.where(ok, ccodes, -1)
        dfs = np.concatenate([_degf_many(bk, np.where(ok, 0, -1), 1),
                              _degf_many(bk, rowdom, nr), _degf_many(bk, coldom, nc)])
        gof = np.concatenate([np.zeros(2 * K, dtype=np.intp), 1 + ri, 1 + nr + ci])
        r = _ratios(bk, Z, num, den, base, present=mask, A=A, exclusive=True)
        r.df = dfs[gof]
        ids: dict[str, Any] = {c: np.repeat(labels[c].iloc[g:g + 1].to_numpy(), 4 * K)
                               for c in by_cols}
        ids[row] = pd.Categorical.from_codes(np.tile(ri, 4), dtype=rdtype)
        ids[col] = pd.Categorical.from_codes(np.tile(ci, 4), dtype=cdtype)
        ids["measure"] = measure_col
        frames.append(_frame(bk, r, ids, level, flags))
        # tests on the levels present
        cnt = np.bincount(cellc, minlength=K).reshape(nr, nc)
        ur = np.flatnonzero(cnt.sum(1) > 0)
        uc = np.flatnonzero(cnt.sum(0) > 0)
        sel = (ur[:, None] * nc + uc[None, :]).ravel()
        dfg = float(bk.degf(mask))        # R's svychisq: df of the design given (NA rows too)
        Ng = float(mask.sum())
        p = r.est[K + sel].reshape(len(ur), len(uc))
        Vp = r.cov[np.ix_(K + sel, K + sel)]
        rs = rao_scott(p, Vp, dfg, N=Ng)
        T = r.est[sel].reshape(len(ur), len(uc))
        if len(ur) >= 2 and len(uc) >= 2:
            # R linearises the Wald residuals even for replicate designs (replicate V of totals)
            wd = _wald(T, r.cov[np.ix_(sel, sel)], dfg)
        else:
            nan = float("nan")
            wd = {s: RaoScottResult(s, nan, nan, nan, nan) for s in ("Wald", "adjWald")}
        lab = {c: labels[c].iloc[g] for c in by_cols}
        tests.append({**lab, **rs["F"].as_dict()})
        chis.append({**lab, **rs["Chisq"].as_dict()})
        walds.extend([{**lab, **wd["Wald"].as_dict()}, {**lab, **wd["adjWald"].as_dict()}])
    cols = [*by_cols, *_TEST_COLS]

    def tf(rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame({c: [x[c] for x in rows] for c in cols})

    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return CrossTab(row=row, col=col, by=by_cols, frame=frame, test=tf(tests), chisq=tf(chis),
                    wald=tf(walds))


# ----------------------------------------------------------------------------------------------
# question-aware summaries: multi-select, ranked, likert, scale scores
# ----------------------------------------------------------------------------------------------
def _with_questionnaire(bk: _Backend, questionnaire: Any) -> _Backend:
    if questionnaire is None:
        return bk
    if not hasattr(questionnaire, "__contains__") or not hasattr(questionnaire, "__getitem__"):
        raise EstimationError("questionnaire= must be a survey.Questionnaire")
    from dataclasses import replace
    return replace(bk, questionnaire=questionnaire)


def _question(bk: _Backend, question: str | Sequence[str], types: tuple[str, ...],
              what: str) -> tuple[str, list[str], list[Any], list[str], Any]:
    """Resolve a question id (via the design's questionnaire) or an explicit column list.

    Returns (name, columns, codes, labels, Question or None).
    """
    if isinstance(question, str):
        q = bk.questionnaire
        if q is None or question not in q:
            if question in bk.data.columns:
                raise EstimationError(f"{what}: {question!r} is a single column; pass the list "
                                      "of the question's option/row columns")
            raise EstimationError(
                f"{what}: question {question!r} is not in the design's questionnaire"
                + ("" if q is not None else " (the design has none)")
                + "; build the design with questionnaire=... or pass the columns explicitly, "
                f"e.g. {what}(['{question}_1', '{question}_2', ...])")
        qq = q[question]
        if qq.type not in types:
            raise EstimationError(f"{what}: question {question!r} is of type {qq.type!r}; "
                                  f"{what} needs a {' or '.join(types)} question")
        if qq.type in ("multi", "rank"):
            codes = list(qq.options)
            labels = [str(qq.options[c]) for c in codes]
        else:
            codes = list(qq.rows)
            labels = [str(qq.rows[c]) for c in codes]
        cols = [f"{question}_{c}" for c in codes]
        name = question
    else:
        cols = list(question)
        if not cols:
            raise EstimationError(f"{what}: the column list is empty")
        codes, labels, qq = list(cols), [str(c) for c in cols], None
        name = ",".join(map(str, cols[:3])) + ("..." if len(cols) > 3 else "")
    for c in cols:
        _column(bk, c, what)
    return name, cols, codes, labels, qq


def _numeric_block(bk: _Backend, cols: list[str], what: str) -> np.ndarray:
    out = np.empty((bk.n, len(cols)))
    for j, c in enumerate(cols):
        s = bk.data[c]
        try:
            if isinstance(s.dtype, pd.CategoricalDtype):
                raise TypeError("categorical")
            out[:, j] = pd.to_numeric(s.astype("object") if isinstance(s.dtype, pd.BooleanDtype)
                                      else s, errors="raise").astype("Float64").to_numpy(
                dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise EstimationError(f"{what}: column {c!r} is not numeric/boolean (dtype "
                                  f"{s.dtype}); see docs/conventions.md for the frame layout") from None
    return out


def _run_groups(bk: _Backend, by: Any, what: str, build: Callable, level: float,
                flags: dict) -> pd.DataFrame:
    by_cols, labels, masks = _groups(bk, by, what)
    frames = []
    for g, mask in enumerate(masks):
        Z, num, den, base, ids, present = build(mask)
        r = _ratios(bk, Z, num, den, base, group_of=np.zeros(len(num), dtype=np.intp),
                    group_masks=[present], present=mask)
        ids = ids.copy()
        for c in by_cols:
            ids[c] = labels[c].iloc[g]
        frames.append(_frame(bk, r, ids, level, flags))
    return pd.concat(frames, ignore_index=True)


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
    bk = _with_questionnaire(_backend(d), questionnaire)
    name, cols, codes, labels, _ = _question(bk, question, ("multi",), what)
    B = _numeric_block(bk, cols, what)
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

    return _run_groups(bk, by, what, build, level,
                       _flag_args(min_n, max_cv, min_n_eff, min_cell))


def _rank_weights(weights: Any, k: int, what: str,
                  error: type[Exception] = EstimationError) -> np.ndarray:
    """Score of rank 1..k (index 0 unused); default k - rank + 1 (also used by painpoints,
    which raises its ParameterError through ``error``)."""
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
    bk = _with_questionnaire(_backend(d), questionnaire)
    name, cols, codes, labels, qq = _question(bk, question, ("rank",), what)
    R = _numeric_block(bk, cols, what)
    answered = ~np.isnan(R).all(axis=1)
    if k is None:
        k = qq.k if qq is not None and qq.k else int(np.nanmax(R)) if answered.any() else 1
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise EstimationError(f"{what}: k={k!r} must be a positive integer")
    fin = R[~np.isnan(R)]
    if ((fin < 1) | (fin != np.round(fin))).any():
        raise EstimationError(f"{what}: rank columns of {name!r} must hold ranks 1, 2, ... (NA = "
                              "not chosen); recode export values such as -2 to NA first")
    sc = _rank_weights(weights, int(k), what)
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

    out = _run_groups(bk, by, what, build, level, _flag_args(min_n, max_cv, min_n_eff, min_cell))
    out["k"] = int(k)
    return out


def _check_scale(V: np.ndarray, cols: list[str], sv: np.ndarray, qq: Any, what: str) -> None:
    """An explicit ``scale=`` must cover every answer code in the data (other than declared
    missing codes): codes outside it would silently be treated as missing."""
    from .questionnaire import DEFAULT_MISSING

    miss = set(getattr(qq, "missing", None) or DEFAULT_MISSING)
    for j, c in enumerate(cols):
        v = V[:, j]
        out = np.unique(v[~np.isnan(v) & ~np.isin(v, sv)])
        out = [x for x in out if x not in miss and x >= 0]
        if out:
            shown = [int(x) if float(x).is_integer() else float(x) for x in out[:10]]
            raise EstimationError(
                f"{what}: column {c!r} has codes {shown} that are not in scale="
                f"{[int(x) if float(x).is_integer() else float(x) for x in sv]}; give the full "
                "scale, or recode those answers to missing first")


def _scale_codes(bk: _Backend, qq: Any, scale: Sequence[Any] | Mapping | None, V: np.ndarray,
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
    bk = _with_questionnaire(_backend(d), questionnaire)
    name, cols, codes, labels, qq = _question(bk, question, ("likert", "matrix"), what)
    V = _numeric_block(bk, cols, what)
    scodes, slabels = _scale_codes(bk, qq, scale, V, what)
    sv = np.asarray(scodes, dtype=float)
    if scale is not None:
        _check_scale(V, cols, sv, qq, what)
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

    return _run_groups(bk, by, what, build, level, _flag_args(min_n, max_cv, min_n_eff, min_cell))


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
    if method not in ("mean", "sum"):
        raise EstimationError(f"{what}: method={method!r} must be 'mean' or 'sum'")
    bk = _with_questionnaire(_backend(d), questionnaire)
    name, cols, codes, labels, qq = _question(bk, items, ("likert", "matrix"), what)
    V = _numeric_block(bk, cols, what)
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
        _check_scale(V, cols, sv, qq, what)
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
    w_all = bk.w

    def build(mask):
        a = (ok & mask).astype(float)
        Z = np.column_stack([np.nan_to_num(score) * a, a])
        ids = pd.DataFrame({"scale": [name], "measure": [method]})
        return Z, np.array([0]), np.array([1]), np.array([1]), ids, a > 0

    frame = _run_groups(bk, by, what, build, level, _flag_args(min_n, max_cv, min_n_eff, min_cell))
    by_cols, _, masks = _groups(bk, by, what)
    frame["alpha"] = [cronbach_alpha(V[m & (w_all > 0)]) for m in masks]
    frame["alpha_weighted"] = [cronbach_alpha(V[m], w_all[m]) for m in masks]
    full = np.ones(bk.n, dtype=bool) if bk.dom is None else bk.dom
    return ScaleScore(frame=frame, scores=pd.Series(score, index=bk.data.index, name=name),
                      alpha=cronbach_alpha(V[full & (w_all > 0)]),
                      alpha_weighted=cronbach_alpha(V[full], w_all[full]),
                      items=cols, reverse=rev, method=method)


# ----------------------------------------------------------------------------------------------
# contrasts of domain estimates (R's svycontrast on svyby(..., covmat = TRUE))
# ----------------------------------------------------------------------------------------------
def contrast(d: "SurveyDesign", variable: str, by: str | Sequence[str],
             coef: Mapping[Any, float] | Sequence[float] | Mapping[str, Mapping[Any, float]], *,
             category: Any = None, stat: str = "mean", level: float = 0.95,
             df: float | None = None) -> pd.DataFrame:
    """A linear combination of domain means/proportions/totals with its design-based SE.

    The domain estimates are computed jointly (one variance call), so their covariance — not
    zero in a clustered design — enters the SE, as R's ``svycontrast(svyby(..., covmat=TRUE))``.

    Parameters
    ----------
    d : SurveyDesign
    variable : str
        Numeric column (``stat="mean"``/``"total"``) or categorical/boolean column with
        ``category=`` (the proportion in that category among non-missing answers).
    by : str or list of str
        Domain variable(s).
    coef : mapping or sequence, or mapping of name -> mapping
        Weights per domain level (mapping keyed by the level, or by a tuple of levels for
        several ``by`` variables; missing levels get 0), or a sequence aligned with the levels.
        A mapping of names to such mappings gives several contrasts.
    category : optional
        The category whose proportion is contrasted, for a non-numeric variable.
    stat : {"mean", "total"}
    level : float
        Confidence level.
    df : float, optional
        Degrees of freedom for the t interval and p-value; default the design df.

    Returns
    -------
    DataFrame
        ``estimate, se, ci_low, ci_high, t, p, df, contrast``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "g": list("aaabbb")})
    >>> SurveyDesign(df).contrast("y", "g", {"b": 1, "a": -1})["estimate"].tolist()
    [4.0]
    """
    what = "contrast"
    if stat not in ("mean", "total"):
        raise EstimationError(f"{what}: stat={stat!r} must be 'mean' or 'total'")
    bk = _backend(d)
    s = _column(bk, variable, what)
    if category is not None:
        codes, levs = _codes(s, what)
        if category not in levs:
            raise EstimationError(f"{what}: category {category!r} is not a level of {variable!r} "
                                  f"(levels: {levs[:10]})")
        y = np.where(codes >= 0, (codes == levs.index(category)).astype(float), np.nan)
    else:
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            raise EstimationError(f"{what}: {variable!r} is categorical; pass category= to "
                                  "contrast the proportion in one category")
        y = _numeric_block(bk, [variable], what)[:, 0]
    by_cols, labels, masks = _groups(bk, by, what)
    G = len(masks)
    keys = [tuple(labels.iloc[g][c] for c in by_cols) for g in range(G)]
    keys1 = [k[0] if len(k) == 1 else k for k in keys]
    valid = ~np.isnan(y)
    y0 = np.nan_to_num(y)
    Z = np.zeros((bk.n, 2 * G))
    for g, m in enumerate(masks):
        mv = m & valid
        Z[:, g] = y0 * mv
        Z[:, G + g] = mv
    num = np.arange(G)
    den = np.arange(G, 2 * G) if stat == "mean" else np.full(G, -1)
    r = _ratios(bk, Z, num, den, np.arange(G, 2 * G), present=valid)

    def as_vec(c: Any) -> np.ndarray:
        if isinstance(c, Mapping):
            unknown = [k for k in c if k not in keys1]
            if unknown:
                raise EstimationError(f"{what}: coef keys {unknown} are not levels of by={by_cols} "
                                      f"(levels: {keys1})")
            return np.array([float(c.get(k, 0.0)) for k in keys1])
        v = np.asarray(c, dtype=float).ravel()
        if len(v) != G:
            raise EstimationError(f"{what}: coef has {len(v)} values for {G} domains {keys1}")
        return v

    if isinstance(coef, Mapping) and coef and all(isinstance(v, Mapping) for v in coef.values()):
        names, L = list(coef), np.array([as_vec(v) for v in coef.values()])
    else:
        Lv = as_vec(coef)
        names = [" ".join(f"{'+' if c > 0 else '-'}{abs(c):g}*{k}" for k, c in zip(keys1, Lv)
                          if c != 0).lstrip("+")]
        L = Lv[None, :]
    est = L @ np.nan_to_num(r.est)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", L, np.nan_to_num(r.cov), L), 0, None))
    dfv = np.full(len(est), float(bk.degf(None)) if df is None else float(df))
    tcrit = _tcrit(level, dfv)
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = est / se
    p = 2 * stats.t.sf(np.abs(tval), np.where(dfv > 0, dfv, np.nan))
    return pd.DataFrame({"estimate": est, "se": se, "ci_low": est - tcrit * se,
                         "ci_high": est + tcrit * se, "t": tval, "p": p, "df": dfv,
                         "contrast": names, "variable": variable})
