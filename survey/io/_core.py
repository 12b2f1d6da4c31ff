"""The readers' shared types: :class:`RawTable` (what a format reader hands over),
:class:`ReadReport` / :class:`ReadResult` (what :func:`survey.io.read_export` returns), the
column lists of the missing frame and the reader's log, and header normalisation.

The flow of a read (each step its own module of :mod:`survey.io`):

1. a format reader (``wjx``, ``csvio``, ``spss``) turns the file into a :class:`RawTable`;
2. :mod:`~survey.io.headers` maps the export headers to questions (:class:`Slot` per column);
3. :mod:`~survey.io.decode` decodes each question's columns with the decoder registered for
   its question type (cell primitives in :mod:`survey.io._cells`, reasons in
   :mod:`survey.io.missing`);
4. :mod:`~survey.io.build` assembles the analysis frame, separates PII and runs the checks.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RawTable", "ReadReport", "ReadResult", "Slot", "norm", "log_frame",
           "TENCENT_META", "PII_META", "MISSING_COLUMNS", "READ_LOG_COLUMNS"]

MISSING_COLUMNS = ["rid", "question", "column", "reason", "value"]
# the reader's decisions, in the columns of the cleaning log (clean() carries them over)
READ_LOG_COLUMNS = ["rid", "rule", "question", "column", "old_value", "new_value", "action",
                    "detail"]

TENCENT_META = {"开始答题时间", "结束答题时间", "答题时长", "started_at", "ended_at"}
PII_META = {"source_detail": "source_detail", "ip": "ip", "ua": "other", "user_id": "other",
            "nickname": "other", "referrer": "other"}

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
        ``not_applicable``, ``missing_code``, ``invalid`` (the vocabulary, with Chinese labels,
        is :mod:`survey.io.missing`).
    log : DataFrame
        The reader's decisions, in the cleaning log's columns (``rid, rule, question, column,
        old_value, new_value, action, detail``): ``blank_row`` (drop; ``rid`` empty, the line
        in ``detail``), ``short_row`` / ``long_row`` (flag), ``fullwidth`` (flag: full-width
        digits normalised), ``non_finite`` / ``not_integer`` (blank), ``absent_column`` /
        ``duplicate_column`` / ``metadata_name`` (flag: a platform metadata column named like
        a question; the question's own column is read as the answer).  :func:`survey.clean` carries them into its log.
    """

    data: pd.DataFrame
    report: ReadReport
    pii: pd.DataFrame
    missing: pd.DataFrame
    log: pd.DataFrame = field(default_factory=lambda: log_frame([]))

    def __repr__(self) -> str:
        return (f"<ReadResult {self.report.file}: {self.data.shape[0]} respondents × "
                f"{self.data.shape[1]} columns; {len(self.report.unmapped)} unmapped, "
                f"{len(self.report.absent)} absent; {self.pii.shape[1] - 1} PII columns>")


# ---------------------------------------------------------------------------------------------
# header matching


@dataclass
class Slot:
    """One export column mapped to a question (or to a metadata field)."""

    col: int
    qid: str
    role: str          # value | option | row | other | meta
    key: Any = None    # option code / row id / meta name


def log_frame(entries: list[dict]) -> pd.DataFrame:
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
