"""Coverage of 95% confidence intervals under the station design (strata x stations x quota).

The slow test draws 2000 samples and requires coverage within [93%, 97%] for a mean, a
proportion, a domain mean, a ratio and a median; the quick test draws 60 and only checks the
intervals are sane (run the slow one with ``make test-slow``).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from survey import SurveyDesign

from station_population import draw_sample, make_population, truth


def one_sample(pop, rng) -> dict[str, tuple[float, float]]:
    smp = draw_sample(pop, rng)
    d = SurveyDesign(smp, weights="w", strata="stratum", psu=["station", "rid"], fpc=["N_h", "M_i"])
    out = {}
    r = d.mean("income").iloc[0]
    out["mean_income"] = (r["ci_low"], r["ci_high"])
    r = d.mean("burnout").iloc[0]
    out["prop_burnout"] = (r["ci_low"], r["ci_high"])
    r = d.mean("income", by="female")
    r = r[r["female"] == True].iloc[0]  # noqa: E712
    out["domain_mean_income_female"] = (r["ci_low"], r["ci_high"])
    r = d.ratio("income", "hours").iloc[0]
    out["ratio_income_hours"] = (r["ci_low"], r["ci_high"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = d.quantile("income", 0.5).iloc[0]
    out["median_income"] = (r["ci_low"], r["ci_high"])
    return out


def coverage(reps: int, seed: int) -> dict[str, float]:
    pop = make_population()
    tv = truth(pop)
    rng = np.random.default_rng(seed)
    hits = {k: 0 for k in tv}
    for _ in range(reps):
        cis = one_sample(pop, rng)
        for k, (lo, hi) in cis.items():
            hits[k] += bool(lo <= tv[k] <= hi)
    return {k: v / reps for k, v in hits.items()}


def test_coverage_quick():
    cov = coverage(60, seed=11)
    for k, c in cov.items():
        assert c >= 0.8, (k, c)


@pytest.mark.slow
def test_coverage_station_design():
    cov = coverage(2000, seed=2024)
    print("coverage:", {k: round(v, 3) for k, v in cov.items()})
    for k, c in cov.items():
        assert 0.93 <= c <= 0.97, (k, c)
