"""Tests of survey.models.glm against R's svyglm (tests/fixtures/r_tables/glm.csv, made by
make_reference.R there with glm.control(epsilon = 1e-14))."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from survey.design import SurveyDesign
from survey.errors import EstimationError
from survey.models import GLMResult

from r_tables_designs import FIX, r_designs

GLM = pd.read_csv(FIX / "glm.csv", keep_default_na=False, na_values=[""])
MODELS = list(dict.fromkeys(GLM.model))


@pytest.fixture(scope="module")
def designs() -> dict[str, SurveyDesign]:
    return r_designs()


def _r_name(term: str) -> str:
    if term == "Intercept":
        return "(Intercept)"
    return re.sub(r"^C\((\w+)\)\[T\.(\w+)\]$", r"\1\2", term)


@pytest.mark.parametrize("mid", MODELS)
def test_glm_matches_svyglm(designs, mid):
    x = GLM[GLM.model == mid]
    x0 = x.iloc[0]
    d = designs[x0.design]
    if isinstance(x0.subset, str) and x0.subset:
        d = d.subset(d.data["stype"] == x0.subset)
    formula = re.sub(r"\bstype\b", "C(stype)", x0.formula)
    m = d.glm(formula, family=x0.family)
    assert isinstance(m, GLMResult)
    fr = m.to_frame()
    fr["term"] = fr.term.map(_r_name)
    mm = x.merge(fr, on="term", suffixes=("_r", ""))
    assert len(mm) == len(x)
    np.testing.assert_allclose(mm.estimate, mm.estimate_r, rtol=1e-8)
    np.testing.assert_allclose(mm.se, mm.se_r, rtol=1e-6)
    np.testing.assert_allclose(mm.t, mm.t_r, rtol=1e-6)
    np.testing.assert_allclose(mm.p, mm.p_r, rtol=1e-6)
    assert m.df_resid == x0.df_resid
    if x0.design != "jk1":  # R's svyvar on a replicate design is a different quantity
        assert m.dispersion == pytest.approx(x0.dispersion, rel=1e-8)


def test_glm_binomial_equals_quasibinomial_and_ci(designs):
    d = designs["strat"]
    a = d.glm("sch_wide01 ~ ell + meals + C(stype)", family="binomial")
    b = d.glm("sch_wide01 ~ ell + meals + C(stype)", family="quasibinomial")
    np.testing.assert_allclose(a.bse, b.bse)
    # a two-level categorical outcome: second level is the success
    c = d.glm("sch_wide ~ ell + meals + C(stype)", family="binomial")
    np.testing.assert_allclose(c.params, a.params, rtol=1e-10)
    ci = a.conf_int()
    from scipy import stats
    q = stats.t.ppf(0.975, a.df_resid)
    np.testing.assert_allclose(ci.ci_high - a.params, q * a.bse)
    assert "Design-based GLM" in a.summary()


def test_glm_nullable_dtypes_and_missing(designs):
    df = designs["strat"].data.copy()
    df["y"] = (df["api00"] > 650).astype("boolean")
    df.loc[df.index[:5], "y"] = pd.NA
    df["e"] = df["ell"].astype("Int64")
    d = SurveyDesign(df, weights="pw", strata="stype", fpc="fpc")
    m = d.glm("y ~ e + meals", family="binomial")
    assert m.nobs == 195
    assert np.isfinite(m.bse).all()


def test_glm_weights_matter(designs):
    d = designs["strat"]
    df = d.data
    flat = SurveyDesign(df, strata="stype")           # equal weights
    a = d.glm("api00 ~ ell + meals")
    b = flat.glm("api00 ~ ell + meals")
    assert not np.allclose(a.params, b.params)


def test_glm_errors(designs):
    d = designs["strat"]
    with pytest.raises(EstimationError, match="family"):
        d.glm("api00 ~ ell", family="gamma")
    with pytest.raises(EstimationError, match="formula"):
        d.glm("api00 ell")
    with pytest.raises(EstimationError, match="rank deficient"):
        d.glm("api00 ~ ell + I(2 * ell)")
    with pytest.raises(EstimationError, match=r"\[0, 1\]"):
        d.glm("api00 ~ ell", family="binomial")


def test_level_errors_have_the_validator_message():
    """glm and GLMResult.conf_int check level with survey.validation (one message shape)."""
    df = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "y": [1.0, 3.2, 4.9, 7.1, 9, 11]})
    d = SurveyDesign(df)
    with pytest.raises(EstimationError, match=re.escape(
            "glm: level=2 must be a number strictly between 0 and 1 (e.g. level=0.95)")):
        d.glm("y ~ x", level=2)
    m = d.glm("y ~ x")
    with pytest.raises(EstimationError, match=re.escape("conf_int: level=1.0 must be a number")):
        m.conf_int(1.0)
    lo, hi = m.conf_int(0.9).loc["x"]
    from scipy import stats
    q = stats.t.ppf(0.95, m.df_resid)
    assert hi - lo == pytest.approx(2 * q * m.bse["x"])


def test_glm_replicate_that_cannot_identify_the_model_is_dropped_as_r_does():
    """A bootstrap replicate that leaves fewer respondents of a small domain than coefficients
    made statsmodels raise a bare ValueError (found by `make explore`).  As R (glm.fit gives NA,
    svrVar drops the replicate with a warning) the replicate is dropped; the others give the
    variance, equal to replicate_vcov over the identifiable replicates."""
    import warnings

    from survey.variance import replicate_vcov

    rng = np.random.default_rng(5)
    n = 60
    df = pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "c": np.arange(n) // 2,
                       "dom": np.r_[np.ones(5, bool), np.zeros(n - 5, bool)]})
    d = SurveyDesign(df, psu="c").replicate("bootstrap", 60, seed=3)
    sub = d.subset(df["dom"].to_numpy())
    W = np.asarray(sub.repweights, float)[:5]
    X = np.column_stack([np.ones(5), df["x"].to_numpy()[:5]])
    lacking = [(W[:, j] > 0).sum() <= 2 or np.linalg.matrix_rank(X[W[:, j] > 0]) < 2 for j in range(W.shape[1])]
    assert any(lacking) and not all(lacking)   # the draw has both kinds (decided by seed 3)
    with pytest.warns(UserWarning, match=f"{sum(lacking)} replicates gave NA results and were discarded"):
        g = sub.glm("y ~ x")
    # the same covariance by hand over the identifiable replicates
    thetas = []
    for j in range(W.shape[1]):
        if lacking[j]:
            thetas.append([np.nan, np.nan])
            continue
        wj = W[:, j]
        A = X.T @ (X * wj[:, None])
        thetas.append(np.linalg.solve(A, X.T @ (wj * df["y"].to_numpy()[:5])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = replicate_vcov(sub.replicates, g.params.to_numpy(), np.array(thetas))
    np.testing.assert_allclose(g.cov.to_numpy(), ref, rtol=1e-6)
