"""Drivers: adjusted effects of each pain point on an outcome (design-based GLM, R's ``svyglm``)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ._core import rank_items

__all__ = ["drivers", "driver_covariates"]


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


