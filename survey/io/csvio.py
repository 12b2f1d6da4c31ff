"""CSV exports with encoding detection (UTF-8 with/without BOM, GBK, GB18030)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..errors import EncodingError, ReadError
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
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as e:
        raise ReadError(f"{p}: malformed CSV ({e}); check quoting") from None
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ReadError(f"{p}: the file is empty")
    header = [h.strip() for h in rows[0]]
    w = len(header)
    body = rows[1:]
    arr = np.full((len(body), w), None, dtype=object)
    for i, r in enumerate(body):
        r = r[:w]
        arr[i, : len(r)] = r
    arr[arr == ""] = None
    return RawTable(headers=header, cols=[arr[:, j] for j in range(w)], file=str(p), kind="csv",
                    encoding=enc)
