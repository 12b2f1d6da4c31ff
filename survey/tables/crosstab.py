"""Two-way tables under the survey design: weighted counts, cell / row / column shares with
SE, CI, deff and flags, and the Rao–Scott tests of independence (R's ``svychisq``).

Flow: the cell indicators of the table are the basis ``Z``; counts, shares of the table, of the
row and of the column are ratios of sums of its columns (``A @ T``), linearised once by
:func:`survey.tables._core.ratio_estimates` into an :class:`~survey.estimates.Estimates`; the
tests read its estimates and covariance.  The Rao–Scott tests follow R's ``svychisq`` (``survey``
4.1.1) line by line: the second-order ``F`` (default), the first-order ``Chisq``, and the
``Wald``/``adjWald`` tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError
from ..validation import check_level
from ._core import column, degf_codes, degf_mask, groups, level_codes, ratio_estimates, table_frame, view
from .flags import check_thresholds

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["crosstab", "CrossTab", "rao_scott", "RaoScottResult"]

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
    tr = np.float64(np.trace(Delta))
    with np.errstate(divide="ignore", invalid="ignore"):
        # a zero covariance (a census, a table of raked margins) gives 0 / 0: NaN, as R
        d0 = float(tr ** 2 / np.trace(Delta @ Delta))
        F = float(x2 / tr)
    tr = float(tr)
    pF = float(stats.f.sf(F, d0, d0 * df)) if np.isfinite(F) and df > 0 else float("nan")
    kdf = Delta.shape[0]
    pC = float(stats.chi2.sf(x2 / (tr / kdf), kdf)) if np.isfinite(x2) and tr != 0 else float("nan")
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
    check_level(what, level)
    flags = check_thresholds(what, min_n, max_cv, min_n_eff, min_cell)
    v = view(d, what)
    rcodes, rlev = level_codes(column(v, row, what), f"{what} row")
    ccodes, clev = level_codes(column(v, col, what), f"{what} col")
    for role, name, codes, lev, other in (("row", row, rcodes, rlev, col), ("col", col, ccodes, clev, row)):
        present = np.unique(codes[codes >= 0])
        if len(present) < 2:
            raise EstimationError(
                f"crosstab: {role} variable {name!r} has {len(present)} level(s) in the data "
                f"({[lev[i] for i in present]}); a crosstab needs at least two; for one variable "
                f"use design.proportion({other!r})")
    by_cols, labels, masks = groups(v, by, what)
    if row in by_cols or col in by_cols:
        raise EstimationError(f"crosstab: by={by_cols} repeats the row/col variable; drop it from by")
    nr, nc = len(rlev), len(clev)
    K = nr * nc
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
        Z = np.zeros((v.n, K))
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
        dfs = np.concatenate([degf_codes(v, np.where(ok, 0, -1), 1),
                              degf_codes(v, rowdom, nr), degf_codes(v, coldom, nc)])
        gof = np.concatenate([np.zeros(2 * K, dtype=np.intp), 1 + ri, 1 + nr + ci])
        ids: dict[str, Any] = {c: np.repeat(labels[c].iloc[g:g + 1].to_numpy(), 4 * K)
                               for c in by_cols}
        ids[row] = pd.Categorical.from_codes(np.tile(ri, 4), dtype=rdtype)
        ids[col] = pd.Categorical.from_codes(np.tile(ci, 4), dtype=cdtype)
        ids["measure"] = measure_col
        r, n_cell = ratio_estimates(v, Z, num, den, base, df=dfs[gof], level=level, present=mask,
                                    A=A, exclusive=True)
        frames.append(table_frame(r, n_cell, ids, flags))
        # tests on the levels present
        cnt = np.bincount(cellc, minlength=K).reshape(nr, nc)
        ur = np.flatnonzero(cnt.sum(1) > 0)
        uc = np.flatnonzero(cnt.sum(0) > 0)
        sel = (ur[:, None] * nc + uc[None, :]).ravel()
        dfg = degf_mask(v, mask)        # R's svychisq: df of the design given (NA rows too)
        Ng = float(mask.sum())
        p = r.estimate[K + sel].reshape(len(ur), len(uc))
        Vp = r.cov[np.ix_(K + sel, K + sel)]
        rs = rao_scott(p, Vp, dfg, N=Ng)
        T = r.estimate[sel].reshape(len(ur), len(uc))
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
