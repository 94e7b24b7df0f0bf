"""--allow-real: a named target, the plan first, a call cap, clean-up, sandbox-only steps skipped, no secrets.

The "real service" here is a sandbox in the test's own process, reached the way VoIPBIN is: through
VOIPBIN_API_URL and VOIPBIN_ACCESSKEY, with no scenario sandbox and no control API.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.runner.conftest import EXAMPLES, FAST_START, command
from tui.sandbox import EmbeddedSandbox, SandboxSettings


@pytest.fixture
async def service() -> AsyncIterator[EmbeddedSandbox]:
    sandbox = EmbeddedSandbox(SandboxSettings(speed=20, random_seed=1, caller_script=[]), port=0)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        command(),
        "test",
        *args,
        cwd=cwd,
        env={**os.environ, **FAST_START, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_real_run_prints_the_plan_skips_sandbox_steps_cleans_up_and_leaks_no_secret(
    service: EmbeddedSandbox, tmp_path: Path
) -> None:
    env = {"VOIPBIN_API_URL": service.api_url, "VOIPBIN_ACCESSKEY": service.accesskey}
    seed = str(EXAMPLES / "seed-roundtrip.scenario.yaml")
    args = [seed, "--allow-real", "--json", "r.json", "--artifacts", "art"]
    code, out, err = await run(args, tmp_path, env)
    assert code == 0, out + err
    assert f"REAL RUN on {service.api_url}" in err
    assert "seed-roundtrip: dial quickstart-phone from +15551234567, 11 steps; 2 sandbox-only step(s) skipped" in err
    assert "calls: 1 (--max-calls 10)" in err
    report = json.loads((tmp_path / "r.json").read_text())
    (entry,) = report["scenarios"]
    assert entry["target"] == "service"
    statuses = {row["index"]: row["status"] for row in entry["trace"]}
    assert [i for i, s in statuses.items() if s == "skipped"] == [4, 5, 6, 7, 8]
    skipped = next(row for row in entry["trace"] if row["index"] == 4)
    assert "not available on the real service" in skipped["message"]

    store = service.core.store  # type: ignore[union-attr]
    assert [c.status for c in store.calls.values()] == ["hangup"]
    assert store.speakings
    assert all(sp.tm_delete is not None for sp in store.speakings.values())

    texts = [out, err, (tmp_path / "r.json").read_text()]
    texts += [p.read_text() for p in (tmp_path / "art").rglob("*") if p.is_file()]
    assert len(texts) > 4
    assert not any(service.accesskey in text for text in texts)


async def test_real_run_refuses_without_allowance_credentials_or_over_the_cap(
    service: EmbeddedSandbox, tmp_path: Path
) -> None:
    seed = str(EXAMPLES / "seed-roundtrip.scenario.yaml")
    env = {"VOIPBIN_API_URL": service.api_url, "VOIPBIN_ACCESSKEY": service.accesskey}
    code, _, err = await run([seed, "--allow-real", "--max-calls", "0"], tmp_path, env)
    assert code == 4
    assert "1 calls exceed --max-calls 0; nothing was run" in err
    code, _, err = await run([seed, "--allow-real"], tmp_path, {"VOIPBIN_API_URL": service.api_url})
    assert code == 4
    assert "--allow-real needs a named target" in err
    assert service.core is not None
    assert service.core.store.calls == {}


def long_call_scenario(path: Path, name: str) -> None:
    """A call that stays up for minutes, our stream open and a line said, then a wait that never ends."""
    path.write_text(
        f"version: 1\nname: {name}\ncall:\n  actions:\n    - transcribe_start: {{language: en-US}}\n"
        "    - talk: {text: hello}\n    - sleep: 600s\nsteps:\n"
        "  - expect: {call: progressing, within: 30s}\n  - say: 'Hold on.'\n"
        "  - expect: {say: last, state: heard, within: 30s}\n"
        "  - expect: {transcript: in, contains: 'never said', within: 120s}\n",
        encoding="utf-8",
    )


def real_env(service: EmbeddedSandbox) -> dict[str, str]:
    return {**os.environ, **FAST_START, "VOIPBIN_API_URL": service.api_url, "VOIPBIN_ACCESSKEY": service.accesskey}


@pytest.mark.parametrize(
    ("sig", "inherited_ignore"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-started-in-the-background"],
)
async def test_an_interrupt_hangs_up_and_deletes_the_speaking_stream(
    service: EmbeddedSandbox, tmp_path: Path, sig: signal.Signals, inherited_ignore: bool
) -> None:
    """A real signal to the process group while a call is live: SIGINT is what Ctrl+C in a terminal sends,
    SIGTERM what a cancelled or timed-out CI job gets. A shell without job control starts background jobs
    with SIGINT ignored; the run still takes it, since ignoring it would leave a real call live."""
    import time

    long_call_scenario(tmp_path / "i.scenario.yaml", "interrupted")
    env = real_env(service)
    # The child inherits the disposition at fork: the test's own is set for the spawn only.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN if inherited_ignore else signal.default_int_handler)
    try:
        proc = await asyncio.create_subprocess_exec(
            command(),
            "test",
            "i.scenario.yaml",
            "--allow-real",
            "--format",
            "jsonl",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert proc.stdout is not None
    store = service.core.store  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    # Wait for the step after the say to start: the call is live and our speaking stream is open.
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), max(0.1, deadline - time.monotonic()))
        assert line, "the run ended before the call was up"
        event = json.loads(line)
        if event.get("kind") == "step" and event.get("index") == 2 and event.get("status") == "passed":
            break
    assert [c.status for c in store.calls.values()] == ["progressing"]
    assert [sp.tm_delete for sp in store.speakings.values()] == [None]
    interrupted_at = time.monotonic()
    os.killpg(proc.pid, sig)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    # The sandbox ends this call by itself after 30 s (600 s at speed 20): well before that, or the
    # signal was not taken.
    assert time.monotonic() - interrupted_at < 15, err.decode()
    assert proc.returncode == 2, err.decode()
    assert [c.status for c in store.calls.values()] == ["hangup"]
    assert all(sp.tm_delete is not None for sp in store.speakings.values())


async def test_sigterm_with_jobs_cleans_up_every_workers_call(service: EmbeddedSandbox, tmp_path: Path) -> None:
    """With --jobs the calls live in worker processes: a SIGTERM to the process group (a cancelled CI job)
    has each worker hang up its call and delete its stream, and the run itself ends as interrupted."""
    import time

    for name in ("a", "b"):
        long_call_scenario(tmp_path / f"{name}.scenario.yaml", f"long-{name}")
    env = real_env(service)
    proc = await asyncio.create_subprocess_exec(
        *[command(), "test", "a.scenario.yaml", "b.scenario.yaml", "--allow-real", "--jobs", "2"],
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    store = service.core.store  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    # Both calls up and both say streams active (a create that failed, because its call was going, leaves a
    # stopped record the client never learns of; the real service does that too).
    while not (
        len(store.calls) == 2
        and all(c.status == "progressing" for c in store.calls.values())
        and [sp.status for sp in store.speakings.values()] == ["active", "active"]
    ):
        assert time.monotonic() < deadline, "the two calls did not come up"
        assert proc.returncode is None, "the run ended before its calls were up"
        await asyncio.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out + err).decode()
    assert [c.status for c in store.calls.values()] == ["hangup", "hangup"]
    assert all(sp.tm_delete is not None for sp in store.speakings.values())
    assert b"Traceback" not in err
    assert b"Error" not in err, err.decode()
