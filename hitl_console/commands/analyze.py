"""``hitl-console analyze FILE... [--config F] [--json] [--no-handoff]``: the signal engine, headless.

Runs the same engine as the live console over recordings (several files are
merged by event time) and prints, per conversation, the triggers in firing
order, the escalation moment, the highest risk reached and the handoff
summary (``--no-handoff`` leaves it out): as one JSON object per line with
``--json`` (for scripts and ``jq``), else as a table as wide as the terminal
(``COLUMNS``, or 120 columns into a pipe; it reads at 80).

The table puts the highest risk first (what a person should read first) and
names triggers as the console does (``TRIGGER_NAMES``, one a line when they
do not fit). ``--json`` keeps the order the conversations started in, and
its shape: it streams (a line is written as soon as the ones before it
are), which a sort would end; ``jq -s 'sort_by(-.risk)'`` sorts it.

Time-based rules (approvals expiring, no progress for N seconds, silence
closing a conversation as abandoned) run on the recording's clock: the engine
is ticked as event time advances.

Streaming: the files are read as the replay goes, and a conversation leaves
memory once it is over (``hitl_console.engine.replay``); its JSON line is
built then, once, and printed in the order the conversations started (a
finished one waits, as a string, for the ones that started before it). So a
recording of any length takes memory for its open conversations only.

Exit status: 0 on success (even with rejected frames, which are reported on
stderr), 2 when a file is missing or unreadable or the config is bad.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from collections.abc import Callable
from typing import IO, Any, NamedTuple

from hitl_console.commands.common import config_or_exit, fail, output_console, trigger_cell
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.handoff import build_handoff
from hitl_console.engine.replay import replay_events
from hitl_console.engine.scorers import summary
from hitl_console.engine.state import ConversationState
from hitl_console.feeds.recording import RecordingError, RecordingStats, describe_rejected, read_events
from hitl_console.text import one_line, terminal_safe_json

def conversation_record(
    state: ConversationState, *, handoff: bool = True, scorers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The JSON object printed for one conversation (``scorers``: which scorer ran
    for each signal, a field added after the others)."""
    record: dict[str, Any] = {
        "conversation_id": state.conversation_id,
        "triggers": [{"kind": h.kind, "seq": h.seq, "reason": h.reason} for h in state.triggers],
        "escalated_at_seq": state.escalated_at_seq,
        "escalation_turns": state.escalation_turns,
        "time_to_escalation": state.time_to_escalation,
        "risk": state.peak_risk,
        "final_risk": state.risk,
        "holder": state.holder,
        "outcome": state.outcome,
        "csat": state.csat,
        "routing_flags": list(state.routing_flags),
        "turns": len(state.turns),
    }
    if handoff:
        record["handoff"] = build_handoff(state).to_dict()
    if state.timed_out:
        record["timed_out"] = True
    if scorers is not None:
        record["scorers"] = scorers
    return record


class OrderedOutput:
    """A replay sink that renders each conversation once, when it is final, and
    writes the renderings in the order the conversations started."""

    def __init__(self, render: Callable[[ConversationState], Any], write: Callable[[Any], None]) -> None:
        self._render = render
        self._write = write
        self._order: deque[int] = deque()
        self._current: dict[str, int] = {}
        self._ready: dict[int, Any] = {}
        self._count = 0

    def opened(self, key: str) -> None:
        self._count += 1
        self._current[key] = self._count
        self._order.append(self._count)

    def closed(self, state: ConversationState) -> None:
        n = self._current.pop(state.conversation_id, None)
        if n is None:
            return
        self._ready[n] = self._render(state)
        order, ready = self._order, self._ready
        while order and order[0] in ready:
            self._write(ready.pop(order.popleft()))

    @property
    def waiting(self) -> int:
        """Finished conversations held back behind one that started earlier."""
        return len(self._ready)

class TableRow(NamedTuple):
    """One table row of plain strings (small: kept until the table is printed), and what it sorts by."""

    conversation: str
    risk: str
    escalated_at: str
    turns: str
    state: str
    triggers: tuple[str, ...]
    """Kinds, in firing order."""
    escalated: bool
    peak_risk: float


def table_row(s: ConversationState) -> TableRow:
    """The row for one finished conversation."""
    return TableRow(
        one_line(s.conversation_id, 40),
        f"{s.peak_risk:.2f}",
        str(s.escalated_at_seq) if s.escalated_at_seq is not None else "-",
        str(len(s.turns)),
        one_line(s.outcome or s.holder, 20),
        tuple(h.kind for h in s.triggers),
        s.escalated,
        s.peak_risk,
    )


def by_risk(rows: list[TableRow]) -> list[TableRow]:
    """Highest risk first (the conversations a person should read first); equal risks keep start order."""
    return sorted(rows, key=lambda r: -r.peak_risk)


_FIXED_COLUMNS = 52
"""Characters the table takes before its triggers column (the columns, their padding and the edges)."""


def _print_table(rows: list[TableRow], out: IO[str], scorers: dict[str, str]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = output_console(out)
    console.print(Text(f"scorers: {summary(scorers)}"))
    table = Table(box=box.SIMPLE, pad_edge=False, expand=False)
    table.add_column("conversation", max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("risk", justify="right", width=4)
    table.add_column("esc@", justify="right", max_width=7)
    table.add_column("turns", justify="right", width=5)
    table.add_column("state", max_width=11, overflow="ellipsis", no_wrap=True)
    table.add_column("triggers", ratio=1, min_width=16)
    room = console.width - _FIXED_COLUMNS
    for row in by_risk(rows):
        table.add_row(Text(row.conversation), row.risk, row.escalated_at, row.turns, Text(row.state),
                      Text(trigger_cell(row.triggers, room)))
    console.print(table)
    escalated = sum(1 for r in rows if r.escalated)
    flagged = sum(1 for r in rows if r.triggers)
    share = f" ({escalated / len(rows):.0%})" if rows else ""
    console.print(
        Text(f"{len(rows)} conversations, {escalated} escalated{share}, {flagged} with triggers; "
             "highest risk first (risk = the highest reached; esc@ = event seq of the escalation).")
    )


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    stats = RecordingStats()
    try:
        events = read_events(args.files, stats)
    except RecordingError as error:
        return fail(str(error), 2)
    engine = SignalEngine(config)
    handoff = not getattr(args, "no_handoff", False)
    out = sys.stdout
    rows: list[TableRow] = []
    if args.json:
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

        def dumps(record: object) -> str:
            return terminal_safe_json(encode(record))
        pending: list[str] = []

        def write(line: str) -> None:
            pending.append(line)
            if len(pending) >= 256:
                out.write("\n".join(pending) + "\n")
                pending.clear()

        names = engine.scorer_names()
        sink = OrderedOutput(lambda state: dumps(conversation_record(state, handoff=handoff, scorers=names)), write)
    else:
        sink = OrderedOutput(table_row, rows.append)
    replay_events(engine, events, sink=sink)
    if args.json:
        if pending:
            out.write("\n".join(pending) + "\n")
        out.flush()
    else:
        _print_table(rows, out, engine.scorer_names())
    if stats.rejected_count:
        print(f"hitl-console: warning: {describe_rejected(stats)}", file=sys.stderr)
    if stats.out_of_order:
        print(f"hitl-console: warning: {stats.out_of_order} event(s) earlier than the one before them in their file "
              "(replayed in file order)", file=sys.stderr)
    return 0
