"""Decoders keyed by question type: one raw question's columns -> typed analysis columns.

Each question type has one decoder, registered with :func:`decoder`::

    @decoder("numeric", one_column=True)
    def _numeric(src: Source) -> Decoded: ...

Adding a question type is adding one such function (and the type to
:data:`survey.questionnaire.QUESTION_TYPES`).  :func:`decode_question` is the shared prelude of
every decoder: it finds the question's value column (a ``one_column`` decoder whose column is
not in the export gives an all-unknown question without being called), reads the "其他（请注明）"
text column, and after the decoder adds the ``<id>_other`` column.  Inside a decoder,
:func:`values_to_decode` is the shared prelude over a column's unique values: empty values get
their reason (:func:`~survey.io._cells.na_reason`), the rest are left to decode.

Examples
--------
>>> from survey.questionnaire import QUESTION_TYPES
>>> sorted(DECODERS) == sorted(QUESTION_TYPES)
True
>>> DECODERS["multi"].func is DECODERS["rank"].func   # one decoder may serve two types
True
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np
import pandas as pd

from ..errors import ReadError, ReadWarning
from ..questionnaire import Question
from ._cells import (EXCEL_E, OTHER_INLINE, Col, MissingLog, as_float, as_int, cell_text,
                     fullwidth, lettered, na_reason, non_finite, note_fullwidth_codes,
                     parse_duration, row_reason, str_series, to_timestamp)
from ._core import RawTable, Slot, norm
from .missing import (BLANK, INVALID, NEGATIVE_CODES, NOT_CHOSEN, reason_for_code,
                      reason_for_label)

__all__ = ["DECODERS", "Decoder", "Decoded", "Source", "decoder", "decode_question",
           "values_to_decode", "decode_choice", "decode_set"]


@dataclass
class Source:
    """The raw columns of one question, as a decoder sees them."""

    qu: Question
    slots: list[Slot]
    raw: RawTable
    miss: MissingLog
    idx: pd.RangeIndex
    value: Slot | None  # the question's one column (single/numeric/text/... or a joined set)

    @property
    def n(self) -> int:
        return len(self.idx)

    def column(self, slot: Slot) -> Col:
        """The raw column of *slot*, factorised."""
        return Col(self.raw.cols[slot.col])


@dataclass
class Decoded:
    """What a decoder returns: the analysis columns and its counts."""

    columns: dict[str, pd.Series]
    rows_missing: int
    invalid: int = 0
    absent: list[str] = field(default_factory=list)  # columns of the question not in the export
    other: np.ndarray | None = None  # per row: "其他" text typed inline (``其他〖…〗``)


class Decoder(NamedTuple):
    """A registered decoder: the function and whether it reads one value column."""

    func: Callable[[Source], Decoded]
    one_column: bool


#: question type -> its decoder (filled by :func:`decoder`)
DECODERS: dict[str, Decoder] = {}


def decoder(*types: str, one_column: bool = False) -> Callable:
    """Register the decorated function as the decoder of question *types*.

    ``one_column=True``: the question is one export column (``Source.value``); when it is not in
    the export the question is all unknown and the decoder is not called.  Registering a type
    twice is a programming error (``ValueError``).
    """
    def register(func: Callable[[Source], Decoded]) -> Callable[[Source], Decoded]:
        for t in types:
            if t in DECODERS:
                raise ValueError(f"question type {t!r} already has a decoder "
                                 f"({DECODERS[t].func.__name__}); one decoder per type")
            DECODERS[t] = Decoder(func, one_column)
        return func
    return register


def decode_question(qu: Question, ss: list[Slot], raw: RawTable, miss: MissingLog,
                    idx: pd.RangeIndex) -> tuple[dict[str, pd.Series], int, int, list[str]]:
    """Decode one question's raw columns with its type's decoder.

    Returns (columns, rows missing, invalid cells, columns absent from the export).
    """
    entry = DECODERS.get(qu.type)
    if entry is None:
        raise ReadError(f"{raw.file}: question {qu.id!r} has type {qu.type!r}, which no reader "
                        f"decoder handles (known: {', '.join(DECODERS)}); fix the type in "
                        f"questionnaire.yml or register a decoder with @decoder({qu.type!r}) in "
                        "survey/io/decode.py")
    n = len(idx)
    value = next((s for s in ss if s.role == "value"), None)
    if entry.one_column and value is None:
        return {}, n, 0, [qu.id]  # its column is not in the export: all unknown
    other_s = next((s for s in ss if s.role == "other"), None)
    other_vals = np.full(n, None, dtype=object)
    if other_s is not None:
        c = Col(raw.cols[other_s.col])
        s = np.array([None if (na_reason(v) or as_int(v) in (-3, -2, -1, 0)) else cell_text(v)
                      for v in c.uniq], dtype=object)
        other_vals = c.take(s, None)
    d = entry.func(Source(qu, ss, raw, miss, idx, value))
    out = dict(d.columns)
    if qu.other is not None:
        if d.other is not None:
            other_vals = np.where(pd.isna(other_vals), d.other, other_vals)
        out[f"{qu.id}_other"] = str_series(other_vals, idx)
    return out, d.rows_missing, d.invalid, d.absent


def values_to_decode(col: Col) -> tuple[np.ndarray, list[tuple[int, Any]]]:
    """The prelude of every decoder: per unique value its NA reason (None = a value to decode),
    and the ``(i, value)`` pairs left to decode.

    Examples
    --------
    >>> import numpy as np
    >>> reason, todo = values_to_decode(Col(np.array(["(跳过)", "男", None, "(空)"], dtype=object)))
    >>> reason.tolist(), todo
    (['skipped', None, 'blank'], [(1, '男')])
    """
    reason = np.full(len(col.uniq), None, dtype=object)
    todo = []
    for i, u in enumerate(col.uniq):
        r = na_reason(u)
        if r:
            reason[i] = r
        else:
            todo.append((i, u))
    return reason, todo


# ---------------------------------------------------------------------------------------------
# choices: single, matrix/likert rows, multi/rank sets
# ---------------------------------------------------------------------------------------------
def decode_choice(col: Col, qu: Question, labels: dict[int, str]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Per unique value: code (or -1), NA/missing reason (or None), inline other text."""
    lab2code = {norm(l): c for c, l in labels.items()}
    n = len(col.uniq)
    code = np.full(n, -1, dtype=np.int64)
    other = np.full(n, None, dtype=object)
    reason, todo = values_to_decode(col)
    for i, u in todo:
        c = None
        if isinstance(u, str):
            s = norm(u)
            c = lab2code.get(s)
            if c is None:
                m = OTHER_INLINE.match(u.strip())
                if m:
                    c = lab2code.get(norm(m.group(1)))
                    if c is None and as_int(m.group(1)) in labels:
                        c = as_int(m.group(1))
                    if c is not None:
                        t = m.group(2).strip()
                        other[i] = t or None
            if c is None:
                c = lettered(s, lab2code)
        if c is None:
            k = as_int(u)
            if k is not None:
                if k in labels:
                    c = k
                elif k < 0:
                    reason[i] = reason_for_code(k)
                    continue
        if c is None:
            reason[i] = INVALID
            continue
        code[i] = c
        if c in qu.missing:
            reason[i] = reason_for_label(qu.missing[c])
    return code, reason, other


def decode_set(col: Col, qu: Question, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray]:
    """Multi/rank in one column: per unique → position matrix (0 = not chosen), reason, other."""
    opts = list(qu.options)
    pos = {c: j for j, c in enumerate(opts)}
    lab2code = {norm(l): c for c, l in qu.options.items()}
    n = len(col.uniq)
    mat = np.zeros((n, len(opts)), dtype=np.int64)
    other = np.full(n, None, dtype=object)
    reason, todo = values_to_decode(col)
    for i, u in todo:
        k = as_int(u)
        if k is not None and k < 0:
            reason[i] = reason_for_code(k)
            continue
        parts = [p for p in re.split(sep, str(u) if k is None else str(k)) if p.strip()]
        bad = False
        for rank, p in enumerate(parts, start=1):
            p = p.strip()
            c = lab2code.get(norm(p))
            if c is None:
                m = OTHER_INLINE.match(p)
                if m:
                    c = lab2code.get(norm(m.group(1)))
                    if c is None and as_int(m.group(1)) in qu.options:
                        c = as_int(m.group(1))
                    if c is not None and m.group(2).strip():
                        other[i] = m.group(2).strip()
            if c is None and as_int(p) in qu.options:
                c = as_int(p)
            if c is None:
                c = lettered(norm(p), lab2code)
            if c is None or mat[i, pos[c]]:
                bad = True
                continue
            mat[i, pos[c]] = rank
        if bad:
            reason[i] = INVALID
    return mat, reason, other


@decoder("single", one_column=True)
def _single(src: Source) -> Decoded:
    qu, miss = src.qu, src.miss
    c = src.column(src.value)
    labels = qu.labels
    code, reason, inl = decode_choice(c, qu, labels)
    note_fullwidth_codes(miss, c, code, qu.id, qu.id)
    codes_order = list(labels)
    posmap = np.array([codes_order.index(k) if k >= 0 else -1 for k in code], dtype=np.int64)
    pos = c.take(posmap, -1)
    col = pd.Series(pd.Categorical.from_codes(pos, categories=list(labels.values())),
                    index=src.idx)
    miss.add_col(c, reason, qu.id, qu.id)
    return Decoded({qu.id: col}, rows_missing=int((pos < 0).sum()),
                   invalid=int((c.take(reason, None) == INVALID).sum()),
                   other=c.take(inl, None) if qu.other is not None else None)


@decoder("matrix", "likert")
def _matrix(src: Source) -> Decoded:
    qu, miss, n, idx = src.qu, src.miss, src.n, src.idx
    row_slots = {s.key: s for s in src.slots if s.role == "row"}
    labels = qu.labels
    out: dict[str, pd.Series] = {}
    absent: list[str] = []
    n_invalid = 0
    any_missing = np.zeros(n, dtype=bool)
    for r in qu.rows:
        col = f"{qu.id}_{r}"
        s = row_slots.get(r)
        if s is None:
            absent.append(col)
            out[col] = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=idx)
            any_missing[:] = True  # never report "0 missing" for an incomplete matrix
            continue
        c = src.column(s)
        code, reason, _ = decode_choice(c, qu, labels)
        note_fullwidth_codes(miss, c, code, qu.id, col)
        vals = c.take(code, -1)
        arr = pd.array(vals, dtype="Int64")
        arr[vals < 0] = pd.NA
        out[col] = pd.Series(arr, index=idx)
        miss.add_col(c, reason, qu.id, col)
        n_invalid += int((c.take(reason, None) == INVALID).sum())
        any_missing |= vals < 0
    return Decoded(out, rows_missing=int(any_missing.sum()), invalid=n_invalid, absent=absent)


@decoder("multi", "rank")
def _multi_rank(src: Source) -> Decoded:
    """One ┋/→-joined column, or one column per option (0/1 for multi, the rank for rank)."""
    qu, n = src.qu, src.n
    opts = list(qu.options)
    if src.value is not None:
        mat, answered, n_invalid, other = _set_in_one_column(src)
        absent: list[str] = []
    else:
        mat, answered, n_invalid, other, absent = _set_per_option(src)
    answered = answered | mat.any(axis=1)
    out: dict[str, pd.Series] = {}
    for j, code in enumerate(opts):
        col = f"{qu.id}_{code}"
        unknown = ~answered | (col in absent)  # a column not in the export is unknown
        if qu.type == "multi":
            arr = pd.array(mat[:, j] > 0, dtype="boolean")
            arr[unknown] = pd.NA
        else:
            arr = pd.array(mat[:, j], dtype="Int64")
            arr[(mat[:, j] <= 0) | unknown] = pd.NA
        out[col] = pd.Series(arr, index=src.idx)
    return Decoded(out, rows_missing=int((~answered).sum()) if not absent else n,
                   invalid=n_invalid, absent=absent, other=other)


def _set_in_one_column(src: Source) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    qu = src.qu
    opts = list(qu.options)
    c = src.column(src.value)
    mat_u, reason_u, other_u = decode_set(c, qu, r"┋|→|\|" if qu.type == "multi" else r"→|┋")
    answered_u = mat_u.any(axis=1)
    row = np.where(c.codes < 0, len(c.uniq), c.codes)
    mat = np.vstack([mat_u, np.zeros((1, len(opts)), dtype=np.int64)])[row]
    answered = np.append(answered_u, False)[row]
    r_all = c.take(reason_u, BLANK)
    n_invalid = int((r_all == INVALID).sum())
    r_rows = np.where(answered & (r_all != INVALID), None, r_all)
    other = c.take(other_u, None) if qu.other is not None else None
    vals_u = np.array([None if x is None else cell_text(x) for x in c.uniq] + [None], dtype=object)
    keep = np.flatnonzero(pd.notna(r_rows))
    src.miss.add(keep, qu.id, qu.id, r_rows[keep], vals_u[row][keep])
    return mat, answered, n_invalid, other


def _set_per_option(src: Source) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None,
                                          list[str]]:
    qu, n, t = src.qu, src.n, src.qu.type
    opts = list(qu.options)
    opt_slots = {s.key: s for s in src.slots if s.role == "option"}
    mat = np.zeros((n, len(opts)), dtype=np.int64)
    answered = np.zeros(n, dtype=bool)
    reasons = []
    absent: list[str] = []
    other = None
    n_invalid = 0
    for j, code in enumerate(opts):
        s = opt_slots.get(code)
        if s is None:
            absent.append(f"{qu.id}_{code}")
            continue
        c = src.column(s)
        v_u = np.zeros(len(c.uniq), dtype=np.int64)
        ok_u = np.zeros(len(c.uniq), dtype=bool)
        own = {norm(qu.options[code]): 1}
        # 腾讯问卷: the option's own label (maybe "A.经费") in its column = chosen
        is_label = np.array([t == "multi" and isinstance(u, str) and (
            norm(u) in own or lettered(norm(u), own) is not None) for u in c.uniq],
            dtype=bool)
        r_u, todo = values_to_decode(c)
        for i, u in todo:
            k = 1 if is_label[i] else as_int(u)
            if k is None and isinstance(u, str) and code == qu.other:
                m = OTHER_INLINE.match(u.strip())
                k = as_int(m.group(1)) if m else 1  # free text in the option column
                if k is None:
                    k = 1
                u_text = m.group(2) if m else u
                if u_text.strip():
                    r_u[i] = None
            if k is None:
                r_u[i] = INVALID
            elif k < 0:
                r_u[i] = reason_for_code(k)
                if k == -2:
                    ok_u[i] = True  # answered, this option not chosen
            elif t == "multi" and k in (0, 1):
                v_u[i], ok_u[i] = k, True
            elif t == "rank" and 0 <= k <= len(opts):
                v_u[i], ok_u[i] = k, True
            else:
                r_u[i] = INVALID
        mat[:, j] = c.take(v_u, 0)
        answered |= c.take(ok_u, False).astype(bool)
        rr = c.take(r_u, BLANK)
        n_invalid += int((rr == INVALID).sum())
        reasons.append(np.where(rr == NOT_CHOSEN, None, rr))
        if code == qu.other:
            txt = np.array([(OTHER_INLINE.match(u.strip()).group(2).strip()
                             if OTHER_INLINE.match(u.strip()) else u.strip())
                            if isinstance(u, str) and as_int(u) is None and not na_reason(u)
                            and not lab else None
                            for u, lab in zip(c.uniq, is_label)], dtype=object)
            other = c.take(txt, None)
    r_rows = row_reason(reasons) if reasons else np.full(n, BLANK, dtype=object)
    r_rows = np.where(answered, None, r_rows)
    keep = np.flatnonzero(pd.notna(r_rows))
    src.miss.add(keep, qu.id, qu.id, r_rows[keep])
    return mat, answered, n_invalid, other, absent


# ---------------------------------------------------------------------------------------------
# one value per respondent: numeric, duration, date, text
# ---------------------------------------------------------------------------------------------
def _note_number_cells(src: Source, c: Col) -> None:
    """Full-width digits are read as their ASCII digits; each such cell and each non-finite
    number is logged."""
    qu, nu = src.qu, len(c.uniq)
    fw = np.array([fullwidth(u) for u in c.uniq] or [None], dtype=object)[:nu]
    src.miss.note(c, pd.notna(fw), qu.id, qu.id, "fullwidth", "flag",
                  "full-width characters normalised (NFKC) before parsing", new_u=fw)
    nonfin = np.array([non_finite(u) for u in c.uniq], dtype=bool)
    src.miss.note(c, nonfin, qu.id, qu.id, "non_finite", "blank",
                  "not a finite number; set to NA (reason invalid)")


def _one_value(src: Source, c: Col, reason: np.ndarray, series: pd.Series) -> Decoded:
    """The tail of every one-value decoder: missing records and counts."""
    qu = src.qu
    src.miss.add_col(c, reason, qu.id, qu.id)
    rr = c.take(reason, BLANK)
    return Decoded({qu.id: series}, rows_missing=int(pd.isna(series).sum()),
                   invalid=int((rr == INVALID).sum()))


@decoder("numeric", one_column=True)
def _numeric(src: Source) -> Decoded:
    qu = src.qu
    c = src.column(src.value)
    _note_number_cells(src, c)
    nu = len(c.uniq)
    v = np.full(nu, np.nan)
    lo = qu.range[0] if qu.range else 0.0
    not_int = np.zeros(nu, dtype=bool)
    reason, todo = values_to_decode(c)
    for i, u in todo:
        f = as_float(u)
        if f is None:
            reason[i] = INVALID
        elif qu.integer and not float(f).is_integer():
            reason[i] = INVALID
            not_int[i] = True
        elif f < 0 and lo >= 0 and float(f).is_integer() and int(f) in NEGATIVE_CODES:
            reason[i] = NEGATIVE_CODES[int(f)]
        else:
            v[i] = f
            if float(f).is_integer() and int(f) in qu.missing:
                reason[i] = reason_for_label(qu.missing[int(f)])
    src.miss.note(c, not_int, qu.id, qu.id, "not_integer", "blank",
                  "the question asks for a whole number; set to NA (reason invalid)")
    return _one_value(src, c, reason, pd.Series(c.take(v, np.nan), index=src.idx,
                                                dtype="float64"))


@decoder("duration", one_column=True)
def _duration(src: Source) -> Decoded:
    c = src.column(src.value)
    _note_number_cells(src, c)
    v = np.full(len(c.uniq), np.nan)
    reason, todo = values_to_decode(c)
    for i, u in todo:
        f = parse_duration(u)
        if f is None:
            reason[i] = INVALID
        elif f < 0:
            reason[i] = reason_for_code(int(f), INVALID) if float(f).is_integer() else INVALID
        else:
            v[i] = f
    return _one_value(src, c, reason, pd.Series(c.take(v, np.nan), index=src.idx,
                                                dtype="float64"))


@decoder("date", one_column=True)
def _date(src: Source) -> Decoded:
    c = src.column(src.value)
    _note_number_cells(src, c)
    v = np.full(len(c.uniq), np.datetime64("NaT"), dtype="datetime64[ns]")
    reason, todo = values_to_decode(c)
    for i, u in todo:
        k = as_int(u)
        if k is not None and k < 0:
            reason[i] = reason_for_code(k)
            continue
        ts = to_timestamp(u)
        if ts is None:
            reason[i] = INVALID
        else:
            v[i] = ts
    vals = c.take(v, np.datetime64("NaT"))
    return _one_value(src, c, reason, pd.Series(vals, index=src.idx, dtype="datetime64[ns]"))


@decoder("text", one_column=True)
def _text(src: Source) -> Decoded:
    qu = src.qu
    c = src.column(src.value)
    v = np.full(len(c.uniq), None, dtype=object)
    mangled = 0
    reason, todo = values_to_decode(c)
    for i, u in todo:
        v[i] = cell_text(u)
        if not v[i]:
            v[i], reason[i] = None, BLANK
        elif (isinstance(u, (float, np.floating)) and abs(u) >= 1e15) or (
                isinstance(u, str) and EXCEL_E.match(u.strip())):
            mangled += 1
    if mangled:
        # stacklevel: _text < decode_question < build < read_export < the caller
        warnings.warn(f"{src.raw.file}: question {qu.id!r} holds {mangled} long number(s) that "
                      "Excel has rounded or put in scientific notation (ID/phone numbers?); "
                      "the digits are lost — export that column as text",
                      ReadWarning, stacklevel=5)
    return _one_value(src, c, reason, str_series(c.take(v, None), src.idx))
