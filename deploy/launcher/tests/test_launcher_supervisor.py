"""The fleet's supervisor: a process that exits is started again, later each time it keeps
failing, never while it is held, and its pid is kept where tests and operators find it."""

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from launcher.supervisor import HOLD_DIR, PIDS_FILE, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
FAILING = [sys.executable, "-c", "import sys; sys.exit(3)"]


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    supervisor = Supervisor(tmp_path, dict(os.environ), restart_delay=0.2)
    yield supervisor
    supervisor.stop(timeout=5)


def pids(tmp_path: Path) -> dict[str, int]:
    return json.loads((tmp_path / PIDS_FILE).read_text())  # type: ignore[no-any-return]


def until(condition: Callable[[], bool], supervisor: Supervisor, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        supervisor.tick()
        time.sleep(0.05)


def test_a_killed_process_is_started_again_with_a_new_pid(
    supervisor: Supervisor, tmp_path: Path,
) -> None:
    supervisor.start([("inventory-worker", SLEEPER), ("gateway", SLEEPER)])
    first = pids(tmp_path)

    os.kill(first["inventory-worker"], signal.SIGKILL)
    until(lambda: pids(tmp_path).get("inventory-worker", first["inventory-worker"])
          != first["inventory-worker"], supervisor)

    assert pids(tmp_path)["gateway"] == first["gateway"]
    assert supervisor.children["inventory-worker"].process.poll() is None  # type: ignore[union-attr]


def test_a_held_process_stays_down_until_its_hold_is_lifted(
    supervisor: Supervisor, tmp_path: Path,
) -> None:
    supervisor.start([("inventory-worker", SLEEPER)])
    pid = pids(tmp_path)["inventory-worker"]
    hold = tmp_path / HOLD_DIR / "inventory-worker"
    hold.touch()

    os.kill(pid, signal.SIGKILL)
    until(lambda: "inventory-worker" not in pids(tmp_path), supervisor)
    deadline = time.monotonic() + 1.0  # five restart delays
    while time.monotonic() < deadline:
        supervisor.tick()
        time.sleep(0.05)
    assert "inventory-worker" not in pids(tmp_path)

    hold.unlink()
    until(lambda: "inventory-worker" in pids(tmp_path), supervisor)
    assert pids(tmp_path)["inventory-worker"] != pid


def test_a_process_that_keeps_failing_waits_twice_as_long_each_time(
    supervisor: Supervisor,
) -> None:
    supervisor.start([("crashing", FAILING)])
    child = supervisor.children["crashing"]
    delays = []
    for _ in range(3):
        until(lambda: child.process is None, supervisor)
        delays.append(child.delay)
        until(lambda: child.process is not None, supervisor)

    assert delays == pytest.approx([0.2, 0.4, 0.8])
    assert child.failures == 3
