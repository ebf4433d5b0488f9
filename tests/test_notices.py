"""The timeline's notices: each says a thing once, in words a supervisor reads
("root joined and took over from the AI", not "root joined" then
"escalated: root joined"). Built by the real signal engine."""

from __future__ import annotations

from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.state import Notice, TriggerHit
from tests.test_triggers import Feed


def notices(f: Feed) -> list[str]:
    return [i.text for i in f.state.timeline if isinstance(i, Notice)]


def test_joining_an_ai_held_chat_is_one_notice_and_handing_back_another() -> None:
    f = Feed(SignalEngine())
    f.start()
    f.customer("where is my parcel?", sentiment=0.0)
    f.send("human.joined", agent="root")
    assert f.state.escalated  # joining still counts as the escalation
    f.send("human.left", agent="root", back_to_ai=True)
    assert notices(f)[1:] == ["root joined and took over from the AI", "root handed back to the AI"]
    assert notices(f)[0] == "conversation started (chat, queue billing); the AI answers"


def test_joining_a_waiting_customer_and_leaving_without_handing_back() -> None:
    f = Feed(SignalEngine())
    f.start()
    f.customer("I want a human now", sentiment=-0.3)
    assert f.state.holder == "waiting"
    f.send("human.joined", agent="ann")
    f.send("human.left", agent="ann", back_to_ai=False)
    said = notices(f)
    assert said[1:] == [
        "escalated to a human",  # the trigger just before it says why
        "ann joined",
        "ann left without handing back; the customer waits for a human",
    ]
    assert [i.kind for i in f.state.timeline if isinstance(i, TriggerHit)] == ["human_request"]


def test_the_ais_request_is_said_by_its_trigger_once() -> None:
    f = Feed(SignalEngine())
    f.start()
    f.customer("my card was charged twice", sentiment=-0.1)
    f.send("ai.escalation_requested", reason="customer disputes a charge")
    hits = [i for i in f.state.timeline if isinstance(i, TriggerHit)]
    assert [h.kind for h in hits] == ["ai_request"] and "customer disputes a charge" in hits[0].reason
    assert notices(f)[1:] == ["escalated to a human"]
    f.send("ai.escalation_requested", reason="still disputed")  # while the first request stands
    assert notices(f)[-1] == "the AI asked again for a human: still disputed"


def test_approval_notices_name_who_and_what() -> None:
    f = Feed(SignalEngine())
    f.start()
    f.send("approval.requested", approval_id="ap1", action="refund", amount=90.0, currency="USD")
    f.send("approval.resolved", approval_id="ap1", decision="approved", by="dana")
    f.send("approval.requested", approval_id="ap2", action="credit", amount=5.0, currency="USD")
    f.send("approval.resolved", approval_id="ap2", decision="denied")
    assert notices(f)[-2:] == ["dana approved refund (ap1)", "credit (ap2) denied"]



def test_asking_the_person_who_holds_the_chat_for_a_person_is_no_request() -> None:
    """Said to the supervisor who joined, "I'd rather explain it to a person"
    fired "customer asked for a human" again: the header of a chat held by YOU
    said the customer wanted a person."""
    f = Feed(SignalEngine())
    f.start()
    f.customer("I want to speak to a human", sentiment=-0.2)
    f.send("human.joined", agent="root")
    f.customer("Hi, thanks. I'd just rather explain it to a person.", sentiment=0.5)
    assert "human_request" not in f.state.active
    f.send("human.left", agent="root", back_to_ai=True)
    f.customer("Can I speak to a human again please", sentiment=-0.1)
    assert "human_request" in f.state.active  # with the AI, it is a request again
