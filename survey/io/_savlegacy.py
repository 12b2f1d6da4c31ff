"""A small writer for uncompressed SPSS .sav files in a legacy code page (GBK, GB18030).

pyreadstat always writes UTF-8; older SPSS installations in China write files in code page
936 (GBK).  To test that such files read correctly — and to hand them to colleagues on old
SPSS — this writes the documented system-file layout: header, variable records (with
continuation records for long strings), value labels, machine info, long variable names, the
encoding record, then the uncompressed cases.  Strings are limited to 255 bytes.
"""
from __future__ import annotations

import datetime as _dt
import struct
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import ReadError

__all__ = ["write_sav_legacy"]

_CODEPAGE = {"gbk": 936, "cp936": 936, "gb2312": 936, "gb18030": 54936, "big5": 950,
             "utf-8": 65001, "latin-1": 1252, "cp1252": 1252}
_SYSMIS = -np.finfo(np.float64).max
_SPSS_EPOCH_OFFSET = 12219379200.0  # seconds from 1582-10-14 to 1970-01-01


def _fmt(typ: int, width: int, dec: int) -> int:
    return (typ << 16) | (width << 8) | dec


def _pad(b: bytes, n: int, fill: bytes = b" ") -> bytes:
    return b[:n] + fill * (n - len(b[:n]))


def _enc_trunc(s: str, enc: str, limit: int) -> bytes:
    b = s.encode(enc, errors="replace")
    while len(b) > limit:
        s = s[:-1]
        b = s.encode(enc, errors="replace")
    return b


def write_sav_legacy(df: pd.DataFrame, path: str | Path, *, encoding: str,
                     var_labels: Mapping[str, str] | None = None,
                     value_labels: Mapping[str, Mapping[float, str]] | None = None,
                     missing: Mapping[str, list[float]] | None = None) -> Path:
    """Write ``df`` (float, datetime or str columns) as an uncompressed .sav in ``encoding``.

    Examples
    --------
    >>> import tempfile, pathlib, pyreadstat
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.sav"
    >>> _ = write_sav_legacy(pd.DataFrame({"sex": [1.0, 2.0], "t": ["北京", "上海"]}), p,
    ...                      encoding="gbk", value_labels={"sex": {1.0: "男", 2.0: "女"}})
    >>> pyreadstat.read_sav(str(p))[0]["t"].tolist()
    ['北京', '上海']
    """
    enc = encoding.lower().replace("_", "-")
    try:
        "测".encode(enc)
    except LookupError:
        raise ReadError(f"write_sav: unknown encoding {encoding!r}; use 'utf-8', 'gbk' or 'gb18030'") \
            from None
    cp = _CODEPAGE.get(enc, 936)
    var_labels = var_labels or {}
    value_labels = value_labels or {}
    missing = missing or {}
    n = len(df)
    kinds: list[tuple[str, str, int]] = []  # (column, kind, byte width)
    arrays: list[np.ndarray] = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_localize(None)
            na = s.isna().to_numpy()
            # seconds since 1970 (any datetime64 unit), shifted to SPSS's 1582-10-14 epoch
            unix = s.astype("datetime64[us]").to_numpy().astype("datetime64[us]").astype(np.int64)
            secs = np.where(na, np.nan, unix / 1e6 + _SPSS_EPOCH_OFFSET)
            arrays.append(np.where(np.isnan(secs), _SYSMIS, secs))
            kinds.append((c, "datetime", 0))
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            v = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float,
                                                                               na_value=np.nan)
            arrays.append(np.where(np.isnan(v), _SYSMIS, v))
            kinds.append((c, "num", 0))
        else:
            vals = [b"" if (x is None or (isinstance(x, float) and np.isnan(x))) else
                    _enc_trunc(str(x), enc, 255) for x in s.astype(object)]
            w = max([len(b) for b in vals] + [1])
            arrays.append(np.array(vals, dtype=object))
            kinds.append((c, "str", w))
    nseg = sum(1 if k != "str" else -(-w // 8) for _, k, w in kinds)

    out = bytearray()
    now = _dt.datetime(2024, 1, 1)
    out += b"$FL2"
    out += _pad(b"@(#) SPSS DATA FILE survey package legacy writer", 60)
    out += struct.pack("<iiiii", 2, nseg, 0, 0, n)
    out += struct.pack("<d", 100.0)
    out += now.strftime("%d %b %y").encode("ascii")
    out += now.strftime("%H:%M:%S").encode("ascii")
    out += _pad(b"", 64) + b"\0\0\0"
    # variable records
    long_names = []
    dict_index: dict[str, int] = {}
    idx = 1
    for i, (c, k, w) in enumerate(kinds):
        short = f"V{i + 1:05d}"
        long_names.append(f"{short}={c}")
        dict_index[c] = idx
        lab = var_labels.get(c)
        miss = [float(x) for x in missing.get(c, [])][:3] if k == "num" else []
        if k == "str":
            typ, fmt = w, _fmt(1, w, 0)
        elif k == "datetime":
            typ, fmt = 0, _fmt(22, 20, 0)
        else:
            typ, fmt = 0, _fmt(5, 8, 2)
        out += struct.pack("<iiiiii", 2, typ, 1 if lab else 0, len(miss), fmt, fmt)
        out += _pad(short.encode("ascii"), 8)
        if lab:
            lb = _enc_trunc(lab, enc, 255)
            out += struct.pack("<i", len(lb)) + _pad(lb, -(-len(lb) // 4) * 4)
        for m in miss:
            out += struct.pack("<d", m)
        idx += 1
        if k == "str":
            for _ in range(-(-w // 8) - 1):
                out += struct.pack("<iiiiii", 2, -1, 0, 0, _fmt(1, 8, 0), _fmt(1, 8, 0))
                out += b" " * 8
                idx += 1
    # value labels
    for c, labs in value_labels.items():
        if c not in dict_index or not labs:
            continue
        out += struct.pack("<ii", 3, len(labs))
        for v, lab in labs.items():
            lb = _enc_trunc(str(lab), enc, 120)
            out += struct.pack("<d", float(v)) + bytes([len(lb)])
            out += _pad(lb, -(-(len(lb) + 1) // 8) * 8 - 1)
        out += struct.pack("<iii", 4, 1, dict_index[c])
    # machine integer info, float info
    out += struct.pack("<iiii", 7, 3, 4, 8) + struct.pack("<8i", 20, 0, 0, -1, 1, 1, 2, cp)
    out += struct.pack("<iiii", 7, 4, 8, 3) + struct.pack("<ddd", _SYSMIS, np.finfo(float).max,
                                                           np.nextafter(_SYSMIS, 0))
    ln = "\t".join(long_names).encode(enc)
    out += struct.pack("<iiii", 7, 13, 1, len(ln)) + ln
    en = {"gbk": "GBK", "cp936": "GBK", "gb2312": "GBK", "gb18030": "GB18030"}.get(
        enc, encoding.upper()).encode("ascii")
    out += struct.pack("<iiii", 7, 20, 1, len(en)) + en
    out += struct.pack("<ii", 999, 0)
    # cases: build a structured array so the whole data block is written at once
    fields = []
    for i, (c, k, w) in enumerate(kinds):
        fields.append((f"f{i}", "<f8") if k != "str" else (f"f{i}", f"S{-(-w // 8) * 8}"))
    rec = np.zeros(n, dtype=fields)
    for i, (c, k, w) in enumerate(kinds):
        if k == "str":
            width = -(-w // 8) * 8
            rec[f"f{i}"] = [b.ljust(width, b" ") for b in arrays[i]]
        else:
            rec[f"f{i}"] = arrays[i]
    p = Path(path)
    with open(p, "wb") as fh:
        fh.write(bytes(out))
        fh.write(rec.tobytes())
    return p
