"""Vocabularies of the codebook drafter (header patterns, scale wording, PII words) and
text normalisation."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..io.missing import LABEL_REASONS

__all__ = ["BLANK", "CONT_HDR", "DATE_RE", "DEFAULT_MISSING", "DURATION_WORDING", "DUR_RE",
           "GRADED", "ID_RE", "INLINE_OTHER", "MANGLED", "MISSING_LABELS", "NONE_OPTION",
           "NUMERIC_WORDING", "NUM_HDR", "NUM_RE", "OLD_HDR", "OTHER_TEXT_HDR", "OTHER_WORD",
           "PII_VALUES", "PII_WORDS", "RESERVED", "ROW_RE", "SENSITIVE", "SKIP", "SKIP_N", "UNITS",
           "WJX_MARKERS", "clean_text", "meta_header_names", "norm"]


# ---------------------------------------------------------------------------------------------
# vocabularies
# ---------------------------------------------------------------------------------------------
NUM_HDR = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
OLD_HDR = re.compile(r"^\s*第\s*(\d+)\s*题\s*(.*)$", re.S)
CONT_HDR = re.compile(r"^\s*(\d+)\s*[(（](.*)[)）]\s*$", re.S)
MANGLED = re.compile(r"^(.*)\.(\d+)$", re.S)   # pandas/Excel de-duplicated header "label.1"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ROW_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
NUM_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
DATE_RE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
DUR_RE = re.compile(r"^(?:\d+(?:\.\d+)?天)?(?:\d+(?:\.\d+)?(?:小时|时))?(?:\d+(?:\.\d+)?(?:分钟|分))?"
                     r"(?:\d+(?:\.\d+)?(?:秒钟|秒))?$")
INLINE_OTHER = re.compile(r"^(.*?)〖.*〗\s*$", re.S)
SKIP = {"(跳过)", "跳过", "(跳過)"}
BLANK = {"", "(空)", "空", "nan", "NaN", "None", "<NA>", "NaT"}
SKIP_N = {"(跳过)", "跳过", "(跳過)"}   # NFKC/whitespace-normalised forms of SKIP
WJX_MARKERS = {-2: "未选中（排序/多选）", -3: "跳过（逻辑跳转）"}
MISSING_LABELS = tuple(LABEL_REASONS)  # labels of missing codes: the reader's vocabulary
DEFAULT_MISSING = {98: "不知道", 99: "拒答"}
OTHER_WORD = re.compile(r"其他|其它")
OTHER_TEXT_HDR = re.compile(r"请补充|请注明|请说明|请填写|[:：]\s*[)）]?\s*$")
NONE_OPTION = re.compile(r"^(以上)?(都|均|全)(不|没)|^都没有|^以上皆非|^无$|^没有$")
# graded (ordered) scale wording -> likert
GRADED = re.compile(r"非常|比较|较为|很|较|不太|一般|完全|基本|有点|极其|十分|从不|从未|很少|偶尔|有时|经常|"
                     r"总是|几乎|同意|满意|符合|重要|赞成|愿意|认同|频繁|可能")
NUMERIC_WORDING = re.compile(r"多少|几[项个次天年人篇岁小时]|比例|百分|[(（]\s*%\s*[)）]|多大")
DURATION_WORDING = re.compile(r"多长时间|多久|时长|耗时")
UNITS = [(re.compile(r"[(（]\s*%\s*[)）]|百分比|比例"), "%"), (re.compile(r"多少小时|几小时|小时数"), "小时"),
          (re.compile(r"多少分钟"), "分钟"), (re.compile(r"多少天|几天|天数"), "天"),
          (re.compile(r"几项|多少项"), "项"), (re.compile(r"多少次|几次"), "次"),
          (re.compile(r"多少岁|几岁"), "岁"), (re.compile(r"多少篇|几篇"), "篇"),
          (re.compile(r"多少万元"), "万元"), (re.compile(r"多少元"), "元"), (re.compile(r"几个|多少个"), "个"),
          (re.compile(r"多少人|几人"), "人")]
SENSITIVE = [(re.compile(r"健康|睡眠|心理|抑郁|焦虑|疾病|失眠"), "health")]
# (kind, header pattern): the first that matches names the PII kind
PII_WORDS = [
    ("name", re.compile(r"姓名|名字|真实姓名")),
    ("id_number", re.compile(r"身份证|证件号")),
    ("phone", re.compile(r"手机|电话|联系方式|微信号")),
    ("email", re.compile(r"邮箱|e-?mail|电子邮件", re.I)),
    ("ip", re.compile(r"(?<![A-Za-z])IP(?![A-Za-z])|IP地址")),
    ("source_detail", re.compile(r"^来源详情$")),
    ("other", re.compile(r"地址|住址|QQ号?|工号|学号")),
]
PII_VALUES = {
    "phone": re.compile(r"^(?:\+?86[-\s]?)?1[3-9]\d{9}(?:\.0)?$"),
    "id_number": re.compile(r"^[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx]$"),
    "email": re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+$"),
    "ip": re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$"),
}
RESERVED = {"rid", "submitted_at", "duration_s", "source", "ip_hash", "phone_hash"}


def norm(s: Any) -> str:
    s = unicodedata.normalize("NFKC", "" if s is None else str(s))
    s = re.sub(r"<[^<>]{0,200}>", "", s)
    return re.sub(r"\s+", "", s)


def clean_text(s: Any) -> str:
    """One-line text for the YAML: rich-text tags (问卷星 keeps <br>, <span …>) and line breaks
    removed; the reader matches headers with tags and whitespace ignored, so matching is kept."""
    s = re.sub(r"<[^<>]{0,200}>", "", "" if s is None else str(s))
    return re.sub(r"\s+", " ", s).strip()


def meta_header_names() -> dict[str, str]:
    from ..io.headers import META_HEADERS
    return {norm(k): v for k, v in META_HEADERS.items()}


