"""``hitl-console calibrate FILE... [--band LO-HI] [--json]``."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from hitl_console.analysis.calibrate import calibrate, parse_band, render_calibration
from hitl_console.analysis.report import load_recordings
from hitl_console.commands.common import config_or_exit, fail
from hitl_console.feeds.recording import RecordingError
from hitl_console.commands.report import want_color


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    try:
        band = parse_band(args.band)
    except ValueError as error:
        return fail(str(error), 2)
    for f in args.files:
        if not Path(f).exists():
            return fail(f"{f}: no such file")
    try:
        conversations = load_recordings(args.files, config)
    except RecordingError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"cannot read: {error}")
    result = calibrate(conversations.values(), band=band, current=config.thresholds)
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        sys.stdout.write(render_calibration(result, color=want_color(), width=width))
    return 0 if result.recommended is not None else 1
