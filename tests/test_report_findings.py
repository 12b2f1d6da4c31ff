"""主要发现 (survey.report.findings): only what survives the page's multiplicity rule is stated,
always with its interval; nothing suppressed, no ids or English; each sentence links to its table."""
from __future__ import annotations

import re
import types

import numpy as np
import pandas as pd
import pytest

from survey import SurveyDesign
from survey.report.findings import (collect_findings, findings_html, index_findings, painpoint_findings,
                                    save_findings, trend_findings)
from survey.trends import stack_waves, trend_table

_NUM = re.compile(r"\d\.\d|\d%|\d 个百分点")


def check_wording(texts: list[str]) -> None:
    """The guardrails every generated sentence obeys."""
    for t in texts:
        assert "显著" not in t, t  # never: 显著 reads as 'large'; survivors say 有统计学意义
        if _NUM.search(t):
            assert "置信区间" in t, f"a number without its interval: {t}"
        assert not re.search(r"[A-Za-z_]{3,}", t), f"id or English in: {t}"
        assert "nan" not in t.lower() and "None" not in t


# ------------------------------------------------------------------------------ trends: planted null
def _two_waves(shifts: dict[str, float], n_psu: int = 30, m: int = 12) -> dict[str, SurveyDesign]:
    """Two independent waves with the same structure; wave b = wave a's values + a shift per
    indicator (a constant shift leaves the SE of the change unchanged)."""
    rng = np.random.default_rng(20261130)
    n = n_psu * m

    def frame(extra: dict[str, float]) -> pd.DataFrame:
        base = {k: rng.normal(50, 10, n) + np.repeat(rng.normal(0, 2, n_psu), m) for k in shifts}
        df = pd.DataFrame({k: v + extra.get(k, 0.0) for k, v in base.items()})
        df["psu"] = np.repeat(np.arange(n_psu), m)
        df["st"] = np.repeat(np.arange(n_psu) % 3, m)
        return df

    return {"2023": SurveyDesign(frame({}), strata="st", psu="psu"),
            "2024": SurveyDesign(frame(shifts), strata="st", psu="psu")}


def _planted_table() -> pd.DataFrame:
    """12 indicators: 'real' moves by 8 SE, 'null' is placed 2.4 SE off the other wave's value
    (raw p ≈ 0.02, Holm over 12 → not significant); the rest are independent samples of the
    same population."""
    names = ["real", "null"] + [f"x{k}" for k in range(10)]
    zero = trend_table(stack_waves(_two_waves({k: 0.0 for k in names}), indicators=names))
    # put 'null' exactly 2.4 SE (and 'real' 8 SE) away from wave a: a construction, not a draw
    se = zero.set_index("indicator")["se"]
    ch0 = zero.set_index("indicator")["change"]
    shifts = {k: 0.0 for k in names}
    shifts["null"] = 2.4 * se["null"] - ch0["null"]
    shifts["real"] = 8.0 * se["real"] - ch0["real"]
    return trend_table(stack_waves(_two_waves(shifts), indicators=names))


def test_trend_findings_never_state_a_planted_null_and_state_the_real_change_with_its_ci():
    tab = _planted_table()
    r = tab.set_index("indicator")
    assert r.loc["null", "p"] < 0.05 and not r.loc["null", "significant"]  # the trap is armed
    assert r.loc["real", "significant"]
    f = trend_findings(tab, top=5)
    changes = f[f["kind"] == "change"]
    said = " ".join(changes["text"])
    assert "null" not in said  # (labels are the ids here: the naive raw-p rule would state it)
    assert len(changes) == int(tab["significant"].sum())
    real = changes[changes["text"].str.contains("real")].iloc[0]
    assert np.isclose(real["ci_low"], r.loc["real", "ci_low"]) and np.isclose(real["ci_high"], r.loc["real", "ci_high"])
    assert f"{r.loc['real', 'ci_low']:.2f}"[:4] in real["text"] and "置信区间" in real["text"]
    # the planted null is only ever named as 未检测到变化
    rest = f[f["kind"] == "no_change"]["text"].iloc[0]
    assert "null" in rest and "未检测到变化" in rest


def test_trend_findings_call_a_surviving_change_below_the_mde_small():
    t = pd.DataFrame({"indicator": ["a"], "label": ["高倦怠比例"], "kind": ["proportion"],
                      "change": [-0.012], "se": [0.005], "ci_low": [-0.0218], "ci_high": [-0.0022],
                      "p": [0.004], "p_adj": [0.04], "significant": [True], "footnote": [""]})
    t.attrs["compared"] = ["2023", "2024"]
    s = trend_findings(t)["text"].iloc[0]
    assert "小幅下降 1.2 个百分点" in s and "有待下一轮数据确认" in s  # |−1.2| < (1.96 + 0.84) × 0.5
    big = t.assign(change=-0.05, ci_low=-0.0598, ci_high=-0.0402)
    s2 = trend_findings(big)["text"].iloc[0]
    assert "小幅" not in s2 and "下降 5.0 个百分点" in s2
    check_wording([s, s2])


def test_trend_findings_units_of_hours_and_scale_scores():
    t = pd.DataFrame({"indicator": ["h", "s"], "label": ["周工作时间（小时）", "总体工作满意度（1–5）"],
                      "kind": ["mean", "mean"], "change": [-1.81, 0.196], "se": [0.1, 0.012],
                      "ci_low": [-2.02, 0.172], "ci_high": [-1.60, 0.219], "p": [1e-9, 1e-9],
                      "p_adj": [1e-9, 1e-9], "significant": [True, True], "footnote": ["", ""]})
    t.attrs["compared"] = ["2023", "2024"]
    s = " ".join(trend_findings(t)["text"])
    assert "周工作时间下降 1.81 小时" in s and "总体工作满意度（1–5 分）上升 0.196 分" in s
    check_wording(list(trend_findings(t)["text"]))


def test_findings_sheet_holds_numbers(tmp_path):
    import openpyxl

    from survey.report.findings import write_findings_table
    from survey.report.workbook import write_workbook

    f = painpoint_findings(_brief())
    write_findings_table(tmp_path / "t", f)
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "t", tmp_path / "x.xlsx", notebooks=["findings"]))
    ws = wb["主要发现"]
    head = [c.value for c in ws[3]]
    assert head[:4] == ["序号", "主要发现", "所在报告", "所依据的表"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4, max_row=3 + len(f))]
    assert [r[1] for r in rows] == list(f["text"])
    est = head.index("估计值")
    assert isinstance(rows[0][est], (int, float)) and abs(rows[0][est] - 52.0) < 1e-9  # PP1: 52.0%
    assert all(r[est] is None or isinstance(r[est], (int, float)) for r in rows)
    assert not any(isinstance(v, str) for r in rows for v in r[est:])  # numbers stored as numbers


def test_trend_findings_of_no_earlier_wave_is_empty():
    from survey.report import NoTrends

    assert trend_findings(NoTrends("本轮调查之前没有可比较的往期调查。")).empty


# ------------------------------------------------------------------------------ painpoints
def _brief(**kw):
    s = pd.DataFrame({"rank": [1, 2, 3, 4], "item": ["收入待遇偏低", "住房困难", "子女教育", "养老/照护负担"],
                      "pct_top": [0.52, 0.33, 0.28, 0.02], "pct_top_low": [0.51, 0.32, 0.27, 0.01],
                      "pct_top_high": [0.53, 0.34, 0.29, 0.03], "suppressed": [False, False, False, True]})
    d = pd.DataFrame({"variable": ["age", "age", "unit", "sex"], "level": ["29岁及以下", "46-55岁", "科研机构", "女"],
                      "item": ["住房困难", "养老/照护负担", "住房困难", "子女教育"],
                      "est_group": [0.59, 0.27, 0.40, 0.31], "est_rest": [0.26, 0.09, 0.30, 0.27],
                      "diff": [0.33, 0.18, 0.10, 0.04], "ci_low": [0.31, 0.15, 0.05, 0.005],
                      "ci_high": [0.35, 0.21, 0.15, 0.075],
                      "p": [1e-9, 1e-8, 1e-4, 0.02], "p_adj": [4e-7, 4e-6, 0.04, 1.0],
                      "significant": [True, True, True, False],
                      "suppressed": [False, True, False, False]})  # 46-55: significant but suppressed
    c = pd.DataFrame({"item": ["收入待遇偏低", "住房困难", "报销手续繁琐", "子女教育"],
                      "change": [0.008, 0.013, -0.019, 0.2], "ci_low": [-0.006, 0.001, -0.028, 0.1],
                      "ci_high": [0.022, 0.025, -0.010, 0.3], "p": [0.28, 0.03, 1e-4, 1e-6],
                      "p_adj": [1.0, 0.35, 0.001, 1e-5], "mde": [0.02, 0.017, 0.013, 0.02],
                      "significant": [False, False, True, True],
                      "suppressed": [False, False, False, True]})  # a suppressed rise never shows
    base = dict(summary=s, differences=d, changes=c, policies=None, previous_wave="2023", level=0.95,
                names={"age": "年龄", "unit": "单位的类型", "sex": "性别"})
    base.update(kw)
    return types.SimpleNamespace(**base)


def test_painpoint_findings_state_only_survivors_never_suppressed_cells():
    f = painpoint_findings(_brief(), max_groups=3)
    txt = " ".join(f["text"])
    assert "“29岁及以下”" in txt and "33.0 个百分点（95%置信区间 31.0 至 35.0" in txt
    assert "“科研机构”" in txt
    assert "46-55岁" not in txt and "养老" not in txt  # suppressed difference / suppressed item
    assert "“女”" not in txt  # raw p = 0.02, not significant after Holm: the planted null
    ch = f[f["kind"] == "change"]
    assert ch["text"].str.contains("报销手续繁琐").all() and len(ch) == 1  # the suppressed rise is not stated
    flat = f[f["kind"] == "no_change"]["text"].iloc[0]
    assert "住房困难”（变化 +1.3 个百分点，95%置信区间 0.1 至 2.5）" in flat and "未检测到变化" in flat
    assert "子女教育" not in flat  # suppressed changes say nothing, not even 未检测到变化
    assert set(f["table"]) == {"PP1", "PP4", "PP8"}
    check_wording(list(f["text"]))


def test_painpoint_findings_first_wave_lists_more_groups():
    assert (painpoint_findings(_brief())["kind"] == "difference").sum() == 1
    assert (painpoint_findings(_brief(changes=None))["kind"] == "difference").sum() == 2  # 2 survivors


def test_painpoint_findings_policy_verdict_item_by_item_with_waves_ci_and_mde():
    ev = pd.DataFrame({"policy": ["减负", "减负"], "office": ["科技局", "科技局"], "item": ["报销手续繁琐", "非科研事务多"],
                       "verdict": ["improved", "no detectable change"], "verdict_zh": ["改善", "未检测到变化"],
                       "change_target": [-0.093, -0.01], "change_target_low": [-0.114, -0.03],
                       "change_target_high": [-0.071, 0.01], "mde_target": [0.031, 0.028],
                       "before_wave": ["2023", "2023"], "after_wave": ["2025", "2025"]})
    f = painpoint_findings(_brief(policies=ev))
    s = f[f["kind"] == "policy"]["text"].iloc[0]
    assert "“报销手续繁琐”改善（2023→2025年" in s and "“非科研事务多”未检测到变化" in s
    assert "可检出的最小变化约 2.8 个百分点" in s and s.count("置信区间") == 2
    check_wording([s])


def test_painpoint_findings_of_an_empty_brief():
    from survey.report import EmptyBrief

    assert painpoint_findings(EmptyBrief("无数据")).empty


# ------------------------------------------------------------------------------ storage and links
def test_saved_findings_reach_the_index_with_links(tmp_path):
    ctx = types.SimpleNamespace(params={"output_dir": str(tmp_path)}, notebook="painpoints")
    save_findings(ctx, painpoint_findings(_brief()))
    ctx.notebook = "trends"
    save_findings(ctx, trend_findings(_planted_table()))
    f = collect_findings(tmp_path, ["survey_report", "painpoints", "trends"])
    assert list(dict.fromkeys(f["page"])) == ["painpoints", "trends"]
    h = index_findings(tmp_path, ["survey_report", "painpoints", "trends"])
    assert h.count("<li>") == len(f) and 'href="painpoints.html#PP4"' in h and 'href="trends.html#T5.1"' in h
    assert 'href="#PP1"' in findings_html(f, here="painpoints")
    assert index_findings(tmp_path / "none", ["trends"]) == ""


# ------------------------------------------------------------------------------ survey report: T4 differences
QYML = """\
wave: {id: "t", title: 测试调查}
design: {weight: w, groups: [sex, district]}
report: {outcome: sat}
questions:
  - {id: sex, text: 您的性别, type: single, options: {1: 男, 2: 女}}
  - {id: district, text: 所在区, type: single, options: {1: 东城区, 2: 西城区}}
  - {id: sat, text: 您对目前的工作满意吗, type: single, options: {1: 不满意, 2: 一般, 3: 满意}}
  - {id: hours, text: 每周工作小时, type: numeric, unit: 小时, range: [0, 112], missing_codes: {}}
  - {id: sleep, text: 每晚睡眠小时, type: numeric, unit: 小时, range: [0, 24], missing_codes: {}}
  - {id: w, text: 权重, type: numeric, missing_codes: {}}
"""


def _ctx(d, sleep_shift: float = 0.0):
    from survey import report

    d.mkdir(parents=True, exist_ok=True)
    (d / "q.yml").write_text(QYML, encoding="utf-8")
    r = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "sex": np.tile(["男", "女"], n // 2), "district": np.repeat(["东城区", "西城区"], n // 2),
                       "sat": r.choice(["不满意", "一般", "满意"], n, p=[.2, .3, .5])})
    df["hours"] = (47 + 6 * (df["sex"] == "女") + r.normal(0, 8, n)).round(2)  # planted: 女 +6 hours
    df["sleep"] = (7 + r.normal(0, 1, n) + sleep_shift * (df["district"] == "西城区")).round(3)
    df["w"] = 1.0 + (np.arange(n) % 3) / 2
    df.to_csv(d / "data.csv", index=False)
    P = report.validate({"wave": "t", "questionnaire": str(d / "q.yml"), "data": str(d / "data.csv"),
                         "data_stage": "clean", "output_dir": str(d / "out")}, notebook="survey_report")
    return report.setup(P, notebook="survey_report")


def test_survey_findings_state_the_planted_difference_not_the_planted_null(tmp_path):
    from survey.report.content.indicators import mean_differences, subgroup_estimates
    from survey.report.findings import survey_findings

    def sleep_row(ctx):
        D = mean_differences(ctx, [subgroup_estimates(ctx, g) for g in ("sex", "district")])
        return D, D[(D["group"] == "district") & (D["variable"] == "sleep")].iloc[0]

    # place 西城区's sleep 2.3 SE above 东城区's: raw p ≈ 0.02, above the list's Bonferroni bound 0.05/4
    D0, r0 = sleep_row(_ctx(tmp_path / "a"))
    se = (r0["ci_high"] - r0["ci_low"]) / (2 * 1.96)
    signed = r0["diff"] if r0["high"] == "西城区" else -r0["diff"]
    ctx = _ctx(tmp_path / "b", sleep_shift=2.3 * se - signed)
    D, r = sleep_row(ctx)
    assert r["alpha"] < r["p"] < 0.05 and not r["significant"]  # the trap is armed
    f = survey_findings(ctx, indicators=2, differences=5)
    diffs = f[f["kind"] == "difference"]
    assert not diffs["text"].str.contains("睡眠").any()
    real = diffs[diffs["text"].str.contains("每周工作小时")].iloc[0]
    h = D[(D["group"] == "sex") & (D["variable"] == "hours")].iloc[0]
    assert h["high"] == "女" and "“女”最高" in real["text"] and real["table"] == "T4.1"
    assert np.isclose(real["ci_low"], h["ci_low"]) and "置信区间" in real["text"]
    assert f.iloc[0]["table"] == "T3.1" and "满意" in f.iloc[0]["text"]  # the outcome first
    check_wording(list(f["text"]))


def test_the_zhuanbao_states_each_policy_verdict_in_the_findings_own_words():
    """The Word 专报 and the 主要发现 used to word a measure's verdict twice (and differently:
    "95% CI" and "±MDE" there, "95%置信区间" here); both now take ``policy_verdict_phrase``."""
    from survey.report.docx import main_findings
    from survey.report.findings import policy_verdict_phrase

    ev = pd.DataFrame({"policy": ["减负", "减负"], "office": ["科技局", "科技局"], "item": ["报销手续繁琐", "非科研事务多"],
                       "verdict": ["improved", "no detectable change"], "verdict_zh": ["改善", "未检测到变化"],
                       "change_target": [-0.093, -0.01], "change_target_low": [-0.114, -0.03],
                       "change_target_high": [-0.071, 0.01], "mde_target": [0.031, 0.028],
                       "before_wave": ["2023", "2023"], "after_wave": ["2025", "2025"]})
    b = _brief(policies=ev, changes=None, differences=pd.DataFrame(), min_cell=10)
    cl = pd.DataFrame({"leading": [True], "item": ["报销手续繁琐"], "pct": [0.3], "pct_low": [0.28],
                       "pct_high": [0.32], "status": ["已有措施"]})
    word = " ".join(main_findings(b, cl))
    page = painpoint_findings(b)
    page = page[page["kind"] == "policy"]["text"].iloc[0]
    for r in ev.itertuples():
        phrase = policy_verdict_phrase(r, 0.95)
        assert phrase in word and phrase in page
    said = next(t for t in main_findings(b, cl) if t.startswith("措施“减负”"))
    assert " CI " not in said and "±" not in said
