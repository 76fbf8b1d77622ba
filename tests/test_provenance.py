# SPDX-License-Identifier: GPL-3.0-or-later
"""Watermark (mark -> H.264 / downscale / PNG -> detect), C2PA manifests and ``reenact verify``.

Footage is generated here (a static textured background, a moving textured blob, sensor noise:
the static background is the hard case for a watermark read by correlation), so the tests run
without ../shared/data; one case uses a shared clip when it is present."""

import json
import os

from conftest import ROOT

import numpy as np
import pytest

from reenact.provenance import ecc
from reenact.provenance import watermark as wm

FPS = 30
W, H = 640, 360
JOB = 0x3A5F00C0DE


def synthetic_clip(n, size=(W, H), seed=0):
    """``n`` RGB frames: static band-limited texture + a moving textured ellipse + noise."""
    from bench.watermark import synthetic_clip as make

    return make(n, size, seed)


def write_h264(path, frames, crf=28, fps=FPS):
    from reenact.video import VideoWriter

    with VideoWriter(path, fps, (frames[0].shape[1], frames[0].shape[0]), crf=crf, preset="veryfast") as w:
        for f in frames:
            w.write(f)
    return path


def read_frames(path):
    from reenact.video import open_video

    with open_video(path) as src:
        return [f for _i, f in src.iter_frames()], src.fps


@pytest.fixture(scope="module")
def clip():
    return synthetic_clip(90)


@pytest.fixture(scope="module")
def marked(clip):
    pl = wm.make_payload(JOB)
    return [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) for i, f in enumerate(clip)]


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    """Never touch the user's ~/.local/share: one local chain for the whole test session."""
    d = tmp_path_factory.getbasetemp() / "c2pa-chain"
    monkeypatch.setenv("REENACT_C2PA_DIR", str(d))


# ----------------------------------------------------------------------------- payload / ECC
def test_payload_bits_round_trip_and_ecc_corrects_errors():
    p = wm.make_payload(JOB)
    assert p.version == wm.FORMAT_VERSION == 2
    assert wm.Payload.from_bits(p.bits()) == p and len(p.bits()) == wm.PAYLOAD_BITS >= 48
    for gens, n_coded, flip in ((ecc.G, 148, 7), (ecc.G3, 222, 5)):   # format 1, format 2
        code = ecc.encode(p.bits(), gens)
        assert len(code) == n_coded == ecc.coded_length(wm.PAYLOAD_BITS, gens)
        soft = code.astype(float) * 2 - 1
        soft[::flip] *= -1  # 15 % (rate 1/2) or 20 % (rate 1/3) of the coded bits flipped
        bits, ok = ecc.decode(soft, wm.PAYLOAD_BITS, gens)
        assert ok and bits == p.bits()
        bits, ok = ecc.decode(-soft, wm.PAYLOAD_BITS, gens)  # garbage: the CRC says so
        assert not ok or bits != p.bits()
    assert wm.CODED_BITS == 222
    # a payload read in the wrong format is not valid: the version field must name the format
    det = wm.Detector()
    soft3 = ecc.encode(wm.Payload(JOB, version=1).bits(), ecc.G3).astype(float) * 2 - 1
    assert det.decode(soft3, 1.0, version=2)[1] is False
    assert det.decode_any({2: soft3})[0] is None
    assert wm.make_payload("3a5f00c0de") == p
    assert wm.make_payload("some job name") == wm.make_payload("some job name")
    assert wm.job_id_from("clip.mp4", "model") == wm.job_id_from("clip.mp4", "model") < 2 ** 40


def test_list_decoding_finds_the_payload_where_the_best_path_is_wrong():
    """The payload decoder keeps several paths (CRC-aided list Viterbi): on noisy soft values
    where the best path fails its CRC it reads the right payload more often, never a wrong one,
    and pure noise gives no valid payload (tool and format checked besides the CRC)."""
    rng = np.random.default_rng(7)
    det = wm.Detector()
    plain = listed = wrong = 0
    for _ in range(120):
        p = wm.Payload(int(rng.integers(0, 1 << 40)))
        soft = (ecc.encode(p.bits(), ecc.G3).astype(float) * 2 - 1) + rng.normal(0, 1.3, wm.CODED_BITS)
        bits, ok = ecc.decode(soft, wm.PAYLOAD_BITS, ecc.G3)
        plain += bool(ok and bits == p.bits())
        got, valid = det.decode(soft, 1.0)
        listed += bool(valid and got == p)
        wrong += bool(valid and got != p)
        best, _ok, _rank = ecc.decode_list(soft, wm.PAYLOAD_BITS, ecc.G3, size=1)
        assert best == bits  # one path: the Viterbi path
    assert wrong == 0 and listed >= plain + 12, (plain, listed)
    for _ in range(300):
        assert not det.decode(rng.normal(0, 1, wm.CODED_BITS), 1.0)[1]


def test_a_file_the_list_decoder_misses_is_decoded_again_with_more_paths(monkeypatch):
    """A detected file whose payload the list decoder's LIST_PATHS paths do not give is decoded
    once more with LIST_PATHS_FALLBACK (one-second excerpts: d11 after the downscale, 9 -> 11 of
    12 job ids with 64 then 256 paths, bench.watermark_payload). Here a faint mark on a noisy
    one-second clip: the plain Viterbi path alone misses the payload, the second decode with 64
    paths reads it, and the right one."""
    rng = np.random.default_rng(1)
    base = np.clip(120 + rng.normal(0, 18, (270, 480, 1)), 0, 255).astype(np.uint8).repeat(3, 2)
    r = np.random.default_rng(0)
    job = int(r.integers(0, 1 << 40))
    frames = [np.clip(wm.mark_frame(np.roll(base, i, 1), i, wm.DEFAULT_KEY, job, strength=0.3).astype(float)
                      + r.normal(0, 12, base.shape), 0, 255).astype(np.uint8) for i in range(10)]
    monkeypatch.setattr(wm, "LIST_PATHS", 1)
    monkeypatch.setattr(wm, "LIST_PATHS_FALLBACK", 1)
    d = wm.detect(frames, 10.0)
    assert d["detected"] and d["payload"] is None
    monkeypatch.setattr(wm, "LIST_PATHS_FALLBACK", 64)
    d = wm.detect(frames, 10.0)
    assert d["detected"] and d["payload"]["job_id"] == "{:010x}".format(job)


# ----------------------------------------------------------------------------- marking
def test_mark_is_invisible_bounded_and_fast(clip, marked):
    import time

    mse = np.mean([np.mean((a.astype(float) - b) ** 2) for a, b in zip(clip, marked)])
    psnr = 10 * np.log10(255.0 ** 2 / mse)
    assert psnr >= 40.0
    delta = wm.mark_delta(H, W, JOB, frame=clip[0])     # format 2: the frame's own (masked) change
    peak = int(np.abs(delta).max())
    assert 0 < peak <= wm.MAX_CHANGE
    assert np.array_equal(marked[0], np.clip(clip[0].astype(int) + delta[..., None], 0, 255))
    # where it changes a pixel, the masked mark has the sign of the key's (unmasked) pattern
    q = wm.mark_delta(H, W, JOB)
    assert (np.sign(delta) * np.sign(q) >= 0).all() and np.sign(delta)[q != 0].any()
    d = np.abs(marked[0].astype(int) - clip[0])
    assert d.max() <= peak
    # the change is the same in R, G and B (luma only) wherever nothing clipped
    ok = (clip[0] > 10) & (clip[0] < 245)
    ok = ok.all(-1)
    dd = marked[0].astype(int) - clip[0]
    assert (dd[ok][:, 0] == dd[ok][:, 1]).all() and (dd[ok][:, 1] == dd[ok][:, 2]).all()
    f = clip[0]
    wm.mark_frame(f, 0, wm.DEFAULT_KEY, JOB)
    t = time.perf_counter()
    for i in range(20):
        wm.mark_frame(f, i, wm.DEFAULT_KEY, JOB)
    assert (time.perf_counter() - t) / 20 < 0.05  # ~6 ms at 640x360 (masking); generous for a loaded machine


def test_mark_is_faint_on_flat_areas_and_stronger_on_texture():
    """Format 2 masks the pattern: on a flat grey half of a frame about a level RMS (format 1: 2.3
    everywhere, the mottle seen on skin and sky), more on the textured half; the same frame is
    always marked the same way."""
    rng = np.random.default_rng(3)
    f = np.full((360, 640, 3), 150, np.uint8)
    f[:, 320:] = np.clip(150 + rng.normal(0, 20, (360, 320, 1)), 0, 255).astype(np.uint8)
    rms = lambda d: float(np.sqrt((d.astype(float) ** 2).mean()))   # noqa: E731
    d2 = wm.mark_frame(f, 0, wm.DEFAULT_KEY, JOB).astype(int) - f
    d1 = wm.mark_frame(f, 0, wm.DEFAULT_KEY, wm.Payload(JOB, version=1)).astype(int) - f
    flat, tex = (slice(20, -20), slice(20, 280)), (slice(20, -20), slice(360, -20))
    assert rms(d1[flat][..., 0]) > 2.0 and rms(d2[flat][..., 0]) < 1.1
    assert rms(d2[tex][..., 0]) > 2.0 * rms(d2[flat][..., 0])
    assert np.array_equal(wm.mark_frame(f, 7, wm.DEFAULT_KEY, JOB), d2 + f)


def test_format_1_marks_are_still_read(tmp_path, clip):
    """Renders made before format 2 carry format-1 marks: read with their payload (version 1)."""
    import cv2

    m = [wm.mark_frame(f, i, wm.DEFAULT_KEY, wm.Payload(JOB, version=1)) for i, f in enumerate(clip[:60])]
    small = [cv2.resize(f, (W // 2, H // 2), interpolation=cv2.INTER_AREA) for f in m]
    r = wm.detect(read_frames(write_h264(str(tmp_path / "v1.mp4"), small, crf=23))[0], FPS)
    assert r["detected"] and r["payload_valid"]
    assert r["payload"] == {"tool": wm.TOOL_ID, "tool_name": "Reenact", "version": 1, "job_id": "{:010x}".format(JOB)}


def test_region_mask_leaves_outside_bit_exact(clip):
    f = clip[5]
    mask = np.zeros(f.shape[:2], np.float32)
    mask[100:250, 200:400] = 1.0
    mask[100:250, 180:200] = 0.5  # a feathered edge
    out = wm.mark_frame(f, 5, wm.DEFAULT_KEY, JOB, mask=mask)
    d = np.abs(out.astype(int) - f)
    peak = int(np.abs(wm.mark_delta(H, W, JOB, frame=f)).max())
    assert d[mask == 0].max() == 0             # outside the region: unchanged
    assert 0 < d[mask > 0].max() <= peak       # inside: changed by the mark only, at most its peak
    out_b = wm.mark_frame(f, 5, wm.DEFAULT_KEY, JOB, mask=mask > 0)
    assert np.abs(out_b.astype(int) - f)[mask == 0].max() == 0


def test_mark_keeps_off_the_lips(clip):
    """mark_frame(keep_out=...) scales the mark by 1 - weight in its box (no change where the
    weight is 1); the rest of the frame carries the plain mark raised a little, what the keep-out
    took given back (KEEP_OUT_MAKEUP: within a level of the plain mark, the same sign, the same
    energy over the frame); the render path's mark_performance keeps it off the lips of the
    performance's mesh (a face tracker read it as lip motion) and the frames are still read."""
    from reenact.face.topology import load_topology
    from reenact.render.donor import OUTER_LIP
    from reenact.render.marking import mark_performance

    f = clip[5]
    plain = wm.mark_frame(f, 5, wm.DEFAULT_KEY, JOB)
    wgt = np.zeros((60, 80), np.float32)
    wgt[10:50, 10:70] = 1.0
    wgt[10:50, 5:10] = 0.5
    out = wm.mark_frame(f, 5, wm.DEFAULT_KEY, JOB, keep_out=((200, 100, 280, 160), wgt))
    inside = np.zeros(f.shape[:2], bool)
    inside[100:160, 200:280] = True
    d_out, d_plain = out.astype(int) - f, plain.astype(int) - f
    rest = ~inside
    assert np.abs(d_out[rest] - d_plain[rest]).max() <= 1 and np.abs(d_out).max() <= wm.MAX_CHANGE
    assert (d_out[rest] * d_plain[rest] >= 0).all() and (np.abs(d_out[rest]) >= np.abs(d_plain[rest])).all()
    assert (d_out[rest] != d_plain[rest]).any()  # raised somewhere
    energy = float((d_out.astype(float) ** 2).sum()) / float((d_plain.astype(float) ** 2).sum())
    assert 0.97 < energy < 1.03, energy
    box = (slice(100, 160), slice(200, 280))
    assert (out[box][wgt == 1] == f[box][wgt == 1]).all()
    assert np.abs(out.astype(int) - plain)[box][wgt == 0].max() <= 1
    assert np.abs(plain.astype(int) - f)[box][wgt == 1].max() > 0  # the mark was there
    # a face mesh over the frame: its lips are left as they were, the rest is marked
    m = np.asarray(load_topology().mean_shape, np.float64)[:, :2]
    pts = (m - m.mean(0)) / np.ptp(m[:, 1]) * np.array([1.0, -1.0]) * 200 + (W / 2, H / 2)
    lips = pts[list(OUTER_LIP)]
    cx, cy = np.round(lips.mean(0)).astype(int)
    got = mark_performance(f, 5, wm.make_payload(JOB), pts)
    np.testing.assert_array_equal(got[cy - 1:cy + 2, cx - 3:cx + 4], f[cy - 1:cy + 2, cx - 3:cx + 4])
    assert np.abs(got[:40].astype(int) - plain[:40]).max() <= 1  # far from the lips: the plain mark, made up
    np.testing.assert_array_equal(mark_performance(f, 5, wm.make_payload(JOB), None), plain)
    frames = [mark_performance(g, i, wm.make_payload(JOB), pts) for i, g in enumerate(clip[:30])]
    r = wm.detect(frames, FPS, wm.DEFAULT_KEY)
    assert r["detected"] and r["payload"]["job_id"] == wm.make_payload(JOB).to_dict()["job_id"]


# ----------------------------------------------------------------------------- detection
def test_marked_clip_survives_h264_crf28(tmp_path, marked):
    frames, fps = read_frames(write_h264(str(tmp_path / "marked.mp4"), marked, crf=28))
    r = wm.detect(frames, fps)
    assert r["detected"] and r["payload_valid"]
    assert r["payload"]["job_id"] == "{:010x}".format(JOB) and r["payload"]["tool"] == wm.TOOL_ID
    assert r["false_positive_probability"] < 1e-6
    assert [w["detected"] for w in r["windows"]] == [True, True, True]
    assert r["frame_ranges"] == [[0, 90]] and r["ranges"] == [[0.0, 3.0]]


def test_marked_clip_survives_downscale_and_reencode(tmp_path, marked):
    import cv2

    small = [cv2.resize(f, (W // 2, H // 2), interpolation=cv2.INTER_AREA) for f in marked]
    frames, fps = read_frames(write_h264(str(tmp_path / "small.mp4"), small, crf=23))
    r = wm.detect(frames, fps)
    assert r["detected"] and r["payload"] and r["payload"]["job_id"] == "{:010x}".format(JOB)


def test_uncropped_copy_read_by_the_scale_one_test_cropped_copy_by_the_search(tmp_path, clip):
    """A faint mark (format 1 at 1.4 levels RMS) after a 50 % downscale + CRF 28 is found by
    the single test at scale 1, no shift (threshold 4.89), where the search over every scale and
    shift (6.91) misses some windows; a cropped copy is found by the search; unmarked windows'
    scale-1 scores behave as the standard normal the threshold assumes."""
    import cv2

    faint = [wm.mark_frame(f, i, wm.DEFAULT_KEY, wm.Payload(JOB, version=1), strength=1.4) for i, f in enumerate(clip)]
    small = [cv2.resize(f, (W // 2, H // 2), interpolation=cv2.INTER_AREA) for f in faint]
    frames, fps = read_frames(write_h264(str(tmp_path / "faint.mp4"), small, crf=28))
    r = wm.detect(frames, fps)
    assert [w["detected"] for w in r["windows"]] == [True, True, True]
    assert r["alignment"] == {"scale": 1.0, "shift_cells": [0.0, 0.0]}
    det = wm.Detector()
    for w in r["windows"]:
        assert w["score"] == w["prior_score"]
        assert w["false_positive_probability"] == pytest.approx(det.prior_probability(w["prior_score"]), rel=0.1)
    assert any(det.search_probability(w["search_score"]) >= wm.FALSE_POSITIVE_LIMIT for w in r["windows"])

    h, w0 = H // 10, W // 10
    crop = [wm.mark_frame(f, i, wm.DEFAULT_KEY, JOB)[h:H - h, w0:W - w0] for i, f in enumerate(clip[:60])]
    rc = wm.detect(read_frames(write_h264(str(tmp_path / "crop.mp4"), crop, crf=28))[0], fps)
    assert rc["detected"] and rc["payload"]["job_id"] == "{:010x}".format(JOB)
    assert abs(rc["alignment"]["scale"] - 1.25) < 0.02

    ims = [wm.work_image(f) for f in read_frames(write_h264(str(tmp_path / "clean.mp4"), clip, crf=28))[0]]
    prior = []
    for k in range(30):
        rk = wm.detect(ims, fps, key="someone-else-{}".format(k), prepared=True)
        assert not rk["detected"]
        prior += [w["prior_score"] for w in rk["windows"]]
    assert abs(np.mean(prior)) < 0.5 and 0.6 < np.std(prior) < 1.3 and max(prior) < 4.0


def test_unmarked_clip_is_not_detected(tmp_path, clip):
    frames, fps = read_frames(write_h264(str(tmp_path / "clean.mp4"), clip, crf=23))
    r = wm.detect(frames, fps)
    assert not r["detected"] and r["payload"] is None and r["ranges"] == []
    assert all(not w["detected"] for w in r["windows"])
    # other keys: nothing either (the benchmark runs 10,000 such windows)
    ims = [wm.work_image(f) for f in frames]
    for k in range(8):
        assert not wm.detect(ims, fps, key="someone-else-{}".format(k), prepared=True)["detected"]
    # and another key does not read Reenact's mark
    m = [wm.mark_frame(f, i, wm.DEFAULT_KEY, JOB) for i, f in enumerate(clip[:30])]
    assert not wm.detect(m, fps, key="someone-else")["detected"]


def test_only_seconds_one_to_two_marked(tmp_path, clip):
    pl = wm.make_payload(JOB)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 30 <= i < 60 else f for i, f in enumerate(clip)]
    dec, fps = read_frames(write_h264(str(tmp_path / "part.mp4"), frames, crf=23))
    r = wm.detect(dec, fps)
    assert [w["detected"] for w in r["windows"]] == [False, True, False]
    assert [(w["start"], w["end"]) for w in r["windows"]] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]
    assert len(r["frame_ranges"]) == 1
    a, b = r["frame_ranges"][0]
    assert abs(a - 30) <= 2 and abs(b - 60) <= 2
    assert r["payload"]["job_id"] == "{:010x}".format(JOB)


def _flat(f, i):
    """A flat picture (a gradient and a little grain): where the mark is weakest."""
    g = np.linspace(100, 140, f.shape[1], dtype=np.float32)[None, :, None] * np.ones((f.shape[0], 1, 3), np.float32)
    return np.clip(g + np.random.default_rng(i).normal(0, 1.5, f.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("edits,flat_from", [([(50, 60)], None), ([(41, 47)], None), ([(0, 12)], None),
                                             ([(70, 90)], None), ([(5, 80)], None), ([(33, 40), (48, 56)], None),
                                             ([(10, 40), (46, 80)], None), ([(20, 90)], 60), ([(0, 90)], 45)])
def test_an_edit_is_placed_to_the_frame_within_its_second_and_at_the_file_s_edges(tmp_path, clip, edits, flat_from):
    """A dub of a word (ten frames, six) makes its whole second detected; the frames are placed
    by their own scores. Before 2026-12-06 only an edge between a detected and an undetected
    window was placed, and only where the window's median frame was marked: 50-60 read as 30-59,
    41-47 as 30-59, an edit from or to the file's edge as reaching a whole second (0-12: 0-29),
    two edits six frames apart as one. A marked stretch of flat content (``flat_from`` on) scores a
    fraction of textured content's and is kept (a first version of the placing dropped it)."""
    from reenact.video import VideoWriter

    pl = wm.make_payload(JOB)
    inside = [any(a <= i < b for a, b in edits) for i in range(len(clip))]
    frames = [_flat(f, i) if flat_from is not None and i >= flat_from else f for i, f in enumerate(clip)]
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if inside[i] else f for i, f in enumerate(frames)]
    path = str(tmp_path / "edit.mp4")
    with VideoWriter(path, FPS, (frames[0].shape[1], frames[0].shape[0]), crf=23, preset="veryfast") as w:
        for i, f in enumerate(frames):
            w.write(f, segment=inside[i])  # (as the render path writes: the edges coded on their own)
    r = wm.detect(*read_frames(path))
    got = r["frame_ranges"]
    assert len(got) == len(edits) and all(abs(fa - a) <= 1 and abs(fb - b) <= 1 for (fa, fb), (a, b) in zip(got, edits)), \
        (got, edits)


def test_an_unmarked_second_between_marked_ones_is_not_reported(tmp_path, clip):
    """H.264 predicts the frames after a marked stretch from it: where the background is static
    the copied frames carry the mark (the tests' clip: a static texture), and an unmarked second
    between two marked ones read as synthesised. The movie writer codes the frame where marked
    and unmarked meet on its own (``segment``, as the render path and restyle apply do)."""
    from reenact.video import VideoWriter

    pl = wm.make_payload(JOB)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if i < 30 or i >= 60 else f for i, f in enumerate(clip)]
    got = {}
    for keys in ((), (30, 60)):
        path = str(tmp_path / "gap{}.mp4".format(len(keys)))
        with VideoWriter(path, FPS, (frames[0].shape[1], frames[0].shape[0]), crf=23, preset="veryfast") as w:
            for i, f in enumerate(frames):
                w.write(f, segment=(i < 30 or i >= 60) if keys else None)  # (30, 60): the segments' edges
        got[keys] = wm.detect(*read_frames(path))
    assert [w["detected"] for w in got[()]["windows"]] == [True, True, True]  # the copies carry it
    r = got[(30, 60)]
    assert [w["detected"] for w in r["windows"]] == [True, False, True]
    assert [[abs(a - e0) <= 1, abs(b - e1) <= 1] for (a, b), (e0, e1) in zip(r["frame_ranges"], ((0, 30), (60, 90)))] \
        == [[True, True], [True, True]] and len(r["frame_ranges"]) == 2
    assert r["payload"]["job_id"] == "{:010x}".format(JOB)


def test_a_window_the_sync_test_misses_is_found_with_the_file_s_payload(tmp_path, clip):
    """A second marked more weakly (strength 1.0 of 2.3) than the rest: its sync cells alone read
    under the threshold; once the payload is read from the other windows, the whole tile on the
    window's changing pixels at its neighbour's alignment finds it (provenance/second_look.py)."""
    from reenact.provenance import second_look

    pl = wm.make_payload(JOB)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl, strength=1.0 if i < 30 else wm.DEFAULT_STRENGTH)
              for i, f in enumerate(clip)]
    dec, fps = read_frames(write_h264(str(tmp_path / "weak.mp4"), frames, crf=23))
    r = wm.detect(dec, fps)
    w0 = r["windows"][0]
    assert w0["score"] < 4.89 and w0["second_look"] >= second_look.SECOND_LOOK_Z
    assert [w["detected"] for w in r["windows"]] == [True, True, True] and r["frame_ranges"] == [[0, 90]]
    assert w0["payload_match"] and w0["false_positive_probability"] <= 1e-6
    # without the payload's other windows there is nothing to look again with
    alone = wm.detect(dec[:30], fps)
    assert not alone["detected"] and "second_look" not in alone["windows"][0]


def test_png_round_trip(tmp_path):
    import cv2

    f = synthetic_clip(1, size=(960, 540), seed=3)[0]
    m = wm.mark_frame(f, 0, wm.DEFAULT_KEY, JOB)
    p = str(tmp_path / "still.png")
    cv2.imwrite(p, cv2.cvtColor(m, cv2.COLOR_RGB2BGR))
    back = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, m)
    r = wm.detect([back], 25)
    assert r["detected"] and r["payload"]["job_id"] == "{:010x}".format(JOB)
    assert not wm.detect([f], 25)["detected"]


def test_shared_clip_crf28(tmp_path):
    from conftest import shared_clip

    path = shared_clip("driving_d14.mp4")
    frames, fps = read_frames(path)
    frames = frames[:60]
    m = [wm.mark_frame(f, i, wm.DEFAULT_KEY, JOB) for i, f in enumerate(frames)]
    dec, fps2 = read_frames(write_h264(str(tmp_path / "d14.mp4"), m, crf=28, fps=fps))
    r = wm.detect(dec, fps2)
    assert r["detected"] and r["payload"]["job_id"] == "{:010x}".format(JOB)
    assert not wm.detect(frames, fps)["detected"]


# ----------------------------------------------------------------------------- C2PA
def _tmp_leftovers(folder):
    return [n for n in os.listdir(folder) if ".reenact-" in n or ".tmp-" in n]


@pytest.fixture(scope="module")
def signed_movie(tmp_path_factory, marked):
    return str(tmp_path_factory.mktemp("signed") / "render.mp4")


def test_c2pa_sign_movie_and_read_back(tmp_path, marked):
    from reenact.provenance.manifest import read_manifest, sign_file

    src = write_h264(str(tmp_path / "footage.mp4"), marked[:30], crf=30)
    out = write_h264(str(tmp_path / "render.mp4"), marked[:30], crf=30)
    size0 = os.path.getsize(out)
    info = sign_file(out, action="c2pa.edited", payload=JOB, source=src, parameters={"region": "mouth"})
    assert 0 < info["bytes_added"] <= 10_000 and info["local_chain"]
    assert os.path.getsize(out) == size0 + info["bytes_added"]
    assert _tmp_leftovers(str(tmp_path)) == []
    m = read_manifest(out)
    assert m["present"] and m["valid"], m
    acts = [a["action"] for a in m["actions"]]
    assert acts == ["c2pa.opened", "c2pa.edited"]
    edited = m["actions"][1]
    assert edited["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert edited["softwareAgent"].startswith("Reenact")
    assert m["soft_binding"]["alg"] == wm.ALGORITHM
    assert m["soft_binding"]["value"].endswith("{:010x}".format(JOB))
    assert "Reenact" in (m["signer"] or "")
    # the signed file still plays and still carries the mark
    frames, fps = read_frames(out)
    assert len(frames) == 30 and wm.detect(frames, fps)["detected"]
    # a tampered copy: the manifest no longer validates
    data = bytearray(open(out, "rb").read())
    k = data.find(b"mdat") + 200
    data[k:k + 64] = bytes(64)
    bad = str(tmp_path / "tampered.mp4")
    open(bad, "wb").write(bytes(data))
    assert not read_manifest(bad)["valid"]


def test_c2pa_sign_png_created(tmp_path):
    import cv2

    from reenact.provenance.manifest import read_manifest, sign_file

    f = wm.mark_frame(synthetic_clip(1, (320, 240), seed=4)[0], 0, wm.DEFAULT_KEY, JOB)
    p = str(tmp_path / "frame.png")
    cv2.imwrite(p, cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    info = sign_file(p, action="c2pa.created", payload=JOB)
    assert info["bytes_added"] <= 10_000
    m = read_manifest(p)
    assert m["valid"] and [a["action"] for a in m["actions"]] == ["c2pa.created"]
    assert m["actions"][0]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    back = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
    assert np.array_equal(back, f)  # signing does not touch the pixels
    # unsigned file: manifest absent
    q = str(tmp_path / "plain.png")
    cv2.imwrite(q, cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    assert read_manifest(q)["present"] is False


def test_c2pa_sign_failure_leaves_nothing(tmp_path):
    from reenact.provenance.manifest import ManifestError, sign_file

    p = tmp_path / "not-a-movie.mp4"
    p.write_bytes(b"\x00" * 1000)
    before = p.read_bytes()
    with pytest.raises(ManifestError) as e:
        sign_file(str(p), action="c2pa.created", payload=JOB)
    assert str(p) in str(e.value) and "\n" not in str(e.value)
    assert p.read_bytes() == before and _tmp_leftovers(str(tmp_path)) == []


class _NoPythonStreams:
    def __init__(self, *a, **k):
        raise AssertionError("signing went through c2pa-python's Python stream callbacks")


def _top_boxes(data):
    """[(type, size)] of an MP4's top-level boxes."""
    import struct

    out, i = [], 0
    while i < len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        size = struct.unpack(">Q", data[i + 8:i + 16])[0] if size == 1 else size or len(data) - i
        out.append((kind.decode("latin-1"), size))
        i += size
    return out


def _frame_digests(path):
    import hashlib

    from reenact.video import open_video

    with open_video(path) as src:
        return [hashlib.sha1(f.tobytes()).hexdigest() for _i, f in src.iter_frames()]


def _check_render_manifest(path):
    from reenact._version import __version__
    from reenact.provenance.manifest import read_manifest

    m = read_manifest(path)
    assert m["present"] and m["valid"], m
    assert [a["action"] for a in m["actions"]] == ["c2pa.opened", "c2pa.edited"]
    assert m["actions"][1]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert m["actions"][1]["softwareAgent"] == "Reenact " + __version__
    assert m["claim_generator"] == "Reenact " + __version__
    assert m["soft_binding"] == {"alg": wm.ALGORITHM, "value": "52{}{:010x}".format(wm.FORMAT_VERSION, JOB)}


def test_a_render_s_frame_range_reads_back_from_its_manifest(tmp_path):
    """The frames a render or restyle records with its action read back as written (before
    2026-12-06 an array of numbers: the reader showed [45, 75] as "LUs=" and [300, 400] as "LJA=",
    base64 bytes wrapped at 256)."""
    import types

    import cv2

    from reenact.provenance.manifest import read_manifest, sign_file
    from reenact.render.marking import manifest_parameters

    png = str(tmp_path / "frame.png")
    cv2.imwrite(png, np.full((64, 64, 3), 100, np.uint8))
    params = manifest_parameters(types.SimpleNamespace(path="/models/actor.onnx"), "mouth", (300, 400),
                                 wm.make_payload(JOB))
    sign_file(png, action="c2pa.edited", payload=JOB, parameters=params)
    act = read_manifest(png)["actions"][-1]
    assert act["parameters"]["frames"] == "300-399" and act["parameters"]["region"] == "mouth"


def _tampered_copy(data, at, folder, name):
    bad = bytearray(data)
    bad[at:at + 16] = bytes(16)
    path = os.path.join(folder, name)
    open(path, "wb").write(bytes(bad))
    return path


def test_c2pa_sign_large_movie_appended_and_rewritten(tmp_path, monkeypatch):
    """A few-MB 1080p movie from the render path's writer, signed in place: the manifest box is
    appended (the file before it bit-exact, one C2PA ``uuid`` box after it), valid with the
    render's assertions, the same frames; a copy tampered deep in the media data or in ``moov``
    no longer validates. The full rewrite (``REENACT_C2PA_IO=rewrite``: the native library
    reads and writes the files itself; ``python``: c2pa-python's streams) writes the same boxes
    with the manifest after ``ftyp``, also valid; a movie that already has a manifest is
    rewritten, not given a second box."""
    import sys

    import c2pa

    from bench.watermark import noisy_movie
    from reenact.provenance import c2pa_io
    from reenact.provenance.manifest import read_manifest, sign_file

    movie = str(tmp_path / "render.mp4")
    size0 = noisy_movie(movie, 2.0)
    assert size0 > 2_500_000
    unsigned = open(movie, "rb").read()
    frames0 = _frame_digests(movie)
    rewritten, other = str(tmp_path / "rewritten.mp4"), str(tmp_path / "python_streams.mp4")
    open(rewritten, "wb").write(unsigned)
    open(other, "wb").write(unsigned)

    with monkeypatch.context() as m:
        if sys.platform.startswith("linux"):
            # the pinned c2pa-python's library has the embeddable API, and the file is hashed by
            # the native library reading it itself
            assert c2pa_io.append_available() and c2pa_io.native_available()
            m.setattr(c2pa.c2pa, "Stream", _NoPythonStreams)
        info = sign_file(movie, action="c2pa.edited", payload=JOB, parameters={"frames": [0, 60]})
    assert info["embedding"] == "appended" and 0 < info["bytes_added"] <= 10_000
    signed = open(movie, "rb").read()
    assert len(signed) == size0 + info["bytes_added"] and signed[:size0] == unsigned
    assert _top_boxes(signed)[-1] == ("uuid", info["bytes_added"]) and signed[size0 + 8:size0 + 24] == c2pa_io.C2PA_UUID
    assert _tmp_leftovers(str(tmp_path)) == []
    _check_render_manifest(movie)
    assert _frame_digests(movie) == frames0  # plays, the same frames
    moov = unsigned.find(b"moov") - 4
    for at, name in ((len(unsigned) * 3 // 4, "tampered_mdat.mp4"), (moov + 200, "tampered_moov.mp4")):
        t = read_manifest(_tampered_copy(signed, at, str(tmp_path), name))
        assert t["present"] and not t["valid"], name

    # the full rewrite: the manifest after ftyp, every other box the same
    monkeypatch.setenv("REENACT_C2PA_IO", "rewrite")
    assert not c2pa_io.append_available()
    info2 = sign_file(rewritten, action="c2pa.edited", payload=JOB, parameters={"frames": [0, 60]})
    assert info2["embedding"] == "rewritten" and abs(info2["bytes_added"] - info["bytes_added"]) <= 64
    _check_render_manifest(rewritten)
    signed2 = open(rewritten, "rb").read()
    mdat = unsigned.find(b"mdat") - 4
    assert signed2.endswith(unsigned[mdat:])
    boxes, boxes2 = _top_boxes(signed), _top_boxes(signed2)
    assert boxes2[1][0] == "uuid" and boxes2[-1][0] == "mdat"
    assert [b for b in boxes if b[0] != "uuid"] == [b for b in boxes2 if b[0] != "uuid"]
    # c2pa-python's own streams write the same movie (only the manifest differs: time, signature)
    monkeypatch.setenv("REENACT_C2PA_IO", "python")
    assert not c2pa_io.native_available() and not c2pa_io.append_available()
    info3 = sign_file(other, action="c2pa.edited", payload=JOB, parameters={"frames": [0, 60]})
    assert abs(info3["bytes_added"] - info2["bytes_added"]) <= 64 and read_manifest(other)["valid"]
    assert _top_boxes(open(other, "rb").read()) == [(k, n + (info3["bytes_added"] - info2["bytes_added"]) * (k == "uuid"))
                                                   for k, n in boxes2]
    t = read_manifest(_tampered_copy(signed2, len(signed2) * 3 // 4, str(tmp_path), "tampered2.mp4"))
    assert t["present"] and not t["valid"]

    # a movie that has a manifest already is not given a second box
    monkeypatch.delenv("REENACT_C2PA_IO")
    assert c2pa_io.append_refusal(movie) == "the file already has a C2PA manifest box"
    again = sign_file(movie, action="c2pa.edited", payload=JOB, parameters={"frames": [0, 60]})
    assert again["embedding"] == "rewritten"
    assert [b[0] for b in _top_boxes(open(movie, "rb").read())].count("uuid") == 1
    assert read_manifest(movie)["valid"]


def test_c2pa_append_failure_leaves_the_movie_as_it_was(tmp_path, monkeypatch):
    """The appended manifest's write fails half-way (disk full): the movie is truncated back to
    its exact old bytes, one clear line, nothing left behind; a file that is not a clean box
    sequence is rewritten instead of appended to; a movie left by a process killed between the
    box's body and its header still plays and is signed again."""
    import errno

    from reenact.provenance import c2pa_io
    from reenact.provenance.manifest import ManifestError, read_manifest, sign_file

    clip = write_h264(str(tmp_path / "clip.mp4"), synthetic_clip(10, (320, 240), seed=2), crf=30)
    before = open(clip, "rb").read()
    if c2pa_io.append_refusal(clip) is not None:
        pytest.skip("appending is not available here: " + c2pa_io.append_refusal(clip))
    real = os.pwrite

    def half_then_full(fd, data, offset):
        real(fd, data[:len(data) // 2], offset)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), clip)

    monkeypatch.setattr(os, "pwrite", half_then_full)
    with pytest.raises(ManifestError) as e:
        sign_file(clip, action="c2pa.edited", payload=JOB)
    monkeypatch.undo()
    assert "clip.mp4" in str(e.value) and "No space left" in str(e.value) and "\n" not in str(e.value)
    assert open(clip, "rb").read() == before and _tmp_leftovers(str(tmp_path)) == []
    assert not read_manifest(clip)["present"]

    # trailing bytes that are no box: refused for appending (sign_file then rewrites)
    odd = str(tmp_path / "odd.mp4")
    open(odd, "wb").write(before + b"\0\0\0\0")
    assert c2pa_io.append_refusal(odd) == "not a plain sequence of top-level boxes starting with ftyp"

    # killed between the body and the header (the header is written last): the movie ends in a
    # box of size 0 and no type, plays, has no manifest, and is signed again (rewritten)
    from reenact.video import open_video

    torn = str(tmp_path / "torn.mp4")
    open(torn, "wb").write(before + bytes(8) + b"x" * 4000)
    assert not read_manifest(torn)["present"]
    with open_video(torn) as v:
        assert sum(1 for _ in v.iter_frames()) == 10
    assert sign_file(torn, action="c2pa.edited", payload=JOB)["embedding"] == "rewritten"
    assert read_manifest(torn)["valid"]


def test_c2pa_sign_unwritable_destination_leaves_nothing(tmp_path):
    from reenact.provenance.manifest import ManifestError, sign_file

    clip = write_h264(str(tmp_path / "clip.mp4"), synthetic_clip(10, (320, 240), seed=2), crf=30)
    before = open(clip, "rb").read()
    dest = str(tmp_path / "missing" / "out.mp4")
    with pytest.raises(ManifestError) as e:
        sign_file(clip, action="c2pa.created", payload=JOB, out=dest)
    assert "cannot write the signed file" in str(e.value) and "\n" not in str(e.value)
    assert open(clip, "rb").read() == before and _tmp_leftovers(str(tmp_path)) == []
    assert not os.path.exists(os.path.dirname(dest))


def test_c2pa_io_replace_is_atomic_and_removes_the_old_file(tmp_path):
    from reenact.provenance.c2pa_io import replace

    out, tmp = tmp_path / "a.mp4", tmp_path / ".a.mp4.reenact-1.mp4"
    out.write_bytes(b"old")
    tmp.write_bytes(b"new")
    fd = os.open(str(out), os.O_RDONLY)
    try:
        replace(str(tmp), str(out))
        assert out.read_bytes() == b"new" and not tmp.exists()
        assert os.fstat(fd).st_nlink == 0  # the old file is gone, not left under another name
    finally:
        os.close(fd)
    assert sorted(os.listdir(tmp_path)) == ["a.mp4"]
    tmp.write_bytes(b"first")  # no destination yet: a plain rename
    replace(str(tmp), str(tmp_path / "b.mp4"))
    assert (tmp_path / "b.mp4").read_bytes() == b"first" and not tmp.exists()
    (tmp_path / "c.mp4").mkdir()  # a folder in the way is not swapped away
    tmp.write_bytes(b"x")
    with pytest.raises(OSError):
        replace(str(tmp), str(tmp_path / "c.mp4"))
    assert (tmp_path / "c.mp4").is_dir() and tmp.read_bytes() == b"x"


# ----------------------------------------------------------------------------- reenact verify
def test_verify_cli(tmp_path, marked, clip, capsys):
    from reenact.cli import main
    from reenact.provenance.manifest import sign_file

    pl = wm.make_payload(JOB)
    part = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if i >= 30 else f for i, f in enumerate(clip)]
    movie = write_h264(str(tmp_path / "part.mp4"), part, crf=23)
    sign_file(movie, action="c2pa.edited", payload=pl)
    plain = write_h264(str(tmp_path / "plain.mp4"), clip[:30], crf=23)
    assert main(["verify", movie, plain, "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    r, c = out["results"]
    assert out["errors"] == []
    w = r["watermark"]
    assert w["detected"] and w["payload"]["job_id"] == "{:010x}".format(JOB)
    assert [x["detected"] for x in w["windows"]] == [False, True, True]
    assert set(w["windows"][0]) >= {"start", "end", "detected", "score"}
    assert abs(w["frame_ranges"][0][0] - 30) <= 2 and w["frame_ranges"][0][1] == 90
    assert r["manifest"]["present"] and r["manifest"]["valid"]
    assert [a["action"] for a in r["manifest"]["actions"]] == ["c2pa.opened", "c2pa.edited"]
    assert not c["watermark"]["detected"] and c["manifest"]["present"] is False
    # human-readable
    assert main(["verify", movie]) == 0
    text = capsys.readouterr().out
    assert "DETECTED" in text and "synthesised: " in text and "manifest: present, valid" in text
    # a folder of frames
    import cv2

    d = tmp_path / "frames"
    d.mkdir()
    for i, f in enumerate(marked[:30]):
        cv2.imwrite(str(d / "frame_{:04d}.png".format(i)), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    assert main(["verify", str(d), "--json", "--fps", "30"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"][0]
    assert r["watermark"]["detected"] and r["frames"] == 30 and r["manifest"]["present"] is False
    assert r["manifests"] == {"frames": 30, "signed": 0, "valid": 0, "invalid": []}
    # a render's folder: only the synthesised frames are signed, so the first frame is not; every
    # frame's manifest is read, and one edited afterwards is named
    from reenact.provenance.manifest import sign_file as sign

    for i in range(10, 30):
        sign(str(d / "frame_{:04d}.png".format(i)), action="c2pa.edited", payload=JOB)
    f = d / "frame_0017.png"
    img = cv2.imread(str(f))
    img[5, 5] = 255 - img[5, 5]
    ok, buf = cv2.imencode(".png", img)  # the pixels edited, the manifest copied over unchanged
    data = f.read_bytes()
    start = data.find(b"caBX") - 4
    size = int.from_bytes(data[start:start + 4], "big") + 12
    png = buf.tobytes()
    f.write_bytes(png[:33] + data[start:start + size] + png[33:])
    assert main(["verify", str(d), "--json", "--fps", "30"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["results"][0]
    assert r["manifest"]["present"] and r["manifest"]["valid"] and r["manifest"]["of"] == "frame_0010.png"
    assert r["manifests"] == {"frames": 30, "signed": 20, "valid": 19, "invalid": ["frame_0017.png"]}
    assert main(["verify", str(d), "--fps", "30"]) == 0
    text = capsys.readouterr().out
    assert "manifests: 20 of 30 frames signed, 1 INVALID (frame_0017.png)" in text
    assert "manifest (frame_0010.png): present, valid" in text


def test_verify_reads_a_folder_with_frames_missing_and_a_movie_cut_short(tmp_path, clip, capsys):
    """A delivered folder with a few frames deleted, and a partly downloaded movie: verified on
    what is there, saying so (before 2026-12-06: no verdict, "image sequence has 10 missing
    frame(s): render, restyle and train need every frame", and "open with allow_truncated=True")."""
    import cv2

    from reenact.cli import main
    from reenact.provenance.verify import verify_path

    pl = wm.make_payload(JOB)
    frames = [wm.mark_frame(f, i, wm.DEFAULT_KEY, pl) if 30 <= i < 60 else f for i, f in enumerate(clip)]
    d = tmp_path / "delivered"
    d.mkdir()
    for i, f in enumerate(frames):
        if i not in (5, 6, 70):
            cv2.imwrite(str(d / "frame_{:04d}.png".format(i)), f[:, :, ::-1])
    r = verify_path(str(d), fps=FPS, manifest=False)
    assert r["missing_frames"] == [5, 6, 70] and r["frames"] == 90
    (a, b), = r["watermark"]["frame_ranges"]  # (the frames after a gap keep their times)
    assert abs(a - 30) <= 1 and abs(b - 60) <= 1
    movie = write_h264(str(tmp_path / "whole.mp4"), frames, crf=23)
    data = open(movie, "rb").read()
    cut = tmp_path / "partial.mp4"
    cut.write_bytes(data[:int(len(data) * 0.75)])
    r = verify_path(str(cut), manifest=False)
    assert r["truncated"] and 30 < r["frames"] < 90 and r["watermark"]["detected"]
    assert main(["verify", str(d), "--fps", "30"]) == 0
    assert "3 frame(s) missing from the sequence (5, 6, 70): read as blank" in capsys.readouterr().out
    assert main(["verify", str(cut)]) == 0
    assert "the file is truncated: verified on its first" in capsys.readouterr().out


def test_verify_cli_bad_input(tmp_path, capsys):
    from reenact.cli import main

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a movie at all")
    assert main(["verify", str(bad)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and err[0].startswith("reenact: error: ")
    assert main(["verify", str(tmp_path / "missing.mp4"), "--json"]) != 0
    cap = capsys.readouterr()
    assert "missing.mp4" in cap.err and json.loads(cap.out)["errors"][0]["file"].endswith("missing.mp4")


def test_verify_path_image_list_progress_and_cancel(tmp_path, marked):
    """What Blender's Verify Strip calls for an image-sequence strip: a list of files, a progress
    callback, cancel."""
    import cv2

    from reenact.progress import Cancelled
    from reenact.provenance.verify import verify_path

    files = []
    for i, f in enumerate(marked[:30]):
        p = str(tmp_path / "shot_{:03d}.png".format(i))
        cv2.imwrite(p, cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        files.append(p)
    seen = []
    r = verify_path(files, fps=30, manifest=False, progress=lambda d, t, m="": seen.append((d, t)) or True)
    assert r["kind"] == "sequence" and r["watermark"]["detected"] and r["watermark"]["frame_ranges"] == [[0, 30]]
    assert seen[-1] == (30, 30)
    with pytest.raises(Cancelled):
        verify_path(files, fps=30, manifest=False, progress=lambda d, t, m="": d < 5)
    seen = []  # with the manifests: one progress over the frames, then their manifests
    verify_path(files, fps=30, progress=lambda d, t, m="": seen.append((d, t)) or True)
    assert [d for d, _t in seen] == list(range(1, 61)) and {t for _d, t in seen} == {60}
    with pytest.raises(Cancelled):
        verify_path(files, fps=30, progress=lambda d, t, m="": d < 40)  # cancelled among the manifests


# ----------------------------------------------------------------------------- the render path
def test_render_marks_what_it_synthesises_and_signs_the_movie(carphone, carphone_edit, tmp_path):
    """A render of frames 30..89 of carphone (30 fps): the watermark with the render's job id is
    found in the rendered seconds and not in the copied ones; the movie carries a valid C2PA
    manifest; chunks of the same job carry the same id; Preview Frame marks the same way."""
    from reenact.provenance.verify import verify_path
    from reenact.render.cache import source_identity
    from reenact.render.pipeline import render_clip
    from reenact.render.oneframe import render_frame
    from reenact.render.renderer import BASE_MODEL
    from reenact.video import open_video

    out = str(tmp_path / "dub.mp4")
    s = render_clip(carphone_edit, carphone, BASE_MODEL, out=out, frames=(30, 90), region="face",
                    prefer_gpu=False)
    assert s["watermark"] and len(s["job_id"]) == 10 and s["manifest"]["out"] == out
    # hashed while the movie was written (reenact.provenance.movie_signing), not afterwards
    assert s["manifest"]["prehashed"] and s["manifest"]["fallback"] is None, s["manifest"]
    v = verify_path(out)
    w = v["watermark"]
    assert w["detected"] and w["payload"]["job_id"] == s["job_id"] and w["payload"]["tool_name"] == "Reenact"
    flags = [win["detected"] for win in w["windows"]]
    assert flags[0] is False and flags[1] is True and flags[2] is True  # 0-1 s copied, 1-3 s rendered
    assert v["manifest"]["present"] and v["manifest"]["valid"]
    assert any(a.get("action") == "c2pa.edited" for a in v["manifest"]["actions"])
    # another chunk of the same job: the same id; Preview Frame of one of its frames too
    other = render_clip(carphone_edit, carphone, BASE_MODEL, out=None, frames=(90, 95), region="face",
                        prefer_gpu=False)
    assert other["job_id"] == s["job_id"]
    got = {}
    render_clip(carphone_edit, carphone, BASE_MODEL, frames=(40, 41), region="face", prefer_gpu=False,
                on_frame=lambda i, f: got.__setitem__(i, f), cache_dir=str(tmp_path / "c"))
    with open_video(carphone) as src:
        frame = src.read(40)
    one, _ = render_frame(carphone_edit, frame, 40, BASE_MODEL, region="face", cache_dir=str(tmp_path / "c"),
                          source_id=source_identity(carphone), prefer_gpu=False, video=carphone)
    np.testing.assert_array_equal(one, got[40])


def test_the_local_chain_made_by_several_processes_at_once_is_one_chain(tmp_path):
    """A farm's chunks signing for the first time at once: each makes a chain and moves it into
    place whole, so the key always belongs to the certificate (before 2026-12-05 they all wrote
    into the one folder, and one's key could end up beside another's certificate)."""
    import subprocess
    import sys

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    folder = tmp_path / "c2pa"
    # each write a little late, at random, as on a loaded farm node: the old way interleaved then
    code = ("import random, time; from reenact.provenance import manifest as m; w = m._write_atomic\n"
            "def slow(*a, **k):\n    time.sleep(random.random() * 0.05); return w(*a, **k)\n"
            "m._write_atomic = slow; m.local_chain({!r})".format(str(folder)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (os.path.dirname(ROOT), os.environ.get(
        "PYTHONPATH")) if p))
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    key = serialization.load_pem_private_key((folder / "leaf.key").read_bytes(), None)
    leaf = x509.load_pem_x509_certificate((folder / "leaf.pem").read_bytes())
    chain = x509.load_pem_x509_certificates((folder / "chain.pem").read_bytes())
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.PEM, pub) == \
        leaf.public_key().public_bytes(serialization.Encoding.PEM, pub)
    assert chain[0] == leaf and chain[1] == x509.load_pem_x509_certificate((folder / "intermediate.pem").read_bytes())
    assert sorted(os.listdir(tmp_path)) == ["c2pa"]  # no temporary folder left
