"""An independent SIP caller for the SRTP test: PJSIP (pjsua2) dials a URI with SRTP required, plays a
WAV file into the call, and prints one JSON summary line. Run as ``python -m tests.phone.pjcaller``."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pjsua2 as pj


class Caller(pj.Call):  # type: ignore[misc]
    def __init__(self, account: Any, wav: str) -> None:
        super().__init__(account)
        self.wav = wav
        self.player: Any = None
        self.confirmed = False
        self.disconnected = False
        self.secure = False

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        self.confirmed = self.confirmed or info.state == pj.PJSIP_INV_STATE_CONFIRMED
        self.disconnected = info.state == pj.PJSIP_INV_STATE_DISCONNECTED

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.secure = self.secure or self._srtp()
                self.player = pj.AudioMediaPlayer()
                self.player.createPlayer(self.wav)  # looped: what the phone hears does not hang on timing
                self.player.startTransmit(self.getAudioMedia(index))

    def _srtp(self) -> bool:
        # The stream's info names the transport; an SRTP-wrapped one says so in the dump.
        return "srtp" in self.dump(True, "").lower()


def main(uri: str, wav: str, seconds: float) -> None:
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    tcfg = pj.TransportConfig()
    tcfg.boundAddress = "127.0.0.1"
    tcfg.port = 0
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    acfg = pj.AccountConfig()
    acfg.idUri = "sip:caller@127.0.0.1"
    acfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_MANDATORY
    acfg.mediaConfig.srtpSecureSignaling = 0
    acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
    account = pj.Account()
    account.create(acfg)
    call = Caller(account, wav)
    call.makeCall(uri, pj.CallOpParam(True))
    deadline = time.monotonic() + 10
    while not call.confirmed and not call.disconnected and time.monotonic() < deadline:
        ep.libHandleEvents(10)
    end = time.monotonic() + seconds
    while call.confirmed and not call.disconnected and time.monotonic() < end:
        ep.libHandleEvents(10)
    secure = call._srtp() if call.confirmed and not call.disconnected else call.secure
    rx = 0
    if call.confirmed and not call.disconnected:
        rx = int(call.getStreamStat(0).rtcp.rxStat.pkt)
        call.hangup(pj.CallOpParam())
        for _ in range(100):
            ep.libHandleEvents(10)
    print(json.dumps({"confirmed": call.confirmed, "srtp": secure, "rx_packets": rx}), flush=True)
    ep.libDestroy()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
