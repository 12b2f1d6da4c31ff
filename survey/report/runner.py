"""Run the report notebooks (papermill), convert them to HTML (nbconvert), swap into place.

``render_report`` executes a *list* of notebooks (new ones slot in by name) with validated
parameters, in a kernel of **the Python the command runs in** (``sys.executable``; no kernelspec
lookup, so no "No such kernel" in a venv), converts each to one self-contained HTML page (the pages
of one report embed one font subset, :func:`survey.report.html.embed_font`), writes
``index.html`` and ``tables.xlsx``, and only then swaps the new folder in place of the published
one.  A failing cell stops the run with a :class:`~survey.errors.ReportError` naming the
notebook, the cell and the error; the executed notebooks are kept in ``<output>.failed/`` and the
previously published report is left untouched.  ``by=`` renders one report per region (plus the
overall one): the wave is prepared once (:mod:`survey.report.warmup`), all notebooks of one report
run in one kernel, which a worker keeps for its next report, and the reports go to a local process
pool or, with ``scheduler=``, to a Dask cluster (:mod:`survey.report.fanout`).

Layout of ``output_dir``::

    index.html                      links every report
    quality.html, survey_report.html, ...
    tables.xlsx                     every published table, one sheet each
    专报.docx                        the painpoints notebook's Word brief (when it ran)
    notebooks/*.ipynb               the executed notebooks (for debugging)
    regions/<region>/...            with by="region": the same per region
    .survey-report.json             marks the folder as written by survey (see below)

Ownership and locking: a report is assembled in ``.<name>.rendering`` beside ``output_dir``
and swapped in at the end.  Only folders carrying the marker ``.survey-report.json`` are ever
replaced or removed: an existing non-empty ``output_dir`` without it (a folder of your own) is
refused before anything runs.  One run at a time per output folder: a second run waits for the
lock ``.<name>.lock`` (saying which process holds it).  Ctrl-C or a full disk removes the
unfinished ``.<name>.rendering`` and leaves the published report as it was (the marker and
lock code: :mod:`survey.report.folders`).

Examples
--------
>>> from survey.report.runner import resolve_notebooks
>>> [p.stem for p in resolve_notebooks(["quality"], "notebooks")]
['quality']
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError, ReportError
from ..io.safe import writing as _writing
from ..validation import Integer, check
from .engine import kernel_env, save_once_engine
from .fanout import connect, run_units, scheduler_address
from .kernel import reset_kernel
from .warmup import warm_cache as _warm_cache
from .warmup import weighting_notes as _weighting_notes  # noqa: F401 - tests import it from here
from .warmup import weighting_summary as _weighting_summary  # noqa: F401
from .folders import (OWNER_MARKER, acquire, check_output_folder, is_ours, mark, our_files,
                      remove_ours, say)
from .params import NOTEBOOK_TITLES, NOTEBOOKS, schema, validate
from .context import report_title

__all__ = ["render_report", "resolve_notebooks", "CurrentPythonKernelManager", "KERNEL_NAME",
           "ReportResult", "region_values", "check_harmonization", "check_output_folder",
           "OWNER_MARKER", "release_kernel"]

KERNEL_NAME = "survey-current-python"
REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: Kernel managers of this process whose kernels may still run (killed on Ctrl-C).
_LIVE_KERNELS: "weakref.WeakSet[Any]" = weakref.WeakSet()
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_INTERRUPTED = threading.Event()  # Ctrl-C seen while notebooks ran (see _ctrl_c_stops_kernels)


def _check_interrupted() -> None:
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _kernel_manager_class():
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentPythonKernelManager(AsyncKernelManager):
        """Start the kernel with ``sys.executable`` (the environment the command runs in)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _LIVE_KERNELS.add(self)
            if os.name == "posix":
                self.transport = "ipc"  # local sockets: no TCP ports, no plaintext-TCP warning
                # absolute socket paths in a folder of their own: a kernel that serves several
                # reports (several working folders) is still found by each new client
                import tempfile

                self.ipc_dir = tempfile.mkdtemp(prefix="survey-kernel-")
                self.ip = os.path.join(self.ipc_dir, "kernel-ipc")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client >= 7 interrupts the kernel (SIGINT) at the start of every
            # shutdown_kernel().  nbclient shuts the kernel down only once the last cell has
            # replied, so the kernel is idle and the interrupt does nothing useful, but when it
            # races with the kernel still finishing a message ipykernel logs
            # "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." to our terminal.
            # Skip that one interrupt; an explicit interrupt (nbclient's on timeout) still goes
            # through, and a kernel that does not stop is still killed after shutdown_wait_time.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        @property
        def kernel_spec(self):  # type: ignore[override]
            if self._kernel_spec is None:
                self._kernel_spec = KernelSpec(
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    display_name=f"Python ({sys.prefix})", language="python",
                    resource_dir=str(Path(__file__).parent), metadata={},
                    env=kernel_env(),
                )
            return self._kernel_spec

    return CurrentPythonKernelManager


def __getattr__(name: str):  # lazy: jupyter_client is only imported when rendering
    if name == "CurrentPythonKernelManager":
        return _kernel_manager_class()
    raise AttributeError(name)


@dataclass
class ReportResult:
    """What :func:`render_report` produced."""

    output_dir: Path
    html: list[Path] = field(default_factory=list)
    workbooks: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: weighting warnings recorded while preparing each wave (wave -> messages); the same facts
    #: are in the quality notebook's weighting section
    weighting_notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        return self.output_dir / "index.html"


def resolve_notebooks(notebooks: Sequence[str | Path], notebook_dir: str | Path | None = None,
                      wave_dir: str | Path | None = None) -> list[Path]:
    """Notebook names (``"quality"``) or paths → existing ``.ipynb`` paths, in the given order.

    A name is looked up first in ``<wave_dir>/notebooks/`` (a wave's own, adapted notebook,
    beside its questionnaire.yml; regenerating ``notebooks/`` never touches it), then in
    *notebook_dir* (default: the repository's generated ``notebooks/``).

    Raises
    ------
    ReportError
        A notebook does not exist (names it and lists the available ones).
    """
    nd = Path(notebook_dir) if notebook_dir is not None else REPO_NOTEBOOKS
    out = []
    for n in notebooks:
        p = Path(n)
        if p.suffix != ".ipynb":
            own = Path(wave_dir) / "notebooks" / f"{n}.ipynb" if wave_dir is not None else None
            p = own if own is not None and own.is_file() else nd / f"{n}.ipynb"
        if not p.is_file():
            avail = ", ".join(sorted(q.stem for q in nd.glob("*.ipynb"))) or "(none)"
            raise ReportError(f"notebook {str(n)!r} not found at {p}; available in {nd}: {avail}")
        out.append(p.resolve())
    if len({p.stem for p in out}) != len(out):
        raise ReportError(f"notebook names must be unique: {[p.stem for p in out]}")
    return out


def _params_for(nb: str, params: Mapping[str, Any]) -> dict[str, Any]:
    sch = schema(nb)
    return {k: v for k, v in params.items() if k in sch}


def _check_params(names: Sequence[str], params: Mapping[str, Any]) -> None:
    known: set[str] = set()
    for n in names:
        known |= set(schema(n))
    for k in params:
        if k not in known:
            import difflib

            close = difflib.get_close_matches(k, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"unknown report parameter {k!r}{hint}; valid parameters: "
                                 f"{', '.join(sorted(known))}")
    for n in names:
        validate(notebook=n, **_params_for(n, params))
    if params.get("region") is not None and not params.get("region_var"):
        raise ParameterError(f"region {params['region']!r}: name the question that holds the regions "
                             "with the region_var parameter (e.g. -p region_var=<question id>), "
                             "or use --by <question id> for a report per region")


def _slug(value: str) -> str:
    s = re.sub(r"[\\/:*?\"<>|\s]+", "_", str(value)).strip("._")
    return s or "region"


def _cell_summary(err: Any) -> str:
    src = (getattr(err, "source", "") or "").strip().splitlines()
    first = src[0][:80] if src else ""
    n = getattr(err, "exec_count", None)
    idx = getattr(err, "cell_index", None)
    where = f"cell {n}" if n is not None else "a cell"
    if idx is not None:
        where += f" (index {idx})"
    return f"{where} `{first}`" if first else where


def _kill_kernels() -> None:
    """Stop the kernels this process started (after Ctrl-C nbclient cannot shut them down):
    kill each kernel's process group and remove its connection file, so nothing is left to
    print "Parent appears to have exited" or a ZMQ traceback into the terminal."""
    import signal

    for km in list(_LIVE_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        try:
            if proc is not None and proc.poll() is None:
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)  # the kernel leads its own session
                else:  # pragma: no cover
                    proc.kill()
                proc.wait(timeout=5)
        except (OSError, ValueError, Exception):  # noqa: BLE001 - already gone
            pass
        for clean in ("cleanup_connection_file", "cleanup_ipc_files"):
            try:
                getattr(km, clean)()
            except Exception:  # noqa: BLE001
                pass
        if getattr(km, "ipc_dir", None):
            shutil.rmtree(km.ipc_dir, ignore_errors=True)
        _LIVE_KERNELS.discard(km)
    _WORKER_KERNEL.clear()


@contextmanager
def _ctrl_c_stops_kernels():
    """While notebooks run, Ctrl-C first kills the kernels, then raises KeyboardInterrupt.

    Left to nbclient, the interrupt is followed by a polite shutdown request to a kernel that
    is still executing a cell; it closes its sockets under the running cell and prints a ZMQ
    traceback into the terminal ("Socket operation on non-socket").  A killed kernel prints
    nothing.  Only the main thread can set handlers, and a handler someone else installed
    (or an ignored SIGINT) is left alone.
    """
    import signal

    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        _INTERRUPTED.set()  # checked again later: an exception raised inside a weakref
        _kill_kernels()     # callback or __del__ is swallowed ("Exception ignored in ...")
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Execute all notebooks of one report unit (overall or one region). Runs in a worker."""
    try:
        with _ctrl_c_stops_kernels():
            return _run_unit_notebooks(unit)
    except KeyboardInterrupt:
        _kill_kernels()
        raise


def _run_unit_notebooks(unit: dict[str, Any]) -> dict[str, Any]:
    """Execute all notebooks of one report unit (overall or one region) in one kernel.

    The kernel starts with the first notebook and serves the others (each notebook's setup cell
    rebuilds its own context; the prepared wave is loaded once per kernel, see
    :func:`survey.report.content.data.prepare`), so a unit pays for one kernel start and one
    import of the package instead of one per notebook.  With ``unit["reuse_kernel"]`` (a worker
    of the local pool or of a Dask cluster) the kernel also serves the worker's next units: it
    is kept until the worker exits (:func:`release_kernel`) or a notebook fails in it.  Every
    notebook writes below its ``output_dir`` parameter, never relative to the kernel's folder.
    Runs in a worker."""
    reuse = bool(unit.get("reuse_kernel"))
    km = _worker_kernel() if reuse else _kernel_manager_class()(kernel_name=KERNEL_NAME)
    ok = False
    try:
        res = _run_notebooks_in(unit, km)
        ok = bool(res.get("ok"))
        return res
    finally:
        if not (reuse and ok):
            _shutdown_kernel(km)
            if _WORKER_KERNEL.get(threading.get_ident()) is km:
                del _WORKER_KERNEL[threading.get_ident()]


#: The kernel manager each thread of a worker reuses for the units it renders (thread id -> kernel
#: manager; see _run_unit_notebooks): its event loop belongs to the thread that started it.
_WORKER_KERNEL: dict[int, Any] = {}
_FINALIZER: list[bool] = []


def _worker_kernel() -> Any:
    """This worker's kernel manager (a new one when there is none or its kernel died)."""
    km = _WORKER_KERNEL.get(threading.get_ident())
    if km is not None and km.has_kernel:
        from jupyter_core.utils import run_sync

        if not run_sync(km.is_alive)():
            _shutdown_kernel(km)
            km = None
    if km is None:
        import atexit
        from multiprocessing import util

        km = _kernel_manager_class()(kernel_name=KERNEL_NAME)
        if not _FINALIZER:
            # a pool worker ends with os._exit (no atexit); multiprocessing's finalizers run then
            util.Finalize(None, release_kernel, exitpriority=10)
            atexit.register(release_kernel)
            _FINALIZER.append(True)
        _WORKER_KERNEL[threading.get_ident()] = km
    return km


def release_kernel() -> None:
    """Stop the kernels this process kept for its next report (if any)."""
    while _WORKER_KERNEL:
        _shutdown_kernel(_WORKER_KERNEL.popitem()[1])


def _shutdown_kernel(km: Any) -> None:
    """Stop a kernel (politely: it is idle once the last notebook has replied)."""
    if km.has_kernel:
        from jupyter_core.utils import run_sync

        try:
            run_sync(km.shutdown_kernel)(now=False)
        except Exception:  # noqa: BLE001 - a kernel that does not stop is killed
            _kill_kernels()
    _LIVE_KERNELS.discard(km)
    if getattr(km, "ipc_dir", None):
        shutil.rmtree(km.ipc_dir, ignore_errors=True)


def _run_notebooks_in(unit: dict[str, Any], km: Any) -> dict[str, Any]:
    """:func:`_run_unit_notebooks` with the unit's kernel manager *km*."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .html import IndexEntry, embed_font, index_page, notebook_to_html
    from .context import TABLES_DIRNAME
    from .workbook import write_workbook

    out = Path(unit["dir"])
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    label = unit["label"]
    paths = [Path(p) for p in unit["notebooks"]]
    timings: dict[str, float] = {}
    entries = []
    html_files = []
    pages: dict[str, str] = {}  # file name -> page without its font (embed_font at the end)
    for k, nbp in enumerate(paths, start=1):
        name = nbp.stem
        params = _params_for(name, unit["params"])
        params["output_dir"] = str(out)
        executed = out / "notebooks" / f"{name}.ipynb"
        t0 = time.perf_counter()
        if unit["progress"]:
            say(f"[{label}] [{k}/{len(paths)}] {name} …")
        try:
            if km.has_kernel:  # it ran a notebook before: a clean namespace in this report's folder
                reset_kernel(km, out, full_collect=k == 1)
            pm.execute_notebook(
                str(nbp), str(executed), parameters=params, kernel_name=KERNEL_NAME,
                km=km, cwd=str(out), progress_bar=unit["progress_bar"],
                log_output=False, execution_timeout=unit["timeout"], report_mode=False,
                engine_name=save_once_engine(),
            )
        except PapermillExecutionError as e:
            return {"ok": False, "label": label, "notebook": name, "executed": str(executed),
                    "message": f"notebook {name!r} ({label}) failed in {_cell_summary(e)}: "
                               f"{e.ename}: {e.evalue}",
                    "disk_full": e.ename == "OSError" and any(
                        f"[Errno {n}]" in str(e.evalue) for n in _DISK_FULL)}
        except OSError as e:
            if e.errno in _DISK_FULL:  # writing the executed notebook
                raise OSError(e.errno, e.strerror, e.filename or str(executed)) from None
            return {"ok": False, "label": label, "notebook": name, "executed": str(executed),
                    "message": f"notebook {name!r} ({label}) could not be executed: "
                               f"{type(e).__name__}: {e}"}
        except Exception as e:  # kernel died, timeout, ...
            return {"ok": False, "label": label, "notebook": name, "executed": str(executed),
                    "message": f"notebook {name!r} ({label}) could not be executed: "
                               f"{type(e).__name__}: {e}"}
        _check_interrupted()
        t1 = time.perf_counter()
        nb = nbformat.read(str(executed), as_version=4)
        title = f"{unit['title']} · {NOTEBOOK_TITLES.get(name, name)}"
        if unit["region"]:
            title = f"{unit['title']} · {unit['region']} · {NOTEBOOK_TITLES.get(name, name)}"
        pages[f"{name}.html"] = notebook_to_html(nb, title=title, lang=unit["lang"], font=False)
        html_files.append(str(out / f"{name}.html"))
        entries.append(IndexEntry(f"{name}.html", NOTEBOOK_TITLES.get(name, name),
                                  group=unit["region"] or "全部样本"))
        timings[f"{label}/{name}"] = time.perf_counter() - t0
        timings[f"{label}/{name}:run"] = t1 - t0
        timings[f"{label}/{name}:html"] = time.perf_counter() - t1
        if unit["progress"]:
            say(f"[{label}] [{k}/{len(paths)}] {name} done: run {t1 - t0:.1f} s, "
                 f"html {time.perf_counter() - t1:.1f} s")
    t_wb = time.perf_counter()
    from .findings import FINDINGS_DIRNAME, collect_findings, index_findings, write_findings_table

    write_findings_table(out / TABLES_DIRNAME, collect_findings(out, [p.stem for p in paths]))  # sheet 主要发现
    with _writing(out / "tables.xlsx"):
        wb = write_workbook(out / TABLES_DIRNAME, out / "tables.xlsx", notebooks=["findings", *[p.stem for p in paths]],
                            notebook_titles={**NOTEBOOK_TITLES, "findings": "首页"})
    shutil.rmtree(out / TABLES_DIRNAME, ignore_errors=True)
    region_links = [(f"regions/{_slug(r)}/index.html", f"分地区报告：{r}") for r in unit.get("regions", [])]
    from .checklist import DOCX_NAME  # the painpoints notebook's Word 专报 (listed in the marker)

    docx_link = [(DOCX_NAME, "急难愁盼问题清单与政策成效专报（Word）")] if (out / DOCX_NAME).is_file() else []
    lead = index_findings(out, [p.stem for p in paths])
    shutil.rmtree(out / FINDINGS_DIRNAME, ignore_errors=True)
    pages["index.html"] = index_page(
        entries, title=unit["title"] + (f" · {unit['region']}" if unit["region"] else ""),
        extra_links=[("tables.xlsx", "全部表格（Excel）"), *docx_link, *region_links],
        lead_html=lead, font=False)
    timings[f"{label}:workbook+index"] = time.perf_counter() - t_wb
    t_font = time.perf_counter()
    # one font subset for the whole report (the characters of all its pages), cut once and
    # embedded in every page: each page stays self-contained, the subset depends only on
    # this report's pages
    for fname, page in embed_font(pages).items():
        with _writing(out / fname):
            (out / fname).write_text(page, encoding="utf-8")
    timings[f"{label}:font+write"] = time.perf_counter() - t_font
    return {"ok": True, "label": label, "html": html_files, "workbook": str(wb), "timings": timings}


def check_harmonization(params: Mapping[str, Any], notebooks: Sequence[str] = ("trends",)) -> None:
    """Pre-flight check of the trends notebook's cross-wave inputs, before any notebook runs.

    When ``trends`` is among *notebooks* and ``previous_waves`` are given, the waves'
    questionnaires are found as the notebook finds them (this wave's ``questionnaire``, each
    earlier wave's by :func:`~survey.report.content.data.previous_inputs`) and
    ``harmonization.yml`` is loaded against them (:func:`survey.trends.load_for_waves`), so a
    wave missing from the harmonisation, or a questionnaire that does not line up with its code
    maps, stops the run at once instead of in the trends notebook.  Inputs that cannot be found
    or read are left to the notebooks, which report them in their sections.

    Raises
    ------
    HarmonizationError
        The same error the trends notebook would raise (names the wave / code and the fix).

    Examples
    --------
    >>> check_harmonization({"wave": "x"}, ["quality"])  # no trends notebook: nothing to check
    """
    if "trends" not in notebooks or not params.get("previous_waves") or not params.get("questionnaire"):
        return
    if params.get("region") is not None:  # a regional report does not compare waves
        return
    from ..errors import HarmonizationError, SurveyError
    from ..questionnaire import Questionnaire
    from ..trends import load_for_waves
    from .content.data import cross_wave_file, previous_inputs

    try:
        paths = [previous_inputs(params, str(w))["questionnaire"] for w in params["previous_waves"]]
        paths.append(Path(params["questionnaire"]))
        qs = [Questionnaire.load(q) for q in paths]
    except SurveyError:
        return  # a missing or broken input: the notebooks name it where it belongs
    ids = [q.id for q in qs]
    if len(set(ids)) < len(ids):
        raise HarmonizationError(f"trends report: the waves {[*map(str, params['previous_waves']), params.get('wave')]} "
                                 f"have questionnaire wave ids {ids}; each wave needs its own id")
    hp = cross_wave_file(params, "harmonization")
    if hp is None:
        raise HarmonizationError("trends report: no harmonization.yml (beside the questionnaire folders "
                                 "or in the repository); write one or set the harmonization parameter")
    load_for_waves(hp, {q.id: q for q in qs})


def _wave_notebooks(params: Mapping[str, Any], notebooks: Sequence[str | Path],
                    notebook_dir: str | Path | None) -> str | Path | None:
    """The folder to take the notebooks from: *notebook_dir* when given; else, when every
    notebook is one of the report's own, the wave's notebooks generated from its questionnaire
    (:mod:`survey.report.notebooks`; in the work folder), so each cell names this wave's
    questions.  A questionnaire that cannot be loaded falls back to the repository's notebooks
    (whose setup cell reports the error)."""
    from .notebooks import BODIES, write

    if notebook_dir is not None or not params.get("questionnaire"):
        return notebook_dir
    names = [str(n) for n in notebooks]
    if not all(n in BODIES for n in names):
        return None
    from ..errors import SurveyError
    from ..questionnaire import Questionnaire

    try:
        q = Questionnaire.load(params["questionnaire"])
    except SurveyError:
        return None
    d = Path(params["work_dir"]) / "notebooks"
    write(d, names, q)
    return d


def _role_gaps(params: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """One line per report section the wave's questionnaire leaves out (an undeclared role of
    its ``report:`` block, a missing lexicon): the same sentence the page shows."""
    if "painpoints" not in names or not params.get("questionnaire"):
        return []
    from ..errors import SurveyError
    from ..questionnaire import Questionnaire
    from .content.roles import role_gaps

    try:
        q = Questionnaire.load(params["questionnaire"])
    except SurveyError:
        return []  # the notebooks report a broken questionnaire where it belongs
    from ..painpoints.brief import lexicon_folders

    return [f"section left out: {g}" for g in role_gaps(q, lexicon_folders(params))]


def region_values(params: Mapping[str, Any], by: str) -> list[str]:
    """The distinct values of column *by* in the report's data (sorted), for ``by=``.

    Raises
    ------
    ReportError
        No data parameter, or the column is absent.
    """
    from .params import Params
    from .context import setup

    p = validate(notebook="quality", **_params_for("quality", params))
    ctx = setup(Params({**p, "region": None}, notebook="quality"), notebook="quality")
    if ctx.data is None:
        raise ReportError(f"--by {by}: cannot list regions without data ({ctx.load_error or 'no data parameter'})")
    if by not in ctx.data.columns:
        raise ReportError(f"--by {by}: column {by!r} is not in the data; columns include "
                          f"{', '.join(map(str, list(ctx.data.columns)[:20]))}")
    vals = ctx.data[by].dropna().astype(str).unique().tolist()
    return sorted(vals)



def render_report(params: Mapping[str, Any] | None = None, *, output_dir: str | Path,
                  notebooks: Sequence[str | Path] = NOTEBOOKS,
                  notebook_dir: str | Path | None = None, by: str | None = None,
                  by_values: Sequence[str] | None = None, jobs: int | None = None, progress: bool = True,
                  timeout: int | None = 1800, title: str | None = None,
                  lock_timeout: float | None = None, scheduler: str | None = None) -> ReportResult:
    """Render the report: execute *notebooks*, convert to HTML, write Excel, swap into place.

    Parameters
    ----------
    params : mapping
        Notebook parameters (see :func:`survey.report.params.schema`); each notebook receives the
        ones it declares.  Paths are made absolute.
    output_dir : path
        Where the published report lives (replaced atomically at the end).
    notebooks : sequence of str or path
        Notebook names in ``notebook_dir`` or paths, in report order.
    by : str, optional
        Also render one report per value of this column (e.g. ``"district"``), in parallel.
    by_values : sequence of str, optional
        The values for ``by`` (default: read from the data).
    jobs : int, optional
        Worker processes for ``by=`` (the local process pool; default
        :func:`survey.report.fanout.default_jobs`, one more than the cores).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``; default: the environment variable
        ``DASK_SCHEDULER_ADDRESS``): the overall and the regional reports are rendered by the
        cluster's workers instead of the local pool (:mod:`survey.report.fanout`; needs the
        optional extra ``pip install 'kexie-survey[dask]'``).
    progress : bool
        Per-notebook progress lines (and papermill's per-cell bar on a terminal).
    timeout : int, optional
        Per-cell timeout in seconds.
    title : str, optional
        Report title (default: the ``title`` parameter or the wave).
    lock_timeout : float, optional
        Seconds to wait for another run rendering the same ``output_dir`` (default: wait until
        it finishes; 0: fail at once naming the process that holds the lock).

    Returns
    -------
    ReportResult

    Raises
    ------
    ParameterError
        Unknown or mistyped parameter (before any kernel starts).
    HarmonizationError
        The trends notebook is selected and ``harmonization.yml`` does not cover or line up with
        the compared waves (before any kernel starts; see :func:`check_harmonization`).
    ReportError
        A notebook failed (names notebook, cell and error; the executed notebook is kept in
        ``<output_dir>.failed/``; the published report is unchanged); ``output_dir`` is a
        folder survey did not create (:func:`check_output_folder`); the disk is full (names
        the file being written; the unfinished report is removed); another run holds the
        folder longer than ``lock_timeout``; ``scheduler`` is given but Dask is not installed
        (names the extra) or the scheduler does not answer (names the address).
    KeyboardInterrupt
        Ctrl-C: kernels stopped, the unfinished report removed, the published one unchanged.
    """
    from ..io.safe import check_wave_id

    if jobs is None:
        from .fanout import default_jobs

        jobs = default_jobs()
    check("render_report", "jobs", jobs, Integer(1, example=2), error=ParameterError)
    params = dict(params or {})
    if params.get("wave") is not None:
        check_wave_id(params["wave"])
    for w in params.get("previous_waves") or []:
        check_wave_id(w, what="previous wave id")
    out = Path(output_dir).resolve()
    if not params.get("work_dir"):  # prepared microdata live beside, never inside, the report
        params["work_dir"] = str(out.parent / f".{out.name}.work")
    qdir = Path(params["questionnaire"]).parent if params.get("questionnaire") else None
    nbs = resolve_notebooks(notebooks, notebook_dir, qdir)
    names = [p.stem for p in nbs]
    for k in ("questionnaire", "data", "population", "stations", "work_dir", "harmonization", "policies"):
        if params.get(k):
            params[k] = str(Path(params[k]).resolve())
    if isinstance(params.get("previous_data"), Mapping):  # the notebooks run in the output folder
        params["previous_data"] = {str(k): str(Path(v).resolve()) for k, v in params["previous_data"].items()}
    params.pop("output_dir", None)
    _check_params(names, params)
    check_harmonization(params, names)
    if progress:
        for line in _role_gaps(params, names):
            say(line)
    check_output_folder(out)
    sched = scheduler_address(scheduler)
    client = connect(sched) if sched else None  # a missing Dask or scheduler: before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = acquire(out, lock_timeout, progress)
    except BaseException:
        if client is not None:
            client.close()
        raise
    try:
        # the wave's own notebooks, built from its questionnaire (only now: nothing is written
        # before the checks above have passed and the folder's lock is held)
        nbs = resolve_notebooks(notebooks, _wave_notebooks(params, notebooks, notebook_dir), qdir)
        return _render_locked(params, out, nbs, names, by, by_values, jobs, progress, timeout, title,
                              scheduler=client)
    finally:
        lock.release()
        if client is not None:
            client.close()


def _render_locked(params: dict[str, Any], out: Path, nbs: list[Path], names: list[str],
                   by: str | None, by_values: Sequence[str] | None, jobs: int, progress: bool,
                   timeout: int | None, title: str | None, *,
                   scheduler: Any = None) -> ReportResult:
    """:func:`render_report` once the output folder's lock is held."""
    check_output_folder(out)  # again: the folder may have changed while we waited
    _INTERRUPTED.clear()
    staging = out.parent / f".{out.name}.rendering"
    failed = out.parent / f"{out.name}.failed"
    for p in (staging, failed, out.parent / f".{out.name}.old"):
        if (p.exists() or p.is_symlink()) and not (p.is_dir() and is_ours(p)):
            remove_ours(p)  # raises: a folder of someone else's where ours would go
    remove_ours(staging)  # a run killed earlier left it
    with _writing(staging):
        staging.mkdir(parents=True)
    mark(staging, str(params.get("wave", "demo")))
    try:
        return _render_staged(params, out, staging, failed, nbs, names, by, by_values, jobs,
                              progress, timeout, title, scheduler=scheduler)
    except KeyboardInterrupt:
        _kill_kernels()
        remove_ours(staging)
        raise KeyboardInterrupt(f"the published report {out} is unchanged; the unfinished "
                                f"{staging.name} was removed") from None
    except OSError as e:
        _kill_kernels()
        remove_ours(staging)
        what = "the disk is full" if e.errno in _DISK_FULL else (e.strerror or str(e))
        where = e.filename or staging
        raise ReportError(f"{where}: {what} while writing the report; the unfinished report "
                          f"{staging} was removed and the published report {out} left unchanged; "
                          + ("free some space and run again" if e.errno in _DISK_FULL
                             else "check the path and its permissions")) from None


def _render_staged(params: dict[str, Any], out: Path, staging: Path, failed: Path, nbs: list[Path],
                   names: list[str], by: str | None, by_values: Sequence[str] | None, jobs: int,
                   progress: bool, timeout: int | None, title: str | None, *,
                   scheduler: Any = None) -> ReportResult:
    """Render into *staging* and swap it into place of *out* (lock held, staging marked)."""
    wave = params.get("wave", "demo")
    ttl = title or report_title(params)
    t0 = time.perf_counter()
    wnotes: dict[str, list[str]] = {}
    # the wave first (the earlier waves beside it, in a second process), then the regions: they
    # are listed from the prepared wave, which is then at hand in this process
    prep_t = _warm_cache(params, progress, wnotes, jobs=jobs)
    regions: list[str] = []
    if by is not None:
        regions = list(by_values) if by_values is not None else region_values(params, by)
        params["region_var"] = by
    lang = params.get("lang", "zh")
    lang_attr = "zh" if lang == "zh" else "en"
    tty = progress and sys.stderr.isatty()
    base = {"notebooks": [str(p) for p in nbs], "title": ttl, "lang": lang_attr, "progress": progress,
            "timeout": timeout}
    units = [{**base, "dir": str(staging), "label": "全部", "region": None, "params": params,
              "regions": regions, "progress_bar": tty and not regions}]
    for r in regions:
        units.append({**base, "dir": str(staging / "regions" / _slug(r)), "label": r, "region": r,
                      "params": {**params, "region": r}, "regions": [], "progress_bar": False})
    results = run_units(units, _run_unit, jobs=jobs, scheduler=scheduler, progress=progress,
                        release=release_kernel)
    bad = [r for r in results if not r["ok"]]
    if bad:
        r = bad[0]
        if any(b.get("disk_full") for b in bad):  # keeping the copy would keep the disk full
            remove_ours(staging)
            raise ReportError(f"{r['message']}. The disk is full: the unfinished report {staging} "
                              f"was removed and the published report in {out} left unchanged; "
                              "free some space and run again.")
        remove_ours(failed)
        os.replace(staging, failed)
        kept = Path(r["executed"].replace(str(staging), str(failed), 1))
        raise ReportError(f"{r['message']}. The executed notebook is kept at {kept}; the published "
                          f"report in {out} was left unchanged.")
    # swap: the new report replaces the old one only now (and only a folder survey wrote)
    _check_interrupted()
    mark(staging, str(wave), files=our_files(staging))
    old = out.parent / f".{out.name}.old"
    remove_ours(old)
    check_output_folder(out)
    if out.exists():
        if is_ours(out):
            os.replace(out, old)
        else:  # empty folder of the user's: nothing to keep
            out.rmdir()
    os.replace(staging, out)
    remove_ours(old, strict=False)
    remove_ours(failed, strict=False)
    res = ReportResult(output_dir=out, weighting_notes=wnotes)
    for r in results:
        res.html += [Path(h.replace(str(staging), str(out), 1)) for h in r["html"]]
        res.workbooks.append(Path(r["workbook"].replace(str(staging), str(out), 1)))
        res.timings.update(r["timings"])
    res.timings.update(prep_t)
    res.timings["total"] = time.perf_counter() - t0
    if progress:
        say(f"report written to {out / 'index.html'} in {res.timings['total']:.1f} s")
    return res
