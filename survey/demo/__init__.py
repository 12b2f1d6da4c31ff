"""Synthetic demo data: a fictional city's S&T workers, two survey waves, and the truth.

No real microdata may live in the repository, so every stage is shown working on these waves.
The pieces:

* :mod:`survey.demo.spec` — the city (10 districts × 8 station types), population mix, the two
  questionnaires (``income`` re-banded and re-coded, ``policy_aware`` gains an option in 2024);
* :mod:`survey.demo.effects` — the ONE declarative place that shapes the answers (group
  patterns, policy effects, real and null wave changes, nonresponse, dirt rates);
* :mod:`survey.demo.population` — ~300,000 people and everyone's true answers (vectorised);
* :mod:`survey.demo.sample` — stratified PPS selection of stations, quotas, nonresponse;
* :mod:`survey.demo.wave` — analysis frame, contact block, planted dirt;
* :mod:`survey.demo.truth` — population values of the key indicators;
* :mod:`survey.demo.setting` — where the demo is set: the city (default) or the national demo
  (31 provinces, ~50,000 respondents, ~1,500 stations; region variable ``province``).

:func:`write_demo` writes everything a newcomer's ``make report`` needs;
:func:`write_national` (``survey demo --national``) writes the national demo, a benchmark
input (issue #17), as a ``--root`` project folder;
:func:`design_for` builds the demo's weighted design in one line.

The central story (tested in repeated sampling, ``tests/test_demo.py::test_story_in_repeated_*``):
on both demo waves, station base weights + raking to ``population.yml`` give 95% CIs that cover
the population truth about 95% of the time for every indicator of :data:`STORY_INDICATORS`,
while the unweighted estimates are biased by several SEs; ``leave_share`` keeps a documented
residual MNAR bias (:data:`survey.demo.effects.MNAR`).  The published demo is ONE draw
(:data:`survey.demo.sample.SAMPLE_DRAW` = 0, fixed before looking), so some of its intervals
miss the truth by sampling variation: with draw 0, 2023 and 2024 ``hours`` (z ≈ +2.1, −2.1) and
2024 ``income_20w_plus`` (z ≈ +3.0).

Examples
--------
>>> import tempfile
>>> from survey.demo import truth
>>> t = truth("change", seed=1)
>>> float(t.query("indicator == 'hours' and group == 'overall'")["value"].iloc[0]) < -1
True
"""
from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import yaml

from ..errors import ParameterError
from ..io.safe import write_csv
from . import effects
from .population import make_population, population_answers, population_for
from .sample import draw_sample
from .setting import CITY, NATIONAL, Setting, national
from .spec import WAVES, questionnaire_dict
from .truth import KEY_INDICATORS, STORY_INDICATORS, frame_indicators, truth
from .wave import DemoWave, build_wave

__all__ = ["write_demo", "build_wave", "truth", "make_population", "population_answers",
           "draw_sample", "questionnaire_dict", "population_margins", "questionnaire_yaml",
           "population_yaml", "raw_filename", "DemoWave", "KEY_INDICATORS", "STORY_INDICATORS",
           "frame_indicators", "design_for", "population_targets", "effects", "DEFAULT_SEED",
           "WAVES", "write_national", "national", "NATIONAL", "Setting", "NATIONAL_SEED"]

DEFAULT_SEED = 2024
#: Seed of the national demo (``survey demo --national``): the same master seed as the city
#: demo, fixed before anything national was generated; the national random streams are
#: separate from the city's (``Setting.stream``), so the two demos do not share draws.
NATIONAL_SEED = DEFAULT_SEED
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)

# margins in population.yml: (variables, publication, table, scale factor per wave, rounding)
_MARGIN_SOURCES = [
    (["sex"], "示例市统计年鉴", "表 4-2 专业技术人员分性别 (synthetic)", {"2023": 1.012, "2024": 1.018}, 100),
    (["age_group"], "示例市科技人力资源发展报告", "表 2-3 科技人力资源年龄结构 (synthetic)",
     {"2023": 0.991, "2024": 0.987}, 100),
    (["title"], "示例市人力资源和社会保障局 职称评审年报", "附表 1 (synthetic)", {"2023": 1.0, "2024": 1.004}, 10),
    (["unit_type"], "示例市科协 调查站点登记册", "站点类型汇总 (synthetic)", {"2023": 0.985, "2024": 0.99}, 1),
    (["district"], "示例市第七次人口普查资料", "长表 4-5 分区就业人员 (synthetic)", {"2023": 1.021, "2024": 1.024}, 100),
    (["education"], "示例市第七次人口普查资料", "长表 4-3 就业人员受教育程度 (synthetic)",
     {"2023": 0.994, "2024": 0.996}, 100),
    (["sex", "age_group"], "示例市科技人力资源发展报告", "表 2-4 分性别年龄 (synthetic)",
     {"2023": 1.006, "2024": 1.009}, 100),
]
# the national demo's margins: the same variables, region (the province) instead of district
_NATIONAL_MARGIN_SOURCES = [
    (["sex"], "中国科技统计年鉴", "表 1-6 专业技术人员分性别 (synthetic)", {"2023": 1.012, "2024": 1.018}, 100),
    (["age_group"], "中国科技人力资源发展研究报告", "表 2-3 科技人力资源年龄结构 (synthetic)",
     {"2023": 0.991, "2024": 0.987}, 100),
    (["title"], "人力资源和社会保障部 职称评审统计", "附表 1 (synthetic)", {"2023": 1.0, "2024": 1.004}, 10),
    (["unit_type"], "中国科协 调查站点登记册", "站点类型汇总 (synthetic)", {"2023": 0.985, "2024": 0.99}, 1),
    (["region"], "中国人口普查年鉴-2020", "长表 4-5 分地区就业人员 (synthetic)", {"2023": 1.021, "2024": 1.024}, 100),
    (["education"], "中国人口普查年鉴-2020", "长表 4-3 就业人员受教育程度 (synthetic)",
     {"2023": 0.994, "2024": 0.996}, 100),
    (["sex", "age_group"], "中国科技人力资源发展研究报告", "表 2-4 分性别年龄 (synthetic)",
     {"2023": 1.006, "2024": 1.009}, 100),
]

_POP_HEADER = """\
# Population margins for the {wave} demo wave of {place} (SYNTHETIC — computed from the
# survey.demo population of seed {seed}; the sources below are fictional but plausible).
#
# Format (read by survey.weighting.load_targets; see survey/weighting/targets.py):
#   population:     definition / reference_date of what the totals count
#   control_total:  value + source: the register count every categorical margin is rescaled to
#   margins:        list of {{variables: [...], totals: ..., source: {{publication, year, table}}}}
#                   one-way totals map level -> count; a two-way margin nests them
#                   (first variable -> second variable -> count)
# As real margins do, sources disagree slightly on the total (rounding and reference dates):
# each margin's own total differs from control_total by up to ~2%; weighting must rescale
# and report the discrepancy.  Base weights are not here: see stations.csv next to the raw
# export (the station register: selection probabilities and station sizes).
"""


def population_margins(wave: str, seed: int = DEFAULT_SEED,
                       setting: Setting | None = None) -> dict[str, Any]:
    """The population.yml content (a dict) of a demo wave (``setting``: city or national).

    Examples
    --------
    >>> m = population_margins("2023", seed=1)
    >>> m["margins"][0]["variables"], sorted(m["margins"][0]["totals"])
    (['sex'], ['女', '男'])
    """
    from .spec import group_levels
    wave = str(wave)
    sett = setting or CITY
    year = sett.year(wave)
    pop = population_for(seed, sett)
    P = pop.people
    N = len(P)
    lv = group_levels(setting)
    margins = []
    city = sett == CITY
    for vars_, pub, table, scale, rnd in (_MARGIN_SOURCES if city else _NATIONAL_MARGIN_SOURCES):
        f = scale[year]
        rd = lambda x: int(round(x * f / rnd) * rnd)  # noqa: E731
        if len(vars_) == 1:
            v = vars_[0]
            cnt = np.bincount(P[v].to_numpy(), minlength=len(lv[v]))
            totals: dict = {lab: rd(c) for lab, c in zip(lv[v], cnt)}
        else:
            a, b = vars_
            cnt = np.bincount(P[a].to_numpy() * len(lv[b]) + P[b].to_numpy(),
                              minlength=len(lv[a]) * len(lv[b])).reshape(len(lv[a]), len(lv[b]))
            totals = {la: {lb: rd(cnt[i, j]) for j, lb in enumerate(lv[b])}
                      for i, la in enumerate(lv[a])}
        src_year = int(year) - (1 if "普查" not in pub else int(year) - 2020)
        margins.append({"variables": vars_, "totals": totals,
                        "source": {"publication": pub, "year": src_year, "table": table}})
    where, register = ("示例市", "示例市科协") if city else ("全国（不含港澳台）", "中国科协")
    return {
        "population": {"definition": f"在{where}工作的科技工作者（大专及以上学历从事科技工作，或具有专业技术职称）",
                       "reference_date": f"{int(year) - 1}-12-31"},
        "control_total": {"value": int(N), "source": {
            "publication": f"{register} 科技工作者数据库", "year": int(year) - 1,
            "table": "年末在库人数 (synthetic)"}},
        "margins": margins,
    }


def population_targets(wave: str, seed: int = DEFAULT_SEED, setting: Setting | None = None):
    """The weighting targets of a demo wave, as ``load_targets("…/population.yml")`` returns them.

    Built from :func:`population_margins` (the content of the committed ``population.yml``)
    without reading a file.

    Examples
    --------
    >>> t = population_targets("2024", seed=1)
    >>> ("sex", "age_group") in t, t.control_total > 250_000
    (True, True)
    """
    from ..weighting.targets import Targets, parse_margins
    m = population_margins(wave, seed, setting)
    totals: dict = {}
    sources: dict = {}
    for mg in m["margins"]:
        v = mg["variables"]
        key = v[0] if len(v) == 1 else tuple(v)
        totals[key] = mg["totals"]
        sources[key] = dict(mg["source"])
    out = Targets(totals, sources=sources, control_total=float(m["control_total"]["value"]),
                  control_source=m["control_total"]["source"], population=m["population"])
    parse_margins(out)
    return out


def design_for(data: Any, stations: Any = None, *, population: Any = None, rake: bool = True,
               lonely_psu: str = "adjust"):
    """The demo's weighted design in one line: strata, stations, base weights, raking.

    ``SurveyDesign(frame, strata="stratum", psu="station")`` with base weights
    ``1 / pi_station × station_size / n_i`` (``n_i`` = the station's rows in ``frame``, so a
    cleaned frame gets its own weights) from the station register, then raked to the wave's
    population margins.

    Parameters
    ----------
    data : DemoWave or DataFrame
        A :class:`DemoWave` (its ``clean`` frame, ``stations`` and margins are used) or an
        analysis frame with ``station`` and ``stratum`` columns (e.g. a cleaned export).
    stations : DataFrame or path-like, optional
        The station register (``stations.csv`` written by :func:`write_demo`: ``station``,
        ``pi_station``, ``station_size``); required with a frame.
    population : path-like or Mapping, optional
        ``population.yml`` (file or wave folder) or targets; default for a DemoWave: its own
        margins (:func:`population_targets`).  Required with a frame when ``rake=True``.
    rake : bool
        False stops after the base weights.
    lonely_psu : str
        Passed to :class:`~survey.SurveyDesign`.

    Returns
    -------
    SurveyDesign
        Raking emits a :class:`~survey.errors.WeightingWarning` reporting that the margins'
        totals disagree (by design, ~2%) and were rescaled.

    Examples
    --------
    >>> import warnings
    >>> w = build_wave("2024", 1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     d = design_for(w)
    >>> round(float(d.weights.sum())) == int(population_targets("2024", 1).control_total)
    True
    """
    from ..design import SurveyDesign
    from ..weighting import load_targets
    if isinstance(data, DemoWave):
        frame = data.clean
        stations = data.stations if stations is None else stations
        if population is None and rake:
            population = population_targets(data.wave, data.seed,
                                            None if data.setting == CITY else data.setting)
        q = data.questionnaire
    elif isinstance(data, pd.DataFrame):
        frame, q = data, None
        if stations is None:
            raise ParameterError("design_for(frame): pass stations= (the station register, "
                                 "stations.csv next to the raw export)")
        if population is None and rake:
            raise ParameterError("design_for(frame): pass population= (the wave's "
                                 "population.yml) or rake=False")
    else:
        raise ParameterError(f"design_for: data must be a DemoWave or an analysis frame, got "
                             f"{type(data).__name__}")
    if not isinstance(stations, pd.DataFrame):
        stations = pd.read_csv(stations, dtype={"station": str})
    need = {"station", "pi_station", "station_size"}
    if not need <= set(stations.columns) or not {"station", "stratum"} <= set(frame.columns):
        raise ParameterError(f"design_for: the register needs columns {sorted(need)} and the "
                             "frame 'station' and 'stratum'")
    reg = stations.assign(station=stations["station"].astype(str)).set_index("station")
    d = SurveyDesign(frame, strata="stratum", psu="station", lonely_psu=lonely_psu,
                     questionnaire=q)
    d = d.base_weights(station_size=reg["station_size"].to_dict(),
                       station_prob=reg["pi_station"].to_dict())
    if not rake:
        return d
    if not isinstance(population, Mapping):
        population = load_targets(population)
    return d.rake(population)


def _dump(d: dict) -> str:
    return yaml.safe_dump(d, allow_unicode=True, sort_keys=False, width=100,
                          default_flow_style=False)


def questionnaire_yaml(wave: str, setting: Setting | None = None) -> str:
    """The questionnaire.yml text of a demo wave (what ``questionnaires/demo-<wave>/`` holds).

    Examples
    --------
    >>> questionnaire_yaml("2023").startswith("# Demo questionnaire")
    True
    """
    if setting is not None and setting.name == "city":
        setting = None
    cmd = "survey demo" if setting is None else "survey demo --national"
    head = (f"# Demo questionnaire, wave {wave} (synthetic; generated by survey.demo — edit "
            f"survey/demo/spec.py, then `{cmd}`).\n"
            "# Schema: docs/conventions.md.  Differences from the other wave: `income` (reworded, "
            "bands split, codes reassigned) and `policy_aware` (2024 adds option 5).\n")
    if setting is not None:
        head += (f"# Region variable (survey report --by {setting.region_var}, or --region X -p "
                 f"region_var={setting.region_var}): {setting.region_var}.\n")
    return head + _dump(questionnaire_dict(wave, setting))


def population_yaml(wave: str, seed: int = DEFAULT_SEED, setting: Setting | None = None) -> str:
    """The population.yml text of a demo wave.

    Examples
    --------
    >>> "control_total" in population_yaml("2024", seed=1)
    True
    """
    place = (setting or CITY).place
    return _POP_HEADER.format(wave=wave, seed=seed, place=place) + \
        _dump(population_margins(wave, seed, setting))


def raw_filename(wave: str, n: int = 0) -> str:
    """File name of the raw export of a demo wave (问卷星 naming for 2023, SPSS for 2024).

    Examples
    --------
    >>> raw_filename("2024")
    '2024年示例市科技工作者状况调查_SPSS.sav'
    """
    if str(wave) == "2023":
        return f"88231017_按序号_2023年示例市科技工作者状况调查_{n}_{n}.xlsx"
    return "2024年示例市科技工作者状况调查_SPSS.sav"


def _normalise_xlsx(path: Path) -> None:
    """Make an .xlsx byte-identical across runs: fixed zip timestamps and docProps dates."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>2024-01-01T00:00:00Z\g<3>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())


def _normalise_sav(path: Path) -> None:
    """Overwrite the creation date/time in a .sav header (bytes 92–108) with a fixed value."""
    b = bytearray(path.read_bytes())
    if b[:4] in (b"$FL2", b"$FL3"):
        b[92:101] = b"01 Jan 24"
        b[101:109] = b"00:00:00"
        path.write_bytes(bytes(b))


def write_demo(out_dir: str | Path = "data/demo", seed: int = DEFAULT_SEED, *,
               questionnaires_dir: str | Path | None = None,
               progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the demo: questionnaires, population margins, station registers and raw exports.

    Layout (``<w>`` = 2023, 2024)::

        out_dir/demo-<w>/questionnaire.yml    the codebook of the wave
        out_dir/demo-<w>/population.yml       population margins (weighting targets)
        out_dir/demo-<w>/stations.csv         station register: pi_station, station_size, ...
        out_dir/demo-2023/<问卷星 按序号 .xlsx>  raw export, wave 2023
        out_dir/demo-2024/<...>_SPSS.sav       raw export (GBK), wave 2024
        out_dir/answer_key/dirt_<w>.csv        every planted problem (rid, kind, column, detail)
        out_dir/answer_key/truth.csv           :func:`truth` for both waves and the changes

    Base weight of a respondent in station i: ``1 / pi_station × station_size / n_i`` where
    ``n_i`` is the station's number of (cleaned) respondents (``completes`` = before dirt).

    Parameters
    ----------
    out_dir : path-like
    seed : int
    questionnaires_dir : path-like, optional
        Also write questionnaire.yml/population.yml into ``<questionnaires_dir>/demo-<w>/``
        (the repository's ``questionnaires/``).
    progress : callable, optional
        Called with one line per stage (``[1/3] 示例波次 2023：生成总体与样本…``), for a
        terminal; the command line passes a printer.

    Returns
    -------
    dict
        Paths by key (``raw_2023``, ``questionnaire_2024``, ...).

    Examples
    --------
    >>> import tempfile
    >>> paths = write_demo(tempfile.mkdtemp(), seed=1)  # doctest: +SKIP
    """
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ParameterError(f"write_demo(seed={seed!r}): give an integer seed") from None
    from ..io import write_sav, write_wjx
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    key = out / "answer_key"
    key.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: None)
    steps = len(WAVES) + 1
    for k, w in enumerate(WAVES, start=1):
        say(f"[{k}/{steps}] 示例波次 {w}：生成总体、抽样与作答，写出 {out / f'demo-{w}'}/ …")
        d = out / f"demo-{w}"
        d.mkdir(parents=True, exist_ok=True)
        qp, pp = d / "questionnaire.yml", d / "population.yml"
        qp.write_text(questionnaire_yaml(w), encoding="utf-8")
        pp.write_text(population_yaml(w, seed), encoding="utf-8")
        if questionnaires_dir is not None:
            qd = Path(questionnaires_dir) / f"demo-{w}"
            qd.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(qp, qd / "questionnaire.yml")
            shutil.copyfile(pp, qd / "population.yml")
        wv = build_wave(w, seed)
        write_csv(wv.stations, d / "stations.csv", index=False, float_format="%.10g")
        raw = d / raw_filename(w, len(wv.export))
        if w == "2023":
            write_wjx(wv.export, wv.questionnaire, raw, layout="code")
            _normalise_xlsx(raw)
        else:
            ex = wv.export.copy()
            for c in ex.columns:  # the GBK writer subtracts the SPSS epoch (1582): needs µs
                if pd.api.types.is_datetime64_any_dtype(ex[c].dtype):
                    ex[c] = ex[c].astype("datetime64[us]")
            write_sav(ex, wv.questionnaire, raw, encoding="gbk")
            _normalise_sav(raw)
        write_csv(wv.dirt, key / f"dirt_{w}.csv", index=False)  # planted text: never a formula
        paths.update({f"questionnaire_{w}": qp, f"population_{w}": pp,
                      f"stations_{w}": d / "stations.csv", f"raw_{w}": raw,
                      f"dirt_{w}": key / f"dirt_{w}.csv"})
    say(f"[{steps}/{steps}] 答案键（真实值与逐波变化）：{key / 'truth.csv'} …")
    write_csv(truth(None, seed), key / "truth.csv", index=False, float_format="%.10g")
    paths["truth"] = key / "truth.csv"
    return paths


def _city_lexicon(year: Any) -> Path | None:
    """The repository's ``questionnaires/demo-<year>/painpoint_lexicon.yml`` (the national
    questionnaires ask the city's pain-point, severity and open-text questions with the same
    options, so the city's keywords code them); None when it is not there (installed package)."""
    src = Path(__file__).resolve().parents[2] / "questionnaires" / f"demo-{year}" / "painpoint_lexicon.yml"
    return src if src.is_file() else None


def _national_harmonization(setting: Setting) -> dict | None:
    """The repository's harmonization.yml with the city wave ids replaced by the national ones
    (same questions, same code maps: the national questionnaires differ from the city's only in
    the region question).  None when the repository file is not there (installed package)."""
    src = Path(__file__).resolve().parents[2] / "questionnaires" / "harmonization.yml"
    if not src.is_file():
        return None
    ids = dict(zip(setting.years, setting.waves))

    def rekey(x: Any) -> Any:
        if isinstance(x, dict):
            return {ids.get(str(k), k): rekey(v) for k, v in x.items()}
        if isinstance(x, list):
            return [rekey(v) for v in x]
        return x

    raw = rekey(yaml.safe_load(src.read_text(encoding="utf-8")))
    raw["waves"] = {w: f"{w}/questionnaire.yml" for w in setting.waves}
    return raw


def write_national(out_root: str | Path = "data/demo/national", seed: int = NATIONAL_SEED, *,
                   setting: Setting | None = None,
                   progress: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the national demo as a project folder that ``survey report --root`` reads.

    ~50,000 respondents per wave in 31 provinces, strata province × station type (248), ~1,500
    stations as PSUs, waves ``national-2023`` and ``national-2024``, the same planted effects as
    the city demo (:mod:`survey.demo.effects`).  A benchmark input: not part of ``make report``.

    Layout (``<w>`` = national-2023, national-2024)::

        out_root/questionnaires/<w>/questionnaire.yml   the codebook (region question: region = 省份)
        out_root/questionnaires/<w>/population.yml      population margins (weighting targets)
        out_root/questionnaires/<w>/stations.csv        station register (base weights)
        out_root/questionnaires/<w>/painpoint_lexicon.yml  the city's pain-point keywords
        out_root/questionnaires/harmonization.yml       the city's cross-wave maps, national ids
        out_root/data/<w>/<year>年全国科技工作者状况调查_SPSS.sav   raw export (GBK SPSS)
        out_root/answer_key/truth.csv, dirt_<w>.csv     the answer key

    Render the national report with
    ``survey report --root data/demo/national --wave national-2024 -o reports/national-2024``
    (add ``--by region`` for one report per province).

    Parameters
    ----------
    out_root : path-like
        The project folder (default ``data/demo/national``, git-ignored).
    seed : int
        Master seed (default :data:`NATIONAL_SEED`).
    setting : Setting, optional
        Default the full national demo (:data:`NATIONAL`); a scaled-down
        :func:`national` for tests.
    progress : callable, optional
        Called with one line per stage.

    Returns
    -------
    dict
        Paths by key (``raw_national-2024``, ``questionnaire_national-2023``, ``truth``, ...).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_national(d, setting=national(600, provinces=2))
    ...     p["raw_national-2024"].parent.name, p["questionnaire_national-2024"].parent.parent.name
    ('national-2024', 'questionnaires')
    """
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ParameterError(f"write_national(seed={seed!r}): give an integer seed") from None
    from ..io import write_sav
    sett = NATIONAL if setting is None else setting
    if sett.name != "national":
        raise ParameterError(f"write_national(setting=…): give a national setting "
                             f"(survey.demo.national(...)), not {sett.name!r}")
    out = Path(out_root)
    qroot, droot, key = out / "questionnaires", out / "data", out / "answer_key"
    paths: dict[str, Path] = {}
    say = progress or (lambda msg: None)
    steps = len(sett.waves) + 1
    for k, w in enumerate(sett.waves, start=1):
        say(f"[{k}/{steps}] 全国示例波次 {w}：生成总体、抽样与作答，写出 {qroot / w}/、{droot / w}/ …")
        qd, dd = qroot / w, droot / w
        for d in (qd, dd, key):
            d.mkdir(parents=True, exist_ok=True)
        qp, pp = qd / "questionnaire.yml", qd / "population.yml"
        qp.write_text(questionnaire_yaml(w, sett), encoding="utf-8")
        pp.write_text(population_yaml(w, seed, sett), encoding="utf-8")
        wv = build_wave(w, seed, sett)
        write_csv(wv.stations, qd / "stations.csv", index=False, float_format="%.10g")
        raw = dd / f"{sett.year(w)}年全国科技工作者状况调查_SPSS.sav"
        ex = wv.export.copy()
        for c in ex.columns:  # the GBK writer subtracts the SPSS epoch (1582): needs µs
            if pd.api.types.is_datetime64_any_dtype(ex[c].dtype):
                ex[c] = ex[c].astype("datetime64[us]")
        write_sav(ex, wv.questionnaire, raw, encoding="gbk")
        _normalise_sav(raw)
        write_csv(wv.dirt, key / f"dirt_{w}.csv", index=False)
        paths.update({f"questionnaire_{w}": qp, f"population_{w}": pp,
                      f"stations_{w}": qd / "stations.csv", f"raw_{w}": raw,
                      f"dirt_{w}": key / f"dirt_{w}.csv"})
        lex = _city_lexicon(sett.year(w))
        if lex is not None:  # the city's keywords: the same planted open-text themes and severity
            shutil.copyfile(lex, qd / "painpoint_lexicon.yml")
            paths[f"lexicon_{w}"] = qd / "painpoint_lexicon.yml"
    harm = _national_harmonization(sett)
    if harm is not None:
        hp = qroot / "harmonization.yml"
        hp.write_text("# Cross-wave harmonisation of the national demo waves: the repository's "
                      "questionnaires/harmonization.yml\n# with the national wave ids (generated by "
                      "`survey demo --national`).\n" + _dump(harm), encoding="utf-8")
        paths["harmonization"] = hp
    say(f"[{steps}/{steps}] 答案键（真实值与逐波变化）：{key / 'truth.csv'} …")
    write_csv(truth(None, seed, sett), key / "truth.csv", index=False, float_format="%.10g")
    paths["truth"] = key / "truth.csv"
    return paths
