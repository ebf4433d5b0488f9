"""The headless commands and the console's start against a hostile environment:
a config typo in every section, config files that cannot be read, escape
sequences in a config key, a data directory the user may not write. Real
processes; each must give one clear message and a usage exit status, never a
traceback (issue 9, hostile tester)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_support import run_cli

pytestmark = pytest.mark.slow

TYPOS = {
    "agentt = 'x'": "agentt: unknown key",
    "ack_timeout = 3": "ack_timeout: unknown key",
    "[[feeds]]\nurl = 'ws://h/'\nspeeed = 2": "feeds.0.speeed: unknown key",
    "[thresholds]\nlow_confidance = 0.5": "thresholds.low_confidance: unknown key",
    "[topics]\nhigh_stake = []": "topics.high_stake: unknown key",
    "[routing]\nhuman_first_tier = []": "routing.human_first_tier: unknown key",
    "[journal]\npaht = '/x'": "journal.paht: unknown key",
    "[ui]\nthem = 'x'": "ui.them: unknown key",
    "[alerts]\nfeed_down = 3": "alerts.feed_down: unknown key",
    "[review]\nsample = 0.1": "review.sample: unknown key",
    "[[review.queues]]\nname = 'q'\nrol = 'qa'": "review.queues.0.rol: unknown key",
    "[signals]\nloops = 'rules'": "signals.loops: unknown key",
    "[team]\nnat = 'x'": "team.nat: unknown key",
    "[risk]\nbais = 1": "risk.bais: unknown key",
    "[thresholds]\nlow_confidence = 'high'": "thresholds.low_confidence: Input should be a valid number",
    "= broken": "not valid TOML",
}


def test_a_typo_in_every_section_is_one_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    for text, expected in TYPOS.items():
        config.write_text(text + "\n", encoding="utf-8")
        for args in (["--config", str(config), "report"], ["report", "--config", str(config)], ["--config", str(config), "check-feed", "x.jsonl"]):
            done = run_cli(args, tmp_path / "data")
            assert done.returncode == 2 and expected in done.stderr, (text, args, done.stderr)
            assert "Traceback" not in done.stderr


def test_config_files_that_cannot_be_read_and_escapes_in_a_key(tmp_path: Path) -> None:
    """Found: an unknown key holding an escape sequence (``"\\u001b]0;x\\u0007" = 1``)
    was printed raw to the terminal; it is now shown as its escaped text."""
    (tmp_path / "bad.toml").write_bytes(b'\xff\xfeagent = "x"\n')
    (tmp_path / "dir.toml").mkdir()
    (tmp_path / "esc.toml").write_text('"\\u001b]0;pwned\\u0007" = 1\n', encoding="utf-8")
    cases = {
        "bad.toml": "not UTF-8 text (byte 0xff at offset 0)",
        "nosuch.toml": "no such config file",
        "dir.toml": "cannot read",
        "esc.toml": "'\\x1b]0;pwned\\x07': unknown key",
    }
    for name, expected in cases.items():
        done = run_cli(["--config", str(tmp_path / name), "report"], tmp_path / "data")
        assert done.returncode == 2 and expected in done.stderr, (name, done.stderr)
        assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "Traceback" not in done.stderr


def _unwritable_prefix() -> list[str]:
    """As root, chmod stops nothing: drop the capabilities that bypass file modes."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: chmod would not stop root")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_a_data_directory_the_user_may_not_write_is_one_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o555)
    prefix = _unwritable_prefix()
    probe = subprocess.run([*prefix, "sh", "-c", f"touch '{data}/probe'"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("could not make the directory unwritable for the command (no CAP_SETPCAP?)")
    env = dict(os.environ, HITL_CONSOLE_DATA_DIR=str(data))
    try:
        # ``script`` gives the console the terminal it asks for; it must refuse the journal, not crash.
        done = subprocess.run(
            [*prefix, "script", "-qfec", f"{sys.executable} -m hitl_console --feed ws://127.0.0.1:9/feed --agent ana", "/dev/null"],
            capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL, errors="replace",
        ) if shutil.which("script") else None
        if done is not None:
            out = done.stdout + done.stderr
            assert "Traceback" not in out, out[-800:]
            assert "cannot create its lock file" in out and "--no-journal" in out, out[-800:]
        record = subprocess.run(
            [*prefix, sys.executable, "-m", "hitl_console", "record", "--feed", "ws://127.0.0.1:9/feed", "-o", str(data / "r.jsonl"),
             "--idle-exit", "1"],
            capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
        )
        assert record.returncode != 0 and "Traceback" not in record.stderr, record.stderr
        assert record.stderr.startswith("hitl-console: "), record.stderr
    finally:
        os.chmod(data, 0o755)


def test_headless_outputs_of_a_hostile_feed_hold_nothing_a_terminal_would_obey(tmp_path: Path) -> None:
    """``check-feed`` (text and JSON), ``record``, then ``analyze``, ``report`` and
    ``check-feed`` on the recording, of a real feed with escapes, bidi overrides and
    8-bit CSIs in every string field. Found: ``check-feed --json`` printed U+009B
    (a CSI to a terminal in 8-bit mode) and U+202E raw (JSON escapes only C0)."""
    import json

    from feedserver import WsFeedServer
    from hostile_support import FeedThread, hostile_events

    data = tmp_path / "data"
    unsafe = ("\x1b", "\x07", "\x9b", "\u202e", "\u200b")
    from hostile_support import MARK

    server = WsFeedServer(hostile_events())
    server.raw_frames = [json.dumps({"v": 1, "type": "t" + MARK}), json.dumps({"v": 1, "type": "message", "seq": "x" + MARK})]
    with FeedThread(server) as feed:
        outputs = {
            "check-feed": run_cli(["check-feed", feed.url, "--timeout", "2"], data),
            "check-feed --json": run_cli(["check-feed", feed.url, "--timeout", "2", "--json"], data),
            "record": run_cli(["record", "--feed", feed.url, "-o", str(tmp_path / "r.jsonl"), "--idle-exit", "1.5"], data),
        }
    recording = str(tmp_path / "r.jsonl")
    for args in (["analyze", recording], ["report", recording], ["report", recording, "--format", "md"], ["check-feed", recording],
                 ["check-feed", recording, "--json"], ["review", "queue", recording]):
        outputs["file: " + " ".join(args[:1] + args[2:])] = run_cli(args, data)
    for name, done in outputs.items():
        assert "Traceback" not in done.stderr, (name, done.stderr[-600:])
        for text in (done.stdout, done.stderr):
            for ch in unsafe:
                assert ch not in text, f"{name}: {ch!r} in {text[max(0, text.find(ch) - 80):text.find(ch) + 10]!r}"
    assert json.loads(outputs["check-feed --json"].stdout)["events"] == 16
    assert "16 events written" in outputs["record"].stderr
