"""Why a cell is missing: the one vocabulary of nonresponse reasons.

Readers write these reasons into ``ReadResult.missing["reason"]``; the cleaner and the quality
page read them.  Each reason is a plain string constant (frames store plain ``str``), listed once
in :data:`REASONS` with its Chinese label.

Examples
--------
>>> from survey.io.missing import REASONS, reason_for_label, reason_for_code
>>> reason_for_label("拒答"), reason_for_label("未知"), reason_for_code(-3)
('refused', 'missing_code', 'skipped')
>>> REASONS["not_chosen"]
'未选择'
"""
from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["SKIPPED", "BLANK", "NOT_CHOSEN", "DONT_KNOW", "REFUSED", "NOT_APPLICABLE",
           "MISSING_CODE", "INVALID", "OUT_OF_RANGE", "INCONSISTENT", "JUNK", "REASONS",
           "CODED_REASONS", "NEGATIVE_CODES", "LABEL_REASONS", "TEXT_MARKS", "reason_for_label",
           "reason_for_code", "reason_for_text"]

#: the question was not asked of the respondent (its ``ask_if`` is false; 问卷星 ``(跳过)``/-3)
SKIPPED = "skipped"
#: asked, left empty (``(空)``, -1, an empty cell)
BLANK = "blank"
#: a multi/rank option column marked "not chosen" (问卷星 -2)
NOT_CHOSEN = "not_chosen"
#: a missing code labelled 不知道 / 说不清 / 不清楚 / 无法回答
DONT_KNOW = "dont_know"
#: a missing code labelled 拒答 / 拒绝回答 / 不愿回答
REFUSED = "refused"
#: a missing code labelled 不适用
NOT_APPLICABLE = "not_applicable"
#: any other missing code (a negative code, or a code whose label names no reason above)
MISSING_CODE = "missing_code"
#: a value the questionnaire does not allow (unknown label, text in a number, ...)
INVALID = "invalid"
#: a number outside the question's ``range`` (set by the cleaner)
OUT_OF_RANGE = "out_of_range"
#: blanked by a consistency check of ``cleaning: checks`` (set by the cleaner)
INCONSISTENT = "inconsistent"
#: free text that carries no answer (keyboard mashing, repeated characters; set by the cleaner)
JUNK = "junk"

#: every reason -> its Chinese label (the order of the quality page)
REASONS: dict[str, str] = {
    SKIPPED: "逻辑跳过", BLANK: "未作答", NOT_CHOSEN: "未选择", DONT_KNOW: "不知道",
    REFUSED: "拒答", MISSING_CODE: "缺失编码", INVALID: "无效值", OUT_OF_RANGE: "超出范围",
    NOT_APPLICABLE: "不适用", INCONSISTENT: "逻辑矛盾", JUNK: "无效文本",
}

#: the reasons a questionnaire's ``missing_codes`` can give (see :func:`reason_for_label`)
CODED_REASONS = (DONT_KNOW, REFUSED, NOT_APPLICABLE, MISSING_CODE)

#: 问卷星's negative codes in 按序号 exports and SPSS files
NEGATIVE_CODES: dict[int, str] = {-3: SKIPPED, -2: NOT_CHOSEN, -1: BLANK}

#: missing-code label (as in questionnaire.yml ``missing_codes``) -> reason; the codebook drafter
#: takes a code with one of these labels for a missing code
LABEL_REASONS: dict[str, str] = {
    "不知道": DONT_KNOW, "说不清": DONT_KNOW, "不清楚": DONT_KNOW, "无法回答": DONT_KNOW,
    "拒答": REFUSED, "拒绝回答": REFUSED, "不愿回答": REFUSED, "不适用": NOT_APPLICABLE,
}

#: 问卷星's text marks in 按文本 exports (NFKC-normalised, so ``（跳过）`` is ``(跳过)``) -> reason
TEXT_MARKS: dict[str, str] = {"(跳过)": SKIPPED, "跳过": SKIPPED, "(空)": BLANK, "空": BLANK}


def reason_for_label(label: Any) -> str:
    """The reason a missing code labelled *label* stands for (:data:`MISSING_CODE` if none).

    Examples
    --------
    >>> reason_for_label("说不清"), reason_for_label("拒绝回答"), reason_for_label("98")
    ('dont_know', 'refused', 'missing_code')
    """
    return LABEL_REASONS.get(str(label), MISSING_CODE)


def reason_for_code(code: int, default: str = MISSING_CODE) -> str:
    """The reason of a negative 问卷星 code (-1 blank, -2 not chosen, -3 skipped), else *default*.

    Examples
    --------
    >>> reason_for_code(-2), reason_for_code(-9), reason_for_code(-9, INVALID)
    ('not_chosen', 'missing_code', 'invalid')
    """
    return NEGATIVE_CODES.get(code, default)


def reason_for_text(text: Any) -> str | None:
    """The reason a 问卷星 text mark stands for (``(跳过)`` skipped, ``(空)`` blank; full-width
    brackets and spaces allowed), None for any other text.

    Examples
    --------
    >>> reason_for_text("（跳过）"), reason_for_text(" (空) "), reason_for_text("空调")
    ('skipped', 'blank', None)
    """
    if not isinstance(text, str):
        return None
    return TEXT_MARKS.get("".join(unicodedata.normalize("NFKC", text).split()))
