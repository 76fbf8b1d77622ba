# SPDX-License-Identifier: GPL-3.0-or-later
"""A region drawn from another frame of the shot, as soft as the frame it goes into.

A dub draws a row's lower face from another frame of the shot (:func:`~.rewrite.lower_face_from`)
and keeps the row's own fine detail on the skin, but the lips and teeth are the source's. When
the row is out of focus or motion-blurred and the source is not (a rack focus, a fast turn),
the dubbed mouth was crisp in a soft face: driving_d19 with a rack focus (a Gaussian blur of up
to 3 px over two seconds) drew 58 of its 60 soft rows' mouths from frames at least 1 px (blur sigma)
sharper.

:func:`as_soft_as` compares the source's edges with the row's over the same skin (both warped
to the same face; the mean gradient magnitude, 3x3 Sobel on grey) and blurs the source by the
Gaussian that brings its edges down to :data:`SAME_FOCUS` times the row's (frames in focus
differ by noise and expression: a source within that is not touched, and the blur grows from
zero as the row softens). A source softer than the row is left as it is (detail cannot be
made).
"""

import cv2
import numpy as np

#: a source whose edges are within this ratio of the row's is as sharp as the row
SAME_FOCUS = 1.1
#: the blurs tried (pixels, Gaussian sigma); the one that matches is interpolated between them
SIGMAS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0)


def _grey(img):
    img = np.asarray(img, np.float32)
    return img @ np.float32([0.299, 0.587, 0.114]) if img.ndim == 3 else img


def edge_energy(img, weight):
    """Mean gradient magnitude (3x3 Sobel, grey) weighted by ``weight`` (H, W) >= 0."""
    g = _grey(img)
    m = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))
    w = np.asarray(weight, np.float32)
    return float((m * w).sum() / max(float(w.sum()), 1e-6))


def focus_sigma(src, here, weight):
    """The Gaussian sigma (pixels) that brings ``src``'s edge energy down to :data:`SAME_FOCUS`
    times ``here``'s over ``weight`` (0: ``src`` no sharper than that)."""
    h = SAME_FOCUS * edge_energy(here, weight)
    g = _grey(src)
    prev = None
    for s in SIGMAS:
        d = edge_energy(cv2.GaussianBlur(g, (0, 0), s) if s > 0 else g, weight)
        if prev is None:
            if d <= h:
                return 0.0
        elif d <= h:  # crossed between the previous sigma and this one
            s0, d0 = prev
            return float(s0 + (s - s0) * (d0 - h) / max(d0 - d, 1e-6))
        prev = (s, d)
    return float(SIGMAS[-1])


def as_soft_as(src, here, weight):
    """``src`` (float32 (H, W, 3)) blurred to ``here``'s focus over ``weight`` (:func:`focus_sigma`),
    and the sigma used."""
    s = focus_sigma(src, here, weight)
    return (cv2.GaussianBlur(src, (0, 0), s) if s > 0.05 else src), s
