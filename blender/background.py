# SPDX-License-Identifier: GPL-3.0-or-later
"""Blender's command line over the PyPI ``bpy`` module, with Reenact registered, so that the
commands a render farm runs (``blender -b shot.blend --python-exit-code 1 --python-expr "..."``,
docs/farm.md) also run where only that module is installed::

    python -m reenact.blender.background -b shot.blend --python-exit-code 1 --python-expr "..."

(Nothing imports this module: it is only run.)
"""

import os
import sys
import traceback

import bpy


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


def remove_session_tempdir():
    """Remove Blender's session temporary folder (``blender_XXXXXX`` in the system's or the
    preferences' temporary folder), which Blender removes when it exits normally and
    ``os._exit`` skips: every farm task run through here left one behind."""
    import shutil

    d = os.path.normpath(bpy.app.tempdir or "")
    if os.path.basename(d).startswith("blender_") and os.path.isdir(d):
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    remove_session_tempdir()
    os._exit(code)  # the bpy module can hang on interpreter exit; nothing is left to write
