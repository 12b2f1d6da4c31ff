"""Per-process memo of wave-level results (survey._wavecache; issue #17).

A fan-out kernel renders the national report and then one report per region from the same
files.  The YAML files, the input hashes of the provenance block and the earlier waves are
therefore computed once per process — but never served stale: an edited file (new content,
new modification time) is read again in the same process, and results equal an uncached run.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from survey import _wavecache


@pytest.fixture(autouse=True)
def _fresh_memo():
    _wavecache.clear()
    yield
    _wavecache.clear()


def _rewrite(p: Path, text: str) -> None:
    """Write *text* and move the modification time forward by a second (an edit)."""
    old = p.stat().st_mtime_ns
    p.write_text(text, encoding="utf-8")
    os.utime(p, ns=(old + 1_000_000_000, old + 1_000_000_000))


Q1 = """wave: {id: w1, title: 第一轮}
questions:
  - {id: q1, text: 您的年龄, type: numeric, range: [18, 80]}
  - {id: q2, text: 性别, type: single, options: {1: 男, 2: 女}}
"""
Q2 = Q1.replace("您的年龄", "您的周岁").replace("第一轮", "第二轮")  # same size in characters


def _count_parses(monkeypatch) -> list[int]:
    import survey._yaml as y

    calls = [0]
    real = y.yaml.load

    def counting(*a, **k):
        calls[0] += 1
        return real(*a, **k)

    monkeypatch.setattr(y.yaml, "load", counting)
    return calls


def test_yaml_is_parsed_once_per_content_and_each_caller_gets_its_own_copy(tmp_path, monkeypatch):
    from survey._yaml import read_yaml
    from survey.errors import QuestionnaireError

    p = tmp_path / "questionnaire.yml"
    p.write_text(Q1, encoding="utf-8")
    calls = _count_parses(monkeypatch)
    _, a, ta = read_yaml(p, error=QuestionnaireError, what="questionnaire")
    _, b, tb = read_yaml(p, error=QuestionnaireError, what="questionnaire")
    assert calls[0] == 1 and ta == tb == Q1
    assert a == b and a is not b
    a["questions"][0]["text"] = "changed by a caller"  # must not reach the next reader
    _, c, _ = read_yaml(p, error=QuestionnaireError, what="questionnaire")
    assert c == b and c["questions"][0]["text"] == "您的年龄"
    # the same as a process that never cached anything
    _wavecache.clear()
    _, fresh, _ = read_yaml(p, error=QuestionnaireError, what="questionnaire")
    assert fresh == c and calls[0] == 2


def test_an_edited_questionnaire_is_read_again_in_the_same_process(tmp_path):
    from survey.questionnaire import Questionnaire

    p = tmp_path / "questionnaire.yml"
    p.write_text(Q1, encoding="utf-8")
    q1 = Questionnaire.load(p)
    assert Questionnaire.load(p).hash == q1.hash == hashlib.sha256(Q1.encode()).hexdigest()
    _rewrite(p, Q2)
    q2 = Questionnaire.load(p)
    assert q2["q1"].text == "您的周岁" and q2.title == "第二轮"
    assert q2.hash == hashlib.sha256(Q2.encode()).hexdigest() != q1.hash
    # and back again: the first version is served from the memo, equal to a fresh load
    _rewrite(p, Q1)
    again = Questionnaire.load(p)
    _wavecache.clear()
    fresh = Questionnaire.load(p)
    assert again.hash == fresh.hash == q1.hash and again["q1"].text == fresh["q1"].text == "您的年龄"


def test_input_hashes_follow_an_edit(tmp_path):
    from survey.report.provenance import _questionnaire_hash, sha256_file

    p = tmp_path / "questionnaire.yml"
    p.write_text(Q1, encoding="utf-8")
    h1 = sha256_file(p)
    assert h1 == hashlib.sha256(Q1.encode()).hexdigest()
    assert _wavecache.memo_get("sha256", _wavecache.file_identity(p)) == h1  # served next time
    assert sha256_file(p) == h1
    _rewrite(p, Q2)  # same length in characters, new content and modification time
    assert sha256_file(p) == hashlib.sha256(Q2.encode()).hexdigest()
    assert _questionnaire_hash(str(p)) == hashlib.sha256(Q2.encode()).hexdigest()


def _two_waves(root: Path) -> dict:
    qs, data = root / "questionnaires", root / "data"
    for w in ("2023", "2024"):
        (qs / w).mkdir(parents=True)
        (qs / w / "questionnaire.yml").write_text(Q1.replace("w1", f"w{w}"), encoding="utf-8")
        (data / w).mkdir(parents=True)
        (data / w / f"export_{w}.csv").write_text(f"rid\n{w}\n", encoding="utf-8")
    return {"wave": "2024", "questionnaire": str(qs / "2024" / "questionnaire.yml"),
            "data": str(data / "2024" / "export_2024.csv"), "previous_waves": ["2023"],
            "work_dir": str(root / "reports" / ".2024.work")}


def test_an_earlier_wave_is_prepared_once_per_process_and_again_after_an_edit(tmp_path, monkeypatch):
    """Regional reports of one run share the earlier wave (its preparation does not depend on
    the region); a changed input of that wave, or another work folder, prepares it again."""
    import survey.pipeline as pl
    from survey.report.content.data import prepare_previous

    made = []

    def fake_prepare_wave(raw, questionnaire, **kw):
        made.append((Path(raw).read_text(encoding="utf-8"),
                     Path(questionnaire).read_text(encoding="utf-8"), kw["out_dir"]))
        return made[-1]

    monkeypatch.setattr(pl, "prepare_wave", fake_prepare_wave)
    p = _two_waves(tmp_path)
    a = prepare_previous({**p, "region": "河南省", "region_var": "region"})
    b = prepare_previous({**p, "region": "河北省", "region_var": "region"})
    assert len(made) == 1 and a["2023"] is b["2023"]
    q23 = tmp_path / "questionnaires" / "2023" / "questionnaire.yml"
    _rewrite(q23, Q2.replace("w1", "w2023"))
    c = prepare_previous(p)
    assert len(made) == 2 and "您的周岁" in c["2023"][1]
    raw23 = tmp_path / "data" / "2023" / "export_2023.csv"
    _rewrite(raw23, "rid\n2099\n")
    assert prepare_previous(p)["2023"][0] == "rid\n2099\n" and len(made) == 3
    prepare_previous({**p, "work_dir": str(tmp_path / "elsewhere")})
    assert len(made) == 4
    assert prepare_previous({**p, "previous_waves": []}) == {}


# ----------------------------------------------------------------------------- the weighting page
@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_pipeline import small_wave

    return small_wave(tmp_path_factory.mktemp("wavecache") / "in")


def _weighting_page(wave, out: Path, region: str | None):
    """The weighting section of the quality page; the reports of one run share a work folder."""
    import warnings

    from survey import report
    from survey.report.content.quality import weighting

    extra = {"region": region, "region_var": "district"} if region else {}
    P = report.validate(notebook="quality", questionnaire=str(wave["questionnaire"]),
                        data=str(wave["raw"]), population=str(wave["population"]),
                        stations=str(wave["stations"]), output_dir=str(out),
                        work_dir=str(out.parent / "work"), **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = report.setup(P, notebook="quality")
        page = weighting(ctx)
    pngs = [p.png for p in page.parts if hasattr(p, "png")]
    return page._repr_html_(), pngs, ctx


def test_two_regions_in_one_process_get_their_own_weighting_page(wave, tmp_path, monkeypatch):
    """The weighting chart (the whole wave's) is drawn once for the regional pages of one
    process; every page — tables with their region's suppression, and the chart — equals the
    page of a process that cached nothing."""
    import survey.report.context as rc

    drawn = [0]
    real = rc.FigureOutput.__init__

    def counting(self, *a, **k):
        drawn[0] += 1
        real(self, *a, **k)

    monkeypatch.setattr(rc.FigureOutput, "__init__", counting)
    full = _weighting_page(wave, tmp_path / "full", None)[2].prepared.design.data
    counts = full["district"].astype(str).value_counts()
    regions = [counts.index[0], counts.index[-1]]  # the largest and the smallest district
    cached = {r: _weighting_page(wave, tmp_path / f"c{i}", r) for i, r in enumerate(regions)}
    assert drawn[0] == 1  # the national page above drew it; the regional pages reuse it
    for i, r in enumerate(regions):
        _wavecache.clear()
        html, pngs, ctx = _weighting_page(wave, tmp_path / f"u{i}", r)
        assert cached[r][0] == html and cached[r][1] == pngs and len(pngs) == 1
        assert cached[r][2].figures == ctx.figures == 1
        assert [t.table_id for t in cached[r][2].tables] == [t.table_id for t in ctx.tables]
        for a, b in zip(cached[r][2].tables, ctx.tables):
            pd.testing.assert_frame_equal(a.data, b.data)
            pd.testing.assert_frame_equal(a.suppressed, b.suppressed)
    assert drawn[0] == 3  # uncached: drawn again for each page
