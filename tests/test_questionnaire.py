"""Tests for survey.questionnaire: loading, validation messages, columns/labels, ask_if."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from survey.errors import QuestionnaireError
from survey.questionnaire import DesignSpec, Questionnaire

MINI = Path(__file__).parent / "fixtures" / "mini" / "questionnaire.yml"


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return Questionnaire.load(MINI)


def raw() -> dict:
    return yaml.safe_load(MINI.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "questionnaire.yml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def test_load_basics(q):
    assert q.id == "mini" and q.title == "迷你测试问卷"
    assert [x.id for x in q.questions][:3] == ["station", "stratum", "sex"]
    assert q["q7"].type == "multi" and q["q7"].max_choices == 3
    assert q.design == DesignSpec(psu="station", strata="stratum", groups=("sex", "title"),
                                  weighting=("sex", "age_group", "title"))
    assert len(q.hash) == 64 and q.hash == Questionnaire.load(MINI).hash
    assert "mini" in repr(q) and "PII" in repr(q)
    assert "q7" in repr(q["q7"])
    assert str(q.wave["fieldwork"]["start"]) == "2024-05-06"
    assert Questionnaire.load(MINI.parent).id == "mini"  # a wave folder works too


def test_columns_and_labels(q):
    assert q.columns("sex") == ["sex"]
    assert q.columns("title") == ["title", "title_other"]
    assert q.columns("q7") == ["q7_1", "q7_2", "q7_3", "q7_4", "q7_9", "q7_other"]
    assert q.columns("q8") == ["q8_1", "q8_2", "q8_3", "q8_4"]
    assert q.columns("q10") == ["q10_r1", "q10_r2", "q10_r3"]
    assert q.labels("sex") == {1: "男", 2: "女", 98: "不知道", 99: "拒答"}
    assert q.labels("q10")[5] == "非常同意" and q.labels("q10")[98] == "不知道"
    assert q.missing_codes("sex") == {98: "不知道", 99: "拒答"}
    assert q.missing_codes("hours") == {}
    assert q.missing_codes("q7") == {}
    assert [x.id for x in q.pii_questions] == ["name", "phone", "id_number", "email"]
    assert "phone" not in q.columns() and "q7_1" in q.columns()
    assert q.owner("q9_r2") == "q9" and q.owner("rid") is None
    assert q["q10"].reversed == ("r3",) and q["q10"].sensitive == "health"
    assert q.summary().shape[0] == len(q)


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d["questions"].append(copy.deepcopy(d["questions"][2])), ["'sex'", "twice", "unique"]),
    (lambda d: d["questions"][2].update(options={1: "男", "1": "女"}), ["'sex'", "code 1", "used twice"]),
    (lambda d: d["questions"][2].update(options={1: "男", 2: "男"}), ["'sex'", "label", "unique"]),
    (lambda d: d["questions"][11].update(ask_if="q99 == 1"), ["'q12'", "unknown question 'q99'"]),
    (lambda d: d["questions"][10].update(ask_if="q12 == 'x'"), ["'q11'", "not asked before"]),
    (lambda d: d["questions"][2].update(max_choices=2), ["'sex'", "max_choices", "multi"]),
    (lambda d: d["questions"][5].update(options={1: "a"}), ["'hours'", "options", "single/multi/rank"]),
    (lambda d: d["questions"][8].update(k=2), ["'q9'", "'k'", "rank"]),
    (lambda d: d["questions"][2].update(type="choice"), ["'sex'", "type 'choice'"]),
    (lambda d: d["questions"][2].update(id="Sex"), ["'Sex'", "[a-z]"]),
    (lambda d: d["questions"][6].update(other=7), ["'q7'", "other: 7"]),
    (lambda d: d["questions"][7].update(k=9), ["'q8'", "k 9"]),
    (lambda d: d["questions"][9].update(reversed=["r9"]), ["'q10'", "reversed", "r9"]),
    (lambda d: d["questions"][5].update(missing_codes={98: "不知道"}), ["'hours'", "inside the valid range"]),
    (lambda d: d["questions"][11].update(ask_if="__import__('os').system('x')"), ["'q12'", "not allowed"]),
    (lambda d: d["questions"][11].update(ask_if="q11.__class__ == 1"), ["'q12'", "not allowed"]),
    (lambda d: d["questions"][11].update(ask_if="q11 ==="), ["'q12'", "cannot parse"]),
    (lambda d: d["questions"][11].update(ask_if="1 == q11"), ["'q12'", "question op value"]),
    (lambda d: d["questions"][11].update(ask_if="q11 == sex"), ["'q12'", "literal"]),
    (lambda d: d["questions"][11].update(ask_if="len(q11) > 1"), ["'q12'", "Call"]),
    (lambda d: d["questions"][16].update(pii_kind="phone", pii=False), ["'phone'", "pii: true"]),
    (lambda d: d["design"].update(psu="nosuch"), ["design.psu", "nosuch"]),
    (lambda d: d["design"].update(weighting=["hours"]), ["design.weighting", "hours", "single"]),
    (lambda d: d["wave"].update(mode="phone"), ["wave.mode"]),
    (lambda d: d.update(extra_key=1), ["extra_key"]),
    (lambda d: d["questions"][8].update(rows={"r1": "收入", "r2": "收入"}), ["'q9'", "row text"]),
])
def test_validation_errors_name_file_question_and_fix(tmp_path, mutate, words):
    d = raw()
    mutate(d)
    p = write(tmp_path, d)
    with pytest.raises(QuestionnaireError) as e:
        Questionnaire.load(p)
    msg = str(e.value)
    assert str(p) in msg
    for w in words:
        assert w in msg, msg


def test_column_collision_and_reserved(tmp_path):
    d = raw()
    d["questions"].append({"id": "q7_1", "text": "x", "type": "text"})
    with pytest.raises(QuestionnaireError, match="collides"):
        Questionnaire.load(write(tmp_path, d))
    d = raw()
    d["questions"].append({"id": "source", "text": "x", "type": "text"})
    with pytest.raises(QuestionnaireError, match="reserved"):
        Questionnaire.load(write(tmp_path, d))


def test_wave_level_empty_missing_codes(tmp_path):
    """`missing_codes: {}` means "none" at wave level, as it already did on a question."""
    d = raw()
    d["missing_codes"] = {}
    q = Questionnaire.load(write(tmp_path, d))
    assert q.missing_codes("sex") == {} and 99 not in q.labels("sex")
    d["missing_codes"] = {97: "不适用"}
    q = Questionnaire.load(write(tmp_path, d))
    assert q.missing_codes("sex") == {97: "不适用"} and q.missing_codes("title") == {97: "不适用"}


def test_bad_files(tmp_path):
    with pytest.raises(QuestionnaireError, match="not found"):
        Questionnaire.load(tmp_path / "nope.yml")
    p = tmp_path / "q.yml"
    p.write_text("wave: {id: x\nquestions: [", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="not valid YAML"):
        Questionnaire.load(p)
    p.write_bytes("wave: {id: 测试}".encode("gbk"))
    with pytest.raises(QuestionnaireError, match="UTF-8"):
        Questionnaire.load(p)
    p.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="mapping"):
        Questionnaire.load(p)


def test_getitem_unknown(q):
    with pytest.raises(QuestionnaireError, match="no question 'q77'"):
        q["q77"]
    with pytest.raises(KeyError if False else ValueError):
        q["zzz"]


def _frame(q):
    return pd.DataFrame({
        "q11": pd.Categorical(["是", "否", None, "是", "拒答"], categories=list(q.labels("q11").values())),
        "q7_9": pd.array([True, False, True, pd.NA, True], dtype="boolean"),
        "q7_1": pd.array([False, True, True, pd.NA, False], dtype="boolean"),
        "hours": [50.0, 30.0, np.nan, 70.0, 40.0],
        "sex": pd.Categorical(["男", "女", "男", "女", None], categories=list(q.labels("sex").values())),
        "q9_r1": pd.array([1, 5, pd.NA, 3, 98], dtype="Int64"),
    })


def test_evaluate_ask_if(q):
    f = _frame(q)
    assert q.evaluate_ask_if("q12", f).tolist() == [True, False, False, True, False]
    assert q.evaluate_ask_if("sex", f).all()
    d = raw()
    extra = [
        ("a1", "q7.9"), ("a2", "q7_9 and not q7_1"), ("a3", "hours >= 40 and hours < 60"),
        ("a4", "sex in ['男']"), ("a5", "q11 not in [1, 99]"), ("a6", "q9_r1 > 2 or q11 == '否'"),
        ("a7", "not (hours > 45)"), ("a8", "q11 != 1"),
    ]
    for qid, expr in extra:
        d["questions"].append({"id": qid, "text": qid, "type": "text", "ask_if": expr})
    qq = Questionnaire.from_dict(d)
    got = {qid: qq.evaluate_ask_if(qid, f).tolist() for qid, _ in extra}
    assert got["a1"] == [True, False, True, False, True]
    assert got["a2"] == [True, False, False, False, True]
    assert got["a3"] == [True, False, False, False, True]
    assert got["a4"] == [True, False, True, False, False]
    assert got["a5"] == [False, True, False, False, False]
    assert got["a6"] == [False, True, False, True, True]
    # a missing answer makes the comparison false, so `not` of it is true
    assert got["a7"] == [False, True, True, False, True]
    assert got["a8"] == [False, True, False, False, True]


def test_evaluate_ask_if_missing_column(q):
    with pytest.raises(QuestionnaireError, match="lacks"):
        q.evaluate_ask_if("q12", pd.DataFrame({"x": [1]}))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([1, 2, 98, 99, None]), min_size=1, max_size=30),
       st.sampled_from([1, 2, 98]), st.sampled_from(["==", "!=", "<", ">="]))
def test_ask_if_matches_manual_comparison(codes, lit, op):
    q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "a", "text": "A", "type": "single", "options": {1: "是", 2: "否"}},
        {"id": "b", "text": "B", "type": "text", "ask_if": f"a {op} {lit}"}]})
    labs = q.labels("a")
    f = pd.DataFrame({"a": pd.Categorical([labs[c] if c else None for c in codes],
                                          categories=list(labs.values()))})
    fn = {"==": lambda x: x == lit, "!=": lambda x: x != lit, "<": lambda x: x < lit,
          ">=": lambda x: x >= lit}[op]
    want = [c is not None and fn(c) for c in codes]
    assert q.evaluate_ask_if("b", f).tolist() == want
