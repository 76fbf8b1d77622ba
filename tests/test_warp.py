# SPDX-License-Identifier: GPL-3.0-or-later
"""The mesh-driven dense warp (reenact.render.warp) on synthetic heads, and on one shared clip."""

import os

import cv2
import numpy as np
import pytest

from reenact.face.geometry import robust_similarity_2d as similarity_2d
from reenact.face.topology import load_topology
from reenact.render.conditioning import frontal_template
from reenact.render.head import background_plate, fill_background, head_mask, posed_points
from reenact.render.warp import warp_field, warp_image, warp_points

from conftest import shared_clip

S = 256
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- synthetic scenes
def _template(size):
    return frontal_template(size)


def _waves(seed, n=10, min_period=14.0, max_period=60.0):
    """A smooth random texture as a function of continuous coordinates: sum of plane waves."""
    rng = np.random.default_rng(seed)
    ang = rng.uniform(0, np.pi, n)
    freq = 2 * np.pi / rng.uniform(min_period, max_period, n)
    ph = rng.uniform(0, 2 * np.pi, n)
    amp = rng.uniform(0.5, 1.0, (n, 3))

    def tex(x, y):
        out = np.zeros(x.shape + (3,))
        for k in range(n):
            out += np.sin(freq[k] * (np.cos(ang[k]) * x + np.sin(ang[k]) * y) + ph[k])[..., None] * amp[k]
        return out / amp.sum(0) * 2.0  # about -1..1

    return tex


FACE_TEX, HAIR_TEX, BG_TEX = _waves(1), _waves(2), _waves(3, min_period=8.0)


def _scene(P, Sinv=None):
    """A textured head for the (468, 2) template points ``P``: skin inside an ellipse fitted to
    the face oval grown by 10 %, hair in a bigger ellipse above it (beyond the mesh), a textured
    background. ``Sinv``: 3x3 destination -> scene map (the head is drawn moved by its inverse;
    the background never moves). Pixel centres at +0.5."""
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float64) + 0.5
    if Sinv is None:
        Sinv = np.eye(3)
    qx = Sinv[0, 0] * xx + Sinv[0, 1] * yy + Sinv[0, 2]
    qy = Sinv[1, 0] * xx + Sinv[1, 1] * yy + Sinv[1, 2]
    oval = P[load_topology().group("loop_face_oval")]
    c = 0.5 * (oval.min(0) + oval.max(0))
    ax = 0.5 * (oval.max(0) - oval.min(0))
    skin = ((qx - c[0]) / (1.1 * ax[0])) ** 2 + ((qy - c[1]) / (1.1 * ax[1])) ** 2 <= 1
    hair = ((qx - c[0]) / (1.22 * ax[0])) ** 2 + ((qy - c[1] + 0.12 * ax[1]) / (1.25 * ax[1])) ** 2 <= 1
    img = 110 + 40 * BG_TEX(xx, yy)
    img = np.where(hair[..., None], 60 + 30 * HAIR_TEX(qx, qy), img)
    img = np.where(skin[..., None], 170 + 35 * FACE_TEX(qx, qy), img)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8), (hair | skin, skin)


def _similarity(theta, scale, t, centre):
    c, s = np.cos(theta) * scale, np.sin(theta) * scale
    A = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    A[:2, 2] = np.asarray(centre) + np.asarray(t) - A[:2, :2] @ np.asarray(centre)
    return A


def _apply(A, P):
    return P @ A[:2, :2].T + A[:2, 2]


# ----------------------------------------------------------------------------- tests
def test_identity_map():
    P = _template(S)
    f = warp_field(P, P, None, (S, S))
    assert f.map_x.shape == (S, S) and f.map_x.dtype == np.float32
    assert np.abs(f.displacement()).max() < 1e-3
    assert not f.hole.any() and f.valid.min() == 1.0
    img, _ = _scene(P)
    assert np.array_equal(warp_image(img, f), img)


def test_rigid_motion_moves_the_head_exactly():
    P = _template(S)
    P = (P - S / 2) * 0.8 + S / 2  # a smaller head: room for far background in the crop
    A = _similarity(0.12, 1.06, (7.0, -4.0), P.mean(0))
    Q = _apply(A, P)
    src, _ = _scene(P)
    gt, (gt_head, gt_skin) = _scene(P, np.linalg.inv(A))
    f = warp_field(P, Q, None, (S, S), fade=0.3)  # a short fade: far background inside the crop
    for a in (f.map_x, f.map_y, f.valid):
        assert a.shape == (S, S) and np.isfinite(a).all()
    out = warp_image(src, f)
    # the head (skin and the hair beyond the mesh), away from the aliased outlines
    k5 = np.ones((5, 5), np.uint8)
    inner = (cv2.erode(gt_skin.astype(np.uint8), k5) | cv2.erode((gt_head & ~gt_skin).astype(np.uint8), k5)) > 0
    assert inner.sum() > 0.15 * S * S
    assert f.head[inner].all(), "the head region must cover the hair"
    err = np.abs(out.astype(np.float64) - gt)[inner]
    assert err.mean() < 1.0 and np.percentile(err, 99) < 4.0, (err.mean(), np.percentile(err, 99))
    # the hair band (head beyond the face mesh) moves too
    hair = inner & ~cv2.dilate(f.face.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert hair.sum() > 1000
    assert np.abs(out.astype(np.float64) - gt)[hair].mean() < 1.0
    assert np.abs(src.astype(np.float64) - gt)[hair].mean() > 10.0  # it did have to move
    # the mesh vertices land where they were asked to (both ways round)
    assert np.abs(f.source_of(Q) - P).max() < 0.05
    assert np.abs(warp_points(P, f) - Q).max() < 0.05
    # far background untouched: zero displacement, bit-exact pixels
    far = f.weight == 0
    assert far.sum() > 0.1 * S * S
    assert np.abs(f.displacement()[far]).max() == 0.0
    assert np.array_equal(out[far], src[far])
    # no seam at the mesh border: inside the head the field is the one similarity (its
    # gradient is about |s R - I| = 0.13), and the fade is smooth (no fold: steps under 1 px)
    d = f.displacement()
    gy, gx = np.abs(np.diff(d, axis=0)).max(2), np.abs(np.diff(d, axis=1)).max(2)
    hh = f.head & (f.weight == 1)
    assert max(gy[hh[1:] & hh[:-1]].max(), gx[hh[:, 1:] & hh[:, :-1]].max()) < 0.2
    assert max(gy.max(), gx.max()) < 1.0
    # background uncovered by the head's motion is marked, and only outside the moved head
    assert f.disocclusion.any()
    assert not (f.disocclusion & f.head).any()
    assert not f.mouth_hole.any() and not f.eye_hole.any() and not f.occluded.any()
    assert (f.valid[f.face] == 1).all()  # a rigid motion stretches nothing


def _closed_mouth(P):
    """Template points with the lips closed: each lower inner-lip vertex onto its upper partner."""
    topo = load_topology()
    loop = topo.group("loop_lips_inner")
    n = len(loop)
    Q = P.copy()
    for k in range(1, n // 2):
        Q[loop[n - k]] = P[loop[k]] + (0.0, 0.3)
    return Q


def _jaw_drop(P, h):
    """``P`` with the jaw dropped by ``h`` px: everything below the mouth corners moves down by h
    (a short ramp at the corners' height), the lower inner lip fully, the upper lip not at all.
    Returns (points, per-vertex move, upper inner-lip set, lower inner-lip set)."""
    loop = load_topology().group("loop_lips_inner")
    n = len(loop)
    upper = set(int(v) for v in loop[1:n // 2])
    lower_inner = set(int(v) for v in loop[n // 2 + 1:])
    yc = P[[loop[0], loop[n // 2]], 1].mean()
    move = h * np.clip((P[:, 1] - yc + 1.0) / 3.0, 0, 1)
    move[list(upper)] = 0.0
    move[list(lower_inner)] = h
    return P + np.stack([np.zeros_like(move), move], 1), move, upper, lower_inner


def test_mouth_warp_opens_the_lips():
    topo = load_topology()
    P = _closed_mouth(_template(S))
    loop = topo.group("loop_lips_inner")
    h = 12.0
    Q, move, upper, lower_inner = _jaw_drop(P, h)
    # a face with visible lips: skin texture, dark red lips between the outer and inner loops
    img, _ = _scene(P)
    lips = np.zeros((S, S), np.uint8)
    cv2.fillPoly(lips, [np.round((P[topo.group("lips_outer")] - 0.5) * 16).astype(np.int32)[
        np.argsort(np.arctan2(*(P[topo.group("lips_outer")] - P[topo.group("lips_outer")].mean(0)).T[::-1]))]],
        1, cv2.LINE_8, 4)
    img[lips > 0] = (0.6 * img[lips > 0] + 0.4 * np.array([150, 30, 40])).astype(np.uint8)
    f = warp_field(P, Q, None, (S, S))
    out = warp_image(img, f)
    assert np.isfinite(f.map_x).all() and np.isfinite(f.map_y).all()
    # the lower lip's pixels moved down by h: inside the triangles whose corners all moved by h
    tris = topo.triangles
    lowlip = [t for t in tris if np.all(move[t] == h) and any(int(v) in lower_inner for v in t)]
    assert len(lowlip) >= 8
    m = np.zeros((S, S), np.uint8)
    for t in lowlip:
        cv2.fillConvexPoly(m, np.round((Q[t] - 0.5) * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    m = cv2.erode(m, np.ones((3, 3), np.uint8)).astype(bool)
    assert m.sum() > 50
    shifted = np.roll(img, int(h), axis=0)  # src(x - (0, h))
    err = np.abs(out.astype(np.float64) - shifted)[m].mean()
    moved = np.abs(img.astype(np.float64) - shifted)[m].mean()
    assert err < 1.5 and moved > 8 * err, (err, moved)
    dy = f.displacement()[..., 1][m]
    assert np.abs(dy + h).max() < 1e-3
    # the new mouth interior is the hole
    inner = np.zeros((S, S), np.uint8)
    cv2.fillPoly(inner, [np.round((Q[loop] - 0.5) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    core = cv2.erode(inner, np.ones((5, 5), np.uint8)).astype(bool)  # the lips' edge pixels may go either way
    assert core.sum() > 100
    assert f.mouth_hole[core].all()
    near = cv2.dilate(inner, np.ones((5, 5), np.uint8)).astype(bool)
    assert not (f.mouth_hole & ~near).any()
    area = cv2.contourArea(Q[loop].astype(np.float32))
    assert 0.8 * area <= f.mouth_hole.sum() <= inner.sum(), (f.mouth_hole.sum(), area)
    assert (f.valid[core] == 0).all() and (f.valid[m] == 1).all()
    # the upper lip and the forehead stay
    yc = P[list(upper), 1].mean()
    still = [t for t in tris if np.all(move[t] == 0) and yc - 15 < P[t, 1].mean() < yc]  # upper lip band
    m = np.zeros((S, S), np.uint8)
    for t in still:
        cv2.fillConvexPoly(m, np.round((Q[t] - 0.5) * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    m = cv2.erode(m, np.ones((3, 3), np.uint8)).astype(bool)
    assert m.sum() > 50 and np.abs(f.displacement()[m]).max() < 1e-3
    assert np.abs(f.displacement()[: int(P[:, 1].min())]).max() < 1e-3


def test_partly_open_source_keeps_its_teeth_with_the_lips():
    """Source mouth open by g, destination by 2g: the middle band (about g) is the hole, the rest
    of the opening comes from the source unstretched next to each lip."""
    P, *_ = _jaw_drop(_template(S), 6.0)
    Q, *_ = _jaw_drop(P, 10.0)
    f = warp_field(P, Q, None, (S, S))
    mid = P[[13, 14]].mean(0)  # 13 / 14: upper / lower inner lip at the middle
    col = int(mid[0] - 0.5)
    hole_rows = np.flatnonzero(f.mouth_hole[:, col])
    gap_dst = Q[14, 1] - Q[13, 1]
    gap_src = P[14, 1] - P[13, 1]
    assert abs(len(hole_rows) - (gap_dst - gap_src)) <= 2, (len(hole_rows), gap_dst - gap_src)
    # pixels 2 px under the upper lip / over the lower lip sample the source at the same
    # distance from that lip (pixel centres at +0.5)
    j = int(np.ceil(Q[13, 1])) + 1
    assert abs(f.map_y[j, col] + 0.5 - (P[13, 1] + (j + 0.5 - Q[13, 1]))) < 0.25
    j = int(np.floor(Q[14, 1])) - 2
    assert abs(f.map_y[j, col] + 0.5 - (P[14, 1] - (Q[14, 1] - j - 0.5))) < 0.25


def _ortho(X, yaw, scale=9.0, offset=(128.0, 120.0)):
    """Orthographic image of model-frame points ``X`` (cm, y up) turned by ``yaw`` about the
    model's y axis: (pixels (M, 2), camera depth (M,), larger = farther)."""
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    Y = X @ R.T
    return np.stack([Y[:, 0], -Y[:, 1]], 1) * scale + offset, -Y[:, 2]


def test_turning_head_moves_outline_with_its_centre_plane():
    """A yaw moves the face by its depth but the head's outline (hair, ears: the plane through the
    centre of rotation) much less; the field carries each by its own motion."""
    X = load_topology().mean_shape
    P, zs = _ortho(X, 0.0)
    Q, zd = _ortho(X, 0.3)
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd)
    assert np.isfinite(f.map_x).all() and np.isfinite(f.map_y).all()
    # visible vertices land where they were asked to
    front = [1, 4, 6, 9, 168, 13, 14, 152]
    assert np.abs(f.source_of(Q[front]) - P[front]).max() < 0.15  # bilinear across the kinks
    # points of the centre plane beyond the face: the top of the hair, hair over the ears (with
    # a wide head region and a narrow band where the face border's own motion fades out, so
    # that they see the outline's motion alone)
    outline = np.array([[0.0, 12.5, 0.0], [-9.5, 5.0, 0.0], [9.5, 5.0, 0.0]])
    po, _ = _ortho(outline, 0.0)
    qo, _ = _ortho(outline, 0.3)
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd, grow=0.5, band=0.05)
    assert np.abs(f.source_of(qo) - po).max() < 0.5, f.source_of(qo) - po
    # ... which a 2-D fit of the face's motion would have moved by pixels
    g = warp_field(P, Q, None, (S, S), head_plane=None, head_model="plane", grow=0.5, band=0.05)
    assert np.abs(g.source_of(qo) - po).max() > 3.0
    # the side turning towards the camera (image left: x' = x cos + z sin) was foreshortened in
    # the source and is stretched now: real pixels, lower confidence
    low = f.face & (f.valid > 0) & (f.valid < 1)
    assert low.sum() > 30 and np.nonzero(low)[1].mean() < Q[1, 0] - 20


def test_turning_head_carries_the_sides_of_the_head_as_a_solid():
    """Hair and temples beyond the mesh on the head's proxy surface (an ellipsoid about the centre
    of rotation) turn with the head exactly; the single plane motion of the outline (the previous
    model) leaves them pixels behind and shears the band between face and outline."""
    from reenact.render.proxy import PROXY_AXES, PROXY_UP
    from reenact.render.meshes import _mesh

    X = load_topology().mean_shape
    oval = X[_mesh().oval]
    half = 0.5 * np.ptp(oval[:, 0])
    C = np.array([oval[:, 0].mean(), oval[:, 1].mean() + PROXY_UP * half, 0.0])
    A = np.asarray(PROXY_AXES) * half
    # points of the proxy's front surface outside the face oval: temples, hair above the forehead
    d = np.array([[0.8, 0.45], [-0.8, 0.45], [0.0, 0.9], [0.6, 0.7], [-0.6, 0.7]])
    surf = C + A * np.concatenate([d, np.sqrt(1 - (d ** 2).sum(1, keepdims=True))], 1)
    P, zs = _ortho(X, 0.0)
    Q, zd = _ortho(X, 0.25)
    ps, _ = _ortho(surf, 0.0)
    qs, _ = _ortho(surf, 0.25)
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd, grow=0.6, hair=0.4, band=0.02)
    assert not f.face[tuple(np.round(qs - 0.5).astype(int)[:, ::-1].T)].any()  # beyond the mesh
    assert np.abs(f.source_of(qs) - ps).max() < 0.75, f.source_of(qs) - ps
    g = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd, grow=0.6, hair=0.4, band=0.02,
                   head_model="plane")
    assert np.abs(g.source_of(qs) - ps).max() > 3.0
    with pytest.raises(ValueError, match="head_model"):
        warp_field(P, Q, None, (S, S), head_model="sphere")


@pytest.mark.parametrize("yaw", [0.25, 0.45, -0.6])
def test_the_head_proxy_on_a_big_region_is_the_exact_one_within_a_hundredth_of_a_pixel(yaw, monkeypatch):
    """On a big region (HD and 4K heads) the proxy's ray is evaluated on a grid and exactly only
    where the grid's interpolation misses (the silhouette, where ``seen`` saturates, the side a
    turn brings into view): the same field as every pixel's own ray within ~0.01 px, and most of
    the region interpolated."""
    from reenact.render import proxy as pr

    X = load_topology().mean_shape
    idx = np.arange(len(X))
    # a 1200 px face (9 px a cm at 256: x 15): the region as big as a 4K shot's head
    P, _ = _ortho(X, 0.0, scale=135.0, offset=(900.0, 800.0))
    Q, _ = _ortho(X, yaw, scale=135.0, offset=(940.0, 790.0))
    proxy = pr.head_proxy(X, idx, P, Q)
    H, W = 1700, 1900
    assert H * W >= pr.PROXY_EXACT_BELOW
    evaluated, ray = [], pr._proxy_at

    def counted(proxy, x, y, stretch_ok):
        evaluated.append(np.broadcast(x, y).size)
        return ray(proxy, x, y, stretch_ok)

    monkeypatch.setattr(pr, "_proxy_at", counted)
    got = pr.proxy_disp(proxy, H, W, 0.5, 2.0)
    monkeypatch.undo()
    x = np.arange(W, dtype=np.float32) + np.float32(0.5)
    y = np.arange(H, dtype=np.float32) + np.float32(0.5)
    exact = pr._proxy_at(proxy, x[None, :], y[:, None], 2.0)
    for g, e in zip(got, exact):
        assert g.shape == (H, W) and g.dtype == np.float32
        assert np.abs(g - np.broadcast_to(e, (H, W))).max() < 0.02
    # the grid, the cells' centres, then the pixels of the cells it missed: the silhouette's
    # band was evaluated exactly, most of the region interpolated
    assert len(evaluated) == 3 and 0.01 * H * W < evaluated[2] < 0.3 * H * W, evaluated


def test_source_self_occlusion_is_marked():
    """Source turned away (the nose hides part of the far cheek), destination frontal: with the
    source depths, the cheek pixels the source does not show are ``occluded``."""
    X = load_topology().mean_shape
    P, zs = _ortho(X, 0.6)
    Q, zd = _ortho(X, 0.0)
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd)
    g = warp_field(P, Q, None, (S, S), dst_depth=zd)
    assert f.occluded.sum() > g.occluded.sum() + 20
    assert (f.occluded & f.face).sum() == f.occluded.sum()
    # the extra pixels lie on the side the source turned away from (image right here: the
    # yaw brings the nose to the right, over the cheek beside it)
    extra = f.occluded & ~g.occluded
    assert np.nonzero(extra)[1].mean() > Q[1, 0] + 5
    # a frontal pair has no self-occlusion
    assert not warp_field(Q, Q, None, (S, S), src_depth=zd, dst_depth=zd).occluded.any()


def test_large_frame_field_is_the_crop_field():
    """On a big frame only the region around the heads is computed: the same field as on a
    crop holding them (whole, fade included), the identity elsewhere."""
    P = (_template(S) - S / 2) * 0.6 + S / 2
    A = _similarity(0.1, 1.04, (6.0, -3.0), P.mean(0))
    Q = _apply(A, P)
    small = warp_field(P, Q, None, (S, S), fade=0.2)
    o = np.array([500.0, 300.0])
    big = warp_field(P + o, Q + o, None, (1080, 1920), fade=0.2)
    win = (slice(300, 300 + S), slice(500, 500 + S))
    assert np.abs(big.map_x[win] - 500 - small.map_x).max() < 1e-3
    assert np.abs(big.map_y[win] - 300 - small.map_y).max() < 1e-3
    for k in ("valid", "mouth_hole", "occluded", "disocclusion", "face", "head", "weight"):
        assert np.array_equal(getattr(big, k)[win], getattr(small, k)), k
    To = np.array([[1, 0, 500], [0, 1, 300], [0, 0, 1.0]])
    assert np.allclose(big.rigid, To @ small.rigid @ np.linalg.inv(To), atol=1e-6)
    outside = np.ones((1080, 1920), bool)
    outside[win] = False
    assert np.abs(big.displacement()[outside]).max() == 0.0
    assert not big.hole[outside].any() and (big.valid[outside] == 1).all()
    img = np.random.default_rng(0).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    assert np.array_equal(warp_image(img, big), cv2.remap(img, big.map_x, big.map_y, cv2.INTER_LINEAR,
                                                          borderMode=cv2.BORDER_REPLICATE))


def test_field_within_a_box_is_the_field_on_the_face():
    """``within`` (the detail layer's box): the same field on the face as without it, the
    identity outside the box, and a box off the image moves nothing."""
    P = _closed_mouth(_template(S))
    Q, _move, _u, _l = _jaw_drop(P, 10.0)
    full = warp_field(P, Q, None, (S, S))
    lo = np.floor(np.minimum(P.min(0), Q.min(0))).astype(int) - 4
    hi = np.ceil(np.maximum(P.max(0), Q.max(0))).astype(int) + 4
    box = warp_field(P, Q, None, (S, S), within=(lo[0], lo[1], hi[0], hi[1]))
    face = full.face
    assert face.sum() > 1000 and np.array_equal(box.face, face)
    assert np.abs(box.map_x[face] - full.map_x[face]).max() < 1e-4
    assert np.abs(box.map_y[face] - full.map_y[face]).max() < 1e-4
    assert np.array_equal(box.mouth_hole, full.mouth_hole) and box.mouth_hole.any()
    outside = np.ones((S, S), bool)
    outside[lo[1]:hi[1], lo[0]:hi[0]] = False
    assert np.abs(box.displacement()[outside]).max() == 0.0 and (box.valid[outside] == 1).all()
    assert np.abs(full.displacement()[outside]).max() > 0.5  # the whole field reaches further
    img = np.random.default_rng(0).integers(0, 255, (S, S, 3), dtype=np.uint8)
    w = warp_image(img, box)
    assert np.array_equal(w[outside], img[outside]) and np.array_equal(w[face], warp_image(img, full)[face])
    none = warp_field(P, Q, None, (S, S), within=(S + 10, 0, S + 50, 40))
    assert np.abs(none.displacement()).max() == 0.0 and np.array_equal(warp_image(img, none), img)


def test_any_mesh_with_its_triangles():
    """A mesh other than the project's (a grid) with its own triangles: piecewise affine inside,
    the fitted motion outside, either winding."""
    g = np.stack(np.meshgrid(np.linspace(80, 176, 7), np.linspace(80, 176, 7)), -1).reshape(-1, 2)
    tris = []
    for r in range(6):
        for c in range(6):
            a = r * 7 + c
            tris += [(a, a + 1, a + 8), (a, a + 8, a + 7)] if (r + c) % 2 else [(a, a + 8, a + 1), (a, a + 7, a + 8)]
    tris = np.array(tris)
    A = _similarity(0.05, 1.0, (4.0, 2.0), (128.0, 128.0))
    f = warp_field(g, _apply(A, g), tris, (S, S))
    inner = f.face & (f.weight == 1)
    yy, xx = np.nonzero(inner)
    src = np.stack([f.map_x[yy, xx], f.map_y[yy, xx]], 1) + 0.5
    assert np.abs(_apply(np.linalg.inv(A), np.stack([xx, yy], 1) + 0.5) - src).max() < 1e-3
    assert not f.occluded.any() and not f.mouth_hole.any()
    ident = warp_field(g, g, tris, (S, S))
    assert np.abs(ident.displacement()).max() < 1e-3


def test_head_mask_and_nan_inputs():
    P = _template(S)
    m = head_mask(P, (S, S))
    oval = np.zeros((S, S), np.uint8)
    cv2.fillPoly(oval, [np.round((P[load_topology().group("loop_face_oval")] - 0.5) * 16).astype(np.int32)],
                 1, cv2.LINE_8, 4)
    assert m[oval > 0].all() and m.sum() > 1.6 * oval.sum()
    top = np.flatnonzero(m.any(1))[0]
    assert top < P[10, 1] - 0.2 * (P[152, 1] - P[10, 1])  # the hair cap above the forehead
    bad = P.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError):
        warp_field(bad, P, None, (S, S))
    with pytest.raises(ValueError):
        warp_field(P[:10], P, None, (S, S))


def test_depth_order_and_given_rigid_motion():
    """With depths the triangles are drawn far to near; a rigid motion the caller gives is used
    as is (and reproduces the fitted one for a similarity)."""
    P = _template(S)
    A = _similarity(-0.08, 0.95, (-6.0, 5.0), P.mean(0))
    Q = _apply(A, P)
    z = 50.0 - load_topology().mean_shape[:, 2]
    f1 = warp_field(P, Q, None, (S, S), dst_depth=z, src_depth=z)
    f2 = warp_field(P, Q, None, (S, S), rigid=A[:2])
    f3 = warp_field(P, Q, None, (S, S), rigid_points=(P, Q), rigid_model="projective")
    for f in (f2, f3):
        assert np.abs(f.displacement() - f1.displacement()).max() < 1e-2
    assert np.allclose(f2.rigid, np.linalg.inv(A), atol=1e-9)


def test_background_fill():
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    frames, covered = [], []
    for k in range(7):
        f = bg.copy()
        m = np.zeros((48, 64), bool)
        m[10:30, 5 + 7 * k:25 + 7 * k] = True
        f[m] = 200
        frames.append(f)
        covered.append(m)
    plate, known = background_plate(np.array(frames), np.array(covered))
    assert known.all() and np.array_equal(plate, bg)
    hole = covered[3]
    out = fill_background(frames[3], hole, plate, known)
    assert np.array_equal(out, bg)
    known2 = known.copy()
    known2[12:14, 30:32] = False
    out2 = fill_background(frames[3], hole, plate, known2)
    assert np.array_equal(out2[~hole], frames[3][~hole]) and (out2[12:14, 30:32] != 200).any()


def test_room_the_head_uncovers_gets_the_room_grain_and_it_stays_put():
    """Where no frame shows the room, the fill is smooth: beside a moved head against foliage it
    read as a flat halo (d12 -> d20). With ``grain`` it carries a fixed band-passed grain as
    contrasty as the room around it; fixed to the frame, so two parts of the frame cut at
    different places (the layer's box moves with the head) give the same pixels; a flat room
    stays flat."""
    H, W = 200, 240
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    tex = np.clip(110 + 60 * (_waves(7, min_period=10.0, max_period=30.0)(xx, yy)) + 0.5, 0, 255).astype(np.uint8)
    hole = ((xx - 120) / 50) ** 2 + ((yy - 100) / 60) ** 2 <= 1
    smooth = fill_background(tex, hole)
    grained = fill_background(tex, hole, grain=((H, W), (0, 0)))
    assert np.array_equal(grained[~hole], tex[~hole])
    inner = cv2.erode(hole.view(np.uint8), np.ones((9, 9), np.uint8)).view(bool)
    hp = lambda im: im.astype(np.float32) - cv2.GaussianBlur(im.astype(np.float32), (0, 0), 6.0)
    room = hp(tex)[~cv2.dilate(hole.view(np.uint8), np.ones((25, 25), np.uint8)).view(bool)].std()
    assert hp(smooth)[inner].std() < 0.2 * room  # the plain fill: flat
    assert 0.3 * room < hp(grained)[inner].std() < 2.0 * room
    # a part of the frame (the layer's box) gets the very same grain at the same frame pixels
    part = fill_background(tex[20:190, 30:230], hole[20:190, 30:230], grain=((H, W), (20, 30)))
    a, b = part[hole[20:190, 30:230]].astype(int), grained[20:190, 30:230][hole[20:190, 30:230]].astype(int)
    assert np.abs(a - b).mean() < 2.0  # (the smooth part differs a little with the box)
    flat = np.full((H, W, 3), 120, np.uint8)
    assert np.array_equal(fill_background(flat, hole, grain=((H, W), (0, 0))), flat)


def test_background_plate_is_the_median_of_the_shown_values():
    """The plate equals NumPy's nanmedian over the frames' uncovered values (odd and even counts,
    pixels no frame shows, a single frame), rounded as before."""
    import warnings

    rng = np.random.default_rng(3)
    for T in (40, 6, 1):
        frames = rng.integers(0, 256, (T, 30, 20, 3), dtype=np.uint8)
        covered = rng.random((T, 30, 20)) < 0.5
        covered[:, :4, :4] = True
        plate, known = background_plate(frames, covered)
        idx = np.unique(np.linspace(0, T - 1, min(T, 31)).round().astype(int))
        f = frames[idx].astype(np.float32)
        f[covered[idx]] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(f, axis=0)
        want = np.isfinite(med).all(2)
        assert np.array_equal(known, want) and not known[:4, :4].any()
        assert np.array_equal(plate, np.clip(np.where(want[..., None], med, 0.0) + 0.5, 0, 255).astype(np.uint8))


# ----------------------------------------------------------------------------- real footage
def _psnr(a, b, m):
    d = (a.astype(np.float64) - b.astype(np.float64))[m]
    return 10 * np.log10(255.0 ** 2 / max(float((d ** 2).mean()), 1e-9))


def test_real_clip_warp_beats_unwarped_and_similarity():
    path = shared_clip("driving_d0.mp4")
    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    a, t, u = 0, 8, 27  # mouth closed at t, open at u (jawOpen ~0.5)
    track = track_video(path, frames=(a, u + 1))[0]
    assert track.tracked[[t, u]].all()
    P = track.project()
    pts, depth = posed_points(track)
    assert np.allclose(pts[[t, u]], P[[t, u]], atol=1e-6) and (np.diff(depth[[t, u]], axis=0) != 0).any()
    with open_video(path) as v:
        ft, fu = v.read(t), v.read(u)
    H, W = ft.shape[:2]
    f = warp_field(P[t], P[u], None, (H, W))
    out = warp_image(ft, f)
    face = np.zeros((H, W), np.uint8)
    cv2.fillPoly(face, [np.round((P[u][load_topology().group("loop_face_oval")] - 0.5) * 16).astype(np.int32)],
                 1, cv2.LINE_8, 4)
    m = (face > 0) & ~cv2.dilate(f.hole.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    sim = cv2.warpAffine(ft, similarity_2d(P[t], P[u]), (W, H), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    p_warp, p_none, p_sim = _psnr(out, fu, m), _psnr(ft, fu, m), _psnr(sim, fu, m)
    assert f.mouth_hole.sum() > 50
    assert p_warp > p_none + 1.0 and p_warp > p_sim + 0.5, (p_warp, p_none, p_sim)


def test_detail_warp_in_the_mask_box_composites_like_the_whole_field():
    """The render path warps the detail source only around the composited mask
    (motion.detail_box): on a generated frame (a textured head, its jaw dropped, a 64 px crop
    of the lower face) the composite with that warp is within 1 level of the composite with the
    whole field, while the warped box is a real restriction."""
    from reenact.render.composite import mask_box, paste_back
    from reenact.render.conditioning import crop_frame
    from reenact.render.motion import detail_box

    P = _closed_mouth(_template(S))
    P = (P - S / 2) * 0.55 + S / 2  # a head well inside the frame
    Q, _move, _u, _l = _jaw_drop(P, 6.0)
    img, _ = _scene(P)
    grain = np.random.default_rng(7).integers(-25, 26, (S, S, 1))  # detail finer than the crop
    img = np.clip(img.astype(int) + grain, 0, 255).astype(np.uint8)
    full = warp_field(P, Q, None, (S, S))
    # the crop: 64 px over the face of Q (frame <- crop: scale 2.2), the render = the warped
    # frame at crop scale, a little darker (what the network drew)
    C = 64
    sc = 2.2
    c0 = Q.mean(0) - sc * C / 2
    Minv = np.array([[sc, 0.0, c0[0]], [0.0, sc, c0[1]]])
    M = cv2.invertAffineTransform(Minv)
    warped = warp_image(img, full)
    crop = np.clip(crop_frame(warped, M, C).astype(int) - 6, 0, 255).astype(np.uint8)
    q = (Q - c0) / sc  # the face in crop pixels
    hull = cv2.convexHull(np.round(q * 16).astype(np.int32))
    mask = np.zeros((C, C), np.uint8)
    cv2.fillConvexPoly(mask, hull, 1, cv2.LINE_8, 4)
    mask[: int(q[2, 1])] = 0  # below the nose: the mouth region
    assert 100 < mask.sum() < C * C / 2
    box = detail_box(P, Q, (S, S), mask_box(mask, Minv, img.shape))
    part = warp_field(P, Q, None, (S, S), within=box)
    assert part.roi[2] * part.roi[3] < 0.6 * (full.roi[2] * full.roi[3] if full.roi else S * S)
    a = paste_back(img, crop, mask, Minv, detail=warped, detail_valid=full.valid)
    b = paste_back(img, crop, mask, Minv, detail=warp_image(img, part), detail_valid=part.valid)
    plain = paste_back(img, crop, mask, Minv)
    assert np.abs(a.astype(int) - plain.astype(int)).max() > 5  # the detail layer did something
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_field_computed_at_half_resolution_is_the_full_field():
    """motion.upscaled_field (the detail layer's and the shot mouth's warps, computed at half
    resolution and interpolated): on a generated head with its jaw dropped the map is within a
    fraction of a pixel of the full-resolution field on the face, the identity outside its box,
    and the warped image is the full field's within a few levels where the face moved."""
    from reenact.render.motion import upscaled_field

    P = _closed_mouth(_template(S))
    P = (P - S / 2) * 0.55 + S / 2
    Q, _move, _u, _l = _jaw_drop(P, 6.0)
    img, _ = _scene(P)
    box = (40, 60, 200, 230)
    full = warp_field(P, Q, None, (S, S), within=box)
    half = upscaled_field(lambda s, shape, within: warp_field(P * s, Q * s, None, shape, within=within),
                          (S, S), box, 0.5)
    assert half.map_x.shape == (S, S) and half.mouth_hole is None  # maps and validity only
    err = np.hypot(half.map_x - full.map_x, half.map_y - full.map_y)
    face = full.face & ~full.mouth_hole
    assert face.sum() > 2000
    assert np.median(err[face]) < 0.1 and np.percentile(err[face], 99) < 0.6, (
        np.median(err[face]), np.percentile(err[face], 99))
    x0, y0, x1, y1 = box
    outside = np.ones((S, S), bool)
    outside[y0:y1, x0:x1] = False
    yy, xx = np.mgrid[:S, :S]
    assert np.abs(half.map_x - xx)[outside].max() < 1e-3 and np.abs(half.map_y - yy)[outside].max() < 1e-3
    moved = (np.hypot(full.map_x - xx, full.map_y - yy) > 0.5) & face
    assert moved.sum() > 300
    a, b = warp_image(img, full).astype(float), warp_image(img, half).astype(float)
    assert np.abs(a - b)[moved].mean() < 1.5, np.abs(a - b)[moved].mean()
    assert np.abs(half.valid - full.valid)[face].mean() < 0.05
    # the lips' box (motion.lips_box) at full resolution: there the map is the full field's
    lb = (112, 144, 144, 170)  # around the lips (jaw dropped)
    sharp = upscaled_field(lambda s, shape, within, origin=(0, 0): warp_field(P * s - origin, Q * s - origin, None,
                                                                             shape, within=within),
                           (S, S), box, 0.5, sharp=lb)
    inner = (slice(lb[1], lb[3]), slice(lb[0], lb[2]))
    assert (full.face[inner]).all()  # inside the mesh: the same field whatever the box
    e2 = np.hypot(sharp.map_x - full.map_x, sharp.map_y - full.map_y)[inner]
    assert (e2 < 1e-3).mean() > 0.99 and e2.max() < 0.25, (np.mean(e2 < 1e-3), e2.max())
    assert np.percentile(err[inner], 99) > 10 * np.percentile(e2, 99)  # the interpolated one is not


def test_maps_only_field_is_the_same_map():
    """warp_field(masks=False) (the shot mouth's source warps) gives the same maps without the
    masks and validity."""
    P = _closed_mouth(_template(S))
    P = (P - S / 2) * 0.55 + S / 2
    Q = _jaw_drop(P, 6.0)[0]
    full = warp_field(P, Q, None, (S, S), within=(40, 60, 200, 230))
    maps = warp_field(P, Q, None, (S, S), within=(40, 60, 200, 230), masks=False)
    assert maps.valid is None and maps.mouth_hole is None and full.mouth_hole.any()
    np.testing.assert_array_equal(maps.map_x, full.map_x)
    np.testing.assert_array_equal(maps.map_y, full.map_y)
    np.testing.assert_array_equal(warp_image(_scene(P)[0], maps), warp_image(_scene(P)[0], full))


def test_picture_area_finds_letterbox_and_pillarbox_bars():
    from reenact.video.bars import picture_area, within

    rng = np.random.default_rng(3)
    frames = rng.integers(40, 220, (4, 90, 160, 3)).astype(np.uint8)
    frames[:, :, :20] = rng.integers(0, 12, (4, 90, 20, 3))  # a pillarbox bar with a decoder's noise
    frames[:, 80:] = 0  # a letterbox bar
    assert picture_area(frames) == (20, 0, 160, 80)
    assert picture_area(frames[0]) == (20, 0, 160, 80)
    # one frame lighting a column is enough for it to be picture
    lit = frames.copy()
    lit[2, :80, 15:20] = 200
    assert picture_area(lit) == (15, 0, 160, 80)
    # no bars; a bar of one row (an encoder's padding); a dark shot is not bars
    clean = rng.integers(40, 220, (2, 90, 160, 3)).astype(np.uint8)
    assert picture_area(clean) == (0, 0, 160, 90)
    clean[:, -1:] = 0
    assert picture_area(clean) == (0, 0, 160, 90)
    dark = np.zeros((2, 90, 160, 3), np.uint8)
    dark[:, 40:50, 70:90] = 120
    assert picture_area(dark) == (0, 0, 160, 90)
    # a night shot whose left edge is dark and brightens gradually: picture, not a bar
    night = np.tile(np.clip(np.arange(160) * 0.6, 0, 255).astype(np.uint8)[None, None, :, None], (2, 90, 1, 3))
    assert (night[0, :, :30] <= 24).all() and picture_area(night) == (0, 0, 160, 90)
    # a plate: pixels it does not know are picture (a bar cut short by them ends in no edge, and
    # is not trusted)
    known = np.ones((90, 160), bool)
    known[:80, 60] = False
    assert picture_area(frames[0], known) == (20, 0, 160, 80)
    known[:80, 10] = False
    assert picture_area(frames[0], known) == (0, 0, 160, 80)
    m = np.ones((90, 160), bool)
    assert within(m, (20, 0, 160, 80)).sum() == 140 * 80 and within(m, None).all()


def test_warp_within_the_picture_never_samples_the_bars():
    """A head moving beside a pillarbox bar: the warp reflects at the picture's edge instead of
    streaking the bar's black into the picture, and the bar stays bit-exact."""
    from reenact.video.bars import picture_area

    P = _template(S)
    P = (P - S / 2) * 0.8 + S / 2
    A = _similarity(0.0, 1.0, (18.0, 0.0), P.mean(0))  # the head moves away from the bar
    Q = _apply(A, P)
    src, _ = _scene(P)
    bar = int(np.floor(P[:, 0].min())) - 6  # the bar ends just beside the face
    assert bar > 10
    src[:, :bar] = 0
    area = picture_area(src)
    assert area == (bar, 0, S, S)
    f = warp_field(P, Q, None, (S, S), fade=0.6)
    plain = warp_image(src, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101)
    kept = warp_image(src, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101, area=area)
    pic = np.zeros((S, S), bool)
    pic[:, bar:] = True
    darkest = src[pic].max(1).min()  # the scene itself is never this dark
    assert darkest > 20
    assert (plain[pic].max(1) < darkest - 10).sum() > 50, "without the area the bar streaks in"
    assert (kept[pic].max(1) < darkest - 10).sum() == 0
    assert np.array_equal(kept[:, :bar], src[:, :bar])
    # where the warp does not reach the bar, both agree; the box form gives the same pixels
    far = pic & (np.abs(f.displacement()).max(2) == 0)
    assert np.array_equal(kept[far], plain[far])
    box = (bar - 5, 20, S - 10, S - 30)
    part = warp_image(src, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101, box=box, area=area)
    assert np.array_equal(part, kept[20:S - 30, bar - 5:S - 10])


def test_a_triangle_pressed_to_a_sliver_does_not_throw_pixels_across_the_source():
    """A lip corner pressed flat squeezes a face triangle to a sliver under a pixel high while
    the source still shows it whole: its affine map throws the pixels its raster touches beside
    it across the whole source triangle (on d12 -> d0 a dash of the mouth's dark corner on the
    skin above it, and jagged spikes of hair at a turned head's silhouette). The map stays as
    smooth there as everywhere else on the face."""
    X = load_topology().mean_shape
    P, zs = _ortho(X, 0.0, scale=20.0, offset=(200.0, 170.0))  # a face 300 px high
    Q = P.copy()
    a, b, c = 42, 74, 184  # a triangle of the upper lip by the mouth corner
    # c pulled onto the line a-b (0.2 px off it)
    ab = Q[b] - Q[a]
    n = np.array([-ab[1], ab[0]]) / np.linalg.norm(ab)
    t = float(np.dot(Q[c] - Q[a], ab) / np.dot(ab, ab))
    Q[c] = Q[a] + t * ab + 0.2 * n * np.sign(np.dot(Q[c] - Q[a], n))
    f = warp_field(P, Q, None, (400, 400), src_depth=zs, dst_depth=zs)
    x0, y0 = np.floor(Q[[a, b, c]].min(0)).astype(int) - 4
    x1, y1 = np.ceil(Q[[a, b, c]].max(0)).astype(int) + 5
    mx, my = f.map_x[y0:y1, x0:x1], f.map_y[y0:y1, x0:x1]
    # each pixel's source against the median of its 3x3 neighbourhood's (the sliver's own map
    # threw them 8.9 px; the squeeze itself moves neighbouring pixels' sources apart by < 2 px)
    jump = np.hypot(mx - cv2.medianBlur(mx, 3), my - cv2.medianBlur(my, 3))[1:-1, 1:-1]
    assert jump.max() < 3.0, jump.max()


def test_the_side_a_turn_brings_into_view_does_not_fold_back_into_the_head():
    """Turned towards the camera, the side of the head the source saw past its silhouette (the
    back of the proxy) comes from the source's silhouette: projected as it was, it folded back
    into the head and drew the hair's dark edge a second time, a thin dark arc beside the moved
    head (d12 -> d20). Along a row from the picture's edge to the face, the source position runs
    back by 10 px no more (what is left, 4 px, is where the plane beyond the silhouette is
    reached)."""
    X = load_topology().mean_shape
    P, zs = _ortho(X, 0.0)
    Q, zd = _ortho(X, 0.45)  # the image-left side turns towards the camera
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd, grow=0.6, hair=0.4)
    oval = Q[load_topology().group("loop_face_oval")]
    for y in np.linspace(oval[:, 1].min(), oval[:, 1].max(), 7).astype(int):
        face_x = np.flatnonzero(f.face[y])
        mx = f.map_x[y, : face_x[0]]
        assert (np.maximum.accumulate(mx) - mx).max() < 5.0, y  # 7.4-10.2 px before
    # and the side seen all along moves as before: the face's own pixels land where asked
    assert np.abs(f.source_of(Q[[1, 4, 6, 168]]) - P[[1, 4, 6, 168]]).max() < 0.15


def test_the_cheek_a_turn_brings_into_view_is_not_one_column_smeared(monkeypatch):
    """The cheek a turn brings towards the camera was edge-on in the source: its outermost
    triangles are stretched 12x and more, and took one column of source pixels across a band of
    the face (horizontal streaks up to a seam, d12 -> d0). Spread over the neighbouring
    triangles (warp.SPREAD_STRETCH), the source position keeps moving across the band."""
    import reenact.render.warp as warp

    X = load_topology().mean_shape
    P, zs = _ortho(X, 0.0)
    oval_ids = load_topology().group("loop_face_oval")

    def longest_plateau(f, Q):
        oval = Q[oval_ids]
        worst = 0
        for y in range(int(oval[:, 1].min()) + 10, int(oval[:, 1].max()) - 10, 4):
            fx = np.flatnonzero(f.face[y])
            if len(fx) < 10:
                continue
            flat = np.abs(np.diff(f.map_x[y, fx[0]: fx[0] + 30])) < 0.1  # the turned-towards side
            run = 0
            for v in flat:
                run = run + 1 if v else 0
                worst = max(worst, run)
        return worst

    for yaw in (0.45, 0.6):
        Q, zd = _ortho(X, yaw)
        assert longest_plateau(warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd), Q) <= 2
        monkeypatch.setattr(warp, "SPREAD_STRETCH", 1e9)  # without it: one column over 9-11 px
        assert longest_plateau(warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd), Q) >= 8
        monkeypatch.undo()
    # the face's own landmarks away from the outline still land where asked
    Q, zd = _ortho(X, 0.45)
    f = warp_field(P, Q, None, (S, S), src_depth=zs, dst_depth=zd)
    assert np.abs(f.source_of(Q[[1, 4, 6, 168, 13, 14]]) - P[[1, 4, 6, 168, 13, 14]]).max() < 0.15


def test_a_wide_blur_at_a_reduced_scale_is_the_full_blur():
    """render/meshes.py: wide_blur, which the warps, the dub's feathers and the room's grain use
    for blurs whose width follows the face (1.9 -> 1.2 s a row on a 4K dub): on a hard-edged
    mask (a feather) and on a smooth displacement with a sharp step (a stretched cheek), at the
    widths a 512 px and a 4K face give, it stays within a hundredth of the full Gaussian blur, and
    below sigma 6 it is the full blur itself."""
    from reenact.render.meshes import wide_blur

    rng = np.random.default_rng(3)
    mask = np.zeros((900, 1400), np.float32)
    cv2.ellipse(mask, (700, 450), (420, 300), 15, 0, 360, 1.0, -1)
    yy, xx = np.mgrid[0:900, 0:1400].astype(np.float32)
    disp = (6.0 * np.sin(xx / 97.0) * np.cos(yy / 61.0) + 4.0 * (xx > 800) + rng.normal(0, 0.3, xx.shape)).astype(np.float32)
    for a in (mask, disp, np.dstack([mask, disp, mask])):
        for sigma in (12.0, 40.0, 120.0):
            full = cv2.GaussianBlur(a, (0, 0), sigma)
            got = wide_blur(a, sigma)
            assert got.shape == a.shape and got.dtype == np.float32
            m = int(3 * sigma)  # (the edges: both replicate the border, a little differently)
            err = np.abs(got - full)[m:-m, m:-m].max() / max(float(np.ptp(a)), 1e-6)
            assert err < 0.01, (a.ndim, sigma, err)
        np.testing.assert_array_equal(wide_blur(a, 5.0), cv2.GaussianBlur(a, (0, 0), 5.0))
