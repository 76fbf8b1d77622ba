# SPDX-License-Identifier: GPL-3.0-or-later
"""fsutil.Aside on the failure paths of a movie being finished (a review of 2026-12-06)."""

import os


def test_a_failure_before_the_rename_leaves_no_hidden_old_file(tmp_path):
    """A full disk or Ctrl-C while the movie is finished (before its rename into place): the
    earlier output stays and its hidden ``.NAME.XXXXXXXX.old`` name goes; before 2026-12-06 the
    put-back renamed one hard link over another of the same file, which does nothing, and the
    hidden file stayed for good."""
    from reenact import fsutil

    out = tmp_path / "out.mp4"
    out.write_bytes(b"earlier, signed")
    a = fsutil.Aside(out)
    assert a.aside is not None
    a.put_back()  # (nothing was renamed into place)
    assert out.read_bytes() == b"earlier, signed"
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_a_failure_after_the_rename_puts_the_earlier_file_back(tmp_path):
    from reenact import fsutil

    out = tmp_path / "out.mp4"
    out.write_bytes(b"earlier, signed")
    a = fsutil.Aside(out)
    (tmp_path / ".new").write_bytes(b"new, unsigned")
    os.replace(tmp_path / ".new", out)
    a.put_back()
    assert out.read_bytes() == b"earlier, signed"
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_a_read_only_file_system_names_the_file_not_its_temporary(tmp_path, monkeypatch):
    """A file system turned read-only mid-run: the write fails, and so does removing the
    temporary; the error is the write's, naming the final file (before 2026-12-06
    ".frame_000017.png.03888fcb.tmp: cannot write: Read-only file system", the removal's error)."""
    import errno

    import pytest

    from reenact import fsutil

    out = tmp_path / "frame_000017.png"
    real_remove = os.remove

    def read_only(path, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", path)

    def write(fh):
        monkeypatch.setattr(fsutil.os, "remove", read_only)
        raise OSError(errno.EROFS, "Read-only file system", fh.name)

    with pytest.raises(OSError) as info:
        fsutil.write_atomic(out, write)
    monkeypatch.setattr(fsutil.os, "remove", real_remove)
    assert info.value.errno == errno.EROFS and info.value.filename == str(out)
    assert str(fsutil.os_error(info.value)).count("frame_000017.png: cannot write: Read-only file system") == 1
