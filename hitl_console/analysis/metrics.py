"""The numbers a supervisor's lead asks for: is the AI escalating the right amount?

:func:`compute_metrics` turns a collection of :class:`ConversationState`
(rebuilt by the signal engine from a journal or recordings, or the live
engine's own dict) into one :class:`Metrics`, over any :class:`TimeWindow`.
The console's metrics screen, ``hitl-console report`` and the trend alerts
all read these same definitions, so a figure means one thing everywhere.

Definitions (also printed by the report, so nobody has to guess):

* **escalated**: a human was asked for or took over (``state.escalated``).
* **escalation rate**: of the conversations that started in the window and
  ended, the share escalated (a running one may yet escalate; the floor and
  the band alert use the same definition, :func:`escalation_sample`). Not
  judged with fewer than ``min_conversations`` ended, nor while the data does
  not reach back over the window (:func:`judge_escalation`). Judged against a band: below 3% the AI probably misses cases that needed a
  person, above 30% it swamps the humans, 10-20% is typical
  (``AlertConfig.escalation_band`` / ``typical_band``).
* **escalation accuracy**: of escalated conversations that have a verdict
  (the supervisor's answer when a takeover ends, or a reviewer's), the share
  where a human really was needed. None without verdicts: a guess would be
  worse than no figure.
* **missed escalations**: conversations *not* escalated whose verdict says a
  human was needed.
* **resolution rates**: of ended conversations, resolved ones, separately for
  escalated (post-escalation) and not escalated (AI-only) conversations.
* **contained**: ended, resolved, never escalated and not resolved by a
  human. Containment counts only real resolutions: an abandoned chat did not
  need a human, but it was not handled either.
* **containment by topic**: a conversation counts under each topic it was
  tagged with (feed ``topics``; failing those its ``contact_reason``; else
  ``(none)``). A topic is *called out* when it has at least
  ``MetricsOptions.min_topic_count`` ended conversations and its rate is at
  least ``far_below`` (15 points) under the overall rate.
* **time to escalation**: turns (customer + AI) and seconds from the start,
  median and 90th percentile, over escalated conversations.
* **repeat contact**: of conversations with a customer id, the share followed
  by another conversation of the same customer that starts within
  ``repeat_window_s`` (7 days) after it started.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from hitl_console.analysis.timewin import TimeWindow, bucket_index, buckets
from hitl_console.config import AlertConfig
from hitl_console.engine.state import TRIGGER_KINDS, ConversationState

NO_TOPIC = "(none)"


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    """The knobs of the definitions above; the defaults are the documented ones."""

    far_below: float = 0.15
    """How far (in rate, 0.15 = 15 points) under the overall containment a topic must be to be called out."""
    min_topic_count: int = 5
    """Ended conversations a topic needs before it can be called out."""
    repeat_window_s: float = 7 * 86400.0
    confidence_bins: int = 10
    max_buckets: int = 24
    bucket_s: float | None = None
    """Width of the time buckets of trends; None picks a round width for the span."""


# ---------------------------------------------------------------- small figures


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    lo = math.floor(rank)
    hi = math.ceil(rank)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo))


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, None when there is nothing to divide (a rate of no conversations is unknown, not 0)."""
    return None if whole <= 0 else part / whole


@dataclass(slots=True)
class Distribution:
    """Count, mean, median and 90th percentile of a set of values."""

    count: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Distribution":
        if not values:
            return cls()
        return cls(len(values), statistics.fmean(values), percentile(values, 50), percentile(values, 90))


@dataclass(slots=True)
class BandAssessment:
    """Where a rate sits against the healthy band, in words."""

    rate: float | None
    band: tuple[float, float]
    typical: tuple[float, float]
    status: str
    """``unknown`` | ``too_low`` | ``low`` | ``typical`` | ``high`` | ``too_high``;
    :func:`judge_escalation` adds ``too_few`` and ``warming_up``."""
    message: str


def judge_escalation(
    rate: float | None,
    sample: int,
    covered: bool = True,
    alerts: AlertConfig | None = None,
) -> BandAssessment:
    """The one reading of an escalation rate that the floor, the metrics screen
    and the band alert share: :func:`assess_escalation_rate`, unless the rate
    cannot be judged yet. With fewer than ``alerts.min_conversations`` ended
    conversations it is ``too_few``; while the data does not reach back over
    the window it is ``warming_up`` (see :func:`window_covered`)."""
    alerts = alerts or AlertConfig()
    assessment = assess_escalation_rate(rate, alerts)
    if rate is None:
        return assessment
    if sample < alerts.min_conversations:
        return BandAssessment(
            rate, assessment.band, assessment.typical, "too_few",
            f"{rate:.1%} of {sample} ended conversations: too few to judge (the band needs {alerts.min_conversations})",
        )
    if not covered:
        return BandAssessment(
            rate, assessment.band, assessment.typical, "warming_up",
            f"{rate:.1%}: warming up (the data does not reach back over the window yet)",
        )
    return assessment


def assess_escalation_rate(rate: float | None, alerts: AlertConfig | None = None) -> BandAssessment:
    """Say whether an escalation rate is healthy: out of ``escalation_band`` is a
    problem (too low: cases missed; too high: humans swamped), inside
    ``typical_band`` is typical, in between is acceptable but worth a look."""
    alerts = alerts or AlertConfig()
    lo, hi = alerts.escalation_band
    tlo, thi = alerts.typical_band
    if rate is None:
        return BandAssessment(None, (lo, hi), (tlo, thi), "unknown", "no conversations")
    pct = f"{rate:.1%}"
    if rate < lo:
        status, message = "too_low", f"{pct} is under {lo:.0%}: the AI probably misses cases that needed a person"
    elif rate > hi:
        status, message = "too_high", f"{pct} is over {hi:.0%}: escalations swamp the humans"
    elif tlo <= rate <= thi:
        status, message = "typical", f"{pct} is in the typical {tlo:.0%}-{thi:.0%} band"
    elif rate < tlo:
        status, message = "low", f"{pct} is healthy but under the typical {tlo:.0%}-{thi:.0%}"
    else:
        status, message = "high", f"{pct} is healthy but over the typical {tlo:.0%}-{thi:.0%}"
    return BandAssessment(rate, (lo, hi), (tlo, thi), status, message)


@dataclass(slots=True)
class TopicContainment:
    topic: str
    conversations: int
    """Ended conversations with this topic."""
    contained: int
    rate: float | None
    gap: float | None
    """Overall containment minus this topic's (positive: worse than overall)."""
    called_out: bool = False


@dataclass(slots=True)
class TimeBucket:
    """One bucket of a trend: ``[start, end)`` with the figure and what it is made of."""

    start: float
    end: float
    value: float | None
    count: int


@dataclass(slots=True)
class HistogramBin:
    lo: float
    hi: float
    count: int


@dataclass(slots=True)
class Metrics:
    """All the figures of one window; ``to_dict()`` gives plain JSON-ready values."""

    window_start: float | None
    window_end: float | None
    conversations: int
    ended: int
    escalated: int
    escalation_rate: float | None
    escalation_band: BandAssessment
    escalation_accuracy: float | None
    """Share of verdict-bearing escalated conversations that really needed a human; None without verdicts."""
    accuracy_verdicts: int
    missed_escalations: int
    """Not-escalated conversations whose verdict says a human was needed."""
    post_escalation_resolution_rate: float | None
    ai_only_resolution_rate: float | None
    containment_rate: float | None
    containment_by_topic: list[TopicContainment]
    time_to_escalation_turns: Distribution
    time_to_escalation_s: Distribution
    sentiment_trend: list[TimeBucket]
    """Mean customer sentiment of the turns in each bucket."""
    escalation_trend: list[TimeBucket]
    """Escalation rate of the conversations that started in each bucket."""
    confidence_histogram: list[HistogramBin]
    confidence: Distribution
    csat: Distribution
    csat_distribution: dict[int, int]
    repeat_contact_rate: float | None
    repeat_contacts: int
    customers_with_id: int
    outcomes: dict[str, int]
    triggers: dict[str, int]
    """Conversations in which each trigger kind fired at least once."""
    trigger_escalated: dict[str, int]
    """Of those, how many were escalated."""
    topics_called_out: list[str] = field(default_factory=list)
    escalated_ended: int = 0
    """Escalated conversations among the ``ended`` ones: the rate's numerator."""

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- pieces


def topics_of(state: ConversationState) -> list[str]:
    """The topics a conversation counts under (see the module docstring)."""
    if state.topics:
        return list(dict.fromkeys(state.topics))
    if state.contact_reason:
        return [state.contact_reason]
    return [NO_TOPIC]


def escalation_sample(states: Iterable[ConversationState], start: float, end: float = math.inf) -> list[ConversationState]:
    """The conversations a *live* escalation rate is taken over: started in
    ``[start, end)`` and ended.

    A conversation still running may yet escalate. Counting it as "not
    escalated" made a fresh floor read 0% and alert that the AI misses cases
    in its first minutes; counting only escalated ones would read too high. Of
    the ended ones the answer is known, so the rate lags by about one
    conversation's length and is unbiased.
    """
    return [c for c in states if c.ended and start <= c.started_ts < end]


def window_covered(states: Iterable[ConversationState], start: float, now: float) -> bool:
    """Whether what is known reaches back over at least half of ``[start, now)``.

    A console that started two minutes ago has seen only the quick, happy
    conversations end; the ones that escalate run longer. Judging a
    15-minute rate on that would alert "the AI misses cases" at every start,
    so band rules wait until the data covers the window.
    """
    oldest = min((c.started_ts for c in states), default=None)
    return oldest is not None and oldest <= start + (now - start) / 2


def is_contained(state: ConversationState) -> bool:
    """Ended, resolved, never escalated and not resolved by a human."""
    return (
        state.ended
        and state.outcome == "resolved"
        and not state.escalated
        and state.resolved_by != "human"
        and state.holder != "human"
    )


def containment_by_topic(
    conversations: Sequence[ConversationState], options: MetricsOptions | None = None
) -> tuple[float | None, list[TopicContainment]]:
    """Overall containment and per-topic containment, worst first; topics far
    below the overall rate (with enough conversations) are ``called_out``."""
    options = options or MetricsOptions()
    ended = [c for c in conversations if c.ended]
    overall = ratio(sum(is_contained(c) for c in ended), len(ended))
    counts: Counter[str] = Counter()
    contained: Counter[str] = Counter()
    for c in ended:
        ok = is_contained(c)
        for topic in topics_of(c):
            counts[topic] += 1
            contained[topic] += ok
    rows: list[TopicContainment] = []
    for topic, n in counts.items():
        rate = ratio(contained[topic], n)
        gap = None if rate is None or overall is None else overall - rate
        called = gap is not None and n >= options.min_topic_count and gap >= options.far_below - 1e-9
        rows.append(TopicContainment(topic, n, contained[topic], rate, gap, called))
    rows.sort(key=lambda r: (r.rate if r.rate is not None else 2.0, -r.conversations, r.topic))
    return overall, rows


def confidence_histogram(conversations: Iterable[ConversationState], bins: int = 10) -> list[HistogramBin]:
    """Counts of AI-turn confidences in ``bins`` equal bins over 0..1 (1.0 goes in the last)."""
    counts = [0] * bins
    for c in conversations:
        for value in c.confidences():
            counts[min(bins - 1, max(0, int(value * bins)))] += 1
    return [HistogramBin(i / bins, (i + 1) / bins, n) for i, n in enumerate(counts)]


def repeat_contacts(
    conversations: Iterable[ConversationState],
    window_s: float = 7 * 86400.0,
    counted: set[str] | None = None,
) -> tuple[int, int]:
    """``(repeats, with_id)``: conversations followed within ``window_s`` by another
    of the same customer, and conversations that have a customer id at all.

    Only conversations whose id is in ``counted`` (default: all) are counted,
    but a follow-up may be any of ``conversations``: a repeat of a contact at
    the end of a window usually starts after the window.
    """
    by_customer: dict[str, list[ConversationState]] = defaultdict(list)
    for c in conversations:
        if c.customer.id:
            by_customer[c.customer.id].append(c)
    repeats = 0
    with_id = 0
    for group in by_customer.values():
        group.sort(key=lambda c: c.started_ts)
        for i, c in enumerate(group):
            if counted is not None and c.conversation_id not in counted:
                continue
            with_id += 1
            if i + 1 < len(group) and group[i + 1].started_ts - c.started_ts <= window_s:
                repeats += 1
    return repeats, with_id


def _span(conversations: Sequence[ConversationState], window: TimeWindow) -> tuple[float, float] | None:
    if not conversations:
        return None
    # The charts start where the data does: a console two minutes old showed
    # its 1 h window as one dot at the right edge.
    first = min(c.started_ts for c in conversations)
    start = first if window.start is None else max(window.start, first)
    end = window.end if window.end is not None else max(max(c.last_ts, c.started_ts) for c in conversations)
    return start, max(end, start + 1.0)


def sentiment_trend(
    conversations: Sequence[ConversationState], edges: list[tuple[float, float]]
) -> list[TimeBucket]:
    """Mean sentiment of customer turns per bucket (by the turn's own time)."""
    sums = [0.0] * len(edges)
    counts = [0] * len(edges)
    for c in conversations:
        for t in c.turns:
            if t.role != "customer" or t.sentiment is None:
                continue
            i = bucket_index(t.ts, edges)
            if i is not None:
                sums[i] += t.sentiment
                counts[i] += 1
    return [TimeBucket(lo, hi, (sums[i] / counts[i]) if counts[i] else None, counts[i]) for i, (lo, hi) in enumerate(edges)]


def escalation_trend(
    conversations: Sequence[ConversationState], edges: list[tuple[float, float]]
) -> list[TimeBucket]:
    """Escalation rate of the conversations that started in each bucket."""
    total = [0] * len(edges)
    escalated = [0] * len(edges)
    for c in conversations:
        i = bucket_index(c.started_ts, edges)
        if i is not None:
            total[i] += 1
            escalated[i] += c.escalated
    return [TimeBucket(lo, hi, ratio(escalated[i], total[i]), total[i]) for i, (lo, hi) in enumerate(edges)]


# ---------------------------------------------------------------- all of it


def compute_metrics(
    conversations: Iterable[ConversationState],
    *,
    window: TimeWindow | None = None,
    verdicts: Mapping[tuple[str, str], bool] | None = None,
    alerts: AlertConfig | None = None,
    options: MetricsOptions | None = None,
) -> Metrics:
    """Every figure of the module docstring over the conversations that started in ``window``.

    ``verdicts`` maps ``(feed, the feed's conversation id)`` to "a human was
    really needed" (from
    :meth:`hitl_console.store.reviews.ReviewStore.escalation_verdicts`); without
    it escalation accuracy is None. Repeat contact looks at all the given
    conversations (a repeat may start after the window ends), counting those
    that started inside it.
    """
    window = window or TimeWindow()
    options = options or MetricsOptions()
    everything = list(conversations)
    states = window.select(everything)
    verdicts = verdicts or {}

    n = len(states)
    ended = [c for c in states if c.ended]
    escalated = [c for c in states if c.escalated]
    # The rate over ended conversations, as on the floor (escalation_sample):
    # one that is still running may yet escalate.
    escalated_ended = sum(1 for c in ended if c.escalated)
    rate = ratio(escalated_ended, len(ended))
    if window.start is not None:
        latest = max((c.last_ts for c in everything), default=window.start)
        covered = window_covered(everything, window.start, window.end if window.end is not None else latest)
    else:
        covered = True

    needed = [v for c in escalated if (v := verdicts.get((c.feed, c.feed_id))) is not None]
    accuracy = ratio(sum(needed), len(needed))
    missed = sum(1 for c in states if not c.escalated and verdicts.get((c.feed, c.feed_id)) is True)

    esc_ended = [c for c in ended if c.escalated]
    ai_ended = [c for c in ended if not c.escalated]
    post = ratio(sum(c.outcome == "resolved" for c in esc_ended), len(esc_ended))
    ai_only = ratio(sum(c.outcome == "resolved" for c in ai_ended), len(ai_ended))

    overall, by_topic = containment_by_topic(states, options)

    turns = [float(c.escalation_turns) for c in escalated if c.escalation_turns is not None]
    seconds = [t for c in escalated if (t := c.time_to_escalation) is not None and t >= 0]

    span = _span(states, window)
    edges = buckets(span[0], span[1], options.bucket_s, options.max_buckets) if span else []

    csats = [c.csat for c in states if c.csat is not None]

    repeats, with_id = repeat_contacts(
        everything, options.repeat_window_s, {c.conversation_id for c in states}
    )

    trig: Counter[str] = Counter()
    trig_esc: Counter[str] = Counter()
    for c in states:
        for kind in {h.kind for h in c.triggers}:
            trig[kind] += 1
            trig_esc[kind] += c.escalated
    confidences = [v for c in states for v in c.confidences()]

    return Metrics(
        window_start=window.start,
        window_end=window.end,
        conversations=n,
        ended=len(ended),
        escalated=len(escalated),
        escalation_rate=rate,
        escalation_band=judge_escalation(rate, len(ended), covered, alerts),
        escalated_ended=escalated_ended,
        escalation_accuracy=accuracy,
        accuracy_verdicts=len(needed),
        missed_escalations=missed,
        post_escalation_resolution_rate=post,
        ai_only_resolution_rate=ai_only,
        containment_rate=overall,
        containment_by_topic=by_topic,
        time_to_escalation_turns=Distribution.of(turns),
        time_to_escalation_s=Distribution.of(seconds),
        sentiment_trend=sentiment_trend(states, edges),
        escalation_trend=escalation_trend(states, edges),
        confidence_histogram=confidence_histogram(states, options.confidence_bins),
        confidence=Distribution.of(confidences),
        csat=Distribution.of([float(v) for v in csats]),
        csat_distribution={k: sum(1 for v in csats if v == k) for k in range(1, 6)},
        repeat_contact_rate=ratio(repeats, with_id),
        repeat_contacts=repeats,
        customers_with_id=with_id,
        outcomes=dict(Counter(c.outcome or "open" for c in states)),
        triggers={k: trig[k] for k in TRIGGER_KINDS if trig[k]},
        trigger_escalated={k: trig_esc[k] for k in TRIGGER_KINDS if trig[k]},
        topics_called_out=[r.topic for r in by_topic if r.called_out],
    )
