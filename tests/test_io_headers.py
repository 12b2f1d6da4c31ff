"""A declared question wins over a platform metadata field of the same name.

问卷星 / 腾讯问卷 exports carry metadata columns (``province``, ``city``, ``ip``, ``duration``,
地理位置省, 来自IP, …: survey.io.headers.META_HEADERS).  A questionnaire may ask a question
whose id is one of those names (the national demo's region question was ``province``); an
export that names its columns by question id (SPSS/Stata/CSV, as the demo writes them) then
holds a column ``province`` that is the *answer*, and may also hold the platform's own
IP-location column.  The files here are written with the csv module and pyreadstat directly,
never with the package's writers; all respondents and addresses are synthetic (192.0.2.0/24).
"""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import read_export
from survey.errors import ReadWarning
from survey.questionnaire import Questionnaire

SALT = "headers-test"
PROVINCES = {1: "北京市", 2: "上海市", 3: "广东省"}
# the question's answers (codes) and the platform's IP location, deliberately different
ANSWER = [1, 3, 2, 3]
IP_PLACE = ["广东", "北京", "北京", "上海"]


def _q(extra: list[dict] | None = None) -> Questionnaire:
    return Questionnaire.from_dict({"wave": {"id": "hdr-2024"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": "province", "text": "您的工作单位所在省（自治区、直辖市）", "type": "single",
         "options": PROVINCES},
        {"id": "hours", "text": "您平均每周工作多少小时", "type": "numeric"},
        *(extra or [])]})


def _csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
    return path


def _sav(path: Path, cols: dict[str, list], labels: dict[str, dict]) -> Path:
    import pyreadstat
    pyreadstat.write_sav(pd.DataFrame(cols), str(path), variable_value_labels=labels)
    return path


def _read(path: Path, q: Questionnaire):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadWarning)  # no question may go missing, no column left
        return read_export(path, q, salt=SALT)


def _labels(codes: list[int]) -> list[str]:
    return [PROVINCES[c] for c in codes]


def _collisions(r) -> pd.DataFrame:
    return r.log[r.log["rule"] == "metadata_name"]


# ---- only the question ------------------------------------------------------------------------
def test_sav_with_question_named_like_metadata_reads_the_question(tmp_path):
    """The national demo's SPSS export: variables named by question id, ``province`` among them."""
    p = _sav(tmp_path / "national.sav",
             {"rid": ["1", "2", "3", "4"], "sex": [1, 2, 2, 1], "province": ANSWER,
              "hours": [40.0, 52.0, np.nan, 47.5]},
             {"sex": {1: "男", 2: "女"}, "province": PROVINCES})
    r = _read(p, _q())
    assert r.data["province"].astype(object).tolist() == _labels(ANSWER)
    assert r.report.mapped["province"] == "province"
    assert r.report.absent == [] and "province" not in r.report.metadata
    assert _collisions(r).empty  # nothing of the platform's was there to collide


@pytest.mark.parametrize("qid,question,values,expected", [
    ("province", {"type": "single", "text": "所在省份", "options": PROVINCES},
     ["1", "3"], ["北京市", "广东省"]),
    ("city", {"type": "single", "text": "所在城市", "options": {1: "广州市", 2: "深圳市"}},
     ["2", "1"], ["深圳市", "广州市"]),
    ("ip", {"type": "single", "text": "您是否拥有知识产权（IP）", "options": {1: "是", 2: "否"}},
     ["1", "2"], ["是", "否"]),
    ("duration", {"type": "numeric", "text": "您在本单位工作的年限"}, ["7", "12.5"], [7.0, 12.5]),
])
def test_csv_own_names_question_wins_over_metadata_name(tmp_path, qid, question, values,
                                                        expected):
    q = Questionnaire.from_dict({"wave": {"id": "hdr"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": qid, **question}]})
    p = _csv(tmp_path / f"{qid}.csv", [["rid", "sex", qid], ["a1", "1", values[0]],
                                       ["a2", "2", values[1]]])
    r = _read(p, q)
    assert r.data[qid].astype(object).tolist() == expected
    assert r.report.mapped[qid] == qid
    assert qid not in r.pii.columns and "ip_hash" not in r.data.columns


# ---- the question and the platform's IP-location column -----------------------------------------
@pytest.mark.parametrize("platform_first", [False, True])
def test_sav_question_and_platform_ip_location(tmp_path, platform_first):
    cols = {"rid": ["1", "2", "3", "4"], "sex": [1, 2, 2, 1], "province": ANSWER,
            "hours": [40.0, 52.0, 38.0, 47.5]}
    place = {"地理位置省": IP_PLACE}
    cols = {**place, **cols} if platform_first else {**cols, **place}
    p = _sav(tmp_path / "both.sav", cols, {"sex": {1: "男", 2: "女"}, "province": PROVINCES})
    r = _read(p, _q())
    assert r.data["province"].astype(object).tolist() == _labels(ANSWER)
    assert r.report.mapped["province"] == "province"
    assert r.report.mapped["地理位置省"] == "<province>"
    assert "地理位置省" in r.report.metadata
    # the platform's location never reaches the answer; the clash is logged once, by column
    assert not set(IP_PLACE) & set(r.data["province"].astype(object))
    log = _collisions(r)
    assert log["column"].tolist() == ["地理位置省"] and log["question"].tolist() == ["province"]
    assert log["action"].tolist() == ["flag"]


def test_tencent_csv_question_and_platform_province(tmp_path):
    """腾讯问卷 (English metadata names, DOMAIN.md): the platform's ``province``/``city``
    IP-location columns before the questions, the question ``province`` under its text header."""
    head = ["respondent_id", "started_at", "ended_at", "duration", "province", "city",
            "1.您的性别", "2.您的工作单位所在省（自治区、直辖市）", "3.您平均每周工作多少小时", "ip", "ua", ""]
    rows = [head]
    for i, (code, place) in enumerate(zip(ANSWER, IP_PLACE)):
        rows.append([f"t{i}", "2024-05-07 09:00:00", "2024-05-07 09:05:00", 300 + i, place, place,
                     "男" if i % 2 else "女", PROVINCES[code], 40 + i, f"192.0.2.{i + 1}",
                     "Mozilla/5.0 (synthetic)", ""])
    r = _read(_csv(tmp_path / "tencent.csv", rows), _q())
    assert r.data["province"].astype(object).tolist() == _labels(ANSWER)
    assert r.report.mapped["province"] == "<province>"
    assert r.data["duration_s"].tolist() == [300.0, 301.0, 302.0, 303.0]
    log = _collisions(r)
    assert log["column"].tolist() == ["province"] and log["question"].tolist() == ["province"]
    assert "2.您的工作单位所在省" in log["detail"].iloc[0]


def test_duplicate_header_platform_column_first_then_question(tmp_path):
    """A CSV with two ``province`` columns: the platform's (metadata, before the questions) and
    the question's own (named by id): the later one is the answer, the first the metadata."""
    rows = [["rid", "province", "sex", "province", "hours"]]
    for i, (code, place) in enumerate(zip(ANSWER, IP_PLACE)):
        rows.append([f"a{i}", place, str(1 + i % 2), str(code), str(40 + i)])
    r = _read(_csv(tmp_path / "dup.csv", rows), _q())
    assert r.data["province"].astype(object).tolist() == _labels(ANSWER)
    assert r.missing[r.missing["question"] == "province"].empty
    assert _collisions(r)["column"].tolist() == ["province"]


def test_pii_question_keeps_its_name_platform_field_renamed(tmp_path):
    """A PII question named like a platform PII field (``nickname`` / 昵称): both are kept in
    ``.pii``, the platform's under a distinct name, and the clash is logged."""
    q = _q([{"id": "nickname", "text": "您的称呼", "type": "text", "pii": True,
             "pii_kind": "name"}])
    head = ["rid", "昵称", "sex", "province", "hours", "nickname"]
    rows = [head, ["a1", "微信用户甲", "1", "1", "40", "张三"], ["a2", "微信用户乙", "2", "3", "45", "李四"]]
    r = _read(_csv(tmp_path / "nick.csv", rows), q)
    assert r.pii["nickname"].tolist() == ["张三", "李四"]
    assert r.pii["platform_nickname"].tolist() == ["微信用户甲", "微信用户乙"]
    assert "nickname" not in r.data.columns
    log = _collisions(r)
    assert log["column"].tolist() == ["昵称"] and "platform_nickname" in log["detail"].iloc[0]
