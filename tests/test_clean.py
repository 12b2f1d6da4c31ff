"""Tests of survey.clean: rules on planted synthetic dirt (precision/recall), the invariants
(accounting, every changed cell logged, idempotence, row-order invariance; also as hypothesis
properties), configuration errors, outputs/sidecar, the CLI, and the demo waves' planted dirt."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from survey import CleaningError, Questionnaire, clean
from survey.clean import DEFAULT_RULES, CleanResult
from survey.privacy import scrub_frame

LIK = {1: "从不", 2: "很少", 3: "有时", 4: "经常", 5: "总是"}
TITLES = {1: "正高", 2: "副高", 3: "中级", 4: "初级", 5: "无"}
QDICT = {
    "wave": {"id": "t1", "title": "清理测试"},
    "missing_codes": {98: "不知道", 99: "拒答"},
    "questions": [
        {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"},
         "missing_codes": None},
        {"id": "age", "text": "年龄", "type": "numeric", "range": [18, 80], "missing_codes": None},
        {"id": "title", "text": "职称", "type": "single", "options": TITLES},
        {"id": "hours", "text": "每周工作小时", "type": "numeric", "range": [0, 112],
         "missing_codes": {-1: "拒答"}},
        {"id": "has_proj", "text": "是否有项目", "type": "single", "options": {1: "是", 2: "否"}},
        {"id": "proj_n", "text": "项目数", "type": "numeric", "range": [1, 30],
         "missing_codes": {-1: "拒答"}, "ask_if": "has_proj == 1"},
        {"id": "reasons", "text": "原因（最多两项）", "type": "multi", "max_choices": 2,
         "options": {1: "甲", 2: "乙", 3: "丙", 9: "其他"}, "other": 9},
        {"id": "pain", "text": "排序", "type": "rank", "k": 2,
         "options": {1: "收入", 2: "住房", 3: "评价", 4: "时间"}},
        {"id": "burn", "text": "倦怠", "type": "likert", "scale": LIK, "reversed": ["r6"],
         "rows": {f"r{i}": f"条目{i}" for i in range(1, 7)}},
        {"id": "trap", "text": "本题请选择“经常”", "type": "single", "options": LIK},
        {"id": "sat", "text": "总体满意", "type": "single", "options": LIK},
        {"id": "sugg", "text": "建议", "type": "text"},
    ],
    "cleaning": {
        "attention": {"items": {"trap": "经常"}},
        "checks": [{"name": "young_full_prof", "when": "age < 22 and title == '正高'",
                    "blank": ["title"]}],
    },
}
KINDS = ["duplicate", "near_duplicate", "speeder", "straightliner", "trap", "out_of_range",
         "skip", "rank", "multi_cap", "junk", "check", "missing_code"]


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    return Questionnaire.from_dict(QDICT)


def planted(q: Questionnaire, n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, dict[str, set]]:
    """A frame of ``n`` genuine respondents plus planted dirt; returns (frame, kind -> rids)."""
    rng = np.random.default_rng(seed)
    rid = [f"s{i:05d}" for i in range(n)]
    t0 = pd.Timestamp("2024-05-06 08:00")
    lat = rng.normal(0, 1, n)
    burn = np.clip(np.round(3 + lat[:, None] + rng.normal(0, 0.8, (n, 6))), 1, 5).astype(int)
    burn[:, 5] = np.clip(6 - burn[:, 5] + rng.integers(-1, 2, n), 1, 5)  # reversed row
    same = (burn == burn[:, :1]).all(axis=1)  # genuine respondents are not straight-liners here
    burn[same, 0] = np.where(burn[same, 0] < 5, burn[same, 0] + 1, 4)
    has = rng.random(n) < 0.6
    reasons = rng.random((n, 4)) < 0.3
    reasons[:, 1] |= ~reasons.any(axis=1)
    reasons[reasons.sum(axis=1) > 2, 2:] = False
    pain = np.full((n, 4), np.nan)
    for j in range(n):  # (test data construction only)
        pick = rng.choice(4, 2, replace=False)
        pain[j, pick] = [1, 2]
    f = pd.DataFrame({
        "rid": pd.Series(rid, dtype="str"),
        "submitted_at": t0 + pd.to_timedelta(np.sort(rng.integers(0, 40 * 86400, n)), unit="s"),
        "duration_s": np.round(np.exp(rng.normal(np.log(600), 0.25, n))),
        "ip_hash": pd.Series([f"ip{i}" for i in rng.integers(0, n // 4, n)], dtype="str"),
        "phone_hash": pd.Series([f"ph{i}" for i in range(n)], dtype="str"),
        "sex": pd.Categorical(rng.choice(["男", "女"], n), categories=["男", "女"]),
        "age": rng.integers(25, 60, n).astype(float),
        "title": pd.Categorical(rng.choice(list(TITLES.values()), n),
                                categories=list(TITLES.values()) + ["不知道", "拒答"]),
        "hours": np.round(rng.normal(45, 8, n)),
        "has_proj": pd.Categorical(np.where(has, "是", "否"), categories=["是", "否", "不知道", "拒答"]),
        "proj_n": np.where(has, rng.integers(1, 6, n), np.nan).astype(float),
    })
    for j, c in enumerate([1, 2, 3, 9]):
        f[f"reasons_{c}"] = pd.array(reasons[:, j], dtype="boolean")
    f["reasons_other"] = pd.Series(np.where(reasons[:, 3], "家庭", None), dtype="str")
    for j in range(4):
        f[f"pain_{j + 1}"] = pd.array(pain[:, j], dtype="Int64")
    for j in range(6):
        f[f"burn_r{j + 1}"] = pd.array(burn[:, j], dtype="Int64")
    cats = list(LIK.values()) + ["不知道", "拒答"]
    f["trap"] = pd.Categorical(["经常"] * n, categories=cats)
    f["sat"] = pd.Categorical(rng.choice(list(LIK.values()), n), categories=cats)
    f["sugg"] = pd.Series(rng.choice(["希望减少填表", "提高待遇", None], n), dtype="str")

    truth: dict[str, set] = {k: set() for k in KINDS}
    pool = list(rng.permutation(n))

    def take(k: int) -> list[int]:
        return [pool.pop() for _ in range(min(k, len(pool)))]
    med = float(f["duration_s"].median())
    for i in take(8):
        f.loc[i, "duration_s"] = round(med * rng.uniform(0.05, 0.2))
        truth["speeder"].add(rid[i])
    for i in take(8):
        v = int(rng.choice([1, 2, 4, 5]))
        for j in range(6):
            f.loc[i, f"burn_r{j + 1}"] = v
        truth["straightliner"].add(rid[i])
    for i in take(6):
        f.loc[i, "trap"] = "有时"
        truth["trap"].add(rid[i])
    for i in take(6):
        f.loc[i, "hours"] = float(rng.choice([120, 150, 168]))
        truth["out_of_range"].add(rid[i])
    no = [i for i in pool if not has[i]][:6]
    for i in no:
        pool.remove(i)
        f.loc[i, "proj_n"] = 2.0
        truth["skip"].add(rid[i])
    for i in take(5):
        f.loc[i, ["pain_1", "pain_2", "pain_3", "pain_4"]] = [1, 1, pd.NA, pd.NA]
        truth["rank"].add(rid[i])
    for i in take(5):
        f.loc[i, ["reasons_1", "reasons_2", "reasons_3"]] = True
        truth["multi_cap"].add(rid[i])
    for i, txt in zip(take(4), ["aaaaaa", "asdfgh", "。。。。", "qwerty"]):
        f.loc[i, "sugg"] = txt
        truth["junk"].add(rid[i])
    for i in take(3):
        f.loc[i, ["age", "title"]] = [20.0, "正高"]
        truth["check"].add(rid[i])
    for i in take(10):
        f.loc[i, "sat"] = rng.choice(["不知道", "拒答"])
        truth["missing_code"].add(rid[i])
    # exact duplicates (same answers and contact, resubmitted minutes later)
    src = take(6)
    dup = f.loc[src].copy()
    dup["rid"] = [f"d{i:05d}" for i in range(len(src))]
    dup["submitted_at"] = dup["submitted_at"] + pd.Timedelta(minutes=7)
    truth["duplicate"] |= set(dup["rid"])
    # near duplicates: same IP and phone, one answer changed, an hour later
    src2 = take(5)
    nd = f.loc[src2].copy()
    nd["rid"] = [f"n{i:05d}" for i in range(len(src2))]
    nd["submitted_at"] = nd["submitted_at"] + pd.Timedelta(hours=1)
    nd["hours"] = nd["hours"] + 2
    truth["near_duplicate"] |= set(nd["rid"])
    out = pd.concat([f, dup, nd], ignore_index=True)
    return out, truth


@pytest.fixture(scope="module")
def dirty(q):
    return planted(q)


@pytest.fixture(scope="module")
def res(q, dirty) -> CleanResult:
    return clean(dirty[0], q)


def _pr(found: set, truth: set) -> tuple[float, float]:
    tp = len(found & truth)
    return tp / max(len(found), 1), tp / max(len(truth), 1)


# ---------------------------------------------------------------------------------------------
# the rules find the planted dirt: precision and recall on synthetic data
# ---------------------------------------------------------------------------------------------
DROP_KINDS = {"duplicate": "duplicate_answers", "near_duplicate": "duplicate_contact",
              "speeder": "speeders", "straightliner": "straightlining", "trap": "attention"}
CELL_KINDS = {"out_of_range": ("out_of_range", "blank"), "skip": ("skip_logic", "blank"),
              "rank": ("rank_invalid", "blank"), "multi_cap": ("multi_cap", "blank"),
              "junk": ("junk_text", "flag"), "check": ("checks", "blank"),
              "missing_code": ("missing_codes", "blank")}


@pytest.mark.parametrize("kind", list(DROP_KINDS))
def test_planted_drops_found_exactly(res, dirty, kind):
    """Precision = recall = 1 for every dropping rule on well-separated planted dirt."""
    found = set(res.dropped.loc[res.dropped["rule"] == DROP_KINDS[kind], "rid"])
    assert _pr(found, dirty[1][kind]) == (1.0, 1.0), (kind, found ^ dirty[1][kind])


@pytest.mark.parametrize("kind", list(CELL_KINDS))
def test_planted_cells_found_exactly(res, dirty, kind):
    rule, action = CELL_KINDS[kind]
    lg = res.log[(res.log["rule"] == rule) & (res.log["action"] == action)]
    assert _pr(set(lg["rid"]), dirty[1][kind]) == (1.0, 1.0), (kind, set(lg["rid"]))


def test_no_clean_respondent_dropped(res, dirty):
    planted_drops = set().union(*(dirty[1][k] for k in DROP_KINDS))
    assert set(res.dropped["rid"]) == planted_drops


def test_reversed_items_flag_extreme_straightliners(res, dirty):
    lg = res.log[res.log["rule"] == "reversed_items"]
    d = dirty[0].set_index("rid")
    extreme = {r for r in dirty[1]["straightliner"] if d.loc[r, "burn_r1"] in (1, 5)}
    assert extreme and extreme <= set(lg["rid"])  # 1/5 down a block with a reversed row
    assert len(set(lg["rid"])) < 3 * len(dirty[1]["straightliner"])
    assert set(lg["action"]) <= {"flag"}


def test_cell_values_and_reasons(res, dirty):
    d = res.data.set_index("rid")
    t = dirty[1]
    assert d.loc[sorted(t["out_of_range"]), "hours"].isna().all()
    assert d.loc[sorted(t["skip"]), "proj_n"].isna().all()
    assert d.loc[sorted(t["check"]), "title"].isna().all()
    assert d.loc[sorted(t["check"]), "age"].notna().all()  # only `blank: [title]`
    assert d.loc[sorted(t["rank"]), [f"pain_{i}" for i in range(1, 5)]].isna().all().all()
    assert d.loc[sorted(t["multi_cap"]), "reasons_1"].isna().all()
    assert d.loc[sorted(t["junk"]), "sugg"].notna().all()  # junk text is flagged only
    # missing-code categories are gone; reasons kept
    assert "不知道" not in d["sat"].cat.categories and "拒答" not in d["title"].cat.categories
    m = res.missing.set_index(["rid", "column"])["reason"]
    assert {m[(r, "sat")] for r in t["missing_code"]} <= {"dont_know", "refused"}
    assert {m[(r, "hours")] for r in t["out_of_range"]} == {"out_of_range"}
    assert {m[(r, "title")] for r in t["check"]} == {"inconsistent"}
    # not asked -> skipped and not counted as item nonresponse
    mm = res.missing[res.missing["column"] == "proj_n"]
    assert set(mm.loc[~mm["asked"], "reason"]) == {"skipped"}
    inr = res.item_nonresponse()
    assert not ((inr["question"] == "proj_n") & (inr["reason"] == "skipped")).any()
    sat = inr[inr["question"] == "sat"].set_index("reason")["n_respondents"]
    assert int(sat.sum()) == len(t["missing_code"])


def test_reader_reasons_are_carried(q, dirty):
    f = dirty[0].copy()
    f.loc[0, "sat"] = np.nan
    rd = pd.DataFrame({"rid": [f.loc[0, "rid"]], "question": ["sat"], "column": ["sat"],
                       "reason": ["refused"], "value": ["-1"]})
    r = clean(f, q, missing=rd)
    row = r.missing[(r.missing["rid"] == f.loc[0, "rid"]) & (r.missing["column"] == "sat")]
    assert row["reason"].tolist() == ["refused"]


# ---------------------------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------------------------
def _check_invariants(raw: pd.DataFrame, r: CleanResult, q: Questionnaire | None = None) -> None:
    # accounting: each dropped respondent once, under one primary reason
    assert r.n_raw == len(raw) == r.n_clean + len(r.dropped)
    s = r.summary()
    assert int(s.loc["total", "dropped"]) == len(r.dropped)
    assert int(s.drop(index="total")["dropped"].sum()) == len(r.dropped)
    assert (r.log["action"] == "drop").sum() == len(r.dropped)
    # every changed cell has a log row (kept respondents; rids unique in these frames)
    if raw["rid"].is_unique:
        before = raw.set_index("rid").loc[r.data["rid"]]
        if q is not None:  # free text loses personal data (privacy.scrub_frame): no cleaning rule
            before = scrub_frame(before.reset_index(), q).set_index("rid")
        after = r.data.set_index("rid")
        logged = set(zip(r.log.loc[r.log["action"] == "blank", "rid"],
                         r.log.loc[r.log["action"] == "blank", "column"]))
        for c in after.columns:
            b, a = before[c].astype(object), after[c].astype(object)
            changed = ~((b == a).fillna(False) | (b.isna() & a.isna()))
            for rid in after.index[changed.to_numpy(dtype=bool)]:
                assert (rid, c) in logged, (rid, c)


def test_invariants_on_planted(dirty, res):
    _check_invariants(dirty[0], res)


def test_idempotent(q, res):
    r2 = clean(res.data, q)
    pd.testing.assert_frame_equal(r2.data, res.data)
    assert not r2.log["action"].isin(["drop", "blank"]).any()
    assert len(r2.dropped) == 0


def test_row_order_invariant(q, dirty, res):
    perm = dirty[0].sample(frac=1.0, random_state=3).reset_index(drop=True)
    r2 = clean(perm, q)
    a = res.data.sort_values("rid").reset_index(drop=True)
    b = r2.data.sort_values("rid").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(res.log, r2.log)
    pd.testing.assert_frame_equal(res.missing, r2.missing)
    # the output keeps the input's row order
    assert r2.data["rid"].tolist() == [x for x in perm["rid"] if x in set(r2.data["rid"])]


def test_input_frame_untouched(q, dirty):
    f = dirty[0].copy()
    snap = f.copy()
    clean(f, q)
    pd.testing.assert_frame_equal(f, snap)


def test_duplicate_rid_keeps_first_complete(q):
    f, t = planted(q, n=300, seed=5)
    f = f[~f["rid"].isin(set().union(*t.values()))].iloc[:40].reset_index(drop=True)
    extra = f.iloc[[3]].copy()
    extra["submitted_at"] = extra["submitted_at"] - pd.Timedelta(minutes=1)  # earlier …
    extra["sugg"] = pd.Series([None], dtype="str", index=extra.index)     # … but less complete
    extra["sat"] = "有时"
    g = pd.concat([f, extra], ignore_index=True)
    r = clean(g, q)
    assert r.dropped["rule"].tolist() == ["duplicate_id"]
    kept = r.data[r.data["rid"] == f.loc[3, "rid"]]
    assert len(kept) == 1 and kept["sat"].iloc[0] == f.loc[3, "sat"]


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
def test_unknown_rule_and_key_named(q, dirty):
    with pytest.raises(CleaningError, match=r"unknown cleaning rule 'speeder'.*speeders"):
        clean(dirty[0], q, rules={"speeder": {}})
    with pytest.raises(CleaningError, match=r"'speeders' has unknown key\(s\) \['fraction'\].*"
                                            r"min_fraction_of_median"):
        clean(dirty[0], q, rules={"speeders": {"fraction": 0.2}})
    with pytest.raises(CleaningError, match="action 'drop'|'drop' is not one of"):
        clean(dirty[0], q, rules={"out_of_range": {"action": "drop"}})
    with pytest.raises(CleaningError, match="min_similarity"):
        clean(dirty[0], q, rules={"duplicate_contact": {"min_similarity": 2}})
    with pytest.raises(CleaningError, match="names 'agee', which is not a question"):
        clean(dirty[0], q, rules={"checks": [{"name": "x", "when": "agee < 3"}]})
    with pytest.raises(CleaningError, match="unknown key"):
        clean(dirty[0], q, rules={"checks": [{"when": "age < 3", "blnk": ["age"]}]})
    bad = dict(QDICT, cleaning={"straightlinng": {"enabled": False}})
    with pytest.raises(CleaningError, match="straightlinng"):
        clean(dirty[0], Questionnaire.from_dict(bad))
    with pytest.raises(CleaningError, match="no 'rid' column"):
        clean(dirty[0].drop(columns="rid"), q)


@pytest.mark.parametrize("rule", list(DROP_KINDS.values()))
def test_each_drop_rule_can_be_switched_off(q, dirty, res, rule):
    r = clean(dirty[0], q, rules={rule: False})
    assert rule not in set(r.dropped["rule"])
    if rule == "duplicate_answers":  # exact copies share phone/IP: the contact rule takes them
        assert r.n_clean == res.n_clean
        assert dirty[1]["duplicate"] <= set(r.dropped.loc[r.dropped["rule"] == "duplicate_contact",
                                                           "rid"])
    else:
        assert r.n_clean > res.n_clean


@pytest.mark.parametrize("rule", ["out_of_range", "skip_logic", "rank_invalid", "multi_cap",
                                  "missing_codes"])
def test_each_cell_rule_can_be_switched_off_or_flag(q, dirty, rule):
    off = clean(dirty[0], q, rules={rule: {"enabled": False}})
    assert rule not in set(off.log["rule"])
    fl = clean(dirty[0], q, rules={rule: {"action": "flag"}})
    assert set(fl.log.loc[fl.log["rule"] == rule, "action"]) == {"flag"}


def test_thresholds_change_results(q, dirty, res):
    n_sp = (res.dropped["rule"] == "speeders").sum()
    more = clean(dirty[0], q, rules={"speeders": {"min_fraction_of_median": 0.6}})
    assert (more.dropped["rule"] == "speeders").sum() > n_sp
    none = clean(dirty[0], q, rules={"straightlining": {"min_rows": 7}})
    assert "straightlining" not in set(none.dropped["rule"])
    flag = clean(dirty[0], q, rules={"straightlining": {"action": "flag"}})
    assert "straightlining" not in set(flag.dropped["rule"])
    assert "straightlining" in set(flag.log["rule"])
    strict = clean(dirty[0], q, rules={"duplicate_contact": {"min_similarity": 1.0}})
    assert "duplicate_contact" not in set(strict.dropped["rule"])
    junkb = clean(dirty[0], q, rules={"junk_text": {"action": "blank"}})
    assert junkb.data.set_index("rid").loc[sorted(dirty[1]["junk"]), "sugg"].isna().all()
    ck = clean(dirty[0], q, rules={"checks": [{"name": "yp", "when": "age < 22 and title == '正高'",
                                               "action": "drop"}]})
    assert set(ck.dropped.loc[ck.dropped["rule"] == "checks", "rid"]) == dirty[1]["check"]


def test_other_empty(q, dirty):
    f = dirty[0].copy()
    i = int(np.flatnonzero(f["reasons_9"].fillna(False).to_numpy(dtype=bool)
                           & ~f["reasons_1"].fillna(False).to_numpy(dtype=bool))[0])
    f.loc[i, "reasons_other"] = "  "
    r = clean(f, q, rules={"duplicate_answers": False})
    lg = r.log[r.log["rule"] == "other_empty"]
    assert lg["rid"].tolist() == [f.loc[i, "rid"]] and lg["action"].tolist() == ["flag"]
    rb = clean(f, q, rules={"other_empty": {"action": "blank"}, "duplicate_answers": False})
    v = rb.data.set_index("rid").loc[f.loc[i, "rid"], "reasons_9"]
    assert pd.isna(v) or not bool(v)
    assert ((rb.log["rule"] == "other_empty") & (rb.log["action"] == "blank")).any()


def test_defaults_documented():
    import sys
    mod = sys.modules["survey.clean"]  # `survey.clean` itself is the function
    for rule in DEFAULT_RULES:
        assert f"{rule}:" in mod.__doc__


# ---------------------------------------------------------------------------------------------
# outputs
# ---------------------------------------------------------------------------------------------
def test_write_outputs_and_sidecar(q, dirty, tmp_path):
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"fake raw export\n")
    r = clean(dirty[0], q, source=raw)
    paths = r.write(tmp_path / "out")
    assert all(p.parent == tmp_path / "out" / "t1" for p in paths.values())
    side = json.loads(paths["sidecar"].read_text(encoding="utf-8"))
    assert side["input"]["sha256"] == hashlib.sha256(b"fake raw export\n").hexdigest()
    assert side["questionnaire_sha256"] == q.hash
    assert side["rules"]["speeders"]["min_fraction_of_median"] == pytest.approx(1 / 3)
    assert side["n_raw"] == r.n_raw and side["n_clean"] == r.n_clean
    back = pd.read_parquet(paths["data"])
    assert list(back["rid"]) == list(r.data["rid"])
    assert back["sat"].dtype == "category"
    log = pd.read_csv(paths["log_csv"], encoding="utf-8-sig", dtype=str)
    assert len(log) == len(r.log)
    assert pd.read_excel(paths["log_xlsx"], sheet_name="summary").shape[0] == len(r.summary())
    for k, v in side["outputs"].items():
        assert hashlib.sha256(paths[k].read_bytes()).hexdigest() == v["sha256"]


def test_repr(res):
    s = repr(res)
    assert s.startswith("<CleanResult wave 't1'") and "speeders" in s
    assert "<table" in res._repr_html_()


def test_cli_clean_leaves_raw_untouched(q, tmp_path):
    from survey.cli import main
    from survey.io import write_wjx
    import yaml

    qfile = tmp_path / "questionnaire.yml"
    qfile.write_text(yaml.safe_dump(QDICT, allow_unicode=True, sort_keys=False), encoding="utf-8")
    qq = Questionnaire.load(qfile)
    f = planted(qq, n=60, seed=2)[0].drop(columns=["ip_hash", "phone_hash"])
    raw = tmp_path / "export.xlsx"
    write_wjx(f, qq, raw)
    before = raw.read_bytes()
    assert main(["clean", str(raw), "-q", str(qfile), "--out", str(tmp_path / "o"),
                 "--salt", "x", "--rules", "{junk_text: {min_length: 4}}"]) == 0
    assert raw.read_bytes() == before
    side = json.loads((tmp_path / "o" / "t1" / "clean.json").read_text(encoding="utf-8"))
    assert side["input"]["sha256"] == hashlib.sha256(before).hexdigest()
    assert side["rules"]["junk_text"]["min_length"] == 4
    assert main(["clean", str(raw), "-q", str(qfile), "--out", str(tmp_path / "o"),
                 "--rules", "{nope: 1}"]) == 2


# ---------------------------------------------------------------------------------------------
# properties on random frames
# ---------------------------------------------------------------------------------------------
@hs.composite
def frames(draw):
    q = Questionnaire.from_dict(QDICT)
    n = draw(hs.integers(1, 25))
    seed = draw(hs.integers(0, 10_000))
    f, _ = planted(q, n=max(n, 4), seed=seed)
    rng = np.random.default_rng(seed)
    f = f.iloc[rng.choice(len(f), size=draw(hs.integers(1, len(f))), replace=True)]
    f = f.reset_index(drop=True)
    # duplicate rids and identical rows are allowed; perturb some cells
    k = draw(hs.integers(0, 5))
    for _ in range(k):
        i = int(rng.integers(0, len(f)))
        f.loc[i, "sat"] = rng.choice(["不知道", "有时", None])
        f.loc[i, "hours"] = float(rng.choice([-1, 40, 200, np.nan]))
    if draw(hs.booleans()):
        f["duration_s"] = float(draw(hs.integers(10, 1000)))
    return f


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), hs.randoms(use_true_random=False))
def test_property_invariants(f, rnd):
    q = Questionnaire.from_dict(QDICT)
    r = clean(f, q)
    assert r.n_raw == r.n_clean + len(r.dropped)
    assert int(r.summary().drop(index="total")["dropped"].sum()) == len(r.dropped)
    _check_invariants(f, r)
    # idempotent
    r2 = clean(r.data, q)
    pd.testing.assert_frame_equal(r2.data, r.data)
    assert not r2.log["action"].isin(["drop", "blank"]).any()
    # row-order invariant
    perm = list(range(len(f)))
    rnd.shuffle(perm)
    r3 = clean(f.iloc[perm].reset_index(drop=True), q)
    key = ["rid"] + [c for c in r.data.columns if c != "rid"]
    a = r.data.astype(str).sort_values(key).reset_index(drop=True)
    b = r3.data.astype(str).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(r.log, r3.log)


# ---------------------------------------------------------------------------------------------
# the demo waves: the cleaning finds the dirt the generator planted
# ---------------------------------------------------------------------------------------------
# Stated performance on the demo wave 2024 (seed 2024, 12,914 raw rows), default rules:
#   duplicate_exact -> duplicate_answers    precision 1.00  recall 1.00
#   duplicate_changed -> duplicate_contact  precision 1.00  recall 1.00
#   speeder -> speeders                     precision >= 0.80  recall 1.00
#   straightliner -> straightlining         precision >= 0.60  recall 1.00   (genuine respondents
#       who answer 有时 on all six burnout rows are indistinguishable from planted ones)
#   out_of_range -> out_of_range            precision 1.00  recall 1.00
#   skip_violation -> skip_logic            precision 1.00  recall 1.00
#   clean respondents dropped: <= 1.2 %  (measured 0.96 %: 39 speeders at < 1/3 of the median
#   duration, 80 straight-liners on the 6-row burnout block)
DEMO_BOUNDS = {  # kind: (rule, action, min precision, min recall)
    "duplicate_exact": ("duplicate_answers", "drop", 1.0, 1.0),
    "duplicate_changed": ("duplicate_contact", "drop", 1.0, 1.0),
    "speeder": ("speeders", "drop", 0.80, 1.0),
    "straightliner": ("straightlining", "drop", 0.60, 1.0),
    "out_of_range": ("out_of_range", "blank", 1.0, 1.0),
    "skip_violation": ("skip_logic", "blank", 1.0, 1.0),
}
DEMO_MAX_FP_RATE = 0.012


def _demo_frame(wave: str):
    demo = pytest.importorskip("survey.demo.wave")
    from survey.privacy import salted_hash
    w = demo.build_wave(wave, 2024)
    ex = w.export.copy()
    ex["phone_hash"] = salted_hash(ex["phone"], "test", kind="phone")
    ex["ip_hash"] = salted_hash(ex["ip"], "test", kind="ip")
    return w, ex.drop(columns=["name", "phone", "email", "ip"])


def _demo_check(wave: str) -> dict:
    w, f = _demo_frame(wave)
    r = clean(f, w.questionnaire)
    _check_invariants(f, r, w.questionnaire)
    d = w.dirt
    out = {}
    for kind, (rule, action, pmin, rmin) in DEMO_BOUNDS.items():
        truth = set(d.loc[d["kind"] == kind, "rid"])
        if action == "drop":  # precision of the rule; recall: dropped under any primary reason
            found = set(r.dropped.loc[r.dropped["rule"] == rule, "rid"])
            p = _pr(found, truth)[0]
            rc = _pr(set(r.dropped["rid"]), truth)[1]
        else:  # cell rules: among respondents kept (a dropped one's cells are moot)
            truth &= set(r.data["rid"])
            found = set(r.log.loc[(r.log["rule"] == rule) & (r.log["action"] == action), "rid"])
            p, rc = _pr(found, truth)
        out[kind] = (p, rc)
        assert p >= pmin and rc >= rmin, (kind, p, rc)
    dirty_rids = set(d.loc[d["kind"].isin(["duplicate_exact", "duplicate_changed", "speeder",
                                           "straightliner"]), "rid"])
    n_clean_true = len(f) - len(dirty_rids)
    fp = len(set(r.dropped["rid"]) - dirty_rids) / n_clean_true
    assert fp <= DEMO_MAX_FP_RATE, fp
    # the true clean frame keeps its respondents' rids; all planted duplicates are gone
    assert not (set(r.data["rid"]) & set(d.loc[d["kind"].str.startswith("duplicate"), "rid"]))
    out["fp_rate"] = fp
    return out


def test_demo_2024_planted_dirt_found():
    _demo_check("2024")


@pytest.mark.slow
def test_demo_2023_planted_dirt_found():
    _demo_check("2023")


def test_single_choice_keeps_the_questionnaire_order_of_categories():
    """Removing the missing-code categories must not re-sort the answer scale (pandas 3.1's
    remove_categories sorts unordered categories alphabetically: 一般 before 非常不满意)."""
    from survey import Questionnaire, clean as _clean

    scale = {1: "非常不满意", 2: "不太满意", 3: "一般", 4: "比较满意", 5: "非常满意"}
    q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "sat", "text": "满意度", "type": "single", "options": scale}]})
    cats = [*scale.values(), "不知道", "拒答"]
    f = pd.DataFrame({"rid": ["1", "2", "3", "4"],
                      "sat": pd.Categorical(["一般", "不知道", "非常满意", "拒答"], categories=cats)})
    r = _clean(f, q, rules={"duplicate_answers": False})
    assert list(r.data["sat"].cat.categories) == list(scale.values())
    assert r.data["sat"].tolist()[0] == "一般" and pd.isna(r.data["sat"].tolist()[1])


# ---------------------------------------------------------------------------------------------
# the rule registry: rules declared once; DEFAULT_RULES and the orders follow
# ---------------------------------------------------------------------------------------------
def _toy_registry():
    from survey.clean.registry import Param, RuleRegistry, number
    reg = RuleRegistry()
    # declared out of phase order on purpose: the run order is phase first, then declaration
    @reg.declare("late", phase="respondent", action="flag", logs="l", gap=Param(0.5, number))
    def late(eng, st):
        pass

    @reg.declare("early", phase="cell", action="blank", logs="e", cap=Param(3, number))
    def early(eng, st):
        pass

    @reg.declare("listed", phase="cell", logs="c", parse=lambda v, q, w: list(v), default=[])
    def listed_cells(eng, st):
        pass

    @reg.declare("dup", phase="duplicate", action="drop", logs="d")
    def dup(eng, st):
        pass

    @reg.also("listed", phase="respondent")
    def listed_drops(eng, st):
        pass
    return reg


def test_registry_orders_follow_the_declarations():
    reg = _toy_registry()
    assert [(s.name, s.phase) for s in reg.steps()] == [
        ("early", "cell"), ("listed", "cell"), ("dup", "duplicate"), ("late", "respondent"),
        ("listed", "respondent")]
    # a rule is reported where its last step runs; list-configured rules are not in defaults
    assert reg.names() == ["early", "dup", "late", "listed"]
    assert reg.defaults() == {"early": {"enabled": True, "action": "blank", "cap": 3},
                              "dup": {"enabled": True, "action": "drop"},
                              "late": {"enabled": True, "action": "flag", "gap": 0.5}}
    assert reg.phases_of("listed") == ("cell", "respondent")


def test_default_rules_follow_the_declared_rules():
    from survey.clean import RULES
    from survey.clean.registry import PHASES
    run = [(s.name, s.phase) for s in RULES.steps()]
    # phases run in order, and each rule's declaration says which
    assert [p for _, p in run] == sorted((p for _, p in run), key=PHASES.index)
    reported = RULES.names()
    assert list(DEFAULT_RULES) == [n for n in reported if n != "checks"]
    assert reported[-1] == "checks"  # its drop step runs last, after every respondent rule
    for name, st in DEFAULT_RULES.items():
        rule = RULES[name]
        assert st == rule.defaults() and st["action"] == rule.action
        assert rule.logs  # every rule says what it logs
    # the summary lists the rules in the same order (then the total)
    one = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
        {"id": "a", "text": "A", "type": "numeric"}]})
    assert list(clean(pd.DataFrame({"rid": ["1"], "a": [1.0]}), one).summary().index) == [
        *reported, "total"]


def test_registry_refuses_undeclared_rules(q, dirty):
    from survey.clean import RULES
    known = RULES.names()
    with pytest.raises(CleaningError) as e:
        RULES["speeding"]
    assert "'speeding'" in str(e.value) and all(n in str(e.value) for n in known)
    with pytest.raises(CleaningError) as e:
        clean(dirty[0], q, rules={"speeding": {"enabled": False}})
    assert "unknown cleaning rule 'speeding'" in str(e.value)
    assert all(n in str(e.value) for n in known)
    reg = RULES.copy()
    with pytest.raises(CleaningError, match=r"'nope'.*valid rules: missing_codes"):
        reg.also("nope", phase="respondent")
    with pytest.raises(CleaningError, match="declared twice"):
        reg.declare("speeders", phase="respondent", action="drop", logs="x")
    with pytest.raises(CleaningError, match=r"phase 'rows' is not one of"):
        reg.declare("new", phase="rows", action="drop", logs="x")
    with pytest.raises(CleaningError, match=r"default action 'drop' is not one of"):
        reg.declare("new", phase="cell", action="drop", logs="x")
    with pytest.raises(CleaningError, match="already has a step in phase 'cell'"):
        reg.also("checks", phase="cell")


def test_a_new_rule_is_one_declaration_and_one_function(q, dirty):
    """Declared in a copy of the registry, a rule runs, is configurable, validated and logged."""
    from survey.clean import RULES
    from survey.clean.engine import Engine
    from survey.clean.registry import Param, number
    reg = RULES.copy()

    @reg.declare("long_week", phase="cell", action="blank", logs="one row per hours above max",
                 max_hours=Param(80, number))
    def long_week(eng, st):
        v = eng.num("hours")
        eng.blank("hours", v > st["max_hours"], "long_week", "out_of_range", "hours",
                  detail=f"> {st['max_hours']}", action=st["action"])

    assert reg.names().index("long_week") == reg.names().index("junk_text") + 1
    assert "long_week" not in RULES and "long_week" not in DEFAULT_RULES
    with pytest.raises(CleaningError, match=r"long_week\.max_hours: must be a non-negative"):
        reg.settings(q, {"long_week": {"max_hours": -1}}, "q")
    f = dirty[0].sort_values("rid").reset_index(drop=True)
    st = reg.settings(q, {"long_week": {"max_hours": 60}}, "q")
    eng = Engine(f.copy(), q, st, reg)
    eng.run()
    lg = eng.log_frame()
    hit = lg[lg["rule"] == "long_week"]
    expect = pd.to_numeric(f["hours"], errors="coerce")
    expect = set(f.loc[(expect > 60) & (expect <= 112), "rid"]) & set(eng.rid[eng.alive])
    assert set(hit["rid"]) == expect and len(expect) > 0
    assert (hit["action"] == "blank").all() and (hit["detail"] == "> 60").all()


RULE_NAMES = list(DEFAULT_RULES)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames(), hs.sets(hs.sampled_from(RULE_NAMES)), hs.sets(hs.sampled_from(RULE_NAMES)),
       hs.sampled_from(["blank", "flag", "drop"]))
def test_property_every_respondent_accounted_for(f, off, flagged, check_action):
    """For any subset of rules (and actions), every respondent in is kept or dropped, once."""
    from survey.clean import RULES
    q = Questionnaire.from_dict(QDICT)
    rules: dict = {r: False for r in off}
    rules.update({r: {"action": "flag"} for r in flagged - off})
    rules["checks"] = [{"name": "c", "when": "age < 30 and title == '正高'", "blank": ["title"],
                        "action": check_action}]
    r = clean(f, q, rules=rules)
    kept = r.data["rid"].value_counts()
    gone = r.dropped["rid"].value_counts()
    both = kept.add(gone, fill_value=0).sort_index()
    pd.testing.assert_series_equal(both.astype("int64"),
                                   f["rid"].astype(str).value_counts().sort_index(),
                                   check_names=False)
    assert r.n_raw == len(f) == r.n_clean + len(r.dropped)
    assert (r.log["action"] == "drop").sum() == len(r.dropped)
    assert set(r.dropped["rule"]) <= set(RULES.names()) - off - flagged
    assert int(r.summary().loc["total", "dropped"]) == len(r.dropped)


# ---- one missing-reason vocabulary: the reader's (survey.io.missing) -------------------------
def test_missing_code_labels_give_the_readers_reasons(tmp_path):
    """无法回答 / 不愿回答 are dont_know / refused for the reader and the cleaner alike (they were
    missing_code in the cleaner); the export is written with the csv module (问卷星 按序号)."""
    import csv

    from survey import read_export
    from survey.io.missing import reason_for_label

    codes = {97: "无法回答", 98: "不愿回答", 99: "不知道", 96: "不便透露"}
    q = Questionnaire.from_dict({"wave": {"id": "mc"}, "missing_codes": codes, "questions": [
        {"id": "sat", "text": "您对收入是否满意", "type": "single", "options": {1: "满意", 2: "不满意"}},
        {"id": "hours", "text": "每周工作小时", "type": "numeric", "range": [0, 90]}]})
    rows = [["序号", "1、您对收入是否满意", "2、每周工作小时"],
            ["1", "97", "40"], ["2", "98", "97"], ["3", "1", "98"], ["4", "99", "99"],
            ["5", "96", "96"], ["6", "2", "50"]]
    p = tmp_path / "mc.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    read = read_export(p, q, salt="s")
    res = clean(read, q, rules={"duplicate_answers": False})
    got = res.missing.set_index(["rid", "column"])["reason"].sort_index()
    expected = pd.Series({(r[0], col): reason_for_label(codes[int(v)])
                          for r in rows[1:] for col, v in zip(("sat", "hours"), r[1:])
                          if int(v) in codes}).sort_index()
    assert got.to_dict() == expected.to_dict()
    assert {"dont_know", "refused", "missing_code"} <= set(got)
    assert got[("1", "sat")] == "dont_know" and got[("2", "sat")] == "refused"
    # the reader said the same of every cell it saw as a missing code
    rd = read.missing.set_index(["rid", "column"])["reason"]
    assert all(rd[k] == v for k, v in got.items() if k in rd.index)
    assert res.data["sat"].isna().sum() == 4 and res.data["hours"].isna().sum() == 4


@pytest.mark.parametrize("mark", ["(跳过)", "（跳过）", "跳过", "( 跳过 )", "(空)", "（空）", "空"])
def test_text_marks_give_the_readers_reason(tmp_path, mark):
    """A 问卷星 text mark in a free-text question: the cleaner (given a frame) and the reader
    (given an export written with the csv module) agree on its reason."""
    import csv

    from survey import read_export
    q = Questionnaire.from_dict({"wave": {"id": "tm"}, "questions": [
        {"id": "sex", "text": "性别", "type": "single", "options": {1: "男", 2: "女"}},
        {"id": "note", "text": "您的建议", "type": "text"}]})
    p = tmp_path / "tm.csv"
    with open(p, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["序号", "1、性别", "2、您的建议"], ["1", "男", mark],
                                  ["2", "女", "多开展学术交流"]])
    reader = read_export(p, q, salt="s").missing
    frame = pd.DataFrame({"rid": ["1", "2"], "sex": pd.Categorical(["男", "女"]),
                          "note": pd.Series([mark, "多开展学术交流"], dtype="str")})
    res = clean(frame, q, rules={"duplicate_answers": False})
    assert res.data["note"].isna().tolist() == [True, False]
    assert res.missing["reason"].tolist() == reader["reason"].tolist()
    assert len(reader) == 1
