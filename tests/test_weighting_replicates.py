"""Replicates in blocks (survey.weighting.replicates, issue #17 item 5): block-wise re-weighting
and streamed replicate estimates equal the all-at-once computation; memory stays bounded."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from survey import SurveyDesign, weighting
from survey.errors import WeightingError
from survey.variance import replicate_estimates, replicate_vcov
from survey.weighting.core import CellTable, ipf
from survey.weighting.targets import normalize, parse_margins

SEX = {"m": 5500.0, "f": 4500.0}
AGE = {"y": 3000.0, "mid": 4000.0, "o": 3000.0}


def _data(n_per_psu: int = 12, strata: int = 6, psus: int = 5, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_per_psu * strata * psus
    df = pd.DataFrame({
        "stratum": np.repeat([f"h{h}" for h in range(strata)], n_per_psu * psus),
        "psu": np.repeat(np.arange(strata * psus), n_per_psu),
        "sex": rng.choice(["m", "f"], n, p=[0.7, 0.3]),
        "age": rng.choice(["y", "mid", "o"], n, p=[0.5, 0.3, 0.2]),
        "g": rng.choice(["a", "b", "c"], n),
        "w0": rng.uniform(0.5, 3.0, n),
    })
    df["y"] = rng.normal(10, 3, n) + (df["sex"] == "m") * 2
    df.loc[rng.random(n) < 0.1, "y"] = np.nan
    df["z"] = rng.exponential(2.0, n)
    return df


@pytest.fixture(scope="module")
def raked() -> SurveyDesign:
    d = SurveyDesign(_data(), weights="w0", strata="stratum", psu="psu")
    return d.rake({"sex": SEX, "age": AGE})


def test_ipf_columns_do_not_depend_on_each_other():
    df = _data()
    margins, _ = normalize(parse_margins({"sex": SEX, "age": AGE}), None)
    ct = CellTable(df, margins)
    rng = np.random.default_rng(5)
    # one column close to the margins (few sweeps), others far from them (many sweeps)
    W = np.column_stack([df["w0"] * rng.uniform(0.2, 5.0, len(df)) for _ in range(3)])
    T0 = ct.cell_totals(W)
    T0[:, 0] = ipf(T0[:, 0], ct, epsilon=1e-6)[0]
    together, _, ok = ipf(T0, ct)
    assert ok
    for j in range(3):
        alone, _, _ = ipf(T0[:, [j]], ct)
        np.testing.assert_array_equal(together[:, j], alone[:, 0])


def test_blocked_replicate_weighting_equals_all_at_once(raked):
    d = raked.rake({"sex": SEX})  # a chain of two steps, replayed in each block
    full = weighting.replicate_weighting(d, "bootstrap", 23, seed=4, block=None)
    blk = weighting.replicate_weighting(d, "bootstrap", 23, seed=4, block=5)
    np.testing.assert_allclose(blk.repweights, full.repweights, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(blk.weights, full.weights)
    assert blk.replicates.scale == full.replicates.scale
    assert blk.replicates.degf == full.replicates.degf
    a = blk.mean("z", by="g")
    b = full.mean("z", by="g")
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-12)
    # and the blocks really are re-raked: each column meets the sex margin
    sex = d.data["sex"].to_numpy()
    np.testing.assert_allclose(blk.repweights[sex == "m"].sum(axis=0), SEX["m"], rtol=1e-8)


@pytest.mark.parametrize("method", ["bootstrap", "jkn"])
def test_streamed_estimates_equal_unblocked(raked, method):
    R = 37
    full = weighting.replicate_weighting(raked, method, R, seed=9, block=None)
    stat = weighting.mean_statistic(raked, ["y", "z"], by="g")
    st = weighting.stream_replicate_estimates(raked, stat, method, R, block=6, seed=9)
    theta, thetas = replicate_estimates(full, stat[0])
    np.testing.assert_allclose(st.thetas, thetas, rtol=1e-12, atol=0)
    np.testing.assert_allclose(st.theta, theta, rtol=1e-12, atol=0)
    np.testing.assert_allclose(st.vcov(), replicate_vcov(full.replicates, theta, thetas),
                               rtol=1e-12, atol=1e-300)
    # the estimator's own means and SEs on the unblocked replicate design (na_rm)
    ref = full.mean(["y", "z"], by="g", na_rm=True)
    got = st.frame()
    for v in ("y", "z"):
        r = ref[ref["variable"] == v]
        g = got[got["variable"] == v]
        assert g["g"].tolist() == r["g"].tolist() == ["a", "b", "c"]
        np.testing.assert_allclose(g["estimate"].to_numpy(), r["estimate"].to_numpy(), rtol=1e-12)
        np.testing.assert_allclose(g["se"].to_numpy(), r["se"].to_numpy(), rtol=1e-12)
    assert st.blocks == -(-st.thetas.shape[0] // 6) > 1


def test_stream_memory_is_bounded():
    """The streamed peak depends on the block, not on the number of replicates."""
    df = _data(n_per_psu=50, strata=8, psus=6)  # 2,400 rows
    d = SurveyDesign(df, weights="w0", strata="stratum", psu="psu").rake({"sex": SEX, "age": AGE})
    stat = weighting.mean_statistic(d, ["y", "z"])
    peaks = {}
    tracemalloc.start()
    try:
        for R in (20, 160):
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            weighting.stream_replicate_estimates(d, stat, "bootstrap", R, block=10, seed=1)
            peaks[R] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        weighting.replicate_weighting(d, "bootstrap", 160, seed=1, block=None)
        peak_full = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    nR = len(df) * 160 * 8
    assert peak_full > nR  # the unblocked path holds at least the n x R matrix
    assert peaks[160] < 1.5 * peaks[20]  # 8x the replicates, about the same peak


def test_stream_refuses_bad_block_and_replicate_designs(raked):
    with pytest.raises(WeightingError, match="block"):
        weighting.stream_replicate_estimates(raked, weighting.mean_statistic(raked, "z"),
                                             block=0)
    rep = raked.replicate("bootstrap", 5, seed=1)
    with pytest.raises(WeightingError, match="already has replicate weights"):
        list(weighting.replicate_blocks(rep, replicates=5))
