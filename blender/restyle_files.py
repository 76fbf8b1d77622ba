# SPDX-License-Identifier: GPL-3.0-or-later
"""Where restyling in Blender keeps its files: Train Restyle's model and checkpoint names
(``//reenact/models/<.blend>/...``), Restyle Strip's result names, and the folders a refused
job must not leave behind. Used by blender/operators/restyle.py."""

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


def _model_stem(strip, kind, refs, scene=True, digest=True):
    name = "{}_{}_like_{}".format(actor_data._safe(strip.name), kind, actor_data._safe(refs[0].name))
    if len(refs) > 1:  # (which others: before 2026-12-06 [A, B] and [A, C] shared 'like_A+1', and the
        import hashlib  # second look trained over the first one's model and result)

        name += "+{}".format(len(refs) - 1)
        if digest:
            others = "\n".join(sorted(r.name for r in refs[1:]))
            name += "-" + hashlib.sha1(others.encode("utf-8")).hexdigest()[:6]
    if scene:
        name += "_in_" + actor_data._safe(strip.id_data.name)
    return name


def model_path(strip, kind, refs):
    """``//reenact/models/<.blend name>/<shot>_<kind>_like_<first reference>[+N-<digest of the
    others>]_in_<scene>.onnx``: each .blend, each scene and each choice of reference footage its
    own model (and checkpoint, and Restyle Strip's result folder, which is named after the model):
    before 2026-12-05 one per shot strip, so a second look trained over the first one's model, and
    a version of the .blend saved beside it over the other's; before 2026-12-06 two scenes whose
    strips share names (Full Copy keeps them) shared one, and scene B's training set A's aside.
    Makes no folder (:func:`_start` does, once the job is not refused)."""
    folder = os.path.join(_data_path("models"), actor_data.blend_name())
    return os.path.join(folder, _model_stem(strip, kind, refs) + ".onnx")


def _data_path(kind):
    """:func:`blend.data_folder`'s path, not made."""
    if bpy.data.filepath:
        return os.path.join(bpy.path.abspath("//"), "reenact", kind)
    return blend.data_folder(kind)  # (the extension's user folder: made there, as always)


def legacy_checkpoints(out, strip, kind, refs):
    """The checkpoints an earlier Reenact kept for ``out``'s model, newest naming first: without
    the scene (before 2026-12-06), and with several references without the digest (before
    2026-12-06)."""
    folder = os.path.dirname(out)
    names = [_model_stem(strip, kind, refs, scene=False)]
    if len(refs) > 1:
        names.append(_model_stem(strip, kind, refs, scene=False, digest=False))
    return [os.path.join(folder, n + ".ckpt.pt") for n in names]


def _adopt_legacy_checkpoint(out, legacy):
    """A look trained by an earlier Reenact kept its checkpoint under another name
    (:func:`legacy_checkpoints`): the first found is copied to ``out``'s where that has none, so
    the run resumes it (copied, not moved: each scene of the .blend may adopt it); the trainer
    checks that it was trained on these very frames (else it is kept aside and the run starts
    afresh, with a warning)."""
    import shutil
    import uuid

    ck = os.path.splitext(out)[0] + ".ckpt.pt"
    if os.path.exists(ck):
        return
    for old in legacy:
        if os.path.isfile(old):
            tmp = "{}.{}.tmp".format(ck, uuid.uuid4().hex[:8])
            try:
                shutil.copyfile(old, tmp)
                os.replace(tmp, ck)
            except OSError:
                if os.path.exists(tmp):
                    os.remove(tmp)
            return


class _nothing_left_when_refused:
    """Around Train Restyle's checks and start: when refused, the folders they made in the
    .blend's ``//reenact`` are removed again (reference images linked as a numbered sequence,
    the model's folder), so that a refusal writes nothing."""

    def __enter__(self):
        self.root = os.path.join(bpy.path.abspath("//"), "reenact") if bpy.data.filepath else None
        self.before = self._seen()
        return self

    def _seen(self):
        if self.root is None:
            return set()
        out = set()
        for kind in ("", "restyle_frames", "models", os.path.join("models", actor_data.blend_name())):
            f = os.path.join(self.root, kind) if kind else self.root
            if os.path.isdir(f):
                out.add(f)
        links = os.path.join(self.root, "restyle_frames")
        if os.path.isdir(links):
            out.update(os.path.join(links, n) for n in os.listdir(links))
        return out

    def __exit__(self, kind, exc, tb):
        if exc is None or self.root is None:
            return False
        import shutil

        for f in sorted(self._seen() - self.before, key=len, reverse=True):  # (deepest first)
            if os.path.dirname(f) == os.path.join(self.root, "restyle_frames"):
                shutil.rmtree(f, ignore_errors=True)
            else:
                remove_empty([f])
        return False

