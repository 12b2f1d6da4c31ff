"""The fictional city, its population structure and the two demo questionnaires.

Everything here is *fixed design* (category lists, population mix, question wording); what
shapes the answers lives in :mod:`survey.demo.effects`.  The questionnaires are built as plain
dicts (the YAML schema of ``docs/conventions.md``) so that the generator, the committed
``questionnaires/demo-*/questionnaire.yml`` and the tests share one source.

Examples
--------
>>> from survey.demo.spec import questionnaire_dict, UNIT_TYPES
>>> len(UNIT_TYPES), questionnaire_dict("2024")["wave"]["id"]
(8, '2024')
"""
from __future__ import annotations

import copy
from typing import Any

__all__ = ["CITY", "WAVES", "DISTRICTS", "UNIT_TYPES", "SEX", "AGE_GROUPS", "TITLES",
           "EDUCATION", "PAIN", "N_POPULATION", "questionnaire_dict", "group_levels"]

CITY = "示例市"
WAVES = ("2023", "2024")
N_POPULATION = 300_000

DISTRICTS = ["明湖区", "青山区", "云溪区", "临江区", "松岗区", "北塘区", "南屏区", "西林区",
             "高新区", "滨海新区"]
UNIT_TYPES = ["科研机构", "高等院校", "大中型企业", "大型卫生机构", "中学", "园区", "地县科协", "全国学会"]
SEX = ["男", "女"]
AGE_GROUPS = ["29岁及以下", "30-35岁", "36-45岁", "46-55岁", "56岁及以上"]
TITLES = ["正高", "副高", "中级", "初级", "无"]
EDUCATION = ["大专", "本科", "硕士研究生", "博士研究生"]
PAIN = ["收入待遇偏低", "住房困难", "子女教育", "科研经费不足/申请难", "报销手续繁琐",
        "评价体系唯论文/唯帽子", "职称晋升难", "工作压力大/时间长", "非科研事务多(填表、会议、检查)",
        "科研时间不足", "学术交流机会少", "成果转化难", "身心健康", "养老/照护负担"]

# ---------------------------------------------------------------- population structure
# share of the population by district and by unit type, with a district x type tilt
DISTRICT_SHARE = [0.14, 0.12, 0.11, 0.10, 0.09, 0.08, 0.08, 0.07, 0.13, 0.08]
TYPE_SHARE = [0.10, 0.14, 0.28, 0.18, 0.12, 0.09, 0.05, 0.04]
# tilt[d][t]: multiplicative adjustment (central districts: universities/institutes;
# 高新区/滨海新区: firms and parks; outer districts: 地县科协 and schools)
TYPE_TILT = {
    "明湖区": {"高等院校": 1.8, "科研机构": 1.6, "全国学会": 2.0, "园区": 0.4},
    "青山区": {"高等院校": 1.5, "大型卫生机构": 1.3},
    "高新区": {"大中型企业": 1.8, "园区": 2.5, "中学": 0.6, "地县科协": 0.3},
    "滨海新区": {"大中型企业": 1.6, "园区": 1.8, "地县科协": 0.6},
    "松岗区": {"地县科协": 2.2, "中学": 1.4, "高等院校": 0.4},
    "西林区": {"地县科协": 2.0, "中学": 1.3, "科研机构": 0.5},
    "南屏区": {"大型卫生机构": 1.4, "中学": 1.2},
}
# mean institution (station-able unit) size by type
UNIT_SIZE = {"科研机构": 260, "高等院校": 1400, "大中型企业": 380, "大型卫生机构": 700,
             "中学": 70, "园区": 520, "地县科协": 180, "全国学会": 240}
FEMALE = {"科研机构": .38, "高等院校": .46, "大中型企业": .27, "大型卫生机构": .62, "中学": .66,
          "园区": .31, "地县科协": .40, "全国学会": .34}
AGE = {  # P(age group | unit type)
    "科研机构": [.18, .24, .30, .20, .08], "高等院校": [.10, .22, .34, .24, .10],
    "大中型企业": [.26, .30, .26, .14, .04], "大型卫生机构": [.20, .26, .28, .19, .07],
    "中学": [.16, .20, .30, .26, .08], "园区": [.32, .32, .22, .11, .03],
    "地县科协": [.12, .18, .30, .30, .10], "全国学会": [.10, .18, .30, .26, .16]}
TITLE_BY_AGE = [[.00, .01, .15, .45, .39], [.01, .10, .45, .26, .18], [.08, .30, .40, .10, .12],
                [.20, .35, .30, .06, .09], [.30, .33, .25, .05, .07]]
TITLE_TILT = {"科研机构": [1.5, 1.3, 1, .8, .6], "高等院校": [1.8, 1.5, 1, .7, .5],
              "大中型企业": [.4, .7, 1, 1, 1.6], "大型卫生机构": [1.2, 1.2, 1, 1, .6],
              "中学": [.3, .9, 1.3, 1.1, .5], "园区": [.3, .6, .9, 1, 1.8],
              "地县科协": [.6, .9, 1.2, 1.1, 1], "全国学会": [1.6, 1.4, 1, .7, .7]}
EDU = {"科研机构": [.03, .25, .42, .30], "高等院校": [.02, .15, .38, .45],
       "大中型企业": [.15, .55, .25, .05], "大型卫生机构": [.08, .50, .30, .12],
       "中学": [.05, .70, .24, .01], "园区": [.15, .52, .28, .05],
       "地县科协": [.30, .55, .13, .02], "全国学会": [.05, .35, .35, .25]}
EDU_TILT = {"正高": [.3, .6, 1, 2.5], "副高": [.5, .8, 1.1, 1.6], "中级": [1, 1, 1, .8],
            "初级": [1.2, 1.1, .9, .4], "无": [1.5, 1.1, .9, .5]}

# ---------------------------------------------------------------- sampling design
# stations per stratum: proportional to sqrt(N_h), at least 2; quota of completes per station
N_STATIONS = 240
QUOTA = {"科研机构": 60, "高等院校": 70, "大中型企业": 55, "大型卫生机构": 60, "中学": 35,
         "园区": 50, "地县科协": 40, "全国学会": 40}
INVITE_FACTOR = 3.0  # a station works down a random list of up to 3 x quota staff

INCOME_2023 = {1: "10万元以下", 2: "10万-20万元", 3: "20万-30万元", 4: "30万元及以上"}
INCOME_2024 = {1: "10万元以下", 2: "10万-15万元", 3: "15万-20万元", 4: "20万-30万元",
               5: "30万-50万元", 6: "50万元及以上"}
INCOME_BREAKS = {"2023": [10, 20, 30], "2024": [10, 15, 20, 30, 50]}  # 万元

POLICY_2023 = {1: "科研减负专项行动", 2: "破“四唯”评价改革", 3: "科研经费“包干制”",
               4: "青年科技人才托举计划", 8: "以上都不了解"}
POLICY_2024 = {**{k: v for k, v in POLICY_2023.items() if k != 8}, 5: "青年人才住房补贴",
               8: "以上都不了解"}


def group_levels(setting: Any = None) -> dict[str, list[str]]:
    """Levels of the key group variables, in code order.

    ``setting`` (a :class:`survey.demo.setting.Setting`; default the city) names the region
    variable (``district`` or ``region``) and its levels.

    Examples
    --------
    >>> group_levels()["title"]
    ['正高', '副高', '中级', '初级', '无']
    """
    var, regions = ("district", DISTRICTS) if setting is None else \
        (setting.region_var, setting.regions)
    return {"sex": list(SEX), "age_group": list(AGE_GROUPS), "title": list(TITLES),
            "unit_type": list(UNIT_TYPES), var: list(regions),
            "education": list(EDUCATION)}


def _opts(labels: list[str], start: int = 1) -> dict[int, str]:
    return {i + start: lab for i, lab in enumerate(labels)}


AGREE5 = {1: "非常不同意", 2: "不同意", 3: "一般", 4: "同意", 5: "非常同意"}
FREQ5 = {1: "从不", 2: "很少", 3: "有时", 4: "经常", 5: "总是"}
SAT5 = {1: "非常不满意", 2: "不太满意", 3: "一般", 4: "比较满意", 5: "非常满意"}

_BASE_QUESTIONS: list[dict[str, Any]] = [
    # ---- 调查信息 (filled by the station link, not asked)
    {"id": "station", "module": "调查信息", "type": "text",
     "text": "调查站点编号（由站点链接自动填写）"},
    {"id": "stratum", "module": "调查信息", "type": "single", "missing_codes": None,
     "text": "抽样层（区 × 站点类型，由站点链接自动填写）", "options": "STRATA"},
    # ---- 基本情况
    {"id": "sex", "module": "基本情况", "type": "single", "text": "您的性别",
     "options": _opts(SEX), "missing_codes": None},
    {"id": "age_group", "module": "基本情况", "type": "single", "text": "您的年龄",
     "options": _opts(AGE_GROUPS), "missing_codes": None},
    {"id": "education", "module": "基本情况", "type": "single", "text": "您的最高学历",
     "options": _opts(EDUCATION), "missing_codes": None},
    {"id": "title", "module": "基本情况", "type": "single", "text": "您目前的专业技术职称",
     "options": _opts(TITLES), "missing_codes": None},
    {"id": "unit_type", "module": "基本情况", "type": "single", "text": "您所在单位的类型",
     "options": _opts(UNIT_TYPES), "missing_codes": None},
    {"id": "district", "module": "基本情况", "type": "single", "text": "您的工作单位所在区",
     "options": _opts(DISTRICTS), "missing_codes": None},
    {"id": "field", "module": "基本情况", "type": "single", "text": "您从事工作的主要学科领域",
     "options": {1: "理学", 2: "工学", 3: "农学", 4: "医学", 5: "教育/科普", 6: "科技管理",
                 9: "其他（请注明）"}, "other": 9},
    {"id": "politics", "module": "基本情况", "type": "single", "text": "您的政治面貌",
     "options": {1: "中共党员", 2: "民主党派", 3: "共青团员", 4: "群众"}},
    {"id": "work_start", "module": "基本情况", "type": "date",
     "text": "您进入现单位工作的时间（年/月/日）"},
    {"id": "housing", "module": "基本情况", "type": "single", "text": "您目前的住房情况",
     "options": {1: "自有住房", 2: "租房", 3: "单位宿舍/周转房", 4: "与父母或亲属同住"}},
    # ---- 工作状况
    {"id": "hours", "module": "工作状况", "type": "numeric", "unit": "小时", "range": [0, 112],
     "integer": False, "missing_codes": None,
     "text": "最近一个月，您平均每周实际工作多少小时？"},
    {"id": "research_share", "module": "工作状况", "type": "numeric", "unit": "%",
     "range": [0, 100], "integer": True, "missing_codes": {-1: "拒答"},
     "text": "您的工作时间中，用于科研/技术工作本身的比例大约是多少（%）？"},
    {"id": "commute", "module": "工作状况", "type": "duration", "unit": "分钟",
     "text": "您单程上班通勤大约需要多长时间？"},
    # ---- 收入待遇
    {"id": "income", "module": "收入待遇", "type": "single",
     "text": "您2022年的个人税前年收入", "options": INCOME_2023},
    # ---- 科研活动
    {"id": "has_project", "module": "科研活动", "type": "single",
     "text": "目前您是否主持或参与在研科研项目？", "options": {1: "是", 2: "否"}},
    {"id": "project_count", "module": "科研活动", "type": "numeric", "unit": "项",
     "range": [1, 30], "integer": True, "missing_codes": {-1: "拒答"}, "ask_if": "has_project == 1",
     "text": "您目前主持或参与的在研项目有几项？"},
    {"id": "funding_sources", "module": "科研活动", "type": "multi", "ask_if": "has_project == 1",
     "text": "您的在研项目经费来自哪些渠道？（可多选）",
     "options": {1: "国家级项目", 2: "省部级项目", 3: "市级项目", 4: "横向/企业委托",
                 5: "单位自筹", 9: "其他（请注明）"}, "other": 9},
    # ---- 评价激励
    {"id": "eval_opinion", "module": "评价激励", "type": "likert",
     "text": "您是否同意以下关于科技评价的说法？",
     "rows": {"r1": "职称评审过于看重论文数量", "r2": "人才称号与资源分配挂钩过紧",
              "r3": "考核评价周期过短", "r4": "现行评价能反映我的实际贡献"},
     "scale": AGREE5, "reversed": ["r4"]},
    # ---- 职业发展与流动
    {"id": "leave_intent", "module": "职业发展与流动", "type": "single",
     "text": "未来一年内，您是否打算离开现单位？",
     "options": {1: "肯定不会", 2: "可能不会", 3: "可能会", 4: "肯定会"}},
    {"id": "leave_reasons", "module": "职业发展与流动", "type": "multi", "max_choices": 3,
     "ask_if": "leave_intent in [3, 4]", "text": "您打算离开的主要原因是什么？（最多选三项）",
     "options": {1: "收入偏低", 2: "发展空间有限", 3: "工作压力大", 4: "评价不公",
                 5: "家庭原因", 6: "住房问题", 9: "其他（请注明）"}, "other": 9},
    # ---- 培训进修/学术交流
    {"id": "training_days", "module": "培训进修与学术交流", "type": "numeric", "unit": "天",
     "range": [0, 365], "integer": True, "missing_codes": {-1: "拒答"},
     "text": "过去一年，您参加培训进修累计多少天？"},
    {"id": "exchange", "module": "培训进修与学术交流", "type": "single",
     "text": "过去一年，您参加学术交流活动（会议、论坛、讲座）的次数",
     "options": {1: "没有参加", 2: "1-2次", 3: "3-5次", 4: "6次及以上"}},
    # ---- 身心健康 (sensitive)
    {"id": "burnout", "module": "身心健康", "type": "likert", "sensitive": "health",
     "text": "最近一个月，以下情况在您身上出现的频率",
     "rows": {"r1": "工作让我感到身心俱疲", "r2": "下班时我感到精疲力竭",
              "r3": "早上起床想到要工作就感到疲惫", "r4": "我对工作越来越没有热情",
              "r5": "我怀疑自己工作的意义", "r6": "我能有效地解决工作中出现的问题"},
     "scale": FREQ5, "reversed": ["r6"]},
    {"id": "health_self", "module": "身心健康", "type": "single", "sensitive": "health",
     "text": "总体来说，您认为自己的健康状况", "options": {1: "很好", 2: "较好", 3: "一般", 4: "较差", 5: "很差"}},
    {"id": "sleep_hours", "module": "身心健康", "type": "numeric", "unit": "小时",
     "range": [0, 24], "integer": False, "missing_codes": {-1: "拒答"}, "sensitive": "health",
     "text": "最近一个月，您平均每晚睡眠多少小时？"},
    # ---- 思想动态/社会参与
    {"id": "social", "module": "思想动态与社会参与", "type": "multi", "exclusive": [5],
     "text": "过去一年，您参加过哪些社会活动？（可多选）",
     "options": {1: "科普活动", 2: "建言献策", 3: "志愿服务", 4: "学会活动", 5: "都没有参加"}},
    {"id": "confidence", "module": "思想动态与社会参与", "type": "single",
     "text": "您对本市科技创新环境的未来发展是否有信心？",
     "options": {1: "很有信心", 2: "比较有信心", 3: "一般", 4: "信心不足", 5: "没有信心"}},
    # ---- 政策评价
    {"id": "policy_aware", "module": "政策评价", "type": "multi", "exclusive": [8],
     "text": "以下政策措施，您了解哪些？（可多选）", "options": POLICY_2023},
    {"id": "jianfu_effect", "module": "政策评价", "type": "single",
     "text": "您认为科研减负专项行动实施以来，您的非科研负担",
     "options": {1: "明显减轻", 2: "有所减轻", 3: "没有变化", 4: "有所加重", 5: "不了解该行动"}},
    # ---- 科协服务
    {"id": "cast_services", "module": "科协服务", "type": "matrix",
     "text": "您是否使用过科协的以下服务？",
     "rows": {"r1": "科技工作者之家", "r2": "学术会议/论坛", "r3": "继续教育培训",
              "r4": "科技工作者权益维护"},
     "scale": {1: "使用过", 2: "知道但未使用", 3: "不知道"}},
    {"id": "sat", "module": "收入待遇", "type": "likert",
     "text": "您对以下方面的满意程度",
     "rows": {"r1": "收入待遇", "r2": "工作环境", "r3": "科研条件", "r4": "职业发展机会",
              "r5": "工作与生活平衡"}, "scale": SAT5},
    {"id": "sat_overall", "module": "收入待遇", "type": "single",
     "text": "总体而言，您对目前的工作满意吗？", "options": SAT5},
    # ---- 急难愁盼
    {"id": "pain", "module": "急难愁盼", "type": "rank", "k": 3, "options": _opts(PAIN),
     "text": "请选出您目前最急需解决的问题（最多三项，并按急迫程度排序）"},
    {"id": "pain_severity", "module": "急难愁盼", "type": "single",
     "text": "您排在第一位的问题对您工作和生活的困扰程度",
     "options": {1: "几乎没有困扰", 2: "轻微", 3: "中等", 4: "严重", 5: "非常严重"}},
    {"id": "suggestion", "module": "急难愁盼", "type": "text", "pii": False,
     "text": "您对解决科技工作者急难愁盼问题还有哪些意见和建议？"},
    # ---- 联系方式 (PII, optional, for the prize draw)
    {"id": "name", "module": "联系方式", "type": "text", "pii": True, "pii_kind": "name",
     "text": "您的姓名（选填，仅用于抽奖联系）"},
    {"id": "phone", "module": "联系方式", "type": "text", "pii": True, "pii_kind": "phone",
     "text": "您的手机号码（选填）"},
    {"id": "email", "module": "联系方式", "type": "text", "pii": True, "pii_kind": "email",
     "text": "您的电子邮箱（选填）"},
]

_WAVE_META = {
    "2023": {"fieldwork": {"start": "2023-05-08", "end": "2023-06-30"}, "mode": "online"},
    "2024": {"fieldwork": {"start": "2024-05-06", "end": "2024-06-28"}, "mode": "online"},
}


def strata_options(setting: Any = None) -> dict[int, str]:
    """Stratum codes: ``100 * region_no + type_no`` -> ``"区·类型"`` (or ``"省·类型"``).

    Examples
    --------
    >>> strata_options()[101]
    '明湖区·科研机构'
    """
    regions = DISTRICTS if setting is None else setting.regions
    return {100 * (i + 1) + (j + 1): f"{d}·{t}" for i, d in enumerate(regions)
            for j, t in enumerate(UNIT_TYPES)}


def questionnaire_dict(wave: str, setting: Any = None) -> dict[str, Any]:
    """The questionnaire of a demo wave as a dict in the YAML schema of ``docs/conventions.md``.

    2024 differs from 2023 in two places, for harmonisation to work on:

    * ``income`` is reworded ("上一年度…含绩效奖金") and its bands are split
      (10–20万 → 10–15万 + 15–20万; 30万及以上 → 30–50万 + 50万及以上), which reassigns the
      code of 20万-30万元 from 3 to 4;
    * ``policy_aware`` gains option 5 青年人才住房补贴 (the housing subsidy introduced in 2024).

    ``setting`` (:class:`survey.demo.setting.Setting`, default the city) gives the national
    questionnaire: waves ``national-2023``/``national-2024``, the region question ``region``
    (31 provinces) instead of ``district``, strata province × station type.

    Examples
    --------
    >>> d = questionnaire_dict("2024")
    >>> [q for q in d["questions"] if q["id"] == "income"][0]["options"][4]
    '20万-30万元'
    """
    wave = str(wave)
    if setting is not None and setting.name == "city":
        setting = None          # the city, however it is asked for
    if setting is None:
        if wave not in WAVES:
            from ..errors import ParameterError
            raise ParameterError(f"demo wave {wave!r} does not exist; use one of {WAVES}")
        year, region, place = wave, "district", CITY
    else:
        year, region, place = setting.year(wave), setting.region_var, setting.place
    qs = copy.deepcopy(_BASE_QUESTIONS)
    for q in qs:
        if q.get("options") == "STRATA":
            q["options"] = strata_options(setting)
            if setting is not None:
                q["text"] = "抽样层（省 × 站点类型，由站点链接自动填写）"
        if q.get("missing_codes", "x") is None:
            q["missing_codes"] = {}
        if q["id"] == "district" and setting is not None:
            q.update(id=region, text=setting.region_text, options=_opts(list(setting.regions)))
        if q["id"] == "confidence" and setting is not None:
            q["text"] = "您对我国科技创新环境的未来发展是否有信心？"
        if year == "2024" and q["id"] == "income":
            q["text"] = "您上一年度（2023年）的个人税前总收入（含绩效、奖金）"
            q["options"] = dict(INCOME_2024)
        if year == "2024" and q["id"] == "policy_aware":
            q["options"] = dict(POLICY_2024)
    groups = ["sex", "age_group", "title", "unit_type", region, "education"]
    if setting is None:
        population = "在本市工作的科技工作者（大专及以上学历从事科技工作，或具有专业技术职称）"
        notes = ("Synthetic demo wave generated by survey.demo (no real respondents). Base "
                 "weights: see stations.csv next to the raw export.")
    else:
        population = "在全国（不含港澳台）工作的科技工作者（大专及以上学历从事科技工作，或具有专业技术职称）"
        notes = (f"Synthetic NATIONAL demo wave generated by survey.demo (no real respondents; "
                 f"`survey demo --national`). Region variable: {region} (for survey report "
                 f"--by {region} / -p region_var={region}). Base weights: see stations.csv.")
    return {
        "wave": {"id": wave, "title": f"{year}年{place}科技工作者状况调查（演示数据）",
                 **_WAVE_META[year],
                 "population": population,
                 "population_file": "population.yml"},
        "design": {"psu": "station", "strata": "stratum", "weight": None,
                   "groups": list(groups), "weighting": list(groups)},
        "report": {"painpoints": "pain", "outcome": "sat_overall",
                   "drivers": ["sex", "age_group", "title", "unit_type"]},
        "missing_codes": {98: "不知道", 99: "拒答"},
        "notes": notes,
        "questions": qs,
    }
