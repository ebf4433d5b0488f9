"""Alert wording: a trigger's name is said once, in words."""

from hitl_console.alerts.model import Alert, trigger_alert
from hitl_console.engine.attention import trigger_words
from hitl_console.engine.state import TriggerHit


def _hit(kind: str, reason: str) -> TriggerHit:
    return TriggerHit(kind, 12, 1_700_000_000.0, reason, None, 3)


def test_an_alert_says_the_trigger_once_in_words() -> None:
    ai = trigger_alert("c-1020", _hit("ai_request", "AI asked for a human: “low confidence”"), "billing")
    assert ai.text == "c-1020 [billing] AI asked for a human: “low confidence”"
    person = trigger_alert("c-1", _hit("human_request", "customer asked for a person (72% sure): “a human please”"))
    assert person.text == "c-1 customer asked for a person (72% sure): “a human please”"
    assert "_" not in person.text and "request" not in person.text


def test_a_reason_that_does_not_name_its_trigger_gets_the_name_first() -> None:
    assert trigger_words("high_stakes", "legal threat: “my lawyer”") == "high stakes: legal threat: “my lawyer”"
    assert trigger_words("loop", "customer repeated what they said at 21:38:38 (91% similar): “x”").startswith("loop: customer")
    # the lead already says it: no "sentiment: customer sentiment", no "low confidence: AI confidence"
    assert trigger_words("sentiment", "customer sentiment -0.61 at or below -0.50: “x”").startswith("customer sentiment")
    assert trigger_words("low_confidence", "AI confidence 0.31 below 0.50: “x”").startswith("AI confidence")


def test_the_alert_list_says_the_conversation_once() -> None:
    """The alerts screen has a Conversation column: its Alert column read "c-1020 [billing] ..." again."""
    alert = Alert(ts=0.0, level="warning", kind="trigger", text="c-1020 [billing] AI asked for a human", conversation_id="c-1020")
    assert alert.text_without_id() == "[billing] AI asked for a human"
    other = Alert(ts=0.0, level="info", kind="feed", text="feed prod is down: connection refused")
    assert other.text_without_id() == other.text
    prefix_only = Alert(ts=0.0, level="info", kind="trigger", text="c-10200 looping", conversation_id="c-1020")
    assert prefix_only.text_without_id() == "c-10200 looping"  # another id that merely starts alike stays
