"""Reader validation (issue #13 items 8, 9, 11): nothing in an export is coerced silently.

Every export here is written by the csv module / openpyxl / pyreadstat directly, never by the
package's writers.
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from survey import clean, read_export
from survey.errors import ReadError, ReadWarning, SchemaMismatchError
from survey.questionnaire import Questionnaire

MINI = Path(__file__).parent / "fixtures" / "mini"
SALT = "test-salt"

Q = {"wave": {"id": "v"}, "questions": [
    {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
    {"id": "kids", "text": "您有几个孩子", "type": "numeric", "integer": True, "range": [0, 20],
     "missing_codes": {}},
    {"id": "start", "text": "您入职的日期", "type": "date"},
    {"id": "commute", "text": "您每天通勤用时", "type": "duration"},
    {"id": "sat", "text": "您的满意程度", "type": "matrix", "rows": {"r1": "收入", "r2": "晋升"},
     "scale": {1: "不满意", 2: "一般", 3: "满意"}},
]}
HEAD = ["序号", "提交答卷时间", "所用时间", "1、您的性别", "2、您有几个孩子", "3、您入职的日期",
        "4、您每天通勤用时", "5、您的满意程度—收入", "晋升"]
ROWS = [["1", "2024/05/06 10:00:00", "300秒", "男", "1", "2020-03-01", "600", "1", "2"],
        ["2", "2024/05/06 11:00:00", "420秒", "女", "2", "2019-07-15", "1200", "3", "3"],
        ["3", "2024/05/07 09:30:00", "360秒", "男", "0", "2021-01-04", "900", "2", "1"]]


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return Questionnaire.from_dict(Q)


def _csv(path: Path, rows: list[list], *, header=HEAD, end: str = "\r\n",
         encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header] + rows)
    text = buf.getvalue()
    if end != "\r\n":
        text = text[:-2] + end
    path.write_bytes(text.encode(encoding))
    return path


def _read(p: Path, q: Questionnaire):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = read_export(p, q, salt=SALT)
    return r, [str(x.message) for x in w if issubclass(x.category, ReadWarning)]


# ---- item 8: blank rows, truncated last row --------------------------------------------------
def test_blank_csv_rows_are_dropped_logged_and_counted(tmp_path, q):
    rows = ROWS[:1] + [[""] * len(HEAD), ["  "] * len(HEAD)] + ROWS[1:]
    r, _ = _read(_csv(tmp_path / "b.csv", rows), q)
    assert r.data["rid"].tolist() == ["1", "2", "3"]
    assert r.report.blank_rows == [3, 4]          # file lines (the header is line 1)
    assert r.report.rows_in_file == r.report.n_rows + len(r.report.blank_rows) == 5
    lg = r.log[r.log["rule"] == "blank_row"]
    assert lg["action"].tolist() == ["drop", "drop"]
    assert lg["detail"].str.contains("line 3").any() and lg["detail"].str.contains("line 4").any()
    # clean() carries the reader's decisions into its log (pass 0)
    c = clean(r, q)
    assert (c.log.loc[c.log["rule"] == "blank_row", "pass"] == 0).all()
    assert c.n_raw == c.n_clean + len(c.dropped)


def test_blank_xlsx_row_in_the_middle_is_dropped(tmp_path, q):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [HEAD, ROWS[0], [None] * len(HEAD), ROWS[1]]:
        ws.append(row)
    wb.save(tmp_path / "x.xlsx")
    r, _ = _read(tmp_path / "x.xlsx", q)
    assert r.data["rid"].tolist() == ["1", "2"]
    assert r.report.blank_rows == [3]


def test_truncated_last_csv_row_is_warned_with_its_line(tmp_path, q):
    full = _csv(tmp_path / "full.csv", ROWS).read_bytes()
    mark = ",男,".encode()
    cut = full[: full.rindex(mark) + len(mark)]  # cut inside the last row, after its sex
    p = tmp_path / "cut.csv"
    p.write_bytes(cut)
    r, warns = _read(p, q)
    assert any("line 4" in w and "truncated" in w for w in warns), warns
    lg = r.log[r.log["rule"] == "truncated_row"]
    assert lg["rid"].tolist() == ["3"]
    # a complete file ending with a line break is not flagged
    r, warns = _read(tmp_path / "full.csv", q)
    assert not any("truncated" in w for w in warns) and "truncated_row" not in set(r.log["rule"])


def test_csv_row_with_more_fields_than_the_header_is_refused(tmp_path, q):
    rows = [ROWS[0], ROWS[1] + ["多出来的一格"], ROWS[2]]
    with pytest.raises(ReadError, match=r"more fields than the header \(line\(s\) 3\)"):
        read_export(_csv(tmp_path / "l.csv", rows), q, salt=SALT)


# ---- item 9: silent coercions ------------------------------------------------------------------
def test_fullwidth_digits_in_dates_are_normalised_and_logged(tmp_path, q):
    rows = [r[:] for r in ROWS]
    rows[0][5] = "２０２０－０３－０１"
    rows[1][5] = "５/６"            # no year: dateutil would say year 1, wrapped to 1754
    rows[2][1] = "２０２４/０５/０７ ０９:３０:００"
    r, _ = _read(_csv(tmp_path / "f.csv", rows), q)
    start = r.data["start"]
    assert start.iloc[0] == pd.Timestamp("2020-03-01")
    assert pd.isna(start.iloc[1])
    assert (start.dropna().dt.year >= 1900).all()
    assert r.data["submitted_at"].iloc[2] == pd.Timestamp("2024-05-07 09:30:00")
    fw = r.log[r.log["rule"] == "fullwidth"]
    assert set(fw["rid"]) == {"1", "2", "3"}
    inv = r.missing[(r.missing["reason"] == "invalid") & (r.missing["column"] == "start")]
    assert inv["rid"].tolist() == ["2"] and inv["value"].tolist() == ["５/６"]


def test_non_finite_durations_are_invalid_not_inf(tmp_path, q):
    rows = [r[:] for r in ROWS]
    rows[0][6] = "1e309"
    rows[1][2] = "1e309"  # the metadata duration
    r, _ = _read(_csv(tmp_path / "d.csv", rows), q)
    assert np.isfinite(r.data["commute"].dropna()).all() and pd.isna(r.data["commute"].iloc[0])
    assert np.isfinite(r.data["duration_s"].dropna()).all() and pd.isna(r.data["duration_s"].iloc[1])
    inv = r.missing[(r.missing["reason"] == "invalid") & (r.missing["column"] == "commute")]
    assert inv["rid"].tolist() == ["1"] and inv["value"].tolist() == ["1e309"]
    nf = r.log[r.log["rule"] == "non_finite"]
    assert sorted(nf["rid"]) == ["1", "2"]


def test_integer_question_refuses_fractions(tmp_path, q):
    rows = [r[:] for r in ROWS]
    rows[0][4] = "1.5"
    rows[1][4] = "2.0"
    r, warns = _read(_csv(tmp_path / "i.csv", rows), q)
    assert pd.isna(r.data["kids"].iloc[0]) and r.data["kids"].iloc[1] == 2.0
    inv = r.missing[(r.missing["reason"] == "invalid") & (r.missing["column"] == "kids")]
    assert inv["rid"].tolist() == ["1"] and inv["value"].tolist() == ["1.5"]
    assert r.log.loc[r.log["rule"] == "not_integer", "rid"].tolist() == ["1"]
    assert any("kids" in w for w in warns)


def test_matrix_row_missing_from_the_export_is_warned(tmp_path, q):
    head = HEAD[:-1]
    rows = [r[:-1] for r in ROWS]
    r, warns = _read(_csv(tmp_path / "m.csv", rows, header=head), q)
    assert any("sat" in w and "r2" in w and "晋升" in w for w in warns), warns
    assert r.data["sat_r2"].isna().all()
    assert r.log.loc[r.log["rule"] == "absent_column", "column"].tolist() == ["sat_r2"]


def test_duplicated_question_column_with_different_answers_is_refused(tmp_path, q):
    head = HEAD + ["1、您的性别"]
    rows = [r + [r[3]] for r in ROWS]
    rows[1][-1] = "男"   # respondent 2 says 女 in one copy, 男 in the other
    with pytest.raises(SchemaMismatchError) as e:
        read_export(_csv(tmp_path / "dup.csv", rows, header=head), q, salt=SALT)
    msg = str(e.value)
    assert "1、您的性别" in msg and "line 3" in msg and "\n" not in msg
    # an identical copy is no conflict: read, logged, not reported as an unknown column
    rows[1][-1] = "女"
    r, _ = _read(_csv(tmp_path / "same.csv", rows, header=head), q)
    assert r.data["sex"].tolist() == ["男", "女", "男"]
    assert r.report.unmapped == []
    assert r.log.loc[r.log["rule"] == "duplicate_column", "question"].tolist() == ["sex"]


# ---- item 11: damaged binary files --------------------------------------------------------------
def _rezip(src: Path, dst: Path, member: str, content: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for it in zin.infolist():
            zout.writestr(it.filename, content if it.filename == member else zin.read(it))
    return dst


def test_damaged_xlsx_gives_read_error(tmp_path):
    q = Questionnaire.load(MINI / "questionnaire.yml")
    src = MINI / "100000_按序号_迷你测试问卷_40_40.xlsx"
    with zipfile.ZipFile(src) as z:
        sheet = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = z.read(sheet)
    # broken XML in the sheet (was: xml.etree.ElementTree.ParseError)
    bad = _rezip(src, tmp_path / "x_按序号_a.xlsx", sheet, xml[: len(xml) // 2] + b"<<<")
    with pytest.raises(ReadError, match="x_按序号_a.xlsx.*download the export again"):
        read_export(bad, q, salt=SALT)
    # damaged deflate stream inside the zip (was: zlib.error)
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(sheet)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 40, start + 60):
        data[k] ^= 0x5A
    p = tmp_path / "x_按序号_b.xlsx"
    p.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="x_按序号_b.xlsx"):
        read_export(p, q, salt=SALT)


def test_damaged_sav_dictionary_is_an_error_not_a_crash(tmp_path):
    # one flipped byte in a variable record makes a numeric variable a 57-byte string without
    # its continuation records: pyreadstat 1.3.7 segfaults on it (so: a child process)
    data = bytearray((MINI / "mini_gbk.sav").read_bytes())
    data[220] = 57
    p = tmp_path / "damaged.sav"
    p.write_bytes(bytes(data))
    code = ("import sys; from survey import read_export; from survey.errors import ReadError\n"
            "try:\n    read_export(sys.argv[1], sys.argv[2])\n"
            "except ReadError as e:\n    print('ReadError:', e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(p), str(MINI / "questionnaire.yml")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.returncode
    assert out.stdout.startswith("ReadError:") and "damaged.sav" in out.stdout


def test_fullwidth_option_codes_are_logged(tmp_path, q):
    rows = [r[:] for r in ROWS]
    rows[0][7] = "３"     # matrix code in full-width digits (按序号)
    r, _ = _read(_csv(tmp_path / "c.csv", rows), q)
    assert r.data["sat_r1"].iloc[0] == 3
    fw = r.log[r.log["rule"] == "fullwidth"]
    assert fw[["rid", "column", "new_value"]].values.tolist() == [["1", "sat_r1", "3"]]


def test_log_holds_no_raw_values_of_pii_questions(tmp_path):
    qd = {"wave": {"id": "p"}, "questions": [
        {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": "born", "text": "您的出生日期", "type": "date", "pii": True, "pii_kind": "other"}]}
    q = Questionnaire.from_dict(qd)
    p = _csv(tmp_path / "p.csv", [["1", "男", "１９８０-０１-０２"], ["2", "女", "1985-03-04"]],
             header=["序号", "1、您的性别", "2、您的出生日期"])
    r, _ = _read(p, q)
    fw = r.log[r.log["rule"] == "fullwidth"]
    assert fw["rid"].tolist() == ["1"]
    assert fw["old_value"].isna().all() and fw["new_value"].isna().all()
    assert "１９８０" not in r.log.to_csv()


def test_formula_cells_without_a_value_are_warned(tmp_path, q):
    wb = openpyxl.Workbook()
    ws = wb.active
    rows = [r[:] for r in ROWS]
    rows[1][4] = "=1+1"  # openpyxl stores a formula and no cached value
    for row in [HEAD] + rows:
        ws.append(row)
    wb.save(tmp_path / "f.xlsx")
    r, warns = _read(tmp_path / "f.xlsx", q)
    assert any("formula" in w and "E3" in w for w in warns), warns
    assert pd.isna(r.data["kids"].iloc[1])


def test_blank_sav_case_is_dropped_and_named_by_case_number(tmp_path, q):
    import pyreadstat
    df = pd.DataFrame({"rid": ["1", "", "3"], "sex": [1.0, np.nan, 2.0],
                       "kids": [1.0, np.nan, 0.0], "start": ["2020-03-01", "", "2021-01-04"]})
    pyreadstat.write_sav(df, str(tmp_path / "b.sav"))
    r, _ = _read(tmp_path / "b.sav", q)
    assert r.data["rid"].tolist() == ["1", "3"]
    assert r.report.blank_rows == [2]
    assert r.log.loc[r.log["rule"] == "blank_row", "detail"].str.contains("case 2").all()
