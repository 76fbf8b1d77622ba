# SPDX-License-Identifier: GPL-3.0-or-later
"""Render farms (docs/farm.md), no bpy: the Blender command lines of a farm job's tasks.

A job renders one actor's performance (or every actor of its strip: ``all_actors``) over
timeline frames ``first..last`` of a saved .blend in
chunks (Render Performance with ``use_chunk``), each a Blender background process, then one
assemble task adds the result strip (and makes the movie). A restyle job does the same for a
strip and a restyle model (Restyle Strip with ``use_chunk``, then Assemble Restyle;
``farm/flamenco/reenact_restyle.js``). The Flamenco job type
``farm/flamenco/reenact_render.js`` builds the same command lines; ``reenact blender-render``
runs them on this machine (Deadline or any queue: one command per chunk)::

    blender -b shot.blend --python-exit-code 1 --python-expr "import bpy; ..."
"""

import json
import os
import shutil
import subprocess
import sys

#: exit status of Blender when the expression fails (``--python-exit-code``)
EXIT_CODE = 1


def _lit(value):
    """A Python literal that JavaScript's JSON.stringify writes the same way (strings, ints,
    booleans are spelled for Python)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):  # as JavaScript's String(number): 0.8, 1, 0.25
        return str(int(value)) if value.is_integer() else repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _call(op, kwargs):
    args = ", ".join("{}={}".format(k, _lit(v)) for k, v in kwargs.items())
    return "r = bpy.ops.reenact.{}({}); assert r == {{'FINISHED'}}, r".format(op, args)


def _farm_job(kw, farm_job):
    """The farm job's token (every task of one submission the same: its chunks' markers, which
    Assemble checks, ``render/chunks.py``), named only when there is one."""
    if farm_job:
        kw["farm_job"] = str(farm_job)
    return kw


def render_expr(actor, first, last, chunk=None, region="mouth", job_id="", all_actors=False, farm_job=None):
    """The expression of a render task: timeline frames ``chunk`` = (c, d) (both included) of the
    job's ``first..last`` into the actor's farm frame folder (no strip); ``all_actors``: every
    tracked actor of the actor's strip into the strip's "all actors" folder (Every Actor of the
    Strip); ``farm_job``: the job's token (default: ``job_id``)."""
    c, d = chunk if chunk is not None else (first, last)
    kw = {"actor": actor, "region": region, "use_range": True, "frame_first": first, "frame_last": last,
          "use_chunk": True, "chunk_first": c, "chunk_last": d, "output": "IMAGES", "job_id": job_id}
    if all_actors:
        kw["all_actors"] = True
    return "import bpy; " + _call("render_performance", _farm_job(kw, job_id if farm_job is None else farm_job))


def assemble_expr(actor, output="IMAGES", lossless=False, save=True, region="mouth", all_actors=False, farm_job=""):
    """The expression of the assemble task: Assemble Render (movie when ``output`` is MOVIE) of
    the job ``farm_job``'s chunks, then save the .blend with the strip when ``save``;
    ``all_actors``: the strip's "all actors" render (:func:`render_expr`)."""
    kw = {"actor": actor, "region": region, "output": output, "lossless": lossless}
    if all_actors:
        kw["all_actors"] = True
    return "import bpy; " + _call("assemble_render", _farm_job(kw, farm_job)) + (
        "; bpy.ops.wm.save_mainfile()" if save else "")


def restyle_expr(strip, model, first, last, chunk=None, job_id="", stabilise=0.8, farm_job=None):
    """The expression of a restyle task (``farm/flamenco/reenact_restyle.js``): Restyle Strip of
    ``strip`` with ``model`` over timeline frames ``first..last``, this task's ``chunk`` = (c, d)
    of them (both included) into the strip's farm frame folder (no strip added)."""
    c, d = chunk if chunk is not None else (first, last)
    kw = {"strip_name": strip, "model": model, "use_range": True, "frame_first": first, "frame_last": last,
          "use_chunk": True, "chunk_first": c, "chunk_last": d, "output": "IMAGES", "job_id": job_id,
          "stabilise": float(stabilise)}
    return "import bpy; " + _call("restyle_strip", _farm_job(kw, job_id if farm_job is None else farm_job))


def restyle_assemble_expr(strip, model, output="IMAGES", lossless=False, save=True, farm_job=""):
    """The expression of a restyle job's last task: Assemble Restyle, then save the .blend."""
    kw = {"strip_name": strip, "model": model, "output": output, "lossless": lossless}
    return "import bpy; " + _call("assemble_restyle", _farm_job(kw, farm_job)) + (
        "; bpy.ops.wm.save_mainfile()" if save else "")


def blender_args(blendfile, expr):
    """What follows the Blender executable: background mode, the file, the expression."""
    return ["-b", os.fspath(blendfile), "--python-exit-code", str(EXIT_CODE), "--python-expr", expr]


def parse_frames(text):
    """'A-B', 'A..B' or 'A' (timeline frames, both ends included) -> (A, B)."""
    s = str(text).strip().replace("..", "-")
    try:
        if "-" in s[1:]:
            k = s.index("-", 1)
            a, b = int(s[:k]), int(s[k + 1:])
        else:
            a = b = int(s)
    except ValueError:
        raise ValueError("frames '{}': expected FIRST-LAST timeline frames, e.g. 1-250".format(text)) from None
    if b < a:
        raise ValueError("frames '{}': the last frame is before the first".format(text))
    return a, b


def chunks(first, last, size):
    """Consecutive (c, d) chunks of ``size`` frames covering first..last once (both included)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [(c, min(c + size - 1, last)) for c in range(first, last + 1, size)]


def blender_executable(name=None):
    """The Blender to run: ``name`` (a path or a name on PATH), else ``blender`` on PATH, else
    None (then the bpy module runs the command: :mod:`reenact.blender.background`)."""
    exe = shutil.which(name or "blender")
    if name and exe is None:
        raise ValueError("{}: Blender executable not found".format(name))
    return exe


def run(blendfile, expr, blender=None, env=None):
    """Run one task's expression on ``blendfile``: in Blender when there is one, else in this
    Python with the bpy module. Its output (progress lines ``Reenact: ...``) goes to this
    process's stdout. Returns the exit status."""
    exe = blender_executable(blender)
    cmd = [exe] if exe is not None else background_command()
    return subprocess.call(cmd + blender_args(blendfile, expr), env=env)


def background_command():
    """The command that stands in for Blender where only the bpy module is installed: this Python
    running :mod:`reenact.blender.background` (``reenact.farm`` -> ``reenact.blender.background``,
    whatever the package is installed as), with ``-P``: the working folder is not put on the
    module path, where a project folder's ``reenact/`` (its Tracks, renders and cache) would stand
    for the package (until 2026-12-06's farm audit every task run from a project folder failed: "cannot import
    name 'register' from 'reenact' (unknown location)"). Python 3.11 has ``-P``."""
    return [sys.executable, "-P", "-m", __name__.rsplit(".", 1)[0] + ".blender.background"]
