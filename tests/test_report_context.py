"""ReportContext: the design built once per notebook and the per-context memo (issue #17).

The 主要发现 at the top of the survey report, the tables below it and the painpoints brief
need the same statistics; ``ReportContext.memo`` computes each once per notebook.  These
tests check that a memoised result is the frame a fresh computation gives, that the page does
not compute it twice, and that nothing carries over to the next context or region (the
``--by`` fan-out runs many regional reports in one kernel).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    from test_pipeline import small_wave

    return small_wave(tmp_path_factory.mktemp("memo") / "in")


def _ctx(wave, out: Path, **extra):
    from survey import report

    P = report.validate(notebook="survey_report", questionnaire=str(wave["questionnaire"]),
                        data=str(wave["raw"]), population=str(wave["population"]),
                        stations=str(wave["stations"]), output_dir=str(out), **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return report.setup(P, notebook="survey_report")


class _NoMemo:
    """The same context without a memo: every statistic computed afresh."""

    def __init__(self, ctx):
        self._ctx = ctx

    def __getattr__(self, name):
        if name == "memo":
            raise AttributeError(name)
        return getattr(self._ctx, name)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs.keys() == b.attrs.keys()
    for k in a.attrs:
        assert repr(a.attrs[k]) == repr(b.attrs[k]), k


@pytest.fixture(scope="module")
def ctx(wave, tmp_path_factory):
    return _ctx(wave, tmp_path_factory.mktemp("memo-out"))


def _groups(ctx):
    from survey.report.content.indicators import subgroup_groups

    return subgroup_groups(ctx)


def _module_questions(ctx):
    from survey.report.content.indicators import indicator_questions

    return [[x.id for x in xs] for xs in indicator_questions(ctx.questionnaire, ctx.design.data.columns).values()]


def test_design_is_built_once_per_context(wave, ctx, tmp_path):
    """A regional report's domain (design.subset) is built on first use, not on every access."""
    full = ctx.design
    big = full.data.loc[full.weights > 0, "district"].astype(str).value_counts().index[0]
    c = _ctx(wave, tmp_path, region=big, region_var="district")
    assert c.design is c.design
    assert c.sample_frame().equals(c.design.data.loc[c.design.weights > 0])
    assert (c.sample_frame()["district"].astype(str) == big).all()


def test_memo_gives_the_frames_of_a_fresh_computation(ctx):
    """Findings first (as the page does), then every table: each frame equals the one computed
    without a memo, numbers and attrs; changing a returned frame never changes the memo."""
    from survey import report
    from survey.report.findings import survey_findings

    fresh = _NoMemo(ctx)
    f1 = survey_findings(ctx, indicators=2, differences=3)
    for qids in _module_questions(ctx):
        _same(report.indicator_estimates(ctx, qids), report.indicator_estimates(fresh, qids))
    ests = []
    for g in _groups(ctx):
        e = report.subgroup_estimates(ctx, g)
        _same(e, report.subgroup_estimates(fresh, g))
        ests.append(e)
    _same(report.subgroup_tests(ctx), report.subgroup_tests(fresh))
    from survey.report.content.indicators import mean_differences

    _same(mean_differences(ctx, ests), mean_differences(fresh, ests))
    _same(f1, survey_findings(fresh, indicators=2, differences=3))
    # a caller editing what it got back does not edit the memo
    g = _groups(ctx)[0]
    e = report.subgroup_estimates(ctx, g)
    e["estimate"] = -1.0
    e.attrs["levels"].append("x")
    _same(report.subgroup_estimates(ctx, g), report.subgroup_estimates(fresh, g))


def test_the_page_computes_each_statistic_once(wave, tmp_path, monkeypatch):
    """主要发现 then the page's cells: the estimators behind them run once per question, group
    and set of contrasts, not again for the tables."""
    from survey import report
    from survey.report.content import indicators as ind

    calls = {"module": [], "contrasts": 0, "rao": 0}
    me, bc, rs = ind.module_estimates, ind.batch_contrasts, ind.batch_rao_scott

    def module(design, q, qs, **kw):
        calls["module"] += [x.id for x in qs]
        return me(design, q, qs, **kw)

    def contrasts(*a, **kw):
        calls["contrasts"] += 1
        return bc(*a, **kw)

    def rao(*a, **kw):
        calls["rao"] += 1
        return rs(*a, **kw)

    monkeypatch.setattr(ind, "module_estimates", module)
    monkeypatch.setattr(ind, "batch_contrasts", contrasts)
    monkeypatch.setattr(ind, "batch_rao_scott", rao)
    ctx = _ctx(wave, tmp_path)
    report.section_findings(ctx)
    n_contrasts = calls["contrasts"]
    for k, qids in enumerate(_module_questions(ctx), start=1):
        report.publish_indicators(report.indicator_estimates(ctx, qids), f"T3.{k}", "m", ctx)
    ests = [report.subgroup_estimates(ctx, g) for g in _groups(ctx)]
    tests = report.subgroup_tests(ctx, _groups(ctx))
    report.notable_differences(ctx, ests, tests)
    report.subgroup_tests(ctx, _groups(ctx))
    assert sorted(calls["module"]) == sorted(q for qs in _module_questions(ctx) for q in qs)
    assert n_contrasts > 0 and calls["contrasts"] == n_contrasts
    assert calls["rao"] == len(_groups(ctx))


def test_a_second_region_never_sees_the_first_regions_numbers(wave, ctx, tmp_path):
    """Two regional contexts one after the other in one process (as a fan-out kernel runs
    them), and one context whose region is changed: every frame equals the direct computation
    on that region's domain of the full design."""
    from survey import report
    from survey.report.content.indicators import _mean_columns, module_estimates

    full = ctx.prepared.design
    counts = full.data.loc[full.weights > 0, "district"].astype(str).value_counts()
    a, b = counts.index[:2]  # the two largest districts
    q = ctx.questionnaire
    qids = _module_questions(ctx)[1]
    cols = [c for c, *_ in _mean_columns(full, q)]

    def direct(region):
        d = full.subset((full.data["district"].astype(str) == region).to_numpy())
        ind = module_estimates(d, q, [q[x] for x in qids])
        m = d.mean(cols, by="title", na_rm=True)
        return ind, m

    got = {}
    for r in (a, b):
        c = _ctx(wave, tmp_path / r, region=r, region_var="district")
        report.section_findings(c)
        got[r] = (report.indicator_estimates(c, qids), report.subgroup_estimates(c, "title"))
    for r in (a, b):
        ind, m = direct(r)
        pd.testing.assert_frame_equal(got[r][0].reset_index(drop=True), ind.reset_index(drop=True))
        est = got[r][1]
        assert np.array_equal(est["estimate"].to_numpy(float), m["estimate"].to_numpy(float), equal_nan=True)
        assert np.array_equal(est["n"].to_numpy(), m["n"].to_numpy())
    assert not np.allclose(got[a][0]["estimate"].to_numpy(float), got[b][0]["estimate"].to_numpy(float))
    # the same context moved to another region: the design and the memo are rebuilt
    c = _ctx(wave, tmp_path / "moved", region=a, region_var="district")
    report.indicator_estimates(c, qids)
    c.params = {**c.params, "region": b}
    pd.testing.assert_frame_equal(report.indicator_estimates(c, qids).reset_index(drop=True),
                                  direct(b)[0].reset_index(drop=True))
    assert int((c.design.weights > 0).sum()) == int(counts[b])


def test_a_group_with_one_level_is_left_out_with_a_note(wave, tmp_path):
    """A district's own report by district: one level, so no T4 table and no Rao–Scott test of
    it (a sentence says why); the other groups keep their tables and tests."""
    from survey import report

    c = _ctx(wave, tmp_path, region=None)
    full = c.design
    big = full.data.loc[full.weights > 0, "district"].astype(str).value_counts().index[0]
    c = _ctx(wave, tmp_path / "r", region=big, region_var="district")
    e = report.subgroup_estimates(c, "district")
    assert e.attrs.get("one_level") and e.empty
    html = report.publish_subgroups(e, "T4.5", c)._repr_html_()
    assert "本报告的受访者都属于同一类别" in html and "T4.5" in html
    assert "T4.5" not in [t.table_id for t in c.tables]
    T = report.subgroup_tests(c)
    assert "district" not in T.attrs["groups"] and "district" not in set(T["group"])
    assert set(T["group"]) == set(T.attrs["groups"]) and len(T) > 0
    out = report.publish_subgroup_tests(T, "T4.7", c)._repr_html_()
    assert "本报告的受访者都属于同一类别" in out
    # the other groups are unchanged by it
    t = report.subgroup_estimates(c, "title")
    assert not t.empty and len(t.attrs["levels"]) > 1


def test_mean_differences_contrast_the_highest_and_lowest_reliable_levels(ctx):
    """The pair of each group and indicator (array code since issue #17) is the one pandas
    picks: the highest and lowest estimate among reliable, unsuppressed levels, the first level
    of a tie, nothing for an indicator with fewer than two such levels."""
    from survey import report
    from survey.report.content.indicators import mean_differences

    ests = [report.subgroup_estimates(ctx, g) for g in _groups(ctx)]
    e = ests[0].copy()  # a tie for the highest level, and one indicator left with a single level
    g = e.attrs["group"]
    v0, v1 = e.attrs["columns"][:2]
    r0 = e.index[(e["variable"] == v0) & ~e["suppressed"] & ~e["unreliable"]]
    e.loc[r0[:2], "estimate"] = e.loc[r0, "estimate"].max() + 1.0  # two levels share the top
    e.loc[e.index[(e["variable"] == v1)][1:], "unreliable"] = True
    ests[0] = e
    want = []
    for f in ests:
        ok = f[~f["suppressed"] & ~f["unreliable"]]
        gv = f.attrs["group"]
        for c in f.attrs["columns"]:
            s = ok[ok["variable"] == c]
            if len(s) >= 2:
                hi, lo = s.loc[s["estimate"].idxmax()], s.loc[s["estimate"].idxmin()]
                sc = f.attrs["info"][c][2]
                want.append((gv, c, hi[gv], lo[gv], float(hi["estimate"]) * sc, float(lo["estimate"]) * sc))
    D = mean_differences(ctx, ests)
    got = list(zip(D["group"], D["variable"], D["high"], D["low"], D["est_high"], D["est_low"]))
    assert got == want
    assert (g, v1) not in set(zip(D["group"], D["variable"]))
    assert D.loc[(D["group"] == g) & (D["variable"] == v0), "high"].iloc[0] == e.loc[r0[0], g]
