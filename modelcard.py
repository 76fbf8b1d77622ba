# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Reenact model says of itself: the ``reenact.*`` metadata of an ONNX file (a renderer
made by ``reenact train``, a restyle model made by ``reenact restyle train``), as ``reenact probe
MODEL.onnx`` prints it (docs/renderer.md, *Model card*; docs/restyle.md, *Model card in the
ONNX*)."""

import json
import os

from . import paths

PREFIX = "reenact."


def model_card(path):
    """A JSON-able dict of the model ``path``: ``file``, ``kind`` ("model"), ``model`` (what it
    is: renderer, restyle...), ``card`` (every ``reenact.*`` entry, JSON values decoded),
    ``inputs``/``outputs`` (name and shape), ``bytes``, ``sha256`` (the first 16 hex digits) and
    ``bundled`` (a model of the extension's own ``models`` folder: its card in models/README.md).
    ValueError (one line naming the file) when it is not an ONNX file or carries no Reenact card."""
    import onnxruntime as ort

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError("{}: no such file".format(path))
    try:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as exc:  # (onnxruntime raises its own exception types)
        raise ValueError("{}: not an ONNX model onnxruntime can read ({})".format(
            path, str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__)) from None
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    card = {}
    for k in sorted(meta):
        if not k.startswith(PREFIX):
            continue
        v = meta[k]
        try:
            v = json.loads(v) if v[:1] in "{[" else v
        except ValueError:
            pass
        card[k[len(PREFIX):]] = v
    if not card:
        raise ValueError("{}: not a Reenact model (its ONNX metadata holds no reenact.* model card)".format(path))
    from .render.cache import file_digest

    bundled = os.path.normcase(os.path.dirname(os.path.abspath(path))) == os.path.normcase(
        os.path.abspath(paths.MODELS_DIR))
    return {"file": os.path.abspath(path), "kind": "model", "model": str(card.get("kind", "?")), "card": card,
            "inputs": [[i.name, list(i.shape)] for i in sess.get_inputs()],
            "outputs": [[o.name, list(o.shape)] for o in sess.get_outputs()],
            "bytes": os.path.getsize(path), "sha256": file_digest(path)[:16], "bundled": bool(bundled)}


def format_card(r):
    """A few human-readable lines for one :func:`model_card` result."""
    lines = ["{}: Reenact {} model, {:.1f} MB, sha256 {}{}".format(
        r["file"], r["model"], r["bytes"] / 1e6, r["sha256"],
        " (bundled: its card in models/README.md)" if r["bundled"] else "")]
    for k, v in r["card"].items():
        if k == "kind":
            continue
        text = json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)
        lines.append("  {}: {}".format(k, text if len(text) <= 300 else text[:297] + "..."))
    return "\n".join(lines)
