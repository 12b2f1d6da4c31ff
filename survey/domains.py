"""Domains: one coder for ``by=`` variables, and subsets (full-row or compact).

Every ``by=`` of the package (estimators, tables, trends) codes its domains here, through
:meth:`survey.SurveyDesign.domain_index` (which caches the codes per design data).  Levels follow
the category order of a Categorical and sorted values otherwise; only combinations present in
the data are kept; a row with a missing by value gets code ``-1``.

:func:`subset_changes` is the body of :meth:`survey.SurveyDesign.subset`.  A full-row subset
keeps every row and zeroes the weights outside the domain (R's ``subset``).  A *compact* subset
(``compact=True``) keeps only the domain's rows: their data, weights and replicate weights, their
cluster and stratum codes in the full design's numbering with the full design's stage structure
(PSUs per stratum, population sizes, nesting), and the full design's calibrations in cell space
(:class:`survey.calspace.CalibrationChain` with the rows it holds).  Rows outside a domain have
zero influence, so PSU totals, their centring within strata, ``n_h``, the presence of strata
(lonely PSUs) and the degrees of freedom are those of the full-row subset; only the cost changes
(``O(m)`` in the domain size).

Examples
--------
>>> import pandas as pd
>>> from survey.domains import domain_index
>>> df = pd.DataFrame({"g": ["b", "a", "b", None], "h": [1, 1, 2, 2]})
>>> codes, levels = domain_index(df, ["g", "h"])
>>> codes.tolist()
[1, 0, 2, -1]
>>> levels.to_dict("list")
{'g': ['a', 'b', 'b'], 'h': [1, 1, 2]}
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .calspace import CalibrationChain
from .errors import DesignError, EstimationError
from .variance import codes

__all__ = ["domain_index", "as_mask", "subset_changes", "calibration_space", "CompactRows"]


def domain_index(data: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes ``0..D-1`` (``-1`` = missing) of the domains of ``cols`` and their level table.

    Parameters
    ----------
    data : pandas.DataFrame
    cols : sequence of str
        The by variables.

    Returns
    -------
    (numpy.ndarray, pandas.DataFrame)
        Codes per row, and one row of levels per domain (Categorical columns stay Categorical).
    """
    cols = list(cols)
    if not cols:
        raise DesignError("domain_index: give at least one by variable")
    codes_list, cats_list = [], []
    codes_list, cats_list = [], []
    n = len(data)
    for c in cols:
        if c not in data.columns:
            raise DesignError(f"domain_index: by column {c!r} is not in the data (columns: "
                              f"{', '.join(map(str, list(data.columns)[:20]))}"
                              f"{', ...' if data.shape[1] > 20 else ''})")
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cat = s.cat
            codes_list.append(cat.codes.to_numpy().astype(np.int64))
            cats_list.append(cat.categories)
        elif s.dtype.kind in "iu":  # integers cannot be missing: one bincount pass
            code, uniq = codes(s.to_numpy())
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
        missing = np.zeros(n, dtype=bool)
        key = np.zeros(n, dtype=np.int64)
        for code, cats in zip(codes_list, cats_list):
            missing |= code < 0
            key = key * (len(cats) + 1) + np.where(code < 0, 0, code)
        inv, uniq = codes(key[~missing])
        uniq = np.asarray(uniq, dtype=np.int64)
        out = np.full(n, -1, dtype=np.int64)
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
        if isinstance(data[c].dtype, pd.CategoricalDtype):
            vals = pd.Categorical(vals, categories=cats, ordered=data[c].cat.ordered)
        levels[c] = vals
    return out, pd.DataFrame(levels)


def as_mask(mask: Any, index: pd.Index, n: int) -> np.ndarray:
    """A domain mask as a bool array of the design's ``n`` rows (missing = False, as R)."""
    try:
        if isinstance(mask, pd.Series):
            if not mask.index.equals(index):
                mask = mask.reindex(index)
            m = mask.astype("boolean").fillna(False).to_numpy(dtype=bool)
        else:
            m = np.asarray(mask)
            if m.dtype != bool and m.ndim == 1:
                m = pd.Series(m).astype("boolean").fillna(False).to_numpy(dtype=bool)
    except (TypeError, ValueError):
        raise DesignError(
            f"subset: mask must be boolean (True = in the domain), got values of dtype "
            f"{np.asarray(mask).dtype}; pass e.g. design.data['sex'] == '女'") from None
    if m.shape != (n,):
        raise DesignError(
            f"subset: mask has shape {m.shape}, the design has {n} rows; pass one "
            "True/False per respondent, e.g. design.data['sex'] == '女'"
        )
    return m


@dataclasses.dataclass(frozen=True, eq=False)
class CompactRows:
    """What a compact domain keeps of its full design: the rows it holds (indices into the full
    design), the full design's calibrations in cell space (or None) and a cache of their
    restriction to these rows."""

    rows: np.ndarray
    chain: CalibrationChain | None
    cache: dict


def calibration_space(d: Any) -> tuple:
    """``(chain, rows, cache)`` of a design: its :class:`~survey.calspace.CalibrationChain`
    (built once per full design and calibration chain, cached with the design's data), the
    full design's rows a compact domain holds (None: all rows) and the domain's cache."""
    c = d._compact
    if c is not None:
        return c.chain, c.rows, c.cache
    if not d.calibrations or d.replicates is not None:
        return None, None, None
    hit = d._cache.get("calibration_chain")
    if hit is None or hit[0] is not d.calibrations or hit[1] is not d.stages or hit[2] != d.var_stages:
        chain = CalibrationChain(d.calibrations, d.stages[: d.var_stages], d.n_rows)
        hit = d._cache["calibration_chain"] = (d.calibrations, d.stages, d.var_stages, chain)
    return hit[3], None, None


def subset_changes(d: Any, mask: Any, compact: bool = False) -> dict[str, Any]:
    """The slot changes of ``d.subset(mask, compact=)`` (see the module docstring)."""
    m = as_mask(mask, d._data.index, d._n)
    if d._domain is not None:
        m = m & d._domain
    if not m.any():
        raise EstimationError("subset: the mask selects no respondents")
    if not compact:
        m = m.copy()
        m.setflags(write=False)
        return {"_domain": m}
    r = np.flatnonzero(m)
    full = np.ones(len(r), dtype=bool)
    full.setflags(write=False)
    rep = d._rep if d._rep is None else dataclasses.replace(d._rep, W=np.ascontiguousarray(d._rep.W[r]))
    if d._compact is not None:
        info = CompactRows(d._compact.rows[r], d._compact.chain, {})
    else:
        chain = calibration_space(d)[0]
        info = CompactRows(r, chain, {})
    return {"_data": d._data.take(r), "_n": len(r), "_w": d._w[r], "_domain": full, "_rep": rep,
            "_stages": tuple(dataclasses.replace(s, cl=s.cl[r], st=s.st[r], _ind={}) for s in d._stages),
            "_compact": info}
