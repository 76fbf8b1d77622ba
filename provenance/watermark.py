# SPDX-License-Identifier: GPL-3.0-or-later
"""A keyed spread-spectrum video watermark in low-frequency luma, read over one-second windows.

**The mark.** A key (any string; :data:`DEFAULT_KEY` is the one ``reenact verify`` knows)
draws a tile of ``N x N`` = 32 x 32 cells: each cell gets a keyed random sign and a keyed place
in an order; the first cells of that order form the *synchronisation* pattern (384 in format 2,
512 in format 1: format 2's are a subset, one search template finds both), the others carry the
coded payload (each coded bit spread over 3-4 cells per tile). The tile is repeated over the
frame with cells of 1/80 of the frame's shorter side (6.75 px at 960x540, 13.5 at 1920x1080: the
cell size follows the frame size, so a downscale does not move the mark), interpolated smoothly
(bicubic), and added to R, G and B alike (= to luma only, nothing in chroma, which 4:2:0 halves)
with an RMS of :data:`DEFAULT_STRENGTH` levels; format 2 multiplies it per pixel by the frame's
masking gain (:mod:`.masking`: 0.3 on flat skin and sky, up to 1.8 on texture, the frame's RMS
capped at 2.5). The pattern is the same in every marked frame: H.264 codes it once and inter
prediction carries it, and summing frames averages the codec's noise and the moving content away.

**Payload** (:mod:`.payload`): 52 bits = tool id (8) + format version (4) + job id (40), then
CRC-16 and a K=7 convolutional code (:mod:`.ecc`): rate 1/3, 222 coded bits (format 2); rate
1/2, 148 (format 1). A payload is valid when the CRC holds and it names Reenact and the format it
was read in; formats are tried newest first.

**Detection** (:func:`detect`). Frames are reduced to luma, shorter side 320 px (4 px per cell),
and averaged over a window (one second). The host is suppressed: the average minus its 5 x 5
median (edges and shading, which a median keeps, leave) minus what is left larger than a cell,
weighted by (local variance + 0.25)^-0.75. For each candidate scale (cell size from 0.96x to
1.40x the nominal: a crop enlarges the cells relative to the frame) it is resampled to 2 samples
per cell and folded modulo the tile into 64 x 64; a correlation with the sync pattern (FFT, the
fold's spectrum half whitened) gives a surface whose values over its own spread are z-scores.
Under the null (no mark, or another key) they are Gaussian, so the false-positive probability is
bounded by construction (Bonferroni): half of :data:`FALSE_POSITIVE_LIMIT` (1e-6) goes to the
single test at scale 1 and no shift (where an untouched, re-encoded, downscaled copy, an excerpt
or another frame rate has the mark: z >= 4.89), half to the search over every scale and shift
(``n_tests`` = 64 x 64 x 51: z >= 6.91, crops). The payload is read from the data cells at the
found alignment and decoded (a list Viterbi decoder keeping 64 paths, CRC), per window and
from the detected windows' soft values summed. Per-frame scores at that alignment then place the
edges of the synthesised ranges to the frame.

All of this is numpy + OpenCV; nothing here imports bpy.
"""

import hashlib
import math
import threading
from collections import OrderedDict
from fractions import Fraction

import numpy as np

from . import ecc, second_look
from .payload import FORMAT_VERSION, PAYLOAD_BITS, TOOL_ID, Payload, job_id_from, make_payload, new_job_id
from .ranges import frame_ranges as _ranges

__all__ = [
    "DEFAULT_KEY", "DEFAULT_STRENGTH", "MAX_CHANGE", "TOOL_ID", "FORMAT_VERSION", "FALSE_POSITIVE_LIMIT",
    "Payload", "make_payload", "new_job_id", "job_id_from", "Watermark", "mark_frame", "mark_delta", "detect",
    "Detector", "ALGORITHM",
]

#: The key ``reenact verify`` tries. Public: it lets anyone verify, and anyone who reads this
#: file could also try to erase the mark (see docs/provenance.md, "Limits").
DEFAULT_KEY = "reenact-public-watermark-v1"
#: RMS of the luma change in 8-bit levels (PSNR ~ 20 log10(255 / strength) on the marked frame).
DEFAULT_STRENGTH = 2.3
#: The most any channel of any pixel changes (by construction; 5 at the default strength).
MAX_CHANGE = 6
#: :func:`mark_frame`'s ``keep_out`` (the render path keeps the mark off the lips) takes mark away
#: where the masking gain is highest (edges); the rest of the frame gets it back, its gain raised
#: by at most this factor (a keep-out that cost d11 a fifth of its score after a 50 % downscale)
KEEP_OUT_MAKEUP = 1.15
#: Soft-binding algorithm name written into C2PA manifests.
ALGORITHM = "org.reenact.watermark.ss-luma.2"
#: A detected window "carries the file's payload" when its data cells agree with it at this z.
PAYLOAD_MATCH_Z = 4.0
#: paths the payload's list Viterbi decoder keeps (CRC-aided list decoding: after a 50 % downscale
#: + CRF 28 a close-up's best path is often a bit or two off; a one-second excerpt of d11 gives
#: its payload for 3 / 7 / 9 / 11 of 12 job ids with 1 / 16 / 64 / 256 paths, 16 / 67 ms a decode)
LIST_PATHS = 64
#: a detected file whose payload LIST_PATHS paths do not give is decoded again with this many
#: (one-second excerpts; a wrong payload then at most 256 x 2**-28 likely, 9.5e-7)
LIST_PATHS_FALLBACK = 256
#: A window is "detected" when the probability that an unmarked window scores as high is below this.
FALSE_POSITIVE_LIMIT = 1e-6

N = 32                    # cells per tile side
CELLS_PER_SIDE = 80.0     # cell size = the frame's shorter side / 80
#: per format: sync cells (the first of the key's cell order: format 2's are a subset of format
#: 1's, so one search template finds both), the code's generators, whether the mark is masked
FORMATS = {1: {"sync": 512, "gens": ecc.G, "masked": False},
           2: {"sync": 384, "gens": ecc.G3, "masked": True}}
TEMPLATE_SYNC = min(f["sync"] for f in FORMATS.values())
CODED_BITS = ecc.coded_length(PAYLOAD_BITS, FORMATS[FORMAT_VERSION]["gens"])
WORK_SIDE = int(4 * CELLS_PER_SIDE)  # detection resolution (shorter side): 4 px per cell
_WORK_CELL = WORK_SIDE / CELLS_PER_SIDE
# cell scales searched: steps of 0.75 % from 0.96 to 1.40 through 1.0 exactly (an untouched or a
# downscaled copy; the grid from 0.96 missed 1.0 by 0.4 % and lost up to 15 % of the score there)
#: the spectral whitening of the sync search (magnitude ** -power) and of the payload cells
SYNC_WHITENING = 0.5
CELL_WHITENING = 0.0
#: share of FALSE_POSITIVE_LIMIT spent on the single test at the alignment of an uncropped copy
#: (scale 1, no shift: untouched, re-encoded, downscaled, an excerpt, another frame rate); the
#: rest on the search over every scale and shift (crops)
PRIOR_SHARE = 0.5
SCALES = tuple(float(s) for s in 1.0075 ** np.arange(math.ceil(math.log(0.96) / math.log(1.0075)),
                                                     math.log(1.405) / math.log(1.0075)))


# ------------------------------------------------------------------------------ key material
def _rng(key, what):
    seed = hashlib.sha256("{}\0{}".format(key, what).encode("utf-8")).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(seed[:16], "little")))


def _periodic_upsample(grid, factor_rows, factor_cols, rows, cols):
    """The tile ``grid`` (N x N) repeated and interpolated bicubically to ``rows x cols`` pixels,
    ``factor`` pixels per cell; cell (0, 0) starts at pixel (0, 0)."""
    import cv2

    n = grid.shape[0]
    reps_r = int(math.ceil(rows / (factor_rows * n))) + 2
    reps_c = int(math.ceil(cols / (factor_cols * n))) + 2
    big = np.tile(grid.astype(np.float32), (reps_r, reps_c))
    # one tile of margin on the top/left so the interpolation sees the periodic neighbours
    out_r = int(round(big.shape[0] * factor_rows))
    out_c = int(round(big.shape[1] * factor_cols))
    up = cv2.resize(big, (out_c, out_r), interpolation=cv2.INTER_CUBIC)
    o_r = int(round(n * factor_rows))
    o_c = int(round(n * factor_cols))
    return up[o_r:o_r + rows, o_c:o_c + cols]


class _Layout:
    """One format's use of the tile: sync cells, data cells, the coded bit of each data cell."""

    def __init__(self, order, version):
        f = FORMATS[version]
        self.version, self.gens, self.masked = version, f["gens"], f["masked"]
        self.coded_bits = ecc.coded_length(PAYLOAD_BITS, self.gens)
        self.sync_cells = np.sort(order[:f["sync"]])
        self.data_cells = order[f["sync"]:]  # keyed order = interleaving
        self.data_bit = np.arange(len(self.data_cells)) % self.coded_bits


_CACHE_LOCK = threading.RLock()


class Watermark:
    """The key's patterns: signs, the sync cells, the cells of each coded bit (per format)."""

    _cache = OrderedDict()

    def __init__(self, key=DEFAULT_KEY, strength=DEFAULT_STRENGTH):
        self.key = str(key)
        self.strength = float(strength)
        r = _rng(self.key, "signs")
        self.signs = np.where(r.random((N, N)) < 0.5, -1.0, 1.0).astype(np.float32)
        r = _rng(self.key, "layout")
        order = r.permutation(N * N)
        self.layouts = {v: _Layout(order, v) for v in FORMATS}
        cur = self.layouts[FORMAT_VERSION]
        self.data_cells, self.data_bit = cur.data_cells, cur.data_bit
        # the detector's sync template: the cells that are sync in every format
        self.sync_cells = np.sort(order[:TEMPLATE_SYNC])
        sync = np.zeros(N * N, np.float32)
        sync[self.sync_cells] = 1.0
        self.sync_grid = (sync.reshape(N, N) * self.signs)
        # the sync template at 2 samples per cell, as the detector folds the frames
        self.template2 = _periodic_upsample(self.sync_grid, 2.0, 2.0, 2 * N, 2 * N).astype(np.float32)
        self.template2 -= self.template2.mean()
        self._template_fft = np.conj(np.fft.rfft2(self.template2))
        self._patterns = OrderedDict()

    @classmethod
    def get(cls, key=DEFAULT_KEY, strength=DEFAULT_STRENGTH):
        k = (str(key), float(strength))
        with _CACHE_LOCK:  # the render path marks frames on two threads (render/overlap.py)
            wm = cls._cache.get(k)
            if wm is None:
                wm = cls._cache[k] = Watermark(key, strength)
                while len(cls._cache) > 8:
                    cls._cache.popitem(last=False)
        return wm

    # -- embedding ----------------------------------------------------------------------------
    def layout(self, version):
        lay = self.layouts.get(int(version))
        if lay is None:
            raise ValueError("watermark format {} is not known here (formats {})".format(
                version, ", ".join(str(v) for v in FORMATS)))
        return lay

    def cell_grid(self, payload):
        """The N x N tile of +-1 values for ``payload`` (in its format, ``payload.version``)."""
        payload = make_payload(payload)
        lay = self.layout(payload.version)
        coded = ecc.encode(payload.bits(), lay.gens).astype(np.float32) * 2.0 - 1.0
        flat = np.zeros(N * N, np.float32)
        flat[lay.sync_cells] = 1.0
        flat[lay.data_cells] = coded[lay.data_bit]
        return flat.reshape(N, N) * self.signs

    def pattern(self, height, width, payload):
        """``(q, pos, neg, f)`` for a frame of that size (cached per size/payload): the unmasked
        integer luma change q (H, W) int16, its positive and negative parts as (H, W, 3) uint8,
        and the float pattern f (RMS = strength) that a masked format multiplies by the gain."""
        payload = make_payload(payload)
        k = (int(height), int(width), payload)
        with _CACHE_LOCK:
            p = self._patterns.get(k)
        if p is None:
            cell = min(height, width) / CELLS_PER_SIDE
            f = _periodic_upsample(self.cell_grid(payload), cell, cell, int(height), int(width))
            f = (f * (self.strength / max(1e-6, float(np.sqrt((f * f).mean()))))).astype(np.float32)
            q = np.rint(np.clip(f, -MAX_CHANGE, MAX_CHANGE)).astype(np.int16)
            pos, neg = _split(q)
            p = (q, pos, neg, f)
            with _CACHE_LOCK:
                self._patterns[k] = p
                while len(self._patterns) > 6:
                    self._patterns.popitem(last=False)
        return p

    def masked_delta(self, rgb, payload, **masking_args):
        """The integer luma change (H, W) int16 of a masked format for the frame ``rgb``: the
        pattern times the frame's masking gain (:mod:`.masking`), the frame's RMS change capped at
        ``rms_cap`` levels, within +-MAX_CHANGE."""
        pos, neg = self.masked_parts(rgb, payload, **masking_args)
        return pos.astype(np.int16) - neg.astype(np.int16)

    def masked_parts(self, rgb, payload, keep_out=None, **masking_args):
        """:meth:`masked_delta` as its positive and negative parts, (H, W) uint8 each.
        ``keep_out`` (:func:`mark_frame`'s): the mark the keep-out takes away is given back to the
        rest of the frame (the gain raised by up to :data:`KEEP_OUT_MAKEUP`), and the RMS cap
        applies to what is left after it."""
        import cv2

        from . import masking

        a = np.asarray(rgb)
        h, w = a.shape[:2]
        f = self.pattern(h, w, payload)[3]
        cap = masking_args.pop("rms_cap", masking.MASKING["rms_cap"])
        y = a if a.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
        g = masking.gain_grid(y, CELLS_PER_SIDE, **masking_args)
        kept = 1.0
        if keep_out is not None:
            # the share of the gain's energy the keep-out leaves: the gain upsampled as below, but
            # only over the keep-out's box (the frame's energy from the small grid)
            (x0, y0, x1, y1), wgt = keep_out
            sx, sy = g.shape[1] / float(w), g.shape[0] / float(h)
            to_grid = np.float32([[sx, 0, (x0 + 0.5) * sx - 0.5], [0, sy, (y0 + 0.5) * sy - 0.5]])
            gb = cv2.warpAffine(g, to_grid, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
            took = 1.0 - (1.0 - np.clip(np.asarray(wgt, np.float32), 0.0, 1.0)) ** 2
            e = float(np.mean(g * g)) * h * w
            kept = 1.0 - float(np.sum(gb * gb * took)) / e if e > 0 else 1.0
            if 0.0 < kept < 1.0:
                g = g * min(KEEP_OUT_MAKEUP, 1.0 / float(np.sqrt(kept)))
        # the pattern (RMS = strength) is independent of the gain: the frame's RMS change is
        # strength x RMS(gain), computed on the small gain grid (of what the keep-out leaves)
        rms = self.strength * float(np.sqrt(np.mean(g * g) * kept))
        if rms > cap:
            g = g * (cap / rms)
        d = cv2.multiply(f, cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR))
        # rounded (half to even, as np.rint) and saturated by OpenCV, capped at MAX_CHANGE
        pos = cv2.min(cv2.convertScaleAbs(cv2.max(d, 0.0)), MAX_CHANGE)
        neg = cv2.min(cv2.convertScaleAbs(cv2.min(d, 0.0)), MAX_CHANGE)
        return pos, neg


def _split(q):
    """The positive and negative parts of an int16 change as (H, W, 3) uint8 (for saturating adds)."""
    return _three(np.clip(q, 0, 255).astype(np.uint8), np.clip(-q, 0, 255).astype(np.uint8))


def _three(p, n):
    import cv2

    return cv2.merge([p, p, p]), cv2.merge([n, n, n])


def mark_delta(height, width, payload, key=DEFAULT_KEY, strength=DEFAULT_STRENGTH, frame=None):
    """The integer luma change (H, W) int16 that :func:`mark_frame` adds to R, G and B of
    ``frame`` (the frame before marking). Format 1 (unmasked) does not depend on the frame. For a
    masked format (2) without ``frame``: the unmasked pattern, whose sign the masked change has
    at every pixel where it is not 0 (its size is the pattern's times the frame's gain)."""
    wmk = Watermark.get(key, strength)
    payload = make_payload(payload)
    if frame is not None and wmk.layout(payload.version).masked:
        a = np.asarray(frame)
        if a.shape[:2] != (height, width):
            raise ValueError("frame is {}, not {}x{}".format(a.shape, height, width))
        return wmk.masked_delta(a, payload)
    return wmk.pattern(height, width, payload)[0]


def mark_frame(rgb, frame_index=0, key=DEFAULT_KEY, payload=0, mask=None, strength=DEFAULT_STRENGTH, keep_out=None):
    """``rgb`` (H, W, 3) uint8 with the watermark added: a new array.

    ``frame_index`` is accepted for the render path's convenience; the pattern is the same in
    every frame (what lets H.264's inter prediction keep it). ``payload``: a :class:`Payload` or a
    job id (see :func:`make_payload`; format :data:`FORMAT_VERSION` unless the payload says
    otherwise). Format 2 scales the pattern per pixel by the frame's masking gain (faint on flat
    areas, stronger on texture; a function of the frame alone). ``mask`` (H, W), optional: mark
    only where it is > 0, scaled by it when it is a float weight in 0..1 (the composited region).
    Pixels where the mask is 0 are returned bit-exact; elsewhere every channel changes by at most
    :data:`MAX_CHANGE` = 6 levels (:func:`mark_delta`), the same in R, G and B except where
    0/255 clips. ``keep_out`` = ((x0, y0, x1, y1), weight (y1-y0, x1-x0) float 0..1), optional:
    the mark is scaled by 1 - weight inside that box (the render path keeps it off the lips of a
    performance, where a face tracker read it as lip motion: docs/provenance.md), and the rest of
    the frame carries what it took away (its gain raised by at most :data:`KEEP_OUT_MAKEUP`,
    within the same RMS cap and MAX_CHANGE)."""
    out = _mark(rgb, key, payload, mask, strength, keep_out)
    if keep_out is not None:
        (x0, y0, x1, y1), wgt = keep_out
        a = np.asarray(rgb)[y0:y1, x0:x1].astype(np.float32)
        keep = np.clip(np.asarray(wgt, np.float32), 0.0, 1.0)[..., None]
        out[y0:y1, x0:x1] = np.rint(out[y0:y1, x0:x1] + keep * (a - out[y0:y1, x0:x1])).astype(np.uint8)
    return out


def _mark(rgb, key, payload, mask, strength, keep_out=None):
    import cv2

    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError("mark_frame expects an (H, W, 3) uint8 RGB frame, got {} {}".format(a.dtype, a.shape))
    h, w = a.shape[:2]
    wmk = Watermark.get(key, strength)
    payload = make_payload(payload)
    q, pos, neg = wmk.pattern(h, w, payload)[:3]
    if wmk.layout(payload.version).masked:
        p1, n1 = wmk.masked_parts(a, payload, keep_out=keep_out if mask is None else None)
        if mask is None:
            pos, neg = _three(p1, n1)
        else:
            q = p1.astype(np.int16) - n1.astype(np.int16)
    if mask is None:
        out = cv2.add(a, pos)
        cv2.subtract(out, neg, dst=out)
        return out
    m = np.asarray(mask)
    if m.shape[:2] != (h, w):
        raise ValueError("mask is {}, the frame {}x{}".format(m.shape, h, w))
    on = m > 0
    x0, y0, bw, bh = cv2.boundingRect(on.astype(np.uint8))
    out = a.copy()
    if bw == 0 or bh == 0:
        return out
    ys, xs = slice(y0, y0 + bh), slice(x0, x0 + bw)
    mb, qb = m[ys, xs], q[ys, xs]
    if m.dtype == bool:
        d = np.where(mb, qb, 0).astype(np.int16)
    else:
        d = np.rint(qb * np.clip(mb.astype(np.float32), 0.0, 1.0)).astype(np.int16)
        d[~on[ys, xs]] = 0
    roi = out[ys, xs].astype(np.int16)
    roi += d[..., None]
    np.clip(roi, 0, 255, out=roi)
    out[ys, xs] = roi.astype(np.uint8)
    return out


# ------------------------------------------------------------------------------ detection
def _q(z):
    """Upper tail of the standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _log10_q(z):
    if z < 30:
        return math.log10(max(_q(z), 1e-300))
    # asymptotic: Q(z) ~ phi(z) / z
    return (-0.5 * z * z - math.log(z * math.sqrt(2 * math.pi))) / math.log(10)


def _to_luma(frame):
    import cv2

    a = np.asarray(frame)
    if a.ndim == 2:
        return a
    if a.ndim == 3 and a.shape[2] == 1:
        return a[..., 0]
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)


def work_image(frame):
    """A frame (RGB or luma) -> float32 luma with its shorter side at :data:`WORK_SIDE` pixels
    (the detector's input)."""
    import cv2

    y = _to_luma(frame)
    h, w = y.shape[:2]
    k = int(min(h, w) // WORK_SIDE)
    if k >= 2:
        # an integer box reduction first (OpenCV's fast path: half the time at 1080p), then
        # the small fractional rest (in float): nearly the same area average as one step
        y = cv2.resize(y, (w // k, h // k), interpolation=cv2.INTER_AREA).astype(np.float32)
        h, w = y.shape[:2]
    f = WORK_SIDE / min(h, w)
    size = (max(8, int(round(w * f))), max(8, int(round(h * f))))
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(y, size, interpolation=interp).astype(np.float32)


def _residual(im):
    """The part of a work image the host's own neighbourhood does not predict: minus its 5 x 5
    median (edges and smooth shading, which the median keeps, leave; the cells' peaks stay),
    then minus what is left of features larger than a cell."""
    import cv2

    r = im - cv2.medianBlur(np.ascontiguousarray(im, dtype=np.float32), 5)
    return r - _lowpass(r)


def _whiten(avg):
    """The window's residual and its local normalisation: weight (local variance + 0.25)^-0.75,
    between the matched filter of a mark of constant strength (1/variance) and of a mark that
    grows with texture (1/sd)."""
    import cv2

    hp = _residual(avg)
    var = cv2.GaussianBlur(hp * hp, (0, 0), 0.7 * _WORK_CELL)
    norm = (var + 0.25) ** -0.75
    return hp, norm


def _whitened_fft(fold, power=SYNC_WHITENING):
    """The fold's spectrum divided by its magnitude to ``power`` (1: phase correlation; the
    host's 1/f spectrum no longer dominates the correlation; 0.5 reads a codec-softened mark better)."""
    F = np.fft.rfft2(fold)
    F[0, 0] = 0.0
    A = np.abs(F)
    return F / (A + 1e-3 * A.mean() + 1e-12) ** power, A


def _fold(img, scale):
    """Resample ``img`` (work resolution) to 2 samples per cell for cell scale ``scale`` and fold
    it modulo the tile: (2N, 2N)."""
    import cv2

    f = 2.0 / (_WORK_CELL * scale)
    h, w = img.shape
    rh, rw = max(2, int(round(h * f))), max(2, int(round(w * f)))
    r = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    P = 2 * N
    ph, pw = -rh % P, -rw % P
    if ph or pw:
        r = np.pad(r, ((0, ph), (0, pw)))
    return r.reshape(r.shape[0] // P, P, r.shape[1] // P, P).sum(axis=(0, 2))


class _Alignment:
    __slots__ = ("scale", "dy", "dx", "z", "spectrum", "p", "search_z", "prior_z")

    def __init__(self, scale, dy, dx, z, spectrum=None, p=1.0):
        self.scale, self.dy, self.dx, self.z, self.spectrum, self.p = scale, dy, dx, z, spectrum, p
        self.search_z = self.prior_z = None


class Detector:
    """Sync search and payload reading for one key."""

    def __init__(self, key=DEFAULT_KEY, scales=SCALES):
        self.wm = Watermark.get(key)
        self.scales = tuple(scales)
        self.n_tests = (2 * N) * (2 * N) * len(self.scales)

    def search(self, img, scales=None):
        """Best alignment of the sync pattern in a whitened work image: the search over every
        scale and shift, and the single test at scale 1 and no shift (``prior_z``); ``z`` and
        ``p`` of the better of the two by false-positive probability."""
        best = None
        prior_z = None
        P = 2 * N
        for s in (scales or self.scales):
            F, A = _whitened_fft(_fold(img, s))
            c = np.fft.irfft2(F * self.wm._template_fft, s=(P, P))
            sd = float(c.std())
            if sd <= 0:
                continue
            if s == 1.0:
                prior_z = float(c[0, 0]) / sd
                prior = _Alignment(1.0, 0, 0, prior_z, A)
            k = int(np.argmax(c))
            z = float(c.flat[k]) / sd
            if best is None or z > best.z:
                best = _Alignment(s, k // P, k % P, z, A)
        if best is None:
            return None
        best.p = self.search_probability(best.z)
        out = best
        if prior_z is not None:
            prior.p = self.prior_probability(prior_z)
            if prior.p < best.p:
                out = prior
        out.search_z, out.prior_z = best.z, prior_z
        return out

    def cell_values(self, img, al, spectrum=None, power=CELL_WHITENING):
        """The N x N cell values of a whitened image at alignment ``al`` (sign of the key applied).
        ``spectrum``: the magnitude to whiten the fold with (default: its own) to ``power``
        (the median residual has already flattened the host's spectrum: the payload cells read
        best without more whitening, which would lift the frequencies a codec has emptied)."""
        F = np.fft.rfft2(_fold(img, al.scale))
        F[0, 0] = 0.0
        if power:
            A = np.abs(F) if spectrum is None else spectrum
            F = F / (A + 1e-3 * A.mean() + 1e-12) ** power
        fold = np.fft.irfft2(F, s=(2 * N, 2 * N))
        fold = np.roll(fold, (-al.dy, -al.dx), axis=(0, 1))
        cells = fold.reshape(N, 2, N, 2).sum(axis=(1, 3))
        return cells * self.wm.signs

    def soft_bits(self, img, al, version=FORMAT_VERSION, values=None):
        """The coded bits' soft values of format ``version`` at alignment ``al``, scaled so that
        the format's sync cells (known +1) have unit mean, and that scale over their spread."""
        lay = self.wm.layout(version)
        v = (self.cell_values(img, al) if values is None else values).ravel()
        sync = v[lay.sync_cells]
        gain = float(sync.mean()) if sync.mean() > 0 else 1.0
        noise = float(sync.std()) or 1.0
        soft = np.bincount(lay.data_bit, weights=v[lay.data_cells], minlength=lay.coded_bits)
        return soft / gain, gain / noise

    def frame_score(self, img, al):
        """Correlation of one whitened frame with the sync pattern at ``al`` (normalised later)."""
        v = self.cell_values(img, al, spectrum=al.spectrum, power=0.5).ravel()
        return float(v[self.wm.sync_cells].sum())

    def decode(self, soft, gain_over_noise=1.0, version=FORMAT_VERSION, paths=None):
        """``(payload, valid)``: valid when the CRC holds and the payload names Reenact and its format.
        The :data:`LIST_PATHS` (or ``paths``) best paths are kept, the best valid one taken
        (:func:`~.ecc.decode_list`): a wrong payload is at most paths x 2**-28 likely."""
        # Viterbi wants log-likelihood-like values: soft / sigma^2 with sigma per coded bit
        lay = self.wm.layout(version)

        def names_reenact(bits):
            pl = Payload.from_bits(bits)
            return pl.tool == TOOL_ID and pl.version == version

        bits, ok, _rank = ecc.decode_list(soft * max(gain_over_noise, 1e-6) ** 2, PAYLOAD_BITS, lay.gens,
                                          LIST_PATHS if paths is None else int(paths), names_reenact)
        return Payload.from_bits(bits), bool(ok)

    def decode_any(self, softs, paths=None):
        """The first format (newest first) whose soft values (``{version: soft}``, already
        weighted) decode to a valid payload: ``(payload, version)`` or ``(None, None)``."""
        for v in sorted(softs, reverse=True):
            pl, ok = self.decode(softs[v], 1.0, v, paths)
            if ok:
                return pl, v
        return None, None

    def search_probability(self, z):
        """Probability that an unmarked window's search peaks at ``z`` or more, over the share
        of the limit the search has: n_tests * Q(z) / (1 - PRIOR_SHARE)."""
        lp = _log10_q(z) + math.log10(self.n_tests / (1.0 - PRIOR_SHARE))
        return 1.0 if lp >= 0 else 10.0 ** lp

    def prior_probability(self, z):
        """The same for the single test at scale 1, no shift: Q(z) / PRIOR_SHARE."""
        lp = _log10_q(z) - math.log10(PRIOR_SHARE)
        return 1.0 if lp >= 0 else 10.0 ** lp

    def false_positive_probability(self, z):
        """Of the search alone (kept for callers that have only a search score)."""
        return self.search_probability(z)


def _fmt_p(p):
    return float("{:.3g}".format(p))


def detect(frames, fps, key=DEFAULT_KEY, window=1.0, keep_frame_scores=False, prepared=False):
    """Read the watermark of ``frames`` (an iterable of RGB uint8 frames or luma arrays, in
    order) at ``fps`` frames/s. Returns a dict:

    ``detected`` (bool), ``false_positive_probability`` (of the best window, times the number of
    windows), ``score`` (best window's z), ``payload`` (dict or None: tool, version, job_id),
    ``payload_valid`` (CRC), ``ranges`` ([start, end] seconds of synthesised video, to the frame),
    ``frame_ranges`` ([a, b) frame numbers), ``windows`` (list of ``start``, ``end``,
    ``detected``, ``score``, ``false_positive_probability``, ``payload``), ``frames``, ``fps``,
    ``alignment`` (``scale``, ``shift`` of the best window).

    ``prepared``: the frames are already :func:`work_image` outputs (the benchmark reuses them
    across keys and window offsets).
    """
    det = Detector(key)
    fps = float(Fraction(fps).limit_denominator(1_000_000)) if not isinstance(fps, float) else fps
    if not fps > 0:
        raise ValueError("fps must be > 0")
    windows = []
    prev = None          # (window record, list of work images) of the previous window
    frame_scores = {}    # frame index -> (score, window index whose alignment it used)
    buf = []
    t0 = 0
    n = 0
    soft_sum = {}   # format -> the detected windows' weighted soft values, summed

    def score_frames(imgs, first, al, norm, widx):
        for j, im in enumerate(imgs):
            frame_scores[first + j] = (det.frame_score(_residual(im) * norm, al), widx)

    def finish(imgs, first):
        nonlocal prev
        k = len(windows)
        avg = np.mean(imgs, axis=0)
        hp, norm = _whiten(avg)
        img = hp * norm
        al = det.search(img)
        p = al.p if al is not None else 1.0
        rec = {"start": round(first / fps, 6), "end": round((first + len(imgs)) / fps, 6),
               "frames": [first, first + len(imgs)], "detected": bool(p < FALSE_POSITIVE_LIMIT),
               "score": round(al.z, 2) if al is not None else 0.0,
               "false_positive_probability": _fmt_p(p), "payload": None,
               "search_score": round(al.search_z, 2) if al is not None else 0.0,
               "prior_score": round(al.prior_z, 2) if al is not None and al.prior_z is not None else 0.0}
        rec["_al"], rec["_p"] = al, p  # (the whitening map only in prev: not kept per window, 0.75 MB a second)
        if rec["detected"]:
            values = det.cell_values(img, al)
            rec["_soft"] = {}
            for v in FORMATS:
                soft, g = det.soft_bits(img, al, v, values)
                rec["_soft"][v] = soft * g * g
                soft_sum[v] = soft_sum.get(v, 0.0) + soft * g * g
            pl, _v = det.decode_any(rec["_soft"])
            rec["payload"] = pl.to_dict() if pl is not None else None
            score_frames(imgs, first, al, norm, k)
            # the previous window, if not detected, is scored at this alignment (range edges)
            if prev is not None and not prev[0]["detected"]:
                score_frames(prev[1], prev[0]["frames"][0], al, prev[3], k)
                second_look.keep(det, prev[0], prev[1], prev[2], al)
        elif prev is not None and prev[0]["detected"]:
            score_frames(imgs, first, prev[0]["_al"], norm, k - 1)
            second_look.keep(det, rec, imgs, img, prev[0]["_al"])
        windows.append(rec)
        prev = (rec, imgs, img, norm)

    for frame in frames:
        im = frame if prepared else work_image(frame)
        if buf and int(math.floor((n + 1e-9) / (fps * window))) != int(math.floor((t0 + 1e-9) / (fps * window))):
            finish(buf, t0)
            buf, t0 = [], n
        buf.append(im)
        n += 1
    if buf:
        finish(buf, t0)
    prev = None

    detected = [w for w in windows if w["detected"]]
    nwin = max(1, len(windows))
    best = min(windows, key=lambda w: (w["_p"], -w["score"])) if windows else None
    p_file = min(1.0, (best["_p"] if best else 1.0) * nwin)
    payload, valid = None, False
    if detected:
        pl, version = det.decode_any(soft_sum)
        if pl is None and LIST_PATHS_FALLBACK > LIST_PATHS:  # (a short excerpt: less evidence)
            pl, version = det.decode_any(soft_sum, LIST_PATHS_FALLBACK)
        valid = pl is not None
        payload = pl.to_dict() if valid else None
        if valid:
            # each detected window: do its data cells agree with the file's payload?
            code = ecc.encode(pl.bits(), FORMATS[version]["gens"]).astype(np.float64) * 2.0 - 1.0
            for w in detected:
                soft = w["_soft"][version]
                zd = float(soft @ code) / max(1e-12, float(np.sqrt(soft @ soft)))
                w["payload_score"] = round(zd, 2)
                w["payload_match"] = bool(zd >= PAYLOAD_MATCH_Z)
            second_look.apply(det, windows, pl)  # the windows the sync test missed, whole tile known
    frame_ranges = _ranges(windows, frame_scores, n)
    out = {
        "detected": bool(detected),
        "false_positive_probability": _fmt_p(p_file),
        "score": best["score"] if best else 0.0,
        "payload": payload, "payload_valid": bool(valid),
        "frames": n, "fps": fps,
        "frame_ranges": frame_ranges,
        "ranges": [[round(a / fps, 3), round(b / fps, 3)] for a, b in frame_ranges],
        "windows": [{k: v for k, v in w.items() if not k.startswith("_")} for w in windows],
        "alignment": None,
        "key": "default" if key == DEFAULT_KEY else "custom",
    }
    if detected:
        bd = max(detected, key=lambda w: w["score"])
        al = bd["_al"]
        out["alignment"] = {"scale": round(al.scale, 4), "shift_cells": [al.dy / 2.0, al.dx / 2.0]}
    if keep_frame_scores:
        out["frame_scores"] = {i: s for i, (s, _w) in sorted(frame_scores.items())}
    return out


def _lowpass(im):
    import cv2

    return cv2.GaussianBlur(im, (0, 0), 1.0 * _WORK_CELL)
