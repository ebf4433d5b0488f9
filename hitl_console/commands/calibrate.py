"""``hitl-console calibrate FILE...|--journal [FILE] [--band LO-HI] [--json]``.

Two recommendations from past conversations with outcomes: the trigger
thresholds (``analysis.calibrate``) and the risk score's weights
(``analysis.riskfit``), each with the config section to paste."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from hitl_console.analysis.calibrate import Sweep, parse_band, render_calibration
from hitl_console.analysis.riskfit import collect_examples, fit_risk, render_risk_fit
from hitl_console.commands.common import config_or_exit, fail
from hitl_console.commands.report import want_color
from hitl_console.commands.sources import SourceMissing, journal_verdicts, past_source
from hitl_console.feeds.recording import RecordingError
from hitl_console.protocol.events import Event
from hitl_console.store.journal import JournalError


def _journal_pairs(path: Path, retention_days: float) -> Iterator[tuple[str, Event]]:
    from hitl_console.store.journal import Journal

    with Journal.for_reading(path, retention_days=retention_days) as journal:
        yield from journal.iter_events()


def _recording_pairs(files: Iterable[str]) -> Iterator[tuple[str, Event]]:
    from hitl_console.feeds.recording import read_events

    for event in read_events(list(files)):
        yield "", event


def run(args: argparse.Namespace) -> int:
    config = config_or_exit(args)
    try:
        band = parse_band(args.band)
    except ValueError as error:
        return fail(str(error), 2)
    wire_verdicts: dict[tuple[str, str], bool] = {}
    try:
        chosen = past_source(args, config)
        if chosen.journal is not None:
            wire_verdicts = journal_verdicts(chosen.journal, config)
            pairs: Iterable[tuple[str, Event]] = _journal_pairs(chosen.journal, config.journal.retention_days)
        else:
            pairs = _recording_pairs(chosen.files)
        # Streamed: each conversation leaves memory once it is over, as a
        # profile for the threshold sweep and (its moments) for the risk fit.
        sweep = Sweep()
        data = collect_examples(pairs, config, wire_verdicts, on_state=sweep.add)
    except (SourceMissing, JournalError) as error:
        return fail(str(error))
    except RecordingError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"cannot read: {error}")
    result = sweep.result(band=band, current=config.thresholds)
    risk = fit_risk(data, config.risk)
    if args.json:
        out = result.to_dict()
        out["risk"] = risk.to_dict()
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        sys.stdout.write(render_calibration(result, color=want_color(), width=width))
        sys.stdout.write("\n" + render_risk_fit(risk))
    return 0 if result.recommended is not None else 1

