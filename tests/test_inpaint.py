# SPDX-License-Identifier: GPL-3.0-or-later
"""The room a moved head uncovers where no frame shows it: the shot's plate completed from
patches of the room (render/inpaint.py) instead of a smooth smear of its colours."""

import numpy as np

from reenact.render.head import smooth_fill
from reenact.render.inpaint import complete_plate


def _psnr(a, b, m):
    d = (a.astype(np.float64) - b.astype(np.float64))[m]
    return 10 * np.log10(255.0 ** 2 / max(float((d ** 2).mean()), 1e-9))


def _room(H=160, W=200, seed=0):
    """A wall of diagonal slats over a darker floor, with sensor noise."""
    y, x = np.mgrid[:H, :W]
    g = 128 + 70 * np.sin((x + 0.6 * y) / 3.5)
    g = np.where(y < 0.7 * H, g, 60 + 0.1 * x)
    g = g + np.random.default_rng(seed).normal(0, 2.0, g.shape)
    return np.clip(np.stack([g, 0.8 * g + 20, 0.6 * g + 30], -1), 0, 255).astype(np.uint8)


def test_the_room_no_frame_shows_is_drawn_from_its_texture_not_smeared():
    room = _room()
    known = np.ones(room.shape[:2], bool)
    known[30:90, 70:130] = False  # where the actor always stood
    hole = ~known
    plate = room.copy()
    plate[hole] = 0
    out, filled = complete_plate(plate, known, band=0.5)
    assert filled.all()
    assert np.array_equal(out[known], room[known])  # the room the frames show is kept exactly
    smooth = smooth_fill(plate, hole)
    # the slats continue through the hole (the smooth fill is their mean colour)
    assert _psnr(out, room, hole) > 30.0
    assert _psnr(smooth, room, hole) < 20.0
    assert out[hole].std() > 0.8 * room[hole].std()


def test_a_line_through_the_hole_is_continued_at_its_height():
    """A horizon (hills under a pale sky) crossing the hole comes out at the same row, sharp:
    the smooth fill drew a pale veil over the hills there (s20)."""
    H, W = 160, 240
    rng = np.random.default_rng(1)
    y, x = np.mgrid[:H, :W]
    sky = 215 + rng.normal(0, 1.5, (H, W))
    hills = 90 + 25 * np.sin(x / 2.3) * np.cos(y / 3.1) + rng.normal(0, 3, (H, W))
    g = np.where(y < 80, sky, hills)
    room = np.clip(np.stack([g, g, g + 5], -1), 0, 255).astype(np.uint8)
    known = np.ones((H, W), bool)
    known[50:120, 90:150] = False
    plate = room.copy()
    plate[~known] = 0
    out, _ = complete_plate(plate, known, band=0.5)
    rows = out[50:120, 95:145].astype(np.float64).mean((1, 2))  # row means inside the hole
    assert (rows[:80 - 50 - 3] > 200).all()  # sky down to 3 rows above the horizon
    assert (rows[80 - 50 + 3:] < 130).all()  # hills from 3 rows below it
    smooth = smooth_fill(plate, ~known)[50:120, 95:145].astype(np.float64).mean((1, 2))
    assert ((smooth > 130) & (smooth < 200)).sum() > 6  # (the smear: a wide grey ramp)


def test_a_shaded_wall_is_not_filled_with_a_lighter_block():
    """A plain wall darkening towards a corner, the hole by the frame's edge where only a thin
    strip of it is seen: the fill keeps the shading (patches of the lighter wall above were
    copied as they were, a flat light block, d3)."""
    H, W = 200, 200
    y, x = np.mgrid[:H, :W]
    g = 200 - 0.35 * x - 0.25 * y + np.random.default_rng(2).normal(0, 1.5, (H, W))
    room = np.clip(np.stack([g, 0.95 * g, 0.8 * g], -1), 0, 255).astype(np.uint8)
    known = np.ones((H, W), bool)
    known[60:, 120:196] = False  # a strip 4 px wide is all that is seen beside the frame's edge
    plate = room.copy()
    plate[~known] = 0
    out, _ = complete_plate(plate, known, band=0.5)
    err = np.abs(out.astype(np.float64) - room)[~known].mean()
    assert err < 6.3  # (the smooth fill: 10.4; patches copied unshifted: 6.8)


def test_completion_is_the_same_every_time_and_leaves_bars_and_far_room_alone():
    room = _room(200, 300)
    room[:, :30] = 0  # a pillarbox bar
    known = np.ones(room.shape[:2], bool)
    known[20:200, 100:220] = False  # the actor, down to the frame's bottom
    plate = room.copy()
    plate[~known] = 0
    a, fa = complete_plate(plate, known, area=(30, 0, 300, 200), band=0.15)
    b, fb = complete_plate(plate, known, area=(30, 0, 300, 200), band=0.15)
    assert np.array_equal(a, b) and np.array_equal(fa, fb)
    assert (a[:, :30] == 0).all()  # the bar is not drawn on ...
    far = ~fa
    assert far.any() and not far[known].any()  # ... nor room deep inside the actor's place
    assert (a[far] == plate[far]).all()
    assert fa[25:30, 160].all()  # room within reach of the seen room is drawn


def test_nothing_to_complete_returns_the_plate_as_it_was():
    room = _room(60, 80)
    known = np.ones(room.shape[:2], bool)
    out, filled = complete_plate(room, known)
    assert out is room and filled is known
    out, filled = complete_plate(room, np.zeros_like(known))
    assert not filled.any()


def test_region_heads_plate_of_a_real_shot_is_completed_near_the_actor(carphone, carphone_track, monkeypatch):
    """carphone's plate as region ``head`` makes it: the room next to where the actor always
    sat is drawn (the same every time), with the room's contrast, and the room the frames show
    is kept exactly."""
    from reenact.render import motion
    from reenact.video import open_video

    with open_video(carphone) as src:
        monkeypatch.setattr(motion, "COMPLETE_ROOM", False)
        plain = motion.shot_plate(src, carphone_track)
        monkeypatch.setattr(motion, "COMPLETE_ROOM", True)
        done = motion.shot_plate(src, carphone_track)
        again = motion.shot_plate(src, carphone_track)
    assert len(plain) == len(done) == 3  # a still camera
    (p0, k0), (p1, k1) = plain[:2], done[:2]
    assert np.array_equal(p1, again[0]) and np.array_equal(k1, again[1])
    assert np.array_equal(p1[k0], p0[k0]) and (k1 | ~k0).all() and (k1 & ~k0).sum() > 0.3 * (~k0).sum()
    new = k1 & ~k0

    def steps(img, where):  # mean horizontal step between neighbours both in ``where``
        d = np.abs(np.diff(img.astype(np.float64), axis=1)).mean(-1)
        return d[where[:, 1:] & where[:, :-1]].mean()

    g1, gs, g0 = steps(p1, new), steps(smooth_fill(p0, ~k0), new), steps(p0, k0)
    assert g1.mean() > 2 * gs.mean() and g1.mean() > 0.4 * g0.mean()  # texture, as the room has


def test_a_large_plate_is_drawn_smaller_and_scaled_up_keeping_the_seen_room(monkeypatch):
    """Above MAX_SIDE (4K footage) the room is drawn at MAX_SIDE and scaled up: the seen room
    stays exact, the hole gets the room's slats (softer by the scale)."""
    from reenact.render import inpaint

    room = _room(320, 400)
    known = np.ones(room.shape[:2], bool)
    known[60:180, 140:260] = False
    plate = room.copy()
    plate[~known] = 0
    monkeypatch.setattr(inpaint, "MAX_SIDE", 160)
    out, filled = inpaint.complete_plate(plate, known, band=0.5)
    assert filled.all() and np.array_equal(out[known], room[known])
    assert _psnr(out, room, ~known) > 22.0
    assert _psnr(smooth_fill(plate, ~known), room, ~known) < 20.0
