# SPDX-License-Identifier: GPL-3.0-or-later
"""The anchor of ``bench/watermark.py`` (issue 13): invisible-watermark's ``dwtDctSvd``, a
per-frame image watermark, marked on the same clips and read after the same attacks.

invisible-watermark 0.2.0 (requirements/anchor.txt, installed with ``--no-deps``: its metadata
asks for opencv-python, which must not sit beside opencv-python-headless; headless cv2 works)
with PyWavelets; the package imports torch (dev environment). ``dwtDctSvd`` marks the U chroma
plane of each frame (the library's default scales). It embeds a fixed number of bits in every frame
and always returns bits: it has no detector and no false-positive figure. Here every frame
carries 48 bits (a hash of the clip's job id: ones and zeros balanced); a one-second window
counts as read *with the right payload* when the bitwise majority over its decoded frames is
exactly the payload (evidence accumulated over the window, as Reenact's detector does), and the
per-frame bit accuracy is reported beside it. To keep the run short, every ``step``-th frame of a
window is decoded. Frames under 256 x 256 (a 50 % downscale of a 480 px clip) are refused by the
library: such windows count as not read.
"""

import time

import numpy as np

BITS = 48
METHOD = "dwtDctSvd"


def unavailable():
    """None when the anchor can run, else one line saying why not."""
    import importlib

    try:
        importlib.import_module("pywt")
        importlib.import_module("imwatermark").WatermarkEncoder().set_watermark("bits", [1, 0])
    except Exception as e:  # ImportError, or a broken install
        return "invisible-watermark not usable here ({}: {}); install requirements/anchor.txt with --no-deps".format(
            type(e).__name__, e)
    return None


def payload_bits(job_id):
    """48 bits for a job id: a hash of it, so that ones and zeros are balanced (a payload of mostly
    zeros would make a decoder stuck at zero look accurate)."""
    import hashlib

    h = hashlib.sha256("reenact-anchor\0{}".format(int(job_id)).encode("utf-8")).digest()[: BITS // 8]
    return np.unpackbits(np.frombuffer(h, np.uint8)).astype(bool)


class Anchor:
    def __init__(self, bits):
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.bits = np.asarray(bits, bool)
        self.enc = WatermarkEncoder()
        self.enc.set_watermark("bits", [int(b) for b in self.bits])
        self.dec = WatermarkDecoder("bits", len(self.bits))

    def embed(self, rgb):
        """RGB uint8 -> marked RGB uint8 (the library works on BGR)."""
        out = self.enc.encode(np.ascontiguousarray(rgb[..., ::-1]), METHOD)
        return np.ascontiguousarray(out[..., ::-1])

    def decode(self, rgb):
        if rgb.shape[0] * rgb.shape[1] < 256 * 256:
            return None  # the library refuses frames this small
        return np.asarray(self.dec.decode(np.ascontiguousarray(rgb[..., ::-1]), METHOD), bool)


def read_windows(anchor, frames, fps, step=3, window=1.0):
    """Per one-second window: ``right`` (majority of the decoded frames == the payload) and the
    mean per-frame bit accuracy."""
    out = []
    per = fps * window
    n = len(frames)
    k = 0
    while k * per < n - 0.5:
        a, b = int(round(k * per)), min(n, int(round((k + 1) * per)))
        decoded = [anchor.decode(frames[i]) for i in range(a, b, step)]
        decoded = [d for d in decoded if d is not None]
        if decoded:
            d = np.array(decoded)
            acc = float((d == anchor.bits).mean())
            vote = d.mean(axis=0) > 0.5
            out.append({"right": bool(np.array_equal(vote, anchor.bits)), "bit_accuracy": acc})
        else:
            out.append({"right": False, "bit_accuracy": float("nan")})
        k += 1
    return out


def speed_1080p(frame, reps=3):
    """ms per 1920x1080 frame to embed and to decode."""
    import cv2

    f = cv2.resize(frame, (1920, 1080), interpolation=cv2.INTER_LINEAR)
    a = Anchor(payload_bits(1))
    m = a.embed(f)
    t = time.perf_counter()
    for _ in range(reps):
        m = a.embed(f)
    t1 = time.perf_counter()
    for _ in range(reps):
        a.decode(m)
    t2 = time.perf_counter()
    return (t1 - t) / reps * 1000.0, (t2 - t1) / reps * 1000.0
