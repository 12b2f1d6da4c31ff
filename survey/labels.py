"""Short Chinese labels of questions and frame columns, from the questionnaire's wording.

Used wherever a question or a column is shown to a reader: the report's tables and charts, and
the analyses that name groups in their results (:mod:`survey.painpoints`).  Depends on nothing but
the questionnaire object, so every stage may use it.

Examples
--------
>>> from survey.questionnaire import Questionnaire
>>> q = Questionnaire.load("questionnaires/demo-2024/questionnaire.yml")
>>> short_label(q, "sex")
'性别'
"""
from __future__ import annotations

import re
from typing import Any, Sequence

__all__ = ["short_label", "column_label", "question_label", "group_names", "wave_name", "wave_span"]


def short_label(q: Any, qid: str) -> str:
    """A short Chinese label of a question (its text without 您/时间状语/标点).

    Examples
    --------
    >>> class Q(dict):
    ...     pass
    >>> class X:
    ...     text = "您目前的专业技术职称"
    >>> short_label(Q(t=X()), "t")
    '专业技术职称'
    >>> X.text = "请问您的性别是"
    >>> short_label(Q(t=X()), "t")
    '性别'
    """
    try:
        t = str(q[qid].text or qid)
    except (KeyError, TypeError, AttributeError):
        return str(qid)
    t = re.sub(r"[（(][^）)]*[）)]\s*$", "", t.strip())
    t = re.sub(r"^(最近一个月|过去一年|总体来说|总体而言|目前|未来一年内)[，,]?", "", t)
    t = re.sub(r"^请问", "", t)
    t = re.sub(r"^您(的|目前的|所在|目前|对)?", "", t)
    t = t.rstrip("？?。:： ")
    t = re.sub(r"(?<=.{2})(是|为)$", "", t)  # 请问您的性别是 -> 性别
    return t or str(qid)


_META_LABELS = {"rid": "记录编号", "submitted_at": "提交时间", "duration_s": "作答时长", "source": "来源渠道",
                "ip_hash": "IP 地址（散列）", "phone_hash": "手机号（散列）"}


def _clip(t: str, width: int | None) -> str:
    return t if width is None or len(t) <= width else t[:width - 1] + "…"


def column_label(q: Any, col: str, width: int | None = None) -> str:
    """What a reader sees for a frame column: the question's short text, with the option (multi /
    rank), the row (matrix / likert) or “其他（请注明）” after a colon; the option or row is kept
    whole and the question text shortened first when *width* is given.

    Examples
    --------
    >>> from survey.questionnaire import Questionnaire
    >>> q = Questionnaire.load("questionnaires/demo-2024/questionnaire.yml")
    >>> column_label(q, "sex"), column_label(q, "duration_s")
    ('性别', '作答时长')
    >>> column_label(q, "pain_11")
    '请选出您目前最急需解决的问题：学术交流机会少'
    >>> column_label(q, "pain_11", width=12)
    '请选出…：学术交流机会少'
    """
    if q is None:
        return _META_LABELS.get(col, col)
    try:
        qid = q.owner(col)
    except (AttributeError, TypeError):
        qid = None
    if qid is None:
        return _META_LABELS.get(col, col)
    head = short_label(q, qid)
    x = q[qid]
    if col == qid:
        return _clip(head, width)
    suffix = col[len(qid) + 1:] if col.startswith(qid + "_") else col
    if suffix == "other":
        item = "其他（请注明）"
    elif x.type in ("multi", "rank"):
        try:
            item = str(x.options.get(int(suffix), suffix))
        except ValueError:
            item = suffix
    elif x.type in ("matrix", "likert"):
        item = str((x.rows or {}).get(suffix, suffix))
    else:
        item = suffix
    if width is not None and len(head) + 1 + len(item) > width:
        room = width - len(item) - 1
        if room < 4:
            return _clip(item, width)
        head = _clip(head, room)
    return f"{head}：{item}"


def question_label(q: Any, qid: str, width: int | None = 30) -> str:
    """A question's short Chinese label (:func:`short_label`), clipped to *width* characters."""
    return _clip(short_label(q, qid), width)


def group_names(questionnaire: Any, variables: Sequence[str]) -> dict[str, str]:
    """Short Chinese names of group variables, from the questionnaire's wording (the id itself
    when there is no questionnaire).

    Examples
    --------
    >>> from survey.questionnaire import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "q2_age", "text": "您的年龄段", "type": "single", "options": {1: "青年", 2: "其他"}}]})
    >>> group_names(q, ["q2_age"])
    {'q2_age': '年龄段'}
    """
    return {str(v): (short_label(questionnaire, v) if questionnaire is not None and v in questionnaire
                     else str(v)) for v in variables}


def wave_name(w: Any) -> str:
    """A wave as a sentence names it: ``2023年`` for a year, else the wave id and ``轮``.

    Examples
    --------
    >>> wave_name(2023), wave_name("national-2023")
    ('2023年', 'national-2023 轮')
    """
    w = str(w)
    return f"{w}年" if re.fullmatch(r"\d{4}", w) else f"{w} 轮"


def wave_span(first: Any, last: Any) -> str:
    """Two waves as a title names their span: ``2023—2024年`` for years, else the two ids.

    Examples
    --------
    >>> wave_span(2023, "2024"), wave_span("national-2023", "national-2024")
    ('2023—2024年', 'national-2023—national-2024')
    """
    a, b = str(first), str(last)
    years = re.fullmatch(r"\d{4}", a) and re.fullmatch(r"\d{4}", b)
    return f"{a}—{b}年" if years else f"{a}—{b}"
