"""``?``: every key, what the badges mean, and how the floor behaves.

Generated from the screens' own ``BINDINGS`` so it cannot drift from what
the keys actually do.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from hitl_console.engine.state import TRIGGER_NAMES
from hitl_console.tui import glyphs
from hitl_console.tui.bindings import APP_BINDINGS
from hitl_console.tui.screens.alerts import AlertsScreen
from hitl_console.tui.screens.approvals import ApprovalsScreen
from hitl_console.tui.screens.conversation import ConversationScreen
from hitl_console.tui.screens.floor import FloorScreen
from hitl_console.tui.screens.metrics import MetricsScreen
from hitl_console.tui.screens.review_item import ReviewItemScreen
from hitl_console.tui.screens.review_labels import VERDICTS
from hitl_console.tui.screens.review_queue import ReviewScreen
from hitl_console.tui.widgets.conversation_table import COLUMN_PRIORITY, COLUMNS, ConversationTable

KEY_NAMES = {"slash": "/", "escape": "esc", "question_mark": "?", "plus": "+", "minus": "-", "space": "space", "enter": "enter"}


def _key(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return ", ".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def key_lines(title: str, bindings: Iterable[BindingType]) -> list[Content]:
    lines = [Content.styled(title, "bold $text-primary")]
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        lines.append(
            Content.assemble(
                ("  " + _key(binding).ljust(9), "bold $text-accent"),
                (binding.description.ljust(14), "bold"),
                (binding.tooltip or "", "dim"),
            )
        )
    return lines


def _is_verdict(binding: BindingType) -> bool:
    return isinstance(binding, Binding) and binding.action.startswith("verdict(")


def _verdict_lines() -> list[Content]:
    """Each verdict key (the footer shows them as one "1-4 Verdict")."""
    return [
        Content.assemble(("  " + key.ljust(9), "bold $text-accent"), (label.ljust(14), "bold"), (f"verdict: {words}", "dim"))
        for key, (_, label, words) in VERDICTS.items()
    ]


KEY_INDENT = 2 + 9 + 14
"""Where a key line's description starts: its wrapped lines start there too."""


def hanging(line: Content, width: int, indent: int) -> list[Content]:
    """``line`` wrapped to ``width`` with every line after the first indented by
    ``indent``, so that at 80x24 a long description wraps under itself instead
    of at column 0 (when ``width`` leaves too little room, under the first line's indent of 2)."""
    if width <= 0 or line.cell_length <= width:
        return [line]
    if width - indent < 20:
        indent = min(indent, 2)
    first = line.wrap(width)[0].rstrip()
    cut = len(first.plain)
    rest = line[cut:]
    skip = len(rest.plain) - len(rest.plain.lstrip(" "))
    rest = rest[skip:]
    out = [first]
    for piece in rest.wrap(max(1, width - indent)):
        out.append(Content(" " * indent) + piece.rstrip())
    return out


def _indent(line: Content) -> int:
    """How far a help line's continuation is indented: under the description
    of a key line (``  key      Label         description``), else under its text."""
    plain = line.plain
    lead = len(plain) - len(plain.lstrip(" "))
    if lead == 2 and len(plain) > KEY_INDENT and plain[KEY_INDENT - 1] == " " and plain[KEY_INDENT] != " ":
        return KEY_INDENT
    return lead


def help_content(width: int | None = None) -> Content:
    """Every screen's keys and the legend; wrapped with hanging indents when ``width`` is given."""
    lines: list[Content] = []
    lines += key_lines("Everywhere", APP_BINDINGS)
    lines.append(Content("  ctrl+p   Commands      every action of the current screen, and the theme"))
    lines.append(
        Content.assemble(
            ("  ctrl+y   ", "bold $text-warning"),
            ("Confirm       ", "bold"),
            ("approve, deny, join, hand back, end: enter never confirms these", "dim"),
        )
    )
    lines.append(Content(""))
    lines += key_lines("Floor", [ConversationTable.BINDINGS[0], *FloorScreen.BINDINGS])
    lines.append(Content("  ↑↓ j k   Move          the cursor stays on its conversation when rows re-sort"))
    lines.append(Content("  pgup pgdn home end     page and jump"))
    lines.append(Content(""))
    lines += key_lines("Conversation", ConversationScreen.BINDINGS)
    lines.append(Content(""))
    lines += key_lines("Approvals", ApprovalsScreen.BINDINGS)
    lines.append(Content(""))
    lines += key_lines("Alerts", AlertsScreen.BINDINGS)
    lines.append(Content(""))
    lines += key_lines("Metrics", MetricsScreen.BINDINGS)
    lines.append(Content(""))
    lines += key_lines("Review queue", [b for b in ReviewScreen.BINDINGS if not _is_verdict(b)])
    lines += _verdict_lines()
    lines.append(Content(""))
    lines += key_lines("Review item", [b for b in ReviewItemScreen.BINDINGS if not _is_verdict(b)])
    lines.append(Content("  ↑↓       Select a turn  x corrects the selected AI turn (ctrl+s saves the correction)"))
    lines.append(Content(""))
    lines.append(Content.styled("Trigger badges", "bold $text-primary"))
    for kind, code in glyphs.BADGES.items():
        lines.append(Content.assemble(("  " + code.ljust(9), "bold $text-warning"), TRIGGER_NAMES[kind]))
    lines.append(Content(""))
    lines.append(Content.styled("Holder", "bold $text-primary"))
    lines.append(Content.assemble(("  AI       ", "bold"), "the AI is handling it"))
    lines.append(Content.assemble(("  WAITING  ", "bold $text-error"), "escalated: a customer is waiting for a person"))
    lines.append(Content.assemble(("  ▶ you    ", "bold $text-success"), "you hold it; another name: that supervisor does"))
    lines.append(Content(""))
    lines.append(Content.styled("Columns", "bold $text-primary"))
    lines.append(
        Content(
            "  Sentiment: the customer's last 8 turns, ▁ = -1 … █ = +1. AI conf.: the AI's last answer, "
            "▰ per quarter. Estimated sentiment is marked '~ est.' in the transcript."
        )
    )
    order = ", ".join(COLUMNS[k].label for k in reversed(COLUMN_PRIORITY[3:]))
    lines.append(Content(f"  On narrow terminals columns give way in this order: {order}."))
    lines.append(Content(""))
    lines.append(Content.styled("Escalation rate", "bold $text-primary"))
    lines.append(
        Content(
            "  Typical 10-20%. Under 3% the AI probably keeps cases that needed a person; "
            "over 30% escalations swamp the humans. The header shows both bands."
        )
    )
    if width is not None:
        lines = [piece for line in lines for piece in hanging(line, width, _indent(line))]
    return Content("\n").join(lines)


class HelpText(Static):
    """The help, wrapped to the width it has (hanging indents need the width)."""

    def on_resize(self, event: events.Resize) -> None:
        self.update(help_content(event.size.width))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box help-box"):
            yield Label(Content("Keys and legend"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield HelpText(help_content(), markup=False)
            yield Label(Content.assemble(("escape", "bold"), " close · ", ("↑↓ pgup pgdn", "bold"), " scroll"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss()
