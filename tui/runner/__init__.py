"""Scripted call scenarios (``voipbin-tui test``): schema, engine, expectations, the pytest plugin.

No Textual here: the runner drives the same account and ``CallSession`` as the console, headless.
"""
