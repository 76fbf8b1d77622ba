# SPDX-License-Identifier: GPL-3.0-or-later
"""What the watermark carries (:mod:`.watermark`): tool, format version, job id."""

import hashlib
import secrets

import numpy as np

#: Tool id in the payload: 0x52 ("R"eenact).
TOOL_ID = 0x52
#: Version of the watermark format new marks are made in (payload layout, code, masking); the
#: detector reads every format in ``watermark.FORMATS``. 1: unmasked, 512 sync cells, rate-1/2
#: code; 2: perceptually masked (:mod:`.masking`), 384 sync cells, rate-1/3 code.
FORMAT_VERSION = 2
PAYLOAD_BITS = 52


class Payload:
    """What the mark carries: ``tool`` (8 bits), ``version`` (4 bits), ``job_id`` (40 bits)."""

    __slots__ = ("tool", "version", "job_id")

    def __init__(self, job_id, tool=TOOL_ID, version=FORMAT_VERSION):
        """``version``: the watermark format the payload is marked in (1 or 2, :data:`FORMATS`)."""
        self.tool, self.version, self.job_id = int(tool), int(version), int(job_id)
        if not (0 <= self.tool < 256 and 0 <= self.version < 16 and 0 <= self.job_id < (1 << 40)):
            raise ValueError("payload out of range: tool < 256, version < 16, job id < 2**40")

    def bits(self):
        v = (self.tool << 44) | (self.version << 40) | self.job_id
        return [(v >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)]

    @classmethod
    def from_bits(cls, bits):
        v = 0
        for b in bits:
            v = (v << 1) | int(b)
        return cls(job_id=v & ((1 << 40) - 1), tool=(v >> 44) & 0xFF, version=(v >> 40) & 0xF)

    def to_dict(self):
        return {"tool": self.tool, "tool_name": "Reenact" if self.tool == TOOL_ID else None,
                "version": self.version, "job_id": "{:010x}".format(self.job_id)}

    def __eq__(self, other):
        return isinstance(other, Payload) and (self.tool, self.version, self.job_id) == (
            other.tool, other.version, other.job_id)

    def __hash__(self):
        return hash((self.tool, self.version, self.job_id))

    def __repr__(self):
        return "Payload(job_id=0x{:010x}, tool=0x{:02x}, version={})".format(self.job_id, self.tool, self.version)


def new_job_id():
    """A random 40-bit render job id."""
    return secrets.randbits(40)


def job_id_from(*parts):
    """A deterministic 40-bit job id from strings (e.g. the footage's and the renderer's
    identities and the performance's digest): renders of disjoint frame ranges in parallel
    processes, and Preview Frame, then carry the same id without being told one."""
    h = hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:5], "big")


def make_payload(job_id=None):
    """The payload of a Reenact render: ``job_id`` an int < 2**40, a hex string, any other
    string (hashed to 40 bits), or None (a new random id)."""
    if job_id is None:
        return Payload(new_job_id())
    if isinstance(job_id, Payload):
        return job_id
    if isinstance(job_id, (int, np.integer)):
        return Payload(int(job_id))
    s = str(job_id).strip()
    try:
        v = int(s, 16)
        if v < (1 << 40) and len(s) <= 10:
            return Payload(v)
    except ValueError:
        pass
    return Payload(int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:5], "big"))
