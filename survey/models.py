"""Design-based generalised linear models (R's ``svyglm``) on top of statsmodels.

statsmodels fits the point estimates (IRLS with the sampling weights as prior weights, as R's
``svyglm`` passes them to ``glm``); the variance is the design-based sandwich computed here:

* linearisation designs: the per-respondent score ``s_i = x_i (y_i - mu_i) mu'(eta_i) / V(mu_i)``
  is multiplied by ``A^{-1} = (X' diag(w mu'^2 / V) X)^{-1}`` and handed to the design's
  variance engine, ``Cov(beta) = survey.variance.vcov_totals(design, s A^{-1})`` — exactly R's
  ``svy.varcoef`` (``svyrecvar(estfun %*% Ainv, ...)``), including strata, PSUs, fpc, lonely
  PSUs, domains and calibration residualisation;
* replicate designs: the model is refitted under every replicate weight column and the
  coefficients combined with the design's replicate variance (R's ``svyglm.svyrep.design``).

Residual degrees of freedom follow R: ``degf(design) + 1 - p`` with ``degf`` the number of PSUs
minus strata among the respondents used in the fit; p-values and intervals use the t
distribution on these df (R's ``summary.svyglm`` and ``confint.svyglm``).  ``binomial`` and
``quasibinomial`` (likewise ``poisson``/``quasipoisson``) give identical results, as in R, where
the design-based variance does not use the dispersion; the dispersion reported is R's
``svyvar`` of the Pearson residuals.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from survey import SurveyDesign
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(list("ab"), 200),
...                    "st": np.repeat([1, 2], 100), "w": rng.uniform(1, 2, 200)})
>>> df["y"] = 1 + 2 * df["x"] + rng.normal(size=200)
>>> m = SurveyDesign(df, weights="w", strata="st").glm("y ~ x + C(g)")
>>> list(m.to_frame().columns)
['term', 'estimate', 'se', 't', 'ci_low', 'ci_high', 'p', 'df']
>>> round(float(m.params["x"]), 1)
2.0
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import ConvergenceError, DesignError, EstimationError
from .validation import check_level
from .variance import degf, replicate_vcov, tcrit, vcov_totals

if TYPE_CHECKING:  # pragma: no cover
    from .design import SurveyDesign

__all__ = ["glm", "GLMResult", "FAMILIES"]

#: Accepted ``family=`` names -> (statsmodels family, is quasi).
FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson")


def _family(name: str):
    import statsmodels.api as sm

    if not isinstance(name, str) or name.lower() not in FAMILIES:
        raise EstimationError(f"glm: family={name!r} is not one of {FAMILIES}")
    name = name.lower()
    if name == "gaussian":
        return sm.families.Gaussian()
    if name in ("binomial", "quasibinomial"):
        return sm.families.Binomial()
    return sm.families.Poisson()


@dataclass
class GLMResult:
    """A fitted design-based GLM (statsmodels-like accessors).

    Attributes
    ----------
    params : Series
        Coefficients (statsmodels/patsy term names).
    cov : DataFrame
        Design-based covariance of the coefficients.
    df_resid : float
        Residual degrees of freedom (R: design df + 1 - p).
    dispersion : float
        R's dispersion estimate (design-weighted variance of the Pearson residuals); reported,
        not used in the SEs.
    nobs : int
        Respondents used in the fit.
    family, formula : str
    sm_result_ : statsmodels GLMResults
        The underlying weighted fit (its ``bse`` are *not* design based).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "c": np.repeat(np.arange(20), 10)})
    >>> df["y"] = 1 + 2 * df["x"] + rng.normal(size=200)
    >>> m = SurveyDesign(df, psu="c").glm("y ~ x")
    >>> m.params.round(1).tolist()
    [0.9, 1.9]
    >>> m.conf_int().shape, m.df_resid
    ((2, 2), 18.0)
    """

    formula: str
    family: str
    params: pd.Series
    cov: pd.DataFrame
    df_resid: float
    dispersion: float
    nobs: int
    level: float = 0.95
    sm_result_: Any = field(default=None, repr=False)

    @property
    def bse(self) -> pd.Series:
        """Design-based standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        """Coefficients divided by their design-based standard errors."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values from the t distribution on ``df_resid`` (as R's svyglm)."""
        if not self.df_resid > 0:
            return pd.Series(np.nan, index=self.params.index)
        return pd.Series(2 * stats.t.sf(np.abs(self.tvalues.to_numpy()), self.df_resid),
                         index=self.params.index)

    def cov_params(self) -> pd.DataFrame:
        """Design-based covariance matrix of the coefficients (a copy), as statsmodels."""
        return self.cov.copy()

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """t intervals on ``df_resid`` (R's ``confint.svyglm``).

        Parameters
        ----------
        level : float, optional
            Confidence level (default: the level the model was fitted with).

        Returns
        -------
        pandas.DataFrame
            ``ci_low, ci_high`` indexed by term.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "y": [1.0, 3.2, 4.9, 7.1, 9, 11]})
        >>> ci = SurveyDesign(df).glm("y ~ x").conf_int(0.9)
        >>> list(ci.columns), bool((ci["ci_low"] < ci["ci_high"]).all())
        (['ci_low', 'ci_high'], True)
        """
        level = self.level if level is None else check_level("conf_int", level)
        q = float(tcrit(level, self.df_resid))
        se = self.bse
        return pd.DataFrame({"ci_low": self.params - q * se, "ci_high": self.params + q * se})

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, se, t, ci_low, ci_high, p, df``.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "y": [1.0, 3.2, 4.9, 7.1, 9, 11]})
        >>> SurveyDesign(df).glm("y ~ x").to_frame().columns.tolist()
        ['term', 'estimate', 'se', 't', 'ci_low', 'ci_high', 'p', 'df']
        """
        ci = self.conf_int()
        return pd.DataFrame({
            "term": self.params.index, "estimate": self.params.to_numpy(),
            "se": self.bse.to_numpy(), "t": self.tvalues.to_numpy(),
            "ci_low": ci["ci_low"].to_numpy(), "ci_high": ci["ci_high"].to_numpy(),
            "p": self.pvalues.to_numpy(), "df": self.df_resid,
        })

    def summary(self) -> str:
        """Printable coefficient table (a string; ``print()`` it).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "y": [1.0, 3.2, 4.9, 7.1, 9, 11]})
        >>> print(SurveyDesign(df).glm("y ~ x").summary().splitlines()[0])
        Design-based GLM (gaussian): y ~ x
        """
        head = (f"Design-based GLM ({self.family}): {self.formula}\n"
                f"n = {self.nobs}, residual df = {self.df_resid:g}, dispersion = {self.dispersion:.6g}\n")
        return head + self.to_frame().set_index("term").to_string(float_format=lambda v: f"{v:.6g}")

    def __repr__(self) -> str:
        return f"GLMResult({self.family}: {self.formula}; n={self.nobs}, df={self.df_resid:g})"


def _formula_names(formula: str, columns: pd.Index) -> list[str]:
    toks = set(re.findall(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*", formula))
    return [c for c in columns if isinstance(c, str) and c in toks]


def _model_frame(data: pd.DataFrame, formula: str, rows: np.ndarray) -> pd.DataFrame:
    """The referenced columns of the rows in the fit, with nullable dtypes made patsy-safe."""
    names = _formula_names(formula, data.columns)
    sub = data.loc[data.index[rows], names].copy()
    for c in names:
        s = sub[c]
        if isinstance(s.dtype, pd.BooleanDtype) or (
                isinstance(s.dtype, pd.api.extensions.ExtensionDtype)
                and s.dtype.kind in "iuf" and not isinstance(s.dtype, pd.CategoricalDtype)):
            sub[c] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        elif s.dtype == bool:
            sub[c] = s.astype(float)
        elif pd.api.types.is_string_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
            sub[c] = pd.Categorical(s)
    return sub


def glm(d: "SurveyDesign", formula: str, family: str = "gaussian", *, level: float = 0.95,
        maxiter: int = 100, tol: float = 1e-12) -> GLMResult:
    """Fit a design-based GLM (R's ``svyglm``).

    Parameters
    ----------
    d : SurveyDesign
        The design (a domain from ``d.subset(...)`` fits the model in the domain, keeping the
        full design for the variance).
    formula : str
        patsy formula as statsmodels uses it, e.g. ``"leave ~ age + C(title) + hours"``;
        categorical/string columns become treatment-coded dummies (first level as reference).
        A binary outcome may be 0/1, boolean, or a two-level categorical (second level =
        success).  Rows with a missing value in any variable are dropped (R's ``na.omit``).
    family : {"gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"}
        Canonical links (identity, logit, log).
    level : float
        Confidence level of ``conf_int()`` / ``to_frame()``.
    maxiter, tol : int, float
        IRLS controls passed to statsmodels.

    Returns
    -------
    GLMResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"x": rng.normal(size=300), "c": np.repeat(np.arange(30), 10)})
    >>> df["y"] = (rng.random(300) < 1 / (1 + np.exp(-df["x"]))).astype(int)
    >>> m = SurveyDesign(df, psu="c").glm("y ~ x", family="binomial")
    >>> m.df_resid            # 30 PSUs - 1 stratum + 1 - 2 coefficients
    28.0
    """
    import patsy
    import statsmodels.api as sm

    fam = _family(family)
    if not isinstance(formula, str) or "~" not in formula:
        raise EstimationError(f"glm: formula {formula!r} must look like 'y ~ x1 + C(x2)'")
    check_level("glm", level)
    for attr in ("weights", "stages", "replicates", "data"):
        if not hasattr(d, attr):
            raise DesignError(f"glm: expected a SurveyDesign, got {type(d).__name__} (no {attr!r}); "
                              "build one with survey.SurveyDesign(...)")
    data = d.data
    wd = np.asarray(d.weights, dtype=float)
    dom = d.domain
    inset = wd > 0
    if dom is not None:
        inset &= dom
    mf = _model_frame(data, formula, inset)
    try:
        y, X = patsy.dmatrices(formula, mf, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as e:
        raise EstimationError(f"glm: cannot build the model matrix of {formula!r}: {e}") from None
    if y.shape[1] == 2 and family.lower() in ("binomial", "quasibinomial"):
        y = y.iloc[:, [1]]
    elif y.shape[1] != 1:
        raise EstimationError(f"glm: the outcome of {formula!r} gives {y.shape[1]} columns "
                              f"({list(y.columns)}); use a numeric outcome")
    pos = data.index.get_indexer(y.index)
    used = np.zeros(len(wd), dtype=bool)
    used[pos] = True
    yv = y.to_numpy(dtype=float).ravel()
    Xv = X.to_numpy(dtype=float)
    nobs, p = Xv.shape
    if nobs <= p:
        raise EstimationError(f"glm: {nobs} complete respondents for {p} coefficients in {formula!r}")
    if np.linalg.matrix_rank(Xv) < p:
        raise EstimationError(f"glm: the model matrix of {formula!r} is rank deficient (collinear "
                              "or empty categories); drop or merge terms")
    if family.lower() in ("binomial", "quasibinomial") and ((yv < 0) | (yv > 1)).any():
        raise EstimationError(f"glm: binomial outcome {y.columns[0]!r} must lie in [0, 1]")
    if family.lower() in ("poisson", "quasipoisson") and (yv < 0).any():
        raise EstimationError(f"glm: poisson outcome {y.columns[0]!r} must be non-negative")
    w = wd[pos]
    wr = w / w.mean()

    def fit(weights: np.ndarray, start: np.ndarray | None = None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(yv, Xv, family=fam, var_weights=weights).fit(
                start_params=start, maxiter=maxiter, tol=tol, tol_criterion="params")
        if not res.converged:
            raise ConvergenceError(f"glm: IRLS did not converge in {maxiter} iterations for "
                                   f"{formula!r}; check for separation or raise maxiter")
        return res

    res = fit(wr)
    beta = np.asarray(res.params, dtype=float)
    eta = Xv @ beta
    mu = fam.link.inverse(eta)
    dmu = fam.link.inverse_deriv(eta)
    var = fam.variance(mu)
    if d.replicates is not None:
        Wrep = np.asarray(d.repweights, dtype=float)[pos]

        def refit(col: np.ndarray) -> np.ndarray:
            wc = col / w.mean()
            pos_w = wc > 0
            # a replicate whose respondents cannot identify the model (too few, collinear: a
            # small domain under the bootstrap) gives NA, as R's glm.fit, and svrVar drops it
            if pos_w.sum() <= p or np.linalg.matrix_rank(Xv[pos_w]) < p:
                return np.full(p, np.nan)
            try:
                return np.asarray(fit(wc, beta).params, dtype=float)
            except ValueError as e:  # statsmodels' IRLS (e.g. a NaN deviance): say which model
                raise EstimationError(f"glm: a replicate refit of {formula!r} failed ({e}); check "
                                      "the model on the domain's respondents") from None

        thetas = np.array([refit(Wrep[:, j]) for j in range(Wrep.shape[1])])
        cov = replicate_vcov(d.replicates, beta, thetas)
    else:
        A = (Xv * (w * dmu ** 2 / var)[:, None]).T @ Xv
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError:
            raise EstimationError(f"glm: singular information matrix for {formula!r}") from None
        score = Xv * ((yv - mu) * dmu / var)[:, None]
        Z = np.zeros((len(wd), p))
        Z[pos] = score @ Ainv
        cov = vcov_totals(d, Z, used)
    df_resid = float(degf(d, used if dom is None else used & dom)) + 1 - p
    # R: svyvar of the Pearson residuals; residuals.svyglm divides the prior weights (rescaled
    # over the design's rows) by the weights rescaled over the complete rows, so rows dropped
    # for missing values leave a factor sqrt(mean_used(w) / mean_design(w)) (kept, to match R).
    wall = wd[inset]
    pr = (yv - mu) / np.sqrt(var) * np.sqrt(w.mean() / wall.mean())
    xbar = np.sum(w * pr) / w.sum()
    dispersion = float(np.sum(w * (pr - xbar) ** 2) / w.sum() * nobs / (nobs - 1))
    names = list(X.columns)
    return GLMResult(formula=formula, family=family.lower(),
                     params=pd.Series(beta, index=names),
                     cov=pd.DataFrame(cov, index=names, columns=names), df_resid=df_resid,
                     dispersion=dispersion, nobs=int(nobs), level=level, sm_result_=res)
