"""``hitl-console report``: the metrics, containment by topic, the worst conversations, the triggers.

:func:`load_recordings` and :func:`load_journal` rebuild conversations by
running the signal engine over recorded events (the same engine as live, so
a report agrees with what the floor saw). :func:`build_report` computes
everything once; three renderers print it:

* ``text``: for a terminal, with plotext charts where a shape says more
  than a table (escalation rate over time against the band, containment by
  topic, sentiment, confidence), coloured when ``color`` is true;
* ``md``: the same tables in Markdown, charts in plain fenced blocks;
* ``json``: figures only, no charts.

Relative ``--since`` values (``24h``) count back from the newest event in
the data, not the wall clock, so a report on last month's recording means
the same as one on today's journal.

No customer or AI text is printed: the report shows ids, topics, figures
and the rubric's reasons, all passed through :func:`one_line`.
"""

from __future__ import annotations

import textwrap

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitl_console.analysis import charts
from hitl_console.analysis.metrics import Metrics, MetricsOptions, compute_metrics
from hitl_console.analysis.scorecard import Score, score_all, worst
from hitl_console.analysis.timewin import TimeWindow
from hitl_console.config import Config
from hitl_console.engine.state import TRIGGER_KINDS, ConversationState
from hitl_console.protocol.events import Event
from hitl_console.text import number, one_line, terminal_safe_json

if TYPE_CHECKING:
    from hitl_console.analysis.digest import Digest

# ---------------------------------------------------------------- loading


def replay(events: Iterable[Event], config: Config | None = None) -> dict[str, ConversationState]:
    """Run events (in time order) through a fresh signal engine, ticking it on
    their clock as the live console would; its conversations."""
    return replay_journal((("", event) for event in events), config)


def replay_journal(pairs: Iterable[tuple[str, Event]], config: Config | None = None) -> dict[str, ConversationState]:
    """``replay`` for the journal's (feed, event) pairs: conversations keyed as
    the live console keyed them (``id@feed`` for an id two feeds share)."""
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.engine.replay import replay_feed_events

    engine = SignalEngine(config)
    replay_feed_events(engine, pairs)
    return dict(engine.conversations)


def load_recordings(paths: Sequence[str | Path], config: Config | None = None) -> dict[str, ConversationState]:
    """Conversations of one or more recordings, merged by event time.

    Frames that do not validate are skipped (``check-feed`` lists them): a
    report counts what the engine would have seen live. The files are
    streamed (``hitl_console.feeds.recording.read_events``). Raises
    ``hitl_console.feeds.recording.RecordingError`` for a missing or
    unreadable file.
    """
    from hitl_console.feeds.recording import read_events

    return replay(read_events(paths), config)


def load_journal(
    path: str | Path | None = None,
    config: Config | None = None,
    since_ts: float | None = None,
) -> dict[str, ConversationState]:
    """Conversations with events at or after ``since_ts`` in the journal (whole
    conversations: events before ``since_ts`` of those conversations are read too).

    The journal is opened read-only (:meth:`Journal.for_reading`): a report
    never changes it, and works on one this user may not write."""
    from hitl_console.store.journal import Journal

    config = config or Config()
    journal_path = path if path else config.journal.path
    with Journal.for_reading(journal_path, retention_days=config.journal.retention_days) as journal:
        ids = journal.conversation_ids(since_ts) if since_ts is not None else None
        return replay_journal(journal.iter_events(conversation_ids=ids), config)


def digest_pairs(pairs: Iterable[tuple[str, Event]], config: Config | None = None) -> list["Digest"]:
    """``replay_journal`` streamed: each conversation leaves the engine once it
    is over, reduced to a :class:`~hitl_console.analysis.digest.Digest` (what the
    report reads), so a month of traffic takes memory for its open
    conversations and one small record per conversation."""
    from hitl_console.analysis.digest import DigestSink
    from hitl_console.engine.engine import SignalEngine
    from hitl_console.engine.replay import replay_feed_events

    sink = DigestSink()
    replay_feed_events(SignalEngine(config), pairs, sink)
    return list(sink.digests())


def digest_recordings(paths: Sequence[str | Path], config: Config | None = None) -> list["Digest"]:
    """``load_recordings`` as digests (see :func:`digest_pairs`)."""
    from hitl_console.feeds.recording import read_events

    return digest_pairs((("", event) for event in read_events(paths)), config)


def digest_journal(path: str | Path | None = None, config: Config | None = None, since_ts: float | None = None) -> list["Digest"]:
    """``load_journal`` as digests (see :func:`digest_pairs`)."""
    from hitl_console.store.journal import Journal

    config = config or Config()
    journal_path = path if path else config.journal.path
    with Journal.for_reading(journal_path, retention_days=config.journal.retention_days) as journal:
        ids = journal.conversation_ids(since_ts) if since_ts is not None else None
        return digest_pairs(journal.iter_events(conversation_ids=ids), config)


def newest_ts(conversations: Iterable[ConversationState]) -> float | None:
    """The time of the newest event seen: "now" for relative ``--since`` values."""
    return max((c.last_ts for c in conversations), default=None)


# ---------------------------------------------------------------- the report


@dataclass(slots=True)
class TriggerRow:
    kind: str
    conversations: int
    firings: int
    escalated: int
    mean_score: float | None


@dataclass(slots=True)
class WorstRow:
    conversation_id: str
    queue: str
    topics: list[str]
    outcome: str | None
    escalated: bool
    score: Score


@dataclass(slots=True)
class Report:
    source: str
    window: TimeWindow
    generated_ts: float
    metrics: Metrics
    triggers: list[TriggerRow]
    worst: list[WorstRow]
    scores: dict[str, Score] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "window": {"start": self.window.start, "end": self.window.end, "description": self.window.describe()},
            "generated_ts": self.generated_ts,
            "metrics": self.metrics.to_dict(),
            "triggers": [
                {"kind": t.kind, "conversations": t.conversations, "firings": t.firings, "escalated": t.escalated, "mean_score": t.mean_score}
                for t in self.triggers
            ],
            "worst": [
                {
                    "conversation_id": w.conversation_id,
                    "queue": w.queue,
                    "topics": w.topics,
                    "outcome": w.outcome,
                    "escalated": w.escalated,
                    "score": w.score.to_dict(),
                }
                for w in self.worst
            ],
        }


def build_report(
    conversations: Iterable[ConversationState],
    *,
    window: TimeWindow | None = None,
    config: Config | None = None,
    verdicts: Mapping[tuple[str, str], bool] | None = None,
    source: str = "",
    worst_n: int = 10,
    options: MetricsOptions | None = None,
) -> Report:
    """Everything the report prints, computed once."""
    config = config or Config()
    window = window or TimeWindow()
    everything = list(conversations)
    states = window.select(everything)
    metrics = compute_metrics(everything, window=window, verdicts=verdicts, alerts=config.alerts, options=options)
    scores = score_all(states, config.thresholds)
    rows: list[TriggerRow] = []
    for kind in TRIGGER_KINDS:
        with_kind = [c for c in states if any(h.kind == kind for h in c.triggers)]
        if not with_kind:
            continue
        kind_scores = [scores[c.conversation_id].overall for c in with_kind if c.conversation_id in scores]
        rows.append(
            TriggerRow(
                kind,
                len(with_kind),
                sum(1 for c in with_kind for h in c.triggers if h.kind == kind),
                sum(c.escalated for c in with_kind),
                sum(kind_scores) / len(kind_scores) if kind_scores else None,
            )
        )
    rows.sort(key=lambda r: -r.conversations)
    worst_rows = [
        WorstRow(c.conversation_id, c.queue, list(c.topics), c.outcome, c.escalated, s) for c, s in worst(states, scores, worst_n)
    ]
    return Report(source, window, time.time(), metrics, rows, worst_rows, scores)


# ---------------------------------------------------------------- rendering


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def _num(v: float | None, fmt: str = ".1f") -> str:
    return "-" if v is None else format(v, fmt)


def _called_out(topics: Sequence[str], limit: int = 5) -> str:
    if not topics:
        return ""
    shown = ", ".join(one_line(t, 30) for t in topics[:limit])
    more = f" and {len(topics) - limit} more (see the table)" if len(topics) > limit else ""
    return f"; far below in: {shown}{more}"


def _summary_lines(r: Report) -> list[tuple[str, str]]:
    m = r.metrics
    t, s = m.time_to_escalation_turns, m.time_to_escalation_s
    csat = (
        f"mean {_num(m.csat.mean, '.2f')} (n={m.csat.count}); " + " ".join(f"{k}:{v}" for k, v in m.csat_distribution.items())
        if m.csat.count
        else "- (the feed sent none)"
    )
    repeat = (
        f"{_pct(m.repeat_contact_rate)} ({m.repeat_contacts} of {m.customers_with_id} with a customer id came back within 7 days)"
        if m.customers_with_id
        else "- (no customer ids)"
    )
    accuracy = (
        f"{_pct(m.escalation_accuracy)} of {m.accuracy_verdicts} escalations with a verdict really needed a human"
        if m.escalation_accuracy is not None
        else "- (no verdicts yet)"
    )
    return [
        ("Conversations", f"{m.conversations} ({m.ended} ended)"),
        ("Escalated", f"{m.escalated}: {m.escalation_band.message}"),
        ("Escalation accuracy", accuracy + (f"; {m.missed_escalations} missed" if m.missed_escalations else "")),
        ("Resolution", f"after escalation {_pct(m.post_escalation_resolution_rate)}, AI only {_pct(m.ai_only_resolution_rate)}"),
        ("Containment", f"{_pct(m.containment_rate)} overall" + _called_out(m.topics_called_out)),
        ("Time to escalation", f"median {_num(t.median, '.0f')} turns / {_num(s.median, '.0f')} s; p90 {_num(t.p90, '.0f')} turns / {_num(s.p90, '.0f')} s"),
        ("AI confidence", f"median {_num(m.confidence.median, '.2f')}, p90 {_num(m.confidence.p90, '.2f')} over {m.confidence.count} AI turns"),
        ("CSAT", csat),
        ("Repeat contact", repeat),
        ("Outcomes", ", ".join(f"{k} {v}" for k, v in sorted(m.outcomes.items())) or "-"),
    ]


def render_text(r: Report, *, color: bool = True, width: int = 80) -> str:
    """The report for a terminal, with charts."""
    m = r.metrics
    lines: list[str] = [f"hitl-console report: {one_line(r.source, 60) or 'conversations'}, {r.window.describe()}", ""]
    label_w = max(len(k) for k, _ in _summary_lines(r))
    lines += [f"{k:<{label_w}}  {v}" for k, v in _summary_lines(r)]
    chart_w = max(40, min(width, 110))
    if m.conversations:
        lines += ["", charts.escalation_rate_chart(m.escalation_trend, m.escalation_band.band, m.escalation_band.typical, width=chart_w, color=color)]
    lines += ["", "Containment by topic (far below overall marked !)"]
    lines.append(f"  {'topic':<24} {'ended':>6} {'contained':>9} {'rate':>7} {'gap':>7}")
    for row in m.containment_by_topic:
        mark = "!" if row.called_out else " "
        gap = "-" if row.gap is None else f"{number(row.gap * 100, '+.0f')} pt"
        lines.append(f"{mark} {one_line(row.topic, 24):<24} {row.conversations:>6} {row.contained:>9} {_pct(row.rate):>7} {gap:>7}")
    if m.containment_by_topic:
        lines += ["", charts.containment_chart(m.containment_by_topic, m.containment_rate, width=chart_w, color=color)]
    if any(b.value is not None for b in m.sentiment_trend):
        lines += ["", charts.sentiment_chart(m.sentiment_trend, width=chart_w, color=color)]
    if m.confidence.count:
        lines += ["", charts.confidence_chart(m.confidence_histogram, width=chart_w, color=color)]
    lines += ["", "Triggers", f"  {'kind':<15} {'conversations':>13} {'firings':>8} {'escalated':>10} {'mean score':>10}"]
    for t in r.triggers:
        lines.append(f"  {t.kind:<15} {t.conversations:>13} {t.firings:>8} {_pct(t.escalated / t.conversations):>10} {_num(t.mean_score, '.2f'):>10}")
    if not r.triggers:
        lines.append("  (none fired)")
    lines += ["", "Worst conversations (lowest score first)", f"  {'score':>5} {'src':<6} {'conversation':<20} {'queue':<12} {'outcome':<12} why"]
    why_at = 2 + 5 + 1 + 6 + 1 + 20 + 1 + 12 + 1 + 12 + 1  # the columns before "why" ("transferred*" is 12)
    for w in r.worst:
        head = (
            f"  {w.score.overall:>5.2f} {w.score.source:<6} {one_line(w.conversation_id, 20):<20} {one_line(w.queue or '-', 12):<12} "
            f"{(w.outcome or 'open') + ('*' if w.escalated else ''):<12} "
        )
        # Wrapped under its column, never cut: the why is the point of the row. Under 18
        # columns left (a narrow terminal) it goes on the lines below, indented.
        at = why_at if width - why_at >= 18 else 8
        why = textwrap.wrap(one_line(w.score.why()), width=max(18, width - at)) or ["-"]
        if at == why_at:
            lines.append(head.ljust(why_at) + why.pop(0))
        else:
            lines.append(head.rstrip())
        lines += [" " * at + more for more in why]
    if r.worst:
        lines.append("  (* escalated)")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return one_line(text).replace("|", "\\|")


def render_markdown(r: Report) -> str:
    """The report in Markdown (charts as plain fenced blocks)."""
    m = r.metrics
    out = ["# hitl-console report", "", f"{_md_cell(r.source or 'conversations')}, {r.window.describe()}", "", "| figure | value |", "|---|---|"]
    out += [f"| {k} | {_md_cell(v)} |" for k, v in _summary_lines(r)]
    if m.conversations:
        out += ["", "## Escalation rate over time", "", "```text", charts.escalation_rate_chart(m.escalation_trend, m.escalation_band.band, m.escalation_band.typical, color=False), "```"]
    out += ["", "## Containment by topic", "", "| topic | ended | contained | rate | gap | far below |", "|---|---:|---:|---:|---:|---|"]
    for row in m.containment_by_topic:
        gap = "-" if row.gap is None else f"{number(row.gap * 100, '+.0f')} pt"
        out.append(f"| {_md_cell(row.topic)} | {row.conversations} | {row.contained} | {_pct(row.rate)} | {gap} | {'yes' if row.called_out else ''} |")
    if m.containment_by_topic:
        out += ["", "```text", charts.containment_chart(m.containment_by_topic, m.containment_rate, color=False), "```"]
    out += ["", "## Triggers", "", "| kind | conversations | firings | escalated | mean score |", "|---|---:|---:|---:|---:|"]
    for t in r.triggers:
        out.append(f"| {t.kind} | {t.conversations} | {t.firings} | {_pct(t.escalated / t.conversations)} | {_num(t.mean_score, '.2f')} |")
    out += ["", "## Worst conversations", "", "| score | source | conversation | queue | outcome | escalated | why |", "|---:|---|---|---|---|---|---|"]
    for w in r.worst:
        out.append(
            f"| {w.score.overall:.2f} | {w.score.source} | {_md_cell(w.conversation_id)} | {_md_cell(w.queue or '-')} | "
            f"{w.outcome or 'open'} | {'yes' if w.escalated else ''} | {_md_cell(w.score.why())} |"
        )
    return "\n".join(out) + "\n"


def render_json(r: Report) -> str:
    """Figures only, no charts."""
    return terminal_safe_json(json.dumps(r.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def render(r: Report, fmt: str, *, color: bool = True, width: int = 80) -> str:
    """``fmt``: ``text`` | ``md`` | ``json``."""
    if fmt == "json":
        return render_json(r)
    if fmt == "md":
        return render_markdown(r)
    return render_text(r, color=color, width=width)


__all__ = [
    "Report",
    "TriggerRow",
    "WorstRow",
    "build_report",
    "digest_journal",
    "digest_pairs",
    "digest_recordings",
    "load_journal",
    "load_recordings",
    "newest_ts",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "replay",
]
