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
    (GoEmotions' sentiment groups);
``embedding``
    a 16-number vector in which turns that ask the same thing lie close
    together (the low-rank part of an intent classifier over the 227 intents
    of Banking77 and CLINC150): the loop scorer compares turns by its cosine.

Features are the turn's words and word pairs, a few marks of tone (capitals,
``!!``, ``??``, ``...``, VADER's compound score in bands) and, for words the
model never saw often enough (typos, slang), their character 3- and 4-grams.
``features`` is the one definition of them: ``training/train.py`` imports it,
so training and inference cannot drift apart.

The artefact (``hitl_console/data/judgement-model.json.gz``) holds the
vocabulary and int8-quantised weights; it is read once, lazily, on the first
call (about a tenth of a second) and is then shared by every engine of the
process. Inference is pure Python, deterministic (no randomness, no hashing
that depends on the process), CPU-only, and needs no third-party package.
``docs/models.md`` is the model card.
"""

from __future__ import annotations

import gzip
import json
import math
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
    return out


class Prediction:
    """The heads of one turn: log-odds per head and the embedding."""

    __slots__ = ("high_stakes", "human_request", "negative", "positive", "embedding", "evidence")

    def __init__(
        self,
        high_stakes: float,
        human_request: float,
        negative: float,
        positive: float,
        embedding: list[float],
        evidence: str,
    ) -> None:
        self.high_stakes = high_stakes
        self.human_request = human_request
        self.negative = negative
        self.positive = positive
        self.embedding = embedding
        self.evidence = evidence
        """The words that pushed the strongest head up most (for reasons)."""

    def sentiment(self) -> float:
        """Sentiment in -1..1: the chance of positive minus the chance of negative."""
        n = math.exp(min(self.negative, 30.0))
        p = math.exp(min(self.positive, 30.0))
        z = 1.0 + n + p
        return (p - n) / z


class TextModel:
    """A loaded artefact: vocabulary, known words and weights."""

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
        scales = [float(s) for s in data["scale"]]
        if len(scales) != width or len(self.bias) != width:
            raise ValueError("model scales/biases do not match its heads and dimension")
        raw = bytes.fromhex(data["weights"]) if isinstance(data["weights"], str) else bytes(data["weights"])
        names: list[str] = data["features"]
        if len(raw) != len(names) * width:
            raise ValueError("model weights do not match its vocabulary")
        table: dict[str, tuple[float, ...]] = {}
        for k, name in enumerate(names):
            row = raw[k * width : (k + 1) * width]
            table[name] = tuple((b - 256 if b > 127 else b) * scales[j] for j, b in enumerate(row))
        self.table = table
        n_heads = len(HEADS)
        self.heads_table: dict[str, tuple[float, ...]] = {name: row[:n_heads] for name, row in table.items()}
        """The scalar heads of every row alone (the same floats): what ``predict``
        sums when the embedding is not wanted, a fifth of the work."""
        self.thresholds: dict[str, float] = {k: float(v) for k, v in data.get("thresholds", {}).items()}
        self.meta: dict = dict(data.get("meta", {}))

    def predict(self, text: str, lower: str, words: list[str], embedding: bool = True) -> Prediction:
        """All heads of one turn (deterministic; empty text gives the biases).

        ``embedding`` False: the scalar heads only (the embedding is empty and
        there is no evidence word), for engines whose loop scorer is not the
        model: the embedding is four fifths of the sum."""
        feats = features(text, lower, words, self.known)
        bias = self.bias
        if not embedding:
            rows = [r for r in map(self.heads_table.get, feats) if r is not None]
            sums = [b + s for b, s in zip(bias, map(sum, zip(*rows)))] if rows else bias[: len(HEADS)]
            return Prediction(sums[0], sums[1], sums[2], sums[3], [], "")
        table = self.table
        rows = [r for r in map(table.get, feats) if r is not None]
        if rows:
            sums = [b + s for b, s in zip(bias, map(sum, zip(*rows)))]
        else:
            sums = list(bias)
        evidence = ""
        if rows:
            head = 0 if sums[0] >= sums[1] else 1
            best = 0.0
            for f in feats:
                r = table.get(f)
                if r is not None and r[head] > best and not f.startswith("#"):
                    best = r[head]
                    evidence = f
        return Prediction(sums[0], sums[1], sums[2], sums[3], sums[4:], evidence.lstrip("~<").rstrip(">"))


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
