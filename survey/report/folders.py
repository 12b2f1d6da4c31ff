"""Report folders: the owner marker, the per-folder lock, and removing only what survey wrote.

A report is assembled in ``.<name>.rendering`` beside its output folder and swapped in at the
end (:mod:`survey.report.runner`).  Only folders carrying the marker :data:`OWNER_MARKER`
(``.survey-report.json``) are ever replaced or removed; a non-empty folder without it is
refused before anything runs.  One run at a time per output folder: :func:`acquire` takes the
lock ``.<name>.lock`` and, while another run holds it, says which process that is.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "rep"
>>> d.mkdir()
>>> mark(d, "2024")
>>> is_ours(d), our_files(d)
(True, [])
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from ..errors import ReportError
from ..io.safe import writing as _writing

__all__ = ["OWNER_MARKER", "is_ours", "our_files", "foreign_files", "mark", "remove_ours",
           "check_output_folder", "holder", "acquire", "say"]

#: File that marks a folder as written by survey (a published report or its staging copy);
#: folders without it are never replaced or deleted.
OWNER_MARKER = ".survey-report.json"


def say(msg: str) -> None:
    """One progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def is_ours(folder: Path) -> bool:
    """Whether *folder* carries the marker (survey wrote it)."""
    return (folder / OWNER_MARKER).is_file()


def our_files(folder: Path) -> list[str]:
    """The files below *folder* (relative, sorted), the marker itself excepted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if not p.is_dir() and p.name != OWNER_MARKER)


def foreign_files(folder: Path) -> list[str]:
    """Files in a folder survey wrote that its marker does not list (added by someone else)."""
    try:
        listed = json.loads((folder / OWNER_MARKER).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    if listed is None:  # a staging folder (still being written): everything in it is ours
        return []
    return sorted(set(our_files(folder)) - set(listed))


def mark(folder: Path, wave: str, files: list[str] | None = None) -> None:
    """Write the ownership marker (also says which run is rendering, for a waiting run; with
    *files*, the finished report's manifest)."""
    import datetime as _dt
    import socket

    from ..version import __version__

    info = {"created_by": "survey", "version": __version__, "wave": wave, "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds")}
    if files is not None:
        info["files"] = files
    with _writing(folder / OWNER_MARKER):
        (folder / OWNER_MARKER).write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")


def remove_ours(folder: Path, *, strict: bool = True) -> None:
    """Delete *folder* if survey made it (marker inside); never touch anything else (and say
    so when *strict*)."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_dir() and not folder.is_symlink() and is_ours(folder):
        shutil.rmtree(folder, ignore_errors=True)
        return
    if not strict:
        return
    raise ReportError(f"{folder} is in the way and was not written by survey (no {OWNER_MARKER}); "
                      "it was left as it is: move or rename it, or choose another folder with -o")


def check_output_folder(output_dir: str | Path) -> Path:
    """Refuse an output folder survey may not replace: a file, or a non-empty folder without
    the marker ``.survey-report.json`` (a folder of your own; nothing in it is ever deleted).

    Raises
    ------
    ReportError
        One line naming the folder, a few of its files and what to do.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_folder(d / "new") == d / "new"        # absent or empty: fine
    True
    >>> _ = (d / "my_thesis.docx").write_bytes(b"...")
    >>> check_output_folder(d)                             # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    survey.errors.ReportError: output folder ... already holds files survey did not write (my_thesis.docx); ...
    """
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise ReportError(f"output folder {out} is a file; choose a folder with -o")
    if out.is_dir() and is_ours(out):
        extra = foreign_files(out)
        if extra:
            shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
            raise ReportError(f"report folder {out} holds files survey did not write ({shown}); "
                              "move them elsewhere and run again (the report folder is replaced "
                              "as a whole)")
    if out.is_dir() and not is_ours(out):
        names = sorted(p.name for p in out.iterdir())
        if names:
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            old = ("; if it is a report from a survey version before the marker "
                   f"{OWNER_MARKER}, delete it yourself") if "index.html" in names else ""
            raise ReportError(f"output folder {out} already holds files survey did not write "
                              f"({shown}); choose a new or empty folder with -o (survey never "
                              f"replaces a folder it did not create){old}")
    return out


def holder(staging: Path) -> str:
    """Who is rendering (from the staging folder's marker), for a run that has to wait."""
    try:
        info = json.loads((staging / OWNER_MARKER).read_text(encoding="utf-8"))
        return (f"process {info['pid']} on {info['host']} (survey report of wave "
                f"{info.get('wave')!r}, started {info['started']})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another survey report run"


def acquire(out: Path, timeout: float | None, progress: bool):
    """Take the per-output-folder lock ``.<name>.lock``; wait (saying for whom) when held."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(out.parent / f".{out.name}.lock"))
    try:
        lock.acquire(timeout=0)
        return lock
    except Timeout:
        pass
    who = holder(out.parent / f".{out.name}.rendering")
    if timeout is not None and timeout <= 0:
        raise ReportError(f"{out} is being rendered by {who}; run again when it has finished")
    if progress:
        say(f"{out} is being rendered by {who}; waiting for it to finish (Ctrl-C to stop) …")
    try:
        lock.acquire(timeout=-1 if timeout is None else timeout)
    except Timeout:
        raise ReportError(f"{out} is being rendered by {who}; waited {timeout:g} s, run again "
                          "when it has finished") from None
    return lock
