"""Tests for survey.privacy and for PII separation at read time."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from survey import read_export, write_wjx
from survey.errors import PrivacyError, ReadWarning
from survey.privacy import (SALT_ENV, contains_pii, looks_like_pii, resolve_salt, salted_hash,
                            scrub_text, small_cell_mask)
from survey.questionnaire import Questionnaire

MINI = Path(__file__).parent / "fixtures" / "mini"
sys.path.insert(0, str(MINI))
from make_fixtures import make_frame  # noqa: E402


@pytest.fixture(scope="module")
def q():
    return Questionnaire.load(MINI / "questionnaire.yml")


def test_scrub_text_patterns():
    s = pd.Series(["打 13812345678 或 +86 139-1234-5678", "证件 11010119900307123X 谢谢",
                   "mail: Zhang.San@pku.edu.cn", "座机 010-62345678", "论文 3 篇，经费 200000 元",
                   None])
    out = scrub_text(s).tolist()
    assert out[0] == "打 〔手机号〕 或 〔手机号〕"
    assert out[1] == "证件 〔身份证号〕 谢谢"
    assert out[2] == "mail: 〔邮箱〕"
    assert out[3] == "座机 〔电话〕"
    assert out[4] == "论文 3 篇，经费 200000 元"  # ordinary numbers survive
    assert pd.isna(out[5])
    assert not contains_pii(scrub_text(s)).any()


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20),
       st.sampled_from(["13912345678", "15800001111", "110101199003071234", "a_b@x-y.com.cn"]))
def test_scrub_removes_planted_identifier(pre, post, ident):
    s = pd.Series([f"{pre} {ident} {post}"])
    assert ident not in scrub_text(s).iloc[0]


def test_salted_hash():
    s = pd.Series(["13812345678", "138 1234 5678", "+8613812345678", None, "13900000000"])
    h = salted_hash(s, "salt-a", kind="phone")
    assert h.iloc[0] == h.iloc[1] == h.iloc[2] and h.iloc[0] != h.iloc[4]
    assert pd.isna(h.iloc[3])
    assert salted_hash(s, "salt-b", kind="phone").iloc[0] != h.iloc[0]
    ip = salted_hash(pd.Series(["1.2.3.4(北京-北京)", "1.2.3.4"]), "s", kind="ip")
    assert ip.iloc[0] == ip.iloc[1]
    with pytest.raises(PrivacyError, match="salt"):
        salted_hash(s, "")


def test_resolve_salt(monkeypatch):
    monkeypatch.setenv(SALT_ENV, "from-env")
    assert resolve_salt(None) == "from-env"
    assert resolve_salt("arg") == "arg"
    monkeypatch.delenv(SALT_ENV)
    with pytest.warns(ReadWarning, match="SURVEY_HASH_SALT"):
        assert resolve_salt(None, wave="2024").endswith("2024")


def test_looks_like_pii_and_small_cells():
    for h in ("5、您的姓名", "手机号码", "来自IP", "来源详情", "身份证号", "Email"):
        assert looks_like_pii(h), h
    for h in ("3、您的性别", "所用时间", "2、您对单位的评价—收入"):
        assert not looks_like_pii(h), h
    assert small_cell_mask(pd.Series([0, 1, 4, 5, 100]), 5).tolist() == [False, True, True, False, False]


@pytest.mark.parametrize("kind", ["code", "text", "sav"])
def test_no_planted_pii_survives_into_analysis_frame(tmp_path, q, kind):
    f = make_frame(60, 7, q)
    # an extra unmapped identifying column the questionnaire does not know about
    f2 = f.copy()
    if kind == "sav":
        from survey import write_sav
        p = write_sav(f2, q, tmp_path / "x.sav")
    else:
        p = write_wjx(f2, q, tmp_path / f"x_{kind}.xlsx", layout=kind)
        import openpyxl
        wb = openpyxl.load_workbook(p)
        ws = wb.active
        col = ws.max_column + 1
        ws.cell(row=1, column=col, value="联系人手机")
        for i in range(len(f)):
            ws.cell(row=i + 2, column=col, value=f"1360000{i:04d}")
        wb.save(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        r = read_export(p, q, salt="s")
    planted = set()
    for c in ("name", "phone", "id_number", "email", "source_detail", "ip"):
        planted |= set(f[c].astype(str))
    planted |= {ip.split("(")[0] for ip in f["ip"]}
    planted |= {f"1360000{i:04d}" for i in range(len(f))}
    planted |= {"13912345678", "13700001111", "test.user@example.com"}
    cells = set()
    for c in r.data.columns:
        cells |= set(r.data[c].dropna().astype(str))
    text = "\n".join(cells)
    leaked = [v for v in planted if v in text]
    assert not leaked, leaked[:5]
    assert not contains_pii(pd.Series(sorted(cells))).any()
    for c in ("name", "phone", "id_number", "email", "ip", "source_detail"):
        assert c not in r.data.columns
        assert c in r.pii.columns
    assert r.data["phone_hash"].notna().all() and r.data["ip_hash"].notna().all()
    assert (r.pii["rid"] == r.data["rid"]).all()
    if kind != "sav":
        assert "联系人手机" in r.pii.columns
        assert "联系人手机" in r.report.pii_columns


def test_disclosure_mask_is_one_rule_for_bases_and_cells():
    from survey.privacy import disclosure_mask

    n = np.array([0, 3, 9, 10, 500, 500, 500])
    cell = np.array([0, 0, 9, 10, 0, 3, 10])
    assert disclosure_mask(n, cell, 10).tolist() == [True, True, True, False, False, True, False]
    assert disclosure_mask(n, None, 10).tolist() == [True, True, True, False, False, False, False]
    with pytest.raises(PrivacyError, match="min_cell"):
        disclosure_mask(n, cell, -1)
