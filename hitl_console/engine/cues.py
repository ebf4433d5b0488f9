"""Cues of tone that a lexicon and a bag of n-grams miss, read at inference.

``ModelSentiment`` (``scorers``) asks ``adjust`` after blending the model's
sentiment with VADER's; the engine asks ``voice_blend`` for a voice turn.
Each cue was written from first principles, not fitted to any data set:

* **shouting**: most letters in capitals over at least three words ("WHY IS
  THIS STILL NOT FIXED"). Capitals carry intensity, not direction: a
  shouted thanks stays positive; anything else is read as anger;
* **repeated punctuation**: "!!", "??", "?!" push an unhappy or flat turn
  further down;
* **resignation**: the customer stops arguing ("fine. whatever.", "forget
  it", "I give up", "what's the point");
* **sarcasm**: praise that is not meant ("oh great", "just wonderful",
  "thanks for nothing", "yeah sure, because ... worked so well", praise next
  to trouble: "great, another form to fill in");
* **exasperation**: idioms with no negative word in them ("fed up", "sick
  of", "an absolute joke", "passed around", "had enough");
* **voice**: the feed's tone counts for more the less the words say, so
  that a flat sentence said angrily reads as angry.

Every cue only lowers a sentiment (none invents praise), and the polite
goodbyes of ``goodbye`` are never a drop. Cheap: each regular expression runs
only when one of its anchor words is in the turn.
"""

from __future__ import annotations

import re

__all__ = ["adjust", "goodbye", "voice_blend", "shouting"]

ANGER = -0.6
"""Where a definite cue puts the turn: past the default ``sentiment_floor`` (-0.5)."""

_RESIGNED = re.compile(
    r"^\W*(?:fine|ok(?:ay)?|sure|right)\W+(?:whatever(?:\W*$|[.!,])|forget it|never ?mind|i give up|don'?t bother|"
    r"do what(?:ever)? you (?:want|like))\b"
    r"|^\W*(?:fine|whatever)\W*$"
    r"|\bwhatever\W*$"
    r"|\b(?:forget (?:it|about it)|i give up|don'?t (?:even )?bother|why do i (?:even )?bother|"
    r"what'?s the point|there'?s no point|no point (?:in )?(?:asking|trying|talking)|suit yourself|"
    r"i(?:'m| am) done (?:with (?:this|you|it)|here)|doesn'?t matter (?:any ?more|now)|i (?:really )?can'?t be bothered|"
    r"never ?mind(?:,| then| i'?ll| forget))"
)
_RESIGNED_ANCHORS = frozenset(
    "fine whatever forget give bother point suit done matter bothered nevermind never".split()
)

_SARCASM = re.compile(
    r"\b(?:yeah,? right|oh,? (?:great|wonderful|perfect|fantastic|brilliant|joy|lovely|super|marvell?ous)|"
    r"just (?:great|perfect|wonderful|fantastic|brilliant|lovely|marvell?ous)|great,? just great|"
    r"thanks? (?:a lot )?for nothing|so helpful\W+not|(?:really|very|super) helpful\W+not|"
    r"love (?:it )?(?:how|when) (?:you|nobody|no one|i)|what a (?:surprise|joke|shock)|"
    r"(?:yeah|oh|sure)\W+because\b|worked out so well|because that (?:worked|went) (?:so )?well|"
    r"(?:well )?done,? (?:genius|guys)|of course (?:it|you) (?:did|didn'?t|is|isn'?t|won'?t|can'?t))"
)
_SARCASM_ANCHORS = frozenset(
    "yeah oh just great thanks thank helpful love what because worked done course".split()
)
_PRAISE = re.compile(
    r"^\W*(?:oh\W+|well\W+|just\W+|wow\W+|how\W+)?(?:great|wonderful|fantastic|brilliant|perfect|awesome|amazing|lovely|"
    r"excellent|super|marvell?ous|terrific|nice one|good job|great job|well done)\b"
)
"""Praise that opens the turn as an interjection ("Great, another form to fill in")."""
_TROUBLE = re.compile(
    r"\b(?:another|again|still|hours?|delay(?:ed)?|late|waiting|waited|no one|nobody|never|lost|cancell?ed|"
    r"broken|useless|wrong|stuck|failed|declined|crashed|charged twice|on hold|more (?:waiting|forms?))\b"
)
_PRAISE_ANCHORS = frozenset(
    "great wonderful fantastic brilliant perfect awesome amazing lovely excellent super marvellous marvelous terrific nice "
    "good well".split()
)
_THANKED = re.compile(r"\b(?:thanks|thank you|cheers|ta|sorted|fixed|worked|works|arrived|received|resolved|found)\b")
"""A real thanks: praise next to one of these is meant ("great, it arrived")."""

_EXASPERATED = re.compile(
    r"\b(?:fed up|sick (?:and tired )?of|had enough|(?:an? )?(?:absolute|complete|total|utter) (?:joke|farce|shambles|nightmare)|"
    r"is a joke|this is a joke|passed (?:around|from pillar to post)|fobbed off|run(?:ning)? around|"
    r"waste of (?:my )?time|never again|not good enough|(?:at|on) my wits'? end|losing my patience|"
    r"lost (?:all )?(?:my )?patience|how (?:hard|difficult) can (?:it|this) be|are you (?:kidding|serious|joking)|"
    r"you'?ve got to be kidding|(?:and|but) (?:still )?nothing(?! else)|nothing has (?:happened|changed)|"
    r"still (?!not sure|no idea|not decided)(?:not|no|hasn'?t|haven'?t|isn'?t|doesn'?t|don'?t|can'?t|won'?t|nothing))\b"
)
_EXASPERATED_ANCHORS = frozenset(
    "fed sick enough joke farce shambles nightmare passed fobbed around waste never good wits patience hard "
    "difficult kidding serious joking nothing still".split()
)

_PROBLEM = re.compile(
    r"\b(?:(?:hasn'?t|haven'?t|hadn'?t|didn'?t|never|wasn'?t|weren'?t|isn'?t|aren'?t|won'?t|can'?t|cannot|couldn'?t|"
    r"doesn'?t|don'?t|not|no one|nobody|still)\s+(?:\w+\s+){0,2}?(?:arrived?|come|came|turn(?:ed)? up|show(?:ed|n)? up|"
    r"work(?:s|ing|ed)?|received?|got|here|refunded|answer(?:ed|ing)?|call(?:ed)? (?:me )?back|repl(?:y|ied)|fixed|sorted|"
    r"respond(?:ed)?|helped|delivered|log (?:in|on)|loading|connect(?:ing)?|getting through)|"
    r"delayed|cancell?ed|lost|missing|broken|damaged|faulty|stuck|charged twice|double charged|overcharged|"
    r"declined|crash(?:ed|es|ing)|(?:an )?error|rude|ignored|on hold|waiting (?:for|since)|been waiting|"
    r"wrong (?:item|size|order|address|amount|one)|went dead|cut off|dropped)\b"
)
"""Something went wrong: in customer service a problem told without a negative word is
still an unhappy turn ("the engineer didn't turn up", "my flight was delayed")."""
_PROBLEM_SHIFT = -0.3
_PROBLEM_ANCHORS = frozenset(
    """hasn haven hadn didn never wasn weren isn aren won can cannot couldn doesn don not no nobody still hasnt havent
    hadnt didnt wasnt werent isnt arent wont cant couldnt doesnt dont delayed cancelled canceled lost missing broken
    damaged faulty stuck charged double overcharged declined crashed crashes crashing error rude ignored hold waiting
    been wrong went cut dropped""".split()
)

_GOODBYE_WORDS = frozenset(
    "nah no nope that s thats it its all everything i m im good ta cheers thanks thank you bye goodbye cya laters "
    "later see ya then ok okay alright sorted for now great lovely perfect much mate".split()
)
_GOODBYE_MARKERS = frozenset("ta cheers bye goodbye cya laters".split())


_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def shouting(text: str) -> bool:
    """Most letters in capitals, over at least three words of two letters or more."""
    if text.isascii():  # the usual case: count the capitals in C (bytes.translate deletes; str.translate maps per char)
        raw = text.encode("ascii")
        if len(raw) - len(raw.translate(None, _UPPER)) < 10:
            return False
    upper = lower = words = 0
    for word in text.split()[:60]:
        letters = [c for c in word if c.isalpha()]
        if len(letters) >= 2:
            words += 1
        for c in letters:
            if c.isupper():
                upper += 1
            else:
                lower += 1
    return words >= 3 and upper >= 10 and upper >= 4 * lower


def adjust(text: str, lower: str, words: list[str], s: float) -> tuple[float, str | None]:
    """The sentiment ``s`` lowered by what the cues find, and the cue's name (None: none found)."""
    if not words:
        return s, None
    ws = set(words)
    if not _SARCASM_ANCHORS.isdisjoint(ws) or not _PRAISE_ANCHORS.isdisjoint(ws):
        head = lower[:600]
        if _SARCASM.search(head) or (
            not _PRAISE_ANCHORS.isdisjoint(ws) and _PRAISE.search(head) and _TROUBLE.search(head)
            and not _THANKED.search(head)
        ):
            return min(ANGER, -abs(s)), "sarcasm"
    if not _RESIGNED_ANCHORS.isdisjoint(ws) and _RESIGNED.search(lower[:600]):
        if not _THANKED.search(lower[:600]):
            return min(s, ANGER), "resignation"
    if not _EXASPERATED_ANCHORS.isdisjoint(ws) and _EXASPERATED.search(lower[:600]):
        return min(s, ANGER), "exasperation"
    if shouting(text) and s < 0.3:
        return min(s, ANGER), "shouting"
    if s < 0.3 and not _PROBLEM_ANCHORS.isdisjoint(ws) and _PROBLEM.search(lower[:600]) and not _THANKED.search(lower[:600]):
        s += _PROBLEM_SHIFT
        cue: str | None = "problem"
    else:
        cue = None
    if ("??" in text or "?!" in text or "!?" in text or ("!!" in text and s < 0.0)) and s < 0.2:
        return s - 0.15, "insistence"
    return s, cue


def goodbye(lower: str, words: list[str]) -> bool:
    """A short farewell in everyday words ("nah, that's me, ta", "cheers, bye"):
    what ``sentiment.closing_estimate`` does not know, never a drop."""
    return 0 < len(words) <= 8 and _GOODBYE_WORDS.issuperset(words) and not _GOODBYE_MARKERS.isdisjoint(words)


def voice_blend(s: float, tone: float, weight: float) -> float:
    """The text's sentiment ``s`` blended with the voice ``tone`` (both -1..1).

    ``weight`` is the tone's share when the words are emphatic; the less the
    words say (``|s|`` near 0), the more the voice counts, up to
    ``(1 + weight) / 2``: with the default 0.4 a flat sentence said at tone
    -1 reads -0.7, a furious sentence said calmly stays furious."""
    w = weight + (1.0 - weight) * 0.5 * (1.0 - min(1.0, abs(s)))
    return (1.0 - w) * s + w * tone
