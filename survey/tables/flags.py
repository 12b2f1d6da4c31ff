"""Reliability and disclosure flags of every published table: the one place (:func:`add_flags`).

Every table estimator of :mod:`survey.tables` (crosstab, multi, ranked, likert, scale_score)
ends with :func:`add_flags`, and the report applies it to the frames of :mod:`survey.estimate`;
the disclosure part is the one rule :func:`survey.privacy.disclosure_mask`, which the painpoints
tables use as well.

Zero cells
----------
A cell with **no respondent** (``n_cell == 0``) over a base of at least ``min_cell`` is *not*
suppressed: a zero reveals nobody, and it must stay distinguishable from a hidden cell (the
report prints the zero, or "—" with the suppression footnote only where ``suppress`` is set).
An **empty base** (``n == 0``: no respondent in the domain) *is* suppressed, like any base
below ``min_cell``: such an estimate does not exist (it is NaN) and an empty group is itself a
small count.

Examples
--------
>>> import pandas as pd
>>> from survey.tables import add_flags
>>> f = pd.DataFrame({"estimate": [0.5, 0.0, 0.1], "se": [0.05, 0.0, 0.03],
...                   "n": [400, 400, 400], "n_cell": [200, 0, 4]})
>>> add_flags(f)["suppress"].tolist()      # a zero cell is published, 4 respondents are not
[False, False, True]
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..privacy import disclosure_mask
from ..validation import Interval, check

__all__ = ["FLAG_DEFAULTS", "FLAG_COLUMNS", "add_flags", "check_thresholds", "flag_columns"]

#: Documented defaults of the reliability flags (see :func:`add_flags`).
FLAG_DEFAULTS: dict[str, float] = {"min_n": 30, "max_cv": 0.3, "min_n_eff": 30, "min_cell": 10}

#: The columns :func:`add_flags` adds (in this order).
FLAG_COLUMNS = ("cv", "flag_n", "flag_cv", "flag_n_eff", "suppress", "flag")

_NON_NEGATIVE = {"min_n": Interval(0, None, "left", example=30),
                 "max_cv": Interval(0, None, "left", example=0.3),
                 "min_n_eff": Interval(0, None, "left", example=30),
                 "min_cell": Interval(0, None, "left", example=10)}


def check_thresholds(fn: str, min_n: float = 30, max_cv: float = 0.3,
                     min_n_eff: float | None = 30, min_cell: float = 10) -> dict[str, float | None]:
    """Check the flag thresholds a table function was given (one message shape,
    :func:`survey.validation.check`) and return them as keyword arguments of :func:`add_flags`.

    Examples
    --------
    >>> check_thresholds("crosstab", min_cell=5)["min_cell"]
    5
    >>> check_thresholds("crosstab", min_cell=-1)
    Traceback (most recent call last):
    ...
    survey.errors.EstimationError: crosstab: min_cell=-1 must be a number >= 0 (e.g. min_cell=10)
    """
    vals = {"min_n": min_n, "max_cv": max_cv, "min_n_eff": min_n_eff, "min_cell": min_cell}
    for name, v in vals.items():
        if v is None and name == "min_n_eff":
            continue
        check(fn, name, v, _NON_NEGATIVE[name])
    return vals


def add_flags(frame: pd.DataFrame, min_n: int = 30, max_cv: float = 0.3,
              min_n_eff: float | None = 30, min_cell: int = 10) -> pd.DataFrame:
    """Add reliability and disclosure flag columns to an estimate frame.

    Parameters
    ----------
    frame : DataFrame
        An estimator's output with ``estimate``, ``se`` and ``n`` (unweighted respondents in the
        base of the estimate); optional ``n_cell`` (unweighted respondents in the numerator, e.g.
        the cell of a crosstab; defaults to ``n``) and ``n_eff`` (effective sample size).
    min_n : int, default 30
        ``flag_n`` is set when the unweighted base ``n`` is below ``min_n``.
    max_cv : float, default 0.3
        ``flag_cv`` is set when the coefficient of variation ``se / |estimate|`` exceeds it
        (also when the estimate is 0 with a positive SE).
    min_n_eff : float or None, default 30
        ``flag_n_eff`` is set when ``n_eff`` is below it; ``None`` disables the flag.
    min_cell : int, default 10
        ``suppress`` (the disclosure rule, :func:`survey.privacy.disclosure_mask`) is set when
        the unweighted base ``n`` is below ``min_cell`` (a small domain, e.g. 3 respondents with
        one title; an empty base ``n == 0`` too) or the cell count ``n_cell`` is above 0 and
        below ``min_cell``.  A zero cell (``n_cell == 0``) over a large enough base is *not*
        suppressed: it discloses nobody and stays distinguishable from a hidden cell.

    Returns
    -------
    DataFrame
        A copy with ``cv, flag_n, flag_cv, flag_n_eff, suppress`` and ``flag`` (any of the
        reliability flags) added or overwritten.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"estimate": [10.0], "se": [4.0], "n": [8], "n_eff": [5.0]})
    >>> add_flags(f, min_n=5, min_cell=5).loc[0, ["flag_cv", "suppress"]].tolist()
    [True, False]
    """
    for k in ("estimate", "se", "n"):
        if k not in frame.columns:
            raise EstimationError(f"add_flags: the frame has no {k!r} column; pass an estimator's "
                                  "output (estimate, se, n, ...)")
    check_thresholds("add_flags", min_n, max_cv, min_n_eff, min_cell)
    cols = flag_columns(frame["estimate"], frame["se"], frame["n"],
                        frame["n_cell"] if "n_cell" in frame.columns else None,
                        frame["n_eff"] if "n_eff" in frame.columns else None,
                        min_n=min_n, max_cv=max_cv, min_n_eff=min_n_eff, min_cell=min_cell)
    out = frame.copy()
    for k, v in cols.items():
        out[k] = v
    return out


def flag_columns(estimate: Any, se: Any, n: Any, n_cell: Any = None, n_eff: Any = None, *,
                 min_n: float = 30, max_cv: float = 0.3, min_n_eff: float | None = 30,
                 min_cell: float = 10) -> dict[str, np.ndarray]:
    """The flag columns of :func:`add_flags` as arrays (``cv, flag_n, flag_cv, flag_n_eff,
    suppress, flag``), for estimators that assemble their frame in one constructor.

    The rules are those of :func:`add_flags` (which calls this function); thresholds are not
    re-checked here (see :func:`check_thresholds`).

    Examples
    --------
    >>> flag_columns([0.5], [0.2], [20], [4], None, min_cell=10)["suppress"].tolist()
    [True]
    """
    est = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    n = np.asarray(n, dtype=float)
    cell = None if n_cell is None else np.asarray(n_cell, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(est != 0, se / np.abs(est), np.where(se > 0, np.inf, 0.0))
    flag_n = n < min_n
    flag_cv = np.nan_to_num(cv, nan=0.0) > max_cv
    if min_n_eff is not None and n_eff is not None:
        flag_ne = np.nan_to_num(np.asarray(n_eff, dtype=float), nan=np.inf) < min_n_eff
    else:
        flag_ne = np.zeros(len(est), dtype=bool)
    return dict(zip(FLAG_COLUMNS, (cv, flag_n, flag_cv, flag_ne, disclosure_mask(n, cell, min_cell),
                                   flag_n | flag_cv | flag_ne)))
