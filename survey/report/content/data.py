"""From report parameters to a prepared wave (see :func:`survey.pipeline.prepare_wave`).

Every notebook of one report calls :func:`prepare` with the same parameters; the first call
reads, cleans and weights the raw export and caches the result in ``work_dir`` (outside the
published folder: it holds microdata), the others load the cache.

Earlier waves (parameter ``previous_waves``) go through exactly the same
:func:`survey.pipeline.prepare_wave` from their own inputs (:func:`prepare_previous`), each
calibrated to its own margins, so the painpoints and trends notebooks show the same weighted
numbers as the survey report of that wave.  Where a wave's inputs live
(:func:`previous_inputs`): the questionnaire folder ``<root>/<id>/`` beside this wave's
(``questionnaire.yml``, ``population.yml``, ``stations.csv``; the demo also keeps its raw export
there), and the raw export in ``previous_data[id]`` or else the single export in
``data/<id>/`` (the folder beside this wave's raw export folder).

Examples
--------
>>> inputs_for({"questionnaire": None, "data": None})["raw"] is None
True
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping

__all__ = ["inputs_for", "prepare", "work_dir_for", "previous_inputs", "prepare_previous",
           "cross_wave_file", "REPO_QUESTIONNAIRES", "earlier_waves_in_project", "no_previous_reason"]


def work_dir_for(params: Mapping[str, Any]) -> Path:
    """Where the prepared wave is cached: ``work_dir`` or ``<output_dir>/../.<name>.work``.

    Examples
    --------
    >>> work_dir_for({"output_dir": "/tmp/r/demo"}).name
    '.demo.work'
    """
    if params.get("work_dir"):
        return Path(params["work_dir"])
    out = Path(params.get("output_dir") or "reports").resolve()
    return out.parent / f".{out.name}.work"


def inputs_for(params: Mapping[str, Any]) -> dict[str, Path | None]:
    """The input files of a report: raw export, questionnaire, population margins, stations.

    ``population`` and ``stations`` default to ``population.yml`` / ``stations.csv`` beside the
    questionnaire when the parameters do not name them.
    """
    q = Path(params["questionnaire"]) if params.get("questionnaire") else None
    raw = Path(params["data"]) if params.get("data") else None
    pop = Path(params["population"]) if params.get("population") else None
    st = Path(params["stations"]) if params.get("stations") else None
    if q is not None:
        if pop is None and (q.parent / "population.yml").is_file():
            pop = q.parent / "population.yml"
        if st is None and (q.parent / "stations.csv").is_file():
            st = q.parent / "stations.csv"
    return {"raw": raw, "questionnaire": q, "population": pop, "stations": st}


def prepare(params: Mapping[str, Any], questionnaire: Any = None):
    """Prepare the wave named by the report parameters (cached in :func:`work_dir_for`).

    Raw data (``data_stage="raw"``) are read, cleaned and weighted; a cleaned frame
    (``data_stage="clean"``: .parquet/.csv/.feather) is cleaned again (idempotent) and weighted.
    Weighting warnings (e.g. margins with differing totals) are reported by the weighting
    section, not printed into the notebook.

    Within one process the wave is prepared once: a second call with the same inputs (files
    unchanged; any ``region``) returns the same :class:`~survey.pipeline.PreparedWave`, without
    reading or hashing the export again.

    Returns
    -------
    PreparedWave
    """
    import pandas as pd

    from ...pipeline import prepare_wave

    inp = inputs_for(params)
    q = questionnaire if questionnaire is not None else inp["questionnaire"]
    if q is None or inp["raw"] is None:
        from ...errors import ReportError

        raise ReportError("the report needs both 'questionnaire' and 'data' to weight the wave")
    raw: Any = inp["raw"]
    key = _memo_key(inp, q, params)
    if key in _PREPARED:  # this process prepared (or loaded) the same inputs already
        return _PREPARED[key]
    if params.get("data_stage", "raw") == "clean":
        suf = raw.suffix.lower()
        raw = (pd.read_parquet(raw) if suf == ".parquet" else pd.read_feather(raw) if suf == ".feather"
               else pd.read_csv(raw, encoding="utf-8-sig"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = prepare_wave(raw, q, population=inp["population"], stations=inp["stations"],
                         out_dir=work_dir_for(params) / "prepared", lonely_psu="adjust")
    _PREPARED.clear()  # one wave per process: a report kernel serves one report
    _PREPARED[key] = w
    return w


#: The wave :func:`prepare` returned last in this process, keyed by its inputs (:func:`_memo_key`):
#: the notebooks of one report run in one kernel, and each asks for the same wave.
_PREPARED: dict[tuple, Any] = {}


def _memo_key(inp: Mapping[str, Any], questionnaire: Any, params: Mapping[str, Any]) -> tuple:
    """What identifies a preparation within one process: each input file's path, size and
    modification time (an edited file is prepared again), the questionnaire's content hash
    when an object is given, the data stage and the cache folder.  The region is not part of
    it: a regional report restricts the prepared wave, it does not prepare another."""
    def stat(p: Any) -> tuple:
        if p is None:
            return (None,)
        try:
            st = Path(p).stat()
        except OSError:
            return (str(p), None)
        return (str(Path(p).resolve()), st.st_size, st.st_mtime_ns)

    qh = getattr(questionnaire, "hash", None)
    return (*(stat(inp[k]) for k in ("raw", "questionnaire", "population", "stations")),
            qh, params.get("data_stage", "raw"), str(work_dir_for(params).resolve()))


#: The repository's questionnaire folder (fallback for harmonization.yml / policies.yml).
REPO_QUESTIONNAIRES = Path(__file__).resolve().parents[3] / "questionnaires"


def _qroot(params: Mapping[str, Any]) -> Path | None:
    """The folder holding the questionnaire folders (parent of this wave's folder)."""
    q = params.get("questionnaire")
    return Path(q).resolve().parent.parent if q else None


def cross_wave_file(params: Mapping[str, Any], name: str) -> Path | None:
    """``harmonization.yml`` / ``policies.yml``: the parameter of that name, else the file beside
    the questionnaire folders, else the repository's ``questionnaires/`` copy (None if absent).

    Examples
    --------
    >>> cross_wave_file({}, "harmonization").name
    'harmonization.yml'
    """
    given = params.get(name)
    if given:
        p = Path(given)
        if not p.is_file():
            from ...errors import ReportError

            raise ReportError(f"parameter {name!r}: {p} does not exist")
        return p
    root = _qroot(params)
    for c in ([root] if root is not None else []) + [REPO_QUESTIONNAIRES]:
        if (c / f"{name}.yml").is_file():
            return c / f"{name}.yml"
    return None


def earlier_waves_in_project(params: Mapping[str, Any]) -> list[str]:
    """Waves listed before this one in the project's ``harmonization.yml`` (beside the
    questionnaire folders; not the repository's copy) whose questionnaire folder is there:
    what ``--previous`` could name when a run gave no earlier wave (``[]`` when none, or the
    file cannot be read — the trends page then reports its own error when asked to compare).

    Examples
    --------
    >>> earlier_waves_in_project({"wave": "2024", "questionnaire": None})
    []
    """
    from ..._yaml import read_yaml
    from ...errors import HarmonizationError

    root = _qroot(params)
    if root is None or not (root / "harmonization.yml").is_file():
        return []
    try:
        _, raw, _ = read_yaml(root / "harmonization.yml", error=HarmonizationError, what="harmonization")
    except HarmonizationError:
        return []
    waves = [str(w) for w in (raw.get("waves") or {})] if isinstance(raw, dict) else []
    here = str(params.get("wave", ""))
    if here not in waves:
        return []
    return [w for w in waves[:waves.index(here)] if (root / w / "questionnaire.yml").is_file()]


def no_previous_reason(params: Mapping[str, Any], what: str) -> str:
    """The sentence a page shows instead of *what* (e.g. "本节不报告变化趋势") when the run named
    no earlier wave: says so and, when the project holds earlier waves
    (:func:`earlier_waves_in_project`), how to compare with them (``--previous``).

    Examples
    --------
    >>> no_previous_reason({"wave": "2024", "questionnaire": None}, "本节不报告变化趋势")
    '本轮调查之前没有可比较的往期调查，本节不报告变化趋势。'
    """
    ids = earlier_waves_in_project(params)
    if not ids:
        return f"本轮调查之前没有可比较的往期调查，{what}。"
    return (f"本次运行未指定往期调查（参数 previous_waves），{what}；本项目中有往期调查 {'、'.join(ids)}，"
            f"运行 survey report 时加 --previous {','.join(ids)} 即可与之比较。")


def previous_inputs(params: Mapping[str, Any], wave: str) -> dict[str, Path | None]:
    """The inputs of an earlier wave *wave* (a questionnaire folder id, like ``wave``).

    Looks in ``previous_data[wave]`` (a raw export, or a folder holding the wave's inputs), then
    the questionnaire folder ``<root>/<wave>/`` beside this wave's, then for the raw export in
    ``<data root>/<wave>/`` (the folder beside this wave's export folder) and ``<root>/../data/<wave>/``.

    Raises
    ------
    ReportError
        The questionnaire or the raw export is not found (names every place looked at).

    Examples
    --------
    >>> previous_inputs({"questionnaire": None}, "2023")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    survey.errors.ReportError: previous wave '2023': ...
    """
    from ...errors import ReportError
    from ...io.safe import check_wave_id
    from ...pipeline import find_export, wave_inputs

    check_wave_id(wave, what="previous wave id")  # a folder name: never leads outside the root
    root = _qroot(params)
    given = (params.get("previous_data") or {}).get(wave)
    folders: list[Path] = []
    raw: Path | None = None
    if given:
        g = Path(given)
        if g.is_dir():
            folders.append(g)
        elif g.is_file():
            raw = g
        else:
            raise ReportError(f"previous wave {wave!r}: previous_data names {g}, which does not exist")
    if root is not None:
        folders.append(root / wave)
    qfolder = next((f for f in folders if (f / "questionnaire.yml").is_file()), None)
    if qfolder is None:
        where = ", ".join(str(f) for f in folders) or "(no questionnaire parameter to start from)"
        raise ReportError(f"previous wave {wave!r}: no questionnaire.yml found (looked in {where}); "
                          "put the wave's questionnaire folder beside this wave's or name it in "
                          "previous_data")
    inp = wave_inputs(qfolder, raw)
    looked = [str(qfolder)]
    if inp["raw"] is None:
        data_roots = []
        if params.get("data"):
            data_roots.append(Path(params["data"]).resolve().parent.parent)
        if root is not None:
            data_roots.append(root.parent / "data")
        for dr in dict.fromkeys(data_roots):
            looked.append(str(dr / wave))
            inp["raw"] = find_export(dr / wave)
            if inp["raw"] is not None:
                break
    if inp["raw"] is None:
        raise ReportError(f"previous wave {wave!r}: no raw export found (looked in "
                          f"{', '.join(looked)}); put it in data/{wave}/ or name it in previous_data")
    return inp


def _previous_work_dir(params: Mapping[str, Any], wave: str) -> Path:
    """Cache folder of an earlier wave: the work folder its own report uses when the reports sit
    side by side (``reports/.<id>.work``; one preparation serves both), else inside ours."""
    wd = work_dir_for(params)
    if wd.name.startswith(".") and wd.name.endswith(".work"):
        return wd.parent / f".{wave}.work" / "prepared"
    return wd / "previous" / wave


def prepare_previous(params: Mapping[str, Any]) -> dict[str, Any]:
    """Prepare every wave of ``previous_waves`` like the current one (read, clean, base weights,
    calibration to its own margins; cached).

    Returns
    -------
    dict
        wave id (as given) -> :class:`~survey.pipeline.PreparedWave`, oldest first.
    """
    from ...pipeline import prepare_wave

    from ..._wavecache import file_identity, memo_get, memo_put

    out = {}
    for w in params.get("previous_waves") or []:
        inp = previous_inputs(params, str(w))
        out_dir = _previous_work_dir(params, str(w))
        # every report of a run (national, then each region) compares with the same earlier
        # wave: prepare it once per process and version of its input files (the region is
        # not an input: a regional page restricts the prepared wave itself)
        key = (*(file_identity(inp[k]) or (str(inp[k]),)
                 for k in ("raw", "questionnaire", "population", "stations")),
               str(Path(out_dir).resolve()))
        hit = memo_get("previous", key)
        if hit is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hit = memo_put("previous", key, prepare_wave(
                    inp["raw"], inp["questionnaire"], population=inp["population"],
                    stations=inp["stations"], out_dir=out_dir, lonely_psu="adjust"), limit=4)
        out[str(w)] = hit
    return out
