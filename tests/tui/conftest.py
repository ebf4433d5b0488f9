"""TUI test setup: a fixed time zone, so transcript and alert times are stable."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _no_color_unset(monkeypatch):
    """Snapshots assume colour; a developer's NO_COLOR must not change them."""
    monkeypatch.delenv("NO_COLOR", raising=False)
