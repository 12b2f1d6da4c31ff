"""Readers and writers for raw survey exports.

``read_export(path, q)`` reads a 问卷星 Excel export (按序号 or 按文本), a 腾讯问卷 export
(.xlsx or CSV), an SPSS ``.sav`` / ``.zsav``, a Stata ``.dta`` or a CSV (UTF-8/GBK/GB18030
detected) and returns a
:class:`ReadResult` with the typed analysis frame (``.data``), what was recognised
(``.report``), the separated personal data (``.pii``) and why cells are missing (``.missing``).
``write_wjx`` / ``write_sav`` produce realistic raw files from an analysis frame.

Salted hashes (``phone_hash``, ``ip_hash``) use ``salt=`` or ``$SURVEY_HASH_SALT``; see
:mod:`survey.privacy`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ReadError
from ..questionnaire import Questionnaire
from ..validation import Interval, check
from ._cells import parse_duration
from ._core import ReadReport, ReadResult
from .build import build
from .headers import HeaderParts, split_header
from .spss import write_sav
from .wjx import wjx_filename, write_wjx

__all__ = ["read_export", "read_responses", "write_wjx", "write_sav", "wjx_filename",
           "ReadResult", "ReadReport", "parse_duration", "split_header", "HeaderParts"]

_EXCEL = {".xlsx", ".xlsm"}
_STAT = {".sav", ".zsav", ".dta"}
_CSV = {".csv", ".txt", ".tsv"}


def read_export(path: str | Path, questionnaire: Questionnaire | str | Path, *,
                salt: str | None = None, encoding: str | None = None, unmapped: str = "warn",
                min_match: float = 0.5, sheet: str | int | None = None) -> ReadResult:
    """Read a raw export against the questionnaire.

    Parameters
    ----------
    path : path-like
        ``.xlsx`` (问卷星, both layouts), ``.sav``/``.zsav``, ``.dta`` or ``.csv``.
    questionnaire : Questionnaire or path to questionnaire.yml
    salt : str, optional
        Salt for the identifier hashes; default ``$SURVEY_HASH_SALT``.
    encoding : str, optional
        Force a text encoding (CSV; SPSS/Stata files whose header lies about it).
    unmapped : {"warn", "error", "ignore"}
        What to do with export columns that belong to no question.
    min_match : float
        Fewer matched questions than this share of the questionnaire (with more unknown columns
        than matched ones) means the export belongs to another questionnaire:
        :class:`~survey.errors.SchemaMismatchError`.
    sheet : str or int, optional
        Worksheet of an Excel file (default: the first).

    Returns
    -------
    ReadResult
        ``.data`` (analysis frame), ``.report``, ``.pii``, ``.missing``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_bytes("序号,1、您的性别\\n1,男\\n2,女\\n".encode("gbk"))
    >>> r = read_export(p, q, salt="s")
    >>> r.data["sex"].tolist(), r.report.encoding
    (['男', '女'], 'gbk')
    """
    q = questionnaire if isinstance(questionnaire, Questionnaire) else Questionnaire.load(
        questionnaire)
    check("read_export", "min_match", min_match, Interval(0, 1, "both", example=0.5),
          error=ReadError)
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{p}: file not found")
    if p.is_dir():
        raise ReadError(f"{p}: is a directory; pass the export file")
    ext = p.suffix.lower()
    if ext in _EXCEL:
        from .wjx import read_wjx_raw
        raw = read_wjx_raw(p, sheet=sheet)
    elif ext in _STAT:
        from .spss import read_stat_raw
        raw = read_stat_raw(p, encoding=encoding)
        _prefer_labels(raw, q)
    elif ext in _CSV:
        from .csvio import read_csv_raw
        raw = read_csv_raw(p, encoding=encoding)
    elif ext == ".xls":
        raise ReadError(f"{p}: old .xls workbooks are not supported; download the export as .xlsx "
                        "(问卷星 offers it) or save it as .xlsx in Excel")
    else:
        raise ReadError(f"{p}: unknown file type {ext!r}; expected .xlsx, .sav, .zsav, .dta or .csv")
    res = build(raw, q, salt=salt, unmapped=unmapped, min_match=min_match)
    if not len(res.data):
        raise ReadError(f"{p}: the export has no respondents (a header row only); download the "
                        "export again after responses have been collected")
    return res


def read_responses(path: str | Path, questionnaire: Questionnaire | str | Path,
                   **kwargs) -> pd.DataFrame:
    """The analysis frame of an export (``read_export(path, questionnaire).data``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "hours", "text": "每周工作小时", "type": "numeric"}]})
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("1、每周工作小时\\n40\\n(跳过)\\n", encoding="utf-8-sig")
    >>> read_responses(p, q, salt="s")["hours"].tolist()
    [40.0, nan]
    """
    return read_export(path, questionnaire, **kwargs).data


def _prefer_labels(raw, q: Questionnaire) -> None:
    """SPSS/Stata: use a variable's label as its header when the name is not ours."""
    from ._core import norm
    from .headers import META_HEADERS, HeaderMatcher
    alt = getattr(raw, "alt_headers", None)
    if not alt:
        return
    m = HeaderMatcher(q)
    meta = {norm(k) for k in META_HEADERS}
    hs = []
    for h, lab in zip(raw.headers, alt):
        if h in m.direct or norm(h) in meta or norm(h) in m.source or not lab:
            hs.append(h)
        else:
            import re
            hs.append(lab if re.match(r"^\s*(\d+[、.]|第\d+题)", str(lab)) else h)
    raw.headers = hs
