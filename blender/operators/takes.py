# SPDX-License-Identifier: GPL-3.0-or-later
"""Delete Unused Takes: the renders and restyles of this .blend that no strip of any scene shows
(the takes a render again leaves behind, blender/takes.py), after a confirmation naming how many
and how much space; the render cache, preview images, farm job folders, takes another .blend
saved beside it shows, folders holding anything but frames and anything written in the last
minutes are left alone, and nothing while a job runs."""

import os
import shutil

import bpy

from .. import actor as actor_data
from .. import blend, takes
from ..modal import JOB
from ..report import report


def _roots():
    from ..restyle_files import blend_tag

    renders = actor_data.render_root()  # (ValueError when the .blend is not saved: nothing of its own yet)
    restyle = os.path.join(os.path.dirname(os.path.dirname(renders)), "restyle")
    # (Restyle Strip's results under the .blend's tagged name since the review of 2026-12-06; before, its
    # cleaned name, which a .blend of a name that cleans alike shares: that folder only where no other
    # .blend here names alike, whose takes it may hold)
    names = dict.fromkeys([blend_tag()] + ([] if blend.named_alike() else [blend.legacy_blend_name()]))
    return [renders] + [os.path.join(restyle, n) for n in names]


def _gb(n):
    return "{:.2f} GB".format(n / 1e9) if n >= 1e8 else "{:.0f} MB".format(n / 1e6)


class REENACT_OT_delete_unused_takes(bpy.types.Operator):
    """Delete the renders and restyles of this .blend that no strip shows (the takes earlier
    renders left); Ctrl-Z cannot bring them back"""

    bl_idname = "reenact.delete_unused_takes"
    bl_label = "Delete Unused Takes"
    bl_options = {"REGISTER"}  # (files only: nothing in the .blend to undo)

    def invoke(self, context, event):
        if JOB.running:  # (a job's new takes are shown only when it ends)
            report(self, "WARNING", "a job is running: delete unused takes when it has ended")
            return {"CANCELLED"}
        try:
            found = takes.unused_takes(_roots())
        except ValueError as exc:
            report(self, "ERROR", exc)
            return {"CANCELLED"}
        if not found:
            report(self, "INFO", "no unused takes: every render of this .blend is shown by a strip")
            return {"CANCELLED"}
        return context.window_manager.invoke_confirm(
            self, event, title="Delete {} unused take{} ({})?".format(len(found), "s" if len(found) > 1 else "",
                                                                   _gb(sum(n for _p, n in found))),
            message="No strip shows them; Ctrl-Z cannot bring them back", confirm_text="Delete")

    def execute(self, context):
        if JOB.running:
            report(self, "WARNING", "a job is running: delete unused takes when it has ended")
            return {"CANCELLED"}
        try:
            found = takes.unused_takes(_roots())  # (again: a strip may show one since the dialog)
        except ValueError as exc:
            report(self, "ERROR", exc)
            return {"CANCELLED"}
        done, freed, failed = 0, 0, []
        for path, size in found:
            try:
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
                done, freed = done + 1, freed + size
            except OSError as exc:
                failed.append("{}: {}".format(os.path.basename(path), exc.strerror or exc))
        if failed:
            report(self, "WARNING", "not deleted: " + "; ".join(failed))
        report(self, "INFO", "deleted {} unused take{} ({})".format(done, "" if done == 1 else "s", _gb(freed)))
        return {"FINISHED"}


classes = (REENACT_OT_delete_unused_takes,)
