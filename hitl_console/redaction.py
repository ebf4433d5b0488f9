"""The one home of secret masking: what of a URL or a message may be shown.

Operators paste feed URLs with the token in them (``?token=``, ``#access_token=``,
``https://user:TOKEN@host``, ``?sig=`` of a signed URL), sometimes with a typo
in the scheme (``wss//``, ``wss:/``). Every place that prints, logs or stores
a feed URL or a message that may quote one (stderr, the log file, alert text
in the journal, the floor and header) goes through :func:`safe_url` or
:func:`redact`; the log file also has :class:`RedactingFilter` on its handler.

Masking errs on the side of hiding: a query or fragment parameter is masked
when its name *looks* like a credential (``token``, ``api_key``, ``X-Api-Key``,
``client_secret``, ``sig``, ...), userinfo is masked whole (a token is often
the user part alone), and a fragment that is not ``key=value`` pairs is
masked whole (a fragment is never sent to a server, so a feed URL has no use
for one).
"""

from __future__ import annotations

import logging
import os
import re
import urllib.parse

MASK = "***"

_EXACT = frozenset(
    {"key", "sig", "auth", "pass", "pwd", "pw", "code", "jwt", "session", "sid", "cred", "otp", "hmac", "t", "k"}
)
"""Whole names that are credentials (``?k=`` and ``?t=`` are common short forms of key and token)."""
_PARTS = (
    "token", "secret", "passw", "pass_", "passphrase", "apikey", "api_key", "api-key", "signature", "bearer",
    "credential", "authorization", "private", "session", "ticket", "refresh", "hmac", "otp",
)
_SUFFIXES = ("key", "sig", "auth", "pwd", "jwt", "session", "pass", "pw")


def is_secret_name(name: str) -> bool:
    """Whether a parameter or header named ``name`` probably carries a credential."""
    key = urllib.parse.unquote_plus(name).strip().lower().rstrip("[]")
    if not key:
        return False
    if key in _EXACT or any(part in key for part in _PARTS):
        return True
    bare = re.sub(r"[^a-z0-9]", "", key)
    return bare in _EXACT or bare.endswith(_SUFFIXES)


def _mask_params(text: str) -> str:
    """A query or fragment (``a=1&token=x;sig=y``) with the credential values masked.

    Works on the raw text, component by component, so nothing else changes
    (no re-encoding). A name is judged decoded (``%74oken`` is ``token``,
    ``token%3Dx`` is ``token=x``); a component without ``=`` is masked whole
    (the protocol's own parameters always have a value, a bare one is often
    the token itself)."""
    out = []
    for part in re.split(r"([&;])", text):
        if part in ("&", ";", ""):
            out.append(part)
            continue
        decoded = urllib.parse.unquote_plus(part)
        name, eq, _ = decoded.partition("=")
        if not eq:
            out.append(MASK)
        elif is_secret_name(name):
            raw_name = part.partition("=")[0] if "=" in part else urllib.parse.quote(name, safe="")
            out.append(f"{raw_name}={MASK}")
        else:
            out.append(part)
    return "".join(out)


def safe_url(url: str) -> str:
    """``url`` as it may be shown or logged: userinfo, credential-like query and
    fragment parameters (and a bare fragment or query value) masked. A path (no
    scheme, or a drive letter) is only passed through :func:`redact`, which still
    catches ``?token=`` and ``user:pw@`` in a URL whose scheme has a typo."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme or parts.scheme == "file" or len(parts.scheme) == 1 or not parts.netloc:
        # A path (or C:\\), or a URL with a typo (``ws:/h``, ``wss//h``): kept as written, its
        # query and fragment masked unless it is a file that exists (``a#1.jsonl``).
        return _redact_text(url if os.path.exists(url) else _mask_tail(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _mask_params(parts.query) if parts.query else ""
    fragment = parts.fragment
    if fragment:
        fragment = _mask_params(fragment) if "=" in urllib.parse.unquote(fragment) else MASK
    path = parts.path
    if ";" in path:  # ``/feed;token=x`` (path parameters)
        head, _, params = path.partition(";")
        path = f"{head};{_mask_params(params)}"
    return _redact_text(urllib.parse.urlunsplit((parts.scheme, netloc, path, query, fragment)))


def host_only(url: str) -> str:
    """``scheme://host[:port]`` of a URL, for URLs whose path itself is the
    secret (a Slack-style webhook): nothing else of it is ever shown."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    return f"{parts.scheme or '?'}://{host}{port}"


_NAME = r"[A-Za-z0-9_.\-\[\]%]+"
_VALUE = r"(?:(?i:bearer|basic)(?:\s+|%20|\+))?[\"']?[^&;\s\"'#<>]+"
_PARAM = re.compile(r"(?<![A-Za-z0-9_.\-%])(" + _NAME + r")(=)(" + _VALUE + ")")
"""``name=value`` in a query, a fragment or prose (a value may be quoted, or ``Bearer x``)."""
_HEADER = re.compile(r"(?<![A-Za-z0-9_.\-])(" + _NAME + r")(\s*:\s*|\"\s*:\s*\")([^\s\"',;&}]+)")
"""``X-Api-Key: value`` or ``"token": "value"`` as libraries quote headers and JSON."""
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9\-._~+/]{6,}=*)")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*:/{0,3}|(?<![:\w])//)([^\s/@?#\"'<>]+)@(?=[^\s@/?#]*[A-Za-z0-9])")
"""``scheme://userinfo@host``, also ``scheme:/u:p@`` and ``//u:p@`` (scheme typos)."""
_URL = re.compile(
    r"(?i)\b[a-z][a-z0-9+.\-]*(?::/{1,3}|/{2,3})(?=[^\s/])"
    r"(?:(?<==)(?:bearer|basic)\s+[^\s\"'<>&]+|(?<==)\"[^\"\s]*\"|(?<==)'[^'\s]*'|[^\s\"'<>])+"
)
"""A URL quoted in prose, also with a typo in its scheme (``wss//h``, ``ws:/h``) and
with a quoted value (``token="x"``): masked as :func:`safe_url` masks it."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret replaced: the given ones (a token, a raw URL),
    every URL in it as :func:`safe_url` shows it, anything after ``Bearer``,
    userinfo of anything URL-like, and values of credential-like
    ``name=value`` / ``name: value`` pairs.

    Library error messages and debug logs sometimes quote the URL or a
    header; every message a source turns into a status detail, every alert
    and every log record goes through here.
    """
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    text = _URL.sub(lambda m: _safe_quoted_url(m.group(0)), text)
    return _redact_text(text)


def _safe_quoted_url(url: str) -> str:
    """A URL found in prose, masked; punctuation that ends the sentence stays outside."""
    core = url.rstrip(").,:;]}")
    tail = url[len(core) :]
    if "://" in core:
        return safe_url(core) + tail
    return _mask_tail(core) + tail  # a typo in the scheme: urlsplit would not find the query


def _mask_tail(url: str) -> str:
    """The query and fragment of a URL-like text masked as :func:`safe_url` would."""
    head, hash_, fragment = url.partition("#")
    if fragment:
        fragment = _mask_params(fragment) if "=" in urllib.parse.unquote(fragment) else MASK
    base, mark, query = head.partition("?")
    return base + mark + (_mask_params(query) if query else "") + hash_ + fragment


def _redact_text(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)

    def pair(match: re.Match[str]) -> str:
        name = match.group(1)
        value = match.group(3).strip("\"'")
        # One-letter names (``t=``, ``k=``) count only inside a URL (masked by
        # safe_url above): in prose "t=5" is rarely a token.
        if len(name) < 2 or not is_secret_name(name) or value.startswith(MASK) or value.lower() in ("bearer", "basic", "token"):
            return match.group(0)
        return f"{name}{match.group(2)}{MASK}"

    text = _PARAM.sub(pair, text)
    return _HEADER.sub(pair, text)


class RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger to hand to a library (websockets logs handshake headers at
    DEBUG): every message is formatted and redacted before it is emitted."""

    def __init__(self, logger: logging.Logger, *secrets: str | None) -> None:
        super().__init__(logger, {})
        self.secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = f"{msg} {args}"
        kwargs.setdefault("stacklevel", 3)
        self.logger.log(level, redact(text, *self.secrets), **kwargs)  # type: ignore[arg-type]


class RedactingFilter(logging.Filter):
    """Redacts every record that passes: on a library logger we do not call
    ourselves (httpx logs each request's URL at INFO), and on the console's
    log-file handler, so that no record reaches the file unmasked (including
    the text of a logged exception)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redacting_filter(logger_name: str) -> None:
    """Attach one :class:`RedactingFilter` to ``logger_name`` (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
