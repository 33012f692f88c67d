"""Starting a Jupyter or Voila server on a free loopback port for a test, and ending it with everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(command: Callable[[int], list[str]], *, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``command(port)`` until the block ends; yields ``http://127.0.0.1:<port>/`` once the port accepts."""
    port = free_port()
    with log.open("w") as out:
        # its own session: the server and the kernels it starts form one group, ended together below
        proc = subprocess.Popen(
            command(port), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_for_port(port, proc, log)
        yield f"http://127.0.0.1:{port}/"
    finally:
        _stop(proc)


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with code {proc.returncode}; its log:\n{log.read_text()}", pytrace=False)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"the server did not listen on port {port} within {START_TIMEOUT_S} s; its log:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
