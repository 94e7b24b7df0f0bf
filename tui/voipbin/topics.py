"""The topics an account's event stream subscribes to (VoIPBIN's topic names are prefixes)."""

from __future__ import annotations


def subscriptions_for(customer_id: str) -> list[str]:
    """The four exactly-once prefixes (design §4, README §6.4) for a customer.

    ``…:call:call_`` matches only the "new format" topic of every call event, so
    each event arrives once (a 3-segment ``…:call`` would deliver it twice). The
    transcribe prefix also carries the ``transcribe_speech_*`` activity events.
    """
    cid = customer_id.strip()
    return [
        f"customer_id:{cid}:call:call_",
        f"customer_id:{cid}:groupcall:groupcall_",
        f"customer_id:{cid}:transcribe:transcribe_",
        f"customer_id:{cid}:transcript:transcript_",
    ]
