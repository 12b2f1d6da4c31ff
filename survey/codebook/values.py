"""Step 2: what a column's values say (numbers, dates, labels, missing codes, PII)."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._common import (BLANK, DATE_RE, GRADED, INLINE_OTHER, MISSING_LABELS, NUM_RE, PII_VALUES,
                      PII_WORDS, SKIP_N, UNITS, norm)

__all__ = ["as_number", "code_gaps", "column_values", "is_graded", "is_int", "label_of",
           "numeric_column", "pair_map", "pii_by_values", "pii_kind_of", "split_missing", "unit_of"]


# ---------------------------------------------------------------------------------------------
# value analysis
# ---------------------------------------------------------------------------------------------
@dataclass
class _Vals:
    n: int
    blank: int
    skip: int
    nums: dict[float, int]          # numeric value -> count
    strs: dict[str, int]            # non-numeric string -> count
    dates: int

    @property
    def answered(self) -> int:
        return sum(self.nums.values()) + sum(self.strs.values()) + self.dates


def column_values(arr: np.ndarray, is_date: bool = False) -> _Vals:
    vc = pd.Series(arr, dtype=object).value_counts(dropna=False)
    blank = skip = dates = 0
    nums: dict[float, int] = {}
    strs: dict[str, int] = {}
    for u, c in zip(vc.index, vc.to_numpy()):
        c = int(c)
        if u is None or u is pd.NA or u is pd.NaT or (isinstance(u, float) and np.isnan(u)):
            blank += c
        elif is_date or isinstance(u, (_dt.date, _dt.datetime, pd.Timestamp)):
            dates += c
        elif isinstance(u, (bool, np.bool_)):
            nums[float(u)] = nums.get(float(u), 0) + c
        elif isinstance(u, (int, float, np.integer, np.floating)):
            nums[float(u)] = nums.get(float(u), 0) + c
        else:
            s = str(u).strip()
            if s in BLANK:
                blank += c
            elif norm(s) in SKIP_N:
                skip += c
            elif NUM_RE.match(s):
                nums[float(s)] = nums.get(float(s), 0) + c
            elif DATE_RE.match(s):
                dates += c
            else:
                strs[s] = strs.get(s, 0) + c
    return _Vals(len(arr), blank, skip, nums, strs, dates)


def is_int(x: float) -> bool:
    return float(x).is_integer()


def label_of(v: Any) -> str | None:
    """A 按文本 cell as an option label (inline 〖other text〗 stripped), None for NA markers."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    if s in BLANK or norm(s) in SKIP_N:
        return None
    m = INLINE_OTHER.match(s)
    return (m.group(1).strip() if m else s) or None


def as_number(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else None
    if isinstance(v, str) and NUM_RE.match(v.strip()):
        return float(v.strip())
    return None


def numeric_column(arr: np.ndarray) -> np.ndarray:
    """Numbers of a column as float (NaN for blanks, markers and text)."""
    return pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=float)


def pair_map(codes: np.ndarray, texts: np.ndarray) -> dict[int, set[str]]:
    """Code -> set of labels seen in the aligned 按文本 column."""
    df = pd.DataFrame({"c": pd.Series(codes, dtype=object).astype(str),
                       "t": pd.Series(texts, dtype=object).astype(str)}).drop_duplicates()
    out: dict[int, set[str]] = {}
    for c, t in zip(df["c"], df["t"]):
        f = as_number(c)
        lab = label_of(t)
        if f is None or lab is None or not is_int(f):
            continue
        out.setdefault(int(f), set()).add(lab)
    return out


_MISSING_N = {norm(x) for x in MISSING_LABELS}


def _is_missing_label(lab: str) -> bool:
    return norm(lab) in _MISSING_N


def split_missing(labels: dict[int, str]) -> tuple[dict[int, str], dict[int, str]]:
    """Separate missing codes (不知道/拒答 … lying apart from the answer codes) from options."""
    regular = {c: l for c, l in labels.items() if not _is_missing_label(l)}
    top = max(regular) if regular else 0
    miss = {c: l for c, l in labels.items() if _is_missing_label(l)
            and (c < 0 or c >= 90 or c > top + 1)}
    return {c: l for c, l in labels.items() if c not in miss}, miss


def unit_of(text: str) -> str | None:
    for rx, u in UNITS:
        if rx.search(text):
            return u
    return None


def pii_kind_of(text: str) -> str | None:
    for kind, rx in PII_WORDS:
        if rx.search(text):
            return kind
    return None


def pii_by_values(v: _Vals) -> str | None:
    vals = list(v.strs.items()) + [(str(int(x)) if is_int(x) else str(x), c) for x, c in v.nums.items()]
    tot = sum(c for _, c in vals)
    if tot < 5:
        return None
    for kind, rx in PII_VALUES.items():
        hit = sum(c for s, c in vals if rx.match(s.strip()))
        if hit >= 0.8 * tot:
            return kind
    return None


def is_graded(labels: list[str]) -> bool:
    """Whether scale labels are ordered grades (likert) rather than unordered categories."""
    if len(labels) < 3:
        return False
    hits = sum(bool(GRADED.search(lab)) for lab in labels)
    ends = bool(GRADED.search(labels[0])) and bool(GRADED.search(labels[-1]))
    return ends and hits >= len(labels) - 1


def code_gaps(codes: list[int]) -> list[int]:
    cs = sorted(c for c in codes if c >= 0)
    if len(cs) < 2 or cs[-1] - cs[0] > 200:
        return []
    return [c for c in range(cs[0], cs[-1] + 1) if c not in set(cs)]


