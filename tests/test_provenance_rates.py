# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify``'s seconds where the frames are not at i / rate: a movie of variable frame
rate (each frame's own time) and a folder of frames, which has no rate (footage generated here:
256x144, three seconds)."""

import json
from fractions import Fraction

import pytest

from reenact.provenance import watermark as wm

JOB = 0x3A5F00C0DE


@pytest.fixture(scope="module")
def dub():
    """90 frames, 40-69 marked (a dubbed line)."""
    from bench.watermark import synthetic_clip

    pl = wm.make_payload(JOB)
    return [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 40 <= i < 70 else f
            for i, f in enumerate(synthetic_clip(90, (256, 144), 0))]


def test_a_movie_of_variable_rate_is_verified_at_its_frames_own_times(tmp_path, dub, capsys):
    """A phone dub: 30 frames at 20 fps, then 29.97 (FFmpeg's average 25.46): the synthesised
    frames 40-69 are 1.83-2.83 s, their own times (before: 1.57-2.75 s, frame / average rate)."""
    import av

    from reenact.cli import main

    times = [i * 0.05 if i < 30 else 1.5 + (i - 30) * 1001 / 30000 for i in range(90)]
    path = str(tmp_path / "phone_dub.mp4")
    with av.open(path, "w") as c:
        vs = c.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt, vs.options = 256, 144, "yuv420p", {"crf": "18"}
        tb = Fraction(1, 90000)
        vs.time_base = vs.codec_context.time_base = tb
        for f, t in zip(dub, times):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts, vf.time_base = int(round(t * 90000)), tb
            for p in vs.encode(vf):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
    assert main(["verify", path, "--json", "--no-manifest"]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    w = r["watermark"]
    assert w["detected"] and w["frame_ranges"] == [[40, 70]]
    (a, b), = w["ranges"]
    assert abs(a - times[40]) < 0.002 and abs(b - times[70]) < 0.002, w["ranges"]
    assert r["variable_rate"] and abs(r["duration"] - (times[-1] + 1001 / 30000)) < 0.002
    starts = [x["start"] for x in w["windows"]]  # (each window from the time of its first frame)
    assert all(any(abs(s - t) < 1e-5 for t in times) for s in starts) and w["windows"][-1]["end"] == r["duration"]
    assert main(["verify", path, "--no-manifest"]) == 0
    text = capsys.readouterr().out
    assert "synthesised: 1.83-2.83 s (frames 40-69)" in text and "the frames' own times" in text


def test_a_folder_of_frames_says_the_rate_it_is_read_at(tmp_path, dub, capsys):
    """A folder of frames has no rate: read at 25 fps unless ``--fps`` gives it, and the report
    says so, in its lines and its JSON (before: 25 fps, unsaid)."""
    import cv2

    from reenact.cli import main

    d = tmp_path / "frames"
    d.mkdir()
    for i, f in enumerate(dub[30:80]):
        cv2.imwrite(str(d / "frame_{:04d}.png".format(i)), f[:, :, ::-1])
    assert main(["verify", str(d), "--json", "--no-manifest"]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert r["fps"] == 25 and r.get("fps_assumed") is True and r["watermark"]["detected"]
    assert main(["verify", str(d), "--no-manifest"]) == 0
    assert "a folder of frames has no rate: read at 25 fps (--fps gives its rate" in capsys.readouterr().out
    assert main(["verify", str(d), "--json", "--no-manifest", "--fps", "30"]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert r["fps"] == 30 and "fps_assumed" not in r
    # the rate written as the other commands take it (before 2026-12-06 refused: argparse's float)
    assert main(["verify", str(d), "--json", "--no-manifest", "--fps", "30000/1001"]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert abs(r["fps"] - 30000 / 1001) < 1e-6, r["fps"]
    with pytest.raises(SystemExit) as ex:
        main(["verify", str(d), "--fps", "1/0"])
    assert ex.value.code == 2 and "argument --fps: invalid frame rate '1/0'" in capsys.readouterr().err
