"""The pain-point question as matrices, and the estimation machinery every analysis shares.

Every quantity of :mod:`survey.painpoints` is a ratio of weighted totals ``T_y / T_a`` (``y`` an
item indicator or a position score, ``a`` the indicator of having answered, restricted to a
domain).  :func:`survey.comparisons.ratio_estimates` returns such ratios as one :class:`survey.estimates.Estimates`
(full covariance, degrees of freedom) through the variance core:

* linearisation designs: the influence values of :func:`survey.variance.ratio_influence` go to
  :func:`survey.variance.vcov_totals` (strata, PSUs, fpc, calibration residualisation), so the
  covariance of all ratios (items × groups × measures) comes from one call;
* replicate designs: the ratios are recomputed under every replicate weight column and combined
  with the design's replicate formula (``replicate_estimates`` / ``replicate_vcov``).

:func:`group_stats` (every level × item against everyone else) needs only each ratio's 2 × 2
covariance with its rest: it goes through :func:`survey.comparisons.ratio_blocks` (the same
linearisation and variance core, from a sparse basis, diagonal blocks only).

Differences (a group against everyone else), changes between waves and the policy
difference-in-differences are contrasts of those estimates (:meth:`Estimates.contrast`).  Groups
are coded by the package's one domain coder (:meth:`survey.SurveyDesign.domain_index`).

The modules of the package: :mod:`.summary` (summarize, rank_uncertainty, priority_matrix),
:mod:`.groups` (group_differences, top_by_group), :mod:`.drivers`, :mod:`.waves` (wave_change),
:mod:`.policy`, :mod:`.brief`, :mod:`.checklist`, :mod:`.text`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..comparisons import ratio_blocks
from ..errors import EstimationError, ParameterError
from ..variance import degf_domains

__all__ = ["RankItems", "rank_items", "MEASURES", "DEFAULT_GROUPS", "group_codes", "by_list", "mask_for",
           "group_stats"]

#: The three summaries of a ranked question (``pct_top`` is "% choosing at any rank").
MEASURES = ("pct_top", "pct_first", "score")
#: No built-in subgroups: without ``by=`` the groups are the questionnaire's ``design.groups``
#: (kept as an empty tuple for code that imported the name).
DEFAULT_GROUPS: tuple[str, ...] = ()


# ----------------------------------------------------------------------------------------------
# the question as matrices
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankItems:
    """A ranked/multi question resolved against a design's data.

    ``R`` is ``n × K`` ranks (NaN = not chosen; a multi-select's chosen options get rank 1 and
    ``kind == "multi"``); ``answered`` marks respondents with any choice.
    """

    qid: str
    columns: list[str]
    codes: list[Any]
    labels: list[str]
    R: np.ndarray
    answered: np.ndarray
    k: int
    kind: str
    rank_weights: np.ndarray  # index 0 unused: score of rank r

    def indicators(self, measure: str) -> np.ndarray:
        """``n × K`` values whose answerer mean is ``measure`` (0 for non-answerers)."""
        Ri = np.nan_to_num(self.R, nan=0.0).astype(np.int64)
        if measure == "pct_top":
            return ((Ri >= 1) & (Ri <= self.k)).astype(float)
        if measure == "pct_first":
            if self.kind == "multi":
                raise EstimationError(f"{self.qid!r} is a multi-select question: it has no first "
                                      "choice; use measure='pct_top'")
            return (Ri == 1).astype(float)
        if measure == "score":
            if self.kind == "multi":
                raise EstimationError(f"{self.qid!r} is a multi-select question: no position "
                                      "score; use measure='pct_top'")
            return np.where((Ri >= 1) & (Ri <= self.k), self.rank_weights[np.clip(Ri, 0, self.k)], 0.0)
        raise ParameterError(f"measure={measure!r} is not one of {MEASURES}")


def _rank_weights(weights: Any, k: int) -> np.ndarray:
    from ..tables import rank_weights

    return rank_weights(weights, k, "painpoints", error=ParameterError)


def rank_items(design: Any, qid: str | Sequence[str], k: int | None = None, *,
               weights: Any = None, questionnaire: Any = None,
               labels: Mapping[Any, str] | None = None) -> RankItems:
    """Resolve a ranked (or capped multi-select) question into matrices.

    Parameters
    ----------
    design : SurveyDesign
    qid : str or list of str
        Question id (columns ``{qid}_{code}``, found through ``questionnaire`` or by name) or an
        explicit column list.
    k : int, optional
        Top-k cut-off (default: the question's ``k``, else the largest rank observed).
    weights : sequence or mapping, optional
        Score of rank 1..k (default ``k − rank + 1``).
    questionnaire : Questionnaire, optional
        Gives the columns and option labels.
    labels : mapping, optional
        Code -> label when there is no questionnaire.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"p_1": pd.array([1, 2, None], dtype="Int64"),
    ...                    "p_2": pd.array([None, 1, 1], dtype="Int64")})
    >>> it = rank_items(SurveyDesign(df), "p", labels={1: "住房", 2: "收入"})
    >>> it.labels, it.k, it.indicators("score").tolist()
    (['住房', '收入'], 2, [[2.0, 0.0], [1.0, 2.0], [0.0, 2.0]])
    """
    data = design.data
    qq = None
    if questionnaire is None:
        questionnaire = getattr(design, "questionnaire", None)
    if isinstance(qid, str):
        name = qid
        if questionnaire is not None and qid in questionnaire:
            qq = questionnaire[qid]
            cols = list(questionnaire.columns(qid))
            lab = questionnaire.labels(qid)
            codes = list(lab)
            cols = [c for c in cols if not c.endswith("_other")]
            labs = [str(lab[c]) for c in codes]
        else:
            pat = re.compile(rf"^{re.escape(qid)}_(\d+)$")
            found = [(int(m.group(1)), c) for c in data.columns if (m := pat.match(str(c)))]
            if not found:
                raise EstimationError(
                    f"question {qid!r}: no columns {qid}_<code> in the data; pass "
                    "questionnaire=Questionnaire.load(...) or the column list")
            found.sort()
            codes = [c for c, _ in found]
            cols = [c for _, c in found]
            labs = [str((labels or {}).get(c, c)) for c in codes]
    else:
        cols = list(qid)
        name = ",".join(cols[:2]) + ("..." if len(cols) > 2 else "")
        codes = list(cols)
        labs = [str((labels or {}).get(c, c)) for c in cols]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise EstimationError(f"question {name!r}: columns {missing[:5]} are not in the data")
    blocks = []
    kind = "rank"
    for c in cols:
        s = data[c]
        if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
            kind = "multi"
            v = s.astype("boolean").to_numpy(dtype=float, na_value=np.nan)
            blocks.append(np.where(v == 1, 1.0, np.where(v == 0, np.nan, np.nan)))
        else:
            try:
                v = pd.to_numeric(s, errors="raise").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise EstimationError(f"question {name!r}: column {c!r} (dtype {s.dtype}) is not a "
                                      "rank (Int64) or multi-select (boolean) column") from None
            blocks.append(v)
    R = np.column_stack(blocks)
    if kind == "multi":
        answered = np.column_stack([data[c].notna().to_numpy() for c in cols]).any(axis=1)
        k = k or (getattr(qq, "max_choices", None) or len(cols))
    else:
        fin = R[~np.isnan(R)]
        if ((fin < 1) | (fin != np.round(fin))).any():
            raise EstimationError(f"question {name!r}: ranks must be 1, 2, ... (NA = not chosen); "
                                  "recode export values such as -2 to NA first")
        answered = ~np.isnan(R).all(axis=1)
        if k is None:
            k = (getattr(qq, "k", None) if qq is not None else None) or (int(fin.max()) if len(fin) else 1)
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ParameterError(f"k={k!r} must be a positive integer")
    return RankItems(name, cols, codes, labs, R, answered, int(k), kind,
                     _rank_weights(weights, int(k)))




# ----------------------------------------------------------------------------------------------
# groups
# ----------------------------------------------------------------------------------------------
def group_codes(design: Any, var: Any) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (−1 = missing) and levels of a group variable, or of a crossed group given
    as a tuple of columns (levels ``"a×b"``), from the design's one domain coder
    (:meth:`survey.SurveyDesign.domain_index`: category order, combinations present in the data).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 1, 2]}))
    >>> c, lv = group_codes(d, ("a", "b"))
    >>> c.tolist(), lv
    ([0, 2, 1], ['x×1', 'x×2', 'y×1'])
    """
    cols = list(var) if isinstance(var, (tuple, list)) else [var]
    for c in cols:
        if c not in design.data.columns:
            raise EstimationError(f"group variable {c!r} is not a column of the data")
    codes, lev = design.domain_index(cols)
    if len(cols) == 1:
        return codes, list(lev[cols[0]])
    parts = [lev[c].astype(object).map(str).to_numpy() for c in cols]
    return codes, ["×".join(p) for p in zip(*parts)]


def by_list(design: Any, by: Any, questionnaire: Any = None) -> list[Any]:
    """*by* as a list; without it the questionnaire's ``design.groups`` present in the data.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> by_list(SurveyDesign(pd.DataFrame({"g": [1, 2]})), ["g", ("g", "h")])
    ['g', ('g', 'h')]
    """
    if by is None:
        q = questionnaire or getattr(design, "questionnaire", None)
        groups = list(getattr(getattr(q, "design", None), "groups", None) or [])
        by = [c for c in groups if c in design.data.columns]
        if not by:
            raise ParameterError("no subgroups: pass by=[...] or a questionnaire whose design.groups "
                                 "names the group questions")
    return [by] if isinstance(by, (str, tuple)) else list(by)


def mask_for(design: Any, groups: Mapping[str, Sequence[Any]] | None) -> np.ndarray:
    """Rows whose value of every variable of *groups* is among its levels (all rows without).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> mask_for(SurveyDesign(pd.DataFrame({"g": ["a", "b", "c"]})), {"g": ["a", "c"]}).tolist()
    [True, False, True]
    """
    data = design.data
    m = np.ones(len(data), bool)
    for var, levels in (groups or {}).items():
        if var not in data.columns:
            raise EstimationError(f"group variable {var!r} is not a column of the data")
        lv = [levels] if isinstance(levels, str) else list(levels)
        s = data[var]
        if isinstance(s.dtype, pd.CategoricalDtype):
            unknown = [x for x in lv if x not in list(s.cat.categories)]
            if unknown:
                raise ParameterError(f"group {var}: levels {unknown} are not categories of {var!r} "
                                     f"({list(s.cat.categories)})")
        m &= s.astype(object).isin(lv).to_numpy()
    return m


def group_stats(design: Any, it: RankItems, var: Any, measure: str, level: float = 0.95) -> pd.DataFrame:
    """Every level × item of one by-variable at once: the group's estimate and SE, the rest's
    estimate, the difference (group − rest) and its SE, the group's design df and counts.

    The ``L × K`` group ratios and the ``L × K`` ratios of everyone else are one
    :func:`~survey.comparisons.ratio_blocks` call on a sparse basis (the group's item and
    answered indicators, everyone's); only the 2 × 2 covariance of each group ratio with its
    rest is formed, and the difference's variance is the contrast ``group − rest`` of it.  Rows are
    level-major (level 0 items 0..K−1, level 1 ...), for the levels present in the data (a
    level without respondents in the design's domain has ``n_all == 0``).  Shared by
    :func:`~survey.painpoints.group_differences`, :func:`~survey.painpoints.top_by_group` and
    the brief (one pass per by-variable serves both).
    """
    g = group_rows(design, it, var, measure)
    Y, inside, codes, ok, gi = g.Y, g.inside, g.codes, g.ok, g.gi
    n, K = Y.shape
    L = len(g.levels)
    # basis (sparse): [G_l y_j] level-major, [G_l], [ok y_j], [ok]; a group's numerator is
    # G_l y_j over G_l, everyone else's (ok − G_l) y_j over ok − G_l
    LK = L * K
    ri, cj = np.nonzero(Y * ok[:, None])
    yv = Y[ri, cj]
    oi = np.flatnonzero(ok)
    gl = codes[ri].astype(np.intp)
    Z = sp.csc_matrix((np.concatenate([yv, np.ones(len(oi)), yv, np.ones(len(oi))]),
                       (np.concatenate([ri, oi, ri, oi]),
                        np.concatenate([gl * K + cj, LK + codes[oi], LK + L + cj, np.full(len(oi), LK + L + K)]))),
                      shape=(n, LK + L + K + 1))
    cells = np.arange(LK)
    lev = np.repeat(np.arange(L), K)
    item = np.tile(np.arange(K), L)
    num = sp.csr_matrix((np.concatenate([np.ones(LK), np.ones(LK), -np.ones(LK)]),
                         (np.concatenate([cells, LK + cells, LK + cells]),
                          np.concatenate([cells, LK + L + item, cells]))), shape=(2 * LK, LK + L + K + 1))
    den = sp.csr_matrix((np.concatenate([np.ones(LK), np.ones(LK), -np.ones(LK)]),
                         (np.concatenate([cells, LK + cells, LK + cells]),
                          np.concatenate([LK + lev, np.full(LK, LK + L + K), LK + lev]))),
                        shape=(2 * LK, LK + L + K + 1))
    # lonely-PSU presence (uncalibrated designs): a group's ratio lives in the group's strata
    # (as by= domains do), everyone else's in the whole domain; only each (group, item)'s
    # 2 × 2 covariance with everyone else's is needed
    r, covs = ratio_blocks(design, Z, num, den, np.column_stack([cells, LK + cells]),
                           present=None if design.is_replicate else np.column_stack([gi, inside]),
                           present_of=np.concatenate([lev, np.full(LK, L)]))
    V = np.array(covs).reshape(LK, 2, 2)
    se_g = np.sqrt(np.maximum(V[:, 0, 0], 0.0))
    se_d = np.sqrt(np.maximum(V[:, 0, 0] + V[:, 1, 1] - V[:, 0, 1] - V[:, 1, 0], 0.0))
    return group_frame(design, it, var, g, est_group=r[:LK], se_group=se_g, est_rest=r[LK:],
                       diff=r[:LK] - r[LK:], se=se_d,
                       n_cell=np.bincount(gl[yv > 0] * K + cj[yv > 0], minlength=LK))


@dataclass(frozen=True)
class GroupRows:
    """The respondents :func:`group_stats` compares, one by-variable: item indicators ``Y``
    (n × K), the design's domain ``inside``, the level codes (−1: none) and ``levels``,
    ``ok`` (answered, positive weight, in the domain, with a level), ``gi`` (n × L: level l,
    in the domain) and ``G = gi & ok``."""

    Y: np.ndarray
    inside: np.ndarray
    codes: np.ndarray
    levels: list
    ok: np.ndarray
    gi: np.ndarray
    G: np.ndarray


def group_rows(design: Any, it: RankItems, var: Any, measure: str) -> GroupRows:
    """The rows and indicators of :func:`group_stats` for the by-variable *var*."""
    Y = it.indicators(measure)
    w = np.asarray(design.weights, float)
    dom = design.domain
    inside = np.ones(len(w), bool) if dom is None else np.asarray(dom, bool)
    codes, levels = group_codes(design, var)
    ok = it.answered & (w > 0) & inside & (codes >= 0)
    gi = (codes[:, None] == np.arange(len(levels))[None, :]) & inside[:, None]  # n × L, in the domain
    return GroupRows(Y, inside, codes, list(levels), ok, gi, gi & ok[:, None])


def group_frame(design: Any, it: RankItems, var: Any, g: GroupRows, **stats: np.ndarray) -> pd.DataFrame:
    """:func:`group_stats`'s frame: level-major rows of the levels × items of *g*, the *stats*
    (``est_group, se_group, est_rest, diff, se, n_cell``), the group's design df (PSUs − strata
    among its answering members) and its counts."""
    K, L = g.Y.shape[1], len(g.levels)
    dfg = np.repeat(np.asarray(degf_domains(design, np.where(g.ok, g.codes, -1), L), float), K)
    return pd.DataFrame({
        "variable": var if isinstance(var, str) else "×".join(var),
        "level": np.repeat(np.array(g.levels, dtype=object), K),
        "item": np.tile(np.array(it.labels, dtype=object), L),
        "code": np.tile(np.array(it.codes, dtype=object), L),
        **{k: stats[k] for k in ("est_group", "se_group", "est_rest", "diff", "se")}, "df_group": dfg,
        "n_group": np.repeat(g.G.sum(axis=0), K),
        "n_answered": np.repeat((g.gi & it.answered[:, None]).sum(axis=0), K),
        "n_all": np.repeat(g.gi.sum(axis=0), K),
        "n_cell": stats["n_cell"]})
