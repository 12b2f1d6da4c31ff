"""One wave from raw export to weighted design: read → clean → base weights → calibrate.

Each stage is its own module; this one only wires them together the way the report (and an
analyst at a JupyterLab prompt) needs them, and caches the result so that several notebooks of
one report do not redo the work.

The inputs of a wave live in its questionnaire folder (``questionnaires/<wave>/``):

``questionnaire.yml``
    the codebook (its ``design:`` section names the PSU and stratum questions);
``population.yml``
    population margins for calibration (optional: without it the design keeps base weights);
``stations.csv``
    the station register (optional): one row per station with ``station`` (the id used in the
    export), ``pi_station`` (selection probability) and ``station_size`` (eligible persons).
    Base weight = ``1 / pi_station × station_size / respondents kept at the station``.  Without a
    register every respondent starts with weight 1 (or the export's weight column, when the
    questionnaire's ``design.weight`` names one).

Examples
--------
>>> import survey
>>> paths = survey.demo.write_demo("/tmp/survey-doctest-demo")           # doctest: +SKIP
>>> w = prepare_wave(paths["raw_2024"], paths["questionnaire_2024"],
...                  population=paths["population_2024"],
...                  stations=paths["stations_2024"])                    # doctest: +SKIP
>>> w.design.mean("weekly_hours")                                         # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import DesignError, ReadError, WeightingError, WeightingWarning
from .questionnaire import Questionnaire
from .validation import Options, check

__all__ = ["PreparedWave", "prepare_wave", "wave_inputs", "load_stations", "find_export"]

_CACHE_VERSION = "2"
#: The cache folder inside ``out_dir``: one entry ``<key>/`` (``meta.json`` + Parquet files).
CACHE_DIRNAME = ".prepared"
_CACHE_FORMAT = "survey-prepared-wave"
_CACHE_FRAMES = {"read_data": ("read", "data"), "read_missing": ("read", "missing"),
                 "read_pii": ("read", "pii"), "clean_data": ("clean", "data"),
                 "clean_log": ("clean", "log"), "clean_missing": ("clean", "missing"),
                 "clean_dropped": ("clean", "dropped")}
_CLEAN_FIELDS = ("n_raw", "settings", "questionnaire_hash", "wave", "source_sha256", "source_file",
                 "input_frame_hash", "passes", "not_applied")


@dataclass
class PreparedWave:
    """A wave ready for analysis.

    Attributes
    ----------
    questionnaire : Questionnaire
    read : ReadResult or None
        What the reader recognised (None when the input was an already cleaned frame).
    clean : CleanResult
        The cleaning result with its audit log.
    design : SurveyDesign
        The final design: strata and stations from the questionnaire, calibrated weights.
    base_design : SurveyDesign
        The same design with base weights only (for the weighting report's before/after).
    targets : Targets or None
        The population margins used for calibration.
    stations : DataFrame or None
        The station register used for base weights.
    files : dict
        Paths of the inputs (``raw``, ``questionnaire``, ``population``, ``stations``) and of
        the written clean outputs.
    timings : dict
        Seconds spent in ``read``, ``clean``, ``write`` and ``weight`` when the wave was prepared
        (a wave loaded from the cache keeps the read/clean/write timings of the run that made
        it; its weights are recomputed, so ``weight`` is this call's).
    from_cache : bool
        True when :func:`prepare_wave` returned a cached preparation (identical inputs and code).

    Examples
    --------
    Built by :func:`prepare_wave` (whose example makes one from a 12-respondent frame); the
    fields are plain attributes:

    >>> import pandas as pd
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"}}]})
    >>> f = pd.DataFrame({"rid": ["1", "2"], "sex": pd.Categorical(["男", "女"], ["男", "女"])})
    >>> w = prepare_wave(f, q)
    >>> w.wave, len(w.design.data), w.targets is None, w.from_cache
    ('w', 2, True, False)
    """

    questionnaire: Questionnaire
    read: Any
    clean: Any
    design: Any
    base_design: Any
    targets: Any = None
    stations: pd.DataFrame | None = None
    files: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def wave(self) -> str:
        """The wave id from the questionnaire."""
        return self.questionnaire.id

    @property
    def weighting_report(self) -> Any:
        """The calibration diagnostics (None when no population margins were given)."""
        return getattr(self.design, "weighting_report", None)

    def __repr__(self) -> str:
        n_raw = getattr(self.clean, "n_raw", None)
        return (f"<PreparedWave {self.wave}: {n_raw} read, {len(self.design.data)} kept; "
                f"weights {'calibrated' if self.targets is not None else 'base only'}>")


def wave_inputs(folder: str | Path, raw: str | Path | None = None) -> dict[str, Path | None]:
    """Find a wave's inputs in its questionnaire folder.

    Parameters
    ----------
    folder : path-like
        ``questionnaires/<wave>/`` (must hold ``questionnaire.yml``).
    raw : path-like, optional
        The raw export; default: the single ``.xlsx``/``.sav``/``.zsav``/``.dta``/``.csv`` file
        in the folder other than ``stations.csv``.

    Returns
    -------
    dict
        ``questionnaire``, ``population``, ``stations``, ``raw`` (None where absent).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "questionnaire.yml").write_text("wave: {id: x}\\nquestions: []\\n")
    >>> sorted(k for k, v in wave_inputs(d).items() if v is not None)
    ['questionnaire']
    """
    f = Path(folder)
    q = f / "questionnaire.yml"
    if not q.is_file():
        raise ReadError(f"{f}: no questionnaire.yml in the wave folder; every wave needs one "
                        "(see docs/new_wave.md)")
    out: dict[str, Path | None] = {
        "questionnaire": q,
        "population": (f / "population.yml") if (f / "population.yml").is_file() else None,
        "stations": (f / "stations.csv") if (f / "stations.csv").is_file() else None,
        "raw": Path(raw) if raw is not None else None,
    }
    if raw is None:
        out["raw"] = find_export(f)
    return out


_EXPORT_SUFFIXES = (".xlsx", ".sav", ".zsav", ".dta", ".csv")


def find_export(folder: str | Path) -> Path | None:
    """The single raw export (``.xlsx``/``.sav``/``.zsav``/``.dta``/``.csv``, not
    ``stations.csv``) in *folder*; None when there is none (or the folder does not exist).

    Raises
    ------
    ReadError
        Several candidate exports (names them: pass the one to use explicitly).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> find_export(d) is None
    True
    >>> _ = (d / "export.sav").write_bytes(b"")
    >>> find_export(d).name
    'export.sav'
    """
    f = Path(folder)
    if not f.is_dir():
        return None
    cands = sorted(p for p in f.iterdir() if p.is_file() and p.suffix.lower() in _EXPORT_SUFFIXES
                   and p.name != "stations.csv" and not p.name.startswith((".", "~$")))
    if len(cands) > 1:
        raise ReadError(f"{f}: several raw exports ({', '.join(p.name for p in cands)}); "
                        "name the one to use")
    return cands[0] if cands else None


def load_stations(path: str | Path, psu: str = "station") -> pd.DataFrame:
    """Read and check a station register (``station, pi_station, station_size``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "stations.csv"
    >>> _ = p.write_text("station,pi_station,station_size\\nS1,0.5,200\\n", encoding="utf-8")
    >>> load_stations(p)["pi_station"].tolist()
    [0.5]
    """
    p = Path(path)
    try:
        st = pd.read_csv(p, encoding="utf-8-sig", dtype={psu: str, "station": str})
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise ReadError(f"{p}: cannot read the station register ({e})") from None
    if "station" in st.columns and psu != "station" and psu not in st.columns:
        st = st.rename(columns={"station": psu})
    need = [psu, "pi_station", "station_size"]
    miss = [c for c in need if c not in st.columns]
    if miss:
        raise ReadError(f"{p}: station register lacks column(s) {miss}; it needs {need}")
    if st[psu].duplicated().any():
        dup = st.loc[st[psu].duplicated(), psu].tolist()[:5]
        raise ReadError(f"{p}: station(s) {dup} listed twice in the register")
    for c in ("pi_station", "station_size"):
        v = pd.to_numeric(st[c], errors="coerce")
        bad = ~np.isfinite(v.to_numpy(float)) | (v.to_numpy(float) <= 0)
        if bad.any():
            raise ReadError(f"{p}: column {c!r} must be a positive number; station(s) "
                            f"{st.loc[bad, psu].tolist()[:5]} are not")
        st[c] = v.astype(float)
    if (st["pi_station"] > 1).any():
        raise ReadError(f"{p}: pi_station is a probability and must be ≤ 1")
    return st


def _code_fingerprint() -> str:
    """SHA-256 over the package's own source: a cached preparation made by other code (an
    edited checkout, a new release) is never reused."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _sha(path: Path | None) -> str:
    if path is None:
        return "-"
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _weighting_margins(targets: Any, q: Questionnaire) -> Any:
    """Keep the margins over the questionnaire's ``design.weighting`` variables.

    ``population.yml`` may hold more margins than the wave is weighted to (e.g. for comparing
    the sample's composition); ``design.weighting`` says which ones calibrate.  A listed variable
    without a margin is an error; an empty list means "every margin in the file".
    """
    wanted = set(getattr(q.design, "weighting", ()) or ())
    if not wanted:
        return targets
    def variables(key: Any) -> set[str]:
        return set(key) if isinstance(key, tuple) else {key}
    covered = set().union(*(variables(k) for k in targets)) if len(targets) else set()
    missing = sorted(wanted - covered)
    if missing:
        raise WeightingError(f"{q.path}: design.weighting lists {missing}, but the population "
                             "margins have no margin for them; add them to population.yml or "
                             "remove them from design.weighting")
    unused = [k for k in targets if not variables(k) <= wanted]
    if not unused:
        return targets
    if hasattr(targets, "drop"):
        return targets.drop(*unused)
    return {k: v for k, v in targets.items() if k not in unused}


def prepare_wave(raw: str | Path | pd.DataFrame, questionnaire: Questionnaire | str | Path, *,
                 population: str | Path | Mapping | None = None,
                 stations: str | Path | pd.DataFrame | None = None,
                 rules: Mapping[str, Any] | None = None,
                 out_dir: str | Path | None = None,
                 cache: bool = True,
                 lonely_psu: str = "adjust",
                 calibrate: str = "rake",
                 trim: Mapping[str, Any] | None = None) -> PreparedWave:
    """Read, clean and weight one wave; return its design.

    Parameters
    ----------
    raw : path-like or DataFrame
        The raw export (any format :func:`survey.read_export` reads) or an analysis frame.
    questionnaire : Questionnaire or path
    population : path to population.yml, or a targets dict, optional
        Margins to calibrate to; without them the design carries base weights only.
    stations : path to stations.csv, or DataFrame, optional
        The station register for base weights (see the module docstring).
    rules : dict, optional
        Cleaning-rule overrides (see :func:`survey.clean`).
    out_dir : path-like, optional
        Where the clean data, its log and sidecar are written (``CleanResult.write``), and where
        the read and cleaned wave is cached (``.prepared/<key>/``: Parquet files and a JSON
        ``meta.json``, keyed by the SHA-256 of every input and of the package's code; formats
        that cannot run code when loaded, and the key is checked before any data is read).
        Weights are recomputed from the cached clean data (a fraction of a second).  The cache
        never holds PII: a wave loaded from it has ``read.pii`` with the column names but no
        rows (contact details stay in the memory of the process that read the export).
    cache : bool
        Reuse a cached preparation with identical inputs.
    lonely_psu : str
        Passed to :class:`~survey.SurveyDesign` (a stratum left with one station after
        cleaning is common in small waves; R's ``"adjust"`` is the safe default).
    calibrate : {"rake", "linear", "none"}
        How to use the population margins: raking (default) or linear calibration (GREG).
    trim : dict, optional
        Arguments of :meth:`SurveyDesign.trim` applied after calibration (then re-calibrated).

    Returns
    -------
    PreparedWave
        ``.design`` (calibrated), ``.base_design``, ``.clean`` (with its log), ``.read``,
        ``.targets``, ``.files``, ``.timings``.

    Raises
    ------
    WeightingError
        Bad ``calibrate=``/``trim=`` or margins that do not match the data.

    Examples
    --------
    A tiny wave built in memory; a real wave passes the export and the files of
    ``questionnaires/<wave>/`` (:func:`wave_inputs` finds them) and an ``out_dir`` to cache in:

    >>> import pandas as pd
    >>> from survey import Questionnaire, prepare_wave
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "design": {"psu": "station"}, "questions": [
    ...     {"id": "station", "text": "站点", "type": "single", "options": {1: "s1", 2: "s2", 3: "s3"}},
    ...     {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"}},
    ...     {"id": "hours", "text": "周工作小时", "type": "numeric", "range": [0, 112],
    ...      "missing_codes": {}}]})
    >>> f = pd.DataFrame({"rid": [str(i) for i in range(12)],
    ...                   "station": pd.Categorical(["s1", "s2", "s3"] * 4),
    ...                   "sex": pd.Categorical(["男", "女", "女", "男"] * 3, ["男", "女"]),
    ...                   "hours": [40.0, 45, 50, 55, 60, 38, 42, 47, 52, 44, 49, 120]})
    >>> w = prepare_wave(f, q, population={"sex": {"男": 600, "女": 400}})
    >>> w
    <PreparedWave w: 12 read, 12 kept; weights calibrated>
    >>> float(w.design.weights.sum()), w.weighting_report.converged
    (1000.0, True)
    >>> round(float(w.design.mean("hours", na_rm=True)["estimate"].iloc[0]), 2)   # 120 h blanked
    48.07
    """
    from . import weighting
    from .clean import clean as _clean
    from .design import SurveyDesign
    from .io import read_export

    q = questionnaire if isinstance(questionnaire, Questionnaire) else Questionnaire.load(questionnaire)
    if trim is not None and not isinstance(trim, Mapping):
        raise WeightingError(f"prepare_wave: trim={trim!r} must be a dict of SurveyDesign.trim "
                             "arguments, e.g. {'upper_ratio': 5}")
    check("prepare_wave", "calibrate", calibrate, Options(("rake", "linear", "none")),
          error=WeightingError)
    raw_path = None if isinstance(raw, pd.DataFrame) else Path(raw)
    pop_path = Path(population) if isinstance(population, (str, Path)) else None
    st_path = Path(stations) if isinstance(stations, (str, Path)) else None

    key = None
    cache_file = None
    if out_dir is not None and cache and raw_path is not None and not isinstance(population, Mapping) \
            and not isinstance(stations, pd.DataFrame):
        from .version import __version__

        parts = [_CACHE_VERSION, __version__, _code_fingerprint(), _sha(raw_path), q.hash,
                 _sha(pop_path), _sha(st_path),
                 repr(sorted((rules or {}).items())), lonely_psu, calibrate, repr(trim)]
        key = hashlib.sha256("|".join(parts).encode()).hexdigest()
        cache_file = Path(out_dir) / CACHE_DIRNAME
        # (an old ``.prepared.pkl`` beside it is never opened: unpickling runs code)

    # read → clean (or both from the cache)
    import time

    tm: dict[str, float] = {}
    t0 = time.perf_counter()
    hit = _read_cache(cache_file, key) if cache_file is not None else None
    if hit is not None:
        rr, cr, files, tm = hit
    elif raw_path is not None:
        rr = read_export(raw_path, q)
        tm["read"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        cr = _clean(rr, q, rules=rules, source=raw_path)
    else:
        rr = None
        tm["read"] = 0.0
        cr = _clean(raw, q, rules=rules)
    if hit is None:
        tm["clean"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        files: dict[str, Any] = {"raw": raw_path, "questionnaire": q.path, "population": pop_path,
                                 "stations": st_path}
        if out_dir is not None:
            files.update({f"clean_{k}": v for k, v in cr.write(out_dir).items()})
        tm["write"] = time.perf_counter() - t0
    t0 = time.perf_counter()

    data = cr.data
    ds = q.design
    psu, strata = getattr(ds, "psu", None), getattr(ds, "strata", None)
    for role, col in (("psu", psu), ("strata", strata)):
        if col is not None and col not in data.columns:
            raise DesignError(f"{q.path}: design.{role} names {col!r}, which is not a column of "
                              "the cleaned data; check the questionnaire's design section")
    frame = data.copy()
    for col in (psu, strata):  # design ids as plain strings (categoricals of labels otherwise)
        if col is not None:
            frame[col] = frame[col].astype(str)

    # base weights
    st = None
    if stations is not None:
        st = stations.copy() if isinstance(stations, pd.DataFrame) else load_stations(stations, psu or "station")
        lacking = [c for c in (psu or "station", "pi_station", "station_size") if c not in st.columns]
        if lacking:
            raise DesignError(f"station register {st_path or '(frame)'} lacks column(s) {lacking}; "
                              f"it needs {psu or 'station'}, pi_station, station_size")
        if psu is None:
            raise DesignError(f"{q.path}: a station register was given but design.psu is not set")
        st[psu] = st[psu].astype(str)
        unknown = sorted(set(frame[psu]) - set(st[psu]))
        if unknown:
            raise DesignError(f"station register {st_path or '(frame)'}: station(s) {unknown[:10]} "
                              f"of the data are not in the register ({len(unknown)} in all); add them")
        w = weighting.base_weights(frame, psu, station_size=dict(zip(st[psu], st["station_size"])),
                                   station_prob=dict(zip(st[psu], st["pi_station"])))
    elif getattr(ds, "weight", None):
        w = pd.to_numeric(frame[ds.weight], errors="coerce").to_numpy(float)
    else:
        w = np.ones(len(frame))
    frame["_base_weight"] = w
    base = SurveyDesign(frame, weights="_base_weight", strata=strata, psu=psu,
                        lonely_psu=lonely_psu, questionnaire=q)

    # calibration to population margins
    targets = None
    design = base
    if population is not None and calibrate != "none":
        targets = weighting.load_targets(population, q) if pop_path is not None else population
        targets = _weighting_margins(targets, q)
        # weighting notes (rescaled totals, implied margins) go through the caller's warning
        # filters; the report records them, a notebook silences them, a user at a prompt sees them
        design = base.rake(targets) if calibrate == "rake" else base.calibrate(targets, calfun="linear")
        if trim:
            design = design.trim(**dict(trim))
    tm["weight"] = time.perf_counter() - t0
    prepared = PreparedWave(questionnaire=q, read=rr, clean=cr, design=design, base_design=base,
                            targets=targets, stations=st, files=files, timings=tm,
                            from_cache=hit is not None)
    if cache_file is not None and hit is None:
        _write_cache(cache_file, key, prepared)
    return prepared


def _cache_meta(cache_dir: Path, key: str) -> dict[str, Any] | None:
    """The JSON metadata of the cache entry for *key*, or None (absent, foreign, other key)."""
    entry = cache_dir / key
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT or meta.get("key") != key:
        return None
    return meta


def _read_cache(cache_dir: Path, key: str) -> tuple[Any, Any, dict[str, Any], dict[str, float]] | None:
    """``(read, clean, files, timings)`` from the cache entry for *key*; None on a miss.

    The key is checked (file name and ``meta.json``) before any data is opened; the data are
    Parquet files, whose column types are checked against the metadata.  Anything unexpected
    is a miss: the wave is simply prepared again.
    """
    from .clean import CleanResult
    from .io._core import ReadReport, ReadResult

    meta = _cache_meta(cache_dir, key)
    if meta is None:
        return None
    entry = cache_dir / key
    frames: dict[str, pd.DataFrame] = {}
    try:
        for name in _CACHE_FRAMES:
            f = pd.read_parquet(entry / f"{name}.parquet")
            if [str(c) for c in f.columns] != meta["columns"][name] or \
                    [str(t) for t in f.dtypes] != meta["dtypes"][name]:
                return None
            f.attrs = dict(meta["attrs"].get(name, {}))
            frames[name] = f
        rr = None
        if meta["read"] is not None:
            rr = ReadResult(data=frames["read_data"], report=ReadReport(**meta["read"]),
                            pii=frames["read_pii"], missing=frames["read_missing"])
        cr = CleanResult(data=frames["clean_data"], log=frames["clean_log"],
                         missing=frames["clean_missing"], dropped=frames["clean_dropped"],
                         **meta["clean"])
    except Exception:  # noqa: BLE001 - a damaged entry (disk full, killed run): rebuild
        return None
    files = {k: (Path(v) if v is not None else None) for k, v in meta["files"].items()}
    return rr, cr, files, {k: float(v) for k, v in meta["timings"].items()}


def _without_pii(prepared: PreparedWave) -> PreparedWave:
    """A copy whose ReadResult keeps the PII columns' names but none of their values."""
    import dataclasses

    rr = prepared.read
    if rr is None or getattr(rr, "pii", None) is None:
        return prepared
    try:
        rr2 = dataclasses.replace(rr, pii=rr.pii.iloc[0:0].copy())
    except TypeError:  # not a dataclass: copy and blank by attribute
        import copy

        rr2 = copy.copy(rr)
        rr2.pii = rr.pii.iloc[0:0].copy()
    return dataclasses.replace(prepared, read=rr2)


def _json_exact(value: Any) -> Any:
    """*value* if JSON gives it back unchanged, else raise TypeError."""
    if json.loads(json.dumps(value, ensure_ascii=False)) != value:
        raise TypeError(f"{str(value)[:80]} does not survive JSON unchanged")
    return value


def _write_cache(cache_dir: Path, key: str, prepared: PreparedWave) -> None:
    """Store the read and cleaned wave (never its PII) as ``cache_dir/<key>/``: Parquet files
    plus ``meta.json``; written to a temporary folder and renamed into place, so a concurrent
    notebook never sees half an entry.  Older entries this function wrote are removed."""
    import dataclasses
    import uuid

    p = _without_pii(prepared)
    objs = {"read": p.read, "clean": p.clean}
    tmp = cache_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        frames = {}
        for name, (owner, attr) in _CACHE_FRAMES.items():
            obj = objs[owner]
            frames[name] = getattr(obj, attr) if obj is not None else pd.DataFrame()
        meta = {
            "format": _CACHE_FORMAT, "key": key,
            "read": _json_exact(dataclasses.asdict(p.read.report)) if p.read is not None else None,
            "clean": {k: _json_exact(getattr(p.clean, k)) for k in _CLEAN_FIELDS},
            "files": {k: (str(v) if v is not None else None) for k, v in p.files.items()},
            "timings": {k: float(v) for k, v in p.timings.items()},
            "columns": {n: [str(c) for c in f.columns] for n, f in frames.items()},
            "dtypes": {n: [str(t) for t in f.dtypes] for n, f in frames.items()},
            "attrs": {n: _json_exact(dict(f.attrs)) for n, f in frames.items() if f.attrs},
        }
        tmp.mkdir(parents=True)
        for name, f in frames.items():
            if any(not isinstance(c, str) for c in f.columns):
                raise TypeError(f"{name} has non-text column names")
            f.to_parquet(tmp / f"{name}.parquet")
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    except (TypeError, ValueError, ImportError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        warnings.warn(f"prepare_wave: the prepared wave cannot be cached in {cache_dir} ({e}); "
                      "each call will redo the work", WeightingWarning, stacklevel=3)
        return
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk must not keep half an entry
        raise
    entry = cache_dir / key
    if entry.exists():  # a damaged entry under this key (it was a miss): move it out of the way
        stale = cache_dir / f".tmp-stale-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(entry, stale)
        except OSError:
            pass
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.rename(tmp, entry)  # atomic; fails when a concurrent run stored the same entry first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    for old in cache_dir.iterdir():  # older entries of ours (never anything else)
        if old.name != key and old.is_dir() and not old.name.startswith(".tmp-") \
                and _cache_meta(cache_dir, old.name) is not None:
            shutil.rmtree(old, ignore_errors=True)
