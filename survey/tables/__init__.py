"""Report tables under the survey design: crosstabs with Rao–Scott tests, multi-select, ranked,
Likert blocks, scale scores, contrasts of domain estimates, and reliability flags.

Every estimate here is a *ratio of weighted totals* ``T_a / T_b`` (a plain total when there is no
denominator): a cell percentage, a row percentage, the share of respondents choosing an option, a
mean score.  So one path serves all of them::

    question / columns --(crosstab.py, multi.py, scales.py, contrast.py)--> Z, num, den
        Z: n x m per-respondent values (zero outside the domain; a domain keeps the full design)
    _core.ratio_estimates --> survey.estimates.Estimates  (estimate, covariance, df, n, deff)
        linearisation: survey.variance.ratio_influence + vcov_totals
        replicate designs: survey.variance.replicate_estimates + replicate_vcov
    _core.table_frame --> the Estimates.frame() columns + n_cell, df + the flag columns of
        flags.add_flags (the one disclosure rule, survey.privacy.disclosure_mask)

Modules: :mod:`~survey.tables.crosstab` (two-way tables and the Rao–Scott tests, R's
``svychisq``), :mod:`~survey.tables.multi` (multi / ranked / likert), :mod:`~survey.tables.scales`
(scale_score, cronbach_alpha), :mod:`~survey.tables.contrast` (contrasts of domain means,
``Estimates.contrast``), :mod:`~survey.tables.flags` (add_flags); ``_core`` holds the shared
machinery.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from survey.tables import add_flags
>>> f = pd.DataFrame({"estimate": [0.5, 0.02], "se": [0.05, 0.01], "n": [400, 12],
...                   "n_eff": [200.0, 6.0]})
>>> add_flags(f)[["flag_n", "flag_cv", "flag_n_eff", "suppress"]].values.tolist()
[[False, False, False, False], [True, True, True, False]]
"""
from __future__ import annotations

from .contrast import contrast
from .crosstab import CrossTab, RaoScottResult, crosstab, rao_scott
from .flags import FLAG_DEFAULTS, add_flags
from .multi import likert, multi, rank_weights, ranked
from .scales import ScaleScore, cronbach_alpha, scale_score

__all__ = [
    "add_flags",
    "crosstab",
    "CrossTab",
    "rao_scott",
    "RaoScottResult",
    "multi",
    "ranked",
    "likert",
    "scale_score",
    "ScaleScore",
    "cronbach_alpha",
    "contrast",
    "rank_weights",
    "FLAG_DEFAULTS",
]
