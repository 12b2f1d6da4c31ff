"""From report parameters to a prepared wave (see :func:`survey.pipeline.prepare_wave`).

Every notebook of one report calls :func:`prepare` with the same parameters; the first call
reads, cleans and weights the raw export and caches the result in ``work_dir`` (outside the
published folder: it holds microdata), the others load the cache.

Examples
--------
>>> inputs_for({"questionnaire": None, "data": None})["raw"] is None
True
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping

__all__ = ["inputs_for", "prepare", "work_dir_for"]


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
    if params.get("data_stage", "raw") == "clean":
        suf = raw.suffix.lower()
        raw = (pd.read_parquet(raw) if suf == ".parquet" else pd.read_feather(raw) if suf == ".feather"
               else pd.read_csv(raw, encoding="utf-8-sig"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_wave(raw, q, population=inp["population"], stations=inp["stations"],
                            out_dir=work_dir_for(params) / "prepared", lonely_psu="adjust")
