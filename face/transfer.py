# SPDX-License-Identifier: GPL-3.0-or-later
"""Move a performance from one actor onto another (numpy only, no bpy).

:func:`transfer` is Deep Video Portraits' reenactment on Tracks: the target keeps its own
identity, expression basis, camera and footage observations (landmarks, confidence), and takes
some or all of the source's performance: head pose *relative to each actor's rest pose*,
expression coefficients, gaze. :func:`track_from_curves` rebuilds a Track from animation curves
evaluated in Blender (the inverse of tracking, used by "Curves to Track").

Conventions (see ``docs/transfer.md``):

- Frames are clip frames (0-based, :meth:`Track.frames`). **Offset**: target frame ``t`` takes
  source frame ``t - offset`` (offset 10: source frame 0 drives target frame 10). When the
  frame rates differ, target frame ``t`` takes the source at time ``(t - offset) / fps_target``,
  i.e. source frame ``(t - offset) * fps_source / fps_target``, linearly interpolated.
- A target frame is changed only when the source is tracked there and the target is tracked
  there; every other frame stays exactly as it was (untracked frames stay untracked).
- Pose: with ``M = [R | t]`` a head pose (model -> camera), ``M0`` an actor's rest pose, the
  target's new pose is ``M0_target @ inv(M0_source) @ M_source``: the source's motion in its own
  head frame, applied to the target's rest pose, so different head sizes, distances and framings
  work. A gain ``g`` scales that relative motion (rotation angle and displacement).
- **Where the head sits** (``anchor="shot"``, the default): the rotation is as above; the
  displacement is the target's *own slow path* (its displacement from rest, smoothed over
  :data:`ANCHOR_SECONDS`) plus the source's displacement *about its own slow path*. A shot whose
  camera tilts or pans, or whose actor shifts in the chair, keeps its head where the footage has
  it, and the source's nods, sways and bobs move it from there; what the source does slowly
  (leaning away for seconds) is not carried, since the body under the head cannot follow (the
  render moves the head and lets the neck stretch, ``docs/transfer.md``). driving_d20's camera
  tilts the actor's head 10 cm down the frame over 7 s; about one rest pose, the head of an early
  frame was put 8.6 cm above its own body. The source's moves are kept up to the target's reach
  (the target's own largest move about its path, at least :data:`NECK_REACH_CM`) and eased
  beyond it: quick sways of a whole body (driving_d12, 5 cm) carried a still actor's head off
  its neck. ``anchor="rest"``: the displacement is the source's
  about its rest pose, on the target's rest pose, as the rotation (a target that never moves).
"""

import numpy as np

from .expressions import GROUPS, group_of
from .camera import euler_to_matrix, matrix_to_euler, rodrigues, rotation_angle_deg
from .drivers import mouth_driver
from .gaze import GAZE_LIMIT

MODES = ("full", "expression", "mouth", "pose", "gaze")
#: the modes that move the mouth: only they record its driver (:attr:`~.track.Track.performance_frame`)
MOUTH_MODES = ("full", "expression", "mouth")
MODE_HELP = {
    "full": "head pose, every expression coefficient and gaze (Deep Video Portraits)",
    "expression": "every expression coefficient (blinks included); the target keeps its head and gaze",
    "mouth": "jaw*, mouth* and cheekPuff only (visual dubbing): the target keeps head, eyes and brows",
    "pose": "head rotation about each actor's rest pose; position: the source's moves on the footage's own path",
    "gaze": "eye directions only",
}
#: groups that take a gain: the expression groups of :mod:`.expressions`, plus pose and gaze
GAIN_GROUPS = tuple(GROUPS) + ("pose", "gaze")
_FPS_TOLERANCE = 1e-4  # relative: closer frame rates count as equal (frame-exact mapping)
#: anchor ``shot``: the slow path of a head's position is its displacement smoothed by a
#: Gaussian of this many seconds (sigma)
ANCHOR_SECONDS = 1.0
ANCHORS = ("shot", "rest")
#: anchor ``shot``: the source's moves about its slow path are kept as they are up to the
#: target's reach, ``max(the target's own largest move about its slow path, NECK_REACH_CM)``
#: (the displacement's length, cm), and eased beyond it, never more than NECK_REACH_EASE x the
#: reach further: the body under the head cannot follow, and a driver who sways 5 cm
#: (driving_d12) put a still actor's head a third of a face beside its neck (the neck sheared,
#: the collar bent). A performance of the target's own moves is carried exactly.
NECK_REACH_CM = 1.5
NECK_REACH_EASE = 0.5
#: modes full and pose: a head rotation no frame of the target's footage comes within
#: TURN_REACH_DEG of is eased towards the footage's nearest rotations (tanh, continuous with its
#: slope), never further than TURN_REACH_DEG + TURN_EASE_DEG from them: a render draws the moved
#: head from the footage frame nearest in rotation and warps it the rest of the way, and beyond
#: ~10 degrees of warp the far side's hair stretches into a wing and the collar kinks (d12 onto
#: d0, d18, d20, s20: 14-19 degrees asked beyond every frame). The render names rows asked for
#: more than ``reenact.render.shothead.UNSEEN_TURN_DEG`` (10); ``turn_reach=None`` carries the
#: driver's turns as they are. A performance of turns the footage shows is carried exactly.
TURN_REACH_DEG = 6.0
TURN_EASE_DEG = 3.5
#: ... "the footage's nearest rotations": their mean weighted by exp(-(angle - nearest) / this),
#: degrees, so the eased turn does not jump where the nearest footage frame changes
TURN_SOFTMIN_DEG = 2.0


def mode_channels(mode, names):
    """(expression names the mode moves, moves pose?, moves gaze?) for ``mode``."""
    if mode not in MODES:
        raise ValueError("unknown transfer mode '{}' (choose one of {})".format(mode, ", ".join(MODES)))
    names = [str(n) for n in names]
    if mode in ("full", "expression"):
        expr = names
    elif mode == "mouth":
        expr = [n for n in names if n in GROUPS["mouth"]]
    else:
        expr = []
    return expr, mode in ("full", "pose"), mode in ("full", "gaze")


# ----------------------------------------------------------------------------- rotations
def _project_so3(A):
    """Nearest rotation to the 3x3 matrix A (Frobenius)."""
    U, _, Vt = np.linalg.svd(A)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt)) or 1.0])
    return U @ D @ Vt


def log_so3(R):
    """(..., 3, 3) rotations -> (..., 3) rotation vectors (axis * angle, angle in [0, pi])."""
    R = np.asarray(R, np.float64)
    w = np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    cos = np.clip((np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    sin = 0.5 * np.linalg.norm(w, axis=-1)
    ang = np.arctan2(sin, cos)
    small = sin < 1e-9
    scale = np.where(small, 0.5, ang / np.where(small, 1.0, 2.0 * sin))
    out = w * scale[..., None]
    near_pi = small & (cos < 0)
    if np.any(near_pi):  # angle ~ pi: axis from the symmetric part
        for idx in zip(*np.nonzero(near_pi)) if R.ndim > 2 else [()]:
            B = (R[idx] + np.eye(3)) / 2.0
            ax = B[np.argmax(np.diag(B))]
            out[idx] = ax / np.linalg.norm(ax) * np.pi
    return out


def _chordal_median(R, iters=100):
    """Rotation minimising the sum of chordal distances ||R_i - M||_F (Weiszfeld, projected).
    Robust to stray frames and equivariant: the median of G R_i H is G M H."""
    M = _project_so3(R.mean(0))
    for _ in range(iters):
        d = np.linalg.norm((R - M).reshape(len(R), -1), axis=1)
        w = 1.0 / np.maximum(d, 1e-9)
        M_new = _project_so3(np.einsum("n,nij->ij", w, R) / w.sum())
        if np.abs(M_new - M).max() < 1e-13:
            return M_new
        M = M_new
    return M


def _geometric_median(X, iters=200):
    m = X.mean(0)
    for _ in range(iters):
        d = np.linalg.norm(X - m, axis=1)
        w = 1.0 / np.maximum(d, 1e-9)
        m_new = (w[:, None] * X).sum(0) / w.sum()
        if np.abs(m_new - m).max() < 1e-12:
            return m_new
        m = m_new
    return m


def rest_pose(track, rows=None):
    """An actor's rest pose ``(R0 (3, 3), t0 (3,))``: the median head pose over its tracked
    frames (of the bool mask ``rows``, when given) (chordal L1 median of the rotations, geometric
    median of the translations).

    Both are robust to a few stray frames and equivariant (re-framing every pose by one rigid
    transform re-frames the rest pose the same way), so relative motion does not depend on
    where the actor sits in the shot."""
    ok = np.asarray(track.tracked, bool) & (True if rows is None else np.asarray(rows, bool))
    if not ok.any():
        raise ValueError("{}: no tracked frames, so no rest pose".format(_label(track)))
    P = np.asarray(track.pose, np.float64)[ok]
    return _chordal_median(euler_to_matrix(P[:, :3])), _geometric_median(P[:, 3:])


def shot_rests(track, rest=None):
    """((T,) shot of each row, [rest pose of each shot, or None where it has no tracked row]):
    an edited scene's shots each have their own rest (a close shot and a wide one frame the head
    differently); one rest over the Track without cuts, or ``rest`` itself when given."""
    if rest is not None:
        return np.zeros(track.n_frames, np.int64), [rest]
    shots, ok = track.shots(), np.asarray(track.tracked, bool)
    return shots, [rest_pose(track, shots == k) if (ok & (shots == k)).any() else None
                   for k in range(int(shots.max()) + 1 if len(shots) else 1)]


def motion_about_rests(track, ok, shots, rests):
    """(T, 6) :func:`relative_motion` of ``track``'s rows ``ok``, each about its shot's rest; NaN elsewhere."""
    out = np.full((track.n_frames, 6), np.nan)
    for k, rest in enumerate(rests):
        sel = ok & (shots == k)
        if rest is not None and sel.any():
            out[sel] = relative_motion(np.asarray(track.pose)[sel], rest)
    return out


def relative_motion(pose, rest):
    """(T, 6) poses -> (T, 6) motion relative to ``rest`` in the head's own rest frame:
    rotation vector of ``R0^T R`` and displacement ``R0^T (t - t0)`` (cm)."""
    R0, t0 = rest
    P = np.asarray(pose, np.float64)
    D = np.einsum("ji,tjk->tik", R0, euler_to_matrix(P[:, :3]))
    d = (P[:, 3:] - t0) @ R0
    return np.concatenate([log_so3(D), d], 1)


def apply_motion(motion, rest):
    """Inverse of :func:`relative_motion`: (T, 6) relative motion on ``rest`` -> (T, 6) poses."""
    R0, t0 = rest
    m = np.asarray(motion, np.float64)
    R = np.einsum("ij,tjk->tik", R0, rodrigues(m[:, :3]))
    t = m[:, 3:] @ R0.T + t0
    return np.concatenate([matrix_to_euler(R), t], 1)


# ----------------------------------------------------------------------------- helpers
def _label(track):
    return "track of '{}' actor {}".format(track.source or "?", int(track.actor))


def _copy(track):
    return track.subset(track.frame_start, track.frame_start + track.n_frames)


def _segments(valid, starts=None):
    """(start, stop) of the runs of True in ``valid``; with ``starts`` ((T,) bool, a Track's
    :attr:`~.track.Track.shot_start`) a run also ends where a shot begins."""
    v = np.concatenate([[False], np.asarray(valid, bool), [False]])
    edges = np.flatnonzero(np.diff(v.astype(np.int8)))
    runs = list(zip(edges[0::2], edges[1::2]))
    if starts is None or len(starts) != len(v) - 2:
        return runs
    out = []
    for a, b in runs:
        for j in np.flatnonzero(np.asarray(starts, bool)[a + 1:b]) + a + 1:
            out.append((a, int(j)))
            a = int(j)
        out.append((a, b))
    return out


def smooth(x, valid, sigma, starts=None):
    """Zero-phase Gaussian smoothing (sigma in frames) of the rows of ``x`` (T, C) within each
    run of valid frames; runs are never bridged (nor shots: ``starts``, :func:`_segments`), ends
    are renormalised (no lag, no pull to 0)."""
    x = np.array(x, np.float64, copy=True)
    if not sigma or sigma <= 0:
        return x
    r = max(1, int(np.ceil(3.0 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / float(sigma)) ** 2)
    for a, b in _segments(valid, starts):
        seg = x[a:b]
        norm = _centred(np.ones(b - a), k)
        for c in range(seg.shape[1]):
            seg[:, c] = _centred(seg[:, c], k) / norm
    return x


#: an eye closed further than this (its blink coefficient) shows too little iris to read a gaze
#: from: the tracked gaze there falls as the lids close (-5 to -13 degrees of pitch on the shared
#: clips' blinks, against the rows either side), and a moved head's irises followed it down and
#: back up (docs/transfer.md, *A blink's gaze*). The transfer carries a source's gaze through its
#: blinks with :func:`gaze_through_blinks`, and the moved head's eyes compare the footage's gaze
#: and the asked one through both tracks' blinks (:mod:`reenact.render.eyes`)
BLINK_HIDES_GAZE = 0.5


def gaze_through_blinks(gaze, blink, valid, closed=BLINK_HIDES_GAZE, starts=None):
    """``gaze`` (T, 4) with the rows where either eye's ``blink`` (T, 2) is above ``closed`` given
    both eyes' gaze of the nearest row in time where both are open (the later one on a tie:
    the eyes move while the lids are shut, and open on the gaze that follows), within each run
    of ``valid`` rows; a run with no open row is left as it is. Both eyes together, so their
    vergence stays the tracked one; never from another shot (``starts``). A new array."""
    out = np.array(gaze, np.float64, copy=True)
    b = np.asarray(blink, np.float64)
    shut = np.nan_to_num(b, nan=0.0).max(1) > closed if b.ndim == 2 and len(b) == len(out) else np.zeros(len(out), bool)
    for a, e in _segments(valid, starts):
        s = shut[a:e]
        seen = np.flatnonzero(~s & np.isfinite(out[a:e]).all(1))
        if not s.any() or not len(seen):
            continue
        for i in np.flatnonzero(s):
            k = np.searchsorted(seen, i)  # seen[k - 1] < i < seen[k]
            before = seen[k - 1] if k > 0 else None
            after = seen[k] if k < len(seen) else None
            j = after if before is None or (after is not None and after - i <= i - before) else before
            out[a + i] = out[a + j]
    return out


def _centred(v, kern):
    """``v`` convolved with the odd-length kernel ``kern`` (sum over m of v[m] kern[r + t - m]),
    centred, the run's length even when the kernel is longer than the run."""
    r = len(kern) // 2
    return np.convolve(v, kern, mode="full")[r:r + len(v)]


def neck_reach(own, valid, fps, slow=None):
    """The reach (cm) of :data:`NECK_REACH_CM`: from a head's own displacement ``own`` (T, 3)
    (``slow``: its :func:`slow_path`, when the caller has it)."""
    valid = np.asarray(valid, bool)
    if not valid.any():
        return NECK_REACH_CM
    q = np.linalg.norm((own - (slow_path(own, valid, fps) if slow is None else slow))[valid], axis=1)
    return max(float(q.max()), NECK_REACH_CM)


def within_reach(d, reach):
    """Displacements ``d`` (N, 3) kept as they are up to ``reach`` long, beyond it eased (tanh,
    continuous with its slope) and never longer than ``(1 + NECK_REACH_EASE) x reach``."""
    d = np.asarray(d, np.float64)
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    w = NECK_REACH_EASE * reach
    m = np.where(n > reach, reach + w * np.tanh((n - reach) / w), n)
    return d * np.where(n > 1e-12, m / np.maximum(n, 1e-12), 1.0)


def within_turns(rotvec, own, reach=TURN_REACH_DEG, ease=TURN_EASE_DEG):
    """Relative head rotations ``rotvec`` (N, 3, rotation vectors) with those further than
    ``reach`` degrees from the rotations ``own`` (M, 3) a footage shows eased towards them (see
    :data:`TURN_REACH_DEG`); (eased rotations (N, 3), degrees each was turned back (N,))."""
    rotvec = np.asarray(rotvec, np.float64)
    out, back = rotvec.copy(), np.zeros(len(rotvec))
    if not len(rotvec) or not len(own):
        return out, back
    Ro, Rq = rodrigues(np.asarray(own, np.float64)), rodrigues(rotvec)
    flat = Ro.reshape(len(Ro), 9)

    def angles(R):  # (n, M) degrees from each of R (n, 3, 3) to each of the footage's rotations
        return np.degrees(np.arccos(np.clip((R.reshape(len(R), 9) @ flat.T - 1.0) / 2.0, -1.0, 1.0)))

    # rows a chunk at a time (a long shot's N x M would not fit)
    far_of = np.concatenate([angles(Rq[i:i + 256]).min(1) for i in range(0, len(Rq), 256)])
    for n in np.flatnonzero(far_of > reach):
        ang = angles(Rq[n:n + 1])[0]
        far = float(ang.min())
        kept = reach + ease * np.tanh((far - reach) / ease)
        # back along the way from the footage's nearest rotations (their soft mean: no jump where
        # the nearest frame changes) until the turn is ``kept`` from the nearest: bisection
        w = np.exp(-(ang - far) / TURN_SOFTMIN_DEG)
        A = _project_so3(np.einsum("m,mij->ij", w / w.sum(), Ro))
        v = log_so3(A.T @ Rq[n])
        lo, hi = 0.0, 1.0
        for _ in range(24):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if rotation_angle_deg(Ro, A @ rodrigues((v * mid)[None])[0]).min() < kept else (lo, mid)
        R = A @ rodrigues((v * lo)[None])[0]
        out[n] = log_so3(R)
        back[n] = float(rotation_angle_deg(R, Rq[n]))
    return out, back


def slow_path(x, valid, fps, starts=None):
    """(T, C): a head's slow path, ``x`` (T, C) smoothed within each run of ``valid`` rows (and
    shot: ``starts``, :func:`_segments`; a cut moves the camera at once) by a
    local straight-line fit under a Gaussian of :data:`ANCHOR_SECONDS` (sigma); NaN elsewhere.
    The line (not a weighted mean) follows a steady pan or tilt to the run's ends without
    lagging behind it."""
    x = np.nan_to_num(np.asarray(x, np.float64))
    valid = np.asarray(valid, bool)
    out = np.full(x.shape, np.nan)
    sigma = ANCHOR_SECONDS * max(float(fps), 1.0)
    r = max(1, int(np.ceil(3.0 * sigma)))
    u = np.arange(-r, r + 1, dtype=np.float64)
    k = np.exp(-0.5 * (u / sigma) ** 2)
    ku = -k * u  # (sums of v[m] g(m - t) u(m - t): the kernel is flipped by the convolution)
    for a, b in _segments(valid, starts):
        ones = np.ones(b - a)
        s0, s1, s2 = _centred(ones, k), _centred(ones, ku), _centred(ones, k * u * u)
        det = s0 * s2 - s1 * s1
        line = det > 1e-9 * np.maximum(s0 * s2, 1e-300)
        for c in range(x.shape[1]):
            y0, y1 = _centred(x[a:b, c], k), _centred(x[a:b, c], ku)
            mean = y0 / s0
            out[a:b, c] = np.where(line, (s2 * y0 - s1 * y1) / np.where(line, det, 1.0), mean)
    return out


def same_actor(a, b):
    """Same clip, same actor index and the very same identity (one tracking of one person)."""
    return (str(a.source) == str(b.source) and int(a.actor) == int(b.actor)
            and np.shape(a.identity) == np.shape(b.identity) and np.array_equal(a.identity, b.identity))


def check_clip(track, source, source_frames, what="track", where="the footage"):
    """Raise ValueError unless ``track`` comes from the clip ``source`` (base name) with
    ``source_frames`` frames: a Track from another clip must not drive this actor."""
    import os

    # (the file names with either separator: a .blend tracked on Windows, rendered on a Linux farm
    # worker, names 'P:\\films\\shot.mp4', whose base name Linux's basename does not find)
    want = os.path.basename(str(source).replace("\\", "/"))
    got = os.path.basename(str(track.source).replace("\\", "/"))
    if want and got != want or (source_frames and int(track.source_frames) != int(source_frames)):
        raise ValueError("{} is from clip '{}' ({} frames), not from {} '{}' ({} frames)".format(
            what, got, int(track.source_frames), where, want, int(source_frames)))


def parse_gains(gains):
    """dict / iterable of 'group=value' -> {group: float}; ValueError on unknown groups or bad values."""
    out = {}
    if not gains:
        return out
    items = gains.items() if isinstance(gains, dict) else [_split_gain(g) for g in gains]
    for group, value in items:
        if group not in GAIN_GROUPS:
            raise ValueError("unknown gain group '{}' (choose from {})".format(group, ", ".join(GAIN_GROUPS)))
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError("gain {}={!r} is not a number".format(group, value)) from None
        if not np.isfinite(v) or v < 0:
            raise ValueError("gain {}={} must be a finite number >= 0".format(group, value))
        out[group] = v
    return out


def _split_gain(text):
    group, sep, value = str(text).partition("=")
    if not sep or not group.strip():
        raise ValueError("gain '{}' must look like GROUP=VALUE, e.g. mouth=1.2".format(text))
    return group.strip(), value.strip()


# ----------------------------------------------------------------------------- transfer
def transfer(source, target, mode, offset=0, gains=None, frames=None, smoothing=0.0,
             source_rest=None, target_rest=None, info=None, anchor="shot", turn_reach=TURN_REACH_DEG):
    """The target's Track with (part of) the source's performance: see the module docstring.

    ``mode``: one of :data:`MODES`. ``offset``: target frame t takes source frame t - offset.
    ``gains``: {group: gain} for groups in :data:`GAIN_GROUPS` (1 when absent; gains of groups
    the mode does not move have no effect); expression coefficients become
    ``clip(gain * c, 0, 1)``, gaze ``clip(gain * angle, +-GAZE_LIMIT)``, pose motion is scaled.
    ``frames``: (a, b) target clip frames to change, Python slice semantics (None: all).
    ``smoothing``: Gaussian sigma in frames applied to the source's signals (0: none).
    ``source_rest`` / ``target_rest``: rest poses (default :func:`rest_pose` of each track).
    ``anchor``: where the moved head sits, ``shot`` (the target's own slow path) or ``rest``
    (see the module's text). ``turn_reach``: degrees beyond the rotations the target's footage
    shows that a head turn is kept as it is before it is eased (:data:`TURN_REACH_DEG`); None:
    the source's turns as they are.
    ``info``: optional dict that receives what was done (frames changed, skipped, ...).

    Raises ValueError (one line) for an unknown mode or gain group, the same actor with no
    offset, mismatched expression names, frame ranges that do not overlap.
    """
    expr_names, do_pose, do_gaze = mode_channels(mode, target.expression_names)
    if anchor not in ANCHORS:
        raise ValueError("unknown anchor '{}' (choose one of {})".format(anchor, ", ".join(ANCHORS)))
    gains = parse_gains(gains)
    try:
        smoothing = float(smoothing or 0.0)
    except (TypeError, ValueError):
        raise ValueError("smoothing must be a number of frames, got {!r}".format(smoothing)) from None
    if not np.isfinite(smoothing) or smoothing < 0:
        raise ValueError("smoothing must be >= 0 frames, got {}".format(smoothing))
    if turn_reach is not None and not (np.isfinite(float(turn_reach)) and float(turn_reach) >= 0):
        raise ValueError("turn reach must be >= 0 degrees, got {}".format(turn_reach))
    if int(offset) != offset:
        raise ValueError("offset must be a whole number of frames, got {}".format(offset))
    offset = int(offset)
    if same_actor(source, target) and offset == 0:
        raise ValueError("source and target are the same actor ({}): nothing to transfer; "
                         "pick another actor, or an offset to re-time this one".format(_label(target)))
    s_names = [str(n) for n in source.expression_names]
    t_names = [str(n) for n in target.expression_names]
    if set(s_names) != set(t_names):
        missing = sorted(set(t_names) - set(s_names)) + sorted(set(s_names) - set(t_names))
        shown = ", ".join(missing[:4]) + (" ..." if len(missing) > 4 else "")
        raise ValueError("expression names differ between source and target ({}): track both with "
                         "the same version of Reenact".format(shown))

    # --- which target rows take which source position
    Tt, Ts = target.n_frames, source.n_frames
    t_frames = target.frames()
    a, b = (int(t_frames[0]), int(t_frames[-1]) + 1) if Tt else (0, 0)
    if frames is not None:
        fa, fb = frames
        a = a if fa is None else max(a, int(fa))
        b = b if fb is None else min(b, int(fb))
        if fa is not None and fb is not None and int(fb) <= int(fa):
            raise ValueError("empty frame range {}:{} (A:B needs A < B)".format(fa, fb))
        if a >= b:  # (as Blender's Transfer Performance: before 2026-12-05 nothing changed, without a word)
            raise ValueError("frames {}:{} lie outside the target's clip frames {}:{}".format(
                "" if fa is None else fa, "" if fb is None else fb, int(t_frames[0]), int(t_frames[-1]) + 1))
    fps_s, fps_t = float(source.fps), float(target.fps)
    retime = abs(fps_s - fps_t) > _FPS_TOLERANCE * fps_t
    ratio = fps_s / fps_t if retime else 1.0
    pos = (t_frames - offset) * ratio - int(source.frame_start)  # source row, fractional
    in_range = (t_frames >= a) & (t_frames < b)
    in_source = (pos >= -1e-9) & (pos <= Ts - 1 + 1e-9)
    overlap = in_range & in_source
    if not overlap.any():
        s0, s1 = int(source.frame_start), int(source.frame_start) + Ts
        raise ValueError(
            "no overlapping frames: target frames {}:{} take source frames {}:{} (offset {}{}), "
            "but the source covers {}:{}".format(
                a, b, _fmt((a - offset) * ratio), _fmt((b - offset) * ratio), offset,
                ", frame rates {:g}/{:g}".format(fps_t, fps_s) if retime else "", s0, s1))

    # --- the source's signals over its own rows (smoothed within tracked runs)
    s_ok = np.asarray(source.tracked, bool)
    order = [s_names.index(n) for n in expr_names]
    cols = []
    expr_s = np.asarray(source.expression, np.float64)[:, order]
    cols.append(expr_s)
    # (through the source's blinks, the gaze of the open eyes around them: gaze_through_blinks)
    s_shots = np.asarray(source.shot_start, bool)
    gaze_s = gaze_through_blinks(source.gaze, source.blink, s_ok, starts=s_shots) if do_gaze else np.zeros((Ts, 0))
    cols.append(gaze_s)
    if do_pose:
        s_shot, s_rests = shot_rests(source, source_rest)  # (each shot about its own rest)
        # (the target's own head is the footage's, also when the target was edited: an earlier
        # transfer's output; before 2026-12-05 its edit set the rests, the turn easing and the slow path)
        t_own = target.footage()
        t_shot, t_rests = shot_rests(t_own, target_rest)
        motion = motion_about_rests(source, s_ok, s_shot, s_rests)
        if anchor == "shot":  # the source's displacement about its own slow path
            motion[:, 3:] -= slow_path(motion[:, 3:], s_ok, float(source.fps), s_shots)
    else:
        motion = np.zeros((Ts, 0))
    cols.append(motion)
    sig = np.concatenate(cols, 1)
    sig = smooth(np.where(s_ok[:, None], sig, 0.0), s_ok, smoothing, s_shots)
    sig[~s_ok] = np.nan

    # --- sample at the target rows
    rows = np.flatnonzero(overlap)
    p = np.clip(pos[rows], 0, Ts - 1)
    i0 = np.floor(p + 1e-9).astype(int)
    w = p - i0
    w[w < 1e-9] = 0.0
    i1 = np.minimum(i0 + 1, Ts - 1)
    val = sig[i0] * (1 - w[:, None]) + np.where(w[:, None] > 0, sig[i1], 0.0) * w[:, None]
    src_ok = s_ok[i0] & ((w == 0) | s_ok[i1])
    tgt_ok = np.asarray(target.tracked, bool)[rows]
    use = src_ok & tgt_ok
    rows_used = rows[use]
    val = val[use]

    out = _copy(target).with_footage_rows(target)  # the render crops and references from these
    # where the mouth comes from, per row (render --mouth-from draws the driver's mouth): only modes that
    # move it say so, the target's record kept by the others (before 2026-12-06 a Pose or Gaze transfer
    # named its source the mouth's driver, and a render drew that actor's teeth on another's lip sync)
    if mode in MOUTH_MODES:
        driver, driving = mouth_driver(source, pos[rows_used] + int(source.frame_start))
        had = np.asarray(target.performance_frame, np.float64)  # (an earlier transfer from the same driver
        same = str(target.performance_source) == driver and len(had) == Tt  # keeps its rows, as Blender's
        out.performance_frame = had.copy() if same else np.full(Tt, np.nan)  # record_mouth does)
        out.performance_frame[rows_used] = driving
        out.performance_source = driver
        if info is not None:
            info["mouth_through_chain"] = driver != str(source.source_digest)
            info["mouth_undriven_frames"] = [int(f) for f in t_frames[rows_used[np.isnan(driving)]]]
    k = len(order)
    if k:
        g = np.array([gains.get(group_of(n), 1.0) if _known(n) else 1.0 for n in expr_names])
        cols_t = [t_names.index(n) for n in expr_names]
        ex = out.expression
        ex[np.ix_(rows_used, cols_t)] = np.clip(val[:, :k] * g, 0.0, 1.0)
        for side, name in enumerate(("eyeBlinkLeft", "eyeBlinkRight")):
            if name in t_names:
                out.blink[rows_used, side] = ex[rows_used, t_names.index(name)]
    c = k
    if do_gaze:
        out.gaze[rows_used] = np.clip(val[:, c:c + 4] * gains.get("gaze", 1.0), -GAZE_LIMIT, GAZE_LIMIT)
        c += 4
        # the look, with the lids, comes with how far they lie over the whites (each actor's over
        # its own median, so it carries between actors); not known from the driver: not asked
        s_white = np.asarray(source.eye_white, np.float32)
        lids = any(n in expr_names for n in ("eyeBlinkLeft", "eyeBlinkRight"))
        if lids and (len(s_white) or len(out.eye_white)):
            if not len(out.eye_white):
                out.eye_white = np.full(Tt, np.nan, np.float32)
            out.eye_white[rows_used] = s_white[np.where(w > 0.5, i1, i0)[use]] if len(s_white) else np.nan
    reach, eased, turned_back = None, 0, np.zeros(0)
    if do_pose:
        m = val[:, c:c + 6] * gains.get("pose", 1.0)
        t_ok = np.asarray(target.tracked, bool)
        t_motion = motion_about_rests(t_own, t_ok, t_shot, t_rests)[t_ok]  # the footage's own head
        if len(m) and turn_reach is not None:  # turns the footage cannot show eased
            m[:, :3], turned_back = within_turns(m[:, :3], t_motion[:, :3], float(turn_reach))
        if len(m):
            if anchor == "shot":  # ... from the target's own slow path
                own = np.full((Tt, 3), np.nan)
                own[t_ok] = t_motion[:, 3:]
                slow = slow_path(own, t_ok, fps_t, np.asarray(target.shot_start, bool))
                reach = neck_reach(own, t_ok, fps_t, slow)
                asked = np.linalg.norm(m[:, 3:], axis=1)
                m[:, 3:] = within_reach(m[:, 3:], reach)  # the body under the head cannot follow
                eased = int(np.sum(np.linalg.norm(m[:, 3:], axis=1) < 0.95 * asked))
                m[:, 3:] += slow[rows_used]
            for k, rest in enumerate(t_rests):  # (on the rest of the row's own shot)
                sel = t_shot[rows_used] == k
                if rest is not None and sel.any():
                    out.pose[rows_used[sel]] = apply_motion(m[sel], rest)
    if info is not None:
        info.update(
            mode=mode, offset=offset, gains={g_: gains.get(g_, 1.0) for g_ in GAIN_GROUPS},
            anchor=anchor if do_pose else None,
            neck_reach_cm=None if reach is None else round(float(reach), 2), eased_frames=eased,
            turn_reach_deg=None if not do_pose or turn_reach is None else float(turn_reach),
            eased_turns=int(np.sum(turned_back > 0.5)),
            turned_back_deg=round(float(turned_back.max()), 1) if len(turned_back) else 0.0,
            smoothing=smoothing, frames=[a, b], retimed=bool(retime),
            transferred=int(len(rows_used)),
            transferred_frames=[int(f) for f in t_frames[rows_used]],
            skipped_untracked_source=int((~src_ok).sum()),
            skipped_untracked_target=int((src_ok & ~tgt_ok).sum()),
            outside_source=int((in_range & ~in_source).sum()),
            expressions=list(expr_names), pose=bool(do_pose), gaze=bool(do_gaze),
        )
    return out


def _known(name):
    try:
        group_of(name)
        return True
    except KeyError:
        return False


def _fmt(x):
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else "{:.2f}".format(x)


# ----------------------------------------------------------------------------- curves -> Track
#: :func:`as_tracked`'s tolerance: absolute, and relative to the Track's value (float32 keeps ~6e-8
#: of a value; a head 3 m away in metres, 2.4e-5 cm)
CURVE_ATOL, CURVE_RTOL = 1e-5, 2e-6


def as_tracked(values, tracked):
    """``values`` read from animation curves, with each value within :data:`CURVE_ATOL` +
    :data:`CURVE_RTOL` x |tracked| of the ``tracked`` one (the Track's, same shape) replaced by it:
    the 32-bit rounding of a curve that was never edited."""
    a, t = np.asarray(values, np.float64), np.asarray(tracked, np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(a - t) <= CURVE_ATOL + CURVE_RTOL * np.abs(t), t, a)


def track_from_curves(base, pose, expression, gaze, confidence=None, names=None, info=None):
    """A Track with ``base``'s actor, camera and footage observations and the performance
    evaluated from animation curves: ``pose`` (T, 6, Track convention), ``expression`` (T, K'
    in the order of ``names``, default base's names), ``gaze`` (T, 4), ``confidence`` (T,)
    optional, one row per row of ``base``. Rows the base has untracked stay untracked (NaN);
    expression and confidence are clipped to 0..1 (the Track's range; ``info['clipped']``
    counts clipped values), gaze to +-GAZE_LIMIT, what the tracker reads and Transfer clamps to
    (``info['gaze_beyond']``: the rows keyed past it; before 2026-12-06 kept: the iris stayed put
    and the network, fed the raw angle, drew the eye whitish)."""
    T = base.n_frames
    base_names = [str(n) for n in base.expression_names]
    names = base_names if names is None else [str(n) for n in names]
    missing = [n for n in base_names if n not in names]
    if missing:
        raise ValueError("the actor has no curve for expression(s) {} of its Track".format(", ".join(missing[:4])))
    pose = np.asarray(pose, np.float64)
    expression = np.asarray(expression, np.float64)
    gaze = np.asarray(gaze, np.float64)
    for key, arr, shape in (("pose", pose, (T, 6)), ("expression", expression, (T, len(names))),
                            ("gaze", gaze, (T, 4))):
        if arr.shape != shape:
            raise ValueError("{} has shape {}, expected {}".format(key, arr.shape, shape))
    ok = np.asarray(base.tracked, bool)
    out = _copy(base).with_footage_rows(base)
    ex = expression[:, [names.index(n) for n in base_names]]
    finite = np.isfinite(pose).all(1) & np.isfinite(ex).all(1) & np.isfinite(gaze).all(1)
    if not finite[ok].all():
        bad = int(base.frames()[ok & ~finite][0])
        raise ValueError("the curves are not finite at clip frame {} (a tracked frame)".format(bad))
    clipped = int(((ex[ok] < 0) | (ex[ok] > 1)).sum())
    beyond = ((ex < -1e-6) | (ex > 1 + 1e-6)) & ok[:, None]  # (a key set past the slider's 0..1 by hand)
    # a value within what Blender's 32-bit curves hold of the Track's is the Track's: a frame nobody
    # edited reads as the footage (the head's place, stored in metres, came back up to 1.5e-6 cm
    # off, so half the rows of an untouched actor read as edits and a render drew them again)
    out.pose = np.where(ok[:, None], as_tracked(pose, base.pose), np.nan)
    out.expression = np.where(ok[:, None], as_tracked(np.clip(ex, 0.0, 1.0), base.expression), np.nan)
    gaze_beyond = ok & (np.abs(np.nan_to_num(gaze)) > GAZE_LIMIT + 1e-6).any(1)  # (float32 curves: 0.87 is 0.87)
    out.gaze = np.where(ok[:, None], as_tracked(np.clip(gaze, -GAZE_LIMIT, GAZE_LIMIT), base.gaze), np.nan)
    for side, name in enumerate(("eyeBlinkLeft", "eyeBlinkRight")):
        if name in base_names:
            out.blink[:, side] = out.expression[:, base_names.index(name)]
    if confidence is not None:
        c = np.asarray(confidence, np.float64)
        clipped += int(((c[ok] < 0) | (c[ok] > 1)).sum())
        out.confidence = np.where(ok, np.clip(np.nan_to_num(c), 0.0, 1.0), 0.0)
    if info is not None:
        info["clipped"] = clipped
        info["clipped_names"] = list(base_names)  # (which, row by row: ``clipped_mask``)
        info["clipped_mask"] = beyond
        info["gaze_beyond"] = gaze_beyond
    return out
