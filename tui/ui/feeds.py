"""What the account and the headless phone report, drawn: raw frames and requests in the event log, the
channel's state in the header, the phone's panel and what it heard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.headless_phone import PhoneStatus
    from tui.ui.app import VoipbinApp
    from tui.ui.widgets.event_log import EntryKind
    from tui.voipbin.events import ConnectionState, Event
    from tui.voipbin.rest import RequestRecord


class AccountFeeds:
    """The listeners the App hands to the account and the phone; they only draw, never touch the network."""

    def __init__(self, app: VoipbinApp) -> None:
        self.app = app

    def on_frame(self, event: Event) -> None:
        kind: EntryKind
        if event.kind == "unrecognised":
            kind = "unrecognised"
        elif event.duplicate:
            kind = "duplicate"
        else:
            kind = "frame"
        self.app.call_screen.events.write(
            kind, f"{event.summary()} [{event.shape}] {event.raw}", event.received_at, event.raw
        )

    def on_request(self, record: RequestRecord) -> None:
        failed = record.status is None or record.status >= 400
        self.app.call_screen.events.write("request-error" if failed else "request", record.summary(), record.at, record)

    def on_connection(self, state: ConnectionState) -> None:
        session = self.app.session
        # Only a live or just-ended call backfills (and reports when it is done); otherwise nothing
        # was missed that the screen shows.
        backfills = session is not None and session.phase in ("live", "ended")
        self.app.call_screen.show_connection(state, backfills=backfills)
        if state.state in ("connected", "reconnected"):
            self.app.clear_notice("channel")
        if state.state == "closed" and state.fatal:
            self.app.show_notice(
                "error",
                f"event channel closed: {state.error or 'unknown reason'}",
                hint="check the credential; restart the console to reconnect",
                topic="channel",
            )

    def on_phone(self, status: PhoneStatus, line: dict[str, Any]) -> None:
        """The headless phone changed: its panel, and what it heard as its own line in the transcript."""
        self.app.call_screen.phone.show_status(status)
        session = self.app.session
        if line.get("kind") == "heard" and status.heard and session is not None and session.is_live:
            heard = status.heard[-1]
            session.add_phone_heard(f"{heard.start:.3f}", heard.display())
        if line.get("kind") in ("registered", "incoming", "answered", "hangup", "error") and self.app.screen_stack:
            self.app.refresh_bindings()
