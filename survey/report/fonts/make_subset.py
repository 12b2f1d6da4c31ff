"""Make the CJK font subset that ships with :mod:`survey.report` (run once; the output is committed).

The report must render Chinese on a fresh machine with nothing but the README's setup, so the
package ships a subset of **Noto Sans CJK SC Regular** (SIL Open Font License 1.1) covering:

* printable ASCII, Latin-1 punctuation/symbols, general punctuation (– — ‘ ’ “ ” … ‰ ※),
* CJK symbols and punctuation (U+3000–303F), full-width forms (U+FF01–FF5E, FFE0–FFE6),
* the 6,763 hanzi of GB 2312 (derived from Python's ``gb2312`` codec, so no list is typed in),
* symbols used by the package and by 问卷星 exports: − – — → ┋ ≤ ≥ × ÷ ± · ° ℃ № 〖 〗 ① … ⑳.

The family is renamed to ``Survey Sans CJK SC`` (a Modified Version must not be mistaken for the
original; it also keeps matplotlib from confusing it with a system-wide Noto install).  The output
is deterministic: fixed subsetter options and the source's ``head.modified`` timestamp.

Usage (needs the Debian package ``fonts-noto-cjk``; CI never runs this)::

    python survey/report/fonts/make_subset.py [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

Writes ``SurveySansCJKsc-Regular.otf`` and ``LICENSE-OFL.txt`` next to this script and prints the
size and the number of characters covered.
"""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

HERE = Path(__file__).resolve().parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OUT_NAME = "SurveySansCJKsc-Regular.otf"
FAMILY = "Survey Sans CJK SC"
POSTSCRIPT = "SurveySansCJKsc-Regular"

EXTRA_SYMBOLS = "−–—→←↑↓┋≤≥≠≈×÷±·°℃№〖〗‰※★☆●○■□▲△◆◇√∞…‘’“”、。《》「」『』【】"


def gb2312_hanzi() -> str:
    """The 6,763 hanzi of GB 2312 (rows 16–87), decoded with Python's ``gb2312`` codec."""
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars)


def coverage() -> list[int]:
    """Code points of the subset, sorted."""
    cps: set[int] = set(range(0x20, 0x7F))                      # ASCII
    cps |= set(range(0xA0, 0x100))                              # Latin-1 punctuation/symbols
    cps |= set(range(0x2010, 0x2030)) | {0x2030, 0x203B}        # general punctuation
    cps |= set(range(0x3000, 0x3040))                           # CJK symbols and punctuation
    cps |= set(range(0xFF01, 0xFF5F)) | set(range(0xFFE0, 0xFFE7))  # full-width forms
    cps |= set(range(0x2460, 0x2474))                           # ① … ⑳
    cps |= {ord(c) for c in EXTRA_SYMBOLS}
    cps |= {ord(c) for c in gb2312_hanzi()}
    return sorted(cps)


def licence_text(copyright_line: str) -> str:
    """The OFL 1.1 text (from Debian's copyright file) with the upstream copyright header."""
    text = DEBIAN_COPYRIGHT.read_text(encoding="utf-8")
    m = re.search(r"\n\nLicense: SIL-1\.1\n( .*?)(?=\n\n|\Z)", text, flags=re.S)
    if not m:
        raise SystemExit(f"{DEBIAN_COPYRIGHT}: no 'License: SIL-1.1' section found")
    body = "\n".join("" if ln.strip() == "." else ln[1:] for ln in m.group(1).splitlines())
    header = (
        f"Copyright {copyright_line.rstrip('.')}, with Reserved Font Name 'Source'.\n"
        "Noto is a trademark of Google Inc.\n\n"
        f"{OUT_NAME} is a Modified Version (a character subset of Noto Sans CJK SC Regular, "
        f"family renamed to '{FAMILY}')\nmade by survey/report/fonts/make_subset.py with fontTools. "
        "It is distributed under the same licence:\n\n"
    )
    return header + body.strip() + "\n"


def main(source: Path = SOURCE) -> Path:
    coll = TTCollection(str(source), lazy=False, recalcTimestamp=False)
    font = next(f for f in coll.fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    copyright_line = font["name"].getDebugName(0)

    opts = subset.Options()
    opts.layout_features = ["*"]       # keep vert/locl/etc.; cheap and harmless
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False               # screen/agg rendering only; saves ~15%
    opts.desubroutinize = False
    opts.recalc_timestamp = False      # deterministic output
    opts.recalc_bounds = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=coverage())
    sub.subset(font)

    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 16):
            rec.string = FAMILY
        elif rec.nameID in (3, 4):
            rec.string = FAMILY + (" Regular" if rec.nameID == 4 else "")
        elif rec.nameID == 6:
            rec.string = POSTSCRIPT
    font["CFF "].cff.fontNames = [POSTSCRIPT]

    out = HERE / OUT_NAME
    font.save(str(out), reorderTables=True)
    (HERE / "LICENSE-OFL.txt").write_text(licence_text(copyright_line), encoding="utf-8")
    data = out.read_bytes()
    print(f"{out.name}: {len(data) / 1e6:.2f} MB, {len(coverage())} code points, "
          f"sha256 {hashlib.sha256(data).hexdigest()[:16]}")
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
