"""Step 3: build the questions (:class:`Builder`): type, options, rows, missing codes, PII, skips;
ids, and the pairing of a 按序号 with a 按文本 export."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ReadError
from ._common import (DEFAULT_MISSING, DURATION_WORDING, DUR_RE, ID_RE, NONE_OPTION,
                      NUMERIC_WORDING, OTHER_WORD, RESERVED, ROW_RE, SENSITIVE, SKIP, WJX_MARKERS,
                      clean_text, meta_header_names, norm)
from .model import DraftQuestion
from .read import Group, Part, Table, group_headers
from .values import (as_number, code_gaps, column_values, is_graded, is_int, label_of,
                     numeric_column, pair_map, pii_by_values, pii_kind_of, split_missing, unit_of)

__all__ = ["Builder", "align_rows", "infer_skips", "question_id"]


# ---------------------------------------------------------------------------------------------
# building questions
# ---------------------------------------------------------------------------------------------
class Builder:
    def __init__(self, t: Table, text: Table | None, rows_code: np.ndarray | None,
                 rows_text: np.ndarray | None) -> None:
        self.t = t
        self.tx = text
        self.rc = rows_code     # aligned row indices into t / tx
        self.rt = rows_text
        self.text_groups: dict[Any, Group] = {}
        if text is not None:
            tg, _ = group_headers(text)
            for g in tg:
                self.text_groups[g.number if g.number is not None else norm(g.text)] = g
        self.single_other_codes: list[int] = []

    # --- column access --------------------------------------------------------------------
    def col(self, j: int) -> np.ndarray:
        c = self.t.cols[j]
        return c if self.rc is None else c[self.rc]

    def tcol(self, j: int) -> np.ndarray:
        assert self.tx is not None
        c = self.tx.cols[j]
        return c if self.rt is None else c[self.rt]

    def text_group(self, g: Group) -> Group | None:
        if not self.text_groups:
            return None
        return self.text_groups.get(g.number if g.number is not None else norm(g.text))

    def vlabels(self, j: int) -> dict[int, str] | None:
        return self.t.value_labels[j] if self.t.value_labels else None

    def umissing(self, j: int) -> list[float]:
        return self.t.user_missing[j] if self.t.user_missing else []

    # --- per group --------------------------------------------------------------------------
    def build(self, g: Group, qid: str) -> DraftQuestion:
        q = DraftQuestion(id=qid, text=clean_text(g.text) or qid, type="text", number=g.number)
        q.columns = [self.t.headers[p.col] for p in g.parts]
        if g.kind == "options":
            self._options(g, q)
            if q.text == f"第{g.number}题":
                q.todo.append("导出的列名只有“第N题(选项)”，没有题干；请填写 text（并在 source: 写明列名）")
        elif g.kind == "matrix":
            self._matrix(g, q)
        else:
            self._plain(g, q)
        self._pii(g, q)
        for rx, kind in SENSITIVE:
            if rx.search(q.text) and not q.pii:
                q.sensitive = kind
                q.todo.append(f"题干提到健康等敏感信息，猜测 sensitive: {kind}；不是则删去")
        return q

    def _other_part(self, g: Group) -> Part | None:
        return next((p for p in g.parts if p.role == "other"), None)

    def _plain(self, g: Group, q: DraftQuestion) -> None:
        p = g.parts[0]
        j = p.col
        t = self.t
        is_date = bool(t.is_date[j]) if t.is_date else False
        v = column_values(self.col(j), is_date)
        vl = self.vlabels(j)
        um = self.umissing(j)
        tg = self.text_group(g)
        # source: the SPSS variable name, or the exact 问卷星 header — except when a
        # "please specify" column follows: the reader finds that one through the question
        # number, which only text matching (not an explicit source) records
        if t.kind == "sav" and p.name:
            q.source = [p.name]
        elif self._other_part(g) is None:
            q.source = [t.headers[j]]
        pii_word = pii_kind_of(q.text)
        answered = v.answered
        if answered and v.dates >= 0.9 * answered:
            q.type = "date"
            return
        if vl:  # SPSS value labels: a single-choice question
            labels = {c: l for c, l in vl.items()}
            miss = {c: labels[c] for c in labels if float(c) in um}
            opts = {c: l for c, l in labels.items() if c not in miss}
            opts, miss2 = split_missing(opts) if not um else (opts, {})
            miss.update(miss2)
            self._single(q, g, opts, miss, sav=True, seen=[int(x) for x in v.nums if is_int(x)])
            return
        if v.strs:
            n_str = sum(v.strs.values())
            if all(DUR_RE.match(s) and s for s in v.strs) and n_str >= 0.9 * answered:
                q.type = "duration"
                return
            if t.layout == "text" or (t.kind == "csv" and self.tx is None and not v.nums):
                # 按文本 alone: labels or free text?
                n_str = sum(v.strs.values())
                if (pii_word or len(v.strs) > 30 or np.mean([len(s) for s in v.strs]) > 25
                        or (n_str >= 10 and len(v.strs) > 0.5 * n_str)):
                    q.type = "text"
                    return
                labs = [(label_of(s) or s) for s in sorted(v.strs, key=lambda s: -v.strs[s])]
                labs = list(dict.fromkeys(labs))
                opts = {i + 1: lab for i, lab in enumerate(labs)}
                opts, miss = split_missing(opts)
                q.todo.append("只有按文本导出：选项编码按出现频次排列，并非问卷的编码；请按问卷改正编码")
                self._single(q, g, opts, miss, sav=False, seen=list(opts))
                return
            q.type = "text"
            return
        if not v.nums:
            q.type = "text"
            q.todo.append("此列没有任何回答，题型无法判断；按问卷填写")
            return
        # numbers only
        nums = v.nums
        if tg is not None and self.tx is not None:
            tp = tg.parts[0]
            pm = pair_map(self.col(j), self.tcol(tp.col))
            labelled = {c: labs for c, labs in pm.items() if any(as_number(l) is None for l in labs)}
            tv = column_values(self.tcol(tp.col))
            if tv.strs and all(DUR_RE.match(s) for s in tv.strs):
                q.type = "duration"
                q.hints.append("按文本导出为“X分Y秒”，按序号导出为秒数")
                return
            if labelled:
                labels: dict[int, str] = {}
                for c in sorted(labelled):
                    labs = sorted(l for l in labelled[c] if as_number(l) is None)
                    labels[c] = labs[0]
                    if len(labs) > 1:
                        q.todo.append(f"编码 {c} 在按文本导出中对应多个标签 {labs}；取了第一个")
                unl = sorted(c for c in pm if c not in labelled and c >= 0)
                if unl:
                    q.todo.append(f"编码 {unl} 在按文本导出中没有标签；请核对")
                opts, miss = split_missing(labels)
                self._single(q, g, opts, miss, sav=False, seen=list(labels))
                return
            # numbers in both exports: a numeric question
            self._numeric(q, nums, um)
            return
        ints = all(is_int(x) for x in nums)
        pos = sorted(int(x) for x in nums if x >= 0) if ints else []
        if DURATION_WORDING.search(q.text) and not pii_word:
            q.type = "duration"
            q.todo.append("题干问“多长时间”，数值按时长（秒）处理；若单位是分钟/小时且应作普通数值，改为 numeric")
            return
        if (t.kind != "sav" and ints and pos and min(pos) >= 1 and len(pos) <= 12 and max(pos) < 10 ** 5
                and not NUMERIC_WORDING.search(q.text)):
            codes = pos
            main_codes = [c for c in codes if c < 90] or codes
            miss = {c: DEFAULT_MISSING.get(c, f"缺失码{c}") for c in codes
                    if c >= 90 and len(main_codes) >= 2 and c > max(main_codes) + 1}
            opts = {c: f"选项{c}" for c in codes if c not in miss}
            q.todo.append("只有编码、没有标签（缺少按文本导出）：由取值少且为正整数推断为单选题；"
                          "请填写选项标签（若是数值题，改为 type: numeric）")
            if miss:
                q.todo.append(f"编码 {sorted(miss)} 远离其余编码，猜作缺失码；请核对")
            self._single(q, g, opts, miss, sav=False, seen=codes, labels_known=False)
            return
        self._numeric(q, nums, um)
        if (t.kind != "sav" and self.tx is None and ints and not NUMERIC_WORDING.search(q.text)
                and len(nums) <= 200):
            q.todo.append("整数取值、题干未问数量：也可能是单选题的编码（缺少按文本导出，无法确认）；"
                          "若是单选题，改为 type: single 并写出 options")

    def _numeric(self, q: DraftQuestion, nums: dict[float, int], um: list[float]) -> None:
        q.type = "numeric"
        vals = np.array([x for x in nums if x not in um and x not in (-2.0, -3.0)], dtype=float)
        q.integer = bool(len(vals) and all(is_int(x) for x in vals))
        q.unit = unit_of(q.text)
        neg = sorted(int(x) for x in nums if x < 0 and is_int(x))
        if um:
            q.missing_codes = {int(x): "拒答" if x == -1 else f"缺失码{int(x)}" for x in um if is_int(x)}
            if not q.missing_codes:
                q.missing_codes = {}
            else:
                q.hints.append(f"缺失码取自 SPSS 用户缺失值 {sorted(q.missing_codes)}；核对标签")
        elif neg and len(vals) and vals.min() < 0 and (vals >= 0).mean() > 0.95:
            q.missing_codes = {c: WJX_MARKERS.get(c, f"缺失码{c}") for c in neg}
            q.todo.append(f"负值 {neg} 猜作缺失码；请核对")
        else:
            q.missing_codes = {}   # 98/99 may be real values (hours, days): no default missing codes
        if len(vals):
            lo, hi = np.quantile(vals, [0.01, 0.99])
            q.hints.append(f"观测值 {vals.min():.4g}–{vals.max():.4g}（1%–99% 分位 {lo:.4g}–{hi:.4g}）；"
                           "可加 range: [下限, 上限] 供清理检查越界值")

    def _single(self, q: DraftQuestion, g: Group, opts: dict[int, str], miss: dict[int, str], *,
                sav: bool, seen: list[int], labels_known: bool = True) -> None:
        q.type = "single"
        opts = _dedupe_labels(opts, q)
        if not opts:
            opts = {1: "选项1"}
            q.todo.append("没有观测到任何答案编码；请按问卷填写选项")
        q.options = opts
        if miss:
            q.missing_codes = dict(miss) if miss != DEFAULT_MISSING else None
        elif sav:
            q.missing_codes = {}
        if q.missing_codes is None and any(c in opts for c in DEFAULT_MISSING):
            q.missing_codes = {}
        if q.missing_codes is None and set(DEFAULT_MISSING.values()) & set(opts.values()):
            q.missing_codes = {}
        if not sav:
            gp = code_gaps(list(opts))
            if gp and len(gp) <= 20:
                q.todo.append(f"编码 {gp} 在数据中没有出现，可能有无人选择的选项；请按问卷补全")
        # "please specify"
        op = self._other_part(g)
        oc = [c for c, l in opts.items() if OTHER_WORD.search(l)]
        if op is not None or (labels_known and oc and self._inline_other(g)):
            code = None
            if len(oc) == 1:
                code = oc[0]
            elif op is not None:
                o = pd.Series(self.col(op.col), dtype=object)
                has = o.notna() & (o.astype(str).str.strip() != "")
                cs = pd.Series(self.col(g.parts[0].col), dtype=object)[has.to_numpy()]
                cand = sorted({int(f) for f in (as_number(x) for x in cs.unique()) if f is not None and is_int(f)})
                if len(cand) == 1 and cand[0] in opts:
                    code = cand[0]
            if code is not None:
                q.other = code
                self.single_other_codes.append(code)
            elif op is not None:
                q.todo.append("有“其他（请注明）”文字列，但找不到对应选项；请设 other: 编码")

    def _inline_other(self, g: Group) -> bool:
        tg = self.text_group(g)
        if tg is None or self.tx is None:
            return False
        s = pd.Series(self.tcol(tg.parts[0].col), dtype=object).dropna().astype(str)
        return bool(s.str.contains("〖", regex=False).any())

    def _options(self, g: Group, q: DraftQuestion) -> None:
        opts_parts = [p for p in g.parts if p.role == "option"]
        others = [p for p in g.parts if p.role == "other"]
        # an "option" column holding text is the "please specify" column
        real: list[Part] = []
        for p in opts_parts:
            v = column_values(self.col(p.col))
            if v.strs and not v.nums and OTHER_WORD.search(p.label):
                p.role = "other"
                others.append(p)
            else:
                real.append(p)
        vals = [column_values(self.col(p.col)) for p in real]
        allnums = set().union(*[set(v.nums) for v in vals]) if vals else set()
        # 问卷星 writes -2 for an option left out of a ranking; a multi-select block holds 0/1
        rank = (-2.0 in allnums) or any(x > 1 for x in allnums)
        q.type = "rank" if rank else "multi"
        # codes: SPSS variable names stem_<code>, else position
        stems = [re.match(r"^(.*?)_?(\d+)$", p.name or "") for p in real]
        named = self.t.kind == "sav" and all(stems) and len({m.group(1) for m in stems}) == 1 and \
            len({int(m.group(2)) for m in stems}) == len(stems)
        labels = [p.label.strip() or f"选项{i + 1}" for i, p in enumerate(real)]
        if named:
            codes = [int(m.group(2)) for m in stems]
        else:
            codes = list(range(1, len(real) + 1))
        q.options = _dedupe_labels(dict(zip(codes, labels)), q)
        if not named:
            q.todo.append("多选/排序题的选项编码在按序号导出中没有，按列顺序编为 1..k；请按问卷核对编码")
        oc = [c for c, l in q.options.items() if OTHER_WORD.search(l)]
        if len(oc) == 1 and (others or self._inline_other(g)):
            q.other = oc[0]
        elif others and not oc:
            q.todo.append("有“其他（请注明）”文字列，但选项里没有“其他”；请核对")
        # data-driven details
        mat = (np.column_stack([numeric_column(self.col(p.col)) for p in real]) if real
               else np.zeros((len(self.col(g.parts[0].col)), 0)))
        if q.type == "rank":
            ranks = np.where(mat > 0, mat, np.nan)
            if np.isfinite(ranks).any():
                k = int(np.nanmax(ranks))
                q.k = max(1, min(k, len(q.options)))
        else:
            chosen = mat == 1
            answered = np.isfinite(mat).all(axis=1) & (mat >= 0).all(axis=1)
            per = chosen[answered].sum(axis=1)
            m = re.search(r"最多(?:选)?([一二三四五六七八九十\d]+)(?:项|个)", q.text)
            if m:
                q.max_choices = min(_cn_int(m.group(1)), len(q.options))
                if len(per) and per.max() > q.max_choices:
                    q.hints.append(f"有答卷选了 {int(per.max())} 项，超过 max_choices（清理会标出）")
            cl = list(q.options)
            for i, c in enumerate(cl):
                if NONE_OPTION.search(q.options[c]) and answered.any():
                    alone = chosen[answered][:, i] & (per == 1)
                    if chosen[answered][:, i].sum() and alone.sum() >= 0.95 * chosen[answered][:, i].sum():
                        q.exclusive.append(c)
        if q.type == "rank" and "最多" in q.text:
            m = re.search(r"最多(?:选)?([一二三四五六七八九十\d]+)(?:项|个)", q.text)
            if m and q.k is not None and _cn_int(m.group(1)) != q.k:
                q.todo.append(f"题干说最多 {_cn_int(m.group(1))} 项，数据中最大名次为 {q.k}；请核对 k")

    def _matrix(self, g: Group, q: DraftQuestion) -> None:
        rows = [p for p in g.parts if p.role == "row"]
        t = self.t
        stems = [re.match(r"^(.*?)_([A-Za-z0-9]+)$", p.name or "") for p in rows]
        named = t.kind == "sav" and all(stems) and len({m.group(1) for m in stems}) == 1 and \
            all(ROW_RE.match(m.group(2)) for m in stems)
        rids = [m.group(2) for m in stems] if named else [f"r{i + 1}" for i in range(len(rows))]
        rtexts: dict[str, str] = {}
        for rid, p in zip(rids, rows):
            lab = clean_text(p.label) or rid
            while lab in rtexts.values():
                lab += "（重复）"
                if "行文字重复；已加“（重复）”，请核对" not in q.todo:
                    q.todo.append("行文字重复；已加“（重复）”，请核对")
            rtexts[rid] = lab
        q.rows = rtexts
        scale: dict[int, str] = {}
        miss: dict[int, str] = {}
        known = True
        if t.value_labels:
            sets = [tuple(sorted((self.vlabels(p.col) or {}).items())) for p in rows]
            if len(set(sets)) > 1:
                q.todo.append("各行的值标签不一致；取了第一行的，请核对")
            labels = dict(sets[0]) if sets and sets[0] else {}
            um = set(self.umissing(rows[0].col))
            miss = {c: l for c, l in labels.items() if float(c) in um}
            scale = {c: l for c, l in labels.items() if c not in miss}
            if not um:
                scale, miss = split_missing(scale)
            if not labels:
                known = False
        else:
            tg = self.text_group(g)
            tparts = [p for p in tg.parts if p.role in ("row", "value")] if tg is not None else []
            pm: dict[int, set[str]] = {}
            if tg is not None and len(tparts) == len(rows):
                for p, tp in zip(rows, tparts):
                    for c, labs in pair_map(self.col(p.col), self.tcol(tp.col)).items():
                        pm.setdefault(c, set()).update(labs)
            labelled = {c: sorted(l for l in labs if as_number(l) is None) for c, labs in pm.items()}
            labelled = {c: l for c, l in labelled.items() if l}
            if labelled:
                for c in sorted(labelled):
                    scale[c] = labelled[c][0]
                    if len(labelled[c]) > 1:
                        q.todo.append(f"刻度编码 {c} 对应多个标签 {labelled[c]}；取了第一个")
                scale, miss = split_missing(scale)
            elif tg is not None and len(tparts) != len(rows):
                q.todo.append("按文本导出中此题的行数与按序号导出不同，未能配对刻度标签")
            if not scale:
                known = False
                codes = sorted({int(x) for p in rows for x in column_values(self.col(p.col)).nums
                                if is_int(x) and x >= 0})
                main_codes = [c for c in codes if c < 90] or codes
                miss = {c: DEFAULT_MISSING.get(c, f"缺失码{c}") for c in codes
                        if c >= 90 and c > max(main_codes) + 1}
                scale = {c: f"等级{c}" for c in codes if c not in miss} or {1: "等级1"}
                q.todo.append("只有编码、没有刻度标签（缺少按文本导出）；请填写 scale 标签，并判断是否为 likert")
            gp = code_gaps(list(scale))
            if gp and known:
                q.todo.append(f"刻度编码 {gp} 在数据中没有出现；请按问卷补全")
        q.scale = _dedupe_labels(scale, q)
        q.type = "likert" if known and is_graded(list(q.scale.values())) else "matrix"
        if miss and miss != DEFAULT_MISSING:
            q.missing_codes = dict(miss)
        elif not miss and t.kind == "sav":
            q.missing_codes = {}
        if q.type == "likert":
            q.hints.append("若有反向计分的行，列在 reversed: [行id]")

    def _pii(self, g: Group, q: DraftQuestion) -> None:
        kind = pii_kind_of(q.text)
        if q.type in ("single", "multi", "rank", "matrix", "likert"):
            if kind:
                q.hints.append(f"题干含“{kind}”类词语，但这是选择题，未标为 PII")
            return
        vkind = None
        if q.type in ("text", "numeric"):
            v = column_values(self.col(g.parts[0].col))
            vkind = pii_by_values(v)
            if q.type == "numeric" and kind and not vkind and v.nums and \
                    np.median(np.abs(list(v.nums))) < 1e5:
                q.hints.append(f"题干含“{kind}”类词语，但取值是普通数值，未标为 PII")
                return
        if kind or vkind:
            q.pii = True
            q.pii_kind = kind or vkind
            if q.type == "numeric":
                q.type, q.unit, q.integer, q.missing_codes = "text", None, None, None
                q.hints = [h for h in q.hints if not h.startswith("观测值")]
                q.hints.append("取值是长数字（手机号/证件号等）；按文本读取")
            if not kind:
                q.todo.append(f"题干未提及身份信息，但取值大多像 {vkind}；猜作 PII，请核对")
        elif q.type == "text":
            q.pii = False


def infer_skips(b: Builder, groups: list[Group], questions: list[DraftQuestion]) -> None:
    """``ask_if`` from the skip pattern: a question skipped exactly for some codes of an earlier
    single-choice question (问卷星's ``(跳过)``/``-3``; in SPSS files, where a skip is a blank, a
    question blank exactly for those codes).  Up to 2% of answers may break the rule (dirty
    data: the cleaning step reports them)."""
    n = len(b.col(groups[0].parts[0].col)) if groups else 0
    if n == 0:
        return
    singles: list[tuple[DraftQuestion, np.ndarray]] = []
    sav = b.t.kind == "sav"
    for g, q in zip(groups, questions):
        cols = [p.col for p in g.parts if p.role != "other"]
        if q.pii or not cols:
            continue
        skip = np.ones(n, dtype=bool)
        for j in cols:
            v = pd.Series(b.col(j), dtype=object)
            s_ = v.astype(str).str.strip().isin(list(SKIP)).to_numpy(dtype=bool)
            s_ = s_ | (numeric_column(b.col(j)) == -3)
            if sav:
                s_ = s_ | v.isna().to_numpy()
            skip &= s_
        k = int(skip.sum())
        if 0 < k < n and (not sav or k >= 0.05 * n):
            best = None
            for sq, codes in reversed(singles):
                ok = codes >= 0
                if ok.sum() < 0.9 * n:
                    continue
                cs = codes[ok].astype(np.int64)
                sk = skip[ok]
                uniq, inv = np.unique(cs, return_inverse=True)
                tot = np.bincount(inv)
                sk_n = np.bincount(inv, weights=sk.astype(float))
                share = sk_n / tot
                asked = uniq[share <= 0.5]
                if len(asked) == 0 or len(asked) == len(uniq):
                    continue
                bad = (sk_n[share <= 0.5].sum() + (tot - sk_n)[share > 0.5].sum()) / tot.sum()
                if bad <= 0.02 and (best is None or bad < best[0]):
                    best = (bad, sq.id, [int(c) for c in asked if int(c) in sq.options])
            if best is not None and best[2]:
                _, sid, asked = best
                q.ask_if = f"{sid} == {asked[0]}" if len(asked) == 1 else f"{sid} in {asked}"
                q.todo.append(f"ask_if 由跳题模式推断（{'空白' if sav else '(跳过)'}只出现在 {sid} 取其他值的答卷上）；"
                            "请按问卷的跳题逻辑核对")
        if q.type == "single" and len(g.parts) >= 1:
            codes = numeric_column(b.col(g.parts[0].col))
            miss = set(q.missing_codes or {}) | set(
                c for c in (b.t.user_missing[g.parts[0].col] if b.t.user_missing else []))
            codes = np.where(np.isnan(codes) | np.isin(codes, list(miss)), -1, codes)
            singles.append((q, codes))


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    d = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
    if s.startswith("十"):
        return 10 + d.get(s[1:], 0) if len(s) > 1 else 10
    if "十" in s:
        a, b = s.split("十", 1)
        return d.get(a, 1) * 10 + d.get(b, 0)
    return d.get(s, 1)


def _dedupe_labels(m: dict[int, str], q: DraftQuestion) -> dict[int, str]:
    out: dict[int, str] = {}
    for c, lab in m.items():
        lab = clean_text(lab) or f"选项{c}"
        base = lab
        while lab in out.values():
            lab = f"{base}（{c}）"
        if lab != base:
            q.todo.append(f"标签“{base}”出现在多个编码上；已改为“{lab}”，请核对")
        out[c] = lab
    return out


# ---------------------------------------------------------------------------------------------
# ids, pairing, wave block
# ---------------------------------------------------------------------------------------------
def question_id(g: Group, t: Table, used: set[str]) -> str:
    cand = None
    names = [p.name for p in g.parts if p.name and p.role != "other"]
    if t.kind == "sav" and names:
        if g.kind == "plain":
            cand = names[0]
        else:
            pat = r"^(.*?)_?(\d+)$" if g.kind == "options" else r"^(.*?)_([A-Za-z0-9]+)$"
            ms = [m for m in (re.match(pat, n) for n in names) if m]
            if ms and len({m.group(1) for m in ms}) == 1:
                cand = ms[0].group(1)
        if cand is not None:
            cand = cand.lower()
            if not ID_RE.match(cand):
                cand = None
    if cand is None:
        cand = f"q{g.number}" if g.number is not None else None
    if cand is None:
        h = norm(g.text).lower()
        cand = h if ID_RE.match(h) else "col"
    if cand in RESERVED:
        cand = f"{cand}_q"
    base, i = cand, 2
    while cand in used:
        cand = f"{base}_{i}"
        i += 1
    used.add(cand)
    return cand


def align_rows(code: Table, text: Table) -> tuple[np.ndarray | None, np.ndarray | None]:
    meta_names = meta_header_names()

    def rid_col(t: Table) -> np.ndarray | None:
        for j, h in enumerate(t.headers):
            if meta_names.get(norm(h)) == "rid":
                return pd.Series(t.cols[j], dtype=object).astype(str).str.strip().to_numpy()
        return None

    a, b = rid_col(code), rid_col(text)
    n_a = len(code.cols[0]) if code.cols else 0
    n_b = len(text.cols[0]) if text.cols else 0
    if a is not None and b is not None:
        sa = pd.Series(np.arange(len(a)), index=a)
        sb = pd.Series(np.arange(len(b)), index=b)
        if sa.index.is_unique and sb.index.is_unique:
            common = sa.index.intersection(sb.index, sort=False)
            if len(common) == 0:
                raise ReadError(f"{text.file}: no 序号 in common with {code.file}; the 按文本 and "
                                "按序号 exports must hold the same answers (download both again)")
            return sa[common].to_numpy(), sb[common].to_numpy()
    if n_a != n_b:
        raise ReadError(f"{text.file} has {n_b} rows but {code.file} has {n_a}, and 序号 cannot pair "
                        "them; download both exports of the same answers")
    return None, None


