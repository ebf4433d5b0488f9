"""The risk score: a logistic model over continuous evidence that ranks
conversations, stays in [0, 1], grows with the wait, and reads ``[risk]``."""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hitl_console.config import Config, RiskConfig, parse_config
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.risk import FEATURES, RiskModel, risk_features, sigmoid
from tests.test_triggers import Feed


def _calm(engine: SignalEngine, cid: str) -> Feed:
    f = Feed(engine, cid=cid)
    f.start()
    f.customer("Hi, can I change the delivery address on my order?", sentiment=0.2)
    f.ai("Of course, I've updated it to the new address.", 0.93)
    f.send("ai.action", name="update_address", status="ok")
    f.customer("Great, thanks a lot!", sentiment=0.7)
    f.ai("You're welcome, have a nice day.", 0.95)
    return f


def _angry_looping_waiting(engine: SignalEngine, cid: str) -> Feed:
    f = Feed(engine, cid=cid)
    f.start()
    f.customer("My refund still hasn't arrived, it has been three weeks now.", sentiment=-0.3)
    f.ai("Refunds usually take 5 to 7 working days.", 0.6)
    f.customer("My refund still hasn't arrived, it has been three weeks now!", sentiment=-0.6)
    f.ai("Refunds usually take 5 to 7 working days.", 0.5)
    f.customer("THIS IS RIDICULOUS. Where is my money?", sentiment=-0.9, dt=1.0)
    return f


def test_config_fields_are_the_features() -> None:
    fields = [name for name in RiskConfig.model_fields if name != "bias"]
    assert fields == list(FEATURES)


def test_calm_conversation_scores_low_and_angry_looping_waiting_one_high() -> None:
    engine = SignalEngine()
    calm = _calm(engine, "calm")
    bad = _angry_looping_waiting(engine, "bad")
    assert "loop" in bad.state.active
    assert calm.state.risk < 0.1
    assert bad.state.risk > 0.5 > calm.state.risk
    assert [s.conversation_id for s in engine.active()] == ["bad", "calm"]
    # the same bad conversation keeps rising while the customer waits for an answer
    before = bad.state.risk
    engine.tick(bad.ts + 600)
    assert bad.state.risk > before
    # an answer ends the wait
    waited = bad.state.risk
    bad.ai("I'm sorry, I can see the refund was never sent; I've sent it now.", 0.95, dt=600)
    assert bad.state.risk < waited


def test_continuous_not_on_off() -> None:
    """Two conversations with the same triggers (none) differ by how negative the customer is."""
    engine = SignalEngine()
    risks = []
    for i, s in enumerate((0.5, 0.0, -0.2, -0.4)):
        f = Feed(engine, cid=f"c{i}")
        f.start()
        f.customer("Where is my parcel? It was due on Monday.", sentiment=s)
        assert not f.state.active
        risks.append(f.state.risk)
    assert risks[0] == risks[1] < risks[2] < risks[3]


def test_lower_ai_confidence_raises_the_risk_even_above_the_trigger() -> None:
    engine = SignalEngine()
    risks = []
    for i, c in enumerate((0.95, 0.68, 0.6)):
        f = Feed(engine, cid=f"c{i}")
        f.start()
        f.customer("Can I return a gift without a receipt?", sentiment=0.0)
        f.ai("Yes, within 30 days.", c)
        assert "low_confidence" not in f.state.active
        risks.append(f.state.risk)
    assert risks[0] < risks[1] < risks[2]


def test_model_certainty_is_weighed() -> None:
    """A high-stakes finding the scorer is half sure of weighs less than a sure one."""
    base = dict(
        active={"high_stakes"}, fired={"high_stakes"}, human_request_strength=1.0, since_progress=1,
        no_progress_turns=10, last_sentiment=0.0, sentiment_drop=0.0, lowest_sentiment=0.0,
        last_confidence=0.9, customer_turns=1, customer_words=10, wait_s=0.0, routing_flags=0,
        valuable_customer=False, pending_any=False, pending_large=False,
    )
    model = RiskModel.from_config(RiskConfig())
    sure = model.score(risk_features(high_stakes_strength=1.0, **base))
    half = model.score(risk_features(high_stakes_strength=0.5, **base))
    none = model.score(risk_features(high_stakes_strength=1.0, **{**base, "active": set(), "fired": set()}))
    assert none < half < sure


def test_monotone_in_wait_time() -> None:
    engine = SignalEngine()
    f = Feed(engine)
    f.start()
    f.customer("I need to cancel my subscription before it renews tonight.", sentiment=-0.1)
    start = f.ts
    seen = [f.state.risk]
    for minutes in (0.5, 1, 2, 5, 10, 20, 40):
        engine.tick(start + 60 * minutes)
        seen.append(f.state.risk)
    assert all(a < b for a, b in zip(seen, seen[1:])), seen
    # the features say so too: wait is ln(1 + minutes)
    x = engine.risk_features(f.cid, start + 600)
    assert x[FEATURES.index("wait")] == pytest.approx(math.log1p(10))


def test_wait_rescoring_is_scheduled_sparsely() -> None:
    """An unanswered customer is rescored at 30 s and doubling intervals, not every second."""
    engine = SignalEngine()
    f = Feed(engine)
    f.start()
    f.customer("hello? is anyone there", sentiment=0.0)
    start = f.ts
    changes = 0
    last = f.state.risk
    for t in range(1, 1801):
        engine.tick(start + t)
        if f.state.risk != last:
            changes, last = changes + 1, f.state.risk
    assert 5 <= changes <= 8  # 30, 60, 120, 240, 480, 960 s (+ the no-progress rule at 600 s)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=len(FEATURES), max_size=len(FEATURES)),
    st.floats(min_value=-20, max_value=20),
    st.lists(st.floats(min_value=-20, max_value=20), min_size=len(FEATURES), max_size=len(FEATURES)),
)
def test_score_stays_in_unit_interval(x: list[float], bias: float, weights: list[float]) -> None:
    r = RiskModel(bias, weights).score(x)
    assert 0.0 <= r <= 1.0 and not math.isnan(r)


def test_sigmoid_extremes() -> None:
    assert sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0 and sigmoid(0.0) == 0.5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["calm", "angry", "wait", "hacked", "ai", "approval"]), min_size=1, max_size=12))
def test_engine_risk_stays_in_unit_interval(steps: list[str]) -> None:
    engine = SignalEngine()
    f = Feed(engine)
    f.start(customer={"id": "u", "tier": "vip"}, contact_reason="complaint")
    for step in steps:
        if step == "calm":
            f.customer("ok thanks, that works", sentiment=0.6)
        elif step == "angry":
            f.customer("this is useless and I am furious", sentiment=-1.0)
        elif step == "wait":
            engine.tick(f.ts + 3000)
        elif step == "hacked":
            f.customer("someone hacked my account and took $5,000")
        elif step == "ai":
            f.ai("I can't help with that", 0.0)
        else:
            f.send("approval.requested", approval_id=f"a{f.seq}", action="refund", amount=9000.0)
        assert 0.0 <= f.state.risk <= 1.0
        assert f.state.peak_risk >= f.state.risk


def test_pasted_risk_section_is_what_the_engine_uses() -> None:
    text = """
[risk]
bias = -1.0
negativity = 0.0
message_length = 0.0
customer_turns = 0.0
low_point = 0.0
stuck = 0.0
"""
    config = parse_config(tomllib.loads(text))
    assert config.risk.bias == -1.0 and config.risk.high_stakes == RiskConfig().high_stakes
    engine = SignalEngine(config)
    f = Feed(engine)
    f.start()
    f.customer("I am so angry with you", sentiment=-1.0)
    # every weight of this turn's evidence is 0 (the wait is 0 at once): sigmoid(bias)
    assert f.state.risk == pytest.approx(sigmoid(-1.0))
    default = Feed(SignalEngine(Config()), cid="d")
    default.start()
    default.customer("I am so angry with you", sentiment=-1.0)
    assert default.state.risk != pytest.approx(f.state.risk)


def test_unknown_risk_key_is_an_error() -> None:
    from hitl_console.config import ConfigError

    with pytest.raises(ConfigError, match="risk.negativty: unknown key"):
        parse_config({"risk": {"negativty": 1.0}})


def test_documented_defaults_are_the_config_defaults() -> None:
    """docs/configuration.md and docs/models.md list every [risk] key with the default the config has."""
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    defaults = RiskConfig()
    conf = (docs / "configuration.md").read_text(encoding="utf-8")
    conf = conf[conf.index("## `[risk]`"):]
    table = dict(re.findall(r"^\| `(\w+)` \| (-?[\d.]+) \|", conf, flags=re.M))
    assert set(table) == {"bias", *FEATURES}
    assert all(float(v) == getattr(defaults, k) for k, v in table.items()), table
    models = (docs / "models.md").read_text(encoding="utf-8")
    models = models[models.index("## Risk score"):]
    rows = dict(re.findall(r"^\| `?(\w+)`? \|[^|]*\| (-?[\d.]+) \|", models, flags=re.M))
    assert set(rows) == {"bias", *FEATURES}
    assert all(float(v) == getattr(defaults, k) for k, v in rows.items()), rows
