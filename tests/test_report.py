"""Tests of survey.report: fonts, theme, tables, disclosure, params, workbook, HTML, runner."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.errors import ParameterError, PrivacyError, ReportError
from survey.report import disclosure, fonts, params
from survey.report import format as rformat
from survey.report.html import notebook_to_html, strip_for_export
from survey.report.workbook import write_workbook

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


# ----------------------------------------------------------------------------- fonts / theme
def test_shipped_font_and_licence():
    assert fonts.FONT_PATH.is_file()
    size = fonts.FONT_PATH.stat().st_size
    assert size < 5_000_000
    lic = (fonts.FONT_PATH.parent / "LICENSE-OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in lic and "Adobe" in lic
    assert (fonts.FONT_PATH.parent / "make_subset.py").is_file()
    gb = "".join(bytes([hi, lo]).decode("gb2312", "ignore") for hi in (0xB0, 0xD7, 0xF7) for lo in (0xA1, 0xC0, 0xFE))
    assert fonts.missing_chars(gb + "−–—→┋≤≥×，。（）％科技工作者急难愁盼") == ""


def test_chart_with_chinese_has_no_missing_glyphs():
    from survey.report.theme import new_figure, use_theme

    use_theme()
    import matplotlib.pyplot as plt

    fig, ax = new_figure()
    ax.bar(["收入待遇偏低", "住房困难", "子女教育"], [-1.5, 2.0, 3.0])
    ax.set_title("急难愁盼：前三项选择比例 − 负值 ≤ ≥ × → ┋")
    ax.set_xlabel("科技工作者（%）")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fig.canvas.draw()
        fig.savefig(Path(tempfile.mkdtemp()) / "c.png")
    plt.close(fig)
    bad = [str(x.message) for x in w if "Glyph" in str(x.message) or "missing" in str(x.message)]
    assert bad == []


def _savefig_tight(fig) -> bytes:
    """matplotlib's own tight crop of *fig* (the reference a cropped chart must look like)."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)
    return buf.getvalue()


def test_module_chart_is_drawn_once_and_cropped_as_a_tight_crop(monkeypatch):
    """The dot-and-whisker chart of an indicator module is drawn once (savefig's
    bbox_inches="tight" drew it twice) and looks as that crop made it: the same size within
    two pixels, nothing clipped, the same picture (pictures.same_chart)."""
    from matplotlib.figure import Figure
    from pictures import same_chart

    from survey.report import context
    from survey.report.content import indicators

    est = pd.DataFrame({
        "group": ["pct"] * 3 + ["mean"] * 2,
        "label": ["上一年度（2023年）的个人税前总收入"] * 3 + ["平均每周实际工作多少小时", "睡眠"],
        "item": ["10万元以下", "10万-15万元", "50万元及以上", "", ""],
        "estimate": [0.2, 0.5, 0.3, 47.5, 6.8], "ci_low": [0.15, 0.44, 0.25, 46.0, 6.5],
        "ci_high": [0.25, 0.56, 0.36, 49.0, 7.1], "flag": [False, False, True, False, False],
        "suppress": [False] * 5, "unit": ["%"] * 3 + ["小时"] * 2})
    draws = []
    real = Figure.draw

    def draw(self, renderer):
        draws.append(self)
        return real(self, renderer)

    monkeypatch.setattr(Figure, "draw", draw)
    once = indicators._module_chart(est, "工作状况：主要指标（加权）").png
    assert len(draws) == 1
    monkeypatch.undo()
    figs = []
    monkeypatch.setattr(context, "FigureOutput", lambda fig, **kw: figs.append(fig))
    indicators._module_chart(est, "工作状况：主要指标（加权）")
    same_chart(once, _savefig_tight(figs[0]))  # the same chart, cropped by matplotlib


def test_theme_survives_seaborn_reset_order():
    import matplotlib as mpl

    from survey.report.theme import use_theme

    use_theme()
    assert mpl.rcParams["font.sans-serif"][0] == fonts.FONT_FAMILY
    assert mpl.rcParams["font.family"] == ["sans-serif"]


def test_font_face_css_deterministic_and_small():
    a = fonts.font_face_css("科技工作者状况调查")
    b = fonts.font_face_css("科技工作者状况调查")
    assert a == b and a.startswith("@font-face")
    data, fmt = fonts.subset_font("科技工作者")
    assert len(data) < 200_000 and fmt in ("woff2", "opentype")


def test_keeping_hints_writes_the_same_font():
    # the shipped font has no hints: keeping them (the fast path) must not change a byte
    chars = "".join(sorted(set("科技工作者状况调查：样本概况（加权）95% CI 急难愁盼" + fonts._BASE_CHARS)))
    assert fonts._subset(chars, None, hinting=True) == fonts._subset(chars, None, hinting=False)


def test_woff2_at_the_chosen_quality_is_the_same_font():
    # the WOFF2 written at fonts.WOFF2_QUALITY decodes to exactly the font fontTools' own
    # (quality 11) WOFF2 decodes to, and is barely larger
    import io

    from fontTools.ttLib import TTFont

    chars = "".join(sorted(set("科技工作者状况调查：样本概况（加权）95% CI 急难愁盼住房困难子女教育" + fonts._BASE_CHARS)))
    ours = fonts._subset(chars, "woff2", hinting=True)
    best = fonts._subset(chars, "woff2", hinting=True, quality=11)
    assert fonts.WOFF2_QUALITY < 11 and ours != best and len(ours) < 1.05 * len(best)

    def tables(data):
        f = TTFont(io.BytesIO(data))
        f.flavor = None
        buf = io.BytesIO()
        f.save(buf, reorderTables=True)
        return buf.getvalue()

    assert tables(ours) == tables(best)


def _embedded_font(page: str):
    """(css rule, decoded font) of the one @font-face rule a page embeds."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    rules = re.findall(r"@font-face\{[^}]*\}", page)
    assert len(rules) == 1, len(rules)
    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", rules[0]).group(1)
    return rules[0], TTFont(io.BytesIO(base64.b64decode(b64)))


def _page_chars(page: str) -> set[str]:
    from survey.report.html import _visible_text

    return {c for c in _visible_text(page) if ord(c) > 0x20 and not c.isspace()}


def _two_pages(font: bool):
    from survey.report.html import IndexEntry, index_page, wrap_page

    a = wrap_page("<h1 id='x'>数据接收与质量</h1><p>样本量 1,234；拒答率 3.5%（≤5%）</p>", title="质量",
                  font=font)
    b = wrap_page("<h1 id='y'>急难愁盼</h1><p>住房困难、子女教育 → 待认领</p>", title="急难愁盼",
                  font=font)
    i = index_page([IndexEntry("a.html", "质量"), IndexEntry("b.html", "急难愁盼")], title="河南省报告",
                   font=font)
    return {"a.html": a, "b.html": b, "index.html": i}


def test_report_pages_embed_one_font_covering_every_page():
    from survey.report.html import FONT_SLOT, embed_font

    pages = embed_font(_two_pages(font=False))
    rules = {n: _embedded_font(p) for n, p in pages.items()}
    assert len({css for css, _ in rules.values()}) == 1  # one identical subset in every page
    cmap = rules["a.html"][1].getBestCmap()
    for name, page in pages.items():
        assert FONT_SLOT not in page and "<script" not in page
        chars = _page_chars(page)
        assert fonts.missing_chars("".join(chars)) == ""  # the shipped font draws them all ...
        assert {c for c in chars if ord(c) not in cmap} == set(), name  # ... and so does the subset
    # each page alone still gets a font for its own characters (self-contained pages)
    alone = _two_pages(font=True)
    assert _embedded_font(alone["a.html"])[0] != rules["a.html"][0]
    assert {c for c in _page_chars(alone["b.html"]) if ord(c) not in _embedded_font(alone["b.html"])[1].getBestCmap()} == set()


def test_report_font_does_not_depend_on_render_order():
    from survey.report.html import embed_font

    pages = _two_pages(font=False)
    fonts._subset_cached.cache_clear()
    fonts._BOUNDS.clear()
    first = embed_font(pages)
    # another report rendered before, in the same process, with other characters; pages given
    # in another order
    fonts._subset_cached.cache_clear()
    embed_font({"other.html": _two_pages(font=False)["a.html"].replace("数据接收与质量", "政策成效评估")})
    fonts._subset_cached.cache_clear()
    again = embed_font(dict(reversed(list(pages.items()))))
    assert again == first


# ----------------------------------------------------------------------------- params
def test_params_defaults_and_types():
    p = params.validate(notebook="quality", wave="2024", confidence=1 - 0.1)
    assert p.wave == "2024" and p.min_cell == 10 and p.confidence == pytest.approx(0.9)
    assert params.validate(notebook="quality", confidence=0.9).confidence == 0.9
    with pytest.raises(AttributeError):
        p.wave = "x"


@pytest.mark.parametrize("kw, needle", [
    ({"min_cel": 5}, "did you mean 'min_cell'"),
    ({"min_cell": "10"}, "must be int"),
    ({"min_cell": True}, "must be int"),
    ({"min_cell": 0}, "≥ 1"),
    ({"confidence": 95}, "between 0.5 and 1"),
    ({"lang": "fr"}, "must be one of"),
    ({"data": 3}, "must be str or None"),
])
def test_params_refused(kw, needle):
    with pytest.raises(ParameterError) as e:
        params.validate(notebook="quality", **kw)
    assert needle in str(e.value)
    assert "quality" in str(e.value)


def test_params_from_globals_ignores_modules_and_ipython():
    import os

    g = {"__name__": "__main__", "In": [], "Out": {}, "get_ipython": print, "os": os,
         "wave": "2024", "min_cell": 5, "_": None}
    assert params.validate(g, notebook="quality").min_cell == 5
    g["mni_cell"] = 3
    with pytest.raises(ParameterError, match="unknown parameter 'mni_cell'.*valid parameters: wave"):
        params.validate(g, notebook="quality")


def test_params_notebook_specific():
    assert params.validate(notebook="painpoints", policies="p.yml").policies == "p.yml"
    with pytest.raises(ParameterError):
        params.validate(notebook="quality", policies="p.yml")
    with pytest.raises(ParameterError, match="unknown parameter 'top_k'"):  # k is the questionnaire's
        params.validate(notebook="painpoints", top_k=3)
    with pytest.raises(ParameterError, match=r"list\[str\]"):
        params.validate(notebook="trends", previous_waves=[2019])


# ----------------------------------------------------------------------------- disclosure
def _lone_suppressed(s: disclosure.Suppression, min_cell: int = 10) -> list:
    """Equations (rows/columns incl. margins) where hidden cells could be recovered or bounded."""
    m, v = s.mask.to_numpy(), s.counts.to_numpy()
    r, c = m.shape
    lines = [(m[i, :], v[i, :]) for i in range(r)] + [(m[:, j], v[:, j]) for j in range(c)]
    return [ln for ln, val in lines
            if ln.any() and not ln.all() and (ln.sum() == 1 or val[ln].sum() < min_cell)]


def test_primary_and_complementary_rectangle():
    counts = pd.DataFrame({"男": [40, 3, 25], "女": [35, 20, 30]}, index=["正高", "副高", "中级"])
    s = disclosure.suppress_table(counts, 10)
    assert s.primary.loc["副高", "男"] and s.primary.to_numpy().sum() == 1
    assert s.mask.to_numpy().sum() == 4
    assert s.mask.loc[["副高", "中级"], ["男", "女"]].to_numpy().all()
    assert not s.mask.loc["合计"].any() and not s.mask["合计"].any()
    assert _lone_suppressed(s) == []
    assert s.complementary.to_numpy().sum() == 3


def test_complementary_reaches_min_cell_and_prefers_interior():
    counts = pd.DataFrame({"a": [2, 3, 50], "b": [60, 70, 80]})
    s = disclosure.suppress_table(counts, 10)
    # 2 and 3 share a column: hiding just them still tells a0 + a1 = 5 < 10, so the 50 joins them
    col = s.mask["a"].iloc[:3]
    assert col.all()
    assert _lone_suppressed(s) == []
    assert not s.mask.loc["合计"].any()


def test_margins_variants_and_zero_cells():
    counts = pd.DataFrame({"a": [50, 0], "b": [50, 40]})
    assert disclosure.suppress_table(counts, 10, margins="none").mask.to_numpy().sum() == 1
    assert disclosure.suppress_table(counts, 10, zeros=False).mask.to_numpy().sum() == 0
    s = disclosure.suppress_table(counts, 10, margins="rows")
    assert list(s.counts.columns) == ["a", "b", "合计"] and s.mask.loc[1].sum() == 2
    s = disclosure.suppress_table(counts, 10, margins="cols")
    assert list(s.counts.index) == [0, 1, "合计"] and s.mask["a"].sum() == 2


def test_small_row_total_suppressed_with_its_cells():
    counts = pd.DataFrame({"a": [3, 40, 50], "b": [4, 50, 60]})
    s = disclosure.suppress_table(counts, 10)
    assert s.mask.loc[0].all()  # 3, 4 and their total 7
    assert _lone_suppressed(s) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_no_lone_suppressed_cell_property(r, c, data):
    vals = data.draw(st.lists(st.integers(0, 60), min_size=r * c, max_size=r * c))
    counts = pd.DataFrame(np.array(vals).reshape(r, c))
    s = disclosure.suppress_table(counts, 10)
    assert (s.mask | ~s.primary).to_numpy().all()          # primary ⊆ mask
    assert _lone_suppressed(s) == []                         # nothing recoverable by subtraction
    # totals are consistent with the cells
    assert (s.counts.iloc[:-1, -1].to_numpy() == counts.sum(axis=1).to_numpy()).all()


def test_suppress_table_refuses_bad_input():
    with pytest.raises(PrivacyError, match="margins"):
        disclosure.suppress_table(pd.DataFrame({"a": [1]}), margins="all")
    with pytest.raises(PrivacyError, match="non-negative"):
        disclosure.suppress_table(pd.DataFrame({"a": [-1]}))
    with pytest.raises(PrivacyError, match="min_cell"):
        disclosure.suppress_table(pd.DataFrame({"a": [1]}), 0)


def test_flag_estimates_reliability_and_complementary():
    est = pd.DataFrame({"g": ["a", "a", "b", "b"], "k": ["x", "y", "x", "y"],
                        "estimate": [0.5, 0.5, 0.1, 0.9], "se": [0.02, 0.02, 0.05, 0.01],
                        "n": [100, 100, 5, 120]})
    out = disclosure.flag_estimates(est, row="g", col="k", margins="both")
    assert out["suppressed"].tolist() == [True, True, True, True]
    out = disclosure.flag_estimates(est)
    assert out["suppressed"].tolist() == [False, False, True, False]
    est2 = est.assign(n=[100, 25, 100, 100])
    assert disclosure.flag_estimates(est2)["unreliable"].tolist() == [False, True, True, False]
    with pytest.raises(PrivacyError, match="station"):
        disclosure.flag_estimates(est.rename(columns={"g": "station"}), row="station", col="k")
    with pytest.raises(PrivacyError, match="'n'"):
        disclosure.flag_estimates(est.drop(columns="n"))


# ----------------------------------------------------------------------------- tables
def test_formats():
    assert rformat.fmt_count(1234567) == "1,234,567"
    assert rformat.fmt_pct(0.4521) == "45.2" and rformat.fmt_pct(-0.00001) == "0.0"
    assert rformat.fmt_ci(0.452, 0.431, 0.473) == "45.2 (43.1–47.3)"
    assert rformat.fmt_ci(47.31, 46.02, 48.6, proportion=False) == "47.3 (46.0–48.6)"


def test_style_table_marks_and_fixed_id():
    d = pd.DataFrame({"人数": [1234, 5, 40], "比例": [0.5, 0.002, 0.2]}, index=["男", "女", "其他"])
    supp = pd.DataFrame({"人数": [False, True, False], "比例": [False, True, False]}, index=d.index)
    unrel = pd.DataFrame({"人数": [False, False, True], "比例": [False, False, True]}, index=d.index)
    t = rformat.style_table(d, "T2.1", title="性别", formats={"人数": "count", "比例": "pct"},
                           suppressed=supp, unreliable=unrel, min_cell=10)
    h = t.to_html()
    assert 'id="T_T2.1"' in h and "1,234" in h and "50.0" in h and "—" in h and "20.0*" in h
    assert "样本量不足 10 人" in h and "变异系数" in h
    assert h == rformat.style_table(d, "T2.1", title="性别", formats={"人数": "count", "比例": "pct"},
                                   suppressed=supp, unreliable=unrel, min_cell=10).to_html()
    ex = t.excel_frame()
    assert ex.loc["女", "人数"] == "—" and ex.loc["男", "比例"] == 50.0
    with pytest.raises(ReportError, match="table id"):
        rformat.style_table(d, "2 bad")
    with pytest.raises(ReportError, match="unknown column"):
        rformat.style_table(d, "T1", formats={"x": "pct"})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_style_table_cells_are_the_formatted_values_with_their_marks(data):
    """Every displayed cell is its formatted value, ``—`` where suppressed, value + ``*`` where
    unreliable (never both); a legend line for † / ‡ appears exactly when a cell or row label
    holds the symbol (issue #17 builds the cells as one array: the same table as before)."""
    n = data.draw(st.integers(1, 6))
    words = st.sampled_from(["甲", "乙†", "丙‡", "", "12.5"])
    d = pd.DataFrame({"人数": data.draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n)),
                      "比例": data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)),
                      "说明": data.draw(st.lists(words, min_size=n, max_size=n))},
                     index=[f"组{i}" + data.draw(st.sampled_from(["", "‡"])) for i in range(n)])
    bools = st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=n, max_size=n)
    supp = pd.DataFrame(data.draw(bools), index=d.index, columns=d.columns)
    unrel = pd.DataFrame(data.draw(bools), index=d.index, columns=d.columns)
    fm = {"人数": "count", "比例": "pct", "说明": "text"}
    t = rformat.style_table(d, "T1", formats=fm, suppressed=supp, unreliable=unrel)
    for i in range(n):
        for j, c in enumerate(d.columns):
            v = rformat.format_value(d.iloc[i, j], fm[c])
            want = "—" if supp.iloc[i, j] else v + "*" if unrel.iloc[i, j] else v
            assert t.display.iloc[i, j] == want
    shown = [str(x) for x in t.display.to_numpy().ravel()] + list(d.index)
    for sym in ("†", "‡"):
        assert any(x.startswith(f"“{sym}”") for x in t.notes) == any(sym in x for x in shown)
    assert t.display.dtypes.eq(object).all()


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_table_cell_classes_mark_suppressed_unreliable_and_interval_cells(data):
    """The HTML classes of each cell: ``suppressed`` / ``unreliable`` (the latter wins where a
    hand-made table sets both) and ``ci`` on a cell holding an estimate with its interval;
    checked against the frame-by-frame rule the report used before issue #17."""
    import dataclasses

    n = data.draw(st.integers(1, 5))
    cell = st.sampled_from(["45.2 (43.1–47.3)", "—", "3.10 (2.9–3.3)*", "12", "", "a(1–2)", "(-1.5–-0.2)"])
    disp = pd.DataFrame({c: data.draw(st.lists(cell, min_size=n, max_size=n)) for c in ("甲", "乙")},
                        index=[f"r{i}" for i in range(n)], dtype=object)
    bools = st.lists(st.lists(st.booleans(), min_size=2, max_size=2), min_size=n, max_size=n)
    supp = pd.DataFrame(data.draw(bools), index=disp.index, columns=disp.columns)
    unrel = pd.DataFrame(data.draw(bools), index=disp.index, columns=disp.columns)
    t = rformat.style_table(pd.DataFrame({"甲": [1] * n, "乙": [2] * n}, index=disp.index), "T1")
    t = dataclasses.replace(t, display=disp, suppressed=supp, unreliable=unrel)
    want = pd.DataFrame("", index=disp.index, columns=disp.columns)
    want = want.mask(supp, "suppressed").mask(unrel, "unreliable")
    ci = disp.apply(lambda s: s.astype(str).str.contains(rformat.CI_CELL, regex=True))
    want = want.where(~ci, (want + " ci").apply(lambda s: s.str.strip()))
    got = t.styler.cell_context
    expect = {(i, j): want.iloc[i, j] for i in range(n) for j in range(2) if want.iloc[i, j]}
    assert got == expect


def test_cell_outputs_have_short_plain_text_without_printing_frames(monkeypatch):
    """IPython computes the plain text of every cell output although the page shows its HTML:
    a published table, a Bundle and a Folded block name their parts in a line each instead of
    printing every DataFrame they hold (issue #17), and their HTML is unchanged by that."""
    from survey.report.content._util import Bundle
    from survey.report.display import HTML
    from survey.report.sections import Folded

    d = pd.DataFrame({"人数": np.arange(300) + 10, "比例": np.linspace(0, 1, 300)},
                     index=[f"第{i}组" for i in range(300)])
    t = rformat.style_table(d, "T2.1", title="性别", formats={"人数": "count", "比例": "pct"})
    raw = pd.DataFrame({"a": range(40)})
    b = Bundle([HTML("<h3>按性别</h3>"), t, raw])
    f = Folded([HTML("<h3>按性别</h3>"), t], "展开", fold=lambda p: p is t)
    html_before = (t._repr_html_(), b._repr_html_(), f._repr_html_())

    def refuse(self):
        raise AssertionError("a DataFrame was printed for the plain text of a cell output")

    monkeypatch.setattr(pd.DataFrame, "__repr__", refuse)
    monkeypatch.setattr(pd.DataFrame, "to_string", refuse)
    assert repr(t) == "<表 T2.1 性别：300 行 × 2 列>"
    assert repr(b).splitlines() == ["按性别", repr(t), "<DataFrame 40 行 × 1 列>"]
    assert repr(f).splitlines() == ["按性别", repr(t)]
    monkeypatch.undo()
    assert (t._repr_html_(), b._repr_html_(), f._repr_html_()) == html_before


def test_workbook_one_sheet_per_table(tmp_path):
    from survey.report import context

    ctx = context.setup(params.validate(notebook="quality", output_dir=str(tmp_path)), notebook="quality")
    d = pd.DataFrame({"人数": [12, 3]}, index=["男", "女"])
    s = pd.DataFrame({"人数": [False, True]}, index=d.index)
    context.publish(rformat.style_table(d, "Q1.1", title="性别", suppressed=s), ctx)
    context.publish(rformat.style_table(d, "Q1.2", title="职称"), ctx)
    with pytest.raises(ReportError, match="twice"):
        context.publish(rformat.style_table(d, "Q1.2"), ctx)
    out = write_workbook(tmp_path / context.TABLES_DIRNAME, tmp_path / "t.xlsx", notebooks=["quality"])
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["目录", "Q1.1", "Q1.2"]
    ws = wb["Q1.1"]
    assert [c.value for c in ws[3]] == ["类别", "人数"]  # row 3: the header; row 2: the notes row
    assert ws.cell(row=4, column=2).value == 12 and ws.cell(row=5, column=2).value is None  # suppressed: empty
    assert "隐去：1 个单元格" in ws["A2"].value and ws.freeze_panes == "A4"
    assert "本表无隐去" in wb["Q1.2"]["A2"].value


def test_workbook_sheet_holds_numbers_behind_formatted_cells(tmp_path):
    """A page cell '45.2 (43.1–47.3)' reaches Excel as 估计值/标准误/下限/上限/样本量 numbers; the
    suppressed row's estimate is empty (not the number), and no default index column appears."""
    import openpyxl

    from survey.report import context

    ctx = context.setup(params.validate(notebook="quality", output_dir=str(tmp_path)), notebook="quality")
    page = pd.DataFrame({"估计值 (95% CI)": ["45.2 (43.1–47.3)", "—", "=1+1"]})
    sheet = pd.DataFrame({"类别": ["甲", "乙", "=1+1"], "估计值": [45.21, 61.7, 3.0], "标准误": [1.07, 9.9, 0.1],
                          "置信区间下限": [43.12, 40.0, 2.8], "置信区间上限": [47.33, 80.1, 3.2],
                          "样本量": [812, 7, 40]})
    supp = pd.DataFrame({c: [False, True, False] for c in ("估计值", "标准误", "置信区间下限", "置信区间上限")})
    context.publish(rformat.style_table(page, "T3.1", title="指标", index=False, sheet=sheet,
                                        sheet_suppressed=supp, weighting="加权估计",
                                        suppressed=pd.DataFrame({"估计值 (95% CI)": [False, True, False]}),
                                        min_cell=10), ctx)
    context.publish(rformat.style_table(pd.DataFrame({"人数": [3, 4]}), "T3.2", title="无索引名"), ctx)
    out = write_workbook(tmp_path / context.TABLES_DIRNAME, tmp_path / "t.xlsx", notebooks=["quality"])
    ws = openpyxl.load_workbook(out)["T3.1"]
    assert [c.value for c in ws[3]] == ["类别", "估计值", "标准误", "置信区间下限", "置信区间上限", "样本量"]
    assert [c.value for c in ws[4]] == ["甲", 45.21, 1.07, 43.12, 47.33, 812]
    assert [c.value for c in ws[5]][1:] == [None, None, None, None, 7]
    assert ws["A6"].value == "'=1+1" and ws["A6"].data_type == "s"
    assert ws["B4"].number_format != "General" and ws["F4"].number_format == "#,##0"
    assert ws["A2"].value.startswith("说明：加权：加权估计。隐去：4 个单元格") and "不含显著性检验" in ws["A2"].value
    ws2 = openpyxl.load_workbook(out)["T3.2"]
    assert [c.value for c in ws2[3]] == ["人数"] and [c.value for c in ws2["A"]][3:5] == [3, 4]


# ----------------------------------------------------------------------------- html
def test_notebook_to_html_self_contained():
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    nb = new_notebook(cells=[
        new_markdown_cell("# 调查报告\n\n## 样本概况"),
        new_code_cell("secret_code()", outputs=[
            new_output("stream", name="stderr", text="UserWarning: noisy\n"),
            new_output("display_data", data={"text/html": "<b>结果</b>"})],
            metadata={"papermill": {"duration": 1.0}}),
    ])
    page = notebook_to_html(nb, title="报告")
    assert '<html lang="zh">' in page and "<title>报告</title>" in page
    assert "secret_code" not in page and "noisy" not in page
    assert "<script" not in page and "http://" not in re.sub(r'xmlns="http[^"]*"', "", page)
    assert "https://" not in page
    assert 'href="#sec-2"' in page and "@font-face" in page
    assert page == notebook_to_html(nb, title="报告")
    assert strip_for_export(nb).cells[1].metadata == {}


# ----------------------------------------------------------------------------- runner (papermill)
QYML = """\
wave: {id: "t", title: 测试调查}
design: {psu: station, strata: stratum, groups: [sex, title, district]}
questions:
  - {id: station, text: 调查站点, type: single, options: {1: 站点一, 2: 站点二}}
  - {id: stratum, text: 层, type: single, options: {1: 甲, 2: 乙}}
  - {id: sex, text: 您的性别, type: single, options: {1: 男, 2: 女}}
  - {id: title, text: 您的职称, type: single, options: {1: 正高, 2: 副高, 3: 中级, 4: 初级}}
  - {id: district, text: 所在区, type: single, options: {1: 东城区, 2: 西城区}}
  - {id: hours, text: 每周工作小时, type: numeric, range: [0, 112], missing_codes: {}}
"""


def _small_inputs(d: Path) -> dict:
    (d / "q.yml").write_text(QYML, encoding="utf-8")
    r = np.random.default_rng(1)
    n = 120
    df = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "sex": r.choice(["男", "女"], n),
                       "title": r.choice(["正高", "副高", "中级", "初级"], n, p=[.05, .25, .4, .3]),
                       "district": r.choice(["东城区", "西城区"], n),
                       "hours": r.normal(47, 8, n).round(1)})
    df.loc[r.random(n) < .1, "hours"] = np.nan
    df.to_csv(d / "data.csv", index=False)
    return {"wave": "t", "questionnaire": str(d / "q.yml"), "data": str(d / "data.csv"),
            "data_stage": "clean"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from survey.report.runner import render_report

    d = tmp_path_factory.mktemp("rep")
    p = _small_inputs(d)
    res = render_report(p, output_dir=d / "out", notebooks=["quality", "survey_report"], progress=False)
    return d, p, res


def _runtime_free(s: str) -> str:
    s = re.sub(r'<span class="run-time">[^<]*</span>', "", s)
    # the embedded font holds the characters of the whole report, which differs between the
    # two renders compared (test_render_report_pages_share_one_font checks the font)
    s = re.sub(r"@font-face\{[^}]*\}", "", s)
    # other people commit while the suite runs: the code version may legitimately change
    return re.sub(r'<code class="git-commit">[^<]*</code>', "", s)


def test_render_report_html(rendered):
    d, _, res = rendered
    out = d / "out"
    assert sorted(p.name for p in res.html) == ["quality.html", "survey_report.html"]
    q = (out / "quality.html").read_text(encoding="utf-8")
    for needle in ("数据接收与质量", "数据接收", "数据质量", "样本概况", "方法说明", "数据来源与可重复性",
                   "SHA-256", "问卷哈希", "run-time", 'id="T_Q1.1"'):
        assert needle in q, needle
    assert "待实现" not in q  # every quality section is implemented
    assert "data:image/png;base64," in q
    for bad in ("Traceback", "output_error", "ename", "<script", "https://"):
        assert bad not in q, bad
    assert q.count("<img") == 1  # the chart once, not twice
    idx = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="quality.html"' in idx and 'href="tables.xlsx"' in idx
    assert (out / "notebooks" / "quality.ipynb").is_file()
    assert not (out / ".tables").exists()
    import openpyxl

    names = openpyxl.load_workbook(out / "tables.xlsx").sheetnames
    assert names[0] == "目录" and "Q1.1" in names and "T1.1" in names


def test_render_report_pages_share_one_font(rendered):
    d, _, res = rendered
    pages = {p.name: p.read_text(encoding="utf-8") for p in [*res.html, res.index]}
    assert sorted(pages) == ["index.html", "quality.html", "survey_report.html"]
    fonts_ = {n: _embedded_font(p) for n, p in pages.items()}
    assert len({css for css, _ in fonts_.values()}) == 1  # the same subset in every page
    cmap = fonts_["index.html"][1].getBestCmap()
    chars = set().union(*(_page_chars(p) for p in pages.values()))
    assert {c for c in chars if ord(c) not in cmap} == set(fonts.missing_chars("".join(chars)))


def test_render_report_deterministic_and_failure_keeps_previous(rendered, tmp_path):
    from survey.report.runner import render_report

    d, p, _ = rendered
    out = d / "out"
    before = (out / "quality.html").read_text(encoding="utf-8")
    # deterministic: a second run on the same input gives the same HTML apart from the run time
    out2 = d / "out2"
    render_report(p, output_dir=out2, notebooks=["quality"], progress=False)
    again = (out2 / "quality.html").read_text(encoding="utf-8")
    assert _runtime_free(again) == _runtime_free(before)
    # a failing cell: message names notebook and cell; previous report intact; notebook kept
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[
        new_code_cell("wave = 'demo'", metadata={"tags": ["parameters"]}),
        new_code_cell("from survey import report\nP = report.validate(globals(), notebook='boom')"),
        new_code_cell("raise ValueError('kaputt')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, nbdir / "boom.ipynb")
    with pytest.raises(ReportError) as e:
        render_report({"wave": "t"}, output_dir=out2, notebooks=["boom"], notebook_dir=nbdir,
                      progress=False)
    msg = str(e.value)
    assert "'boom'" in msg and "raise ValueError" in msg and "kaputt" in msg and "left unchanged" in msg
    assert (out2.parent / "out2.failed" / "notebooks" / "boom.ipynb").is_file()
    assert (out2 / "quality.html").read_text(encoding="utf-8") == again


def test_render_report_refuses_unknown_parameter_before_running(tmp_path):
    from survey.report.runner import render_report

    with pytest.raises(ParameterError, match="min_cel"):
        render_report({"min_cel": 5}, output_dir=tmp_path / "o", notebooks=["quality"])
    with pytest.raises(ReportError, match="not found"):
        render_report({}, output_dir=tmp_path / "o", notebooks=["nope"])
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- screenshot
def _screenshot(url: str, png: Path, udd: Path) -> None:
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={udd}", "--window-size=1200,1000",
                    f"--screenshot={png}", url], check=True, capture_output=True, timeout=90)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian package chromium)")
def test_screenshot_index_and_report(rendered, tmp_path):
    from PIL import Image

    d, _, _ = rendered
    for name in ("index.html", "quality.html"):
        png = tmp_path / (name + ".png")
        _screenshot((d / "out" / name).as_uri(), png, tmp_path / f"udd-{name}")
        img = np.asarray(Image.open(png).convert("L"))
        assert img.shape[0] > 500 and img.shape[1] > 500
        dark = (img < 128).mean()
        assert 0.002 < dark < 0.5, f"{name}: page looks blank ({dark:.4f} dark pixels)"
        assert len(np.unique(img)) > 20
        shutil.copy(png, Path(tempfile.gettempdir()) / f"survey-report-{name}.png")


# ----------------------------------------------------------------------------- demo-like wave (real sections)
@pytest.fixture(scope="module")
def rendered_wave(tmp_path_factory):
    from test_pipeline import small_wave

    from survey.report.runner import render_report

    d = tmp_path_factory.mktemp("wave")
    w = small_wave(d / "in")
    p = {"wave": "small", "questionnaire": str(w["questionnaire"]), "data": str(w["raw"]),
         "population": str(w["population"]), "stations": str(w["stations"])}
    res = render_report(p, output_dir=d / "out", notebooks=["quality", "survey_report"], progress=False)
    return d, w, res


def test_rendered_wave_sections_images_and_no_errors(rendered_wave):
    d, _, res = rendered_wave
    out = d / "out"
    q = (out / "quality.html").read_text(encoding="utf-8")
    s = (out / "survey_report.html").read_text(encoding="utf-8")
    for needle in ("数据清理", "核算", "清理规则与处理数量", "题目无应答", "加权", "校准目标及其来源",
                   "权重分布与 Kish 设计效应", "ASMD", 'id="T_Q2.1"', 'id="T_Q3.2"'):
        assert needle in q, needle
    for needle in ("样本概况", "主要指标", "工作状况", "分组比较", "按性别", "Rao–Scott", "值得关注的差异",
                   "Bonferroni", "方法说明", "方差估计", "数据披露控制", "总体边际来源", 'id="T_T3.1"', 'id="T_T4.1"',
                   "校正后p", "Holm 逐步法", "多重比较校正后 p &lt; 0.05"):  # one stated rule, adjusted p shown
        assert needle in s, needle
    for page in (q, s):
        for bad in ("Traceback", "output_error", "ename", "待实现", "无法完成清理与加权"):
            assert bad not in page, bad
    assert q.count("data:image/png;base64,") >= 3
    assert s.count("data:image/png;base64,") >= 5
    assert not any(p.name.startswith(".prepared") for p in out.rglob("*"))  # microdata stay outside
    assert (d / ".out.work" / "prepared" / ".prepared").is_dir()
    assert "prepare" in res.timings


def test_rendered_wave_has_no_planted_pii(rendered_wave):
    import openpyxl

    d, w, _ = rendered_wave
    out = d / "out"
    texts = [p.read_text(encoding="utf-8") for p in out.glob("*.html")]
    texts += [p.read_text(encoding="utf-8") for p in (out / "notebooks").glob("*.ipynb")]
    wb = openpyxl.load_workbook(out / "tables.xlsx", read_only=True)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    texts.append("\n".join(cells))
    values = [v for vals in w["pii"].values() for v in vals if len(v) >= 6]
    assert len(values) > 100  # the small wave does carry contact details
    for t in texts:
        hits = [v for v in values if v in t]
        assert hits == [], hits[:5]


def test_rendered_wave_tables_flag_and_suppress(rendered_wave):
    import openpyxl

    d, _, _ = rendered_wave
    names = openpyxl.load_workbook(d / "out" / "tables.xlsx", read_only=True).sheetnames
    assert {"Q2.1", "Q3.1", "T2.1", "T3.1", "T4.1"} <= set(names)
    assert not any("station" in n or "站点" in n for n in names)
    s = (d / "out" / "survey_report.html").read_text(encoding="utf-8")
    assert "—" in s or "*" in s  # small wave: some subgroup cells are suppressed or flagged


_NUMERIC_HEAD = re.compile(r"估计值|标准误|下限|上限|样本量|p值|人数|比例|F值|变化|得分|概率|权重和|ASMD|条数")
_BAD_HEAD = re.compile(r"^(level_\d+|index|Unnamed.*|\d+|None|variable|estimate|se|n|ci_low|ci_high)$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUM_TEXT = re.compile(r"[+-]?[\d,]*\d(\.\d+)?%?[†*]?")


def _check_computable_sheets(path: Path) -> dict[str, list[str]]:
    """Open every sheet of a tables.xlsx (openpyxl directly) and assert it is computable."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    assert len(wb.worksheets) > 1, f"{path}: no table sheets"
    heads = {}
    for ws in wb.worksheets[1:]:
        rows = list(ws.iter_rows(min_row=1))
        note = rows[1][0].value
        assert isinstance(note, str) and note.startswith("说明："), (ws.title, note)
        for k in ("加权", "隐去", "多重比较"):
            assert k in note, (ws.title, k, note)
        assert ws.freeze_panes == "A4", ws.title
        head = [c.value for c in rows[2] if c.value is not None]
        assert head and len(head) == len(rows[2]), (ws.title, head)  # no blank header cells
        for h in head:
            assert isinstance(h, str) and _CJK.search(h) and not _BAD_HEAD.match(h.strip()), (ws.title, h)
        heads[ws.title] = head
        data = []
        for r in rows[3:]:
            if all(c.value is None for c in r):
                break  # the footnotes follow a blank row
            data.append(r)
        assert data, ws.title
        for j, h in enumerate(head):
            if "编号" not in h:  # a count written as text ('7,997') is no number to compute with
                txt = [r[j].value for r in data if isinstance(r[j].value, str)]
                assert not [v for v in txt if _NUM_TEXT.fullmatch(v.strip())], (ws.title, h, txt[:3])
            if not _NUMERIC_HEAD.search(h) or "区间（" in h or h.endswith("（†）"):
                continue
            vals = [r[j].value for r in data if r[j].value is not None]
            bad = [v for v in vals if not isinstance(v, (int, float)) or isinstance(v, bool)]
            assert not bad, (ws.title, h, bad[:3])
        for r in ws.iter_rows():
            for c in r:
                assert c.data_type != "f", (ws.title, c.coordinate)
                assert not (isinstance(c.value, str) and c.value.startswith("=")), (ws.title, c.value)
        widths = [ws.column_dimensions[rows[2][j].column_letter].width for j in range(len(head))]
        assert all(w and w >= 8 for w in widths), (ws.title, widths)
    return heads


def test_rendered_workbook_every_sheet_computable(rendered_wave):
    """Every sheet: Chinese header row, numbers as numbers, notes row, frozen header, no formulas;
    estimates with their SE and CI limits in columns of their own; a suppressed estimate empty."""
    import openpyxl

    d, _, _ = rendered_wave
    path = d / "out" / "tables.xlsx"
    heads = _check_computable_sheets(path)
    for t in ("T3.1", "T4.1"):
        assert {"估计值", "标准误", "置信区间下限", "置信区间上限"} <= set(heads[t]), heads[t]
    assert any({"F值", "p值", "Holm校正后p值"} <= set(h) for h in heads.values())  # the Rao–Scott tests
    wb = openpyxl.load_workbook(path)
    page = (d / "out" / "survey_report.html").read_text(encoding="utf-8")
    n_lim = 0
    for name in [n for n in wb.sheetnames if re.fullmatch(r"T[34]\.\d+", n) and "估计值" in heads[n]]:
        ws = wb[name]
        h = heads[name]
        est, lo, hi = h.index("估计值"), h.index("置信区间下限"), h.index("置信区间上限")
        blank = small = 0
        for r in ws.iter_rows(min_row=4, values_only=True):
            if all(v is None for v in r):
                break
            if "该组样本量（人）" in h and r[h.index("该组样本量（人）")] is None:
                small += 1
            if r[est] is None:
                blank += 1
                assert r[lo] is None and r[hi] is None
            else:
                assert r[lo] <= r[est] + 1e-9 and r[est] <= r[hi] + 1e-9, (name, r)
                n_lim += 1
        # the page's suppressed estimate cells ("—") and the sheet's empty estimates agree
        tab = re.search(rf"<table[^>]* id=\"T_{re.escape(name)}\"[^>]*>.*?</table>", page, re.S).group(0)
        body = tab.split("</thead>", 1)[1]
        page_supp = len(re.findall(r'<td class="[^"]*suppressed[^"]*"[^>]*>', body))
        if name.startswith("T3"):
            assert blank == page_supp, (name, blank, page_supp)
        else:  # the group-size row of the page is a column of the sheet
            assert blank <= page_supp and small <= page_supp, (name, blank, small, page_supp)
    assert n_lim > 20
    tests = next(n for n in wb.sheetnames if "F值" in heads.get(n, []))
    assert "Holm" in wb[tests]["A2"].value


def test_print_stylesheet_in_every_page(rendered):
    d, _, _ = rendered
    for f in (d / "out").glob("*.html"):
        s = f.read_text(encoding="utf-8")
        for rule in ("@page{size:A4", "@media print{", "nav.toc,a.anchor-link", "thead{display:table-header-group}",
                     "tr,th,td{break-inside:avoid", "img,svg,figure", "caption{break-after:avoid"):
            assert rule in s, (f.name, rule)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (Debian package chromium)")
def test_print_to_pdf_gives_a4_without_navigation(rendered, tmp_path):
    """Chromium's print-to-PDF of a report page: every page A4 portrait (595 × 842 pt), and the
    navigation's text does not occur in the PDF while the page's own headings do."""
    d, _, _ = rendered
    pdf = tmp_path / "q.pdf"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'udd'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", (d / "out" / "survey_report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    if shutil.which("pdftotext"):  # poppler-utils: the navigation (目录 …) is not printed
        main = re.sub(r'<nav class="toc".*?</nav>', "", (d / "out" / "survey_report.html").read_text(encoding="utf-8"),
                      flags=re.S)
        txt = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "样本概况" in txt.replace(" ", "")
        main = re.sub(r"<style.*?</style>|<script.*?</script>", "", main, flags=re.S)
        if "目录" not in re.sub(r"<[^>]+>", " ", main):
            assert "目录" not in txt
    raw = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", raw)
    assert boxes, "no page boxes found"
    for w, h in boxes:
        assert abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2, (w, h)


# ----------------------------------------------------------------------------- a real (non-demo) next wave
@pytest.fixture(scope="module")
def next_wave(tmp_path_factory):
    """A project folder laid out as for a real wave: questionnaires/<id>/ (questionnaire.yml with
    the wave id changed, population.yml, stations.csv, lexicon), data/<id>/ (raw .sav export),
    questionnaires/harmonization.yml keyed by the new ids; 2024-test is built from the demo 2023
    wave, 2025-test from the demo 2024 wave (subsamples, as in test_pipeline)."""
    import re

    from test_pipeline import small_wave

    root = tmp_path_factory.mktemp("project")
    qs = root / "questionnaires"
    for demo, wid in (("2023", "2024-test"), ("2024", "2025-test")):
        small_wave(qs / wid, frac=0.12, wave=demo, wave_id=wid, raw_dir=root / "data" / wid)
    shutil.copy(ROOT / "questionnaires" / "demo-2024" / "painpoint_lexicon.yml", qs / "2025-test")
    h = (ROOT / "questionnaires" / "harmonization.yml").read_text(encoding="utf-8")
    h = h.replace('"2024"', '"2025-test"').replace('"2023"', '"2024-test"')
    h = re.sub(r"demo-(2023|2024)/questionnaire.yml",
               lambda m: f"{int(m.group(1)) + 1}-test/questionnaire.yml", h)
    (qs / "harmonization.yml").write_text(h, encoding="utf-8")
    pol = (ROOT / "questionnaires" / "policies.yml").read_text(encoding="utf-8")
    (qs / "policies.yml").write_text(pol.replace('"2024"', '"2025-test"').replace('"2023"', '"2024-test"'),
                                     encoding="utf-8")
    from survey.cli import main

    assert main(["report", "--wave", "2025-test", "--root", str(root), "--previous", "2024-test",
                 "--quiet"]) == 0
    return root


def test_next_wave_index_and_survey_report_open_with_findings(next_wave):
    """The non-demo wave (test_report_findings has the unit tests): 主要发现 first on both pages,
    every link points at a table id that exists on its page, the wording rules hold."""
    from test_report_findings import check_wording

    out = next_wave / "reports" / "2025-test"
    idx = (out / "index.html").read_text(encoding="utf-8")
    assert idx.index("主要发现") < idx.index("调查报告")
    links = re.findall(r'<li>(.*?) <a class="finding-link" href="([^"#]+)#([^"]+)">', idx)
    assert 3 <= len(links) <= 14, [x[0] for x in links]
    for text, page, tid in links:  # an element with that id (not data-table-id="…")
        assert re.search(rf'(?<![\w-])id="{re.escape(tid)}"', (out / page).read_text(encoding="utf-8")), (page, tid)
    import html as _h

    check_wording([_h.unescape(t).replace("2024-test", "").replace("2025-test", "") for t, _, _ in links])
    rep = (out / "survey_report.html").read_text(encoding="utf-8")
    assert rep.index("主要发现") < rep.index("样本概况") and 'class="findings"' in rep
    assert not (out / ".findings").exists()


def test_next_wave_renders_every_notebook_from_its_own_inputs(next_wave):
    out = next_wave / "reports" / "2025-test"
    pages = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.html")}
    assert set(pages) == {"index", "quality", "survey_report", "painpoints", "trends"}
    for name, page in pages.items():
        for bad in ("Traceback", "output_error", "ename", "待实现", "无数据", "无法完成清理与加权"):
            assert bad not in page, (name, bad)
    assert 'id="T_T5.1"' in pages["trends"] and "2024-test" in pages["trends"]
    # a wave id that is not a year is not called one ("2024-test年", "2024-test 年问卷")
    for name, page in pages.items():
        assert not re.search(r"20\d\d-test ?年", page), (name, re.findall(r".{20}20\d\d-test ?年.{10}", page)[:3])
    assert "2024-test 轮" in pages["trends"] and "2024-test—2025-test" in pages["trends"]
    assert 'id="T_PP8"' in pages["painpoints"] and 'id="T_PP9"' in pages["painpoints"]
    assert pages["painpoints"].count("data:image/png;base64,") >= 4
    # the earlier wave was prepared once, beside the report, from data/2024-test/
    assert (next_wave / "reports" / ".2024-test.work" / "prepared" / ".prepared").is_dir()
    import nbformat

    for nb in ("painpoints", "trends"):
        cells = nbformat.read(out / "notebooks" / f"{nb}.ipynb", as_version=4).cells
        outs = [o for c in cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outs if o.output_type == "error" or o.get("name") == "stderr"], nb


def test_next_wave_publishes_the_checklist_and_the_word_brief(next_wave):
    """The painpoints notebook of a real wave: the 清单 on the page (PP10), as the sheet
    急难愁盼问题清单 of tables.xlsx with numeric shares/CIs (read with openpyxl), and 专报.docx
    beside the pages — listed in the owner marker and linked from index.html."""
    import docx
    import openpyxl

    out = next_wave / "reports" / "2025-test"
    word = out / "专报.docx"
    assert word.is_file()
    marker = json.loads((out / ".survey-report.json").read_text(encoding="utf-8"))
    assert "专报.docx" in marker["files"]
    assert 'href="专报.docx"' in (out / "index.html").read_text(encoding="utf-8")
    page = (out / "painpoints.html").read_text(encoding="utf-8")
    assert 'id="T_PP10"' in page and 'href="专报.docx"' in page
    ws = openpyxl.load_workbook(out / "tables.xlsx")["急难愁盼问题清单"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert str(rows[1][0]).startswith("说明：")  # the notes row; the header follows
    head = list(rows[2])
    assert head[:5] == ["位次", "问题", "选择比例", "95%CI下限", "95%CI上限"]
    assert "对应措施" in head and "责任部门" in head and "成效" in head
    body = [r for r in rows[3:] if isinstance(r[0], int)]
    assert body and all(isinstance(r[k], (int, float)) and not isinstance(r[k], bool)
                        for r in body for k in (2, 3, 4))  # numbers, not text (52.0 reads back as 52)
    assert all(r[3] <= r[2] <= r[4] for r in body)
    j = head.index("对应措施")
    assert any(r[j] == "待认领" for r in body) and any(r[j] == "青年人才住房补贴" for r in body)
    d = docx.Document(str(word))
    assert [c.text for c in d.tables[0].columns[1].cells[1:]] == [r[1] for r in body]


def test_same_weighted_numbers_in_every_notebook(next_wave):
    """painpoints/trends use the survey report's design: the trends estimate of weekly hours for
    the current wave equals the weighted mean from prepare_wave on the same inputs."""
    import warnings

    from survey import trends
    from survey.pipeline import prepare_wave, wave_inputs
    from survey.report import trend_inputs
    from survey.report.content.data import inputs_for

    qf = next_wave / "questionnaires" / "2025-test"
    raw = next_wave / "data" / "2025-test" / "small_SPSS.sav"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inp = wave_inputs(qf, raw)
        w = prepare_wave(raw, inp["questionnaire"], population=inp["population"], stations=inp["stations"])
        params = {"wave": "2025-test", "questionnaire": str(inp["questionnaire"]), "data": str(raw),
                  "previous_waves": ["2024-test"], "work_dir": str(next_wave / "reports" / ".2025-test.work")}
        S = trend_inputs(params)
    assert S.waves == ["2024-test", "2025-test"]
    tab = trends.trend_table(S).set_index("indicator")
    np.testing.assert_allclose(tab.loc["hours", "est_2025-test"],
                               w.design.mean("hours", na_rm=True)["estimate"].iloc[0],
                               rtol=1e-10)
    assert inputs_for(params)["stations"] == qf / "stations.csv"


def test_first_wave_says_there_is_nothing_to_compare(next_wave, tmp_path):
    from survey.cli import main

    assert main(["report", "--wave", "2024-test", "--root", str(next_wave), "-o", str(tmp_path / "r"),
                 "--notebooks", "trends", "--quiet"]) == 0
    page = (tmp_path / "r" / "trends.html").read_text(encoding="utf-8")
    assert "没有可比较的往期调查" in page and "Traceback" not in page


# ----------------------------------------------------------------------------- provenance, preparation noise
def test_provenance_lists_earlier_waves_inputs_deterministically(tmp_path):
    """With previous_waves, the provenance block hashes each earlier wave's raw export,
    questionnaire, margins and stations (found as the report finds them) and the cross-wave
    files; the same inputs give the same block."""
    import hashlib

    from survey.report.provenance import collect, provenance

    qs, data = tmp_path / "questionnaires", tmp_path / "data"
    for w in ("2023", "2024"):
        (qs / w).mkdir(parents=True)
        (qs / w / "questionnaire.yml").write_text(f"not a questionnaire {w}\n", encoding="utf-8")
        (data / w).mkdir(parents=True)
        (data / w / f"export_{w}.csv").write_bytes(f"rid\n{w}\n".encode())
    (qs / "2023" / "population.yml").write_text("population: 1\n", encoding="utf-8")
    (qs / "policies.yml").write_text("policies: []\n", encoding="utf-8")
    p = {"wave": "2024", "questionnaire": str(qs / "2024" / "questionnaire.yml"),
         "data": str(data / "2024" / "export_2024.csv"), "previous_waves": ["2023"]}
    i = collect(p)
    prev = i["previous_waves"]
    assert prev[0]["wave"] == "2023"
    assert set(prev[0]["files"]) == {"raw", "questionnaire", "population"}
    assert prev[0]["files"]["raw"]["sha256"] == hashlib.sha256(b"rid\n2023\n").hexdigest()
    assert prev[0]["questionnaire_hash"] == hashlib.sha256(b"not a questionnaire 2023\n").hexdigest()
    assert prev[-1]["wave"] is None and prev[-1]["files"]["policies"]["path"].endswith("policies.yml")
    h = provenance(p)._repr_html_()
    assert "往期（2023）输入文件（raw）" in h and "export_2023.csv" in h and "往期（2023）问卷哈希" in h
    assert _runtime_free(h) == _runtime_free(provenance(p)._repr_html_())
    # a missing earlier wave is named in the block, not an error
    bad = provenance({**p, "previous_waves": ["2019"]})._repr_html_()
    assert "往期（2019）输入文件" in bad and "未找到" in bad
    # no earlier waves: no such rows
    assert "往期" not in provenance({**p, "previous_waves": []})._repr_html_()


def test_survey_report_prints_the_weighting_note_per_wave(tmp_path, monkeypatch, capsys):
    """``survey report`` prints the one-line weighting note the README promises, from the real
    preparation (whose warnings the report's ``prepare`` silences), and again when the wave
    comes from the cache.  The notebooks themselves are not executed here (``_run_unit``)."""
    from test_pipeline import small_wave

    from survey.cli import main
    from survey.report import runner

    root = tmp_path / "project"
    small_wave(root / "questionnaires" / "2025-test", frac=0.12, wave="2024", wave_id="2025-test",
               raw_dir=root / "data" / "2025-test")

    def no_notebooks(unit):
        Path(unit["dir"]).mkdir(parents=True, exist_ok=True)
        return {"ok": True, "label": unit["label"], "html": [], "timings": {},
                "workbook": str(Path(unit["dir"]) / "tables.xlsx")}

    monkeypatch.setattr(runner, "_run_unit", no_notebooks)
    args = ["report", "--wave", "2025-test", "--root", str(root), "--notebooks", "quality"]
    lines = []
    for _ in range(2):  # prepared, then taken from the cache
        assert main(args) == 0
        err = capsys.readouterr().err.splitlines()
        lines.append([x for x in err if x.startswith("weighting ")])
    assert "prepared wave taken from the cache" not in "\n".join(lines[0])
    for got in lines:
        assert len(got) == 1, got
        # the demo margins disagree on the total (sex +1.80% ...) and the one-way sex and
        # age_group margins are implied by the sex × age_group cross
        assert got[0].startswith("weighting 2025-test: 3 notes (margin totals rescaled to the "
                                 "control total; 2 one-way margin(s) implied by a cross, not used)")
        assert got[0].endswith("see quality.html (加权)")
    assert lines[0] == lines[1]


def test_weighting_notes_come_from_the_weighting_report():
    """The notes are read from the design's weighting report (every step of the chain), so they
    do not depend on warnings reaching the runner."""
    import warnings

    from survey import SurveyDesign
    from survey.report.runner import _weighting_notes, _weighting_summary

    df = pd.DataFrame({"sex": list("mmffmf"), "age": list("yoyoyy")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = SurveyDesign(df).calibrate({"sex": {"m": 50, "f": 50}, "age": {"y": 60, "o": 40}},
                                       calfun="linear")
    assert _weighting_notes(type("P", (), {"design": d})()) == []
    assert _weighting_summary("w", None, "x") == ("", [])
    d.weighting_report.notes.append("2 negative weight(s) after calibrate")
    line, msgs = _weighting_summary("w", type("P", (), {"design": d})(), "quality.html")
    assert msgs == ["2 negative weight(s) after calibrate"]
    assert line == "weighting w: 1 note (1 other), see quality.html"


# ---------------------------------------------------------------------------------------------
# publishable wording and numbers (reviewer findings: decimals, paths, ids, headers, notation)
# ---------------------------------------------------------------------------------------------
def _visible_text(page: str) -> str:
    """The text a reader sees, without the provenance section (which records input paths)."""
    import re

    m = re.search(r"<h2[^>]*>数据来源与可重复性", page)
    body = page[:m.start()] if m else page
    body = re.sub(r"<style.*?</style>|<script.*?</script>|<nav.*?</nav>", "", body, flags=re.S)
    body = re.sub(r'src="data:[^"]+"', "", body)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_number_formats_decimals_from_the_interval():
    from survey.report.format import ci_digits, fmt_ci, fmt_mean, fmt_num, fmt_pct

    assert fmt_mean(-0.04) == "0.0" and fmt_pct(-0.0004) == "0.0" and fmt_num(-0.001, 2) == "0.00"
    assert fmt_num(-0.0312, 2, sign=True) == "-0.03" and fmt_num(0.5, 1, sign=True) == "+0.5"
    assert fmt_num(0.0, 1, sign=True) == "0.0"
    # a 1-5 score with a narrow interval: the width shows two significant digits
    d = ci_digits(2.981, 3.043, min_digits=2)
    assert d == 3 and fmt_ci(3.012, 2.981, 3.043, proportion=False, digits=d) == "3.012 (2.981–3.043)"
    assert ci_digits(3.3, 3.7, min_digits=2) == 2  # never fewer than asked
    assert ci_digits(45.0, 48.0) == 1 and ci_digits(1.0, 1.0) == 1  # a zero-width CI: the minimum
    assert ci_digits(1.0, 1.00001, max_digits=3) == 3


def test_multi_level_row_labels_give_one_header_row():
    import re

    from survey.report.format import style_table

    idx = pd.MultiIndex.from_tuples([("政治面貌", "中共党员"), ("政治面貌", "群众"), ("住房", "租房")],
                                    names=["指标", "类别/条目"])
    t = style_table(pd.DataFrame({"估计值": ["1", "2", "3"], "样本量": [10, 20, 30]}, index=idx), "T9.9",
                    formats={"估计值": "text", "样本量": "count"},
                    suppressed=pd.DataFrame({"估计值": [False, True, False], "样本量": [False] * 3}, index=idx))
    h = t.to_html()
    head = re.search(r"<thead>(.*?)</thead>", h, flags=re.S).group(1)
    assert head.count("<tr>") == 1
    assert all(x in head for x in ("指标", "类别/条目", "估计值", "样本量"))
    assert h.count(">政治面貌<") == 1  # the repeated outer label once
    assert "suppressed" in h  # masks still apply after flattening
    assert t.excel_frame().index.nlevels == 2  # the workbook keeps both levels


def test_column_labels_and_read_summary_are_plain_chinese():
    from survey.io._core import ReadReport
    from survey.questionnaire import Questionnaire
    from survey.report.content.quality import column_label, fmt_convergence
    from survey.report.sections import read_summary

    q = Questionnaire.load(ROOT / "questionnaires" / "demo-2024" / "questionnaire.yml")
    for col in ("pain_11", "leave_reasons_1", "field_other", "politics", "sat_r1" if "sat" in q else "sex"):
        lab = column_label(q, col)
        assert "_" not in lab and not lab.isascii(), (col, lab)
    assert len(column_label(q, "pain_11", width=14)) <= 14
    r = ReadReport(file="/tmp/secret/dir/2024年调查_SPSS.sav", layout="code", n_rows=1234,
                   mapped={"a": "sex"}, unmapped=["Q99"], absent=["politics"], encoding="GBK",
                   questions_matched=39, questions_total=40, pii_columns=["phone"])
    rows = dict(read_summary(r, q))
    text = " ".join(rows.values())
    assert "/tmp" not in text and "secret" not in text and "2024年调查_SPSS.sav" in rows["数据文件"]
    assert "1,234 份" in rows["读取问卷"] and "政治面貌" in text and "politics" not in text
    assert "e-" not in fmt_convergence(True, 4.9e-11, 7) and "已收敛" in fmt_convergence(True, 4.9e-11)


def test_headline_table_marks_significance_without_negative_zero():
    import numpy as np

    from survey import SurveyDesign
    from survey.report import headline_table
    from survey.trends import stack_waves

    df = pd.DataFrame({"y": np.r_[np.arange(8.0), np.arange(8.0)] / 10, "c": np.repeat(np.arange(8), 2)})
    S = stack_waves({"a": SurveyDesign(df, psu="c"), "b": SurveyDesign(df.assign(y=df.y - 0.004), psu="c")},
                    indicators=["y"])
    t = headline_table(S)
    cells = " ".join(t.display.astype(str).to_numpy().ravel())
    assert "-0.0 " not in cells + " " and "显著变化" not in t.display.columns
    assert not any(c.strip() in ("是", "否") for c in t.display.to_numpy().ravel())
    assert any(n.startswith("†") for n in t.notes)


def test_rendered_wave_reads_like_a_publication(rendered_wave):
    import re

    d, w, _ = rendered_wave
    out = d / "out"
    pages = {n: (out / f"{n}.html").read_text(encoding="utf-8") for n in ("quality", "survey_report")}
    for name, page in pages.items():
        text = _visible_text(page)
        assert not re.search(r"\d(\.\d+)?e[-+]\d", text), (name, re.findall(r".{30}\de[-+]\d.{10}", text)[:3])
        assert not re.search(r"(?<![\d.])-0\.0+(?!\d)", text), name
        assert str(d) not in text and "/tmp/" not in text, name
        assert "显著=是" not in text and "有效样本" in text and "读取" in text
        # the index names sit in the one header row (no second, partly empty header row)
        for head in re.findall(r"<thead>(.*?)</thead>", page, flags=re.S):
            assert head.count("<tr>") == 1, name
    q = _visible_text(pages["quality"])
    assert Path(w["raw"]).name in q
    inr = pages["quality"][pages["quality"].index('id="T_Q2.3"'):]
    inr = _visible_text(inr[:inr.index("</table>")])
    from survey.questionnaire import Questionnaire

    ids = [x.id for x in Questionnaire.load(w["questionnaire"])]
    assert not [i for i in ids if re.search(rf"(?<![A-Za-z_]){i}(?![A-Za-z_0-9])", inr)], inr[:300]


def test_quality_chart_counts_nonresponse_among_those_asked_not_structural_blanks():
    """The quality page's chart was ``frame.isna().mean()`` per column: unchosen rank options
    (83–91 %) and unticked "其他（请注明）" fields topped it.  Now: nonresponse among the
    respondents asked, per item (a rank/multi question is one item), missing codes counted,
    structural blanks and voluntary free text left out."""
    from types import SimpleNamespace

    from survey import Questionnaire
    from survey.report.content.quality import asked_nonresponse
    from survey.report.context import FigureOutput
    from survey.report.sections import section_quality

    q = Questionnaire.from_dict({"wave": {"id": "w"}, "missing_codes": {98: "不知道", 99: "拒答"},
                                 "questions": [
        {"id": "has", "text": "有项目吗", "type": "single", "options": {1: "有", 2: "没有"}},
        {"id": "n_proj", "text": "项目数", "type": "numeric", "ask_if": "has == 1"},
        {"id": "pain", "text": "最急需解决的问题", "type": "rank", "k": 1,
         "options": {1: "住房", 2: "收入", 3: "评价", 4: "其他"}},
        {"id": "src", "text": "经费来源", "type": "multi", "options": {1: "政府", 2: "企业", 9: "其他"},
         "other": 9},
        {"id": "sug", "text": "建议", "type": "text"}]})
    n = 40
    has = np.where(np.arange(n) < 10, "有", "没有")
    pain = np.tile([1, 2, 3, 4], n // 4).astype(float)
    pain[:4] = np.nan                                   # 4 of 40 did not answer the rank question
    f = pd.DataFrame({"rid": [str(i) for i in range(n)],
                      "has": pd.Categorical(np.where(np.arange(n) == 39, "拒答", has),
                                            categories=["有", "没有", "不知道", "拒答"]),
                      "n_proj": np.where(np.arange(n) < 8, 2.0, np.nan),   # 2 of the 10 asked blank
                      "sug": [None] * 35 + ["多交流"] * 5})
    for c in (1, 2, 3, 4):
        f[f"pain_{c}"] = pd.array(np.where(pain == c, 1, None), dtype="Int64")
    for c in (1, 2, 9):
        f[f"src_{c}"] = pd.array([c == 1] * 38 + [None, None], dtype="boolean")
    f["src_other"] = [None] * n
    r = asked_nonresponse(f, q).set_index("item")
    assert set(r.index) == {"has", "n_proj", "pain", "src"}   # no option columns, no *_other, no text
    assert r.loc["n_proj", ["n_asked", "n_missing"]].tolist() == [10, 2]
    assert r.loc["pain", ["n_asked", "n_missing"]].tolist() == [40, 4]
    assert r.loc["src", ["n_asked", "n_missing"]].tolist() == [40, 2]
    assert r.loc["has", ["n_asked", "n_missing"]].tolist() == [40, 1]   # 拒答 is nonresponse
    assert r["rate"].iloc[0] == pytest.approx(0.2)                       # n_proj: 2 / 10
    ctx = SimpleNamespace(data=f, questionnaire=q, figures=0, load_error=None)
    assert isinstance(section_quality(ctx), FigureOutput) and ctx.figures == 1
    # nobody missing: a sentence, no empty chart
    full = f.assign(n_proj=np.where(np.arange(n) < 10, 2.0, np.nan), has=pd.Categorical(
        has, categories=["有", "没有", "不知道", "拒答"]), pain_1=pd.array([1] * n, dtype="Int64"))
    full[["src_1", "src_2", "src_9"]] = False
    assert "均无无应答" in section_quality(SimpleNamespace(data=full, questionnaire=q, figures=0,
                                                           load_error=None))._repr_html_()


def test_nonresponse_table_tells_zero_suppressed_and_impossible_apart(tmp_path):
    """Q2.3 (题目无应答按原因): a reason the question cannot have (拒答 for a numeric without
    that code) was a 0 shown as "—" with the suppression footnote, like a zero and like a small
    count.  Now: impossible "／" (own footnote), zero "0", small count "—"."""
    from types import SimpleNamespace

    from survey import Questionnaire
    from survey.clean import clean
    from survey.report.content.quality import NOT_APPLICABLE, cleaning

    q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "h", "text": "每周工作小时", "type": "numeric", "range": [0, 112], "missing_codes": {}},
        {"id": "s", "text": "是否满意", "type": "single", "options": {1: "是", 2: "否"},
         "missing_codes": {98: "不知道", 99: "拒答"}},
        {"id": "u", "text": "是否了解", "type": "single", "options": {1: "是", 2: "否"},
         "missing_codes": {98: "不知道", 99: "拒答"}}]})
    n = 60
    h = np.r_[np.full(12, np.nan), np.full(n - 12, 40.0)]       # 12 blank
    s = pd.Categorical(["拒答"] * 3 + ["是"] * (n - 3), categories=["是", "否", "不知道", "拒答"])
    u = pd.Categorical(["拒答"] * 15 + ["是"] * (n - 15), categories=["是", "否", "不知道", "拒答"])
    # s: 3 拒答, no blank (its row may hide a complementary cell); u: 15 拒答, no blank
    df = pd.DataFrame({"rid": [str(i) for i in range(n)], "h": h, "s": s, "u": u})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cr = clean(df, q, rules={"duplicate_answers": False, "speeders": False})
    inr = cr.item_nonresponse()
    assert set(inr["reason"]) == {"blank", "refused"}
    ctx = SimpleNamespace(notebook="quality", prepared=SimpleNamespace(clean=cr), questionnaire=q,
                          params={"min_cell": 10}, figures=0, tables=[], tables_dir=tmp_path)
    cleaning(ctx)
    t = next(x for x in ctx.tables if x.table_id == "Q2.3")
    d = t.display
    row_h = next(i for i in d.index if "小时" in i)
    row_s = next(i for i in d.index if "满意" in i)
    row_u = next(i for i in d.index if "了解" in i)
    assert d.loc[row_h, "未作答"] == "12"
    assert d.loc[row_h, "拒答"] == NOT_APPLICABLE                 # a numeric without 拒答 code
    assert d.loc[row_s, "拒答"] == "—"                            # 3 < 10: suppressed
    assert d.loc[row_u, "拒答"] == "15"
    assert d.loc[row_u, "未作答"] == "0"                          # possible, none
    assert len({NOT_APPLICABLE, "—", "0"}) == 3
    assert any(NOT_APPLICABLE in n_ and "不是零" in n_ for n_ in t.notes)


def test_module_estimates_publish_logit_or_korn_graubard_intervals():
    """Every percentage the indicator pages publish (single, multi, likert top-box, matrix) uses
    the published rule: logit, Korn–Graubard where n_eff = p(1-p)/se^2 < 30 or p is 0/1."""
    from scipy import stats as sst

    from survey import SurveyDesign
    from survey.painpoints import demo_designs
    from survey.report.content.indicators import indicator_questions, module_estimates

    d, q = demo_designs(7, waves=("2024",), station_fraction=0.2)["2024"]
    d = SurveyDesign(d.data, weights="base_weight", strata="stratum", psu="station", lonely_psu="adjust",
                     questionnaire=q)
    qs = [x for xs in indicator_questions(q, d.data.columns).values() for x in xs]
    e = module_estimates(d, q, qs)
    types = dict((x.id, x.type) for x in qs)
    pct = e[e["kind"] == "pct"]
    assert {"single", "multi", "likert", "matrix"} <= set(pct["qid"].map(types))
    p, se, n = (pct[c].to_numpy(float) for c in ("estimate", "se", "n"))
    # design df of each question's answerers (R's degf of the subset): stations - strata
    live = np.asarray(d.weights) > 0
    dfq = {}
    for qid in pct["qid"].unique():
        ans = live & d.data[q.columns(qid)].notna().any(axis=1).to_numpy()
        dfq[qid] = d.data.loc[ans, "station"].nunique() - d.data.loc[ans, "stratum"].nunique()
    df = pct["qid"].map(dfq).to_numpy(float)
    assert (df <= float(d.df)).all()  # a question's answerers span at most every station
    t = sst.t.ppf(0.975, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        ne = np.where((p > 0) & (p < 1) & (se > 0), p * (1 - p) / se ** 2, n)
        kg = (ne < 30) | (p <= 0) | (p >= 1)
        lg, h = np.log(p / (1 - p)), t * se / (p * (1 - p))
        llo, lhi = 1 / (1 + np.exp(-(lg - h))), 1 / (1 + np.exp(-(lg + h)))
        na = ne * (sst.t.ppf(0.025, n - 1) / sst.t.ppf(0.025, df)) ** 2
        blo = np.where(p <= 0, 0.0, sst.beta.ppf(0.025, na * p, na * (1 - p) + 1))
        bhi = np.where(p >= 1, 1.0, sst.beta.ppf(0.975, na * p + 1, na * (1 - p)))
    assert kg.sum() >= 3 and (~kg).sum() >= 50  # both branches are published
    np.testing.assert_allclose(pct["ci_low"], np.where(kg, blo, llo), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(pct["ci_high"], np.where(kg, bhi, lhi), rtol=1e-8, atol=1e-12)
    assert ((pct["ci_low"] >= 0) & (pct["ci_high"] <= 1)).all()
    # means keep the symmetric t interval
    mean = e[e["kind"] == "mean"]
    np.testing.assert_allclose(mean["estimate"] - mean["ci_low"], mean["ci_high"] - mean["estimate"], rtol=1e-8)


def test_one_p_value_formatter_everywhere():
    """Every page prints a p-value the same way: ``<0.001`` below 0.001, else three decimals
    (the old PP6 printed ``0.00``); untested is blank, never ``nan`` or ``<0.001``."""
    from survey.report.content.painpoints import _pfmt
    from survey.report.content.indicators import _pfmt as prose_p
    from survey.report.format import fmt_p, format_value

    assert fmt_p(0.0004) == "<0.001" and fmt_p(0.0123) == "0.012" and fmt_p(0.001) == "0.001"
    assert fmt_p(float("nan")) == fmt_p(None) == "" and fmt_p(1.0) == "1.000"
    for p in (0.0004, 0.0123, 0.5, float("nan")):
        assert format_value(p, "pvalue") == _pfmt(p) == fmt_p(p)
    assert prose_p(0.0004) == "<0.001" and prose_p(0.0123) == "=0.012"


def test_symbols_in_a_table_get_their_legend():
    from survey.report.format import NOTE_MARK, SIGNIFICANT, UNRELIABLE, style_table

    df = pd.DataFrame({"变化": ["+1.2" + SIGNIFICANT, "0.3"], "指标": ["收入" + NOTE_MARK, "工时"]})
    t = style_table(df, "T9.8", formats={"变化": "text", "指标": "text"},
                    unreliable=pd.DataFrame({"变化": [False, True], "指标": [False, False]}))
    legends = [n for n in t.notes if n.startswith("“")]
    assert [n[1] for n in legends] == [UNRELIABLE, SIGNIFICANT, NOTE_MARK]
    assert "不稳定" in legends[0] and "校正" in legends[1] and "措辞" in legends[2]
    plain = style_table(pd.DataFrame({"a": ["1"]}), "T9.7", formats={"a": "text"})
    assert not [n for n in plain.notes if n.startswith("“")]


def test_each_symbol_has_one_meaning_and_a_legend_on_every_page(next_wave):
    """``*`` only marks an unreliable estimate (a number followed by ``*``, or its legend);
    every page that shows ``*``, ``†`` or ``‡`` explains it on the page."""
    import re

    from survey.report.format import NOTE_MARK, SIGNIFICANT, SYMBOL_LEGEND, UNRELIABLE

    out = next_wave / "reports" / "2025-test"
    for name in ("survey_report", "painpoints", "trends"):
        text = _visible_text((out / f"{name}.html").read_text(encoding="utf-8"))
        legend = f"“{UNRELIABLE}”"  # the legend line, or the methods' "以“*”标注" near the top
        other = re.sub(r"[\d)）]\*", "", text.replace(legend, ""))  # numbers, CIs marked unreliable
        assert UNRELIABLE not in other, (name, [m.group() for m in re.finditer(r".{25}\*.{25}", other)][:3])
        if re.search(r"[\d)）]\*", text):
            assert re.search(rf"{re.escape(legend)}[^。]*(不稳定|仅供参考)", text), name
        if SIGNIFICANT in text:
            assert re.search(rf"(“{SIGNIFICANT}”：|{SIGNIFICANT} 表示|{SIGNIFICANT}[^。]{{0,12}}校正)", text), name
        if NOTE_MARK in text:
            assert f"“{NOTE_MARK}”：{SYMBOL_LEGEND[NOTE_MARK]}" in text or f"{NOTE_MARK}：" in text, name
        assert "difference in mean" not in text and "log odds" not in text and "odds ratio" not in text, name
        assert not re.search(r"p值?\s*[=＝]?\s*0\.00(?!\d)", text), name


def test_wide_tables_scroll_inside_the_page_and_print_whole():
    """PP9/PP10 are wider than the text column at 1280 px: on screen the table scrolls inside its
    box instead of running past the page's right edge; in print nothing is clipped."""
    from survey.report.html import CSS, PRINT_CSS

    screen = CSS[: CSS.index(PRINT_CSS)]
    assert ".survey-table-wrap{max-width:100%;overflow-x:auto}" in screen
    assert ".survey-table-wrap{overflow:visible" in PRINT_CSS


# ---------------------------------------------------------------------------------------------
# each block once, folded detail, one-line intervals, no English ids (issue #16 "in the way")
# ---------------------------------------------------------------------------------------------
def test_each_block_once_and_linked_from_the_other_pages(next_wave):
    """The sample-composition tables, the full 方法说明 and the provenance record were repeated
    on every page: now the tables are on the quality page only (the survey report links to
    them), the methods are written out once (survey report, ``id="methods"``) and linked from
    the other pages, and the provenance record is a folded block."""
    out = next_wave / "reports" / "2025-test"
    pages = {p.stem: p.read_text(encoding="utf-8") for p in out.glob("*.html") if p.stem != "index"}
    has_sample = [n for n, pg in pages.items() if "样本构成：" in _table_captions(pg)]
    assert has_sample == ["quality"], has_sample
    rep = pages["survey_report"]
    link = re.search(r'<a href="quality\.html#(Q1\.\d+)">', rep)
    assert link and re.search(rf'(?<![\w-])id="{re.escape(link.group(1))}"', pages["quality"])
    full = [n for n, pg in pages.items() if "<b>方差估计</b>" in pg or "<b>数据披露控制</b>" in pg]
    assert full == ["survey_report"], full
    assert rep.count('id="methods"') == 1
    for name, pg in pages.items():
        if name != "survey_report":
            assert 'href="survey_report.html#methods"' in pg, name
        assert '<details class="fold provenance" id="provenance">' in pg, name  # folded: one line
        assert pg.count("SHA-256 <code>") == pg[pg.index('id="provenance"'):].count("SHA-256 <code>"), name
    # the subgroup tables are folded (one line each, opened by a click or a link), their numbers kept
    for k in range(1, 4):
        m = re.search(rf'<details class="fold"><summary><b>T4\.{k}</b>.*?</details>', rep, flags=re.S)
        assert m and f'id="T_T4.{k}"' in m.group(0), k


def _table_captions(page: str) -> str:
    return " ".join(re.findall(r"<caption>(.*?)</caption>", page, flags=re.S))


def test_interval_cells_stay_on_one_line(next_wave):
    """CIs wrapped over 2–4 lines in the T4.x tables: every cell holding an estimate and its
    interval is classed ``ci`` and the page's CSS keeps such a cell on one line."""
    from survey.report.html import CSS

    assert "td.ci{white-space:nowrap}" in CSS.replace(" ", "")
    rep = (next_wave / "reports" / "2025-test" / "survey_report.html").read_text(encoding="utf-8")
    assert "td.ci{white-space:nowrap}" in rep
    for k in (1, 2):
        tab = rep[rep.index(f'id="T_T4.{k}"'):]
        tab = tab[:tab.index("</table>")]
        cells = re.findall(r'<td class="([^"]*)"\s*>([^<]*)</td>', tab)
        with_ci = [(c, v) for c, v in cells if re.search(r"\(-?[\d.,]+–-?[\d.,]+\)", v)]
        assert len(with_ci) >= 10, k
        assert all("ci" in c.split() for c, _ in with_ci), [x for x in with_ci if "ci" not in x[0].split()][:3]


def test_table_cells_labels_and_headings_are_text_never_markup():
    """pandas' Styler writes cell values, row labels and headings raw: a category label or a
    respondent's words such as "<img src=x onerror=…>" became markup on the page (and "<0.001"
    reached the page unescaped once nbconvert's BeautifulSoup pass was skipped).  Every one is
    escaped now, and reads back as the same text."""
    from html.parser import HTMLParser

    from survey.report import style_table

    bad = ['<img src=x onerror="alert(1)">', "<script>alert(2)</script>", "R&D <b>", "<0.001"]
    df = pd.DataFrame({bad[0]: bad[1:], "人数": ["1", "2", "3"]},
                      index=pd.Index(["<i>甲</i>", "乙&丙", "<u>丁"], name="<s>组</s>"))
    tags, texts = [], []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

        def handle_data(self, data):
            texts.append(data)

    for index_shown in (True, False):
        tags.clear()
        texts.clear()
        t = style_table(df, "T9.7", formats={bad[0]: "text", "人数": "count"}, index=index_shown)
        P(convert_charrefs=True).feed(t.to_html())
        assert set(tags) <= {"div", "style", "table", "caption", "thead", "tbody", "tr", "th", "td"}, set(tags)
        seen = "".join(texts)
        for x in bad[1:] + [bad[0]] + (["<i>甲</i>", "乙&丙", "<u>丁", "<s>组</s>"] if index_shown else []):
            assert x in seen, x


def test_a_table_of_many_columns_is_set_to_fit_the_page():
    """PP9 (13 columns) and the 清单 (14) scrolled sideways: their headings stayed on one line
    and 位次, a number, took the 11em kept for word labels.  A table of WIDE_COLUMNS or more is
    classed ``wide`` (smaller type; headings over 4 characters wrap, at least 3 characters a
    line), a numeric row label is classed ``numidx`` (no reserved width); narrower tables keep
    their one-line headings."""
    import numpy as np

    from survey.report import style_table
    from survey.report.format import WIDE_COLUMNS
    from survey.report.html import CSS

    css = CSS.replace(" ", "")
    assert "table.survey-table.numidxtbodyth{min-width:0}" in css
    assert "table.survey-table.wide{font-size:12.5px}" in css and "table.survey-table.widetheadth{min-width:3em}" in css
    heads = ["最小可检测变化", "其他群体变化", "差中差"] + [f"列{k}" for k in range(WIDE_COLUMNS)]
    for ncol in (WIDE_COLUMNS - 2, WIDE_COLUMNS - 1):   # + 1 row-label column: narrow, then wide
        df = pd.DataFrame(np.arange(2 * ncol).reshape(2, ncol) * 1.5, columns=heads[:ncol],
                          index=pd.Index([1, 2], name="位次"))
        page = style_table(df, "T9.9", formats={c: "mean" for c in df.columns}).to_html()
        cls = re.search(r'<table[^>]*class="([^"]*)"', page).group(1).split()
        wide = ncol + 1 >= WIDE_COLUMNS
        assert ("wide" in cls) == wide and "numidx" in cls, (ncol, cls)
        nowrap = re.findall(r"(\.col\d+)\s*\{\s*white-space: nowrap", page)
        # the 7-character heading wraps only in the wide table; a 2-character one never
        assert (".col0" in nowrap) != wide and ".col3" in nowrap, (ncol, nowrap)
    words = style_table(pd.DataFrame({"人数": [1]}, index=pd.Index(["男"], name="性别")), "T9.8").to_html()
    assert "numidx" not in re.search(r'<table[^>]*class="([^"]*)"', words).group(1)


#: words in Latin letters a reader may meet on a page: statistical methods and standards named
#: after people or bodies, accepted abbreviations, software and file-format names
ACCEPTED_LATIN = {"CI", "SE", "PSU", "Holm", "Rao", "Scott", "Bonferroni", "Kish", "Korn", "Graubard",
                  "Parker", "NCHS", "ASMD", "logit", "Excel", "Word", "HTML", "SPSS", "Stata", "CSV",
                  "GBK", "UTF", "bootstrap"}


def _latin_words(text: str, allowed: set[str]) -> list[str]:
    text = re.sub(r"[\w.-]+\.(xlsx|docx|html|csv|sav|zsav|dta|yml|parquet)\b", " ", text)  # file names
    return sorted({w for w in re.findall(r"[A-Za-z_]{3,}", text) if w not in allowed})


def test_visible_text_has_no_english_terms_or_ids(next_wave):
    """Every page's visible text (provenance excepted: it records file names and parameters)
    holds no English word or variable id other than the accepted names above; the wave ids
    and text read from the wave's own input files (margin sources) are the user's."""
    out = next_wave / "reports" / "2025-test"
    pop = "".join((next_wave / "questionnaires" / w / "population.yml").read_text(encoding="utf-8")
                  for w in ("2024-test", "2025-test") if (next_wave / "questionnaires" / w / "population.yml").exists())
    theirs = set(re.findall(r"[A-Za-z_]{3,}", pop)) | {"test"}
    bad = {}
    for p in sorted(out.glob("*.html")):
        words = _latin_words(_visible_text(p.read_text(encoding="utf-8")), ACCEPTED_LATIN | theirs)
        if words:
            bad[p.stem] = words
    assert not bad, bad


def test_priority_matrix_labels_do_not_overlap_and_the_caption_explains_the_quadrants():
    """The demo's matrix had overlapping labels (items with nearly equal shares), unexplained
    quadrant names and no word on why the most chosen problem is in 广泛关注."""
    from itertools import combinations

    import matplotlib.pyplot as plt

    from survey.report.content.painpoints import plot_priority, priority_caption

    items = ["收入待遇偏低", "住房困难", "子女教育", "科研经费不足/申请难", "报销手续繁琐", "评价体系唯论文/唯帽子",
             "职称晋升难", "工作压力大/时间长", "非科研事务多(填表、会议、检查)", "科研时间不足", "学术交流机会少",
             "成果转化难", "身心健康", "养老/照护负担"]
    prev = np.array([52.0, 32.5, 27.7, 14.3, 14.1, 15.5, 26.1, 30.5, 15.5, 13.2, 9.2, 10.8, 11.1, 12.6]) / 100
    sev = np.array([29.0, 29.7, 31.4, 29.1, 28.7, 32.2, 29.0, 29.7, 29.4, 32.6, 27.9, 34.9, 44.4, 25.8]) / 100
    xs, ys = float(np.median(prev)), float(np.median(sev))
    quad = np.select([(prev >= xs) & (sev >= ys), prev >= xs, sev >= ys], ["优先解决", "广泛关注", "少数严重"], "持续观察")
    pm = pd.DataFrame({"item": items, "prevalence": prev, "severity": sev, "severity_low": sev - 0.025,
                       "severity_high": sev + 0.025, "suppressed": False, "quadrant": quad})
    pm.attrs.update(split_prevalence=xs, split_severity=ys, split="median", among="first")
    fig = plot_priority(pm)
    r = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text() in items]
    assert sorted(t.get_text() for t in labels) == sorted(items)
    boxes = [t.get_window_extent(r) for t in labels]
    clash = [(labels[i].get_text(), labels[j].get_text()) for i, j in combinations(range(len(boxes)), 2)
             if boxes[i].overlaps(boxes[j])]
    assert not clash, clash
    frame = ax.get_window_extent(r)
    assert all(b.x0 >= frame.x0 - 1 and b.x1 <= frame.x1 + 1 for b in boxes)
    plt.close(fig)
    cap = priority_caption(pm)
    for q in ("优先解决", "广泛关注", "少数严重", "持续观察", "中位数"):
        assert q in cap, q
    why = cap[cap.index("选择比例最高"):]
    assert "“收入待遇偏低”" in why and "29.0%" in why and "落在“广泛关注”象限" in why
    assert "置信区间之内" in why  # the median (29.55%) lies inside its interval: the quadrant is not robust


def test_a_run_without_previous_says_which_earlier_wave_it_could_compare_with(next_wave, capsys):
    """``survey report --root <project> --wave 2025-test`` without ``--previous``: the project's
    harmonization.yml lists 2024-test before it, so the trends page (and PP8/PP9) say how to
    compare with it instead of "there is no earlier wave"; a first wave still says that."""
    from survey.report import trend_inputs
    from survey.report.content.data import earlier_waves_in_project

    qf = next_wave / "questionnaires"
    p = {"wave": "2025-test", "questionnaire": str(qf / "2025-test" / "questionnaire.yml"), "previous_waves": []}
    assert earlier_waves_in_project(p) == ["2024-test"]
    r = trend_inputs(p).reason
    assert "--previous 2024-test" in r and "没有可比较的往期调查" not in r
    first = {**p, "wave": "2024-test", "questionnaire": str(qf / "2024-test" / "questionnaire.yml")}
    assert earlier_waves_in_project(first) == []
    assert trend_inputs(first).reason == "本轮调查之前没有可比较的往期调查，本节不报告变化趋势。"
