# SPDX-License-Identifier: GPL-3.0-or-later
"""The face model and fit (numpy only, no bpy).

- :mod:`.topology`: the actor mesh (triangles, neutral template, UVs, landmark groups).
- :mod:`.expressions`: ARKit-style expression names and their groups.
- :mod:`.fit`: camera, identity, head pose, expressions, basis, gaze and blinks from landmarks
  (:func:`~.fit.fit_track`), projection and rotation conventions.
- :mod:`.track`: the :class:`~.track.Track` file (docs/track-format.md).
"""
