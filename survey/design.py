"""The survey design: frozen data and sampling structure, with the estimators bound as methods.

:class:`SurveyDesign` carries the data and the sampling structure (strata, clusters at every
stage, finite population corrections, weights, replicate weights, calibrations) and is immutable:
subsetting, replication and weighting return new designs.  It computes nothing itself:

* the variance engine is :mod:`survey.variance` (R's ``svyrecvar``/``svrVar`` as free functions
  that read the design through its public read-only attributes ``n_rows, weights, full_weights,
  domain_mask, stages, var_stages, lonely_psu, calibrations, replicates``);
* ``mean/total/proportion/ratio/quantile/estimates`` are :mod:`survey.estimate`'s functions,
  ``rake/calibrate/...`` :mod:`survey.weighting`'s, ``crosstab/multi/...`` :mod:`survey.tables`'s,
  ``glm`` :mod:`survey.models`'s, bound as methods (one function, one docstring; the modules
  are imported on first use, so this module depends on none of them);
* ``domain_index`` codes ``by=`` variables (:func:`survey.domains.domain_index`, cached).

Weighting hook: ``design._with_weights(new_weights, calibration=None, repweights=None, **meta)``
returns a design with new weights, the calibration object (anything with ``residualize(x)``)
appended to ``calibrations`` and optionally new replicate weights.

Domains: ``design.subset(mask)`` keeps the full design and zeroes the weights outside the
domain (R's semantics); ``by=`` gives identical standard errors.  ``subset(mask, compact=True)``
keeps only the domain's rows with the full design's structure (:mod:`survey.domains`): the same
numbers at a cost proportional to the domain.  Degrees of freedom follow
R's ``degf`` (:func:`survey.variance.degf`).

Examples
--------
>>> import pandas as pd
>>> from survey import SurveyDesign
>>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "w": [1.0, 1, 2, 2, 3, 3],
...                    "h": [1, 1, 1, 2, 2, 2], "c": [1, 1, 2, 3, 4, 4]})
>>> d = SurveyDesign(df, weights="w", strata="h", psu="c")
>>> d.n, d.df
(6, 2)
>>> round(float(d.mean("y")["estimate"].iloc[0]), 4)
4.1667
"""
from __future__ import annotations

import dataclasses
import importlib
import re
import warnings
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from . import variance as _v
from .domains import calibration_space, domain_index, subset_changes
from .errors import DesignError, SurveyWarning
from .replicates import make_replicates, replicate_plan
from .validation import Options, check
from .variance import LONELY_PSU_OPTIONS, REPLICATE_TYPES, Replicates, Stage

__all__ = ["SurveyDesign", "LONELY_PSU_OPTIONS", "REPLICATE_TYPES"]



# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


class _Method:
    """A module-level function bound as a method of :class:`SurveyDesign` (great_tables' way).

    ``mean = _Method("survey.estimate", "mean")`` makes ``design.mean(...)`` call
    ``survey.estimate.mean(design, ...)``: one function, one docstring.  The module is imported
    on first use (then the function replaces the descriptor), so ``design`` imports nothing
    from the estimator modules at import time: they depend on the design, not the other way.
    """

    def __init__(self, module: str, name: str | None = None) -> None:
        self.module, self.name = module, name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr
        self.name = self.name or attr

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        fn = getattr(importlib.import_module(self.module), self.name)
        setattr(cls if cls is not None else type(obj), self.attr, fn)
        return fn if obj is None else fn.__get__(obj, cls)


# ----------------------------------------------------------------------------------------------
# construction checks and the repr (free functions; the class keeps the public methods)
# ----------------------------------------------------------------------------------------------
def check_column(data: pd.DataFrame, col: Any, role: str) -> None:
    """Refuse a design column that is not in the data (names the role and the columns)."""
    if col not in data.columns:
        raise DesignError(
            f"SurveyDesign: {role} column {col!r} is not in the data "
            f"(columns: {', '.join(map(str, list(data.columns)[:20]))}"
            f"{', ...' if data.shape[1] > 20 else ''})"
        )

def repweights_from(data: pd.DataFrame, repweights: Any) -> np.ndarray:
    """The ``n x R`` replicate weights named by a regular expression, a column list or an array."""
    if isinstance(repweights, str):
        cols = [c for c in data.columns if re.search(repweights, str(c))]
        if not cols:
            raise DesignError(f"SurveyDesign: no column matches repweights pattern {repweights!r}")
        return data[cols].to_numpy(dtype=float)
    if isinstance(repweights, np.ndarray):
        return np.asarray(repweights, dtype=float)
    cols = list(repweights)
    for c in cols:
        check_column(data, c, "repweights")
    return data[cols].to_numpy(dtype=float)

def weights_from(data: pd.DataFrame, weights: Any, n: int) -> np.ndarray:
    """Checked sampling weights (a column name or values): numeric, finite, >= 0, not all zero."""
    if isinstance(weights, str):
        raw = data[weights]
        name = repr(weights)
    else:
        raw = pd.Series(np.asarray(weights).ravel()) if not isinstance(weights, pd.Series) else weights
        name = "weights"
        if len(raw) != n:
            raise DesignError(f"SurveyDesign: weights has length {len(raw)}, data has {n} rows")
    try:
        w = pd.to_numeric(raw, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as e:
        raise DesignError(f"SurveyDesign: weight column {name} is not numeric ({e})") from None
    lo, hi = (float(w.min()), float(w.max())) if n else (0.0, 0.0)
    if n and not (np.isfinite(lo) and np.isfinite(hi)):  # NaN or inf somewhere
        bad = ~np.isfinite(w)
        raise DesignError(
            f"SurveyDesign: weight column {name} has {int(bad.sum())} missing or infinite "
            f"values (first at row {int(np.flatnonzero(bad)[0])}); fix or drop those rows"
        )
    if lo < 0:
        raise DesignError(
            f"SurveyDesign: weight column {name} has {int((w < 0).sum())} negative values"
            f" (first at row {int(np.flatnonzero(w < 0)[0])}); sampling weights must be >= 0"
        )
    if n and not hi > 0:
        raise DesignError(f"SurveyDesign: weight column {name} is zero for every respondent; "
                          "check that the right column was passed as weights=")
    return w.copy()


def describe(d: SurveyDesign) -> str:
    """The text of ``repr(design)``: design type, strata and PSUs, weights, df, calibrations."""
    spec = d._spec
    lines = []
    if d.replicates is not None:
        r = d.replicates
        lines.append(
            f"Replicate-weight survey design: {r.type}, {r.W.shape[1]} replicates "
            f"(scale {r.scale:.4g}{', mse' if r.mse else ''}), df {d.df}"
        )
    else:
        ns = len(d.stages)
        kind = ("Stratified " if bool(spec['strata']) else "") + (
            "independent sampling" if spec["psu"] == [] else f"{ns}-stage cluster sampling"
        )
        lines.append(f"{kind} design (lonely_psu={d.lonely_psu!r})")
        s0 = d.stages[0]
        psu_name = spec["psu"][0] if spec["psu"] else "rows"
        strata_name = spec["strata"][0] if spec["strata"] else "-"
        lines.append(
            f"  strata: {s0.n_st} ({strata_name}); PSUs: {s0.n_cl} ({psu_name}); "
            f"PSUs per stratum {int(s0.npsu.min())}-{int(s0.npsu.max())}"
            + (f"; {int((s0.npsu == 1).sum())} lonely" if (s0.npsu == 1).any() else "")
        )
        for i, s in enumerate(d.stages[1:], start=2):
            lines.append(f"  stage {i}: {s.n_cl} units ({spec['psu'][i - 1]})")
        if bool(spec['fpc']):
            lines.append(f"  fpc: {', '.join(spec['fpc'])}")
    w = d.weights
    wpos = w[w > 0] if (w > 0).any() else w
    dom = ("" if d.domain_mask is None else " (compact domain: its rows only)" if d._compact
           else f" (domain of {d.n_rows})")
    lines.append(
        f"  n = {d.n}{dom}"
        f", weights {wpos.min():.4g}-{wpos.max():.4g} (sum {w.sum():.6g}), df {d.df}"
    )
    if d.calibrations:
        lines.append(f"  calibrations: {len(d.calibrations)}")
    return "\n".join(lines)


def construct(data: pd.DataFrame, weights: Any = None, strata: Any = None, psu: Any = None,
              fpc: Any = None, *, nest: bool = False, lonely_psu: str = "fail", repweights: Any = None,
              rep_type: str | None = None, scale: float | None = None, rscales: Any = None,
              mse: bool = False, combined_weights: bool = True, rho: float | None = None,
              questionnaire: Any = None) -> dict[str, Any]:
    """The checked slot values of a new :class:`SurveyDesign` (its ``__init__``; parameters as
    the class): data, weights, the stage structure (:func:`survey.variance.build_stages`) or the
    replicate weights (:func:`survey.replicates.make_replicates`)."""
    out: dict[str, Any] = {}
    if not isinstance(data, pd.DataFrame):
        raise DesignError(
            f"SurveyDesign: data must be a pandas DataFrame, got {type(data).__name__}; "
            "wrap it with pd.DataFrame(...)"
        )
    check("SurveyDesign", "lonely_psu", lonely_psu, Options(tuple(LONELY_PSU_OPTIONS)),
          error=DesignError)
    n = len(data)
    if n == 0:
        raise DesignError("SurveyDesign: data has no rows")
    data = data.copy(deep=False)
    psu_cols = _as_list(psu)
    strata_cols = _as_list(strata)
    fpc_cols = _as_list(fpc)
    for role, cols in (("psu", psu_cols), ("strata", strata_cols), ("fpc", fpc_cols)):
        for c in cols:
            check_column(data, c, role)
    if isinstance(weights, str):
        check_column(data, weights, "weights")

    out["_data"] = data
    out["_n"] = n
    out["_lonely"] = lonely_psu
    out["_calibrations"] = ()
    out["_domain"] = None
    out["_compact"] = None
    out["_meta"] = MappingProxyType({})
    if questionnaire is not None and not (hasattr(questionnaire, "columns")
                                          and hasattr(questionnaire, "labels")):
        raise DesignError("SurveyDesign: questionnaire= must be a survey.Questionnaire "
                          f"(got {type(questionnaire).__name__})")
    out["_questionnaire"] = questionnaire
    out["weighting_report"] = None
    out["_cache"] = {}
    out["_spec"] = {
        "weights": weights if isinstance(weights, str) else (None if weights is None else "<array>"),
        "strata": strata_cols, "psu": psu_cols, "fpc": fpc_cols, "nest": nest,
    }

    if repweights is not None:
        if psu_cols or strata_cols or fpc_cols:
            raise DesignError(
                "SurveyDesign: with repweights= the replicate weights carry the design; do not "
                "also pass strata=, psu= or fpc= (they would be ignored)"
            )
        w = weights_from(data, weights, n) if weights is not None else np.ones(n)
        if weights is None:
            warnings.warn("SurveyDesign: no sampling weights given with repweights=; "
                          "equal probability assumed (as R)", SurveyWarning, stacklevel=3)
        out["_w"] = w
        out["_rep"] = make_replicates(repweights_from(data, repweights), w, rep_type,
                                       scale, rscales, mse, combined_weights, rho)
        out["_stages"] = (_v.build_stages(n, [], [], [])[0][0],)
        out["_var_stages"] = 1
        out["_has_strata"] = False
        out["_has_fpc"] = False
    else:
        for name, val in (("rep_type", rep_type), ("scale", scale), ("rscales", rscales),
                          ("rho", rho)):
            if val is not None:
                raise DesignError(f"SurveyDesign: {name}= is only meaningful with repweights=")
        out["_rep"] = None
        stages, popsize_rows = _v.build_stages(
            n, [data[c] for c in psu_cols], [data[c] for c in strata_cols],
            [data[c] for c in fpc_cols], nest,
            names={"psu": psu_cols, "strata": strata_cols, "fpc": fpc_cols})
        out["_stages"] = tuple(stages)
        out["_has_strata"] = bool(strata_cols)
        out["_has_fpc"] = bool(fpc_cols)
        out["_var_stages"] = len(stages) if fpc_cols else 1
        if weights is not None:
            out["_w"] = weights_from(data, weights, n)
        elif fpc_cols:
            w = np.ones(n)
            for s, pop in zip(stages, popsize_rows):
                w = w * pop / s.npsu[s.st]
            out["_w"] = w
        else:
            out["_w"] = np.ones(n)
    return out


def weight_changes(d: SurveyDesign, new_weights: Any, calibration: Any, repweights: Any,
                   meta: dict[str, Any]) -> dict[str, Any]:
    """The checked slot changes of ``d._with_weights(...)`` (same arguments; ``meta`` is consumed)."""
    w = np.array(new_weights, dtype=float).ravel()
    if w.shape != (d.n_rows,):
        raise DesignError(f"_with_weights: new weights have shape {w.shape}, expected ({d.n_rows},)")
    lo, hi = float(w.min()), float(w.max())  # two reductions, no n-sized temporaries
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0:
        raise DesignError("_with_weights: new weights must be finite and non-negative")
    if calibration is not None and not hasattr(calibration, "residualize"):
        raise DesignError("_with_weights: calibration object needs a residualize(x) method")
    changes: dict[str, Any] = {"_w": w}
    if calibration is not None:
        changes["_calibrations"] = d.calibrations + (calibration,)
    if repweights is not None:
        if d.replicates is None:
            raise DesignError(
                "_with_weights: repweights= given for a design without replicate weights; "
                "call design.replicate(...) first"
            )
        W = np.array(repweights, dtype=float)
        if W.shape != d.replicates.W.shape:
            raise DesignError(
                f"_with_weights: repweights shape {W.shape} != {d.replicates.W.shape}"
            )
        r = d.replicates
        changes["_rep"] = Replicates(W, r.scale, r.rscales, r.mse, r.type, r.degf)
    report = meta.pop("weighting_report", d.weighting_report)
    changes["weighting_report"] = report
    if meta:
        m = dict(d.meta)
        m.update(meta)
        changes["_meta"] = MappingProxyType(m)
    return changes


def new_columns(d: SurveyDesign, columns: dict[str, Any]) -> dict[str, Any]:
    """The checked columns of ``d.assign(**columns)``: evaluated, row-aligned, no design column."""
    protected = {c for c in (d._spec.get("weights"), *d._spec.get("strata", ()),
                             *d._spec.get("psu", ()), *d._spec.get("fpc", ()))
                 if isinstance(c, str)}
    clash = sorted(protected & set(columns))
    if clash:
        raise DesignError(f"assign: {clash} are design columns of this design; build a new "
                          "SurveyDesign to change them")
    data = d._data
    new_cols = {}
    for name, val in columns.items():
        v = val(data) if callable(val) else val
        arr = v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else v
        if np.ndim(arr) == 0 or len(arr) != d.n_rows:
            raise DesignError(f"assign: column {name!r} has length "
                              f"{1 if np.ndim(arr) == 0 else len(arr)}, the design has "
                              f"{d.n_rows} rows")
        new_cols[name] = v.to_numpy() if isinstance(v, pd.Series) else v
    return new_cols


def cached_domain_index(data: pd.DataFrame, cache: dict, by: Any) -> tuple[np.ndarray, pd.DataFrame]:
    """``design.domain_index(by)``: :func:`survey.domains.domain_index` of the data, cached in the
    design's ``cache`` (the codes depend on the data only, so the designs derived without new
    data -- subset, weighting, replication -- share them)."""
    cols = _as_list(by)
    if not cols:
        raise DesignError("domain_index: give at least one by variable")
    ckey = ("domain_index", tuple(cols))
    hit = cache.get(ckey)
    if hit is not None:
        return hit[0], hit[1].copy()
    out, table = domain_index(data, cols)
    out.setflags(write=False)
    cache[ckey] = (out, table)
    return out, table.copy()


# ----------------------------------------------------------------------------------------------
class SurveyDesign:
    """A complex survey design (stratified, multistage, weighted, with FPC or replicate weights).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.  It is copied (shallowly) and never modified.
    weights : str or array-like, optional
        Sampling weight column (or values).  Without weights they come from the fpcs (product of
        ``N_h / n_h`` over stages) or are all one, as in R.
    strata : str or list of str, optional
        Stratum column (one per stage for multistage stratification).
    psu : str or list of str, optional
        Cluster id column(s), one per stage; ``None`` means every row is its own PSU.
    fpc : str or list of str, optional
        Finite population correction per stage: population sizes (all >= 1) or sampling
        fractions (all <= 1), as R's ``fpc=``.
    nest : bool
        PSU ids are only unique within strata (R's ``nest=TRUE``); otherwise ids repeated across
        strata are an error.
    lonely_psu : {"fail", "remove", "adjust", "average", "certainty"}
        What to do with strata that contain a single PSU (R's ``options(survey.lonely.psu)``).
    repweights : list of str, str (regular expression) or 2-D array, optional
        Replicate weights; makes a replicate-weight design (strata/psu/fpc must then be omitted).
    rep_type : {"jk1", "jkn", "bootstrap", "brr", "fay", "other"}
        Type of the replicate weights (R's ``type=``).
    scale, rscales : float, array-like, optional
        Variance multipliers as in R's ``svrepdesign``; defaults as R (``jkn`` needs ``rscales``).
    mse : bool
        Centre replicate deviations at the full-sample estimate instead of the replicate mean.
    combined_weights : bool
        Whether ``repweights`` already include the sampling weights (R's default ``TRUE``).
    rho : float, optional
        Fay's coefficient for ``rep_type="fay"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]})
    >>> d = SurveyDesign(df, weights="w")
    >>> d.weights.tolist()
    [1.0, 1.0, 2.0, 2.0]
    >>> round(float(d.mean("y")["estimate"].iloc[0]), 4)
    2.8333
    """

    __slots__ = (
        "_data", "_n", "_w", "_stages", "_var_stages", "_has_strata", "_has_fpc", "_lonely",
        "_calibrations", "_rep", "_domain", "_meta", "_spec", "weighting_report", "_frozen",
        "_cache", "_questionnaire", "_compact",
    )

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | Sequence[float] | np.ndarray | None = None,
        strata: str | Sequence[str] | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        *,
        nest: bool = False,
        lonely_psu: str = "fail",
        repweights: str | Sequence[str] | np.ndarray | None = None,
        rep_type: str | None = None,
        scale: float | None = None,
        rscales: Sequence[float] | np.ndarray | float | None = None,
        mse: bool = False,
        combined_weights: bool = True,
        rho: float | None = None,
        questionnaire: Any = None,
    ) -> None:
        object.__setattr__(self, "_frozen", False)
        for k, v in construct(data, weights, strata, psu, fpc, nest=nest, lonely_psu=lonely_psu,
                              repweights=repweights, rep_type=rep_type, scale=scale, rscales=rscales,
                              mse=mse, combined_weights=combined_weights, rho=rho,
                              questionnaire=questionnaire).items():
            object.__setattr__(self, k, v)
        self._w.setflags(write=False)
        self._frozen = True

    # ------------------------------------------------------------------ immutability
    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(
                f"SurveyDesign is immutable (cannot set {name!r}); use subset(), replicate() or "
                "the weighting functions, which return a new design"
            )
        object.__setattr__(self, name, value)

    # pickling (the report caches prepared designs): the mappingproxy becomes a dict and back;
    # the estimator cache is not stored
    def __getstate__(self) -> dict[str, Any]:
        state = {k: getattr(self, k) for k in SurveyDesign.__slots__ if k not in ("_frozen", "_cache")}
        state["_meta"] = dict(state["_meta"])
        return state

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_frozen", False)
        for k, v in state.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_meta", MappingProxyType(dict(state["_meta"])))
        object.__setattr__(self, "_cache", {})
        self._w.setflags(write=False)
        object.__setattr__(self, "_frozen", True)

    def _replace(self, **changes: Any) -> SurveyDesign:
        new = object.__new__(SurveyDesign)
        object.__setattr__(new, "_frozen", False)
        for k in SurveyDesign.__slots__:
            if k == "_frozen":
                continue
            object.__setattr__(new, k, changes.get(k, getattr(self, k)))
        if "_cache" not in changes:
            # derived codes (domain codes) depend on the data only: share them while the data
            # is the same object (subset, weights, replicates); new data starts afresh
            object.__setattr__(new, "_cache", self._cache if "_data" not in changes else {})
        new._w.setflags(write=False)
        object.__setattr__(new, "_frozen", True)
        return new

    # ------------------------------------------------------------------ public properties
    @property
    def data(self) -> pd.DataFrame:
        """The data (a shallow copy: modifying it does not change the design)."""
        return self._data.copy(deep=False)

    @property
    def columns(self) -> pd.Index:
        """The data's column names."""
        return self._data.columns

    def column(self, name: str) -> pd.Series:
        """One column of the data (no copy of the frame; do not modify it)."""
        return self._data[name]

    @property
    def weights(self) -> np.ndarray:
        """Read-only array of the sampling weights (zero outside a subset's domain)."""
        if self._domain is None:
            return self._w
        w = np.where(self._domain, self._w, 0.0)
        w.setflags(write=False)
        return w

    @property
    def repweights(self) -> np.ndarray | None:
        """Read-only ``n x R`` array of the replicate (analysis) weights, or ``None``."""
        if self._rep is None:
            return None
        W = self._rep.W if self._domain is None else self._rep.W * self._domain[:, None]
        W = W.view()
        W.setflags(write=False)
        return W

    @property
    def is_replicate(self) -> bool:
        """Whether variances come from replicate weights."""
        return self._rep is not None

    @property
    def lonely_psu(self) -> str:
        """How strata with a single PSU are handled (one of ``LONELY_PSU_OPTIONS``)."""
        return self._lonely

    @property
    def domain(self) -> np.ndarray | None:
        """Boolean mask of the subset's domain (``None`` for the full sample)."""
        return None if self._domain is None else self._domain.copy()

    @property
    def n(self) -> int:
        """Number of respondents in the design (in the domain, for a subset)."""
        return int(self._n if self._domain is None else self._domain.sum())

    @property
    def n_psu(self) -> int:
        """Number of first-stage clusters (PSUs) with respondents in the design or domain."""
        rows = self._rows_in()
        s0 = self._stages[0]
        return _v.n_present(s0.cl[rows], s0.n_cl)

    @property
    def n_strata(self) -> int:
        """Number of first-stage strata with respondents in the design or domain."""
        rows = self._rows_in()
        s0 = self._stages[0]
        return _v.n_present(s0.st[rows], s0.n_st)

    @property
    def df(self) -> int:
        """Design degrees of freedom (R's ``degf``)."""
        return _v.degf(self, self._domain)

    @property
    def questionnaire(self) -> Any:
        """The wave's :class:`~survey.Questionnaire` (or None): question-aware methods such as
        ``multi``/``ranked``/``likert`` find a question's columns through it."""
        return self._questionnaire

    @property
    def meta(self) -> Mapping[str, Any]:
        """Read-only metadata carried along (e.g. ``weighting_steps``: the weighting chain so far)."""
        return self._meta

    @property
    def calibrations(self) -> tuple:
        """The calibration steps applied so far, in order (each enters the variance)."""
        return self._calibrations

    def _rows_in(self) -> np.ndarray:
        pos = self._w != 0
        return pos if self._domain is None else pos & self._domain

    # the variance core's view of the design (survey.variance.DESIGN_ATTRIBUTES)
    @property
    def n_rows(self) -> int:
        """Number of rows of the data (the subset's domain included or not)."""
        return self._n

    @property
    def full_weights(self) -> np.ndarray:
        """Read-only sampling weights of every row, ignoring a subset's domain."""
        return self._w

    @property
    def domain_mask(self) -> np.ndarray | None:
        """Read-only boolean mask of the subset's domain (no copy), or ``None``."""
        return self._domain

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The sampling stages (:class:`survey.variance.Stage`: dense cluster/stratum codes)."""
        return self._stages

    @property
    def var_stages(self) -> int:
        """How many stages enter the variance (all with an fpc, else the first; as R)."""
        return self._var_stages

    @property
    def calibration_space(self) -> tuple:
        """``(chain, rows, cache)``: the calibrations in cell space (:func:`survey.domains.calibration_space`)."""
        return calibration_space(self)

    @property
    def replicates(self) -> Replicates | None:
        """The replicate structure (:class:`survey.variance.Replicates`) or ``None``."""
        return self._rep

    def __repr__(self) -> str:
        return describe(self)

    # ------------------------------------------------------------------ domains
    def assign(self, **columns: Any) -> SurveyDesign:
        """A new design with added or replaced variables (R's ``update(design, ...)``).

        Each value is a row-aligned array/Series of length ``n`` or a function of the data
        frame (as :meth:`pandas.DataFrame.assign`).  The design columns (weights, strata, PSUs,
        fpc) cannot be replaced this way: build a new design for that.

        Parameters
        ----------
        **columns
            ``name=values`` (array, Series or a function of the data frame).

        Returns
        -------
        SurveyDesign

        Examples
        --------
        >>> import pandas as pd
        >>> d = SurveyDesign(pd.DataFrame({"h": [40.0, 50, 60], "w": [1.0, 1, 2]}), weights="w")
        >>> d2 = d.assign(long_hours=lambda f: (f["h"] > 45).astype(float))
        >>> float(d2.mean("long_hours")["estimate"].iloc[0])
        0.75
        """
        return self._replace(_data=self._data.assign(**new_columns(self, columns)))

    def subset(self, mask: Any, compact: bool = False) -> SurveyDesign:
        """A domain that keeps the full design (R's ``subset``).

        Parameters
        ----------
        mask : array-like of bool or pandas Series
            ``True`` for respondents in the domain; missing counts as ``False`` (as R).
        compact : bool
            Keep only the domain's rows (same estimates and variances, cost O(domain size)).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("aabb")}))
        >>> d.subset(d.data["g"] == "a").n
        2
        """
        return self._replace(**subset_changes(self, mask, compact))

    def domain_index(self, by: str | Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Integer domain codes (``-1`` = missing) and the level table for by variable(s).

        Levels follow the category order of a Categorical, sorted values otherwise; only
        combinations present in the data are kept.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3], "g": ["b", "a", "b"]}))
        >>> codes, levels = d.domain_index("g")
        >>> codes.tolist(), levels["g"].tolist()
        ([1, 0, 1], ['a', 'b'])
        """
        return cached_domain_index(self._data, self._cache, by)

    # ------------------------------------------------------------------ weighting hook
    def _with_weights(
        self,
        new_weights: np.ndarray | Sequence[float],
        calibration: Any = None,
        repweights: np.ndarray | None = None,
        **meta: Any,
    ) -> SurveyDesign:
        """A new design with replaced weights (same data, strata and PSUs).

        ``calibration`` (an object with ``residualize(x)``) is appended to ``_calibrations``;
        ``repweights`` (``n x R``, combined) replaces the replicate weights of a replicate design;
        ``weighting_report=`` fills the attribute of that name; other keywords go to ``meta``.
        """
        return self._replace(**weight_changes(self, new_weights, calibration, repweights, meta))

    # ------------------------------------------------------------------ replicate designs
    def replicate(
        self,
        method: str = "auto",
        replicates: int = 50,
        *,
        seed: int | np.random.Generator | None = None,
        mse: bool = False,
    ) -> SurveyDesign:
        """A replicate-weight design built from this one (R's ``as.svrepdesign``).

        Parameters
        ----------
        method : {"auto", "jk1", "jkn", "bootstrap"}
            ``jk1`` (unstratified), ``jkn`` (stratified jackknife), ``bootstrap`` (R's
            ``bootweights``: ``n_h`` PSUs drawn with replacement per stratum, scale
            ``m/((m-1)(R-1))`` with ``m`` the harmonic mean of PSUs per stratum); ``auto`` picks
            ``jk1``/``jkn`` by whether the design is stratified.
        replicates : int
            Number of bootstrap replicates.
        seed : int or numpy Generator, optional
            Random state for the bootstrap.
        mse : bool
            Centre at the full-sample estimate.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "c": [1, 1, 2, 2, 3, 3]})
        >>> SurveyDesign(df, psu="c").replicate("jk1").repweights.shape
        (6, 3)
        """
        mult, rep = self._replicate_plan(method, replicates, seed=seed, mse=mse)
        return self._with_replicates(dataclasses.replace(rep, W=self._w[:, None] * mult[self._stages[0].cl]))

    def _replicate_plan(self, method: str = "auto", replicates: int = 50, *, seed: Any = None,
                        mse: bool = False) -> tuple[np.ndarray, Replicates]:
        """Replication hook: see :func:`plan_replicates`."""
        return plan_replicates(self, method, replicates, seed=seed, mse=mse)

    def _with_replicates(self, rep: Replicates) -> SurveyDesign:
        """Replication hook: this design with replicate structure *rep* (combined weights)."""
        return self._replace(_rep=rep, _var_stages=1)

    # --- methods delegated to later stages ---
    # bound module functions: the docstrings live with the functions (survey.estimate, ...)
    mean = _Method("survey.estimate")
    total = _Method("survey.estimate")
    proportion = _Method("survey.estimate")
    ratio = _Method("survey.estimate")
    quantile = _Method("survey.estimate")
    estimates = _Method("survey.estimate")
    rake = _Method("survey.weighting")
    poststratify = _Method("survey.weighting")
    calibrate = _Method("survey.weighting")
    trim = _Method("survey.weighting")
    nonresponse_adjust = _Method("survey.weighting")
    base_weights = _Method("survey.weighting")
    replicate_weighting = _Method("survey.weighting")
    crosstab = _Method("survey.tables")
    multi = _Method("survey.tables")
    ranked = _Method("survey.tables")
    likert = _Method("survey.tables")
    scale_score = _Method("survey.tables")
    contrast = _Method("survey.tables")
    glm = _Method("survey.models")


def plan_replicates(d: SurveyDesign, method: str = "auto", replicates: int = 50, *, seed: Any = None,
                    mse: bool = False) -> tuple[np.ndarray, Replicates]:
    """PSU multipliers and an empty-``W`` :class:`Replicates` of *d* (for block-wise weights:
    :func:`survey.replicates.replicate_plan`, :mod:`survey.weighting.replicates`).

    Examples
    --------
    >>> import pandas as pd
    >>> d = SurveyDesign(pd.DataFrame({"c": [1, 1, 2, 2, 3, 3]}), psu="c")
    >>> plan_replicates(d, "jk1")[0].shape
    (3, 3)
    """
    if d.replicates is not None:
        raise DesignError("replicate: the design already has replicate weights")
    if d.domain_mask is not None:
        raise DesignError("replicate: build replicate weights on the full design, then subset")
    s = d.stages
    return replicate_plan(s[0], d.n_rows, method, replicates, stratified=d._has_strata,
                          fpc=d._has_fpc, lonely=d.lonely_psu, seed=seed, mse=mse,
                          multistage_fpc=d._has_fpc and len(s) > 1)
