"""The one declared set of actions (``registry``), their session operations, keys and slash commands.

Textual-free: the console, the scenario runner and the phone import it. It may import ``tui.session``.
"""

from tui.actions.context import ActionContext, ActionError, Need, PhoneOps, SandboxOps, SessionOps
from tui.actions.registry import ACTIONS, BY_ID, ActionDecl, ActionState, Availability, action

__all__ = [
    "ACTIONS",
    "BY_ID",
    "ActionContext",
    "ActionDecl",
    "ActionError",
    "ActionState",
    "Availability",
    "Need",
    "PhoneOps",
    "SandboxOps",
    "SessionOps",
    "action",
]
