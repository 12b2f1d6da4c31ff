"""Option codes of an analysis-frame column (shared by the 问卷星 and SPSS writers)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SchemaMismatchError
from ..questionnaire import Question

__all__ = ["codes_of"]


def codes_of(series: pd.Series, qu: Question) -> np.ndarray:
    """Integer codes (-1 = NA) of a single-choice column given as labels or codes."""
    labels = qu.labels
    lab2code = {l: c for c, l in labels.items()}
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        unknown = [c for c in cats if c not in lab2code and c not in labels]
        if unknown:
            raise SchemaMismatchError(f"column {series.name!r}: categories {unknown} are not labels "
                                      f"of question {qu.id!r}; recode them or fix the questionnaire")
        m = np.array([lab2code.get(c, c if c in labels else -1) for c in cats] + [-1], dtype=np.int64)
        return m[np.where(series.cat.codes.to_numpy() < 0, len(cats), series.cat.codes.to_numpy())]
    vals = series.to_numpy(dtype=object)
    out = np.full(len(vals), -1, dtype=np.int64)
    for i, v in enumerate(vals):  # only used for non-categorical input (small frames)
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            continue
        if v in lab2code:
            out[i] = lab2code[v]
        elif isinstance(v, (int, np.integer, float)) and int(v) in labels:
            out[i] = int(v)
        else:
            raise SchemaMismatchError(f"column {series.name!r}: value {v!r} is not an option of "
                                      f"question {qu.id!r}")
    return out
