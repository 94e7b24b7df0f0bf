"""The phone's own audio code on synthetic signals: G.711, energy segments, RTP statistics, WAV, TTS."""

from __future__ import annotations

import array
import math
import wave
from pathlib import Path

import pytest

from tests.phone.conftest import silence, tone
from tui.phone import g711
from tui.phone.levels import SpeechSegmenter, frame_dbfs, pcm_samples
from tui.phone.rtpstats import RtpReceiveStats
from tui.phone.tts import synthesize
from tui.phone.wavfile import WavWriter, read_wav_pcm, resample


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_g711_round_trip_keeps_the_level_and_shape(law: str) -> None:
    pcm = tone(0.1, 440.0, 12000)
    back = g711.decode(g711.encode(pcm, law), law)
    assert len(back) == len(pcm)
    worst = max(abs(a - b) for a, b in zip(pcm_samples(pcm), pcm_samples(back), strict=True))
    assert worst <= 12000 // 32  # companding error grows with amplitude; a few percent at most
    assert frame_dbfs(back) == pytest.approx(frame_dbfs(pcm), abs=0.2)


def test_g711_known_codes() -> None:
    # Silence is 0xFF in µ-law and 0xD5 in A-law; full scale saturates to the extreme codes.
    assert g711.encode(bytes(2), "ulaw") == b"\xff"
    assert g711.encode(bytes(2), "alaw") == b"\xd5"
    loudest = array.array("h", [32767, -32768]).tobytes()
    assert g711.encode(loudest, "ulaw") == b"\x80\x00"
    assert g711.encode(loudest, "alaw") == b"\xaa\x2a"


def test_frame_level() -> None:
    assert frame_dbfs(b"") == -96.0
    assert frame_dbfs(silence(0.02)) == -96.0
    # A full-scale sine is -3 dBFS RMS; half that amplitude -9.
    assert frame_dbfs(tone(0.1, 400.0, 32767)) == pytest.approx(-3.0, abs=0.1)
    assert frame_dbfs(tone(0.1, 400.0, 16384)) == pytest.approx(-9.0, abs=0.1)


def feed_all(segmenter: SpeechSegmenter, pcm: bytes) -> list[tuple[float, float]]:
    out = []
    for i in range(0, len(pcm), 320):
        out += segmenter.feed(pcm[i : i + 320])
    out += segmenter.flush()
    return [(s.start, s.end) for s in out]


def test_segments_are_where_the_energy_is() -> None:
    pcm = silence(0.5) + tone(1.0) + silence(1.0) + tone(0.4) + silence(0.3) + tone(0.5) + silence(1.0)
    segments = feed_all(SpeechSegmenter(8000), pcm)
    # The 0.3 s pause is inside the hangover: one utterance; the 1 s pause separates two.
    assert segments == [(0.5, 1.5), (2.5, 3.7)]


def test_clicks_and_quiet_noise_are_not_speech() -> None:
    quiet = tone(2.0, 300.0, 50)  # about -59 dBFS: line noise
    click = tone(0.06, 1000.0, 20000)
    assert feed_all(SpeechSegmenter(8000), quiet + click + quiet) == []


def test_segment_open_at_end_of_stream_is_flushed() -> None:
    segmenter = SpeechSegmenter(8000)
    assert feed_all(segmenter, silence(0.2) + tone(0.5)) == [(0.2, 0.7)]


def test_rtp_stats_count_loss_and_jitter() -> None:
    stats = RtpReceiveStats(8000)
    for n in range(100):
        if n in (10, 11, 50):
            continue  # lost
        stats.add(n, n * 160, n * 0.02)
    snap = stats.snapshot()
    assert (snap.packets, snap.lost, snap.jitter_ms) == (97, 3, 0.0)
    assert snap.loss_pct == pytest.approx(3.0)


def test_rtp_jitter_follows_rfc3550_and_sequence_wraps() -> None:
    stats = RtpReceiveStats(8000)
    # Every other packet arrives 10 ms late: |D| is 80 timestamp units each time.
    for i in range(400):
        seq = (65500 + i) & 0xFFFF
        stats.add(seq, i * 160, i * 0.02 + (0.01 if i % 2 else 0.0))
    snap = stats.snapshot()
    assert snap.packets == 400
    assert snap.lost == 0
    assert snap.jitter_ms == pytest.approx(10.0, abs=0.1)


def test_wav_writer_and_reader(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.wav"
    writer = WavWriter(path)
    writer.write(tone(0.5))
    writer.write(silence(0.5))
    writer.close()
    assert writer.seconds == pytest.approx(1.0)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 8000)
    assert read_wav_pcm(path) == tone(0.5) + silence(0.5)


def test_reading_other_rates_and_stereo(tmp_path: Path) -> None:
    path = tmp_path / "stereo16k.wav"
    mono16 = array.array("h", [int(9000 * math.sin(2 * math.pi * 300 * i / 16000)) for i in range(16000)])
    stereo = array.array("h")
    for s in mono16:
        stereo.extend((s, s))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(stereo.tobytes())
    pcm = read_wav_pcm(path)
    assert len(pcm) == 16000  # one second at 8 kHz
    assert frame_dbfs(pcm) == pytest.approx(frame_dbfs(mono16.tobytes()), abs=0.3)


def test_bad_wav_files_are_refused_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav at all")
    with pytest.raises(ValueError, match=r"junk\.wav: not a PCM WAV file"):
        read_wav_pcm(junk)
    eight = tmp_path / "eight.wav"
    with wave.open(str(eight), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(bytes(800))
    with pytest.raises(ValueError, match="only 16-bit"):
        read_wav_pcm(eight)


def test_resample_keeps_duration() -> None:
    pcm = tone(1.0, 200.0, 8000, rate=22050)
    out = resample(pcm, 22050, 8000)
    assert len(out) == 16000


def test_tts_speaks_text_as_one_utterance_at_8khz() -> None:
    pcm = synthesize("Hello, I would like a table for two.")
    seconds = len(pcm) / 16000
    assert 1.0 < seconds < 5.0
    segments = feed_all(SpeechSegmenter(8000), pcm)
    assert len(segments) == 1
    assert segments[0][1] - segments[0][0] > 0.8
