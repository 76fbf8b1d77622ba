# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderer network's speed on a CUDA GPU in PyTorch (``tools/gpu_base.py`` runs it on a lent
machine; torch stays in this package)."""


def cuda_speed(weights, size=256, batches=(1, 16), reps=50):
    """{figure: value}: ms per batch and frames per second of the network of ``weights`` (a
    weights file of :func:`~reenact.training.train.save_weights`) at ``size``², fp32 and fp16,
    for each batch size (CUDA events, ``reps`` runs after 10 warm-ups); the GPU, torch's version
    and onnxruntime's providers."""
    import torch

    from .train import build_model, load_weights

    res = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}
    cfg, state = load_weights(weights)
    model = build_model(cfg)
    model.load_state_dict(state)
    model = model.cuda().eval()
    for prec in ("fp32", "fp16"):
        m = model.half() if prec == "fp16" else model.float()
        for n in batches:
            x = torch.rand(n, cfg["in_ch"], size, size, device="cuda",
                           dtype=torch.float16 if prec == "fp16" else torch.float32)
            with torch.inference_mode():
                for _ in range(10):
                    m(x)
                torch.cuda.synchronize()
                t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                t0.record()
                for _ in range(reps):
                    m(x)
                t1.record()
                torch.cuda.synchronize()
            ms = t0.elapsed_time(t1) / reps
            res["torch_{}_b{}_ms_per_batch".format(prec, n)] = round(ms, 3)
            res["torch_{}_b{}_frames_per_s".format(prec, n)] = round(1000.0 * n / ms, 1)
    try:
        import onnxruntime as ort

        res["onnxruntime"] = ort.__version__
        res["ort_providers"] = ort.get_available_providers()
    except ImportError:
        res["ort_providers"] = []
    return res
