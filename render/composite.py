# SPDX-License-Identifier: GPL-3.0-or-later
"""Paste rendered face crops back into full frames, seamlessly (numpy + OpenCV).

::

    paste_back(frame, crop, mask, Minv, feather=None, colour=True, levels=None) -> (H, W, 3) uint8

Steps, all inside the bounding box of the blend region (the rest of the frame is never read
or written, so every pixel outside the blend region is bit-exact the original):

1. **Masks** (crop space, then warped with ``Minv``): ``inner`` = the mask eroded by the
   feather and blurred (1 well inside, 0 at the mask edge), the pyramid's blend weight;
   ``outer`` = the mask grown by the feather and blurred, the blend region: 1 on the mask,
   falling to 0 at most ``2 * feather`` px outside it. Where the warped ``outer`` is 0 the
   output is the frame's own pixel.
2. **Colour match**: a low-frequency offset map. In the band around the mask edge the
   rendered crop and the frame both show the skin just inside the mask; their difference there
   is spread over the whole mask by normalised convolution (a cheap membrane, as Poisson
   blending would), clamped, and added to the render. A global light or white-balance change
   of the render disappears, its detail stays.
3. **Laplacian pyramid blend** of the corrected render over the frame with ``inner``:
   low frequencies blend over a wide band, fine detail over a narrow one, so no seam shows.
4. The result is limited by ``outer``: ``out = frame + outer * (blend - frame)``.

All the per-pixel work on the mask (distance transforms, blurs, colour match at half
resolution, pyramid) is done in crop space (S x S); the frame sees four warps inside the bounding
box. Speed: see ``bench/render_path.py`` (~10-15 ms for a 256 px crop on a busy 2-core CPU).
"""

import cv2
import numpy as np

from .meshes import channels, masked_copy, pixels_box


def _inside_distance(m):
    """Euclidean distance (px) from each pixel of the binary mask ``m`` to the nearest pixel
    outside it, the crop border counting as outside (0 outside the mask)."""
    pad = cv2.copyMakeBorder(m.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return cv2.distanceTransform(pad, cv2.DIST_L2, cv2.DIST_MASK_5)[1:-1, 1:-1]


def feather_mask(mask, feather):
    """Soft mask 0..1 (float32): ``mask`` eroded by ``feather`` px, then blurred by ``feather``
    px, so it falls to 0 at the original mask edge and stays 1 well inside."""
    m = np.asarray(mask, np.float32) > 0.5
    f = int(max(0, round(feather)))
    if f <= 0:
        return m.astype(np.float32)
    m = (_inside_distance(m) > f).astype(np.float32)  # crop edge = mask edge
    return cv2.GaussianBlur(m, (0, 0), f / 2.0)


def region_mask(mask, feather):
    """The blend region (float32 0..1): ``mask`` grown by ``feather`` px and blurred by
    ``feather / 2`` px, cut to 0 below 1/512 (so its support is bounded)."""
    m = np.asarray(mask, np.float32) > 0.5
    f = int(max(0, round(feather)))
    if f <= 0:
        return m.astype(np.float32)
    out = cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    grown = (out <= f).astype(np.float32)
    grown = cv2.GaussianBlur(grown, (0, 0), f / 2.0)
    grown[grown < 1.0 / 512] = 0.0
    return grown


def _support_bbox(m):
    """(y0, x0, y1, x1) of the non-zero pixels of ``m`` (:func:`~.meshes.pixels_box`, rows first)."""
    x0, y0, x1, y1 = pixels_box(m)
    return y0, x0, y1, x1


def laplacian_blend(a, b, w, levels):
    """Multi-band blend of ``a`` over ``b`` (float32 (h, w, c)) with weight ``w`` (h, w) 0..1:
    ``b + sum_l G_l(w) * L_l(a - b)`` (the pyramids are linear, so one pyramid of the
    difference is enough)."""
    d = a - b
    h, wd = d.shape[:2]
    gs = [w]
    ds = [d]
    for _ in range(levels):
        if min(ds[-1].shape[:2]) < 8:
            break
        ds.append(cv2.pyrDown(ds[-1]))
        gs.append(cv2.pyrDown(gs[-1]))
    acc = ds[-1] * gs[-1][..., None]
    for lvl in range(len(ds) - 2, -1, -1):
        size = (ds[lvl].shape[1], ds[lvl].shape[0])
        up = cv2.pyrUp(ds[lvl + 1], dstsize=size)
        lap = ds[lvl] - up
        acc = cv2.pyrUp(acc, dstsize=size) + lap * gs[lvl][..., None]
    return b + acc


def _reduce(img, sigma):
    """Pyramid-reduce ``img`` until ``sigma`` is ~4 px at that scale; returns (small, sigma there)."""
    small, s = img, float(sigma)
    while s > 4.0 and min(small.shape[:2]) >= 16:
        small = cv2.pyrDown(small)
        s /= 2.0
    return small, max(s, 0.5)


def colour_offset(render, frame, inner_hard, band, sigma, limit=48.0):
    """Low-frequency offset map (float32 (h, w, 3)) that moves ``render`` onto ``frame`` in the
    ``band`` (h, w float 0..1) around the mask edge, spread over the mask by normalised
    convolution with a Gaussian of ``sigma`` px (computed on a reduced copy: only low
    frequencies are wanted); clamped to +-``limit``; 0 where ``inner_hard`` is 0."""
    h, w = band.shape[:2]
    diff = (frame - render) * band[..., None]
    small, s = _reduce(np.concatenate([diff, band[..., None]], 2), sigma)
    wsum = float(band.sum())
    mean = diff.reshape(-1, 3).sum(0) / max(wsum, 1e-6)
    small = cv2.GaussianBlur(small, (0, 0), s)
    num, den = small[..., :3], small[..., 3:]
    off = num / np.maximum(den, 1e-3)
    # far from the band the estimate gets weak: fall back to the band's mean difference there
    conf = np.clip(den / max(float(den.max()), 1e-6) * 4.0, 0, 1)
    off = np.clip(conf * off + (1 - conf) * mean, -limit, limit).astype(np.float32)
    if off.shape[:2] != (h, w):
        off = cv2.resize(off, (w, h), interpolation=cv2.INTER_LINEAR)
    return off * inner_hard[..., None]


#: detail transfer (see :func:`paste_back`): where the render and the detail source differ by
#: less than DETAIL_AGREE (8-bit levels, crop scale, blurred by DETAIL_BLUR crop pixels) the
#: detail is kept whole; from DETAIL_DISAGREE up it is dropped (the network drew something the
#: source does not show)
DETAIL_AGREE = 10.0
DETAIL_DISAGREE = 30.0
DETAIL_BLUR = 1.5
#: below SNAP_AGREE levels of difference the render's colours are the detail source's, above
#: SNAP_DIFFER the render's own (the network's frame-to-frame noise is a few levels)
SNAP_AGREE = 3.0
SNAP_DIFFER = 8.0


#: :func:`paste_back` works on the part of the crop within SUB_PAD_FEATHERS feathers plus
#: SUB_PAD_LEVEL coarsest-level pixels of the mask, when that part is under SUB_AREA of the crop
#: (the result differs from the whole crop's by the pyramid's far tails: well under a level)
SUB_PAD_FEATHERS = 2.0
SUB_PAD_LEVEL = 2
SUB_AREA = 0.7


def _ramp(d, zero_at, one_at):
    """float32 weight: 1 at or below ``one_at``, 0 at or above ``zero_at``, linear between."""
    return np.clip((zero_at - d) / (zero_at - one_at), 0.0, 1.0).astype(np.float32)


def crop_lowpass(img, M, Minv, S):
    """``img`` (H, W, 3) resampled into the S x S crop (``S`` may be a (width, height) pair;
    ``M``: frame -> crop, ``Minv`` its inverse) without aliasing: blurred first by half the frame pixels per crop pixel, so the
    crop holds the image's low frequencies and not a sample of its grain. float32."""
    cw, ch = (int(S), int(S)) if np.ndim(S) == 0 else (int(S[0]), int(S[1]))
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(Minv, np.float64)[:, :2]))))
    if scale <= 1.25:
        return cv2.warpAffine(img, M, (cw, ch), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    H, W = img.shape[:2]
    corners = np.array([[0, 0], [cw, 0], [0, ch], [cw, ch]], np.float64) @ Minv[:, :2].T + Minv[:, 2]
    pad = int(np.ceil(2 * scale)) + 2
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + pad, (W, H))
    if x1 <= x0 or y1 <= y0:
        return cv2.warpAffine(img, M, (cw, ch), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    sub = cv2.GaussianBlur(np.ascontiguousarray(img[y0:y1, x0:x1]), (0, 0), 0.5 * scale)
    M2 = np.asarray(M, np.float64).copy()
    M2[:, 2] += M2[:, :2] @ np.array([x0, y0], np.float64)
    return cv2.warpAffine(sub, M2, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)


def paste_back(frame, crop, mask, Minv, feather=None, colour=True, levels=None, detail=None,
               detail_valid=None, _sub=True):
    """``frame`` (H, W, 3) uint8 with ``crop`` (S, S, 3) uint8 pasted where ``mask`` (S, S),
    warped by ``Minv`` (2x3, frame <- crop), is on: colour matched and blended with a Laplacian
    pyramid (see the module doc). ``feather`` in crop pixels (default S/32); ``colour``: match
    the render's low frequencies to the frame around the mask edge; ``levels``: pyramid levels
    (default: enough for the feather). Pixels outside the blend region (the mask grown by
    about ``2 * feather`` px, see :func:`blend_region`) are returned bit-exact; a new array is
    returned.

    ``detail`` (H, W, 3) uint8, optional: a full-resolution image aligned with the requested
    face (the frame itself, or the frame warped to the performance by the face mesh). Its
    frequencies above the crop's resolution are added inside the mask wherever the render at
    crop scale agrees with it (within DETAIL_AGREE..DETAIL_DISAGREE levels) and ``detail_valid`` ((H, W) 0..1, the
    warp's validity; default 1) allows, so skin, stubble and hair keep the footage's sharpness
    while what the network drew anew (an opened mouth, teeth) stays the network's. Where the
    render equals the detail source at crop scale the result is the detail source itself."""
    frame = np.asarray(frame)
    crop = np.asarray(crop)
    S = crop.shape[0]
    H, W = frame.shape[:2]
    feather = S / 32.0 if feather is None else float(feather)
    hard = np.asarray(mask, np.float32) > 0.5
    if not hard.any():
        return frame.copy()
    Minv = np.asarray(Minv, np.float64)
    fpx = max(1.0, feather)
    if levels is None:
        levels = int(np.clip(np.log2(max(2.0, fpx * 2)), 1, 5))
    if _sub:
        # a mask covering part of the crop (the mouth region): the crop-space work is done on
        # the part of the crop that can matter, the blend region and the pyramid's reach
        y0c, x0c, y1c, x1c = _support_bbox(hard)
        pad = int(np.ceil(SUB_PAD_FEATHERS * fpx)) + SUB_PAD_LEVEL * 2 ** levels
        y0c, x0c = max(0, y0c - pad), max(0, x0c - pad)
        y1c, x1c = min(crop.shape[0], y1c + pad), min(crop.shape[1], x1c + pad)
        if (y1c - y0c) * (x1c - x0c) < SUB_AREA * crop.shape[0] * crop.shape[1]:
            Ms = Minv.copy()
            Ms[:, 2] += Minv[:, :2] @ np.array([x0c, y0c], np.float64)
            return paste_back(frame, crop[y0c:y1c, x0c:x1c], hard[y0c:y1c, x0c:x1c], Ms, feather, colour, levels,
                              detail, detail_valid, _sub=False)
    out = frame.copy()
    cw, ch = crop.shape[1], crop.shape[0]
    inner = feather_mask(hard, feather)
    outer = region_mask(hard, feather)
    # --- crop space: colour match and multi-band blend against the frame's own crop ----------
    M = cv2.invertAffineTransform(Minv)
    real = cv2.warpAffine(frame, M, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    rend = crop.astype(np.float32)
    if colour:
        dist = _inside_distance(hard)
        band = ((dist > 0) & (dist <= 2 * fpx)).astype(np.float32)
        if band.sum() > 8:
            extent = np.sqrt(max(float(hard.sum()), 1.0))
            # at half resolution: only the low frequencies are wanted
            region = (outer > 0).astype(np.float32)
            off = colour_offset(cv2.pyrDown(rend), cv2.pyrDown(real), cv2.pyrDown(region), cv2.pyrDown(band),
                                max(1.0, extent / 8.0))
            rend = rend + cv2.resize(off, (cw, ch), interpolation=cv2.INTER_LINEAR) * region[..., None]
    if detail is not None:
        detail = np.asarray(detail)
        real_d = crop_lowpass(detail, M, Minv, (cw, ch))
        diff = cv2.GaussianBlur(np.abs(rend - real_d).mean(2), (0, 0), DETAIL_BLUR)
        gate = _ramp(diff, DETAIL_DISAGREE, DETAIL_AGREE) * inner
        # differences of a few levels are the network's noise, not the performance: there the
        # footage's own colours are kept (a still face stays still)
        snap = _ramp(diff, SNAP_DIFFER, SNAP_AGREE)
        if detail_valid is not None:  # not from a warp's holes
            snap *= cv2.warpAffine(np.asarray(detail_valid, np.float32), M, (cw, ch), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        rend = rend + snap[..., None] * (real_d - rend)
    blend = laplacian_blend(rend, real, inner, levels)
    # --- frame space, inside the bounding box of the blend region -----------------------------
    y0c, x0c, y1c, x1c = _support_bbox(outer)
    corners = np.array([[x0c, y0c], [x1c, y0c], [x0c, y1c], [x1c, y1c]], np.float64) @ Minv[:, :2].T + Minv[:, 2]
    x0, y0 = np.floor(corners.min(0)).astype(int) - 2
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return out
    A = Minv.copy()
    A[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    def wrp(img):
        return cv2.warpAffine(img, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    w_out = wrp(outer)
    w_out[w_out < 1.0 / 512] = 0.0
    w_in = channels(np.minimum(wrp(inner), w_out))
    roi = out[y0:y1, x0:x1]
    orig = roi.astype(np.float32)
    # the difference is added where the region is (the frame's full detail kept around the
    # mask); well inside, the blended crop replaces the frame (no trace of the original)
    res = wrp(blend - real)
    res *= channels(w_out)
    res += orig
    res += w_in * (wrp(real) - orig)
    if detail is not None:
        g = wrp(gate)
        if detail_valid is not None:
            # the warp's holes, grown and softened by a couple of crop pixels: the footage's
            # pixels at a hole's rim are the stretched edge of what the hole replaced
            v = np.ascontiguousarray(np.asarray(detail_valid, np.float32)[y0:y1, x0:x1])
            px = float(np.sqrt(abs(np.linalg.det(Minv[:, :2]))))
            r = int(np.ceil(1.5 * px))
            v = cv2.erode(v, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
            g *= cv2.GaussianBlur(v, (0, 0), max(0.5, px))
        res += channels(g) * (detail[y0:y1, x0:x1].astype(np.float32) - wrp(real_d))
    res += 0.5
    res = np.clip(res, 0, 255, out=res).astype(np.uint8)
    masked_copy(roi, res, w_out > 0)  # outside the region: untouched
    return out


def mask_box(mask, Minv, frame_shape):
    """(x0, y0, x1, y1): the frame pixels under the bounding box of ``mask``'s non-zero pixels
    (crop space, mapped by ``Minv``), clipped to ``frame_shape``; None for an empty mask."""
    m = np.asarray(mask)
    if not (m > 0).any():
        return None
    y0c, x0c, y1c, x1c = _support_bbox(m > 0)
    Minv = np.asarray(Minv, np.float64)
    corners = np.array([[x0c, y0c], [x1c, y0c], [x0c, y1c], [x1c, y1c]], np.float64) @ Minv[:, :2].T + Minv[:, 2]
    H, W = frame_shape[:2]
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    return max(0, int(x0)), max(0, int(y0)), min(W, int(x1)), min(H, int(y1))


def blend_region(frame_shape, mask, Minv, feather=None):
    """Boolean (H, W) map of the frame pixels :func:`paste_back` may change for this mask."""
    H, W = frame_shape[:2]
    S = np.asarray(mask).shape[0]
    feather = S / 32.0 if feather is None else float(feather)
    outer = region_mask((np.asarray(mask, np.float32) > 0.5).astype(np.float32), feather)
    w = cv2.warpAffine(outer, np.asarray(Minv, np.float64), (W, H), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return w >= 1.0 / 512


def blend_shares(track):
    """(T,) float: :attr:`~reenact.face.track.Track.blend` of ``track`` (NaN everywhere when it
    was not looked for)."""
    b = np.asarray(track.blend, np.float64)
    return b if len(b) == track.n_frames else np.full(track.n_frames, np.nan)


def through_dissolve(res, frame, share):
    """A row's result ``res`` (H, W, 3) uint8 over its decoded ``frame`` in a dissolve, where the
    row's shot has ``share`` (0..1) of the picture and the other shot is seen through it: the
    change faded by that share, as the dissolve fades the face it changes (drawn whole, a dub's
    mouth stood solid in a face half gone). ``res`` itself where ``share`` is NaN or 1."""
    if frame is None or not np.isfinite(share) or share >= 1.0:
        return res
    f = np.asarray(frame, np.float32)
    w = np.float32(max(float(share), 0.0))
    return np.clip(f + w * (np.asarray(res, np.float32) - f) + 0.5, 0, 255).astype(np.uint8)
