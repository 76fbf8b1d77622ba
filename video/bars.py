# SPDX-License-Identifier: GPL-3.0-or-later
"""The picture inside letterbox and pillarbox bars.

Footage is often delivered with black bars (a 2.39:1 film in a 16:9 frame, a phone's portrait
shot pillarboxed into a square: driving_d14 of the shared clips has 60 px on the left). They are
not picture: a head warp that samples them drags black streaks into the frame, a colour grade
lifts them to grey. :func:`picture_area` finds the box inside them, from frames spread over the
shot (bars do not change), so that every part of a job sees the same box.
"""

import numpy as np

#: a bar pixel is at most this bright (0..255, every channel, every frame looked at): a decoder's
#: black with compression noise
BLACK = 24
#: bars thinner than this many pixels are ignored (an encoder's padding row, a dark edge)
MIN_BAR = 2
#: the picture is at least this fraction of the frame each way; otherwise the frames are taken for
#: a dark shot, not bars, and the whole frame is returned
MIN_PICTURE = 0.5
#: a bar ends in an edge: the picture's first row or column (each pixel's brightest over the
#: frames, averaged along it) is at least this much brighter than the bar; a dark part of the
#: scene that fades in (a night shot's dark edge) is picture, not a bar
EDGE_STEP = 16


def picture_area(frames, known=None, black=BLACK, min_bar=MIN_BAR):
    """(x0, y0, x1, y1): the box of ``frames`` ((H, W, C) or (T, H, W, C) uint8; or one plate with
    ``known`` (H, W) bool, pixels it does not know counting as picture) inside full rows and
    columns that are black (<= ``black`` in every channel of every frame) from each edge inward
    and end in an edge (:data:`EDGE_STEP`, over the pixels ``known``). The whole frame when there
    are no bars, when a bar would be thinner than ``min_bar``, or when the picture left would be
    under :data:`MIN_PICTURE` of the frame (a dark shot)."""
    a = np.asarray(frames)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or not a.size:
        raise ValueError("picture_area expects (H, W, C) or (T, H, W, C) frames, got shape {}".format(a.shape))
    H, W = a.shape[1:3]
    # each pixel's brightest over frames, then over channels (a.max(axis=(0, 3)) gives the same
    # in ~20x the time: 1 s for 31 1080p frames)
    peak = a.max(0).max(-1).astype(np.float32)
    dark = peak <= black
    if known is not None:
        known = np.asarray(known, bool)
        dark &= known
        # the edge is judged on what the plate knows (the value it holds elsewhere is no pixel)
        peak = np.where(known, peak, np.nan)
    cols, rows = dark.all(axis=0), dark.all(axis=1)

    def run(v, lines):
        """The bar's thickness along ``v`` (dark lines from the edge), ``lines(n)``: (the bar's
        pixels, the picture's first line) when it is ``n`` thick."""
        n = int(np.argmin(v)) if not v.all() else len(v)
        if n < min_bar or n >= len(v):
            return 0
        bar, edge = lines(n)
        if not np.isfinite(edge).any():
            return 0
        return n if float(np.nanmean(edge)) - float(np.nanmean(bar)) >= EDGE_STEP else 0

    x0 = run(cols, lambda n: (peak[:, :n], peak[:, n]))
    x1 = W - run(cols[::-1], lambda n: (peak[:, W - n:], peak[:, W - n - 1]))
    y0 = run(rows, lambda n: (peak[:n], peak[n]))
    y1 = H - run(rows[::-1], lambda n: (peak[H - n:], peak[H - n - 1]))
    if x1 - x0 < MIN_PICTURE * W or y1 - y0 < MIN_PICTURE * H:
        return (0, 0, W, H)
    return (x0, y0, x1, y1)


def shot_picture_area(source, first=0, stop=None, count=9):
    """:func:`picture_area` of ``count`` frames spread over frames ``first``..``stop`` of the open
    :class:`~reenact.video.VideoSource` ``source`` (default the whole clip)."""
    n = len(source)
    stop = n if stop is None else min(int(stop), n)
    if stop <= first:
        return (0, 0, int(source.width), int(source.height))
    idx = np.unique(np.linspace(first, stop - 1, min(int(count), stop - first)).round().astype(int))
    frames = [f for f in (source.read(int(i)) for i in idx) if f is not None]
    if not frames:
        return (0, 0, int(source.width), int(source.height))
    return picture_area(np.stack(frames))


def is_whole(area, shape):
    """True when ``area`` is the whole of a frame of ``shape`` (H, W[, C])."""
    return tuple(int(v) for v in area) == (0, 0, int(shape[1]), int(shape[0]))


def within(mask, area):
    """``mask`` (H, W) bool with everything outside ``area`` (None: the whole frame) off."""
    mask = np.asarray(mask, bool)
    if area is None:
        return mask
    x0, y0, x1, y1 = (int(v) for v in area)
    out = np.zeros_like(mask)
    out[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    return out


def keep_bars(out, frame, area):
    """``out`` with every pixel outside ``area`` (x0, y0, x1, y1; None: the whole frame is
    picture) taken from ``frame``: what a render draws (a face composited from the network's crop,
    a lower face from another frame) never reaches into the footage's letterbox or pillarbox
    bars. ``out`` itself when nothing is outside (no copy)."""
    if area is None or is_whole(area, out.shape):
        return out
    x0, y0, x1, y1 = (int(v) for v in area)
    res = np.array(frame, copy=True)
    res[y0:y1, x0:x1] = out[y0:y1, x0:x1]
    return res
