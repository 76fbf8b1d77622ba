# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the package and its bundled files live (one place, whatever the install name)."""

import os

#: the package root (the repository root; the extension's folder when installed in Blender)
PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))
#: bundled ONNX models, the face topology and their model cards
MODELS_DIR = os.path.join(PACKAGE_ROOT, "models")
