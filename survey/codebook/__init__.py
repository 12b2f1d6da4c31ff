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

The flow, one module per step: :mod:`~survey.codebook.read` (the export as a column table, headers
grouped into questions) → :mod:`~survey.codebook.values` (what the values say) →
:mod:`~survey.codebook.infer` (questions built) → :mod:`~survey.codebook.render` (the YAML
text); :mod:`~survey.codebook.draft` holds the public functions.

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

from ._common import MISSING_LABELS
from .draft import agreement, draft_codebook, find_text_export
from .model import CodebookDraft, DraftQuestion

__all__ = ["draft_codebook", "CodebookDraft", "DraftQuestion", "agreement", "find_text_export",
           "MISSING_LABELS"]
