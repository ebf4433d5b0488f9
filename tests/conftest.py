"""Shared fixtures: every test gets its own data and config directories."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Keep tests away from the real XDG directories of whoever runs them."""
    data = tmp_path / "data"
    monkeypatch.setenv("HITL_CONSOLE_DATA_DIR", str(data))
    monkeypatch.setenv("HITL_CONSOLE_CONFIG", str(tmp_path / "no-config.toml"))
    return data


@pytest.fixture
def fake_hub(monkeypatch):
    """LiveSession on a stand-in hub (``tests/live_support.FakeHub``)."""
    from live_support import FakeHub

    from hitl_console.session import lifecycle as live_module

    FakeHub.instances = []
    monkeypatch.setattr(live_module, "FeedHub", FakeHub)
    return FakeHub


@pytest.fixture
def nats_server(tmp_path):
    """A real ``nats-server -js`` on 127.0.0.1 (tests/natsserver.py), stopped after the test."""
    from natsserver import NatsServer

    server = NatsServer(tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()
