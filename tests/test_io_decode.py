"""Tests for survey.io.decode (decoders keyed by question type) and survey.io.missing (the one
vocabulary of missing reasons).  Exports are written with the csv module, not our writers."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import read_export
from survey.errors import ReadError, ReadWarning
from survey.io import decode
from survey.io._cells import Col
from survey.io.decode import DECODERS, Decoded, decoder, values_to_decode
from survey.io.missing import REASONS, reason_for_label
from survey.questionnaire import QUESTION_TYPES, Questionnaire

SALT = "test-salt"

# one question of every type
ALL_TYPES = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"},
     "missing_codes": {8: "不清楚", 9: "拒答"}},
    {"id": "aims", "text": "您的目标", "type": "multi", "options": {1: "经费", 2: "人才"}},
    {"id": "top", "text": "请排序", "type": "rank", "options": {1: "甲", 2: "乙"}},
    {"id": "mat", "text": "满意度", "type": "matrix", "scale": {1: "低", 2: "高"},
     "rows": {"a": "工资", "b": "环境"}},
    {"id": "lik", "text": "同意程度", "type": "likert",
     "scale": {1: "不同意", 2: "一般", 3: "同意"}, "rows": {"x": "甲项"}},
    {"id": "hours", "text": "每周工作小时", "type": "numeric", "missing_codes": {}},
    {"id": "note", "text": "您的建议", "type": "text"},
    {"id": "day", "text": "入职日期", "type": "date"},
    {"id": "took", "text": "通勤时长", "type": "duration"},
]})

HEADER = ["序号", "1、您的性别", "2、您的目标", "3、请排序", "4、满意度—工资", "4、满意度—环境",
          "5、同意程度—甲项", "6、每周工作小时", "7、您的建议", "8、入职日期", "9、通勤时长"]
ROWS = [
    [1, "男", "经费┋人才", "乙→甲", "高", "低", "同意", "40", "多些经费", "2020-05-06", "1小时"],
    [2, "不清楚", "(跳过)", "甲→乙", "(空)", "低", "一般", "abc", "", "(跳过)", "5分"],
    [3, "女", "经费", "", "低", "高", "不同意", "(跳过)", "无", "2019-01-02", "2分3秒"],
]


def _write(path: Path, header: list, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows([header] + rows)
    return path


def _read(path: Path):
    with pytest.warns(ReadWarning, match=r"unrecognised values set to NA in hours \(1 cells\)"):
        return read_export(path, ALL_TYPES, salt=SALT)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return _write(tmp_path / "all_types.csv", HEADER, ROWS)


def test_every_question_type_has_exactly_one_decoder():
    assert sorted(DECODERS) == sorted(QUESTION_TYPES)
    assert all(callable(d.func) for d in DECODERS.values())


def test_registering_a_type_twice_is_refused():
    with pytest.raises(ValueError, match="'numeric' already has a decoder"):
        @decoder("numeric")
        def _again(src):  # pragma: no cover - never called
            raise AssertionError
    assert DECODERS["numeric"].func.__name__ == "_numeric"


def test_a_type_without_decoder_gives_a_clear_error(export, monkeypatch):
    monkeypatch.delitem(DECODERS, "duration")
    with pytest.raises(ReadError) as e:
        read_export(export, ALL_TYPES, salt=SALT)
    msg = str(e.value)
    assert "all_types.csv" in msg and "'took'" in msg and "'duration'" in msg
    assert "@decoder('duration')" in msg and "survey/io/decode.py" in msg


def test_the_reader_decodes_through_the_registry(export, monkeypatch):
    """Replacing one type's decoder changes that type only: the registry is the dispatch."""
    seen = []

    def shout(src: decode.Source) -> Decoded:
        seen.append(src.qu.id)
        c = src.column(src.value)
        v = np.array([str(u).upper() for u in c.uniq], dtype=object)
        return Decoded({src.qu.id: pd.Series(c.take(v, None), index=src.idx, dtype="str")},
                       rows_missing=0)

    monkeypatch.setitem(DECODERS, "text", decode.Decoder(shout, True))
    res = _read(export)
    assert seen == ["note"]
    assert res.data["note"].tolist()[0] == "多些经费"  # scrubbed text passes through unchanged
    assert res.data["hours"].tolist()[0] == 40.0


def test_all_types_decoded_and_reasons_from_the_vocabulary(export):
    res = _read(export)
    d = res.data
    assert d["sex"].tolist()[::2] == ["男", "女"]
    assert d["aims_1"].tolist() == [True, pd.NA, True]
    assert d["aims_2"].tolist() == [True, pd.NA, False]
    assert d["top_2"].tolist() == [1, 2, pd.NA] and d["top_1"].tolist() == [2, 1, pd.NA]
    assert d["mat_a"].tolist()[0] == 2 and pd.isna(d["mat_a"].tolist()[1])
    assert d["hours"].tolist()[0] == 40.0 and d["hours"].isna().tolist()[1:] == [True, True]
    assert d["took"].tolist() == [3600.0, 300.0, 123.0]
    assert set(res.missing["reason"]) <= set(REASONS)
    by = res.missing.set_index(["rid", "column"])["reason"]
    assert by[("2", "hours")] == "invalid" and by[("3", "hours")] == "skipped"
    assert by[("2", "mat_a")] == "blank"


def test_a_missing_code_labelled_buqingchu_is_dont_know(export):
    """不清楚 is a "don't know" label for the reader as for the cleaner (one vocabulary)."""
    res = _read(export)
    m = res.missing
    assert m.loc[(m["rid"] == "2") & (m["question"] == "sex"), "reason"].tolist() == ["dont_know"]
    assert reason_for_label("不清楚") == "dont_know"


def test_quality_page_labels_are_the_vocabulary():
    from survey.report.content.quality import REASON_LABELS
    assert {k: REASONS[k] for k in REASON_LABELS} == REASON_LABELS


def test_prelude_gives_empty_values_their_reason_once():
    col = Col(np.array(["(跳过)", "1", None, "(空)", "1", " ", "跳过"], dtype=object))
    reason, todo = values_to_decode(col)
    assert [u for _, u in todo] == ["1"]
    assert sorted(r for r in reason if r) == ["blank", "blank", "skipped", "skipped"]
