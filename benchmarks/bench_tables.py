"""Benchmark: a full crosstab battery with Rao–Scott tests.

Every single-choice question of a 40-question wave crossed with 5 subgroups (200 tables, each
with weighted counts, cell/row/column percentages with SE/CI/deff/flags and the Rao–Scott F,
Chisq, Wald and adjWald tests) on 15,000 respondents in a stratified cluster design
(16 strata, 300 stations).  Target: under 2 s.  Also times a design-based logistic GLM.

Run:  .venv/bin/python benchmarks/bench_tables.py
(A synthetic frame of the demo wave's shape is used, so the script runs without the demo data.)
"""
from __future__ import annotations

import os
import time

# small matrices: threaded BLAS only adds contention (set before numpy is imported)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from survey import SurveyDesign

N, N_Q, N_STATIONS, N_STRATA = 15_000, 40, 300, 16
SUBGROUPS = {"sex": ["男", "女"], "age_group": ["≤35", "36-45", "46-55", "≥56"],
             "title": ["正高", "副高", "中级", "初级", "无"],
             "unit_type": ["科研机构", "高等院校", "企业", "卫生机构", "中学", "园区"],
             "district": [f"区{i}" for i in range(1, 8)]}


def synthetic_wave(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    station = rng.integers(0, N_STATIONS, N)
    df = pd.DataFrame({"rid": [f"r{i:05d}" for i in range(N)], "station": station,
                       "stratum": station % N_STRATA, "w": 200 * rng.lognormal(0, 0.4, N)})
    for name, levels in SUBGROUPS.items():
        df[name] = pd.Categorical.from_codes(rng.integers(0, len(levels), N), categories=levels)
    eff = rng.normal(0, 0.35, N_STATIONS)[station]         # cluster effect -> deff ~ 2-4
    for q in range(1, N_Q + 1):
        k = 3 + q % 4                                         # 3..6 options
        latent = eff + 0.3 * df["title"].cat.codes.to_numpy() + rng.logistic(size=N)
        codes = np.clip(np.floor((latent + 2.5) / 5 * k), 0, k - 1).astype(int)
        codes[rng.random(N) < 0.03] = -1                      # item non-response
        df[f"q{q:02d}"] = pd.Categorical.from_codes(codes, categories=[f"选项{j}" for j in range(1, k + 1)])
    df["leave"] = (rng.random(N) < 1 / (1 + np.exp(-(eff - 1)))).astype(float)
    df["hours"] = rng.normal(47, 8, N)
    return df


def main() -> None:
    df = synthetic_wave()
    d = SurveyDesign(df, weights="w", strata="stratum", psu="station")
    d.crosstab("q01", "sex")                                  # warm-up (imports, caches)
    questions = [f"q{q:02d}" for q in range(1, N_Q + 1)]
    t0, c0 = time.perf_counter(), time.process_time()
    out = [d.crosstab(q, g) for q in questions for g in SUBGROUPS]
    t1, c1 = time.perf_counter(), time.process_time()
    tests = pd.concat([t.test.assign(row=t.row, col=t.col) for t in out], ignore_index=True)
    cells = sum(len(t.frame) for t in out)
    print(f"crosstab battery: {len(out)} tables ({N_Q} questions x {len(SUBGROUPS)} subgroups), "
          f"{cells} estimate rows, n={N}: {t1 - t0:.2f} s "
          f"wall, {c1 - c0:.2f} s CPU ({1000 * (t1 - t0) / len(out):.1f} ms/table); target < 2 s")
    print(f"  Rao-Scott F p < 0.05 in {int((tests.p < 0.05).sum())} of {len(tests)} tables; "
          f"median deff of cell % {np.nanmedian(pd.concat([t.pct.deff for t in out])):.2f}")
    t2 = time.perf_counter()
    m = d.glm("leave ~ hours + C(title) + C(sex) + C(age_group)", family="binomial")
    t3 = time.perf_counter()
    print(f"logistic svyglm with {len(m.params)} coefficients, n={m.nobs}: {t3 - t2:.2f} s")


if __name__ == "__main__":
    main()
