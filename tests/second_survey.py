"""A second survey that shares nothing with the demo but the YAML format (issue #15).

Other question ids (``q1_gender``, ``q7_needs``, …), other module names, other groups, another
rank question and another outcome; two waves (2022, 2025), each a 问卷星 按序号 ``.xlsx`` export
written here with openpyxl directly (not with the package's writer), plus the wave's
``questionnaire.yml``, ``population.yml``, ``stations.csv``, ``painpoint_lexicon.yml`` and the
cross-wave ``harmonization.yml`` / ``policies.yml``, laid out as ``docs/new_wave.md`` says::

    <root>/questionnaires/2022/…  <root>/questionnaires/2025/…
    <root>/questionnaires/harmonization.yml, policies.yml
    <root>/data/2022/<export>.xlsx  <root>/data/2025/<export>.xlsx

``python tests/second_survey.py DIR`` writes it into DIR; the tests call :func:`write_project`.
Everything is synthetic (seeded numpy draws); the phone numbers are made up.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

WAVES = ("2022", "2025")
N_RESP = {"2022": 1500, "2025": 1800}
SECTORS = {1: "高校", 2: "科研院所", 3: "企业研发", 4: "医疗卫生"}
SITES_PER_LAYER = 8
GENDER = {1: "男性", 2: "女性"}
AGE = {1: "30岁以下", 2: "30至39岁", 3: "40岁及以上"}
RANK = {1: "高级", 2: "中级", 3: "初级及其他"}
NEEDS = {1: "薪资偏低", 2: "落户与住房", 3: "项目申报负担重", 4: "晋升通道窄", 5: "育儿压力",
         6: "设备与平台不足", 7: "考核过于频繁", 8: "团队人手不足", 9: "通勤时间长"}
SUPPORT = {1: "导师指导", 2: "启动经费", 3: "人才公寓", 4: "海外交流", 5: "以上都没有"}
BURN = {"b1": "工作任务让我透支", "b2": "我常常感到力不从心", "b3": "我对本职工作失去兴趣", "b4": "我能从工作中获得成就感"}
FREQ = {1: "从未", 2: "偶尔", 3: "有时", 4: "经常", 5: "一直"}
OVERALL = {1: "很不满意", 2: "不满意", 3: "说不清", 4: "满意", 5: "很满意"}
SEVERITY = {1: "不影响", 2: "影响较小", 3: "影响一般", 4: "影响较大", 5: "影响极大"}


def questionnaire_text(wave: str) -> str:
    """The wave's questionnaire.yml (the waves differ only in the wording of the hours question)."""
    hours = ("近三个月，您每周平均工作时长约为多少小时？" if wave == "2025"
             else "您每周平均工作时长约为多少小时？")
    lines = [
        f"wave:",
        f"  id: '{wave}'",
        f"  title: {wave}年某省青年科技人才发展状况调查（测试数据）",
        f"  fieldwork: {{start: '{wave}-09-01', end: '{wave}-10-15'}}",
        "  mode: online",
        "  population: 在本省工作的四十五岁以下科技人才",
        "design:",
        "  psu: q0_site",
        "  strata: q0_layer",
        "  groups: [q1_gender, q2_age, q3_sector]",
        "  weighting: [q1_gender, q2_age, q3_sector]",
        "report:",
        "  painpoints: q7_needs",
        "  outcome: q12_overall",
        "  drivers: [q1_gender, q2_age]",
        "missing_codes: {98: 不清楚, 99: 不愿回答}",
        "questions:",
        "  - {id: q0_site, module: 抽样信息, type: text, text: 单位编码（系统自动填写）}",
        "  - id: q0_layer",
        "    module: 抽样信息",
        "    type: single",
        "    text: 抽样层（系统自动填写）",
        "    missing_codes: {}",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in SECTORS.items()) + "}",
        "  - id: q1_gender",
        "    module: 个人信息",
        "    type: single",
        "    text: 请问您的性别是",
        "    missing_codes: {}",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in GENDER.items()) + "}",
        "  - id: q2_age",
        "    module: 个人信息",
        "    type: single",
        "    text: 请问您的年龄段",
        "    missing_codes: {}",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in AGE.items()) + "}",
        "  - id: q3_sector",
        "    module: 个人信息",
        "    type: single",
        "    text: 您就职的机构属于",
        "    missing_codes: {}",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in SECTORS.items()) + "}",
        "  - id: q4_grade",
        "    module: 个人信息",
        "    type: single",
        "    text: 您的职称等级",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in RANK.items()) + "}",
        "  - id: q5_hours",
        "    module: 工作负荷",
        "    type: numeric",
        "    unit: 小时",
        "    range: [10, 100]",
        "    missing_codes: {}",
        f"    text: {hours}",
        "  - id: q6_support",
        "    module: 工作负荷",
        "    type: multi",
        "    exclusive: [5]",
        "    text: 入职以来您获得过哪些支持？（可多选）",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in SUPPORT.items()) + "}",
        "  - id: q7_needs",
        "    module: 发展诉求",
        "    type: rank",
        "    k: 3",
        "    text: 请从下列问题中选出您最希望解决的三项并排序",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in NEEDS.items()) + "}",
        "  - id: q8_impact",
        "    module: 发展诉求",
        "    type: single",
        "    text: 您排在第一位的问题对您的影响有多大",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in SEVERITY.items()) + "}",
        "  - id: q9_burnout",
        "    module: 身心状态",
        "    type: likert",
        "    text: 下列描述与您近期状态相符的频率",
        "    rows: {" + ", ".join(f"{k}: {v}" for k, v in BURN.items()) + "}",
        "    scale: {" + ", ".join(f"{k}: {v}" for k, v in FREQ.items()) + "}",
        "    reversed: [b4]",
        "  - id: q12_overall",
        "    module: 总体评价",
        "    type: single",
        "    text: 总的来看，您对当前的工作状况满意吗",
        "    options: {" + ", ".join(f"{k}: {v}" for k, v in OVERALL.items()) + "}",
        "  - id: q14_advice",
        "    module: 发展诉求",
        "    type: text",
        "    text: 对改善青年科技人才发展环境，您还有什么建议？",
        "  - {id: q15_mobile, module: 联络方式, type: text, pii: true, pii_kind: phone, text: 手机号（自愿填写）}",
    ]
    return "\n".join(lines) + "\n"


def _sites(wave_seed: int) -> list[tuple[str, int, int, float]]:
    """(site id, layer code, size, π) for every sampled site; the same sites in both waves."""
    rng = np.random.default_rng(7)
    out = []
    for layer in SECTORS:
        for j in range(SITES_PER_LAYER):
            size = int(rng.integers(150, 900))
            out.append((f"U{layer}{j:02d}", layer, size, round(float(min(1.0, size / 2500)), 4)))
    return out


def _draw(wave: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(int(wave))
    sites = _sites(0)
    n = N_RESP[wave]
    s = rng.integers(0, len(sites), n)
    site = np.array([sites[i][0] for i in s])
    layer = np.array([sites[i][1] for i in s])
    gender = np.where(rng.random(n) < np.where(layer == 4, 0.6, 0.38), 2, 1)
    age = rng.choice([1, 2, 3], n, p=[0.35, 0.45, 0.20])
    grade = np.where(rng.random(n) < 0.7, 4 - age, rng.integers(1, 4, n))   # older: higher grade
    later = wave == "2025"
    hours = np.clip(rng.normal(50 - 3 * later + 3 * (layer == 3), 8, n), 10, 100).round(1)
    # needs: item propensities depend on age and sector; housing need falls in 2025 for the young
    base = np.array([1.2, 1.0, 0.9, 0.8, 0.6, 0.5, 0.7, 0.4, 0.3])
    util = np.log(np.tile(base, (n, 1))) + rng.gumbel(size=(n, 9))
    util[:, 1] += np.where(age == 1, 0.8 - 0.7 * later, 0.0)
    util[:, 4] += np.where(age == 2, 0.9, 0.0)
    util[:, 2] += np.where(layer == 2, 0.6, 0.0)
    util[:, 5] += np.where(layer == 3, 0.5, 0.0)
    order = np.argsort(-util, axis=1)[:, :3]
    ranks = np.full((n, 9), -2)
    for r in range(3):
        ranks[np.arange(n), order[:, r]] = r + 1
    first = order[:, 0]
    impact = np.clip(np.round(rng.normal(3.0 + 0.5 * (first == 0) + 0.02 * (hours - 50), 1.0)), 1, 5).astype(int)
    stress = rng.normal(0, 1, n) + 0.04 * (hours - 50)
    burn = np.column_stack([np.clip(np.round(3 + 0.8 * stress + rng.normal(0, 0.7, n)), 1, 5)
                            for _ in range(3)]).astype(int)
    burn = np.column_stack([burn, np.clip(np.round(3 - 0.6 * stress + rng.normal(0, 0.8, n)), 1, 5).astype(int)])
    n_chosen_bad = (ranks[:, [0, 1, 6]] > 0).sum(axis=1)
    overall = np.clip(np.round(3.6 - 0.35 * stress - 0.25 * n_chosen_bad + 0.2 * later
                               + rng.normal(0, 0.8, n)), 1, 5).astype(int)
    overall = np.where(rng.random(n) < 0.02, 98, overall)       # a few 不清楚
    support = (rng.random((n, 4)) < np.array([0.5, 0.3, 0.15 + 0.15 * later, 0.1])).astype(int)
    none = (support.sum(axis=1) == 0).astype(int)
    words = np.array(["希望提高薪资待遇", "住房补贴能再多一些", "项目申报材料太多了", "晋升名额太少",
                      "孩子入托困难", "实验设备老旧", "考核太频繁", "", "", ""])
    advice = words[rng.integers(0, len(words), n)]
    t0 = np.datetime64(f"{wave}-09-01T08:00:00")
    submitted = t0 + (rng.random(n) * 40 * 86400).astype("timedelta64[s]")
    secs = rng.integers(240, 1500, n)
    return dict(site=site, layer=layer, gender=gender, age=age, grade=grade, hours=hours,
                support=support, none=none, ranks=ranks, impact=impact, burn=burn, overall=overall,
                advice=advice, submitted=submitted, secs=secs, n=n)


def write_export(wave: str, path: Path) -> Path:
    """The 按序号 问卷星 export of *wave*, written cell by cell with openpyxl."""
    import openpyxl

    d = _draw(wave)
    hours_text = ("近三个月，您每周平均工作时长约为多少小时？" if wave == "2025"
                  else "您每周平均工作时长约为多少小时？")
    heads = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP",
             "1、单位编码（系统自动填写）", "2、抽样层（系统自动填写）", "3、请问您的性别是", "4、请问您的年龄段",
             "5、您就职的机构属于", "6、您的职称等级", f"7、{hours_text}"]
    heads += [f"8、入职以来您获得过哪些支持？（可多选）({SUPPORT[1]})"] + [f"8({SUPPORT[k]})" for k in (2, 3, 4, 5)]
    heads += [f"9、请从下列问题中选出您最希望解决的三项并排序({NEEDS[1]})"] + [f"9({NEEDS[k]})" for k in range(2, 10)]
    heads += ["10、您排在第一位的问题对您的影响有多大"]
    rows = list(BURN.values())
    heads += [f"11、下列描述与您近期状态相符的频率—{rows[0]}"] + rows[1:]
    heads += ["12、总的来看，您对当前的工作状况满意吗", "13、对改善青年科技人才发展环境，您还有什么建议？",
              "14、手机号（自愿填写）"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(heads)
    rng = np.random.default_rng(int(wave) + 1)
    for i in range(d["n"]):
        ts = str(d["submitted"][i]).replace("T", " ").replace("-", "/")
        row = [i + 1, ts, f"{int(d['secs'][i])}秒", "手机提交", "直接访问",
               f"10.{rng.integers(0, 255)}.{rng.integers(0, 255)}.{rng.integers(1, 255)}(某省)",
               d["site"][i], int(d["layer"][i]), int(d["gender"][i]), int(d["age"][i]), int(d["layer"][i]),
               int(d["grade"][i]), float(d["hours"][i])]
        row += [int(x) for x in d["support"][i]] + [int(d["none"][i])]
        row += [int(x) for x in d["ranks"][i]]
        row += [int(d["impact"][i])] + [int(x) for x in d["burn"][i]] + [int(d["overall"][i])]
        row += [str(d["advice"][i]) or "(空)",
                f"139{rng.integers(10000000, 99999999)}" if rng.random() < 0.3 else "(空)"]
        ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def population_text(wave: str) -> str:
    """Margins of the population (synthetic totals; sources fictional)."""
    src = "{publication: 某省人才统计公报, year: %s, table: 表3}" % (int(wave) - 1)
    return "\n".join([
        "population:",
        "  definition: 在本省工作的四十五岁以下科技人才",
        "control_total:",
        f"  value: 120000",
        f"  source: {src}",
        "margins:",
        "  - variables: [q1_gender]",
        "    totals: {男性: 72000, 女性: 48000}",
        f"    source: {src}",
        "  - variables: [q2_age]",
        "    totals: {30岁以下: 40000, 30至39岁: 55000, 40岁及以上: 25000}",
        f"    source: {src}",
        "  - variables: [q3_sector]",
        "    totals: {高校: 36000, 科研院所: 24000, 企业研发: 42000, 医疗卫生: 18000}",
        f"    source: {src}",
    ]) + "\n"


def stations_text() -> str:
    lines = ["station,pi_station,station_size"]
    lines += [f"{s},{pi},{size}" for s, _, size, pi in _sites(0)]
    return "\n".join(lines) + "\n"


LEXICON = """question: q7_needs
severity: {column: q8_impact, severe: [4, 5], among: first}
categories:
""" + "".join(f"  {k}:\n    label: {v}\n    keywords: [{kw}]\n" for k, v, kw in [
    (1, "薪资偏低", "薪资, 待遇"), (2, "落户与住房", "住房, 补贴"), (3, "项目申报负担重", "申报, 材料"),
    (4, "晋升通道窄", "晋升, 名额"), (5, "育儿压力", "孩子, 入托"), (6, "设备与平台不足", "设备, 实验"),
    (7, "考核过于频繁", "考核")])

HARMONIZATION = """waves:
  "2022": 2022/questionnaire.yml
  "2025": 2025/questionnaire.yml
questions:
  q5_hours: {}
  q9_burnout: {}
  q12_overall: {}
  q6_support: {}
indicators:
  - {id: hours, question: q5_hours, kind: mean, label: 每周工作时长（小时）}
  - {id: burnout, question: q9_burnout, kind: mean, label: 倦怠得分（1–5）}
  - {id: satisfied, question: q12_overall, kind: proportion, categories: [满意, 很满意], label: 对工作满意的比例}
  - {id: flat, question: q6_support, kind: proportion, option: 人才公寓, label: 获得人才公寓的比例}
"""

POLICIES = """measures:
  - name: 青年人才安居工程
    date: 2023-06-01
    office: 某省人才工作领导小组办公室
    items: [落户与住房]
    groups: {q2_age: [30岁以下]}
    expected: decrease
    note: 三十岁以下科技人才租房补贴（测试数据）
"""


def write_project(root: str | Path) -> Path:
    """Write the whole project (both waves, cross-wave files) under *root*; return *root*."""
    root = Path(root)
    qroot = root / "questionnaires"
    for w in WAVES:
        d = qroot / w
        d.mkdir(parents=True, exist_ok=True)
        (d / "questionnaire.yml").write_text(questionnaire_text(w), encoding="utf-8")
        (d / "population.yml").write_text(population_text(w), encoding="utf-8")
        (d / "stations.csv").write_text(stations_text(), encoding="utf-8")
        (d / "painpoint_lexicon.yml").write_text(LEXICON, encoding="utf-8")
        write_export(w, root / "data" / w / f"200{w}_按序号_{w}年某省青年科技人才发展状况调查_{N_RESP[w]}_{N_RESP[w]}.xlsx")
    (qroot / "harmonization.yml").write_text(HARMONIZATION, encoding="utf-8")
    (qroot / "policies.yml").write_text(POLICIES, encoding="utf-8")
    return root


#: Every question id of the second survey (none may appear in the report's visible text).
def question_ids() -> list[str]:
    import yaml

    return [q["id"] for q in yaml.safe_load(questionnaire_text("2025"))["questions"]]


if __name__ == "__main__":
    print(write_project(sys.argv[1] if len(sys.argv) > 1 else "second_survey"))
