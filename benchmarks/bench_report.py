"""Benchmark skeleton for survey.report (final numbers come once the statistics land).

Times: disclosure control on a large table, the per-page font subset, HTML conversion, one
papermill run of the quality notebook on small synthetic data, and a cold render of the
demo-2024 wave split by stage (read, clean, weight, each notebook, HTML).  Run: ``python benchmarks/bench_report.py``.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def timeit(label: str, fn, repeat: int = 3) -> float:
    best = min(_once(fn) for _ in range(repeat))
    print(f"{label:<48s} {best * 1000:9.1f} ms")
    return best


def _once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    from survey.report import disclosure, fonts

    rng = np.random.default_rng(0)
    big = pd.DataFrame(rng.poisson(30, size=(40, 12)))
    big.iloc[rng.integers(0, 40, 30), rng.integers(0, 12, 30)] = 3
    timeit("suppress_table 40×12 with margins", lambda: disclosure.suppress_table(big, 10))
    text = "".join(bytes([0xB0 + i // 94, 0xA1 + i % 94]).decode("gb2312", "ignore") for i in range(800))
    timeit("font subset, 800 hanzi (cold cache)", lambda: (fonts._subset_cached.cache_clear(), fonts.subset_font(text)))
    from test_report import _small_inputs  # the same small data the tests use

    from survey.report.runner import render_report

    d = Path(tempfile.mkdtemp())
    p = _small_inputs(d)
    timeit("render quality notebook (papermill + HTML)",
           lambda: render_report(p, output_dir=d / "out", notebooks=["quality"], progress=False), repeat=1)


def demo_report(wave: str = "demo-2024", skip: tuple[str, ...] = ()) -> None:
    """Cold render of one demo wave (all notebooks), split by stage: read, clean, weight, each
    notebook's run and HTML conversion, total."""
    import shutil

    from survey.report.runner import render_report

    root = Path(__file__).resolve().parents[1] / "data" / "demo"
    if not (root / wave / "questionnaire.yml").is_file():
        from survey.demo import write_demo

        write_demo(root)
    f = root / wave
    raw = sorted(p for p in f.iterdir() if p.suffix in (".sav", ".xlsx") )[0]
    out = Path(tempfile.mkdtemp()) / wave
    shutil.rmtree(out.parent / f".{out.name}.work", ignore_errors=True)  # cold: no cache
    # earlier demo waves are compared with (painpoints, trends) and prepared cold as well
    prev = sorted(g.name for g in root.glob("demo-*") if g.name < wave and (g / "questionnaire.yml").is_file())
    shutil.rmtree(out.parent / ".work", ignore_errors=True)
    p = {"wave": wave, "questionnaire": str(f / "questionnaire.yml"), "data": str(raw),
         "population": str(f / "population.yml"), "stations": str(f / "stations.csv"),
         "previous_waves": prev, "work_dir": str(out.parent / ".work")}
    from survey.report.params import NOTEBOOKS

    names = [n for n in NOTEBOOKS if n not in skip]
    if not {"painpoints", "trends"} & set(names):
        p.pop("previous_waves")
    res = render_report(p, output_dir=out, notebooks=names, progress=False)
    t = res.timings
    print(f"cold demo report {wave} ({raw.suffix}):")
    for k in ("prepare/read", "prepare/clean", "prepare/write", "prepare/weight", "prepare",
              "prepare_previous"):
        if k in t:
            print(f"  {k:<40s} {t[k]:7.1f} s")
    for k, v in t.items():
        if k.endswith(":run") or k.endswith(":html"):
            print(f"  {k:<40s} {v:7.1f} s")
    print(f"  {'total':<40s} {t['total']:7.1f} s")
    res = render_report(p, output_dir=out, notebooks=names, progress=False)
    print(f"warm (prepared waves cached): total {res.timings['total']:.1f} s; "
          + ", ".join(f"{k.split('/')[-1]} {v:.1f} s" for k, v in res.timings.items()
                      if k.endswith(":run") or k.endswith(":html")))


if __name__ == "__main__":
    main()
    demo_report(skip=tuple(sys.argv[1:]))  # e.g. `bench_report.py trends` skips a notebook
