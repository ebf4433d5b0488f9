"""``hitl-console report FILE...|--journal [FILE] [--since WHEN] [--format text|md|json]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hitl_console.analysis.report import build_report, digest_journal, digest_recordings, newest_ts, render
from hitl_console.analysis.timewin import TimeWindow, parse_since
from hitl_console.commands.common import config_or_exit, fail, output_width
from hitl_console.feeds.recording import RecordingError
from hitl_console.paths import journal_path
from hitl_console.store.journal import JournalError


def want_color(stream: object = None) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def resolve_journal(arg: str | None, config_path: Path | None) -> Path:
    """``--journal FILE``, else the config's journal, else the XDG default."""
    if arg:
        return Path(arg)
    return Path(config_path) if config_path else journal_path()


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    files: list[str] = list(args.files or [])
    use_journal = args.journal is not None or not files
    verdicts: dict[tuple[str, str], bool] = {}
    try:
        if use_journal:
            path = resolve_journal(args.journal, config.journal.path)
            if not path.exists():
                return fail(f"no journal at {path} (give recordings, or --journal FILE)")
            # The journal is live data: a relative --since counts back from now.
            start = parse_since(args.since) if args.since else None
            conversations = digest_journal(path, config, start)
            from hitl_console.store.reviews import ReviewStore

            with ReviewStore.open(
                path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days, readonly=True
            ) as store:
                verdicts = store.escalation_verdicts()
            source = str(path)
        else:
            for f in files:
                if not Path(f).exists():
                    return fail(f"{f}: no such file")
            conversations = digest_recordings(files, config)
            # Recordings: a relative --since counts back from the newest event in them.
            start = parse_since(args.since, newest_ts(conversations)) if args.since else None
            source = ", ".join(Path(f).name for f in files)
    except ValueError as error:
        return fail(str(error), 2)
    except JournalError as error:
        return fail(str(error))
    except RecordingError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"cannot read: {error}")
    report = build_report(
        conversations, window=TimeWindow(start, None), config=config, verdicts=verdicts, source=source
    )
    width = output_width(sys.stdout)  # the terminal's; into a pipe, COLUMNS or a wide default (not 80)
    sys.stdout.write(render(report, args.format, color=want_color() and args.format == "text", width=width))
    return 0
