"""``hitl-console review export|queue``: reviewed examples out, review queues listed.

``review queue`` over the journal also *puts* the selected conversations in
the journal's review tables (idempotently), so that reviewers' consoles can
claim them; over recordings it only lists.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from hitl_console.analysis.report import load_journal, load_recordings
from hitl_console.analysis.review import build_queues, describe_entry, enqueue, export_records, queue_specs, write_jsonl
from hitl_console.analysis.timewin import parse_since
from hitl_console.commands.common import config_or_exit, fail
from hitl_console.feeds.recording import RecordingError
from hitl_console.commands.report import resolve_journal
from hitl_console.config import Config
from hitl_console.store.reviews import ReviewStore
from hitl_console.text import one_line


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    if args.review_command == "export":
        return _export(args, config)
    return _queue(args, config)


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


def _queue(args: argparse.Namespace, config: Config) -> int:
    specs = queue_specs(config)
    if args.role and not any(args.role in (s.role, s.name) for s in specs):
        known = ", ".join(sorted({s.role for s in specs} | {s.name for s in specs}))
        return fail(f"no review queue for role {args.role!r} (known: {known})", 2)
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
        for entry in entries:
            print(describe_entry(entry))
        print(f"{len(entries)} item(s)", file=sys.stderr)
        return 0
    path = resolve_journal(args.journal, config.journal.path)
    if not path.exists():
        return fail(f"no journal at {path} (give recordings, or --journal FILE)")
    conversations = load_journal(path, config)
    entries = build_queues(conversations.values(), config)
    with ReviewStore.open(path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days) as store:
        added = enqueue(store, entries)
        items = [i for i in store.items(status="open") if args.role is None or args.role in (i.role, i.queue)]
        for item in items:
            holder = f"claimed by {one_line(item.claimed_by, 20)}" if item.claimed() else "free"
            why = (item.snapshot or {}).get("score") or {}
            print(
                f"{item.score:5.2f}  {item.queue:<11} {one_line(item.conversation_id, 18):<18} {item.reason:<14} "
                f"{holder:<24} {one_line('; '.join(why.get('notes') or []), 60)}"
            )
    print(f"{len(items)} open item(s), {added} newly queued", file=sys.stderr)
    return 0
