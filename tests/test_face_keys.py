# SPDX-License-Identifier: GPL-3.0-or-later
"""Region face: an animator's jawOpen key draws the mouth from the shot's own frames
(render/rewrite.py face_mouth, HeadMotion.with_shot_mouth), not the network's lipstick blob; a
blink key draws the eyes from one of the shot's blinks (render/eyes.py ShotEyes)."""
import cv2
import numpy as np

from reenact.render.renderer import BASE_MODEL


def _jaw_key(track):
    """(``track`` with jawOpen keyed on its 6 most closed tracked rows to the footage's widest
    jawOpen, the edited rows)."""
    from reenact.face import transfer as X
    from reenact.render.donor import mouth_openings

    ok = np.flatnonzero(np.asarray(track.tracked, bool))
    gaps = mouth_openings(track, ok)
    rows = sorted(int(r) for r in ok[np.argsort(gaps)[:6]])
    req = X._copy(track)
    req.expression = np.array(req.expression, np.float64)
    k = [str(n) for n in req.expression_names].index("jawOpen")
    req.expression[rows, k] = np.nanmax(req.expression[ok, k])
    return req.with_footage_rows(track), rows


def test_a_jaw_key_draws_the_mouth_from_the_shot(carphone, carphone_track, tmp_path):
    """The edited rows' lower face comes from the footage frame with the nearest mouth, which
    opens wider than the frame edited; the moved face then has no mouth hole for the network
    (the warp alone has one); render_clip says so and Preview Frame draws the same frame;
    ``mouth_mode="renderer"`` keeps the network."""
    from reenact.render.donor import mouth_openings
    from reenact.render.motion import HeadMotion
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.render.rewrite import face_mouth
    from reenact.video import open_video

    track = carphone_track
    req, rows = _jaw_key(track)
    f0 = int(track.frame_start)
    mouth, info = face_mouth(req, track, carphone)
    assert info["source"] == "shot" and mouth is not None
    hm = HeadMotion(track, req).with_shot_mouth(mouth)
    plain = HeadMotion(track, req)
    with open_video(carphone) as src:
        for r in rows:
            j = hm.mouth_source(r)
            assert j is not None and mouth_openings(track, [j])[0] > mouth_openings(track, [r])[0] + 1e-3, (r, j)
            frame = src.read(r + f0)
            out, f = hm.face_frame(r, frame)
            ref, g = plain.face_frame(r, frame)
            assert g.mouth_hole.any() and not f.mouth_hole.any()
            assert np.abs(out.astype(int) - ref.astype(int)).max() > 20  # another mouth than the stretched lips
    mouth.close()
    got = {}
    a, b = rows[0] + f0, rows[-1] + f0 + 1
    s = render_clip(req, carphone, BASE_MODEL, frames=(a, b), region="face", prefer_gpu=False, crop_track=track,
                    cache_dir=str(tmp_path / "c"), watermark=False,
                    on_frame=lambda i, fr: got.__setitem__(i, fr.copy()))
    assert s["driver_mouth"]["source"] == "shot"
    net = {}
    s2 = render_clip(req, carphone, BASE_MODEL, frames=(a, b), region="face", prefer_gpu=False, crop_track=track,
                     cache_dir=str(tmp_path / "c"), watermark=False, mouth_mode="renderer",
                     on_frame=lambda i, fr: net.__setitem__(i, fr.copy()))
    assert s2["driver_mouth"]["source"] == "renderer"
    with open_video(carphone) as src:
        for r in rows:
            i = r + f0
            assert not np.array_equal(got[i], net[i])
            one, _ = render_frame(req, src.read(i), i, BASE_MODEL, region="face", cache_dir=str(tmp_path / "c"),
                                  crop_track=track, video=carphone, prefer_gpu=False, watermark=False)
            assert np.array_equal(one, got[i])


def test_a_blink_key_draws_the_eyes_from_a_blink_of_the_shot(carphone, carphone_track, tmp_path):
    """An animator's blink key (eyeBlink 1 on frames whose eyes are open): the eyes come from a
    footage frame whose lids are closed (carphone blinks around frames 42 and 92), drawn over
    the frame's own open eyes too (the lids' warp left the iris in place), or where that blink
    closes too little for the row, the row's own lids slid shut; a brows key keeps the frame's
    own eyes; Preview Frame draws what the render draws."""
    from reenact.face import transfer as X
    from reenact.render.eyes import ShotEyes, eye_shapes
    from reenact.render.motion import HeadMotion
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.video import open_video

    track = carphone_track
    f0 = int(track.frame_start)
    _, opening, _ = eye_shapes(track)
    rows = [r for r in range(60, 66) if opening[r] > 0.9]
    assert len(rows) >= 3
    req = X._copy(track)
    req.expression = np.array(req.expression, np.float64)
    names = [str(n) for n in req.expression_names]
    for n in ("eyeBlinkLeft", "eyeBlinkRight"):
        req.expression[rows, names.index(n)] = 1.0
    brows = X._copy(track)
    brows.expression = np.array(brows.expression, np.float64)
    brows.expression[rows, names.index("browInnerUp")] += 0.4
    req, brows = req.with_footage_rows(track), brows.with_footage_rows(track)
    asked = eye_shapes(req, rows)[1]
    eyes = ShotEyes(track, carphone)
    hm = HeadMotion(track, req).with_shot_eyes(eyes)
    shot = 0
    with open_video(carphone) as src:
        for k, r in enumerate(rows):
            j = hm.eye_source(r)
            if j is None:  # the shot's nearest blink closes too little for this row: its own lids slid shut
                assert hm.lids_move(r), r
            else:
                assert abs(opening[j] - asked[k]) < 0.15 and opening[j] < 0.6, (r, j)
                shot += 1
            assert eyes.source(brows, r, r) is None
            frame = src.read(r + f0)
            out, _ = hm.face_frame(r, frame)
            plain, _ = HeadMotion(track, req).face_frame(r, frame)
            assert np.abs(out.astype(int) - plain.astype(int)).max() > 20
    assert shot >= 2  # (carphone's blink, around frame 92, serves most rows)
    got = {}
    a, b = rows[0] + f0, rows[-1] + f0 + 1
    render_clip(req, carphone, BASE_MODEL, frames=(a, b), region="face", prefer_gpu=False, crop_track=track,
                cache_dir=str(tmp_path / "c"), watermark=False, on_frame=lambda i, fr: got.__setitem__(i, fr.copy()))
    with open_video(carphone) as src:
        for r in rows:
            one, _ = render_frame(req, src.read(r + f0), r + f0, BASE_MODEL, region="face", crop_track=track,
                                  cache_dir=str(tmp_path / "c"), video=carphone, prefer_gpu=False, watermark=False)
            assert np.array_equal(one, got[r + f0])
    eyes.close()


def test_eyes_drawn_over_a_blink_cover_the_open_eye_they_replace(carphone, carphone_track):
    """eyes_from with ``cover`` (the eyes the frame shows, open, where the request closes them: a
    blink key, a moved head whose source has open eyes): the closed eyes drawn from a footage
    blink also cover the open eye's place above and below the slit, where the lids' warp left the
    iris; without lids keyed (cover = the request itself) nothing changes."""
    from reenact.face import transfer as X
    from reenact.render.eyes import ShotEyes, eye_shapes, eyes_from
    from reenact.render.head import posed_points
    from reenact.render.meshes import _mesh
    from reenact.video import open_video

    track = carphone_track
    _, opening, _ = eye_shapes(track)
    r = next(k for k in range(60, 70) if opening[k] > 0.9)  # open eyes
    j = int(np.argmin(np.where(np.isfinite(opening), opening, np.inf)))  # the footage's blink
    req = X._copy(track)
    req.expression = np.array(req.expression, np.float64)
    names = [str(n) for n in req.expression_names]
    for n in ("eyeBlinkLeft", "eyeBlinkRight"):
        req.expression[r, names.index(n)] = 1.0
    pd = posed_points(req, [r])[0][0]
    own = posed_points(track, [r])[0][0]
    eyes = ShotEyes(track, carphone)
    with open_video(carphone) as src:
        frame = src.read(r + int(track.frame_start))
    plain, _ = eyes_from(eyes, j, frame, pd)
    covered, _ = eyes_from(eyes, j, frame, pd, cover=own)
    same, _ = eyes_from(eyes, j, frame, pd, cover=pd)
    eyes.close()
    assert np.array_equal(same, plain)
    diff = np.abs(covered.astype(int) - plain.astype(int)).max(-1)
    lp = list(_mesh().eyes[0])
    x0, y0 = np.floor(own[lp].min(0)).astype(int)
    x1, y1 = np.ceil(own[lp].max(0)).astype(int)
    assert diff[y0:y1 + 1, x0:x1 + 1].max() > 10  # the open eye's place is drawn over
    both = np.concatenate([own[list(e)] for e in _mesh().eyes] + [pd[list(e)] for e in _mesh().eyes])
    pad = int(np.ceil(np.ptp(own[lp][:, 0])))  # an eye's width around both eyes
    far = np.ones(diff.shape, bool)
    bx0, by0 = np.maximum(np.floor(both.min(0)).astype(int) - pad, 0)
    bx1, by1 = np.ceil(both.max(0)).astype(int) + pad
    far[by0:by1 + 1, bx0:bx1 + 1] = False
    assert diff[far].max() == 0  # nothing away from the eyes


def test_an_eye_is_drawn_whole_over_its_opening_narrow_or_open(carphone, carphone_track):
    """eyes_from draws footage row j's eye at full strength over the middle of its opening (the
    iris), for a narrow eye as for an open one, over a frame that shows something else there.
    (A blur of the region reached 60-85 % inside it: the frame beneath showed through and washed
    a half-closed eye's iris grey, d12 -> d0 rows 51-53.)"""
    from reenact.render.eyes import ShotEyes, eye_shapes, eyes_from
    from reenact.render.meshes import _mesh
    from reenact.video import open_video

    track = carphone_track
    _, opening, _ = eye_shapes(track)
    ok = np.flatnonzero(np.isfinite(opening))
    narrow = int(ok[np.argsort(np.abs(opening[ok] - 0.6))[0]])  # lids half down
    wide = int(ok[np.argmax(opening[ok])])
    assert opening[narrow] < 0.7 < 1.1 < opening[wide], (opening[narrow], opening[wide])
    eyes = ShotEyes(track, carphone)
    try:
        with open_video(carphone) as src:
            for j in (narrow, wide):
                own = src.read(j + int(track.frame_start))
                grey = np.full_like(own, 128)
                out, _ = eyes_from(eyes, j, grey, eyes.ps[j])  # its own eyes, where they are
                for lp in _mesh().eyes:
                    m = np.zeros(own.shape[:2], np.uint8)
                    loop = eyes.ps[j][list(lp)]
                    cv2.fillPoly(m, [np.round(loop.mean(0) + 0.45 * (loop - loop.mean(0))).astype(np.int32)], 1)
                    inside = m > 0  # the middle of the opening (carphone's eyes are a few pixels tall)
                    d = np.abs(out.astype(int) - own.astype(int)).max(-1)[inside]
                    # (a few pixels move with the map's sub-pixel fit: an eye a few pixels tall)
                    assert inside.sum() > 5 and np.mean(d <= 2) >= 0.5, (j, opening[j], inside.sum(), d)
    finally:
        eyes.close()


def test_a_gaze_key_takes_no_eyes_whose_lids_open_otherwise(carphone, carphone_track):
    """A gaze key (the lids not keyed) takes its eyes from a footage frame only where that frame's
    lids open within EDIT_LIDS_MIN of the asked ones: a frame looking exactly there with its eyes
    much wider or narrower would change the expression (driving_d10's startled eyes for a look
    aside); one with the row's lids looking nearly there is taken."""
    from reenact.face import transfer as X
    from reenact.render.eyes import EDIT_LIDS_MIN, ShotEyes

    track = carphone_track
    eyes = ShotEyes(track, carphone)
    rows, of = eyes.pool.rows, eyes.pool.of
    j = int(rows[np.argmax(of)])  # the widest lids of the shot
    r = int(rows[np.argmin(np.abs(of - (of.max() - 2.5 * EDIT_LIDS_MIN)))])  # a row whose lids open less
    o_r = float(of[rows == r][0])
    near = [int(k) for k, o in zip(rows, of) if abs(o - o_r) < 0.3 * EDIT_LIDS_MIN and abs(int(k) - r) > 3]
    eyes.close()
    assert abs(float(of[rows == j][0]) - o_r) > 2 * EDIT_LIDS_MIN and near, (o_r, of.min(), of.max())
    key = np.asarray(track.gaze, np.float64)[r] + (0.2, 0.0, 0.2, 0.0)
    own = X._copy(track)
    own.gaze = np.array(track.gaze, np.float64)
    own.gaze[j] = key  # the far lids look exactly where the key asks
    own.gaze[near[0]] = key + (0.04, 0.0, 0.04, 0.0)  # the row's own lids, nearly there
    req = X._copy(track)
    req.gaze = np.array(track.gaze, np.float64)
    req.gaze[r] = key
    eyes = ShotEyes(own, carphone)
    try:
        got = eyes.source(req, r, r)
    finally:
        eyes.close()
    assert got is not None and got != j, got
    assert abs(float(of[rows == got][0]) - o_r) < EDIT_LIDS_MIN, got


def test_a_look_up_or_down_moves_the_row_s_own_irises(carphone, carphone_track, monkeypatch):
    """A gaze key that moves the eyes more up or down than sideways keeps the row's own eyes and
    moves their irises (render/irises.py) even where a frame of the shot looks exactly there
    with the row's lids: such a frame's lids, fitted onto the row's, give back part of a vertical
    look (docs/reenact-bench.md, *Looks up and down*). The same move sideways takes that frame."""
    from reenact.face import transfer as X
    from reenact.render import eyes as E

    track = carphone_track
    eyes = E.ShotEyes(track, carphone)
    rows, of = eyes.pool.rows, eyes.pool.of
    eyes.close()
    r = int(rows[len(rows) // 2])
    o_r = float(of[rows == r][0])
    near = [int(k) for k, o in zip(rows, of) if abs(o - o_r) < 0.3 * E.EDIT_LIDS_MIN and abs(int(k) - r) > 3]
    assert near
    got = {}
    for name, move in (("down", (0.0, -0.08, 0.0, -0.08)), ("aside", (0.08, 0.0, 0.08, 0.0))):
        key = np.asarray(track.gaze, np.float64)[r] + move
        own = X._copy(track)
        own.gaze = np.array(track.gaze, np.float64)
        own.gaze[near[0]] = key  # a frame with the row's lids looks exactly there
        req = X._copy(track)
        req.gaze = np.array(track.gaze, np.float64)
        req.gaze[r] = key
        for rule in (True, False):
            monkeypatch.setattr(E, "EDIT_GAZE_VERTICAL_IRISES", rule)
            eyes = E.ShotEyes(own, carphone)
            try:
                got[name, rule] = eyes.source(req, r, r)
                if name == "down":
                    assert eyes._irises_fit(req, r, r)
            finally:
                eyes.close()
    assert got["down", True] is None, got  # the row's own irises, moved down
    assert got["down", False] == near[0], got  # without the rule: the shot's frame
    assert got["aside", True] == got["aside", False] == near[0], got


def test_a_gaze_key_carries_the_shot_s_eyes_with_the_head(carphone, carphone_track):
    """A gaze key that keeps the lids (eyes_from with the row's ``pose``) carries the footage
    frame's eyes by the head's motion (head_maps), so its iris stays where that frame's head has
    it; fitted onto the asked opening instead, lids that moved with the look (an eye looking down
    lowers its upper lid) pull the iris back (driving_d13: 10.9 of 11.5 degrees off a key where
    the frame itself reads 5.5). A red dot painted on the frame's iris is found where each map
    puts it, with the frame's upper lids lowered by 1.5 px in its fitted mesh."""
    import cv2

    from reenact.render.eyes import ShotEyes, eye_shapes, eyes_from, head_maps
    from reenact.render.head import posed_points
    from reenact.render.irises import IRISES
    from reenact.render.meshes import _mesh
    from reenact.video import open_video

    track = carphone_track
    _, opening, _ = eye_shapes(track)
    r = next(k for k in range(60, 90) if opening[k] > 0.9)
    j = next(k for k in range(r + 5, r + 40) if opening[k] > 0.9)
    eyes = ShotEyes(track, carphone)
    L = np.asarray(track.landmarks, np.float64)[j, :, :2]
    with open_video(carphone) as src:
        frame_r = src.read(r + int(track.frame_start))
        clean = src.read(j + int(track.frame_start))
    c = L[IRISES[0][0]]  # the actor's left iris
    painted = clean.copy()
    c = np.round(c)  # the dot's centre
    cv2.circle(painted, (int(c[0]), int(c[1])), 1, (255, 0, 0), -1)
    source = {"frame": painted}
    eyes._frame = lambda k: source["frame"]
    lp = min(_mesh().eyes, key=lambda q: float(np.hypot(*(eyes.ps[j][list(q)].mean(0) - c))))
    loop = eyes.ps[j][list(lp)]
    upper = loop[:, 1] < np.median(loop[:, 1])
    eyes.ps[j][np.asarray(lp)[upper], 1] += 1.5  # row j's upper lid lower, as with a look down
    pd = posed_points(track, [r])[0][0]
    pose = np.asarray(track.pose, np.float64)[r]

    def dot(**kw):
        """Where the dot lands: the red of the frame drawn from the painted frame over the clean one's."""
        source["frame"] = painted
        img, hole = eyes_from(eyes, j, frame_r, pd, **kw)
        source["frame"] = clean
        ref, _ = eyes_from(eyes, j, frame_r, pd, **kw)
        red = np.clip(img[..., 0].astype(float) - ref[..., 0], 0, None)
        ys, xs = np.nonzero(red > 10)
        assert len(xs), "the dot was not drawn"
        w = red[ys, xs]
        return np.array([np.average(xs, weights=w), np.average(ys, weights=w)]), hole

    carried, hole = dot(pose=pose)
    fitted, _ = dot()
    eyes.close()
    A = head_maps(eyes, j, pose)[list(_mesh().eyes).index(lp)]
    want = cv2.invertAffineTransform(A) @ np.array([c[0], c[1], 1.0])
    assert np.hypot(*(carried - want)) < 0.25, (carried, want)
    assert fitted[1] < want[1] - 0.5, (fitted, want)  # the fit onto the opening lifts the iris
    assert hole is not None and not hole.any()  # row j's own lids are drawn: nothing for the network


def test_the_rest_of_the_turn_moves_the_irises_to_the_asked_gaze(carphone, carphone_track):
    """rest_of_turn (a moved head's eyes, a gaze key's carried eyes): the irises of the footage
    frame drawn move on to where the asked gaze puts them; read back by the tracker's eyeball
    model in the row's head, the moved iris centres give the asked gaze. Nothing moves where the
    frame already looks there."""
    from reenact.face import transfer as X
    from reenact.face.camera import euler_to_matrix
    from reenact.face.gaze import gaze_from_iris
    from reenact.render.eyes import ShotEyes, eye_maps, eye_shapes, rest_of_turn
    from reenact.render.head import posed_points

    track = carphone_track
    _, opening, _ = eye_shapes(track)
    r = next(k for k in range(60, 90) if opening[k] > 0.9)
    key = np.asarray(track.gaze, np.float64)[r] + (0.15, 0.08, 0.15, 0.08)
    req = X._copy(track)
    req.gaze = np.array(track.gaze, np.float64)
    req.gaze[r] = key
    own = track
    eyes = ShotEyes(own, carphone)
    pd = posed_points(req, [r])[0][0]
    try:
        maps = eye_maps(eyes, r, pd)
        L, shift, loops = rest_of_turn(eyes, r, maps, req, r)
        assert rest_of_turn(eyes, r, maps, own, r) is None  # the frame looks there already
    finally:
        eyes.close()
    pose = np.asarray(track.pose, np.float64)[r:r + 1]
    R, t, cam = euler_to_matrix(pose[:, :3]), pose[:, 3:], track.camera()
    px = L[[473, 468]][None]
    g0 = gaze_from_iris(px, track.identity, R, t, cam)[0]
    g1 = gaze_from_iris(px + shift[None], track.identity, R, t, cam)[0]
    assert np.allclose(g1 - g0, key - np.asarray(track.gaze, np.float64)[r], atol=0.03), (g1 - g0)
