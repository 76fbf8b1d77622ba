# SPDX-License-Identifier: GPL-3.0-or-later
"""Provenance of what Reenact synthesises: a robust video watermark in every synthesised frame
(:mod:`.watermark`), a signed C2PA manifest on every exported movie and image (:mod:`.manifest`),
and ``reenact verify`` (:mod:`.verify`, :mod:`.cli`). No bpy; numpy, OpenCV, PyAV and (for
manifests only) c2pa-python + cryptography, imported where they are used.

Render path::

    from reenact.provenance import watermark as wm
    payload = wm.make_payload(job_id)                 # once per render
    frame = wm.mark_frame(frame, i, wm.DEFAULT_KEY, payload)   # each synthesised frame
    ...
    from reenact.provenance.manifest import sign_file
    sign_file(out_path, action="c2pa.edited", payload=payload)  # the finished export
"""
