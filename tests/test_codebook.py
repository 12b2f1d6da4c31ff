"""Tests for survey.codebook: drafting questionnaire.yml from raw exports.

Small exports are written here with openpyxl / the csv module / pyreadstat directly; the demo's
按文本 export is made by ``fixtures/codebook/make_text_export.py`` (independent of the package).
"""
from __future__ import annotations

import csv
import shutil
import tempfile
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from survey.cli import main
from survey.codebook import CodebookDraft, agreement, draft_codebook
from survey.errors import ReadError
from survey.io import read_export
from survey.questionnaire import Questionnaire

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "fixtures" / "codebook"))
from make_text_export import make_text_export  # noqa: E402
from sheets import write_rows  # noqa: E402  (tests/ helper)

DEMO = ROOT / "data" / "demo"
needs_demo = pytest.mark.skipif(not (DEMO / "demo-2023").is_dir() or not (DEMO / "demo-2024").is_dir(),
                                reason="demo data not generated (run `survey demo`)")


xlsx = write_rows  # openpyxl directly, shared with the other reader tests


def loads(d: CodebookDraft, tmp: Path) -> Questionnaire:
    """The draft text, written as it is, must load (TODO markers are comments)."""
    p = d.write(tmp / "questionnaire.yml")
    q = Questionnaire.load(p)
    assert len(q) == len(d.questions)
    return q


def differing_without_todo(a: pd.DataFrame) -> list[str]:
    return a.loc[~a["agree"] & ~a["todo"], "question"].tolist()


# ---------------------------------------------------------------------------------------------
# the demo waves: agreement with the hand-written questionnaires
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_code_xlsx() -> Path:
    return next((DEMO / "demo-2023").glob("*按序号*.xlsx"))


@pytest.fixture(scope="module")
def demo_text_csv(tmp_path_factory, demo_code_xlsx) -> Path:
    out = tmp_path_factory.mktemp("cb") / demo_code_xlsx.name.replace("按序号", "按文本").replace(".xlsx", ".csv")
    return make_text_export(demo_code_xlsx, ROOT / "questionnaires" / "demo-2023" / "questionnaire.yml", out)


@pytest.fixture(scope="module")
def draft_pair(demo_code_xlsx, demo_text_csv) -> CodebookDraft:
    return draft_codebook(demo_code_xlsx, text_export=demo_text_csv)


@pytest.fixture(scope="module")
def draft_sav() -> CodebookDraft:
    return draft_codebook(next((DEMO / "demo-2024").glob("*.sav")))


@needs_demo
def test_demo_sav_draft_reproduces_the_questionnaire(draft_sav, tmp_path):
    ref = Questionnaire.load(ROOT / "questionnaires" / "demo-2024" / "questionnaire.yml")
    a = agreement(draft_sav, ref)
    assert len(a) == len(ref) and a["draft_id"].notna().all()
    assert a["agree"].mean() >= 0.95, a.loc[~a["agree"]]
    assert differing_without_todo(a) == []
    q = loads(draft_sav, tmp_path)
    # SPSS variable names give the ids, option codes (funding_sources_9) and row ids
    assert q["funding_sources"].other == 9 and q["eval_opinion"].type == "likert"
    assert q["cast_services"].type == "matrix" and q["pain"].k == 3
    assert {x.id: x.pii_kind for x in q.pii_questions} == {"name": "name", "phone": "phone",
                                                            "email": "email"}
    # user-missing codes: 98/99 are the wave default, -1 on the numbers
    assert q.default_missing == {98: "不知道", 99: "拒答"}
    assert q["research_share"].missing == {-1: "拒答"} and q["hours"].missing == {}
    # skip logic from the blanks
    assert {x.id: x.ask_if for x in q if x.ask_if} == {x.id: x.ask_if for x in ref if x.ask_if}


@needs_demo
def test_demo_sav_draft_reads_its_export(draft_sav, tmp_path):
    q = loads(draft_sav, tmp_path)
    r = read_export(next((DEMO / "demo-2024").glob("*.sav")), q, salt="t", unmapped="error")
    assert r.report.unmapped == [] and len(r.report.absent) == 0
    assert set(r.pii.columns) >= {"name", "phone", "email"}


@needs_demo
def test_demo_wjx_pair_draft_reproduces_the_questionnaire(draft_pair, demo_code_xlsx, tmp_path):
    ref = Questionnaire.load(ROOT / "questionnaires" / "demo-2023" / "questionnaire.yml")
    a = agreement(draft_pair, ref)
    assert len(a) == len(ref) and a["draft_id"].notna().all()
    assert a["agree"].mean() >= 0.95, a.loc[~a["agree"]]
    assert differing_without_todo(a) == []
    q = loads(draft_pair, tmp_path)
    by_text = {x.text: x for x in q}
    assert by_text["您2022年的个人税前年收入"].options == ref["income"].options   # 98/99 are missing codes
    assert by_text["您单程上班通勤大约需要多长时间？"].type == "duration"       # 按文本 "X分Y秒"
    assert by_text["您进入现单位工作的时间（年/月/日）"].type == "date"
    # skip logic from 问卷星's (跳过) markers, written with the draft's ids
    ids = {x.text: x.id for x in q}
    expect = {ids[ref[x.id].text]: x.ask_if for x in ref if x.ask_if}
    for rid in ("has_project", "leave_intent"):
        expect = {k: v.replace(rid, ids[ref[rid].text]) for k, v in expect.items()}
    assert {x.id: x.ask_if for x in q if x.ask_if} == expect


@needs_demo
@pytest.mark.slow
def test_demo_wjx_pair_draft_reads_its_export(draft_pair, demo_code_xlsx, tmp_path):
    r = read_export(demo_code_xlsx, loads(draft_pair, tmp_path), salt="t", unmapped="error")
    assert r.report.unmapped == [] and len(r.report.absent) == 0


@needs_demo
@pytest.mark.slow
def test_demo_code_export_alone_marks_every_difference(demo_code_xlsx, tmp_path):
    """Without the 按文本 export labels are unknown: agreement is low, but every gap is a TODO."""
    d = draft_codebook(demo_code_xlsx)
    ref = Questionnaire.load(ROOT / "questionnaires" / "demo-2023" / "questionnaire.yml")
    a = agreement(d, ref)
    assert differing_without_todo(a) == []
    assert a["pii_ok"].all()
    loads(d, tmp_path)


# ---------------------------------------------------------------------------------------------
# 问卷星 header layouts (small files written with openpyxl)
# ---------------------------------------------------------------------------------------------
CODE_HEAD = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "总分",
             "1、您的性别", "2、您的职称", "2、(其他（请补充）:)",
             "3、您了解哪些措施？（可多选）(甲措施)", "3(乙措施)", "3(其他（请注明）)", "3、(其他（请补充）:)",
             "4、请排序（最多两项）(收入)", "4(住房)", "4(子女)",
             "5、您对以下方面的满意程度—收入", "工作环境", "科研条件",
             "6、您是否使用过以下服务？—学会", "培训",
             "7、每周工作多少小时？", "8、您的建议", "9、您的姓名", "10、联系电话", "11、手机号码",
             "12、身份证号", "13、电子邮箱", "14、家庭住址", "15、您的年龄"]
SAT = {1: "非常不满意", 2: "不太满意", 3: "一般", 4: "比较满意", 5: "非常满意"}
USE = {1: "使用过", 2: "知道但未使用", 3: "不知道"}


def _code_rows(n: int = 40, seed: int = 1) -> list[list]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        title = int(rng.choice([1, 2, 3, 9, 98]))
        m = rng.integers(0, 2, 3)
        ranks = [-2, -2, -2]
        for r, j in enumerate(rng.permutation(3)[: int(rng.integers(1, 3))]):
            ranks[j] = r + 1
        rows.append([i + 1, f"2024/05/{1 + i % 20:02d} 10:00:00", f"{300 + i}秒", "微信", "", f"198.18.0.{i + 1}", 0,
                     int(rng.integers(1, 3)), title, "兼职" if title == 9 else None,
                     int(m[0]), int(m[1]), int(m[2]), "自填" if m[2] else None,
                     *ranks, *[int(rng.integers(1, 6)) for _ in range(3)],
                     *[int(rng.integers(1, 4)) for _ in range(2)],
                     float(rng.integers(30, 70)) + 0.5 * (i % 2), f"建议{i}号：多一些经费" if i % 3 else None,
                     f"张{i}", f"0755-{8000000 + i}", f"1380000{i:04d}", None, f"u{i}@example.com",
                     f"某路{i}号", int(rng.integers(22, 60))])
    return rows


def _text_rows(code: list[list]) -> tuple[list[str], list[list]]:
    head = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "总分", "1、您的性别", "2、您的职称",
            "3、您了解哪些措施？（可多选）", "4、请排序（最多两项）",
            "5、您对以下方面的满意程度—收入", "5、工作环境", "5、科研条件",      # numbered 按文本 rows
            "6、您是否使用过以下服务？—学会", "6、培训",
            "7、每周工作多少小时？", "8、您的建议", "9、您的姓名", "10、联系电话", "11、手机号码",
            "12、身份证号", "13、电子邮箱", "14、家庭住址", "15、您的年龄"]
    titles = {1: "正高", 2: "副高", 3: "中级", 9: "其他", 98: "不知道"}
    out = []
    for r in code:
        multi = "┋".join(lab if lab != "其他（请注明）" or not r[13] else f"{lab}〖{r[13]}〗"
                         for lab, v in zip(["甲措施", "乙措施", "其他（请注明）"], r[10:13]) if v == 1) or "(空)"
        rank = "→".join(lab for _, lab in sorted((v, lab) for v, lab in zip(r[14:17], ["收入", "住房", "子女"])
                                                  if v > 0))
        title = titles[r[8]] + (f"〖{r[9]}〗" if r[9] else "")
        out.append(r[:7] + [{1: "男", 2: "女"}[r[7]], title, multi, rank,
                            *[SAT[v] for v in r[17:20]], *[USE[v] for v in r[20:22]], *r[22:]])
    return head, out


@pytest.fixture(scope="module")
def wjx_pair(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("wjx")
    code = _code_rows()
    head, text = _text_rows(code)
    rng = np.random.default_rng(5)
    text = [text[i] for i in rng.permutation(len(text))]   # 按文本 rows in another order: paired by 序号
    return (xlsx(tmp / "1_按序号_测试问卷_40_40.xlsx", [CODE_HEAD] + code),
            xlsx(tmp / "1_按文本_测试问卷_40_40.xlsx", [head] + text))


def test_wjx_pair_headers_types_and_options(wjx_pair, tmp_path):
    d = draft_codebook(*wjx_pair[:1], text_export=wjx_pair[1])
    q = loads(d, tmp_path)
    assert yaml.safe_load(d.text) == d.to_dict()      # the text is the structured draft + comments
    assert [x.id for x in q] == [f"q{i}" for i in range(1, 16)]
    assert d.meta == {"序号": "rid", "提交答卷时间": "submitted_at", "所用时间": "duration_s",
                      "来源": "source", "来源详情": "source_detail", "来自IP": "ip", "总分": "total_score"}
    assert q["q1"].type == "single" and q["q1"].options == {1: "男", 2: "女"}
    assert q["q2"].options == {1: "正高", 2: "副高", 3: "中级", 9: "其他"} and q["q2"].other == 9
    assert q["q2"].missing == {98: "不知道", 99: "拒答"}
    assert q["q3"].type == "multi" and q["q3"].options == {1: "甲措施", 2: "乙措施", 9: "其他（请注明）"}
    assert q["q3"].other == 9          # the single-choice convention of this export (其他 = 9)
    assert q["q4"].type == "rank" and q["q4"].k == 2 and list(q["q4"].options.values()) == ["收入", "住房", "子女"]
    assert q["q5"].type == "likert" and q["q5"].scale == SAT
    assert list(q["q5"].rows.values()) == ["收入", "工作环境", "科研条件"]
    assert q["q6"].type == "matrix" and q["q6"].scale == USE     # unordered categories
    assert q["q7"].type == "numeric" and q["q7"].unit == "小时" and not q["q7"].integer
    assert q["q8"].type == "text" and not q["q8"].pii
    assert {x.id: x.pii_kind for x in q.pii_questions} == {
        "q9": "name", "q10": "phone", "q11": "phone", "q12": "id_number", "q13": "email", "q14": "other"}
    assert q["q15"].type == "numeric" and q["q15"].integer
    assert q.wave["fieldwork"] == {"start": pd.Timestamp("2024-05-01").date(),
                                   "end": pd.Timestamp("2024-05-20").date()}
    # every guess says so
    todo = d.todo.groupby("question")["reason"].apply(list).to_dict()
    assert any("按列顺序" in r for r in todo["q3"]) and any("惯例" in r for r in todo["q3"])
    assert "q1" not in todo and "q5" not in todo
    # the draft reads the code export it came from
    r = read_export(wjx_pair[0], q, salt="t", unmapped="error")
    assert r.report.unmapped == [] and len(r.report.absent) == 0
    assert r.data["q1"].notna().all()


def test_wjx_code_export_alone_guesses_and_says_so(wjx_pair, tmp_path):
    d = draft_codebook(wjx_pair[0])
    q = loads(d, tmp_path)
    todo = d.todo.groupby("question")["reason"].apply(list).to_dict()
    assert q["q1"].type == "single" and q["q1"].options == {1: "选项1", 2: "选项2"} and "q1" in todo
    assert q["q2"].options == {1: "选项1", 2: "选项2", 3: "选项3", 9: "选项9"}
    assert q["q2"].missing == {98: "不知道", 99: "拒答"} and q["q2"].other == 9
    assert q["q5"].type == "matrix" and "q5" in todo       # no labels: likert cannot be told
    assert q["q15"].type == "numeric" and "q15" in todo    # integers: could be codes


def test_wjx_text_export_alone(wjx_pair, tmp_path):
    d = draft_codebook(wjx_pair[1])
    q = loads(d, tmp_path)
    todo = d.todo.groupby("question")["reason"].apply(list).to_dict()
    assert q["q1"].type == "single" and set(q["q1"].options.values()) == {"男", "女"} and "q1" in todo
    assert q["q8"].type == "text" and q["q13"].pii_kind == "email"


def test_pair_that_does_not_match_is_refused(wjx_pair, tmp_path):
    head, text = _text_rows(_code_rows(10, seed=3))
    other = xlsx(tmp_path / "2_按文本_x_10_10.xlsx", [head] + [[r[0] + 1000] + r[1:] for r in text])
    with pytest.raises(ReadError, match="序号"):
        draft_codebook(wjx_pair[0], text_export=other)


def test_repeated_matrices_old_style_multi_and_skips(tmp_path):
    rows = [["序号", "1、第一组—甲", "乙", "2、第二组—甲", "乙", "第3题(苹果)", "第3题(香蕉)",
             "4、您目前主持的项目有几项？", "5、是否有项目？"]]
    for i in range(30):
        has = i % 3 != 0
        rows.append([i + 1, 1 + i % 4, 2, 3, 1 + i % 2, i % 2, 1 - i % 2,
                     (1 + i % 5) if has else "(跳过)", 1 if has else 2])
    d = draft_codebook(xlsx(tmp_path / "9_按序号_t_30_30.xlsx", rows))
    q = loads(d, tmp_path)
    assert [x.type for x in q] == ["matrix", "matrix", "multi", "numeric", "single"]
    assert list(q["q1"].rows.values()) == ["甲", "乙"] and list(q["q2"].rows.values()) == ["甲", "乙"]
    assert q["q3"].options == {1: "苹果", 2: "香蕉"}
    assert q["q4"].unit == "项" and q["q4"].integer
    assert q["q4"].ask_if is None          # its filter (q5) comes after it: no skip rule


def test_phone_numbers_stored_as_numbers_are_pii_text(tmp_path):
    rows = [["1、您的手机号码", "2、请留下联系方式以便回访", "3、您是否愿意接受电话回访？"]]
    rows += [[13800000000 + i, f"139{i:08d}", 1 + i % 2] for i in range(20)]
    q = loads(draft_codebook(xlsx(tmp_path / "a.xlsx", rows)), tmp_path)
    assert (q["q1"].type, q["q1"].pii_kind) == ("text", "phone")
    assert (q["q2"].type, q["q2"].pii_kind) == ("text", "phone")
    assert q["q3"].type == "single" and not q["q3"].pii      # a choice mentioning 电话 is no PII


def test_pii_found_by_values_is_a_todo(tmp_path):
    rows = [["1、备用信息"]] + [[f"u{i}@example.org"] for i in range(20)]
    d = draft_codebook(xlsx(tmp_path / "b.xlsx", rows))
    assert d.questions[0].pii_kind == "email" and d.questions[0].todo


# ---------------------------------------------------------------------------------------------
# SPSS / CSV
# ---------------------------------------------------------------------------------------------
def test_wjx_style_sav_with_q_names(tmp_path):
    df = pd.DataFrame({"Q1": [1.0, 2, 1, 2, 98], "Q2_1": [1.0, 0, 1, 0, 1], "Q2_2": [0.0, 1, 1, 0, 0],
                       "Q3_1": [1.0, 2, 3, 1, 2], "Q3_2": [2.0, 1, 1, 3, 4], "Q4": ["甲", "", "乙", "丙", ""]})
    p = tmp_path / "x.sav"
    pyreadstat.write_sav(df, str(p), column_labels=[
        "1、您的性别", "2、您读过哪些？(报纸)", "2、您读过哪些？(杂志)", "3、满意度—收入", "3、满意度—住房",
        "4、您的姓名"],
        variable_value_labels={"Q1": {1.0: "男", 2.0: "女", 98.0: "不知道"},
                               "Q2_1": {0.0: "未选", 1.0: "选中"}, "Q2_2": {0.0: "未选", 1.0: "选中"},
                               "Q3_1": {1.0: "很不满意", 2.0: "不满意", 3.0: "一般", 4.0: "满意"},
                               "Q3_2": {1.0: "很不满意", 2.0: "不满意", 3.0: "一般", 4.0: "满意"}},
        missing_ranges={"Q1": [98.0]})
    d = draft_codebook(p)
    q = loads(d, tmp_path)
    assert [(x.id, x.type) for x in q] == [("q1", "single"), ("q2", "multi"), ("q3", "likert"), ("q4", "text")]
    assert q["q1"].options == {1: "男", 2: "女"} and q["q1"].missing == {98: "不知道"}
    assert q["q2"].options == {1: "报纸", 2: "杂志"} and q["q3"].scale[4] == "满意"
    assert q["q4"].pii_kind == "name"


def test_csv_code_export_gbk(tmp_path):
    p = tmp_path / "7_按序号_t_3_3.csv"
    with open(p, "w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["序号", "1、您的邮箱", "2、您每周工作多少小时？"])
        for i in range(5):
            w.writerow([i + 1, f"a{i}@example.com", 40 + i])
    q = loads(draft_codebook(p), tmp_path)
    assert q["q1"].pii_kind == "email" and q["q2"].type == "numeric"


def test_unreadable_inputs(tmp_path):
    with pytest.raises(ReadError, match="not found"):
        draft_codebook(tmp_path / "nope.xlsx")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ReadError, match="unknown file type"):
        draft_codebook(tmp_path / "a.txt")
    with pytest.raises(ReadError, match="no answers"):
        draft_codebook(xlsx(tmp_path / "h.xlsx", [["序号", "1、您的性别"]]))


# ---------------------------------------------------------------------------------------------
# labels with YAML-special characters survive the round trip
# ---------------------------------------------------------------------------------------------
_label = st.text(alphabet=st.sampled_from(list("甲乙丙:#- '\"{}[]&*!|>%@`,?yesnoNULLtrue0123")),
                 min_size=1, max_size=8).map(lambda s: " ".join(s.split())).filter(
    lambda s: s and not s.startswith(("(", "（")) and s not in ("空", "跳过", "nan", "NaN", "None")
    and not s.replace(".", "").replace("-", "").replace("+", "").replace("e", "").isdigit())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(_label, min_size=2, max_size=4, unique=True), title=_label)
def test_labels_round_trip_through_yaml(tmp_path, labels, title):
    d0 = Path(tempfile.mkdtemp(dir=tmp_path))  # a fresh folder per example (hypothesis replays)
    code = [["序号", f"1、{title}"]] + [[i + 1, 1 + i % len(labels)] for i in range(2 * len(labels))]
    text = [["序号", f"1、{title}"]] + [[i + 1, labels[i % len(labels)]] for i in range(2 * len(labels))]
    d = draft_codebook(xlsx(d0 / "1_按序号_t.xlsx", code), text_export=xlsx(d0 / "1_按文本_t.xlsx", text))
    q = loads(d, d0)
    assert q["q1"].text == title.strip()
    if q["q1"].type == "single":
        assert list(q["q1"].options.values()) == labels
    shutil.rmtree(d0)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def test_cli_codebook(wjx_pair, tmp_path, capsys):
    out = tmp_path / "wave" / "questionnaire.yml"
    assert main(["codebook", str(wjx_pair[0]), "--text", str(wjx_pair[1]), "-o", str(out)]) == 0
    assert "with TODO" in capsys.readouterr().err
    assert Questionnaire.load(out)["q1"].options == {1: "男", 2: "女"}
    assert main(["codebook", str(wjx_pair[0]), "-o", str(out)]) == 2        # no silent overwrite
    assert "--force" in capsys.readouterr().err
    assert main(["codebook", str(wjx_pair[0]), "-o", str(out), "--force"]) == 0
    assert main(["codebook", str(wjx_pair[0])]) == 0       # finds the 按文本 file beside it
    cap = capsys.readouterr()
    assert "按文本" in cap.err
    assert yaml.safe_load(cap.out)["questions"][0]["options"] == {1: "男", 2: "女"}


def test_agreement_reports_each_part():
    ref = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": "tel", "text": "电话", "type": "text", "pii": True, "pii_kind": "phone"},
        {"id": "gone", "text": "不在草稿里", "type": "numeric"}]})
    dq = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "q1", "text": "您的 性别", "type": "single", "options": {1: "男", 2: "女性"}},
        {"id": "q2", "text": "电话", "type": "text"}]})
    a = agreement(dq, ref).set_index("question")
    assert a.loc["sex", "type_ok"] and not a.loc["sex", "options_ok"]
    assert a.loc["tel", "options_ok"] and not a.loc["tel", "pii_ok"]
    assert pd.isna(a.loc["gone", "draft_id"]) and not a["agree"].any()


def test_rich_text_headers_and_line_breaks(tmp_path):
    rows = [["1、您的<b>性别</b>\n（单选）", "2、以下说法—<span style='x'>工作\n压力大</span>", "收入低"]]
    rows += [[1 + i % 2, 1 + i % 5, 5 - i % 5] for i in range(20)]
    p = xlsx(tmp_path / "1_按序号_t_20_20.xlsx", rows)
    q = loads(draft_codebook(p), tmp_path)
    assert q["q1"].text == "您的性别 （单选）" and list(q["q2"].rows.values()) == ["工作 压力大", "收入低"]
    r = read_export(p, q, salt="t", unmapped="error")          # still matches the raw headers
    assert r.report.unmapped == []
