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
    from reenact.provenance.movie_signing import MovieSigning
    signing = MovieSigning(out_path, "c2pa.edited", payload, expected_frames=n)  # before writing
    signing.follow(writer)                            # the movie's samples hashed as written
    ...
    writer.close(); signing.finish()                  # signs and appends the manifest

An image, or a file signed afterwards: ``manifest.sign_file(path, "c2pa.edited", payload)``.
"""
