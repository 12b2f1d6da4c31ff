"""Compact domains (``subset(mask, compact=True)``) give the numbers of the full-row subset.

A compact domain keeps only its rows, with the full design's stage structure and its
calibrations in cell space (:mod:`survey.calspace`).  Rows outside a domain have zero influence,
so every estimate, SE, covariance and df must equal the full-row computation (R's ``subset``)
for any design and any domain: random designs (unclustered, clustered, stratified, two-stage
with fpc; each lonely-PSU rule; raked, post-stratified, greg-calibrated and trimmed chains;
bootstrap / jackknife replicates) and random domains (missing whole strata, one PSU, nested,
``by=`` inside).  The calibrated PSU totals in cell space are checked against the reference
:func:`survey.variance.residualize` summed by PSU.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey import SurveyDesign
from survey.comparisons import batch_rao_scott, ratio_estimates
from survey.errors import DesignError, SurveyError

pytestmark = pytest.mark.filterwarnings("ignore::survey.errors.SurveyWarning")
from survey.variance import psu_totals, residualize, vcov_totals

KINDS = ("srs", "cluster", "strat_cluster", "strat_rows", "twostage_fpc")
WEIGHTING = ("none", "rake", "poststratify", "greg", "rake_trim", "greg_rake")
REPLICATES = (None, "bootstrap", "jk")
LONELY = ("fail", "remove", "adjust", "average", "certainty")


def _frame(rng: np.random.Generator, kind: str, lonely_stratum: bool) -> tuple[pd.DataFrame, dict]:
    """Random data and the design arguments of one design kind."""
    H = int(rng.integers(2, 6))
    rows = []
    for h in range(H):
        npsu = 1 if (lonely_stratum and h == 0) else int(rng.integers(2, 5))
        for c in range(npsu):
            m = int(rng.integers(2, 8))
            ssu = rng.integers(0, 3, m)
            rows += [(h, h * 10 + c, int(s)) for s in ssu]
    df = pd.DataFrame(rows, columns=["h", "c", "s"])
    n = len(df)
    df["y"] = rng.normal(3, 2, n).round(3)
    df["x"] = rng.gamma(2, 1, n).round(3) + 0.5
    for col, levels, p in (("a", ["a1", "a2", "a3"], [0.5, 0.3, 0.2]), ("b", ["b1", "b2"], None),
                           ("g", ["g1", "g2", "g3"], None)):
        v = rng.choice(levels, n, p=p)
        v[rng.choice(n, len(levels), replace=False)] = levels  # every level present (n >= 4):
        df[col] = pd.Categorical(v)                           # the margins can be met
    df["w"] = np.exp(rng.normal(0, 0.4, n)).round(4)
    if kind == "srs":
        return df, {"weights": "w"}
    if kind == "cluster":
        return df, {"weights": "w", "psu": "c"}
    if kind == "strat_cluster":
        return df, {"weights": "w", "psu": "c", "strata": "h"}
    if kind == "strat_rows":
        return df, {"weights": "w", "strata": "h"}
    # two stages with fpc: PSUs c within strata h, SSUs (c, s); population sizes per stratum
    npsu = df.groupby("h")["c"].nunique()
    df["N1"] = df["h"].map(npsu + rng.integers(0, 4, len(npsu))).astype(float)
    df["ssu"] = df["c"] * 10 + df["s"]
    nssu = df.groupby("c")["ssu"].nunique()
    df["N2"] = df["c"].map(nssu + rng.integers(0, 3, len(nssu))).astype(float)
    return df, {"psu": ["c", "ssu"], "strata": "h", "fpc": ["N1", "N2"]}


def _weight(d: SurveyDesign, how: str) -> SurveyDesign:
    N = float(d.weights.sum())
    A = {"a1": 0.45 * N, "a2": 0.35 * N, "a3": 0.2 * N}
    B = {"b1": 0.5 * N, "b2": 0.5 * N}
    if how == "rake":
        return d.rake({"a": A, "b": B}, epsilon=1e-12, maxit=500)
    if how == "poststratify":
        return d.poststratify("a", A)
    if how == "greg":
        return d.calibrate({"a": A, "x": float(d.total("x")["estimate"].iloc[0]) * 1.05})
    if how == "rake_trim":
        r = d.rake({"a": A, "b": B}, epsilon=1e-12, maxit=500)
        w = r.weights
        return r.trim(upper=float(np.quantile(w, 0.9)), strict=False, force=True)
    if how == "greg_rake":
        return d.calibrate({"b": B}).rake({"a": A}, epsilon=1e-12, maxit=500)
    return d


def _masks(rng: np.random.Generator, df: pd.DataFrame) -> list[np.ndarray]:
    n = len(df)
    out = [rng.random(n) < 0.4]
    strata = df["h"].unique()
    out.append(df["h"].isin(strata[: max(1, len(strata) // 2)]).to_numpy() & (rng.random(n) < 0.7))
    out.append((df["c"] == df["c"].iloc[int(rng.integers(0, n))]).to_numpy())  # one PSU
    out.append((df["h"] == 0).to_numpy())  # the (possibly lonely) first stratum only
    return [m for m in out if m.any()]


def _quantiles(d: SurveyDesign) -> np.ndarray:
    """Quantiles and Woodruff intervals; an interval of SE 0 is the quantile rule at the
    estimate's own cumulative-weight step, where the rule jumps: rounding in the last bit picks
    either neighbour on any path, so those bounds are left out (NaN)."""
    f = d.quantile("y", [0.25, 0.5])[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float).copy()
    f[f[:, 1] == 0, 2:] = np.nan
    return f


def _results(d: SurveyDesign) -> dict[str, object]:
    """Everything the estimators publish for a domain, as arrays (or the error they raise)."""
    out: dict[str, object] = {}

    def put(name, fn):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e = fn()
                if hasattr(e, "cov"):
                    out[name] = (e.estimate, e.cov, np.asarray(e.df, float))
                else:
                    out[name] = e
        except (SurveyError, ZeroDivisionError) as err:  # both paths must fail alike
            out[name] = type(err).__name__

    put("mean", lambda: d.mean(["y", "x"], return_estimates=True))
    put("mean_by", lambda: d.mean("y", by="g", return_estimates=True))
    put("total_by", lambda: d.total(["y"], by=["g", "b"], return_estimates=True))
    put("ratio", lambda: d.ratio("y", "x", return_estimates=True))
    put("prop", lambda: d.proportion("a", by="b", return_estimates=True))
    put("quantile", lambda: _quantiles(d))
    put("df", lambda: np.array([d.df, d.n, d.n_psu, d.n_strata], float))
    Z = np.column_stack([d.column("y").to_numpy(), (d.column("a") == "a1").to_numpy(float)])
    put("vcov", lambda: vcov_totals(d, Z))
    A = np.column_stack([np.ones(d.n_rows), d.column("x").to_numpy()])
    put("ratio_est", lambda: ratio_estimates(d, Z, A))
    put("glm", lambda: (lambda g: (g.params.to_numpy(), g.cov.to_numpy(), np.array([g.df_resid, g.nobs])))(
        d.glm("y ~ x + C(b)")))
    live = d.weights > 0
    for q in ("a", "b"):
        # Rao-Scott F of full tables with df > 0 only: with empty cells or a single PSU the
        # statistic hangs on rounding noise of a singular (or zero) covariance, on any path
        tab = pd.crosstab(d.column("g")[live], d.column(q)[live])
        if tab.shape[0] >= 2 and tab.shape[1] >= 2 and (tab.to_numpy() > 0).all() and d.df > 0:
            put(f"rao_scott_{q}", lambda q=q: np.array([[r["F"], r["ddf"], r["p"]]
                                                        for r in batch_rao_scott(d, "g", [q])]))
    return out


def _close(a: object, b: object, what: str) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b, f"{what}: {a} vs {b}"
        return
    if isinstance(a, tuple):
        for i, (u, v) in enumerate(zip(a, b)):
            _close(u, v, f"{what}[{i}]")
        return
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    scale = max(np.nanmax(np.abs(a), initial=0.0), 1e-300) if a.size else 1.0
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * scale + 1e-20, equal_nan=True, err_msg=what)


def _design(seed: int, kind: str, how: str, lonely: str, lonely_stratum: bool, reps: str | None):
    rng = np.random.default_rng(seed)
    df, args = _frame(rng, kind, lonely_stratum)
    d = SurveyDesign(df, lonely_psu=lonely, **args)
    d = _weight(d, how)
    if reps == "bootstrap":
        d = d.replicate("bootstrap", 30, seed=seed)
    elif reps == "jk":
        d = d.replicate("auto")
    return rng, df, d


DESIGNS = dict(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(KINDS), how=st.sampled_from(WEIGHTING),
               lonely=st.sampled_from(LONELY), lonely_stratum=st.booleans(), reps=st.sampled_from(REPLICATES))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
# found by `make explore`: a bootstrap replicate leaves one respondent of a 4-row domain, and
# the glm refit raised statsmodels' ValueError (now NA, dropped as R's svrVar drops it)
@example(seed=1703, kind="srs", how="rake", lonely="fail", lonely_stratum=True, reps="bootstrap")
def test_compact_domain_equals_full_row_subset(seed, kind, how, lonely, lonely_stratum, reps):
    _check_design(seed, kind, how, lonely, lonely_stratum, reps)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DESIGNS)
def test_compact_domain_equals_full_row_subset_many(seed, kind, how, lonely, lonely_stratum, reps):
    _check_design(seed, kind, how, lonely, lonely_stratum, reps)


def _check_design(seed, kind, how, lonely, lonely_stratum, reps):
    try:
        rng, df, d = _design(seed, kind, how, lonely, lonely_stratum, reps)
    except SurveyError:  # e.g. jackknife of a lonely stratum under lonely_psu="fail"
        return
    for m in _masks(rng, df):
        full, comp = d.subset(m), d.subset(m, compact=True)
        assert comp.n_rows == int(m.sum()) and full.n_rows == len(df)
        rf, rc = _results(full), _results(comp)
        assert rf.keys() == rc.keys()
        for k in rf:
            _close(rf[k], rc[k], f"{kind}/{how}/{lonely}/{reps}: {k}")
        # nested: a domain inside the compact domain, and by= inside it
        inner = (comp.column("b") == "b1").to_numpy()
        if inner.any():
            nf = full.subset(full.column("b") == "b1")
            nc = comp.subset(inner, compact=True)
            nm = comp.subset(comp.column("b") == "b1")  # full-row subset of a compact one
            a, b, c = _results(nf), _results(nc), _results(nm)
            for k in a:
                _close(a[k], b[k], f"nested compact: {k}")
                _close(a[k], c[k], f"nested mask: {k}")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(KINDS),
       how=st.sampled_from(WEIGHTING[1:]), zero_weights=st.booleans())
def test_cell_space_totals_equal_residualized_rows(seed, kind, how, zero_weights):
    """``psu_totals`` (cell space) equals the PSU sums of ``residualize`` (the reference)."""
    rng = np.random.default_rng(seed)
    df, args = _frame(rng, kind, False)
    if zero_weights and "weights" in args:  # greg zeroes these rows: the cell-space form checks
        df.loc[rng.random(len(df)) < 0.1, "w"] = 0.0
    d = _weight(SurveyDesign(df, lonely_psu="adjust", **args), how)
    x = rng.normal(size=(d.n_rows, 3)) * d.weights[:, None]
    x[rng.random(d.n_rows) < 0.3] = 0.0
    # the values the variance passes (zero where the weight is) and arbitrary values (the
    # full-row fallback where a greg step would zero them)
    for v in (x, x + (d.weights == 0)[:, None] * rng.normal(size=x.shape)):
        ref = residualize(d, v)
        got = psu_totals(d, v)
        for s, T in zip(d.stages[: d.var_stages], got):
            want = s.cl_indicator(d.n_rows) @ ref
            np.testing.assert_allclose(T, want, rtol=1e-10, atol=1e-10 * np.abs(v).sum())


def test_compact_keeps_the_rows_and_refuses_what_needs_all_rows():
    rng = np.random.default_rng(3)
    df, args = _frame(rng, "strat_cluster", False)
    df.index = pd.RangeIndex(100, 100 + len(df))
    d = _weight(SurveyDesign(df, **args), "rake")
    m = (df["g"] == "g1").to_numpy()
    c = d.subset(m, compact=True)
    assert c.n_rows == c.n == int(m.sum())
    assert "compact domain" in repr(c) and f"domain of {len(df)}" in repr(d.subset(m))
    assert c.data.index.equals(df.index[m])            # the rows keep their labels
    assert c.subset(df["b"] == "b1").n == int((m & (df["b"] == "b1")).sum())  # full-length Series
    with pytest.raises(DesignError, match="compact"):
        residualize(c, np.ones((c.n_rows, 1)))
    with pytest.raises(SurveyError, match="subset"):
        c.rake({"a": {"a1": 1.0, "a2": 1.0, "a3": 1.0}})
