"""A `voipbin-tui phone` process registered at an embedded sandbox's SIP side, for the phone benchmarks.

Both phone measurements need the same stage: a sandbox with SIP on, a REST client for it, the seed
extension's domain, and the phone started as the user would start it, then stopped with Ctrl+C (SIGINT)
so that it hangs up and unregisters.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from tui.sandbox import EmbeddedSandbox

EXTENSION = "quickstart-phone"


@dataclass
class PhoneRig:
    sandbox: EmbeddedSandbox
    api: httpx.AsyncClient
    proc: asyncio.subprocess.Process


def quickstart_call(talk: str, sleep_ms: int) -> dict[str, Any]:
    """``POST /calls`` to the seed extension: a greeting, then a sleep that keeps the call up."""
    return {
        "source": {"type": "tel", "target": "+15551234567"},
        "destinations": [{"type": "extension", "target_name": EXTENSION}],
        "actions": [
            {"type": "talk", "option": {"text": talk}},
            {"type": "sleep", "option": {"duration": sleep_ms}},
        ],
    }


@contextlib.asynccontextmanager
async def phone_on_sip_sandbox(tmp: Path, *phone_args: str) -> AsyncIterator[PhoneRig]:
    """The sandbox with SIP on and the phone registering over TCP as the seed extension (plus ``phone_args``)."""
    import httpx

    from tui.sandbox import EmbeddedSandbox, SandboxSettings
    from tui.sandbox.settings import SEED_PASSWORDS

    config = tmp / "config.toml"
    config.write_text("")
    async with EmbeddedSandbox(SandboxSettings(sip=True)) as sandbox:
        params = {"accesskey": sandbox.accesskey}
        async with httpx.AsyncClient(base_url=sandbox.api_url, params=params, timeout=10) as api:
            ext = next(e for e in (await api.get("/extensions")).json()["result"] if e["extension"] == EXTENSION)
            env = dict(os.environ, VOIPBIN_TUI_CONFIG=str(config), BENCH_PHONE_PW=SEED_PASSWORDS[EXTENSION])
            exe = str(Path(sys.executable).with_name("voipbin-tui"))
            proc = await asyncio.create_subprocess_exec(
                exe, "phone", "--extension", EXTENSION, "--domain", ext["domain_name"],
                "--registrar", f"127.0.0.1:{sandbox.sip_port}", "--transport", "tcp",
                "--password-env", "BENCH_PHONE_PW", "--answer-delay", "0", *phone_args,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL, env=env,
            )  # fmt: skip
            try:
                yield PhoneRig(sandbox, api, proc)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 10)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
