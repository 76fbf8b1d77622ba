# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference frames of the actor for the renderer (numpy + OpenCV, no torch).

A face-only renderer that only sees the footage around a masked-out face cannot know what
*this* actor's face looks like (skin, lips, teeth, beard); the nearest-neighbour baseline can,
because it copies one of the actor's own frames. So the renderer gets that frame too: for the
frame being rendered, the actor frame whose expression and head pose are closest to the
requested ones is picked from a **reference pool** (frames of the actor's own footage), aligned
onto the current crop by a similarity between the two fitted meshes (robust fit on all vertices),
and fed to the network unmasked, with its own conditioning images, so the network sees where
the reference's mouth, eyes and face differ from what it must draw.

- Training (:class:`reenact.training.data.Dataset`): the pool is the clip's training rows; a
  frame never takes a reference within :data:`REF_GAP` frames of itself (it must learn to
  change the expression, not to copy its neighbour); the nearest beyond that is taken.
- Held-out metrics: the pool is the training rows (the same frames the nearest-neighbour
  baseline may use), the nearest one is taken.
- Rendering (:mod:`reenact.render.pipeline`): the pool is up to :data:`POOL_SIZE` tracked
  frames of the footage's own track, spread over its expressions and poses (farthest-point
  sampling), decoded once and cached on disk (:func:`build_pool`).

The network input layout is in :func:`reenact.render.conditioning.stack_window`; docs/renderer.md.
"""

import os

import cv2
import numpy as np

from ..face.geometry import robust_similarity_2d
from ..fsutil import write_atomic
from ..video import open_video
from .conditioning import Rasterizer, crop_frame, crop_transforms
from .warp import warp_field, warp_image


#: training: the reference is at least this many frames away from the frame itself
REF_GAP = 10
#: training: the reference is drawn from this many nearest candidates (1: the nearest, as when
#: rendering; drawing among 3 taught the network to distrust the reference's mouth)
REF_TOP = 1
#: rendering: frames kept in the pool
POOL_SIZE = 64
POOL_VERSION = 1
#: how a reference frame is moved onto the frame it serves: "similarity" (2-D, the renderers
#: trained before the mesh warp) or "mesh" (warp, then refine: :func:`mesh_reference`)
REF_WARPS = ("similarity", "mesh")
#: what a mesh-warped reference shows where the requested mouth opens wider than the reference's:
#: the dark of a mouth interior (other holes are mid-grey)
MOUTH_FILL = (48, 28, 28)
#: the mesh reference's holes fade in over this many crop pixels (Gaussian sigma) outside
#: their edge; inside they are the fill
HOLE_EDGE = 0.8
#: changes whenever what a reference shows changes (part of the render cache keys)
REF_VERSION = "ref-3"


def features(track):
    """(T, D) retrieval features: expression coefficients + head rotation (rad) + normalised
    translation, NaN rows (untracked) kept NaN."""
    ex = np.asarray(track.expression, np.float64)
    pose = np.asarray(track.pose, np.float64)
    rot = pose[:, :3].copy()
    rot[:, 0] = (rot[:, 0] + np.pi) % (2 * np.pi) - np.pi  # rx near pi for a frontal face
    t = pose[:, 3:]
    tn = (t - np.nanmean(t, 0)) / max(float(np.nanmean(t[:, 2])), 1e-6)
    return np.concatenate([ex, 2.0 * rot, 2.0 * tn], 1)


def warp_reference(crop, cond, A):
    """The reference ``crop`` (S, S, 3) uint8 and its ``cond`` (5, S, S) uint8 moved by the 2x3
    affine ``A`` into the current crop; returns (rgb (S, S, 3) uint8, cond (5, S, S) uint8).
    Outside the reference crop the RGB is replicated from its border, the conditioning is 0."""
    S = crop.shape[0]
    rgb = cv2.warpAffine(np.ascontiguousarray(crop), A, (S, S), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    c = cv2.warpAffine(np.ascontiguousarray(np.asarray(cond).transpose(1, 2, 0)), A, (S, S),
                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return rgb, np.ascontiguousarray(c.transpose(2, 0, 1))


def nearest(pool_features, feature, count=1):
    """Indices of the ``count`` pool rows closest to ``feature`` (NaN features never win)."""
    F = np.asarray(pool_features, np.float64)
    d = np.nansum((F - np.asarray(feature, np.float64)) ** 2, 1)
    d[~np.isfinite(F).all(1)] = np.inf
    count = min(int(count), len(d))
    idx = np.argpartition(d, count - 1)[:count]
    return idx[np.argsort(d[idx], kind="stable")]


#: an edited scene's pool gives every shot at least this many frames (where it has them)
SHOT_FRAMES = 8


def select_rows(feats, ok, k=POOL_SIZE, shots=None):
    """Up to ``k`` tracked rows spread over the feature space: farthest-point sampling, starting
    from the most typical frame (closest to the median). Deterministic. ``shots``: (T,) shot of
    each row (:meth:`~reenact.face.track.Track.shots`): each shot samples its own share, in
    proportion to its usable rows and at least :data:`SHOT_FRAMES` (each row's reference is taken
    from its own shot: a short shot would otherwise get a frame or two)."""
    usable = np.asarray(ok, bool) & np.isfinite(feats).all(1)
    if shots is not None and np.any(shots):
        shots = np.asarray(shots, np.int64)
        n = np.array([int((usable & (shots == s)).sum()) for s in range(int(shots.max()) + 1)])
        share = np.minimum(n, np.maximum(SHOT_FRAMES, np.floor(k * n / max(1, n.sum())).astype(int)))
        return np.sort(np.concatenate([select_rows(feats, usable & (shots == s), int(share[s]))
                                       for s in range(len(n)) if share[s] > 0] or [np.zeros(0, np.int64)]))
    rows = np.flatnonzero(usable)
    if len(rows) <= k:
        return rows
    F = np.asarray(feats, np.float64)[rows]
    first = int(np.argmin(((F - np.median(F, 0)) ** 2).sum(1)))
    chosen = [first]
    d = ((F - F[first]) ** 2).sum(1)
    for _ in range(int(k) - 1):
        j = int(np.argmax(d))
        chosen.append(j)
        d = np.minimum(d, ((F - F[j]) ** 2).sum(1))
    return np.sort(rows[chosen])


class ReferencePool:
    """Frames of the actor: ``rows`` (K,) track rows, ``features`` (K, D), ``crops`` (K, S, S, 3)
    uint8, ``cond`` (K, 5, S, S) uint8, ``points`` (K, 468, 2) crop pixels of the fitted mesh."""

    def __init__(self, rows, feats, crops, cond, points):
        self.rows = np.asarray(rows, np.int64)
        self.features = np.asarray(feats, np.float64)
        self.crops = np.asarray(crops)
        self.cond = np.asarray(cond)
        self.points = np.asarray(points, np.float32)
        if not len(self.rows):
            raise ValueError("reference pool is empty (no tracked frame)")

    @property
    def size(self):
        return int(self.crops.shape[1])

    def __len__(self):
        return len(self.rows)

    def reference(self, feature, points, warp=REF_WARPS[0], within=None):
        """(rgb, cond) of the pool frame nearest to ``feature``, moved onto the crop whose fitted
        mesh is ``points`` (468, 2): by a 2-D similarity, or (``warp="mesh"``) by the dense mesh
        warp (:func:`mesh_reference`). ``within``: (len(pool),) bool, the frames it may be (one
        shot's: another shot's light and framing is not this one's); all when none is allowed."""
        j = self.nearest(feature, within)
        return align_reference(self.crops[j], self.cond[j], self.points[j], points, warp)

    def nearest(self, feature, within=None):
        """Index of the pool frame :meth:`reference` takes for ``feature``."""
        F = self.features
        if within is not None and np.any(within) and not np.all(within):
            F = np.where(np.asarray(within, bool)[:, None], F, np.nan)
        return int(nearest(F, feature, 1)[0])

    def save(self, path):
        # a unique temporary name: chunks of one job may build the same pool at once
        arrays = dict(version=POOL_VERSION, rows=self.rows, features=self.features, crops=self.crops,
                      cond=self.cond, points=self.points)
        write_atomic(path, lambda fh: np.savez(fh, **arrays))  # unique temporary name, removed on failure

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as z:
            if int(z["version"]) != POOL_VERSION:
                raise ValueError("{}: reference pool of another version".format(os.path.basename(path)))
            return cls(z["rows"], z["features"], z["crops"], z["cond"], z["points"])


def build_pool(track, video, size, transforms=None, k=POOL_SIZE, progress=None, cancel=None):
    """Decode ``video`` once (up to the last chosen frame) and build the pool of ``track`` (the
    footage's own tracked Track) at crop ``size``; ``transforms``: the crop transforms of
    ``track`` at that size (computed when omitted). ``progress(done, total)``; ``cancel()`` True
    stops with KeyboardInterrupt."""
    xf = transforms if transforms is not None else crop_transforms(track, size)
    feats = features(track)
    ok = np.asarray(track.tracked, bool) & np.isfinite(np.asarray(track.pose)).all(1)
    rows = select_rows(feats, ok, k, track.shots())
    if not len(rows):
        raise ValueError("track has no tracked frame for the reference pool")
    rast = Rasterizer(track, size, xf)
    S = int(size)
    crops = np.zeros((len(rows), S, S, 3), np.uint8)
    cond = np.zeros((len(rows), 5, S, S), np.uint8)
    points = np.zeros((len(rows), 468, 2), np.float32)
    want = {int(r): n for n, r in enumerate(rows)}
    a = int(track.frame_start)
    got = 0
    with open_video(video) as src:
        for i, frame in src.iter_frames(a, a + int(rows[-1]) + 1):
            if cancel is not None and cancel():
                raise KeyboardInterrupt
            n = want.get(i - a)
            if n is None:
                continue
            r = i - a
            crops[n] = crop_frame(frame, xf.M[r], S)
            cond[n] = rast.cond(r)
            points[n] = rast.points(r)
            got += 1
            if progress is not None:
                progress(got, len(rows))
    if got != len(rows):
        raise ValueError("{}: could not decode every reference frame ({} of {})".format(
            os.path.basename(str(video)), got, len(rows)))
    return ReferencePool(rows, feats[rows], crops, cond, points)


def mesh_reference(crop, cond, src_points, dst_points):
    """The reference ``crop`` (S, S, 3) uint8 and its ``cond`` (5, S, S) uint8 moved by the dense
    mesh warp (:func:`reenact.render.warp.warp_field`) from its fitted mesh ``src_points`` onto
    ``dst_points``: lips, jaw and lids move, not only the face as a whole. What the warp cannot
    supply (the mouth interior a wider opening needs, eye and face parts the reference does not
    show) is grey (128) in the RGB, so the network knows what it must draw; the conditioning is
    warped the same way, so it says what the warped reference really shows."""
    S = crop.shape[0]
    f = warp_field(np.asarray(src_points, np.float64), np.asarray(dst_points, np.float64), None, (S, S))
    rgb = warp_image(np.ascontiguousarray(crop), f).astype(np.float32)
    k = np.ones((3, 3), np.uint8)
    hole = cv2.dilate(f.hole.astype(np.uint8), k) > 0
    mouth = (cv2.dilate(f.mouth_hole.astype(np.uint8), k) > 0) & hole
    fill = np.full_like(rgb, 128.0)
    fill[cv2.dilate(mouth.astype(np.uint8), k) > 0] = MOUTH_FILL
    # soft edges (anti-aliased over about a pixel, outside the hole): a hard mask at crop
    # resolution draws a staircase along the lips that the network passes through and the
    # frame shows 4x larger
    a = np.maximum(cv2.GaussianBlur(hole.astype(np.float32), (0, 0), HOLE_EDGE), hole)[..., None]
    rgb = np.clip(rgb * (1 - a) + fill * a + 0.5, 0, 255).astype(np.uint8)
    c = warp_image(np.ascontiguousarray(np.asarray(cond).transpose(1, 2, 0)), f, interpolation=cv2.INTER_NEAREST,
                   border=cv2.BORDER_CONSTANT)
    return rgb, np.ascontiguousarray(c.transpose(2, 0, 1))


def align_reference(crop, cond, src_points, dst_points, warp=REF_WARPS[0]):
    """A reference frame moved onto the frame it serves, the way ``warp`` (:data:`REF_WARPS`) says."""
    if warp == "mesh":
        return mesh_reference(crop, cond, src_points, dst_points)
    if warp != "similarity":
        raise ValueError("unknown reference warp '{}' (choose {})".format(warp, ", ".join(REF_WARPS)))
    return warp_reference(crop, cond, robust_similarity_2d(src_points, dst_points))
