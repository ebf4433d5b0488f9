"""The handoff summary: content, determinism, JSON and Markdown safety."""

from __future__ import annotations

import json

from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.handoff import build_handoff, escalation_words, extract_entities, holder_words, mood_words, profile_words
from tests.test_triggers import Feed


def escalated_conversation() -> Feed:
    f = Feed(SignalEngine())
    f.start(customer={"id": "u-77", "name": "Ann", "tier": "gold", "lifetime_value": 4200.0, "open_complaints": 1, "locale": "en-GB"})
    f.customer("hi", sentiment=0.1)
    f.customer("I was charged twice for order 5531, $84.20 each time. Mail me at ann.smith@example.com", sentiment=-0.1,
               intent="billing_dispute", topics=["billing"])
    f.send("ai.action", name="lookup_order", status="ok", detail="order 5531 found")
    f.ai("I can see one charge of $84.20 on order 5531.", 0.41)
    f.send("ai.action", name="refund", status="failed", amount=84.2, currency="USD", detail="gateway timeout")
    f.customer("This is useless. Call me on +44 7700 900123 or get me a real person", sentiment=-0.7)
    f.send("approval.requested", approval_id="ap-9", action="goodwill credit", amount=600.0, currency="USD",
           rationale="double charge and failed refund")
    return f


def test_summary_content():
    f = escalated_conversation()
    h = build_handoff(f.state)
    assert h.conversation_id == "c-1"
    assert h.need.startswith("I was charged twice for order 5531")  # "hi" is not the need
    assert h.intents == ["billing_dispute"] and h.topics == ["billing"]
    assert "order 5531" in h.entities["references"]
    assert "84.20 USD" in h.entities["amounts"]
    assert h.entities["emails"] == ["a***@example.com"]
    assert h.entities["phones"] == ["***23"]
    assert [(a["name"], a["status"]) for a in h.actions] == [("lookup_order", "ok"), ("refund", "failed")]
    assert h.answers[-1]["confidence"] == 0.41 and "$84.20" in h.answers[-1]["text"]
    assert [t["kind"] for t in h.triggers] == ["low_confidence", "sentiment", "human_request", "high_stakes"]
    assert all(t["reason"] for t in h.triggers)
    assert h.escalated_at_seq is not None and h.escalation_turns == 4
    assert h.sentiment["start"] == 0.1 and h.sentiment["lowest"] == -0.7 and h.sentiment["now"] == -0.7
    assert h.sentiment["trend"] == "worsening" and h.sentiment["estimated"] is False
    assert h.customer["tier"] == "gold" and h.customer["lifetime_value"] == 4200.0 and h.customer["locale"] == "en-GB"
    assert h.pending_approvals[0]["approval_id"] == "ap-9" and h.pending_approvals[0]["amount"] == 600.0
    assert "gold customer" in h.headline and "asked for a person" in h.headline


def test_summary_is_json_and_deterministic():
    a = build_handoff(escalated_conversation().state).to_dict()
    b = build_handoff(escalated_conversation().state).to_dict()
    assert json.loads(json.dumps(a)) == a
    assert a == b
    assert "ann.smith@example.com" in json.dumps(a)  # raw text stays in the dict


def test_markdown_has_sections_and_escapes_untrusted_text():
    f = escalated_conversation()
    md = build_handoff(f.state).to_markdown()
    for section in ("## Handoff: c\\-1", "### What the customer wants", "### What the AI tried",
                    "### Why it needs a person", "### Sentiment", "### Customer", "### Pending approvals"):
        assert section in md, section
    assert "`refund` failed 84.20 USD" in md
    assert "+0.10 \u2192 now -0.70: worsening" in md  # the low is the end: said once
    g = Feed(SignalEngine(), cid="evil")
    g.start()
    g.customer("# HEADING [click](http://evil) **bold** \x1b[31mred\x1b[0m\nsecond line", sentiment=-0.5)
    md = build_handoff(g.state).to_markdown()
    assert "\x1b" not in md
    assert "\n# HEADING" not in md and "[click](http" not in md
    assert "\\[click\\]" in md


def test_empty_and_estimated_conversation():
    f = Feed(SignalEngine())
    f.start()
    h = build_handoff(f.state)
    assert h.need is None and h.sentiment["trend"] == "unknown" and h.triggers == []
    assert "Need: not stated yet" in h.to_markdown() and "No warning has fired" in h.to_markdown()
    f.customer("I love this, thank you so much!")
    f.customer("Actually no, this is terrible and broken!!")
    h = build_handoff(f.state)
    assert h.sentiment["estimated"] is True and h.sentiment["trend"] == "worsening"


def test_extract_entities():
    e = extract_entities(["Ticket #A-12345, invoice INV-2024-77 and order no. 998877", "£2k or 30 euros"])
    assert "#A-12345" in e["references"] and "invoice INV-2024-77" in e["references"] and "order 998877" in e["references"]
    assert e["amounts"] == ["2,000.00 GBP", "30.00 EUR"]
    assert e["phones"] == []


def test_why_comes_in_plain_words_and_about_has_no_ids():
    f = escalated_conversation()
    f.customer("get me a human", intent="request_human")
    h = build_handoff(f.state, now=f.ts + 30)
    kinds = [w["kind"] for w in h.why]
    assert kinds[0] == "high_stakes" and "human_request" in kinds and kinds[-1] == "waiting"
    assert all(w["text"][0].isupper() for w in h.why)  # sentences, not ids
    assert h.about == ["billing", "billing dispute"]  # request_human only repeats the why
    md = h.to_markdown()
    assert md.index("### Why it needs a person") < md.index("### What the customer wants")
    assert "**human_request**" not in md and "- About: billing, billing dispute" in md


def test_nothing_is_said_in_words_not_zeros():
    """A new customer with no complaints, escalated at once: no "0 open
    complaints", "lifetime value 0", "after 0 turns" or "held by waiting"."""
    f = Feed(SignalEngine())
    f.start(customer={"id": "u-1", "name": "Bo", "lifetime_value": 0.0, "open_complaints": 0})
    f.customer("I want a human right now please", sentiment=-0.2)
    h = build_handoff(f.state)
    md = h.to_markdown()
    assert "0 open complaint" not in md and "lifetime value 0" not in md
    assert "### Customer\n- id u\\-1\n" in md  # only what is known
    assert "after 0 turns" not in md and "Escalated after 1 turn, 1s in" in md
    assert "- now -0.20: steady" in md  # one reading is not "start -> lowest -> now" of one number
    assert "held by waiting" not in md and md.rstrip().endswith("1 turn, waiting for a human")
    assert " \u2014 " not in h.headline.split(":", 1)[0]


def test_handoff_words():
    assert profile_words({"tier": "gold", "lifetime_value": 4200.0, "open_complaints": 1, "locale": "en-GB"}) == [
        "gold tier", "lifetime value 4,200.00", "1 open complaint", "en-GB"]
    assert profile_words({"open_complaints": 0, "lifetime_value": 0.0, "tier": None}) == []
    assert profile_words({"open_complaints": 3}) == ["3 open complaints"]
    assert escalation_words(0, 0.0) == "escalated at the first message"
    assert escalation_words(1, 130.0) == "escalated after 1 turn, 2m10s in"
    assert escalation_words(None, None) == ""
    assert mood_words({"start": 0.1, "lowest": -0.7, "now": -0.5, "points": 3}) == "+0.10 \u2192 lowest -0.70 \u2192 now -0.50"
    assert mood_words({"start": -0.7, "lowest": -0.7, "now": 0.2, "points": 2}) == "-0.70 \u2192 now +0.20"
    assert mood_words({"start": 0.3, "lowest": 0.3, "now": 0.3, "points": 1}) == "now +0.30"
    assert holder_words("ai", None) == "the AI has it" and holder_words("human", "ann") == "held by ann"
    assert holder_words("ended", None, "resolved") == "ended (resolved)"


def test_the_wait_is_measured_on_the_clock_not_on_the_mood():
    """``now`` is the clock even when the customer's sentiment is known (a local
    of the same name once replaced it with the last sentiment: "waiting for 0s")."""
    f = Feed(SignalEngine())
    f.start()
    f.customer("I want a human right now please", sentiment=-0.2)
    state = f.state
    assert state.holder == "waiting"
    since = state.waiting_since if state.waiting_since is not None else state.escalated_ts
    h = build_handoff(state, now=since + 125)
    assert h.why[-1] == {"kind": "waiting", "text": "Waiting for a human for 2m05s."}
    assert build_handoff(state).why[-1]["kind"] != "waiting"  # no clock, no wait


def test_the_customer_card_says_the_profile_as_the_handoff_does():
    """The card reuses ``profile_words``: a zero says nothing, a count is words."""
    from hitl_console.tui.widgets.customer_card import render_customer

    f = Feed(SignalEngine())
    f.start(customer={"id": "u-1", "name": "Bo", "lifetime_value": 0.0, "open_complaints": 0})
    card = str(render_customer(f.state))
    assert "open complaint" not in card and "lifetime value" not in card and "Bo" in card
    g = Feed(SignalEngine())
    g.start(customer={"id": "u-2", "tier": "gold", "lifetime_value": 4200.0, "open_complaints": 1})
    card = str(render_customer(g.state)).splitlines()
    assert "gold tier" in card and "lifetime value 4,200.00" in card and "1 open complaint" in card


def test_signed_figures_never_read_minus_zero():
    assert mood_words({"start": -0.001, "lowest": -0.004, "now": -0.002, "points": 3}).count("-0.00") == 0
