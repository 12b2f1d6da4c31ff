"""The national demo's cold report (issue #17): generate the demo if absent, render national-2024.

Run: ``.venv/bin/python benchmarks/bench_national.py [--cache DIR] [--out DIR] [--keep]``

* the national demo (``survey demo --national``: 31 provinces, ~50,000 respondents per wave,
  ~1,500 stations) is generated into ``--cache`` (default ``data/demo/national``, git-ignored)
  when its ``questionnaires/national-2024/questionnaire.yml`` is missing; generation time and
  the generator's peak memory are printed;
* then ``survey report --root CACHE --wave national-2024`` renders the whole national report
  (all notebooks, no ``--by``) into a fresh output folder (a temporary one, or ``--out``), so
  nothing is cached from an earlier run: the cold time, from the command line to index.html.

Both steps run as child processes (``python -m survey``), as a user runs them; the machine's
load average is printed next to the times.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load_average  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str]) -> tuple[float, float]:
    """Run *cmd*; (wall seconds, peak RSS of the child in MB).  Stops on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    dt = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return dt, max(peak, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "data" / "demo" / "national"),
                    help="where the national demo is (generated there if absent)")
    ap.add_argument("--out", default=None, help="report folder (default: a fresh temporary one)")
    ap.add_argument("--previous", default="national-2023",
                    help="earlier wave(s) to compare with, as a user runs it (empty: none)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary report folder")
    a = ap.parse_args()
    cache = Path(a.cache)
    py = sys.executable
    print(f"load average before: {load_average()}")
    if not (cache / "questionnaires" / "national-2024" / "questionnaire.yml").is_file():
        dt, mb = _run([py, "-m", "survey", "demo", "--national", "--out", str(cache)])
        print(f"national demo generated into {cache}: {dt:.1f} s, peak memory {mb:,.0f} MB")
    else:
        print(f"national demo found in {cache} (delete it to time the generation)")
    tmp = None
    if a.out:
        out = Path(a.out)
    else:
        tmp = tempfile.mkdtemp(prefix="bench_national_")
        out = Path(tmp) / "national-2024"
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty: a cold run needs a fresh report folder")
    dt, _ = _run([py, "-m", "survey", "report", "--root", str(cache), "--wave", "national-2024",
                  "-o", str(out), "--quiet"] + (["--previous", a.previous] if a.previous else []))
    prev = f" --previous {a.previous}" if a.previous else ""
    print(f"cold national report (survey report --wave national-2024{prev}, all notebooks, no --by): "
          f"{dt:.1f} s -> {out / 'index.html'}")
    print(f"load average after: {load_average()}")
    if tmp and not a.keep:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
