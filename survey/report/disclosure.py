"""Disclosure control for published tables: small-cell, complementary suppression, reliability.

Rules (issue "The published report"):

* **Primary suppression** — a cell computed from fewer than ``min_cell`` unweighted respondents
  (default 10) is suppressed (zero cells too, unless ``zeros=False``).
* **Complementary suppression** — where a published row/column total would let a reader
  recover a suppressed cell by subtraction, a further cell of the same row/column is suppressed.
  The table and its margins are treated as a system of additive equations (each row: cells sum
  to the row total; each column: cells sum to the column total; the margins sum to the grand
  total).  While some equation has exactly one suppressed cell — or several whose sum (which a
  reader can recover from the total) is below ``min_cell`` — another cell of that equation is
  suppressed, chosen deterministically: interior cells before totals, then a cell that brings the
  suppressed sum of the equation to at least ``min_cell``, then a cell whose crossing equation
  already has a lone suppressed cell (one cell fixes two equations), then the smallest count,
  then position.  This is the usual singleton-closing heuristic with a protection level; it
  guarantees that in every equation the hidden cells are either all of it, or at least two
  whose sum is at least ``min_cell`` — not optimality (no linear-programming audit).
* **Reliability** — an estimate with ``n < 30`` or a coefficient of variation above 30 % is
  marked unreliable (published, flagged with a footnote).
* No table is broken down by station: :func:`check_no_station` refuses it.

Examples
--------
>>> import pandas as pd
>>> from survey.report.disclosure import suppress_table
>>> counts = pd.DataFrame({"男": [40, 3, 25], "女": [35, 20, 30]}, index=["正高", "副高", "中级"])
>>> s = suppress_table(counts, min_cell=10)
>>> s.mask.loc["副高"].tolist()       # the 3 and, to protect it, its row neighbour ...
[True, True, False]
>>> int(s.mask.sum().sum())           # ... and a 2×2 rectangle in all
4
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from ..errors import PrivacyError
from ..validation import Integer, Options, check

__all__ = [
    "Suppression",
    "suppress_table",
    "primary_mask",
    "reliability_mask",
    "flag_estimates",
    "check_no_station",
    "hidden_levels",
    "MIN_CELL",
    "MIN_N_RELIABLE",
    "MAX_CV",
]

MIN_CELL = 10
MIN_N_RELIABLE = 30
MAX_CV = 0.30
STATION_NAMES = ("station", "站点", "调查站点", "station_id")

Margins = Literal["both", "rows", "cols", "none"]


@dataclass(frozen=True)
class Suppression:
    """Result of :func:`suppress_table`.

    Attributes
    ----------
    counts : DataFrame
        The unweighted counts with the published margins added (label ``total_label``).
    primary : DataFrame of bool
        Cells below ``min_cell``.
    mask : DataFrame of bool
        All suppressed cells (primary or complementary), same shape as ``counts``.
    """

    counts: pd.DataFrame
    primary: pd.DataFrame
    mask: pd.DataFrame

    @property
    def complementary(self) -> pd.DataFrame:
        """Cells suppressed only to protect others."""
        return self.mask & ~self.primary

    @property
    def interior(self) -> pd.DataFrame:
        """The mask without the margin row/column."""
        r, c = self._shape
        return self.mask.iloc[:r, :c]

    @property
    def _shape(self) -> tuple[int, int]:
        r, c = self.counts.shape
        lab = self.counts.attrs.get("margins", "none")
        return (r - (lab in ("both", "cols")), c - (lab in ("both", "rows")))


def primary_mask(n: np.ndarray | pd.Series | pd.DataFrame, min_cell: int = MIN_CELL, *,
                 zeros: bool = True):
    """True where a cell rests on fewer than ``min_cell`` unweighted respondents.

    Parameters
    ----------
    n : array-like
        Unweighted counts.  Missing counts (NaN) are treated as 0.
    min_cell : int
        Minimum number of respondents a published cell needs.
    zeros : bool
        Suppress empty cells as well (default; an empty cell tells that *nobody* in a group has
        a property).

    Examples
    --------
    >>> primary_mask(np.array([0, 3, 12]), 10).tolist()
    [True, True, False]
    >>> primary_mask(np.array([0, 3, 12]), 10, zeros=False).tolist()
    [False, True, False]
    """
    _check_min_cell("primary_mask", min_cell)
    if isinstance(n, (pd.Series, pd.DataFrame)):
        a = n.astype("float64").fillna(0.0)
        out = a < min_cell
        return out if zeros else out & (a > 0)
    a = np.nan_to_num(np.asarray(n, dtype="float64"), nan=0.0)
    out = a < min_cell
    return out if zeros else out & (a > 0)


def _check_min_cell(fn: str, min_cell: int) -> None:
    check(fn, "min_cell", min_cell, Integer(1, example=MIN_CELL), error=PrivacyError)


def _equations(r: int, c: int, margins: str) -> list[list[tuple[int, int]]]:
    """Cell index sets of the additive equations of an r×c interior with its margins."""
    eqs: list[list[tuple[int, int]]] = []
    if margins == "both":
        for i in range(r + 1):                      # rows, incl. the total row
            eqs.append([(i, j) for j in range(c + 1)])
        for j in range(c + 1):                      # columns, incl. the total column
            eqs.append([(i, j) for i in range(r + 1)])
    elif margins == "rows":
        for i in range(r):
            eqs.append([(i, j) for j in range(c + 1)])
    elif margins == "cols":
        for j in range(c):
            eqs.append([(i, j) for i in range(r + 1)])
    return eqs


def suppress_table(counts: pd.DataFrame, min_cell: int = MIN_CELL, *, margins: Margins = "both",
                   total_label: str = "合计", zeros: bool = True) -> Suppression:
    """Primary and complementary suppression of a two-way table of unweighted counts.

    Parameters
    ----------
    counts : DataFrame
        Unweighted respondent counts, rows × columns, *without* margins.
    min_cell : int
        Cells below this are suppressed (the notebooks' ``min_cell`` parameter, default 10).
    margins : {"both", "rows", "cols", "none"}
        Which totals are published (or otherwise known to readers).  ``"both"`` is the safe
        default: row totals, column totals and the grand total.
    total_label : str
        Label of the added margin row/column.
    zeros : bool
        Treat empty cells as sensitive (see :func:`primary_mask`).

    Returns
    -------
    Suppression
        ``counts`` with margins, the ``primary`` mask and the full ``mask``.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [50, 50], "b": [50, 4]})
    >>> suppress_table(t, 10).mask.sum().sum()   # the 4 needs three partners
    np.int64(4)
    >>> suppress_table(t, 10, margins="none").mask.sum().sum()
    np.int64(1)
    """
    check("suppress_table", "margins", margins, Options(("both", "rows", "cols", "none")),
          error=PrivacyError)
    if not isinstance(counts, pd.DataFrame):
        raise PrivacyError("suppress_table needs a DataFrame of unweighted counts (rows × columns)")
    _check_min_cell("suppress_table", min_cell)
    try:
        a = counts.astype("float64").fillna(0.0).to_numpy()
    except (TypeError, ValueError) as e:
        raise PrivacyError(f"suppress_table: counts must be numeric ({e})") from None
    if (a < 0).any():
        raise PrivacyError("suppress_table: counts must be non-negative")
    r, c = a.shape
    full = a
    rows, cols = list(counts.index), list(counts.columns)
    if margins in ("both", "rows"):
        full = np.column_stack([full, full.sum(axis=1)])
        cols = cols + [total_label]
    if margins in ("both", "cols"):
        full = np.vstack([full, full.sum(axis=0)])
        rows = rows + [total_label]
    prim = full < min_cell
    if not zeros:
        prim &= full > 0
    mask = prim.copy()
    eqs = _equations(r, c, margins)
    is_margin = np.zeros(full.shape, dtype=bool)
    if margins in ("both", "rows"):
        is_margin[:, c] = True
    if margins in ("both", "cols"):
        is_margin[r, :] = True
    # which equations each cell belongs to
    member: dict[tuple[int, int], list[int]] = {}
    for k, eq in enumerate(eqs):
        for cell in eq:
            member.setdefault(cell, []).append(k)

    def n_supp(k: int) -> int:
        return sum(mask[cell] for cell in eqs[k])

    changed = True
    while changed:
        changed = False
        for k, eq in enumerate(eqs):
            supp = [cell for cell in eq if mask[cell]]
            if not supp:
                continue
            s = sum(full[cell] for cell in supp)
            cands = [cell for cell in eq if not mask[cell]]
            if not cands or (len(supp) >= 2 and s >= min_cell):
                continue  # all hidden, or ≥ 2 hidden cells whose recoverable sum is not small

            def key(cell: tuple[int, int]) -> tuple:
                pairs = any(n_supp(m) == 1 for m in member[cell] if m != k)
                return (bool(is_margin[cell]), (s + full[cell]) < min_cell, not pairs,
                        float(full[cell]), cell)

            mask[min(cands, key=key)] = True
            changed = True
    out_counts = pd.DataFrame(full, index=rows, columns=cols)
    if np.allclose(full, np.round(full)):
        out_counts = out_counts.astype("int64")
    out_counts.attrs["margins"] = margins
    return Suppression(
        counts=out_counts,
        primary=pd.DataFrame(prim, index=rows, columns=cols),
        mask=pd.DataFrame(mask, index=rows, columns=cols),
    )


def hidden_levels(values: pd.Series, min_cell: int = MIN_CELL) -> set[str]:
    """Levels of a group variable a report hides in *every* table that breaks down by it.

    The respondents' counts by level, with their total (published in the sample tables), go
    through :func:`suppress_table` (``margins="cols"``): a level with fewer than ``min_cell``
    respondents is hidden, and so is the level chosen to protect it.  Hiding the same levels
    everywhere keeps a hidden count from being recovered by subtraction across tables (the
    total of one table minus the visible levels, one of which another table would show).
    Labels are strings; missing values count as the level ``（缺失）``; an empty category of a
    categorical is a cell too (nobody in it is itself a small count), as in the sample tables.

    Examples
    --------
    >>> v = pd.Series(["正高"] * 3 + ["副高"] * 40 + ["中级"] * 60 + ["初级"] * 50)
    >>> sorted(hidden_levels(v, 10))       # the 3, and the smallest other level to protect it
    ['副高', '正高']
    >>> hidden_levels(pd.Series(["a"] * 20 + ["b"] * 30), 10)
    set()
    >>> sorted(hidden_levels(pd.Series(pd.Categorical(["b"] * 30 + ["c"] * 20, ["a", "b", "c"])), 10))
    ['a', 'c']
    """
    _check_min_cell("hidden_levels", min_cell)
    vc = pd.Series(values).value_counts(sort=False, dropna=False)
    vc.index = ["（缺失）" if pd.isna(i) else str(i) for i in vc.index]
    if vc.empty:
        return set()
    s = suppress_table(vc.to_frame("n"), min_cell, margins="cols")
    m = s.mask["n"].iloc[:len(vc)]
    return {str(i) for i in m.index[m.to_numpy(bool)]}


def reliability_mask(n, cv=None, *, min_n: int = MIN_N_RELIABLE, max_cv: float = MAX_CV):
    """True where an estimate is unreliable: ``n < min_n`` or ``cv > max_cv``.

    Examples
    --------
    >>> reliability_mask(np.array([20, 50, 50]), np.array([0.1, 0.1, 0.4])).tolist()
    [True, False, True]
    """
    nn = np.nan_to_num(np.asarray(n, dtype="float64"), nan=0.0)
    out = nn < min_n
    if cv is not None:
        cc = np.asarray(cv, dtype="float64")
        out = out | (np.nan_to_num(cc, nan=0.0) > max_cv)
    return out


def flag_estimates(est: pd.DataFrame, *, min_cell: int = MIN_CELL, n: str = "n",
                   row: str | None = None, col: str | None = None, margins: Margins = "none",
                   min_n: int = MIN_N_RELIABLE, max_cv: float = MAX_CV) -> pd.DataFrame:
    """Add ``suppressed`` and ``unreliable`` columns to a tidy estimates table.

    Parameters
    ----------
    est : DataFrame
        Tidy estimates with at least ``n`` (unweighted respondents) and, for the CV, ``estimate``
        and ``se`` (or a ``cv`` column).
    min_cell : int
        Primary suppression threshold.
    row, col : str, optional
        When both are given, the ``n`` column is pivoted to a ``row × col`` table and
        :func:`suppress_table` adds complementary suppression for the published ``margins``.
    margins : {"both", "rows", "cols", "none"}
        Totals published alongside (see :func:`suppress_table`).
    min_n, max_cv : reliability thresholds.

    Examples
    --------
    >>> e = pd.DataFrame({"estimate": [0.5, 0.2], "se": [0.05, 0.1], "n": [100, 8]})
    >>> flag_estimates(e)[["suppressed", "unreliable"]].values.tolist()
    [[False, False], [True, False]]
    """
    if n not in est.columns:
        raise PrivacyError(f"flag_estimates: column {n!r} (unweighted n) not in the table; "
                           f"columns are {list(est.columns)}")
    out = est.copy()
    supp = np.asarray(primary_mask(out[n].to_numpy(), min_cell))
    if row is not None and col is not None:
        for name in (row, col):
            if name not in out.columns:
                raise PrivacyError(f"flag_estimates: column {name!r} not in the table")
        check_no_station([row, col])
        wide = out.pivot_table(index=row, columns=col, values=n, aggfunc="sum", observed=True,
                               sort=False)
        s = suppress_table(wide, min_cell, margins=margins)
        inner = s.interior.stack()
        keys = pd.MultiIndex.from_frame(out[[row, col]].astype(object))
        supp = supp | inner.reindex(keys).fillna(False).to_numpy(dtype=bool)
    if "cv" in out.columns:
        cv = out["cv"].to_numpy(dtype="float64")
    elif {"estimate", "se"} <= set(out.columns):
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.abs(out["se"].to_numpy(dtype="float64") / out["estimate"].to_numpy(dtype="float64"))
    else:
        cv = None
    out["suppressed"] = supp
    out["unreliable"] = reliability_mask(out[n].to_numpy(), cv, min_n=min_n, max_cv=max_cv) & ~supp
    return out


def check_no_station(columns: Iterable[str], station: str | None = None) -> None:
    """Refuse a breakdown by station (one station is one institution).

    Examples
    --------
    >>> check_no_station(["sex", "title"])
    >>> check_no_station(["station"])
    Traceback (most recent call last):
    ...
    survey.errors.PrivacyError: a published table must not be broken down by station (column 'station'); aggregate to region or station type instead
    """
    names = set(STATION_NAMES) | ({station} if station else set())
    for c in columns:
        if str(c) in names:
            raise PrivacyError(
                f"a published table must not be broken down by station (column {str(c)!r}); "
                "aggregate to region or station type instead"
            )
