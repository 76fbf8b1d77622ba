# SPDX-License-Identifier: GPL-3.0-or-later
"""The watermark of a picture whose pixel aspect an editing system changed (since 2026-12-06).

Reenact marks the frames it writes at their own pixel grid. Footage of non-square pixels (DV,
DVD, HDV, the sample clip's QCIF at 128:117) is shown wider or narrower than it is stored, and an
editing system that conforms it to square pixels resamples it across: a non-uniform scale, which
the detector's search (uniform scale and shift) does not undo. Before 2026-12-06 Reenact's own
dub of the sample clip, conformed to 964 x 720, read "no Reenact watermark found (best score
6.0)", inside a 1280 x 720 pillarbox 5.6, and ``reenact sign`` refused it.

Where the default windows find no mark, or no job id, :func:`look` tries each stretch of
:data:`STRETCHES` undone: every default window's average (work images, :class:`Averages`, kept
while verify read the file) resampled across by the stretch's inverse, then
:func:`.watermark.detect` unchanged (its search still covers scale and shift: a correction 3 %
off still reads). The budget, so that verify's figures stay true:

- each stretch's windows share a default window's false-positive limit: each is detected at
  ``FALSE_POSITIVE_LIMIT / len(STRETCHES)`` (1.25e-7 for 8), so the tries of a window together
  spend what the window's own test does;
- a file is called marked by a stretch only where a **job id is read** as well (CRC, tool and
  format: at most 9.5e-7 likely from noise, on the data cells the sync test does not use): an
  unmarked window is called marked this way at most 1e-6 x 9.5e-7 of the time;
- the figure printed is the best window's probability times the file's number of windows times
  the number of stretches (Bonferroni over every test made).

Windows are searched four at a time first (:data:`GROUP`), one by one where a group hints, so
footage without the mark costs two searches a window (about 60 % more time in all on the shared
clips). The stretch that passed is read again from the file, frame by frame, for its ranges and
payload (one more decode, only where a stretch found the mark)."""

import math

import numpy as np

__all__ = ["STRETCHES", "Averages", "look", "resample", "words"]

#: (name, stretch across: the received picture's width over Reenact's, what makes it) tried in
#: this order. Pixel aspect ratios within 0.5 % of each other are one try (12:11, 59:54 and
#: 128:117 are 59:54's; 118:81 is 16:11's); the search reads a stretch up to ~3 % off (32:27 by
#: 40:33's try, 64:45 by 16:11's)
STRETCHES = (
    ("59:54", 59 / 54, "PAL 4:3 or CIF/QCIF pixels (12:11, 59:54, 128:117) conformed to square"),
    ("10:11", 10 / 11, "NTSC DV/DVD 4:3 pixels conformed to square"),
    ("16:15", 16 / 15, "PAL DV 4:3 pixels (16:15) conformed to square"),
    ("8:9", 8 / 9, "NTSC 4:3 pixels (8:9) conformed to square"),
    ("40:33", 40 / 33, "NTSC DV/DVD 16:9 pixels (40:33, 32:27) conformed to square"),
    ("16:11", 16 / 11, "PAL DV/DVD 16:9 pixels (16:11, 64:45) conformed to square"),
    ("4:3", 4 / 3, "HDV, XDCAM HD or DVCPRO HD anamorphic pixels (4:3) conformed to square"),
    ("3:4", 3 / 4, "square pixels squeezed into an anamorphic 1440 x 1080 delivery (HDV, XDCAM HD)"),
)
#: the windows are searched in groups of this many first (their frames' average: a second of mark
#: in four read 10.1 where its window alone read 14.3, its unmarked seconds 4.0-5.0), and one by
#: one where a group's scale-1 test reaches HINT_PRIOR or its search HINT_SEARCH (the hint spends
#: nothing of the budget: a window is detected by its own search, as below)
GROUP = 4
HINT_PRIOR, HINT_SEARCH = 3.0, 5.5
#: the most memory the window averages kept for the tries may take; a longer file is read again
#: for them instead
KEEP_BYTES = 192 << 20


def resample(img, stretch):
    """A work image (:func:`.watermark.work_image`) of a picture stretched ``stretch`` times
    across, with the stretch undone: resampled across by 1 / stretch, then scaled as a whole so
    that its shorter side is the work size again (a portrait picture: scaled down the frame)."""
    import cv2

    from .watermark import WORK_SIDE

    h, w = img.shape[:2]
    s = WORK_SIDE / min(h, w / stretch)
    size = (max(8, int(round(w / stretch * s))), max(8, int(round(h * s))))
    interp = cv2.INTER_AREA if size[0] * size[1] < w * h else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(img, dtype=np.float32), size, interpolation=interp)


class Averages:
    """Work images of the frames :func:`.watermark.detect` reads (``feed``: RGB in, work images
    out, for ``detect(..., prepared=True)``), each window's average kept for :func:`look` (the
    average of the stretched frames is the stretch of the average: one search per window and
    stretch instead of a decode). Windows are cut as ``detect`` cuts them."""

    def __init__(self, fps, window):
        from fractions import Fraction

        self.fps = float(Fraction(fps).limit_denominator(1_000_000)) if not isinstance(fps, float) else fps
        self.window = float(window)
        self.kept = []       # [(first, last + 1), average]
        self.bytes = 0
        self.whole = True    # every window kept (False: over KEEP_BYTES, read again)

    def _index(self, n):
        return int(math.floor((n + 1e-9) / (self.fps * self.window)))

    def feed(self, frames):
        from .watermark import work_image

        acc, first, n = None, 0, 0
        for f in frames:
            im = work_image(f)
            if acc is not None and self._index(n) != self._index(first):
                self._keep(first, n, acc)
                acc, first = None, n
            if acc is None:
                acc = im.astype(np.float64)
            elif acc.shape == im.shape:
                acc += im
            else:  # (a frame of another size: detect fails on it; nothing kept)
                self.whole = False
            n += 1
            yield im
        if acc is not None:
            self._keep(first, n, acc)

    def _keep(self, a, b, acc):
        if not self.whole:
            return
        avg = (acc / float(b - a)).astype(np.float32)
        self.bytes += avg.nbytes
        if self.bytes > KEEP_BYTES:
            self.kept, self.whole = [], False
            return
        self.kept.append(((a, b), avg))

    def windows(self, read):
        """[((a, b), average)] of every window: those kept, else read again (``read()``: the
        file's frames from the first)."""
        if self.whole:
            return self.kept
        again, out = Averages(self.fps, self.window), []
        for _ in again.feed(read()):
            if again.kept:  # (taken a window at a time: the cap is for what is held at once)
                out.extend(again.kept)
                again.kept, again.bytes = [], 0
        return out + again.kept


def look(wm, averages, read, fps, key, window):
    """``wm`` (the default windows' verdict) looked for again with each stretch of
    :data:`STRETCHES` undone, where it has no mark or no job id (see the module doc).
    ``averages``: the :class:`Averages` that fed ``wm``'s detect; ``read()``: the file's frames
    again, from the first. Returns ``wm`` with ``pixel_aspect``: ``{tried: [names], found: name |
    None, stretch, what, default: {score, false_positive_probability}, best (a try that passed
    without a job id: {ratio, start, end, score})}``, adopted (the stretch's windows, ranges, payload
    and figure) where a stretch found the mark and its job id."""
    from .ranges import frame_ranges as place
    from .watermark import FALSE_POSITIVE_LIMIT, detect

    if (wm["detected"] and wm.get("payload")) or not wm["windows"] or int(wm["frames"]) < 1:
        return wm
    limit = FALSE_POSITIVE_LIMIT / len(STRETCHES)
    note = {"tried": [name for name, _s, _w in STRETCHES], "found": None,
            "why": "no job id" if wm["detected"] else "no mark",
            "default": {"score": wm["score"], "false_positive_probability": wm["false_positive_probability"]}}
    wins = averages.windows(read)
    passed = []  # (best p, name, stretch, what, (p, (a, b), score))
    for name, stretch, what in STRETCHES:
        best = None
        for g in range(0, len(wins), GROUP):  # (groups first: a window is searched where its group hints)
            group = wins[g:g + GROUP]
            if len(wins) > 1 and not _hint(_search(_mean(group), stretch, key)):
                continue
            for (a, b), avg in group:
                w = _search(avg, stretch, key)
                if w["detected"] and w["false_positive_probability"] < limit and (
                        best is None or w["false_positive_probability"] < best[0]):
                    best = (w["false_positive_probability"], (a, b), w["score"])
        if best is not None:
            passed.append((best[0], name, stretch, what, best))
    passed.sort(key=lambda t: t[0])
    rate = float(wm["fps"])
    for _p, name, stretch, what, (_bp, (a, b), score) in passed[:2]:  # (the best two read again)
        r = detect((resample(im, stretch) for im in _work(read())), fps, key=key, window=window,
                   keep_frame_scores=True, prepared=True)
        for w in r["windows"]:
            if w["detected"] and w["false_positive_probability"] >= limit:  # (its share of the budget)
                w["detected"] = False
                w.pop("payload_match", None)
                w.pop("payload_score", None)
        got = [w for w in r["windows"] if w["detected"]]
        if not got or not r.get("payload"):
            if not note.get("best"):
                note["best"] = {"ratio": name, "start": round(a / rate, 3), "end": round(b / rate, 3),
                                "score": score}
            continue
        ranges = place(r["windows"], {i: (sc,) for i, sc in r.pop("frame_scores").items()}, r["frames"])
        best = min(got, key=lambda w: (w["false_positive_probability"], -w["score"]))
        nwin = max(1, len(r["windows"]))
        p = wm["false_positive_probability"] if wm["detected"] else min(
            1.0, best["false_positive_probability"] * nwin * len(STRETCHES))
        note.update(found=name, stretch=round(stretch, 4), what=what)
        note.pop("best", None)
        return dict(r, detected=True, payload_valid=True, frame_ranges=ranges,
                    ranges=[[round(x / rate, 3), round(y / rate, 3)] for x, y in ranges],
                    score=max(wm["score"] if wm["detected"] else 0.0, best["score"]),
                    false_positive_probability=float("{:.3g}".format(p)), pixel_aspect=note)
    return dict(wm, pixel_aspect=note)


def _search(avg, stretch, key):
    """:func:`.watermark.detect`'s window of one average (a work image) with ``stretch`` undone."""
    from .watermark import detect

    return detect([resample(avg, stretch)], 1.0, key=key, window=1.0, prepared=True)["windows"][0]


def _mean(group):
    """The average of a group of windows' averages, each weighted by its frames."""
    n = sum(b - a for (a, b), _avg in group)
    return sum(avg * ((b - a) / float(n)) for (a, b), avg in group)


def _hint(w):
    return w["prior_score"] >= HINT_PRIOR or w["search_score"] >= HINT_SEARCH


def _work(frames):
    from .watermark import work_image

    for f in frames:
        yield work_image(f)


def words(wm):
    """One line on :func:`look`'s tries where they found something (what ``reenact verify`` and
    Verify Strip say), or None."""
    pa = wm.get("pixel_aspect")
    if not pa:
        return None
    if pa.get("found"):
        return "found with a pixel-aspect change undone ({}: {}; the picture stretched {:.3f}x across), where the " \
               "plain search {}".format(pa["found"], pa["what"], pa["stretch"], "found no mark (best score {:.1f})".format(
                   pa["default"]["score"]) if pa.get("why") != "no job id" else "could not read the job id")
    if pa.get("best"):
        b = pa["best"]
        return "a mark-like signal with a {} pixel-aspect change undone at {:.2f}-{:.2f} s (score {:.1f}), but no " \
               "job id can be read: not counted as found".format(b["ratio"], b["start"], b["end"], b["score"])
    return None
