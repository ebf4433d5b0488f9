"""Review tables of version 1 (keyed by conversation id alone) migrate in place to
version 2 (keyed by feed and the feed's id) without losing a row.

``fixtures/journal_reviews_v1.sqlite3`` was written by the code *before* the
change (main at 8bf7ca2, reviews schema 1) through its own API: events of a
production feed ``prod``, of a demo run ``demo-101010`` that reused the ids
``c-1`` (and ``c-3``), and of a second platform ``other`` whose ``c-5`` the
console kept as ``c-5@other``; takeover commands on ``prod`` (c-1),
``demo-101010`` (c-1) and ``other`` (c-5); takeover verdicts on each of them
plus one on ``c-9`` that no table knows; review items, verdicts, a correction
and tags. The demo verdict "c-1 did not need a human" is the bug of issue 9:
under version 1 it overwrote the supervisor's "c-1 needed a human".
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from hitl_console.cli import main
from hitl_console.store.journal import Journal, JournalError, JournalOutdated
from hitl_console.store.reviews import VERSION, ReviewStore, item_id_for

FIXTURE = Path(__file__).parent / "fixtures" / "journal_reviews_v1.sqlite3"
TABLES = ("events", "commands", "review_items", "review_verdicts", "review_corrections", "review_tags", "takeover_verdicts")
KEEP = 1e6  # days: the fixture's rows were received when it was made; never prune them here


@pytest.fixture
def old_journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    shutil.copyfile(FIXTURE, path)
    return path


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_the_fixture_is_version_1(old_journal: Path) -> None:
    with sqlite3.connect(old_journal) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema:reviews'").fetchone() == ("1",)
        columns = [r[1] for r in db.execute("PRAGMA table_info(takeover_verdicts)")]
    assert "feed" not in columns


def test_migration_keeps_every_row_and_gives_each_its_feed(old_journal: Path) -> None:
    before = _counts(old_journal)
    with ReviewStore.open(old_journal, retention_days=KEEP) as store:
        assert store.journal.extension_version("reviews") == VERSION == 2
        takeovers = [(t.feed, t.conversation_id, t.agent, t.escalation_needed, t.note) for t in store.takeover_verdicts()]
        verdicts = [(v.feed, v.conversation_id, v.item_id, v.verdict.value) for v in store.verdicts()]
        corrections = [(c.feed, c.conversation_id, c.turn_seq) for c in store.corrections()]
        items = {i.item_id: (i.feed, i.conversation_id) for i in store.items(status=None)}
        escalation = store.escalation_verdicts()
        tags = {
            key: store.tags(key[1], feed=key[0])
            for key in (("prod", "c-2"), ("other", "c-5"), ("demo-101010", "c-3"), ("prod", "c-3"))
        }
    assert _counts(old_journal) == before  # not one row lost (nor added)
    assert takeovers == [
        ("prod", "c-1", "maria", True, "card stolen"),  # the command before it went to prod
        ("demo-101010", "c-1", "zed", False, None),  # ... and this one's to the demo
        ("demo-101010", "c-3", "zed", True, None),  # only the demo's events know c-3
        ("other", "c-5", "maria", True, None),  # the console's alias c-5@other is the feed's c-5
        ("", "c-9", "maria", False, "gone"),  # nothing knows c-9: kept, under no feed
    ]
    assert verdicts == [("prod", "c-2", "qa:c-2", "ai_wrong"), ("other", "c-5", "qa:c-5@other", "escalation_needed")]
    assert corrections == [("prod", "c-2", 4)]
    assert items == {  # ids are opaque keys: unchanged, so claims and links survive
        "qa:c-2": ("prod", "c-2"),
        "qa:c-5@other": ("other", "c-5"),
        "compliance:c-1": ("prod", "c-1"),
    }
    # The demo's "not needed" no longer overwrites the supervisor's "needed" on the real c-1.
    assert escalation[("prod", "c-1")] is True
    assert escalation[("demo-101010", "c-1")] is False
    assert tags == {("prod", "c-2"): ["refund-gap"], ("other", "c-5"): ["odd"], ("demo-101010", "c-3"): ["demo-tag"], ("prod", "c-3"): []}


def test_migrated_file_takes_new_rows_by_feed(old_journal: Path) -> None:
    with ReviewStore.open(old_journal, retention_days=KEEP) as store:
        assert store.add_tag("c-2", "refund-gap", "rev", feed="demo-101010")  # same id, other feed: a new tag
        assert not store.add_tag("c-2", "refund-gap", "rev", feed="prod")  # already there after the migration
    with ReviewStore.open(old_journal, retention_days=KEEP) as store:  # opening again changes nothing
        assert store.journal.extension_version("reviews") == 2
        assert store.tags("c-2", feed="demo-101010") == ["refund-gap"]


def test_a_failed_migration_changes_nothing(old_journal: Path) -> None:
    before = _counts(old_journal)
    with sqlite3.connect(old_journal) as db:  # a column the migration will try to add already exists
        db.execute("ALTER TABLE takeover_verdicts ADD COLUMN feed TEXT")
    with pytest.raises(JournalError):
        ReviewStore.open(old_journal, retention_days=KEEP)
    with sqlite3.connect(old_journal) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema:reviews'").fetchone() == ("1",)
        assert "review_tags_v2" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert _counts(old_journal) == before


def test_readers_upgrade_an_old_file_they_may_write(old_journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(JournalOutdated):  # its core tables are older too (events gained a generation)
        ReviewStore(Journal(old_journal, retention_days=KEEP, readonly=True))
    config = tmp_path / "config.toml"
    config.write_text(f"[journal]\nretention_days = {KEEP:.0f}\n")
    assert main(["review", "export", "--config", str(config), "--journal", str(old_journal)]) == 0
    out = capsys.readouterr().out
    assert '"id":"c-1","feed":"prod"' in out and '"id":"c-1","feed":"demo-101010"' in out
    with sqlite3.connect(old_journal) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema:reviews'").fetchone() == ("2",)


def test_item_ids_never_collide() -> None:
    assert item_id_for("qa", "c-1") == "qa:c-1"  # recordings (no feed): the version-1 form
    assert item_id_for("qa", "c-1", "prod") == "qa:prod:c-1"
    keys = {item_id_for(q, c, f) for q, f, c in [("qa", "x", "y"), ("qa", "", "x:y"), ("qa:x", "", "y"), ("qa", "x:y", "z"), ("qa", "x", "y:z")]}
    assert len(keys) == 5
