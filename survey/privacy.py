"""Personal data: detection, scrubbing, salted hashing and small-cell rules.

* Direct identifiers (name, phone, 身份证号, email, IP, 来源详情) never enter the analysis frame;
  the readers move them to ``ReadResult.pii`` keyed by ``rid``.
* Free text (``text`` questions and every "其他，请注明" column) is scrubbed once, when it is
  read (:func:`scrub_frame`, again — idempotently — by :func:`survey.clean`), so every later
  output (clean data, logs, tables, quotes, notebooks) only ever sees scrubbed text.
  :func:`scrub_text` replaces by the one placeholder :data:`REDACTED`:

  - mobile phones ``1[3-9]x`` with any ``. - space /`` separators and ``+86``/``0086``/``(86)``
    prefixes, landlines (``010-12345678``, ``(0755) 8888 8888``), 400/800 numbers, and any
    number of at least 7 digits in any layout right after 电话/手机/号码/联系方式/tel;
  - IPv4 (with a port) and IPv6 addresses; e-mails, also written ``a(at)b.cn`` / ``a[at]b[dot]cn``;
  - 18- and 15-digit 身份证号 (X check digit; blocks separated by a space or dash allowed);
  - QQ / 微信 / WeChat / vx / wx ids after their keyword (the keyword stays);
  - any other run of 12 or more digits (bank cards);
  - the respondent's *own* name taken from that respondent's PII name columns (and the given
    name of a 3+ character name), and names after 我叫/姓名：/联系人： (2–3 Han characters,
    or a compound surname) and after 我是/本人 (a common surname + 1–2 characters followed by
    a break, so 我是江苏人/我是程序员 survive).

  Full-width digits and letters count as ASCII ones (the scrubbed text holds the ASCII form).
  Ordinary numbers (2024年, 30%, 3项, 200000元, 2019-2024年, 13:30) are left alone.
  :func:`looks_personal` is the final check that keeps a text out of published quotes.
* De-duplication uses salted SHA-256 hashes (:func:`salted_hash`).  The salt comes from the
  ``salt=`` argument, else the environment variable ``SURVEY_HASH_SALT``; keep it secret and
  fixed for a wave so hashes are comparable within the wave (and not across institutions).
  Without either, a salt derived from the wave id is used and a :class:`~survey.errors.ReadWarning`
  says the hashes are only pseudonymous.
* Published tables suppress small cells (:func:`small_cell_mask`).

Examples
--------
>>> import pandas as pd
>>> from survey.privacy import scrub_text
>>> scrub_text(pd.Series(["我是潘萍，电话140.0646.2896，IP 198.19.60.80。希望2024年涨薪30%"])).iloc[0]
'我是［已删除］，电话［已删除］，IP ［已删除］。希望2024年涨薪30%'
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .errors import PrivacyError, ReadWarning
from .validation import Interval, check

__all__ = ["scrub_text", "scrub_frame", "free_text_columns", "respondent_names", "looks_personal",
           "REDACTED", "salted_hash", "resolve_salt", "looks_like_pii", "small_cell_mask",
           "disclosure_mask", "MIN_CELL",
           "contains_pii", "SALT_ENV"]

SALT_ENV = "SURVEY_HASH_SALT"

#: The placeholder that replaces every piece of personal data in free text: one neutral token
#: for every kind, so it tells a reader nothing; the open-text tokenizer skips it.
REDACTED = "［已删除］"

# full-width digits/letters and ＠ ＋ ． count as their ASCII forms (1:1, length-preserving)
_FULLWIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                      *range(0xFF41, 0xFF5B), 0xFF20, 0xFF0B, 0xFF0E]}
_SEP = r"[ \t\u3000\u00a0.\-‐‑–—−－_/·・]"          # one separator between digit groups
_S = _SEP + "{0,3}"                                 # an optional separator run (" - ")
_NOD = r"(?<![0-9])"
_NOD_AFTER = r"(?![0-9])"
_HAN = r"[\u4e00-\u9fff]"

_EMAIL = (r"[A-Za-z0-9._%+\-]+\s?(?:@|[(（\[【{<]\s?(?:at|AT|艾特)\s?[)）\]】}>])\s?[A-Za-z0-9\-]+"
          r"(?:\s?(?:\.|[(（\[【]\s?(?:dot|DOT)\s?[)）\]】])\s?[A-Za-z0-9\-]+)+")
_H6 = r"[0-9A-Fa-f]{1,4}"
_V4 = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"(?<![0-9.]){_V4}(?:\.{_V4}){{3}}(?::[0-9]{{1,5}})?(?!\.?[0-9])"
_IPV6 = (rf"(?<![0-9])(?:(?:{_H6}:){{7}}{_H6}|(?:{_H6}(?::{_H6}){{0,6}})?::"
         rf"(?:{_H6}(?::{_H6}){{0,6}})?)(?:\.{_V4}(?:\.{_V4}){{2}})?")
_ID18 = (rf"{_NOD}[1-9][0-9]{{5}}{_SEP}?(?:18|19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])"
         rf"(?:0[1-9]|[12][0-9]|3[01]){_SEP}?[0-9]{{3}}[0-9Xx]{_NOD_AFTER}")
_ID15 = (rf"{_NOD}[1-9][0-9]{{7}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{{3}}"
         rf"{_NOD_AFTER}")
# QQ / 微信 ids right after their keyword (the keyword stays, the id goes)
_CHAT_ID = (r"(?i)((?<![A-Za-z])(?:QQ|企鹅|微信|weixin|wechat|vx|wx|v信|薇信|威信)"
            r"(?:号码|号|群|账号|帐号|ID)?\s?(?:是|为|:|：|=)?\s?)([A-Za-z0-9][A-Za-z0-9_\-]{4,19})")
# a number of >= 7 digits in any layout right after a phone keyword
_PHONE_KW = (r"(?i)((?:电话|手机|号码|联系方式|座机|tel|phone|mobile)[^0-9\n]{0,4}?)"
             rf"((?:\+|00)?[0-9](?:[ \t\u3000.\-‐–—－_/·()（）]{{0,3}}[0-9]){{6,}}){_NOD_AFTER}")
_MOBILE = (rf"{_NOD}(?:[(（]?(?:\+|00)?{_SEP}{{0,2}}86[)）]?{_S})?"
           rf"(?P<core>1{_S}[3-9](?:{_S}[0-9]){{9}}){_NOD_AFTER}")
_LANDLINE = (rf"{_NOD}(?P<core>(?:[(（]0[0-9]{{2,3}}[)）]|0[1-9][0-9]{{1,2}}){_S}[2-9]"
             rf"(?:{_S}[0-9]){{6,7}}){_NOD_AFTER}")
_SERVICE = rf"{_NOD}(?P<core>[48]00{_S}[0-9](?:{_S}[0-9]){{6}}){_NOD_AFTER}"
_LONG_DIGITS = rf"{_NOD}[0-9]{{12,}}{_NOD_AFTER}"

# common surnames (single and compound); 党 单 left out: 我是党员 / 我是单身 are not names
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
             "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
             "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧"
             "耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕")
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|轩辕|令狐|端木|独孤"
# after 我叫 / 姓名： / 联系人： a name is expected: take it
_NAME_STRONG = (rf"((?:我叫|我的名字(?:是|叫)|名字(?:是|叫|[:：])|姓名\s?(?:是|为|[:：])|联系人\s?[:：]|"
                rf"署名\s?[:：]|落款\s?[:：])\s?)((?:{_COMPOUND}){_HAN}{{1,2}}|{_HAN}{{2,3}})")
# after 我是 / 本人 only a surname + 1–2 characters followed by a break (我是潘萍，…), and not a
# word that merely starts with a surname character (我是江苏人 / 我是程序员 / 本人方向：…)
_NAME_WEAK = (rf"((?:我是|本人是|本人|我系)\s?)(?!方向|方面|于是|文科|理科|工科|高校|石油|金融)"
              rf"((?:{_COMPOUND}|[{_SURNAMES}]){_HAN}{{1,2}})"
              r"(?<![人员师士者们科级校所院区市省县业家工管领])"
              r"(?=$|[\s，。、,.;；!！?？:：)）\-—~～0-9A-Za-z]|电话|手机|联系|来自|工号|邮箱|微信)")


def _few_separators(m: re.Match) -> str:
    """Replacement for a phone-like match, only when it is laid out as phones are: one
    separator throughout, and at most three groups of 3+ digits (138 1234 5678, 0755-8888-8888)
    or single digits (1 3 8 1 …); so 18.5.2024 13.30 or 1300.10 10000 are no phones."""
    core = m.group("core")
    runs = set(re.findall(_SEP + "+", core))
    groups = [len(g) for g in re.split(_SEP + "+", core.strip("(（)）")) if g]
    if len(runs) <= 1 and (all(n == 1 for n in groups) or (len(groups) <= 3 and min(groups) >= 3)):
        return REDACTED
    return m.group(0)


def _ipv6(m: re.Match) -> str:
    # a real address has a digit somewhere; a::b or std::vector is code, not an address
    return REDACTED if re.search("[0-9]", m.group(0)) else m.group(0)


_KEEP_1 = r"\1" + REDACTED
#: (pattern, replacement) in the order they are applied
_RULES: list[tuple[re.Pattern, Any]] = [(re.compile(p), r) for p, r in [
    (_EMAIL, REDACTED), (_IPV6, _ipv6), (_IPV4, REDACTED), (_ID18, REDACTED), (_ID15, REDACTED),
    (_CHAT_ID, _KEEP_1), (_PHONE_KW, _KEEP_1), (_MOBILE, _few_separators),
    (_LANDLINE, _few_separators), (_SERVICE, _few_separators), (_LONG_DIGITS, REDACTED),
    (_NAME_STRONG, _KEEP_1), (_NAME_WEAK, _KEEP_1)]]

# what still looks personal after scrubbing (keeps a text out of published quotes)
_PERSONAL = re.compile(
    r"[0-9]{7,}"                                          # a long number
    rf"|(?<![0-9])[01](?:{_SEP}{{0,3}}[0-9]){{9,}}"       # 10+ digits from 0/1 in any grouping
    r"|[@＠]|[(（\[【{<]\s?(?:at|艾特)\s?[)）\]】}>]"        # an address
    r"|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"                      # IPv4-like
    r"|https?://|www\."                                  # a link
    r"|(?<![A-Za-z])(?:qq|vx|wx|wechat|weixin)\s?[:：号是为]*\s?[A-Za-z0-9]"
    r"|(?:微信|企鹅)\s?[:：号是为]*\s?[A-Za-z0-9]"
    r"|我叫|我的名字|名字[是叫:：]|姓名\s?[是为:：]|联系人\s?[:：]|身份证号?\s?[:：是为]?\s?[0-9]",
    re.IGNORECASE)
_NOT_A_NAME = "\ufdd0\ufdd1"   # never occurs in text (a noncharacter pair)
# what respondents write into a name field instead of a name (never scrubbed as "their name")
_NOT_NAMES = frozenset("匿名 保密 不填 不详 没有 暂无 不想说 不方便 不愿透露 不告诉你 隐私 无名 不知道 "
                       "拒绝 拒答 先生 女士 老师 同志 本人 科技工作者".split())
_NAME_HEADER = re.compile(r"姓名|名字")

_PII_HEADER = re.compile(r"姓名|名字|手机|电话|联系方式|身份证|证件号|邮箱|e-?mail|微信|QQ号|来自IP|^ip$|"
                         r"IP地址|来源详情|住址|家庭地址", re.IGNORECASE)


# a text none of whose characters could start a rule is left as it is (most texts: fast path)
_GATE = re.compile(r"[0-9@:]|\bat\b|艾特|我叫|我是|我系|我的名字|名字|本人|姓名|联系人|署名|落款|"
                   r"qq|企鹅|微信|weixin|wechat|vx|wx|v信|薇信|威信", re.IGNORECASE)


def _scrub_one(t: str) -> str:
    t = t.translate(_FULLWIDTH)
    if not _GATE.search(t):
        return t
    for rx, repl in _RULES:
        t = rx.sub(repl, t)
    return t


def _replace_own_names(s: pd.Series, names: Any) -> pd.Series:
    """Replace each respondent's own name(s) in that respondent's text (row-aligned, numpy)."""
    if isinstance(names, pd.Series):
        names = names.to_frame()
    if isinstance(names, pd.DataFrame):
        names = [names.iloc[:, j] for j in range(names.shape[1])]
    sdt = np.dtypes.StringDType()
    ok = s.notna().to_numpy(dtype=bool)
    out = np.asarray(s.fillna("").to_numpy(dtype=object), dtype=sdt)
    for nm in names:
        nm = pd.Series(np.asarray(nm, dtype=object)).astype("str").str.strip()
        if len(nm) != len(s):
            raise PrivacyError(f"scrub_text: names= has {len(nm)} rows, the text {len(s)}; pass the "
                               "names aligned to the text (one per respondent)")
        full = nm.str.translate(_FULLWIDTH)
        # a name: 2–4 Han characters or a Latin name, not a refusal written into the field
        han = full.str.fullmatch(rf"{_HAN}{{2,4}}").fillna(False).to_numpy(dtype=bool)
        latin = full.str.fullmatch(r"[A-Za-z][A-Za-z .'\-]{2,}").fillna(False).to_numpy(dtype=bool)
        use_full = (han | latin) & ~full.isin(_NOT_NAMES).to_numpy(dtype=bool)
        # the given name alone (潘萍萍 -> 萍萍) when the name starts with a known surname
        sur = (full.str[:1].isin(set(_SURNAMES)) | full.str[:2].isin(_COMPOUND.split("|"))).to_numpy(bool)
        n = full.str.len().fillna(0).to_numpy()
        use_given = use_full & han & sur & (n >= 3)
        for cand, use in ((full, use_full), (full.str[-2:], use_given)):
            old = np.where(use, cand.fillna(_NOT_A_NAME).to_numpy(dtype=object), _NOT_A_NAME)
            out = np.strings.replace(out, np.asarray(old, dtype=sdt), REDACTED)
    res = pd.Series(out.astype(object), index=s.index, dtype="str", name=s.name)
    return res.where(ok)


def scrub_text(s: pd.Series, names: Any = None) -> pd.Series:
    """Replace personal data in free text by :data:`REDACTED` (see the module docstring).

    Parameters
    ----------
    s : Series of str
        Free text; NA stays NA.  Scrubbing twice changes nothing more.
    names : Series, DataFrame or list of Series, optional
        The respondents' own names, row-aligned with ``s`` (one row per text; several columns
        for several name fields); each text loses its own respondent's name (2–4 Han
        characters, or a Latin name) and, for a 3–4 character name starting with a common
        surname, the given name alone.  NA, one-character values and refusals (匿名, 保密,
        不方便 …) are ignored.

    Returns
    -------
    Series of str

    Examples
    --------
    >>> scrub_text(pd.Series(["身份证 110101 19900307 777X", None])).tolist()
    ['身份证 ［已删除］', nan]
    >>> scrub_text(pd.Series(["+86 139-1234-5678 或 0755 8888 8888", "加我vx：zhang_san88"])).tolist()
    ['［已删除］ 或 ［已删除］', '加我vx：［已删除］']
    >>> scrub_text(pd.Series(["刘洋建议…", "刘洋建议…"]), names=pd.Series(["刘洋", "张伟"])).tolist()
    ['［已删除］建议…', '刘洋建议…']
    """
    out = s.astype("str")
    if names is not None:
        out = _replace_own_names(out, names)
    codes, uniq = pd.factorize(out, use_na_sentinel=True)
    if len(uniq) == 0:
        return out
    clean_u = np.array([_scrub_one(str(u)) for u in uniq] + [None], dtype=object)
    res = clean_u[np.where(codes < 0, len(uniq), codes)]
    return pd.Series(res, index=s.index, dtype="str", name=s.name)


def contains_pii(s: pd.Series) -> pd.Series:
    """Boolean mask: which strings still contain a phone, IP, ID number, e-mail, chat id or name
    after 我叫/姓名： (the patterns :func:`scrub_text` removes).

    Examples
    --------
    >>> contains_pii(pd.Series(["ok", "x@y.com", "IP 10.0.0.1", "2024年涨了30%"])).tolist()
    [False, True, True, False]
    """
    t = s.astype("str").str.translate(_FULLWIDTH)
    codes, uniq = pd.factorize(t, use_na_sentinel=True)
    hit = np.array([_scrub_one(u) != u for u in uniq] + [False], dtype=bool)
    return pd.Series(hit[np.where(codes < 0, len(uniq), codes)], index=s.index)


def looks_personal(s: pd.Series) -> pd.Series:
    """Boolean mask: texts that still look personal after :func:`scrub_text` — never quote them.

    True for long digit runs (7+ digits, or 10+ digits from a leading 0 or 1 — phones — in any
    grouping), ``@``/``(at)``, anything
    IPv4-like, links, a QQ/微信 keyword followed by an id, 我叫/我的名字/姓名：/联系人：, and any
    pattern :func:`scrub_text` would remove.  (Texts holding :data:`REDACTED` are a separate test.)

    Examples
    --------
    >>> looks_personal(pd.Series(["工资三年没涨", "1 3 9-1 2 3 4 5.6 7 8", "我叫小潘",
    ...                           "2024年经费200000元", "2024.05.06 14:30"])).tolist()
    [False, True, True, False, False]
    """
    t = s.astype("str").str.translate(_FULLWIDTH)
    return t.str.contains(_PERSONAL, regex=True, na=False) | contains_pii(s)


def free_text_columns(frame: pd.DataFrame, questionnaire: Any) -> list[str]:
    """The free-text columns of an analysis frame: non-PII ``text`` questions (not the design's
    station/stratum ids) and every ``<id>_other`` column.

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "f", "text": "F", "type": "single", "options": {1: "a", 9: "其他"}, "other": 9},
    ...     {"id": "s", "text": "建议", "type": "text"}]})
    >>> free_text_columns(pd.DataFrame(columns=["rid", "f", "f_other", "s"]), q)
    ['f_other', 's']
    """
    design = getattr(questionnaire, "design", None)
    skip = {getattr(design, "psu", None), getattr(design, "strata", None)}
    cols = []
    for qu in questionnaire.questions:
        if qu.pii:
            continue
        if qu.type == "text" and qu.id not in skip:
            cols.append(qu.id)
        if qu.other is not None:
            cols.append(f"{qu.id}_other")
    return [c for c in cols if c in frame.columns]


def respondent_names(pii: pd.DataFrame | None, questionnaire: Any) -> pd.DataFrame:
    """The respondents' own names from the PII frame, indexed by ``rid`` (one column per name
    field: questions with ``pii_kind: name`` and unmapped columns headed 姓名/名字).

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "nm", "text": "姓名", "type": "text", "pii": True, "pii_kind": "name"}]})
    >>> respondent_names(pd.DataFrame({"rid": ["1"], "nm": ["潘萍"]}), q)["nm"].tolist()
    ['潘萍']
    """
    if pii is None or "rid" not in pii.columns:
        return pd.DataFrame(index=pd.Index([], dtype="str", name="rid"))
    ids = {qu.id for qu in questionnaire.questions if qu.pii and qu.pii_kind == "name"}
    cols = [c for c in pii.columns if c != "rid" and (c in ids or (
        c not in {qu.id for qu in questionnaire.questions} and _NAME_HEADER.search(str(c))))]
    out = pii[["rid", *cols]].drop_duplicates("rid").set_index("rid")
    return out.astype("str")


def scrub_frame(frame: pd.DataFrame, questionnaire: Any, pii: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """A copy of ``frame`` with every free-text column (:func:`free_text_columns`) scrubbed,
    each respondent's own names (from ``pii``, matched on ``rid``; without ``pii``, from name
    columns of ``frame`` itself) included.

    Examples
    --------
    >>> from survey import Questionnaire
    >>> q = Questionnaire.from_dict({"wave": {"id": "w"}, "questions": [
    ...     {"id": "nm", "text": "姓名", "type": "text", "pii": True, "pii_kind": "name"},
    ...     {"id": "s", "text": "建议", "type": "text"}]})
    >>> f = pd.DataFrame({"rid": ["1", "2"], "s": ["周敏：电话138 1234 5678", "周敏说得对"]})
    >>> scrub_frame(f, q, pd.DataFrame({"rid": ["1", "2"], "nm": ["周敏", "王强"]}))["s"].tolist()
    ['［已删除］：电话［已删除］', '周敏说得对']
    """
    cols = free_text_columns(frame, questionnaire)
    if not cols:
        return frame
    # without a PII frame, name columns still in the frame itself (a raw frame) serve
    names = respondent_names(pii if pii is not None else frame, questionnaire)
    nm = None
    if names.shape[1] and "rid" in frame.columns:
        nm = names.reindex(frame["rid"].astype("str").to_numpy())
    out = frame.copy()
    for c in cols:
        out[c] = scrub_text(out[c], names=nm)
    return out


def resolve_salt(salt: str | None = None, *, wave: str | None = None) -> str:
    """The salt for hashing: ``salt`` argument, else ``$SURVEY_HASH_SALT``, else wave-derived.

    Examples
    --------
    >>> resolve_salt("s3cret")
    's3cret'
    """
    if salt:
        return str(salt)
    env = os.environ.get(SALT_ENV)
    if env:
        return env
    warnings.warn(f"no hash salt given (salt= or ${SALT_ENV}); using one derived from the wave id, "
                  "so phone/IP hashes are pseudonymous, not secret. Set $SURVEY_HASH_SALT.",
                  ReadWarning, stacklevel=3)
    return f"survey-wave-{wave or 'unknown'}"


def salted_hash(values: pd.Series, salt: str, *, kind: str = "other") -> pd.Series:
    """Salted SHA-256 (first 16 hex digits) of normalised identifiers; NA stays NA.

    Phones and ID numbers are normalised to digits (and X), IPs lose their ``(城市)`` suffix,
    e-mails are lower-cased, so the same person hashes the same way across spellings.

    Examples
    --------
    >>> h = salted_hash(pd.Series(["138 1234 5678", "13812345678"]), "s", kind="phone")
    >>> h.iloc[0] == h.iloc[1], len(h.iloc[0])
    (True, 16)
    """
    if not salt:
        raise PrivacyError("salted_hash needs a non-empty salt; pass salt= or set $SURVEY_HASH_SALT")
    codes, uniq = pd.factorize(values.astype(object), use_na_sentinel=True)
    hashed = np.empty(len(uniq) + 1, dtype=object)
    hashed[-1] = None
    for i, u in enumerate(uniq):
        v = _normalise_id(u, kind)
        hashed[i] = (hashlib.sha256((salt + "\x1f" + v).encode("utf-8")).hexdigest()[:16]
                     if v else None)
    out = hashed[np.where(codes < 0, len(uniq), codes)]
    return pd.Series(out, index=values.index, dtype="str", name=values.name)


def _normalise_id(u: object, kind: str) -> str:
    if isinstance(u, float) and u.is_integer():
        u = int(u)
    v = unicodedata.normalize("NFKC", str(u)).strip()
    if kind in ("phone", "id_number"):
        v = re.sub(r"[^0-9Xx]", "", v).upper()
        if kind == "phone" and len(v) == 13 and v.startswith("86"):
            v = v[2:]
    elif kind == "ip":
        v = v.split("(")[0].strip()
    elif kind == "email":
        v = v.lower()
    return v


def looks_like_pii(header: str) -> bool:
    """Whether an export column header names a direct identifier (姓名, 手机, 身份证, IP ...).

    Examples
    --------
    >>> looks_like_pii("5、您的手机号码"), looks_like_pii("6、您的性别")
    (True, False)
    """
    return bool(_PII_HEADER.search(str(header)))


def small_cell_mask(n: pd.Series | np.ndarray, min_count: int = 5) -> np.ndarray:
    """True where a published cell rests on fewer than ``min_count`` respondents (suppress it).

    Examples
    --------
    >>> small_cell_mask(np.array([0, 3, 12]), 5).tolist()
    [False, True, False]
    """
    a = np.asarray(n, dtype=float)
    return (a > 0) & (a < min_count)


#: Default minimum cell: a published estimate or count rests on at least this many respondents
#: (the report's ``min_cell`` parameter; ``survey.tables.FLAG_DEFAULTS["min_cell"]``).
MIN_CELL = 10


def disclosure_mask(n: pd.Series | np.ndarray, n_cell: pd.Series | np.ndarray | None = None,
                    min_cell: int = MIN_CELL) -> np.ndarray:
    """The one disclosure rule of every published estimate: True (suppress) where the base of
    the estimate has fewer than ``min_cell`` respondents, or its numerator has 1 to
    ``min_cell - 1``.

    ``n`` is the unweighted base (respondents in the domain who answered; a domain with 0
    respondents is suppressed too: an empty group is itself a small count) and ``n_cell`` the
    unweighted numerator (e.g. respondents choosing the option; 0 is published when the base is
    large enough).  :func:`survey.tables.add_flags` (``suppress``), the estimators' ``small_n``
    column, the painpoints tables and the report all use this function.

    Examples
    --------
    >>> disclosure_mask(np.array([3, 50, 50, 0]), np.array([0, 4, 0, 0]), 10).tolist()
    [True, True, False, True]
    """
    check("disclosure_mask", "min_cell", min_cell, Interval(0, None, "left", example=10),
          error=PrivacyError)
    a = np.nan_to_num(np.asarray(n, dtype=float), nan=0.0)
    out = a < min_cell
    if n_cell is not None:
        c = np.nan_to_num(np.asarray(n_cell, dtype=float), nan=0.0)
        out = out | ((c > 0) & (c < min_cell))
    return out
