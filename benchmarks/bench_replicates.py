"""Replicates at scale (issue #17 item 5): bootstrap replicates re-raked per replicate on the
national demo's prepared wave, then means of four variables by province -- time and peak memory.

Run: ``.venv/bin/python benchmarks/bench_replicates.py [--root DIR] [--replicates 500]
[--block 50] [--quick]``

Three ways, each in a fresh child process (so peak RSS belongs to that way alone):

* ``stream``: :func:`survey.weighting.stream_replicate_estimates` -- blocks of ``--block``
  replicate columns are formed, re-raked and estimated, only the ``R x p`` estimates are kept;
* ``fill``: :func:`survey.weighting.replicate_weighting` with its default ``block=64`` -- the
  ``n x R`` matrix is kept (for export to R/Stata) but raked block-wise;
* ``full``: ``replicate_weighting(..., block=None)`` -- all columns at once (the old way).

Printed per way: seconds, tracemalloc peak of the replicate step (numpy buffers included), the
child's peak RSS, and the largest relative difference of its standard errors from ``stream``'s
(the ways must agree to 1e-12).  The prepared wave is read from ``--root`` (the national demo,
``survey demo --national``) and cached under ``--cache``.  ``--quick``: 50 replicates on a
synthetic 5,000-row design (no demo needed) -- a smoke run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load_average  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VARIABLES = ["hours", "research_share", "training_days", "sleep_hours"]
BY = "region"


def _national(root: Path, cache: Path):
    from survey.pipeline import find_export, prepare_wave, wave_inputs

    wave = "national-2024"
    raw = find_export(root / "data" / wave)
    inp = wave_inputs(root / "questionnaires" / wave, raw=raw)
    w = prepare_wave(inp["raw"], inp["questionnaire"], population=inp["population"],
                     stations=inp["stations"], out_dir=cache)
    return w.design


def _synthetic(n: int = 5000):
    import pandas as pd

    from survey import SurveyDesign

    rng = np.random.default_rng(17)
    df = pd.DataFrame({"stratum": rng.integers(0, 20, n).astype(str),
                       "sex": rng.choice(["m", "f"], n, p=[0.6, 0.4]),
                       "age": rng.choice(["y", "m", "o"], n), BY: rng.choice(list("abcde"), n)})
    df["station"] = df["stratum"] + "-" + rng.integers(0, 6, n).astype(str)
    for v in VARIABLES:
        df[v] = rng.normal(40, 8, n)
    d = SurveyDesign(df, strata="stratum", psu="station", lonely_psu="adjust")
    return d.rake({"sex": {"m": 5e5, "f": 5e5}, "age": {"y": 3e5, "m": 4e5, "o": 3e5}})


def child(way: str, a: argparse.Namespace) -> dict:
    from survey import weighting
    from survey.variance import replicate_estimates

    t = time.perf_counter()
    d = _synthetic() if a.quick else _national(Path(a.root), Path(a.cache))
    load_s = time.perf_counter() - t
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stat = weighting.mean_statistic(d, VARIABLES, by=BY)
    tracemalloc.start()
    t = time.perf_counter()
    cpu = time.process_time()
    if way == "stream":
        st = weighting.stream_replicate_estimates(d, stat, "bootstrap", a.replicates,
                                                  block=a.block, seed=a.seed)
        se = st.se
    else:
        r = weighting.replicate_weighting(d, "bootstrap", a.replicates, seed=a.seed,
                                          block=None if way == "full" else 64)
        theta, thetas = replicate_estimates(r, stat[0])
        from survey.variance import replicate_vcov
        se = np.sqrt(np.diag(replicate_vcov(r.replicates, theta, thetas)))
    dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"way": way, "n": int(d.n), "psu": int(d.n_psu), "seconds": dt, "cpu": dcpu,
            "tracemalloc_peak_mb": peak, "rss_loaded_mb": rss_loaded,
            "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load_s": load_s, "p": int(len(se)), "se": [float(x) for x in se]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=str(ROOT / "data" / "demo" / "national"),
                    help="the national demo (survey demo --national --out DIR)")
    ap.add_argument("--cache", default=None, help="prepared-wave cache (default ROOT/.bench_cache)")
    ap.add_argument("--replicates", type=int, default=500)
    ap.add_argument("--block", type=int, default=50)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--ways", default="stream,fill,full")
    ap.add_argument("--quick", action="store_true", help="50 replicates, synthetic design")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.quick:
        a.replicates = min(a.replicates, 50)
    a.cache = a.cache or str(Path(a.root) / ".bench_cache")
    if a.child:
        print(json.dumps(child(a.child, a)))
        return {}
    if not a.quick and not (Path(a.root) / "questionnaires" / "national-2024").is_dir():
        print(f"replicates: no national demo in {a.root} (survey demo --national --out DIR); "
              "skipped")
        return {}
    print(f"replicates: bootstrap {a.replicates} re-raked per replicate, means of "
          f"{len(VARIABLES)} variables by {BY}; {'synthetic (quick)' if a.quick else a.root}")
    print(f"load average at start: {load_average()}")
    out, ref = {}, None
    passthru = [f"--root={a.root}", f"--cache={a.cache}", f"--replicates={a.replicates}",
                f"--block={a.block}", f"--seed={a.seed}"] + (["--quick"] if a.quick else [])
    for way in a.ways.split(","):
        r = subprocess.run([sys.executable, __file__, "--child", way, *passthru], cwd=ROOT,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        if r.returncode != 0:
            print(f"  {way}: failed\n{r.stderr[-2000:]}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        se = np.array(res["se"])
        if ref is None:
            ref = se
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = float(np.nanmax(np.abs(se / ref - 1))) if len(se) == len(ref) else np.nan
        print(f"  {way:6s} n={res['n']:,} PSUs={res['psu']:,} R={a.replicates}: "
              f"{res['seconds']:7.1f} s (CPU {res['cpu']:.2f} s), tracemalloc peak "
              f"{res['tracemalloc_peak_mb']:7.1f} MB, process peak RSS {res['rss_peak_mb']:7.0f} MB "
              f"(after loading the wave {res['rss_loaded_mb']:.0f} MB); {res['p']} means, "
              f"max rel SE diff vs {a.ways.split(',')[0]} {diff:.1e}", flush=True)
        out[way] = {k: v for k, v in res.items() if k != "se"} | {"se_max_rel_diff": diff}
    print(f"load average at end: {load_average()}")
    return out


if __name__ == "__main__":
    main()
