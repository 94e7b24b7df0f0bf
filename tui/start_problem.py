"""What to tell a person whose console or ``watch`` could not reach VoIPBIN: the error, the URL tried, what to do.

One wording for both commands, so the console's start-up error carries the same hints ``watch`` gives,
and each hint is said once (an auth error's message already ends with its hint).
"""

from __future__ import annotations


def with_hint(error: BaseException) -> str:
    """``str(error)`` followed by its hint, unless the message already says it."""
    text = str(error)
    hint_of = getattr(error, "hint", None)
    hint = hint_of() if callable(hint_of) else None
    if hint and hint not in text:
        text += f" — {hint}"
    return text


def start_problem(error: BaseException, api_url: str, *, service: bool) -> str:
    """Lines for a failed start: the error with its hint, the URL tried, and the way out (the sandbox)."""
    from tui.voipbin.redact import redact_url

    lines = [with_hint(error)]
    if service and api_url:
        lines.append(f"  tried {redact_url(api_url)}")
        if not api_url.rstrip("/").endswith("/v1.0") and "must end with /v1.0" not in lines[0]:
            lines.append("  the API URL must end with /v1.0 (e.g. https://api.voipbin.net/v1.0)")
        lines.append("  to try the console without VoIPBIN: voipbin-tui --sandbox")
    return "\n".join(lines)
