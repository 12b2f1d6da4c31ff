"""Trends: harmonisation checks, stacking, change estimates against R, planted demo changes.

R fixtures: tests/fixtures/r_trends/make_reference.R (two synthetic waves in waves.csv; the SE
of each change from two designs / a stacked design + svycontrast, incl. panel PSUs and
post-stratified waves).  The demo tests use the planted changes of survey.demo.effects.
"""
from __future__ import annotations

import copy
import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from survey import SurveyDesign
from survey.errors import DesignError, EstimationError, HarmonizationError
from survey.report import headline_table, not_comparable_table, plot_trends
from survey.trends import Harmonization, change, demo_designs, not_comparable, stack_waves, trend_table

ROOT = Path(__file__).parents[1]
HARM = ROOT / "questionnaires" / "harmonization.yml"
FIX = ROOT / "tests" / "fixtures" / "r_trends"
REF = json.loads((FIX / "reference.json").read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in REF["cases"]}
RTOL = 1e-8

REAL = ["hours", "sat_overall_mean", "sat_satisfied", "income_20w_plus", "aware_jianfu"]
NULL = ["training_days", "sleep_hours", "burnout_score", "burnout_high", "leave_share",
        "has_project_share"]


# ---------------------------------------------------------------------------------------------
# R reference
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def r_designs(post: bool = False) -> dict[str, SurveyDesign]:
    dat = pd.read_csv(FIX / "waves.csv", dtype={"wave": str})
    out = {}
    for w in ("2023", "2024"):
        d = SurveyDesign(dat[dat.wave == w].reset_index(drop=True), weights="w", strata="stratum",
                         psu="psu")
        if post:
            d = d.poststratify("x", {k: float(v) for k, v in REF["population"][w].items()})
        out[w] = d
    return out


def _check(row: pd.Series, case: dict) -> None:
    for ours, theirs in (("estimate_a", "estimate_a"), ("estimate_b", "estimate_b"),
                         ("change", "change"), ("se", "se"), ("se_a", "se_a"), ("se_b", "se_b")):
        np.testing.assert_allclose(float(row[ours]), case[theirs], rtol=RTOL, err_msg=f"{case['id']}: {ours}")
    assert float(row["df"]) == case["df"], case["id"]


@pytest.mark.parametrize("v", ["y", "b"])
def test_independent_change_matches_r(v):
    r = change(r_designs(), v, kind="proportion" if v == "b" else "mean")
    _check(r.iloc[0], CASES[f"indep_{v}"])
    if v == "y":  # the stacked (strata = wave × stratum) + svycontrast route gives the same
        _check(r.iloc[0], CASES["indep_y_stacked"])
    assert r["cov"].iloc[0] == 0.0


@pytest.mark.parametrize("v", ["y", "b"])
def test_independent_change_by_domain_matches_r(v):
    r = change(r_designs(), v, by="g").set_index("g")
    for g in ("a", "b"):
        _check(r.loc[g], CASES[f"indep_{v}_by_g_{g}"])


@pytest.mark.parametrize("v", ["y", "b"])
def test_panel_psu_change_matches_r(v):
    r = change(r_designs(), v, panel_psus=[f"S{h}{k}" for h in range(1, 6) for k in (1, 2)])
    _check(r.iloc[0], CASES[f"panel_{v}"])
    assert r["cov"].iloc[0] != 0.0
    r2 = change(r_designs(), v, panel_psus=True)  # every PSU id present in both waves
    np.testing.assert_allclose(r2["se"], r["se"], rtol=1e-12)


def test_panel_psu_change_by_domain_matches_r():
    r = change(r_designs(), "y", by="g", panel_psus=True).set_index("g")
    for g in ("a", "b"):
        _check(r.loc[g], CASES[f"panel_y_by_g_{g}"])


@pytest.mark.parametrize("panel", [None, True])
@pytest.mark.parametrize("v", ["y", "b"])
def test_change_within_a_domain_matches_r(v, panel):
    """StackedWaves.within(g, level) (a provincial report's trends) is the domain of R's
    by-domain change: respondents outside are zeros in their PSUs, every stratum stays."""
    S = stack_waves(r_designs(), None, panel, indicators=[v], keep=["g"])
    by = change(S, v, by="g").set_index("g")
    for g in ("a", "b"):
        r = change(S.within("g", g), v, kind="proportion" if v == "b" else "mean")
        assert len(r) == 1 and "g" not in r.columns
        case = f"{'panel' if panel else 'indep'}_{v}_by_g_{g}"
        if case in CASES:  # R: indep y and b, panel y
            _check(r.iloc[0], CASES[case])
        for c in ("estimate_a", "estimate_b", "change", "se", "se_a", "se_b", "cov", "p", "n_a", "n_b"):
            np.testing.assert_allclose(float(r[c].iloc[0]), float(by.loc[g, c]), rtol=1e-12, err_msg=(case, c))


def test_trend_table_within_a_domain_is_the_domains_rows_with_its_own_holm_family():
    from survey.multiplicity import holm_significant

    S = stack_waves(r_designs(), None, None, indicators=["y", "b"], keep=["g"])
    full = trend_table(S, by="g")
    for g in ("a", "b"):
        mine = trend_table(S.within("g", g))
        rows = full[full["g"].astype(str) == g].reset_index(drop=True)
        for c in ("est_2023", "se_2023", "est_2024", "se_2024", "change", "se", "ci_low", "ci_high", "p"):
            np.testing.assert_allclose(mine[c].to_numpy(float), rows[c].to_numpy(float), rtol=1e-12, err_msg=c)
        # Holm over the domain's own rows, not over every domain's
        np.testing.assert_allclose(mine["p_adj"], holm_significant(rows["p"].to_numpy(float))[0], rtol=1e-12)
    with pytest.raises(EstimationError, match="zz"):
        S.within("zz", "a")
    with pytest.raises(EstimationError, match="nobody"):
        S.within("g", "no such level")
    # by= inside a domain: only the by-levels met inside (wave x ...)
    S2 = stack_waves(r_designs(), None, None, indicators=["y"], keep=["g", "stratum"])
    inside = trend_table(S2.within("g", "a"), by="stratum")
    ref = trend_table(S2, by=["g", "stratum"])
    ref = ref[ref["g"].astype(str) == "a"].reset_index(drop=True)
    np.testing.assert_allclose(inside["change"], ref["change"], rtol=1e-12)
    np.testing.assert_allclose(inside["se"], ref["se"], rtol=1e-12)


@pytest.mark.parametrize("v", ["y", "b"])
def test_each_wave_calibrated_to_own_margins_matches_r(v):
    ds = r_designs(post=True)
    assert ds["2023"].weights.sum() == pytest.approx(10000) and ds["2024"].weights.sum() == pytest.approx(10500)
    _check(change(ds, v).iloc[0], CASES[f"poststrat_{v}"])


# ---------------------------------------------------------------------------------------------
# properties of the change estimator
# ---------------------------------------------------------------------------------------------
def _rand_design(seed: int, shift: float) -> SurveyDesign:
    rng = np.random.default_rng(seed)
    n = 60
    df = pd.DataFrame({"y": rng.normal(shift, 1, n), "w": rng.uniform(1, 5, n),
                       "h": np.repeat([1, 2, 3], 20), "c": np.repeat(np.arange(12), 5),
                       "g": rng.choice(["p", "q"], n)})
    return SurveyDesign(df, weights="w", strata="h", psu="c")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(-2, 2))
def test_independent_variance_is_sum_and_swap_negates(seed, shift):
    a, b = _rand_design(seed, 0.0), _rand_design(seed + 1, shift)
    r = change({"a": a, "b": b}, "y").iloc[0]
    np.testing.assert_allclose(r["se"] ** 2, r["se_a"] ** 2 + r["se_b"] ** 2, rtol=1e-10)
    np.testing.assert_allclose(r["se_a"], a.mean("y")["se"].iloc[0], rtol=1e-10)
    r2 = change({"a": a, "b": b}, "y", waves=("b", "a")).iloc[0]
    np.testing.assert_allclose(r2["change"], -r["change"], rtol=1e-12)
    np.testing.assert_allclose(r2["se"], r["se"], rtol=1e-12)
    # by= domains agree with subsetting each wave
    rb = change({"a": a, "b": b}, "y", by="g").set_index("g")
    sub = a.subset(a.data["g"] == "p").mean("y")["se"].iloc[0]
    np.testing.assert_allclose(rb.loc["p", "se_a"], sub, rtol=1e-10)


def test_change_of_a_pair_among_three_waves_is_the_pair_alone():
    """With three waves the change of (a, c) is the contrast of those two waves' blocks: the same
    as stacking a and c alone, in change() and in trend_table(); the middle wave is not used."""
    a, b, c = _rand_design(3, 0.0), _rand_design(4, 0.5), _rand_design(5, 1.0)
    three = stack_waves({"a": a, "b": b, "c": c}, indicators=["y"], keep=["g"])
    two = stack_waves({"a": a, "c": c}, indicators=["y"], keep=["g"])
    for by in (None, "g"):
        r3 = change(three, "y", by=by, waves=("a", "c"))
        r2 = change(two, "y", by=by)
        cols = ["estimate_a", "se_a", "estimate_b", "se_b", "change", "se", "cov", "n_a", "n_b"]
        np.testing.assert_allclose(r3[cols].to_numpy(float), r2[cols].to_numpy(float), rtol=1e-12)
        assert (r3["wave_a"] == "a").all() and (r3["wave_b"] == "c").all()
    t3 = trend_table(three, waves=("a", "c")).iloc[0]
    np.testing.assert_allclose([t3["change"], t3["se"]],
                               change(two, "y")[["change", "se"]].iloc[0].to_numpy(float), rtol=1e-12)
    assert {"est_a", "est_b", "est_c"} <= set(trend_table(three).columns)
    with pytest.raises(EstimationError, match="level=1.5 must be a number strictly between 0 and 1"):
        change(three, "y", level=1.5)


def test_change_refuses_bad_input():
    a, b = _rand_design(1, 0), _rand_design(2, 0)
    with pytest.raises(EstimationError, match="outside \\[0, 1\\]"):
        change({"a": a, "b": b}, "y", kind="proportion")
    with pytest.raises(EstimationError, match="kind="):
        change({"a": a, "b": b}, "y", kind="median")
    with pytest.raises(EstimationError, match="waves="):
        change({"a": a, "b": b}, "y", waves=("a", "c"))
    with pytest.raises(EstimationError, match="by variable 'zz'"):
        change({"a": a, "b": b}, "y", by="zz")
    with pytest.raises(DesignError, match="not a SurveyDesign"):
        change({"a": a, "b": a.data}, "y")
    with pytest.raises(DesignError, match="panel PSUs"):
        change({"a": a, "b": b}, "y", panel_psus=["nope"])


def test_panel_psu_must_keep_its_stratum():
    a = _rand_design(1, 0)
    df = a.data
    moved = df.assign(h=np.where(df["c"] == 0, 2, df["h"]))  # PSU 0: stratum 1 -> 2 in wave b
    b = SurveyDesign(moved, weights="w", strata="h", psu="c")
    with pytest.raises(DesignError, match="panel PSU '0' is in stratum '1' in wave 'a' but '2'"):
        stack_waves({"a": a, "b": b}, indicators=["y"], panel_psus=["0"])
    stack_waves({"a": a, "b": b}, indicators=["y"], panel_psus=["1"])  # PSU 1 kept its stratum


# ---------------------------------------------------------------------------------------------
# the harmonisation map
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def harm() -> Harmonization:
    return Harmonization.load(HARM)


def _raw() -> dict:
    return yaml.safe_load(HARM.read_text(encoding="utf-8"))


def _load(raw: dict) -> Harmonization:
    return Harmonization.from_dict(raw, harm().questionnaires, where="test.yml")


def test_repository_map_loads_and_lists_not_comparable():
    h = harm()
    assert h.waves == ["2023", "2024"]
    nc = not_comparable(h).set_index("indicator")
    assert set(nc.index) == {"aware_housing", "aware_none"}
    assert "2023" in nc.loc["aware_housing", "reason"]
    inc = h.indicator("income_20w_plus")
    assert inc.comparable and any("措辞有变" in f for f in inc.footnotes)
    assert any("重新编码" in f for f in inc.footnotes)
    assert h.indicator("hours").footnotes == ()


def test_unmapped_codes_are_named_with_wave_and_question():
    raw = _raw()
    del raw["questions"]["income"]["codes"]["2024"][5]
    del raw["questions"]["income"]["codes"]["2024"][6]
    with pytest.raises(HarmonizationError) as e:
        _load(raw)
    msg = str(e.value)
    assert "wave '2024', question 'income': codes [5, 6]" in msg
    assert "30万-50万元" in msg and "test.yml" in msg


def test_identity_map_refused_when_codes_differ():
    raw = _raw()
    raw["questions"]["income"] = {}
    with pytest.raises(HarmonizationError, match=r"question 'income': codes differ between wave "
                                                 r"'2023' \(income\) and wave '2024'"):
        _load(raw)


def test_map_errors_are_all_reported_at_once():
    raw = _raw()
    raw["questions"]["income"]["codes"]["2023"][7] = "30万元及以上"          # not an option
    raw["questions"]["income"]["codes"]["2024"][1] = "十万以下"               # unknown category
    raw["questions"]["nosuch"] = {}                                           # unknown question
    raw["questions"]["policy_aware"]["options"]["科研减负专项行动"]["2024"] = 9  # not an option
    raw["indicators"].append({"id": "x", "question": "income", "kind": "proportion",
                              "categories": ["很多"]})
    with pytest.raises(HarmonizationError) as e:
        _load(raw)
    msg = str(e.value)
    for part in ["wave '2023', question 'income': code 7 is not an option",
                 "wave '2024', question 'income': code 1 maps to ['十万以下']",
                 "wave '2023': question 'nosuch'", "wave '2024': question 'nosuch'",
                 "wave '2024', question 'policy_aware': option code 9",
                 "indicator 'x': category '很多'"]:
        assert part in msg, part


def test_split_with_declared_shares_and_not_comparable_codes():
    raw = _raw()
    q = raw["questions"]["income"]
    q["categories"] = ["10万元以下", "10万-15万元", "15万-20万元", "20万-30万元", "30万元及以上"]
    q["codes"]["2023"][2] = {"10万-15万元": 0.6, "15万-20万元": 0.4}
    q["codes"]["2024"] = {1: "10万元以下", 2: "10万-15万元", 3: "15万-20万元", 4: "20万-30万元",
                          5: "30万元及以上", 6: "30万元及以上"}
    raw["indicators"].append({"id": "inc15", "question": "income", "kind": "proportion",
                              "categories": ["15万-20万元", "20万-30万元", "30万元及以上"]})
    h = _load(raw)
    assert any("拆分" in f for f in h.indicator("inc15").footnotes)
    fr = pd.DataFrame({"income": pd.Categorical(["10万-20万元", "20万-30万元", "10万元以下", "不知道"],
                                                categories=list(h.questionnaires["2023"].labels("income").values()))})
    np.testing.assert_allclose(h.values(fr, "2023", "inc15"), [0.4, 1.0, 0.0, np.nan])
    q["codes"]["2024"][6] = "not comparable"
    h2 = _load(raw)
    i2 = h2.indicator("inc15")
    assert not i2.comparable and "2024" in i2.reason and "[6]" in i2.reason
    bad = copy.deepcopy(raw)
    bad["questions"]["income"]["codes"]["2023"][2] = {"10万-15万元": 0.6, "15万-20万元": 0.3}
    with pytest.raises(HarmonizationError, match="do not sum to 1"):
        _load(bad)


# ---------------------------------------------------------------------------------------------
# the demo waves: planted real and null changes, the re-coded question
# ---------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def demo(seed: int):
    ds = demo_designs(seed)
    return ds, stack_waves(ds, harm())


@lru_cache(maxsize=4)
def demo_table(seed: int) -> pd.DataFrame:
    from survey.demo import truth
    tab = trend_table(demo(seed)[1]).set_index("indicator")
    t = truth("change", seed)
    t = t[t.group == "overall"].set_index("indicator")["value"]
    tab["truth"] = t.reindex(tab.index)
    return tab


def test_each_wave_weighted_to_its_own_margins():
    from survey.demo import population_margins
    ds, S = demo(2024)
    for w, d in ds.items():
        assert d.calibrations, w
        np.testing.assert_allclose(d.weights.sum(), population_margins(w, 2024)["control_total"]["value"])
        m = population_margins(w, 2024)
        cross = next(x["totals"] for x in m["margins"] if x["variables"] == ["sex", "age_group"])
        sex = {k: sum(v.values()) for k, v in cross.items()}  # the sex margin raked (via the cross)
        tot = m["control_total"]["value"]
        got = pd.Series(d.weights).groupby(d.data["sex"].astype(str).to_numpy()).sum()
        for lev, v in sex.items():  # the wave's own margin, rescaled to its control total
            np.testing.assert_allclose(got[lev], v * tot / sum(sex.values()), rtol=1e-8)
    # stations repeat between the demo waves but are different PSUs unless declared a panel
    shared = set(ds["2023"].data["station"]) & set(ds["2024"].data["station"])
    assert len(shared) > 50 and not S.panel_psus
    assert S.design.n_psu == ds["2023"].n_psu + ds["2024"].n_psu
    assert S.design.n_strata == ds["2023"].n_strata + ds["2024"].n_strata


def test_not_comparable_indicator_never_enters_a_trend():
    ds, S = demo(2024)
    assert "aware_housing" not in S.indicators and "aware_none" not in S.indicators
    with pytest.raises(HarmonizationError, match="aware_housing.*not comparable"):
        stack_waves(ds, harm(), indicators=["hours", "aware_housing"])
    with pytest.raises(EstimationError, match="aware_none"):
        change(S, "aware_none")


@pytest.mark.parametrize("seed", [2024, 7])
def test_planted_changes_found_and_nulls_not_flagged(seed):
    tab = demo_table(seed)
    assert tab.loc[REAL, "significant"].all(), tab.loc[REAL, ["change", "p"]]
    # real changes are estimated in the right direction and their CIs cover the truth mostly
    assert (np.sign(tab.loc[REAL, "change"]) == np.sign(tab.loc[REAL, "truth"])).all()
    # nulls: at most one flag out of six per seed (nominal 5% each; see the slow test for rates)
    assert tab.loc[NULL, "significant"].sum() <= 1, tab.loc[NULL, ["change", "p"]]


def test_recoded_income_is_compared_after_harmonisation():
    from survey.demo import build_wave
    tab = demo_table(2024)
    h = harm()
    # per respondent: 2023 codes >= 3 and 2024 codes >= 4 are "20万 and more"
    for w, cut in (("2023", 3), ("2024", 4)):
        fr = build_wave(w, 2024).clean
        lab = h.questionnaires[w].labels("income")
        code = fr["income"].astype(object).map({v: k for k, v in lab.items()}).astype(float)
        np.testing.assert_array_equal(h.values(fr, w, "income_20w_plus"), (code >= cut).astype(float))
    r = tab.loc["income_20w_plus"]
    assert abs(r["change"] - r["truth"]) < 3 * r["se"]  # within a 99.7% interval of the truth
    # comparing raw codes (>= 3 in both waves) would invent a huge change: the guard matters
    ds = demo(2024)[0]
    naive = {}
    for w, d in ds.items():
        c = d.data["income"].cat.codes.to_numpy()
        naive[w] = SurveyDesign(
            d.data.assign(inc_naive=np.where(c < 0, np.nan, (c >= 2).astype(float))),
            weights=np.asarray(d.weights), strata="stratum", psu="station", lonely_psu="adjust")
    nv = change(naive, "inc_naive", kind="proportion").iloc[0]
    assert nv["change"] > 0.15 and not (nv["ci_low"] <= r["truth"] <= nv["ci_high"])


def test_panel_stations_enter_the_covariance_in_demo():
    ds, S = demo(2024)
    P = stack_waves(ds, harm(), panel_psus=True, indicators=["hours", "burnout_score"])
    assert len(P.panel_psus) > 50
    for ind in ("hours", "burnout_score"):
        a, b = change(S, ind).iloc[0], change(P, ind).iloc[0]
        assert a["cov"] == 0 and b["cov"] != 0
        np.testing.assert_allclose(b["se"] ** 2, b["se_a"] ** 2 + b["se_b"] ** 2 - 2 * b["cov"])
        np.testing.assert_allclose(a["change"], b["change"])


def test_by_domain_change_on_demo():
    ds, S = demo(2024)
    r = change(S, "research_share", by="unit_type")
    assert list(r["unit_type"].astype(str)) == list(ds["2023"].data["unit_type"].cat.categories)
    sub = r.set_index(r["unit_type"].astype(str))
    assert sub.loc["科研机构", "change"] > 1.0  # the planted +3 points in research units
    np.testing.assert_allclose(sub["se_a"].to_numpy(),
                               ds["2023"].mean("research_share", by="unit_type")["se"].to_numpy(),
                               rtol=1e-10)


def test_report_helpers_render_without_missing_glyphs(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    ds, S = demo(2024)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_trends(S, ["hours", "income_20w_plus", "leave_share"])
        t = headline_table(S)
        nc = not_comparable_table(S)
    assert len(fig.png) > 10_000
    # the indicator whose wording changed is marked ‡ (not "*", which means unreliable), with its legend
    assert "年收入20万元及以上的比例‡" in list(t.display.index)
    assert any("措辞有变" in n for n in t.notes) and any(n.startswith("“‡”：") for n in t.notes)
    assert len(nc.display) == 2


# ---------------------------------------------------------------------------------------------
# slow: false-positive rate and power over more seeds
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_null_flag_rate_over_seeds():
    seeds = [2024, 7, 11, 23, 101, 202, 303, 404]
    flags, n_null, found, cover, n_real = 0, 0, 0, 0, 0
    for s in seeds:
        tab = demo_table(s) if s in (2024, 7) else _table_uncached(s)
        flags += int(tab.loc[NULL, "significant"].sum())
        n_null += len(NULL)
        found += int(tab.loc[REAL, "significant"].sum())
        n_real += len(REAL)
        cover += int(((tab["ci_low"] <= tab["truth"]) & (tab["truth"] <= tab["ci_high"])).sum())
    rate = flags / n_null
    n_ci = len(seeds) * (len(REAL) + len(NULL) + 1)
    print(f"null flag rate {flags}/{n_null} = {rate:.3f}; real found {found}/{n_real}; "
          f"95% CIs covering the population change {cover}/{n_ci}")
    assert rate <= 0.125            # nominal 0.05; P(X > 6 | n = 48, p = .05) < 0.03
    assert found == n_real
    assert cover / n_ci >= 0.85


def _table_uncached(seed: int) -> pd.DataFrame:
    from survey.demo import truth
    tab = trend_table(stack_waves(demo_designs(seed), harm())).set_index("indicator")
    t = truth("change", seed)
    tab["truth"] = t[t.group == "overall"].set_index("indicator")["value"].reindex(tab.index)
    return tab


def test_headline_table_marks_only_changes_surviving_holm():
    """One multiplicity rule: the 12 changes of T5.1 are one family, Holm-adjusted; † only where
    the adjusted p < 0.05, and the table shows raw and adjusted p.  The issue's example: the
    planted null burnout_score (true change −0.002) had raw p ≈ 0.013 and was published with †."""
    from statsmodels.stats.multitest import multipletests

    tab = demo_table(2024)
    expect = multipletests(tab["p"].to_numpy(float), method="holm")[1]
    np.testing.assert_allclose(tab["p_adj"].to_numpy(float), expect, rtol=1e-12)
    assert (tab["significant"] == (tab["p_adj"] < 0.05)).all()
    # (the burnout_score example, raw p ≈ 0.013, was a value of the old picked demo draw
    # 8; on the draw fixed before looking, 0, its raw p is 0.086, so the example is not asserted
    # on the data: the rule is — a raw-only "significant" change is never marked, below; on
    # draw 0 no change is raw-only significant, so that line is vacuous on the demo)
    raw_only = set(tab.loc[(tab["p"] < 0.05) & ~tab["significant"], "label"])
    S = demo(2024)[1]
    t = headline_table(S)
    shown = t.data if hasattr(t, "data") else t.display
    marked = {lab.rstrip("‡") for lab, v in zip(shown.index, shown["变化"]) if str(v).endswith("†")}  # ‡: see note
    assert marked == set(tab.loc[tab["significant"], "label"])
    assert not marked & raw_only
    assert "校正后p值" in shown.columns
    assert any("Holm" in n and "12 项检验" in n for n in t.notes)


def test_wave_values_of_shares_use_the_published_interval():
    """The trends chart's per-wave intervals: logit / Korn–Graubard for shares, t for means."""
    from scipy import stats as sst

    from survey.trends import wave_estimates
    ds, S = demo(2024)
    v = wave_estimates(S, "income_20w_plus", level=0.95)
    p, se = v["estimate"].to_numpy(), v["se"].to_numpy()
    assert ((p > 0) & (p < 1) & (p * (1 - p) / se ** 2 >= 30)).all()  # the logit branch
    t = sst.t.ppf(0.975, float(S.design.df))
    lg, h = np.log(p / (1 - p)), t * se / (p * (1 - p))
    np.testing.assert_allclose(v["ci_low"], 1 / (1 + np.exp(-(lg - h))), rtol=1e-10)
    np.testing.assert_allclose(v["ci_high"], 1 / (1 + np.exp(-(lg + h))), rtol=1e-10)
    m = wave_estimates(S, "hours", level=0.95)
    np.testing.assert_allclose(m["ci_high"] - m["estimate"], t * m["se"], rtol=1e-10)


def test_headline_table_sheet_holds_the_numbers():
    """The Excel sheet of T5.1 holds the estimates, change, its SE, CI limits and p-values as
    numbers (the page shows '-1.63†' and '-1.82 至 -1.44'), † in a column of its own, and its
    notes row states the Holm rule of the table's family."""
    import openpyxl

    from survey.report.workbook import write_sheet

    tab = demo_table(2024)
    t = headline_table(demo(2024)[1])
    wb = openpyxl.Workbook()
    write_sheet(wb.active, t.to_record())
    import tempfile

    path = Path(tempfile.mkdtemp()) / "t.xlsx"
    wb.save(path)
    ws = openpyxl.load_workbook(path).active
    head = [c.value for c in ws[3]]
    for c in ("变化", "变化的标准误", "置信区间下限", "置信区间上限", "p值", "校正后p值"):
        vals = [r[head.index(c)] for r in ws.iter_rows(min_row=4, max_row=3 + len(tab), values_only=True)]
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals), (c, vals[:3])
    rows = list(ws.iter_rows(min_row=4, max_row=3 + len(tab), values_only=True))
    sc = np.where(tab["kind"] == "proportion", 100.0, 1.0)
    np.testing.assert_allclose([r[head.index("变化")] for r in rows], tab["change"].to_numpy(float) * sc)
    np.testing.assert_allclose([r[head.index("校正后p值")] for r in rows], tab["p_adj"].to_numpy(float))
    assert [r[head.index("校正后显著（†）")] == "†" for r in rows] == tab["significant"].tolist()
    assert "Holm" in ws["A2"].value and ws.freeze_panes == "A4"


def test_regional_trends_are_the_regions_domain_of_the_whole_waves():
    """A provincial report's trends page said "分地区报告不单独比较各轮变化" although its
    急难愁盼 page compared the region with the earlier wave.  Its T5.1 is now the region's
    domain of the stacked waves (R-checked above), with the region named in the notes; a region
    with fewer than min_cell respondents in a wave, or an earlier wave without the region
    variable, gets a sentence instead."""
    import types

    from survey.report.content.trends import NoTrends, _regional

    ds, S = demo(2024)
    waves = [types.SimpleNamespace(wave=w, design=d) for w, d in ds.items()]
    region = "西林区"
    P = {"region": region, "region_var": "district", "min_cell": 10}
    R = _regional(P, waves, harm(), region)
    assert R.domain == ("district", region) and R.withheld == [] and R.indicators == S.indicators
    mine = trend_table(R)
    ref = trend_table(S, by="district")
    ref = ref[ref["district"].astype(str) == region].reset_index(drop=True)
    for c in ("est_2023", "est_2024", "change", "se", "p"):
        np.testing.assert_allclose(mine[c], ref[c], rtol=1e-12, err_msg=c)
    t = headline_table(R)
    assert any(f"本表为{region}受访者的估计" in n for n in t.notes)
    small = _regional({**P, "min_cell": 10**6}, waves, harm(), region)
    assert isinstance(small, NoTrends) and "少于 1000000 人" in small.reason and "数据披露控制" in small.reason
    old = types.SimpleNamespace(wave="2023", design=SurveyDesign(ds["2023"].data.drop(columns="district")))
    gone = _regional(P, [old, waves[1]], harm(), region)
    assert isinstance(gone, NoTrends) and "没有地区变量 district" in gone.reason
    # the region spelled otherwise in the earlier wave: said so, not blamed on small cells
    renamed = ds["2023"].data.assign(district=ds["2023"].data["district"].astype(str).replace(region, "西林"))
    other = types.SimpleNamespace(wave="2023", design=SurveyDesign(renamed))
    miss = _regional(P, [other, waves[1]], harm(), region)
    assert isinstance(miss, NoTrends) and "2023 轮调查中没有district为“西林区”的受访者" in miss.reason


def test_an_indicator_few_answered_in_the_domain_is_withheld_and_named():
    from survey.report.content.trends import withhold_small

    dat = pd.read_csv(FIX / "waves.csv", dtype={"wave": str})
    ds = {}
    for w in ("2023", "2024"):
        d = dat[dat.wave == w].reset_index(drop=True).copy()
        if w == "2024":  # y answered by 5 respondents of g = a
            ga = np.flatnonzero(d["g"].astype(str) == "a")
            d.loc[ga[5:], "y"] = np.nan
        ds[w] = SurveyDesign(d, weights="w", strata="stratum", psu="psu")
    S = stack_waves(ds, None, None, indicators=["y", "b"], keep=["g"])
    a = withhold_small(S.within("g", "a"), 10)
    assert a.indicators == ["b"] and a.withheld == ["y"]
    b = withhold_small(S.within("g", "b"), 10)
    assert b.indicators == ["y", "b"] and b.withheld == []
    assert S.indicators == ["y", "b"] and S.withheld == []  # the stack itself is left as it was
    note = next(n for n in headline_table(a).notes if "本表为a受访者的估计" in n)
    assert note.endswith("某轮回答人数少于最小单元格的指标未列出：y。")
