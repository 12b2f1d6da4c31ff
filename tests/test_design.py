"""SurveyDesign: construction, validation, immutability, repr, variance engine hooks."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import SurveyDesign
from survey.errors import DesignError, EstimationError
from survey.variance import replicate_estimates, replicate_vcov, vcov_totals

FIX = Path(__file__).parent / "fixtures" / "r_survey"


@pytest.fixture(scope="module")
def apistrat():
    return pd.read_csv(FIX / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1():
    return pd.read_csv(FIX / "apiclus1.csv")


@pytest.fixture(scope="module")
def apiclus2():
    return pd.read_csv(FIX / "apiclus2.csv")


# ------------------------------------------------------------------ construction / validation
def test_unknown_column_is_named(apistrat):
    with pytest.raises(DesignError, match="strata column 'region'"):
        SurveyDesign(apistrat, weights="pw", strata="region")
    with pytest.raises(DesignError, match="weights column 'wt'"):
        SurveyDesign(apistrat, weights="wt")


def test_not_a_dataframe():
    with pytest.raises(DesignError, match="DataFrame"):
        SurveyDesign({"y": [1, 2]})


def test_bad_lonely_option(apistrat):
    with pytest.raises(DesignError, match="lonely_psu"):
        SurveyDesign(apistrat, weights="pw", lonely_psu="drop")


def test_missing_weights_and_ids_are_errors(apistrat):
    df = apistrat.copy()
    df.loc[[3, 5], "pw"] = np.nan
    with pytest.raises(DesignError, match=r"'pw' has 2 missing"):
        SurveyDesign(df, weights="pw")
    df = apistrat.copy()
    df["dnum"] = df["dnum"].astype("Float64")
    df.loc[0, "dnum"] = pd.NA
    with pytest.raises(DesignError, match="psu column 'dnum' has 1 missing"):
        SurveyDesign(df, psu="dnum", weights="pw")
    df = apistrat.copy()
    df.loc[0, "pw"] = -1
    with pytest.raises(DesignError, match="negative"):
        SurveyDesign(df, weights="pw")


def test_psu_repeated_across_strata_needs_nest():
    df = pd.DataFrame({"h": [1, 1, 1, 1, 2, 2, 2, 2], "c": [1, 1, 2, 2, 1, 1, 2, 2],
                       "y": np.arange(8.0)})
    with pytest.raises(DesignError, match="nest=True"):
        SurveyDesign(df, strata="h", psu="c")
    d = SurveyDesign(df, strata="h", psu="c", nest=True)
    assert d.n_psu == 4 and d.n_strata == 2 and d.df == 2


def test_fpc_forms(apistrat, apiclus2):
    with pytest.raises(DesignError, match="one fpc column per stage"):
        SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc="fpc1")
    df = apistrat.copy()
    df["mixed"] = np.where(df["stype"] == "E", 0.1, 500)
    with pytest.raises(DesignError, match="mix population sizes"):
        SurveyDesign(df, weights="pw", strata="stype", fpc="mixed")
    df["small"] = 3.0
    with pytest.raises(DesignError, match="more than 100% sampling"):
        SurveyDesign(df, weights="pw", strata="stype", fpc="small")
    df["varies"] = df["fpc"] + np.arange(len(df))
    with pytest.raises(DesignError, match="varies within stratum"):
        SurveyDesign(df, weights="pw", strata="stype", fpc="varies")
    a = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc").mean("api00")
    b = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="sfrac").mean("api00")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)


def test_weights_from_fpc_match_r_pw(apiclus2):
    d = SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    np.testing.assert_allclose(d.weights, apiclus2["pw"], rtol=1e-4)


def test_single_psu_design_is_an_error():
    with pytest.raises(DesignError, match="only one primary sampling unit"):
        SurveyDesign(pd.DataFrame({"y": [1.0, 2], "c": [1, 1]}), psu="c")


def test_repweights_refuse_strata_and_unused_args(apiclus1):
    W = np.ones((len(apiclus1), 3))
    with pytest.raises(DesignError, match="do not also pass"):
        SurveyDesign(apiclus1, weights="pw", psu="dnum", repweights=W, rep_type="jk1")
    with pytest.raises(DesignError, match="only meaningful with repweights"):
        SurveyDesign(apiclus1, weights="pw", scale=0.5)
    with pytest.raises(DesignError, match="rscales"):
        SurveyDesign(apiclus1, weights="pw", repweights=W, rep_type="jkn")


# ------------------------------------------------------------------ immutability / repr
def test_immutable_and_weights_read_only(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(AttributeError, match="immutable"):
        d.lonely_psu = "adjust"
    with pytest.raises(AttributeError, match="immutable"):
        d._w = np.ones(d.n)
    with pytest.raises(ValueError):
        d.weights[0] = 5.0
    before = d.mean("api00")["estimate"].iloc[0]
    data = d.data
    data["api00"] = 0.0
    assert d.mean("api00")["estimate"].iloc[0] == before


def test_repr_shows_structure(apiclus2, apistrat):
    r = repr(SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc"))
    assert "strata: 3 (stype)" in r and "PSUs: 200" in r and "n = 200" in r and "df 197" in r
    r2 = repr(SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]))
    assert "2-stage" in r2 and "stage 2: 126 units (snum)" in r2 and "fpc: fpc1, fpc2" in r2
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    assert "domain of 200" in repr(d.subset(apistrat["stype"] == "E"))
    assert "jkn" in repr(d.replicate("jkn"))


# ------------------------------------------------------------------ domains
def test_subset_semantics(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    sub = d.subset(apistrat["awards"] == "Yes")
    assert sub.n == int((apistrat["awards"] == "Yes").sum())
    assert (sub.weights[(apistrat["awards"] != "Yes").to_numpy()] == 0).all()
    assert sub.df == 113 - 3  # R's degf(subset): PSUs minus strata among the domain's rows
    with pytest.raises(EstimationError, match="selects no respondents"):
        d.subset(np.zeros(d.n, dtype=bool))
    with pytest.raises(DesignError, match="shape"):
        d.subset(np.ones(3, dtype=bool))
    nested = sub.subset(apistrat["stype"] == "E")
    assert nested.n == int(((apistrat["awards"] == "Yes") & (apistrat["stype"] == "E")).sum())


def test_domain_index_several_variables(apistrat):
    d = SurveyDesign(apistrat, weights="pw")
    codes, levels = d.domain_index(["stype", "awards"])
    assert list(levels.columns) == ["stype", "awards"]
    assert len(levels) == 6 and codes.min() == 0 and codes.max() == 5
    lab = levels.iloc[codes]
    assert (lab["stype"].to_numpy() == apistrat["stype"].to_numpy()).all()
    assert (lab["awards"].to_numpy() == apistrat["awards"].to_numpy()).all()


def test_domain_index_categorical_order():
    df = pd.DataFrame({"t": pd.Categorical(["b", "a", "c", "b"], categories=["c", "b", "a"])})
    codes, levels = SurveyDesign(df).domain_index("t")
    assert list(levels["t"]) == ["c", "b", "a"] and codes.tolist() == [1, 2, 0, 1]


# ------------------------------------------------------------------ variance engine hooks
def test_vcov_totals_matches_total_se(apiclus2):
    d = SurveyDesign(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    z = apiclus2[["api00", "api99"]].to_numpy(float)
    V = vcov_totals(d, z)
    assert V.shape == (2, 2) and np.allclose(V, V.T)
    assert np.all(np.linalg.eigvalsh(V) >= -1e-8 * V.max())
    t = d.total(["api00", "api99"])
    np.testing.assert_allclose(np.sqrt(np.diag(V)), t["se"], rtol=1e-12)


def test_with_weights_appends_calibration_and_keeps_original(apiclus1):
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum")

    g = pd.factorize(apiclus1["stype"])[0]

    class Centre:  # post-stratification-like: remove group means of x
        def residualize(self, x):
            means = np.stack([np.bincount(g, weights=c) / np.bincount(g) for c in x.T], 1)
            return x - means[g]

    d2 = d._with_weights(d.weights * 2, calibration=Centre(), weighting_report={"ok": True},
                         method="test")
    assert d2.calibrations and len(d2.calibrations) == 1 and not d.calibrations
    assert d2.weighting_report == {"ok": True} and d.weighting_report is None
    assert d2.meta["method"] == "test"
    np.testing.assert_allclose(d2.weights, 2 * d.weights)
    assert d2.mean("api00")["estimate"].iloc[0] == pytest.approx(d.mean("api00")["estimate"].iloc[0])
    # the calibration object changes the variance
    assert d2.mean("api00")["se"].iloc[0] != pytest.approx(d.mean("api00")["se"].iloc[0])
    with pytest.raises(DesignError, match="shape"):
        d._with_weights(np.ones(3))
    with pytest.raises(DesignError, match="residualize"):
        d._with_weights(d.weights, calibration=object())


def test_each_lonely_option_changes_the_result(apiclus1):
    ses = {}
    for opt in ["remove", "adjust", "average"]:
        d = SurveyDesign(apiclus1, weights="pw", strata="lst", psu="dnum", lonely_psu=opt)
        ses[opt] = d.total("enroll")["se"].iloc[0]
    assert len({round(v, 6) for v in ses.values()}) == 3


def test_replicate_designs(apiclus1, apistrat):
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    jk = d.replicate("jk1")
    assert jk.is_replicate and jk.repweights.shape == (len(apiclus1), 15) and jk.df == 14
    with pytest.raises(DesignError, match="jk1 is for unstratified"):
        SurveyDesign(apistrat, weights="pw", strata="stype").replicate("jk1")
    with pytest.raises(DesignError, match="jkn needs a stratified"):
        d.replicate("jkn")
    with pytest.raises(DesignError, match="method"):
        d.replicate("brr")
    b1 = SurveyDesign(apiclus1, weights="pw", psu="dnum").replicate("bootstrap", replicates=30, seed=3)
    b2 = SurveyDesign(apiclus1, weights="pw", psu="dnum").replicate("bootstrap", replicates=30, seed=3)
    np.testing.assert_array_equal(b1.repweights, b2.repweights)
    # replicate_estimates / replicate_vcov reproduce the estimator
    y = apiclus1["api00"].to_numpy(float)
    theta, thetas = replicate_estimates(jk, lambda W: (W * y[:, None]).sum(0) / W.sum(0))
    se = np.sqrt(replicate_vcov(jk.replicates, theta, thetas)[0, 0])
    assert se == pytest.approx(jk.mean("api00")["se"].iloc[0], rel=1e-12)
    theta2, thetas2 = replicate_estimates(jk, lambda w: [(w * y).sum() / w.sum()], vectorised=False)
    np.testing.assert_allclose(thetas2, thetas)
    # vcov_totals also works on replicate designs
    V = vcov_totals(jk, y)
    assert np.sqrt(V[0, 0]) == pytest.approx(jk.total("api00")["se"].iloc[0], rel=1e-12)


def test_methods_section_marker_present():
    src = (Path(__file__).parents[1] / "survey" / "design.py").read_text(encoding="utf-8")
    assert "# --- methods delegated to later stages ---" in src


# ------------------------------------------------------------------ property tests
@st.composite
def small_designs(draw):
    H = draw(st.integers(1, 4))
    per = draw(st.lists(st.integers(2, 4), min_size=H, max_size=H))
    rows = []
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    cid = 0
    for h, k in enumerate(per):
        for _ in range(k):
            m = int(rng.integers(1, 5))
            for _ in range(m):
                rows.append((h, cid, rng.uniform(0.5, 5), rng.normal(10, 3), int(rng.integers(0, 3))))
            cid += 1
    df = pd.DataFrame(rows, columns=["h", "c", "w", "y", "g"])
    return df


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_designs())
def test_property_by_equals_subset_and_total_identity(df):
    d = SurveyDesign(df, weights="w", strata="h", psu="c")
    by = d.total("y", by="g")
    bym = d.mean("y", by="g")
    for _, row in by.iterrows():
        sub = d.subset(df["g"] == row["g"])
        t = sub.total("y").iloc[0]
        assert t["se"] == pytest.approx(row["se"], rel=1e-9, abs=1e-12)
        m = sub.mean("y").iloc[0]
        mrow = bym[bym["g"] == row["g"]].iloc[0]
        assert m["se"] == pytest.approx(mrow["se"], rel=1e-9, abs=1e-12)
        # total = mean x estimated domain size
        Nd = sub.weights.sum()
        assert t["estimate"] == pytest.approx(m["estimate"] * Nd, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(small_designs(), st.integers(0, 1000))
def test_property_row_order_does_not_matter(df, seed):
    d = SurveyDesign(df, weights="w", strata="h", psu="c")
    perm = np.random.default_rng(seed).permutation(len(df))
    d2 = SurveyDesign(df.iloc[perm].reset_index(drop=True), weights="w", strata="h", psu="c")
    a, b = d.mean("y"), d2.mean("y")
    assert a["estimate"].iloc[0] == pytest.approx(b["estimate"].iloc[0], rel=1e-12)
    assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-9, abs=1e-12)


def test_weights_scale_invariance_of_mean_se(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    d10 = d._with_weights(d.weights * 10)
    assert d10.mean("api00")["se"].iloc[0] == pytest.approx(d.mean("api00")["se"].iloc[0], rel=1e-12)
    assert d10.total("api00")["se"].iloc[0] == pytest.approx(10 * d.total("api00")["se"].iloc[0], rel=1e-12)


def test_no_warnings_on_normal_use(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d.mean(["api00", "api99"], by="awards")
        d.proportion("awards")
        d.ratio("api00", "api99")


def test_repweights_by_column_names_and_pattern(apiclus1):
    W = pd.read_csv(FIX / "rep_jk1_apiclus1.csv")
    df = pd.concat([apiclus1, W], axis=1)
    a = SurveyDesign(df, weights="pw", repweights=list(W.columns), rep_type="jk1", scale=14 / 15 * 0.9)
    b = SurveyDesign(df, weights="pw", repweights=r"^rw\d+$", rep_type="jk1", scale=14 / 15 * 0.9)
    c = SurveyDesign(df, weights="pw", repweights=W.to_numpy(), rep_type="jk1", scale=14 / 15 * 0.9)
    se = [x.mean("api00")["se"].iloc[0] for x in (a, b, c)]
    assert se[0] == se[1] == se[2]
    with pytest.raises(DesignError, match="no column matches"):
        SurveyDesign(df, weights="pw", repweights="^zz", rep_type="jk1")


def test_total_of_categorical_is_count_by_level(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype", fpc="fpc")
    t = d.total("awards")
    p = d.proportion("awards")
    assert t["level"].tolist() == ["No", "Yes"]
    np.testing.assert_allclose(t["estimate"], p["estimate"] * d.weights.sum(), rtol=1e-12)


def test_questionnaire_travels_with_the_design():
    """questionnaire= is kept by subset/weighting so question-aware methods keep working."""
    import pytest as _pytest
    from survey import Questionnaire, SurveyDesign
    from survey.errors import DesignError as _DesignError

    q = Questionnaire.from_dict({"wave": {"id": "t"}, "questions": [
        {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    df = pd.DataFrame({"sex": pd.Categorical(["男", "女", "男", "女"]), "w": [1.0, 2, 3, 4]})
    d = SurveyDesign(df, weights="w", questionnaire=q)
    assert d.questionnaire is q
    assert d.subset(df["sex"] == "男").questionnaire is q
    assert d.rake({"sex": {"男": 50, "女": 50}}).questionnaire is q
    with _pytest.raises(_DesignError, match="questionnaire"):
        SurveyDesign(df, weights="w", questionnaire="q.yml")


def test_assign_adds_variables_keeps_design_and_refuses_design_columns():
    df = pd.DataFrame({"h": [40.0, 50, 60, 45], "w": [1.0, 1, 2, 2], "st": ["a", "a", "b", "b"],
                       "psu": [1, 2, 3, 4]}, index=[10, 11, 12, 13])
    d = SurveyDesign(df, weights="w", strata="st", psu="psu")
    d2 = d.assign(long=pd.Series([0.0, 1, 1, 0]))            # positional, not index-aligned
    assert d2.data["long"].tolist() == [0.0, 1, 1, 0]
    np.testing.assert_array_equal(d2.weights, d.weights)
    assert "long" not in d.data                               # the original is untouched
    dom = d2.subset(d2.data["st"] == "a")
    assert dom.assign(x=np.ones(4)).mean("x", na_rm=True)["estimate"].iloc[0] == 1.0
    with pytest.raises(DesignError, match="design columns"):
        d.assign(w=np.ones(4))
    with pytest.raises(DesignError, match="length 3"):
        d.assign(x=[1, 2, 3])


# ------------------------------------------------------------------ cheap construction (issue #17)
@pytest.mark.parametrize("strata", [None, "stype"])
@pytest.mark.parametrize("lonely", ["fail", "adjust"])
def test_unclustered_equals_explicit_respondent_psu(apistrat, strata, lonely):
    """No psu= (every row its own PSU, coded without factorising) and psu= a unique respondent
    id (integer or string) are the same design: identical estimates, SEs, df and deff."""
    df = apistrat.assign(rid=apistrat["snum"].astype(str) + "x")
    kw = dict(weights="pw", strata=strata, fpc="fpc" if strata else None, lonely_psu=lonely)
    designs = [SurveyDesign(df, **kw), SurveyDesign(df, psu="snum", **kw),
               SurveyDesign(df, psu="rid", **kw)]
    assert {d.df for d in designs} == {designs[0].df}
    assert {d.n_psu for d in designs} == {len(df)}
    for est in ("mean", "total"):
        res = [getattr(d, est)(["api00", "api99"], by="awards") for d in designs]
        for r in res[1:]:
            for col in ("estimate", "se", "deff", "n"):
                np.testing.assert_allclose(r[col], res[0][col], rtol=1e-12, atol=0)


@given(st.lists(st.integers(-3, 3) | st.integers(-(2 ** 40), 2 ** 40), min_size=1, max_size=40))
@settings(max_examples=80, deadline=None)
def test_integer_id_codes_equal_sorted_factorise(vals):
    from survey.variance import codes as _codes
    a = np.array(vals, dtype=np.int64)
    codes, uniq = _codes(a)
    ref_codes, ref_uniq = pd.factorize(a, sort=True)
    assert codes.tolist() == ref_codes.tolist()
    assert uniq.tolist() == ref_uniq.tolist()


def test_integer_and_string_cluster_ids_give_the_same_design(apiclus2):
    kw = dict(fpc=["fpc1", "fpc2"])
    d_int = SurveyDesign(apiclus2, psu=["dnum", "snum"], **kw)
    d_str = SurveyDesign(apiclus2.assign(dnum=apiclus2["dnum"].astype(str).radd("d"),
                                         snum=apiclus2["snum"].astype(str).radd("s")),
                         psu=["dnum", "snum"], **kw)
    a, b = d_int.mean(["api00", "api99"], by="stype"), d_str.mean(["api00", "api99"], by="stype")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    assert d_int.df == d_str.df


def test_derived_designs_reuse_the_codes(apistrat):
    """Codes are computed once: weighting, subsetting and replacing weights return designs
    sharing the stage code arrays and the cached domain codes (same objects, not copies)."""
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    codes, _ = d.domain_index("awards")
    targets = {"awards": {"No": 2000.0, "Yes": 4194.0}}
    derived = [d.rake(targets), d.poststratify(targets), d.subset(apistrat["api00"] > 600),
               d._with_weights(np.asarray(d.weights) * 2)]
    for d2 in derived:
        assert d2.stages[0].cl is d.stages[0].cl
        assert d2.stages[0].st is d.stages[0].st
        assert d2.domain_index("awards")[0] is codes
    # codes cached later on a derived design are seen by its parent too (same data)
    c2, _ = derived[0].domain_index(["stype", "awards"])
    assert d.domain_index(["stype", "awards"])[0] is c2
    assert not codes.flags.writeable


def test_new_data_gets_new_codes(apistrat):
    d = SurveyDesign(apistrat, weights="pw", strata="stype")
    codes, levels = d.domain_index("awards")
    flipped = apistrat["awards"].map({"Yes": "No", "No": "Yes"})
    d2 = d.assign(awards=flipped.to_numpy())
    codes2, levels2 = d2.domain_index("awards")
    assert codes2 is not codes
    np.testing.assert_array_equal(codes2, 1 - codes)
    # the level table handed out is a copy: changing it does not corrupt the cache
    levels.loc[0, "awards"] = "changed"
    assert d.domain_index("awards")[1]["awards"].tolist() == ["No", "Yes"]
