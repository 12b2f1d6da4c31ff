"""The shared machinery of the table estimators (private to :mod:`survey.tables`).

Every table estimate is a ratio of weighted totals ``T[num] / T[den]`` (a plain total when there
is no denominator) over a matrix ``Z`` of per-respondent values (indicators of a cell, of
"answered the question", a score ...; zero outside the domain).  :func:`ratio_estimates` turns
it into one :class:`survey.estimates.Estimates` through the variance core:

* linearisation: the influence values of the ratios, :func:`survey.variance.ratio_influence`
  (``(z_num - R z_den) / T_den``), and their covariance :func:`survey.variance.vcov_totals`;
* replicate designs: the ratios are recomputed under every replicate weight
  (:func:`survey.variance.replicate_estimates`) and combined by
  :func:`survey.variance.replicate_vcov` (R's ``svrepdesign``);
* :func:`table_frame` lays it out (the ``Estimates.frame`` columns + ``n_cell``, ``df``) with
  the flag columns of :func:`survey.tables.add_flags`.

By-groups are coded by the one domain coder (:meth:`survey.SurveyDesign.domain_index`, i.e.
:func:`survey.domains.domain_index` cached per design).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import DesignError, EstimationError, SurveyWarning
from ..estimates import Estimates
from ..validation import check_level
from ..variance import (degf, degf_domains, ratio_influence, replicate_estimates, replicate_vcov,
                        vcov_totals)
from .flags import check_thresholds, flag_columns


# ----------------------------------------------------------------------------------------------
# the design as the tables see it
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class View:
    """A design with the weights and domain the table functions read (columns are read with
    ``design.column``, no copy of the data)."""

    design: Any
    w: np.ndarray
    dom: np.ndarray | None
    questionnaire: Any = None

    @property
    def n(self) -> int:
        return len(self.w)

    @property
    def replicate(self) -> bool:
        return self.design.replicates is not None

    @property
    def full(self) -> np.ndarray:
        """The rows of the design's own domain (a subset), as a mask."""
        return np.ones(self.n, dtype=bool) if self.dom is None else self.dom


def view(d: Any, what: str, questionnaire: Any = None) -> View:
    """The :class:`View` of a :class:`~survey.SurveyDesign` (``questionnaire=`` overrides its own)."""
    for attr in ("weights", "stages", "replicates", "domain_index", "column", "columns"):
        if not hasattr(d, attr):
            raise DesignError(f"{what}: expected a SurveyDesign, got {type(d).__name__} "
                              f"(no {attr!r}); build one with survey.SurveyDesign(...)")
    if questionnaire is not None and (not hasattr(questionnaire, "__contains__")
                                      or not hasattr(questionnaire, "__getitem__")):
        raise EstimationError(f"{what}: questionnaire= must be a survey.Questionnaire")
    dom = d.domain
    return View(design=d, w=np.asarray(d.weights, dtype=float), dom=dom,
                questionnaire=questionnaire if questionnaire is not None
                else getattr(d, "questionnaire", None))


def with_questionnaire(v: View, questionnaire: Any) -> View:
    return v if questionnaire is None else replace(v, questionnaire=questionnaire)


def degf_mask(v: View, mask: np.ndarray | None) -> float:
    """Design df of a domain mask (within the design's own subset); ``None``: the design's."""
    if mask is None:
        return float(degf(v.design, v.dom))
    return float(degf(v.design, mask if v.dom is None else (mask & v.dom)))


def degf_codes(v: View, codes: np.ndarray, D: int) -> np.ndarray:
    """Design df of the domains ``codes == 0..D-1`` (``-1`` = in none), vectorised."""
    return np.asarray(degf_domains(v.design, codes if v.dom is None else np.where(v.dom, codes, -1),
                                   D), dtype=float)


# ----------------------------------------------------------------------------------------------
# ratios of totals -> Estimates
# ----------------------------------------------------------------------------------------------
def ratio_estimates(v: View, Z: np.ndarray, num: np.ndarray, den: np.ndarray, base: np.ndarray, *,
                    df: np.ndarray | float, level: float,
                    cell: np.ndarray | None = None, present: np.ndarray | None = None,
                    A: np.ndarray | None = None,
                    exclusive: bool = False) -> tuple[Estimates, np.ndarray]:
    """Estimates ``T[num] / T[den]`` (``den < 0``: the total ``T[num]``) with full covariance.

    ``base`` names, per output, the 0/1 column of ``Z`` that defines its domain (for ``n`` and
    the deff); ``cell`` (default ``num``) the column whose non-zero rows are the unweighted cell
    (``n_cell``, returned beside the estimates).  ``present`` is the domain of the variance
    (lonely-PSU semantics, :func:`survey.variance.vcov_totals`).

    With ``A`` given, ``Z`` is a basis and ``num``/``den``/``base`` index the columns of
    ``Z @ A.T`` (crosstab: margins are sums of cells).  The influence values of the outputs are
    then ``Z @ B.T`` for a ``k x K`` matrix ``B`` (the ratio linearisation written in basis
    coordinates), and since the variance engine is linear in ``z`` their covariance is
    ``B vcov_totals(Z) B'``: one call on the ``K`` cells instead of the ``4K`` outputs.
    ``exclusive`` says the basis columns are 0/1 indicators of disjoint sets.
    """
    d = v.design
    w = v.w
    Z = np.asarray(Z, dtype=float)
    num = np.asarray(num, dtype=np.intp)
    den = np.asarray(den, dtype=np.intp)
    base = np.asarray(base, dtype=np.intp)
    cell = num if cell is None else np.asarray(cell, dtype=np.intp)
    has_den = den >= 0
    dd = np.where(has_den, den, 0)
    Tb = w @ Z
    T = Tb if A is None else A @ Tb
    k = len(num)
    a = T[num]
    b = np.where(has_den, T[dd], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = a / b
    bad = ~np.isfinite(est)                 # empty base: no estimate, no variance
    if v.replicate:
        def fn(W: np.ndarray) -> np.ndarray:
            Tr = W.T @ Z
            if A is not None:
                Tr = Tr @ A.T
            with np.errstate(divide="ignore", invalid="ignore"):
                r = Tr[:, num] / np.where(has_den, Tr[:, dd], 1.0)
            return np.where(bad[None, :], 0.0, r)

        theta, thetas = replicate_estimates(d, fn)
        cov = replicate_vcov(d.replicates, theta, thetas)
    elif A is None:
        # influence values: (z_num - R z_den) / T_den for ratios, z_num for totals
        U = Z[:, num].copy()
        if has_den.any():
            Rr, Xsum, resid = ratio_influence(Z[:, num[has_den]], Z[:, den[has_den]], w,
                                              np.zeros(v.n, dtype=np.intp), 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                U[:, has_den] = resid / Xsum[0]
        U[:, bad] = 0.0
        cov = vcov_totals(d, U, present)
    else:
        # the same linearisation in basis coordinates: U = Z @ B.T
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_b = np.where(bad, 0.0, 1.0 / b)
        B = A[num] * inv_b[:, None]
        B[has_den] -= A[den[has_den]] * np.where(bad, 0.0, est * inv_b)[has_den][:, None]
        VZ = vcov_totals(d, Z, present)
        cov = B @ VZ @ B.T
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    # counts and the SRS (without replacement) variance of the same ratio, for deff, from
    # column moments of Z: U = Z[num] - R Z[den] over the base domain (num and den are zero
    # outside the base, which is a 0/1 indicator column), as R's svymean(deff = TRUE).
    if exclusive and A is not None:
        cnt = A @ np.count_nonzero(Z, axis=0).astype(float)
        M2 = (A * Tb) @ A.T                         # Z_b' W Z_b is diag(T_b) for 0/1 disjoint
    else:
        Zf = Z if A is None else Z @ A.T
        cnt = np.count_nonzero(Zf, axis=0).astype(float)
        M2 = (Zf * w[:, None]).T @ Zf
    n = cnt[base]
    R = np.where(has_den, est, 0.0)
    sw = T[base]
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = (a - R * np.where(has_den, T[dd], 0.0)) / sw
        m2 = (M2[num, num] - 2 * R * M2[num, dd] + R ** 2 * M2[dd, dd]) / sw
        s2 = (m2 - mu ** 2) * n / (n - 1)
        vsrs = sw ** 2 * s2 / n / b ** 2
        vsrs = np.where(sw < n, np.nan, vsrs * (sw - n) / sw)
        deff = np.diag(cov) / vsrs
    e = Estimates(est, cov, df=np.broadcast_to(np.asarray(df, dtype=float), (k,)),
                  statistic="ratio", n=n, deff=deff, level=level)
    return e, cnt[cell].astype(np.int64)


def table_frame(e: Estimates, n_cell: np.ndarray, ids: Mapping[str, Any], flags: dict) -> pd.DataFrame:
    """The tidy table layout, built in one constructor: the columns of ``Estimates.frame()``
    (``estimate, se, ci_low, ci_high, deff, n, n_eff``), ``n_cell``, the identifiers ``ids``,
    ``df``, then the flag columns of :func:`survey.tables.add_flags` (its
    :func:`~survey.tables.flags.flag_columns`).  (Inserting the columns one by one into
    ``Estimates.frame()`` costs pandas ~1 ms per column and table.)"""
    ci = e.conf_int()
    se = e.se
    n = e.n.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = n / e.deff
    cols: dict[str, Any] = {"estimate": e.estimate, "se": se, "ci_low": ci[:, 0],
                            "ci_high": ci[:, 1], "deff": e.deff, "n": n, "n_eff": n_eff,
                            "n_cell": n_cell}
    if isinstance(ids, pd.DataFrame):
        ids = {c: ids[c] for c in ids.columns}
    for c, v in ids.items():
        cols[c] = v.to_numpy() if isinstance(v, pd.Series) and not isinstance(
            v.dtype, pd.CategoricalDtype) else (v.array if isinstance(v, pd.Series) else v)
    cols["df"] = e.df
    cols.update(flag_columns(e.estimate, se, n, n_cell, n_eff, **flags))
    return pd.DataFrame(cols)


# ----------------------------------------------------------------------------------------------
# columns and groups
# ----------------------------------------------------------------------------------------------
def column(v: View, name: str, what: str) -> pd.Series:
    if not isinstance(name, str) or name not in v.design.columns:
        raise DesignError(f"{what}: column {name!r} is not in the design's data; available "
                          f"columns include {list(v.design.columns)[:12]}")
    return v.design.column(name)


def level_codes(s: pd.Series, what: str) -> tuple[np.ndarray, list]:
    """Integer codes (−1 = missing) and the level labels of a categorical-like column: every
    category of a Categorical (empty ones too), else the sorted values present."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        c = s.cat
        return c.codes.to_numpy(dtype=np.intp), list(c.categories)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        vals = s.dropna().unique()
        if len(vals) > 100:
            raise DesignError(f"{what}: column {s.name!r} has {len(vals)} distinct values; a "
                              "crosstab needs a categorical variable (cut it into groups first)")
    codes, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), list(uniq)


def groups(v: View, by: str | Sequence[str] | None,
           what: str) -> tuple[list[str], pd.DataFrame, list[np.ndarray]]:
    """By-groups as (by column names, one row of labels per group, boolean masks), coded by
    :meth:`survey.SurveyDesign.domain_index`; respondents without a by value are left out of
    every group, with a :class:`~survey.errors.SurveyWarning`."""
    full = v.full
    cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if not cols:
        return [], pd.DataFrame(index=[0]), [full]
    for c in cols:
        column(v, c, what)
    codes, levels = v.design.domain_index(cols)
    nmiss = int((full & (np.asarray(codes) < 0)).sum())
    if nmiss:
        warnings.warn(f"{what}: {nmiss} respondent(s) have no value of by={cols} and are left out "
                      "of every group (the overall figures still include them); recode them to "
                      "keep them", SurveyWarning, stacklevel=4)
    codes = np.where(full, codes, -1)
    present = np.unique(codes[codes >= 0])
    return cols, levels.iloc[present].reset_index(drop=True), [codes == g for g in present]


def numeric_block(v: View, cols: list[str], what: str) -> np.ndarray:
    out = np.empty((v.n, len(cols)))
    for j, c in enumerate(cols):
        s = v.design.column(c)
        try:
            if isinstance(s.dtype, pd.CategoricalDtype):
                raise TypeError("categorical")
            out[:, j] = pd.to_numeric(s.astype("object") if isinstance(s.dtype, pd.BooleanDtype)
                                      else s, errors="raise").astype("Float64").to_numpy(
                dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise EstimationError(f"{what}: column {c!r} is not numeric/boolean (dtype "
                                  f"{s.dtype}); see docs/conventions.md for the frame layout") from None
    return out


def resolve_question(v: View, q: str | Sequence[str], types: tuple[str, ...],
             what: str) -> tuple[str, list[str], list[Any], list[str], Any]:
    """Resolve a question id (via the design's questionnaire) or an explicit column list.

    Returns (name, columns, codes, labels, Question or None).
    """
    if isinstance(q, str):
        qn = v.questionnaire
        if qn is None or q not in qn:
            if q in v.design.columns:
                raise EstimationError(f"{what}: {q!r} is a single column; pass the list "
                                      "of the question's option/row columns")
            raise EstimationError(
                f"{what}: question {q!r} is not in the design's questionnaire"
                + ("" if qn is not None else " (the design has none)")
                + "; build the design with questionnaire=... or pass the columns explicitly, "
                f"e.g. {what}(['{q}_1', '{q}_2', ...])")
        qq = qn[q]
        if qq.type not in types:
            raise EstimationError(f"{what}: question {q!r} is of type {qq.type!r}; "
                                  f"{what} needs a {' or '.join(types)} question")
        if qq.type in ("multi", "rank"):
            codes = list(qq.options)
            labels = [str(qq.options[c]) for c in codes]
        else:
            codes = list(qq.rows)
            labels = [str(qq.rows[c]) for c in codes]
        cols = [f"{q}_{c}" for c in codes]
        name = q
    else:
        cols = list(q)
        if not cols:
            raise EstimationError(f"{what}: the column list is empty")
        codes, labels, qq = list(cols), [str(c) for c in cols], None
        name = ",".join(map(str, cols[:3])) + ("..." if len(cols) > 3 else "")
    for c in cols:
        column(v, c, what)
    return name, cols, codes, labels, qq


def check_scale(V: np.ndarray, cols: list[str], sv: np.ndarray, qq: Any, what: str) -> None:
    """An explicit ``scale=`` must cover every answer code in the data (other than declared
    missing codes): codes outside it would silently be treated as missing."""
    from ..questionnaire import DEFAULT_MISSING

    miss = set(getattr(qq, "missing", None) or DEFAULT_MISSING)
    for j, c in enumerate(cols):
        v = V[:, j]
        out = np.unique(v[~np.isnan(v) & ~np.isin(v, sv)])
        out = [x for x in out if x not in miss and x >= 0]
        if out:
            shown = [int(x) if float(x).is_integer() else float(x) for x in out[:10]]
            raise EstimationError(
                f"{what}: column {c!r} has codes {shown} that are not in scale="
                f"{[int(x) if float(x).is_integer() else float(x) for x in sv]}; give the full "
                "scale, or recode those answers to missing first")



def run_groups(v: View, by: Any, what: str, build: Callable, level: float,
               flags: dict) -> pd.DataFrame:
    """One :func:`ratio_estimates` per by-group (each a domain of the full design); ``build(mask)``
    returns ``(Z, num, den, base, ids, present)``."""
    check_level(what, level)
    by_cols, labels, masks = groups(v, by, what)
    frames = []
    for g, mask in enumerate(masks):
        Z, num, den, base, ids, present = build(mask)
        ids = ids.copy()
        for c in by_cols:
            ids[c] = labels[c].iloc[g]
        e, n_cell = ratio_estimates(v, Z, num, den, base, df=degf_mask(v, present), level=level,
                                    present=mask)
        frames.append(table_frame(e, n_cell, ids, flags))
    return pd.concat(frames, ignore_index=True)


def question_block(d: Any, what: str, question: str | Sequence[str], types: tuple[str, ...],
                   questionnaire: Any, level: float, thresholds: tuple) -> tuple:
    """The opening every question-aware table shares: check the level and the flag thresholds
    (``min_n, max_cv, min_n_eff, min_cell``), resolve the question on the design and read its
    columns as one float block.  Returns ``(view, flags, name, cols, codes, labels, question,
    block)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import SurveyDesign
    >>> d = SurveyDesign(pd.DataFrame({"q_1": [1, 0, 1], "q_2": [0, 0, 1]}))
    >>> question_block(d, "multi", ["q_1", "q_2"], ("multi",), None, 0.95, (30, 0.3, 30, 10))[-1].shape
    (3, 2)
    """
    check_level(what, level)
    flags = check_thresholds(what, *thresholds)
    v = view(d, what, questionnaire)
    name, cols, codes, labels, qq = resolve_question(v, question, types, what)
    return v, flags, name, cols, codes, labels, qq, numeric_block(v, cols, what)
