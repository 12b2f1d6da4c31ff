"""Tests for survey.weighting: R reference fixtures, options that must change results,
target validation, trimming, replicates, diagnostics.

The R fixtures in tests/fixtures/r_weighting/ were made by make_reference.R beside them
(R 4.2, survey 4.1.1).
"""
from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import SurveyDesign, weighting
from survey.errors import (ConvergenceError, TargetMismatchError, WeightingError,
                           WeightingWarning)
from survey.weighting import WeightingReport, load_targets

FIX = Path(__file__).parent / "fixtures" / "r_weighting"
N = 300000
SEX = {"男": 0.6 * N, "女": 0.4 * N}
AGE = {"≤29": 0.2 * N, "30-39": 0.35 * N, "40-49": 0.25 * N, "50+": 0.2 * N}
UNIT = {"高等院校": 0.3 * N, "科研机构": 0.2 * N, "企业": 0.5 * N}
SEXAGE = {("男", "≤29"): 0.13 * N, ("女", "≤29"): 0.07 * N, ("男", "30-39"): 0.20 * N,
          ("女", "30-39"): 0.15 * N, ("男", "40-49"): 0.15 * N, ("女", "40-49"): 0.10 * N,
          ("男", "50+"): 0.12 * N, ("女", "50+"): 0.08 * N}
CAL = {"sex": SEX, "age_group": AGE, "hours": 46.5 * N}
TIGHT = {"epsilon": 1e-12, "maxit": 200}
# unbounded GREG gives some negative weights on this data (as in R); tested explicitly below
pytestmark = pytest.mark.filterwarnings("ignore:.*negative weight")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    d = pd.read_csv(FIX / "data.csv")
    for c, levels in (("sex", list(SEX)), ("age_group", list(AGE)), ("unit_type", list(UNIT))):
        d[c] = pd.Categorical(d[c], categories=levels)
    return d


@pytest.fixture(scope="module")
def des(data) -> SurveyDesign:
    return SurveyDesign(data, weights="w0", strata="stratum", psu="station")


@pytest.fixture(scope="module")
def rweights() -> pd.DataFrame:
    return pd.read_csv(FIX / "weights.csv")


@pytest.fixture(scope="module")
def rest() -> pd.DataFrame:
    return pd.read_csv(FIX / "estimates.csv")


CASES = {
    "rake3": lambda d: d.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT},
                              epsilon=1e-13, maxit=500),
    "rake_cross": lambda d: d.rake({("sex", "age_group"): SEXAGE, "unit_type": UNIT},
                                   epsilon=1e-13, maxit=500),
    "ps_unit": lambda d: d.poststratify("unit_type", UNIT),
    "ps_cross": lambda d: d.poststratify(["sex", "age_group"], SEXAGE),
    "cal_linear": lambda d: d.calibrate(CAL),
    "cal_linear_b": lambda d: d.calibrate(CAL, calfun="linear", bounds=(0.4, 2.5), **TIGHT),
    "cal_raking": lambda d: d.calibrate(CAL, calfun="raking", **TIGHT),
    "cal_raking_b": lambda d: d.calibrate(CAL, calfun="raking", bounds=(0.4, 2.5), **TIGHT),
    "cal_logit": lambda d: d.calibrate(CAL, calfun="logit", bounds=(0.3, 3), **TIGHT),
    "cal_cat_raking": lambda d: d.calibrate({"sex": SEX, "age_group": AGE, "unit_type": UNIT},
                                            calfun="raking", **TIGHT),
}


def _stats(d: SurveyDesign) -> dict:
    m = d.mean(["y", "z"])
    t = d.total(["y", "hours"])
    return {"mean_y": m.iloc[0], "mean_z": m.iloc[1], "total_y": t.iloc[0],
            "total_hours": t.iloc[1]}


def _check_estimates(d, rest, case):
    ref = rest[rest["case"] == case].set_index("stat")
    for stat, row in _stats(d).items():
        r = ref.loc[stat]
        np.testing.assert_allclose(row["estimate"], r["estimate"], rtol=1e-6, err_msg=stat)
        if r["se"] < 1e-6 * abs(r["estimate"]):      # a calibrated total: SE is rounding noise
            assert row["se"] < 1e-6 * abs(r["estimate"]), stat
        else:
            np.testing.assert_allclose(row["se"], r["se"], rtol=1e-6, err_msg=f"{case} {stat}")


@pytest.mark.parametrize("case", list(CASES))
def test_weights_and_ses_match_r(des, rweights, rest, case):
    d2 = CASES[case](des)
    np.testing.assert_allclose(d2.weights, rweights[case].to_numpy(), rtol=1e-8)
    _check_estimates(d2, rest, case)
    assert isinstance(d2.weighting_report, WeightingReport)
    assert d2.weighting_report.max_rel_error < 1e-6


@pytest.mark.parametrize("case,strict", [("trim", False), ("trim_strict", True)])
def test_trim_matches_r_trimweights(des, rweights, rest, case, strict):
    med = np.median(des.weights)
    d2 = des.trim(upper=1.6 * med, lower=0.6 * med, redistribute="equal", strict=strict)
    np.testing.assert_allclose(d2.weights, rweights[case].to_numpy(), rtol=1e-8)
    _check_estimates(d2, rest, case)
    d3 = des.trim(upper_ratio=1.6, lower_ratio=0.6, redistribute="equal", strict=strict)
    np.testing.assert_allclose(d3.weights, d2.weights, rtol=1e-12)


def test_unweighted_design_matches_r(des, rest):
    _check_estimates(des, rest, "none")


# ---------------------------------------------------------------------------------------------
# replicate designs: every replicate column re-weighted (R's svrepdesign methods)
# ---------------------------------------------------------------------------------------------
REP_CASES = {
    "rep_rake3": lambda d: d.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT},
                                  epsilon=1e-13, maxit=500),
    "rep_ps_unit": lambda d: d.poststratify("unit_type", UNIT),
    "rep_cal_linear": lambda d: d.calibrate(CAL),
    "rep_cal_raking": lambda d: d.calibrate(CAL, calfun="raking", **TIGHT),
    "rep_cal_logit": lambda d: d.calibrate(CAL, calfun="logit", bounds=(0.3, 3), **TIGHT),
}


@pytest.fixture(scope="module")
def rdes(des) -> SurveyDesign:
    r = des.replicate("jkn")
    before = pd.read_csv(FIX / "rep_before.csv").to_numpy()
    np.testing.assert_allclose(r.repweights, before, rtol=1e-10)
    return r


@pytest.mark.parametrize("case", list(REP_CASES))
def test_replicate_reweighting_matches_r(rdes, rest, case):
    d2 = REP_CASES[case](rdes)
    ref = pd.read_csv(FIX / f"{case}.csv").to_numpy()
    # rtol 1e-8; atol (1e-12 of the population) only matters for GREG weights near zero
    np.testing.assert_allclose(d2.repweights, ref, rtol=1e-8, atol=1e-12 * N)
    _check_estimates(d2, rest, case)


def test_replicate_weighting_replays_chain(des):
    d = des.rake({"sex": SEX, "age_group": AGE}).trim(upper_ratio=3.0)
    r = weighting.replicate_weighting(d, "jkn")
    np.testing.assert_allclose(r.weights, d.weights, rtol=1e-9)
    # every replicate column meets the margins too
    sexcol = des.data["sex"].to_numpy()
    for j in (0, 5, r.repweights.shape[1] - 1):
        np.testing.assert_allclose(r.repweights[sexcol == "男", j].sum(), SEX["男"], rtol=1e-6)
        assert r.repweights[:, j].max() <= 3.0 * np.median(d.meta["weighting_base"]) * 10
    # raked-replicate SE of a raked total is far below the unweighted-replicate SE
    se_rep = r.total("y")["se"].iloc[0]
    se_plain = des.rake({"sex": SEX, "age_group": AGE}).replicate("jkn").total("y")["se"].iloc[0]
    assert se_rep < 0.5 * se_plain


def test_bootstrap_reraked_is_fast(des):
    import time
    big = pd.concat([des.data] * 33, ignore_index=True)
    big["station"] = big["station"] + "_" + (np.arange(len(big)) // len(des.data) % 3).astype(str)
    d = SurveyDesign(big, weights="w0", strata="stratum", psu="station")
    assert d.n > 15000
    t = time.perf_counter()
    r = d.replicate("bootstrap", 200, seed=1).rake({"sex": SEX, "age_group": AGE,
                                                    "unit_type": UNIT})
    assert time.perf_counter() - t < 5.0
    tot = r.repweights.sum(axis=0)
    np.testing.assert_allclose(tot, N, rtol=1e-8)


def test_export_replicate_weights(des, tmp_path):
    r = weighting.replicate_weighting(des.rake({"sex": SEX}), "jkn")
    p = weighting.export_replicate_weights(r, tmp_path / "w.csv")
    back = pd.read_csv(p)
    assert back.shape == (des.n, 2 + r.repweights.shape[1])
    np.testing.assert_allclose(back.filter(like="repw").to_numpy(), r.repweights, rtol=1e-15)
    readme = Path(str(p) + ".README.md").read_text(encoding="utf-8")
    assert "svrepdesign" in readme and "svyset" in readme
    # R-side recomputation with the exported scale/rscales reproduces our SE
    rep = r._rep
    th = back.filter(like="repw").to_numpy().T @ des.data["y"].to_numpy()
    se = np.sqrt(rep.scale * np.sum(rep.rscales * (th - th.mean()) ** 2))
    np.testing.assert_allclose(se, r.total("y")["se"].iloc[0], rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# options must change the result (the anchors shipped ignored bounds= and no-op trimming)
# ---------------------------------------------------------------------------------------------
def test_each_option_changes_result(des):
    base = des.calibrate(CAL, calfun="raking").weights
    assert not np.allclose(des.calibrate(CAL, calfun="linear").weights, base)
    b = des.calibrate(CAL, calfun="raking", bounds=(0.4, 2.5), **TIGHT)
    assert not np.allclose(b.weights, base)
    g = b.weights / des.weights
    assert g.min() >= 0.4 - 1e-9 and g.max() <= 2.5 + 1e-9
    assert (des.weights.__array__() is not None)
    lo = des.calibrate(CAL, calfun="logit", bounds=(0.3, 3), **TIGHT).weights
    lo2 = des.calibrate(CAL, calfun="logit", bounds=(0.2, 4), **TIGHT).weights
    assert not np.allclose(lo, lo2)
    # epsilon / maxit: a loose epsilon stops earlier, a small maxit fails loudly
    e1 = des.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT}, epsilon=1e-2)
    e2 = des.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT}, epsilon=1e-12)
    assert e1.weighting_report.iterations < e2.weighting_report.iterations
    assert not np.allclose(e1.weights, e2.weights, rtol=1e-10)
    with pytest.raises(ConvergenceError, match="maxit=1"):
        des.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT}, maxit=1)
    with pytest.raises(ConvergenceError):
        des.calibrate(CAL, calfun="raking", bounds=(0.4, 2.5), maxit=2)
    forced = des.calibrate(CAL, calfun="raking", bounds=(0.4, 2.5), maxit=2, force=True)
    assert not forced.weighting_report.converged
    # trimming caps change the weights and hold afterwards
    med = np.median(des.weights)
    t1 = des.trim(upper=2 * med)
    t2 = des.trim(upper=3 * med)
    assert t1.weights.max() <= 2 * med * (1 + 1e-12) < des.weights.max()
    assert not np.allclose(t1.weights, t2.weights)
    np.testing.assert_allclose(t1.weights.sum(), des.weights.sum())
    assert t1.weighting_report.trimmed_mass > 0 and t1.weighting_report.n_trimmed > 0
    q = des.trim(upper_quantile=0.9)
    assert q.weights.max() <= np.quantile(des.weights, 0.9) * (1 + 1e-9)


def test_negative_greg_weights_warned(des):
    with pytest.warns(WeightingWarning, match="negative weight"):
        d = des.calibrate(CAL)
    assert (d.weights < 0).any() and any("negative" in n for n in d.weighting_report.notes)
    assert (des.calibrate(CAL, bounds=(0, 10), **TIGHT).weights >= 0).all()


def test_unknown_arguments_refused(des):
    with pytest.raises(TypeError):
        des.rake({"sex": SEX}, bound=(0.5, 2))
    with pytest.raises(TypeError):
        des.calibrate(CAL, calfn="raking")
    with pytest.raises(WeightingError, match="calfun"):
        des.calibrate(CAL, calfun="logistic")
    with pytest.raises(WeightingError, match="finite bounds"):
        des.calibrate(CAL, calfun="logit")
    with pytest.raises(WeightingError, match="lower <= 1 <= upper"):
        des.calibrate(CAL, bounds=(1.2, 2))
    with pytest.raises(WeightingError, match="at least one cap"):
        des.trim()


def test_trim_then_recalibrate_holds_caps_and_margins(des):
    r = des.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT})
    cap = 3.0 * np.median(r.weights)   # 2.5x is infeasible with these margins
    assert r.weights.max() > cap
    t = r.trim(upper=cap)
    assert t.weights.max() <= cap * (1 + 1e-6)
    sexcol = des.data["sex"].to_numpy()
    np.testing.assert_allclose(t.weights[sexcol == "男"].sum(), SEX["男"], rtol=1e-8)
    assert t.weighting_report.converged and t.weighting_report.iterations >= 2
    assert [s[0] for s in t.meta["weighting_steps"]] == ["rake", "trim"]
    with pytest.raises(ConvergenceError, match="cannot both be met"):
        r.trim(upper=1.01 * np.median(r.weights), maxit=5)
    # without re-calibration the margins are broken (reported, not hidden)
    t0 = r.trim(upper=cap, recalibrate=False)
    assert abs(t0.weights[sexcol == "男"].sum() / SEX["男"] - 1) > 1e-4


def test_calibrated_variance_differs_from_plain_reweighting(des):
    c = des.calibrate(CAL, calfun="raking")
    plain = SurveyDesign(des.data.assign(wc=c.weights), weights="wc", strata="stratum",
                         psu="station")
    assert c.total("y")["se"].iloc[0] < 0.5 * plain.total("y")["se"].iloc[0]


# ---------------------------------------------------------------------------------------------
# targets: mismatches, discrepancies, the file format
# ---------------------------------------------------------------------------------------------
def test_mismatched_levels_are_errors_naming_levels(des):
    with pytest.raises(TargetMismatchError, match=r"age_group.*\['50\+'\].*collapse.*drop"):
        des.rake({"age_group": {"≤29": 1, "30-39": 1, "40-49": 1}})
    with pytest.raises(TargetMismatchError, match=r"60\+.*no respondents"):
        des.rake({"age_group": {**AGE, "60+": 100}})
    with pytest.raises(TargetMismatchError, match="not a column"):
        des.rake({"sexx": SEX})


def test_collapse_rules(des):
    t = weighting.Targets({"age_group": {"≤29": 60000, "30-39": 105000, "40-49": 75000,
                                         "50-59": 40000, "60+": 20000}},
                          collapse={"age_group": {"50+": ["50-59", "60+"]}})
    with pytest.raises(TargetMismatchError):
        des.rake(t)
    d2 = des.rake(t, collapse=True)
    ages = des.data["age_group"].to_numpy()
    np.testing.assert_allclose(d2.weights[ages == "50+"].sum(), 60000)
    d3 = des.poststratify("age_group", {"≤29": 1, "30-39": 2, "40+": 3},
                          collapse={"age_group": {"40+": ["40-49", "50+"]}})
    np.testing.assert_allclose(d3.weights[np.isin(ages, ["40-49", "50+"])].sum(), 3)


def test_discrepant_totals_rescaled_and_reported(des):
    with pytest.warns(WeightingWarning, match="disagree"):
        d2 = des.rake({"sex": SEX, "unit_type": {k: v * 1.1 for k, v in UNIT.items()}})
    disc = d2.weighting_report.discrepancy()
    np.testing.assert_allclose(disc["rel_diff"].to_numpy(), [0.0, 0.1])
    np.testing.assert_allclose(d2.weights.sum(), N)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d3 = des.rake({"sex": SEX, "unit_type": UNIT}, control_total=N)
    np.testing.assert_allclose(d3.weights.sum(), N)
    with pytest.warns(WeightingWarning):
        d4 = des.rake({"sex": SEX, "unit_type": UNIT}, control_total=2 * N)
    np.testing.assert_allclose(d4.weights.sum(), 2 * N)


def test_inconsistent_one_and_two_way_margins(des):
    with pytest.raises(WeightingError, match="Drop one"):
        des.rake({"sex": {"男": 0.5 * N, "女": 0.5 * N}, ("sex", "age_group"): SEXAGE})
    d = des.rake({"sex": SEX, ("sex", "age_group"): SEXAGE, "unit_type": UNIT})
    assert d.weighting_report.max_rel_error < 1e-9


POP_YML = """\
population:
  definition: 在本市工作的科技工作者
  reference_date: 2023-12-31
control_total:
  value: 300000
  source: {publication: 某市统计年鉴, year: 2024, table: 表4-2}
margins:
  - variable: sex
    totals: {男: 180000, 女: 120000}
    source: {publication: 中国科技人力资源发展研究报告, year: 2020, table: 表2-3}
  - variables: [sex, age_group]
    totals:
      男: {"≤29": 39000, "30-39": 60000, "40-49": 45000, "50+": 36000}
      女: {"≤29": 21000, "30-39": 45000, "40-49": 30000, "50+": 24000}
    source: {publication: 第七次全国人口普查, year: 2020, table: 长表4-3}
  - variables: [unit_type]
    totals: [[高等院校, 99000], [科研机构, 66000], [企业, 165000]]
    source: {publication: R&D 资源清查, year: 2019, table: 表1}
  - variable: hours
    total: 13950000
    source: {publication: 上期调查, year: 2022, table: 工作时间}
collapse:
  age_group: {"40+": ["40-49", "50+"]}
"""


def test_load_targets_roundtrip(des, tmp_path):
    p = tmp_path / "population.yml"
    p.write_text(POP_YML, encoding="utf-8")
    t = load_targets(tmp_path)
    assert t["sex"] == {"男": 180000, "女": 120000}
    assert t[("sex", "age_group")]["女"]["50+"] == 24000
    assert t.sources["unit_type"]["year"] == 2019
    assert t.control_total == 300000 and t.population["definition"].startswith("在本市")
    with pytest.warns(WeightingWarning, match="unit_type"):
        d = des.calibrate(t, calfun="raking")
    assert d.weighting_report.sources[("sex", "age_group")]["table"] == "长表4-3"
    cats = t.drop("hours")
    with pytest.warns(WeightingWarning):
        r = des.rake(cats)
    np.testing.assert_allclose(r.weights.sum(), 300000)


@pytest.mark.parametrize("bad,msg", [
    ("margins:\n  - variable: sex\n    totals: {男: 1}\n", "source"),
    ("margins:\n  - variable: sex\n    totls: {男: 1}\n    source: {publication: a, year: 1}\n",
     "unknown key"),
    ("margin: []\n", "unknown key"),
    ("margins:\n  - variable: sex\n    totals: {男: -1}\n    source: {publication: a, year: 1}\n",
     "non-negative"),
])
def test_load_targets_refuses_bad_files(tmp_path, bad, msg):
    p = tmp_path / "population.yml"
    p.write_text(bad, encoding="utf-8")
    with pytest.raises(WeightingError, match=msg):
        load_targets(p)


def test_load_targets_checks_questionnaire_labels(tmp_path):
    class Q:
        def labels(self, qid):
            if qid == "sex":
                return {1: "男", 2: "女"}
            raise KeyError(qid)

    p = tmp_path / "population.yml"
    p.write_text("margins:\n  - variable: sex\n    totals: {男: 1, 女性: 2}\n"
                 "    source: {publication: a, year: 1}\n", encoding="utf-8")
    with pytest.raises(TargetMismatchError, match="女性"):
        load_targets(p, questionnaire=Q())


# ---------------------------------------------------------------------------------------------
# report, base weights, nonresponse
# ---------------------------------------------------------------------------------------------
def test_weighting_report_frames(des):
    d = des.rake({"sex": SEX, "age_group": AGE, "unit_type": UNIT})
    r = d.weighting_report
    m = r.margins()
    assert {"margin", "level", "target", "achieved", "rel_error", "n"} <= set(m.columns)
    assert len(m) == 2 + 4 + 3
    assert r.trace()["max_rel_error"].iloc[-1] < 1e-10
    ws = r.weights_summary()
    assert ws.loc["after", "max_min_ratio"] >= 1 and ws.loc["after", "kish_deff"] >= 1
    k = r.kish("sex")
    assert len(k) == 2 and (k["effective_n"] <= k["n"] + 1e-9).all()
    c = r.composition()
    np.testing.assert_allclose(c["weighted_after_pct"], c["population_pct"], rtol=1e-8)
    a = r.asmd()
    assert (a["asmd_after"] < 1e-6).all() and (a["asmd_before"] > 0.01).any()
    assert "Kish deff" in repr(r) and "<table" in r._repr_html_()
    t = d.trim(upper_ratio=3.0)
    assert list(t.weighting_report.steps_frame()["method"]) == ["rake", "trim"]


def test_base_weights_and_nonresponse(data):
    st = data["station"].unique()
    size = {s: 100 + 10 * i for i, s in enumerate(st)}
    prob = {s: 0.5 for s in st}
    w = weighting.base_weights(data, "station", station_size=size, station_prob=prob)
    n_s = data.groupby("station").size()
    for s in st[:3]:
        np.testing.assert_allclose(w[(data["station"] == s).to_numpy()], size[s] / n_s[s] / 0.5)
    d = SurveyDesign(data.assign(bw=w), weights="bw", strata="stratum", psu="station")
    resp = (np.arange(len(data)) % 4 != 0)
    nr = d.nonresponse_adjust(resp, "unit_type")
    assert (nr.weights[~resp] == 0).all()
    for u in UNIT:
        m = (data["unit_type"] == u).to_numpy()
        np.testing.assert_allclose(nr.weights[m].sum(), d.weights[m].sum())
    with pytest.raises(WeightingError, match="no respondents"):
        d.nonresponse_adjust(data["unit_type"].to_numpy() != "企业", "unit_type")


def test_subset_designs_refused(des):
    with pytest.raises(WeightingError, match="subset"):
        des.subset(des.data["sex"] == "男").rake({"age_group": AGE})


# ---------------------------------------------------------------------------------------------
# the demo wave: its population.yml loads, the sample rakes to it, discrepancies are reported
# ---------------------------------------------------------------------------------------------
def test_demo_wave_rakes_to_population_file():
    from survey import Questionnaire
    from survey.demo.wave import build_wave

    root = Path(__file__).parents[1] / "questionnaires" / "demo-2024"
    q = Questionnaire.load(root / "questionnaire.yml")
    t = load_targets(root, questionnaire=q)
    w = build_wave("2024")
    df = w.clean.merge(w.stations[["station", "base_weight"]], on="station", how="left")
    d = SurveyDesign(df, weights="base_weight", strata="stratum", psu="station",
                     lonely_psu="adjust")
    with pytest.warns(WeightingWarning):
        r = d.rake(t)
    rep = r.weighting_report
    assert rep.converged and rep.max_rel_error < 1e-9
    np.testing.assert_allclose(r.weights.sum(), t.control_total)
    assert (rep.discrepancy()["rel_diff"].abs() > 0.001).any()
    assert (rep.asmd()["asmd_after"] < 1e-6).all()


def test_demo_base_weights_from_register_then_rake_recover_story_indicators():
    """base_weights() from the station register equals the register's base_weight, and raking
    the demo wave to population.yml gives hours/burnout estimates near the truth (the demo's
    story; tests/test_demo.py holds the full table and the repeated-sampling checks)."""
    from survey import Questionnaire
    from survey.demo import frame_indicators, truth
    from survey.demo.wave import build_wave

    root = Path(__file__).parents[1] / "questionnaires" / "demo-2024"
    q = Questionnaire.load(root / "questionnaire.yml")
    w = build_wave("2024")
    reg = w.stations.set_index("station")
    v = frame_indicators(w.clean, w.questionnaire, "2024")
    df = w.clean.assign(y_hours=v["hours"].to_numpy(), y_burn=v["burnout_score"].to_numpy())
    d = SurveyDesign(df, strata="stratum", psu="station", lonely_psu="adjust").base_weights(
        station_size=reg["station_size"].to_dict(), station_prob=reg["pi_station"].to_dict())
    np.testing.assert_allclose(d.weights, reg.loc[df["station"], "base_weight"].to_numpy(),
                               rtol=1e-12)
    with pytest.warns(WeightingWarning):
        r = d.rake(load_targets(root, questionnaire=q))
    T = truth("2024").query("group == 'overall'").set_index("indicator")["value"]
    e = r.mean(["y_hours", "y_burn"])
    # one draw (survey.demo.sample.SAMPLE_DRAW): only a gross error is asserted here (|z| < 4);
    # coverage is tested in repeated sampling (tests/test_demo.py::test_story_in_repeated_*)
    for i, k in enumerate(["hours", "burnout_score"]):
        z = (e["estimate"].iloc[i] - T[k]) / e["se"].iloc[i]
        assert abs(z) < 4, (k, e.iloc[i], T[k])


# ------------------------------------------------------------------ fast cell coding (issue #17)
def _cell_tables(df, margins, rules=None, monkeypatch=None):
    from survey.weighting import core
    from survey.weighting.targets import parse_margins
    ms = parse_margins(margins)
    fast = core.CellTable(df, ms, rules)
    monkeypatch.setattr(core, "_fast_cells", lambda *a: None)
    slow = core.CellTable(df, ms, rules)
    monkeypatch.undo()
    return fast, slow


@pytest.mark.parametrize("seed", range(6))
def test_categorical_cell_coding_equals_general_path(monkeypatch, seed):
    """Cells numbered from raw category codes (categories in any order, unused categories,
    collapsed levels, a two-way margin) equal the per-variable level coding."""
    rng = np.random.default_rng(seed)
    n = 500
    a = rng.choice(list("xyzw"), n)
    b = rng.choice(["p", "q", "r"], n)
    df = pd.DataFrame({"a": pd.Categorical(a, categories=list("wzyxv")),
                       "b": pd.Categorical(b, categories=["r", "q", "p"])})
    margins = {"a": {"x": 1.0, "M": 2.0, "w": 1.0}, "b": {"p": 1.0, "q": 1.0, "r": 2.0},
               ("a", "b"): {(u, v): 1.0 for u in ("x", "M", "w") for v in ("p", "q", "r")}}
    fast, slow = _cell_tables(df, margins, {"a": {"M": ["y", "z"]}}, monkeypatch)
    for attr in ("cell", "full_id", "counts"):
        np.testing.assert_array_equal(getattr(fast, attr), getattr(slow, attr))
    for k in range(3):
        np.testing.assert_array_equal(fast.margin_index[k], slow.margin_index[k])


@pytest.mark.parametrize("problem", ["missing", "no target"])
def test_categorical_cell_coding_keeps_the_precise_errors(monkeypatch, problem):
    df = pd.DataFrame({"a": pd.Categorical(["x", "y", "x", "y"]),
                       "b": pd.Categorical(["p", "p", "q", "q"])})
    margins = {"a": {"x": 1.0, "y": 1.0}, "b": {"p": 1.0, "q": 1.0}}
    if problem == "missing":
        df.loc[2, "b"] = np.nan
        match = "'b' has 1 missing value"
    else:
        margins["a"] = {"x": 1.0, "z": 1.0}
        match = r"sample level\(s\) \['y'\] have no population"
    with pytest.raises(TargetMismatchError, match=match):
        _cell_tables(df, margins, None, monkeypatch)


def test_rake_expands_margin_indices_only_for_the_variance():
    df = pd.DataFrame({"sex": pd.Categorical(list("mmffmf")), "age": pd.Categorical(list("yoyoyo")),
                       "y": [1.0, 2, 3, 4, 5, 6]})
    d2 = SurveyDesign(df).rake({"sex": {"m": 60, "f": 40}, "age": {"y": 50, "o": 50}})
    ix = d2.calibrations[-1].indices
    assert ix._rows == {}  # nothing per respondent formed by raking itself
    d2.mean("y")
    assert sorted(ix._rows) == [0, 1]
    np.testing.assert_array_equal(ix[0], np.asarray(df["sex"].cat.codes.map({1: 0, 0: 1})))
