"""The papermill engine the report runner executes notebooks with.

papermill's default engine rewrites the whole executed notebook (its images included) before
and after every cell; :func:`save_once_engine` registers a variant of it that writes the
notebook when it starts and when it ends.

Examples
--------
>>> save_once_engine()
'survey-save-once'
"""
from __future__ import annotations

__all__ = ["ENGINE_NAME", "save_once_engine"]

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
