"""survey.report.workbook: styles and number formats of tables.xlsx, read back with openpyxl."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from survey.report.workbook import _NUMFMT, write_workbook


def _record(tid: str, notebook: str, columns, formats, data, notes=()):
    return {"id": tid, "title": f"表 {tid}", "notebook": notebook, "index_name": ["类别"],
            "index": [[f"组{k}"] for k in range(len(data))], "columns": list(columns),
            "formats": dict(formats), "data": data, "unreliable": [[False] * len(columns)] * len(data),
            "notes": list(notes), "show_index": True}


def _tables(root: Path, recs) -> None:
    for k, rec in enumerate(recs):
        d = root / rec["notebook"]
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{k:03d}_{rec['id']}.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")


RECS = [
    _record("T1.1", "quality", ["人数", "比例 (%)", "p 值"], {"人数": "count", "比例 (%)": "pct", "p 值": "pvalue"},
            [[1234, 45.25, 0.0312], ["—", 54.75, "—"], [7, "—", 0.5]], notes=["注：n < 10 的单元格隐去。"]),
    _record("T1.2", "quality", ["均值", "估计值"], {"均值": "mean", "估计值": "est"},
            [[3.25, 1.5], [4.0, "=1+1"]]),
    _record("T2.1", "survey_report", ["人数", "说明"], {"人数": "int", "说明": "text"},
            [[12, "很长的中文说明文字" * 4], [8, "short"]]),
]


def _expected_format(kind: str, value) -> str:
    fmt = _NUMFMT.get(kind)
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return fmt if (fmt and numeric) else "General"


@pytest.fixture()
def book(tmp_path):
    _tables(tmp_path / ".tables", RECS)
    out = write_workbook(tmp_path / ".tables", tmp_path / "tables.xlsx", notebooks=["quality", "survey_report"])
    return openpyxl.load_workbook(out)


def test_every_cell_has_its_number_format_and_font(book):
    assert book.sheetnames == ["目录", "T1.1", "T1.2", "T2.1"]
    for rec in RECS:
        ws = book[rec["id"]]
        assert ws["A1"].font.b and ws["A1"].font.sz == 12
        assert ws["A2"].font.color.rgb.endswith("555555") and not ws["A2"].font.b
        headers = ["类别", *rec["columns"]]
        assert [c.value for c in ws[3]] == headers
        for c in ws[3]:
            assert c.font.b and c.fill.fill_type == "solid" and c.fill.fgColor.rgb.endswith("F2F4F7")
            assert (c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text) == ("center", "center", True)
        for i, row in enumerate(rec["data"]):
            cells = ws[4 + i]
            assert cells[0].number_format == "General" and not cells[0].font.b
            for j, v in enumerate(row):
                cell = cells[j + 1]
                want = None if v == "—" else v
                if isinstance(want, str) and want.startswith("="):
                    assert cell.value == "'" + want and cell.data_type == "s"  # never a formula
                else:
                    assert cell.value == want
                assert cell.number_format == _expected_format(rec["formats"][rec["columns"][j]], v), (rec["id"], i, j)
                assert not cell.font.b and cell.fill.fill_type is None and cell.alignment.horizontal is None
        assert ws.freeze_panes == "A4"


def test_column_widths_and_contents_sheet(book):
    ws = book["T2.1"]
    assert ws.column_dimensions["C"].width == 60  # the long Chinese note, capped
    assert ws.column_dimensions["B"].width == 8  # narrow numbers get the minimum
    assert book["T1.1"].column_dimensions["B"].width == len("1,234.0") + 2
    assert book["T1.1"].column_dimensions["D"].width == 8  # "0.031": 5 characters, the minimum
    toc = book["目录"]
    assert [c.value for c in toc[3]] == ["表号", "标题", "所属报告", "工作表"] and toc["A3"].font.b
    assert [toc.cell(row=r, column=1).value for r in range(4, 7)] == ["T1.1", "T1.2", "T2.1"]
    assert toc["D4"].hyperlink.location == "'T1.1'!A1" or toc["D4"].hyperlink.target == "#'T1.1'!A1"


def test_styles_of_one_workbook_do_not_leak_into_the_next(tmp_path):
    # the second workbook meets the formats in another order; its cells must carry their own
    _tables(tmp_path / "a", RECS)
    _tables(tmp_path / "b", [RECS[1], RECS[0]])
    write_workbook(tmp_path / "a", tmp_path / "a.xlsx", notebooks=["quality"])
    out = write_workbook(tmp_path / "b", tmp_path / "b.xlsx", notebooks=["quality"])
    wb = openpyxl.load_workbook(out)
    assert wb["T1.2"]["B4"].number_format == "#,##0.0" and wb["T1.2"]["C4"].number_format == "#,##0.0##"
    assert wb["T1.1"]["B4"].number_format == "#,##0" and wb["T1.1"]["D4"].number_format == "0.000"
    assert wb["T1.1"]["B3"].font.b and not wb["T1.1"]["B4"].font.b


def test_two_renders_write_the_same_workbook_members(tmp_path):
    """Every member of tables.xlsx, docProps/core.xml included (openpyxl's save stamps the
    time of saving there), is the same for the same tables written at another time."""
    import time
    import zipfile

    _tables(tmp_path / ".tables", RECS)
    a = write_workbook(tmp_path / ".tables", tmp_path / "a.xlsx", notebooks=["quality", "survey_report"])
    time.sleep(1.1)  # the core properties hold seconds
    b = write_workbook(tmp_path / ".tables", tmp_path / "b.xlsx", notebooks=["quality", "survey_report"])
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for name in za.namelist():
            assert za.read(name) == zb.read(name), name
        assert b"2000-01-01T00:00:00Z" in za.read("docProps/core.xml")
    assert openpyxl.load_workbook(a).properties.modified.year == 2000


def test_a_table_the_report_does_not_have_is_listed_with_its_reason(tmp_path):
    """A numbered table one report has and another does not (T4.5 by province in a provincial
    report; PP8 without an earlier wave) left a gap in the contents; publish_absent lists it
    there with the reason, and makes no sheet.  Its id can then not be published as a table."""
    import pandas as pd

    from survey import report
    from survey.errors import ReportError

    P = report.validate(notebook="survey_report", output_dir=str(tmp_path / "out"))
    ctx = report.setup(P, notebook="survey_report")
    report.publish(report.style_table(pd.DataFrame({"人数": [3, 4]}), "T4.4"), ctx)
    report.publish_absent("T4.5", "按省：本报告的受访者都属于同一类别（河南省），没有可比较的组别，本表未列出。", ctx)
    report.publish_absent("T4.5", "twice is once", ctx)
    report.publish(report.style_table(pd.DataFrame({"人数": [5]}), "T4.6"), ctx)
    with pytest.raises(ReportError, match="T4.5"):
        report.publish(report.style_table(pd.DataFrame({"人数": [5]}), "T4.5"), ctx)
    p = write_workbook(ctx.tables_dir.parent, tmp_path / "t.xlsx", notebook_titles={"survey_report": "调查报告"})
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["目录", "T4.4", "T4.6"]
    rows = [r for r in wb["目录"].iter_rows(min_row=4, values_only=True)]
    assert [r[0] for r in rows] == ["T4.4", "T4.5", "T4.6"]
    assert rows[1][1] == "（未列出）按省：本报告的受访者都属于同一类别（河南省），没有可比较的组别，本表未列出。"
    assert rows[1][2] == "调查报告" and rows[1][3] in (None, "")
