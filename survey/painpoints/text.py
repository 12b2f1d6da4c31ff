"""Open "其他/建议" answers: jieba segmentation, keyword lexicon, themes, anonymised quotes.

The domain user dictionary (``userdict.txt``) and stop words (``stopwords.txt``) ship
with the package; the keyword lexicon lives in the questionnaire folder
(``questionnaires/<wave>/painpoint_lexicon.yml``) so analysts edit keywords without code.
Texts are scrubbed of personal data (:func:`survey.privacy.scrub_text`; phones, IPs, e-mails,
ID numbers, chat ids, names) *before* anything else; the placeholder
:data:`survey.privacy.REDACTED` is no word (the tokenizer skips it).  Quotes are only shown for
categories with at least ``min_cell`` texts, and never a text that had personal data removed or
still looks personal (:func:`survey.privacy.looks_personal`).
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import ParameterError, QuestionnaireError

__all__ = ["Lexicon", "load_lexicon", "segment", "classify", "open_text", "stopwords",
           "near_duplicate", "QUOTE_SIMILARITY"]


@dataclass(frozen=True)
class Lexicon:
    """Keyword lexicon: category code -> (label, keywords), plus pairing metadata."""

    question: str
    text_question: str | None
    categories: dict[Any, tuple[str, tuple[str, ...]]]
    severity: dict[str, Any]
    pairs: dict[Any, tuple[str, list[Any]]]
    path: str = ""

    @property
    def labels(self) -> dict[Any, str]:
        return {c: lab for c, (lab, _) in self.categories.items()}


def load_lexicon(path: str | Path, questionnaire: Any = None) -> Lexicon:
    """Read ``painpoint_lexicon.yml`` (a file, or the questionnaire folder holding it).

    Labels are checked against the questionnaire's option labels when one is given.

    Examples
    --------
    >>> from pathlib import Path
    >>> lx = load_lexicon(Path("questionnaires/demo-2024"))   # doctest: +SKIP
    >>> lx.labels[2]                                          # doctest: +SKIP
    '住房困难'
    """
    from .._yaml import read_yaml

    p, raw, _ = read_yaml(path, error=QuestionnaireError, what="pain-point lexicon",
                          default_name="painpoint_lexicon.yml",
                          hint="put painpoint_lexicon.yml in the questionnaire folder "
                               "(see questionnaires/demo-2024/)")
    for key in ("question", "categories"):
        if key not in raw:
            raise QuestionnaireError(f"{p}: missing top-level key {key!r}")
    cats: dict[Any, tuple[str, tuple[str, ...]]] = {}
    for code, spec in raw["categories"].items():
        if not isinstance(spec, Mapping) or "label" not in spec or not spec.get("keywords"):
            raise QuestionnaireError(f"{p}: category {code!r} needs a label and a keywords list")
        cats[code] = (str(spec["label"]), tuple(str(k) for k in spec["keywords"]))
    if questionnaire is not None and raw["question"] in questionnaire:
        lab = questionnaire.labels(raw["question"])
        bad = [(c, L) for c, (L, _) in cats.items() if lab.get(c) != L]
        if bad:
            raise QuestionnaireError(f"{p}: categories {bad} do not match the options of "
                                     f"{raw['question']!r} in the questionnaire ({lab}); fix the labels")
    pairs = {c: (str(v[0]), list(v[1])) for c, v in (raw.get("pairs") or {}).items()}
    tq = raw.get("text_question")
    if tq is None and questionnaire is not None and raw["question"] in questionnaire:
        # default: the one non-PII free-text question of the pain-point question's module
        mod = questionnaire[raw["question"]].module
        cand = [x.id for x in questionnaire if x.type == "text" and not x.pii and x.module == mod]
        tq = cand[0] if len(cand) == 1 else None
    return Lexicon(str(raw["question"]), None if tq is None else str(tq), cats,
                   dict(raw.get("severity") or {}), pairs, str(p))


def _resource(name: str) -> str:
    return str(resources.files("survey.painpoints").joinpath(name))


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The shipped stop-word list.

    Examples
    --------
    >>> "希望" in stopwords()
    True
    """
    txt = Path(_resource("stopwords.txt")).read_text(encoding="utf-8")
    return frozenset(w.strip() for w in txt.splitlines() if w.strip())


@lru_cache(maxsize=1)
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.load_userdict(_resource("userdict.txt"))
    return tk


def segment(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """jieba tokens of one text with the domain dictionary (stop words, punctuation and any
    clause holding the personal-data placeholder :data:`survey.privacy.REDACTED` dropped).

    Examples
    --------
    >>> segment("报销流程太繁琐，建议推行无纸化报销")[:2]
    ['报销流程', '繁琐']
    >>> segment("食堂太差，有需要可以打我电话［已删除］。")
    ['食堂', '差']
    """
    from ..privacy import REDACTED

    # a clause that carried personal data ("有需要可以打我电话［已删除］") is contact detail,
    # not a pain point: it is left out with the placeholder, so 电话/打 never become "themes"
    text = re.sub(rf"[^，。；！？,;!?\n]*{re.escape(REDACTED)}[^，。；！？,;!?\n]*", " ", str(text))
    toks = [t.strip() for t in _tokenizer().lcut(text)]
    sw = stopwords() if drop_stopwords else frozenset()
    return [t for t in toks if t and t not in sw and not re.fullmatch(r"[\W_\d]+", t)]


def classify(texts: pd.Series, lexicon: Lexicon) -> pd.DataFrame:
    """Keyword hits per category for each text (rows = texts, columns = category codes).

    Returns
    -------
    DataFrame
        Integer hit counts (0 = no match), plus ``primary`` (code with most hits; NA if none)
        and ``tokens`` (the segmented text).

    Examples
    --------
    >>> lx = Lexicon("q", "t", {1: ("住房困难", ("住房", "租房")), 2: ("报销手续繁琐", ("报销",))}, {}, {})
    >>> classify(pd.Series(["希望解决租房难题", "报销太难", "没什么"]), lx)["primary"].tolist()
    [1, 2, <NA>]
    """
    s = texts.astype("str")
    uniq = pd.unique(s.dropna())
    codes = list(lexicon.categories)
    hits = np.zeros((len(uniq), len(codes)), dtype=np.int64)
    toks_u = []
    for i, t in enumerate(uniq):
        toks = segment(t)
        toks_u.append(toks)
        tc = Counter(toks)
        for j, c in enumerate(codes):
            for kw in lexicon.categories[c][1]:
                hits[i, j] += tc.get(kw, 0) or (1 if (len(kw) >= 2 and kw in t) else 0)
    idx = pd.Index(uniq)
    pos = idx.get_indexer(s.fillna("\x00"))
    H = np.zeros((len(s), len(codes)), dtype=np.int64)
    ok = pos >= 0
    H[ok] = hits[pos[ok]]
    out = pd.DataFrame(H, columns=codes, index=texts.index)
    best = np.argmax(H, axis=1)
    prim = pd.array([codes[b] if H[i, b] > 0 else pd.NA for i, b in enumerate(best)], dtype=object)
    out["primary"] = pd.Series(prim, index=texts.index, dtype=object)
    tok = np.empty(len(s), dtype=object)
    tok[:] = [toks_u[p] if p >= 0 else [] for p in pos]
    out["tokens"] = tok
    return out


def _anonymise(s: pd.Series) -> pd.Series:
    from ..privacy import scrub_text

    return scrub_text(s)  # idempotent on text read with survey.io; a frame from elsewhere too


def _quotable(s: pd.Series) -> np.ndarray:
    """Texts that may be quoted: nothing was removed from them and nothing still looks personal."""
    from ..privacy import REDACTED, looks_personal

    return (~s.str.contains(REDACTED, regex=False, na=True) & ~looks_personal(s)).to_numpy(bool)


#: two quotes are near-duplicates when their normalised texts (NFKC, letters and digits only,
#: lower case) are equal, one contains the other, or difflib's similarity ratio is at least
#: this (fixed before looking at any report's quotes: 0.8 means at most about one character in
#: five differs, e.g. "希望简化项目申报材料" / "希望简化项目申报材料！！" or one added word)
QUOTE_SIMILARITY = 0.8


def _norm_quote(text: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in t if ch.isalnum())


def near_duplicate(a: str, b: str, threshold: float = QUOTE_SIMILARITY) -> bool:
    """Whether two quotes say the same thing in nearly the same words (see :data:`QUOTE_SIMILARITY`).

    Examples
    --------
    >>> near_duplicate("希望简化项目申报材料", "希望简化项目申报材料！！")
    True
    >>> near_duplicate("希望简化项目申报材料。", "希望进一步简化项目申报材料")
    True
    >>> near_duplicate("建议增加青年基金的资助比例", "希望简化项目申报材料")
    False
    """
    from difflib import SequenceMatcher

    x, y = _norm_quote(a), _norm_quote(b)
    if not x or not y:
        return x == y
    if x == y or x in y or y in x:
        return True
    return SequenceMatcher(None, x, y, autojunk=False).ratio() >= threshold


def open_text(design: Any, lexicon: Lexicon, *, column: str | None = None, min_cell: int = 10,
              examples: int = 2, top_unmatched: int = 10, seed: int = 0,
              max_quote_chars: int = 60) -> dict[str, pd.DataFrame]:
    """Assign the open answers to the closed categories and summarise the rest.

    Parameters
    ----------
    design : SurveyDesign or DataFrame
        The answers (with a design, weighted shares among writers are given too).
    lexicon : Lexicon
    column : str, optional
        Text column (default ``lexicon.text_question``).
    min_cell : int
        Categories (and unmatched themes) with fewer texts are suppressed: their count shows as
        ``<min_cell`` and no quote is taken from them.
    examples : int
        Quotes per category (truncated to ``max_quote_chars``); a text from which personal
        data were removed, or that still looks personal, is never quoted, nor a near-duplicate
        (:func:`near_duplicate`) of a quote already taken.

    Returns
    -------
    dict of DataFrame
        ``themes`` (category, label, n_texts, pct_of_writers (weighted), suppressed),
        ``unmatched`` (frequent tokens among texts that fit no category, with counts;
        suppressed below ``min_cell``), ``quotes`` (label, quote), ``summary`` (n_writers,
        n_matched, n_unmatched).

    Examples
    --------
    >>> lx = Lexicon("q", "t", {1: ("住房困难", ("住房",))}, {}, {})
    >>> df = pd.DataFrame({"t": ["住房太贵"] * 12 + ["食堂太差"] * 3 + [None] * 5})
    >>> r = open_text(df, lx, column="t")
    >>> int(r["themes"]["n_texts"].iloc[0]), int(r["summary"]["n_unmatched"].iloc[0])
    (12, 3)
    """
    col = column or lexicon.text_question
    data = design.data if hasattr(design, "data") and hasattr(design, "weights") else design
    if col not in data.columns:
        raise ParameterError(f"open_text: text column {col!r} is not in the data")
    w = np.asarray(design.weights, float) if hasattr(design, "weights") else np.ones(len(data))
    raw = data[col].astype("str")
    has = raw.notna() & (raw.str.strip().str.len() > 0) & (w > 0)
    texts = _anonymise(raw[has])
    cl = classify(texts, lexicon)
    ww = w[has.to_numpy()]
    codes = list(lexicon.categories)
    n_writers = int(has.sum())
    rows = []
    for c in codes:
        m = (cl[c].to_numpy() > 0)
        n = int(m.sum())
        rows.append({"code": c, "label": lexicon.categories[c][0], "n_texts": n,
                     "pct_of_writers": float(ww[m].sum() / ww.sum()) if ww.sum() > 0 else np.nan,
                     "suppressed": 0 < n < min_cell})
    themes = pd.DataFrame(rows).sort_values("n_texts", ascending=False, kind="stable").reset_index(drop=True)
    themes.loc[themes["suppressed"], ["n_texts", "pct_of_writers"]] = np.nan
    unm = cl["primary"].isna().to_numpy()
    cnt = Counter(t for toks in cl.loc[unm, "tokens"] for t in set(toks))
    un = pd.DataFrame(cnt.most_common(top_unmatched), columns=["theme", "n_texts"])
    un["suppressed"] = un["n_texts"] < min_cell
    un = un[~un["suppressed"]].reset_index(drop=True)
    # quotes: only from categories that are not suppressed; deterministic choice
    rng = np.random.default_rng(seed)
    qrows = []
    prim = cl["primary"]
    tx = texts.to_numpy()
    quotable = _quotable(texts)
    taken: list[str] = []  # quotes already chosen (in any category): no near-duplicate pairs
    for c in codes:
        sel = np.flatnonzero(prim.map(lambda p, c=c: p is not pd.NA and p == c).to_numpy(dtype=bool))
        if len(sel) < min_cell:
            continue
        uniq_q = pd.unique(tx[sel[quotable[sel]]])
        pick: list[int] = []  # in random order, skipping near-duplicates of quotes already taken
        for i in rng.permutation(len(uniq_q)):
            if len(pick) >= examples:
                break
            if not any(near_duplicate(uniq_q[i], t) for t in taken):
                pick.append(int(i))
                taken.append(str(uniq_q[i]))
        for i in sorted(pick):
            q = str(uniq_q[i])
            q = q if len(q) <= max_quote_chars else q[: max_quote_chars - 1] + "…"
            qrows.append({"code": c, "label": lexicon.categories[c][0], "quote": q})
    quotes = pd.DataFrame(qrows, columns=["code", "label", "quote"])
    summary = pd.DataFrame([{"n_writers": n_writers, "n_matched": int((~unm).sum()),
                             "n_unmatched": int(unm.sum()), "min_cell": min_cell}])
    return {"themes": themes, "unmatched": un, "quotes": quotes, "summary": summary,
            "assigned": cl.drop(columns="tokens")}
