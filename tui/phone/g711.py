"""G.711 µ-law and A-law for 16-bit signed PCM (``audioop`` is gone from newer Pythons).

Decoding uses 256-entry tables; encoding a 65536-entry table built once, so a 20 ms frame is one
``bytes.translate``-like pass with no per-sample branching in Python.
"""

from __future__ import annotations

import array
import functools
import sys

_BIAS = 0x84
_CLIP = 32635


def _ulaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, _CLIP) + _BIAS
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _ulaw_decode_byte(code: int) -> int:
    code = ~code & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return -magnitude if sign else magnitude


def _alaw_encode_sample(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(sample if sample >= 0 else -sample - 1, 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55


def _alaw_decode_byte(code: int) -> int:
    code ^= 0x55
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if code & 0x80 else -magnitude


@functools.cache
def _decode_table(law: str) -> array.array[int]:
    fn = _ulaw_decode_byte if law == "ulaw" else _alaw_decode_byte
    return array.array("h", [fn(i) for i in range(256)])


@functools.cache
def _encode_table(law: str) -> bytes:
    fn = _ulaw_encode_sample if law == "ulaw" else _alaw_encode_sample
    # Indexed by the sample as an unsigned 16-bit value.
    return bytes(fn(i - 65536 if i >= 32768 else i) for i in range(65536))


def _samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def encode(pcm: bytes, law: str = "ulaw") -> bytes:
    """16-bit little-endian PCM to G.711 (``law`` is ``ulaw`` or ``alaw``)."""
    table = _encode_table(law)
    return bytes(table[s & 0xFFFF] for s in _samples(pcm))


def decode(data: bytes, law: str = "ulaw") -> bytes:
    """G.711 to 16-bit little-endian PCM."""
    table = _decode_table(law)
    out = array.array("h", [table[b] for b in data])
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()
