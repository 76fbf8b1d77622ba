# SPDX-License-Identifier: GPL-3.0-or-later
"""``reenact verify --trust ROOTS.pem``: a studio's root certificate makes its signers trusted.
Before 2026-12-06 verify trusted this machine's local root alone, and a file signed with a
studio's proper chain always read "signer not trusted … [signingCredential.untrusted]"."""

import json

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _c2pa_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REENACT_C2PA_DIR", str(tmp_path_factory.getbasetemp() / "c2pa-chain"))


def test_verify_trusts_the_roots_it_is_given(tmp_path, capsys):
    import cv2

    from reenact.cli import main
    from reenact.provenance.manifest import local_chain, sign_file

    chain, key, root = local_chain(str(tmp_path / "studio"))  # (a chain of its own: not this machine's)
    png = str(tmp_path / "still.png")
    cv2.imwrite(png, np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8))
    sign_file(png, action="c2pa.created", cert=chain, key=key)

    assert main(["verify", png, "--json"]) == 0
    m = json.loads(capsys.readouterr().out)["results"][0]["manifest"]
    assert m["valid"] and not m["trusted"], m

    assert main(["verify", png, "--json", "--trust", root]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert r["manifest"]["valid"] and r["manifest"]["trusted"] and r["manifest"]["trust_list"] == "given", r
    assert r["trust"] == root

    assert main(["verify", png, "--trust", root]) == 0
    out = capsys.readouterr().out
    assert "manifest: present, valid, trusted by root.pem, signer" in out, out

    other, _k, other_root = local_chain(str(tmp_path / "elsewhere"))
    assert main(["verify", png, "--trust", other_root]) == 0
    assert "signer not trusted (its chain ends at no root in root.pem)" in capsys.readouterr().out

    assert main(["verify", png, "--trust", key]) == 2  # (a key, not a certificate: one line, nothing read)
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.strip() == "reenact: error: --trust {}: holds no PEM certificate " \
        "(-----BEGIN CERTIFICATE-----): give the root certificate(s) to trust".format(key), cap.err
