"""What the report runner asks a reused Jupyter kernel to do between two notebooks.

A pool worker keeps its kernel for the next notebook and the next report (the package and the
prepared wave stay loaded).  Before each notebook the user's variables are cleared, as
``%reset -f`` does; but ``%reset`` also runs two full garbage collections over the kernel's
whole heap (the prepared waves, the caches, every loaded module), about half a second each
time, four times per report.  :func:`fresh_namespace` clears the same namespace, then collects
only what the last notebook left behind and moves the survivors to the collector's permanent
generation (:func:`gc.freeze`), so neither this nor Python's automatic collections walk the
long-lived heap again.  Once per report (*full_collect*) everything is unfrozen and collected,
so cyclic garbage frozen by an earlier notebook is still freed, at most one report later.

Examples
--------
>>> import gc
>>> fresh_namespace(None, full_collect=True)   # outside a kernel: only the collection
>>> gc.get_freeze_count() > 0
True
>>> gc.unfreeze()
"""
from __future__ import annotations

import gc
import os
from typing import Any

__all__ = ["fresh_namespace"]


def fresh_namespace(cwd: str | os.PathLike[str] | None, *, full_collect: bool) -> None:
    """Prepare this kernel for the next notebook: clear the user's variables (``%reset -f``)
    without its two whole-heap collections, change into *cwd*, collect the last notebook's
    garbage and freeze what survives.

    Parameters
    ----------
    cwd : path or None
        The next notebook's working folder (``None``: stay).
    full_collect : bool
        Unfreeze and collect the whole heap first (the runner asks for it at the start of each
        report), so cycles frozen by an earlier notebook are freed too.

    Examples
    --------
    >>> fresh_namespace(None, full_collect=False)
    >>> import gc; gc.unfreeze()
    """
    if cwd is not None:
        os.chdir(cwd)
    shell = _shell()
    if shell is not None:
        collect = gc.collect
        # %reset ends with gc.collect() twice (IPython's DisplayHook.flush and the magic itself),
        # each over the whole heap; the collection below does that work once, on the young part.
        gc.collect = lambda generation=2: 0  # type: ignore[assignment]
        try:
            shell.run_line_magic("reset", "-f")
        finally:
            gc.collect = collect  # type: ignore[assignment]
    if full_collect:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def _shell() -> Any:
    """The running IPython shell, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel (and so IPython) is a dependency
        return None
    return get_ipython()
