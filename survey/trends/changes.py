"""Wave-to-wave change: :func:`change`, :func:`trend_table`, :func:`wave_estimates`.

The (wave, domain) estimates of an indicator are one :class:`~survey.estimates.Estimates` with
their full covariance from the stacked design (:func:`survey.variance.ratio_influence` for the
linearisation, :func:`survey.variance.vcov_totals` for the covariance); a change is the contrast
``m_b − m_a`` (:meth:`~survey.estimates.Estimates.contrast`), so ``Var = V_aa + V_bb − 2 V_ab``
with the panel PSUs' covariance included.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..design import SurveyDesign
from ..errors import DesignError, EstimationError
from ..estimates import Estimates
from ..multiplicity import holm_significant
from ..validation import Options, check, check_level
from ..variance import ratio_influence, residualize, vcov_totals
from .harmonization import KINDS
from .stack import StackedWaves, stack_waves

__all__ = ["change", "trend_table", "wave_estimates"]


# ----------------------------------------------------------------------------------------------
# change estimates
# ----------------------------------------------------------------------------------------------
def _as_stacked(obj: Any, indicator: str | Sequence[str], panel_psus: Any,
                by_cols: Sequence[str]) -> StackedWaves:
    if isinstance(obj, StackedWaves):
        return obj
    if isinstance(obj, Mapping):
        inds = [indicator] if isinstance(indicator, str) else list(indicator)
        for b in by_cols:
            for w, d in obj.items():
                if b not in d.columns:
                    raise EstimationError(f"change: by variable {b!r} is not in wave {w!r}'s data")
        return stack_waves(obj, None, panel_psus, indicators=inds, keep=list(by_cols))
    raise DesignError(f"change: expected StackedWaves or a mapping wave -> SurveyDesign, got "
                      f"{type(obj).__name__}")


def _estimates(S: StackedWaves, ind: str, by: Sequence[str], waves: Sequence[str],
               df: float | None = None, ci_method: str = "wald") -> Estimates:
    """The (wave, domain) estimates of ``ind`` as one :class:`~survey.estimates.Estimates`
    (wave-major: element ``j * D + d``), with their full covariance from the stacked design.

    The ratio linearisation is :func:`survey.variance.ratio_influence` on the (wave, domain)
    codes; each wave's influence values are residualised by that wave's own calibrations and
    the covariance is :func:`survey.variance.vcov_totals` of the stacked design.
    """
    key = (ind, tuple(by), tuple(waves), df, ci_method, S.domain)
    if key not in S._estimates:  # once per stacked waves (their data are not changed after)
        S._estimates[key] = _estimates_of(S, ind, by, waves, df, ci_method)
    return S._estimates[key]


def _estimates_of(S: StackedWaves, ind: str, by: Sequence[str], waves: Sequence[str],
                  df: float | None, ci_method: str) -> Estimates:
    data = S.data
    design = S.design
    y = data[ind].to_numpy(dtype=float)
    n = len(data)
    if by:
        for b in by:
            if b not in data.columns:
                raise EstimationError(f"change: by variable {b!r} is not in the stacked data "
                                      f"(available: {[c for c in data.columns if not c.startswith('_')][:20]})")
        dom, levels = design.domain_index(list(by))
    else:
        dom, levels = np.zeros(n, dtype=np.int64), None
    inside = getattr(S, "domain_mask", lambda: None)()
    if inside is not None:  # StackedWaves.within: rows outside the domain count as zeros
        dom = np.where(inside, dom, -1)
        if levels is not None:  # the by-levels met inside the domain
            used = np.unique(dom[dom >= 0])
            remap = np.full(len(levels), -1, dtype=np.int64)
            remap[used] = np.arange(len(used))
            dom = np.where(dom >= 0, remap[np.maximum(dom, 0)], -1)
            levels = levels.iloc[used].reset_index(drop=True)
    D = 1 if levels is None else len(levels)
    W = len(waves)
    P = W * D
    w = design.weights
    col = np.full(n, -1, dtype=np.int64)
    for j, wv in enumerate(waves):
        r = S.rows[wv]
        col[r] = np.where(dom[r] >= 0, j * D + dom[r], -1)
    ok = (col >= 0) & ~np.isnan(y)
    col = np.where(ok, col, -1)
    est, N, resid = ratio_influence(y[:, None], None, w, col, P)
    est, N = est[:, 0], N[:, 0]
    c0 = np.where(ok, col, 0)
    cnt = np.bincount(c0[ok], weights=(w[ok] > 0).astype(float), minlength=P)
    # influence values (n x P, one column per row) -> dense per wave block
    infl = np.zeros((n, P))
    idx = np.flatnonzero(ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        infl[idx, col[idx]] = w[idx] * resid[idx, 0] / N[col[idx]]
    infl = np.nan_to_num(infl)
    for j, wv in enumerate(waves):
        d = S.designs[wv]
        if d.calibrations:
            r = S.rows[wv]
            cols = slice(j * D, (j + 1) * D)
            infl[r, cols] = residualize(d, infl[r, cols])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(w[:, None] > 0, infl / w[:, None], 0.0)
    V = vcov_totals(design, z, present=np.ones(n, dtype=bool))
    # labels by position (no string conversion): wave-major, domain-minor
    lab = (pd.DataFrame(index=range(P)) if levels is None
           else levels.iloc[np.tile(np.arange(D), W)].reset_index(drop=True))
    lab.insert(0, "wave", pd.Categorical.from_codes(np.repeat(np.arange(W), D), categories=list(waves)))
    return Estimates(est, V, df=float(design.df if df is None else df), labels=lab,
                     statistic="mean", n=cnt, ci_method=ci_method)


def change(stacked_or_designs: StackedWaves | Mapping[str, SurveyDesign], indicator: str,
           kind: str | None = None, by: str | Sequence[str] | None = None, level: float = 0.95,
           *, waves: Sequence[str] | None = None, panel_psus: Any = None,
           df: float | None = None) -> pd.DataFrame:
    """Change of a mean or proportion between two waves, overall or by domain, with its SE.

    Parameters
    ----------
    stacked_or_designs : StackedWaves or mapping wave -> SurveyDesign
        A :func:`stack_waves` result, or wave designs whose data hold ``indicator`` as a numeric
        (or 0/1 / boolean) column — the general entry point for other modules.
    indicator : str
        Indicator id (a column of the stacked data).
    kind : {"mean", "proportion"}, optional
        Only labels the output (a proportion is the mean of a 0/1 indicator); checked to be 0/1
        for ``"proportion"``.  Default: the harmonised indicator's kind, else ``"mean"``.
    by : str or list of str, optional
        Domain variable(s) present in every wave.
    level : float
        Confidence level of the intervals and the test (significant when ``p < 1 - level``).
    waves : (wave_a, wave_b), optional
        The two waves compared, ``b − a`` (default: the first and the last).
    panel_psus : optional
        With designs (not a StackedWaves): PSUs shared across waves (see :func:`stack_waves`).
    df : float, optional
        Degrees of freedom of the t reference (default: the stacked design's).

    Returns
    -------
    DataFrame
        One row per domain: ``indicator, kind, <by...>, wave_a, wave_b, estimate_a, se_a,
        estimate_b, se_b, change, se, ci_low, ci_high, t, p, df, significant, cov, n_a, n_b``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 0, 1, 1, 0, 1, 0, 0], "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> a = SurveyDesign(df, psu="c")
    >>> b = SurveyDesign(df.assign(y=[1.0, 1, 1, 1, 0, 1, 1, 0]), psu="c")
    >>> r = change({"2023": a, "2024": b}, "y", kind="proportion")
    >>> round(float(r["change"].iloc[0]), 3), round(float(r["se"].iloc[0]), 4)
    (0.25, 0.25)
    """
    check_level("change", level)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    S = _as_stacked(stacked_or_designs, indicator, panel_psus, by_cols)
    kind, waves = _resolve(S, indicator, kind, waves)
    E = _estimates(S, indicator, by_cols, S.waves, df=df)
    return _change_frame(S, E, indicator, kind, by_cols, waves, level)


def _resolve(S: StackedWaves, indicator: str, kind: str | None,
             waves: Sequence[str] | None) -> tuple[str, list[str]]:
    """Check the indicator, its kind and the compared pair of waves (``change``'s arguments)."""
    if indicator not in S.indicators:
        raise EstimationError(f"change: indicator {indicator!r} is not in the stacked waves "
                              f"(indicators: {S.indicators})")
    h = S.harmonization
    if kind is None:
        kind = h.indicator(indicator).kind if h is not None else "mean"
    check("change", "kind", kind, Options(KINDS))
    if kind == "proportion":
        y = S.data[indicator].to_numpy(dtype=float)
        v = y[~np.isnan(y)]
        if ((v < -1e-12) | (v > 1 + 1e-12)).any():
            raise EstimationError(f"change: indicator {indicator!r} has values outside [0, 1]; "
                                  "use kind='mean' or recode it to 0/1")
    allw = S.waves
    if waves is None:
        waves = (allw[0], allw[-1])
    waves = [str(x) for x in waves]
    if len(waves) != 2 or any(x not in allw for x in waves) or waves[0] == waves[1]:
        raise EstimationError(f"change: waves={waves} must be two different waves of {allw}")
    return kind, waves


def _change_frame(S: StackedWaves, E: Estimates, indicator: str, kind: str, by_cols: list[str],
                  waves: list[str], level: float) -> pd.DataFrame:
    """``change``'s frame from the (wave, domain) estimates of every wave of ``S``: the change
    ``b - a`` of each domain is the contrast of wave b's block minus wave a's."""
    D = len(E) // len(S.waves)
    ia = S.waves.index(waves[0]) * D + np.arange(D)
    ib = S.waves.index(waves[1]) * D + np.arange(D)
    L = np.zeros((D, len(E)))
    L[np.arange(D), ia] = -1.0
    L[np.arange(D), ib] = 1.0
    C = E.contrast(L, labels=E.labels.iloc[ib], df=E.df[0])
    ci = C.conf_int(level)
    tst = C.test()
    p = tst["p"].to_numpy()
    se_w = E.se
    out = pd.DataFrame({
        "indicator": indicator, "kind": kind, "wave_a": waves[0], "wave_b": waves[1],
        "estimate_a": E.estimate[ia], "se_a": se_w[ia], "estimate_b": E.estimate[ib],
        "se_b": se_w[ib], "change": C.estimate, "se": C.se, "ci_low": ci[:, 0],
        "ci_high": ci[:, 1], "t": tst["t"].to_numpy(), "p": p, "df": C.df,
        "significant": np.where(np.isnan(p), False, p < 1 - level),
        "cov": E.cov[ia, ib], "n_a": E.n[ia].astype(int), "n_b": E.n[ib].astype(int)})
    for j, b in enumerate(by_cols):
        out.insert(2 + j, b, E.labels[b].to_numpy()[:D])
    out.attrs.update({"level": level, "panel_psus": len(S.panel_psus)})
    return out


def _wave_estimates(S: StackedWaves, ind: str, by: list[str]) -> Estimates:
    """The (wave, domain) estimates of every wave; proportions carry the report's published
    interval (``ci_method="published"``)."""
    h = S.harmonization
    share = h is not None and h.indicator(ind).kind == "proportion"
    return _estimates(S, ind, by, S.waves, ci_method="published" if share else "wald")


def _values_frame(E: Estimates, ind: str, by: list[str], level: float) -> pd.DataFrame:
    """``wave_estimates``' frame: one row per wave (× domain), waves in order."""
    ci = E.conf_int(level)
    out = pd.DataFrame({"indicator": ind, "wave": E.labels["wave"].to_numpy(), "estimate": E.estimate,
                        "se": E.se, "ci_low": ci[:, 0], "ci_high": ci[:, 1],
                        "n": E.n.astype(int)})
    for b in by:
        out[b] = E.labels[b].to_numpy()
    return out


def trend_table(stacked: StackedWaves, indicators: Sequence[str] | None = None, *,
                by: str | Sequence[str] | None = None, level: float = 0.95,
                waves: Sequence[str] | None = None) -> pd.DataFrame:
    """Every harmonised indicator with its value in each wave and the change between two waves.

    Parameters
    ----------
    stacked : StackedWaves
    indicators : sequence of str, optional
        Default: every indicator of the stacked waves (all comparable by construction).
    by : str or list, optional
        Domains.
    level : float
    waves : (wave_a, wave_b), optional
        The compared pair (default first and last).

    Returns
    -------
    DataFrame
        ``indicator, label, kind, [by], est_<wave> and se_<wave> for each wave, change, se,
        ci_low, ci_high, p, p_adj, significant, footnote``; ``attrs["waves"]``.  The rows are
        one family: ``p_adj`` is Holm-adjusted over them (:mod:`survey.multiplicity`, the
        report's one rule) and ``significant`` is ``p_adj < 1 − level`` (the interval
        ``ci_low``–``ci_high`` stays the unadjusted per-comparison interval).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> s = stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df.assign(y=df.y + 1), psu="c")},
    ...                 indicators=["y"])
    >>> trend_table(s)[["est_a", "est_b", "change"]].round(2).values.tolist()
    [[3.5, 4.5, 1.0]]
    """
    check_level("trend_table", level)
    inds = list(stacked.indicators if indicators is None else indicators)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    h = stacked.harmonization
    out = []
    for ind in inds:
        kind, pair = _resolve(stacked, ind, None, waves)
        E = _wave_estimates(stacked, ind, by_cols)  # once: the change and the wave values
        ch = _change_frame(stacked, E, ind, kind, by_cols, pair, level)
        vals = _values_frame(E, ind, by_cols, level)
        rec = ch[[*by_cols, "change", "se", "ci_low", "ci_high", "p", "significant"]].copy()
        for w in stacked.waves:
            v = vals[vals["wave"] == w].reset_index(drop=True)
            rec[f"est_{w}"] = v["estimate"].to_numpy()
            rec[f"se_{w}"] = v["se"].to_numpy()
        meta = h.indicator(ind) if h is not None else None
        rec.insert(0, "indicator", ind)
        rec.insert(1, "label", meta.label if meta else ind)
        rec.insert(2, "kind", ch["kind"].iloc[0])
        rec["footnote"] = " ".join(meta.footnotes) if meta else ""
        out.append(rec)
    tab = pd.concat(out, ignore_index=True)
    tab["p_adj"], tab["significant"] = holm_significant(tab["p"].to_numpy(float), 1 - level)
    first = ["indicator", "label", "kind", *by_cols]
    wcols = [c for w in stacked.waves for c in (f"est_{w}", f"se_{w}")]
    tab = tab[first + wcols + ["change", "se", "ci_low", "ci_high", "p", "p_adj", "significant",
                               "footnote"]]
    tab.attrs.update({"waves": stacked.waves, "compared": list(waves or (stacked.waves[0], stacked.waves[-1])),
                      "level": level})
    return tab


def wave_estimates(stacked: StackedWaves, indicator: str, *, by: str | Sequence[str] | None = None,
                   level: float = 0.95) -> pd.DataFrame:
    """The estimate of *indicator* in every wave of *stacked* (overall or by domain), with its SE
    and confidence interval (proportions: the report's published interval rule).

    Returns
    -------
    DataFrame
        ``indicator, wave, estimate, se, ci_low, ci_high, n`` (and the *by* columns), one row per
        wave (× domain), waves in order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": np.arange(8.0), "c": [1, 1, 2, 2, 3, 3, 4, 4]})
    >>> s = stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df.assign(y=df.y + 1), psu="c")},
    ...                 indicators=["y"])
    >>> wave_estimates(s, "y")[["wave", "estimate"]].values.tolist()
    [['a', 3.5], ['b', 4.5]]
    """
    check_level("wave_estimates", level)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    return _values_frame(_wave_estimates(stacked, indicator, by_cols), indicator, by_cols, level)
