"""One result type for every design-based statistic: :class:`Estimates`.

Modelled on statsmodels' ``LikelihoodModelResults`` (``bse`` from ``cov_params()``, ``conf_int``
and ``t_test`` written once) and R ``survey``'s ``svyby``/``svycontrast``: a vector of
estimates, their full covariance matrix, degrees of freedom per element, and a frame of labels.
Differences, changes between waves, group-vs-rest and difference-in-differences are all
contrasts ``L @ estimate`` (:meth:`Estimates.contrast`), tested with :meth:`Estimates.test`.

The estimators of :mod:`survey.estimate` build one and return ``Estimates.frame()``, the tidy
layout ``estimate, se, ci_low, ci_high, deff, n, n_eff, <labels>, small_n``; other modules get
the object itself from :func:`survey.estimate.estimates` (``design.estimates("mean", ...)``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> e = Estimates([1.0, 3.0], np.array([[1.0, 0.5], [0.5, 4.0]]), df=[10, 20],
...               labels=pd.DataFrame({"group": ["a", "b"]}))
>>> e.se.tolist()
[1.0, 2.0]
>>> d = e.contrast([[-1, 1]], labels=["b - a"])
>>> float(d.estimate[0]), float(d.var[0]), float(d.df[0])
(2.0, 4.0, 10.0)
>>> round(float(d.test()["p"].iloc[0]), 4)
0.3409
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from .errors import EstimationError
from .privacy import disclosure_mask
from .validation import Options, check, check_level
from .variance import tcrit

__all__ = ["Estimates", "RESULT_COLUMNS", "CI_METHODS", "KG_MIN_N_EFF", "PUBLISHED_CI_RULE",
           "check_ci_method", "prop_ci", "proportion_ci"]

RESULT_COLUMNS = ["estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff"]

#: ``ci_method`` values of :func:`proportion` and :func:`proportion_ci`.
CI_METHODS = ("wald", "logit", "xlogit", "beta", "published")

#: Effective sample size below which the published rule uses the Korn–Graubard interval: the
#: NCHS Data Presentation Standards for Proportions (Parker et al. 2017, Vital Health Stat
#: 2(175)) treat n_eff < 30 as too small for large-sample (normal-approximation) inference and
#: use Korn & Graubard's (1998) interval.  Fixed from that source, not tuned on our data.
KG_MIN_N_EFF = 30.0

#: The rule behind ``ci_method="published"`` (quoted in the report's methods text).
PUBLISHED_CI_RULE = (
    "比例的置信区间：默认在 logit 尺度上构造，区间不越出 0–100%；"
    f"有效样本量 p(1−p)/SE² 小于 {KG_MIN_N_EFF:g}（美国国家卫生统计中心 NCHS 比例数据发布标准，Parker 等 2017）"
    "或估计为 0 或 100% 时，改用 Korn–Graubard 区间（两种区间均与 R 语言调查分析中的同名方法一致）。"
)


class Estimates:
    """Estimates with their covariance, degrees of freedom and labels.

    Parameters
    ----------
    estimate : array-like, shape (k,)
    cov : array, shape (k, k), or callable, optional
        The covariance matrix, or a function computing it on first use (estimators only need
        the variances for their frame; the full matrix is formed when a contrast asks for it).
        Without it the elements are taken as uncorrelated.
    var, se : array-like, shape (k,), optional
        The variances or standard errors (default: the diagonal of ``cov``).
    df : float or array-like, shape (k,)
        Degrees of freedom of the t reference (``inf``: normal).
    labels : pandas.DataFrame, optional
        One row per element: the identifier columns of the tidy frame.
    statistic : str
        What the elements are (``"mean"``, ``"proportion"``, ``"contrast"``, ...).
    n, deff : array-like, optional
        Respondents behind each element and the design effects (NaN when unknown).
    ci : (low, high) arrays, optional
        Interval bounds at ``level`` when they are not ``estimate +- t se`` (Woodruff quantile
        intervals); ``ci_method`` (``"wald"``, ``"logit"``, ``"beta"``, ``"published"``) asks
        for a proportion interval instead.
    level, min_cell : float, int
        Default confidence level; the disclosure threshold of ``small_n`` (None: no column).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "g": list("aaabbb"), "c": [1, 2, 3, 4, 5, 6]})
    >>> e = SurveyDesign(df, psu="c").estimates("mean", "y", by="g")
    >>> e.frame()[["estimate", "g"]].values.tolist()
    [[2.0, 'a'], [6.0, 'b']]
    >>> e.cov.shape, round(float(e.contrast([-1, 1]).estimate[0]), 6)
    ((2, 2), 4.0)
    """

    def __init__(self, estimate: Any, cov: Any = None, *, var: Any = None, se: Any = None,
                 df: Any = np.inf,
                 labels: pd.DataFrame | None = None, statistic: str = "estimate", n: Any = None,
                 deff: Any = None, ci: tuple | None = None, ci_method: str = "wald",
                 level: float = 0.95, min_cell: int | None = None) -> None:
        est = np.atleast_1d(np.asarray(estimate, dtype=float)).ravel()
        k = len(est)
        self.estimate = est
        self._cov_fn: Callable[[], np.ndarray] | None = None
        self._cov: np.ndarray | None = None
        if callable(cov):
            self._cov_fn = cov
        elif cov is not None:
            c = np.asarray(cov, dtype=float)
            if c.shape != (k, k):
                raise EstimationError(f"Estimates: cov has shape {c.shape}, expected ({k}, {k})")
            self._cov = c
        self._se = None if se is None else np.asarray(se, dtype=float).ravel()
        if self._se is not None:
            self.var = self._se ** 2
        elif var is not None:
            self.var = np.asarray(var, dtype=float).ravel()
        elif self._cov is not None:
            self.var = np.diag(self._cov).copy()
        elif self._cov_fn is not None:
            self.var = np.diag(self.cov).copy()
        else:
            raise EstimationError("Estimates: give cov=, var= or se=")
        self.df = np.broadcast_to(np.asarray(df, dtype=float), (k,)).copy()
        self.labels = (pd.DataFrame(index=range(k)) if labels is None
                       else labels.reset_index(drop=True))
        if len(self.labels) != k:
            raise EstimationError(f"Estimates: labels have {len(self.labels)} rows, estimates {k}")
        self.statistic = statistic
        self.n = np.full(k, np.nan) if n is None else np.asarray(n).ravel()
        self.deff = np.full(k, np.nan) if deff is None else np.asarray(deff, dtype=float).ravel()
        self.ci = ci
        self.ci_method = ci_method
        self.level = check_level("Estimates", level)
        self.min_cell = min_cell

    def __len__(self) -> int:
        return len(self.estimate)

    def __repr__(self) -> str:
        return f"Estimates({self.statistic}, {len(self)} elements)\n{self.frame()!r}"

    # ------------------------------------------------------------------ variance
    @property
    def cov(self) -> np.ndarray:
        """The ``k x k`` covariance matrix (formed on first use when built lazily)."""
        if self._cov is None:
            if self._cov_fn is None:
                if self.statistic == "quantile":
                    raise EstimationError(
                        "Estimates: quantile estimates carry no covariance between elements "
                        "(Woodruff intervals); contrast single quantiles, or bootstrap them with "
                        "a replicate design")
                return np.diag(self.var)
            c = np.asarray(self._cov_fn(), dtype=float)
            self._cov = (c + c.T) / 2
        return self._cov

    @property
    def se(self) -> np.ndarray:
        """Standard errors (square roots of the variances, negatives from rounding set to 0)."""
        return self._se if self._se is not None else np.sqrt(np.maximum(self.var, 0.0))

    def conf_int(self, level: float | None = None) -> np.ndarray:
        """``k x 2`` array of confidence bounds ``estimate +- t(level, df) se`` (or the stored
        Woodruff / proportion interval).

        Examples
        --------
        >>> Estimates([0.0], var=[1.0]).conf_int(0.95).round(2).tolist()
        [[-1.96, 1.96]]
        """
        level = self.level if level is None else check_level("conf_int", level)
        if self.ci is not None and level == self.level:
            return np.column_stack(self.ci)
        if self.ci_method != "wald":
            lo, hi = prop_ci(self.estimate, self.se, self.df, self.n, level, self.ci_method)
            return np.column_stack([lo, hi])
        t = tcrit(level, self.df)
        se = self.se
        return np.column_stack([self.estimate - t * se, self.estimate + t * se])

    # ------------------------------------------------------------------ tidy frame
    def frame(self, level: float | None = None) -> pd.DataFrame:
        """The tidy frame every estimator returns: ``estimate, se, ci_low, ci_high, deff, n,
        n_eff``, the label columns, and ``small_n`` (when ``min_cell`` is set); ``attrs`` hold
        ``statistic``, ``level``, ``df`` (and ``min_cell``, ``ci_method``)."""
        level = self.level if level is None else check_level("frame", level)
        ci = self.conf_int(level)
        n = self.n.astype(np.int64) if self.n.dtype.kind in "iuf" and not np.isnan(
            np.asarray(self.n, float)).any() else self.n
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = n / self.deff
        out = pd.DataFrame({"estimate": self.estimate, "se": self.se, "ci_low": ci[:, 0],
                            "ci_high": ci[:, 1], "deff": self.deff, "n": n, "n_eff": n_eff})
        for c in self.labels.columns:
            out[c] = self.labels[c].values
        out.attrs.update({"statistic": self.statistic, "level": level, "df": self.df.copy()})
        if self.min_cell is not None:
            out["small_n"] = disclosure_mask(out["n"].to_numpy(), None, self.min_cell)
            out.attrs["min_cell"] = self.min_cell
        if self.statistic == "proportion":
            out.attrs["ci_method"] = self.ci_method
        return out

    # ------------------------------------------------------------------ contrasts and tests
    def _matrix(self, L: Any) -> np.ndarray:
        if isinstance(L, pd.DataFrame):
            L = L.to_numpy(dtype=float)
        Lm = np.atleast_2d(np.asarray(L, dtype=float))
        if Lm.shape[1] != len(self):
            raise EstimationError(f"contrast: L has {Lm.shape[1]} columns, the estimates {len(self)} "
                                  "elements; give one coefficient per element (0 to leave it out)")
        return Lm

    def contrast(self, L: Any, labels: Sequence[Any] | pd.DataFrame | None = None, *,
                 df: Any = None, statistic: str = "contrast") -> Estimates:
        """Linear combinations ``L @ estimate`` with covariance ``L V L'`` (R's ``svycontrast``).

        Parameters
        ----------
        L : array-like, shape (m, k) or (k,)
            One row of coefficients per contrast.
        labels : sequence or DataFrame, optional
            Names of the contrasts (a ``contrast`` column), or a label frame.
        df : float or array-like, optional
            Degrees of freedom; default the smallest df among the elements each row uses.

        Examples
        --------
        >>> e = Estimates([2.0, 5.0], var=[1.0, 3.0], df=[8, 12])
        >>> c = e.contrast([1, -1])
        >>> float(c.estimate[0]), float(c.var[0]), float(c.df[0])
        (-3.0, 4.0, 8.0)
        """
        Lm = self._matrix(L)
        est = Lm @ self.estimate
        if np.isnan(self.estimate).any():  # a coefficient 0 leaves the element out (0 * NaN)
            est = np.where(Lm != 0, Lm * np.nan_to_num(self.estimate), 0.0).sum(axis=1) \
                + np.where((Lm != 0) & np.isnan(self.estimate), np.nan, 0.0).sum(axis=1)
        if self._cov is None and self._cov_fn is None and ((Lm != 0).sum(axis=1) <= 1).all():
            V = (Lm * self.var) @ Lm.T  # one element per row: no covariance needed
        else:
            cov = self.cov
            if (Lm.size > 40_000 and np.count_nonzero(Lm) < 0.05 * Lm.size) \
                    or not np.isfinite(cov).all():
                # sparse: e.g. group − rest over hundreds of elements; and a coefficient 0 leaves
                # an element's NaN variance out (dense, 0 * NaN would spoil every contrast)
                Ls = sp.csr_matrix(Lm)
                V = np.asarray(Ls @ np.asarray(Ls @ cov).T)
            else:
                V = Lm @ cov @ Lm.T
        if df is None:
            used = Lm != 0
            dfm = np.where(used, self.df[None, :], np.inf).min(axis=1)
            dfv = np.where(used.any(axis=1), dfm, np.nan)
        else:
            dfv = df
        if labels is None:
            lab = pd.DataFrame({"contrast": [f"contrast {i + 1}" for i in range(len(est))]})
        elif isinstance(labels, pd.DataFrame):
            lab = labels
        else:
            lab = pd.DataFrame({"contrast": list(labels)})
        return Estimates(est, V, df=dfv, labels=lab, statistic=statistic, level=self.level)

    def test(self, L: Any = None, null: Any = 0.0, *, joint: bool = False) -> pd.DataFrame:
        """t tests of ``L @ estimate = null`` (each row), or one joint Wald F test.

        Without ``L`` every element is tested.  The joint test is R's ``regTermTest(...,
        method="Wald")`` / ``svycontrast`` + ``anova``: ``F = d' (L V L')^- d / r`` with ``r`` the
        rank of ``L V L'`` on ``(r, df)`` degrees of freedom, ``df`` the smallest df involved.

        Returns
        -------
        pandas.DataFrame
            Per row: ``estimate, se, t, df, p`` (two-sided); joint: one row ``F, ndf, ddf, p``.

        Examples
        --------
        >>> e = Estimates([1.0, 2.0], var=[1.0, 1.0], df=[np.inf, np.inf])
        >>> round(float(e.test(joint=True)["F"].iloc[0]), 3)
        2.5
        """
        c = self if L is None else self.contrast(L)
        d = c.estimate - np.broadcast_to(np.asarray(null, dtype=float), c.estimate.shape)
        if not joint:
            se = c.se
            with np.errstate(divide="ignore", invalid="ignore"):
                t = d / se
            p = 2 * stats.t.sf(np.abs(t), np.where(np.isinf(c.df), 1e300, c.df))
            return pd.DataFrame({"estimate": c.estimate, "se": se, "t": t, "df": c.df, "p": p})
        V = c.cov
        ev, U = np.linalg.eigh(V)
        keep = ev > 1e-10 * max(float(ev.max()), 0.0) if len(ev) else ev > 0
        r = int(keep.sum())
        if r == 0:
            raise EstimationError("test: the contrasts have zero variance; nothing to test")
        proj = U[:, keep].T @ d
        F = float((proj ** 2 / ev[keep]).sum()) / r
        ddf = float(np.nanmin(c.df))
        p = float(stats.f.sf(F, r, ddf)) if np.isfinite(ddf) else float(stats.chi2.sf(F * r, r))
        return pd.DataFrame({"F": [F], "ndf": [r], "ddf": [ddf], "p": [p]})


# ----------------------------------------------------------------------------------------------
# proportion intervals (R's svyciprop)
# ----------------------------------------------------------------------------------------------
def _logit_ci(p: np.ndarray, se: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        half = t * se / (p * (1 - p))
        lg = np.log(p / (1 - p))
        lo = 1 / (1 + np.exp(-(lg - half)))
        hi = 1 / (1 + np.exp(-(lg + half)))
    edge = (p <= 0) | (p >= 1)  # R: glm at the boundary gives [p, p] to ~1e-11
    return np.where(edge, p, lo), np.where(edge, p, hi)


def _kg_n_eff(p: np.ndarray, se: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Korn–Graubard n_eff = p(1-p)/var; n where p is 0 or 1 (or var is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ne = p * (1 - p) / (se * se)
    return np.where((p <= 0) | (p >= 1) | ~(se > 0), n, ne)


def _beta_ci(p: np.ndarray, se: np.ndarray, df: np.ndarray, n: np.ndarray,
             level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    ne = _kg_n_eff(p, se, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        # R: n.eff * (qt(alpha/2, nrow(design) - 1) / qt(alpha/2, degf(design)))^2
        adj = (tcrit(level, n - 1) / tcrit(level, df)) ** 2
        ne = ne * adj
        x = ne * p
        lo = stats.beta.ppf(alpha / 2, x, ne * (1 - p) + 1)
        hi = stats.beta.ppf(1 - alpha / 2, x + 1, ne * (1 - p))
    ok = np.isfinite(ne) & (ne > 0)
    lo = np.where(ok & (p <= 0), 0.0, lo)
    hi = np.where(ok & (p >= 1), 1.0, hi)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def prop_ci(p: np.ndarray, se: np.ndarray, df: np.ndarray, n: np.ndarray, level: float,
             method: str) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of a proportion's interval by ``method`` (see :func:`survey.estimate.proportion_ci`).

    Examples
    --------
    >>> lo, hi = prop_ci([0.5], [0.05], [99], [100], 0.95, "logit")
    >>> round(float(lo[0]), 3), round(float(hi[0]), 3)
    (0.402, 0.598)
    """
    p, se, df, n = (np.asarray(a, dtype=float) for a in (p, se, df, n))
    if method == "wald":
        t = tcrit(level, df)
        return p - t * se, p + t * se
    if method in ("logit", "xlogit"):
        return _logit_ci(p, se, tcrit(level, df))
    if method == "beta":
        return _beta_ci(p, se, df, n, level)
    kg = _kg_n_eff(p, se, n) < KG_MIN_N_EFF
    kg = kg | (p <= 0) | (p >= 1) | np.isnan(p)
    llo, lhi = _logit_ci(p, se, tcrit(level, df))
    blo, bhi = _beta_ci(p, se, df, n, level)
    return np.where(kg, blo, llo), np.where(kg, bhi, lhi)


def check_ci_method(fn: str, ci_method: Any) -> None:
    """Refuse an unknown ``ci_method`` (one of :data:`CI_METHODS`)."""
    check(fn, "ci_method", ci_method, Options(CI_METHODS))


def proportion_ci(frame: pd.DataFrame, method: str = "published", *, level: float | None = None,
                  df: Any = None, rows: Any = None) -> pd.DataFrame:
    """Recompute ``ci_low``/``ci_high`` of a tidy frame of proportions with another interval.

    Works on any frame with ``estimate`` (a share in [0, 1]), ``se`` and ``n`` columns:
    :func:`proportion`, and the ``pct``/``top_box``/``dist`` rows of
    :func:`survey.tables.multi` / :func:`~survey.tables.likert`.  The degrees of freedom are
    ``df=`` if given, else a ``df`` column, else ``frame.attrs["df"]`` (as the estimators leave
    them); the level is ``level=`` or ``frame.attrs["level"]`` (default 0.95).

    Methods (R's ``svyciprop``; ``t`` is the t quantile on the design df):

    * ``"wald"``: ``p +- t se``.
    * ``"logit"`` / ``"xlogit"``: ``expit(logit(p) +- t se / (p (1 - p)))``; at ``p`` = 0 or 1
      the interval is ``[p, p]`` (R's glm gives that to ~1e-11).
    * ``"beta"`` (Korn & Graubard 1998): Clopper–Pearson beta quantiles at the effective
      sample size ``n_eff = p (1 - p) / se^2`` times R's df adjustment ``(t(n - 1) /
      t(df))^2``, ``n`` the domain's respondents (R: ``nrow`` of the domain's subdesign, which
      also counts rows with a missing answer when ``na_rm=True``).  At ``p`` = 0 or 1 R
      returns NA; here ``n_eff = n`` (the NCHS convention), giving ``[0, 1 - (alpha/2)^(1/n')]``.
    * ``"published"`` — the report's rule, fixed up-front: Korn–Graubard where ``n_eff <``
      :data:`KG_MIN_N_EFF` (30, the NCHS Data Presentation Standards for Proportions, Parker et
      al. 2017) or ``p`` is 0 or 1, logit otherwise.

    ``rows`` (a boolean mask) recomputes only those rows, e.g. the shares of a frame that also
    holds means.  The logit and beta intervals are asymmetric around the estimate: use
    ``ci_low`` and ``ci_high`` themselves, never ``estimate - ci_low`` as a margin.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"estimate": [0.5, 0.02, 0.0], "se": [0.05, 0.03, 0.0], "n": [100, 200, 12],
    ...                   "df": [99, 199, 11]})
    >>> proportion_ci(f, "published")[["ci_low", "ci_high"]].round(3).values.tolist()
    [[0.402, 0.598], [0.0, 0.19], [0.0, 0.265]]
    """
    check_ci_method("proportion_ci", method)
    missing = [c for c in ("estimate", "se", "n") if c not in frame.columns]
    if missing:
        raise EstimationError(f"proportion_ci: the frame has no column(s) {missing}; pass a frame from "
                              "proportion() / multi() / likert()")
    lev = float(level if level is not None else frame.attrs.get("level", 0.95))
    if df is not None:
        dfv = np.broadcast_to(np.asarray(df, dtype=float), (len(frame),))
    elif "df" in frame.columns:
        dfv = frame["df"].to_numpy(float)
    elif "df" in frame.attrs and np.size(frame.attrs["df"]) == len(frame):
        dfv = np.asarray(frame.attrs["df"], dtype=float)
    else:
        raise EstimationError("proportion_ci: no degrees of freedom (no df column, no attrs['df'] "
                              "of the right length); pass df= (e.g. design.df)")
    # rows: only the share rows of a mixed frame (means and scores keep their interval)
    sel = np.ones(len(frame), bool) if rows is None else np.asarray(rows, dtype=bool)
    out = frame.copy()
    if sel.any():
        lo, hi = prop_ci(frame["estimate"].to_numpy(float)[sel], frame["se"].to_numpy(float)[sel],
                          np.asarray(dfv, dtype=float)[sel], frame["n"].to_numpy(float)[sel], lev, method)
        if rows is None:
            out["ci_low"], out["ci_high"] = lo, hi
        else:
            out.loc[sel, "ci_low"], out.loc[sel, "ci_high"] = lo, hi
    if rows is None:
        out.attrs["ci_method"] = method
    return out
