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


def test_log_file_is_private_and_masked(tmp_path, monkeypatch) -> None:
    import os
    import stat

    from hitl_console.commands.console import setup_logging
    from hitl_console.paths import log_path

    monkeypatch.setenv("HITL_CONSOLE_DATA_DIR", str(tmp_path / "data"))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging()
        logging.getLogger("hitl_console.test").warning("feed %s failed", LEAKY[1])
        for h in root.handlers:
            h.flush()
        path = log_path()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        assert "failed" in path.read_text() and "SECRET" not in path.read_text()
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])


def test_config_not_utf8_is_one_clear_message(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "c.toml"
    bad.write_bytes(b'agent = "\xff\xfe"\n')
    proc = subprocess.run([sys.executable, "-m", "hitl_console", "report", "--config", str(bad), "sample_feeds/x.jsonl"],
                          capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "HITL_CONSOLE_DATA_DIR": str(tmp_path)})
    assert proc.returncode != 0
    assert "not UTF-8" in proc.stderr and "Traceback" not in proc.stderr


def test_second_writer_refused_with_pid(tmp_path) -> None:
    import os

    from hitl_console.store.journal import Journal, JournalLocked

    path = tmp_path / "j.sqlite3"
    with Journal(path, lock=True):
        with pytest.raises(JournalLocked, match=f"pid {os.getpid()}"):
            Journal(path, lock=True)
    Journal(path, lock=True).close()  # released on close
