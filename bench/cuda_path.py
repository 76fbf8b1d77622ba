# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderer network on onnxruntime's CUDA provider (issue 11: fp16 and IO binding, 256²).

``python -m bench.cuda_path [--model base256] [--reps 50] [--json PATH]``

Three ways of running the bundled network, each at batch 1 and 16:

- **render path**: :meth:`reenact.render.renderer.NeuralRenderer.run`, what every render,
  Preview Frame and Render Performance call: the fp16 model beside the fp32 one, the float32
  input bound from host memory, the output left on the GPU and copied back once, crops out as
  uint8 (N, H, W, 3);
- **network on the GPU**: the same session with input and output kept on the GPU (an
  ``OrtValue`` on CUDA, IO binding both ways): the network's own time, what a render path that
  kept its frames on the GPU could reach;
- the fp32 model the same way, and the CPU (the machine's cores, fp32) for comparison.

It also says whether the CUDA provider starts as the project opens sessions
(:func:`reenact.session.create_session`), and compares CUDA's crops with the CPU's on the same
input (uint8 levels). Without CUDA (the 2-core machines, CI) it says why, times nothing and
writes ``"cuda": false``. Writes ``bench/results/cuda_path.json`` unless ``--json`` says where.
"""

import argparse
import json
import os
import platform
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "cuda_path.json")
BATCHES = (1, 16)


def _ms(fn, reps, warm=10):
    """Median and mean ms of ``fn()`` over ``reps`` calls after ``warm`` (``fn`` synchronises)."""
    for _ in range(warm):
        fn()
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": round(float(np.median(t)), 3), "mean_ms": round(float(np.mean(t)), 3)}


def _row(res, n):
    res["fps"] = round(1000.0 * n / res["median_ms"], 1)
    res["ms_per_frame"] = round(res["median_ms"] / n, 3)
    return res


def _on_gpu(sess, x):
    """A function running ``sess`` on ``x`` with input and output on the GPU (synchronised)."""
    import onnxruntime as ort

    name_in, name_out = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    xv = ort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
    yv = ort.OrtValue.ortvalue_from_shape_and_type([x.shape[0], 3] + list(x.shape[2:]), np.float32, "cuda", 0)
    io = sess.io_binding()
    io.bind_ortvalue_input(name_in, xv)
    io.bind_ortvalue_output(name_out, yv)

    def go():
        io.synchronize_inputs()
        sess.run_with_iobinding(io)
        io.synchronize_outputs()

    return go


def measure(model=None, reps=50):
    import onnxruntime as ort

    from reenact.render.renderer import NeuralRenderer, model_path
    from reenact.session import CUDA, create_session, session_provider

    path = os.path.abspath(model_path(model))
    report = {"model": os.path.basename(path), "onnxruntime": ort.__version__,
              "providers_available": ort.get_available_providers(), "machine": platform.node()}
    r = NeuralRenderer(path, prefer_gpu=True)
    report.update(provider=r.provider, precision=r.precision, size=r.size, in_ch=r.config["in_ch"])
    if r.provider != CUDA:
        report["cuda"] = False
        report["why"] = ("onnxruntime has no CUDA provider here ({})".format(", ".join(ort.get_available_providers()))
                         if CUDA not in ort.get_available_providers() else
                         "the CUDA provider did not start (its CUDA or cuDNN libraries are missing): the CPU runs")
        return report
    report["cuda"] = True
    try:
        import torch  # only to name the GPU; the benchmark itself needs no torch

        report["gpu"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001
        report["gpu"] = "?"
    rng = np.random.default_rng(0)
    cpu = create_session(path, prefer_gpu=False)
    s32 = create_session(path, prefer_gpu=True)
    rows = []

    def add(way, n, fn, k, warm=10):
        try:
            rows.append(dict(_row(_ms(fn, k, warm), n), way=way, batch=n))
        except Exception as exc:  # noqa: BLE001 - one way failing must not lose the others' figures
            rows.append(dict(way=way, batch=n, error="{}: {}".format(type(exc).__name__, exc)[:300]))

    for n in BATCHES:
        x = rng.random((n, r.config["in_ch"], r.size, r.size), dtype=np.float32)
        k = reps if n == 1 else max(10, reps // 2)
        add("render path ({}, IO binding)".format(r.precision), n, lambda: r.run(x, batch=n), k)
        add("network on the GPU ({})".format(r.precision), n, _on_gpu(r.sess, x), k)
        if session_provider(s32) == CUDA and s32 is not r.sess:
            add("network on the GPU (fp32)", n, _on_gpu(s32, x), k)
        add("CPU, {} cores (fp32)".format(os.cpu_count()), n,
            lambda: cpu.run(None, {cpu.get_inputs()[0].name: x}), max(3, k // 10), warm=2)
        if n == BATCHES[-1]:  # the pictures: CUDA's crops against the CPU's, uint8 levels
            y_gpu = r.run(x, batch=n).astype(np.int16)
            y_cpu = np.clip(cpu.run(None, {cpu.get_inputs()[0].name: x})[0].transpose(0, 2, 3, 1) * 255.0 + 0.5,
                            0, 255).astype(np.int16)
            d = np.abs(y_gpu - y_cpu)
            report["crops_cuda_vs_cpu"] = {"mean_levels": round(float(d.mean()), 3), "max_levels": int(d.max()),
                                           "share_within_2_levels": round(float((d <= 2).mean()), 5)}
    report["rows"] = rows
    return report


def table(report):
    if not report.get("cuda"):
        return "no CUDA: {}".format(report.get("why"))
    lines = ["{} on {} (onnxruntime {}, {})".format(report["model"], report["gpu"], report["onnxruntime"],
                                                    report["precision"]),
             "| way | batch | ms per call | ms per frame | frames/s |", "|---|---|---|---|---|"]
    for row in report["rows"]:
        if "error" in row:
            lines.append("| {way} | {batch} | failed: {error} | | |".format(**row))
        else:
            lines.append("| {way} | {batch} | {median_ms} | {ms_per_frame} | {fps} |".format(**row))
    c = report.get("crops_cuda_vs_cpu")
    if c:
        lines.append("crops, CUDA against the CPU: mean {mean_levels} levels, max {max_levels}, "
                     "{share_within_2_levels:.2%} within 2 levels".format(**c))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.cuda_path", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="renderer: a path or a bundled name (default: the default renderer)")
    ap.add_argument("--reps", type=int, default=50, help="timed calls at batch 1 (half as many at 16)")
    ap.add_argument("--json", default=RESULTS, help="where the JSON goes (default: %(default)s)")
    a = ap.parse_args(argv)
    report = measure(a.model, a.reps)
    report["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(table(report))
    if not report["cuda"] and os.path.isfile(a.json):
        with open(a.json) as fh:
            kept = json.load(fh)
        if kept.get("cuda"):  # a machine without CUDA does not replace a GPU's figures
            print("kept {}: the figures measured on {} ({})".format(a.json, kept.get("gpu"), kept.get("when")))
            return 0
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as fh:
        json.dump(report, fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
