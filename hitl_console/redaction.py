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
import re
import urllib.parse

MASK = "***"

_EXACT = frozenset({"key", "sig", "auth", "pass", "pwd", "code", "jwt", "session", "sid", "cred"})
_PARTS = ("token", "secret", "passw", "apikey", "api_key", "api-key", "signature", "bearer", "credential", "authorization", "private")
_SUFFIXES = ("key", "sig", "auth", "pwd", "jwt", "session")


def is_secret_name(name: str) -> bool:
    """Whether a parameter or header named ``name`` probably carries a credential."""
    key = urllib.parse.unquote_plus(name).strip().lower()
    if not key:
        return False
    if key in _EXACT or any(part in key for part in _PARTS):
        return True
    bare = re.sub(r"[^a-z0-9]", "", key)
    return bare in _EXACT or bare.endswith(_SUFFIXES)


def _mask_pairs(text: str) -> str:
    """``a=1&token=x`` with the credential values masked (order and other values kept)."""
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
    return urllib.parse.urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*")


def safe_url(url: str) -> str:
    """``url`` as it may be shown or logged: userinfo, credential-like query and
    fragment parameters (and a bare fragment) masked. A path (no scheme, or a
    drive letter) is only passed through :func:`redact`, which still catches
    ``?token=`` and ``user:pw@`` in a URL whose scheme has a typo."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme or parts.scheme == "file" or len(parts.scheme) == 1:  # a path (or C:\\), or a typo
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _mask_pairs(parts.query) if parts.query else ""
    fragment = parts.fragment
    if fragment:
        fragment = _mask_pairs(fragment) if "=" in fragment else MASK
    return redact(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, fragment)))


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


_NAME = r"[A-Za-z0-9_.\-]+"
_PARAM = re.compile(r"(?<![A-Za-z0-9_.\-])(" + _NAME + r")(=)([^&\s\"'#<>]+)")
"""``name=value`` in a query, a fragment or prose."""
_HEADER = re.compile(r"(?<![A-Za-z0-9_.\-])(" + _NAME + r")(\s*:\s*|\"\s*:\s*\")([^\s\"',;&}]+)")
"""``X-Api-Key: value`` or ``"token": "value"`` as libraries quote headers and JSON."""
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9\-._~+/]{6,}=*)")
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*:/{0,3}|(?<![:\w])//)([^\s/@?#\"'<>]+)@(?=[^\s@/?#]*[A-Za-z0-9])")
"""``scheme://userinfo@host``, also ``scheme:/u:p@`` and ``//u:p@`` (scheme typos)."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret replaced: the given ones (a token, a raw URL),
    anything after ``Bearer``, userinfo of anything URL-like, and values of
    credential-like ``name=value`` / ``name: value`` pairs.

    Library error messages and debug logs sometimes quote the URL or a
    header; every message a source turns into a status detail, every alert
    and every log record goes through here.
    """
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)

    def pair(match: re.Match[str]) -> str:
        name = match.group(1)
        if not is_secret_name(name) or match.group(3) == MASK or match.group(3).lower() in ("bearer", "basic", "token"):
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
