"""``report`` and ``review`` on a journal this user may not write (issue 9 item 7),
tested honestly even when the tests run as root.

As root, ``chmod 0444`` stops nothing: root's CAP_DAC_OVERRIDE ignores file
modes, so a test that only chmods proves nothing in CI. Two honest ways:

* **root without the capabilities that bypass file modes**: ``setpriv
  --bounding-set=-dac_override,-dac_read_search,-fowner`` runs the command as
  uid 0 whose permission checks follow the mode bits, exactly as for an
  ordinary user on files it owns (a probe write must fail, or the test is
  skipped). Running as ``nobody`` instead is not possible here: the venv's
  interpreter lives under ``/root`` (mode 0700), which ``nobody`` cannot enter.
  Needs ``setpriv`` (util-linux) and CAP_SETPCAP, both in a default Docker
  container.
* **a read-only filesystem**: a read-only bind mount of the directory in a
  private mount namespace (``unshare -m``; needs CAP_SYS_ADMIN, which a default
  Docker container lacks: then that variant is skipped, saying so).

Not run as root at all, no prefix is needed and ``chmod`` is the real thing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from feedserver import make_events
from hostile_support import run_cli

from hitl_console.protocol.decode import decode_json
from hitl_console.store.journal import Journal

pytestmark = pytest.mark.slow

DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def _journal(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "journal.sqlite3"
    with Journal(path) as journal:
        journal.append_events("prod", decode_json(json.dumps(make_events(6))).events)
    return path


def _non_writer(probe: Path) -> list[str]:
    """The prefix that makes a command unable to write ``probe`` (read-only by mode)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv (util-linux) is not installed: chmod would not stop root")
    done = subprocess.run([*DROP, "sh", "-c", f"echo x >> '{probe}'"], capture_output=True, text=True)
    if done.returncode == 0:
        pytest.skip(f"setpriv could not drop CAP_DAC_OVERRIDE (no CAP_SETPCAP?): {done.stderr.strip()}")
    return DROP


def _cli(prefix: list[str], args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    if not prefix:
        return run_cli(args, data)
    env = dict(os.environ, HITL_CONSOLE_DATA_DIR=str(data), COLUMNS="120")
    return subprocess.run([*prefix, sys.executable, "-m", "hitl_console", *args], capture_output=True, text=True, timeout=60, env=env)


COMMANDS = [
    ["report", "--journal", "{j}"],
    ["report", "--journal", "{j}", "--format", "json"],
    ["review", "export", "--journal", "{j}"],
    ["review", "queue", "--journal", "{j}"],
    ["calibrate", "--journal", "{j}"],
]


def _run_all(prefix: list[str], journal: Path, data: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    out = {}
    for command in COMMANDS:
        args = [a.replace("{j}", str(journal)) for a in command]
        done = _cli(prefix, args, data)
        assert "Traceback" not in done.stderr, f"{args}: {done.stderr[-800:]}"
        assert done.returncode in (0, 1), f"{args}: {done.returncode} {done.stderr}"
        if done.returncode and done.stderr:  # calibrate exits 1 with "nothing to recommend" on stdout
            assert done.stderr.startswith("hitl-console: ") and done.stderr.count("\n") <= 2, done.stderr
        out[" ".join(command[:2]) if command[0] != "report" or len(command) == 3 else "report json"] = done
    return out


def test_a_read_only_journal_file_is_read_and_nothing_gives_a_traceback(tmp_path: Path) -> None:
    """Found: ``review queue`` and ``review export`` on a read-only journal ended in a
    JournalError traceback. The journal file is 0444 in a directory the user may write."""
    journal = _journal(tmp_path / "jdir")
    os.chmod(journal, 0o444)
    prefix = _non_writer(journal)
    results = _run_all(prefix, journal, tmp_path / "data")
    report = results["report --journal"]
    assert report.returncode == 0 and "hitl-console report" in report.stdout, report.stderr
    assert json.loads(results["report json"].stdout)["metrics"]["conversations"] == 1
    assert results["review export"].returncode == 0, results["review export"].stderr
    queue = results["review queue"]
    assert queue.returncode == 0 or "read-only" in queue.stderr, queue.stderr


def _read_only_dir(prefix: list[str], journal: Path, data: Path) -> None:
    results = _run_all(prefix, journal, data)
    report = results["report --journal"]
    assert report.returncode == 0 and "hitl-console report" in report.stdout, report.stderr


def test_a_journal_in_a_read_only_directory_is_read(tmp_path: Path) -> None:
    """Found: a WAL journal in a directory the user may not write, with no -shm
    beside it, was refused with "attempt to write a readonly database"."""
    directory = tmp_path / "jdir"
    journal = _journal(directory)
    os.chmod(journal, 0o444)
    os.chmod(directory, 0o555)
    try:
        prefix = _non_writer(directory / "probe")
        _read_only_dir(prefix, journal, tmp_path / "data")
    finally:
        os.chmod(directory, 0o755)


def test_a_journal_on_a_read_only_filesystem_is_read(tmp_path: Path) -> None:
    """A read-only bind mount: EROFS stops root too, no capability tricks needed
    (SQLite reads a WAL journal on read-only media without a -shm)."""
    directory = tmp_path / "jdir"
    journal = _journal(directory)
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{directory}' '{directory}' && ! touch '{directory}/probe' 2>/dev/null"],
        capture_output=True, text=True,
    )
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip(f"no private read-only bind mount here (unshare -m needs CAP_SYS_ADMIN): {probe.stderr.strip()[:200]}")
    script = f"mount --bind -o ro '{directory}' '{directory}' && exec \"$@\""
    _read_only_dir(["unshare", "-m", "sh", "-c", script, "sh"], journal, tmp_path / "data")
