"""Notebook cells an analyst can read and adapt (issue #15 item 2).

Each table cell of the generated notebooks shows the one analysis call and then publishes its
result: ``t_q2_age = report.subgroup_estimates(ctx, "q2_age")`` then
``report.publish_subgroups(t_q2_age, "T4.2", ctx)``; ``t = B.summary`` then
``B.publish("PP1", ctx, t)``.  These tests run the generated cells on a small demo-like wave
and check that they publish the 分组比较 tables the one-call section publishes, that an edited
frame publishes what is left in it, and that hidden groups stay hidden.
"""
from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    from test_pipeline import small_wave

    return small_wave(tmp_path_factory.mktemp("nbcells") / "in")


def _ctx(wave, out: Path):
    from survey import report

    P = report.validate(notebook="survey_report", questionnaire=str(wave["questionnaire"]),
                        data=str(wave["raw"]), population=str(wave["population"]),
                        stations=str(wave["stations"]), output_dir=str(out))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return report.setup(P, notebook="survey_report")


@pytest.fixture(scope="module")
def ctx(wave, tmp_path_factory):
    return _ctx(wave, tmp_path_factory.mktemp("nbcells-out"))


def _code(cell_source: str) -> list[str]:
    return [ln for ln in cell_source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _frame(pub):
    return pub.data, pub.suppressed, pub.unreliable


def test_subgroup_cells_publish_what_the_section_publishes(wave, ctx, tmp_path):
    """The generated 分组比较 cells, run one by one, publish T4.1 … T4.n (one table per group)
    and T4.n+1 (Rao–Scott), each from its own cell, with the numbers and masks of the one-call
    section; the 'notable differences' cell says the same."""
    from survey import report
    from survey.questionnaire import Questionnaire
    from survey.report.notebooks import build

    q = Questionnaire.load(wave["questionnaire"])
    cells = [c.source for c in build("survey_report", q).cells if c.cell_type == "code"]
    sub = [s for s in cells if "subgroup_" in s or "notable_differences" in s]
    groups = list(q.design.groups)
    assert len(sub) == len(groups) + 2
    ns = {"report": report, "ctx": ctx}
    shown = []
    for k, s in enumerate(sub, start=1):
        assert len(_code(s)) <= 2, s
        before = len(ctx.tables)
        *stmts, last = _code(s)
        exec("\n".join(stmts), ns)
        shown.append(eval(last, ns))
        new = [t.table_id for t in ctx.tables[before:]]
        assert new == ([f"T4.{k}"] if k <= len(groups) + 1 else []), (s, new)
    ref = _ctx(wave, tmp_path / "ref")
    whole = report.section_subgroups(ref, groups=groups)
    assert [t.table_id for t in ref.tables] == [t.table_id for t in ctx.tables if t.table_id.startswith("T4.")]
    mine = {t.table_id: t for t in ctx.tables}
    for t in ref.tables:
        for a, b in zip(_frame(t), _frame(mine[t.table_id])):
            assert a.equals(b), t.table_id
    assert shown[-1]._repr_html_() == whole.parts[-1]._repr_html_()
    assert "值得关注的差异" in shown[-1]._repr_html_()


def test_an_edited_frame_publishes_only_its_indicators(ctx):
    from survey import report

    t = report.subgroup_estimates(ctx, "title")
    keep = list(dict.fromkeys(t["variable"]))[:2]
    out = report.publish_subgroups(t[t["variable"].isin(keep)], "T4.91", ctx)
    pub = [p for p in out.parts if getattr(p, "table_id", None) == "T4.91"][0]
    assert len(pub.data) == 1 + len(keep)  # the count row and the two indicators
    assert pub.data.index[0] == "样本量（人）"
    # the kept rows are the ones of the full table
    full = report.publish_subgroups(t, "T4.92", ctx)
    fpub = [p for p in full.parts if getattr(p, "table_id", None) == "T4.92"][0]
    assert len(fpub.data) == 1 + t["variable"].nunique()
    assert fpub.data.loc[pub.data.index].equals(pub.data)


def test_a_hidden_level_is_hidden_in_the_frame_and_the_table(ctx, monkeypatch):
    """A level the report hides everywhere (ctx.hidden_levels: the sample table hid it) is
    flagged in the estimates frame and hidden as a whole column, count included."""
    from survey import report

    levels = report.subgroup_estimates(ctx, "title").attrs["levels"]
    lv = str(levels[1])
    monkeypatch.setattr(ctx, "hidden_levels", lambda var: {lv} if var == "title" else set())
    t = report.subgroup_estimates(ctx, "title")
    at = t["title"].astype(str) == lv
    assert t.loc[at, "suppressed"].all() and not t.loc[~at, "suppressed"].all()
    out = report.publish_subgroups(t, "T4.93", ctx)
    pub = [p for p in out.parts if getattr(p, "table_id", None) == "T4.93"][0]
    assert pub.suppressed[lv].all()
    assert not pub.suppressed.drop(columns=[lv]).all().all()
    assert lv not in report.notable_differences(ctx, [t])._repr_html_().split("值得关注的差异", 1)[1]


@pytest.fixture(scope="module")
def brief(ctx):
    from survey.painpoints import build_brief
    from survey.report import BriefReport

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = build_brief(ctx.design, ctx.questionnaire.report.painpoints, questionnaire=ctx.questionnaire,
                        replicates=20, wave="t")
    return BriefReport(b)


def test_a_painpoint_cell_publishes_the_frame_it_shows(brief, ctx):
    """``B.publish("PP1", ctx, t)`` publishes *t*: the brief's own frame gives the table
    ``B.publish`` gives without one, an edited frame (the first two items) only those rows."""
    from survey.errors import ParameterError

    s = brief.summary
    own = brief.table("PP1")
    two = s.sort_values("rank").iloc[:2]
    pub = brief.publish("PP1", ctx, two)
    assert pub.table_id == "PP1" and list(pub.data["问题"]) == list(two["item"])
    assert np.allclose(pub.data["选择比例"].to_numpy(float), two["pct_top"].to_numpy(float))
    assert own.data.iloc[:2].equals(pub.data)
    assert len(own.data) == len(s) > 2
    with pytest.raises(ParameterError, match="PP0"):
        brief.publish("PP0", ctx, s)


def test_painpoint_cells_build_the_tables_once(brief, tmp_path, wave, monkeypatch):
    """The notebook's cells (``t = B.<frame>`` then ``B.publish(id, ctx, t)``) publish what
    ``B.publish(id)`` does, and the brief's tables are built once, not once per cell."""
    from survey.report import BriefReport

    B = BriefReport(brief.brief)
    built = []
    orig = BriefReport._build_published
    monkeypatch.setattr(BriefReport, "_build_published", lambda self: built.append(1) or orig(self))
    c = _ctx(wave, tmp_path)
    ids = [tid for tid in B.FRAMES if tid in B.tables()]
    pubs = [B.publish(tid, c, getattr(B, B.FRAMES[tid][0])) for tid in ids]
    assert len(built) == 1 and len(ids) >= 4
    fresh = {p.table_id: p for p in orig(B)}
    for p in pubs:
        assert p.data.equals(fresh[p.table_id].data) and p.suppressed.equals(fresh[p.table_id].suppressed)


def test_no_painpoint_question_every_cell_says_why():
    from survey.report.content.painpoints import NO_PAINPOINTS, EmptyBrief

    B = EmptyBrief(NO_PAINPOINTS, prefix="本节未作：")
    t = B.summary
    assert "本节未作" in B.publish("PP1", None, t)._repr_html_()


def test_generated_cells_show_the_analysis_they_publish():
    """Every table cell is 1–3 lines of code: the frame (an analysis call or the brief's frame
    named after the analysis) and its publication; each table id is published by one cell."""
    from survey.painpoints.brief import PolicyBrief
    from survey.questionnaire import Questionnaire
    from survey.report.notebooks import BODIES, build

    q = Questionnaire.load(ROOT / "questionnaires" / "demo-2024" / "questionnaire.yml")
    for nb in BODIES:
        for c in build(nb, q).cells[3:]:  # after title, parameters and setup
            if c.cell_type == "code":
                assert 1 <= len(_code(c.source)) <= 3, (nb, c.source)
    sr = [c.source for c in build("survey_report", q).cells if c.cell_type == "code"]
    for k, g in enumerate(q.design.groups, start=1):
        hit = [s for s in sr if f'"T4.{k}"' in s]
        assert len(hit) == 1 and f"report.subgroup_estimates(ctx, {g!r})" in hit[0], (g, hit)
    pp = [c.source for c in build("painpoints", q).cells if c.cell_type == "code"]
    for tid, (attr, fn) in PolicyBrief.FRAMES.items():
        hit = [s for s in pp if f"{tid!r}" in s]
        assert len(hit) == 1, (tid, hit)
        assert re.search(rf"^t = B\.{attr}$", hit[0], re.M) and f"B.publish({tid!r}, ctx, t)" in hit[0]
        assert f"painpoints.{fn}" in hit[0]
        import survey.painpoints as pkg

        assert callable(getattr(pkg, fn)), fn  # the comment names a real analysis


def test_questionnaire_wording_never_becomes_code_in_a_generated_cell(tmp_path):
    """A module name or question text with a newline ended the comment that names it in a
    generated cell, and the rest ran as code ('工作\\nprint(...)'; found by an audit).  The
    wording is put on one line; the questionnaire's words stay in comments and strings."""
    import ast

    import yaml

    from survey.questionnaire import Questionnaire
    from survey.report.notebooks import BODIES, build

    raw = yaml.safe_load((ROOT / "questionnaires" / "demo-2024" / "questionnaire.yml").read_text(encoding="utf-8"))
    for qn in raw["questions"]:
        if qn.get("module") and qn["module"] != "调查信息":
            qn["module"] = qn["module"] + "\nimport os; os.remove('x')  # "
        qn["text"] = str(qn["text"]) + "\r\nprint('INJ')\n"
    (tmp_path / "questionnaire.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    q = Questionnaire.load(tmp_path / "questionnaire.yml")
    for nb in BODIES:
        for cell in build(nb, q).cells:
            if cell.cell_type != "code":
                continue
            tree = ast.parse(cell.source)
            calls = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(tree)
                     if isinstance(n, ast.Call)}
            assert not {"print", "remove"} & calls, (nb, cell.source)
            assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) and n.names[0].name == "os"
                           for n in ast.walk(tree)), (nb, cell.source)
