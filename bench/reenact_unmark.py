# SPDX-License-Identifier: GPL-3.0-or-later
"""The render's frames with the watermark taken out again, for the reenactment bench's flicker
figures (docs/reenact-bench.md, *The mark in the flicker figures*).

Every frame ``reenact render`` synthesises carries the watermark (docs/provenance.md): a pattern
fixed to the frame, scaled by the frame's own local contrast and kept off the performance's lips.
Where the face moves across the frame, the face slides under that pattern and the motion-
compensated warping error the bench reads as flicker counts the pattern twice (d12 -> d14's moved
head: 2.2x the driver's own face with it, 1.05x without). The bench reports both: what is delivered,
and the drawing alone, so that a change to the renderer is not hidden by the mark or credited to
it. The command line has no unmarked render (nothing synthesised leaves Reenact unmarked), so the
mark is computed again from the marked frame (its masking gain read from the marked frame instead
of the unmarked one) and subtracted: on d12 -> d14's moved head this leaves 0.4 levels RMS of the
2.4 the mark adds, and reads the face flicker within a few per cent of a render made without it.
"""

import numpy as np


def without_mark(frames, track, job_id):
    """``frames`` ({clip frame index: BGR uint8 frame} of a render) with the render path's mark
    (:func:`reenact.render.marking.mark_performance` of ``job_id``, kept off the lips of
    ``track``'s mesh, the Track the render drew) subtracted: a new dict. Frames ``track`` has no
    row for are returned as they are."""
    from reenact.provenance.watermark import make_payload
    from reenact.render.marking import mark_performance, row_points

    from reenact.video.bars import picture_area

    payload = make_payload(int(str(job_id), 16))
    f0, n = int(track.frame_start), int(track.n_frames)
    keys = sorted(frames)
    # the render keeps its mark out of the footage's bars (as the render path finds them)
    area = picture_area(np.stack([frames[k] for k in keys[::max(1, len(keys) // 9)]])) if keys else None
    out = {}
    for i, f in frames.items():
        r = int(i) - f0
        if not 0 <= r < n:
            out[i] = f
            continue
        rgb = np.ascontiguousarray(f[..., ::-1])
        again = mark_performance(rgb, int(i), payload, row_points(track, r), area).astype(np.int16)
        est = 2 * rgb.astype(np.int16) - again  # marked - (the mark added once more)
        out[i] = np.ascontiguousarray(np.clip(est, 0, 255).astype(np.uint8)[..., ::-1])
    return out


def flicker_figures(name, orig, res, rows, L, L_result=None, lower=True, driver=None, track=None, job_id=None):
    """The bench's flicker figures of a render (:func:`~bench.reenact_measures.lower_face_flicker`)
    as JSON entries: ``name`` and ``name + "_vs_driver"`` as delivered, and the same two with
    ``_unmarked`` before the suffix for the frames :func:`without_mark` (when ``job_id``, the
    render's summary's, and ``track``, the Track it drew, are given)."""
    from .reenact_measures import flicker_yardsticks, lower_face_flicker

    ys = flicker_yardsticks(orig, rows, L, lower, driver)  # (once for both)
    out = dict(zip((name, name + "_vs_driver"), lower_face_flicker(orig, res, rows, L, L_result, lower, driver, ys)))
    if job_id and track is not None:
        out.update(zip((name + "_unmarked", name + "_unmarked_vs_driver"), lower_face_flicker(
            orig, without_mark(res, track, job_id), rows, L, L_result, lower, driver, ys)))
    return out
