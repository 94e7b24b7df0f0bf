"""The sandbox's SIP side: a registrar for its extensions, INVITEs to registered phones and RTP audio.

Our own small RFC 3261 subset on asyncio (UDP, TCP and optionally TLS on loopback by default); nothing
here imports the rest of ``tui``. It is loaded only when the ``sip`` setting is on.
"""
