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
from survey.privacy import (REDACTED, SALT_ENV, contains_pii, looks_like_pii, looks_personal,
                            resolve_salt, salted_hash, scrub_frame, scrub_text, small_cell_mask)
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
    assert out[0] == f"打 {REDACTED} 或 {REDACTED}"
    assert out[1] == f"证件 {REDACTED} 谢谢"
    assert out[2] == f"mail: {REDACTED}"
    assert out[3] == f"座机 {REDACTED}"
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


# ----------------------------------------------------------------------------- the free-text scrubber
# one planted value per kind and layout (synthetic: 140/199 mobiles, 9901xx ID region, RFC 5737 /
# 2544 / 3849 addresses, example.* mail domains)
PLANTED = {
    "mobile_plain": "14006462896", "mobile_dots": "140.0646.2896", "mobile_dashes": "140-0646-2896",
    "mobile_spaces": "140 0646 2896", "mobile_4_3_4": "1990 646 2896", "mobile_plus86": "+86 140 0646 2896",
    "mobile_0086": "0086-14006462896", "mobile_paren86": "(+86)140-0646-2896",
    "mobile_fullwidth": "１４０６４６２８９６７", "mobile_every_digit": "1 4 0 0 6 4 6 2 8 9 6",
    "landline_dash": "010-62345678", "landline_spaces": "0755 8888 8888",
    "landline_paren": "（0755）88887777", "landline_plain": "02162345678", "service": "400-820-8820",
    "ipv4": "198.19.60.80", "ipv4_port": "192.0.2.44:8080", "ipv6": "2001:db8:85a3::8a2e:370:7334",
    "ipv6_full": "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "email": "pan.ping@example.org", "email_at": "panping(at)example.com",
    "email_brackets": "pan_ping[at]example[dot]net", "email_fullwidth": "ｐａｎ＠ｅｘａｍｐｌｅ．ｃｎ",
    "id18": "99010119880215123X", "id18_spaced": "990101 19880215 1234", "id15": "990101880215123",
    "bank_card": "6222021234567890123",
}
# kinds written after their keyword: (text, value that must vanish)
KEYWORDED = {
    "qq": ("有问题加QQ 2758890123 联系", "2758890123"),
    "qq_colon": ("QQ号：10000001，随时", "10000001"),
    "wechat": ("加我微信 panping_88 详谈", "panping_88"),
    "wechat_en": ("WeChat: pp-research2024", "pp-research2024"),
    "vx": ("vx：zhangsan1990", "zhangsan1990"),
    "phone_kw_odd": ("手机 1400 646 28 96 可联系", "1400 646 28 96"),
    "name_wo_shi": ("我是潘萍，希望提高待遇", "潘萍"),
    "name_wo_jiao": ("我叫俞思远，工资太低", "俞思远"),
    "name_xingming": ("姓名：欧阳娜娜，手机号见上", "欧阳娜娜"),
    "name_benren": ("本人龚晓岚。住房困难", "龚晓岚"),
    "name_contact": ("联系人: 覃一舟", "覃一舟"),
}


def _digits(s: str) -> str:
    return "".join(ch for ch in s.translate({c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)})
                   if ch.isdigit())


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_every_planted_kind_is_removed(kind):
    v = PLANTED[kind]
    texts = pd.Series([f"希望改善待遇，{v}，谢谢", f"{v}", f"联系方式{v}。", f"IP {v}"])
    out = scrub_text(texts)
    for o in out:
        assert v not in o and REDACTED in o, (kind, o)
        if len(_digits(v)) >= 7:
            assert _digits(v)[-7:] not in _digits(o), (kind, o)   # no 7-digit tail left either
        assert "@" not in o and "example" not in o, (kind, o)
    assert not contains_pii(out).any()
    assert looks_personal(texts).all()
    assert scrub_text(out).equals(out)  # idempotent


@pytest.mark.parametrize("kind", sorted(KEYWORDED))
def test_keyworded_ids_and_names_are_removed(kind):
    text, v = KEYWORDED[kind]
    out = scrub_text(pd.Series([text])).iloc[0]
    assert v not in out and REDACTED in out, out
    if v[0].isdigit():
        assert _digits(v) not in _digits(out)
    assert looks_personal(pd.Series([text])).iloc[0]


def test_issue_example():
    t = "我是潘萍，电话140.0646.2896，IP 198.19.60.80。希望…"
    assert scrub_text(pd.Series([t])).iloc[0] == f"我是{REDACTED}，电话{REDACTED}，IP {REDACTED}。希望…"


ORDINARY = [
    "2024年工资涨了3%，但房租涨了15.5%", "近3年发表论文5篇，主持项目2项", "经费200000元，人均1.2万元",
    "每周工作60小时以上，加班到22:30", "2019-2024年间收入没有变化", "2024年5月6日至2024-06-28", "会议定在2024.05.06 14:30",
    "第1、2、3项最重要", "孩子上学要排队，排了300多人", "希望住房补贴从1500元提高到3000元/月",
    "我是江苏人，在本市工作10年", "我是程序员，也是高级工程师", "本人认为应减少报表", "我是一名青年科研人员",
    "我是党员，希望多组织学习", "本人方向：人工智能", "比例约为1:3:5", "编号A-2024-001的项目",
    "单位有1200名职工，其中科研人员800名", "GDP增长5.2%，CPI上涨0.3%", "2023年度考核优秀", "年薪约15-20万",
    "std::vector 和 C++17", "Python 3.11.7", "版本号 v2.4.6", "3.14159", "ISO 9001:2015", "科研经费1,200,000元",
]


def test_ordinary_numbers_and_words_survive():
    s = pd.Series(ORDINARY)
    out = scrub_text(s)
    changed = [(a, b) for a, b in zip(s, out) if a != b]
    assert changed == []
    assert not contains_pii(s).any()
    assert not looks_personal(s).any(), [t for t, f in zip(ORDINARY, looks_personal(s)) if f]
    # deliberately conservative: a plain 7-digit number keeps a text out of the quotes
    assert looks_personal(pd.Series(["经费2000000元"])).iloc[0]


_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
_PUNCT = st.sampled_from(list("，。！？、：；（）() "))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.builds(lambda y: f"{y}年", st.integers(1950, 2035)),
    st.builds(lambda p: f"{p}%", st.integers(0, 100)),
    st.builds(lambda p, d: f"{p}.{d}%", st.integers(0, 100), st.integers(0, 9)),
    st.builds(lambda n: f"{n}项", st.integers(1, 99)),
    st.builds(lambda n: f"{n}元", st.integers(1, 10**9)),
    st.builds(lambda n: f"{n}万元", st.integers(1, 99999)),
    st.builds(lambda y, m, d: f"{y}年{m}月{d}日", st.integers(1990, 2030), st.integers(1, 12),
              st.integers(1, 28)),
    st.builds(lambda y, m, d, sep: f"{y}{sep}{m:02d}{sep}{d:02d}", st.integers(1990, 2030),
              st.integers(1, 12), st.integers(1, 28), st.sampled_from(["-", ".", "/"])),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 23), st.integers(0, 59)),
    st.builds(lambda a, b: f"{a}-{b}年", st.integers(1990, 2030), st.integers(1990, 2030)),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9999), st.integers(0, 99)),
    st.text(_HAN, min_size=1, max_size=6)), min_size=1, max_size=6), _PUNCT)
def test_property_ordinary_numbers_are_not_scrubbed(parts, punct):
    """Years, percentages, counts, amounts (up to 10^9), dates, times, ranges and decimals
    joined by Chinese text or punctuation are never touched."""
    t = punct.join(parts)
    assert scrub_text(pd.Series([t])).iloc[0] == t


_TEXT = st.text(st.one_of(_HAN, st.sampled_from(list("abcXYZ，。！？：:;()（） "))), max_size=15)


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TEXT, st.sampled_from(sorted(PLANTED)), st.booleans())
def test_property_planted_value_removed_in_any_context(pre, post, kind, glue):
    """Any planted value, glued straight onto random Han/Latin/punctuation text or separated by
    a space, is gone (also as its digits alone) and scrubbing twice changes nothing more."""
    v = PLANTED[kind]
    sep = " " if glue else ""
    out = scrub_text(pd.Series([f"{pre}{sep}{v}{sep}{post}"])).iloc[0]
    assert v not in out
    if sum(ch.isdigit() for ch in v) >= 7:
        assert _digits(v) not in _digits(out)
    assert scrub_text(pd.Series([out])).iloc[0] == out


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_property_scrub_is_idempotent_and_keeps_na(t):
    s = pd.Series([t, None])
    once = scrub_text(s)
    assert once.iloc[0] == scrub_text(once).iloc[0]
    assert pd.isna(once.iloc[1])


def test_own_names_per_respondent_vectorised():
    texts = pd.Series(["潘萍建议提高待遇", "潘萍说得对", "司马相如：经费不足", "相如觉得经费不足", None,
                       "王强", "报销不方便", "方便，保密"], index=[10, 11, 12, 13, 14, 15, 16, 17])
    names = pd.DataFrame({"name": ["潘萍", "张伟", "司马相如", "司马相如", "周敏", "王", "不方便", "保密"]})
    out = scrub_text(texts, names=names)
    assert out.index.tolist() == texts.index.tolist()
    assert out.iloc[0] == f"{REDACTED}建议提高待遇"
    assert out.iloc[1] == "潘萍说得对"            # another respondent's name is left alone
    assert out.iloc[2] == f"{REDACTED}：经费不足"
    assert out.iloc[3] == f"{REDACTED}觉得经费不足"  # the given name of a 4-character name
    assert pd.isna(out.iloc[4])
    assert out.iloc[5] == "王强"                  # a one-character "name" is ignored
    assert out.iloc[6:].tolist() == ["报销不方便", "方便，保密"]  # so are refusals
    with pytest.raises(PrivacyError, match="names="):
        scrub_text(texts, names=pd.Series(["a"]))


def test_scrub_frame_uses_pii_names_by_rid(q):
    f = make_frame(20, 3, q)
    text_cols = [c for c in f.columns if c.endswith("_other")] + [
        qu.id for qu in q.questions if qu.type == "text" and not qu.pii and qu.id in f.columns]
    assert text_cols
    col = text_cols[0]
    pii = f[["rid", "name"]].iloc[::-1].reset_index(drop=True)   # another row order: matched on rid
    data = f.drop(columns=[c for c in ("name", "phone", "id_number", "email") if c in f])
    data[col] = [f"{n}：希望改进" for n in f["name"]]
    out = scrub_frame(data, q, pii)
    assert (out[col] == f"{REDACTED}：希望改进").all()
    assert data[col].str.startswith(tuple(f["name"])).all()  # the input frame is not changed


# ----------------------------------------------------------------------------- end to end: no output holds it
ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "哨兵文字甲乙丙"  # harmless, planted beside the PII: proves the scanner reads each format
OWN_NAMES = ["潘萍", "俞思远", "欧阳娜娜", "龚晓岚", "覃一舟", "诸葛明远"]


def _pii_wave(d: Path, frac: float = 0.12) -> dict:
    """A 12% subsample of the 2024 demo wave (as tests/test_pipeline.small_wave) whose open
    answers carry every planted kind of PII: each PLANTED value and KEYWORDED text in a
    suggestion, the respondent's own name (also set in the PII name column) written bare, and
    the same in "其他，请注明" texts; written as a GBK .sav export with the wave's lexicon."""
    import shutil

    from survey.demo import population_yaml, questionnaire_yaml
    from survey.demo.wave import build_wave
    from survey.io import write_sav

    d.mkdir(parents=True, exist_ok=True)
    wv = build_wave("2024", 2024)
    rng = np.random.default_rng(7)
    ex = wv.export.loc[rng.random(len(wv.export)) < frac].reset_index(drop=True)
    for c in ex.columns:
        if pd.api.types.is_datetime64_any_dtype(ex[c].dtype):
            ex[c] = ex[c].astype("datetime64[us]")
    dirty = set(wv.dirt["rid"].astype(str))
    clean_rows = ~ex["rid"].astype(str).isin(dirty)
    writers = np.flatnonzero((ex["suggestion"].notna() & clean_rows).to_numpy())
    texts = [f"{PLANTED[k]}" for k in sorted(PLANTED)] + [t for t, _ in (KEYWORDED[k] for k in sorted(KEYWORDED))]
    texts += [f"{n}建议：" for n in OWN_NAMES]
    assert len(writers) >= len(texts) + 1
    planted, ex = [], ex.copy()
    for i, t in enumerate(texts):
        r = writers[i]
        ex.loc[r, "suggestion"] = f"{ex.at[r, 'suggestion']}。{t}{SENTINEL if i == 0 else ''}"
    for j, n in enumerate(OWN_NAMES):
        ex.loc[writers[len(texts) - len(OWN_NAMES) + j], "name"] = n
    planted = [PLANTED[k] for k in PLANTED] + [v for _, v in KEYWORDED.values()] + OWN_NAMES
    # "其他，请注明" texts: every column that has any
    other = [c for c in ex.columns if c.endswith("_other")]
    k = 0
    for c in other:
        rows = np.flatnonzero((ex[c].notna() & clean_rows).to_numpy())[:3]
        for r in rows:
            v = ["140 0646 2896", "qa.user@example.org", "2001:db8::42"][k % 3]
            ex.loc[r, c] = f"{ex.at[r, c]}（{v}）"
            k += 1
    assert k >= 3
    qdir = d / "q"
    qdir.mkdir()
    (qdir / "questionnaire.yml").write_text(questionnaire_yaml("2024"), encoding="utf-8")
    (qdir / "population.yml").write_text(population_yaml("2024", 2024), encoding="utf-8")
    wv.stations.to_csv(qdir / "stations.csv", index=False, float_format="%.10g")
    shutil.copy(ROOT / "questionnaires" / "demo-2024" / "painpoint_lexicon.yml", qdir)
    raw = d / "pii_SPSS.sav"
    write_sav(ex, wv.questionnaire, raw, encoding="gbk")
    return {"raw": raw, "questionnaire": qdir / "questionnaire.yml", "planted": planted,
            "n_texts": len(texts)}


def _strings(obj) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)] + [str(k) for k in obj]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in _strings(v)]
    return [] if obj is None else [str(obj)]


def _file_texts(p: Path) -> list[str]:
    """Every readable text of one output file, read with independent tools (zipfile for xlsx,
    json for ipynb, pyarrow for parquet) plus its raw bytes as UTF-8."""
    import html
    import json
    import zipfile

    raw = p.read_bytes()
    out = [raw.decode("utf-8", errors="ignore")]
    suf = p.suffix.lower()
    if suf in (".xlsx", ".zip"):
        with zipfile.ZipFile(p) as z:
            out += [html.unescape(z.read(n).decode("utf-8", errors="ignore")) for n in z.namelist()]
    elif suf == ".ipynb":
        out += _strings(json.loads(raw.decode("utf-8")))
    elif suf == ".parquet":
        import pyarrow.parquet as pq

        out += _strings(pq.read_table(p).to_pylist())
    elif suf in (".html", ".htm", ".xml", ".csv", ".json", ".txt"):
        out.append(html.unescape(out[0]))
        if suf == ".json":
            out += _strings(json.loads(raw.decode("utf-8-sig")))
    return out


def _leaks(texts: dict[str, list[str]], planted: list[str]) -> dict:
    """Which planted values occur in which file: as written, with full-width forms folded, and
    (7+ digit values) as their digits with the separators between digits removed."""
    import re

    found: dict[str, list[str]] = {}
    dig = {v: _digits(v) for v in planted if len(_digits(v)) >= 7}
    for name, ts in texts.items():
        t = "\n".join(ts)
        t_fw = t.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})
        collapsed = re.sub(r"(?<=\d)[ .\-/:()（）]+(?=\d)", "", t_fw)
        hits = [v for v in planted if v in t or v in t_fw or (v in dig and dig[v] in collapsed)]
        if hits:
            found[name] = hits
    return found


@pytest.fixture(scope="module")
def pii_report(tmp_path_factory):
    from survey.report.runner import render_report

    d = tmp_path_factory.mktemp("piiwave")
    w = _pii_wave(d / "in")
    p = {"wave": "piitest", "questionnaire": str(w["questionnaire"]), "data": str(w["raw"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        render_report(p, output_dir=d / "out", notebooks=["painpoints"], progress=False)
    return d, w


def test_report_outputs_hold_no_planted_pii(pii_report):
    import pyreadstat

    d, w = pii_report
    files = sorted(f for f in d.rglob("*") if f.is_file() and f.relative_to(d).parts[0] != "in")
    kinds = {f.suffix for f in files}
    assert {".html", ".ipynb", ".xlsx", ".parquet", ".csv", ".json"} <= kinds, kinds
    texts = {str(f.relative_to(d)): _file_texts(f) for f in files}
    # the scanner is no blind one: the sentinel written beside the PII is found in the clean
    # data, and the raw export (read with pyreadstat) holds every planted value
    assert any(k.endswith("clean.parquet") for k in _leaks(texts, [SENTINEL])), "scanner blind"
    raw, _ = pyreadstat.read_sav(str(w["raw"]), encoding="gbk")
    raw_found = _leaks({"raw": _strings(raw.astype(object).where(raw.notna(), None).values.tolist())},
                       w["planted"])
    assert set(raw_found["raw"]) == set(w["planted"])
    leaks = _leaks(texts, w["planted"])
    assert leaks == {}, leaks


def test_report_quotes_are_shown_and_clean(pii_report):
    import re

    d, w = pii_report
    page = (d / "out" / "painpoints.html").read_text(encoding="utf-8")
    quotes = re.findall(r"<li>【[^】]+】“([^”]*)”</li>", page)
    assert len(quotes) >= 2, "the page shows no quotes: the test would prove nothing"
    assert not any("已删除" in q for q in quotes)
    assert not looks_personal(pd.Series(quotes)).any()
    import pyarrow.parquet as pq

    data = pq.read_table(next(d.rglob("clean.parquet"))).to_pandas()
    red = data["suggestion"].astype("str").str.count(REDACTED).sum()
    assert red >= w["n_texts"] - 3  # (a few may be cleaned away) every planted text was scrubbed


@pytest.mark.slow
def test_full_report_outputs_hold_no_planted_pii(tmp_path):
    """Every default notebook that runs on one wave (quality, survey_report, painpoints)."""
    from survey.report.runner import render_report

    w = _pii_wave(tmp_path / "in")
    p = {"wave": "piitest", "questionnaire": str(w["questionnaire"]), "data": str(w["raw"])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        render_report(p, output_dir=tmp_path / "out", notebooks=["quality", "survey_report", "painpoints"],
                      progress=False)
    files = sorted(f for f in tmp_path.rglob("*") if f.is_file() and f.relative_to(tmp_path).parts[0] != "in")
    assert len([f for f in files if f.suffix == ".html"]) >= 4  # three pages and the index
    leaks = _leaks({str(f.relative_to(tmp_path)): _file_texts(f) for f in files}, w["planted"])
    assert leaks == {}, leaks


def test_read_export_scrubs_own_names_and_raw_values_of_invalid_cells(tmp_path, q):
    """At read time (before anything else sees the data) free text loses the respondent's own
    name from the 姓名 column, and the raw text kept with an invalid numeric cell is scrubbed too."""
    import openpyxl

    f = make_frame(20, 3, q)
    p = write_wjx(f, q, tmp_path / "x.xlsx", layout="code")
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    head = {str(c.value): c.column for c in ws[1]}
    sugg = next(j for h, j in head.items() if "建议" in h)
    hours = next(j for h, j in head.items() if "每周工作" in h)
    name = next(j for h, j in head.items() if "姓名" in h)
    for i in range(20):
        ws.cell(row=i + 2, column=name, value=["潘萍", "欧阳娜娜"][i % 2])
        ws.cell(row=i + 2, column=sugg, value=f"{['潘萍', '欧阳娜娜'][i % 2]}建议：电话140.0646.{2800 + i}")
    ws.cell(row=2, column=hours, value="有事打 140 0646 2896")
    wb.save(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        r = read_export(p, q, salt="s")
    assert (r.data["suggestion"] == f"{REDACTED}建议：电话{REDACTED}").all()
    assert set(r.pii["name"]) == {"潘萍", "欧阳娜娜"}
    bad = r.missing.loc[(r.missing["column"] == "hours") & (r.missing["reason"] == "invalid"), "value"]
    assert bad.tolist() == [f"有事打 {REDACTED}"]
    every = "\n".join(map(str, [*r.missing["value"].dropna(), *r.data.to_numpy().ravel()]))
    assert "0646" not in every and "潘萍" not in every and "欧阳" not in every


_SURNAME = st.sampled_from(list("王李张刘陈杨黄赵吴周徐孙马朱胡潘龚覃俞") + ["欧阳", "诸葛", "司马"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_SURNAME, st.text(_HAN, min_size=1, max_size=2), _TEXT, _TEXT),
                min_size=1, max_size=8))
def test_property_own_name_removed_from_own_text_only(rows):
    names = [s + g for s, g, _, _ in rows]
    texts = pd.Series([f"{pre}{n}{post}" for n, (_, _, pre, post) in zip(names, rows)])
    out = scrub_text(texts, names=pd.Series(names))
    for n, o in zip(names, out):
        assert n not in o
    # each text is scrubbed on its own: the same result text by text
    one_by_one = [scrub_text(pd.Series([t]), names=pd.Series([n])).iloc[0] for t, n in zip(texts, names)]
    assert out.tolist() == one_by_one
def test_disclosure_mask_is_one_rule_for_bases_and_cells():
    from survey.privacy import disclosure_mask

    n = np.array([0, 3, 9, 10, 500, 500, 500])
    cell = np.array([0, 0, 9, 10, 0, 3, 10])
    assert disclosure_mask(n, cell, 10).tolist() == [True, True, True, False, False, True, False]
    assert disclosure_mask(n, None, 10).tolist() == [True, True, True, False, False, False, False]
    with pytest.raises(PrivacyError, match="min_cell"):
        disclosure_mask(n, cell, -1)
