"""voipbin-tui: a terminal console for live-testing VoIPBIN real-time voice calls."""

__version__ = "0.1.0"
