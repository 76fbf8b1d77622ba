# SPDX-License-Identifier: GPL-3.0-or-later
"""A renderer training run says what it resumes and records what it was trained with (a review
of renderer training, 2026-12-06): a checkpoint resumes only with its own --holdout and --init,
other options that differ are said and applied; a stop after the last step finishes the export;
an --out that is not its checkpoint's export is exported again; nothing is written when an
export is refused; a killed writer's temporaries are cleaned; the model card records the run."""

import os
import signal
import time

import pytest

torch = pytest.importorskip("torch")

from reenact.errors import ReenactError  # noqa: E402
from reenact.training import export as E  # noqa: E402
from reenact.training import train as T  # noqa: E402
from reenact.training.files import load_torch, save_torch  # noqa: E402

KW = dict(size=64, window=3, base=8, batch=2, threads=2, bar=False, init=None, fp16=False, int8=False,
          checkpoint_every=1000)


def _run(track, carphone, out, said=None, **opts):
    return T.train([(track, carphone)], str(out), log=(said.append if said is not None else lambda *a: None),
                   **dict(KW, **opts))


def _meta(path):
    import onnx

    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_a_checkpoint_resumes_only_with_its_holdout_and_init(carphone_track, carphone, tmp_path):
    """Blender trains with --holdout 0; `reenact train --report` with the default 0.15 resumed it
    and scored frames it had trained on as held out (before 2026-12-06, and --init, lr, batch...
    resumed without a word, --lr overridden by the optimiser's state)."""
    a = tmp_path / "a.onnx"
    _run(carphone_track, carphone, a, steps=2, holdout=0.0)
    with pytest.raises(ReenactError, match=r"a\.ckpt\.pt: holds a checkpoint trained with --holdout 0 \(this run: "
                                           r"--holdout 0\.15\): if resumed, which frames are held out would change.*"
                                           r"--no-resume"):
        _run(carphone_track, carphone, a, steps=4, holdout=0.15, report=str(tmp_path / "a.json"))
    assert load_torch(str(tmp_path / "a.ckpt.pt"))["step"] == 2 and not (tmp_path / "a.json").exists()
    with pytest.raises(ReenactError, match=r"trained with --init none \(this run: --init a\.pt\): if resumed, it began "
                                           r"from other weights"):
        _run(carphone_track, carphone, a, steps=4, holdout=0.0, init=str(tmp_path / "a.pt"), rehearse_sample=False)

    said = []  # other options: one warning, and this run's apply (the learning rate too)
    s = _run(carphone_track, carphone, a, said, steps=4, holdout=0.0, lr=5e-3, batch=4)
    assert s["steps"] == 4
    warn = [w for w in said if w.startswith("warning:")]
    assert len(warn) == 1 and "resumed at step 2 with other options" in warn[0], said
    assert "--batch 4 (it was trained with 2)" in warn[0] and "--lr 0.005 (it was trained with 0.0005)" in warn[0]
    ck = load_torch(str(tmp_path / "a.ckpt.pt"))
    assert ck["sched"]["base_lrs"] == [5e-3] and ck["opt"]["param_groups"][0]["initial_lr"] == 5e-3
    assert ck["options"]["lr"] == 5e-3 and ck["option_changes"][0]["step"] == 2

    b = tmp_path / "b.onnx"  # a checkpoint of before (no options recorded) resumes as it did
    _run(carphone_track, carphone, b, steps=4, holdout=0.0, stop_at=2)
    old = load_torch(str(tmp_path / "b.ckpt.pt"))
    for k in ("options", "option_changes", "run"):
        old.pop(k)
    save_torch(old, str(tmp_path / "b.ckpt.pt"))
    said = []
    assert _run(carphone_track, carphone, b, said, steps=4, holdout=0.15)["steps"] == 4
    assert any("resumed from" in w for w in said) and not any(w.startswith("warning:") for w in said), said


def test_a_stop_during_the_export_finishes_it(carphone_track, carphone, tmp_path, monkeypatch):
    """SIGTERM/SIGINT (Esc in Blender) after the last step, while the model is exported: the
    export finishes and the model is complete (before 2026-12-06 the stop handler was already
    restored, the process died mid-export with the earlier model at --out, and the same command
    then refused: "is trained already")."""
    real, calls = E.parity, []

    def stopped_meanwhile(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)
        return real(*a, **k)

    monkeypatch.setattr(E, "parity", stopped_meanwhile)
    said, before = [], signal.getsignal(signal.SIGINT)  # (ignored where the tests run in the background: nohup, CI)
    try:
        s = _run(carphone_track, carphone, tmp_path / "a.onnx", said, steps=2, holdout=0.0)
    except KeyboardInterrupt:
        pytest.fail("the stop during the export killed it")
    assert not s.get("cancelled") and s["steps"] == 2 and "stopped after the last step" in s["stopped"]
    assert _meta(tmp_path / "a.onnx")["reenact.train_steps"] == "2"
    assert signal.getsignal(signal.SIGINT) is before  # (put back after the run)


def test_an_out_that_is_not_its_checkpoints_export_is_exported_again(carphone_track, carphone, tmp_path, monkeypatch):
    """A run stopped or refused during its export leaves the earlier model at --out: the same
    command exports the checkpoint (before 2026-12-06: "is trained already", for good). An fp16
    variant out of tolerance writes nothing (before: the new fp32 model was written, the earlier
    fp16 one deleted and the .pt replaced, and the line said "the model was not written")."""
    a = tmp_path / "a.onnx"
    files = ("a.onnx", "a.fp16.onnx", "a.pt")
    _run(carphone_track, carphone, a, steps=2, holdout=0.0, fp16=True)
    earlier = {f: (tmp_path / f).read_bytes() for f in files}
    _run(carphone_track, carphone, a, steps=4, holdout=0.0, fp16=True)
    a.write_bytes(earlier["a.onnx"])  # (the 2-step model left by an export that died)
    said = []
    s = _run(carphone_track, carphone, a, said, steps=4, holdout=0.0, fp16=True)
    assert s["steps"] == 4 and _meta(a)["reenact.train_steps"] == "4"
    assert any("not the export of its checkpoint a.ckpt.pt (it holds step 2)" in w for w in said), said
    with pytest.raises(ReenactError, match=r"is trained already \(4 of 4 steps"):
        _run(carphone_track, carphone, a, steps=4, holdout=0.0, fp16=True)

    before = {f: (tmp_path / f).read_bytes() for f in files}
    monkeypatch.setattr(E, "PARITY_ATOL_FP16", -1.0)
    with pytest.raises(ValueError, match=r"a\.fp16\.onnx: ONNX differs from PyTorch .*; the model was not written"):
        _run(carphone_track, carphone, a, steps=6, holdout=0.0, fp16=True)
    assert {f: (tmp_path / f).read_bytes() for f in files} == before  # (nothing written)
    monkeypatch.setattr(E, "PARITY_ATOL_FP16", 2e-2)
    s = _run(carphone_track, carphone, a, steps=6, holdout=0.0, fp16=True)  # (exported now, not refused)
    assert s["steps"] == 6 and s["losses"] == [] and _meta(a)["reenact.train_steps"] == "6"
    assert _meta(tmp_path / "a.fp16.onnx")["reenact.train_steps"] == "6"
    assert load_torch(str(tmp_path / "a.pt"))["train_steps"] == 6


def test_a_killed_writers_temporaries_are_removed_and_a_truncated_checkpoint_is_named(carphone_track, carphone,
                                                                                      tmp_path):
    """kill -9 while a checkpoint was saved left a hidden `.a.ckpt.pt.<hex>.tmp` (20-30 MB) for
    good; a truncated checkpoint read "cannot read: Invalid argument" (torch's OSError), where
    docs/errors.md promises "not a Reenact checkpoint" (before 2026-12-06)."""
    stale = [".a.ckpt.pt.0123abcd.tmp", ".a.onnx.89abcdef.tmp", ".a.pt.deadbeef.tmp"]
    kept = [".a.ckpt.pt.fedcba98.tmp", ".b.ckpt.pt.0123abcd.tmp", "a.ckpt.pt.0123abcd.tmp"]  # fresh, another's, not hidden
    hour_ago = time.time() - 3600
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 100)
        if name != kept[0]:
            os.utime(tmp_path / name, (hour_ago, hour_ago))
    said = []
    _run(carphone_track, carphone, tmp_path / "a.onnx", said, steps=1, holdout=0.0, stop_at=1)
    left = set(os.listdir(tmp_path))
    assert not left & set(stale) and set(kept) <= left, left
    assert sum("removed .a." in w and "a run killed while writing" in w for w in said) == 3, said

    ck = tmp_path / "a.ckpt.pt"
    ck.write_bytes(ck.read_bytes()[:5000])
    with pytest.raises(ReenactError, match=r"a\.ckpt\.pt: not a Reenact checkpoint \(damaged"):
        load_torch(str(ck))
    said = []
    _run(carphone_track, carphone, tmp_path / "a.onnx", said, steps=1, holdout=0.0, stop_at=1)
    assert any("not a Reenact checkpoint (damaged" in w and "moved aside" in w for w in said), said


def test_the_model_card_records_the_training(carphone_track, carphone, tmp_path):
    """The ONNX model card said only the network's configuration (before 2026-12-06): now the
    steps, the Track and footage trained on (digests), the held-out frames, --init and the
    options (docs/renderer.md, *Model card*)."""
    from reenact.modelcard import model_card
    from reenact.training.data import track_digest

    _run(carphone_track, carphone, tmp_path / "w.onnx", steps=1, holdout=0.0)
    s = _run(carphone_track, carphone, tmp_path / "a.onnx", steps=2, init=str(tmp_path / "w.pt"),
             rehearse_sample=False, seed=3)
    card = model_card(str(tmp_path / "a.onnx"))["card"]
    assert card["train_steps"] == "2" and len(card["train_run"]) == 16
    (on,) = card["trained_on"]
    assert on["name"] == os.path.basename(carphone) and on["track"] == track_digest(carphone_track)
    assert len(on["footage"]) == 64
    clip = card["held_out"]["clips"][0]
    assert card["held_out"]["share"] == 0.15 and clip["name"] == on["name"] and clip["frames"][1] == 120
    assert 95 <= clip["frames"][0] <= 105
    assert card["init"]["name"] == "w.pt" and len(card["init"]["sha256"]) == 64
    tr = card["training"]
    assert tr["seed"] == 3 and tr["batch"] == 2 and tr["lr"] == 5e-4 and tr["anchor"] == 0.01
    assert tr["option_changes"] == [] and s["export"]["onnx"] == str(tmp_path / "a.onnx")
