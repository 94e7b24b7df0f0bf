"""Pieces of the SIP side on their own: G.711, RTP statistics, digest, parsing, SDP, segments, voice."""

from __future__ import annotations

import array
import math
import time

import pytest
from pydantic import ValidationError

from tests.sandbox.conftest import SandboxFactory
from tui.sandbox.settings import SandboxSettings
from tui.sandbox.sip import g711, listen, voice
from tui.sandbox.sip.digest import DigestAuth, expected_response, parse_credentials
from tui.sandbox.sip.message import SipParseError, address_uri, header_params, parse_message, parse_uri
from tui.sandbox.sip.rtp import RtpStats
from tui.sandbox.sip.sdp import SdpError, parse_audio
from tui.sandbox.standalone import sip_banner


def sine(seconds: float, amplitude: int, frequency: float = 300.0) -> array.array[int]:
    return array.array(
        "h", (int(amplitude * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(int(seconds * 8000)))
    )


# --- G.711 ------------------------------------------------------------------------------------------


def test_g711_frame_level_without_decoding() -> None:
    frame = sine(0.02, 8000)
    for payload_type in (0, 8):
        level = g711.rms(g711.encode(frame, payload_type), payload_type)
        assert abs(level - listen.rms(frame)) / listen.rms(frame) < 0.03
    assert g711.rms(g711.silence(0, 160), 0) == 0.0


def test_g711_silence_codes_and_extremes() -> None:
    assert g711.silence(0, 2) == b"\xff\xff"
    assert g711.silence(8, 2) == b"\xd5\xd5"
    assert g711.decode(b"\x00\x80", 0).tolist() == [-32124, 32124]
    assert g711.decode(b"\x2a\xaa", 8).tolist() == [-32256, 32256]


@pytest.mark.parametrize("payload_type", [0, 8])
def test_g711_round_trip_error_is_within_the_law(payload_type: int) -> None:
    samples = array.array("h", range(-32768, 32767, 37))
    decoded = g711.decode(g711.encode(samples, payload_type), payload_type)
    worst = max(abs(d - s) / max(256, abs(s)) for s, d in zip(samples, decoded, strict=True))
    assert worst < 0.07
    codes = bytes(range(256))
    again = g711.encode(g711.decode(codes, payload_type), payload_type)
    assert sum(a != b for a, b in zip(codes, again, strict=True)) <= 1  # µ-law's -0 becomes +0


# --- RTP statistics ---------------------------------------------------------------------------------


def test_rtp_stats_loss_and_wraparound() -> None:
    stats = RtpStats()
    sequence = [65533, 65534, 65535, 0, 2, 3]  # 1 is lost across the wrap
    for index, seq in enumerate(sequence):
        stats.on_packet(seq, index * 160, index * 0.02)
    assert stats.received == 6
    assert stats.expected == 7
    assert stats.lost == 1
    assert stats.jitter_ms < 0.001


def test_rtp_stats_jitter_grows_with_uneven_arrival() -> None:
    stats = RtpStats()
    for index in range(200):
        stats.on_packet(index, index * 160, index * 0.02 + (0.004 if index % 2 else 0.0))
    assert 2.0 < stats.jitter_ms < 4.5  # |D| is 4 ms every packet; J converges to it


# --- digest -----------------------------------------------------------------------------------------


def test_digest_response_matches_rfc2617_example() -> None:
    assert (
        expected_response(
            username="Mufasa",
            realm="testrealm@host.com",
            password="Circle Of Life",
            method="GET",
            uri="/dir/index.html",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            nc="00000001",
            cnonce="0a4f113b",
            qop="auth",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def _answer(auth: DigestAuth, password: str) -> dict[str, str]:
    challenge = parse_credentials(auth.challenge("realm.example"))
    fields = {
        "username": "alice",
        "realm": "realm.example",
        "nonce": challenge["nonce"],
        "uri": "sip:realm.example",
        "nc": "00000001",
        "cnonce": "abc",
        "qop": "auth",
    }
    fields["response"] = expected_response(password=password, method="REGISTER", **fields)
    return fields


def test_digest_verify_good_wrong_forged_and_stale() -> None:
    auth = DigestAuth()
    kwargs = {"method": "REGISTER", "realm": "realm.example", "username": "alice", "password": "pw"}
    assert auth.verify(_answer(auth, "pw"), **kwargs).ok
    assert not auth.verify(_answer(auth, "nope"), **kwargs).ok
    forged = _answer(auth, "pw")
    forged["nonce"] = f"{time.time():.3f}.{'0' * 32}"
    assert not auth.verify(forged, **kwargs).ok
    old = DigestAuth(lifetime=-10.0)
    verdict = old.verify(_answer(old, "pw"), **kwargs)
    assert (verdict.ok, verdict.stale) == (False, True)


# --- messages, URIs, SDP ----------------------------------------------------------------------------

REQUEST = (
    b"REGISTER sip:example.org SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
    b"f: <sip:a@example.org>;tag=1\r\nt: <sip:a@example.org>\r\ni: abc\r\nCSeq: 2 REGISTER\r\n"
    b"Subject: folded\r\n  line\r\nl: 4\r\n\r\nbodyEXTRA"
)


def test_parse_compact_and_folded_headers() -> None:
    message = parse_message(REQUEST)
    assert (message.method, message.call_id, message.cseq) == ("REGISTER", "abc", (2, "REGISTER"))
    assert message.top_branch() == "z9hG4bKx"
    assert message.get("subject") == "folded line"
    assert message.body == b"body"


@pytest.mark.parametrize(
    "data",
    [
        REQUEST.replace(b"l: 4", b"l: 400"),
        REQUEST.replace(b"l: 4", b"l: x"),
        REQUEST.replace(b"i: abc\r\n", b""),
        REQUEST.replace(b"CSeq: 2 REGISTER", b"CSeq: two"),
        b"GARBAGE\r\n\r\n",
        b"REGISTER sip:x SIP/2.0\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
        REQUEST.replace(b"\r\n\r\n", b"\r\n"),
        REQUEST.replace(b"i: abc", b"i: a\x1b]0;title\x07bc"),
        REQUEST.replace(b"sip:example.org SIP", b"sip:ex\x1bample.org SIP"),
    ],
)
def test_parse_refuses_bad_messages(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(data)


def test_uri_and_header_helpers() -> None:
    uri = parse_uri("sip:alice:secret@Example.ORG:5080;transport=TCP;lr")
    assert (uri.user, uri.host, uri.port, uri.transport) == ("alice", "example.org", 5080, "tcp")
    assert parse_uri("sips:[::1]:5061").host == "::1"
    assert address_uri('"A, B" <sip:a@b>;tag=x') == "sip:a@b"
    assert header_params('"A;B" <sip:a@b;lr>;tag=x;expires=30') == {"tag": "x", "expires": "30"}
    with pytest.raises(SipParseError):
        parse_uri("tel:+1555")


def test_sdp_answer_parsing() -> None:
    body = b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=sendonly\r\n"
    media = parse_audio(body)
    assert (media.host, media.port, media.codec(), media.direction) == ("127.0.0.1", 4000, 8, "sendonly")
    assert parse_audio(body.replace(b"RTP/AVP", b"RTP/SAVP")).profile == "RTP/SAVP"  # keys: test_sip_srtp.py
    with pytest.raises(SdpError, match="unsupported media profile"):
        parse_audio(body.replace(b"RTP/AVP", b"UDP/TLS/RTP/SAVP"))
    with pytest.raises(SdpError, match="codec"):
        parse_audio(body.replace(b"8 0 101", b"9 101")).codec()


# --- speech segments and voice ----------------------------------------------------------------------


def feed(segmenter: listen.SpeechSegmenter, samples: array.array[int], start: float) -> float:
    at = start
    for offset in range(0, len(samples), 160):
        at += 0.02
        segmenter.feed(g711.encode(samples[offset : offset + 160], 0), 0, at)
    return at


def test_segmenter_reports_speech_by_energy_and_ignores_quiet_noise() -> None:
    ended: list[tuple[float, float, int]] = []
    segmenter = listen.SpeechSegmenter(lambda _at: None, lambda s, e, audio: ended.append((s, e, len(audio))))
    at = feed(segmenter, sine(1.0, 60), 0.0)  # about -55 dBFS: not speech
    at = feed(segmenter, sine(1.4, 8000), at)
    feed(segmenter, sine(1.0, 0), at)
    assert len(ended) == 1
    assert listen.segment_label(ended[0][1] - ended[0][0]) == "[speech 1.4 s]"
    assert ended[0][2] == 1.4 * 8000  # the segment's audio, decoded, for a speech-to-text hook
    assert segmenter.speech_frames == 70


def test_segment_ends_when_packets_stop() -> None:
    ended: list[float] = []
    segmenter = listen.SpeechSegmenter(lambda _at: None, lambda s, e, _audio: ended.append(e - s))
    at = feed(segmenter, sine(0.6, 8000), 0.0)
    segmenter.check(at + 0.2)
    assert ended == []
    segmenter.check(at + 0.6)
    assert [round(x, 1) for x in ended] == [0.6]


def test_tone_bursts_follow_the_text_length() -> None:
    samples, kind = voice.synthesize("one two three", 2.0, use_tts=False)
    assert kind == "tone"
    assert abs(len(samples) / 8000 - 2.0) < 0.1
    assert listen.rms(samples) > 3000


def test_espeak_speaks_when_the_tts_extra_is_installed() -> None:
    samples, kind = voice.synthesize("Hello, this is a test of the sandbox voice.", 1.0)
    assert kind == "tts"
    assert 1.5 < len(samples) / 8000 < 5.0
    assert listen.rms(samples) > 500


# --- settings and banner ----------------------------------------------------------------------------


def test_sip_settings() -> None:
    assert SandboxSettings(sip=True, speed=20).effective_speed == 1.0
    assert SandboxSettings(speed=20).effective_speed == 20
    with pytest.raises(ValidationError, match="go together"):
        SandboxSettings(sip_tls_cert="cert.pem")


async def test_banner_lists_addresses_and_credentials(start_sandbox: SandboxFactory) -> None:
    sandbox = await start_sandbox(sip=True, speed=20)
    lines = sip_banner(sandbox)
    assert "speed setting 20 is ignored" in lines[0]
    assert f"sip:127.0.0.1:{sandbox.sip_port};transport=udp" in "\n".join(lines)
    assert f"sip:127.0.0.1:{sandbox.sip_port};transport=tcp" in "\n".join(lines)
    assert f"username quickstart-phone  password quickstart-secret  domain {sandbox.customer_id}" in "\n".join(lines)
    assert sip_banner(await start_sandbox()) == []


@pytest.mark.parametrize("use_tts", [True, False])
async def test_render_encodes_speech_or_tone_and_reuses_it(use_tts: bool) -> None:
    text = f"Render test {use_tts}, one two three."
    payload, kind = await voice.render(text, 2.0, use_tts=use_tts, payload_type=8)
    assert kind == ("tts" if use_tts else "tone")
    decoded = g711.decode(payload, 8)
    direct, _ = voice.synthesize(text, 2.0, use_tts=use_tts)
    assert abs(len(decoded) - len(direct)) < 0.05 * len(direct)
    assert abs(listen.rms(decoded) - listen.rms(direct)) / listen.rms(direct) < 0.05
    again, _ = await voice.render(text, 2.0, use_tts=use_tts, payload_type=8)
    assert again is payload


def test_sip_flags_and_environment() -> None:
    from tui.sandbox.standalone import parse_settings

    settings = parse_settings(
        ["--sip", "--sip-port", "0", "--sip-tls-port", "0", "--no-sip-tts", "--sip-public-host", "192.0.2.1"],
        {"VOIPBIN_SANDBOX__SIP_TLS_CERT": "", "VOIPBIN_SANDBOX__SPEED": "5"},
    )
    assert (settings.sip, settings.sip_port, settings.sip_tls_port, settings.sip_tts) == (True, 0, 0, False)
    assert settings.sip_public_host == "192.0.2.1"
    assert settings.sip_tls_cert is None
    assert settings.effective_speed == 1.0
    assert parse_settings([], {"VOIPBIN_SANDBOX__SIP": "true"}).sip is True
    assert parse_settings([], {}).sip is False


def test_sandbox_voice_and_phone_tts_in_one_process_both_get_their_audio() -> None:
    # eSpeak NG keeps one callback for the process; whichever side set it last used to get all the audio,
    # so after the phone spoke a line the sandbox's greetings were silent.
    from tui.phone.tts import Espeak

    sandbox_voice = voice.espeak_voice()
    assert sandbox_voice is not None  # the test extra installs eSpeak NG
    before = sandbox_voice.speak("Hello from the sandbox.")
    phone = Espeak.shared()
    assert len(phone.synth("A line from the phone.")) > 8000
    after = sandbox_voice.speak("Hello from the sandbox.")
    assert len(before) > sandbox_voice.rate // 2
    assert abs(len(after) - len(before)) < 0.02 * len(before)  # the same voice and rate, not the phone's
    assert len(phone.synth("A line from the phone.")) > 8000
