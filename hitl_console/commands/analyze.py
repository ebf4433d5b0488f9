"""``hitl-console analyze FILE... [--config F] [--json]``: the signal engine, headless.

Runs the same engine as the live console over recordings (several files are
merged by event time) and prints, per conversation, the triggers in firing
order, the escalation moment, the highest risk reached and the handoff
summary: as one JSON object per line with ``--json`` (for scripts and
``jq``), else as a table that fits 80 columns.

Time-based rules (approvals expiring, no progress for N seconds) run on the
recording's clock: the engine is ticked as event time advances.

Exit status: 0 on success (even with rejected frames, which are reported on
stderr), 2 when a file is missing or unreadable or the config is bad.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hitl_console.commands.common import config_or_exit, fail
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.handoff import build_handoff
from hitl_console.engine.recordings import RecordingError, describe_rejected, read_recordings, replay_events
from hitl_console.engine.state import ConversationState
from hitl_console.text import one_line

_SHORT = {
    "low_confidence": "lowconf",
    "high_stakes": "stakes",
    "sentiment": "sentiment",
    "loop": "loop",
    "human_request": "human",
    "ai_request": "ai-req",
}


def conversation_record(state: ConversationState) -> dict[str, Any]:
    """The JSON object printed for one conversation."""
    return {
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
        "handoff": build_handoff(state).to_dict(),
    }


def _print_table(engine: SignalEngine) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout, highlight=False, soft_wrap=False)
    table = Table(box=box.SIMPLE, pad_edge=False, expand=False)
    table.add_column("conversation", max_width=18, overflow="ellipsis", no_wrap=True)
    table.add_column("risk", justify="right", width=4)
    table.add_column("esc@", justify="right", max_width=7)
    table.add_column("turns", justify="right", width=5)
    table.add_column("state", max_width=11, overflow="ellipsis", no_wrap=True)
    table.add_column("triggers", ratio=1, min_width=16)
    states = list(engine.conversations.values())
    for s in states:
        triggers = ", ".join(_SHORT.get(h.kind, h.kind) for h in s.triggers) or "-"
        table.add_row(
            Text(one_line(s.conversation_id, 40)),
            f"{s.peak_risk:.2f}",
            str(s.escalated_at_seq) if s.escalated_at_seq is not None else "-",
            str(len(s.turns)),
            Text(one_line(s.outcome or s.holder, 20)),
            Text(triggers),
        )
    console.print(table)
    escalated = sum(1 for s in states if s.escalated)
    flagged = sum(1 for s in states if s.triggers)
    share = f" ({escalated / len(states):.0%})" if states else ""
    console.print(
        Text(f"{len(states)} conversations, {escalated} escalated{share}, {flagged} with triggers. "
             "Triggers: lowconf=low_confidence, stakes=high_stakes, human=human_request, ai-req=ai_request.")
    )


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    try:
        recording = read_recordings(args.files)
    except RecordingError as error:
        return fail(str(error), 2)
    if recording.rejected:
        print(f"hitl-console: warning: {describe_rejected(recording)}", file=sys.stderr)
    engine = SignalEngine(config)
    replay_events(engine, recording.events)
    if args.json:
        out = sys.stdout
        for state in engine.conversations.values():
            out.write(json.dumps(conversation_record(state), ensure_ascii=False, separators=(",", ":")) + "\n")
        out.flush()
    else:
        _print_table(engine)
    return 0
