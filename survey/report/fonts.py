"""The shipped CJK font: register it with matplotlib, embed a per-report subset in HTML.

``fonts/SurveySansCJKsc-Regular.otf`` is a GB 2312 subset of Noto Sans CJK SC (SIL OFL 1.1; see
``fonts/LICENSE-OFL.txt`` and ``fonts/make_subset.py``).  :func:`register_font` adds it to
matplotlib's font list *at run time* (``fontManager.addfont``), never touching the user's
matplotlib installation or cache.  :func:`font_face_css` cuts a further subset holding only the
characters of a given text (a report's pages, :func:`survey.report.html.embed_font`) and returns
an ``@font-face`` rule with the font inlined as base64 (WOFF2 when ``brotli`` is installed, plain
OpenType otherwise), so a reviewer's offline browser shows Chinese without any system CJK font.
Both are deterministic: the subset depends only on the characters.

Examples
--------
>>> from survey.report import fonts
>>> fonts.register_font()
'Survey Sans CJK SC'
>>> css = fonts.font_face_css("科技工作者 2024")
>>> css.startswith("@font-face")
True
"""
from __future__ import annotations

import base64
import contextlib
import functools
import io
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FONT_FAMILY", "FONT_PATH", "register_font", "font_face_css", "subset_font", "missing_chars"]

FONT_FAMILY = "Survey Sans CJK SC"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "SurveySansCJKsc-Regular.otf"

# always in a page subset, so digits/Latin never fall back mid-word
_BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "—–−·、。，：；（）《》“”‘’…％"


def register_font() -> str:
    """Register the shipped CJK font with matplotlib (idempotent) and return its family name.

    Returns
    -------
    str
        The family name to use in ``rcParams["font.sans-serif"]``.

    Examples
    --------
    >>> register_font() == FONT_FAMILY
    True
    """
    from matplotlib import font_manager

    from ..errors import ReportError

    if not FONT_PATH.is_file():
        raise ReportError(
            f"the shipped CJK font {FONT_PATH} is missing; reinstall the package "
            "(or run survey/report/fonts/make_subset.py)"
        )
    fm = font_manager.fontManager
    if not any(Path(f.fname) == FONT_PATH for f in fm.ttflist):
        fm.addfont(str(FONT_PATH))
        _findfont_cache_clear()
    return FONT_FAMILY


def _findfont_cache_clear() -> None:
    from matplotlib import font_manager

    clear = getattr(font_manager.fontManager, "_findfont_cached", None)
    if clear is not None and hasattr(clear, "cache_clear"):
        clear.cache_clear()


@functools.lru_cache(maxsize=1)
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(FONT_PATH), lazy=True) as f:
        return frozenset(f.getBestCmap())


def missing_chars(text: str) -> str:
    """Characters of *text* (other than whitespace/controls) the shipped font cannot draw.

    Examples
    --------
    >>> missing_chars("科技工作者−1")
    ''
    """
    cmap = _cmap()
    seen = dict.fromkeys(c for c in text if ord(c) > 0x20 and ord(c) not in cmap)
    return "".join(seen)


def _has_brotli() -> bool:
    try:
        import brotli  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return True


# Glyph bounds by glyph name, shared by every page a process renders.  Saving a subset draws
# each CFF glyph three times (hhea and vhea extents, the CFF FontBBox) and that was a third of
# the per-page time; a glyph's outline (hence its bounds) does not depend on which other glyphs
# the subset holds, so each glyph is drawn once per process.  The values are the ones fontTools
# computes itself, so the saved bytes are unchanged.
_BOUNDS: dict[str, tuple | None] = {}
_BOUNDS_LOCK = threading.Lock()


@contextlib.contextmanager
def _shared_bounds(font) -> Iterator[None]:
    """While saving *font*, answer ``T2CharString.calcBounds`` of its glyphs from
    ``_BOUNDS`` (computed once per glyph name with fontTools' own ``calcBounds``)."""
    from fontTools.misc import psCharStrings

    cls = psCharStrings.T2CharString
    orig = cls.calcBounds
    try:
        charstrings = font["CFF "].cff.topDictIndex[0].CharStrings
        names = {id(charstrings[g]): g for g in font.getGlyphOrder()}
    except (KeyError, IndexError, AttributeError):  # not a CFF font: nothing to share
        yield
        return
    keep = list(charstrings[g] for g in font.getGlyphOrder())  # ids stay valid while saving

    def calc_bounds(self, glyphSet):  # noqa: ANN001 - fontTools' signature
        name = names.get(id(self))
        if name is None:
            return orig(self, glyphSet)
        if name not in _BOUNDS:
            _BOUNDS[name] = orig(self, glyphSet)
        return _BOUNDS[name]

    with _BOUNDS_LOCK:
        cls.calcBounds = calc_bounds
        try:
            yield
        finally:
            cls.calcBounds = orig
            del keep


#: Brotli quality of the WOFF2 font data.  fontTools compresses at 11 (the maximum), which took
#: as long as cutting the subset itself; 10 gives the same font (a WOFF2 decodes to the very same
#: tables, tested) 1.7 % larger in a third of the time.  Rule for lower qualities: the fastest
#: whose WOFF2 is within 5 % of quality 10's.  Measured on a provincial report's 813 characters
#: (subset cut ~0.6 CPU-s, then compression): q4-8 add ~0 s but are 11-14 % larger, q9 adds
#: 0.05 s and is 7.5 % larger, q10 adds 0.3 s, q11 1.0 s (1.4 % smaller): so 10 stays.
WOFF2_QUALITY = 10
_WOFF2_LOCK = threading.Lock()


@contextlib.contextmanager
def _woff2_quality(quality: int) -> Iterator[None]:
    """While saving, fontTools' WOFF2 writer compresses at *quality* (it passes none)."""
    from fontTools.ttLib import woff2

    real = woff2.brotli

    class _Brotli:
        def __getattr__(self, name: str):
            return getattr(real, name)

        @staticmethod
        def compress(data: bytes, mode: int = real.MODE_GENERIC) -> bytes:
            return real.compress(data, mode=mode, quality=quality)

    with _WOFF2_LOCK:  # one save at a time patches the module (as _shared_bounds does)
        woff2.brotli = _Brotli()
        try:
            yield
        finally:
            woff2.brotli = real


@functools.lru_cache(maxsize=32)
def _subset_cached(chars: str, flavor: str | None) -> bytes:
    # keep (rather than strip) hints: the shipped font has none, so stripping them only
    # re-executed every charstring for nothing (a fifth of the subsetting time) and wrote the
    # same bytes (tests/test_report.py checks that both give identical bytes)
    return _subset(chars, flavor, hinting=True)


def _subset(chars: str, flavor: str | None, *, hinting: bool, quality: int = WOFF2_QUALITY) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = hinting
    opts.recalc_timestamp = False
    opts.flavor = flavor
    font = TTFont(str(FONT_PATH), recalcTimestamp=False)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted({ord(c) for c in chars}))
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = flavor
    woff2 = _woff2_quality(quality) if flavor == "woff2" else contextlib.nullcontext()
    with woff2, _shared_bounds(font):
        font.save(buf, reorderTables=True)
    return buf.getvalue()


def subset_font(text: str, *, flavor: str | None = "auto") -> tuple[bytes, str]:
    """Subset the shipped font to the characters of *text* (plus ASCII).

    Parameters
    ----------
    text : str
        Text whose characters must be drawable.
    flavor : {"auto", "woff2", None}
        ``"auto"`` writes WOFF2 when ``brotli`` is importable, else plain OpenType (``None``).

    Returns
    -------
    (bytes, str)
        The font file and its CSS ``format()`` name (``"woff2"`` or ``"opentype"``).

    Examples
    --------
    >>> data, fmt = subset_font("样本概况")
    >>> fmt in ("woff2", "opentype") and len(data) > 1000
    True
    """
    if flavor == "auto":
        flavor = "woff2" if _has_brotli() else None
    cmap = _cmap()
    chars = "".join(sorted({c for c in text + _BASE_CHARS if ord(c) in cmap}))
    data = _subset_cached(chars, flavor)
    return data, ("woff2" if flavor == "woff2" else "opentype")


def font_face_css(text: str, *, family: str = FONT_FAMILY, flavor: str | None = "auto") -> str:
    """An ``@font-face`` rule embedding a subset of the shipped font for *text* as base64.

    Examples
    --------
    >>> "font-family:'Survey Sans CJK SC'" in font_face_css("方法说明")
    True
    """
    data, fmt = subset_font(text, flavor=flavor)
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f"@font-face{{font-family:'{family}';font-style:normal;font-weight:400;"
        f"src:url(data:font/{'woff2' if fmt == 'woff2' else 'otf'};base64,{b64}) format('{fmt}');}}"
    )
