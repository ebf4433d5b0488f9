"""The review queue: conversations people should look at again, worst first.

As conversations end, the session (not this screen:
:mod:`hitl_console.session.review_queue`) puts those that the AI was unsure
about, that a trigger flagged, that were escalated, or that were sampled
(:func:`~hitl_console.analysis.review.build_queues`) in the review
store (:class:`~hitl_console.store.reviews.ReviewStore`, in the journal's
file) with a snapshot of their transcript. The store, not this screen, is
the source of truth: another reviewer's console sees the same items, and
the claim (``c``) is one SQLite statement, so two reviewers never hold one
item; a refusal names who does. On a team's NATS (``[team]``, or a
``nats://`` feed) the item is claimed in the shared ``hitl-claims`` bucket
first (``LiveSession.claim_review``), so reviewers on other machines are
kept apart too; this screen only shows the answer.

What a reviewer concludes goes back into the store: a verdict (``1``-``4``,
with an optional note) closes the item; a corrected AI answer (``x`` on an
AI turn of the transcript) and edge-case tags (``g``) become the labelled
examples of ``hitl-console review export``.

Everything from the feed (transcripts, trigger reasons, topics, ids) is
untrusted: it reaches the terminal through :func:`~hitl_console.text.printable`
/ :func:`~hitl_console.text.one_line` and ``rich.text.Text`` or ``Content``
built from plain strings, never markup, so ``[@click=app.quit]x[/]`` in a
message is shown as exactly that.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable, Footer

from hitl_console.analysis.review import queue_specs, reason_words, role_words
from hitl_console.config import Config
from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import ReviewItem
from hitl_console.text import one_line
from hitl_console.tui import formatting
from hitl_console.tui.palette import Palette
from hitl_console.tui.screens.base import TableScreen
from hitl_console.tui.screens.review_actions import ReviewActions, verdict_bindings
from hitl_console.tui.screens.review_item import ReviewItemScreen
from hitl_console.tui.screens.review_labels import (
    CLAIM_COLUMN,
    COLUMNS,
    claim_label,
    score_why,
    trigger_kinds,
)
from hitl_console.tui.widgets.status_line import StatusLine

log = logging.getLogger(__name__)



REFRESH_S = 5.0
"""How often a visible review screen looks for newly ended conversations and
for claims and verdicts made by other reviewers."""




class ReviewScreen(ReviewActions, TableScreen):
    """The review queue of the chosen role, lowest score first."""

    CSS_PATH = "review.tcss"

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", tooltip="Read the transcript with its triggers", id="review.open"),
        Binding("c", "claim", "Claim", tooltip="Take the selected item (nobody else can while you hold it)", id="review.claim"),
        Binding("u", "unclaim", "Unclaim", tooltip="Give the selected item back to the queue", id="review.unclaim"),
        *verdict_bindings(),
        Binding("g", "tag", "Tag", tooltip="Tag the conversation as an edge case", id="review.tag"),
        Binding("r", "cycle_role", "Role", tooltip="Show one role's queues at a time (cycles)", id="review.cycle_role"),
    ]

    def __init__(self, role: str | None = None) -> None:
        super().__init__(id="review")
        self.role = role
        self._items: dict[str, ReviewItem] = {}
        self._cells: list[tuple[str, tuple[str, ...]]] = []
        self._problem: str | None = None
        self._data_version: tuple[int, int] | None = None
        self._minute: int | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="review-status")
        table: DataTable[Text] = DataTable(id="review-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield StatusLine(id="review-why")  # the selected row's why in full: at 80 columns the column is cut
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.set_interval(REFRESH_S, self._poll, name="review-poll")
        self.reload()
        table.focus()

    # ------------------------------------------------------------ data

    @property
    def palette(self) -> Palette:
        return self.app.palette

    def roles(self) -> list[str]:
        """Roles of the configured queues, plus any role already in the store."""
        config: Config = self.session.config
        roles = {spec.role for spec in queue_specs(config)}
        roles |= {item.role for item in self._items.values()}
        return sorted(roles)

    def mark_dirty(self, changed: Iterable[str] = (), *, figures: bool = False, approvals: bool = False) -> None:  # type: ignore[override]
        """Not per event: the queue only grows when conversations end, and other
        reviewers change it through the store. :meth:`_poll` looks every few seconds."""

    def flush(self) -> None:
        self.clean()

    def on_screen_resume(self) -> None:
        self.reload()

    def _poll(self) -> None:
        """Read the items again only when something could have changed: the
        store's version (the session queued ended conversations, another
        reviewer claimed or judged: ``ReviewStore.version``) or a new minute
        (claim times left). Reading every item parses every snapshot, which is
        not free on a long queue."""
        if not self.is_visible:
            return
        try:
            version = self.store.version()
        except JournalError as error:
            log.error("review queue: %s", error)
            self.reload()
            return
        minute = int(self.now() // 60)
        if version != self._data_version or minute != self._minute:
            self._data_version = version
            self._minute = minute
            self.reload()

    def reviews_changed(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the open items and redraw what changed (the session queues them as conversations end)."""
        try:
            items = self.store.items(role=self.role, status="open")
            self._problem = None
        except JournalError as error:
            log.error("review queue: %s", error)
            self._problem = str(error)
            items = list(self._items.values())
        self._show(items)

    def _row(self, item: ReviewItem, now: float) -> tuple[str, ...]:
        return (
            f"{item.score:.2f}",
            one_line(item.conversation_id, 40),
            one_line(item.queue, 20),
            one_line(reason_words(item.reason), 20),
            claim_label(item, self.reviewer, now),
            score_why(item.snapshot),
            trigger_kinds(item.snapshot),
            one_line(role_words(item.role), 20),
        )

    def _show(self, items: list[ReviewItem]) -> None:
        now = self.now()
        table = self.query_one(DataTable)
        cells = [(item.item_id, self._row(item, now)) for item in items]
        self._items = {item.item_id: item for item in items}
        if cells != self._cells:
            keep = self.selected_id
            index = table.cursor_row
            palette = self.palette
            with self.app.batch_update():
                table.clear()
                for item_id, values in cells:
                    item = self._items[item_id]
                    mine = values[CLAIM_COLUMN] == "you"
                    taken = bool(values[CLAIM_COLUMN]) and not mine
                    score_style = palette.error + palette.strong if item.score < 0.4 else palette.warning if item.score < 0.6 else palette.muted
                    styles = [
                        score_style,
                        palette.strong if not taken else palette.muted,
                        palette.strong,
                        palette.accent,
                        palette.success + palette.strong if mine else palette.muted,
                        palette.muted,
                        palette.warning,
                        palette.muted,
                    ]
                    table.add_row(
                        *(Text(v, style=s, no_wrap=True, end="") for v, s in zip(values, styles)),
                        key=item_id,
                        height=1,
                    )
                if keep is not None and keep in self._items:
                    table.move_cursor(row=table.get_row_index(keep), scroll=True)
                elif table.row_count:
                    table.move_cursor(row=min(index, table.row_count - 1), scroll=True)
            self._cells = cells
        self._show_status(items, now)
        self._show_why()
        self.refresh_bindings()

    def _show_why(self) -> None:
        item = self.current_item()
        why = score_why(item.snapshot) if item is not None else ""
        self.query_one("#review-why", StatusLine).show(
            Content.assemble(("why ", "dim"), why or formatting.DASH) if item is not None else Content("")
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_why()

    def _show_status(self, items: list[ReviewItem], now: float) -> None:
        mine = sum(1 for i in items if i.claimed(now) and i.claimed_by == self.reviewer)
        others = sum(1 for i in items if i.claimed(now) and i.claimed_by != self.reviewer)
        parts: list[str | tuple[str, str]] = [
            ("Review  ", "bold"),
            ("role ", "dim"),
            (role_words(self.role) if self.role else "all", "$text-accent bold"),
            (" (r)", "dim"),
            f"  ·  {formatting.count(len(items))} open, lowest score first",
            (f"  ·  {mine} yours", "$text-success") if mine else "",
            (f"  ·  {others} held by others", "dim") if others else "",
            ("  ·  reviewer ", "dim"),
            (one_line(self.reviewer, 24), "bold"),
        ]
        if self._problem:
            parts += ["  ", (f"store error: {one_line(self._problem, 80)}", "$text-error bold")]
        self.query_one("#review-status", StatusLine).show(Content.assemble(*parts))

    # ------------------------------------------------------------ selection

    def current_item(self) -> ReviewItem | None:
        return self.selected_in(self._items)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open", "claim", "unclaim", "verdict", "tag"):
            return self.current_item() is not None
        return True

    # ------------------------------------------------------------ actions

    def action_open(self) -> None:
        item = self.current_item()
        if item is not None:
            self.app.push_screen(ReviewItemScreen(item.item_id))

    def action_cycle_role(self) -> None:
        roles: list[str | None] = [None, *self.roles()]
        position = roles.index(self.role) if self.role in roles else 0
        self.role = roles[(position + 1) % len(roles)]
        self._cells = []  # a different list: redraw even if it happens to look the same
        self.reload()
        self.query_one(DataTable).move_cursor(row=0)
