# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: every benchmark, each printing a table and writing JSON to bench/results/.

The tracking benchmark runs on carphone (always) and on a longer talking-head clip from
../shared/data when it is present.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_DATA = os.path.join(HERE, "..", "..", "shared", "data")
SHARED_CLIP = os.path.join(SHARED_DATA, "clips", "driving_d14.mp4")
WARP_CLIPS = ("driving_d0", "driving_d3", "driving_d10", "driving_d12", "driving_d14", "driving_d19")


def main():
    from reenact.bench import track

    track.main([])
    if os.path.isfile(SHARED_CLIP):
        track.main(["--clip", SHARED_CLIP, "--no-memory"])  # memory: measured on carphone
    else:
        print("skipping the shared-clip tracking benchmark: {} not present".format(SHARED_CLIP))
    from reenact.bench import head_lids  # does the tracked head nod with a blink (~1.5 min); skips without data

    head_lids.main([])
    if importlib.util.find_spec("reenact.bench.render") is not None:
        from reenact.bench import render

        render.main([])
    from reenact.bench import render_path

    render_path.main([])
    from reenact.bench import cuda_path  # the network on onnxruntime's CUDA provider; says "no CUDA" without one

    cuda_path.main([])
    from reenact.bench import take_span  # a take of a shot cut from a longer clip (~1 min); skips without data

    take_span.main([])
    from reenact.bench import long_shots  # a long shot's mouth plan, 1,000-20,000 frames (~1 min)

    long_shots.main([])
    from reenact.bench import large_footage  # a dub and a full reenactment on 1080p and 4K (~5 min); skips without data

    large_footage.main([])
    from reenact.bench import watermark

    watermark.main([] if os.path.isdir(SHARED_DATA) else ["--no-shared"])
    from reenact.bench import watermark_masking  # the mark on flat areas vs the downscale; skips without clips

    watermark_masking.main([])
    from reenact.bench import watermark_render  # the render path's mark (lips kept out); skips without clips

    watermark_render.main([])
    from reenact.bench import watermark_payload  # the payload after the downscale, many job ids; skips without clips

    watermark_payload.main([])
    if os.path.isdir(SHARED_DATA):
        from reenact.bench import warp

        warp.main([os.path.join(SHARED_DATA, "clips", c + ".mp4") for c in WARP_CLIPS])
    from reenact.bench import room_fill  # the room a moved head uncovers, on known room (~1.5 min); skips without data

    room_fill.main([])
    from reenact.bench import front  # a hand of the face's colour before the mouth (~6 min); skips without data

    front.main([])
    from reenact.bench import reenact  # cross-actor reenactment (issue 11); skips without ../shared/data

    reenact.main([])
    from reenact.bench import gaze_edit  # an animator's gaze keys, re-tracked (~3 min); skips without ../shared/data

    gaze_edit.main([])
    from reenact.bench import face_keys  # an animator's jawOpen and blink keys, re-tracked (~5 min); skips without data

    face_keys.main([])
    from reenact.bench import restyle  # issue 12: four short trainings (~5 min); skips without ../shared/data

    restyle.main(["quick"])
    from reenact.bench import restyle_face  # face to face by Reenact's reenactment (~3 min); skips without data

    restyle_face.main(["reenact"])


if __name__ == "__main__":
    sys.exit(main())
