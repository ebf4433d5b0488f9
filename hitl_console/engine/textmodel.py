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
C. Inference is pure Python, deterministic (integer sums, no randomness, no
hashing that depends on the process), CPU-only, and needs no third-party
package.
``docs/models.md`` is the model card.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
from array import array
from importlib import resources
from pathlib import Path

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


def cosine(a: list[float] | tuple[float, ...], b: list[float] | tuple[float, ...]) -> float:
    """Cosine similarity of two embedding vectors (0 when either is all zeros)."""
    dot = na = nb = 0.0
    for x, y in zip(a, b):
        dot += x * y
        na += x * x
        nb += y * y
    if na <= 0.0 or nb <= 0.0:
        return 0.0
    return dot / math.sqrt(na * nb)


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
    letters = upper = 0
    caps_words = 0
    for word in text.split()[:MAX_WORDS]:
        if len(word) >= 2 and word.isalpha():
            letters += 1
            if word.isupper():
                upper += 1
                if len(word) >= 3:
                    caps_words += 1
    if letters >= 2 and upper * 2 > letters:
        marks.append("#SHOUT")
    elif caps_words:
        marks.append("#CAPS")
    return marks


def _vader_band(text: str, lower: str) -> str:
    v = estimate_sentiment(text, lower)
    for i, edge in enumerate(_VADER_BANDS):
        if v < edge:
            return f"#v{i}"
    return f"#v{len(_VADER_BANDS)}"


def features(text: str, lower: str, words: list[str], known: frozenset[str] | set[str]) -> list[str]:
    """The feature strings of one turn.

    ``lower`` is ``text.lower()``, ``words`` its words with punctuation turned
    into spaces (``highstakes.words_of``), ``known`` the words the model keeps
    as whole words; every other word is read by its character 3- and 4-grams,
    which is what makes "reprisentative" or "fraudulant" count.
    """
    if len(words) > MAX_WORDS:
        words = words[:MAX_WORDS]
    out: list[str] = []
    append = out.append
    prev = "<s>"
    for w in words:
        append(w)
        append(prev + " " + w)
        if w not in known and len(w) > 2:
            g = "<" + w + ">"
            n = len(g)
            for i in range(n - 2):
                append("~" + g[i : i + 3])
            for i in range(n - 3):
                append("~" + g[i : i + 4])
        prev = w
    append(prev + " </s>")
    if len(words) <= 2:
        append("#short")
    out.extend(_tone(text[:4000]))
    out.append(_vader_band(text, lower))
    if not _RESIGNED_WORDS.isdisjoint(words) and _RESIGNED.search(lower[:600]):
        append("#resigned")
    if not _SARCASM_WORDS.isdisjoint(words):
        head = lower[:600]
        if _SARCASM.search(head) or (_PRAISE.search(head) and _TROUBLE.search(head)):
            # praise read as sarcasm is not praise: its words give way to the mark
            out = [f for f in out if _PRAISE_WORDS.isdisjoint(f.split())]
            out.append("#sarcasm")
    return out


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
_PRAISE_WORDS = frozenset("great wonderful fantastic brilliant perfect awesome amazing lovely excellent thanks thank helpful love".split())
"""Words of praise that a sarcastic turn does not mean."""
"""Words without which the patterns above cannot match: the regular expressions run only when one is there."""


class Prediction:
    """The heads of one turn: log-odds per head and the embedding."""

    __slots__ = ("high_stakes", "human_request", "negative", "positive", "_lanes", "_embedding", "_model", "_feats", "_evidence")

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
    ) -> None:
        self.high_stakes = high_stakes
        self.human_request = human_request
        self.negative = negative
        self.positive = positive
        self._embedding = embedding
        self._lanes = lanes
        self._model = model
        self._feats = feats
        self._evidence: str | None = None

    @property
    def embedding(self) -> list[float]:
        """The turn's vector (its direction names what it asks; compare by ``cosine``),
        decoded only when the loop scorer asks for it."""
        if self._embedding is None:
            model, lanes = self._model, self._lanes
            if model is None or lanes is None:
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

    def weight(self, feature: str, column: int) -> int:
        """The int8 weight of one feature in one column (0 for an unknown feature)."""
        packed = self.table.get(feature)
        if packed is None:
            return 0
        return (((packed + self._offset) >> (_LANE * column)) & _MASK) - _HALF

    def predict(self, text: str, lower: str, words: list[str], embedding: bool = True) -> Prediction:
        """All heads of one turn (deterministic; empty text gives the biases).

        ``embedding`` False: the embedding is empty (for engines whose loop
        scorer is not the model). The packed sum costs the same either way; the
        embedding is decoded only when read."""
        feats = features(text, lower, words, self.known)
        total = sum(filter(None, map(self.table.get, feats)), self._offset)
        lanes = array("I")
        lanes.frombytes(total.to_bytes(self._nbytes, "little"))
        if _BIG_ENDIAN:
            lanes.byteswap()
        hs, hr, neg, pos = [v * s + c for v, s, c in zip(lanes, self.scales, self._head_base)]
        return Prediction(hs, hr, neg, pos, None if embedding else [], self, feats, lanes)


_BIG_ENDIAN = sys.byteorder == "big"
if array("I").itemsize != 4:  # pragma: no cover - every platform CPython supports has 32-bit unsigned int
    raise ImportError("textmodel needs a 32-bit array('I')")


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
