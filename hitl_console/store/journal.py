"""The journal: an append-only SQLite record of what the console saw and did.

Every accepted event, every rejected frame, every supervisor command (who,
what, when) and its outcome (ack, refusal, timeout), and every alert is
written here, so that a restart rebuilds live state from disk and nothing a
feed acknowledged is forgotten. ``hitl-console report`` and the review tools
read the same file after the fact.

Design choices, and why:

* **WAL mode.** Readers (a ``report`` run, a review screen in a worker
  thread with its own :class:`Journal`) never block the writer and the
  writer never blocks them; a live floor must not stall on a report.
* **``synchronous=NORMAL``.** Under WAL this syncs at checkpoints rather
  than at every commit. A committed batch survives a crash of the process;
  a power cut can lose the last batches, which the feed resends anyway
  because the console resumes with ``since=last_seq``. ``FULL`` would cost
  an fsync per batch on a busy floor for no gain in what a supervisor sees.
* **One transaction per batch** (:meth:`Journal.append_events`): a frame
  with fifty events is one commit, not fifty.
* **Idempotent on (feed, seq).** A reconnect that resends events, or a
  replay of the same recording, never duplicates rows.
* **Retention by local receive time.** :meth:`Journal.prune` deletes what
  was *received* more than ``retention_days`` ago, so that replaying an old
  recording does not delete it the moment it is written.

One connection is used from one thread (the asyncio loop thread of the
console). A worker thread that wants to read opens its own ``Journal`` on
the same path; WAL lets it run alongside the writer.

**One writing console per file** (``lock=True``, what the console uses): a
second console on the same journal would journal every alert twice and
interleave two floors' commands. The writer holds an ``fcntl.flock`` on
``<journal>.lock`` (which names its pid) for as long as it runs; a second
writer gets :class:`JournalLocked` with a message that says who holds it.
Readers (``report``, ``review export``) take no lock and open the file
**read-only** (``readonly=True``): they work on a journal they may not
write (another user's, a read-only mount) and never change it.

**Private files.** A writer creates the journal ``0600`` (SQLite gives its
``-wal`` and ``-shm`` the same mode) and tightens an existing one, and the
data directory is ``0700`` (:mod:`hitl_console.paths`). Alert text is passed
through :func:`hitl_console.feeds.base.redact` before it is stored.

Extension point (for tables owned by other parts, e.g. reviews, verdicts)::

    journal.register_schema(
        "reviews", 1,
        "CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY, conversation_id TEXT, ...);",
        migrations={2: "ALTER TABLE reviews ADD COLUMN reviewer TEXT;"},
        prune="DELETE FROM reviews WHERE ts < :cutoff",
    )
    with journal.transaction() as conn:
        conn.execute("INSERT INTO reviews ...", (...))

``register_schema`` is idempotent: call it every time the journal is opened.
It creates the tables the first time, runs the numbered migrations when the
file holds an older version, and refuses a file written by a newer version.
A migration is SQL, or a function of the connection for changes SQL alone
cannot express (filling a new column from other tables); either runs in the
transaction that records the new version, so a failed migration changes nothing.
The optional ``prune`` statement (with a ``:cutoff`` parameter, UNIX seconds)
runs inside :meth:`Journal.prune`; leave it out to keep rows forever.
``journal.connection`` is the raw :class:`sqlite3.Connection` for reads.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import math
import os
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from hitl_console.feeds.base import CommandResult, redact
from hitl_console.paths import journal_path, prepare_parent, private_file
from hitl_console.protocol.decode import RejectedFrame
from hitl_console.protocol.events import SEQ_MAX, SEQ_MIN, TS_MAX, TS_MIN, AnyCommand, Event, Fingerprint, event_adapter

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""Version of the core tables below; bump it and add a MIGRATIONS entry to change them."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id              INTEGER PRIMARY KEY,
    feed            TEXT    NOT NULL,
    generation      INTEGER NOT NULL DEFAULT 0, -- the feed's seq numbering: +1 at each restart
    seq             INTEGER NOT NULL,
    ts              REAL    NOT NULL,          -- the event's own time (feed clock)
    received_at     REAL    NOT NULL,          -- local wall time it was journaled
    conversation_id TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    body            TEXT    NOT NULL,          -- the event in wire form (JSON)
    UNIQUE (feed, generation, seq)
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS events_conversation ON events (conversation_id);
CREATE TABLE IF NOT EXISTS rejected (
    id              INTEGER PRIMARY KEY,
    feed            TEXT    NOT NULL,
    received_at     REAL    NOT NULL,
    reason          TEXT    NOT NULL,
    excerpt         TEXT    NOT NULL,
    type            TEXT,
    seq             INTEGER,
    conversation_id TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    request_id      TEXT PRIMARY KEY,
    feed            TEXT    NOT NULL,
    ts              REAL    NOT NULL,          -- when the console sent it
    agent           TEXT    NOT NULL,
    op              TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    payload         TEXT    NOT NULL,          -- the command in wire form (JSON)
    ok              INTEGER,                   -- NULL until an outcome is recorded
    error           TEXT,
    timed_out       INTEGER NOT NULL DEFAULT 0,
    sent            INTEGER NOT NULL DEFAULT 1,
    ack_ts          REAL,
    latency_s       REAL
);
CREATE INDEX IF NOT EXISTS commands_conversation ON commands (conversation_id);
CREATE INDEX IF NOT EXISTS commands_ts ON commands (ts);
CREATE TABLE IF NOT EXISTS alerts (
    id              INTEGER PRIMARY KEY,
    ts              REAL    NOT NULL,
    level           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    conversation_id TEXT,
    key             TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
"""
"""The whole core schema, in one place. Statements are idempotent."""

Migration = str | Callable[[sqlite3.Connection], None]
"""SQL statements, or a function of the connection (see the module docstring)."""

def _events_generation(conn: sqlite3.Connection) -> None:
    """v2: events get a ``generation`` (a feed that restarted its seq numbering
    journals the new numbering beside the old, not into it), and the unique key
    becomes (feed, generation, seq). SQLite cannot change a constraint in
    place, so the table is rebuilt; every existing row is generation 0."""
    events_ddl = next(s for s in split_sql(SCHEMA) if s.startswith("CREATE TABLE IF NOT EXISTS events"))
    conn.execute(events_ddl.replace("IF NOT EXISTS events", "events_v2"))
    conn.execute(
        "INSERT INTO events_v2 (id, feed, generation, seq, ts, received_at, conversation_id, type, body) "
        "SELECT id, feed, 0, seq, ts, received_at, conversation_id, type, body FROM events"
    )
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_v2 RENAME TO events")
    for statement in split_sql(SCHEMA):
        if statement.startswith("CREATE INDEX IF NOT EXISTS events_"):
            conn.execute(statement)


MIGRATIONS: dict[int, Migration] = {2: _events_generation}
"""``{n: migration}`` turns a version ``n - 1`` file into version ``n``; run in order at open."""

MAX_REJECTED = 10_000
"""Rejected frames kept (newest win): enough to diagnose a feed, bounded against a flood."""

DAY = 86_400.0
ITER_PAGE = 2_000
"""Rows fetched per query by :meth:`Journal.iter_events`."""


class JournalError(Exception):
    """The journal cannot be opened or used; the message says which file and why."""


class JournalLocked(JournalError):
    """Another process writes to this journal (it holds ``<journal>.lock``)."""


class JournalOutdated(JournalError):
    """A read-only journal whose tables are older than this version: it must be
    opened once with write access (which migrates it) before it can be read."""


class _AlertFields(Protocol):
    """What the journal keeps of an alert (``hitl_console.alerts.model.Alert`` has it)."""

    ts: float
    level: str
    kind: str
    text: str
    conversation_id: str | None
    key: str


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert as journaled: no id, and not whether it was acknowledged (both
    belong to one console's run). The journal sits below the alerts package,
    so it keeps its own record rather than importing the live model."""

    ts: float
    level: str
    kind: str
    text: str
    conversation_id: str | None = None
    key: str = ""


@dataclass(slots=True)
class CommandRecord:
    """One supervisor command as journaled, with its outcome once known.

    ``ok`` is None while no outcome has been recorded (the console stopped
    before the feed answered).
    """

    request_id: str
    ts: float
    agent: str
    op: str
    conversation_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    ok: bool | None = None
    error: str | None = None
    timed_out: bool = False
    ack_ts: float | None = None
    feed: str = ""
    sent: bool = True
    latency_s: float | None = None


@dataclass(slots=True)
class _Extension:
    name: str
    version: int
    prune: str | None


def _describe_path(path: str) -> str:
    return "in-memory journal" if path == ":memory:" else f"journal {path}"


class Journal:
    """The SQLite journal. See the module docstring for the design.

    ``path``: a file, ``":memory:"`` (nothing on disk, e.g. ``--no-journal``)
    or None for :func:`hitl_console.paths.journal_path`. Old rows are pruned
    at open and whenever :meth:`prune` is called (the live session does so
    periodically). ``timeout`` is how long to wait for another process that
    holds the write lock before giving up with :class:`JournalError`.

    ``readonly``: open an existing file without ever writing to it (no
    pruning, no table creation; writes raise :class:`JournalError`).
    ``lock``: be the one writer of the file (:class:`JournalLocked` if
    another process is); the console's own journal is opened so.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        retention_days: float = 30.0,
        timeout: float = 5.0,
        readonly: bool = False,
        lock: bool = False,
    ) -> None:
        if retention_days <= 0:
            raise ValueError("retention_days must be positive")
        self.path: str = str(path) if path is not None else str(journal_path())
        self.retention_days = float(retention_days)
        self.readonly = bool(readonly)
        self._extensions: dict[str, _Extension] = {}
        self._generations: dict[str, int] = {}
        self._closed = False
        self._lock_fd: int | None = None
        where = _describe_path(self.path)
        memory = self.path == ":memory:"
        if self.readonly:
            if memory:
                raise ValueError("an in-memory journal cannot be read-only")
            self._conn = self._connect_readonly(timeout)
        else:
            if not memory:
                file = Path(self.path)
                try:
                    prepare_parent(file)
                except OSError as error:
                    raise JournalError(f"{where}: cannot create its directory: {error.strerror or error}") from None
                if lock:
                    self._take_lock()
                try:
                    private_file(file)
                    for suffix in ("-wal", "-shm"):
                        if Path(self.path + suffix).exists():
                            private_file(Path(self.path + suffix))
                except PermissionError:
                    pass  # a read-only file or directory: sqlite says so below, in its words
                except OSError as error:
                    self._release_lock()
                    raise JournalError(f"{where}: cannot create: {error.strerror or error}") from None
            try:
                # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per batch.
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            except sqlite3.Error as error:
                self._release_lock()
                raise JournalError(f"{where}: cannot open: {error}") from None
        try:
            if self.readonly:
                self._check_readonly()
            else:
                self._setup()
                self.prune()
        except JournalError:
            self._conn.close()
            self._release_lock()
            raise
        except sqlite3.Error as error:
            self._conn.close()
            self._release_lock()
            raise JournalError(self._explain(error)) from None

    @classmethod
    def for_reading(cls, path: Path | str | None = None, *, retention_days: float = 30.0) -> "Journal":
        """Open ``path`` read-only, as ``report`` and ``review export`` do. A file
        written by an older version is first upgraded in place when this user
        may write it (:class:`JournalOutdated` otherwise)."""
        try:
            return cls(path, retention_days=retention_days, readonly=True)
        except JournalOutdated:
            cls(path, retention_days=retention_days).close()  # migrates, or says why it cannot
            return cls(path, retention_days=retention_days, readonly=True)

    # ------------------------------------------------------------ read-only files and the writer lock

    def _connect_readonly(self, timeout: float) -> sqlite3.Connection:
        where = _describe_path(self.path)
        file = Path(self.path)
        if not file.exists():
            raise JournalError(f"no journal at {self.path}")
        if not os.access(file, os.R_OK):
            raise JournalError(f"{where}: cannot read it (permission denied)")
        uri = "file:" + urllib.parse.quote(str(file.resolve()))
        try:
            conn = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=timeout, isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as error:
            # "unable to open" or, for a WAL file, "attempt to write a readonly
            # database" (SQLITE_READONLY_CANTINIT): both mean SQLite could not
            # make the -shm it wants in a directory we may not write.
            if not any(sign in str(error) for sign in ("unable to open", "readonly database")):
                raise JournalError(self._explain(error)) from None
        # A WAL file in a directory we may not write, with no -shm beside it:
        # SQLite cannot make one. No -shm means no writer has the file open,
        # so reading it as an immutable file is exact.
        try:
            conn = sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, timeout=timeout, isolation_level=None)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as error:
            raise JournalError(self._explain(error)) from None

    def _check_readonly(self) -> None:
        where = _describe_path(self.path)
        has_meta = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        current = self._meta_int("schema_version") if has_meta else None
        if current is None:
            raise JournalError(f"{where} is not a hitl-console journal (it has no schema version)")
        if current > SCHEMA_VERSION:
            raise JournalError(f"{where} was written by a newer hitl-console (schema {current}, this one knows {SCHEMA_VERSION})")
        if current < SCHEMA_VERSION:
            raise JournalOutdated(
                f"{where} has schema {current}, older than this version's {SCHEMA_VERSION}: "
                "open it once with write access (start the console on it) to upgrade it"
            )

    def _take_lock(self) -> None:
        lock_path = Path(self.path + ".lock")
        try:
            private_file(lock_path)
            fd = os.open(lock_path, os.O_RDWR)
        except OSError as error:
            raise JournalError(f"{_describe_path(self.path)}: cannot create its lock file {lock_path}: {error.strerror or error}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise JournalLocked(
                f"{_describe_path(self.path)} is in use by another hitl-console{who}: one console writes a journal; "
                "use that console, or start this one with --journal OTHER_FILE (or --no-journal, which keeps nothing)"
            ) from None
        except OSError as error:
            os.close(fd)
            raise JournalError(f"{_describe_path(self.path)}: cannot lock {lock_path}: {error.strerror or error}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing the descriptor releases the flock

    # ------------------------------------------------------------ setup

    def _explain(self, error: sqlite3.Error | OSError) -> str:
        where = _describe_path(self.path)
        text = str(error)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC or "disk is full" in text:
            return f"{where}: the disk is full ({text})"
        if "not a database" in text or "malformed" in text:
            return f"{where} is not a hitl-console journal (not an SQLite database, or corrupt): {text}"
        if "locked" in text or "busy" in text:
            return f"{where} is locked by another process (is another hitl-console writing to it?): {text}"
        if "readonly" in text or "read-only" in text:
            return f"{where} is read-only: {text}"
        return f"{where}: {text}"

    def _setup(self) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if self.path != ":memory:" and str(mode).lower() != "wal":
            raise JournalError(f"{_describe_path(self.path)}: cannot switch to WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with self.transaction():
            self._script("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            current = self._meta_int("schema_version")
            if current is None:
                self._script(SCHEMA)
                self._set_meta("schema_version", str(SCHEMA_VERSION))
                self._set_meta("created_at", repr(time.time()))
            elif current > SCHEMA_VERSION:
                raise JournalError(
                    f"{_describe_path(self.path)} was written by a newer hitl-console "
                    f"(schema {current}, this one knows {SCHEMA_VERSION})"
                )
            elif current < SCHEMA_VERSION:
                self._migrate("schema_version", current, SCHEMA_VERSION, MIGRATIONS, "core")

    def _script(self, sql: str) -> None:
        """Run several statements inside the current transaction.

        ``executescript`` would COMMIT first; splitting keeps a schema change
        atomic with the version number recorded for it.
        """
        for statement in split_sql(sql):
            self._conn.execute(statement)

    def _migrate(self, key: str, have: int, want: int, migrations: Mapping[int, Migration], name: str) -> None:
        for version in range(have + 1, want + 1):
            step = migrations.get(version)
            if step is None:
                raise JournalError(
                    f"{_describe_path(self.path)}: no migration of {name} tables to version {version} "
                    f"(the file has version {have})"
                )
            log.info("journal: migrating %s tables to version %d", name, version)
            if isinstance(step, str):
                self._script(step)
            else:
                step(self._conn)
        self._set_meta(key, str(want))

    def _meta_int(self, key: str) -> int | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # ------------------------------------------------------------ extension point

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection (autocommit mode: wrap writes in :meth:`transaction`)."""
        return self._conn

    @property
    def schema_version(self) -> int:
        """Version of the core tables in this file."""
        return self._meta_int("schema_version") or 0

    def extension_version(self, name: str) -> int | None:
        """Version of an extension's tables in this file, or None if never registered."""
        return self._meta_int(f"schema:{name}")

    def register_schema(
        self,
        name: str,
        version: int,
        ddl: str,
        *,
        migrations: Mapping[int, Migration] | None = None,
        prune: str | None = None,
    ) -> None:
        """Create or upgrade the tables of an extension (see the module docstring).

        ``ddl`` creates version ``version`` from nothing; ``migrations[n]``
        upgrades version ``n - 1`` to ``n``. The version is stored in ``meta``
        under ``schema:<name>``, in the same transaction as the change.

        On a read-only journal nothing is created: an extension that was never
        registered in the file is simply absent (:meth:`has_extension` is
        False), and an older one raises :class:`JournalOutdated`.
        """
        if not name or version < 1:
            raise ValueError("an extension needs a name and a version >= 1")
        where = _describe_path(self.path)
        if self.readonly:
            have = self._meta_int(f"schema:{name}")
            if have is not None and have > version:
                raise JournalError(f"{where}: tables of {name!r} have version {have}, newer than {version}")
            if have is not None and have < version:
                raise JournalOutdated(
                    f"{where}: tables of {name!r} have version {have}, older than {version}: "
                    "open it once with write access (start the console on it) to upgrade it"
                )
            if have is not None:
                self._extensions[name] = _Extension(name, version, prune)
            return
        try:
            with self.transaction():
                key = f"schema:{name}"
                have = self._meta_int(key)
                if have is None:
                    self._script(ddl)
                    self._set_meta(key, str(version))
                elif have > version:
                    raise JournalError(f"{where}: tables of {name!r} have version {have}, newer than {version}")
                elif have < version:
                    self._migrate(key, have, version, migrations or {}, repr(name))
        except sqlite3.Error as error:
            raise JournalError(f"{where}: cannot set up tables of {name!r}: {error}") from None
        self._extensions[name] = _Extension(name, version, prune)

    def has_extension(self, name: str) -> bool:
        """Whether the tables of extension ``name`` exist in this file (and were registered)."""
        return name in self._extensions

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception).

        IMMEDIATE takes the write lock up front, so that a busy file fails at
        the start (after the busy timeout) rather than half-way through.
        Nested use joins the outer transaction.
        """
        conn = self._conn
        if self.readonly:
            raise JournalError(f"{_describe_path(self.path)} was opened read-only")
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # ------------------------------------------------------------ writing

    def append_events(self, feed: str, events: Sequence[Event]) -> int:
        """Journal a batch in one transaction; return how many rows were new.

        An event already journaled for the same ``(feed, seq)`` is ignored,
        which makes resends after a reconnect harmless.
        """
        return len(self.append_new(feed, events))

    def append_new(self, feed: str, events: Sequence[Event]) -> list[Event]:
        """Like :meth:`append_events`, but return the events that were new, in order.

        For callers that must not process an event twice (a restored session
        whose feed ignored ``since=``).
        """
        if not events:
            return []
        now = time.time()
        new: list[Event] = []
        generation = self.generation(feed)
        with self._guard(), self.transaction() as conn:
            for event in events:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO events (feed, generation, seq, ts, received_at, conversation_id, type, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        feed,
                        generation,
                        event.seq,
                        event.ts,
                        now,
                        event.conversation_id,
                        event.type,
                        event.model_dump_json(exclude_none=True),
                    ),
                )
                if cursor.rowcount:
                    new.append(event)
        return new

    def generation(self, feed: str) -> int:
        """The current seq numbering of ``feed`` (0 until it first restarted):
        new events are journaled under it, and :meth:`last_seq` reads it."""
        cached = self._generations.get(feed)
        if cached is not None:
            return cached
        with self._guard():
            row = self._conn.execute("SELECT MAX(generation) FROM events WHERE feed = ?", (feed,)).fetchone()
        found = int(row[0]) if row and row[0] is not None else 0
        marked = self._meta_int(f"generation:{feed}")
        self._generations[feed] = value = max(found, marked or 0)
        return value

    def new_generation(self, feed: str) -> int:
        """``feed`` numbers its seqs again from the start (it restarted and lost
        its log): later events are journaled apart from the old ones, which
        stay. Kept in ``meta`` too, so that a restart of the console before the
        first new event does not resume with the old numbering's cursor.
        The in-memory value moves even if the write fails (a full disk), so
        the events of the new numbering are never mixed with the old."""
        value = self.generation(feed) + 1
        self._generations[feed] = value
        with self._guard(), self.transaction():
            self._set_meta(f"generation:{feed}", str(value))
        return value

    def fingerprint(self, feed: str, seq: int) -> Fingerprint | None:
        """The fingerprint (type, conversation id, ts) of the event journaled under
        ``seq`` in the current numbering of ``feed``
        (:func:`hitl_console.protocol.events.fingerprint`), or None."""
        with self._guard():
            row = self._conn.execute(
                "SELECT type, conversation_id, ts FROM events WHERE feed = ? AND generation = ? AND seq = ?",
                (feed, self.generation(feed), seq),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), float(row[2]))

    def is_open(self, feed: str, conversation_id: str) -> bool | None:
        """Whether the journal's newest ``conversation.started`` or
        ``conversation.ended`` of ``conversation_id`` in the current numbering
        of ``feed`` is a start (None: neither is journaled)."""
        with self._guard():
            row = self._conn.execute(
                # "+": look the conversation up by its index; the (feed, generation, seq) one
                # walks every event of the feed for a conversation it has never seen
                "SELECT type FROM events WHERE conversation_id = ? AND +feed = ? AND +generation = ? "
                "AND type IN ('conversation.started', 'conversation.ended') ORDER BY seq DESC LIMIT 1",
                (conversation_id, feed, self.generation(feed)),
            ).fetchone()
        return None if row is None else row[0] == "conversation.started"

    def epoch(self, feed: str) -> str | None:
        """The feed's own ``epoch`` on its newest journaled event, if it sends one."""
        with self._guard():
            row = self._conn.execute(
                "SELECT body FROM events WHERE feed = ? AND generation = ? ORDER BY seq DESC LIMIT 1",
                (feed, self.generation(feed)),
            ).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0]).get("epoch")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def probe(self) -> None:
        """A small write that raises :class:`JournalError` while the disk cannot
        take writes: how the session learns that a full disk has room again."""
        with self._guard(), self.transaction():
            self._set_meta("probe", repr(time.time()))

    def record_rejected(self, rejected: Sequence[RejectedFrame]) -> None:
        """Keep rejected frames for inspection; only the newest MAX_REJECTED are kept."""
        if not rejected:
            return
        with self._guard(), self.transaction() as conn:
            conn.executemany(
                "INSERT INTO rejected (feed, received_at, reason, excerpt, type, seq, conversation_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.feed, r.received_at, r.reason, r.excerpt, r.type, r.seq, r.conversation_id) for r in rejected],
            )
            conn.execute(
                "DELETE FROM rejected WHERE id <= (SELECT MAX(id) FROM rejected) - ?",
                (MAX_REJECTED,),
            )

    def record_command(self, feed: str, command: AnyCommand) -> None:
        """Journal a command *before* it is sent, so that a crash mid-send still
        leaves a record of what the supervisor asked for."""
        payload = command.model_dump(mode="json", exclude_none=True)
        with self._guard(), self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO commands (request_id, feed, ts, agent, op, conversation_id, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    command.request_id,
                    feed,
                    time.time(),
                    command.agent,
                    command.op,
                    command.conversation_id,
                    json.dumps(payload, separators=(",", ":")),
                ),
            )

    def record_result(self, result: CommandResult) -> None:
        """Journal how a command ended: acknowledged, refused, timed out or not sent."""
        with self._guard(), self.transaction() as conn:
            conn.execute(
                "UPDATE commands SET ok = ?, error = ?, timed_out = ?, sent = ?, ack_ts = ?, latency_s = ? "
                "WHERE request_id = ?",
                (
                    int(result.ok),
                    result.error,
                    int(result.timed_out),
                    int(result.sent),
                    time.time(),
                    result.latency_s,
                    result.request_id,
                ),
            )

    def record_alert(self, alert: _AlertFields) -> None:
        """Journal an alert, so that the alert log survives a restart and reports can count them."""
        with self._guard(), self.transaction() as conn:
            conn.execute(
                "INSERT INTO alerts (ts, level, kind, text, conversation_id, key) VALUES (?, ?, ?, ?, ?, ?)",
                (alert.ts, alert.level, alert.kind, redact(alert.text), alert.conversation_id, alert.key),
            )

    def prune(self, now: float | None = None) -> int:
        """Delete events, commands, rejected frames and alerts older than the
        retention window (and run extensions' prune statements); return the
        number of rows deleted. Events go by receive time, the rest by their ts."""
        cutoff = (time.time() if now is None else now) - self.retention_days * DAY
        deleted = 0
        with self._guard(), self.transaction() as conn:
            for sql in (
                "DELETE FROM events WHERE received_at < ?",
                "DELETE FROM commands WHERE ts < ?",
                "DELETE FROM rejected WHERE received_at < ?",
                "DELETE FROM alerts WHERE ts < ?",
            ):
                deleted += conn.execute(sql, (cutoff,)).rowcount
            for ext in self._extensions.values():
                if ext.prune:
                    deleted += max(0, conn.execute(ext.prune, {"cutoff": cutoff}).rowcount)
        if deleted:
            log.info("journal: pruned %d rows older than %.1f days", deleted, self.retention_days)
        return deleted

    # ------------------------------------------------------------ reading

    def last_seq(self, feed: str) -> int | None:
        """The highest seq journaled for ``feed`` in its current numbering
        (:meth:`generation`): the ``since=`` cursor after a restart.

        Rows outside the protocol's seq range (written before it was bounded,
        e.g. 2**63-1 from a hostile feed) are not a cursor: resuming after one
        would drop every later event as out of order."""
        with self._guard():
            row = self._conn.execute(
                "SELECT MAX(seq) FROM events WHERE feed = ? AND generation = ? AND seq BETWEEN ? AND ?",
                (feed, self.generation(feed), SEQ_MIN, SEQ_MAX),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def feeds(self) -> list[str]:
        """Feed names that have events in the journal."""
        with self._guard():
            return [r[0] for r in self._conn.execute("SELECT DISTINCT feed FROM events ORDER BY feed")]

    def iter_events(
        self,
        since_ts: float | None = None,
        *,
        feeds: Iterable[str] | None = None,
        conversation_ids: Iterable[str] | None = None,
    ) -> Iterator[tuple[str, Event]]:
        """Yield ``(feed, event)`` in insertion order, validated back into models.

        ``since_ts`` filters on the event's own ``ts``; ``feeds`` and
        ``conversation_ids`` restrict to those. A row that no longer validates
        (written by a buggy or newer version) is logged and skipped rather than
        stopping a restore.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if since_ts is not None:
            clauses.append("ts >= ?")
            params.append(since_ts)
        for column, values in (("feed", feeds), ("conversation_id", conversation_ids)):
            if values is not None:
                items = list(values)
                if not items:
                    return
                clauses.append(f"{column} IN ({','.join('?' * len(items))})")
                params.extend(items)
        # Pages by id: memory stays bounded on a month of events, and no read
        # cursor is held open while the caller (maybe writing) consumes them.
        clauses.append("id > ?")
        yield from self._event_pages(f"SELECT id, feed, body FROM events WHERE {' AND '.join(clauses)}", params)

    def _event_pages(self, select: str, params: Sequence[Any] = (), *, order: str = "id") -> Iterator[tuple[str, Event]]:
        """``(feed, event)`` of ``select`` (``id, feed, body`` rows ending in an
        ``id > ?`` condition), read in pages by id: memory stays bounded on a
        month of events, and no read cursor is held open while the caller
        (maybe writing) consumes them. A row that no longer validates is logged
        and skipped."""
        sql = f"{select} ORDER BY {order} LIMIT {ITER_PAGE}"
        last_id = 0
        while True:
            with self._guard():
                rows = self._conn.execute(sql, (*params, last_id)).fetchall()
            for row_id, feed, body in rows:
                try:
                    event = event_adapter.validate_json(body)
                except ValueError as error:
                    log.warning("journal: event row %d does not validate, skipped: %s", row_id, error)
                    continue
                yield feed, event
            if len(rows) < ITER_PAGE:
                return
            last_id = rows[-1][0]

    def restore_events(
        self,
        feeds: Iterable[str],
        *,
        keep_s: float,
        open_for_s: float | None,
    ) -> Iterator[tuple[str, Event]]:
        """The events a restarted console needs, in insertion order: every
        conversation with an event in the last ``keep_s`` seconds (of the
        feeds' own clock, counted back from their latest event), and every one
        that never ended whose last event is within ``open_for_s`` (None: any
        age; a conversation silent longer is closed as abandoned anyway).

        A month of journal is tens of millions of events; replaying them all
        made a restart take minutes to rebuild figures nobody looks at. The
        conversations are chosen once into a temporary table, then read in
        pages like :meth:`iter_events`.
        """
        names = list(feeds)
        if not names:
            return
        marks = ",".join("?" * len(names))
        with self._guard():
            # Within the protocol's range: a hostile row (ts 1e300) must not put "now" in another age.
            latest = self._conn.execute(
                f"SELECT MAX(ts) FROM events WHERE feed IN ({marks}) AND ts >= ? AND ts < ?", (*names, TS_MIN, TS_MAX)
            ).fetchone()[0]
        if latest is None:
            return
        keep_after = latest - keep_s
        open_after = -math.inf if open_for_s is None else latest - open_for_s
        with self._guard():
            self._conn.execute("DROP TABLE IF EXISTS temp.restore_keys")
            self._conn.execute("DROP TABLE IF EXISTS temp.restore_rows")
            if open_after >= keep_after:
                # An open conversation silent for less than open_for_s had an
                # event within keep_s too: the conversations with an event since
                # keep_after are all of them, found by the ts index (a day of a
                # month's journal) instead of grouping every row.
                self._conn.execute(
                    "CREATE TEMP TABLE restore_keys AS SELECT DISTINCT feed, conversation_id FROM events "
                    f"WHERE ts >= ? AND ts < ? AND feed IN ({marks})",
                    (keep_after, TS_MAX, *names),
                )
            else:
                self._conn.execute(
                    "CREATE TEMP TABLE restore_keys AS SELECT feed, conversation_id FROM events "
                    f"WHERE feed IN ({marks}) GROUP BY feed, conversation_id "
                    "HAVING MAX(ts) >= ? OR (MAX(type = 'conversation.ended') = 0 AND MAX(ts) >= ?)",
                    (*names, keep_after, open_after),
                )
            # Their rows, by the conversation index (not a scan of every event's
            # body), kept as ids: read in pages in insertion order below.
            self._conn.execute("CREATE TEMP TABLE restore_rows (id INTEGER PRIMARY KEY)")
            self._conn.execute(
                "INSERT INTO restore_rows SELECT e.id FROM restore_keys k "
                "JOIN events e ON e.conversation_id = k.conversation_id AND e.feed = k.feed"
            )
        try:
            yield from self._event_pages(
                "SELECT e.id, e.feed, e.body FROM temp.restore_rows r JOIN events e ON e.id = r.id WHERE r.id > ?",
                order="r.id",
            )
        finally:
            with self._guard():
                self._conn.execute("DROP TABLE IF EXISTS temp.restore_keys")
                self._conn.execute("DROP TABLE IF EXISTS temp.restore_rows")

    def conversation_ids(self, since_ts: float | None = None) -> list[str]:
        """Conversations with events at or after ``since_ts``, in order of first appearance."""
        sql = "SELECT conversation_id, MIN(id) AS first FROM events"
        params: tuple[Any, ...] = ()
        if since_ts is not None:
            sql += " WHERE ts >= ?"
            params = (since_ts,)
        sql += " GROUP BY conversation_id ORDER BY first"
        with self._guard():
            return [r[0] for r in self._conn.execute(sql, params)]

    def commands(self, conversation_id: str | None = None) -> list[CommandRecord]:
        """Journaled commands, oldest first, optionally of one conversation."""
        sql = (
            "SELECT request_id, ts, agent, op, conversation_id, payload, ok, error, timed_out, ack_ts, "
            "feed, sent, latency_s FROM commands"
        )
        params: tuple[Any, ...] = ()
        if conversation_id is not None:
            sql += " WHERE conversation_id = ?"
            params = (conversation_id,)
        sql += " ORDER BY ts, rowid"
        with self._guard():
            rows = self._conn.execute(sql, params).fetchall()
        return [
            CommandRecord(
                request_id=r[0],
                ts=r[1],
                agent=r[2],
                op=r[3],
                conversation_id=r[4],
                payload=json.loads(r[5]),
                ok=None if r[6] is None else bool(r[6]),
                error=r[7],
                timed_out=bool(r[8]),
                ack_ts=r[9],
                feed=r[10],
                sent=bool(r[11]),
                latency_s=r[12],
            )
            for r in rows
        ]

    def rejected(self, limit: int = 100) -> list[RejectedFrame]:
        """The newest rejected frames, oldest first."""
        with self._guard():
            rows = self._conn.execute(
                "SELECT reason, excerpt, feed, received_at, type, seq, conversation_id FROM rejected "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [RejectedFrame(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in reversed(rows)]

    def alerts(self, since_ts: float | None = None) -> list[AlertRecord]:
        """Journaled alerts, oldest first (``acknowledged`` is not journaled)."""
        sql = "SELECT ts, level, kind, text, conversation_id, key FROM alerts"
        params: tuple[Any, ...] = ()
        if since_ts is not None:
            sql += " WHERE ts >= ?"
            params = (since_ts,)
        with self._guard():
            rows = self._conn.execute(sql + " ORDER BY id", params).fetchall()
        return [AlertRecord(ts=r[0], level=r[1], kind=r[2], text=r[3], conversation_id=r[4], key=r[5]) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per core table: for status lines and tests."""
        with self._guard():
            return {
                table: int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("events", "rejected", "commands", "alerts")
            }

    # ------------------------------------------------------------ lifecycle

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn sqlite errors into JournalError with the file named."""
        if self._closed:
            raise JournalError(f"{_describe_path(self.path)} is closed")
        try:
            yield
        except (sqlite3.Error, OSError) as error:  # OSError: the disk itself (ENOSPC, EIO) as Python sees it
            raise JournalError(self._explain(error)) from error

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Close the connection (idempotent). SQLite checkpoints the WAL on the last close."""
        if self._closed:
            return
        self._closed = True
        try:
            self._conn.close()
        except sqlite3.Error as error:  # pragma: no cover - close rarely fails
            log.warning("journal: closing %s: %s", self.path, error)
        finally:
            self._release_lock()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = ", readonly=True" if self.readonly else ""
        return f"Journal({self.path!r}, retention_days={self.retention_days}{mode})"


def split_sql(sql: str) -> list[str]:
    """Split a script into complete statements (``sqlite3.complete_statement``
    knows about quotes, comments and trigger bodies)."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
