"""Turn a drawn sample into an analysis frame, add the contact block and plant the dirt.

:func:`build_wave` returns a :class:`DemoWave`: ``clean`` (the analysis frame of the true
answers of the respondents, before any dirt), ``export`` (what the raw file will contain:
the frame with dirt, the PII questions ``name``/``phone``/``email`` and the raw metadata
``rid``/``submitted_at``/``duration_s``/``source``/``ip``), ``dirt`` (one row per planted
problem: rid, kind, column, detail) and ``stations`` (the station register).

Synthetic PII: names from common surnames; phones ``140`` + 8 digits (a prefix not issued to
personal mobiles, yet matching the usual ``1[3-9]\\d{9}`` pattern so scrubbers see it);
身份证号 with the fictional region prefix ``9901xx`` and a valid ISO 7064 check digit; e-mails
at ``example.com/.org/.net``; IPs in the benchmarking range 198.18.0.0/15 (RFC 2544).

Examples
--------
>>> from survey.demo.wave import build_wave
>>> w = build_wave("2023", seed=1)
>>> int((w.dirt["kind"] == "speeder").sum()) > 0
True
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..questionnaire import Questionnaire
from . import effects as E
from . import spec as S
from .population import population_answers, population_for, rng_for
from .sample import draw_sample
from .setting import CITY, Setting

__all__ = ["DemoWave", "build_wave", "id_check_digit", "fake_id_number", "PII_PATTERNS"]

# patterns the tests (and a scrubber) use to find PII; planted values all match them
PII_PATTERNS = {
    "phone": r"(?<!\d)1[3-9]\d{9}(?!\d)",
    "id_number": r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "ip": r"(?<!\d)(?:\d{1,3}\.){3}\d{1,3}(?!\d)",
}

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宁欣怡嘉浩宇晨")
_W = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a 身份证号's first 17 digits.

    Examples
    --------
    >>> id_check_digit("11010519491231002")
    'X'
    """
    return _CHECK[int(np.dot(_W, np.frombuffer(first17.encode(), dtype=np.uint8) - 48)) % 11]


def fake_id_number(rng: np.random.Generator, birth: pd.Timestamp, female: bool) -> str:
    """A synthetic 身份证号: fictional region 9901xx, real birth date, valid check digit.

    Examples
    --------
    >>> s = fake_id_number(np.random.default_rng(0), pd.Timestamp("1988-02-15"), True)
    >>> s[:4], len(s), s[-1] == id_check_digit(s[:17])
    ('9901', 18, True)
    """
    seq = int(rng.integers(0, 500)) * 2 + (0 if female else 1)
    body = f"9901{int(rng.integers(1, 11)):02d}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.array([f"140{x:08d}" for x in rng.integers(0, 10**8, n)], dtype=object)


@dataclass
class DemoWave:
    """One generated demo wave (see module docstring)."""

    wave: str
    seed: int
    questionnaire: Questionnaire
    clean: pd.DataFrame
    export: pd.DataFrame
    dirt: pd.DataFrame
    stations: pd.DataFrame
    setting: Setting = CITY

    def dirt_counts(self) -> dict[str, int]:
        """Number of planted problems by kind.

        Examples
        --------
        >>> build_wave("2024", 1).dirt_counts()["duplicate_exact"] > 0
        True
        """
        return {k: int(v) for k, v in self.dirt.groupby("kind").size().items()}


SUGGEST = {
    "收入待遇偏低": ["希望提高基层科技人员的基本工资和绩效", "建议建立与贡献相匹配的薪酬增长机制"],
    "住房困难": ["希望加大青年人才公寓供给，降低租房负担", "建议人才住房补贴覆盖到更多青年科技人员"],
    "子女教育": ["希望解决科技人员子女入学问题"],
    "科研经费不足/申请难": ["建议增加青年基金的资助比例", "希望简化项目申报材料"],
    "报销手续繁琐": ["报销流程太繁琐，建议推行无纸化报销", "希望进一步简化经费报销手续，减少签字环节"],
    "评价体系唯论文/唯帽子": ["评价不要只看论文和帽子，应重视实际贡献", "希望职称评审破除唯论文倾向"],
    "职称晋升难": ["职称指标太少，建议增加中高级岗位比例"],
    "工作压力大/时间长": ["工作时间太长，希望减少加班"],
    "非科研事务多(填表、会议、检查)": ["填表、会议和检查太多，希望切实减负", "建议减少重复填报和各类检查"],
    "科研时间不足": ["希望保障科研人员的科研时间"],
    "学术交流机会少": ["希望多组织学术交流活动"],
    "成果转化难": ["建议完善成果转化收益分配政策"],
    "身心健康": ["希望单位重视科技人员的心理健康"],
    "养老/照护负担": ["家中老人需要照护，希望有弹性工作安排"],
}
FIELD_OTHER = ["心理学", "交叉学科", "海洋科学", "科技情报", "知识产权", "标准化与计量"]
FUNDING_OTHER = ["基金会资助", "国际合作项目", "社会捐赠"]
LEAVE_OTHER = ["配偶工作调动", "继续深造", "自主创业"]


def _frame_from_codes(ans: pd.DataFrame, q: Questionnaire) -> pd.DataFrame:
    """Answers in codes -> analysis-frame dtypes of docs/conventions.md."""
    out: dict[str, pd.Series] = {}
    idx = pd.RangeIndex(len(ans))
    for qu in q.questions:
        if qu.pii or qu.id in ("station", "stratum") or qu.type == "text":
            continue
        t = qu.type
        if t == "single":
            labs = qu.labels
            codes = ans[qu.id].to_numpy()
            cats = list(labs.values())
            lut = {c: i for i, c in enumerate(labs)}
            ci = np.array([lut.get(int(c), -1) for c in codes]) if len(codes) else np.array([], int)
            out[qu.id] = pd.Series(pd.Categorical.from_codes(ci, categories=cats), index=idx)
            if qu.other is not None:
                out[f"{qu.id}_other"] = pd.Series(pd.NA, index=idx, dtype="str")
        elif t == "multi":
            asked = q.evaluate_ask_if(qu.id, pd.DataFrame(out)).to_numpy() if qu.ask_if else \
                np.ones(len(ans), bool)
            for c in qu.options:
                col = f"{qu.id}_{c}"
                v = ans[col].to_numpy(dtype=bool) if col in ans else np.zeros(len(ans), bool)
                s = pd.Series(v, index=idx, dtype="boolean")
                s[~asked] = pd.NA
                out[col] = s
            if qu.other is not None:
                out[f"{qu.id}_other"] = pd.Series(pd.NA, index=idx, dtype="str")
        elif t == "rank":
            for c in qu.options:
                r = ans[f"{qu.id}_{c}"].to_numpy()
                out[f"{qu.id}_{c}"] = pd.Series(pd.array(np.where(r > 0, r, 0), dtype="Int64"),
                                                index=idx).mask(r == 0)
        elif t in ("matrix", "likert"):
            for r in qu.rows:
                out[f"{qu.id}_{r}"] = pd.Series(pd.array(ans[f"{qu.id}_{r}"].to_numpy(), dtype="Int64"),
                                                index=idx)
        elif t in ("numeric", "duration"):
            out[qu.id] = pd.Series(ans[qu.id].to_numpy(dtype=float), index=idx)
        elif t == "date":
            out[qu.id] = pd.Series(pd.to_datetime(ans[qu.id].to_numpy()).astype("datetime64[ns]"),
                                   index=idx)
    return pd.DataFrame(out, index=idx)


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Take k from pool (without replacement); return (taken, rest)."""
    k = min(k, len(pool))
    perm = rng.permutation(len(pool))
    return pool[perm[:k]], pool[perm[k:]]


@lru_cache(maxsize=4)
def build_wave(wave: str, seed: int = 2024, setting: Setting | None = None) -> DemoWave:
    """Generate one demo wave: sample, frame, contact block and planted dirt (cached).

    Parameters
    ----------
    wave : {"2023", "2024"} or a wave id of ``setting`` (``"national-2024"``)
    seed : int
    setting : Setting, optional
        The city (default) or the national demo (:func:`survey.demo.setting.national`).

    Returns
    -------
    DemoWave

    Examples
    --------
    >>> w = build_wave("2023", 1)
    >>> set(w.export.columns) >= {"rid", "name", "phone", "email", "ip", "hours", "pain_5"}
    True
    """
    wave = str(wave)
    sett = setting or CITY
    year = sett.year(wave)
    q = Questionnaire.from_dict(S.questionnaire_dict(wave, setting))
    pop = population_for(seed, sett)
    smp = draw_sample(wave, seed) if setting is None else draw_sample(wave, seed, setting=setting)
    rng = rng_for(seed, *sett.stream, 4, int(year))
    person = smp.person
    n = len(person)
    ans = population_answers(pop, wave).iloc[person].reset_index(drop=True)
    P = pop.people.iloc[person].reset_index(drop=True)
    for var in ("sex", "age_group", "title", "unit_type", sett.region_var, "education"):
        ans[var] = P[var].to_numpy() + 1
    units = pop.units.iloc[P["unit"].to_numpy()].reset_index(drop=True)
    frame = _frame_from_codes(ans, q)

    # design columns + texts
    frame.insert(0, "station", pd.Series(units["station"].to_numpy(), dtype="str"))
    so = S.strata_options(setting)
    frame.insert(1, "stratum", pd.Categorical([so[c] for c in units["stratum_code"]],
                                              categories=list(so.values())))
    # skipped numeric under ask_if
    frame.loc[ans["has_project"].to_numpy() != 1, "project_count"] = np.nan
    oth = frame["field"].to_numpy() == "其他（请注明）"
    frame.loc[oth, "field_other"] = rng.choice(FIELD_OTHER, oth.sum())
    fo = frame["funding_sources_9"].fillna(False).to_numpy(dtype=bool)
    frame.loc[fo, "funding_sources_other"] = rng.choice(FUNDING_OTHER, fo.sum())
    lo = frame["leave_reasons_9"].fillna(False).to_numpy(dtype=bool)
    frame.loc[lo, "leave_reasons_other"] = rng.choice(LEAVE_OTHER, lo.sum())
    first = np.zeros(n, dtype=int)
    for j in range(len(S.PAIN)):
        first[ans[f"pain_{j + 1}"].to_numpy() == 1] = j
    writes = rng.random(n) < 0.35
    sugg = np.full(n, None, dtype=object)
    pick = rng.random(n)
    for j, lab in enumerate(S.PAIN):
        m = writes & (first == j)
        opts = SUGGEST[lab]
        sugg[m] = np.array(opts, dtype=object)[(pick[m] * len(opts)).astype(int)]
    frame["suggestion"] = pd.Series(sugg, dtype="str")
    clean = frame

    # metadata + contact block
    fw = S._WAVE_META[year]["fieldwork"]
    t0, t1 = pd.Timestamp(fw["start"]), pd.Timestamp(fw["end"]) + pd.Timedelta(hours=23)
    span = (t1 - t0).total_seconds()
    st_codes, st_idx = np.unique(units["station"].to_numpy(), return_inverse=True)
    st_offset = rng.random(len(st_codes)) * 0.6 * span
    secs = st_offset[st_idx] + rng.exponential(4 * 86400, n)
    secs = np.minimum(secs, span - 1)
    day = np.floor(secs / 86400) * 86400
    tod = np.clip(rng.normal(14.5, 3.5, n), 7.5, 23.8) * 3600
    submitted = t0 + pd.to_timedelta(np.round(day + tod), unit="s")
    duration = np.maximum(np.round(np.exp(rng.normal(np.log(780), 0.4, n))), 240.0)
    source = rng.choice(["微信", "链接", "手机提交"], n, p=[.55, .30, .15])
    nat = np.array([f"198.18.{i // 250}.{i % 250 + 1}" for i in range(len(st_codes))], dtype=object)
    rand_ip = np.array([f"198.{18 + a}.{b}.{c}" for a, b, c in
                        zip(rng.integers(0, 2, n), rng.integers(0, 256, n), rng.integers(1, 255, n))],
                       dtype=object)
    ip = np.where(rng.random(n) < 0.4, nat[st_idx], rand_ip)
    contact = rng.random(n) < E.DIRT["contact_rate"]
    names = np.array([SURNAMES[a] + GIVEN[b] + (GIVEN[c] if two else "") for a, b, c, two in
                      zip(rng.integers(0, len(SURNAMES), n), rng.integers(0, len(GIVEN), n),
                          rng.integers(0, len(GIVEN), n), rng.random(n) < 0.7)], dtype=object)
    phones = _phones(rng, n)
    has_mail = contact & (rng.random(n) < 0.5)
    mails = np.array([f"sci{x:06d}@example.{d}" for x, d in
                      zip(rng.integers(0, 10**6, n), rng.choice(["com", "org", "net"], n))], dtype=object)
    export = frame.copy()
    export.insert(0, "submitted_at", pd.Series(submitted, dtype="datetime64[ns]"))
    export.insert(1, "duration_s", duration)
    export.insert(2, "source", pd.Series(source, dtype="str"))
    export.insert(3, "ip", pd.Series(ip, dtype="str"))
    export["name"] = pd.Series(np.where(contact, names, None), dtype="str")
    export["phone"] = pd.Series(np.where(contact, phones, None), dtype="str")
    export["email"] = pd.Series(np.where(has_mail, mails, None), dtype="str")
    export["_row"] = np.arange(n)  # row of `clean`
    export["_age"] = P["age"].to_numpy()

    export, dirt = _plant_dirt(export, q, rng, year)
    # order by submission, number the rows like 问卷星's 序号
    export = export.sort_values(["submitted_at", "_row"], kind="stable").reset_index(drop=True)
    rid = pd.Series([f"{sett.rid_prefix}{year}{i + 1:05d}" for i in range(len(export))], dtype="str")
    key_to_rid = dict(zip(export["_key"], rid))
    dirt["rid"] = dirt["_key"].map(key_to_rid).astype("str")
    dirt = dirt.drop(columns="_key")[["rid", "kind", "column", "detail"]]
    export.insert(0, "rid", rid)
    clean_rid = export.loc[~export["_dup"], ["_row", "rid"]].set_index("_row")["rid"]
    clean = clean.copy()
    clean.insert(0, "rid", clean_rid.reindex(np.arange(n)).to_numpy())
    clean = clean.sort_values("rid").reset_index(drop=True)
    clean["rid"] = clean["rid"].astype("str")
    export = export.drop(columns=["_row", "_key", "_dup", "_age"])
    stations = smp.stations.drop(columns="unit_row").reset_index(drop=True)
    return DemoWave(wave=wave, seed=int(seed), questionnaire=q, clean=clean, export=export,
                    dirt=dirt.sort_values(["kind", "rid"]).reset_index(drop=True), stations=stations,
                    setting=sett)


def _plant_dirt(ex: pd.DataFrame, q: Questionnaire, rng: np.random.Generator,
                wave: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(ex)
    D = E.DIRT
    log: list[tuple[int, str, str, str]] = []   # (key, kind, column, detail)
    ex = ex.copy()
    ex["_key"] = np.arange(n)
    ex["_dup"] = False
    pool = np.arange(n)
    k = lambda share: int(round(share * n))  # noqa: E731

    # speeders: very short completion time and random answers on attitude items
    sp, pool = _pick(rng, pool, k(D["speeders"]))
    med = float(np.median(ex["duration_s"]))
    ex.loc[sp, "duration_s"] = np.round(rng.uniform(0.06, 0.22, len(sp)) * med)
    rand_singles = ["leave_intent", "confidence", "sat_overall", "health_self", "pain_severity",
                    "exchange", "housing"]
    for qid in rand_singles:
        cats = list(q[qid].options.values())
        ex.loc[sp, qid] = np.array(cats, dtype=object)[rng.integers(0, len(cats), len(sp))]
    for qid in ("sat", "eval_opinion", "cast_services"):
        m = len(q[qid].scale)
        for r in q[qid].rows:
            ex.loc[sp, f"{qid}_{r}"] = rng.integers(1, m + 1, len(sp))
    log += [(i, "speeder", "duration_s", f"{ex.at[i, 'duration_s']:.0f}s (median {med:.0f}s)")
            for i in sp]

    # straight-liners on the burnout matrix (same code down every row, reversed row too)
    sl, pool = _pick(rng, pool, k(D["straightliners"]))
    val = rng.choice([1, 3, 4, 5], len(sl), p=[.15, .45, .15, .25])
    for r in q["burnout"].rows:
        ex.loc[sl, f"burnout_{r}"] = val
    log += [(i, "straightliner", "burnout", f"all rows = {v}") for i, v in zip(sl, val)]

    # out-of-range numbers
    oor, pool = _pick(rng, pool, k(D["out_of_range"]))
    bad = {"hours": [120, 150, 168, 200, 480], "sleep_hours": [25, 30, 70],
           "research_share": [110, 120, 150, 200], "training_days": [400, 500, 999]}
    which = rng.choice(list(bad), len(oor))
    for i, col in zip(oor, which):
        v = float(rng.choice(bad[col]))
        ex.at[i, col] = v
        log.append((i, "out_of_range", col, f"{v:g} outside {list(q[col].range)}"))

    # skip-logic violations: answered although the filter says skip
    no_proj = pool[ex["has_project"].to_numpy()[pool] == "否"]
    sv, _ = _pick(rng, no_proj, k(D["skip_violations"]))
    pool = np.setdiff1d(pool, sv)
    for i in sv:
        ex.at[i, "project_count"] = float(rng.integers(1, 4))
        for c in q["funding_sources"].options:
            ex.at[i, f"funding_sources_{c}"] = bool(c == 5)
        log.append((i, "skip_violation", "project_count",
                    "project_count/funding_sources answered although has_project == 否"))

    # PII typed into free text
    m_ph, m_id, m_em = int(D["phone_in_text"]), int(D["id_in_text"]), int(D["email_in_text"])
    tx, pool = _pick(rng, pool, m_ph + m_id + m_em)
    for j, i in enumerate(tx):
        base = ex.at[i, "suggestion"]
        base = base if isinstance(base, str) else "希望能切实解决实际困难"
        if j < m_ph:
            kind, val = "phone_in_text", _phones(rng, 1)[0]
            text = f"{base}。有需要可以打我电话{val}"
        elif j < m_ph + m_id:
            kind = "id_in_text"
            age = int(ex.at[i, "_age"])
            birth = pd.Timestamp(f"{int(wave) - age}-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
            val = fake_id_number(rng, birth, ex.at[i, "sex"] == "女")
            text = f"{base}。本人身份证号{val}，可核实身份"
        else:
            kind, val = "email_in_text", f"reply{int(rng.integers(0, 10**5)):05d}@example.org"
            text = f"{base}，详细建议已整理，欢迎来信 {val}"
        ex.at[i, "suggestion"] = text
        log.append((i, kind, "suggestion", val))

    # missing codes (不知道/拒答) on a few attitude items: realistic, not dirt
    mc_items = ["income", "leave_intent", "confidence", "politics"]
    for qid in mc_items:
        mm, _ = _pick(rng, pool, k(D["missing_code_rate"]))
        ex.loc[mm, qid] = rng.choice(["不知道", "拒答"], len(mm), p=[.6, .4])
        log += [(i, "missing_code", qid, str(ex.at[i, qid])) for i in mm]

    # duplicate submissions (same person resubmits: same phone/IP/answers), a few minutes later
    de, pool = _pick(rng, pool, k(D["duplicate_exact"]))
    dc, pool = _pick(rng, pool, k(D["duplicate_changed"]))
    dups = ex.loc[np.r_[de, dc]].copy()
    dups["_key"] = n + np.arange(len(dups))
    dups["_dup"] = True
    dups["submitted_at"] = dups["submitted_at"] + pd.to_timedelta(rng.integers(60, 3600, len(dups)), unit="s")
    dups["duration_s"] = np.round(dups["duration_s"].to_numpy() * rng.uniform(0.5, 1.1, len(dups)))
    changed = dups["_key"].to_numpy()[len(de):]
    dups = dups.set_index("_key", drop=False)
    for key in changed:
        dups.at[key, "hours"] = float(dups.at[key, "hours"]) + float(rng.choice([-5, -2, 2, 5]))
        cats = list(q["sat_overall"].options.values())
        dups.at[key, "sat_overall"] = cats[int(rng.integers(0, len(cats)))]
    dups = dups.reset_index(drop=True)
    log += [(n + j, "duplicate_exact", "*", f"copy of submission {o}") for j, o in enumerate(de)]
    log += [(n + len(de) + j, "duplicate_changed", "hours,sat_overall", f"resubmission of {o}")
            for j, o in enumerate(dc)]
    ex = pd.concat([ex, dups], ignore_index=True)
    for c in ("sat_overall", "leave_intent", "confidence", "health_self", "pain_severity",
              "exchange", "housing", "income", "politics"):
        ex[c] = pd.Categorical(ex[c].astype(object), categories=list(q.labels(c).values()))
    for c in q.columns():
        if c in ex and q[q.owner(c)].type in ("matrix", "likert", "rank"):
            ex[c] = ex[c].astype("Int64")
    dirt = pd.DataFrame(log, columns=["_key", "kind", "column", "detail"])
    return ex, dirt
