"""Design-based estimators: mean, total, proportion, ratio, quantile (R ``survey`` semantics).

Every estimator takes a :class:`~survey.design.SurveyDesign` and returns a tidy DataFrame whose
columns are ``estimate, se, ci_low, ci_high, deff, n, n_eff`` followed by the identifiers
(``variable``; ``level`` for proportions; ``quantile`` for quantiles; one column per ``by``
variable) and the disclosure flag ``small_n`` (``n`` below ``min_cell``, default 10: e.g. a
``by="title"`` domain of 3 respondents; :func:`survey.privacy.disclosure_mask`).
``frame.attrs`` holds ``statistic``, ``level`` (confidence level), ``df`` and ``min_cell``.
The frame is ``Estimates.frame()`` of a :class:`~survey.estimates.Estimates` (full covariance,
``contrast``, ``test``): pass ``return_estimates=True``, or call :func:`estimates`
(``design.estimates("mean", "y", by="g")``), to get the object itself.

How it is computed (one vectorised pass, no loops over rows or domains)
---------------------------------------------------------------------
Means, proportions and ratios are ratio estimators ``R_dv = sum_i w_i I_d y_iv / sum_i w_i I_d
x_iv`` for every variable ``v`` and domain ``d`` at once.  The weighted influence values
``w_i I_d (y_iv - R_dv x_iv) / X_dv`` are aggregated to PSU totals with one sparse
``(PSU x domain) x n`` indicator product per stage and handed to the design's variance engine
(:func:`survey.variance.vcov_from_psu_totals`, R's ``svyrecvar``).  Calibrated designs residualise the
influence values first (dense path).  Replicate designs recompute the statistic under every
replicate weight (one sparse product) and apply R's ``svrVar``.

* ``deff`` is R's ``deff=TRUE``: the design variance over the variance under simple random
  sampling *without* replacement of the same size, ``svyvar(y) (N - n) / (N n)`` (for totals
  times ``N^2``); ``n`` counts respondents with non-zero weight in the domain.  ``n_eff = n /
  deff``.  (R's ``deff="replace"``, i.e. with replacement, is ``deff="replace"`` here.)
* Confidence intervals are Wald intervals with a t reference on the design degrees of freedom
  (R's ``degf`` of the domain: PSUs minus strata among the domain's respondents), or ``df=``.
  Proportions also offer R's ``svyciprop`` intervals (``ci_method="logit"``, ``"beta"`` =
  Korn–Graubard) and the report's rule ``"published"``; :func:`proportion_ci` applies them to
  any tidy frame of shares (e.g. from :func:`survey.tables.multi`).
* Missing values raise :class:`~survey.errors.MissingValueError` naming the variable and the
  count unless ``na_rm=True`` (each variable then uses its own complete cases, like calling R's
  ``svymean(~v, na.rm=TRUE)`` once per variable).  Missing ``by`` values are treated the same.
* Quantiles use R 4.x ``svyquantile`` defaults: ``qrule="math"`` (the smallest value whose
  weighted CDF reaches ``p``) and Woodruff intervals (``interval.type="mean"``); the SE is the
  CI width over ``2 t``.  Their ``deff`` is that of the estimated CDF at the quantile.

Examples
--------
>>> import pandas as pd
>>> from survey import SurveyDesign
>>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": list("aaabbb"), "c": [1, 1, 2, 2, 3, 3]})
>>> d = SurveyDesign(df, psu="c")
>>> d.mean("y", by="g")[["estimate", "n", "variable", "g"]]
   estimate  n variable  g
0       2.0  3        y  a
1       5.0  3        y  b
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..estimates import (CI_METHODS, KG_MIN_N_EFF, PUBLISHED_CI_RULE, RESULT_COLUMNS, Estimates,
                         check_ci_method, prop_ci, proportion_ci)
from ..privacy import MIN_CELL
from ..validation import Options, check
from ..variance import tcrit
from ._engine import (_as_list, _check_empty, _check_kwargs, _check_missing, _check_options, _core,
                    _df_by, _domains, _estimate_columns, _ident, _numeric, _out, _result)
from .quantile import quantile

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["mean", "total", "proportion", "ratio", "quantile", "estimates", "proportion_ci",
           "prop_ci", "tcrit", "Estimates", "RESULT_COLUMNS", "CI_METHODS", "KG_MIN_N_EFF",
           "PUBLISHED_CI_RULE"]


# ----------------------------------------------------------------------------------------------
# public estimators
# ----------------------------------------------------------------------------------------------
def mean(design: SurveyDesign, variables: str | Sequence[str], by: str | Sequence[str] | None = None,
         *, na_rm: bool = False, level: float = 0.95, df: float | None = None,
         deff: bool | str = True, min_cell: int = MIN_CELL, return_estimates: bool = False,
         **kwargs: Any) -> pd.DataFrame | Estimates:
    """Design-based means (R's ``svymean`` / ``svyby(..., svymean)``).

    Parameters
    ----------
    design : SurveyDesign
    variables : str or list of str
        Numeric (or boolean) columns.
    by : str or list of str, optional
        Domain variable(s): one row per variable x domain; SEs equal those of ``subset``.
    na_rm : bool
        Drop missing values (per variable) instead of raising ``MissingValueError``.
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    df : float, optional
        Degrees of freedom of the t reference (``numpy.inf`` for normal); default R's ``degf``.
    deff : True, "replace" or False
        Design effect against SRS without (``True``, R's default) or with replacement
        (``"replace"``); ``False`` leaves the column NaN.
    min_cell : int
        ``small_n`` is True where ``n`` is below it (such an estimate must not be published;
        every estimator of this module takes this keyword).
    return_estimates : bool
        Return the :class:`~survey.estimates.Estimates` (covariance, contrasts, tests) instead
        of its frame (every estimator of this module takes this keyword).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]}), weights="w")
    >>> round(float(d.mean("y")["estimate"].iloc[0]), 4)
    2.8333
    """
    _check_kwargs("mean", kwargs)
    _check_options("mean", level, df, deff)
    names = _as_list(variables)
    if not names:
        raise EstimationError("mean: give at least one variable")
    dom, D, levels = _domains(design, by, na_rm, "mean")
    res, valid = _estimate_columns(design, names, dom, D, na_rm, "mean", "mean", deff)
    _check_empty(res, "mean", names, levels)
    dfs = _df_by(design, dom, D, valid, df, len(names))
    return _out(_result(res, dfs, level, _ident(names, D, levels), "mean", min_cell), return_estimates)


def total(design: SurveyDesign, variables: str | Sequence[str], by: str | Sequence[str] | None = None,
          *, na_rm: bool = False, level: float = 0.95, df: float | None = None,
          deff: bool | str = True, min_cell: int = MIN_CELL, return_estimates: bool = False,
          **kwargs: Any) -> pd.DataFrame | Estimates:
    """Design-based totals (R's ``svytotal``); a categorical variable gives one row per level.

    Parameters
    ----------
    design : SurveyDesign
    variables : str or list of str
        Numeric (or boolean) columns, or one categorical column.
    by, na_rm, level, df, deff, min_cell, return_estimates
        As for :func:`mean`.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]}), weights="w")
    >>> float(d.total("y")["estimate"].iloc[0])
    17.0
    """
    _check_kwargs("total", kwargs)
    _check_options("total", level, df, deff)
    names = _as_list(variables)
    if not names:
        raise EstimationError("total: give at least one variable")
    if len(names) == 1 and _is_categorical(design, names[0]):
        Y, labels = _indicators(design, names[0], None)
        dom, D, levels = _domains(design, by, na_rm, "total")
        valid = _check_missing(Y, dom, [names[0]] * Y.shape[1], na_rm, "total")
        res = _core(design, Y, None, valid, dom, D, "total", deff)
        dfs = _df_by(design, dom, D, valid, df, Y.shape[1])
        ident = _ident([names[0]] * len(labels), D, levels, extra={"level": labels})
        ident = {"variable": ident.pop("variable"), "level": ident.pop("level"), **ident}
        return _out(_result(res, dfs, level, ident, "total", min_cell), return_estimates)
    dom, D, levels = _domains(design, by, na_rm, "total")
    res, valid = _estimate_columns(design, names, dom, D, na_rm, "total", "total", deff)
    dfs = _df_by(design, dom, D, valid, df, len(names))
    return _out(_result(res, dfs, level, _ident(names, D, levels), "total", min_cell), return_estimates)


def _is_categorical(design: SurveyDesign, var: str) -> bool:
    if var not in design.columns:
        raise EstimationError(f"variable {var!r} is not in the design's data")
    s = design.column(var)
    return isinstance(s.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype))


def _indicators(design: SurveyDesign, var: str, labels: Mapping | None) -> tuple[np.ndarray, list]:
    """0/1 indicator matrix (NaN where missing) and the level labels, in category order."""
    if var not in design.columns:
        raise EstimationError(f"proportion: variable {var!r} is not in the design's data")
    s = design.column(var)
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise EstimationError(f"proportion: labels= for {var!r} must be a mapping code -> label, "
                                  f"e.g. {{1: '男', 2: '女'}}, not {type(labels).__name__}")
        lab = dict(labels)
        vals = pd.to_numeric(s, errors="coerce") if not isinstance(s.dtype, pd.CategoricalDtype) else s
        unknown = set(pd.unique(vals.dropna())) - set(lab)
        if unknown:
            raise EstimationError(
                f"proportion: variable {var!r} has codes {sorted(unknown)[:10]} that are not in "
                "labels=; add them or recode them to missing"
            )
        cat = pd.Categorical(vals, categories=list(lab))
        level_labels = [lab[k] for k in lab]
    elif isinstance(s.dtype, pd.CategoricalDtype):
        cat = s.array
        level_labels = list(cat.categories)
    else:
        cat = pd.Categorical(s)
        level_labels = list(cat.categories)
        if len(level_labels) > 100 and pd.api.types.is_numeric_dtype(s.dtype):
            raise EstimationError(
                f"proportion: variable {var!r} is numeric with {len(level_labels)} distinct values; "
                f"use design.mean({var!r}) / quantile(), or cut it into groups (pd.cut) first")
    codes = np.asarray(cat.codes)
    L = len(level_labels)
    Y = (codes[:, None] == np.arange(L)[None, :]).astype(float)
    Y[codes < 0] = np.nan
    return Y, level_labels


def proportion(design: SurveyDesign, variable: str, by: str | Sequence[str] | None = None, *,
               labels: Mapping[Any, str] | None = None, na_rm: bool = False, level: float = 0.95,
               df: float | None = None, deff: bool | str = True, ci_method: str = "wald",
               min_cell: int = MIN_CELL, return_estimates: bool = False,
               **kwargs: Any) -> pd.DataFrame | Estimates:
    """Proportion of each category (R's ``svymean(~factor)``), one row per level (x domain).

    Parameters
    ----------
    variable : str
        A Categorical (levels in category order), labelled integer codes (``labels={code:
        label}``, order of the mapping), or any discrete column (sorted levels).
    labels : mapping, optional
        Code -> label map for labelled codes.
    ci_method : {"wald", "logit", "xlogit", "beta", "published"}
        ``"wald"``: estimate +- t se (R's ``confint(svymean(...))``); ``"logit"``: the interval
        on the logit scale, back-transformed (R's ``svyciprop(method="logit")``; ``"xlogit"`` is
        the same numbers); ``"beta"``: Korn–Graubard (R's ``svyciprop(method="beta")``);
        ``"published"``: the report's rule, :data:`PUBLISHED_CI_RULE` (see
        :func:`proportion_ci`).  Domains use their own design df, as ``svyby(..., svyciprop)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"sex": pd.Categorical(["男", "女", "女", "女"], ["男", "女"])}))
    >>> d.proportion("sex")[["estimate", "level"]]
       estimate level
    0      0.25     男
    1      0.75     女
    """
    _check_kwargs("proportion", kwargs)
    _check_options("proportion", level, df, deff)
    check_ci_method("proportion", ci_method)
    if not isinstance(variable, str):
        raise TypeError(f"proportion: variable must be one column name, got {variable!r}")
    Y, lev = _indicators(design, variable, labels)
    dom, D, levels = _domains(design, by, na_rm, "proportion")
    valid = _check_missing(Y, dom, [variable] * Y.shape[1], na_rm, "proportion")
    res = _core(design, Y, None, valid, dom, D, "mean", deff)
    _check_empty(res, "proportion", [variable] * Y.shape[1], levels)
    dfs = _df_by(design, dom, D, valid, df, Y.shape[1])
    ident = _ident([variable] * len(lev), D, levels, extra={"level": lev})
    ident = {"variable": ident.pop("variable"), "level": ident.pop("level"), **ident}
    return _out(_result(res, dfs, level, ident, "proportion", min_cell, ci_method), return_estimates)


def ratio(design: SurveyDesign, numerator: str | Sequence[str], denominator: str | Sequence[str],
          by: str | Sequence[str] | None = None, *, na_rm: bool = False, level: float = 0.95,
          df: float | None = None, deff: bool | str = True, min_cell: int = MIN_CELL,
          return_estimates: bool = False, **kwargs: Any) -> pd.DataFrame | Estimates:
    """Ratio of two totals (R's ``svyratio``); lists are paired element-wise.

    Parameters
    ----------
    design : SurveyDesign
    numerator, denominator : str or list of str
        Numeric columns; the ratio is ``sum w num / sum w den`` (per domain).
    by, na_rm, level, df, deff, min_cell, return_estimates
        As for :func:`mean`.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [2.0, 2, 2, 2]}))
    >>> float(d.ratio("y", "x")["estimate"].iloc[0])
    1.25
    """
    _check_kwargs("ratio", kwargs)
    _check_options("ratio", level, df, deff)
    nums, dens = _as_list(numerator), _as_list(denominator)
    if len(nums) == 1 and len(dens) > 1:
        nums = nums * len(dens)
    if len(dens) == 1 and len(nums) > 1:
        dens = dens * len(nums)
    if len(nums) != len(dens) or not nums:
        raise EstimationError(
            f"ratio: {len(nums)} numerators and {len(dens)} denominators; give equal-length lists"
        )
    dom, D, levels = _domains(design, by, na_rm, "ratio")
    Y = np.column_stack([_numeric(design, v, "ratio") for v in nums])
    X = np.column_stack([_numeric(design, v, "ratio") for v in dens])
    names = [f"{a}/{b}" for a, b in zip(nums, dens)]
    both = np.where(np.isnan(X), np.nan, Y)
    valid = _check_missing(both, dom, names, na_rm, "ratio")
    res = _core(design, Y, X, valid, dom, D, "ratio", deff)
    _check_empty(res, "ratio", names, levels)
    dfs = _df_by(design, dom, D, valid, df, Y.shape[1])
    ident = _ident(names, D, levels, extra={"numerator": nums, "denominator": dens})
    return _out(_result(res, dfs, level, ident, "ratio", min_cell), return_estimates)


_ESTIMATORS = {"mean": mean, "total": total, "proportion": proportion, "ratio": ratio,
               "quantile": quantile}


def estimates(design: SurveyDesign, statistic: str, *args: Any, **kwargs: Any) -> Estimates:
    """The :class:`~survey.estimates.Estimates` object behind an estimator's frame.

    ``estimates(design, "mean", "y", by="g")`` equals ``mean(design, "y", by="g")`` as a
    result object: estimates, full covariance (``.cov``), df, labels; ``.frame()`` gives the
    estimator's frame, ``.contrast(L)`` differences and ``.test()`` Wald tests.  Every keyword
    of the estimator is accepted.  Also ``design.estimates("mean", ...)``.

    Parameters
    ----------
    design : SurveyDesign
    statistic : {"mean", "total", "proportion", "ratio", "quantile"}
    *args, **kwargs
        Passed to the estimator.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "g": list("aaabbb")}))
    >>> e = d.estimates("mean", "y", by="g")
    >>> e.estimate.tolist()
    [2.0, 6.0]
    >>> c = e.contrast([-1, 1], labels=["b - a"])
    >>> float(c.estimate[0]), round(float(c.se[0]), 4)
    (4.0, 1.1547)
    """
    fn = _ESTIMATORS.get(statistic)
    if fn is None:
        check("estimates", "statistic", statistic, Options(tuple(_ESTIMATORS)))
    return fn(design, *args, return_estimates=True, **kwargs)
