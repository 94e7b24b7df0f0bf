"""G.711 µ-law (PCMU) and A-law (PCMA) by table: 16-bit linear PCM <-> 8-bit codes (ITU-T G.711).

The encode tables are indexed by the sample's top 14 bits (the low two bits never change the code), so
both directions are a lookup per sample.
"""

from __future__ import annotations

import array
import math
import sys

_ULAW_BIAS = 0x84
_ULAW_CLIP = 32635
_ALAW_SEG_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _ulaw_from_linear(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(_ULAW_CLIP, -sample if sample < 0 else sample) + _ULAW_BIAS
    exponent = 7
    while exponent > 0 and not magnitude & (0x4000 >> (7 - exponent)):
        exponent -= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = (((code & 0x0F) << 3) + _ULAW_BIAS) << exponent
    magnitude -= _ULAW_BIAS
    return -magnitude if code & 0x80 else magnitude


def _alaw_from_linear(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = 0
    while segment < 8 and value > _ALAW_SEG_END[segment]:
        segment += 1
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def _alaw_to_linear(code: int) -> int:
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


def _encode_table(function: object) -> bytes:
    assert callable(function)
    # index = (sample >> 2) & 0x3FFF, i.e. the 14-bit two's-complement top of the sample
    return bytes(function(((index ^ 0x2000) - 0x2000) << 2) for index in range(1 << 14))


ULAW_ENCODE = _encode_table(_ulaw_from_linear)
ALAW_ENCODE = _encode_table(_alaw_from_linear)
ULAW_DECODE = array.array("h", (_ulaw_to_linear(code) for code in range(256)))
ALAW_DECODE = array.array("h", (_alaw_to_linear(code) for code in range(256)))


def _byte_tables(decoded: array.array[int]) -> tuple[bytes, bytes]:
    """The low and the high byte of every code's 16-bit sample, in native order for ``array("h")``."""
    low = bytes(value & 0xFF for value in decoded)
    high = bytes((value >> 8) & 0xFF for value in decoded)
    return (low, high) if sys.byteorder == "little" else (high, low)


# Decoding is two ``bytes.translate`` passes (C speed), one per byte of the sample: a segment of speech
# ends on many calls at once, and decoding it a sample at a time in Python stalled the media clock.
_DECODE_BYTES = {0: _byte_tables(ULAW_DECODE), 8: _byte_tables(ALAW_DECODE)}

# Squared decoded value of every code, so a frame's energy needs no decoding.
ULAW_SQUARES = [value * value for value in ULAW_DECODE]
ALAW_SQUARES = [value * value for value in ALAW_DECODE]

# payload type -> (name, encode table, decode table, the code of silence)
CODECS: dict[int, tuple[str, bytes, array.array[int], int]] = {
    0: ("PCMU", ULAW_ENCODE, ULAW_DECODE, _ulaw_from_linear(0)),
    8: ("PCMA", ALAW_ENCODE, ALAW_DECODE, _alaw_from_linear(0)),
}


def to_pcm_array(pcm: bytes) -> array.array[int]:
    """Little-endian 16-bit PCM bytes as an array of samples."""
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder != "little":
        samples.byteswap()
    return samples


def encode(samples: array.array[int], payload_type: int) -> bytes:
    table = CODECS[payload_type][1]
    return bytes(table[(sample >> 2) & 0x3FFF] for sample in samples)


def decode(payload: bytes, payload_type: int) -> array.array[int]:
    first, second = _DECODE_BYTES[payload_type]
    pcm = bytearray(2 * len(payload))
    pcm[0::2] = payload.translate(first)
    pcm[1::2] = payload.translate(second)
    samples = array.array("h")
    samples.frombytes(pcm)
    return samples


def rms(payload: bytes, payload_type: int) -> float:
    """The RMS level of a G.711 frame in linear 16-bit units."""
    if not payload:
        return 0.0
    squares = ULAW_SQUARES if payload_type == 0 else ALAW_SQUARES
    return math.sqrt(sum(map(squares.__getitem__, payload)) / len(payload))


def silence(payload_type: int, count: int) -> bytes:
    return bytes([CODECS[payload_type][3]]) * count
