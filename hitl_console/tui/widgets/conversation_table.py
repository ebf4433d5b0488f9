"""The floor's table of active conversations, kept live cheaply.

A busy floor has thousands of rows and thousands of events a second. The
table is a Line API widget (like Textual's own ``DataTable`` and Toolong's
log view) rather than a ``DataTable``: a ``DataTable`` keys every render
cache on one update counter, so a single changed cell re-renders every cell
on screen. Here the work follows what is on screen, not the floor's size:

* :meth:`ConversationTable.show` is given the order (ids) and a way to read
  each conversation's state; it keeps the list and touches no row;
* a row's cells are worked out when the row is drawn: for each cell a
  *model* (a small hashable value) from the state, re-rendered only when the
  model changed; a row is checked again when its ``ConversationState.version``
  changed, and its time cells (the wait, the age) when the clock moved;
* each row is rendered to a ``Strip`` once and cached until one of its
  cells changes (or the width, the cursor or the theme does), and only screen
  lines whose row, cells or cursor changed are redrawn: a floor where nothing
  on screen changed writes nothing to the terminal;
* the cursor stays on the conversation it was on, whatever its new position,
  and the view does not scroll unless that row would leave the screen.

Columns give way as the terminal narrows, in the reverse of
:data:`COLUMN_PRIORITY` (channel goes first, the id never goes).

What a cell says comes from the engine (``hitl_console.engine.attention``:
how long a customer has waited, the reasons in words, a routing breach);
the cells only choose colours and shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hitl_console.engine import attention
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line
from hitl_console.tui import formatting, glyphs
from hitl_console.tui.palette import Palette


@dataclass(frozen=True, slots=True)
class CellContext:
    """What a cell may depend on besides the conversation itself."""

    now: float
    me: str
    low_confidence: float
    palette: Palette
    stale_feeds: frozenset[str] = frozenset()
    """Feeds that are down: their rows say "stale" (``alerts.feed_health``)."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    model: Callable[[ConversationState, CellContext], Hashable]
    """A cheap, hashable summary of what the cell shows: equal models, no redraw."""
    render: Callable[[Hashable, CellContext], Text]
    justify: str = "left"
    fit: Callable[[Text, int], Text] | None = None
    """How a cell too wide for its column is cut (default: an ellipsis at the end)."""


@dataclass(slots=True)
class _Row:
    """The cells of one drawn row and what they were worked out from."""

    version: int
    context: tuple
    now: float
    models: dict[str, Hashable]
    cells: dict[str, Text]
    generation: int
    """Changes whenever a cell does: the cached strip and the screen line follow it."""
    changed: set[str] = field(default_factory=set)
    """Cells changed since the row was last drawn: when nothing else moved (a
    wait clock ticking), only they are sent to the terminal, not the line."""


TIME_COLUMNS: tuple[str, ...] = ("holder", "age")
"""Cells that change as time passes (the wait, the age), not only with the state."""


def _style_of(text: Text) -> Style:
    style = text.style
    if isinstance(style, Style):
        return style
    return Style.parse(style) if style else Style()


def _text(value: str, style: Style | str = "", justify: str = "left") -> Text:
    return Text(value, style=style, no_wrap=True, end="", justify=justify)  # type: ignore[arg-type]


# ------------------------------------------------------------------ cells


def _id_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return s.conversation_id


def _id_render(m: Hashable, ctx: CellContext) -> Text:
    return _text(one_line(str(m)))


def _holder_model(s: ConversationState, ctx: CellContext) -> Hashable:
    waited = attention.waited(s, ctx.now)
    return (
        s.holder,
        s.agent if s.holder == "human" else None,
        None if waited is None else formatting.duration(waited),
        attention.routing_breach(s),
        s.feed in ctx.stale_feeds,
    )


def _holder_render(m: Hashable, ctx: CellContext) -> Text:
    holder, agent, waited, breach, stale = m  # type: ignore[misc]
    p = ctx.palette
    if stale:
        # the feed is down: what this row says is what was last heard
        return _text("STALE feed", p.error + p.strong)
    if holder == "waiting":
        return _text("WAITING" + (f" {waited}" if waited else ""), p.error + p.strong)
    if holder == "human":
        if agent and agent == ctx.me:
            return _text("▶ you", p.success + p.strong)
        return _text(one_line(agent or "human"), p.success)
    if holder == "ended":
        return _text("ended", p.muted)
    if breach:
        # the routing rules want a person here; the Why column says which rule
        return _text("AI ⚠ rules", p.warning + p.strong)
    return _text("AI", p.muted)


def _risk_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return round(s.risk, 2)


def _risk_render(m: Hashable, ctx: CellContext) -> Text:
    value = float(m)  # type: ignore[arg-type]
    return _text(f"{value:.2f}", glyphs.risk_style(value, ctx.palette), justify="right")


def _triggers_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return tuple(glyphs.badge_codes(s.active))


def _triggers_render(m: Hashable, ctx: CellContext) -> Text:
    codes = set(m)  # type: ignore[arg-type]
    kinds = [kind for kind, code in glyphs.BADGES.items() if code in codes]
    return glyphs.badges_text(kinds, ctx.palette)


REASON_LEVEL: dict[str, str] = {**glyphs.BADGE_LEVEL, "routing": "warning"}
"""Colour of each reason kind on the row (the engine's kinds, see ``attention.STRENGTH``)."""


def _reason_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return attention.reasons(s)


def _reason_render(m: Hashable, ctx: CellContext) -> Text:
    """The reasons in words, strongest first and in its colour; the rest plain.
    What does not fit is cut with an ellipsis (the strongest one always shows)."""
    text = _text("")
    for i, (kind, words) in enumerate(m):  # type: ignore[misc, arg-type]
        if i:
            text.append(REASON_SEPARATOR, ctx.palette.muted)
        style = getattr(ctx.palette, REASON_LEVEL.get(kind, "warning"))
        text.append(one_line(words), style + ctx.palette.strong if i == 0 else style)
    return text


REASON_SEPARATOR = " · "


def _reason_fit(text: Text, width: int) -> Text:
    """Whole reasons only: drop the weaker ones that do not fit, and say how
    many were left out (``+2``); only a single reason too long is cut short."""
    if text.cell_len <= width:
        return text
    plain = text.plain
    count = plain.count(REASON_SEPARATOR) + 1
    end = len(plain)
    kept = count
    while kept > 1:
        end = plain.rfind(REASON_SEPARATOR, 0, end)
        kept -= 1
        more = f" +{count - kept}"
        if text[:end].cell_len + len(more) <= width:
            cut = text[:end]
            cut.append(more, "dim")
            return cut
    cut = text[:end] if kept == 1 and end < len(plain) else text.copy()
    more = f" +{count - 1}" if count > 1 else ""
    cut.truncate(max(1, width - len(more)), overflow="ellipsis")
    if more:
        cut.append(more, "dim")
    return cut


def _sentiment_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return tuple(round(v, 2) for v in s.sentiments()[-8:])


def _sentiment_render(m: Hashable, ctx: CellContext) -> Text:
    return glyphs.sparkline_text(m, ctx.palette)  # type: ignore[arg-type]


def _confidence_model(s: ConversationState, ctx: CellContext) -> Hashable:
    value = s.last_confidence
    return None if value is None else round(value, 2)


def _confidence_render(m: Hashable, ctx: CellContext) -> Text:
    return glyphs.gauge_text(m, ctx.low_confidence, ctx.palette)  # type: ignore[arg-type]


def _customer_model(s: ConversationState, ctx: CellContext) -> Hashable:
    c = s.customer
    return (c.name or c.id or "", c.tier)


def _customer_render(m: Hashable, ctx: CellContext) -> Text:
    who, tier = m  # type: ignore[misc]
    text = _text(one_line(who)) if who else _text("unknown", ctx.palette.muted)
    if tier:
        text.append("·" + one_line(tier), ctx.palette.accent)
    return text


def _queue_model(s: ConversationState, ctx: CellContext) -> Hashable:
    topic = s.topics[-1] if s.topics else (s.contact_reason or "")
    return (s.queue, topic)


def _queue_render(m: Hashable, ctx: CellContext) -> Text:
    queue, topic = m  # type: ignore[misc]
    text = _text(one_line(queue or "–"))
    if topic:
        text.append("/" + one_line(topic), ctx.palette.muted)
    return text


def _age_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return formatting.age(ctx.now - s.started_ts if s.started_ts else None)


def _age_render(m: Hashable, ctx: CellContext) -> Text:
    return _text(str(m), justify="right")


def _turns_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return s.turn_count


def _turns_render(m: Hashable, ctx: CellContext) -> Text:
    return _text(str(m), justify="right")


def _loop_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return bool(s.loop_warning)


def _loop_render(m: Hashable, ctx: CellContext) -> Text:
    return _text("⟳ loop", ctx.palette.warning) if m else _text("")


def _channel_model(s: ConversationState, ctx: CellContext) -> Hashable:
    return s.channel


def _channel_render(m: Hashable, ctx: CellContext) -> Text:
    return _text(one_line(str(m)), ctx.palette.muted)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("id", "Conv.", 8, _id_model, _id_render),
        Column("holder", "Holder", 14, _holder_model, _holder_render),
        Column("risk", "Risk", 4, _risk_model, _risk_render, "right"),
        Column("reason", "Why", 22, _reason_model, _reason_render, fit=_reason_fit),
        Column("customer", "Customer", 16, _customer_model, _customer_render),
        Column("sentiment", "Sentiment", 9, _sentiment_model, _sentiment_render),
        Column("confidence", "AI conf.", 9, _confidence_model, _confidence_render),
        Column("age", "Age", 5, _age_model, _age_render, "right"),
        Column("queue", "Queue/topic", 18, _queue_model, _queue_render),
        Column("turns", "Turns", 5, _turns_model, _turns_render, "right"),
        Column("loop", "Loop", 6, _loop_model, _loop_render),
        Column("channel", "Chan.", 5, _channel_model, _channel_render),
        Column("triggers", "Triggers", 11, _triggers_model, _triggers_render),
    )
}

COLUMN_PRIORITY: tuple[str, ...] = tuple(k for k in COLUMNS if k != "triggers")
"""Most important first. As the terminal narrows, columns give way from the
end: channel, then the loop flag (the Why column says it too), turns,
queue/topic, age, confidence, sentiment, customer, the reasons in words; the
id, holder (with the wait) and risk always stay. At 80 columns: id, holder,
risk, why and customer."""

NARROW_FALLBACK: dict[str, str] = {"reason": "triggers"}
"""A column too wide for a very narrow terminal gives way to a compact one that
says the same: the reasons in words to their two-letter badges (LC, HS, ...)."""

VIRTUAL_STEP = 64
ALWAYS_SHOWN = 3
CELL_PADDING = 1
STRETCH: tuple[tuple[str, int], ...] = (
    ("customer", 5), ("id", 4), ("reason", 20), ("queue", 16), ("customer", 8), ("id", 2), ("triggers", 6)
)
"""Where spare width goes on wide terminals (column, at most this much more, in
turn): first enough for a full name and tier and a longer id, then the
reasons, then the rest."""


def columns_for_width(width: int, padding: int = CELL_PADDING) -> list[str]:
    """The columns that fit in ``width`` cells, in priority order."""
    chosen: list[str] = []
    used = 0
    for index, key in enumerate(COLUMN_PRIORITY):
        need = COLUMNS[key].width + 2 * padding
        if index >= ALWAYS_SHOWN and used + need > width:
            fallback = NARROW_FALLBACK.get(key)
            if fallback is not None and used + COLUMNS[fallback].width + 2 * padding <= width:
                chosen.append(fallback)
            break
        chosen.append(key)
        used += need
    return chosen


def column_widths(keys: Sequence[str], width: int, padding: int = CELL_PADDING) -> dict[str, int]:
    """Widths for ``keys`` in ``width`` cells: the base widths, with what is
    left over given to the columns whose text is most often cut."""
    widths = {key: COLUMNS[key].width for key in keys}
    spare = width - sum(w + 2 * padding for w in widths.values())
    for key, most in STRETCH:
        if spare <= 0:
            break
        if key in widths:
            extra = min(most, spare)
            widths[key] += extra
            spare -= extra
    return widths


class ConversationRowMessage(Message):
    """A message from a :class:`ConversationTable` about one of its rows."""

    def __init__(self, table: ConversationTable, conversation_id: str) -> None:
        super().__init__()
        self.table = table
        self.conversation_id = conversation_id

    @property
    def control(self) -> ConversationTable:
        return self.table


class ConversationTable(ScrollView, can_focus=True):
    """Active conversations, one row each, keyed by conversation id.

    Line 0 is the column header, pinned; rows scroll beneath it.
    """

    DEFAULT_CSS = """
    ConversationTable {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    ConversationTable > .conversation-table--header {
        text-style: bold;
        color: $text-muted;
        background: $panel;
    }
    ConversationTable > .conversation-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    ConversationTable:focus > .conversation-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    COMPONENT_CLASSES = {"conversation-table--header", "conversation-table--cursor"}

    BINDINGS = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the selected conversation", id="table.select_cursor"),
        Binding("up,k", "cursor_up", "Up", show=False, id="table.cursor_up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "cursor_top", "Top", show=False, id="table.cursor_top"),
        Binding("end,G", "cursor_bottom", "Bottom", show=False, id="table.cursor_bottom"),
    ]

    cursor_row: reactive[int] = reactive(0, init=False, always_update=False, repaint=False)

    class RowHighlighted(ConversationRowMessage):
        """The cursor moved onto another conversation."""

    class RowSelected(ConversationRowMessage):
        """``enter`` or a click on a row: open it."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns_shown: list[str] = []
        self._widths: dict[str, int] = {}
        self._order: list[str] = []
        self._get: Callable[[str], ConversationState | None] = _nobody
        """Where the table reads a conversation's state when it draws its row."""
        self._rows: dict[str, _Row] = {}
        """Cells of the rows drawn lately (those on screen, and some that were)."""
        self._strips: dict[str, tuple[tuple, Strip]] = {}
        self._painted: dict[int, tuple | None] = {}
        """What each screen line shows: (id, generation, cursor), or None for a blank."""
        self._header: tuple[tuple, Strip] | None = None
        self._style_generation = 0
        self._generations = 0
        self._context_parts: tuple[CellContext, tuple] | None = None
        self._cursor_key: str | None = None
        self.follow = False
        """Whether the cursor follows its conversation when rows re-sort. Off
        until the supervisor moves the cursor (a fresh floor keeps it on the
        riskiest row), and off again after ``home``: "the top, whatever it is"."""
        self.cell_context = CellContext(now=0.0, me="", low_confidence=0.55, palette=Palette.plain())
        self.cells_rendered = 0
        """Cells rendered since start (tests and the benchmark read it)."""
        self.rows_rendered = 0

    # ------------------------------------------------------------ queries

    @property
    def shown_columns(self) -> list[str]:
        return list(self._columns_shown)

    @property
    def widths(self) -> dict[str, int]:
        return dict(self._widths)

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_ids(self) -> list[str]:
        return list(self._order)

    @property
    def current_id(self) -> str | None:
        """The conversation under the cursor."""
        if not self._order:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    def visible_ids(self) -> list[str]:
        """The conversations whose rows are on screen now."""
        top = int(self.scroll_y)
        return self._order[top : top + max(0, self.size.height - 1)]

    def cell_text(self, cid: str, column: str) -> str:
        """The plain text of one cell (tests read the table through it)."""
        row = self._row(cid)
        cell = row.cells.get(column) if row is not None else None
        return "" if cell is None else cell.plain

    # ------------------------------------------------------------ updating

    def set_columns(self, widths: dict[str, int], states: Sequence[ConversationState]) -> None:
        """Show exactly these columns (in order) at these widths; a change re-renders the rows."""
        if widths == self._widths and self._columns_shown:
            return
        self._widths = dict(widths)
        self._columns_shown = list(widths)
        self.rebuild(states)

    def rebuild(self, states: Sequence[ConversationState]) -> None:
        """Render every row again (new columns, a new filter, a new theme)."""
        keep = self.current_id or self._cursor_key
        self._rows.clear()
        self._strips.clear()
        self._painted.clear()
        self._header = None
        by_id = {s.conversation_id: s for s in states}
        self._get = by_id.get
        self._set_order(list(by_id))
        self._restore_cursor(keep)
        self.refresh()

    def sync(self, states: Sequence[ConversationState], changed: Iterable[str] | None = None) -> bool:
        """Make the table show ``states`` in this order; return whether anything changed."""
        by_id = {s.conversation_id: s for s in states}
        return self.show([s.conversation_id for s in states], by_id.get, changed)

    def show(
        self,
        order: list[str],
        get: Callable[[str], ConversationState | None],
        changed: Iterable[str] | None = None,
    ) -> bool:
        """Show the conversations ``order`` names (the table keeps the list),
        reading each one's state with ``get`` when its row is drawn.

        Work is proportional to what is on screen: only rows on screen are
        checked against their state's version (and the clock, for the cells
        that show a time), and only lines whose row, cells or cursor changed
        are drawn again. ``changed``: ids whose state may have changed or gone
        (None: any); a row off screen is brought up to date when it is shown.
        Returns whether a line was redrawn or the order changed.
        """
        if not self._columns_shown:
            return False
        self._get = get
        if changed is None:
            gone = [cid for cid in self._rows if get(cid) is None]
        else:
            gone = [cid for cid in changed if cid in self._rows and get(cid) is None]
        for cid in gone:
            self._drop(cid)
        moved = order != self._order
        if moved:
            keep = self.current_id or self._cursor_key
            self._set_order(order)
            self._restore_cursor(keep)
        self._forget_hidden()
        return self.refresh_visible() or moved

    def refresh_visible(self) -> bool:
        """Bring the rows on screen up to date (states, the clock of
        :attr:`cell_context`) and redraw only the lines that now differ."""
        if not self._columns_shown:
            return False
        top = int(self.scroll_y)
        order = self._order
        cursor = self.cursor_row
        redrawn = False
        for y in range(1, self.size.height):
            index = top + y - 1
            if index < len(order):
                cid = order[index]
                row = self._row(cid)
                want: tuple | None = (cid, row.generation if row is not None else -1, index == cursor)
            else:
                row, want = None, None
            painted = self._painted.get(y, ())
            if painted != want:
                self._painted[y] = want
                if want is not None and painted and painted[0] == want[0] and painted[2] == want[2] and row is not None and row.changed:
                    # the same row, only some cells changed: send those
                    for key in row.changed:
                        self._refresh_line(y, key)
                else:
                    self._refresh_line(y)
                if row is not None:
                    row.changed.clear()
                redrawn = True
        return redrawn

    def _refresh_line(self, y: int, key: str | None = None) -> None:
        """Repaint screen line ``y`` (0: the header), or only the cell of column ``key`` on it.

        Not ``ScrollView.refresh_lines``: that takes a line of the virtual
        content and subtracts the scroll offset, and ``y`` here is already a
        line of the screen (``render_line`` adds the offset itself)."""
        width = max(self.virtual_size.width, self.size.width)
        if key is None:
            self.refresh(Region(0, y, width, 1))
            return
        x = 0
        for shown in self._columns_shown:
            span = self._widths.get(shown, COLUMNS[shown].width) + 2 * CELL_PADDING
            if shown == key:
                self.refresh(Region(x, y, span, 1))
                return
            x += span
        self.refresh(Region(0, y, width, 1))

    def refresh_column(self, key: str, states: Iterable[ConversationState]) -> int:
        """Recompute one column for these rows (those drawn already); returns cells changed."""
        if key not in self._columns_shown:
            return 0
        column = COLUMNS[key]
        changed = 0
        for state in states:
            row = self._rows.get(state.conversation_id)
            if row is None:
                continue
            model = column.model(state, self.cell_context)
            if row.models.get(key) != model:
                row.models[key] = model
                self._set_cell(state.conversation_id, key, column.render(model, self.cell_context))
                self._refresh_row(state.conversation_id)
                changed += 1
        return changed

    def restyle(self) -> None:
        """Colours changed (theme, focus): cached strips are stale."""
        self._style_generation += 1
        self._header = None
        self._painted.clear()
        self.refresh()

    def _cell_parts(self) -> tuple:
        """What the cells depend on besides the state and the clock."""
        ctx = self.cell_context
        cached = self._context_parts
        if cached is None or cached[0] is not ctx:
            cached = self._context_parts = (ctx, (ctx.me, ctx.low_confidence, ctx.palette, ctx.stale_feeds))
        return cached[1]

    def _row(self, cid: str) -> _Row | None:
        """The row of ``cid`` with its cells up to date (computed on first use)."""
        state = self._get(cid)
        row = self._rows.get(cid)
        if state is None:
            return row
        context = self._cell_parts()
        if row is None:
            self._add(state)
            return self._rows[cid]
        if row.version != state.version or row.context != context:
            self._update(state)
        elif row.now != self.cell_context.now:
            self._update(state, TIME_COLUMNS)
        return row

    def _add(self, state: ConversationState) -> None:
        cid = state.conversation_id
        ctx = self.cell_context
        models = {key: COLUMNS[key].model(state, ctx) for key in self._columns_shown}
        cells = {key: COLUMNS[key].render(models[key], ctx) for key in self._columns_shown}
        self.cells_rendered += len(models)
        self._generations += 1
        self._rows[cid] = _Row(state.version, self._cell_parts(), ctx.now, models, cells, self._generations)

    def _drop(self, cid: str) -> None:
        self._rows.pop(cid, None)
        self._strips.pop(cid, None)

    def _forget_hidden(self) -> None:
        """Keep the cells of a few screens of rows, not of the whole floor."""
        if len(self._rows) <= max(256, 4 * self.size.height):
            return
        keep = set(self.visible_ids())
        if self._cursor_key is not None:
            keep.add(self._cursor_key)
        for cid in [cid for cid in self._rows if cid not in keep]:
            self._drop(cid)

    def _update(self, state: ConversationState, keys: Iterable[str] | None = None) -> bool:
        cid = state.conversation_id
        row = self._rows[cid]
        ctx = self.cell_context
        if keys is None:
            row.version = state.version
            row.context = self._cell_parts()
        row.now = ctx.now
        models = row.models
        changed = False
        for key in self._columns_shown if keys is None else keys:
            if key not in models:
                continue
            column = COLUMNS[key]
            model = column.model(state, ctx)
            if models[key] != model:
                models[key] = model
                self._set_cell(cid, key, column.render(model, ctx))
                changed = True
        return changed

    def _set_cell(self, cid: str, key: str, cell: Text) -> None:
        row = self._rows[cid]
        row.cells[key] = cell
        row.changed.add(key)
        self._generations += 1
        row.generation = self._generations
        self.cells_rendered += 1

    def _set_order(self, order: list[str]) -> None:
        self._order = order
        self._fit_virtual_size()

    def _position(self, cid: str | None) -> int | None:
        if cid is None:
            return None
        try:
            return self._order.index(cid)
        except ValueError:
            return None

    def _fit_virtual_size(self) -> None:
        """Rows plus the header; a long table's height is rounded up to a
        multiple of :data:`VIRTUAL_STEP`. A changed virtual size costs a
        layout, and a layout repaints the whole screen: on a busy floor rows
        come and go every redraw, and the few blank lines this allows past
        the end are a far smaller price."""
        height = len(self._order) + 1
        if height > self.size.height:
            height = -(-height // VIRTUAL_STEP) * VIRTUAL_STEP
        size = Size(self.size.width, height)
        if size != self.virtual_size:
            self.virtual_size = size
            self._painted.clear()

    def _refresh_index(self, index: int) -> None:
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self._painted.pop(y, None)
            self._refresh_line(y)

    def _refresh_row(self, cid: str) -> None:
        index = self._position(cid)
        if index is not None:
            self._refresh_index(index)

    # ------------------------------------------------------------ cursor

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._order) - 1)) if self._order else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_index(old)
        if self._order:
            cid = self._order[new]
            self._refresh_index(new)
            if cid != self._cursor_key:
                self._cursor_key = cid
                self.post_message(self.RowHighlighted(self, cid))

    def watch_scroll_y(self, old: float, new: float) -> None:
        self._painted.clear()  # every line shows another row now
        super().watch_scroll_y(old, new)

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def move_cursor(self, row: int, *, scroll: bool = True) -> None:
        self.cursor_row = row
        if scroll:
            self._scroll_to_cursor()

    def _restore_cursor(self, cid: str | None) -> None:
        """Put the cursor back on ``cid`` wherever it now is; if it ended, stay
        at the same place in the list."""
        if not self._order:
            return
        if not self.follow:
            self.move_cursor(min(self.cursor_row, len(self._order) - 1))
            return
        index = self._position(cid)
        if index is None:
            self.move_cursor(min(self.cursor_row, len(self._order) - 1))
            return
        self._cursor_key = cid
        if index != self.cursor_row:
            self.move_cursor(index)

    def select_id(self, cid: str) -> bool:
        """Move the cursor to a conversation (e.g. from an alert) and follow it."""
        index = self._position(cid)
        if index is None:
            return False
        self.follow = True
        self.move_cursor(index)
        return True

    def _navigate(self, row: int) -> None:
        self.follow = True
        self.move_cursor(row)

    def action_cursor_up(self) -> None:
        self._navigate(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._navigate(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._navigate(self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self._navigate(self.cursor_row + max(1, self.size.height - 2))

    def action_cursor_top(self) -> None:
        self.follow = False
        self.move_cursor(0)

    def action_cursor_bottom(self) -> None:
        self._navigate(len(self._order) - 1)

    def action_select_cursor(self) -> None:
        cid = self.current_id
        if cid is not None:
            self.post_message(self.RowSelected(self, cid))

    async def _on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._order):
            self.follow = True
            self.move_cursor(row, scroll=False)
            if event.chain >= 2:
                self.action_select_cursor()

    def _on_focus(self, event: events.Focus) -> None:
        self.restyle()

    def _on_blur(self, event: events.Blur) -> None:
        self.restyle()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_virtual_size()
        self._header = None
        self._painted.clear()

    # ------------------------------------------------------------ rendering

    def _row_strip(self, cid: str, row: _Row | None, width: int, cursor: bool) -> Strip:
        key = (row.generation if row is not None else -1, width, cursor, self._style_generation)
        cached = self._strips.get(cid)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self._line(row.cells if row is not None else {}, width, self.rich_style)
        if cursor:
            # The cursor's colours go on top, as DataTable does by default: the
            # row under the cursor must be readable whatever its cells' colours.
            cursor_style = self.get_component_rich_style("conversation-table--cursor")
            strip = Strip([Segment(t, st + cursor_style if st else cursor_style, c) for t, st, c in strip], strip.cell_length)
        self._strips[cid] = (key, strip)
        self.rows_rendered += 1
        return strip

    def _line(self, cells: dict[str, Text], width: int, base: Style) -> Strip:
        pad = " " * CELL_PADDING
        segments: list[Segment] = []
        console = self.app.console
        for key in self._columns_shown:
            column_width = self._widths.get(key, COLUMNS[key].width)
            cell = cells.get(key)
            text = cell.copy() if cell is not None else Text("")
            if text.cell_len > column_width:
                fit = COLUMNS[key].fit
                if fit is not None:
                    text = fit(text, column_width)
                else:
                    text.truncate(column_width, overflow="ellipsis")  # a cut cell says so
            text.align(COLUMNS[key].justify, column_width)  # type: ignore[arg-type]
            # Text.render applies the spans but not the Text's own style.
            cell_base = base + _style_of(text)
            segments.append(Segment(pad, base))
            for segment in text.render(console, end=""):
                segments.append(Segment(segment.text, cell_base + segment.style if segment.style else cell_base))
            segments.append(Segment(pad, base))
        return Strip(segments).adjust_cell_length(width, base)

    def _header_strip(self, width: int) -> Strip:
        key = (width, tuple(self._columns_shown), self._style_generation)
        if self._header is not None and self._header[0] == key:
            return self._header[1]
        base = self.rich_style + self.get_component_rich_style("conversation-table--header")
        labels = {k: Text(COLUMNS[k].label, end="") for k in self._columns_shown}
        strip = self._line(labels, width, base)
        self._header = (key, strip)
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header_strip(width)
        index = int(self.scroll_y) + y - 1
        if 0 <= index < len(self._order):
            cid = self._order[index]
            cursor = index == self.cursor_row
            before = self._painted.get(y)
            row = self._row(cid)
            want = (cid, row.generation if row is not None else -1, cursor)
            self._painted[y] = want
            if before is not None and before != want and before[0] == cid and before[2] == cursor:
                # Cells changed that no refresh asked to send (brought up to
                # date here): this draw may be of one cell only, so the line follows.
                self._refresh_line(y)
            return self._row_strip(cid, row, width, cursor)
        self._painted[y] = None
        return Strip.blank(width, self.rich_style)


def _nobody(cid: str) -> ConversationState | None:
    return None
