"""A small simulated population of S&T workers in stations, and the station sample design.

Used by the coverage simulation (tests/test_estimate_coverage.py); independent of the demo
generator.  Population: ``H`` strata (region x station type), ``N_h`` stations per stratum,
``M_i`` workers per station with station-level random effects (so clustering matters, design
effects ~2-4).  Design: SRS of ``n_h`` stations per stratum, SRS (quota) of ``m`` workers in
each sampled station; weights ``(N_h / n_h) (M_i / m)``; fpc = (N_h, M_i).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_population", "draw_sample", "truth"]


def make_population(seed: int = 7, H: int = 6, stations: tuple[int, int] = (25, 45),
                    size: tuple[int, int] = (40, 250)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N_h = rng.integers(stations[0], stations[1] + 1, H)
    st_stratum = np.repeat(np.arange(H), N_h)
    S = len(st_stratum)
    M = rng.integers(size[0], size[1] + 1, S)
    st_eff = rng.normal(0, 0.3, S)
    st_burn = rng.normal(0, 0.6, S)
    person_station = np.repeat(np.arange(S), M)
    n = len(person_station)
    h = st_stratum[person_station]
    female = rng.random(n) < 0.35 + 0.1 * (h % 2)
    age = rng.integers(22, 61, n)
    log_inc = 9.3 + 0.12 * h + st_eff[person_station] - 0.1 * female + 0.012 * (age - 40) \
        + rng.normal(0, 0.5, n)
    hours = np.clip(rng.normal(46 + 5 * st_eff[person_station], 8, n), 15, 90)
    burnout = rng.random(n) < 1 / (1 + np.exp(-(-0.7 + st_burn[person_station] + 0.3 * female)))
    return pd.DataFrame({
        "stratum": h, "station": person_station, "N_h": N_h[h].astype(float),
        "M_i": M[person_station].astype(float), "female": female, "age": age,
        "income": np.round(np.exp(log_inc), 0), "hours": np.round(hours, 1),
        "burnout": burnout.astype(float),
    })


def draw_sample(pop: pd.DataFrame, rng: np.random.Generator, n_h: int = 8, m: int = 12,
                _index: dict = {}) -> pd.DataFrame:
    """Two-stage SRS without replacement: n_h stations per stratum, m workers per station."""
    key = id(pop)
    if key not in _index:
        st = pop.groupby("station", sort=True)
        starts = st.indices
        stations_by_stratum = pop.groupby("stratum")["station"].unique()
        _index.clear()
        _index[key] = (starts, stations_by_stratum)
    starts, by_stratum = _index[key]
    rows = []
    for stations in by_stratum:
        chosen = rng.choice(stations, size=n_h, replace=False)
        for s in chosen:
            members = starts[s]
            rows.append(rng.choice(members, size=min(m, len(members)), replace=False))
    idx = np.concatenate(rows)
    smp = pop.iloc[idx].reset_index(drop=True)
    smp["w"] = (smp["N_h"] / n_h) * (smp["M_i"] / np.minimum(m, smp["M_i"]))
    smp["rid"] = np.arange(len(smp))
    return smp


def truth(pop: pd.DataFrame) -> dict[str, float]:
    fem = pop[pop["female"]]
    return {
        "mean_income": float(pop["income"].mean()),
        "prop_burnout": float(pop["burnout"].mean()),
        "domain_mean_income_female": float(fem["income"].mean()),
        "ratio_income_hours": float(pop["income"].sum() / pop["hours"].sum()),
        "median_income": float(np.quantile(pop["income"], 0.5, method="inverted_cdf")),
    }
