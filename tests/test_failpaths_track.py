# SPDX-License-Identifier: GPL-3.0-or-later
"""`reenact track --max-faces 2`: its files all checked before the work and all written or none
(a review of disk failures, 2026-12-06)."""

import errno

import numpy as np


class _FakeTrack:
    """What cmd_track uses of a Track; ``full``: its save fails as on a full disk."""

    def __init__(self, data, full=False):
        self.data, self.full, self.tracked = data, full, np.ones(3, bool)

    def hidden_frames(self):
        return []

    def validate(self, path=None):
        pass

    def save(self, path):
        from reenact.fsutil import write_atomic

        def write(fh):
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            fh.write(self.data)

        return write_atomic(path, write)


def _run(monkeypatch, tmp_path, tracks, calls):
    from reenact import cli
    from reenact.sample import sample_clip
    from reenact.tracking import tracker

    def track_video(*a, **k):
        calls.append(1)
        return tracks

    monkeypatch.setattr(tracker, "track_video", track_video)
    return cli.main(["track", sample_clip(), "--max-faces", "2", "--out", str(tmp_path / "t.npz")])


def test_a_full_disk_leaves_both_earlier_files(tmp_path, monkeypatch, capsys):
    """The second actor's file cannot be written: the first is not replaced either (before
    2026-12-06 t.npz was the new run's, t_actor1.npz the earlier run's)."""
    (tmp_path / "t.npz").write_bytes(b"earlier 0")
    (tmp_path / "t_actor1.npz").write_bytes(b"earlier 1")
    rc = _run(monkeypatch, tmp_path, [_FakeTrack(b"new 0"), _FakeTrack(b"new 1", full=True)], [])
    assert rc == 2
    assert "t_actor1.npz: cannot write: No space left on device" in capsys.readouterr().err
    assert (tmp_path / "t.npz").read_bytes() == b"earlier 0"
    assert (tmp_path / "t_actor1.npz").read_bytes() == b"earlier 1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.npz", "t_actor1.npz"]
    rc = _run(monkeypatch, tmp_path, [_FakeTrack(b"new 0"), _FakeTrack(b"new 1")], [])
    assert rc == 0 and (tmp_path / "t.npz").read_bytes() == b"new 0"
    assert (tmp_path / "t_actor1.npz").read_bytes() == b"new 1"


def test_a_second_actors_name_that_is_a_folder_is_refused_before_tracking(tmp_path, monkeypatch, capsys):
    (tmp_path / "t_actor1.npz").mkdir()
    calls = []
    rc = _run(monkeypatch, tmp_path, [_FakeTrack(b"new 0"), _FakeTrack(b"new 1")], calls)
    assert rc == 2 and not calls and not (tmp_path / "t.npz").exists()
    assert "t_actor1.npz: is a folder" in capsys.readouterr().err
