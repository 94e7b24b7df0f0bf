"""An independent SIP user agent for the tests: pjsua2 (PJSIP) with the null sound device.

Run as a child process: ``python pjsua_phone.py CONFIG_JSON``. It registers, answers every incoming call
after sending 180, plays ``play_wav`` into the call, records what it hears to ``record_wav``, and prints one
JSON line per event on stdout: registered, incoming, answered, media, disconnected. It stops by itself
after ``lifetime`` seconds or when stdin closes.
"""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any

import pjsua2 as pj


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Call(pj.Call):  # type: ignore[misc]
    def __init__(self, account: Account, call_id: int, config: dict[str, Any]) -> None:
        super().__init__(account, call_id)
        self.config = config
        self.player: Any = None
        self.recorder: Any = None

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            emit("answered")
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            emit("disconnected", code=info.lastStatusCode, reason=info.lastReason)

    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                audio = self.getAudioMedia(index)
                if self.recorder is None:
                    self.recorder = pj.AudioMediaRecorder()
                    self.recorder.createRecorder(self.config["record_wav"])
                    audio.startTransmit(self.recorder)
                if self.player is None:
                    self.player = pj.AudioMediaPlayer()
                    self.player.createPlayer(self.config["play_wav"], pj.PJMEDIA_FILE_NO_LOOP)
                    self.player.startTransmit(audio)
                emit("media", codec=self.getStreamInfo(index).codecName)


class Account(pj.Account):  # type: ignore[misc]
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = config
        self.calls: list[Call] = []

    def onRegState(self, prm: Any) -> None:
        emit("registered", code=prm.code, expiration=prm.expiration)

    def onIncomingCall(self, prm: Any) -> None:
        call = Call(self, prm.callId, self.config)
        self.calls.append(call)
        emit("incoming", remote=call.getInfo().remoteUri)
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        ok = pj.CallOpParam()
        ok.statusCode = 200
        call.answer(ok)


def main() -> int:
    config: dict[str, Any] = json.loads(sys.argv[1])
    endpoint = pj.Endpoint()
    endpoint.libCreate()
    ep_config = pj.EpConfig()
    ep_config.uaConfig.threadCnt = 0
    ep_config.uaConfig.mainThreadOnly = True
    ep_config.logConfig.level = 0
    ep_config.logConfig.consoleLevel = 0
    ep_config.medConfig.noVad = True
    endpoint.libInit(ep_config)
    endpoint.audDevManager().setNullDev()
    kind = config["transport"]
    transport_config = pj.TransportConfig()
    transport_config.port = 0
    transport_config.boundAddress = "127.0.0.1"
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_TCP if kind == "tcp" else pj.PJSIP_TRANSPORT_UDP, transport_config)
    endpoint.libStart()

    account_config = pj.AccountConfig()
    account_config.idUri = f"sip:{config['username']}@{config['domain']}"
    account_config.regConfig.registrarUri = f"sip:{config['host']}:{config['port']};transport={kind}"
    account_config.regConfig.timeoutSec = 300
    account_config.sipConfig.proxies.append(f"sip:{config['host']}:{config['port']};transport={kind};lr")
    account_config.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", config["username"], 0, config["password"]))
    account = Account(config)
    account.create(account_config)

    deadline = time.monotonic() + float(config.get("lifetime", 30))
    try:
        while time.monotonic() < deadline:
            endpoint.libHandleEvents(20)
            readable, _, _ = select.select([sys.stdin], [], [], 0)
            if readable and not sys.stdin.readline():
                break
    finally:
        for call in account.calls:
            call.player = None
            call.recorder = None
        account.shutdown()
        endpoint.libDestroy()
    emit("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
