"""Changes between independent waves: :func:`wave_change` (every item, after − before, with CI
and minimum detectable change) and the pieces the policy evaluation shares
(:func:`wave_estimates`, :func:`independent`).

Each wave's ratios are one :class:`survey.estimates.Estimates` (design-based covariance); two
waves are independent samples, so their estimates stack block-diagonally and a change (or a
difference-in-differences) is a contrast of the stacked estimates.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..errors import ParameterError
from ..estimates import Estimates
from ..multiplicity import holm_significant
from ..privacy import disclosure_mask
from ..validation import check_level
from ..variance import tcrit
from ..comparisons import ratio_estimates
from ._core import RankItems, mask_for, rank_items

__all__ = ["wave_change", "wave_estimates", "independent"]


def wave_estimates(design: Any, it: RankItems, measure: str, masks: Sequence[np.ndarray],
                   level: float = 0.95) -> Estimates:
    """The item ratios of *measure* within each row mask (``len(masks) × K`` elements,
    mask-major) as one :class:`~survey.estimates.Estimates` on the design's df; ``.n`` holds
    each element's base (answering respondents with a positive weight in the mask).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"p_1": pd.array([1, None, 1, 1], dtype="Int64"),
    ...                                "p_2": pd.array([None, 1, 2, None], dtype="Int64")}))
    >>> e = wave_estimates(d, rank_items(d, "p"), "pct_top", [np.ones(4, bool)])
    >>> e.estimate.tolist(), e.n.tolist()
    ([0.75, 0.5], [4, 4])
    """
    Y = it.indicators(measure)
    a = it.answered & (np.asarray(design.weights) > 0)
    K = Y.shape[1]
    Ys, As, ns = [], [], []
    for m in masks:
        am = (a & m).astype(float)
        Ys.append(Y * am[:, None])
        As.append(np.repeat(am[:, None], K, axis=1))
        ns.append(np.full(K, int((a & m).sum())))
    return ratio_estimates(design, np.column_stack(Ys), np.column_stack(As), level=level,
                           n=np.concatenate(ns))


def independent(*estimates: Estimates) -> Estimates:
    """Estimates of independent samples side by side: the covariance is block-diagonal and each
    element keeps its own df (a contrast then takes the smallest df it uses).

    Examples
    --------
    >>> a, b = Estimates([1.0], var=[1.0], df=[10]), Estimates([3.0], var=[2.0], df=[20])
    >>> c = independent(a, b).contrast([-1, 1])
    >>> float(c.estimate[0]), float(c.var[0]), float(c.df[0])
    (2.0, 3.0, 10.0)
    """
    return Estimates(np.concatenate([e.estimate for e in estimates]),
                     linalg.block_diag(*[e.cov for e in estimates]),
                     df=np.concatenate([np.broadcast_to(e.df, e.estimate.shape) for e in estimates]),
                     n=np.concatenate([e.n for e in estimates]), level=estimates[0].level)


def wave_change(design_before: Any, design_after: Any, qid: str | Sequence[str], *,
                measure: str = "pct_top", groups: Mapping[str, Sequence[Any]] | None = None,
                k: int | None = None, questionnaire: Any = None,
                questionnaire_after: Any = None, level: float = 0.95, power: float = 0.8,
                min_cell: int = 10) -> pd.DataFrame:
    """Change of every item between two independent waves (after − before), with CI and MDE.

    The waves are independent samples, so ``Var(change) = Var(before) + Var(after)``; each wave's
    variance is design based.  ``groups`` restricts both waves to a domain (e.g.
    ``{"unit_type": ["科研机构", "高等院校"]}``).  ``mde`` is the minimum detectable change
    (two-sided test at ``1 − level``, power ``power``): ``(t_{1-α/2} + z_{power}) × se``.
    Items are matched by label, so re-coded options across waves still line up.

    Returns
    -------
    DataFrame
        ``item, before, after, change, se, ci_low, ci_high, p, mde, n_before, n_after,
        measure, suppressed, p_adj, significant``: ``p_adj`` is Holm-adjusted over the
        items not suppressed (one family, :mod:`survey.multiplicity`) and ``significant`` is
        ``p_adj < 1 − level``; suppressed items are outside the family (NaN, not significant).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> a = SurveyDesign(pd.DataFrame({"p_1": pd.array([1, None, 1, None], dtype="Int64"),
    ...                                "p_2": pd.array([None, 1, None, 1], dtype="Int64")}))
    >>> b = SurveyDesign(pd.DataFrame({"p_1": pd.array([1, 1, 1, None], dtype="Int64"),
    ...                                "p_2": pd.array([None, None, None, 1], dtype="Int64")}))
    >>> wave_change(a, b, "p", min_cell=1)["change"].tolist()
    [0.25, -0.25]
    """
    check_level("wave_change", level, error=ParameterError)
    ib = rank_items(design_before, qid, k, questionnaire=questionnaire)
    ia = rank_items(design_after, qid, k, questionnaire=questionnaire_after or questionnaire)
    eb = wave_estimates(design_before, ib, measure, [mask_for(design_before, groups)], level)
    ea = wave_estimates(design_after, ia, measure, [mask_for(design_after, groups)], level)
    common = [lab for lab in ia.labels if lab in ib.labels]
    jb = [ib.labels.index(x) for x in common]
    ja = [ia.labels.index(x) for x in common]
    Kb = len(ib.labels)
    L = np.zeros((len(common), Kb + len(ia.labels)))
    L[np.arange(len(common)), jb] = -1.0
    L[np.arange(len(common)), Kb + np.asarray(ja, int)] = 1.0
    both = independent(eb, ea)
    ch = both.contrast(L, common)
    ci = ch.conf_int(level)
    se = ch.se
    mde = (tcrit(level, ch.df) + stats.norm.ppf(power)) * se
    out = pd.DataFrame({"item": common, "before": eb.estimate[jb], "after": ea.estimate[ja],
                        "change": ch.estimate, "se": se, "ci_low": ci[:, 0], "ci_high": ci[:, 1],
                        "p": ch.test()["p"].to_numpy(float), "mde": mde,
                        "n_before": eb.n[jb], "n_after": ea.n[ja], "measure": measure})
    out["suppressed"] = disclosure_mask(out["n_before"].to_numpy(), None, min_cell) \
        | disclosure_mask(out["n_after"].to_numpy(), None, min_cell)
    # the table's family: every published (non-suppressed) item; Holm, as every report table
    p_fam = np.where(out["suppressed"].to_numpy(bool), np.nan, out["p"].to_numpy(float))
    out["p_adj"], out["significant"] = holm_significant(p_fam, 1 - level)
    return out
