# SPDX-License-Identifier: GPL-3.0-or-later
"""The actor mesh: topology, neutral mean shape, UVs, named landmark groups.

Loaded from ``models/face_topology.npz`` (built by ``tools/build_face_topology.py``; its
docstring lists every key). The mesh has the 468 vertices of the MediaPipe face mesh, in the
same order, so tracked landmark ``i`` is vertex ``i``. Iris points 468..477 are not vertices.

Model frame (right-handed, centimetres): x toward the viewer's right (= the actor's LEFT),
y up, z out of the face toward the viewer; origin on the mid-sagittal plane at the height of
the outer eye corners, 8 cm behind them (about the head's centre of rotation). Left/right
in names are the actor's own.
"""

import hashlib
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..paths import MODELS_DIR

N_VERTS = 468
N_LANDMARKS = 478
TOPOLOGY_PATH = os.path.join(MODELS_DIR, "face_topology.npz")

# Named MediaPipe landmarks (left/right = the actor's own).
EYE_RIGHT_OUTER, EYE_RIGHT_INNER = 33, 133
EYE_LEFT_OUTER, EYE_LEFT_INNER = 263, 362
IRIS_RIGHT = 468  # centre of the iris of the actor's right eye (image left in a frontal view)
IRIS_LEFT = 473  # centre of the iris of the actor's left eye
IRIS_RIGHT_RING = (469, 470, 471, 472)
IRIS_LEFT_RING = (474, 475, 476, 477)
LIP_UPPER_INNER, LIP_LOWER_INNER = 13, 14
LIP_UPPER_OUTER, LIP_LOWER_OUTER = 0, 17
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
NOSE_TIP, SUBNASALE = 1, 2
CHIN = 152


@dataclass(frozen=True)
class Topology:
    triangles: np.ndarray  # (F, 3) int32, counter-clockwise from the front
    mean_shape: np.ndarray  # (468, 3) cm, model frame
    uv: np.ndarray  # (468, 2) 0..1, origin bottom-left
    mirror: np.ndarray  # (468,) int32 left/right mirror vertex
    groups: dict = field(default_factory=dict)  # name -> int32 index array
    checksum: str = ""  # sha256 of the .npz file

    def group(self, name):
        return self.groups[name]


def file_checksum(path=TOPOLOGY_PATH):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=4)
def load_topology(path=TOPOLOGY_PATH):
    """The bundled :class:`Topology` (cached)."""
    with np.load(path, allow_pickle=False) as d:
        groups = {str(n): np.asarray(d["group_" + str(n)], np.int32) for n in d["group_names"]}
        for n in d["boundary_loops"]:
            groups[str(n)] = np.asarray(d[str(n)], np.int32)
        topo = Topology(
            triangles=np.asarray(d["triangles"], np.int32),
            mean_shape=np.asarray(d["mean_shape"], np.float64),
            uv=np.asarray(d["uv"], np.float64),
            mirror=np.asarray(d["mirror"], np.int32),
            groups=groups,
            checksum=file_checksum(path),
        )
    for a in (topo.triangles, topo.mean_shape, topo.uv, topo.mirror):
        a.setflags(write=False)
    return topo
