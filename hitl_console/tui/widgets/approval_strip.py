"""Approval requests of one conversation, always visible above the input.

Shown even when the side panel is collapsed (80x24): a pending approval is
something the supervisor must act on before it expires.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from hitl_console.engine.state import Approval, ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.widgets.status_line import StatusLine

RECENT_EXPIRED_S = 600.0
"""An expired request stays listed for this long, so that it is seen as expired
rather than silently gone."""


def visible_approvals(state: ConversationState, now: float) -> list[Approval]:
    """Pending ones (soonest to expire first), then recently expired ones."""
    pending = [a for a in state.approvals.values() if a.is_open(now)]
    pending.sort(key=lambda a: (a.expires_ts is None, a.expires_ts or 0.0, a.seq))
    expired = [
        a
        for a in state.approvals.values()
        if not a.is_open(now)
        and (a.status == "expired" or a.status == "pending")
        and (a.expires_ts or a.ts) > now - RECENT_EXPIRED_S
    ]
    return pending + expired


def render_approvals(approvals: Sequence[Approval], now: float) -> Content:
    lines: list[Content] = []
    for a in approvals:
        open_ = a.is_open(now)
        left = a.time_left(now)
        if open_:
            urgency = "$text-error bold" if left is not None and left < 30 else "$text-accent bold"
            state = (f"{formatting.time_left(left)} left", urgency)
        else:
            state = ("EXPIRED", "$text-error")
        parts: list[str | tuple[str, str]] = [
            ("⏳ " if open_ else "⌛ ", "$text-accent" if open_ else "dim"),
            ("APPROVAL ", "bold"),
            (one_line(a.action, 40), "bold"),
        ]
        money = formatting.money(a.amount, a.currency)
        if money:
            parts += ["  ", (money, "$text-accent bold")]
        parts += ["  ", state]
        if open_:
            parts += [("  a", "bold"), (" decide in the queue", "dim")]
        # No rationale here: the transcript shows it just above, and at 80 columns it
        # wrapped the strip onto a second line; the queue and its dialog show it whole.
        lines.append(Content.assemble(*parts))
    return Content("\n").join(lines)


class ApprovalStrip(StatusLine):
    DEFAULT_CSS = """
    ApprovalStrip { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    """

    def show_state(self, state: ConversationState, now: float) -> list[Approval]:
        approvals = visible_approvals(state, now)
        self.display = bool(approvals)
        self.show(render_approvals(approvals, now))
        return approvals
