# SPDX-License-Identifier: GPL-3.0-or-later
"""Saving a .blend makes its project folder self-contained: the Track files that Track Actor
wrote to the user folder while the file was unsaved move to ``//reenact/`` next to it, and the
renderers Train Renderer trained there (model, variants, weights, checkpoint, preview) to
``//reenact/models/<.blend name>/`` (since 2026-12-06: before, they stayed in the user or
temporary folder, and the actor's Renderer with them, outside the project), and so do the restyle
models and checkpoints Train Restyle wrote there, the scene's restyle model with them.

Copy, then switch, then remove: before the file is written (``save_pre``) each such Track is
copied next to the new .blend and the actor's path switched to the copy (``//reenact/<name>``,
so the saved file finds it wherever the folder goes); once the save succeeded (``save_post``)
the old file is removed. A copy that fails leaves that actor on its old, working path; a save
that fails (``save_post_fail``) or a "Save Copy" (the session keeps its own file) puts the old
paths back and keeps the old files. Nothing here raises into Blender's save.

Also the one handler that runs on every change (``depsgraph_update_post``): actors follow
their strips moved in time (blender/layers.py ``follow_moved_strips``), and result strips their
shot moved or trimmed (``shots.follow_shots``)."""

import os
import shutil

import bpy

from . import actor as actor_data
from . import blend, restyle_files, shots, shown, takes

_PENDING = []  # (actor name, old track_path, old absolute path, new absolute path, moved) of this save
#: what the last save could not do for the project (the Track panel shows them; a new save clears
#: them): before 2026-12-06 only printed to the console (a review of disk failures)
NOTES = []
_SAVED_FROM = []  # the .blend's path before this save ('' when it was unsaved)


def _note(text):
    """One line the Track panel shows until the next save (and the console)."""
    print("Reenact: " + text)
    NOTES.append(text)
_MADE = []  # the folder this save made, removed again when the save fails
_PATHS = []  # (datablock collection, name, attribute, old value) of the paths this save re-pointed
_MODELS = []  # (actor name, old model_path, old stem or None, [(old file, copy)]) of this save
_RESTYLE = []  # (old file, copy) of the restyle models an unsaved file's first save moved into the project
_IMAGES = []  # (image name, old filepath) of the restyle preview this save re-pointed
_PROPS = []  # (scene name, old value or None) of the scenes' record of earlier restyle models folders

#: an unsaved .blend's actor: the name of its models folder in the extension's user folder
UNSAVED_ID = "reenact_unsaved_models"
#: the name (no extension) of the actor's renderer files in its models folder, kept on the actor
#: from its first training on: one actor's alone in the .blend (Train Renderer's ``model_stem``)
MODEL_STEM = "reenact_model_stem"


def preview_image_name(stem):
    """The image of the training preview of the actor whose renderer files are named ``stem``:
    each actor its own (before 2026-12-06 one for all, and the sidebar showed actor A's preview
    on actor B)."""
    import hashlib

    name = "Reenact Training Preview: " + stem
    if len(name) > 60:  # (an image's name is cut at 63 characters: cut names must not meet)
        name = name[:48] + "~" + hashlib.sha1(stem.encode()).hexdigest()[:8]
    return name


def _norm(path):
    return os.path.normcase(os.path.realpath(path))


def _user_folders(kind):
    """Where an unsaved file's ``kind`` ("tracks", "models") go: ``blend.data_folder``'s fallbacks."""
    folders = [os.path.join(bpy.app.tempdir, "reenact", kind)]
    try:
        folders.append(bpy.utils.extension_path_user(blend.ADDON, path=kind, create=False))
    except (ValueError, AttributeError, TypeError):
        pass
    return [_norm(f) for f in folders if f]


def user_track_folders():
    """Where Track Actor writes the Tracks of an unsaved file (``blend.data_folder``'s fallbacks)."""
    return _user_folders("tracks")


def _inside(path, folders):
    folder = os.path.dirname(_norm(path))
    return any(folder == f for f in folders)


def _unique(folder, name):
    stem, ext = os.path.splitext(name)
    path, k = os.path.join(folder, name), 1
    while os.path.exists(path):
        path = os.path.join(folder, "{}_{}{}".format(stem, k, ext))
        k += 1
    return path


def _copy_into(old, dest, name, copied):
    """Copy the file ``old`` into ``dest`` (made if missing, and remembered to remove on a failed
    save) under an unused ``name``, whole or not at all; ``copied[old]`` = the copy's path."""
    if not os.path.isdir(dest):
        os.mkdir(dest)
        _MADE.append(dest)
    new = _unique(dest, name)
    tmp = new + ".copy.tmp"
    try:
        shutil.copyfile(old, tmp)
        os.replace(tmp, new)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    copied[old] = new
    return new


def move_tracks_before_save(filepath):
    """Copy the user-folder Tracks (and renderers: :func:`move_models`) next to ``filepath`` and
    point their actors at the copies."""
    _PENDING.clear()
    _MADE.clear()
    _PATHS.clear()
    _MODELS.clear()
    _RESTYLE.clear()
    _IMAGES.clear()
    _PROPS.clear()
    if not filepath:
        return
    folders = user_track_folders()
    dest = os.path.join(os.path.dirname(os.path.abspath(filepath)), "reenact")
    if not os.path.isdir(os.path.dirname(dest)):
        return  # Blender cannot write there either
    copied = {}  # one copy per file, shared by the actors that use it
    for ob in bpy.data.objects:
        if not actor_data.is_actor(ob) or not ob.reenact.track_path:
            continue
        old = bpy.path.abspath(ob.reenact.track_path)
        if not os.path.isfile(old) or not _inside(old, folders):
            continue
        try:
            new = copied.get(old) or _copy_into(old, dest, os.path.basename(old), copied)
        except OSError as exc:
            _note("the Track of '{}' stays at {}, outside the project folder: it could not be copied next to the "
                  ".blend ({})".format(ob.name, old, getattr(exc, "strerror", None) or exc))
            continue
        _PENDING.append((ob.name, ob.reenact.track_path, old, new, True))
        ob.reenact.track_path = "//reenact/" + os.path.basename(new)
    move_models(filepath, dest)
    move_restyle_models(filepath, dest)
    if bpy.data.filepath and _norm(bpy.data.filepath) != _norm(filepath):
        copy_tracks_for_new_name(filepath, dest, {p[0] for p in _PENDING})
        repoint_relative_paths(filepath)
        remember_restyle_folders(filepath)


def user_model_folders():
    """Where Train Renderer writes the renderers of an unsaved file (``blend.data_folder``'s
    fallbacks; each actor's in a folder of its own there)."""
    return _user_folders("models")


def _under(path, folders):
    p = _norm(path)
    return any(p.startswith(f + os.sep) for f in folders)


def _renderer_files(folder, stem):
    """The files of the renderer ``stem`` in ``folder``: ``<stem>.onnx`` and its ``.int8.onnx``,
    ``.fp16.onnx``, ``.pt`` weights, ``.ckpt.pt`` checkpoint (and one the trainer kept aside), the
    ``.trained_on.json`` of the checkpoint, and ``<stem>_preview.png``."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if (n.startswith(stem + ".") or n.startswith(stem + "_preview."))
                  and not n.endswith(".tmp") and os.path.isfile(os.path.join(folder, n)))


#: the renderer files Train Renderer runs write: (folder, stem) (:func:`training_key`), and the
#: folders Train Restyle runs write (stem ``*``), from the trainer's start until the run has ended
#: (blender/operators/train.py, restyle.py)
TRAINING = set()


def training_key(folder, stem):
    return _norm(folder), str(stem)


def left_unsaved(ob, folder):
    """The user-folder models folder of the actor ``ob`` of a saved file where its renderer files
    still lie (a save while it trained left them: :func:`move_models`), when its project models
    ``folder`` holds none of them: its next run trains on there, and the next save moves them."""
    stem = ob.get(MODEL_STEM) if ob is not None else None
    if not stem or not ob.get(UNSAVED_ID) or _renderer_files(folder, stem):
        return None
    for root in user_model_folders():
        old = os.path.join(root, "unsaved_" + str(ob[UNSAVED_ID]))
        if _renderer_files(old, stem):
            return old
    return None


def move_models(filepath, dest):
    """A first save: each actor's renderer files trained while the file was unsaved (in the user
    or temporary folder, :func:`user_model_folders`) copied into ``dest/models/<.blend name>``,
    its Renderer (``model_path``) pointed at the copy relative to the .blend; one stopped before its
    model was written moves its checkpoint, for the next run to resume. A name another actor's
    files have there already gets ``_2``... (the actor keeps the new name). The old files are
    removed once the save succeeded (:func:`on_save_post`), as the Tracks'. The files of a run
    still training (:data:`TRAINING`) stay where its trainer writes them, said, and the first save
    after the run moves them (before the evening of 2026-12-06 they were copied and the originals
    removed under the running trainer: its later steps and model stayed outside the project, and
    the next save copied them again under a ``_2`` name)."""
    roots = user_model_folders()
    folder = blend.own_folder(os.path.join(dest, "models"), filepath)
    done = {}  # (folder, stem) -> the new stem: one copy for the actors that share files
    for ob in bpy.data.objects:
        if not actor_data.is_actor(ob) or ob.library is not None:
            continue
        model, stem = ob.reenact.model_path, ob.get(MODEL_STEM)
        found = []  # (folder, stem) where this actor's files may lie
        if model and _under(bpy.path.abspath(model), roots):
            found.append((os.path.dirname(bpy.path.abspath(model)), os.path.basename(model).split(".")[0]))
        if stem and ob.get(UNSAVED_ID):  # (a run stopped before its model: its checkpoint)
            found += [(os.path.join(r, "unsaved_" + str(ob[UNSAVED_ID])), str(stem)) for r in roots]
        found = [(d, st) for d, st in found if (d, st) in done or _renderer_files(d, st)]
        if not found:
            continue
        if any(training_key(d, st) in TRAINING for d, st in found):
            _note("the renderer of '{}' stays in {} while it trains, outside the project folder: the first save after "
                  "the run moves it next to the .blend".format(ob.name, found[0][0]))
            continue
        old_dir, old_stem = found[0]
        try:
            new_stem = done.get((old_dir, old_stem)) or _copy_renderer(old_dir, old_stem, folder, ob)
        except OSError as exc:
            _note("the renderer of '{}' stays in {}, outside the project folder: it could not be copied next to "
                  "the .blend ({})".format(ob.name, old_dir, getattr(exc, "strerror", None) or exc))
            continue
        done[(old_dir, old_stem)] = new_stem
        _MODELS.append((ob.name, model, stem, [(os.path.join(old_dir, n), os.path.join(folder, new_stem + n[len(
            old_stem):])) for n in _renderer_files(old_dir, old_stem)]))
        if stem == old_stem or not stem:
            ob[MODEL_STEM] = new_stem
        if model and _under(bpy.path.abspath(model), roots):
            name = os.path.basename(model)
            ob.reenact.model_path = "//reenact/models/{}/{}{}".format(
                os.path.basename(folder), new_stem, name[len(old_stem):])


def _copy_renderer(old_dir, stem, folder, ob):
    """Copy the renderer files ``stem`` of ``old_dir`` into ``folder`` under a stem no other
    file there and no other actor has; returns that stem."""
    names = _renderer_files(old_dir, stem)
    claimed = {o.get(MODEL_STEM) for o in bpy.data.objects if o != ob and actor_data.is_actor(o)
               and o.get(MODEL_STEM) != stem}
    if not os.path.isdir(folder):
        made = [d for d in (os.path.dirname(os.path.dirname(folder)), os.path.dirname(folder), folder)
                if not os.path.isdir(d)]
        os.makedirs(folder)
        _MADE.extend(made)  # (removed again, the deepest first, when the save fails)
    new, k = stem, 2
    while new in claimed or any(os.path.exists(os.path.join(folder, new + n[len(stem):])) for n in names):
        new, k = "{}_{}".format(stem, k), k + 1
    copies = []
    try:
        for n in names:
            copy = os.path.join(folder, new + n[len(stem):])
            copies.append(copy)
            shutil.copyfile(os.path.join(old_dir, n), copy + ".copy.tmp")
            os.replace(copy + ".copy.tmp", copy)
    except OSError:  # (whole or not at all)
        for copy in copies:
            for f in (copy, copy + ".copy.tmp"):
                if os.path.exists(f):
                    os.remove(f)
        raise
    return new


def move_restyle_models(filepath, dest):
    """A first save: the restyle models, checkpoints and previews Train Restyle wrote while the
    file was unsaved (a folder per scene in the user or temporary folder:
    :func:`restyle_files.models_folder`) copied into ``dest/models/<.blend name>``, where Train
    Restyle looks for them once the file is saved, and each scene's restyle model (and the preview
    image) pointed at its copy relative to the .blend (before 2026-12-06 they stayed outside the
    project: the scene's model pointed into the temporary folder and the next Train started from
    step 0). A file of that name there already is left as it is, and this one where it was (said).
    The old files are removed once the save succeeded (:func:`on_save_post`). A folder Train Restyle
    writes now (:data:`TRAINING`) is left to the run, said, and moved by the first save after it."""
    folder = os.path.join(dest, "models", restyle_files.blend_tag(filepath))
    copied = {}
    for sc in bpy.data.scenes:
        key = sc.get(restyle_files.UNSAVED_PROP)
        if not key or sc.library is not None:
            continue
        for root in user_model_folders():
            old_dir = os.path.join(root, restyle_files.unsaved_folder_name(key))
            names = sorted(os.listdir(old_dir)) if os.path.isdir(old_dir) else []
            if names and training_key(old_dir, "*") in TRAINING:  # (Train Restyle writes there now)
                _note("the restyle models of scene '{}' stay in {} while Train Restyle runs, outside the project "
                      "folder: the first save after the run moves them next to the .blend".format(sc.name, old_dir))
                continue
            for n in names:
                old = os.path.join(old_dir, n)
                if old in copied or n.endswith(".tmp") or not os.path.isfile(old):
                    continue
                new = os.path.join(folder, n)
                if os.path.exists(new):
                    _note("the restyle file {} stays in {}, outside the project folder: {} has a file of that name"
                          .format(n, old_dir, folder))
                    continue
                try:
                    if not os.path.isdir(folder):
                        for d in (os.path.dirname(os.path.dirname(folder)), os.path.dirname(folder), folder):
                            if not os.path.isdir(d):
                                os.mkdir(d)
                                _MADE.append(d)
                    shutil.copyfile(old, new + ".copy.tmp")
                    os.replace(new + ".copy.tmp", new)
                except OSError as exc:
                    if os.path.exists(new + ".copy.tmp"):
                        os.remove(new + ".copy.tmp")
                    _note("the restyle file {} stays in {}, outside the project folder: it could not be copied next "
                          "to the .blend ({})".format(n, old_dir, getattr(exc, "strerror", None) or exc))
                    continue
                copied[old] = new
    _RESTYLE.extend(copied.items())
    by_path = {_norm(old): new for old, new in copied.items()}
    for sc in bpy.data.scenes:
        value = sc.reenact.restyle_model
        new = by_path.get(_norm(bpy.path.abspath(value))) if value else None
        if new is not None:
            _PATHS.append((bpy.data.scenes, sc.name, "restyle_model", value))
            sc.reenact.restyle_model = "//reenact/models/{}/{}".format(os.path.basename(folder), os.path.basename(new))
    img = bpy.data.images.get(restyle_files.PREVIEW_IMAGE)
    new = by_path.get(_norm(bpy.path.abspath(img.filepath))) if img is not None and img.filepath else None
    if new is not None:
        _IMAGES.append((img.name, img.filepath))
        img.filepath = "//reenact/models/{}/{}".format(os.path.basename(folder), os.path.basename(new))


def copy_tracks_for_new_name(filepath, dest, done):
    """Save As (a version beside, or elsewhere): each actor's Track copied under the new .blend's
    name, so that tracking again in the old file does not change the new one's actors (before
    2026-12-05 both read the one file). The old files stay: the old .blend still uses them."""
    stems, new_stem = (actor_data.blend_name(), blend.legacy_blend_name()), actor_data.blend_name(filepath)
    copied = {}
    for ob in bpy.data.objects:
        if not actor_data.is_actor(ob) or not ob.reenact.track_path or ob.name in done:
            continue
        old = actor_data.track_file(ob)
        if not os.path.isfile(old):
            continue
        base = os.path.basename(old)
        old_stem = next((st for st in stems if base.startswith(st + "_")), None)  # (a Track named either way)
        base = new_stem + base[len(old_stem):] if old_stem else new_stem + "_" + base
        try:
            new = copied.get(old) or _copy_into(old, dest, base, copied)
        except OSError as exc:
            print("Reenact: '{}' keeps reading its Track at {} ({})".format(ob.name, old, exc))
            continue
        _PENDING.append((ob.name, ob.reenact.track_path, old, new, False))
        ob.reenact.track_path = "//reenact/" + os.path.basename(new)


def repoint_relative_paths(filepath):
    """Save As into another folder: Reenact's own ``//`` paths (an actor's renderer and footage, a
    scene's restyle model) re-pointed from the new folder at the same files, as Blender's Remap
    Relative does for its own paths (before 2026-12-05 they pointed into the new folder, where
    nothing is: "renderer model not found")."""
    new_dir = os.path.dirname(os.path.abspath(filepath))
    if _norm(new_dir) == _norm(os.path.dirname(bpy.data.filepath)):
        return
    items = [(bpy.data.objects, ob.name, ob.reenact, attr) for ob in bpy.data.objects if actor_data.is_actor(ob)
             for attr in ("model_path", "source_path")]
    items += [(bpy.data.scenes, sc.name, sc.reenact, "restyle_model") for sc in bpy.data.scenes]
    for coll, name, owner, attr in items:
        value = getattr(owner, attr, "")
        if not value or not value.startswith("//"):
            continue
        target = bpy.path.abspath(value)
        try:
            rel = os.path.relpath(target, new_dir)
        except ValueError:  # (another drive on Windows: the absolute path)
            rel = None
        _PATHS.append((coll, name, attr, value))
        setattr(owner, attr, target if rel is None else "//" + rel.replace(os.sep, "/"))


def remember_restyle_folders(filepath):
    """Save As: each scene records the restyle models folder of the .blend it is saved from (and
    keeps those that one recorded), relative to the new .blend where they lie beside it, so that
    Train Restyle in the new file resumes a look trained in the earlier one
    (:func:`restyle_files.resume_candidates`; before 2026-12-06 it started from step 0 without a
    word, the earlier checkpoint left in the other folder)."""
    import json

    root = os.path.join(os.path.dirname(bpy.data.filepath), "reenact", "models")
    mine = [os.path.join(root, restyle_files.blend_tag())]
    if not blend.named_alike():  # (the earlier naming's too, where no other .blend here shares it)
        mine.append(os.path.join(root, blend.legacy_blend_name()))
    mine = [f for f in dict.fromkeys(mine) if os.path.isdir(f)]
    new_dir = os.path.dirname(os.path.abspath(filepath))
    for sc in bpy.data.scenes:
        folders = list(reversed(restyle_files.earlier_folders(sc))) + mine
        if sc.library is not None or not folders:
            continue
        kept = []
        for f in reversed(folders):  # (the newest of each, at most 8)
            if _norm(f) not in {_norm(k) for k in kept} and len(kept) < 8:
                kept.append(f)
        stored = []
        for f in reversed(kept):
            try:
                rel = os.path.relpath(f, new_dir)
            except ValueError:  # (another drive on Windows: the absolute path)
                rel = None
            stored.append(f if rel is None else "//" + rel.replace(os.sep, "/"))
        _PROPS.append((sc.name, sc.get(restyle_files.SAVED_FROM_PROP)))
        sc[restyle_files.SAVED_FROM_PROP] = json.dumps(stored)


def _restore(remove_copies):
    for name, old_value, old, new, _moved in _PENDING:
        ob = bpy.data.objects.get(name)
        if ob is not None:
            ob.reenact.track_path = old_value
    for name, model, stem, files in _MODELS:
        ob = bpy.data.objects.get(name)
        if ob is not None:
            ob.reenact.model_path = model
            if stem is None:
                ob.pop(MODEL_STEM, None)
            else:
                ob[MODEL_STEM] = stem
        for _old, new in files if remove_copies else ():
            if os.path.exists(new):
                os.remove(new)
    _MODELS.clear()
    for old, new in _RESTYLE if remove_copies else ():
        if os.path.exists(new):
            os.remove(new)
    _RESTYLE.clear()
    for name, value in _IMAGES:
        img = bpy.data.images.get(name)
        if img is not None:
            img.filepath = value
    _IMAGES.clear()
    for name, value in _PROPS:
        sc = bpy.data.scenes.get(name)
        if sc is not None and value is None:
            sc.pop(restyle_files.SAVED_FROM_PROP, None)
        elif sc is not None:
            sc[restyle_files.SAVED_FROM_PROP] = value
    _PROPS.clear()
    for coll, name, attr, value in _PATHS:
        idb = coll.get(name)
        if idb is not None:
            setattr(idb.reenact, attr, value)
    _PATHS.clear()
    if remove_copies:
        for new in {p[3] for p in _PENDING}:
            if os.path.exists(new):
                os.remove(new)
        for folder in reversed(_MADE):
            try:
                os.rmdir(folder)
            except OSError:
                pass
    _PENDING.clear()
    _MADE.clear()


@bpy.app.handlers.persistent
def on_save_pre(filepath, *args):
    NOTES.clear()
    _SAVED_FROM[:] = [bpy.data.filepath]  # (a Save As keeps the files the .blend it came from uses)
    try:
        move_tracks_before_save(filepath)
    except Exception as exc:  # never break a save
        print("Reenact: Tracks not moved next to the .blend: {}".format(exc))
        _restore(remove_copies=True)


@bpy.app.handlers.persistent
def on_save_post(filepath, *args):
    try:  # (which takes of other .blend files' renders this one shows: Delete Unused Takes there leaves them)
        takes.record_shown(filepath)
    except (OSError, ValueError) as exc:  # (a record it cannot write: the save itself is done, and said)
        _note("which renders of another .blend this file shows could not be recorded beside them ({}): Delete "
              "Unused Takes in that .blend may delete them".format(getattr(exc, "strerror", None) or exc))
    if not _PENDING and not _PATHS and not _MODELS and not _RESTYLE and not _IMAGES and not _PROPS:
        return
    if not bpy.data.filepath or _norm(bpy.data.filepath) != _norm(filepath):
        # "Save Copy": the copy holds the new paths; this session keeps using the old files
        _restore(remove_copies=False)
        return
    for old in {p[2] for p in _PENDING if p[4]}:  # (moved from the user folder; a Save As's old files stay)
        try:
            os.remove(old)
        except OSError:
            pass
    came_from = _SAVED_FROM[0] if _SAVED_FROM else ""
    # (the renderers moved from the user folder: removed by a first save or a save of the same file,
    # not by a Save As of a saved .blend, whose earlier version may still use them: a review)
    moved = [] if came_from and _norm(came_from) != _norm(filepath) else [f[0] for m in _MODELS for f in m[3]] + [
        old for old, _new in _RESTYLE]  # (an unsaved scene's restyle models: moved into the project)
    for old in set(moved):
        try:
            os.remove(old)
        except OSError:
            pass
    for folder in {os.path.dirname(f) for f in moved}:  # (an actor's own: empty now)
        try:
            os.rmdir(folder)
        except OSError:
            pass
    _MODELS.clear()
    _RESTYLE.clear()
    _IMAGES.clear()
    _PROPS.clear()
    _PENDING.clear()
    _MADE.clear()
    _PATHS.clear()


@bpy.app.handlers.persistent
def on_save_post_fail(filepath, *args):
    _restore(remove_copies=True)


_FOLLOWING = []


@bpy.app.handlers.persistent
def on_depsgraph_update(scene, *args):
    """Actors follow their strips when a strip is moved in time (blender/layers.py
    follow_moved_strips); never raises into Blender."""
    shown.CHANGES[0] += 1  # (the sidebar's list of actors is read again: shown.shown_actors)
    if _FOLLOWING:  # (the move itself updates the depsgraph)
        return
    depsgraph = args[0] if args else None
    if depsgraph is not None and not depsgraph.id_type_updated("SCENE"):  # strips live in the scene
        return
    _FOLLOWING.append(True)
    try:
        from .layers import follow_moved_strips

        seq_scene = getattr(bpy.context, "sequencer_scene", None)  # Blender 5.0: the sequencer's own scene,
        for sc in [scene] + ([seq_scene] if seq_scene is not None and seq_scene != scene else []):  # whose changes
            follow_moved_strips(sc)  # come with the window scene's update
            shots.follow_shots(sc)  # (and the result strips follow their shot, on every piece of it)
    except Exception as exc:
        print("Reenact: an actor did not follow its strip: {}".format(exc))
    finally:
        _FOLLOWING.clear()


@bpy.app.handlers.persistent
def on_load_post(*args):
    """A job does not outlive the file it ran in (its modal handler goes with the old window
    state): the progress bar is cleared, so the loaded file's buttons show."""
    from .modal import JOB

    JOB.running, JOB.progress, JOB.text = False, 0.0, ""
    NOTES.clear()  # (another project's save notes are not this one's: a review)
    shown.CHANGES[0] += 1


@bpy.app.handlers.persistent
def on_undo_redo(*args):
    shown.CHANGES[0] += 1  # (the objects are the undo step's: shown.shown_actors reads them again)


HANDLERS = (("save_pre", on_save_pre), ("save_post", on_save_post), ("save_post_fail", on_save_post_fail),
            ("depsgraph_update_post", on_depsgraph_update), ("load_post", on_load_post),
            ("undo_post", on_undo_redo), ("redo_post", on_undo_redo))


def register():
    for kind, fn in HANDLERS:
        handlers = getattr(bpy.app.handlers, kind, None)
        if handlers is not None and fn not in handlers:
            handlers.append(fn)


def unregister():
    for kind, fn in HANDLERS:
        handlers = getattr(bpy.app.handlers, kind, None)
        if handlers is not None and fn in handlers:
            handlers.remove(fn)
