"""The learned text model behind the built-in scorers: features and inference.

One small linear model reads every customer (and AI) turn once and gives
several *heads* at the same time:

``high_stakes``
    log-odds that the turn reports fraud, an unrecognised payment, a lost or
    stolen card or phone, or an account taken over (Banking77, CLINC150 and
    NLU++ training data);
``human_request``
    log-odds that the customer asks for a person (NLU++ ``handoff``);
``negative`` / ``positive``
    log-odds of a negative and of a positive sentiment against neutral
    (GoEmotions' sentiment groups, customer requests with weak labels: a
    problem report is negative, and a few hand-written turns of resignation,
    sarcasm and shouting);
``embedding``
    a 32-number vector whose *direction* says what the turn asks: the
    bottleneck of a cosine-softmax classifier over 323 intents (Banking77,
    CLINC150 and NLU++ combinations), so that utterances of one intent lie in
    a narrow cone; the loop scorer compares turns by its cosine.

Features are the turn's words and word pairs, a few marks of tone (capitals,
``!!``, ``??``, ``...``, resignation, sarcasm, VADER's compound score in
bands) and, for words the model never saw often enough (typos, slang), their
character 3- and 4-grams. ``features`` is the one definition of them:
``training/train.py`` imports it, so training and inference cannot drift apart.

The artefact (``hitl_console/data/judgement-model.json.gz``) holds the
vocabulary and int8-quantised weights; it is read once, lazily, on the first
call (well under a second) and is then shared by every engine of the
process. Each feature's weights are packed into one Python integer (32-bit
lanes), so a turn's heads and embedding are one ``sum`` of integers done in
C; the packed sums of word pairs (with each word's own features) are cached,
so a turn costs a dict lookup per word (``TextModel.predict``). Inference is
pure Python (compiled with mypyc with the engine where a C compiler is
found), deterministic (integer sums, no randomness, no hashing that depends
on the process, the caches never change a result), CPU-only, and needs no
third-party package.
``docs/models.md`` is the model card.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
from array import array
from operator import mul
from importlib import resources
from pathlib import Path
from typing import cast

from hitl_console.engine.sentiment import estimate_sentiment

__all__ = [
    "ARTEFACT",
    "HEADS",
    "TextModel",
    "Prediction",
    "features",
    "load_model",
    "sigmoid",
    "cosine",
]

ARTEFACT = "judgement-model.json.gz"
"""File name of the shipped model in ``hitl_console/data``."""

HEADS = ("high_stakes", "human_request", "negative", "positive")
"""The scalar heads, in the order of the weight rows."""

MAX_WORDS = 200
"""Only the first words of a very long turn are read: the cost stays bounded and
what a customer means is said early (a pasted log adds nothing)."""

_VADER_BANDS = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75)


def sigmoid(x: float) -> float:
    """The logistic function, safe for large arguments."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def cosine(
    a: list[float] | tuple[float, ...],
    b: list[float] | tuple[float, ...],
    na: float | None = None,
    nb: float | None = None,
) -> float:
    """Cosine similarity of two embedding vectors (0 when either is all zeros).

    ``na`` and ``nb`` are ``norm2`` of ``a`` and ``b`` when the caller keeps
    them (the loop scorer compares each turn with several earlier ones)."""
    if na is None:
        na = norm2(a)
    if nb is None:
        nb = norm2(b)
    if na <= 0.0 or nb <= 0.0:
        return 0.0
    return sum(map(mul, a, b)) / math.sqrt(na * nb)


def norm2(a: list[float] | tuple[float, ...]) -> float:
    """The squared length of a vector (a float sum, in C)."""
    return float(sum(map(mul, a, a)))


_KINDS: dict[str, int] = {}
"""Token -> what ``_tone`` counts of it: 0 not a word of letters, 1 a word, 2 a
word in capitals, 3 a word of three letters or more in capitals."""


def _kind(word: str) -> int:
    kind = 0
    if len(word) >= 2 and word.isalpha():
        kind = 1
        if word.isupper():
            kind = 3 if len(word) >= 3 else 2
    if len(_KINDS) >= CACHE_SIZE:
        _KINDS.clear()
    _KINDS[word] = kind
    return kind


def _tone(text: str) -> list[str]:
    """Marks of tone that lower-casing and punctuation splitting lose."""
    marks: list[str] = []
    if "!" in text:
        marks.append("#!!" if "!!" in text else "#!")
    if "?" in text:
        if "??" in text:
            marks.append("#??")
        if "?!" in text or "!?" in text:
            marks.append("#?!")
    if "..." in text or "\u2026" in text:
        marks.append("#...")
    tokens = text.split()[:MAX_WORDS]
    kinds = list(map(_KINDS.get, tokens))
    if None in kinds:
        kinds = [_kind(t) if k is None else k for t, k in zip(tokens, kinds)]
    caps_words = kinds.count(3)
    upper = kinds.count(2) + caps_words
    if upper:  # letters: the words of letters, in capitals or not
        letters = upper + kinds.count(1)
        if letters >= 2 and upper * 2 > letters:
            marks.append("#SHOUT")
        elif caps_words:
            marks.append("#CAPS")
    return marks


def _vader_band(v: float) -> str:
    """The mark of VADER's compound score ``v``, in bands."""
    for i, edge in enumerate(_VADER_BANDS):
        if v < edge:
            return _BAND_MARKS[i]
    return _BAND_MARKS[-1]


_BAND_MARKS = tuple(f"#v{i}" for i in range(len(_VADER_BANDS) + 1))


def _word_features(words: list[str], known: frozenset[str] | set[str]) -> list[str]:
    """The word part of ``features``: words, word pairs and, for words not in
    ``known``, character 3- and 4-grams (``words`` already cut to ``MAX_WORDS``)."""
    out: list[str] = []
    append = out.append
    prev = "<s>"
    for w in words:
        append(w)
        append(prev + " " + w)
        if w not in known and len(w) > 2:
            out.extend(_char_grams(w))
        prev = w
    append(prev + " </s>")
    return out


def _char_grams(w: str) -> list[str]:
    """The character 3- and 4-grams of a word the model did not keep whole."""
    g = "<" + w + ">"
    n = len(g)
    return ["~" + g[i : i + 3] for i in range(n - 2)] + ["~" + g[i : i + 4] for i in range(n - 3)]


def _marks(text: str, lower: str, words: list[str]) -> tuple[list[str], bool, float]:
    """The marks of ``features`` that are not words, whether the turn reads as
    sarcasm, and VADER's compound score (which the sentiment scorer blends in:
    computed once per turn)."""
    marks = ["#short"] if len(words) <= 2 else []
    marks.extend(_tone(text[:4000]))
    v = estimate_sentiment(text, lower)
    marks.append(_vader_band(v))
    if not _RESIGNED_WORDS.isdisjoint(words) and _RESIGNED.search(lower[:600]):
        marks.append("#resigned")
    sarcastic = False
    if not _SARCASM_WORDS.isdisjoint(words):
        head = lower[:600]
        sarcastic = bool(_SARCASM.search(head) or (_PRAISE.search(head) and _TROUBLE.search(head)))
    return marks, sarcastic, v


def _assemble(word_feats: list[str], marks: list[str], sarcastic: bool) -> list[str]:
    out = word_feats + marks
    if sarcastic:
        # praise read as sarcasm is not praise: its words give way to the mark
        out = [f for f in out if _PRAISE_WORDS.isdisjoint(f.split())]
        out.append("#sarcasm")
    return out


def features(text: str, lower: str, words: list[str], known: frozenset[str] | set[str]) -> list[str]:
    """The feature strings of one turn.

    ``lower`` is ``text.lower()``, ``words`` its words with punctuation turned
    into spaces (``highstakes.words_of``), ``known`` the words the model keeps
    as whole words; every other word is read by its character 3- and 4-grams,
    which is what makes "reprisentative" or "fraudulant" count.
    ``TextModel.predict`` adds up the weights of exactly these features (with
    per-word caches); a test checks the two agree.
    """
    if len(words) > MAX_WORDS:
        words = words[:MAX_WORDS]
    marks, sarcastic, _v = _marks(text, lower, words)
    return _assemble(_word_features(words, known), marks, sarcastic)


_RESIGNED = re.compile(
    r"^\W*(?:fine|ok(?:ay)?|sure)\W+(?:whatever|forget it|never ?mind|i give up|don'?t bother)\b|^\W*fine\W*$|"
    r"\b(?:whatever|forget (?:it|about it)|never ?mind|i give up|don'?t bother|why do i (?:even )?bother|"
    r"what'?s the point|no point|suit yourself|i(?:'m| am) done with (?:this|you)|doesn'?t matter (?:any ?more|now))\b"
)
"""Resignation: the customer stops arguing ("fine. whatever.", "forget it")."""

_SARCASM = re.compile(
    r"\b(?:yeah right|oh (?:great|wonderful|perfect|fantastic|brilliant|joy)|just (?:great|perfect|wonderful)|"
    r"thanks for nothing|so helpful\W+not|"
    r"love (?:it )?(?:how|when|that you)|what a (?:surprise|joke)|of course (?:it|you) (?:did|didn'?t|is|isn'?t))\b"
)
"""Phrases that are praise on the surface and usually not."""

_PRAISE = re.compile(r"\b(?:great|wonderful|fantastic|brilliant|perfect|awesome|amazing|lovely|excellent|thanks|thank you)\b")
_TROUBLE = re.compile(
    r"\b(?:another|still|hours|delay(?:ed)?|late|waiting|waited|no one|nobody|never|lost|cancell?ed|"
    r"broken|useless|wrong|stuck|failed|declined|crashed|charged twice|on hold)\b"
)
"""Praise next to one of these words is read as sarcasm ("great, delayed again")."""

_RESIGNED_WORDS = frozenset("fine ok okay sure whatever forget never nevermind mind give bother point suit done matter".split())
_SARCASM_WORDS = frozenset(
    "yeah oh just thanks helpful love what course great wonderful fantastic brilliant perfect awesome amazing lovely "
    "excellent thank".split()
)
"""Words without which the patterns above cannot match: the regular expressions run only when one is there."""
_PRAISE_WORDS = frozenset("great wonderful fantastic brilliant perfect awesome amazing lovely excellent thanks thank helpful love".split())
"""Words of praise that a sarcastic turn does not mean."""


class Prediction:
    """The heads of one turn: log-odds per head and the embedding.

    ``vader`` is the lexicon's compound score of the turn, which the features
    read (one of their marks) and the sentiment scorer blends in; None when
    not known."""

    __slots__ = (
        "high_stakes", "human_request", "negative", "positive", "vader",
        "_lanes", "_embedding", "_model", "_feats", "_evidence", "_total", "_source",
    )

    def __init__(
        self,
        high_stakes: float,
        human_request: float,
        negative: float,
        positive: float,
        embedding: list[float] | None = None,
        model: TextModel | None = None,
        feats: list[str] | None = None,
        lanes: array | None = None,
        *,
        vader: float | None = None,
        total: int | None = None,
        source: tuple[str, str, list[str]] | None = None,
    ) -> None:
        self.high_stakes = high_stakes
        self.human_request = human_request
        self.negative = negative
        self.positive = positive
        self.vader = vader
        self._embedding = embedding
        self._lanes = lanes
        self._model = model
        self._feats = feats
        self._evidence: str | None = None
        self._total = total
        """The packed sum of the turn's weights (the lanes, not yet unpacked)."""
        self._source = source
        """(text, lower, words) when ``feats`` are worked out only if ``evidence`` asks."""

    @property
    def embedding(self) -> list[float]:
        """The turn's vector (its direction names what it asks; compare by ``cosine``),
        decoded only when the loop scorer asks for it."""
        if self._embedding is None:
            model, lanes = self._model, self._lanes
            if model is None:
                self._embedding = []
            elif lanes is None and self._total is not None:
                self._embedding = list(map(mul, model.scales[4:], model.signed_lanes(self._total)[4:]))
            elif lanes is None:
                self._embedding = []
            else:
                self._embedding = [(v - _HALF) * s for v, s in zip(lanes[4:], model.scales[4:])]
        return self._embedding

    @property
    def evidence(self) -> str:
        """The word that pushed the stronger of high_stakes / human_request up most
        (for reasons; worked out only when a reason asks for it)."""
        if self._evidence is None:
            model, feats = self._model, self._feats
            if feats is None and model is not None and self._source is not None:
                feats = self._feats = features(*self._source, model.known)
            found = ""
            if model is not None and feats:
                head = 0 if self.high_stakes >= self.human_request else 1
                best = 0
                for f in feats:
                    w = model.weight(f, head)
                    if w > best and not f.startswith("#"):
                        best = w
                        found = f
            self._evidence = found.lstrip("~<").rstrip(">")
        return self._evidence

    def sentiment(self) -> float:
        """Sentiment in -1..1: the chance of positive minus the chance of negative."""
        n = math.exp(min(self.negative, 30.0))
        p = math.exp(min(self.positive, 30.0))
        z = 1.0 + n + p
        return (p - n) / z


_LANE = 32
_HALF = 1 << (_LANE - 1)
_MASK = (1 << _LANE) - 1
_HEADS_MASK = (1 << (_LANE * len(HEADS))) - 1


class TextModel:
    """A loaded artefact: vocabulary, known words and weights.

    Each feature's int8 weights (one per head and embedding dimension) are
    packed into one Python integer, 32 bits a lane: adding the integers of a
    turn's features adds every head and dimension at once, in C (SWAR), which
    is what keeps a prediction within a few microseconds in pure Python.
    """

    def __init__(self, data: dict) -> None:
        self.version: str = str(data.get("version", "?"))
        self.known: frozenset[str] = frozenset(data["known"])
        dim = int(data["dim"])
        self.dim = dim
        heads = list(data["heads"])
        if heads != list(HEADS):
            raise ValueError(f"model heads {heads} are not {list(HEADS)}")
        self.bias: list[float] = [float(b) for b in data["bias"]]
        width = len(HEADS) + dim
        self.width = width
        scales = [float(s) for s in data["scale"]]
        if len(scales) != width or len(self.bias) != width:
            raise ValueError("model scales/biases do not match its heads and dimension")
        self.scales = scales
        raw = bytes.fromhex(data["weights"]) if isinstance(data["weights"], str) else bytes(data["weights"])
        names: list[str] = data["features"]
        if len(raw) != len(names) * width:
            raise ValueError("model weights do not match its vocabulary")
        shifts = [_LANE * j for j in range(width)]
        table: dict[str, int] = {}
        for k, name in enumerate(names):
            row = raw[k * width : (k + 1) * width]
            table[name] = sum((b - 256 if b > 127 else b) << s for b, s in zip(row, shifts))
        self.table = table
        self._offset = sum(_HALF << s for s in shifts)
        self._head_base = [b - _HALF * s for b, s in zip(self.bias[:4], scales[:4])]
        """Per head: the bias less the lanes' offset, so a head is one multiply-add."""
        self._nbytes = width * _LANE // 8
        self.thresholds: dict[str, float] = {k: float(v) for k, v in data.get("thresholds", {}).items()}
        self.meta: dict = dict(data.get("meta", {}))
        self._words: dict[str, int] = {}
        """Word -> the packed weights of its own features (``_pair_sum``)."""
        self._pairs: dict[tuple[str, str], int] = {}
        """(previous word, word) -> the packed weights of the pair and the word."""
        self._mark_sums: dict[tuple[str, ...], int] = {}
        """A turn's marks -> their packed weights, offset included."""
        self._pairs4: dict[tuple[str, str], int] = {}
        self._mark_sums4: dict[tuple[str, ...], int] = {}
        """The same, the heads' four lanes only (``_HEADS_MASK``): a prediction
        without the embedding adds up 128-bit integers instead of 1,152-bit ones.
        The lanes above carry nothing into those below, so the heads are the same."""

    def clear_caches(self) -> None:
        """Forget the cached packed sums (benchmarks measure a cold start with it)."""
        for cache in (self._words, self._pairs, self._mark_sums, self._pairs4, self._mark_sums4):
            cache.clear()
        _KINDS.clear()

    def weight(self, feature: str, column: int) -> int:
        """The int8 weight of one feature in one column (0 for an unknown feature)."""
        packed = self.table.get(feature)
        if packed is None:
            return 0
        return (((packed + self._offset) >> (_LANE * column)) & _MASK) - _HALF

    def predict(self, text: str, lower: str, words: list[str], embedding: bool = True) -> Prediction:
        """All heads of one turn (deterministic; empty text gives the biases).

        ``embedding`` False: the embedding is empty (for engines whose loop
        scorer is not the model), and only the heads' four lanes are added up.
        With it, the embedding is decoded only when read.

        The sum is that of ``features``' weights, added up without building the
        feature strings: the weights of each word pair and of the word's own
        features (the word, or its character n-grams) come from a cache, so a
        turn costs a dict lookup per word plus one for its marks. Integer sums
        do not depend on the order, so the result is exactly the plain sum's
        (``tests/test_textmodel_packing.py``)."""
        if len(words) > MAX_WORDS:
            words = words[:MAX_WORDS]
        marks, sarcastic, vader = _marks(text, lower, words)
        if sarcastic:  # rare: the praise words' features give way, so add up the strings
            feats = _assemble(_word_features(words, self.known), marks, sarcastic)
            total = sum(filter(None, map(self.table.get, feats)), self._offset)
        else:
            pairs, mark_sums = (self._pairs, self._mark_sums) if embedding else (self._pairs4, self._mark_sums4)
            key = tuple(marks)
            start = mark_sums.get(key)
            if start is None:
                start = self._marks_sum(key, embedding)
            packed = list(map(pairs.get, zip(["<s>", *words], [*words, "</s>"])))
            if None in packed:
                for i, v in enumerate(packed):
                    if v is None:
                        packed[i] = self._pair_sum(words[i - 1] if i else "<s>", words[i] if i < len(words) else "</s>", embedding)
            total = sum(cast("list[int]", packed), start)
        mask, scales, base = _MASK, self.scales, self._head_base
        return Prediction(
            (total & mask) * scales[0] + base[0],
            ((total >> 32) & mask) * scales[1] + base[1],
            ((total >> 64) & mask) * scales[2] + base[2],
            ((total >> 96) & mask) * scales[3] + base[3],
            None if embedding else [],
            self,
            vader=vader,
            total=total,
            source=(text, lower, words),
        )

    def signed_lanes(self, total: int) -> array:
        """The lanes of a packed sum (offset included) less the offset, as signed
        integers: flipping each lane's top bit turns ``v`` into ``v - 2**31`` read
        as a signed 32-bit number, so no lane is touched in Python."""
        lanes = array("i")
        lanes.frombytes((total ^ self._offset).to_bytes(self._nbytes, "little"))
        if _BIG_ENDIAN:
            lanes.byteswap()
        return lanes

    def _pair_sum(self, prev: str, w: str, wide: bool) -> int:
        """The packed weights of the pair ``prev w`` and of ``w``'s own features
        (the word, or its character n-grams when the model does not keep it),
        remembered for the next turn; not ``wide``: the heads' lanes only."""
        table = self.table
        total = table.get(prev + " " + w, 0)
        if w != "</s>":
            own = self._words.get(w)
            if own is None:
                own = table.get(w, 0)
                if w not in self.known and len(w) > 2:
                    own += sum(filter(None, map(table.get, _char_grams(w))))
                _remember(self._words, w, own)
            total += own
        if wide:
            _remember(self._pairs, (prev, w), total)
        else:
            total &= _HEADS_MASK
            _remember(self._pairs4, (prev, w), total)
        return total

    def _marks_sum(self, marks: tuple[str, ...], wide: bool) -> int:
        """The packed weights of a turn's marks, the lanes' offset included (a few
        dozen combinations occur); not ``wide``: the heads' lanes only."""
        total = sum(filter(None, map(self.table.get, marks)), self._offset)
        if wide:
            _remember(self._mark_sums, marks, total)
        else:
            total &= _HEADS_MASK
            _remember(self._mark_sums4, marks, total)
        return total


def _remember(cache: dict, key: object, value: int) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()  # a flood of unique words: start again (the values never go stale)
    cache[key] = value


CACHE_SIZE = 32_768
"""Entries of each of a model's caches (words, word pairs): about 8 MB each at
most (a packed sum is a 1,152-bit integer). A floor's turns reuse a few
thousand words and pairs; pasted codes and typos come and go."""


_BIG_ENDIAN = sys.byteorder == "big"
if array("I").itemsize != 4 or array("i").itemsize != 4:  # pragma: no cover - every platform CPython supports has 32-bit int
    raise ImportError("textmodel needs a 32-bit array('I') and array('i')")


_loaded: TextModel | None = None


def load_model(path: str | Path | None = None) -> TextModel:
    """The shipped model (read once per process), or the artefact at ``path``."""
    global _loaded
    if path is not None:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return TextModel(json.load(fh))
    if _loaded is None:
        ref = resources.files("hitl_console").joinpath("data", ARTEFACT)
        with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
            _loaded = TextModel(json.load(fh))
    return _loaded
