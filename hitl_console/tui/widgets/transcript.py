"""The live transcript of one conversation.

One small ``Static`` per timeline item (a turn, an AI action, a trigger
firing, a notice, an approval request), styled by CSS class so that roles
look different in every theme. New items are appended as the conversation
moves; the view stays pinned to the bottom until the reader scrolls up
(``anchor``). Every piece of feed text goes through ``printable`` and into
``Content`` as plain text: a message of ``[@click=app.quit]x[/]`` shows
exactly that.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from hitl_console.engine.state import (
    TRIGGER_NAMES,
    ActionRecord,
    Approval,
    ConversationState,
    Notice,
    TimelineItem,
    TriggerHit,
    Turn,
)
from hitl_console.engine.attention import reason_after_name
from hitl_console.text import number, one_line, printable
from hitl_console.tui import formatting, glyphs

ROLE_LABEL = {"customer": "Customer", "ai": "AI", "human": "Agent", "system": "System"}


def sentiment_label(value: float | None, estimated: bool) -> str:
    """``-0.42`` from the platform, ``~-0.42 est.`` when the console estimated it."""
    if value is None:
        return ""
    shown = number(value, "+.2f")  # never "-0.00"
    return f"~{shown} est." if estimated else shown


def _turn(turn: Turn, low_confidence: float) -> tuple[Content, str]:
    role = turn.role if turn.role in ROLE_LABEL else "system"
    head: list[str | tuple[str, str]] = [(ROLE_LABEL[role], "bold")]
    if turn.role == "human" and turn.author:
        head += [" ", (one_line(turn.author, 32), "bold")]
    head += [("  " + formatting.clock_time(turn.ts), "dim")]
    if turn.role == "ai" and turn.confidence is not None:
        style = "$text-error bold" if turn.confidence < low_confidence else "dim"
        head += [("  confidence ", "dim"), (f"{glyphs.gauge(turn.confidence)}", style)]
    if turn.role == "customer" and turn.sentiment is not None:
        value = turn.sentiment
        style = "$text-error" if value <= -0.5 else "$text-warning" if value < -0.1 else "dim"
        head += [("  sentiment ", "dim"), (sentiment_label(value, turn.sentiment_estimated), style)]
    if turn.voice_tone is not None:
        head += [("  tone ", "dim"), (number(turn.voice_tone, "+.2f"), "dim")]
    if turn.interruptions:
        head += [("  interruptions ", "dim"), (str(turn.interruptions), "$text-warning")]
    if turn.intent:
        head += [("  intent ", "dim"), (one_line(turn.intent, 40).replace("_", " "), "dim")]  # words, not an id
    body = printable(turn.text).rstrip("\n") or " "
    return Content.assemble(*head, "\n", body), f"turn -{role}"


def _action(action: ActionRecord) -> tuple[Content, str]:
    style = {"ok": "$text-success", "failed": "$text-error bold", "pending": "$text-warning"}.get(action.status, "")
    parts: list[str | tuple[str, str]] = [
        ("⚙ AI action ", "dim"),
        (one_line(action.name, 60), "bold"),
        " ",
        (action.status, style),
    ]
    money = formatting.money(action.amount, action.currency)
    if money:
        parts += ["  ", (money, "$text-accent")]
    if action.detail:
        parts += [("  " + one_line(action.detail, 300), "dim")]
    parts += [("  " + formatting.clock_time(action.ts), "dim")]
    return Content.assemble(*parts), "action"


def _trigger(hit: TriggerHit) -> tuple[Content, str]:
    parts: list[str | tuple[str, str]] = [
        ("⚑ ", "$text-warning bold"),
        # The name in words, not badge + name ("AI AI ASKED FOR A HUMAN").
        (TRIGGER_NAMES.get(hit.kind, hit.kind).upper(), "$text-warning bold"),
        "  ",
        one_line(reason_after_name(TRIGGER_NAMES.get(hit.kind, hit.kind), hit.reason), 300),
    ]
    evidence = formatting.extra_evidence(hit.reason, hit.evidence)
    if evidence:
        parts += [("  “" + evidence + "”", "italic dim")]
    return Content.assemble(*parts), f"trigger -{hit.kind}"


def _notice(notice: Notice) -> tuple[Content, str]:
    return (
        Content.assemble(("— ", "dim"), one_line(notice.text, 400), ("  " + formatting.clock_time(notice.ts), "dim"), (" —", "dim")),
        f"notice -{notice.kind}",
    )


def approval_status(approval: Approval, now: float) -> tuple[str, str]:
    """A word for the approval's state and its style; ``expired`` when its time ran out
    even if the feed has not said so yet."""
    if approval.status == "pending":
        if approval.expires_ts is not None and approval.expires_ts <= now:
            return "EXPIRED", "$text-error"
        return f"PENDING · {formatting.time_left(approval.time_left(now))} left", "$text-accent bold"
    style = {"approved": "$text-success bold", "denied": "$text-error bold", "expired": "$text-error"}.get(approval.status, "")
    by = f" by {one_line(approval.by, 32)}" if approval.by else ""
    return approval.status.upper() + by, style


def _approval(approval: Approval, now: float) -> tuple[Content, str]:
    word, style = approval_status(approval, now)
    parts: list[str | tuple[str, str]] = [
        ("⏳ approval requested ", "dim"),
        (one_line(approval.action, 80), "bold"),
    ]
    money = formatting.money(approval.amount, approval.currency)
    if money:
        parts += ["  ", (money, "$text-accent bold")]
    parts += ["  ", (word, style)]
    if approval.rationale:
        parts += ["\n", ("rationale: ", "dim"), one_line(approval.rationale, 400)]
    if approval.note:
        parts += ["\n", ("note: ", "dim"), one_line(approval.note, 400)]
    return Content.assemble(*parts), "approval"


def render_item(item: TimelineItem, *, low_confidence: float = 0.55, now: float = 0.0) -> tuple[Content, str]:
    """The content and CSS classes of one timeline item."""
    if isinstance(item, Turn):
        return _turn(item, low_confidence)
    if isinstance(item, ActionRecord):
        return _action(item)
    if isinstance(item, TriggerHit):
        return _trigger(item)
    if isinstance(item, Approval):
        return _approval(item, now)
    if isinstance(item, Notice):
        return _notice(item)
    return Content(one_line(str(item), 200)), "notice"


class TimelineEntry(Static):
    """One item of the transcript."""

    DEFAULT_CSS = """
    TimelineEntry { height: auto; }
    """


class Transcript(VerticalScroll):
    """Every timeline item of one conversation, appended live."""

    can_focus = True

    def __init__(self, *, id: str | None = None, low_confidence: float = 0.55) -> None:
        super().__init__(id=id)
        self.low_confidence = low_confidence
        self._count = 0
        self._approvals: dict[str, tuple[TimelineEntry, str]] = {}

    def on_mount(self) -> None:
        self.anchor()

    @property
    def item_count(self) -> int:
        return self._count

    def sync(self, state: ConversationState, now: float) -> None:
        """Append the items that arrived since the last call; redraw approvals
        whose state changed (they are updated in place by the engine)."""
        items = state.timeline
        new: list[TimelineEntry] = []
        for item in items[self._count :]:
            content, classes = render_item(item, low_confidence=self.low_confidence, now=now)
            entry = TimelineEntry(content, classes=classes, markup=False)
            if isinstance(item, Approval):
                self._approvals[item.approval_id] = (entry, content.plain)
            new.append(entry)
        self._count = len(items)
        for approval_id, (entry, shown) in list(self._approvals.items()):
            approval = state.approvals.get(approval_id)
            if approval is None:
                continue
            content, _ = render_item(approval, low_confidence=self.low_confidence, now=now)
            if content.plain != shown:
                self._approvals[approval_id] = (entry, content.plain)
                entry.update(content)
        if new:
            self.mount_all(new)
