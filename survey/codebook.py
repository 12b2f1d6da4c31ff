"""Draft a ``questionnaire.yml`` from a raw export (问卷星 Excel, SPSS/Stata, CSV).

Writing the codebook of a 60-question survey by hand is the analyst's biggest cost.
:func:`draft_codebook` reads an export and writes a draft that loads with
:meth:`Questionnaire.load <survey.questionnaire.Questionnaire.load>` as it is; every place where
it had to guess carries a ``# TODO:`` comment saying what to check.

Inputs, best first:

* the 问卷星 pair ``按序号`` (codes) + ``按文本`` (labels) of the same answers
  (``draft_codebook(code_export, text_export=text_export)``): single-choice and matrix codes
  come with their labels; rows are aligned by ``序号`` (or by position);
* an SPSS ``.sav``/``.zsav`` or Stata ``.dta`` with variable and value labels (user-missing codes
  become ``missing_codes``; variable names such as ``q12_3``/``sat_r2`` give ids, option codes
  and row ids);
* one 问卷星 export alone (``按序号``: labels of single/matrix codes are unknown; ``按文本``:
  codes are unknown) — the draft says so on each question.

Inference rules (general; nothing here knows a particular questionnaire):

* headers: ``N、题干`` starts question N; ``N、题干(选项1)`` + ``N(选项k)`` (or ``第N题(选项)``)
  is a multi-select/ranking block; ``N、题干—行1`` followed by bare row labels or by
  ``N、行k`` is a matrix; ``N、(其他（请补充）:)`` (or a label with 其他…请注明) holding text is
  the "please specify" column; 序号/提交答卷时间/所用时间/来源/来源详情/来自IP/总分 (and the
  腾讯问卷 names) are metadata;
* values: option blocks of 0/1 are multi-select, blocks holding ``-2`` or ranks 1..k are
  rankings; a column whose 按文本 cells are labels where 按序号 holds codes is single choice;
  numbers that stay numbers in both are numeric; dates are dates; ``X分Y秒`` (or a
  "多长时间" question) is a duration; other strings are free text;
* scales: a matrix whose scale labels are graded (非常不满意…非常满意, 从不…总是, 同意, 符合 …)
  is ``likert``, otherwise ``matrix``; rows must share one scale;
* missing codes: SPSS user-missing values; codes labelled 不知道/拒答/不适用/说不清 that lie
  apart from the answer codes (≥ 90, negative, or after a gap); ``-2``/``-3``/``(跳过)``/``(空)``
  are 问卷星's own markers and never options;
* PII: headers naming 姓名, 电话/手机, 身份证, 邮箱, IP, 地址 (or values that are mostly phone
  numbers / e-mails / ID numbers) give ``pii: true`` with ``pii_kind``.

:func:`agreement` compares a draft with a finished questionnaire (type, options and PII flag of
every question) — use it to see how far the draft of a new wave is from last wave's codebook.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> p = pathlib.Path(tempfile.mkdtemp()) / "1_按序号_测试_3_3.xlsx"
>>> wb = openpyxl.Workbook(); ws = wb.active
>>> ws.append(["序号", "1、您的性别", "2、您的手机号码"])
>>> for r in [[1, 1, "13800000001"], [2, 2, None], [3, 1, "13800000003"]]:
...     ws.append(r)
>>> wb.save(p)
>>> d = draft_codebook(p)
>>> [(q.id, q.type, q.pii_kind) for q in d.questions]
[('q1', 'single', None), ('q2', 'text', 'phone')]
>>> "TODO" in d.text
True
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import ReadError
from .questionnaire import Questionnaire

__all__ = ["draft_codebook", "CodebookDraft", "DraftQuestion", "agreement", "find_text_export"]

# ---------------------------------------------------------------------------------------------
# vocabularies
# ---------------------------------------------------------------------------------------------
_NUM_HDR = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
_OLD_HDR = re.compile(r"^\s*第\s*(\d+)\s*题\s*(.*)$", re.S)
_CONT_HDR = re.compile(r"^\s*(\d+)\s*[(（](.*)[)）]\s*$", re.S)
_MANGLED = re.compile(r"^(.*)\.(\d+)$", re.S)   # pandas/Excel de-duplicated header "label.1"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DUR_RE = re.compile(r"^(?:\d+(?:\.\d+)?天)?(?:\d+(?:\.\d+)?(?:小时|时))?(?:\d+(?:\.\d+)?(?:分钟|分))?"
                     r"(?:\d+(?:\.\d+)?(?:秒钟|秒))?$")
_INLINE_OTHER = re.compile(r"^(.*?)〖.*〗\s*$", re.S)
_SKIP = {"(跳过)", "跳过", "(跳過)"}
_BLANK = {"", "(空)", "空", "nan", "NaN", "None", "<NA>", "NaT"}
_SKIP_N = {"(跳过)", "跳过", "(跳過)"}   # NFKC/whitespace-normalised forms of _SKIP
_WJX_MARKERS = {-2: "未选中（排序/多选）", -3: "跳过（逻辑跳转）"}
MISSING_LABELS = ("不知道", "拒答", "拒绝回答", "不适用", "说不清", "不清楚", "无法回答", "不愿回答")
_DEFAULT_MISSING = {98: "不知道", 99: "拒答"}
_OTHER_WORD = re.compile(r"其他|其它")
_OTHER_TEXT_HDR = re.compile(r"请补充|请注明|请说明|请填写|[:：]\s*[)）]?\s*$")
_NONE_OPTION = re.compile(r"^(以上)?(都|均|全)(不|没)|^都没有|^以上皆非|^无$|^没有$")
# graded (ordered) scale wording -> likert
_GRADED = re.compile(r"非常|比较|较为|很|较|不太|一般|完全|基本|有点|极其|十分|从不|从未|很少|偶尔|有时|经常|"
                     r"总是|几乎|同意|满意|符合|重要|赞成|愿意|认同|频繁|可能")
_NUMERIC_WORDING = re.compile(r"多少|几[项个次天年人篇岁小时]|比例|百分|[(（]\s*%\s*[)）]|多大")
_DURATION_WORDING = re.compile(r"多长时间|多久|时长|耗时")
_UNITS = [(re.compile(r"[(（]\s*%\s*[)）]|百分比|比例"), "%"), (re.compile(r"多少小时|几小时|小时数"), "小时"),
          (re.compile(r"多少分钟"), "分钟"), (re.compile(r"多少天|几天|天数"), "天"),
          (re.compile(r"几项|多少项"), "项"), (re.compile(r"多少次|几次"), "次"),
          (re.compile(r"多少岁|几岁"), "岁"), (re.compile(r"多少篇|几篇"), "篇"),
          (re.compile(r"多少万元"), "万元"), (re.compile(r"多少元"), "元"), (re.compile(r"几个|多少个"), "个"),
          (re.compile(r"多少人|几人"), "人")]
_SENSITIVE = [(re.compile(r"健康|睡眠|心理|抑郁|焦虑|疾病|失眠"), "health")]
# (kind, header pattern): the first that matches names the PII kind
_PII_WORDS = [
    ("name", re.compile(r"姓名|名字|真实姓名")),
    ("id_number", re.compile(r"身份证|证件号")),
    ("phone", re.compile(r"手机|电话|联系方式|微信号")),
    ("email", re.compile(r"邮箱|e-?mail|电子邮件", re.I)),
    ("ip", re.compile(r"(?<![A-Za-z])IP(?![A-Za-z])|IP地址")),
    ("source_detail", re.compile(r"^来源详情$")),
    ("other", re.compile(r"地址|住址|QQ号?|工号|学号")),
]
_PII_VALUES = {
    "phone": re.compile(r"^(?:\+?86[-\s]?)?1[3-9]\d{9}(?:\.0)?$"),
    "id_number": re.compile(r"^[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx]$"),
    "email": re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$"),
    "ip": re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$"),
}
_RESERVED = {"rid", "submitted_at", "duration_s", "source", "ip_hash", "phone_hash"}


def _norm(s: Any) -> str:
    s = unicodedata.normalize("NFKC", "" if s is None else str(s))
    s = re.sub(r"<[^<>]{0,200}>", "", s)
    return re.sub(r"\s+", "", s)


def _clean(s: Any) -> str:
    """One-line text for the YAML: rich-text tags (问卷星 keeps <br>, <span …>) and line breaks
    removed; the reader matches headers with tags and whitespace ignored, so matching is kept."""
    s = re.sub(r"<[^<>]{0,200}>", "", "" if s is None else str(s))
    return re.sub(r"\s+", " ", s).strip()


def _meta_names() -> dict[str, str]:
    from .io._core import META_HEADERS
    return {_norm(k): v for k, v in META_HEADERS.items()}


# ---------------------------------------------------------------------------------------------
# the structured result
# ---------------------------------------------------------------------------------------------
@dataclass
class DraftQuestion:
    """One drafted question: the fields of ``questionnaire.yml`` plus what was guessed.

    ``todo`` lists the reasons (Chinese, as written into the YAML) where the draft guessed;
    ``columns`` the export headers the question was built from; ``hints`` plain comments.

    Examples
    --------
    >>> DraftQuestion(id="q1", text="您的性别", type="single", options={1: "男", 2: "女"}).to_dict()
    {'id': 'q1', 'type': 'single', 'text': '您的性别', 'options': {1: '男', 2: '女'}}
    """

    id: str
    text: str
    type: str
    number: int | None = None
    options: dict[int, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)
    scale: dict[int, str] = field(default_factory=dict)
    other: int | None = None
    k: int | None = None
    max_choices: int | None = None
    exclusive: list[int] = field(default_factory=list)
    missing_codes: dict[int, str] | None = None      # None: the wave's default applies
    unit: str | None = None
    integer: bool | None = None
    pii: bool = False
    pii_kind: str | None = None
    sensitive: str | None = None
    ask_if: str | None = None
    source: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The question as the mapping ``Questionnaire.from_dict`` takes."""
        d: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text}
        if self.type in ("single", "multi", "rank"):
            d["options"] = dict(self.options)
            if self.other is not None:
                d["other"] = self.other
        if self.type == "multi" and self.max_choices is not None:
            d["max_choices"] = self.max_choices
        if self.type == "multi" and self.exclusive:
            d["exclusive"] = list(self.exclusive)
        if self.type == "rank" and self.k is not None:
            d["k"] = self.k
        if self.type in ("matrix", "likert"):
            d["rows"] = dict(self.rows)
            d["scale"] = dict(self.scale)
        if self.type == "numeric":
            if self.unit:
                d["unit"] = self.unit
            if self.integer is not None:
                d["integer"] = self.integer
        if self.type in ("single", "matrix", "likert", "numeric") and self.missing_codes is not None:
            d["missing_codes"] = dict(self.missing_codes)
        if self.pii:
            d["pii"] = True
            d["pii_kind"] = self.pii_kind or "other"
        if self.sensitive:
            d["sensitive"] = self.sensitive
        if self.ask_if:
            d["ask_if"] = self.ask_if
        if self.source:
            d["source"] = list(self.source)
        return d


@dataclass
class CodebookDraft:
    """The result of :func:`draft_codebook`.

    Attributes
    ----------
    text : str
        The YAML (with ``# TODO:`` comments) to save as ``questionnaire.yml``.
    questions : list of DraftQuestion
    wave, design : dict
        The ``wave:`` and ``design:`` blocks.
    missing_codes : dict
        The wave-level default missing codes.
    meta : dict
        Metadata columns found (header -> internal name, e.g. ``来自IP -> ip``).
    files : list of str
        The export(s) read.

    Examples
    --------
    >>> d = CodebookDraft(text="", questions=[DraftQuestion(id="q1", text="年龄", type="numeric")],
    ...                   wave={"id": "w"})
    >>> d.questionnaire()["q1"].type
    'numeric'
    """

    text: str
    questions: list[DraftQuestion]
    wave: dict[str, Any]
    design: dict[str, Any] = field(default_factory=dict)
    missing_codes: dict[int, str] = field(default_factory=lambda: dict(_DEFAULT_MISSING))
    meta: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The draft as the mapping ``Questionnaire.from_dict`` takes (comments dropped)."""
        d: dict[str, Any] = {"wave": dict(self.wave)}
        if self.design:
            d["design"] = dict(self.design)
        d["missing_codes"] = dict(self.missing_codes)
        d["questions"] = [q.to_dict() for q in self.questions]
        return d

    def questionnaire(self) -> Questionnaire:
        """The draft as a validated :class:`Questionnaire`."""
        return Questionnaire.from_dict(self.to_dict())

    @property
    def todo(self) -> pd.DataFrame:
        """One row per TODO: ``question, reason``."""
        return pd.DataFrame([{"question": q.id, "reason": r} for q in self.questions for r in q.todo],
                            columns=["question", "reason"])

    def write(self, path: str | Path) -> Path:
        """Write :attr:`text` to ``path`` (a file, or a folder -> ``folder/questionnaire.yml``)."""
        p = Path(path)
        if p.is_dir():
            p = p / "questionnaire.yml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.text, encoding="utf-8")
        return p

    def __repr__(self) -> str:
        types: dict[str, int] = {}
        for q in self.questions:
            types[q.type] = types.get(q.type, 0) + 1
        n_todo = sum(1 for q in self.questions if q.todo)
        return (f"<CodebookDraft {len(self.questions)} questions "
                f"({', '.join(f'{n} {t}' for t, n in types.items())}); "
                f"{sum(q.pii for q in self.questions)} PII; {n_todo} with TODO>")


# ---------------------------------------------------------------------------------------------
# reading: a uniform column table
# ---------------------------------------------------------------------------------------------
@dataclass
class _Table:
    headers: list[str]
    cols: list[np.ndarray]
    file: str
    kind: str                                   # wjx | sav | csv
    layout: str = "unknown"                     # code | text | unknown
    names: list[str] | None = None              # SPSS variable names
    value_labels: list[dict[int, str] | None] | None = None
    user_missing: list[list[float]] | None = None
    is_date: list[bool] | None = None


def _read(path: Path) -> _Table:
    if not path.exists():
        raise ReadError(f"{path}: file not found; pass the raw export (问卷星 .xlsx, .sav, .dta, .csv)")
    ext = path.suffix.lower()
    if ext in (".xlsx", ".xlsm"):
        from .io.wjx import layout_from_name, read_wjx_raw
        raw = read_wjx_raw(path)
        return _Table(raw.headers, raw.cols, str(path), "wjx", layout_from_name(path))
    if ext == ".csv":
        from .io.csvio import read_csv_raw
        raw = read_csv_raw(path)
        from .io.wjx import layout_from_name
        return _Table(raw.headers, raw.cols, str(path), "csv", layout_from_name(path))
    if ext in (".sav", ".zsav", ".dta"):
        return _read_stat(path)
    raise ReadError(f"{path}: unknown file type {ext!r}; draft from a 问卷星 .xlsx/.csv export or "
                    "an SPSS .sav/.zsav / Stata .dta file")


def _read_stat(path: Path) -> _Table:
    import pyreadstat
    reader = pyreadstat.read_dta if path.suffix.lower() == ".dta" else pyreadstat.read_sav
    df = meta = None
    last: Exception | None = None
    for enc in (None, "GB18030"):
        try:
            df, meta = reader(str(path), user_missing=True, apply_value_formats=False, encoding=enc)
            break
        except Exception as e:  # pyreadstat's own error classes
            last = e
    if df is None:
        raise ReadError(f"{path}: pyreadstat cannot read this file ({last}); re-export it from "
                        "问卷星/SPSS, or draft from the Excel 按序号 + 按文本 exports instead")
    names = [str(c) for c in df.columns]
    labels = list(meta.column_labels or [None] * len(names))
    headers = [str(lab).strip() if lab else n for n, lab in zip(names, labels)]
    vl = meta.variable_value_labels or {}
    miss_r = getattr(meta, "missing_ranges", None) or {}
    miss_u = getattr(meta, "missing_user_values", None) or {}
    vlabels, umiss, is_date, cols = [], [], [], []
    for n in names:
        lab = vl.get(n)
        vlabels.append({int(k): str(v) for k, v in lab.items()
                        if isinstance(k, (int, float)) and float(k).is_integer()} if lab else None)
        um: list[float] = []
        for r in miss_r.get(n, []) or []:
            lo, hi = r.get("lo"), r.get("hi")
            if isinstance(lo, (int, float)) and lo == hi:
                um.append(float(lo))
            elif isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi - lo <= 20:
                um.extend(float(x) for x in range(int(lo), int(hi) + 1))
        um.extend(float(x) for x in miss_u.get(n, []) or [] if isinstance(x, (int, float)))
        umiss.append(sorted(set(um)))
        s = df[n]
        is_date.append(bool(pd.api.types.is_datetime64_any_dtype(s.dtype)))
        cols.append(s.astype(object).where(s.notna(), None).to_numpy(dtype=object))
    return _Table(headers, cols, str(path), "sav", "code", names=names, value_labels=vlabels,
                  user_missing=umiss, is_date=is_date)


# ---------------------------------------------------------------------------------------------
# header grouping
# ---------------------------------------------------------------------------------------------
@dataclass
class _Part:
    col: int
    role: str            # value | option | row | other
    label: str = ""      # option / row label
    name: str | None = None   # SPSS variable name


@dataclass
class _Group:
    number: int | None
    text: str
    kind: str            # plain | options | matrix
    parts: list[_Part] = field(default_factory=list)
    header: str = ""


def _split_paren(rest: str) -> tuple[str, str] | None:
    """``'题干(选项(a))'`` -> ``('题干', '选项(a)')``: the last balanced ASCII/全角 group."""
    rest = rest.rstrip()
    if not rest.endswith((")", "）")):
        return None
    depth = 0
    for i in range(len(rest) - 1, -1, -1):
        ch = rest[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（":
            depth -= 1
            if depth == 0:
                return rest[:i], rest[i + 1:-1]
    return None


def _split_dash(rest: str) -> tuple[str, str] | None:
    m = re.match(r"^(.*?[^—])—(?!—)(.+)$", rest, re.S)
    if m and m.group(1).strip() and m.group(2).strip():
        return m.group(1), m.group(2)
    return None


def _is_other_text_label(s: str) -> bool:
    return bool(_OTHER_WORD.search(s)) and bool(_OTHER_TEXT_HDR.search(s) or s.strip().startswith(("(", "（")))


def _group_headers(t: _Table) -> tuple[list[_Group], dict[int, str]]:
    meta_names = _meta_names()
    groups: list[_Group] = []
    meta: dict[int, str] = {}
    cur: _Group | None = None
    headers = t.headers
    nh = len(headers)

    def peek_same(j: int, n: int) -> bool:
        if j + 1 >= nh:
            return False
        h = headers[j + 1]
        m = _NUM_HDR.match(h) or _OLD_HDR.match(h) or _CONT_HDR.match(h)
        return bool(m) and int(m.group(1)) == n

    for j, h in enumerate(headers):
        h = "" if h is None else str(h).strip()
        name = t.names[j] if t.names else None
        hn = _norm(h)
        if hn in meta_names or (name and _norm(name) in meta_names and not _NUM_HDR.match(h)):
            meta[j] = meta_names.get(hn) or meta_names[_norm(name)]
            cur = None
            continue
        m = _NUM_HDR.match(h) or _OLD_HDR.match(h)
        mc = _CONT_HDR.match(h) if not m else None
        if mc and cur is not None and cur.number == int(mc.group(1)):
            lab = mc.group(2)
            if cur.kind == "plain":
                cur.kind = "options"
            cur.parts.append(_Part(j, "option", lab, name))
            continue
        if m:
            n, rest = int(m.group(1)), m.group(2).strip()
            if cur is not None and cur.number == n:
                # a further column of question n: option, matrix row or "please specify"
                suffix = rest[len(cur.text):] if cur.text and rest.startswith(cur.text) else rest
                suffix = suffix.strip()
                par = _split_paren(suffix) if suffix.startswith(("(", "（")) else None
                # in an option block every "(label)" is an option column; one holding text
                # instead of 0/1 is the "please specify" column (decided from the values)
                if _is_other_text_label(suffix) and not (cur.kind == "options" and par):
                    cur.parts.append(_Part(j, "other", suffix, name))
                elif suffix.startswith("—") and len(suffix) > 1:
                    cur.kind = "matrix"
                    cur.parts.append(_Part(j, "row", suffix[1:].strip(), name))
                elif par is not None and par[0] == "" and cur.kind in ("options", "plain"):
                    cur.kind = "options"
                    cur.parts.append(_Part(j, "option", par[1], name))
                elif cur.kind == "matrix":
                    cur.parts.append(_Part(j, "row", suffix, name))
                else:
                    cur.parts.append(_Part(j, "other", suffix, name))
                continue
            # a new question
            par = _split_paren(rest)
            dash = _split_dash(rest)
            same_next = peek_same(j, n)
            if par is not None and par[0].strip() and same_next and not dash:
                cur = _Group(n, par[0].strip(), "options", [_Part(j, "option", par[1], name)], h)
            elif par is not None and not par[0].strip() and same_next:
                # older exports: 第N题(选项) on every option column, without the question text
                cur = _Group(n, f"第{n}题", "options", [_Part(j, "option", par[1], name)], h)
            elif dash is not None:
                cur = _Group(n, dash[0].strip(), "matrix", [_Part(j, "row", dash[1].strip(), name)], h)
            else:
                cur = _Group(n, rest, "plain", [_Part(j, "value", "", name)], h)
            groups.append(cur)
            continue
        if cur is not None and cur.kind == "matrix" and h:
            mm = _MANGLED.match(h)
            lab = mm.group(1) if mm and mm.group(1) in {p.label for p in cur.parts} else h
            cur.parts.append(_Part(j, "row", lab, name))
            continue
        # a column without 问卷星 numbering: its own question (SPSS names, hand-made CSVs)
        cur = _Group(None, h or (name or f"列{j + 1}"), "plain", [_Part(j, "value", "", name)], h)
        groups.append(cur)
        cur = None
    # a "matrix" of one row whose header merely contains a dash is a plain question
    for g in groups:
        if g.kind == "matrix" and len([p for p in g.parts if p.role == "row"]) == 1 and g.number is not None:
            g.kind = "plain"
            first = g.parts[0]
            g.text = _NUM_HDR.match(g.header).group(2).strip() if _NUM_HDR.match(g.header) else g.header
            first.role, first.label = "value", ""
    return groups, meta


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


def _values(arr: np.ndarray, is_date: bool = False) -> _Vals:
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
            if s in _BLANK:
                blank += c
            elif _norm(s) in _SKIP_N:
                skip += c
            elif _NUM_RE.match(s):
                nums[float(s)] = nums.get(float(s), 0) + c
            elif _DATE_RE.match(s):
                dates += c
            else:
                strs[s] = strs.get(s, 0) + c
    return _Vals(len(arr), blank, skip, nums, strs, dates)


def _is_int(x: float) -> bool:
    return float(x).is_integer()


def _label_of(v: Any) -> str | None:
    """A 按文本 cell as an option label (inline 〖other text〗 stripped), None for NA markers."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    if s in _BLANK or _norm(s) in _SKIP_N:
        return None
    m = _INLINE_OTHER.match(s)
    return (m.group(1).strip() if m else s) or None


def _num(v: Any) -> float | None:
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return f if np.isfinite(f) else None
    if isinstance(v, str) and _NUM_RE.match(v.strip()):
        return float(v.strip())
    return None


def _numcol(arr: np.ndarray) -> np.ndarray:
    """Numbers of a column as float (NaN for blanks, markers and text)."""
    return pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=float)


def _pair_map(codes: np.ndarray, texts: np.ndarray) -> dict[int, set[str]]:
    """Code -> set of labels seen in the aligned 按文本 column."""
    df = pd.DataFrame({"c": pd.Series(codes, dtype=object).astype(str),
                       "t": pd.Series(texts, dtype=object).astype(str)}).drop_duplicates()
    out: dict[int, set[str]] = {}
    for c, t in zip(df["c"], df["t"]):
        f = _num(c)
        lab = _label_of(t)
        if f is None or lab is None or not _is_int(f):
            continue
        out.setdefault(int(f), set()).add(lab)
    return out


_MISSING_N = {_norm(x) for x in MISSING_LABELS}


def _is_missing_label(lab: str) -> bool:
    return _norm(lab) in _MISSING_N


def _split_missing(labels: dict[int, str]) -> tuple[dict[int, str], dict[int, str]]:
    """Separate missing codes (不知道/拒答 … lying apart from the answer codes) from options."""
    regular = {c: l for c, l in labels.items() if not _is_missing_label(l)}
    top = max(regular) if regular else 0
    miss = {c: l for c, l in labels.items() if _is_missing_label(l)
            and (c < 0 or c >= 90 or c > top + 1)}
    return {c: l for c, l in labels.items() if c not in miss}, miss


def _unit(text: str) -> str | None:
    for rx, u in _UNITS:
        if rx.search(text):
            return u
    return None


def _pii_kind(text: str) -> str | None:
    for kind, rx in _PII_WORDS:
        if rx.search(text):
            return kind
    return None


def _pii_by_values(v: _Vals) -> str | None:
    vals = list(v.strs.items()) + [(str(int(x)) if _is_int(x) else str(x), c) for x, c in v.nums.items()]
    tot = sum(c for _, c in vals)
    if tot < 5:
        return None
    for kind, rx in _PII_VALUES.items():
        hit = sum(c for s, c in vals if rx.match(s.strip()))
        if hit >= 0.8 * tot:
            return kind
    return None


def _graded(labels: list[str]) -> bool:
    """Whether scale labels are ordered grades (likert) rather than unordered categories."""
    if len(labels) < 3:
        return False
    hits = sum(bool(_GRADED.search(lab)) for lab in labels)
    ends = bool(_GRADED.search(labels[0])) and bool(_GRADED.search(labels[-1]))
    return ends and hits >= len(labels) - 1


def _gaps(codes: list[int]) -> list[int]:
    cs = sorted(c for c in codes if c >= 0)
    if len(cs) < 2 or cs[-1] - cs[0] > 200:
        return []
    return [c for c in range(cs[0], cs[-1] + 1) if c not in set(cs)]


# ---------------------------------------------------------------------------------------------
# building questions
# ---------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, t: _Table, text: _Table | None, rows_code: np.ndarray | None,
                 rows_text: np.ndarray | None) -> None:
        self.t = t
        self.tx = text
        self.rc = rows_code     # aligned row indices into t / tx
        self.rt = rows_text
        self.text_groups: dict[Any, _Group] = {}
        if text is not None:
            tg, _ = _group_headers(text)
            for g in tg:
                self.text_groups[g.number if g.number is not None else _norm(g.text)] = g
        self.single_other_codes: list[int] = []

    # --- column access --------------------------------------------------------------------
    def col(self, j: int) -> np.ndarray:
        c = self.t.cols[j]
        return c if self.rc is None else c[self.rc]

    def tcol(self, j: int) -> np.ndarray:
        assert self.tx is not None
        c = self.tx.cols[j]
        return c if self.rt is None else c[self.rt]

    def text_group(self, g: _Group) -> _Group | None:
        if not self.text_groups:
            return None
        return self.text_groups.get(g.number if g.number is not None else _norm(g.text))

    def vlabels(self, j: int) -> dict[int, str] | None:
        return self.t.value_labels[j] if self.t.value_labels else None

    def umissing(self, j: int) -> list[float]:
        return self.t.user_missing[j] if self.t.user_missing else []

    # --- per group --------------------------------------------------------------------------
    def build(self, g: _Group, qid: str) -> DraftQuestion:
        q = DraftQuestion(id=qid, text=_clean(g.text) or qid, type="text", number=g.number)
        q.columns = [self.t.headers[p.col] for p in g.parts]
        if g.kind == "options":
            self._options(g, q)
            if q.text == f"第{g.number}题":
                q.todo.append("导出的列名只有“第N题(选项)”，没有题干；请填写 text（并在 source: 写明列名）")
        elif g.kind == "matrix":
            self._matrix(g, q)
        else:
            self._plain(g, q)
        self._pii(g, q)
        for rx, kind in _SENSITIVE:
            if rx.search(q.text) and not q.pii:
                q.sensitive = kind
                q.todo.append(f"题干提到健康等敏感信息，猜测 sensitive: {kind}；不是则删去")
        return q

    def _other_part(self, g: _Group) -> _Part | None:
        return next((p for p in g.parts if p.role == "other"), None)

    def _plain(self, g: _Group, q: DraftQuestion) -> None:
        p = g.parts[0]
        j = p.col
        t = self.t
        is_date = bool(t.is_date[j]) if t.is_date else False
        v = _values(self.col(j), is_date)
        vl = self.vlabels(j)
        um = self.umissing(j)
        tg = self.text_group(g)
        # source: the SPSS variable name, or the exact 问卷星 header — except when a
        # "please specify" column follows: the reader finds that one through the question
        # number, which only text matching (not an explicit source) records
        if t.kind == "sav" and p.name:
            q.source = [p.name]
        elif self._other_part(g) is None:
            q.source = [t.headers[j]]
        pii_word = _pii_kind(q.text)
        answered = v.answered
        if answered and v.dates >= 0.9 * answered:
            q.type = "date"
            return
        if vl:  # SPSS value labels: a single-choice question
            labels = {c: l for c, l in vl.items()}
            miss = {c: labels[c] for c in labels if float(c) in um}
            opts = {c: l for c, l in labels.items() if c not in miss}
            opts, miss2 = _split_missing(opts) if not um else (opts, {})
            miss.update(miss2)
            self._single(q, g, opts, miss, sav=True, seen=[int(x) for x in v.nums if _is_int(x)])
            return
        if v.strs:
            n_str = sum(v.strs.values())
            if all(_DUR_RE.match(s) and s for s in v.strs) and n_str >= 0.9 * answered:
                q.type = "duration"
                return
            if t.layout == "text" or (t.kind == "csv" and self.tx is None and not v.nums):
                # 按文本 alone: labels or free text?
                n_str = sum(v.strs.values())
                if (pii_word or len(v.strs) > 30 or np.mean([len(s) for s in v.strs]) > 25
                        or (n_str >= 10 and len(v.strs) > 0.5 * n_str)):
                    q.type = "text"
                    return
                labs = [(_label_of(s) or s) for s in sorted(v.strs, key=lambda s: -v.strs[s])]
                labs = list(dict.fromkeys(labs))
                opts = {i + 1: lab for i, lab in enumerate(labs)}
                opts, miss = _split_missing(opts)
                q.todo.append("只有按文本导出：选项编码按出现频次排列，并非问卷的编码；请按问卷改正编码")
                self._single(q, g, opts, miss, sav=False, seen=list(opts))
                return
            q.type = "text"
            return
        if not v.nums:
            q.type = "text"
            q.todo.append("此列没有任何回答，题型无法判断；按问卷填写")
            return
        # numbers only
        nums = v.nums
        if tg is not None and self.tx is not None:
            tp = tg.parts[0]
            pm = _pair_map(self.col(j), self.tcol(tp.col))
            labelled = {c: labs for c, labs in pm.items() if any(_num(l) is None for l in labs)}
            tv = _values(self.tcol(tp.col))
            if tv.strs and all(_DUR_RE.match(s) for s in tv.strs):
                q.type = "duration"
                q.hints.append("按文本导出为“X分Y秒”，按序号导出为秒数")
                return
            if labelled:
                labels: dict[int, str] = {}
                for c in sorted(labelled):
                    labs = sorted(l for l in labelled[c] if _num(l) is None)
                    labels[c] = labs[0]
                    if len(labs) > 1:
                        q.todo.append(f"编码 {c} 在按文本导出中对应多个标签 {labs}；取了第一个")
                unl = sorted(c for c in pm if c not in labelled and c >= 0)
                if unl:
                    q.todo.append(f"编码 {unl} 在按文本导出中没有标签；请核对")
                opts, miss = _split_missing(labels)
                self._single(q, g, opts, miss, sav=False, seen=list(labels))
                return
            # numbers in both exports: a numeric question
            self._numeric(q, nums, um)
            return
        ints = all(_is_int(x) for x in nums)
        pos = sorted(int(x) for x in nums if x >= 0) if ints else []
        if _DURATION_WORDING.search(q.text) and not pii_word:
            q.type = "duration"
            q.todo.append("题干问“多长时间”，数值按时长（秒）处理；若单位是分钟/小时且应作普通数值，改为 numeric")
            return
        if (t.kind != "sav" and ints and pos and min(pos) >= 1 and len(pos) <= 12 and max(pos) < 10 ** 5
                and not _NUMERIC_WORDING.search(q.text)):
            codes = pos
            main_codes = [c for c in codes if c < 90] or codes
            miss = {c: _DEFAULT_MISSING.get(c, f"缺失码{c}") for c in codes
                    if c >= 90 and len(main_codes) >= 2 and c > max(main_codes) + 1}
            opts = {c: f"选项{c}" for c in codes if c not in miss}
            q.todo.append("只有编码、没有标签（缺少按文本导出）：由取值少且为正整数推断为单选题；"
                          "请填写选项标签（若是数值题，改为 type: numeric）")
            if miss:
                q.todo.append(f"编码 {sorted(miss)} 远离其余编码，猜作缺失码；请核对")
            self._single(q, g, opts, miss, sav=False, seen=codes, labels_known=False)
            return
        self._numeric(q, nums, um)
        if (t.kind != "sav" and self.tx is None and ints and not _NUMERIC_WORDING.search(q.text)
                and len(nums) <= 200):
            q.todo.append("整数取值、题干未问数量：也可能是单选题的编码（缺少按文本导出，无法确认）；"
                          "若是单选题，改为 type: single 并写出 options")

    def _numeric(self, q: DraftQuestion, nums: dict[float, int], um: list[float]) -> None:
        q.type = "numeric"
        vals = np.array([x for x in nums if x not in um and x not in (-2.0, -3.0)], dtype=float)
        q.integer = bool(len(vals) and all(_is_int(x) for x in vals))
        q.unit = _unit(q.text)
        neg = sorted(int(x) for x in nums if x < 0 and _is_int(x))
        if um:
            q.missing_codes = {int(x): "拒答" if x == -1 else f"缺失码{int(x)}" for x in um if _is_int(x)}
            if not q.missing_codes:
                q.missing_codes = {}
            else:
                q.hints.append(f"缺失码取自 SPSS 用户缺失值 {sorted(q.missing_codes)}；核对标签")
        elif neg and len(vals) and vals.min() < 0 and (vals >= 0).mean() > 0.95:
            q.missing_codes = {c: _WJX_MARKERS.get(c, f"缺失码{c}") for c in neg}
            q.todo.append(f"负值 {neg} 猜作缺失码；请核对")
        else:
            q.missing_codes = {}   # 98/99 may be real values (hours, days): no default missing codes
        if len(vals):
            lo, hi = np.quantile(vals, [0.01, 0.99])
            q.hints.append(f"观测值 {vals.min():.4g}–{vals.max():.4g}（1%–99% 分位 {lo:.4g}–{hi:.4g}）；"
                           "可加 range: [下限, 上限] 供清理检查越界值")

    def _single(self, q: DraftQuestion, g: _Group, opts: dict[int, str], miss: dict[int, str], *,
                sav: bool, seen: list[int], labels_known: bool = True) -> None:
        q.type = "single"
        opts = _dedupe_labels(opts, q)
        if not opts:
            opts = {1: "选项1"}
            q.todo.append("没有观测到任何答案编码；请按问卷填写选项")
        q.options = opts
        if miss:
            q.missing_codes = dict(miss) if miss != _DEFAULT_MISSING else None
        elif sav:
            q.missing_codes = {}
        if q.missing_codes is None and any(c in opts for c in _DEFAULT_MISSING):
            q.missing_codes = {}
        if q.missing_codes is None and set(_DEFAULT_MISSING.values()) & set(opts.values()):
            q.missing_codes = {}
        if not sav:
            gp = _gaps(list(opts))
            if gp and len(gp) <= 20:
                q.todo.append(f"编码 {gp} 在数据中没有出现，可能有无人选择的选项；请按问卷补全")
        # "please specify"
        op = self._other_part(g)
        oc = [c for c, l in opts.items() if _OTHER_WORD.search(l)]
        if op is not None or (labels_known and oc and self._inline_other(g)):
            code = None
            if len(oc) == 1:
                code = oc[0]
            elif op is not None:
                o = pd.Series(self.col(op.col), dtype=object)
                has = o.notna() & (o.astype(str).str.strip() != "")
                cs = pd.Series(self.col(g.parts[0].col), dtype=object)[has.to_numpy()]
                cand = sorted({int(f) for f in (_num(x) for x in cs.unique()) if f is not None and _is_int(f)})
                if len(cand) == 1 and cand[0] in opts:
                    code = cand[0]
            if code is not None:
                q.other = code
                self.single_other_codes.append(code)
            elif op is not None:
                q.todo.append("有“其他（请注明）”文字列，但找不到对应选项；请设 other: 编码")

    def _inline_other(self, g: _Group) -> bool:
        tg = self.text_group(g)
        if tg is None or self.tx is None:
            return False
        s = pd.Series(self.tcol(tg.parts[0].col), dtype=object).dropna().astype(str)
        return bool(s.str.contains("〖", regex=False).any())

    def _options(self, g: _Group, q: DraftQuestion) -> None:
        opts_parts = [p for p in g.parts if p.role == "option"]
        others = [p for p in g.parts if p.role == "other"]
        # an "option" column holding text is the "please specify" column
        real: list[_Part] = []
        for p in opts_parts:
            v = _values(self.col(p.col))
            if v.strs and not v.nums and _OTHER_WORD.search(p.label):
                p.role = "other"
                others.append(p)
            else:
                real.append(p)
        vals = [_values(self.col(p.col)) for p in real]
        allnums = set().union(*[set(v.nums) for v in vals]) if vals else set()
        # 问卷星 writes -2 for an option left out of a ranking; a multi-select block holds 0/1
        rank = (-2.0 in allnums) or any(x > 1 for x in allnums)
        q.type = "rank" if rank else "multi"
        # codes: SPSS variable names stem_<code>, else position
        stems = [re.match(r"^(.*?)_?(\d+)$", p.name or "") for p in real]
        named = self.t.kind == "sav" and all(stems) and len({m.group(1) for m in stems}) == 1 and \
            len({int(m.group(2)) for m in stems}) == len(stems)
        labels = [p.label.strip() or f"选项{i + 1}" for i, p in enumerate(real)]
        if named:
            codes = [int(m.group(2)) for m in stems]
        else:
            codes = list(range(1, len(real) + 1))
        q.options = _dedupe_labels(dict(zip(codes, labels)), q)
        if not named:
            q.todo.append("多选/排序题的选项编码在按序号导出中没有，按列顺序编为 1..k；请按问卷核对编码")
        oc = [c for c, l in q.options.items() if _OTHER_WORD.search(l)]
        if len(oc) == 1 and (others or self._inline_other(g)):
            q.other = oc[0]
        elif others and not oc:
            q.todo.append("有“其他（请注明）”文字列，但选项里没有“其他”；请核对")
        # data-driven details
        mat = (np.column_stack([_numcol(self.col(p.col)) for p in real]) if real
               else np.zeros((len(self.col(g.parts[0].col)), 0)))
        if q.type == "rank":
            ranks = np.where(mat > 0, mat, np.nan)
            if np.isfinite(ranks).any():
                k = int(np.nanmax(ranks))
                q.k = max(1, min(k, len(q.options)))
        else:
            chosen = mat == 1
            answered = np.isfinite(mat).all(axis=1) & (mat >= 0).all(axis=1)
            per = chosen[answered].sum(axis=1)
            m = re.search(r"最多(?:选)?([一二三四五六七八九十\d]+)(?:项|个)", q.text)
            if m:
                q.max_choices = min(_cn_int(m.group(1)), len(q.options))
                if len(per) and per.max() > q.max_choices:
                    q.hints.append(f"有答卷选了 {int(per.max())} 项，超过 max_choices（清理会标出）")
            cl = list(q.options)
            for i, c in enumerate(cl):
                if _NONE_OPTION.search(q.options[c]) and answered.any():
                    alone = chosen[answered][:, i] & (per == 1)
                    if chosen[answered][:, i].sum() and alone.sum() >= 0.95 * chosen[answered][:, i].sum():
                        q.exclusive.append(c)
        if q.type == "rank" and "最多" in q.text:
            m = re.search(r"最多(?:选)?([一二三四五六七八九十\d]+)(?:项|个)", q.text)
            if m and q.k is not None and _cn_int(m.group(1)) != q.k:
                q.todo.append(f"题干说最多 {_cn_int(m.group(1))} 项，数据中最大名次为 {q.k}；请核对 k")

    def _matrix(self, g: _Group, q: DraftQuestion) -> None:
        rows = [p for p in g.parts if p.role == "row"]
        t = self.t
        stems = [re.match(r"^(.*?)_([A-Za-z0-9]+)$", p.name or "") for p in rows]
        named = t.kind == "sav" and all(stems) and len({m.group(1) for m in stems}) == 1 and \
            all(_ROW_RE.match(m.group(2)) for m in stems)
        rids = [m.group(2) for m in stems] if named else [f"r{i + 1}" for i in range(len(rows))]
        rtexts: dict[str, str] = {}
        for rid, p in zip(rids, rows):
            lab = _clean(p.label) or rid
            while lab in rtexts.values():
                lab += "（重复）"
                if "行文字重复；已加“（重复）”，请核对" not in q.todo:
                    q.todo.append("行文字重复；已加“（重复）”，请核对")
            rtexts[rid] = lab
        q.rows = rtexts
        scale: dict[int, str] = {}
        miss: dict[int, str] = {}
        known = True
        if t.value_labels:
            sets = [tuple(sorted((self.vlabels(p.col) or {}).items())) for p in rows]
            if len(set(sets)) > 1:
                q.todo.append("各行的值标签不一致；取了第一行的，请核对")
            labels = dict(sets[0]) if sets and sets[0] else {}
            um = set(self.umissing(rows[0].col))
            miss = {c: l for c, l in labels.items() if float(c) in um}
            scale = {c: l for c, l in labels.items() if c not in miss}
            if not um:
                scale, miss = _split_missing(scale)
            if not labels:
                known = False
        else:
            tg = self.text_group(g)
            tparts = [p for p in tg.parts if p.role in ("row", "value")] if tg is not None else []
            pm: dict[int, set[str]] = {}
            if tg is not None and len(tparts) == len(rows):
                for p, tp in zip(rows, tparts):
                    for c, labs in _pair_map(self.col(p.col), self.tcol(tp.col)).items():
                        pm.setdefault(c, set()).update(labs)
            labelled = {c: sorted(l for l in labs if _num(l) is None) for c, labs in pm.items()}
            labelled = {c: l for c, l in labelled.items() if l}
            if labelled:
                for c in sorted(labelled):
                    scale[c] = labelled[c][0]
                    if len(labelled[c]) > 1:
                        q.todo.append(f"刻度编码 {c} 对应多个标签 {labelled[c]}；取了第一个")
                scale, miss = _split_missing(scale)
            elif tg is not None and len(tparts) != len(rows):
                q.todo.append("按文本导出中此题的行数与按序号导出不同，未能配对刻度标签")
            if not scale:
                known = False
                codes = sorted({int(x) for p in rows for x in _values(self.col(p.col)).nums
                                if _is_int(x) and x >= 0})
                main_codes = [c for c in codes if c < 90] or codes
                miss = {c: _DEFAULT_MISSING.get(c, f"缺失码{c}") for c in codes
                        if c >= 90 and c > max(main_codes) + 1}
                scale = {c: f"等级{c}" for c in codes if c not in miss} or {1: "等级1"}
                q.todo.append("只有编码、没有刻度标签（缺少按文本导出）；请填写 scale 标签，并判断是否为 likert")
            gp = _gaps(list(scale))
            if gp and known:
                q.todo.append(f"刻度编码 {gp} 在数据中没有出现；请按问卷补全")
        q.scale = _dedupe_labels(scale, q)
        q.type = "likert" if known and _graded(list(q.scale.values())) else "matrix"
        if miss and miss != _DEFAULT_MISSING:
            q.missing_codes = dict(miss)
        elif not miss and t.kind == "sav":
            q.missing_codes = {}
        if q.type == "likert":
            q.hints.append("若有反向计分的行，列在 reversed: [行id]")

    def _pii(self, g: _Group, q: DraftQuestion) -> None:
        kind = _pii_kind(q.text)
        if q.type in ("single", "multi", "rank", "matrix", "likert"):
            if kind:
                q.hints.append(f"题干含“{kind}”类词语，但这是选择题，未标为 PII")
            return
        vkind = None
        if q.type in ("text", "numeric"):
            v = _values(self.col(g.parts[0].col))
            vkind = _pii_by_values(v)
            if q.type == "numeric" and kind and not vkind and v.nums and \
                    np.median(np.abs(list(v.nums))) < 1e5:
                q.hints.append(f"题干含“{kind}”类词语，但取值是普通数值，未标为 PII")
                return
        if kind or vkind:
            q.pii = True
            q.pii_kind = kind or vkind
            if q.type == "numeric":
                q.type, q.unit, q.integer, q.missing_codes = "text", None, None, None
                q.hints = [h for h in q.hints if not h.startswith("观测值")]
                q.hints.append("取值是长数字（手机号/证件号等）；按文本读取")
            if not kind:
                q.todo.append(f"题干未提及身份信息，但取值大多像 {vkind}；猜作 PII，请核对")
        elif q.type == "text":
            q.pii = False


def _infer_skips(b: _Builder, groups: list[_Group], questions: list[DraftQuestion]) -> None:
    """``ask_if`` from the skip pattern: a question skipped exactly for some codes of an earlier
    single-choice question (问卷星's ``(跳过)``/``-3``; in SPSS files, where a skip is a blank, a
    question blank exactly for those codes).  Up to 2% of answers may break the rule (dirty
    data: the cleaning step reports them)."""
    n = len(b.col(groups[0].parts[0].col)) if groups else 0
    if n == 0:
        return
    singles: list[tuple[DraftQuestion, np.ndarray]] = []
    sav = b.t.kind == "sav"
    for g, q in zip(groups, questions):
        cols = [p.col for p in g.parts if p.role != "other"]
        if q.pii or not cols:
            continue
        skip = np.ones(n, dtype=bool)
        for j in cols:
            v = pd.Series(b.col(j), dtype=object)
            s_ = v.astype(str).str.strip().isin(list(_SKIP)).to_numpy(dtype=bool)
            s_ = s_ | (_numcol(b.col(j)) == -3)
            if sav:
                s_ = s_ | v.isna().to_numpy()
            skip &= s_
        k = int(skip.sum())
        if 0 < k < n and (not sav or k >= 0.05 * n):
            best = None
            for sq, codes in reversed(singles):
                ok = codes >= 0
                if ok.sum() < 0.9 * n:
                    continue
                cs = codes[ok].astype(np.int64)
                sk = skip[ok]
                uniq, inv = np.unique(cs, return_inverse=True)
                tot = np.bincount(inv)
                sk_n = np.bincount(inv, weights=sk.astype(float))
                share = sk_n / tot
                asked = uniq[share <= 0.5]
                if len(asked) == 0 or len(asked) == len(uniq):
                    continue
                bad = (sk_n[share <= 0.5].sum() + (tot - sk_n)[share > 0.5].sum()) / tot.sum()
                if bad <= 0.02 and (best is None or bad < best[0]):
                    best = (bad, sq.id, [int(c) for c in asked if int(c) in sq.options])
            if best is not None and best[2]:
                _, sid, asked = best
                q.ask_if = f"{sid} == {asked[0]}" if len(asked) == 1 else f"{sid} in {asked}"
                q.todo.append(f"ask_if 由跳题模式推断（{'空白' if sav else '(跳过)'}只出现在 {sid} 取其他值的答卷上）；"
                            "请按问卷的跳题逻辑核对")
        if q.type == "single" and len(g.parts) >= 1:
            codes = _numcol(b.col(g.parts[0].col))
            miss = set(q.missing_codes or {}) | set(
                c for c in (b.t.user_missing[g.parts[0].col] if b.t.user_missing else []))
            codes = np.where(np.isnan(codes) | np.isin(codes, list(miss)), -1, codes)
            singles.append((q, codes))


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    d = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
    if s.startswith("十"):
        return 10 + d.get(s[1:], 0) if len(s) > 1 else 10
    if "十" in s:
        a, b = s.split("十", 1)
        return d.get(a, 1) * 10 + d.get(b, 0)
    return d.get(s, 1)


def _dedupe_labels(m: dict[int, str], q: DraftQuestion) -> dict[int, str]:
    out: dict[int, str] = {}
    for c, lab in m.items():
        lab = _clean(lab) or f"选项{c}"
        base = lab
        while lab in out.values():
            lab = f"{base}（{c}）"
        if lab != base:
            q.todo.append(f"标签“{base}”出现在多个编码上；已改为“{lab}”，请核对")
        out[c] = lab
    return out


# ---------------------------------------------------------------------------------------------
# ids, pairing, wave block
# ---------------------------------------------------------------------------------------------
def _qid(g: _Group, t: _Table, used: set[str]) -> str:
    cand = None
    names = [p.name for p in g.parts if p.name and p.role != "other"]
    if t.kind == "sav" and names:
        if g.kind == "plain":
            cand = names[0]
        else:
            pat = r"^(.*?)_?(\d+)$" if g.kind == "options" else r"^(.*?)_([A-Za-z0-9]+)$"
            ms = [m for m in (re.match(pat, n) for n in names) if m]
            if ms and len({m.group(1) for m in ms}) == 1:
                cand = ms[0].group(1)
        if cand is not None:
            cand = cand.lower()
            if not _ID_RE.match(cand):
                cand = None
    if cand is None:
        cand = f"q{g.number}" if g.number is not None else None
    if cand is None:
        h = _norm(g.text).lower()
        cand = h if _ID_RE.match(h) else "col"
    if cand in _RESERVED:
        cand = f"{cand}_q"
    base, i = cand, 2
    while cand in used:
        cand = f"{base}_{i}"
        i += 1
    used.add(cand)
    return cand


def _align(code: _Table, text: _Table) -> tuple[np.ndarray | None, np.ndarray | None]:
    meta_names = _meta_names()

    def rid_col(t: _Table) -> np.ndarray | None:
        for j, h in enumerate(t.headers):
            if meta_names.get(_norm(h)) == "rid":
                return pd.Series(t.cols[j], dtype=object).astype(str).str.strip().to_numpy()
        return None

    a, b = rid_col(code), rid_col(text)
    n_a = len(code.cols[0]) if code.cols else 0
    n_b = len(text.cols[0]) if text.cols else 0
    if a is not None and b is not None:
        sa = pd.Series(np.arange(len(a)), index=a)
        sb = pd.Series(np.arange(len(b)), index=b)
        if sa.index.is_unique and sb.index.is_unique:
            common = sa.index.intersection(sb.index, sort=False)
            if len(common) == 0:
                raise ReadError(f"{text.file}: no 序号 in common with {code.file}; the 按文本 and "
                                "按序号 exports must hold the same answers (download both again)")
            return sa[common].to_numpy(), sb[common].to_numpy()
    if n_a != n_b:
        raise ReadError(f"{text.file} has {n_b} rows but {code.file} has {n_a}, and 序号 cannot pair "
                        "them; download both exports of the same answers")
    return None, None


_TITLE_RE = re.compile(r"^\d+_(?:按序号|按文本)_(.*?)_\d+_\d+$")


def _wave_block(t: _Table, builder: _Builder, meta: dict[int, str]) -> tuple[dict[str, Any], list[str]]:
    stem = Path(t.file).stem
    m = _TITLE_RE.match(stem)
    title = m.group(1) if m else re.sub(r"_(SPSS|spss|数据|data)$", "", stem)
    todo = []
    y = re.search(r"(20\d{2})", title)
    wid = y.group(1) if y else re.sub(r"[^0-9A-Za-z_-]+", "", title) or "wave"
    todo.append(f"wave.id 取自文件名（{wid}）；改成本轮的文件夹名")
    wave: dict[str, Any] = {"id": wid, "title": title}
    sub = next((j for j, n in meta.items() if n == "submitted_at"), None)
    if sub is not None:
        ts = pd.to_datetime(pd.Series(builder.col(sub), dtype=object).astype(str),
                            errors="coerce", format="mixed")
        if ts.notna().any():
            wave["fieldwork"] = {"start": ts.min().date().isoformat(), "end": ts.max().date().isoformat()}
            todo.append("fieldwork 取自最早/最晚提交时间；改成正式的调查起止日期")
    if t.kind == "wjx" or any(n in ("source", "ip") for n in meta.values()):
        wave["mode"] = "online"
    return wave, todo


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------
def _s(v: Any) -> str:
    """One YAML scalar (quoted where needed), on one line."""
    if isinstance(v, bool) or v is None or isinstance(v, (int, float)):
        return yaml.safe_dump(v, default_flow_style=True).split("\n")[0]
    out = yaml.safe_dump(str(v), allow_unicode=True, default_flow_style=True, width=10 ** 9)
    return out.split("\n...")[0].strip()


def _flow(v: Any) -> str:
    return yaml.safe_dump(v, allow_unicode=True, default_flow_style=True, width=10 ** 9,
                          sort_keys=False).strip()


def _render(d: CodebookDraft, wave_todo: list[str], design_todo: list[str],
            meta_cols: dict[str, str]) -> str:
    L: list[str] = []
    L.append(f"# 问卷编码本草稿：由 `survey codebook` 根据 {', '.join(Path(f).name for f in d.files)} 生成。")
    L.append("# 逐条处理 `# TODO:` 注释（草稿已能被 Questionnaire.load 读取；TODO 只是注释）。")
    L.append("# 格式见 docs/conventions.md；可为题目加 module: 作为报告章节。")
    if meta_cols:
        L.append("# 元数据列（读取时自动识别，不是题目）：" + "，".join(f"{h} → {n}" for h, n in meta_cols.items()))
        pii_meta = [h for h, n in meta_cols.items() if n in ("ip", "source_detail", "ua")]
        if pii_meta:
            L.append(f"#   其中 {', '.join(pii_meta)} 属于个人信息，读取时分离，不进入分析数据。")
    L.append("wave:")
    for t in wave_todo:
        L.append(f"  # TODO: {t}")
    for k, v in d.wave.items():
        if isinstance(v, dict):
            L.append(f"  {k}: {_flow(v)}")
        else:
            L.append(f"  {k}: {_s(v)}")
    if d.design or design_todo:
        L.append("design:")
        for t in design_todo:
            L.append(f"  # TODO: {t}")
        for k, v in d.design.items():
            L.append(f"  {k}: {_flow(v) if isinstance(v, (list, dict)) else _s(v)}")
    L.append("missing_codes: " + _flow({int(k): v for k, v in d.missing_codes.items()}))
    L.append("questions:")
    for q in d.questions:
        L.append("")
        if q.columns:
            cols = q.columns if len(q.columns) <= 3 else q.columns[:2] + [f"…（共 {len(q.columns)} 列）"]
            L.append("# 列: " + " | ".join(c.replace("\n", " ") for c in cols))
        L.append(f"- id: {q.id}")
        for t in q.todo:
            L.append(f"  # TODO: {t}")
        for h in q.hints:
            L.append(f"  # {h}")
        dd = q.to_dict()
        for k, v in dd.items():
            if k == "id":
                continue
            if isinstance(v, dict):
                if not v:
                    L.append(f"  {k}: {{}}")
                    continue
                L.append(f"  {k}:")
                for kk, vv in v.items():
                    L.append(f"    {_s(kk)}: {_s(vv)}")
            elif isinstance(v, list):
                L.append(f"  {k}: {_flow(v)}")
            else:
                L.append(f"  {k}: {_s(v)}")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def draft_codebook(path: str | Path, *, text_export: str | Path | None = None) -> CodebookDraft:
    """Draft ``questionnaire.yml`` from a raw export.

    Parameters
    ----------
    path : path-like
        问卷星 ``.xlsx``/``.csv`` (按序号 preferred), SPSS ``.sav``/``.zsav`` or Stata ``.dta``.
    text_export : path-like, optional
        The 问卷星 ``按文本`` export of the same answers, paired with a 按序号 ``path``: it gives
        the labels of single-choice and matrix codes (rows aligned by ``序号``).

    Returns
    -------
    CodebookDraft
        ``.text`` is the YAML with ``# TODO:`` comments (write it with ``.write(path)``);
        ``.questions`` the structured draft; ``.questionnaire()`` validates it.

    Raises
    ------
    ReadError
        The file cannot be read, or the two exports do not hold the same answers.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> rows = [["序号", "1、您的性别", "2、您了解哪些？(甲)", "2(乙)", "3、每周工作多少小时？"],
    ...         [1, 1, 1, 0, 40], [2, 2, 1, 1, 45.5], [3, 1, 0, 1, 50]]
    >>> text = [["序号", "1、您的性别", "2、您了解哪些？", "3、每周工作多少小时？"],
    ...         [1, "男", "甲", 40], [2, "女", "甲┋乙", 45.5], [3, "男", "乙", 50]]
    >>> for name, data in (("1_按序号_t_3_3.xlsx", rows), ("1_按文本_t_3_3.xlsx", text)):
    ...     wb = openpyxl.Workbook(); ws = wb.active
    ...     for r in data:
    ...         ws.append(r)
    ...     wb.save(tmp / name)
    >>> d = draft_codebook(tmp / "1_按序号_t_3_3.xlsx", text_export=tmp / "1_按文本_t_3_3.xlsx")
    >>> [(q.id, q.type, q.options) for q in d.questions]
    [('q1', 'single', {1: '男', 2: '女'}), ('q2', 'multi', {1: '甲', 2: '乙'}), ('q3', 'numeric', {})]
    """
    p = Path(path)
    t = _read(p)
    tx = None
    if text_export is not None:
        tx = _read(Path(text_export))
        if t.layout == "text" and tx.layout == "code":
            t, tx = tx, t
        tx.layout = "text"
        t.layout = "code"
    if not t.cols or len(t.cols[0]) == 0:
        raise ReadError(f"{p}: the export has no answers (a header row only); a draft needs data to "
                        "infer types — export again after responses have come in")
    if t.kind in ("wjx", "csv") and t.layout == "unknown":
        t.layout = "text" if any(isinstance(x, str) and ("┋" in x or "→" in x)
                                 for c in t.cols for x in c[:200]) else "code"
    rc = rt = None
    if tx is not None:
        rc, rt = _align(t, tx)
    b = _Builder(t, tx, rc, rt)
    groups, meta = _group_headers(t)
    if not groups:
        raise ReadError(f"{p}: no question columns found (only metadata columns); is this a survey export?")
    used: set[str] = set()
    questions = []
    for g in groups:
        qid = _qid(g, t, used)
        questions.append(b.build(g, qid))
    _infer_skips(b, groups, questions)
    # house convention for "其他": single-choice questions show its code; positional codes of
    # multi/rank options in a 问卷星 export follow it when it lies beyond the options
    conv = set(b.single_other_codes)
    if len(conv) == 1:
        c = conv.pop()
        for q in questions:
            if q.type in ("multi", "rank") and q.other is not None and q.other != c and \
                    c > len(q.options) and c not in q.options and any(
                        t_.startswith("多选/排序题的选项编码") for t_ in q.todo):
                lab = q.options.pop(q.other)
                q.options[c] = lab
                q.other = c
                q.todo.append(f"“其他”按本导出单选题的惯例编为 {c}；请核对")
    # missing codes of the wave
    found: dict[int, str] = {}
    for q in questions:
        for c, lab in (q.missing_codes or {}).items():
            if q.type != "numeric":
                found.setdefault(c, lab)
    wave_missing = dict(found)   # the codes seen, plus the usual 98/99 where they do not clash
    for c, lab in _DEFAULT_MISSING.items():
        if c not in wave_missing and lab not in wave_missing.values():
            wave_missing[c] = lab
    for q in questions:
        if q.type in ("single", "matrix", "likert") and q.missing_codes and (
                q.missing_codes == wave_missing or (t.kind != "sav" and set(
                    q.missing_codes.items()) <= set(wave_missing.items()))):
            q.missing_codes = None   # SPSS declares them per variable; 问卷星 shows only those used
        if q.type in ("single", "matrix", "likert") and q.missing_codes is None:
            opts = q.options if q.type == "single" else q.scale
            if any(c in opts and opts[c] != lab for c, lab in wave_missing.items()) or (
                    q.type == "single" and set(wave_missing.values()) & {
                        l for c, l in opts.items() if c not in wave_missing}):
                q.missing_codes = {}
    wave, wave_todo = _wave_block(t, b, meta)
    # design guesses
    design: dict[str, Any] = {}
    design_todo: list[str] = []
    psu = next((q.id for q in questions if re.search(r"站点|调查点|学校编号|单位编号", q.text)
                and q.type in ("text", "single")), None)
    strata = next((q.id for q in questions if re.search(r"抽样层|分层|层别", q.text)
                   and q.type in ("single", "text")), None)
    if psu:
        design["psu"] = psu
        design_todo.append(f"psu 猜为 {psu}（题干含“站点”）；请核对")
    if strata:
        design["strata"] = strata
        design_todo.append(f"strata 猜为 {strata}（题干含“层”）；请核对")
    grp = [q.id for q in questions if q.type == "single" and re.search(
        r"性别|年龄|职称|学历|单位.*类型|所在区|地区|区县", q.text)]
    if grp:
        design["groups"] = grp
        design_todo.append("groups 按题干（性别/年龄/职称/学历/单位类型/地区）猜测；weighting: 列出 population.yml 的变量")
    else:
        design_todo.append("填写 psu/strata（站点与分层题）和 groups/weighting")
    meta_cols = {t.headers[j]: n for j, n in meta.items()}
    d = CodebookDraft(text="", questions=questions, wave=wave, design=design,
                      missing_codes=wave_missing, meta=meta_cols,
                      files=[t.file] + ([tx.file] if tx is not None else []))
    d.text = _render(d, wave_todo, design_todo, meta_cols)
    return d


def find_text_export(path: str | Path) -> Path | None:
    """The 按文本 export lying next to a 问卷星 按序号 export (same survey id and title), if any.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "9_按文本_调查_5_5.xlsx").write_bytes(b"")
    >>> find_text_export(d / "9_按序号_调查_5_5.xlsx").name
    '9_按文本_调查_5_5.xlsx'
    """
    p = Path(path)
    if "按序号" not in p.name:
        return None
    stem = p.stem.replace("按序号", "按文本")
    sid = stem.split("_按文本_")[0]
    exact = [p.with_name(stem + ext) for ext in (".xlsx", ".csv", p.suffix)]
    for c in exact:
        if c.is_file():
            return c
    # 问卷星 puts the answer count in the name; a later download of the other layout may differ
    m = _TITLE_RE.match(p.stem)
    if m:
        near = sorted(p.parent.glob(f"{sid}_按文本_{m.group(1)}_*"))
        near = [c for c in near if c.suffix.lower() in (".xlsx", ".csv")]
        if len(near) == 1:
            return near[0]
    return None


def agreement(draft: CodebookDraft | Questionnaire, reference: Questionnaire | str | Path
              ) -> pd.DataFrame:
    """Compare a draft with a finished questionnaire, question by question.

    Questions are matched by their text (NFKC, whitespace ignored), else by id.  For each
    question of ``reference``: ``type_ok`` (same type), ``options_ok`` (same option codes and
    labels; for matrix/likert the same scale and row texts; always true for types without
    options), ``pii_ok`` (same ``pii`` flag and ``pii_kind``), ``agree`` (all three) and
    ``todo`` (the draft question carries a TODO).

    Parameters
    ----------
    draft : CodebookDraft or Questionnaire
    reference : Questionnaire or path to questionnaire.yml

    Returns
    -------
    DataFrame
        ``question, draft_id, type, draft_type, type_ok, options_ok, pii_ok, agree, todo``;
        ``df.agree.mean()`` is the agreement rate.

    Examples
    --------
    >>> ref = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> d = CodebookDraft(text="", wave={"id": "w"}, questions=[DraftQuestion(
    ...     id="q1", text="您的性别", type="single", options={1: "男", 2: "女"})])
    >>> agreement(d, ref)[["question", "draft_id", "agree"]].to_dict("records")
    [{'question': 'sex', 'draft_id': 'q1', 'agree': True}]
    """
    ref = reference if isinstance(reference, Questionnaire) else Questionnaire.load(reference)
    if isinstance(draft, CodebookDraft):
        dq = draft.questionnaire()
        todo = {q.id: bool(q.todo) for q in draft.questions}
    else:
        dq = draft
        todo = {q.id: False for q in dq.questions}
    by_text: dict[str, str] = {}
    for q in dq.questions:
        by_text.setdefault(_norm(q.text), q.id)
    rows = []
    for r in ref.questions:
        did = by_text.get(_norm(r.text)) or (r.id if r.id in dq else None)
        if did is None:
            rows.append({"question": r.id, "draft_id": None, "type": r.type, "draft_type": None,
                         "type_ok": False, "options_ok": False, "pii_ok": False, "agree": False,
                         "todo": False})
            continue
        d = dq[did]
        type_ok = d.type == r.type
        if r.type in ("single", "multi", "rank"):
            opt_ok = dict(d.options) == dict(r.options)
        elif r.type in ("matrix", "likert"):
            opt_ok = dict(d.scale) == dict(r.scale) and list(d.rows.values()) == list(r.rows.values())
        else:
            opt_ok = True
        pii_ok = (d.pii == r.pii) and (d.pii_kind == r.pii_kind)
        rows.append({"question": r.id, "draft_id": did, "type": r.type, "draft_type": d.type,
                     "type_ok": type_ok, "options_ok": opt_ok, "pii_ok": pii_ok,
                     "agree": type_ok and opt_ok and pii_ok, "todo": todo.get(did, False)})
    return pd.DataFrame(rows, columns=["question", "draft_id", "type", "draft_type", "type_ok",
                                       "options_ok", "pii_ok", "agree", "todo"])
