"""The variance core (survey/variance.py): invariants of the free functions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from survey import SurveyDesign
from survey.errors import EstimationError
from survey.variance import (DESIGN_ATTRIBUTES, Replicates, build_stages, degf, degf_domains,
                             ratio_influence, replicate_estimates, replicate_vcov, tcrit,
                             vcov_totals)


@st.composite
def _frames(draw):
    n = draw(st.integers(6, 40))
    H = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 31))
    rng = np.random.default_rng(seed)
    h = np.sort(rng.integers(0, H, n))
    # every stratum keeps at least two rows so an unclustered design has no lonely stratum
    h[:2], h[-2:] = h[0], h[-1]
    counts = np.bincount(h, minlength=H)
    if (counts[counts > 0] < 2).any():
        h = np.zeros(n, dtype=int)
    return pd.DataFrame({"h": h, "id": rng.permutation(n) + 1000, "y": rng.normal(size=n),
                         "x": rng.uniform(1, 2, n), "w": rng.uniform(0.5, 3, n),
                         "g": rng.integers(0, 3, n)})


@given(_frames(), st.booleans(), st.sampled_from(["fail", "adjust", "average"]))
@settings(max_examples=40, deadline=None)
def test_unclustered_design_equals_psu_is_row(df, stratified, lonely):
    kw = {"strata": "h"} if stratified else {}
    a = SurveyDesign(df, weights="w", lonely_psu=lonely, **kw)
    b = SurveyDesign(df, weights="w", psu="id", lonely_psu=lonely, **kw)
    z = df[["y", "x"]].to_numpy()
    np.testing.assert_allclose(vcov_totals(a, z), vcov_totals(b, z), rtol=1e-10, atol=1e-12)
    assert degf(a) == degf(b) == a.df
    fa, fb = a.mean(["y", "x"], by="g"), b.mean(["y", "x"], by="g")
    pd.testing.assert_frame_equal(fa, fb, rtol=1e-10)


def test_unclustered_design_is_not_factorised():
    """PSU = respondent: the row numbers are the cluster codes (also with nest=True)."""
    df = pd.DataFrame({"h": [2, 1, 2, 1, 2, 1], "y": [1.0, 2, 3, 4, 5, 6]})
    for nest in (False, True):
        s0 = SurveyDesign(df, strata="h", nest=nest).stages[0]
        assert s0.cl.tolist() == list(range(6))
        assert s0.n_cl == 6 and s0.npsu.tolist() == [3.0, 3.0]
    a, b = SurveyDesign(df, strata="h"), SurveyDesign(df, strata="h", nest=True)
    pd.testing.assert_frame_equal(a.mean("y"), b.mean("y"))


@given(st.integers(2, 30), st.integers(1, 4), st.integers(0, 10 ** 6))
@settings(max_examples=40, deadline=None)
def test_replicate_cov_is_zero_for_identical_replicates(R, p, seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=p)
    thetas = np.tile(rng.normal(size=p), (R, 1))
    for mse in (False, True):
        rep = Replicates(np.ones((3, R)), 1.0 / R, np.ones(R), mse, "other", R - 1)
        V = replicate_vcov(rep, theta, thetas)
        if mse:  # centred at the full-sample estimate: R * scale * d d'
            d = thetas[0] - theta
            np.testing.assert_allclose(V, np.outer(d, d), atol=1e-12)
        else:
            # zero up to the rounding of the replicate mean of R equal numbers
            assert np.abs(V).max() <= 1e-28 * max(1.0, float(np.abs(thetas).max()) ** 2)


def test_replicate_estimates_and_vcov_reproduce_the_jackknife():
    df = pd.DataFrame({"c": [1, 1, 2, 2, 3, 3, 4, 4], "y": [1.0, 2, 4, 3, 6, 5, 9, 8]})
    jk = SurveyDesign(df, psu="c").replicate("jk1")
    y = df["y"].to_numpy()
    theta, thetas = replicate_estimates(jk, lambda W: (W * y[:, None]).sum(0) / W.sum(0))
    # delete-one-cluster means by hand, JK1 variance (C-1)/C sum (theta_r - mean)^2
    cl_means = np.array([np.delete(y, [2 * r, 2 * r + 1]).mean() for r in range(4)])
    v = 3 / 4 * ((cl_means - cl_means.mean()) ** 2).sum()
    assert theta[0] == pytest.approx(y.mean())
    np.testing.assert_allclose(thetas[:, 0], cl_means)
    assert replicate_vcov(jk.replicates, theta, thetas)[0, 0] == pytest.approx(v)


@given(st.lists(st.floats(0.01, 1e6) | st.just(float("inf")), min_size=1, max_size=8),
       st.floats(0.5, 0.999))
@settings(max_examples=60, deadline=None)
def test_tcrit_is_student_t_and_normal_at_infinity(dfs, level):
    t = tcrit(level, dfs)
    for df, v in zip(dfs, t):
        ref = stats.norm.ppf(0.5 + level / 2) if np.isinf(df) else stats.t.ppf(0.5 + level / 2, df)
        assert v == pytest.approx(ref, rel=1e-12)
    assert np.isnan(tcrit(level, [0.0, -1.0])).all()
    with pytest.raises(EstimationError, match=r"tcrit: level=1 must be"):
        tcrit(1, 5)


@given(_frames())
@settings(max_examples=40, deadline=None)
def test_ratio_influence_totals_vanish_in_every_domain(df):
    Y = df[["y"]].to_numpy()
    X = df[["x"]].to_numpy()
    w = df["w"].to_numpy()
    dom = df["g"].to_numpy()
    D = int(dom.max()) + 1
    R, Xt, resid = ratio_influence(Y, X, w, dom, D)
    for d in range(D):
        m = dom == d
        if not m.any():
            continue
        assert R[d, 0] == pytest.approx((w[m] * Y[m, 0]).sum() / (w[m] * X[m, 0]).sum(), rel=1e-12)
        assert Xt[d, 0] == pytest.approx((w[m] * X[m, 0]).sum(), rel=1e-12)
        assert abs((w[m] * resid[m, 0]).sum()) <= 1e-9 * (w[m] * np.abs(Y[m, 0])).sum()


def test_ratio_variance_is_vcov_of_influence_values():
    """svyratio's variance: the covariance of the totals of (y - R x) / X."""
    rng = np.random.default_rng(7)
    n = 120
    df = pd.DataFrame({"h": rng.integers(0, 3, n), "y": rng.normal(5, 1, n),
                       "x": rng.uniform(1, 3, n), "w": rng.uniform(1, 2, n)})
    df["c"] = df["h"] * 10 + rng.integers(0, 4, n)
    d = SurveyDesign(df, weights="w", strata="h", psu="c")
    R, Xt, resid = ratio_influence(df[["y"]].to_numpy(), df[["x"]].to_numpy(), d.weights,
                                   np.zeros(n, dtype=int), 1)
    v = vcov_totals(d, resid / Xt[0])[0, 0]
    assert d.ratio("y", "x")["se"].iloc[0] == pytest.approx(np.sqrt(v), rel=1e-10)


def test_degf_domains_equals_degf_of_each_domain():
    rng = np.random.default_rng(2)
    n = 90
    df = pd.DataFrame({"h": rng.integers(0, 3, n), "g": rng.integers(0, 4, n)})
    df["c"] = df["h"] * 10 + rng.integers(0, 5, n)
    d = SurveyDesign(df, strata="h", psu="c")
    g = df["g"].to_numpy()
    got = degf_domains(d, g, 4)
    assert got.tolist() == [float(degf(d, g == k)) for k in range(4)]
    assert degf(d) == d.df


def test_the_design_offers_every_attribute_the_core_reads():
    d = SurveyDesign(pd.DataFrame({"y": [1.0, 2, 3]}))
    for a in DESIGN_ATTRIBUTES:
        assert hasattr(d, a), a


def test_build_stages_counts():
    st0, st1 = build_stages(8, [np.array([1, 1, 2, 2, 3, 3, 4, 4]), np.arange(8)],
                            [np.array([0, 0, 0, 0, 1, 1, 1, 1])], [], False)[0]
    assert (st0.n_cl, st0.n_st, st0.npsu.tolist()) == (4, 2, [2.0, 2.0])
    assert st1.n_cl == 8 and st1.n_st == 4  # second stage: strata are the first-stage units
