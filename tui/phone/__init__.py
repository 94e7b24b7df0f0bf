"""``voipbin-tui phone``: a headless answering softphone (optional extra ``voipbin-tui[phone]``).

Textual-free. The SIP/RTP work is done by an engine (``baresip-python`` first, ``pjsua2-python`` second)
behind :class:`tui.phone.engine.PhoneEngine`; the audio analysis (speech segments by energy, RTP
statistics, WAV recording, G.711) is our own small code so it can be tested with synthetic audio.
"""
