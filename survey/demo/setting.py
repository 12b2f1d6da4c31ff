"""Where a demo is set: the fictional city (the default) or the national survey.

A :class:`Setting` holds everything that differs between the city demo and the national demo:
the regions (10 districts of 示例市 or the 31 provinces of mainland China), their population
shares and station-type tilts, the population size, the number of stations, the quota scale,
the wave ids and the random stream.  Everything that shapes the *answers* (group effects,
policy effects, wave changes, nonresponse, dirt — :mod:`survey.demo.effects`) is shared, so the
national demo carries the same planted truths as the city demo.

* :data:`CITY` reproduces the city demo exactly (same random streams, same files);
* :func:`national` builds the national setting: ~50,000 respondents, 31 provinces × 8 station
  types = 248 strata, ~1,500 stations, waves ``national-2023`` and ``national-2024``; its
  ``n_respondents`` and ``provinces`` parameters give scaled-down versions (tests).

The region variable is the question ``district`` (city) or ``region`` (national, the province;
not ``province``, which the readers take for the platform's IP-location column): it is in
``design.groups`` and ``design.weighting`` of the questionnaire and is the variable to pass to
``survey report --by`` / ``-p region_var=``.

Examples
--------
>>> from survey.demo.setting import CITY, national, PROVINCES
>>> len(PROVINCES), CITY.region_var, national().region_var
(31, 'district', 'region')
>>> national().year("national-2024")
'2024'
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ParameterError
from . import spec as S

__all__ = ["Setting", "CITY", "NATIONAL", "national", "PROVINCES", "PROVINCE_WEIGHT"]


@dataclass(frozen=True)
class Setting:
    """The geography and scale of a demo (hashable: generator caches are keyed by it).

    ``waves`` are the wave ids (questionnaire ``wave.id`` and folder names); ``years`` the
    calendar year of each, which is what :mod:`survey.demo.effects` keys wave changes by.
    ``stream`` is prepended to every random-stream tag (empty for the city demo, so its streams
    are unchanged).  ``type_tilt`` maps region -> ((station type, factor), ...).

    Examples
    --------
    >>> CITY.waves, CITY.region_var, len(CITY.regions)
    (('2023', '2024'), 'district', 10)
    >>> national(2_000, provinces=3) == national(2_000, provinces=3)   # a cache key
    True
    """

    name: str
    place: str
    region_var: str
    region_text: str
    regions: tuple[str, ...]
    region_share: tuple[float, ...]
    type_tilt: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    n_population: int
    n_stations: int
    quota_scale: float = 1.0
    unit_size_scale: float = 1.0
    min_stratum: int = 0
    waves: tuple[str, ...] = S.WAVES
    years: tuple[str, ...] = S.WAVES
    stream: tuple[int, ...] = ()
    station_prefix: str = "S"
    rid_prefix: str = ""

    def year(self, wave: str) -> str:
        """The calendar year (``"2023"``/``"2024"``) of a wave id of this setting.

        Examples
        --------
        >>> CITY.year("2024")
        '2024'
        """
        wave = str(wave)
        if wave not in self.waves:
            raise ParameterError(f"demo wave {wave!r} does not exist in the {self.name} demo; "
                                 f"use one of {self.waves}")
        return self.years[self.waves.index(wave)]

    def quota(self, unit_type: str) -> int:
        """Completes a station of ``unit_type`` is asked for (the city's quota × quota_scale).

        Examples
        --------
        >>> CITY.quota("中学"), national().quota("中学")
        (35, 22)
        """
        q = S.QUOTA[unit_type]
        return q if self.quota_scale == 1.0 else max(5, int(round(q * self.quota_scale)))


CITY = Setting(
    name="city", place=S.CITY, region_var="district", region_text="您的工作单位所在区",
    regions=tuple(S.DISTRICTS), region_share=tuple(S.DISTRICT_SHARE),
    type_tilt=tuple((d, tuple(t.items())) for d, t in S.TYPE_TILT.items()),
    n_population=S.N_POPULATION, n_stations=S.N_STATIONS)

# The 31 provincial-level divisions of mainland China, in the order of the national statistics
# yearbooks, with a weight for their share of the synthetic S&T workforce: 2020 census
# population (millions, rounded) × a plain development factor (SYNTHETIC shares: not official
# counts of 科技工作者).
_PROVINCES = [
    ("北京市", 21.9, 3.0), ("天津市", 13.9, 1.6), ("河北省", 74.6, 0.8), ("山西省", 34.9, 0.8),
    ("内蒙古自治区", 24.0, 0.8), ("辽宁省", 42.6, 1.0), ("吉林省", 24.1, 0.9), ("黑龙江省", 31.9, 0.9),
    ("上海市", 24.9, 2.6), ("江苏省", 84.7, 1.4), ("浙江省", 64.6, 1.4), ("安徽省", 61.0, 1.0),
    ("福建省", 41.5, 1.1), ("江西省", 45.2, 0.8), ("山东省", 101.5, 1.0), ("河南省", 99.4, 0.8),
    ("湖北省", 57.8, 1.2), ("湖南省", 66.4, 0.9), ("广东省", 126.0, 1.4), ("广西壮族自治区", 50.1, 0.7),
    ("海南省", 10.1, 0.8), ("重庆市", 32.1, 1.0), ("四川省", 83.7, 1.0), ("贵州省", 38.6, 0.7),
    ("云南省", 47.2, 0.7), ("西藏自治区", 3.6, 0.6), ("陕西省", 39.5, 1.3), ("甘肃省", 25.0, 0.7),
    ("青海省", 5.9, 0.7), ("宁夏回族自治区", 7.2, 0.8), ("新疆维吾尔自治区", 25.9, 0.7),
]
PROVINCES = [p for p, _, _ in _PROVINCES]
PROVINCE_WEIGHT = {p: pop * f for p, pop, f in _PROVINCES}

_WEST = ("广西壮族自治区", "贵州省", "云南省", "西藏自治区", "甘肃省", "青海省", "宁夏回族自治区",
         "新疆维吾尔自治区", "内蒙古自治区")
_PROVINCE_TILT: dict[str, dict[str, float]] = {
    "北京市": {"科研机构": 2.4, "高等院校": 1.6, "全国学会": 6.0, "地县科协": 0.4},
    "上海市": {"科研机构": 1.6, "高等院校": 1.4, "大型卫生机构": 1.2, "地县科协": 0.5},
    "天津市": {"大中型企业": 1.3, "园区": 1.4},
    "江苏省": {"大中型企业": 1.5, "园区": 1.7},
    "浙江省": {"大中型企业": 1.5, "园区": 1.6},
    "广东省": {"大中型企业": 1.7, "园区": 1.9, "科研机构": 0.8},
    "湖北省": {"高等院校": 1.4, "科研机构": 1.2},
    "陕西省": {"高等院校": 1.4, "科研机构": 1.4},
    **{p: {"地县科协": 2.0, "中学": 1.3, "大中型企业": 0.7, "园区": 0.6} for p in _WEST},
}

_FULL = 50_000  # respondents of the full national demo


def national(n_respondents: int = _FULL, provinces: int | None = None) -> Setting:
    """The national demo setting, or a scaled-down version of it (for tests).

    Parameters
    ----------
    n_respondents : int
        Target number of respondents (the full demo: 50,000).  The population (20 people per
        target respondent, 1,000,000 in the full demo) and the number of stations (1,500 for
        50,000, at least 2 per stratum) scale with it; quotas do not.
    provinces : int, optional
        Keep only the first ``provinces`` provinces of :data:`PROVINCES` (default: all 31).

    Returns
    -------
    Setting

    Examples
    --------
    >>> s = national()
    >>> len(s.regions), s.n_stations, s.waves
    (31, 1500, ('national-2023', 'national-2024'))
    >>> small = national(2_000, provinces=3)
    >>> small.regions, small.n_stations
    (('北京市', '天津市', '河北省'), 60)
    """
    n_respondents = int(n_respondents)
    k = len(PROVINCES) if provinces is None else int(provinces)
    if not 1 <= k <= len(PROVINCES) or n_respondents < 200:
        raise ParameterError(f"national(n_respondents={n_respondents}, provinces={provinces}): "
                             f"give at least 200 respondents and 1–{len(PROVINCES)} provinces")
    regs = tuple(PROVINCES[:k])
    w = [PROVINCE_WEIGHT[p] for p in regs]
    n_st = max(2 * len(S.UNIT_TYPES) * k, int(round(1500 * n_respondents / _FULL)))
    return Setting(
        name="national", place="全国", region_var="region",
        region_text="您的工作单位所在省（自治区、直辖市）", regions=regs,
        region_share=tuple(x / sum(w) for x in w),
        type_tilt=tuple((p, tuple(_PROVINCE_TILT[p].items())) for p in regs if p in _PROVINCE_TILT),
        n_population=20 * n_respondents, n_stations=n_st, quota_scale=0.62,
        unit_size_scale=0.35, min_stratum=240,
        waves=("national-2023", "national-2024"), years=S.WAVES, stream=(17,),
        station_prefix="N", rid_prefix="N")


#: The full national demo (31 provinces, ~50,000 respondents per wave).
NATIONAL = national()
