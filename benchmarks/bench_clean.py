"""Cleaning speed: a 15,000-respondent wave with the demo's planted dirt, default rules.

The frame is the demo wave 2024 export (12,914 rows incl. planted duplicates, speeders,
straight-liners, out-of-range values, skip violations), topped up to ``--n`` rows with extra
respondents whose answers are column-wise shuffles of real rows (so they are not duplicates).

Run:  .venv/bin/python benchmarks/bench_clean.py [--n 15000] [--repeat 5]

Prints the median wall time of ``survey.clean`` (all rules, run to their fixed point), of a
re-run on the clean output (idempotence check), and of ``CleanResult.write``.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import pandas as pd


def make_frame(n: int, seed: int = 7) -> tuple[pd.DataFrame, object]:
    from survey.demo.wave import build_wave
    from survey.privacy import salted_hash

    w = build_wave("2024", 2024)
    ex = w.export.copy()
    ex["phone_hash"] = salted_hash(ex["phone"], "bench", kind="phone")
    ex["ip_hash"] = salted_hash(ex["ip"], "bench", kind="ip")
    f = ex.drop(columns=["name", "phone", "email", "ip"])
    extra = n - len(f)
    if extra > 0:
        rng = np.random.default_rng(seed)
        add = f.iloc[rng.integers(0, len(f), extra)].reset_index(drop=True)
        for c in add.columns:
            add[c] = add[c].iloc[rng.permutation(extra)].to_numpy()
        add["rid"] = pd.Series([f"x{i:06d}" for i in range(extra)], dtype="str")
        f = pd.concat([f, add], ignore_index=True)
    return f, w.questionnaire


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=15_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from survey import clean

    f, q = make_frame(a.n)
    clean(f.head(500), q)  # warm-up (imports, regex compilation)
    times, res = [], None
    for _ in range(a.repeat):
        t = time.perf_counter()
        res = clean(f, q)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    again = clean(res.data, q)
    t_re = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res.write(d)
        t_w = time.perf_counter() - t
    print(f"survey.clean on {len(f):,} respondents × {f.shape[1]} columns: "
          f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}; "
          f"{res.passes} passes), {len(res.dropped)} dropped, {len(res.log)} log rows")
    print(f"re-run on the clean output: {t_re:.2f} s, "
          f"{int(again.log['action'].isin(['drop', 'blank']).sum())} changes")
    print(f"CleanResult.write (parquet + csv + xlsx + json): {t_w:.2f} s")


if __name__ == "__main__":
    main()
