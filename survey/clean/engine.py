"""The cleaning engine: runs the registry's steps to a fixed point and keeps the audit trail.

The engine holds the working frame (in the stable processing order), which respondents are
still alive, the reason of every blanked cell and the log entries.  Rules act only through
its verbs:

- :meth:`Engine.blank` — blank (or flag) one column where a mask holds;
- :meth:`Engine.resolve_groups` — within groups of duplicates keep the first complete
  submission, drop (or flag) the others;
- :meth:`Engine.suspect` — a respondent-phase rule marks suspects; after the phase each
  suspect is dropped once, under the first rule that matched it, and every other matching
  drop rule is logged as a flag (``also matches (dropped as …)``);
- :meth:`Engine.log` — a log entry without a change.

:meth:`Engine.run` is the whole driver: pass after pass, phase by phase, every enabled step
in the registry's run order, until a pass changes nothing.  :meth:`Engine.log_frame` turns
the entries into the log table (sorted by pass, the rule's report rank, row and column).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CleaningWarning
from ..questionnaire import Questionnaire
from .registry import PHASES, RuleRegistry

__all__ = ["Engine", "LOG_COLUMNS", "MAX_PASSES", "as_text"]

LOG_COLUMNS = ["rid", "rule", "question", "column", "old_value", "new_value", "action", "detail",
               "pass"]
#: A rule set that has not settled after this many passes is reported with a warning.
MAX_PASSES = 20


class Engine:
    """Working state of one :func:`survey.clean` run (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from survey import Questionnaire
    >>> from survey.clean import RULES, DEFAULT_RULES
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "a", "text": "A", "type": "numeric", "range": [0, 10]}]})
    >>> st = RULES.settings(q, None, "q")
    >>> eng = Engine(pd.DataFrame({"rid": ["1", "2"], "a": [1.0, 11.0]}), q, st, RULES)
    >>> eng.run()
    >>> eng.log_frame()[["rid", "rule", "action"]].values.tolist()
    [['2', 'out_of_range', 'blank']]
    """

    def __init__(self, df: pd.DataFrame, q: Questionnaire, st: dict[str, Any],
                 registry: RuleRegistry) -> None:
        self.df = df
        self.q = q
        self.st = st
        self.registry = registry
        self.n = len(df)
        self.alive = np.ones(self.n, dtype=bool)
        self.alive_at_start = self.alive.copy()
        self.pass_no = 0
        self.passes = 0
        self.logs: list[dict[str, Any]] = []
        self.pending: list[tuple[str, np.ndarray, Any, str]] = []
        self.reasons: dict[str, np.ndarray] = {}
        self.drop_rule = np.full(self.n, None, dtype=object)
        self.drop_detail = np.full(self.n, None, dtype=object)
        self.not_applied: dict[str, str] = {}
        self._codes: np.ndarray | None = None
        cols = set(df.columns)
        self.qs = [qu for qu in q.questions if not qu.pii and any(c in cols for c in qu.columns)]
        self.qcols = [c for qu in self.qs for c in qu.columns if c in cols]
        self.col_order = {c: i for i, c in enumerate(self.qcols)}
        self.rid = df["rid"].to_numpy(dtype=object)

    # ---------------------------------------------------------------- verbs of the rules
    def log(self, rows: np.ndarray, rule: str, action: str, *, question: Any = None,
            column: Any = None, old: Any = None, new: Any = None, detail: Any = None) -> None:
        """Record a decision on ``rows`` (engine row numbers); nothing when ``rows`` is empty."""
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
        old = as_text(s.iloc[rows])
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
        """Drop respondents ``rows`` now (duplicate phase), logging one drop row each."""
        rows = np.asarray(rows, dtype=np.int64)
        self.log(rows, rule, "drop", question=question, column=column, old=old, detail=detail)
        self.alive[rows] = False
        self.drop_rule[rows] = rule
        self.drop_detail[rows] = detail

    def suspect(self, rule: str, hit: np.ndarray, detail: Any, action: str) -> None:
        """Respondent phase: mark ``hit`` rows for ``rule`` (resolved after the phase)."""
        self.pending.append((rule, hit, detail, action))

    def resolve_groups(self, rows: np.ndarray, group: np.ndarray, complete: np.ndarray,
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

    # ---------------------------------------------------------------- views of the data
    def num(self, col: str) -> np.ndarray:
        """Column ``col`` as float (non-numbers NaN)."""
        return pd.to_numeric(self.df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def codes(self) -> np.ndarray:
        """Integer matrix of the answers (−1 = NA), one column per question column.

        Computed once per phase (the cell phase may change the frame; later phases do not).
        """
        if self._codes is None:
            if not self.qcols:
                self._codes = np.zeros((self.n, 0), dtype=np.int64)
            else:
                self._codes = np.column_stack([pd.factorize(self.df[c], use_na_sentinel=True)[0]
                                               for c in self.qcols]).astype(np.int64)
        return self._codes

    # ---------------------------------------------------------------- driver
    def run(self) -> None:
        """Run every enabled step, phase by phase, pass after pass, to a fixed point."""
        for p in range(1, MAX_PASSES + 1):
            self.pass_no = p
            n_logs = len(self.logs)
            alive0 = self.alive.copy()
            self.alive_at_start = alive0
            for phase in PHASES:
                self._codes = None
                self.pending = []
                for step in self.registry.steps(phase):
                    settings = self.st[step.name]
                    if step.rule.enabled(settings):
                        step.apply(self, settings)
                if phase == "respondent":
                    self._drop_suspects()
            changed = (self.alive != alive0).any() or any(
                e["action"] in ("blank", "drop") for e in self.logs[n_logs:])
            if p > 1:  # a flag is reported in the pass that first raised it
                self._dedupe_flags(n_logs)
            if not changed:
                break
        else:  # pragma: no cover - a rule set that never settles
            warnings.warn(f"cleaning did not reach a fixed point in {MAX_PASSES} passes; "
                          "re-running clean() on the output may change it", CleaningWarning,
                          stacklevel=3)
        self.passes = self.pass_no

    def _drop_suspects(self) -> None:
        """Each suspect once, under its first rule; later matching drop rules become flags."""
        taken = ~self.alive
        for rule, hit, detail, act in self.pending:
            hit = hit & self.alive
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

    # ---------------------------------------------------------------- the log
    def log_frame(self) -> pd.DataFrame:
        """The log table (``LOG_COLUMNS``): by pass, rule (report order), row, column.

        A dropped respondent's decisions by rules with a cell step are left out: the drop row
        speaks for them.
        """
        rank = self.registry.rank()
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
                "_row": r, "_rule": rank.get(e["rule"], 99),
                "_col": self.col_order.get(e["column"], -1) if e["column"] else -1,
                "rid": self.rid[r], "rule": e["rule"], "question": col(e["question"]),
                "column": col(e["column"]), "old_value": col(e["old"]), "new_value": col(e["new"]),
                "action": e["action"], "detail": col(e["detail"]), "pass": e["pass"]}))
        if not parts:
            out = pd.DataFrame({c: pd.Series(dtype="str") for c in LOG_COLUMNS})
            out["pass"] = out["pass"].astype("int64")
            return out
        lg = pd.concat(parts, ignore_index=True)
        cell_rules = [s.name for s in self.registry.steps("cell")]
        moot = ~self.alive[lg["_row"].to_numpy()] & (lg["action"] != "drop").to_numpy() & \
            lg["rule"].isin(cell_rules).to_numpy()
        lg = lg[~moot]
        lg = lg.sort_values(["pass", "_rule", "_row", "_col"], kind="stable")
        lg = lg.drop(columns=["_row", "_rule", "_col"]).reset_index(drop=True)
        for c in LOG_COLUMNS[:-1]:
            lg[c] = lg[c].astype("str")
        lg["pass"] = lg["pass"].astype("int64")
        return lg[LOG_COLUMNS]


def as_text(s: pd.Series) -> np.ndarray:
    """Values as text for the log (booleans as ``True``/``False``, NA as None)."""
    if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
        na = s.isna().to_numpy(dtype=bool)
        tf = np.where(s.fillna(False).to_numpy(dtype=bool), "True", "False").astype(object)
        return np.where(na, None, tf)
    return s.astype("str").to_numpy(dtype=object)
