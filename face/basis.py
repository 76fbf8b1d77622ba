# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-actor expression basis: vertex regions per coefficient, generic templates scaled to
the actor's ranges, and the staged ridge regression of shapes on coefficients."""

import numpy as np

from .expressions import EXPRESSION_NAMES, side_of
from .measures import measure_table
from .topology import N_VERTS, load_topology


#: ridge weight of the basis regression toward the generic templates, relative to the number
#: of frames, per regression stage (jawOpen and blinks are measured well: the data decides)
RIDGE = (0.0005, 0.02, 0.02)
#: per coefficient, a ridge weight that replaces its stage's. jawOpen's is the variance of the
#: coefficient at which the actor's data and the template weigh alike: an actor whose footage
#: barely opens the mouth (source_s20: jawOpen spread 0.03, variance 0.0011) had its basis made
#: from those small openings, and a dub that opens the mouth ten times wider extrapolated it
#: (her upper lip thickened 1.07 cm per unit, a pursed ring with creases from its corners); with
#: this the template (a jaw rotating about its hinge) takes most of such an actor's jawOpen,
#: while an actor who talks with the mouth open (spread 0.1-0.38) keeps 76-98 % of its own
#: (docs/track-format.md, *Expression basis*)
RIDGE_OF = {"jawOpen": 0.003}
#: jawOpen's sideways motion of the mouth region is the template's (the model frame's x): in every
#: shared clip jawOpen is predicted from the other mouth coefficients with R^2 0.98-1.00, so the
#: first-stage regression gave it whatever moved with it; an actor who opens the mouth to grin
#: (driving_d19, d0) got a jawOpen that widens the mouth 3 cm per unit, and another actor's "o"
#: came out as his grin. The widening is left to the later stages (smiles, stretch).
JAW_SIDEWAYS_FROM_TEMPLATE = ("region_mouth", "lips_outer", "lips_inner")


#: the eyes' coefficients move nothing within this far (cm, the topology's mean shape) below the
#: lowest point of that side's brow, nor above it
EYE_BELOW_BROW = 0.15
#: coefficients allowed to move the outline of the face (the face oval): the jaw
OVAL_MOVERS = ("jawOpen", "jawForward", "jawLeft", "jawRight", "mouthClose", "cheekPuff")


def region_masks(names=EXPRESSION_NAMES, topo=None):
    """(K, 468) bool: which vertices each coefficient's basis vector may move.

    Regions come from the topology (``region_*`` groups); sided mouth and nose coefficients
    keep to their own side (plus 1 cm / 0.8 cm across the midline); brows move at most 2 cm
    above the upper brow row; the face outline (whose tracked points slide along the
    silhouette when the head turns) is moved only by :data:`OVAL_MOVERS`.
    """
    topo = topo or load_topology()
    tab = measure_table()
    x, y = topo.mean_shape[:, 0], topo.mean_shape[:, 1]
    g = topo.groups
    oval = np.zeros(N_VERTS, bool)
    oval[g["face_oval"]] = True
    brow_top = y[np.r_[g["brow_left"][:5], g["brow_right"][:5]]].max() + 2.0
    masks = np.zeros((len(names), N_VERTS), bool)
    for k, n in enumerate(names):
        reg = tab[n][5]
        m = np.zeros(N_VERTS, bool)
        if reg.startswith("mouth"):
            m[g["region_mouth"]] = True
            if reg == "mouth_left":
                m &= x > -1.0
            elif reg == "mouth_right":
                m &= x < 1.0
        elif reg in ("eye_left", "eye_right"):
            # the lids and the skin they fold, not the brow above them: a blink learnt from an
            # actor who lowers her brows as she blinks moved d11's brows 17 px for 21 px of lid
            # (a blink key lowered and blurred them; d19's glasses rim bent with them)
            m[g["region_" + reg]] = True
            m &= y < y[g["brow_" + reg[4:]]].min() - EYE_BELOW_BROW
        elif reg == "brow_both":
            m[g["region_brow_left"]] = True
            m[g["region_brow_right"]] = True
        elif reg in ("brow_left", "brow_right", "cheek_left", "cheek_right"):
            m[g["region_" + reg]] = True
        elif reg.startswith("nose"):
            m[g["region_nose"]] = True
            m &= (x > -0.8) if reg == "nose_left" else (x < 0.8)
        else:
            raise ValueError("unknown region " + reg)
        if reg.startswith("brow"):
            m &= y < brow_top
        if n not in OVAL_MOVERS:
            m &= ~oval
        masks[k] = m
    return masks


def _rbf_field(P, handles, sigma):
    """Displacement field (468, 3): Gaussian-weighted blend of handle displacements."""
    D = np.zeros_like(P)
    W = np.zeros(len(P))
    for i, d in handles:
        w = np.exp(-((P - P[i]) ** 2).sum(1) / (2 * sigma**2))
        D += w[:, None] * np.asarray(d, np.float64)
        W += w
    return D / np.maximum(W, 1.0)[:, None]


def _lip_halves(topo):
    lo_ = topo.groups["lips_outer"]
    li = topo.groups["lips_inner"]
    upper = np.r_[lo_[1:10], li[1:10]]
    lower = np.r_[lo_[11:20], li[11:20]]
    return upper, lower


def _template_left(name, P, topo):
    """Generic displacement (468, 3) of an expression on shape P (cm), before scaling.

    Sided expressions are written for the actor's left (+x); the right side is mirrored.
    """
    g = topo.groups
    upper, lower = _lip_halves(topo)
    if name.startswith("jaw") or name == "mouthClose":
        # lower jaw: weight 1 on the lower lip and below the lower lip, 0 on the upper lip and
        # above the upper lip, smooth in between (by height)
        y13, y17 = P[13, 1], P[17, 1]
        w = _smoothstep((y13 - P[:, 1]) / max(y13 - y17, 1e-3))
        w[lower] = 1.0
        w[upper] = 0.0
        w[P[:, 1] > P[2, 1]] = 0.0
        hinge = np.array([0.0, P[2, 1] + 0.5, 0.5])
        if name == "jawOpen":
            th = np.deg2rad(15.0)
            r = P - hinge
            c, s_ = np.cos(th), np.sin(th)
            rot = np.stack([r[:, 0], r[:, 1] * c - r[:, 2] * s_, r[:, 1] * s_ + r[:, 2] * c], 1)
            return w[:, None] * (rot - r)
        if name == "jawLeft":
            return w[:, None] * np.array([0.8, 0.0, 0.0])
        if name == "jawForward":
            return w[:, None] * np.array([0.0, 0.0, 0.6])
        if name == "mouthClose":  # lips together while the jaw stays open: lower lip up
            D = _rbf_field(P, [(i, (0.0, 1.0, 0.2)) for i in lower], 0.5)
            D[upper] = 0.0
            return D
    E = {}  # handle lists
    E["mouthFunnel"] = [(0, (0, 0.1, 0.4)), (17, (0, -0.1, 0.4)), (13, (0, 0.2, 0.4)), (14, (0, -0.3, 0.4)),
                        (291, (-0.4, 0, 0.1)), (61, (0.4, 0, 0.1))]
    E["mouthPucker"] = [(0, (0, -0.05, 0.5)), (17, (0, 0.05, 0.5)), (13, (0, 0, 0.5)), (14, (0, 0, 0.5)),
                        (291, (-0.5, 0, 0.2)), (61, (0.5, 0, 0.2))]
    E["mouthLeft"] = [(i, (0.7, 0, 0)) for i in (0, 17, 13, 14, 61, 291)]
    E["mouthSmileLeft"] = [(291, (0.35, 0.6, -0.15)), (425, (0.1, 0.3, 0.1))]
    E["mouthFrownLeft"] = [(291, (0.0, -0.5, 0.0))]
    E["mouthDimpleLeft"] = [(291, (0.2, 0.0, -0.3))]
    E["mouthStretchLeft"] = [(291, (0.5, -0.2, -0.1)), (314, (0.2, -0.1, 0.0))]
    E["mouthRollLower"] = [(17, (0, 0.3, -0.2)), (84, (0, 0.25, -0.15)), (314, (0, 0.25, -0.15)), (14, (0, 0.0, -0.1))]
    E["mouthRollUpper"] = [(0, (0, -0.3, -0.2)), (37, (0, -0.25, -0.15)), (267, (0, -0.25, -0.15)),
                           (13, (0, 0.0, -0.1))]
    E["mouthShrugLower"] = [(17, (0, 0.4, 0.1)), (152, (0, 0.3, 0.1)), (14, (0, 0.2, 0.1))]
    E["mouthShrugUpper"] = [(0, (0, 0.3, 0.05)), (13, (0, 0.2, 0.0))]
    E["mouthPressLeft"] = [(267, (0, -0.15, 0)), (314, (0, 0.15, 0)), (312, (0, -0.02, 0)), (317, (0, 0.02, 0))]
    E["mouthLowerDownLeft"] = [(314, (0, -0.5, 0.05)), (317, (0, -0.35, 0.0))]
    E["mouthUpperUpLeft"] = [(267, (0, 0.4, 0.05)), (312, (0, 0.3, 0.0))]
    E["cheekPuff"] = [(425, (0.5, 0, 0.3)), (205, (-0.5, 0, 0.3)), (280, (0.3, 0, 0.2)), (50, (-0.3, 0, 0.2))]
    eye = g["eye_left"]
    up_lid, low_lid = eye[1:8], eye[9:16]
    blink = []
    for i in up_lid:
        j = low_lid[np.argmin(np.abs(P[low_lid, 0] - P[i, 0]))]
        blink.append((i, (0, (P[j, 1] - P[i, 1]) * 0.95, 0.05)))
    blink += [(i, (0, 0, 0)) for i in low_lid] + [(263, (0, 0, 0)), (362, (0, 0, 0))]
    E["eyeBlinkLeft"] = blink
    E["eyeWideLeft"] = [(i, (0, 0.25, 0)) for i in up_lid] + [(i, (0, 0, 0)) for i in low_lid]
    E["eyeSquintLeft"] = [(i, (0, 0.2, 0)) for i in low_lid] + [(346, (0, 0.12, 0))] + [(i, (0, 0, 0)) for i in up_lid]
    E["browDownLeft"] = [(336, (-0.15, -0.4, 0)), (285, (-0.15, -0.35, 0)), (296, (-0.1, -0.3, 0)),
                         (334, (0, -0.15, 0))]
    E["browInnerUp"] = [(336, (0, 0.6, 0)), (285, (0, 0.5, 0)), (107, (0, 0.6, 0)), (55, (0, 0.5, 0)),
                        (296, (0, 0.3, 0)), (66, (0, 0.3, 0))]
    E["browOuterUpLeft"] = [(300, (0, 0.5, 0)), (276, (0, 0.45, 0)), (293, (0, 0.5, 0)), (283, (0, 0.4, 0))]
    E["cheekSquintLeft"] = [(346, (0, 0.3, 0.05)), (347, (0, 0.3, 0.05)), (349, (0, 0.2, 0.05))]
    E["noseSneerLeft"] = [(358, (0, 0.3, 0)), (327, (0, 0.3, 0)), (294, (0, 0.3, 0))]
    sig = {"eyeBlinkLeft": 0.35, "eyeWideLeft": 0.35, "eyeSquintLeft": 0.45, "mouthPressLeft": 0.5,
           "mouthRollLower": 0.6, "mouthRollUpper": 0.6, "mouthLowerDownLeft": 0.7, "mouthUpperUpLeft": 0.7,
           "mouthShrugUpper": 0.7, "noseSneerLeft": 0.6, "mouthFrownLeft": 0.9, "mouthDimpleLeft": 0.8}
    if name not in E:
        raise KeyError(name)
    D = _rbf_field(P, E[name], sig.get(name, 1.1))
    if name.startswith("brow"):
        D = D * _above_the_lids(P, [i for i, _ in E[name]], g)[:, None]
    elif name == "eyeSquintLeft":
        D = D * _lower_lid_only(P, g["eye_left"])[:, None]
    return D


def _lower_lid_only(P, eye):
    """(468,) weight 0..1 of the squint template: 0 at the eye's corners (rising to 1 at 0.3 of the
    eye's width from them, a smoothstep), and 1 below the corners' line falling to 0 at the top of
    the upper lid (a smoothstep). The Gaussian blend of the lower-lid handles lifted the corners
    and the upper lid with the lower lid: the squint's own measure (lower lid over the corners)
    hardly moved, the template was scaled 3-8x to the actor's range, and on an actor whose squint is mostly the template (d20)
    a squint lifted the whole eye (lower lid 0.63 cm, corners 0.47-0.58, upper lid 0.39)."""
    eye = np.asarray(eye)
    a, b = P[eye[0]], P[eye[8]]  # the corners
    width = max(float(np.linalg.norm(a - b)), 1e-3)
    near = np.minimum(np.linalg.norm(P - a, axis=1), np.linalg.norm(P - b, axis=1)) / (0.3 * width)
    mid = 0.5 * (a[1] + b[1])
    top = float(P[eye[1:8], 1].max())
    return _smoothstep(near) * _smoothstep((top - P[:, 1]) / max(top - mid, 1e-3))


def _above_the_lids(P, handles, groups):
    """(468,) weight 0..1 of a brow template: 1 from the lowest of the brow ``handles`` up, 0
    from the top of the upper lid down (per side, by the sign of x; x = 0, the midline of the
    topology's own symmetric mean shape, counts as the left), a smoothstep between. The
    Gaussian blend of the brow handles alone reached the eye: on d20's identity browOuterUpLeft
    lifted the outer eye corner 0.45 cm for 0.48 at the brow, so its own measure (brow over
    eye corner) hardly moved, the template was scaled 5x to the actor's range, and a driver's
    raised brows lifted d20's brows and eyes 2.3 cm (curled brows in the picture)."""
    w = np.zeros(len(P))
    for side, eye in ((1.0, groups["eye_left"]), (-1.0, groups["eye_right"])):
        mine = [i for i in handles if (P[i, 0] >= 0.0) == (side > 0)]
        if not mine:
            continue
        lid = float(P[np.asarray(eye)[1:8], 1].max())
        brow = float(P[mine, 1].min())
        on = (P[:, 0] >= 0.0) if side > 0 else (P[:, 0] < 0.0)
        w[on] = _smoothstep((P[on, 1] - lid) / max(brow - lid, 1e-3))
    return w


def _smoothstep(t):
    """Hermite smoothstep of ``t`` clamped to 0..1 (``render.meshes.smoothstep``'s; the face
    package does not import the render package)."""
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def expression_templates(identity, ranges, names=EXPRESSION_NAMES, masks=None):
    """Generic basis (K, 468, 3) for ``identity``, each scaled so that its own measure moves
    from the rest value to the full value of ``ranges`` (all measures are linear in the shape).

    Used as the prior of the basis regression: an expression the actor never shows still
    deforms the mesh plausibly; one the actor shows follows the actor's data.
    """
    topo = load_topology()
    masks = region_masks(names, topo) if masks is None else masks
    tab = measure_table()
    P = np.asarray(identity, np.float64)
    Mx = np.array([-1.0, 1.0, 1.0])
    out = np.zeros((len(names), N_VERTS, 3))
    for k, n in enumerate(names):
        sd = side_of(n)
        if sd < 0 and n[:-5] + "Left" in tab:
            # mirror: build the left template on the mirrored shape, mirror it back
            Pm = (P * Mx)[topo.mirror]
            Dl = _template_left(n[:-5] + "Left", Pm, topo)
            D = (Dl * Mx)[topo.mirror]
        else:
            D = _template_left(n, P, topo)
        D = D * masks[k][:, None]
        base = tab[n][1](P[None])[0]
        dm = tab[n][1]((P + D)[None])[0] - base
        want = ranges[k, 1] - ranges[k, 0]
        if abs(dm) > 1e-6 and np.sign(dm) == np.sign(want):
            D = D * np.clip(want / dm, 0.2, 5.0)
        out[k] = D
    return out


#: regression stages of the basis: earlier coefficients explain the shapes first, later ones
#: only what is left (so correlated secondary measures cannot take over jawOpen's motion)
BASIS_STAGES = (
    ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"),
    (
        "mouthSmileLeft",
        "mouthSmileRight",
        "mouthPucker",
        "mouthFunnel",
        "browInnerUp",
        "browDownLeft",
        "browDownRight",
        "browOuterUpLeft",
        "browOuterUpRight",
        "eyeWideLeft",
        "eyeWideRight",
        "eyeSquintLeft",
        "eyeSquintRight",
        "jawLeft",
        "jawRight",
        "mouthLeft",
        "mouthRight",
        "mouthFrownLeft",
        "mouthFrownRight",
        "mouthStretchLeft",
        "mouthStretchRight",
    ),
)


def _stages(names):
    done, out = set(), []
    for st in BASIS_STAGES:
        ks = [i for i, n in enumerate(names) if n in st]
        if ks:
            out.append(ks)
            done.update(ks)
    rest = [i for i in range(len(names)) if i not in done]
    if rest:
        out.append(rest)
    return out


_GROUP_CACHE = {}


def _vertex_groups(masks, names):
    """Per stage: (coefficient indices, [(active subset, vertices, flat columns), ...])."""
    key = (masks.tobytes(), names)
    if key not in _GROUP_CACHE:
        out = []
        for ks in _stages(names):
            ks = np.asarray(ks)
            sig = {}
            for v in range(N_VERTS):
                sig.setdefault(masks[ks, v].tobytes(), []).append(v)
            groups = []
            for k, verts in sig.items():
                act = np.flatnonzero(np.frombuffer(k, bool))
                if len(act):
                    verts = np.asarray(verts)
                    groups.append((act, verts, (verts[:, None] * 3 + np.arange(3)).ravel()))
            out.append((ks, groups))
        if len(_GROUP_CACHE) > 8:
            _GROUP_CACHE.clear()
        _GROUP_CACHE[key] = out
    return _GROUP_CACHE[key]


def _jaw_sideways():
    """Vertices whose sideways motion under jawOpen is the template's (:data:`JAW_SIDEWAYS_FROM_TEMPLATE`)."""
    topo = load_topology()
    return np.unique(np.concatenate([np.asarray(topo.group(g), np.int64) for g in JAW_SIDEWAYS_FROM_TEMPLATE]))


def regress_basis(A, C, masks, ridge=RIDGE, names=EXPRESSION_NAMES, prior_basis=None):
    """identity (468,3), basis (K,468,3) with A ~ identity + C @ basis (staged masked ridge).

    The coefficients are regressed in :data:`BASIS_STAGES` order, each stage on what the
    previous ones left. Within a stage, vertices are grouped by the set of coefficients allowed
    to move them (``masks`` (K, 468)); each group is one ridge regression on centred data,
    shrunk toward ``prior_basis`` (the generic templates; zero if None) with weight
    ``ridge[stage] * T`` (:data:`RIDGE_OF` for the coefficients named there). The identity is
    the intercept: the shape at all-zero coefficients.
    Computed from the moments (:class:`BasisMoments`), which the fit accumulates a chunk of
    frames at a time on long clips.
    """
    m = BasisMoments(C, A.reshape(len(C), N_VERTS, 3).mean(0))
    m.add(A, C, np.ones(len(C), bool))
    return m.regress(masks, ridge, names, prior_basis)


class BasisMoments:
    """The sufficient statistics of :func:`regress_basis`, accumulated over chunks of frames.

    ``C`` (T, K): the coefficients of every frame used (small, known before the shapes are
    streamed); ``Y0`` (468, 3): a shape near the clip's mean (the data is centred on it first,
    for accuracy). ``add(A, C, use)`` takes a chunk of shapes A (n, 468, 3), its coefficients
    and which of its frames to use. The result equals the whole-clip regression up to the
    order of floating-point sums.
    """

    def __init__(self, C, Y0):
        self.Cm = C.mean(0)
        Cc = C - self.Cm
        self.CC = Cc.T @ Cc  # (K, K)
        self.T = len(C)
        self.Y0 = np.asarray(Y0, np.float64).reshape(1, -1)
        self.CY = np.zeros((C.shape[1], self.Y0.shape[1]))  # sum of Cc^T (Y - Y0)
        self.Ysum = np.zeros(self.Y0.shape[1])  # sum of (Y - Y0)
        self.Csum = np.zeros(C.shape[1])  # sum of Cc (zero up to rounding)
        self.n = 0

    def add(self, A, C, use):
        if not use.any():
            return
        Y = A[use].reshape(int(use.sum()), -1) - self.Y0
        Cc = C[use] - self.Cm
        self.CY += Cc.T @ Y
        self.Ysum += Y.sum(0)
        self.Csum += Cc.sum(0)
        self.n += len(Y)

    def regress(self, masks, ridge=RIDGE, names=EXPRESSION_NAMES, prior_basis=None):
        if self.n != self.T:
            raise ValueError("BasisMoments: {} frames of shapes for {} coefficient rows".format(self.n, self.T))
        T, K = self.T, len(self.Cm)
        Ym = self.Y0[0] + self.Ysum / T
        # Cc^T (Y - Ym) from the sums around Y0
        CY = self.CY - np.outer(self.Csum, Ym - self.Y0[0])
        B = np.zeros((K, N_VERTS, 3))
        Bflat = B.reshape(K, -1)
        B0 = np.zeros((K, N_VERTS * 3)) if prior_basis is None else np.asarray(prior_basis).reshape(K, -1)
        ridges = np.broadcast_to(np.asarray(ridge, np.float64), (3,))
        labels = [str(n) for n in names]
        jaw = labels.index("jawOpen") if "jawOpen" in labels else -1
        for si, (ks, groups) in enumerate(_vertex_groups(masks, tuple(names))):
            alpha = T * np.array([RIDGE_OF.get(str(names[k]), ridges[min(si, 2)]) for k in ks])
            G = self.CC[np.ix_(ks, ks)]
            for act, verts, cols in groups:
                Ga = G[np.ix_(act, act)] + np.diag(alpha[act])
                rhs = CY[np.ix_(ks[act], cols)] + alpha[act, None] * B0[np.ix_(ks[act], cols)]
                sol = np.linalg.solve(Ga, rhs)  # (len(act), 3 * len(verts))
                B[np.ix_(ks[act], verts)] = sol.reshape(len(act), len(verts), 3)
            if jaw in ks:  # (before the residual)
                side = _jaw_sideways()
                B[jaw, side, 0] = B0.reshape(K, N_VERTS, 3)[jaw, side, 0]
            # what this stage explains leaves the data: Cc^T (Yc - Cc[:, ks] B[ks])
            CY = CY - self.CC[:, ks] @ Bflat[ks]
        identity = Ym.reshape(N_VERTS, 3) - np.einsum("k,kni->ni", self.Cm, B)
        return identity, B
