"""What the report runner asks a reused Jupyter kernel to do between two notebooks
(:func:`reset_kernel`, in the runner; :func:`fresh_namespace`, in the kernel).

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

__all__ = ["fresh_namespace", "reset_kernel"]


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


def reset_kernel(km: Any, cwd: str | os.PathLike[str], *, full_collect: bool) -> None:
    """Before a notebook runs in a kernel that already ran one: clear the user's variables
    (as ``%reset -f``; the imported modules stay loaded, which is the point of reusing it; each
    notebook validates its ``globals()`` as its parameters) and move it into *cwd*, with one
    garbage collection of the last notebook's leftovers instead of ``%reset``'s two over the
    whole heap (:func:`fresh_namespace`, run in the kernel; *full_collect* at the start of a
    report).  Runs in the report runner.

    Parameters
    ----------
    km : jupyter_client kernel manager
        The reused kernel's manager (a client of its own is opened and closed).
    cwd : path
        The next notebook's working folder.
    full_collect : bool
        As in :func:`fresh_namespace`.

    Raises
    ------
    RuntimeError
        The kernel did not reset (its reply is named).
    """
    from jupyter_core.utils import run_sync

    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        reply = run_sync(kc.execute_interactive)(
            f"__import__('survey.report.kernel', fromlist=['fresh_namespace'])"
            f".fresh_namespace({str(cwd)!r}, full_collect={bool(full_collect)})",
            store_history=False, timeout=60, output_hook=lambda msg: None)
    finally:
        kc.stop_channels()
    if reply["content"].get("status") != "ok":
        raise RuntimeError(f"could not reset the kernel for the next notebook: {reply['content']}")


def _shell() -> Any:
    """The running IPython shell, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel (and so IPython) is a dependency
        return None
    return get_ipython()
