"""Who the customer is: the profile the feed sent, and why routing cares."""

from __future__ import annotations

from textual.content import Content

from hitl_console.engine.handoff import profile_words
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui.widgets.status_line import StatusLine


def render_customer(state: ConversationState) -> Content:
    c = state.customer
    lines: list[Content] = [Content.styled("Customer", "bold $text-primary")]
    name = one_line(c.name or c.id or "unknown", 40)
    lines.append(Content.assemble((name, "bold"), (f"  {one_line(c.id, 24)}" if c.name and c.id else "", "dim")))

    def row(label: str, value: str, style: str = "") -> None:
        lines.append(Content.assemble((f"{label} ", "dim"), (value, style)))

    # What is known, as the handoff says it: no "open complaints 0", no "lifetime value 0.00".
    for words in profile_words(c._asdict()):
        style = "$text-warning bold" if words.endswith(("open complaint", "open complaints")) else ""
        lines.append(Content.styled(words, "$text-accent bold" if words.endswith(" tier") else style))
    row("channel", one_line(state.channel, 12))
    row("queue", one_line(state.queue or "–", 30))
    if state.contact_reason:
        row("reason", one_line(state.contact_reason, 60))
    if state.topics:
        row("topics", one_line(", ".join(state.topics[-5:]), 80))
    for flag in state.routing_flags:
        lines.append(Content.assemble(("⚐ ", "$text-warning"), (one_line(flag, 120), "$text-warning")))
    return Content("\n").join(lines)


class CustomerCard(StatusLine):
    DEFAULT_CSS = """
    CustomerCard { height: auto; padding: 0 1; }
    """

    def show_state(self, state: ConversationState) -> bool:
        return self.show(render_customer(state))
