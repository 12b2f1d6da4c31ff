"""The result of :func:`survey.clean`: the clean frame, its log, missing reasons and outputs.

:class:`CleanResult` holds what a run decided; :func:`missing_frame` builds its ``.missing``
table (why every remaining NA cell is missing) from the engine's reasons and the reader's.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import QuestionnaireError
from ..io.missing import BLANK, SKIPPED
from .engine import Engine
from .rules import RULES

__all__ = ["CleanResult", "MISSING_COLUMNS", "missing_frame", "sha256_file"]

MISSING_COLUMNS = ["rid", "question", "column", "reason", "asked"]


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
        >>> from survey import Questionnaire, clean
        >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        ...     {"id": "a", "text": "A", "type": "numeric", "range": [0, 10]}]})
        >>> int(clean(pd.DataFrame({"rid": ["1", "2"], "a": [1.0, 11.0]}), q).summary().loc[
        ...     "out_of_range", "blanked"])
        1
        """
        rules = RULES.names()
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
        >>> from survey import Questionnaire, clean
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
        >>> from survey import Questionnaire, clean
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
        from ..io.safe import harden_workbook, neutralise_frame, write_csv, writing
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
            "outputs": {k: {"file": p.name, "sha256": sha256_file(p)} for k, p in paths.items()
                        if k != "sidecar"},
        }
        from ..version import __version__
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


def sha256_file(p: Path) -> str:
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



def missing_frame(eng: Engine, data: pd.DataFrame, reader: pd.DataFrame | None) -> pd.DataFrame:
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
    derived = np.where(m["asked"].to_numpy(dtype=bool), BLANK, SKIPPED)
    reason = m["own"].astype(object)
    reader_r = m["reason"].astype(object).where(m["asked"], None)
    reason = reason.where(reason.notna(), reader_r)
    reason = reason.where(reason.notna(), pd.Series(derived, index=m.index))
    m["reason"] = reason.astype("str")
    m = m[MISSING_COLUMNS].astype({"rid": "str", "question": "str", "column": "str"})
    m["asked"] = m["asked"].astype(bool)
    m.attrs["n_asked"] = n_asked
    return m.reset_index(drop=True)
