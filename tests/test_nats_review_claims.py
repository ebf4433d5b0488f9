"""``hitl-console review claim|release|verdict`` (a whole process, as a reviewer
runs it) against a real nats-server: with a team bus in the config it claims in
the ``hitl-claims`` bucket like a reviewer in a console, so the command line and
a console never hold the same item; its verdict leaves the done marker and
reaches the console through the team's history."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from hitl_console.store.journal import Journal
from hitl_console.store.reviews import NewItem, ReviewStore, Verdict, item_id_for
from live_support import wait_until
from natsserver import floor_stream, lenient_platform, team_console as console

pytestmark = pytest.mark.slow

ITEMS = [NewItem("c-1", "qa", "qa", "sampled", 0.2, feed="floor"), NewItem("c-2", "qa", "qa", "sampled", 0.3, feed="floor")]


async def review(tmp_path: Path, config: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hitl_console", "review", *args, "--config", str(config), "--journal", str(tmp_path / "bob.sqlite3"),
        "--agent", "bob", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HITL_CONSOLE_DATA_DIR": str(tmp_path / "data")},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_a_command_line_reviewer_and_a_console_reviewer_never_hold_one_item(nats_server, tmp_path):
    target = await floor_stream(nats_server.url)
    config = tmp_path / "team.toml"
    config.write_text(f'[team]\nnats = "{nats_server.url}"\n')
    with Journal(tmp_path / "bob.sqlite3") as journal:
        ReviewStore(journal).add_items(ITEMS)
    first, second = (item_id_for(i.queue, i.conversation_id, i.feed) for i in ITEMS)
    async with lenient_platform(nats_server.url):
        ann = console(target, "ann", tmp_path)
        await ann.start()
        try:
            ann.reviews.add_items(ITEMS)
            code, out, err = await review(tmp_path, config, "claim", first)
            assert code == 0 and f"{first} claimed for bob" in out and "team's claims" in out, err
            refused = await ann.claim_review(first)
            assert not refused.ok and refused.holder == "bob"  # the console's reviewer is told who has it

            assert (await ann.claim_review(second)).ok
            code, out, err = await review(tmp_path, config, "claim", second)
            assert code == 1 and "held by ann (team claim)" in err
            code, _, err = await review(tmp_path, config, "verdict", second, "ai_right")
            assert code == 1 and "bob does not hold" in err and "team's claims" in err

            code, out, err = await review(tmp_path, config, "verdict", first, "escalation_not_needed", "--note", "fine")
            assert code == 0 and "escalation_not_needed by bob" in out and not err, err
            await wait_until(lambda: ann.reviews.item(first).status == "done", 10, "bob's verdict on ann's console")
            (verdict,) = ann.reviews.verdicts()
            assert (verdict.reviewer, verdict.verdict, verdict.note) == ("bob", Verdict.ESCALATION_NOT_NEEDED, "fine")
            assert (await ann.claims.store.claim("review", first, "carol")).done  # nobody takes it up again

            assert await ann.release_review(second)
            code, out, err = await review(tmp_path, config, "claim", second)
            assert code == 0, err
            code, out, err = await review(tmp_path, config, "release", second)
            assert code == 0 and f"{second} released by bob" in out
            assert (await ann.claim_review(second)).ok
        finally:
            await ann.stop()
    with ReviewStore.open(tmp_path / "bob.sqlite3") as store:
        assert store.item(first).status == "done" and store.item(second).claimed_by is None


async def test_without_the_bus_the_command_line_claims_nothing(tmp_path):
    """A team bus that does not answer: refused, and the journal's claim is not taken either."""
    config = tmp_path / "team.toml"
    config.write_text('[team]\nnats = "nats://127.0.0.1:9"\n')
    with Journal(tmp_path / "bob.sqlite3") as journal:
        ReviewStore(journal).add_items(ITEMS[:1])
    item = item_id_for("qa", "c-1", "floor")
    code, _, err = await review(tmp_path, config, "claim", item)
    assert code == 1 and "claims bucket at 127.0.0.1:9 is not reachable" in err and "nothing done" in err
    with ReviewStore.open(tmp_path / "bob.sqlite3") as store:
        assert store.item(item).claimed_by is None
