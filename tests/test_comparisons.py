"""survey.comparisons: ratios of totals as Estimates, batched subgroup contrasts and Rao–Scott tests.

Each batched result is checked against the package's one-at-a-time estimators (tables.contrast,
tables.crosstab, estimate.mean), which compute through a separate code path."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey import SurveyDesign
from survey.comparisons import batch_contrasts, batch_rao_scott, ratio_estimates
from survey.tables import contrast, crosstab


def _frame(seed: int, n: int = 1_500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    st = rng.integers(0, 5, n)
    psu = st * 20 + rng.integers(0, 20, n)
    g = pd.Categorical.from_codes(rng.integers(0, 4, n), ["甲", "乙", "丙", "丁"])
    y = rng.normal(3 + 0.3 * np.asarray(g.codes) + 0.1 * (psu % 7), 1.0)
    y[rng.random(n) < 0.05] = np.nan  # item nonresponse
    z = rng.gamma(2.0, 1.0, n)
    return pd.DataFrame({"st": st, "psu": psu, "g": g, "y": y, "z": z,
                         "w": rng.uniform(0.5, 3.0, n)})


PAIRS = [("y", "丁", "甲"), ("z", "乙", "丙"), ("y", "丙", "乙")]


def _one_at_a_time(d: SurveyDesign, pairs, level: float = 0.95) -> pd.DataFrame:
    return pd.concat([contrast(d, c, "g", {a: 1, b: -1}, level=level) for c, a, b in pairs],
                     ignore_index=True)


@pytest.mark.parametrize("subset", [False, True])
def test_batch_contrasts_equal_one_contrast_per_pair(subset):
    """The batch (one covariance for every pair) equals tables.contrast (one call per pair), on a
    stratified cluster design and on a domain of it (the full design kept, as R's subset)."""
    d = SurveyDesign(_frame(1), weights="w", strata="st", psu="psu")
    if subset:
        d = d.subset((d.data["st"] != 4).to_numpy())
    got = batch_contrasts(d, "g", PAIRS, level=0.9)
    ref = _one_at_a_time(d, PAIRS, level=0.9)
    for c in ("estimate", "se", "ci_low", "ci_high", "t", "p"):
        np.testing.assert_allclose(got[c], ref[c], rtol=1e-9, err_msg=c)
    assert (got["df"] == d.df).all()


def test_batch_contrasts_replicate_design_uses_the_replicate_variance():
    """With replicate weights the difference of means is recomputed per replicate (svrVar of the
    contrast), as tables.contrast does — not a delta method on replicate totals."""
    d = SurveyDesign(_frame(2), weights="w", strata="st", psu="psu").replicate("jkn")
    got = batch_contrasts(d, "g", PAIRS)
    ref = _one_at_a_time(d, PAIRS)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)


def test_batch_contrasts_no_pairs():
    d = SurveyDesign(_frame(3), weights="w", psu="psu")
    out = batch_contrasts(d, "g", [])
    assert list(out.columns) == ["estimate", "se", "ci_low", "ci_high", "t", "p", "df"] and out.empty


def test_ratio_estimates_are_domain_means_with_their_covariance():
    """Ratios of column totals: the estimates and SEs of design.mean(by=) (another code path),
    and a contrast's variance from the joint covariance."""
    f = _frame(4)
    d = SurveyDesign(f, weights="w", strata="st", psu="psu")
    ok = f["z"].notna().to_numpy()
    G = np.column_stack([(f["g"] == lv).to_numpy() & ok for lv in f["g"].cat.categories]).astype(float)
    e = ratio_estimates(d, G * f["z"].to_numpy()[:, None], G)
    ref = d.mean("z", by="g")
    np.testing.assert_allclose(e.estimate, ref["estimate"], rtol=1e-10)
    np.testing.assert_allclose(e.se, ref["se"], rtol=1e-8)
    c = e.contrast([1, -1, 0, 0])
    r = contrast(d, "z", "g", {"甲": 1, "乙": -1})
    np.testing.assert_allclose(c.se, r["se"], rtol=1e-8)


def test_ratio_estimates_empty_denominator_is_nan_with_zero_variance():
    f = _frame(5, 200)
    d = SurveyDesign(f, weights="w", psu="psu")
    A = np.column_stack([np.ones(len(f)), np.zeros(len(f))])
    e = ratio_estimates(d, A * f["z"].to_numpy()[:, None], A)
    assert np.isfinite(e.estimate[0]) and np.isnan(e.estimate[1])
    assert e.cov[1, 1] == 0 and e.cov[0, 1] == 0


def test_batch_rao_scott_with_many_group_levels():
    """31 provinces × a 6-option question: the cell index ``g * C + q`` must not overflow the
    categorical's int8 codes (it did: negative cells, ValueError in np.bincount); the batched
    test equals tables.crosstab's Rao–Scott F test."""
    rng = np.random.default_rng(17)
    n = 3_000
    g = rng.integers(0, 31, n)
    q = np.minimum(5, rng.integers(0, 6, n) + (g % 3 == 0))
    df = pd.DataFrame({
        "prov": pd.Categorical.from_codes(g, [f"省{i:02d}" for i in range(31)]),
        "q": pd.Categorical.from_codes(q, list("ABCDEF")),
        "psu": rng.integers(0, 150, n), "w": rng.uniform(0.5, 2.0, n)})
    d = SurveyDesign(df, weights="w", psu="psu")
    (r,) = batch_rao_scott(d, "prov", ["q"])
    t = crosstab(d, "prov", "q").test
    assert r["F"] == pytest.approx(float(t["statistic"].iloc[0]), rel=1e-8)
    assert r["p"] == pytest.approx(float(t["p"].iloc[0]), rel=1e-6, abs=1e-12)


def test_batch_rao_scott_several_questions_in_one_call_equal_crosstab():
    """Several questions share one covariance call; each equals its own crosstab test, and a
    question with a single answer level is not tested."""
    rng = np.random.default_rng(8)
    n = 2_000
    f = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "psu": rng.integers(0, 80, n),
                      "st": rng.integers(0, 4, n), "w": rng.uniform(0.5, 2, n)})
    f["psu"] = f["st"] * 100 + f["psu"]
    f["q1"] = np.where(rng.random(n) < np.where(f["g"] == "a", 0.6, 0.4), "是", "否")
    f["q2"] = pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "空"])
    f["q3"] = "same"
    d = SurveyDesign(f, weights="w", strata="st", psu="psu")
    out = batch_rao_scott(d, "g", ["q1", "q2", "q3"])
    assert [r["qid"] for r in out] == ["q1", "q2"]
    for r in out:
        t = crosstab(d, "g", r["qid"]).test
        assert r["F"] == pytest.approx(float(t["statistic"].iloc[0]), rel=1e-8)
        assert r["p"] == pytest.approx(float(t["p"].iloc[0]), rel=1e-6, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# the blocked, sparse computations equal the dense ones they replaced, on every kind of design
# ------------------------------------------------------------------------------------------------
import warnings  # noqa: E402
from unittest import mock  # noqa: E402

import scipy.sparse as sp  # noqa: E402

import survey.comparisons as cmp  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from survey.comparisons import ratio_blocks  # noqa: E402
from survey.errors import SurveyError  # noqa: E402
from test_domains_compact import KINDS, LONELY, WEIGHTING, _frame as _design_frame, _masks, _weight  # noqa: E402


def random_design(seed: int, kind: str, how: str, lonely: str, lonely_stratum: bool, reps: str | None,
                  subset: bool) -> tuple[np.random.Generator, SurveyDesign]:
    """A random design of one kind (unclustered, clustered, stratified, two-stage with fpc),
    weighting (none, rake, poststratify, greg, trimmed and chained calibrations), lonely-PSU rule,
    replicate weights (none, bootstrap, jackknife) and optionally a domain (subset) of it, with
    two single-choice questions (one with an empty level and missing answers) and a ranked
    question ``p_1..p_4`` (top 2)."""
    rng = np.random.default_rng(seed)
    df, args = _design_frame(rng, kind, lonely_stratum)
    n = len(df)
    df["q1"] = pd.Categorical(rng.choice(["x", "y", "z"], n), categories=["x", "y", "z", "空"])
    q2 = rng.choice(["是", "否", "不知道"], n, p=[0.5, 0.4, 0.1]).astype(object)
    q2[rng.random(n) < 0.15] = None
    df["q2"] = q2
    ranks = np.full((n, 4), np.nan)
    for i in range(n):
        if rng.random() < 0.85:
            ranks[i, rng.choice(4, 2, replace=False)] = [1, 2]
    for j in range(4):
        df[f"p_{j + 1}"] = pd.array(ranks[:, j], dtype="Float64").astype("Int64")
    d = _weight(SurveyDesign(df, lonely_psu=lonely, **args), how)
    if reps == "bootstrap":
        d = d.replicate("bootstrap", 30, seed=seed)
    elif reps == "jk":
        d = d.replicate("auto")
    if subset:
        masks = _masks(rng, df)
        d = d.subset(masks[int(rng.integers(0, len(masks)))])
    return rng, d


DESIGNS = dict(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(KINDS), how=st.sampled_from(WEIGHTING),
               lonely=st.sampled_from(LONELY), lonely_stratum=st.booleans(),
               reps=st.sampled_from((None, "bootstrap", "jk")), subset=st.booleans())


def outcome(fn):
    """The result, or the error (type and message) that both paths must raise alike."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except (SurveyError, ZeroDivisionError) as err:
        return f"{type(err).__name__}: {err}"


def assert_close(a, b, what: str, scale: float | None = None) -> None:
    """Equal at 1e-10 relative to ``scale`` (default the largest magnitude of the reference), NaN
    = NaN; values below 1e-20 count as zero (a zero variance -- a census stage, a raked margin --
    comes out as rounding noise of order 1e-30 on either path)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    if scale is None:
        scale = np.nanmax(np.abs(b), initial=0.0) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * scale + 1e-20, equal_nan=True, err_msg=what)


def _dense_rao_scott(design, g, qids):
    """The algorithm batch_rao_scott used before ratio_blocks (test oracle): dense one-hot cells
    and repeated "answered" columns of every question, one ratio_estimates call (the full
    covariance of all questions' cells), then each question's diagonal block."""
    from survey.tables import rao_scott

    live = np.asarray(design.weights) > 0
    gc, glev = design.domain_index(g)
    L, n = len(glev), len(gc)
    blocks, Zs, As = [], [], []
    for qid in qids:
        qc, qlev = design.domain_index(qid)
        C = len(qlev)
        ok = live & (gc >= 0) & (qc >= 0)
        cell = np.where(ok, gc.astype(np.int64) * C + qc, -1)
        Z = np.zeros((n, L * C))
        idx = np.flatnonzero(ok)
        Z[idx, cell[idx]] = 1.0
        blocks.append((qid, C, np.bincount(cell[idx], minlength=L * C)))
        Zs.append(Z)
        As.append(np.repeat(ok[:, None].astype(float), L * C, axis=1))
    e = ratio_estimates(design, np.hstack(Zs), np.hstack(As))
    out, start = [], 0
    for qid, C, cnt in blocks:
        sl = slice(start, start + L * C)
        start += L * C
        cnt = cnt.reshape(L, C)
        ur, uc = np.flatnonzero(cnt.sum(1) > 0), np.flatnonzero(cnt.sum(0) > 0)
        if len(ur) < 2 or len(uc) < 2:
            continue
        sel = (ur[:, None] * C + uc[None, :]).ravel()
        r = rao_scott(e.estimate[sl][sel].reshape(len(ur), len(uc)), e.cov[sl, sl][np.ix_(sel, sel)],
                      float(design.df), N=float(live.sum()))["F"]
        out.append({"qid": qid, "group": g, "F": r.statistic, "ndf": r.ndf, "ddf": r.ddf, "p": r.p})
    return out


def _check_ratio_blocks(seed, kind, how, lonely, lonely_stratum, reps, subset):
    try:
        rng, d = random_design(seed, kind, how, lonely, lonely_stratum, reps, subset)
    except SurveyError:  # e.g. a jackknife of a lonely stratum under lonely_psu="fail"
        return
    n = d.n_rows
    # a basis of cell indicators (g x q1), "answered q1" and a numeric column; ratios: cell
    # shares, a domain mean (y over answered) and a difference-type numerator (y minus cell)
    gc = d.domain_index("g")[0]
    qc = d.domain_index("q1")[0]
    ok = (gc >= 0) & (qc >= 0) & (np.asarray(d.weights) > 0)
    cells = np.zeros((n, 12))
    cells[np.flatnonzero(ok), (gc * 4 + qc)[ok]] = 1.0
    y = np.where(ok, d.column("y").to_numpy(float), 0.0)
    Z = np.column_stack([cells, ok, y])
    m = 14
    num = np.zeros((m, 14))
    den = np.zeros((m, 14))
    num[np.arange(12), np.arange(12)] = 1.0
    den[np.arange(12), 12] = 1.0
    num[12, 13] = 1.0
    den[12, 12] = 1.0
    num[13, [13, 0]] = [1.0, -1.0]
    den[13, [12, 0]] = [1.0, -1.0]
    blocks = [np.arange(0, 4), np.arange(4, 12), np.array([12, 13, 0])]
    # lonely-PSU domains: the first block's leaves out the first stratum (lonely when drawn so),
    # later ones hold it: the rules' presence is per ratio, and under lonely_psu="fail" the
    # error must be the one of the whole (the first stratum, stage by stage), not of a chunk
    h = d.column("h").to_numpy()
    present = np.column_stack([h >= 1, ok, np.ones(n, bool), h < 2])
    present_of = np.r_[np.zeros(4, int), np.ones(8, int), 2, 3]
    if d.is_replicate:
        present = present_of = None

    def dense():
        pc = None if present is None else present[:, present_of]
        e = ratio_estimates(d, Z @ num.T, Z @ den.T, present=pc)
        return e.estimate, [e.cov[np.ix_(b, b)] for b in blocks]

    ref = outcome(dense)
    for budget in (cmp.CHUNK_CELLS, 1):  # all blocks in one chunk of PSU totals; one per chunk
        with mock.patch.object(cmp, "CHUNK_CELLS", budget):
            got = outcome(lambda: ratio_blocks(d, sp.csr_matrix(Z), num, den, blocks, present=present,
                                               present_of=present_of))
        what = f"{kind}/{how}/{lonely}/{reps}/subset={subset}/budget={budget}"
        if isinstance(ref, str) or isinstance(got, str):
            assert got == ref, what
            continue
        assert_close(got[0], ref[0], f"{what}: estimates")
        scale = max(np.nanmax(np.abs(b), initial=0.0) for b in ref[1])  # the largest variance compared
        for k, (a, b) in enumerate(zip(got[1], ref[1])):
            assert_close(a, b, f"{what}: block {k}", scale)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
def test_ratio_blocks_equal_the_dense_covariance_blocks(seed, kind, how, lonely, lonely_stratum, reps, subset):
    """ratio_blocks (sparse basis, PSU totals of the basis times B', one block at a time) gives
    the estimates and the diagonal blocks of ratio_estimates on the dense numerators and
    denominators, with per-ratio lonely-PSU domains, on every design kind, calibration,
    lonely-PSU rule, replicate type and domain; both paths raise the same error alike."""
    _check_ratio_blocks(seed, kind, how, lonely, lonely_stratum, reps, subset)


@pytest.mark.slow
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
def test_ratio_blocks_equal_the_dense_covariance_blocks_many(seed, kind, how, lonely, lonely_stratum, reps,
                                                             subset):
    _check_ratio_blocks(seed, kind, how, lonely, lonely_stratum, reps, subset)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lonely", LONELY)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ratio_blocks_lonely_rules_with_a_lonely_stratum(kind, lonely, seed):
    """Every lonely-PSU rule where it bites (a lonely first stratum, per-ratio domains that hold
    it or not, no calibration), on every design kind, whole and as a domain."""
    for subset in (False, True):
        _check_ratio_blocks(seed, kind, "none", lonely, True, None, subset)


def test_ratio_blocks_chunks_equal_one_chunk(monkeypatch):
    """Splitting the blocks into several chunks of PSU totals (the memory budget) changes no
    number beyond rounding (BLAS may sum a narrower matrix in another order): the same blocks
    from one chunk and from one chunk per block."""
    import survey.comparisons as cmp

    _, d = random_design(3, "strat_cluster", "rake", "average", True, None, False)
    gc = d.domain_index("g")[0]
    Z = np.column_stack([gc == k for k in range(3)] + [gc >= 0]).astype(float)
    num = np.eye(3, 4)
    den = np.zeros((3, 4))
    den[:, 3] = 1
    blocks = [np.array([0, 1]), np.array([2]), np.array([1, 2])]
    one = ratio_blocks(d, Z, num, den, blocks)
    monkeypatch.setattr(cmp, "CHUNK_CELLS", 1)
    many = ratio_blocks(d, Z, num, den, blocks)
    for a, b in zip(one[1], many[1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def _check_rao_scott(seed, kind, how, lonely, lonely_stratum, reps, subset):
    try:
        _, d = random_design(seed, kind, how, lonely, lonely_stratum, reps, subset)
    except SurveyError:
        return
    # the F statistic of a singular covariance (a single PSU, an empty cell) is rounding noise
    # on any path (even a ZeroDivisionError or not): tested where the design has df and the
    # question's table among the respondents is full (as test_domains_compact)
    live = np.asarray(d.weights) > 0
    qids = [q for q in ("q1", "q2", "b")
            if (lambda t: t.shape[0] >= 2 and t.shape[1] >= 2 and (t.to_numpy() > 0).all())(
                pd.crosstab(d.column("g")[live], d.column(q)[live]))]
    if not qids or not d.df > 0:
        return
    got = outcome(lambda: batch_rao_scott(d, "g", qids))
    ref = outcome(lambda: _dense_rao_scott(d, "g", qids))
    what = f"{kind}/{how}/{lonely}/{reps}/subset={subset}"
    if isinstance(ref, str) or isinstance(got, str):
        assert got == ref, what
        return
    assert [r["qid"] for r in got] == [r["qid"] for r in ref] == qids, what
    for a, b in zip(got, ref):
        for k in ("F", "ndf", "ddf", "p"):
            assert_close(a[k], b[k], f"{what}: {a['qid']} {k}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
def test_batch_rao_scott_equals_the_dense_algorithm(seed, kind, how, lonely, lonely_stratum, reps, subset):
    """batch_rao_scott (sparse cells, one covariance block per question) equals the dense
    algorithm it replaced (all questions' cells in one n x sum(K) matrix, the full covariance)
    on every design kind, calibration, lonely-PSU rule, replicate type and domain."""
    _check_rao_scott(seed, kind, how, lonely, lonely_stratum, reps, subset)


def _dense_batch_contrasts(design, g, pairs, level=0.95):
    """The algorithm batch_contrasts used before ratio_blocks (test oracle): dense ``n × 2m``
    numerators and denominators, one ratio_estimates call (the full covariance), contrasts."""
    from survey.comparisons import _finite_df, _pair_differences

    live = np.asarray(design.weights) > 0
    gc, glev = design.domain_index(g)
    pos = {v: i for i, v in enumerate(glev[g])}
    n, m = len(gc), len(pairs)
    Y, A = np.zeros((n, 2 * m)), np.zeros((n, 2 * m))
    for k, (col, a, b) in enumerate(pairs):
        y = pd.to_numeric(design.data[col], errors="coerce").to_numpy(float)
        ok = np.isfinite(y) & live
        for j, lv in enumerate((a, b)):
            ind = ok & (gc == pos[lv])
            A[:, 2 * k + j] = ind
            Y[:, 2 * k + j] = np.where(ok, y, 0.0) * ind
    # the dense means and covariance; the differences' frame is batch_contrasts' own (unchanged)
    return _pair_differences(ratio_estimates(design, Y, A, df=_finite_df(design), level=level),
                            level, float(design.df))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
def test_batch_contrasts_equals_the_dense_algorithm(seed, kind, how, lonely, lonely_stratum, reps, subset):
    """batch_contrasts (a sparse basis, each pair's 2 × 2 block) equals the dense algorithm it
    replaced on every design kind, calibration, lonely-PSU rule, replicate type and domain."""
    try:
        _, d = random_design(seed, kind, how, lonely, lonely_stratum, reps, subset)
    except SurveyError:
        return
    pairs = [("y", "g1", "g2"), ("x", "g3", "g1"), ("y", "g2", "g3"), ("x", "g1", "g2")]
    got = outcome(lambda: batch_contrasts(d, "g", pairs, level=0.9))
    ref = outcome(lambda: _dense_batch_contrasts(d, "g", pairs, level=0.9))
    what = f"{kind}/{how}/{lonely}/{reps}/subset={subset}"
    if isinstance(ref, str) or isinstance(got, str):
        assert got == ref, what
        return
    assert list(got.columns) == list(ref.columns)
    scale = float(np.nanmax(ref["se"].to_numpy(float) ** 2, initial=0.0))
    assert_close(got["estimate"], ref["estimate"], f"{what}: estimate")
    assert_close(got["se"] ** 2, ref["se"] ** 2, f"{what}: se²", scale)
    ok = ref["se"].to_numpy(float) ** 2 > 1e-12 * scale + 1e-20  # t, p, CI of a real SE (not noise)
    for c in ("ci_low", "ci_high", "t", "p"):
        assert_close(got[c][ok], ref[c][ok], f"{what}: {c}")
