# SPDX-License-Identifier: GPL-3.0-or-later
"""The actor reference of the renderer (reenact.render.reference) on real footage (carphone):
pool selection, retrieval, alignment, the training rows it may use, the network input layout,
weight inheritance into a model with a reference, and the pool cache of the render path."""

import os

import cv2
import numpy as np
import pytest

from reenact.face.geometry import robust_similarity_2d
from reenact.render.conditioning import REF_CHANNELS, in_channels
from reenact.render.reference import (
    REF_GAP,
    REF_TOP,
    ReferencePool,
    build_pool,
    features,
    nearest,
    select_rows,
    warp_reference,
)

SIZE, WINDOW = 64, 3


@pytest.fixture(scope="module")
def track(carphone_track):
    return carphone_track


@pytest.fixture(scope="module")
def clip(track, carphone):
    from reenact.training.data import prepare_clip

    return prepare_clip(track, carphone, SIZE)


def test_select_rows_spread_and_deterministic(track):
    F = features(track)
    rows = select_rows(F, track.tracked, 16)
    assert len(rows) == 16 and np.array_equal(rows, np.unique(rows))
    assert np.array_equal(rows, select_rows(F, track.tracked, 16))
    # farthest-point sampling covers the expressions: the wide-open mouth frames are represented
    jaw = np.asarray(track.expression)[:, [str(n) for n in track.expression_names].index("jawOpen")]
    assert jaw[rows].max() >= 0.9 * np.nanmax(jaw)
    # and every frame has a pool frame closer than a random subset's typical distance
    d_pool = np.array([np.sort(((F[rows] - F[t]) ** 2).sum(1))[0] for t in range(len(F))])
    rnd = np.random.default_rng(0).choice(len(F), 16, replace=False)
    d_rnd = np.array([np.sort(((F[rnd] - F[t]) ** 2).sum(1))[0] for t in range(len(F))])
    assert d_pool.max() < d_rnd.max()
    assert len(select_rows(F, track.tracked, 1000)) == int(np.sum(track.tracked))


def test_nearest_skips_untracked_rows():
    F = np.array([[0.0, 0.0], [np.nan, np.nan], [1.0, 1.0], [0.1, 0.0]])
    assert nearest(F, [0.0, 0.0], 2).tolist() == [0, 3]
    assert nearest(F, [0.9, 1.0], 1).tolist() == [2]


def test_alignment_recovers_a_similarity(clip):
    p = clip.points[30].astype(np.float64)
    th, s, t = 0.1, 1.1, np.array([3.0, -2.0])
    A = np.array([[s * np.cos(th), -s * np.sin(th), t[0]], [s * np.sin(th), s * np.cos(th), t[1]]])
    q = p @ A[:, :2].T + A[:, 2]
    np.testing.assert_allclose(robust_similarity_2d(p, q), A, atol=1e-4)
    # warping moves the picture with the points
    rgb, c = warp_reference(clip.crops[30], clip.cond[30], A)
    ref = cv2.warpAffine(clip.crops[30], A, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    assert np.array_equal(rgb, ref) and c.shape == (5, SIZE, SIZE) and c.dtype == np.uint8
    assert c[:, 0, 0].max() == 0  # conditioning is empty outside the moved crop


def test_dataset_reference_rows_and_layout(clip):
    from reenact.training.data import Dataset, flip_cond

    ds = Dataset([clip], WINDOW, "face-only", ref=True)
    tr, va = clip.split()
    for r in (0, 40, int(tr[-1])):
        cand = ds.candidates(0, r)
        assert len(cand) == REF_TOP and np.isin(cand, tr).all() and (np.abs(cand - r) >= REF_GAP).all()
        F, far = np.nan_to_num(clip.features), tr[np.abs(tr - r) >= REF_GAP]
        assert cand[0] == far[np.argmin(((F[far] - F[r]) ** 2).sum(1))]  # the nearest beyond the gap
    wide = Dataset([clip], WINDOW, "face-only", ref=True, ref_gap=30)
    assert all(abs(int(wide.candidates(0, r)[0]) - r) >= 30 for r in (0, 40, int(tr[-1])))
    for r in va:  # held-out rows take the nearest training row
        cand = ds.candidates(0, int(r))
        F = np.nan_to_num(clip.features)
        assert cand.tolist() == [int(tr[np.argmin(((F[tr] - F[r]) ** 2).sum(1))])]
    x, y = ds.item(0, 40)[:2]
    assert x.shape == (in_channels(WINDOW, "face-only", True), SIZE, SIZE) == (5 * WINDOW + REF_CHANNELS + 4, SIZE, SIZE)
    j = int(ds.candidates(0, 40)[0])
    rgb, rc = warp_reference(clip.crops[j], clip.cond[j], robust_similarity_2d(clip.points[j], clip.points[40]))
    np.testing.assert_allclose(x[5 * WINDOW:5 * WINDOW + 3], rgb.transpose(2, 0, 1) / 255.0, atol=1e-6)
    np.testing.assert_allclose(x[5 * WINDOW + 3:5 * WINDOW + 8], rc / 255.0, atol=1e-6)
    np.testing.assert_allclose(x[-1], clip.hole[40])
    # the aligned reference face lands on the current face: its face pixels overlap the hole
    on = rc[0] > 0
    assert (clip.hole[40][on] > 0).mean() > 0.9
    # mirroring flips the reference's template x like the window's
    fx = flip_cond(x, WINDOW, ref=True)
    k = 5 * WINDOW + 3
    on = x[k] > 0
    np.testing.assert_allclose(fx[k][:, ::-1][on], 1.1 - x[k][on], atol=1e-6)
    assert np.array_equal(fx[5 * WINDOW:k], x[5 * WINDOW:k][..., ::-1])
    # colour augmentation changes the frame and its reference in the same way
    aug = Dataset([clip], WINDOW, "face-only", ref=True, augment=True)
    xa, ya = aug.train_batch(3, 2, seed=1)[:2]
    xb, yb = aug.train_batch(3, 2, seed=1)[:2]
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb)


def test_model_gaining_the_reference_starts_as_its_copy(clip):
    torch = pytest.importorskip("torch")
    from reenact.training import train as T
    from reenact.training.data import Dataset
    from reenact.training.model import RendererNet

    torch.manual_seed(0)
    old = RendererNet(in_channels(WINDOW), base=8, ctx_norm=True).eval()
    new = RendererNet(in_channels(WINDOW, ref=True), base=8, ctx_norm=True, ref=True).eval()
    cfg = {"in_ch": in_channels(WINDOW), "base": 8, "mode": "face-only", "window": WINDOW, "ctx_norm": True}
    T.init_from(new, old.state_dict(), log=lambda *a: None, config=cfg)
    # every tensor but the output layer comes from the old model; the input layer block by block
    np.testing.assert_array_equal(new.stem.weight.detach().numpy(), old.stem.weight.detach().numpy())
    w_new, w_old = new.mix.weight.detach().numpy(), old.mix.weight.detach().numpy()
    np.testing.assert_array_equal(w_new[:, :5 * WINDOW], w_old[:, :5 * WINDOW])
    assert not w_new[:, 5 * WINDOW:5 * WINDOW + REF_CHANNELS].any()
    np.testing.assert_array_equal(w_new[:, -4:], w_old[:, -4:])
    assert not new.out.weight.detach().numpy().any()
    # so it starts as the aligned reference inside the hole and the footage outside
    ds = Dataset([clip], WINDOW, "face-only", ref=True)
    x = np.stack(ds.batch([(0, 40), (0, 90)])[0])
    with torch.no_grad():
        y = new(torch.from_numpy(x)).numpy()
    hole = x[:, -1:]
    np.testing.assert_allclose(y, hole * x[:, -12:-9] + (1 - hole) * x[:, -4:-1], atol=1e-6)
    # fine-tuning a model that has the reference copies everything
    again = RendererNet(in_channels(WINDOW, ref=True), base=8, ctx_norm=True, ref=True).eval()
    with torch.no_grad():
        new.out.weight.add_(0.01)
    T.init_from(again, new.state_dict(), log=lambda *a: None, config=dict(cfg, in_ch=new.config["in_ch"], ref=True))
    for k, v in new.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[k].numpy(), v.numpy())


def test_ctx_norm_normalises_the_reference_too():
    torch = pytest.importorskip("torch")
    from reenact.training.model import RendererNet

    torch.manual_seed(0)
    C = in_channels(WINDOW, ref=True)
    model = RendererNet(C, base=8, ctx_norm=True, ref=True).eval()
    torch.nn.init.normal_(model.out.weight, std=0.05)  # a trained model draws a correction
    rng = np.random.default_rng(0)
    S = 64
    yy, xx = np.mgrid[:S, :S]
    hole = (((xx - 32) / 18.0) ** 2 + ((yy - 34) / 22.0) ** 2 <= 1).astype(np.float32)
    real = rng.uniform(0.2, 0.6, (3, S, S)).astype(np.float32)
    refc = rng.uniform(0.2, 0.6, (3, S, S)).astype(np.float32)
    x = rng.random((1, C, S, S), dtype=np.float32)
    x[0, -12:-9] = refc
    x[0, -4:-1] = real * (1 - hole)
    x[0, -1] = hole
    g = np.array([1.3, 0.8, 1.1], np.float32)[:, None, None]
    b = np.array([0.05, -0.03, 0.1], np.float32)[:, None, None]
    x2 = x.copy()
    x2[0, -4:-1] = (g * real + b) * (1 - hole)
    x2[0, -12:-9] = g * refc + b  # the same grade on the reference (same footage)
    with torch.no_grad():
        y, y2 = (model(torch.from_numpy(z))[0].numpy() for z in (x, x2))
    inside = (hole > 0) & (y > 0.01).all(0) & (y < 0.99).all(0) & (y2 > 0.01).all(0) & (y2 < 0.99).all(0)
    assert inside.sum() > 100
    corr, corr2 = y - refc, y2 - (g * refc + b)
    assert np.abs(corr[:, inside]).max() > 0.05  # the model does correct the reference
    # the network reads the context and the reference in the footage's normalised colours, so a
    # grade of the footage leaves its correction unchanged
    assert np.abs((corr2 - corr)[:, inside]).max() < 0.02
    # outside the hole the output is the input crop
    assert np.allclose(y2[:, hole == 0], x2[0, -4:-1][:, hole == 0], atol=1e-6)


def test_pool_build_cache_and_render(track, carphone, tmp_path):
    from reenact.render.pipeline import POOL_PREFIX, reference_pool

    pool = build_pool(track, carphone, SIZE, k=8)
    assert len(pool) == 8 and pool.crops.shape == (8, SIZE, SIZE, 3) and pool.cond.shape == (8, 5, SIZE, SIZE)
    assert np.array_equal(pool.rows, select_rows(features(track), track.tracked, 8))
    # the pool crop of a row is that frame's crop
    from reenact.render.conditioning import crop_frame, crop_transforms
    from reenact.video import open_video

    xf = crop_transforms(track, SIZE)
    r = int(pool.rows[3])
    with open_video(carphone) as src:
        np.testing.assert_array_equal(pool.crops[3], crop_frame(src.read(r), xf.M[r], SIZE))
    # a frame's own features retrieve itself, aligned onto itself (identity)
    rgb, c = pool.reference(pool.features[3], pool.points[3])
    assert np.abs(rgb.astype(int) - pool.crops[3].astype(int)).max() <= 2
    # save / load round trip
    pool.save(str(tmp_path / "p.npz"))
    back = ReferencePool.load(str(tmp_path / "p.npz"))
    assert np.array_equal(back.crops, pool.crops) and np.array_equal(back.rows, pool.rows)
    # the render path keeps the pool in the cache folder and finds it again
    cache = str(tmp_path / "cache")
    p1, d1 = reference_pool(track, carphone, SIZE, cache_dir=cache)
    assert os.listdir(cache) == [POOL_PREFIX + d1 + ".npz"]
    edited = track.subset(track.frame_start, track.frame_start + track.n_frames)
    edited.expression[5, 0] += 0.5  # another footage track -> another pool
    p2, d2 = reference_pool(edited, carphone, SIZE, cache_dir=cache)
    assert d2 != d1 and len(os.listdir(cache)) == 2
    # a stored pool cut short (a full disk, a copy interrupted) is built again, not an error
    from reenact.render import pipeline

    with open(os.path.join(cache, POOL_PREFIX + d1 + ".npz"), "r+b") as f:
        f.truncate(64)
    pipeline._POOLS.clear()
    p3, d3 = reference_pool(track, carphone, SIZE, cache_dir=cache)
    assert d3 == d1 and np.array_equal(p3.crops, p1.crops)
    with pytest.raises(ValueError, match="tracked"):
        none = track.subset(track.frame_start, track.frame_start + track.n_frames)
        none.tracked[:] = False
        build_pool(none, carphone, SIZE)


def test_mesh_reference_moves_the_mouth(carphone_track, carphone):
    """The mesh-warped reference of a closed-mouth frame onto an open-mouth frame is closer to
    the open frame inside the face than the similarity-aligned one, marks the mouth interior it
    cannot supply as grey, and the Dataset serves it when asked."""
    from reenact.render.reference import align_reference, mesh_reference
    from reenact.training.data import Dataset, prepare_clip

    big = prepare_clip(carphone_track, carphone, 128)
    jaw = np.nan_to_num(np.asarray(carphone_track.expression)[:, list(carphone_track.expression_names).index("jawOpen")])
    ok = np.flatnonzero(carphone_track.tracked)
    r = int(ok[np.argmax(jaw[ok])])  # widest open
    j = int(ok[np.argmin(jaw[ok] + 10 * (np.abs(ok - r) < 15))])  # closed, at least 15 frames away
    mesh, mc = mesh_reference(big.crops[j], big.cond[j], big.points[j], big.points[r])
    sim, _ = align_reference(big.crops[j], big.cond[j], big.points[j], big.points[r], "similarity")
    from reenact.render.reference import MOUTH_FILL

    filled = np.all(mesh == 128, -1) | np.all(mesh == np.array(MOUTH_FILL, np.uint8), -1)
    face = (big.face[r] > 0) & ~filled

    def err(a):
        return float(np.abs(a.astype(np.float64) - big.crops[r].astype(np.float64))[face].mean())

    assert err(mesh) < err(sim), (err(mesh), err(sim))
    dark = np.all(mesh == np.array(MOUTH_FILL, np.uint8), -1)
    assert (big.mouth[r][dark] > 0).sum() > 100  # the new mouth interior starts dark
    assert (big.mouth[r][dark] > 0).mean() > 0.8  # ... and only there
    # its edge is anti-aliased, not a staircase: the ring just outside is part way to the fill
    import cv2

    k3 = np.ones((3, 3), np.uint8)
    ring1 = (cv2.dilate(dark.astype(np.uint8), k3) > 0) & ~filled
    ring3 = (cv2.dilate(dark.astype(np.uint8), k3, iterations=4) > 0) & ~(cv2.dilate(dark.astype(np.uint8), k3, iterations=3) > 0)
    to_fill = np.abs(mesh.astype(np.float64) - np.array(MOUTH_FILL)).mean(-1)
    assert to_fill[ring1].mean() < 0.8 * to_fill[ring3].mean(), (to_fill[ring1].mean(), to_fill[ring3].mean())
    assert mc.shape == (5, 128, 128) and mc.dtype == np.uint8
    ds = Dataset([big], WINDOW, "face-only", ref=True, ref_warp="mesh")
    x = ds.item(0, 40)[0]
    k = int(ds.candidates(0, 40)[0])
    rgb, _ = mesh_reference(big.crops[k], big.cond[k], big.points[k], big.points[40])
    np.testing.assert_allclose(x[5 * WINDOW:5 * WINDOW + 3], rgb.transpose(2, 0, 1) / 255.0, atol=1e-6)
    with pytest.raises(ValueError, match="unknown reference warp"):
        align_reference(big.crops[j], big.cond[j], big.points[j], big.points[r], "bogus")
