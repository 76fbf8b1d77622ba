# SPDX-License-Identifier: GPL-3.0-or-later
"""Error-correcting code of the watermark payload: CRC-16 + a convolutional code.

``encode(bits, G)`` appends a CRC-16/CCITT of the message, then codes message + CRC with a
constraint-length-7 convolutional code terminated by six zero bits: ``n`` message bits become
``len(G) * (n + 16 + 6)`` coded bits. :data:`G` (133, 171 octal, the rate-1/2 code of 802.11 and
DVB: watermark format 1) or :data:`G3` (133, 171, 165, the rate-1/3 code of LTE: format 2).
``decode(soft, n, G)`` runs a soft-decision Viterbi decoder on the coded bits' soft values
(positive means 1) and checks the CRC: it returns ``(message bits, crc_ok)``.
``decode_list(soft, n, G, size, accept)`` keeps the ``size`` best paths into every state (a
parallel list Viterbi decoder) and returns the best message whose CRC holds and that ``accept``
takes: where the best path has a wrong bit or two, the CRC finds the right one among the next
(the usual CRC-aided list decoding; each candidate tried is a chance of 2**-16 that a wrong
message passes the CRC).

numpy only; the decoders are vectorised over the 64 states, ~1 ms for a 64-bit payload (the
list decoder 8-16 ms with 16-64 paths when every path is tried).
"""

import numpy as np

K = 7
G = (0o133, 0o171)
G3 = (0o133, 0o171, 0o165)
CRC_BITS = 16
_N_STATES = 1 << (K - 1)


def crc16(bits):
    """CRC-16/CCITT (poly 0x1021, init 0xFFFF) of a bit sequence, as 16 bits (MSB first)."""
    reg = 0xFFFF
    for b in bits:
        fb = ((reg >> 15) & 1) ^ int(b)
        reg = (reg << 1) & 0xFFFF
        if fb:
            reg ^= 0x1021
    return [(reg >> (15 - i)) & 1 for i in range(16)]


def _parity(x):
    return bin(x).count("1") & 1


def _tables(gens):
    """Transition tables of the code with generators ``gens``: next state, outputs, and for the
    decoder each state's two predecessors with the outputs of those branches."""
    t = _TABLES.get(gens)
    if t is not None:
        return t
    nxt = np.zeros((_N_STATES, 2), np.int64)
    out = np.zeros((_N_STATES, 2, len(gens)), np.int8)
    for s in range(_N_STATES):
        for b in range(2):
            reg = (b << (K - 1)) | s
            nxt[s, b] = reg >> 1
            for g in range(len(gens)):
                out[s, b, g] = _parity(reg & gens[g])
    # predecessors of each state: state t is reached from p0/p1 with input b(t) = high bit of t
    pred = np.zeros((_N_STATES, 2), np.int64)
    cnt = np.zeros(_N_STATES, np.int64)
    for s in range(_N_STATES):
        for b in range(2):
            u = nxt[s, b]
            pred[u, cnt[u]] = s
            cnt[u] += 1
    inp = (np.arange(_N_STATES) >> (K - 2)) & 1  # the input bit that leads into each state
    pred_out = np.stack([out[pred[:, j], inp] for j in range(2)], axis=1)  # (S, 2 preds, outputs)
    t = _TABLES[gens] = (nxt, out, pred, inp, pred_out)
    return t


_TABLES = {}
_NEXT, _OUT, _PRED, _IN, _PRED_OUT = _tables(G)


def coded_length(n_message_bits, gens=G):
    return len(gens) * (n_message_bits + CRC_BITS + K - 1)


def encode(bits, gens=G):
    """Message bits -> coded bits (numpy uint8), CRC and tail included."""
    nxt, out_t = _tables(tuple(gens))[:2]
    msg = [int(b) & 1 for b in bits]
    data = msg + crc16(msg) + [0] * (K - 1)
    s = 0
    out = []
    for b in data:
        out.extend(int(v) for v in out_t[s, b])
        s = int(nxt[s, b])
    return np.asarray(out, np.uint8)


def decode(soft, n_message_bits, gens=G):
    """Soft values of the coded bits (> 0 means 1, magnitude = confidence) -> (message bits as
    a list of ints, crc_ok): the Viterbi path (:func:`decode_list` with one path)."""
    msg, ok, _rank = decode_list(soft, n_message_bits, gens, size=1)
    return msg, ok


def decode_list(soft, n_message_bits, gens=G, size=16, accept=None):
    """:func:`decode` keeping the ``size`` best paths into each state: ``(message bits, ok,
    rank)`` of the best terminated path whose CRC holds and which ``accept(bits)`` (optional)
    takes, ``rank`` its place among the paths (0: the Viterbi path); ``(the best path's bits,
    False, -1)`` when none does."""
    gens = tuple(gens)
    _n, _o, pred, inp, pred_out = _tables(gens)
    soft = np.asarray(soft, np.float64).reshape(-1, len(gens))
    n = n_message_bits + CRC_BITS + K - 1
    if soft.shape[0] != n:
        raise ValueError("expected {} coded bits, got {}".format(len(gens) * n, soft.size))
    L = max(1, int(size))
    sym = 2.0 * pred_out - 1.0
    metric = np.full((_N_STATES, L), -np.inf)
    metric[0, 0] = 0.0
    back = np.zeros((n, _N_STATES, L), np.int16)   # index into the 2 x L candidates of each state
    rows = np.arange(_N_STATES)[:, None]
    for t in range(n):
        branch = (sym * soft[t]).sum(-1)            # (S, 2)
        cand = np.concatenate([metric[pred[:, 0]] + branch[:, :1], metric[pred[:, 1]] + branch[:, 1:]], 1)  # (S, 2L)
        top = np.argsort(-cand, axis=1, kind="stable")[:, :L]
        back[t] = top
        metric = cand[rows, top]
    best = None
    for r in range(L):
        if not np.isfinite(metric[0, r]):
            break
        state, rank, bits = 0, r, []
        for t in range(n - 1, -1, -1):
            idx = int(back[t, state, rank])
            bits.append(int(inp[state]))
            state, rank = int(pred[state, idx // L]), idx % L
        bits.reverse()
        msg = bits[:n_message_bits]
        if best is None:
            best = msg
        if bits[n_message_bits:n_message_bits + CRC_BITS] == crc16(msg) and (accept is None or accept(msg)):
            return msg, True, r
    return best, False, -1
