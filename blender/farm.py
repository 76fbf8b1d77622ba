# SPDX-License-Identifier: GPL-3.0-or-later
"""Render-farm glue on the Blender side (docs/farm.md): which actor a farm task means (the
command line over the bpy module is :mod:`reenact.blender.background`)."""

import os

import bpy

from . import actor as actor_data
from . import takes, timing

REGION_ITEMS = (
    ("mouth", "Mouth", "Paste back the mouth region only (visual dubbing): eyes, brows and head stay the footage's"),
    ("face", "Face", "Paste back the whole rendered face (the head stays where the footage has it)"),
    ("head", "Head", "Full reenactment: move the whole head (hair, ears, neck) to the performance's pose, "
                     "fill the background it uncovers from the shot, and render the face in it"),
)
OUTPUT_ITEMS = (
    ("IMAGES", "Image Sequence", "One PNG per frame (each frame is kept as soon as it is written); an OpenEXR or "
                                 "16-bit plate gets OpenEXR or 16-bit frames with only the change applied"),
    ("MOVIE", "Movie", "One movie file (H.264; lossless RGB with the Lossless option)"),
    ("PRORES", "ProRes Movie", "One .mov file in Apple ProRes 422 HQ (10-bit, every frame a key frame): what "
                               "editing systems conform from"),
)


def movie_path(stem, output, lossless):
    """The movie a render or restyle of Output ``output`` writes (``stem`` + its extension), or
    None for an image sequence."""
    if output == "IMAGES":
        return None
    return stem + (".mov" if output == "PRORES" else ".mkv" if lossless else ".mp4")


def output_path(stem, output, lossless, take=True):
    """The movie (:func:`movie_path`) or frame folder ``stem`` a render or restyle of Output
    ``output`` writes, as its next take (:func:`takes.next_take`); with ``take`` False the farm
    job's frame folder (:func:`farm_folder`: every chunk of the job writes it)."""
    movie = movie_path(stem, output, lossless)
    path = movie or stem
    if not take:
        return farm_folder(stem)
    out = takes.next_take(path, folder=movie is None)
    if movie is None:
        takes.pending(out)  # (claimed while the job runs: another session never takes it for free, takes.held_elsewhere)
    return out


def farm_folder(stem):
    """The frame folder a farm job's chunks write (``<stem>.farm``): beside the takes of the
    renders made in Blender, never one of them (before 2026-12-06 the chunks wrote ``<stem>``,
    the first take, over the frames a strip showed, and a render made in Blender meanwhile could
    write into the job's folder)."""
    return stem + ".farm"


def movie_codec(output):
    """The writer's codec for Output ``output`` (None: the default H.264 or lossless)."""
    return "prores" if output == "PRORES" else None


def named_actor(context, name=""):
    """The actor object called ``name`` (a farm task names it), else the active actor."""
    if not name:
        return actor_data.active_actor(context)
    ob = bpy.data.objects.get(name)
    if ob is None or not ob.reenact.is_actor:
        raise ValueError("no tracked actor called '{}' in {}".format(
            name, bpy.path.basename(bpy.data.filepath) or "this .blend"))
    return ob


def render_target(context, name=""):
    """(actor, scene, strip, render folder) of the actor ``name`` (else the active one); a
    retimed strip is refused (``timing.refuse_retimed``: Render Performance, Preview Frame and
    Assemble Render alike; before 2026-12-05 Assemble Render did not check)."""
    ob = named_actor(context, name)
    if ob is None:
        raise ValueError("no active tracked actor")
    scene, strip = actor_data.actor_strip(ob)
    timing.refuse_retimed(strip)
    return ob, scene, strip, actor_data.render_root()


def result_name(strip, ob, region):
    """"<strip> Reenact <Region>" (and the actor, when the strip has more than one: before
    2026-12-06 its first actor's result was named as a one-actor shot's): the one result strip of
    an actor and region (Render Performance and Assemble Render)."""
    name = "{} Reenact {}".format(strip.name, region.title())
    if ob is not None and (ob.reenact.actor_index or other_actors(ob, strip.id_data, strip)):
        name += " ({})".format(ob.name)
    return name


def other_actors(ob, scene, strip):
    """The tracked actors of ``strip`` besides ``ob``, in their tracking order (Every Actor of the
    Strip renders them with ``ob``; with none it renders ``ob`` alone, under its own name)."""
    return sorted((o for o in actor_data.actor_objects(scene) if o is not ob and o.reenact.strip_name == strip.name),
                  key=lambda o: o.reenact.actor_index)


def result_of(strip, ob, region, all_actors=False):
    """(file name stem, result strip name, strip key) of a render of actor ``ob`` of ``strip`` in
    ``region``, or of every actor of the strip together (Every Actor of the Strip): Render
    Performance and Assemble Render name the frame folder or movie and the one result strip
    alike. One per actor and region (``<actor>_<region>``), so that a face render kept for
    comparison is not written over by a mouth render (before 2026-12-05 one per actor). The key is
    (actor name, region, identity): the identity (the actor's strip id and index; the strip's id
    for every actor together) finds the result again after the actor or the strip was renamed
    (before 2026-12-06 a render after a rename made a second result strip beside the first)."""
    if all_actors:
        return (_stem("{} all actors {}".format(strip.name, region)),
                result_name(strip, None, region) + " (all actors)",
                ("*" + strip.name, region, "*" + (strip.get("reenact_id") or strip.name)))
    return (_stem("{} {}".format(ob.name, region)), result_name(strip, ob, region),
            (ob.name, region, actor_data.actor_key(ob) or ob.name))


def _stem(name):
    """``name`` cleaned for a file name, with a digest of it where it holds letters a file name
    loses ('张 mouth' and '李 mouth' both clean to 'mouth', 'Zoë' and 'Zoé' to 'Zo': before the
    review of the evening of 2026-12-06 two such actors shared one take and one farm folder, and
    Assemble Render of one added the other's frames). Plain names (A-Z) keep their stem as before."""
    import hashlib

    clean = actor_data._safe(name)
    if all(ord(c) < 128 for c in name):
        return clean
    return "{}-{}".format(clean, hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:6])


def _moved_take(folder, farm_job):
    """The take an earlier assembly of the job ``farm_job`` moved its frames ``folder``
    (``<stem>.farm``) to: a take of the stem holding that job's chunk markers (``farm_job`` None:
    the last take holding any job's, an assembly run again by hand after an undo); None."""
    from ..render.chunks import jobs_in

    stem = folder[:-len(".farm")] if folder.endswith(".farm") else folder
    held = [p for p in takes.takes_of(stem, folder=True) if (str(farm_job) in jobs_in(p) if farm_job else jobs_in(p))]
    held.sort(key=takes.take_number)
    return (held[0] if farm_job else held[-1]) if held else None


def stranded_take(folder, farm_job, out):
    """Main thread: for Assemble run by hand (no ``farm_job``) of frames (``out`` None) whose
    farm folder ``folder`` is gone, the take an earlier assembly moved them to when no strip shows
    it (its strip undone: :func:`assemble_job` assembles it again); None otherwise (a new job
    that has written nothing yet is not taken for the last one's)."""
    if farm_job or out is not None or os.path.isdir(folder):
        return None
    moved = _moved_take(folder, None)
    if moved is None or os.path.normcase(os.path.normpath(os.path.abspath(moved))) in takes.shown_paths():
        return None
    return moved


def assemble_job(folder, source, out, lossless, sign, progress, codec=None, fps=None, farm_job=None, take=None,
                 timeline=None, stranded=None):
    """Assemble Render's and Assemble Restyle's worker (no bpy): the movie ``out`` of the frame
    folder a farm job's chunks filled, or with ``out`` None the folder itself, checked complete
    and, by the chunks' markers, the job ``farm_job``'s (None: the newest job's;
    :func:`reenact.render.chunks.check_chunks`), then moved to ``take`` (a take of the result: the
    next farm job of the shot writes a folder of its own, not the frames this result shows;
    before 2026-12-06 it wrote over them). ``stranded``: the take of :func:`stranded_take` (an
    assembly by hand whose strip an undo took away)."""
    from ..render.assemble import assemble_movie
    from ..render.chunks import check_chunks
    from ..video import open_video
    from ..video.encode import FrameFolder

    # an image assembly, perhaps run again after its move (by the farm's job token, or by hand after
    # an undo took its strip away: before 2026-12-06 "no frames rendered here yet", the frames stranded)
    again = bool(farm_job and out is None and take)
    if not os.path.isdir(folder):
        moved = _moved_take(folder, farm_job) if again else stranded
        if moved is not None:
            folder, take = moved, None
    if not os.path.isdir(folder):
        raise ValueError("{}: no frames rendered here yet".format(folder))
    try:
        check_chunks(folder, farm_job or None, timeline)
    except ValueError:
        moved = _moved_take(folder, farm_job) if again else None
        if moved is None:
            raise
        folder, take = moved, None  # (a chunk re-run after the move made the folder again, with its frames only)
        check_chunks(folder, farm_job, timeline)
    if out is not None:
        return assemble_movie(folder, source, out, lossless=lossless, progress=progress,
                              sign_cert=sign[0], sign_key=sign[1], codec=codec, fps=fps)
    from ..video.bitdepth import plate_first

    with open_video(source) as src:
        n, first = len(src), plate_first(src)
    frames = FrameFolder(folder, n, first=first)
    missing = frames.missing()
    if missing:
        raise ValueError("{}: {} of the clip's {} frames are missing (first: {}): a chunk has not finished; "
                         "render it again".format(folder, len(missing), n, missing[0]))
    removed = frames.remove_temporaries()
    if take:
        import shutil

        if os.path.isdir(take):  # (the last take no strip shows: written over, as a render in Blender does)
            shutil.rmtree(take)
        os.replace(folder, take)
    return {"out": take or folder, "frames": n, "temporaries_removed": removed}
