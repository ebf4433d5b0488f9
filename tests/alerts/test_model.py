"""Alert wording: a trigger's name is said once, in words."""

from hitl_console.alerts.model import trigger_alert
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
