"""engine/cues.py: tone the lexicon misses, through the engine's own sentiment scorer."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitl_console.config import Config
from hitl_console.engine.cues import adjust, goodbye, shouting, voice_blend
from hitl_console.engine.highstakes import HighStakesDetector, words_of
from hitl_console.engine.scorers import build_scorers

ROOT = Path(__file__).resolve().parent.parent


def sentiment(text: str) -> float:
    config = Config()
    scorer = build_scorers(config, HighStakesDetector(config.thresholds, config.topics)).sentiment
    lower = text.lower()
    return scorer.score(text, lower, words_of(lower))[0]


@pytest.mark.parametrize("text", [
    "I HAVE ASKED FOR THE INVOICE THREE TIMES",
    "ok forget it, I'll cancel",
    "Brilliant, the app crashed halfway through the payment",
    "thanks for nothing",
    "I've had enough of this",
])
def test_cues_read_anger_the_words_do_not_say(text: str) -> None:
    assert sentiment(text) <= Config().thresholds.sentiment_floor, text


@pytest.mark.parametrize("text", [
    "THANK YOU SO MUCH!!!",
    "never mind, I found it, thanks",
    "whatever works for you is fine",
    "great, it arrived this morning",
    "I'm still not sure which plan to pick",
    "can you tell me when my statement is generated",
])
def test_cues_leave_plain_and_happy_turns_alone(text: str) -> None:
    lower = text.lower()
    s = sentiment(text)
    assert s > Config().thresholds.sentiment_floor, text
    assert adjust(text, lower, words_of(lower), 0.5)[1] is None or text.isupper(), text


def test_a_cue_only_ever_lowers_a_sentiment() -> None:
    for text in ("fine. whatever.", "WHY IS NOBODY ANSWERING", "oh great, delayed again", "seriously??"):
        lower = text.lower()
        for s in (-0.9, -0.2, 0.0, 0.4, 0.9):
            assert adjust(text, lower, words_of(lower), s)[0] <= s


def test_shouting_needs_several_words_in_capitals() -> None:
    assert shouting("WHERE IS MY REFUND")
    assert not shouting("my PIN is blocked")
    assert not shouting("OK")


@pytest.mark.parametrize("text", ["nah that's it, ta", "cheers, bye", "ok ta"])
def test_everyday_goodbyes(text: str) -> None:
    assert goodbye(text.lower(), words_of(text.lower()))


def test_the_voice_counts_more_the_less_the_words_say() -> None:
    flat, furious = voice_blend(0.0, -1.0, 0.4), voice_blend(-0.9, 0.0, 0.4)
    assert flat <= -0.6  # a flat sentence said angrily passes the floor
    assert furious <= -0.5  # furious words said calmly stay furious
    assert voice_blend(0.0, 0.0, 0.4) == 0.0
    assert voice_blend(0.3, -1.0, 0.0) < 0.3  # even at weight 0 a voice counts for a flat-ish sentence


def test_the_dev_sets_are_in_no_training_file() -> None:
    """training/dev/*.tsv is for choosing and figures only: no seed sentence is one of its lines."""
    import sys

    sys.path.insert(0, str(ROOT / "training"))
    import seeds

    pos, neg = seeds.human_request_seeds()
    texts = pos + neg + seeds.sentiment_seeds()[0] + seeds.HIGH_STAKES_EXTRA + seeds.NOT_HIGH_STAKES
    trained = {" ".join(words_of(t.lower())) for t in texts}
    for path in sorted((ROOT / "training" / "dev").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            text = line.split("\t", 1)[1]
            assert " ".join(words_of(text.lower())) not in trained, (path.name, text)
