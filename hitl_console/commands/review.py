"""``hitl-console review export|queue|claim|release|verdict``: reviewed examples out,
review queues listed, and a reviewer's claim, release and verdict on one item.

``claim``/``release``/``verdict`` go through the team's ``hitl-claims`` bucket
first when the config names a team bus (``[team] nats``, or a ``nats://``
feed), exactly as a reviewer in a console does, so a reviewer on the command
line and one in a console never hold the same item; a verdict leaves the done
marker and is published to the team's history.

``review queue`` over the journal also *puts* the selected conversations in
the journal's review tables (idempotently), so that reviewers' consoles can
claim them; over recordings it only lists. Both print the same table, with
headers, wrapped to the terminal (status says "not queued" for recordings, "free" or "claimed by X"
for the journal); an unknown ``--role`` ends with status 2 and the known ones.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from hitl_console.analysis.report import load_journal, load_recordings
from hitl_console.analysis.review import QueueEntry, build_queues, enqueue, export_records, queue_specs, write_jsonl
from hitl_console.analysis.scorecard import Score
from hitl_console.analysis.timewin import parse_since
from hitl_console.commands.common import config_or_exit, fail, output_width
from hitl_console.feeds.recording import RecordingError
from hitl_console.commands.sources import resolve_journal
from hitl_console.config import Config
from hitl_console.engine.state import TRIGGER_KINDS, TRIGGER_NAMES
from hitl_console.feeds.base import redact
from hitl_console.store.journal import JournalError
from hitl_console.store.reviews import ClaimError, ReviewItem, ReviewStore, Verdict
from hitl_console.text import one_line

if TYPE_CHECKING:
    from hitl_console.feeds.claims import ClaimStore


def run(args: argparse.Namespace) -> int:
    if args.review_command in _ACTIONS:
        return claim_action(args)
    config = config_or_exit(args)
    try:
        if args.review_command == "export":
            return _export(args, config)
        return _queue(args, config)
    except JournalError as error:  # read-only, locked, newer schema: one line, not a traceback
        return fail(str(error))


def _export(args: argparse.Namespace, config: Config) -> int:
    path = resolve_journal(args.journal, config.journal.path)
    if not path.exists():
        return fail(f"no journal at {path} (give --journal FILE)")
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError as error:
        return fail(str(error), 2)
    with ReviewStore.open(
        path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days, readonly=True
    ) as store:
        reviewed = store.reviewed(since)
        missing = [r for r in reviewed if store.snapshot(r.conversation_id, feed=r.feed) is None]
        conversations = {}
        if missing:  # never queued (e.g. takeover verdicts only): rebuild from the journal's events
            from hitl_console.analysis.report import replay_journal

            conversations = replay_journal(
                store.journal.iter_events(
                    feeds={r.feed for r in missing}, conversation_ids={r.conversation_id for r in missing}
                ),
                config,
            )
        with ExitStack() as stack:
            out = sys.stdout if not args.output else stack.enter_context(open(args.output, "w", encoding="utf-8"))
            n = write_jsonl(export_records(store, since=since, conversations=conversations.values()), out)
    print(f"hitl-console: exported {n} reviewed example(s)" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0


class QueueRow(NamedTuple):
    """One line of ``review queue``, the same whether it came from recordings or the journal."""

    score: float
    review_queue: str
    conversation: str
    reason: str
    feed_queue: str
    triggers: tuple[str, ...]
    status: str
    why: str


def entry_row(entry: QueueEntry) -> QueueRow:
    """A conversation selected from recordings (listed, not queued)."""
    s = entry.state
    return QueueRow(entry.score.overall, entry.queue, s.conversation_id, entry.reason, s.queue or "-",
                    _kinds(h.kind for h in s.triggers), "not queued", entry.score.why())


def item_row(item: ReviewItem) -> QueueRow:
    """An open item of the journal's review tables."""
    snap = item.snapshot or {}
    score = snap.get("score")
    why = Score(**score).why() if isinstance(score, dict) else ""
    holder = f"claimed by {item.claimed_by}" if item.claimed() else "free"
    return QueueRow(item.score, item.queue, item.conversation_id, item.reason, str(snap.get("queue") or "-"),
                    _kinds(str(t.get("kind")) for t in snap.get("triggers") or [] if isinstance(t, dict)), holder, why)


def _kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """Each kind once, in the console's order (``TRIGGER_KINDS``), unknown ones after."""
    present = set(kinds)
    return tuple(k for k in TRIGGER_KINDS if k in present) + tuple(sorted(present - set(TRIGGER_KINDS)))


_HEADERS = ("score", "review queue", "conversation", "selected for", "status")
_CAPS = (5, 14, 24, 14, 30)
"""Widest each column gets; longer values are cut with an ellipsis."""


def print_queue(rows: list[QueueRow], out: IO[str]) -> None:
    """The listing with column headers: one line of columns per item, then, indented and
    wrapped to the width, its conversation queue, triggers (the console's words) and why.
    Two lines an item keep it readable at 80 columns, where eight columns would not fit."""
    width = output_width(out)
    cells = [
        (f"{r.score:.2f}", one_line(r.review_queue), one_line(r.conversation),
         one_line(r.reason.replace("_", " ")), one_line(r.status))
        for r in rows
    ]
    widths = [min(cap, max([len(h)] + [len(c[i]) for c in cells])) for i, (h, cap) in enumerate(zip(_HEADERS, _CAPS))]

    def line(values: tuple[str, ...]) -> str:
        parts = [one_line(v, w) for v, w in zip(values, widths)]
        return "  ".join([parts[0].rjust(widths[0])] + [p.ljust(w) for p, w in zip(parts[1:], widths[1:])]).rstrip()

    indent = " " * (widths[0] + 2)
    lines = [line(_HEADERS)]
    for r, c in zip(rows, cells):
        lines.append(line(c))
        triggers = ", ".join(TRIGGER_NAMES.get(k, k) for k in r.triggers) or "none"
        detail = f"queue {one_line(r.feed_queue)}; triggers: {triggers}; why: {one_line(r.why) or '-'}"
        lines += textwrap.wrap(detail, width=max(40, width), initial_indent=indent, subsequent_indent=indent + "  ")
    out.write("\n".join(lines) + "\n")


def _queue(args: argparse.Namespace, config: Config) -> int:
    specs = queue_specs(config)
    if args.role and not any(args.role in (s.role, s.name) for s in specs):
        roles = ", ".join(sorted({s.role for s in specs}))
        names = ", ".join(sorted({s.name for s in specs}))
        return fail(f"no review queue for role {args.role!r}; known roles: {roles} (queue names: {names})", 2)
    files = list(args.files or [])
    if files:
        for f in files:
            if not Path(f).exists():
                return fail(f"{f}: no such file")
        try:
            conversations = load_recordings(files, config)
        except RecordingError as error:
            return fail(str(error))
        entries = build_queues(conversations.values(), config, role=args.role)
        print_queue([entry_row(e) for e in entries], sys.stdout)
        print(f"{len(entries)} item(s) from recordings, listed only (over the journal they are queued)",
              file=sys.stderr)
        return 0
    path = resolve_journal(args.journal, config.journal.path)
    if not path.exists():
        return fail(f"no journal at {path} (give recordings, or --journal FILE)")
    conversations = load_journal(path, config)
    entries = build_queues(conversations.values(), config)
    with ReviewStore.open(path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days) as store:
        added = enqueue(store, entries)
        items = [i for i in store.items(status="open") if args.role is None or args.role in (i.role, i.queue)]
        print_queue([item_row(i) for i in items], sys.stdout)
    print(f"{len(items)} open item(s), {added} newly queued", file=sys.stderr)
    return 0


# ------------------------------------------------------------------ claim, release, verdict


def _team_bus(config: Config) -> tuple[str, str | None] | None:
    """Where a command-line reviewer's claims live: the team's bus of the config
    (``[team] nats``, else its first ``nats://`` feed), as for a console; None
    without one, or with ``[team] claims = false``."""
    from hitl_console.feeds.hub import FeedSpec
    from hitl_console.session.team import team_bus

    if not config.team.claims:
        return None
    return team_bus(config, [FeedSpec.from_config(feed) for feed in config.feeds])


TEAM_CONNECT_S = 10.0
"""How long a command-line reviewer waits for the team's claims bucket."""


async def _open_claims(bus: tuple[str, str | None], config: Config) -> "ClaimStore":
    """The team's ``hitl-claims`` bucket, with claims that last the review claim's TTL:
    a command line does not stay to renew them as a console does."""
    from hitl_console.feeds.claims import ClaimStore
    from hitl_console.session.team import console_name

    url, token = bus
    store = ClaimStore(url, token, console=console_name(), ttl_s=max(1.0, config.review.claim_ttl_s))
    try:
        await asyncio.wait_for(store.connect(), TEAM_CONNECT_S)
    except Exception as error:
        await store.close()
        where = ",".join(s.split("://", 1)[-1] for s in store.address.servers)
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise TeamUnavailable(redact(f"the team's claims bucket at {where} is not reachable ({text})", token)) from None
    return store


class TeamUnavailable(Exception):
    """The team's bus could not be used (the message says where and why, secrets masked)."""


def claim_action(args: argparse.Namespace) -> int:
    """``review claim|release|verdict ITEM``: like a reviewer in the console, through
    the team's claims bucket when the config names a team bus (so a reviewer here
    and one in a console never hold the same item), then in the journal."""
    config = config_or_exit(args)
    path = resolve_journal(args.journal, config.journal.path)
    if not path.exists():
        return fail(f"no journal at {path} (give --journal FILE)")
    reviewer = config.agent_name(getattr(args, "agent", None))
    bus = _team_bus(config)
    with ReviewStore.open(path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days) as reviews:
        if reviews.item(args.item) is None:
            return fail(f"no review item {args.item!r} in {path} (see 'hitl-console review queue')")
        try:
            return asyncio.run(_ACTIONS[args.review_command](args, config, reviews, reviewer, bus))
        except TeamUnavailable as error:
            return fail(f"{error}; nothing done")
        except (JournalError, ClaimError) as error:
            return fail(str(error))


async def _claim(args: argparse.Namespace, config: Config, reviews: ReviewStore, reviewer: str,
                 bus: tuple[str, str | None] | None) -> int:
    item = args.item
    claims = await _open_claims(bus, config) if bus is not None else None
    try:
        fresh = False
        if claims is not None:
            fresh = await claims.holder("review", item) != reviewer
            shared = await claims.claim("review", item, reviewer)
            if not shared.ok:
                return fail(f"{item} not claimed: {shared.error} (team claim)")
        if not reviews.claim(item, reviewer):
            if claims is not None and fresh:
                await claims.release("review", item, reviewer)
            current = reviews.item(item)
            holder = current.claimed_by if current is not None and current.claimed() else None
            return fail(f"{item} not claimed: " + (f"held by {holder}" if holder else "it is not open"))
        current = reviews.item(item)
        until = time.strftime("%H:%M", time.localtime(current.claim_expires)) if current and current.claim_expires else "?"
        team = " and in the team's claims" if claims is not None else ""
        print(f"{item} claimed for {reviewer} until {until}{team}")
        return 0
    finally:
        if claims is not None:
            await claims.close()


async def _release(args: argparse.Namespace, config: Config, reviews: ReviewStore, reviewer: str,
                   bus: tuple[str, str | None] | None) -> int:
    item = args.item
    released = reviews.release(item, reviewer)
    if bus is not None:
        claims = await _open_claims(bus, config)
        try:
            released = await claims.release("review", item, reviewer) or released
        finally:
            await claims.close()
    if not released:
        return fail(f"{reviewer} does not hold {item}")
    print(f"{item} released by {reviewer}")
    return 0


async def _verdict(args: argparse.Namespace, config: Config, reviews: ReviewStore, reviewer: str,
                   bus: tuple[str, str | None] | None) -> int:
    from hitl_console.feeds.history import publish_once
    from hitl_console.store.history import HistoryCache

    item = args.item
    claims = await _open_claims(bus, config) if bus is not None else None
    try:
        if claims is not None and await claims.holder("review", item) != reviewer:
            return fail(f"{reviewer} does not hold {item} in the team's claims (claim it first)")
        stored = reviews.record_verdict(item, reviewer, Verdict(args.verdict), args.note)
        if claims is not None:  # the claim becomes a done marker: no other reviewer takes the item up again
            await claims.finish("review", item, reviewer)
    finally:
        if claims is not None:
            await claims.close()
    print(f"{item}: {stored.verdict.value} by {reviewer}")
    if bus is not None and config.team.history:
        try:
            await publish_once(bus[0], bus[1], origin=HistoryCache(reviews.journal).origin, kind="review_verdict", agent=reviewer,
                               ts=stored.ts, item_id=item, conversation_id=stored.conversation_id, queue=stored.queue,
                               feed=stored.feed, verdict=stored.verdict.value, note=stored.note)
        except ConnectionError as error:
            print(f"hitl-console: the verdict is in the journal but not in the team's history: {error}", file=sys.stderr)
    return 0


_ACTIONS = {"claim": _claim, "release": _release, "verdict": _verdict}
