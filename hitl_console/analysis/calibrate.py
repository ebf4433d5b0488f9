"""Calibration: which ``low_confidence`` and ``sentiment_floor`` would have caught what went wrong?

Input: past conversations with outcomes (rebuilt from recordings or the
journal), optionally with people's verdicts.

**Went wrong** (:func:`went_wrong`), any of:

* outcome ``unresolved`` or ``abandoned``;
* CSAT 1 or 2;
* the feed's own scorecard under 0.5;
* a verdict that a human was needed (takeover verdict or review), or a
  review saying the AI was wrong.

A conversation with none of these is *good*, whatever its verdict says.

**What a candidate would do.** A pair (low_confidence = C, sentiment_floor
= S) flags a conversation at the first AI turn with confidence < C or the
first customer turn with sentiment <= S, the same comparisons the engine
makes. With ``include_other_triggers`` (the default) a conversation where a
threshold-free trigger fired (high_stakes, human_request, ai_request, loop)
counts as flagged too, at that trigger's turn, because it would be
escalated whatever the thresholds are; so the escalation rate printed is
the rate the whole configuration would give. The engine's *sentiment drop*
rule and its risk score are not modelled.

Per candidate: escalation rate (flagged / all), catch rate (recall: bad
flagged / bad), precision (bad flagged / flagged), and how early (median,
over caught bad conversations, of turns and seconds from the flag to the end).

**Recommendation**: among candidates whose escalation rate is inside the
target band, the highest catch rate, then the highest precision, then the
earliest catch (median turns before the end); when a
whole range of thresholds ties, the middle of the range (a threshold in the
middle of the gap between bad and good conversations is the one least likely
to flip on new data). When no candidate lands in the band, the one closest
to it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from hitl_console.analysis.metrics import Distribution, percentile
from hitl_console.config import Thresholds
from hitl_console.engine.state import ConversationState
from hitl_console.text import number

OTHER_TRIGGERS = frozenset({"high_stakes", "human_request", "ai_request", "loop"})
CONFIDENCE_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(0, 20))
"""0.0 (off) to 0.95."""
SENTIMENT_GRID: tuple[float | None, ...] = (None, *(round(-0.05 * i, 2) + 0.0 for i in range(19, -1, -1)))
"""None (off), then -0.95 to 0.0 (``+ 0.0``: a plain zero, not ``-0.0``)."""
BAD_OUTCOMES = frozenset({"unresolved", "abandoned"})


def went_wrong(
    state: ConversationState,
    verdict: bool | str | None = None,
    *,
    csat_max: int = 2,
    scorecard_max: float = 0.5,
) -> list[str]:
    """Why the conversation counts as gone wrong (empty: it did not). ``verdict``:
    True/"escalation_needed"/"ai_wrong" mark it bad; other values do not."""
    reasons: list[str] = []
    if state.outcome in BAD_OUTCOMES:
        reasons.append(f"outcome {state.outcome}")
    if state.csat is not None and state.csat <= csat_max:
        reasons.append(f"csat {state.csat}")
    card = state.scorecard if isinstance(state.scorecard, dict) else None
    overall = card.get("overall") if card else None
    if isinstance(overall, (int, float)) and overall < scorecard_max:
        reasons.append(f"scorecard {number(overall, '.2f')}")
    if verdict is True or verdict in ("escalation_needed", "ai_wrong"):
        reasons.append("verdict: human needed" if verdict in (True, "escalation_needed") else "verdict: AI wrong")
    return reasons


@dataclass(slots=True)
class _Profile:
    """What the sweep needs of one conversation, precomputed once."""

    conversation_id: str
    bad: bool
    n_turns: int
    end_ts: float
    turn_ts: list[float]
    conf_lows: list[tuple[int, float]]
    """Record lows of AI confidence: (1-based turn index, value), strictly decreasing."""
    sent_lows: list[tuple[int, float]]
    other_at: int | None
    min_conf: float | None
    min_sent: float | None


def _record_lows(pairs: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    lows: list[tuple[int, float]] = []
    for i, v in pairs:
        if not lows or v < lows[-1][1]:
            lows.append((i, v))
    return lows


def _profile(state: ConversationState, bad: bool, include_other: bool) -> _Profile:
    conf = [(i + 1, t.confidence) for i, t in enumerate(state.turns) if t.role == "ai" and t.confidence is not None]
    sent = [(i + 1, t.sentiment) for i, t in enumerate(state.turns) if t.role == "customer" and t.sentiment is not None]
    other = [h.turn_index for h in state.triggers if h.kind in OTHER_TRIGGERS] if include_other else []
    return _Profile(
        conversation_id=state.conversation_id,
        bad=bad,
        n_turns=len(state.turns),
        end_ts=state.last_ts,
        turn_ts=[t.ts for t in state.turns],
        conf_lows=_record_lows(conf),  # type: ignore[arg-type]
        sent_lows=_record_lows(sent),  # type: ignore[arg-type]
        other_at=max(1, min(other)) if other else None,
        min_conf=min((v for _, v in conf), default=None),  # type: ignore[type-var]
        min_sent=min((v for _, v in sent), default=None),  # type: ignore[type-var]
    )


def _first_conf(p: _Profile, threshold: float) -> int | None:
    for i, v in p.conf_lows:
        if v < threshold:
            return i
    return None


def _first_sent(p: _Profile, floor: float | None) -> int | None:
    if floor is None:
        return None
    for i, v in p.sent_lows:
        if v <= floor:
            return i
    return None


@dataclass(slots=True)
class Candidate:
    low_confidence: float
    sentiment_floor: float | None
    """None: the sentiment floor is off (never fires)."""
    escalation_rate: float
    recall: float | None
    """Share of bad conversations flagged; None when there were no bad ones."""
    precision: float | None
    flagged: int
    caught: int
    median_turns_before_end: float | None
    median_seconds_before_end: float | None

    def label(self) -> str:
        sf = "off" if self.sentiment_floor is None else number(self.sentiment_floor, "+.2f")
        lc = "off" if self.low_confidence <= 0.0 else number(self.low_confidence, ".2f")
        return f"low_confidence {lc}, sentiment_floor {sf}"


def _evaluate(
    profiles: Sequence[_Profile],
    lc: float,
    sf: float | None,
    conf_at: Sequence[int | None] | None = None,
    sent_at: Sequence[int | None] | None = None,
    *,
    n: int | None = None,
    good_flagged: int = 0,
) -> Candidate:
    """One candidate over ``profiles``; with ``n``, ``profiles`` are the bad
    ones of ``n`` conversations and ``good_flagged`` good ones were flagged."""
    flagged = good_flagged
    caught = 0
    bad_total = 0
    turns_before: list[float] = []
    seconds_before: list[float] = []
    for k, p in enumerate(profiles):
        c = conf_at[k] if conf_at is not None else _first_conf(p, lc)
        s = sent_at[k] if sent_at is not None else _first_sent(p, sf)
        at = min((x for x in (c, s, p.other_at) if x is not None), default=None)
        if p.bad:
            bad_total += 1
        if at is None:
            continue
        flagged += 1
        if p.bad:
            caught += 1
            turns_before.append(float(p.n_turns - at))
            if p.turn_ts:
                seconds_before.append(max(0.0, p.end_ts - p.turn_ts[min(at, len(p.turn_ts)) - 1]))
    n = len(profiles) if n is None else n
    return Candidate(
        low_confidence=lc,
        sentiment_floor=sf,
        escalation_rate=flagged / n if n else 0.0,
        recall=caught / bad_total if bad_total else None,
        precision=caught / flagged if flagged else None,
        flagged=flagged,
        caught=caught,
        median_turns_before_end=statistics.median(turns_before) if turns_before else None,
        median_seconds_before_end=statistics.median(seconds_before) if seconds_before else None,
    )


@dataclass(slots=True)
class SignalSummary:
    """Where confidence and sentiment stood in bad and good conversations (their lowest values)."""

    bad_min_confidence: Distribution
    good_min_confidence: Distribution
    bad_min_sentiment: Distribution
    good_min_sentiment: Distribution
    bad_p10_confidence: float | None = None
    good_p10_confidence: float | None = None


@dataclass(slots=True)
class Calibration:
    conversations: int
    bad: int
    bad_reasons: dict[str, int]
    band: tuple[float, float]
    signals: SignalSummary
    candidates: list[Candidate]
    frontier: list[Candidate]
    """Candidates that catch more than any cheaper one, by escalation rate."""
    current: Candidate
    recommended: Candidate | None
    in_band: bool
    """Whether the recommendation's escalation rate is inside the band."""
    notes: list[str] = field(default_factory=list)

    def toml_snippet(self) -> str:
        """Lines to paste into the config file."""
        rec = self.recommended
        if rec is None:
            return "# no recommendation: no conversations with outcomes\n"
        floor = -1.0 if rec.sentiment_floor is None else rec.sentiment_floor
        lines = [
            "# recommended by `hitl-console calibrate` "
            f"(escalation {rec.escalation_rate:.0%}, catches {0 if rec.recall is None else rec.recall:.0%} of bad conversations)",
            "[thresholds]",
            f"low_confidence = {number(rec.low_confidence, '.2f')}",
            f"sentiment_floor = {number(floor, '.2f')}",
        ]
        if rec.low_confidence <= 0.0:
            lines[-2] += "  # WARNING: switches low_confidence off (no confidence is below 0)"
        if rec.sentiment_floor is None:
            lines[-1] += "  # WARNING: switches the sentiment floor off: -1.0 fires only on the most negative turns"
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        out = asdict(self)
        out["toml"] = self.toml_snippet()
        return out


def switch_off_warnings(rec: Candidate, current: Thresholds) -> list[str]:
    """Warnings for a recommendation that switches a trigger's threshold rule off."""
    out: list[str] = []
    if rec.low_confidence <= 0.0:
        was = "it is on now" if current.low_confidence > 0.0 else "it is off already"
        out.append(
            f"WARNING: the recommendation switches low_confidence off (threshold 0.00; {was}): "
            "no AI confidence is below 0, so a guessing AI no longer fires a trigger"
        )
    if rec.sentiment_floor is None:
        was = "it is on now" if current.sentiment_floor > -1.0 else "it is off already"
        out.append(
            "WARNING: the recommendation switches the sentiment floor off (sentiment_floor -1.00; "
            f"{was}): only the most negative turns and the drop rule still fire sentiment"
        )
    return out


def _frontier(candidates: Iterable[Candidate]) -> list[Candidate]:
    best: list[Candidate] = []
    top = -1.0
    for c in sorted(candidates, key=lambda c: (c.escalation_rate, -(c.recall or 0.0), -(c.precision or 0.0))):
        r = c.recall or 0.0
        if r > top + 1e-12:
            best.append(c)
            top = r
    return best


def _middle_of_ties(ties: list[Candidate]) -> Candidate:
    lcs = sorted({c.low_confidence for c in ties})
    lc = lcs[(len(lcs) - 1) // 2] if len(lcs) % 2 else lcs[len(lcs) // 2 - 1]
    with_lc = sorted((c for c in ties if c.low_confidence == lc), key=lambda c: -2.0 if c.sentiment_floor is None else c.sentiment_floor)
    return with_lc[(len(with_lc) - 1) // 2]


def recommend(candidates: Sequence[Candidate], band: tuple[float, float]) -> tuple[Candidate | None, bool]:
    """The recommended candidate and whether it is inside the band (see the module docstring)."""
    if not candidates:
        return None, False
    lo, hi = band
    inside = [c for c in candidates if lo - 1e-9 <= c.escalation_rate <= hi + 1e-9]
    if inside:
        def key(c: Candidate) -> tuple[float, float, float]:
            return (c.recall or 0.0, c.precision or 0.0, c.median_turns_before_end or 0.0)

        top = max(key(c) for c in inside)
        ties = [c for c in inside if all(abs(a - b) < 1e-9 for a, b in zip(key(c), top))]
        return _middle_of_ties(ties), True

    def distance(c: Candidate) -> float:
        return lo - c.escalation_rate if c.escalation_rate < lo else c.escalation_rate - hi

    nearest = min(distance(c) for c in candidates)
    close = [c for c in candidates if abs(distance(c) - nearest) < 1e-9]
    top_recall = max(c.recall or 0.0 for c in close)
    return _middle_of_ties([c for c in close if abs((c.recall or 0.0) - top_recall) < 1e-9]), False


class Sweep:
    """The threshold sweep's data, gathered one conversation at a time (so a
    recording of any length never holds its conversations): a profile of
    each bad conversation (for how early it was caught), and for the good
    ones only how many share the same lowest confidence, lowest sentiment
    and threshold-free trigger (all that decides whether one is flagged)."""

    def __init__(self, include_other_triggers: bool = True) -> None:
        self.include_other = include_other_triggers
        self.bad: list[_Profile] = []
        self.good: Counter[tuple[float | None, float | None, bool]] = Counter()
        self.good_count = 0
        self.reasons: dict[str, int] = {}
        self.good_min_conf: list[float] = []
        self.good_min_sent: list[float] = []

    def add(self, state: ConversationState, verdict: bool | str | None = None) -> None:
        """One conversation, once final (not ended ones are left out)."""
        if not state.ended:
            return
        reasons = went_wrong(state, verdict)
        for r in reasons:
            key = r.split(" ")[0] if not r.startswith("verdict") else r
            self.reasons[key] = self.reasons.get(key, 0) + 1
        p = _profile(state, bool(reasons), self.include_other)
        if p.bad:
            self.bad.append(p)
            return
        self.good_count += 1
        self.good[(p.min_conf, p.min_sent, p.other_at is not None)] += 1
        if p.min_conf is not None:
            self.good_min_conf.append(p.min_conf)
        if p.min_sent is not None:
            self.good_min_sent.append(p.min_sent)

    def _good_flagged(self, confidence_grid: Sequence[float], sentiment_grid: Sequence[float | None]) -> list[list[int]]:
        """Good conversations flagged, per (confidence, sentiment) grid point."""
        signatures: Counter[tuple[tuple[bool, ...], tuple[bool, ...], bool]] = Counter()
        for (min_conf, min_sent, other), n in self.good.items():
            conf = tuple(min_conf is not None and min_conf < lc for lc in confidence_grid)
            sent = tuple(sf is not None and min_sent is not None and min_sent <= sf for sf in sentiment_grid)
            signatures[(conf, sent, other)] += n
        out = [[0] * len(sentiment_grid) for _ in confidence_grid]
        for (conf, sent, other), n in signatures.items():
            for i, c in enumerate(conf):
                row = out[i]
                for j, s in enumerate(sent):
                    if other or c or s:
                        row[j] += n
        return out

    def result(
        self,
        *,
        band: tuple[float, float] = (0.10, 0.20),
        current: Thresholds | None = None,
        confidence_grid: Sequence[float] = CONFIDENCE_GRID,
        sentiment_grid: Sequence[float | None] = SENTIMENT_GRID,
    ) -> Calibration:
        """Sweep the grid and recommend thresholds for ``band``."""
        current = current or Thresholds()
        bad = self.bad
        n = len(bad) + self.good_count
        include_other = self.include_other

        def mins(ps: Sequence[_Profile], attr: str) -> list[float]:
            return [v for p in ps if (v := getattr(p, attr)) is not None]

        signals = SignalSummary(
            bad_min_confidence=Distribution.of(mins(bad, "min_conf")),
            good_min_confidence=Distribution.of(self.good_min_conf),
            bad_min_sentiment=Distribution.of(mins(bad, "min_sent")),
            good_min_sentiment=Distribution.of(self.good_min_sent),
            bad_p10_confidence=percentile(mins(bad, "min_conf"), 10),
            good_p10_confidence=percentile(self.good_min_conf, 10),
        )
        candidates: list[Candidate] = []
        if n:
            good_flagged = self._good_flagged(confidence_grid, sentiment_grid)
            conf_at = {lc: [_first_conf(p, lc) for p in bad] for lc in confidence_grid}
            sent_at = {sf: [_first_sent(p, sf) for p in bad] for sf in sentiment_grid}
            for i, lc in enumerate(confidence_grid):
                for j, sf in enumerate(sentiment_grid):
                    candidates.append(_evaluate(bad, lc, sf, conf_at[lc], sent_at[sf], n=n, good_flagged=good_flagged[i][j]))
        now_good = self._good_flagged([current.low_confidence], [current.sentiment_floor])[0][0]
        now = _evaluate(bad, current.low_confidence, current.sentiment_floor, n=n, good_flagged=now_good)
        rec, in_band = recommend(candidates, band)

        notes: list[str] = []
        if not n:
            notes.append("no ended conversations: nothing to calibrate on")
        elif not bad:
            notes.append("no conversation went wrong: the catch rate is undefined; the recommendation only meets the band")
        if rec is not None and not in_band:
            notes.append(
                f"no threshold pair gives an escalation rate in {band[0]:.0%}-{band[1]:.0%}; "
                f"the closest gives {rec.escalation_rate:.0%}"
                + (" (threshold-free triggers alone escalate more than the band)" if include_other and rec.escalation_rate > band[1] else "")
            )
        if rec is not None:
            notes.extend(switch_off_warnings(rec, current))
        if 0 < len(bad) < 10:
            notes.append(f"only {len(bad)} bad conversations: treat the recommendation as a starting point")
        return Calibration(
            conversations=n,
            bad=len(bad),
            bad_reasons=dict(self.reasons),
            band=band,
            signals=signals,
            candidates=candidates,
            frontier=_frontier(candidates),
            current=now,
            recommended=rec,
            in_band=in_band,
            notes=notes,
        )


def calibrate(
    conversations: Iterable[ConversationState],
    *,
    band: tuple[float, float] = (0.10, 0.20),
    verdicts: Mapping[str, bool | str] | None = None,
    current: Thresholds | None = None,
    include_other_triggers: bool = True,
    confidence_grid: Sequence[float] = CONFIDENCE_GRID,
    sentiment_grid: Sequence[float | None] = SENTIMENT_GRID,
) -> Calibration:
    """Sweep the grid over the *ended* conversations and recommend thresholds for ``band``
    (``verdicts`` by conversation id; :class:`Sweep` takes them one at a time)."""
    verdicts = verdicts or {}
    sweep = Sweep(include_other_triggers)
    for s in conversations:
        sweep.add(s, verdicts.get(s.conversation_id))
    return sweep.result(band=band, current=current, confidence_grid=confidence_grid, sentiment_grid=sentiment_grid)


def parse_band(text: str) -> tuple[float, float]:
    """``0.10-0.20`` or ``10-20`` (percent) or ``10%-20%`` -> (0.10, 0.20)."""
    raw = text.replace("%", "").replace(" ", "")
    parts = raw.split("-")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"--band {text!r}: use LO-HI, e.g. 0.10-0.20 or 10-20")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--band {text!r}: use LO-HI, e.g. 0.10-0.20 or 10-20") from None
    if lo > 1 or hi > 1 or "%" in text:
        lo, hi = lo / 100, hi / 100
    if not (0 <= lo < hi <= 1):
        raise ValueError(f"--band {text!r}: need 0 <= LO < HI <= 1 (or percent)")
    return lo, hi


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else number(value, fmt)


def render_calibration(cal: Calibration, *, color: bool = True, width: int = 80, max_rows: int = 15) -> str:
    """The calibration as text: data, where the signals stood, the frontier table,
    the curve, the recommendation and the TOML snippet."""
    from hitl_console.analysis.charts import calibration_chart

    lo, hi = cal.band
    s = cal.signals
    out: list[str] = [
        f"Calibration over {cal.conversations} ended conversations; {cal.bad} went wrong "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(cal.bad_reasons.items())) or 'none'}).",
        "Went wrong = outcome unresolved/abandoned, CSAT <= 2, feed scorecard < 0.5, or a verdict that a human was needed / the AI was wrong.",
        "",
        "Where the signals stood (lowest value per conversation, median / 90th pct):",
        f"  AI confidence   bad: {_num(s.bad_min_confidence.median, '.2f')} / {_num(s.bad_min_confidence.p90, '.2f')}"
        f"   good: {_num(s.good_min_confidence.median, '.2f')} / {_num(s.good_min_confidence.p90, '.2f')}"
        f"   (10th pct of good: {_num(s.good_p10_confidence, '.2f')})",
        f"  sentiment       bad: {_num(s.bad_min_sentiment.median, '+.2f')} / {_num(s.bad_min_sentiment.p90, '+.2f')}"
        f"   good: {_num(s.good_min_sentiment.median, '+.2f')} / {_num(s.good_min_sentiment.p90, '+.2f')}",
        "",
        f"{'low_conf':>8} {'sent_floor':>10} {'escalate':>9} {'catch':>6} {'precision':>9} {'turns early':>11} {'secs early':>10}",
    ]

    def row(c: Candidate, mark: str = "") -> str:
        sf = "off" if c.sentiment_floor is None else number(c.sentiment_floor, "+.2f")
        return (
            f"{number(c.low_confidence, '.2f'):>8} {sf:>10} {_pct(c.escalation_rate):>9} {_pct(c.recall):>6} "
            f"{_pct(c.precision):>9} {_num(c.median_turns_before_end):>11} {_num(c.median_seconds_before_end, '.0f'):>10}  {mark}"
        ).rstrip()

    frontier = cal.frontier
    if len(frontier) > max_rows:
        step = len(frontier) / max_rows
        frontier = [frontier[int(i * step)] for i in range(max_rows)]
    for c in frontier:
        band_mark = "in band" if lo <= c.escalation_rate <= hi else ""
        out.append(row(c, band_mark))
    out.append(row(cal.current, "<- current config"))
    if cal.recommended is not None:
        out.append(row(cal.recommended, "<- recommended"))
    out.append("")
    curve = [(c.escalation_rate, c.recall or 0.0) for c in cal.frontier]
    rec = cal.recommended
    out.append(
        calibration_chart(
            curve,
            cal.band,
            (rec.escalation_rate, rec.recall or 0.0) if rec else None,
            (cal.current.escalation_rate, cal.current.recall or 0.0),
            width=min(width, 100),
            color=color,
        )
    )
    out.append("")
    if rec is not None:
        where = "inside" if cal.in_band else "outside"
        out.append(
            f"Recommendation for a {lo:.0%}-{hi:.0%} escalation band ({where} it): {rec.label()}: "
            f"escalates {_pct(rec.escalation_rate)}, catches {_pct(rec.recall)} of bad conversations "
            f"at {_pct(rec.precision)} precision, a median {_num(rec.median_turns_before_end)} turns before the end."
        )
    out.extend(n if n.startswith("WARNING") else f"Note: {n}" for n in cal.notes)
    out.append("")
    out.append(cal.toml_snippet().rstrip())
    return "\n".join(out) + "\n"
