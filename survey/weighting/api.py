"""Design-level weighting: each function takes a SurveyDesign and returns a new one.

Every function re-weights the full-sample weights *and*, on a replicate design, every
replicate column (vectorised, as R's ``calibrate.svyrep.design``), appends the calibration
object the linearisation variance needs, records the step in ``design.meta["weighting_steps"]``
(so :func:`~survey.weighting.replicates.replicate_weighting` can replay the chain inside each
replicate), and attaches a :class:`~survey.weighting.WeightingReport` as
``design.weighting_report``.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, DesignError, WeightingError, WeightingWarning
from ..validation import Interval, Options, check
from .calobj import CellIndices, GregCalibration, PostStratification, RakingCalibration
from .core import CellTable, check_bounds, grake, grake_batch, ipf, model_matrix, trim_weights
from .report import WeightingReport
from .targets import (Margin, Targets, collapse_totals, key_variables, normalize,
                      parse_margins)

__all__ = ["rake", "rake_weights", "poststratify", "calibrate", "trim", "nonresponse_adjust",
           "base_weights"]


# ---------------------------------------------------------------------------------------------
# shared plumbing
# ---------------------------------------------------------------------------------------------
def _check_design(design: Any, fn: str) -> None:
    if not hasattr(design, "_with_weights"):
        raise WeightingError(f"{fn}: expected a SurveyDesign, got {type(design).__name__}")
    if getattr(design, "domain", None) is not None:
        raise WeightingError(f"{fn}: the design is a subset (domain); weight the full design, "
                             "then subset")


def _prepare(targets: Mapping, control_total: float | None, collapse: Any
             ) -> tuple[list[Margin], pd.DataFrame, dict, Mapping | None]:
    if isinstance(targets, Targets):
        declared = targets.collapse
    else:
        declared = {}
    if collapse is True or collapse == "declared":
        rules = declared
        if not rules:
            raise WeightingError("collapse='declared' but the targets declare no collapse rules")
    elif collapse is None or collapse is False:
        rules = {}
    elif isinstance(collapse, Mapping):
        rules = {str(k): {str(n): [str(o) for o in olds] for n, olds in v.items()}
                 for k, v in collapse.items()}
    else:
        raise WeightingError(f"collapse={collapse!r}: give True/'declared' (rules in the "
                             "population file) or a dict {var: {new level: [old levels]}}")
    if rules:
        known = {v for key in targets for v in key_variables(key)}
        stray = sorted(set(rules) - known)
        if stray and isinstance(collapse, Mapping):  # declared rules may cover unused margins
            raise WeightingError(f"collapse: variable(s) {stray} have no population target "
                                 f"(targets: {sorted(known)}); fix the name or drop the rule")
        t2 = collapse_totals(dict(targets), rules)
        if isinstance(targets, Targets):
            t2 = targets.copy_with(t2)
        targets = t2
    margins = parse_margins(targets)
    if control_total is None and isinstance(targets, Targets):
        control_total = targets.control_total
    margins, disc = normalize(margins, control_total)
    sources = {m.key: m.source for m in margins if m.source}
    return margins, disc, sources, rules or None


def _step(design: Any, name: str, args: dict) -> dict:
    steps = tuple(design.meta.get("weighting_steps", ()))
    meta = {"weighting_steps": steps + ((name, args),)}
    if "weighting_base" not in design.meta:
        # the design's weights are read-only (immutable design): kept by reference, no copy
        meta["weighting_base"] = np.asarray(design.weights, float)
    return meta


def _domains(design: Any, variables: Sequence[str]) -> pd.DataFrame:
    data = design.data
    cols = [v for v in dict.fromkeys(variables) if v in data.columns]
    return data[cols] if cols else None  # copy-on-write: no deep copy of n rows needed


def _margin_table(ct: CellTable, t_after: np.ndarray, t_before: np.ndarray) -> pd.DataFrame:
    rows = []
    for k, m in enumerate(ct.margins):
        ach = ct.margin_totals(k, t_after)
        bef = ct.margin_totals(k, t_before)
        cnt = ct.margin_totals(k, ct.counts.astype(float))
        for i, lev in enumerate(ct.margin_levels[k]):
            tg = ct.targets[k][i]
            if tg == 0 and cnt[i] == 0:
                continue
            rows.append({"margin": m.label, "level": " / ".join(lev), "target": tg,
                         "achieved": ach[i], "rel_error": ach[i] / tg - 1 if tg else np.nan,
                         "n": int(cnt[i]), "before": bef[i]})
    return pd.DataFrame(rows)


def _numeric_table(data: pd.DataFrame, numeric: Sequence[Margin], w0: np.ndarray,
                   w1: np.ndarray, n_pop: float | None) -> pd.DataFrame | None:
    if not numeric:
        return None
    rows = []
    for m in numeric:
        x = pd.to_numeric(data[m.variables[0]], errors="coerce").to_numpy(float)
        tg = m.numeric_total
        ach, bef = float(w1 @ x), float(w0 @ x)
        pop_mean = tg / n_pop if n_pop else np.nan
        sd = float(np.sqrt(np.cov(x, aweights=w0))) if len(x) > 1 else np.nan
        rows.append({"margin": m.label, "level": "(total)", "target": tg, "achieved": ach,
                     "rel_error": ach / tg - 1 if tg else ach - tg, "n": len(x), "before": bef,
                     "asmd_unweighted": abs(x.mean() - pop_mean) / sd if sd else np.nan,
                     "asmd_before": abs(bef / w0.sum() - pop_mean) / sd if sd else np.nan,
                     "asmd_after": abs(ach / w1.sum() - pop_mean) / sd if sd else np.nan})
    return pd.DataFrame(rows)


def _finish(design: Any, w_new: np.ndarray, calobj: Any, rep_new: np.ndarray | None,
            report: WeightingReport, step: tuple[str, dict]) -> Any:
    report.previous = design.weighting_report
    meta = _step(design, *step)
    neg = int((w_new < 0).sum())
    if neg == 0 or not np.isfinite(w_new).all():
        return design._with_weights(w_new, calibration=calobj, repweights=rep_new,
                                    weighting_report=report, **meta)
    # Unbounded linear (GREG) calibration may give negative weights, as in R; the design's
    # public hook refuses them, so build the same new design through its private replace.
    msg = (f"{neg} negative weight(s) after {report.method}; they are valid for GREG "
           "estimation (as in R) but use bounds=(0, ...) or calfun='raking'/'logit' for "
           "positive weights")
    report.notes.append(msg)
    warnings.warn(msg, WeightingWarning, stacklevel=3)
    pos = design._with_weights(np.abs(w_new), calibration=calobj, repweights=rep_new,
                               weighting_report=report, **meta)
    w = np.array(w_new, dtype=float)
    return pos._replace(_w=w)


# ---------------------------------------------------------------------------------------------
# raking
# ---------------------------------------------------------------------------------------------
def _rake_arrays(data: pd.DataFrame, w: np.ndarray, repw: np.ndarray | None,
                 margins: list[Margin], rules: Mapping | None, epsilon: float, maxit: int,
                 force: bool):
    if any(m.numeric for m in margins):
        bad = [m.label for m in margins if m.numeric]
        raise WeightingError(f"rake: {bad} are numeric totals; raking takes categorical "
                             "margins — use calibrate(..., calfun='raking') for numeric totals")
    ct = CellTable(data, margins, rules)
    t0 = ct.cell_totals(w)
    t1, trace, ok = ipf(t0, ct, epsilon, maxit)
    if not ok and not force:
        raise ConvergenceError(
            f"rake: margins not met within maxit={maxit} sweeps (max relative error "
            f"{trace[-1]:.3g} > epsilon={epsilon:g}); raise maxit, check that the margins are "
            "consistent (two-way vs one-way sources), collapse sparse levels, or pass force=True")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(t0 > 0, t1 / t0, 0.0)
    w1 = w * f[ct.cell]
    rep1 = None
    if repw is not None:
        T0 = ct.cell_totals(repw)
        T1, rtrace, rok = ipf(T0, ct, epsilon, maxit)
        if not rok:
            warnings.warn(f"rake: some replicate columns did not reach epsilon={epsilon:g} "
                          f"(max relative error {rtrace[-1]:.3g})", WeightingWarning,
                          stacklevel=3)
        with np.errstate(divide="ignore", invalid="ignore"):
            F = np.where(T0 > 0, T1 / T0, 0.0)
        rep1 = repw * F[ct.cell]
    return ct, t0, t1, w1, rep1, trace, ok


def rake(design: Any, targets: Mapping, *, control_total: float | None = None,
         collapse: Any = None, epsilon: float = 1e-10, maxit: int = 100,
         force: bool = False) -> Any:
    """Rake (iterative proportional fitting) to one- and two-way population margins.

    Respondents are collapsed once to the cells of the margin variables, the cell table is
    raked, and the weights are expanded once, so the cost does not grow with iterations ×
    respondents.  Variance: R's ``rake`` residualisation (``postStrata`` of class raking).

    Parameters
    ----------
    design : SurveyDesign
    targets : dict or Targets
        ``{"sex": {"男": 180000, "女": 120000}, ("sex", "age_group"): {("男", "≤29"): ...}}``.
    control_total : float, optional
        Total every margin is rescaled to (default: ``targets.control_total`` or the first
        margin's total); discrepancies are reported and warned about.
    collapse : True, "declared" or dict, optional
        Collapse levels by the declared rules (``targets.collapse``) or the given rules.
    epsilon : float
        Convergence: max |achieved/target − 1| over all margin cells.
    maxit : int
        Maximum number of IPF sweeps.
    force : bool
        Return the last iterate (flagged in the report) instead of raising on non-convergence.

    Returns
    -------
    SurveyDesign

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"sex": list("mmff"), "age": list("yoyo"), "w": [1.0, 2, 1, 1]})
    >>> d2 = rake(SurveyDesign(df, weights="w"), {"sex": {"m": 60, "f": 40}, "age": {"y": 50, "o": 50}})
    >>> d2.weights.round(2).tolist()
    [25.89, 34.11, 24.11, 15.89]
    """
    _check_design(design, "rake")
    margins, disc, sources, rules = _prepare(targets, control_total, collapse)
    w = np.asarray(design.weights, float)
    ct, t0, t1, w1, rep1, trace, ok = _rake_arrays(design.data, w, design.repweights, margins,
                                                   rules, epsilon, maxit, force)
    spec = {"method": "rake", "targets": targets, "control_total": control_total,
            "collapse": collapse, "epsilon": epsilon, "maxit": maxit, "force": force}
    calobj = RakingCalibration(CellIndices(ct.cell, ct.margin_index), w1, spec=spec)
    report = WeightingReport(
        "rake", w, w1, options={"epsilon": epsilon, "maxit": maxit}, converged=ok,
        iterations=len(trace) - 1, trace_values=trace, margin_table=_margin_table(ct, t1, t0),
        discrepancy_table=disc, sources=sources, population=getattr(targets, "population", {}),
        domains=_domains(design, ct.variables))
    return _finish(design, w1, calobj, rep1, report, ("rake", {k: v for k, v in spec.items()
                                                             if k != "method"}))


def rake_weights(data: pd.DataFrame, targets: Mapping, weights: Any = None, *,
                 control_total: float | None = None, collapse: Any = None,
                 epsilon: float = 1e-10, maxit: int = 100, force: bool = False) -> np.ndarray:
    """Raked weights as an array, without a design (same algorithm as :func:`rake`).

    For pipelines and benchmarks: one pass to collapse respondents to cells, IPF on the cell
    table, one pass to expand.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": list("mmff"), "age": list("yoyo")})
    >>> rake_weights(df, {"sex": {"m": 6, "f": 4}, "age": {"y": 5, "o": 5}}).tolist()
    [3.0, 3.0, 2.0, 2.0]
    """
    margins, _, _, rules = _prepare(targets, control_total, collapse)
    if weights is None:
        w = np.ones(len(data))
    elif isinstance(weights, str):
        w = pd.to_numeric(data[weights]).to_numpy(float)
    else:
        w = np.asarray(weights, float)
    if w.shape != (len(data),) or not np.isfinite(w).all() or (w < 0).any():
        raise WeightingError(f"rake_weights: weights must be {len(data)} finite non-negative "
                             "numbers")
    return _rake_arrays(data, w, None, margins, rules, epsilon, maxit, force)[3]


# ---------------------------------------------------------------------------------------------
# post-stratification
# ---------------------------------------------------------------------------------------------
def poststratify(design: Any, variables: str | Sequence[str] | Mapping,
                 totals: Mapping | None = None, *, control_total: float | None = None,
                 collapse: Any = None) -> Any:
    """Post-stratify to the totals of one variable or a cross of several (R ``postStratify``).

    Parameters
    ----------
    design : SurveyDesign
    variables : str, list of str, or a one-margin targets dict
        ``"unit_type"`` or ``["sex", "age_group"]`` (then ``totals`` keys are tuples or nested
        dicts); or ``{"unit_type": {...}}`` with ``totals`` omitted.
    totals : dict
        Population count of every post-stratum.
    control_total, collapse : see :func:`rake`.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"u": list("aabb"), "w": [1.0, 3, 1, 1]})
    >>> poststratify(SurveyDesign(df, weights="w"), "u", {"a": 40, "b": 60}).weights.tolist()
    [10.0, 30.0, 30.0, 30.0]
    """
    _check_design(design, "poststratify")
    if isinstance(variables, Mapping):
        if totals is not None:
            raise WeightingError("poststratify: give either a targets dict or variables + totals")
        targets = variables
        if len(targets) != 1:
            raise WeightingError(f"poststratify: {len(targets)} margins given; post-"
                                 "stratification uses one (cross-classified) margin — use rake() "
                                 "for several margins")
    else:
        if totals is None:
            raise WeightingError("poststratify: give the post-stratum totals")
        key = variables if isinstance(variables, str) else tuple(variables)
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        targets = {key: totals}
    margins, disc, sources, rules = _prepare(targets, control_total, collapse)
    w = np.asarray(design.weights, float)
    ct = CellTable(design.data, margins, rules)
    idx = ct.margin_index[0][ct.cell]
    K = len(ct.margin_levels[0])
    tg = ct.targets[0]
    have = np.bincount(idx, weights=w, minlength=K)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(have > 0, tg / have, 0.0)
    if ((have == 0) & (tg > 0)).any():
        bad = [" / ".join(ct.margin_levels[0][i]) for i in np.flatnonzero((have == 0) & (tg > 0))]
        raise WeightingError(f"poststratify: post-strata {bad} have respondents but zero total "
                             "weight; collapse them with a neighbour")
    w1 = w * r[idx]
    rep1 = None
    repw = design.repweights
    if repw is not None:
        H = ct.margin_totals(0, ct.cell_totals(repw))
        with np.errstate(divide="ignore", invalid="ignore"):
            Rr = np.where(H > 0, tg[:, None] / H, 0.0)
        rep1 = repw * Rr[idx]
    spec = {"method": "poststratify", "targets": targets, "control_total": control_total,
            "collapse": collapse}
    calobj = PostStratification(idx, w, w1, spec=spec)
    t0 = ct.cell_totals(w)
    report = WeightingReport(
        "poststratify", w, w1, trace_values=[0.0], iterations=1,
        margin_table=_margin_table(ct, ct.cell_totals(w1), t0), discrepancy_table=disc,
        sources=sources, population=getattr(targets, "population", {}),
        domains=_domains(design, ct.variables))
    return _finish(design, w1, calobj, rep1, report,
                   ("poststratify", {"variables": targets, "totals": None,
                                     "control_total": control_total, "collapse": collapse}))


# ---------------------------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------------------------
def _calibrate_arrays(data, w, repw, margins, rules, calfun, bounds, epsilon, maxit, force,
                      variance):
    L, U = check_bounds(calfun, bounds)
    cats = [m for m in margins if not m.numeric]
    nums = [m for m in margins if m.numeric]
    ct = CellTable(data, cats, rules) if cats else None
    if ct is None:
        mm, names, pop = model_matrix(data, None, nums)
        if mm.shape[1] == 0:
            raise WeightingError("calibrate: no calibration variables")
    collapsed = ct is not None and not nums and variance is None
    if collapsed:   # exact: g depends on the model-matrix row only -> solve on the cell table
        mmc, names, pop = ct.indicator_matrix()
        X, ww = mmc, ct.cell_totals(w)
    else:
        mm, names, pop = model_matrix(data, ct, nums)
        X, ww = mm, w
    res = grake(X, ww, calfun, pop, (L, U), epsilon, maxit, variance)
    if res["failed"] is not None and not force:
        raise ConvergenceError(
            f"calibrate(calfun={calfun!r}, bounds=({L}, {U})): not converged in maxit={maxit} "
            f"iterations (relative misfit {res['failed']:.3g} > epsilon={epsilon:g}). Widen the "
            "bounds, raise maxit, check the targets, or pass force=True")
    g = res["g"][ct.cell] if collapsed else res["g"]
    w1 = w * g
    rep1 = None
    if repw is not None:
        WW = ct.cell_totals(repw) if collapsed else repw
        rb = grake_batch(X, WW, calfun, pop, (L, U), epsilon, maxit, variance)
        if rb["failed"].any():
            msg = (f"calibrate: {int(rb['failed'].sum())} replicate column(s) did not converge "
                   f"(calfun={calfun!r}, bounds=({L}, {U}))")
            if not force:
                raise ConvergenceError(msg + "; widen the bounds or pass force=True")
            warnings.warn(msg, WeightingWarning, stacklevel=3)
        G = rb["g"][ct.cell] if collapsed else rb["g"]
        rep1 = repw * G
    if collapsed:
        mm, _, _ = model_matrix(data, ct, [])
    whalf = np.sqrt(w)
    calobj = GregCalibration(mm * whalf[:, None], g * whalf)
    return ct, nums, names, pop, g, w1, rep1, res, calobj


def calibrate(design: Any, targets: Mapping, *, calfun: str = "linear",
              bounds: Sequence[float] | Mapping | None = None, epsilon: float = 1e-7,
              maxit: int = 50, force: bool = False, control_total: float | None = None,
              collapse: Any = None, variance: np.ndarray | None = None) -> Any:
    """Calibrate to categorical level totals and numeric totals (R ``calibrate``).

    Same semantics as R's ``calibrate(design, formula, population, calfun=, bounds=,
    epsilon=, maxit=)``: g-weights from ``survey:::grake`` (Newton with ``MASS::ginv``, step
    halving), the model matrix in R's treatment coding (intercept = control total), and the
    greg residualisation ``qr.resid(qr(mm * sqrt(w)), x / w) * w`` in the variance.

    Parameters
    ----------
    design : SurveyDesign
    targets : dict or Targets
        Categorical variables take a dict of level totals, numeric ones their population total.
    calfun : {"linear", "raking", "logit"}
        Distance: linear (GREG; truncated linear with bounds), raking (exponential), logit
        (bounded; needs finite ``bounds``).
    bounds : (lower, upper), optional
        Bounds on the g-weights (final / initial weight).
    epsilon, maxit : float, int
        R's stopping rule ``|misfit| / (1 + |population|) < epsilon`` and iteration cap.
    force : bool
        Return the last iterate instead of raising :class:`ConvergenceError`.
    control_total, collapse : see :func:`rake`.
    variance : array, optional
        Heteroscedasticity (R's ``variance=``), one value per respondent.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"sex": list("mmff"), "h": [40.0, 50, 45, 35], "w": [1.0, 1, 1, 1]})
    >>> d2 = calibrate(SurveyDesign(df, weights="w"), {"sex": {"m": 6, "f": 4}, "h": 450.0})
    >>> round(float(d2.weights.sum()), 6), round(float(d2.weights @ df["h"]), 6)
    (10.0, 450.0)
    """
    _check_design(design, "calibrate")
    margins, disc, sources, rules = _prepare(targets, control_total, collapse)
    w = np.asarray(design.weights, float)
    if variance is not None:
        try:
            v = np.asarray(variance, dtype=float)
        except (TypeError, ValueError):
            v = np.array([np.nan])
        if v.shape != w.shape or not np.isfinite(v).all() or (v <= 0).any():
            raise WeightingError(f"calibrate: variance= must hold one positive number per "
                                 f"respondent ({len(w)} values), got shape {v.shape} with "
                                 f"min {np.nanmin(v) if v.size else 'n/a'}")
        variance = v
    data = design.data
    ct, nums, names, pop, g, w1, rep1, res, calobj = _calibrate_arrays(
        data, w, design.repweights, margins, rules, calfun, bounds, epsilon, maxit, force,
        variance)
    spec = {"method": "calibrate", "targets": targets, "calfun": calfun, "bounds": bounds,
            "epsilon": epsilon, "maxit": maxit, "force": force,
            "control_total": control_total, "collapse": collapse}
    calobj.spec = spec
    n_pop = float(ct.targets[0].sum()) if ct is not None else control_total
    report = WeightingReport(
        "calibrate", w, w1, options={"calfun": calfun, "bounds": bounds, "epsilon": epsilon,
                                     "maxit": maxit},
        converged=res["failed"] is None, iterations=res["iterations"],
        trace_values=res["trace"],
        margin_table=(_margin_table(ct, ct.cell_totals(w1), ct.cell_totals(w))
                      if ct is not None else None),
        numeric_table=_numeric_table(data, nums, w, w1, n_pop), discrepancy_table=disc,
        sources=sources, population=getattr(targets, "population", {}),
        domains=_domains(design, ct.variables if ct is not None else []))
    report.g_range = (float(np.min(g)), float(np.max(g)))
    if res.get("scale"):
        report.notes.append(f"sampling weights rescaled by {res['scale']:.3g} before "
                            "calibration (as R); bounds apply after rescaling")
    return _finish(design, w1, calobj, rep1, report,
                   ("calibrate", {k: v for k, v in spec.items() if k != "method"}))


# ---------------------------------------------------------------------------------------------
# trimming
# ---------------------------------------------------------------------------------------------
# what trim() accepts for each cap (absolute weights, multiples of the median, percentiles)
_CAP_UPPER = Interval(0, None, "neither", example=5.0)
_CAP_LOWER = Interval(0, None, "left", example=0.5)
_RATIO_UPPER = Interval(0, None, "neither", example=5)
_RATIO_LOWER = Interval(0, None, "left", example=0.2)
_Q_UPPER = Interval(0, 1, "right", example=0.99)
_Q_LOWER = Interval(0, 1, "left", example=0.01)


def _caps(w: np.ndarray, upper, lower, upper_ratio, lower_ratio, upper_quantile,
          lower_quantile) -> tuple[float, float]:
    for name, v, con in (("upper", upper, _CAP_UPPER), ("upper_ratio", upper_ratio, _RATIO_UPPER),
                         ("lower", lower, _CAP_LOWER), ("lower_ratio", lower_ratio, _RATIO_LOWER),
                         ("upper_quantile", upper_quantile, _Q_UPPER),
                         ("lower_quantile", lower_quantile, _Q_LOWER)):
        if v is not None:
            check("trim", name, v, con, error=WeightingError)
    wp = w[w > 0]
    med = float(np.median(wp))
    up, lo = np.inf, -np.inf
    if upper is not None:
        up = min(up, float(upper))
    if upper_ratio is not None:
        up = min(up, float(upper_ratio) * med)
    if upper_quantile is not None:
        up = min(up, float(np.quantile(wp, upper_quantile)))
    if lower is not None:
        lo = max(lo, float(lower))
    if lower_ratio is not None:
        lo = max(lo, float(lower_ratio) * med)
    if lower_quantile is not None:
        lo = max(lo, float(np.quantile(wp, lower_quantile)))
    if up == np.inf and lo == -np.inf:
        raise WeightingError("trim: give at least one cap (upper=, lower=, upper_ratio=, "
                             "lower_ratio=, upper_quantile=, lower_quantile=)")
    if not lo < up:
        raise WeightingError(f"trim: caps cross (lower {lo:g} >= upper {up:g})")
    return up, lo


def _last_calibration(design: Any):
    for c in reversed(tuple(getattr(design, "calibrations", ()))):
        if isinstance(getattr(c, "spec", None), dict) and c.spec.get("method"):
            return c
    return None


def trim(design: Any, upper: float | None = None, lower: float | None = None, *,
         upper_ratio: float | None = None, lower_ratio: float | None = None,
         upper_quantile: float | None = None, lower_quantile: float | None = None,
         redistribute: str = "proportional", strict: bool = True,
         recalibrate: bool | None = None, maxit: int = 50, tol: float = 1e-6,
         force: bool = False) -> Any:
    """Cap the weights, redistribute the trimmed mass, and re-calibrate until both hold.

    Caps are computed once from the current weights: ``upper``/``lower`` absolute,
    ``upper_ratio``/``lower_ratio`` times the median weight, ``upper_quantile``/
    ``lower_quantile`` percentiles (the tightest of those given applies).  The trimmed mass
    goes to the untrimmed respondents (``redistribute="proportional"``, or ``"equal"`` as R's
    ``trimWeights``).  If the design was raked/calibrated/post-stratified (and
    ``recalibrate`` is not False) the last weighting step is re-run on the trimmed weights,
    alternating until the caps hold within ``tol`` and the margins are met, or
    :class:`ConvergenceError` says that they cannot both hold (``force=True`` returns the last
    iterate with the report flagging it).

    Parameters
    ----------
    design : SurveyDesign
    upper, lower : float, optional
        Absolute bounds on the weights (``*_ratio``: times the median weight; ``*_quantile``:
        percentiles of the weights).
    redistribute, strict, recalibrate, maxit, tol, force
        As described above.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"w": [1.0, 1, 1, 7]}), weights="w")
    >>> trim(d, upper=4).weights.tolist()
    [2.0, 2.0, 2.0, 4.0]
    """
    _check_design(design, "trim")
    check("trim", "redistribute", redistribute, Options(("proportional", "equal")),
          error=WeightingError)
    w = np.asarray(design.weights, float)
    up, lo = _caps(w, upper, lower, upper_ratio, lower_ratio, upper_quantile, lower_quantile)
    cal = _last_calibration(design)
    if recalibrate is None:
        recalibrate = cal is not None
    elif recalibrate and cal is None:
        raise WeightingError("trim(recalibrate=True): the design has no rake/calibrate/"
                             "poststratify step to re-run")
    repw = design.repweights
    data = design.data
    trace: list[float] = []
    cur, cur_rep = w, repw
    ok = True
    calobj, mtable = None, None
    total_trimmed, n_trimmed = 0.0, 0
    for it in range(1, (maxit if recalibrate else 1) + 1):
        outside = (cur > up * (1 + tol)) | (cur < lo * (1 - tol))
        if it == 1:
            n_trimmed = int(outside.sum())
        total_trimmed += float(np.sum(np.abs(cur - np.clip(cur, lo, up))))
        tw, _ = trim_weights(cur, up, lo, redistribute, strict)
        trep = None
        if cur_rep is not None:
            trep = np.column_stack([trim_weights(cur_rep[:, j], up, lo, redistribute, strict)[0]
                                    for j in range(cur_rep.shape[1])])
        if not recalibrate:
            cur, cur_rep = tw, trep
            trace.append(0.0)
            break
        cur, cur_rep, calobj, mtable = _rerun(cal.spec, data, tw, trep)
        viol = max(float(np.max(cur / up - 1, initial=0.0)) if np.isfinite(up) else 0.0,
                   float(np.max(1 - cur / lo, initial=0.0)) if np.isfinite(lo) and lo > 0 else 0.0)
        trace.append(viol)
        if viol <= tol:
            break
    else:
        ok = False
        if not force:
            raise ConvergenceError(
                f"trim: the caps [{lo:g}, {up:g}] and the margins cannot both be met in "
                f"maxit={maxit} rounds (caps exceeded by {trace[-1]:.3g} relative after "
                "re-calibration). Loosen the caps, collapse sparse cells, or use "
                "calibrate(..., bounds=(lower, upper)) for bounded weights; force=True returns "
                "the last iterate")
    report = WeightingReport(
        "trim", w, cur, options={"upper": up, "lower": lo, "redistribute": redistribute,
                                 "recalibrate": bool(recalibrate)},
        converged=ok, iterations=len(trace), trace_values=trace, margin_table=mtable,
        trimmed_mass=total_trimmed, n_trimmed=n_trimmed,
        domains=design.weighting_report.domains if design.weighting_report is not None else None)
    args = {"upper": upper, "lower": lower, "upper_ratio": upper_ratio, "lower_ratio": lower_ratio,
            "upper_quantile": upper_quantile, "lower_quantile": lower_quantile,
            "redistribute": redistribute, "strict": strict, "recalibrate": recalibrate,
            "maxit": maxit, "tol": tol, "force": force}
    return _finish(design, cur, calobj, cur_rep, report, ("trim", args))


def _rerun(spec: dict, data: pd.DataFrame, w: np.ndarray, repw: np.ndarray | None):
    """Re-run a recorded rake/calibrate/poststratify step on array weights."""
    margins, _, _, rules = _prepare(spec["targets"], spec.get("control_total"),
                                    spec.get("collapse"))
    if spec["method"] == "rake":
        ct, t0, t1, w1, rep1, trace, ok = _rake_arrays(data, w, repw, margins, rules,
                                                       spec["epsilon"], spec["maxit"], True)
        cal = RakingCalibration([ct.margin_index[k][ct.cell] for k in range(len(ct.margins))],
                                w1, spec=spec)
        return w1, rep1, cal, _margin_table(ct, t1, t0)
    if spec["method"] == "calibrate":
        ct, nums, names, pop, g, w1, rep1, res, cal = _calibrate_arrays(
            data, w, repw, margins, rules, spec["calfun"], spec["bounds"], spec["epsilon"],
            spec["maxit"], True, None)
        cal.spec = spec
        mt = _margin_table(ct, ct.cell_totals(w1), ct.cell_totals(w)) if ct is not None else None
        return w1, rep1, cal, mt
    # poststratify
    ct = CellTable(data, margins, rules)
    idx = ct.margin_index[0][ct.cell]
    tg = ct.targets[0]
    have = np.bincount(idx, weights=w, minlength=len(tg))
    with np.errstate(divide="ignore", invalid="ignore"):
        w1 = w * np.where(have > 0, tg / have, 0.0)[idx]
        rep1 = None
        if repw is not None:
            H = ct.margin_totals(0, ct.cell_totals(repw))
            rep1 = repw * np.where(H > 0, tg[:, None] / H, 0.0)[idx]
    return w1, rep1, PostStratification(idx, w, w1, spec=spec), _margin_table(
        ct, ct.cell_totals(w1), ct.cell_totals(w))


# ---------------------------------------------------------------------------------------------
# base weights and nonresponse
# ---------------------------------------------------------------------------------------------
def base_weights(data: Any, station: str = "station", *, station_size: Any = None,
                 station_prob: Any = None, respondents: Any = None) -> np.ndarray | Any:
    """Base weights from the station design: ``(1 / π_station) × (size / respondents)``.

    Parameters
    ----------
    data : DataFrame or SurveyDesign
        With a design, a new design carrying the base weights is returned.
    station : str
        The station (PSU) column.
    station_size : str or dict, optional
        Eligible persons at each station (column name, or station -> size); without it the
        within-station factor is 1.
    station_prob : str or dict, optional
        Selection probability of each station; default 1 (stations taken with certainty).
    respondents : str or dict, optional
        Respondent count per station used in ``size / respondents`` (default: rows per station).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"station": ["a", "a", "b"]})
    >>> base_weights(df, station_size={"a": 100, "b": 30}, station_prob={"a": 0.5, "b": 1}).tolist()
    [100.0, 100.0, 30.0]
    """
    is_design = hasattr(data, "_with_weights")
    frame = data.data if is_design else data
    if station not in frame.columns:
        raise WeightingError(f"base_weights: station column {station!r} is not in the data")
    st = frame[station]
    if st.isna().any():
        raise WeightingError(f"base_weights: {int(st.isna().sum())} respondents have no "
                             f"{station!r}")

    def per_station(spec, name, default):
        if spec is None:
            return np.full(len(frame), default, dtype=float)
        if isinstance(spec, str):
            if spec not in frame.columns:
                raise WeightingError(f"base_weights: {name} column {spec!r} is not in the data")
            v = pd.to_numeric(frame[spec], errors="coerce").to_numpy(float)
        else:
            m = {str(k): float(v) for k, v in dict(spec).items()}
            missing = sorted(set(st.astype(str)) - set(m))
            if missing:
                raise WeightingError(f"base_weights: {name} missing for station(s) "
                                     f"{missing[:10]}")
            v = st.astype(str).map(m).to_numpy(float)
        if not np.all(np.isfinite(v)) or (v <= 0).any():
            raise WeightingError(f"base_weights: {name} must be positive for every station")
        return v

    codes, _ = pd.factorize(st)
    nresp = np.bincount(codes)[codes].astype(float)
    size = per_station(station_size, "station_size", np.nan)
    if station_size is None:
        size = nresp
    resp = nresp if respondents is None else per_station(respondents, "respondents", 1.0)
    prob = per_station(station_prob, "station_prob", 1.0)
    if (prob > 1).any():
        raise WeightingError("base_weights: station_prob must be <= 1")
    w = size / resp / prob
    if is_design:
        report = WeightingReport("base_weights", np.asarray(data.weights, float), w)
        return _finish(data, w, None, None, report, ("base_weights", {
            "station": station, "station_size": station_size, "station_prob": station_prob,
            "respondents": respondents}))
    return w


def nonresponse_adjust(design: Any, responded: str | np.ndarray, classes: str | Sequence[str]
                       ) -> Any:
    """Weighting-class nonresponse adjustment: respondents carry the nonrespondents' weight.

    Within each class the respondents' weights are multiplied by (Σ weight of all eligible) /
    (Σ weight of respondents); nonrespondents get weight 0 (so they drop out of estimates but
    keep the design intact).  Replicate columns are adjusted the same way.

    Parameters
    ----------
    design : SurveyDesign
    responded : str or numpy.ndarray
        Boolean column (or array): whether each sampled unit responded.
    classes : str or sequence of str
        Weighting-class variable(s).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"c": list("aabb"), "r": [True, False, True, True], "w": [1.0, 1, 1, 1]})
    >>> nonresponse_adjust(SurveyDesign(df, weights="w"), "r", "c").weights.tolist()
    [2.0, 0.0, 1.0, 1.0]
    """
    _check_design(design, "nonresponse_adjust")
    data = design.data
    if isinstance(responded, str):
        if responded not in data.columns:
            raise WeightingError(f"nonresponse_adjust: column {responded!r} is not in the data")
        r = data[responded]
        if r.isna().any():
            raise WeightingError(f"nonresponse_adjust: {responded!r} has missing values")
        r = r.astype(bool).to_numpy()
    else:
        r = np.asarray(responded, bool)
    cls = [classes] if isinstance(classes, str) else list(classes)
    for c in cls:
        if c not in data.columns:
            raise WeightingError(f"nonresponse_adjust: class column {c!r} is not in the data")
    codes = data.groupby(cls, observed=True, sort=False, dropna=False).ngroup().to_numpy()
    w = np.asarray(design.weights, float)

    def adjust(W):
        W2 = W if W.ndim == 2 else W[:, None]
        K = codes.max() + 1
        out = np.empty_like(W2)
        for j in range(W2.shape[1]):
            allw = np.bincount(codes, weights=W2[:, j], minlength=K)
            rw = np.bincount(codes, weights=W2[:, j] * r, minlength=K)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(rw > 0, allw / rw, np.nan)
            out[:, j] = np.where(r, W2[:, j] * f[codes], 0.0)
        return out if W.ndim == 2 else out[:, 0]

    allw = np.bincount(codes, weights=w)
    rw = np.bincount(codes, weights=w * r)
    empty = np.flatnonzero((allw > 0) & (rw == 0))
    if len(empty):
        labels = data.groupby(cls, observed=True, sort=False, dropna=False).ngroup()
        first = [data.loc[labels == k, cls].iloc[0].tolist() for k in empty[:5]]
        raise WeightingError(f"nonresponse_adjust: weighting class(es) {first} have no "
                             "respondents; merge them with a neighbouring class")
    w1 = adjust(w)
    rep = design.repweights
    rep1 = None if rep is None else np.nan_to_num(adjust(np.asarray(rep, float)))
    report = WeightingReport("nonresponse_adjust", w, w1, options={"classes": cls},
                             domains=data[cls].copy())
    return _finish(design, w1, None, rep1, report,
                   ("nonresponse_adjust", {"responded": responded, "classes": classes}))
