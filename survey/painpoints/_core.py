"""Estimation for ranked (top-k) and capped multi-select pain-point questions.

Every quantity here is a ratio of weighted totals ``T_y / T_a`` (``y`` an item indicator or a
position score, ``a`` the indicator of having answered, restricted to a domain).  Variances:

* linearisation designs: the influence values ``(y - r a) / T_a`` go to the design's variance
  engine ``survey.variance.vcov_totals`` (strata, PSUs, fpc, calibration residualisation), so the
  full covariance of all ratios (items × groups × measures) comes from one call;
* replicate designs: the ratios are recomputed under every replicate weight column and combined
  with the design's replicate formula (``replicate_estimates`` / ``replicate_vcov``).

The single-design point estimates and SEs of :func:`summarize` come from
:func:`survey.tables.ranked` (another module's estimator: no duplicate code path); contrasts
that ``tables`` does not offer (a group against everyone else, wave-to-wave changes) use
:func:`_ratios` below, which is the same estimator.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import EstimationError, ParameterError
from ..multiplicity import adjust_pvalues, holm_significant  # the report's one rule (re-exported)
from ..variance import degf_domains, replicate_estimates, replicate_vcov, tcrit, vcov_totals
from ..privacy import disclosure_mask

__all__ = ["RankItems", "rank_items", "summarize", "rank_uncertainty", "group_differences",
           "top_by_group", "priority_matrix", "drivers", "wave_change", "adjust_pvalues",
           "MEASURES", "DEFAULT_GROUPS", "driver_covariates"]

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
# ratios of totals with their joint covariance
# ----------------------------------------------------------------------------------------------
def _ratios(design: Any, Y: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratios ``sum w Y_j / sum w A_j`` and their design covariance (m × m)."""
    Y = np.asarray(Y, float)
    A = np.asarray(A, float)
    w = np.asarray(design.weights, float)
    Ty, Ta = w @ Y, w @ A
    with np.errstate(divide="ignore", invalid="ignore"):
        r = Ty / Ta
    if design.is_replicate:
        def fn(W: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (W.T @ Y) / (W.T @ A)
        theta, thetas = replicate_estimates(design, fn)
        thetas = np.where(np.isnan(thetas) & np.isnan(theta)[None, :], 0.0, thetas)
        V = replicate_vcov(design.replicates, np.nan_to_num(theta), thetas)
        return r, V
    with np.errstate(divide="ignore", invalid="ignore"):
        U = (Y - np.nan_to_num(r)[None, :] * A) / np.where(Ta > 0, Ta, np.inf)[None, :]
    return r, vcov_totals(design, U)


def _tcrit(level: float, df: float) -> float:
    if not 0 < level < 1:
        raise ParameterError(f"level={level!r} must lie strictly between 0 and 1 (e.g. 0.95)")
    return float(tcrit(level, df))


def _group_codes(design: Any, var: Any) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (−1 = missing) and levels of a group variable, or of a crossed group given
    as a tuple of columns (levels ``"a×b"``)."""
    data = design.data
    if isinstance(var, (tuple, list)):
        parts = [_group_codes(design, v) for v in var]
        key = np.zeros(len(data), np.int64)
        bad = np.zeros(len(data), bool)
        for c, lv in parts:
            key = key * (len(lv) + 1) + np.where(c >= 0, c, 0)
            bad |= c < 0
        sizes = [len(lv) for _, lv in parts]
        import itertools
        combos = list(itertools.product(*[range(n) for n in sizes]))
        lut = {}
        for i, combo in enumerate(combos):
            kk = 0
            for c, n in zip(combo, sizes):
                kk = kk * (n + 1) + c
            lut[kk] = i
        codes = np.where(bad, -1, pd.Series(key).map(lut).fillna(-1).to_numpy(np.int64))
        levels = ["×".join(str(parts[j][1][c]) for j, c in enumerate(combo)) for combo in combos]
        return codes, levels
    if var not in data.columns:
        raise EstimationError(f"group variable {var!r} is not a column of the data")
    s = data[var]
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy().astype(np.int64)
        levels = list(s.cat.categories)
    else:
        codes, uniq = pd.factorize(s, sort=True)
        levels = list(uniq)
    return codes, levels


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
        _, V = _ratios(design, Yw, np.repeat(a[:, None], Y.shape[1], axis=1))
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


def _group_stats(design: Any, it: RankItems, var: Any, measure: str, level: float) -> pd.DataFrame:
    """Every level × item of one by-variable at once: the group's estimate and SE, the rest's
    estimate, the difference (group − rest) and its SE, the group's design df and counts.

    One variance call per by-variable: the influence values of the ``L × K`` group ratios and
    of the ``L × K`` differences go to ``survey.variance.vcov_totals`` together (replicate
    designs: one pass over the replicate weights), whatever the number of levels and items.
    Rows are level-major (level 0 items 0..K−1, level 1 ...); levels without respondents
    (in the design's domain) are kept with ``n_all == 0``.
    """
    Y = it.indicators(measure)
    w = np.asarray(design.weights, float)
    dom = design.domain
    inside = np.ones(len(w), bool) if dom is None else np.asarray(dom, bool)
    a = it.answered & (w > 0) & inside
    n, K = Y.shape
    codes, levels = _group_codes(design, var)
    L = len(levels)
    ok = a & (codes >= 0)
    G = (codes[:, None] == np.arange(L)[None, :]) & ok[:, None]        # n × L
    Rm = (~G) & ok[:, None]
    # numerators / denominators: [group g item j] then [rest g item j]
    Yg = (G[:, :, None] * Y[:, None, :]).reshape(n, L * K)
    Yr = (Rm[:, :, None] * Y[:, None, :]).reshape(n, L * K)
    Tg, Tr = np.repeat(w @ G, K), np.repeat(w @ Rm, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_g = (w @ Yg) / np.where(Tg > 0, Tg, np.nan)
        r_r = (w @ Yr) / np.where(Tr > 0, Tr, np.nan)
    if design.is_replicate:
        def fn(W: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                g = (W.T @ Yg) / np.repeat(W.T @ G, K, axis=-1)
                return np.concatenate([g, g - (W.T @ Yr) / np.repeat(W.T @ Rm, K, axis=-1)], axis=-1)
        th, ths = replicate_estimates(design, fn)
        v = np.diag(replicate_vcov(design.replicates, np.nan_to_num(th), np.nan_to_num(ths)))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            Ug = (Yg - np.nan_to_num(r_g) * np.repeat(G, K, axis=1)) / np.where(Tg > 0, Tg, np.inf)
            Ur = (Yr - np.nan_to_num(r_r) * np.repeat(Rm, K, axis=1)) / np.where(Tr > 0, Tr, np.inf)
        # lonely-PSU presence (uncalibrated designs): a group's ratio lives in the group's
        # strata (as survey.tables does for by= domains); the difference in the whole domain
        in_group = (codes[:, None] == np.arange(L)[None, :]) & inside[:, None]
        present = np.concatenate([np.repeat(in_group, K, axis=1),
                                  np.repeat(inside[:, None], L * K, axis=1)], axis=1)
        v = np.diag(vcov_totals(design, np.concatenate([Ug, Ug - Ur], axis=1), present))
    se = np.sqrt(np.clip(v, 0, None))
    # the group's own degrees of freedom (PSUs − strata among its answering members)
    dfg = np.repeat(np.asarray(degf_domains(design, np.where(ok, codes, -1), L), float), K)
    gi = (codes[:, None] == np.arange(L)[None, :]) & inside[:, None]
    return pd.DataFrame({
        "variable": var if isinstance(var, str) else "×".join(var),
        "level": np.repeat(np.array(levels, dtype=object), K),
        "item": np.tile(np.array(it.labels, dtype=object), L),
        "code": np.tile(np.array(it.codes, dtype=object), L),
        "est_group": r_g, "se_group": se[:L * K], "est_rest": r_r, "diff": r_g - r_r,
        "se": se[L * K:], "df_group": dfg,
        "n_group": np.repeat(G.sum(axis=0), K),
        "n_answered": np.repeat((gi & it.answered[:, None]).sum(axis=0), K),
        "n_all": np.repeat(gi.sum(axis=0), K),
        "n_cell": (G[:, :, None] & (Y[:, None, :] > 0)).sum(axis=0).ravel()})


def _by_list(design: Any, by: Any, questionnaire: Any = None) -> list[Any]:
    """*by* as a list; without it the questionnaire's ``design.groups`` present in the data."""
    if by is None:
        q = questionnaire or getattr(design, "questionnaire", None)
        groups = list(getattr(getattr(q, "design", None), "groups", None) or [])
        by = [c for c in groups if c in design.data.columns]
        if not by:
            raise ParameterError("no subgroups: pass by=[...] or a questionnaire whose design.groups "
                                 "names the group questions")
    return [by] if isinstance(by, (str, tuple)) else list(by)


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
    _tcrit(level, float(design.df))
    stats_ = [_group_stats(design, it, var, measure, level)
              for var in _by_list(design, by, questionnaire)]
    return _differences_frame(stats_, float(design.df), measure, correction, alpha, level, min_cell)


def _differences_frame(stats_: list[pd.DataFrame], df: float, measure: str, correction: str,
                       alpha: float, level: float, min_cell: int,
                       hidden: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The tests of :func:`group_differences` from :func:`_group_stats` frames (*hidden*:
    ``{variable: levels}`` a report hides everywhere, suppressed here as well)."""
    out = pd.concat(stats_, ignore_index=True)
    out = out[out["n_group"] > 0].reset_index(drop=True)
    dfg = np.clip(out["df_group"].to_numpy(float), 1, max(df, 1))
    diff, se = out["diff"].to_numpy(float), out["se"].to_numpy(float)
    tg = stats.t.ppf(0.5 + level / 2, dfg)
    with np.errstate(divide="ignore", invalid="ignore"):
        tv = diff / se
    p = 2 * stats.t.sf(np.abs(tv), dfg)
    # a group where nobody (or everybody) chose the item has a degenerate linearised SE:
    # not testable
    n_cell, n_group = out["n_cell"].to_numpy(), out["n_group"].to_numpy()
    degenerate = (n_cell == 0) | (n_cell == n_group) if measure != "score" else (n_cell == 0)
    p = np.where(degenerate | ~np.isfinite(tv), np.nan, p)
    out = pd.DataFrame({
        "variable": out["variable"], "level": out["level"], "item": out["item"], "code": out["code"],
        "est_group": out["est_group"], "est_rest": out["est_rest"], "diff": diff, "se": se,
        "ci_low": diff - tg * se, "ci_high": diff + tg * se, "t": tv, "p": p, "df": dfg,
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
    by_cols = _by_list(design, by, questionnaire)
    stats_ = [_group_stats(design, it, var, "pct_top", level) for var in by_cols]
    return _top_frame(design, it, by_cols, stats_, top, level, min_cell)


def _point_by_group(design: Any, it: RankItems, var: Any, measure: str) -> np.ndarray:
    """Group ratios of *measure* (level-major, as :func:`_group_stats`); NaN for a multi-select's
    rank measures."""
    if it.kind == "multi" and measure != "pct_top":
        codes, levels = _group_codes(design, var)
        return np.full(len(levels) * len(it.labels), np.nan)
    Y = it.indicators(measure)
    w = np.asarray(design.weights, float)
    dom = design.domain
    a = it.answered & (w > 0) & (np.ones(len(w), bool) if dom is None else np.asarray(dom, bool))
    codes, levels = _group_codes(design, var)
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


def _top_frame(design: Any, it: RankItems, by_cols: list[Any], stats_: list[pd.DataFrame],
               top: int, level: float, min_cell: int,
               hidden: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """:func:`top_by_group` from the pct_top :func:`_group_stats` frames (*hidden* as in
    :func:`_differences_frame`)."""
    from ..estimate import prop_ci

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
    r, V = _ratios(design, Y, A)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    t = _tcrit(level, float(design.df))
    nsev = (Asev > 0).sum(axis=0)
    out = pd.DataFrame({"item": it.labels, "code": it.codes,
                        "prevalence": r[:K], "prevalence_low": r[:K] - t * se[:K],
                        "prevalence_high": r[:K] + t * se[:K],
                        "severity": r[K:], "severity_low": r[K:] - t * se[K:],
                        "severity_high": r[K:] + t * se[K:], "n_severity": nsev,
                        "paired_with": paired})
    out["suppressed"] = nsev < min_cell
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


# ----------------------------------------------------------------------------------------------
# drivers
# ----------------------------------------------------------------------------------------------
def _with_columns(design: Any, cols: Mapping[str, Any]) -> Any:
    """The same design with extra (row-aligned) columns in its data (design is immutable)."""
    return design.assign(**{k: np.asarray(v) for k, v in cols.items()})


def driver_covariates(questionnaire: Any, columns: Any = None) -> list[str]:
    """The covariates of :func:`drivers` by default: the questionnaire's ``report.drivers``,
    else its ``design.groups`` (those among *columns* when given; none without a questionnaire).

    Examples
    --------
    >>> from survey.questionnaire import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "design": {"groups": ["g"]}, "questions": [
    ...     {"id": "g", "text": "组", "type": "single", "options": {1: "a", 2: "b"}}]})
    >>> driver_covariates(q)
    ['g']
    """
    if questionnaire is None:
        return []
    roles = getattr(questionnaire, "report", None)
    cov = list(getattr(roles, "drivers", None) or questionnaire.design.groups or [])
    return [c for c in cov if columns is None or c in set(columns)]


def drivers(design: Any, qid: str | Sequence[str], outcome: str, *,
            covariates: Sequence[str] | None = None,
            family: str | None = None, positive: Sequence[Any] | None = None,
            k: int | None = None, questionnaire: Any = None, level: float = 0.95,
            items: Sequence[Any] | None = None) -> pd.DataFrame:
    """Adjusted effects of each pain point on an outcome (design-based GLM, R's ``svyglm``).

    The model is ``outcome ~ chose_item_1 + ... + chose_item_K + C(covariate) ...`` fitted with
    :meth:`SurveyDesign.glm` among respondents who answered the pain-point question.  A
    numeric/ordinal outcome (e.g. ``sat_overall`` 1–5; labels are mapped to their codes through
    the questionnaire) uses the gaussian family; with ``positive=`` the outcome becomes the
    indicator of those levels (e.g. ``leave_intent`` in ``[3, 4]`` = intends to leave) and the
    family is binomial (effects reported as odds ratios too).

    Returns
    -------
    DataFrame
        ``term, item, estimate, se, ci_low, ci_high, p, effect, effect_low, effect_high,
        effect_scale, outcome, n`` — one row per pain point then the covariate terms;
        ``effect`` is the coefficient (gaussian) or the odds ratio (binomial).  When every
        respondent chose the same number of items the least chosen item is the reference
        (left out; named in ``frame.attrs["reference"]``): the effects are relative to it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from survey import SurveyDesign
    >>> rng = np.random.default_rng(0)
    >>> c = rng.random((400, 2)) < 0.4
    >>> df = pd.DataFrame({"p_1": pd.array(np.where(c[:, 0], 1, pd.NA), dtype="Int64"),
    ...                    "p_2": pd.array(np.where(c[:, 1], 2, pd.NA), dtype="Int64")})
    >>> df["y"] = 3 - 1.0 * c[:, 0] + rng.normal(0, 0.5, 400)
    >>> d = drivers(SurveyDesign(df[c.any(axis=1)].reset_index(drop=True)), "p", "y", covariates=())
    >>> round(float(d.loc[d.item == "1", "estimate"].iloc[0]), 1)
    -1.0
    """
    questionnaire = questionnaire or getattr(design, "questionnaire", None)
    it = rank_items(design, qid, k, questionnaire=questionnaire)
    data = design.data
    if covariates is None:
        covariates = driver_covariates(questionnaire, data.columns)
    if outcome not in data.columns:
        raise EstimationError(f"drivers: outcome {outcome!r} is not a column of the data")
    s = data[outcome]
    if isinstance(s.dtype, pd.CategoricalDtype):
        lab = questionnaire.labels(outcome) if (questionnaire is not None and outcome in questionnaire) else None
        if lab:
            inv = {v: c for c, v in lab.items()}
            y = s.astype(object).map(inv).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            y = np.where(s.isna(), np.nan, s.cat.codes.to_numpy() + 1.0)
    else:
        y = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    if positive is not None:
        y = np.where(np.isnan(y), np.nan, np.isin(y, np.asarray(positive, float)).astype(float))
        family = family or "binomial"
    family = family or "gaussian"
    top = it.indicators("pct_top")
    sel = list(range(len(it.codes))) if items is None else [it.codes.index(c) for c in items]
    reference = None
    chosen = top[it.answered][:, sel].sum(axis=1)
    if len(sel) > 1 and len(chosen) and np.ptp(chosen) == 0:
        # everyone chose the same number of items (a forced "exactly k"): the indicators sum to
        # a constant, collinear with the intercept; the least chosen item becomes the reference
        j = min(sel, key=lambda c: float(top[it.answered][:, c].sum()))
        sel = [c for c in sel if c != j]
        reference = it.labels[j]
    names = {f"_pp{j}": it.labels[j] for j in sel}
    cols = {nm: np.where(it.answered, top[:, j], np.nan) for nm, j in zip(names, sel)}
    cols["_y"] = y
    d2 = _with_columns(design, cols)
    d2 = d2.subset(it.answered)
    for c in covariates:
        if c not in data.columns:
            raise EstimationError(f"drivers: covariate {c!r} is not a column of the data")
    rhs = " + ".join([*names, *[f"C({c})" for c in covariates]])
    res = d2.glm(f"_y ~ {rhs}", family=family, level=level)
    f = res.to_frame()
    f = f[f["term"] != "Intercept"].reset_index(drop=True)
    f["item"] = f["term"].map(names)
    if family in ("binomial", "quasibinomial"):
        f["effect"], f["effect_low"], f["effect_high"] = (np.exp(f["estimate"]), np.exp(f["ci_low"]),
                                                          np.exp(f["ci_high"]))
        f["effect_scale"] = "odds ratio"
    else:
        f["effect"], f["effect_low"], f["effect_high"] = f["estimate"], f["ci_low"], f["ci_high"]
        f["effect_scale"] = "difference in mean"
    f["outcome"] = outcome if positive is None else f"{outcome} in {list(positive)}"
    f["n"] = res.nobs
    f["family"] = family
    f["term"] = f["term"].map(lambda t: names.get(t, t))
    f = pd.concat([f[f["item"].notna()], f[f["item"].isna()]], ignore_index=True)
    f = f[["term", "item", "estimate", "se", "ci_low", "ci_high", "p", "effect", "effect_low",
           "effect_high", "effect_scale", "outcome", "family", "n"]]
    f.attrs = {"reference": reference}
    return f


# ----------------------------------------------------------------------------------------------
# change between two independent waves
# ----------------------------------------------------------------------------------------------
def _wave_estimates(design: Any, it: RankItems, measure: str, masks: list[np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates (len(masks) × K, flattened mask-major), covariance and bases."""
    Y = it.indicators(measure)
    a = it.answered & (np.asarray(design.weights) > 0)
    K = Y.shape[1]
    Ys, As, ns = [], [], []
    for m in masks:
        am = (a & m).astype(float)
        Ys.append(Y * am[:, None])
        As.append(np.repeat(am[:, None], K, axis=1))
        ns.append(np.full(K, int((a & m).sum())))
    r, V = _ratios(design, np.column_stack(Ys), np.column_stack(As))
    return r, V, np.concatenate(ns)


def _mask_for(design: Any, groups: Mapping[str, Sequence[Any]] | None) -> np.ndarray:
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
    ib = rank_items(design_before, qid, k, questionnaire=questionnaire)
    ia = rank_items(design_after, qid, k, questionnaire=questionnaire_after or questionnaire)
    rb, Vb, nb = _wave_estimates(design_before, ib, measure, [_mask_for(design_before, groups)])
    ra, Va, na = _wave_estimates(design_after, ia, measure, [_mask_for(design_after, groups)])
    common = [lab for lab in ia.labels if lab in ib.labels]
    jb = [ib.labels.index(x) for x in common]
    ja = [ia.labels.index(x) for x in common]
    ch = ra[ja] - rb[jb]
    se = np.sqrt(np.clip(np.diag(Va)[ja] + np.diag(Vb)[jb], 0, None))
    df = float(min(design_before.df, design_after.df))
    t = _tcrit(level, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(ch / se), df)
    mde = (t + stats.norm.ppf(power)) * se
    out = pd.DataFrame({"item": common, "before": rb[jb], "after": ra[ja], "change": ch, "se": se,
                        "ci_low": ch - t * se, "ci_high": ch + t * se, "p": p, "mde": mde,
                        "n_before": nb[jb], "n_after": na[ja], "measure": measure})
    out["suppressed"] = (out["n_before"] < min_cell) | (out["n_after"] < min_cell)
    # the table's family: every published (non-suppressed) item; Holm, as every report table
    p_fam = np.where(out["suppressed"].to_numpy(bool), np.nan, out["p"].to_numpy(float))
    out["p_adj"], out["significant"] = holm_significant(p_fam, 1 - level)
    return out
