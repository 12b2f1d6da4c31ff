"""The public API: :func:`draft_codebook`, :func:`find_text_export`, :func:`agreement`."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ReadError
from ..questionnaire import Questionnaire
from ._common import DEFAULT_MISSING, norm
from .infer import Builder, align_rows, infer_skips, question_id
from .model import CodebookDraft
from .read import group_headers, read_table
from .render import TITLE_RE, render_yaml, wave_block

__all__ = ["agreement", "draft_codebook", "find_text_export"]


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
    t = read_table(p)
    tx = None
    if text_export is not None:
        tx = read_table(Path(text_export))
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
        rc, rt = align_rows(t, tx)
    b = Builder(t, tx, rc, rt)
    groups, meta = group_headers(t)
    if not groups:
        raise ReadError(f"{p}: no question columns found (only metadata columns); is this a survey export?")
    used: set[str] = set()
    questions = []
    for g in groups:
        qid = question_id(g, t, used)
        questions.append(b.build(g, qid))
    infer_skips(b, groups, questions)
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
    for c, lab in DEFAULT_MISSING.items():
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
    wave, wave_todo = wave_block(t, b, meta)
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
    d.text = render_yaml(d, wave_todo, design_todo, meta_cols)
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
    m = TITLE_RE.match(p.stem)
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
    >>> from survey.codebook import DraftQuestion
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
        by_text.setdefault(norm(q.text), q.id)
    rows = []
    for r in ref.questions:
        did = by_text.get(norm(r.text)) or (r.id if r.id in dq else None)
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
