"""Per-process memo of wave-level results (issue #17).

A report kernel renders report after report (the national report, then one per region) from
the same input files.  Results that depend only on those files — a parsed YAML file, a file's
SHA-256, an earlier wave's preparation — are kept here, keyed so that they can never be served
stale: by the resolved path *and* the file's identity on disk (:func:`file_identity`: size,
modification and change time in nanoseconds, inode) or by the content itself, plus every
parameter the result depends on.  An edited file gets a new key; the old entry is simply not
found again.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> _ = p.write_text("a", encoding="utf-8")
>>> k1 = file_identity(p)
>>> _ = p.write_text("bb", encoding="utf-8")
>>> k1 == file_identity(p), file_identity(p.parent / "missing") is None
(False, True)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["file_identity", "memo_get", "memo_put", "clear"]

#: namespace -> {key: value}; each namespace holds at most ``_LIMIT`` entries (oldest dropped)
_MEMO: dict[str, dict[Any, Any]] = {}
_LIMIT = 32


def file_identity(path: str | os.PathLike | None) -> tuple | None:
    """``(resolved path, size, mtime_ns, ctime_ns, inode)`` of an existing file, else None.

    The change time moves on every write or ``utime`` call and cannot be set back, so a file
    rewritten with the same size and a restored modification time still gets a new identity.
    """
    if path is None:
        return None
    try:
        p = Path(path).resolve()
        st = p.stat()
    except OSError:
        return None
    return (str(p), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def memo_get(space: str, key: Any) -> Any:
    """The value stored under *key* in *space*, or None."""
    return _MEMO.get(space, {}).get(key)


def memo_put(space: str, key: Any, value: Any, *, limit: int = _LIMIT) -> Any:
    """Store *value* under *key* in *space*, keeping at most *limit* entries there (the oldest
    goes first: a large value, such as a prepared wave, gets a small limit); return it."""
    d = _MEMO.setdefault(space, {})
    d.pop(key, None)
    d[key] = value
    while len(d) > limit:
        d.pop(next(iter(d)))
    return value


def clear() -> None:
    """Forget everything (tests; a long-lived process that wants its memory back)."""
    _MEMO.clear()
