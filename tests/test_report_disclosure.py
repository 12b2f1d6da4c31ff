"""Small cells in every published table (issue #13 items 4 and 10).

A wave is built from the demo with one title level (正高) cut to 3 respondents and one district
(西林区) cut to 5; the report is rendered and every table of every page and every sheet of
``tables.xlsx`` is scanned — read back with ``openpyxl`` and the standard library's HTML parser,
not with the package's own readers — for a count below the minimum cell, and for a hidden
group that another table still publishes (the Q1.3 total minus T4.3's columns case).
"""
from __future__ import annotations

import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
MIN_CELL = 10
SMALL_TITLE, N_TITLE = "正高", 3
SMALL_REGION, N_REGION = "西林区", 5


# ----------------------------------------------------------------------------- the wave
def _small_cells_wave(d: Path) -> dict:
    """A 12 % subsample of the demo 2024 wave with 3 respondents titled 正高 and 5 in 西林区
    (none of them planted duplicates or other dirt), written as an SPSS export."""
    from survey.demo import population_yaml, questionnaire_yaml
    from survey.demo.wave import build_wave
    from survey.io import write_sav

    d.mkdir(parents=True, exist_ok=True)
    wv = build_wave("2024", 2024)
    rng = np.random.default_rng(13)
    ex = wv.export.loc[rng.random(len(wv.export)) < 0.12].reset_index(drop=True)
    for c in ex.columns:
        if pd.api.types.is_datetime64_any_dtype(ex[c].dtype):
            ex[c] = ex[c].astype("datetime64[us]")
    truth = wv.clean.set_index(wv.clean["rid"].astype(str))
    rid = ex["rid"].astype(str)
    title = rid.map(truth["title"].astype(str))
    district = rid.map(truth["district"].astype(str))
    dirty = set(wv.dirt["rid"].astype(str))
    dirty |= {m for s in wv.dirt["detail"].astype(str) for m in re.findall(r"\d{6,}", s)}
    ok = title.notna() & district.notna() & ~rid.isin(dirty)
    t_rows = ex.index[(title == SMALL_TITLE) & ok & (district != SMALL_REGION)][:N_TITLE]
    r_rows = ex.index[(district == SMALL_REGION) & ok & (title != SMALL_TITLE)][:N_REGION]
    drop = (((title == SMALL_TITLE) & ~ex.index.isin(t_rows))
            | ((district == SMALL_REGION) & ~ex.index.isin(r_rows)))
    ex = ex.loc[~drop].reset_index(drop=True)
    (d / "questionnaire.yml").write_text(questionnaire_yaml("2024"), encoding="utf-8")
    (d / "population.yml").write_text(population_yaml("2024", 2024), encoding="utf-8")
    wv.stations.to_csv(d / "stations.csv", index=False, float_format="%.10g")
    shutil.copy(ROOT / "questionnaires" / "demo-2024" / "painpoint_lexicon.yml", d)
    write_sav(ex, wv.questionnaire, d / "small_cells_SPSS.sav", encoding="gbk")
    return {"wave": "cells", "questionnaire": str(d / "questionnaire.yml"),
            "data": str(d / "small_cells_SPSS.sav"), "population": str(d / "population.yml"),
            "stations": str(d / "stations.csv")}


@pytest.fixture(scope="module")
def cells_wave(tmp_path_factory):
    return _small_cells_wave(tmp_path_factory.mktemp("cells") / "in")


@pytest.fixture(scope="module")
def cleaned_counts(cells_wave):
    """Respondents kept by the cleaning, per title and per district (what the report counts)."""
    from survey.pipeline import prepare_wave

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = prepare_wave(cells_wave["data"], cells_wave["questionnaire"],
                         population=cells_wave["population"], stations=cells_wave["stations"],
                         lonely_psu="adjust")
    data = w.design.data.loc[w.design.weights > 0]
    return (data["title"].astype(str).value_counts(), data["district"].astype(str).value_counts(),
            w.design)


def test_the_wave_has_the_small_cells(cleaned_counts):
    titles, districts, _ = cleaned_counts
    assert 0 < titles[SMALL_TITLE] < MIN_CELL
    assert 0 < districts[SMALL_REGION] < MIN_CELL
    assert (titles.drop(SMALL_TITLE) >= MIN_CELL).all()


# ----------------------------------------------------------------------------- reading the outputs
class _Tables(HTMLParser):
    """Every ``div.survey-table-wrap`` table of a page: id, header row, body rows (cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cur: dict | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "survey-table-wrap" in (a.get("class") or ""):
            self._cur = {"id": a.get("data-table-id"), "head": [], "rows": []}
        elif self._cur is not None:
            if tag == "thead":
                self._in_head = True
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th") and self._row is not None:
                self._cell = []

    def handle_endtag(self, tag):
        if self._cur is None:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self._cur["head"] if self._in_head else self._cur["rows"]).append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            head = self._cur["head"][-1] if self._cur["head"] else []
            self.tables.append({"id": self._cur["id"], "header": head, "rows": self._cur["rows"],
                                "source": "html"})
            self._cur = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(out: Path) -> list[dict]:
    found = []
    for page in sorted(out.glob("*.html")):
        p = _Tables()
        p.feed(page.read_text(encoding="utf-8"))
        for t in p.tables:
            t["page"] = page.name
        found += p.tables
    return found


def xlsx_tables(path: Path) -> list[dict]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    found = []
    for ws in wb.worksheets[1:]:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        # title row, then (since the sheets carry one) the notes row 说明：…, then the header
        h = 2 if len(rows) > 2 and isinstance(rows[1][0], str) and rows[1][0].startswith("说明") else 1
        header = ["" if v is None else str(v) for v in rows[h]]
        body = []
        for r in rows[h + 1:]:
            if len(header) > 1 and all(v is None for v in r[1:]) and (
                    r[0] is None or (isinstance(r[0], str) and (len(r[0]) > 20 or r[0].endswith("。")))):
                continue  # a footnote or a blank spacer row
            body.append(["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in r])
        found.append({"id": ws.title, "header": header, "rows": body, "source": "xlsx", "page": path.name})
    return found


#: Columns holding unweighted respondent counts.
COUNT_COLUMNS = {"人数", "样本量", "样本人数", "文本条数", "应答人数基数"}
#: Row labels of a row of counts.
COUNT_ROWS = {"样本量（人）"}
#: The cleaning summary counts cleaning actions, not respondents with an attribute; the quality
#: report says so in its footnote (reviewed by analysts before publication).
PROCESS_TABLES = {"Q2.1", "Q2.2"}
_NUM = re.compile(r"^-?\d[\d,]*(\.\d+)?$")


def _num(s: str) -> float | None:
    s = s.strip().rstrip("*")
    return float(s.replace(",", "")) if _NUM.match(s) else None


def small_count_cells(tables: list[dict], min_cell: int) -> list[tuple]:
    """(page, table, row, column, value) of every published count from 1 to *min_cell* − 1 (an
    empty cell of a large base is published, as :func:`survey.privacy.disclosure_mask` says)."""
    bad = []
    for t in tables:
        if t["id"] in PROCESS_TABLES:
            continue
        h = t["header"]
        counts = {j for j, c in enumerate(h) if c.strip() in COUNT_COLUMNS}
        if t["id"].endswith("2.3") and "缺失率(%)" in h:  # item nonresponse: every reason is a count
            counts |= {j for j, c in enumerate(h) if j > 0 and c != "缺失率(%)"}
        for r in t["rows"]:
            cols = set(range(1, len(r))) if r and r[0] in COUNT_ROWS else counts
            for j in cols:
                if j < len(r):
                    v = _num(r[j])
                    if v is not None and 0 < v < min_cell:  # nobody with a reason: 0 is allowed
                        bad.append((t["page"], t["id"], r[0], h[j] if j < len(h) else j, r[j]))
    return bad


def hidden_labels(tables: list[dict]) -> dict[str, set[str]]:
    """Per sample-composition table (Q1.k / T1.k): the levels it hides."""
    out = {}
    for t in tables:
        if re.match(r"^[QT]1\.\d+$", t["id"]) and t["header"][1:2] == ["人数"]:
            # "—" on the page; a blank cell in the sheet (suppressed numbers are not written)
            out[t["id"]] = {r[0] for r in t["rows"] if r[0] not in ("合计", "") and r[1] in ("—", "")}
    return out


def published_for(tables: list[dict], levels: set[str]) -> list[tuple]:
    """Cells that publish a number for one of *levels*: a column or a row labelled with the
    level (also ``职称：正高``) in the group tables, whose cell holds a digit."""
    bad = []
    for t in tables:
        if t["id"] in PROCESS_TABLES:
            continue
        h = t["header"]
        # the key-indicator tables' 样本量 is the base of the whole question (every option's row)
        skip = {j for j, c in enumerate(h) if c == "样本量" and re.match(r"^[QT]3\.\d+$", t["id"])}
        if t["id"].endswith("3.2") and "样本人数" in h:  # weighting targets: only the sample counts
            skip |= {j for j, c in enumerate(h) if c not in ("样本人数", "样本未加权(%)")}
        cols = {j for j, c in enumerate(h) if c in levels}
        for r in t["rows"]:
            # the level may label the row (first two cells) or, in a long sheet, sit in a column
            lab = [c.split("：")[-1] for c in r[:2]] + [c for c in r[2:] if c and c in levels]
            row_hit = any(x in levels for x in lab)
            for j, c in enumerate(r):
                if j in skip or (not row_hit and j not in cols) or c in levels or c.endswith(tuple(f"：{x}" for x in levels)):
                    continue
                if j < (2 if row_hit else 1):
                    continue
                if re.search(r"\d", c) and not c.startswith("第"):
                    bad.append((t["page"], t["id"], r[0], h[j] if j < len(h) else j, c))
    return bad


def subtraction_leaks(tables: list[dict], min_cell: int) -> list[tuple]:
    """Sample tables whose total minus the visible levels is a small positive count."""
    bad = []
    for t in tables:
        if not (re.match(r"^[QT]1\.\d+$", t["id"]) and t["header"][1:2] == ["人数"]):
            continue
        total = [_num(r[1]) for r in t["rows"] if r[0] == "合计"]
        if not total or total[0] is None:
            continue
        vis = sum(v for r in t["rows"] if r[0] != "合计" and (v := _num(r[1])) is not None)
        if 0 < total[0] - vis < min_cell:
            bad.append((t["page"], t["id"], total[0] - vis))
    return bad


def scan(out: Path, min_cell: int = MIN_CELL) -> dict:
    tables = html_tables(out) + xlsx_tables(out / "tables.xlsx")
    hidden = set().union(*hidden_labels(tables).values()) if hidden_labels(tables) else set()
    return {"tables": tables, "hidden": hidden, "small": small_count_cells(tables, min_cell),
            "leaks": subtraction_leaks(tables, min_cell), "elsewhere": published_for(tables, hidden)}


# ----------------------------------------------------------------------------- the scanner itself
def test_scanner_finds_planted_problems(tmp_path):
    """The scanner is not vacuous: a workbook with a 3, a total leaking a hidden 4 and a group
    table showing a hidden level is caught on every count."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "目录"
    ws = wb.create_sheet("Q1.3")
    for r in (["Q1.3 样本构成：职称"], [None, "人数", "比例(%)"], ["正高", "—", "—"], ["副高", 40, 40],
              ["中级", 3, 3], ["合计", 47, 100]):
        ws.append(r)
    ws = wb.create_sheet("T4.3")
    for r in (["T4.3 主要指标分职称"], ["指标", "正高", "副高"], ["样本量（人）", "—", "40"],
              ["工作时间（小时）", "47.1 (45.0–49.2)", "—"]):
        ws.append(r)
    (tmp_path / "out").mkdir()
    wb.save(tmp_path / "out" / "tables.xlsx")
    s = scan(tmp_path / "out")
    assert ("tables.xlsx", "Q1.3", "中级", "人数", "3") in s["small"]
    assert s["leaks"] == [("tables.xlsx", "Q1.3", 4.0)]
    assert s["hidden"] == {"正高"}
    assert [b[1:3] for b in s["elsewhere"]] == [("T4.3", "工作时间（小时）")]


# ----------------------------------------------------------------------------- the whole report
@pytest.fixture(scope="module")
def rendered(cells_wave, tmp_path_factory):
    from survey.report.runner import render_report

    d = tmp_path_factory.mktemp("cells-out")
    render_report(dict(cells_wave), output_dir=d / "out",
                  notebooks=["quality", "survey_report", "painpoints"], progress=False)
    return d / "out"


def test_no_published_cell_below_min_cell(rendered, cleaned_counts):
    s = scan(rendered)
    names = {(t["source"], t["id"]) for t in s["tables"]}
    # both outputs were read: every page's tables and every sheet
    assert {("html", "Q1.3"), ("xlsx", "Q1.3"), ("html", "T4.3"), ("xlsx", "T4.3"),
            ("html", "PP3"), ("xlsx", "PP3"), ("xlsx", "PP7"), ("xlsx", "Q2.3"), ("xlsx", "Q3.2"),
            ("xlsx", "T3.1")} <= names
    assert s["small"] == []
    assert s["leaks"] == []
    assert s["elsewhere"] == []


def test_small_title_hidden_everywhere_and_not_recoverable(rendered, cleaned_counts):
    """The issue's case: 3 respondents titled 正高.  Q1.3 and T1.3 hide it and a protecting
    level; T4.3 hides the same levels (so the total minus T4.3 gives nothing); PP3 shows no
    top items for the group."""
    titles = cleaned_counts[0]
    s = scan(rendered)
    tabs = {(t["source"], t["id"]): t for t in s["tables"]}
    hid = hidden_labels(s["tables"])
    assert SMALL_TITLE in hid["Q1.3"] and len(hid["Q1.3"]) >= 2
    assert hid["Q1.3"] == hid["T1.3"]
    assert titles[sorted(hid["Q1.3"])].sum() >= MIN_CELL
    for src in ("html", "xlsx"):
        t43 = tabs[(src, "T4.3")]
        for lv in hid["Q1.3"]:
            if lv in t43["header"]:
                j = t43["header"].index(lv)
                assert all(r[j] in ("—", "") for r in t43["rows"]), (src, lv)
        pp3 = [r for r in tabs[(src, "PP3")]["rows"] if r[0].endswith(f"职称：{SMALL_TITLE}")]
        assert pp3 and all(c in ("—", "") for c in pp3[0][1:]), (src, pp3)
    # the public API flags the domain as well
    d = cleaned_counts[2]
    est = d.mean("hours", by="title", na_rm=True)
    row = est.loc[est["title"].astype(str) == SMALL_TITLE].iloc[0]
    assert row["n"] < MIN_CELL and bool(row["small_n"])
    assert not est.loc[est["title"].astype(str) != SMALL_TITLE, "small_n"].any()


# ----------------------------------------------------------------------------- regional reports
def test_region_with_five_respondents_renders_suppressed(cells_wave, tmp_path):
    """``--region 西林区`` (5 respondents): the domain is estimated on the full design, the
    report renders (it crashed in the painpoints notebook) with every cell suppressed and a
    Chinese note, and no published count below the minimum."""
    from survey.report.runner import render_report

    out = tmp_path / "region"
    render_report({**cells_wave, "region": SMALL_REGION, "region_var": "district"}, output_dir=out,
                  notebooks=["survey_report", "painpoints"], progress=False)
    s = scan(out)
    assert s["small"] == [] and s["leaks"] == [] and s["elsewhere"] == []
    pp = (out / "painpoints.html").read_text(encoding="utf-8")
    sr = (out / "survey_report.html").read_text(encoding="utf-8")
    assert f"地区：{SMALL_REGION}" in sr and "有效样本：少于 10 人" in sr
    assert "少于最小单元格 10 人" in pp
    for page in (pp, sr):
        assert "Traceback" not in page and "output_error" not in page
    # the workbook's contents number every table without a gap: the district table a
    # one-district report cannot have is listed with the reason (no sheet)
    import openpyxl

    toc = [r for r in openpyxl.load_workbook(out / "tables.xlsx")["目录"].iter_rows(min_row=4, values_only=True)]
    t4 = [r for r in toc if str(r[0]).startswith("T4.")]
    assert [r[0] for r in t4] == [f"T4.{k}" for k in range(1, len(t4) + 1)]
    gone = [r for r in t4 if str(r[1]).startswith("（未列出）")]
    assert len(gone) == 1 and f"（{SMALL_REGION}）" in gone[0][1] and not gone[0][3]
    tabs = {(t["source"], t["id"]): t for t in s["tables"]}
    for tid in ("PP1", "PP3", "T1.3", "T4.3"):
        rows = tabs[("xlsx", tid)]["rows"]
        assert rows and [c for r in rows for c in r[1:] if re.search(r"\d", c)] == [], tid


def test_regional_sample_table_lists_the_region_not_every_empty_region(cells_wave, cleaned_counts, tmp_path):
    """In a regional report the sample table by the region variable listed every other region
    as an empty (suppressed) row, and complementary suppression then hid the region's own count:
    a blank table (the national demo's 河南省 report, Q1.5/T1.5).  It now lists the region with
    its count, says why the others are absent, and hides nothing else; a region under the
    minimum is still hidden."""
    from survey import report
    from survey.report.sections import section_sample

    by_district = cleaned_counts[1]
    big = str(by_district.index[0])
    for region, shown in ((big, True), (SMALL_REGION, False)):
        P = report.validate(notebook="quality", output_dir=str(tmp_path / region), region=region,
                            region_var="district", **{k: cells_wave[k] for k in
                                                      ("questionnaire", "data", "population", "stations")})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = report.setup(P, notebook="quality")
            section_sample(ctx, groups=["title", "district"])
        t = next(t for t in ctx.tables if t.title.endswith(ctx.questionnaire["district"].text))
        assert t.data.index.tolist()[:-1] == [region], region
        assert any(f"本报告只含{region}的受访者" in n for n in t.notes)
        assert ctx.hidden_levels("district") == (set() if shown else {region})
        hid = t.suppressed["人数"].to_numpy(bool)
        if shown:
            assert not hid.any() and int(t.data["人数"].iloc[0]) == int(by_district[big])
        else:
            assert hid[0]
        # the other group variable keeps every level (empty ones included)
        other = next(t for t in ctx.tables if t.title.endswith(ctx.questionnaire["title"].text))
        assert len(other.data) - 1 == len(ctx.questionnaire["title"].options)


def test_regional_quality_page_says_which_sections_are_the_whole_waves(cells_wave, cleaned_counts, tmp_path):
    """The 河南省 quality page said 读取问卷 47,325 份 under a title line of 2,058 read, and its
    cleaning and weighting tables were the whole wave's without saying so.  A regional page now
    gives the region's count beside the file's and says the cleaning and weighting sections are
    the whole wave's; a report of all regions says nothing of the kind."""
    from survey import report
    from survey.report.sections import section_cleaning, section_intake, section_weighting

    big = str(cleaned_counts[1].index[0])
    pages = {}
    for region in (big, SMALL_REGION, None):
        extra = {} if region is None else {"region": region, "region_var": "district"}
        P = report.validate(notebook="quality", output_dir=str(tmp_path / str(region)), **extra,
                            **{k: cells_wave[k] for k in ("questionnaire", "data", "population", "stations")})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx = report.setup(P, notebook="quality")
            pages[region] = (ctx, [x._repr_html_() for x in (section_intake(ctx), section_cleaning(ctx),
                                                              section_weighting(ctx))])
    n_file = pages[None][0].read_report.n_rows
    ctx, (intake, cleaning, weighting) = pages[big]
    assert f"{len(ctx.data):,} 份（{big}；整份文件 {n_file:,} 份）" in intake
    assert f"本报告为{big}的地区报告" in intake
    assert "清理在整轮调查（全部地区）上进行" in cleaning
    assert f"本报告的估计是{big}受访者在整轮设计中的子总体（域）估计" in weighting
    _, (intake, _, _) = pages[SMALL_REGION]
    assert f"少于 {MIN_CELL} 份（{SMALL_REGION}；整份文件" in intake
    assert not any("整轮" in h or "整份" in h for h in pages[None][1])


@pytest.mark.slow
def test_report_by_district_fans_out_every_region(cells_wave, tmp_path):
    """``survey report --by district`` (the documented regional reports): every region renders,
    the 5-respondent one suppressed, and no page or sheet publishes a small count."""
    from survey.cli import main

    out = tmp_path / "by"
    rc = main(["report", "--wave", "cells", "-q", cells_wave["questionnaire"], "--data", cells_wave["data"],
               "--population", cells_wave["population"], "-p", f"stations={cells_wave['stations']}",
               "--notebooks", "survey_report,painpoints", "--by", "district", "-o", str(out), "--quiet"])
    assert rc == 0
    regions = sorted(p for p in (out / "regions").iterdir() if p.is_dir())
    assert len(regions) == 10
    for r in [out, *regions]:
        s = scan(r)
        assert s["small"] == [] and s["leaks"] == [] and s["elsewhere"] == [], r.name
        assert (r / "painpoints.html").is_file() and (r / "tables.xlsx").is_file()


def test_hidden_levels_are_the_levels_the_sample_table_hides():
    """ReportContext.hidden_levels (used by T4/PP3/PP4/Q3.2) and the sample table (Q1/T1) hide
    the same levels, an empty category included (a region without any 正高: the --by fan-out
    showed 副高 in T4.3 while T1.3 hid it)."""
    from survey.report.disclosure import hidden_levels, suppress_table

    cats = ["正高", "副高", "中级", "初级", "无"]
    for counts in ([0, 27, 59, 47, 30], [3, 40, 60, 50, 20], [0, 0, 30, 40, 50], [12, 15, 30, 40, 50]):
        v = pd.Series(pd.Categorical(np.repeat(cats, counts), cats))
        vc = v.value_counts(sort=False, dropna=False)
        vc.index = [str(i) for i in vc.index]
        m = suppress_table(vc.to_frame("人数"), MIN_CELL, margins="cols").mask["人数"].iloc[:len(cats)]
        assert hidden_levels(v, MIN_CELL) == set(m.index[m.to_numpy(bool)]), counts
