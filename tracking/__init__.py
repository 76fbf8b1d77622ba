# SPDX-License-Identifier: GPL-3.0-or-later
"""Tracking: faces in frames -> landmarks (numpy, OpenCV, onnxruntime; no bpy, no torch).

- :mod:`.facemesh`: detector + 478-point face mesh (MediaPipe networks converted to ONNX).
- :mod:`.attention_ops`: MediaPipe's custom ops of the attention landmark model, in numpy.
- :mod:`.smoothing`: zero-phase One Euro smoothing and tracked segments.
- :mod:`.tracker`: a clip -> per-actor landmarks -> fitted :class:`~reenact.face.track.Track`.
"""
