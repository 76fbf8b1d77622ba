# SPDX-License-Identifier: GPL-3.0-or-later
"""The face mesh's triangles in :func:`~reenact.render.warp.warp_field`: per-triangle affine maps
and signed areas, which triangle lies across each edge, slivers (drawn by their neighbours'
maps), what the source shows covered by another part of the face, and which triangles reach the
image. numpy + OpenCV."""

import cv2
import numpy as np

from .meshes import _fix

#: a face triangle squeezed to a sliver (under this many px high in the destination, across its
#: longest edge, and over :data:`SLIVER_SQUEEZE` times less high than in the source, beyond the
#: face's rigid scale change) does not draw with its own affine map, which throws the pixels its
#: raster touches beside it far across the source (a lip corner pressed flat put a dash of the
#: mouth's dark corner on the skin above it; at a turned head's silhouette the hair's edge came
#: out in jagged spikes): :func:`_sliver_ids`
SLIVER_PX = 1.0
SLIVER_SQUEEZE = 3.0


def _affine_coeffs(S, D):
    """Per triangle (K, 3, 2) source and destination corners -> (K, 6) coefficients of the
    displacement ``src - x = (M - I) x + c`` as (m00-1, m01, m10, m11-1, c0, c1), and the
    destination determinant (K,)."""
    d1, d2 = D[:, 1] - D[:, 0], D[:, 2] - D[:, 0]
    s1, s2 = S[:, 1] - S[:, 0], S[:, 2] - S[:, 0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    safe = np.where(np.abs(det) < 1e-12, 1.0, det)
    # inv([d1 d2]) = [[d2y, -d2x], [-d1y, d1x]] / det ; M = [s1 s2] @ inv
    i00, i01, i10, i11 = d2[:, 1] / safe, -d2[:, 0] / safe, -d1[:, 1] / safe, d1[:, 0] / safe
    m00 = s1[:, 0] * i00 + s2[:, 0] * i10
    m01 = s1[:, 0] * i01 + s2[:, 0] * i11
    m10 = s1[:, 1] * i00 + s2[:, 1] * i10
    m11 = s1[:, 1] * i01 + s2[:, 1] * i11
    c0 = S[:, 0, 0] - (m00 * D[:, 0, 0] + m01 * D[:, 0, 1])
    c1 = S[:, 0, 1] - (m10 * D[:, 0, 0] + m11 * D[:, 0, 1])
    return np.stack([m00 - 1.0, m01, m10, m11 - 1.0, c0, c1], 1), det


def _signed_area(P, tris):
    a, b, c = P[tris[:, 0]], P[tris[:, 1]], P[tris[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _memo(cache, key, make):
    """``cache[key]``, made read-only by ``make()`` when missing (the cache keeps the last few)."""
    value = cache.get(key)
    if value is None:
        value = make()
        value.setflags(write=False)
        if len(cache) > 4:
            cache.clear()
        cache[key] = value
    return value


def _edge_neighbours(tris):
    """(F, 3) int64: the triangle across each edge of each of ``tris`` (F, 3), -1 where none."""

    def make():
        F = len(tris)
        e = np.sort(np.stack([tris, np.roll(tris, -1, axis=1)], 2).reshape(-1, 2), 1)
        code = e[:, 0] * (int(tris.max()) + 1) + e[:, 1]
        idx = np.argsort(code, kind="stable")
        nb = np.full(3 * F, -1, np.int64)
        same = code[idx[1:]] == code[idx[:-1]]
        a, b = idx[:-1][same], idx[1:][same]
        nb[a], nb[b] = b // 3, a // 3
        return nb.reshape(F, 3)

    return _memo(_NB, tris.tobytes(), make)


_NB = {}


def _sliver_ids(order, skin, Ps, Pd, area_s, area_d, rigid_area, ours=True):
    """(len(order),) int32: the id each triangle of ``order`` (indices into ``skin``, drawn in
    that order) is drawn with in the triangle-id raster: its own (index + 1); for a sliver
    (:data:`SLIVER_PX`) at a turned head's silhouette, its largest drawn neighbour's across an
    edge; for any other sliver 0 (not drawn). ``area_s`` / ``area_d``: the triangles' signed
    doubled areas; ``rigid_area``: the face's rigid area change, source / destination; ``ours``:
    the tracker's mesh (its winding tells which way a triangle faces)."""
    draw = (order + 1).astype(np.int32)
    if not len(order):
        return draw
    t = skin[order]
    h_d = np.abs(area_d[order]) / np.maximum(np.linalg.norm(Pd[t] - Pd[np.roll(t, 1, axis=1)], axis=2).max(1), 1e-9)
    h_s = np.abs(area_s[order]) / np.maximum(np.linalg.norm(Ps[t] - Ps[np.roll(t, 1, axis=1)], axis=2).max(1), 1e-9)
    thin = (h_d < SLIVER_PX) & (h_s > SLIVER_SQUEEZE * np.sqrt(rigid_area) * h_d)
    if not thin.any():
        return draw
    drawn = np.zeros(len(skin) + 1, bool)  # (index + 1; 0 = no neighbour)
    drawn[order[~thin] + 1] = True
    nb = _edge_neighbours(skin)[order[thin]] + 1
    size = np.where(drawn[nb], np.abs(np.concatenate([[0.0], area_d]))[nb], -1.0)
    best = nb[np.arange(len(nb)), size.argmax(1)]
    # at the silhouette of a turned head (a neighbour facing away here and in the source) it
    # takes its largest drawn neighbour's map; elsewhere (neighbours drawn, or none: the mesh's
    # own border, or folded over here: a lip corner pressed flat) it is not drawn, what is
    # beside it covers it
    away = np.concatenate([[False], (area_d >= 0) & (area_s >= 0) & ours])
    edge = (~drawn[nb] & away[nb]).any(1)
    draw[thin] = np.where(edge & (size.max(1) > 0), best, 0)
    return draw


def _adjacency(tris, n_verts):
    """(F+1, F+1) bool: triangles sharing a vertex (index 0 = no triangle, adjacent to none)."""
    F = len(tris)
    vt = np.zeros((n_verts, F + 1), bool)
    for j in range(3):
        vt[tris[:, j], np.arange(1, F + 1)] = True
    vt = vt.astype(np.float32)
    return (vt.T @ vt) > 0


_ADJ = {}


def _hidden_in_source(Ps, zs, skin, area_s, ids, flat, t, map_x, map_y, nskin, c0):
    """Destination face pixels whose surface point the source shows covered by another part of
    the face (the nose over a far cheek): the source's own triangle-id raster (painter's order by
    ``zs``) at the sampled position holds a triangle that shares no vertex with the pixel's
    (``flat``: the face pixels' flat indices, ``t`` their triangles)."""
    H, W = ids.shape
    order = np.flatnonzero(area_s < 0)
    order = order[np.argsort(-zs[skin[order]].mean(1), kind="stable")]
    sid = np.zeros((H, W), np.int32)
    fx = _fix(Ps, c0)
    order = order[_touches(fx[skin[order]], H, W)]
    for k, poly in zip((order + 1).tolist(), fx[skin[order]]):
        cv2.fillConvexPoly(sid, poly, k, cv2.LINE_8, 4)
    key = (skin.shape, hash(skin.tobytes()))
    if key not in _ADJ:
        _ADJ.clear()
        _ADJ[key] = _adjacency(skin, int(skin.max()) + 1)
    adj = _ADJ[key]
    out = np.zeros((H, W), bool)
    sk = t < nskin
    fk = flat[sk]
    sx = np.clip(np.round(map_x.take(fk)).astype(np.int64), 0, W - 1)
    sy = np.clip(np.round(map_y.take(fk)).astype(np.int64), 0, H - 1)
    seen = sid.take(sy * W + sx)
    bad = (seen > 0) & ~adj.take((t[sk] + 1) * adj.shape[1] + seen)
    np.put(out, fk[bad], True)
    return out


def _touches(polys, H, W):
    """(F,) bool: the fixed-point (shift 4) polygons (F, K, 2) whose bounding box reaches the
    (H, W) image: the others draw no pixel (skipped before the per-triangle fill)."""
    lo, hi = polys.min(1), polys.max(1)
    return (hi[:, 0] >= -16) & (hi[:, 1] >= -16) & (lo[:, 0] < (W + 1) * 16) & (lo[:, 1] < (H + 1) * 16)


def _outer_triangles(tris, oval, rings=2):
    """(F,) bool: the triangles of ``tris`` (F, 3) within ``rings`` rings of the vertices
    ``oval`` (the face's outline), where a turned head's cheek lies."""

    def make():
        verts = np.zeros(int(max(tris.max(), np.max(oval))) + 1, bool)
        verts[np.asarray(oval)] = True
        out = np.zeros(len(tris), bool)
        for _ in range(rings):
            out = verts[tris].any(1)
            verts[tris[out].ravel()] = True
        return out

    return _memo(_OUTER, (tris.tobytes(), np.asarray(oval).tobytes(), rings), make)


_OUTER = {}
