# SPDX-License-Identifier: GPL-3.0-or-later
"""Where restyling in Blender keeps its files: Train Restyle's model and checkpoint names
(``//reenact/models/<.blend>/...``), Restyle Strip's result names, and the folders a refused
job must not leave behind. Used by blender/operators/restyle.py."""

import hashlib
import os

import bpy

from . import actor as actor_data
from . import blend, shots


def made_folders(folder):
    """Make ``folder`` and the folders above it that are missing; returns those made, deepest first."""
    made, f = [], os.path.abspath(folder)
    while f and not os.path.isdir(f) and os.path.dirname(f) != f:
        made.append(f)
        f = os.path.dirname(f)
    os.makedirs(folder, exist_ok=True)
    return made


def remove_empty(folders):
    """Remove those of ``folders`` (deepest first) that are empty."""
    for f in folders:
        try:
            os.rmdir(f)
        except OSError:
            pass


def _model_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def shot_name(strip):
    """The name a restyle of ``strip`` goes by: its shot's first name among its pieces ('shot',
    not 'shot.001': restyled again from any piece, the same results get the new take; before
    2026-12-06 a second set was stacked over the compositor's)."""
    return min((p.name for p in shots.pieces(strip)), key=lambda n: (len(n), n))


def model_identity(path):
    """What tells restyle models apart for Restyle Strip (one result strip per shot and model):
    the model's file name with the name of the folder it lies in (``projA/look.onnx``), the same on
    every machine that opens the project (a farm's). Before 2026-12-06 the file's stem alone, so
    ``projA/look.onnx`` and ``projB/look.onnx`` counted as one model: the second one's result
    replaced the first one's as a take of it."""
    full = os.path.normpath(os.path.abspath(path))
    return os.path.basename(os.path.dirname(full)) + "/" + os.path.basename(full)


def result_name(strip, model):
    """``<shot>_<model>`` (:func:`tag` of each), the name of Restyle Strip's results of ``strip``
    with the model file ``model`` in ``//reenact/restyle/<.blend>/``, with a digest of
    :func:`model_identity` added for a model that is not one of this .blend's own (in its
    ``//reenact/models/<.blend>/``, whose names are its own), so that two models of one name in
    other folders keep their results apart (before 2026-12-06 both wrote ``<shot>_<model>``)."""
    name = "{}_{}".format(tag(shot_name(strip)), tag(_model_name(model)))
    folder = os.path.dirname(os.path.normpath(os.path.abspath(model)))
    if os.path.basename(folder) != blend_tag() or os.path.basename(os.path.dirname(folder)) != "models":
        name += "-" + hashlib.sha1(model_identity(model).encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return name


tag = blend.tag  # (the one naming of the .blend, its shots and models: blender/blend.py)


def blend_tag(path=None):
    """The .blend's name (``path``'s, else the open file's) as its restyle models' and results'
    folder name (:func:`blend.own_name`: :func:`tag`, and a plain name beside one that cleaned
    alike with a digest)."""
    if not (path or bpy.data.filepath):
        return tag("")
    return blend.own_name(path)


#: the image of Train Restyle's preview (the sidebar shows it)
PREVIEW_IMAGE = "Reenact Restyle Preview"
#: an unsaved .blend's scene: the name of its restyle models' folder in the extension's user
#: folder (``unsaved_restyle_<id>``), which the first save moves into the project (blender/saving.py)
UNSAVED_PROP = "reenact_unsaved_restyle"


def unsaved_folder_name(key):
    return "unsaved_restyle_" + str(key)


def models_folder(scene):
    """Where ``scene``'s restyle models go: ``//reenact/models/<.blend name>`` of the saved .blend,
    else a folder of the scene's own in the extension's user folder (or this session's temporary
    folder), which the first save moves into the project (before 2026-12-06 one for every unsaved
    file, ``actor``, left there by the save: the scene's model pointed outside the project and the
    next Train started from step 0). Not made (the user folder's parent is)."""
    if bpy.data.filepath:
        return os.path.join(bpy.path.abspath("//"), "reenact", "models", blend_tag())
    if not scene.get(UNSAVED_PROP):
        import uuid

        scene[UNSAVED_PROP] = uuid.uuid4().hex[:12]
    return os.path.join(blend.data_folder("models"), unsaved_folder_name(scene[UNSAVED_PROP]))


def _model_stem(strip, kind, refs, scene=True, digest=True, clean=tag):
    name = "{}_{}_like_{}".format(clean(strip.name), kind, clean(refs[0].name))
    if len(refs) > 1:  # (which others: before 2026-12-06 [A, B] and [A, C] shared 'like_A+1', and the
        # second look trained over the first one's model and result)
        name += "+{}".format(len(refs) - 1)
        if digest:
            others = "\n".join(sorted(r.name for r in refs[1:]))
            name += "-" + hashlib.sha1(others.encode("utf-8")).hexdigest()[:6]
    if scene:
        name += "_in_" + clean(strip.id_data.name)
    return name


def model_path(strip, kind, refs):
    """``//reenact/models/<.blend name>/<shot>_<kind>_like_<first reference>[+N-<digest of the
    others>]_in_<scene>.onnx``: each .blend, each scene and each choice of reference footage its
    own model (and checkpoint, and Restyle Strip's result folder, which is named after the model):
    before 2026-12-05 one per shot strip, so a second look trained over the first one's model, and
    a version of the .blend saved beside it over the other's; before 2026-12-06 two scenes whose
    strips share names (Full Copy keeps them) shared one, and scene B's training set A's aside.
    Each name by :func:`tag` (before 2026-12-06 cleaned alone: '山' and '川' shared one).
    Makes no folder (:func:`_start` does, once the job is not refused)."""
    return os.path.join(models_folder(strip.id_data), _model_stem(strip, kind, refs) + ".onnx")


def _legacy_stems(strip, kind, refs):
    """The names an earlier Reenact gave this look's files, newest first: cleaned without a digest
    (before 2026-12-06), without the scene (before 2026-12-06), with several references without
    the digest of the others (before 2026-12-06); each named after the first reference by name,
    and (before 2026-12-06) by channel as they lie now."""
    names = []
    by_channel = sorted(refs, key=lambda s: (s.channel, s.frame_final_start, s.name))
    for order in (refs, by_channel):
        names += [_model_stem(strip, kind, order, clean=actor_data._safe),
                  _model_stem(strip, kind, order, scene=False, clean=actor_data._safe)]
        if len(refs) > 1:
            names.append(_model_stem(strip, kind, order, scene=False, digest=False, clean=actor_data._safe))
    return list(dict.fromkeys(names))


def legacy_checkpoints(out, strip, kind, refs):
    """The checkpoints an earlier Reenact kept for ``out``'s model, newest naming first, other
    than ``out``'s own (:func:`_legacy_stems`, in the folder named as the .blend's name cleaned
    alone)."""
    if blend.named_alike():  # (that folder may be another .blend's: its checkpoints are not this one's)
        return []
    folder = os.path.join(os.path.dirname(os.path.dirname(out)), blend.legacy_blend_name())
    return _unique_others(out, [os.path.join(folder, n + ".ckpt.pt") for n in _legacy_stems(strip, kind, refs)])


def _unique_others(out, paths):
    own = os.path.normcase(os.path.abspath(os.path.splitext(out)[0] + ".ckpt.pt"))
    seen, found = {own}, []
    for p in paths:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            found.append(p)
    return found


#: a scene's record of the restyle models folders of the .blend files it was saved from (Save As:
#: blender/saving.py), JSON, oldest first, relative to the .blend where they lie beside it
SAVED_FROM_PROP = "reenact_restyle_saved_from"


def earlier_folders(scene):
    """The restyle models folders of the .blend files ``scene``'s file was saved from, newest first."""
    import json

    try:
        folders = json.loads(scene.get(SAVED_FROM_PROP) or "[]")
    except (TypeError, ValueError):
        return []
    return [bpy.path.abspath(str(f)) for f in reversed(folders)]


def resume_candidates(out, strip, kind, refs):
    """The checkpoints there are of ``out``'s training elsewhere, for the trainer's
    ``--resume-from``: under an earlier name (:func:`legacy_checkpoints`), and in the models
    folder of each .blend this one was saved from (Save As: :func:`earlier_folders`, newest
    first; before 2026-12-06 a version saved beside started from step 0 without a word). The
    trainer resumes the first that was trained on these very frames with these settings when
    ``out`` has no checkpoint of its own, and leaves them as they are (before 2026-12-06 an
    earlier name's was copied over, even one of another shot whose name cleaned alike, and then
    set aside as trained on other clips)."""
    names = [os.path.basename(os.path.splitext(out)[0])] + _legacy_stems(strip, kind, refs)
    earlier = [os.path.join(f, n + ".ckpt.pt") for f in earlier_folders(strip.id_data) for n in names]
    return [p for p in _unique_others(out, legacy_checkpoints(out, strip, kind, refs) + earlier) if os.path.isfile(p)]


class _nothing_left_when_refused:
    """Around Train Restyle's checks and start: when refused, what this call made in the .blend's
    ``//reenact`` is removed again: the numbered sequences of reference images it linked
    (``reenact.video.link_sequence``, watched while the checks run: a sequence it found there
    already is left), and the folders that were not there before, where empty; so that a refusal
    writes nothing. A sequence another session linked meanwhile for its own trainer is left
    (before the evening of 2026-12-06 every ``restyle_frames/seq_*`` that appeared during the
    checks, a torch import long, was deleted, and that session's trainer lost its frames)."""

    def __enter__(self):
        from .. import video

        self.root = os.path.join(bpy.path.abspath("//"), "reenact") if bpy.data.filepath else None
        self.before = self._seen()
        self.linked = []  # the sequence folders this call made
        self._video, self._link = video, video.link_sequence

        def link(files, folder, real=self._link):
            try:
                there = set(os.listdir(folder))
            except OSError:
                there = set()
            pattern, first = real(files, folder)
            made = os.path.dirname(pattern)
            if os.path.basename(made) not in there:
                self.linked.append(made)
            return pattern, first

        video.link_sequence = link  # (strip_spec's, for the length of the checks)
        return self

    def _seen(self):
        if self.root is None:
            return set()
        return {f for f in (os.path.join(self.root, kind) if kind else self.root
                            for kind in ("", "restyle_frames", "models", os.path.join("models", blend_tag())))
                if os.path.isdir(f)}

    def __exit__(self, kind, exc, tb):
        self._video.link_sequence = self._link
        if exc is None:
            return False
        import shutil

        for f in self.linked:
            shutil.rmtree(f, ignore_errors=True)
        remove_empty(sorted(self._seen() - self.before, key=len, reverse=True))  # (deepest first)
        return False
