"""Personal data: detection, scrubbing, salted hashing and small-cell rules.

* Direct identifiers (name, phone, 身份证号, email, IP, 来源详情) never enter the analysis frame;
  the readers move them to ``ReadResult.pii`` keyed by ``rid``.
* Free text is scrubbed of phone numbers, ID numbers and e-mail addresses
  (:func:`scrub_text`).
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
>>> scrub_text(pd.Series(["电话13812345678，邮箱 a.b@x.cn"])).iloc[0]
'电话〔手机号〕，邮箱 〔邮箱〕'
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import warnings

import numpy as np
import pandas as pd

from .errors import PrivacyError, ReadWarning

__all__ = ["scrub_text", "salted_hash", "resolve_salt", "looks_like_pii", "small_cell_mask",
           "disclosure_mask", "MIN_CELL",
           "contains_pii", "SALT_ENV"]

SALT_ENV = "SURVEY_HASH_SALT"

_PHONE = r"(?<![0-9])(?:\+?86[-\s]?)?1[3-9][0-9](?:[-\s]?[0-9]{4}){2}(?![0-9])"
_LANDLINE = r"(?<![0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}(?![0-9])"
_IDNUM = r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])[0-9]{2}[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_PATTERNS = [(_EMAIL, "〔邮箱〕"), (_IDNUM, "〔身份证号〕"), (_PHONE, "〔手机号〕"),
             (_LANDLINE, "〔电话〕")]
_ANY = re.compile("|".join(f"(?:{p})" for p, _ in _PATTERNS))

_PII_HEADER = re.compile(r"姓名|名字|手机|电话|联系方式|身份证|证件号|邮箱|e-?mail|微信|QQ号|来自IP|^ip$|"
                         r"IP地址|来源详情|住址|家庭地址", re.IGNORECASE)


def scrub_text(s: pd.Series) -> pd.Series:
    """Replace phone numbers, ID numbers and e-mails in free text by placeholders.

    Vectorised (regex replace per pattern over the unique values).

    Parameters
    ----------
    s : Series of str
        Free text; NA stays NA.

    Returns
    -------
    Series of str

    Examples
    --------
    >>> scrub_text(pd.Series(["身份证110101199003077777", None])).tolist()
    ['身份证〔身份证号〕', nan]
    """
    out = s.astype("str")
    for pat, repl in _PATTERNS:
        out = out.str.replace(pat, repl, regex=True)
    return out


def contains_pii(s: pd.Series) -> pd.Series:
    """Boolean mask: which strings still contain a phone number, ID number or e-mail.

    Examples
    --------
    >>> contains_pii(pd.Series(["ok", "x@y.com"])).tolist()
    [False, True]
    """
    return s.astype("str").str.contains(_ANY, regex=True, na=False)


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
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer, float)) \
            or not min_cell >= 0:
        raise PrivacyError(f"min_cell={min_cell!r} must be a non-negative number (the minimum "
                           "respondents behind a published cell, e.g. 10)")
    a = np.nan_to_num(np.asarray(n, dtype=float), nan=0.0)
    out = a < min_cell
    if n_cell is not None:
        c = np.nan_to_num(np.asarray(n_cell, dtype=float), nan=0.0)
        out = out | ((c > 0) & (c < min_cell))
    return out
