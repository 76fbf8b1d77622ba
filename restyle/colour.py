# SPDX-License-Identifier: GPL-3.0-or-later
"""Colour maths shared by training (mirrored in torch) and inference (numpy, no torch).

The restyle generator does not draw pixels: it predicts, on a coarse grid, the coefficients of a
per-pixel colour transform that is then applied to the input at any resolution (the change is
carried to full resolution guided by the input itself, so detail is kept):

- RGB mode, 21 coefficients per cell: ``out_c = sum_j A[c, j] * f_j`` with the features
  ``f = (r, g, b, r^2, g^2, b^2, 1)``; the identity is ``A = [I | 0 | 0]``.
- Colourise mode, 4 coefficients: ``Cb = a_b * Y + b_b``, ``Cr = a_r * Y + b_r``; the
  luminance ``Y`` of the shot is kept as it is.

YCbCr is the full-range BT.601 (JPEG) one: ``Y = .299 R + .587 G + .114 B``.
"""

import cv2
import numpy as np

N_FEAT = 7
KR, KG, KB = 0.299, 0.587, 0.114


def identity_coefs():
    """(21,) coefficients of the identity RGB transform."""
    a = np.zeros((3, N_FEAT), np.float32)
    a[0, 0] = a[1, 1] = a[2, 2] = 1.0
    return a.reshape(-1)


def luma(rgb):
    rgb = np.asarray(rgb, np.float32)
    return rgb[..., 0] * KR + rgb[..., 1] * KG + rgb[..., 2] * KB


def rgb_to_ycc(rgb):
    rgb = np.asarray(rgb, np.float32)
    y = luma(rgb)
    cb = (rgb[..., 2] - y) * (0.5 / (1 - KB))
    cr = (rgb[..., 0] - y) * (0.5 / (1 - KR))
    return np.stack([y, cb, cr], -1)


def ycc_to_rgb(y, cb, cr):
    r = y + cr * (2 * (1 - KR))
    b = y + cb * (2 * (1 - KB))
    g = (y - KR * r - KB * b) / KG
    return np.stack([r, g, b], -1)


def grey3(rgb):
    """Grey version (H, W, 3) of an RGB image: its luminance in all three channels."""
    y = luma(rgb)
    return np.repeat(y[..., None], 3, -1)


def upsample(coef, size):
    """(h, w, K) float32 map -> (H, W, K) bilinear (half-pixel centres, like torch align_corners=False)."""
    W, H = size
    coef = np.ascontiguousarray(coef, np.float32)
    if coef.shape[:2] == (H, W):
        return coef
    out = cv2.resize(coef, (W, H), interpolation=cv2.INTER_LINEAR)
    return out if out.ndim == 3 else out[..., None]


def apply_rgb(img, coef):
    """Apply an RGB transform: ``img`` (H, W, 3) float 0..1, ``coef`` (H, W, 21) -> (H, W, 3), unclipped."""
    img = np.asarray(img, np.float32)
    H, W = img.shape[:2]
    feat = np.concatenate([img, img * img, np.ones_like(img[..., :1])], -1)
    return np.einsum("hwck,hwk->hwc", coef.reshape(H, W, 3, N_FEAT), feat)


def chroma_from(y, coef):
    """Colourise mode: (H, W) luminance and (H, W, 4) coefficients -> (H, W, 2) Cb, Cr."""
    return np.stack([coef[..., 0] * y + coef[..., 1], coef[..., 2] * y + coef[..., 3]], -1)


def colourise_rgb(y, coef):
    """Full colour image from luminance ``y`` (H, W) 0..1 and chroma coefficients (H, W, 4).

    Where the chroma would push a channel out of 0..1 it is scaled down (towards grey) just
    enough, so the result's BT.601 luminance is exactly ``y``: after rounding to 8 bits each
    channel moves by at most half a level and the 8-bit luminance of the result is the shot's.
    """
    y = np.asarray(y, np.float32)
    c = chroma_from(y, coef)
    d = ycc_to_rgb(np.zeros_like(y), c[..., 0], c[..., 1])  # zero-luminance colour offset
    yy = y[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        lim = np.where(d > 0, (1.0 - yy) / d, np.where(d < 0, -yy / d, np.inf))
    s = np.clip(lim.min(-1, keepdims=True), 0.0, 1.0)
    return yy + s * d


def to_uint8(img):
    return np.clip(np.round(np.asarray(img, np.float32) * 255.0), 0, 255).astype(np.uint8)


#: what a "colour" refusal adds: a toned black-and-white shot (an archival print's sepia, a
#: scan's cast) counts as colour (since 2026-12-05 the refusal says what to do)
TONED_HINT = "(a toned black-and-white shot, sepia or a colour cast, counts as colour: colourise a desaturated copy)"


#: :func:`is_grey`: chroma (the length of Cb, Cr, averaged over squares of 1/64 of the frame's
#: short side, where a scan's colour fringes at edges cancel out) above this many 8-bit levels
#: is clearly coloured ...
SATURATED = 24.0
#: ... and a frame with more than this share of it holds colour, however little of the frame it
#: is (a selective-colour shot's red coat)
SATURATED_AREA = 0.005


def is_grey(frames_u8, tol=3.0):
    """True when every frame's chroma is (nearly) zero: the mean of |Cb| and |Cr| under ``tol``/255,
    and no more than :data:`SATURATED_AREA` of the frame clearly coloured (:data:`SATURATED`);
    before 2026-12-06 the mean alone, so a grey shot with a small saturated patch passed as grey
    and a colouriser painted over the patch."""
    for f in frames_u8:
        ycc = rgb_to_ycc(f.astype(np.float32) / 255.0)
        if float(np.abs(ycc[..., 1:]).mean()) * 255.0 > tol:
            return False
        k = max(1, int(round(min(f.shape[:2]) / 64.0))) | 1
        c = cv2.blur(np.ascontiguousarray(ycc[..., 1:]), (k, k)) if k > 1 else ycc[..., 1:]
        if np.count_nonzero(np.hypot(c[..., 0], c[..., 1]) * 255.0 > SATURATED) > SATURATED_AREA * c[..., 0].size:
            return False
    return True


# ---------------------------------------------------------------- deterministic known styles
def _smooth(x, k):  # smoothstep-like contrast curve, k in 0..1 blends toward it
    s = x * x * (3 - 2 * x)
    return (1 - k) * x + k * s


def style_grade(img):
    """'teal-orange': a strong film-like grade. Contrast S-curve on luminance with lifted blacks,
    saturation up 50 %, shadows pushed to teal and highlights to orange. Pointwise and
    deterministic; ~21 dB from the untouched frames on the benchmark clips.
    ``img`` (..., 3) float 0..1 -> same shape."""
    img = np.clip(np.asarray(img, np.float32), 0, 1)
    ycc = rgb_to_ycc(img)
    y = ycc[..., 0]
    y2 = 0.06 + 0.91 * _smooth(_smooth(y, 1.0), 0.5)
    cb, cr = ycc[..., 1] * 1.5, ycc[..., 2] * 1.5
    sh, hi = (1 - y) ** 2, y**2
    cb = cb + 0.10 * sh - 0.12 * hi
    cr = cr - 0.08 * sh + 0.10 * hi
    return np.clip(ycc_to_rgb(y2, cb, cr), 0, 1)


def style_bleach(img):
    """'bleach-bypass': desaturated (35 %), high-contrast, cool. Pointwise, deterministic."""
    img = np.clip(np.asarray(img, np.float32), 0, 1)
    ycc = rgb_to_ycc(img)
    y = _smooth(_smooth(ycc[..., 0], 1.0), 0.5)
    return np.clip(ycc_to_rgb(y, ycc[..., 1] * 0.35 + 0.02, ycc[..., 2] * 0.35 - 0.015), 0, 1)


STYLES = {"grade": style_grade, "bleach": style_bleach}
