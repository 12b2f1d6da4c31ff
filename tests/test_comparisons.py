"""survey.comparisons: ratios of totals as Estimates, batched subgroup contrasts and Rao–Scott tests.

Each batched result is checked against the package's one-at-a-time estimators (tables.contrast,
tables.crosstab, estimate.mean), which compute through a separate code path."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey import SurveyDesign
from survey.comparisons import batch_contrasts, batch_rao_scott, ratio_estimates
from survey.tables import contrast, crosstab


def _frame(seed: int, n: int = 1_500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    st = rng.integers(0, 5, n)
    psu = st * 20 + rng.integers(0, 20, n)
    g = pd.Categorical.from_codes(rng.integers(0, 4, n), ["甲", "乙", "丙", "丁"])
    y = rng.normal(3 + 0.3 * np.asarray(g.codes) + 0.1 * (psu % 7), 1.0)
    y[rng.random(n) < 0.05] = np.nan  # item nonresponse
    z = rng.gamma(2.0, 1.0, n)
    return pd.DataFrame({"st": st, "psu": psu, "g": g, "y": y, "z": z,
                         "w": rng.uniform(0.5, 3.0, n)})


PAIRS = [("y", "丁", "甲"), ("z", "乙", "丙"), ("y", "丙", "乙")]


def _one_at_a_time(d: SurveyDesign, pairs, level: float = 0.95) -> pd.DataFrame:
    return pd.concat([contrast(d, c, "g", {a: 1, b: -1}, level=level) for c, a, b in pairs],
                     ignore_index=True)


@pytest.mark.parametrize("subset", [False, True])
def test_batch_contrasts_equal_one_contrast_per_pair(subset):
    """The batch (one covariance for every pair) equals tables.contrast (one call per pair), on a
    stratified cluster design and on a domain of it (the full design kept, as R's subset)."""
    d = SurveyDesign(_frame(1), weights="w", strata="st", psu="psu")
    if subset:
        d = d.subset((d.data["st"] != 4).to_numpy())
    got = batch_contrasts(d, "g", PAIRS, level=0.9)
    ref = _one_at_a_time(d, PAIRS, level=0.9)
    for c in ("estimate", "se", "ci_low", "ci_high", "t", "p"):
        np.testing.assert_allclose(got[c], ref[c], rtol=1e-9, err_msg=c)
    assert (got["df"] == d.df).all()


def test_batch_contrasts_replicate_design_uses_the_replicate_variance():
    """With replicate weights the difference of means is recomputed per replicate (svrVar of the
    contrast), as tables.contrast does — not a delta method on replicate totals."""
    d = SurveyDesign(_frame(2), weights="w", strata="st", psu="psu").replicate("jkn")
    got = batch_contrasts(d, "g", PAIRS)
    ref = _one_at_a_time(d, PAIRS)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)


def test_batch_contrasts_no_pairs():
    d = SurveyDesign(_frame(3), weights="w", psu="psu")
    out = batch_contrasts(d, "g", [])
    assert list(out.columns) == ["estimate", "se", "ci_low", "ci_high", "t", "p", "df"] and out.empty


def test_ratio_estimates_are_domain_means_with_their_covariance():
    """Ratios of column totals: the estimates and SEs of design.mean(by=) (another code path),
    and a contrast's variance from the joint covariance."""
    f = _frame(4)
    d = SurveyDesign(f, weights="w", strata="st", psu="psu")
    ok = f["z"].notna().to_numpy()
    G = np.column_stack([(f["g"] == lv).to_numpy() & ok for lv in f["g"].cat.categories]).astype(float)
    e = ratio_estimates(d, G * f["z"].to_numpy()[:, None], G)
    ref = d.mean("z", by="g")
    np.testing.assert_allclose(e.estimate, ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(e.se, ref["se"], rtol=1e-8)
    c = e.contrast([1, -1, 0, 0])
    r = contrast(d, "z", "g", {"甲": 1, "乙": -1})
    np.testing.assert_allclose(c.se, r["se"], rtol=1e-8)


def test_ratio_estimates_empty_denominator_is_nan_with_zero_variance():
    f = _frame(5, 200)
    d = SurveyDesign(f, weights="w", psu="psu")
    A = np.column_stack([np.ones(len(f)), np.zeros(len(f))])
    e = ratio_estimates(d, A * f["z"].to_numpy()[:, None], A)
    assert np.isfinite(e.estimate[0]) and np.isnan(e.estimate[1])
    assert e.cov[1, 1] == 0 and e.cov[0, 1] == 0


def test_batch_rao_scott_with_many_group_levels():
    """31 provinces × a 6-option question: the cell index ``g * C + q`` must not overflow the
    categorical's int8 codes (it did: negative cells, ValueError in np.bincount); the batched
    test equals tables.crosstab's Rao–Scott F test."""
    rng = np.random.default_rng(17)
    n = 3_000
    g = rng.integers(0, 31, n)
    q = np.minimum(5, rng.integers(0, 6, n) + (g % 3 == 0))
    df = pd.DataFrame({
        "prov": pd.Categorical.from_codes(g, [f"省{i:02d}" for i in range(31)]),
        "q": pd.Categorical.from_codes(q, list("ABCDEF")),
        "psu": rng.integers(0, 150, n), "w": rng.uniform(0.5, 2.0, n)})
    d = SurveyDesign(df, weights="w", psu="psu")
    (r,) = batch_rao_scott(d, "prov", ["q"])
    t = crosstab(d, "prov", "q").test
    assert r["F"] == pytest.approx(float(t["statistic"].iloc[0]), rel=1e-8)
    assert r["p"] == pytest.approx(float(t["p"].iloc[0]), rel=1e-6, abs=1e-12)


def test_batch_rao_scott_several_questions_in_one_call_equal_crosstab():
    """Several questions share one covariance call; each equals its own crosstab test, and a
    question with a single answer level is not tested."""
    rng = np.random.default_rng(8)
    n = 2_000
    f = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "psu": rng.integers(0, 80, n),
                      "st": rng.integers(0, 4, n), "w": rng.uniform(0.5, 2, n)})
    f["psu"] = f["st"] * 100 + f["psu"]
    f["q1"] = np.where(rng.random(n) < np.where(f["g"] == "a", 0.6, 0.4), "是", "否")
    f["q2"] = pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "空"])
    f["q3"] = "same"
    d = SurveyDesign(f, weights="w", strata="st", psu="psu")
    out = batch_rao_scott(d, "g", ["q1", "q2", "q3"])
    assert [r["qid"] for r in out] == ["q1", "q2"]
    for r in out:
        t = crosstab(d, "g", r["qid"]).test
        assert r["F"] == pytest.approx(float(t["statistic"].iloc[0]), rel=1e-8)
        assert r["p"] == pytest.approx(float(t["p"].iloc[0]), rel=1e-6, abs=1e-12)
