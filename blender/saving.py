# SPDX-License-Identifier: GPL-3.0-or-later
"""Saving a .blend makes its project folder self-contained: the Track files that Track Actor
wrote to the user folder while the file was unsaved move to ``//reenact/`` next to it.

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
from . import blend, shots, takes

_PENDING = []  # (actor name, old track_path, old absolute path, new absolute path, moved) of this save
_MADE = []  # the folder this save made, removed again when the save fails
_PATHS = []  # (datablock collection, name, attribute, old value) of the paths this save re-pointed


def _norm(path):
    return os.path.normcase(os.path.realpath(path))


def user_track_folders():
    """Where Track Actor writes the Tracks of an unsaved file (``blend.data_folder``'s fallbacks)."""
    folders = [os.path.join(bpy.app.tempdir, "reenact", "tracks")]
    try:
        folders.append(bpy.utils.extension_path_user(blend.ADDON, path="tracks", create=False))
    except (ValueError, AttributeError, TypeError):
        pass
    return [_norm(f) for f in folders if f]


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
    """Copy the user-folder Tracks next to ``filepath`` and point their actors at the copies."""
    _PENDING.clear()
    _MADE.clear()
    _PATHS.clear()
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
            print("Reenact: kept the Track of '{}' at {} ({})".format(ob.name, old, exc))
            continue
        _PENDING.append((ob.name, ob.reenact.track_path, old, new, True))
        ob.reenact.track_path = "//reenact/" + os.path.basename(new)
    if bpy.data.filepath and _norm(bpy.data.filepath) != _norm(filepath):
        copy_tracks_for_new_name(filepath, dest, {p[0] for p in _PENDING})
        repoint_relative_paths(filepath)


def copy_tracks_for_new_name(filepath, dest, done):
    """Save As (a version beside, or elsewhere): each actor's Track copied under the new .blend's
    name, so that tracking again in the old file does not change the new one's actors (before
    2026-12-05 both read the one file). The old files stay: the old .blend still uses them."""
    old_stem, new_stem = actor_data.blend_name(), actor_data.blend_name(filepath)
    copied = {}
    for ob in bpy.data.objects:
        if not actor_data.is_actor(ob) or not ob.reenact.track_path or ob.name in done:
            continue
        old = actor_data.track_file(ob)
        if not os.path.isfile(old):
            continue
        base = os.path.basename(old)
        base = new_stem + base[len(old_stem):] if base.startswith(old_stem + "_") else new_stem + "_" + base
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


def _restore(remove_copies):
    for name, old_value, old, new, _moved in _PENDING:
        ob = bpy.data.objects.get(name)
        if ob is not None:
            ob.reenact.track_path = old_value
    for coll, name, attr, value in _PATHS:
        idb = coll.get(name)
        if idb is not None:
            setattr(idb.reenact, attr, value)
    _PATHS.clear()
    if remove_copies:
        for new in {p[3] for p in _PENDING}:
            if os.path.exists(new):
                os.remove(new)
        for folder in _MADE:
            try:
                os.rmdir(folder)
            except OSError:
                pass
    _PENDING.clear()
    _MADE.clear()


@bpy.app.handlers.persistent
def on_save_pre(filepath, *args):
    try:
        move_tracks_before_save(filepath)
    except Exception as exc:  # never break a save
        print("Reenact: Tracks not moved next to the .blend: {}".format(exc))
        _restore(remove_copies=True)


@bpy.app.handlers.persistent
def on_save_post(filepath, *args):
    try:  # (which takes of other .blend files' renders this one shows: Delete Unused Takes there leaves them)
        takes.record_shown(filepath)
    except (OSError, ValueError):  # (a record it cannot write: the save itself is done)
        pass
    if not _PENDING and not _PATHS:
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
    if _FOLLOWING:  # (the move itself updates the depsgraph)
        return
    depsgraph = args[0] if args else None
    if depsgraph is not None and not depsgraph.id_type_updated("SCENE"):  # strips live in the scene
        return
    _FOLLOWING.append(True)
    try:
        from .layers import follow_moved_strips

        shown = getattr(bpy.context, "sequencer_scene", None)  # Blender 5.0: the sequencer's own scene,
        for sc in [scene] + ([shown] if shown is not None and shown != scene else []):  # whose changes
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


HANDLERS = (("save_pre", on_save_pre), ("save_post", on_save_post), ("save_post_fail", on_save_post_fail),
            ("depsgraph_update_post", on_depsgraph_update), ("load_post", on_load_post))


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
