"""Fitting the risk score's weights to a deployment's own outcomes.

``hitl-console calibrate`` replays past conversations (recordings or the
journal) through the signal engine and, at every customer or AI turn (and
every rescoring of an unanswered customer) until a person joins or the
conversation ends, takes the risk's feature vector
(``SignalEngine.risk_features``). Each such *moment* is an example labelled
with how the conversation ended (``calibrate.went_wrong``: outcome, CSAT,
scorecard, takeover and review verdicts). Moments after a person joined are
left out: the score estimates the chance of a bad end *unless* a person
steps in.

**The fit.** A logistic regression on the moments, each weighing ``1 / n``
of its conversation's ``n`` moments (so every conversation counts once, long
or short), by Newton's method in pure Python (no numpy, no scikit-learn). The
weights are pulled towards the current ones (ridge, ``PRIOR_STRENGTH``
conversations' worth), so evidence the history never shows (no approvals,
say) keeps its weight, and a small history moves the weights a little, not
wildly. Weights stay at or above zero (evidence only ever raises the risk):
a Newton step that would take one below zero stops there and pins it, a
pinned one whose gradient pulls it up at the end is freed again (the result
is the optimum under that constraint), and the report warns when the
recommendation switches evidence off. Equal feature vectors are folded
into one weighted row and a big fit starts from a fit on a sample of its
rows (:class:`Rows`, :data:`WARM_START_ROWS`): a month of moments fits in
seconds, and the conversations stream through (:func:`collect_examples`).

**The evaluation.** Conversations are split deterministically by a CRC-32 of
their id: ``HOLDOUT_SHARE`` of them are held out of the fit. On the held-out
ones, with the current weights (before) and the fitted ones (after):

* AUROC of each conversation's peak risk (before a person joined) against
  went-wrong: how well the floor's order puts the bad ones first;
* Brier score and a reliability table of the risk at every moment (each
  weighing ``1 / n`` of its conversation): whether "0.3" means 30%.
"""

from __future__ import annotations

import math
import zlib
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hitl_console.analysis.calibrate import went_wrong
from hitl_console.config import Config, RiskConfig
from hitl_console.engine.risk import FEATURES, RiskModel
from hitl_console.engine.state import ConversationState
from hitl_console.protocol.events import Event
from hitl_console.text import number

__all__ = [
    "HOLDOUT_SHARE",
    "PRIOR_STRENGTH",
    "Example",
    "FitData",
    "Rows",
    "RiskFit",
    "Scores",
    "collect_examples",
    "is_held_out",
    "auroc",
    "brier",
    "reliability",
    "fit_logistic",
    "fit_risk",
    "render_risk_fit",
]

HOLDOUT_SHARE = 0.3
"""Share of conversations (by a hash of the id) held out of the fit."""
PRIOR_STRENGTH = 2.0
"""Ridge towards the current weights, in conversations' worth of evidence."""
BINS = 10
WEIGHT_LIMIT = 20.0
"""The bound ``RiskConfig`` puts on every weight and the bias."""


@dataclass(slots=True)
class Example:
    """One past conversation: its moments' feature vectors and whether it went wrong."""

    conversation_id: str
    moments: Sequence[Sequence[float]]
    bad: bool
    reasons: list[str] = field(default_factory=list)


class _Recorder:
    """Stands in for the engine in ``replay_feed_events`` and keeps each
    conversation's feature vector at every turn (and every wait rescoring)
    until a person joins or it ends."""

    def __init__(self, config: Config) -> None:
        from hitl_console.engine.engine import SignalEngine

        self.engine = SignalEngine(config)
        self.conversations = self.engine.conversations
        self.moments: dict[str, list[array[float]]] = {}

    def _snap(self, cid: str, ts: float) -> None:
        state = self.engine.conversations.get(cid)
        if state is None or state.ended or state.holder == "human" or state.agent is not None:
            return
        # array('d'): a third of a list of floats; a month of moments must fit in memory
        self.moments.setdefault(cid, []).append(array("d", self.engine.risk_features(cid, ts)))

    def apply(self, event: Event, feed: str = "") -> object:
        update = self.engine.apply(event, feed)
        if getattr(event, "type", "") == "message" and getattr(event, "role", "") in ("customer", "ai"):
            self._snap(update.conversation_id, event.ts)
        return update

    def tick(self, now: float) -> list:
        updates = self.engine.tick(now)
        for update in updates:
            self._snap(update.conversation_id, now)
        return updates

    def forget_ended_before(self, ts: float) -> list[ConversationState]:
        return self.engine.forget_ended_before(ts)


class _Collector:
    """The replay sink of :func:`collect_examples`: each conversation, once
    final, becomes an example (its moments) and goes to ``on_state``; then it
    is gone, so memory holds the open conversations and the moments only."""

    def __init__(
        self,
        recorder: _Recorder,
        verdicts: Mapping[tuple[str, str], bool | str],
        on_state: Callable[[ConversationState, bool | str | None], None] | None,
    ) -> None:
        self.recorder = recorder
        self.verdicts = verdicts
        self.on_state = on_state
        self.data = FitData()

    def opened(self, key: str) -> None:
        pass

    def closed(self, state: ConversationState) -> None:
        moments = self.recorder.moments.pop(state.conversation_id, None)
        verdict = self.verdicts.get((state.feed, state.feed_id))
        if state.ended and moments:
            reasons = went_wrong(state, verdict)
            self.data.add(Example(state.conversation_id, moments, bool(reasons), reasons))
        if self.on_state is not None:
            self.on_state(state, verdict)


def collect_examples(
    pairs: Iterable[tuple[str, Event]],
    config: Config | None = None,
    verdicts: Mapping[tuple[str, str], bool | str] | None = None,
    on_state: Callable[[ConversationState, bool | str | None], None] | None = None,
) -> FitData:
    """Replay (feed, event) pairs; the ended conversations with moments, as
    examples gathered for :func:`fit_risk`. ``verdicts`` maps (feed, the feed's conversation id), as the
    review store keys them, to a verdict (``calibrate.went_wrong``).

    Streamed: each conversation is handed to ``on_state`` (with its verdict)
    once it is final, then dropped (the threshold sweep keeps a profile of
    it, ``calibrate.Sweep``)."""
    from hitl_console.engine.replay import replay_feed_events

    recorder = _Recorder(config or Config())
    collector = _Collector(recorder, verdicts or {}, on_state)
    replay_feed_events(recorder, pairs, collector)  # type: ignore[arg-type]
    return collector.data


def is_held_out(conversation_id: str, share: float = HOLDOUT_SHARE) -> bool:
    """The deterministic split: the same id is always on the same side."""
    return (zlib.crc32(conversation_id.encode("utf-8")) % 1000) < share * 1000


# ------------------------------------------------------------ measures


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mid = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            if labels[order[k]]:
                rank_sum += mid
        i = j + 1
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def brier(predicted: Sequence[float], outcomes: Sequence[float], weights: Sequence[float]) -> float | None:
    """Weighted mean squared error of the predicted probabilities."""
    total = sum(weights)
    if total <= 0:
        return None
    return sum(w * (p - y) ** 2 for p, y, w in zip(predicted, outcomes, weights)) / total


@dataclass(slots=True)
class Bin:
    low: float
    high: float
    weight: float
    """Conversations' worth of moments in the bin."""
    predicted: float
    observed: float


def reliability(predicted: Sequence[float], outcomes: Sequence[float], weights: Sequence[float], bins: int = BINS) -> list[Bin]:
    """Predicted against observed, in ``bins`` equal-width bins of the risk (empty ones left out)."""
    acc = [[0.0, 0.0, 0.0] for _ in range(bins)]
    for p, y, w in zip(predicted, outcomes, weights):
        b = min(bins - 1, int(p * bins))
        acc[b][0] += w
        acc[b][1] += w * p
        acc[b][2] += w * y
    return [
        Bin(b / bins, (b + 1) / bins, a[0], a[1] / a[0], a[2] / a[0])
        for b, a in enumerate(acc) if a[0] > 0
    ]


@dataclass(slots=True)
class Scores:
    """How one set of weights does on the held-out conversations."""

    auroc: float | None
    """Of the peak risk per conversation."""
    brier: float | None
    """Of the risk at every moment (each conversation weighing one)."""
    reliability: list[Bin]


def evaluate(model: RiskModel, examples: Sequence[Example]) -> Scores:
    peaks: list[float] = []
    labels: list[bool] = []
    pred: list[float] = []
    out: list[float] = []
    wts: list[float] = []
    for ex in examples:
        risks = [model.score(x) for x in ex.moments]
        peaks.append(max(risks))
        labels.append(ex.bad)
        w = 1.0 / len(risks)
        for r in risks:
            pred.append(r)
            out.append(1.0 if ex.bad else 0.0)
            wts.append(w)
    return Scores(auroc(peaks, labels), brier(pred, out, wts), reliability(pred, out, wts))


# ------------------------------------------------------------ the fit


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a is symmetric positive definite here)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        d = m[col][col]
        if abs(d) < 1e-300:
            continue
        for r in range(col + 1, n):
            f = m[r][col] / d
            if f:
                row, top = m[r], m[col]
                for c in range(col, n + 1):
                    row[c] -= f * top[c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        d = m[r][r]
        s = m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))
        x[r] = s / d if abs(d) >= 1e-300 else 0.0
    return x


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Rows:
    """Distinct feature vectors with the weight of the bad and of the good
    moments that had them: the fit's data, folded as moments arrive.

    Folding equal vectors is exact (the log-likelihood is a sum over
    moments) and, with the sparse form (most evidence is 0 at most
    moments), is what keeps the fit of a month of moments to seconds in pure
    Python. The vectors are kept as bytes of doubles while folding, then
    packed into compressed sparse rows for the Newton steps."""

    __slots__ = ("_index", "bad", "good", "width", "moments")

    def __init__(self) -> None:
        self._index: dict[bytes, int] = {}
        self.bad = array("d")
        self.good = array("d")
        self.width = -1
        self.moments = 0

    def add(self, x: Sequence[float], bad: float, good: float) -> None:
        """One moment (``bad`` + ``good`` is its weight, split by its label)."""
        key = (x if isinstance(x, array) else array("d", x)).tobytes()
        if self.width < 0:
            self.width = len(key) // 8
        elif len(key) // 8 != self.width:
            raise ValueError(f"feature vectors of {len(key) // 8} and {self.width} values")
        self.moments += 1
        i = self._index.get(key)
        if i is None:
            self._index[key] = len(self.bad)
            self.bad.append(bad)
            self.good.append(good)
        else:
            self.bad[i] += bad
            self.good[i] += good

    def sparse(self, *, release: bool = False) -> tuple[array[int], array[int], array[float]]:
        """(row offsets, column of each non-zero (1-based: 0 is the bias), its value);
        ``release``: the vectors themselves are dropped as they are read (the
        fit's peak memory is then the sparse form, not both)."""
        offsets = array("q", [0])
        columns = array("b")
        values = array("d")
        vector = array("d")
        keys = self._index
        if release:
            self._index = {}
        for key in keys:
            vector = array("d")
            vector.frombytes(key)
            for j, v in enumerate(vector, 1):
                if v != 0.0:
                    columns.append(j)
                    values.append(v)
            offsets.append(len(values))
        return offsets, columns, values

    def __len__(self) -> int:
        return len(self.bad)


WARM_START_ROWS = 20_000
"""Above this many distinct vectors the fit first runs on a regular sample
of them (every m-th, weighed m times) and starts the full fit from there:
Newton converges in a few steps from close by, and each step over a
month of moments costs seconds in pure Python."""


class _Design:
    """Folded rows in the form a Newton step runs over: the sparse rows, and each
    row's products x_a * x_b (a <= b, non-zeros) with their cell in the flat
    Hessian, computed once (a pinned column's cells are computed and left out
    of the solve: no test per row)."""

    def __init__(self, rows: Rows, size: int, every: int = 1, *, sparse: tuple[array[int], array[int], array[float]] | None = None) -> None:
        offsets, columns, values = sparse if sparse is not None else rows.sparse()
        self.size = size
        self.offsets = array("q", [0])
        self.columns = array("b")
        self.values = array("d")
        self.pair_offsets = array("q", [0])
        self.pair_cells = array("h")  # cells of a (features + 1)^2 Hessian: far under 32,767
        self.pair_values = array("d")
        self.bad = array("d")
        self.good = array("d")
        for r in range(0, len(offsets) - 1, every):
            lo, hi = offsets[r], offsets[r + 1]
            self.columns.extend(columns[lo:hi])
            self.values.extend(values[lo:hi])
            self.offsets.append(len(self.values))
            self.bad.append(rows.bad[r] * every)
            self.good.append(rows.good[r] * every)
            for i in range(lo, hi):
                ja, xa = columns[i], values[i]
                self.pair_cells.append(ja)  # row 0: the bias times x_a
                self.pair_values.append(xa)
                base = ja * size
                for t in range(i, hi):
                    self.pair_cells.append(base + columns[t])
                    self.pair_values.append(xa * values[t])
            self.pair_offsets.append(len(self.pair_cells))

    def gradient_hessian(self, theta: list[float]) -> tuple[list[float], list[float]]:
        """The log-loss's gradient and (upper, flat) Hessian at ``theta``."""
        size = self.size
        offsets, columns, values = self.offsets, self.columns, self.values
        pair_offsets, pair_cells, pair_values = self.pair_offsets, self.pair_cells, self.pair_values
        bad_w, good_w = self.bad, self.good
        exp = math.exp
        grad = [0.0] * size
        hess = [0.0] * (size * size)
        g0 = h0 = 0.0
        for r in range(len(bad_w)):
            lo, hi = offsets[r], offsets[r + 1]
            cols = columns[lo:hi]
            vals = values[lo:hi]
            z = theta[0]
            for j, v in zip(cols, vals):
                z += theta[j] * v
            if z >= 0:
                p = 1.0 / (1.0 + exp(-z))
            else:
                e = exp(z)
                p = e / (1.0 + e)
            wb = bad_w[r]
            wt = wb + good_w[r]
            g = wt * p - wb
            h = wt * p * (1.0 - p)
            g0 += g
            h0 += h
            for j, v in zip(cols, vals):
                grad[j] += g * v
            plo, phi = pair_offsets[r], pair_offsets[r + 1]
            for c, v in zip(pair_cells[plo:phi], pair_values[plo:phi]):
                hess[c] += h * v
        grad[0] = g0
        hess[0] = h0
        return grad, hess


def _newton(
    design: _Design,
    theta: list[float],
    target: list[float],
    ridge: list[float],
    fixed: set[int],
    *,
    nonnegative: bool,
    iterations: int,
) -> None:
    """Newton steps from ``theta`` (changed in place) with the columns in
    ``fixed`` pinned at 0; a weight that goes negative is pinned, and a
    pinned one whose gradient pulls it above 0 is freed again (so the end is
    the optimum under "weights >= 0", whatever the start)."""
    size = design.size
    for _ in range(iterations * (size + 1)):
        free = [j for j in range(size) if j == 0 or (j - 1) not in fixed]
        grad, hess = design.gradient_hessian(theta)
        sub_grad = [grad[j] + ridge[j] * (theta[j] - target[j]) for j in free]
        sub_hess = [[0.0] * len(free) for _ in free]
        for a, ja in enumerate(free):
            row = sub_hess[a]
            for b, jb in enumerate(free):
                row[b] = hess[ja * size + jb] if ja <= jb else hess[jb * size + ja]
            row[a] += ridge[ja]
        step = _solve(sub_hess, sub_grad)
        # The active-set step: when the full step would take weights below 0,
        # go as far as the first of them reaching 0 and pin it there (a
        # clipped step keeps Newton stable; the bias is never pinned).
        t = 1.0
        stops: list[int] = []
        if nonnegative:
            for a, j in enumerate(free):
                if j and step[a] > 0.0 and theta[j] - step[a] < 0.0:
                    reach = theta[j] / step[a]
                    if reach < t - 1e-12:
                        t, stops = reach, [j]
                    elif abs(reach - t) <= 1e-12:
                        stops.append(j)
        for a, j in enumerate(free):
            theta[j] -= t * step[a]
        if stops:
            for j in stops:
                fixed.add(j - 1)
                theta[j] = 0.0
            continue
        if max(abs(s) for s in step) >= 1e-9:
            continue
        # converged; free a pinned weight whose loss still falls as it rises
        # above 0 (the gradient of the last step, a step's length away: tiny)
        pulls = [f for f in fixed if grad[f + 1] + ridge[f + 1] * (0.0 - target[f + 1]) < -1e-6]
        if not pulls:
            return
        for f in pulls:
            fixed.discard(f)


def fit_logistic(
    rows: Sequence[Sequence[float]] | Rows,
    labels: Sequence[float] = (),
    weights: Sequence[float] = (),
    prior_bias: float = 0.0,
    prior: Sequence[float] = (),
    strength: float = PRIOR_STRENGTH,
    *,
    nonnegative: bool = True,
    iterations: int = 50,
    warm_start_rows: int = WARM_START_ROWS,
    consume: bool = False,
) -> tuple[float, list[float], list[int]]:
    """Weighted logistic regression, ridge towards (``prior_bias``, ``prior``).

    ``rows`` with ``labels`` and ``weights``, or a :class:`Rows` (labels and
    weights folded in). Returns (bias, weights, indices of the weights fixed
    at zero because they would have gone negative). The bias has a
    hundredth of the ridge, which only keeps it finite when every example
    has the same label. ``consume``: a :class:`Rows` may be emptied of its
    vectors on the way (less memory; it cannot be fitted again)."""
    if not isinstance(rows, Rows):
        folded = Rows()
        for x, y, w in zip(rows, labels, weights):
            folded.add(x, w * y, w * (1.0 - y))
        rows = folded
    k = len(prior)
    theta = [prior_bias, *prior]
    target = [prior_bias, *prior]
    ridge = [strength * 0.01] + [strength] * k
    fixed: set[int] = set()  # feature indices (0-based) pinned at 0
    sparse = rows.sparse(release=consume)
    if len(rows) > warm_start_rows:
        every = -(-len(rows) // warm_start_rows)
        warm = _Design(rows, k + 1, every, sparse=sparse)
        _newton(warm, theta, target, ridge, fixed, nonnegative=nonnegative, iterations=iterations)
        del warm
    design = _Design(rows, k + 1, sparse=sparse)
    del sparse
    _newton(design, theta, target, ridge, fixed, nonnegative=nonnegative, iterations=iterations)
    return theta[0], theta[1:], sorted(fixed)


class _FlatRows(Sequence[array]):
    """An example's moments in one array of doubles (a third of the memory of
    an array per moment); read back as one array per moment."""

    __slots__ = ("_values", "_width")

    def __init__(self, values: array[float], width: int) -> None:
        self._values = values
        self._width = width

    @classmethod
    def of(cls, moments: Sequence[Sequence[float]]) -> "_FlatRows | None":
        if not moments:
            return None
        width = len(moments[0])
        if width == 0 or any(len(x) != width for x in moments):
            return None
        values = array("d")
        for x in moments:
            values.extend(x)
        return cls(values, width)

    def __len__(self) -> int:
        return len(self._values) // self._width

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._values[i * self._width : (i + 1) * self._width]


class FitData:
    """What the fit and its evaluation need of the examples, gathered one
    example at a time: the moments of the conversations fitted on, folded
    (:class:`Rows`), and the held-out examples whole (their peaks and
    moments are scored after the fit)."""

    def __init__(self, holdout: float = HOLDOUT_SHARE) -> None:
        self.holdout = holdout
        self.rows = Rows()
        self.test: list[Example] = []
        self.conversations = 0
        self.bad = 0
        self.trained = 0
        self.trained_bad = 0

    def add(self, example: Example) -> None:
        self.conversations += 1
        self.bad += example.bad
        if is_held_out(example.conversation_id, self.holdout):
            flat = _FlatRows.of(example.moments)
            self.test.append(example if flat is None else Example(example.conversation_id, flat, example.bad, example.reasons))
            return
        self.trained += 1
        self.trained_bad += example.bad
        w = 1.0 / len(example.moments)
        bad, good = (w, 0.0) if example.bad else (0.0, w)
        for x in example.moments:
            self.rows.add(x, bad, good)

    @classmethod
    def of(cls, examples: Iterable[Example], holdout: float = HOLDOUT_SHARE) -> "FitData":
        data = cls(holdout)
        for e in examples:
            data.add(e)
        return data


@dataclass(slots=True)
class RiskFit:
    """The result of ``fit_risk``: data, weights before and after, their held-out scores."""

    conversations: int
    bad: int
    trained: int
    trained_bad: int
    held_out: int
    held_out_bad: int
    before: RiskConfig
    after: RiskConfig | None
    before_scores: Scores | None
    after_scores: Scores | None
    switched_off: list[str] = field(default_factory=list)
    """Evidence the fitted weights ignore (weight 0) that the current ones weigh."""
    notes: list[str] = field(default_factory=list)

    def toml_snippet(self) -> str:
        """The ``[risk]`` section to paste into the config."""
        cfg = self.after
        if cfg is None:
            return "# no [risk] recommendation: " + (self.notes[0] if self.notes else "not enough data") + "\n"
        head = f"# fitted by `hitl-console calibrate` on {self.trained} conversations ({self.trained_bad} went wrong)"
        if self.before_scores and self.after_scores:
            head += (
                f"; held out {self.held_out}: AUROC {_num(self.before_scores.auroc, '.3f')} -> {_num(self.after_scores.auroc, '.3f')}, "
                f"Brier {_num(self.before_scores.brier, '.3f')} -> {_num(self.after_scores.brier, '.3f')}"
            )
        lines = [head, "[risk]", f"bias = {number(cfg.bias, '.3f')}"]
        for name in FEATURES:
            line = f"{name} = {number(getattr(cfg, name), '.3f')}"
            if name in self.switched_off:
                line += "  # switched off: this evidence no longer raises the risk"
            lines.append(line)
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        def scores(s: Scores | None) -> dict | None:
            if s is None:
                return None
            return {
                "auroc": s.auroc,
                "brier": s.brier,
                "reliability": [
                    {"low": b.low, "high": b.high, "weight": b.weight, "predicted": b.predicted, "observed": b.observed}
                    for b in s.reliability
                ],
            }

        return {
            "conversations": self.conversations,
            "bad": self.bad,
            "trained": self.trained,
            "trained_bad": self.trained_bad,
            "held_out": self.held_out,
            "held_out_bad": self.held_out_bad,
            "before": self.before.model_dump(),
            "after": None if self.after is None else self.after.model_dump(),
            "before_scores": scores(self.before_scores),
            "after_scores": scores(self.after_scores),
            "switched_off": self.switched_off,
            "notes": self.notes,
            "toml": self.toml_snippet(),
        }


def _bounded(value: float) -> float:
    """A fitted value as the config accepts it: within [-WEIGHT_LIMIT, WEIGHT_LIMIT],
    three decimals, never -0.0."""
    return round(max(-WEIGHT_LIMIT, min(WEIGHT_LIMIT, value)), 3) + 0.0


def fit_risk(
    examples: Sequence[Example] | FitData, current: RiskConfig | None = None, *, holdout: float = HOLDOUT_SHARE
) -> RiskFit:
    """Fit the risk weights on the conversations not held out and score both
    sets of weights on the held-out ones (see the module docstring).
    ``examples``: a list, or a :class:`FitData` gathered while they streamed."""
    current = current or RiskConfig()
    data = examples if isinstance(examples, FitData) else FitData.of(examples, holdout)
    test = data.test
    fit = RiskFit(
        conversations=data.conversations,
        bad=data.bad,
        trained=data.trained,
        trained_bad=data.trained_bad,
        held_out=len(test),
        held_out_bad=sum(e.bad for e in test),
        before=current,
        after=None,
        before_scores=None,
        after_scores=None,
    )
    if not data.conversations:
        fit.notes.append("no ended conversations with AI or customer turns")
        return fit
    if not data.trained:
        fit.notes.append("every conversation fell in the held-out part: too few to fit on")
        return fit
    if fit.trained_bad == 0 or fit.trained_bad == fit.trained:
        # nothing to learn from: the bias alone would run off to -inf or +inf
        fit.notes.append("the conversations fitted on all ended alike: the weights cannot learn what separates them; no [risk] recommendation")
        if test:
            fit.before_scores = evaluate(RiskModel.from_config(current), test)
        return fit
    prior = [getattr(current, name) for name in FEATURES]
    bias, fitted, fixed = fit_logistic(data.rows, prior_bias=current.bias, prior=prior, consume=True)
    values = {name: _bounded(w) for name, w in zip(FEATURES, fitted)}
    after = RiskConfig(bias=_bounded(bias), **values)
    fit.after = after
    fit.switched_off = [FEATURES[j] for j in fixed if prior[j] > 0.0]
    if test:
        fit.before_scores = evaluate(RiskModel.from_config(current), test)
        fit.after_scores = evaluate(RiskModel.from_config(after), test)
        if fit.held_out_bad in (0, fit.held_out):
            fit.notes.append("the held-out conversations all ended alike: no AUROC")
    else:
        fit.notes.append("no conversation fell in the held-out part: no evaluation")
    if 0 < fit.bad < 20:
        fit.notes.append(f"only {fit.bad} bad conversations: the fitted weights stay close to the current ones")
    return fit


# ------------------------------------------------------------ text


def _num(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else number(value, spec)


def render_risk_fit(fit: RiskFit) -> str:
    """The risk fit as text: data, before/after held-out figures, reliability, warnings, the snippet."""
    out = [
        "Risk score (logistic weights over continuous evidence; see docs/models.md)",
        f"  {fit.conversations} conversations ({fit.bad} went wrong): fitted on {fit.trained} ({fit.trained_bad} bad), "
        f"held out {fit.held_out} ({fit.held_out_bad} bad; a fixed split by a hash of the id).",
    ]
    b, a = fit.before_scores, fit.after_scores
    if b is not None:
        # "fitted" is blank when there is no recommendation (the current weights' figures still show)
        out += [
            "",
            f"  {'held out':<34} {'current':>8} {'fitted':>8}",
            f"  {'AUROC of the peak risk (higher)':<34} {_num(b.auroc):>8} {_num(a.auroc if a else None):>8}",
            f"  {'Brier score, every moment (lower)':<34} {_num(b.brier):>8} {_num(a.brier if a else None):>8}",
            "",
            "  Reliability (held out; share = conversations' worth of moments):",
            f"  {'risk':<10} {'current: share':>15} {'predicted':>9} {'observed':>8}   {'fitted: share':>14} {'predicted':>9} {'observed':>8}",
        ]
        before_bins = {round(x.low, 2): x for x in b.reliability}
        after_bins = {round(x.low, 2): x for x in a.reliability} if a else {}
        for low in sorted(set(before_bins) | set(after_bins)):
            def cells(x: Bin | None) -> str:
                if x is None:
                    return f"{'':>15} {'':>9} {'':>8}"
                return f"{number(x.weight, '.1f'):>15} {number(x.predicted, '.2f'):>9} {number(x.observed, '.2f'):>8}"

            label = f"{low:.1f}-{low + 1.0 / BINS:.1f}"
            out.append(f"  {label:<10} {cells(before_bins.get(low))}   {cells(after_bins.get(low))}".rstrip())
    if fit.after is not None:
        changed = [
            f"{name} {number(getattr(fit.before, name), '.2f')} -> {number(getattr(fit.after, name), '.2f')}"
            for name in ("bias", *FEATURES)
            if abs(getattr(fit.before, name) - getattr(fit.after, name)) >= 0.005
        ]
        if changed:
            out += ["", "  Weights that moved: " + ", ".join(changed)]
    for name in fit.switched_off:
        out.append(f"  WARNING: the recommendation switches off {name} in the risk (weight {number(getattr(fit.before, name), '.2f')} -> 0): "
                   "in this history it did not go with bad endings; keep the current weight if you know better")
    out += [f"  Note: {n}" for n in fit.notes]
    out += ["", fit.toml_snippet().rstrip()]
    return "\n".join(out) + "\n"
