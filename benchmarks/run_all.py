"""Every issue #17 figure in one run (``make bench``): ours vs svy and R for raking and domain
means, the national demo's cold report, the 31-province fan-out (local pool and Dask
LocalCluster), and bootstrap replicates re-raked per replicate (time and memory).

Run: ``.venv/bin/python benchmarks/run_all.py [--national DIR] [--quick] [--skip NAME ...]``

Each benchmark runs as its own child process (``benchmarks/bench_*.py``) and its output is shown
as it comes; a summary of the key lines follows at the end, with the load averages (the machine
may be shared: CPU seconds, printed where a run spans processes, do not depend on the load).

* ``--national DIR``: the national demo (``survey demo --national --out DIR``; default
  ``data/demo/national``, generated there by ``bench_national.py`` when absent).
* ``--quick``: a smoke run -- small synthetic sizes (raking 100,000 rows, means on 20,000 rows,
  no R, 50 replicates on a synthetic design), no national report or fan-out; svy's own start-up
  dominates its time (about a minute on a quiet machine).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _util import load_average  # noqa: E402

#: lines of each benchmark's output repeated in the summary
KEY = re.compile(r"(faster than|target \(issue|ratio |ours \(|svy:|^\s+svy\s|R svyby|R survey::rake|"
                 r"cold national report|national demo generated|fan-out|  local:|  dask:|"
                 r"  stream |  fill |  full |skipped)")


def plan(a: argparse.Namespace) -> list[tuple[str, list[str]]]:
    nat = ["--root", a.national]
    if a.quick:
        return [("rake", ["bench_rake.py", "--n", "100000", "--skip-r"]),
                ("estimate", ["bench_estimate.py", "--n", "20000", "--skip-r"]),
                ("replicates", ["bench_replicates.py", "--quick"])]
    return [("rake", ["bench_rake.py"]),
            ("estimate", ["bench_estimate.py"]),
            ("national", ["bench_national.py", "--cache", a.national]),
            ("fanout", ["bench_fanout.py", *nat, "--ways", "local,dask"]),
            ("replicates", ["bench_replicates.py", *nat])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--national", default=str(ROOT / "data" / "demo" / "national"))
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--skip", nargs="*", default=[], help="benchmarks to leave out (by name)")
    a = ap.parse_args(argv)
    print(f"issue #17 benchmarks ({'quick' if a.quick else 'full'}); load average {load_average()}",
          flush=True)
    summary: list[str] = []
    failed = []
    for name, cmd in plan(a):
        if name in a.skip:
            continue
        print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, *cmd], cwd=HERE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        lines = []
        for line in p.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip())
        p.wait()
        dt = time.perf_counter() - t
        if p.returncode != 0:
            failed.append(name)
        summary.append(f"[{name}] {dt:.0f} s" + ("" if p.returncode == 0 else
                                                 f" FAILED (exit {p.returncode})"))
        summary += [f"    {s.strip()}" for s in lines if KEY.search(s)]
    print("\n=== summary (load average now " + load_average() + ")")
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
