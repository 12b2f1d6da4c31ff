"""Data cleaning: rule-based, logged, idempotent and independent of row order.

:func:`clean` applies the cleaning rules of a wave to the analysis frame and returns a
:class:`CleanResult`: ``.data`` (the clean frame), ``.log`` (one row per decision),
``.missing`` (why every remaining NA cell is missing), ``.dropped`` (one row per dropped
respondent with its primary reason), ``.summary()`` (counts by rule, for the quality report),
``.item_nonresponse()`` and ``.write(out_dir)``.

Every rule either **drops** a respondent, **blanks** one value (sets it to NA, keeping the
reason in ``.missing``) or only **flags** it (a log row, nothing changes).

The ``cleaning:`` section of ``questionnaire.yml``
--------------------------------------------------
Keys are rule names; each maps to ``enabled:`` plus its thresholds (all optional: a missing
section means the defaults below).  ``rule: false`` is short for ``rule: {enabled: false}``.
Unknown rule names or keys raise :class:`~survey.errors.CleaningError` listing the valid ones.
The same structure can be passed as ``clean(frame, q, rules={...})`` to override the YAML.

.. code-block:: yaml

    cleaning:
      # ---- cell rules (blank one value; action: blank | flag) --------------------------------
      missing_codes:     {enabled: true}          # declared codes (98 不知道 / 99 拒答 / own codes),
                                                  # 问卷星 negatives (-1 blank, -2 not chosen,
                                                  # -3 skipped) and "(跳过)"/"(空)" texts -> NA,
                                                  # reason dont_know / refused / skipped / ...
      out_of_range:      {enabled: true}          # numeric outside its `range:` -> NA
      rank_invalid:      {enabled: true}          # duplicate ranks, rank outside 1..k, > k chosen
      multi_cap:         {enabled: true}          # more options ticked than `max_choices:`
      other_empty:       {enabled: true, action: flag}   # 其他 chosen, "please specify" empty
      skip_logic:        {enabled: true, when_condition_missing: keep}
                                                  # answered although ask_if is false -> NA;
                                                  # keep|blank when the filter answer is missing
      junk_text:         {enabled: true, action: flag, min_length: 3}
                                                  # keyboard mashing, one repeated character,
                                                  # punctuation only (text + "other" boxes)
      # ---- respondent rules (action: drop | flag) ---------------------------------------------
      duplicate_id:      {enabled: true}          # same rid twice
      duplicate_answers: {enabled: true, min_answered: 0.5}
                                                  # identical answer vector (rows answering at
                                                  # least this share of the columns)
      duplicate_contact: {enabled: true, keys: [phone_hash, ip_hash], window_hours: 24,
                          min_similarity: 0.9, max_lag: 20}
                                                  # same hashed phone/IP within the window AND
                                                  # >= min_similarity of answers equal (shared
                                                  # NAT addresses are common at a station)
      speeders:          {enabled: true, min_fraction_of_median: 0.3333, min_seconds_per_item: 1.0}
      straightlining:    {enabled: true, min_rows: 6, blocks: null, action: drop}
                                                  # same answer on every answered row of a
                                                  # matrix/likert block with >= min_rows rows
                                                  # (blocks: list of question ids, null = all)
      reversed_items:    {enabled: true, max_gap: 0.75, action: flag}
                                                  # likert with `reversed:` rows: |mean(normal)
                                                  # - mean(reversed, recoded)| >= max_gap x
                                                  # (scale max - min)
      attention:         {enabled: true, items: {trap_q: 3}, max_failures: 0, missing_fails: true}
                                                  # trap questions -> expected answer (code,
                                                  # label or list of them); drop when failures
                                                  # exceed max_failures
      # ---- declared impossible combinations (the ask_if grammar) ------------------------------
      checks:
        - name: young_full_professor
          when: "age < 22 and title == '正高'"    # true = impossible
          blank: [title]                          # columns to blank (default: every column named)
          action: blank                           # blank | drop | flag

Duplicates keep the first complete submission: within a group the row with the most answered
columns, ties broken by the earliest ``submitted_at`` (then ``rid``).  Each dropped respondent
has exactly one *primary* reason, the first matching rule in the order
``duplicate_id, duplicate_answers, duplicate_contact, speeders, attention, straightlining,
reversed_items, checks``; other matching drop rules are logged with action ``flag``.  Cell
decisions (blank/flag) on respondents who end up dropped are left out of the log: their drop
row speaks for them.

Determinism: rows are processed sorted by (``submitted_at``, ``rid``, row content), rules run
to a fixed point (dropping speeders moves the median, blanking a filter answer changes skip
logic), so cleaning the clean output changes nothing and permuting the input rows permutes
the output rows only (the output keeps the input's row order; the log is in the stable order).
Missing-code categories (不知道, 拒答 ...) are removed from single-choice categoricals.

Examples
--------
>>> import pandas as pd
>>> from survey import Questionnaire
>>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
...     {"id": "age", "text": "您的年龄", "type": "numeric", "range": [18, 70]}]})
>>> f = pd.DataFrame({"rid": ["a", "b", "c"], "age": [40.0, 150.0, 99.0]})
>>> res = clean(f, q)
>>> res.data["age"].tolist()
[40.0, nan, nan]
>>> res.log[["rid", "rule", "old_value", "action"]].values.tolist()
[['c', 'missing_codes', '99.0', 'blank'], ['b', 'out_of_range', '150.0', 'blank']]
"""
from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import CleaningError, CleaningWarning, QuestionnaireError
from .privacy import scrub_frame
from .questionnaire import Question, Questionnaire

__all__ = ["clean", "CleanResult", "DEFAULT_RULES", "LOG_COLUMNS", "MISSING_COLUMNS"]

LOG_COLUMNS = ["rid", "rule", "question", "column", "old_value", "new_value", "action", "detail",
               "pass"]
MISSING_COLUMNS = ["rid", "question", "column", "reason", "asked"]
META = ("rid", "submitted_at", "duration_s", "source", "ip_hash", "phone_hash")

DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "missing_codes": {"enabled": True, "action": "blank"},
    "out_of_range": {"enabled": True, "action": "blank"},
    "rank_invalid": {"enabled": True, "action": "blank"},
    "multi_cap": {"enabled": True, "action": "blank"},
    "other_empty": {"enabled": True, "action": "flag"},
    "skip_logic": {"enabled": True, "action": "blank", "when_condition_missing": "keep"},
    "junk_text": {"enabled": True, "action": "flag", "min_length": 3},
    "duplicate_id": {"enabled": True, "action": "drop"},
    "duplicate_answers": {"enabled": True, "action": "drop", "min_answered": 0.5},
    "duplicate_contact": {"enabled": True, "action": "drop", "keys": ["phone_hash", "ip_hash"],
                          "window_hours": 24.0, "min_similarity": 0.9, "max_lag": 20},
    "speeders": {"enabled": True, "action": "drop", "min_fraction_of_median": 1 / 3,
                 "min_seconds_per_item": 1.0},
    "attention": {"enabled": True, "action": "drop", "items": {}, "max_failures": 0,
                  "missing_fails": True},
    "straightlining": {"enabled": True, "action": "drop", "min_rows": 6, "blocks": None},
    "reversed_items": {"enabled": True, "action": "flag", "max_gap": 0.75},
}
_CELL_RULES = ("missing_codes", "out_of_range", "rank_invalid", "multi_cap", "other_empty",
               "checks", "skip_logic", "junk_text")
_DUP_RULES = ("duplicate_id", "duplicate_answers", "duplicate_contact")
_DROP_RULES = ("speeders", "attention", "straightlining", "reversed_items", "checks")
_RULE_ORDER = {r: i for i, r in enumerate(
    _CELL_RULES[:-3] + ("skip_logic", "junk_text") + _DUP_RULES + _DROP_RULES[:-1] + ("checks",))}
_ACTIONS = {r: ({"blank", "flag"} if r in _CELL_RULES else {"drop", "flag"}) for r in DEFAULT_RULES}
_CHECK_KEYS = {"name", "when", "blank", "action"}
_NUMBER_KEYS = {"min_answered", "window_hours", "min_similarity", "max_lag", "min_fraction_of_median",
                "min_seconds_per_item", "max_failures", "min_rows", "max_gap", "min_length"}
_MISSING_LABEL = {"不知道": "dont_know", "说不清": "dont_know", "不清楚": "dont_know",
                  "拒答": "refused", "拒绝回答": "refused", "不适用": "not_applicable"}
_NEG = {-1: "blank", -2: "not_chosen", -3: "skipped"}
_TEXT_MISSING = {"(跳过)": "skipped", "跳过": "skipped", "（跳过）": "skipped", "(空)": "blank",
                 "（空）": "blank"}
_MAX_PASSES = 20


def _keyboard_pattern() -> str:
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
    grams = {r[i:i + 4] for r in rows for i in range(len(r) - 3)}
    grams |= {g[::-1] for g in grams}
    return "|".join(sorted(grams))


_KEYBOARD = re.compile(_keyboard_pattern())


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------
def _settings(q: Questionnaire, rules: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults <- questionnaire ``cleaning:`` <- ``rules=``; validated."""
    out = copy.deepcopy(DEFAULT_RULES)
    out["checks"] = []
    for src, where in ((q.cleaning, f"{q._where}: cleaning"), (rules or {}, "rules=")):
        if not isinstance(src, Mapping):
            raise CleaningError(f"{where} must be a mapping of rule name -> settings, not "
                                f"{type(src).__name__}")
        for name, val in src.items():
            if name == "checks":
                out["checks"] = _checks(val, q, where)
                continue
            if name not in DEFAULT_RULES:
                raise CleaningError(f"{where}: unknown cleaning rule {name!r}; valid rules: "
                                    f"{', '.join([*DEFAULT_RULES, 'checks'])}")
            if isinstance(val, bool):
                val = {"enabled": val}
            if not isinstance(val, Mapping):
                raise CleaningError(f"{where}: rule {name!r} must be a mapping (enabled: ..., "
                                    f"thresholds) or true/false, not {val!r}")
            bad = set(val) - set(DEFAULT_RULES[name])
            if bad:
                raise CleaningError(f"{where}: rule {name!r} has unknown key(s) {sorted(bad)}; "
                                    f"valid keys: {', '.join(DEFAULT_RULES[name])}")
            for k, v in val.items():
                _check_value(name, k, v, q, where)
            out[name].update(copy.deepcopy(dict(val)))
    return out


def _check_value(rule: str, key: str, v: Any, q: Questionnaire, where: str) -> None:
    def fail(msg: str) -> CleaningError:
        return CleaningError(f"{where}: {rule}.{key}: {msg}")
    if key == "enabled" and not isinstance(v, bool):
        raise fail(f"must be true or false, not {v!r}")
    if key == "action" and v not in _ACTIONS[rule]:
        raise fail(f"{v!r} is not one of {sorted(_ACTIONS[rule])}")
    if key in _NUMBER_KEYS:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise fail(f"must be a non-negative number, not {v!r}")
        if key in ("min_answered", "min_similarity", "max_gap") and v > 1:
            raise fail(f"is a share and must lie in [0, 1], not {v!r}")
    if key == "when_condition_missing" and v not in ("keep", "blank"):
        raise fail(f"{v!r} must be 'keep' or 'blank'")
    if key == "keys":
        if not isinstance(v, list) or not all(k in ("phone_hash", "ip_hash") for k in v):
            raise fail(f"{v!r} must be a list drawn from [phone_hash, ip_hash]")
    if key == "blocks" and v is not None:
        if not isinstance(v, list):
            raise fail("must be a list of matrix/likert question ids or null")
        for b in v:
            if b not in q or q[b].type not in ("matrix", "likert"):
                raise fail(f"{b!r} is not a matrix/likert question of wave {q.id!r}")
    if key == "items":
        if not isinstance(v, Mapping):
            raise fail("must map a question id (or matrix column) to its expected answer")
        for col in v:
            if q.owner(str(col)) is None and str(col) not in q:
                raise fail(f"{col!r} is not a question or column of wave {q.id!r}")


def _checks(val: Any, q: Questionnaire, where: str) -> list[dict[str, Any]]:
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
# the result
# ---------------------------------------------------------------------------------------------
@dataclass
class CleanResult:
    """Result of :func:`clean`.

    Attributes
    ----------
    data : DataFrame
        The clean analysis frame (input row order, dropped respondents removed).
    log : DataFrame
        One row per decision: ``rid, rule, question, column, old_value, new_value, action
        (drop | blank | flag), detail, pass``.
    missing : DataFrame
        ``rid, question, column, reason, asked``: why each NA cell of ``data`` is missing
        (multi/rank questions: one row per unanswered question, ``column`` = question id).
    dropped : DataFrame
        ``rid, rule, detail``: each dropped respondent once, with its primary reason.
    n_raw : int
    settings : dict
        The rule settings used (defaults <- questionnaire <- ``rules=``).
    questionnaire_hash, wave : str
    source_sha256 : str or None
        SHA-256 of the raw file the frame came from, when known.
    input_frame_hash : str
        SHA-256 over the input frame's content (row-order independent).
    not_applied : dict
        Enabled rules that could not run, with the reason (e.g. no ``duration_s`` column).

    Methods: :meth:`summary` (counts per rule), :meth:`item_nonresponse` (missing share per
    question, by reason), :meth:`write` (clean data + log + JSON sidecar to a folder).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import Questionnaire, clean
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "hours", "text": "周工作小时", "type": "numeric", "range": [0, 112],
    ...      "missing_codes": {}}]})
    >>> r = clean(pd.DataFrame({"rid": ["1", "2", "3"], "hours": [40.0, 200.0, 50.0]}), q)
    >>> r.n_raw, r.n_clean
    (3, 3)
    >>> r.data["hours"].tolist()
    [40.0, nan, 50.0]
    >>> r.log[["rid", "rule", "column", "old_value", "action"]]
      rid          rule column old_value action
    0   2  out_of_range  hours     200.0  blank
    >>> r.missing[["rid", "column", "reason"]].to_dict("records")
    [{'rid': '2', 'column': 'hours', 'reason': 'out_of_range'}]
    """

    data: pd.DataFrame
    log: pd.DataFrame
    missing: pd.DataFrame
    dropped: pd.DataFrame
    n_raw: int
    settings: dict[str, Any]
    questionnaire_hash: str
    wave: str
    source_sha256: str | None = None
    source_file: str | None = None
    input_frame_hash: str = ""
    passes: int = 1
    not_applied: dict[str, str] = field(default_factory=dict)

    @property
    def n_clean(self) -> int:
        """Respondents kept."""
        return int(len(self.data))

    def summary(self) -> pd.DataFrame:
        """Counts by rule: respondents dropped (primary reason), cells blanked, flags.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import Questionnaire
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...     {"id": "a", "text": "A", "type": "numeric", "range": [0, 10]}]})
        >>> int(clean(pd.DataFrame({"rid": ["1", "2"], "a": [1.0, 11.0]}), q).summary().loc[
        ...     "out_of_range", "blanked"])
        1
        """
        rules = list(_RULE_ORDER)
        lg = self.log
        drop = self.dropped["rule"].value_counts()
        blank = lg.loc[lg["action"] == "blank", "rule"].value_counts()
        flag = lg.loc[lg["action"] == "flag", "rule"].value_counts()
        resp = lg.groupby("rule")["rid"].nunique() if len(lg) else pd.Series(dtype="int64")
        out = pd.DataFrame({"enabled": [bool(self.settings[r]["enabled"]) if r != "checks"
                                        else bool(self.settings["checks"]) for r in rules]},
                           index=pd.Index(rules, name="rule"))
        for name, s in (("dropped", drop), ("blanked", blank), ("flagged", flag),
                        ("respondents", resp)):
            out[name] = s.reindex(rules).fillna(0).astype("int64").to_numpy()
        out.loc["total"] = [True, int(len(self.dropped)), int(out["blanked"].sum()),
                            int(out["flagged"].sum()), int(lg["rid"].nunique()) if len(lg) else 0]
        out.attrs.update(n_raw=self.n_raw, n_clean=self.n_clean)
        return out

    def item_nonresponse(self) -> pd.DataFrame:
        """Item nonresponse among respondents who were asked: by question and reason.

        Returns ``question, reason, n_respondents, n_cells, n_asked, rate`` (rate =
        n_respondents / n_asked); ``skipped`` cells of respondents not asked are left out.

        Examples
        --------
        >>> import pandas as pd
        >>> from survey import Questionnaire
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...     {"id": "a", "text": "A", "type": "numeric"}]})
        >>> r = clean(pd.DataFrame({"rid": ["1", "2"], "a": [1.0, 98.0]}), q)
        >>> r.item_nonresponse()[["question", "reason", "n_respondents", "rate"]].values.tolist()
        [['a', 'dont_know', 1, 0.5]]
        """
        m = self.missing[self.missing["asked"]]
        cols = ["question", "reason", "n_respondents", "n_cells", "n_asked", "rate"]
        if m.empty:
            return pd.DataFrame(columns=cols)
        g = m.groupby(["question", "reason"], sort=False).agg(
            n_respondents=("rid", "nunique"), n_cells=("rid", "size")).reset_index()
        n_asked = self.missing.attrs.get("n_asked", {})
        g["n_asked"] = g["question"].map(n_asked).fillna(self.n_clean).astype("int64")
        g["rate"] = (g["n_respondents"] / g["n_asked"].where(g["n_asked"] > 0)).round(6)
        return g[cols].reset_index(drop=True)

    # ------------------------------------------------------------------ outputs
    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the clean data and its log under ``out_dir/<wave>/``.

        Files: ``clean.parquet`` (data), ``missing.parquet`` (reasons), ``clean_log.csv``
        (UTF-8 with BOM, opens in Excel), ``clean_log.xlsx`` (log + summary sheets) and
        ``clean.json`` (input SHA-256, questionnaire hash, rule settings, counts and the SHA-256
        of each written file).

        Parameters
        ----------
        out_dir : str or Path
            The parent folder; the files go to ``out_dir/<wave>/``.

        Returns
        -------
        dict
            Paths by role: ``data, missing, log_csv, log_xlsx, sidecar``.

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> from survey import Questionnaire
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...     {"id": "a", "text": "A", "type": "numeric"}]})
        >>> paths = clean(pd.DataFrame({"rid": ["1"], "a": [1.0]}), q).write(tempfile.mkdtemp())
        >>> sorted(paths)
        ['data', 'log_csv', 'log_xlsx', 'missing', 'sidecar']
        """
        d = Path(out_dir) / _safe(self.wave)
        d.mkdir(parents=True, exist_ok=True)
        paths = {"data": d / "clean.parquet", "missing": d / "missing.parquet",
                 "log_csv": d / "clean_log.csv", "log_xlsx": d / "clean_log.xlsx",
                 "sidecar": d / "clean.json"}
        # respondents' text (old_value of "other" answers, ...) never becomes a live formula
        from .io.safe import harden_workbook, neutralise_frame, write_csv, writing
        with writing(paths["data"]):
            self.data.to_parquet(paths["data"], index=False)
        with writing(paths["missing"]):
            self.missing.to_parquet(paths["missing"], index=False)
        with writing(paths["log_csv"]):
            write_csv(self.log, paths["log_csv"], index=False, encoding="utf-8-sig")
        summ = self.summary().reset_index()
        with writing(paths["log_xlsx"]), pd.ExcelWriter(paths["log_xlsx"], engine="openpyxl") as xw:
            neutralise_frame(self.log.head(1_000_000)).to_excel(xw, sheet_name="log", index=False)
            neutralise_frame(summ).to_excel(xw, sheet_name="summary", index=False)
            neutralise_frame(self.dropped).to_excel(xw, sheet_name="dropped", index=False)
            harden_workbook(xw.book)
        side = {
            "wave": self.wave,
            "input": {"file": self.source_file, "sha256": self.source_sha256,
                      "frame_sha256": self.input_frame_hash, "n_respondents": self.n_raw},
            "questionnaire_sha256": self.questionnaire_hash,
            "rules": _jsonable(self.settings),
            "not_applied": self.not_applied,
            "passes": self.passes,
            "n_raw": self.n_raw, "n_clean": self.n_clean, "n_dropped": int(len(self.dropped)),
            "dropped_by_rule": {k: int(v) for k, v in self.dropped["rule"].value_counts()
                                .sort_index().items()},
            "outputs": {k: {"file": p.name, "sha256": _sha256(p)} for k, p in paths.items()
                        if k != "sidecar"},
        }
        from .version import __version__
        side["survey_version"] = __version__
        with writing(paths["sidecar"]):
            paths["sidecar"].write_text(json.dumps(side, ensure_ascii=False, indent=2) + "\n",
                                        encoding="utf-8")
        return paths

    def __repr__(self) -> str:
        s = self.summary()
        lines = [f"<CleanResult wave {self.wave!r}: {self.n_raw} raw -> {self.n_clean} clean "
                 f"({len(self.dropped)} dropped), {len(self.log)} log rows, "
                 f"{self.passes} pass(es)>"]
        busy = s[(s[["dropped", "blanked", "flagged"]].sum(axis=1) > 0) & (s.index != "total")]
        for rule, r in busy.iterrows():
            lines.append(f"  {rule:<18} dropped {r['dropped']:>6}  blanked {r['blanked']:>6}  "
                         f"flagged {r['flagged']:>6}")
        for rule, why in self.not_applied.items():
            lines.append(f"  {rule:<18} not applied: {why}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(repr(self).splitlines()[0])
        return f"<p>{head}</p>" + self.summary().to_html()


def _safe(s: str) -> str:
    return re.sub(r"[^\w.-]+", "_", str(s)) or "wave"


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


# ---------------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------------
class _Engine:
    def __init__(self, df: pd.DataFrame, q: Questionnaire, st: dict[str, Any]) -> None:
        self.df = df
        self.q = q
        self.st = st
        self.n = len(df)
        self.alive = np.ones(self.n, dtype=bool)
        self.pass_no = 0
        self.logs: list[dict[str, Any]] = []
        self.reasons: dict[str, np.ndarray] = {}
        self.drop_rule = np.full(self.n, None, dtype=object)
        self.drop_detail = np.full(self.n, None, dtype=object)
        self.not_applied: dict[str, str] = {}
        cols = set(df.columns)
        self.qs = [qu for qu in q.questions if not qu.pii and any(c in cols for c in qu.columns)]
        self.qcols = [c for qu in self.qs for c in qu.columns if c in cols]
        self.col_order = {c: i for i, c in enumerate(self.qcols)}
        self.rid = df["rid"].to_numpy(dtype=object)

    # ---------------------------------------------------------------- helpers
    def on(self, rule: str) -> bool:
        return bool(self.st[rule]["enabled"])

    def log(self, rows: np.ndarray, rule: str, action: str, *, question: Any = None,
            column: Any = None, old: Any = None, new: Any = None, detail: Any = None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        self.logs.append({"row": rows, "rule": rule, "action": action, "question": question,
                          "column": column, "old": old, "new": new, "detail": detail,
                          "pass": self.pass_no})

    def blank(self, col: str, mask: np.ndarray, rule: str, reason: str | np.ndarray,
              qid: str, detail: Any = None, action: str = "blank") -> bool:
        """Blank (or flag) ``col`` where ``mask`` (alive rows with a value); True if changed."""
        s = self.df[col]
        mask = mask & self.alive & s.notna().to_numpy(dtype=bool)
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return False
        old = _as_text(s.iloc[rows])
        if isinstance(detail, np.ndarray):
            detail = detail[rows] if detail.shape[0] == self.n else detail
        if action == "flag":
            self.log(rows, rule, "flag", question=qid, column=col, old=old, new=old, detail=detail)
            return False
        self.log(rows, rule, "blank", question=qid, column=col, old=old, new=None, detail=detail)
        self.df[col] = s.mask(mask)
        arr = self.reasons.setdefault(col, np.full(self.n, None, dtype=object))
        arr[rows] = reason[rows] if isinstance(reason, np.ndarray) else reason
        return True

    def drop(self, rows: np.ndarray, rule: str, detail: Any, *, question: Any = None,
             column: Any = None, old: Any = None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.log(rows, rule, "drop", question=question, column=column, old=old, detail=detail)
        self.alive[rows] = False
        self.drop_rule[rows] = rule
        self.drop_detail[rows] = detail if not isinstance(detail, np.ndarray) else detail

    def num(self, col: str) -> np.ndarray:
        return pd.to_numeric(self.df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    # ---------------------------------------------------------------- cell rules
    def missing_codes(self) -> bool:
        st = self.st["missing_codes"]
        act = st["action"]
        changed = False
        for qu in self.qs:
            t = qu.type
            cols = [c for c in qu.columns if c in self.df]
            if t == "single" and qu.id in self.df:
                s = self.df[qu.id]
                if not isinstance(s.dtype, pd.CategoricalDtype):
                    continue
                labs = {lab: _MISSING_LABEL.get(lab, "missing_code") for lab in qu.missing.values()}
                if not labs:
                    continue
                vals = s.astype(object).to_numpy()
                mask = np.isin(vals, list(labs))
                if mask.any():
                    reason = pd.Series(vals).map(labs).to_numpy(dtype=object)
                    changed |= self.blank(qu.id, mask, "missing_codes", reason, qu.id, action=act)
            elif t in ("matrix", "likert", "numeric"):
                codes = {int(c): _MISSING_LABEL.get(lab, "missing_code")
                         for c, lab in qu.missing.items()}
                lo = qu.range[0] if (t == "numeric" and qu.range) else (
                    min(qu.scale) if qu.scale else 0)
                for c, r in _NEG.items():
                    if c < lo and c not in codes and c not in qu.scale:
                        codes[c] = r
                if not codes:
                    continue
                for col in cols if t != "numeric" else [qu.id]:
                    if col not in self.df:
                        continue
                    v = self.num(col)
                    mask = np.isin(v, list(codes))
                    if mask.any():
                        reason = np.full(self.n, None, dtype=object)
                        for c, r in codes.items():
                            reason[v == c] = r
                        changed |= self.blank(col, mask, "missing_codes", reason, qu.id, action=act)
            elif t == "duration" and qu.id in self.df:
                v = self.num(qu.id)
                mask = v < 0
                if mask.any():
                    reason = np.full(self.n, "missing_code", dtype=object)
                    for c, r in _NEG.items():
                        reason[v == c] = r
                    changed |= self.blank(qu.id, mask, "missing_codes", reason, qu.id, action=act)
            text_cols = ([qu.id] if t == "text" else []) + (
                [f"{qu.id}_other"] if qu.other is not None else [])
            for col in text_cols:
                if col not in self.df:
                    continue
                s = self.df[col].astype("str")
                st_ = s.str.strip()
                mask = st_.isin(list(_TEXT_MISSING)).to_numpy(dtype=bool) | (
                    st_.str.len() == 0).to_numpy(dtype=bool)
                if mask.any():
                    reason = st_.map(_TEXT_MISSING).fillna("blank").to_numpy(dtype=object)
                    changed |= self.blank(col, mask, "missing_codes", reason, qu.id, action=act)
        return changed

    def out_of_range(self) -> bool:
        act = self.st["out_of_range"]["action"]
        changed = False
        for qu in self.qs:
            if qu.type != "numeric" or qu.range is None or qu.id not in self.df:
                continue
            lo, hi = qu.range
            v = self.num(qu.id)
            mask = (v < lo) | (v > hi)
            if mask.any():
                changed |= self.blank(qu.id, mask, "out_of_range", "out_of_range", qu.id,
                                      detail=f"outside [{lo:g}, {hi:g}]", action=act)
        return changed

    def _blank_question(self, qu: Question, cols: list[str], mask: np.ndarray, rule: str,
                        reason: str, detail: str, act: str) -> bool:
        changed = False
        for col in cols:
            changed |= self.blank(col, mask, rule, reason, qu.id, detail=detail, action=act)
        return changed

    def rank_invalid(self) -> bool:
        act = self.st["rank_invalid"]["action"]
        changed = False
        for qu in self.q.by_type("rank"):
            cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in self.df]
            if not cols or qu.pii:
                continue
            m = np.column_stack([self.num(c) for c in cols])
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
                changed |= self._blank_question(qu, cols, mask, "rank_invalid", "invalid",
                                                why, act)  # type: ignore[arg-type]
        return changed

    def multi_cap(self) -> bool:
        act = self.st["multi_cap"]["action"]
        changed = False
        for qu in self.q.by_type("multi"):
            if qu.max_choices is None or qu.pii:
                continue
            cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in self.df]
            if not cols:
                continue
            m = np.column_stack([self.df[c].to_numpy(dtype=float, na_value=0.0) for c in cols])
            mask = m.sum(axis=1) > qu.max_choices
            if mask.any():
                changed |= self._blank_question(qu, cols, mask, "multi_cap", "invalid",
                                                f"more than {qu.max_choices} chosen", act)
        return changed

    def other_empty(self) -> bool:
        act = self.st["other_empty"]["action"]
        changed = False
        for qu in self.qs:
            if qu.other is None or f"{qu.id}_other" not in self.df:
                continue
            txt = self.df[f"{qu.id}_other"].astype("str").str.strip()
            empty = (txt.isna() | (txt.str.len() == 0)).to_numpy(dtype=bool)
            if qu.type == "single":
                if qu.id not in self.df:
                    continue
                chosen = (self.df[qu.id].astype(object) == qu.options[qu.other]).to_numpy(dtype=bool)
                changed |= self.blank(qu.id, chosen & empty, "other_empty", "invalid", qu.id,
                                      detail="其他 chosen but not specified", action=act)
            else:
                col = f"{qu.id}_{qu.other}"
                if col not in self.df:
                    continue
                chosen = self.df[col].notna().to_numpy(dtype=bool)
                if qu.type == "multi":
                    chosen = chosen & self.df[col].fillna(False).to_numpy(dtype=bool)
                mask = chosen & empty & self.alive
                rows = np.flatnonzero(mask)
                if rows.size == 0:
                    continue
                if act == "flag" or qu.type == "rank":
                    old = _as_text(self.df[col].iloc[rows])
                    self.log(rows, "other_empty", "flag", question=qu.id, column=col, old=old,
                             new=old, detail="其他 chosen but not specified")
                    continue
                # multi, blank: untick 其他; a question left with nothing ticked becomes NA
                s = self.df[col].copy()
                self.log(rows, "other_empty", "blank", question=qu.id, column=col, old="True",
                         new="False", detail="其他 chosen but not specified: unticked")
                s[mask] = False
                self.df[col] = s
                cols = [f"{qu.id}_{c}" for c in qu.options if f"{qu.id}_{c}" in self.df]
                m = np.column_stack([self.df[c].to_numpy(dtype=float, na_value=0.0) for c in cols])
                none = mask & (m.sum(axis=1) == 0)
                self._blank_question(qu, cols, none, "other_empty", "invalid",
                                     "nothing left ticked", "blank")
                changed = True
        return changed

    def checks(self, phase: str) -> bool:
        changed = False
        for c in self.st["checks"]:
            if (c["action"] == "drop") != (phase == "drop"):
                continue
            try:
                hit = self.q.evaluate(c["when"], self.df,
                                      where=f"cleaning check {c['name']!r}").to_numpy(dtype=bool)
            except QuestionnaireError as e:
                self.not_applied[f"checks:{c['name']}"] = str(e)
                continue
            hit = hit & self.alive
            if phase == "drop":
                self.pending.append(("checks", hit, f"check {c['name']}: {c['when']}"))
                continue
            for col in c["blank"]:
                if col not in self.df:
                    continue
                changed |= self.blank(col, hit, "checks", "inconsistent", self.q.owner(col),
                                      detail=f"{c['name']}: {c['when']}", action=c["action"])
        return changed

    def skip_logic(self) -> bool:
        st = self.st["skip_logic"]
        changed = False
        for qu in self.qs:
            if qu.ask_if is None:
                continue
            try:
                asked = self.q.evaluate_ask_if(qu.id, self.df).to_numpy(dtype=bool)
            except QuestionnaireError as e:
                self.not_applied[f"skip_logic:{qu.id}"] = str(e)
                continue
            mask = ~asked
            if st["when_condition_missing"] == "keep":
                mask &= ~self._cond_missing(qu)
            cols = [c for c in qu.columns if c in self.df]
            detail = f"ask_if {qu.ask_if} is false"
            for col in cols:
                changed |= self.blank(col, mask, "skip_logic", "skipped", qu.id, detail=detail,
                                      action=st["action"])
        return changed

    def _cond_missing(self, qu: Question) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for name in self.q.expression_columns(qu.ask_if or ""):
            if name in self.df:
                out |= self.df[name].isna().to_numpy(dtype=bool)
        return out

    def junk_text(self) -> bool:
        st = self.st["junk_text"]
        changed = False
        minlen = int(st["min_length"])
        rep = re.compile(r"^(.)\1{%d,}$" % max(minlen - 1, 1))
        for qu in self.qs:
            cols = ([qu.id] if qu.type == "text" else []) + (
                [f"{qu.id}_other"] if qu.other is not None else [])
            for col in cols:
                if col not in self.df or (qu.type == "text" and qu.id in (
                        self.q.design.psu, self.q.design.strata)):
                    continue
                s = self.df[col].astype("str").str.strip()
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
                changed |= self.blank(col, mask, "junk_text", "junk", qu.id, detail=why,
                                      action=st["action"])
        return changed

    # ---------------------------------------------------------------- respondent rules
    def codes(self) -> np.ndarray:
        """Integer matrix of the answers (−1 = NA), one column per question column."""
        if not self.qcols:
            return np.zeros((self.n, 0), dtype=np.int64)
        return np.column_stack([pd.factorize(self.df[c], use_na_sentinel=True)[0]
                                for c in self.qcols]).astype(np.int64)

    def _resolve_groups(self, rows: np.ndarray, group: np.ndarray, complete: np.ndarray,
                        rule: str, detail: str) -> None:
        """Within each group (label per row in ``rows``) keep the first complete submission."""
        if rows.size == 0:
            return
        order = np.lexsort((rows, -complete[rows], group))
        g_sorted = group[order]
        first = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
        keeper_of_group = rows[order][first]
        gid = np.cumsum(first) - 1
        keeper = keeper_of_group[gid]
        losers = ~first
        if not losers.any():
            return
        lose_rows = rows[order][losers]
        kept_rid = self.rid[keeper[losers]].astype(str)
        det = np.char.add(f"{detail} ", kept_rid).astype(object)
        if self.st[rule]["action"] == "flag":
            self.log(lose_rows, rule, "flag", detail=det)
            return
        self.drop(lose_rows, rule, det)

    def duplicates(self) -> None:
        codes = None
        if self.on("duplicate_id"):
            rows = np.flatnonzero(self.alive)
            rid = self.df["rid"].to_numpy(dtype=object)[rows]
            g, _ = pd.factorize(rid)
            counts = np.bincount(g)
            multi = counts[g] > 1
            if multi.any():
                codes = self.codes()
                complete = (codes >= 0).sum(axis=1)
                self._resolve_groups(rows[multi], g[multi], complete, "duplicate_id",
                                     "same respondent id as")
        if self.on("duplicate_answers") and self.qcols:
            codes = self.codes() if codes is None else codes
            complete = (codes >= 0).sum(axis=1)
            minans = float(self.st["duplicate_answers"]["min_answered"])
            rows = np.flatnonzero(self.alive & (complete >= max(1, minans * codes.shape[1])))
            if rows.size > 1:
                _, g = np.unique(codes[rows], axis=0, return_inverse=True)
                g = g.ravel()
                multi = np.bincount(g)[g] > 1
                if multi.any():
                    self._resolve_groups(rows[multi], g[multi], complete, "duplicate_answers",
                                         "identical answers to")
        if self.on("duplicate_contact") and self.qcols:
            st = self.st["duplicate_contact"]
            keys = [k for k in st["keys"] if k in self.df]
            if not keys:
                self.not_applied["duplicate_contact"] = "no phone_hash/ip_hash column"
                return
            codes = self.codes() if codes is None else codes
            complete = (codes >= 0).sum(axis=1)
            if "submitted_at" in self.df:
                t = self.df["submitted_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
                t_ok = ~np.isnat(self.df["submitted_at"].to_numpy(dtype="datetime64[ns]"))
            else:
                t, t_ok = np.zeros(self.n, dtype=np.int64), np.ones(self.n, dtype=bool)
            win = float(st["window_hours"]) * 3600e9
            a_all, b_all = [], []
            for key in keys:
                kv = self.df[key]
                rows = np.flatnonzero(self.alive & kv.notna().to_numpy(dtype=bool))
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
                gmat = coo_matrix((np.ones(a.size), (a, b)), shape=(self.n, self.n))
                _, lab = connected_components(gmat, directed=False)
                nodes = np.unique(np.r_[a, b])
                self._resolve_groups(nodes, lab[nodes], complete, "duplicate_contact",
                                     "same phone/IP and answers as")

    def respondent_rules(self) -> None:
        """Speeders, attention, straightlining, reversed items, drop-checks: on the same set."""
        self.pending: list[tuple[str, np.ndarray, Any]] = []
        if self.on("speeders"):
            self._speeders()
        if self.on("attention"):
            self._attention()
        if self.on("straightlining"):
            self._straightlining()
        if self.on("reversed_items"):
            self._reversed()
        self.checks("drop")
        taken = ~self.alive
        for rule, hit, detail in self.pending:
            hit = hit & self.alive
            act = self.st[rule]["action"] if rule != "checks" else "drop"
            det = detail if isinstance(detail, np.ndarray) else np.full(self.n, detail, dtype=object)
            primary = hit & ~taken
            secondary = hit & taken & self.alive_at_start
            if act == "drop":
                rows = np.flatnonzero(primary)
                self.log(rows, rule, "drop", detail=det[rows])
                taken |= primary
                self.drop_rule[rows] = rule
                self.drop_detail[rows] = det[rows]
                rows2 = np.flatnonzero(secondary & ~primary)
                self.log(rows2, rule, "flag", detail=np.char.add(np.char.add(
                    "also matches (dropped as ", self.drop_rule[rows2].astype(str)),
                    np.char.add("): ", det[rows2].astype(str))).astype(object))
            else:
                rows = np.flatnonzero(hit)
                self.log(rows, rule, "flag", detail=det[rows])
        self.alive &= ~taken

    def _speeders(self) -> None:
        st = self.st["speeders"]
        if "duration_s" not in self.df:
            self.not_applied["speeders"] = "no duration_s column"
            return
        d = self.num("duration_s")
        ok = self.alive & ~np.isnan(d)
        if not ok.any():
            return
        med = float(np.median(d[ok]))
        frac = float(st["min_fraction_of_median"])
        fast = ok & (d < frac * med)
        items = np.zeros(self.n, dtype=np.int64)
        for qu in self.qs:
            cols = [c for c in qu.columns if c in self.df and not c.endswith("_other")]
            if not cols:
                continue
            na = np.column_stack([self.df[c].notna().to_numpy(dtype=bool) for c in cols])
            items += na.sum(axis=1) if qu.type in ("matrix", "likert") else na.any(axis=1)
        pace = d / np.maximum(items, 1)
        slow_min = float(st["min_seconds_per_item"])
        too_fast = ok & (pace < slow_min) & (items > 0)
        hit = fast | too_fast
        det = np.where(fast, np.char.add(np.char.add(
            np.round(np.nan_to_num(d)).astype(int).astype(str), "s < "),
            f"{frac:.3g} x median {med:.0f}s"), np.char.add(np.char.add(
                np.round(np.nan_to_num(pace), 2).astype(str), "s per item < "), f"{slow_min:g}s"))
        self.pending.append(("speeders", hit, det.astype(object)))

    def _attention(self) -> None:
        st = self.st["attention"]
        items = st["items"]
        if not items:
            return
        fails = np.zeros(self.n, dtype=np.int64)
        names = []
        for col, expect in items.items():
            col = str(col)
            if col not in self.df:
                self.not_applied[f"attention:{col}"] = f"column {col!r} not in the frame"
                continue
            qid = self.q.owner(col) or col
            exp = expect if isinstance(expect, list) else [expect]
            s = self.df[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                lab = self.q.labels(qid)
                exp = [lab.get(e, e) if isinstance(e, int) else e for e in exp]
                vals = s.astype(object)
            else:
                vals = pd.to_numeric(s, errors="coerce")
                exp = [{v: k for k, v in self.q.labels(qid).items()}.get(e, e)
                       if isinstance(e, str) else e for e in exp]
            ok = vals.isin(exp).to_numpy(dtype=bool)
            miss = s.isna().to_numpy(dtype=bool)
            fail = ~ok & (~miss | bool(st["missing_fails"]))
            fails += fail
            names.append(col)
        hit = fails > int(st["max_failures"])
        self.pending.append(("attention", hit, f"failed trap question(s) among {names}"))

    def _straightlining(self) -> None:
        st = self.st["straightlining"]
        blocks = st["blocks"]
        minr = int(st["min_rows"])
        hit = np.zeros(self.n, dtype=bool)
        det = np.full(self.n, None, dtype=object)
        for qu in self.q.by_type("matrix", "likert"):
            if blocks is not None and qu.id not in blocks:
                continue
            cols = [c for c in qu.columns if c in self.df]
            if len(cols) < minr:
                continue
            m = np.column_stack([self.num(c) for c in cols])
            n_ans = (~np.isnan(m)).sum(axis=1)
            mx, mn = np.nanmax(np.where(np.isnan(m), -np.inf, m), axis=1), np.nanmin(
                np.where(np.isnan(m), np.inf, m), axis=1)
            same = (n_ans >= minr) & (mx == mn)
            new = same & ~hit
            det[new] = np.char.add(f"{qu.id}: all {len(cols)} rows = ",
                                   np.nan_to_num(mx[new]).astype(int).astype(str))
            hit |= same
        self.pending.append(("straightlining", hit, det))

    def _reversed(self) -> None:
        st = self.st["reversed_items"]
        hit = np.zeros(self.n, dtype=bool)
        det = np.full(self.n, None, dtype=object)
        for qu in self.q.by_type("likert"):
            if not qu.reversed:
                continue
            norm_c = [f"{qu.id}_{r}" for r in qu.rows if r not in qu.reversed and
                      f"{qu.id}_{r}" in self.df]
            rev_c = [f"{qu.id}_{r}" for r in qu.reversed if f"{qu.id}_{r}" in self.df]
            if not norm_c or not rev_c:
                continue
            lo, hi = min(qu.scale), max(qu.scale)
            a = np.column_stack([self.num(c) for c in norm_c])
            b = (lo + hi) - np.column_stack([self.num(c) for c in rev_c])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                gap = np.abs(np.nanmean(a, axis=1) - np.nanmean(b, axis=1))
            bad = np.nan_to_num(gap) >= float(st["max_gap"]) * (hi - lo)
            new = bad & ~hit
            det[new] = np.char.add(f"{qu.id}: normal vs reversed rows differ by ",
                                   np.round(gap[new], 2).astype(str))
            hit |= bad
        self.pending.append(("reversed_items", hit, det))

    # ---------------------------------------------------------------- driver
    def run(self) -> None:
        for p in range(1, _MAX_PASSES + 1):
            self.pass_no = p
            n_logs = len(self.logs)
            alive0 = self.alive.copy()
            self.alive_at_start = alive0
            for rule in ("missing_codes", "out_of_range", "rank_invalid", "multi_cap",
                         "other_empty"):
                if self.on(rule):
                    getattr(self, rule)()
            self.checks("cell")
            if self.on("skip_logic"):
                self.skip_logic()
            if self.on("junk_text"):
                self.junk_text()
            self.duplicates()
            self.respondent_rules()
            changed = (self.alive != alive0).any() or any(
                e["action"] in ("blank", "drop") for e in self.logs[n_logs:])
            if p > 1:  # a flag is reported in the pass that first raised it
                self._dedupe_flags(n_logs)
            if not changed:
                break
        else:  # pragma: no cover - a rule set that never settles
            warnings.warn(f"cleaning did not reach a fixed point in {_MAX_PASSES} passes; "
                          "re-running clean() on the output may change it", CleaningWarning,
                          stacklevel=3)
        self.passes = self.pass_no

    def _dedupe_flags(self, start: int) -> None:
        prev: dict[tuple[Any, Any], np.ndarray] = {}
        for e in self.logs[:start]:
            if e["action"] == "flag":
                k = (e["rule"], e["column"])
                prev[k] = np.union1d(prev.get(k, np.empty(0, np.int64)), e["row"])
        keep = []
        for e in self.logs[start:]:
            if e["action"] == "flag" and (e["rule"], e["column"]) in prev:
                new = ~np.isin(e["row"], prev[(e["rule"], e["column"])])
                if not new.any():
                    continue
                e = {**e, "row": e["row"][new]}
                for k in ("old", "new", "detail"):
                    if isinstance(e[k], np.ndarray) and e[k].shape[0] == new.shape[0]:
                        e[k] = e[k][new]
            keep.append(e)
        self.logs = self.logs[:start] + keep

    def log_frame(self) -> pd.DataFrame:
        parts = []
        for e in self.logs:
            r = e["row"]
            k = r.size

            def col(v: Any) -> np.ndarray:
                if isinstance(v, np.ndarray):
                    return v.astype(object)
                if isinstance(v, pd.Series):
                    return v.to_numpy(dtype=object)
                return np.full(k, v, dtype=object)
            parts.append(pd.DataFrame({
                "_row": r, "_rule": _RULE_ORDER.get(e["rule"], 99),
                "_col": self.col_order.get(e["column"], -1) if e["column"] else -1,
                "rid": self.rid[r], "rule": e["rule"], "question": col(e["question"]),
                "column": col(e["column"]), "old_value": col(e["old"]), "new_value": col(e["new"]),
                "action": e["action"], "detail": col(e["detail"]), "pass": e["pass"]}))
        if not parts:
            out = pd.DataFrame({c: pd.Series(dtype="str") for c in LOG_COLUMNS})
            out["pass"] = out["pass"].astype("int64")
            return out
        lg = pd.concat(parts, ignore_index=True)
        # a dropped respondent's cell decisions are moot: the drop row speaks for them
        moot = ~self.alive[lg["_row"].to_numpy()] & (lg["action"] != "drop").to_numpy() & \
            lg["rule"].isin(_CELL_RULES).to_numpy()
        lg = lg[~moot]
        lg = lg.sort_values(["pass", "_rule", "_row", "_col"], kind="stable")
        lg = lg.drop(columns=["_row", "_rule", "_col"]).reset_index(drop=True)
        for c in LOG_COLUMNS[:-1]:
            lg[c] = lg[c].astype("str")
        lg["pass"] = lg["pass"].astype("int64")
        return lg[LOG_COLUMNS]


def _as_text(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
        na = s.isna().to_numpy(dtype=bool)
        tf = np.where(s.fillna(False).to_numpy(dtype=bool), "True", "False").astype(object)
        return np.where(na, None, tf)
    return s.astype("str").to_numpy(dtype=object)


# ---------------------------------------------------------------------------------------------
def clean(responses: pd.DataFrame | Any, questionnaire: Questionnaire | str | Path, *,
          rules: Mapping[str, Any] | None = None, missing: pd.DataFrame | Any | None = None,
          source: str | Path | None = None) -> CleanResult:
    """Clean an analysis frame with the wave's rules; every decision is logged.

    Parameters
    ----------
    responses : DataFrame or ReadResult
        The analysis frame (``read_export(...).data``) or the whole :class:`ReadResult` (then
        its ``.missing`` reasons, its file's SHA-256 and its ``.log`` — the reader's decisions,
        such as blank rows dropped, as ``pass`` 0 — are carried along).  Never modified.
    questionnaire : Questionnaire or path to questionnaire.yml
        Its ``cleaning:`` section configures the rules (schema in the module docstring).
    rules : dict, optional
        Overrides on top of the questionnaire's section, same structure (``{"speeders":
        {"min_fraction_of_median": 0.25}, "junk_text": False}``).
    missing : DataFrame or ReadResult, optional
        The reader's reasons (``rid, column, reason``) for cells that were NA on arrival.
    source : path, optional
        The raw file the frame was read from, for the SHA-256 in the sidecar.

    Returns
    -------
    CleanResult

    Raises
    ------
    CleaningError
        Unknown rules/keys, bad thresholds, no ``rid`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> f = pd.DataFrame({"rid": ["1", "2", "3"], "sex": pd.Categorical(
    ...     ["男", "不知道", "女"], categories=["男", "女", "不知道", "拒答"])})
    >>> r = clean(f, q, rules={"duplicate_answers": False})
    >>> r.data["sex"].tolist(), r.missing["reason"].tolist()
    (['男', nan, '女'], ['dont_know'])
    >>> clean(f, q, rules={"speeder": {}})
    Traceback (most recent call last):
    ...
    survey.errors.CleaningError: rules=: unknown cleaning rule 'speeder'; valid rules: ...
    """
    q = questionnaire if isinstance(questionnaire, Questionnaire) else Questionnaire.load(
        questionnaire)
    source_file = None
    pii = read_log = None
    if not isinstance(responses, pd.DataFrame) and hasattr(responses, "data"):
        pii = getattr(responses, "pii", None)
        read_log = getattr(responses, "log", None)  # the reader's decisions (pass 0)
        if missing is None:
            missing = getattr(responses, "missing", None)
        rep = getattr(responses, "report", None)
        if source is None and rep is not None and getattr(rep, "file", None):
            source = rep.file
        responses = responses.data
    if missing is not None and not isinstance(missing, pd.DataFrame):
        missing = getattr(missing, "missing", None)
    if not isinstance(responses, pd.DataFrame):
        raise CleaningError(f"clean() needs the analysis frame (a DataFrame) or a ReadResult, "
                            f"not {type(responses).__name__}")
    if "rid" not in responses.columns:
        raise CleaningError("the frame has no 'rid' column; read it with survey.read_export "
                            "(which creates respondent ids) or add one")
    # free text is scrubbed of personal data (idempotent after read_export; a frame from
    # elsewhere, e.g. a cleaned CSV, is scrubbed here) before any log or output can hold it
    responses = scrub_frame(responses, q, pii)
    st = _settings(q, rules)
    sha = None
    if source is not None and Path(source).is_file():
        source_file = str(source)
        sha = _sha256(Path(source))
    n_raw = len(responses)

    # stable processing order: submitted_at, rid, then content (ties of duplicated rids)
    df = responses.reset_index(drop=True)
    df = df.assign(rid=df["rid"].astype("str"))
    row_hash = pd.util.hash_pandas_object(df, index=False).to_numpy()
    keys = [row_hash, df["rid"].to_numpy(dtype=object)]
    if "submitted_at" in df:
        ts = pd.to_datetime(df["submitted_at"], errors="coerce").to_numpy(dtype="datetime64[ns]")
        t = ts.astype(np.int64)
        t = np.where(np.isnat(ts), np.iinfo(np.int64).max, t)
        keys.append(t)
    order = np.lexsort([pd.factorize(k, sort=True)[0] if k.dtype == object else k for k in keys])
    work = df.iloc[order].reset_index(drop=True)
    frame_hash = hashlib.sha256(np.sort(row_hash).tobytes()).hexdigest()

    eng = _Engine(work, q, st)
    eng.run()

    # remove missing-code categories from single-choice categoricals
    out = eng.df
    if st["missing_codes"]["enabled"] and st["missing_codes"]["action"] == "blank":
        for qu in eng.qs:
            if qu.type == "single" and qu.id in out and isinstance(out[qu.id].dtype,
                                                                   pd.CategoricalDtype):
                drop_cats = [lab for lab in qu.missing.values()
                             if lab in out[qu.id].cat.categories and lab not in qu.options.values()]
                if drop_cats:
                    # set_categories, not remove_categories: pandas 3.1 re-sorts the remaining
                    # categories of an unordered categorical, losing the questionnaire's order
                    keep = [c for c in out[qu.id].cat.categories if c not in drop_cats]
                    out[qu.id] = out[qu.id].cat.set_categories(keep)
    # back to the input's row order
    inv = np.empty(len(order), dtype=np.int64)
    inv[order] = np.arange(len(order))
    keep_in_input_order = eng.alive[inv]
    data = out.iloc[inv[keep_in_input_order]].reset_index(drop=True)
    data.index = pd.RangeIndex(len(data))
    dropped_rows = np.flatnonzero(~eng.alive)
    dropped = pd.DataFrame({"rid": pd.Series(eng.rid[dropped_rows], dtype="str"),
                            "rule": pd.Series(eng.drop_rule[dropped_rows], dtype="str"),
                            "detail": pd.Series(eng.drop_detail[dropped_rows], dtype="str")})
    miss = _missing_frame(eng, data, missing)
    log = eng.log_frame()
    if isinstance(read_log, pd.DataFrame) and len(read_log):
        rl = read_log.reindex(columns=LOG_COLUMNS[:-1]).assign(**{"pass": 0})
        log = pd.concat([rl.astype(log.dtypes.to_dict()), log], ignore_index=True)
    return CleanResult(data=data, log=log, missing=miss, dropped=dropped,
                       n_raw=n_raw, settings=st, questionnaire_hash=q.hash, wave=q.id,
                       source_sha256=sha, source_file=source_file, input_frame_hash=frame_hash,
                       passes=eng.passes, not_applied=dict(eng.not_applied))


def _missing_frame(eng: _Engine, data: pd.DataFrame, reader: pd.DataFrame | None) -> pd.DataFrame:
    """Why each NA cell of the clean data is missing (own reasons > reader's > derived)."""
    q = eng.q
    # own reasons, aligned to the clean data
    alive_rows = np.flatnonzero(eng.alive)
    # data is in input order; map each data row to its engine row via rid + order of alive rows
    eng_rows_sorted = alive_rows  # engine (stable) order
    rid_e = eng.rid[eng_rows_sorted]
    parts = []
    n_asked: dict[str, int] = {}
    # engine-order frame of alive rows (same content as data, different order)
    ef = eng.df.iloc[eng_rows_sorted].reset_index(drop=True)
    for qu in eng.qs:
        cols = [c for c in qu.columns if c in ef and not c.endswith("_other")]
        if not cols:
            continue
        if qu.ask_if is not None:
            try:
                asked = q.evaluate_ask_if(qu.id, ef).to_numpy(dtype=bool)
            except QuestionnaireError:
                asked = np.ones(len(ef), dtype=bool)
        else:
            asked = np.ones(len(ef), dtype=bool)
        n_asked[qu.id] = int(asked.sum())
        units = [(qu.id, cols)] if qu.type in ("multi", "rank") else [(c, [c]) for c in cols]
        for unit, ucols in units:
            na = np.ones(len(ef), dtype=bool)
            for c in ucols:
                na &= ef[c].isna().to_numpy(dtype=bool)
            rows = np.flatnonzero(na)
            if rows.size == 0:
                continue
            own = np.full(rows.size, None, dtype=object)
            for c in ucols:
                arr = eng.reasons.get(c)
                if arr is not None:
                    r = arr[eng_rows_sorted[rows]]
                    own = np.where(pd.isna(own), r, own)
            parts.append(pd.DataFrame({"rid": rid_e[rows], "question": qu.id, "column": unit,
                                       "own": own, "asked": asked[rows]}))
    if not parts:
        m = pd.DataFrame({c: pd.Series(dtype="str") for c in MISSING_COLUMNS})
        m["asked"] = m["asked"].astype(bool)
        m.attrs["n_asked"] = n_asked
        return m
    m = pd.concat(parts, ignore_index=True)
    if reader is not None and len(reader) and {"rid", "column", "reason"} <= set(reader.columns):
        rd = reader[["rid", "column", "reason"]].astype({"rid": "str", "column": "str"})
        rd = rd.drop_duplicates(["rid", "column"])
        m = m.merge(rd, on=["rid", "column"], how="left")
    else:
        m["reason"] = None
    derived = np.where(m["asked"].to_numpy(dtype=bool), "blank", "skipped")
    reason = m["own"].astype(object)
    reader_r = m["reason"].astype(object).where(m["asked"], None)
    reason = reason.where(reason.notna(), reader_r)
    reason = reason.where(reason.notna(), pd.Series(derived, index=m.index))
    m["reason"] = reason.astype("str")
    m = m[MISSING_COLUMNS].astype({"rid": "str", "question": "str", "column": "str"})
    m["asked"] = m["asked"].astype(bool)
    m.attrs["n_asked"] = n_asked
    return m.reset_index(drop=True)
