# SPDX-License-Identifier: GPL-3.0-or-later
"""The key of a render's pictures (imports bpy through the actor's data): what Render
Performance records on its result strip and Render Edited Actors compares to leave an up-to-date
shot alone (blender/operators/render.py)."""

import os

from . import actor as actor_data

#: the key of the render a result strip shows (:func:`render_key`)
RENDER_KEY = "reenact_render_key"
#: the options of Render Performance that its result strip's render was made with, which Render
#: Edited Actors renders it again with (before 2026-12-06 with the defaults: a shot a compositor
#: had rendered with Mouth Renderer or without Footage Detail was rendered again otherwise)
RENDER_OPTIONS = "reenact_render_options"
CARRIED_OPTIONS = ("mouth", "detail", "keep_front", "use_reference", "reference_first", "reference_last", "job_id")


def _footage_key(source, legacy=False):
    """The name, size and modification time (whole seconds, as a move, `cp -a`, rsync -t and other
    file systems keep it; a plain copy gives new times, and another key; ``legacy``: to the
    nanosecond, as keys were made before 2026-12-06) of every file of a
    strip's footage (or of the file or files ``source``): a frame or a whole plate written over in
    place (the same sizes) is another key."""
    files = actor_data.strip_source(source) if hasattr(source, "type") else source
    out = []
    for f in ([files] if isinstance(files, (str, os.PathLike)) else files):
        try:
            st = os.stat(f)
            out.append((os.path.basename(f), st.st_size, st.st_mtime_ns if legacy else int(st.st_mtime)))
        except (OSError, TypeError):
            out.append((str(f), None))
    return out


def _model_id(path):
    """A renderer file by its name and contents (a digest, kept per file version), not its
    folder: the bundled base lies in each Blender version's own extensions folder, and a project
    moved or copied keeps its own renderers' results up to date (before 2026-12-06 the absolute
    path and the time to the nanosecond: Render Edited Actors rendered every shot again)."""
    from ..render.cache import file_digest

    try:
        return (os.path.basename(path), file_digest(path)[:16])
    except (OSError, TypeError):
        return (str(path), None)


def _digest(array):
    import hashlib

    import numpy as np

    return None if array is None else hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


#: the outputs a farm chunk (always frames) records the key of, each with and without Lossless: Assemble Render
#: keys its result by the one it makes (:func:`render_keys`)
OUTPUTS = ("IMAGES", "MOVIE", "PRORES")
#: the name in a chunk's recorded options under which those keys lie (taken out before the result keeps them)
OUTPUT_KEYS = "output_keys"


def output_tag(output, lossless):
    """The name of an output and its Lossless option among a chunk's :data:`OUTPUT_KEYS`."""
    return "{}{}".format(output, "/lossless" if lossless else "")


def render_key(op, strip, frames, actors, legacy=False):
    """A digest of what decides a render's pictures: each actor's performance, footage Track,
    renderer file, dubbing actor and Draw From Frames (the actors in their strip's order:
    :func:`_strip_actors`), the shot's footage, the frames and the options (Render Edited Actors
    leaves a shot whose result strip shows a render of the same key alone). ``legacy``: the key
    as it was made before 2026-12-06 (renderer by path, times to the nanosecond), which a result
    of then still matches where nothing moved."""
    return render_keys(op, strip, frames, actors, [(op.output, op.lossless)], legacy)[output_tag(op.output, op.lossless)]


def render_keys(op, strip, frames, actors, outputs, legacy=False):
    """:func:`render_key` for each (output, lossless) of ``outputs`` in place of ``op``'s own, by
    :func:`output_tag`: what a farm chunk, which writes frames, records for the movie Assemble Render
    may make of them (before 2026-12-06 19:22 UTC its movie was keyed as frames, and Render Edited
    Actors with Output Movie rendered the farm's shot again)."""
    import hashlib

    from ..render.cache import performance_digest

    # (Footage Detail draws nothing in region head, whose detail is the moved frame itself: no new
    # take for it; before 2026-12-06 one the same as the last)
    parts = [_footage_key(strip, legacy), list(frames), op.region, op.mouth, op.detail if op.region != "head" else None,
             op.keep_front,
             op.output, op.lossless, op.use_reference and (op.reference_first, op.reference_last), op.job_id]
    from ..render.renderer import model_path

    for a in actors:
        model = model_path(a["model"])  # (the bundled base's file when the actor has none of its own)
        if legacy:
            st = os.stat(model) if model and os.path.isfile(model) else None
            which = [str(model), st and (st.st_size, st.st_mtime_ns)]
        else:
            which = [_model_id(model), None]
        drv = a.get("mouth_from")
        parts += [performance_digest(a["track"]), performance_digest(a["crop_track"]), *which,
                  _digest(getattr(a["track"], "performance_frame", None)),
                  drv and (_footage_key(drv[1], legacy), performance_digest(drv[0]))]
        if len(actors) > 1 and a.get("reference_frames") is not None:  # (whose: the active actor's)
            parts.append(("reference", list(a["reference_frames"])))
    keys = {}
    for output, lossless in outputs:
        parts[6:8] = [output, lossless]
        keys[output_tag(output, lossless)] = hashlib.sha256(repr(parts).encode()).hexdigest()[:16]
    return keys
