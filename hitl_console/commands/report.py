"""``hitl-console report FILE...|--journal [FILE] [--since WHEN] [--format text|md|json]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hitl_console.analysis.report import build_report, digest_journal, digest_recordings, newest_ts, render
from hitl_console.analysis.timewin import TimeWindow, parse_since
from hitl_console.commands.common import config_or_exit, fail, output_width
from hitl_console.commands.sources import SourceMissing, journal_verdicts, past_source
from hitl_console.feeds.recording import RecordingError
from hitl_console.store.journal import JournalError


def want_color(stream: object = None) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    verdicts: dict[tuple[str, str], bool] = {}
    try:
        chosen = past_source(args, config)
        if chosen.journal is not None:
            path = chosen.journal
            # The journal is live data: a relative --since counts back from now.
            start = parse_since(args.since) if args.since else None
            conversations = digest_journal(path, config, start)
            verdicts = journal_verdicts(path, config)
            source = str(path)
        else:
            files = chosen.files
            conversations = digest_recordings(files, config)
            # Recordings: a relative --since counts back from the newest event in them.
            start = parse_since(args.since, newest_ts(conversations)) if args.since else None
            source = ", ".join(Path(f).name for f in files)
    except SourceMissing as error:
        return fail(str(error))
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
