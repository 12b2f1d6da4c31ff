"""Fuzz test of the readers (issue #13): mutated exports of every format never give a raw
traceback — only the package's own errors with one-line messages naming the file, or a
success whose invariants hold.

The base exports are written here with openpyxl / the csv module / pyreadstat directly (never
by the package's writers) against a small questionnaire: 问卷星 按序号 and 按文本 .xlsx, SPSS
.sav, Stata .dta, CSV in UTF-8 (BOM) and GBK.  Each case draws its mutation from one seeded
generator (the seed and the case list are fixed in advance): byte flips, truncation at a random
offset, a deleted column, a duplicated column (same answers or one changed), junk cells
(full-width digits, inf, 1e309, formulas, 1.5, skip marks, long text), inserted blank rows and
a swapped encoding.  Each case runs in a forked child, so a crash of a C reader (pyreadstat)
is reported as a failure of that case rather than killing the test run.  The tallies
(cases, clean errors, successes, tracebacks, crashes) are printed to stderr.

Invariants of a success: respondent ids unique; ``rows_in_file = n_rows + blank rows
dropped``; the rows counted independently in the mutated file are all accounted for (no
silent truncation: a CSV that ends mid-row is warned about); a duplicated question column
accepted only as a logged identical copy; no infinite number; no date
before 1900 unless bytes were flipped; ``clean()`` then runs and ``n_raw = n_clean +
dropped``.
"""
from __future__ import annotations

import collections
import csv
import io
import math
import os
import pickle
import random
import re
import sys
import time
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from survey import clean, read_export
from survey.errors import SurveyError
from survey.questionnaire import Questionnaire

SEED = 20240513
N_CASES = 204  # 34 per format
N_ROWS = 10
SALT = "fuzz-salt"

QDICT = {"wave": {"id": "fz"}, "questions": [
    {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
    {"id": "d", "text": "您遇到的困难", "type": "multi", "options": {1: "经费", 2: "时间", 3: "其他"},
     "other": 3},
    {"id": "e", "text": "最急需解决的问题", "type": "rank", "k": 2,
     "options": {1: "收入", 2: "住房", 3: "子女"}},
    {"id": "b", "text": "您对单位的评价", "type": "matrix", "rows": {"r1": "收入", "r2": "环境"},
     "scale": {1: "差", 2: "中", 3: "好"}},
    {"id": "kids", "text": "您有几个孩子", "type": "numeric", "integer": True, "range": [0, 20],
     "missing_codes": {}},
    {"id": "start", "text": "您入职的日期", "type": "date"},
    {"id": "commute", "text": "您每天通勤用时", "type": "duration"},
    {"id": "note", "text": "您的建议", "type": "text"},
]}

JUNK_TEXT = ["１２", "２０２０－０３－０１", "５/６", "inf", "-inf", "1e309", "=1+1", "=SUM(A1:A3)",
             "1.5", "", " ", "NaN", "-3", "(跳过)", "(空)", "男┋女┋男", "收入→收入", "其他〖〗",
             "2024/13/45 99:99:99", "9" * 40, "很长的文本" * 60, "Ⅻ", "٣"]
JUNK_NUM = [math.inf, -math.inf, 1e308, 1.5, -3.0, float("nan"), 1e15, 99.0]
_FIXED_TIME = datetime(2024, 5, 6, 12, 0, 0)
FORMATS = ["xlsx_code", "xlsx_text", "sav", "dta", "csv_utf8", "csv_gbk"]
MUTATIONS = ["byte_flip", "truncate", "delete_column", "dup_column_same", "dup_column_diff",
             "junk_cells", "blank_rows", "swap_encoding"]


# ---------------------------------------------------------------------------------------------
# base exports (independent of survey's writers)
# ---------------------------------------------------------------------------------------------
def _base(layout: str, rng: random.Random) -> tuple[list[str], list[list]]:
    """Header + rows of a 问卷星-shaped export (layout code/text) or our column names (stat)."""
    rows = []
    for i in range(N_ROWS):
        sex = rng.choice([1, 2])
        d = [rng.random() < 0.5 for _ in range(3)]
        ranks = rng.sample([1, 2, 3], 2)
        b = [rng.choice([1, 2, 3]) for _ in range(2)]
        kids = rng.choice([0, 1, 2, 3])
        start = f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        commute = rng.choice([300, 600, 1200, 2400])
        note = rng.choice(["无", "希望减少填表", "", "经费不足"])
        meta = [str(i + 1), f"2024/05/{rng.randint(6, 28):02d} 10:{rng.randint(10, 59)}:00",
                f"{rng.randint(200, 900)}秒"]
        if layout == "code":
            rank_cells = [ranks.index(c) + 1 if c in ranks else -2 for c in (1, 2, 3)]
            rows.append(meta + [sex] + [int(x) for x in d] + rank_cells + b
                        + [kids, start, commute, note or None])
        elif layout == "text":
            labs = ["经费", "时间", "其他"]
            dd = "┋".join(lab for lab, x in zip(labs, d) if x) or "(空)"
            ee = "→".join(["收入", "住房", "子女"][c - 1] for c in ranks)
            rows.append(meta + [["男", "女"][sex - 1], dd, ee] + [["差", "中", "好"][x - 1] for x in b]
                        + [kids, start, f"{commute // 60}分0秒", note or "(空)"])
        else:  # stat: our own column names, numbers as floats
            rank_cells = [float(ranks.index(c) + 1) if c in ranks else math.nan for c in (1, 2, 3)]
            rows.append([meta[0], meta[1], float(int(meta[2][:-1])), float(sex)]
                        + [float(x) for x in d] + rank_cells + [float(x) for x in b]
                        + [float(kids), start, float(commute), note])
    if layout == "code":
        head = ["序号", "提交答卷时间", "所用时间", "1、您的性别", "2、您遇到的困难(经费)", "2(时间)",
                "2(其他)", "3、最急需解决的问题(收入)", "3(住房)", "3(子女)", "4、您对单位的评价—收入",
                "环境", "5、您有几个孩子", "6、您入职的日期", "7、您每天通勤用时", "8、您的建议"]
    elif layout == "text":
        head = ["序号", "提交答卷时间", "所用时间", "1、您的性别", "2、您遇到的困难", "3、最急需解决的问题",
                "4、您对单位的评价—收入", "环境", "5、您有几个孩子", "6、您入职的日期", "7、您每天通勤用时",
                "8、您的建议"]
    else:
        head = ["rid", "submitted_at", "duration_s", "sex", "d_1", "d_2", "d_3", "e_1", "e_2", "e_3",
                "b_r1", "b_r2", "kids", "start", "commute", "note"]
    return head, rows


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (
        isinstance(v, str) and not v.strip())


def _write(fmt: str, head: list, rows: list, path: Path, enc: str | None = None) -> None:
    if fmt.startswith("xlsx"):
        wb = openpyxl.Workbook()
        wb.properties.created = wb.properties.modified = _FIXED_TIME
        ws = wb.active
        for r in [head] + rows:
            ws.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        # the same bytes on every run (zip entry times), so a flipped offset hits the same thing
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zin, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for it in zin.infolist():
                body = zin.read(it)
                if it.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                    body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-05-06T12:00:00Z", body)
                zout.writestr(zipfile.ZipInfo(it.filename, date_time=(2024, 5, 6, 0, 0, 0)),
                              body, compress_type=zipfile.ZIP_DEFLATED)
    elif fmt.startswith("csv"):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(
            [head] + [["" if _blank(v) else v for v in r] for r in rows])
        path.write_bytes(buf.getvalue().encode(enc or ("utf-8-sig" if fmt == "csv_utf8" else "gbk"),
                                               errors="replace"))
    else:
        cols = {}
        names = []
        for j, h in enumerate(head):
            name = h if h not in names else f"{h}_{j}"  # sav/dta names must be unique
            names.append(name)
            vals = [r[j] for r in rows]
            if all(_blank(v) or isinstance(v, (int, float)) for v in vals):
                cols[name] = [math.nan if _blank(v) else float(v) for v in vals]
            else:
                cols[name] = ["" if _blank(v) else str(v) for v in vals]
        df = pd.DataFrame(cols)
        if fmt == "sav":
            pyreadstat.write_sav(df, str(path))
            data = bytearray(path.read_bytes())
            data[92:109] = b"06 May 2412:00:00"  # the header's creation date and time
        else:
            pyreadstat.write_dta(df, str(path))
            data = bytearray(re.sub(rb"<timestamp>\x11[^<]{17}</timestamp>",
                                    b"<timestamp>\x11 6 May 2024 12:00</timestamp>",
                                    path.read_bytes()))
        path.write_bytes(bytes(data))  # the same bytes on every run


# ---------------------------------------------------------------------------------------------
# cases: every random choice is drawn here, from one seeded generator, before anything is read
# ---------------------------------------------------------------------------------------------
def _cases() -> list[dict]:
    rng = random.Random(SEED)
    out = []
    for i in range(N_CASES):
        fmt = FORMATS[i % len(FORMATS)]
        mut = rng.choice(MUTATIONS)
        out.append({"i": i, "fmt": fmt, "mut": mut, "seed": rng.randrange(2**31)})
    return out


def _junk(fmt: str, column_numeric: bool, rng: random.Random):
    if fmt in ("sav", "dta") and column_numeric:
        v = rng.choice(JUNK_NUM)
        # Stata stores no infinity and no double beyond ~8.99e307 (its missing-value range)
        return v if fmt == "sav" or not abs(v) > 8e307 else 1e300
    v = rng.choice(JUNK_TEXT + ([1.5, math.inf, 1e308, -3] if fmt.startswith("xlsx") else []))
    if fmt.startswith("xlsx") and isinstance(v, float) and math.isinf(v):
        return "inf"  # openpyxl cannot store an infinite number
    return v


def _make_case(case: dict, folder: Path) -> tuple[Path, dict, dict]:
    """Write the mutated file; returns (path, read_export kwargs, expectations)."""
    rng = random.Random(case["seed"])
    fmt, mut = case["fmt"], case["mut"]
    layout = {"xlsx_code": "code", "xlsx_text": "text", "sav": "stat", "dta": "stat"}.get(
        fmt, "text")
    head, rows = _base(layout, random.Random(SEED + 1))
    kw: dict = {}
    exp = {"bytes_mutated": mut in ("byte_flip", "truncate")}
    numeric = [all(isinstance(r[j], (int, float)) or _blank(r[j]) for r in rows)
               for j in range(len(head))]
    if mut == "delete_column":
        j = rng.randrange(len(head))
        head = head[:j] + head[j + 1:]
        rows = [r[:j] + r[j + 1:] for r in rows]
    elif mut in ("dup_column_same", "dup_column_diff"):
        j = rng.randrange(3, len(head))  # a question column
        head = head + [head[j]]
        rows = [r + [r[j]] for r in rows]
        if mut == "dup_column_diff":
            k = rng.randrange(len(rows))
            rows[k][-1] = _junk(fmt, numeric[j], rng)
    elif mut == "junk_cells":
        for _ in range(rng.randint(1, 4)):
            k, j = rng.randrange(len(rows)), rng.randrange(len(head))
            rows[k][j] = _junk(fmt, numeric[j], rng)
    elif mut == "blank_rows":
        for _ in range(rng.randint(1, 3)):
            rows.insert(rng.randrange(len(rows) + 1), [None] * len(head))
    name = {"xlsx_code": "1_按序号_fz_10_10.xlsx", "xlsx_text": "1_按文本_fz_10_10.xlsx",
            "sav": "fz.sav", "dta": "fz.dta", "csv_utf8": "fz_utf8.csv", "csv_gbk": "fz_gbk.csv"}[fmt]
    p = folder / f"c{case['i']:03d}_{name}"
    enc = None
    if mut == "swap_encoding" and fmt.startswith("csv"):
        enc = "gbk" if fmt == "csv_utf8" else "utf-8"
        if rng.random() < 0.5:
            kw["encoding"] = "utf-8" if fmt == "csv_utf8" else "gbk"  # told the wrong one
            enc = None
    elif mut == "swap_encoding" and fmt in ("sav", "dta"):
        kw["encoding"] = rng.choice(["latin-1", "GB18030", "utf-16"])
    _write(fmt, head, rows, p, enc)
    data = bytearray(p.read_bytes())
    if mut == "byte_flip":
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        p.write_bytes(bytes(data))
    elif mut == "truncate":
        p.write_bytes(bytes(data[: rng.randrange(1, len(data))]))
    elif mut == "swap_encoding" and fmt.startswith("xlsx"):
        # an xlsx has no text encoding to swap: save it under a .csv name instead
        p = p.rename(p.with_suffix(".csv"))
    exp["rows_nonblank"] = sum(not all(_blank(v) for v in r) for r in rows)
    exp["rows_total"] = len(rows)
    return p, kw, exp


# ---------------------------------------------------------------------------------------------
def _independent_csv_rows(p: Path, enc: str) -> tuple[int, int, bool]:
    """(records after the header, of them not blank, file ends mid-row) by the csv module."""
    text = p.read_bytes().decode(enc)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    recs = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    while recs and not recs[-1]:
        recs.pop()
    body = recs[1:]
    nonblank = sum(any(c.strip() for c in r) for r in body)
    return len([r for r in body if r]), nonblank, bool(body) and not text.endswith(("\n", "\r"))


def _run_case(case: dict, folder: Path, q: Questionnaire) -> dict:
    p, kw, exp = _make_case(case, folder)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = read_export(p, q, salt=SALT, **kw)
        except SurveyError as e:
            msg = str(e)
            problems = []
            if "\n" in msg or not msg.strip():
                problems.append(f"message not one line: {msg!r}")
            if p.name not in msg:
                problems.append(f"message does not name the file: {msg!r}")
            return {"outcome": "error", "type": type(e).__name__, "problems": problems}
        except Exception as e:  # noqa: BLE001 - exactly what the test is looking for
            return {"outcome": "traceback", "type": f"{type(e).__module__}.{type(e).__name__}",
                    "problems": [f"{type(e).__name__}: {str(e)[:200]}"]}
        warns = [str(x.message) for x in w]
    problems = []
    rep = r.report
    d = r.data
    if not d["rid"].is_unique:
        problems.append("rid not unique")
    if rep.n_rows != len(d) or rep.rows_in_file != rep.n_rows + len(rep.blank_rows):
        problems.append(f"rows: file {rep.rows_in_file}, read {rep.n_rows}, "
                        f"blank {len(rep.blank_rows)}")
    if (r.log["rule"] == "blank_row").sum() != len(rep.blank_rows):
        problems.append("blank rows dropped without a log entry")
    if case["fmt"].startswith("csv") or p.suffix == ".csv":
        n_rec, n_nonblank, cut = _independent_csv_rows(p, rep.encoding or "utf-8")
        if (rep.rows_in_file, rep.n_rows) != (n_rec, n_nonblank):
            problems.append(f"csv rows: file has {n_rec} ({n_nonblank} not blank), reader says "
                            f"{rep.rows_in_file} ({rep.n_rows})")
        if cut and not any("truncated" in x for x in warns):
            problems.append("csv ends mid-row but no truncation warning")
    elif not exp["bytes_mutated"] and rep.n_rows != exp["rows_nonblank"]:
        problems.append(f"rows: wrote {exp['rows_nonblank']} respondents, read {rep.n_rows}")
    elif exp["bytes_mutated"] and rep.n_rows + len(rep.blank_rows) < exp["rows_nonblank"]:
        problems.append(f"silent truncation: wrote {exp['rows_nonblank']} rows, read "
                        f"{rep.n_rows} (+{len(rep.blank_rows)} blank) without an error")
    if case["mut"].startswith("dup_column") and p.suffix != ".sav" and p.suffix != ".dta" \
            and "duplicate_column" not in set(r.log["rule"]):
        problems.append("a duplicated question column was resolved without a log entry")
    for c in d.columns:
        if pd.api.types.is_float_dtype(d[c].dtype) and np.isinf(d[c].to_numpy(dtype=float)).any():
            problems.append(f"{c} holds an infinite value")
    if "start" in d and not exp["bytes_mutated"]:
        yrs = d["start"].dropna().dt.year
        if (yrs < 1900).any():
            problems.append(f"start holds dates before 1900: {sorted(set(yrs[yrs < 1900]))}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = clean(r, q)
        if c.n_raw != c.n_clean + len(c.dropped) or c.n_raw != len(d):
            problems.append(f"clean: n_raw {c.n_raw} != n_clean {c.n_clean} + dropped "
                            f"{len(c.dropped)}")
    except SurveyError as e:
        if "\n" in str(e):
            problems.append(f"clean error message not one line: {e!r}")
    except Exception as e:  # noqa: BLE001
        return {"outcome": "traceback", "type": f"clean: {type(e).__name__}",
                "problems": [f"clean raised {type(e).__name__}: {str(e)[:200]}"]}
    return {"outcome": "success", "type": "", "problems": problems}


def _isolated(case: dict, folder: Path, q: Questionnaire) -> dict:
    """Run a .sav/.dta case in a forked child (a segfault in pyreadstat's C code is a result,
    not the end of the test run); the pure-Python readers run in this process."""
    if not hasattr(os, "fork") or case["fmt"] not in ("sav", "dta"):
        return _run_case(case, folder, q)
    r_fd, w_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r_fd)
        try:
            res = _run_case(case, folder, q)
        except BaseException as e:  # noqa: BLE001 - report anything to the parent
            res = {"outcome": "traceback", "type": f"harness {type(e).__name__}",
                   "problems": [str(e)[:300]]}
        with os.fdopen(w_fd, "wb") as fh:
            fh.write(pickle.dumps(res))
        os._exit(0)
    os.close(w_fd)
    with os.fdopen(r_fd, "rb") as fh:
        blob = fh.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not blob:
        return {"outcome": "crash", "type": f"signal {os.WTERMSIG(status)}"
                if os.WIFSIGNALED(status) else "no result", "problems": ["the reader crashed"]}
    return pickle.loads(blob)


def test_fuzz_readers(tmp_path):
    q = Questionnaire.from_dict(QDICT)
    t0 = time.perf_counter()
    tally = collections.Counter()
    by_fmt: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures = []
    for case in _cases():
        res = _isolated(case, tmp_path, q)
        kind = {"error": "clean errors", "success": "successes", "traceback": "tracebacks",
                "crash": "crashes"}[res["outcome"]]
        tally["cases"] += 1
        tally[kind] += 1
        by_fmt[case["fmt"]][kind] += 1
        if res["problems"] or res["outcome"] in ("traceback", "crash"):
            failures.append(f"case {case['i']} {case['fmt']} {case['mut']} (seed {case['seed']}): "
                            f"{res['outcome']} {res['type']}: {'; '.join(res['problems'])}")
    secs = time.perf_counter() - t0
    summary = (f"fuzz: {tally['cases']} cases in {secs:.1f}s: {tally['clean errors']} clean errors, "
               f"{tally['successes']} successes, {tally['tracebacks']} tracebacks, "
               f"{tally['crashes']} crashes; " + ", ".join(
                   f"{f} {dict(c)}" for f, c in sorted(by_fmt.items())))
    print(summary, file=sys.stderr)
    assert not failures, summary + "\n" + "\n".join(failures[:30])
    assert tally["successes"] and tally["clean errors"]  # both paths were exercised
