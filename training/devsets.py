"""Dev sets from outside the training sources: for choosing and for figures, never for fitting.

* ``own_tsv``: hand-written sets in ``training/dev/`` (this project, MIT):
  ``sentiment_service.tsv`` (customer-service posts: negative, neutral,
  positive) and ``human_request.tsv`` (requests for a person, with typos,
  slang and anger, against turns that only mention one). Written for dev
  only, before the figures were looked at; no training file holds them
  (``tests/test_judgement.py`` checks the seeds).
* ``goemotions_heldout``: GoEmotions' own ``dev.tsv`` and ``test.tsv`` of the
  sentiment grouping (Apache 2.0, monologg/GoEmotions-pytorch). Training
  reads ``train.tsv`` only, so these human-labelled comments are unseen;
  ``about_a_service`` keeps the ones that talk about a service.
* ``natcs``: the utterances with intents of the DSTC11 intent-induction track
  (amazon-science/dstc11-track2-intent-induction, data under CDLA-Permissive
  2.0; code Apache 2.0): customers in insurance (``development``), banking
  and finance conversations (NatCS), a source no model here trained on.
  Extract ``dstc11/{development,test-banking,test-finance}/test-utterances.jsonl``
  to ``DATA/natcs/<part>/``. (Its ``dialogues.jsonl`` files are too large for
  the fetched snapshot; only the utterance files are read.)

None of these is on issue 10's reserved list.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasets import GOEMOTIONS_GROUPS, Example

DEV_DIR = Path(__file__).resolve().parent / "dev"

SERVICE_WORDS = frozenset(
    """account agent airline airport app bank bill billing booking call card charge charged company complaint
    customer deliver delivered delivery driver flight hold hotel insurance luggage manager money order ordered
    package parcel payment phone refund restaurant service shipping shop staff store support ticket waiter
    waiting""".split()
)
"""Words that make a comment read like a customer talking about a service."""


def own_tsv(name: str) -> list[tuple[str, str]]:
    """(label, text) rows of ``training/dev/<name>.tsv`` (lines starting with # are comments)."""
    rows = []
    for line in (DEV_DIR / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def goemotions_heldout(root: Path) -> list[Example]:
    """Single-label comments of GoEmotions' dev and test files (ambiguous counts as neutral)."""
    out: list[Example] = []
    for part in ("dev.tsv", "test.tsv"):
        with (root / "data" / "group" / part).open(encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2 or "," in parts[1]:
                    continue
                group = GOEMOTIONS_GROUPS[int(parts[1])]
                out.append(Example(parts[0], ("neutral" if group == "ambiguous" else group,), "goemotions-heldout"))
    return out


def about_a_service(examples: list[Example], words_of) -> list[Example]:
    return [e for e in examples if not SERVICE_WORDS.isdisjoint(words_of(e.text.lower()))]


NATCS_PARTS = ("development", "test-banking", "test-finance")


def natcs(root: Path, parts: tuple[str, ...] = NATCS_PARTS) -> list[Example]:
    """NatCS utterances with their intent (source: ``natcs-<part>``)."""
    out: list[Example] = []
    for part in parts:
        with (root / part / "test-utterances.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                item = json.loads(line)
                out.append(Example(item["utterance"], (item["intent"],), f"natcs-{part}"))
    return out


NATCS_HIGH_STAKES = frozenset({"ReportLostStolenCard"})
"""NatCS intents a supervisor must see (account security)."""
NATCS_UNSURE = frozenset({"DisputeCharge", "ReportAutomobileAccident"})
"""Left out of the high_stakes figures: a disputed charge may or may not be fraud, an accident claim may be an injury."""
NATCS_PERSON_INTENTS = frozenset({"FindAgent", "ScheduleAppointment"})
"""Left out of the human_request negatives: finding a local insurance agent or booking a meeting with an
adviser ("can I speak with a financial advisor?") asks for a person in another sense."""
