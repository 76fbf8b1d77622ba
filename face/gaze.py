# SPDX-License-Identifier: GPL-3.0-or-later
"""Gaze: the eyeball model, gaze angles <-> directions, iris points of a gaze, and gaze from the
tracked iris centres."""

import numpy as np

from .topology import EYE_LEFT_INNER, EYE_LEFT_OUTER, EYE_RIGHT_INNER, EYE_RIGHT_OUTER


#: eyeball model (cm): the iris centre lies on a sphere of this radius around the eye's centre of
#: rotation, which sits EYEBALL_BEHIND_CORNERS behind the midpoint of the eye corners (so the
#: iris looking straight ahead is 0.6 cm in front of the corners, as the tracker's depth says)
IRIS_SPHERE_RADIUS = 1.25


EYEBALL_BEHIND_CORNERS = 0.65


#: gaze angles are clipped to the eye's range of motion (radians, about 50 degrees)
GAZE_LIMIT = 0.87


def eyeball_centres(identity):
    """(2, 3) eyeball centres (actor's left, actor's right) in the model frame, cm."""
    idt = np.asarray(identity, np.float64)
    left = 0.5 * (idt[EYE_LEFT_OUTER] + idt[EYE_LEFT_INNER])
    right = 0.5 * (idt[EYE_RIGHT_OUTER] + idt[EYE_RIGHT_INNER])
    back = np.array([0.0, 0.0, EYEBALL_BEHIND_CORNERS])
    return np.stack([left - back, right - back])


def gaze_to_directions(gaze):
    """(T, 4) gaze angles -> (T, 2, 3) unit directions (left eye, right eye), model frame."""
    g = np.asarray(gaze, np.float64).reshape(-1, 2, 2)
    yaw, pitch = g[..., 0], g[..., 1]
    return np.stack([np.cos(pitch) * np.sin(yaw), np.sin(pitch), np.cos(pitch) * np.cos(yaw)], -1)


def iris_points(identity, gaze):
    """(T, 2, 3) iris centres (left eye, right eye) in the model frame for gaze (T, 4)."""
    return eyeball_centres(identity)[None] + IRIS_SPHERE_RADIUS * gaze_to_directions(gaze)


def gaze_from_iris(iris_px, identity, R, t, cam):
    """Gaze (T, 4) = (left yaw, left pitch, right yaw, right pitch) radians, head frame.

    iris_px (T, 2, 2): pixel centres of the actor's left (473) and right (468) iris. Each
    camera ray through an iris centre is intersected with that eye's iris sphere (centre
    :func:`eyeball_centres`, radius ``IRIS_SPHERE_RADIUS``; the nearest point of the ray when
    it misses); the direction from the eyeball centre to that point, rotated into the model
    frame, is the gaze: yaw = atan2(d_x, d_z) (positive toward +x, the actor's left), pitch =
    atan2(d_y, hypot(d_x, d_z)) (positive up). Looking straight ahead (along the face's +z)
    is (0, 0). Angles are clipped to +-``GAZE_LIMIT``; while an eye is closed (blink > 0.5)
    its iris position, and so its gaze, is unreliable.
    """
    f, (cx, cy) = float(cam.focal_px), cam.principal
    ctr = np.einsum("tij,ej->tei", R, eyeball_centres(identity)) + t[:, None]  # (T,2,3)
    ray = np.stack([(iris_px[..., 0] - cx) / f, (iris_px[..., 1] - cy) / f, np.ones(iris_px.shape[:2])], -1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    tc = (ray * ctr).sum(-1)  # distance along the ray to the closest point to the centre
    d2 = (ctr**2).sum(-1) - tc**2
    r2 = IRIS_SPHERE_RADIUS**2
    th = np.sqrt(np.clip(r2 - d2, 0.0, None))
    p = ray * (tc - th)[..., None]  # near intersection (or closest point)
    v = p - ctr
    v /= np.linalg.norm(v, axis=-1, keepdims=True) + 1e-12
    vm = np.einsum("tji,tej->tei", R, v)  # into the model frame
    yaw = np.clip(np.arctan2(vm[..., 0], vm[..., 2]), -GAZE_LIMIT, GAZE_LIMIT)
    pitch = np.clip(np.arctan2(vm[..., 1], np.hypot(vm[..., 0], vm[..., 2])), -GAZE_LIMIT, GAZE_LIMIT)
    return np.stack([yaw[:, 0], pitch[:, 0], yaw[:, 1], pitch[:, 1]], 1)
