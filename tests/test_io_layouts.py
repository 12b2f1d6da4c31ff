"""Every export layout, read back cell for cell against the answers it was made from.

The files are written by tests/fixtures/make_layout_exports.py with openpyxl / csv / pyreadstat
directly (never by survey's own writers): 问卷星 按序号 and 按文本 (numbered ``N、行k`` and bare
matrix sub-rows, old ``第N题(选项)`` headers, ASCII and full-width ``(跳过)``/``(空)``), 腾讯问卷,
and Stata .dta, as .xlsx and CSV (UTF-8 with BOM and GB18030).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey import read_export
from survey.errors import SchemaMismatchError, ReadWarning
from survey.questionnaire import Questionnaire

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import make_layout_exports as mk  # noqa: E402

SALT = "layout-test"


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return Questionnaire.from_dict(mk.QUESTIONNAIRE)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return mk.write_all(tmp_path_factory.mktemp("layouts"))


def cells(s: pd.Series) -> list:
    """Python values, None for NA (categoricals as labels, nullable ints/bools as int/bool)."""
    out = []
    for v in s.astype(object).tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, (np.bool_, bool)):
            out.append(bool(v))
        elif isinstance(v, (np.integer,)):
            out.append(int(v))
        elif isinstance(v, np.floating):
            out.append(float(v))
        else:
            out.append(v)
    return out


@pytest.mark.parametrize("name", list(mk.EXPORTS))
def test_layout_reads_cell_for_cell(q, files, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadWarning)  # nothing may be left unplaced
        r = read_export(files[name], q, salt=SALT)
    rep = r.report
    assert rep.unmapped == [] and rep.absent == [] and rep.partial == {}, str(rep)
    exp = mk.expected_frame()
    assert set(q.columns()) == set(exp) - {"rid"}
    assert cells(r.data["rid"]) == exp["rid"]
    for col in q.columns():
        assert cells(r.data[col]) == exp[col], f"{name}: column {col}"
    # why each NA (or missing code) is there: skipped vs blank vs refused / dont_know
    got = set(map(tuple, r.missing[["rid", "question", "column", "reason"]].to_numpy().tolist()))
    assert got == mk.expected_missing(), (
        f"{name}: extra {sorted(got - mk.expected_missing())}, "
        f"lacking {sorted(mk.expected_missing() - got)}")
    # the report's per-question counts (respondents with an NA cell) agree with the answers
    sat_na = [any(exp[f"sat_{r}"][i] is None for r in mk.ROWS) for i in range(len(mk.ANSWERS))]
    assert rep.missing["sat"] == sum(sat_na) == 2
    assert rep.missing["project_hours"] == exp["project_hours"].count(None) == 5
    kind = mk.EXPORTS[name]["kind"]
    assert rep.layout == {"dta": "code", "tencent": "tencent"}.get(
        kind, mk.EXPORTS[name].get("layout")), rep.layout
    if kind != "dta":
        want = [pd.Timestamp(a["submitted"]) for a in mk.ANSWERS]
        assert r.data["submitted_at"].tolist() == want
        assert r.data["duration_s"].tolist() == [float(a["duration"]) for a in mk.ANSWERS]
        assert r.data["ip_hash"].notna().all()
        assert not any("192.0.2." in str(v) for v in r.data.to_numpy().ravel())


# ---------------------------------------------------------------------------------------------
# columns the reader cannot place
# ---------------------------------------------------------------------------------------------
def _with_renamed_row(files, tmp_path, name: str) -> Path:
    """The 按文本 export with its 2nd matrix sub-row header mistyped (``6、收入``), written by
    the csv module from the same rows."""
    import csv
    rows = mk.rows_of(mk.EXPORTS["wjx_text_numbered_csv_gb18030"])
    j = rows[0].index("6、收入水平")
    rows[0][j] = "6、收入"
    if name == "barriers":
        k = rows[0].index("4、您在科研工作中遇到的主要困难")
        rows = [r[:k] + r[k + 1:] for r in rows]
    p = tmp_path / "wjx_text_mistyped.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
    return p


def test_unplaced_column_is_listed_and_never_counts_as_zero_missing(q, files, tmp_path):
    p = _with_renamed_row(files, tmp_path, "sat")
    with pytest.warns(ReadWarning, match="6、收入"):
        r = read_export(p, q, salt=SALT)
    rep = r.report
    assert rep.unmapped == ["6、收入"]
    assert rep.partial == {"sat": ["sat_r2"]}
    assert r.data["sat_r2"].isna().all()
    # every respondent lacks sat_r2, so the question is missing for all of them (not "0")
    assert rep.missing["sat"] == len(mk.ANSWERS)
    text = str(rep)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("sat "))
    assert f"{len(mk.ANSWERS)}" in line and "100.0%" in line and "not in the export" in line
    assert "6、收入" in text and "question 6 (sat)" in text
    # the other columns of the file still read cell for cell
    exp = mk.expected_frame()
    for col in q.columns():
        if col != "sat_r2":
            assert cells(r.data[col]) == exp[col], col


def test_partial_multi_select_is_not_filled_with_false(q, tmp_path):
    """A 0/1 option column missing from the export is unknown (NA), not "not chosen"."""
    import csv
    rows = mk.rows_of(mk.EXPORTS["wjx_code_numbered_csv_utf8sig"])
    k = rows[0].index("4(设备落后)")
    rows = [r[:k] + r[k + 1:] for r in rows]
    p = tmp_path / "wjx_code_lacking_option.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
    r = read_export(p, q, salt=SALT)
    assert r.report.partial == {"barriers": ["barriers_3"]}
    assert r.data["barriers_3"].isna().all()
    assert r.report.missing["barriers"] == len(mk.ANSWERS)
    exp = mk.expected_frame()
    assert cells(r.data["barriers_1"]) == exp["barriers_1"]


def test_inspect_lists_unplaced_columns(q, files, tmp_path, capsys):
    import yaml
    from survey.cli import main
    p = _with_renamed_row(files, tmp_path, "sat")
    qf = tmp_path / "questionnaire.yml"
    qf.write_text(yaml.safe_dump(mk.QUESTIONNAIRE, allow_unicode=True), encoding="utf-8")
    assert main(["inspect", str(p), "-q", str(qf)]) == 0
    out = capsys.readouterr().out
    assert "unmapped columns (1): 6、收入" in out
    assert "6、收入: numbered like question 6 (sat), which has no row '收入'" in out
    assert "sat: columns not in the export: sat_r2" in out
    assert not any(ln.split()[:2] == ["sat", "0"] for ln in out.splitlines())


# ---------------------------------------------------------------------------------------------
# any answers, every layout
# ---------------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_HAN = st.text(alphabet="科研经费人才培养合作交流希望增加减少表格会议", min_size=1, max_size=6)


@st.composite
def respondent(draw) -> dict:
    blank = st.just(mk.BLANK)
    a = {"sex": draw(st.sampled_from([1, 2]) | blank),
         "age": draw(st.integers(18, 80) | blank),
         "title": draw(st.sampled_from([1, 2, 3, 4, 98, 99]) | blank
                       | st.tuples(st.just(5), _HAN | st.none())),
         "sat": draw(st.lists(st.sampled_from([1, 2, 3, 4, 5, 98, 99]) | blank,
                              min_size=5, max_size=5)),
         "has_project": draw(st.sampled_from([1, 2]) | blank),
         "suggestion": draw(_HAN | blank),
         "duration": draw(st.integers(1, 20000))}
    chosen = draw(st.lists(st.sampled_from([1, 2, 3, 4, 9]), min_size=1, max_size=5, unique=True))
    a["barriers"] = draw(blank | st.just((sorted(chosen), draw(_HAN)) if 9 in chosen
                                         else sorted(chosen)))
    a["priority"] = draw(blank | st.permutations([1, 2, 3, 4]).map(lambda p: list(p[:3])))
    a["project_hours"] = (draw(st.integers(0, 1000).map(lambda x: x / 10) | blank)
                          if a["has_project"] == 1 else mk.SKIP)
    return a


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(answers=st.lists(respondent(), min_size=1, max_size=6),
       name=st.sampled_from(sorted(mk.EXPORTS)))
def test_any_answers_round_trip(q, tmp_path_factory, answers, name):
    answers = mk.with_metadata(answers)
    p = mk.write_one(name, tmp_path_factory.mktemp("prop"), answers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)  # e.g. "most questions absent" never
        r = read_export(p, q, salt=SALT)
    assert r.report.unmapped == [] and r.report.partial == {}
    exp = mk.expected_frame(answers)
    for col in q.columns():
        assert cells(r.data[col]) == exp[col], f"{name}: {col}"
    got = set(map(tuple, r.missing[["rid", "question", "column", "reason"]].to_numpy().tolist()))
    assert got == mk.expected_missing(answers), name


def test_split_header_numbers_every_question_column(q):
    """split_header (for codebook drafting) finds each question's number in every layout."""
    from survey.io import split_header
    for name, spec in mk.EXPORTS.items():
        if spec["kind"] not in ("wjx", "tencent"):
            continue
        r_head = mk.rows_of(spec)[0]
        numbered = [h for h in r_head if split_header(h) is not None]
        bare = [h for h in r_head if split_header(h) is None]
        # only metadata, bare matrix sub-rows and the 腾讯问卷 trailing column lack a number
        assert set(bare) <= set(mk._TX_META_BEFORE + mk._TX_META_AFTER + mk._TX_EN_BEFORE
                                + mk._TX_EN_AFTER + ["序号", "提交答卷时间", "所用时间", "来源",
                                                     "来源详情", "来自IP", ""]
                                + list(mk.ROWS.values())), name
        for h in numbered:
            parts = split_header(h)
            assert 1 <= parts.number <= len(q.questions), h
            qu = q.questions[parts.number - 1]
            if parts.form == "option":
                assert parts.sub in list(qu.options.values()) + list(qu.rows.values()), h
            if parts.form == "row":
                assert parts.stem == qu.text and parts.sub in qu.rows.values(), h


def test_export_saying_blank_is_not_overruled_by_ask_if(q, tmp_path):
    """ask_if turns *empty* cells into skips; an explicit (空) / -1 stays 'blank'."""
    import csv
    for layout, token in (("wjx_text_numbered_csv_gb18030", "（空）"),
                          ("wjx_code_numbered_csv_utf8sig", "-1")):
        spec = mk.EXPORTS[layout]
        rows = mk.rows_of(spec)
        j = rows[0].index("8、您每周用于项目的时间（小时）")
        i = 1 + [a["rid"] for a in mk.ANSWERS].index("103")   # has_project == 2: not asked
        rows[i][j] = token
        rows[i + 1][j] = ""                                   # 104: empty cell → skipped
        p = tmp_path / f"{layout}.csv"
        with open(p, "w", encoding=spec["encoding"], newline="") as fh:
            csv.writer(fh).writerows([["" if v is None else v for v in r] for r in rows])
        m = read_export(p, q, salt=SALT).missing.set_index(["rid", "column"])["reason"]
        assert m[("103", "project_hours")] == "blank", layout
        assert m[("104", "project_hours")] == "skipped", layout


def test_numbered_sub_rows_of_two_matrices_with_the_same_rows(tmp_path):
    """``N、行k`` is placed by its number, so repeated row labels cannot mix two matrices."""
    import openpyxl
    rows4 = {"r1": "工作环境", "r2": "收入水平", "r3": "职业发展", "r4": "工作强度"}
    scale = {1: "差", 2: "中", 3: "好"}
    q2 = Questionnaire.from_dict({"wave": {"id": "m2"}, "questions": [
        {"id": "a", "text": "对单位的评价", "type": "matrix", "rows": rows4, "scale": scale},
        {"id": "b", "text": "对学会的评价", "type": "matrix", "rows": rows4, "scale": scale}]})
    head = ["序号", "1、对单位的评价—工作环境", "1、收入水平", "1、职业发展", "1、工作强度",
            "2、对学会的评价—工作环境", "2、收入水平", "2、职业发展", "2、工作强度"]
    body = [[1, "好", "中", "差", "好", "差", "差", "中", "(跳过)"],
            [2, "中", "(空)", "好", "好", "好", "中", "中", "差"]]
    wb = openpyxl.Workbook()
    for r in [head] + body:
        wb.active.append(r)
    p = tmp_path / "1_按文本_m2_2_2.xlsx"
    wb.save(p)
    r = read_export(p, q2, salt=SALT)
    assert r.report.unmapped == [] and r.report.partial == {}
    got = [[cells(r.data[f"{qid}_{k}"])[i] for qid in "ab" for k in rows4] for i in range(2)]
    assert got == [[3, 2, 1, 3, 1, 1, 2, None], [2, None, 3, 3, 3, 2, 2, 1]]
    m = r.missing.set_index(["rid", "column"])["reason"]
    assert m[("1", "b_r4")] == "skipped" and m[("2", "a_r2")] == "blank"


def test_question_with_only_its_other_column_is_not_zero_missing(q, tmp_path):
    p = tmp_path / "own_names.csv"
    p.write_text("rid,sex,title_other,age\n1,男,研究员,40\n2,女,,35\n", encoding="utf-8")
    with pytest.warns(ReadWarning, match="not in the export"):
        r = read_export(p, q, salt=SALT, min_match=0.1)
    assert r.report.partial["title"] == ["title"]
    assert r.report.missing["title"] == 2 and r.report.missing["sex"] == 0


def test_repeated_question_header_is_not_taken_for_its_other_box(tmp_path):
    """A stem mentioning 其他, exported twice, must not turn the copy into the "other" text."""
    q2 = Questionnaire.from_dict({"wave": {"id": "d"}, "questions": [
        {"id": "src", "text": "您的其他收入来源", "type": "single",
         "options": {1: "兼职", 2: "投资", 3: "其他"}, "other": 3}]})
    p = tmp_path / "dup.csv"
    p.write_text("序号,1、您的其他收入来源,1、您的其他收入来源\n1,兼职,兼职\n2,其他〖稿费〗,x\n",
                 encoding="utf-8-sig")
    # a copy with different answers is refused (issue #13: never resolved silently) ...
    with pytest.raises(SchemaMismatchError, match="both '1、您的其他收入来源'.*line 3"):
        read_export(p, q2, salt=SALT)
    # ... an identical copy is ignored and logged; neither way is it read as the other text
    p.write_text("序号,1、您的其他收入来源,1、您的其他收入来源\n1,兼职,兼职\n2,其他〖稿费〗,其他〖稿费〗\n",
                 encoding="utf-8-sig")
    r = read_export(p, q2, salt=SALT)
    assert r.report.unmapped == []
    assert (r.log["rule"] == "duplicate_column").sum() == 1
    assert r.data["src_other"].tolist()[1] == "稿费" and pd.isna(r.data["src_other"].iloc[0])
