"""SPSS (.sav/.zsav) and Stata (.dta) via pyreadstat: reader and a labelled .sav writer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EncodingError, ReadError
from ..questionnaire import Questionnaire
from ._core import RawTable

__all__ = ["read_stat_raw", "write_sav"]

_FALLBACK_ENCODINGS = ("GB18030",)


def _check_sav_dictionary(p: Path) -> None:
    """Walk the dictionary of an SPSS system file and refuse one that is damaged.

    pyreadstat (C) crashes the whole Python process on some damaged dictionaries (a variable
    type byte flipped to a huge width, a value-label record pointing past the last variable),
    so the structure is checked here first: record types, string widths, label lengths,
    value-label variable indices and extension record sizes must be sane and inside the file.
    """
    import struct
    with open(p, "rb") as fh:
        data = fh.read()
    if data[:4] not in (b"$FL2", b"$FL3") or len(data) < 176:
        return  # not a system file (pyreadstat says so) or a header too short (ditto)

    def bad(what: str, at: int) -> ReadError:
        return ReadError(f"{p}: the SPSS file is damaged ({what} at byte {at}); download it "
                         "again or re-export it (or open and re-save it in SPSS/PSPP)")

    end = "<" if struct.unpack("<i", data[64:68])[0] in (2, 3) else ">"
    if struct.unpack(end + "i", data[64:68])[0] not in (2, 3):
        return  # a non-standard header: pyreadstat refuses it with its own message
    size = len(data)

    def ints(at: int, k: int) -> tuple[int, ...]:
        if at + 4 * k > size:
            raise bad("the file ends inside its dictionary", at)
        return struct.unpack(f"{end}{k}i", data[at:at + 4 * k])

    o, nvars, cont = 176, 0, 0
    texts: list[tuple[int, bytes]] = []  # variable names and labels, checked once the
    codec: str | None = None             # file's own encoding is known
    while True:
        (rt,) = ints(o, 1)
        if rt == 2:
            typ, has_label, n_miss = ints(o + 4, 3)
            if not -1 <= typ <= 255 or has_label not in (0, 1) or n_miss not in (-3, -2, 0, 1, 2, 3):
                raise bad("a variable record", o)
            # a string of width w takes ceil(w/8) records: itself, then w/8 - 1 of type -1
            if (typ == -1) != (cont > 0):
                raise bad("a string variable's continuation records", o)
            cont = cont - 1 if typ == -1 else max(0, -(-typ // 8) - 1)
            texts.append((o + 24, data[o + 24:o + 32]))
            o += 32
            if has_label:
                (n,) = ints(o, 1)
                if not 0 <= n <= 65535:
                    raise bad("a variable label length", o)
                texts.append((o + 4, data[o + 4:o + 4 + n]))
                o += 4 + -(-n // 4) * 4
            o += 8 * abs(n_miss)
            nvars += 1
        elif cont:
            raise bad("a string variable's continuation records", o)
        elif rt == 3:
            (k,) = ints(o + 4, 1)
            if not 0 <= k <= size // 9:
                raise bad("a value-label count", o)
            o += 8
            for _ in range(k):
                if o + 9 > size:
                    raise bad("the file ends inside its value labels", o)
                o += 8 + -(-(data[o + 8] + 1) // 8) * 8
            rt4, nv = ints(o, 2)
            if rt4 != 4 or not 1 <= nv <= nvars:
                raise bad("a value-label variable list", o)
            idx = ints(o + 8, nv)
            if min(idx) < 1 or max(idx) > nvars:
                raise bad("a value-label variable index", o)
            o += 8 + 4 * nv
        elif rt == 6:
            (k,) = ints(o + 4, 1)
            if not 0 <= k <= size // 80:
                raise bad("a document record", o)
            o += 8 + 80 * k
        elif rt == 7:
            sub, width, k = ints(o + 4, 3)
            if width < 0 or k < 0 or width * k > size - o - 16:
                raise bad("an extension record", o)
            if sub == 20 and width == 1:
                codec = data[o + 16:o + 16 + k].decode("ascii", "replace")
            elif sub == 3 and width == 4 and k == 8 and codec is None:
                codec = {936: "gbk", 54936: "gb18030", 65001: "utf-8"}.get(ints(o + 44, 1)[0])
            o += 16 + width * k
        elif rt == 999:
            break
        else:
            raise bad(f"an unknown record type {rt}", o)
        if o > size:
            raise bad("the file ends inside its dictionary", o)
    # names/labels that are not text in the file's encoding crash the C reader as well
    try:
        "".encode(codec or "utf-8")
    except LookupError:
        return
    for at, b in texts:
        try:
            b.decode(codec or "utf-8")
        except UnicodeDecodeError:
            raise bad(f"a variable name or label that is not {codec or 'utf-8'} text",
                      at) from None


def read_stat_raw(path: str | Path, *, encoding: str | None = None) -> RawTable:
    """Read .sav/.zsav/.dta into a :class:`RawTable`; user-missing codes are kept as values.

    Headers are the variable names, plus the variable labels (used when the names are
    问卷星's ``Q1_1`` style and the labels carry the ``N、题干`` text).
    """
    import pyreadstat
    p = Path(path)
    if not p.exists():
        raise ReadError(f"{p}: file not found")
    ext = p.suffix.lower()
    stata = ext == ".dta"
    reader = pyreadstat.read_dta if stata else pyreadstat.read_sav
    if not stata:
        _check_sav_dictionary(p)
    kw: dict[str, Any] = {"user_missing": True, "apply_value_formats": False}
    tried = [encoding] if encoding else [None, *_FALLBACK_ENCODINGS]
    last: Exception | None = None
    df = meta = None
    used = None
    for enc in tried:
        try:
            df, meta = reader(str(p), encoding=enc, **kw)
            used = enc
            break
        except Exception as e:  # pyreadstat raises its own ReadstatError/PyreadstatError
            last = e
            msg = str(e)
            if "encoding" in msg.lower() or "iconv" in msg.lower() or "convert" in msg.lower():
                continue
            if "Invalid file" in msg or "Unable to read" in msg or "File has unsupported" in msg:
                raise ReadError(
                    f"{p}: pyreadstat cannot read this {'Stata' if stata else 'SPSS'} file "
                    f"({msg.strip()}); it is truncated or carries a non-standard header (问卷星's "
                    "SPSS download sometimes does). Re-export it, or open and re-save it in SPSS/"
                    "PSPP, or use the Excel 按序号 export") from None
            raise ReadError(f"{p}: cannot read ({type(e).__name__}: {msg.strip()}); re-export the "
                            "file") from None
    if df is None:
        raise EncodingError(f"{p}: text in the file is in an unknown encoding ({last}); pass "
                            "encoding='GB18030' (or the right one) explicitly")
    headers = [str(c) for c in df.columns]
    labels = list(meta.column_labels or [None] * len(headers))
    # 问卷星 SPSS files name variables Q1, Q2_1 ...: offer the label as the header when the
    # name is not a questionnaire column (HeaderMatcher tries both via `alt`).
    cols = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            cols.append(s.astype(object).where(s.notna(), None).to_numpy())
        else:
            cols.append(s.to_numpy(dtype=object))
    raw = RawTable(headers=headers, cols=cols, file=str(p), kind="dta" if stata else "sav",
                   layout="code", encoding=used or getattr(meta, "file_encoding", None))
    raw.alt_headers = [l if l else None for l in labels]  # type: ignore[attr-defined]
    return raw


def _var_label(q: Questionnaire, col: str) -> str:
    qid = q.owner(col)
    if qid is None:
        return {"rid": "序号", "submitted_at": "提交答卷时间", "duration_s": "所用时间(秒)",
                "source": "来源", "ip_hash": "IP 哈希", "phone_hash": "手机号哈希",
                "source_detail": "来源详情", "ip": "来自IP"}.get(col, col)
    qu = q[qid]
    if col == qid:
        return f"{qu.position}、{qu.text}"
    if col.endswith("_other"):
        return f"{qu.position}、{qu.text}(其他-请注明)"
    key = col[len(qid) + 1:]
    if qu.type in ("multi", "rank"):
        return f"{qu.position}、{qu.text}({qu.options[int(key)]})"
    return f"{qu.position}、{qu.text}—{qu.rows[key]}"


def write_sav(frame: pd.DataFrame, q: Questionnaire, path: str | Path, *,
              encoding: str = "utf-8", compress: bool | None = None) -> Path:
    """Write an analysis frame as a labelled SPSS .sav (or .zsav) for colleagues using SPSS.

    Variable names are the frame columns; variable labels carry the question text; single /
    matrix / likert variables hold codes with value labels, and missing codes (98 不知道,
    99 拒答 ...) are declared user-missing; multi-select options are 0/1, ranks 1..k.
    Datetimes stay datetimes; strings stay strings.

    Parameters
    ----------
    frame : DataFrame
        Analysis frame (optionally with PII question columns and raw metadata).
    q : Questionnaire
    path : path-like
        ``.sav`` or ``.zsav`` (zlib-compressed).
    encoding : str
        ``"utf-8"`` (default; via pyreadstat) or a legacy code page such as ``"gbk"`` /
        ``"gb18030"`` (written by the built-in writer in :mod:`survey.io._savlegacy`), as
        older SPSS installations in China produce.
    compress : bool, optional
        Row compression (default: True for ``.zsav``).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "您的性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> f = pd.DataFrame({"rid": ["1", "2"],
    ...     "sex": pd.Categorical(["男", "女"], categories=list(q.labels("sex").values()))})
    >>> write_sav(f, q, pathlib.Path(tempfile.mkdtemp()) / "x.sav").suffix
    '.sav'
    """
    import pyreadstat
    from ._codes import codes_of
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"write_sav: frame must be the analysis DataFrame, not {type(frame).__name__}")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    var_labels: dict[str, str] = {}
    value_labels: dict[str, dict[float, str]] = {}
    missing: dict[str, list[float]] = {}
    measure: dict[str, str] = {}
    for col in frame.columns:
        s = frame[col]
        qid = q.owner(col)
        qu = q[qid] if qid else None
        var_labels[col] = _var_label(q, col)
        if qu is not None and qu.type in ("single",) and col == qid:
            codes = codes_of(s.rename(col), qu).astype(float)
            codes[codes < 0] = np.nan
            out[col] = codes
            value_labels[col] = {float(k): v for k, v in qu.labels.items()}
            if qu.missing:
                missing[col] = [float(k) for k in qu.missing][:3]
            measure[col] = "nominal"
        elif qu is not None and qu.type in ("matrix", "likert") and not col.endswith("_other"):
            out[col] = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(
                dtype=float, na_value=np.nan)
            value_labels[col] = {float(k): v for k, v in qu.labels.items()}
            if qu.missing:
                missing[col] = [float(k) for k in qu.missing][:3]
            measure[col] = "ordinal"
        elif qu is not None and qu.type == "multi" and not col.endswith("_other"):
            out[col] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            value_labels[col] = {0.0: "未选", 1.0: "选中"}
            measure[col] = "nominal"
        elif qu is not None and qu.type == "rank" and not col.endswith("_other"):
            out[col] = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            measure[col] = "ordinal"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[col] = s
        elif pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            out[col] = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(
                dtype=float, na_value=np.nan)
            if qu is not None and qu.type == "numeric" and qu.missing:
                missing[col] = [float(k) for k in qu.missing][:3]
            measure[col] = "scale"
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str).to_numpy(dtype=object)
            measure[col] = "nominal"
    df = pd.DataFrame(out, index=range(len(frame)))
    enc = encoding.lower().replace("_", "-")
    if enc in ("utf-8", "utf8"):
        comp = p.suffix.lower() == ".zsav" if compress is None else compress
        pyreadstat.write_sav(df, str(p), column_labels=var_labels, compress=comp and p.suffix.lower()
                             == ".zsav", row_compress=bool(comp and p.suffix.lower() != ".zsav"),
                             variable_value_labels=value_labels, missing_ranges=missing,
                             variable_measure=measure)
    else:
        from ._savlegacy import write_sav_legacy
        write_sav_legacy(df, p, encoding=encoding, var_labels=var_labels,
                         value_labels=value_labels, missing=missing)
    return p
