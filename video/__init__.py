# SPDX-License-Identifier: GPL-3.0-or-later
"""Video IO: frame-exact streaming decode of movies and image sequences, atomic writers.

No bpy, no torch. See docs/video-io.md.
"""

from .decode import open_video
from .movie import MovieSource
from .sequence import ImageSequenceSource, link_sequence, sequence_pattern
from .source import DEFAULT_SEQUENCE_FPS, IMAGE_EXTENSIONS, VideoError, VideoSource
from .encode import MOVIE_EXTENSIONS, ImageSequenceWriter, VideoWriter, available_video_codecs, open_writer

__all__ = [
    "VideoError",
    "VideoSource",
    "MovieSource",
    "ImageSequenceSource",
    "sequence_pattern",
    "link_sequence",
    "open_video",
    "VideoWriter",
    "ImageSequenceWriter",
    "open_writer",
    "available_video_codecs",
    "IMAGE_EXTENSIONS",
    "MOVIE_EXTENSIONS",
    "DEFAULT_SEQUENCE_FPS",
]
