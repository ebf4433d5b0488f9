"""The top of the conversation screen: whose it is, how risky, what fired."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from hitl_console.engine import attention
from hitl_console.engine.state import TRIGGER_NAMES, ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting, glyphs
from hitl_console.tui.widgets.status_line import StatusLine


def holder_content(state: ConversationState, me: str, now: float | None = None) -> Content:
    """Who holds the conversation; with ``now``, how long a waiting customer has waited."""
    if state.ended:
        return Content.styled(f"ENDED ({state.outcome or 'unknown'})", "bold dim")
    if state.holder == "waiting":
        waited = attention.waited(state, now) if now is not None else None
        since = f" for {formatting.duration(waited)}" if waited is not None else ""
        return Content.styled(f"WAITING for a human{since}", "bold $text-error")
    if state.holder == "human":
        if state.agent == me:
            return Content.styled("held by YOU", "bold $text-success")
        return Content.assemble(("held by ", "$text-success"), (one_line(state.agent or "a human", 32), "bold $text-success"))
    return Content.styled("AI handling", "dim")


def render_header(
    state: ConversationState, me: str, now: float, extra: Sequence[tuple[str, str]] = ()
) -> Content:
    """The two-line header; ``extra`` is appended to the second line (the
    count of alerts held back while this chat is held)."""
    c = state.customer
    who = one_line(c.name or c.id or "?", 30)
    first: list[str | tuple[str, str] | Content] = [
        (one_line(state.conversation_id, 40), "bold"),
        ("  ", ""),
        who,
    ]
    if c.tier:
        first.append((f" ({one_line(c.tier, 16)})", "$text-accent"))
    first += [
        (f"  {one_line(state.queue or '–', 24)} · {one_line(state.channel, 10)}", "dim"),
        (f" · {state.turn_count} turns · {formatting.duration(now - state.started_ts if state.started_ts else None)}", "dim"),
    ]
    second: list[str | tuple[str, str] | Content] = [
        holder_content(state, me),
        ("   risk ", "dim"),
        (f"{state.risk:.2f}", "bold $text-error" if state.risk >= 0.6 else "$text-warning" if state.risk >= 0.3 else ""),
    ]
    codes = glyphs.badge_codes(state.active)
    if codes:
        second += [("   ", ""), (" ".join(codes), "bold $text-warning")]
        names = [TRIGGER_NAMES[k] for k in glyphs.BADGES if k in state.active]
        second += [(f" ({', '.join(names)})", "dim")]
    second += list(extra)
    lines = [Content.assemble(*first), Content.assemble(*second)]
    if state.loop_warning:
        lines.append(Content.assemble(("⟳ loop: ", "bold $text-warning"), one_line(state.loop_warning, 200)))
    return Content("\n").join(lines)


class ConversationHeader(StatusLine):
    DEFAULT_CSS = """
    ConversationHeader { height: auto; max-height: 4; padding: 0 1; background: $panel; }
    """

    def show_state(
        self, state: ConversationState, me: str, now: float, extra: Sequence[tuple[str, str]] = ()
    ) -> bool:
        return self.show(render_header(state, me, now, extra))
