"""Send the units of a report (the overall report and one per region) to workers.

:func:`run_units` runs each unit with a given function (the runner's ``_run_unit``: all
notebooks of the unit in one kernel) in one of three places:

- this process, one unit after the other (``jobs=1`` or a single unit);
- a local pool of ``jobs`` worker processes (the default for ``--by``; :func:`default_jobs`
  of them unless told);
- the workers of a Dask cluster (``scheduler="tcp://host:8786"`` or the environment variable
  ``DASK_SCHEDULER_ADDRESS``; the optional extra ``pip install 'kexie-survey[dask]'``).  Each
  unit is a :meth:`distributed.Client.submit` task; the worker renders it into a temporary
  folder of its own and sends the folder back zipped, so the report's staging folder never has
  to be shared with the workers.  The notebooks travel with the task; the data (questionnaire,
  export, margins, stations) must be readable on the workers under the same paths.

Examples
--------
>>> run_units([{"label": "a"}, {"label": "b"}], lambda u: {"ok": True, "label": u["label"]},
...           jobs=1)
[{'ok': True, 'label': 'a'}, {'ok': True, 'label': 'b'}]
>>> default_jobs(cores=2, available_bytes=16 * 2**30)
3
>>> scheduler_address(None, env={"DASK_SCHEDULER_ADDRESS": "tcp://10.0.0.5:8786"})
'tcp://10.0.0.5:8786'
"""
from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ReportError
from .folders import say

__all__ = ["run_units", "default_jobs", "JOB_MEMORY", "scheduler_address", "require_dask", "connect", "remote_unit", "DASK_EXTRA"]

#: How to install what ``--scheduler`` needs.
DASK_EXTRA = "pip install 'kexie-survey[dask]'"

Unit = dict[str, Any]
Runner = Callable[[Unit], dict[str, Any]]


def scheduler_address(scheduler: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The Dask scheduler to use: *scheduler*, else ``DASK_SCHEDULER_ADDRESS``, else None
    (the local process pool).

    Examples
    --------
    >>> scheduler_address("tcp://a:8786", env={"DASK_SCHEDULER_ADDRESS": "tcp://b:8786"})
    'tcp://a:8786'
    >>> scheduler_address(None, env={}) is None
    True
    """
    env = os.environ if env is None else env
    addr = str(scheduler or env.get("DASK_SCHEDULER_ADDRESS") or "").strip()
    return addr or None


def require_dask(address: str) -> None:
    """Stop with a clear error when ``--scheduler`` is given but Dask distributed is missing.

    Raises
    ------
    ReportError
        Names the scheduler address and the extra to install.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ReportError(f"scheduler {address}: Dask distributed is not installed in {sys.prefix}; "
                          f"install the optional extra with  {DASK_EXTRA}  (in the repository: "
                          "pip install '.[dask]'), or drop --scheduler / unset DASK_SCHEDULER_ADDRESS "
                          "to render with the local process pool") from None


#: Seconds to wait for the scheduler to answer.
CONNECT_TIMEOUT = 10.0


def connect(address: str, timeout: float | None = None):
    """A :class:`distributed.Client` connected to the scheduler at *address*.

    Raises
    ------
    ReportError
        Dask is not installed (names the extra to install) or the scheduler does not answer
        within *timeout* seconds (names the address).
    """
    require_dask(address)
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT if timeout is None else timeout,
                      set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise ReportError(f"Dask scheduler {address} is unreachable ({type(e).__name__}: {e}); "
                          "start it there (`dask scheduler`), check host and port, or drop "
                          "--scheduler / unset DASK_SCHEDULER_ADDRESS to render with the local "
                          "process pool") from None


#: memory set aside per pool worker: a worker and its Jupyter kernel peaked at 3.3 GB (RSS)
#: rendering the national demo's overall report (47k respondents, with an earlier wave) and at
#: 1.2 GB rendering its provincial reports (measured 2026-11-30, psutil, every 0.5 s)
JOB_MEMORY = 3.5 * 2**30


def default_jobs(*, cores: int | None = None, available_bytes: int | None = None) -> int:
    """Pool size when ``--jobs`` is not given: one more worker than this process may use cores.

    A worker alternates between its kernel (executing a notebook) and itself (converting the
    page, writing the tables), so a pool of exactly one worker per core leaves a core idle
    whenever two workers convert at once; on 2 cores, 3 workers rendered the national demo's
    32 reports in 283 s against 312 s with 2 (issue #17).  Capped by the available memory
    (:data:`JOB_MEMORY` per worker), never below 1.

    Parameters
    ----------
    cores : int, optional
        Cores this process may run on (default: its CPU affinity).
    available_bytes : int, optional
        Memory available for new processes (default: the system's ``MemAvailable``; no cap when
        it cannot be read).

    Examples
    --------
    >>> default_jobs(cores=8, available_bytes=8 * 2**30)
    2
    >>> default_jobs() >= 1
    True
    """
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if available_bytes is None:
        available_bytes = _available_memory()
    jobs = cores + 1
    if available_bytes is not None:
        jobs = min(jobs, int(available_bytes // JOB_MEMORY))
    return max(1, int(jobs))


def _available_memory() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` in bytes (``None`` where there is none)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_units(units: Sequence[Unit], run: Runner, *, jobs: int | None = None, scheduler: Any = None,
              progress: bool = False, release: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Run every unit with *run*; the results in the order they finished.

    In this process one after the other (``jobs <= 1`` or one unit; stops at the first failed
    unit), in a pool of ``jobs`` spawned processes, or, with *scheduler* (an address or a
    connected :class:`distributed.Client`), on that Dask cluster (see the module docstring).

    Each unit is marked ``reuse_kernel``: a worker keeps its kernel for its next unit (the pool's
    and the cluster's workers stop it when they exit; in this process *release* is called once
    the units are done).
    """
    units = [{**u, "reuse_kernel": True} for u in units]
    jobs = default_jobs() if jobs is None else jobs
    if scheduler:
        return _run_dask(units, run, scheduler, progress)
    results: list[dict[str, Any]] = []
    if len(units) == 1 or jobs <= 1:
        try:
            for u in units:
                results.append(run(u))
                if not results[-1]["ok"]:
                    break
        finally:
            if release is not None:
                release()
        return results
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as ex:
        futs = [ex.submit(run, u) for u in units]
        for f in as_completed(futs):
            results.append(f.result())
    return results


def _zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()


def _unzip_into(blob: bytes, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        for name in z.namelist():  # names come from our own worker; still never leave the folder
            target = (folder / name).resolve()
            if root != target and root not in target.parents:
                raise ReportError(f"a worker sent {name!r}, which lies outside {folder}; not written")
        z.extractall(folder)


def _moved(value: Any, old: str, new: str) -> Any:
    """*value* (a result: str, list, dict) with the path prefix *old* replaced by *new*."""
    if isinstance(value, str):
        return new + value[len(old):] if value.startswith(old) else value
    if isinstance(value, list):
        return [_moved(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _moved(v, old, new) for k, v in value.items()}
    return value


def remote_unit(run: Runner, unit: Unit, notebooks: Mapping[str, str]) -> tuple[dict[str, Any], bytes]:
    """Run one unit on a Dask worker: write its notebooks (*notebooks*: name -> JSON text) and
    render into a temporary folder, then return the result (paths as the client knows them)
    and the folder zipped."""
    with tempfile.TemporaryDirectory(prefix="survey-unit-") as tmp:
        nbdir = Path(tmp) / "in"
        nbdir.mkdir()
        paths = []
        for name, text in notebooks.items():
            (nbdir / name).write_text(text, encoding="utf-8")
            paths.append(str(nbdir / name))
        work = Path(tmp) / "out"
        res = run({**unit, "dir": str(work), "notebooks": paths, "progress_bar": False})
        blob = _zip_folder(work) if work.is_dir() else b""
    return _moved(res, str(work), unit["dir"]), blob


def _run_dask(units: Sequence[Unit], run: Runner, scheduler: Any, progress: bool) -> list[dict[str, Any]]:
    own = isinstance(scheduler, str)
    client = connect(scheduler) if own else scheduler
    address = getattr(client, "scheduler", None) and client.scheduler.address or str(scheduler)
    try:
        from distributed import as_completed

        texts = {Path(p).name: Path(p).read_text(encoding="utf-8") for p in units[0]["notebooks"]} \
            if units else {}
        if len({Path(p).name for u in units for p in u["notebooks"]}) != len(texts):
            raise ReportError("the units of one report must share their notebooks")
        futs = {client.submit(remote_unit, run, u, texts, key=f"survey-unit-{k}-{u['label']}",
                              pure=False): u for k, u in enumerate(units)}
        if progress:
            n = len(client.scheduler_info().get("workers", {}))
            say(f"sending {len(units)} report(s) to the Dask cluster at {address} ({n} worker(s))")
        results = []
        try:
            for f in as_completed(list(futs), loop=client.loop):
                res, blob = f.result()
                if blob:
                    _unzip_into(blob, Path(futs[f]["dir"]))
                results.append(res)
                if progress:
                    say(f"[{res['label']}] received from the cluster"
                        + ("" if res["ok"] else " (failed)"))
        except BaseException:
            client.cancel(list(futs))
            raise
        return results
    finally:
        if own:
            client.close()
