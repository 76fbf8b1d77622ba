# SPDX-License-Identifier: GPL-3.0-or-later
"""The one onnxruntime session factory of the project.

Every ONNX model (trackers, renderers, restyle generators) is opened through
:func:`create_session`, so provider choice, threading and caching live in one place.

- CUDA is tried when ``prefer_gpu`` and onnxruntime lists ``CUDAExecutionProvider``.
  onnxruntime falls back to CPU *silently* when CUDA cannot start (missing libcudnn, no device,
  ...), so the provider actually in use is read back from ``sess.get_providers()[0]``.
- Intra-op threads default to ``os.cpu_count()``; ``REENACT_ORT_THREADS`` overrides it.
- ``REENACT_DEVICE=cpu`` forces CPU whatever the caller prefers.
- Sessions are cached per (absolute path, requested provider, threads): opening the same model
  twice returns the same object.

``onnxruntime`` is imported lazily so that importing this module costs nothing.
"""

from __future__ import annotations

import os
import threading

from .paths import MODELS_DIR

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"

PROBE_MODEL = os.path.join(MODELS_DIR, "face_detection_short_range.onnx")

_cache: dict = {}
_lock = threading.Lock()
# Set once CUDA was asked for and did not start: later sessions go straight to CPU instead of
# retrying (and making onnxruntime log the same library error for every model).
_cuda_failed = False
# Why (one line), when CUDA was asked for and did not start: for ``reenact doctor`` (before
# 2026-12-06 the fallback was detected but its reason swallowed: doctor said "CUDA GPU usable no").
_cuda_reason = None
# Set once the CUDA and cuDNN libraries of the nvidia-* pip packages were looked for.
_preloaded = False


def _preload_cuda(ort) -> None:
    """Load the CUDA and cuDNN libraries that pip installs beside onnxruntime-gpu (the nvidia-*
    packages of ``onnxruntime-gpu[cuda,cudnn]``, or a CUDA build of torch's) before the first
    CUDA session: the CUDA provider finds them only on the system's library path otherwise, and
    falls back to the CPU. onnxruntime's ``preload_dlls`` prints what it cannot find: that goes
    nowhere (the fallback is detected and reported by :func:`session_provider`)."""
    global _preloaded
    if _preloaded:
        return
    _preloaded = True
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            preload()
    except Exception:  # noqa: BLE001 - a library it cannot load leaves the CPU, as before
        pass


def _why_cpu(ort, exc=None) -> str:
    """Why the CUDA provider did not start, in one line: the error it raised, else the library it
    could not load (onnxruntime logs that where nobody reads it), and whether there is a GPU."""
    import ctypes

    if exc is not None:
        return "the CUDA session failed: " + " ".join(str(exc).split())[:300]
    why = []
    try:
        ctypes.CDLL(os.path.join(os.path.dirname(ort.__file__), "capi", "libonnxruntime_providers_cuda.so"))
    except OSError as err:  # ("libcublasLt.so.13: cannot open shared object file: No such file or directory")
        lib, missing, _ = str(err).partition(": cannot open shared object file")
        why.append("the CUDA 13 / cuDNN 9 libraries of onnxruntime's CUDA provider were not found ({}): install "
                   "them, or pip install \"onnxruntime-gpu[cuda,cudnn]=={}\" in this environment".format(
                       lib + " is missing" if missing else " ".join(str(err).split()), ort.__version__))
    if not os.path.exists("/dev/nvidiactl"):
        why.append("no NVIDIA GPU device here (no /dev/nvidiactl)")
    return "; ".join(why) or "onnxruntime fell back to the CPU without an error (libraries and device are there)"


def cuda_reason():
    """Why the last CUDA attempt fell back to the CPU (None when none did)."""
    return _cuda_reason


def model_path(name: str) -> str:
    """Absolute path of a bundled model file in ``models/``."""
    return os.path.join(MODELS_DIR, name)


def _default_threads() -> int:
    env = os.environ.get("REENACT_ORT_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    return max(1, os.cpu_count() or 1)


def _gpu_allowed(prefer_gpu: bool) -> bool:
    return prefer_gpu and os.environ.get("REENACT_DEVICE", "").strip().lower() != "cpu"


def create_session(path, prefer_gpu: bool = True, threads: int | None = None):
    """Open (or return the cached) ``onnxruntime.InferenceSession`` for ``path``.

    ``prefer_gpu``: try CUDA first when onnxruntime offers it; the session falls back to CPU
    when CUDA does not actually start. ``threads``: intra-op threads (default: all cores).
    """
    import onnxruntime as ort

    global _cuda_failed, _cuda_reason
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ONNX model not found: {path}")
    threads = int(threads) if threads else _default_threads()
    want_gpu = (_gpu_allowed(prefer_gpu) and not _cuda_failed
                and CUDA in ort.get_available_providers())
    st = os.stat(path)  # a file written again (a retrained model) is opened again
    key = (path, st.st_size, st.st_mtime_ns, CUDA if want_gpu else CPU, threads)
    with _lock:
        sess = _cache.get(key)
        if sess is not None:
            return sess
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3  # errors only; CUDA fallback is detected below, not logged
        if os.environ.get("REENACT_ORT_SPIN", "0") != "1":
            # Idle intra-op threads must not spin: pipelines alternate between several sessions
            # (detector, landmarks, iris) and spinning pools steal the cores from each other.
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = [CUDA, CPU] if want_gpu else [CPU]
        if want_gpu:
            _preload_cuda(ort)
            # A CUDA provider that cannot load is logged by onnxruntime's global logger as an
            # error although the session works on CPU; the fallback is detected and reported
            # through session_provider() / probe_provider() instead.
            ort.set_default_logger_severity(4)
        try:
            sess = ort.InferenceSession(path, sess_options=so, providers=providers)
        except Exception as exc:
            if not want_gpu:
                raise
            _cuda_failed, _cuda_reason = True, _why_cpu(ort, exc)
            sess = ort.InferenceSession(path, sess_options=so, providers=[CPU])
        finally:
            if want_gpu:
                ort.set_default_logger_severity(2)  # onnxruntime's default (warnings)
        if want_gpu and session_provider(sess) != CUDA and not _cuda_failed:
            _cuda_failed, _cuda_reason = True, _why_cpu(ort)
        for k in [k for k in _cache if k[0] == path and k[1:3] != key[1:3]]:
            del _cache[k]  # sessions of an older version of the file
        _cache[key] = sess
        # Also file it under the provider really in use, so a CPU request finds it later.
        _cache.setdefault(key[:3] + (session_provider(sess), threads), sess)
        return sess


def session_provider(sess) -> str:
    """The execution provider a session really runs on (first of ``get_providers()``)."""
    providers = sess.get_providers()
    return providers[0] if providers else CPU


def probe_provider(prefer_gpu: bool = True) -> str:
    """Build a small session on the bundled face detector; return the provider in use.

    Used by ``reenact doctor``. Runs one inference so that a provider that loads but cannot
    execute (e.g. CUDA without a usable device) is not reported as working.
    """
    import numpy as np

    sess = create_session(PROBE_MODEL, prefer_gpu=prefer_gpu)
    inp = sess.get_inputs()[0]
    sess.run(None, {inp.name: np.zeros((1, 128, 128, 3), np.float32)})
    return session_provider(sess)


def clear_cache() -> None:
    """Forget every cached session and CUDA failure (tests, or after changing REENACT_*)."""
    global _cuda_failed, _cuda_reason
    with _lock:
        _cache.clear()
        _cuda_failed, _cuda_reason = False, None
