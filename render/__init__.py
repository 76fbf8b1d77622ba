# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering: a Track + the footage -> composited frames (numpy, OpenCV, onnxruntime; no torch).

- :mod:`.conditioning`: the stabilised crop and the conditioning images of the network.
- :mod:`.reference`: the actor reference pool (the footage's own frames, aligned).
- :mod:`.renderer`: the ONNX renderer session.
- :mod:`.cache`: content digests and the crop cache.
- :mod:`.composite`: paste a rendered crop back into the frame (feathered mask, colour match).
- :mod:`.pipeline`: one per-frame step shared by clip render and preview.
"""
