"""Hard cases for the judgement of text: what must fire and what must stay quiet.

Every case runs through a real ``SignalEngine`` with the shipped config (the
learned scorers where they are the default) unless it says otherwise. The
customer sentences were written for these tests; none appears in a keyword
list (``highstakes``, ``triggers``, ``scorers``) or in a training file
(``training/seeds.py``, and the public data when ``HITL_JUDGEMENT_DATA``
names its directory): ``test_the_cases_are_in_no_training_file`` checks it.

Cases the current model gets wrong are marked ``xfail`` with the reason: they
are the gaps ``docs/models.md`` reports, kept as tests so that a retrained
model shows what it fixed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hitl_console.config import Config, SignalsConfig
from hitl_console.engine.engine import SignalEngine
from hitl_console.engine.highstakes import HighStakesDetector, words_of
from hitl_console.engine.scorers import build_scorers
from tests.test_triggers import Feed, kinds

ROOT = Path(__file__).resolve().parent.parent


def gap(text: str, why: str):
    """A case the shipped model gets wrong (not strict: a better model may pass it)."""
    return pytest.param(text, marks=pytest.mark.xfail(reason=why, strict=False))


def first_turn(text: str, config: Config | None = None, **fields) -> list[str]:
    f = Feed(SignalEngine(config))
    f.start()
    f.customer("Hi, I have a question.")
    f.ai("Of course, how can I help?")
    return kinds(f.customer(text, **fields))


# ------------------------------------------------------------ high_stakes

HIGH_STAKES_FIRE = [
    "my wallet got nicked on the bus this morning, cards and all",
    "there's a cash withdrawal I never did from a machine in another city",
    "my mum's card is being used by someone she doesn't know",
    "a payment to some gaming site I've never heard of just came out of my account",
    gap("somebody got into my profile and swapped the email address",
        "account takeover in other words: judgement-3 0.13 ('someone got into my account and changed the email' 0.95: "
        "'profile' and 'swapped' carry it)"),
    gap("A purchase from some shop in Lisbon showed up and I have never been to Portugal",
        "needs world knowledge (never been there = not mine)"),
]
HIGH_STAKES_QUIET = [
    "I was in hospital, can you waive the late fee?",  # the issue's own case (also a training seed)
    "I was stuck in the hospital last month so I paid late, could you drop the penalty?",
    "can you tell me when my statement is generated",
    "I'd like to change the colour of my card",
    "the parcel came a day late, can I get the $5 shipping back?",
    "how do I set up a standing order to my landlord",
    "which of your plans has the cheapest monthly fee?",
]


@pytest.mark.parametrize("text", HIGH_STAKES_FIRE)
def test_high_stakes_fires_on_fraud_in_the_customers_words(text):
    f = Feed(SignalEngine())
    f.start()
    u = f.customer(text)
    assert "high_stakes" in kinds(u), text
    hit = u.fired[0]
    assert "% sure" in hit.reason, hit.reason  # the model says how sure it is
    assert hit.evidence.rstrip("\u2026") in text  # and quotes the customer's own words


@pytest.mark.parametrize("text", HIGH_STAKES_QUIET)
def test_high_stakes_stays_quiet_on_everyday_requests(text):
    assert "high_stakes" not in first_turn(text), text


def test_a_large_sum_keeps_its_rule():
    """No training data has sums: the rule of ``thresholds.high_stakes_amount`` decides."""
    u = first_turn("please move 2,400 dollars to my savings")
    assert u == ["high_stakes"]
    assert "high_stakes" not in first_turn("please move 40 dollars to my savings")


# ------------------------------------------------------------ human_request

HUMAN_FIRE = [
    "can I have a human look at this please",
    "this bot is going in circles, find me an actual person",
    "i wanna chat w/ a real ppl not a machine",
    "get me someone who can actually help, now",
    "i need a proper human being on this, not you",
    "i want a reprisentative",  # a typo the keyword rule cannot read
    "let me talk to your supervisr",
    "hook me up with your customer care team",  # 'hook me up' is in no training text: judgement-3 0.102, threshold 0.096 (a narrow pass)
]
ISSUE_CASES = ["I was in hospital, can you waive the late fee?", "are you human?", "the agent told me to wait",
               "fine. whatever."]
"""The issue's own examples: tested, but they are also training seeds, so not counted as new."""

HUMAN_QUIET = [
    "are you human?",
    "the agent told me to wait",
    "is this chat run by a person or software?",
    "my husband spoke to a representative on Tuesday",
    "the person at the till told me to contact you",
    "I'm a people person, so I like your branch staff",
    "I need this sorted NOW.",
    "how do I connect the router to a new laptop?",
    "can I wire cash to another person overseas?",  # the rule reads "... to a person" as a request
]


@pytest.mark.parametrize("text", HUMAN_FIRE)
def test_human_request_fires_on_any_way_of_asking_for_a_person(text):
    assert "human_request" in first_turn(text), text


@pytest.mark.parametrize("text", HUMAN_QUIET)
def test_human_request_stays_quiet_when_nobody_is_asked_for(text):
    assert "human_request" not in first_turn(text), text


# ------------------------------------------------------------ sentiment

GOODBYES = [
    "cheers, that's everything, bye",
    "ok thanks, have a good one",
    "Thanks so much, that's all I needed. Bye!",
    "nah that's it, ta",  # everyday closing words (cues.goodbye)
]


@pytest.mark.parametrize("goodbye", GOODBYES)
def test_polite_goodbyes_stay_neutral(goodbye):
    f = Feed(SignalEngine())
    f.start()
    f.customer("Brilliant, the refund is showing now, thank you!")
    f.ai("Happy to help. Anything else I can do?")
    assert "sentiment" not in kinds(f.customer(goodbye)), goodbye
    assert f.state.turns[-1].sentiment >= 0.0


SENTIMENT_FIRE = [
    "this is a disgrace, I'm furious",
    "I'm really annoyed, nobody has helped me",
    # what the lexicon and the model miss, read by engine/cues.py (the blend alone: +0.56, -0.04, -0.04,
    # +0.14, +0.91, +0.62)
    "this is an absolute joke, three weeks and nothing",
    "I am so fed up with being passed around",
    "WHY IS THIS STILL NOT FIXED",
    "fine. whatever.",
    "Oh great, another form to fill in. Just wonderful.",
    "yeah sure, because the last five promises worked out so well",
]


@pytest.mark.parametrize("text", SENTIMENT_FIRE)
def test_sentiment_fires_on_an_unhappy_customer(text):
    assert "sentiment" in first_turn(text), text


@pytest.mark.parametrize("text", ["can you tell me when my statement is generated", "ok, what do you need from me?"])
def test_sentiment_stays_quiet_on_plain_questions(text):
    assert "sentiment" not in first_turn(text), text


def test_a_sentiment_the_feed_sends_is_never_overwritten():
    f = Feed(SignalEngine())
    f.start()
    f.customer("this is an absolute joke, three weeks and nothing", sentiment=0.3)
    turn = f.state.turns[-1]
    assert turn.sentiment == pytest.approx(0.3) and not turn.sentiment_estimated
    assert "sentiment" not in f.state.active


def test_an_angry_voice_saying_neutral_words_counts():
    """The feed's voice tone is weighted in, more the less the words say (``cues.voice_blend``)."""
    calm = first_turn("I'd like to know where my order is")
    angry = first_turn("I'd like to know where my order is", voice={"tone": -1.0, "interruptions": 2})
    assert "sentiment" not in calm and "sentiment" in angry


# ------------------------------------------------------------ loop

def model_loop() -> Config:
    return Config(signals=SignalsConfig(loop="model"))


def test_a_repeated_question_is_a_loop_by_default():
    f = Feed(SignalEngine())
    f.start()
    f.customer("How do I cancel order 4261-360?")
    f.ai("You can cancel it from the Orders page.")
    u = f.customer("how do I cancel order 4261-360??")
    assert "loop" in kinds(u)


def test_a_different_question_sharing_words_is_no_loop_by_default():
    """The rule's ratio is 88 (>= 82) for cancel vs track; a replaced word makes it another
    question (``scorers.swapped_word``)."""
    f = Feed(SignalEngine())
    f.start()
    f.customer("How do I cancel order 4261-360?")
    f.ai("You can cancel it from the Orders page.")
    assert "loop" not in kinds(f.customer("How do I track order 4261-360?"))


@pytest.mark.parametrize("marker", [
    "I already gave you that, twice",
    "as I said, the parcel never came",
    "still no reply on the refund",
])
def test_the_model_loop_reads_re_ask_markers(marker):
    f = Feed(SignalEngine(model_loop()))
    f.start()
    f.customer("My parcel never arrived, can you check?")
    f.ai("Could you give me the order number?")
    u = f.customer(marker)
    loops = [hit for hit in u.fired if hit.kind == "loop"]  # a sentiment drop may fire with it
    assert loops and "asking again" in loops[0].reason


@pytest.mark.parametrize("text", ["Will it happen again?", "Can I order the same one again?"])
def test_again_in_a_new_question_is_no_re_ask(text):
    f = Feed(SignalEngine(model_loop()))
    f.start()
    f.customer("My card got declined at the shop")
    f.ai("That was a temporary fault on our side; it works now.")
    assert "loop" not in kinds(f.customer(text))


def test_a_polite_closer_the_ai_repeats_is_no_loop():
    f = Feed(SignalEngine(model_loop()))
    f.start()
    for question in ("Where is my parcel?", "And can I change the address?", "What about the invoice?"):
        f.customer(question)
        u = f.ai("Done. Is there anything else I can help you with today?")
        assert "loop" not in kinds(u)


def test_ai_stalls_are_a_loop_with_the_model():
    f = Feed(SignalEngine(model_loop()))
    f.start()
    f.customer("Where is my refund for order 77?")
    f.ai("Let me check that for you.")
    f.customer("ok")
    u = f.ai("Still checking, bear with me.")
    assert "loop" in kinds(u)


# ------------------------------------------------------------ the cases are new

def _cases() -> list[str]:
    out = []
    for group in (HIGH_STAKES_FIRE, HIGH_STAKES_QUIET, HUMAN_FIRE, HUMAN_QUIET, GOODBYES, SENTIMENT_FIRE):
        for case in group:
            text = case.values[0] if hasattr(case, "values") else case
            if text not in ISSUE_CASES:
                out.append(text)
    return out


def _training_texts() -> list[str]:
    texts = [(ROOT / "training" / "seeds.py").read_text(encoding="utf-8").lower()]
    data = os.environ.get("HITL_JUDGEMENT_DATA")
    if data and Path(data).is_dir():
        for path in sorted(Path(data).rglob("*")):
            if path.is_file() and path.suffix in (".csv", ".json", ".tsv") and "test" not in path.name:
                texts.append(path.read_text(encoding="utf-8", errors="replace").lower())
    return texts


def test_the_cases_are_in_no_training_file():
    """Paraphrases, not recall of a training sentence (set HITL_JUDGEMENT_DATA to check the public data too)."""
    texts = _training_texts()
    for case in _cases():
        needle = case.lower()
        assert not any(needle in t for t in texts), case


def test_the_cases_are_in_no_keyword_list():
    """No hard case is a phrase of the rules: the rules miss most of them."""
    config = Config(signals=SignalsConfig(human_request="rules", high_stakes="rules", sentiment="rules", loop="rules"))
    rules = build_scorers(config, HighStakesDetector(config.thresholds, config.topics))
    caught = []
    for text in [c.values[0] if hasattr(c, "values") else c for c in HIGH_STAKES_FIRE + HUMAN_FIRE]:
        lower = text.lower()
        words = words_of(lower)
        if rules.high_stakes.score(text, lower, words, True) or rules.human_request.score(text, lower, words):
            caught.append(text)
    assert len(caught) <= 3, caught
    source = "\n".join((ROOT / "hitl_console" / "engine" / name).read_text(encoding="utf-8").lower()
                       for name in ("highstakes.py", "triggers.py", "scorers.py", "cues.py"))
    for case in _cases():
        assert case.lower() not in source, case
    assert re.search("nicked", source) is None


@pytest.mark.parametrize(
    "first, second",
    [
        ("That's everything, thanks again", "No that's all, bye"),
        ("Great, glad that's sorted.", "Great, glad that's sorted for you."),
        ("You're welcome! Happy to help.", "You're very welcome, happy to help any time."),
    ],
)
def test_the_model_loop_never_counts_goodbyes_and_closers(first: str, second: str) -> None:
    """On the bundled samples the model's loop counted "No that's all, bye" as a re-ask of "That's everything"."""
    config = Config(signals=SignalsConfig(loop="model"))
    loop = build_scorers(config, HighStakesDetector(config.thresholds, config.topics)).loop
    keys = [loop.key(text, text.lower(), words_of(text.lower())) for text in (first, second)]
    assert None in keys


@pytest.mark.parametrize("again", ["how do I cancle order 4261-360??", "How do I cancel order 4261-360? please"])
def test_a_repeat_with_a_typo_or_an_added_word_is_still_a_loop(again: str) -> None:
    f = Feed(SignalEngine())
    f.start()
    f.customer("How do I cancel order 4261-360?")
    f.ai("You can cancel it from the Orders page.")
    assert "loop" in kinds(f.customer(again))
