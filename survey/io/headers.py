"""Export headers -> questions: :func:`split_header` takes one header apart and
:class:`HeaderMatcher` maps every column of a :class:`~survey.io._core.RawTable` to a
(question, part) :class:`~survey.io._core.Slot` using question texts, option/row labels, our
own column names and ``source:`` mappings."""
from __future__ import annotations

import re
from typing import Any, NamedTuple

from ..questionnaire import Question, Questionnaire
from ._cells import INT_RE
from ._core import RawTable, Slot, norm

__all__ = ["HeaderParts", "split_header", "HeaderMatcher", "META_HEADERS"]

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

_NUM_HDR = re.compile(r"^(\d+)[、.](.*)$", re.S)
_OLD_HDR = re.compile(r"^第(\d+)题(.*)$", re.S)
_CONT_HDR = re.compile(r"^(\d+)\((.*)\)$", re.S)
_SPSS_HDR = re.compile(r"^[Qq](\d+)(?:_(\d+))?$")
_MANGLED = re.compile(r"^(.*)\.(\d+)$", re.S)
_DASHES = ("—", "-", "_", "–", ":")
_OTHER_WORDS = ("其他", "填空", "请补充", "请注明")


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
        self.clashes: dict[int, str] = {}  # metadata column -> question sharing its name

    def _add(self, key: str, qid: str, role: str, k: Any) -> None:
        self.text_keys.setdefault(key, []).append((qid, role, k))

    @staticmethod
    def _option(qu: Question, label: str) -> int | None:
        lab = norm(label)
        for c, l in qu.options.items():
            if norm(l) == lab:
                return c
        if INT_RE.match(lab) and int(float(lab)) in qu.options:
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

    def _declared(self, h: str, hn: str) -> tuple[str, str, Any] | None:
        """The (question, role, key) a header names by our own column name or ``source:``."""
        if h in self.direct:
            return self.direct[h]
        if hn in self.source:
            qu = self.q[self.source[hn]]
            return (qu.id, *(self._suffix_part(qu, hn) or ("value", None)))
        return None

    def match(self, raw: RawTable) -> tuple[list[Slot], list[int]]:
        """Map every column of ``raw``: its slots (in column order) and the unmapped columns.

        A header that is both a platform metadata name (:data:`META_HEADERS`) and a declared
        question column (the question's id, e.g. ``province``, or a ``source:`` entry) is the
        question, unless the question is found in another column (its ``N、题干`` header, or a
        later column of the same name): then it is the platform's metadata.  Metadata columns
        sharing a name with a question are listed in ``self.clashes`` (column -> question id)
        for the reader's log.

        Examples
        --------
        >>> import numpy as np
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...     {"id": "province", "text": "所在省份", "type": "single",
        ...      "options": {1: "北京市", 2: "上海市"}}]})
        >>> raw = RawTable(["province", "地理位置省"], [np.array([1, 2], dtype=object),
        ...                np.array(["上海", "北京"], dtype=object)], "x.csv", "csv")
        >>> m = HeaderMatcher(q)
        >>> slots, unmapped = m.match(raw)
        >>> [(s.col, s.qid, s.role, s.key) for s in slots], m.clashes
        ([(0, 'province', 'value', None), (1, '', 'meta', 'province')], {1: 'province'})
        """
        q = self.q
        slots: list[Slot] = []
        unmapped: list[int] = []
        ambiguous: list[tuple[int, tuple[str, str, Any], str]] = []
        self.clashes = {}
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
            declared = self._declared(h, hn) if hn in self.meta else None
            if declared is not None:  # decided below, once every other column is placed
                ambiguous.append((j, declared, self.meta[hn]))
                prev_q = None
                continue
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
        # a declared question wins over the platform's field of the same name, unless the
        # question is in another column: then this one is the platform's (kept as metadata)
        for i, (j, declared, key) in enumerate(ambiguous):
            later = any(d == declared for _, d, _ in ambiguous[i + 1:])
            if declared not in used and not later:
                take(j, *declared)
            elif ("meta", key) not in {(s.role, s.key) for s in slots}:
                slots.append(Slot(j, "", "meta", key))
                self.clashes[j] = declared[0]
            else:
                unmapped.append(j)
        owner = {c: qu.id for qu in q.questions for c in qu.columns}
        for s in slots:
            if s.role == "meta" and s.key in owner:
                self.clashes.setdefault(s.col, owner[s.key])
        slots.sort(key=lambda s: s.col)
        unmapped.sort()
        return slots, unmapped
