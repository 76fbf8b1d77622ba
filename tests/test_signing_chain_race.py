# SPDX-License-Identifier: GPL-3.0-or-later
"""The local signing chain (provenance/manifest.py: local_chain) when several processes sign for
the first time at once, and when the folder holds an incomplete or mismatched chain: the chain is
made whole in a folder of its own and renamed into place, never filled file by file, and one
whose key is not its certificate's is moved aside and made again (before 2026-12-06 evening a
folder holding only README.txt, as an interrupted first use leaves it, was filled one file at a
time by each process, and one's leaf.key could end up beside another's chain.pem: every later
signing failed until the folder was deleted)."""

import os
import subprocess
import sys
import time

from conftest import ROOT

# each worker signs for the first time in each folder at the same moment as the others, every
# rename and replace a little late, at random, as on a loaded farm node
WORKER = r"""
import os, random, sys, time
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from reenact.provenance import manifest as m

def late(call):
    def slow(*a, **k):
        time.sleep(random.random() * 0.02)
        return call(*a, **k)
    return slow

os.rename, os.replace = late(os.rename), late(os.replace)
start, step, folders = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
for i, folder in enumerate(folders):
    time.sleep(max(0.0, start + i * step - time.time()))
    try:
        chain, key, _root = m.local_chain(folder)
        cert = x509.load_pem_x509_certificates(open(chain, "rb").read())[0]
        k = serialization.load_pem_private_key(open(key, "rb").read(), None)
        print("ok" if k.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki) else "mismatch")
    except Exception as exc:
        print("error", exc)
"""


def _consistent(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def read(name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    chain = x509.load_pem_x509_certificates(read("chain.pem"))
    key = serialization.load_pem_private_key(read("leaf.key"), None)
    return (key.public_key().public_bytes(*spki) == chain[0].public_key().public_bytes(*spki)
            and chain[0] == x509.load_pem_x509_certificate(read("leaf.pem"))
            and chain[1] == x509.load_pem_x509_certificate(read("intermediate.pem")))


def _sign_png(tmp_path, folder, monkeypatch):
    """Sign a 1-pixel PNG with the local chain in ``folder``; its manifest's read-back."""
    from reenact.provenance.manifest import _tiny_png, check_credentials, read_manifest, sign_file

    monkeypatch.setenv("REENACT_C2PA_DIR", str(folder))
    check_credentials()
    png = tmp_path / "one.png"
    png.write_bytes(_tiny_png())
    sign_file(str(png), "c2pa.created")
    return read_manifest(str(png))


def test_processes_making_the_first_chain_at_once_in_an_incomplete_folder_share_one(tmp_path, monkeypatch):
    trials, workers, step = 4, 4, 0.8
    parents = [tmp_path / "t{}".format(i) for i in range(trials)]
    for p in parents:
        (p / "c2pa").mkdir(parents=True)
        (p / "c2pa" / "README.txt").write_text("an earlier first use, stopped after its README\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (os.path.dirname(ROOT), os.environ.get("PYTHONPATH")) if p))
    start = time.time() + 3.0  # (the workers' imports first, on a loaded machine)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, repr(start), repr(step)]
                              + [str(p / "c2pa") for p in parents],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, [e[-2000:] for _, e in outs]
    said = [line for out, _ in outs for line in out.splitlines()]
    assert said == ["ok"] * (trials * workers), said  # each process read a key and its own certificate
    warned = [line for _, err in outs for line in err.splitlines() if "local signing chain" in line]
    for p in parents:
        assert _consistent(p / "c2pa"), sorted(os.listdir(p / "c2pa"))
        names = sorted(os.listdir(p))
        # the incomplete folder kept aside once, under a clear name; no temporary folder left
        assert len(names) == 2 and names[0] == "c2pa" and names[1].startswith("c2pa.damaged-"), names
        assert os.listdir(p / names[1]) == ["README.txt"]
        assert sum(str(p / "c2pa") + ":" in line for line in warned) == 1, warned
    assert "is incomplete" in warned[0] and "moved aside to c2pa.damaged-" in warned[0], warned
    assert _sign_png(tmp_path, parents[0] / "c2pa", monkeypatch)["valid"]


def test_a_chain_whose_key_is_not_its_certificates_is_made_again(tmp_path, capsys, monkeypatch):
    from reenact.provenance.manifest import local_chain

    folder, other = tmp_path / "c2pa", tmp_path / "other" / "c2pa"
    chain, key, _root = local_chain(str(folder))
    first = (folder / "chain.pem").read_bytes()
    assert local_chain(str(folder)) == (chain, key, _root) and (folder / "chain.pem").read_bytes() == first
    assert sorted(os.listdir(tmp_path)) == ["c2pa"] and capsys.readouterr().err == ""  # a whole chain is kept
    local_chain(str(other))
    wrong = (other / "leaf.key").read_bytes()
    (folder / "leaf.key").write_bytes(wrong)  # another chain's key, as the race left it
    assert local_chain(str(folder)) == (chain, key, _root)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "leaf.key) that is not its certificate's" in err[0] and "moved aside" in err[0], err
    assert _consistent(folder) and (folder / "chain.pem").read_bytes() != first
    aside = [n for n in os.listdir(tmp_path) if n.startswith("c2pa.damaged-")]
    assert len(aside) == 1 and (tmp_path / aside[0] / "leaf.key").read_bytes() == wrong  # kept, not deleted
    assert (tmp_path / aside[0] / "chain.pem").read_bytes() == first
    assert _sign_png(tmp_path, folder, monkeypatch)["valid"]


def test_a_chain_this_user_cannot_read_is_said_not_replaced(tmp_path, monkeypatch):
    """A chain another user made (a shared REENACT_C2PA_DIR on a farm), or one kept 0600: this user
    cannot read its key. Said in one line, the chain left where it is (before the review of the
    evening of 2026-12-06 it was taken for damaged, moved aside and made anew: each user of a shared
    folder renamed the other's chain away and signed with another root). A first use where the
    chain's parent folder does not exist yet is made under the lock too."""
    import builtins

    import pytest

    from reenact.provenance import manifest as m

    calls = []
    real_flock = m.fcntl.flock if m.fcntl is not None else None
    if real_flock is not None:
        monkeypatch.setattr(m.fcntl, "flock", lambda fd, op: (calls.append(op), real_flock(fd, op))[1])
    folder = str(tmp_path / "new" / "parent" / "c2pa")  # (no parent yet)
    m.local_chain(folder)
    if real_flock is not None:
        assert calls, "the first use on a new machine was made without the lock"
    before = sorted(os.listdir(folder))
    real_open = builtins.open

    def denied(path, *a, **k):
        if str(path).endswith("leaf.key"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", denied)
    with pytest.raises(m.ManifestError, match="cannot be read by this user .*REENACT_C2PA_DIR"):
        m.local_chain(folder)
    monkeypatch.setattr(builtins, "open", real_open)
    assert sorted(os.listdir(folder)) == before
    assert [n for n in os.listdir(os.path.dirname(folder)) if "damaged" in n] == []
