# SPDX-License-Identifier: GPL-3.0-or-later
"""The one error type of the core: an expected failure the user can act on.

Core functions raise :class:`ReenactError` (or a subclass) with the file and the problem; the
command line prints it as one line (``reenact: error: FILE: problem``) and the Blender glue
reports it through one helper (:func:`reenact.blender.report.fail`). Warnings travel in a
returned log instead of being printed.
"""


class ReenactError(ValueError):
    """An expected failure: ``path`` (the file or option at fault, may be None) and ``problem``
    (one line). A ValueError, so that callers that caught ValueError keep working."""

    def __init__(self, problem, path=None):
        self.problem = str(problem)
        self.path = None if path is None else str(path)
        super().__init__(self.problem if self.path is None else "{}: {}".format(self.path, self.problem))
