"""The shipped text model: packed-integer inference equals the plain sum of its
int8 weights, is deterministic, and its embedding groups paraphrases."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from hitl_console.engine.highstakes import words_of
from hitl_console.engine.textmodel import ARTEFACT, HEADS, TextModel, cosine, features, load_model

TEXTS = [
    "",
    "hi",
    "My card payment was declined again, WHY???",
    "I want to talk to a real person, this bot is useless!!!",
    "fine. whatever.",
    "Great, delayed for the third time. Thanks a lot.",
    "the reprisentative said my acount was hacked",
    "x" * 5000,
    "word " * 400,
]


def _turn(text: str) -> tuple[str, str, list[str]]:
    lower = text.lower()
    return text, lower, words_of(lower)


@pytest.fixture(scope="module")
def model() -> TextModel:
    return load_model()


@pytest.mark.parametrize("text", TEXTS)
def test_packed_sum_is_the_sum_of_the_weights(model: TextModel, text: str) -> None:
    t, lower, words = _turn(text)
    p = model.predict(t, lower, words)
    feats = features(t, lower, words, model.known)
    expected = [model.bias[j] + model.scales[j] * sum(model.weight(f, j) for f in feats) for j in range(model.width)]
    got = [p.high_stakes, p.human_request, p.negative, p.positive, *p.embedding]
    assert len(got) == len(HEADS) + model.dim
    assert got == pytest.approx(expected, abs=1e-6)


def test_two_loads_predict_the_same() -> None:
    ref = resources.files("hitl_console").joinpath("data", ARTEFACT)
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    a, b = TextModel(data), TextModel(data)
    for text in TEXTS:
        pa, pb = a.predict(*_turn(text)), b.predict(*_turn(text))
        assert (pa.high_stakes, pa.negative, pa.embedding, pa.evidence) == (pb.high_stakes, pb.negative, pb.embedding, pb.evidence)


def test_weights_outside_the_vocabulary_are_zero(model: TextModel) -> None:
    assert model.weight("no such feature \u2603", 0) == 0
    name = next(iter(model.table))
    assert all(-127 <= model.weight(name, j) <= 127 for j in range(model.width))


def test_embedding_puts_a_reworded_question_closer_than_a_different_one(model: TextModel) -> None:
    # worded for this test, in no training file
    asked = model.predict(*_turn("my new card still hasn't shown up in the post")).embedding
    again = model.predict(*_turn("when is the card you sent me going to arrive?")).embedding
    other = model.predict(*_turn("what card fees do you charge abroad?")).embedding
    assert cosine(asked, again) >= model.thresholds["loop"]
    assert cosine(asked, again) > cosine(asked, other)


def test_evidence_names_a_word_of_the_turn(model: TextModel) -> None:
    text = "someone used my card without permission, I never made this payment"
    p = model.predict(*_turn(text))
    parts = p.evidence.replace("s> ", " ").replace(" </s", " ").split()
    assert parts and all(part in text.lower() for part in parts)


def test_a_model_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValueError):
        TextModel({"known": [], "dim": 2, "heads": list(HEADS), "bias": [0.0] * 6, "scale": [1.0] * 6,
                   "features": ["a"], "weights": "00"})
