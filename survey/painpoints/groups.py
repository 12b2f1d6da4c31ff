"""Groups: each group against everyone else (:func:`group_differences`) and each group's top
items (:func:`top_by_group`).

Both start from :func:`survey.painpoints._core.group_stats` (one covariance per by-variable; the
differences are contrasts of the group and rest ratios); :func:`differences_frame` and
:func:`top_frame` turn those frames into the published tables (the brief calls them on one
shared pass).  Tests and intervals come from :class:`survey.estimates.Estimates`, small cells
from :func:`survey.privacy.disclosure_mask` (the rule of every published table).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..estimates import Estimates, prop_ci
from ..multiplicity import adjust_pvalues
from ..privacy import disclosure_mask
from ..validation import check_level
from ._core import RankItems, by_list, group_codes, group_stats, rank_items

__all__ = ["group_differences", "top_by_group", "differences_frame", "top_frame"]


def group_differences(design: Any, qid: str | Sequence[str], by: str | Sequence[str] | None = None,
                      *, k: int | None = None, measure: str = "pct_top",
                      correction: str = "holm", alpha: float = 0.05, level: float = 0.95,
                      min_cell: int = 10, weights: Any = None, questionnaire: Any = None) -> pd.DataFrame:
    """Which groups differ from everyone else beyond chance, item by item.

    For every level ``g`` of every ``by`` variable and every item: ``est_group − est_rest``
    (the group against all other respondents), its design-based SE (the two estimates are
    correlated within PSUs: the difference's influence values go to the variance engine), a t
    test on the group's design df, and the p-value adjusted over *all* tests of the call
    (``correction="holm"``: family-wise error; ``"bh"``: Benjamini–Hochberg false discovery
    rate).  The correction is named in the ``correction`` column and in ``frame.attrs``.
    All levels × items of one by-variable share one variance computation.

    ``by`` lists group variables (default: the questionnaire's ``design.groups`` present in the
    data); a tuple inside it is a crossed ("declared") group, e.g.
    ``by=["age_group", ("title", "unit_type")]`` compares 副高×高等院校 with everyone else.

    Returns
    -------
    DataFrame
        ``variable, level, item, code, est_group, est_rest, diff, se, ci_low, ci_high, t, p, df,
        p_adj, significant, direction, n_group, n_cell, suppressed, correction, measure``.
        Rows whose group base is below ``min_cell`` are ``suppressed`` and never significant;
        ``df`` is the group's own design df (PSUs − strata among its members, between 1 and
        the design df); a group where nobody or everybody chose the item is not tested
        (its linearised SE is degenerate).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(0)
    >>> g = rng.choice(["a", "b"], 600)
    >>> first = np.where(rng.random(600) < np.where(g == "a", 0.8, 0.3), 1, 2)
    >>> df = pd.DataFrame({"g": g, "p_1": pd.array(np.where(first == 1, 1, 2), dtype="Int64"),
    ...                    "p_2": pd.array(np.where(first == 2, 1, 2), dtype="Int64")})
    >>> gd = group_differences(SurveyDesign(df), "p", by="g", measure="pct_first")
    >>> bool(gd.loc[(gd.level == "a") & (gd.item == "1"), "significant"].iloc[0])
    True
    """
    if correction not in ("holm", "bh", "fdr_bh"):
        raise ParameterError(f"group_differences: correction={correction!r} must be 'holm' "
                             "(family-wise error) or 'bh' (Benjamini–Hochberg false discovery rate)")
    it = rank_items(design, qid, k, weights=weights, questionnaire=questionnaire)
    check_level("group_differences", level, error=ParameterError)
    stats_ = [group_stats(design, it, var, measure, level)
              for var in by_list(design, by, questionnaire)]
    return differences_frame(stats_, float(design.df), measure, correction, alpha, level, min_cell)


def differences_frame(stats_: list[pd.DataFrame], df: float, measure: str, correction: str,
                      alpha: float, level: float, min_cell: int,
                      hidden: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The tests of :func:`group_differences` from :func:`~survey.painpoints._core.group_stats`
    frames (*hidden*: ``{variable: levels}`` a report hides everywhere, suppressed here as well).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> from survey.painpoints._core import group_stats
    >>> df = pd.DataFrame({"g": list("aabbab"), "p_1": pd.array([1, 1, None, 2, 1, 1], dtype="Int64"),
    ...                    "p_2": pd.array([None, 2, 1, 1, None, 2], dtype="Int64")})
    >>> d = SurveyDesign(df)
    >>> gs = [group_stats(d, rank_items(d, "p"), "g", "pct_top")]
    >>> differences_frame(gs, float(d.df), "pct_top", "holm", 0.05, 0.95, 1)["diff"].round(3).tolist()
    [0.333, -0.667, -0.333, 0.667]
    """
    out = pd.concat(stats_, ignore_index=True)
    out = out[out["n_group"] > 0].reset_index(drop=True)
    dfg = np.clip(out["df_group"].to_numpy(float), 1, max(df, 1))
    e = Estimates(out["diff"].to_numpy(float), se=out["se"].to_numpy(float), df=dfg, level=level)
    diff, se = e.estimate, e.se
    ci = e.conf_int(level)
    tt = e.test()
    tv, p = tt["t"].to_numpy(float), tt["p"].to_numpy(float)
    # a group where nobody (or everybody) chose the item has a degenerate linearised SE:
    # not testable
    n_cell, n_group = out["n_cell"].to_numpy(), out["n_group"].to_numpy()
    degenerate = (n_cell == 0) | (n_cell == n_group) if measure != "score" else (n_cell == 0)
    p = np.where(degenerate | ~np.isfinite(tv), np.nan, p)
    out = pd.DataFrame({
        "variable": out["variable"], "level": out["level"], "item": out["item"], "code": out["code"],
        "est_group": out["est_group"], "est_rest": out["est_rest"], "diff": diff, "se": se,
        "ci_low": ci[:, 0], "ci_high": ci[:, 1], "t": tv, "p": p, "df": dfg,
        "n_group": n_group, "n_cell": n_cell})
    out["suppressed"] = disclosure_mask(out["n_group"].to_numpy(), out["n_cell"].to_numpy(), min_cell) \
        | _is_hidden(out, hidden)
    p = np.where(out["suppressed"], np.nan, out["p"].to_numpy(float))
    out["p_adj"] = adjust_pvalues(p, correction)
    out["significant"] = np.nan_to_num(out["p_adj"].to_numpy(float), nan=1.0) < alpha
    out["direction"] = np.where(~out["significant"], "", np.where(out["diff"] > 0, "higher", "lower"))
    name = {"holm": "Holm", "bh": "Benjamini–Hochberg", "fdr_bh": "Benjamini–Hochberg"}[correction]
    out["correction"] = f"{name} 校正（共 {int(np.isfinite(p).sum())} 项检验，显著性水平 {alpha:g}）"
    out["measure"] = measure
    out.attrs["correction"] = out["correction"].iloc[0] if len(out) else name
    return out


def top_by_group(design: Any, qid: str | Sequence[str], by: str | Sequence[str] | None = None, *,
                 top: int = 3, k: int | None = None, questionnaire: Any = None,
                 level: float = 0.95, min_cell: int = 10) -> pd.DataFrame:
    """Each group's ``top`` items by % choosing (any rank), with CIs; suppressed groups kept.

    The intervals are the report's (as :func:`summarize`: logit, Korn–Graubard where n_eff < 30).

    The same estimates as :func:`summarize` with ``by=`` (domain ratios, linearised SEs, the
    group's design df), computed for all levels × items of a by-variable in one variance call.
    Groups follow the category order of the by-variable; a tuple in ``by`` is a crossed group.

    Returns
    -------
    DataFrame
        ``variable, level, rank, item, pct_top, pct_top_low, pct_top_high, pct_first, score, n,
        suppressed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> df = pd.DataFrame({"g": list("aabb"), "p_1": pd.array([1, 1, None, 2], dtype="Int64"),
    ...                    "p_2": pd.array([None, 2, 1, 1], dtype="Int64")})
    >>> top_by_group(SurveyDesign(df), "p", by="g", top=1, min_cell=1)["item"].tolist()
    ['1', '2']
    """
    it = rank_items(design, qid, k, questionnaire=questionnaire)
    by_cols = by_list(design, by, questionnaire)
    stats_ = [group_stats(design, it, var, "pct_top", level) for var in by_cols]
    return top_frame(design, it, by_cols, stats_, top, level, min_cell)


def _point_by_group(design: Any, it: RankItems, var: Any, measure: str) -> np.ndarray:
    """Group ratios of *measure* (level-major, as :func:`~survey.painpoints._core.group_stats`);
    NaN for a multi-select's rank measures."""
    if it.kind == "multi" and measure != "pct_top":
        codes, levels = group_codes(design, var)
        return np.full(len(levels) * len(it.labels), np.nan)
    Y = it.indicators(measure)
    w = np.asarray(design.weights, float)
    dom = design.domain
    a = it.answered & (w > 0) & (np.ones(len(w), bool) if dom is None else np.asarray(dom, bool))
    codes, levels = group_codes(design, var)
    L = len(levels)
    G = ((codes[:, None] == np.arange(L)[None, :]) & a[:, None]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((G * w[:, None]).T @ Y / (w @ G)[:, None]).ravel()


def _is_hidden(frame: pd.DataFrame, hidden: Mapping[str, Any] | None) -> np.ndarray:
    """Rows whose (variable, level) is among the *hidden* levels of that variable."""
    if not hidden:
        return np.zeros(len(frame), bool)
    var = frame["variable"].astype(str).to_numpy()
    lev = frame["level"].astype(str).to_numpy()
    return np.array([lv in set(map(str, hidden.get(v, ()))) for v, lv in zip(var, lev)], bool)


def top_frame(design: Any, it: RankItems, by_cols: list[Any], stats_: list[pd.DataFrame],
              top: int, level: float, min_cell: int,
               hidden: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """:func:`top_by_group` from the pct_top :func:`~survey.painpoints._core.group_stats` frames
    (*hidden* as in :func:`differences_frame`).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> from survey.painpoints._core import group_stats
    >>> df = pd.DataFrame({"g": list("aabb"), "p_1": pd.array([1, 1, None, 2], dtype="Int64"),
    ...                    "p_2": pd.array([None, 2, 1, 1], dtype="Int64")})
    >>> d = SurveyDesign(df)
    >>> it = rank_items(d, "p")
    >>> top_frame(d, it, ["g"], [group_stats(d, it, "g", "pct_top")], 1, 0.95, 1)["item"].tolist()
    ['1', '2']
    """
    frames = []
    for var, s in zip(by_cols, stats_):
        s = s[s["n_all"] > 0]
        K = len(it.labels)
        est = s["est_group"].to_numpy(float)
        se = s["se_group"].to_numpy(float)
        lo, hi = prop_ci(est, se, s["df_group"].to_numpy(float), s["n_answered"].to_numpy(float),
                          level, "published")  # as summarize()
        f = pd.DataFrame({"variable": s["variable"], "level": s["level"], "item": s["item"],
                          "pct_top": est, "pct_top_low": lo, "pct_top_high": hi})
        keep = s.index.to_numpy()
        f["pct_first"] = _point_by_group(design, it, var, "pct_first")[keep]
        f["score"] = _point_by_group(design, it, var, "score")[keep]
        f["n"] = s["n_answered"].to_numpy(np.int64)
        f["suppressed"] = disclosure_mask(f["n"].to_numpy(), None, min_cell) | _is_hidden(f, hidden)
        f["_lv"] = np.arange(len(f)) // K
        f = f.sort_values(["_lv", "pct_top"], ascending=[True, False], kind="stable")
        f["rank"] = f.groupby("_lv").cumcount() + 1
        frames.append(f[f["rank"] <= top])
    out = pd.concat(frames, ignore_index=True)
    return out[["variable", "level", "rank", "item", "pct_top", "pct_top_low", "pct_top_high",
                "pct_first", "score", "n", "suppressed"]]


