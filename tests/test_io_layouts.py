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
from survey.errors import ReadWarning
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
    if mk.EXPORTS[name]["kind"] != "dta":
        want = [pd.Timestamp(a["submitted"]) for a in mk.ANSWERS]
        assert r.data["submitted_at"].tolist() == want
        assert r.data["duration_s"].tolist() == [float(a["duration"]) for a in mk.ANSWERS]
        assert r.data["ip_hash"].notna().all()
        assert not any("192.0.2." in str(v) for v in r.data.to_numpy().ravel())
