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

Layout: :func:`clean` (here) validates the settings, sorts the rows and hands them to the
engine; ``rules.py`` declares every rule once (``RULES.declare(name, phase, action, logs,
**thresholds)`` above its function), and ``DEFAULT_RULES``, the run order and the report order
follow from those declarations (``registry.py``); ``engine.py`` runs the declared steps to a
fixed point and keeps the log; ``result.py`` holds :class:`CleanResult` and the missing-reason
table.  Adding a rule is one declaration and one function in ``rules.py`` plus its line in
the schema above.

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

import hashlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import CleaningError
from ..privacy import scrub_frame
from ..questionnaire import Questionnaire
from .engine import LOG_COLUMNS, Engine
from .result import MISSING_COLUMNS, CleanResult, missing_frame, sha256_file
from .rules import DEFAULT_RULES, RULES

__all__ = ["clean", "CleanResult", "DEFAULT_RULES", "LOG_COLUMNS", "MISSING_COLUMNS", "RULES"]


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
    st = RULES.settings(q, rules, f"{q._where}: cleaning")
    sha = None
    if source is not None and Path(source).is_file():
        source_file = str(source)
        sha = sha256_file(Path(source))
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

    eng = Engine(work, q, st, RULES)
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
    miss = missing_frame(eng, data, missing)
    log = eng.log_frame()
    if isinstance(read_log, pd.DataFrame) and len(read_log):
        rl = read_log.reindex(columns=LOG_COLUMNS[:-1]).assign(**{"pass": 0})
        log = pd.concat([rl.astype(log.dtypes.to_dict()), log], ignore_index=True)
    return CleanResult(data=data, log=log, missing=miss, dropped=dropped,
                       n_raw=n_raw, settings=st, questionnaire_hash=q.hash, wave=q.id,
                       source_sha256=sha, source_file=source_file, input_frame_hash=frame_hash,
                       passes=eng.passes, not_applied=dict(eng.not_applied))
