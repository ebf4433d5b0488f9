"""Scorers: the one home of the engine's judgement of message text.

The engine decides *when* a signal is looked for (which role, which event,
what counts as progress, firing and clearing); a **scorer** answers the
narrow question about one turn's text. There are four, one per signal:

``human_request``  (:class:`HumanRequestScorer`)
    does this customer turn ask for a person? -> a :class:`Signal` or None
``high_stakes``  (:class:`HighStakesScorer`)
    does this turn hold fraud, account security, legal, safety evidence or a
    large sum? -> a :class:`Signal` or None (topics and the amounts of actions
    and approvals are rules of ``HighStakesDetector`` whatever the scorer)
``sentiment``  (:class:`SentimentScorer`)
    how does the customer feel, -1..1, and is the turn a polite closing?
``loop``  (:class:`LoopScorer`)
    a *key* per turn that the engine remembers, how similar two keys are
    (0..1, at or above ``threshold`` is a repeat), re-ask markers ("I already
    told you") and AI stalls ("still checking...").

Two implementations ship: ``"rules"`` (the keyword, regex and lexicon rules
the console always had: ``highstakes``, ``triggers``, ``sentiment``) and
``"model"`` (the learned model of ``textmodel``, which also keeps the rules
for what it was not trained on). The ``[signals]`` section of the config
picks one per signal; ``"package.module:factory"`` plugs in a deployment's
own (the factory is called with the ``Config`` and returns an object with the
protocol's methods). ``describe`` says which ones an engine runs.

Every ``score`` takes the turn as ``text``, ``lower`` (``text.lower()``) and
``words`` (``highstakes.words_of(lower)``), computed once by the engine.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from rapidfuzz import fuzz

from hitl_console.engine.cues import adjust, goodbye
from hitl_console.engine.highstakes import ANCHOR_WORDS, CURRENCY_WORDS, HighStakesDetector, category_label
from hitl_console.engine.sentiment import closing_estimate, estimate_sentiment
from hitl_console.engine.triggers import REQUEST_ANCHORS, is_human_request

from hitl_console.engine.textmodel import cosine, norm2, sigmoid

if TYPE_CHECKING:
    from hitl_console.config import Config
    from hitl_console.engine.textmodel import Prediction, TextModel

__all__ = [
    "SIGNALS",
    "BUILT_IN",
    "Signal",
    "HumanRequestScorer",
    "HighStakesScorer",
    "SentimentScorer",
    "LoopScorer",
    "Scorers",
    "build_scorers",
    "resolve",
    "configured",
    "summary",
    "ScorerError",
]

SIGNALS = ("human_request", "high_stakes", "sentiment", "loop")
"""The signals a scorer produces, in the order of the ``[signals]`` section."""
BUILT_IN = ("model", "rules")


class ScorerError(ValueError):
    """A ``[signals]`` value that names no usable scorer."""


class Signal(NamedTuple):
    """What a scorer found in one turn."""

    score: float
    """How sure the scorer is, 0..1 (rules say 1.0)."""
    evidence: str
    """The words to quote."""
    label: str
    """What was found ("fraud or unauthorised charge", "asked for a person")."""


@runtime_checkable
class HumanRequestScorer(Protocol):
    name: str

    def score(self, text: str, lower: str, words: list[str]) -> Signal | None: ...


@runtime_checkable
class HighStakesScorer(Protocol):
    name: str

    def score(self, text: str, lower: str, words: list[str], customer: bool) -> Signal | None:
        """``customer`` False: an AI turn, where only sums and configured patterns count."""
        ...


@runtime_checkable
class SentimentScorer(Protocol):
    name: str

    def score(self, text: str, lower: str, words: list[str]) -> tuple[float, bool]:
        """(sentiment -1..1, the turn is a polite closing that must not count as a drop)."""
        ...


@runtime_checkable
class LoopScorer(Protocol):
    name: str
    threshold: float
    """``similarity`` at or above this is a repeat."""

    def key(self, text: str, lower: str, words: list[str]) -> Any:
        """What to remember of a turn for later comparison; None: the turn never counts."""
        ...

    def similarity(self, a: Any, b: Any) -> float: ...

    def reask(self, lower: str, words: list[str]) -> str | None:
        """The words with which a customer says they are asking again, or None."""
        ...

    def stall(self, lower: str, words: list[str]) -> bool:
        """An AI turn that only says it is still working on it."""
        ...


_PROTOCOLS: dict[str, type] = {
    "human_request": HumanRequestScorer,
    "high_stakes": HighStakesScorer,
    "sentiment": SentimentScorer,
    "loop": LoopScorer,
}


# ------------------------------------------------------------ the rules

def _has_money(text: str, words: list[str]) -> bool:
    return (
        not CURRENCY_WORDS.isdisjoint(words)
        or "$" in text or "\u00a3" in text or "\u20ac" in text or "\u00a5" in text
    )


class RuleHighStakes:
    """Keywords, phrases, configured patterns and sums (``highstakes.HighStakesDetector``)."""

    name = "rules"

    def __init__(self, detector: HighStakesDetector) -> None:
        self.detector = detector
        self._extra = bool(detector.extra)

    def score(self, text: str, lower: str, words: list[str], customer: bool) -> Signal | None:
        # check_text finds nothing without an anchor word, money or extra patterns
        if not (self._extra or (customer and not ANCHOR_WORDS.isdisjoint(words)) or _has_money(text, words)):
            return None
        finding = self.detector.check_text(text, lower, words, keywords=customer)
        if finding is None:
            return None
        return Signal(1.0, finding.evidence, category_label(finding.category))


class RuleHumanRequest:
    """``triggers.is_human_request``: phrasings such as "speak to a real person"."""

    name = "rules"

    def score(self, text: str, lower: str, words: list[str]) -> Signal | None:
        if REQUEST_ANCHORS.isdisjoint(words):
            return None
        asked = is_human_request(lower, words)
        return None if asked is None else Signal(1.0, asked, "asked for a person")


class RuleSentiment:
    """VADER's lexicon (``sentiment.estimate_sentiment``) and the polite-closing rule."""

    name = "rules"

    def score(self, text: str, lower: str, words: list[str]) -> tuple[float, bool]:
        s = estimate_sentiment(text, lower)
        if s < 0.0:  # "no thanks", "nope, all good": not a drop
            adjusted = closing_estimate(words)
            if adjusted is not None:
                return adjusted, True
        return s, False


_FILLER = frozenset("a an the i me my you your is it to of for and or do does can could please pls s t".split())


def swapped_word(a: str, b: str) -> bool:
    """Two near-identical turns in which a word of one was replaced by an unrelated word of
    the other ("how do I cancel order 42" / "how do I track order 42"): a different
    question, not a repeat. Adding or dropping words, or a typo ("cancle"), is still a repeat."""
    wa, wb = set(a.split()) - _FILLER, set(b.split()) - _FILLER
    only_a, only_b = wa - wb, wb - wa
    if not only_a or not only_b:
        return False
    return not any(fuzz.ratio(x, y) >= 75.0 for x in only_a for y in only_b)


class RuleLoop:
    """Near-identical text: rapidfuzz's ratio of the normalised words."""

    name = "rules"

    def __init__(self, similarity: float, min_words: int) -> None:
        self.threshold = similarity / 100.0
        self.min_words = min_words

    def key(self, text: str, lower: str, words: list[str]) -> Any:
        """The joined words, or None for turns too short to count ("yes", "ok thanks")."""
        if len(words) < self.min_words:
            return None
        norm = " ".join(words)
        return norm if len(norm) >= 8 else None

    def similarity(self, a: Any, b: Any) -> float:
        n, m = len(a), len(b)
        cutoff = self.threshold * 100.0
        # ratio <= 200 * min(n, m) / (n + m): skip pairs whose lengths alone rule it out
        if 200.0 * (n if n < m else m) < cutoff * (n + m):
            return 0.0
        r = fuzz.ratio(a, b, score_cutoff=cutoff)
        return 0.0 if r and swapped_word(a, b) else r / 100.0

    def reask(self, lower: str, words: list[str]) -> str | None:
        return None

    def stall(self, lower: str, words: list[str]) -> bool:
        return False


# ------------------------------------------------------------ the model


class _Shared:
    """One model prediction per turn, shared by the model scorers of an engine
    (they are asked about the same text one after the other)."""

    __slots__ = ("model", "embedding", "_text", "_pred", "_closing_text", "_closing")

    def __init__(self, model: TextModel, embedding: bool = True) -> None:
        self.model = model
        self.embedding = embedding
        """Whether a scorer reads the embedding (the loop model): without it a
        prediction adds up only the heads' lanes."""
        self._text: str | None = None
        self._pred: Prediction | None = None
        self._closing_text: str | None = None
        self._closing: float | None = None

    def predict(self, text: str, lower: str, words: list[str]) -> Prediction:
        if text is not self._text or self._pred is None:
            self._pred = self.model.predict(text, lower, words, self.embedding)
            self._text = text
        return self._pred

    def closing(self, text: str, words: list[str]) -> float | None:
        """``closing_estimate(words)`` of the turn (the sentiment and loop scorers both ask)."""
        if text is not self._closing_text:
            self._closing = closing_estimate(words)
            self._closing_text = text
        return self._closing


_WEAK_SAFETY = re.compile(r"\b(?:hospital|ambulance)\b")
"""Rule words that alone say nothing about the product ("I was in hospital, can
you waive the fee?"): the model scorer ignores a rule finding that is only this."""


class ModelHighStakes:
    """The model's fraud / account-security head, and the rules for legal,
    safety, configured patterns and large sums (no public training data has
    them; large sums keep their rule by design)."""

    name = "model"

    def __init__(self, shared: _Shared, rules: RuleHighStakes, threshold: float | None) -> None:
        self.shared = shared
        self.rules = rules
        self.logit = shared.model.thresholds["high_stakes"] if threshold is None else _logit(threshold)

    def score(self, text: str, lower: str, words: list[str], customer: bool) -> Signal | None:
        if customer and words:
            p = self.shared.predict(text, lower, words)
            if p.high_stakes >= self.logit:
                return Signal(sigmoid(p.high_stakes), _evidence(text), "fraud or account security")
        found = self.rules.score(text, lower, words, customer)
        if found is not None and found.label == "safety issue" and _WEAK_SAFETY.search(found.evidence.lower()):
            return None
        return found


_NOT_A_REQUEST = re.compile(
    # someone else did something: "the agent told me to wait", "your rep said ..."
    r"\b(?:the|your|an?|that|this|one|other|last)\s+(?:\w+\s+)?(?:agent|person|representative|rep|operator|manager|"
    r"supervisor|staff|employee|human|guy|lady|woman|man)\s+(?:\w+\s+)?(?:told|said|asked|gave|was|were|had|has|"
    r"promised|sent|cut|hung|called|confirmed|explained|put|made|did|took|helped|fixed|approved|booked)\b"
    # the customer already did: "I talked to someone yesterday", "I've spoken with an agent"
    r"|\bi(?:'ve|\u2019ve| have)?\s+(?:already\s+|just\s+|also\s+)?(?:talked|spoke|spoken|chatted|called|phoned)\s+(?:to|with)\b"
    # who am I talking to: "are you human?", "am I speaking with a real person?"
    r"|\b(?:are|r)\s+(?:you|u)\s+(?:a\s+|an\s+)?(?:real|human|bot|robot|person|machine|ai|actual)\b"
    r"|\b(?:run|operated|staffed|answered|handled|written|powered)\s+by\s+(?:a\s+)?(?:real\s+)?(?:person|people|human|humans|bot|machine|ai)\b"
    r"|\b(?:person|human|people)\s+or\s+(?:a\s+|an\s+)?(?:bot|robot|machine|software|ai|computer|program)\b"
    r"|\b(?:bot|robot|machine|software|ai|computer|program)\s+or\s+(?:a\s+|an\s+)?(?:real\s+)?(?:person|human)\b"
    r"|\bam i\s+(?:talking|speaking|chatting)\s+(?:to|with)\s+(?:a\s+|an\s+)?(?:real|human|bot|robot|machine|person|ai)\b"
    # no person wanted: "I don't want to talk to anyone, just fix it", "no need for a human"
    r"|\b(?:don'?t|don\u2019t|do not|dont|no need|never)\b[^.!?]{0,20}\b(?:talk|speak|chat|transfer|human|person|anyone|anybody|agent)\b"
)
"""Turns that mention a person without asking for one. The model reads words, not
who does what: it gives "the agent told me to wait" 11% and "I talked to someone
yesterday about this" 29%, both above its threshold. Only the model's verdict is
vetoed: the rule's phrasings ("... get me a human") still fire in the same turn."""


_PAY_A_PERSON = re.compile(
    r"\b(?:send|sent|sending|transfer|transferring|transferred|pay|paying|paid|wire|move)\s+(?:\w+\s+){0,2}?"
    r"(?:money|cash|funds|a payment|payments|\$?\d[\d,.]*|pounds|dollars|euros|quid|bucks)\s+(?:\w+\s+)?"
    r"(?:to|for)\s+(?:a|another|one|the|some)\s+(?:other\s+)?(?:person|people|human)\b"
)
"""Money sent to a person ("how do I transfer money to a person abroad") is not a request for one,
though the rule's "transfer ... to a person" reads it so."""


_WHO = frozenset(
    "person persons people ppl human humans humanbeing agent agents representative representatives rep reps "
    "someone somebody anyone anybody manager managers supervisor supervisors operator operators staff employee "
    "employees escalate escalation boss adviser advisor consultant colleague team department service care "
    "support desk helpdesk real live actual guy lady woman man men women member".split()
)
"""Who a request for a person names. Every way of asking for one names someone
("a human", "your manager", "customer care", "somebody real"); without such a
word the model's verdict is a false alarm on the dev split and the samples
(an urgent "sorted NOW" on its own, a question on connecting a router)."""


def _names_someone(words: list[str]) -> bool:
    """A word of ``_WHO``, or one a typo away ("reprisentative", "humna", "supervisr")."""
    if not _WHO.isdisjoint(words):
        return True
    for w in words:
        if len(w) >= 5:
            for who in _WHO:
                if len(who) >= 5 and abs(len(who) - len(w)) <= 2 and fuzz.ratio(w, who, score_cutoff=80.0):
                    return True
    return False


class ModelHumanRequest:
    """The model's request-for-a-person head, or the rule's phrasings. The model's
    verdict needs the turn to name someone (``_WHO``) and not to only mention a
    person (``_NOT_A_REQUEST``); the rule's phrasings fire whatever the model says."""

    name = "model"

    def __init__(self, shared: _Shared, threshold: float | None) -> None:
        self.shared = shared
        self.rules = RuleHumanRequest()
        self.logit = shared.model.thresholds["human_request"] if threshold is None else _logit(threshold)

    def score(self, text: str, lower: str, words: list[str]) -> Signal | None:
        if not words:
            return None
        found = self.rules.score(text, lower, words)
        if found is not None:
            return None if _PAY_A_PERSON.search(lower) else found
        p = self.shared.predict(text, lower, words)
        if (p.human_request >= self.logit and _NOT_A_REQUEST.search(lower) is None and _names_someone(words)
                and _PAY_A_PERSON.search(lower) is None):
            return Signal(sigmoid(p.human_request), _evidence(text), "asked for a person")
        return None


class ModelSentiment:
    """The mean of the model's sentiment (chance of positive minus chance of
    negative) and the lexicon's (VADER), and the polite-closing rule.

    The mean ranks better than either alone on the dev split (AUROC 0.831
    against 0.822 for the model and 0.786 for VADER, ``docs/models.md``) and
    is less extreme on everyday turns: the model alone reads "Good morning"
    as +0.83, so the next plain question looked like a sharp drop."""

    name = "model"
    cues = True
    """Read ``engine.cues`` too (False only to measure what they add)."""

    def __init__(self, shared: _Shared, lexicon_weight: float = 0.5) -> None:
        self.shared = shared
        self.lexicon_weight = lexicon_weight

    def score(self, text: str, lower: str, words: list[str]) -> tuple[float, bool]:
        if not words:
            return 0.0, False
        w = self.lexicon_weight
        p = self.shared.predict(text, lower, words)
        s = p.sentiment()
        if w > 0.0:
            lexicon = p.vader  # the features read it already
            s = (1.0 - w) * s + w * (estimate_sentiment(text, lower) if lexicon is None else lexicon)
        if self.cues:
            s, cue = adjust(text, lower, words, s)  # sarcasm, shouting, resignation: engine/cues.py
            if cue is not None:  # "thanks for nothing" is no goodbye
                return s, False
        if self.shared.closing(text, words) is not None or goodbye(lower, words):  # a goodbye is never a drop
            return max(0.0, s), True
        return s, False


_REASK = re.compile(
    r"\b(?:i (?:already|just) (?:told|gave|sent|said|asked|explained|answered)|"
    r"i(?:'ve| have) already (?:told|given|sent|said|asked|explained|answered)|"
    r"(?:as|like) i (?:said|told you|mentioned|already said)|"
    r"(?:i(?:'m| am)|still) (?:still )?waiting (?:for|on) (?:an? )?(?:answer|reply|response|you)|"
    r"still waiting|still no (?:answer|reply|response)|"
    r"(?:for|this is) the (?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)|umpteenth|hundredth) time|"
    r"(?:i|i've|i have) asked (?:you )?(?:this |that )?(?:already|before|twice|again)|"
    r"(?:you(?:'re| are) )?not (?:listening|answering my question)|answer (?:my|the) question|"
    r"that(?:'s| is) not what i (?:asked|said)|you (?:keep|kept) (?:saying|telling|asking|repeating)|"
    r"(?:same|that) (?:answer|thing|reply) again|(?:asking|ask|tell|telling|say|saying) (?:you |it |this |that )?again|"
    r"how many times)"
)
"""A customer saying they are asking again."""

_REASK_NEEDS = re.compile(
    "already|just|said|told|mentioned|waiting|still|time|asked|listening|answering|question|keep|kept|again"
)
"""Every branch of ``_REASK`` holds one of these strings: most turns hold none, and
this search skips through them much faster than ``_REASK``'s (a test checks it)."""

_STALL = re.compile(
    r"\b(?:still (?:checking|looking|working|investigating|reviewing|processing)|"
    r"(?:one|just a) (?:moment|second|minute)|bear with me|please (?:hold|wait|be patient)|"
    r"let me (?:check|look into|see)|i(?:'m| am) (?:checking|looking into|looking at) (?:this|that|it))\b"
)
"""An AI turn that promises work instead of doing it."""

_CLOSER = re.compile(
    r"\b(?:anything else|(?:have|enjoy) a (?:great|nice|good|lovely) (?:day|evening|weekend)|"
    r"thank(?:s| you) for (?:contacting|reaching out|your patience|chatting|waiting)|glad i could help|"
    r"is there something else|glad (?:that'?s|that is|it'?s|we) (?:sorted|fixed|resolved)|you'?re (?:very )?welcome|"
    r"happy to help|no problem at all)\b"
)
"""Polite AI closers: repeating one is not a loop."""


class ModelLoop:
    """Paraphrased re-asks: the cosine of the model's embedding (trained so that
    utterances of one intent lie together), re-ask markers and AI stalls; a
    near-identical turn (the rule's rapidfuzz ratio) still counts."""

    name = "model"

    def __init__(self, shared: _Shared, rule: RuleLoop, threshold: float | None) -> None:
        self.shared = shared
        self.rule = rule
        self.threshold = shared.model.thresholds["loop"] if threshold is None else threshold
        self._near = rule.threshold

    def key(self, text: str, lower: str, words: list[str]) -> Any:
        norm = self.rule.key(text, lower, words)
        if norm is None or self.shared.closing(text, words) is not None or _CLOSER.search(lower):
            return None  # a goodbye ("no that's all, bye") is not a re-ask of the last one
        vector = tuple(self.shared.predict(text, lower, words).embedding)
        return (norm, vector, norm2(vector))

    def similarity(self, a: Any, b: Any) -> float:
        c = cosine(a[1], b[1], a[2], b[2])
        if c >= self.threshold:
            return c
        # a near-identical turn is a repeat whatever the embedding says
        return self.threshold if self.rule.similarity(a[0], b[0]) >= self._near else c

    def reask(self, lower: str, words: list[str]) -> str | None:
        m = _REASK.search(lower) if _REASK_NEEDS.search(lower) else None
        return None if m is None else m.group(0)

    def stall(self, lower: str, words: list[str]) -> bool:
        return len(words) <= 25 and _STALL.search(lower) is not None


def _logit(p: float) -> float:
    import math

    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _evidence(text: str) -> str:
    """The customer's own words, shortened, to quote in a reason (how sure the
    model is goes in the reason, never into the quoted words)."""
    from hitl_console.text import one_line

    return one_line(text, 80)


# ------------------------------------------------------------ choosing


class Scorers(NamedTuple):
    human_request: HumanRequestScorer
    high_stakes: HighStakesScorer
    sentiment: SentimentScorer
    loop: LoopScorer

    def describe(self) -> dict[str, str]:
        """Which scorer runs for each signal (for ``--version`` and ``analyze``)."""
        return {signal: str(getattr(getattr(self, signal), "name", "?")) for signal in SIGNALS}


def configured(signals: Any) -> dict[str, str]:
    """What a ``[signals]`` section picks for each signal ("model", "rules" or the
    plug-in's "package.module:factory"), without loading anything: for
    ``--version``, which must answer even where a plug-in does not import."""
    return {signal: str(getattr(signals, signal)) for signal in SIGNALS}


def summary(names: dict[str, str]) -> str:
    """One line for people: "human_request=model, high_stakes=model, ..."."""
    return ", ".join(f"{signal}={names.get(signal, '?')}" for signal in SIGNALS)


def resolve(spec: str, signal: str) -> Any:
    """The factory that a ``"package.module:attribute"`` value names (ScorerError if none)."""
    if spec in BUILT_IN:
        return spec
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ScorerError(
            f"signals.{signal}: {spec!r} is not a scorer: use \"model\", \"rules\" or \"package.module:factory\""
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # ImportError, or the module failing as it is imported
        raise ScorerError(f"signals.{signal}: cannot import {module_name!r} ({type(error).__name__}: {error})") from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise ScorerError(f"signals.{signal}: {module_name!r} has no callable {attr!r}")
    return factory


def build_scorers(config: Config, detector: HighStakesDetector) -> Scorers:
    """The scorers ``config.signals`` picks (ScorerError for a plug-in that does not fit)."""
    sig = config.signals
    t = config.thresholds
    rules_hs = RuleHighStakes(detector)
    rule_loop = RuleLoop(t.loop_similarity, t.loop_min_words)
    shared: _Shared | None = None

    def model() -> _Shared:
        nonlocal shared
        if shared is None:
            from hitl_console.engine.textmodel import load_model

            shared = _Shared(load_model(sig.model_path), embedding=sig.loop == "model")
        return shared

    chosen: dict[str, Any] = {}
    for signal in SIGNALS:
        spec = getattr(sig, signal)
        if spec == "rules":
            scorer: Any = {
                "human_request": RuleHumanRequest,
                "high_stakes": lambda: rules_hs,
                "sentiment": RuleSentiment,
                "loop": lambda: rule_loop,
            }[signal]()
        elif spec == "model":
            if signal == "human_request":
                scorer = ModelHumanRequest(model(), sig.human_request_threshold)
            elif signal == "high_stakes":
                scorer = ModelHighStakes(model(), rules_hs, sig.high_stakes_threshold)
            elif signal == "sentiment":
                scorer = ModelSentiment(model(), sig.sentiment_lexicon_weight)
            else:
                scorer = ModelLoop(model(), rule_loop, sig.loop_similarity)
        else:
            scorer = resolve(spec, signal)(config)
            if not isinstance(scorer, _PROTOCOLS[signal]):
                raise ScorerError(
                    f"signals.{signal}: {spec!r} returned {type(scorer).__name__}, which lacks what a "
                    f"{_PROTOCOLS[signal].__name__} has (see hitl_console.engine.scorers)"
                )
        chosen[signal] = scorer
    return Scorers(**chosen)
