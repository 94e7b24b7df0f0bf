"""Noticing that live transcription has gone quiet although speech was expected.

On the real service a transcribe with the default provider (or ``gcp``) stops recognising after about
five minutes: Google ends a streaming request then and VoIPBIN never reopens it. The transcribe still
says ``progressing`` and no event says anything. The only symptom is silence where words should be, so
this watches for exactly that: speech expected (a line was said, the greeting is playing) and nothing
transcribed (no transcript, no speech event) for ``quiet_after`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

# Google's streaming limit is 5 minutes; a quiet transcribe younger than this has some other cause.
STREAM_LIMIT_S = 300.0
LIMITED_PROVIDERS = ("", "gcp")


@dataclass(frozen=True, slots=True)
class StallWarning:
    text: str
    hint: str
    likely_limit: bool


class StallWatch:
    """Pure bookkeeping: feed it what happens (monotonic times), ask :meth:`check` now and then."""

    def __init__(self, quiet_after: float = 60.0, stream_limit: float = STREAM_LIMIT_S) -> None:
        self.quiet_after = quiet_after
        # Wall-clock seconds a limited stream lasts (the sandbox runs it faster by its speed).
        self.stream_limit = stream_limit
        self.expected_since: float | None = None
        self.why = ""
        self.warned = False

    def expect(self, now: float, why: str) -> None:
        """Speech that should be transcribed is being played or sent now."""
        if self.expected_since is None:
            self.expected_since = now
            self.why = why

    def heard(self) -> bool:
        """Something was transcribed; returns whether a warning was showing (it is now cleared)."""
        was = self.warned
        self.expected_since = None
        self.warned = False
        return was

    def check(self, now: float, *, progressing: bool, stream_age: float | None, provider: str) -> StallWarning | None:
        """A warning once per silence: transcribe progressing, speech expected, nothing transcribed."""
        if self.warned or not progressing or self.expected_since is None:
            return None
        quiet = now - self.expected_since
        if quiet < self.quiet_after:
            return None
        self.warned = True
        name = provider or "default"
        limited = provider in LIMITED_PROVIDERS and stream_age is not None and stream_age >= self.stream_limit * 0.95
        text = (
            f"transcription has gone quiet: nothing transcribed for {quiet:.0f}s although speech was expected "
            f"({self.why}); the transcribe still says progressing"
        )
        if limited:
            hint = (
                f"likely cause: the ~5-minute streaming limit of provider {name!r} (Google ends the stream and "
                "VoIPBIN does not reopen it). Fix: stop this transcribe and start a new one, or dial with "
                'transcribe provider "aws" (dial form, or transcribe_provider in [dial])'
            )
        else:
            hint = (
                "likely cause: no audio reaches the transcriber, or the language does not match the speech. "
                "Fix: check the dial language and the transcribe direction, then stop and start the transcribe"
            )
        return StallWarning(text, hint, limited)
