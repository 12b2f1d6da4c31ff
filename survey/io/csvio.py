"""CSV exports with encoding detection (UTF-8 with/without BOM, GBK, GB18030)."""
from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np

from ..errors import EncodingError, ReadError, ReadWarning
from ._core import RawTable

__all__ = ["read_csv_raw", "detect_encoding"]


def detect_encoding(data: bytes, path: str = "<bytes>") -> str:
    """``utf-8-sig`` / ``utf-8`` / ``gbk`` / ``gb18030`` — decided strictly, never guessed.

    UTF-8 is tried first (strict); then GBK, then GB18030 (a superset of GBK).  Bytes that
    decode under none raise :class:`~survey.errors.EncodingError` with the byte offset.

    Examples
    --------
    >>> detect_encoding("性别".encode("gbk")), detect_encoding("\\ufeff性别".encode("utf-8"))
    ('gbk', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    else:
        enc = None
    if enc:
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError as e:
            raise EncodingError(f"{path}: starts with a {enc} byte-order mark but byte {e.start} "
                                "is invalid; the file is damaged — export it again") from None
    errs = {}
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError as e:
            errs[enc] = e.start
    raise EncodingError(f"{path}: not valid UTF-8 (byte {errs['utf-8']}), GBK or GB18030 "
                        f"(byte {errs['gb18030']}); save the CSV as UTF-8 or pass encoding=")


def read_csv_raw(path: str | Path, *, encoding: str | None = None) -> RawTable:
    """Read a CSV export (header row kept verbatim, duplicates included) into a RawTable."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ReadError(f"{p}: file not found") from None
    if not data.strip():
        raise ReadError(f"{p}: the file is empty")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(f"{p}: binary content, not a CSV; is it an .xlsx/.sav with a wrong name?")
    enc = encoding or detect_encoding(data, str(p))
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as e:
        raise EncodingError(f"{p}: cannot decode as {enc} ({e}); omit encoding= to detect it") \
            from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    rows, starts = [], []
    try:
        rd = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        line = 1
        for r in rd:
            rows.append(r)
            starts.append(line)  # the line a record starts on (quoted fields may span lines)
            line = rd.line_num + 1
    except csv.Error as e:
        raise ReadError(f"{p}: malformed CSV ({e}); check quoting") from None
    while rows and not rows[-1]:  # empty lines at the end are no rows
        rows.pop()
        starts.pop()
    if not rows:
        raise ReadError(f"{p}: the file is empty")
    header = [h.strip() for h in rows[0]]
    w = len(header)
    body = rows[1:]
    lines = np.array(starts[1:], dtype=np.int64)
    arr = np.full((len(body), w), None, dtype=object)
    log: list[dict] = []
    short, long_ = [], []
    for i, r in enumerate(body):
        if r and len(r) < w:
            short.append(i)
        elif len(r) > w and any(c.strip() for c in r[w:]):
            long_.append(i)
        r = r[:w]
        arr[i, : len(r)] = r
    arr[arr == ""] = None
    cut = not text.endswith(("\n", "\r"))
    if body and cut and len(body[-1]) and len(body[-1]) <= w:
        # the last row is cut off (short) or may be (no line break after it)
        i = len(body) - 1
        how = (f"has {len(body[-1])} of {w} fields" if len(body[-1]) < w
               else "is not followed by a line break")
        warnings.warn(f"{p}: line {lines[i]}, the last row, {how}: the file seems truncated "
                      "(an interrupted download or copy?); it is read as it is, its missing "
                      "cells blank — download the export again to be sure", ReadWarning,
                      stacklevel=3)
        log.append({"line": int(lines[i]), "rule": "truncated_row", "action": "flag",
                    "detail": f"line {lines[i]} (last) {how}: the file seems truncated"})
        short = [k for k in short if k != i]
    if short:
        ex = ", ".join(str(lines[k]) for k in short[:8])
        warnings.warn(f"{p}: {len(short)} row(s) have fewer fields than the header (line(s) "
                      f"{ex}{' …' if len(short) > 8 else ''}); their missing cells are read as "
                      "blank — check the file", ReadWarning, stacklevel=3)
        log.extend({"line": int(lines[k]), "rule": "short_row", "action": "flag",
                    "detail": f"line {lines[k]} has {len(body[k])} of {w} fields"} for k in short)
    if long_:
        ex = ", ".join(str(lines[k]) for k in long_[:8])
        raise ReadError(f"{p}: {len(long_)} row(s) have more fields than the header (line(s) "
                        f"{ex}{' …' if len(long_) > 8 else ''}); a separator inside an unquoted "
                        "answer? Quote that field or export the file again")
    return RawTable(headers=header, cols=[arr[:, j] for j in range(w)], file=str(p), kind="csv",
                    encoding=enc, lines=lines, log=log)
