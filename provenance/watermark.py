# SPDX-License-Identifier: GPL-3.0-or-later
"""A keyed spread-spectrum video watermark in low-frequency luma, read over one-second windows.

**The mark.** A key (any string; :data:`DEFAULT_KEY` is the one ``reenact verify`` knows)
draws a tile of ``N x N`` = 32 x 32 cells: each cell gets a keyed random sign, half of the cells
(keyed choice) form the *synchronisation* pattern, the other half carry the coded payload (each
coded bit spread over 3-4 cells per tile in keyed order). The tile is repeated over the frame
with cells of 1/80 of the frame's shorter side (6.75 px at 960x540, 13.5 at 1920x1080: the
cell size follows the frame size, so a downscale does not move the mark), interpolated smoothly (bicubic), and added
to R, G and B alike (= to luma only, nothing in chroma, which 4:2:0 halves) with an RMS of
:data:`DEFAULT_STRENGTH` levels. The pattern is the same in every marked frame: H.264 codes it
once and inter prediction carries it, and summing frames averages the codec's noise and the
moving content away.

**Payload** (:func:`make_payload`): 52 bits = tool id (8) + format version (4) + job id (40),
then CRC-16 and a rate-1/2, K=7 convolutional code (:mod:`.ecc`): 148 coded bits.

**Detection** (:func:`detect`). Frames are reduced to luma, shorter side 320 px (4 px per cell), and
averaged over a window (one second). The average is whitened (local mean and local contrast
removed) and, for each candidate scale (cell size from 0.96x to 1.40x the nominal: a crop
enlarges the cells relative to the frame), resampled to 2 samples per cell and folded
modulo the tile into 64 x 64; a phase correlation with the sync pattern (FFT, the fold's
spectrum whitened) finds the shift. The score is the peak over the correlation surface's own
spread (a z-score). Under the null (no mark, or another key) the surface is Gaussian with that
spread, so the probability that an unmarked window scores ``z`` or more anywhere in the search is
at most ``n_tests * Q(z)`` (Bonferroni over every shift and scale); a window is *detected* when
this is below :data:`FALSE_POSITIVE_LIMIT` (1e-6). The payload is read from the data cells at
the found alignment and decoded (Viterbi, CRC), per window and summed over the detected windows.
Per-frame scores at that alignment then place the edges of the synthesised ranges to the frame.

All of this is numpy + OpenCV; nothing here imports bpy.
"""

import hashlib
import math
import secrets
from collections import OrderedDict
from fractions import Fraction

import numpy as np

from . import ecc

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
#: Tool id in the payload: 0x52 ("R"eenact).
TOOL_ID = 0x52
#: Version of this watermark format (payload layout, tile, cell size).
FORMAT_VERSION = 1
#: Soft-binding algorithm name written into C2PA manifests.
ALGORITHM = "org.reenact.watermark.ss-luma.1"
#: A detected window "carries the file's payload" when its data cells agree with it at this z.
PAYLOAD_MATCH_Z = 4.0
#: A window is "detected" when the probability that an unmarked window scores as high is below this.
FALSE_POSITIVE_LIMIT = 1e-6

N = 32                    # cells per tile side
CELLS_PER_SIDE = 80.0     # cell size = the frame's shorter side / 80
SYNC_FRACTION = 4.0 / 8.0
PAYLOAD_BITS = 52
CODED_BITS = ecc.coded_length(PAYLOAD_BITS)
WORK_SIDE = int(4 * CELLS_PER_SIDE)  # detection resolution (shorter side): 4 px per cell
_WORK_CELL = WORK_SIDE / CELLS_PER_SIDE
# cell scales searched: steps of 0.75 % from 0.96 to 1.40 through 1.0 exactly (an untouched or a
# downscaled copy; the grid from 0.96 missed 1.0 by 0.4 % and lost up to 15 % of the score there)
SCALES = tuple(float(s) for s in 1.0075 ** np.arange(math.ceil(math.log(0.96) / math.log(1.0075)),
                                                     math.log(1.405) / math.log(1.0075)))


# ------------------------------------------------------------------------------ payload
class Payload:
    """What the mark carries: ``tool`` (8 bits), ``version`` (4 bits), ``job_id`` (40 bits)."""

    __slots__ = ("tool", "version", "job_id")

    def __init__(self, job_id, tool=TOOL_ID, version=FORMAT_VERSION):
        self.tool, self.version, self.job_id = int(tool), int(version), int(job_id)
        if not (0 <= self.tool < 256 and 0 <= self.version < 16 and 0 <= self.job_id < (1 << 40)):
            raise ValueError("payload out of range: tool < 256, version < 16, job id < 2**40")

    def bits(self):
        v = (self.tool << 44) | (self.version << 40) | self.job_id
        return [(v >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)]

    @classmethod
    def from_bits(cls, bits):
        v = 0
        for b in bits:
            v = (v << 1) | int(b)
        return cls(job_id=v & ((1 << 40) - 1), tool=(v >> 44) & 0xFF, version=(v >> 40) & 0xF)

    def to_dict(self):
        return {"tool": self.tool, "tool_name": "Reenact" if self.tool == TOOL_ID else None,
                "version": self.version, "job_id": "{:010x}".format(self.job_id)}

    def __eq__(self, other):
        return isinstance(other, Payload) and (self.tool, self.version, self.job_id) == (
            other.tool, other.version, other.job_id)

    def __hash__(self):
        return hash((self.tool, self.version, self.job_id))

    def __repr__(self):
        return "Payload(job_id=0x{:010x}, tool=0x{:02x}, version={})".format(self.job_id, self.tool, self.version)


def new_job_id():
    """A random 40-bit render job id."""
    return secrets.randbits(40)


def job_id_from(*parts):
    """A deterministic 40-bit job id from strings (e.g. the footage's and the renderer's
    identities and the performance's digest): renders of disjoint frame ranges in parallel
    processes, and Preview Frame, then carry the same id without being told one."""
    h = hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:5], "big")


def make_payload(job_id=None):
    """The payload of a Reenact render: ``job_id`` an int < 2**40, a hex string, any other
    string (hashed to 40 bits), or None (a new random id)."""
    if job_id is None:
        return Payload(new_job_id())
    if isinstance(job_id, Payload):
        return job_id
    if isinstance(job_id, (int, np.integer)):
        return Payload(int(job_id))
    s = str(job_id).strip()
    try:
        v = int(s, 16)
        if v < (1 << 40) and len(s) <= 10:
            return Payload(v)
    except ValueError:
        pass
    return Payload(int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:5], "big"))


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


class Watermark:
    """The key's patterns: signs, the sync cells, the cells of each coded bit."""

    _cache = OrderedDict()

    def __init__(self, key=DEFAULT_KEY, strength=DEFAULT_STRENGTH):
        self.key = str(key)
        self.strength = float(strength)
        r = _rng(self.key, "signs")
        self.signs = np.where(r.random((N, N)) < 0.5, -1.0, 1.0).astype(np.float32)
        r = _rng(self.key, "layout")
        order = r.permutation(N * N)
        n_sync = int(round(N * N * SYNC_FRACTION))
        self.sync_cells = np.sort(order[:n_sync])
        data = order[n_sync:]  # keyed order = interleaving
        self.data_cells = data
        self.data_bit = np.arange(len(data)) % CODED_BITS  # coded bit carried by each data cell
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
        wm = cls._cache.get(k)
        if wm is None:
            wm = cls._cache[k] = Watermark(key, strength)
            while len(cls._cache) > 8:
                cls._cache.popitem(last=False)
        return wm

    # -- embedding ----------------------------------------------------------------------------
    def cell_grid(self, payload):
        """The N x N tile of +-1 values for ``payload``."""
        coded = ecc.encode(make_payload(payload).bits()).astype(np.float32) * 2.0 - 1.0
        flat = np.zeros(N * N, np.float32)
        flat[self.sync_cells] = 1.0
        flat[self.data_cells] = coded[self.data_bit]
        return flat.reshape(N, N) * self.signs

    def pattern(self, height, width, payload):
        """Integer luma change (H, W) int16 for a frame of that size (cached per size/payload)."""
        payload = make_payload(payload)
        k = (int(height), int(width), payload)
        p = self._patterns.get(k)
        if p is None:
            cell = min(height, width) / CELLS_PER_SIDE
            f = _periodic_upsample(self.cell_grid(payload), cell, cell, int(height), int(width))
            f = f * (self.strength / max(1e-6, float(np.sqrt((f * f).mean()))))
            q = np.rint(np.clip(f, -MAX_CHANGE, MAX_CHANGE)).astype(np.int16)
            pos = np.ascontiguousarray(np.repeat(np.clip(q, 0, 255).astype(np.uint8)[..., None], 3, axis=2))
            neg = np.ascontiguousarray(np.repeat(np.clip(-q, 0, 255).astype(np.uint8)[..., None], 3, axis=2))
            p = (q, pos, neg)
            self._patterns[k] = p
            while len(self._patterns) > 6:
                self._patterns.popitem(last=False)
        return p


def mark_delta(height, width, payload, key=DEFAULT_KEY, strength=DEFAULT_STRENGTH):
    """The integer luma change (H, W) int16 that :func:`mark_frame` adds to R, G and B."""
    return Watermark.get(key, strength).pattern(height, width, payload)[0]


def mark_frame(rgb, frame_index=0, key=DEFAULT_KEY, payload=0, mask=None, strength=DEFAULT_STRENGTH):
    """``rgb`` (H, W, 3) uint8 with the watermark added: a new array.

    ``frame_index`` is accepted for the render path's convenience; the pattern is the same in
    every frame (what lets H.264's inter prediction keep it). ``payload``: a :class:`Payload` or a
    job id (see :func:`make_payload`). ``mask`` (H, W), optional: mark only where it is > 0,
    scaled by it when it is a float weight in 0..1 (the composited region). Pixels where the mask
    is 0 are returned bit-exact; elsewhere every channel changes by at most the pattern's peak
    (:func:`mark_delta`'s max abs: 5 levels at the default strength, never more than
    :data:`MAX_CHANGE` = 6), the same in R, G and B except where 0/255 clips."""
    import cv2

    a = np.asarray(rgb)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError("mark_frame expects an (H, W, 3) uint8 RGB frame, got {} {}".format(a.dtype, a.shape))
    h, w = a.shape[:2]
    q, pos, neg = Watermark.get(key, strength).pattern(h, w, payload)
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


def _whiten(avg):
    """Remove the local mean (features larger than a few cells) and equalise local contrast."""
    import cv2

    hp = avg - _lowpass(avg)
    var = cv2.GaussianBlur(hp * hp, (0, 0), 2.0 * _WORK_CELL)
    norm = 1.0 / np.sqrt(var + 0.25)
    return hp, norm


def _whitened_fft(fold):
    """The fold's spectrum with its magnitude removed (phase correlation whitening: the host's
    1/f spectrum no longer dominates the correlation)."""
    F = np.fft.rfft2(fold)
    F[0, 0] = 0.0
    A = np.abs(F)
    return F / (A + 1e-3 * A.mean() + 1e-12), A


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
    __slots__ = ("scale", "dy", "dx", "z", "spectrum")

    def __init__(self, scale, dy, dx, z, spectrum=None):
        self.scale, self.dy, self.dx, self.z, self.spectrum = scale, dy, dx, z, spectrum


class Detector:
    """Sync search and payload reading for one key."""

    def __init__(self, key=DEFAULT_KEY, scales=SCALES):
        self.wm = Watermark.get(key)
        self.scales = tuple(scales)
        self.n_tests = (2 * N) * (2 * N) * len(self.scales)

    def search(self, img, scales=None):
        """Best alignment of the sync pattern in a whitened work image."""
        best = None
        P = 2 * N
        for s in (scales or self.scales):
            F, A = _whitened_fft(_fold(img, s))
            c = np.fft.irfft2(F * self.wm._template_fft, s=(P, P))
            sd = float(c.std())
            if sd <= 0:
                continue
            k = int(np.argmax(c))
            z = float(c.flat[k]) / sd
            if best is None or z > best.z:
                best = _Alignment(s, k // P, k % P, z, A)
        return best

    def cell_values(self, img, al, spectrum=None):
        """The N x N cell values of a whitened image at alignment ``al`` (sign of the key applied).
        ``spectrum``: the magnitude to whiten the fold with (default: its own)."""
        F = np.fft.rfft2(_fold(img, al.scale))
        F[0, 0] = 0.0
        A = np.abs(F) if spectrum is None else spectrum
        # half-way whitening (|F|^0.5) reads cells better than full phase correlation, which
        # lifts the high frequencies a codec has already emptied
        fold = np.fft.irfft2(F / np.sqrt(A + 1e-3 * A.mean() + 1e-12), s=(2 * N, 2 * N))
        fold = np.roll(fold, (-al.dy, -al.dx), axis=(0, 1))
        cells = fold.reshape(N, 2, N, 2).sum(axis=(1, 3))
        return cells * self.wm.signs

    def soft_bits(self, img, al):
        v = self.cell_values(img, al).ravel()
        sync = v[self.wm.sync_cells]
        # scale so that the sync cells (known to be +1) have unit mean: comparable across windows
        gain = float(sync.mean()) if sync.mean() > 0 else 1.0
        noise = float(sync.std()) or 1.0
        soft = np.bincount(self.wm.data_bit, weights=v[self.wm.data_cells], minlength=CODED_BITS)
        return soft / gain, gain / noise

    def frame_score(self, img, al):
        """Correlation of one whitened frame with the sync pattern at ``al`` (normalised later)."""
        v = self.cell_values(img, al, spectrum=al.spectrum).ravel()
        return float(v[self.wm.sync_cells].sum())

    def decode(self, soft, gain_over_noise):
        # Viterbi wants log-likelihood-like values: soft / sigma^2 with sigma per coded bit
        bits, ok = ecc.decode(soft * max(gain_over_noise, 1e-6) ** 2, PAYLOAD_BITS)
        return Payload.from_bits(bits), ok

    def false_positive_probability(self, z):
        lp = _log10_q(z) + math.log10(self.n_tests)
        return 1.0 if lp >= 0 else 10.0 ** lp


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
    soft_sum = np.zeros(CODED_BITS)
    gains = []

    def score_frames(imgs, first, al, norm, widx):
        for j, im in enumerate(imgs):
            frame_scores[first + j] = (det.frame_score((im - _lowpass(im)) * norm, al), widx)

    def finish(imgs, first):
        nonlocal prev
        k = len(windows)
        avg = np.mean(imgs, axis=0)
        hp, norm = _whiten(avg)
        img = hp * norm
        al = det.search(img)
        p = det.false_positive_probability(al.z) if al is not None else 1.0
        rec = {"start": round(first / fps, 6), "end": round((first + len(imgs)) / fps, 6),
               "frames": [first, first + len(imgs)], "detected": bool(p < FALSE_POSITIVE_LIMIT),
               "score": round(al.z, 2) if al is not None else 0.0,
               "false_positive_probability": _fmt_p(p), "payload": None}
        rec["_al"], rec["_norm"] = al, norm
        if rec["detected"]:
            soft, g = det.soft_bits(img, al)
            pl, ok = det.decode(soft, g)
            rec["payload"] = pl.to_dict() if ok else None
            rec["_soft"] = soft * g * g
            soft_sum[:] += soft * g * g
            gains.append(g)
            score_frames(imgs, first, al, norm, k)
            # the previous window, if not detected, is scored at this alignment (range edges)
            if prev is not None and not prev[0]["detected"]:
                score_frames(prev[1], prev[0]["frames"][0], al, prev[0]["_norm"], k)
        elif prev is not None and prev[0]["detected"]:
            score_frames(imgs, first, prev[0]["_al"], norm, k - 1)
        windows.append(rec)
        prev = (rec, imgs)

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
    best = max(windows, key=lambda w: w["score"]) if windows else None
    p_file = min(1.0, (best["false_positive_probability"] if best else 1.0) * nwin)
    payload, valid = None, False
    if detected:
        bits, valid = ecc.decode(soft_sum, PAYLOAD_BITS)
        payload = Payload.from_bits(bits).to_dict() if valid else None
        if valid:
            # each detected window: do its data cells agree with the file's payload?
            code = ecc.encode(bits).astype(np.float64) * 2.0 - 1.0
            for w in detected:
                soft = w["_soft"]
                zd = float(soft @ code) / max(1e-12, float(np.sqrt(soft @ soft)))
                w["payload_score"] = round(zd, 2)
                w["payload_match"] = bool(zd >= PAYLOAD_MATCH_Z)
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


def _ranges(windows, frame_scores, n):
    """Synthesised frame ranges: detected windows merged; where a detected window borders an
    undetected one, the edge is placed by a CUSUM of per-frame scores at the detected alignment."""
    mark = np.zeros(n, bool)
    for w in windows:
        if w["detected"]:
            a, b = w["frames"]
            mark[a:b] = True
    # refine each edge between a detected and an undetected window
    for k in range(len(windows) - 1):
        w0, w1 = windows[k], windows[k + 1]
        if w0["detected"] == w1["detected"]:
            continue
        a, b = w0["frames"][0], w1["frames"][1]
        idx = list(range(a, b))
        if not all(i in frame_scores for i in idx):
            continue
        s = np.array([frame_scores[i][0] for i in idx])
        d, u = (w0, w1) if w0["detected"] else (w1, w0)
        mu = float(np.median([frame_scores[i][0] for i in range(*d["frames"])]))
        mu0 = float(np.median([frame_scores[i][0] for i in range(*u["frames"])]))
        if not mu > mu0:
            continue
        # two levels: the marked window's median and the unmarked one's (the static picture
        # correlates a little with the pattern too); the cut is where the sum crosses midway
        x = s - (mu + mu0) / 2.0
        if w0["detected"]:   # marked then unmarked: the cut maximises the sum before it
            c = np.concatenate([[0.0], np.cumsum(x)])
            cut = int(np.argmax(c))
            mark[a:a + cut] = True
            mark[a + cut:b] = False
        else:                # unmarked then marked: the cut maximises the sum after it
            c = np.concatenate([np.cumsum(x[::-1])[::-1], [0.0]])
            cut = int(np.argmax(c))
            mark[a:a + cut] = False
            mark[a + cut:b] = True
    out = []
    i = 0
    while i < n:
        if mark[i]:
            j = i
            while j < n and mark[j]:
                j += 1
            out.append([i, j])
            i = j
        else:
            i += 1
    return out
