"""The one declarative place that shapes the demo answers.

Every pattern a later issue may want to *find* in the demo data is declared here, with its
magnitude, and nowhere else.  The generator (:mod:`survey.demo.population`) reads these tables
verbatim; tests and later issues read them too (e.g. ``PLANTED`` lists what should be
recoverable).  Change a number here and the truth tables (:func:`survey.demo.truth`) follow.

How an outcome is built
-----------------------
Each outcome has a *linear predictor* on its own scale (hours in hours, latent traits in SD
units, choice items on the logit / Gumbel-utility scale)::

    eta = BASE[outcome] + sum(MAIN[outcome][var][level of person])     # one-way group effects
          + sum(t.shift for t in TERMS if t.outcome == outcome and t applies to the person/wave)
          + sum(coef * (other - its within-wave population mean) for SLOPES)
          + noise                                                      # see NOISE

Slopes act on the *within-wave centred* value of ``on``, so a wave change declared for one
outcome does not leak into others through a slope: every real change is a Term, and an
outcome without a wave Term is a planted null change (up to finite-population noise).

``Term(outcome, shift, when={var: levels}, waves=(...))`` applies to people whose group
variables are in ``levels`` for every ``var`` (AND), in the listed waves (all waves if
``waves`` is None).  Interactions (副高 × 高等院校) and wave changes / policy effects are Terms.

Outcomes and how they become answers
------------------------------------
``hours``            weekly hours (h), rounded to 0.5; truth = mean of the answers
``research_share``   % of time on research, rounded to 5
``log_income``       log(annual income, 万元) -> income bands of the wave
``burnout``          latent (SD units) -> six 1–5 items (r6 reversed); score = item mean
``sat``              latent (SD units) -> sat_overall (1–5) and five 1–5 satisfaction rows
``leave``            logit scale -> leave_intent (1–4); "intends to leave" = 3 or 4
``has_project``      logit scale -> has_project (1 是 / 2 否)
``pain.<label>``     Gumbel utility of each 急难愁盼 option; top-3 utilities are the ranking
                     (a Plackett–Luce model), so a shift of +1 multiplies the odds of choosing
                     the option first by e ≈ 2.7
``aware.<label>``    logit of knowing a policy measure (policy_aware)
``respond``          logit of responding when a station invites you (nonresponse, see below)

Nonresponse: the demo's central story
-------------------------------------
"Weighted estimates of the key indicators recover the population truth within their CIs while
unweighted ones miss it."  For that to hold *and* be honest:

* ``respond`` depends on the weighting variables — age group, unit type, sex and 职称 — chosen
  so that the people who answer are the less burdened ones (mid-career staff, 正高/副高,
  large hospitals and men answer less; under-30s, women, schools and 地县科协 more).  The key
  outcomes depend on the same variables, so the raw sample is biased (fewer hours, less
  burnout, less income, lower satisfaction than the population) on top of the design's own
  imbalance (quota per station, stations allocated ∝ √N_h, which over-represents research
  units: raw research_share is ~+2 points).  Base weights + raking to the margins of
  ``population.yml`` remove this bias because the response model is a function of the margin
  variables only (its asymptotic residual after raking is < 0.1 SE for every indicator).
* ONE residual MNAR component, declared in :data:`MNAR`: people who have already made up their
  mind to leave answer less, beyond what their group, burnout and satisfaction explain
  (``respond`` has a slope on the idiosyncratic part of the leave propensity, ``leave_noise``,
  which is independent of every other outcome).  Raking cannot remove it: weighted
  ``leave_share`` stays 1–2 points (3–5 SE) below the truth.  Analyses that tell the
  weighting story use :data:`survey.demo.truth.STORY_INDICATORS` (the key indicators minus
  :data:`MNAR`); the demo tests assert both halves.

Earlier versions let ``respond`` depend directly on burnout, satisfaction, leave intention and
hours; then raking could not recover hours, burnout or satisfaction (e.g. 2024 hours: truth
47.20, raked 46.71) — see ``tests/test_demo.py::test_story_weighting_recovers_truth``.

Examples
--------
>>> from survey.demo import effects
>>> [p["name"] for p in effects.PLANTED][:2]
['housing_young', 'evaluation_fugao_university']
>>> effects.BASE["hours"]
47.0
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["Term", "Slope", "BASE", "NOISE", "MAIN", "TERMS", "SLOPES", "PLANTED", "AWARE_BASE",
           "PAIN_BASE", "K_DIST", "DIRT", "MNAR"]

RESEARCH = ["科研机构", "高等院校"]
YOUNG = ["29岁及以下", "30-35岁"]


@dataclass(frozen=True)
class Term:
    """An additive shift of ``outcome`` for people matching ``when`` in ``waves``.

    Examples
    --------
    >>> Term("hours", -1.5, waves=("2024",)).shift
    -1.5
    """

    outcome: str
    shift: float
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    waves: tuple[str, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class Slope:
    """``outcome`` += ``coef`` × (``on`` − population mean of ``on``) (``on`` built earlier).

    Examples
    --------
    >>> Slope("sat", "burnout", -0.35).coef
    -0.35
    """

    outcome: str
    on: str
    coef: float
    note: str = ""


# ------------------------------------------------------------------ base levels and noise
BASE: dict[str, float] = {
    "hours": 47.0, "research_share": 38.0, "log_income": 2.55, "burnout": 0.0, "sat": 0.0,
    "leave": -1.55, "has_project": -0.6, "respond": 0.2,
}
# noise: ("normal", sd) added to the predictor; ("person", sd) is a stable personal trait
# (same in both waves) plus ("normal", sd) wave-specific; logit outcomes draw Bernoulli /
# logistic thresholds, pain items draw Gumbel(0, 1).
NOISE: dict[str, tuple[float, float]] = {  # (stable person sd, wave-specific sd)
    "hours": (6.0, 4.0), "research_share": (14.0, 8.0), "log_income": (0.30, 0.10),
    "burnout": (0.80, 0.60), "sat": (0.75, 0.60),
}

# ------------------------------------------------------------------ one-way group effects
MAIN: dict[str, dict[str, dict[str, float]]] = {
    "hours": {
        "unit_type": {"科研机构": 2.0, "高等院校": 2.5, "大中型企业": 1.0, "大型卫生机构": 4.0,
                      "中学": 1.0, "园区": 1.5, "地县科协": -3.0, "全国学会": -2.0},
        "age_group": {"29岁及以下": 0.5, "30-35岁": 1.5, "36-45岁": 1.5, "46-55岁": -1.0,
                      "56岁及以上": -4.0},
        "title": {"正高": 1.5, "副高": 1.0},
        "sex": {"女": -1.5},
    },
    "research_share": {
        "unit_type": {"科研机构": 15, "高等院校": 5, "大中型企业": -10, "大型卫生机构": -15,
                      "中学": -25, "园区": -5, "地县科协": -20, "全国学会": 0},
        "title": {"正高": 5, "无": -5},
    },
    "log_income": {
        "title": {"正高": 0.75, "副高": 0.45, "中级": 0.2, "无": -0.05},
        "education": {"大专": -0.15, "硕士研究生": 0.1, "博士研究生": 0.25},
        "unit_type": {"大中型企业": 0.15, "园区": 0.2, "中学": -0.1, "地县科协": -0.25,
                      "大型卫生机构": 0.1},
        "age_group": {"29岁及以下": -0.2},
    },
    "burnout": {  # planted: highest at 36–45 and at 副高
        "age_group": {"30-35岁": 0.15, "36-45岁": 0.40, "46-55岁": 0.05, "56岁及以上": -0.30},
        "title": {"正高": 0.05, "副高": 0.35, "中级": 0.15, "无": -0.10},
        "unit_type": {"大型卫生机构": 0.20, "中学": 0.10, "地县科协": -0.15},
    },
    "sat": {
        "unit_type": {"科研机构": 0.05, "高等院校": 0.10, "大中型企业": -0.05, "中学": -0.10,
                      "地县科协": -0.15, "全国学会": 0.15},
        "title": {"正高": 0.30, "副高": 0.05, "无": -0.10},
        "age_group": {"29岁及以下": -0.25, "30-35岁": -0.10, "46-55岁": 0.10, "56岁及以上": 0.25},
    },
    "leave": {  # drivers for the intention-to-leave model
        "age_group": {"29岁及以下": 0.5, "30-35岁": 0.4, "46-55岁": -0.6, "56岁及以上": -1.5},
        "unit_type": {"大中型企业": 0.4, "园区": 0.5, "中学": -0.3, "大型卫生机构": -0.1},
        "title": {"正高": -0.3},
    },
    "has_project": {
        "unit_type": {"科研机构": 1.5, "高等院校": 1.2, "大型卫生机构": -0.3, "中学": -1.8,
                      "园区": -0.5, "地县科协": -1.5, "全国学会": 0.3},
        "title": {"正高": 1.5, "副高": 1.0, "中级": 0.3, "无": -1.0},
    },
    "respond": {  # nonresponse by the weighting variables (see "Nonresponse" above)
        "age_group": {"29岁及以下": 0.35, "30-35岁": 0.10, "36-45岁": -0.45, "46-55岁": -0.10,
                      "56岁及以上": -0.20},
        "unit_type": {"科研机构": -0.10, "高等院校": -0.35, "大中型企业": -0.20, "大型卫生机构": -0.80,
                      "中学": 0.30, "园区": -0.30, "地县科协": 0.50, "全国学会": -0.30},
        "title": {"正高": -0.60, "副高": -0.50, "初级": 0.10, "无": 0.20},
        "sex": {"女": 0.50},
    },
}

# ------------------------------------------------------------------ 急难愁盼 (Gumbel utilities)
PAIN_BASE: dict[str, float] = {
    "收入待遇偏低": 1.2, "住房困难": 0.0, "子女教育": 0.1, "科研经费不足/申请难": -0.2,
    "报销手续繁琐": -0.4, "评价体系唯论文/唯帽子": -0.4, "职称晋升难": 0.1, "工作压力大/时间长": 0.5,
    "非科研事务多(填表、会议、检查)": -0.3, "科研时间不足": -0.5, "学术交流机会少": -0.7,
    "成果转化难": -0.9, "身心健康": -0.6, "养老/照护负担": -0.7,
}
# how many options a respondent ranks (1, 2, 3): most rank three
K_DIST = (0.04, 0.08, 0.88)

TERMS: list[Term] = [
    # --- pain-point group patterns (painpoints issue)
    Term("pain.住房困难", 1.6, {"age_group": ("29岁及以下",)}, note="housing: strongly ≤35"),
    Term("pain.住房困难", 1.3, {"age_group": ("30-35岁",)}, note="housing: strongly ≤35"),
    Term("pain.住房困难", -0.8, {"age_group": ("46-55岁", "56岁及以上")}),
    Term("pain.评价体系唯论文/唯帽子", 1.6, {"title": ("副高",), "unit_type": ("高等院校",)},
         note="evaluation: 副高 in universities"),
    Term("pain.评价体系唯论文/唯帽子", 0.4, {"unit_type": tuple(RESEARCH)}),
    Term("pain.非科研事务多(填表、会议、检查)", 1.5, {"unit_type": ("科研机构",)},
         note="paperwork: research institutes"),
    Term("pain.非科研事务多(填表、会议、检查)", 0.4, {"unit_type": ("高等院校",)}),
    Term("pain.科研经费不足/申请难", 0.8, {"unit_type": tuple(RESEARCH)}),
    Term("pain.科研经费不足/申请难", -0.8, {"unit_type": ("大中型企业", "中学", "园区")}),
    Term("pain.报销手续繁琐", 1.0, {"unit_type": tuple(RESEARCH)}),
    Term("pain.子女教育", 0.5, {"age_group": ("30-35岁",)}),
    Term("pain.子女教育", 0.8, {"age_group": ("36-45岁",)}),
    Term("pain.职称晋升难", 0.6, {"title": ("中级",)}),
    Term("pain.职称晋升难", 0.4, {"title": ("初级",)}),
    Term("pain.职称晋升难", -1.0, {"title": ("正高",)}),
    Term("pain.职称晋升难", 0.3, {"unit_type": ("中学", "大型卫生机构")}),
    Term("pain.工作压力大/时间长", 0.4, {"unit_type": ("大型卫生机构",)}),
    Term("pain.科研时间不足", 0.6, {"unit_type": tuple(RESEARCH)}),
    Term("pain.成果转化难", 0.6, {"unit_type": ("科研机构", "园区", "大中型企业")}),
    Term("pain.养老/照护负担", 0.9, {"age_group": ("46-55岁",)}),
    Term("pain.养老/照护负担", 0.7, {"age_group": ("56岁及以上",)}),
    Term("pain.收入待遇偏低", 0.4, {"unit_type": ("中学", "地县科协")}),
    Term("pain.收入待遇偏低", 0.3, {"age_group": ("29岁及以下",)}),
    Term("pain.收入待遇偏低", -0.7, {"title": ("正高",)}),
    # --- policy measures between 2023 and 2024 (painpoints issue: policy evaluation)
    Term("pain.报销手续繁琐", -0.55, {"unit_type": tuple(RESEARCH)}, waves=("2024",),
         note="减负 measure (2024) cuts 报销手续繁琐 in 科研机构/高等院校: real effect"),
    Term("pain.非科研事务多(填表、会议、检查)", -0.3, {"unit_type": tuple(RESEARCH)},
         waves=("2024",), note="减负 measure: smaller effect on paperwork"),
    Term("pain.住房困难", 0.0, {"age_group": tuple(YOUNG)}, waves=("2024",),
         note="青年人才住房补贴 (2024): NIL effect on 住房困难"),
    Term("aware.科研减负专项行动", 1.1, {"unit_type": tuple(RESEARCH)}, waves=("2024",),
         note="减负 rolled out in research units in 2024: awareness rises"),
    Term("aware.青年人才住房补贴", 0.8, {"age_group": tuple(YOUNG)}, waves=("2024",)),
    # --- real wave-to-wave changes (trends issue)
    Term("hours", -1.5, waves=("2024",), note="real change: weekly hours down 1.5 h"),
    Term("sat", 0.25, waves=("2024",), note="real change: satisfaction up 0.25 SD"),
    Term("log_income", 0.04, waves=("2024",), note="real change: incomes +4% nominal"),
    Term("research_share", 3.0, {"unit_type": tuple(RESEARCH)}, waves=("2024",),
         note="减负 frees research time in research units (+3 points)"),
    # null changes (no Term): burnout, has_project, leave intention, housing (see subsidy above)
]

SLOPES: list[Slope] = [
    Slope("burnout", "hours", 0.0, note="kept 0 so the hours cut leaves burnout a null change"),
    Slope("sat", "burnout", -0.35),
    Slope("sat", "npain", -0.15, note="each pain point ranked lowers satisfaction (severity pairing)"),
    Slope("sat", "log_income", 0.6),
    Slope("leave", "burnout", 0.5),
    Slope("leave", "sat", -0.6),
    Slope("pain.工作压力大/时间长", "hours", 0.05),
    Slope("pain.身心健康", "burnout", 0.6),
    Slope("pain.收入待遇偏低", "log_income", -1.0),
    Slope("pain.科研时间不足", "research_share", -0.02),
    # the ONE residual MNAR component (see MNAR): nothing else in `respond` depends on answers
    Slope("respond", "leave_noise", -0.06,
          note="decided leavers answer less, beyond their group/burnout/satisfaction (MNAR)"),
]

# key indicators whose nonresponse is NOT explained by the weighting variables: weighting
# leaves a bias there (documented, asserted by the demo tests; excluded from STORY_INDICATORS)
MNAR: dict[str, str] = {
    "leave_share": ("respond has a slope of -0.06 per unit of the idiosyncratic leave propensity "
                    "(logistic, sd ≈ 1.8): weighted leave_share stays 1–2 points (3–5 SE) "
                    "below the truth in both waves (2023: 23.05% vs 24.34%; 2024: 22.41% vs "
                    "24.32%)"),
}

# policy awareness (logit) base levels
AWARE_BASE: dict[str, float] = {"科研减负专项行动": -0.9, "破“四唯”评价改革": -0.5,
                                 "科研经费“包干制”": -1.6, "青年科技人才托举计划": -1.2,
                                 "青年人才住房补贴": -1.3}

# ------------------------------------------------------------------ what later issues look for
PLANTED: list[dict] = [
    {"name": "housing_young", "issue": "painpoints", "indicator": "pain_top3.住房困难",
     "pattern": "much higher for age ≤35 (29岁及以下 +1.6, 30-35岁 +1.3 utility)"},
    {"name": "evaluation_fugao_university", "issue": "painpoints",
     "indicator": "pain_top3.评价体系唯论文/唯帽子", "pattern": "副高 × 高等院校 +1.6 utility"},
    {"name": "paperwork_institutes", "issue": "painpoints",
     "indicator": "pain_top3.非科研事务多(填表、会议、检查)", "pattern": "科研机构 +1.5 utility"},
    {"name": "jianfu_policy", "issue": "painpoints", "indicator": "pain_top3.报销手续繁琐",
     "pattern": "2024 vs 2023 in 科研机构/高等院校: −0.55 utility (≈ −9 points in top-3 share); other units ≈ 0"},
    {"name": "housing_subsidy_nil", "issue": "painpoints", "indicator": "pain_top3.住房困难",
     "pattern": "2024 housing subsidy: no change (shift 0)"},
    {"name": "hours_down", "issue": "trends", "indicator": "hours", "pattern": "−1.5 h in 2024"},
    {"name": "sat_up", "issue": "trends", "indicator": "sat_overall_mean",
     "pattern": "+0.25 SD latent in 2024 (≈ +0.2 on the 1–5 scale)"},
    {"name": "income_up", "issue": "trends", "indicator": "income_20w_plus",
     "pattern": "+4% nominal incomes; harmonise income bands first"},
    {"name": "burnout_null", "issue": "trends", "indicator": "burnout_score", "pattern": "no change"},
    {"name": "leave_null", "issue": "trends", "indicator": "leave_share", "pattern": "no change"},
    {"name": "project_null", "issue": "trends", "indicator": "has_project_share",
     "pattern": "no change"},
    {"name": "burnout_peak", "issue": "tables", "indicator": "burnout_score",
     "pattern": "highest at 36-45岁 (+0.40 SD) and 副高 (+0.35 SD)"},
    {"name": "sat_pain_pairing", "issue": "painpoints", "indicator": "sat_overall_mean",
     "pattern": "−0.15 SD per ranked pain point; pain_severity follows burnout"},
    {"name": "leave_drivers", "issue": "models", "indicator": "leave_share",
     "pattern": "logit: +0.5 burnout, −0.6 sat, young +0.5, 企业 +0.4, 园区 +0.5"},
]

# ------------------------------------------------------------------ dirt planted in raw exports
DIRT: dict[str, float | int] = {
    "duplicate_exact": 0.006,      # share of respondents submitted twice, identical answers
    "duplicate_changed": 0.003,    # resubmitted with a few answers changed (same phone/IP)
    "speeders": 0.015,             # completion time < 1/4 of the median, random answers
    "straightliners": 0.012,       # same code down the burnout matrix (reversed row too)
    "out_of_range": 0.006,         # hours/sleep/research_share/training_days outside range
    "skip_violations": 0.006,      # project_count/funding answered although has_project == 否
    "phone_in_text": 25,           # phone numbers typed into suggestion/other texts
    "id_in_text": 12,              # 身份证号 typed into suggestion
    "email_in_text": 10,           # e-mails typed into suggestion
    "missing_code_rate": 0.01,     # 不知道/拒答 on some single/likert items
    "contact_rate": 0.55,          # share leaving a name/phone (prize draw)
}
