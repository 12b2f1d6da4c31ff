"""The papermill engine the report runner executes notebooks with.

papermill's default engine rewrites the whole executed notebook (its images included) before
and after every cell; :func:`save_once_engine` registers a variant of it that writes the
notebook when it starts and when it ends.

The report kernels run with one BLAS thread each (:func:`kernel_env`).

Examples
--------
>>> save_once_engine()
'survey-save-once'
"""
from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["ENGINE_NAME", "save_once_engine", "kernel_env", "SINGLE_THREAD_VARS"]

#: the thread-count variables of the BLAS/OpenMP libraries numpy and scipy may load
SINGLE_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a report kernel adds to the runner's: a fixed hash seed, the inline
    matplotlib backend, and one BLAS/OpenMP thread (unless *environ*, by default
    ``os.environ``, sets a count itself).

    A report's matrices are small (respondents × a few dozen columns): a second BLAS thread
    saves nothing, and while the fan-out keeps every core busy with one kernel each, the
    threads a multi-threaded BLAS starts spin waiting for a core (about a third of a
    provincial report's kernel CPU time went to that).

    Examples
    --------
    >>> kernel_env({})["OPENBLAS_NUM_THREADS"], kernel_env({"OMP_NUM_THREADS": "4"})["OMP_NUM_THREADS"]
    ('1', '4')
    """
    environ = os.environ if environ is None else environ
    env = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env.update({v: str(environ.get(v, "1")) for v in SINGLE_THREAD_VARS})
    return env

#: papermill engine name of :func:`save_once_engine`
ENGINE_NAME = "survey-save-once"
_ENGINE_REGISTERED: list[bool] = []


def save_once_engine() -> str:
    """Register (once) and name a papermill engine that writes the executed notebook when it
    starts and when it ends (also after a failing cell), instead of papermill's default of
    rewriting the whole notebook, images included, before and after every cell: about 80
    writes of up to 2 MB per report.  The runner prints progress itself, so nobody watches the
    file grow; a failed notebook is still written whole (papermill's final save).  The end
    write is papermill's own (``execute_notebook`` writes the notebook after the engine
    returns, also when a cell failed); only when the engine itself stops (a timeout, a dead
    kernel) does its ``notebook_complete`` write it."""
    if not _ENGINE_REGISTERED:
        from papermill.engines import NBClientEngine, papermill_engines

        class SaveOnceEngine(NBClientEngine):
            @classmethod
            def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
                path, nb_man.output_path = nb_man.output_path, None
                try:
                    return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
                except BaseException:
                    nb_man.output_path = path  # papermill's notebook_complete() saves it whole
                    raise
                # done (a failed cell included): papermill's execute_notebook writes the
                # notebook right after this returns, so notebook_complete() need not write it too

        papermill_engines.register(ENGINE_NAME, SaveOnceEngine)
        _ENGINE_REGISTERED.append(True)
    return ENGINE_NAME
