"""Summaries of a pain-point question: :func:`summarize` (shares and scores, over
:func:`survey.tables.ranked`), :func:`rank_uncertainty` (how certain the ranking is) and
:func:`priority_matrix` (prevalence × severity).

Ratios and their covariance come from :func:`survey.comparisons.ratio_estimates` (the
variance core); intervals from :class:`survey.estimates.Estimates`; small cells from
:func:`survey.privacy.disclosure_mask`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..privacy import disclosure_mask
from ..validation import check_level
from ..comparisons import ratio_estimates
from ._core import MEASURES, rank_items

__all__ = ["summarize", "rank_uncertainty", "priority_matrix"]


# ----------------------------------------------------------------------------------------------
# summaries
# ----------------------------------------------------------------------------------------------
def _published_shares(long: pd.DataFrame, level: float) -> pd.DataFrame:
    """The pct_top / pct_first rows of a tables.multi/ranked frame with the published interval."""
    from ..estimate import proportion_ci

    pr = long["measure"].isin(["pct_top", "pct_first"]).to_numpy()
    return proportion_ci(long, "published", level=level, rows=pr) if pr.any() else long


def summarize(design: Any, qid: str | Sequence[str], k: int | None = None, weights: Any = None,
              by: str | Sequence[str] | None = None, *, questionnaire: Any = None,
              level: float = 0.95, min_cell: int = 10) -> pd.DataFrame:
    """% choosing each item at any rank, % ranking it first, and the position-weighted score.

    Thin layer over :func:`survey.tables.ranked` (same estimator, same SEs): one row per
    (group, item) with the three measures side by side, ranked by ``pct_top``.

    Parameters
    ----------
    design : SurveyDesign
    qid : str or list of str
        Ranked (``Int64`` rank columns) or capped multi-select (boolean columns) question.
    k : int, optional
        Top-k (default the question's k).
    weights : sequence or mapping, optional
        Scores of ranks 1..k; default ``k − rank + 1``.
    by : str or list of str, optional
        Domains (each a domain of the full design).
    questionnaire : Questionnaire, optional
        Columns and option labels of ``qid``.
    level : float
        Confidence level.
    min_cell : int
        Rows whose base (respondents in the group who answered) is below it, or whose count of
        respondents choosing the item is 1 to ``min_cell - 1``, get ``suppressed == True`` (the
        one rule of :func:`survey.privacy.disclosure_mask`; ``flag`` from
        :func:`survey.tables.add_flags`).

    Returns
    -------
    DataFrame
        ``item, code, rank, pct_top, pct_top_se, pct_top_low, pct_top_high, pct_first(_se/_low/
        _high), score(_se/_low/_high), n, n_cell, deff, flag, suppressed, k`` (+ by columns).
        Shares are proportions (0–1); ``score`` is mean points per answerer.  The shares'
        intervals follow the report's rule (:data:`survey.estimate.PUBLISHED_CI_RULE`: logit,
        Korn–Graubard where n_eff < 30), so they are asymmetric; ``score`` keeps the t interval.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"p_1": pd.array([1, 2, None, 1], dtype="Int64"),
    ...                    "p_2": pd.array([2, 1, 1, None], dtype="Int64")})
    >>> s = summarize(SurveyDesign(df), "p", k=2)
    >>> s[["item", "pct_top", "pct_first", "score"]].round(3).values.tolist()
    [['1', 0.75, 0.5, 1.25], ['2', 0.75, 0.5, 1.25]]
    """
    from ..tables import ranked, multi

    it = rank_items(design, qid, k, weights=weights, questionnaire=questionnaire)
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if it.kind == "multi":
        long = multi(design, it.columns, by=by, level=level, min_cell=min_cell)
        long = long[long["measure"] == "pct"].assign(measure="pct_top")
    else:
        w = None if weights is None else list(it.rank_weights[1:])
        long = ranked(design, it.columns, k=it.k, weights=w, by=by, level=level, min_cell=min_cell)
    long = _published_shares(long, level)
    lab = dict(zip(it.columns, it.labels))
    code = dict(zip(it.columns, it.codes))
    long = long.assign(item=long["option"].map(lab), code=long["option"].map(code))
    keys = [*by_cols, "item"]
    out = None
    for m in MEASURES:
        part = long[long["measure"] == m]
        if part.empty:
            continue
        part = part[[*keys, "code", "estimate", "se", "ci_low", "ci_high", "n", "n_cell", "deff", "flag"]]
        part = part.rename(columns={"estimate": m, "se": f"{m}_se", "ci_low": f"{m}_low",
                                    "ci_high": f"{m}_high"})
        if out is None:
            out = part.rename(columns={"n_cell": "n_cell"})
        else:
            out = out.merge(part[[*keys, m, f"{m}_se", f"{m}_low", f"{m}_high"]], on=keys, how="left")
    assert out is not None
    for m in MEASURES:
        if m not in out:
            out[m] = out[f"{m}_se"] = out[f"{m}_low"] = out[f"{m}_high"] = np.nan
    out["suppressed"] = disclosure_mask(out["n"].to_numpy(), out["n_cell"].to_numpy(), min_cell)
    out["k"] = it.k
    out["question"] = it.qid
    if by_cols:
        out = out.sort_values([*by_cols, "pct_top"], ascending=[True] * len(by_cols) + [False],
                              kind="stable")
        out["rank"] = out.groupby(by_cols, observed=True).cumcount() + 1
    else:
        out = out.sort_values("pct_top", ascending=False, kind="stable")
        out["rank"] = np.arange(1, len(out) + 1)
    cols = [*by_cols, "rank", "item", "code"] + [f"{m}{s}" for m in MEASURES
                                                 for s in ("", "_se", "_low", "_high")]
    cols += ["n", "n_cell", "deff", "flag", "suppressed", "k", "question"]
    out = out[cols].reset_index(drop=True)
    out.attrs["level"] = level
    return out


def rank_uncertainty(design: Any, qid: str | Sequence[str], k: int | None = None, *,
                     measure: str = "pct_top", top: int = 3, replicates: int = 200,
                     method: str = "auto", seed: int | None = 0, weights: Any = None,
                     questionnaire: Any = None, level: float = 0.95) -> pd.DataFrame:
    """How certain is the ranking?  Rank intervals and the share of replicates in the top ``top``.

    The items are re-ranked under every replicate weight: the design's own replicate weights,
    or (linearisation designs) ``replicates`` bootstrap replicates of the PSUs within strata
    (R's ``bootweights``; ``method="bootstrap"``).  ``method="normal"`` instead draws the item
    estimates from their joint normal approximation (linearised covariance) — the choice for
    jackknife replicate designs, whose replicates vary too little to re-rank.

    Number of replicates: ``p_top`` and ``p_first`` are shares of ``replicates`` draws, so
    their Monte Carlo standard error is ``sqrt(p (1 − p) / replicates)`` — at most
    ``0.5 / sqrt(200) = 0.035`` with the default 200 (at ``p = 0.5``), ``0.015`` near the
    ``p_top >= 0.95`` the brief calls "stable", 0 at 0 or 1.  Rank intervals at the 95 % level
    rest on the 2.5 % tails (5 draws each at 200).  Drawing and re-ranking 200 replicates takes
    0.1–0.3 s on the demo wave (12,000 respondents), so the default is not lowered.

    Returns
    -------
    DataFrame
        ``item, estimate, rank, rank_low, rank_high`` (the ``level`` interval of the replicate
        ranks), ``p_first`` (share of replicates where the item ranks first), ``p_top`` (share
        where it is in the top ``top``), ``method, replicates``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(1)
    >>> r = np.argsort(rng.random((300, 3)) + [0.0, 0.3, 0.6], axis=1)   # item 3 ranked least often first
    >>> df = pd.DataFrame({f"p_{j+1}": pd.array(r[:, j] + 1, dtype="Int64") for j in range(3)})
    >>> df["c"] = np.arange(300) // 10
    >>> u = rank_uncertainty(SurveyDesign(df, psu="c"), "p", measure="pct_first", top=1, seed=1)
    >>> u["item"].tolist()[0]
    '1'
    """
    it = rank_items(design, qid, k, weights=weights, questionnaire=questionnaire)
    Y = it.indicators(measure)
    a = it.answered.astype(float)
    Yw = Y * a[:, None]
    w = np.asarray(design.weights, float)
    est = (w @ Yw) / (w @ a)
    if method == "auto":
        rep_type = getattr(getattr(design, "_rep", None), "type", None) \
            if design.is_replicate else None
        method = "replicate" if design.is_replicate and rep_type == "bootstrap" else (
            "normal" if design.is_replicate else "bootstrap")
    if method == "bootstrap":
        if design.is_replicate:
            method = "replicate"
        else:
            # a domain (a region's report: ``design.subset``) keeps the full design, as R's
            # subset: the PSUs are resampled within the strata of the whole sample and the
            # replicate weights are then zeroed outside the domain
            dom = design.domain
            base = design if dom is None else design._replace(_domain=None)
            rd = base.replicate("bootstrap", replicates=replicates, seed=seed)
            W = np.asarray(rd.repweights)
            if dom is not None:
                W = W * dom[:, None]
            th = (W.T @ Yw) / (W.T @ a)[:, None]
    if method == "replicate":
        W = np.asarray(design.repweights)
        th = (W.T @ Yw) / (W.T @ a)[:, None]
    elif method == "normal":
        V = ratio_estimates(design, Yw, np.repeat(a[:, None], Y.shape[1], axis=1)).cov
        rng = np.random.default_rng(seed)
        th = rng.multivariate_normal(est, V, size=replicates, method="eigh")
    elif method != "bootstrap":
        raise ParameterError(f"rank_uncertainty: method={method!r} must be 'auto', 'bootstrap', "
                             "'replicate' or 'normal'")
    # rank 1 = largest; ties broken by the full-sample order
    order0 = np.argsort(-est, kind="stable")
    ranks_full = np.empty(len(est), int)
    ranks_full[order0] = np.arange(1, len(est) + 1)
    key = -th + 1e-12 * ranks_full[None, :]
    rk = np.argsort(np.argsort(key, axis=1, kind="stable"), axis=1) + 1
    lo, hi = np.quantile(rk, [(1 - level) / 2, 1 - (1 - level) / 2], axis=0, method="inverted_cdf")
    out = pd.DataFrame({"item": it.labels, "code": it.codes, "measure": measure, "estimate": est,
                        "rank": ranks_full, "rank_low": lo.astype(int), "rank_high": hi.astype(int),
                        "p_first": (rk == 1).mean(axis=0), "p_top": (rk <= top).mean(axis=0),
                        "top": top, "method": method, "replicates": th.shape[0]})
    return out.sort_values("rank").reset_index(drop=True)



# ----------------------------------------------------------------------------------------------
# severity: priority matrix
# ----------------------------------------------------------------------------------------------
def _severe_indicator(design: Any, column: str, severe: Sequence[Any],
                      questionnaire: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(valid, severe) boolean arrays for a single-choice/likert severity item."""
    s = design.data[column]
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = list(s.cat.categories)
        labs = set()
        lab_of = questionnaire.labels(column) if (questionnaire is not None and column in questionnaire) else {}
        for v in severe:
            if v in cats:
                labs.add(v)
            elif v in lab_of:
                labs.add(lab_of[v])
            else:
                raise ParameterError(f"severe level {v!r} is neither a label of {column!r} "
                                     f"({cats}) nor a code of it")
        valid = s.notna().to_numpy() & ~s.isin([c for c in cats if str(c) in ("不知道", "拒答")]).to_numpy()
        sev = s.isin(list(labs)).to_numpy()
    else:
        v = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        valid = ~np.isnan(v)
        sev = np.isin(v, np.asarray(severe, float))
    return valid, sev & valid


def priority_matrix(design: Any, qid: str | Sequence[str], severity: str, severe: Sequence[Any], *,
                    among: str = "first", pairs: Mapping[Any, tuple[str, Sequence[Any]]] | None = None,
                    k: int | None = None, questionnaire: Any = None, level: float = 0.95,
                    split: str = "median", min_cell: int = 10) -> pd.DataFrame:
    """Prevalence × severity (dissatisfaction) of each pain point, with quadrants.

    ``prevalence`` is the share choosing the item (any rank).  ``severity`` is the share giving a
    ``severe`` answer to the paired item among respondents who chose the pain point
    (``among="first"``: ranked it first — the demo's ``pain_severity`` asks about the first one;
    ``"top"``: chose it at any rank).  ``pairs`` overrides the pairing per item code:
    ``{code: (column, severe_levels)}`` (e.g. ``{1: ("sat_r1", [1, 2])}``: dissatisfied with
    income among those naming 收入待遇偏低).

    Quadrants split at the median (``split="median"``) or mean of the items:
    ``优先解决`` (high, high), ``广泛关注`` (high prevalence, lower severity), ``少数严重`` (low
    prevalence, high severity), ``持续观察``.

    Returns
    -------
    DataFrame
        ``item, code, prevalence(_low/_high), severity(_low/_high), n_severity, paired_with,
        quadrant, suppressed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"p_1": pd.array([1, 1, 2, 1], dtype="Int64"),
    ...                    "p_2": pd.array([2, 2, 1, None], dtype="Int64"), "sev": [5, 4, 1, 2]})
    >>> pm = priority_matrix(SurveyDesign(df), "p", "sev", [4, 5], min_cell=1)
    >>> pm[["item", "severity"]].round(3).values.tolist()
    [['1', 0.667], ['2', 0.0]]
    """
    check_level("priority_matrix", level, error=ParameterError)
    questionnaire = questionnaire or getattr(design, "questionnaire", None)
    it = rank_items(design, qid, k, questionnaire=questionnaire)
    top = it.indicators("pct_top")
    base = it.indicators("pct_first") if (among == "first" and it.kind == "rank") else top
    if among not in ("first", "top"):
        raise ParameterError(f"priority_matrix: among={among!r} must be 'first' or 'top'")
    a = it.answered.astype(float)
    K = len(it.labels)
    Ysev = np.zeros((len(a), K))
    Asev = np.zeros((len(a), K))
    paired = []
    for j, code in enumerate(it.codes):
        col, sv = (pairs or {}).get(code, (severity, severe))
        valid, sev = _severe_indicator(design, col, sv, questionnaire)
        Asev[:, j] = base[:, j] * valid
        Ysev[:, j] = base[:, j] * sev
        paired.append(col)
    Y = np.column_stack([top * a[:, None], Ysev])
    A = np.column_stack([np.repeat(a[:, None], K, axis=1), Asev])
    e = ratio_estimates(design, Y, A, level=level)
    r, ci = e.estimate, e.conf_int(level)
    nsev = (Asev > 0).sum(axis=0)
    out = pd.DataFrame({"item": it.labels, "code": it.codes,
                        "prevalence": r[:K], "prevalence_low": ci[:K, 0], "prevalence_high": ci[:K, 1],
                        "severity": r[K:], "severity_low": ci[K:, 0], "severity_high": ci[K:, 1],
                        "n_severity": nsev, "paired_with": paired})
    # the one disclosure rule: the severity's base (respondents who chose the item and answered
    # the paired question) below min_cell
    out["suppressed"] = disclosure_mask(nsev, None, min_cell)
    f = np.nanmedian if split == "median" else np.nanmean
    use = ~out["suppressed"].to_numpy()
    xs = float(f(out.loc[use, "prevalence"])) if use.any() else np.nan
    ys = float(f(out.loc[use, "severity"])) if use.any() else np.nan
    hi_x = out["prevalence"].to_numpy() >= xs
    hi_y = out["severity"].to_numpy() >= ys
    out["quadrant"] = np.select([hi_x & hi_y, hi_x & ~hi_y, ~hi_x & hi_y],
                                ["优先解决", "广泛关注", "少数严重"], "持续观察")
    out.loc[out["suppressed"], "quadrant"] = "样本不足"
    out.attrs.update(split_prevalence=xs, split_severity=ys, among=among, split=split)
    return out


