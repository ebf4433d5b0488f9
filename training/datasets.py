"""Readers for the public training data, and the project's own dev split.

Every reader takes the directory a person extracted the data to (see
``docs/models.md`` for the exact commands) and reads *training* material only:

* Banking77 (PolyAI, CC BY 4.0): ``banking_data/train.csv``; the test split
  is reserved for the team's evaluation and is never opened;
* CLINC150 (clinc/oos-eval, CC BY 3.0): the ``train``, ``val``, ``oos_train``
  and ``oos_val`` parts of ``data/data_full.json``; ``test`` and
  ``oos_test`` are reserved and never read;
* NLU++ (PolyAI, CC BY 4.0): ``nlupp/data/{banking,hotels}/fold*.json``;
* GoEmotions (Google Research, Apache 2.0; the sentiment grouping as
  published by monologg/GoEmotions-pytorch, Apache 2.0):
  ``data/group/train.tsv`` (ambiguous, negative, neutral, positive).

``dev_split`` holds out a stable 15% of every source by a checksum of the
text, so that the split does not depend on the order of files or on the
process (no ``hash()``).
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

DEV_PERCENT = 15


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: tuple[str, ...]
    source: str


def is_dev(text: str) -> bool:
    """The project's own dev split: a stable 15% of texts, by CRC-32."""
    return zlib.crc32(text.strip().lower().encode("utf-8")) % 100 < DEV_PERCENT


def banking77(root: Path) -> list[Example]:
    path = root / "banking_data" / "train.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return [Example(row["text"], (row["category"],), "banking77") for row in csv.DictReader(fh)]


def clinc150(root: Path) -> list[Example]:
    data = json.loads((root / "data" / "data_full.json").read_text(encoding="utf-8"))
    out: list[Example] = []
    for part in ("train", "val", "oos_train", "oos_val"):  # never "test" / "oos_test"
        for text, label in data[part]:
            out.append(Example(text, (label,), "clinc150"))
    return out


def nlupp(root: Path) -> list[Example]:
    out: list[Example] = []
    for domain in ("banking", "hotels"):
        for path in sorted((root / "nlupp" / "data" / domain).glob("fold*.json")):
            for item in json.loads(path.read_text(encoding="utf-8")):
                out.append(Example(item["text"], tuple(item.get("intents", ())), f"nlupp-{domain}"))
    return out


GOEMOTIONS_GROUPS = ("ambiguous", "negative", "neutral", "positive")


def goemotions(root: Path) -> list[Example]:
    """Single-label comments of the sentiment grouping (ambiguous counts as neutral)."""
    out: list[Example] = []
    with (root / "data" / "group" / "train.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or "," in parts[1]:
                continue
            group = GOEMOTIONS_GROUPS[int(parts[1])]
            out.append(Example(parts[0], ("neutral" if group == "ambiguous" else group,), "goemotions"))
    return out


@dataclass(slots=True)
class Corpus:
    """Everything the training reads, already split into train and dev."""

    intents_train: list[Example]
    intents_dev: list[Example]
    sentiment_train: list[Example]
    sentiment_dev: list[Example]


def load_corpus(data: Path) -> Corpus:
    """Read all sources under ``data`` (one sub-directory each) and split them."""
    intents = banking77(data / "banking77") + clinc150(data / "clinc150") + nlupp(data / "nlupp")
    sentiment = goemotions(data / "goemotions")
    return Corpus(
        intents_train=[e for e in intents if not is_dev(e.text)],
        intents_dev=[e for e in intents if is_dev(e.text)],
        sentiment_train=[e for e in sentiment if not is_dev(e.text)],
        sentiment_dev=[e for e in sentiment if is_dev(e.text)],
    )


# ------------------------------------------------------------ labels per signal

HIGH_STAKES_INTENTS = frozenset(
    {
        # Banking77: fraud, unrecognised payments, lost/stolen, compromised
        "compromised_card",
        "card_payment_not_recognised",
        "cash_withdrawal_not_recognised",
        "direct_debit_payment_not_recognised",
        "lost_or_stolen_card",
        "lost_or_stolen_phone",
        # CLINC150
        "report_fraud",
        "report_lost_card",
        "freeze_account",
        # NLU++ (multi-label: any of these)
        "lost_stolen",
    }
)
"""Intents whose utterances a supervisor should see: fraud and account security."""

HUMAN_REQUEST_INTENTS = frozenset({"handoff"})
"""NLU++'s request to be handed to a person."""

PARAPHRASE_SOURCES = frozenset({"banking77", "clinc150"})
"""Single-label intent data: two utterances of one intent ask the same thing."""


def intent_label(e: Example) -> str | None:
    """The intent class of an utterance for the loop embedding, or None.

    Banking77 and CLINC150 intents keep their source as a prefix (their label
    sets overlap in meaning but were drawn separately); an NLU++ utterance's
    class is its whole set of intents (two utterances with the same set ask
    the same thing). CLINC150's out-of-scope and NLU++ utterances without an
    intent have none.
    """
    if e.source in PARAPHRASE_SOURCES:
        return None if e.labels[0] == "oos" else f"{e.source[0]}:{e.labels[0]}"
    if e.source.startswith("nlupp") and e.labels:
        return "n:" + "+".join(sorted(e.labels))
    return None


def high_stakes_label(e: Example) -> int:
    return int(not HIGH_STAKES_INTENTS.isdisjoint(e.labels))


def human_request_label(e: Example) -> int:
    return int(not HUMAN_REQUEST_INTENTS.isdisjoint(e.labels))


PROBLEM_INTENTS = frozenset(
    {
        # Banking77: something went wrong (declined, missing, charged, wrong, blocked)
        "Refund_not_showing_up", "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit", "beneficiary_not_allowed", "card_not_working",
        "card_payment_fee_charged", "card_payment_not_recognised", "card_payment_wrong_exchange_rate",
        "card_swallowed", "cash_withdrawal_not_recognised", "compromised_card", "contactless_not_working",
        "declined_card_payment", "declined_cash_withdrawal", "declined_transfer",
        "direct_debit_payment_not_recognised", "extra_charge_on_statement", "failed_transfer",
        "lost_or_stolen_card", "lost_or_stolen_phone", "pending_card_payment", "pending_cash_withdrawal",
        "pending_top_up", "pending_transfer", "pin_blocked", "top_up_failed", "top_up_reverted",
        "transaction_charged_twice", "transfer_not_received_by_recipient", "unable_to_verify_identity",
        "virtual_card_not_working", "wrong_amount_of_cash_received", "wrong_exchange_rate_for_cash_withdrawal",
        # CLINC150
        "account_blocked", "card_declined", "damaged_card", "lost_luggage", "report_fraud", "report_lost_card",
    }
)
"""Intents whose utterances report a problem: in customer-service sentiment data
(complaints, airline and bank posts) these are the *negative* ones even when no
word of them is negative ("my transfer still hasn't arrived")."""

THANKS_INTENTS = frozenset({"thank_you"})


NLUPP_PROBLEM_INTENTS = frozenset({"wrong_notworking_notshowing", "lost_stolen"})
"""NLU++ intents (banking and hotels) that report a problem."""


def service_sentiment(e: Example) -> str | None:
    """A weak sentiment label of an intent utterance: a problem report is negative,
    a thanks positive, any other request neutral (None: not an intent source)."""
    if e.source.startswith("nlupp"):
        if not NLUPP_PROBLEM_INTENTS.isdisjoint(e.labels):
            return "negative"
        return "positive" if "thank" in e.labels else "neutral"
    if e.source not in PARAPHRASE_SOURCES:
        return None
    label = e.labels[0]
    if label in PROBLEM_INTENTS:
        return "negative"
    return "positive" if label in THANKS_INTENTS else "neutral"
