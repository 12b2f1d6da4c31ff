"""Compare chart pictures as a reader would (tests/ helper).

Two renderings of one chart that crop at a slightly different place or draw it a fraction of
a pixel apart differ in many pixels' antialiasing, yet show the same thing: :func:`same_chart`
checks the sizes agree within a few pixels, that nothing touches the picture's edge (nothing
clipped), and that the drawn parts match once aligned, each pixel allowed to move one pixel.
"""
from __future__ import annotations

import io

import numpy as np


def pixels(png: bytes) -> np.ndarray:
    """The picture as an ``(h, w, 3)`` int array."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def ink_box(px: np.ndarray) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of what differs from the top-left pixel (exclusive ends)."""
    ink = (px != px[0, 0]).any(axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert len(rows), "nothing is drawn"
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def same_chart(a: bytes, b: bytes, *, size_px: int = 2, edge_px: int = 5, moved: float = 0.0005) -> None:
    """Assert that PNGs *a* and *b* show the same chart: sizes within *size_px*, drawn parts of
    the same size (±1 px) at least *edge_px* from every edge of both, and, aligned on their
    drawn parts, at most a *moved* share of pixels unlike every pixel within one pixel of it
    in the other picture (a colour channel off by more than 64).

    At the page's 110 dpi a sub-pixel shift leaves under 0.01 % of the pixels unmatched, a
    changed word of a label 0.2 %; at 200 dpi every glyph drawn at another sub-pixel phase
    leaves up to 0.2 % (pass ``moved=0.005``)."""
    pa, pb = pixels(a), pixels(b)
    assert abs(pa.shape[0] - pb.shape[0]) <= size_px and abs(pa.shape[1] - pb.shape[1]) <= size_px, \
        (pa.shape, pb.shape)
    boxes = []
    for p in (pa, pb):
        l, t, r, btm = ink_box(p)
        assert min(l, t, p.shape[1] - r, p.shape[0] - btm) >= edge_px, ("clipped or no edge", (l, t, r, btm), p.shape)
        boxes.append((l, t, r, btm))
    (la, ta, ra, ba), (lb, tb, rb, bb) = boxes
    assert abs((ra - la) - (rb - lb)) <= 1 and abs((ba - ta) - (bb - tb)) <= 1, boxes
    h, w = min(ba - ta, bb - tb), min(ra - la, rb - lb)
    ia, ib = pa[ta:ta + h, la:la + w], np.pad(pb[tb:tb + h, lb:lb + w], ((1, 1), (1, 1), (0, 0)), mode="edge")
    best = np.full((h, w), 255)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            best = np.minimum(best, np.abs(ia - ib[dy:dy + h, dx:dx + w]).max(axis=2))
    share = float((best > 64).mean())
    assert share <= moved, f"{share:.2%} of the pixels differ"
