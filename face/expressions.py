# SPDX-License-Identifier: GPL-3.0-or-later
"""Named expression coefficients (ARKit-style blendshape names) and their groups.

Every coefficient is 0 at the actor's rest and 1 at the actor's strongest observed (or an
anatomically plausible) extent; see :mod:`reenact.face.fit` for how each is measured.

Left/Right in a name are the **actor's own** left and right, as in ARKit: ``eyeBlinkLeft``
closes the actor's left eye, which appears on the *right* of the image when the actor faces
the camera; in the model frame the actor's left is +x. MediaPipe uses the same convention
(``FACEMESH_LEFT_EYE`` holds 263/362).

The eight ``eyeLook*`` blendshapes of ARKit are not coefficients here: gaze is a separate
per-frame yaw/pitch pair per eye (``Track.gaze``). ``tongueOut`` is not observable in the
landmarks and is left out.
"""

EXPRESSION_NAMES = (
    # jaw
    "jawOpen",
    "jawForward",
    "jawLeft",
    "jawRight",
    # mouth
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "cheekPuff",
    # eyes
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    # brows
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    # cheeks and nose (upper-face muscles that move with smiles and sneers)
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
)

#: jaw*, mouth* and cheekPuff: what visual dubbing ("mouth" transfer) moves.
MOUTH_GROUP = tuple(n for n in EXPRESSION_NAMES if n.startswith(("jaw", "mouth")) or n == "cheekPuff")
#: eye* (blinks, squints, widening; gaze is separate).
EYES = tuple(n for n in EXPRESSION_NAMES if n.startswith("eye"))
#: brow*.
BROWS = tuple(n for n in EXPRESSION_NAMES if n.startswith("brow"))
#: cheekSquint*, noseSneer*.
CHEEKS_NOSE = tuple(n for n in EXPRESSION_NAMES if n.startswith(("cheekSquint", "noseSneer")))

GROUPS = {"mouth": MOUTH_GROUP, "eyes": EYES, "brows": BROWS, "cheeks_nose": CHEEKS_NOSE}


def group_of(name):
    """'mouth', 'eyes', 'brows' or 'cheeks_nose' for an expression name (KeyError if unknown)."""
    for g, names in GROUPS.items():
        if name in names:
            return g
    raise KeyError(name)


def mirror_name(name):
    """The name with Left and Right swapped (jawLeft -> jawRight); unchanged if unsided."""
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


def side_of(name):
    """+1 for the actor's left, -1 for the actor's right, 0 for unsided names."""
    return 1 if name.endswith("Left") else -1 if name.endswith("Right") else 0


assert sum(len(v) for v in GROUPS.values()) == len(EXPRESSION_NAMES) == len(set(EXPRESSION_NAMES))
