"""Review selection, queues, claims (two reviewers, one wins; expiry), verdicts and the export."""

from __future__ import annotations

import json

import pytest

from hitl_console.analysis.review import (
    EXPORT_FORMAT,
    build_queues,
    enqueue,
    export_records,
    render_transcript,
    sample_fraction,
    selection_reason,
    snapshot,
)
from hitl_console.cli import main
from hitl_console.config import Config, ReviewConfig, ReviewQueueConfig, parse_config
from hitl_console.engine.state import ActionRecord
from hitl_console.store.journal import Journal
from hitl_console.store.reviews import ClaimError, NewItem, ReviewStore, Verdict

from .helpers import DATA, T0, make_state


# ---------------------------------------------------------------- sampling


def test_sampling_rules():
    review = ReviewConfig(sample_rate=0.0)
    assert selection_reason(make_state("e", escalation_turns=2), review) == "escalated"
    assert selection_reason(make_state("l", confidences=(0.4,)), review) == "low_confidence"
    assert selection_reason(make_state("f", triggers=(("loop", 1),)), review) == "flagged"
    routed = make_state("r")
    routed.routing_flags += ("vip customer",)
    assert selection_reason(routed, review) == "flagged"
    assert selection_reason(make_state("plain"), review) is None
    assert selection_reason(make_state("plain"), ReviewConfig(sample_rate=1.0)) == "sampled"


def test_sampling_is_deterministic_and_near_the_rate():
    ids = [f"conv-{i}" for i in range(2000)]
    review = ReviewConfig(sample_rate=0.1, seed=3)
    picked = [i for i in ids if selection_reason(make_state(i), review) == "sampled"]
    again = [i for i in ids if selection_reason(make_state(i), review) == "sampled"]
    assert picked == again
    assert 150 <= len(picked) <= 250
    other_seed = [i for i in ids if sample_fraction(i, 4) < 0.1]
    assert other_seed != picked
    assert sample_fraction("x", 0) == sample_fraction("x", 0)


def test_default_role_queues():
    fraud = make_state("fraud", topics=("fraud",), triggers=(("high_stakes", 1),), escalation_turns=1)
    loop = make_state("loop", triggers=(("loop", 2),))
    broken = make_state("broken", confidences=(0.4,))
    broken.actions.append(ActionRecord(seq=9, ts=T0, name="refund", status="failed"))
    plain = make_state("plain")
    config = Config(review=ReviewConfig(sample_rate=0.0))
    entries = build_queues([fraud, loop, broken, plain], config)
    by_queue: dict[str, set[str]] = {}
    for e in entries:
        by_queue.setdefault(e.queue, set()).add(e.conversation_id)
    assert by_queue["compliance"] == {"fraud"}
    assert by_queue["qa"] == {"loop", "broken"}
    assert by_queue["team-lead"] == {"fraud", "loop", "broken"}
    scores = [e.score.overall for e in entries]
    assert scores == sorted(scores)  # lowest first
    assert {e.conversation_id for e in build_queues([fraud, loop, broken, plain], config, role="compliance")} == {"fraud"}


def test_configured_team_lead_scope():
    config = parse_config(
        {"review": {"queues": [{"name": "billing-lead", "role": "team_lead", "queues": ["billing"]}]}}
    )
    a = make_state("a", queue="billing", escalation_turns=2)
    b = make_state("b", queue="shipping", escalation_turns=2)
    assert [e.conversation_id for e in build_queues([a, b], config)] == ["a"]
    qa = Config(review=ReviewConfig(queues=[ReviewQueueConfig(name="low", max_score=0.4)]))
    low = make_state("low", outcome="abandoned", resolved_by=None, triggers=(("human_request", 1),))
    assert [e.conversation_id for e in build_queues([a, low], qa)] == ["low"]


# ---------------------------------------------------------------- claims


@pytest.fixture
def journal_file(tmp_path):
    return tmp_path / "journal.sqlite3"


def _items(n: int = 3) -> list[NewItem]:
    return [NewItem(f"c{i}", "qa", "qa", "flagged", score=0.1 * i) for i in range(n)]


def test_two_reviewers_one_wins(journal_file):
    with ReviewStore.open(journal_file) as alice, ReviewStore.open(journal_file) as bob:
        assert alice.add_items(_items(), now=T0) == 3
        assert alice.add_items(_items(), now=T0) == 0  # idempotent
        assert alice.claim("qa:c0", "alice", now=T0)
        assert not bob.claim("qa:c0", "bob", now=T0 + 1)
        assert alice.claim("qa:c0", "alice", now=T0 + 2)  # renewal
        # claim_next skips the held item and takes the next lowest score
        item = bob.claim_next("bob", queue="qa", now=T0 + 3)
        assert item is not None and item.item_id == "qa:c1" and item.claimed_by == "bob"
        with pytest.raises(ClaimError, match="claimed by alice"):
            bob.record_verdict("qa:c0", "bob", Verdict.AI_WRONG, now=T0 + 4)


def test_claim_expires(journal_file):
    with ReviewStore.open(journal_file, claim_ttl_s=60) as alice, ReviewStore.open(journal_file, claim_ttl_s=60) as bob:
        alice.add_items(_items(1), now=T0)
        assert alice.claim("qa:c0", "alice", now=T0)
        assert bob.claim_next("bob", now=T0 + 59) is None
        taken = bob.claim_next("bob", now=T0 + 60)
        assert taken is not None and taken.claimed_by == "bob"
        with pytest.raises(ClaimError, match="claimed by bob"):
            alice.record_verdict("qa:c0", "alice", "ai_right", now=T0 + 61)
        v = bob.record_verdict("qa:c0", "bob", "ai_right", note="fine", now=T0 + 62)
        assert v.verdict is Verdict.AI_RIGHT and v.queue == "qa"
        assert alice.item("qa:c0").status == "done"
        assert not alice.claim("qa:c0", "alice", now=T0 + 10_000)  # done items are never claimed again
        with pytest.raises(ClaimError, match="already been reviewed"):
            bob.record_verdict("qa:c0", "bob", "ai_right", now=T0 + 63)
        assert not alice.release("qa:c0", "alice")


def test_verdict_requires_claim_and_release(journal_file):
    with ReviewStore.open(journal_file) as store:
        store.add_items(_items(1), now=T0)
        with pytest.raises(ClaimError, match="claim it first"):
            store.record_verdict("qa:c0", "alice", "ai_wrong", now=T0)
        assert store.claim("qa:c0", "alice", now=T0)
        assert store.release("qa:c0", "alice")
        assert store.claim("qa:c0", "bob", now=T0)
        with pytest.raises(ValueError):
            store.record_verdict("qa:c0", "bob", "maybe")


def test_escalation_verdicts_combine_takeover_and_review(journal_file):
    with ReviewStore.open(journal_file) as store:
        store.record_takeover_verdict("c1", "maria", True, feed="", now=T0)
        store.record_takeover_verdict("c2", "maria", False, feed="", now=T0)
        store.record_takeover_verdict("c1", "zed", False, feed="demo", now=T0)  # another feed's c1
        store.add_items([NewItem("c2", "qa", "qa", "escalated", 0.2)], now=T0)
        store.claim("qa:c2", "rev", now=T0)
        store.record_verdict("qa:c2", "rev", Verdict.ESCALATION_NEEDED, now=T0 + 5)
        assert store.escalation_verdicts() == {("", "c1"): True, ("", "c2"): True, ("demo", "c1"): False}
        assert store.escalation_verdicts(since=T0 + 1) == {("", "c2"): True}
        assert [t.escalation_needed for t in store.takeover_verdicts()] == [True, False, False]


def test_reviews_live_in_the_journal_file(journal_file):
    with Journal(journal_file) as journal:
        store = ReviewStore(journal)
        store.add_items(_items(1))
        assert journal.extension_version("reviews") == 2
    with Journal(journal_file) as journal:
        assert ReviewStore(journal).items()[0].conversation_id == "c0"


# ---------------------------------------------------------------- export


def _reviewed_store(journal_file, state):
    store = ReviewStore.open(journal_file)
    entries = build_queues([state], Config(), role="qa")
    assert enqueue(store, entries, now=T0) == 1
    item = store.claim_next("rev.ana", role="qa", now=T0 + 1)
    ai_turn = next(t for t in state.turns if t.role == "ai" and t.confidence is not None and t.confidence < 0.5)
    store.add_correction(state.conversation_id, ai_turn.seq, "Let me check the second charge now.", "rev.ana", feed=state.feed, item_id=item.item_id, now=T0 + 2)
    store.add_tag(state.conversation_id, "double-charge", "rev.ana", feed=state.feed, now=T0 + 2)
    assert not store.add_tag(state.conversation_id, "double-charge", "rev.ana", feed=state.feed)
    assert store.add_tag(state.conversation_id, "double-charge", "zed", feed="demo-feed")  # another feed's conversation
    store.record_verdict(item.item_id, "rev.ana", Verdict.AI_WRONG, note="missed the duplicate", now=T0 + 3)
    return store, ai_turn


def test_export_format(journal_file):
    state = make_state("c-1042", queue="billing", topics=("billing",), confidences=(0.9, 0.41, 0.8), sentiments=(0.0, -0.3, 0.1), triggers=(("loop", 3),))
    store, ai_turn = _reviewed_store(journal_file, state)
    with store:
        records = list(export_records(store))
    assert len(records) == 1
    r = records[0]
    assert r["format"] == EXPORT_FORMAT and r["version"] == 1
    assert r["conversation"]["id"] == "c-1042" and r["conversation"]["queue"] == "billing"
    assert r["conversation"]["topics"] == ["billing"]
    assert r["review_queue"] == "qa"
    assert r["turn"] == {"seq": ai_turn.seq, "role": "ai", "text": ai_turn.text, "confidence": 0.41}
    assert r["transcript"][-1]["seq"] == ai_turn.seq  # up to and including the corrected turn
    assert [t["role"] for t in r["transcript"]] == ["customer", "ai", "customer", "ai"]
    assert r["corrected_response"] == "Let me check the second charge now."
    assert r["tags"] == ["double-charge"]
    assert r["verdict"] == "ai_wrong" and r["verdict_note"] == "missed the duplicate"
    assert r["reviewer"] == "rev.ana" and r["ts"] == T0 + 2
    assert r["triggers"] == [{"kind": "loop", "seq": state.triggers[0].seq, "reason": "loop fired"}]
    json.dumps(r)


def test_export_takeover_verdict_without_snapshot(journal_file):
    with ReviewStore.open(journal_file) as store:
        store.record_takeover_verdict("c-9", "maria", False, feed="", now=T0)
        state = make_state("c-9")
        (r,) = export_records(store, conversations=[state])
    assert r["turn"] is None and r["corrected_response"] is None
    assert r["escalation_needed"] is False and r["verdict"] is None
    assert r["reviewer"] == "maria" and len(r["transcript"]) == 2


def test_export_cli(journal_file, tmp_path, capsys):
    state = make_state("c-7", confidences=(0.3,), triggers=(("loop", 2),))
    store, _ = _reviewed_store(journal_file, state)
    store.close()
    out = tmp_path / "export.jsonl"
    assert main(["review", "export", "--journal", str(journal_file), "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["conversation"]["id"] == "c-7"
    assert "exported 1" in capsys.readouterr().err
    # --since after the review: nothing
    assert main(["review", "export", "--journal", str(journal_file), "--since", "2030-01-01"]) == 0
    assert capsys.readouterr().out == ""


def test_transcript_render_is_plain():
    s = make_state("x", confidences=(0.3,), triggers=(("low_confidence", 2),))
    s.turns[0] = s.turns[0]._replace(text="bye [/] \x1b[31mred\x1b[0m")
    text = render_transcript(snapshot(s))
    assert "\x1b" not in text and "bye [/] red" in text
    assert "!! low confidence: " in text  # the trigger in words, then its reason
    assert "#" not in text.split()[0] and text.split()[0].count(":") == 2  # a turn's clock time, not its seq


QUEUE_HEADER = ["score", "review queue", "conversation", "selected for", "status"]


def queue_lines(out: str) -> tuple[list[str], list[list[str]]]:
    """The header's names and each item's columns (lines that start with a score)."""
    lines = out.splitlines()
    header = [h for h in lines[0].split("  ") if h.strip()]
    rows = [[c.strip() for c in line.split("  ") if c.strip()] for line in lines[1:] if line[:6].strip()[:1].isdigit()]
    return [h.strip() for h in header], rows


def test_queue_cli_over_recording(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["review", "queue", str(DATA / "metrics.jsonl")]) == 0
    out = capsys.readouterr().out
    header, rows = queue_lines(out)
    assert header == QUEUE_HEADER
    assert rows and all(len(r) == len(QUEUE_HEADER) for r in rows)
    assert any(r[1] == "compliance" and r[2] == "c07" and r[4] == "not queued" for r in rows)
    assert "triggers: " in out and "why: " in out and "high stakes" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_queue_cli_a_bad_role_exits_non_zero_naming_the_known_roles(capsys):
    assert main(["review", "queue", "--role", "nobody", str(DATA / "metrics.jsonl")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no review queue for role 'nobody'" in captured.err
    for role in ("compliance", "qa", "team_lead"):
        assert role in captured.err
    assert main(["review", "queue", "--role", "nobody", "--journal", "/nonexistent/j.sqlite3"]) == 2
    assert "known roles" in capsys.readouterr().err


def test_queue_cli_over_journal_enqueues_once(tmp_path, capsys):
    from hitl_console.feeds.recording import read_recording

    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        journal.append_events("prod", read_recording(DATA / "metrics.jsonl").events)
    assert main(["review", "queue", "--journal", str(path), "--role", "compliance"]) == 0
    captured = capsys.readouterr()
    header, rows = queue_lines(captured.out)
    assert header == QUEUE_HEADER  # the same columns as over recordings
    assert any(r[1] == "compliance" and r[2] == "c07" and r[4] == "free" for r in rows)
    assert all(len(r) == len(QUEUE_HEADER) for r in rows)
    assert "triggers: high stakes" in captured.out
    assert main(["review", "queue", "--role", "compliance", str(DATA / "metrics.jsonl")]) == 0
    from_files = {r[2]: r[:4] for r in queue_lines(capsys.readouterr().out)[1]}
    assert {r[2]: r[:4] for r in rows} == from_files  # same score, queue, reason, whichever the source
    with ReviewStore.open(path) as store:
        n = len(store.items())
        assert store.claim("compliance:prod:c07", "ana")
    assert main(["review", "queue", "--journal", str(path)]) == 0
    captured = capsys.readouterr()
    assert "0 newly queued" in captured.err and "claimed by ana" in captured.out
    with ReviewStore.open(path) as store:
        assert len(store.items()) == n


def test_store_version_changes_with_its_own_writes_and_another_connections(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        store = ReviewStore(journal)
        before = store.version()
        assert store.version() == before  # nothing written: a screen need not read again
        store.add_items([NewItem("c-1", "qa", "qa", "sampled", 0.4, feed="prod")])  # the session queueing
        mine = store.version()
        assert mine != before
        with Journal(path) as other_journal:  # another reviewer's console on the same file
            (item,) = ReviewStore(other_journal).items()
            assert ReviewStore(other_journal).claim(item.item_id, "bob")
        assert store.version() != mine
