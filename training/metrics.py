# SPDX-License-Identifier: GPL-3.0-or-later
"""Held-out image metrics and the nearest-neighbour baseline (numpy + OpenCV, no torch).

PSNR and SSIM are computed on RGB images in 0..1, restricted to a mask: PSNR from the mean
squared error over the masked pixels (all three channels), SSIM (Gaussian window, sigma 1.5,
K1 = 0.01, K2 = 0.03, per channel) averaged over the masked pixels.
"""

import cv2
import numpy as np

from ..face.geometry import robust_similarity_2d


def psnr_masked(pred, target, mask):
    """PSNR (dB) of (H, W, 3) images in 0..1 over the pixels where ``mask`` (H, W) > 0.5."""
    m = np.asarray(mask) > 0.5
    if not m.any():
        return float("nan")
    d = (np.asarray(pred, np.float64) - np.asarray(target, np.float64))[m]
    mse = float(np.mean(d**2))
    return float(10.0 * np.log10(1.0 / max(mse, 1e-12)))


def ssim_map(a, b):
    """Per-pixel SSIM (H, W) averaged over channels, images in 0..1."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    C1, C2 = 0.01**2, 0.03**2
    blur = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    saa = blur(a * a) - mu_a**2
    sbb = blur(b * b) - mu_b**2
    sab = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + C1) * (2 * sab + C2)) / ((mu_a**2 + mu_b**2 + C1) * (saa + sbb + C2))
    return s.mean(-1) if s.ndim == 3 else s


def ssim_masked(pred, target, mask):
    m = np.asarray(mask) > 0.5
    if not m.any():
        return float("nan")
    return float(ssim_map(pred, target)[m].mean())


def summarise(preds, targets, faces, mouths):
    """Mean PSNR/SSIM over frames inside the face mask and the mouth region; inputs are lists of
    (H, W, 3) 0..1 images and (H, W) masks."""
    out = {"psnr_face": [], "ssim_face": [], "psnr_mouth": [], "ssim_mouth": []}
    for p, t, f, mo in zip(preds, targets, faces, mouths):
        out["psnr_face"].append(psnr_masked(p, t, f))
        out["ssim_face"].append(ssim_masked(p, t, f))
        out["psnr_mouth"].append(psnr_masked(p, t, mo))
        out["ssim_mouth"].append(ssim_masked(p, t, mo))
    res = {k: round(float(np.nanmean(v)), 4) if len(v) else None for k, v in out.items()}
    res["frames"] = len(preds)
    return res


def nearest_neighbour(clip, train_rows, val_rows):
    """Nearest-neighbour baseline: for each held-out row, the training row with the closest
    expression + pose features, its crop aligned onto the held-out row's crop by the similarity
    between their fitted mesh points. Returns (H, W, 3) float images in 0..1 per held-out row."""
    F = np.nan_to_num(clip.features)
    tr = np.asarray(train_rows)
    S = clip.crops.shape[1]
    out = []
    for r in val_rows:
        d = ((F[tr] - F[r]) ** 2).sum(1)
        j = int(tr[np.argmin(d)])
        img = cv2.warpAffine(clip.crops[j], robust_similarity_2d(clip.points[j], clip.points[r]), (S, S),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out.append(img.astype(np.float32) / 255.0)
    return out
