# SPDX-License-Identifier: GPL-3.0-or-later
"""The shot's background plate kept between renders (render/plates.py): stored in the cache
folder and read back exactly, made again when damaged or when the footage's Track changes, and
a second render of a full reenactment does not make it again."""

import os

import numpy as np
import pytest

from reenact.render import plates
from reenact.render.head import MovingPlate
from reenact.render.pipeline import render_clip
from reenact.render.renderer import BASE_MODEL


def _equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a[:3], b[:3]):
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y)
        else:
            assert x == y
    if len(a) > 3:
        for k in ("canvas", "canvas_known", "origin", "rows", "offsets"):
            assert np.array_equal(getattr(a[3], k), getattr(b[3], k)), k
        assert a[3].shape == b[3].shape


def _no_plate_made(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the plate was made again")

    monkeypatch.setattr(plates, "shot_plate", refuse)


def test_a_plate_is_stored_and_read_back_exactly(carphone, carphone_track, tmp_path, monkeypatch):
    plates._MEMORY.clear()
    made = plates.stored_plate(carphone, carphone_track, str(tmp_path))
    stored = [f for f in os.listdir(tmp_path) if f.startswith(plates.PLATE_PREFIX)]
    assert len(stored) == 1 and stored[0].endswith(".npz")
    assert not [f for f in os.listdir(tmp_path) if f not in stored]  # no temporary left
    plates._MEMORY.clear()
    _no_plate_made(monkeypatch)
    _equal(plates.stored_plate(carphone, carphone_track, str(tmp_path)), made)
    # another Track of the same footage (a row re-tracked) has a plate of its own
    other = carphone_track.subset(0, carphone_track.n_frames)
    other.pose = np.array(other.pose)
    other.pose[3, 1] += 0.05
    assert plates.plate_digest(carphone, other) != plates.plate_digest(carphone, carphone_track)
    with pytest.raises(AssertionError, match="made again"):
        plates.stored_plate(carphone, other, str(tmp_path))


def test_a_damaged_plate_is_made_again(carphone, carphone_track, tmp_path):
    plates._MEMORY.clear()
    made = plates.stored_plate(carphone, carphone_track, str(tmp_path))
    path = os.path.join(tmp_path, plates.PLATE_PREFIX + plates.plate_digest(carphone, carphone_track) + ".npz")
    with open(path, "r+b") as f:
        f.truncate(100)
    plates._MEMORY.clear()
    _equal(plates.stored_plate(carphone, carphone_track, str(tmp_path)), made)
    plates._MEMORY.clear()
    _equal(plates._load(path), made)  # stored whole again


def test_a_moving_camera_s_plate_keeps_its_canvas(tmp_path):
    rng = np.random.default_rng(1)
    canvas = rng.integers(0, 255, (40, 70, 3), np.uint8)
    known = rng.random((40, 70)) > 0.2
    m = MovingPlate(canvas, known, (5, 3), [0, 10, 20], [[0, 0], [4, 1], [9, 2]], (30, 50))
    plate = m.at(10) + ((0, 0, 50, 30), m)
    path = str(tmp_path / "p.npz")
    plates._save(path, plate)
    back = plates._load(path)
    _equal(back, plate)
    assert np.array_equal(back[3].at(17)[0], m.at(17)[0])


def test_a_second_render_of_a_full_reenactment_does_not_make_the_plate_again(carphone, carphone_track,
                                                                               tmp_path, monkeypatch):
    from conftest import turned

    perf = turned(carphone_track, 0.14)

    def render():
        got = {}
        render_clip(perf, carphone, BASE_MODEL, frames=(60, 62), region="head", prefer_gpu=False,
                    cache_dir=str(tmp_path / "cache"), on_frame=lambda i, f: got.__setitem__(i, f), watermark=False)
        return got

    plates._MEMORY.clear()
    first = render()
    assert [f for f in os.listdir(tmp_path / "cache") if f.startswith(plates.PLATE_PREFIX)]
    plates._MEMORY.clear()  # (a new process: a farm chunk, a re-render after Blender restarts)
    _no_plate_made(monkeypatch)
    for f in list((tmp_path / "cache").rglob("*.npy")):  # the crops rendered again, not read back
        f.unlink()
    second = render()
    assert sorted(first) == sorted(second)
    assert all(np.array_equal(first[i], second[i]) for i in first)


@pytest.mark.parametrize("at", [0, 5, 31])
def test_a_full_reenactment_says_it_makes_the_room_and_can_be_cancelled_there(carphone, carphone_track, tmp_path, at):
    """The plate takes seconds before the first frame (13 s at 1080p, 43 s at 4K): the render
    says so through its progress, frame by frame of the 31 it reads and while it draws the room
    no frame shows, and a cancel at any of those points (before, while reading: ``at`` 5, while
    drawing: 31) stops it there, with nothing written and no plate stored (Blender's Esc waited
    for the whole plate before)."""
    from conftest import turned

    from reenact.progress import Cancelled

    perf = turned(carphone_track, 0.14)
    said = []

    def stop_at_the_room(k, n, msg):
        said.append(msg)
        return not (msg.startswith("the room behind the actor") and int(msg.split()[-1].split("/")[0]) >= at)

    plates._MEMORY.clear()
    out = tmp_path / "frames"
    with pytest.raises(Cancelled):
        render_clip(perf, carphone, BASE_MODEL, out=str(out), frames=(60, 62), region="head", prefer_gpu=False,
                    cache_dir=str(tmp_path / "cache"), watermark=False, progress=stop_at_the_room)
    rooms = [m for m in said if m.startswith("the room behind the actor")]
    assert rooms[-1] == "the room behind the actor {}/{}".format(at, 1 if at == 0 else 32), rooms[-3:]
    assert not [m for m in said if m.startswith("frame")]
    assert not (out.exists() and os.listdir(out))
    cache = tmp_path / "cache"
    assert not (cache.exists() and [f for f in os.listdir(cache) if f.startswith(plates.PLATE_PREFIX)])
