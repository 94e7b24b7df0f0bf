"""Whether a key press is on its way through the console, for the account's event pump to give way to.

In a burst the pump hands out buffered frames without suspending; it asks ``waiting()`` after each one
and yields while it is True (``Account.input_waiting``).
"""

from __future__ import annotations

import time

from textual.message_pump import MessagePump

# How long after a key press the pump keeps giving the loop away: the key's trip on to the focused
# widget and the repaint that shows it.
KEY_TRIP_S = 0.02


class InputWatch:
    def __init__(self, app: MessagePump) -> None:
        self._app = app
        self._key_at = 0.0

    def key_pressed(self) -> None:
        self._key_at = time.monotonic()

    def waiting(self) -> bool:
        # Something (a key press from the driver) queued for the app, or a key handled moments ago.
        return self._app.message_queue_size > 0 or time.monotonic() - self._key_at < KEY_TRIP_S
