"""The survey design object and its variance engine (R ``survey`` semantics).

:class:`SurveyDesign` carries the data and the sampling structure (strata, clusters at every
stage, finite population corrections, weights, replicate weights, calibrations) and is immutable:
subsetting, replication and weighting return new designs.  The estimators
(``mean/total/proportion/ratio/quantile``) live in :mod:`survey.estimate`; the methods here are
thin wrappers.

Variance engine (contract for weighting / tables / models authors)
------------------------------------------------------------------
Two paths, chosen by ``design.is_replicate``:

1. **Linearisation** -- ``design._vcov_totals(z, present=None)``.
   ``z`` is an ``n x p`` array of per-respondent values (e.g. linearised influence values
   divided by nothing: the engine multiplies by the weights itself).  It returns the ``p x p``
   covariance of the weighted totals ``sum_i w_i z_i``, computed exactly as R's
   ``svyrecvar(x = w*z, ...)``:

   * ``x = w[:, None] * z``; then every calibration in ``design._calibrations`` is applied in
     order, ``x = cal.residualize(x)`` (R's ``postStrata`` list: a greg calibration does
     ``qr.resid(qr, x / w) * w``, post-stratification subtracts the post-stratum means of
     ``x / w`` times ``w``).  A calibration object only needs a ``residualize(x) -> x`` method.
   * multistage with-replacement/without-replacement variance as R's ``multistage`` /
     ``onestage`` / ``onestrat``: PSU totals centred within strata, scaled by
     ``f_h n_h / (n_h - 1)`` with ``f_h = (N_h - n_h) / N_h``; later stages are added only when an
     fpc is given (``n_h / N_h`` times the within-PSU variance), as R does.
   * lonely PSUs: ``lonely_psu`` = ``"fail"`` (error naming the stratum and stage),
     ``"remove"``/``"certainty"`` (contribute zero), ``"adjust"`` (centre at the grand mean),
     ``"average"`` (drop and rescale by ``#strata / #strata with >1 PSU``).
   * ``present`` (optional bool ``n`` or ``n x p``): the rows that belong to the domain of each
     column.  It only matters for lonely-PSU handling (a lonely stratum that the domain does
     not touch never fails; ``"average"`` counts only strata the domain touches), exactly as R's
     row-dropping ``subset`` behaves.  Calibrated designs keep every row present (as R).

2. **Replicate weights** -- ``design._replicate_estimates(fn)`` evaluates ``fn(W)`` where ``W``
   is the ``n x (1 + R)`` matrix whose first column is the full-sample weight and the others
   the replicate (analysis) weights; ``fn`` returns ``(1 + R) x p``.  ``design._replicate_vcov(
   theta, thetas)`` applies R's ``svrVar``: ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'``
   with ``c`` the replicate mean (``mse=False``) or the full estimate (``mse=True``).
   ``_vcov_totals`` also works on replicate designs (replicate totals of ``z``).

Weighting hooks
---------------
``design._with_weights(new_weights, calibration=None, repweights=None, **meta)`` returns a new
design with the same data/strata/PSUs, new weights, the calibration object appended to
``_calibrations`` and optionally new replicate weights; ``weighting_report`` (default ``None``)
may be passed through ``meta``.

Domains
-------
``design.subset(mask)`` keeps the full design and zeroes the weights outside the domain (R's
semantics: the variance uses every stratum and PSU).  ``by=`` in the estimators is vectorised
over domains with sparse indicator matrices and gives identical standard errors.
``design.domain_index(by)`` returns integer codes and the level table for one or more by
variables.  Degrees of freedom follow R's ``degf``: ``#PSU - #strata`` among rows with non-zero
weight (for a domain: among the domain's rows); replicate designs: rank of the replicate weights
minus one.

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

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import DesignError, EstimationError, SurveyWarning

__all__ = ["SurveyDesign", "LONELY_PSU_OPTIONS", "REPLICATE_TYPES"]

LONELY_PSU_OPTIONS = ("fail", "remove", "adjust", "average", "certainty")
REPLICATE_TYPES = ("jk1", "jkn", "bootstrap", "brr", "fay", "other")


# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
def _as_list(x: str | Sequence[str] | None) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (0..k-1, sorted order of values) and the unique values.

    Integer ids spanning a range not much wider than the data (station numbers, respondent
    ids) are coded with one ``bincount`` pass instead of a hash factorise and a sort.
    """
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu" and arr.ndim == 1 and len(arr):
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * len(arr) + 1024:
            off = (arr - lo).astype(np.intp, copy=False)
            present = np.bincount(off, minlength=hi - lo + 1) > 0
            lut = np.cumsum(present) - 1
            return lut[off].astype(np.int64, copy=False), (np.flatnonzero(present) + lo).astype(arr.dtype)
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the interaction of two code vectors (0..k-1)."""
    key = a.astype(np.int64) * (int(b.max()) + 1 if len(b) else 1) + b
    return _dense(key)


def _dense(key: np.ndarray) -> np.ndarray:
    """Renumber integer keys to 0..k-1 in sorted order (O(n): bincount, or hash based)."""
    return _codes(np.asarray(key))[0]


def _n_present(codes: np.ndarray, k: int) -> int:
    """Number of distinct values among dense codes ``0..k-1`` (one bincount, no hashing)."""
    return int(np.count_nonzero(np.bincount(codes, minlength=k)))


def _indicator(codes: np.ndarray, k: int, n: int, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse ``k x n`` matrix with a one in (codes[i], i); ``rows`` restricts the columns used."""
    if rows is None:
        cols = np.arange(n)
        r = codes
    else:
        cols = np.flatnonzero(rows)
        r = codes[cols]
    return sp.csr_matrix((np.ones(len(cols)), (r, cols)), shape=(k, n))


@dataclass(frozen=True)
class _Stage:
    """One sampling stage: cluster and stratum codes (nested in earlier stages)."""

    cl: np.ndarray  # (n,) cluster code, unique across the whole design
    st: np.ndarray  # (n,) stratum code
    n_cl: int
    n_st: int
    cl_stratum: np.ndarray  # (C,) stratum of each cluster
    npsu: np.ndarray  # (H,) number of clusters in stratum (full design)
    popsize: np.ndarray  # (H,) population number of clusters (inf without fpc)
    st_parent: np.ndarray  # (H,) cluster code of the enclosing unit at the previous stage (0 at stage 1)
    n_parent: int
    cl_mult: np.ndarray  # (C,) product over earlier stages of n_h / N_h
    st_label: np.ndarray  # (H,) printable stratum label
    _ind: dict  # cache of sparse indicator matrices

    def cl_indicator(self, n: int) -> sp.csr_matrix:
        m = self._ind.get("cl")
        if m is None:
            m = self._ind["cl"] = _indicator(self.cl, self.n_cl, n)
        return m

    def st_indicator(self, n: int) -> sp.csr_matrix:
        m = self._ind.get("st")
        if m is None:
            m = self._ind["st"] = _indicator(self.st, self.n_st, n)
        return m


@dataclass(frozen=True)
class _Replicates:
    W: np.ndarray  # (n, R) analysis (combined) replicate weights
    scale: float
    rscales: np.ndarray  # (R,)
    mse: bool
    type: str
    degf: int


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
        "_cache", "_questionnaire",
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
        if not isinstance(data, pd.DataFrame):
            raise DesignError(
                f"SurveyDesign: data must be a pandas DataFrame, got {type(data).__name__}; "
                "wrap it with pd.DataFrame(...)"
            )
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(
                f"SurveyDesign: lonely_psu={lonely_psu!r} is not one of {LONELY_PSU_OPTIONS}"
            )
        n = len(data)
        if n == 0:
            raise DesignError("SurveyDesign: data has no rows")
        data = data.copy(deep=False)
        psu_cols = _as_list(psu)
        strata_cols = _as_list(strata)
        fpc_cols = _as_list(fpc)
        for role, cols in (("psu", psu_cols), ("strata", strata_cols), ("fpc", fpc_cols)):
            for c in cols:
                self._check_column(data, c, role)
        if isinstance(weights, str):
            self._check_column(data, weights, "weights")

        object.__setattr__(self, "_frozen", False)
        self._data = data
        self._n = n
        self._lonely = lonely_psu
        self._calibrations: tuple = ()
        self._domain = None
        self._meta = MappingProxyType({})
        if questionnaire is not None and not (hasattr(questionnaire, "columns")
                                              and hasattr(questionnaire, "labels")):
            raise DesignError("SurveyDesign: questionnaire= must be a survey.Questionnaire "
                              f"(got {type(questionnaire).__name__})")
        self._questionnaire = questionnaire
        self.weighting_report = None
        self._cache = {}
        self._spec = {
            "weights": weights if isinstance(weights, str) else (None if weights is None else "<array>"),
            "strata": strata_cols, "psu": psu_cols, "fpc": fpc_cols, "nest": nest,
        }

        if repweights is not None:
            if psu_cols or strata_cols or fpc_cols:
                raise DesignError(
                    "SurveyDesign: with repweights= the replicate weights carry the design; do not "
                    "also pass strata=, psu= or fpc= (they would be ignored)"
                )
            w = self._weights_from(data, weights, n) if weights is not None else np.ones(n)
            if weights is None:
                warnings.warn("SurveyDesign: no sampling weights given with repweights=; "
                              "equal probability assumed (as R)", SurveyWarning, stacklevel=2)
            self._w = w
            self._rep = _make_replicates(data, w, repweights, rep_type, scale, rscales, mse,
                                         combined_weights, rho)
            self._stages = (self._build_stages(data, [], [], [], False)[0][0],)
            self._var_stages = 1
            self._has_strata = False
            self._has_fpc = False
        else:
            for name, val in (("rep_type", rep_type), ("scale", scale), ("rscales", rscales),
                              ("rho", rho)):
                if val is not None:
                    raise DesignError(f"SurveyDesign: {name}= is only meaningful with repweights=")
            self._rep = None
            stages, popsize_rows = self._build_stages(data, psu_cols, strata_cols, fpc_cols, nest)
            self._stages = tuple(stages)
            self._has_strata = bool(strata_cols)
            self._has_fpc = bool(fpc_cols)
            self._var_stages = len(stages) if fpc_cols else 1
            if weights is not None:
                self._w = self._weights_from(data, weights, n)
            elif fpc_cols:
                w = np.ones(n)
                for s, pop in zip(stages, popsize_rows):
                    w = w * pop / s.npsu[s.st]
                self._w = w
            else:
                self._w = np.ones(n)
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

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _check_column(data: pd.DataFrame, col: Any, role: str) -> None:
        if col not in data.columns:
            raise DesignError(
                f"SurveyDesign: {role} column {col!r} is not in the data "
                f"(columns: {', '.join(map(str, list(data.columns)[:20]))}"
                f"{', ...' if data.shape[1] > 20 else ''})"
            )

    @staticmethod
    def _weights_from(data: pd.DataFrame, weights: Any, n: int) -> np.ndarray:
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

    def _build_stages(self, data, psu_cols, strata_cols, fpc_cols, nest):
        n = len(data)
        nstage = max(1, len(psu_cols))
        if fpc_cols and len(fpc_cols) != nstage:
            raise DesignError(
                f"SurveyDesign: fpc= has {len(fpc_cols)} column(s) but the design has {nstage} "
                "stage(s); give one fpc column per stage (as R)"
            )
        if len(strata_cols) > nstage:
            raise DesignError(
                f"SurveyDesign: strata= has {len(strata_cols)} columns but psu= only {nstage} stages"
            )
        # raw ids
        ids, id_labels = [], []
        if not psu_cols:
            ids.append(np.arange(n, dtype=np.int64))
            id_labels.append(None)  # row numbers: never needed (a row sits in one stratum)
        for c in psu_cols:
            col = data[c]
            if col.isna().any():
                raise DesignError(
                    f"SurveyDesign: psu column {c!r} has {int(col.isna().sum())} missing values; "
                    "every respondent needs a cluster id"
                )
            code, lab = _codes(col)
            ids.append(code)
            id_labels.append(lab)
        strat, strat_labels = [], []
        for c in strata_cols:
            col = data[c]
            if col.isna().any():
                raise DesignError(
                    f"SurveyDesign: strata column {c!r} has {int(col.isna().sum())} missing values"
                )
            code, lab = _codes(col)
            strat.append(code)
            strat_labels.append(lab.astype(str))
        if not strat:
            strat = [np.zeros(n, dtype=np.int64)]
            strat_labels = [np.array(["1"])]
        # R: ids[, i] <- interaction(ids[, 1:i])
        raw_first = ids[0]
        for i in range(1, nstage):
            ids[i] = _combine(ids[i - 1], ids[i])
        if nest and strata_cols:
            for i in range(nstage):
                s = strat[0]
                for j in range(1, min(i + 1, len(strat))):
                    s = _combine(s, strat[j])
                ids[i] = _combine(s, ids[i])
        # every code vector is dense (0..k-1, all present): counts come from the maximum
        if int(ids[0].max()) == 0 and not (nest and strata_cols):
            raise DesignError("SurveyDesign: the design has only one primary sampling unit")
        if strata_cols and not nest and psu_cols:  # a per-row PSU cannot straddle strata
            # each PSU must sit in one stratum
            first_st = strat[0][_first_index(ids[0], int(ids[0].max()) + 1)]
            clash = strat[0] != first_st[ids[0]]
            if clash.any():
                bad = int(ids[0][np.flatnonzero(clash)[0]])
                lab = id_labels[0][raw_first[np.flatnonzero(ids[0] == bad)[0]]]
                strata_of = np.unique(strat[0][ids[0] == bad])
                raise DesignError(
                    f"SurveyDesign: PSU {lab!r} (column {psu_cols[0]!r}) appears in "
                    f"{len(strata_of)} strata ({', '.join(strat_labels[0][strata_of][:5])}); "
                    "PSU ids that repeat across strata are only allowed with nest=True"
                )
        # fpc values
        fpc_raw = []
        for c in fpc_cols:
            try:
                v = pd.to_numeric(data[c], errors="raise").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise DesignError(f"SurveyDesign: fpc column {c!r} is not numeric") from None
            if np.isnan(v).any():
                raise DesignError(
                    f"SurveyDesign: fpc column {c!r} has {int(np.isnan(v).sum())} missing values"
                )
            if (v <= 0).any():
                raise DesignError(f"SurveyDesign: fpc column {c!r} has values <= 0")
            fpc_raw.append(v)
        if fpc_raw:
            allv = np.concatenate(fpc_raw)
            anybig = bool((allv > 1).any())
            if anybig and not (allv >= 1).all():
                raise DesignError(
                    "SurveyDesign: fpc columns mix population sizes (> 1) and sampling fractions "
                    f"(< 1) in {fpc_cols}; use one kind for every stage (as R)"
                )
            is_popsize = anybig
        stages, popsize_rows = [], []
        prev_mult_rows = np.ones(n) if nstage > 1 else None
        for i in range(nstage):
            if i == 0:
                st = strat[0]
                st_label = strat_labels[0]
            else:
                s_src = strat[min(i, len(strat) - 1)]
                st = _combine(ids[i - 1], s_src)  # R: interaction(strata[, i], ids[, i - 1])
                H = int(st.max()) + 1
                first = _first_index(st, H)
                prev_lab = np.asarray(stages[-1].cl)[first]
                if len(strata_cols) > i:
                    st_label = np.array([f"unit {a + 1} / {strat_labels[i][b]}"
                                         for a, b in zip(prev_lab, s_src[first])])
                else:
                    st_label = np.array([f"unit {a + 1}" for a in prev_lab])
            cl = ids[i]  # dense already (_codes / _combine / arange): no second factorise
            C, H = int(cl.max()) + 1, int(st.max()) + 1
            cl_stratum = np.zeros(C, dtype=np.int64)
            if H > 1:  # one stratum: every cluster is in stratum 0 already
                cl_stratum[cl] = st
            npsu = (np.bincount(cl_stratum, minlength=H).astype(float) if H > 1
                    else np.array([float(C)]))
            st_parent = np.zeros(H, dtype=np.int64)
            if i > 0:
                st_parent = _parent_of(st, stages[-1].cl, H)
            n_parent = 1 if i == 0 else stages[-1].n_cl
            if fpc_raw:
                v = fpc_raw[i]
                H_first = _first_index(st, H)
                per = v[H_first]
                if not np.allclose(v, per[st], rtol=1e-12, atol=0):
                    bad = int(np.flatnonzero(~np.isclose(v, per[st], rtol=1e-12, atol=0))[0])
                    raise DesignError(
                        f"SurveyDesign: fpc column {fpc_cols[i]!r} varies within stratum "
                        f"{st_label[st[bad]]!r} at stage {i + 1}; it must be constant per stratum"
                    )
                pop = per if is_popsize else npsu / per
                if (pop < npsu - 1e-9).any():
                    bad = int(np.flatnonzero(pop < npsu - 1e-9)[0])
                    raise DesignError(
                        f"SurveyDesign: fpc column {fpc_cols[i]!r} implies more than 100% sampling "
                        f"in stratum {st_label[bad]!r} at stage {i + 1} (population {pop[bad]:g}, "
                        f"sample {npsu[bad]:g} units)"
                    )
            else:
                pop = np.full(H, np.inf)
            if i == 0:  # nothing sampled before the first stage
                cl_mult = np.ones(C)
            else:
                cl_mult = np.zeros(C)
                cl_mult[cl] = prev_mult_rows
            stages.append(_Stage(cl, st, C, H, cl_stratum, npsu, pop, st_parent, n_parent,
                                 cl_mult, np.asarray(st_label), {}))
            # per-row population sizes only feed weights derived from the fpc
            popsize_rows.append(pop[st] if fpc_raw else None)
            if i + 1 < nstage:
                prev_mult_rows = prev_mult_rows * (npsu / pop)[st]
        return stages, popsize_rows

    # ------------------------------------------------------------------ public properties
    @property
    def data(self) -> pd.DataFrame:
        """The data (a shallow copy: modifying it does not change the design)."""
        return self._data.copy(deep=False)

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
        return _n_present(s0.cl[rows], s0.n_cl)

    @property
    def n_strata(self) -> int:
        """Number of first-stage strata with respondents in the design or domain."""
        rows = self._rows_in()
        s0 = self._stages[0]
        return _n_present(s0.st[rows], s0.n_st)

    @property
    def df(self) -> int:
        """Design degrees of freedom (R's ``degf``)."""
        return self._degf(self._domain)

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

    def _degf(self, rows: np.ndarray | None) -> int:
        if self._rep is not None:
            if rows is None:
                return self._rep.degf
            return _rank(self._rep.W[rows]) - 1
        inset = self._w != 0 if rows is None else (self._w != 0) & rows
        s0 = self._stages[0]
        return _n_present(s0.cl[inset], s0.n_cl) - _n_present(s0.st[inset], s0.n_st)

    def _degf_domains(self, dom: np.ndarray, D: int) -> np.ndarray:
        """Degrees of freedom of each domain (codes 0..D-1; -1 = none), vectorised."""
        if self._rep is not None:
            return np.array([self._degf(dom == d) for d in range(D)], dtype=float)
        s0 = self._stages[0]
        inset = (self._w != 0) & (dom >= 0)
        ncl = (np.bincount(s0.cl[inset] * D + dom[inset], minlength=s0.n_cl * D) > 0)
        nst = (np.bincount(s0.st[inset] * D + dom[inset], minlength=s0.n_st * D) > 0)
        return (ncl.reshape(s0.n_cl, D).sum(axis=0) - nst.reshape(s0.n_st, D).sum(axis=0)).astype(float)

    # ------------------------------------------------------------------ repr
    def __repr__(self) -> str:
        lines = []
        if self._rep is not None:
            r = self._rep
            lines.append(
                f"Replicate-weight survey design: {r.type}, {r.W.shape[1]} replicates "
                f"(scale {r.scale:.4g}{', mse' if r.mse else ''}), df {self.df}"
            )
        else:
            ns = len(self._stages)
            kind = ("Stratified " if self._has_strata else "") + (
                "independent sampling" if self._spec["psu"] == [] else f"{ns}-stage cluster sampling"
            )
            lines.append(f"{kind} design (lonely_psu={self._lonely!r})")
            s0 = self._stages[0]
            psu_name = self._spec["psu"][0] if self._spec["psu"] else "rows"
            strata_name = self._spec["strata"][0] if self._spec["strata"] else "-"
            lines.append(
                f"  strata: {s0.n_st} ({strata_name}); PSUs: {s0.n_cl} ({psu_name}); "
                f"PSUs per stratum {int(s0.npsu.min())}-{int(s0.npsu.max())}"
                + (f"; {int((s0.npsu == 1).sum())} lonely" if (s0.npsu == 1).any() else "")
            )
            for i, s in enumerate(self._stages[1:], start=2):
                lines.append(f"  stage {i}: {s.n_cl} units ({self._spec['psu'][i - 1]})")
            if self._has_fpc:
                lines.append(f"  fpc: {', '.join(self._spec['fpc'])}")
        w = self.weights
        wpos = w[w > 0] if (w > 0).any() else w
        lines.append(
            f"  n = {self.n}{' (domain of ' + str(self._n) + ')' if self._domain is not None else ''}"
            f", weights {wpos.min():.4g}-{wpos.max():.4g} (sum {w.sum():.6g}), df {self.df}"
        )
        if self._calibrations:
            lines.append(f"  calibrations: {len(self._calibrations)}")
        return "\n".join(lines)

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
        protected = {c for c in (self._spec.get("weights"), *self._spec.get("strata", ()),
                                 *self._spec.get("psu", ()), *self._spec.get("fpc", ()))
                     if isinstance(c, str)}
        clash = sorted(protected & set(columns))
        if clash:
            raise DesignError(f"assign: {clash} are design columns of this design; build a new "
                              "SurveyDesign to change them")
        data = self._data
        new_cols = {}
        for name, val in columns.items():
            v = val(data) if callable(val) else val
            arr = v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else v
            if np.ndim(arr) == 0 or len(arr) != self._n:
                raise DesignError(f"assign: column {name!r} has length "
                                  f"{1 if np.ndim(arr) == 0 else len(arr)}, the design has "
                                  f"{self._n} rows")
            new_cols[name] = v.to_numpy() if isinstance(v, pd.Series) else v
        return self._replace(_data=data.assign(**new_cols))

    def subset(self, mask: Any) -> SurveyDesign:
        """A domain that keeps the full design (R's ``subset``).

        Parameters
        ----------
        mask : array-like of bool or pandas Series
            ``True`` for respondents in the domain; missing counts as ``False`` (as R).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("aabb")}))
        >>> d.subset(d.data["g"] == "a").n
        2
        """
        try:
            if isinstance(mask, pd.Series):
                if not mask.index.equals(self._data.index):
                    mask = mask.reindex(self._data.index)
                m = mask.astype("boolean").fillna(False).to_numpy(dtype=bool)
            else:
                m = np.asarray(mask)
                if m.dtype != bool and m.ndim == 1:
                    m = pd.Series(m).astype("boolean").fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):
            raise DesignError(
                f"subset: mask must be boolean (True = in the domain), got values of dtype "
                f"{np.asarray(mask).dtype}; pass e.g. design.data['sex'] == '女'") from None
        if m.shape != (self._n,):
            raise DesignError(
                f"subset: mask has shape {m.shape}, the design has {self._n} rows; pass one "
                "True/False per respondent, e.g. design.data['sex'] == '女'"
            )
        if self._domain is not None:
            m = m & self._domain
        if not m.any():
            raise EstimationError("subset: the mask selects no respondents")
        m = m.copy()
        m.setflags(write=False)
        return self._replace(_domain=m)

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
        cols = _as_list(by)
        if not cols:
            raise DesignError("domain_index: give at least one by variable")
        # the codes depend on the data only: cached, and shared by the designs derived
        # without new data (subset, weighting, replication)
        ckey = ("domain_index", tuple(cols))
        hit = self._cache.get(ckey)
        if hit is not None:
            return hit[0], hit[1].copy()
        out, table = self._domain_index(cols)
        out.setflags(write=False)
        self._cache[ckey] = (out, table)
        return out, table.copy()

    def _domain_index(self, cols: list) -> tuple[np.ndarray, pd.DataFrame]:
        codes_list, cats_list = [], []
        for c in cols:
            self._check_column(self._data, c, "by")
            s = self._data[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                cat = s.cat
                codes_list.append(cat.codes.to_numpy().astype(np.int64))
                cats_list.append(cat.categories)
            elif s.dtype.kind in "iu":  # integers cannot be missing: one bincount pass
                code, uniq = _codes(s.to_numpy())
                codes_list.append(code)
                cats_list.append(pd.Index(uniq))
            else:
                code, uniq = pd.factorize(s, sort=True)
                codes_list.append(code.astype(np.int64))
                cats_list.append(pd.Index(uniq))
        if len(codes_list) == 1 and not (codes_list[0] < 0).any():
            # one variable without missing values: its sorted codes are the domain codes
            code = codes_list[0]
            present = np.bincount(code, minlength=len(cats_list[0])) > 0
            uniq = np.flatnonzero(present).astype(np.int64)
            out = (np.cumsum(present) - 1)[code] if not present.all() else code.copy()
        else:
            missing = np.zeros(self._n, dtype=bool)
            key = np.zeros(self._n, dtype=np.int64)
            for code, cats in zip(codes_list, cats_list):
                missing |= code < 0
                key = key * (len(cats) + 1) + np.where(code < 0, 0, code)
            inv, uniq = _codes(key[~missing])
            uniq = np.asarray(uniq, dtype=np.int64)
            out = np.full(self._n, -1, dtype=np.int64)
            out[~missing] = inv
        # decode the level table
        levels = {}
        rem = uniq.copy()
        parts = []
        for code, cats in reversed(list(zip(codes_list, cats_list))):
            parts.append(rem % (len(cats) + 1))
            rem = rem // (len(cats) + 1)
        for c, cats, part in zip(cols, cats_list, reversed(parts)):
            vals = cats.take(part)
            if isinstance(self._data[c].dtype, pd.CategoricalDtype):
                vals = pd.Categorical(vals, categories=cats, ordered=self._data[c].cat.ordered)
            levels[c] = vals
        return out, pd.DataFrame(levels)

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
        w = np.array(new_weights, dtype=float).ravel()
        if w.shape != (self._n,):
            raise DesignError(f"_with_weights: new weights have shape {w.shape}, expected ({self._n},)")
        lo, hi = float(w.min()), float(w.max())  # two reductions, no n-sized temporaries
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0:
            raise DesignError("_with_weights: new weights must be finite and non-negative")
        if calibration is not None and not hasattr(calibration, "residualize"):
            raise DesignError("_with_weights: calibration object needs a residualize(x) method")
        changes: dict[str, Any] = {"_w": w}
        if calibration is not None:
            changes["_calibrations"] = self._calibrations + (calibration,)
        if repweights is not None:
            if self._rep is None:
                raise DesignError(
                    "_with_weights: repweights= given for a design without replicate weights; "
                    "call design.replicate(...) first"
                )
            W = np.array(repweights, dtype=float)
            if W.shape != self._rep.W.shape:
                raise DesignError(
                    f"_with_weights: repweights shape {W.shape} != {self._rep.W.shape}"
                )
            r = self._rep
            changes["_rep"] = _Replicates(W, r.scale, r.rscales, r.mse, r.type, r.degf)
        report = meta.pop("weighting_report", self.weighting_report)
        changes["weighting_report"] = report
        if meta:
            m = dict(self._meta)
            m.update(meta)
            changes["_meta"] = MappingProxyType(m)
        return self._replace(**changes)

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
        if self._rep is not None:
            raise DesignError("replicate: the design already has replicate weights")
        if self._domain is not None:
            raise DesignError("replicate: build replicate weights on the full design, then subset")
        method = str(method).lower()
        if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) \
                or replicates < 2:
            raise DesignError(f"replicate: replicates={replicates!r} must be an integer >= 2 "
                              "(the number of bootstrap replicates, e.g. 200)")
        if method == "auto":
            method = "jkn" if self._has_strata else "jk1"
        s0 = self._stages[0]
        C = s0.n_cl
        fpc_f = None
        if self._has_fpc:
            fpc_f = (s0.popsize - s0.npsu) / s0.popsize  # (H,) fraction not sampled
            if len(self._stages) > 1:
                warnings.warn("replicate: finite population corrections after the first stage "
                              "are dropped (as R)", SurveyWarning, stacklevel=2)
        if method == "jk1":
            if self._has_strata:
                raise DesignError("replicate: jk1 is for unstratified designs; use 'jkn'")
            m = np.full((C, C), C / (C - 1.0))
            np.fill_diagonal(m, 0.0)
            f = 1.0 if fpc_f is None else float(fpc_f[0])
            scale = f * (C - 1) / C
            rscales = np.ones(C)
            mult = m
            rtype = "jk1"
        elif method == "jkn":
            if not self._has_strata:
                raise DesignError("replicate: jkn needs a stratified design; use 'jk1' or 'bootstrap'")
            mult, rscales, scale = _jkn_multipliers(s0, fpc_f, self._lonely)
            rtype = "jkn"
        elif method == "bootstrap":
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            mult, scale = _boot_multipliers(s0, replicates, rng,
                                            s0.popsize if self._has_fpc else None)
            rscales = np.ones(replicates)
            rtype = "bootstrap"
        else:
            raise DesignError(
                f"replicate: method {method!r} is not one of 'jk1', 'jkn', 'bootstrap', 'auto'"
            )
        W = self._w[:, None] * mult[s0.cl]
        degf = _rank(mult) - 1
        rep = _Replicates(W, float(scale), np.asarray(rscales, float), bool(mse), rtype, int(degf))
        return self._replace(_rep=rep, _var_stages=1)

    def _replicate_estimates(
        self, fn: Callable[[np.ndarray], np.ndarray], vectorised: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate a statistic under the full-sample and every replicate weight.

        ``fn(W)`` receives ``n x (1 + R)`` weights (column 0 = full sample; zero outside a
        subset's domain) and returns ``(1 + R) x p``; with ``vectorised=False`` it receives one
        weight vector at a time and returns ``p`` values.  Returns ``(theta, thetas)``.
        """
        if self._rep is None:
            raise DesignError("_replicate_estimates: the design has no replicate weights")
        W = np.column_stack([self._w, self._rep.W])
        if self._domain is not None:
            W = W * self._domain[:, None]
        if vectorised:
            out = np.asarray(fn(W), dtype=float)
            if out.ndim == 1:
                out = out[:, None]
        else:
            out = np.array([np.atleast_1d(fn(W[:, j])) for j in range(W.shape[1])], dtype=float)
        return out[0], out[1:]

    def _replicate_vcov(self, theta: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """R's ``svrVar``: ``scale * sum_r rscales_r (theta_r - centre)(theta_r - centre)'``."""
        r = self._rep
        thetas = np.asarray(thetas, dtype=float)
        if thetas.ndim == 1:
            thetas = thetas[:, None]
        rs = r.rscales
        ok = ~np.isnan(thetas).any(axis=1)
        if not ok.all():
            warnings.warn(f"{int((~ok).sum())} replicates gave NA results and were discarded",
                          SurveyWarning, stacklevel=3)
            thetas, rs = thetas[ok], rs[ok]
        centre = np.asarray(theta, float) if r.mse else thetas[rs > 0].mean(axis=0)
        dev = (thetas - centre) * np.sqrt(rs)[:, None]
        return r.scale * (dev.T @ dev)

    # ------------------------------------------------------------------ variance engine
    def _vcov_totals(self, z: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Covariance matrix of the weighted totals ``sum_i w_i z_i`` (see module docstring).

        Parameters
        ----------
        z : array, shape (n,) or (n, p)
            Per-respondent values (over the full data; zero outside a domain).
        present : bool array, shape (n,) or (n, p), optional
            Rows that belong to each column's domain (lonely-PSU semantics); default: the
            subset's domain, or every row.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != self._n:
            raise EstimationError(f"_vcov_totals: z has {z.shape[0]} rows, the design {self._n}")
        w = self.weights
        if self._rep is not None:
            tot = np.column_stack([w, self._rep.W if self._domain is None
                                   else self._rep.W * self._domain[:, None]]).T @ z
            return self._replicate_vcov(tot[0], tot[1:])
        x = w[:, None] * z
        if self._calibrations:
            x = self._residualize(x)
            present = None
        elif present is None and self._domain is not None:
            present = self._domain
        Ts = [s.cl_indicator(self._n) @ x for s in self._stages[: self._var_stages]]
        if present is None:
            Ps = [None] * len(Ts)
        else:
            pr = np.asarray(present, dtype=float)
            if pr.ndim == 1:
                pr = pr[:, None]
            Ps = [(s.st_indicator(self._n) @ pr) > 0 for s in self._stages[: self._var_stages]]
            if Ps[0].shape[1] == 1 and x.shape[1] > 1:
                Ps = [np.repeat(P, x.shape[1], axis=1) for P in Ps]
        return self._vcov_from_psu_totals(Ts, Ps)

    def _residualize(self, x: np.ndarray) -> np.ndarray:
        for cal in self._calibrations:
            x = np.asarray(cal.residualize(x), dtype=float)
        return x

    def _stage_totals_by(self, x: np.ndarray, dom: np.ndarray, D: int,
                         valid: np.ndarray | None) -> tuple[list, list]:
        """PSU totals of ``x`` split by domain (columns ordered domain-major: d*q + v) and the
        stratum presence of each (domain, variable) column, for every variance stage."""
        n = self._n
        q = x.shape[1]
        rows = dom >= 0
        Ts, Ps = [], []
        for s in self._stages[: self._var_stages]:
            key = s.cl * D + np.where(rows, dom, 0)
            A = _indicator(key, s.n_cl * D, n, rows)
            T = np.asarray(A @ x).reshape(s.n_cl, D * q)
            Ts.append(T)
            if self._lonely in ("fail", "average") or (s.npsu == 1).any():
                skey = s.st * D + np.where(rows, dom, 0)
                B = _indicator(skey, s.n_st * D, n, rows)
                if valid is None:  # presence shared by every variable of a domain
                    P1 = (np.asarray(B @ np.ones(n)) > 0).reshape(s.n_st, D)
                    Ps.append(np.repeat(P1, q, axis=1))
                else:
                    Ps.append((np.asarray(B @ valid.astype(float)) > 0).reshape(s.n_st, D * q))
            else:
                Ps.append(None)
        return Ts, Ps

    def _vcov_from_psu_totals(self, Ts: list, Ps: list, diag_only: bool = False) -> np.ndarray:
        """R's multistage/onestage/onestrat given PSU totals per stage.

        ``Ts[s]``: ``C_s x p`` cluster totals of the weighted (residualised) values at stage s;
        ``Ps[s]``: ``H_s x p`` bool presence of each stratum per column, or ``None`` (all).
        """
        p = Ts[0].shape[1]
        V = np.zeros(p) if diag_only else np.zeros((p, p))
        lonely = self._lonely
        for si, (s, T, P) in enumerate(zip(self._stages, Ts, Ps)):
            npsu = s.npsu
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(np.isinf(s.popsize), 1.0, (s.popsize - npsu) / s.popsize)
            is_lonely = npsu == 1
            census = f < 1e-7
            # stratum means of the cluster totals (padding to npsu is implicit: every PSU is kept)
            Sst = _indicator(s.cl_stratum, s.n_st, s.n_cl)
            means = np.asarray(Sst @ T) / npsu[:, None]
            centre = means
            if lonely == "adjust" and is_lonely.any():
                centre = means.copy()
                centre[is_lonely] = 0.0
            Tc = T - centre[s.cl_stratum]
            with np.errstate(divide="ignore", invalid="ignore"):
                a_st = np.where(is_lonely, f, f * npsu / (npsu - 1.0))
            a_st = np.where(census, 0.0, a_st)
            lonely_live = is_lonely & ~census
            if lonely_live.any():
                if lonely == "fail":
                    live = lonely_live if P is None else lonely_live & P.any(axis=1)
                    if live.any():
                        h = int(np.flatnonzero(live)[0])
                        raise DesignError(
                            f"Stratum {str(s.st_label[h])!r} has only one PSU at stage {si + 1}; "
                            "choose lonely_psu='adjust', 'average', 'remove' or 'certainty' "
                            "(or merge strata)"
                        )
                if lonely in ("remove", "certainty", "average"):
                    a_st = np.where(is_lonely, 0.0, a_st)
            scale_c = a_st[s.cl_stratum] * s.cl_mult
            if lonely == "average" and lonely_live.any():
                # factor nstrat/nokstrat per (parent unit, column), over strata present
                Pm = np.ones((s.n_st, p), dtype=bool) if P is None else P
                G = _indicator(s.st_parent, s.n_parent, s.n_st)
                nstrat = np.asarray(G @ Pm.astype(float))
                nok = np.asarray(G @ (Pm & ~lonely_live[:, None]).astype(float))
                with np.errstate(divide="ignore", invalid="ignore"):
                    fac = nstrat / nok
                fac = np.where(nstrat == 0, 1.0, fac)
                Y = Tc * np.sqrt(scale_c[:, None] * fac[s.st_parent[s.cl_stratum]])
            else:
                Y = Tc * np.sqrt(scale_c)[:, None]
            if diag_only:
                V = V + np.einsum("ij,ij->j", Y, Y)
            else:
                V = V + Y.T @ Y
        return V

    # ------------------------------------------------------------------ estimators (thin)
    def mean(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None,
             **kwargs: Any) -> pd.DataFrame:
        """Weighted means with design-based standard errors.

        Parameters
        ----------
        variables : str or sequence of str
            Numeric column(s) to average.
        by : str or sequence of str, optional
            Domain variable(s); each domain keeps the full design (identical to ``subset``).
        **kwargs
            ``na_rm``, ``level``, ``df``, ``deff``; see :func:`survey.estimate.mean`.

        Returns
        -------
        pandas.DataFrame
            One row per variable (and domain): ``estimate, se, ci_low, ci_high, deff, n, n_eff``.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("aabb"), "w": [1.0, 1, 2, 2]})
        >>> d = SurveyDesign(df, weights="w")
        >>> d.mean("y", by="g")[["g", "estimate"]]
           g  estimate
        0  a       1.5
        1  b       3.5
        """
        from .estimate import mean
        return mean(self, variables, by=by, **kwargs)

    def total(self, variables: str | Sequence[str], by: str | Sequence[str] | None = None,
              **kwargs: Any) -> pd.DataFrame:
        """Weighted totals with design-based standard errors.

        Parameters
        ----------
        variables : str or sequence of str
            Numeric column(s) to total.
        by : str or sequence of str, optional
            Domain variable(s).
        **kwargs
            ``na_rm``, ``level``, ``df``, ``deff``; see :func:`survey.estimate.total`.

        Returns
        -------
        pandas.DataFrame
            The estimate layout of :mod:`survey.estimate`.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3, 4], "w": [1.0, 1, 2, 2]}), weights="w")
        >>> float(d.total("y")["estimate"].iloc[0])
        17.0
        """
        from .estimate import total
        return total(self, variables, by=by, **kwargs)

    def proportion(self, variable: str, by: str | Sequence[str] | None = None,
                   **kwargs: Any) -> pd.DataFrame:
        """Proportion of each category of one variable.

        Parameters
        ----------
        variable : str
            A categorical (or boolean) column.
        by : str or sequence of str, optional
            Domain variable(s).
        **kwargs
            ``labels``, ``na_rm``, ``level``, ``df``, ``deff``, ``ci_method`` (``"wald"``,
            ``"logit"``, ``"beta"``, ``"published"``); see :func:`survey.estimate.proportion`.

        Returns
        -------
        pandas.DataFrame
            One row per category (and domain) with a ``level`` column.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"sex": pd.Categorical(["男", "女", "女", "女"], ["男", "女"])}))
        >>> d.proportion("sex")[["level", "estimate"]]
          level  estimate
        0     男      0.25
        1     女      0.75
        """
        from .estimate import proportion
        return proportion(self, variable, by=by, **kwargs)

    def ratio(self, numerator: str | Sequence[str], denominator: str | Sequence[str],
              by: str | Sequence[str] | None = None, **kwargs: Any) -> pd.DataFrame:
        """Ratio of two weighted totals (e.g. research hours / working hours).

        Parameters
        ----------
        numerator, denominator : str or sequence of str
            Numeric columns; the ratio is ``sum w*num / sum w*den``.
        by : str or sequence of str, optional
            Domain variable(s).
        **kwargs
            ``na_rm``, ``level``, ``df``, ``deff``; see :func:`survey.estimate.ratio`.

        Returns
        -------
        pandas.DataFrame
            The estimate layout of :mod:`survey.estimate`.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"r": [10.0, 20, 5], "h": [40.0, 50, 10]}))
        >>> float(d.ratio("r", "h")["estimate"].iloc[0])
        0.35
        """
        from .estimate import ratio
        return ratio(self, numerator, denominator, by=by, **kwargs)

    def quantile(self, variables: str | Sequence[str], quantiles: float | Sequence[float] = 0.5,
                 by: str | Sequence[str] | None = None, **kwargs: Any) -> pd.DataFrame:
        """Weighted quantiles with Woodruff confidence intervals.

        Parameters
        ----------
        variables : str or sequence of str
            Numeric column(s).
        quantiles : float or sequence of float, default 0.5
            Probabilities in (0, 1).
        by : str or sequence of str, optional
            Domain variable(s).
        **kwargs
            See :func:`survey.estimate.quantile`.

        Returns
        -------
        pandas.DataFrame
            One row per variable, quantile (and domain).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"y": [float(i) for i in range(1, 21)]}))
        >>> d.quantile("y", 0.5)[["estimate", "ci_low", "ci_high"]]
           estimate  ci_low  ci_high
        0      10.0     6.0     15.0
        """
        from .estimate import quantile
        return quantile(self, variables, quantiles, by=by, **kwargs)

    # --- methods delegated to later stages ---
    # (weighting / tables / models authors: add thin delegating methods below, e.g.
    #  rake, poststratify, calibrate, trim, crosstab, glm, multi, ranked ...; lazy-import the
    #  implementing module inside the method.)

    # weighting (survey/weighting): thin delegations; see survey.weighting for the parameters
    def rake(self, targets: Any, **kwargs: Any) -> SurveyDesign:
        """Rake the weights to population margins (iterative proportional fitting).

        Parameters
        ----------
        targets : mapping
            ``{variable: {level: population total}}`` (or a ``load_targets`` result); the
            levels must match the sample's categories exactly.
        **kwargs
            ``control_total``, ``collapse``, ``epsilon``, ``maxit``, ``force``; see
            :func:`survey.weighting.rake`.

        Returns
        -------
        SurveyDesign
            A new design whose variance accounts for the raking; its ``weighting_report``
            attribute holds the diagnostics (:class:`~survey.WeightingReport`).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"sex": list("mmff"), "age": list("yoyo"), "w": [1.0, 2, 1, 1]})
        >>> d2 = SurveyDesign(df, weights="w").rake({"sex": {"m": 60, "f": 40}, "age": {"y": 50, "o": 50}})
        >>> d2.weights.round(2).tolist()
        [25.89, 34.11, 24.11, 15.89]
        """
        from .weighting import rake
        return rake(self, targets, **kwargs)

    def poststratify(self, variables: Any, totals: Any = None, **kwargs: Any) -> SurveyDesign:
        """Post-stratify the weights to known cell totals.

        Parameters
        ----------
        variables : str, sequence of str or mapping
            The post-stratum variable(s), or ``{variable: {level: total}}``.
        totals : mapping, optional
            ``{level: total}`` when ``variables`` names the variables.
        **kwargs
            ``control_total``, ``collapse``; see :func:`survey.weighting.poststratify`.

        Returns
        -------
        SurveyDesign
            A new, post-stratified design.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"u": list("aabb"), "w": [1.0, 3, 1, 1]}), weights="w")
        >>> d.poststratify("u", {"a": 40, "b": 60}).weights.tolist()
        [10.0, 30.0, 30.0, 30.0]
        """
        from .weighting import poststratify
        return poststratify(self, variables, totals, **kwargs)

    def calibrate(self, targets: Any, **kwargs: Any) -> SurveyDesign:
        """Calibrate the weights to margins and numeric totals (GREG family).

        Parameters
        ----------
        targets : mapping
            ``{categorical variable: {level: total}, numeric variable: total}``.
        **kwargs
            ``calfun`` (``"linear"``, ``"raking"``, ``"logit"``), ``bounds``, ``epsilon``,
            ``maxit``, ``force``, ``control_total``, ``collapse``, ``variance``; see
            :func:`survey.weighting.calibrate`.

        Returns
        -------
        SurveyDesign
            A new design; the calibration enters the variance (residualisation).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"sex": list("mmff"), "h": [40.0, 50, 45, 35], "w": [1.0, 1, 1, 1]})
        >>> d2 = SurveyDesign(df, weights="w").calibrate({"sex": {"m": 6, "f": 4}, "h": 450.0})
        >>> round(float(d2.weights.sum()), 6), round(float(d2.weights @ df["h"]), 6)
        (10.0, 450.0)
        """
        from .weighting import calibrate
        return calibrate(self, targets, **kwargs)

    def trim(self, upper: Any = None, lower: Any = None, **kwargs: Any) -> SurveyDesign:
        """Trim extreme weights, redistribute the excess and re-calibrate.

        Parameters
        ----------
        upper, lower : float, optional
            Absolute bounds on the weights.
        **kwargs
            ``upper_ratio``/``lower_ratio`` (relative to the mean weight), ``upper_quantile``/
            ``lower_quantile``, ``redistribute``, ``strict``, ``recalibrate``, ``maxit``,
            ``tol``, ``force``; see :func:`survey.weighting.trim`.

        Returns
        -------
        SurveyDesign
            A new design with trimmed weights.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"w": [1.0, 1, 1, 7]}), weights="w")
        >>> d.trim(upper=4).weights.tolist()
        [2.0, 2.0, 2.0, 4.0]
        """
        from .weighting import trim
        return trim(self, upper, lower, **kwargs)

    def nonresponse_adjust(self, responded: Any, classes: Any) -> SurveyDesign:
        """Weighting-class nonresponse adjustment.

        Parameters
        ----------
        responded : str or numpy.ndarray
            Boolean column (or array): whether each sampled unit responded.
        classes : str or sequence of str
            Weighting-class variable(s); respondents carry their class's nonrespondent weight.

        Returns
        -------
        SurveyDesign
            A new design; nonrespondents get weight 0.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"c": list("aabb"), "r": [True, False, True, True], "w": [1.0, 1, 1, 1]})
        >>> SurveyDesign(df, weights="w").nonresponse_adjust("r", "c").weights.tolist()
        [2.0, 0.0, 1.0, 1.0]
        """
        from .weighting import nonresponse_adjust
        return nonresponse_adjust(self, responded, classes)

    def base_weights(self, station: str = "station", **kwargs: Any) -> SurveyDesign:
        """Base (design) weights from the station sampling: station size and selection probability.

        Parameters
        ----------
        station : str, default "station"
            The station (PSU) column.
        **kwargs
            ``station_size``, ``station_prob``, ``respondents``; see
            :func:`survey.weighting.base_weights`.

        Returns
        -------
        SurveyDesign
            A new design carrying the base weights.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> d = SurveyDesign(pd.DataFrame({"station": ["a", "a", "b"]}), psu="station")
        >>> d.base_weights(station_size={"a": 100, "b": 30}, station_prob={"a": 0.5, "b": 1}).weights.tolist()
        [100.0, 100.0, 30.0]
        """
        from .weighting import base_weights
        return base_weights(self, station, **kwargs)

    def replicate_weighting(self, method: str = "auto", replicates: int = 50,
                            **kwargs: Any) -> SurveyDesign:
        """Replicate weights that re-run this design's weighting chain in every replicate.

        Parameters
        ----------
        method : str, default "auto"
            ``"jk1"``, ``"jkn"``, ``"bootstrap"`` ... (``"auto"``: JKn with strata, else JK1).
        replicates : int, default 50
            Number of bootstrap replicates (ignored by the jackknives).
        **kwargs
            ``seed``, ``mse``; see :func:`survey.weighting.replicate_weighting`.

        Returns
        -------
        SurveyDesign
            A replicate-weight design with the same full-sample weights.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"s": list("mfmfmf"), "c": [1, 1, 2, 2, 3, 3], "w": [1.0] * 6})
        >>> d = SurveyDesign(df, weights="w", psu="c").rake({"s": {"m": 6, "f": 4}})
        >>> r = d.replicate_weighting("jk1")
        >>> r.is_replicate, r.repweights.shape, np.allclose(r.weights, d.weights)
        (True, (6, 3), True)
        """
        from .weighting import replicate_weighting
        return replicate_weighting(self, method, replicates, **kwargs)

    # tables / models (survey/tables.py, survey/models.py)
    def crosstab(self, row: str, col: str, **kwargs: Any):
        """Weighted two-way table with Rao–Scott tests of independence.

        Parameters
        ----------
        row, col : str
            Categorical columns.
        **kwargs
            ``by``, ``level`` and the flag thresholds ``min_n``, ``max_cv``, ``min_n_eff``,
            ``min_cell``; see :func:`survey.tables.crosstab`.

        Returns
        -------
        CrossTab
            ``.counts``, ``.pct``, ``.row_pct``, ``.col_pct`` (flagged estimate frames),
            ``.test`` (Rao–Scott) and ``.table()`` for a wide view.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"sex": pd.Categorical(list("男男女女男女") * 10, ["男", "女"]),
        ...                    "title": pd.Categorical(list("高中中初高初") * 10, ["高", "中", "初"])})
        >>> t = SurveyDesign(df).crosstab("sex", "title")
        >>> t.table("row_pct").round(3)  # doctest: +NORMALIZE_WHITESPACE
        title      高      中      初
        sex
        男      0.667  0.333  0.000
        女      0.000  0.333  0.667
        """
        from .tables import crosstab
        return crosstab(self, row, col, **kwargs)

    def multi(self, question: str | Sequence[str], **kwargs: Any) -> pd.DataFrame:
        """Multi-select question: share choosing each option (and mean number chosen).

        Parameters
        ----------
        question : str or sequence of str
            A ``multi`` question id (needs the design's questionnaire) or its boolean columns.
        **kwargs
            ``by``, ``level``, flag thresholds, ``questionnaire``; see :func:`survey.tables.multi`.

        Returns
        -------
        pandas.DataFrame
            Flagged estimate frame with ``measure`` and ``option`` columns; respondents with
            the whole question missing are outside the denominator.

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
        from .tables import multi
        return multi(self, question, **kwargs)

    def ranked(self, question: str | Sequence[str], k: int | None = None, **kwargs: Any) -> pd.DataFrame:
        """Ranked top-k question: share ranking each option first / in the top k, and a score.

        Parameters
        ----------
        question : str or sequence of str
            A ``rank`` question id or its ``Int64`` rank columns.
        k : int, optional
            Number of ranks asked (default: the question's ``k``).
        **kwargs
            ``weights`` (score per rank), ``by``, ``level``, flag thresholds,
            ``questionnaire``; see :func:`survey.tables.ranked`.

        Returns
        -------
        pandas.DataFrame
            Flagged estimate frame with ``measure`` and ``option`` columns.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"r_1": pd.array([1, 2, None, 1], dtype="Int64"),
        ...                    "r_2": pd.array([2, 1, None, None], dtype="Int64")})
        >>> out = SurveyDesign(df).ranked(["r_1", "r_2"], k=2)
        >>> out.loc[out.measure == "score", "estimate"].round(3).tolist()
        [1.667, 1.0]
        """
        from .tables import ranked
        return ranked(self, question, k=k, **kwargs)

    def likert(self, question: str | Sequence[str], **kwargs: Any) -> pd.DataFrame:
        """Likert / matrix block: distribution, top/bottom box and mean of each row.

        Parameters
        ----------
        question : str or sequence of str
            A ``likert``/``matrix`` question id or its ``Int64`` row columns.
        **kwargs
            ``top``, ``bottom``, ``scale`` (codes that are answers; others are missing), ``by``,
            ``level``, flag thresholds, ``questionnaire``; see :func:`survey.tables.likert`.

        Returns
        -------
        pandas.DataFrame
            Flagged estimate frame with ``measure`` and ``item`` columns.

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
        from .tables import likert
        return likert(self, question, **kwargs)

    def scale_score(self, items: str | Sequence[str], **kwargs: Any):
        """Summed or mean scale score over items, with Cronbach's alpha.

        Parameters
        ----------
        items : str or sequence of str
            A ``likert`` question id or item columns.
        **kwargs
            ``reverse``, ``method`` (``"mean"``/``"sum"``), ``scale``, ``min_items``, ``by``,
            ``level``, flag thresholds, ``questionnaire``; see :func:`survey.tables.scale_score`.

        Returns
        -------
        ScaleScore
            ``.scores`` (per respondent), ``.alpha``, ``.estimates`` (flagged frame).

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 4, 4, 5], "c": [5, 4, 3, 2, 2]})
        >>> s = SurveyDesign(df).scale_score(["a", "b", "c"], reverse=["c"], scale=[1, 2, 3, 4, 5])
        >>> round(s.alpha, 3)
        0.977
        """
        from .tables import scale_score
        return scale_score(self, items, **kwargs)

    def contrast(self, variable: str, by: str | Sequence[str], coef: Any, **kwargs: Any) -> pd.DataFrame:
        """Linear combination of domain estimates (e.g. a difference between groups) with its SE.

        Parameters
        ----------
        variable : str
            The analysis variable.
        by : str or sequence of str
            Domain variable(s).
        coef : mapping or sequence of float
            ``{level: coefficient}`` (or one coefficient per level in order).
        **kwargs
            ``category``, ``stat``, ``level``, ``df``; see :func:`survey.tables.contrast`.

        Returns
        -------
        pandas.DataFrame
            One row: ``estimate, se, ci_low, ci_high, df, t, p``.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 6, 8], "g": list("aaabbb")})
        >>> SurveyDesign(df).contrast("y", "g", {"b": 1, "a": -1})["estimate"].tolist()
        [4.0]
        """
        from .tables import contrast
        return contrast(self, variable, by, coef, **kwargs)

    def glm(self, formula: str, family: str = "gaussian", **kwargs: Any):
        """Design-based generalised linear model (R's ``svyglm``).

        Parameters
        ----------
        formula : str
            A patsy/statsmodels formula over the design's columns, e.g. ``"y ~ x + C(g)"``.
        family : str, default "gaussian"
            ``"gaussian"``, ``"binomial"``, ``"quasibinomial"``, ``"poisson"``, ...
        **kwargs
            ``level``, ``maxiter``, ``tol``; see :func:`survey.models.glm`.

        Returns
        -------
        GLMResult
            ``params``, ``bse``, ``pvalues``, ``conf_int()``, ``to_frame()``, ``summary()``.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import SurveyDesign
        >>> df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "y": [1.0, 3, 5, 7, 9, 11]})
        >>> SurveyDesign(df).glm("y ~ x").params.round(6).tolist()
        [1.0, 2.0]
        """
        from .models import glm
        return glm(self, formula, family=family, **kwargs)


# ----------------------------------------------------------------------------------------------
# module-level helpers
# ----------------------------------------------------------------------------------------------
def _first_index(codes: np.ndarray, k: int) -> np.ndarray:
    first = np.full(k, -1, dtype=np.int64)
    idx = np.arange(len(codes))
    first[codes[::-1]] = idx[::-1]
    return first


def _parent_of(st: np.ndarray, prev_cl: np.ndarray, H: int) -> np.ndarray:
    return prev_cl[_first_index(st, H)]


def _rank(M: np.ndarray, tol: float = 1e-5) -> int:
    """Numerical rank (R's ``qr(., tol=1e-5)$rank`` in practice), via the Gram matrix for tall M."""
    M = np.asarray(M, dtype=float)
    if M.size == 0:
        return 0
    if M.shape[0] > M.shape[1]:
        G = M.T @ M
        ev = np.clip(np.linalg.eigvalsh(G), 0, None)
        s = np.sqrt(ev[::-1])
    else:
        s = np.linalg.svd(M, compute_uv=False)
    if s.size == 0 or s[0] == 0:
        return 0
    return int((s > tol * s[0]).sum())


def _jkn_multipliers(s0: _Stage, fpc_f: np.ndarray | None, lonely: str):
    """R's ``jknweights`` (compressed: one row per PSU)."""
    C, H = s0.n_cl, s0.n_st
    cols, rscales = [], []
    nstrat = H
    skipped = 0
    for h in range(H):
        members = np.flatnonzero(s0.cl_stratum == h)
        nh = len(members)
        f = 1.0 if fpc_f is None else float(fpc_f[h])
        if nh == 1 and f != 0:
            if lonely == "fail":
                raise DesignError(
                    f"replicate: stratum {s0.st_label[h]!r} has only one PSU; choose another "
                    "lonely_psu option"
                )
            if lonely in ("remove", "certainty", "average"):
                skipped += 1
                continue
            col = np.where(s0.cl_stratum == h, 0.0, nstrat / (nstrat - 1.0))
            cols.append(col)
            rscales.append((nstrat - 1.0) / nstrat)
            continue
        for j in members:
            col = np.ones(C)
            col[members] = nh / (nh - 1.0) if nh > 1 else 1.0
            col[j] = 0.0
            cols.append(col)
            rscales.append(f * (nh - 1.0) / nh)
    if not cols:
        raise DesignError("replicate: all strata were exhaustively sampled (no variance)")
    scale = 1.0
    if skipped and lonely == "average":
        scale = C / len(cols)
    return np.column_stack(cols), np.array(rscales), scale


def _boot_multipliers(s0: _Stage, R: int, rng: np.random.Generator, popsize: np.ndarray | None):
    """R's ``bootweights``: per stratum draw n_h PSUs with replacement; multiplier = count."""
    C, H = s0.n_cl, s0.n_st
    mult = np.zeros((C, R))
    order = np.argsort(s0.cl_stratum, kind="stable")
    st_sorted = s0.cl_stratum[order]
    starts = np.searchsorted(st_sorted, np.arange(H))
    nh = s0.npsu.astype(np.int64)
    if popsize is None:
        # draw positions within stratum for every (PSU slot, replicate) at once
        u = rng.random((C, R))
        pos = np.floor(u * nh[st_sorted][:, None]).astype(np.int64)
        target = order[starts[st_sorted][:, None] + pos]  # (C, R) chosen PSU index
        key = target * R + np.arange(R)[None, :]
        mult = np.bincount(key.ravel(), minlength=C * R).reshape(C, R).astype(float)
    else:
        for h in range(H):
            members = order[starts[h]: starts[h] + nh[h]]
            Nh = int(round(popsize[h]))
            pool = np.resize(members, Nh)
            for r in range(R):  # per stratum and replicate: construction only
                chosen = rng.choice(pool, size=nh[h], replace=False)
                mult[:, r] += np.bincount(chosen, minlength=C)
    psu_per_strata = 1.0 / np.mean(1.0 / nh)
    scale = psu_per_strata / ((psu_per_strata - 1.0) * (R - 1.0))
    return mult, scale


def _make_replicates(data, w, repweights, rep_type, scale, rscales, mse, combined, rho) -> _Replicates:
    n = len(data)
    if isinstance(repweights, str):
        cols = [c for c in data.columns if re.search(repweights, str(c))]
        if not cols:
            raise DesignError(f"SurveyDesign: no column matches repweights pattern {repweights!r}")
        W = data[cols].to_numpy(dtype=float)
    elif isinstance(repweights, np.ndarray):
        W = np.asarray(repweights, dtype=float)
    else:
        cols = list(repweights)
        for c in cols:
            SurveyDesign._check_column(data, c, "repweights")
        W = data[cols].to_numpy(dtype=float)
    if W.ndim != 2 or W.shape[0] != n:
        raise DesignError(f"SurveyDesign: repweights must be n x R (n={n}), got {W.shape}")
    if np.isnan(W).any():
        raise DesignError("SurveyDesign: missing values are not allowed in repweights")
    R = W.shape[1]
    if rep_type is None:
        raise DesignError("SurveyDesign: give rep_type= ('jk1', 'jkn', 'bootstrap', 'brr', 'fay', 'other')")
    t = rep_type.lower()
    if t not in REPLICATE_TYPES:
        raise DesignError(f"SurveyDesign: rep_type={rep_type!r} is not one of {REPLICATE_TYPES}")
    if not combined:
        W = W * w[:, None]
    if rscales is not None:
        rs = np.broadcast_to(np.asarray(rscales, dtype=float), (R,)).copy()
    else:
        rs = None
    if t == "brr":
        if scale is not None:
            raise DesignError("SurveyDesign: rep_type='brr' fixes scale=1/R; do not pass scale=")
        scale = 1.0 / R
    elif t == "fay":
        if rho is None:
            raise DesignError("SurveyDesign: rep_type='fay' needs rho=")
        scale = 1.0 / (R * (1.0 - rho) ** 2)
    elif t == "bootstrap":
        scale = 1.0 / (R - 1.0) if scale is None else scale
    elif t == "jk1":
        scale = (R - 1.0) / R if scale is None else scale
    elif t == "jkn":
        if rs is None:
            raise DesignError("SurveyDesign: rep_type='jkn' with combined weights needs rscales= "
                              "((n_h - 1)/n_h for each replicate), as R")
    if rs is None:
        rs = np.ones(R)
    if scale is None:
        scale = 1.0
    degf = _rank(W) - 1
    return _Replicates(W, float(scale), rs, bool(mse), t, int(degf))
