# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/watermark_masking.py measures format 1's mark at flat gain 1, format 2's masked one below
it (flat 0.3: the shipped mark), and leaves the watermark module as it was (no footage needed)."""

import numpy as np


def _frame(h=270, w=480):
    """Left half flat grey (sky), right half textured (noise of ~20 levels)."""
    rng = np.random.default_rng(3)
    f = np.full((h, w, 3), 150, np.uint8)
    f[:, w // 2:] = np.clip(150 + rng.normal(0, 20, (h, w - w // 2, 1)), 0, 255).astype(np.uint8)
    return f


def test_gain_one_is_the_shipped_mark_and_masking_lowers_it_on_flat_pixels():
    from bench import watermark_masking as wmm
    from reenact.provenance import watermark as wm

    f = _frame()
    v1 = wm.Payload(0x12345, version=1)
    shipped = wm.mark_frame(f, 0, wm.DEFAULT_KEY, v1)              # format 1, unmasked
    with wmm.cell_size(wm.CELLS_PER_SIDE) as w80:
        same = wmm.mark(w80, [f], v1, 1.0, 1.8)[0]
        masked = wmm.mark(w80, [f], 0x12345, 0.3, 1.8)[0]
    assert np.array_equal(same, shipped)
    # flat gain 0.3, textured 1.8 in format 2 is what mark_frame ships
    assert np.array_equal(masked, wm.mark_frame(f, 0, wm.DEFAULT_KEY, 0x12345))
    d_ship = shipped.astype(np.float32) - f
    d_mask = masked.astype(np.float32) - f
    assert np.array_equal(d_mask[..., 0], d_mask[..., 2])            # luma only, as the mark
    flat = (slice(20, -20), slice(20, 200))                           # well inside the flat half
    rms = lambda d: float(np.sqrt((d[flat][..., 0] ** 2).mean()))    # noqa: E731
    assert rms(d_ship) > 2.0 and rms(d_mask) < 0.5 * rms(d_ship)
    assert np.abs(d_mask).max() <= wm.MAX_CHANGE
    # the measure the bench reports sees the same difference
    assert wmm.flat_rms([f], [masked], step=1) < 0.5 * wmm.flat_rms([f], [shipped], step=1)


def test_cell_size_is_restored():
    from bench import watermark_masking as wmm
    from reenact.provenance import watermark as wm

    before = (wm.CELLS_PER_SIDE, wm.WORK_SIDE, wm._WORK_CELL)
    with wmm.cell_size(100) as w:
        assert w.CELLS_PER_SIDE == 100.0 and w.WORK_SIDE == 400
    assert (wm.CELLS_PER_SIDE, wm.WORK_SIDE, wm._WORK_CELL) == before
    assert wm.detect([wm.mark_frame(_frame(), 0, wm.DEFAULT_KEY, 7)], 25)["detected"]


def test_skips_without_clips(tmp_path, capsys, monkeypatch):
    from bench import watermark_masking as wmm

    monkeypatch.setattr(wmm, "SHARED_CLIPS", str(tmp_path / "absent"))
    assert wmm.main(["--out", str(tmp_path / "x.json")]) == 0
    assert "skipping the watermark masking benchmark" in capsys.readouterr().out
