"""Secrets in feed URLs and messages are masked by the one helper (hitl_console.redaction)."""

import logging

import pytest

from hitl_console.redaction import RedactingFilter, redact, safe_url

LEAKY = [
    "ws://127.0.0.1:19301/feed#access_token=SECRET1",
    "wss://user:SECRET2@h.example/",
    "wss://SECRET3@h.example/",
    "ws://h/?bearer=SECRET4&sig=SECRET5&signature=SECRET6&x=1",
    "ws//u:SECRET7@h/?token=SECRET8",
    "wss:/u:SECRET9@h/",
    "wsss://u:SECRETA@h?apikey=SECRETB",
    "ws:u:SECRETC@h",
    "ws://h/?client_secret=SECRETD&X-Api-Key=SECRETE&refresh_token=SECRETF&key=SECRETG&api_key=SECRETH&password=SECRETI&secret=SECRETJ",
]


@pytest.mark.parametrize("url", LEAKY)
def test_no_secret_survives_safe_url_or_redact(url: str) -> None:
    for shown in (safe_url(url), redact(url), redact(f"connect to {url} failed: refused")):
        assert "SECRET" not in shown, shown


def test_harmless_urls_and_paths_unchanged() -> None:
    for url in ("ws://127.0.0.1:8765/feed?since=3", "/tmp/rec.jsonl", "sample_feeds/a.jsonl.gz"):
        assert safe_url(url) == url


def test_log_filter_masks_messages(tmp_path) -> None:
    path = tmp_path / "log"
    handler = logging.FileHandler(path)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("feed %s lost", LEAKY[0])
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "lost" in text and "SECRET" not in text
