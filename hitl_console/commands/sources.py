"""Where a headless command reads past conversations: the journal or recordings.

``report`` and ``calibrate`` take recordings (``FILE...``) or a journal
(``--journal [FILE]``, the default with no files); both choose, check and
word a missing input here, and read the journal's escalation verdicts the
same way (read-only: a journal the user may not write still works)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from hitl_console.config import Config
from hitl_console.paths import journal_path


class SourceMissing(Exception):
    """The journal or a recording the command was pointed at does not exist (the
    message says which, and what to give instead)."""


@dataclass(frozen=True, slots=True)
class PastSource:
    """The journal to read (``journal``), or else the recordings (``files``)."""

    journal: Path | None
    files: list[str] = field(default_factory=list)


def resolve_journal(arg: str | None, config_path: Path | None) -> Path:
    """``--journal FILE``, else the config's journal, else the XDG default."""
    if arg:
        return Path(arg)
    return Path(config_path) if config_path else journal_path()


def past_source(args: argparse.Namespace, config: Config) -> PastSource:
    """The journal when ``--journal`` is given or no files are, else the files;
    raises :class:`SourceMissing` for one that does not exist."""
    files: list[str] = list(args.files or [])
    if args.journal is not None or not files:
        path = resolve_journal(args.journal, config.journal.path)
        if not path.exists():
            raise SourceMissing(f"no journal at {path} (give recordings, or --journal FILE)")
        return PastSource(path)
    for f in files:
        if not Path(f).exists():
            raise SourceMissing(f"{f}: no such file")
    return PastSource(None, files)


def journal_verdicts(path: Path, config: Config) -> dict[tuple[str, str], bool]:
    """The supervisors' escalation verdicts in a journal, by (feed, conversation)."""
    from hitl_console.store.reviews import ReviewStore

    with ReviewStore.open(path, claim_ttl_s=config.review.claim_ttl_s, retention_days=config.journal.retention_days, readonly=True) as store:
        return store.escalation_verdicts()
