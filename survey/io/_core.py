"""Format-independent core of the readers: header matching, cell decoding, PII separation.

Every reader turns its file into a :class:`RawTable` (the header row exactly as exported, with
duplicates, and one ``object`` array per column); :func:`build` maps the headers to questions
(:class:`HeaderMatcher`), decodes each question's columns over their *unique* values (so the
work is per distinct value, not per cell), separates PII and assembles the analysis frame.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import QuestionnaireError, ReadError, ReadWarning, SchemaMismatchError
from ..privacy import (REDACTED, looks_like_pii, resolve_salt, respondent_names, salted_hash,
                       scrub_frame, scrub_text)
from ..questionnaire import Question, Questionnaire

__all__ = ["RawTable", "ReadReport", "ReadResult", "build", "norm", "parse_duration",
           "split_header", "HeaderParts", "META_HEADERS", "MISSING_COLUMNS", "READ_LOG_COLUMNS"]

MISSING_COLUMNS = ["rid", "question", "column", "reason", "value"]
# the reader's decisions, in the columns of the cleaning log (clean() carries them over)
READ_LOG_COLUMNS = ["rid", "rule", "question", "column", "old_value", "new_value", "action",
                    "detail"]

# export metadata header -> internal name (问卷星, 腾讯问卷, our own writers)
META_HEADERS = {
    "序号": "rid", "答卷编号": "rid", "respondent_id": "rid", "rid": "rid", "编号": "rid",
    "提交答卷时间": "submitted_at", "提交时间": "submitted_at", "ended_at": "submitted_at",
    "submitted_at": "submitted_at", "答题时间": "submitted_at",
    "所用时间": "duration_s", "duration": "duration_s", "duration_s": "duration_s", "答题时长": "duration_s",
    "来源": "source", "source": "source",
    "来源详情": "source_detail", "source_detail": "source_detail",
    "来自IP": "ip", "ip": "ip", "IP": "ip", "ip地址": "ip",
    "总分": "total_score", "started_at": "started_at", "开始答题时间": "started_at", "ua": "ua",
    "province": "province", "city": "city",
    # 腾讯问卷 (wj.qq.com): see tests/fixtures/make_layout_exports.py for the sources
    "结束答题时间": "submitted_at", "UA": "ua", "地理位置国家和地区": "country",
    "地理位置省": "province", "地理位置市": "city", "用户类型": "user_type",
    "用户标识": "user_id", "昵称": "nickname", "自定义字段": "custom_field",
    "Referrer": "referrer", "清洗数据结果": "qc_result", "智能清洗数据无效概率": "qc_invalid_prob",
    "审核状态": "review_status",
}
_TENCENT_META = {"开始答题时间", "结束答题时间", "答题时长", "started_at", "ended_at"}
_PII_META = {"source_detail": "source_detail", "ip": "ip", "ua": "other", "user_id": "other",
             "nickname": "other", "referrer": "other"}
_NEG = {-3: "skipped", -2: "not_chosen", -1: "blank"}
_SKIP = {"(跳过)", "跳过", "(跳過)"}
_BLANK = {"", "(空)", "空", "nan", "NaN", "None", "<NA>", "NaT"}
_INT_RE = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_EXCEL_E = re.compile(r"^\d(?:\.\d+)?[eE]\+\d{2}$")
_OTHER_INLINE = re.compile(r"^(.*?)〖(.*)〗\s*$", re.S)


_TAGS = re.compile(r"<[^<>]{0,200}>")
_WS = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    if "<" in s:
        s = _TAGS.sub("", s)  # 问卷星 keeps rich-text tags (<br>, <span …>) in some headers
    return _WS.sub("", s)


def norm(s: Any) -> str:
    """Normalise a header/label for matching: NFKC (full-width → ASCII), no tags, no whitespace.

    Examples
    --------
    >>> norm("3、您的 性别<br/>（单选）")
    '3、您的性别(单选)'
    """
    return _norm(s if isinstance(s, str) else str(s))


@dataclass
class RawTable:
    """A raw export as read: headers exactly as exported, one object array per column."""

    headers: list[str]
    cols: list[np.ndarray]
    file: str
    kind: str  # "wjx" | "sav" | "dta" | "csv"
    layout: str = "unknown"
    encoding: str | None = None
    direct_names: bool = False  # headers may be our own frame column names (sav/dta/csv)
    lines: np.ndarray | None = None  # file line (csv) / sheet row (xlsx) / case of each row
    log: list[dict] = field(default_factory=list)  # reader decisions (see READ_LOG_COLUMNS)

    @property
    def n_rows(self) -> int:
        return len(self.cols[0]) if self.cols else 0


@dataclass
class ReadReport:
    """What a reader recognised in an export (printed by ``survey inspect``).

    Examples
    --------
    >>> r = ReadReport(file="x.xlsx", layout="code", n_rows=3, mapped={"1、性别": "sex"})
    >>> "x.xlsx" in str(r)
    True
    """

    file: str
    layout: str
    n_rows: int
    mapped: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    partial: dict[str, list[str]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)
    metadata: list[str] = field(default_factory=list)
    pii_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    rid_created: bool = False
    questions_matched: int = 0
    questions_total: int = 0
    hints: dict[str, str] = field(default_factory=dict)  # unmapped header -> likely owner
    rows_in_file: int | None = None
    blank_rows: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"file:        {self.file}",
                 f"layout:      {self.layout}" + (f"  (encoding {self.encoding})" if self.encoding else ""),
                 f"respondents: {self.n_rows}" + ("  (rid created: export had no usable id)"
                                                  if self.rid_created else "")
                 + (f"  ({len(self.blank_rows)} blank row(s) dropped)" if self.blank_rows
                    else ""),
                 f"questions:   {self.questions_matched} of {self.questions_total} matched "
                 f"from {len(self.mapped)} columns"]
        if self.metadata:
            lines.append(f"metadata:    {', '.join(self.metadata)}")
        if self.pii_columns:
            lines.append(f"PII (separated, not in the analysis frame): {', '.join(self.pii_columns)}")
        lines.append(f"unmapped columns ({len(self.unmapped)}): "
                     + (", ".join(self.unmapped) if self.unmapped else "none"))
        for h, why in self.hints.items():
            lines.append(f"  {h}: {why}")
        lines.append(f"expected but absent ({len(self.absent)}): "
                     + (", ".join(self.absent) if self.absent else "none"))
        for qid, cols in self.partial.items():
            lines.append(f"  {qid}: columns not in the export: {', '.join(cols)}")
        if self.invalid:
            lines.append("unrecognised values (set to NA, see ReadResult.missing reason=invalid): "
                         + ", ".join(f"{k} {v}" for k, v in self.invalid.items()))
        if self.missing:
            w = max(len(k) for k in self.missing)
            lines.append("missing values per question (respondents):")
            for k, v in self.missing.items():
                pct = 100.0 * v / self.n_rows if self.n_rows else 0.0
                note = (f"  ({len(self.partial[k])} column(s) not in the export)"
                        if k in self.partial else "")
                lines.append(f"  {k:<{w}}  {v:>7}  {pct:5.1f}%{note}")
        return "\n".join(lines)


@dataclass
class ReadResult:
    """Result of :func:`survey.read_export`.

    Attributes
    ----------
    data : DataFrame
        The analysis frame (no direct identifiers), one row per respondent, keyed by ``rid``.
    report : ReadReport
        What was recognised (mapped/unmapped columns, absent questions, missing counts).
    pii : DataFrame
        Identifying fields keyed by ``rid`` (keep it away from shareable outputs).
    missing : DataFrame
        Long frame ``rid, question, column, reason, value`` saying why cells are NA (or hold a
        missing code): reasons ``skipped``, ``blank``, ``not_chosen``, ``dont_know``, ``refused``,
        ``missing_code``, ``invalid``.
    log : DataFrame
        The reader's decisions, in the cleaning log's columns (``rid, rule, question, column,
        old_value, new_value, action, detail``): ``blank_row`` (drop; ``rid`` empty, the line
        in ``detail``), ``short_row`` / ``long_row`` (flag), ``fullwidth`` (flag: full-width
        digits normalised), ``non_finite`` / ``not_integer`` (blank), ``absent_column`` /
        ``duplicate_column`` (flag).  :func:`survey.clean` carries them into its log.
    """

    data: pd.DataFrame
    report: ReadReport
    pii: pd.DataFrame
    missing: pd.DataFrame
    log: pd.DataFrame = field(default_factory=lambda: _log_frame([]))

    def __repr__(self) -> str:
        return (f"<ReadResult {self.report.file}: {self.data.shape[0]} respondents × "
                f"{self.data.shape[1]} columns; {len(self.report.unmapped)} unmapped, "
                f"{len(self.report.absent)} absent; {self.pii.shape[1] - 1} PII columns>")


# ---------------------------------------------------------------------------------------------
# header matching
# ---------------------------------------------------------------------------------------------
@dataclass
class Slot:
    col: int
    qid: str
    role: str          # value | option | row | other | meta
    key: Any = None    # option code / row id / meta name


_NUM_HDR = re.compile(r"^(\d+)[、.](.*)$", re.S)
_OLD_HDR = re.compile(r"^第(\d+)题(.*)$", re.S)
_CONT_HDR = re.compile(r"^(\d+)\((.*)\)$", re.S)
_SPSS_HDR = re.compile(r"^[Qq](\d+)(?:_(\d+))?$")
_MANGLED = re.compile(r"^(.*)\.(\d+)$", re.S)
_DASHES = ("—", "-", "_", "–", ":")
_OTHER_WORDS = ("其他", "填空", "请补充", "请注明")
_LETTER = re.compile(r"^[A-Za-z]{1,2}\s*[.．、]\s*(.+)$", re.S)


class HeaderParts(NamedTuple):
    """One export header taken apart (see :func:`split_header`).

    Examples
    --------
    >>> number, stem, sub, form = split_header("4(时间不够)")
    >>> number, stem, sub, form
    (4, '', '时间不够', 'continuation')
    """

    number: int          # the question number the platform printed
    stem: str            # question text ('' for continuation headers such as ``4(选项)``)
    sub: str | None      # option / matrix row / "other" label, None for a plain question
    form: str            # "question" | "option" | "row" | "other" | "continuation"


_SPLIT_NUM = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
_SPLIT_CONT = re.compile(r"^\s*(?:第(\d+)题|(\d+))\s*[(（](.*)[)）]\s*$", re.S)
_SPLIT_PAREN = re.compile(r"^(.*?)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*$", re.S)


def split_header(header: Any) -> HeaderParts | None:
    """Take a 问卷星 / 腾讯问卷 question header apart: number, stem, sub-label and its form.

    Purely syntactic (no questionnaire needed), for tools that draft a codebook from an
    export.  Forms: ``N、题干`` → question; ``N、题干(选项)`` → option; ``N、题干—行`` → row;
    ``N.题干:选项`` (腾讯问卷) → option; ``N、(其他（请补充）:)`` or a sub-label mentioning
    填空/请补充/请注明 (the text box of an "other" option) → other; ``N(选项)`` /
    ``第N题(选项)`` → continuation.  A numbered matrix sub-row ``N、行2`` parses as a
    *question* whose number repeats the previous header's: only that repetition (or the
    questionnaire) tells it from a new question.
    Option suffixes are taken from ASCII parentheses only (问卷星 writes ``题干(选项)``), so a
    stem ending in full-width ``（小时）`` stays whole; one ending in ASCII ``(单选)`` would not.
    Headers without a question number give ``None``.  Text is returned as written (strip
    only); compare through :func:`norm`.

    Examples
    --------
    >>> split_header("8、您对以下方面的满意程度—工作环境")
    HeaderParts(number=8, stem='您对以下方面的满意程度', sub='工作环境', form='row')
    >>> split_header("4(时间不够)").form, split_header("第4题(时间不够)").sub
    ('continuation', '时间不够')
    >>> split_header("4.您遇到的困难:经费不足")[1:]
    ('您遇到的困难', '经费不足', 'option')
    >>> split_header("3、(其他（请补充）:)").form, split_header("序号") is None
    ('other', True)
    """
    h = "" if header is None else str(header).strip()
    m = _SPLIT_CONT.match(h)
    if m:
        sub = m.group(3).strip()
        form = "other" if any(w in sub for w in _OTHER_WORDS[1:]) else "continuation"
        return HeaderParts(int(m.group(1) or m.group(2)), "", sub, form)
    m = _SPLIT_NUM.match(h)
    if not m:
        return None
    n, body = int(m.group(1)), m.group(2).strip()
    if body[:1] in "(（" and body[-1:] in ")）":
        return HeaderParts(n, "", body[1:-1].strip(), "other")
    for sep, form in (("—", "row"), ("：", "option"), (":", "option")):
        stem, found, sub = body.rpartition(sep)
        if found and stem.strip() and sub.strip():
            sub = sub.strip()
            if form == "option" and any(w in sub for w in _OTHER_WORDS[1:]):
                form = "other"  # 其他_填空: the text box, not the option
            return HeaderParts(n, stem.strip(), sub, form)
    m = _SPLIT_PAREN.match(body)
    if m and m.group(1).strip():
        return HeaderParts(n, m.group(1).strip(), m.group(2).strip(), "option")
    return HeaderParts(n, body, None, "question")


class HeaderMatcher:
    """Map export headers to (question, part) using texts, option/row labels and ``source:``."""

    def __init__(self, q: Questionnaire) -> None:
        self.q = q
        self.text_keys: dict[str, list[tuple[str, str, Any]]] = {}
        self.direct: dict[str, tuple[str, str, Any]] = {}
        self.source: dict[str, str] = {}
        for qu in q.questions:
            self._add(norm(qu.text), qu.id, "value", None)
            if qu.type in ("multi", "rank"):
                for c, lab in qu.options.items():
                    self._add(norm(f"{qu.text}({lab})"), qu.id, "option", c)
                    for d in (":", "—"):  # 腾讯问卷 writes N.题干:选项
                        self._add(norm(f"{qu.text}{d}{lab}"), qu.id, "option", c)
            if qu.type in ("matrix", "likert"):
                for r, lab in qu.rows.items():
                    for d in _DASHES:
                        self._add(norm(f"{qu.text}{d}{lab}"), qu.id, "row", r)
            for s in qu.source:
                self.source[norm(s)] = qu.id
            # our own column names (sav/dta/csv written by write_sav or by hand)
            if qu.type in ("multi", "rank"):
                for c in qu.options:
                    self.direct[f"{qu.id}_{c}"] = (qu.id, "option", c)
            elif qu.type in ("matrix", "likert"):
                for r in qu.rows:
                    self.direct[f"{qu.id}_{r}"] = (qu.id, "row", r)
            else:
                self.direct[qu.id] = (qu.id, "value", None)
            if qu.other is not None:
                self.direct[f"{qu.id}_other"] = (qu.id, "other", None)
        self.meta = {norm(k): v for k, v in META_HEADERS.items()}

    def _add(self, key: str, qid: str, role: str, k: Any) -> None:
        self.text_keys.setdefault(key, []).append((qid, role, k))

    @staticmethod
    def _option(qu: Question, label: str) -> int | None:
        lab = norm(label)
        for c, l in qu.options.items():
            if norm(l) == lab:
                return c
        if _INT_RE.match(lab) and int(float(lab)) in qu.options:
            return int(float(lab))
        return None

    @staticmethod
    def _row(qu: Question, label: str) -> str | None:
        lab = norm(label)
        for r, l in qu.rows.items():
            if norm(l) == lab or norm(r) == lab:
                return r
        return None

    def _suffix_part(self, qu: Question, rest: str) -> tuple[str, Any] | None:
        """Role/key from a header that starts with the question text (source-mapped headers)."""
        t = norm(qu.text)
        r = rest[len(t):] if rest.startswith(t) else rest
        if qu.type in ("multi", "rank") and r.startswith("(") and r.endswith(")"):
            c = self._option(qu, r[1:-1])
            if c is not None:
                return "option", c
        if qu.type in ("matrix", "likert"):
            for d in _DASHES:
                if r.startswith(d):
                    rr = self._row(qu, r[len(d):])
                    if rr is not None:
                        return "row", rr
        if not r or r == rest:
            return "value", None
        return None

    def _numbered_part(self, qu: Question, rest: str) -> tuple[str, Any] | None:
        """Role/key of a header ``N、rest`` whose number N already belongs to ``qu``.

        Covers 问卷星's ``N、(选项)`` / ``第N题(选项)`` option columns, its numbered matrix
        sub-rows ``N、行k``, ``N、(其他（请补充）:)``, and 腾讯问卷's ``N.题干:其他_填空``.
        ``rest`` is normalised (:func:`norm`).
        """
        t = norm(qu.text)
        if rest == t:
            return None  # the question's own header again (a duplicated column)
        sub = rest
        if t and sub.startswith(t):
            sub = sub[len(t):].lstrip("".join(_DASHES))
        inner = sub[1:-1] if sub.startswith("(") and sub.endswith(")") else sub
        if qu.type in ("multi", "rank"):
            c = self._option(qu, inner)
            if c is not None:
                return "option", c
        if qu.type in ("matrix", "likert"):
            r = self._row(qu, inner)
            if r is not None:
                return "row", r
        if qu.other is not None and any(w in sub for w in _OTHER_WORDS):
            return "other", None
        return None

    def match(self, raw: RawTable) -> tuple[list[Slot], list[int]]:
        q = self.q
        slots: list[Slot] = []
        unmapped: list[int] = []
        number: dict[int, str] = {}      # 问卷星 question number -> qid
        used: set[tuple[str, str, Any]] = set()
        prev_q: str | None = None
        spss_like = raw.kind in ("sav", "dta")

        def take(j: int, qid: str, role: str, key: Any) -> None:
            nonlocal prev_q
            if (qid, role, key) in used:
                unmapped.append(j)
                prev_q = None
                return
            used.add((qid, role, key))
            slots.append(Slot(j, qid, role, key))
            prev_q = qid

        for j, h in enumerate(raw.headers):
            h = "" if h is None else str(h)
            hn = norm(h)
            if not hn and all(v is None or (isinstance(v, str) and not v.strip())
                              for v in raw.cols[j]):
                continue  # e.g. the empty last column of a 腾讯问卷 CSV (rows end with ",")
            if hn in self.meta and ("meta", self.meta[hn]) not in {(s.role, s.key) for s in slots}:
                slots.append(Slot(j, "", "meta", self.meta[hn]))
                prev_q = None
                continue
            if h in self.direct:
                take(j, *self.direct[h])
                continue
            if hn in self.source:
                qu = q[self.source[hn]]
                part = self._suffix_part(qu, hn) or ("value", None)
                take(j, qu.id, *part)
                continue
            m = _NUM_HDR.match(hn) or _OLD_HDR.match(hn)
            if m:
                n, rest = int(m.group(1)), m.group(2)
                cands = [c for c in self.text_keys.get(rest, []) if c not in used]
                if cands:
                    pick = next((c for c in cands if q[c[0]].position == n), cands[0])
                    number[n] = pick[0]
                    take(j, *pick)
                    continue
                if n in number:
                    part = self._numbered_part(q[number[n]], rest)
                    if part is not None:
                        take(j, number[n], *part)
                        continue
                unmapped.append(j)
                prev_q = None
                continue
            m = _CONT_HDR.match(hn)
            if m and int(m.group(1)) in number:
                qu = q[number[int(m.group(1))]]
                c = self._option(qu, m.group(2)) if qu.type in ("multi", "rank") else None
                if c is not None:
                    take(j, qu.id, "option", c)
                    continue
                if qu.other is not None and ("其他" in m.group(2) or "请补充" in m.group(2)):
                    take(j, qu.id, "other", None)
                    continue
            if prev_q is not None and q[prev_q].type in ("matrix", "likert"):
                qu = q[prev_q]
                r = self._row(qu, h)
                if r is None:
                    mm = _MANGLED.match(h)
                    r = self._row(qu, mm.group(1)) if mm else None
                if r is not None and (qu.id, "row", r) not in used:
                    take(j, qu.id, "row", r)
                    continue
            if spss_like:
                m = _SPSS_HDR.match(h)
                if m:
                    pos = int(m.group(1))
                    if 1 <= pos <= len(q.questions):
                        qu = q.questions[pos - 1]
                        k = m.group(2)
                        if k is None and len(qu.columns) == 1:
                            take(j, qu.id, "value", None)
                            continue
                        if k is not None:
                            ki = int(k) - 1
                            if qu.type in ("multi", "rank") and ki < len(qu.options):
                                take(j, qu.id, "option", list(qu.options)[ki])
                                continue
                            if qu.type in ("matrix", "likert") and ki < len(qu.rows):
                                take(j, qu.id, "row", list(qu.rows)[ki])
                                continue
            unmapped.append(j)
            prev_q = None
        return slots, unmapped


# ---------------------------------------------------------------------------------------------
# cell decoding over unique values
# ---------------------------------------------------------------------------------------------
def _na_reason(u: Any) -> str | None:
    if u is None:
        return "blank"
    if isinstance(u, float) and math.isnan(u):
        return "blank"
    if u is pd.NaT or u is pd.NA:
        return "blank"
    if isinstance(u, str):
        s = u.strip()
        if s in _BLANK:
            return "blank"
        if norm(s) in ("(跳过)", "跳过"):
            return "skipped"
        if norm(s) == "(空)":
            return "blank"
    return None


def _is_empty(u: Any) -> bool:
    """A cell with nothing in it (None, NaN, whitespace) — not ``(空)``/``(跳过)`` marks."""
    if u is None or u is pd.NaT or u is pd.NA:
        return True
    if isinstance(u, (float, np.floating)):
        return bool(np.isnan(u))
    return isinstance(u, str) and not u.strip()


_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def _fullwidth(u: Any) -> str | None:
    """The NFKC form of a string holding full-width characters (``２０２４－０５``), else None."""
    if isinstance(u, str) and _FULLWIDTH.search(u):
        return unicodedata.normalize("NFKC", u)
    return None


def _non_finite(u: Any) -> bool:
    """``inf``/``1e309``-like values (a number, but not a finite one)."""
    if isinstance(u, (float, np.floating)) and not isinstance(u, bool):
        return bool(np.isinf(u))
    if isinstance(u, str):
        s = unicodedata.normalize("NFKC", u).strip().lower()
        if s.lstrip("+-") in ("inf", "infinity", "∞"):
            return True
        if _NUM_RE.match(s):
            try:
                return not math.isfinite(float(s))
            except (ValueError, OverflowError):
                return True
    return False


def _note_fullwidth_codes(miss: "_Missing", c: "_Col", code: np.ndarray, qid: str,
                          column: str) -> None:
    """Log option codes typed in full-width digits (``'１'``), read as their ASCII code."""
    fw = np.array([isinstance(u, str) and bool(re.search("[\uff10-\uff19]", u))
                   and _as_int(u) is not None and code[i] >= 0
                   for i, u in enumerate(c.uniq)], dtype=bool)
    if fw.any():
        new = np.array([str(code[i]) if fw[i] else None for i in range(len(c.uniq))],
                       dtype=object)
        miss.note(c, fw, qid, column, "fullwidth", "flag",
                  "option code in full-width digits read as its code", new_u=new)


def _log_frame(entries: list[dict]) -> pd.DataFrame:
    """Reader log entries (scalars or arrays per key) as a READ_LOG_COLUMNS frame."""
    parts = []
    for e in entries:
        k = next((len(v) for v in e.values() if isinstance(v, np.ndarray)), 1)
        parts.append(pd.DataFrame({c: (e.get(c) if isinstance(e.get(c), np.ndarray)
                                       else np.full(k, e.get(c), dtype=object))
                                   for c in READ_LOG_COLUMNS}))
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in READ_LOG_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    for c in READ_LOG_COLUMNS:
        out[c] = out[c].astype("str")
    return out


def _lines(raw: RawTable) -> np.ndarray:
    """Where each row is in the file: its line / sheet row (header = 1), or its case number."""
    if raw.lines is not None:
        return np.asarray(raw.lines)
    first = 1 if raw.kind in ("sav", "dta") else 2
    return np.arange(first, raw.n_rows + first)


def drop_blank_rows(raw: RawTable) -> list[int]:
    """Remove rows whose every cell is empty from ``raw`` (in place); their lines, logged.

    A blank row is no respondent: kept, it would enter every denominator with all answers
    missing.  Each one dropped gets a ``blank_row`` entry in ``raw.log``.
    """
    n = raw.n_rows
    if not n or not raw.cols:
        return []
    blank = np.ones(n, dtype=bool)
    for a in raw.cols:
        c = _Col(a)
        e_u = np.array([_is_empty(u) for u in c.uniq], dtype=bool)
        blank &= c.take(e_u, True).astype(bool)
        if not blank.any():
            return []
    lines = _lines(raw)
    gone = [int(x) for x in lines[blank]]
    keep = ~blank
    raw.cols = [a[keep] for a in raw.cols]
    raw.lines = np.asarray(lines)[keep]
    word = {"csv": "line", "wjx": "row"}.get(raw.kind, "case")
    raw.log.append({"rid": None, "rule": "blank_row", "question": None, "column": None,
                    "old_value": None, "new_value": None, "action": "drop",
                    "detail": np.array([f"{word} {x} of the file is empty (no respondent)"
                                        for x in gone], dtype=object)})
    return gone


def _as_int(u: Any) -> int | None:
    if isinstance(u, bool):
        return int(u)
    if isinstance(u, (int, np.integer)):
        return int(u)
    if isinstance(u, (float, np.floating)):
        return int(u) if math.isfinite(u) and float(u).is_integer() else None
    if isinstance(u, str):
        s = u.strip()
        if _INT_RE.match(s):
            try:
                return int(float(s)) if "." in s else int(s)
            except (ValueError, OverflowError):
                return None
    return None


def _as_float(u: Any) -> float | None:
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


def _to_timestamp(u: Any) -> np.datetime64 | None:
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


def _text(u: Any) -> str:
    if isinstance(u, (float, np.floating)) and math.isfinite(u) and float(u).is_integer():
        return str(int(u))
    if isinstance(u, (pd.Timestamp,)):
        return u.isoformat()
    return str(u).strip()


def _missing_reason(label: str) -> str:
    return {"不知道": "dont_know", "说不清": "dont_know", "拒答": "refused", "拒绝回答": "refused",
            "不适用": "not_applicable"}.get(label, "missing_code")


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
    f = _as_float(u) if not isinstance(u, str) else None
    if f is not None:
        return f
    if not isinstance(u, str):
        return None
    s = norm(u).lower()
    if not s:
        return None
    if _NUM_RE.match(s):
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


class _Col:
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


class _Missing:
    """Collects missing-value records as arrays (no per-cell Python work)."""

    def __init__(self, rid: np.ndarray) -> None:
        self.rid = rid
        self.parts: list[pd.DataFrame] = []
        self.notes: list[dict] = []  # log entries of cell decisions (READ_LOG_COLUMNS)

    def note(self, col: _Col, per_unique: np.ndarray, qid: str, column: str, rule: str,
             action: str, detail: str, new_u: np.ndarray | None = None) -> None:
        """Log every cell whose unique value is flagged in ``per_unique`` (bool)."""
        if not per_unique.any():
            return
        hit = col.take(per_unique, False).astype(bool)
        rows = np.flatnonzero(hit)
        vals_u = np.array([None if x is None else _text(x) for x in col.uniq] + [None],
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

    def add_col(self, col: _Col, reason_u: np.ndarray, qid: str, column: str,
                na_reason: str = "blank") -> None:
        r = col.take(reason_u, na_reason)
        rows = np.flatnonzero(pd.notna(r))
        if len(rows):
            vals_u = np.array([None if x is None else _text(x) for x in col.uniq] + [None],
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


def _lettered(s: str, lab2code: dict[str, int]) -> int | None:
    """Code of a label written with a letter in front (``A.男``), as 腾讯问卷 exports options
    that were typed with letters; ``s`` and the keys are normalised."""
    m = _LETTER.match(s)
    return lab2code.get(m.group(1)) if m else None


def _decode_choice(col: _Col, qu: Question, labels: dict[int, str]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray]:
    """Per unique value: code (or -1), NA/missing reason (or None), inline other text."""
    lab2code = {norm(l): c for c, l in labels.items()}
    n = len(col.uniq)
    code = np.full(n, -1, dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    other = np.full(n, None, dtype=object)
    for i, u in enumerate(col.uniq):
        r = _na_reason(u)
        if r:
            reason[i] = r
            continue
        c = None
        if isinstance(u, str):
            s = norm(u)
            c = lab2code.get(s)
            if c is None:
                m = _OTHER_INLINE.match(u.strip())
                if m:
                    c = lab2code.get(norm(m.group(1)))
                    if c is None and _as_int(m.group(1)) in labels:
                        c = _as_int(m.group(1))
                    if c is not None:
                        t = m.group(2).strip()
                        other[i] = t or None
            if c is None:
                c = _lettered(s, lab2code)
        if c is None:
            k = _as_int(u)
            if k is not None:
                if k in labels:
                    c = k
                elif k < 0:
                    reason[i] = _NEG.get(k, "missing_code")
                    continue
        if c is None:
            reason[i] = "invalid"
            continue
        code[i] = c
        if c in qu.missing:
            reason[i] = _missing_reason(qu.missing[c])
    return code, reason, other


def _decode_set(col: _Col, qu: Question, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """Multi/rank in one column: per unique → position matrix (0 = not chosen), reason, other."""
    opts = list(qu.options)
    pos = {c: j for j, c in enumerate(opts)}
    lab2code = {norm(l): c for c, l in qu.options.items()}
    n = len(col.uniq)
    mat = np.zeros((n, len(opts)), dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    other = np.full(n, None, dtype=object)
    for i, u in enumerate(col.uniq):
        r = _na_reason(u)
        if r:
            reason[i] = r
            continue
        k = _as_int(u)
        if k is not None and k < 0:
            reason[i] = _NEG.get(k, "missing_code")
            continue
        parts = [p for p in re.split(sep, str(u) if k is None else str(k)) if p.strip()]
        bad = False
        for rank, p in enumerate(parts, start=1):
            p = p.strip()
            c = lab2code.get(norm(p))
            if c is None:
                m = _OTHER_INLINE.match(p)
                if m:
                    c = lab2code.get(norm(m.group(1)))
                    if c is None and _as_int(m.group(1)) in qu.options:
                        c = _as_int(m.group(1))
                    if c is not None and m.group(2).strip():
                        other[i] = m.group(2).strip()
            if c is None and _as_int(p) in qu.options:
                c = _as_int(p)
            if c is None:
                c = _lettered(norm(p), lab2code)
            if c is None or mat[i, pos[c]]:
                bad = True
                continue
            mat[i, pos[c]] = rank
        if bad:
            reason[i] = "invalid"
            if not mat[i].any():
                continue
    return mat, reason, other


def _row_reason(reasons: list[np.ndarray]) -> np.ndarray:
    """First non-null reason across columns, row-wise."""
    out = np.full(len(reasons[0]), None, dtype=object)
    for r in reasons:
        fill = pd.isna(out) & pd.notna(r)
        out[fill] = r[fill]
    return out


def _str_series(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    return pd.Series(values, index=index, dtype="str")


# ---------------------------------------------------------------------------------------------
def build(raw: RawTable, q: Questionnaire, *, salt: str | None = None, unmapped: str = "warn",
          min_match: float = 0.5) -> ReadResult:
    """Assemble a :class:`ReadResult` from a raw table (shared by every reader)."""
    if unmapped not in ("warn", "error", "ignore"):
        raise ReadError(f"unmapped={unmapped!r}: use 'warn', 'error' or 'ignore'")
    if not raw.headers:
        raise ReadError(f"{raw.file}: the file has no header row; is it an empty export?")
    rows_in_file = raw.n_rows
    blank_rows = drop_blank_rows(raw)
    n = raw.n_rows
    idx = pd.RangeIndex(n)
    slots, unm = HeaderMatcher(q).match(raw)
    unm = _resolve_duplicates(raw, slots, unm)
    by_q: dict[str, list[Slot]] = {}
    meta: dict[str, int] = {}
    for s in slots:
        if s.role == "meta":
            meta[s.key] = s.col
        else:
            by_q.setdefault(s.qid, []).append(s)
    n_q = len(q.questions)
    matched = len(by_q)
    unm_headers = [str(raw.headers[j]) for j in unm]
    if matched == 0 or (matched < min_match * n_q and len(unm) > matched):
        ex = "; ".join(unm_headers[:4])
        raise SchemaMismatchError(
            f"{raw.file}: only {matched} of {n_q} questions of questionnaire {q.id!r} were found "
            f"and {len(unm)} columns are not in it (e.g. {ex}); is this an export of another "
            "questionnaire? Pass the matching questionnaire.yml, or add `source:` mappings")
    if unm and unmapped == "error":
        raise SchemaMismatchError(
            f"{raw.file}: columns not in questionnaire {q.id!r}: {', '.join(unm_headers[:10])}; "
            "add them to questionnaire.yml (or `source:`), or read with unmapped='warn'")
    if unm and unmapped == "warn":
        warnings.warn(f"{raw.file}: {len(unm)} column(s) not in the questionnaire were left out: "
                      f"{', '.join(unm_headers[:6])}{' …' if len(unm) > 6 else ''}",
                      ReadWarning, stacklevel=3)

    # ---- respondent id
    rid_created = True
    if "rid" in meta:
        col = raw.cols[meta["rid"]]
        r = pd.Series([None if _na_reason(v) else _text(v) for v in col], dtype=object)
        if r.notna().all() and r.is_unique:
            rid = r.to_numpy(dtype=object)
            rid_created = False
        else:
            warnings.warn(f"{raw.file}: column {raw.headers[meta['rid']]!r} has blank or repeated "
                          "ids; respondent ids were created from the row order instead",
                          ReadWarning, stacklevel=3)
    if rid_created:
        w = len(str(n))
        rid = np.array([f"r{i:0{w}d}" for i in range(1, n + 1)], dtype=object)
    miss = _Missing(rid)
    data: dict[str, Any] = {"rid": _str_series(rid, idx)}
    pii: dict[str, Any] = {"rid": _str_series(rid, idx)}
    salt_v: str | None = None

    def get_salt() -> str:
        nonlocal salt_v
        if salt_v is None:
            salt_v = resolve_salt(salt, wave=q.id)
        return salt_v

    # ---- metadata
    if "submitted_at" in meta:
        c = _Col(raw.cols[meta["submitted_at"]])
        u = pd.Series([None if _na_reason(v) else v for v in c.uniq], dtype=object)
        ts = pd.to_datetime(u.astype("str"), format="%Y/%m/%d %H:%M:%S", errors="coerce")
        ts = ts.to_numpy(dtype="datetime64[ns]")
        for i in np.flatnonzero(np.isnat(ts) & u.notna().to_numpy()):
            x = _to_timestamp(u.iloc[i])
            ts[i] = np.datetime64("NaT") if x is None else x
        vals = c.take(ts, np.datetime64("NaT"))
        data["submitted_at"] = pd.Series(vals, index=idx, dtype="datetime64[ns]")
        col = str(raw.headers[meta["submitted_at"]])
        fw = np.array([_fullwidth(v) for v in c.uniq] or [None], dtype=object)[:len(c.uniq)]
        miss.note(c, pd.notna(fw), "", col, "fullwidth", "flag",
                  "full-width characters normalised (NFKC) before parsing", new_u=fw)
    if "duration_s" in meta:
        c = _Col(raw.cols[meta["duration_s"]])
        d = np.array([np.nan if (x := parse_duration(v)) is None else x for v in c.uniq], dtype=float)
        data["duration_s"] = pd.Series(c.take(d, np.nan), index=idx, dtype="float64")
        col = str(raw.headers[meta["duration_s"]])
        miss.note(c, np.array([_non_finite(v) for v in c.uniq], dtype=bool), "", col,
                  "non_finite", "blank", "not a finite duration; set to NA")
        fw = np.array([_fullwidth(v) for v in c.uniq] or [None], dtype=object)[:len(c.uniq)]
        miss.note(c, pd.notna(fw), "", col, "fullwidth", "flag",
                  "full-width characters normalised (NFKC) before parsing", new_u=fw)
    if "source" in meta:
        c = _Col(raw.cols[meta["source"]])
        s = np.array([None if _na_reason(v) else _text(v) for v in c.uniq], dtype=object)
        data["source"] = _str_series(c.take(s, None), idx)
    pii_cols: list[str] = []
    for name, kind in _PII_META.items():
        if name in meta:
            c = _Col(raw.cols[meta[name]])
            s = np.array([None if _na_reason(v) else _text(v) for v in c.uniq], dtype=object)
            ser = _str_series(c.take(s, None), idx)
            pii[name] = ser
            pii_cols.append(str(raw.headers[meta[name]]))
            if name == "ip":
                data["ip_hash"] = salted_hash(ser, get_salt(), kind="ip")

    # ---- questions
    report_missing: dict[str, int] = {}
    invalid: dict[str, int] = {}
    partial: dict[str, list[str]] = {}
    mapped: dict[str, str] = {}
    for s in slots:
        h = str(raw.headers[s.col])
        mapped[h if h not in mapped else f"{h} [{s.col + 1}]"] = (
            s.qid if s.role != "meta" else f"<{s.key}>")
    for qu in q.questions:
        ss = by_q.get(qu.id)
        if not ss:
            continue
        target = pii if qu.pii else data
        out, rowmiss, n_invalid, absent_cols = _convert(qu, ss, raw, miss, idx)
        if absent_cols:
            partial[qu.id] = absent_cols
        for k, v in out.items():
            target[k] = v
        if qu.pii:
            pii_cols.extend(str(raw.headers[s.col]) for s in ss)
            if qu.pii_kind == "phone" and "phone_hash" not in data:
                data["phone_hash"] = salted_hash(out[qu.id], get_salt(), kind="phone")
        report_missing[qu.id] = int(rowmiss)
        if n_invalid:
            invalid[qu.id] = int(n_invalid)
    # unmapped columns that look like identifiers are kept with the PII, never in the data
    for j in unm:
        h = str(raw.headers[j])
        if looks_like_pii(h):
            c = _Col(raw.cols[j])
            s = np.array([None if _na_reason(v) else _text(v) for v in c.uniq], dtype=object)
            key = h if h not in pii else f"{h} [{j + 1}]"
            pii[key] = _str_series(c.take(s, None), idx)
            pii_cols.append(h)
    if raw.layout == "unknown" and raw.kind in ("wjx", "csv") and {
            str(raw.headers[c]) for k, c in meta.items()} & _TENCENT_META:
        raw.layout = "tencent"
    if raw.layout == "unknown" and raw.kind in ("wjx", "csv"):
        has_opt = any(s.role == "option" for s in slots)
        has_set = any(s.role == "value" and q[s.qid].type in ("multi", "rank") for s in slots)
        raw.layout = "code" if has_opt and not has_set else "text" if has_set else "unknown"
    frame = pd.DataFrame(data, index=idx)
    absent = [qu.id for qu in q.questions if qu.id not in by_q]
    if absent and unmapped != "ignore":
        warnings.warn(f"{raw.file}: {len(absent)} question(s) of {q.id!r} are not in the export: "
                      f"{', '.join(absent[:8])}{' …' if len(absent) > 8 else ''}",
                      ReadWarning, stacklevel=3)
    if partial:
        # a matrix row / option column missing from an export of a question that is there
        parts = []
        for qid, cols in partial.items():
            qu = q[qid]
            for col in cols:
                key = col[len(qid) + 1:]
                lab = (qu.rows.get(key) if qu.type in ("matrix", "likert")
                       else qu.options.get(int(key)) if key.isdigit() else None)
                parts.append(f"{qid} {'row' if qu.type in ('matrix', 'likert') else 'option'} "
                             f"{key!r}" + (f" ({lab})" if lab else ""))
                raw.log.append({"rule": "absent_column", "question": qid, "column": col,
                                "action": "flag",
                                "detail": "column not in the export; its cells are NA"})
        warnings.warn(f"{raw.file}: {len(parts)} column(s) of questions in the export are "
                      f"missing, read as NA: {', '.join(parts[:8])}"
                      f"{' …' if len(parts) > 8 else ''}; export again with all rows/options",
                      ReadWarning, stacklevel=3)
    report = ReadReport(
        hints=_unmapped_hints(raw, slots, unm, q),
        file=raw.file, layout=raw.layout, n_rows=n, mapped=mapped, unmapped=unm_headers,
        absent=absent, partial=partial, missing=report_missing, invalid=invalid,
        metadata=[str(raw.headers[c]) for k, c in meta.items() if k not in _PII_META],
        pii_columns=pii_cols, encoding=raw.encoding, rid_created=rid_created,
        questions_matched=matched, questions_total=n_q, rows_in_file=rows_in_file,
        blank_rows=blank_rows)
    if invalid:
        warnings.warn(f"{raw.file}: unrecognised values set to NA in "
                      + ", ".join(f"{k} ({v} cells)" for k, v in list(invalid.items())[:6])
                      + "; see ReadResult.missing (reason='invalid')", ReadWarning, stacklevel=3)
    by_line = dict(zip(_lines(raw).tolist(), rid.tolist()))
    entries = []
    for e in raw.log:
        if "line" in e:  # a reader's note on a row: name the respondent
            e = {**e, "rid": by_line.get(int(e.pop("line")))}
        entries.append(e)
    pii_q = {qu.id for qu in q.questions if qu.pii}
    for e in miss.notes:  # the log never carries the raw values of PII questions
        if e["question"] in pii_q:
            e["old_value"] = e["new_value"] = None
    # free text loses phones, IPs, e-mails, ID numbers, chat ids and each respondent's own name
    # here, before anything else sees it; so do the raw values kept with missing/invalid cells
    # and in the reader's log
    pii_frame = pd.DataFrame(pii, index=idx)
    frame = scrub_frame(frame, q, pii_frame)
    missing = _mark_skips(miss.frame(), frame, q)
    names = respondent_names(pii_frame, q)
    missing["value"] = _scrubbed_only(missing["value"], names.reindex(missing["rid"].to_numpy())
                                      if names.shape[1] else None)
    log = _log_frame(entries + miss.notes)
    for c in ("old_value", "new_value"):  # only text cells: a logged number stays a number
        is_txt = log[c].map(lambda v: isinstance(v, str)).to_numpy(bool)
        if is_txt.any():
            nm = (names.reindex(log["rid"].to_numpy()[is_txt]).reset_index(drop=True)
                  if names.shape[1] else None)
            col = log[c].astype(object)
            col[is_txt] = _scrubbed_only(col[is_txt].reset_index(drop=True), nm).to_numpy(object)
            log[c] = col
    return ReadResult(data=frame, report=report, pii=pii_frame, missing=missing, log=log)


def _scrubbed_only(values: pd.Series, names: Any) -> pd.Series:
    """Raw values as typed, except those that held personal data: scrubbed (a logged raw value
    keeps its full-width digits etc., which is what made it invalid)."""
    out = scrub_text(values, names=names)
    hit = out.str.contains(REDACTED, regex=False).fillna(False).to_numpy(bool)
    return values.where(~hit, out)


def _unmapped_hints(raw: RawTable, slots: list[Slot], unm: list[int], q: Questionnaire
                    ) -> dict[str, str]:
    """For unmapped headers numbered like a matched question: which question and what failed."""
    owner: dict[int, str] = {}
    for s in slots:
        parts = split_header(raw.headers[s.col]) if s.role != "meta" else None
        if parts is not None:
            owner.setdefault(parts.number, s.qid)
    out: dict[str, str] = {}
    for j in unm:
        h = str(raw.headers[j])
        parts = split_header(h)
        if parts is None or parts.number not in owner:
            continue
        qu = q[owner[parts.number]]
        label = parts.sub if parts.sub is not None else parts.stem
        what = {"matrix": "row", "likert": "row", "multi": "option", "rank": "option"}.get(
            qu.type, "part")
        out[h] = (f"numbered like question {parts.number} ({qu.id}), which has no {what} "
                  f"{label!r}; fix the label in questionnaire.yml or add the header to `source:`")
    return out


def _mark_skips(missing: pd.DataFrame, frame: pd.DataFrame, q: Questionnaire) -> pd.DataFrame:
    """Blank cells of a question whose ``ask_if`` is false for the respondent become ``skipped``.

    Only 问卷星's own ``(跳过)`` / ``-3`` say "skipped" in the file; Stata/SPSS, CSV, 腾讯问卷
    and empty 按序号 cells leave a logic skip blank, so the questionnaire decides for *empty*
    cells.  A cell the export itself marks blank (``(空)``, ``-1``) keeps its word, and
    questions whose condition names a column the export lacks are left as they are.
    """
    if not len(missing):
        return missing
    reason = missing["reason"].to_numpy(dtype=object).copy()
    value = missing["value"]
    blank = (reason == "blank") & (value.isna() | (value.str.strip() == "")).to_numpy(dtype=bool)
    if not blank.any():
        return missing
    qcol = missing["question"].to_numpy(dtype=object)
    for qu in q.questions:
        if qu.ask_if is None:
            continue
        sel = blank & (qcol == qu.id)
        if not sel.any():
            continue
        try:
            asked = q.evaluate_ask_if(qu.id, frame).to_numpy(dtype=bool)
        except QuestionnaireError:
            continue
        not_asked = frame["rid"].to_numpy(dtype=object)[~asked]
        sel &= missing["rid"].isin(not_asked).to_numpy()
        reason[sel] = "skipped"
    out = missing.copy()
    out["reason"] = pd.Series(reason, index=out.index, dtype="str")
    return out

def _resolve_duplicates(raw: RawTable, slots: list[Slot], unm: list[int]) -> list[int]:
    """Columns whose header repeats a mapped question column: an identical copy is ignored
    (logged); a copy with different answers is refused, naming the respondents."""
    first = {norm(raw.headers[s.col]): s for s in slots if s.role != "meta"}
    keep = []
    for j in unm:
        s = first.get(norm(raw.headers[j]))
        if s is None:
            keep.append(j)
            continue
        a, b = (np.array([None if _na_reason(v) else _text(v) for v in raw.cols[k]],
                         dtype=object) for k in (s.col, j))
        diff = np.flatnonzero(~((a == b) | (pd.isna(a) & pd.isna(b))))
        h = raw.headers[j]
        if len(diff):
            lines = _lines(raw)
            word = {"csv": "line", "wjx": "row"}.get(raw.kind, "case")
            ex = ", ".join(f"{word} {lines[i]}" for i in diff[:5])
            raise SchemaMismatchError(
                f"{raw.file}: columns {s.col + 1} and {j + 1} are both {h!r} (question "
                f"{s.qid!r}) but hold different answers for {len(diff)} respondent(s) ({ex}"
                f"{' …' if len(diff) > 5 else ''}); keep the right one, delete the other column "
                "and read again")
        raw.log.append({"rule": "duplicate_column", "question": s.qid, "column": h,
                        "action": "flag", "detail": f"column {j + 1} repeats column {s.col + 1} "
                        "with the same answers; the copy is ignored"})
    return keep


def _convert(qu: Question, ss: list[Slot], raw: RawTable, miss: _Missing, idx: pd.RangeIndex
             ) -> tuple[dict[str, pd.Series], int, int, list[str]]:
    """Decode one question's raw columns; returns (columns, rows missing, invalid cells, absent)."""
    n = len(idx)
    t = qu.type
    out: dict[str, pd.Series] = {}
    value = next((s for s in ss if s.role == "value"), None)
    other_s = next((s for s in ss if s.role == "other"), None)
    other_vals = np.full(n, None, dtype=object)
    if other_s is not None:
        c = _Col(raw.cols[other_s.col])
        s = np.array([None if (_na_reason(v) or _as_int(v) in (-3, -2, -1, 0)) else _text(v)
                      for v in c.uniq], dtype=object)
        other_vals = c.take(s, None)
    n_invalid = 0
    absent_cols: list[str] = []
    rows_missing = 0

    if t == "single":
        if value is None:
            return {}, n, 0, [qu.id]  # its column is not in the export: all unknown
        c = _Col(raw.cols[value.col])
        labels = qu.labels
        code, reason, inl = _decode_choice(c, qu, labels)
        _note_fullwidth_codes(miss, c, code, qu.id, qu.id)
        codes_order = list(labels)
        posmap = np.array([codes_order.index(k) if k >= 0 else -1 for k in code], dtype=np.int64)
        pos = c.take(posmap, -1)
        out[qu.id] = pd.Series(pd.Categorical.from_codes(pos, categories=list(labels.values())),
                               index=idx)
        miss.add_col(c, reason, qu.id, qu.id)
        rows_missing = int((pos < 0).sum())
        n_invalid = int((c.take(reason, None) == "invalid").sum())
        if qu.other is not None:
            inline = c.take(inl, None)
            other_vals = np.where(pd.isna(other_vals), inline, other_vals)
    elif t in ("multi", "rank"):
        opts = list(qu.options)
        opt_slots = {s.key: s for s in ss if s.role == "option"}
        if value is not None:  # one column: ┋-joined (multi) or →-joined (rank)
            c = _Col(raw.cols[value.col])
            mat_u, reason_u, other_u = _decode_set(c, qu, r"┋|→|\|" if t == "multi" else r"→|┋")
            answered_u = mat_u.any(axis=1)
            row = np.where(c.codes < 0, len(c.uniq), c.codes)
            mat = np.vstack([mat_u, np.zeros((1, len(opts)), dtype=np.int64)])[row]
            answered = np.append(answered_u, False)[row]
            r_all = c.take(reason_u, "blank")
            n_invalid = int((r_all == "invalid").sum())
            r_rows = np.where(answered & (r_all != "invalid"), None, r_all)
            if qu.other is not None:
                inline = c.take(other_u, None)
                other_vals = np.where(pd.isna(other_vals), inline, other_vals)
            vals_u = np.array([None if x is None else _text(x) for x in c.uniq] + [None], dtype=object)
            keep = np.flatnonzero(pd.notna(r_rows))
            miss.add(keep, qu.id, qu.id, r_rows[keep], vals_u[row][keep])
        else:
            mat = np.zeros((n, len(opts)), dtype=np.int64)
            answered = np.zeros(n, dtype=bool)
            reasons = []
            for j, code in enumerate(opts):
                s = opt_slots.get(code)
                if s is None:
                    absent_cols.append(f"{qu.id}_{code}")
                    continue
                c = _Col(raw.cols[s.col])
                v_u = np.zeros(len(c.uniq), dtype=np.int64)
                ok_u = np.zeros(len(c.uniq), dtype=bool)
                r_u = np.full(len(c.uniq), None, dtype=object)
                own = {norm(qu.options[code]): 1}
                # 腾讯问卷: the option's own label (maybe "A.经费") in its column = chosen
                is_label = np.array([t == "multi" and isinstance(u, str) and (
                    norm(u) in own or _lettered(norm(u), own) is not None) for u in c.uniq],
                    dtype=bool)
                for i, u in enumerate(c.uniq):
                    r = _na_reason(u)
                    if r:
                        r_u[i] = r
                        continue
                    k = 1 if is_label[i] else _as_int(u)
                    if k is None and isinstance(u, str) and code == qu.other:
                        m = _OTHER_INLINE.match(u.strip())
                        k = _as_int(m.group(1)) if m else 1  # free text in the option column
                        if k is None:
                            k = 1
                        u_text = m.group(2) if m else u
                        if u_text.strip():
                            r_u[i] = None
                    if k is None:
                        r_u[i] = "invalid"
                    elif k < 0:
                        r_u[i] = _NEG.get(k, "missing_code")
                        if k == -2:
                            ok_u[i] = True  # answered, this option not chosen
                    elif t == "multi" and k in (0, 1):
                        v_u[i], ok_u[i] = k, True
                    elif t == "rank" and 0 <= k <= len(opts):
                        v_u[i], ok_u[i] = k, True
                    else:
                        r_u[i] = "invalid"
                vals = c.take(v_u, 0)
                mat[:, j] = vals
                answered |= c.take(ok_u, False).astype(bool)
                rr = c.take(r_u, "blank")
                n_invalid += int((rr == "invalid").sum())
                reasons.append(np.where(rr == "not_chosen", None, rr))
                if code == qu.other:
                    txt = np.array([(_OTHER_INLINE.match(u.strip()).group(2).strip()
                                     if _OTHER_INLINE.match(u.strip()) else u.strip())
                                    if isinstance(u, str) and _as_int(u) is None and not _na_reason(u)
                                    and not lab else None
                                    for u, lab in zip(c.uniq, is_label)], dtype=object)
                    inline = c.take(txt, None)
                    other_vals = np.where(pd.isna(other_vals), inline, other_vals)
            r_rows = _row_reason(reasons) if reasons else np.full(n, "blank", dtype=object)
            r_rows = np.where(answered, None, r_rows)
            keep = np.flatnonzero(pd.notna(r_rows))
            miss.add(keep, qu.id, qu.id, r_rows[keep])
            # cells with invalid values in answered rows
        answered = answered | mat.any(axis=1)
        rows_missing = int((~answered).sum()) if not absent_cols else n
        for j, code in enumerate(opts):
            col = f"{qu.id}_{code}"
            unknown = ~answered | (col in absent_cols)  # a column not in the export is unknown
            if t == "multi":
                arr = pd.array(mat[:, j] > 0, dtype="boolean")
                arr[unknown] = pd.NA
            else:
                arr = pd.array(mat[:, j], dtype="Int64")
                arr[(mat[:, j] <= 0) | unknown] = pd.NA
            out[col] = pd.Series(arr, index=idx)
    elif t in ("matrix", "likert"):
        row_slots = {s.key: s for s in ss if s.role == "row"}
        labels = qu.labels
        any_missing = np.zeros(n, dtype=bool)
        for r in qu.rows:
            col = f"{qu.id}_{r}"
            s = row_slots.get(r)
            if s is None:
                absent_cols.append(col)
                out[col] = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=idx)
                any_missing[:] = True  # never report "0 missing" for an incomplete matrix
                continue
            c = _Col(raw.cols[s.col])
            code, reason, _ = _decode_choice(c, qu, labels)
            _note_fullwidth_codes(miss, c, code, qu.id, col)
            vals = c.take(code, -1)
            arr = pd.array(vals, dtype="Int64")
            arr[vals < 0] = pd.NA
            out[col] = pd.Series(arr, index=idx)
            miss.add_col(c, reason, qu.id, col)
            n_invalid += int((c.take(reason, None) == "invalid").sum())
            any_missing |= vals < 0
        rows_missing = int(any_missing.sum())
    else:
        if value is None:
            return {}, n, 0, [qu.id]  # its column is not in the export: all unknown
        c = _Col(raw.cols[value.col])
        nu = len(c.uniq)
        reason = np.full(nu, None, dtype=object)
        if t in ("numeric", "date", "duration"):
            # full-width digits are read as their ASCII digits, and each such cell is logged
            fw = np.array([_fullwidth(u) for u in c.uniq] or [None], dtype=object)[:nu]
            miss.note(c, pd.notna(fw), qu.id, qu.id, "fullwidth", "flag",
                      "full-width characters normalised (NFKC) before parsing", new_u=fw)
            nonfin = np.array([_non_finite(u) for u in c.uniq], dtype=bool)
            miss.note(c, nonfin, qu.id, qu.id, "non_finite", "blank",
                      "not a finite number; set to NA (reason invalid)")
        if t == "numeric":
            v = np.full(nu, np.nan)
            lo = qu.range[0] if qu.range else 0.0
            not_int = np.zeros(nu, dtype=bool)
            for i, u in enumerate(c.uniq):
                r = _na_reason(u)
                if r:
                    reason[i] = r
                    continue
                f = _as_float(u)
                if f is None:
                    reason[i] = "invalid"
                elif qu.integer and not float(f).is_integer():
                    reason[i] = "invalid"
                    not_int[i] = True
                elif f < 0 and lo >= 0 and float(f).is_integer() and int(f) in _NEG:
                    reason[i] = _NEG[int(f)]
                else:
                    v[i] = f
                    if float(f).is_integer() and int(f) in qu.missing:
                        reason[i] = _missing_reason(qu.missing[int(f)])
            miss.note(c, not_int, qu.id, qu.id, "not_integer", "blank",
                      "the question asks for a whole number; set to NA (reason invalid)")
            vals = c.take(v, np.nan)
            out[qu.id] = pd.Series(vals, index=idx, dtype="float64")
        elif t == "duration":
            v = np.full(nu, np.nan)
            for i, u in enumerate(c.uniq):
                r = _na_reason(u)
                if r:
                    reason[i] = r
                    continue
                f = parse_duration(u)
                if f is None:
                    reason[i] = "invalid"
                elif f < 0:
                    reason[i] = _NEG.get(int(f), "invalid") if float(f).is_integer() else "invalid"
                else:
                    v[i] = f
            vals = c.take(v, np.nan)
            out[qu.id] = pd.Series(vals, index=idx, dtype="float64")
        elif t == "date":
            v = np.full(nu, np.datetime64("NaT"), dtype="datetime64[ns]")
            for i, u in enumerate(c.uniq):
                r = _na_reason(u)
                if r:
                    reason[i] = r
                    continue
                k = _as_int(u)
                if k is not None and k < 0:
                    reason[i] = _NEG.get(k, "missing_code")
                    continue
                ts = _to_timestamp(u)
                if ts is None:
                    reason[i] = "invalid"
                else:
                    v[i] = ts
            vals = c.take(v, np.datetime64("NaT"))
            out[qu.id] = pd.Series(vals, index=idx, dtype="datetime64[ns]")
        else:  # text
            v = np.full(nu, None, dtype=object)
            mangled = 0
            for i, u in enumerate(c.uniq):
                r = _na_reason(u)
                if r:
                    reason[i] = r
                    continue
                v[i] = _text(u)
                if not v[i]:
                    v[i], reason[i] = None, "blank"
                elif (isinstance(u, (float, np.floating)) and abs(u) >= 1e15) or (
                        isinstance(u, str) and _EXCEL_E.match(u.strip())):
                    mangled += 1
            if mangled:
                warnings.warn(f"{raw.file}: question {qu.id!r} holds {mangled} long number(s) that "
                              "Excel has rounded or put in scientific notation (ID/phone numbers?); "
                              "the digits are lost — export that column as text",
                              ReadWarning, stacklevel=4)
            vals = c.take(v, None)
            out[qu.id] = _str_series(vals, idx)
        miss.add_col(c, reason, qu.id, qu.id)
        rr = c.take(reason, "blank")
        n_invalid = int((rr == "invalid").sum())
        rows_missing = int(pd.isna(out[qu.id]).sum())
    if qu.other is not None:
        out[f"{qu.id}_other"] = _str_series(other_vals, idx)
    return out, rows_missing, n_invalid, absent_cols
