"""``hitl-console`` (no subcommand), ``hitl-console demo`` and ``hitl-console replay``.

Everything that can be wrong with the command line or the config is found
here, before the full-screen app takes the terminal: a bad config, a feed
URL with an unknown scheme, a missing recording, a token variable that is
not set. Each prints one clear message and exits with status 2, because an
error shown inside a TUI that then vanishes is an error nobody reads.

Textual draws on the terminal (stderr), so the console logs to a file of
its own, :func:`hitl_console.paths.log_path`.

Demo and replay sessions never write to the production journal
(:func:`journal_for`): their conversations, alerts and verdicts go to the
sandbox journal :func:`hitl_console.paths.sandbox_journal_path`, so that
``report --journal`` and the review queues only ever count real work.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hitl_console.commands.common import config_or_exit, fail
from hitl_console.config import Config
from hitl_console.paths import journal_path as production_journal_path
from hitl_console.paths import log_path, prepare_parent, private_file, sandbox_journal_path
from hitl_console.redaction import RedactingFilter

log = logging.getLogger("hitl_console.console")

EXIT_USAGE = 2
LOG_BYTES = 5_000_000
LOG_BACKUPS = 3


class UsageError(Exception):
    """A problem with the command line or the config, found before the app starts."""


@dataclass(slots=True)
class Plan:
    mode: str  # live | demo | replay
    specs: list  # list[FeedSpec]
    speed: float = 1.0
    seed: int = 7


def setup_logging() -> None:
    """Log to a rotating file; nothing may write to the terminal Textual draws on."""
    path = log_path()
    try:
        prepare_parent(path)  # the data directory: 0700
        private_file(path)  # 0600 (tightened if older and wider); rotation renames it, keeping the mode
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # an unwritable log must not stop supervision
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())  # no record reaches the file with a token in it
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("websockets", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _token(variable: str | None, url: str) -> str | None:
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UsageError(f"{url}: the token variable {variable} is not set (or empty)")
    return value


def plan_feeds(args: argparse.Namespace, config: Config) -> Plan:
    """What to connect to, from the subcommand, ``--feed`` and the config."""
    from hitl_console.feeds.base import safe_url
    from hitl_console.feeds.file import file_path
    from hitl_console.feeds.hub import FeedSpec, is_live_url, open_source, spec_for_path

    command = getattr(args, "command", None)
    if command == "demo":
        if args.speed <= 0:
            raise UsageError("--speed must be positive")
        return Plan("demo", [], speed=args.speed, seed=args.seed)
    if command == "replay":
        if args.speed <= 0:
            raise UsageError("--speed must be positive")
        specs = [spec_for_path(path, speed=args.speed, fast=args.fast) for path in args.files]
        mode = "replay"
    else:
        urls: list[str] = list(getattr(args, "feed", []) or [])
        if urls:
            specs = [FeedSpec(url=url, token=_token(args.token_env, safe_url(url))) for url in urls]
        elif config.feeds:
            specs = []
            for feed in config.feeds:
                if feed.token_env:
                    _token(feed.token_env, safe_url(feed.url))
                specs.append(FeedSpec.from_config(feed))
        else:
            return Plan("demo", [])
        mode = "live"
    for spec in specs:
        try:
            open_source(spec)  # constructors only check the address; nothing connects yet
        except ValueError as error:
            raise UsageError(str(error)) from None
        if not is_live_url(spec.url):
            path = file_path(spec.url)
            if not path.is_file():
                raise UsageError(f"{path}: no such recording")
            if mode == "live":
                mode = "replay" if all(not is_live_url(s.url) for s in specs) else "live"
    return Plan(mode, specs)


def journal_for(plan: Plan, args: argparse.Namespace, config: Config) -> str:
    """The journal file of this session.

    Live: ``--journal``, else ``journal.path`` of the config, else the XDG
    default. Demo and replay: ``--journal`` if it is not the production
    journal, else the sandbox journal (``demo.sqlite3`` in the data directory).
    ``--no-journal``: ``":memory:"`` (nothing on disk).
    """
    if getattr(args, "no_journal", False):
        return ":memory:"
    explicit = getattr(args, "journal", None)
    production = Path(config.journal.path) if config.journal.path else production_journal_path()
    if plan.mode == "live":
        return str(explicit or production)
    if explicit is None:
        return str(sandbox_journal_path())
    if Path(explicit).expanduser().resolve() == production.expanduser().resolve():
        raise UsageError(
            f"{plan.mode} never writes to the production journal {production}: "
            f"leave out --journal (it then uses {sandbox_journal_path()}), or name another file"
        )
    return str(explicit)


def _on_a_terminal() -> bool:
    import sys

    try:
        return bool(sys.__stdin__ and sys.__stdin__.isatty() and sys.__stderr__ and sys.__stderr__.isatty())
    except (ValueError, OSError):
        return False


def in_browser() -> bool:
    """Run by ``hitl-console serve`` for a browser tab: textual-serve starts
    each tab's console with Textual's web driver, on pipes, not a terminal."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


@dataclass(slots=True)
class Prepared:
    """A console session as the command line and the config describe it, checked."""

    config: Config
    plan: Plan
    journal_path: str
    agent: str


def prepare(args: argparse.Namespace) -> Prepared:
    """Check everything that can be wrong before anything starts (the app, or
    ``serve``'s web server); raises :class:`UsageError` with the message."""
    config = config_or_exit(args)
    plan = plan_feeds(args, config)
    journal_path = journal_for(plan, args, config)
    if config.ui.keymap:
        from hitl_console.tui.keymap import keymap_problems

        problems = keymap_problems(config.ui.keymap)
        if problems:
            raise UsageError("; ".join(problems))
    override = getattr(args, "agent", None)
    agent = config.agent_name(override)
    if (override is not None and not override.strip()) or not agent.strip():
        raise UsageError("--agent must name someone: it is who the platform is told holds a chat")
    return Prepared(config, plan, journal_path, agent)


def _refuse(message: str) -> int:
    """Exit 2 with ``message``; in a browser tab also show it there, because
    the tab's stderr only reaches the server's log."""
    status = fail(message, EXIT_USAGE)
    if in_browser():
        from hitl_console.tui.notice import NoticeApp

        NoticeApp(message).run()
    return status


def run(args: argparse.Namespace) -> int:
    """Build the session and run the app; returns the exit status."""
    try:
        prepared = prepare(args)
    except UsageError as error:
        return _refuse(str(error))
    config, plan, journal_path, agent = prepared.config, prepared.plan, prepared.journal_path, prepared.agent
    if not (_on_a_terminal() or in_browser()):
        return fail(
            "the console needs a terminal: it draws on stderr, which is redirected or not a TTY "
            f"(its own log is {log_path()}; for headless use see 'hitl-console analyze' and 'record'; "
            "for a browser, 'hitl-console serve')",
            EXIT_USAGE,
        )
    setup_logging()

    from hitl_console.session import LiveSession
    from hitl_console.store.journal import Journal, JournalError

    try:
        # lock: one console writes a journal (a second one would journal every alert twice)
        journal = Journal(journal_path, retention_days=config.journal.retention_days, lock=journal_path != ":memory:")
    except JournalError as error:
        return _refuse(f"journal: {error} (use --no-journal to run without one)")

    connect: Callable[[], Awaitable[LiveSession]]
    if plan.mode == "demo":

        async def connect() -> LiveSession:
            return await LiveSession.demo(config, agent=agent, journal=journal, speed=plan.speed, seed=plan.seed)

    else:

        async def connect() -> LiveSession:
            # Made on the app's event loop: the session's tasks and events belong to it.
            return LiveSession(config, plan.specs, agent=agent, journal=journal, mode=plan.mode)  # type: ignore[arg-type]

    from hitl_console.tui.app import HitlApp

    log.info("console starting: mode=%s feeds=%d agent=%s journal=%s", plan.mode, len(plan.specs), agent, journal_path)
    app = HitlApp(connect=connect, config=config, theme=getattr(args, "theme", None))
    mouse = config.ui.mouse and not getattr(args, "no_mouse", False)
    try:
        app.run(mouse=mouse)
    finally:
        try:
            journal.close()
        except Exception:
            log.exception("closing the journal")
    log.info("console stopped (status %s)", app.return_code)
    return int(app.return_code or 0)
