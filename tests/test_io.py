"""Tests for survey.io: round trips through every writer, real-layout quirks, malformed input."""
from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from survey import read_export, read_responses, write_sav, write_wjx
from survey.errors import (EncodingError, QuestionnaireError, ReadError, ReadWarning,
                           SchemaMismatchError)
from survey.io import parse_duration, wjx_filename
from survey.privacy import scrub_text
from survey.questionnaire import Questionnaire

HERE = Path(__file__).parent
MINI = HERE / "fixtures" / "mini"
sys.path.insert(0, str(MINI))
from make_fixtures import make_frame  # noqa: E402
from sheets import write_rows  # noqa: E402  (tests/ helper)

SALT = "test-salt"
TEXT_COLS = ("title_other", "q7_other", "q12", "suggestion")


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return Questionnaire.load(MINI / "questionnaire.yml")


@pytest.fixture(scope="module")
def frame(q) -> pd.DataFrame:
    return make_frame(40, 1, q)


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    e = frame.copy()
    for c in TEXT_COLS:
        e[c] = scrub_text(e[c])
    return e


def assert_same(data: pd.DataFrame, frame: pd.DataFrame, q: Questionnaire) -> None:
    e = expected(frame)
    assert list(data["rid"]) == list(frame["rid"])
    for c in q.columns():
        a, b = data[c].reset_index(drop=True), e[c].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(b.dtype):
            a, b = a.astype("datetime64[ns]"), b.astype("datetime64[ns]")
        pd.testing.assert_series_equal(a, b, check_names=False, obj=c)
    pd.testing.assert_series_equal(data["submitted_at"].astype("datetime64[ns]"),
                                   frame["submitted_at"].astype("datetime64[ns]"), check_names=False)
    assert (data["duration_s"] == frame["duration_s"]).all()


@pytest.mark.parametrize("layout", ["code", "text"])
def test_roundtrip_wjx(tmp_path, q, frame, layout):
    p = write_wjx(frame, q, tmp_path / wjx_filename(q, layout, len(frame)), layout=layout)
    r = read_export(p, q, salt=SALT)
    assert r.report.layout == layout
    assert r.report.unmapped == [] and r.report.absent == []
    assert len(r.data) == len(frame)
    assert_same(r.data, frame, q)
    # multi-select sets and ranks explicitly
    assert r.data.loc[5, ["q7_1", "q7_2", "q7_3", "q7_4", "q7_9"]].isna().all()
    assert r.data.loc[7, ["q8_1", "q8_2", "q8_3", "q8_4"]].isna().all()
    # skip logic recorded as 'skipped', blank as 'blank', 98 as dont_know
    m = r.missing
    skipped_q12 = set(m.loc[(m.question == "q12") & (m.reason == "skipped"), "rid"])
    assert skipped_q12 == set(frame.loc[frame.q11 == "否", "rid"])
    assert (m.loc[m.reason == "dont_know", "value"] == "98").all() or layout == "text"
    assert set(m.columns) == {"rid", "question", "column", "reason", "value"}


@pytest.mark.parametrize("name, encoding", [("x.sav", "utf-8"), ("x.zsav", "utf-8"),
                                            ("x_gbk.sav", "gbk"), ("x_gb18030.sav", "gb18030")])
def test_roundtrip_sav(tmp_path, q, frame, name, encoding):
    p = write_sav(frame, q, tmp_path / name, encoding=encoding)
    df, meta = pyreadstat.read_sav(str(p), user_missing=True)
    assert meta.variable_value_labels["sex"][1.0] == "男"
    assert meta.column_names_to_labels["sex"].endswith("您的性别")
    if encoding == "utf-8":
        assert meta.missing_ranges["title"][0]["lo"] == 98.0
    r = read_export(p, q, salt=SALT)
    assert r.report.unmapped == [] and r.report.absent == []
    assert_same(r.data, frame, q)
    assert r.data["title"].tolist().count("不知道") == (frame["title"] == "不知道").sum()


def test_committed_fixtures_read(q, frame):
    files = sorted(MINI.glob("*.xlsx")) + sorted(MINI.glob("*.sav")) + sorted(MINI.glob("*.csv"))
    assert len(files) == 6
    for f in files:
        r = read_export(f, q, salt=SALT)
        assert_same(r.data, frame, q)
    enc = {f.name: read_export(f, q, salt=SALT).report.encoding for f in files}
    assert enc["mini_text_gbk.csv"] in ("gbk", "gb18030")
    assert enc["mini_text_utf8sig.csv"] == "utf-8-sig"
    assert enc["mini_gbk.sav"].upper() == "GBK"


def test_stata_dta(tmp_path, q, frame):
    cols = ["rid", "sex", "hours", "q7_1", "q7_2", "q7_3", "q7_4", "q7_9", "q11"]
    df = pd.DataFrame({"rid": frame["rid"].astype(object),
                       "sex": frame["sex"].cat.codes.map({0: 1, 1: 2}).astype(float),
                       "hours": frame["hours"]})
    for c in cols[3:8]:
        df[c] = frame[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    df["q11"] = frame["q11"].map({"是": 1, "否": 2}).astype(float)
    p = tmp_path / "x.dta"
    pyreadstat.write_dta(df, str(p))
    with pytest.warns(ReadWarning):  # most questions absent is fine, but we say so
        r = read_export(p, q, salt=SALT, min_match=0.2)
    assert r.data["sex"].tolist() == frame["sex"].tolist()
    assert r.data["q7_9"].tolist() == frame["q7_9"].tolist()
    assert "q12" in r.report.absent


# ---------------------------------------------------------------------------------------------
# hand-made exports in real 问卷星 shapes the writer does not produce
# ---------------------------------------------------------------------------------------------
TWO_MATRIX = {"wave": {"id": "m"}, "questions": [
    {"id": "a", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
    {"id": "b", "text": "您对单位的评价", "type": "matrix", "rows": {"r1": "收入", "r2": "环境"},
     "scale": {1: "差", 2: "中", 3: "好"}},
    {"id": "c", "text": "您对学会的评价", "type": "matrix", "rows": {"r1": "收入", "r2": "环境"},
     "scale": {1: "差", 2: "中", 3: "好"}},
    {"id": "d", "text": "您遇到的困难", "type": "multi", "options": {1: "经费", 2: "时间", 3: "其他"},
     "other": 3},
    {"id": "e", "text": "最急需解决的问题", "type": "rank", "k": 2,
     "options": {1: "收入", 2: "住房", 3: "子女"}},
    {"id": "f", "text": "您的职称", "type": "single", "options": {1: "正高", 2: "其他"}, "other": 2},
]}


_xlsx = write_rows  # openpyxl directly, shared with the other reader tests


def test_real_code_layout_quirks(tmp_path):
    q = Questionnaire.from_dict(TWO_MATRIX)
    rows = [
        ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "总分", "1、您的性别",
         "2、您对单位的评价—收入", "环境", "3、您对学会的评价—收入", "环境",
         "4、您遇到的困难(经费)", "第4题(时间)", "4(其他)", "4、(其他（请补充）:)",
         "5、最急需解决的问题(收入)", "5(住房)", "5(子女)", "6、您的职称", "6、(其他（请补充）:)"],
        [1, "2024/05/07 10:11:12", "2分3秒", "微信", "https://x", "36.112.3.4(北京-北京)", 0,
         1, 3, 2, 1, 1, 1, 0, 1, "外语 13911112222", 2, 1, -2, 2, "研究员"],
        [2, "2024/05/07 11:00:00", "75秒", "手机提交", "", "36.112.3.5(北京-北京)", 0,
         2, -3, -3, 2, 3, -3, -3, -3, None, -2, -2, 1, 1, None],
    ]
    p = _xlsx(tmp_path / "9_按序号_x_2_2.xlsx", rows)
    r = read_export(p, q, salt=SALT)
    d = r.data
    assert r.report.layout == "code"
    assert r.report.unmapped == [] and "总分" in r.report.metadata and "总分" not in d
    assert d["rid"].tolist() == ["1", "2"]
    assert d["duration_s"].tolist() == [123.0, 75.0]
    assert d["submitted_at"].iloc[0] == pd.Timestamp("2024-05-07 10:11:12")
    assert d[["b_r1", "b_r2", "c_r1", "c_r2"]].iloc[0].tolist() == [3, 2, 1, 1]
    assert d[["b_r1", "b_r2"]].iloc[1].isna().all()
    assert d[["d_1", "d_2", "d_3"]].iloc[0].tolist() == [True, False, True]
    assert d[["d_1", "d_2", "d_3"]].iloc[1].isna().all()
    assert d["d_other"].iloc[0] == "外语 ［已删除］"
    assert d[["e_1", "e_2"]].iloc[0].tolist() == [2, 1] and pd.isna(d["e_3"].iloc[0])
    assert d["e_3"].iloc[1] == 1
    assert d["f"].tolist() == ["其他", "正高"] and d["f_other"].iloc[0] == "研究员"
    assert "36.112.3.4" not in d.to_string() and d["ip_hash"].notna().all()
    assert r.pii["ip"].iloc[0].startswith("36.112.3.4")
    m = r.missing
    assert set(m.loc[m.question == "b", "reason"]) == {"skipped"}


def test_real_text_layout_quirks_and_pandas_mangled_headers(tmp_path):
    q = Questionnaire.from_dict(TWO_MATRIX)
    header = ["序号", "所用时间", "1、您的性别", "2、您对单位的评价—收入", "环境",
              "3、您对学会的评价—收入", "环境.1", "4、您遇到的困难", "5、最急需解决的问题", "6、您的职称"]
    rows = [header,
            [1, "1小时2分", "男", "好", "中", "差", "差", "经费┋其他〖外语〗", "住房→收入", "其他〖研究员〗"],
            [2, "59秒", "女", "(跳过)", "(跳过)", "中", "好", "(跳过)", "(空)", "(空)"],
            [3, 30, "(空)", "好", "好", "好", "好", "时间", "子女", "正高"]]
    p = _xlsx(tmp_path / "export.xlsx", rows)
    r = read_export(p, q, salt=SALT)
    d = r.data
    assert r.report.layout == "text" and not r.report.unmapped
    assert d["duration_s"].tolist() == [3720.0, 59.0, 30.0]
    assert d["a"].tolist()[:2] == ["男", "女"] and pd.isna(d["a"].iloc[2])
    assert d["c_r2"].tolist() == [1, 3, 3]
    assert d[["d_1", "d_2", "d_3"]].iloc[0].tolist() == [True, False, True]
    assert d["d_other"].iloc[0] == "外语"
    assert d[["e_1", "e_2"]].iloc[0].tolist() == [2, 1]
    assert d[["e_1", "e_2", "e_3"]].iloc[1].isna().all()
    assert d["f"].tolist() == ["其他", None, "正高"] or d["f"].isna().iloc[1]
    assert d["f_other"].iloc[0] == "研究员"
    reasons = r.missing.set_index(["rid", "question", "column"])["reason"]
    assert reasons[("2", "b", "b_r1")] == "skipped"
    assert reasons[("2", "e", "e")] == "blank"
    assert reasons[("3", "a", "a")] == "blank"


def test_source_mapping_and_created_rid(tmp_path):
    d = {"wave": {"id": "s"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"},
         "source": ["Q1_性别"]},
        {"id": "age", "text": "年龄", "type": "numeric", "range": [18, 80], "source": ["AGE"]}]}
    q = Questionnaire.from_dict(d)
    p = tmp_path / "x.csv"
    p.write_text("Q1_性别,AGE\n1,30\n女,abc\n", encoding="utf-8")
    with pytest.warns(ReadWarning, match="unrecognised"):
        r = read_export(p, q, salt=SALT)
    assert r.data["rid"].tolist() == ["r1", "r2"] and r.report.rid_created
    assert r.data["sex"].tolist() == ["男", "女"]
    assert r.data["age"].iloc[0] == 30.0 and np.isnan(r.data["age"].iloc[1])
    assert r.report.invalid == {"age": 1}
    inv = r.missing[r.missing.reason == "invalid"]
    assert inv["value"].tolist() == ["abc"]


def test_wjx_spss_style_names(tmp_path, q, frame):
    """问卷星's own SPSS download: variables Q1, Q7_1 ... with N、题干 labels."""
    df = pd.DataFrame({"Q3": frame["sex"].map({"男": 1, "女": 2}).astype(float),
                       "Q6": frame["hours"]})
    for k, c in enumerate([1, 2, 3, 4, 9], start=1):
        df[f"Q7_{k}"] = frame[f"q7_{c}"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    p = tmp_path / "wjx.sav"
    pyreadstat.write_sav(df, str(p))  # no labels: fall back to question positions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = read_export(p, q, salt=SALT, min_match=0.1)
    assert r.data["sex"].tolist() == frame["sex"].tolist()
    assert r.data["q7_9"].tolist() == frame["q7_9"].tolist()
    labels = ["3、您的性别", "6、您平均每周工作多少小时"] + [
        f"7、{q['q7'].text}({lab})" for lab in q["q7"].options.values()]
    df2 = df.rename(columns=dict(zip(df.columns, [f"V{i}" for i in range(len(df.columns))])))
    pyreadstat.write_sav(df2, str(p), column_labels=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = read_export(p, q, salt=SALT, min_match=0.1)
    assert r.data["sex"].tolist() == frame["sex"].tolist()
    assert r.data["q7_2"].tolist() == frame["q7_2"].tolist()


def test_parse_duration():
    assert parse_duration("123秒") == 123
    assert parse_duration("2分3秒") == 123
    assert parse_duration("1小时0分5秒") == 3605
    assert parse_duration(42) == 42
    assert parse_duration("00:01:01") == 61
    assert parse_duration("abc") is None


# ---------------------------------------------------------------------------------------------
# malformed input: every one is a clear ReadError/SchemaMismatchError/EncodingError
# ---------------------------------------------------------------------------------------------
def test_truncated_files(tmp_path, q):
    for f in ("100000_按序号_迷你测试问卷_40_40.xlsx", "mini_utf8.sav", "mini_gbk.sav"):
        data = (MINI / f).read_bytes()
        p = tmp_path / f
        p.write_bytes(data[: len(data) // 2])
        with pytest.raises(ReadError) as e:
            read_export(p, q, salt=SALT)
        assert f in str(e.value)
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        read_export(p, q)


def test_invalid_sav_header(tmp_path, q):
    p = tmp_path / "wjx.sav"
    p.write_bytes(b"$FL2" + b"\x00" * 300)
    with pytest.raises(ReadError, match="re-export|Re-export"):
        read_export(p, q)


def test_wrong_encoding(tmp_path, q):
    p = tmp_path / "x.csv"
    p.write_bytes("序号,3、您的性别\n1,男\n".encode("utf-8") + b"\x81\x20\xff\xfe\n")
    with pytest.raises(EncodingError, match="GBK"):
        read_export(p, q)
    p.write_bytes("序号,3、您的性别\n1,男\n".encode("gbk"))
    with pytest.raises(EncodingError):
        read_export(p, q, encoding="utf-8")


def test_gbk_csv_not_misread_as_utf8(tmp_path, q, frame):
    p = tmp_path / "g.csv"
    shutil.copy(MINI / "mini_text_gbk.csv", p)
    r = read_export(p, q, salt=SALT)
    assert r.data["sex"].tolist() == frame["sex"].tolist()


def test_header_not_in_questionnaire(tmp_path, q, frame):
    p = write_wjx(frame, q, tmp_path / "x.xlsx", layout="text")
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    ws.cell(row=1, column=ws.max_column + 1, value="99、您最喜欢的颜色")
    wb.save(p)
    with pytest.raises(SchemaMismatchError, match="您最喜欢的颜色"):
        read_export(p, q, unmapped="error")
    with pytest.warns(ReadWarning, match="您最喜欢的颜色"):
        r = read_export(p, q, salt=SALT)
    assert r.report.unmapped == ["99、您最喜欢的颜色"]
    with pytest.raises(ReadError, match="unmapped="):
        read_export(p, q, unmapped="maybe")


def test_export_of_another_questionnaire(tmp_path, q):
    other = Questionnaire.from_dict(TWO_MATRIX)
    f = pd.DataFrame({"a": pd.Categorical(["男"], categories=list(other.labels("a").values())),
                      "b_r1": pd.array([1], dtype="Int64"), "b_r2": pd.array([2], dtype="Int64"),
                      "c_r1": pd.array([1], dtype="Int64"), "c_r2": pd.array([2], dtype="Int64")})
    p = write_wjx(f, other, tmp_path / "other.xlsx")
    with pytest.raises(SchemaMismatchError, match="another questionnaire"):
        read_export(p, q)


def test_duplicate_question_ids(tmp_path, frame):
    text = (MINI / "questionnaire.yml").read_text(encoding="utf-8")
    bad = tmp_path / "questionnaire.yml"
    bad.write_text(text + "  - {id: sex, text: 重复, type: text}\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="'sex'.*twice"):
        read_export(MINI / "mini_utf8.sav", bad)


def test_unknown_extension_and_missing_file(tmp_path, q):
    with pytest.raises(ReadError, match="not found"):
        read_export(tmp_path / "none.xlsx", q)
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(ReadError, match="unknown file type"):
        read_export(p, q)
    p = tmp_path / "x.xls"
    p.write_text("x")
    with pytest.raises(ReadError, match=r"\.xlsx"):
        read_export(p, q)
    p = tmp_path / "notzip.xlsx"
    p.write_text("hello")
    with pytest.raises(ReadError, match="not a readable .xlsx"):
        read_export(p, q)


def test_duplicate_rid_creates_new_ids(tmp_path):
    q = Questionnaire.from_dict({"wave": {"id": "d"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    p = tmp_path / "d.csv"
    p.write_text("序号,1、您的性别\n1,男\n1,女\n", encoding="utf-8")
    with pytest.warns(ReadWarning, match="repeated"):
        r = read_export(p, q, salt=SALT)
    assert r.data["rid"].is_unique and len(r.data) == 2


# ---------------------------------------------------------------------------------------------
# property tests: garbage cells never crash a reader; row count in == row count out
# ---------------------------------------------------------------------------------------------
GARBAGE = st.one_of(
    st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["(跳过)", "(空)", "-3", "-2", "98", "┋", "→", "〖", "其他〖〗",
                                           "男┋女", "2分", "1e400", "2024/13/45 99:99:99"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(GARBAGE, min_size=14, max_size=14), min_size=1, max_size=8))
def test_garbage_cells_xlsx(tmp_path_factory, rows):
    q = Questionnaire.from_dict(TWO_MATRIX)
    header = ["序号", "所用时间", "提交答卷时间", "1、您的性别", "2、您对单位的评价—收入", "环境",
              "3、您对学会的评价—收入", "环境", "4、您遇到的困难(经费)", "4(时间)", "4(其他)",
              "5、最急需解决的问题", "6、您的职称", "6、(其他（请补充）:)"]
    clean = [[(v if not isinstance(v, str) else "".join(ch for ch in v if ch.isprintable()))
              for v in r] for r in rows]
    clean = [[(None if isinstance(v, float) and not np.isfinite(v) else v) for v in r] for r in clean]
    p = _xlsx(tmp_path_factory.mktemp("g") / "g.xlsx", [header] + clean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = read_export(p, q, salt=SALT)
        except ReadError:
            return
    n = len(clean)
    while n and all(v is None or (isinstance(v, str) and not v.strip()) for v in clean[n - 1]):
        n -= 1  # fully blank trailing rows are not respondents
    assert len(r.data) == n
    assert r.data["rid"].is_unique
    assert set(r.data["a"].dropna()) <= set(q.labels("a").values())
    assert r.data["b_r1"].dropna().isin(list(q.labels("b"))).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=8), min_size=4, max_size=4), min_size=0, max_size=8),
       st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_garbage_cells_csv(tmp_path_factory, rows, enc):
    import csv
    import io
    q = Questionnaire.from_dict(TWO_MATRIX)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["序号", "1、您的性别", "4、您遇到的困难", "5、最急需解决的问题"])
    w.writerows(rows)
    p = tmp_path_factory.mktemp("c") / "g.csv"
    try:
        p.write_bytes(buf.getvalue().encode(enc))
    except UnicodeEncodeError:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = read_export(p, q, salt=SALT)
        except ReadError:
            return
    assert r.data["rid"].is_unique
    assert set(r.data["d_1"].dropna()) <= {True, False}


def test_read_responses_is_data(q):
    d = read_responses(MINI / "mini_utf8.sav", q, salt=SALT)
    assert isinstance(d, pd.DataFrame) and "rid" in d


def test_fast_xlsx_reader_agrees_with_openpyxl(tmp_path):
    import datetime as dt

    from survey.io._xlsx import read_xlsx_rows
    wb = openpyxl.Workbook()  # normal mode: shared strings, styles
    ws = wb.active
    ws.title = "答卷"
    ws.append(["序号", "提交答卷时间", "1、您的性别", "x"])
    ws.append([1, dt.datetime(2024, 5, 7, 10, 11, 12), "男", 1.5])
    ws.append([2, "2024/05/07 11:00:00", None, True])
    ws["D4"] = "=1+1"
    ws["B5"] = "其他〖a&lt;b〗"
    p = tmp_path / "n.xlsx"
    wb.save(p)
    fast = read_xlsx_rows(p)
    slow = [list(r) for r in openpyxl.load_workbook(p, read_only=True, data_only=True).active.iter_rows(values_only=True)]
    for a, b in zip(fast, slow):
        assert a + [None] * (len(b) - len(a)) == b
    assert read_xlsx_rows(p, "答卷")[1][1] == dt.datetime(2024, 5, 7, 10, 11, 12)


# no Cn: U+FFFE/U+FFFF are not XML characters, so no .xlsx (问卷星's or ours) can hold them
FREE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Zl", "Zp")),
                    min_size=1, max_size=15).map(str.strip).filter(
    lambda s: s and s not in ("(跳过)", "(空)", "nan", "NaN", "None", "<NA>", "NaT", "空", "跳过")
    and not s.lstrip("+-").replace(".", "", 1).isdigit())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(st.integers(1, 25), st.integers(0, 10**6), st.lists(FREE_TEXT, min_size=25, max_size=25),
       st.sampled_from(["code", "text", "sav"]))
def test_roundtrip_property(tmp_path_factory, q, n, seed, texts, kind):
    f = make_frame(n, seed, q)
    f["suggestion"] = pd.Series(texts[:n], dtype="str")
    d = tmp_path_factory.mktemp("rt")
    p = write_sav(f, q, d / "x.sav") if kind == "sav" else write_wjx(f, q, d / "x.xlsx", layout=kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        r = read_export(p, q, salt=SALT)
    assert len(r.data) == n
    assert_same(r.data, f, q)


def test_writer_rejects_control_characters(tmp_path, q, frame):
    f = frame.copy()
    f["suggestion"] = f["suggestion"].str.cat(pd.Series(["\x01"] * len(f)))
    with pytest.raises(ReadError, match="control character"):
        write_wjx(f, q, tmp_path / "x.xlsx")


@pytest.mark.parametrize("layout", ["code", "text"])
def test_text_starting_with_equals_is_not_a_formula(tmp_path, q, frame, layout):
    f = frame.copy()
    f["suggestion"] = pd.Series(["=SUM(A1:A2)"] * len(f), dtype="str")
    r = read_export(write_wjx(f, q, tmp_path / "x.xlsx", layout=layout), q, salt=SALT)
    assert (r.data["suggestion"] == "=SUM(A1:A2)").all()


def test_excel_mangled_long_numbers_are_flagged(tmp_path, q):
    rows = [["序号", "16、您的姓名", "17、您的手机号码", "18、您的身份证号", "3、您的性别", "11、您是否打算在一年内更换工作"],
            [1, "张三", 13912345678, 1.10101199003077e17, "男", "否"],
            [2, "李四", "13912345679", "1.10101E+17", "女", "是"]]
    p = _xlsx(tmp_path / "m.xlsx", rows)
    with pytest.warns(ReadWarning) as rec:
        r = read_export(p, q, salt=SALT, min_match=0.1)
    assert any("Excel has rounded" in str(w.message) for w in rec)
    assert r.pii["phone"].tolist() == ["13912345678", "13912345679"]
    assert r.data["phone_hash"].nunique() == 2
