# SPDX-License-Identifier: GPL-3.0-or-later
"""Restyle footage (Recycle-GAN style, unpaired and temporally predicted), including colourising
black-and-white shots.

- :mod:`.config`  the one configuration dataclass (saved into the ONNX metadata)
- :mod:`.colour`  numpy colour maths: the colour transform the generator predicts, YCbCr, styles
- :mod:`.metrics` PSNR/SSIM, colourfulness, CDC, warping error (numpy + OpenCV)
- :mod:`.data`    clips decoded at the working resolution, triplet sampling
- :mod:`.prior`   colourise: the reference pool and the retrieval (exemplar) chroma prior
- :mod:`.resume`  a checkpoint a run does not resume: kept in place until the run saves its own
- :mod:`.train`   the only module that imports torch: networks, losses, training loop, ONNX export
- :mod:`.apply`   onnxruntime inference at full resolution with temporal stabilisation
- :mod:`.cli`     ``reenact restyle train|apply``

See docs/restyle.md.
"""
