"""``?``: every key, what the badges mean, and how the floor behaves.

Generated from the screens' own ``BINDINGS`` so it cannot drift from what
the keys actually do.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def help_content() -> Content:
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
    return Content("\n").join(lines)


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
                yield Static(help_content(), markup=False)
            yield Label(Content.assemble(("escape", "bold"), " close · ", ("↑↓ pgup pgdn", "bold"), " scroll"), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss()
