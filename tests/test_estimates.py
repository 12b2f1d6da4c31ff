"""The one result type: Estimates (frame, conf_int, contrast, test) and estimate.estimates()."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from survey import SurveyDesign
from survey.errors import EstimationError
from survey.estimate import estimates
from survey.estimates import Estimates
from survey.variance import vcov_totals


def _clustered(seed: int = 3, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 4, n)
    c = h * 100 + rng.integers(0, 6, n)
    g = pd.Categorical(rng.choice(["a", "b", "c"], n), ["a", "b", "c"])
    y = rng.normal(10, 3, n) + h + (g == "b") * 2.0
    x = rng.uniform(1, 3, n)
    return pd.DataFrame({"h": h, "c": c, "g": g, "y": y, "x": x, "w": rng.uniform(1, 4, n),
                         "cat": pd.Categorical(rng.choice(["p", "q", "r"], n))})


@pytest.fixture(scope="module")
def design():
    return SurveyDesign(_clustered(), weights="w", strata="h", psu="c", nest=True)


@pytest.mark.parametrize("stat,args,kw", [
    ("mean", ("y",), {"by": "g"}),
    ("mean", (["y", "x"],), {}),
    ("total", ("y",), {"by": "g"}),
    ("total", ("cat",), {}),
    ("proportion", ("cat",), {"by": "g", "ci_method": "published"}),
    ("ratio", ("y", "x"), {"by": "g"}),
    ("quantile", ("y", [0.25, 0.5]), {"by": "g"}),
])
def test_frame_is_the_estimator_frame(design, stat, args, kw):
    f = getattr(design, stat)(*args, **kw)
    e = estimates(design, stat, *args, **kw)
    assert isinstance(e, Estimates)
    pd.testing.assert_frame_equal(e.frame(), f)
    assert f.attrs.keys() == e.frame().attrs.keys()
    np.testing.assert_array_equal(e.frame().attrs["df"], f.attrs["df"])


def _designs():
    df = _clustered(5, 200)
    df.loc[df.index[::17], "y"] = np.nan  # missing values: the general (non-cell) path
    base = SurveyDesign(df, weights="w", strata="h", psu="c", nest=True)
    raked = base.rake({"g": {"a": 300.0, "b": 250.0, "c": 200.0}})
    return {"cells": SurveyDesign(_clustered(5, 200), weights="w", strata="h", psu="c", nest=True),
            "missing": base, "calibrated": raked, "replicate": base.replicate("jkn")}


@pytest.mark.parametrize("kind", ["cells", "missing", "calibrated", "replicate"])
def test_full_covariance_agrees_with_the_variances(kind):
    d = _designs()[kind]
    e = d.estimates("mean", ["y", "x"], by="g", na_rm=True)
    V = e.cov
    assert V.shape == (6, 6)
    np.testing.assert_allclose(np.diag(V), e.var, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(V, V.T, rtol=0, atol=1e-15)
    assert np.linalg.eigvalsh(V).min() > -1e-10 * np.abs(V).max()


def test_contrast_of_domain_means_matches_direct_linearisation(design):
    """b - a from the Estimates covariance equals the variance of the difference of the two
    domains' influence values, computed directly with the engine."""
    e = design.estimates("mean", "y", by="g")
    c = e.contrast([-1, 1, 0], labels=["b - a"])
    data = design.data
    w, y = design.weights, data["y"].to_numpy()
    z = np.zeros(len(y))
    for lev, sign in (("a", -1.0), ("b", 1.0)):
        m = (data["g"] == lev).to_numpy()
        N = w[m].sum()
        mu = (w[m] * y[m]).sum() / N
        z[m] = sign * (y[m] - mu) / N
    v = vcov_totals(design, z)[0, 0]
    assert c.estimate[0] == pytest.approx(e.estimate[1] - e.estimate[0], rel=1e-12)
    assert c.var[0] == pytest.approx(v, rel=1e-9)
    assert c.df[0] == min(e.df[0], e.df[1])
    assert c.frame()["contrast"].tolist() == ["b - a"]


def test_contrast_agrees_with_tables_contrast(design):
    e = design.estimates("mean", "y", by="g")
    c = e.contrast([[-1, 1, 0], [-1, 0, 1]])
    t = design.contrast("y", "g", {"b": 1, "a": -1})
    assert c.estimate[0] == pytest.approx(t["estimate"].iloc[0], rel=1e-10)
    assert c.se[0] == pytest.approx(t["se"].iloc[0], rel=1e-8)


def test_t_and_joint_tests():
    e = Estimates([1.0, -2.0], np.array([[0.25, 0.1], [0.1, 1.0]]), df=[12, 30])
    t = e.test()
    assert t["t"].tolist() == pytest.approx([2.0, -2.0])
    assert t["p"].tolist() == pytest.approx([2 * stats.t.sf(2, 12), 2 * stats.t.sf(2, 30)])
    # one row: F = t^2 with (1, df)
    one = e.test([[1, 1]], joint=True)
    c = e.contrast([[1, 1]])
    assert one["F"].iloc[0] == pytest.approx((c.estimate[0] / c.se[0]) ** 2)
    assert one["ddf"].iloc[0] == 12 and one["ndf"].iloc[0] == 1
    # two rows: the Wald quadratic form over 2
    both = e.test(joint=True)
    b = np.array([1.0, -2.0])
    F = b @ np.linalg.solve(e.cov, b) / 2
    assert both["F"].iloc[0] == pytest.approx(F)
    assert both["p"].iloc[0] == pytest.approx(stats.f.sf(F, 2, 12))


def test_conf_int_levels_and_validation():
    e = Estimates([0.0, 1.0], var=[1.0, 4.0], df=[np.inf, 10])
    ci = e.conf_int(0.9)
    assert ci[0].tolist() == pytest.approx([-stats.norm.ppf(0.95), stats.norm.ppf(0.95)])
    assert ci[1].tolist() == pytest.approx([1 - 2 * stats.t.ppf(0.95, 10), 1 + 2 * stats.t.ppf(0.95, 10)])
    with pytest.raises(EstimationError, match=r"conf_int: level=1\.5 must be a number strictly between 0 and 1"):
        e.conf_int(1.5)
    with pytest.raises(EstimationError, match="L has 3 columns"):
        e.contrast([1, 0, 1])


def test_quantile_estimates_refuse_a_made_up_covariance(design):
    e = design.estimates("quantile", "y", [0.25, 0.75])
    single = e.contrast([[0, 1]])  # one element per row needs no covariance
    assert single.se[0] == pytest.approx(e.se[1])
    with pytest.raises(EstimationError, match="no covariance"):
        e.contrast([[-1, 1]])


def test_estimates_unknown_statistic(design):
    with pytest.raises(EstimationError, match=r"estimates: statistic='median' must be one of"):
        estimates(design, "median", "y")


# ------------------------------------------------------------------ properties
@st.composite
def _estimates(draw):
    k = draw(st.integers(1, 5))
    A = np.array(draw(st.lists(st.floats(-3, 3), min_size=k * k, max_size=k * k))).reshape(k, k)
    est = np.array(draw(st.lists(st.floats(-100, 100), min_size=k, max_size=k)))
    df = draw(st.lists(st.integers(1, 200), min_size=k, max_size=k))
    return Estimates(est, A @ A.T, df=df)


@given(_estimates(), st.data())
@settings(max_examples=60, deadline=None)
def test_contrast_of_identical_rows_is_zero_with_zero_variance(e, data):
    i = data.draw(st.integers(0, len(e) - 1))
    L = np.zeros((2, len(e)))
    L[0, i], L[1, i] = 1.0, 1.0
    d = e.contrast(L).contrast([[1, -1]])
    assert d.estimate[0] == 0.0
    assert abs(d.var[0]) <= 1e-12 * max(1.0, float(np.abs(e.cov).max()))


@given(_estimates(), st.data())
@settings(max_examples=60, deadline=None)
def test_contrast_covariance_is_symmetric_psd_and_linear(e, data):
    m = data.draw(st.integers(1, 4))
    L = np.array(data.draw(st.lists(st.floats(-2, 2), min_size=m * len(e), max_size=m * len(e)))
                 ).reshape(m, len(e))
    c = e.contrast(L)
    np.testing.assert_allclose(c.cov, c.cov.T, atol=1e-12)
    scale = max(1.0, float(np.abs(c.cov).max()))
    assert np.linalg.eigvalsh(c.cov).min() >= -1e-9 * scale
    np.testing.assert_allclose(c.estimate, L @ e.estimate, rtol=1e-12, atol=1e-9)
    # the df of a row is the smallest df among the elements it uses
    for r in range(m):
        used = L[r] != 0
        if used.any():
            assert c.df[r] == e.df[used].min()


def test_contrast_leaves_out_elements_with_coefficient_zero_even_when_nan():
    """An empty domain's NaN estimate must not turn every contrast into NaN (0 * NaN): a
    coefficient 0 leaves the element out, as the docstring says; a contrast using it is NaN."""
    from survey.estimates import Estimates

    e = Estimates([1.0, np.nan, 4.0], np.diag([1.0, 0.0, 2.0]), df=[10, 5, 20])
    c = e.contrast([[-1, 0, 1], [1, -1, 0]])
    assert c.estimate[0] == 3.0 and np.isnan(c.estimate[1])
    assert c.var[0] == 3.0 and c.df[0] == 10


def test_contrast_leaves_out_a_nan_variance_with_coefficient_zero():
    """A domain whose variance is NaN (every stratum it reaches lonely under 'average') must not
    spoil the other contrasts' variances through 0 * NaN in ``L V L'`` (found in CI by the
    group_stats oracle): it stays out where its coefficient is 0, and is NaN where used."""
    from survey.estimates import Estimates

    V = np.array([[1.0, 0.2, np.nan, 0.1], [0.2, 2.0, np.nan, 0.3],
                  [np.nan, np.nan, np.nan, np.nan], [0.1, 0.3, np.nan, 1.5]])
    e = Estimates([1.0, 2.0, 3.0, 4.0], V, df=[10, 10, 10, 10])
    c = e.contrast([[1, -1, 0, 0], [0, 0, 1, -1], [1, 0, 0, -1]])
    assert c.var[0] == pytest.approx(1.0 + 2.0 - 0.4)
    assert np.isnan(c.var[1])
    assert c.var[2] == pytest.approx(1.0 + 1.5 - 0.2)
    assert c.cov[0, 2] == pytest.approx(1.0 - 0.1 - 0.2 + 0.3)
    assert np.isnan(c.cov[0, 1]) and np.isnan(c.cov[1, 2])


def test_contrast_with_a_large_sparse_matrix_equals_the_dense_product():
    from survey.estimates import Estimates

    rng = np.random.default_rng(3)
    k = 400
    X = rng.normal(size=(k, k))
    V = X @ X.T / k
    e = Estimates(rng.normal(size=k), V)
    L = np.concatenate([np.eye(k // 2), -np.eye(k // 2)], axis=1)
    c = e.contrast(L)
    np.testing.assert_allclose(c.cov, L @ V @ L.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.estimate, L @ e.estimate, rtol=1e-12)
