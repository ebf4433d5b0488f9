"""High-stakes detection: what a supervisor must not leave to the AI alone.

Five kinds of evidence, each returned as a short reason that quotes it:

* fraud or unauthorised charges ("fraudulent", "I didn't authorise this
  charge", "stolen card", "identity theft", "chargeback");
* legal threats ("lawyer", "attorney", "sue", "small claims", "see you in
  court", "regulator", "ombudsman", "trading standards", "CFPB" ...);
* safety ("caught fire", "smoke", "injured", "burn", "electric shock",
  "gas leak", "sparks", "exploded", "carbon monoxide" ...);
* account security ("hacked", "someone changed my password", "unauthorised
  login", "SIM swap", "account compromised" ...);
* money above ``Thresholds.high_stakes_amount``: "$1,200", "1200 EUR",
  "£2k", "3 grand" in text, and amounts of actions and approvals.

False positives that an everyday support floor produces all the time are
kept out on purpose: "charged twice $84" is a billing error, not fraud; a
small refund is not high-stakes; "fire up the app", "fired", "I'm shocked
at the service", "tennis court" do not match; a keyword after a negation
in the same clause ("I'm not going to sue", "no smoke") is ignored; a
customer asking for a "password reset link" is not an account takeover.
Phrases that carry their own negation ("I didn't authorise") are never
treated as negated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hitl_console.config import Thresholds, TopicRules

__all__ = ["HighStakesDetector", "Finding", "parse_amounts", "words_of", "negated_before", "ANCHOR_WORDS", "CURRENCY_WORDS", "CATEGORY_LABELS", "category_label"]


CATEGORY_LABELS: dict[str, str] = {
    "fraud": "fraud or unauthorised charge",
    "legal": "legal threat",
    "safety": "safety issue",
    "security": "account security",
    "money": "large amount",
    "topic": "high-stakes topic",
    "pattern": "matches a configured high-stakes pattern",
}
"""What each finding category means, in the words of a reason (the one home)."""


def category_label(category: str) -> str:
    """The words for a finding category (an unknown one as it is)."""
    return CATEGORY_LABELS.get(category, category)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of high-stakes evidence."""

    category: str  # fraud | legal | safety | security | money | topic | pattern
    evidence: str
    """The quoted text or value."""

    def reason(self) -> str:
        return f"{category_label(self.category)}: \u201c{self.evidence}\u201d"


# Keyword patterns that a preceding negation in the same clause cancels.
_NEGATABLE: dict[str, str] = {
    "fraud": r"fraud\w*|scam(?:med|mer|mers)?|identity theft|stolen (?:card|credit card|debit card|identity)|"
    r"card (?:was|has been|got) stolen|chargeback|phishing",
    "legal": r"lawyers?|attorneys?|solicitors?|lawsuit|legal action|(?:sue|suing|sued)(?! from\b)|"
    r"small claims|(?:see you|take (?:you|this|it|them) to|in) court|court (?:case|order|action)|"
    r"regulators?|ombudsman|trading standards|cfpb|\bftc\b|attorney general|class action|"
    r"consumer protection|better business bureau|\bbbb\b|police",
    "safety": r"(?:caught|catch|catching|on|a|the) fire\b(?! (?:up|off|away|you|him|her|them|that|whoever|the bot)\b)|"
    r"fire (?:hazard|alarm|brigade|department)|"
    r"(?:smoke|smoking|smoked)(?! free\b)|injur(?:y|ies|ed|ing)|burn(?:s|t|ed|ing)? (?:me|my|myself|him|her|them|mark|marks|hazard|injury)|"
    r"(?:got|was|been|were) burn(?:t|ed)|burns\b|blister\w*|(?:electric(?:al)?|got an?|gave me an?) shock|shocked me|electrocut\w*|gas leak|smell(?:s|ed|ing)? (?:of )?gas|"
    r"carbon monoxide|spark(?:s|ed|ing)\b|explod(?:e|ed|es|ing)|explosion|overheat(?:s|ed|ing)|"
    r"melt(?:ed|ing)\b|choking hazard|hospital|ambulance|bleeding",
    "security": r"hack(?:ed|er|ers)\b|compromised|sim swap\w*|sim-swap\w*|phished|"
    r"(?:unauthori[sz]ed|suspicious|strange|unknown) (?:login|log-in|log in|sign-in|sign in|access)|"
    r"taken over|account takeover|someone (?:else )?(?:logged|signed|got) in(?:to)?|"
    r"someone (?:else )?(?:changed|reset) my (?:password|email|phone number|pin)|"
    r"(?:password|email|pin) (?:was|has been|got) changed",
}

# Phrases that carry their own negation: never cancelled.
_PHRASES: dict[str, str] = {
    "fraud": r"(?:did ?n[o']?t|never|did not) (?:make|authori[sz]e|approve|order|buy) (?:this|that|these|those|the|any)"
    r"(?: \w+)? (?:charges?|purchases?|transactions?|payments?|orders?|debits?|withdrawals?)|"
    r"unauthori[sz]ed (?:charges?|transactions?|payments?|purchases?|debits?|withdrawals?|transfers?)|"
    r"(?:do ?n[o']?t|don't) recogni[sz]e (?:this|that|these|those|the|a|any)(?: \w+)? "
    r"(?:charges?|transactions?|payments?|purchases?|debits?)",
    "security": r"(?:did ?n[o']?t|never) (?:change|reset) my (?:password|email|pin)|"
    r"(?:2fa|verification|security|one-time) codes? (?:that )?i (?:did ?n[o']?t|never) (?:request|ask)",
}

_NEGATION = re.compile(
    r"\b(?:not|never|no|don't|dont|won't|wont|isn't|wasn't|aren't|without|nothing|didn't|didnt|doesn't|"
    r"can't|cannot|wouldn't|shouldn't|neither|nor)\b(?:\W+\w+){0,3}\W*$"
)
_CLAUSE_BREAK = re.compile(r"[.!?;,]|\bbut\b")

_CATEGORY_PATTERNS: dict[str, re.Pattern[str]] = {}
for _cat in ("fraud", "legal", "safety", "security"):
    _parts = []
    if _cat in _PHRASES:
        _parts.append(f"(?P<phrase>\\b(?:{_PHRASES[_cat]}))")
    _parts.append(f"(?P<keyword>\\b(?:{_NEGATABLE[_cat]}))")
    _CATEGORY_PATTERNS[_cat] = re.compile("|".join(_parts))

_ANCHORS: dict[str, tuple[str, ...]] = {}
"""Word -> categories whose patterns can match a message holding that word.

Messages are split into words once (punctuation -> spaces, at C speed); only
the categories anchored by one of the words run their pattern. Most messages
hold no anchor at all and cost a single set intersection."""
for _cat, _words in {
    "fraud": "fraud frauds fraudulent fraudulently fraudster fraudsters scam scams scammed scammer scammers "
    "identity theft stolen chargeback chargebacks phishing authorize authorise authorized authorised "
    "unauthorized unauthorised recognize recognise",
    "legal": "lawyer lawyers attorney attorneys solicitor solicitors lawsuit legal sue suing sued claims court "
    "regulator regulators ombudsman standards cfpb ftc action protection bureau bbb police",
    "safety": "fire smoke smoking smoked injury injuries injured injuring burn burns burnt burned burning blister "
    "blisters blistered shock shocked electrocuted electrocution electrocute gas monoxide sparks sparked sparking "
    "explode exploded explodes exploding explosion overheat overheats overheated overheating melted melting "
    "choking hospital ambulance bleeding",
    "security": "hacked hacker hackers compromised sim phished unauthorized unauthorised suspicious strange unknown "
    "taken takeover someone password email pin changed reset 2fa verification codes code",
}.items():
    for _w in _words.split():
        _ANCHORS[_w] = _ANCHORS.get(_w, ()) + (_cat,)
_ANCHOR_WORDS = frozenset(_ANCHORS)
ANCHOR_WORDS = _ANCHOR_WORDS
"""Words without one of which no keyword category can match (a caller with the
words at hand may skip ``check_text`` when none is present and there is no money)."""

_TO_SPACES = bytes.maketrans(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", b" " * 32)


def words_of(lower: str) -> list[str]:
    """The words of lower-cased text, punctuation turned into spaces (C speed).

    Shared by the detectors of one message: the engine computes it once.
    """
    return lower.encode("utf-8", "replace").translate(_TO_SPACES).decode("utf-8", "replace").split()


_MONEY_SYMBOL = re.compile(
    r"(?P<sym>[$£€¥])\s?(?P<n>\d{1,3}(?:,\d{3})+|\d+)(?P<d>\.\d+)?(?:\s?(?P<k>k|m|thousand|grand)\b)?",
    re.IGNORECASE,
)
"""Starts with a character class, so the regex engine skips ahead to the symbols."""
_MONEY_WORD = re.compile(
    r"(?P<n>\b\d{1,3}(?:,\d{3})+|\b\d+)(?P<d>\.\d+)?\s?(?P<k>k|m|thousand)?\s?"
    r"(?P<cur>usd|eur|gbp|chf|cad|aud|dollars?|euros?|pounds?|bucks|quid|grand)\b",
    re.IGNORECASE,
)
"""Run only when one of the currency words is in the message."""
_CURRENCY_WORDS = frozenset(
    "usd eur gbp chf cad aud dollar dollars euro euros pound pounds bucks quid grand thousand".split()
)
CURRENCY_WORDS = _CURRENCY_WORDS
"""Without one of these words or a currency sign, ``parse_amounts`` finds nothing."""

_SYMBOLS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
}
_SCALE = {"k": 1_000.0, "thousand": 1_000.0, "grand": 1_000.0, "m": 1_000_000.0}


def parse_amounts(text: str, words: list[str] | None = None) -> list[tuple[float, str | None, str]]:
    """Sums of money written in ``text``: (value, ISO currency or None, the text matched).

    Only numbers with a currency sign or word count: "order 5531" is not money.
    ``words`` (``words_of(text.lower())``) may be passed when known.
    """
    out: list[tuple[float, str | None, str]] = []
    if "$" in text or "£" in text or "€" in text or "¥" in text:
        for m in _MONEY_SYMBOL.finditer(text):
            _add_amount(out, m, _SYMBOLS[m.group("sym")], m.group("k"))
    if not _CURRENCY_WORDS.isdisjoint(words_of(text.lower()) if words is None else words):
        for m in _MONEY_WORD.finditer(text):
            word = m.group("cur").lower()
            if word == "grand":
                _add_amount(out, m, None, "grand")
            else:
                _add_amount(out, m, _WORDS.get(word, word.upper()), m.group("k"))
    return out


def _add_amount(out: list[tuple[float, str | None, str]], m: re.Match[str], currency: str | None, scale: str | None) -> None:
    value = float(m.group("n").replace(",", "") + (m.group("d") or ""))
    if scale:
        value *= _SCALE[scale.lower()]
    out.append((value, currency, m.group(0).strip()))


def _format_amount(value: float, currency: str | None) -> str:
    # 1e308 printed 309 digits into the alert; the currency comes from the feed.
    text = f"{value:.3e}" if abs(value) >= 1e15 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {currency[:12]}" if currency else text


class HighStakesDetector:
    """Finds high-stakes evidence in text, amounts and topics with the configured rules."""

    def __init__(self, thresholds: Thresholds, topics: TopicRules) -> None:
        self.amount = thresholds.high_stakes_amount
        self.topics = frozenset(t.lower() for t in topics.high_stakes)
        self.extra = [re.compile(p, re.IGNORECASE) for p in topics.extra_patterns]

    def check_text(
        self,
        text: str,
        lower: str | None = None,
        words: list[str] | None = None,
        *,
        keywords: bool = True,
    ) -> Finding | None:
        """The first piece of evidence in a message, or None.

        ``lower`` and ``words`` (``words_of(lower)``) may be passed when the
        caller has them already. ``keywords=False`` looks only at sums of
        money and configured patterns (used for AI turns, which may quote a
        policy without the customer being at risk).
        """
        if keywords:
            lower = text.lower() if lower is None else lower
            words = words_of(lower) if words is None else words
            anchors = _ANCHOR_WORDS.intersection(words)
            if anchors:
                categories: set[str] = set()
                for w in anchors:
                    categories.update(_ANCHORS[w])
                source = text if len(text) == len(lower) else lower
                for cat in ("fraud", "legal", "safety", "security"):
                    if cat not in categories:
                        continue
                    for m in _CATEGORY_PATTERNS[cat].finditer(lower):
                        if m.lastgroup == "phrase" or not negated_before(lower, m.start()):
                            return Finding(cat, _quote(source, m.start(), m.end()))
        for pattern in self.extra:
            found = pattern.search(text)
            if found:
                return Finding("pattern", _quote(text, found.start(), found.end()))
        for value, currency, said in parse_amounts(text, words):
            if value > self.amount:
                return Finding("money", said)
        return None

    def check_amount(self, amount: float | None, currency: str | None, what: str) -> Finding | None:
        """An action's or approval's amount above the threshold."""
        # A refund of -2,538.95 is as much money as one of +2,538.95 (and odder).
        if amount is not None and abs(amount) > self.amount:
            return Finding("money", f"{what} {_format_amount(amount, currency)}")
        return None

    def check_topics(self, topics: list[str] | tuple[str, ...]) -> Finding | None:
        for topic in topics:
            if topic.lower() in self.topics:
                return Finding("topic", topic)
        return None


def negated_before(lower: str, start: int) -> bool:
    """A negation within the three words before ``start``, in the same clause."""
    window = lower[max(0, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    return bool(_NEGATION.search(window))


def _quote(text: str, start: int, end: int, context: int = 24) -> str:
    """The match with a little context, as evidence for the reason."""
    a = max(0, start - context)
    b = min(len(text), end + context)
    a = text.rfind(" ", 0, a) + 1 if a > 0 else 0
    nb = text.find(" ", b)
    b = len(text) if nb == -1 else nb
    snippet = " ".join(text[a:b].split())
    return ("\u2026" if a > 0 else "") + snippet + ("\u2026" if b < len(text) else "")
