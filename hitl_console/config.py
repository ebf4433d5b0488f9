"""The TOML configuration: feeds, thresholds, topic and routing rules, who I am.

Read from ``--config FILE`` or ``$XDG_CONFIG_HOME/hitl-console/config.toml``.
Every section refuses unknown keys, so a typo (``low_confidance``) is an
error that names the key and where it is, rather than a silently ignored
setting on a contact-center floor.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hitl_console.paths import config_path


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedConfig(_Section):
    url: str
    name: str | None = None
    token_env: str | None = None
    """Name of the environment variable that holds the bearer token."""
    token: str | None = None
    """The token itself (prefer token_env; a file on disk is easier to leak)."""
    speed: float = Field(default=1.0, gt=0)
    """Replay speed for file feeds; 0 is not allowed, use ``fast = true``."""
    fast: bool = False
    """Replay a file as fast as possible."""

    def resolve_token(self) -> str | None:
        if self.token_env:
            return os.environ.get(self.token_env) or None
        return self.token

    def __repr__(self) -> str:  # never show the token
        return f"FeedConfig(url={self.url!r}, name={self.name!r}, token_env={self.token_env!r})"

    __str__ = __repr__


def false_means_off(value: Any, wanted: str) -> Any:
    """For an optional number: TOML has no null, so ``false`` switches the rule
    off (None); ``true`` would read as 1, so it is refused with ``wanted``."""
    if value is False:
        return None
    if value is True:
        raise ValueError(wanted)
    return value


class Thresholds(_Section):
    low_confidence: float = Field(default=0.55, ge=0, le=1)
    """An AI turn below this confidence fires ``low_confidence``."""
    sentiment_floor: float = Field(default=-0.5, ge=-1, le=1)
    """A customer turn at or below this sentiment fires ``sentiment``."""
    sentiment_drop: float = Field(default=0.6, gt=0, le=2)
    """A fall of at least this much from the customer's running average fires ``sentiment``."""
    sentiment_clear: float = Field(default=-0.1, ge=-1, le=1)
    """``sentiment`` clears once the customer is back above this."""
    loop_similarity: float = Field(default=82.0, ge=0, le=100)
    """rapidfuzz similarity (0-100) at which two turns count as the same."""
    loop_window: int = Field(default=4, ge=1, le=50)
    """How many earlier turns of the same role a turn is compared with."""
    no_progress_turns: int = Field(default=10, ge=2)
    """Customer+AI turns without a successful action or resolution that count as a loop."""
    no_progress_seconds: float = Field(default=600.0, gt=0)
    high_stakes_amount: float = Field(default=500.0, ge=0)
    """Sums above this (text, actions, approvals) are high-stakes."""
    escalation_risk: float = Field(default=0.5, ge=0, le=1)
    """Risk at which a conversation counts as escalated even without a request."""
    voice_tone_weight: float = Field(default=0.4, ge=0, le=1)
    """Voice turns with an estimated sentiment: share of ``voice.tone`` when the words are emphatic; it grows
    towards ``(1 + weight) / 2`` as the words say less (``engine.cues.voice_blend``). A fed sentiment is kept."""
    loop_min_words: int = Field(default=3, ge=1, le=20)
    """Turns with fewer words ("yes", "ok thanks") are never counted as repeats."""
    abandoned_after_seconds: float | None = Field(default=3600.0, gt=0)
    """A conversation without any event for this long is closed as ``abandoned``
    (the customer went away and the feed never said so); ``false``: never."""

    @field_validator("abandoned_after_seconds", mode="before")
    @classmethod
    def _false_is_never(cls, value: Any) -> Any:
        return false_means_off(value, "a number of seconds, or false to never close a silent conversation")


class TopicRules(_Section):
    high_stakes: list[str] = Field(
        default_factory=lambda: ["fraud", "legal", "safety", "security", "account_security", "chargeback", "regulatory"]
    )
    """Feed topics that are high-stakes by themselves."""
    extra_patterns: list[str] = Field(default_factory=list)
    """More regular expressions that make a message high-stakes."""

    @field_validator("extra_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        import re

        for p in patterns:
            try:
                re.compile(p)
            except re.error as error:
                raise ValueError(f"pattern {p!r} is not a valid regular expression: {error}") from None
        return patterns


class RoutingRules(_Section):
    """When a conversation should have gone to a human first."""

    human_first_tiers: list[str] = Field(default_factory=lambda: ["platinum", "vip"])
    max_open_complaints: int | None = Field(default=2, ge=0)
    """Customers with more open complaints than this go to a human first."""
    human_first_reasons: list[str] = Field(default_factory=lambda: ["cancellation", "complaint", "bereavement", "legal"])
    min_lifetime_value: float | None = Field(default=None, ge=0)
    """Customers worth at least this go to a human first (None: no rule)."""

    @field_validator("max_open_complaints", "min_lifetime_value", mode="before")
    @classmethod
    def _false_is_off(cls, value: Any) -> Any:
        return false_means_off(value, "a number, or false to switch the rule off")


class JournalConfig(_Section):
    path: Path | None = None
    """SQLite file; default under the XDG data directory. ``~`` is expanded."""
    retention_days: float = Field(default=30.0, gt=0)

    @field_validator("path")
    @classmethod
    def _expand_home(cls, path: Path | None) -> Path | None:
        return path.expanduser() if path is not None else None


class UiConfig(_Section):
    theme: str = "hitl-dark"
    refresh_hz: float = Field(default=8.0, gt=0, le=30)
    """Highest redraw rate of live screens; nothing redraws while nothing changes."""
    mouse: bool = True
    alert_toasts: Literal["auto", "always", "never"] = "auto"
    """Pop-up toasts for alerts: ``auto`` pops them up only while the supervisor
    holds no chat and no dialog is open (otherwise they are counted on the status
    line and listed in the alert strip); ``always``; ``never``."""
    keymap: dict[str, Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=dict)
    """Binding id -> keys (``"floor.take_over" = "T"``; several: ``"T,f2"``).
    Checked against the console's bindings when it starts (``tui.keymap``)."""


class AlertConfig(_Section):
    escalation_band: tuple[float, float] = (0.03, 0.30)
    """Outside this band the escalation rate alerts (healthy 10-20% sits inside)."""
    typical_band: tuple[float, float] = (0.10, 0.20)
    window_s: float = Field(default=900.0, gt=0)
    baseline_s: float = Field(default=3600.0, gt=0)
    min_conversations: int = Field(default=20, ge=1)
    sentiment_drop: float = Field(default=0.15, gt=0)
    containment_drop: float = Field(default=0.15, gt=0)
    trigger_spike: float = Field(default=2.0, gt=1)
    silent_feed_s: float = Field(default=30.0, gt=0)
    feed_down_s: float = Field(default=5.0, gt=0)
    """A feed unreachable, lost or sending only rejected frames this long alerts
    (critical) and its conversations are marked stale (``alerts.feed_health``)."""
    clock_skew_s: float = Field(default=300.0, gt=0)
    """A live feed whose newest ts is this far from the console's clock alerts
    (warning, ``feed_clock:NAME``): waits and abandonment would be measured wrongly."""
    webhook_url: str | None = None
    webhook_retries: int = Field(default=3, ge=0, le=10)
    webhook_min_level: Literal["info", "warning", "critical"] = "warning"
    """Alerts below this level stay on the console; the on-call channel gets the rest."""


class ReviewQueueConfig(_Section):
    name: str
    role: str = "qa"
    queues: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    triggers: list[str] = Field(default_factory=list)
    max_score: float | None = None


class ReviewConfig(_Section):
    sample_rate: float = Field(default=0.1, ge=0, le=1)
    """Share of unflagged conversations that are sampled for review."""
    seed: int = 0
    queues: list[ReviewQueueConfig] = Field(default_factory=list)
    claim_ttl_s: float = Field(default=1800.0, gt=0)
    """How long a reviewer's claim on a review item holds before others may take it."""


class TeamConfig(_Section):
    """A floor of consoles sharing one NATS JetStream (``docs/deployment.md``).

    Without ``nats`` the console's first ``nats://`` feed is the team's bus;
    a console on WebSocket or HTTP feeds names one here to share claims."""

    nats: str | None = None
    """``nats://host:4222[,host2:4222...]``: where the ``hitl-claims`` bucket lives."""
    token_env: str | None = None
    """Name of the environment variable with the NATS token (else ``HITL_NATS_TOKEN``)."""
    claims: bool = True
    """Claim takeovers and review items in the bucket; ``false``: the platform arbitrates alone."""
    claim_ttl_s: float = Field(default=30.0, ge=2, le=3600)
    """A claim lasts this long unless renewed (every third of it while held):
    a console that died frees its chats after at most this many seconds."""
    history: bool = True
    """Publish commands, verdicts and alerts to the team's history stream and read
    the team's back (metrics count the whole team); ``false``: this console's only."""

    @field_validator("nats")
    @classmethod
    def _is_nats(cls, url: str | None) -> str | None:
        if url is None:
            return None
        from hitl_console.redaction import safe_url

        if not url.lower().startswith(("nats://", "tls://")):
            raise ValueError(f"{safe_url(url)} is not a nats:// URL")
        return url

    def resolve_token(self) -> str | None:
        return os.environ.get(self.token_env) or None if self.token_env else None

    def __repr__(self) -> str:
        return (f"TeamConfig(claims={self.claims!r}, claim_ttl_s={self.claim_ttl_s!r}, history={self.history!r}, "
                f"token_env={self.token_env!r})")

    __str__ = __repr__


class SignalsConfig(_Section):
    """Which scorer produces each signal (``hitl_console.engine.scorers``)."""

    human_request: str = "model"
    """``"model"`` (the learned model, keeping the rule's phrasings), ``"rules"``
    (the keyword rules only) or ``"package.module:factory"`` (a plug-in).
    The defaults are what beat the rules on the dev split (``training/evaluate.py``,
    ``docs/models.md``): the model for ``human_request``, ``high_stakes`` and
    ``sentiment``, the rules for ``loop``."""
    high_stakes: str = "model"
    sentiment: str = "model"
    loop: str = "rules"
    """The model's loop embedding finds 20% of paraphrased re-asks at 8% false
    alarms per pair of turns; in a conversation every turn is compared with
    several, so it flagged many calm chats: "rules" until a model beats them."""
    model_path: Path | None = None
    """Another artefact of the built-in model's format (``training/train.py --out``)."""
    human_request_threshold: float | None = Field(default=None, gt=0, lt=1)
    """Probability at or above which the model counts a request for a person
    (unset: the threshold shipped with the model)."""
    high_stakes_threshold: float | None = Field(default=None, gt=0, lt=1)
    sentiment_lexicon_weight: float = Field(default=0.5, ge=0, le=1)
    """Share of VADER's lexicon in the model's sentiment (0: the model alone)."""
    loop_similarity: float | None = Field(default=None, gt=0, le=1)
    """Embedding cosine at or above which a turn repeats an earlier one (unset:
    the model's); ``thresholds.loop_similarity`` is the rules' text ratio."""

    @field_validator("human_request", "high_stakes", "sentiment", "loop")
    @classmethod
    def _names_a_scorer(cls, value: str, info: Any) -> str:
        from hitl_console.engine.scorers import resolve

        resolve(value.strip(), info.field_name)  # raises with a message naming the problem
        return value.strip()

    @field_validator("model_path")
    @classmethod
    def _model_exists(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        path = path.expanduser()
        if not path.is_file():
            raise ValueError(f"no model file at {path}")
        return path


class RiskConfig(_Section):
    """Weights of the risk score (``hitl_console.engine.risk``): the log-odds of a
    bad ending are ``bias`` plus each weight times its feature. The defaults are
    set from first principles, each with its reason below and in
    ``docs/models.md`` ("Risk score"); ``hitl-console calibrate`` fits them to a
    deployment's outcomes and prints this section.

    The scale: a weight is the change in log-odds per unit of its feature, so
    +0.7 doubles the odds of a bad ending, +1.8 multiplies them by six and takes
    a calm conversation (3%) to about 16%. No single piece of evidence reaches
    the default escalation threshold (0.5) alone; two strong ones do."""

    bias: float = Field(default=-4.4, ge=-20, le=20)
    """Sets a calm conversation of a few customer turns of about eight words
    (``message_length`` and ``customer_turns`` add 0.95 to it) at about 3%
    (logit -3.45): the share of AI-handled chats that end badly with nothing
    visibly wrong."""
    high_stakes: float = Field(default=1.8, ge=-20, le=20)
    """Money, fraud, legal, safety: a mistake is costly; alone it takes a calm
    conversation to about 16%, short of escalation by itself."""
    human_request: float = Field(default=1.8, ge=-20, le=20)
    """A customer who asked for a person and does not get one ends badly often;
    with any other strong evidence it escalates."""
    ai_request: float = Field(default=2.0, ge=-20, le=20)
    """The AI itself says it cannot finish: the strongest single sign, since
    nobody else will if a person does not."""
    loop: float = Field(default=1.2, ge=-20, le=20)
    """Repeats and stalls: the conversation is going nowhere, a weaker sign than
    an explicit request (a loop can still resolve)."""
    stuck: float = Field(default=0.2, ge=-20, le=20)
    """Per ``no_progress_turns`` turns without progress: only the trend towards a
    loop (``loop`` has the loop itself). Small, because a transcript without
    actions never shows progress and would otherwise count length twice."""
    negativity: float = Field(default=1.8, ge=-20, le=20)
    """A furious customer (-1) weighs as much as a high-stakes topic: anger is
    the most direct sign of a bad ending."""
    sentiment_drop: float = Field(default=0.6, ge=-20, le=20)
    """Per unit the last sentiment fell below the customer's own average: the
    trend, a third of the level."""
    low_point: float = Field(default=0.5, ge=-20, le=20)
    """The lowest sentiment so far: anger that has passed still leaves a mark."""
    confidence_gap: float = Field(default=2.0, ge=-20, le=20)
    """An AI at confidence 0 is guessing: as strong as the AI saying it cannot
    finish (at 0.35, half the comfort level, it adds 1.0)."""
    customer_turns: float = Field(default=0.05, ge=-20, le=20)
    """Per unit of ln(1 + customer turns): length alone is weak evidence (good
    conversations run long too); the weight keeps it a tie-breaker."""
    message_length: float = Field(default=0.4, ge=-20, le=20)
    """Per unit of ln(1 + mean words): a customer who has to write a lot has a
    harder problem or is explaining it again; 8 words add 0.9, 30 words 1.4."""
    wait: float = Field(default=0.8, ge=-20, le=20)
    """Per unit of ln(1 + minutes unanswered): 2 minutes add 0.9, 5 minutes 1.4,
    30 minutes 2.7; an unanswered customer is the one who gives up."""
    routing_flags: float = Field(default=0.5, ge=-20, le=20)
    """Per broken routing rule (at most two): a person should have had it."""
    valuable: float = Field(default=0.3, ge=-20, le=20)
    """A top-tier or high-value customer: losing them costs more."""
    pending_approval: float = Field(default=0.3, ge=-20, le=20)
    """An approval waits for a person: the customer waits with it."""
    large_approval: float = Field(default=0.5, ge=-20, le=20)
    """A pending approval above ``high_stakes_amount`` (its sum is often the
    high-stakes evidence already: kept small so the two do not escalate alone)."""


class Config(_Section):
    agent: Annotated[str, Field(min_length=1, pattern=r"\S")] | None = None
    feeds: list[FeedConfig] = Field(default_factory=list)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    topics: TopicRules = Field(default_factory=TopicRules)
    routing: RoutingRules = Field(default_factory=RoutingRules)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    signals: SignalsConfig = Field(default_factory=SignalsConfig)
    team: TeamConfig = Field(default_factory=TeamConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    ack_timeout_s: float = Field(default=5.0, gt=0)

    def agent_name(self, override: str | None = None) -> str:
        """``--agent``, else the config, else the login name."""
        if override:
            return override
        if self.agent:
            return self.agent
        try:
            return getpass.getuser()
        except Exception:  # no login name in some containers
            return "supervisor"


def _describe(error: ValidationError, source: str) -> str:
    from hitl_console.redaction import redact
    from hitl_console.text import one_line

    lines = [f"{source}: {error.error_count()} problem(s)"]
    for item in error.errors(include_url=False):
        # A key or a message may quote the file's text: printable (a key with an
        # escape sequence went to the terminal raw) and with any secret masked.
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        key = key if key.isprintable() else one_line(ascii(key), 120)
        if item["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key (check the spelling)")
        else:
            lines.append(f"  {key}: {redact(one_line(str(item['msg']), 400))}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None


def load_config(path: Path | str | None = None) -> Config:
    """Load ``path``; without one, the XDG file if it exists, else defaults.

    A path that was asked for but is missing is an error; a missing default
    file is not (the console runs with no config at all).
    """
    explicit = path is not None
    file = Path(path) if path is not None else config_path()
    if not file.exists():
        if explicit:
            raise ConfigError(f"{file}: no such config file")
        return Config()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{file}: not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{file}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}); save it as UTF-8") from None
    except OSError as error:
        raise ConfigError(f"{file}: cannot read: {error.strerror or error}") from None
    return parse_config(data, str(file))
