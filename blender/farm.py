# SPDX-License-Identifier: GPL-3.0-or-later
"""Render-farm glue on the Blender side (docs/farm.md): which actor a farm task means, and a
Blender-like command line over the PyPI ``bpy`` module, so that the commands a farm runs
(``blender -b shot.blend --python-exit-code 1 --python-expr "..."``) also run where only that
module is installed::

    python -m reenact.blender.farm -b shot.blend --python-exit-code 1 --python-expr "..."
"""

import os
import sys
import traceback

import bpy

from . import actor as actor_data

OUTPUT_ITEMS = (
    ("IMAGES", "Image Sequence", "One PNG per frame (each frame is kept as soon as it is written)"),
    ("MOVIE", "Movie", "One movie file (H.264; lossless RGB with the Lossless option)"),
)


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
    """(actor, scene, strip, render folder) of the actor ``name`` (else the active one)."""
    ob = named_actor(context, name)
    if ob is None:
        raise ValueError("no active tracked actor")
    scene, strip = actor_data.actor_strip(ob)
    return ob, scene, strip, actor_data.render_root()


def main(argv=None):
    """Blender's ``-b FILE --python-exit-code N --python-expr EXPR`` (in that spirit: options are
    applied in order) over the bpy module, with Reenact registered. Returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    exit_code = 0
    from .. import register

    if not hasattr(bpy.types, "REENACT_OT_render_performance"):
        register()
    while args:
        a = args.pop(0)
        if a in ("-b", "--background", "--factory-startup", "-noaudio"):
            continue
        if a == "--":
            break
        if a == "--python-exit-code":
            exit_code = int(args.pop(0))
        elif a == "--python-expr":
            expr = args.pop(0)
            try:
                exec(compile(expr, "<python-expr>", "exec"), {"bpy": bpy, "__name__": "__main__"})
            except BaseException:  # what Blender does: print, and exit with --python-exit-code
                traceback.print_exc()
                sys.stdout.flush()
                return exit_code
        elif a.endswith(".blend") and not a.startswith("-"):
            if not os.path.isfile(a):
                print("Error: cannot read file '{}': No such file or directory".format(a), file=sys.stderr)
                return 1
            bpy.ops.wm.open_mainfile(filepath=os.path.abspath(a))
        else:
            print("Error: unknown argument '{}'".format(a), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the bpy module can hang on interpreter exit; nothing is left to write
