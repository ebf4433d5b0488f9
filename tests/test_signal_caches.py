"""The fast paths of the learned scorers give exactly what the plain definitions give.

``TextModel.predict`` adds up cached packed weights per word pair instead of
the weights of ``features``' strings, sums only the heads' lanes when no
embedding is asked for, and reuses the VADER score the features read; the
loop scorer keeps each turn's squared norm; the re-ask regex runs only when
its guard finds one of the strings every branch holds. Each is checked here
against the definition it replaces, on turns worded for this test.
"""

from __future__ import annotations

import gzip
import json
import random
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hitl_console.config import Config, SignalsConfig
from hitl_console.engine.cues import adjust
from hitl_console.engine.highstakes import HighStakesDetector, words_of
from hitl_console.engine.scorers import _REASK, _REASK_NEEDS, SIGNALS, build_scorers
from hitl_console.engine.sentiment import estimate_sentiment
from hitl_console.engine.textmodel import ARTEFACT, TextModel, cosine, features, norm2

TURNS = [
    "",
    "ok",
    "My card was used in a shop I have never been to",
    "my card was used in a shop i have never been to",  # the same words again: cached pairs
    "Oh great, delayed AGAIN. Thanks a lot.",  # sarcasm: praise words give way to the mark
    "Great service, thank you so much!",
    "WHY IS NOBODY ANSWERING ME???",
    "fine. whatever.",
    "can I spek to a reprisentativ pls",  # typos: character n-grams
    "I want my money back!!! $2,500 gone from my acount",
    "Straße İstanbul ÉCOLE café \u2026 emoji \U0001f621",
    "word " * 260,  # longer than MAX_WORDS
    "x" * 3000,
]


def _turn(text: str) -> tuple[str, str, list[str]]:
    lower = text.lower()
    return text, lower, words_of(lower)


def _fresh_model() -> TextModel:
    ref = resources.files("hitl_console").joinpath("data", ARTEFACT)
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        return TextModel(json.load(fh))


@pytest.fixture(scope="module")
def model() -> TextModel:
    return _fresh_model()


def _heads(p) -> tuple[float, float, float, float]:
    return (p.high_stakes, p.human_request, p.negative, p.positive)


@pytest.mark.parametrize("text", TURNS)
def test_prediction_is_the_sum_of_the_feature_strings(model: TextModel, text: str) -> None:
    t, lower, words = _turn(text)
    feats = features(t, lower, words, model.known)
    total = sum(filter(None, map(model.table.get, feats)), model._offset)
    lanes = [((total >> (32 * j)) & 0xFFFFFFFF) for j in range(model.width)]
    expected = [v * s + (b - (1 << 31) * s) for v, s, b in zip(lanes[:4], model.scales, model.bias)]
    embedding = [(v - (1 << 31)) * s for v, s in zip(lanes[4:], model.scales[4:])]
    for _ in range(2):  # cold caches, then warm ones
        p = model.predict(t, lower, words)
        assert list(_heads(p)) == expected
        assert p.embedding == embedding
        assert p.vader == estimate_sentiment(t, lower)


def test_heads_without_the_embedding_are_the_same(model: TextModel) -> None:
    for text in TURNS:
        wide, narrow = model.predict(*_turn(text), True), model.predict(*_turn(text), False)
        assert _heads(narrow) == _heads(wide)
        assert narrow.embedding == [] and narrow.evidence == wide.evidence


def test_predictions_do_not_depend_on_what_was_seen_before() -> None:
    texts = TURNS + [f"{a} {b}" for a, b in zip(TURNS[2:9], reversed(TURNS[2:9]))]
    seen = _fresh_model()
    first = [(_heads(p), p.embedding, p.evidence) for p in (seen.predict(*_turn(t)) for t in texts)]
    shuffled = list(range(len(texts)))
    random.Random(5).shuffle(shuffled)
    other = _fresh_model()
    again = {i: other.predict(*_turn(texts[i])) for i in shuffled}
    assert [(_heads(again[i]), again[i].embedding, again[i].evidence) for i in range(len(texts))] == first


def test_cosine_with_kept_norms_is_the_cosine(model: TextModel) -> None:
    a = model.predict(*_turn("when will my new card arrive")).embedding
    b = model.predict(*_turn("my card still has not come in the post")).embedding
    assert cosine(a, b, norm2(a), norm2(b)) == cosine(a, b)
    assert cosine(a, [0.0] * len(a)) == 0.0


REASKS = [
    "i already told you my number", "i just sent it", "i've already given you that", "i have already explained",
    "as i said before", "like i told you", "i'm still waiting for an answer", "i am waiting on you",
    "still waiting", "still no reply", "for the third time", "this is the 5th time", "i asked this already",
    "you're not listening", "not answering my question", "answer my question", "that's not what i asked",
    "you keep saying that", "same answer again", "i'm asking again", "how many times",
]


@pytest.mark.parametrize("text", REASKS)
def test_every_reask_branch_passes_its_guard(text: str) -> None:
    assert _REASK.search(text), text
    assert _REASK_NEEDS.search(text), text


_PIECES = st.sampled_from(
    "i i've i'm already just told said asked as like mentioned waiting still no for the second 3rd time "
    "not listening answering my question keep kept same answer again ask telling how many times you "
    "that's is what card please help , . ? ! — \u2019".split()
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12).map(" ".join))
def test_the_guard_never_hides_a_reask(text: str) -> None:
    if _REASK.search(text):
        assert _REASK_NEEDS.search(text), text


def test_scorers_answer_the_same_on_the_fast_paths() -> None:
    config = Config(signals=SignalsConfig(**{s: "model" for s in SIGNALS}))
    sc = build_scorers(config, HighStakesDetector(config.thresholds, config.topics))
    for text in TURNS + REASKS:
        t, lower, words = _turn(text)
        # the loop's re-ask is _REASK's match, guard or not
        m = _REASK.search(lower)
        assert sc.loop.reask(lower, words) == (None if m is None else m.group(0))
        # the sentiment blends the model with the same VADER score the lexicon gives
        s, _closing = sc.sentiment.score(t, lower, words)
        p = sc.sentiment.shared.predict(t, lower, words)
        if words and not _closing:
            blend = 0.5 * p.sentiment() + 0.5 * estimate_sentiment(t, lower)
            # then the cues the lexicon misses (sarcasm, shouting: engine/cues.py), as the scorer applies them
            assert s == (adjust(t, lower, words, blend)[0] if sc.sentiment.cues else blend)
