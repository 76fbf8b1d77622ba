# SPDX-License-Identifier: GPL-3.0-or-later
"""Reenact: face reenactment, visual dubbing and video restyling for Blender's Video Sequencer.

The repository root is both the Blender extension and the Python package ``reenact``.
Importing this module never imports ``bpy``: the core (tracking, fitting, rendering,
compositing) is plain Python + numpy and is usable from the ``reenact`` command line.
Blender calls :func:`register` / :func:`unregister`, which pull in the bpy glue
(``props``, ``operators``, ``panels``) lazily.
"""

from ._version import __version__

__all__ = ["__version__", "register", "unregister"]


def register():
    from . import blender  # bpy glue, imported only when Blender registers the extension

    blender.register()


def unregister():
    from . import blender

    blender.unregister()
