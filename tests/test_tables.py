"""Tests of survey.tables against R (fixtures in tests/fixtures/r_tables, made by
make_reference.R there) and against SurveyDesign.mean on expanded indicator columns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from survey.design import SurveyDesign
from survey.errors import DesignError, EstimationError
from survey.tables import add_flags, contrast, cronbach_alpha, crosstab, rao_scott

from r_tables_designs import FIX, r_designs


@pytest.fixture(scope="module")
def designs() -> dict[str, SurveyDesign]:
    return r_designs()


CHI = pd.read_csv(FIX / "chisq.csv")
CT = pd.read_csv(FIX / "crosstab.csv", keep_default_na=False, na_values=[""])
TABLES = list(CHI.groupby(["design", "row_var", "col_var"], sort=False).groups)


# ---------------------------------------------------------------------------------- crosstab / R
@pytest.mark.parametrize("key", TABLES, ids=["-".join(k) for k in TABLES])
def test_crosstab_matches_svychisq_and_svytable(designs, key):
    dn, r, c = key
    t = crosstab(designs[dn], r, c)
    for _, x in CHI[(CHI.design == dn) & (CHI.row_var == r) & (CHI.col_var == c)].iterrows():
        src = {"F": t.test, "Chisq": t.chisq}.get(x.statistic)
        if src is None:
            src = t.wald[t.wald.method == x.statistic]
        y = src.iloc[0]
        assert y.statistic == pytest.approx(x.value, rel=1e-8)
        assert y.ndf == pytest.approx(x.ndf, rel=1e-8)
        if x.statistic != "Chisq":
            assert y.ddf == pytest.approx(x.ddf, rel=1e-8)
        assert y.p == pytest.approx(x.p, rel=1e-7)
    kinds = {"total": "count", "prop": "pct", "row_pct": "row_pct", "col_pct": "col_pct"}
    e = CT[(CT.design == dn) & (CT.row_var == r) & (CT.col_var == c)]
    f = t.frame.assign(row=t.frame[r].astype(str), col=t.frame[c].astype(str))
    ref = e[e.kind != "svytable"].assign(measure=lambda z: z.kind.map(kinds))
    m = ref.merge(f, on=["measure", "row", "col"], suffixes=("_r", ""))
    assert len(m) == len(ref)
    np.testing.assert_allclose(m.estimate, m.estimate_r, rtol=1e-10)
    np.testing.assert_allclose(m.se, m.se_r, rtol=1e-9)
    # svytable (weighted counts, all levels)
    tab = e[e.kind == "svytable"].merge(f[f.measure == "count"], on=["row", "col"],
                                        suffixes=("_r", ""))
    np.testing.assert_allclose(tab.estimate, tab.estimate_r, rtol=1e-6)  # R stores JK1 in float


def test_crosstab_invariants_and_layout(designs):
    t = designs["strat"].crosstab("meals_cat", "awards", by="stype")
    assert list(t.frame.columns[:7]) == ["estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff"]
    for col in ("stype", "meals_cat", "awards", "measure", "suppress", "flag_cv", "flag_n"):
        assert col in t.frame.columns
    rp = t.row_pct.groupby(["stype", "meals_cat"], observed=True)["estimate"].sum()
    np.testing.assert_allclose(rp.dropna(), 1.0)
    cp = t.col_pct.groupby(["stype", "awards"], observed=True)["estimate"].sum()
    np.testing.assert_allclose(cp.dropna(), 1.0)
    assert len(t.test) == 3 and set(t.test.stype) == {"E", "H", "M"}
    # by= equals a subset design (domain keeps the full design)
    d = designs["strat"]
    sub = crosstab(d.subset(d.data["stype"] == "H"), "meals_cat", "awards")
    a = t.frame[t.frame.stype == "H"].reset_index(drop=True)
    np.testing.assert_allclose(a.se, sub.frame.se, rtol=1e-12)
    assert sub.test.p.iloc[0] == pytest.approx(t.test.p.iloc[1], rel=1e-12)
    # the wide view
    w = t.table("row_pct")
    assert w.shape[1] == 2


def test_crosstab_pct_equals_design_proportion(designs):
    d = designs["clus1"]
    t = d.crosstab("stype", "awards")
    p = d.proportion("awards", by="stype")
    rp = t.row_pct
    m = rp.assign(level=rp.awards.astype(str), stype=rp.stype.astype(str)).merge(
        p.assign(level=p.level.astype(str), stype=p.stype.astype(str)), on=["stype", "level"])
    np.testing.assert_allclose(m.estimate_x, m.estimate_y, rtol=1e-12)
    np.testing.assert_allclose(m.se_x, m.se_y, rtol=1e-10)
    np.testing.assert_allclose(m.deff_x, m.deff_y, rtol=1e-8)
    np.testing.assert_allclose(m.ci_low_x, m.ci_low_y, rtol=1e-10)


def test_rao_scott_srs_reduces_to_pearson():
    p = np.array([[0.2, 0.1, 0.1], [0.1, 0.3, 0.2]])
    v = p.ravel()
    n = 500
    r = rao_scott(p, (np.diag(v) - np.outer(v, v)) / n, df=n - 1, N=n)
    x2 = n * ((p - np.outer(p.sum(1), p.sum(0))) ** 2 / np.outer(p.sum(1), p.sum(0))).sum()
    assert r["Chisq"].statistic == pytest.approx(x2)
    assert r["F"].statistic == pytest.approx(x2 / 2)      # trace(Delta) = (r-1)(c-1) under SRS
    assert r["F"].ndf == pytest.approx(2)


def test_rao_scott_with_zero_covariance_is_nan_not_an_exception():
    """A table whose proportions carry no variance (a census; cells fixed by raking) has
    trace(Delta) = 0: R's svychisq gives F = X²/0 on 0/0 df, p NaN; it must not raise a bare
    ZeroDivisionError from float division."""
    p = np.array([[0.3, 0.2], [0.2, 0.3]])
    r = rao_scott(p, np.zeros((4, 4)), df=10, N=100)
    assert np.isinf(r["F"].statistic) and np.isnan(r["F"].ndf) and np.isnan(r["F"].p)
    assert r["Chisq"].statistic == pytest.approx(4.0) and np.isnan(r["Chisq"].p)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 4))
def test_crosstab_percentages_sum_to_one(seed, nr, nc):
    rng = np.random.default_rng(seed)
    n = 120
    df = pd.DataFrame({"a": rng.integers(0, nr, n), "b": rng.integers(0, nc, n),
                       "w": rng.uniform(0.5, 3, n), "c": rng.integers(0, 12, n)})
    t = SurveyDesign(df, weights="w", psu="c").crosstab("a", "b")
    assert t.pct.estimate.sum() == pytest.approx(1.0)
    assert t.counts.estimate.sum() == pytest.approx(df.w.sum())
    assert (t.frame.se >= 0).all()


def test_crosstab_errors(designs):
    d = designs["strat"]
    with pytest.raises(DesignError, match="nope"):
        d.crosstab("nope", "awards")
    with pytest.raises(EstimationError, match="both"):
        d.crosstab("awards", "awards")
    with pytest.raises(DesignError, match="distinct values"):
        d.crosstab("api00", "awards")


# ---------------------------------------------------------------------------------- contrast / R
def test_contrast_matches_svycontrast(designs):
    ref = pd.read_csv(FIX / "contrast.csv")
    for _, x in ref.iterrows():
        coef = {"E": x.coef_E, "H": x.coef_H, "M": x.coef_M}
        out = contrast(designs[x.design], x["var"], "stype", coef)
        assert out.estimate.iloc[0] == pytest.approx(x.estimate, rel=1e-10)
        assert out.se.iloc[0] == pytest.approx(x.se, rel=1e-9)


def test_contrast_several_and_category(designs):
    d = designs["strat"]
    out = d.contrast("awards", "stype", {"E-H": {"E": 1, "H": -1}, "M-H": {"M": 1, "H": -1}},
                     category="Yes")
    assert list(out.contrast) == ["E-H", "M-H"]
    p = d.proportion("awards", by="stype")
    yes = p[p.level.astype(str) == "Yes"].set_index(p[p.level.astype(str) == "Yes"].stype.astype(str))
    assert out.estimate.iloc[0] == pytest.approx(yes.estimate["E"] - yes.estimate["H"])
    with pytest.raises(EstimationError, match="not levels"):
        d.contrast("api00", "stype", {"X": 1})
    with pytest.raises(EstimationError, match="category"):
        d.contrast("awards", "stype", {"E": 1, "H": -1})


# --------------------------------------------------------------- multi / ranked / likert / scores
@pytest.fixture(scope="module")
def qdata() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    df = pd.DataFrame({"st": np.repeat(np.arange(4), n // 4), "psu": np.arange(n) // 15,
                       "w": rng.uniform(0.5, 4, n), "g": rng.choice(["a", "b"], n)})
    answered = rng.random(n) > 0.15
    for code in (1, 2, 3, 9):
        v = pd.array(rng.random(n) < 0.2 + 0.1 * code / 3, dtype="boolean")
        v[~answered] = pd.NA
        df[f"q15_{code}"] = v
    ranks = np.full((n, 4), np.nan)
    ans_r = rng.random(n) > 0.1
    for i in np.flatnonzero(ans_r):
        chosen = rng.permutation(4)[: rng.integers(1, 4)]
        ranks[i, chosen] = np.arange(1, len(chosen) + 1)
    for j, code in enumerate((1, 2, 3, 4)):
        df[f"q30_{code}"] = pd.array(np.where(np.isnan(ranks[:, j]), None, ranks[:, j]), dtype="Int64")
    for r in ("r1", "r2", "r3"):
        v = rng.integers(1, 6, n).astype(object)
        v[rng.random(n) < 0.05] = 99
        v[rng.random(n) < 0.05] = None
        df[f"q20_{r}"] = pd.array(v, dtype="Int64")
    return df


@pytest.fixture(scope="module")
def qdesign(qdata) -> SurveyDesign:
    return SurveyDesign(qdata, weights="w", strata="st", psu="psu", nest=True)


@pytest.fixture(scope="module")
def qn():
    from survey.questionnaire import Questionnaire
    return Questionnaire.from_dict({"wave": {"id": "t", "title": "测试"}, "questions": [
        {"id": "q15", "text": "多选", "type": "multi", "options": {1: "甲", 2: "乙", 3: "丙", 9: "其他"}},
        {"id": "q30", "text": "排序", "type": "rank", "k": 3,
         "options": {1: "收入", 2: "住房", 3: "子女", 4: "经费"}},
        {"id": "q20", "text": "量表", "type": "likert", "rows": {"r1": "压力大", "r2": "满意", "r3": "想离开"},
         "scale": {1: "非常不同意", 2: "不同意", 3: "一般", 4: "同意", 5: "非常同意"}, "reversed": ["r3"]},
    ]})


def _indicator_means(d: SurveyDesign, df: pd.DataFrame, values: dict[str, np.ndarray],
                     answered: np.ndarray, by: str | None = None) -> pd.DataFrame:
    extra = df.assign(**{k: np.where(answered, v, np.nan) for k, v in values.items()})
    dd = SurveyDesign(extra, weights="w", strata="st", psu="psu", nest=True)
    return dd.mean(list(values), by=by, na_rm=True)


def test_multi_equals_mean_of_indicators(qdesign, qdata, qn):
    out = qdesign.multi("q15", questionnaire=qn)
    cols = [f"q15_{c}" for c in (1, 2, 3, 9)]
    B = qdata[cols].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    answered = ~np.isnan(B).all(1)
    vals = {f"i{j}": np.nan_to_num(B[:, j]) for j in range(4)}
    vals["nchosen"] = np.nan_to_num(B).sum(1)
    ref = _indicator_means(qdesign, qdata, vals, answered)
    pct = out[out.measure == "pct"]
    np.testing.assert_allclose(pct.estimate, ref.estimate[:4], rtol=1e-12)
    np.testing.assert_allclose(pct.se, ref.se[:4], rtol=1e-10)
    np.testing.assert_allclose(pct.deff, ref.deff[:4], rtol=1e-8)
    np.testing.assert_allclose(pct.ci_high, ref.ci_high[:4], rtol=1e-10)
    assert list(pct.option) == ["甲", "乙", "丙", "其他"]
    mc = out[out.measure == "mean_chosen"]
    assert mc.estimate.iloc[0] == pytest.approx(ref.estimate.iloc[4])
    assert mc.se.iloc[0] == pytest.approx(ref.se.iloc[4], rel=1e-10)
    share = out[out.measure == "share"]
    assert share.estimate.sum() == pytest.approx(1.0)
    assert (pct.n == answered.sum()).all()
    # explicit columns give the same numbers; by= equals the subset design
    np.testing.assert_allclose(qdesign.multi(cols).estimate, out.estimate)
    ob = qdesign.multi(cols, by="g")
    refb = _indicator_means(qdesign, qdata, vals, answered, by="g")
    a = ob[(ob.measure == "pct") & (ob.g == "b")]
    rb = refb[refb.g == "b"]
    np.testing.assert_allclose(a.se, rb.se[:4], rtol=1e-10)


def test_ranked_equals_mean_of_indicators(qdesign, qdata, qn):
    out = qdesign.ranked("q30", questionnaire=qn)
    assert (out.k == 3).all()
    cols = [f"q30_{c}" for c in (1, 2, 3, 4)]
    R = qdata[cols].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    answered = ~np.isnan(R).all(1)
    Ri = np.nan_to_num(R)
    vals = {}
    for j in range(4):
        vals[f"first{j}"] = (Ri[:, j] == 1).astype(float)
        vals[f"top{j}"] = ((Ri[:, j] >= 1) & (Ri[:, j] <= 3)).astype(float)
        vals[f"score{j}"] = np.where((Ri[:, j] >= 1) & (Ri[:, j] <= 3), 4 - Ri[:, j], 0.0)
    ref = _indicator_means(qdesign, qdata, vals, answered).set_index("variable")
    for j in range(4):
        for meas, key in (("pct_first", "first"), ("pct_top", "top"), ("score", "score")):
            row = out[(out.measure == meas) & (out.code == j + 1)].iloc[0]
            assert row.estimate == pytest.approx(ref.estimate[f"{key}{j}"], rel=1e-12)
            assert row.se == pytest.approx(ref.se[f"{key}{j}"], rel=1e-10)
    # custom weights change the score (and only the score)
    o2 = qdesign.ranked(cols, k=3, weights=[5, 2, 1])
    assert not np.allclose(o2[o2.measure == "score"].estimate, out[out.measure == "score"].estimate)
    np.testing.assert_allclose(o2[o2.measure == "pct_top"].estimate,
                               out[out.measure == "pct_top"].estimate)
    o3 = qdesign.ranked(cols, k=1)
    np.testing.assert_allclose(o3[o3.measure == "pct_top"].estimate,
                               out[out.measure == "pct_first"].estimate)
    with pytest.raises(EstimationError, match="weights"):
        qdesign.ranked(cols, k=3, weights=[1, 2])


def test_likert_equals_design_mean(qdesign, qdata, qn):
    out = qdesign.likert("q20", questionnaire=qn)
    for r in ("r1", "r2", "r3"):
        col = f"q20_{r}"
        x = qdata[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        valid = np.isin(x, [1, 2, 3, 4, 5])
        vals = {"m": x, "top": (x >= 4).astype(float), "bot": (x <= 2).astype(float),
                "v3": (x == 3).astype(float)}
        ref = _indicator_means(qdesign, qdata, vals, valid).set_index("variable")
        o = out[out.item == r].set_index("measure")
        assert o.loc["mean", "estimate"] == pytest.approx(ref.estimate["m"], rel=1e-12)
        assert o.loc["mean", "se"] == pytest.approx(ref.se["m"], rel=1e-10)
        assert o.loc["top_box", "se"] == pytest.approx(ref.se["top"], rel=1e-10)
        assert o.loc["bottom_box", "estimate"] == pytest.approx(ref.estimate["bot"], rel=1e-12)
        d3 = out[(out.item == r) & (out.measure == "dist") & (out.value == 3)].iloc[0]
        assert d3.se == pytest.approx(ref.se["v3"], rel=1e-10)
        assert d3.value_label == "一般"
        assert out[(out.item == r) & (out.measure == "dist")].estimate.sum() == pytest.approx(1)
    # top=1 changes the top box
    o1 = qdesign.likert("q20", questionnaire=qn, top=1)
    assert (o1[o1.measure == "top_box"].estimate.to_numpy()
            < out[out.measure == "top_box"].estimate.to_numpy()).all()


def _textbook_alpha(X: np.ndarray) -> float:
    X = X[~np.isnan(X).any(1)]
    k = X.shape[1]
    item_var = sum(np.var(X[:, j], ddof=1) for j in range(k))
    return k / (k - 1) * (1 - item_var / np.var(X.sum(1), ddof=1))


def test_scale_score_alpha_and_mean(qdesign, qdata, qn):
    s = qdesign.scale_score("q20", questionnaire=qn)
    assert s.reverse == ["q20_r3"]
    X = qdata[["q20_r1", "q20_r2", "q20_r3"]].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    X[~np.isin(X, [1, 2, 3, 4, 5])] = np.nan
    X[:, 2] = 6 - X[:, 2]
    assert s.alpha == pytest.approx(_textbook_alpha(X), rel=1e-12)
    assert cronbach_alpha(X) == pytest.approx(_textbook_alpha(X), rel=1e-12)
    score = X.mean(1)
    np.testing.assert_allclose(s.scores.to_numpy(), score, equal_nan=True)
    ref = _indicator_means(qdesign, qdata, {"s": score}, ~np.isnan(score))
    assert s.frame.estimate.iloc[0] == pytest.approx(ref.estimate.iloc[0], rel=1e-12)
    assert s.frame.se.iloc[0] == pytest.approx(ref.se.iloc[0], rel=1e-10)
    # options change the result
    s2 = qdesign.scale_score(["q20_r1", "q20_r2", "q20_r3"], reverse=[], scale=[1, 2, 3, 4, 5])
    assert s2.alpha != pytest.approx(s.alpha)
    s3 = qdesign.scale_score("q20", questionnaire=qn, method="sum")
    assert s3.frame.estimate.iloc[0] == pytest.approx(3 * s.frame.estimate.iloc[0])
    s4 = qdesign.scale_score("q20", questionnaire=qn, min_items=2)
    assert s4.frame.n.iloc[0] > s.frame.n.iloc[0]
    sb = qdesign.scale_score("q20", questionnaire=qn, by="g")
    assert len(sb.frame) == 2 and "alpha" in sb.frame.columns
    # textbook example (two parallel items)
    assert cronbach_alpha(np.array([[1.0, 1], [2, 2], [3, 3]])) == pytest.approx(1.0)


def test_question_errors(qdesign, qn):
    with pytest.raises(EstimationError, match="questionnaire"):
        qdesign.multi("q15")
    with pytest.raises(EstimationError, match="type 'rank'"):
        qdesign.multi("q30", questionnaire=qn)
    with pytest.raises(DesignError, match="q99_1"):
        qdesign.multi(["q99_1"])
    with pytest.raises(EstimationError, match="not numeric"):
        qdesign.likert(["g"])


# ---------------------------------------------------------------------------------------- flags
def test_add_flags_thresholds_each_change_the_result():
    f = pd.DataFrame({"estimate": [0.5, 0.1, 0.4], "se": [0.05, 0.04, 0.02], "n": [100, 40, 25],
                      "n_cell": [50, 4, 10], "n_eff": [50.0, 20.0, 25.0]})
    base = add_flags(f)
    assert base.flag_n.tolist() == [False, False, True]
    assert base.flag_cv.tolist() == [False, True, False]
    assert base.flag_n_eff.tolist() == [False, True, True]
    assert base.suppress.tolist() == [False, True, False]
    assert add_flags(f, min_n=20).flag_n.tolist() == [False, False, False]
    assert add_flags(f, max_cv=0.5).flag_cv.tolist() == [False, False, False]
    assert add_flags(f, min_n_eff=None).flag_n_eff.tolist() == [False, False, False]
    assert add_flags(f, min_cell=11).suppress.tolist() == [False, True, True]
    with pytest.raises(EstimationError, match="'se'"):
        add_flags(f.drop(columns="se"))


def test_flags_on_estimator_output(qdesign):
    out = qdesign.multi(["q15_1", "q15_2"], by="g", min_cell=100_000)
    assert out.suppress.all()
    assert (out.cv == out.se / out.estimate.abs()).all()


def test_replicate_design_with_empty_cells(designs):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = designs["jk1"].crosstab("stype", "awards", by="sch_wide")
    yes = t.frame[(t.frame.sch_wide == "Yes") & (t.frame.measure == "row_pct")]
    assert np.isfinite(yes.se).all()
    assert np.isnan(t.test.p.iloc[0]) and np.isfinite(t.test.p.iloc[1])   # one column level in "No"


def test_by_missing_values_are_reported_not_silently_dropped():
    """Respondents without a by= value leave every group; the user is told how many."""
    import warnings as _w

    from survey import SurveyDesign
    from survey.errors import SurveyWarning

    df = pd.DataFrame({"a": pd.Categorical(list("xyxyxyxy")), "b": pd.Categorical(list("ppqqppqq")),
                       "g": ["m", "m", "f", None, "m", "f", "f", "m"], "w": 1.0})
    d = SurveyDesign(df, weights="w")
    with pytest.warns(SurveyWarning, match=r"1 respondent\(s\) have no value of by=\['g'\]"):
        t = d.crosstab("a", "b", by="g")
    assert set(t.frame["g"].astype(str)) == {"f", "m"}
    with _w.catch_warnings():
        _w.simplefilter("error")
        d.crosstab("a", "b", by="a" if False else None)  # no by: no warning


def test_add_flags_suppresses_a_small_domain_even_with_no_one_in_the_cell():
    """One rule (survey.privacy.disclosure_mask): a base of 3 is suppressed although its cell
    count is 0 (the issue: by="title" gave n=3 and no flag); a zero cell of a large base stays."""
    f = pd.DataFrame({"estimate": [0.0, 0.0, 0.4], "se": [0.0, 0.0, 0.05], "n": [3, 200, 200],
                      "n_cell": [0, 0, 4]})
    assert add_flags(f, min_cell=10)["suppress"].tolist() == [True, False, True]


# ------------------------------------------------------------ one rule, one core (issue #14)
def _small_design(seed: int, n: int = 150) -> tuple[pd.DataFrame, SurveyDesign]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.integers(0, 3, n), "b": rng.integers(0, 4, n),
                       "g": rng.choice(["x", "y"], n), "y": rng.normal(5, 2, n),
                       "w": rng.uniform(0.5, 3, n), "c": rng.integers(0, 15, n),
                       "s": rng.integers(0, 2, n)})
    df["c"] = df["c"] * 2 + df["s"]                       # PSUs nested in strata
    return df, SurveyDesign(df, weights="w", psu="c", strata="s")


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_crosstab_row_and_column_shares_sum_to_one(seed):
    """row_pct sums to 1 within every row present, col_pct within every column present, and
    the row shares are the design's proportions within the row domain (same SE)."""
    df, d = _small_design(seed)
    t = d.crosstab("a", "b")
    rows = t.row_pct.groupby("a", observed=True)
    assert np.allclose(rows["estimate"].sum(), 1.0)
    assert np.allclose(t.col_pct.groupby("b", observed=True)["estimate"].sum(), 1.0)
    p = d.proportion("b", by="a")
    rp = t.row_pct[t.row_pct.n_cell > 0].reset_index(drop=True)
    assert np.allclose(np.sort(rp.estimate), np.sort(p.estimate[p.estimate > 0]), rtol=1e-10)
    assert np.allclose(np.sort(rp.se), np.sort(p.se[p.estimate > 0]), rtol=1e-8)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=12),
       st.integers(0, 25))
def test_add_flags_suppresses_exactly_what_disclosure_mask_does(cells, min_cell):
    """add_flags' suppress column is the one disclosure rule, cell by cell; a zero cell over a
    large enough base is published, an empty base is suppressed."""
    from survey.privacy import disclosure_mask

    n = np.array([max(a, b) for a, b in cells])
    cell = np.array([min(a, b) for a, b in cells])
    f = pd.DataFrame({"estimate": cell / np.maximum(n, 1), "se": 0.01, "n": n, "n_cell": cell})
    out = add_flags(f, min_cell=min_cell)
    assert out["suppress"].tolist() == disclosure_mask(n, cell, min_cell).tolist()
    assert not out["suppress"][(cell == 0) & (n >= min_cell)].any()
    assert out["suppress"][n == 0].all() or min_cell == 0


def test_every_table_function_flags_through_add_flags(qdesign):
    """The flag columns of every table function are add_flags of its own frame (one place)."""
    from survey.tables.flags import FLAG_COLUMNS

    outs = [qdesign.multi(["q15_1", "q15_2"], by="g", min_cell=15),
            qdesign.crosstab("g", "st", min_n=40).frame]
    for out in outs:
        again = add_flags(out.drop(columns=list(FLAG_COLUMNS)), min_cell=15 if "option" in out else 10,
                          min_n=30 if "option" in out else 40)
        pd.testing.assert_frame_equal(out, again)


def test_parameter_errors_have_one_shape(qdesign):
    """Level and threshold checks of every table function: survey.validation's message."""
    with pytest.raises(EstimationError, match=r"^crosstab: level=1\.5 must be a number strictly "
                                              r"between 0 and 1 \(e\.g\. level=0\.95\)$"):
        qdesign.crosstab("g", "st", level=1.5)
    with pytest.raises(EstimationError, match=r"^multi: min_cell=-1 must be a number >= 0"):
        qdesign.multi(["q15_1", "q15_2"], min_cell=-1)
    with pytest.raises(EstimationError, match=r"^ranked: k=0 must be an integer >= 1"):
        qdesign.ranked(["q30_1", "q30_2"], k=0)
    with pytest.raises(EstimationError, match=r"^scale_score: method='median' must be one of"):
        qdesign.scale_score(["q20_r1", "q20_r2"], method="median")
    with pytest.raises(EstimationError, match=r"^contrast: level=0 must be"):
        qdesign.contrast("q15_1", "g", [1, -1], level=0)
    with pytest.raises(EstimationError, match=r"^add_flags: max_cv=-0\.1 must be a number >= 0"):
        add_flags(pd.DataFrame({"estimate": [1.0], "se": [0.1], "n": [50]}), max_cv=-0.1)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_contrast_is_the_difference_of_domain_means(seed):
    """contrast() (Estimates.contrast) equals the difference of the design's domain means, with
    the SE of R's svycontrast: var(a) + var(b) - 2 cov(a, b) from the joint estimates."""
    df, d = _small_design(seed)
    out = d.contrast("y", "g", {"y": 1, "x": -1})
    e = d.estimates("mean", "y", by="g")
    c = e.contrast([-1, 1])
    assert out.estimate.iloc[0] == pytest.approx(float(c.estimate[0]), rel=1e-10)
    assert out.se.iloc[0] == pytest.approx(float(c.se[0]), rel=1e-8)
