# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle metrics (numpy + OpenCV): PSNR/SSIM, colourfulness (Hasler & Suesstrunk 2003),
colour distribution consistency (CDC, Lei & Chen 2019) and the warping error (Lai et al. 2018).

Images are float RGB in 0..1 (H, W, 3); clips are sequences of them.
"""

import cv2
import numpy as np

from ..training.metrics import ssim_map


def psnr(a, b):
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float(10.0 * np.log10(1.0 / max(mse, 1e-12)))


def ssim(a, b):
    return float(ssim_map(a, b).mean())


def colourfulness(img):
    """Hasler-Suesstrunk colourfulness M of one image (on 0..255 values)."""
    img = np.asarray(img, np.float64) * 255.0
    rg = img[..., 0] - img[..., 1]
    yb = 0.5 * (img[..., 0] + img[..., 1]) - img[..., 2]
    return float(np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))


def _ab_hist(img, bins=32):
    lab = cv2.cvtColor(np.clip(np.asarray(img, np.float32), 0, 1), cv2.COLOR_RGB2Lab)
    hs = []
    for c in (1, 2):
        h, _ = np.histogram(lab[..., c], bins=bins, range=(-128, 128))
        hs.append(h.astype(np.float64) / max(1, h.sum()))
    return hs


def _js(p, q):
    m = 0.5 * (p + q)

    def kl(a, b):
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / b[nz])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def cdc(frames, gaps=(1, 2, 4)):
    """Colour distribution consistency: mean Jensen-Shannon divergence between the a and b
    histograms (CIELAB) of frames ``gap`` apart, averaged over the gaps. Lower is steadier."""
    hs = [_ab_hist(f) for f in frames]
    vals = []
    for g in gaps:
        if len(hs) <= g:
            continue
        d = [0.5 * (_js(hs[t][0], hs[t + g][0]) + _js(hs[t][1], hs[t + g][1])) for t in range(len(hs) - g)]
        vals.append(float(np.mean(d)))
    return float(np.mean(vals)) if vals else float("nan")


_DIS = None


def dis_flow(a, b):
    """DIS optical flow (medium preset) from grey uint8 image ``a`` to ``b``: flow such that
    ``a(p) ~ b(p + flow(p))``."""
    global _DIS
    if _DIS is None:
        _DIS = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return _DIS.calc(a, b, None)


def warp(img, flow):
    """Sample ``img`` at ``p + flow(p)`` (backward warp)."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(np.ascontiguousarray(img, np.float32), gx + flow[..., 0], gy + flow[..., 1],
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def grey_u8(img):
    return cv2.cvtColor((np.clip(img, 0, 1) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def flows_with_occlusion(inputs, thresh=0.5):
    """For consecutive input frames: (flow t -> t-1, non-occlusion mask at t) from a forward-backward
    consistency check, as Lai et al. mask the warping error."""
    out = []
    for t in range(1, len(inputs)):
        g0, g1 = grey_u8(inputs[t - 1]), grey_u8(inputs[t])
        fb = dis_flow(g1, g0)  # t -> t-1
        ff = dis_flow(g0, g1)  # t-1 -> t
        back = warp(ff, fb)
        err = np.sum((fb + back) ** 2, -1)
        mag = np.sum(fb**2, -1) + np.sum(back**2, -1)
        mask = (err <= 0.01 * mag + thresh).astype(np.float32)
        out.append((fb, mask))
    return out


def warping_error(frames, flows):
    """Mean over t of the occlusion-masked squared difference between frame t and frame t-1
    warped to t (flows from :func:`flows_with_occlusion` on the *input* clip)."""
    errs = []
    for t in range(1, len(frames)):
        fb, mask = flows[t - 1]
        w = warp(frames[t - 1], fb)
        d = np.sum((np.asarray(frames[t], np.float32) - w) ** 2, -1)
        errs.append(float((d * mask).sum() / max(1.0, mask.sum())))
    return float(np.mean(errs)) if errs else float("nan")
