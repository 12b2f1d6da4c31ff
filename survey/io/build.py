"""Assemble a :class:`~survey.io._core.ReadResult` from a raw table (shared by every reader).

:func:`build` runs the flow: drop blank rows, map headers to questions, refuse an export of
another questionnaire, take the respondent id and the metadata, decode each question with the
decoder registered for its type (:mod:`survey.io.decode`), separate and scrub personal data,
and say why cells are missing (logic skips from ``ask_if``).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import QuestionnaireError, ReadError, ReadWarning, SchemaMismatchError
from ..privacy import (REDACTED, looks_like_pii, resolve_salt, respondent_names, salted_hash,
                       scrub_frame, scrub_text)
from ..questionnaire import Questionnaire
from ..validation import Options, check
from ._cells import (Col, MissingLog, cell_text, fullwidth, is_empty, lines_of, na_reason,
                     non_finite, parse_duration, str_series, to_timestamp)
from ._core import PII_META, TENCENT_META, RawTable, ReadReport, ReadResult, Slot, log_frame, norm
from .decode import decode_question
from .headers import HeaderMatcher, split_header
from .missing import BLANK, SKIPPED

__all__ = ["build", "drop_blank_rows"]


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
        c = Col(a)
        e_u = np.array([is_empty(u) for u in c.uniq], dtype=bool)
        blank &= c.take(e_u, True).astype(bool)
        if not blank.any():
            return []
    lines = lines_of(raw)
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


def build(raw: RawTable, q: Questionnaire, *, salt: str | None = None, unmapped: str = "warn",
          min_match: float = 0.5) -> ReadResult:
    """Assemble a :class:`ReadResult` from a raw table (shared by every reader)."""
    check("read_export", "unmapped", unmapped, Options(("warn", "error", "ignore")),
          error=ReadError)
    if not raw.headers:
        raise ReadError(f"{raw.file}: the file has no header row; is it an empty export?")
    rows_in_file = raw.n_rows
    blank_rows = drop_blank_rows(raw)
    n = raw.n_rows
    idx = pd.RangeIndex(n)
    matcher = HeaderMatcher(q)
    slots, unm = matcher.match(raw)
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
        r = pd.Series([None if na_reason(v) else cell_text(v) for v in col], dtype=object)
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
    miss = MissingLog(rid)
    data: dict[str, Any] = {"rid": str_series(rid, idx)}
    pii: dict[str, Any] = {"rid": str_series(rid, idx)}
    salt_v: str | None = None

    def get_salt() -> str:
        nonlocal salt_v
        if salt_v is None:
            salt_v = resolve_salt(salt, wave=q.id)
        return salt_v

    # ---- metadata
    if "submitted_at" in meta:
        c = Col(raw.cols[meta["submitted_at"]])
        u = pd.Series([None if na_reason(v) else v for v in c.uniq], dtype=object)
        ts = pd.to_datetime(u.astype("str"), format="%Y/%m/%d %H:%M:%S", errors="coerce")
        ts = ts.to_numpy(dtype="datetime64[ns]")
        for i in np.flatnonzero(np.isnat(ts) & u.notna().to_numpy()):
            x = to_timestamp(u.iloc[i])
            ts[i] = np.datetime64("NaT") if x is None else x
        vals = c.take(ts, np.datetime64("NaT"))
        data["submitted_at"] = pd.Series(vals, index=idx, dtype="datetime64[ns]")
        col = str(raw.headers[meta["submitted_at"]])
        fw = np.array([fullwidth(v) for v in c.uniq] or [None], dtype=object)[:len(c.uniq)]
        miss.note(c, pd.notna(fw), "", col, "fullwidth", "flag",
                  "full-width characters normalised (NFKC) before parsing", new_u=fw)
    if "duration_s" in meta:
        c = Col(raw.cols[meta["duration_s"]])
        d = np.array([np.nan if (x := parse_duration(v)) is None else x for v in c.uniq], dtype=float)
        data["duration_s"] = pd.Series(c.take(d, np.nan), index=idx, dtype="float64")
        col = str(raw.headers[meta["duration_s"]])
        miss.note(c, np.array([non_finite(v) for v in c.uniq], dtype=bool), "", col,
                  "non_finite", "blank", "not a finite duration; set to NA")
        fw = np.array([fullwidth(v) for v in c.uniq] or [None], dtype=object)[:len(c.uniq)]
        miss.note(c, pd.notna(fw), "", col, "fullwidth", "flag",
                  "full-width characters normalised (NFKC) before parsing", new_u=fw)
    if "source" in meta:
        c = Col(raw.cols[meta["source"]])
        s = np.array([None if na_reason(v) else cell_text(v) for v in c.uniq], dtype=object)
        data["source"] = str_series(c.take(s, None), idx)
    pii_cols: list[str] = []
    renamed = _log_clashes(raw, q, slots, matcher.clashes)
    for name, kind in PII_META.items():
        if name in meta:
            c = Col(raw.cols[meta[name]])
            s = np.array([None if na_reason(v) else cell_text(v) for v in c.uniq], dtype=object)
            ser = str_series(c.take(s, None), idx)
            pii[renamed.get(name, name)] = ser
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
        out, rowmiss, n_invalid, absent_cols = decode_question(qu, ss, raw, miss, idx)
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
            c = Col(raw.cols[j])
            s = np.array([None if na_reason(v) else cell_text(v) for v in c.uniq], dtype=object)
            key = h if h not in pii else f"{h} [{j + 1}]"
            pii[key] = str_series(c.take(s, None), idx)
            pii_cols.append(h)
    if raw.layout == "unknown" and raw.kind in ("wjx", "csv") and {
            str(raw.headers[c]) for k, c in meta.items()} & TENCENT_META:
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
        metadata=[str(raw.headers[c]) for k, c in meta.items() if k not in PII_META],
        pii_columns=pii_cols, encoding=raw.encoding, rid_created=rid_created,
        questions_matched=matched, questions_total=n_q, rows_in_file=rows_in_file,
        blank_rows=blank_rows)
    if invalid:
        warnings.warn(f"{raw.file}: unrecognised values set to NA in "
                      + ", ".join(f"{k} ({v} cells)" for k, v in list(invalid.items())[:6])
                      + "; see ReadResult.missing (reason='invalid')", ReadWarning, stacklevel=3)
    by_line = dict(zip(lines_of(raw).tolist(), rid.tolist()))
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
    log = log_frame(entries + miss.notes)
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


def _log_clashes(raw: RawTable, q: Questionnaire, slots: list[Slot],
                 clashes: dict[int, str]) -> dict[str, str]:
    """Log each platform metadata column that shares its name with a question (rule
    ``metadata_name``, flag) and say where the question's answers were read instead.

    Returns the new names of platform fields kept with the PII whose own name is a question
    column (``nickname`` -> ``platform_nickname``), so neither overwrites the other.
    """
    renamed: dict[str, str] = {}
    for s in slots:
        if s.role != "meta" or s.col not in clashes:
            continue
        qid = clashes[s.col]
        where = [str(raw.headers[t.col]) for t in slots if t.qid == qid and t.role != "meta"]
        kept = "its values are not read into the data (see ReadReport.metadata)"
        if s.key in PII_META:
            if any(s.key in qu.columns for qu in q.questions):
                renamed[s.key] = f"platform_{s.key}"
            kept = f"its values are kept with the PII as {renamed.get(s.key, s.key)!r}"
        read = (f"read from column {where[0]!r}" if where else "not in this export")
        raw.log.append({"rule": "metadata_name", "question": qid,
                        "column": str(raw.headers[s.col]), "action": "flag",
                        "detail": f"the platform's metadata field {s.key!r}, not question "
                                  f"{qid!r} ({read}); {kept}"})
    return renamed


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
    blank = (reason == BLANK) & (value.isna() | (value.str.strip() == "")).to_numpy(dtype=bool)
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
        reason[sel] = SKIPPED
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
        a, b = (np.array([None if na_reason(v) else cell_text(v) for v in raw.cols[k]],
                         dtype=object) for k in (s.col, j))
        diff = np.flatnonzero(~((a == b) | (pd.isna(a) & pd.isna(b))))
        h = raw.headers[j]
        if len(diff):
            lines = lines_of(raw)
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
