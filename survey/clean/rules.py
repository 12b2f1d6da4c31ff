"""The cleaning rules, each declared once in :data:`RULES` next to the function that applies it.

Adding a rule is one declaration and one function here::

    @RULES.declare("my_rule", phase="cell", action="blank", logs="one row per ...",
                   threshold=Param(0.5, share))
    def my_rule(eng: Engine, st: dict[str, Any]) -> bool:
        ...   # eng.blank(...) for cell rules, eng.resolve_groups(...) for duplicate rules,
              # eng.suspect(...) for respondent rules

``DEFAULT_RULES``, the run order (phase, then the order of the declarations below), the log and
summary order, the validation of ``cleaning:`` and its documentation in ``RULES.describe()``
follow.  The ``cleaning:`` schema users see is in the :mod:`survey.clean` docstring; add the
new rule there too (a test checks every default rule is documented).

The missing reasons (``dont_know``, ``refused``, ``not_applicable``, ``missing_code``,
``blank``, ``not_chosen``, ``skipped``, ``out_of_range``, ``invalid``, ``inconsistent``,
``junk``) and the labels, negative codes and text marks that give them are the reader's, from
:mod:`survey.io.missing`: a missing code labelled 无法回答 is ``dont_know`` in both.
"""
from __future__ import annotations

import re
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import CleaningError, QuestionnaireError
from ..io.missing import (BLANK, INCONSISTENT, INVALID, JUNK, MISSING_CODE, NEGATIVE_CODES,
                          OUT_OF_RANGE, SKIPPED, reason_for_label, reason_for_text)
from ..questionnaire import Question, Questionnaire
from .engine import Engine, as_text
from .registry import Param, RuleRegistry, number, share

__all__ = ["RULES", "DEFAULT_RULES", "parse_checks"]

#: Every cleaning rule, declared below in run order within its phase.
RULES = RuleRegistry()

_CHECK_KEYS = {"name", "when", "blank", "action"}


def _keyboard_pattern() -> str:
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
    grams = {r[i:i + 4] for r in rows for i in range(len(r) - 3)}
    grams |= {g[::-1] for g in grams}
    return "|".join(sorted(grams))


_KEYBOARD = re.compile(_keyboard_pattern())


# ---------------------------------------------------------------------------------------------
# checks of configured thresholds that are not plain numbers
# ---------------------------------------------------------------------------------------------
def _keep_or_blank(v: Any, q: Questionnaire) -> str | None:
    return None if v in ("keep", "blank") else f"{v!r} must be 'keep' or 'blank'"


def _contact_keys(v: Any, q: Questionnaire) -> str | None:
    if not isinstance(v, list) or not all(k in ("phone_hash", "ip_hash") for k in v):
        return f"{v!r} must be a list drawn from [phone_hash, ip_hash]"
    return None


def _blocks(v: Any, q: Questionnaire) -> str | None:
    if v is None:
        return None
    if not isinstance(v, list):
        return "must be a list of matrix/likert question ids or null"
    for b in v:
        if b not in q or q[b].type not in ("matrix", "likert"):
            return f"{b!r} is not a matrix/likert question of wave {q.id!r}"
    return None


def _trap_items(v: Any, q: Questionnaire) -> str | None:
    if not isinstance(v, Mapping):
        return "must map a question id (or matrix column) to its expected answer"
    for col in v:
        if q.owner(str(col)) is None and str(col) not in q:
            return f"{col!r} is not a question or column of wave {q.id!r}"
    return None


def parse_checks(val: Any, q: Questionnaire, where: str) -> list[dict[str, Any]]:
    """Validate the ``checks:`` list; each check as ``{name, when, blank (columns), action}``.

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "age", "text": "年龄", "type": "numeric"}]})
    >>> parse_checks([{"when": "age < 16"}], q, "rules=")
    [{'name': 'check1', 'when': 'age < 16', 'blank': ['age'], 'action': 'blank'}]
    """
    if not isinstance(val, list):
        raise CleaningError(f"{where}: checks must be a list of {{name, when, blank, action}}")
    out, seen = [], set()
    for i, c in enumerate(val):
        if not isinstance(c, Mapping) or "when" not in c:
            raise CleaningError(f"{where}: checks[{i}] needs at least 'when:' (an expression "
                                "that is true for impossible answers)")
        bad = set(c) - _CHECK_KEYS
        if bad:
            raise CleaningError(f"{where}: checks[{i}] has unknown key(s) {sorted(bad)}; valid "
                                f"keys: {', '.join(sorted(_CHECK_KEYS))}")
        name = str(c.get("name") or f"check{i + 1}")
        if name in seen:
            raise CleaningError(f"{where}: check name {name!r} is used twice; name each check")
        seen.add(name)
        try:
            cols = q.expression_columns(str(c["when"]))
        except QuestionnaireError as e:
            raise CleaningError(f"{where}: check {name!r}: {e}") from None
        for col in cols:
            if q.owner(col) is None:
                raise CleaningError(f"{where}: check {name!r} names {col!r}, which is not a "
                                    f"question column of wave {q.id!r}")
        blank = c.get("blank", cols)
        if isinstance(blank, str):
            blank = [blank]
        cols_all = set(q.columns())
        badc = [b for b in blank if b not in cols_all and b not in q]
        if badc:
            raise CleaningError(f"{where}: check {name!r}: blank names unknown column(s) {badc}")
        blank = [c2 for b in blank for c2 in (q.columns(b) if b in q else [b])]
        action = c.get("action", "blank")
        if action not in ("blank", "drop", "flag"):
            raise CleaningError(f"{where}: check {name!r}: action {action!r} is not one of "
                                "['blank', 'drop', 'flag']")
        out.append({"name": name, "when": str(c["when"]), "blank": list(blank), "action": action})
    return out


# ---------------------------------------------------------------------------------------------
# cell phase: blank (or flag) single values
# ---------------------------------------------------------------------------------------------
@RULES.declare("missing_codes", phase="cell", action="blank",
               logs="one row per cell: the declared missing code, 问卷星 negative code or "
                    "(跳过)/(空) text, its reason in .missing")
def missing_codes(eng: Engine, st: dict[str, Any]) -> bool:
    """Declared missing codes, 问卷星 negatives and skip texts -> NA with their reason."""
    act = st["action"]
    changed = False
    for qu in eng.qs:
        t = qu.type
        cols = [c for c in qu.columns if c in eng.df]
        if t == "single" and qu.id in eng.df:
            s = eng.df[qu.id]
            if not isinstance(s.dtype, pd.CategoricalDtype):
                continue
            labs = {lab: reason_for_label(lab) for lab in qu.missing.values()}
            if not labs:
                continue
            vals = s.astype(object).to_numpy()
            mask = np.isin(vals, list(labs))
            if mask.any():
                reason = pd.Series(vals).map(labs).to_numpy(dtype=object)
                changed |= eng.blank(qu.id, mask, "missing_codes", reason, qu.id, action=act)
        elif t in ("matrix", "likert", "numeric"):
            codes = {int(c): reason_for_label(lab) for c, lab in qu.missing.items()}
            lo = qu.range[0] if (t == "numeric" and qu.range) else (
                min(qu.scale) if qu.scale else 0)
            for c, r in NEGATIVE_CODES.items():
                if c < lo and c not in codes and c not in qu.scale:
                    codes[c] = r
            if not codes:
                continue
            for col in cols if t != "numeric" else [qu.id]:
                if col not in eng.df:
                    continue
                v = eng.num(col)
                mask = np.isin(v, list(codes))
                if mask.any():
                    reason = np.full(eng.n, None, dtype=object)
                    for c, r in codes.items():
                        reason[v == c] = r
                    changed |= eng.blank(col, mask, "missing_codes", reason, qu.id, action=act)
        elif t == "duration" and qu.id in eng.df:
            v = eng.num(qu.id)
            mask = v < 0
            if mask.any():
                reason = np.full(eng.n, MISSING_CODE, dtype=object)
                for c, r in NEGATIVE_CODES.items():
                    reason[v == c] = r
                changed |= eng.blank(qu.id, mask, "missing_codes", reason, qu.id, action=act)
        text_cols = ([qu.id] if t == "text" else []) + (
            [f"{qu.id}_other"] if qu.other is not None else [])
        for col in text_cols:
            if col not in eng.df:
                continue
            s = eng.df[col].astype("str")
            st_ = s.str.strip()
            marks = st_.map(reason_for_text)
            mask = marks.notna().to_numpy(dtype=bool) | (st_.str.len() == 0).to_numpy(dtype=bool)
            if mask.any():
                reason = marks.fillna(BLANK).to_numpy(dtype=object)
                changed |= eng.blank(col, mask, "missing_codes", reason, qu.id, action=act)
    return changed


@RULES.declare("out_of_range", phase="cell", action="blank",
               logs="one row per numeric answer outside its range:, the range in detail")
def out_of_range(eng: Engine, st: dict[str, Any]) -> bool:
    """A numeric answer outside the question's ``range:`` -> NA."""
    act = st["action"]
    changed = False
    for qu in eng.qs:
        if qu.type != "numeric" or qu.range is None or qu.id not in eng.df:
            continue
        lo, hi = qu.range
        v = eng.num(qu.id)
        mask = (v < lo) | (v > hi)
        if mask.any():
            changed |= eng.blank(qu.id, mask, "out_of_range", OUT_OF_RANGE, qu.id,
                                 detail=f"outside [{lo:g}, {hi:g}]", action=act)
    return changed


def _blank_question(eng: Engine, qu: Question, cols: list[str], mask: np.ndarray, rule: str,
                    reason: str, detail: str, act: str) -> bool:
    changed = False
    for col in cols:
        changed |= eng.blank(col, mask, rule, reason, qu.id, detail=detail, action=act)
    return changed


@RULES.declare("rank_invalid", phase="cell", action="blank",
               logs="one row per column of an invalid ranking (duplicate ranks, rank outside "
                    "1..k, more than k ranked), why in detail")
def rank_invalid(eng: Engine, st: dict[str, Any]) -> bool:
    """An invalid ranking blanks the whole rank question."""
    act = st["action"]
    changed = False
    for qu in eng.q.by_type("rank"):
        cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in eng.df]
        if not cols or qu.pii:
            continue
        m = np.column_stack([eng.num(c) for c in cols])
        k = qu.k or len(qu.options)
        present = ~np.isnan(m)
        bad_value = (present & ((m < 1) | (m > k) | (m != np.floor(m)))).any(axis=1)
        too_many = present.sum(axis=1) > k
        srt = np.sort(m, axis=1)
        dup = ((srt[:, 1:] == srt[:, :-1]) & ~np.isnan(srt[:, 1:])).any(axis=1)
        mask = bad_value | too_many | dup
        if mask.any():
            why = np.where(dup, "duplicate ranks", np.where(too_many, f"more than {k} ranked",
                                                            f"rank outside 1..{k}"))
            changed |= _blank_question(eng, qu, cols, mask, "rank_invalid", INVALID,
                                       why, act)  # type: ignore[arg-type]
    return changed


@RULES.declare("multi_cap", phase="cell", action="blank",
               logs="one row per option column of a multi question with more than "
                    "max_choices ticked")
def multi_cap(eng: Engine, st: dict[str, Any]) -> bool:
    """More options ticked than ``max_choices:`` blanks the whole multi question."""
    act = st["action"]
    changed = False
    for qu in eng.q.by_type("multi"):
        if qu.max_choices is None or qu.pii:
            continue
        cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in eng.df]
        if not cols:
            continue
        m = np.column_stack([eng.df[c].to_numpy(dtype=float, na_value=0.0) for c in cols])
        mask = m.sum(axis=1) > qu.max_choices
        if mask.any():
            changed |= _blank_question(eng, qu, cols, mask, "multi_cap", INVALID,
                                       f"more than {qu.max_choices} chosen", act)
    return changed


@RULES.declare("other_empty", phase="cell", action="flag",
               logs="one row per 其他 chosen with an empty please-specify box (blank: 其他 "
                    "unticked, and the question blanked when nothing is left ticked)")
def other_empty(eng: Engine, st: dict[str, Any]) -> bool:
    """其他 chosen but the please-specify box left empty."""
    act = st["action"]
    changed = False
    for qu in eng.qs:
        if qu.other is None or f"{qu.id}_other" not in eng.df:
            continue
        txt = eng.df[f"{qu.id}_other"].astype("str").str.strip()
        empty = (txt.isna() | (txt.str.len() == 0)).to_numpy(dtype=bool)
        if qu.type == "single":
            if qu.id not in eng.df:
                continue
            chosen = (eng.df[qu.id].astype(object) == qu.options[qu.other]).to_numpy(dtype=bool)
            changed |= eng.blank(qu.id, chosen & empty, "other_empty", INVALID, qu.id,
                                 detail="其他 chosen but not specified", action=act)
        else:
            col = f"{qu.id}_{qu.other}"
            if col not in eng.df:
                continue
            chosen = eng.df[col].notna().to_numpy(dtype=bool)
            if qu.type == "multi":
                chosen = chosen & eng.df[col].fillna(False).to_numpy(dtype=bool)
            mask = chosen & empty & eng.alive
            rows = np.flatnonzero(mask)
            if rows.size == 0:
                continue
            if act == "flag" or qu.type == "rank":
                old = as_text(eng.df[col].iloc[rows])
                eng.log(rows, "other_empty", "flag", question=qu.id, column=col, old=old,
                        new=old, detail="其他 chosen but not specified")
                continue
            # multi, blank: untick 其他; a question left with nothing ticked becomes NA
            s = eng.df[col].copy()
            eng.log(rows, "other_empty", "blank", question=qu.id, column=col, old="True",
                    new="False", detail="其他 chosen but not specified: unticked")
            s[mask] = False
            eng.df[col] = s
            cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in eng.df]
            m = np.column_stack([eng.df[c].to_numpy(dtype=float, na_value=0.0) for c in cols])
            none = mask & (m.sum(axis=1) == 0)
            _blank_question(eng, qu, cols, none, "other_empty", INVALID,
                            "nothing left ticked", "blank")
            changed = True
    return changed


@RULES.declare("checks", phase="cell", parse=parse_checks, default=[],
               logs="blank/flag checks: one row per cell named by the check where its when: "
                    "holds; drop checks: one drop row per respondent (respondent phase)")
def checks_cells(eng: Engine, checks: list[dict[str, Any]]) -> bool:
    """Declared impossible combinations with action blank or flag."""
    changed = False
    for c in checks:
        if c["action"] == "drop":
            continue
        hit = _check_hits(eng, c)
        if hit is None:
            continue
        for col in c["blank"]:
            if col not in eng.df:
                continue
            changed |= eng.blank(col, hit, "checks", INCONSISTENT, eng.q.owner(col),
                                 detail=f"{c['name']}: {c['when']}", action=c["action"])
    return changed


def _check_hits(eng: Engine, c: dict[str, Any]) -> np.ndarray | None:
    """Alive rows where check ``c`` holds; None (and a not_applied note) if it cannot run."""
    try:
        hit = eng.q.evaluate(c["when"], eng.df,
                             where=f"cleaning check {c['name']!r}").to_numpy(dtype=bool)
    except QuestionnaireError as e:
        eng.not_applied[f"checks:{c['name']}"] = str(e)
        return None
    return hit & eng.alive


@RULES.declare("skip_logic", phase="cell", action="blank",
               logs="one row per cell answered although the question's ask_if is false",
               when_condition_missing=Param("keep", _keep_or_blank))
def skip_logic(eng: Engine, st: dict[str, Any]) -> bool:
    """Answers to a question that was not asked (``ask_if`` false) -> NA (reason skipped)."""
    changed = False
    for qu in eng.qs:
        if qu.ask_if is None:
            continue
        try:
            asked = eng.q.evaluate_ask_if(qu.id, eng.df).to_numpy(dtype=bool)
        except QuestionnaireError as e:
            eng.not_applied[f"skip_logic:{qu.id}"] = str(e)
            continue
        mask = ~asked
        if st["when_condition_missing"] == "keep":
            mask &= ~_cond_missing(eng, qu)
        cols = [c for c in qu.columns if c in eng.df]
        detail = f"ask_if {qu.ask_if} is false"
        for col in cols:
            changed |= eng.blank(col, mask, "skip_logic", SKIPPED, qu.id, detail=detail,
                                 action=st["action"])
    return changed


def _cond_missing(eng: Engine, qu: Question) -> np.ndarray:
    out = np.zeros(eng.n, dtype=bool)
    for name in eng.q.expression_columns(qu.ask_if or ""):
        if name in eng.df:
            out |= eng.df[name].isna().to_numpy(dtype=bool)
    return out


@RULES.declare("junk_text", phase="cell", action="flag",
               logs="one row per text answer that is keyboard mashing, one repeated "
                    "character or punctuation only, which of them in detail",
               min_length=Param(3, number))
def junk_text(eng: Engine, st: dict[str, Any]) -> bool:
    """Junk in free text and please-specify boxes."""
    changed = False
    minlen = int(st["min_length"])
    rep = re.compile(r"^(.)\1{%d,}$" % max(minlen - 1, 1))
    for qu in eng.qs:
        cols = ([qu.id] if qu.type == "text" else []) + (
            [f"{qu.id}_other"] if qu.other is not None else [])
        for col in cols:
            if col not in eng.df or (qu.type == "text" and qu.id in (
                    eng.q.design.psu, eng.q.design.strata)):
                continue
            s = eng.df[col].astype("str").str.strip()
            low = s.str.lower()
            repeated = s.str.match(rep.pattern).fillna(False)
            punct = s.str.fullmatch(r"[\W_]+").fillna(False)
            latin = low.str.fullmatch(r"[a-z0-9;',./\[\]\s]+").fillna(False)
            mash = latin & (low.str.len() >= 4) & (
                low.str.contains(_KEYBOARD.pattern).fillna(False)
                | (low.str.fullmatch(r"[^aeiou0-9\s]{6,}").fillna(False)))
            mask = (repeated | punct | mash).to_numpy(dtype=bool)
            why = np.where(repeated.to_numpy(dtype=bool), "one repeated character",
                           np.where(punct.to_numpy(dtype=bool), "punctuation only",
                                    "keyboard mashing"))
            changed |= eng.blank(col, mask, "junk_text", JUNK, qu.id, detail=why,
                                 action=st["action"])
    return changed


# ---------------------------------------------------------------------------------------------
# duplicate phase: keep the first complete submission of each group
# ---------------------------------------------------------------------------------------------
@RULES.declare("duplicate_id", phase="duplicate", action="drop",
               logs="one drop row per later submission of a respondent id, the kept rid "
                    "in detail")
def duplicate_id(eng: Engine, st: dict[str, Any]) -> None:
    """The same rid twice: keep the first complete submission."""
    rows = np.flatnonzero(eng.alive)
    rid = eng.df["rid"].to_numpy(dtype=object)[rows]
    g, _ = pd.factorize(rid)
    counts = np.bincount(g)
    multi = counts[g] > 1
    if multi.any():
        codes = eng.codes()
        complete = (codes >= 0).sum(axis=1)
        eng.resolve_groups(rows[multi], g[multi], complete, "duplicate_id",
                           "same respondent id as")


@RULES.declare("duplicate_answers", phase="duplicate", action="drop",
               logs="one drop row per later copy of an identical answer vector, the "
                    "kept rid in detail",
               min_answered=Param(0.5, share))
def duplicate_answers(eng: Engine, st: dict[str, Any]) -> None:
    """Identical answers (rows answering at least ``min_answered`` of the columns)."""
    if not eng.qcols:
        return
    codes = eng.codes()
    complete = (codes >= 0).sum(axis=1)
    minans = float(st["min_answered"])
    rows = np.flatnonzero(eng.alive & (complete >= max(1, minans * codes.shape[1])))
    if rows.size > 1:
        _, g = np.unique(codes[rows], axis=0, return_inverse=True)
        g = g.ravel()
        multi = np.bincount(g)[g] > 1
        if multi.any():
            eng.resolve_groups(rows[multi], g[multi], complete, "duplicate_answers",
                               "identical answers to")


@RULES.declare("duplicate_contact", phase="duplicate", action="drop",
               logs="one drop row per later submission from the same hashed phone/IP "
                    "within the window with near-identical answers, the kept rid in detail",
               keys=Param(["phone_hash", "ip_hash"], _contact_keys),
               window_hours=Param(24.0, number), min_similarity=Param(0.9, share),
               max_lag=Param(20, number))
def duplicate_contact(eng: Engine, st: dict[str, Any]) -> None:
    """Same hashed phone/IP within ``window_hours`` and similar answers."""
    if not eng.qcols:
        return
    keys = [k for k in st["keys"] if k in eng.df]
    if not keys:
        eng.not_applied["duplicate_contact"] = "no phone_hash/ip_hash column"
        return
    codes = eng.codes()
    complete = (codes >= 0).sum(axis=1)
    if "submitted_at" in eng.df:
        t = eng.df["submitted_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        t_ok = ~np.isnat(eng.df["submitted_at"].to_numpy(dtype="datetime64[ns]"))
    else:
        t, t_ok = np.zeros(eng.n, dtype=np.int64), np.ones(eng.n, dtype=bool)
    win = float(st["window_hours"]) * 3600e9
    a_all, b_all = [], []
    for key in keys:
        kv = eng.df[key]
        rows = np.flatnonzero(eng.alive & kv.notna().to_numpy(dtype=bool))
        if rows.size < 2:
            continue
        kc = pd.factorize(kv.to_numpy(dtype=object)[rows])[0]
        order = np.lexsort((rows, t[rows], kc))
        r, kk = rows[order], kc[order]
        for lag in range(1, int(st["max_lag"]) + 1):
            if lag >= r.size:
                break
            a, b = r[lag:], r[:-lag]
            ok = (kk[lag:] == kk[:-lag]) & t_ok[a] & t_ok[b] & (np.abs(t[a] - t[b]) <= win)
            if not ok.any():
                continue
            a, b = a[ok], b[ok]
            ca, cb = codes[a], codes[b]
            either = ((ca >= 0) | (cb >= 0)).sum(axis=1)
            same = ((ca == cb) & (ca >= 0)).sum(axis=1)
            sim = same / np.maximum(either, 1)
            hit = sim >= float(st["min_similarity"])
            a_all.append(a[hit])
            b_all.append(b[hit])
    if a_all and sum(len(x) for x in a_all):
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components
        a = np.concatenate(a_all)
        b = np.concatenate(b_all)
        gmat = coo_matrix((np.ones(a.size), (a, b)), shape=(eng.n, eng.n))
        _, lab = connected_components(gmat, directed=False)
        nodes = np.unique(np.r_[a, b])
        eng.resolve_groups(nodes, lab[nodes], complete, "duplicate_contact",
                           "same phone/IP and answers as")


# ---------------------------------------------------------------------------------------------
# respondent phase: mark suspects; the engine drops each once, under its first rule
# ---------------------------------------------------------------------------------------------
@RULES.declare("speeders", phase="respondent", action="drop",
               logs="one drop row per respondent faster than the median share or "
                    "the seconds per item, the times in detail",
               min_fraction_of_median=Param(1 / 3, number),
               min_seconds_per_item=Param(1.0, number))
def speeders(eng: Engine, st: dict[str, Any]) -> None:
    """Too fast overall (vs the median) or per answered item."""
    if "duration_s" not in eng.df:
        eng.not_applied["speeders"] = "no duration_s column"
        return
    d = eng.num("duration_s")
    ok = eng.alive & ~np.isnan(d)
    if not ok.any():
        return
    med = float(np.median(d[ok]))
    frac = float(st["min_fraction_of_median"])
    fast = ok & (d < frac * med)
    items = np.zeros(eng.n, dtype=np.int64)
    for qu in eng.qs:
        cols = [c for c in qu.columns if c in eng.df and not c.endswith("_other")]
        if not cols:
            continue
        na = np.column_stack([eng.df[c].notna().to_numpy(dtype=bool) for c in cols])
        items += na.sum(axis=1) if qu.type in ("matrix", "likert") else na.any(axis=1)
    pace = d / np.maximum(items, 1)
    slow_min = float(st["min_seconds_per_item"])
    too_fast = ok & (pace < slow_min) & (items > 0)
    hit = fast | too_fast
    det = np.where(fast, np.char.add(np.char.add(
        np.round(np.nan_to_num(d)).astype(int).astype(str), "s < "),
        f"{frac:.3g} x median {med:.0f}s"), np.char.add(np.char.add(
            np.round(np.nan_to_num(pace), 2).astype(str), "s per item < "), f"{slow_min:g}s"))
    eng.suspect("speeders", hit, det.astype(object), st["action"])


@RULES.declare("attention", phase="respondent", action="drop",
               logs="one drop row per respondent failing more trap questions than "
                    "max_failures",
               items=Param({}, _trap_items), max_failures=Param(0, number),
               missing_fails=Param(True))
def attention(eng: Engine, st: dict[str, Any]) -> None:
    """Trap questions answered other than expected."""
    items = st["items"]
    if not items:
        return
    fails = np.zeros(eng.n, dtype=np.int64)
    names = []
    for col, expect in items.items():
        col = str(col)
        if col not in eng.df:
            eng.not_applied[f"attention:{col}"] = f"column {col!r} not in the frame"
            continue
        qid = eng.q.owner(col) or col
        exp = expect if isinstance(expect, list) else [expect]
        s = eng.df[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            lab = eng.q.labels(qid)
            exp = [lab.get(e, e) if isinstance(e, int) else e for e in exp]
            vals = s.astype(object)
        else:
            vals = pd.to_numeric(s, errors="coerce")
            exp = [{v: k for k, v in eng.q.labels(qid).items()}.get(e, e)
                   if isinstance(e, str) else e for e in exp]
        ok = vals.isin(exp).to_numpy(dtype=bool)
        miss = s.isna().to_numpy(dtype=bool)
        fail = ~ok & (~miss | bool(st["missing_fails"]))
        fails += fail
        names.append(col)
    hit = fails > int(st["max_failures"])
    eng.suspect("attention", hit, f"failed trap question(s) among {names}", st["action"])


@RULES.declare("straightlining", phase="respondent", action="drop",
               logs="one drop row per respondent giving one answer on every row "
                    "of a matrix/likert block, the block in detail",
               min_rows=Param(6, number), blocks=Param(None, _blocks))
def straightlining(eng: Engine, st: dict[str, Any]) -> None:
    """The same answer on every answered row of a long matrix/likert block."""
    blocks = st["blocks"]
    minr = int(st["min_rows"])
    hit = np.zeros(eng.n, dtype=bool)
    det = np.full(eng.n, None, dtype=object)
    for qu in eng.q.by_type("matrix", "likert"):
        if blocks is not None and qu.id not in blocks:
            continue
        cols = [c for c in qu.columns if c in eng.df]
        if len(cols) < minr:
            continue
        m = np.column_stack([eng.num(c) for c in cols])
        n_ans = (~np.isnan(m)).sum(axis=1)
        mx, mn = np.nanmax(np.where(np.isnan(m), -np.inf, m), axis=1), np.nanmin(
            np.where(np.isnan(m), np.inf, m), axis=1)
        same = (n_ans >= minr) & (mx == mn)
        new = same & ~hit
        det[new] = np.char.add(f"{qu.id}: all {len(cols)} rows = ",
                               np.nan_to_num(mx[new]).astype(int).astype(str))
        hit |= same
    eng.suspect("straightlining", hit, det, st["action"])


@RULES.declare("reversed_items", phase="respondent", action="flag",
               logs="one row per respondent whose normal and reversed likert rows "
                    "disagree by max_gap of the scale, the gap in detail",
               max_gap=Param(0.75, share))
def reversed_items(eng: Engine, st: dict[str, Any]) -> None:
    """Normal and (recoded) reversed rows of a likert block contradict each other."""
    hit = np.zeros(eng.n, dtype=bool)
    det = np.full(eng.n, None, dtype=object)
    for qu in eng.q.by_type("likert"):
        if not qu.reversed:
            continue
        norm_c = [f"{qu.id}_{r}" for r in qu.rows if r not in qu.reversed and
                  f"{qu.id}_{r}" in eng.df]
        rev_c = [f"{qu.id}_{r}" for r in qu.reversed if f"{qu.id}_{r}" in eng.df]
        if not norm_c or not rev_c:
            continue
        lo, hi = min(qu.scale), max(qu.scale)
        a = np.column_stack([eng.num(c) for c in norm_c])
        b = (lo + hi) - np.column_stack([eng.num(c) for c in rev_c])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gap = np.abs(np.nanmean(a, axis=1) - np.nanmean(b, axis=1))
        bad = np.nan_to_num(gap) >= float(st["max_gap"]) * (hi - lo)
        new = bad & ~hit
        det[new] = np.char.add(f"{qu.id}: normal vs reversed rows differ by ",
                               np.round(gap[new], 2).astype(str))
        hit |= bad
    eng.suspect("reversed_items", hit, det, st["action"])


@RULES.also("checks", phase="respondent")
def checks_drops(eng: Engine, checks: list[dict[str, Any]]) -> None:
    """Declared impossible combinations with action drop (after the other respondent rules)."""
    for c in checks:
        if c["action"] != "drop":
            continue
        hit = _check_hits(eng, c)
        if hit is not None:
            eng.suspect("checks", hit, f"check {c['name']}: {c['when']}", "drop")


#: ``{rule: {"enabled", "action", thresholds...}}``: the defaults of every rule configured by
#: a mapping (all but ``checks``), in report order.
DEFAULT_RULES: dict[str, dict[str, Any]] = RULES.defaults()
