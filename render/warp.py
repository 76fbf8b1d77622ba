# SPDX-License-Identifier: GPL-3.0-or-later
"""The dense, mesh-driven warp of "warp, then refine" (numpy + OpenCV, no torch, no bpy).

Given an image whose face shows the projected mesh ``src_pts`` (N x 2 pixels, e.g. one row of
:meth:`reenact.face.track.Track.project` or :meth:`reenact.render.conditioning.Rasterizer.points`),
:func:`warp_field` builds the backward map (for ``cv2.remap``) that makes it show the face with
``dst_pts``, and says where the warp has no real pixel to supply::

    field = warp_field(src_pts, dst_pts, None, (H, W))
    out = warp_image(img, field)          # img moved to the dst performance
    field.hole                            # what a refinement network / background fill draws

The field, per destination pixel:

- **Face** (pixels covered by the destination mesh): piecewise affine over the mesh triangles
  (triangle-id raster, painter's order by depth when ``dst_depth`` is given, otherwise
  back-face culling), so every vertex lands exactly where ``dst_pts`` puts it. A triangle
  squeezed to a sliver under a pixel high (:data:`.triangles.SLIVER_PX`) is drawn by its neighbours'
  maps.
- **Mouth interior** (a ladder of triangles between the upper and lower inner lip): each column
  between the lips is split at its middle; the upper half of the source opening travels with the
  upper lip, the lower half with the lower lip, unstretched. Where the destination opening is
  taller than the source's, the band in the middle has no source pixel: ``mouth_hole``.
- **Eye openings**: the eyeball moves with the face's rigid motion (below); what the destination
  lids uncover beyond the source opening is ``eye_hole``.
- **The face's rigid motion** (eyeballs; the reference for comparing mouth openings): a 2-D
  affine (``rigid_model``: or similarity, projective) fit of the motion of the topology's
  expression-free ``rigid`` vertices (forehead, nose bridge, temples, eye corners).
- **Head outside the mesh** (hair, ears, head outline, upper neck): a 3-D proxy of the head
  (``head_model="ellipsoid"``, :mod:`.proxy`): each pixel's ray under the destination's affine
  camera meets an ellipsoid about the head's centre of rotation, and that point under the
  source's camera is where the pixel comes from, so temples, hair and ears turn with the face as
  one solid; beyond the proxy's silhouette, the plane through the centre of rotation. The
  cameras are fitted to the topology's ``rigid`` vertices against the 3-D model
  (``model_points``, default the topology's mean shape), of the meshes without their expression
  when the caller gives those (``head_points``: an actor's blink moves some "rigid" vertices).
  ``head_model="plane"``: the single motion of that plane (``head_plane`` cm in the model
  frame, 0 = the centre; None: a 2-D fit of
  the face's motion, which over-moves hair and ears when the head turns); the outline then moves
  less than the face's border and the band between them shears. The caller may give the motion
  instead: ``rigid`` (a source -> destination matrix) or ``rigid_points`` (a pair of point
  sets that move with the head only, e.g. :func:`neutral_points`), used for face and head.
  Where the mesh border moves otherwise (a jaw that opens moves the chin; the face turning
  against the outline), the border's residual motion is carried outward from the nearest
  border pixel and fades to zero over ``band`` face sizes, so the field is continuous across
  the mesh border (no seam).
- **Background**: beyond the head region (face oval grown by ``grow``, plus a hair cap, see
  :func:`head_mask`) the displacement fades smoothly (smoothstep) to exactly zero over
  ``fade`` face sizes, and below the chin over ``neck`` face sizes (the torso stays); farther
  away the map is the identity and ``cv2.remap`` returns the source pixels bit-exact. On a
  big frame only the bounding box of both head regions grown by the fade is computed
  (``WarpField.roi``).

Masks (destination pixels): ``mouth_hole``, ``eye_hole``, ``occluded`` (face surface the source
does not show: triangles back-facing in the source and, with ``src_depth``, surface hidden
behind another part of the face in the source, such as a cheek behind the nose),
``disocclusion`` (background the head uncovers: inside the source head region's footprint but
outside the destination head, or sampling source head pixels from outside the destination
head), their union ``hole``, and a confidence ``valid``: 0 on the holes, below 1 on face
triangles stretched more than ``STRETCH_OK`` times in area beyond the face's rigid scale
change (a cheek the source saw foreshortened: real pixels, less detail), else 1. The masks are
exact to about a pixel at their edges: dilate them for a network or a fill.

Coordinates: points are in the project's pixel convention, pixel ``(row j, col i)`` has its
centre at ``(i + 0.5, j + 0.5)`` (as in :mod:`reenact.render.conditioning`); ``pixel_centre`` changes
that. Maps are in OpenCV's convention (pixel centres at integers), ready for ``cv2.remap``.

Face size (the unit of ``fade`` and ``band``): the geometric mean of the destination face
oval's height (forehead top 10 -> chin 152) and width (234 -> 454).
"""

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..face.topology import N_VERTS, load_topology
from .borderfield import border_residual
from .destination import hull_mask, shared_destination
from .head import GROW, HAIR, head_mask, head_outline
from .meshes import _fix, _mesh, face_size, pixels_box, wide_blur
from .proxy import head_proxy, plane_motion, proxy_disp
from .triangles import _affine_coeffs, _hidden_in_source, _outer_triangles, _signed_area, _sliver_ids, _touches

CHEEK_RIGHT, CHEEK_LEFT = 234, 454

#: defaults (fractions of the face size unless stated)
FADE = 0.6  # distance over which the head's motion fades to zero beyond the head region
BAND = 0.15  # distance over which the mesh border's non-rigid motion fades into the rigid one
NECK = 0.45  # below the chin the head's motion fades out over this distance (the torso stays)
#: face triangles stretched up to this factor (in area, beyond the face's rigid scale change)
#: keep full confidence; k times more gives 1/k
STRETCH_OK = 2.0
#: face triangles stretched over this factor (in area, beyond the face's rigid scale change) have
#: the displacement around them smoothed over :data:`SPREAD_SIGMA` face sizes (:func:`_spread_stretch`)
SPREAD_STRETCH = 8.0
SPREAD_SIGMA = 0.04
#: model-frame depth (cm) of the plane whose motion carries hair, ears and outline: 0 = the
#: plane through the head's centre of rotation, parallel to the face (the head's silhouette)
HEAD_PLANE = 0.0


# ----------------------------------------------------------------------------- geometry


def _rigid_fit(src, dst, model):
    """3x3 matrix taking ``dst`` points to ``src`` points (least squares)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    B = np.eye(3)
    if model == "projective" and len(src) >= 4:
        Hm, _ = cv2.findHomography(dst, src, 0)
        if Hm is not None and np.isfinite(Hm).all():
            return Hm / Hm[2, 2]
        model = "affine"
    if model == "similarity":
        md, ms = dst.mean(0), src.mean(0)
        a, b = dst - md, src - ms
        var = max((a ** 2).sum(), 1e-12)
        c = (a * b).sum() / var
        s = (a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum() / var
        R = np.array([[c, -s], [s, c]])
        B[:2, :2] = R
        B[:2, 2] = ms - R @ md
        return B
    if model != "affine":
        raise ValueError("rigid_model must be affine, similarity or projective, got {!r}".format(model))
    X = np.concatenate([dst, np.ones((len(dst), 1))], 1)
    sol, *_ = np.linalg.lstsq(X, src, rcond=None)
    B[:2] = sol.T
    return B



# ----------------------------------------------------------------------------- the field
@dataclass
class WarpField:
    """A backward warp: destination pixel (row j, col i) takes the source at
    (``map_x[j, i]``, ``map_y[j, i]``) (OpenCV pixel convention). All masks are (H, W) in the
    destination."""

    map_x: np.ndarray  # float32
    map_y: np.ndarray  # float32
    valid: np.ndarray  # float32 0..1: 0 on the holes, < 1 where the face is stretched, else 1
    mouth_hole: np.ndarray  # bool: mouth interior wider than the source's opening
    eye_hole: np.ndarray  # bool: eye opening the source lids covered
    occluded: np.ndarray  # bool: face surface hidden (back-facing) in the source
    disocclusion: np.ndarray  # bool: background uncovered by the head's motion
    face: np.ndarray  # bool: covered by the destination mesh (with mouth and eye openings)
    head: np.ndarray  # bool: destination head region (moves with the head)
    weight: np.ndarray  # float32: how much of the head's motion applies (1 head .. 0 background)
    rigid: np.ndarray  # (3, 3) the head outline's motion (hair, ears), destination -> source pixels
    face_rigid: np.ndarray = None  # (3, 3) the face's rigid motion (eyeballs), destination -> source
    roi: tuple = None  # (x0, y0, w, h) outside which the map is the identity (None: anywhere)
    #: the frame pixel (x, y) of the arrays' [0, 0]: not (0, 0) in a field of part of a frame
    #: (:func:`warp_field`'s ``part``), whose arrays cover its ``roi`` alone
    origin: tuple = (0, 0)

    @property
    def shape(self):
        return self.map_x.shape

    @property
    def hole(self):
        """bool: everything the warp cannot supply (mouth, eyes, occluded, disoccluded)."""
        return self.mouth_hole | self.eye_hole | self.occluded | self.disocclusion

    def displacement(self):
        """(H, W, 2) float32 source minus destination position (x, y) per pixel."""
        H, W = self.shape
        return np.stack([self.map_x - np.arange(W, dtype=np.float32)[None, :],
                         self.map_y - np.arange(H, dtype=np.float32)[:, None]], 2)

    def source_of(self, pts, pixel_centre=0.5):
        """Where the field samples the source for destination points ``pts`` (..., 2), in
        point coordinates (bilinear in the maps, float64; for checks and debugging)."""
        p = np.asarray(pts, np.float64).reshape(-1, 2) - pixel_centre
        H, W = self.shape
        x = np.clip(p[:, 0], 0, W - 1)
        y = np.clip(p[:, 1], 0, H - 1)
        x0 = np.minimum(np.floor(x).astype(np.int64), W - 2)
        y0 = np.minimum(np.floor(y).astype(np.int64), H - 2)
        fx, fy = x - x0, y - y0
        out = []
        for m in (self.map_x, self.map_y):
            m = m.astype(np.float64)
            top = m[y0, x0] * (1 - fx) + m[y0, x0 + 1] * fx
            bot = m[y0 + 1, x0] * (1 - fx) + m[y0 + 1, x0 + 1] * fx
            out.append(top * (1 - fy) + bot * fy)
        return (np.stack(out, -1) + pixel_centre).reshape(np.shape(pts))


def _rigid_disp(B, H, W, centre):
    """(H, W) x and y displacement of the 3x3 dst -> src map ``B`` at pixel centres."""
    x = np.arange(W, dtype=np.float64) + centre
    y = np.arange(H, dtype=np.float64) + centre
    if np.allclose(B[2], [0, 0, 1]):
        # affine: separable sums (terms computed in float64, summed in float32)
        f32 = np.float32
        dx = ((B[0, 0] - 1.0) * x).astype(f32)[None, :] + (B[0, 1] * y + B[0, 2]).astype(f32)[:, None]
        dy = (B[1, 0] * x).astype(f32)[None, :] + ((B[1, 1] - 1.0) * y + B[1, 2]).astype(f32)[:, None]
        return dx, dy
    X, Y = np.meshgrid(x, y)
    w = B[2, 0] * X + B[2, 1] * Y + B[2, 2]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    dx = (B[0, 0] * X + B[0, 1] * Y + B[0, 2]) / w - X
    dy = (B[1, 0] * X + B[1, 1] * Y + B[1, 2]) / w - Y
    return dx.astype(np.float32), dy.astype(np.float32)


def warp_field(src_pts, dst_pts, triangles=None, shape=None, *, src_depth=None, dst_depth=None,
               rigid=None, rigid_points=None, rigid_model="affine", head_plane=HEAD_PLANE, model_points=None,
               head_model="ellipsoid", grow=GROW, hair=HAIR, fade=FADE, neck=NECK, band=BAND, pixel_centre=0.5, within=None,
               masks=True, head_points=None, part=False):
    """The backward map moving an image whose face shows ``src_pts`` to ``dst_pts`` (module doc).

    ``src_pts``, ``dst_pts``: (N, 2) projected vertices (N = 468 for the project's mesh, which
    enables the mouth/eye/head handling; other meshes get the plain piecewise-affine + rigid
    field). ``triangles``: (F, 3) mesh triangles, default the topology's (the mouth ladder is
    added for the project's mesh in either case). ``shape``: (H, W) of the destination.
    ``src_depth``, ``dst_depth``: optional (N,) camera depths (larger = farther, see
    :func:`posed_points`); with ``dst_depth`` triangles are drawn far to near (painter's order),
    with ``src_depth`` surface hidden in the source is marked ``occluded``. ``rigid``: optional
    2x3 or 3x3 source -> destination head motion in pixels; ``rigid_points``: optional pair of
    (M, 2) arrays that move with the head only (see :func:`neutral_points`); otherwise the
    face's motion is fitted (``rigid_model``: affine, similarity or projective) on the
    topology's expression-free ``rigid`` vertices and the outline's is that of the model plane
    ``z = head_plane`` (None: the face's) under affine cameras fitted against ``model_points``
    (468, 3) (default the topology's mean shape; ``track.identity`` fits an actor better).
    ``head_model``: "ellipsoid" (default) carries hair, ears and outline on a 3-D proxy of the
    head (an ellipsoid about the centre of rotation, :data:`~reenact.render.proxy.PROXY_AXES`) under those cameras,
    so a turning head moves its sides and hair as a solid would; "plane": the plane's single
    motion (the outline moves less than the face and the band between them shears).
    ``grow``, ``hair``: head region (:func:`head_outline`); ``fade``: the head's motion falls to
    zero over this many face sizes beyond it, ``neck``: ... and over this many below the chin
    (None: no neck fade); ``band``: the mesh border's own motion fades over this many face
    sizes. ``within``: optional (x0, y0, x1, y1) pixel box: the field is computed only there
    and is the identity outside (for a caller that reads only part of the warped image, e.g.
    the detail layer of the composite; the box should hold both faces, since the field inside
    depends on the whole destination mesh). ``masks=False``: the maps only (a caller that
    resamples a frame and needs nothing else): ``valid`` and the masks are None, and what only
    they need (the source's head region, the occlusion tests) is not computed. ``head_points``:
    optional pair (source, destination) of (N, 2) pixels of the same meshes without their
    expression (:func:`~reenact.render.head.neutral_points`): the head outline's cameras (plane
    and proxy) are fitted to these instead, so that a blink, a frown or a squint, which move some
    of the ``rigid`` vertices too, do not move the hair (d13: its hair top rose 8-25 px with each
    blink of a still actor). ``part``: the field of its ``roi`` alone (its arrays the whole field's
    there, ``origin`` the roi's corner), for a caller that reads no more (at 4K the whole frame's
    maps are ~66 MB, a mouth's box a tenth of that). Returns a :class:`WarpField`.
    """
    if shape is None:
        raise ValueError("warp_field needs the destination shape (H, W)")
    H, W = int(shape[0]), int(shape[1])
    Ps = np.asarray(src_pts, np.float64)
    Pd = np.asarray(dst_pts, np.float64)
    if Ps.shape != Pd.shape or Ps.ndim != 2 or Ps.shape[1] != 2:
        raise ValueError("src_pts and dst_pts must both be (N, 2), got {} and {}".format(Ps.shape, Pd.shape))
    if not (np.isfinite(Ps).all() and np.isfinite(Pd).all()):
        raise ValueError("src_pts and dst_pts must be finite (untracked frame?)")
    if head_points is not None:
        head_points = tuple(np.asarray(a, np.float64) for a in head_points)
        if len(head_points) != 2 or any(a.shape != Ps.shape or not np.isfinite(a).all() for a in head_points):
            raise ValueError("head_points must be two finite arrays shaped like src_pts")
    c0 = float(pixel_centre)
    ours = len(Ps) == N_VERTS
    mesh = _mesh() if ours else None
    skin = np.asarray(mesh.skin if triangles is None else triangles, np.int64)
    if triangles is None and not ours:
        raise ValueError("triangles are needed for a mesh of {} points".format(len(Ps)))

    # --- the head's rigid motion, destination -> source --------------------------------------
    # B: the face's (eyeballs, mouth opening); Bh: the head outline's (hair, ears)
    if rigid is not None:
        F = np.eye(3)
        F[: np.shape(rigid)[0]] = np.asarray(rigid, np.float64)
        B = np.linalg.inv(F)
        B /= B[2, 2]
        Bh = B
    elif rigid_points is not None:
        rs, rd = (np.asarray(a, np.float64).reshape(-1, 2) for a in rigid_points)
        B = Bh = _rigid_fit(rs, rd, rigid_model)
    else:
        idx = mesh.rigid if ours else np.arange(len(Ps))
        B = Bh = _rigid_fit(Ps[idx], Pd[idx], rigid_model)
        if ours and head_plane is not None:
            X = load_topology().mean_shape if model_points is None else model_points
            Hs, Hd = (Ps, Pd) if head_points is None else head_points
            Bh = plane_motion(np.asarray(X, np.float64)[idx], Hs[idx], Hd[idx], float(head_plane), B)
    proxy = None
    if ours and rigid is None and rigid_points is None and head_model == "ellipsoid":
        X = np.asarray(load_topology().mean_shape if model_points is None else model_points, np.float64)
        proxy = (X, mesh.rigid)
    elif head_model not in ("ellipsoid", "plane"):
        raise ValueError("head_model must be ellipsoid or plane, got {!r}".format(head_model))
    # --- the region the field can move: both heads and the fade around them --------------------
    fs = face_size(Pd)
    H0, W0 = H, W
    ox, oy, W, H = _roi(Ps, Pd, (H0, W0), ours, grow, hair, fade * fs)
    if within is not None:
        bx0, by0, bx1, by1 = (int(v) for v in within)
        x0, y0 = max(ox, bx0), max(oy, by0)
        x1, y1 = min(ox + W, bx1), min(oy + H, by1)
        ox, oy, W, H = x0, y0, max(0, x1 - x0), max(0, y1 - y0)
        if W < 2 or H < 2:  # nothing of the box in the image: the identity
            if part:
                return replace(_identity_field(0, 0, B, Bh, (ox, oy, 0, 0)), origin=(ox, oy))
            return _identity_field(H0, W0, B, Bh, (ox, oy, 0, 0))
    roi = (ox, oy, H, W) != (0, 0, H0, W0)
    B_full, Bh_full = B, Bh
    if roi:
        To = np.array([[1.0, 0.0, ox], [0.0, 1.0, oy], [0.0, 0.0, 1.0]])
        Ti = np.linalg.inv(To)
        B, Bh = Ti @ B @ To, Ti @ Bh @ To
        Ps = Ps - (ox, oy)
        Pd = Pd - (ox, oy)
    if proxy is not None:
        Hs, Hd = (Ps, Pd) if head_points is None else (head_points[0] - (ox, oy), head_points[1] - (ox, oy))
        proxy = head_proxy(proxy[0], proxy[1], Hs, Hd)
    f = _field(Ps, Pd, H, W, B, Bh, skin, ours, mesh, src_depth if masks else None, dst_depth, grow, hair, fade, neck,
               band, c0, proxy, masks)
    f.rigid, f.face_rigid = Bh_full, B_full
    if not roi:
        return replace(f, roi=(0, 0, W, H)) if part else f
    if part:
        f.map_x += np.float32(ox)
        f.map_y += np.float32(oy)
        return replace(f, roi=(ox, oy, W, H), origin=(ox, oy))
    # the frame's arrays, each pixel written once: the roi's values inside, the identity's around
    # (at 4K a field's ~170 MB of maps and masks had been filled whole, then the roi again)
    around = {"map_x": (np.float32, np.arange(W0, dtype=np.float32)[None, :]),
              "map_y": (np.float32, np.arange(H0, dtype=np.float32)[:, None]), **_MASKS}
    out = {k: None if getattr(f, k) is None else
           _framed(getattr(f, k), (H0, W0), (ox, oy), t, v, copy=not k.startswith("map_"))
           for k, (t, v) in around.items()}
    np.add(f.map_x, np.float32(ox), out=out["map_x"][oy:oy + H, ox:ox + W])
    np.add(f.map_y, np.float32(oy), out=out["map_y"][oy:oy + H, ox:ox + W])
    return replace(f, roi=(ox, oy, W, H), **out)


def _framed(inner, shape, at, dtype, outside, copy=True):
    """A ``dtype`` array of ``shape`` (H, W) with ``outside`` (broadcast to ``shape``) around the
    box of ``inner``'s shape at ``at`` (x, y), and ``inner`` in it (``copy=False``: left for the
    caller to write)."""
    (x, y), (h, w) = at, inner.shape
    out = np.empty(shape, dtype)
    o = np.broadcast_to(np.asarray(outside, dtype), shape)
    out[:y], out[y + h:] = o[:y], o[y + h:]
    out[y:y + h, :x], out[y:y + h, x + w:] = o[y:y + h, :x], o[y:y + h, x + w:]
    if copy:
        out[y:y + h, x:x + w] = inner
    return out


#: a WarpField's masks (None in a maps-only field) and their value where nothing moves
_MASKS = {"valid": (np.float32, 1), "mouth_hole": (bool, 0), "eye_hole": (bool, 0), "occluded": (bool, 0),
          "disocclusion": (bool, 0), "face": (bool, 0), "head": (bool, 0), "weight": (np.float32, 0)}


def valid_only(f):
    """The WarpField ``f`` holding only its ``valid`` (and matrices, ``roi``): what the composite
    still reads of a moved row's field while the row waits for the network (at 4K the full field,
    maps and masks at the frame's size, was ~180 MB a row)."""
    return None if f is None else replace(f, map_x=None, map_y=None, **{k: None for k in _MASKS if k != "valid"})


def _identity_field(H, W, B, Bh, roi, have=tuple(_MASKS)):
    """A field of (H, W) that moves nothing (its ``roi`` filled in by the caller); the masks not
    in ``have`` are None (a maps-only field: none of them made at the frame's size)."""
    masks = {k: (np.full((H, W), v, t) if k in have else None) for k, (t, v) in _MASKS.items()}
    return WarpField(
        map_x=np.broadcast_to(np.arange(W, dtype=np.float32)[None, :], (H, W)).copy(),
        map_y=np.broadcast_to(np.arange(H, dtype=np.float32)[:, None], (H, W)).copy(),
        rigid=Bh, face_rigid=B, roi=roi, **masks)


def _roi(Ps, Pd, shape, ours, grow, hair, margin):
    """(x0, y0, w, h) of the pixels the field may move: the bounding box of both head regions
    grown by ``margin`` px (the fade), clipped to the image; the whole image when that is most
    of it."""
    H, W = int(shape[0]), int(shape[1])
    pts = [Ps, Pd]
    if ours:
        pts += [head_outline(Ps, grow, hair), head_outline(Pd, grow, hair)]
    else:
        for P in (Ps, Pd):
            c = P.mean(0)
            pts.append(c + (P - c) * (1 + grow))
    allp = np.concatenate(pts, 0)
    lo = np.floor(allp.min(0) - margin - 4).astype(int)
    hi = np.ceil(allp.max(0) + margin + 4).astype(int)
    x0, y0 = max(0, lo[0]), max(0, lo[1])
    x1, y1 = min(W, hi[0]), min(H, hi[1])
    if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) > 0.7 * W * H:
        return 0, 0, W, H
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def _field(Ps, Pd, H, W, B, Bh, skin, ours, mesh, src_depth, dst_depth, grow, hair, fade, neck, band, c0,
           proxy=None, masks=True):
    """The field on an (H, W) image (see :func:`warp_field`; matrices and points in its pixels)."""
    # --- triangle-id raster of the destination --------------------------------------------------
    area_d = _signed_area(Pd, skin)
    area_s = _signed_area(Ps, skin)
    # counter-clockwise from the front (y up) = clockwise in the image; another mesh's winding
    # is unknown: no culling
    front = area_d < 0 if ours else np.ones(len(skin), bool)
    order = np.flatnonzero(front)
    if dst_depth is not None:
        z = np.asarray(dst_depth, np.float64)
        order = order[np.argsort(-z[skin[order]].mean(1), kind="stable")]
    mouth = mesh.mouth if ours else np.zeros((0, 3), np.int64)
    tris = np.concatenate([skin, mouth], 0)
    coef, det = _affine_coeffs(Ps[tris], Pd[tris])
    coef = coef.astype(np.float32)
    nskin, nmouth = len(skin), len(mouth)
    EYE = nskin + nmouth + 1  # id of the eye openings
    fx = _fix(Pd, c0)
    mdraw = np.flatnonzero(np.abs(det[nskin:]) > 1e-9) if ours else np.zeros(0, np.int64)
    order = order[np.abs(det[order]) > 1e-9]
    rigid_area = max(abs(float(np.linalg.det(B[:2, :2]))), 1e-12)  # source / destination area
    # each face triangle's area in the source over the destination, beyond the rigid change
    # (under 1: stretched here)
    kept = np.abs(area_s) / np.maximum(np.abs(area_d), 1e-9) / rigid_area
    order = order[_touches(fx[skin[order]], H, W)]
    draw = _sliver_ids(order, skin, Ps, Pd, area_s, area_d, rigid_area, ours)
    fs = face_size(Pd)
    ids = np.zeros((H, W), np.int32)
    if ours:
        cv2.fillPoly(ids, [fx[e] for e in mesh.eyes], EYE, cv2.LINE_8, 4)
        for k, poly in zip((nskin + 1 + mdraw).tolist(), fx[mouth[mdraw]]):
            cv2.fillConvexPoly(ids, poly, k, cv2.LINE_8, 4)
    for k, poly in zip(draw.tolist(), fx[skin[order]]):
        if k:
            cv2.fillConvexPoly(ids, poly, k, cv2.LINE_8, 4)
    cov = ids > 0
    # what depends on the destination only is shared by the fields onto the same one (the head's
    # three sources onto each row's head, the shot mouth's onto each row's mouth)
    yy, xx, flat, px, py, labels, lab_in, n_labels, decay, head, weight = shared_destination(
        cov, Pd, H, W, ours, grow, hair, fade, neck, band, c0, fs)
    # the displacement is read where the head's motion reaches (its weight, and the mesh) alone:
    # elsewhere it is multiplied by 0
    boxes = [b for b in (pixels_box(weight > 0), pixels_box(cov)) if b is not None] or [(0, 0, W, H)]
    bx0, by0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    bx1, by1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    sl = (slice(by0, by1), slice(bx0, bx1))
    if proxy is not None:
        rdx, rdy, seen = proxy_disp(proxy, H, W, c0, STRETCH_OK, box=(bx0, by0, bx1, by1))
    else:
        rdx, rdy = _rigid_disp(Bh, H, W, c0)
        seen = None
    ids_in = ids.take(flat)  # (the mesh pixels' values by their flat indices: take and put)
    t = ids_in - 1
    is_eye = t == EYE - 1
    tri_pix = ~is_eye
    tt = t[tri_pix]
    k = coef[tt]
    dx_in = np.empty(len(t), np.float32)
    dy_in = np.empty(len(t), np.float32)
    dx_in[tri_pix] = k[:, 0] * px[tri_pix] + k[:, 1] * py[tri_pix] + k[:, 4]
    dy_in[tri_pix] = k[:, 2] * px[tri_pix] + k[:, 3] * py[tri_pix] + k[:, 5]
    if is_eye.any():
        ex, ey = _apply_h(B, px[is_eye].astype(np.float64), py[is_eye].astype(np.float64))
        dx_in[is_eye] = ex - px[is_eye]
        dy_in[is_eye] = ey - py[is_eye]

    mouth_hole = np.zeros((H, W), bool)
    if nmouth:
        sel = np.flatnonzero(tri_pix)[(tt >= nskin)]
        if len(sel):
            mt = t[sel] - nskin
            _mouth_columns(Ps, Pd, mesh, mt, px[sel], py[sel], dx_in, dy_in, sel, mouth_hole, yy, xx, B)

    # --- outside the mesh: the rigid motion + the border's residual, faded ----------------------
    dx = rdx
    dy = rdy
    if len(yy):
        rx = dx_in - rdx.take(flat)
        ry = dy_in - rdy.take(flat)
        rx, ry, odd = border_residual(rx, ry, yy, xx, is_eye, fs)
        dx_in[odd], dy_in[odd] = rx[odd] + rdx.take(flat[odd]), ry[odd] + rdy.take(flat[odd])
        lut_x = np.zeros(n_labels, np.float32)
        lut_y = np.zeros_like(lut_x)
        lut_x[lab_in] = rx
        lut_y[lab_in] = ry
        dx, dy = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
        dx[sl] = rdx[sl] + decay[sl] * lut_x[labels[sl]]
        dy[sl] = rdy[sl] + decay[sl] * lut_y[labels[sl]]
    dx *= weight
    dy *= weight
    np.put(dx, flat, dx_in)
    np.put(dy, flat, dy_in)
    if ours and len(yy):
        _spread_stretch(dx, dy, kept, front & _outer_triangles(skin, mesh.oval), ids_in, EYE + 1, flat, fs)
    dx += np.arange(W, dtype=np.float32)[None, :]
    dy += np.arange(H, dtype=np.float32)[:, None]
    map_x, map_y = dx, dy

    if not masks:
        return WarpField(map_x, map_y, None, None, None, None, None, None, None, weight.copy(), Bh, B)

    # --- what the warp cannot supply ----------------------------------------------------------
    eye_hole = np.zeros((H, W), bool)
    if ours and is_eye.any():
        se = np.zeros((H, W), np.uint8)
        cv2.fillPoly(se, [_fix(Ps[e], c0) for e in mesh.eyes], 1, cv2.LINE_8, 4)
        ey, ex = yy[is_eye], xx[is_eye]
        sx = np.clip(np.round(map_x[ey, ex]).astype(np.int64), 0, W - 1)
        sy = np.clip(np.round(map_y[ey, ex]).astype(np.int64), 0, H - 1)
        eye_hole[ey[se[sy, sx] == 0], ex[se[sy, sx] == 0]] = True
    occluded = np.zeros((H, W), bool)
    hidden = np.zeros(len(tris) + 2, bool)
    if ours:  # front in the destination, not in the source
        hidden[1: nskin + 1] = front & ~(area_s < 0)
    else:  # winding flipped between the two
        hidden[1: nskin + 1] = np.sign(area_s) != np.sign(area_d)
    np.put(occluded, flat, hidden[ids_in])
    if src_depth is not None:
        occluded |= _hidden_in_source(Ps, np.asarray(src_depth, np.float64), skin, area_s, ids, flat, t,
                                      map_x, map_y, nskin, c0)
    src_head = head_mask(Ps, (H, W), grow, hair, pixel_centre=c0) if ours else hull_mask(Ps, (H, W), grow, c0)
    sampled = cv2.remap(src_head.view(np.uint8), map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    disocc = ~head & (src_head | (sampled > 0))
    valid = np.ones((H, W), np.float32)
    # face surface stretched beyond the face's own scale change (a cheek the source saw
    # foreshortened) carries less detail: confidence falls below 1 past STRETCH_OK
    conf = np.ones(len(tris) + 2, np.float32)
    conf[1: nskin + 1] = np.clip(STRETCH_OK * kept, 0, 1)
    np.put(valid, flat, conf[ids_in])
    if seen is not None:  # hair and sides the source saw edge-on carry less detail
        # (inside the reach: beyond it the weight is 0, and valid stays; float32 throughout)
        v = valid[sl]
        v[...] = np.where(cov[sl], v, np.minimum(v, 1.0 - weight[sl] * (1.0 - seen[sl])))
    valid[mouth_hole | eye_hole | occluded | disocc] = 0.0
    return WarpField(map_x, map_y, valid, mouth_hole, eye_hole,
                     occluded, disocc, cov.copy(), head.copy(), weight.copy(), Bh, B)


def _spread_stretch(dx, dy, kept, near, ids_in, n_ids, flat, fs):
    """Smooths the displacement ``dx``, ``dy`` (H, W, in place) around face triangles stretched
    over :data:`SPREAD_STRETCH` times in area beyond the face's rigid scale change (``kept``: each
    skin triangle's source area over its destination area beyond that change; ``near``: the
    triangles it may apply to, drawn and by the face's outline; ``ids_in``: the triangle-id
    raster's ids (below ``n_ids``) at its pixels, ``flat`` their flat indices; ``fs``: the face size), over
    :data:`SPREAD_SIGMA` face sizes: the cheek a turn brings towards the camera, edge-on in the
    source, otherwise takes one column of source pixels across a band of 12 px and more
    (horizontal streaks up to a seam, d12 -> d0); spread over its neighbours, the
    stretch becomes a mild one. (Lips a dub opens are stretched as much, and stay exact.)"""
    st = np.zeros(n_ids, bool)
    st[1: len(kept) + 1] = (kept < 1.0 / SPREAD_STRETCH) & near
    if not st.any():
        return
    band = np.zeros(dx.shape, np.float32)
    np.put(band, flat, st[ids_in])
    if not band.any():
        return
    sig = max(1.0, SPREAD_SIGMA * fs)
    w = np.clip(wide_blur(band, sig) * 3.0, 0.0, 1.0)
    dx += w * (wide_blur(dx, sig) - dx)
    dy += w * (wide_blur(dy, sig) - dy)


def _apply_h(B, x, y):
    w = B[2, 0] * x + B[2, 1] * y + B[2, 2]
    w = np.where(np.abs(w) < 1e-9, 1e-9, w)
    return (B[0, 0] * x + B[0, 1] * y + B[0, 2]) / w, (B[1, 0] * x + B[1, 1] * y + B[1, 2]) / w


def _mouth_columns(Ps, Pd, mesh, mt, px, py, dx_in, dy_in, sel, hole, yy, xx, B):
    """Mouth-opening pixels (ladder triangles ``mt``): re-sample each column so that the upper
    and lower halves of the source opening travel with their lips, unstretched; mark the band
    in the middle that the source cannot supply. Updates ``dx_in``/``dy_in`` at ``sel`` and
    ``hole`` in place. The openings are compared after the head's motion (``B``, destination
    -> source), so a head that comes closer does not open a hole; differences under a pixel are
    ignored."""
    tri = mesh.mouth[mt]  # (P, 3)
    # barycentric coordinates of the pixels in their destination triangles
    D = Pd[tri]
    d1, d2 = D[:, 1] - D[:, 0], D[:, 2] - D[:, 0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    qx, qy = px - D[:, 0, 0], py - D[:, 0, 1]
    b1 = np.clip((qx * d2[:, 1] - qy * d2[:, 0]) / det, 0, 1)
    b2 = np.clip((d1[:, 0] * qy - d1[:, 1] * qx) / det, 0, 1)
    s = np.maximum(b1 + b2, 1.0)
    b1, b2 = b1 / s, b2 / s
    b0 = 1.0 - b1 - b2
    bary = np.stack([b0, b1, b2], 1)
    # per column: source gap vector, ratio of source to destination opening
    gs = Ps[mesh.lower] - Ps[mesh.upper]  # (C, 2)
    gd = Pd[mesh.lower] - Pd[mesh.upper]
    A = np.linalg.inv(B[:2, :2])  # the head's motion, source -> destination (linear part)
    gsd = gs @ A.T
    ld = np.linalg.norm(gd, axis=1)
    ls = np.linalg.norm(gsd, axis=1) * (np.einsum("ij,ij->i", gsd, gd) > 0)  # lips crossed: closed
    rho = np.clip(ls / np.maximum(ld, 1e-9), 0, 1)
    rho[(1.0 - rho) * ld < 1.0] = 1.0  # under a pixel of difference: nothing to fill
    C = len(rho)
    rho[0], rho[-1] = rho[min(1, C - 1)], rho[max(C - 2, 0)]  # corners: their neighbour column
    cols = mesh.mouth_col[mt]
    v = (bary * mesh.mouth_v[mt]).sum(1)
    r = (bary * rho[cols]).sum(1)
    g = np.einsum("pk,pkd->pd", bary, gs[cols])
    lo, hi = 0.5 * r, 1.0 - 0.5 * r
    rs = np.maximum(r, 1e-3)
    v2 = np.where(v <= lo, v / rs, np.where(v >= hi, 1.0 - (1.0 - v) / rs, 0.5))
    v2 = np.where(r >= 1.0 - 1e-6, v, v2)
    dx_in[sel] += ((v2 - v) * g[:, 0]).astype(np.float32)
    dy_in[sel] += ((v2 - v) * g[:, 1]).astype(np.float32)
    gap = (v > lo) & (v < hi) & (r < 1.0 - 1e-6)
    hole[yy[sel][gap], xx[sel][gap]] = True


def warp_image(img, field, interpolation=cv2.INTER_LINEAR, border=cv2.BORDER_REPLICATE, box=None, area=None):
    """``img`` (H, W[, C]) resampled by the :class:`WarpField` ``field`` (``cv2.remap``); where
    the map is the identity (far background) the pixels come back bit-exact (outside the
    field's ``roi`` they are copied, not resampled). ``box`` (x0, y0, x1, y1): only that part of
    the result (the same pixels as ``warp_image(...)[y0:y1, x0:x1]``, without the whole frame).
    ``area`` (x0, y0, x1, y1): the picture inside letterbox or pillarbox bars
    (:func:`~reenact.video.bars.picture_area`): only its pixels are resampled, from it alone,
    with ``border`` at its edges (the bars never stream into the picture), and the bars are
    copied. A field of part of the frame (its ``origin``) is read inside its ``roi`` only."""
    img = np.ascontiguousarray(img)
    H, W = img.shape[:2]
    bx0, by0, bx1, by1 = (0, 0, W, H) if box is None else (int(v) for v in box)
    ax0, ay0, ax1, ay1 = (0, 0, W, H) if area is None else (int(v) for v in area)
    whole = (ax0, ay0, ax1, ay1) == (0, 0, W, H)
    if field.roi is None:
        x0, y0, x1, y1 = bx0, by0, bx1, by1
        if box is None and whole:
            return cv2.remap(img, field.map_x, field.map_y, interpolation, borderMode=border)
    else:
        x0, y0 = max(bx0, field.roi[0]), max(by0, field.roi[1])
        x1, y1 = min(bx1, field.roi[0] + field.roi[2]), min(by1, field.roi[1] + field.roi[3])
    src, mx, my = img, field.map_x, field.map_y
    if not whole:
        x0, y0, x1, y1 = max(x0, ax0), max(y0, ay0), min(x1, ax1), min(y1, ay1)
        src = img[ay0:ay1, ax0:ax1]
    out = img[by0:by1, bx0:bx1].copy()
    if x1 <= x0 or y1 <= y0:
        return out
    fx0, fy0 = field.origin
    sl = (slice(y0 - fy0, y1 - fy0), slice(x0 - fx0, x1 - fx0))
    mx, my = mx[sl], my[sl]
    if not whole:  # the maps in the picture's own pixels
        mx, my = mx - np.float32(ax0), my - np.float32(ay0)
    out[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = cv2.remap(
        src, np.ascontiguousarray(mx), np.ascontiguousarray(my), interpolation,
        borderMode=border).reshape((y1 - y0, x1 - x0) + img.shape[2:])
    return out


def warp_points(pts, field, pixel_centre=0.5):
    """Destination points where the field takes each source point ``pts`` (M, 2) (inverts the
    backward map by a few fixed-point steps; for checks)."""
    p = np.asarray(pts, np.float64).copy()
    target = p.copy()
    for _ in range(10):
        s = field.source_of(p.astype(np.float32), pixel_centre).astype(np.float64)
        p = p + (target - s)
    return p

