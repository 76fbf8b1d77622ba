# SPDX-License-Identifier: GPL-3.0-or-later
"""One frame of the render path (Preview Frame): :func:`render_frame`, the same pictures as
:func:`~reenact.render.pipeline.render_clip` gives that frame (split from ``render/pipeline.py``)."""

import time
from contextlib import nullcontext

import numpy as np

from ..video.bars import keep_bars
from .cache import (CropCache, frame_keys, geometry_digest, performance_digest, pool_identity, renderer_identity,
                    source_identity, unchanged_head_rows, unchanged_rows)
from .composite import blend_shares, paste_back, through_dissolve
from .conditioning import CropTransforms, crop_transforms, window_indices
from .donor import mouth_mode as mouth_mode_of
from .eyes import ShotEyes
from .front import hide_driver, keep_front
from .marking import mark_performance, render_payload, row_points
from .motion import MOTION_VERSION, HeadMotion, detail_source, region_mask
from .netinputs import NetInputs
from .plates import footage_area, stored_plate
from .ranges import check_inputs, pool_rows, reference_track
from .reference import REF_VERSION, features
from .renderer import get_renderer
from .rewrite import face_mouth, head_donor, prepare_mouth
from .shothead import ShotHead
from .pipeline import check_tracks_footage, cuts_key, reference_pool


def render_frame(track, frame, i, model=None, region="mouth", cache_dir=None, transforms=None,
                 crop_track=None, source_id="", prefer_gpu=True, threads=None, feather=None, colour=True,
                 pool=None, video=None, job_id=None, watermark=True, detail=True, accept_footage=False,
                 mouth_from=None, mouth_mode="auto", mouth=None, shot_head=None, shot_face=None,
                 reference_frames=None, front=None):
    """Clip frame ``i`` of the footage (``frame``: its pixels, (H, W, 3) uint8) with ``track``'s
    performance composited in: returns ``(frame, info)``, ``info`` = {rendered, cached,
    provider, key, timings_ms}. Only the window rows are rasterised (memoised across calls), so
    the preview of a frame next to the previous one costs one conditioning and one inference.
    ``transforms``: the crop transforms of the whole track (pass them to avoid recomputing).
    ``pool``: the actor reference pool (:func:`reference_pool`) for renderers that use one; when
    omitted it is made from ``video`` (the footage; cached in ``cache_dir``). The rendered frame
    carries the watermark of :func:`render_clip` (same default job id, from ``source_id``);
    ``detail``, ``mouth_from`` and ``mouth_mode`` (``info["warped"]`` is 1 on a row drawn without the
    network: the shot's or the driver's mouth, or a moved head without a hole) as
    :func:`render_clip`; ``mouth``: what draws the mouth, made by the caller on the whole
    performance (:func:`~reenact.render.rewrite.prepare_mouth`: its choice and the shot's mouth's
    frames depend on every row, and Preview Frame's ``track`` holds only the window's; not closed
    here), else made here from ``track``. Region ``head``: the head comes from the footage frame
    nearest in pose (:class:`~reenact.render.shothead.ShotHead`), chosen on the whole performance:
    ``shot_head`` made by the caller on it (Preview Frame), else made here from ``track``; then
    ``info["unseen_pose"]`` is :meth:`~reenact.render.shothead.ShotHead.unseen` of this frame.
    ``reference_frames`` as :func:`render_clip`'s (the pool, the shot's eyes and mouth), with
    ``shot_face``: region ``face``'s :func:`~reenact.render.shotface.preview_face`, made by the
    caller on the whole performance.
    ``front``: :func:`~.front.in_front` made by the caller over this row. With ``video``, the
    Tracks must be of it (:func:`check_tracks_footage`, memoised per file)."""
    t0 = time.perf_counter()
    renderer = get_renderer(model, prefer_gpu=prefer_gpu, threads=threads)
    renderer.check_region(region)
    S = renderer.size
    frame = footage = np.asarray(frame)
    if video is not None:
        check_tracks_footage(track, video, crop_track, accept_footage)
    check_inputs(track, crop_track, (frame.shape[1], frame.shape[0]))
    r = int(i) - int(track.frame_start)
    info = {"rendered": 0, "cached": 0, "provider": renderer.provider, "key": None, "timings_ms": {}}
    if not (0 <= r < track.n_frames) or not bool(track.tracked[r]) or not np.isfinite(track.pose[r]).all():
        info["untracked"] = 1  # (the footage: Preview Frame says why)
        return frame.copy(), info
    own = crop_track if crop_track is not None else track.footage()
    if (unchanged_head_rows if region == "head" else unchanged_rows)(track, own, rows=[r])[0]:  # as render_clip
        return frame.copy(), info
    mouth_mode = mouth_mode_of(mouth_mode)
    if (mouth_from is not None or mouth_mode == "driver") and region == "face":
        raise ValueError("the driver's mouth (--mouth-from) is for regions mouth and head, not face")
    own_mouth = mouth is None and (region == "mouth" or (region == "face" and detail))  # made here: closed here
    area = None if region == "head" else footage_area(video, own)  # as render_clip's (head: the plate's)
    if own_mouth and region == "face":
        mouth = face_mouth(track, own, video, mouth_mode, pool_rows(own, reference_frames))[0]
    elif own_mouth:
        mouth = prepare_mouth(track, own, video, mouth_from, mouth_mode, accept_footage)[0]
    hide_driver(front, mouth)
    if region == "mouth" and mouth is not None:
        with mouth if own_mouth else nullcontext():
            rm = int(i) - int(mouth.frame_start)
            if mouth.driver_row(rm) is not None:  # the footage (and the driver), no network
                t = time.perf_counter()
                hm = HeadMotion(own.subset(int(i), int(i) + 1), track.subset(int(i), int(i) + 1), lower_only=True,
                                area=area)
                out = keep_front(front, keep_bars(mouth.draw(rm, frame, hm, 0), frame, area), footage, r)
                out = through_dissolve(out, footage, blend_shares(own)[r])
                if watermark:
                    sid = source_id or (source_identity(video) if video is not None else "")
                    out = mark_performance(out, int(i), render_payload(job_id, sid, renderer, own),
                                           row_points(track, r), area)
                info["warped"] = 1
                info["timings_ms"]["warp"] = round((time.perf_counter() - t) * 1000, 1)
                info["timings_ms"]["total"] = round((time.perf_counter() - t0) * 1000, 1)
                return out, info
    head = region == "head"
    xf = transforms if transforms is not None else crop_transforms(track if head else own, S)
    idx = window_indices(r, renderer.window, track.n_frames)
    lo = int(idx[0])
    sub = track.subset(track.frame_start + lo, track.frame_start + r + 1)  # only the window rows
    sub_xf = CropTransforms(xf.M[lo:r + 1], xf.Minv[lo:r + 1], xf.size)
    rid = renderer_identity(renderer)
    feats = None
    if renderer.ref and pool is None and video is not None:
        pool = (reference_pool(own, video, S, crop_transforms(own, S) if head else xf, cache_dir) if reference_frames
                is None else reference_pool(reference_track(own, reference_frames), video, S, None, cache_dir))[0]
    if renderer.ref and pool is not None:
        feats = features(track)[lo:r + 1]  # normalised over the whole performance, as render_clip
        rid += "|pool {} {} {}".format(pool_identity(pool), renderer.ref_warp, REF_VERSION) + cuts_key(own)
    field = warper = None
    if head or detail:
        plate = stored_plate(video, own, cache_dir) if head and video is not None else None
        warper = HeadMotion(own.subset(int(i), int(i) + 1), track.subset(int(i), int(i) + 1), plate,
                            area=area).with_shot_eyes(
            ShotEyes(own, video, pool_rows(own, reference_frames)) if region == "face" and video is not None else None,
            int(i) - int(own.frame_start))
        if region == "face" and mouth is not None:  # (planned on the whole performance: see ``mouth``)
            warper.with_shot_mouth(mouth, int(i) - int(mouth.frame_start))
    if head:
        t = time.perf_counter()
        if shot_head is None and video is not None:  # chosen on ``track``'s rows (see ``shot_head``)
            donor = head_donor(track, own, mouth_from, mouth_mode, accept_footage, video)[0]
            hide_driver(front, donor)
            with ShotHead(own, track, video, plate, mouth=mouth_mode != "renderer", donor=donor) as sh:
                (frame, field), drawn_by = sh.frame(r, frame), sh.key
                info["unseen_pose"] = sh.unseen(int(i), int(i) + 1)
        elif shot_head is not None:
            (frame, field), drawn_by = shot_head.frame(int(i) - shot_head.frame_start, frame), shot_head.key
            info["unseen_pose"] = shot_head.unseen(int(i), int(i) + 1)
        else:
            (frame, field), drawn_by = warper.frame(0, frame), "renderer"
        info["timings_ms"]["warp"] = round((time.perf_counter() - t) * 1000, 1)
        rid += "|head {} {} {} {}".format(MOTION_VERSION, geometry_digest(own), performance_digest(own), drawn_by)
    elif region == "face" and warper is not None:  # as render_clip: the footage's face moved to an edit
        rid += (shot_face.key if shot_face is not None else "") + "|face-edit {} eyes|face-mouth {}".format(
            MOTION_VERSION, "shot" if mouth is not None else "renderer")
        if shot_face is not None and shot_face.outside_row(int(i) - shot_face.frame_start):
            frame, field = shot_face.face_frame(int(i) - shot_face.frame_start, frame)
            detail = detail and field is not None  # (never its own frame's detail)
        else:
            frame, field = warper.face_frame(0, frame) if warper.edits(0) else (frame, field)
        warper.close()  # (its eyes' decoder; the detail below needs only its meshes)
        if own_mouth and mouth is not None:
            mouth.close()
    moved = head or field is not None
    fr = NetInputs(sub, sub_xf, renderer, pool, feats, cuts=own.cuts(), pool_start=int(
        own.frame_start if reference_frames is None else reference_track(own, reference_frames).frame_start))
    key = frame_keys(sub, sub_xf, [r - lo], renderer.window, rid, source_id,
                     geometry=fr.geometry, rowd=fr.rowd)[r - lo]
    # the window of the sub-track is clamped at its own start, as the whole track's is at row 0
    info["key"] = key
    cache = CropCache(cache_dir)
    hole, mouth = fr.masks(r - lo)
    mask = region_mask("head" if moved else region, hole, mouth, field, xf.Minv[r])
    crop = cache.get(key)
    t = time.perf_counter()
    if moved and not mask.any():  # the moved head or face has no hole: no network
        crop, info["warped"] = np.zeros((S, S, 3), np.uint8), 1
    elif crop is None or crop.shape != (S, S, 3):
        x = fr.network_input(r - lo, frame, (hole, mouth))
        t1 = time.perf_counter()
        crop = renderer.run([x], 1)[0]
        info["timings_ms"]["infer"] = round((time.perf_counter() - t1) * 1000, 1)
        cache.put(key, crop)
        info["rendered"] = 1
    else:
        info["cached"] = 1
    info["timings_ms"]["conditioning"] = round(fr.t_cond * 1000, 1)
    t = time.perf_counter()
    dimg, dvalid = detail_source(detail, moved, warper, 0, frame, field, mask, xf.Minv[r])
    bars = area if warper is None else warper.area  # (region head: the plate's)
    out = keep_front(front, keep_bars(paste_back(frame, crop, mask, xf.Minv[r], feather=feather, colour=colour,
                                                 detail=dimg, detail_valid=dvalid), frame, bars), footage, r)
    out = through_dissolve(out, footage, blend_shares(own)[r])
    if watermark:
        sid = source_id or (source_identity(video) if video is not None else "")
        out = mark_performance(out, int(i), render_payload(job_id, sid, renderer, own), row_points(track, r), bars)
    info["timings_ms"]["composite"] = round((time.perf_counter() - t) * 1000, 1)
    info["timings_ms"]["total"] = round((time.perf_counter() - t0) * 1000, 1)
    return out, info
