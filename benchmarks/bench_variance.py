"""Benchmark the two slow spots of the report: calibrated variance and per-page font subsetting.

1. ``design.mean`` of every numeric / likert column with ``by=`` a 5-level group on the prepared
   demo-2024 design (raked: the variance goes through the calibration residualisation), split
   into the residualisation itself and the rest.
2. The per-page HTML work: the font subset of a page's text, cold (new process state: the
   font file is loaded again) and warm.

Run: ``.venv/bin/python benchmarks/bench_variance.py`` (generates ``data/demo`` when absent).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _best(fn, repeat: int = 3) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def _design():
    from survey.pipeline import prepare_wave

    root = ROOT / "data" / "demo"
    f = root / "demo-2024"
    if not (f / "questionnaire.yml").is_file():
        from survey.demo import write_demo

        write_demo(root)
    raw = sorted(p for p in f.iterdir() if p.suffix in (".sav", ".xlsx"))[0]
    w = prepare_wave(raw, f / "questionnaire.yml", population=f / "population.yml",
                     stations=f / "stations.csv", out_dir=Path(tempfile.mkdtemp()), cache=False)
    return w


def variance() -> None:
    w = _design()
    d, q = w.design, w.questionnaire
    cols = []
    for qq in q.questions:
        if qq.type in ("numeric", "likert"):
            cols += [c for c in q.columns(qq.id) if c in d.data.columns]
    by = next(g for g in ("unit_type", "age_group", "title", "district", "sex")
              if g in d.data.columns and d.data[g].nunique() == 5) if any(
        g in d.data.columns and d.data[g].nunique() == 5
        for g in ("unit_type", "age_group", "title", "district", "sex")) else "unit_type"
    kinds = [type(c).__name__ for c in d.calibrations]
    print(f"demo-2024: n={d.n}, {len(cols)} numeric/likert columns, by={by!r} "
          f"({d.data[by].nunique()} levels), calibrations={kinds}")

    # time spent inside residualize during design.mean
    import survey.estimate._engine as est_mod  # the module whose residualize the estimators call
    from survey.variance import residualize

    spent = {"t": 0.0, "calls": 0, "cols": 0}
    orig = est_mod.residualize  # the name the estimators call

    def timed(design, x):
        t = time.perf_counter()
        out = orig(design, x)
        spent["t"] += time.perf_counter() - t
        spent["calls"] += 1
        spent["cols"] = x.shape[1]
        return out

    def run():
        return d.mean(cols, by=by, na_rm=True)

    run()  # warm caches (factorisations are per calibration object)
    est_mod.residualize = timed
    try:
        t = _best(run)
        spent["t"] /= 3
    finally:
        est_mod.residualize = orig
    print(f"  design.mean(all numeric/likert, by={by})     {t * 1000:9.1f} ms "
          f"(residualize {spent['t'] * 1000:.1f} ms on n×{spent['cols']})")
    # cold: fresh design object (no cached factorisation)
    w2 = _design()
    t0 = time.perf_counter()
    w2.design.mean(cols, by=by, na_rm=True)
    print(f"  same, first call on a fresh design           {(time.perf_counter() - t0) * 1000:9.1f} ms")
    # residualize alone on 300 columns
    rng = np.random.default_rng(0)
    x = rng.normal(size=(d.n, 300))
    print(f"  _residualize(n×300)                          {_best(lambda: residualize(d, x)) * 1000:9.1f} ms")


def fonts() -> None:
    import subprocess
    import sys

    text = "".join(bytes([0xB0 + i // 94, 0xA1 + i % 94]).decode("gb2312", "ignore")
                   for i in range(800))
    code = ("import time,sys\n"
            "from survey.report import fonts\n"
            f"text={text!r}\n"
            "t=time.perf_counter(); a=fonts.subset_font(text); t1=time.perf_counter()-t\n"
            "t=time.perf_counter(); b=fonts.subset_font(text+'龟'); t2=time.perf_counter()-t\n"
            "t=time.perf_counter(); c=fonts.subset_font(text+'齐'); t3=time.perf_counter()-t\n"
            "import hashlib\n"
            "h=hashlib.sha256(a if isinstance(a,bytes) else str(a).encode()).hexdigest()[:16]\n"
            "print(f'{t1*1000:.1f} {t2*1000:.1f} {t3*1000:.1f} {h}')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    print(f"font subset, 800 hanzi: first page in a process  {float(out[0]):9.1f} ms")
    print(f"font subset, next pages (different text)        {float(out[1]):9.1f} ms, "
          f"{float(out[2]):.1f} ms")
    print(f"  output sha256 prefix {out[3]}")


def html_pages(folder: Path = ROOT / "reports" / "demo-2024" / "notebooks") -> None:
    """Per-page HTML conversion of executed notebooks, in a fresh process (as the report
    runner does): total and the font-subset share of each page."""
    import subprocess
    import sys

    nbs = sorted(folder.glob("*.ipynb"))
    if not nbs:
        print(f"html pages: no executed notebooks in {folder} (run `survey report --demo`)")
        return
    code = ("import sys,time,nbformat\n"
            "from survey.report import fonts, html\n"
            "orig=fonts.font_face_css; spent=[0.0]\n"
            "def timed(*a,**k):\n"
            "    t=time.perf_counter(); r=orig(*a,**k); spent[0]+=time.perf_counter()-t; return r\n"
            "html.font_face_css=timed\n"
            "for p in sys.argv[1:]:\n"
            "    nb=nbformat.read(p,as_version=4); spent[0]=0.0\n"
            "    t=time.perf_counter(); page=html.notebook_to_html(nb,title='t')\n"
            "    print(p.rsplit('/',1)[-1], round(time.perf_counter()-t,3), round(spent[0],3), len(page))\n")
    out = subprocess.run([sys.executable, "-c", code, *map(str, nbs)], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    print("HTML conversion per page, one fresh process (page, total s, font s, bytes):")
    for line in out.splitlines():
        print("  " + line)


if __name__ == "__main__":
    variance()
    fonts()
    html_pages()
