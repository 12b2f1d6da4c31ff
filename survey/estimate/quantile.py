"""Quantiles with Woodruff confidence intervals (R 4.x ``svyquantile`` defaults).

``qrule="math"`` (the smallest value whose weighted CDF reaches ``p``) and Woodruff intervals
(``interval.type="mean"``: the interval of the estimated CDF at the quantile, mapped back through
the quantile function); the SE is the CI width over ``2 t``.  Bound as ``design.quantile``.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import EstimationError, ReliabilityWarning
from ..estimates import Estimates
from ..privacy import MIN_CELL
from ..variance import tcrit
from ._engine import (_as_list, _check_empty, _check_kwargs, _check_missing, _check_options, _core,
                    _df_by, _domains, _ident, _numeric, _out)

if TYPE_CHECKING:  # pragma: no cover
    from ..design import SurveyDesign

__all__ = ["quantile"]


# ----------------------------------------------------------------------------------------------
# quantiles
# ----------------------------------------------------------------------------------------------
def _qrule_math(xs: np.ndarray, cumw: np.ndarray, W: float, p: np.ndarray) -> np.ndarray:
    """R's ``qrule_math`` on sorted values ``xs`` with cumulative weights ``cumw`` (vectorised
    over ``p``); NaN where ``p`` is NaN."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any() or len(xs) == 0:
        return out
    pp = p[ok]
    target = pp * W
    # last index with cumw <= p W (R's last(); 1st element if none)
    pos = np.searchsorted(cumw, target, side="right") - 1
    pos = np.where(pos < 0, 0, pos)
    wlow = pp - cumw[pos] / W
    nxt = np.minimum(pos + 1, len(xs) - 1)
    out[ok] = np.where(wlow == 0, xs[pos], xs[nxt])
    return out


def quantile(design: SurveyDesign, variables: str | Sequence[str],
             quantiles: float | Sequence[float] = 0.5, by: str | Sequence[str] | None = None, *,
             na_rm: bool = False, level: float = 0.95, df: float | None = None,
             min_cell: int = MIN_CELL, return_estimates: bool = False,
             **kwargs: Any) -> pd.DataFrame | Estimates:
    """Quantiles with Woodruff confidence intervals (R 4.x ``svyquantile`` defaults).

    Parameters
    ----------
    design : SurveyDesign
    variables : str or list of str
        Numeric columns.
    quantiles : float or list of float, default 0.5
        Probabilities in [0, 1].
    by, na_rm, level, df, min_cell, return_estimates
        As for :func:`survey.estimate.mean` (the Estimates carry the Woodruff intervals, no covariance).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"y": [float(i) for i in range(1, 21)]}))
    >>> d.quantile("y", [0.25, 0.5])["estimate"].tolist()
    [5.0, 10.0]
    """
    _check_kwargs("quantile", kwargs)
    _check_options("quantile", level, df, True)
    names = _as_list(variables)
    if not names:
        raise EstimationError("quantile: give at least one variable")
    try:
        ps = np.atleast_1d(np.asarray(quantiles, dtype=float))
    except (TypeError, ValueError):
        raise EstimationError(f"quantile: quantiles={quantiles!r} must be numbers in [0, 1], "
                              "e.g. 0.5 or [0.25, 0.5, 0.75]") from None
    if ps.ndim != 1 or not len(ps) or np.isnan(ps).any() or ((ps < 0) | (ps > 1)).any():
        raise EstimationError(f"quantile: quantiles {ps.tolist()} must lie in [0, 1]")
    dom, D, levels = _domains(design, by, na_rm, "quantile")
    Y = np.column_stack([_numeric(design, v, "quantile") for v in names])
    valid_all = _check_missing(Y, dom, names, na_rm, "quantile")
    w = design.full_weights
    P = len(ps)
    parts: dict[str, list] = {k: [] for k in ("est", "se", "lo", "hi", "deff", "n", "df")}
    for j, v in enumerate(names):
        y = Y[:, j]
        valid = (dom >= 0) if valid_all is None else valid_all[:, j]
        qhat = np.full((D, P), np.nan)
        sorted_data = []
        for d in range(D):  # per domain: sort once, vectorised over quantiles
            sel = valid & (dom == d) & (w != 0)
            xs, ws = y[sel], w[sel]
            o = np.argsort(xs, kind="stable")
            xs, ws = xs[o], ws[o]
            cw = np.cumsum(ws.astype(np.longdouble))  # R accumulates in long double
            cumw = cw.astype(np.float64)
            W = float(cw[-1]) if len(cw) else np.nan
            sorted_data.append((xs, cumw, W))
            qhat[d] = _qrule_math(xs, cumw, W, ps)
        # Woodruff: domain means of I(y <= qhat) for all quantiles at once
        dcode = np.where(dom >= 0, dom, 0)
        ind = (y[:, None] <= qhat[dcode]).astype(float)
        ind[~valid] = np.nan
        vmask = None if valid_all is None else np.repeat(valid[:, None], P, axis=1)
        res = _core(design, ind, None, vmask, dom, D, "mean", True)
        _check_empty(res, "quantile", [v] * P, levels)
        dfs = _df_by(design, dom, D, vmask, df, P)
        t = tcrit(level, dfs)
        se_m = np.sqrt(np.maximum(res["var"], 0))
        lo_p = res["est"] - t * se_m
        hi_p = res["est"] + t * se_m
        lo = np.full((D, P), np.nan)
        hi = np.full((D, P), np.nan)
        for d in range(D):
            xs, cumw, W = sorted_data[d]
            lo[d] = _qrule_math(xs, cumw, W, np.where(lo_p[d] < 0, np.nan, lo_p[d]))
            hi[d] = _qrule_math(xs, cumw, W, np.where(hi_p[d] > 1, np.nan, hi_p[d]))
        if np.isnan(lo).any() or np.isnan(hi).any():
            warnings.warn(f"quantile: the Woodruff interval for {v!r} reaches beyond the data for "
                          "some quantile(s); its bound and SE are NaN (as R)",
                          ReliabilityWarning, stacklevel=2)
        for k, a in (("est", qhat), ("se", (hi - lo) / (2 * t)), ("lo", lo), ("hi", hi),
                     ("deff", res["deff"]), ("n", res["n"]), ("df", dfs)):
            parts[k].append(a.T.ravel())  # quantile-major, domain-minor
    cat = {k: np.concatenate(a) for k, a in parts.items()}
    ident = _ident(names, P * D, None)
    ident["quantile"] = np.tile(np.repeat(ps, D), len(names))
    if levels is not None:
        for c in levels.columns:
            col = levels[c]
            idx = np.tile(np.arange(D), P * len(names))
            ident[c] = (pd.Series(col.take(idx)).reset_index(drop=True) if hasattr(col, "take")
                        else np.tile(col, P * len(names)))
    # Woodruff intervals are not estimate +- t se and carry no covariance between quantiles
    e = Estimates(cat["est"], None, se=cat["se"], df=cat["df"], labels=pd.DataFrame(ident),
                  statistic="quantile", n=cat["n"], deff=cat["deff"], ci=(cat["lo"], cat["hi"]),
                  level=level, min_cell=min_cell)
    return _out(e, return_estimates)
