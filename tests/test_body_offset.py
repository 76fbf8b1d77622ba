# SPDX-License-Identifier: GPL-3.0-or-later
"""Region head from another frame of the shot whose body sat elsewhere (a camera that tilts, an
actor who shifts): the source's neck and collar are carried onto this frame's body, not laid
over it a second time."""

import cv2
import numpy as np

from reenact.render.head import body_offset, posed_points


def _shifted(img, dx, dy):
    M = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, M, (img.shape[1], img.shape[0]), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT_101)


def _frame_and_points(carphone, carphone_track):
    from reenact.render.shotframes import ShotFrames

    tr = carphone_track
    r = int(np.flatnonzero(tr.tracked)[len(np.flatnonzero(tr.tracked)) // 2])
    with ShotFrames(tr, carphone) as sf:
        frame = sf._frame(r).copy()
    return frame, posed_points(tr, [r])[0][0]


def test_body_offset_finds_where_another_frame_shows_the_body(carphone, carphone_track):
    frame, P = _frame_and_points(carphone, carphone_track)
    for d in ((6.0, -9.0), (-4.0, 3.0)):
        got = body_offset(frame, _shifted(frame, *d), P)
        assert np.hypot(got[0] - d[0], got[1] - d[1]) < 1.0, (d, got)
    still = body_offset(frame, frame, P)
    assert np.hypot(*still) < 0.25, still
    # a camera that tilted far between the two moments (d20: 75 px on a 480 px frame): DIS alone
    # found (8.3, -3.9) here, and the body jumped for a frame; from phase correlation's start it
    # is found
    got = body_offset(frame, _shifted(frame, 8.0, -30.0), P)
    assert np.hypot(got[0] - 8.0, got[1] + 30.0) < 1.0, got
    # only the body below the chin counts: a head moved alone leaves it where it is
    moved_head = frame.copy()
    top = int(P[:, 1].min()) - 5
    chin = int(P[152, 1])
    moved_head[max(0, top):chin] = _shifted(frame, 8.0, 0.0)[max(0, top):chin]
    assert np.hypot(*body_offset(frame, moved_head, P)) < 1.0


def test_shot_head_carries_a_source_frame_s_body_onto_this_frame_s(carphone, carphone_track, monkeypatch):
    """The field from another footage frame keeps its head motion where the head moves
    (weight 1) and samples that frame where it shows this frame's body beyond (weight 0)."""
    from reenact.face import transfer as X
    from reenact.render.shothead import ShotHead

    tr = carphone_track
    ok = np.flatnonzero(tr.tracked)
    r, j = int(ok[len(ok) // 2]), int(ok[0])
    req = X._copy(tr)
    req.pose = np.array(req.pose)
    req.pose[r] = tr.pose[j]
    req = req.with_footage_rows(tr)
    with ShotHead(tr, req, carphone, matte=True) as sh:
        monkeypatch.setattr(sh, "body_offset", lambda a, b, frame: (5.0, -7.0))
        from reenact.render.warp import warp_field

        m = sh.motion
        frame = sh._frame(r)
        f = warp_field(sh.ps[j], m.pd[r], None, frame.shape[:2], src_depth=sh.zs[j], dst_depth=m.zd[r],
                       model_points=m.identity)
        c = sh._carried(f, j, r, frame)
        head, away = f.weight >= 1.0, f.weight <= 0.0
        assert head.any() and away.any()
        assert np.array_equal(c.map_x[head], f.map_x[head]) and np.array_equal(c.map_y[head], f.map_y[head])
        np.testing.assert_allclose(c.map_x[away], f.map_x[away] + 5.0, atol=1e-3)
        np.testing.assert_allclose(c.map_y[away], f.map_y[away] - 7.0, atol=1e-3)
        assert c.weight is f.weight and c.disocclusion is f.disocclusion
        assert sh._carried(f, r, r, frame) is f  # its own frame: nothing to carry
    with ShotHead(tr, req, carphone, matte=False) as sh:  # no layer (ShotFace): only the face is used
        monkeypatch.setattr(sh, "body_offset", lambda a, b, frame: (5.0, -7.0))
        assert sh._carried(f, j, r, frame) is f


def _room(h, w, seed=3):
    """A textured room (smooth blobs at several scales), larger than the frames cut from it."""
    rng = np.random.default_rng(seed)
    room = np.zeros((h, w, 3), np.float32)
    for s in (3, 9, 27):
        n = rng.normal(0, 1, (h // s + 2, w // s + 2, 3)).astype(np.float32)
        room += cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC) * 25
    return np.clip(room + 120, 0, 255).astype(np.uint8)


def test_a_panning_camera_gets_a_plate_of_the_room_where_each_frame_shows_it():
    """A camera tilting 4 px a frame over a textured room, an actor (a disc) in front: the room's
    motion is found (not the actor's), and each frame's plate is the room it shows, where known;
    a plate made as if the camera stood still smears it."""
    from reenact.render.head import background_plate, camera_offsets, moving_plate

    H, W, T, step = 96, 128, 12, 4
    room = _room(H + T * step + 8, W + 8)
    frames, covered = [], []
    yy, xx = np.mgrid[0:H, 0:W]
    for k in range(T):
        f = room[k * step:k * step + H, 4:4 + W].copy()
        disc = (yy - 60) ** 2 + (xx - (40 + 4 * k)) ** 2 < 22 ** 2  # the actor walks right
        f[disc] = (200, 60, 60)
        frames.append(f)
        covered.append(disc)
    frames, covered = np.stack(frames), np.stack(covered)
    off = camera_offsets(frames, covered)
    np.testing.assert_allclose(off[:, 1], -step * np.arange(T), atol=1.0)
    np.testing.assert_allclose(off[:, 0], 0.0, atol=1.0)
    rows = 100 + np.arange(T)  # clip frame numbers
    mp = moving_plate(frames, covered, rows, off)
    still, _ = background_plate(frames, covered)
    for k in (0, 5, T - 1):
        plate, known = mp.at(100 + k)
        truth = room[k * step:k * step + H, 4:4 + W]
        assert plate.shape == truth.shape and known.mean() > 0.9
        err = np.abs(plate.astype(int) - truth.astype(int))[known].mean()
        assert err < 4.0, (k, err)
        assert np.abs(still.astype(int) - truth.astype(int)).mean() > 4 * err + 5


def test_head_preview_frame_equals_the_render_on_a_panning_shot(carphone, tmp_path):
    """A shot whose camera tilts (carphone moved down 2 px a frame): region head's plate is the
    moving one, and Preview Frame (render_frame) draws what render_clip draws, bit for bit."""
    from conftest import turned

    from reenact.render.plates import stored_plate
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.render.renderer import BASE_MODEL
    from reenact.tracking.tracker import track_video
    from reenact.video import open_video

    folder = tmp_path / "pan"
    folder.mkdir()
    frames = []
    with open_video(carphone) as src:
        for k in range(48):
            f = _shifted(src.read(k), 0.0, 2.0 * k)
            frames.append(f)
            cv2.imwrite(str(folder / "pan_{:04d}.png".format(k)), f[..., ::-1])
    track = track_video(str(folder / "pan_%04d.png"))[0]
    plate = stored_plate(str(folder / "pan_%04d.png"), track)
    assert plate is not None and len(plate) == 4, "the tilt was not found"
    perf = turned(track, 0.12)
    got = {}
    render_clip(perf, str(folder / "pan_%04d.png"), BASE_MODEL, frames=(20, 26), region="head", prefer_gpu=False,
                cache_dir=str(tmp_path / "c"), watermark=False, on_frame=lambda i, f: got.__setitem__(i, f.copy()))
    for i in (20, 25):
        one, _ = render_frame(perf, frames[i], i, BASE_MODEL, region="head", crop_track=track,
                              cache_dir=str(tmp_path / "p"), video=str(folder / "pan_%04d.png"), prefer_gpu=False,
                              watermark=False)
        assert np.array_equal(one, got[i]), i


def test_the_plate_is_brought_to_the_frame_s_light_where_it_fills_the_actor():
    """A plate made in other light (20 levels darker, a little warmer) fills a cut-out actor
    without a seam when matched: inside the hole it takes the frame's light, outside nothing
    changes; unmatched, the step stays."""
    from reenact.render.head import fill_background

    room = _room(120, 160)
    frame = np.clip(room.astype(int) + 20, 0, 255).astype(np.uint8)
    plate = np.clip(room.astype(int) + (0, 3, -2), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:120, 0:160]
    hole = (yy - 60) ** 2 + (xx - 80) ** 2 < 30 ** 2
    actor = frame.copy()
    actor[hole] = (200, 40, 40)
    plain = fill_background(actor, hole, plate)
    matched = fill_background(actor, hole, plate, match=True)
    assert np.array_equal(matched[~hole], actor[~hole])
    step = np.abs(plain.astype(int) - frame)[hole].mean()
    err = np.abs(matched.astype(int) - frame)[hole].mean()
    assert step > 15 and err < 3, (step, err)


def test_region_head_turns_into_this_frame_s_actor_where_the_head_s_motion_fades(carphone, carphone_track,
                                                                                  monkeypatch):
    """Where the head's motion fades out (beside and below the head), the moved actor is this
    frame's own, moved the same way, not the source frame's: a source moment whose hair hung
    otherwise met this frame's along the motion's edge (a wedge of sky through s20's hair). The
    source frame is painted red here; the band where the motion is almost gone stays this
    frame's colour but for the motion's remaining weight (and is red without the fade)."""
    from reenact.face import transfer as X
    from reenact.render import shothead
    from reenact.render.head import layer_reach
    from reenact.render.shothead import ShotHead

    tr = carphone_track
    ok = np.flatnonzero(tr.tracked)
    r, j = int(ok[len(ok) // 2]), int(ok[0])
    req = X._copy(tr)
    req.pose = np.array(req.pose)
    req.pose[r - 1:r + 2] = tr.pose[j]
    req.pose[r - 1:r + 2, 3] += 1.5  # (cm) the head moves well beyond the noise of the reach
    req = req.with_footage_rows(tr)
    with ShotHead(tr, req, carphone, matte=True) as sh:
        sh.source[:] = j
        m = sh.motion
        clean, clean_matte = sh._frame, m.actor_matte
        red = lambda k: np.dstack([np.full_like(clean(k)[..., 0], 255), clean(k)[..., 1:]]) if k == j else clean(k)
        monkeypatch.setattr(sh, "_frame", red)
        monkeypatch.setattr(m, "actor_matte", lambda key, rgb, pts: clean_matte(key, clean(key), pts))
        monkeypatch.setattr(sh, "body_offset", lambda a, b, frame: (0.0, 0.0))
        frame = clean(r)
        reds = {}
        for fade in (True, False):
            monkeypatch.setattr(shothead, "OWN_FADE", fade)
            out, g = sh._moved(r, frame)
            # the actor where the motion is fading (weight < 0.3) but the layer applies
            band = (g.weight > 0) & (g.weight < 0.3) & (layer_reach(g) > 0.5) & (clean_matte(r, frame, sh.ps[r]) > 0.9)
            assert band.sum() > 200
            reds[fade] = float(np.mean(out[band, 0].astype(np.float32) - frame[band, 0]))
    assert reds[False] > 100.0, reds  # the source's actor, red
    assert reds[True] < 0.25 * reds[False], reds  # the source only by the motion's weight there


def test_the_layer_turns_into_this_frame_s_actor_without_a_double_image(carphone, carphone_track):
    # region head: where the head's motion fades, the source frame's actor turns into this
    # frame's; when the two show the body a few pixels apart (d20's collar), a cross-fade draws it
    # twice. The morph draws it once, halfway, and is each picture exactly beyond the band.
    from reenact.render.crossfade import aligned_crossfade

    frame, _ = _frame_and_points(carphone, carphone_track)
    a = frame.astype(np.float32)
    b = _shifted(frame, 0.0, 8.0).astype(np.float32)
    halfway = _shifted(frame, 0.0, 4.0).astype(np.float32)
    H, W = a.shape[:2]
    y = np.arange(H, dtype=np.float32)[:, None]
    weight = np.broadcast_to(np.clip((y - 0.3 * H) / (0.4 * H), 0.0, 1.0), (H, W)).astype(np.float32)
    one = np.ones((H, W), np.float32)
    got, cov = aligned_crossfade(a, one, b, one, weight)
    assert np.allclose(cov, 1.0)
    top, bottom = weight == 0.0, weight == 1.0
    assert np.array_equal(got[top], a[top]) and np.array_equal(got[bottom], b[bottom])
    mid = (np.abs(weight - 0.5) < 0.05)
    mid[:, :16] = mid[:, -16:] = False
    plain = 0.5 * a + 0.5 * b
    err_morph = np.abs(got[mid] - halfway[mid]).mean()
    err_plain = np.abs(plain[mid] - halfway[mid]).mean()
    assert err_morph < 0.6 * err_plain, (err_morph, err_plain)
    # the double image: the plain mix's detail is a blur of two copies, the morph's is one copy
    lap = lambda im: cv2.Laplacian(cv2.cvtColor(np.clip(im, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY),
                                   cv2.CV_32F)[mid].var()
    assert lap(got) > 1.2 * lap(plain) and lap(got) > 0.7 * lap(halfway), (lap(got), lap(plain), lap(halfway))


def test_the_morph_draws_no_ghost_where_only_one_picture_shows_the_actor(carphone, carphone_track):
    # s20: this frame's own hair, where the moved head's weight was still 0.8, came out as a
    # quarter-opaque bubble in the sky beside the moved head. Where only one picture shows the
    # actor, the picture the weight favours decides; where both agree, their coverage is kept.
    from reenact.render.crossfade import aligned_crossfade

    frame, _ = _frame_and_points(carphone, carphone_track)
    a = frame.astype(np.float32)
    b = _shifted(frame, 0.0, 4.0).astype(np.float32)
    H, W = a.shape[:2]
    x = np.arange(W, dtype=np.float32)[None, :]
    weight = np.broadcast_to(np.clip((x - 0.2 * W) / (0.6 * W), 0.0, 1.0), (H, W)).astype(np.float32)
    yy = np.arange(H)[:, None]
    a_alpha = np.broadcast_to((yy < H // 2), (H, W)).astype(np.float32)  # a: actor in the top half
    b_alpha = np.zeros((H, W), np.float32)  # b: room everywhere
    b_alpha[: H // 4] = 1.0  # ... but the actor in the top quarter too
    soft = np.float32(0.3)
    a_alpha[-8:], b_alpha[-8:] = soft, soft  # a soft edge both show
    _, cov = aligned_crossfade(a, a_alpha, b, b_alpha, weight)
    only_a = (yy > H // 4 + 8) & (yy < H // 2 - 8)
    only_a = np.broadcast_to(only_a, (H, W))
    favour_b, favour_a = only_a & (weight > 0.7), only_a & (weight < 0.3)
    assert favour_b.sum() > 200 and favour_a.sum() > 200
    assert cov[favour_b].max() < 0.02, cov[favour_b].max()  # no ghost of a's actor (a linear mix: 0.3)
    assert cov[favour_a].min() > 0.98  # a's actor where a is favoured
    both = np.broadcast_to(yy < H // 4 - 8, (H, W))
    assert np.allclose(cov[both], 1.0)
    assert np.allclose(cov[-6:, 8:-8], soft, atol=0.02)  # agreed soft coverage kept


def test_sources_of_a_changing_moment_are_mixed_in_one_geometry_beyond_the_face(carphone, carphone_track):
    # region head mixes each row's source with its neighbours' (1/4, 1/2, 1/4); where the source
    # changes, the moments held the collar otherwise (d12 -> d20 frame 44: a second collar half
    # transparent across the neck). Moved to their mean geometry where allowed, the mix draws the
    # picture once, at the weighted mean place; where not allowed, each picture is untouched.
    from reenact.render.crossfade import mean_geometry

    frame, _ = _frame_and_points(carphone, carphone_track)
    main = frame.astype(np.float32)
    later = _shifted(frame, 0.0, 8.0).astype(np.float32)  # the next moment's collar 8 px lower
    H, W = main.shape[:2]
    where = np.zeros((H, W), np.float32)
    where[H // 3:, :] = 1.0  # beyond the face: the lower two thirds
    ones = [np.ones((H, W), np.float32)] * 3
    weights = [0.5, 0.25, 0.25]
    pics, mats = mean_geometry([main, main, later], ones, weights, 0, where)
    assert len(pics) == 3 and all(np.allclose(m, 1.0) for m in mats)
    mixed = sum(w * p for w, p in zip(weights, pics))
    plain = sum(w * p for w, p in zip(weights, [main, main, later]))
    target = _shifted(frame, 0.0, 2.0).astype(np.float32)  # 1/4 of the way: the weighted mean place
    inner = np.zeros((H, W), bool)
    inner[H // 3 + 24: H - 16, 16: W - 16] = True
    err_mixed = np.abs(mixed[inner] - target[inner]).mean()
    err_plain = np.abs(plain[inner] - target[inner]).mean()
    assert err_mixed < 0.6 * err_plain, (err_mixed, err_plain)
    lap = lambda im: cv2.Laplacian(cv2.cvtColor(np.clip(im, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY),
                                   cv2.CV_32F)[inner].var()
    assert lap(mixed) > 1.15 * lap(plain), (lap(mixed), lap(plain))  # one copy, not a blur of two
    # nothing moves where it is not allowed (the face the mesh aligned)
    top = (slice(0, H // 3 - 12), slice(None))
    for p, q in zip(pics, [main, main, later]):
        assert np.array_equal(p[top], q[top])
    # nowhere allowed: the same objects back
    got, _ = mean_geometry([main, later], ones[:2], [0.5, 0.5], 0, np.zeros((H, W), np.float32))
    assert got[0] is main and got[1] is later
