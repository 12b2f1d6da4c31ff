"""The one multiplicity rule of every published table that marks a result as significant.

Rule (stated in each report's methods and in each table's footnote, :data:`RULE_ZH`): the
tests shown in one table are one family; their p-values are adjusted by **Holm's step-down
method** (family-wise error rate at α = 1 − confidence level, 0.05 by default); a result is
marked (``†``, the heatmap's frame, a 要点 line) only when its adjusted p-value is below α, and
the table shows the adjusted p-value beside the raw one.  Confidence intervals stay unadjusted
(per-comparison) intervals.

Holm controls the family-wise error rate under any dependence between the tests (as
Bonferroni does) and rejects at least as much as Bonferroni.  Benjamini–Hochberg (false
discovery rate) is available for analyses that ask for it (``method="bh"``); the published
report uses Holm.

Every table that marks significance calls :func:`adjust_pvalues` (or :func:`holm_significant`);
no module keeps its own copy.

Examples
--------
>>> import numpy as np
>>> p_adj, sig = holm_significant(np.array([0.001, 0.014, 0.03, 0.2]))
>>> p_adj.round(3).tolist(), sig.tolist()
([0.004, 0.042, 0.06, 0.2], [True, True, False, False])
"""
from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .validation import Options, check

__all__ = ["adjust_pvalues", "holm_significant", "METHOD", "METHOD_NAMES", "RULE_ZH", "rule_note"]

#: The adjustment every published table uses.
METHOD = "holm"
METHOD_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg", "fdr_bh": "Benjamini–Hochberg"}
#: The rule as the methods sections state it.
RULE_ZH = ("多重比较：同一张表中的检验视为一族，p 值按 Holm 逐步法校正（族错误率 α = 0.05）；"
           "表中同时列出原始 p 值与校正后 p 值，只有校正后 p < 0.05 的结果标注“†”（或列入要点）。"
           "置信区间为未校正的逐项区间。")


def adjust_pvalues(p: np.ndarray, method: str = METHOD) -> np.ndarray:
    """Holm (family-wise) or Benjamini–Hochberg (false discovery rate) adjusted p-values.

    NaN p-values (tests not done, e.g. suppressed cells) are left out of the family and stay NaN.

    Parameters
    ----------
    p : array of float
        Raw p-values of one family of tests.
    method : {"holm", "bh"}
        ``"fdr_bh"`` is accepted for ``"bh"``.

    Returns
    -------
    ndarray
        Adjusted p-values, same shape, capped at 1.

    Raises
    ------
    ParameterError
        Unknown method.

    Examples
    --------
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03]), "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03]), "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    >>> adjust_pvalues(np.array([0.01, np.nan])).tolist()
    [0.01, nan]
    """
    check("adjust_pvalues", "method", method, Options(tuple(METHOD_NAMES)), error=ParameterError)
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    o = np.argsort(q, kind="stable")
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * q[o])
    else:
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1)) * q[o][::-1])[::-1]
    res = np.empty(m)
    res[o] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def holm_significant(p: np.ndarray, alpha: float = 0.05, method: str = METHOD
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(adjusted p, significant)`` of one family under the report's rule (NaN: not significant).

    Examples
    --------
    >>> holm_significant(np.array([0.014] + [0.5] * 11))[1].any()   # one p = 0.014 among 12
    np.False_
    """
    adj = adjust_pvalues(p, method)
    return adj, np.nan_to_num(adj, nan=1.0) < alpha


def rule_note(n_tests: int, alpha: float = 0.05, method: str = METHOD) -> str:
    """The footnote of a table marking significance: the rule and the size of its family.

    Examples
    --------
    >>> rule_note(12)
    '† 表示按 Holm 法对本表 12 项检验作多重比较校正后 p < 0.05；未标注的变化或差异可能来自抽样误差。'
    """
    return (f"† 表示按 {METHOD_NAMES[method]} 法对本表 {n_tests} 项检验作多重比较校正后 p < {alpha:.2g}；"
            "未标注的变化或差异可能来自抽样误差。")
