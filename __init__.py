# SPDX-License-Identifier: GPL-3.0-or-later
"""Reenact: face reenactment, visual dubbing and video restyling for Blender's Video Sequencer.

The repository root is both the Blender extension and the Python package ``reenact``.
Importing this module never imports ``bpy``: the core (tracking, fitting, rendering,
compositing) is plain Python + numpy and is usable from the ``reenact`` command line.
Blender calls :func:`register` / :func:`unregister`, which pull in the bpy glue
(``props``, ``operators``, ``panels``) lazily.
"""

import os as _os

from ._version import __version__

# OpenCV reads its image-size ceiling when it is loaded: set before any module imports cv2, so
# that no image Reenact reads may declare more than 2^27 pixels (a 16384 x 8192 plate; OpenCV
# allows 2^30, and a 746 KB PNG declaring 16000 x 16000 took 1.6-5.3 GB: video/bitdepth.MAX_PIXELS)
_os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(1 << 27))

__all__ = ["__version__", "register", "unregister"]


def register():
    from . import blender  # bpy glue, imported only when Blender registers the extension

    blender.register()


def unregister():
    from . import blender

    blender.unregister()
