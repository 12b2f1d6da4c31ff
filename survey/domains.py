"""One domain coder: integer codes and the level table of one or more by variables.

Every ``by=`` of the package (estimators, tables, trends) codes its domains here, through
:meth:`survey.SurveyDesign.domain_index` (which caches the codes per design data).  Levels follow
the category order of a Categorical and sorted values otherwise; only combinations present in
the data are kept; a row with a missing by value gets code ``-1``.

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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import DesignError
from .variance import codes

__all__ = ["domain_index"]


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
