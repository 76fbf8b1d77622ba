# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe (issue 13, not a format): a watermark that is a keyed zero-phase filter of the picture.

A mark added at fixed places in the frame slips against moving content, and that slip is the
warping error's increase the flicker target counts (docs/provenance.md, *Flicker*). A linear
filter commutes with translation: ``Y + a * (k * Y)`` for a keyed, symmetric, zero-mean kernel
``k`` moves with whatever the picture shows, so it should add no warping error. Its evidence is
in the picture's power spectrum (``|1 + a K(f)|^2``), read blind by averaging block spectra and
correlating their fine structure with the key's. This script measures both on shared clips at
PSNR 42 dB: the detection statistic marked / unmarked / under 20 other keys (the null's spread),
and the squared warping error's increase (DIS flow of the unmarked frames, as the bench)::

    python tools/wm_filter_probe.py driving_d14,driving_d11,driving_d0

No attacks (no re-encode, no downscale), no payload: if the clean case is weak, those are moot.
"""

import os
import sys

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIPS = os.path.join(os.path.dirname(ROOT), "shared", "data", "clips")
B = 64  # Welch block
HANN = np.outer(np.hanning(B), np.hanning(B)).astype(np.float32)


def luma_frames(clip, n=30, start=20):
    sys.path.insert(0, os.path.dirname(ROOT))
    from reenact.video.decode import open_video

    v = open_video(os.path.join(CLIPS, clip + ".mp4"))
    try:
        return np.stack([cv2.cvtColor(v.read(i), cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
                         for i in range(start, start + n)])
    finally:
        v.close()


def kernel(K, seed):
    """A keyed K x K kernel: symmetric (zero phase), zero mean, tapered, unit energy."""
    r = np.random.default_rng(seed).standard_normal((K, K)).astype(np.float32)
    r = 0.5 * (r + r[::-1, ::-1])
    w = np.hanning(K + 2)[1:-1]
    r = (r - r.mean()) * np.outer(w, w).astype(np.float32)
    r -= r.mean()
    return r / np.sqrt((r ** 2).sum())


def welch(Y):
    H, W = Y.shape
    P, n = np.zeros((B, B)), 0
    for y in range(0, H - B + 1, B // 2):
        for x in range(0, W - B + 1, B // 2):
            blk = Y[y:y + B, x:x + B]
            P += np.abs(np.fft.fft2((blk - blk.mean()) * HANN)) ** 2
            n += 1
    return P / n


def statistic(spectra, k):
    """Normalised correlation of the averaged log spectrum's fine structure with the key's
    frequency response, scaled by the root of half the bins used (~N(0, 1) if bins were
    independent; the null's real spread is measured with other keys)."""
    L = np.log(np.mean(spectra, 0) + 1e-6).astype(np.float32)
    K = k.shape[0]
    kk = np.zeros((B, B), np.float32)
    kk[:K, :K] = k
    Kf = np.real(np.fft.fft2(np.roll(kk, (-(K // 2), -(K // 2)), (0, 1)))).astype(np.float32)
    R = L - cv2.GaussianBlur(L, (0, 0), 1.5)
    T = Kf - cv2.GaussianBlur(Kf, (0, 0), 1.5)
    f = np.hypot(np.fft.fftfreq(B)[:, None], np.fft.fftfreq(B)[None])
    m = (f > 0.03) & (f < 0.3)
    r, q = R[m] - R[m].mean(), T[m] - T[m].mean()
    return float((r * q).sum() / np.sqrt((r * r).sum() * (q * q).sum()) * np.sqrt(m.sum() / 2))


def warping_increase(Fu, Fm):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    H, W = Fu.shape[1:]
    gx, gy = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    eu, em = [], []
    for t in range(1, len(Fu)):
        fl = dis.calc(np.clip(Fu[t], 0, 255).astype(np.uint8), np.clip(Fu[t - 1], 0, 255).astype(np.uint8), None)
        mx, my = gx + fl[..., 0], gy + fl[..., 1]
        eu.append(((Fu[t] - cv2.remap(Fu[t - 1], mx, my, cv2.INTER_LINEAR)) ** 2).mean())
        em.append(((Fm[t] - cv2.remap(Fm[t - 1], mx, my, cv2.INTER_LINEAR)) ** 2).mean())
    return float(np.mean(em) / np.mean(eu) - 1.0)


def main(argv=None):
    clips = (argv or sys.argv[1:] or ["driving_d14,driving_d11,driving_d0"])[0].split(",")
    print("clip  K  gain  stat marked / unmarked  null mean / sd  one frame  warping error (squared)")
    for clip in clips:
        F = luma_frames(clip)
        for K in (9, 17, 33):
            k = kernel(K, 1234)
            d = np.stack([cv2.filter2D(f, -1, k, borderType=cv2.BORDER_REFLECT) for f in F])
            a = float(255.0 / np.sqrt(np.mean(d ** 2)) / 10 ** (42.0 / 20.0))  # PSNR 42 dB
            Fm = F + a * d
            Pm, Pu = [welch(f) for f in Fm], [welch(f) for f in F]
            null = [statistic(Pu, kernel(K, s)) for s in range(20)]
            print("{} {:2d} {:.3f}  {:.1f} / {:.1f}  {:.2f} / {:.2f}  {:.1f}  {:+.1%}".format(
                clip, K, a, statistic(Pm, k), statistic(Pu, k), np.mean(null), np.std(null),
                statistic(Pm[:1], k), warping_increase(F[:12], Fm[:12])), flush=True)


if __name__ == "__main__":
    main()
