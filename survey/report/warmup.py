"""Prepare the wave once for every report of a run, before any notebook starts.

:func:`warm_cache` reads, cleans and weights the wave (and the earlier waves it is compared
with) in the process that runs ``survey report``; the prepared wave is cached as Parquet in the
report's work folder (:func:`survey.pipeline.prepare_wave`), so each report's kernel loads it
instead of reading the raw export, and within one kernel every notebook gets the same object
(:func:`survey.report.content.data.prepare`).  The weighting notes of each wave are summed up
in one terminal line (:func:`weighting_summary`).

Examples
--------
>>> warm_cache({}, progress=False)   # no questionnaire or data: nothing to prepare
{}
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .folders import say

__all__ = ["warm_cache", "weighting_notes", "weighting_summary", "shown_path"]


def weighting_notes(prepared: Any) -> list[str]:
    """The weighting notes of a prepared wave, read from its design's weighting report.

    Read from the report (``design.weighting_report`` and the steps before it), not from the
    warnings of the preparation: :func:`~survey.report.content.data.prepare` silences those (a
    notebook must not print them), and a wave taken from the cache raises none, yet both carry
    the same report.  Notes: margin totals rescaled to the control total, one-way margins implied
    by a cross (not used), and the report's own ``notes`` (e.g. negative GREG weights).
    """
    msgs: list[str] = []
    rep = getattr(getattr(prepared, "design", None), "weighting_report", None)
    while rep is not None:
        disc = rep.discrepancy()
        if len(disc) and "rel_diff" in disc.columns:
            off = disc[disc["rel_diff"].abs() > 1e-9]
            if len(off):
                msgs.append("population margins disagree on the total; rescaled to the control "
                            f"total {float(disc['control_total'].iloc[0]):,.0f}: "
                            + "; ".join(f"{r.margin} {r.rel_diff:+.2%}" for r in off.itertuples()))
            m_all = rep.margins()
            used = set(map(str, m_all["margin"].unique())) if "margin" in m_all.columns else set()
            for m in map(str, disc["margin"]):
                if m in used:
                    continue
                cross = next((u for u in used if set(m.split(" × ")) < set(u.split(" × "))), None)
                msgs.append(f"target {m} is implied by the cross {cross or 'of another margin'} "
                            "and is not used")
        msgs += [str(n) for n in rep.notes]
        rep = rep.previous
    return msgs


def weighting_summary(wave: str, prepared: Any, page: str) -> tuple[str, list[str]]:
    """One terminal line for the weighting notes of one wave (and the notes themselves).

    The facts are in the weighting report the quality notebook shows (table 3.1: each margin's
    total against the control total, and which margins are implied by a cross), so the terminal
    only says how many there were and where to read them."""
    msgs = weighting_notes(prepared)
    if not msgs:
        return "", []
    kinds = {"rescaled": sum("disagree on the total" in m for m in msgs),
             "implied": sum("implied by the cross" in m for m in msgs)}
    other = len(msgs) - kinds["rescaled"] - kinds["implied"]
    parts = (["margin totals rescaled to the control total"] if kinds["rescaled"] else []) + \
        ([f"{kinds['implied']} one-way margin(s) implied by a cross, not used"] if kinds["implied"] else []) + \
        ([f"{other} other"] if other else [])
    line = (f"weighting {wave}: {len(msgs)} note{'s' if len(msgs) != 1 else ''} "
            f"({'; '.join(parts)}), see {page}")
    return line, msgs


def warm_cache(params: Mapping[str, Any], progress: bool,
                notes: dict[str, list[str]] | None = None, *, jobs: int = 1) -> dict[str, float]:
    """Read, clean and weight the wave once before the notebooks start (they load the cache).

    Errors are not raised here: the notebooks show them in their sections.  The weighting notes
    of each wave (margins with different totals rescaled, one-way margins implied by a two-way
    margin; read from the wave's weighting report by :func:`weighting_notes`, so a cached wave
    says the same) are in the weighting report the quality notebook shows; the terminal gets
    one line per wave (``weighting <wave>: 3 notes (...), see quality.html``) and *notes*
    (wave -> messages) keeps the messages.  Returns the stage
    timings (``prepare/read``, ``prepare/clean``, ``prepare/weight`` ...).

    With ``jobs > 1`` the earlier waves are prepared in a second process while this one
    prepares the current wave (the report's workers are not busy yet): their caches are then
    ready, and the loop below only loads them (an error there is raised and shown as before).
    """
    if not (params.get("questionnaire") and params.get("data")):
        return {}
    side = _start_beside(params) if jobs > 1 and params.get("previous_waves") else None
    try:
        return _warm(params, progress, notes, side)
    finally:
        if side is not None:
            side[0].shutdown(wait=True, cancel_futures=True)


def _start_beside(params: Mapping[str, Any]) -> tuple[Any, Any, float]:
    """A second process preparing the earlier waves: (executor, future, start time)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    ex = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    return ex, ex.submit(_prepare_earlier, dict(params)), time.perf_counter()


def _prepare_earlier(params: Mapping[str, Any]) -> bool:
    """Runs in the second process: fill the earlier waves' caches.  False on any error, which
    the parent then meets again (and reports) when it prepares those waves itself."""
    from .content.data import prepare_previous

    try:
        prepare_previous(params)
    except Exception:  # noqa: BLE001 - reported by the parent's own attempt
        return False
    return True


def _warm(params: Mapping[str, Any], progress: bool, notes: dict[str, list[str]] | None,
          side: tuple[Any, Any, float] | None) -> dict[str, float]:
    from ..errors import SurveyError
    from .content.data import prepare, work_dir_for

    notes = {} if notes is None else notes
    wave = str(params.get("wave") or "wave")
    cache = work_dir_for(params) / "prepared" / _CACHE_FILE
    t = time.perf_counter()
    try:
        w = prepare(params)
    except (SurveyError, OSError, ValueError, KeyError) as e:
        if progress:
            say(f"preparing the wave failed ({type(e).__name__}: {e}); the notebooks will show it")
        return {}
    # a cached wave keeps the timings of the run that made it: report them only for a real
    # preparation, else only the time spent loading
    cached = bool(getattr(w, "from_cache", False))
    out = {} if cached else {f"prepare/{k}": v for k, v in w.timings.items()}
    out["prepare"] = time.perf_counter() - t
    line, msgs = weighting_summary(wave, w, "quality.html (加权)")
    if msgs:
        notes[wave] = msgs
    if progress:
        if cached:
            say(f"prepared wave taken from the cache ({shown_path(cache.parent.parent)}/)")
        else:
            say("prepared the wave in " + f"{out['prepare']:.1f} s ("
                 + ", ".join(f"{k} {v:.1f} s" for k, v in w.timings.items()) + ")")
        if line:
            say(line)
    if params.get("previous_waves"):
        from .content.data import prepare_previous

        beside = None
        if side is not None:
            try:
                side[1].result()
            except Exception:  # noqa: BLE001 - a broken second process: prepare them here
                pass
            beside = time.perf_counter() - side[2]
        t = time.perf_counter()
        lines = []
        hits = []
        for pw in params["previous_waves"]:
            try:
                prev = prepare_previous({**params, "previous_waves": [pw]})
            except (SurveyError, OSError, ValueError, KeyError) as e:
                if progress:
                    say(f"preparing the earlier waves failed ({type(e).__name__}: {e}); the notebooks will show it")
                return out
            if all(getattr(v, "from_cache", False) for v in prev.values()):
                hits.append(str(pw))
            line, msgs = weighting_summary(str(pw), next(iter(prev.values()), None),
                                            "that wave's quality report")
            if msgs:
                notes[str(pw)] = msgs
                lines.append(line)
        out["prepare_previous"] = time.perf_counter() - t
        if beside is not None:
            out["prepare_previous/beside"] = beside
        if progress:
            ids = [str(x) for x in params["previous_waves"]]
            if beside is not None:
                say(f"prepared earlier wave(s) {', '.join(ids)} in a second process beside the "
                    f"current wave ({beside:.1f} s from its start)")
            elif len(hits) == len(ids):
                say(f"earlier wave(s) {', '.join(ids)} taken from the cache")
            else:
                note = f" ({', '.join(hits)} from the cache)" if hits else ""
                say(f"prepared earlier wave(s) {', '.join(ids)} in "
                     f"{out['prepare_previous']:.1f} s{note}")
            for line in lines:
                say(line)
    return out


#: The folder :func:`survey.pipeline.prepare_wave` caches a prepared wave in (inside its out_dir).
_CACHE_FILE = ".prepared"


def shown_path(path: Path) -> str:
    """*path* relative to the current folder when it is below it (shorter progress lines)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
