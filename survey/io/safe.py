"""Safe outputs: spreadsheet cells that cannot run as formulas, wave ids that cannot be paths.

Spreadsheet (CSV) injection
    Free text a respondent typed ("other, please specify", open questions) reaches the clean
    log, the report workbook and other tables.  A cell that starts with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return is read by Excel/WPS/LibreOffice as a formula
    (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``).  Following the OWASP rule every *string*
    cell that starts with one of these characters is written with a leading ``'``
    (:func:`neutralise`, :func:`neutralise_frame`), and an openpyxl worksheet never stores a
    cell as a formula (:func:`harden_worksheet`).  Numbers stay numbers: a negative number
    stored as a number is left alone; only text is touched.
Wave ids
    A wave id names folders (``questionnaires/<wave>/``, ``reports/<wave>/``,
    ``reports/.<wave>.work/``); :func:`check_wave_id` refuses anything that could leave them
    (path separators, ``..``, absolute paths, NUL).  Spaces and Chinese are fine.

Examples
--------
>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("加班太多"), neutralise(-3)
('\\'=HYPERLINK("http://x")', '加班太多', -3)
>>> check_wave_id("2024 春季")
'2024 春季'
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["FORMULA_PREFIXES", "neutralise", "neutralise_frame", "write_csv", "harden_worksheet",
           "harden_workbook", "check_wave_id", "writing"]

#: First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# a plain number written as text ("-5", "+1.5e3") is no formula; it keeps its sign
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_formula_like(v: str) -> bool:
    return v[:1] in FORMULA_PREFIXES and _NUMBER.fullmatch(v) is None


def neutralise(value: Any) -> Any:
    """*value* with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Anything that is not a ``str`` (numbers, dates, None/NA) is returned unchanged, and so is
    text that is exactly a decimal number (``"-5"``, ``"+1.5"``: a spreadsheet reads it as that
    number, nothing runs), so logged old values such as ``-5.0`` keep their sign.

    Examples
    --------
    >>> [neutralise(v) for v in ["+86 138", "@SUM(A1)", "-", "-5+3", "-5.0", "ok", 1.5, -2, None]]
    ["'+86 138", "'@SUM(A1)", "'-", "'-5+3", '-5.0', 'ok', 1.5, -2, None]
    """
    if isinstance(value, str) and _is_formula_like(value):
        return "'" + value
    return value


def _neutralise_series(s: pd.Series) -> pd.Series:
    """Text cells of *s* neutralised (vectorised); numeric/bool/datetime series untouched."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if cats.dtype.kind in "biufcmM":
            return s
        return _neutralise_series(s.astype(object))
    if s.dtype.kind in "biufcmM" or pd.api.types.is_bool_dtype(s.dtype) \
            or pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    vals = s.to_numpy(dtype=object, na_value=None)
    first = np.array([v[:1] if isinstance(v, str) else "" for v in vals], dtype=object)
    hit = np.flatnonzero(np.isin(first, FORMULA_PREFIXES))
    hit = hit[[_NUMBER.fullmatch(vals[i]) is None for i in hit]] if hit.size else hit
    if not hit.size:
        return s
    out = vals.copy()
    out[hit] = ["'" + vals[i] for i in hit]
    return pd.Series(out, index=s.index, name=s.name, dtype=object)


def _neutralise_index(ix: pd.Index) -> pd.Index:
    if isinstance(ix, pd.MultiIndex):
        return pd.MultiIndex.from_arrays(
            [_neutralise_index(ix.get_level_values(k)) for k in range(ix.nlevels)], names=ix.names)
    if ix.dtype.kind in "biufcmM" or pd.api.types.is_bool_dtype(ix.dtype):
        return ix
    return pd.Index(_neutralise_series(pd.Series(ix, dtype=object)).to_numpy(object),
                    name=neutralise(ix.name))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of *frame* safe to write with ``to_csv`` / ``to_excel``.

    Every text cell, column name and index label starting with ``= + - @``, tab or CR gets a
    leading ``'`` (text that is exactly a number excepted, see :func:`neutralise`); numeric, boolean and datetime columns are returned as they are.  Meant for
    writing only: the copy's text columns may become ``object`` dtype.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"old_value": ["=cmd|' /C calc'!A0", "加班", None], "n": [-1, 2, 3]})
    >>> g = neutralise_frame(f)
    >>> g["old_value"].tolist(), g["n"].tolist()
    (["'=cmd|' /C calc'!A0", '加班', None], [-1, 2, 3])
    """
    out = frame.copy()
    cols = list(out.columns)
    out.columns = range(len(cols))  # duplicate names must not confuse the column loop
    for j in range(len(cols)):
        out[j] = _neutralise_series(out[j])
    out.columns = _neutralise_index(pd.Index(cols, tupleize_cols=False)) \
        if not isinstance(frame.columns, pd.MultiIndex) else _neutralise_index(frame.columns)
    out.index = _neutralise_index(frame.index)
    return out


def write_csv(frame: pd.DataFrame, path: Any, **kwargs: Any) -> None:
    """``frame.to_csv(path, **kwargs)`` made safe for a spreadsheet.

    Text cells are neutralised (:func:`neutralise_frame`) and rows end in CRLF, so a field
    holding a lone CR or LF is quoted: with pandas' default ``"\\n"`` a CR inside a field is
    written bare, a spreadsheet starts a new row there and the rest of the text (``=1+1``)
    becomes a cell of its own.

    Examples
    --------
    >>> import io, pandas as pd
    >>> buf = io.StringIO()
    >>> write_csv(pd.DataFrame({"a": ["x\\r=1+1", "=2"]}), buf, index=False)
    >>> buf.getvalue()
    'a\\r\\n"x\\r=1+1"\\r\\n\\'=2\\r\\n'
    """
    kwargs.setdefault("lineterminator", "\r\n")
    neutralise_frame(frame).to_csv(path, **kwargs)


def harden_worksheet(ws: Any) -> int:
    """Make every cell of an openpyxl worksheet inert: no formulas, text neutralised.

    A text cell starting with a formula character gets a leading ``'`` and the string type
    (openpyxl otherwise stores ``"=..."`` as a formula); numbers, dates and booleans are left
    as they are.  Returns the number of cells changed.

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> ws = Workbook().active
    >>> ws.append(["=1+1", -5, "ok"])
    >>> harden_worksheet(ws), ws["A1"].value, ws["A1"].data_type, ws["B1"].value
    (1, "'=1+1", 's', -5)
    """
    changed = 0
    for row in ws.iter_rows():
        for cell in row:
            v = cell.value
            if cell.data_type == "f" or (isinstance(v, str) and _is_formula_like(v)):
                text = v if isinstance(v, str) else str(v)
                cell.value = neutralise(text)
                cell.data_type = "s"
                changed += 1
    return changed


def harden_workbook(wb: Any) -> int:
    """:func:`harden_worksheet` on every sheet of an openpyxl workbook (cells changed).

    Examples
    --------
    >>> from openpyxl import Workbook
    >>> wb = Workbook(); wb.active.append(["@x", "+y"]); harden_workbook(wb)
    2
    """
    return sum(harden_worksheet(ws) for ws in wb.worksheets)


_WAVE_HELP = ("a wave id is a folder name such as 2024 or demo-2024 (spaces and Chinese are "
              "fine), not a path")


def check_wave_id(wave: Any, *, what: str = "wave id") -> str:
    """*wave* as a string, after checking it is a plain folder name.

    Raises
    ------
    ParameterError
        Empty, ``.``/``..``, containing ``/``, ``\\``, ``..``, NUL or another control character,
        or an absolute / drive path (the message quotes the id and says what an id is).

    Examples
    --------
    >>> check_wave_id("demo-2024"), check_wave_id("2024年 第二期")
    ('demo-2024', '2024年 第二期')
    >>> check_wave_id("../../x")
    Traceback (most recent call last):
    ...
    survey.errors.ParameterError: wave id '../../x' contains '/'; a wave id is a folder name such as 2024 or demo-2024 (spaces and Chinese are fine), not a path
    """
    s = str(wave) if wave is not None else ""
    if not s.strip():
        raise ParameterError(f"{what} {s!r} is empty; {_WAVE_HELP}")
    for bad in ("/", "\\", "\x00"):
        if bad in s:
            raise ParameterError(f"{what} {s!r} contains {bad!r}; {_WAVE_HELP}")
    if ".." in s or s in (".",):
        raise ParameterError(f"{what} {s!r} contains '..'; {_WAVE_HELP}")
    if re.match(r"^[A-Za-z]:", s) or s.startswith("~"):
        raise ParameterError(f"{what} {s!r} looks like a path; {_WAVE_HELP}")
    if any(ord(c) < 32 for c in s):
        raise ParameterError(f"{what} {s!r} contains a control character; {_WAVE_HELP}")
    return s


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Name *path* in an ``OSError`` raised while writing it.

    A ``write()`` that fails on a full disk says only "[Errno 28] No space left on device";
    inside ``with writing(p):`` the error carries ``filename=p`` so the message can say which
    file could not be written.

    Examples
    --------
    >>> import errno
    >>> try:
    ...     with writing("out/clean_log.xlsx"):
    ...         raise OSError(errno.ENOSPC, "No space left on device")
    ... except OSError as e:
    ...     print(e.filename, e.errno == errno.ENOSPC)
    out/clean_log.xlsx True
    """
    try:
        yield
    except OSError as e:
        if getattr(e, "filename", None) is None:
            raise OSError(e.errno, e.strerror or str(e), str(path)) from None
        raise
