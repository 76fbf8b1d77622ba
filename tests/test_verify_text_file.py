# SPDX-License-Identifier: GPL-3.0-or-later
"""A text file is not a movie: FFmpeg's ``tty`` demuxer draws any text file as an ANSI video, so
before 2026-12-06 ``reenact verify readme.txt`` said "no Reenact watermark found (best score 1.4,
141 frames, 5.64 s)" and ``reenact probe`` called it a movie; now both refuse it in one line
naming the file (video/movie.py)."""

import pytest

from reenact.video import VideoError, open_video


@pytest.mark.parametrize("name", ["readme.txt", "delivery.nfo"])
def test_a_text_file_is_refused_as_not_a_video(tmp_path, name, capsys):
    path = tmp_path / name
    path.write_text("Delivery notes\n" + "the quick brown fox jumps over the lazy dog\n" * 400)
    with pytest.raises(VideoError) as err:
        open_video(str(path))
    assert str(err.value) == "{}: not a video: a text file".format(path), str(err.value)

    from reenact.cli import main

    assert main(["verify", str(path)]) == 2
    out = capsys.readouterr()
    assert out.err.strip() == "reenact: error: {}: not a video: a text file".format(path), out.err
    assert "watermark" not in out.out, out.out
