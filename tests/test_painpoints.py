"""Tests of survey.painpoints against hand computations and the planted demo truth.

The demo generator (survey/demo/effects.py) plants: housing for the young (≤35), evaluation
for 副高 in universities, paperwork in research institutes, a 减负 measure with a real effect on
报销手续繁琐 in 科研机构/高等院校 (≈ −9 points) and a housing subsidy with a nil effect.
Quick tests use two seeds on 35 % of the stations; the slow test uses six full samples.
Every design is weighted as the report weights it (survey.pipeline.prepare_wave): station base
weights from the register, then raked to the wave's population.yml margins.  With base weights
only, seed 2 finds a false group difference that raking removes.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from survey import SurveyDesign, painpoints as pp
from survey.demo import truth
from survey.errors import EstimationError, ParameterError, QuestionnaireError
from survey.labels import short_label
from survey.report import BriefReport
from survey.report.content.painpoints import plot_group_heatmap

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "questionnaires" / "policies.yml"
LEXICON = ROOT / "questionnaires" / "demo-2024"
QUICK_SEEDS = (7, 11)
SLOW_SEEDS = (1, 2, 3, 4, 5, 6)
HOUSING, REIMB, EVAL, PAPER = "住房困难", "报销手续繁琐", "评价体系唯论文/唯帽子", "非科研事务多(填表、会议、检查)"


def raked_designs(seed: int, station_fraction: float | None = None) -> dict:
    """``pp.demo_designs`` (same frames and station subsample), weighted as the report does:
    base weights ``1/π × size/n_i`` from the register — π including the subsampling of stations
    within the stratum — then raked to the wave's population margins."""
    from survey.demo import build_wave, population_targets
    out = {}
    for w, (d, q) in pp.demo_designs(seed, station_fraction=station_fraction).items():
        reg = build_wave(w, seed).stations.set_index("station")
        kept = d.data.groupby("stratum", observed=True)["station"].nunique()
        reg = reg.loc[d.data["station"].unique()]
        pi = reg["pi_station"] * reg["stratum"].map(kept.to_dict()) / reg["stations_selected"]
        base = SurveyDesign(d.data, strata="stratum", psu="station", lonely_psu="adjust",
                            questionnaire=q).base_weights(
            station_size=reg["station_size"].to_dict(), station_prob=pi.to_dict())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # margins' totals disagree by ~2%: rescaled
            out[w] = (base.rake(population_targets(w, seed)), q)
    return out


@pytest.fixture(scope="module", params=QUICK_SEEDS)
def waves(request):
    return request.param, raked_designs(request.param, station_fraction=0.35)


def _true_group_diffs(seed: int, wave: str = "2024") -> pd.DataFrame:
    """Population value of (group − everyone else) for every pain item and group level."""
    tr = truth(wave, seed)
    tr = tr[tr.indicator.str.startswith("pain_top3.")].copy()
    ov = tr[tr.group == "overall"].set_index("indicator")
    N = ov["n_pop"].reindex(tr.indicator).to_numpy()
    V = ov["value"].reindex(tr.indicator).to_numpy()
    tr["rest"] = (V * N - tr["value"] * tr["n_pop"]) / (N - tr["n_pop"])
    tr["tdiff"] = tr["value"] - tr["rest"]
    tr["item"] = tr.indicator.str[len("pain_top3."):]
    tr["level"] = tr["level"].astype(str)
    return tr[["group", "level", "item", "tdiff", "value"]]


# ----------------------------------------------------------------------------------------------
# estimates = hand computation with SurveyDesign on the expanded indicators (and so = R)
# ----------------------------------------------------------------------------------------------
def test_summarize_matches_design_mean_on_indicators(waves):
    seed, ds = waves
    d, q = ds["2024"]
    s = pp.summarize(d, "pain", questionnaire=q).set_index("item")
    cols = q.columns("pain")
    R = d.data[cols].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    answered = ~np.isnan(R).all(axis=1)
    ind = pd.DataFrame(index=d.data.index)
    for j, c in enumerate(cols):
        r = np.nan_to_num(R[:, j])
        ind[f"top_{j}"] = (r >= 1).astype(float)
        ind[f"first_{j}"] = (r == 1).astype(float)
        ind[f"score_{j}"] = np.where(r >= 1, 4 - r, 0.0)
    hand = d.assign(**{c: ind[c].to_numpy() for c in ind.columns}).subset(answered)
    m = hand.mean(list(ind.columns)).set_index("variable")
    for j, lab in enumerate(q.labels("pain").values()):
        for meas, pre in (("pct_top", "top"), ("pct_first", "first"), ("score", "score")):
            np.testing.assert_allclose(s.loc[lab, meas], m.loc[f"{pre}_{j}", "estimate"], rtol=1e-10)
            np.testing.assert_allclose(s.loc[lab, f"{meas}_se"], m.loc[f"{pre}_{j}", "se"], rtol=1e-8)
    # ranking by pct_top, CIs around the estimate, k from the questionnaire
    assert list(s["rank"]) == sorted(s["rank"]) and (s["pct_top_low"] < s["pct_top"]).all()
    assert (s["k"] == 3).all()
    # the shares carry the report's interval (logit; Korn-Graubard where n_eff < 30), here
    # re-derived from the hand design's SE and df with scipy
    dfv = dict(zip(m.index, np.asarray(m.attrs["df"], float)))
    for j, lab in enumerate(q.labels("pain").values()):
        for meas, pre in (("pct_top", "top"), ("pct_first", "first")):
            r = m.loc[f"{pre}_{j}"]
            lo, hi = _published_rule(r["estimate"], r["se"], dfv[f"{pre}_{j}"], s.loc[lab, "n"])
            np.testing.assert_allclose([s.loc[lab, f"{meas}_low"], s.loc[lab, f"{meas}_high"]], [lo, hi],
                                       rtol=1e-8, err_msg=f"{lab} {meas}")


def _published_rule(p: float, se: float, df: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The report's proportion interval written out from its definition (scipy only)."""
    from scipy import stats as sst
    a = 1 - level
    t = sst.t.ppf(1 - a / 2, df)
    ne = p * (1 - p) / se ** 2 if 0 < p < 1 and se > 0 else n
    if ne >= 30 and 0 < p < 1:
        lg, h = np.log(p / (1 - p)), t * se / (p * (1 - p))
        return 1 / (1 + np.exp(-(lg - h))), 1 / (1 + np.exp(-(lg + h)))
    ne *= (sst.t.ppf(a / 2, n - 1) / sst.t.ppf(a / 2, df)) ** 2
    lo = 0.0 if p == 0 else sst.beta.ppf(a / 2, ne * p, ne * (1 - p) + 1)
    hi = 1.0 if p == 1 else sst.beta.ppf(1 - a / 2, ne * p + 1, ne * (1 - p))
    return lo, hi


def test_custom_rank_weights_change_the_score(waves):
    _, ds = waves
    d, q = ds["2023"]
    a = pp.summarize(d, "pain", questionnaire=q).set_index("item")
    b = pp.summarize(d, "pain", questionnaire=q, weights=[1, 1, 1]).set_index("item")
    np.testing.assert_allclose(b["score"], b["pct_top"])          # equal weights: score = % top-3
    assert not np.allclose(a["score"], b["score"])


def test_multiselect_capped_question_is_supported():
    rng = np.random.default_rng(0)
    ch = rng.random((500, 4)) < [0.5, 0.3, 0.2, 0.1]
    df = pd.DataFrame({f"m_{j + 1}": pd.array(ch[:, j], dtype="boolean") for j in range(4)})
    df["c"] = np.arange(500) // 10
    s = pp.summarize(SurveyDesign(df, psu="c"), "m")
    assert s["item"].tolist()[0] == "1"
    np.testing.assert_allclose(s.set_index("item").loc["1", "pct_top"], ch[:, 0].mean())
    with pytest.raises(EstimationError, match="multi-select"):
        pp.rank_uncertainty(SurveyDesign(df, psu="c"), "m", measure="pct_first")


# ----------------------------------------------------------------------------------------------
# planted patterns
# ----------------------------------------------------------------------------------------------
def test_finds_planted_group_patterns_and_no_false_discoveries(waves):
    seed, ds = waves
    _check_group_patterns(seed, *ds["2024"])


@pytest.mark.slow
def test_group_patterns_over_many_seeds():
    """The planted-pattern check on the six full raked samples of the slow policy test (with
    base weights instead, seed 2 finds a false difference: 30-35岁 × 成果转化难)."""
    for seed in SLOW_SEEDS:
        _check_group_patterns(seed, *raked_designs(seed)["2024"])


def _check_group_patterns(seed, d, q):
    by = ["sex", "age_group", "title", "unit_type", "district", ("title", "unit_type")]
    gd = pp.group_differences(d, "pain", by=by, questionnaire=q, correction="holm")
    assert gd.attrs["correction"].startswith("Holm 校正")
    hit = gd.set_index(["variable", "level", "item"])
    for key in [("age_group", "29岁及以下", HOUSING), ("age_group", "30-35岁", HOUSING),
                ("title×unit_type", "副高×高等院校", EVAL), ("unit_type", "科研机构", PAPER)]:
        r = hit.loc[key]
        assert r["significant"] and r["diff"] > 0.1, key
    # each planted group has the planted item among its top 3
    tg = pp.top_by_group(d, "pain", by=["age_group", "unit_type"], questionnaire=q)
    assert HOUSING in tg[(tg.variable == "age_group") & (tg.level == "29岁及以下")]["item"].tolist()
    assert PAPER in tg[(tg.variable == "unit_type") & (tg.level == "科研机构")]["item"].tolist()
    # no false discoveries: every significant difference has the sign of the population value
    # and is not negligible there (|true difference| >= 1 point)
    m = gd.merge(_true_group_diffs(seed), left_on=["variable", "level", "item"],
                 right_on=["group", "level", "item"], how="left")
    assert m["tdiff"].notna().all()
    sig = m[m["significant"]]
    false = sig[(np.sign(sig["diff"]) != np.sign(sig["tdiff"])) | (sig["tdiff"].abs() < 0.01)]
    assert len(false) == 0, false[["variable", "level", "item", "diff", "tdiff"]]
    # BH finds at least as many as Holm
    bh = pp.group_differences(d, "pain", by=by, questionnaire=q, correction="bh")
    assert bh["significant"].sum() >= gd["significant"].sum()
    assert "Benjamini" in bh.attrs["correction"]


def test_rank_uncertainty_recovers_true_leader(waves):
    seed, ds = waves
    d, q = ds["2024"]
    u = pp.rank_uncertainty(d, "pain", questionnaire=q, replicates=100, seed=1)
    tr = truth("2024", seed)
    tr = tr[tr.indicator.str.startswith("pain_top3.") & (tr.group == "overall")]
    leader = tr.loc[tr["value"].idxmax(), "indicator"][len("pain_top3."):]
    assert u.iloc[0]["item"] == leader and u.iloc[0]["p_first"] > 0.9
    assert ((u["rank_low"] <= u["rank"]) & (u["rank"] <= u["rank_high"])).all()
    assert u["p_top"].sum() == pytest.approx(3.0)
    n = pp.rank_uncertainty(d, "pain", questionnaire=q, method="normal", replicates=300, seed=1)
    assert n.iloc[0]["item"] == leader


def test_priority_matrix_and_drivers_find_health_severity(waves):
    _, ds = waves
    d, q = ds["2024"]
    lx = pp.load_lexicon(LEXICON, q)
    pm = pp.priority_matrix(d, "pain", lx.severity["column"], lx.severity["severe"], questionnaire=q)
    # planted: pain_severity follows burnout and 身心健康 is driven by burnout
    assert pm.loc[pm["severity"].idxmax(), "item"] == "身心健康"
    assert set(pm["quadrant"]) <= {"优先解决", "广泛关注", "少数严重", "持续观察", "样本不足"}
    dr = pp.drivers(d, "pain", "sat_overall", questionnaire=q)
    items = dr[dr["item"].notna()]
    assert len(items) == 14 and (items["estimate"] < 0).mean() > 0.8   # each pain lowers satisfaction
    assert items.loc[items["estimate"].idxmin(), "item"] == "身心健康"
    assert (items["ci_low"] < items["estimate"]).all()


# ----------------------------------------------------------------------------------------------
# policy evaluation: right verdicts, honest MDE
# ----------------------------------------------------------------------------------------------
def _evaluate(ds):
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    return pp.evaluate_policies(d23, d24, POLICIES, questionnaire=q23, questionnaire_after=q24)


def test_policy_verdicts(waves):
    seed, ds = waves
    ev = _evaluate(ds).set_index(["policy", "item"])
    real = ev.loc[("科研减负专项行动", REIMB)]
    assert real["verdict"] == "improved"
    assert real["change_target_high"] < 0 and real["did_high"] < 0
    tch = truth("change", seed)
    true_t = tch[(tch.indicator == f"pain_top3.{REIMB}") & tch.level.isin(["科研机构", "高等院校"])]
    assert true_t["value"].max() < -0.05
    nil = ev.loc[("青年人才住房补贴", HOUSING)]
    if seed == 11 and nil["verdict"] == "worse":
        # known and reported (issue #16 item 6): on the raked design the seed-11 35% sample
        # flags the nil subsidy at z ≈ 2.0 (change +2.4 points, CI [0.0, 4.8]; true change in
        # the target group ≈ +0.6) — a 5%-level false positive on one sample; base weights said
        # "no detectable change".  The rate is bounded over seeds by the slow test.
        pytest.xfail("nil housing subsidy flagged at z ≈ 2.0 on the raked seed-11 sample")
    assert nil["verdict"] == "no detectable change"
    assert nil["change_target_low"] < 0 < nil["change_target_high"]
    # the MDE says how large a change was detectable: a few points, bigger than the SE
    assert 0.01 < nil["mde_target"] < 0.06 and nil["mde_target"] > 2.5 * nil["se_target"]
    assert "最小变化" in nil["statement"]
    st = pp.policy_status(ev.reset_index()).set_index("policy")
    # the status is summarised item by item, never by the first targeted item alone
    for pol, g in ev.reset_index().groupby("policy"):
        if g["verdict_zh"].nunique() > 1:
            for r in g.itertuples():
                assert f"{r.item}：{r.verdict_zh}" in st.loc[pol, "status"]
        else:
            assert st.loc[pol, "status"].startswith(g["verdict_zh"].iloc[0])


def test_policy_waves_pick_the_last_wave_fielded_before_the_measure():
    import datetime as dt

    fw = {"2023": (dt.date(2023, 5, 8), dt.date(2023, 6, 30)),
          "2024": (dt.date(2024, 5, 6), dt.date(2024, 6, 28)),
          "2025": (dt.date(2025, 5, 5), dt.date(2025, 6, 27))}
    pol = pp.Policy("m", dt.date(2023, 9, 1), "o", "pain", ("x",))
    assert pp.policy_waves(pol, fw, "2025") == ("2023", "")  # not the previous wave, 2024
    assert pp.policy_waves(pol, fw, "2024") == ("2023", "")
    late = pp.Policy("m", dt.date(2024, 9, 1), "o", "pain", ("x",))
    assert pp.policy_waves(late, fw, "2025") == ("2024", "")
    # the reported wave was fielded before the measure: no verdict, and the reason says so
    b, why = pp.policy_waves(late, fw, "2024")
    assert b is None and "之前" in why
    # fieldwork ending on the day the measure takes effect is not "before" it
    edge = pp.Policy("m", dt.date(2023, 6, 30), "o", "pain", ("x",))
    assert pp.policy_waves(edge, fw, "2025")[0] is None
    # the register's explicit before wave wins; an unknown one is named
    import dataclasses

    assert pp.policy_waves(dataclasses.replace(pol, before="2024"), fw, "2025") == ("2024", "")
    b, why = pp.policy_waves(dataclasses.replace(pol, before="2019"), fw, "2025")
    assert b is None and "2019" in why
    # earlier waves without fieldwork dates: the previous wave, with a note
    b, why = pp.policy_waves(pol, {"a": (None, None), "b": (None, None), "c": (None, None)}, "c")
    assert b == "b" and why


def test_a_third_wave_judges_a_measure_on_the_wave_before_it(waves):
    """With a wave 2025 after 2024, the 2023-09 measure compares 2023 → 2025 (not 2024 → 2025),
    the brief says which waves, and its 要点 line lists every targeted item."""
    import datetime as dt

    seed, ds = waves
    if seed != QUICK_SEEDS[0]:
        pytest.skip("one sample is enough")
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    # the 2025 wave: the 2024 sample fielded a year later (so 2024 → 2025 shows no change)
    fw = {"2023": (dt.date(2023, 5, 8), dt.date(2023, 6, 30)),
          "2024": (dt.date(2024, 5, 6), dt.date(2024, 6, 28)),
          "2025": (dt.date(2025, 5, 5), dt.date(2025, 6, 27))}
    earlier = {"2023": (d23, q23), "2024": (d24, q24)}
    ev = pp.evaluate_register(d24, POLICIES, earlier, current="2025", questionnaire_after=q24,
                              fieldwork=fw).set_index(["policy", "item"])
    real = ev.loc[("科研减负专项行动", REIMB)]
    assert (real["before_wave"], real["after_wave"]) == ("2023", "2025")
    assert real["verdict"] == "improved" and "2023→2025" in real["statement"]
    # what the immediately previous wave would have said
    old = pp.evaluate_policies(d24, d24, POLICIES, questionnaire=q24, questionnaire_after=q24)
    assert (old.set_index(["policy", "item"]).loc[("科研减负专项行动", REIMB), "verdict"]
            == "no detectable change")
    # the brief (its own questionnaires' fieldwork: q24 as the 2025 questionnaire starts after
    # both measures, 2024 ended after both): the same waves, named in the 要点 and in PP9
    b = pp.build_brief(d24, "pain", questionnaire=q24, design_before=d24, questionnaire_before=q24,
                       policies=POLICIES, wave="2025", previous_wave="2024", earlier_waves=earlier,
                       replicates=20, by=["unit_type"])
    assert set(b.policies["before_wave"]) == {"2023"}
    assert set(BriefReport(b).tables()["PP9"]["比较波次"]) == {"2023 → 2025"}
    line = next(x for x in b.key_findings() if "科研减负专项行动" in x)
    assert "2023→2025" in line
    e = b.policies[b.policies["policy"] == "科研减负专项行动"]
    assert len(e) == 2
    if e["verdict_zh"].nunique() > 1:
        for r in e.itertuples():
            assert f"{r.item}：{r.verdict_zh}" in line
    else:
        assert f"{e['verdict_zh'].iloc[0]}（2 项均是）" in line


def test_wave_change_covers_truth(waves):
    seed, ds = waves
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    ch = pp.wave_change(d23, d24, "pain", questionnaire=q23, questionnaire_after=q24)
    tch = truth("change", seed)
    tch = tch[tch.indicator.str.startswith("pain_top3.") & (tch.group == "overall")]
    t = dict(zip(tch.indicator.str[len("pain_top3."):], tch["value"]))
    cover = [(r.ci_low <= t[r.item] <= r.ci_high) for r in ch.itertuples()]
    assert np.mean(cover) >= 12 / 14
    assert ch.set_index("item").loc[REIMB, "ci_high"] < 0


@pytest.mark.slow
def test_policy_verdicts_over_many_seeds():
    """Six full demo samples: the real effect is always found; the nil effect is (almost) never
    declared; CIs of all changes cover the population change at about the nominal rate."""
    found, false_pos, cover = 0, 0, []
    for seed in SLOW_SEEDS:
        ds = raked_designs(seed)
        ev = _evaluate(ds).set_index(["policy", "item"])
        found += ev.loc[("科研减负专项行动", REIMB), "verdict"] == "improved"
        false_pos += ev.loc[("青年人才住房补贴", HOUSING), "verdict"] != "no detectable change"
        (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
        ch = pp.wave_change(d23, d24, "pain", questionnaire=q23, questionnaire_after=q24)
        tch = truth("change", seed)
        tch = tch[tch.indicator.str.startswith("pain_top3.") & (tch.group == "overall")]
        t = dict(zip(tch.indicator.str[len("pain_top3."):], tch["value"]))
        cover += [(r.ci_low <= t[r.item] <= r.ci_high) for r in ch.itertuples()]
    assert found == len(SLOW_SEEDS)
    assert false_pos <= 1
    assert np.mean(cover) >= 0.88


# ----------------------------------------------------------------------------------------------
# open text
# ----------------------------------------------------------------------------------------------
def test_open_text_assigns_demo_suggestions_to_their_category(waves):
    seed, ds = waves
    d, q = ds["2024"]
    lx = pp.load_lexicon(LEXICON, q)
    cl = pp.classify(d.data["suggestion"].dropna(), lx)
    first = d.data.loc[cl.index, q.columns("pain")].astype("Float64").to_numpy(dtype=float, na_value=0)
    gen = np.array(list(q.labels("pain").values()))[np.argmax(first == 1, axis=1)]
    prim = cl["primary"].map(lx.labels)
    assert (prim.to_numpy() == gen).mean() > 0.97   # the writer's first-ranked pain point


def test_open_text_unmatched_themes_suppression_and_pii():
    lx = pp.load_lexicon(LEXICON)
    texts = (["报销流程太繁琐，建议推行无纸化报销"] * 11 + ["单位食堂饭菜太差，希望改善食堂"] * 12
             + ["停车位太少"] * 3 + ["希望解决租房难题，电话13912345678"] * 4 + [None] * 5)
    df = pd.DataFrame({"suggestion": pd.Series(texts, dtype="str")})
    r = pp.open_text(df, lx, min_cell=10)
    th = r["themes"].set_index("label")
    assert th.loc[REIMB, "n_texts"] == 11
    assert np.isnan(th.loc[HOUSING, "n_texts"])          # 4 texts < min_cell: suppressed
    assert r["summary"]["n_unmatched"].iloc[0] == 15
    un = r["unmatched"]
    assert "食堂" in un["theme"].tolist() and "停车位" not in un["theme"].tolist()
    assert set(r["quotes"]["label"]) == {REIMB}           # never a quote from a small category
    all_text = " ".join(r["quotes"]["quote"])
    assert "13912345678" not in all_text


def test_segment_uses_domain_dictionary():
    toks = pp.segment("希望加大青年人才公寓供给，降低租房负担")
    assert "人才公寓" in toks and "希望" not in toks


# ----------------------------------------------------------------------------------------------
# corrections, errors
# ----------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=30))
def test_adjusted_pvalues_properties(ps):
    p = np.array(ps)
    h, b = pp.adjust_pvalues(p, "holm"), pp.adjust_pvalues(p, "bh")
    assert (h >= p - 1e-12).all() and (b >= p - 1e-12).all() and (h <= 1).all() and (b <= 1).all()
    assert (h >= b - 1e-12).all()
    o = np.argsort(p, kind="stable")
    assert (np.diff(h[o]) >= -1e-12).all() and (np.diff(b[o]) >= -1e-12).all()


def test_bad_input_errors(tmp_path):
    df = pd.DataFrame({"p_1": pd.array([1, 2], dtype="Int64"), "p_2": pd.array([2, 1], dtype="Int64"),
                       "g": ["a", "b"]})
    d = SurveyDesign(df)
    with pytest.raises(ParameterError, match="correction"):
        pp.group_differences(d, "p", by="g", correction="bonferroni")
    with pytest.raises(ParameterError, match="measure"):
        pp.group_differences(d, "p", by="g", measure="median")
    with pytest.raises(EstimationError, match="no columns"):
        pp.summarize(d, "nope")
    with pytest.raises(ParameterError, match="weights has 3 values"):
        pp.summarize(d, "p", k=2, weights=[3, 2, 1])
    bad = tmp_path / "policies.yml"
    bad.write_text("measures:\n  - {name: x, date: 2024-01-01, office: o, items: [不存在], question: p}\n",
                   encoding="utf-8")
    with pytest.raises(ParameterError, match="不存在"):
        pp.evaluate_policies(d, d, bad)
    lex = tmp_path / "painpoint_lexicon.yml"
    lex.write_text("question: pain\ncategories:\n  1: {label: 错的标签, keywords: [x]}\n", encoding="utf-8")
    from survey.demo import build_wave
    with pytest.raises(QuestionnaireError, match="do not match"):
        pp.load_lexicon(lex, build_wave("2024", QUICK_SEEDS[0]).questionnaire)


def test_replicate_design_gives_similar_ses(waves):
    # linearisation vs jackknife of the same base-weight design (not a planted-pattern test)
    ds = pp.demo_designs(waves[0], station_fraction=0.35)
    d, q = ds["2023"]
    a = pp.wave_change(d, d.replicate("jkn"), "pain", questionnaire=q)
    lin = np.sqrt(2) * pp.summarize(d, "pain", questionnaire=q).set_index("item")["pct_top_se"]
    np.testing.assert_allclose(a["change"], 0, atol=1e-12)
    np.testing.assert_allclose(a.set_index("item")["se"].reindex(lin.index), lin, rtol=0.15)


def test_vectorised_group_estimates_equal_summarize_by(waves):
    """top_by_group / group_differences (one variance call per by-variable) give the estimates,
    SEs and CIs of summarize(by=) (survey.tables, one call per group), for a linearisation
    design with lonely-PSU handling, a subset (domain) design and a replicate design."""
    _, ds = waves
    d, q = ds["2024"]
    sub = d.subset(d.data["sex"].astype(object) == "女")
    for design in (d, sub, d.replicate("jkn")):
        for var in ("age_group", "unit_type"):
            s = pp.summarize(design, "pain", by=var, questionnaire=q)
            s = s.assign(level=s[var].astype(object))
            tg = pp.top_by_group(design, "pain", by=var, questionnaire=q, top=99)
            m = tg.merge(s, on=["level", "item"], suffixes=("", "_s"), validate="1:1")
            assert len(m) == len(s)
            for c in ("pct_top", "pct_top_low", "pct_top_high", "pct_first", "score", "n", "rank"):
                np.testing.assert_allclose(m[c].to_numpy(float), m[f"{c}_s"].to_numpy(float),
                                           rtol=1e-8, err_msg=c)
            gd = pp.group_differences(design, "pain", by=var, questionnaire=q)
            g = gd.merge(s, on=["level", "item"], validate="1:1")
            np.testing.assert_allclose(g["est_group"], g["pct_top"], rtol=1e-10)


# ----------------------------------------------------------------------------------------------
# the brief: HTML with charts, workbook tables, no missing glyphs
# ----------------------------------------------------------------------------------------------
def test_brief_renders_html_and_workbook(demo_brief, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    b = BriefReport(demo_brief)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        html = b.to_html()
    glyph = [str(x.message) for x in w if "Glyph" in str(x.message) or "missing from" in str(x.message)]
    assert not glyph, glyph[:3]
    assert html.count("<img") == 4 and "科研减负专项行动" in html and "Holm" in html
    assert "最小变化" in html
    tabs = b.tables()
    assert {"PP1", "PP3", "PP4", "PP5", "PP6", "PP7", "PP8", "PP9"} <= set(tabs)
    p = b.to_excel(tmp_path / "brief.xlsx")
    import openpyxl
    wb = openpyxl.load_workbook(p)
    assert "PP9" in wb.sheetnames
    for ws in wb.worksheets:  # laid out as tables.xlsx: notes row, one Chinese header row, numbers
        head = [c.value for c in ws[3]]
        assert ws["A2"].value.startswith("说明：") and ws.freeze_panes == "A4", ws.title
        assert all(isinstance(h, str) and h.strip() and not h.isdigit() for h in head), (ws.title, head)
        for j, h in enumerate(head):
            if any(k in h for k in ("比例", "下限", "上限", "p值", "样本量", "变化", "得分", "概率")) and "（†）" not in h:
                vals = [r[j] for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None and r[j] is not None]
                vals = vals[:len(b.tables()[ws.title])]
                assert all(isinstance(v, (int, float)) for v in vals), (ws.title, h, vals[:3])
    assert {"位次区间下限", "位次区间上限"} <= {c.value for c in wb["PP2"][3]}
    assert "Holm" in wb["PP8"]["A2"].value or "holm" in wb["PP8"]["A2"].value.lower()
    assert any("住房困难" in s for s in b.key_findings())


@pytest.mark.slow
def test_painpoints_notebook_renders_in_the_report(tmp_path):
    """The demo report's painpoints notebook runs end to end: 4 charts, the brief, no errors."""
    import nbformat

    from survey.report import render_report

    from survey.pipeline import wave_inputs

    root = Path(__file__).resolve().parents[1] / "data" / "demo"
    if not (root / "demo-2024" / "questionnaire.yml").is_file():
        from survey.demo import write_demo
        write_demo(root)
    import shutil

    from survey.demo import questionnaire_yaml

    for w in ("2023", "2024"):  # a copy with the package's current codebook (report: roles)
        shutil.copytree(root / f"demo-{w}", tmp_path / "demo" / f"demo-{w}")
        (tmp_path / "demo" / f"demo-{w}" / "questionnaire.yml").write_text(questionnaire_yaml(w), encoding="utf-8")
    root = tmp_path / "demo"
    inp = wave_inputs(root / "demo-2024")  # the demo folder holds every input of the wave
    r = render_report({"wave": "demo-2024", "questionnaire": str(inp["questionnaire"]),
                       "data": str(inp["raw"]), "previous_waves": ["demo-2023"]},
                      output_dir=tmp_path / "rep", notebooks=["painpoints"], progress=False)
    html = r.html[0].read_text(encoding="utf-8")
    assert "科研减负专项行动" in html and "青年人才住房补贴" in html and "待实现" not in html
    nb = nbformat.read(tmp_path / "rep" / "notebooks" / "painpoints.ipynb", as_version=4)
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert sum("image/png" in o.get("data", {}) for o in outs) == 4
    assert not [o for o in outs if o.output_type == "error" or o.get("name") == "stderr"]


def _tiny_brief(changes: pd.DataFrame) -> "pp.PolicyBrief":
    """A brief with hand-made frames (only what key_findings and tables read)."""
    summary = pd.DataFrame({"item": ["a", "b", "c"], "rank": [1, 2, 3], "pct_top": [0.5, 0.4, 0.3],
                            "pct_top_low": [0.4, 0.3, 0.2], "pct_top_high": [0.6, 0.5, 0.4],
                            "pct_first": [0.3, 0.2, 0.1], "score": [1.0, 0.8, 0.5], "n": [200] * 3,
                            "suppressed": [False] * 3})
    unc = pd.DataFrame({"item": ["a"], "rank": [1], "rank_low": [1], "rank_high": [2], "p_first": [0.6],
                        "p_top": [0.5], "method": ["bootstrap"], "replicates": [50], "top": [3]})
    diffs = pd.DataFrame({"variable": ["sex"], "level": ["男"], "item": ["a"], "est_group": [0.5],
                          "est_rest": [0.5], "diff": [0.0], "p_adj": [1.0], "significant": [False],
                          "suppressed": [False], "correction": ["Holm"]})
    top = pd.DataFrame({"variable": ["sex"], "level": ["男"], "rank": [1], "item": ["a"]})
    return pp.PolicyBrief(wave="2024", previous_wave="2023", summary=summary, uncertainty=unc,
                          top_groups=top, differences=diffs, changes=changes)


def test_key_findings_name_a_wave_that_is_not_a_year_as_a_wave():
    """A wave id such as ``national-2023`` is not a year: "与 national-2023 年相比" read as
    nonsense; the 要点 say "与national-2023 轮相比" (as the report's findings do)."""
    ch = pd.DataFrame({"item": ["a"], "before": 0.2, "after": 0.2, "change": [0.0], "se": 0.01,
                       "mde": 0.05, "p": [0.9], "n_before": [300], "n_after": [300],
                       "suppressed": [False], "ci_low": [-0.02], "ci_high": [0.02], "p_adj": [0.9],
                       "significant": [False]})
    brief = _tiny_brief(ch)
    brief.previous_wave = "national-2023"
    line = next(x for x in BriefReport(brief).key_findings() if "相比" in x)
    assert line.startswith("与national-2023 轮相比") and "年相比" not in line


def test_rank_uncertainty_note_names_the_replicate_method_in_chinese(demo_brief):
    """PP2's note said "200 次重复抽样（bootstrap）": the method is named as the 要点 name it."""
    from survey.painpoints.brief import REPLICATE_METHOD_ZH

    u = demo_brief.uncertainty
    how = REPLICATE_METHOD_ZH[str(u["method"].iloc[0])]
    t = next(t for t in BriefReport(demo_brief).published() if t.table_id == "PP2")
    note = next(n for n in t.notes if "重复抽样" in n)
    assert f"{int(u['replicates'].iloc[0])} 次重复抽样（{how}）" in note
    assert not any(c.isascii() and c.isalpha() for c in note), note


def test_key_findings_never_list_a_suppressed_or_unadjusted_change():
    """`~suppressed & (ci_high < 0) | (ci_low > 0)` parsed as `(~s & down) | up`: a suppressed
    rise reached the 要点.  Now a change is listed only when published and significant after
    Holm over the table's published items."""
    from survey.multiplicity import holm_significant

    p = np.array([1e-6, 0.0009, 0.014, 0.3, 0.5, 0.8])
    ch = pd.DataFrame({"item": list("abcdef"), "before": 0.2, "after": 0.2,
                       "change": [0.1, -0.1, 0.03, 0.01, 0.0, 0.0], "se": 0.01, "mde": 0.05,
                       "p": p, "n_before": [5] + [300] * 5, "n_after": [6] + [300] * 5,
                       "suppressed": [True] + [False] * 5})
    # raw 95% intervals: a, b and c exclude 0
    ch["ci_low"] = [0.06, -0.16, 0.002, -0.01, -0.02, -0.02]
    ch["ci_high"] = [0.14, -0.04, 0.058, 0.03, 0.02, 0.02]
    ch["p_adj"], ch["significant"] = holm_significant(np.where(ch["suppressed"], np.nan, p))
    assert ch["significant"].tolist() == [False, True, False, False, False, False]  # 4 × 0.014 > 0.05
    b = BriefReport(_tiny_brief(ch))
    line = next(x for x in b.key_findings() if "相比" in x)
    assert line.startswith("与2023年相比") and "b -10.0 个百分点" in line
    assert "a +" not in line   # suppressed (n = 5) although its interval excludes 0
    assert "c +" not in line   # raw p = 0.014, Holm-adjusted 0.056
    # PP8 shows the raw and the adjusted p and marks only the survivor
    t = b.tables()["PP8"]
    assert t.loc["c", "p值"] == "0.014" and t.loc["c", "校正后p值"] == "0.056"
    assert [i for i in t.index if t.loc[i, "变化"].endswith("†")] == ["b"]


def test_register_when_no_measure_can_be_judged(waves):
    """The reported wave was fielded before every measure: no verdict, the reason in the 要点."""
    import datetime as dt

    seed, ds = waves
    if seed != QUICK_SEEDS[0]:
        pytest.skip("one sample is enough")
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    fw = {"2022": (dt.date(2022, 5, 1), dt.date(2022, 6, 1)), "2023": (dt.date(2023, 5, 8), dt.date(2023, 6, 30))}
    ev = pp.evaluate_register(d23, POLICIES, {"2022": (d24, q24)}, current="2023", questionnaire_after=q23,
                              fieldwork=fw)
    assert set(ev["verdict_zh"]) == {"未评估"} and ev["change_target"].isna().all()
    st = pp.policy_status(ev)
    assert all(s.startswith("未评估（本轮调查（2023）开始于政策实施") for s in st["status"])


def test_open_text_never_quotes_personal_texts_and_skips_contact_clauses():
    """Texts that had personal data removed (or still look personal) are counted but never
    quoted; the clause around the placeholder gives no unmatched "themes" (电话, 打, 删除)."""
    from survey.privacy import REDACTED

    lx = pp.Lexicon("q", "t", {1: ("住房困难", ("住房",))}, {}, {})
    personal = [f"住房太贵，电话140.0646.{2800 + i}" for i in range(15)] + [
        f"住房补贴太少，我叫潘萍{'！' * i}" for i in range(3)] + ["住房难，经费2000000元不够用"]
    plain = [f"住房太贵希望补贴{'！' * i}" for i in range(12)]
    contact = [f"食堂太差，有需要可以打我电话1390000{i:04d}" for i in range(12)]
    df = pd.DataFrame({"t": personal + plain + contact})
    r = pp.open_text(df, lx, column="t", examples=50, top_unmatched=20)
    th = r["themes"].set_index("code")
    assert int(th.loc[1, "n_texts"]) == len(personal) + len(plain)
    quotes = r["quotes"]["quote"].tolist()
    assert len(quotes) == 1 and quotes[0] in plain  # the 12 variants are near-duplicates: one quote
    words = set(r["unmatched"]["theme"])
    assert "食堂" in words and not words & {"电话", "打", "删除", "已", "手机号"}, words
    assert not any(REDACTED in q or "潘萍" in q for q in quotes)
# ----------------------------------------------------------------------------------------------
# domains (regional reports) and small cells (issue #13 items 4 and 10)
# ----------------------------------------------------------------------------------------------
def test_rank_uncertainty_on_a_domain_keeps_the_full_design(waves):
    """A region's design (``subset``) is re-ranked under bootstrap replicates of the *full*
    design zeroed outside the domain (R: as.svrepdesign on the whole sample, then subset); it
    used to raise "build on the full design"."""
    seed, ds = waves
    d, q = ds["2024"]
    region = d.data["district"].astype(str) == str(d.data["district"].astype(str).iloc[0])
    sub = d.subset(region)
    got = pp.rank_uncertainty(sub, "pain", questionnaire=q, replicates=60, seed=seed)
    ref = pp.rank_uncertainty(d.replicate("bootstrap", replicates=60, seed=seed).subset(region),
                              "pain", questionnaire=q, method="replicate")
    cols = ["item", "estimate", "rank", "rank_low", "rank_high", "p_first", "p_top"]
    pd.testing.assert_frame_equal(got[cols], ref[cols])
    assert got["method"].iloc[0] == "bootstrap"
    whole = pp.rank_uncertainty(d, "pain", questionnaire=q, replicates=60, seed=seed)
    assert not np.allclose(got.set_index("item")["estimate"], whole.set_index("item")["estimate"])


def test_one_suppression_rule_for_summaries_and_groups():
    """summarize, top_by_group and group_differences use the rule of add_flags: a base below
    min_cell, or 1..min_cell-1 respondents choosing the item (summarize used the base only)."""
    from survey.privacy import disclosure_mask

    # group a: 60 answerers, item 3 chosen by 4 of them; group b: 6 answerers
    r1 = [1] * 56 + [2] * 4 + [1] * 6
    r2 = [2] * 56 + [3] * 4 + [2] * 6
    df = pd.DataFrame({"p_1": pd.array([1 if x == 1 else (2 if y == 1 else None) for x, y in zip(r1, r2)],
                                       dtype="Int64"),
                       "g": ["a"] * 60 + ["b"] * 6, "c": np.arange(66) % 11})
    df["p_2"] = pd.array([2 if x == 1 else 1 for x in r1], dtype="Int64")
    df["p_3"] = pd.array([None] * 56 + [2] * 4 + [None] * 6, dtype="Int64")
    d = SurveyDesign(df, psu="c")
    s = pp.summarize(d, "p", k=2, by="g").set_index(["g", "item"])["suppressed"]
    assert bool(s[("a", "3")]) and not s[("a", "1")] and not s[("a", "2")]   # numerator 4
    assert s.xs("b", level="g").all()                                         # base 6
    top = pp.top_by_group(d, "p", by="g", k=2, top=3)
    assert top.set_index("level")["suppressed"].groupby(level=0).all().to_dict() == {"a": False, "b": True}
    gd = pp.group_differences(d, "p", by="g", k=2)
    np.testing.assert_array_equal(gd["suppressed"], disclosure_mask(gd["n_group"], gd["n_cell"], 10))
    assert not gd.loc[gd["suppressed"], "significant"].any()


def test_brief_of_a_tiny_domain_suppresses_everything(waves):
    """A region with 5 respondents: the brief builds (no model fit on 5 people), every number
    of every table is suppressed and a Chinese note says why; a group the report hides is
    hidden in PP3 even when it is large enough on its own."""
    seed, ds = waves
    d, q = ds["2024"]
    if seed != QUICK_SEEDS[0]:
        pytest.skip("once")
    five = np.zeros(len(d.data), bool)
    five[np.flatnonzero(d.data[q.columns("pain")].notna().any(axis=1).to_numpy())[:5]] = True
    b = BriefReport(pp.build_brief(d.subset(five), "pain", questionnaire=q, lexicon=LEXICON, replicates=20))
    assert any("少于最小单元格 10 人" in n for n in b.notes)
    assert b.drivers is None and b.priority is None and b.text is None
    for t in b.published():
        assert t.data.empty == (t.table_id == "PP4"), t.table_id  # nothing is significant
        nums = [c for c in t.data.columns if t.formats.get(c) != "text"]
        assert t.suppressed[nums].to_numpy().all(), t.table_id
    assert "少于 10 人" in b.key_findings()[0]
    big = BriefReport(pp.build_brief(d, "pain", questionnaire=q, replicates=20, by=["title"],
                                     hidden={"title": {"副高"}}))
    pp3 = big.table("PP3")
    assert pp3.suppressed.loc["专业技术职称：副高"].all() and not pp3.suppressed.loc["专业技术职称：中级"].any()
    assert not big.tables()["PP4"].index.get_level_values("分组").str.contains("副高").any()


def test_brief_of_a_region_leaves_out_a_group_with_one_level(waves):
    """A district's own brief by district: one level among the answerers, no 'everyone else'
    to compare with and its top items are PP1's, so the group is left out (a note says why);
    the other groups' tables are those of the brief without it."""
    seed, ds = waves
    d, q = ds["2024"]
    if seed != QUICK_SEEDS[0]:
        pytest.skip("once")
    big = d.data["district"].astype(str).value_counts().index[0]
    dr = d.subset((d.data["district"].astype(str) == big).to_numpy())
    b = pp.build_brief(dr, "pain", questionnaire=q, replicates=20, by=["title", "district"])
    assert any("都属于同一类别" in n and short_label(q, "district") in n for n in b.notes)
    assert set(b.top_groups["variable"]) == {"title"} and set(b.differences["variable"]) <= {"title"}
    ref = pp.build_brief(dr, "pain", questionnaire=q, replicates=20, by=["title"])
    pd.testing.assert_frame_equal(b.top_groups, ref.top_groups)
    pd.testing.assert_frame_equal(b.differences, ref.differences)


def test_policies_and_changes_of_a_region(waves):
    """A region's report compares the region with the same region of the earlier wave: the
    policy evaluation accepted only full designs (a mask of the domain's size met the full
    data: broadcast error).  Its 'all' estimates are the wave_change estimates of the domains."""
    seed, ds = waves
    if seed != QUICK_SEEDS[0]:
        pytest.skip("once")
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    reg = str(d24.data["district"].astype(str).iloc[0])
    s23 = d23.subset((d23.data["district"].astype(str) == reg).to_numpy())
    s24 = d24.subset((d24.data["district"].astype(str) == reg).to_numpy())
    ev = pp.evaluate_policies(s23, s24, POLICIES, questionnaire=q23, questionnaire_after=q24)
    wc = pp.wave_change(s23, s24, "pain", questionnaire=q23, questionnaire_after=q24).set_index("item")
    np.testing.assert_allclose(ev["before_all"], wc.loc[ev["item"], "before"], rtol=1e-10)
    np.testing.assert_allclose(ev["after_all"], wc.loc[ev["item"], "after"], rtol=1e-10)
    assert (ev["n_target_after"] <= s24.n).all()




# ----------------------------------------------------------------------------------------------
# the 急难愁盼问题清单 (问题—措施—成效) and the Word 专报
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_brief():
    """One demo brief (first quick seed, 35 % of the stations), shared by the 清单/专报 tests."""
    ds = pp.demo_designs(QUICK_SEEDS[0], station_fraction=0.35)
    (d23, q23), (d24, q24) = ds["2023"], ds["2024"]
    b = pp.build_brief(d24, "pain", questionnaire=q24, design_before=d23, questionnaire_before=q23,
                       policies=POLICIES, lexicon=LEXICON, wave="2024", previous_wave="2023",
                       replicates=50, by=["age_group", "title", "unit_type"])
    return b


def test_problem_list_on_the_demo(demo_brief):
    b = demo_brief
    cl = pp.problem_list(b, top=5)
    s = b.summary[~b.summary["suppressed"]].sort_values("rank")
    lead = cl[cl["leading"]]
    assert lead["item"].tolist() == s["item"].head(5).tolist()
    # shares and CIs are the brief's numbers, as numbers
    m = s.set_index("item")
    for r in cl.itertuples():
        assert (r.pct, r.pct_low, r.pct_high) == (m.loc[r.item, "pct_top"], m.loc[r.item, "pct_top_low"],
                                                  m.loc[r.item, "pct_top_high"])
    # measures by the register: items no measure targets are 待认领, the others name measure and office
    reg = pp.load_policies(POLICIES)
    targeted = {i: p for p in reg for i in p.items}
    for r in cl.itertuples():
        if r.item in targeted:
            assert r.status == "已有措施" and targeted[r.item].name in r.measures
            assert targeted[r.item].office in r.offices
        else:
            assert r.measures == r.offices == r.verdict == r.status == pp.UNCLAIMED
    assert set(cl.loc[~cl["leading"], "item"]) == set(targeted) - set(lead["item"])  # targeted, outside the top
    c = cl.set_index("item")
    assert c.loc[HOUSING, "leading"] and c.loc[HOUSING, "measures"] == "青年人才住房补贴"
    # verdicts with the compared waves and the MDE: the planted real effect and the planted nil one
    assert c.loc[REIMB, "verdict"] == "改善" and c.loc[HOUSING, "verdict"] == "未检测到变化"
    assert c.loc[HOUSING, "waves"] == "2023 → 2024" and 0.01 < c.loc[HOUSING, "mde"] < 0.06
    assert "可检测的最小变化" in c.loc[HOUSING, "verdict_detail"]
    assert "2023→2024" in c.loc[REIMB, "verdict_detail"]
    # groups: only differences significant after Holm (and every one listed is truly higher)
    d = b.differences
    sig = d[d["significant"] & ~d["suppressed"] & (d["diff"] > 0)]
    tr = _true_group_diffs(QUICK_SEEDS[0]).set_index(["group", "level", "item"])
    names = b.names  # the questionnaire's wording of each group question
    for r in cl.itertuples():
        listed = [x for x in r.groups.split("；") if x]
        assert len(listed) == r.n_groups == min(3, int((sig["item"] == r.item).sum()))
        for x in listed:
            hit = sig[(sig["item"] == r.item).to_numpy() & np.array(
                [x.startswith(f"{names[v]}“{lv}”") for v, lv in zip(sig["variable"], sig["level"])], bool)]
            assert len(hit) == 1, (r.item, x)
            h = hit.iloc[0]
            assert tr.loc[(h["variable"], str(h["level"]), r.item), "tdiff"] > 0
    assert f"{names['age_group']}“29岁及以下”" in c.loc[HOUSING, "groups"]  # the planted housing pattern
    # changes: marked only when significant after Holm
    ch = b.changes.set_index("item")
    for r in cl.itertuples():
        assert r.change_significant == bool(ch.loc[r.item, "significant"])
        assert (r.trend == "未检测到变化") == (not r.change_significant)


def _checklist_brief(**over) -> "pp.PolicyBrief":
    """A hand-made brief: item a leads but is suppressed; b has a large difference that does
    not survive Holm (the planted null), c a significant but suppressed group; b's change has
    a raw CI excluding zero but is not significant after Holm, c's is."""
    summary = pd.DataFrame({"item": ["a", "b", "c", "d"], "rank": [1, 2, 3, 4],
                            "pct_top": [0.6, 0.5, 0.4, 0.3], "pct_top_low": [0.5, 0.4, 0.3, 0.2],
                            "pct_top_high": [0.7, 0.6, 0.5, 0.4], "n": [400] * 4,
                            "suppressed": [True, False, False, False]})
    diffs = pd.DataFrame({"variable": ["sex", "sex", "title", "title"], "level": ["女", "男", "初级", "正高"],
                          "item": ["b", "c", "c", "b"], "est_group": [0.8, 0.6, 0.7, 0.55],
                          "est_rest": [0.4, 0.35, 0.3, 0.5], "diff": [0.4, 0.25, 0.4, 0.05],
                          "ci_low": [0.0, 0.1, 0.2, 0.01], "ci_high": [0.8, 0.4, 0.6, 0.09],
                          "p_adj": [0.2, 0.001, 0.001, 0.04], "significant": [False, True, True, True],
                          "suppressed": [False, False, True, False], "correction": ["Holm"] * 4})
    changes = pd.DataFrame({"item": ["a", "b", "c", "d"], "change": [0.1, 0.05, -0.06, 0.0],
                            "ci_low": [0.05, 0.01, -0.09, -0.02], "ci_high": [0.15, 0.09, -0.03, 0.02],
                            "p": [0.001, 0.014, 0.0001, 0.9], "p_adj": [0.004, 0.056, 0.0005, 0.9],
                            "significant": [True, False, True, False], "suppressed": [True, False, False, False],
                            "mde": [0.03] * 4})
    kw = dict(wave="2024", previous_wave="2023", summary=summary, uncertainty=pd.DataFrame(),
              top_groups=pd.DataFrame(), differences=diffs, changes=changes,
              names={"sex": "性别", "title": "职称"})
    kw.update(over)
    return pp.PolicyBrief(**kw)


def test_problem_list_keeps_only_published_tested_claims():
    b = _checklist_brief()
    cl = pp.problem_list(b, top=2).set_index("item")
    assert list(cl.index) == ["b", "c"]             # a is suppressed: never in the 清单
    # the planted null (large raw difference, not significant after Holm) is not listed; a
    # significant group that is suppressed is not either; a significant one is
    assert cl.loc["b", "groups"] == "职称“正高”（55% 对 50%）"
    assert cl.loc["c", "groups"] == "性别“男”（60% 对 35%）"
    assert cl.loc["b", "trend"] == "未检测到变化" and not cl.loc["b", "change_significant"]
    assert cl.loc["c", "trend"] == "下降 6.0 个百分点（95% CI −9.0 至 −3.0）"
    assert (cl["status"] == pp.UNCLAIMED).all()     # no register: every item 待认领
    # a register names the measure and office even before any wave could judge it
    pol = pp.Policy("补贴", __import__("datetime").date(2024, 9, 1), "某局 某处", "pain", ("c", "a"))
    cl2 = pp.problem_list(_checklist_brief(register=[pol], question="pain"), top=2).set_index("item")
    assert cl2.loc["c", "measures"] == "补贴" and cl2.loc["c", "offices"] == "某局 某处"
    assert cl2.loc["c", "verdict"] == "未评估" and cl2.loc["b", "status"] == pp.UNCLAIMED
    assert "a" not in cl2.index                     # targeted but suppressed: still not listed
    # a measure on another question does not claim an item
    other = pp.Policy("别题", pol.date, "某局", "other_q", ("b",))
    cl3 = pp.problem_list(_checklist_brief(register=[other], question="pain"), top=2)
    assert (cl3["status"] == pp.UNCLAIMED).all()
    with pytest.raises(ParameterError, match="top"):
        pp.problem_list(b, top=0)


def test_policy_register_requires_an_office(tmp_path):
    bad = tmp_path / "policies.yml"
    bad.write_text("measures:\n  - {name: x, date: 2024-01-01, office: '', items: [a]}\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="office"):
        pp.load_policies(bad)
    bad.write_text("measures:\n  - {name: x, date: 2024-01-01, items: [a]}\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="office"):
        pp.load_policies(bad)


def test_zhuanbao_docx(demo_brief, tmp_path):
    """The Word 专报 opens, holds the 清单 table (header and rows as in the frame), 2–3
    charts, East Asian fonts named on every style and run, and no code or variable ids."""
    import re
    import zipfile

    import docx
    import matplotlib
    matplotlib.use("Agg")
    from docx.oxml.ns import qn

    from survey.report.docx import write_docx

    b = demo_brief
    cl = pp.problem_list(b)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p = write_docx(b, tmp_path / "专报.docx", title="2024年示例市科技工作者状况调查")
    assert not [x for x in w if "Glyph" in str(x.message) or "missing from" in str(x.message)]
    doc = docx.Document(str(p))
    heads = [x.text for x in doc.paragraphs if x.style.name.startswith("Heading")]
    assert heads == ["一、主要发现", "二、急难愁盼问题清单", "三、图表", "四、方法说明"]
    assert doc.paragraphs[0].style.name == "Title" and "专报" in doc.paragraphs[0].text
    assert len(doc.tables) == 1
    t = doc.tables[0]
    assert [c.text for c in t.rows[0].cells] == ["位次", "问题", "选择比例（95% CI）", "受影响最大的群体",
                                                 "较上轮变化", "对应措施", "责任部门", "成效"]
    rows = [[c.text for c in r.cells] for r in t.rows[1:]]
    assert [r[1] for r in rows] == cl["item"].tolist()
    assert [r[0] for r in rows] == [str(x) for x in cl["rank"]]
    for r, x in zip(rows, cl.itertuples()):
        assert r[2].startswith(f"{x.pct * 100:.1f}%")
        assert r[5] == x.measures and r[6] == x.offices
    assert any(r[5] == pp.UNCLAIMED for r in rows)
    assert 2 <= len(doc.inline_shapes) <= 3
    # fonts: 宋体 body / 黑体 headings as the East Asian font on the styles, on every run
    for name, font in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体")):
        rf = doc.styles[name].element.rPr.find(qn("w:rFonts"))
        assert rf.get(qn("w:eastAsia")) == font and rf.get(qn("w:eastAsiaTheme")) is None, name
    body = doc.element.body
    runs = body.findall(".//" + qn("w:r"))
    texts = [r for r in runs if r.find(qn("w:t")) is not None]
    assert texts and all(r.find(qn("w:rPr") + "/" + qn("w:rFonts")).get(qn("w:eastAsia")) in ("宋体", "黑体")
                         for r in texts)
    # findings: only tested claims; nothing non-significant called 显著; no code or ids
    text = "\n".join([x.text for x in doc.paragraphs] + [c.text for r in t.rows for c in r.cells])
    assert "显著" not in text.replace("显著性水平", "")  # the methods may name the level
    ids = set(b.differences["variable"]) | {"pain", "PP10", "nan", "None", "True", "False", "verdict"}
    assert not [i for i in ids if re.search(rf"(?<![A-Za-z_]){i}(?![A-Za-z_])", text)]
    assert not re.search(r"[a-z]+_[a-z0-9_]+|\(\)|import |def ", text)
    findings = [x.text for x in doc.paragraphs if x.style.name == "List Bullet"]
    sig_ch = b.changes[b.changes["significant"] & ~b.changes["suppressed"]]["item"]
    for it in b.changes["item"]:
        said = any(f"“{it}”下降" in f or f"“{it}”上升" in f for f in findings)
        assert said == (it in set(sig_ch) and it in set(cl["item"])), it
    assert any("待认领" in f for f in findings) and any("责任部门" in f for f in findings)
    # the file depends on the data only (fixed timestamps)
    with zipfile.ZipFile(p) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2000-01-01" in core


def test_zhuanbao_docx_of_a_first_wave(tmp_path):
    """Without an earlier wave or register verdicts the 专报 still has two charts (items, groups),
    says nothing about change, and marks every item 待认领."""
    import docx
    import matplotlib
    matplotlib.use("Agg")

    from survey.report.docx import write_docx

    b = _checklist_brief(changes=None, previous_wave=None)
    doc = docx.Document(str(write_docx(b, tmp_path / "专报.docx", top=2)))
    assert len(doc.inline_shapes) == 2
    text = "\n".join(x.text for x in doc.paragraphs)
    assert "上一轮" not in text and "下降" not in text and "往期调查" not in text
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows[1:]]
    assert [r[1] for r in rows] == ["b", "c"] and all(r[5] == pp.UNCLAIMED for r in rows)
    assert all(r[4] == "无往期数据" for r in rows)


# ----------------------------------------------------------------------------------------------
# visible text (#16): rows named, groups and effect scales in the questionnaire's / plain Chinese
# ----------------------------------------------------------------------------------------------
def test_group_and_policy_tables_name_rows_in_chinese(demo_brief):
    import re

    b = BriefReport(demo_brief)
    tabs = b.tables()
    ids = set(b.names) | {"unit_type", "age_group", "title"}
    pub = {t.table_id: t for t in b.published()}
    for tid in ("PP4", "PP9"):
        df = tabs[tid]
        assert len(df), tid
        assert not isinstance(df.index, pd.RangeIndex) and None not in df.index.names, tid
        html = pub[tid].to_html()
        assert not re.search(r'class="row_heading[^"]*"[^>]*>\s*\d+\s*<', html), tid  # no bare 0, 1, 2
        cells = [*map(str, df.columns), *map(str, df.index.names),
                 *(str(v) for lvl in range(df.index.nlevels) for v in df.index.get_level_values(lvl)),
                 *(str(v) for v in df.to_numpy().ravel())]
        bad = [c for c in cells if re.search(r"[A-Za-z]+_[A-Za-z0-9]", c) or any(
            re.search(rf"(?<![A-Za-z_]){re.escape(i)}(?![A-Za-z_0-9])", c) for i in ids)]
        assert not bad, (tid, bad[:5])
    groups = tabs["PP9"]["针对群体"].tolist()
    unit = b.names["unit_type"] if "unit_type" in b.names else None
    targeted = [g for g in groups if g != "全体"]
    assert targeted and all("/" not in g for g in targeted)
    if unit:
        assert any(g.startswith(f"{unit}：") and "、" in g for g in targeted), targeted


def test_driver_note_has_no_english(demo_brief):
    import re

    pub = {t.table_id: t for t in BriefReport(demo_brief).published()}
    assert "PP6" in pub
    notes = " ".join(pub["PP6"].notes)
    assert "效应尺度" in notes
    words = re.findall(r"[A-Za-z]{2,}", notes)
    assert not words, words  # "difference in mean", "odds ratio", "binomial", "gaussian"
    p = pub["PP6"].display["p值"].astype(str)
    assert all(re.fullmatch(r"<0\.001|\d\.\d{3}|—|", v) for v in p), p.tolist()


def test_heatmap_marks_significance_with_a_dagger_not_a_star(demo_brief):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    b = demo_brief
    fig = plot_group_heatmap(b.differences, names=b.names)
    texts = [t.get_text() for t in fig.findobj(Text)]
    plt.close(fig)
    assert not any("*" in t for t in texts), [t for t in texts if "*" in t][:3]
    d = b.differences
    if (d["significant"] & ~d["suppressed"]).any():
        assert any(t.endswith("†") for t in texts) and any("†" in t and "显著" in t for t in texts)


def test_group_differences_in_a_domain_with_empty_groups_stay_finite():
    """A region's report: groups with nobody in the domain (other districts, or a crossed level
    absent there) have no estimate, and must not make the other groups' differences NaN (the
    differences are contrasts of one Estimates; an empty group's NaN has coefficient 0).
    Each difference equals the one computed from that group's own two ratios."""
    from survey.painpoints._core import group_stats, rank_items as ri

    rng = np.random.default_rng(11)
    n = 1_200
    region = rng.choice(["东", "西"], n)
    grp = np.where(region == "东", rng.choice(["a", "b"], n), rng.choice(["c", "d"], n))
    first = np.where(rng.random(n) < np.where(grp == "a", 0.7, 0.4), 1, 2)
    df = pd.DataFrame({"region": region, "grp": grp, "psu": rng.integers(0, 60, n),
                       "p_1": pd.array(np.where(first == 1, 1, 2), dtype="Int64"),
                       "p_2": pd.array(np.where(first == 2, 1, 2), dtype="Int64")})
    d = SurveyDesign(df, psu="psu").subset((df["region"] == "东").to_numpy())
    it = ri(d, "p")
    s = group_stats(d, it, "grp", "pct_first")
    live = s[s["n_group"] > 0]
    assert set(live["level"]) == {"a", "b"}
    assert np.isfinite(live[["diff", "se", "est_group", "est_rest"]].to_numpy(float)).all()
    np.testing.assert_allclose(live["diff"], live["est_group"] - live["est_rest"], rtol=1e-12)
    gd = pp.group_differences(d, "p", by=["grp", ("grp", "region")], measure="pct_first",
                              min_cell=1)
    assert np.isfinite(gd["p"]).any() and np.isfinite(gd["diff"]).all()


def test_open_text_quotes_have_no_near_duplicate_pairs():
    """Quotes came in near-duplicate pairs ("…材料" / "…材料！", one word added): a quote is
    skipped when it is a near-duplicate (normalised text, similarity >= QUOTE_SIMILARITY, fixed
    at 0.8 in advance) of one already taken, in its own category or another; distinct texts
    are still quoted."""
    from itertools import combinations

    from survey.painpoints.text import QUOTE_SIMILARITY, near_duplicate

    assert QUOTE_SIMILARITY == 0.8
    lx = pp.Lexicon("q", "t", {1: ("科研经费不足", ("经费", "申报")), 2: ("报销手续繁琐", ("报销",))}, {}, {})
    fund = (["希望简化项目申报材料"] * 4 + ["希望简化项目申报材料！"] * 4 + ["希望简化项目申报材料。。"] * 4
            + ["希望进一步简化项目申报材料"] * 4 + ["建议增加青年基金经费的资助比例"] * 4)
    reimb = ["报销流程太繁琐，建议推行无纸化报销"] * 6 + ["报销流程太繁琐,建议推行无纸化报销!"] * 6 + [
        "希望简化项目申报材料和报销"] * 3 + ["希望减少报销签字环节"] * 6
    r = pp.open_text(pd.DataFrame({"t": fund + reimb}), lx, column="t", examples=10)
    quotes = r["quotes"]["quote"].tolist()
    pairs = [(a, b) for a, b in combinations(quotes, 2) if near_duplicate(a, b)]
    assert not pairs, pairs
    # each distinct opinion is still there (one of its variants)
    for group in (fund[:16], ["建议增加青年基金经费的资助比例"], reimb[:12], ["希望减少报销签字环节"]):
        assert sum(q in group for q in quotes) == 1, (group[0], quotes)
    # the rule itself: punctuation and width do not count; different opinions are kept apart
    assert near_duplicate("报销流程太繁琐，建议推行无纸化报销", "报销流程太繁琐,建议推行无纸化报销!")
    assert not near_duplicate("希望减少报销签字环节", "报销流程太繁琐，建议推行无纸化报销")
    assert not near_duplicate("希望保障科研人员的科研时间", "希望单位重视科技人员的心理健康")


def _pixels(png: bytes):
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _count_draws(monkeypatch) -> list:
    """Every full draw of a figure (the real one and savefig's layout pass for a tight crop)."""
    from matplotlib.figure import Figure

    draws: list = []
    real = Figure.draw

    def draw(self, renderer):
        draws.append(self)
        return real(self, renderer)

    monkeypatch.setattr(Figure, "draw", draw)
    return draws


def test_painpoints_charts_are_drawn_once_and_cropped_as_a_tight_crop(demo_brief, monkeypatch):
    """Each chart of the page is drawn once (savefig's bbox_inches="tight" drew it twice:
    a layout pass, then the picture), and its picture is what that crop gives: the same size
    within two pixels, nothing clipped, the same picture (pictures.same_chart)."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pictures import same_chart

    from survey.report.content.painpoints import plot_changes, plot_ranked
    from survey.report.theme import BRIEF_DPI

    B = BriefReport(demo_brief)
    draws = _count_draws(monkeypatch)
    shown = {}
    for name in ("ranked", "heatmap", "changes"):
        draws.clear()
        shown[name] = B.figure(name).png
        assert len(draws) == 1, (name, len(draws))
    monkeypatch.undo()

    def savefig_tight(fig, dpi=None) -> bytes:  # matplotlib's own crop: the reference
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1, dpi=dpi)
        plt.close(fig)
        return buf.getvalue()

    same_chart(shown["heatmap"], savefig_tight(plot_group_heatmap(B.differences, items=B._item_order(),
                                                                   names=B.names)))
    same_chart(shown["ranked"], savefig_tight(plot_ranked(B.summary)))
    hl = list(B.policies["item"]) if B.policies is not None else []
    same_chart(shown["changes"], savefig_tight(plot_changes(B.changes, highlight=hl), dpi=BRIEF_DPI), size_px=3,
               moved=0.005)


def test_zhuanbao_reuses_the_change_chart_of_the_page(demo_brief, monkeypatch, tmp_path):
    """The change chart is on the page and in the 专报: drawn once, at the 专报's resolution
    (BRIEF_DPI), shown on the page at the size a page chart has; the Word file embeds those
    very bytes, and draws each of its other charts once."""
    import zipfile

    import matplotlib
    matplotlib.use("Agg")

    from survey.report.checklist import checklist_charts
    from survey.report.docx import write_docx
    from survey.report.theme import BRIEF_DPI

    B = BriefReport(demo_brief)
    draws = _count_draws(monkeypatch)
    shown = B.figure("changes")
    assert len(draws) == 1
    png, size = shown._repr_png_()
    w, h = (int.from_bytes(png[k:k + 4], "big") for k in (16, 20))
    page_dpi = matplotlib.rcParams["figure.dpi"]
    assert size == {"width": round(w * page_dpi / BRIEF_DPI), "height": round(h * page_dpi / BRIEF_DPI)}
    cl = pp.problem_list(demo_brief)
    charts = checklist_charts(B, cl)
    assert [c for _, c in charts if isinstance(c, bytes)] == [png]
    import matplotlib.pyplot as plt

    for _, c in charts:
        if not isinstance(c, bytes):
            plt.close(c)
    draws.clear()
    p = write_docx(B, tmp_path / "专报.docx", checklist=cl)
    assert len(draws) == len(charts) - 1  # the others, once each
    with zipfile.ZipFile(p) as z:
        media = [z.read(n) for n in z.namelist() if n.startswith("word/media/")]
    assert png in media and len(media) == len(charts)


# ------------------------------------------------------------------------------------------------
# group_stats (sparse basis, 2 x 2 blocks) equals the dense computation it replaced
# ------------------------------------------------------------------------------------------------
from test_comparisons import assert_close, outcome, random_design  # noqa: E402  (tests/ helpers)

def _dense_group_stats(design, it, var, measure, level=0.95):
    """The algorithm group_stats used before ratio_blocks (test oracle): dense ``n × 2LK``
    numerators and denominators of every group and everyone else, one ratio_estimates call (the
    full covariance), the differences as contrasts of it."""
    from survey.comparisons import ratio_estimates
    from survey.painpoints._core import group_frame, group_rows

    # the rows and the frame are group_stats' own (unchanged); the statistics are the dense ones
    g = group_rows(design, it, var, measure)
    Y, G, gi, inside = g.Y, g.G, g.gi, g.inside
    (n, K), L = Y.shape, len(g.levels)
    Rm = (~G) & g.ok[:, None]
    Yall = np.concatenate([(G[:, :, None] * Y[:, None, :]).reshape(n, L * K),
                           (Rm[:, :, None] * Y[:, None, :]).reshape(n, L * K)], axis=1)
    Aall = np.concatenate([np.repeat(G, K, axis=1), np.repeat(Rm, K, axis=1)], axis=1).astype(float)
    present = None if design.is_replicate else np.concatenate(
        [np.repeat(gi, K, axis=1), np.repeat(inside[:, None], L * K, axis=1)], axis=1)
    e = ratio_estimates(design, Yall, Aall, present=present, level=level)
    eye = np.eye(L * K)
    diff = e.contrast(np.concatenate([eye, -eye], axis=1))
    return group_frame(design, it, var, g, est_group=e.estimate[:L * K], se_group=e.se[:L * K],
                       est_rest=e.estimate[L * K:], diff=diff.estimate, se=diff.se,
                       n_cell=(G[:, :, None] & (Y[:, None, :] > 0)).sum(axis=0).ravel())


def _check_group_stats(seed, kind, how, lonely, lonely_stratum, reps, subset):
    from survey.errors import SurveyError
    from survey.painpoints._core import group_stats, rank_items as ri

    try:
        _, d = random_design(seed, kind, how, lonely, lonely_stratum, reps, subset)
    except SurveyError:
        return
    it = ri(d, "p", k=2)
    for var, measure in (("g", "pct_top"), (("g", "b"), "pct_first"), ("a", "score")):
        got = outcome(lambda: group_stats(d, it, var, measure))
        ref = outcome(lambda: _dense_group_stats(d, it, var, measure))
        what = f"{kind}/{how}/{lonely}/{reps}/subset={subset}: {var} {measure}"
        if isinstance(ref, str) or isinstance(got, str):
            assert got == ref, what
            continue
        assert list(got.columns) == list(ref.columns)
        for c in ("variable", "level", "item", "code", "n_group", "n_answered", "n_all", "n_cell"):
            assert got[c].tolist() == ref[c].tolist(), f"{what}: {c}"
        for c in ("est_group", "est_rest", "diff", "df_group"):
            assert_close(got[c], ref[c], f"{what}: {c}")
        # variances on one scale (the largest compared), a zero variance's noise (1e-33) as zero
        scale = float(np.nanmax(ref[["se_group", "se"]].to_numpy(float) ** 2, initial=0.0))
        for c in ("se_group", "se"):
            assert_close(got[c].to_numpy(float) ** 2, ref[c].to_numpy(float) ** 2, f"{what}: {c}²", scale)


DESIGN_DRAWS = dict(seed=st.integers(0, 2**31 - 1),
                    kind=st.sampled_from(("srs", "cluster", "strat_cluster", "strat_rows", "twostage_fpc")),
                    how=st.sampled_from(("none", "rake", "poststratify", "greg", "rake_trim", "greg_rake")),
                    lonely=st.sampled_from(("fail", "remove", "adjust", "average", "certainty")),
                    lonely_stratum=st.booleans(), reps=st.sampled_from((None, "bootstrap", "jk")),
                    subset=st.booleans())


@settings(max_examples=40, deadline=None)
@given(**DESIGN_DRAWS)
def test_group_stats_equals_the_dense_computation(seed, kind, how, lonely, lonely_stratum, reps, subset):
    """group_stats (a sparse basis, only each group ratio's 2 × 2 covariance with everyone
    else's) equals the dense computation it replaced (n × 2LK matrices, the full covariance,
    the differences as contrasts) on every design kind, calibration, lonely-PSU rule, replicate
    type and domain, for a single and a crossed by-variable and the three measures."""
    _check_group_stats(seed, kind, how, lonely, lonely_stratum, reps, subset)


@pytest.mark.parametrize("kind", ("srs", "cluster", "strat_cluster", "strat_rows", "twostage_fpc"))
@pytest.mark.parametrize("lonely", ("fail", "remove", "adjust", "average", "certainty"))
def test_group_stats_lonely_rules_with_a_lonely_stratum(kind, lonely):
    """Every lonely-PSU rule where it bites (a lonely first stratum, groups that hold it or not,
    no calibration), whole design and domain."""
    for seed in (0, 1):
        for subset in (False, True):
            _check_group_stats(seed, kind, "none", lonely, True, None, subset)


def test_publishing_every_table_builds_the_tables_once(demo_brief, monkeypatch, tmp_path):
    """Each ``B.publish`` cell asks whether the brief has its table: the tables are built once
    per brief (issue #17: they were rebuilt by every one of the nine cells), and publishing a
    table the brief lacks still says why."""
    calls = []
    real = BriefReport.tables
    monkeypatch.setattr(BriefReport, "tables", lambda self: calls.append(1) or real(self))
    from survey.report import setup, validate

    ctx = setup(validate(notebook="painpoints", output_dir=str(tmp_path)), notebook="painpoints")
    b = BriefReport(demo_brief)
    shown = {tid: b.publish(tid, ctx) for tid in b.TITLES}
    assert len(calls) == 1
    assert shown["PP1"].table_id == "PP1" and shown["PP9"].table_id == "PP9"
    # a brief without a change table: the PP8 cell is blank (the chart cell above says why)
    import dataclasses

    nochange = BriefReport(dataclasses.replace(demo_brief, changes=None))
    assert nochange.publish("PP8", ctx)._repr_html_() == ""
    assert [p.table_id for p in nochange.published()] == [t for t in b.TITLES if t != "PP8"]


def test_a_regional_brief_cuts_each_earlier_wave_to_the_region_once(demo_inputs, tmp_path, monkeypatch):
    """The previous wave is both the change table's "before" and a candidate wave of the policy
    register: brief_for_report cuts it to the report's region once (issue #17), and both
    analyses get that region."""
    from survey import report
    from survey.design import SurveyDesign

    P = report.validate(notebook="painpoints", **demo_inputs, previous_waves=["demo-2023"], region="明湖区",
                        region_var="district", output_dir=str(tmp_path / "out"), work_dir=str(tmp_path / "w"))
    ctx = report.setup(P, notebook="painpoints")
    prev = ctx.previous["demo-2023"].design
    cut = []
    real = SurveyDesign.subset
    monkeypatch.setattr(SurveyDesign, "subset", lambda self, *a, **k: cut.append(self is prev) or real(self, *a, **k))
    B = report.brief_for_report(ctx)
    assert cut.count(True) == 1
    assert B.changes is not None and len(B.policies)
    n_region = int((prev.column("district").astype(str) == "明湖区").sum())
    assert int(B.changes["n_before"].max()) <= n_region < prev.n
