"""The top of the conversation screen: whose it is, how risky, what fired."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content

from hitl_console.engine import attention
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.widgets.status_line import StatusLine


def holder_content(state: ConversationState, me: str, now: float | None = None, *, coarse: bool = False) -> Content:
    """Who holds the conversation; with ``now``, how long a waiting customer has
    waited (``coarse``: to the minute, for a line that is not redrawn every second)."""
    if state.ended:
        return Content.styled(f"ENDED ({state.outcome or 'unknown'})", "bold dim")
    if state.holder == "waiting":
        waited = attention.waited(state, now) if now is not None else None
        shown = (formatting.age(waited) if coarse else formatting.duration(waited)) if waited is not None else ""
        since = f" for {shown}" if shown else ""
        return Content.styled(f"WAITING for a human{since}", "bold $text-error")
    if state.holder == "human":
        if state.agent == me:
            return Content.styled("held by YOU", "bold $text-success")
        return Content.assemble(("held by ", "$text-success"), (one_line(state.agent or "a human", 32), "bold $text-success"))
    return Content.styled("AI handling", "dim")


REASON_SEPARATOR = " · "
"""Between two reasons, as on the floor's Why column."""


def reasons_content(state: ConversationState, room: int | None = None) -> Content:
    """Why the conversation needs attention, in the floor's words
    (``attention.reasons``: strongest first, the first one bold). With ``room``
    (cells), the weaker reasons that do not fit give way to ``+N``; the
    strongest always shows, cut short if it alone is too long."""
    reasons = attention.reasons(state) if not state.ended else ()  # ended: nothing needs attention now
    if not reasons:
        return Content("")
    words = [one_line(w, 60) for _, w in reasons]
    kept = len(words)
    if room is not None:
        while kept > 1 and cell_len(REASON_SEPARATOR.join(words[:kept]) + _more(len(words) - kept)) > room:
            kept -= 1
        tail = len(_more(len(words) - kept))
        if kept == 1 and cell_len(words[0]) + tail > room:
            words[0] = one_line(words[0], max(4, room - tail))
    parts: list[str | tuple[str, str]] = []
    for i, ((kind, _), text) in enumerate(zip(reasons[:kept], words)):
        if i:
            parts.append((REASON_SEPARATOR, "dim"))
        style = WHY_STYLE.get(kind, "$text-warning")
        parts.append((text, f"bold {style}" if i == 0 else style))
    parts.append((_more(len(words) - kept), "dim"))
    return Content.assemble(*parts)


def _more(left_out: int) -> str:
    """How many reasons gave way (`` +2``), or nothing."""
    return f" +{left_out}" if left_out else ""


WHY_STYLE: dict[str, str] = {
    "high_stakes": "$text-error",
    "human_request": "$text-error",
    "ai_request": "$text-accent",
    "routing": "$text-warning",
    "sentiment": "$text-warning",
    "loop": "$text-warning",
    "low_confidence": "$text-warning",
    "earlier": "dim",
    "waiting": "$text-error",
}
"""Colour of each reason kind (``attention.STRENGTH``), here and in the handoff summary."""


def render_header(
    state: ConversationState, me: str, now: float, extra: Sequence[tuple[str, str]] = (), width: int | None = None
) -> Content:
    """The two-line header; ``extra`` is appended to the second line (the
    count of alerts held back while this chat is held). The reasons are the
    floor's Why in words; with ``width`` the weaker ones give way so that the
    line does not wrap (the transcript names every trigger that fired)."""
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
        holder_content(state, me, now, coarse=True),
        ("   risk ", "dim"),
        (f"{state.risk:.2f}", "bold $text-error" if state.risk >= 0.6 else "$text-warning" if state.risk >= 0.3 else ""),
    ]
    used = Content.assemble(*second, *extra).cell_length + 3
    why = reasons_content(state, None if not width else width - used)
    if why:
        second += [("   ", ""), why]
    second += list(extra)
    lines = [Content.assemble(*first), Content.assemble(*second)]
    if state.loop_warning:
        lines.append(Content.assemble(("⟳ loop: ", "bold $text-warning"), one_line(state.loop_warning, 200)))
    return Content("\n").join(lines)


class ConversationHeader(StatusLine):
    DEFAULT_CSS = """
    ConversationHeader { height: auto; max-height: 4; padding: 0 1; background: $panel; }
    """

    _last: tuple[ConversationState, str, float, Sequence[tuple[str, str]]] | None = None

    def show_state(
        self, state: ConversationState, me: str, now: float, extra: Sequence[tuple[str, str]] = ()
    ) -> bool:
        self._last = (state, me, now, extra)
        return self.show(render_header(state, me, now, extra, self.content_region.width or None))

    def on_resize(self) -> None:
        super().on_resize()
        if self._last is not None:  # the reasons that fit depend on the width
            self.show_state(*self._last)
