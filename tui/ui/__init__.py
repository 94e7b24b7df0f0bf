"""The Textual console: screens, widgets, styles, keys and commands.

Only Textual and the standard library are imported at module level anywhere in this package, so the
first screen paints before pydantic, httpx, websockets or the sandbox are loaded (``Runtime.start()``
brings those in after the first frame).
"""
