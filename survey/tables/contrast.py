"""Contrasts of domain estimates (R's ``svycontrast`` on ``svyby(..., covmat = TRUE)``).

Flow: the domain means (or totals) are one ratio :class:`~survey.estimates.Estimates` with their
full covariance (:func:`survey.tables._core.ratio_estimates`); the contrasts are
:meth:`Estimates.contrast` and their t tests :meth:`Estimates.test`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..estimates import Estimates
from ..validation import Options, check, check_level
from ._core import column, degf_mask, groups, level_codes, numeric_block, ratio_estimates, view

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["contrast"]


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
    check(what, "stat", stat, Options(("mean", "total")))
    check_level(what, level)
    v = view(d, what)
    s = column(v, variable, what)
    if category is not None:
        codes, levs = level_codes(s, what)
        if category not in levs:
            raise EstimationError(f"{what}: category {category!r} is not a level of {variable!r} "
                                  f"(levels: {levs[:10]})")
        y = np.where(codes >= 0, (codes == levs.index(category)).astype(float), np.nan)
    else:
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            raise EstimationError(f"{what}: {variable!r} is categorical; pass category= to "
                                  "contrast the proportion in one category")
        y = numeric_block(v, [variable], what)[:, 0]
    by_cols, labels, masks = groups(v, by, what)
    G = len(masks)
    keys = [tuple(labels.iloc[g][c] for c in by_cols) for g in range(G)]
    keys1 = [k[0] if len(k) == 1 else k for k in keys]
    valid = ~np.isnan(y)
    y0 = np.nan_to_num(y)
    Z = np.zeros((v.n, 2 * G))
    for g, m in enumerate(masks):
        mv = m & valid
        Z[:, g] = y0 * mv
        Z[:, G + g] = mv
    num = np.arange(G)
    den = np.arange(G, 2 * G) if stat == "mean" else np.full(G, -1)
    r, _ = ratio_estimates(v, Z, num, den, np.arange(G, 2 * G), df=degf_mask(v, None),
                           level=level, present=valid)

    def as_vec(c: Any) -> np.ndarray:
        if isinstance(c, Mapping):
            unknown = [k for k in c if k not in keys1]
            if unknown:
                raise EstimationError(f"{what}: coef keys {unknown} are not levels of by={by_cols} "
                                      f"(levels: {keys1})")
            return np.array([float(c.get(k, 0.0)) for k in keys1])
        vec = np.asarray(c, dtype=float).ravel()
        if len(vec) != G:
            raise EstimationError(f"{what}: coef has {len(vec)} values for {G} domains {keys1}")
        return vec

    if isinstance(coef, Mapping) and coef and all(isinstance(x, Mapping) for x in coef.values()):
        names, L = list(coef), np.array([as_vec(x) for x in coef.values()])
    else:
        Lv = as_vec(coef)
        names = [" ".join(f"{'+' if c > 0 else '-'}{abs(c):g}*{k}" for k, c in zip(keys1, Lv)
                          if c != 0).lstrip("+")]
        L = Lv[None, :]
    # empty domains enter as 0 with variance 0 (their coefficient may be 0)
    dom = Estimates(np.nan_to_num(r.estimate), np.nan_to_num(r.cov), df=r.df, level=level)
    dfv = np.full(len(L), r.df[0] if df is None else float(df))
    c = dom.contrast(L, labels=names, df=dfv)
    ci = c.conf_int(level)
    t = c.test()
    return pd.DataFrame({"estimate": c.estimate, "se": c.se, "ci_low": ci[:, 0],
                         "ci_high": ci[:, 1], "t": t["t"].to_numpy(), "p": t["p"].to_numpy(),
                         "df": dfv, "contrast": names, "variable": variable})
