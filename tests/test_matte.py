# SPDX-License-Identifier: GPL-3.0-or-later
"""The actor's matte (``render/matte.py``: MediaPipe's selfie segmentation in ONNX) and region
head's layer (``render/head.py: layer_head``): a turning head moves over the room, the room
stays where it is."""

import importlib.util

import cv2
import numpy as np
import pytest

from reenact.render.head import layer_head, layer_reach
from reenact.render.matte import actor_matte, person_matte
from reenact.render.warp import WarpField, warp_image


def _frame(carphone, i=60):
    from reenact.video import open_video

    with open_video(carphone) as s:
        return s.read(i)


def _hull_mask(shape, pts):
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    return m > 0


def test_person_matte_covers_the_actor_not_the_car(carphone, carphone_track):
    f = _frame(carphone)
    m = person_matte(f)
    assert m.shape == f.shape[:2] and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    face = _hull_mask(f.shape, np.asarray(carphone_track.landmarks)[60, :468])
    assert m[face].mean() > 0.9
    assert m[:60, 150:].mean() < 0.1   # the car's side window
    assert m[:25, :40].mean() < 0.1    # the roof lining


def test_person_matte_matches_mediapipe(carphone):
    """The converted network with Reenact's preprocessing against MediaPipe's own graph (a
    test-only dependency): the same matte but for a few pixels along the edges."""
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe not installed (build-time reference only)")
    import mediapipe as mp

    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        for i in (0, 60):
            f = _frame(carphone, i)
            ref = seg.process(f).segmentation_mask
            got = person_matte(f)
            assert np.abs(got - ref).mean() < 0.01
            assert ((got > 0.5) == (ref > 0.5)).mean() > 0.99


def test_actor_matte_keeps_only_the_person_whose_face_it_is(carphone, carphone_track):
    """Two people side by side (the frame and its mirror image): the matte of the one whose
    mesh is given keeps that person and drops the other."""
    f = _frame(carphone)
    W, G = f.shape[1], 40
    gap = np.full((f.shape[0], G, 3), 128, np.uint8)   # a plain wall between them
    pair = np.ascontiguousarray(np.concatenate([f, gap, f[:, ::-1]], 1))
    both = person_matte(pair)
    assert both[:, :W].mean() > 0.15 and both[:, W + G:].mean() > 0.15
    pts = np.asarray(carphone_track.landmarks)[60, :468]
    own = actor_matte(pair, pts)
    face = _hull_mask(pair.shape, pts)
    assert own[face].mean() > 0.9
    assert own[:, W + G + W // 3:].max() < 0.05     # the other person: gone
    assert own[:, :W].sum() > 0.7 * both[:, :W].sum()   # this one: kept (its weak fringes may fade)
    away = ~(cv2.dilate(face.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)   # beyond the face: only less
    assert (own[away] <= both[away] + 1e-6).all()


def test_actor_matte_always_holds_the_face(carphone, carphone_track):
    """A frame the network sees no person in (flat grey): the actor's matte still holds the face
    (the mesh's hull), so region head never leaves a face behind; elsewhere it stays empty."""
    f = np.full_like(_frame(carphone), 128)
    assert person_matte(f).max() < 0.2
    pts = np.asarray(carphone_track.landmarks)[60, :468]
    m = actor_matte(f, pts)
    face = _hull_mask(f.shape, pts)
    assert m[cv2.erode(face.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0].min() > 0.9
    assert m[~(cv2.dilate(face.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0)].max() < 0.2


def _shift_field(H, W, cx, cy, R, dx, fade):
    """A WarpField that moves a disc of radius ``R`` about (cx, cy) by ``dx`` pixels to the right,
    its motion fading to 0 over ``fade`` px beyond the disc (a head's motion dragging the room)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    d = np.hypot(xx - (cx + dx), yy - cy)
    w = np.clip(1.0 - (d - R) / fade, 0.0, 1.0).astype(np.float32)
    src_disc = np.hypot(xx - cx, yy - cy) <= R
    dst_disc = d <= R
    z = np.zeros((H, W), bool)
    return WarpField(map_x=xx - dx * w, map_y=yy.copy(), valid=np.ones((H, W), np.float32), mouth_hole=z,
                     eye_hole=z, occluded=z, disocclusion=src_disc & ~dst_disc, face=dst_disc, head=dst_disc,
                     weight=w, rigid=np.eye(3), face_rigid=np.eye(3), roi=None)


def test_layer_head_moves_the_actor_and_leaves_the_room():
    """A textured room and a textured disc ("the actor") moved 12 px right by a field whose
    motion fades over the room beside it: the plain warp drags the room; the layer leaves every
    room pixel outside both discs as it was (bit for bit), draws the disc where the warp put it,
    and fills what the disc uncovers from the plate."""
    rng = np.random.default_rng(3)
    H, W, cx, cy, R, dx = 120, 160, 70, 60, 25, 12
    room = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3)).astype(np.uint8), (0, 0), 1.5)
    actor = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3)).astype(np.uint8), (0, 0), 1.0)
    yy, xx = np.mgrid[0:H, 0:W]
    disc = np.hypot(xx - cx, yy - cy) <= R
    frame = np.where(disc[..., None], actor, room)
    alpha = disc.astype(np.float32)
    f = _shift_field(H, W, cx, cy, R, dx, fade=30)
    plain = warp_image(frame, f)
    moved_alpha = warp_image(alpha, f)
    known = np.ones((H, W), bool)
    out = layer_head(plain, plain, moved_alpha, frame, alpha, layer_reach(f), room, known)

    dst_disc = np.hypot(xx - (cx + dx), yy - cy) <= R
    grow = cv2.dilate((disc | dst_disc).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    reach = layer_reach(f)
    ring = (reach >= 1.0) & ~grow         # the room the motion moves by half a pixel or more
    assert ring.sum() > 2000
    assert np.abs(plain[ring].astype(int) - frame[ring]).mean() > 5      # the plain warp drags it
    assert np.array_equal(out[ring], frame[ring])                       # the layer does not
    # where the motion fades out (under half a pixel) the layer blends into the plain warp: never
    # further from the room than the plain warp
    room_px = ~grow
    assert (np.abs(out[room_px].astype(int) - frame[room_px]) <= np.abs(plain[room_px].astype(int) - frame[room_px]) + 1).all()
    assert np.array_equal(out[reach == 0], frame[reach == 0])
    inner = np.hypot(xx - (cx + dx), yy - cy) <= R - 2
    assert np.array_equal(out[inner], plain[inner])                     # the actor, moved
    uncovered = disc & ~dst_disc & ~(cv2.dilate(dst_disc.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    assert np.abs(out[uncovered].astype(int) - room[uncovered]).max() <= 1   # filled from the plate
    # nothing moves: the frame comes back as it was
    still = _shift_field(H, W, cx, cy, R, 0, fade=30)
    assert layer_head(frame, frame, alpha, frame, alpha, layer_reach(still), room, known) is frame


def test_head_region_keeps_the_room_beside_a_turning_head_still(carphone, carphone_track):
    """carphone's head turned 8 degrees (region head's HeadMotion with the shot's plate): the
    car beside the head changes far less with the actor moved as a layer than with the plain
    warp, which drags it along with the head. Measured on the room itself (outside the frame's
    own actor matte): where the actor was, the layer draws the room it uncovers (a fill, with
    the room's grain since 2026-12-02), which is not the car being dragged."""
    from conftest import turned
    from reenact.render.head import head_mask, posed_points
    from reenact.render.motion import HeadMotion, shot_plate
    from reenact.video import open_video

    req = turned(carphone_track, 0.14)
    with open_video(carphone) as src:
        m = HeadMotion(carphone_track, req, shot_plate(src, carphone_track))
        assert m.matte
        P0, P1 = posed_points(carphone_track)[0], posed_points(req)[0]
        for r in (60, 61):
            f = src.read(r)
            layered, _ = m.frame(r, f)
            plain, _ = m.frame(r, f, layer=False)
            u = head_mask(P0[r], f.shape, 0.6, 0.4, 0.8) | head_mask(P1[r], f.shape, 0.6, 0.4, 0.8)
            band = (cv2.dilate(u.astype(np.uint8), np.ones((25, 25), np.uint8)) > 0) & ~u
            room = band & (m.actor_matte(r, f, m.ps[r]) < 0.1)
            assert room.sum() > 0.4 * band.sum()
            change = [np.abs(x[room].astype(int) - f[room]).mean() for x in (layered, plain)]
            assert change[1] > 1.0 and change[0] < 0.25 * change[1], change  # 0.26 against 2.49


def test_head_region_keeps_hair_the_head_outline_estimate_cuts(carphone, carphone_track):
    """carphone's head turned 14°: where the warp's head-region estimate (face oval grown, a hair
    cap) ends inside the hair, the plain path fills what it calls uncovered with the room; the
    layer keeps what the warp moved there wherever the actor's warped matte says actor."""
    from conftest import turned
    from reenact.render.motion import HeadMotion, shot_plate
    from reenact.video import open_video

    req = turned(carphone_track, 0.25)
    with open_video(carphone) as src:
        m = HeadMotion(carphone_track, req, shot_plate(src, carphone_track))
        f0 = src.read(60)
    out, f = m.frame(60, f0)
    plain, _ = m.frame(60, f0, layer=False)
    raw = warp_image(f0, f, interpolation=cv2.INTER_CUBIC, border=cv2.BORDER_REFLECT_101, area=m.area)
    alpha = warp_image(m.actor_matte(60, f0, m.ps[60]), f, border=cv2.BORDER_REFLECT_101, area=m.area)
    cut = f.disocclusion & (alpha > 0.99) & (layer_reach(f) >= 1.0)
    assert cut.sum() > 50
    assert np.abs(plain[cut].astype(int) - raw[cut]).mean() > 15      # the plain path: room there
    assert np.abs(out[cut].astype(int) - raw[cut]).max() <= 3          # the layer: the moved hair


def test_attached_alpha_keeps_hair_and_drops_flecks():
    """In what the warp's head-region estimate calls uncovered, the moved actor's matte is kept
    where it continues the actor (hair the estimate cut through) and dropped where it is a fleck
    the warp folded out into the room."""
    from reenact.render.head import attached_alpha

    H, W = 80, 120
    alpha = np.zeros((H, W), np.float32)
    alpha[20:60, 20:60] = 1.0          # the head
    alpha[25:35, 60:75] = 1.0          # hair reaching past the estimate's edge (x 60)
    alpha[40:50, 95:98] = 0.9          # a fleck of ear, out in the room
    alpha[39, 94:99] = 0.3             # ... with a soft fringe
    uncovered = np.zeros((H, W), bool)
    uncovered[:, 60:] = True
    got = attached_alpha(alpha, uncovered)
    assert np.array_equal(got[:, :60], alpha[:, :60])          # nothing outside the region changes
    assert np.array_equal(got[25:35, 60:75], alpha[25:35, 60:75])   # the hair stays
    assert got[38:51, 93:100].max() == 0.0                    # the fleck and its fringe go
    assert np.array_equal(attached_alpha(alpha, np.zeros((H, W), bool)), alpha)


def test_a_blend_of_source_moments_keeps_the_actor_only_where_two_of_them_have_it():
    """Region head blends three source moments (1/4, 1/2, 1/4); hair that one neighbour holds
    wider than the others was laid over the room at a quarter of its opacity, a grey veil beside
    s20's hair. Each source's matte is limited to the largest of the others."""
    from reenact.render.head import agreed_mattes

    H, W = 40, 80
    head = np.zeros((H, W), np.float32)
    head[:, :30] = 1.0
    head[:, 30:33] = 0.5  # a soft edge, the same in every moment
    wide = head.copy()
    wide[:, 30:45] = 1.0  # one neighbour's hair, 15 px wider
    middle = head.copy()
    middle[:, 30:38] = 1.0  # the row's own moment and the other neighbour agree on 8 px of it
    other = middle.copy()
    got = agreed_mattes([middle, wide, other])
    blend = 0.5 * got[0] + 0.25 * got[1] + 0.25 * got[2]
    before = 0.5 * middle + 0.25 * wide + 0.25 * other
    assert np.allclose(before[:, 38:45], 0.25)  # (the ghost: a quarter of the hair's opacity)
    assert (blend[:, 38:] == 0).all()  # the band only one moment has is gone
    assert np.array_equal(blend[:, :38], before[:, :38])  # what two or more share is kept
    assert np.array_equal(agreed_mattes([wide])[0], wide)  # one source: as it is
    a, b = agreed_mattes([wide, middle])  # two sources: what both have
    assert np.array_equal(a, middle) and np.array_equal(b, middle)


def test_sampled_outside_marks_what_the_warp_takes_from_beyond_the_picture():
    """A disc at the frame's left edge moved 12 px right: the pixels its motion fetches from
    left of the frame (mirrored there by the warp) are marked, within a pillarbox's picture too,
    and nothing else."""
    from reenact.render.head import sampled_outside

    f = _shift_field(60, 100, 10, 30, 15, 12, fade=20)
    got = sampled_outside(f)
    assert np.array_equal(got, f.map_x < -0.5) and got.any()
    assert not sampled_outside(_shift_field(60, 100, 50, 30, 15, 0, fade=20)).any()
    bar = sampled_outside(f, (8, 0, 100, 60))          # a picture starting 8 px in
    assert np.array_equal(bar, f.map_x < 7.5) and bar.sum() > got.sum()


def test_mirrored_weight_keeps_a_little_beyond_the_sides_and_all_below():
    """What a warp fetches from beyond the picture's left, right or top edge counts as actor
    for ``reach`` px and not beyond twice that (a head moved far from a side edge brought the
    mirror image of its face into the room); below the bottom edge it all counts (the body
    continues below the frame)."""
    from reenact.render.head import mirrored_weight

    H, W = 40, 100
    x = np.arange(W, dtype=np.float32)[None, :].repeat(H, 0)
    y = np.arange(H, dtype=np.float32)[:, None].repeat(W, 1)
    area = (10, 0, 100, 40)  # a 10 px pillarbox bar on the left
    f = WarpField(x - 30.0, y.copy(), *([None] * 9))  # everything fetched from 30 px further left
    w = mirrored_weight(f, area, reach=5)
    src = x[0] - 30.0  # the source column of each pixel
    assert (w[:, src >= 4.5] == 1).all()             # inside the picture, or within 5 px of its edge
    assert (w[:, src <= -0.5] == 0).all()            # 10 px or more beyond it
    assert ((w > 0) & (w < 1)).any()                 # a ramp between
    below = WarpField(x.copy(), y + 25.0, *([None] * 9))
    assert (mirrored_weight(below, area, reach=5)[:, 10:] == 1).all()
    above = WarpField(x.copy(), y - 25.0, *([None] * 9))
    assert (mirrored_weight(above, area, reach=5)[:5, 10:] == 0).all()
