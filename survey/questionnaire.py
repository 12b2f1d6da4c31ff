"""The questionnaire codebook: one YAML file per wave describes every question.

Code never hard-codes a question: readers, cleaning, tables and reports ask the
:class:`Questionnaire` for column names (:meth:`Questionnaire.columns`), labels
(:meth:`Questionnaire.labels`), missing codes, skip logic and design variables.

The YAML format is documented in ``docs/conventions.md``.  Every mistake raises
:class:`~survey.errors.QuestionnaireError` naming the file, the question and the fix.

Examples
--------
>>> from survey.questionnaire import Questionnaire
>>> q = Questionnaire.from_dict({
...     "wave": {"id": "t", "title": "测试"},
...     "questions": [
...         {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}},
...         {"id": "q2", "text": "您的职称", "type": "single", "options": {1: "正高", 2: "其他"},
...          "ask_if": "sex == 1"},
...     ]})
>>> q.columns("sex"), q.labels("sex")
(['sex'], {1: '男', 2: '女', 98: '不知道', 99: '拒答'})
"""
from __future__ import annotations

import ast
import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import yaml

from ._askif import AskIfEvaluator, expression_names, parse_ask_if
from .errors import QuestionnaireError

__all__ = ["Questionnaire", "Question", "DesignSpec", "ReportRoles", "QUESTION_TYPES", "PII_KINDS",
           "REPORT_ROLES"]

QUESTION_TYPES = ("single", "multi", "rank", "matrix", "likert", "numeric", "text", "date", "duration")
PII_KINDS = ("name", "phone", "id_number", "email", "ip", "source_detail", "other")
MODES = ("online", "paper", "mixed")
DEFAULT_MISSING = {98: "不知道", 99: "拒答"}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ROW_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")

# which optional keys are allowed on which type (anything else is a mistake worth naming)
_COMMON = {"id", "module", "text", "type", "ask_if", "pii", "pii_kind", "sensitive", "handling",
           "source", "note", "number", "required"}
_TYPE_KEYS: dict[str, set[str]] = {
    "single": {"options", "other", "missing_codes"},
    "multi": {"options", "other", "max_choices", "min_choices", "exclusive"},
    "rank": {"options", "other", "k"},
    "matrix": {"rows", "scale", "missing_codes"},
    "likert": {"rows", "scale", "missing_codes", "reversed"},
    "numeric": {"unit", "range", "integer", "missing_codes"},
    "text": set(),
    "date": {"format"},
    "duration": {"unit"},
}
_HAS_MISSING = {"single", "matrix", "likert", "numeric"}
_WHERE = {  # a hint for "type-specific field on the wrong type"
    "options": "single/multi/rank", "other": "single/multi/rank", "max_choices": "multi",
    "min_choices": "multi", "exclusive": "multi", "k": "rank", "rows": "matrix/likert",
    "scale": "matrix/likert", "reversed": "likert", "unit": "numeric/duration",
    "range": "numeric", "integer": "numeric", "missing_codes": "single/matrix/likert/numeric",
    "format": "date",
}


@dataclass(frozen=True)
class Question:
    """One question of the codebook (immutable; built by :class:`Questionnaire`).

    Attributes mirror the YAML keys; ``options``/``scale`` map int code -> label and ``rows``
    maps row id -> row text.  ``position`` is the 1-based order in the file.

    Examples
    --------
    >>> Question(id="q1", text="年龄", type="numeric").type
    'numeric'
    """

    id: str
    text: str
    type: str
    module: str = ""
    options: Mapping[int, str] = field(default_factory=dict)
    rows: Mapping[str, str] = field(default_factory=dict)
    scale: Mapping[int, str] = field(default_factory=dict)
    missing: Mapping[int, str] = field(default_factory=dict)
    other: int | None = None
    max_choices: int | None = None
    k: int | None = None
    reversed: tuple[str, ...] = ()
    unit: str | None = None
    range: tuple[float, float] | None = None
    integer: bool = False
    ask_if: str | None = None
    pii: bool = False
    pii_kind: str | None = None
    sensitive: str | None = None
    handling: str | None = None
    source: tuple[str, ...] = ()
    position: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Frame columns of this question (see ``docs/conventions.md``)."""
        t = self.type
        if t in ("multi", "rank"):
            cols = [f"{self.id}_{c}" for c in self.options]
        elif t in ("matrix", "likert"):
            cols = [f"{self.id}_{r}" for r in self.rows]
        else:
            cols = [self.id]
        if self.other is not None:
            cols.append(f"{self.id}_other")
        return cols

    @property
    def labels(self) -> dict[int, str]:
        """Code -> label, including this question's missing codes (single/matrix/likert)."""
        base = dict(self.scale if self.type in ("matrix", "likert") else self.options)
        if self.type in ("single", "matrix", "likert"):
            for c, lab in self.missing.items():
                base.setdefault(c, lab)
        return base

    def __repr__(self) -> str:
        bits = [f"{self.id!r}", self.type]
        if self.options:
            bits.append(f"{len(self.options)} options")
        if self.rows:
            bits.append(f"{len(self.rows)} rows × {len(self.scale)}-point scale")
        if self.pii:
            bits.append(f"PII:{self.pii_kind}")
        if self.ask_if:
            bits.append(f"ask_if {self.ask_if!r}")
        return f"<Question {' '.join(bits)}: {self.text[:30]}>"


@dataclass(frozen=True)
class DesignSpec:
    """Which question ids carry the sampling design and the weighting.

    Examples
    --------
    >>> DesignSpec(psu="station", strata="stratum").psu
    'station'
    """

    psu: str | None = None
    strata: str | None = None
    weight: str | None = None
    fpc: str | None = None
    groups: tuple[str, ...] = ()
    weighting: tuple[str, ...] = ()


#: The ``report:`` block of a questionnaire: role -> (question types allowed, is a list, what it
#: is for).  Every section of the report takes its questions from these roles and from
#: ``design.groups``; no report code names a question id.
REPORT_ROLES: dict[str, tuple[tuple[str, ...], bool, str]] = {
    "painpoints": (("rank", "multi"), False, "the rank (or multi) question holding the 急难愁盼 items"),
    "outcome": (("single", "numeric"), False, "overall satisfaction, for the driver analysis"),
    "key_indicators": (("numeric", "duration", "single", "multi", "likert", "matrix"), True,
                       "the questions of 主要指标 (default: every question of every module)"),
    "drivers": (("single",), True, "covariates of the driver analysis (default: design.groups)"),
}


@dataclass(frozen=True)
class ReportRoles:
    """Which question plays which part in the report (the questionnaire's ``report:`` block).

    ``None`` means the role is not declared: ``key_indicators`` and ``drivers`` then fall back
    to every module's questions and to ``design.groups``; without ``painpoints`` or ``outcome``
    the sections that need them are left out, and the report says so.

    Examples
    --------
    >>> ReportRoles(painpoints="q7_needs").outcome is None
    True
    """

    painpoints: str | None = None
    outcome: str | None = None
    key_indicators: tuple[str, ...] | None = None
    drivers: tuple[str, ...] | None = None


# ---------------------------------------------------------------------------------------------
class Questionnaire:
    """A validated questionnaire codebook for one survey wave.

    Build with :meth:`load` (a ``questionnaire.yml``) or :meth:`from_dict`.

    Attributes
    ----------
    path : pathlib.Path or None
        The YAML file it came from.
    wave : dict
        Wave metadata (``id``, ``title``, ``fieldwork``, ``mode``, ``population`` ...).
    design : DesignSpec
        Design and weighting variables.
    questions : list of Question
        In questionnaire order.
    hash : str
        sha256 of the file text (provenance).

    Examples
    --------
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "q1", "text": "您的年龄", "type": "numeric", "range": [18, 80]}]})
    >>> q["q1"].range, q.columns("q1")
    ((18.0, 80.0), ['q1'])
    """

    def __init__(self, data: Mapping[str, Any], *, path: str | Path | None = None,
                 text: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._where = str(self.path) if self.path is not None else "<questionnaire>"
        if text is None:
            text = yaml.safe_dump(_plain(data), allow_unicode=True, sort_keys=False)
        self.hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._raw = data
        self._text = text if self.path is not None else None
        self._build(data)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, path: str | Path) -> "Questionnaire":
        """Load and validate ``questionnaire.yml``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "questionnaire.yml"
        >>> _ = p.write_text("wave: {id: w}\\nquestions:\\n - {id: q1, text: 年龄, type: numeric}\\n",
        ...                  encoding="utf-8")
        >>> Questionnaire.load(p)["q1"].type
        'numeric'
        """
        from ._yaml import read_yaml

        p, data, text = read_yaml(path, error=QuestionnaireError, what="questionnaire",
                                  default_name="questionnaire.yml",
                                  hint="pass the path of questionnaires/<wave>/questionnaire.yml")
        return cls(data, path=p, text=text)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Questionnaire":
        """Build from an in-memory mapping (same structure as the YAML)."""
        return cls(data)

    def _err(self, msg: str, qid: str | None = None) -> QuestionnaireError:
        who = f" question {qid!r}:" if qid else ""
        return QuestionnaireError(f"{self._where}:{who} {msg}")

    def _build(self, data: Mapping[str, Any]) -> None:
        unknown = set(data) - {"wave", "design", "missing_codes", "questions", "cleaning",
                               "harmonize", "notes", "meta", "report"}
        if unknown:
            raise self._err(f"unknown top-level key(s) {sorted(unknown)}; allowed: wave, design, "
                            "missing_codes, questions, cleaning, report")
        wave = data.get("wave")
        if not isinstance(wave, dict) or "id" not in wave:
            raise self._err("'wave:' with at least an 'id:' is required")
        self.wave = dict(wave)
        self.wave["id"] = str(wave["id"])
        mode = self.wave.get("mode")
        if mode is not None and mode not in MODES:
            raise self._err(f"wave.mode {mode!r} is not one of {MODES}")
        fw = self.wave.get("fieldwork")
        if fw is not None:
            if not isinstance(fw, dict) or not {"start", "end"} <= set(fw):
                raise self._err("wave.fieldwork must be {start: YYYY-MM-DD, end: YYYY-MM-DD}")
            try:
                s, e = pd.Timestamp(str(fw["start"])), pd.Timestamp(str(fw["end"]))
            except (ValueError, TypeError):
                raise self._err("wave.fieldwork dates must be YYYY-MM-DD") from None
            if e < s:
                raise self._err(f"wave.fieldwork ends ({e.date()}) before it starts ({s.date()})")
            self.wave["fieldwork"] = {"start": s.date(), "end": e.date()}
        self.cleaning = dict(data.get("cleaning") or {})
        dm = data.get("missing_codes", DEFAULT_MISSING)
        # `missing_codes: {}` means "no missing codes", as it does on a question
        self.default_missing = self._codes(dm, "missing_codes", None) if dm != {} else {}
        qs = data.get("questions")
        if not isinstance(qs, list) or not qs:
            raise self._err("'questions:' must be a non-empty list")
        self._q: dict[str, Question] = {}
        self._asts: dict[str, ast.Expression] = {}
        for i, raw in enumerate(qs, start=1):
            q = self._question(raw, i)
            if q.id in self._q:
                raise self._err(f"is defined twice (positions {self._q[q.id].position} and {i}); "
                                "give each question a unique id", q.id)
            self._q[q.id] = q
        self.questions: list[Question] = list(self._q.values())
        # frame columns must not collide across questions
        owner: dict[str, str] = {}
        for q in self.questions:
            for c in q.columns:
                if c in owner and owner[c] != q.id:
                    raise self._err(f"its column {c!r} collides with question {owner[c]!r}; "
                                    "rename one of them", q.id)
                owner[c] = q.id
        for c in ("rid", "submitted_at", "duration_s", "source", "ip_hash", "phone_hash"):
            if c in owner:
                raise self._err(f"column {c!r} is reserved for export metadata; rename it", owner[c])
        self._owner = owner
        # ask_if names must refer to earlier questions / their columns
        for q in self.questions:
            if q.ask_if is None:
                continue
            try:
                tree = parse_ask_if(q.ask_if)
            except ValueError as e:
                raise self._err(f"ask_if {e}", q.id) from None
            for name in expression_names(tree):
                target = owner.get(name)
                if target is None:
                    raise self._err(f"ask_if {q.ask_if!r} names unknown question {name!r}; use an "
                                    "earlier question id (or q12.3 for option 3 of multi q12)", q.id)
                if self._q[target].position >= q.position:
                    raise self._err(f"ask_if {q.ask_if!r} refers to {name!r}, which is not asked "
                                    "before it; skip logic may only use earlier answers", q.id)
            self._asts[q.id] = tree
        self.design = self._design(data.get("design") or {})
        self.report = self._report(data.get("report"))

    def _codes(self, m: Any, key: str, qid: str | None) -> dict[int, str]:
        if m is None:
            return {}
        if not isinstance(m, dict) or not m:
            raise self._err(f"'{key}' must be a non-empty mapping code -> label", qid)
        out: dict[int, str] = {}
        seen: dict[str, int] = {}
        for c, lab in m.items():
            try:
                ci = int(c)
                if isinstance(c, float) and c != ci or isinstance(c, bool):
                    raise ValueError
            except (TypeError, ValueError):
                raise self._err(f"{key} code {c!r} is not an integer; use integer codes", qid) \
                    from None
            if ci in out:
                raise self._err(f"{key} code {ci} is used twice; give each option its own code", qid)
            lab = str(lab).strip()
            if not lab:
                raise self._err(f"{key} code {ci} has an empty label", qid)
            if lab in seen:
                raise self._err(f"{key} label {lab!r} is used for codes {seen[lab]} and {ci}; "
                                "labels must be unique", qid)
            seen[lab] = ci
            out[ci] = lab
        return out

    def _question(self, raw: Any, pos: int) -> Question:
        if not isinstance(raw, dict):
            raise self._err(f"questions[{pos}] must be a mapping with id/text/type")
        qid = raw.get("id")
        if not isinstance(qid, str) or not _ID_RE.match(qid):
            raise self._err(f"questions[{pos}] has id {qid!r}; ids must match [a-z][a-z0-9_]* "
                            "(e.g. q12)")
        t = raw.get("type")
        if t not in QUESTION_TYPES:
            raise self._err(f"type {t!r} is not one of {', '.join(QUESTION_TYPES)}", qid)
        for k in raw:
            if k not in _COMMON and k not in _TYPE_KEYS[t]:
                if k in _WHERE:
                    raise self._err(f"'{k}' belongs to {_WHERE[k]} questions, not {t}; remove it "
                                    "or change the type", qid)
                raise self._err(f"unknown key '{k}'; allowed for {t}: "
                                f"{sorted(_COMMON | _TYPE_KEYS[t])}", qid)
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self._err("needs a 'text:' (the question wording as printed)", qid)
        kw: dict[str, Any] = dict(id=qid, text=text.strip(), type=t, position=pos,
                                  module=str(raw.get("module") or ""))
        if t in ("single", "multi", "rank"):
            opts = self._codes(raw.get("options"), "options", qid)
            if not opts:
                raise self._err("needs 'options:' (code: label)", qid)
            kw["options"] = opts
            if "other" in raw:
                if raw["other"] not in opts:
                    raise self._err(f"other: {raw['other']!r} is not one of its option codes "
                                    f"{list(opts)}", qid)
                kw["other"] = int(raw["other"])
        if t == "multi" and raw.get("max_choices") is not None:
            mc = raw["max_choices"]
            if not isinstance(mc, int) or not 1 <= mc <= len(kw["options"]):
                raise self._err(f"max_choices {mc!r} must be an integer in 1..{len(kw['options'])}",
                                qid)
            kw["max_choices"] = mc
        if t == "rank":
            k = raw.get("k", len(kw["options"]))
            if not isinstance(k, int) or not 1 <= k <= len(kw["options"]):
                raise self._err(f"k {k!r} must be an integer in 1..{len(kw['options'])}", qid)
            kw["k"] = k
        if t in ("matrix", "likert"):
            rows = raw.get("rows")
            if not isinstance(rows, dict) or not rows:
                raise self._err("needs 'rows:' (row id: row text)", qid)
            rr: dict[str, str] = {}
            for r, lab in rows.items():
                r = str(r)
                if not _ROW_RE.match(r):
                    raise self._err(f"row id {r!r} must be letters/digits/underscore (e.g. r1)", qid)
                if r in rr:
                    raise self._err(f"row id {r!r} is used twice", qid)
                if str(lab) in rr.values():
                    raise self._err(f"row text {lab!r} is used twice; rows must differ", qid)
                rr[r] = str(lab).strip()
            kw["rows"] = rr
            kw["scale"] = self._codes(raw.get("scale"), "scale", qid)
            if not kw["scale"]:
                raise self._err("needs 'scale:' (code: label)", qid)
            rev = raw.get("reversed") or []
            bad = [r for r in rev if str(r) not in rr]
            if bad:
                raise self._err(f"reversed rows {bad} are not among its rows {list(rr)}", qid)
            kw["reversed"] = tuple(str(r) for r in rev)
        if t in _HAS_MISSING:
            m = raw.get("missing_codes", "default")
            kw["missing"] = dict(self.default_missing) if m == "default" else (
                self._codes(m, "missing_codes", qid) if m else {})
            if t == "single":
                for c, lab in kw["missing"].items():
                    if c in kw["options"] and kw["options"][c] != lab:
                        raise self._err(f"option {c} is labelled {kw['options'][c]!r} but {c} is "
                                        f"the missing code {lab!r}; recode the option or set "
                                        "missing_codes for this question", qid)
                    if c not in kw["options"] and lab in kw["options"].values():
                        raise self._err(f"label {lab!r} is both an option and missing code {c}; "
                                        "use the missing code for it", qid)
        if t == "numeric":
            if "range" in raw:
                r = raw["range"]
                if (not isinstance(r, (list, tuple)) or len(r) != 2
                        or not all(isinstance(x, (int, float)) for x in r) or r[0] > r[1]):
                    raise self._err(f"range {r!r} must be [low, high] with low <= high", qid)
                kw["range"] = (float(r[0]), float(r[1]))
            kw["integer"] = bool(raw.get("integer", False))
            if "range" in kw:
                lo, hi = kw["range"]
                clash = [c for c in kw["missing"] if lo <= c <= hi]
                if clash:
                    raise self._err(f"missing codes {clash} lie inside the valid range "
                                    f"[{lo:g}, {hi:g}]; set 'missing_codes:' for this question "
                                    "(e.g. {-1: 拒答}) or 'missing_codes: {}'", qid)
        if t in ("numeric", "duration") and raw.get("unit") is not None:
            kw["unit"] = str(raw["unit"])
        if raw.get("ask_if") is not None:
            kw["ask_if"] = str(raw["ask_if"])
        pii = raw.get("pii", False)
        if not isinstance(pii, bool):
            raise self._err(f"pii must be true/false, not {pii!r}", qid)
        kind = raw.get("pii_kind")
        if kind is not None and kind not in PII_KINDS:
            raise self._err(f"pii_kind {kind!r} is not one of {PII_KINDS}", qid)
        if kind is not None and not pii:
            raise self._err("has pii_kind but not 'pii: true'; add pii: true", qid)
        if pii and kind is None:
            kind = "other"
        kw.update(pii=pii, pii_kind=kind)
        if raw.get("sensitive") is not None:
            kw["sensitive"] = str(raw["sensitive"])
        if raw.get("handling") is not None:
            kw["handling"] = str(raw["handling"])
        src = raw.get("source")
        if src is not None:
            if isinstance(src, str):
                src = [src]
            if not isinstance(src, list) or not all(isinstance(s, (str, int)) for s in src):
                raise self._err("source must be a list of export headers / variable names", qid)
            kw["source"] = tuple(str(s) for s in src)
        kw["extra"] = {k: raw[k] for k in ("note", "number", "required") if k in raw}
        return Question(**kw)

    def _design(self, d: Mapping[str, Any]) -> DesignSpec:
        if not isinstance(d, dict):
            raise self._err("'design:' must be a mapping (psu, strata, weight, groups, weighting)")
        allowed = {"psu", "strata", "weight", "fpc", "groups", "weighting"}
        bad = set(d) - allowed
        if bad:
            raise self._err(f"design has unknown key(s) {sorted(bad)}; allowed {sorted(allowed)}")
        for k in ("psu", "strata", "fpc"):
            v = d.get(k)
            if v is not None and v not in self._q:
                raise self._err(f"design.{k} names {v!r}, which is not a question id; add the "
                                "question or fix the name")
        lists = {}
        for k in ("groups", "weighting"):
            v = d.get(k) or []
            if isinstance(v, str):
                v = [v]
            for name in v:
                if name not in self._q:
                    raise self._err(f"design.{k} names {name!r}, which is not a question id")
                if self._q[name].type not in ("single",):
                    raise self._err(f"design.{k} variable {name!r} is {self._q[name].type}; "
                                    "grouping/weighting variables must be single-choice")
            lists[k] = tuple(v)
        return DesignSpec(psu=d.get("psu"), strata=d.get("strata"), weight=d.get("weight"),
                          fpc=d.get("fpc"), **lists)

    def _line(self, *path: str | int) -> str:
        """`` line N`` of the YAML node at *path* (keys / list indices from the top), or ``""``
        when the questionnaire did not come from a file."""
        if self._text is None:
            return ""
        try:
            node = yaml.compose(self._text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:  # pragma: no cover - the text was parsed already
            return ""
        line = None
        for step in path:
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if k.value == step), None)
                if hit is None:
                    break
                line, node = hit[0].start_mark.line, hit[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line
            else:
                break
        return "" if line is None else f" line {line + 1}"

    def _report(self, r: Any) -> ReportRoles:
        """Validate the ``report:`` block (see :data:`REPORT_ROLES`); errors name the file, the
        line and the id."""
        if r is None:
            return ReportRoles()

        def fail(msg: str, *path: str | int) -> QuestionnaireError:
            return QuestionnaireError(f"{self._where}:{self._line('report', *path)}: {msg}")

        if not isinstance(r, dict):
            raise fail(f"'report:' must be a mapping of roles ({', '.join(REPORT_ROLES)})")
        for k in r:
            if k not in REPORT_ROLES:
                raise fail(f"report has unknown key {k!r}; allowed: {', '.join(REPORT_ROLES)}", k)
        out: dict[str, Any] = {}
        for role, (types, is_list, what) in REPORT_ROLES.items():
            v = r.get(role)
            if v is None:
                continue
            if not is_list and isinstance(v, list):
                raise fail(f"report.{role} must name one question ({what}), not a list", role)
            items = v if isinstance(v, list) else [v]
            if not items:
                raise fail(f"report.{role} is an empty list; leave it out to use the default", role)
            for i, qid in enumerate(items):
                at = (role, i) if isinstance(v, list) else (role,)
                if not isinstance(qid, str) or qid not in self._q:
                    raise fail(f"report.{role} names {qid!r}, which is not a question id of this "
                               "questionnaire; fix the id", *at)
                t = self._q[qid].type
                if t not in types:
                    raise fail(f"report.{role} names {qid!r}, a {t} question; it must be "
                               f"{'/'.join(types)} ({what})", *at)
                if self._q[qid].pii:
                    raise fail(f"report.{role} names {qid!r}, a PII question; it never reaches the "
                               "analysis data", *at)
            out[role] = tuple(items) if is_list else items[0]
        return ReportRoles(**out)

    # ------------------------------------------------------------------ access
    def __getitem__(self, qid: str) -> Question:
        try:
            return self._q[qid]
        except KeyError:
            near = [k for k in self._q if k.startswith(qid[:2])][:5] if qid else []
            raise QuestionnaireError(f"{self._where}: no question {qid!r}"
                                     + (f"; did you mean one of {near}?" if near else "")) from None

    def __contains__(self, qid: object) -> bool:
        return qid in self._q

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def id(self) -> str:
        """The wave id."""
        return self.wave["id"]

    @property
    def title(self) -> str:
        """The wave title (``wave.title``, or the id)."""
        return str(self.wave.get("title") or self.wave["id"])

    def columns(self, qid: str | None = None) -> list[str]:
        """Frame columns of question ``qid`` (all analysis columns, in order, if None).

        PII questions are included when asked by id; with ``qid=None`` they are left out
        (they never appear in the analysis frame).
        """
        if qid is None:
            return [c for q in self.questions if not q.pii for c in q.columns]
        return self[qid].columns

    def labels(self, qid: str) -> dict[int, str]:
        """Code -> label of a single/multi/rank question, or the scale of a matrix/likert."""
        return self[qid].labels

    def missing_codes(self, qid: str) -> dict[int, str]:
        """Missing codes (code -> label, e.g. ``{98: '不知道', 99: '拒答'}``) of a question."""
        return dict(self[qid].missing)

    def owner(self, column: str) -> str | None:
        """The question id a frame column belongs to (None for metadata / unknown)."""
        return self._owner.get(column)

    @property
    def pii_questions(self) -> list[Question]:
        """Questions flagged ``pii: true`` (identifiers; never in the analysis frame)."""
        return [q for q in self.questions if q.pii]

    @property
    def sensitive_questions(self) -> list[Question]:
        """Questions flagged ``sensitive:`` (kept, but never reported per station)."""
        return [q for q in self.questions if q.sensitive]

    def by_type(self, *types: str) -> list[Question]:
        """Questions of the given types, in order."""
        return [q for q in self.questions if q.type in types]

    # ------------------------------------------------------------------ skip logic
    def evaluate_ask_if(self, qid: str, frame: pd.DataFrame) -> pd.Series:
        """Boolean mask: which respondents should have been asked ``qid``.

        A question without ``ask_if`` is asked of everyone.  A missing answer makes a
        comparison false.

        Examples
        --------
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...   {"id": "a", "text": "A", "type": "single", "options": {1: "是", 2: "否"}},
        ...   {"id": "b", "text": "B", "type": "numeric", "ask_if": "a == 1"}]})
        >>> f = pd.DataFrame({"a": pd.Categorical(["是", "否", None], categories=["是", "否"])})
        >>> q.evaluate_ask_if("b", f).tolist()
        [True, False, False]
        """
        q = self[qid]
        if q.ask_if is None:
            return pd.Series(True, index=frame.index, name=qid)
        tree = self._asts[qid]
        out = self._evaluator().eval(tree.body, frame, q)
        return pd.Series(np.asarray(out, dtype=bool), index=frame.index, name=qid)

    def evaluate(self, expr: str, frame: pd.DataFrame, *, where: str = "expression") -> pd.Series:
        """Boolean mask of an arbitrary expression in the ``ask_if`` grammar (e.g. cleaning checks).

        Names must be frame columns of this questionnaire; ``where`` names the caller in errors.

        Examples
        --------
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...   {"id": "a", "text": "A", "type": "numeric"}]})
        >>> q.evaluate("a > 1", pd.DataFrame({"a": [0.0, 2.0, None]})).tolist()
        [False, True, False]
        """
        try:
            tree = parse_ask_if(expr)
        except ValueError as e:
            raise QuestionnaireError(f"{self._where}: {where}: {e}") from None
        for name in expression_names(tree):
            if name not in self._owner:
                raise QuestionnaireError(f"{self._where}: {where}: {expr!r} names unknown question "
                                         f"column {name!r}; use question ids / frame columns")
        dummy = Question(id=where, text=expr, type="text", ask_if=expr)
        out = self._evaluator().eval(tree.body, frame, dummy)
        return pd.Series(np.asarray(out, dtype=bool), index=frame.index, name=where)

    def expression_columns(self, expr: str) -> list[str]:
        """Frame columns an ``ask_if``-grammar expression reads (``q12.3`` -> ``q12_3``).

        Examples
        --------
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...   {"id": "a", "text": "A", "type": "numeric"}]})
        >>> q.expression_columns("a > 1 and a < 5")
        ['a']
        """
        try:
            tree = parse_ask_if(expr)
        except ValueError as e:
            raise QuestionnaireError(f"{self._where}: {e}") from None
        return list(dict.fromkeys(expression_names(tree)))

    def _evaluator(self) -> AskIfEvaluator:
        return AskIfEvaluator(self._where, lambda name: self._q[self._owner[name]])

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        types: dict[str, int] = {}
        for q in self.questions:
            types[q.type] = types.get(q.type, 0) + 1
        tt = ", ".join(f"{n} {t}" for t, n in types.items())
        return (f"<Questionnaire wave={self.id!r} {self.title!r}: {len(self.questions)} questions "
                f"({tt}); {len(self.pii_questions)} PII; sha256 {self.hash[:12]}>")

    def summary(self) -> pd.DataFrame:
        """One row per question: id, module, type, text, columns, pii, ask_if."""
        return pd.DataFrame([{"id": q.id, "module": q.module, "type": q.type, "text": q.text,
                              "n_columns": len(q.columns), "pii": q.pii, "ask_if": q.ask_if}
                             for q in self.questions])


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {(_plain(k) if not isinstance(k, (int, str)) else k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (_dt.date, _dt.datetime)):
        return x.isoformat()
    return x
