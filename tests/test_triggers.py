"""Each trigger: what must fire, what must not, clearing and firing again."""

from __future__ import annotations

import pytest

from hitl_console.config import Config, Thresholds, TopicRules
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.highstakes import HighStakesDetector, parse_amounts, words_of
from hitl_console.engine.triggers import is_human_request
from hitl_console.protocol.events import event_adapter

CID = "c-1"


class Feed:
    """Builds validated events for one conversation with increasing seq and ts."""

    def __init__(self, engine: SignalEngine, cid: str = CID, ts: float = 1_000.0) -> None:
        self.engine = engine
        self.cid = cid
        self.seq = 0
        self.ts = ts

    def send(self, type_: str, dt: float = 1.0, **fields):
        self.seq += 1
        self.ts += dt
        event = event_adapter.validate_python(
            {"v": 1, "type": type_, "seq": self.seq, "ts": self.ts, "conversation_id": self.cid, **fields}
        )
        return self.engine.apply(event)

    def start(self, **fields):
        base = {"channel": "chat", "queue": "billing", "customer": {"id": "u-1"}, "handled_by": "ai"}
        base.update(fields)
        return self.send("conversation.started", **base)

    def customer(self, text: str, **fields):
        return self.send("message", role="customer", text=text, **fields)

    def ai(self, text: str, confidence: float | None = 0.9, **fields):
        if confidence is not None:
            fields["confidence"] = confidence
        return self.send("message", role="ai", text=text, **fields)

    @property
    def state(self):
        return self.engine.conversations[self.cid]


def kinds(update) -> list[str]:
    return [h.kind for h in update.fired]


@pytest.fixture
def feed() -> Feed:
    f = Feed(SignalEngine())
    f.start()
    return f


# ------------------------------------------------------------ low_confidence


def test_low_confidence_fires_clears_and_fires_again(feed):
    assert kinds(feed.ai("Your order ships tomorrow.", 0.9)) == []
    u = feed.ai("I think it may have been refunded?", 0.41)
    assert kinds(u) == ["low_confidence"]
    assert "0.41" in u.fired[0].reason and "refunded" in u.fired[0].reason
    assert u.fired[0].seq == feed.seq
    assert kinds(feed.ai("Maybe it was sent?", 0.30)) == []  # still active: not listed again
    feed.ai("Your refund of $20 was issued on Monday.", 0.55)  # at the threshold: clears
    assert "low_confidence" not in feed.state.active
    assert kinds(feed.ai("Perhaps try again?", 0.2)) == ["low_confidence"]
    assert [h.kind for h in feed.state.triggers].count("low_confidence") == 2


def test_ai_turn_without_confidence_changes_nothing(feed):
    feed.ai("Hmm?", 0.2)
    feed.ai("Let me check that for you.", None)
    assert "low_confidence" in feed.state.active


# ------------------------------------------------------------ high_stakes


@pytest.mark.parametrize(
    "text",
    [
        "This is fraud, I never made these purchases",
        "I did not authorize this charge",
        "There are unauthorised transactions on my card",
        "My card was stolen and someone used it",
        "I'm calling my lawyer",
        "I will sue you for this",
        "See you in court",
        "I'm reporting this to the ombudsman",
        "The charger caught fire last night",
        "There's smoke coming out of the heater",
        "My daughter got burned by the kettle",
        "I got an electric shock from the socket",
        "I can smell gas near the boiler",
        "My account was hacked",
        "Someone changed my password and now I can't log in",
        "There was an unauthorized login from another country",
        "I think I've been the victim of a SIM swap",
        "I want my $1,200 back",
        "You took 1200 EUR from me",
        "That's £2k you owe me",
    ],
)
def test_high_stakes_fires(feed, text):
    u = feed.customer(text)
    assert "high_stakes" in kinds(u), text
    hit = next(h for h in u.fired if h.kind == "high_stakes")
    assert hit.evidence and hit.evidence.strip("\u2026") in text or hit.evidence in text


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice $84",
        "I was charged twice for order 5531",
        "Can I get a refund of $25 please?",
        "How do I fire up the app?",
        "I'm not going to sue, I just want my money back",
        "I'm shocked at how slow this is",
        "Can you send me a password reset link?",
        "I burned through my data allowance",
        "The tennis court booking page is down",
        "No smoke or sparks, it just won't turn on",
        "You should fire that bot",
        "Order 5531 hasn't arrived",
    ],
)
def test_high_stakes_does_not_fire_on_everyday_text(feed, text):
    assert "high_stakes" not in kinds(feed.customer(text)), text


def test_high_stakes_from_amounts_topics_and_patterns():
    f = Feed(SignalEngine())
    f.start()
    assert kinds(f.send("ai.action", name="refund", status="pending", amount=84.0, currency="USD")) == []
    u = f.send("ai.action", name="refund", status="pending", amount=900.0, currency="USD")
    assert kinds(u) == ["high_stakes"] and "900" in u.fired[0].reason

    f = Feed(SignalEngine(), cid="c-2")
    f.start()
    u = f.send("approval.requested", approval_id="a1", action="goodwill credit", amount=750.0, currency="EUR")
    assert kinds(u) == ["high_stakes"] and u.approval is not None

    f = Feed(SignalEngine(), cid="c-3")
    f.start()
    u = f.customer("hello", topics=["chargeback"])
    assert kinds(u) == ["high_stakes"] and "chargeback" in u.fired[0].reason

    config = Config(topics=TopicRules(high_stakes=[], extra_patterns=[r"\bbankrupt\w*"]))
    f = Feed(SignalEngine(config), cid="c-4")
    f.start()
    assert kinds(f.customer("hi", topics=["chargeback"])) == []
    assert "high_stakes" in kinds(f.customer("This will make me bankrupt", sentiment=0.0))


def test_high_stakes_is_sticky(feed):
    feed.customer("I'm calling my lawyer")
    for _ in range(3):
        feed.customer("Thanks, that's all fine now, great service")
    assert "high_stakes" in feed.state.active
    assert [h.kind for h in feed.state.triggers].count("high_stakes") == 1


def test_money_in_ai_turn_counts_but_ai_keywords_do_not(feed):
    assert kinds(feed.ai("I cannot give legal advice, please consult a lawyer.")) == []
    assert kinds(feed.ai("I have issued a refund of $2,400.")) == ["high_stakes"]


def test_parse_amounts():
    assert parse_amounts("$1,200 and 1200 EUR and £2k and 3 grand and $84.20") == [
        (1200.0, "USD", "$1,200"),
        (2000.0, "GBP", "£2k"),
        (84.2, "USD", "$84.20"),
        (1200.0, "EUR", "1200 EUR"),
        (3000.0, None, "3 grand"),
    ]
    assert parse_amounts("order 5531, 2 items") == []


def test_detector_threshold_is_configurable():
    d = HighStakesDetector(Thresholds(high_stakes_amount=50), TopicRules())
    assert d.check_text("I was charged twice $84") is not None


# ------------------------------------------------------------ sentiment


def test_sentiment_floor_and_clear(feed):
    assert kinds(feed.customer("Hi, I have a question", sentiment=0.1)) == []
    u = feed.customer("whatever", sentiment=-0.7)
    assert kinds(u) == ["sentiment"] and "-0.70" in u.fired[0].reason
    assert kinds(feed.customer("still bad", sentiment=-0.8)) == []
    feed.customer("meh", sentiment=-0.2)  # not above the clear level (-0.1): stays
    assert "sentiment" in feed.state.active
    feed.customer("better", sentiment=0.2)
    assert "sentiment" not in feed.state.active
    assert kinds(feed.customer("worse", sentiment=-0.9)) == ["sentiment"]


def test_sentiment_sharp_drop(feed):
    feed.customer("great", sentiment=0.8)
    feed.customer("good", sentiment=0.6)
    u = feed.customer("hmm", sentiment=0.0)  # 0.7 below the average 0.7, above the floor
    assert kinds(u) == ["sentiment"] and "fell" in u.fired[0].reason


@pytest.mark.parametrize("goodbye", ["no thanks", "nope, all good", "No, nothing else, thanks", "No that's all, bye",
                                     "nope, all good thanks", "Nothing else. Thanks!"])
def test_a_polite_closing_is_not_a_sentiment_drop(goodbye):
    """VADER reads "no" in "no thanks" as negation (-0.34; "nope, all good thanks" -0.59,
    below the floor): the end of every happy conversation would look like a drop."""
    f = Feed(SignalEngine())
    f.start()
    f.customer("That's great, it works now, thank you so much!")
    f.ai("Glad I could help! Anything else?")
    assert kinds(f.customer(goodbye)) == []
    turn = f.state.turns[-1]
    assert turn.sentiment_estimated and turn.sentiment >= 0.0


@pytest.mark.parametrize("text", ["no good", "No thanks, this is useless", "No. This is useless and I am angry."])
def test_a_negative_reply_that_is_no_polite_closing_still_fires(text):
    f = Feed(SignalEngine())
    f.start()
    f.customer("That's great, it works now, thank you so much!")
    f.ai("Glad I could help! Anything else?")
    assert kinds(f.customer(text)) == ["sentiment"]


def test_feed_sentiment_on_a_closing_is_trusted(feed):
    feed.customer("great", sentiment=0.8)
    assert kinds(feed.customer("no thanks", sentiment=-0.6)) == ["sentiment"]


def test_sentiment_is_estimated_when_missing(feed):
    u = feed.customer("This is the worst, most useless service I have ever had!!")
    turn = feed.state.turns[-1]
    assert turn.sentiment_estimated and turn.sentiment < -0.5
    assert kinds(u) == ["sentiment"]
    feed.customer("ok", sentiment=0.3)
    assert feed.state.turns[-1].sentiment_estimated is False


def test_voice_tone_is_blended_into_an_estimate_but_never_into_a_fed_sentiment(feed):
    feed.customer("fine", sentiment=0.0, voice={"tone": -1.0, "interruptions": 3})
    turn = feed.state.turns[-1]
    assert turn.voice_tone == -1.0 and turn.interruptions == 3
    assert turn.sentiment == 0.0  # the feed's own sentiment is kept as sent
    feed.customer("I would like to know the opening hours", voice={"tone": -1.0, "interruptions": 0})
    turn = feed.state.turns[-1]
    assert turn.sentiment_estimated and turn.sentiment <= -0.5  # flat words said angrily: past the floor


# ------------------------------------------------------------ loop


def test_customer_repeat_fires_loop(feed):
    feed.customer("Where is my refund for order 5531?")
    feed.ai("Refunds take 5-7 working days to arrive.")
    u = feed.customer("where is my refund for order 5531??")
    assert kinds(u) == ["loop"]
    assert "repeated" in u.fired[0].reason and feed.state.loop_warning


def test_short_turns_and_different_questions_are_not_loops(feed):
    for text in ("yes", "ok", "yes", "ok", "no"):
        feed.customer(text)
    feed.customer("Where is my refund?")
    feed.customer("Can I change my delivery address?")
    assert "loop" not in [h.kind for h in feed.state.triggers]


def test_ai_repeat_fires_loop_and_progress_clears_it(feed):
    feed.customer("I need my invoice for March please")
    feed.ai("You can download invoices from your account page.")
    feed.customer("I did that and it is not there")
    u = feed.ai("You can download invoices from your account page!")
    assert kinds(u) == ["loop"] and "AI repeated" in u.fired[0].reason
    feed.send("ai.action", name="send_invoice", status="ok")
    assert "loop" not in feed.state.active and feed.state.loop_warning is None
    feed.customer("Got it, but the VAT number is missing from it")
    u = feed.ai("You can download invoices from your account page.")
    assert kinds(u) == ["loop"]  # listed again after it cleared


def test_no_progress_turns():
    config = Config(thresholds=Thresholds(no_progress_turns=4))
    f = Feed(SignalEngine(config))
    f.start()
    f.customer("My parcel has not arrived yet")
    f.ai("Let me check the tracking for you.")
    f.customer("It said delivered but nothing is here")
    u = f.ai("Sometimes parcels are left with neighbours.")
    assert kinds(u) == ["loop"] and "4 turns without progress" in u.fired[0].reason


def test_no_progress_seconds_by_event_and_by_tick():
    config = Config(thresholds=Thresholds(no_progress_seconds=60))
    engine = SignalEngine(config)
    f = Feed(engine)
    f.start()
    f.customer("Hello, anyone there? I need help with a charge")
    assert engine.tick(f.ts + 30) == []
    updates = engine.tick(f.ts + 61)
    assert [kinds(u) for u in updates] == [["loop"]]
    assert "with no progress" in updates[0].fired[0].reason

    g = Feed(SignalEngine(config), cid="c-2")
    g.start()
    u = g.customer("Are you still there? I'm waiting about the charge", dt=120)
    assert "loop" in kinds(u)


# ------------------------------------------------------------ human_request


@pytest.mark.parametrize(
    "text",
    [
        "Can I speak to a real person?",
        "connect me with an agent",
        "I want a human",
        "Let me talk to your manager",
        "representative",
        "Agent!",
        "human please",
        "I need to speak to someone about this",
        "Is there a person I can talk to?",
        "Please escalate this",
    ],
)
def test_human_request_fires(feed, text):
    u = feed.customer(text)
    assert "human_request" in kinds(u), text
    assert text[:10].lower() in u.fired[-1].reason.lower()


@pytest.mark.parametrize(
    "text",
    [
        "are you human?",
        "You're not human, are you?",
        "Are you a real person or a bot?",
        "The agent told me it would arrive Monday",
        "I don't want to talk to anyone, just fix it",
        "I talked to someone yesterday about this",
        "thanks, that helps",
    ],
)
def test_human_request_false_positives(feed, text):
    assert "human_request" not in kinds(feed.customer(text)), text


def test_human_request_clears_when_a_human_joins_and_can_fire_again(feed):
    feed.customer("I want to speak to a human")
    feed.send("human.joined", agent="dana")
    assert "human_request" not in feed.state.active
    feed.send("human.left", agent="dana", back_to_ai=True)
    assert kinds(feed.customer("Give me a real person again please")) == ["human_request"]


def test_is_human_request_directly():
    lower = "can i speak to a real person?"
    assert is_human_request(lower, words_of(lower)) == "speak to a real person"


# ------------------------------------------------------------ ai_request


def test_ai_request(feed):
    u = feed.send("ai.escalation_requested", reason="Customer disputes a legal notice")
    assert kinds(u) == ["ai_request"] and "legal notice" in u.fired[0].reason
    assert kinds(feed.send("ai.escalation_requested", reason="again")) == []
    feed.send("human.joined", agent="sam")
    assert "ai_request" not in feed.state.active


def test_every_hit_has_a_known_kind_seq_and_reason(feed):
    feed.customer("I'm calling my lawyer, this is the worst service ever!!")
    feed.ai("Sorry?", 0.1)
    for hit in feed.state.triggers:
        assert hit.kind in {"low_confidence", "high_stakes", "sentiment", "loop", "human_request", "ai_request"}
        assert hit.reason and 1 <= hit.seq <= feed.seq


def _clock(ts: float) -> str:
    import time

    return time.strftime("%H:%M:%S", time.localtime(ts))


def test_loop_reasons_say_times_and_durations_not_seq_numbers():
    """What the supervisor reads in the alert: a time of day, "waiting 26 min", never "seq 528"."""
    engine = SignalEngine(Config(thresholds=Thresholds(no_progress_seconds=600)))
    f = Feed(engine, ts=1_763_931_600.0)
    f.start()
    f.customer("Where is my refund for order 5531?")
    asked = f.ts
    f.ai("Refunds take 5-7 working days to arrive.", dt=4.0)
    u = f.customer("where is my refund for order 5531??", dt=50.0)
    reason = u.fired[0].reason
    assert reason.startswith(f"customer repeated what they said at {_clock(asked)} (")
    assert "seq" not in reason

    g = Feed(engine, cid="c-wait", ts=1_763_931_600.0)
    g.start()
    since = g.ts  # the last progress: the start (a customer asking is not progress)
    g.customer("Hello, anyone there? I need help with a charge")
    updates = engine.tick(since + 1577)
    reason = next(h.reason for u in updates for h in u.fired if u.conversation_id == "c-wait")
    assert reason == f"waiting 26 min with no progress (since {_clock(since)})"

    h = Feed(SignalEngine(), cid="c-ai")
    h.start()
    h.customer("I need my invoice for March please")
    h.ai("You can download invoices from your account page.")
    first = h.ts
    h.customer("I did that and it is not there")
    u = h.ai("You can download invoices from your account page!")
    assert u.fired[0].reason.startswith(f"AI repeated its answer from {_clock(first)} (")


def test_a_sentiment_reason_never_reads_minus_zero():
    """An average of -0.004 printed as "average -0.00": it is 0.00."""
    from hitl_console.config import Config, Thresholds

    feed = Feed(SignalEngine(Config(thresholds=Thresholds(sentiment_floor=-0.9))))
    feed.start()
    feed.customer("fine", sentiment=-0.004)
    u = feed.customer("hmm, not really", sentiment=-0.65)
    assert kinds(u) == ["sentiment"] and "(average +0.00 to -0.65)" in u.fired[0].reason
