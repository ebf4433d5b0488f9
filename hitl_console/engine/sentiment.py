"""Fast sentiment estimate for customer turns that arrive without one.

Why not ``SentimentIntensityAnalyzer.polarity_scores``: it costs about 52 µs a
message (it lower-cases every token several times, rebuilds n-gram strings for
every word, walks the text for emojis character by character), and the engine
must take a whole event in a few microseconds. This module keeps VADER's own
lexicon (``vader_lexicon.txt`` shipped in the ``vaderSentiment`` wheel, loaded
once, lazily) and its main rules, and only does work for the few tokens that
are in the lexicon:

* tokenisation as VADER does it: split on white space, strip surrounding
  punctuation unless that leaves two characters or fewer (emoticons survive);
* negation in the three preceding words (``not``, ``never``, ``n't`` ...,
  scaled by -0.74), ``no`` before a lexicon word, ``least``;
* booster / dampener words in the three preceding words (0.293, damped by
  distance) and the ``kind of`` / ``sort of`` bigrams;
* ALL-CAPS emphasis when only some words are in capitals;
* the ``never so`` / ``without doubt`` special cases and VADER's idioms;
* the contrastive ``but`` (before x0.5, after x1.5);
* exclamation marks (up to 4) and repeated question marks;
* normalisation ``score / sqrt(score^2 + 15)``.

Only the compound score is computed. Agreement with the reference scorer is
checked by ``tests/test_sentiment.py`` on a corpus of support-chat sentences.
One known deviation: VADER's ``but`` rule looks values up with
``list.index`` and so mis-scales repeated equal valences; here every word
before/after the ``but`` is scaled, which is what the rule means.

``estimate_sentiment`` memoises with an LRU cache (templated and repeated
short texts such as "ok thanks" are common); ``score_uncached`` is the bare
scorer, which is what the benchmark reports.
"""

from __future__ import annotations

import math
import string
from functools import lru_cache
from importlib import resources
from typing import Callable

__all__ = ["estimate_sentiment", "score_uncached", "configure_cache", "lexicon", "closing_estimate"]

# VADER constants (vaderSentiment 3.3.2).
B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733
N_SCALAR = -0.74
ALPHA = 15.0

NEGATE = frozenset(
    """aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't doesn't
    dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't
    neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent
    oughtn't shan't shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite""".split()
)

_BOOST_UP = """absolutely amazingly awfully completely considerable considerably decidedly deeply effing enormous
enormously entirely especially exceptional exceptionally extreme extremely fabulously flipping flippin frackin
fracking fricking frickin frigging friggin fully fuckin fucking fuggin fugging greatly hella highly hugely incredible
incredibly intensely major majorly more most particularly purely quite really remarkably so substantially thoroughly
total totally tremendous tremendously uber unbelievably unusually utter utterly very""".split()
_BOOST_DOWN = """almost barely hardly kinda kindof kind-of less little marginal marginally occasional occasionally
partly scarce scarcely slight slightly somewhat sorta sortof sort-of""".split()
BOOSTERS: dict[str, float] = {w: B_INCR for w in _BOOST_UP}
BOOSTERS.update({w: B_DECR for w in _BOOST_DOWN})
BOOSTERS.update({"just enough": B_DECR, "kind of": B_DECR, "sort of": B_DECR})

SPECIAL_CASES: dict[str, float] = {
    "the shit": 3,
    "the bomb": 3,
    "bad ass": 1.5,
    "badass": 1.5,
    "bus stop": 0.0,
    "yeah right": -2,
    "kiss of death": -1.5,
    "to die for": 3,
    "beating heart": 3.5,
}

_PUNCT = string.punctuation

_lexicon: dict[str, float] | None = None
_emojis: dict[str, str] | None = None


def _read_package_text(name: str) -> str:
    return resources.files("vaderSentiment").joinpath(name).read_text(encoding="utf-8")


def lexicon() -> dict[str, float]:
    """VADER's word -> mean valence table, parsed on first use (about 7,500 entries).

    Lazy because importing the engine (``hitl-console schema``, tests that never
    score text) should not pay for reading the file.
    """
    global _lexicon
    if _lexicon is None:
        table: dict[str, float] = {}
        for line in _read_package_text("vader_lexicon.txt").rstrip("\n").split("\n"):
            if not line:
                continue
            parts = line.strip().split("\t")
            if len(parts) >= 2:
                table[parts[0]] = float(parts[1])  # later duplicates win, as in VADER
        _lexicon = table
    return _lexicon


def _emoji_table() -> dict[str, str]:
    global _emojis
    if _emojis is None:
        table: dict[str, str] = {}
        for line in _read_package_text("emoji_utf8_lexicon.txt").rstrip("\n").split("\n"):
            parts = line.strip().split("\t")
            if len(parts) >= 2:
                table[parts[0]] = parts[1]
        _emojis = table
    return _emojis


def _demojize(text: str) -> str:
    """Replace emojis by their descriptions, as VADER does (only for non-ASCII text)."""
    table = _emoji_table()
    out: list[str] = []
    prev_space = True
    for ch in text:
        desc = table.get(ch)
        if desc is not None:
            if not prev_space:
                out.append(" ")
            out.append(desc)
            prev_space = False
        else:
            out.append(ch)
            prev_space = ch == " "
    return "".join(out).strip()


def _negated(word: str) -> bool:
    return word in NEGATE or "n't" in word


def _is_cap_diff(raw: list[str]) -> bool:
    upper = sum(1 for w in _strip_all(raw) if w.isupper())
    return 0 < len(raw) - upper < len(raw)


def _strip_all(raw: list[str]) -> list[str]:
    return [s if len(s := tok.strip(_PUNCT)) > 2 else tok for tok in raw]


def _idioms(valence: float, lw: list[str], i: int) -> float:
    """VADER's ``_special_idioms_check`` (only reached with i >= 3)."""
    onezero = f"{lw[i - 1]} {lw[i]}"
    twoonezero = f"{lw[i - 2]} {lw[i - 1]} {lw[i]}"
    twoone = f"{lw[i - 2]} {lw[i - 1]}"
    threetwoone = f"{lw[i - 3]} {lw[i - 2]} {lw[i - 1]}"
    threetwo = f"{lw[i - 3]} {lw[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    n = len(lw)
    if n - 1 > i:
        zeroone = f"{lw[i]} {lw[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if n - 1 > i + 1:
        zeroonetwo = f"{lw[i]} {lw[i + 1]} {lw[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for gram in (threetwoone, threetwo, twoone):
        if gram in BOOSTERS:
            valence = valence + BOOSTERS[gram]
    return valence


_MODIFIERS = NEGATE.union(
    BOOSTERS.keys(),
    {"no", "so", "this", "never", "without", "doubt", "least", "kind", "sort", "of", "or", "nor"},
)
"""Words that can change the valence of a following lexicon word: a hit with none
of them in its three preceding words takes the fast path."""

_IDIOM_WORDS = frozenset(
    {"shit", "bomb", "ass", "badass", "bus", "yeah", "kiss", "death", "die", "beating", "kind", "sort", "enough"}
)
"""Every key of SPECIAL_CASES and every multi-word booster holds one of these."""

_lexkeys: frozenset[str] | None = None
_hitlex: dict[str, float] | None = None
"""Lexicon words that are scored (VADER's lexicon less the booster words), with
their valence: one dict lookup per token says whether it is a hit and how much."""


def _hit_words() -> frozenset[str]:
    global _lexkeys, _hitlex
    if _lexkeys is None:
        lex = lexicon()
        keys = frozenset(lex.keys() - BOOSTERS.keys())
        _hitlex = {w: lex[w] for w in keys}
        _lexkeys = keys
    return _lexkeys


def _hit_table() -> dict[str, float]:
    _hit_words()
    assert _hitlex is not None
    return _hitlex


def _tokens(text: str, lower: str | None = None) -> tuple[list[str], list[str] | None]:
    """VADER's tokens of ``text``, lower-cased, and the original-case tokens if
    they were needed to lower-case it.

    As VADER does it: split on white space, strip the punctuation around a
    token unless that leaves two characters or fewer (":)" stays ":)", "ok!"
    stays "ok!" and so is not the lexicon word "ok").
    """
    if lower is None:
        lower = text.lower()
    raw: list[str] | None = None
    if len(lower) == len(text):
        lraw = lower.split()
    else:  # a case mapping changed lengths: lower token by token
        raw = text.split()
        lraw = [w.lower() for w in raw]
    punct = _PUNCT
    return [s if len(s := t.strip(punct)) > 2 else t for t in lraw], raw


def score_uncached(text: str, lower: str | None = None) -> float:
    """VADER-style compound score of ``text`` in -1..1, without the cache.

    ``lower`` is ``text.lower()`` when the caller has it already. Tokenising
    and finding lexicon words happen in C (``split``, ``map``, dict lookups);
    Python-level work is done only for the few tokens that are in the lexicon,
    and a token whose three preceding words hold no negation, booster or idiom
    word takes a short path (all of them at once when the text holds none).
    """
    if not text:
        return 0.0
    if not text.isascii():
        text = _demojize(text)
        lower = None
    hitlex = _hitlex if _hitlex is not None else _hit_table()
    lw, raw = _tokens(text, lower)
    n = len(lw)
    vals = list(map(hitlex.get, lw))
    if vals.count(None) == n:
        return 0.0
    has_upper = not text.islower()
    has_nt = "n't" in text or "N'T" in text
    but_at = lw.index("but") if "but" in lw else -1
    modifiers = _MODIFIERS
    # no modifier, n't or idiom word anywhere: every hit takes the short path
    plain = not has_nt and modifiers.isdisjoint(lw) and _IDIOM_WORDS.isdisjoint(lw)
    lex = _lexicon
    total = 0.0
    i = -1
    for base in vals:
        i += 1
        if base is None:
            continue
        if plain or (
            lw[i] not in modifiers
            and modifiers.isdisjoint(lw[i - 3 : i] if i >= 3 else lw[:i])
            and not (has_nt and any("n't" in x for x in (lw[i - 3 : i] if i >= 3 else lw[:i])))
            and (i < 3 or _IDIOM_WORDS.isdisjoint(lw[i - 3 : i + 3]))
        ):
            valence = base
            if has_upper:
                if raw is None:
                    raw = text.split()
                original = raw[i]
                if not original.islower() and _strip_one(original).isupper() and _is_cap_diff(raw):
                    valence = valence + C_INCR if valence > 0 else valence - C_INCR
        else:
            if has_upper and raw is None:
                raw = text.split()
            assert lex is not None
            full = _full_rules(lw, i, base, lex, raw if has_upper else None)
            if full is None:  # "kind" of "kind of": not a lexicon use
                continue
            valence = full
        if but_at >= 0:
            if i < but_at:
                valence *= 0.5
            elif i > but_at:
                valence *= 1.5
        total += valence
    if total == 0.0:
        return 0.0
    amp = 0.0
    if "!" in text:
        amp = min(text.count("!"), 4) * 0.292
    if "?" in text:
        q = text.count("?")
        if q > 1:
            amp += q * 0.18 if q <= 3 else 0.96
    total = total + amp if total > 0 else total - amp
    score = total / math.sqrt(total * total + ALPHA)
    if score < -1.0:
        return -1.0
    if score > 1.0:
        return 1.0
    return score


def _full_rules(
    lw: list[str],
    i: int,
    base: float,
    lex: dict[str, float],
    raw: list[str] | None = None,
) -> float | None:
    """VADER's ``sentiment_valence`` for the lexicon word at ``i``, all rules.

    ``raw`` (original-case tokens) is given when the text has capitals; the
    all-caps emphasis is then checked, lazily, for the word and its boosters.
    ``None`` means the word is not scored ("kind" in "kind of").
    """
    n = len(lw)
    w = lw[i]
    if w == "kind" and i < n - 1 and lw[i + 1] == "of":
        return None
    valence = base
    if w == "no" and i != n - 1 and lw[i + 1] in lex:
        valence = 0.0
    if (
        (i > 0 and lw[i - 1] == "no")
        or (i > 1 and lw[i - 2] == "no")
        or (i > 2 and lw[i - 3] == "no" and lw[i - 1] in ("or", "nor"))
    ):
        valence = base * N_SCALAR
    if raw is not None and _caps(raw, i):
        valence = valence + C_INCR if valence > 0 else valence - C_INCR
    for k in range(3):
        if i <= k:
            break
        j = i - k - 1
        prev = lw[j]
        if prev in lex:
            continue
        boost = BOOSTERS.get(prev)
        if boost is not None:
            s = -boost if valence < 0 else boost
            if raw is not None and _caps(raw, j):
                s = s + C_INCR if valence > 0 else s - C_INCR
            if k == 1:
                s *= 0.95
            elif k == 2:
                s *= 0.9
            valence += s
        # negation (VADER's _negation_check)
        if k == 0:
            if _negated(prev):
                valence *= N_SCALAR
        elif k == 1:
            if lw[i - 2] == "never" and lw[i - 1] in ("so", "this"):
                valence *= 1.25
            elif lw[i - 2] == "without" and lw[i - 1] == "doubt":
                pass
            elif _negated(prev):
                valence *= N_SCALAR
        else:
            if (lw[i - 3] == "never" and lw[i - 2] in ("so", "this")) or lw[i - 1] in ("so", "this"):
                valence *= 1.25
            elif lw[i - 3] == "without" and (lw[i - 2] == "doubt" or lw[i - 1] == "doubt"):
                pass
            elif _negated(prev):
                valence *= N_SCALAR
            valence = _idioms(valence, lw, i)
    # "least" as negation (VADER's _least_check)
    if i > 1 and lw[i - 1] == "least":
        if lw[i - 2] != "at" and lw[i - 2] != "very":
            valence *= N_SCALAR
    elif i > 0 and lw[i - 1] == "least":
        valence *= N_SCALAR
    return valence


def _caps(raw: list[str], i: int) -> bool:
    """Token ``i`` is in capitals while other words are not (VADER's emphasis test)."""
    token = raw[i]
    return not token.islower() and _strip_one(token).isupper() and _is_cap_diff(raw)


def _strip_one(token: str) -> str:
    s = token.strip(_PUNCT)
    return s if len(s) > 2 else token


_cached: Callable[[str], float] = lru_cache(maxsize=8192)(score_uncached)


def configure_cache(maxsize: int) -> None:
    """Resize the memo of ``estimate_sentiment``; 0 turns it off (benchmarks use that)."""
    global _cached
    _cached = lru_cache(maxsize=maxsize)(score_uncached) if maxsize > 0 else score_uncached


def estimate_sentiment(text: str, lower: str | None = None) -> float:
    """Sentiment of ``text`` in -1..1 (VADER compound, computed by the fast scorer).

    ``lower`` (``text.lower()``) may be passed when the caller has it; it saves
    the scorer lower-casing again. Texts longer than 512 characters are scored
    uncached so that a flood of long unique messages cannot pin memory in the
    cache.
    """
    if len(text) > 512 or _cached is score_uncached:
        return score_uncached(text, lower)
    return _cached(text)


# ------------------------------------------------------------ polite closings

_CLOSING_WORDS = frozenset(
    """no nope nah nothing else thanks thank you thx ty cheers that thats s is it all bye goodbye i m im am
    good fine ok okay for now great perfect need anything have a nice day appreciate much so very set sorted
    done again everything""".split()
)
_CLOSING_MARKERS = frozenset("thanks thank thx ty cheers bye goodbye appreciate".split())
_ALL_DONE = frozenset("good set fine sorted done".split())
_REPLY_NEGATORS = frozenset("no nope nah nothing".split())
_PRAISE = frozenset("good fine great perfect nice".split())


def closing_estimate(words: list[str]) -> float | None:
    """The estimate for a polite closing, or None if ``words`` are not one.

    VADER reads the reply particle of "no thanks", "nope, all good" or "No,
    nothing else, thanks" as negation (-0.34, -0.59, -0.34), so a happy
    customer's goodbye would look like a sharp drop. A *polite closing* is a
    short turn (at most 8 words) made only of closing words, with a thanks or
    goodbye or an "all good / all set"; its estimate is the same scorer's
    value with the reply particles left out. "no good" (a particle right
    before praise) is not a closing, and anything with other words in it
    ("no thanks, this is useless") keeps the plain estimate. ``words`` are the
    engine's lower-cased, punctuation-split words.
    """
    if not 0 < len(words) <= 8 or not _CLOSING_WORDS.issuperset(words):
        return None
    marked = not _CLOSING_MARKERS.isdisjoint(words)
    if not marked:
        marked = any(w == "all" and nxt in _ALL_DONE for w, nxt in zip(words, words[1:]))
    if not marked:
        return None
    if any(w in _REPLY_NEGATORS and nxt in _PRAISE for w, nxt in zip(words, words[1:])):
        return None
    return score_uncached(" ".join(w for w in words if w not in _REPLY_NEGATORS))
