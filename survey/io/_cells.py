"""Cell primitives of the readers: what one raw value means.

Every decoder works over a column's *unique* values (:class:`Col`), so the work is per distinct
value, not per cell; :func:`na_reason` says which values are empty (``(空)``, ``(跳过)``, NaN ...;
every decoder asks it first, through :func:`survey.io.decode.values_to_decode`);
:class:`MissingLog` collects why cells are missing and the reader's cell decisions as arrays.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from ._core import MISSING_COLUMNS, RawTable, norm
from .missing import BLANK, TEXT_MARKS

__all__ = ["Col", "MissingLog", "na_reason", "is_empty", "fullwidth", "non_finite", "as_int",
           "as_float", "to_timestamp", "cell_text", "parse_duration", "lettered",
           "note_fullwidth_codes", "row_reason", "str_series", "lines_of", "INT_RE", "NUM_RE",
           "EXCEL_E", "OTHER_INLINE"]

_BLANK = {"", "(空)", "空", "nan", "NaN", "None", "<NA>", "NaT"}
INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")
NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
EXCEL_E = re.compile(r"^\d(?:\.\d+)?[eE]\+\d{2}$")
OTHER_INLINE = re.compile(r"^(.*?)〖(.*)〗\s*$", re.S)
_LETTER = re.compile(r"^[A-Za-z]{1,2}\s*[.．、]\s*(.+)$", re.S)


def na_reason(u: Any) -> str | None:
    """Why a raw value is empty (:data:`~survey.io.missing.BLANK` for None/NaN/``(空)``,
    :data:`~survey.io.missing.SKIPPED` for ``(跳过)``), or None for a value to decode."""
    if u is None:
        return BLANK
    if isinstance(u, float) and math.isnan(u):
        return BLANK
    if u is pd.NaT or u is pd.NA:
        return BLANK
    if isinstance(u, str):
        s = u.strip()
        if s in _BLANK:
            return BLANK
        return TEXT_MARKS.get(norm(s))
    return None


def is_empty(u: Any) -> bool:
    """A cell with nothing in it (None, NaN, whitespace) — not ``(空)``/``(跳过)`` marks."""
    if u is None or u is pd.NaT or u is pd.NA:
        return True
    if isinstance(u, (float, np.floating)):
        return bool(np.isnan(u))
    return isinstance(u, str) and not u.strip()


_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def fullwidth(u: Any) -> str | None:
    """The NFKC form of a string holding full-width characters (``２０２４－０５``), else None."""
    if isinstance(u, str) and _FULLWIDTH.search(u):
        return unicodedata.normalize("NFKC", u)
    return None


def non_finite(u: Any) -> bool:
    """``inf``/``1e309``-like values (a number, but not a finite one)."""
    if isinstance(u, (float, np.floating)) and not isinstance(u, bool):
        return bool(np.isinf(u))
    if isinstance(u, str):
        s = unicodedata.normalize("NFKC", u).strip().lower()
        if s.lstrip("+-") in ("inf", "infinity", "∞"):
            return True
        if NUM_RE.match(s):
            try:
                return not math.isfinite(float(s))
            except (ValueError, OverflowError):
                return True
    return False


def note_fullwidth_codes(miss: "MissingLog", c: "Col", code: np.ndarray, qid: str,
                          column: str) -> None:
    """Log option codes typed in full-width digits (``'１'``), read as their ASCII code."""
    fw = np.array([isinstance(u, str) and bool(re.search("[\uff10-\uff19]", u))
                   and as_int(u) is not None and code[i] >= 0
                   for i, u in enumerate(c.uniq)], dtype=bool)
    if fw.any():
        new = np.array([str(code[i]) if fw[i] else None for i in range(len(c.uniq))],
                       dtype=object)
        miss.note(c, fw, qid, column, "fullwidth", "flag",
                  "option code in full-width digits read as its code", new_u=new)


def lines_of(raw: RawTable) -> np.ndarray:
    """Where each row is in the file: its line / sheet row (header = 1), or its case number."""
    if raw.lines is not None:
        return np.asarray(raw.lines)
    first = 1 if raw.kind in ("sav", "dta") else 2
    return np.arange(first, raw.n_rows + first)


def as_int(u: Any) -> int | None:
    if isinstance(u, bool):
        return int(u)
    if isinstance(u, (int, np.integer)):
        return int(u)
    if isinstance(u, (float, np.floating)):
        return int(u) if math.isfinite(u) and float(u).is_integer() else None
    if isinstance(u, str):
        s = u.strip()
        if INT_RE.match(s):
            try:
                return int(float(s)) if "." in s else int(s)
            except (ValueError, OverflowError):
                return None
    return None


def as_float(u: Any) -> float | None:
    if isinstance(u, bool):
        return float(u)
    if isinstance(u, (int, float, np.integer, np.floating)):
        f = float(u)
        return f if math.isfinite(f) else None
    if isinstance(u, str):
        s = unicodedata.normalize("NFKC", u).strip().replace(",", "")
        m = re.match(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*[^\d\s]{0,4}$", s)
        if m:
            try:
                f = float(m.group(1))
            except (ValueError, OverflowError):
                return None
            return f if math.isfinite(f) else None
    return None


def to_timestamp(u: Any) -> np.datetime64 | None:
    """A cell as datetime64[ns], or None: no number, no date before 1678 / after 2261.

    Strings are NFKC-normalised first (full-width ``２０２４－０５－０６``); a date that does not
    fit nanoseconds (``'5/6'`` parses as year 1) is refused rather than wrapped to 1754.
    """
    if isinstance(u, (int, float, bool, np.integer, np.floating)):
        return None
    try:
        if isinstance(u, str):
            s = unicodedata.normalize("NFKC", u).strip()
            if not re.search(r"\d{4}", s):  # dateutil fills a missing year with year 1
                return None
            ts = pd.to_datetime(s, format="mixed")
        else:
            ts = pd.Timestamp(u)
        if pd.isna(ts):
            return None
        if ts.tzinfo:
            ts = ts.tz_localize(None)
        return ts.as_unit("ns").to_datetime64()
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def cell_text(u: Any) -> str:
    if isinstance(u, (float, np.floating)) and math.isfinite(u) and float(u).is_integer():
        return str(int(u))
    if isinstance(u, (pd.Timestamp,)):
        return u.isoformat()
    return str(u).strip()


_DUR = re.compile(r"^(?:(\d+(?:\.\d+)?)(?:天|d))?(?:(\d+(?:\.\d+)?)(?:小时|时|h))?"
                  r"(?:(\d+(?:\.\d+)?)(?:分钟|分|m|min))?(?:(\d+(?:\.\d+)?)(?:秒钟|秒|s|sec))?$")


def parse_duration(u: Any) -> float | None:
    """Seconds from ``123``, ``'123秒'``, ``'2分3秒'``, ``'1小时2分'``, ``'00:02:03'``.

    Anything that is no finite duration (``'1e309'``, ``inf``, text) gives None.

    Examples
    --------
    >>> parse_duration("2分3秒"), parse_duration("1小时"), parse_duration("0:01:05")
    (123.0, 3600.0, 65.0)
    >>> parse_duration("1e309") is None
    True
    """
    f = _parse_duration(u)
    return f if f is None or math.isfinite(f) else None


def _parse_duration(u: Any) -> float | None:
    if isinstance(u, pd.Timedelta):
        return u.total_seconds()
    if hasattr(u, "hour") and hasattr(u, "second") and not isinstance(u, str):  # datetime.time
        try:
            return float(u.hour * 3600 + u.minute * 60 + u.second)
        except (TypeError, AttributeError):
            return None
    f = as_float(u) if not isinstance(u, str) else None
    if f is not None:
        return f
    if not isinstance(u, str):
        return None
    s = norm(u).lower()
    if not s:
        return None
    if NUM_RE.match(s):
        return float(s)
    if re.match(r"^\d+:\d{1,2}(:\d{1,2})?$", s):
        parts = [int(p) for p in s.split(":")]
        while len(parts) < 3:
            parts.insert(0, 0)
        return float(parts[0] * 3600 + parts[1] * 60 + parts[2])
    m = _DUR.match(s)
    if m and any(m.groups()):
        d, h, mi, se = (float(g) if g else 0.0 for g in m.groups())
        return d * 86400 + h * 3600 + mi * 60 + se
    return None


class Col:
    """One raw column factorised: ``codes`` (-1 = NA) into ``uniq``."""

    __slots__ = ("codes", "uniq", "arr")

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        codes, uniq = pd.factorize(pd.Series(arr, dtype=object, copy=False), use_na_sentinel=True)
        self.codes = codes
        self.uniq = list(uniq)

    def take(self, per_unique: np.ndarray, na_value: Any) -> np.ndarray:
        """Per-row values from per-unique values (NA cells get ``na_value``)."""
        ext = np.empty(len(per_unique) + 1, dtype=per_unique.dtype if per_unique.dtype != object
                       else object)
        ext[:-1] = per_unique
        ext[-1] = na_value
        return ext[np.where(self.codes < 0, len(per_unique), self.codes)]


class MissingLog:
    """Collects missing-value records as arrays (no per-cell Python work)."""

    def __init__(self, rid: np.ndarray) -> None:
        self.rid = rid
        self.parts: list[pd.DataFrame] = []
        self.notes: list[dict] = []  # log entries of cell decisions (READ_LOG_COLUMNS)

    def note(self, col: Col, per_unique: np.ndarray, qid: str, column: str, rule: str,
             action: str, detail: str, new_u: np.ndarray | None = None) -> None:
        """Log every cell whose unique value is flagged in ``per_unique`` (bool)."""
        if not per_unique.any():
            return
        hit = col.take(per_unique, False).astype(bool)
        rows = np.flatnonzero(hit)
        vals_u = np.array([None if x is None else cell_text(x) for x in col.uniq] + [None],
                          dtype=object)
        pos = np.where(col.codes < 0, len(col.uniq), col.codes)[rows]
        new = (np.append(new_u, None)[pos] if new_u is not None
               else np.full(len(rows), None, dtype=object))
        self.notes.append({"rid": self.rid[rows], "rule": rule, "question": qid,
                           "column": column, "old_value": vals_u[pos], "new_value": new,
                           "action": action, "detail": detail})

    def add(self, rows: np.ndarray, qid: str, column: str, reasons: np.ndarray,
            values: np.ndarray | None = None) -> None:
        if len(rows) == 0:
            return
        self.parts.append(pd.DataFrame({
            "rid": self.rid[rows], "question": qid, "column": column, "reason": reasons,
            "value": (values if values is not None else np.full(len(rows), None, dtype=object))}))

    def add_col(self, col: Col, reason_u: np.ndarray, qid: str, column: str,
                na_reason: str = BLANK) -> None:
        r = col.take(reason_u, na_reason)
        rows = np.flatnonzero(pd.notna(r))
        if len(rows):
            vals_u = np.array([None if x is None else cell_text(x) for x in col.uniq] + [None],
                              dtype=object)
            v = vals_u[np.where(col.codes < 0, len(col.uniq), col.codes)]
            self.add(rows, qid, column, r[rows], v[rows])

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series([], dtype="str") for c in MISSING_COLUMNS})
        out = pd.concat(self.parts, ignore_index=True)
        out["value"] = out["value"].astype("str")
        for c in ("rid", "question", "column", "reason"):
            out[c] = out[c].astype("str")
        return out


def lettered(s: str, lab2code: dict[str, int]) -> int | None:
    """Code of a label written with a letter in front (``A.男``), as 腾讯问卷 exports options
    that were typed with letters; ``s`` and the keys are normalised."""
    m = _LETTER.match(s)
    return lab2code.get(m.group(1)) if m else None


def row_reason(reasons: list[np.ndarray]) -> np.ndarray:
    """First non-null reason across columns, row-wise."""
    out = np.full(len(reasons[0]), None, dtype=object)
    for r in reasons:
        fill = pd.isna(out) & pd.notna(r)
        out[fill] = r[fill]
    return out


def str_series(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")
