"""How long does reading a 15,000-row export take?  (`make bench` runs this.)

Generates a synthetic 15,000-respondent frame for the mini questionnaire (every question type,
~37 export columns), writes it as 问卷星 按序号 / 按文本 .xlsx, SPSS .sav (UTF-8 and GBK) and
CSV, then times ``survey.read_export`` on each (best of ``--repeat`` runs).  For scale: the
same file read with plain ``pandas.read_excel`` / ``pyreadstat.read_sav`` (no typing, no
mapping) is timed alongside, so the ratio shows what the mapping/decoding layer costs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "mini"))

import pandas as pd  # noqa: E402
import pyreadstat  # noqa: E402

from make_fixtures import make_frame  # noqa: E402
from survey import Questionnaire, read_export, write_sav, write_wjx  # noqa: E402


def best(fn, repeat: int) -> float:
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=15_000)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    q = Questionnaire.load(ROOT / "tests" / "fixtures" / "mini" / "questionnaire.yml")
    f = make_frame(a.rows, 3, q)
    tmp = Path(tempfile.mkdtemp())
    files = {}
    t0 = time.perf_counter()
    files["问卷星 按序号 .xlsx"] = write_wjx(f, q, tmp / "x_按序号.xlsx", layout="code")
    t_wx = time.perf_counter() - t0
    files["问卷星 按文本 .xlsx"] = write_wjx(f, q, tmp / "x_按文本.xlsx", layout="text")
    t0 = time.perf_counter()
    files["SPSS .sav (UTF-8)"] = write_sav(f, q, tmp / "x.sav")
    t_ws = time.perf_counter() - t0
    files["SPSS .sav (GBK)"] = write_sav(f, q, tmp / "x_gbk.sav", encoding="gbk")
    raw = pd.read_excel(files["问卷星 按文本 .xlsx"], dtype=str)
    (tmp / "x.csv").write_bytes(raw.to_csv(index=False).encode("gb18030"))
    files["CSV (GB18030)"] = tmp / "x.csv"
    print(f"{a.rows} respondents, {len(q)} questions; write 按序号 xlsx {t_wx:.2f}s, "
          f"write .sav {t_ws:.2f}s")
    print(f"{'file':<22}{'read_export':>12}{'raw read':>12}{'ratio':>8}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, p in files.items():
            t = best(lambda: read_export(p, q, salt="bench"), a.repeat)
            if p.suffix == ".xlsx":
                base = best(lambda: pd.read_excel(p, dtype=object), a.repeat)
            elif p.suffix == ".sav":
                base = best(lambda: pyreadstat.read_sav(str(p)), a.repeat)
            else:
                base = best(lambda: pd.read_csv(p, encoding="gb18030", dtype=str), a.repeat)
            print(f"{name:<22}{t:>11.2f}s{base:>11.2f}s{t / base:>8.1f}")


if __name__ == "__main__":
    main()
