"""Speed of SurveyDesign(...).mean(20 variables, by=8-level domain) on 100,000 rows.

Design: 40 strata x 10 PSUs (stations), weights, no fpc.  Times, in one run:
  * ours: build the design + the by= means (best of 5 after one warm-up);
  * R: ``svyby(~v1+...+v20, ~dom, des, svymean)`` via Rscript (when R is installed; timing of
    the svyby call only, data already loaded);
  * the Python package ``svy`` (when installed in .venv; ``pip install svy`` -- it is not a
    dependency of this project).
and prints the ratios and whether the issue #17 target (>= 25x svy) is met; every timing is
best of k in the same run.  Run: ``.venv/bin/python benchmarks/bench_estimate.py``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from survey import SurveyDesign  # noqa: E402

from _util import load_average, print_target  # noqa: E402  (benchmarks/ is the script's folder)

N, H, PSU_PER, P, DOM = 100_000, 40, 10, 20, 8
REPEAT = 7          # best of k for ours (the machine may be shared: timings are noisy)
SVY_REPEAT = 3      # best of k for svy and R
TARGET_VS_SVY = 25  # issue #17: at least 25x faster than svy


def make_data(seed: int = 1, n: int | None = None) -> pd.DataFrame:
    N = n or globals()["N"]
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, H * PSU_PER, N)
    stratum = psu // PSU_PER
    eff = rng.normal(0, 1, H * PSU_PER)[psu]
    cols = {f"v{j + 1}": eff * 0.3 + rng.normal(0, 1, N) + j for j in range(P)}
    df = pd.DataFrame(cols)
    df.insert(0, "dom", rng.integers(0, DOM, N))
    df.insert(0, "w", rng.uniform(1, 50, N))
    df.insert(0, "psu", psu)
    df.insert(0, "stratum", stratum)
    return df


def time_ours(df: pd.DataFrame, variables: list[str]) -> tuple[float, pd.DataFrame]:
    SurveyDesign(df, weights="w", strata="stratum", psu="psu").mean(variables, by="dom")  # warm-up
    best, out = np.inf, None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = SurveyDesign(df, weights="w", strata="stratum", psu="psu").mean(variables, by="dom")
        best = min(best, time.perf_counter() - t0)
    return best, out


def time_r(df: pd.DataFrame, variables: list[str]) -> tuple[float | None, str]:
    if shutil.which("Rscript") is None:
        return None, "Rscript not found: R comparison skipped"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        df.to_csv(path, index=False)
        f = "+".join(variables)
        script = f"""
        suppressPackageStartupMessages(library(survey))
        d <- read.csv("{path}")
        des <- svydesign(id=~psu, strata=~stratum, weights=~w, data=d)
        t <- min(sapply(seq_len({SVY_REPEAT}), function(i) {{
          t0 <- proc.time()[["elapsed"]]
          b <<- svyby(~{f}, ~dom, des, svymean)
          proc.time()[["elapsed"]] - t0 }}))
        cat(t, "\\n")
        cat(format(SE(b)[1, 1], digits=15), "\\n")
        """
        res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            return None, f"R failed: {res.stderr.strip()[-300:]}"
        lines = res.stdout.split()
        return float(lines[0]), f"best of {SVY_REPEAT}; R first SE {lines[1]}"


def time_svy(df: pd.DataFrame, variables: list[str]) -> tuple[float | None, str]:
    try:
        import polars as pl
        import svy
    except ImportError:
        return None, "package 'svy' not installed (pip install svy into .venv to compare): skipped"
    try:
        data = pl.from_pandas(df)
        design = svy.Design(stratum="stratum", psu="psu", wgt="w")
        sample = svy.Sample(data=data, design=design)
        sample.estimation.mean(variables[0], by="dom")  # warm-up
        best = np.inf
        for _ in range(SVY_REPEAT):
            t0 = time.perf_counter()
            for v in variables:
                sample.estimation.mean(v, by="dom")
            best = min(best, time.perf_counter() - t0)
        return best, f"svy {getattr(svy, '__version__', '?')}, best of {SVY_REPEAT}"
    except Exception as e:  # the svy API changes between versions
        return None, f"svy present but its API call failed ({type(e).__name__}: {e}); skipped"


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=N)
    ap.add_argument("--skip-r", action="store_true")
    a = ap.parse_args()
    df = make_data(n=a.n)
    variables = [f"v{j + 1}" for j in range(P)]
    print(f"workload: {a.n} rows, {H} strata x {PSU_PER} PSUs, mean of {P} variables by {DOM}-level domain")
    print(f"load average at start: {load_average()}")
    ours, out = time_ours(df, variables)
    print(f"ours (SurveyDesign + mean by=, best of {REPEAT}): {ours:.4f} s  "
          f"[{len(out)} rows; first SE {out['se'].iloc[0]:.10g}]")
    r, rmsg = (None, "skipped (--skip-r)") if a.skip_r else time_r(df, variables)
    print(f"R svyby: {'%.3f s' % r if r else '-'}  ({rmsg})")
    s, smsg = time_svy(df, variables)
    print(f"svy: {'%.3f s' % s if s else '-'}  ({smsg})")
    print(f"load average at end: {load_average()}")
    if r:
        print(f"ratio R / ours: {r / ours:.1f}x")
    if s:
        print(f"ratio svy / ours: {s / ours:.1f}x")
    print_target("mean by domain", ours, s, TARGET_VS_SVY)


if __name__ == "__main__":
    main()
